//! The one-commit path patches the git index as bytes instead of loading and rewriting it
//! through libgit2 (`store::raw_index`). Real binary, real git: after a step the index is
//! exactly what git itself would have made (status clean, nothing staged, `git write-tree`
//! gives HEAD's tree, so the cache tree was invalidated where it had to be), whatever index
//! version and extensions git wrote; a user's own staged work is neither committed nor lost;
//! the lock a killed command left is cleared by the next one, and a git command's lock is
//! respected.

mod common;

use common::git::{git, TestDesk};
use std::path::Path;
use std::process::Command;

const T0: &str = "2026-11-02T08:00:00-05:00";
const T1: &str = "2026-11-02T09:00:00-05:00";
const T2: &str = "2026-11-02T10:00:00-05:00";

fn git_env(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The index agrees with HEAD and the working folder the way a `git commit` leaves it.
fn assert_as_git_leaves_it(desk: &TestDesk, context: &str) {
    let root = &desk.root;
    assert_eq!(desk.status(), "", "{context}: git status not clean");
    assert_eq!(
        git(root, &["diff", "--cached", "--name-only"]),
        "",
        "{context}: something staged"
    );
    let head_tree = git(root, &["rev-parse", "HEAD^{tree}"]);
    // From the index as it is, cache tree included: a stale cache tree gives the old tree.
    assert_eq!(
        git(root, &["write-tree"]),
        head_tree,
        "{context}: the index's tree is not HEAD's"
    );
    // What `git add -A` makes of the working folder, in a scratch index.
    let scratch = tempfile::NamedTempFile::new().unwrap();
    std::fs::copy(root.join(".git/index"), scratch.path()).unwrap();
    let env = [("GIT_INDEX_FILE", scratch.path().to_str().unwrap())];
    git_env(root, &env, &["add", "-A"]);
    assert_eq!(
        git_env(root, &env, &["write-tree"]),
        head_tree,
        "{context}: the commit is not what git add -A gives"
    );
    let fsck = Command::new("git")
        .current_dir(root)
        .args(["fsck", "--no-progress", "--no-dangling"])
        .output()
        .unwrap();
    assert!(
        fsck.status.success(),
        "{context}: git fsck: {}",
        String::from_utf8_lossy(&fsck.stderr)
    );
}

fn index_version(root: &Path) -> u32 {
    let b = std::fs::read(root.join(".git/index")).unwrap();
    u32::from_be_bytes([b[4], b[5], b[6], b[7]])
}

/// Runs the steps that change, add and (with the month folder new) create entries.
fn steps(desk: &TestDesk, context: &str) {
    let a = desk.new_ticket(T0, &[]);
    assert_as_git_leaves_it(desk, &format!("{context}: new"));
    desk.ok(T1, &["comment", &a, "--text", "first look"]);
    assert_as_git_leaves_it(desk, &format!("{context}: comment"));
    let b = desk.new_ticket(T1, &[]);
    assert_as_git_leaves_it(desk, &format!("{context}: second new"));
    desk.ok(T2, &["assign", &b, "--to", "dcastro"]);
    assert_as_git_leaves_it(desk, &format!("{context}: assign"));
    desk.ok(T2, &["comment", &a, "--text", "second look", "--public"]);
    assert_as_git_leaves_it(desk, &format!("{context}: public comment"));
}

#[test]
fn a_step_leaves_the_index_as_git_would() {
    let desk = TestDesk::new();
    // A cache tree for every folder, as `git commit` leaves it.
    git(&desk.root, &["write-tree"]);
    steps(&desk, "index v2");
    assert_eq!(
        git(&desk.root, &["log", "--format=%an", "-1"]).trim(),
        "Laura Martínez"
    );
}

/// Each tree along a ticket's path is patched as bytes (`store::raw_tree`), not rebuilt: a
/// folder of many tickets gets entries inserted before, between and after the others (case
/// numbers are random), replaced, and new month and year folders appear; every commit is the
/// tree `git add -A` gives.
#[test]
fn trees_patched_as_bytes_are_the_trees_git_writes() {
    let desk = TestDesk::new();
    let mut ids = Vec::new();
    for i in 0..10 {
        let now = format!("2026-11-02T08:{:02}:00-05:00", i * 3);
        ids.push(desk.new_ticket(&now, &[]));
        assert_as_git_leaves_it(&desk, &format!("new ticket {i}"));
    }
    for (i, id) in ids.iter().enumerate().step_by(3) {
        desk.ok(T2, &["comment", id, "--text", &format!("look {i}")]);
        assert_as_git_leaves_it(&desk, &format!("comment {i}"));
    }
    for now in ["2026-12-01T08:00:00-05:00", "2027-01-04T08:00:00-05:00"] {
        let id = desk.new_ticket(now, &[]);
        assert_as_git_leaves_it(&desk, &format!("new folder for {id}"));
    }
}

#[test]
fn indexes_git_writes_with_version_4_and_extensions_still_work() {
    let desk = TestDesk::new();
    let root = &desk.root;
    // Version 4 (prefix-compressed paths), the untracked cache, a cache tree.
    git(root, &["config", "core.untrackedCache", "true"]);
    git(root, &["update-index", "--index-version", "4"]);
    git(root, &["update-index", "--untracked-cache"]);
    git(root, &["status", "--porcelain"]);
    git(root, &["write-tree"]);
    assert_eq!(index_version(root), 4);
    steps(&desk, "index v4");
    assert_eq!(index_version(root), 4, "the version is kept");
    // Git rewrites the index its own way afterwards and mesa still reads it.
    git(root, &["update-index", "--index-version", "3"]);
    git(root, &["update-index", "--skip-worktree", "desk.yaml"]);
    assert_eq!(index_version(root), 3);
    steps(&desk, "index v3 with a skip-worktree entry");
    git(root, &["update-index", "--no-skip-worktree", "desk.yaml"]);
    git(root, &["config", "index.skipHash", "true"]);
    git(root, &["update-index", "--index-version", "2"]);
    steps(&desk, "index v2 without checksum");
}

#[test]
fn the_users_staged_work_is_neither_committed_nor_lost() {
    let desk = TestDesk::new();
    let root = &desk.root;
    let id = desk.new_ticket(T0, &[]);
    // Staged: a new file and a change to a tracked one; unstaged: another change.
    std::fs::write(root.join("notes.txt"), "staged notes\n").unwrap();
    let desk_yaml = std::fs::read_to_string(root.join("desk.yaml")).unwrap();
    std::fs::write(root.join("desk.yaml"), format!("{desk_yaml}# staged\n")).unwrap();
    git(root, &["add", "notes.txt", "desk.yaml"]);
    std::fs::write(
        root.join("desk.yaml"),
        format!("{desk_yaml}# staged\n# not staged\n"),
    )
    .unwrap();
    let staged_before = git(root, &["diff", "--cached"]);
    desk.ok(T1, &["comment", &id, "--text", "while the user works"]);
    let rel = desk
        .ticket_path(&id)
        .strip_prefix(root)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/");
    assert_eq!(
        git(root, &["show", "--name-only", "--format=", "HEAD"]).trim(),
        rel,
        "the commit holds the ticket only"
    );
    assert_eq!(
        git(root, &["diff", "--cached"]),
        staged_before,
        "the staged work is still staged, unchanged"
    );
    assert_eq!(
        git(root, &["status", "--porcelain"]),
        "MM desk.yaml\nA  notes.txt\n"
    );
    assert!(std::fs::read_to_string(root.join("desk.yaml"))
        .unwrap()
        .ends_with("# not staged\n"));
}

/// A process id that no longer runs (a child that exited).
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn a_killed_commands_index_lock_is_cleared_and_a_git_lock_respected() {
    let desk = TestDesk::new();
    let root = &desk.root;
    let id = desk.new_ticket(T0, &[]);
    // What a mesa killed between taking index.lock and renaming its next index leaves.
    let pid = dead_pid();
    let lock = root.join(".git/index.lock");
    std::fs::write(&lock, format!("pid {pid}\nstart 1\ncommand mesa commit\n")).unwrap();
    let tmp = root.join(format!(".git/.mesa-index.{pid}.tmp"));
    std::fs::write(&tmp, "half an index").unwrap();
    desk.ok(T1, &["comment", &id, "--text", "after the kill"]);
    assert!(!lock.exists(), "the dead command's lock is removed");
    assert!(!tmp.exists(), "its half-written index is removed");
    assert_as_git_leaves_it(&desk, "after the repair");

    // A git command holding the index (its lock has no mesa marker): refused, nothing written.
    std::fs::write(&lock, "").unwrap();
    let err = desk.refused(T2, &["comment", &id, "--text", "while git runs"]);
    assert!(err.contains("index.lock"), "{err}");
    assert!(lock.exists(), "git's lock is left alone");
    std::fs::remove_file(&lock).unwrap();
    desk.ok(T2, &["comment", &id, "--text", "after git"]);
    assert_as_git_leaves_it(&desk, "after git's lock went");
}
