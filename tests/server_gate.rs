//! The push gate on a real git server (`git daemon` on loopback, receive-pack enabled): four
//! clones push at once; the valid pushes land (rebasing on each other), the one that rewrote a
//! past event by hand is refused with `path:line:col` reasons, and the refused push leaves the
//! server without a trace of it. Force-pushes are refused too.

mod common;

use common::git::{clone, git};
use common::gitserver::{at, push_with_retry, shared_desk, try_git, GitServer};

#[test]
fn gate_refuses_bad_pushes_and_lets_concurrent_good_ones_land() {
    let tmp = tempfile::tempdir().unwrap();
    let bare = shared_desk(tmp.path());
    let server = GitServer::start(bare.parent().unwrap());
    let url = server.url("desk.git");

    let a = clone(&url, &tmp.path().join("a"), "lmartinez");
    let b = clone(&url, &tmp.path().join("b"), "dcastro");
    let c = clone(&url, &tmp.path().join("c"), "agomez");
    let d = clone(&url, &tmp.path().join("d"), "lmartinez");

    // A shared ticket, pushed through the gate.
    let t = a.new_ticket(&at(2, 8, 0), &common::INCIDENT);
    let (ok, out) = push_with_retry(&a.root);
    assert!(ok, "a valid push must land: {out}");
    for x in [&b, &c, &d] {
        git(&x.root, &["pull", "-q", "--rebase", "origin", "main"]);
    }

    // Offline work: three valid, one hand edit that rewrites a past event.
    a.ok(&at(2, 9, 0), &["comment", &t, "--text", "Llamó de nuevo"]);
    let nb = b.new_ticket(&at(2, 9, 5), &common::INCIDENT);
    let nc = c.new_ticket(&at(2, 9, 10), &common::INCIDENT);
    let path = d.ticket_path(&t);
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replacen("2026-11-02T08:00:00-05:00", "2026-11-01T08:00:00-05:00", 1);
    assert_ne!(text, edited, "the fixture must change the created event");
    std::fs::write(&path, edited).unwrap();
    git(
        &d.root,
        &["commit", "-q", "--no-verify", "-am", "hand edit"],
    );
    let bad = d.head();
    let before = git(&bare, &["for-each-ref"]);

    // All four push at once.
    let handles: Vec<_> = [&a, &b, &c, &d]
        .iter()
        .map(|x| {
            let root = x.root.clone();
            std::thread::spawn(move || push_with_retry(&root))
        })
        .collect();
    let results: Vec<(bool, String)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for (i, (ok, out)) in results.iter().take(3).enumerate() {
        assert!(ok, "valid push {i} refused: {out}");
    }
    let (ok, out) = &results[3];
    assert!(!ok, "the hand edit must be refused");
    assert!(out.contains("pre-receive hook declined"), "{out}");
    // The reason, as path:line:col, naming the ticket file.
    let rel = format!("tickets/20{}/{}/{t}.md:", &t[0..2], &t[2..4]);
    let reason = out
        .lines()
        .find(|l| l.contains(&rel))
        .unwrap_or_else(|| panic!("no path:line:col reason in:\n{out}"));
    let rest = &reason[reason.find(&rel).unwrap() + rel.len()..];
    let mut nums = rest.split(':');
    assert!(nums.next().unwrap().parse::<u32>().unwrap() > 0, "{reason}");
    assert!(
        nums.next().unwrap().trim().parse::<u32>().unwrap() > 0,
        "{reason}"
    );

    // The server holds every valid change and nothing of the refused push.
    let main = git(&bare, &["rev-parse", "main"]).trim().to_string();
    let log = git(&bare, &["log", "--format=%s", "main"]);
    for id in [&t, &nb, &nc] {
        assert!(
            log.contains(id.as_str()),
            "{id} missing from the server log:\n{log}"
        );
    }
    let (has_bad, _) = try_git(&bare, &["cat-file", "-e", &format!("{bad}^{{commit}}")]);
    assert!(
        !has_bad,
        "the refused commit must not be stored on the server"
    );
    let after = git(&bare, &["for-each-ref"]);
    assert_ne!(before, after, "valid pushes moved main");
    assert!(after.contains(&main));
    let (fsck, out) = try_git(&bare, &["fsck", "--no-dangling"]);
    assert!(fsck, "{out}");

    // What landed passes the gate's own check in full.
    let out = std::process::Command::new(common::git::MESA)
        .current_dir(&bare)
        .args(["--lang", "en", "check", "--history", "main"])
        .env_remove("GIT_DIR")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // A force-push that drops history is refused, and main does not move.
    git(&a.root, &["pull", "-q", "--rebase", "origin", "main"]);
    git(&a.root, &["reset", "-q", "--hard", "HEAD~1"]);
    let (ok, out) = try_git(&a.root, &["push", "--force", "origin", "HEAD:main"]);
    assert!(!ok, "force-push must be refused: {out}");
    assert_eq!(git(&bare, &["rev-parse", "main"]).trim(), main);
}
