//! Crash and concurrency safety with the real binary on real git repositories: `kill -9` at
//! random points of hundreds of steps, commands run at once on one clone, a dead command's
//! locks, and an index left behind HEAD. After the next command (or `mesa doctor --repair`):
//! `git status` is clean, `git fsck` passes, `mesa check` passes, and every step a command
//! reported as done is in HEAD.
//!
//! `MESA_KILL_RUNS` sets the number of runs (default 300, about 40 s on the release binary);
//! on a machine so loaded that they would pass 90 s, the loop stops there, after at least 100.

mod common;

use common::git::{git, TestDesk, MESA};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const T0: &str = "2026-11-02T08:00:00-05:00";

/// A tiny deterministic generator (xorshift), so a failing run can be repeated.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn at(minutes: u64) -> String {
    let base = chrono::DateTime::parse_from_rfc3339(T0).unwrap();
    (base + chrono::Duration::minutes(minutes as i64)).to_rfc3339()
}

fn command(desk: &TestDesk, now: &str, args: &[&str]) -> Command {
    let mut c = Command::new(MESA);
    c.current_dir(&desk.root)
        .args([
            "--desk",
            desk.root.to_str().unwrap(),
            "--now",
            now,
            "--lang",
            "en",
        ])
        .args(args)
        .env("MESA_AGENT", &desk.agent)
        .env_remove("MESA_DESK")
        .env_remove("MESA_NOW")
        .env_remove("MESA_LANG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

/// The invariants after a command that finished: clean status, sound repository and desk.
fn assert_consistent(desk: &TestDesk, context: &str) {
    let status = desk.status();
    assert!(
        status.is_empty(),
        "{context}: git status not clean:\n{status}"
    );
    let fsck = Command::new("git")
        .current_dir(&desk.root)
        .args(["fsck", "--no-progress", "--no-dangling"])
        .output()
        .unwrap();
    assert!(
        fsck.status.success(),
        "{context}: git fsck failed:\n{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
    let check = desk.run(&at(100_000), &["check"]);
    assert!(
        check.status.success(),
        "{context}: mesa check failed:\n{}\n{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
}

fn head_text(desk: &TestDesk, id: &str) -> String {
    let rel = desk
        .ticket_path(id)
        .strip_prefix(&desk.root)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/");
    git(&desk.root, &["show", &format!("HEAD:{rel}")])
}

#[test]
fn kill_9_at_random_points_never_loses_a_reported_step() {
    let desk = TestDesk::new();
    let id = desk.new_ticket(&at(0), &[]);
    // How long one step takes (the median of five, so one slow first run does not stretch
    // it), to spread the kills over all of it.
    let mut times: Vec<Duration> = (0..5)
        .map(|k| {
            let started = Instant::now();
            let text = format!("warm-up {k}");
            desk.ok(&at(1), &["comment", &id, "--text", text.as_str()]);
            started.elapsed()
        })
        .collect();
    times.sort();
    let typical = times[2].max(Duration::from_millis(5));
    let runs: u64 = std::env::var("MESA_KILL_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let mut reported: Vec<String> = Vec::new();
    let mut killed = 0;
    let budget = Instant::now();
    let mut done = 0;
    for i in 0..runs {
        if i >= 100 && budget.elapsed() > Duration::from_secs(90) {
            break;
        }
        done = i + 1;
        let text = format!("step-{i}");
        let public = i % 3 == 0;
        let mut args = vec!["comment", id.as_str(), "--text", text.as_str()];
        if public {
            args.push("--public");
        }
        let mut child = command(&desk, &at(10 + i), &args).spawn().unwrap();
        let delay = Duration::from_micros(rng.below(typical.as_micros() as u64));
        std::thread::sleep(delay);
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            reported.push(text);
            assert_consistent(&desk, &format!("after {i}, which finished"));
        } else if out.status.code().is_some() {
            // It ended by itself with an error: only the lock may refuse it (never a raw git
            // error), and then it changed nothing.
            panic!(
                "run {i} failed on its own:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            killed += 1;
            // Half the time the repair comes from the next step, half from doctor.
            if rng.below(2) == 0 {
                let o = desk.run(&at(10 + i), &["doctor", "--repair"]);
                assert!(
                    o.status.success(),
                    "doctor --repair after kill {i}:\n{}",
                    String::from_utf8_lossy(&o.stderr)
                );
                assert_consistent(&desk, &format!("doctor after kill {i}"));
            }
        }
    }
    // The next command repairs whatever the last kill left.
    desk.ok(&at(10 + done), &["comment", &id, "--text", "final"]);
    reported.push("final".into());
    assert_consistent(&desk, "at the end");
    let head = head_text(&desk, &id);
    for r in &reported {
        assert!(
            head.contains(&format!("text: {r}\n")),
            "reported step {r} is not in HEAD"
        );
    }
    // The log replays and no git lock or step record is left behind.
    let gitdir = desk.root.join(".git");
    for f in [
        "index.lock",
        "HEAD.lock",
        "refs/heads/main.lock",
        "mesa.lock",
        "mesa-step.json",
    ] {
        assert!(!gitdir.join(f).exists(), "{f} left behind");
    }
    assert!(
        killed > done / 4,
        "only {killed} of {done} runs were killed mid-way"
    );
    eprintln!(
        "{done} runs, {killed} killed mid-way, {} reported",
        reported.len()
    );
}

#[test]
fn concurrent_commands_wait_for_each_other() {
    let desk = TestDesk::new();
    let a = desk.new_ticket(&at(0), &[]);
    let b = desk.new_ticket(&at(1), &[]);
    let mut children = Vec::new();
    for i in 0..8u64 {
        let id = if i % 2 == 0 { &a } else { &b };
        let text = format!("together-{i}");
        children.push((
            text.clone(),
            command(&desk, &at(10), &["comment", id, "--text", &text])
                .spawn()
                .unwrap(),
        ));
    }
    for (text, child) in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{text}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_consistent(&desk, "after 8 commands at once");
    let (ha, hb) = (head_text(&desk, &a), head_text(&desk, &b));
    for i in 0..8 {
        let h = if i % 2 == 0 { &ha } else { &hb };
        assert!(h.contains(&format!("text: together-{i}\n")), "together-{i}");
    }
}

/// `/proc/self/stat` field 22: this process's start time, as the lock records it.
fn own_start() -> String {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 1..];
    after.split_whitespace().nth(19).unwrap().to_string()
}

#[test]
fn a_busy_desk_names_the_other_command() {
    if !Path::new("/proc/self/stat").exists() {
        eprintln!("skipped: no /proc");
        return;
    }
    let desk = TestDesk::new();
    let id = desk.new_ticket(&at(0), &[]);
    let lock = desk.root.join(".git/mesa.lock");
    std::fs::write(
        &lock,
        format!(
            "pid {}\nstart {}\ncommand mesa assign {id} --to otro\n",
            std::process::id(),
            own_start()
        ),
    )
    .unwrap();
    let started = Instant::now();
    let out = command(&desk, &at(5), &["comment", &id, "--text", "x"])
        .env("MESA_LOCK_WAIT", "0.5")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("mesa assign {id} --to otro")),
        "{err}"
    );
    assert!(err.contains(&std::process::id().to_string()), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(500), "it waited");
    assert!(lock.exists(), "a live holder's lock is left alone");
    assert!(!head_text(&desk, &id).contains("text: x\n"));
    // `mesa doctor` reports the holder without touching it.
    let o = desk.run(&at(6), &["doctor"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("mesa assign"));
    std::fs::remove_file(&lock).unwrap();
    desk.ok(&at(7), &["comment", &id, "--text", "x"]);
}

#[test]
fn a_dead_commands_locks_are_removed_and_the_step_goes_on() {
    let desk = TestDesk::new();
    let id = desk.new_ticket(&at(0), &[]);
    // A process that has ended: its pid is free.
    let mut gone = Command::new("true").spawn().unwrap();
    let pid = gone.id();
    gone.wait().unwrap();
    let gitdir = desk.root.join(".git");
    std::fs::write(
        gitdir.join("mesa.lock"),
        format!("pid {pid}\nstart 1\ncommand mesa close {id}\n"),
    )
    .unwrap();
    std::fs::write(gitdir.join("index.lock"), "").unwrap();
    std::fs::write(gitdir.join("refs/heads/main.lock"), "").unwrap();
    let out = desk.run(&at(5), &["comment", &id, "--text", "after the crash"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("index.lock"), "the repair is reported: {err}");
    for f in ["mesa.lock", "index.lock", "refs/heads/main.lock"] {
        assert!(!gitdir.join(f).exists(), "{f} removed");
    }
    assert!(head_text(&desk, &id).contains("text: after the crash\n"));
    assert_consistent(&desk, "after taking over a dead lock");
}

#[test]
fn an_index_behind_head_is_found_and_repaired() {
    let desk = TestDesk::new();
    let id = desk.new_ticket(&at(0), &[]);
    desk.ok(&at(1), &["comment", &id, "--text", "committed step"]);
    let rel = desk
        .ticket_path(&id)
        .strip_prefix(&desk.root)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    // What a kill between the commit and the index write leaves: HEAD and the file have the
    // step, the index has the ticket as it was before.
    git(&desk.root, &["reset", "-q", "HEAD~1", "--", &rel]);
    assert!(!desk.status().is_empty());
    let o = desk.run(&at(2), &["doctor"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&rel),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    desk.ok(&at(2), &["doctor", "--repair"]);
    assert_consistent(&desk, "after doctor --repair");
    // A plain `git commit` now has nothing to revert.
    let c = Command::new("git")
        .current_dir(&desk.root)
        .args(["commit", "-q", "-m", "nothing"])
        .output()
        .unwrap();
    assert!(!c.status.success(), "nothing staged");
    assert!(head_text(&desk, &id).contains("text: committed step\n"));
}
