//! `mesa check`: validates a whole desk (config, knowledge base, every ticket) or some files,
//! and reports every problem in one run. Tickets are checked in parallel; the rules themselves
//! are in [`crate::rules::validate`].

use crate::model::diag::{Diagnostic, Result};
use crate::model::front_matter;
use crate::model::load::{self, Desk};
use crate::output::facts::{self, Cache, CheckFacts, Stat};
use crate::rules::validate::{check_config, check_ticket_text, TicketOutcome};
use crate::tr;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Result of checking a desk.
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    pub tickets: usize,
    pub pages: usize,
}

/// Checks everything under `root`.
pub fn check_desk(root: &Path) -> crate::model::diag::Result<Report> {
    check_desk_kept(root).map(|(report, _)| report)
}

/// [`check_desk`], also returning the desk it loaded: `mesa build` checks first and then
/// builds from the same desk instead of reading the knowledge base twice.
pub fn check_desk_kept(root: &Path) -> crate::model::diag::Result<(Report, Desk)> {
    let (desk, mut diags) = Desk::load(root)?;
    diags.extend(check_config(&desk));
    let paths = load::ticket_paths(root);
    // Each ticket's outcome comes from the facts cache while its file is unchanged.
    let cache = Cache::<CheckFacts>::open(root, "check", facts::stamp(&desk, "check"));
    let per_file: Vec<(String, Option<Stat>, TicketOutcome, bool)> = paths
        .par_iter()
        .map(|p| {
            let rel = load::rel(root, p);
            let key = facts::key(&rel);
            let stat = facts::stat_of(p);
            if let Some(kept) = stat.as_ref().and_then(|s| cache.get(&key, s)) {
                return (key, stat, kept.outcome(&rel), false);
            }
            let outcome = match front_matter::read_text(p) {
                Ok(text) => check_ticket_text(&desk, &rel, &text),
                Err(mut d) => {
                    d.path = rel.clone();
                    (vec![d], None)
                }
            };
            // The stat taken before reading is kept only when the file did not move meanwhile.
            let stat = stat.filter(|s| {
                facts::stat_of(p).as_ref() == Some(s) && CheckFacts::all_at(&outcome, &rel)
            });
            (key, stat, outcome, true)
        })
        .collect();
    let cacheable = per_file.iter().filter(|(_, s, _, _)| s.is_some()).count();
    if per_file.iter().any(|(_, _, _, fresh)| *fresh) || cache.len() != cacheable {
        let kept: Vec<CheckFacts> = per_file
            .iter()
            .map(|(_, _, o, _)| CheckFacts::of(o))
            .collect();
        cache.save(
            per_file
                .iter()
                .zip(&kept)
                .filter_map(|((k, s, _, _), f)| s.as_ref().map(|s| (k.as_str(), s, f))),
        );
    }
    let per_file = per_file.into_iter().map(|(_, _, o, _)| o);
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for (ds, id) in per_file {
        diags.extend(ds);
        if let Some((id, path)) = id {
            if let Some(first) = seen.get(&id) {
                diags.push(Diagnostic::new(
                    &path,
                    2,
                    1,
                    tr!("check.duplicate_id", id = id, other = first.display()),
                ));
            } else {
                seen.insert(id, path);
            }
        }
    }
    for d in &mut diags {
        d.path = load::rel(root, &d.path);
    }
    diags.sort();
    diags.dedup();
    let pages = desk.kb.catalog.len() + desk.kb.playbook.len() + desk.kb.articles.len();
    let report = Report {
        diagnostics: diags,
        tickets: paths.len(),
        pages,
    };
    Ok((report, desk))
}

/// `mesa check FILE...`: the desk's configuration and knowledge base, plus only the given
/// ticket files (what the pre-commit hook passes), without reading the rest of the desk.
pub fn check_files(root: &Path, files: &[PathBuf]) -> Result<Report> {
    use rayon::prelude::*;
    let (desk, mut diags) = Desk::load(root)?;
    diags.extend(check_config(&desk));
    let canon_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let cwd = std::env::current_dir()?;
    let tickets: Vec<(PathBuf, PathBuf)> = files
        .iter()
        .map(|f| {
            let abs = if f.is_absolute() {
                f.clone()
            } else {
                cwd.join(f)
            };
            let abs = abs.canonicalize().unwrap_or(abs);
            let rel = abs
                .strip_prefix(&canon_root)
                .map(Path::to_path_buf)
                .unwrap_or_else(|_| f.clone());
            (abs, rel)
        })
        .filter(|(_, rel)| rel.starts_with("tickets") && rel.extension().is_some_and(|x| x == "md"))
        .collect();
    let per_file: Vec<Vec<Diagnostic>> = tickets
        .par_iter()
        .map(|(abs, rel)| match front_matter::read_text(abs) {
            Ok(text) => check_ticket_text(&desk, rel, &text).0,
            Err(mut d) => {
                d.path = rel.clone();
                vec![d]
            }
        })
        .collect();
    diags.extend(per_file.into_iter().flatten());
    for d in &mut diags {
        d.path = load::rel(root, &d.path);
    }
    diags.sort();
    diags.dedup();
    let pages = desk.kb.catalog.len() + desk.kb.playbook.len() + desk.kb.articles.len();
    Ok(Report {
        diagnostics: diags,
        tickets: tickets.len(),
        pages,
    })
}
