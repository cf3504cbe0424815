//! `mesa check --history A..B`: a gate for a shared remote (pre-receive hook or CI). Replays
//! every commit of the range and refuses hand edits: a ticket's event log at each commit must
//! keep every event of its log at each parent, in the same order (merges interleave, but never
//! drop or rewrite); events a commit adds must pass the workflow; derived fields must equal the
//! replay (a status edited by hand "skips states"); tickets are never deleted. Then every file
//! at B must pass `mesa check`. The rules are the working folder's desk.yaml and kb/, or, in a
//! server's bare repository (the pre-receive gate, [`check_history_bare`]), those at B.

use crate::model::diag::{Diagnostic, Error, Result};
use crate::model::load::Desk;
use crate::model::ticket::{self, Event};
use crate::output::check::Report;
use crate::rules::workflow;
use crate::store::merge::key;
use crate::tr;
use git2::{Oid, Repository, Sort, Tree};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Checks the commits of `range` (`A..B`, or `B` for its whole history) of the repository
/// holding the desk at `root`.
pub fn check_history(root: &Path, range: &str) -> Result<Report> {
    let repo = crate::store::git::open_repo(root)?;
    let (desk, _) = Desk::load(root)?;
    let (from, to) = resolve(&repo, range)?;
    let workdir = repo
        .workdir()
        .ok_or_else(|| Error::Message(tr!("store.bare_repo")))?
        .canonicalize()?;
    let root_abs = root.canonicalize()?;
    let prefix = root_abs
        .strip_prefix(&workdir)
        .unwrap_or(Path::new(""))
        .to_path_buf();
    check_range(&repo, &desk, &prefix, from, to)
}

/// `mesa check --history` on a server's bare repository (the pre-receive gate): the
/// repository is the one git names in `GIT_DIR` (with the pushed objects still in quarantine,
/// `GIT_OBJECT_DIRECTORY` / `GIT_ALTERNATE_OBJECT_DIRECTORIES`), else the one holding the
/// current folder. There is no working folder: the desk (desk.yaml, kb/, theme/) is read from
/// the tree at B, the state being pushed, so a push that adds an article and links it in the
/// same range passes; history rules do not depend on it. `with_desk` is called with the
/// extracted desk folder before anything is checked (the face activates its language there).
pub fn check_history_bare(range: &str, with_desk: &dyn Fn(&Path)) -> Result<Report> {
    let repo = if std::env::var_os("GIT_DIR").is_some() {
        Repository::open_from_env()?
    } else {
        Repository::open_ext(
            std::env::current_dir()?,
            git2::RepositoryOpenFlags::empty(),
            std::iter::empty::<&std::ffi::OsStr>(),
        )?
    };
    let (from, to) = resolve(&repo, range)?;
    let tmp = tempfile::tempdir()?;
    let tree = repo.find_commit(to)?.tree()?;
    extract(&repo, &tree, tmp.path())?;
    with_desk(tmp.path());
    let (desk, _) = Desk::load(tmp.path())?;
    check_range(&repo, &desk, Path::new(""), from, to)
}

/// `A..B` as (A, B), or `B` alone as (None, B).
fn resolve(repo: &Repository, range: &str) -> Result<(Option<Oid>, Oid)> {
    let spec = repo
        .revparse(range)
        .map_err(|e| Error::Usage(tr!("history.bad_range", range = range, error = e.message())))?;
    let (from, to) = if spec.mode().contains(git2::RevparseMode::RANGE) {
        (spec.from().map(|o| o.id()), spec.to().map(|o| o.id()))
    } else {
        (None, spec.from().map(|o| o.id()))
    };
    let to =
        to.ok_or_else(|| Error::Usage(tr!("history.bad_range", range = range, error = "?")))?;
    Ok((from, to))
}

