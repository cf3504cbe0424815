//! `mesa check`: validates a whole desk (config, knowledge base, every ticket) or some files,
//! and reports every problem in one run. Tickets are checked in parallel; the rules themselves
//! are in [`crate::rules::validate`].

use crate::model::diag::{Diagnostic, Result};
use crate::model::front_matter;
use crate::model::load::{self, Desk};
use crate::output::facts::{self, Cache, CheckFacts, Next, Stat};
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
    check_desk_kept(root).map(|(report, ..)| report)
}

/// [`check_desk`], also returning the desk it loaded and the ticket files it listed (stat
/// taken before reading): `mesa build` checks first and then builds from the same desk and
/// the same listing instead of reading the knowledge base and walking the tickets twice.
pub fn check_desk_kept(
    root: &Path,
) -> crate::model::diag::Result<(Report, Desk, Vec<crate::model::scan::Entry>)> {
    // The folders are listed and stat'ed while the desk loads: neither needs the other. A
    // knowledge base found sound before and unchanged since is not read and checked again.
    let (loaded, entries) = rayon::join(
        || Desk::load_checked(root),
        || crate::model::scan::ticket_entries(root),
    );
    let (desk, mut diags) = loaded?;
    // Each ticket's outcome comes from the facts cache while its file is unchanged.
    let cache = Cache::<CheckFacts>::open(root, "check", facts::stamp(&desk, "check"));
    // Per ticket: its stat when cacheable, its outcome, new facts or the old record kept.
    type PerFile = (Option<Stat>, TicketOutcome, Option<CheckFacts>, Option<u32>);
    let per_file: Vec<PerFile> = entries
        .par_iter()
        .enumerate()
        .map_init(crate::model::scan::Reader::default, |reader, (i, e)| {
            let rel = &e.rel;
            let stat = e.stat;
            if let Some((old, kept)) = stat.as_ref().and_then(|s| cache.fetch(i, e.key(), s)) {
                return (stat, kept.outcome(rel), None, Some(old));
            }
            // The stat is kept only when the file read is the one the scan saw.
            let (text, stat) = reader.read(root, e);
            let outcome = match text {
                Ok(text) => check_ticket_text(&desk, rel, &text),
                Err(mut d) => {
                    d.path = rel.clone();
                    (vec![d], None)
                }
            };
            let stat = stat.filter(|_| CheckFacts::all_at(&outcome, rel));
            let fresh = CheckFacts::of(&outcome);
            (stat, outcome, Some(fresh), None)
        })
        .collect();
    let cacheable = per_file.iter().filter(|(s, ..)| s.is_some()).count();
    let derived_again = per_file
        .iter()
        .any(|(s, _, f, _)| s.is_some() && f.is_some());
    // The next cache is written on another thread while the outcomes are gathered.
    std::thread::scope(|scope| {
        if derived_again || cache.len() != cacheable {
            scope.spawn(|| {
                cache.save(
                    entries
                        .iter()
                        .zip(&per_file)
                        .filter_map(|(e, (s, _, fresh, old))| {
                            let next = match (fresh, old) {
                                (Some(f), _) => Next::New(f),
                                (None, Some(i)) => Next::Old(*i),
                                (None, None) => return None,
                            };
                            Some((e.key(), s.as_ref()?, next))
                        }),
                );
            });
        }
        let mut seen: HashMap<&str, &Path, foldhash::fast::RandomState> =
            HashMap::with_capacity_and_hasher(per_file.len(), Default::default());
        let mut dups = Vec::new();
        for (_, (ds, id), _, _) in &per_file {
            diags.extend(ds.iter().cloned());
            if let Some((id, path)) = id {
                if let Some(first) = seen.get(id.as_str()) {
                    dups.push(Diagnostic::new(
                        path,
                        2,
                        1,
                        tr!("check.duplicate_id", id = id, other = first.display()),
                    ));
                } else {
                    seen.insert(id, path);
                }
            }
        }
        diags.extend(dups);
        for d in &mut diags {
            d.path = load::rel(root, &d.path);
        }
        diags.sort();
        diags.dedup();
    });
    let pages = desk.kb.catalog.len() + desk.kb.playbook.len() + desk.kb.articles.len();
    let report = Report {
        diagnostics: diags,
        tickets: entries.len(),
        pages,
    };
    Ok((report, desk, entries))
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
