//! One writer per desk at a time: a lock file in the repository's git folder
//! (`.git/mesa.lock`) holding the writer's pid, start time and command. A second command
//! waits a few seconds for it, then stops with a message naming the holder. A lock whose
//! holder no longer runs (a `kill -9`, a power cut) is recognised and taken over; the git
//! `*.lock` files that holder left are removed, and its half-done step is repaired (see
//! [`crate::store::journal`]) before the new command reads anything.

use crate::model::diag::{Error, Result};
use crate::tr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

/// The lock file's name inside the git folder.
pub const LOCK_FILE: &str = "mesa.lock";

/// How long a command waits for another one to finish (`MESA_LOCK_WAIT`, in seconds, changes it).
const DEFAULT_WAIT: Duration = Duration::from_secs(5);

/// A held desk lock; released when the last holder in this process drops it.
#[derive(Debug)]
pub struct DeskLock {
    path: PathBuf,
    /// What taking the lock repaired, for the command to mention.
    pub repaired: Vec<String>,
    /// A repaired step whose emails the caller (which may use the mail layer) queues again.
    pub requeue: Option<crate::store::journal::Requeue>,
}

/// The desk locks this process holds, with how many holders each: a front end may take the
/// lock and then call a step that takes it again.
static HELD: Mutex<Vec<(PathBuf, usize)>> = Mutex::new(Vec::new());