/// Every commit of `from..to`, then every file of the desk at `to` (under `prefix`).
fn check_range(
    repo: &Repository,
    desk: &Desk,
    prefix: &Path,
    from: Option<Oid>,
    to: Oid,
) -> Result<Report> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    walk.push(to)?;
    if let Some(f) = from {
        walk.hide(f)?;
    }
    let mut diags = Vec::new();
    for oid in walk {
        check_commit(repo, desk, prefix, oid?, &mut diags)?;
    }

    // Every file at B.
    let tree = repo.find_commit(to)?.tree()?;
    let tmp = tempfile::tempdir()?;
    let sub = if prefix.as_os_str().is_empty() {
        tree.clone()
    } else {
        let entry = tree.get_path(prefix)?;
        repo.find_tree(entry.id())?
    };
    extract(repo, &sub, tmp.path())?;
    let report = crate::output::check::check_desk(tmp.path())?;
    diags.extend(report.diagnostics);
    diags.sort();
    diags.dedup();
    Ok(Report {
        diagnostics: diags,
        tickets: report.tickets,
        pages: report.pages,
    })
}

fn short(oid: Oid) -> String {
    oid.to_string()[..10].to_string()
}

fn blob_text(repo: &Repository, tree: &Tree, path: &Path) -> Option<String> {
    let entry = tree.get_path(path).ok()?;
    let blob = repo.find_blob(entry.id()).ok()?;
    Some(String::from_utf8_lossy(blob.content()).into_owned())
}

