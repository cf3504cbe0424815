//! The reference desk (tests/fixtures/reference/): every figure `mesa report` prints, in text,
//! CSV and JSON, for the whole period and for each `--by` grouping, against
//! `expected.json`, whose values were worked out outside mesa (`reference.py`, an independent
//! implementation of docs/reports.md, and the hand working in `WORKING.md`). A figure whose
//! definition changes without the expected file being reworked fails here.

mod common;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

const NOW: &str = "2026-10-30T12:00:00-05:00";
const BYS: [&str; 8] = [
    "priority", "request", "incident", "customer", "agent", "level", "month", "channel",
];

fn reference() -> PathBuf {
    common::sample_root().join("tests/fixtures/reference")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(reference().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json parses")
}

fn mesa(args: &[&str]) -> String {
    let desk = reference().join("desk");
    let out = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .env_remove("MESA_LANG")
        .env_remove("MESA_AGENT")
        .arg("--desk")
        .arg(&desk)
        .args(["--now", NOW])
        .args(args)
        .output()
        .expect("run mesa");
    assert!(
        out.status.success(),
        "mesa {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

/// Figure key by its Spanish label (`report.col.*` of es.yaml), for the text and CSV outputs.
fn keys_by_label() -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(common::sample_root().join("theme/i18n/es.yaml")).expect("es.yaml");
    let v: serde_yaml::Value = serde_yaml::from_str(&text).expect("es.yaml parses");
    let cols = &v["report"]["col"];
    let mut out = BTreeMap::new();
    for (k, l) in cols.as_mapping().expect("report.col") {
        out.insert(
            l.as_str().expect("label").to_string(),
            k.as_str().expect("key").to_string(),
        );
    }
    out
}

/// A printed cell (`12`, `85,71`, `-`, or an empty CSV cell) as a number, `None` for `-` and
/// for an empty cell (the CSV convention leaves undefined figures empty).
fn cell(s: &str) -> Option<f64> {
    let s = s.trim();
    (s != "-" && !s.is_empty()).then(|| s.replace(',', ".").parse::<f64>().expect("a number"))
}

/// Compares one group's figures with the expected ones: the same keys, the same values.
fn compare(what: &str, got: &BTreeMap<String, Option<f64>>, want: &Value) {
    let want = want.as_object().expect("figures");
    let mut problems = Vec::new();
    for (k, w) in want {
        match got.get(k) {
            None => problems.push(format!("{k}: missing from the output")),
            Some(g) => {
                let ok = match (g, w.as_f64()) {
                    (None, None) => true,
                    (Some(g), Some(w)) => (g - w).abs() < 0.006,
                    _ => false,
                };
                if !ok {
                    problems.push(format!("{k}: got {g:?}, expected {w}"));
                }
            }
        }
    }
    for k in got.keys() {
        if !want.contains_key(k) {
            problems.push(format!("{k}: printed but not in expected.json"));
        }
    }
    assert!(problems.is_empty(), "{what}:\n  {}", problems.join("\n  "));
}

/// The expected groups of a `--by` (or the total alone), in the report's order.
fn expected_columns(exp: &Value, by: Option<&str>) -> Vec<(String, Value)> {
    let mut cols: Vec<(String, Value)> = match by {
        Some(b) => exp["by"][b]
            .as_object()
            .expect("groups")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        None => Vec::new(),
    };
    cols.push(("total".into(), exp["total"].clone()));
    cols
}

fn by_args(by: Option<&str>) -> Vec<&str> {
    let mut a = vec!["report"];
    if let Some(b) = by {
        a.extend(["--by", b]);
    }
    a
}

#[test]
fn text_output_matches_the_hand_worked_figures() {
    let exp = expected();
    let labels = keys_by_label();
    for by in std::iter::once(None).chain(BYS.iter().map(|b| Some(*b))) {
        let cols = expected_columns(&exp, by);
        let out = mesa(&by_args(by));
        let mut got: Vec<BTreeMap<String, Option<f64>>> = vec![BTreeMap::new(); cols.len()];
        for line in out
            .lines()
            .take_while(|l| !l.starts_with("Tickets abiertos en riesgo"))
        {
            // Figure rows are indented by two spaces; the header of the columns by more.
            let Some(rest) = line.strip_prefix("  ").filter(|r| !r.starts_with(' ')) else {
                continue;
            };
            let tokens: Vec<&str> = rest.split_whitespace().collect();
            if tokens.len() <= cols.len() {
                continue;
            }
            let label = tokens[..tokens.len() - cols.len()].join(" ");
            let key = labels
                .get(&label)
                .unwrap_or_else(|| panic!("unknown row label {label:?}"));
            for (i, t) in tokens[tokens.len() - cols.len()..].iter().enumerate() {
                got[i].insert(key.clone(), cell(t));
            }
        }
        for ((name, want), g) in cols.iter().zip(&got) {
            compare(&format!("text, --by {by:?}, column {name}"), g, want);
        }
    }
}

#[test]
fn csv_output_matches_the_hand_worked_figures() {
    let exp = expected();
    let labels = keys_by_label();
    for by in std::iter::once(None).chain(BYS.iter().map(|b| Some(*b))) {
        let cols = expected_columns(&exp, by);
        let mut args = by_args(by);
        args.extend(["--format", "csv"]);
        let out = mesa(&args);
        let out = out.strip_prefix('\u{feff}').expect("byte-order mark");
        let mut lines = out.split("\r\n").filter(|l| !l.is_empty());
        let header: Vec<&str> = lines.next().expect("header").split(';').collect();
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(';').collect()).collect();
        assert_eq!(rows.len(), cols.len(), "CSV lines, --by {by:?}");
        for ((name, want), row) in cols.iter().zip(&rows) {
            let mut got = BTreeMap::new();
            for (h, v) in header.iter().zip(row).skip(1) {
                let key = labels
                    .get(*h)
                    .unwrap_or_else(|| panic!("unknown header {h:?}"));
                got.insert(key.clone(), cell(v));
            }
            compare(&format!("CSV, --by {by:?}, line {name}"), &got, want);
        }
    }
}

/// The figures of one group of the JSON output, by figure key (docs/reports.md, Formats).
fn json_figures(f: &Value) -> BTreeMap<String, Option<f64>> {
    let mut g = BTreeMap::new();
    let num = |v: &Value| v.as_f64();
    for k in ["tickets", "open", "closed", "at_risk", "open_breached"] {
        g.insert(k.to_string(), num(&f[k]));
    }
    for clock in ["response", "resolution"] {
        for k in [
            "met",
            "met_after_extension",
            "breached",
            "open_on_time",
            "open_breached",
            "no_target",
        ] {
            g.insert(format!("{clock}_{k}"), num(&f[clock][k]));
        }
    }
    for (i, k) in ["lt_1d", "d1_3", "d3_7", "d7_30", "gt_30d"]
        .iter()
        .enumerate()
    {
        g.insert(format!("backlog_{k}"), num(&f["backlog"][i]));
    }
    for level in 2..=5 {
        g.insert(
            format!("escalations_to_{level}"),
            num(&f["escalations_to"][level - 1]),
        );
    }
    for k in [
        "escalated_tickets",
        "reached_level5",
        "closed_solved",
        "first_contact",
        "resolved_once",
        "reopened",
        "closed_by_silence",
        "solutions_sent",
        "solutions_called",
        "quotes_sent",
        "quotes_accepted",
        "quotes_declined",
        "response_rate",
        "resolution_rate",
        "first_contact_rate",
        "reopen_rate",
        "call_rate",
        "customer_replies",
        "unread_replies",
    ] {
        let v = f.get(k).unwrap_or_else(|| panic!("JSON lacks {k}"));
        g.insert(k.to_string(), num(v));
    }
    for (k, json) in [
        ("respond_hours_mean", "respond_minutes_mean"),
        ("respond_hours_median", "respond_minutes_median"),
        ("resolve_hours_mean", "resolve_minutes_mean"),
        ("resolve_hours_median", "resolve_minutes_median"),
        ("reply_action_hours_mean", "reply_action_minutes_mean"),
        ("reply_action_hours_median", "reply_action_minutes_median"),
    ] {
        g.insert(k.to_string(), num(&f[json]).map(|m| m / 60.0));
    }
    g
}

#[test]
fn json_output_matches_the_hand_worked_figures() {
    let exp = expected();
    for by in std::iter::once(None).chain(BYS.iter().map(|b| Some(*b))) {
        let mut args = vec!["--format", "json"];
        args.extend(by_args(by));
        let v: Value = serde_json::from_str(&mesa(&args)).expect("json");
        assert_eq!(v["as_of"], NOW);
        if let Some(b) = by {
            let groups = v["groups"].as_object().expect("groups");
            let want = exp["by"][b].as_object().expect("expected groups");
            assert_eq!(
                groups.keys().collect::<Vec<_>>(),
                want.keys().collect::<Vec<_>>(),
                "groups of --by {b}"
            );
            for (k, f) in groups {
                compare(
                    &format!("JSON, --by {b}, group {k}"),
                    &json_figures(f),
                    &want[k],
                );
            }
        }
        compare(
            &format!("JSON, --by {by:?}, total"),
            &json_figures(&v["total"]),
            &exp["total"],
        );
    }
}

#[test]
fn the_watch_list_is_the_hand_worked_one() {
    let exp = expected();
    let mut want: Vec<(String, String, String)> = exp["watch"]
        .as_array()
        .expect("watch")
        .iter()
        .map(|w| {
            (
                w[0].as_str().unwrap().to_string(),
                w[1].as_str().unwrap().to_string(),
                w[2].as_str().unwrap().to_string(),
            )
        })
        .collect();
    want.sort();
    let v: Value = serde_json::from_str(&mesa(&["--format", "json", "report"])).expect("json");
    let mut got: Vec<(String, String, String)> = v["watch"]
        .as_array()
        .expect("watch")
        .iter()
        .map(|w| {
            (
                w["id"].as_str().unwrap().to_string(),
                w["clock"].as_str().unwrap().to_string(),
                w["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, want);
    let text = mesa(&["report"]);
    let listed = text
        .split("Tickets abiertos en riesgo")
        .nth(1)
        .expect("watch section");
    for (id, _, _) in &want {
        assert!(
            listed.contains(id.as_str()),
            "{id} not in the text watch list"
        );
    }
}

#[test]
fn the_reference_desk_is_valid() {
    let out = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .env_remove("MESA_LANG")
        .arg("--desk")
        .arg(reference().join("desk"))
        .arg("check")
        .output()
        .expect("run mesa check");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A trend period of the JSON output, by the keys of `expected.json`.
fn json_trend_row(p: &Value) -> BTreeMap<String, Option<f64>> {
    let mut g = BTreeMap::new();
    for k in ["opened", "closed", "backlog"] {
        g.insert(k.to_string(), p[k].as_f64());
    }
    for (i, k) in ["lt_1d", "d1_3", "d3_7", "d7_30", "gt_30d"]
        .iter()
        .enumerate()
    {
        g.insert(format!("backlog_{k}"), p["backlog_age"][i].as_f64());
    }
    let r = &p["response"];
    g.insert(
        "response_met".into(),
        Some(r["met"].as_f64().unwrap() + r["met_after_extension"].as_f64().unwrap()),
    );
    g.insert("response_breached".into(), r["breached"].as_f64());
    g.insert("response_rate".into(), r["rate"].as_f64());
    let s = &p["resolution"];
    for k in ["met", "met_after_extension", "breached", "rate"] {
        g.insert(format!("resolution_{k}"), s[k].as_f64());
    }
    g
}

/// Trend label (es.yaml `report.trend.*`) to key.
fn trend_keys_by_label() -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(common::sample_root().join("theme/i18n/es.yaml")).expect("es.yaml");
    let v: serde_yaml::Value = serde_yaml::from_str(&text).expect("es.yaml parses");
    let mut out = BTreeMap::new();
    for (k, l) in v["report"]["trend"].as_mapping().expect("report.trend") {
        out.insert(
            l.as_str().expect("label").to_string(),
            k.as_str().expect("key").to_string(),
        );
    }
    out
}

fn expected_trend(exp: &Value, step: &str) -> Vec<(String, Value)> {
    exp["trend"][step]
        .as_array()
        .expect("trend")
        .iter()
        .map(|r| {
            let mut r = r.clone();
            let period = r["period"].as_str().unwrap().to_string();
            r.as_object_mut().unwrap().remove("period");
            (period, r)
        })
        .collect()
}

#[test]
fn the_trend_matches_the_hand_worked_figures_in_every_format() {
    let exp = expected();
    let labels = trend_keys_by_label();
    for step in ["month", "week"] {
        let want = expected_trend(&exp, step);
        // JSON
        let v: Value =
            serde_json::from_str(&mesa(&["--format", "json", "report", "--trend", step]))
                .expect("json");
        let periods = v["periods"].as_array().expect("periods");
        let got: Vec<&str> = periods
            .iter()
            .map(|p| p["period"].as_str().unwrap())
            .collect();
        let names: Vec<&str> = want.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(got, names, "{step} periods");
        for (p, (name, w)) in periods.iter().zip(&want) {
            compare(&format!("trend JSON {name}"), &json_trend_row(p), w);
        }
        // CSV
        let out = mesa(&["report", "--trend", step, "--format", "csv"]);
        let out = out.strip_prefix('\u{feff}').expect("byte-order mark");
        let mut lines = out.split("\r\n").filter(|l| !l.is_empty());
        let header: Vec<&str> = lines.next().expect("header").split(';').collect();
        let rows: Vec<Vec<&str>> = lines.map(|l| l.split(';').collect()).collect();
        assert_eq!(rows.len(), want.len());
        for (row, (name, w)) in rows.iter().zip(&want) {
            assert_eq!(row[0], name);
            let mut got = BTreeMap::new();
            for (h, c) in header.iter().zip(row).skip(1) {
                got.insert(labels[*h].clone(), cell(c));
            }
            compare(&format!("trend CSV {name}"), &got, w);
        }
        // Text: one row per figure, one column per period.
        let out = mesa(&["report", "--trend", step]);
        let mut got: Vec<BTreeMap<String, Option<f64>>> = vec![BTreeMap::new(); want.len()];
        for line in out.lines().filter_map(|l| l.strip_prefix("  ")) {
            let tokens: Vec<&str> = line.split_whitespace().collect();
            let label = tokens[..tokens.len() - want.len()].join(" ");
            let key = &labels[&label];
            for (i, t) in tokens[tokens.len() - want.len()..].iter().enumerate() {
                got[i].insert(key.clone(), cell(t));
            }
        }
        for (g, (name, w)) in got.iter().zip(&want) {
            compare(&format!("trend text {name}"), g, w);
        }
    }
}

#[test]
fn the_load_per_agent_and_customer_is_the_hand_worked_one() {
    let exp = expected();
    let v: Value =
        serde_json::from_str(&mesa(&["--format", "json", "report", "--load"])).expect("json");
    let states = ["breached", "at_risk", "running", "paused"];
    let agents = v["agents"].as_object().expect("agents");
    let want = exp["load"]["agents"].as_object().expect("expected agents");
    assert_eq!(
        agents.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (name, a) in agents {
        let w = &want[name];
        assert_eq!(a["open"], w["open"], "{name} open");
        for l in 1..=5 {
            assert_eq!(
                a["by_level"][l - 1],
                w[format!("level_{l}")],
                "{name} level {l}"
            );
        }
        for (i, s) in states.iter().enumerate() {
            assert_eq!(a["by_state"][i], w[*s], "{name} {s}");
        }
        assert_eq!(a["oldest"], w["oldest"], "{name} oldest");
        let due = format!(
            "{} {}",
            a["nearest_due"].as_str().unwrap_or("-"),
            a["nearest_due_at"].as_str().unwrap_or("-")
        );
        assert_eq!(
            due,
            w["nearest_due"].as_str().unwrap(),
            "{name} nearest due"
        );
    }
    let customers = v["customers"].as_object().expect("customers");
    assert_eq!(customers, exp["load"]["customers"].as_object().unwrap());
    // The text shows the same: each agent's column, row by row.
    let text = mesa(&["report", "--load"]);
    let lines: Vec<&str> = text.lines().collect();
    let open_row = lines
        .iter()
        .find(|l| l.trim_start().starts_with("abiertos "))
        .expect("open row");
    let counts: Vec<&str> = open_row.split_whitespace().skip(1).collect();
    let want_counts: Vec<String> = want.values().map(|w| w["open"].to_string()).collect();
    assert_eq!(counts, want_counts);
}

/// The trend's help and the load's output speak the desk's language: the trend's terms by
/// their labels (not `opened:`), agents and customers by their names (not their codes), and
/// the trend's step typed in Spanish gives the same figures.
#[test]
fn trend_help_and_load_output_use_labels_not_ids() {
    let help = mesa(&["report", "--help"]);
    let trend = help.split("Tendencia (").nth(1).expect("trend definitions");
    for (id, label) in [
        ("opened", "abiertos en el periodo"),
        ("closed", "cerrados en el periodo"),
        ("backlog", "pendientes al final"),
        ("backlog_age", "antigüedad de los pendientes"),
        ("response", "cumplimiento de respuesta"),
        ("resolution", "cumplimiento de resolución"),
    ] {
        assert!(!trend.contains(&format!("\n  {id}:")), "{id} in the help");
        assert!(
            trend.contains(&format!("\n  {label}:")),
            "{label} in the help"
        );
    }
    let load = mesa(&["report", "--load"]);
    for (code, name) in [("agomez", "Andrea Gómez"), ("dcastro", "Diego Castro")] {
        assert!(load.contains(name), "{name} in the load");
        assert!(!load.contains(code), "{code} in the load");
    }
    assert!(
        !load.contains("hospital-san-rafael"),
        "a customer id in the load"
    );
    assert_eq!(
        mesa(&["report", "--trend", "semana"]),
        mesa(&["report", "--trend", "week"])
    );
}
