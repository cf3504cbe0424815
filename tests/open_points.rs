//! Issue 9, point 8: the manual's open points as decided in docs/lifecycle.md ("Open points of
//! the manual, decided"), each through the real binary on a real git desk:
//! - the CAB applies Table 2's quote column and may not override it ("Crear nuevo Reporte" is
//!   "sí" in Table 2: `kb/catalog/crear-reporte.md`, `quote: "yes"`);
//! - a close by mutual agreement needs the case analysed first (never in `new`) and a reason;
//! - low effort raises a case that would be Baja to Media, never higher (desk.yaml's guidance
//!   rules with a `note`; impact and urgency alone decide Alta and Crítica).

mod common;

use common::git::TestDesk;

const T0: &str = "2026-11-03T08:00:00-05:00";
const T1: &str = "2026-11-03T08:30:00-05:00";

#[test]
fn the_cab_may_not_override_table_2s_quote_column() {
    let d = TestDesk::new();
    let id = d.new_ticket(T0, &["--type", "request", "--request", "crear-reporte"]);
    assert_eq!(d.show(&id)["status"], "cab_review");
    d.refused(T1, &["cab", &id, "--quote", "no"]);
    d.ok(T1, &["cab", &id, "--quote", "yes"]);
    assert_eq!(d.show(&id)["status"], "cab_review");
}

#[test]
fn mutual_agreement_needs_an_analysed_case_and_a_reason() {
    let d = TestDesk::new();
    let id = d.new_ticket(T0, &[]);
    assert_eq!(d.show(&id)["status"], "new");
    let close = [
        "close",
        &id,
        "--reason",
        "mutual_agreement",
        "--note",
        "El cliente y la mesa acuerdan cerrar",
    ];
    d.refused(T1, &close);
    d.ok(
        T1,
        &[
            "classify",
            &id,
            "--type",
            "incident",
            "--incident",
            "no-carga-pagina",
            "--priority",
            "media",
        ],
    );
    d.ok(T1, &close);
    let v = d.show(&id);
    assert_eq!(v["status"], "closed");
    assert_eq!(v["close_reason"], "mutual_agreement");
}

#[test]
fn low_effort_raises_baja_to_media_and_never_higher() {
    let d = TestDesk::new();
    let suggested = |extra: &[&str]| -> String {
        let id = d.new_ticket(T0, extra);
        d.show(&id)["priority"].as_str().unwrap_or("-").to_string()
    };
    let low = ["--impact", "low", "--urgency", "low"];
    assert_eq!(suggested(&low), "baja");
    assert_eq!(
        suggested(&[&low[..], &["--effort", "low"]].concat()),
        "media"
    );
    assert_eq!(
        suggested(&[&low[..], &["--effort", "high"]].concat()),
        "baja"
    );
    let high = ["--impact", "high", "--urgency", "high"];
    assert_eq!(
        suggested(&[&high[..], &["--effort", "low"]].concat()),
        "critica"
    );
    let medium = ["--impact", "medium", "--urgency", "high"];
    assert_eq!(
        suggested(&[&medium[..], &["--effort", "low"]].concat()),
        "alta"
    );
}
