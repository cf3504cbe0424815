//! Writing desk files and committing them with git2, all or nothing.
//!
//! Every ticket command is one commit: the file is written atomically (a temp file in the same
//! folder, then a rename), exactly the touched paths are staged, and the commit carries the agent
//! as author. The index file on disk is only rewritten after the commit object exists and HEAD
//! points at it, so a failure anywhere restores the files and leaves index and HEAD untouched.
//!
//! A commit costs what it changes, not the size of the desk: the new tree is HEAD's tree with
//! only the trees along the changed paths rewritten, and the index is never loaded through
//! libgit2 (10 MB and a hash map of 100,000 entries on a big desk). Instead `.git/index.lock`
//! is taken first (so no git command changes the index meanwhile), the changed entries are
//! patched into a copy of the index's bytes ([`crate::store::raw_index`]) with the written
//! files' stat data, so `git status` is clean and `git diff --cached` empty afterwards, and
//! the copy is renamed over the index once HEAD moved. Whatever else the user staged stays
//! staged and out of the commit. An index this path cannot patch (a split or sparse index, a
//! conflicted path) or a clone whose content filters change what git stores (autocrlf, `text`,
//! `filter` attributes) takes libgit2's full path, with the same results.
//!
//! A front end that commits many times in one run (`mesa inbox import`) opens an index batch
//! (`store/batch.rs`): its commits are made one by one, their index entries are written once
//! when the run ends, and a run killed before that is repaired by the next command.
//!
//! Git hooks do not run on these commits (libgit2 runs none): the pre-commit hook `mesa hooks
//! install` writes runs `mesa check` on the staged files, and a step already refuses anything
//! that check would reject before it writes.

use crate::model::diag::{Error, Result};
use crate::store::raw_index::{Found, NewEntry, RawIndex, Stat, Update};
use crate::tr;
use chrono::{DateTime, FixedOffset};
use git2::{IndexAddOption, Oid, Repository, Signature, Time, Tree};
use std::cell::RefCell;
use std::collections::BTreeMap;
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

/// Stages exactly `paths` (files already written; a missing file is removed from the index)
/// and commits them on HEAD with `author`: the commit is HEAD plus these paths, whatever else
/// is staged, which stays staged. The index file is written only after HEAD moved; on any
/// failure HEAD and the index are as they were. Returns the new commit.
///
/// This is the store's one-commit fast path for any front end (a step, the inbox import, a
/// repair): its cost grows with the paths and their folders, not with the desk (see the module
/// doc). Paths are absolute or relative to `root`. It does not check that the files were clean
/// before: a writer that must refuse hand edits uses [`write_and_commit`].
pub fn commit_paths(root: &Path, paths: &[PathBuf], message: &str, author: &Author) -> Result<Oid> {
    flush_index(root)?;
    let repo = open_repo(root)?;
    let abs: Vec<PathBuf> = paths
        .iter()
        .map(|p| {
            if p.is_absolute() {
                p.clone()
            } else {
                root.join(p)
            }
        })
        .collect();
    let rels = abs
        .iter()
        .map(|p| repo_relative(&repo, p))
        .collect::<Result<Vec<_>>>()?;
    let lock = usable(&repo, NextIndex::read(&repo)?, &rels)?;
    let Some((lock, _)) = lock else {
        return commit_in(&repo, root, paths, message, author);
    };
    let parent = head_commit(&repo)?;
    let mut tree = match &parent {
        Some(p) => p.tree_id(),
        None => repo.treebuilder(None)?.write()?,
    };
    let mut staged = Vec::new();
    for (abs, rel) in abs.iter().zip(rels) {
        let entry = if std::fs::symlink_metadata(abs).is_ok() {
            Some((repo.blob_path(abs)?, file_mode(abs)))
        } else {
            None
        };
        let base = repo.find_tree(tree)?;
        tree = match tree_with(&repo, Some(&base), &names_of(&rel), entry)?.0 {
            Some(id) => id,
            None => repo.treebuilder(None)?.write()?,
        };
        staged.push(StagedPath {
            rel,
            abs: abs.clone(),
            entry,
        });
    }
    let parent = parent.map(|p| p.id());
    commit_fast(&repo, lock, tree, parent, &staged, message, author)
}

