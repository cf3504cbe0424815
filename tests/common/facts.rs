//! The facts-cache tests' kit: everything `mesa check`, `mesa report` and `mesa list` answer
//! about a desk, run with whatever cache the desk has, and the same with the cache deleted.

use super::git::MESA;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The instant every answer is computed at (after the generated desks' last event).
pub const NOW: &str = "2026-11-30T10:00:00-05:00";

/// What the three commands print (stdout, stderr, exit code), in several forms.
#[derive(Debug, PartialEq, Eq)]
pub struct Answers(pub Vec<(String, String, String, Option<i32>)>);

const RUNS: &[&[&str]] = &[
    &["check", "--format", "json"],
    &["check"],
    &["report", "--format", "json"],
    &["report", "--by", "customer", "--format", "json"],
    &[
        "report",
        "--by",
        "month",
        "--from",
        "2026-09-01",
        "--to",
        "2026-11-01",
    ],
    &[
        "report",
        "--by",
        "agent",
        "--to",
        "2026-10-15",
        "--format",
        "csv",
    ],
    &["list"],
    &["list", "--breached", "--sort", "updated"],
    &[
        "list", "--format", "csv", "--status", "closed", "--sort", "priority",
    ],
    &["list", "--format", "json", "--open"],
    &["list", "--open", "--sort", "updated"],
    // Settled rows sort by their last event as the cache keeps it (an instant, format 4).
    &["list", "--status", "closed", "--sort", "updated"],
    &["list", "--unread", "--sort", "id"],
    &["report", "--by", "priority"],
];

/// Runs `mesa` on `desk` at [`NOW`] with extra global arguments.
pub fn run(
    desk: &Path,
    mesa: &Path,
    global: &[&str],
    args: &[&str],
) -> (String, String, Option<i32>) {
    run_at(desk, mesa, NOW, global, args)
}

/// [`run`] at the instant `now`.
pub fn run_at(
    desk: &Path,
    mesa: &Path,
    now: &str,
    global: &[&str],
    args: &[&str],
) -> (String, String, Option<i32>) {
    // The instant as the benchmark and scheduled runs give it: `MESA_NOW`.
    let out = Command::new(mesa)
        .arg("--desk")
        .arg(desk)
        .args(global)
        .args(args)
        .env_remove("MESA_DESK")
        .env_remove("MESA_LANG")
        .env("MESA_NOW", now)
        .env_remove("MESA_AGENT")
        .output()
        .expect("run mesa");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// Every answer, with the cache as it is (and updating it as the commands do).
pub fn answers_with(desk: &Path, mesa: &Path, global: &[&str]) -> Answers {
    Answers(
        RUNS.iter()
            .map(|args| {
                let (o, e, c) = run(desk, mesa, global, args);
                (args.join(" "), o, e, c)
            })
            .collect(),
    )
}

pub fn answers(desk: &Path) -> Answers {
    answers_with(desk, Path::new(MESA), &[])
}

/// Every answer at the instant `now`, with the cache as it is.
pub fn answers_at(desk: &Path, now: &str) -> Answers {
    Answers(
        RUNS.iter()
            .map(|args| {
                let (o, e, c) = run_at(desk, Path::new(MESA), now, &[], args);
                (args.join(" "), o, e, c)
            })
            .collect(),
    )
}

/// The answers at `now` of a cold run (the cache deleted first and after).
pub fn cold_answers_at(desk: &Path, now: &str) -> Answers {
    let dir = cache_dir(desk);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove cache");
    }
    let a = answers_at(desk, now);
    std::fs::remove_dir_all(&dir).expect("remove cache");
    a
}

/// The cache's folder (inside the git directory of the desk's repository).
pub fn cache_dir(desk: &Path) -> PathBuf {
    let out = Command::new("git")
        .current_dir(desk)
        .args(["rev-parse", "--absolute-git-dir"])
        .output()
        .expect("git");
    assert!(out.status.success(), "the desk is not in git");
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("mesa")
}

/// The answers of a cold run: the cache deleted first (the run writes it again).
pub fn cold_answers_with(desk: &Path, global: &[&str]) -> Answers {
    let dir = cache_dir(desk);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("remove cache");
    }
    let a = answers_with(desk, Path::new(MESA), global);
    std::fs::remove_dir_all(&dir).expect("remove cache");
    a
}

pub fn cold_answers(desk: &Path) -> Answers {
    cold_answers_with(desk, &[])
}

/// Asserts two sets of answers are equal, naming the first command that differs.
pub fn assert_same(got: &Answers, want: &Answers, what: &str) {
    for (g, w) in got.0.iter().zip(&want.0) {
        assert_eq!(g, w, "{what}: `mesa {}` differs from a cold run", g.0);
    }
    assert_eq!(got.0.len(), want.0.len());
}

/// Asserts a change made a difference to at least one answer (so a cache that ignored it
/// would be caught).
pub fn assert_changed(before: &Answers, after: &Answers, what: &str) {
    assert_ne!(
        before, after,
        "{what} changed no answer: the test would prove nothing"
    );
}
