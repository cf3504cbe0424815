//! Writing desk files and committing them with git2, all or nothing.
//!
//! Every ticket command is one commit: the file is written atomically (a temp file in the same
//! folder, then a rename), exactly the touched paths are staged, and the commit carries the agent
//! as author. The index file on disk is only rewritten after the commit object exists and HEAD
//! points at it, so a failure anywhere restores the files and leaves index and HEAD untouched.

use crate::model::diag::{Error, Result};
use crate::tr;
use chrono::{DateTime, FixedOffset};
use git2::{IndexAddOption, Oid, Repository, Signature, Time, Tree};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Who a commit is by: the agent's name and email from desk.yaml, and when.
#[derive(Debug, Clone)]
pub struct Author {
    pub name: String,
    pub email: String,
    pub at: DateTime<FixedOffset>,
}

impl Author {
    fn signature(&self) -> Result<Signature<'static>> {
        let offset = self.at.offset().local_minus_utc() / 60;
        Ok(Signature::new(
            &self.name,
            &self.email,
            &Time::new(self.at.timestamp(), offset),
        )?)
    }
}

/// The repository holding the desk at `root` (the desk may be a sub-folder of it).
pub fn open_repo(root: &Path) -> Result<Repository> {
    Repository::discover(root).map_err(|e| {
        Error::Message(tr!(
            "store.no_repo",
            path = root.display(),
            error = e.message()
        ))
    })
}

/// `path` (absolute, or relative to the current folder) relative to the repository's working
/// folder, with `/` separators as git stores them.
pub fn repo_relative(repo: &Repository, path: &Path) -> Result<PathBuf> {
    let workdir = repo
        .workdir()
        .ok_or_else(|| Error::Message(tr!("store.bare_repo")))?;
    let workdir = workdir
        .canonicalize()
        .unwrap_or_else(|_| workdir.to_path_buf());
    let abs = absolute(path);
    // The file may not exist yet: canonicalize its folder (or the closest existing one).
    let canon = canonical_lenient(&abs);
    canon
        .strip_prefix(&workdir)
        .map(Path::to_path_buf)
        .map_err(|_| {
            Error::Message(tr!(
                "store.outside_repo",
                path = path.display(),
                repo = workdir.display()
            ))
        })
}

fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

fn canonical_lenient(path: &Path) -> PathBuf {
    let mut tail = Vec::new();
    let mut cur = path.to_path_buf();
    loop {
        if let Ok(c) = cur.canonicalize() {
            let mut out = c;
            for t in tail.iter().rev() {
                out.push(t);
            }
            return out;
        }
        match (cur.file_name().map(|f| f.to_os_string()), cur.parent()) {
            (Some(name), Some(parent)) => {
                tail.push(name);
                cur = parent.to_path_buf();
            }
            _ => return path.to_path_buf(),
        }
    }
}

fn git_path(rel: &Path) -> String {
    rel.to_string_lossy().replace('\\', "/")
}

/// Refuses when `path` differs between HEAD, the index and the working folder: a command would
/// otherwise commit someone's half-done hand edit under its own name.
pub fn ensure_clean(repo: &Repository, path: &Path) -> Result<()> {
    let rel = repo_relative(repo, path)?;
    let key = git_path(&rel);
    let head = head_blob(repo, &rel)?;
    let index = repo.index()?;
    let staged = index.get_path(&rel, 0).map(|e| e.id);
    let abs = absolute(path);
    let worktree = if abs.exists() {
        Some(Oid::hash_file(git2::ObjectType::Blob, &abs)?)
    } else {
        None
    };
    if head != staged {
        return Err(Error::Message(tr!("store.dirty_index", path = key)));
    }
    if staged != worktree {
        return Err(Error::Message(tr!("store.dirty_worktree", path = key)));
    }
    Ok(())
}

