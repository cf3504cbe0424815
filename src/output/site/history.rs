//! "Last updated" and author of every kb file from git, in ONE walk over history (newest
//! first), not one log per file: each commit whose `kb/` tree differs from its first parent's
//! is diffed once, and the walk stops as soon as every file has been seen.

use chrono::{DateTime, TimeZone, Utc};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Change {
    pub at: DateTime<Utc>,
    pub author: String,
}

/// Last change of each file under `<desk_root>/kb`, keyed by absolute path. Files never
/// committed, or a desk outside git, simply have no entry.
pub fn kb_changes(desk_root: &Path, wanted: &HashSet<PathBuf>) -> HashMap<PathBuf, Change> {
    walk(desk_root, wanted).unwrap_or_default()
}

fn walk(
    desk_root: &Path,
    wanted: &HashSet<PathBuf>,
) -> Result<HashMap<PathBuf, Change>, git2::Error> {
    let mut out = HashMap::new();
    let repo = git2::Repository::discover(desk_root)?;
    let Some(workdir) = repo.workdir() else {
        return Ok(out);
    };
    let workdir = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let root = desk_root
        .canonicalize()
        .unwrap_or_else(|_| desk_root.to_path_buf());
    let Ok(prefix) = root.strip_prefix(&workdir) else {
        return Ok(out);
    };
    let kb_rel = prefix.join("kb");
    // Repo-relative path -> the caller's absolute path.
    let mut pending: HashMap<PathBuf, PathBuf> = wanted
        .iter()
        .filter_map(|p| {
            let abs = p.canonicalize().ok()?;
            let rel = abs.strip_prefix(&workdir).ok()?.to_path_buf();
            Some((rel, p.clone()))
        })
        .collect();
    if pending.is_empty() {
        return Ok(out);
    }
    let mut revwalk = repo.revwalk()?;
    if revwalk.push_head().is_err() {
        return Ok(out);
    }
    revwalk.set_sorting(git2::Sort::TIME)?;
    for oid in revwalk {
        let commit = repo.find_commit(oid?)?;
        let tree = commit.tree()?;
        let kb_now = tree.get_path(&kb_rel).ok().map(|e| e.id());
        let parent = commit.parents().next();
        let parent_tree = match &parent {
            Some(p) => Some(p.tree()?),
            None => None,
        };
        let kb_before = parent_tree
            .as_ref()
            .and_then(|t| t.get_path(&kb_rel).ok())
            .map(|e| e.id());
        if kb_now == kb_before {
            continue;
        }
        let mut opts = git2::DiffOptions::new();
        opts.pathspec(kb_rel.to_string_lossy().as_ref());
        let diff = repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut opts))?;
        let sig = commit.author();
        let at = Utc
            .timestamp_opt(commit.time().seconds(), 0)
            .single()
            .unwrap_or_default();
        let author = sig.name().unwrap_or("").to_string();
        for delta in diff.deltas() {
            if let Some(p) = delta.new_file().path() {
                if let Some(abs) = pending.remove(p) {
                    out.insert(
                        abs,
                        Change {
                            at,
                            author: author.clone(),
                        },
                    );
                }
            }
        }
        if pending.is_empty() {
            break;
        }
    }
    Ok(out)
}
