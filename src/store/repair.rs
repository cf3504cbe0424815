//! Repairing what a killed step left, from its record in the journal (see
//! [`crate::store::journal`] for the cases). Called holding the desk lock.

use crate::model::diag::{Error, Result};
use crate::store::journal::{journal_path, Requeue, Step};
use crate::tr;
use git2::Oid;
use std::path::{Path, PathBuf};

/// Repairs what a killed step left (see the module doc). Call it holding the desk lock.
/// Returns one line per repair, for the command to report, and the step's emails to queue
/// again.
pub fn recover(root: &Path) -> Result<(Vec<String>, Option<Requeue>)> {
    let repo = crate::store::git::open_repo(root)?;
    let mut notes = Vec::new();
    // A run of commits killed before it wrote the index (store::batch): first the index is
    // set to HEAD for what the run committed, then the last step is repaired as usual.
    if crate::store::batch::recover(&repo)? {
        notes.push(tr!("journal.index_caught_up"));
    }
    let jpath = journal_path(&repo);
    let Ok(bytes) = std::fs::read(&jpath) else {
        return Ok((notes, None));
    };
    let Ok(step) = serde_json::from_slice::<Step>(&bytes) else {
        // Cut short while being written: no file of the step was written yet.
        let _ = std::fs::remove_file(&jpath);
        return Ok((notes, None));
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
            let author = crate::store::git::Author {
                name: step.author_name.clone(),
                email: step.author_email.clone(),
                at,
            };
            let paths: Vec<PathBuf> = wanted.iter().map(|(rel, _)| workdir.join(rel)).collect();
            crate::store::git::commit_paths(root, &paths, &step.message, &author)?;
            notes.push(tr!("journal.finished", message = step.message));
        } else {
            let mut undone = false;
            for ((rel, _), w) in wanted.iter().zip(&written) {
                if !*w {
                    continue;
                }
                let abs = workdir.join(rel);
                match head_blob(rel).and_then(|id| repo.find_blob(id).ok()) {
                    Some(b) => crate::store::git::write_atomic(&abs, b.content())?,
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
    // again by the caller when the kill came before they were.
    let requeue = if step.mail.is_empty() {
        None
    } else {
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let tickets: Vec<PathBuf> = wanted
            .iter()
            .filter_map(|(rel, _)| {
                workdir
                    .join(rel)
                    .strip_prefix(&root)
                    .ok()
                    .map(Path::to_path_buf)
            })
            .filter(|p| p.starts_with("tickets"))
            .collect();
        Some(Requeue {
            tickets,
            mail: step.mail.clone(),
        })
    };
    let _ = std::fs::remove_file(&jpath);
    Ok((notes, requeue))
}
