//! Setting up desks and clones: `mesa init DIR`, `mesa hooks install`, and the merge driver
//! git calls (`mesa merge-ticket`). The work is in [`crate::store::hooks`] and
//! [`crate::store::merge`].

use super::common::Global;
use crate::model::diag::{Error, Result};
use crate::model::load::Desk;
use crate::store::hooks::install;
use crate::tr;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder of the new desk (created if missing; must not hold a desk yet).
    pub dir: PathBuf,
    /// Also write the CI configuration for this system (github, gitlab, forgejo).
    #[arg(long, value_name = "KIND")]
    pub ci: Option<String>,
    /// With --ci: when the scheduled job runs (cron, UTC).
    #[arg(long, default_value = crate::store::ci::DEFAULT_CRON, requires = "ci")]
    pub cron: String,
}

#[derive(Debug, Args)]
pub struct CiArgs {
    #[command(subcommand)]
    pub action: CiAction,
}

#[derive(Debug, Subcommand)]
pub enum CiAction {
    /// Write and commit the CI configuration (github, gitlab, forgejo) and the scheduled
    /// script: check --history on every push; sweep, inbox and outbox on a schedule; the
    /// sites on the main branch.
    Install {
        /// github, gitlab or forgejo.
        kind: String,
        /// When the scheduled job runs (cron, UTC; default: every 15 minutes, 07:00-18:45
        /// Bogotá time, Monday to Friday).
        #[arg(long, default_value = crate::store::ci::DEFAULT_CRON)]
        cron: String,
    },
}

/// The author of setup commits: the repository's git identity, else `mesa`.
fn repo_author(root: &Path) -> crate::store::git::Author {
    let sig = git2::Repository::discover(root)
        .and_then(|r| r.signature())
        .ok()
        .map(|s| {
            (
                s.name().unwrap_or("mesa").to_string(),
                s.email().unwrap_or("mesa@localhost").to_string(),
            )
        })
        .unwrap_or_else(|| ("mesa".into(), "mesa@localhost".into()));
    crate::store::git::Author {
        name: sig.0,
        email: sig.1,
        at: chrono::Utc::now().fixed_offset(),
    }
}

/// Installs the CI files of `kind` in the desk at `root` and prints what was written.
fn ci_install(global: &Global, root: &Path, kind: &str, cron: &str) -> Result<()> {
    let written = crate::store::ci::install(root, kind, cron, &repo_author(root), true)?;
    for p in &written {
        println!("{}", tr!("ci.written", path = p.display()));
    }
    if !global.quiet {
        println!("  {}", tr!("ci.next", kind = kind));
    }
    Ok(())
}

/// `mesa ci install KIND`.
pub fn ci(global: &Global, a: CiArgs) -> Result<ExitCode> {
    match a.action {
        CiAction::Install { kind, cron } => {
            let root = global.desk_root()?;
            ci_install(global, &root, &kind, &cron)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Debug, Args)]
pub struct HooksArgs {
    #[command(subcommand)]
    pub action: HooksAction,
}

#[derive(Debug, Subcommand)]
pub enum HooksAction {
    /// Register the ticket merge driver and the pre-commit check in this clone; with
    /// --server, the pre-receive gate in a server's bare repository.
    Install {
        /// Install the push gate in the bare repository given (or the current folder):
        /// every pushed branch must pass `mesa check --history OLD..NEW`.
        #[arg(long, value_name = "BARE_REPO", num_args = 0..=1, default_missing_value = ".")]
        server: Option<PathBuf>,
    },
}

/// `mesa init DIR`.
pub fn init(global: &Global, a: InitArgs) -> Result<ExitCode> {
    global.activate_language(None);
    if let Some(kind) = &a.ci {
        // Refuse an unknown kind before anything is created.
        if !crate::store::ci::KINDS.iter().any(|k| k.0 == kind) {
            crate::store::ci::install(&a.dir, kind, &a.cron, &repo_author(&a.dir), false)?;
        }
    }
    crate::store::hooks::init_desk(&a.dir)?;
    println!("{}", tr!("hooks.initialised", path = a.dir.display()));
    if !global.quiet {
        println!("  {}", tr!("hooks.init_next"));
    }
    if let Some(kind) = &a.ci {
        ci_install(global, &a.dir, kind, &a.cron)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `mesa hooks install`.
pub fn hooks(global: &Global, a: HooksArgs) -> Result<ExitCode> {
    match a.action {
        HooksAction::Install {
            server: Some(git_dir),
        } => {
            global.activate_language(None);
            let hook = crate::store::server::install_server(&git_dir)?;
            println!("{}", tr!("hooks.server_installed", path = hook.display()));
            Ok(ExitCode::SUCCESS)
        }
        HooksAction::Install { server: None } => {
            let root = global.desk_root()?;
            let repo = crate::store::git::open_repo(&root)?;
            let root = root.canonicalize()?;
            let attributes_added = install(&repo, &root)?;
            println!("{}", tr!("hooks.installed"));
            if attributes_added && !global.quiet {
                println!("  {}", tr!("hooks.commit_attributes"));
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The common ancestor's version (%O).
    pub base: PathBuf,
    /// Our version (%A); the merge result is written here.
    pub ours: PathBuf,
    /// Their version (%B).
    pub theirs: PathBuf,
    /// The file's path in the repository (%P), for messages and to find the desk.
    pub path: Option<PathBuf>,
}

/// `mesa merge-ticket`: exit 0 with the merged ticket in OURS, or 1 (git then reports a
/// conflict) when the versions cannot be merged.
pub fn merge_driver(global: &Global, a: MergeArgs) -> Result<ExitCode> {
    let shown = a.path.clone().unwrap_or_else(|| a.ours.clone());
    let root = match &global.desk {
        Some(d) => d.clone(),
        None => {
            let cwd = std::env::current_dir()?;
            let start = cwd.join(&shown);
            let start = start.parent().unwrap_or(&cwd);
            crate::model::load::find_desk(start)
                .or_else(|| crate::model::load::find_desk(&cwd))
                .ok_or_else(|| Error::Message(tr!("load.no_desk_found")))?
        }
    };
    global.activate_language(Some(&root));
    let (desk, _) = Desk::load(&root)?;
    let read = |p: &Path| -> Result<String> {
        crate::model::front_matter::read_text(p).map_err(|mut d| {
            d.path = shown.clone();
            Error::from(d)
        })
    };
    let base = read(&a.base)?;
    let ours = read(&a.ours)?;
    let theirs = read(&a.theirs)?;
    let merged = crate::store::merge::merge_texts(&desk, &shown, &base, &ours, &theirs)?;
    crate::store::git::write_atomic(&a.ours, merged.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
