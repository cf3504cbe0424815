//! `mesa schema KIND` prints JSON Schemas that an off-the-shelf validator (the `jsonschema`
//! crate) accepts, and that accept the sample desk's files and refuse broken ones.

mod common;

use common::*;
use serde_json::Value;
use std::path::Path;

fn schema(kind: &str) -> Value {
    let out = mesa(&["schema", kind]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).expect("schema is JSON")
}

/// A Markdown file's front matter as JSON, the way an editor's YAML language server sees it.
fn front_matter(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).expect("read");
    let split = mesa::model::front_matter::split(path, &text).expect("front matter");
    serde_yaml::from_str::<Value>(split.yaml).expect("yaml to json")
}

fn errors(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

#[test]
fn sample_tickets_validate_against_the_ticket_schema() {
    let validator = jsonschema::validator_for(&schema("ticket")).expect("valid JSON Schema");
    let paths = mesa::model::load::ticket_paths(&sample_root());
    assert!(paths.len() >= 32, "{} sample tickets", paths.len());
    for p in &paths {
        let instance = front_matter(p);
        let errs = errors(&validator, &instance);
        assert!(errs.is_empty(), "{}: {errs:?}", p.display());
    }
}

#[test]
fn the_ticket_schema_refuses_what_mesa_check_refuses() {
    let validator = jsonschema::validator_for(&schema("ticket")).expect("valid JSON Schema");
    let base = front_matter(
        &sample_root().join("tests/fixtures/valid/base/desk/tickets/2026/11/261102-B0X7P.md"),
    );
    assert!(validator.is_valid(&base));

    let mut unknown = base.clone();
    unknown["asignee"] = Value::from("lmartinez");
    assert!(
        !validator.is_valid(&unknown),
        "an unknown key must be refused"
    );

    let mut unknown_in_event = base.clone();
    unknown_in_event["events"][0]["agente"] = Value::from("lmartinez");
    assert!(
        !validator.is_valid(&unknown_in_event),
        "an unknown event key must be refused"
    );

    let mut status = base.clone();
    status["status"] = Value::from("abierto");
    assert!(
        !validator.is_valid(&status),
        "an unknown status must be refused"
    );

    let mut no_offset = base.clone();
    no_offset["events"][1]["at"] = Value::from("2026-11-02T08:16:00");
    assert!(
        !validator.is_valid(&no_offset),
        "a timestamp without offset must be refused"
    );

    let mut level = base.clone();
    level["level"] = Value::from("uno");
    assert!(
        !validator.is_valid(&level),
        "a level that is not a number must be refused"
    );

    let mut missing = base;
    missing.as_object_mut().unwrap().remove("events");
    assert!(
        !validator.is_valid(&missing),
        "a missing required key must be refused"
    );
}

#[test]
fn desk_and_kb_validate_against_their_schemas() {
    let root = sample_root();
    let desk = jsonschema::validator_for(&schema("desk")).expect("desk schema");
    let text = std::fs::read_to_string(root.join("desk.yaml")).unwrap();
    let instance: Value = serde_yaml::from_str(&text).unwrap();
    let errs = errors(&desk, &instance);
    assert!(errs.is_empty(), "desk.yaml: {errs:?}");
    for (kind, dir) in [
        ("article", "kb/articles"),
        ("catalog", "kb/catalog"),
        ("playbook", "kb/playbook"),
    ] {
        let validator = jsonschema::validator_for(&schema(kind)).expect("schema");
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "md") {
                let errs = errors(&validator, &front_matter(&p));
                assert!(errs.is_empty(), "{}: {errs:?}", p.display());
            }
        }
    }
}

#[test]
fn unknown_schema_is_a_usage_error() {
    let out = mesa(&["schema", "tiquete"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("tiquete"), "{}", stderr(&out));
}
