//! Every broken fixture under `tests/fixtures/broken/<name>/` gives exactly its expected
//! diagnostics. A fixture is a few files (`desk/...`, at their place in a desk) laid over a
//! temporary copy of the sample desk (desk.yaml and kb/, no tickets); `expected.txt` holds the
//! exact stdout of `mesa check` in Spanish, `expected.en.txt` (where present) with `--lang en`.

mod common;

use common::*;
use std::path::{Path, PathBuf};

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let dir = sample_root().join("tests/fixtures").join(kind);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    out.sort();
    out
}

fn desk_with(fixture: &Path) -> tempfile::TempDir {
    let desk = temp_desk(false);
    copy_dir(&fixture.join("desk"), desk.path());
    desk
}

#[test]
fn every_broken_fixture_gives_exactly_its_errors() {
    let all = fixtures("broken");
    assert!(
        all.len() >= 20,
        "expected the full set of fixtures, found {}",
        all.len()
    );
    let mut failures = Vec::new();
    for fixture in &all {
        let name = fixture.file_name().unwrap().to_string_lossy().into_owned();
        let desk = desk_with(fixture);
        for (file, lang) in [("expected.txt", None), ("expected.en.txt", Some("en"))] {
            let Ok(expected) = std::fs::read_to_string(fixture.join(file)) else {
                assert!(lang.is_some(), "{name}: missing expected.txt");
                continue;
            };
            assert!(!expected.trim().is_empty(), "{name}/{file} is empty");
            let out = match lang {
                Some(l) => check(desk.path(), &["--lang", l]),
                None => check(desk.path(), &[]),
            };
            let got = stdout(&out);
            if got != expected || out.status.code() != Some(1) {
                failures.push(format!(
                    "{name}/{file}: exit {:?}\n--- expected\n{expected}--- got\n{got}--- stderr\n{}",
                    out.status.code(),
                    stderr(&out)
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_base_ticket_of_the_fixtures_is_valid() {
    for fixture in fixtures("valid") {
        let desk = desk_with(&fixture);
        let out = check(desk.path(), &[]);
        assert_eq!(stdout(&out), "", "{}", fixture.display());
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}",
            fixture.display(),
            stderr(&out)
        );
    }
}

#[test]
fn json_output_carries_the_same_diagnostics() {
    let fixture = sample_root().join("tests/fixtures/broken/unknown-customer");
    let desk = desk_with(&fixture);
    let out = check(desk.path(), &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["ok"], false);
    let d = &v["diagnostics"][0];
    assert_eq!(d["path"], "tickets/2026/11/261102-B0X7P.md");
    assert_eq!(d["line"], 4);
    assert_eq!(d["col"], 1);
    assert!(d["message"].as_str().unwrap().contains("ips-andin"));
    assert!(d["hint"].as_str().unwrap().contains("ips-andina"));
    assert_eq!(v["diagnostics"].as_array().unwrap().len(), 1);
}
