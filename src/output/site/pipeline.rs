//! A full build, from loading the desk to swapping the new site into place.

use super::context::*;
use super::output::{trace, Output, Progress};
use super::{fmt, theme};
use super::{kbpages, reports, tickets};
use crate::model::diag::{Diagnostic, Error, Result};
use crate::model::load::Desk;
use crate::rules::calendar::Calendars;
use crate::tr;
use chrono::Utc;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Builds the site of the desk at `desk_root` into `out`.
pub fn build(desk_root: &Path, out: &Path, opts: &BuildOptions) -> Result<BuildSummary> {
    build_kept(desk_root, out, opts).map(|(summary, _)| summary)
}

/// [`build`] from a desk already loaded without diagnostics (`mesa build` checks it first).
pub fn build_loaded(desk: Desk, out: &Path, opts: &BuildOptions) -> Result<BuildSummary> {
    let progress = Progress::new(opts.progress.clone());
    build_desk(desk, Instant::now(), progress, out, opts).map(|(summary, _)| summary)
}

/// What a full build loaded and computed, kept by [`Session`] for incremental rebuilds.
pub(crate) struct Kept {
    pub desk: Desk,
    pub kb: kbpages::KbPages,
    /// Ticket files (relative to the desk), citations and report facts, in the order of
    /// `tickets.rows` (paths and facts are empty in a public build).
    pub paths: Vec<PathBuf>,
    pub cites: Vec<tickets::Cite>,
    pub facts: Vec<Option<crate::output::report::TicketFacts>>,
    pub flow: Vec<super::flow::FlowFacts>,
    pub tickets: TicketOut,
    pub warnings: Vec<Diagnostic>,
    /// Every file of a clean build's output folder with its stat, as it wrote them
    /// ([`Output::finish`]): what the build manifest records without scanning the folder.
    pub outputs: Option<Vec<(String, crate::model::scan::Stat)>>,
}

/// The shared render state for `desk` (templates, globals, link targets, calendars).
pub(crate) fn new_site<'a>(
    desk: &'a Desk,
    opts: &'a BuildOptions,
    output: Output,
    progress: Progress,
) -> Result<(Site<'a>, Vec<Diagnostic>)> {
    let cat = crate::model::i18n::active();
    let tz: chrono_tz::Tz = desk.config.tz();
    let tera = theme::load(&desk.root, cat)?;
    let (cals, cal_diags) = Calendars::new(desk);
    let now = opts.now.unwrap_or_else(Utc::now);

    let mut base = tera::Context::new();
    let org = &desk.config.organisation;
    base.insert(
        "site",
        &serde_json::json!({
            "name": org.name,
            "full_name": org.full_name.clone().unwrap_or_else(|| org.name.clone()),
            "website": org.website,
            "manual": org.manual,
            "lang": cat.lang,
            "internal": !opts.public,
            "live_reload": opts.live_reload,
        }),
    );
    let site = Site {
        desk,
        opts,
        tera,
        fmt: fmt::Fmt::new(cat, tz),
        cat,
        now,
        base,
        links: kbpages::link_targets(desk, opts.public),
        out: output,
        progress,
        cals,
        pages: Default::default(),
        folded: Default::default(),
    };
    Ok((site, cal_diags))
}

/// [`build`], also returning what it loaded and computed.
pub(crate) fn build_kept(
    desk_root: &Path,
    out: &Path,
    opts: &BuildOptions,
) -> Result<(BuildSummary, Kept)> {
    let started = Instant::now();
    let progress = Progress::new(opts.progress.clone());
    progress.phase(&tr!("site.phase_load"));
    let (desk, diags) = Desk::load(desk_root)?;
    if !diags.is_empty() {
        return Err(Error::Diagnostics(rel_diags(desk_root, diags)));
    }
    build_desk(desk, started, progress, out, opts)
}

fn build_desk(
    desk: Desk,
    started: Instant,
    progress: Progress,
    out: &Path,
    opts: &BuildOptions,
) -> Result<(BuildSummary, Kept)> {
    let desk_root = desk.root.clone();
    let desk_root = desk_root.as_path();
    let (site, mut warnings) = new_site(&desk, opts, Output::new(out)?.aside(), progress)?;
    trace("templates loaded");
    let result = run(&site, &mut warnings);
    let Site {
        out: output,
        progress,
        pages,
        ..
    } = site;
    progress.finish();
    let (kb, streamed) = match result {
        Ok(computed) => computed,
        Err(e) => {
            output.abandon();
            return Err(e);
        }
    };
    let files = output.files.load(std::sync::atomic::Ordering::Relaxed);
    let bytes = output.bytes.load(std::sync::atomic::Ordering::Relaxed);
    let changed = output.changed.load(std::sync::atomic::Ordering::Relaxed);
    let outputs = output.finish()?;
    trace("output finished");
    let warnings = rel_diags(desk_root, warnings);
    let summary = BuildSummary {
        pages: pages.into_inner(),
        files,
        changed,
        bytes,
        elapsed: started.elapsed(),
        warnings: warnings.clone(),
    };
    let kept = Kept {
        desk,
        kb,
        paths: streamed.paths,
        cites: streamed.cites,
        facts: streamed.facts,
        flow: streamed.flow,
        tickets: streamed.out,
        warnings,
        outputs,
    };
    Ok((summary, kept))
}

