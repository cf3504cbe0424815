//! `mesa calendar`, `mesa sla` and `mesa report` run as the real binary on a temp copy of the
//! sample desk; and the report's totals property on random valid tickets.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::sla::*;
use mesa::model::ticket::{EventKind, Stamp, Ticket};
use mesa::output::report::{self, By};
use mesa::rules::calendar::Calendars;
use proptest::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A temp copy of the sample desk (desk.yaml, kb/, tickets/, theme/).
fn desk_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("desk.yaml"), dir.path().join("desk.yaml")).unwrap();
    for sub in ["kb", "tickets", "theme"] {
        if root.join(sub).is_dir() {
            copy_dir(&root.join(sub), &dir.path().join(sub));
        }
    }
    dir
}

fn mesa(desk: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(desk)
        .args(args)
        .env_remove("MESA_NOW")
        .env_remove("MESA_LANG")
        .env_remove("MESA_DESK")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn write_ticket(root: &Path, front: mesa::model::ticket::TicketFront) -> PathBuf {
    let created = front.events[0].at;
    let rel = Ticket::relative_path(&front.id, &created);
    let path = root.join(&rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let t = Ticket {
        path: rel.clone(),
        front,
        body: "Descripción.\n".into(),
    };
    std::fs::write(&path, t.to_text()).unwrap();
    rel
}

#[test]
fn calendar_lists_hours_and_holidays() {
    let d = desk_copy();
    let (code, out, err) = mesa(
        d.path(),
        &["calendar", "--year", "2026", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let laboral = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "laboral")
        .unwrap();
    let dates: Vec<&str> = laboral["closed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["date"].as_str().unwrap())
        .collect();
    for want in [
        "2026-01-12",
        "2026-04-02",
        "2026-04-03",
        "2026-06-15",
        "2026-07-13",
        "2026-11-16",
        "2026-12-24",
        "2026-12-25",
    ] {
        assert!(dates.contains(&want), "{want} in {dates:?}");
    }
    // 19 holidays (Ley 51 de 1983 and, from 2026, Ley 2578 de 2026) and 24 and 31 December.
    assert_eq!(dates.len(), 21);
    assert_eq!(
        laboral["hours"]["mon"],
        serde_json::json!(["07:00-12:00", "13:00-17:00"])
    );
    let always = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "24x7")
        .unwrap();
    assert_eq!(always["always_open"], true);
    assert!(always["closed"].as_array().unwrap().is_empty());

    let (code, out, _) = mesa(d.path(), &["calendar", "--year", "2027"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("2027-03-25") && out.contains("Jueves Santo"),
        "{out}"
    );
    let (code, out, _) = mesa(d.path(), &["calendar", "--year", "2027", "--lang", "en"]);
    assert_eq!(code, 0);
    assert!(out.contains("Holy Thursday"), "{out}");
    let (code, _, err) = mesa(d.path(), &["calendar", "--year", "99"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn sla_explains_a_ticket() {
    let d = desk_copy();
    let desk = sample_desk();
    // Created Monday 30 November 2026 16:30, priority alta (2 h on laboral), not yet answered.
    let mut c = ev(
        bogota(2026, 11, 30, 16, 30),
        "lmartinez",
        EventKind::Created,
    );
    c.priority = Some("alta".into());
    let f = front(&desk, "261130-S1A00", "ips-andina", vec![c]);
    write_ticket(d.path(), f);
    let (code, out, err) = mesa(
        d.path(),
        &[
            "sla",
            "261130-S1A00",
            "--now",
            "2026-12-01T08:00:00-05:00",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let r = &v["clocks"][0];
    assert_eq!(r["clock"], "response");
    assert_eq!(r["state"], "at_risk");
    assert_eq!(r["used_minutes"], 90);
    assert_eq!(r["left_minutes"], 30);
    assert_eq!(r["due"], "2026-12-01T08:30:00-05:00");
    assert_eq!(r["calendar"], "laboral");
    assert_eq!(v["promised_text"], "martes 1 de diciembre de 2026, 08:30");
    assert_eq!(r["segments"][0]["kind"], "running");
    assert!(r["why"].as_str().unwrap().contains("Alta"));

    let (code, out, _) = mesa(
        d.path(),
        &["sla", "261130-S1A00", "--now", "2026-12-01T09:00:00-05:00"],
    );
    assert_eq!(code, 0);
    assert!(out.contains("respuesta: incumplido"), "{out}");
    assert!(
        out.contains("martes 1 de diciembre de 2026, 08:30"),
        "{out}"
    );

    let (code, _, err) = mesa(d.path(), &["sla", "261130-ZZZZZ"]);
    assert_eq!(code, 1);
    assert!(err.contains("261130-ZZZZZ"), "{err}");
    let (code, _, _) = mesa(d.path(), &["sla", "not-an-id"]);
    assert_eq!(code, 2);
    let (code, _, err) = mesa(d.path(), &["sla", "261130-S1A00", "--now", "yesterday"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn check_refuses_an_agreed_date_on_a_holiday() {
    let d = desk_copy();
    let desk = sample_desk();
    let mut c = ev(bogota(2026, 11, 3, 8, 0), "lmartinez", EventKind::Created);
    c.priority = Some("planeado".into());
    c.agreed_date = Some(Stamp(bogota(2026, 12, 8, 10, 0)));
    let rel = write_ticket(
        d.path(),
        front(&desk, "261103-P1A00", "ips-andina", vec![c]),
    );
    let (code, out, err) = mesa(d.path(), &["check"]);
    assert_eq!(code, 1, "{out}{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with(&rel.display().to_string()))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains("2026-12-08"), "{line}");
    // The same ticket agreed for a working day is fine.
    let mut c = ev(bogota(2026, 11, 3, 8, 0), "lmartinez", EventKind::Created);
    c.priority = Some("planeado".into());
    c.agreed_date = Some(Stamp(bogota(2026, 12, 9, 10, 0)));
    write_ticket(
        d.path(),
        front(&desk, "261103-P1A00", "ips-andina", vec![c]),
    );
    let (code, out, err) = mesa(d.path(), &["check"]);
    assert_eq!(code, 0, "{out}{err}");
}

#[test]
fn report_in_every_format_adds_up() {
    let d = desk_copy();
    let desk = sample_desk();
    let mut rng = Rng(7);
    for n in 0..40 {
        let start = bogota(2026, 10, 1, 6, 0) + Duration::minutes(n as i64 * 1733);
        write_ticket(d.path(), random_ticket(&desk, &mut rng, n, start, 25));
    }
    let (code, out, err) = mesa(d.path(), &["check"]);
    assert_eq!(code, 0, "{out}{err}");
    let now = "2026-12-15T12:00:00-05:00";
    let (_, all, _) = mesa(d.path(), &["report", "--now", now, "--format", "json"]);
    let all: Value = serde_json::from_str(&all).unwrap();
    let total = all["total"]["tickets"].as_u64().unwrap();
    assert!(total >= 40);
    // The random walk reaches every part of the process the report measures.
    let t = &all["total"];
    for key in [
        "closed",
        "escalated_tickets",
        "resolved_once",
        "reopened",
        "quotes_sent",
        "closed_by_silence",
        "first_contact",
    ] {
        assert!(t[key].as_u64().unwrap() > 0, "{key}: {t}");
    }
    for by in [
        "priority", "request", "incident", "customer", "agent", "level", "month", "channel",
    ] {
        let (code, out, err) = mesa(
            d.path(),
            &["report", "--now", now, "--by", by, "--format", "json"],
        );
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        let sum: u64 = v["groups"]
            .as_object()
            .unwrap()
            .values()
            .map(|g| g["tickets"].as_u64().unwrap())
            .sum();
        assert_eq!(sum, total, "{by}");
        assert_eq!(v["total"], all["total"], "{by}");

        let (code, csv, _) = mesa(
            d.path(),
            &["report", "--now", now, "--by", by, "--format", "csv"],
        );
        assert_eq!(code, 0);
        assert!(csv.starts_with('\u{feff}'));
        let lines: Vec<&str> = csv
            .trim_start_matches('\u{feff}')
            .split("\r\n")
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(
            lines.len(),
            v["groups"].as_object().unwrap().len() + 2,
            "{by}"
        );
        let cols = lines[0].split(';').count();
        assert!(lines.iter().all(|l| l.split(';').count() == cols));
        let tickets: Vec<u64> = lines[1..]
            .iter()
            .map(|l| l.split(';').nth(1).unwrap().parse().unwrap())
            .collect();
        assert_eq!(
            tickets[..tickets.len() - 1].iter().sum::<u64>(),
            *tickets.last().unwrap()
        );
        assert_eq!(*tickets.last().unwrap(), total);
    }
    let (code, text, _) = mesa(d.path(), &["report", "--now", now, "--by", "priority"]);
    assert_eq!(code, 0);
    assert!(
        text.contains("Cumplimiento del ANS de respuesta") && text.contains("Total"),
        "{text}"
    );
    // The period filter: October only.
    let (_, oct, _) = mesa(
        d.path(),
        &[
            "report",
            "--now",
            now,
            "--from",
            "2026-10-01",
            "--to",
            "2026-10-31",
            "--format",
            "json",
        ],
    );
    let oct: Value = serde_json::from_str(&oct).unwrap();
    assert!(oct["total"]["tickets"].as_u64().unwrap() < total);
    // Usage errors.
    assert_eq!(mesa(d.path(), &["report", "--from", "octubre"]).0, 2);
    assert_eq!(
        mesa(
            d.path(),
            &["report", "--from", "2026-10-05", "--to", "2026-10-01"]
        )
        .0,
        2
    );
    assert_eq!(mesa(d.path(), &["check", "--format", "csv"]).0, 2);
    // Definitions are in --help.
    let (_, help, _) = mesa(d.path(), &["report", "--help"]);
    assert!(
        help.contains("cerrados con solución en el nivel 1 sin ningún escalamiento"),
        "{help}"
    );
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Every ticket is counted once per breakdown: each count of the groups adds up to the
    /// total's, for every `--by`.
    #[test]
    fn report_totals_add_up(seed in any::<u64>(), n in 1usize..60, now_days in 0i64..120) {
        let desk = sample_desk();
        let (cals, _) = Calendars::new(&desk);
        let mut rng = Rng(seed);
        let fronts: Vec<_> = (0..n)
            .map(|i| {
                let start = bogota(2026, 9, 1, 0, 0) + Duration::minutes(rng.below(90 * 24 * 60) as i64);
                random_ticket(&desk, &mut rng, i, start, 20)
            })
            .collect();
        let now = at("2026-09-01T00:00:00-05:00") + Duration::days(now_days);
        for by in [By::Priority, By::Request, By::Incident, By::Customer, By::Agent, By::Level, By::Month] {
            let r = report::build(&desk, &cals, &fronts, None, None, Some(by), now);
            for key in report::figure_keys() {
                if let report::Cell::Count(total) = r.total.cell(key) {
                    let sum: u64 = r.groups.values().map(|g| match g.cell(key) { report::Cell::Count(c) => c, _ => 0 }).sum();
                    prop_assert_eq!(sum, total, "{:?} {}", by, key);
                }
            }
            let t = &r.total;
            prop_assert_eq!(t.open + t.closed, t.tickets);
            prop_assert_eq!(t.response.total(), t.tickets);
            prop_assert_eq!(t.resolution.total(), t.tickets);
            prop_assert_eq!(t.backlog.iter().sum::<u64>(), t.open);
        }
    }
}

#[test]
fn ics_holidays_from_the_desk() {
    let d = desk_copy();
    common::add_holiday_file(d.path(), common::ANNIVERSARY_ICS);
    let (code, out, err) = mesa(
        d.path(),
        &["calendar", "--year", "2026", "--format", "json"],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let laboral = v
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "laboral")
        .unwrap();
    assert!(
        laboral["closed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["date"] == "2026-09-14"),
        "{laboral}"
    );
    // A timed event is refused by `mesa check` with the .ics line.
    std::fs::write(
        d.path().join("cierres.ics"),
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20260914T080000Z\nEND:VEVENT\nEND:VCALENDAR\n",
    )
    .unwrap();
    let (code, out, err) = mesa(d.path(), &["check"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("desk.yaml:") && out.contains("cierres.ics:3:"),
        "{out}"
    );
}
