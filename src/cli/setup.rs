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
}

#[derive(Debug, Args)]
pub struct HooksArgs {
    #[command(subcommand)]
    pub action: HooksAction,
}

#[derive(Debug, Subcommand)]
pub enum HooksAction {
    /// Register the ticket merge driver and the pre-commit check in this clone.
    Install,
}

/// `mesa init DIR`.
pub fn init(global: &Global, a: InitArgs) -> Result<ExitCode> {
    global.activate_language(None);
    crate::store::hooks::init_desk(&a.dir)?;
    println!("{}", tr!("hooks.initialised", path = a.dir.display()));
    if !global.quiet {
        println!("  {}", tr!("hooks.init_next"));
    }
    Ok(ExitCode::SUCCESS)
}

/// `mesa hooks install`.
pub fn hooks(global: &Global, a: HooksArgs) -> Result<ExitCode> {
    match a.action {
        HooksAction::Install => {
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
