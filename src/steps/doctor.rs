//! What a killed or concurrent command may have left in a clone (a dead holder's desk lock, a
//! half-done step, an index behind HEAD, git `*.lock` files), and the repair. Every writer of
//! tickets repairs the same things when it takes the desk lock; `mesa doctor` is for looking
//! first, or for repairing without a step to do.

use crate::model::diag::Result;
use crate::tr;
use git2::Repository;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Git lock files older than this, with no mesa holding the desk, are left over (git holds
/// them for the length of one operation).
const OLD_GIT_LOCK: Duration = Duration::from_secs(60);

/// The stale index of [`crate::store::doctor::stale_index`], for a desk at `root`.
fn stale_index(repo: &Repository, root: &Path) -> Result<Vec<PathBuf>> {
    let Some(workdir) = repo.workdir() else {
        return Ok(Vec::new());
    };
    let workdir = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    crate::store::doctor::stale_index(repo, &workdir, &root)
}

fn old_git_locks(git_dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut candidates = vec![git_dir.join("index.lock"), git_dir.join("HEAD.lock")];
    for e in walkdir::WalkDir::new(git_dir.join("refs"))
        .into_iter()
        .filter_map(|e| e.ok())
    {
        if e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "lock") {
            candidates.push(e.into_path());
        }
    }
    let now = SystemTime::now();
    for c in candidates {
        let old = std::fs::metadata(&c)
            .and_then(|m| m.modified())
            .is_ok_and(|m| now.duration_since(m).unwrap_or_default() >= OLD_GIT_LOCK);
        if old {
            found.push(c);
        }
    }
    found
}

/// What doctor found, or repaired: one line each, in the desk's language.
#[derive(Debug, Default)]
pub struct Findings {
    pub problems: Vec<String>,
    pub repaired: Vec<String>,
    /// A running command holds the desk (not a problem).
    pub notes: Vec<String>,
}

/// Looks at the clone without changing anything.
pub fn examine(root: &Path) -> Result<Findings> {
    let mut f = Findings::default();
    if let Some((holder, alive)) = crate::store::lock::status(root)? {
        let key = if alive {
            "doctor.lock_held"
        } else {
            "doctor.lock_dead"
        };
        let line = tr!(key, command = holder.command, pid = holder.pid);
        if alive {
            f.notes.push(line);
        } else {
            f.problems.push(line);
        }
    }
    if let Some(step) = crate::store::journal::pending(root)? {
        f.problems
            .push(tr!("doctor.step_pending", message = step.message));
    }
    let repo = crate::store::git::open_repo(root)?;
    for l in old_git_locks(repo.path()) {
        f.problems.push(tr!("doctor.git_lock", file = l.display()));
    }
    // A stale index is reported once, by the clone's findings (`store::doctor`), with its fix.
    Ok(f)
}

/// Repairs: takes the desk lock (which takes over a dead holder's, removes the git locks it
/// left and finishes or undoes its step), removes git locks older than a minute, and sets the
/// index to HEAD where it fell behind.
pub fn repair(root: &Path) -> Result<Findings> {
    let mut f = Findings::default();
    let lock = super::lock_desk(root, "mesa doctor --repair")?;
    f.repaired.extend(lock.repaired.iter().cloned());
    let repo = crate::store::git::open_repo(root)?;
    let git_dir = repo.path().to_path_buf();
    for l in old_git_locks(&git_dir) {
        if std::fs::remove_file(&l).is_ok() {
            let name = l.strip_prefix(&git_dir).unwrap_or(&l).display().to_string();
            f.repaired.push(tr!("lock.removed_git_lock", file = name));
        }
    }
    let stale = stale_index(&repo, root)?;
    if !stale.is_empty() {
        let head = repo.head()?.peel_to_commit()?;
        repo.reset_default(Some(head.as_object()), stale.iter())?;
        for p in &stale {
            f.repaired
                .push(tr!("doctor.index_reset", path = p.display()));
        }
    }
    drop(lock);
    Ok(f)
}