fn check_commit(
    repo: &Repository,
    desk: &Desk,
    prefix: &Path,
    oid: Oid,
    diags: &mut Vec<Diagnostic>,
) -> Result<()> {
    let commit = repo.find_commit(oid)?;
    let tree = commit.tree()?;
    let parents: Vec<Tree> = commit.parents().filter_map(|p| p.tree().ok()).collect();
    let tickets_dir = prefix.join("tickets");
    let mut opts = git2::DiffOptions::new();
    opts.pathspec(tickets_dir.to_string_lossy().replace('\\', "/"));
    let mut changed: BTreeSet<PathBuf> = BTreeSet::new();
    let bases: Vec<Option<&Tree>> = if parents.is_empty() {
        vec![None]
    } else {
        parents.iter().map(Some).collect()
    };
    for base in bases {
        let diff = repo.diff_tree_to_tree(base, Some(&tree), Some(&mut opts))?;
        for d in diff.deltas() {
            for f in [d.old_file().path(), d.new_file().path()]
                .into_iter()
                .flatten()
            {
                if f.extension().is_some_and(|x| x == "md") {
                    changed.insert(f.to_path_buf());
                }
            }
        }
    }
    let id = short(oid);
    for path in changed {
        let shown = path.strip_prefix(prefix).unwrap_or(&path).to_path_buf();
        let before: Vec<Vec<Event>> = parents
            .iter()
            .filter_map(|p| blob_text(repo, p, &path))
            .filter_map(|t| ticket::parse(&shown, &t).ok())
            .map(|t| t.front.events)
            .collect();
        let Some(text) = blob_text(repo, &tree, &path) else {
            if !before.is_empty() {
                diags.push(Diagnostic::new(
                    &shown,
                    0,
                    0,
                    tr!("history.deleted", commit = id),
                ));
            }
            continue;
        };
        let Ok(split) = crate::model::front_matter::split(&shown, &text) else {
            diags.push(Diagnostic::new(
                &shown,
                1,
                1,
                tr!("history.unparseable", commit = id),
            ));
            continue;
        };
        let Ok(t) = ticket::parse(&shown, &text) else {
            diags.push(Diagnostic::new(
                &shown,
                1,
                1,
                tr!("history.unparseable", commit = id),
            ));
            continue;
        };
        let positions = crate::model::yamlpos::Positions::of(split.yaml);
        let at = |key: &str| crate::model::front_matter::locate(&split, &positions, key);
        let events = &t.front.events;
        let keys: Vec<String> = events.iter().map(key).collect();
        for old in &before {
            if let Some(lost) = first_missing(old, events, &keys) {
                let (line, col) = at("events");
                let e = &old[lost];
                diags.push(Diagnostic::new(
                    &shown,
                    line,
                    col,
                    tr!(
                        "history.rewritten",
                        commit = id,
                        index = lost,
                        event = e.event,
                        at = e.at
                    ),
                ));
            }
        }
        // Events no parent had: the ones this commit wrote.
        let mut known: HashMap<String, usize> = HashMap::new();
        for old in &before {
            let mut counts: HashMap<String, usize> = HashMap::new();
            for e in old {
                *counts.entry(key(e)).or_default() += 1;
            }
            for (k, n) in counts {
                let slot = known.entry(k).or_default();
                *slot = (*slot).max(n);
            }
        }
        let mut fresh = vec![false; events.len()];
        for (i, k) in keys.iter().enumerate() {
            match known.get_mut(k) {
                Some(n) if *n > 0 => *n -= 1,
                _ => fresh[i] = true,
            }
        }
        let customer = desk.config.customer(&t.front.customer);
        let (state, errors) = workflow::replay(desk.rules(), customer, events);
        for e in &errors {
            if fresh.get(e.event).copied().unwrap_or(false) {
                let (line, col) = at(&format!("events.{}.event", e.event));
                diags.push(Diagnostic::new(
                    &shown,
                    line,
                    col,
                    tr!(
                        "history.rule",
                        commit = id,
                        index = e.event,
                        message = e.message
                    ),
                ));
            }
        }
        if errors.is_empty() {
            for (field, have, want) in state.differences(&t.front) {
                let (line, col) = at(field);
                diags.push(Diagnostic::new(
                    &shown,
                    line,
                    col,
                    tr!(
                        "history.derived",
                        commit = id,
                        field = field,
                        have = have,
                        want = want
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The index (in `old`) of the first event of `old` that `new` does not keep in order, if any:
/// `old` must be a subsequence of `new`. The steps of one customer email (same kind and
/// `received_id`) count as kept when `new` holds them at all: a merge keeps one copy of a
/// message two clones imported (see [`crate::store::merge`]).
fn first_missing(old: &[Event], new_events: &[Event], new: &[String]) -> Option<usize> {
    let received: std::collections::HashSet<(ticket::EventKind, &str)> = new_events
        .iter()
        .filter_map(|e| e.received_id.as_deref().map(|r| (e.event, r)))
        .collect();
    let mut j = 0;
    for (i, e) in old.iter().enumerate() {
        if let Some(r) = e.received_id.as_deref() {
            if received.contains(&(e.event, r)) {
                continue;
            }
        }
        let k = key(e);
        while j < new.len() && new[j] != k {
            j += 1;
        }
        if j == new.len() {
            return Some(i);
        }
        j += 1;
    }
    None
}

/// Writes every blob of `tree` under `to`.
fn extract(repo: &Repository, tree: &Tree, to: &Path) -> Result<()> {
    let mut failure: Option<Error> = None;
    let walked = tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() != Some(git2::ObjectType::Blob) {
            return git2::TreeWalkResult::Ok;
        }
        let rel = Path::new(dir).join(entry.name().unwrap_or(""));
        let result = repo
            .find_blob(entry.id())
            .map_err(Error::from)
            .and_then(|b| {
                let path = to.join(&rel);
                if let Some(p) = path.parent() {
                    std::fs::create_dir_all(p)?;
                }
                std::fs::write(&path, b.content())?;
                Ok(())
            });
        match result {
            Ok(()) => git2::TreeWalkResult::Ok,
            Err(e) => {
                failure = Some(e);
                git2::TreeWalkResult::Abort
            }
        }
    });
    match failure {
        Some(e) => Err(e),
        None => walked.map_err(Error::from),
    }
}
