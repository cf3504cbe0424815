//! The synthetic desk generator (`examples/gen_desk.rs`, used by the benchmarks) writes desks
//! that `mesa check` accepts, and the same seed gives the same desk.

mod common;

#[allow(dead_code)]
#[path = "../examples/gen_desk.rs"]
mod gen_desk;

use common::*;
use std::path::Path;

fn generate(out: &Path, seed: u64) {
    gen_desk::run(gen_desk::Args {
        tickets: 400,
        out: out.to_path_buf(),
        articles: 10,
        seed,
        from: sample_root(),
        force: false,
    })
    .expect("gen_desk");
}

fn files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

#[test]
fn generated_desks_are_valid_and_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let desk_a = a.path().join("desk");
    let desk_b = b.path().join("desk");
    generate(&desk_a, 7);
    generate(&desk_b, 7);

    let out = check(&desk_a, &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(v["tickets"], 400);

    let fa = files(&desk_a);
    assert_eq!(fa, files(&desk_b), "same seed, different desks");

    // Realistic: varied statuses, sizes in the 1-3 KB range, logs of several events.
    let tickets: Vec<&(String, Vec<u8>)> = fa
        .iter()
        .filter(|(p, _)| p.starts_with("tickets/"))
        .collect();
    assert_eq!(tickets.len(), 400);
    let texts: Vec<String> = tickets
        .iter()
        .map(|(_, b)| String::from_utf8(b.clone()).unwrap())
        .collect();
    let avg = texts.iter().map(String::len).sum::<usize>() / texts.len();
    assert!((1000..=3500).contains(&avg), "average ticket size {avg}");
    for status in [
        "status: closed",
        "status: resolved",
        "status: in_progress",
        "status: analysis",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(status)),
            "no ticket with {status}"
        );
    }
    for event in [
        "event: escalated",
        "event: cab_reviewed",
        "event: rejected",
        "event: reminded",
        "event: extended",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(event)),
            "no ticket with {event}"
        );
    }

    let other = tempfile::tempdir().unwrap();
    generate(&other.path().join("desk"), 8);
    assert_ne!(
        fa,
        files(&other.path().join("desk")),
        "another seed, the same desk"
    );
}

/// The fast YAML path reads every ticket the generator writes and every ticket of the sample
/// desk (scalars, quoted strings, instants, the event log's maps, checks), and gives what
/// serde_yaml gives for each: the same ticket.
#[test]
fn the_fast_yaml_path_reads_every_ticket_as_serde_yaml_does() {
    use mesa::model::ticket::TicketFront;
    let tmp = tempfile::tempdir().unwrap();
    let generated = tmp.path().join("desk");
    generate(&generated, 11);
    for (root, at_least) in [(generated.as_path(), 400), (sample_root().as_path(), 20)] {
        let tickets: Vec<(String, Vec<u8>)> = files(root)
            .into_iter()
            .filter(|(p, _)| p.starts_with("tickets/") && p.ends_with(".md"))
            .collect();
        assert!(tickets.len() >= at_least, "{}", root.display());
        for (rel, bytes) in tickets {
            let text = String::from_utf8(bytes).unwrap();
            let split = mesa::model::front_matter::split(Path::new(&rel), &text).unwrap();
            let fast: TicketFront = mesa::model::fastyaml::from_str(split.yaml)
                .unwrap_or_else(|| panic!("{rel}: the fast path declined it"));
            let slow: TicketFront = serde_yaml::from_str(split.yaml).unwrap();
            assert_eq!(fast, slow, "{rel}");
            // The streaming reader answers as the tree reader it replaced.
            let tree: Option<TicketFront> = mesa::model::fastyaml::from_str_tree(split.yaml);
            assert_eq!(Some(&fast), tree.as_ref(), "{rel}");
            let stream_value: Option<serde_yaml::Value> =
                mesa::model::fastyaml::from_str(split.yaml);
            let tree_value: Option<serde_yaml::Value> =
                mesa::model::fastyaml::from_str_tree(split.yaml);
            assert_eq!(stream_value, tree_value, "{rel}");
            // As an untyped value, plain scalars that start like numbers (the instants) are
            // serde_yaml's to read: where the fast path answers, it answers the same.
            let fast: Option<serde_yaml::Value> = mesa::model::fastyaml::from_str(split.yaml);
            let slow: serde_yaml::Value = serde_yaml::from_str(split.yaml).unwrap();
            assert!(fast.is_none_or(|f| f == slow), "{rel}");
        }
    }
}
