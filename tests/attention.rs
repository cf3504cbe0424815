//! Issue 9, point 1: the Table 5 response clock measures attention. It stops at the first act
//! of attention after reception, never at what `mesa new` records with the ticket
//! (classification, priority, assignment) nor at the desk's automatic steps. Every kind of
//! first step, through the real binary on a real git repository, with `--now`.
//!
//! Expected values are worked by hand: a Crítica incident runs on the 24x7 calendar with a
//! 30-minute response time, so the clock's working minutes are plain wall-clock minutes.

mod lifecycle_support;

use chrono::{Duration, FixedOffset, TimeZone};
use lifecycle_support::TestDesk;
use serde_json::Value;

/// `minutes` after Tuesday 3 November 2026, 08:00 Bogotá.
fn at(minutes: i64) -> String {
    let base = FixedOffset::west_opt(5 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 3, 8, 0, 0)
        .unwrap();
    (base + Duration::minutes(minutes)).to_rfc3339()
}

fn response(d: &TestDesk, now: &str, id: &str) -> Value {
    let v = d.json(now, &["sla", id]);
    v["clocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clock"] == "response")
        .unwrap_or_else(|| panic!("no response clock: {v}"))
        .clone()
}

/// A Crítica incident of the Acceso playbook, classified and prioritised by `mesa new`.
fn critical_incident(d: &TestDesk) -> String {
    d.new_ticket(
        &at(0),
        &[
            "--type",
            "incident",
            "--incident",
            "no-carga-pagina",
            "--priority",
            "critica",
        ],
    )
}

/// A Crítica problem (no playbook incident, so it may be escalated at once).
fn critical_problem(d: &TestDesk) -> String {
    d.new_ticket(&at(0), &["--type", "problem", "--priority", "critica"])
}

/// Asserts the response clock is still running at minute 10 (nothing `mesa new` recorded
/// stopped it), then runs `step` at minute 12 and asserts it stopped there: 12 minutes used.
fn stops_at(d: &TestDesk, id: &str, step: &[&str]) {
    let r = response(d, &at(10), id);
    assert_eq!(r["stopped"], false, "new ticket's clock must run: {r}");
    assert_eq!(r["state"], "running", "{r}");
    assert_eq!(r["used_minutes"], 10, "{r}");
    d.ok(&at(12), step);
    let r = response(d, &at(45), id);
    assert_eq!(r["stopped"], true, "{step:?} is attention: {r}");
    assert_eq!(r["used_minutes"], 12, "{step:?}: {r}");
    assert_eq!(r["state"], "met", "{step:?}: {r}");
    assert_eq!(
        r["stopped_at"].as_str().unwrap(),
        "2026-11-03T08:12:00-05:00",
        "{r}"
    );
}

#[test]
fn new_critical_incident_is_not_answered_by_its_own_classification() {
    let d = TestDesk::new();
    let id = critical_incident(&d);
    let r = response(&d, &at(0), &id);
    assert_eq!(r["stopped"], false, "{r}");
    assert_eq!(r["state"], "running", "{r}");
    // 75 % of 30 minutes: at risk from minute 23 (22.5 rounded up to whole minutes used).
    assert_eq!(response(&d, &at(22), &id)["state"], "running");
    assert_eq!(response(&d, &at(23), &id)["state"], "at_risk");
    let r = response(&d, &at(31), &id);
    assert_eq!(r["state"], "breached", "{r}");
    assert_eq!(r["due"].as_str().unwrap(), "2026-11-03T08:30:00-05:00");
    // The breach shows in `mesa list --breached`.
    let list = d.json(&at(31), &["list", "--breached"]);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![id.as_str()]);
}

#[test]
fn reception_steps_and_automatic_messages_do_not_stop_the_clock() {
    let d = TestDesk::new();
    let id = d.new_ticket(&at(0), &["--priority", "critica"]);
    d.ok(&at(2), &["assign", &id, "--to", "dcastro"]);
    d.ok(
        &at(3),
        &[
            "priority",
            &id,
            "critica",
            "--impact",
            "high",
            "--urgency",
            "high",
        ],
    );
    d.ok(&at(4), &["comment", &id, "--text", "Nota interna"]);
    d.ok(
        &at(5),
        &[
            "classify",
            &id,
            "--type",
            "incident",
            "--incident",
            "no-carga-pagina",
        ],
    );
    d.ok(&at(6), &["sweep"]);
    let r = response(&d, &at(10), &id);
    assert_eq!(r["stopped"], false, "{r}");
    assert_eq!(r["used_minutes"], 10, "{r}");
    // The first check recorded is the answer.
    d.ok(
        &at(12),
        &["verify", &id, "conexiones-fisicas", "--result", "done"],
    );
    let r = response(&d, &at(40), &id);
    assert_eq!(r["used_minutes"], 12, "{r}");
    assert_eq!(r["state"], "met", "{r}");
}

#[test]
fn a_playbook_check_is_attention() {
    let d = TestDesk::new();
    let id = critical_incident(&d);
    stops_at(
        &d,
        &id,
        &["verify", &id, "conexiones-fisicas", "--result", "done"],
    );
}

#[test]
fn starting_work_is_attention() {
    let d = TestDesk::new();
    let id = critical_incident(&d);
    stops_at(&d, &id, &["start", &id]);
}

#[test]
fn an_escalation_is_attention() {
    let d = TestDesk::new();
    let id = critical_problem(&d);
    stops_at(
        &d,
        &id,
        &["escalate", &id, "--reason", "Requiere soporte de nivel 2"],
    );
}

#[test]
fn a_public_message_is_attention_an_internal_note_is_not() {
    let d = TestDesk::new();
    let id = critical_incident(&d);
    d.ok(&at(5), &["comment", &id, "--text", "Nota interna"]);
    stops_at(
        &d,
        &id,
        &[
            "comment",
            &id,
            "--public",
            "--text",
            "Estamos revisando su caso",
        ],
    );
}

#[test]
fn a_solution_is_attention() {
    let d = TestDesk::new();
    let id = critical_incident(&d);
    stops_at(
        &d,
        &id,
        &["resolve", &id, "--solution", "Se reinició el servicio."],
    );
}

#[test]
fn a_close_by_mutual_agreement_is_attention() {
    let d = TestDesk::new();
    let id = critical_incident(&d);
    stops_at(
        &d,
        &id,
        &[
            "close",
            &id,
            "--reason",
            "mutual_agreement",
            "--note",
            "El cliente lo resolvió por su cuenta",
        ],
    );
}

#[test]
fn the_cab_review_of_a_request_is_attention() {
    let d = TestDesk::new();
    // crear-reporte always goes to the CAB (Table 2).
    let id = d.new_ticket(
        &at(0),
        &[
            "--type",
            "request",
            "--request",
            "crear-reporte",
            "--priority",
            "critica",
        ],
    );
    stops_at(&d, &id, &["cab", &id]);
}
