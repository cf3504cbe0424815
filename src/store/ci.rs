//! `mesa ci install KIND` and `mesa init --ci KIND`: the desk's CI configuration for GitHub
//! Actions, GitLab CI or Forgejo Actions, from the templates in `ci/` (embedded), plus the
//! scheduled job's script `scripts/mesa-scheduled.sh`, the same file this repository's tests
//! run against a bare repository. Written and committed as one commit.

use crate::model::diag::{Error, Result};
use crate::store::git::{Author, Change};
use crate::tr;
use std::path::{Path, PathBuf};

/// Every 15 minutes, 07:00-18:45 in Bogotá (UTC-5) on weekdays, in the UTC that CI cron uses.
pub const DEFAULT_CRON: &str = "*/15 12-23 * * 1-5";

const SCRIPT: &str = include_str!("../../scripts/mesa-scheduled.sh");
pub const SCRIPT_PATH: &str = "scripts/mesa-scheduled.sh";

/// The CI systems mesa has templates for: (name, template, where it goes in the desk).
pub const KINDS: &[(&str, &str, &str)] = &[
    (
        "github",
        include_str!("../../ci/github.yml"),
        ".github/workflows/mesa.yml",
    ),
    (
        "gitlab",
        include_str!("../../ci/gitlab.yml"),
        ".gitlab-ci.yml",
    ),
    (
        "forgejo",
        include_str!("../../ci/forgejo.yml"),
        ".forgejo/workflows/mesa.yml",
    ),
];

/// Writes the CI file of `kind` and the scheduled script into the desk at `root` and commits
/// them (when `commit`). A file already there with other contents is refused, not replaced.
/// Returns the paths written, relative to the desk.
pub fn install(
    root: &Path,
    kind: &str,
    cron: &str,
    author: &Author,
    commit: bool,
) -> Result<Vec<PathBuf>> {
    let Some((_, template, dest)) = KINDS.iter().find(|(k, _, _)| *k == kind) else {
        return Err(Error::Usage(tr!(
            "ci.unknown_kind",
            kind = kind,
            list = KINDS.iter().map(|k| k.0).collect::<Vec<_>>().join(", ")
        )));
    };
    if cron.split_whitespace().count() != 5 || cron.contains(['"', '\n']) {
        return Err(Error::Usage(tr!("ci.bad_cron", cron = cron)));
    }
    let files = [
        (PathBuf::from(dest), template.replace("@CRON@", cron)),
        (PathBuf::from(SCRIPT_PATH), SCRIPT.to_string()),
    ];
    let mut changes = Vec::new();
    let mut written = Vec::new();
    for (rel, text) in files {
        let path = root.join(&rel);
        match std::fs::read_to_string(&path) {
            Ok(existing) if existing == text => continue,
            Ok(_) => return Err(Error::Message(tr!("ci.exists", path = rel.display()))),
            Err(_) => {}
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        changes.push(Change {
            path,
            contents: text.into_bytes(),
        });
        written.push(rel);
    }
    if !changes.is_empty() {
        crate::store::git::write_and_commit(
            root,
            &changes,
            &tr!("ci.commit", kind = kind),
            author,
            commit,
        )?;
    }
    Ok(written)
}
