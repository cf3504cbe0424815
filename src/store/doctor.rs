//! `mesa doctor`: what this clone lacks to work with the others, each finding with how to
//! fix it. Git does not copy hooks or config between clones, so a fresh `git clone` of a desk
//! has neither the pre-commit check nor the ticket merge driver until `mesa hooks install`;
//! commits need an identity that is one of desk.yaml's agents; customer email needs SMTP
//! settings and an outbox that stays out of git; and an index left behind HEAD by a cut
//! commit makes the next `git commit` undo a step. Nothing here prints or changes anything.

use crate::model::desk::DeskConfig;
use crate::model::diag::Result;
use crate::store::hooks;
use crate::tr;
use git2::{Oid, Repository, Status};
use std::path::{Path, PathBuf};

/// One thing the clone lacks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// Stable name for scripts: `hook`, `merge_driver`, `attributes`, `identity`, `mail`,
    /// `outbox`, `index`.
    pub id: &'static str,
    /// What is missing or wrong, in the desk's language.
    pub problem: String,
    /// The command or edit that fixes it.
    pub fix: String,
}

fn finding(id: &'static str, problem: String, fix: String) -> Finding {
    Finding { id, problem, fix }
}

/// Every finding for the clone holding the desk at `root`; `config` is its desk.yaml (None
/// when it does not load: `mesa check` reports that).
pub fn examine(root: &Path, config: Option<&DeskConfig>) -> Result<Vec<Finding>> {
    let repo = crate::store::git::open_repo(root)?;
    let root = root.canonicalize()?;
    let mut out = Vec::new();
    let Some(workdir) = repo
        .workdir()
        .map(|w| w.canonicalize().unwrap_or(w.to_path_buf()))
    else {
        return Err(crate::model::diag::Error::Message(tr!("store.bare_repo")));
    };

    // The pre-commit check.
    let hook = hooks::hooks_dir(&repo, &workdir)?.join("pre-commit");
    if !hooks::is_our_hook(&hook) {
        out.push(finding(
            "hook",
            tr!("doctor.no_hook", path = hook.display()),
            tr!("doctor.fix_hooks"),
        ));
    }

    // The merge driver: in git config (per clone), and its program still there.
    let driver = repo
        .config()
        .and_then(|c| c.get_string(&format!("merge.{}.driver", hooks::DRIVER)))
        .ok();
    match driver {
        None => out.push(finding(
            "merge_driver",
            tr!("doctor.no_driver"),
            tr!("doctor.fix_hooks"),
        )),
        Some(cmd) => {
            if let Some(program) = driver_program(&cmd) {
                if !program.is_file() {
                    out.push(finding(
                        "merge_driver",
                        tr!("doctor.driver_gone", program = program.display()),
                        tr!("doctor.fix_hooks"),
                    ));
                }
            }
        }
    }

    // .gitattributes: the rule on disk, and committed so that every clone has it.
    let attr_path = root.join(".gitattributes");
    let text = std::fs::read_to_string(&attr_path).unwrap_or_default();
    if !text.lines().any(|l| l.trim() == hooks::ATTRIBUTE) {
        out.push(finding(
            "attributes",
            tr!("doctor.no_attributes", rule = hooks::ATTRIBUTE),
            tr!("doctor.fix_hooks"),
        ));
    } else {
        let rel = crate::store::git::repo_relative(&repo, &attr_path)?;
        let committed = repo
            .head()
            .and_then(|h| h.peel_to_tree())
            .ok()
            .and_then(|t| t.get_path(&rel).ok())
            .is_some_and(|e| {
                Oid::hash_file(git2::ObjectType::Blob, &attr_path).ok() == Some(e.id())
            });
        if !committed {
            out.push(finding(
                "attributes",
                tr!("doctor.attributes_uncommitted"),
                tr!("doctor.fix_hooks"),
            ));
        }
    }

    // Who commits: git's identity must be one of the desk's agents.
    let email = repo.config().and_then(|c| c.get_string("user.email")).ok();
    let name = repo.config().and_then(|c| c.get_string("user.name")).ok();
    if let Some(cfg) = config {
        let agents = cfg
            .agents
            .iter()
            .map(|a| format!("{} <{}>", a.code, a.email))
            .collect::<Vec<_>>()
            .join(", ");
        match (&name, &email) {
            (Some(_), Some(e)) if cfg.agent_by_email(e).is_some() => {}
            (_, Some(e)) if cfg.agent_by_email(e).is_none() => out.push(finding(
                "identity",
                tr!("doctor.identity_not_agent", email = e),
                tr!("doctor.fix_identity", agents = agents),
            )),
            _ => out.push(finding(
                "identity",
                tr!("doctor.no_identity"),
                tr!("doctor.fix_identity", agents = agents),
            )),
        }

        // Customer email: somewhere to send it.
        if cfg.mail.smtp_host.trim().is_empty() {
            out.push(finding(
                "mail",
                tr!("doctor.no_smtp"),
                tr!("doctor.fix_smtp"),
            ));
        }
    }

    // The outbox is this clone's queue: committing it would send other clones' mail twice.
    let probe = root.join("outbox").join("probe.eml");
    if let Ok(rel) = crate::store::git::repo_relative(&repo, &probe) {
        if !repo.is_path_ignored(&rel).unwrap_or(false) {
            out.push(finding(
                "outbox",
                tr!("doctor.outbox_not_ignored"),
                tr!("doctor.fix_outbox"),
            ));
        }
    }

    // An index left behind HEAD.
    let stale = stale_index(&repo, &workdir, &root)?;
    if !stale.is_empty() {
        let list = stale
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" ");
        out.push(finding(
            "index",
            tr!("doctor.stale_index", count = stale.len(), paths = list),
            tr!("doctor.fix_index", paths = list),
        ));
    }
    Ok(out)
}