fn names_of(rel: &Path) -> Vec<String> {
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect()
}

/// HEAD's commit, or `None` in a desk whose branch has no commit yet.
fn head_commit(repo: &Repository) -> Result<Option<git2::Commit<'_>>> {
    match repo.head() {
        Ok(h) => Ok(Some(h.peel_to_commit()?)),
        Err(e)
            if e.code() == git2::ErrorCode::UnbornBranch
                || e.code() == git2::ErrorCode::NotFound =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The mode git records for a regular file: executable or not.
fn file_mode(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0) {
            return 0o100755;
        }
    }
    let _ = path;
    0o100644
}

fn commit_in(
    repo: &Repository,
    root: &Path,
    paths: &[PathBuf],
    message: &str,
    author: &Author,
) -> Result<Oid> {
    let parent = head_commit(repo)?;
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

/// [`tree_with_builder`], with each tree along the path patched as bytes
/// ([`crate::store::raw_tree`]) rather than rebuilt by libgit2's tree builder; the builder
/// only for a tree whose bytes the patch refuses.
#[allow(clippy::type_complexity)]
fn tree_with(
    repo: &Repository,
    base: Option<&Tree>,
    names: &[String],
    entry: Option<(Oid, u32)>,
) -> Result<(Option<Oid>, Option<(Oid, u32)>)> {
    let odb = repo.odb()?;
    // The repository's own object folder, unless the environment points git elsewhere.
    let objects = repo.path().join("objects");
    let objects =
        (std::env::var_os("GIT_OBJECT_DIRECTORY").is_none() && objects.is_dir()).then_some(objects);
    match tree_with_raw(&odb, objects.as_deref(), base.map(|t| t.id()), names, entry)? {
        Some(done) => Ok(done),
        None => tree_with_builder(repo, base, names, entry),
    }
}

/// The bytes version of [`tree_with_builder`]; `Ok(None)` when a tree on the path is not one
/// [`crate::store::raw_tree::patch`] takes.
#[allow(clippy::type_complexity)]
fn tree_with_raw(
    odb: &git2::Odb,
    objects: Option<&Path>,
    base: Option<Oid>,
    names: &[String],
    entry: Option<(Oid, u32)>,
) -> Result<Option<(Option<Oid>, Option<(Oid, u32)>)>> {
    use crate::store::raw_tree;
    let Some((first, rest)) = names.split_first() else {
        return Ok(Some((base, None)));
    };
    let object = base.map(|id| odb.read(id)).transpose()?;
    let data: &[u8] = object.as_ref().map_or(&[], |o| o.data());
    let Some(old_here) = raw_tree::find(data, first.as_bytes()) else {
        return Ok(None);
    };
    let old_here = old_here.map(|(id, mode)| (Oid::from_bytes(&id), mode));
    let previous;
    let new_here = if rest.is_empty() {
        previous = match old_here {
            Some((Ok(id), mode)) if raw_tree::is_blob_mode(mode) => Some((id, mode)),
            _ => None,
        };
        entry.map(|(id, mode)| {
            let mode = if mode != 0 {
                mode
            } else {
                previous.map_or(0o100644, |p| p.1)
            };
            (id, mode)
        })
    } else {
        let sub = match old_here {
            Some((Ok(id), raw_tree::TREE_MODE)) => Some(id),
            _ => None,
        };
        let Some((new_sub, old)) = tree_with_raw(odb, objects, sub, rest, entry)? else {
            return Ok(None);
        };
        previous = old;
        new_sub.map(|id| (id, raw_tree::TREE_MODE))
    };
    let new_here = new_here.map(|(id, mode)| {
        let mut b = [0u8; 20];
        b.copy_from_slice(id.as_bytes());
        (mode, b)
    });
    let Some(bytes) = raw_tree::patch(data, first.as_bytes(), new_here) else {
        return Ok(None);
    };
    if bytes.is_empty() {
        return Ok(Some((None, previous)));
    }
    let id = match objects {
        Some(dir) => {
            let id = raw_tree::write_loose(dir, "tree", &bytes).map_err(|e| {
                Error::Message(tr!("store.write_failed", path = dir.display(), error = e))
            })?;
            Oid::from_bytes(&id)?
        }
        None => odb.write(git2::ObjectType::Tree, &bytes)?,
    };
    Ok(Some((Some(id), previous)))
}

/// `base` with the entry at `names` set to `entry` (blob id and mode; mode 0 keeps the old
/// entry's mode, or makes a regular file) or removed. Returns the new tree (`None` when it
/// ends up empty: git has no empty sub-trees) and the entry that was there before.
#[allow(clippy::type_complexity)]
fn tree_with_builder(
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
        let (new_sub, old) = tree_with_builder(repo, sub.as_ref(), rest, entry)?;
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
    // Rewriting the trees along the ticket's path takes a while on a big desk (a month folder
    // of 30,000 tickets): build them on another thread while the index is read.
    let owned_root = root.to_path_buf();
    let owned: Vec<Change> = changes
        .iter()
        .map(|c| Change {
            path: c.path.clone(),
            contents: c.contents.clone(),
        })
        .collect();
    let builder = std::thread::spawn(move || prepare(&owned_root, &owned));
    let locked = open_repo(root).and_then(|repo| {
        let lock = NextIndex::read(&repo)?;
        Ok((repo, lock))
    });
    let prepared = builder
        .join()
        .map_err(|_| Error::Message(tr!("store.thread_failed")))?;
    let (repo, lock) = locked?;
    let prepared = prepared?;
    let rels: Vec<PathBuf> = prepared.paths.iter().map(|p| p.rel.clone()).collect();
    // The fast path when the index and the clone allow it (module doc), else libgit2's.
    let fast = usable(&repo, lock, &rels)?;
    let mut full_index = None;
    let staged: Vec<Option<Oid>> = match &fast {
        Some((_, found)) => found
            .iter()
            .map(|f| f.map(|f| Oid::from_bytes(&f.oid)).transpose())
            .collect::<std::result::Result<_, _>>()?,
        None => {
            flush_index(root)?;
            let index = repo.index()?;
            let ids = rels
                .iter()
                .map(|r| index.get_path(r, 0).map(|e| e.id))
                .collect();
            full_index = Some(index);
            ids
        }
    };
    for ((c, p), s) in changes.iter().zip(&prepared.paths).zip(&staged) {
        check_clean(p, *s, &c.path)?;
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
    let result = write_all(root, changes, || match (fast, full_index) {
        (Some((lock, _)), _) => {
            let staged: Vec<StagedPath> = prepared
                .paths
                .iter()
                .zip(changes)
                .map(|(p, c)| StagedPath {
                    rel: p.rel.clone(),
                    abs: c.path.clone(),
                    entry: Some((p.blob, p.mode)),
                })
                .collect();
            commit_fast(
                &repo,
                lock,
                prepared.tree,
                prepared.parent,
                &staged,
                message,
                author,
            )
            .map(Some)
        }
        (None, Some(mut index)) => commit_full(&repo, &mut index, &prepared, message, author),
        (None, None) => Err(Error::Message(tr!("store.thread_failed"))),
    });
    if result.is_err() {
        // Every file was restored: nothing to repair.
        crate::store::journal::end(root);
    }
    result
}

/// libgit2's path: the whole index loaded, the paths added (through the clone's content
/// filters), written back after the commit.
fn commit_full(
    repo: &Repository,
    index: &mut git2::Index,
    prepared: &Prepared,
    message: &str,
    author: &Author,
) -> Result<Option<Oid>> {
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
            tree = match tree_with(repo, Some(&base), &p.names, entry)?.0 {
                Some(id) => id,
                None => repo.treebuilder(None)?.write()?,
            };
        }
    }
    let parent = prepared.parent.map(|id| repo.find_commit(id)).transpose()?;
    commit_tree(repo, index, tree, parent.as_ref(), message, author).map(Some)
}

