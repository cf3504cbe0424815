//! The supervisors' summary email, delivered by the real binary to a real SMTP server on
//! loopback (`tests/common/smtp.rs`): `mesa report --mail TO` carries the reference desk's
//! hand-worked figures (`tests/fixtures/reference/expected.json`), its breached and at-risk
//! tickets and the links to the site's report pages; `mesa sweep` with desk.yaml
//! `reports.mail_to` queues the summary of the week that ended once, whatever the number of
//! sweeps, with the figures `mesa report` prints for that week.

mod common;

use common::smtp::{quoted_printable_decode, Sink};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const NOW: &str = "2026-10-30T12:00:00-05:00";
const TO: &str = "Supervisión SGM <supervision@sgm.example.co>";

fn expected() -> Value {
    let p = common::sample_root().join("tests/fixtures/reference/expected.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

/// A git copy of the reference desk sending to `port`, with `extra` appended to desk.yaml.
fn reference_desk(port: u16, extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    common::copy_dir(
        &common::sample_root().join("tests/fixtures/reference/desk"),
        dir.path(),
    );
    let path = dir.path().join("desk.yaml");
    let yaml = std::fs::read_to_string(&path).unwrap();
    assert!(
        yaml.contains("smtp_port: 2525"),
        "reference desk.yaml mail settings"
    );
    let yaml = yaml
        .replace("smtp_port: 2525", &format!("smtp_port: {port}"))
        .replace("smtp_host: localhost", "smtp_host: 127.0.0.1")
        + extra;
    std::fs::write(&path, yaml).unwrap();
    common::git::init_committed(dir.path());
    dir
}

fn run(desk: &Path, now: &str, args: &[&str]) -> String {
    let mut all = vec!["--desk", desk.to_str().unwrap(), "--now", now];
    all.extend_from_slice(args);
    let o = common::mesa(&all);
    assert!(o.status.success(), "mesa {args:?}: {}", common::stderr(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// Figure key by its Spanish label (`report.col.*`).
fn keys_by_label() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(common::sample_root().join("theme/i18n/es.yaml")).unwrap();
    let v: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    v["report"]["col"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, l)| (l.as_str().unwrap().into(), k.as_str().unwrap().into()))
        .collect()
}

/// The body's sections: the key figures (key -> printed value) and the ticket ids under the
/// breached and the at-risk headings.
struct Body {
    figures: BTreeMap<String, String>,
    breached: BTreeSet<String>,
    at_risk: BTreeSet<String>,
}

fn read_body(body: &str) -> Body {
    let labels = keys_by_label();
    let mut b = Body {
        figures: BTreeMap::new(),
        breached: BTreeSet::new(),
        at_risk: BTreeSet::new(),
    };
    let mut section = "";
    for line in body.lines() {
        if line.starts_with("Cifras clave") {
            section = "figures";
        } else if line.starts_with("Incumplidos abiertos") {
            section = "breached";
        } else if line.starts_with("En riesgo") {
            section = "at_risk";
        } else if !line.starts_with("  ") {
            section = "";
        } else {
            let line = line.trim();
            match section {
                "figures" => {
                    let (label, value) = line.rsplit_once(": ").expect("label: value");
                    let key = labels
                        .get(label)
                        .unwrap_or_else(|| panic!("unknown figure {label:?}"));
                    b.figures.insert(key.clone(), value.to_string());
                }
                "breached" | "at_risk" if line != "Ninguno." => {
                    let id = line.split_whitespace().next().unwrap().to_string();
                    if section == "breached" {
                        b.breached.insert(id);
                    } else {
                        b.at_risk.insert(id);
                    }
                }
                _ => {}
            }
        }
    }
    b
}

/// A printed figure (`90,00`, `23`, `-`) as a number.
fn number(s: &str) -> Option<f64> {
    (s != "-").then(|| s.replace(',', ".").parse().expect("a number"))
}

fn body_of(raw: &str) -> String {
    quoted_printable_decode(raw.split_once("\r\n\r\n").expect("headers and body").1)
}

#[test]
fn report_mail_delivers_the_hand_worked_figures_to_the_supervisor() {
    let sink = Sink::start(&[]);
    let dir = reference_desk(sink.port, "");
    let out = run(dir.path(), NOW, &["report", "--mail", TO]);
    let id = out
        .split('(')
        .nth(1)
        .and_then(|s| s.split(')').next())
        .expect("the queued Message-ID");
    run(dir.path(), NOW, &["outbox", "send"]);
    let got = sink.delivered();
    assert_eq!(got.len(), 1, "one summary");
    let m = &got[0];
    assert_eq!(m.header("Message-ID").as_deref(), Some(id));
    assert!(m
        .header("To")
        .unwrap()
        .contains("<supervision@sgm.example.co>"));
    assert!(m.header("Subject").unwrap().contains("Informe"));
    let body = body_of(&m.data);

    let exp = expected();
    let b = read_body(&body);
    assert_eq!(b.figures.len(), 15, "the key figures:\n{body}");
    for (k, printed) in &b.figures {
        let want = exp["total"][k].as_f64();
        let got = number(printed);
        let ok = match (got, want) {
            (Some(g), Some(w)) => (g - w).abs() < 0.006,
            (None, None) => true,
            _ => false,
        };
        assert!(ok, "{k}: the email says {printed}, expected {want:?}");
    }
    let watch = |state: &str| -> BTreeSet<String> {
        exp["watch"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w[2] == state)
            .map(|w| w[0].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(b.breached, watch("breached"), "{body}");
    assert_eq!(b.at_risk, watch("at_risk"), "{body}");
    for page in ["index", "trend", "load"] {
        let link = format!("https://mesa.sgm.com.co/interno/reports/{page}.html");
        assert!(body.contains(&link), "{link} in:\n{body}");
    }
}

#[test]
fn sweep_queues_one_summary_per_week_with_the_reports_figures() {
    let sink = Sink::start(&[]);
    let dir = reference_desk(sink.port, &format!("  mail_to: [\"{TO}\"]\n"));
    let d = dir.path();
    let summaries = |now: &str| -> Vec<String> {
        let v: Value = serde_json::from_str(&run(d, now, &["--format", "json", "sweep"])).unwrap();
        v["summaries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    // Friday 30 October: the week of Monday 19 October ended; queued once.
    let first = summaries(NOW);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(
        first[0].starts_with("<report-2026-10-19.report."),
        "{first:?}"
    );
    assert!(
        summaries("2026-10-30T18:00:00-05:00").is_empty(),
        "queued twice"
    );
    run(d, "2026-10-30T18:00:00-05:00", &["outbox", "send"]);
    assert!(
        summaries("2026-10-31T09:00:00-05:00").is_empty(),
        "sent, then queued again"
    );
    assert_eq!(sink.delivered().len(), 1);
    // Monday 2 November: the week of 26 October ended.
    let next = summaries("2026-11-02T08:00:00-05:00");
    assert_eq!(next.len(), 1);
    assert!(
        next[0].starts_with("<report-2026-10-26.report."),
        "{next:?}"
    );

    // The figures are `mesa report`'s for that week, evaluated at its end.
    let m = &sink.delivered()[0];
    let body = body_of(&m.data);
    let b = read_body(&body);
    let v: Value = serde_json::from_str(&run(
        d,
        NOW,
        &[
            "--format",
            "json",
            "report",
            "--from",
            "2026-10-19",
            "--to",
            "2026-10-25",
        ],
    ))
    .unwrap();
    assert_eq!(v["as_of"], "2026-10-26T00:00:00-05:00");
    let total = &v["total"];
    assert!(
        total["tickets"].as_u64().unwrap() > 0,
        "a week with tickets"
    );
    for (k, printed) in &b.figures {
        let want = match k.as_str() {
            "response_breached" => total["response"]["breached"].as_f64(),
            "response_open_breached" => total["response"]["open_breached"].as_f64(),
            "resolution_breached" => total["resolution"]["breached"].as_f64(),
            "resolution_open_breached" => total["resolution"]["open_breached"].as_f64(),
            k => total[k].as_f64(),
        };
        let ok = match (number(printed), want) {
            (Some(g), Some(w)) => (g - w).abs() < 0.006,
            (None, None) => true,
            _ => false,
        };
        assert!(ok, "{k}: the email says {printed}, the report {want:?}");
    }
    assert!(
        body.contains("semana del 2026-10-19 al 2026-10-25"),
        "{body}"
    );
}