fn head_blob(repo: &Repository, rel: &Path) -> Result<Option<Oid>> {
    let head = match repo.head() {
        Ok(h) => h,
        Err(e)
            if e.code() == git2::ErrorCode::UnbornBranch
                || e.code() == git2::ErrorCode::NotFound =>
        {
            return Ok(None)
        }
        Err(e) => return Err(e.into()),
    };
    let tree = head.peel_to_tree()?;
    match tree.get_path(rel) {
        Ok(entry) => Ok(Some(entry.id())),
        Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Writes `contents` to `path` atomically: a temp file in the same folder, then renamed over
/// the target, so a reader never sees half a file.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Message(tr!("store.write_failed", path = path.display(), error = e)))?;
    let fail = |e: std::io::Error| {
        Error::Message(tr!("store.write_failed", path = path.display(), error = e))
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".mesa-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(contents).map_err(fail)?;
    // No fsync: like git's own default (core.fsync), durability is left to the file system;
    // the rename alone guarantees that nobody reads half a file.
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// Stages exactly `paths` (deleted files are removed from the index) and commits them on HEAD
/// with `author`: the commit is HEAD plus these paths, whatever else is staged. The index file
/// is written only after HEAD moved; on any failure HEAD and the index are as they were.
/// Returns the new commit.
pub fn commit_paths(root: &Path, paths: &[PathBuf], message: &str, author: &Author) -> Result<Oid> {
    let repo = open_repo(root)?;
    commit_in(&repo, root, paths, message, author)
}

fn commit_in(
    repo: &Repository,
    root: &Path,
    paths: &[PathBuf],
    message: &str,
    author: &Author,
) -> Result<Oid> {
    let parent = match repo.head() {
        Ok(h) => Some(h.peel_to_commit()?),
        Err(e)
            if e.code() == git2::ErrorCode::UnbornBranch
                || e.code() == git2::ErrorCode::NotFound =>
        {
            None
        }
        Err(e) => return Err(e.into()),
    };
    // The commit's tree is HEAD's tree with exactly these paths changed: only the trees along
    // each path are rewritten (cheap on a desk of 100,000 tickets), and nothing else the user
    // may have staged slips into the commit.
    let mut index = repo.index()?;
    let mut tree_id = match &parent {
        Some(p) => p.tree_id(),
        None => repo.treebuilder(None)?.write()?,
    };
    for p in paths {
        let abs = if p.is_absolute() {
            p.clone()
        } else {
            root.join(p)
        };
        let rel = repo_relative(repo, &abs)?;
        let entry = if abs.exists() {
            index.add_path(&rel)?;
            index.get_path(&rel, 0).map(|e| (e.id, e.mode))
        } else {
            let _ = index.remove_path(&rel);
            None
        };
        let names: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let base = repo.find_tree(tree_id)?;
        tree_id = match tree_with(repo, Some(&base), &names, entry)?.0 {
            Some(id) => id,
            None => repo.treebuilder(None)?.write()?,
        };
    }
    commit_tree(repo, &mut index, tree_id, parent.as_ref(), message, author)
}

/// `base` with the entry at `names` set to `entry` (blob id and mode; mode 0 keeps the old
/// entry's mode, or makes a regular file) or removed. Returns the new tree (`None` when it
/// ends up empty: git has no empty sub-trees) and the entry that was there before.
#[allow(clippy::type_complexity)]
fn tree_with(
    repo: &Repository,
    base: Option<&Tree>,
    names: &[String],
    entry: Option<(Oid, u32)>,
) -> Result<(Option<Oid>, Option<(Oid, u32)>)> {
    let Some((first, rest)) = names.split_first() else {
        return Ok((base.map(|t| t.id()), None));
    };
    let mut builder = repo.treebuilder(base)?;
    let old_here = builder
        .get(first)?
        .map(|e| (e.id(), e.filemode() as u32, e.kind()));
    let previous;
    if rest.is_empty() {
        previous = old_here
            .filter(|o| o.2 == Some(git2::ObjectType::Blob))
            .map(|o| (o.0, o.1));
        match entry {
            Some((id, mode)) => {
                let mode = if mode != 0 {
                    mode
                } else {
                    previous.map_or(0o100644, |p| p.1)
                };
                builder.insert(first, id, mode as i32)?;
            }
            None => {
                if old_here.is_some() {
                    builder.remove(first)?;
                }
            }
        }
    } else {
        let sub = match old_here {
            Some((id, _, Some(git2::ObjectType::Tree))) => Some(repo.find_tree(id)?),
            _ => None,
        };
        let (new_sub, old) = tree_with(repo, sub.as_ref(), rest, entry)?;
        previous = old;
        match new_sub {
            Some(id) => {
                builder.insert(first, id, 0o040000)?;
            }
            None => {
                if old_here.is_some() {
                    builder.remove(first)?;
                }
            }
        }
    }
    if builder.is_empty() {
        return Ok((None, previous));
    }
    Ok((Some(builder.write()?), previous))
}

/// Stages everything under `root` (used by `mesa init` for the first commit).
pub fn commit_all(repo: &Repository, message: &str, author: &Author) -> Result<Oid> {
    let mut index = repo.index()?;
    index.add_all(["*"].iter(), IndexAddOption::DEFAULT, None)?;
    let tree_id = index.write_tree()?;
    let tree = repo.find_tree(tree_id)?;
    let sig = author.signature()?;
    let parent = repo.head().ok().and_then(|h| h.peel_to_commit().ok());
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    let oid = repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)?;
    index.write()?;
    Ok(oid)
}

/// One file a command changes: where, and its new contents.
pub struct Change {
    pub path: PathBuf,
    pub contents: Vec<u8>,
}

/// Writes `changes` and commits them as one commit (unless `commit` is false). Refuses first if
/// any of the files has uncommitted edits. On failure every file is restored as it was.
/// Returns the commit id when one was made.
pub fn write_and_commit(
    root: &Path,
    changes: &[Change],
    message: &str,
    author: &Author,
    commit: bool,
) -> Result<Option<Oid>> {
    let r = write_and_commit_step(root, changes, message, author, commit, &[]);
    crate::store::journal::end(root);
    r
}

/// [`write_and_commit`] for a step that queues emails (`mail`: their Message-IDs) after the
/// commit. The step is recorded in the journal before any file is written, and the record is
/// kept on success: the caller ends it with [`crate::store::journal::end`] once the emails are
/// queued, so a kill anywhere is repaired by the next command (see [`crate::journal`]).
pub fn write_and_commit_step(
    root: &Path,
    changes: &[Change],
    message: &str,
    author: &Author,
    commit: bool,
    mail: &[String],
) -> Result<Option<Oid>> {
    if !commit {
        return write_all(root, changes, || Ok(None));
    }
    // Reading the index of a big desk (10 MB for 100,000 tickets) and rewriting the trees along
    // the ticket's path both take a while: build the trees on another thread meanwhile.
    let owned_root = root.to_path_buf();
    let owned: Vec<Change> = changes
        .iter()
        .map(|c| Change {
            path: c.path.clone(),
            contents: c.contents.clone(),
        })
        .collect();
    let builder = std::thread::spawn(move || prepare(&owned_root, &owned));
    let loaded = open_repo(root).and_then(|repo| {
        let index = repo.index()?;
        Ok((repo, index))
    });
    let prepared = builder
        .join()
        .map_err(|_| Error::Message(tr!("store.thread_failed")))?;
    let (repo, mut index) = loaded?;
    let prepared = prepared?;
    for (c, p) in changes.iter().zip(&prepared.paths) {
        check_clean(&index, p, &c.path)?;
    }
    crate::store::journal::begin(
        &repo,
        &crate::store::journal::Step {
            message: message.to_string(),
            author_name: author.name.clone(),
            author_email: author.email.clone(),
            at: author.at.to_rfc3339(),
            paths: prepared
                .paths
                .iter()
                .map(|p| crate::store::journal::StepPath {
                    rel: git_path(&p.rel),
                    blob: p.blob.to_string(),
                })
                .collect(),
            mail: mail.to_vec(),
        },
    )?;
    let result = write_all(root, changes, || {
        let mut tree = prepared.tree;
        for p in &prepared.paths {
            index.add_path(&p.rel)?;
        }
        // The blobs git stores may differ from the bytes written when the clone has content
        // filters (e.g. autocrlf): then build the tree from what the index holds.
        let filtered = prepared
            .paths
            .iter()
            .any(|p| index.get_path(&p.rel, 0).map(|e| e.id) != Some(p.blob));
        if filtered {
            tree = match prepared.parent {
                Some(id) => repo.find_commit(id)?.tree_id(),
                None => repo.treebuilder(None)?.write()?,
            };
            for p in &prepared.paths {
                let entry = index.get_path(&p.rel, 0).map(|e| (e.id, e.mode));
                let base = repo.find_tree(tree)?;
                tree = match tree_with(&repo, Some(&base), &p.names, entry)?.0 {
                    Some(id) => id,
                    None => repo.treebuilder(None)?.write()?,
                };
            }
        }
        let parent = prepared.parent.map(|id| repo.find_commit(id)).transpose()?;
        commit_tree(&repo, &mut index, tree, parent.as_ref(), message, author).map(Some)
    });
    if result.is_err() {
        // Every file was restored: nothing to repair.
        crate::store::journal::end(root);
    }
    result
}

/// Writes every change, runs `then`, and restores every file as it was if anything failed.
fn write_all(
    root: &Path,
    changes: &[Change],
    then: impl FnOnce() -> Result<Option<Oid>>,
) -> Result<Option<Oid>> {
    let mut originals: Vec<(PathBuf, Option<Vec<u8>>)> = Vec::new();
    let mut result: Result<Option<Oid>> = Ok(None);
    for c in changes {
        let before = std::fs::read(&c.path).ok();
        originals.push((c.path.clone(), before));
        if let Err(e) = write_atomic(&c.path, &c.contents) {
            result = Err(e);
            break;
        }
    }
    if result.is_ok() {
        result = then();
    }
    if result.is_err() {
        for (path, before) in originals {
            match before {
                Some(bytes) => {
                    let _ = write_atomic(&path, &bytes);
                }
                None => {
                    let _ = std::fs::remove_file(&path);
                    remove_empty_parents(root, &path);
                }
            }
        }
    }
    result
}

/// A commit prepared before anything is written: its parent, its tree, and per path what HEAD
/// has and the new blob.
struct Prepared {
    parent: Option<Oid>,
    tree: Oid,
    paths: Vec<PreparedPath>,
}

struct PreparedPath {
    rel: PathBuf,
    names: Vec<String>,
    head: Option<Oid>,
    blob: Oid,
}

fn prepare(root: &Path, changes: &[Change]) -> Result<Prepared> {
    let repo = open_repo(root)?;
    let parent = match repo.head() {
        Ok(h) => Some(h.peel_to_commit()?),
        Err(e)
            if e.code() == git2::ErrorCode::UnbornBranch
                || e.code() == git2::ErrorCode::NotFound =>
        {
            None
        }
        Err(e) => return Err(e.into()),
    };
    let head_tree = parent.as_ref().map(|p| p.tree()).transpose()?;
    let mut tree = match &head_tree {
        Some(t) => t.id(),
        None => repo.treebuilder(None)?.write()?,
    };
    let mut paths = Vec::new();
    for c in changes {
        let rel = repo_relative(&repo, &c.path)?;
        let names: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let blob = repo.blob(&c.contents)?;
        let base = repo.find_tree(tree)?;
        let (new_tree, head) = tree_with(&repo, Some(&base), &names, Some((blob, 0)))?;
        tree = match new_tree {
            Some(id) => id,
            None => repo.treebuilder(None)?.write()?,
        };
        paths.push(PreparedPath {
            rel,
            names,
            head: head.map(|h| h.0),
            blob,
        });
    }
    Ok(Prepared {
        parent: parent.map(|p| p.id()),
        tree,
        paths,
    })
}

/// Refuses when the file differs between HEAD, the index and the working folder.
fn check_clean(index: &git2::Index, p: &PreparedPath, abs: &Path) -> Result<()> {
    let key = git_path(&p.rel);
    let staged = index.get_path(&p.rel, 0).map(|e| e.id);
    let worktree = if abs.exists() {
        Some(Oid::hash_file(git2::ObjectType::Blob, abs)?)
    } else {
        None
    };
    if p.head != staged {
        return Err(Error::Message(tr!("store.dirty_index", path = key)));
    }
    if staged != worktree {
        return Err(Error::Message(tr!("store.dirty_worktree", path = key)));
    }
    Ok(())
}

/// Commits `tree` on `parent`, moves HEAD, then writes the index; if the index cannot be
/// written HEAD goes back, so the repository is as it was.
fn commit_tree(
    repo: &Repository,
    index: &mut git2::Index,
    tree: Oid,
    parent: Option<&git2::Commit>,
    message: &str,
    author: &Author,
) -> Result<Oid> {
    let tree = repo.find_tree(tree)?;
    let sig = author.signature()?;
    let parents: Vec<&git2::Commit> = parent.into_iter().collect();
    // Fails (and changes nothing) if HEAD moved since `parent` was read.
    let oid = repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)?;
    if let Err(e) = index.write() {
        if let Ok(mut head) = repo.head().and_then(|h| h.resolve()) {
            match parent {
                Some(p) => {
                    let _ = head.set_target(p.id(), "mesa: undo commit after index write failure");
                }
                None => {
                    let _ = head.delete();
                }
            }
        }
        return Err(e.into());
    }
    Ok(oid)
}

/// Removes folders left empty by undoing the creation of `path`, up to the desk root.
fn remove_empty_parents(root: &Path, path: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d == root || !d.starts_with(root) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn author() -> Author {
        Author {
            name: "Laura".into(),
            email: "l@example.co".into(),
            at: FixedOffset::west_opt(5 * 3600)
                .unwrap()
                .with_ymd_and_hms(2026, 11, 2, 8, 0, 0)
                .unwrap(),
        }
    }

    #[test]
    fn commits_only_the_touched_path_and_refuses_dirty_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let repo = Repository::init(root).unwrap();
        std::fs::write(root.join("other.txt"), "x").unwrap();
        let a = root.join("t/a.md");
        let oid = write_and_commit(
            root,
            &[Change {
                path: a.clone(),
                contents: b"one\n".to_vec(),
            }],
            "a: one",
            &author(),
            true,
        )
        .unwrap()
        .unwrap();
        let commit = repo.find_commit(oid).unwrap();
        assert_eq!(commit.author().name().ok(), Some("Laura"));
        assert_eq!(commit.message().ok(), Some("a: one"));
        let tree = commit.tree().unwrap();
        assert!(tree.get_path(Path::new("t/a.md")).is_ok());
        assert!(
            tree.get_path(Path::new("other.txt")).is_err(),
            "untouched files are not staged"
        );

        // A hand edit makes the file dirty: the next write is refused and nothing changes.
        std::fs::write(&a, "hand edit\n").unwrap();
        let err = write_and_commit(
            root,
            &[Change {
                path: a.clone(),
                contents: b"two\n".to_vec(),
            }],
            "a: two",
            &author(),
            true,
        );
        assert!(err.is_err());
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "hand edit\n");
        assert_eq!(repo.head().unwrap().target(), Some(oid));
    }

    #[test]
    fn other_staged_files_stay_out_of_the_commit() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let repo = Repository::init(root).unwrap();
        let a = root.join("t/2026/a.md");
        write_and_commit(
            root,
            &[Change {
                path: a.clone(),
                contents: b"one\n".to_vec(),
            }],
            "one",
            &author(),
            true,
        )
        .unwrap();
        std::fs::write(root.join("staged.txt"), "s").unwrap();
        let mut index = repo.index().unwrap();
        index.add_path(Path::new("staged.txt")).unwrap();
        index.write().unwrap();
        let b = root.join("t/2026/b.md");
        let oid = write_and_commit(
            root,
            &[Change {
                path: b,
                contents: b"two\n".to_vec(),
            }],
            "two",
            &author(),
            true,
        )
        .unwrap()
        .unwrap();
        let tree = repo.find_commit(oid).unwrap().tree().unwrap();
        assert!(tree.get_path(Path::new("t/2026/a.md")).is_ok());
        assert!(tree.get_path(Path::new("t/2026/b.md")).is_ok());
        assert!(tree.get_path(Path::new("staged.txt")).is_err());
        let status = repo.status_file(Path::new("staged.txt")).unwrap();
        assert!(status.contains(git2::Status::INDEX_NEW), "still staged");
        assert!(
            repo.status_file(Path::new("t/2026/b.md"))
                .unwrap()
                .is_empty(),
            "committed file is clean"
        );
    }

    #[test]
    fn failed_commit_restores_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let repo = Repository::init(root).unwrap();
        let a = root.join("a.md");
        let first = write_and_commit(
            root,
            &[Change {
                path: a.clone(),
                contents: b"one\n".to_vec(),
            }],
            "one",
            &author(),
            true,
        )
        .unwrap()
        .unwrap();
        // A held index lock makes the commit fail after the file was written.
        std::fs::write(repo.path().join("index.lock"), "").unwrap();
        let r = write_and_commit(
            root,
            &[Change {
                path: a.clone(),
                contents: b"two\n".to_vec(),
            }],
            "two",
            &author(),
            true,
        );
        assert!(r.is_err());
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "one\n");
        assert_eq!(repo.head().unwrap().target(), Some(first));
        std::fs::remove_file(repo.path().join("index.lock")).unwrap();
        let statuses = repo.statuses(None).unwrap();
        assert!(
            statuses
                .iter()
                .all(|s| s.status().is_empty() || s.status() == git2::Status::IGNORED),
            "clean after undo"
        );
    }
}