// ---------------------------------------------------------------------------------------------
// The fast path: the index patched as bytes

/// The index as read for one commit (mapped, not locked: reading takes no lock in git
/// either), and the next index, written beside it before `.git/index.lock` is taken, so the
/// lock is held only for the commit and a rename. Dropped before [`NextIndex::install`], it
/// removes what it wrote.
struct NextIndex {
    index: PathBuf,
    raw: RawIndex,
    /// The index file as it was when read (`None`: there was none), to see a git command
    /// replace it meanwhile.
    seen: Option<FileId>,
    skip_hash: bool,
    /// `.git/.mesa-index.PID.tmp`: the next index (a killed process's is removed by the next
    /// command, see [`crate::store::lock`]).
    tmp: PathBuf,
}

/// What tells one version of a file from the next: git replaces the index by renaming a new
/// file over it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileId {
    len: u64,
    modified: Option<std::time::SystemTime>,
    #[cfg(unix)]
    ino: u64,
}

fn file_id(path: &Path) -> Option<FileId> {
    let m = std::fs::metadata(path).ok()?;
    Some(FileId {
        len: m.len(),
        modified: m.modified().ok(),
        #[cfg(unix)]
        ino: std::os::unix::fs::MetadataExt::ino(&m),
    })
}

impl NextIndex {
    /// Reads the index. `Ok(None)` when it is not one the fast path patches.
    fn read(repo: &Repository) -> Result<Option<NextIndex>> {
        let index = repo.path().join("index");
        let seen = file_id(&index);
        let raw = match RawIndex::read(&index) {
            Ok(Some(Ok(raw))) => raw,
            Ok(Some(Err(_))) => return Ok(None),
            Ok(None) => RawIndex::empty(),
            Err(e) => {
                return Err(Error::Message(tr!(
                    "store.write_failed",
                    path = index.display(),
                    error = e
                )))
            }
        };
        if raw.check_extensions().is_err() {
            return Ok(None);
        }
        let skip_hash = repo
            .config()
            .and_then(|c| c.get_bool("index.skipHash"))
            .unwrap_or(false);
        let tmp = repo
            .path()
            .join(format!(".mesa-index.{}.tmp", std::process::id()));
        Ok(Some(NextIndex {
            index,
            raw,
            seen,
            skip_hash,
            tmp,
        }))
    }

