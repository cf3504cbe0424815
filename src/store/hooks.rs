//! Setting up desks and clones: `mesa init DIR` (a new desk from the embedded default
//! configuration, knowledge base and theme, in a new git repository) and `mesa hooks install`
//! (for an existing clone). Both register the ticket merge driver (`.gitattributes` + the
//! clone's git config, which git does not share between clones) and a pre-commit hook that runs
//! `mesa check` on the staged ticket files only, so it stays fast on big desks.

use crate::model::diag::{Error, Result};
use crate::model::load;
use crate::tr;
use include_dir::{include_dir, Dir};
use std::path::Path;

const DEFAULT_DESK: &str = include_str!("../../desk.yaml");
static DEFAULT_KB: Dir = include_dir!("$CARGO_MANIFEST_DIR/kb");
static DEFAULT_THEME: Dir = include_dir!("$CARGO_MANIFEST_DIR/theme");

/// The merge driver's name in `.gitattributes` and git config.
pub const DRIVER: &str = "mesa-ticket";
/// The `.gitattributes` line that routes ticket files to the driver.
pub const ATTRIBUTE: &str = "tickets/**/*.md merge=mesa-ticket";
const HOOK_MARK: &str = "# installed by `mesa hooks install`";

/// A new desk in `dir`: the embedded default configuration, knowledge base and theme, a git
/// repository with the merge driver and pre-commit check, and a first commit.
pub fn init_desk(dir: &Path) -> Result<()> {
    if dir.join(load::DESK_FILE).exists() {
        return Err(Error::Message(tr!(
            "hooks.desk_exists",
            path = dir.display()
        )));
    }
    std::fs::create_dir_all(dir)?;
    crate::store::git::write_atomic(&dir.join(load::DESK_FILE), DEFAULT_DESK.as_bytes())?;
    extract(&DEFAULT_KB, &dir.join("kb"))?;
    extract(&DEFAULT_THEME, &dir.join("theme"))?;
    std::fs::create_dir_all(dir.join("tickets"))?;
    crate::store::git::write_atomic(&dir.join("tickets/.gitkeep"), b"")?;
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        crate::store::git::write_atomic(&ignore, b"/outbox/\n/_site/\n/rejected/\n")?;
    }
    let repo = git2::Repository::init(dir)?;
    let root = dir.canonicalize()?;
    install(&repo, &root)?;
    let sig = repo
        .signature()
        .map(|s| {
            (
                s.name().unwrap_or("mesa").to_string(),
                s.email().unwrap_or("mesa@localhost").to_string(),
            )
        })
        .unwrap_or_else(|_| ("mesa".into(), "mesa@localhost".into()));
    let author = crate::store::git::Author {
        name: sig.0,
        email: sig.1,
        at: chrono::Utc::now().fixed_offset(),
    };
    let head_exists = repo.head().is_ok();
    if !head_exists {
        crate::store::git::commit_all(&repo, &tr!("hooks.init_commit"), &author)?;
    }
    Ok(())
}

fn extract(dir: &Dir, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for f in dir.files() {
        crate::store::git::write_atomic(
            &to.join(f.path().file_name().unwrap_or_default()),
            f.contents(),
        )?;
    }
    for d in dir.dirs() {
        extract(d, &to.join(d.path().file_name().unwrap_or_default()))?;
    }
    Ok(())
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Registers the driver and the hook; returns whether `.gitattributes` had to be changed.
pub fn install(repo: &git2::Repository, root: &Path) -> Result<bool> {
    let exe = std::env::current_exe()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let exe_q = sh_quote(&exe.to_string_lossy());

    // .gitattributes in the desk's folder (patterns there are relative to it).
    let attr_path = root.join(".gitattributes");
    let current = std::fs::read_to_string(&attr_path).unwrap_or_default();
    let added = !current.lines().any(|l| l.trim() == ATTRIBUTE);
    if added {
        let mut text = current;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(ATTRIBUTE);
        text.push('\n');
        crate::store::git::write_atomic(&attr_path, text.as_bytes())?;
    }

    let mut config = repo.config()?.open_level(git2::ConfigLevel::Local)?;
    config.set_str(
        &format!("merge.{DRIVER}.name"),
        "mesa: union of ticket event logs",
    )?;
    config.set_str(
        &format!("merge.{DRIVER}.driver"),
        &format!("{exe_q} merge-ticket %O %A %B %P"),
    )?;

    // The pre-commit hook, run by git at the top of the working folder.
    let workdir = repo
        .workdir()
        .ok_or_else(|| Error::Message(tr!("store.bare_repo")))?
        .canonicalize()?;
    let desk_rel = root.strip_prefix(&workdir).unwrap_or(root);
    let desk_arg = if desk_rel.as_os_str().is_empty() {
        ".".to_string()
    } else {
        desk_rel.to_string_lossy().into_owned()
    };
    let tickets = if desk_arg == "." {
        "tickets/".to_string()
    } else {
        format!("{desk_arg}/tickets/")
    };
    let hooks_dir = match repo.config()?.get_path("core.hooksPath") {
        Ok(p) if p.is_absolute() => p,
        Ok(p) => workdir.join(p),
        Err(_) => repo.path().join("hooks"),
    };
    std::fs::create_dir_all(&hooks_dir)?;
    let hook = hooks_dir.join("pre-commit");
    if let Ok(existing) = std::fs::read_to_string(&hook) {
        if !existing.contains(HOOK_MARK) {
            return Err(Error::Message(tr!(
                "hooks.foreign_hook",
                path = hook.display()
            )));
        }
    }
    let script = format!(
        "#!/bin/sh\n{HOOK_MARK}: checks the ticket files this commit adds or changes.\n\
         files=$(git diff --cached --name-only --diff-filter=ACMR -- {tickets_q})\n\
         [ -z \"$files\" ] && exit 0\n\
         exec {exe_q} --quiet --desk {desk_q} check $files\n",
        tickets_q = sh_quote(&tickets),
        desk_q = sh_quote(&desk_arg),
    );
    crate::store::git::write_atomic(&hook, script.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(added)
}
