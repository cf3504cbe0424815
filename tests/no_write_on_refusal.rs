//! Issue 9, points 3 and 9: whatever `mesa check` rejects, no command writes.
//!
//! A property test drives the real binary on a real git repository with random sequences of
//! commands (valid and invalid arguments, random times, some of them out of order or outside
//! 2000-2099): after every command the desk passes `mesa check`, and every refusal leaves the
//! repository exactly as it was (same HEAD, same working folder). Then the specific cases the
//! issue names, each with the message a person reads.

mod common;

use chrono::{Duration, FixedOffset, TimeZone};
use common::git::TestDesk;
use proptest::prelude::*;
use std::process::Command;

/// `minutes` after Tuesday 3 November 2026, 08:00 Bogotá.
fn at(minutes: i64) -> String {
    let base = FixedOffset::west_opt(5 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 3, 8, 0, 0)
        .unwrap();
    (base + Duration::minutes(minutes)).to_rfc3339()
}

fn check_passes(d: &TestDesk, after: &str) {
    let out = Command::new(common::git::MESA)
        .args(["--desk", d.root.to_str().unwrap(), "--lang", "en", "check"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mesa check rejects the desk after {after}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Picks one of `options` from a random number.
fn pick<'a>(r: u16, options: &[&'a str]) -> &'a str {
    options[r as usize % options.len()]
}

/// One random command: its `--now` and its arguments.
fn command(kind: u8, r: u16, minutes: i64, ids: &[String]) -> (String, Vec<String>) {
    let id = if ids.is_empty() || r.is_multiple_of(17) {
        "261103-ZZZZZ".to_string()
    } else {
        ids[r as usize % ids.len()].clone()
    };
    // Mostly moving forward; sometimes far outside the case numbers' years, or backwards.
    let now = match r % 23 {
        0 => "1999-12-31T10:00:00-05:00".to_string(),
        1 => "2100-01-04T10:00:00-05:00".to_string(),
        2 => at(-3000),
        _ => at(minutes),
    };
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    let args = match kind {
        0..=2 => {
            let mut a = s(&[
                "new",
                "--channel",
                pick(r, &["phone", "email", "fax"]),
                "--customer",
                pick(r >> 2, &["ips-andina", "clinica-santa-helena", "nadie"]),
                "--requester",
                "Ana Ruiz <ana@ipsandina.example.co>",
                "--title",
                pick(r >> 4, &["No carga la página", " "]),
                "--description",
                "Descripción",
            ]);
            match (r >> 6) % 6 {
                0 => a.extend(s(&["--type", "incident", "--incident", "no-carga-pagina"])),
                1 => a.extend(s(&["--type", "problem", "--priority", "critica"])),
                2 => a.extend(s(&[
                    "--impact",
                    pick(r >> 9, &["alto", "high", "enorme", "Medio"]),
                    "--urgency",
                    pick(r >> 11, &["alta", "low", "ya"]),
                ])),
                3 => {
                    // A planned date: in the future, in the past, at night, on a Sunday.
                    let date = match (r >> 9) % 4 {
                        0 => at(minutes + 24 * 60),
                        1 => at(minutes - 60),
                        2 => at(minutes + 14 * 60),
                        _ => "2026-11-08T10:00:00-05:00".to_string(),
                    };
                    a.extend(s(&["--priority", "planeado", "--agreed-date", &date]));
                }
                4 => a.extend(s(&["--type", "request", "--request", "anular-factura"])),
                _ => a.extend(s(&["--priority", pick(r >> 9, &["alta", "urgente"])])),
            }
            a
        }
        3 => s(&[
            "classify",
            &id,
            "--type",
            "incident",
            "--incident",
            pick(r >> 3, &["no-carga-pagina", "no-existe"]),
        ]),
        4 => s(&[
            "verify",
            &id,
            pick(
                r >> 3,
                &["conexiones-fisicas", "direccionamiento-ip", "inventada"],
            ),
            "--result",
            pick(r >> 5, &["done", "failed", "na", "maybe"]),
        ]),
        5 => s(&["start", &id]),
        6 => s(&["escalate", &id, "--reason", "Requiere nivel 2"]),
        7 => s(&["resolve", &id, "--solution", "Se reinició el servicio."]),
        8 => s(&["comment", &id, "--text", "Nota", "--public"]),
        9 => s(&[
            "priority",
            &id,
            pick(r >> 3, &["alta", "baja", "nada"]),
            "--impact",
            pick(r >> 5, &["bajo", "low", "altísimo"]),
            "--urgency",
            pick(r >> 7, &["Baja", "medium"]),
            "--reason",
            "Acordado con el cliente",
        ]),
        10 => s(&["assign", &id, "--to", pick(r >> 3, &["agomez", "nadie"])]),
        11 => s(&["confirm", &id]),
        12 => s(&[
            "close",
            &id,
            "--reason",
            pick(r >> 3, &["mutual_agreement", "not_applicable", "whatever"]),
            "--note",
            "Acordado",
        ]),
        _ => s(&["sweep"]),
    };
    (now, args)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(12),
        max_shrink_iters: 20,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_commands_never_leave_a_desk_that_check_rejects(
        steps in prop::collection::vec((0u8..14, any::<u16>(), 0i64..600), 1..9)
    ) {
        let d = TestDesk::new();
        let mut ids: Vec<String> = Vec::new();
        let mut minutes = 0;
        for (kind, r, gap) in steps {
            minutes += gap;
            let (now, args) = command(kind, r, minutes, &ids);
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let head = d.head();
            let status = d.status();
            let mut full = vec!["--format", "json"];
            full.extend_from_slice(&argv);
            let out = d.run(&now, &full);
            let what = format!("mesa --now {now} {argv:?}");
            match out.status.code() {
                Some(0) => {
                    if argv[0] == "new" {
                        let v: serde_json::Value =
                            serde_json::from_slice(&out.stdout).expect("JSON from mesa new");
                        ids.push(v["id"].as_str().unwrap().to_string());
                    }
                }
                Some(1) | Some(2) => {
                    prop_assert_eq!(d.head(), head, "refused {} committed", what);
                    prop_assert_eq!(d.status(), status, "refused {} wrote files", what);
                    // With --format json the reason is a JSON object on stdout.
                    prop_assert!(!out.stderr.is_empty() || !out.stdout.is_empty(),
                        "{} refused without a word", what);
                }
                other => prop_assert!(false, "{} exited {:?}: {}", what, other,
                    String::from_utf8_lossy(&out.stderr)),
            }
            check_passes(&d, &what);
        }
    }
}

