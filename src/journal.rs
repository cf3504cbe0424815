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

use crate::diag::{Error, Result};
use crate::tr;
use git2::{Oid, Repository};
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

fn journal_path(repo: &Repository) -> PathBuf {
    repo.path().join(JOURNAL_FILE)
}

/// Records `step` before any file is written.
pub fn begin(repo: &Repository, step: &Step) -> Result<()> {
    let json = serde_json::to_vec_pretty(step).map_err(|e| Error::msg(e.to_string()))?;
    crate::store::write_atomic(&journal_path(repo), &json)
}

/// Forgets the recorded step: it is committed and its emails are queued (or it failed and
/// every file was restored).
pub fn end(root: &Path) {
    if let Ok(repo) = crate::store::open_repo(root) {
        let _ = std::fs::remove_file(journal_path(&repo));
    }
}

/// Whether a step record is waiting for repair.
pub fn pending(root: &Path) -> Result<Option<Step>> {
    let repo = crate::store::open_repo(root)?;
    let Ok(bytes) = std::fs::read(journal_path(&repo)) else {
        return Ok(None);
    };
    Ok(serde_json::from_slice(&bytes).ok())
}

/// Repairs what a killed step left (see the module doc). Call it holding the desk lock.
/// Returns one line per repair, for the command to report.
pub fn recover(root: &Path) -> Result<Vec<String>> {
    let repo = crate::store::open_repo(root)?;
    let jpath = journal_path(&repo);
    let Ok(bytes) = std::fs::read(&jpath) else {
        return Ok(Vec::new());
    };
    let Ok(step) = serde_json::from_slice::<Step>(&bytes) else {
        // Cut short while being written: no file of the step was written yet.
        let _ = std::fs::remove_file(&jpath);
        return Ok(Vec::new());
    };
    let workdir = repo
        .workdir()
        .ok_or_else(|| Error::Message(tr!("store.bare_repo")))?;
    let workdir = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let head = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let head_tree = head.as_ref().and_then(|c| c.tree().ok());
    let head_blob = |rel: &str| {
        head_tree
            .as_ref()
            .and_then(|t| t.get_path(Path::new(rel)).ok())
            .map(|e| e.id())
    };
    let worktree_blob = |rel: &str| {
        let abs = workdir.join(rel);
        if std::fs::symlink_metadata(&abs).is_ok_and(|m| m.is_file()) {
            Oid::hash_file(git2::ObjectType::Blob, &abs).ok()
        } else {
            None
        }
    };
    let mut notes = Vec::new();
    // Temporary files of an atomic write cut short (`.mesa-*.tmp` beside each path): the
    // desk lock is held, so no other writer owns them.
    for p in &step.paths {
        let Some(dir) = workdir.join(&p.rel).parent().map(Path::to_path_buf) else {
            continue;
        };
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".mesa-") && name.ends_with(".tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let wanted: Vec<(String, Option<Oid>)> = step
        .paths
        .iter()
        .map(|p| (p.rel.clone(), Oid::from_str(&p.blob).ok()))
        .collect();
    let committed = wanted.iter().all(|(rel, blob)| head_blob(rel) == *blob);
    if committed {
        // The commit exists: make the index agree with HEAD for the step's paths.
        let mut index = repo.index()?;
        let stale: Vec<&String> = wanted
            .iter()
            .filter(|(rel, blob)| index.get_path(Path::new(rel), 0).map(|e| e.id) != *blob)
            .map(|(rel, _)| rel)
            .collect();
        if !stale.is_empty() {
            if let Some(c) = &head {
                repo.reset_default(Some(c.as_object()), stale.iter().map(|s| s.as_str()))?;
            }
            index.read(true)?;
            notes.push(tr!("journal.index_repaired", message = step.message));
        }
    } else {
        let written: Vec<bool> = wanted
            .iter()
            .map(|(rel, blob)| blob.is_some() && worktree_blob(rel) == *blob)
            .collect();
        if written.iter().all(|w| *w) {
            let at = chrono::DateTime::parse_from_rfc3339(&step.at)
                .map_err(|e| Error::msg(e.to_string()))?;
            let author = crate::store::Author {
                name: step.author_name.clone(),
                email: step.author_email.clone(),
                at,
            };
            let paths: Vec<PathBuf> = wanted.iter().map(|(rel, _)| workdir.join(rel)).collect();
            crate::store::commit_paths(root, &paths, &step.message, &author)?;
            notes.push(tr!("journal.finished", message = step.message));
        } else {
            let mut undone = false;
            for ((rel, _), w) in wanted.iter().zip(&written) {
                if !*w {
                    continue;
                }
                let abs = workdir.join(rel);
                match head_blob(rel).and_then(|id| repo.find_blob(id).ok()) {
                    Some(b) => crate::store::write_atomic(&abs, b.content())?,
                    None => {
                        let _ = std::fs::remove_file(&abs);
                    }
                }
                undone = true;
            }
            if undone {
                notes.push(tr!("journal.undone", message = step.message));
            }
        }
    }
    // The step's own emails (and no other: a teammate's clone may have sent those) are queued
    // again when the kill came before they were.
    let desk = if step.mail.is_empty() {
        None
    } else {
        crate::load::Desk::load(root).ok().map(|(d, _)| d)
    };
    if let Some(desk) = desk {
        for (rel, _) in &wanted {
            let abs = workdir.join(rel);
            let desk_root = desk
                .root
                .canonicalize()
                .unwrap_or_else(|_| desk.root.clone());
            let Ok(desk_rel) = abs.strip_prefix(&desk_root) else {
                continue;
            };
            if !desk_rel.starts_with("tickets") {
                continue;
            }
            let Ok(text) = crate::fsread::read_text(&abs) else {
                continue;
            };
            if let Ok(t) = crate::ticket::parse(desk_rel, &text) {
                if let Ok(ids) = crate::outbox::requeue_only(&desk, &t, Some(&step.mail)) {
                    if !ids.is_empty() {
                        notes.push(tr!("journal.requeued", count = ids.len(), id = t.front.id));
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_file(&jpath);
    Ok(notes)
}
