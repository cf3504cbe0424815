//! Who sends, exactly once: two laptops and scheduled runners share a desk through a real git
//! server on loopback (`git daemon`, with the push gate); every customer email reaches the SMTP
//! server once, whoever sends it first, and every ticket records each delivery once after all
//! the clones have merged. Then two scheduled runs at once (`scripts/mesa-scheduled.sh`, the
//! script the CI templates run): one reminder, one close, each email once.

mod common;

use common::git::{clone, git, TestDesk, MESA};
use common::gitserver::{at, push_with_retry, shared_desk, GitServer};
use common::smtp::Sink;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// Points the shared desk at the sink and turns the shared outbox on (from 1 Nov 2026),
/// through clone `c`, pushed.
fn configure_mail(c: &TestDesk, port: u16) {
    let path = c.root.join("desk.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replace(
        "  smtp_port: 2525\n",
        &format!("  smtp_port: {port}\n  shared_since: 2026-11-01\n"),
    );
    assert!(
        text.contains("shared_since"),
        "desk.yaml mail block changed"
    );
    std::fs::write(&path, text).unwrap();
    git(&c.root, &["commit", "-q", "-am", "mail: shared outbox"]);
    assert!(push_with_retry(&c.root).0);
}

fn pull(c: &TestDesk) {
    git(&c.root, &["pull", "-q", "--no-rebase", "origin", "main"]);
}

/// Message-ID -> how many times the SMTP server got it.
fn received(sink: &Sink) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for m in sink.delivered() {
        *out.entry(m.header("Message-ID").expect("Message-ID"))
            .or_default() += 1;
    }
    out
}

/// The ticket's Message-IDs queued (by any event) and the `mailed` records, from `mesa show`.
fn ticket_mail(c: &TestDesk, id: &str) -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(c.ticket_path(id)).unwrap();
    let mut queued = Vec::new();
    let mut mailed = Vec::new();
    let mut kind = String::new();
    for line in text.lines() {
        let l = line.trim_start_matches([' ', '-']);
        if let Some(k) = l.strip_prefix("event: ") {
            kind = k.trim().to_string();
        }
        if let Some(m) = l.strip_prefix("message_id: ") {
            let m = m.trim().trim_matches(['\'', '"']).to_string();
            if kind == "mailed" {
                mailed.push(m);
            } else {
                queued.push(m);
            }
        }
    }
    (queued, mailed)
}

fn send(c: &TestDesk, now: &str) -> serde_json::Value {
    c.json(now, &["outbox", "send"])
}

#[test]
fn an_email_queued_offline_is_sent_once_by_whoever_sends_first() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = Sink::start(&[]);
    let bare = shared_desk(tmp.path());
    let server = GitServer::start(bare.parent().unwrap());
    let url = server.url("desk.git");
    let a = clone(&url, &tmp.path().join("laptop-a"), "lmartinez");
    let b = clone(&url, &tmp.path().join("laptop-b"), "dcastro");
    let mut r = clone(&url, &tmp.path().join("runner"), "runner");
    r.agent = String::new();
    configure_mail(&a, sink.port);
    pull(&b);
    pull(&r);

    // Laptop A opens a case offline (the acknowledgement is queued in A), then pushes
    // without sending. The runner sends it from git first and records the delivery.
    let t1 = a.new_ticket(&at(2, 8, 0), &common::INCIDENT);
    assert_eq!(a.outbox_kinds(&t1), ["acknowledgement"]);
    assert!(push_with_retry(&a.root).0);
    pull(&r);
    let v = send(&r, &at(2, 8, 15));
    assert_eq!(v["sent"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["from_git"].as_array().unwrap().len(), 1, "{v}");
    assert!(
        v["commit"].is_string(),
        "the runner records the delivery: {v}"
    );
    assert!(push_with_retry(&r.root).0);
    // A merges and sends: its own copy is recognised as delivered, not sent again.
    pull(&a);
    let v = send(&a, &at(2, 8, 30));
    assert_eq!(v["sent"].as_array().unwrap().len(), 0, "{v}");
    assert_eq!(v["elsewhere"].as_array().unwrap().len(), 1, "{v}");
    assert!(a.outbox_kinds(&t1).is_empty(), "A's copy moved to sent/");

    // Laptop B resolves the case and sends the solution itself before anyone else sees it;
    // the runner runs in between (knows nothing of it) and after B pushes.
    pull(&b);
    b.ok(
        &at(2, 9, 0),
        &["resolve", &t1, "--solution", "Se limpió la caché"],
    );
    let v = send(&b, &at(2, 9, 5));
    assert_eq!(v["sent"].as_array().unwrap().len(), 1, "{v}");
    let v = send(&r, &at(2, 9, 6));
    assert_eq!(v["sent"].as_array().unwrap().len(), 0, "{v}");
    assert!(push_with_retry(&b.root).0);
    pull(&r);
    let v = send(&r, &at(2, 9, 10));
    assert_eq!(v["sent"].as_array().unwrap().len(), 0, "{v}");
    assert!(v["from_git"].as_array().unwrap().is_empty(), "{v}");
    pull(&a);
    let v = send(&a, &at(2, 9, 15));
    assert_eq!(v["sent"].as_array().unwrap().len(), 0, "{v}");

    // A second case: both laptops comment publicly offline on it, the runner sends both
    // comments from git, and the laptops' later sends (after merging) send nothing.
    let t2 = a.new_ticket(&at(2, 10, 0), &common::INCIDENT);
    assert!(push_with_retry(&a.root).0);
    pull(&b);
    a.ok(
        &at(2, 10, 5),
        &["comment", &t2, "--public", "--text", "Estamos revisando"],
    );
    b.ok(
        &at(2, 10, 6),
        &["comment", &t2, "--public", "--text", "Le llamaremos hoy"],
    );
    assert!(push_with_retry(&a.root).0);
    assert!(push_with_retry(&b.root).0);
    pull(&r);
    let v = send(&r, &at(2, 10, 30));
    assert_eq!(
        v["sent"].as_array().unwrap().len(),
        3,
        "ack and two comments: {v}"
    );
    assert!(push_with_retry(&r.root).0);
    for c in [&a, &b] {
        pull(c);
        let v = send(c, &at(2, 11, 0));
        assert_eq!(v["sent"].as_array().unwrap().len(), 0, "{v}");
        assert!(push_with_retry(&c.root).0);
    }

    // Everything merged everywhere: each email reached the server once, each delivery is
    // recorded once, in every clone, and the history passes the gate.
    for c in [&a, &b, &r] {
        pull(c);
    }
    let got = received(&sink);
    assert_eq!(got.len(), 5, "{got:?}");
    assert!(
        got.values().all(|n| *n == 1),
        "an email was sent twice: {got:?}"
    );
    for id in [&t1, &t2] {
        let (queued, mailed) = ticket_mail(&r, id);
        let mut q = queued.clone();
        q.sort();
        let mut m = mailed.clone();
        m.sort();
        assert_eq!(q, m, "{id}: every queued email recorded delivered, once");
        for c in [&a, &b] {
            assert_eq!(ticket_mail(c, id), (queued.clone(), mailed.clone()));
        }
        for m in &queued {
            assert_eq!(got.get(m), Some(&1), "{m}");
        }
    }
    r.ok(&at(3, 0, 0), &["check"]);
}

