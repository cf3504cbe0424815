//! `mesa build`: the static site. Load the desk -> prepare shared data (kb pages rendered once,
//! ticket rows, indexes) -> render every page in parallel with rayon, writing as it goes ->
//! search index and assets -> swap the new site into place.
//!
//! Pages get a small per-page Tera context (the page's own data plus a few globals); indexes
//! are inserted only into the pages that show them, so cost stays linear in the page count.
//! Every link is relative so the site works from `file://`, any static host or `mesa serve`.

pub mod fmt;
pub mod history;
mod incremental;
mod kbpages;
pub mod output;
mod reports;
pub mod theme;
mod tickets;

use crate::model::diag::{Diagnostic, Error, Result};
use crate::model::i18n::Catalog;
use crate::model::load::Desk;
use crate::output::markdown::{self, LinkTarget};
use crate::rules::calendar::Calendars;
use crate::tr;
use chrono::{DateTime, Utc};
pub use incremental::Session;
use output::{Output, Progress};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Leave out tickets, reports, customers' contacts and `internal: true` articles.
    pub public: bool,
    /// No progress output (the caller prints the summary, or not).
    pub quiet: bool,
    /// The instant clocks and "coming holidays" are computed at (default: now).
    pub now: Option<DateTime<Utc>>,
    /// Add `static/reload.js` to every page (for `mesa serve`; it does nothing elsewhere).
    pub live_reload: bool,
}

/// What a build produced.
#[derive(Debug, Clone)]
pub struct BuildSummary {
    pub pages: usize,
    pub files: usize,
    /// Files this build wrote (new or changed); the others already had the same bytes.
    pub changed: usize,
    pub bytes: u64,
    pub elapsed: Duration,
    /// Problems that did not stop the build (unreadable tickets, rule errors in a log...).
    pub warnings: Vec<Diagnostic>,
}

impl BuildSummary {
    /// The one-line summary in the active language.
    pub fn line(&self, out: &Path) -> String {
        let cat = crate::model::i18n::active();
        let f = fmt::Fmt::new(cat, chrono_tz::UTC);
        tr!(
            "site.summary",
            pages = f.int(self.pages as i64),
            seconds = f.dec1(self.elapsed.as_secs_f64()),
            size = f.size(self.bytes),
            out = out.display(),
            warnings = f.int(self.warnings.len() as i64)
        )
    }
}

/// Everything the page renderers share.
pub(crate) struct Site<'a> {
    pub desk: &'a Desk,
    pub opts: &'a BuildOptions,
    pub tera: tera::Tera,
    pub fmt: fmt::Fmt,
    pub cat: &'static Catalog,
    pub now: DateTime<Utc>,
    pub base: tera::Context,
    pub links: HashMap<PathBuf, LinkTarget>,
    pub out: Output,
    pub progress: Progress,
    pub cals: Calendars,
    pub pages: std::sync::atomic::AtomicUsize,
}

impl Site<'_> {
    pub fn internal(&self) -> bool {
        !self.opts.public
    }

    /// A context for the page at `url` (relative to the site root): the globals plus `root`.
    pub fn context(&self, url: &str, section: &str, title: &str) -> tera::Context {
        let mut ctx = self.base.clone();
        ctx.insert("root", &markdown::root_prefix(url));
        ctx.insert("page_url", url);
        ctx.insert("section", section);
        ctx.insert("title", title);
        ctx
    }

    /// Renders `template` with `ctx` and writes it at `url`.
    pub fn page(&self, url: &str, template: &str, ctx: &tera::Context) -> Result<()> {
        let html = theme::render(&self.tera, template, ctx)?;
        self.out.write(url, html.as_bytes())?;
        self.pages
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.progress.inc();
        Ok(())
    }

    pub fn label(&self, key: &str) -> String {
        self.cat.get(key)
    }

    /// The broken kb links of a Markdown body for the page at `page_url` (see [`Site::markdown`]).
    pub fn broken_links(
        &self,
        body: &str,
        path: &Path,
        body_line: usize,
        page_url: &str,
    ) -> Vec<Diagnostic> {
        let shown = crate::model::load::rel(&self.desk.root, path);
        let src = markdown::Source {
            path,
            shown: &shown,
            body_line,
            page_url,
        };
        markdown::broken_links(body, &src, &self.links)
    }

    /// Renders a Markdown body for the page at `page_url`.
    pub fn markdown(
        &self,
        body: &str,
        path: &Path,
        body_line: usize,
        page_url: &str,
    ) -> markdown::Rendered {
        let shown = crate::model::load::rel(&self.desk.root, path);
        markdown::render(
            body,
            &markdown::Source {
                path,
                shown: &shown,
                body_line,
                page_url,
            },
            &self.links,
        )
    }
}

/// A link with its text, for templates.
#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub title: String,
    pub url: String,
}