#[test]
fn new_refuses_a_planned_date_in_the_past_or_outside_working_hours() {
    let d = TestDesk::new();
    let base = [
        "new",
        "--channel",
        "phone",
        "--customer",
        "ips-andina",
        "--requester",
        "Ana <ana@ipsandina.example.co>",
        "--title",
        "Migración",
        "--description",
        "Migrar la base de datos",
        "--priority",
        "planeado",
        "--agreed-date",
    ];
    let with = |date: &str| {
        let mut v = base.to_vec();
        v.push(date);
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    // Yesterday.
    let a = with("2026-11-02T10:00:00-05:00");
    let err = d.refused(&at(120), &a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        err.contains("is not after the moment it is recorded"),
        "{err}"
    );
    // Sunday 8 November, and 20:00 on a weekday.
    for date in ["2026-11-08T10:00:00-05:00", "2026-11-04T20:00:00-05:00"] {
        let a = with(date);
        let err = d.refused(&at(120), &a.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(err.contains("outside the working hours"), "{date}: {err}");
    }
    // Thursday 5 November at 10:00 is fine.
    let a = with("2026-11-05T10:00:00-05:00");
    d.ok(&at(120), &a.iter().map(String::as_str).collect::<Vec<_>>());
    check_passes(&d, "a valid planned ticket");
}

#[test]
fn new_refuses_a_creation_time_outside_the_case_numbers_years() {
    let d = TestDesk::new();
    for now in ["1999-12-31T10:00:00-05:00", "2100-01-04T10:00:00-05:00"] {
        let err = d.refused(
            now,
            &[
                "new",
                "--channel",
                "phone",
                "--customer",
                "ips-andina",
                "--requester",
                "Ana <ana@ipsandina.example.co>",
                "--title",
                "Caso",
                "--description",
                "Descripción",
            ],
        );
        assert!(
            err.contains("two-digit year (2000 to 2099)"),
            "{now}: {err}"
        );
    }
    assert!(!d.root.join("tickets").exists());
}

#[test]
fn impact_urgency_and_effort_are_checked_and_spanish_names_are_aliases() {
    let d = TestDesk::new();
    fn new<'a>(extra: &[&'a str]) -> Vec<&'a str> {
        let mut a = vec![
            "new",
            "--channel",
            "phone",
            "--customer",
            "ips-andina",
            "--requester",
            "Ana <ana@ipsandina.example.co>",
            "--title",
            "Caso",
            "--description",
            "Descripción",
        ];
        a.extend_from_slice(extra);
        a
    }
    // Unknown value: refused with the values desk.yaml allows.
    let err = d.refused(&at(0), &new(&["--impact", "enorme"]));
    assert!(err.contains("unknown `impact` value `enorme`"), "{err}");
    assert!(err.contains("high, medium, low"), "{err}");
    let err = d.refused(&at(0), &new(&["--effort", "hgh", "--priority", "media"]));
    assert!(
        err.contains("`effort`") && err.contains("did you mean `high`"),
        "{err}"
    );
    // The names the site shows ("Alto", "Alta", "Bajo"), any case or accents: stored as ids,
    // and the guidance suggests the priority from them (high + high = critica).
    let v = d.json(
        &at(0),
        &new(&["--impact", "ALTO", "--urgency", "Alta", "--effort", "bajo"]),
    );
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["priority"], "critica");
    let s = d.show(&id);
    assert_eq!(s["impact"], "high", "{s}");
    assert_eq!(s["urgency"], "high", "{s}");
    assert_eq!(s["effort"], "low", "{s}");
    // `mesa priority` takes the aliases too.
    d.ok(
        &at(5),
        &["priority", &id, "--impact", "medio", "--urgency", "media"],
    );
    assert_eq!(d.show(&id)["priority"], "media");
    // An impact without urgency is recorded (and checked) too.
    let v = d.json(&at(6), &new(&["--impact", "bajo"]));
    let s = d.show(v["id"].as_str().unwrap());
    assert_eq!(s["impact"], "low", "{s}");
    check_passes(&d, "the aliases");
}

#[test]
fn check_refuses_a_name_where_the_id_belongs_and_says_which_id() {
    let d = TestDesk::new();
    let id = d.new_ticket(&at(0), &["--impact", "high", "--urgency", "high"]);
    let path = d.root.join(format!("tickets/2026/11/{id}.md"));
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("impact: high", "impact: alto")).unwrap();
    let out = Command::new(common::git::MESA)
        .args(["--desk", d.root.to_str().unwrap(), "--lang", "en", "check"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("unknown `impact` value `alto`") && text.contains("did you mean `high`"),
        "{text}"
    );
}