    /// The staged entry of each path, or `None` when one of them is in a state only the full
    /// path handles (conflicted, skip-worktree, intent-to-add).
    fn lookup(&self, rels: &[PathBuf]) -> Option<Vec<Option<Found>>> {
        let keys: Vec<String> = rels.iter().map(|r| git_path(r)).collect();
        let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_bytes()).collect();
        let mut found = self.raw.lookup(&keys).ok()?;
        // Entries of this run's commits whose index write is deferred (store::batch).
        let git_dir = self.index.parent().unwrap_or(Path::new("."));
        for (f, k) in found.iter_mut().zip(&keys) {
            if let Some(staged) = deferred_entry(git_dir, k) {
                *f = staged;
            }
        }
        Some(found)
    }

    /// Writes the index with `updates` applied to the temp file (not yet the index).
    fn write(&self, updates: &[Update]) -> Result<()> {
        let fail = |e: String| {
            Error::Message(tr!(
                "store.write_failed",
                path = self.tmp.display(),
                error = e
            ))
        };
        let mut file = std::fs::File::create(&self.tmp).map_err(|e| fail(e.to_string()))?;
        self.raw
            .write_updated(updates, self.skip_hash, &mut file)
            .map_err(|e| fail(e.to_string()))?
            .map_err(|u| fail(u.to_string()))
    }

    /// Takes `.git/index.lock` (marked as mesa's, see [`crate::store::holder::git_lock_marker`]),
    /// runs `commit`, and makes the written file the index. If a git command replaced the
    /// index since it was read, the updates are applied again to the new one first, so
    /// nothing it staged is lost. On failure the lock and the temp file are removed.
    fn install(
        mut self,
        updates: &[Update],
        commit: impl FnOnce() -> Result<Oid>,
    ) -> Result<(Oid, InstallFailure)> {
        let lock = self.index.with_file_name("index.lock");
        let mut file = match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&lock)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::Message(tr!(
                    "store.index_locked",
                    path = lock.display()
                )))
            }
            Err(e) => {
                return Err(Error::Message(tr!(
                    "store.write_failed",
                    path = lock.display(),
                    error = e
                )))
            }
        };
        let held = (|| {
            file.write_all(crate::store::holder::git_lock_marker("mesa commit").as_bytes())
                .map_err(|e| {
                    Error::Message(tr!("store.write_failed", path = lock.display(), error = e))
                })?;
            drop(file);
            if file_id(&self.index) != self.seen {
                let again = NextIndex::read_raw(&self.index)?;
                self.raw = again;
                self.write(updates)?;
            }
            let oid = commit()?;
            let installed = std::fs::rename(&self.tmp, &self.index).map_err(|e| {
                Error::Message(tr!(
                    "store.write_failed",
                    path = self.index.display(),
                    error = e
                ))
            });
            Ok((oid, installed.err()))
        })();
        let _ = std::fs::remove_file(&lock);
        held.map(|(oid, failed)| (oid, InstallFailure(failed)))
    }

    /// The index at `path` again, for a patch made under the lock.
    fn read_raw(path: &Path) -> Result<RawIndex> {
        let unsupported = |why: String| {
            Error::Message(tr!(
                "store.write_failed",
                path = path.display(),
                error = why
            ))
        };
        match RawIndex::read(path) {
            Ok(Some(Ok(raw))) => {
                raw.check_extensions()
                    .map_err(|u| unsupported(u.to_string()))?;
                Ok(raw)
            }
            Ok(Some(Err(u))) => Err(unsupported(u.to_string())),
            Ok(None) => Ok(RawIndex::empty()),
            Err(e) => Err(unsupported(e.to_string())),
        }
    }
}