impl Drop for DeskLock {
    fn drop(&mut self) {
        let Ok(mut held) = HELD.lock() else {
            return;
        };
        if let Some(pos) = held.iter().position(|(p, _)| *p == self.path) {
            held[pos].1 -= 1;
            if held[pos].1 == 0 {
                held.remove(pos);
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

use crate::store::holder::process_start;
pub use crate::store::holder::Holder;

/// The git folder of the repository holding `root`.
pub fn git_dir(root: &Path) -> Result<PathBuf> {
    let repo = crate::store::git::open_repo(root)?;
    Ok(repo.path().to_path_buf())
}

/// Takes the desk lock for `command`, waiting up to a few seconds for another command to
/// finish, then repairs what a killed command left behind.
pub fn acquire(root: &Path, command: &str) -> Result<DeskLock> {
    let wait = std::env::var("MESA_LOCK_WAIT")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_WAIT);
    // A desk outside git (steps with --no-commit) is locked by a file in the desk itself.
    let in_git = git_dir(root).ok();
    let (dir, path) = match &in_git {
        Some(d) => (d.clone(), d.join(LOCK_FILE)),
        None => (root.to_path_buf(), root.join(format!(".{LOCK_FILE}"))),
    };
    // Taken again by this process: one more holder, nothing to wait for or repair.
    if let Ok(mut held) = HELD.lock() {
        if let Some(entry) = held.iter_mut().find(|(p, _)| *p == path) {
            entry.1 += 1;
            return Ok(DeskLock {
                path,
                repaired: Vec::new(),
                requeue: None,
            });
        }
    }
    let me = Holder::me(command);
    let deadline = Instant::now() + wait;
    // A command killed while taking over a dead holder's lock leaves that lock renamed aside
    // (`.mesa.lock.PID.stale`): it still dates what the dead holder left.
    let mut stale_since: Option<SystemTime> = dead_asides(&dir).into_iter().min();
    loop {
        match try_create(&dir, &path, &me, stale_since) {
            Ok(()) => break,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(Error::Message(tr!(
                    "lock.failed",
                    path = path.display(),
                    error = e
                )))
            }
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let holder = Holder::parse(&text);
        let dead = holder.as_ref().is_none_or(|h| !h.alive());
        if dead {
            // The file is created whole (see `try_create`), so an unreadable or dead holder's
            // lock is stale: take it over.
            if let Some(mtime) = take_over(&dir, &path, &text) {
                stale_since = Some(stale_since.map_or(mtime, |s| s.min(mtime)));
            }
            continue;
        }
        if Instant::now() >= deadline {
            let h = holder.unwrap_or(Holder {
                pid: 0,
                start: None,
                command: String::new(),
            });
            return Err(Error::Message(tr!(
                "lock.busy",
                command = h.command,
                pid = h.pid,
                seconds = wait.as_secs_f64().round(),
                path = path.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    if stale_since.is_some() {
        let _ = std::fs::remove_file(dir.join(format!(".mesa.lock.{}.stale", std::process::id())));
    }
    if let Ok(mut held) = HELD.lock() {
        held.push((path.clone(), 1));
    }
    let mut lock = DeskLock {
        path,
        repaired: Vec::new(),
        requeue: None,
    };
    if in_git.is_none() {
        return Ok(lock);
    }
    if let Some(since) = stale_since {
        // The new lock was created with the dead holder's time (`try_create`): if this command
        // is killed before its repair is done, the next one still removes the git locks the
        // first holder left.
        lock.repaired.extend(remove_git_locks(&dir, since));
    }
    remove_dead_temps(&dir);
    lock.repaired.extend(remove_dead_index_lock(&dir));
    let (notes, requeue) = crate::store::repair::recover(root)?;
    lock.repaired.extend(notes);
    lock.requeue = requeue;
    Ok(lock)
}

/// Removes `index.lock` when mesa wrote it ([`crate::store::holder::git_lock_marker`]) and its holder no longer
/// runs. A git command's lock holds index data (or nothing yet) and is never touched here.
fn remove_dead_index_lock(dir: &Path) -> Option<String> {
    let path = dir.join("index.lock");
    let text = std::fs::read_to_string(&path).ok()?;
    let holder = Holder::parse(&text)?;
    if holder.alive() || !text.starts_with("pid ") {
        return None;
    }
    std::fs::remove_file(&path).ok()?;
    Some(tr!("lock.removed_git_lock", file = "index.lock"))
}

/// Creates the lock file with its contents in one step: written to a temp file, then hard
/// linked into place (which fails when the lock exists), so no reader sees it half written.
/// A lock taken over from a dead holder carries that holder's time (`since`) from the moment it
/// exists.
fn try_create(
    dir: &Path,
    path: &Path,
    me: &Holder,
    since: Option<SystemTime>,
) -> std::io::Result<()> {
    let tmp = dir.join(format!(".mesa.lock.{}.tmp", me.pid));
    std::fs::write(&tmp, me.to_text())?;
    if let Some(t) = since {
        std::fs::File::options()
            .write(true)
            .open(&tmp)
            .and_then(|f| f.set_modified(t))?;
    }
    let r = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    r
}

/// Removes the temporary lock files (`.mesa.lock.PID.tmp`, `.stale`) of processes that no longer
/// run (killed between writing one and linking it). A live process's are left alone.
fn remove_dead_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        // `.mesa.lock.PID.tmp`, `.mesa.lock.PID.stale`, and the next index a commit was
        // writing, `.mesa-index.PID.tmp` (see `crate::store::git`).
        let Some(rest) = name
            .strip_prefix(".mesa.lock.")
            .or_else(|| name.strip_prefix(".mesa-index."))
        else {
            continue;
        };
        let Some((pid, _)) = rest.split_once('.') else {
            continue;
        };
        let dead = pid
            .parse::<u32>()
            .is_ok_and(|p| cfg!(target_os = "linux") && process_start(p).is_none());
        if dead {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The times of the dead holders' locks that a command killed mid-takeover left renamed aside
/// (`.mesa.lock.PID.stale` of a process that no longer runs; renaming keeps the time).
fn dead_asides(dir: &Path) -> Vec<SystemTime> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix(".mesa.lock.")
                .and_then(|r| r.strip_suffix(".stale"))
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|p| cfg!(target_os = "linux") && process_start(p).is_none())
        })
        .filter_map(|e| e.metadata().and_then(|m| m.modified()).ok())
        .collect()
}

/// Takes a dead holder's lock out of the way: renamed aside (only one waiter wins the rename),
/// checked to still be the dead holder's. Returns when it was taken.
fn take_over(dir: &Path, path: &Path, seen: &str) -> Option<SystemTime> {
    let aside = dir.join(format!(".mesa.lock.{}.stale", std::process::id()));
    let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
    std::fs::rename(path, &aside).ok()?;
    let now = std::fs::read_to_string(&aside).unwrap_or_default();
    if now != seen {
        // Another waiter replaced the dead lock first: this one is alive; put it back.
        let _ = std::fs::hard_link(&aside, path);
        let _ = std::fs::remove_file(&aside);
        return None;
    }
    // The aside stays until this command's own lock exists (`acquire`), so that being killed
    // in between still leaves the dead holder's time behind.
    Some(mtime)
}

/// Removes the git `*.lock` files (index, HEAD, refs) a dead mesa left: only those made after
/// its desk lock, which no other program makes while a desk lock is held by mesa. Returns
/// what was removed, for the report.
fn remove_git_locks(git_dir: &Path, since: SystemTime) -> Vec<String> {
    let since = since - Duration::from_secs(1);
    let mut removed = Vec::new();
    let mut candidates = vec![git_dir.join("index.lock"), git_dir.join("HEAD.lock")];
    for e in walkdir::WalkDir::new(git_dir.join("refs"))
        .into_iter()
        .filter_map(|e| e.ok())
    {
        if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "lock") {
            candidates.push(e.into_path());
        }
    }
    candidates.push(git_dir.join("packed-refs.lock"));
    for c in candidates {
        let recent = std::fs::metadata(&c)
            .and_then(|m| m.modified())
            .is_ok_and(|m| m >= since);
        if recent && std::fs::remove_file(&c).is_ok() {
            let name = c.strip_prefix(git_dir).unwrap_or(&c).display().to_string();
            removed.push(tr!("lock.removed_git_lock", file = name));
        }
    }
    removed
}

/// What `mesa doctor` reports about the lock: the holder when one runs, a dead holder's lock.
pub fn status(root: &Path) -> Result<Option<(Holder, bool)>> {
    let path = git_dir(root)?.join(LOCK_FILE);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let holder = Holder::parse(&text).unwrap_or(Holder {
        pid: 0,
        start: None,
        command: String::new(),
    });
    let alive = holder.alive();
    Ok(Some((holder, alive)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command killed while it repaired a dead holder's leftovers hands the same repair on:
    /// the git lock the first holder left is removed by the command after it.
    #[test]
    fn a_taken_over_lock_keeps_the_dead_holders_time() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        git2::Repository::init(root).unwrap();
        let git = root.join(".git");
        let dead = |command: &str| {
            let me = Holder::me(command);
            Holder {
                start: me.start.map(|s| s + 1),
                ..me
            }
        };
        let old = SystemTime::now() - Duration::from_secs(30);
        let set_mtime = |p: &Path, t: SystemTime| {
            std::fs::File::options()
                .write(true)
                .open(p)
                .unwrap()
                .set_modified(t)
                .unwrap();
        };
        // The first holder took the lock 30 s ago and died holding a ref lock.
        std::fs::write(git.join(LOCK_FILE), dead("first").to_text()).unwrap();
        set_mtime(&git.join(LOCK_FILE), old);
        let ref_lock = git.join("refs/heads/main.lock");
        std::fs::write(&ref_lock, "").unwrap();
        set_mtime(&ref_lock, old + Duration::from_secs(5));
        let lock = acquire(root, "second").unwrap();
        assert!(!ref_lock.exists(), "the dead holder's ref lock is removed");
        let kept = std::fs::metadata(git.join(LOCK_FILE))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(kept, old, "the new lock carries the dead holder's time");
        drop(lock);
    }

    /// A command killed in the middle of taking over a dead holder's lock (the dead lock
    /// renamed aside, its own not yet made) leaves no desk lock: the aside still dates what
    /// the first holder left, so the next command removes its ref lock, and the aside.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_takeover_killed_midway_still_dates_the_dead_holders_leftovers() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        git2::Repository::init(root).unwrap();
        let git = root.join(".git");
        let old = SystemTime::now() - Duration::from_secs(30);
        // No process has this pid (above Linux's largest, 2^22).
        let aside = git.join(".mesa.lock.4294967000.stale");
        std::fs::write(&aside, "pid 1\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&aside)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let ref_lock = git.join("refs/heads/main.lock");
        std::fs::write(&ref_lock, "").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&ref_lock)
            .unwrap()
            .set_modified(old + Duration::from_secs(5))
            .unwrap();
        let lock = acquire(root, "third").unwrap();
        assert!(!ref_lock.exists(), "the first holder's ref lock is removed");
        assert!(!aside.exists(), "the aside is cleaned up");
        drop(lock);
    }

    #[test]
    fn holder_round_trips_and_this_process_is_alive() {
        let me = Holder::me("mesa assign X");
        assert_eq!(Holder::parse(&me.to_text()), Some(me.clone()));
        assert!(me.alive());
        let dead = Holder {
            pid: me.pid,
            start: me.start.map(|s| s + 1),
            command: "x".into(),
        };
        if cfg!(target_os = "linux") {
            assert!(
                !dead.alive(),
                "a reused pid with another start time is dead"
            );
        }
    }
}
