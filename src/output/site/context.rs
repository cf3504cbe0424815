//! What every page renderer shares: the desk, the build options, the theme and catalogs, links,
//! and the ticket rows that the kb, ticket and report pages all show.

use super::output::{Output, Progress};
use super::{fmt, theme};
use crate::model::diag::{Diagnostic, Result};
use crate::model::i18n::Catalog;
use crate::model::load::Desk;
use crate::output::markdown::{self, LinkTarget};
use crate::output::search::{Postings, TicketDoc};
use crate::rules::calendar::Calendars;
use crate::tr;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Leave out tickets, reports, customers' contacts and `internal: true` articles.
    pub public: bool,
    /// Where to report progress (nothing when `None`).
    pub progress: Option<std::sync::Arc<dyn super::output::ProgressSink>>,
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

/// A template folded for a section and a folder depth: (template, section, root).
type FoldKey = (String, String, String);

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
    /// The templates folded for one kind of page (template, section, root), made on first use.
    pub folded: std::sync::Mutex<Vec<(FoldKey, std::sync::Arc<tera::Tera>)>>,
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
    ///
    /// Each thread renders into one buffer it keeps: a page is 10-20 KB, and a fresh buffer
    /// grew (and was copied) three or four times per page, then was checked as UTF-8 again.
    pub fn page(&self, url: &str, template: &str, ctx: &tera::Context) -> Result<()> {
        self.page_in(&self.tera, url, template, ctx)
    }

    /// [`Site::page`] rendered from `template` folded for the `section` and `root` of `ctx`,
    /// a context made by [`Site::context`] (see [`super::fold`]): for the many pages of one
    /// kind that share them.
    pub fn folded_page(&self, url: &str, template: &str, ctx: &tera::Context) -> Result<()> {
        let fixed = |k: &str| ctx.get(k).and_then(tera::Value::as_str).map(str::to_string);
        let (Some(section), Some(root)) = (fixed("section"), fixed("root")) else {
            return self.page(url, template, ctx);
        };
        let key = (template.to_string(), section, root);
        let tera = {
            let mut cache = self.folded.lock().unwrap_or_else(|e| e.into_inner());
            match cache.iter().find(|(k, _)| *k == key) {
                Some((_, t)) => t.clone(),
                None => {
                    let mut consts = self.base.clone();
                    consts.insert("section", &key.1);
                    consts.insert("root", &key.2);
                    let t = std::sync::Arc::new(super::fold::fold(&self.tera, template, &consts));
                    cache.push((key, t.clone()));
                    t
                }
            }
        };
        self.page_in(&tera, url, template, ctx)
    }

    fn page_in(
        &self,
        tera: &tera::Tera,
        url: &str,
        template: &str,
        ctx: &tera::Context,
    ) -> Result<()> {
        thread_local! {
            static BUF: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
        }
        let mut buf = BUF.take();
        buf.clear();
        let rendered = theme::render_to(tera, template, ctx, &mut buf)
            .and_then(|()| self.out.write(url, &buf));
        // A rare huge page does not keep its memory for the rest of the build.
        if buf.capacity() <= 1 << 20 {
            BUF.set(buf);
        }
        rendered?;
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
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Link {
    pub title: String,
    pub url: String,
}

/// Diagnostics with desk-relative paths, sorted, once each.
pub fn rel_diags(root: &Path, mut diags: Vec<Diagnostic>) -> Vec<Diagnostic> {
    for d in &mut diags {
        d.path = crate::model::load::rel(root, &d.path);
    }
    diags.sort();
    diags.dedup();
    diags
}

/// A ticket as the indexes and reports see it.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Row {
    pub id: String,
    pub url: String,
    pub title: String,
    #[serde(deserialize_with = "interned")]
    pub customer: &'static str,
    #[serde(deserialize_with = "interned")]
    pub customer_name: &'static str,
    #[serde(deserialize_with = "interned")]
    pub status: &'static str,
    #[serde(deserialize_with = "interned")]
    pub status_label: &'static str,
    #[serde(deserialize_with = "interned")]
    pub priority: &'static str,
    #[serde(deserialize_with = "interned")]
    pub priority_label: &'static str,
    pub level: u8,
    #[serde(deserialize_with = "interned")]
    pub assignee: &'static str,
    #[serde(deserialize_with = "interned")]
    pub assignee_name: &'static str,
    /// Worst clock state (`breached`, `at_risk`, `running`, `paused`, `met`...) or `none`.
    #[serde(deserialize_with = "interned")]
    pub sla: &'static str,
    #[serde(deserialize_with = "interned")]
    pub sla_label: &'static str,
    /// `sla` as a number for sorting, worst first; 9 without clocks.
    pub sla_rank: u8,
    /// The soonest due instant of a clock still running (past when overdue), short, RFC 3339
    /// and in Unix seconds for sorting.
    pub due: String,
    pub due_iso: String,
    pub due_ts: Option<i64>,
    pub created: String,
    /// The creation instant, short enough for a table cell.
    pub created_short: String,
    pub created_iso: String,
    /// `YYYY-MM` of creation, in the desk's time zone.
    #[serde(deserialize_with = "interned")]
    pub month: &'static str,
    pub open: bool,
    /// A customer email no agent has acted on since (`workflow::unread_reply`).
    pub unread: bool,
}

pub struct TicketOut {
    pub rows: Vec<Row>,
    pub docs: Vec<TicketDoc>,
    /// Search terms of every ticket (document number = index in `rows`).
    pub postings: Postings,
    pub warnings: Vec<Diagnostic>,
}

/// For `&'static str` fields of kept records (states, kinds, labels, customers, agents,
/// months: a handful of distinct values repeated on every ticket): [`crate::model::text::intern`].
pub(crate) fn interned<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<&'static str, D::Error> {
    let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
    Ok(crate::model::text::intern(&s))
}