/// The program a merge driver command runs: its first word, shell-quoted or not.
fn driver_program(cmd: &str) -> Option<PathBuf> {
    let cmd = cmd.trim();
    let word = if let Some(rest) = cmd.strip_prefix('\'') {
        rest.split('\'').next()?.to_string()
    } else {
        cmd.split_whitespace().next()?.to_string()
    };
    let path = PathBuf::from(word);
    // A bare name is looked up on PATH by git; only a path can be checked.
    path.is_absolute().then_some(path)
}

/// Desk files (tickets, kb, desk.yaml) whose index entry differs from HEAD while the working
/// copy equals HEAD: the trace of a commit whose index write was cut short. Only desk content
/// is looked at, so a file someone staged on purpose elsewhere is never touched.
/// `workdir` and `root` are canonical paths.
pub fn stale_index(repo: &Repository, workdir: &Path, root: &Path) -> Result<Vec<PathBuf>> {
    let Ok(head) = repo.head().and_then(|h| h.peel_to_tree()) else {
        return Ok(Vec::new());
    };
    let mut opts = git2::StatusOptions::new();
    opts.include_untracked(false).include_ignored(false);
    let mut out = Vec::new();
    for s in repo.statuses(Some(&mut opts))?.iter() {
        if !s
            .status()
            .intersects(Status::INDEX_MODIFIED | Status::INDEX_DELETED | Status::INDEX_NEW)
        {
            continue;
        }
        let Ok(rel) = s.path() else { continue };
        let abs = workdir.join(rel);
        let Ok(desk_rel) = abs.strip_prefix(root) else {
            continue;
        };
        if !(desk_rel.starts_with("tickets")
            || desk_rel.starts_with("kb")
            || desk_rel == Path::new(crate::model::load::DESK_FILE))
        {
            continue;
        }
        let in_head = head.get_path(Path::new(rel)).ok().map(|e| e.id());
        let on_disk = if abs.is_file() {
            Oid::hash_file(git2::ObjectType::Blob, &abs).ok()
        } else {
            None
        };
        if in_head == on_disk {
            out.push(PathBuf::from(rel));
        }
    }
    Ok(out)
}
