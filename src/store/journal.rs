//! Crash safety of a step: before a command writes its files it records in the git folder
//! (`.git/mesa-step.json`) what it is about to commit: the paths, the blob each will hold, the
//! commit message and author. The record is removed once the commit exists, the index is
//! written and the step's emails are queued. A command killed anywhere in between leaves the
//! record behind, and the next command (or `mesa doctor --repair`), holding the desk lock,
//! repairs from it:
//!
//! - the commit exists but the index is stale: the index is set to HEAD for those paths (a
//!   plain `git commit` would otherwise silently revert the step);
//! - every file was written but not committed: the step is finished, committed with its own
//!   message and author, so no event is lost;
//! - only some files were written: they are put back as HEAD has them (the step never
//!   reported success, so nothing anyone saw is undone);
//! - and the step's emails are queued again if they were not (composition is deterministic).
//!
//! Only paths whose working copy holds exactly the recorded blob are touched, so a later hand
//! edit is never overwritten.

use crate::model::diag::{Error, Result};

use git2::Repository;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const JOURNAL_FILE: &str = "mesa-step.json";

/// A step about to be committed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Step {
    pub message: String,
    pub author_name: String,
    pub author_email: String,
    /// RFC 3339, the commit's time.
    pub at: String,
    pub paths: Vec<StepPath>,
    /// The Message-IDs of the emails the step queues once committed.
    #[serde(default)]
    pub mail: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StepPath {
    /// Relative to the repository's working folder, `/`-separated.
    pub rel: String,
    /// The blob the file will hold (hex).
    pub blob: String,
}

/// The emails of a repaired step, for a layer that can queue mail.
#[derive(Debug, Clone, PartialEq)]
pub struct Requeue {
    /// The step's ticket files, relative to the desk.
    pub tickets: Vec<PathBuf>,
    /// The Message-IDs the step queues (only these are queued again).
    pub mail: Vec<String>,
}

pub fn journal_path(repo: &Repository) -> PathBuf {
    repo.path().join(JOURNAL_FILE)
}

/// Records `step` before any file is written (a temp file renamed into place, so a reader
/// finds the whole record or none).
pub fn begin(repo: &Repository, step: &Step) -> Result<()> {
    use std::io::Write;
    let json = serde_json::to_vec_pretty(step).map_err(|e| Error::msg(e.to_string()))?;
    let fail = |e: std::io::Error| Error::msg(format!("{}: {e}", journal_path(repo).display()));
    let mut tmp = tempfile::Builder::new()
        .prefix(".mesa-step-")
        .tempfile_in(repo.path())
        .map_err(fail)?;
    tmp.write_all(&json).map_err(fail)?;
    tmp.persist(journal_path(repo)).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Forgets the recorded step: it is committed and its emails are queued (or it failed and
/// every file was restored).
pub fn end(root: &Path) {
    if let Ok(repo) = Repository::discover(root) {
        let _ = std::fs::remove_file(journal_path(&repo));
    }
}

/// Whether a step record is waiting for repair.
pub fn pending(root: &Path) -> Result<Option<Step>> {
    let repo = Repository::discover(root)?;
    let Ok(bytes) = std::fs::read(journal_path(&repo)) else {
        return Ok(None);
    };
    Ok(serde_json::from_slice(&bytes).ok())
}
