//! One index write per run instead of one per commit, for a front end that makes many commits
//! in one process (`mesa inbox import`: a commit per message).
//!
//! Every commit of [`crate::store::git`] rewrites the whole index (10 MB on a desk of 100,000
//! tickets), most of what a commit costs. Inside an [`IndexBatch`] a commit still makes its
//! commit object and moves HEAD, but its index entries are kept in memory: a later commit of
//! the run sees them (so a ticket changed twice is still found clean), and the index is
//! written once, with all of them, when the batch ends.
//!
//! Crash safety: before the first commit whose index write is deferred, `.git/mesa-index-behind`
//! records the commit the index on disk agrees with. A process killed mid-run leaves it behind;
//! the next command, holding the desk lock, sets the index to HEAD for every path that changed
//! between that commit and HEAD ([`recover`]) and removes it, so `git status` is clean again and
//! a plain `git commit` cannot silently revert the run's commits.

use crate::model::diag::{Error, Result};
use crate::store::raw_index::{Found, NewEntry, Update};
use git2::{Oid, Repository};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The marker of an index that is behind HEAD, in the git directory.
pub const MARKER_FILE: &str = "mesa-index-behind";

/// The open batch of this thread.
struct Pending {
    git_dir: PathBuf,
    /// Whether the marker is written (it is, before the first deferred commit).
    marked: bool,
    /// Per path (`/`-separated), the entry the index must get (`None`: removed).
    updates: BTreeMap<Vec<u8>, Option<NewEntry>>,
}

thread_local! {
    static OPEN: RefCell<Option<Pending>> = const { RefCell::new(None) };
}

/// Defers the index writes of this thread's commits in the repository of `root` until it is
/// [`IndexBatch::finish`]ed or dropped. Hold the desk lock for as long as it lives.
pub struct IndexBatch {
    root: PathBuf,
    /// Not `Send`: the batch belongs to the thread that commits.
    _thread: std::marker::PhantomData<*const ()>,
}

impl IndexBatch {
    pub fn start(root: &Path) -> Result<IndexBatch> {
        let repo = crate::store::git::open_repo(root)?;
        OPEN.with(|o| {
            *o.borrow_mut() = Some(Pending {
                git_dir: repo.path().to_path_buf(),
                marked: false,
                updates: BTreeMap::new(),
            })
        });
        Ok(IndexBatch {
            root: root.to_path_buf(),
            _thread: std::marker::PhantomData,
        })
    }

    /// Writes the index with every deferred entry and removes the marker.
    pub fn finish(self) -> Result<()> {
        let r = flush(&self.root);
        OPEN.with(|o| o.borrow_mut().take());
        r
    }
}

impl Drop for IndexBatch {
    fn drop(&mut self) {
        // After an error the marker stays, and the next command repairs the index.
        let _ = flush(&self.root);
        OPEN.with(|o| o.borrow_mut().take());
    }
}

/// Whether commits in the repository at `git_dir` defer their index writes.
pub(crate) fn deferring(git_dir: &Path) -> bool {
    OPEN.with(|o| o.borrow().as_ref().is_some_and(|p| p.git_dir == git_dir))
}

/// The entry a deferred commit gave `path`: `Some(None)` removed, `None` not deferred.
pub(crate) fn staged(git_dir: &Path, path: &[u8]) -> Option<Option<Found>> {
    OPEN.with(|o| {
        let o = o.borrow();
        let p = o.as_ref().filter(|p| p.git_dir == git_dir)?;
        p.updates.get(path).map(|e| {
            e.map(|e| Found {
                oid: e.oid,
                mode: e.mode,
            })
        })
    })
}

/// Called before a commit on `parent` whose index write is deferred: writes the marker (the
/// first time) naming the commit the index on disk agrees with.
pub(crate) fn before_commit(git_dir: &Path, parent: Option<Oid>) -> Result<()> {
    let marked = OPEN.with(|o| o.borrow().as_ref().is_some_and(|p| p.marked));
    if marked {
        return Ok(());
    }
    let text = parent.map_or_else(|| "none".to_string(), |p| p.to_string());
    crate::store::git::write_atomic(&git_dir.join(MARKER_FILE), text.as_bytes())?;
    OPEN.with(|o| {
        if let Some(p) = o.borrow_mut().as_mut() {
            p.marked = true;
        }
    });
    Ok(())
}

/// Keeps the index entries of a commit that was made.
pub(crate) fn after_commit(updates: Vec<Update>) {
    OPEN.with(|o| {
        if let Some(p) = o.borrow_mut().as_mut() {
            for u in updates {
                p.updates.insert(u.path, u.entry);
            }
        }
    });
}

/// Writes the deferred entries into the index now (before a commit that must read the whole
/// index, and when the batch ends) and removes the marker. The batch stays open.
pub fn flush(root: &Path) -> Result<()> {
    let taken = OPEN.with(|o| {
        o.borrow_mut().as_mut().map(|p| {
            let updates: Vec<Update> = std::mem::take(&mut p.updates)
                .into_iter()
                .map(|(path, entry)| Update { path, entry })
                .collect();
            (p.git_dir.clone(), updates, std::mem::take(&mut p.marked))
        })
    });
    let Some((git_dir, updates, marked)) = taken else {
        return Ok(());
    };
    if !updates.is_empty() {
        let repo = crate::store::git::open_repo(root)?;
        if let Err(e) = crate::store::git::install_index(&repo, &updates) {
            // Left to the repair, which sets those paths to HEAD.
            OPEN.with(|o| {
                if let Some(p) = o.borrow_mut().as_mut() {
                    p.marked = marked;
                }
            });
            return Err(e);
        }
    }
    if marked {
        let _ = std::fs::remove_file(git_dir.join(MARKER_FILE));
    }
    Ok(())
}

/// After a run killed with its index behind (the marker left): sets the index to HEAD for
/// every path that changed since the commit the marker names, and removes the marker. Call it
/// holding the desk lock. Returns whether anything was repaired.
pub fn recover(repo: &Repository) -> Result<bool> {
    let marker = repo.path().join(MARKER_FILE);
    let Ok(text) = std::fs::read_to_string(&marker) else {
        return Ok(false);
    };
    let Some(head) = repo.head().ok().and_then(|h| h.peel_to_commit().ok()) else {
        let _ = std::fs::remove_file(&marker);
        return Ok(false);
    };
    let head_tree = head.tree()?;
    let since = Oid::from_str(text.trim())
        .ok()
        .and_then(|id| repo.find_commit(id).ok())
        .and_then(|c| c.tree().ok());
    let diff = repo.diff_tree_to_tree(since.as_ref(), Some(&head_tree), None)?;
    let mut paths: Vec<PathBuf> = Vec::new();
    for d in diff.deltas() {
        for f in [d.old_file(), d.new_file()] {
            if let Some(p) = f.path() {
                paths.push(p.to_path_buf());
            }
        }
    }
    paths.sort();
    paths.dedup();
    let index = repo.index()?;
    let stale: Vec<&PathBuf> = paths
        .iter()
        .filter(|p| {
            index.get_path(p, 0).map(|e| e.id) != head_tree.get_path(p).ok().map(|e| e.id())
        })
        .collect();
    drop(index);
    if !stale.is_empty() {
        repo.reset_default(Some(head.as_object()), stale.iter().map(|p| p.as_path()))
            .map_err(|e| Error::msg(e.message().to_string()))?;
    }
    let _ = std::fs::remove_file(&marker);
    Ok(!stale.is_empty())
}
