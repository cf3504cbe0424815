//! Offline work in three clones of one desk, merged through a bare remote in every order:
//! identical tickets, unique case numbers, no conflict markers, every event kept once.

mod common;

use common::git::{bare_remote, clone, git, TestDesk, MESA};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Day `d` of November 2026 at `hh:mm` Bogotá.
fn at(d: u32, hh: u32, mm: u32) -> String {
    format!("2026-11-{d:02}T{hh:02}:{mm:02}:00-05:00")
}

/// Every ticket file under `root`: relative path -> contents.
fn tickets(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for e in walk(&root.join("tickets")) {
        if e.extension().is_some_and(|x| x == "md") {
            out.insert(
                e.strip_prefix(root).unwrap().to_path_buf(),
                std::fs::read_to_string(&e).unwrap(),
            );
        }
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn check_json(d: &TestDesk) -> serde_json::Value {
    let out = d.run(&at(30, 12, 0), &["--format", "json", "check"]);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn three_clones_merge_in_every_order() {
    let tmp = tempfile::tempdir().unwrap();
    // The shared desk: made with `mesa init --sample`, pushed to a bare remote.
    let origin = tmp.path().join("origin");
    let out = Command::new(MESA)
        .args(["--lang", "en", "init", origin.to_str().unwrap(), "--sample"])
        .env("GIT_AUTHOR_NAME", "x")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        origin.join("desk.yaml").is_file()
            && origin.join("kb/catalog").is_dir()
            && origin.join("theme/i18n/es.yaml").is_file()
    );
    let attrs = std::fs::read_to_string(origin.join(".gitattributes")).unwrap();
    assert!(attrs.contains("tickets/**/*.md merge=mesa-ticket"));
    let remote = tmp.path().join("remote.git");
    bare_remote(&origin, &remote);

    let url = remote.to_str().unwrap();
    let c1 = clone(url, &tmp.path().join("c1"), "lmartinez");
    let c2 = clone(url, &tmp.path().join("c2"), "dcastro");
    let c3 = clone(url, &tmp.path().join("c3"), "agomez");
    assert!(
        git(&c1.root, &["config", "merge.mesa-ticket.driver"]).contains("merge-ticket %O %A %B %P")
    );

    // Shared starting point: four tickets made in c1 and pulled everywhere.
    let t1 = c1.new_ticket(&at(4, 8, 0), &common::INCIDENT);
    let t2 = c1.new_ticket(&at(4, 8, 5), &common::INCIDENT);
    let t3 = c1.new_ticket(&at(4, 8, 10), &common::INCIDENT);
    let t4 = c1.new_ticket(&at(4, 8, 15), &common::INCIDENT);
    c1.ok(
        &at(4, 9, 0),
        &["resolve", &t3, "--solution", "Servicio reiniciado"],
    );
    c1.ok(
        &at(4, 9, 5),
        &["resolve", &t4, "--solution", "Caché limpiada"],
    );
    git(&c1.root, &["push", "-q", "origin", "HEAD:main"]);
    git(&c2.root, &["pull", "-q", "--no-rebase", "origin", "main"]);
    git(&c3.root, &["pull", "-q", "--no-rebase", "origin", "main"]);
    let base = c1.head();

    // Offline work. Same ticket, different changes in different clones.
    // c1: comment on t1; resolve t2; confirm t3 (closes); sweep (reminder for t4); a new ticket.
    c1.ok(
        &at(4, 10, 0),
        &[
            "comment",
            &t1,
            "--text",
            "La usuaria envió captura de pantalla",
        ],
    );
    c1.ok(
        &at(4, 10, 5),
        &["resolve", &t2, "--solution", "Se ajustó el proxy"],
    );
    c1.ok(&at(4, 10, 10), &["confirm", &t3]);
    let n1 = c1.new_ticket(&at(4, 10, 15), &common::INCIDENT);
    c1.ok(&at(5, 10, 0), &["sweep"]);
    // c2: escalate t1 (after its checks); resolve t2 too; reject t3 (reopens); a new ticket.
    c2.verify_missing(&at(4, 11, 0), &t1);
    c2.ok(
        &at(4, 11, 5),
        &["escalate", &t1, "--reason", "requiere nivel 2"],
    );
    c2.ok(
        &at(4, 11, 10),
        &["resolve", &t2, "--solution", "Se cambió el DNS"],
    );
    c2.ok(
        &at(4, 11, 15),
        &["reject", &t3, "--reason", "Sigue fallando"],
    );
    let n2 = c2.new_ticket(&at(4, 11, 20), &common::INCIDENT);
    // c3: new tickets in the same minute as the others; the same sweep as c1 (identical events).
    let n3 = c3.new_ticket(&at(4, 10, 15), &common::INCIDENT);
    let n4 = c3.new_ticket(&at(4, 11, 20), &common::INCIDENT);
    c3.ok(
        &at(4, 12, 0),
        &["comment", &t1, "--text", "Nota del nivel 2", "--public"],
    );
    c3.ok(&at(5, 10, 0), &["sweep"]);

    // Unique case numbers across clones.
    let ids: HashSet<&String> = [&t1, &t2, &t3, &t4, &n1, &n2, &n3, &n4]
        .into_iter()
        .collect();
    assert_eq!(ids.len(), 8, "case numbers collide: {ids:?}");

    // Each clone publishes its work on its own branch.
    for (name, c) in [("c1", &c1), ("c2", &c2), ("c3", &c3)] {
        git(
            &c.root,
            &["push", "-q", "origin", &format!("HEAD:refs/heads/{name}")],
        );
    }

    // Merge in every order, each in a fresh clone.
    let orders = [
        ["c1", "c2", "c3"],
        ["c1", "c3", "c2"],
        ["c2", "c1", "c3"],
        ["c2", "c3", "c1"],
        ["c3", "c1", "c2"],
        ["c3", "c2", "c1"],
    ];
    let mut results = Vec::new();
    for (i, order) in orders.iter().enumerate() {
        let w = clone(url, &tmp.path().join(format!("w{i}")), "lmartinez");
        git(&w.root, &["fetch", "-q", "origin"]);
        for b in order {
            git(
                &w.root,
                &["merge", "-q", "--no-edit", &format!("origin/{b}")],
            );
        }
        let files = tickets(&w.root);
        for (p, text) in &files {
            assert!(
                !text.contains("<<<<<<<") && !text.contains(">>>>>>>"),
                "conflict markers in {}",
                p.display()
            );
        }
        // The eight made here, besides the sample desk's own tickets that `init --sample` copies.
        let sample = mesa::model::load::ticket_paths(&common::sample_root()).len();
        assert_eq!(files.len(), 8 + sample, "{order:?}");
        results.push((order, files, w));
    }
    let (_, first, w0) = &results[0];
    for (order, files, _) in &results[1..] {
        assert_eq!(
            files, first,
            "merge order {order:?} gives different tickets"
        );
    }

    // Every event of every clone is kept, once.
    let show = |id: &str| w0.show(id);
    let t1v = show(&t1);
    let kinds: Vec<&str> = t1v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "commented").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "escalated").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(t1v["level"], 2, "derived fields recomputed after the merge");
    let t4v = show(&t4);
    let reminders = t4v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "reminded")
        .count();
    assert_eq!(
        reminders, 1,
        "both clones swept: the identical reminder is kept once"
    );

    // Where the merged logs break a rule (both resolved t2; t3 confirmed and rejected),
    // mesa check reports it for a supervisor, on those tickets only.
    let report = check_json(w0);
    assert_eq!(report["ok"], false);
    let mut flagged: Vec<String> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap().to_string())
        .collect();
    flagged.sort();
    flagged.dedup();
    let expected: Vec<String> = {
        let mut v = vec![
            c1.ticket_path(&t2)
                .strip_prefix(&c1.root)
                .unwrap()
                .display()
                .to_string(),
            c1.ticket_path(&t3)
                .strip_prefix(&c1.root)
                .unwrap()
                .display()
                .to_string(),
        ];
        v.sort();
        v
    };
    assert_eq!(flagged, expected, "{report}");

    // The history of the merges holds no hand edit: every problem is in the final state.
    let out = w0.run(
        &at(30, 12, 0),
        &[
            "--format",
            "json",
            "check",
            "--history",
            &format!("{base}..HEAD"),
        ],
    );
    let hist: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        hist["diagnostics"], report["diagnostics"],
        "merge commits flagged as hand edits"
    );

    // The realistic flow: pull, then push, clone after clone; everyone ends identical.
    for c in [&c1, &c2, &c3] {
        git(
            &c.root,
            &["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"],
        );
        git(&c.root, &["push", "-q", "origin", "HEAD:main"]);
    }
    for c in [&c1, &c2] {
        git(
            &c.root,
            &["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"],
        );
    }
    assert_eq!(tickets(&c1.root), tickets(&c2.root));
    assert_eq!(tickets(&c2.root), tickets(&c3.root));
    assert_eq!(&tickets(&c1.root), first);
}

#[test]
fn two_tickets_on_one_path_are_refused() {
    // The driver itself, on two files that are different tickets with the same number.
    let d = TestDesk::new();
    let id = d.new_ticket(&at(4, 8, 0), &[]);
    let path = d.ticket_path(&id);
    let ours = std::fs::read_to_string(&path).unwrap();
    let theirs = ours.replace("2026-11-04T08:00:00-05:00", "2026-11-04T08:00:30-05:00");
    assert_ne!(ours, theirs);
    let dir = tempfile::tempdir().unwrap();
    let (b, o, t) = (
        dir.path().join("b"),
        dir.path().join("o"),
        dir.path().join("t"),
    );
    std::fs::write(&b, "").unwrap();
    std::fs::write(&o, &ours).unwrap();
    std::fs::write(&t, &theirs).unwrap();
    let rel = path.strip_prefix(&d.root).unwrap();
    let out = d.run(
        &at(4, 9, 0),
        &[
            "merge-ticket",
            b.to_str().unwrap(),
            o.to_str().unwrap(),
            t.to_str().unwrap(),
            rel.to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("different tickets"));
    assert_eq!(std::fs::read_to_string(&o).unwrap(), ours, "OURS untouched");
}
