//! `mesa hooks install --server`: the gate of a shared remote. In the server's bare repository
//! it installs a `pre-receive` hook (the script is `ci/pre-receive`, embedded) that runs
//! `mesa check --bare --history OLD..NEW` for every pushed branch and refuses the push with the
//! reasons, and it sets `receive.denyNonFastForwards` and `receive.denyDeletes`: history on the
//! server only grows, so nobody can rewrite past events by force-pushing around the gate.

use crate::model::diag::{Error, Result};
use crate::tr;
use std::path::{Path, PathBuf};

const HOOK: &str = include_str!("../../ci/pre-receive");
const HOOK_MARK: &str = "# installed by `mesa hooks install --server`";

/// Installs the gate in the bare repository at `git_dir`; returns the hook's path.
pub fn install_server(git_dir: &Path) -> Result<PathBuf> {
    let repo = git2::Repository::open(git_dir)?;
    if !repo.is_bare() {
        return Err(Error::Message(tr!(
            "hooks.not_bare",
            path = git_dir.display()
        )));
    }
    let exe = std::env::current_exe()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    let mut config = repo.config()?.open_level(git2::ConfigLevel::Local)?;
    config.set_bool("receive.denyNonFastForwards", true)?;
    config.set_bool("receive.denyDeletes", true)?;
    let hooks_dir = match repo.config()?.get_path("core.hooksPath") {
        Ok(p) if p.is_absolute() => p,
        Ok(p) => repo.path().join(p),
        Err(_) => repo.path().join("hooks"),
    };
    std::fs::create_dir_all(&hooks_dir)?;
    let hook = hooks_dir.join("pre-receive");
    if let Ok(existing) = std::fs::read_to_string(&hook) {
        if !existing.contains(HOOK_MARK) {
            return Err(Error::Message(tr!(
                "hooks.foreign_hook",
                path = hook.display()
            )));
        }
    }
    let script = HOOK.replace("@MESA@", &super::hooks::sh_quote(&exe.to_string_lossy()));
    crate::store::git::write_atomic(&hook, script.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))?;
    }
    Ok(hook)
}