/// Writes `updates` into the index (the deferred entries of an index batch, whose commits are
/// made): patched as bytes when the fast path can, else those paths set to HEAD.
pub(crate) fn install_index(repo: &Repository, updates: &[Update]) -> Result<()> {
    match NextIndex::read(repo)? {
        Some(next) => {
            next.write(updates)?;
            let (_, failed) = next.install(updates, || Ok(Oid::ZERO_SHA1))?;
            match failed.0 {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
        None => {
            let head = head_commit(repo)?;
            let paths: Vec<String> = updates
                .iter()
                .map(|u| String::from_utf8_lossy(&u.path).into_owned())
                .collect();
            if let Some(c) = head {
                repo.reset_default(Some(c.as_object()), paths.iter().map(String::as_str))?;
            }
            Ok(())
        }
    }
}

/// The index could not be replaced after the commit was made (`Some`): the caller puts HEAD
/// back.
struct InstallFailure(Option<Error>);

impl Drop for NextIndex {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// The read index and the staged entries of `rels` when the fast path can take them; else
/// `None`, for libgit2's path.
fn usable(
    repo: &Repository,
    lock: Option<NextIndex>,
    rels: &[PathBuf],
) -> Result<Option<(NextIndex, Vec<Option<Found>>)>> {
    let Some(lock) = lock else {
        return Ok(None);
    };
    if filtered(repo, rels)? {
        return Ok(None);
    }
    Ok(lock.lookup(rels).map(|found| (lock, found)))
}

/// Whether git might store other bytes than the file's for one of `rels`: line-ending
/// conversion (`core.autocrlf`, the `text`, `eol`, `crlf` attributes) or a `filter`, `ident` or
/// `working-tree-encoding` attribute. Those go through libgit2, which applies them.
///
/// libgit2's own attribute lookup loads the whole index, the cost this path avoids; so the
/// attribute files that can apply (each folder's `.gitattributes` down to the file,
/// `.git/info/attributes`, the user's and the system's) are read here, and any line that
/// sets one of those attributes, whatever its pattern, counts: a wrong "yes" only costs the
/// full path.
fn filtered(repo: &Repository, rels: &[PathBuf]) -> Result<bool> {
    const CONVERTING: [&str; 6] = [
        "text",
        "eol",
        "crlf",
        "filter",
        "ident",
        "working-tree-encoding",
    ];
    let config = repo.config()?;
    if let Ok(v) = config.get_string("core.autocrlf") {
        if !matches!(
            v.to_ascii_lowercase().as_str(),
            "false" | "no" | "off" | "0" | ""
        ) {
            return Ok(true);
        }
    }
    let mut files: Vec<PathBuf> = vec![
        repo.path().join("info").join("attributes"),
        PathBuf::from("/etc/gitattributes"),
    ];
    match config.get_path("core.attributesFile") {
        Ok(p) => files.push(p),
        Err(_) => {
            let xdg = std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
            if let Some(x) = xdg {
                files.push(x.join("git").join("attributes"));
            }
        }
    }
    if let Some(workdir) = repo.workdir() {
        for rel in rels {
            let mut dir = workdir.to_path_buf();
            files.push(dir.join(".gitattributes"));
            if let Some(parent) = rel.parent() {
                for c in parent.components() {
                    dir.push(c);
                    files.push(dir.join(".gitattributes"));
                }
            }
        }
    }
    files.sort();
    files.dedup();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let sets = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .flat_map(|l| l.split_whitespace().skip(1))
            .any(|token| {
                let name = token.split('=').next().unwrap_or_default();
                !token.starts_with(['-', '!']) && CONVERTING.contains(&name)
            });
        if sets {
            return Ok(true);
        }
    }
    Ok(false)
}

/// One path of a fast commit: where it is and the blob and mode it gets (`None`: removed).
struct StagedPath {
    rel: PathBuf,
    abs: PathBuf,
    entry: Option<(Oid, u32)>,
}

/// Commits `tree` on `parent` and patches the index read in `next` for `paths` (their files
/// already written). HEAD moves only if it is still `parent`; if the index cannot be replaced
/// HEAD goes back, so the repository is as it was.
fn commit_fast(
    repo: &Repository,
    next: NextIndex,
    tree: Oid,
    parent: Option<Oid>,
    paths: &[StagedPath],
    message: &str,
    author: &Author,
) -> Result<Oid> {
    let updates = paths
        .iter()
        .map(|p| {
            let entry = match p.entry {
                Some((oid, mode)) => {
                    let stat = Stat::of(&p.abs).map_err(|e| {
                        Error::Message(tr!("store.write_failed", path = p.abs.display(), error = e))
                    })?;
                    let mut id = [0u8; 20];
                    id.copy_from_slice(oid.as_bytes());
                    Some(NewEntry {
                        oid: id,
                        mode,
                        stat,
                    })
                }
                None => None,
            };
            Ok(Update {
                path: git_path(&p.rel).into_bytes(),
                entry,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if deferring(repo.path()) {
        // Inside an index batch: the commit now, its index entries when the batch ends.
        drop(next);
        before_deferred_commit(repo.path(), parent)?;
        let parent = parent.map(|id| repo.find_commit(id)).transpose()?;
        let tree = repo.find_tree(tree)?;
        let sig = author.signature()?;
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let oid = repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)?;
        after_deferred_commit(updates);
        return Ok(oid);
    }
    next.write(&updates)?;
    let parent = parent.map(|id| repo.find_commit(id)).transpose()?;
    let tree = repo.find_tree(tree)?;
    let sig = author.signature()?;
    let parents: Vec<&git2::Commit> = parent.iter().collect();
    // Fails (and changes nothing) if HEAD moved since `parent` was read.
    let (oid, failed) = next.install(&updates, || {
        Ok(repo.commit(Some("HEAD"), &sig, &sig, message, &tree, &parents)?)
    })?;
    if let Some(e) = failed.0 {
        undo_head(repo, parent.as_ref());
        return Err(e);
    }
    Ok(oid)
}

/// Puts HEAD's branch back on `parent` (or removes it when the commit was the first).
fn undo_head(repo: &Repository, parent: Option<&git2::Commit>) {
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
    /// The mode in the new tree: HEAD's, or a regular file's for a new path.
    mode: u32,
}

fn prepare(root: &Path, changes: &[Change]) -> Result<Prepared> {
    let repo = open_repo(root)?;
    let parent = head_commit(&repo)?;
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
            mode: head.map_or(0o100644, |h| h.1),
        });
    }
    Ok(Prepared {
        parent: parent.map(|p| p.id()),
        tree,
        paths,
    })
}

/// Refuses when the file differs between HEAD, the index (`staged`) and the working folder.
fn check_clean(p: &PreparedPath, staged: Option<Oid>, abs: &Path) -> Result<()> {
    let key = git_path(&p.rel);
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
        undo_head(repo, parent);
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

// ---------------------------------------------------------------------------------------------
// Deferred index writes: the state of an open index batch (`store/batch.rs`)

/// The marker of an index that is behind HEAD, in the git directory.
pub const INDEX_BEHIND_MARKER: &str = "mesa-index-behind";

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

/// Starts deferring the index writes of this thread's commits in the repository at `git_dir`
/// (see `store/batch.rs`).
pub(crate) fn defer_index(git_dir: &Path) {
    OPEN.with(|o| {
        *o.borrow_mut() = Some(Pending {
            git_dir: git_dir.to_path_buf(),
            marked: false,
            updates: BTreeMap::new(),
        })
    });
}

/// Stops deferring (whatever is still pending is dropped: flush first).
pub(crate) fn stop_deferring() {
    OPEN.with(|o| o.borrow_mut().take());
}

/// Whether commits in the repository at `git_dir` defer their index writes.
fn deferring(git_dir: &Path) -> bool {
    OPEN.with(|o| o.borrow().as_ref().is_some_and(|p| p.git_dir == git_dir))
}

/// The entry a deferred commit gave `path`: `Some(None)` removed, `None` not deferred.
fn deferred_entry(git_dir: &Path, path: &[u8]) -> Option<Option<Found>> {
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
fn before_deferred_commit(git_dir: &Path, parent: Option<Oid>) -> Result<()> {
    let marked = OPEN.with(|o| o.borrow().as_ref().is_some_and(|p| p.marked));
    if marked {
        return Ok(());
    }
    let text = parent.map_or_else(|| "none".to_string(), |p| p.to_string());
    write_atomic(&git_dir.join(INDEX_BEHIND_MARKER), text.as_bytes())?;
    OPEN.with(|o| {
        if let Some(p) = o.borrow_mut().as_mut() {
            p.marked = true;
        }
    });
    Ok(())
}

/// Keeps the index entries of a commit that was made.
fn after_deferred_commit(updates: Vec<Update>) {
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
pub fn flush_index(root: &Path) -> Result<()> {
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
        let repo = open_repo(root)?;
        if let Err(e) = install_index(&repo, &updates) {
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
        let _ = std::fs::remove_file(git_dir.join(INDEX_BEHIND_MARKER));
    }
    Ok(())
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
