//! `mesa check` as a user runs it: exit codes (0 valid, 1 problems, 2 usage), languages and
//! formats, on temporary copies of the sample desk.

mod common;

use common::*;
use std::process::Command;

#[test]
fn the_sample_desk_is_valid() {
    let desk = temp_desk(true);
    let out = check(desk.path(), &[]);
    assert_eq!(stdout(&out), "");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("sin problemas"), "{}", stderr(&out));

    let out = check(desk.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["ok"], true);
    assert!(v["tickets"].as_u64().unwrap() >= 32, "{v}");
    assert!(v["pages"].as_u64().unwrap() >= 14 + 3 + 8, "{v}");
    assert_eq!(v["diagnostics"].as_array().unwrap().len(), 0);
}

#[test]
fn quiet_prints_nothing_on_success() {
    let desk = temp_desk(true);
    let out = check(desk.path(), &["-q"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");
}

#[test]
fn english_messages_with_lang_en() {
    let desk = temp_desk(true);
    let out = check(desk.path(), &["--lang", "en"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("no problems"), "{}", stderr(&out));

    // A broken ticket in both languages: same position, translated message and hint.
    let path = desk.path().join("tickets/2026/11/261102-C4K7P.md");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replacen("customer: ips-andina", "customer: ips-andin", 1),
    )
    .unwrap();
    let es = check(desk.path(), &[]);
    let en = check(desk.path(), &["--lang", "en"]);
    assert_eq!(es.status.code(), Some(1));
    assert_eq!(en.status.code(), Some(1));
    assert_eq!(
        stdout(&es),
        "tickets/2026/11/261102-C4K7P.md:4:1: cliente desconocido `ips-andin`; los clientes se definen en desk.yaml (¿quiso decir `ips-andina`?)\n"
    );
    assert_eq!(
        stdout(&en),
        "tickets/2026/11/261102-C4K7P.md:4:1: unknown customer `ips-andin`; customers are defined in desk.yaml (did you mean `ips-andina`?)\n"
    );
    assert!(stderr(&en).contains("1 problem(s)"), "{}", stderr(&en));

    // MESA_LANG works like --lang.
    let out = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .args(["--desk", desk.path().to_str().unwrap(), "check"])
        .env("MESA_LANG", "en")
        .output()
        .unwrap();
    assert_eq!(stdout(&out), stdout(&en));
}

#[test]
fn the_desk_language_is_the_default() {
    let desk = temp_desk(true);
    let cfg = desk.path().join("desk.yaml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(&cfg, text.replacen("language: es", "language: en", 1)).unwrap();
    let out = check(desk.path(), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("no problems"), "{}", stderr(&out));
}

#[test]
fn every_problem_is_reported_in_one_run() {
    let desk = temp_desk(true);
    let a = desk.path().join("tickets/2026/11/261102-C4K7P.md");
    let text = std::fs::read_to_string(&a).unwrap();
    std::fs::write(&a, text.replacen("channel: phone", "channel: telefono", 1)).unwrap();
    std::fs::write(
        desk.path().join("tickets/2026/11/roto.md"),
        "sin encabezado\n",
    )
    .unwrap();
    let out = check(desk.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0].starts_with("tickets/2026/11/261102-C4K7P.md:8:1: canal desconocido `telefono`"),
        "{lines:?}"
    );
    assert!(
        lines[1].starts_with("tickets/2026/11/roto.md:1:1: "),
        "{lines:?}"
    );
    assert!(stderr(&out).contains("2 problema(s)"), "{}", stderr(&out));
}

#[test]
fn usage_errors_exit_2() {
    let desk = temp_desk(false);
    let d = desk.path().to_str().unwrap();
    for args in [
        vec!["--desk", d, "check", "--no-such-flag"],
        vec!["--desk", d, "--format", "xml", "check"],
        vec!["--desk", d, "no-such-command"],
        vec!["--desk", d, "schema", "nothing"],
        vec![],
    ] {
        let out = mesa(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(!stderr(&out).is_empty(), "{args:?}");
    }
    // No desk.yaml here or above: a usage error too, with a Spanish explanation.
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("check")
        .current_dir(empty.path())
        .env_remove("MESA_DESK")
        .env_remove("MESA_LANG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("desk.yaml"), "{}", stderr(&out));
}

#[test]
fn the_desk_is_found_by_walking_up() {
    let desk = temp_desk(true);
    let deep = desk.path().join("tickets/2026/11");
    let out = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("check")
        .current_dir(&deep)
        .env_remove("MESA_DESK")
        .env_remove("MESA_LANG")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn a_missing_or_broken_desk_exits_1() {
    let empty = tempfile::tempdir().unwrap();
    let out = check(empty.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("desk.yaml"), "{}", stderr(&out));

    let desk = temp_desk(false);
    std::fs::write(desk.path().join("desk.yaml"), "organisation:\n  name: [\n").unwrap();
    let out = check(desk.path(), &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("desk.yaml:") || stderr(&out).contains("/desk.yaml:"),
        "{}",
        stderr(&out)
    );
}
