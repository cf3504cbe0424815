//! Setting up clones: `mesa hooks install` (and `mesa init`, through [`install`]) registers
//! the ticket merge driver (`.gitattributes`, committed so every clone shares it, plus the
//! clone's git config, which git does not share between clones) and a pre-commit hook that
//! runs `mesa check` on the staged ticket files only, so it stays fast on big desks.

use crate::model::diag::{Error, Result};
use crate::tr;
use std::path::Path;

/// The merge driver's name in `.gitattributes` and git config.
pub const DRIVER: &str = "mesa-ticket";
/// The `.gitattributes` line that routes ticket files to the driver.
pub const ATTRIBUTE: &str = "tickets/**/*.md merge=mesa-ticket";
const HOOK_MARK: &str = "# installed by `mesa hooks install`";

pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Where git looks for this clone's hooks (`core.hooksPath`, else `.git/hooks`).
pub fn hooks_dir(repo: &git2::Repository, workdir: &Path) -> Result<std::path::PathBuf> {
    Ok(match repo.config()?.get_path("core.hooksPath") {
        Ok(p) if p.is_absolute() => p,
        Ok(p) => workdir.join(p),
        Err(_) => repo.path().join("hooks"),
    })
}

/// Whether `hook` is the pre-commit check `install` writes, executable.
pub fn is_our_hook(hook: &Path) -> bool {
    let ours = std::fs::read_to_string(hook).is_ok_and(|t| t.contains(HOOK_MARK));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        ours && std::fs::metadata(hook).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    ours
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
    let hooks_dir = hooks_dir(repo, &workdir)?;
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

/// Whether `.gitattributes` (with the merge rule) is in the repository, so every clone that
/// pulls gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shared {
    /// HEAD already has the file as it is on disk.
    Already,
    /// `mesa hooks install` committed it.
    Committed(git2::Oid),
    /// It could not be committed; the reason says what to do instead.
    NotCommitted(String),
}

/// The git identity of this clone (user.name and user.email), if it has one.
pub fn git_identity(repo: &git2::Repository) -> Option<(String, String)> {
    let config = repo.config().ok()?;
    let name = config.get_string("user.name").ok()?;
    let email = config.get_string("user.email").ok()?;
    Some((name, email))
}

/// `root/.gitattributes` as HEAD has it (None: not committed).
fn attributes_in_head(repo: &git2::Repository, rel: &Path) -> Option<String> {
    let tree = repo.head().ok()?.peel_to_tree().ok()?;
    let blob = tree
        .get_path(rel)
        .ok()?
        .to_object(repo)
        .ok()?
        .peel_to_blob()
        .ok()?;
    Some(String::from_utf8_lossy(blob.content()).into_owned())
}

/// Commits `.gitattributes` alone, with `message`, when HEAD lacks it or lacks the merge
/// rule; refuses (saying why and what to do) when the file carries someone's other
/// uncommitted edits, a merge or rebase is under way, or git has no identity to commit with.
pub fn share_attributes(repo: &git2::Repository, root: &Path, message: &str) -> Result<Shared> {
    let path = root.join(".gitattributes");
    let rel = crate::store::git::repo_relative(repo, &path)?;
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    let in_head = attributes_in_head(repo, &rel);
    if in_head.as_deref() == Some(on_disk.as_str()) {
        return Ok(Shared::Already);
    }
    let shown = rel.display().to_string();
    let by_hand = tr!("hooks.attributes_by_hand", file = shown);
    // Only the merge rule may differ from HEAD: other edits are someone's work in progress.
    let without_rule = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.trim() != ATTRIBUTE && !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    };
    if without_rule(&on_disk) != without_rule(in_head.as_deref().unwrap_or("")) {
        return Ok(Shared::NotCommitted(format!(
            "{} {by_hand}",
            tr!("hooks.attributes_other_edits", file = shown)
        )));
    }
    if repo.state() != git2::RepositoryState::Clean {
        return Ok(Shared::NotCommitted(format!(
            "{} {by_hand}",
            tr!("hooks.attributes_busy")
        )));
    }
    let Some((name, email)) = git_identity(repo) else {
        return Ok(Shared::NotCommitted(format!(
            "{} {by_hand}",
            tr!("hooks.attributes_no_identity")
        )));
    };
    let author = crate::store::git::Author {
        name,
        email,
        at: chrono::Local::now().fixed_offset(),
    };
    match crate::store::git::commit_paths(root, &[path], message, &author) {
        Ok(oid) => Ok(Shared::Committed(oid)),
        Err(e) => Ok(Shared::NotCommitted(format!("{e}. {by_hand}"))),
    }
}
