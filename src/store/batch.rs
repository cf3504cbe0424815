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
use git2::{Oid, Repository};
use std::path::{Path, PathBuf};

pub use crate::store::git::INDEX_BEHIND_MARKER as MARKER_FILE;

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
        crate::store::git::defer_index(repo.path());
        Ok(IndexBatch {
            root: root.to_path_buf(),
            _thread: std::marker::PhantomData,
        })
    }

    /// Writes the index with every deferred entry and removes the marker.
    pub fn finish(self) -> Result<()> {
        let r = crate::store::git::flush_index(&self.root);
        crate::store::git::stop_deferring();
        r
    }
}

impl Drop for IndexBatch {
    fn drop(&mut self) {
        // After an error the marker stays, and the next command repairs the index.
        let _ = crate::store::git::flush_index(&self.root);
        crate::store::git::stop_deferring();
    }
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