type Computed = (kbpages::KbPages, tickets::Streamed);

fn run(site: &Site, warnings: &mut Vec<Diagnostic>) -> Result<Computed> {
    use rayon::prelude::*;
    let desk = site.desk;
    site.progress.phase(&tr!("site.phase_kb"));
    // Links are checked before any page is written, so that a broken one leaves an earlier
    // build's folder as it was. A folder this build creates is removed again on any error
    // (`Output::abandon`), so there the check is the one rendering does (the same
    // diagnostics: `kbpages::prepare` returns them), and each body is parsed once less.
    if !site.out.is_fresh() {
        kbpages::check_links(site)?;
    }

    // Tickets stream: read, rendered, written and dropped chunk by chunk. They are read in
    // both builds: the public one only counts the tickets each article solved, and shows none
    // of them.
    site.progress.phase(&tr!("site.phase_render"));
    trace("links checked");
    let files = crate::model::load::ticket_paths(&desk.root);
    trace("ticket paths listed");
    if site.internal() {
        site.progress.add_total(files.len() as u64);
    }
    let links = kbpages::article_links(site);
    let streamed = tickets::stream(site, &files, &|id: &str| links.get(id).cloned())?;
    trace("tickets rendered");
    drop(files);
    if site.internal() {
        warnings.extend(streamed.unreadable.iter().cloned());
    }
    warnings.extend(streamed.out.warnings.iter().cloned());
    let ticket_out = &streamed.out;

    // kb pages: Markdown rendered once (links were checked above).
    let kb = kbpages::prepare(site, &streamed.cites)?;
    if !kb.broken.is_empty() {
        return Err(Error::Diagnostics(rel_diags(&desk.root, kb.broken)));
    }
    trace("kb prepared");
    site.progress
        .add_total((kb.page_count() + kbpages::FIXED_PAGES + super::help::PAGES) as u64);
    let mut jobs: Vec<Box<dyn Fn() -> Result<()> + Sync + '_>> =
        kbpages::jobs(site, &kb, ticket_out);
    jobs.push(Box::new(move || super::help::pages(site)));
    // The page index (postings of every kb page, one JSON text) is written beside the pages,
    // first in line, so that one core encodes it while the other renders (it was written
    // alone after them, with the other core idle).
    let page_index = &kb.page_index;
    jobs.insert(
        0,
        Box::new(move || {
            site.out
                .write("search/pages.js", page_index.finish().as_bytes())
        }),
    );
    jobs.par_iter().try_for_each(|job| job())?;
    drop(jobs);
    trace("kb pages written");
    if site.internal() {
        tickets::index_pages(site, ticket_out, None)?;
        trace("index pages written");
        // The report pages (computed and written on one core) beside the search term files
        // (sorted and grouped on one core, then written on every core): one after the other
        // they kept a core idle for about 0.5 s of a 100,000-ticket build (session 10).
        let (reported, searched) = rayon::join(
            || {
                let report = crate::output::report::build_from_facts(
                    desk,
                    streamed.facts.iter().flatten(),
                    Some(crate::output::report::By::Month),
                    site.now,
                );
                reports::pages_of(site, report, &streamed.flow, ticket_out)
            },
            || {
                site.progress.phase(&tr!("site.phase_search"));
                crate::output::search::each_ticket_shard(
                    &ticket_out.postings,
                    &ticket_out.docs,
                    &|name: &str, text: &str| {
                        site.out.write(&format!("search/t/{name}"), text.as_bytes())
                    },
                )
            },
        );
        // The report's error first, as when the two ran in that order.
        reported?;
        searched?;
    } else {
        site.progress.phase(&tr!("site.phase_search"));
    }
    trace("search written");
    for (name, bytes) in theme::static_files(&desk.root)? {
        site.out.write(&format!("static/{name}"), &bytes)?;
    }
    Ok((kb, streamed))
}