/// Runs the scheduled script in `clone` with the real binary at `now`.
fn scheduled(clone: &Path, now: &str, run_id: &str) -> std::process::Output {
    Command::new("sh")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mesa-scheduled.sh"))
        .current_dir(clone)
        .env("MESA", MESA)
        .env("MESA_NOW", now)
        .env("MESA_RUN_ID", run_id)
        .env("MESA_LANG", "en")
        .env_remove("MESA_AGENT")
        .env_remove("MESA_DESK")
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .unwrap()
}

#[test]
fn two_scheduled_runs_at_once_remind_close_and_mail_once() {
    let tmp = tempfile::tempdir().unwrap();
    let sink = Sink::start(&[]);
    let bare = shared_desk(tmp.path());
    let server = GitServer::start(bare.parent().unwrap());
    let url = server.url("desk.git");
    let a = clone(&url, &tmp.path().join("laptop"), "lmartinez");
    configure_mail(&a, sink.port);
    // A solved case the customer never answers, pushed from a laptop that sent nothing.
    let t = a.new_ticket(&at(2, 8, 0), &common::INCIDENT);
    a.ok(
        &at(2, 9, 0),
        &["resolve", &t, "--solution", "Se reinició el servicio"],
    );
    assert!(push_with_retry(&a.root).0);

    // Two runners, each in its own clone, run the schedule at the same moment, well after the
    // 24 h reminder and the 72 h close were due.
    let r1 = clone(&url, &tmp.path().join("run1"), "x");
    let r2 = clone(&url, &tmp.path().join("run2"), "x");
    let now = at(9, 10, 0);
    let h: Vec<_> = [(&r1, "run1"), (&r2, "run2")]
        .into_iter()
        .map(|(c, id)| {
            let (root, now, id) = (c.root.clone(), now.clone(), id.to_string());
            std::thread::spawn(move || scheduled(&root, &now, &id))
        })
        .collect();
    for o in h.into_iter().map(|h| h.join().unwrap()) {
        eprintln!(
            "scheduled run:\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(
            o.status.success(),
            "scheduled run failed ({:?}):\n{}\n{}",
            o.status.code(),
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    // The late runs sent the reminder now (never the close in the same run); a run after the
    // grace that follows the reminder closes the case as approved, once.
    let o = scheduled(&r1.root, &at(11, 10, 15), "run3");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));

    pull(&a);
    let text = std::fs::read_to_string(a.ticket_path(&t)).unwrap();
    assert_eq!(text.matches("event: reminded").count(), 1, "{text}");
    assert_eq!(text.matches("event: closed").count(), 1, "{text}");
    assert!(text.contains("status: closed"), "{text}");
    let got = received(&sink);
    // Acknowledgement, solution, reminder, auto-close: each once.
    assert_eq!(got.len(), 4, "{got:?}");
    assert!(
        got.values().all(|n| *n == 1),
        "an email was sent twice: {got:?}"
    );
    let (queued, mut mailed) = ticket_mail(&a, &t);
    let mut queued = queued;
    queued.sort();
    mailed.sort();
    assert_eq!(queued, mailed);
    // The bot's identity on the scheduled commits; the lease let go; the history is clean.
    let authors = git(&bare, &["log", "--format=%an <%ae>|%s", "main"]);
    let bot: Vec<&str> = authors
        .lines()
        .filter(|l| !l.starts_with("Laura") && !l.contains("mesa init"))
        .collect();
    assert!(authors.contains("outbox send"), "{authors}");
    for line in bot {
        assert!(
            line.starts_with("mesa (scheduled) <mesa-bot@localhost>|"),
            "{line}"
        );
    }
    let lease = git(
        &bare,
        &["log", "-1", "--format=%s", "refs/mesa/outbox-lease"],
    );
    assert!(lease.starts_with("released by"), "{lease}");
    let out = Command::new(MESA)
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
}