/// `mesa build [--out DIR] [--public]`: builds, prints warnings and the one-line summary.
pub fn command(
    global: &crate::cli::Global,
    out: Option<&Path>,
    public: bool,
) -> Result<std::process::ExitCode> {
    let root = global.desk_root()?;
    let out = match out {
        Some(o) => o.to_path_buf(),
        None => root.join("_site"),
    };
    let opts = BuildOptions {
        public,
        quiet: global.quiet,
        now: Some(global.now()?),
        live_reload: false,
    };
    let summary = build(&root, &out, &opts)?;
    for w in &summary.warnings {
        eprintln!("{}", tr!("site.warning", diagnostic = w));
    }
    if global.format == crate::cli::Format::Json {
        println!(
            "{}",
            serde_json::json!({
                "ok": true,
                "pages": summary.pages,
                "files": summary.files,
                "changed": summary.changed,
                "bytes": summary.bytes,
                "seconds": summary.elapsed.as_secs_f64(),
                "warnings": summary.warnings,
                "out": out,
            })
        );
    } else {
        // The summary is the command's result: printed even with --quiet (which only drops
        // the progress lines).
        eprintln!("{}", summary.line(&out));
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// Builds the site of the desk at `desk_root` into `out`.
pub fn build(desk_root: &Path, out: &Path, opts: &BuildOptions) -> Result<BuildSummary> {
    build_kept(desk_root, out, opts).map(|(summary, _)| summary)
}

/// What a full build loaded and computed, kept by [`Session`] for incremental rebuilds.
pub(crate) struct Kept {
    pub desk: Desk,
    pub kb: kbpages::KbPages,
    /// Ticket files (relative to the desk) and front matters, in the order of
    /// `tickets.rows` (empty in a public build).
    pub paths: Vec<PathBuf>,
    pub fronts: Vec<crate::model::ticket::TicketFront>,
    pub tickets: tickets::TicketOut,
    pub warnings: Vec<Diagnostic>,
}

/// The shared render state for `desk` (templates, globals, link targets, calendars).
pub(crate) fn new_site<'a>(
    desk: &'a Desk,
    opts: &'a BuildOptions,
    output: Output,
    progress: Progress,
) -> Result<(Site<'a>, Vec<Diagnostic>)> {
    let cat = crate::model::i18n::active();
    let tz: chrono_tz::Tz = desk.config.time_zone.parse().unwrap_or(chrono_tz::UTC);
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
    let progress = Progress::new(opts.quiet);
    progress.phase(&tr!("site.phase_load"));
    let (desk, diags) = Desk::load(desk_root)?;
    if !diags.is_empty() {
        return Err(Error::Diagnostics(rel_diags(desk_root, diags)));
    }
    let (site, mut warnings) = new_site(&desk, opts, Output::new(out)?, progress)?;
    let result = run(&site, &mut warnings);
    let Site {
        out: output,
        progress,
        pages,
        ..
    } = site;
    progress.finish();
    let (kb, paths, fronts, ticket_out) = match result {
        Ok(computed) => computed,
        Err(e) => {
            output.abandon();
            return Err(e);
        }
    };
    let files = output.files.load(std::sync::atomic::Ordering::Relaxed);
    let bytes = output.bytes.load(std::sync::atomic::Ordering::Relaxed);
    let changed = output.changed.load(std::sync::atomic::Ordering::Relaxed);
    output.finish()?;
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
        paths,
        fronts,
        tickets: ticket_out,
        warnings,
    };
    Ok((summary, kept))
}

fn rel_diags(root: &Path, mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    for d in &mut diags {
        d.path = crate::model::load::rel(root, &d.path);
    }
    diags.sort();
    diags.dedup();
    diags
}

type Computed = (
    kbpages::KbPages,
    Vec<PathBuf>,
    Vec<crate::model::ticket::TicketFront>,
    tickets::TicketOut,
);

fn run(site: &Site, warnings: &mut Vec<Diagnostic>) -> Result<Computed> {
    use rayon::prelude::*;
    let desk = site.desk;
    // Tickets are read in both builds: the public one only counts the tickets each article
    // solved, and shows none of them.
    let (tickets, ticket_diags) = crate::model::load::load_tickets(&desk.root);
    if site.internal() {
        warnings.extend(ticket_diags);
    }

    // kb pages: Markdown rendered once, links checked; broken links stop the build.
    site.progress.phase(&tr!("site.phase_kb"));
    let kb = kbpages::prepare(site, &tickets)?;
    if !kb.broken.is_empty() {
        return Err(Error::Diagnostics(rel_diags(&desk.root, kb.broken)));
    }

    site.progress.phase(&tr!("site.phase_render"));
    site.progress.add_total(
        (kb.page_count() + kbpages::FIXED_PAGES + if site.internal() { tickets.len() } else { 0 })
            as u64,
    );
    let ticket_out = tickets::render_all(site, &tickets, &kb)?;
    warnings.extend(ticket_out.warnings.iter().cloned());

    let jobs: Vec<Box<dyn Fn() -> Result<()> + Sync + '_>> = kbpages::jobs(site, &kb, &ticket_out);
    jobs.par_iter().try_for_each(|job| job())?;
    drop(jobs);
    let (paths, fronts): (Vec<PathBuf>, Vec<crate::model::ticket::TicketFront>) = if site.internal()
    {
        tickets::index_pages(site, &ticket_out, None)?;
        let (paths, fronts): (Vec<PathBuf>, Vec<crate::model::ticket::TicketFront>) =
            tickets.into_iter().map(|t| (t.path, t.front)).unzip();
        reports::pages(site, &fronts, &ticket_out)?;
        (paths, fronts)
    } else {
        drop(tickets);
        Default::default()
    };

    site.progress.phase(&tr!("site.phase_search"));
    site.out
        .write("search/pages.js", kb.page_index.finish().as_bytes())?;
    if site.internal() {
        let shards = crate::output::search::ticket_shards(&ticket_out.postings, &ticket_out.docs);
        shards.par_iter().try_for_each(|(name, text)| {
            site.out.write(&format!("search/t/{name}"), text.as_bytes())
        })?;
    }
    for (name, bytes) in theme::static_files(&desk.root)? {
        site.out.write(&format!("static/{name}"), &bytes)?;
    }
    Ok((kb, paths, fronts, ticket_out))
}
