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
use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
        let fixed = |k: &str| ctx.get(k).and_then(tera::Value::as_str);
        let (Some(section), Some(root)) = (fixed("section"), fixed("root")) else {
            return self.page(url, template, ctx);
        };
        // Looked up by borrowed text: the key is copied only when a fold is first made.
        let tera = {
            let mut cache = self.folded.lock().unwrap_or_else(|e| e.into_inner());
            match cache
                .iter()
                .find(|((t, s, r), _)| t == template && s == section && r == root)
            {
                Some((_, t)) => t.clone(),
                None => {
                    let mut consts = self.base.clone();
                    consts.insert("section", section);
                    consts.insert("root", root);
                    let t = std::sync::Arc::new(super::fold::fold(&self.tera, template, &consts));
                    let key = (template.to_string(), section.to_string(), root.to_string());
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
    /// Shared with the ticket's citation and search document (one allocation each for the
    /// three at a million tickets; serialised as plain strings).
    pub id: Arc<str>,
    pub url: Arc<str>,
    pub title: Arc<str>,
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
    /// The soonest due instant of a clock still running (past when overdue), in its
    /// calendar's offset. Kept as an instant, not as the three strings the index pages show
    /// ([`RowView`]): at a million tickets the five date strings of a row were about 170 MB.
    #[serde(with = "moment")]
    pub due: Option<DateTime<FixedOffset>>,
    /// The creation instant with the offset it was recorded in (the first event's).
    #[serde(with = "moment")]
    pub created: Option<DateTime<FixedOffset>>,
    /// `YYYY-MM` of creation, in the desk's time zone.
    #[serde(deserialize_with = "interned")]
    pub month: &'static str,
    pub open: bool,
    /// A customer email no agent has acted on since (`workflow::unread_reply`).
    pub unread: bool,
}

impl Row {
    /// The creation instant as the file records it (RFC 3339, its own offset): the index
    /// pages sort by this text, newest first, as they did when it was kept.
    pub fn created_iso(&self) -> String {
        self.created
            .map(|c| crate::model::ticket::Stamp(c).to_string())
            .unwrap_or_default()
    }

    /// Whether two rows have the same creation instant *and* offset (what their
    /// [`Row::created_iso`] texts compare).
    pub fn same_created(&self, other: &Row) -> bool {
        let key = |r: &Row| r.created.map(|c| (c, c.offset().local_minus_utc()));
        key(self) == key(other)
    }
}

/// A row as the index templates read it: every field of [`Row`] under its old name, the
/// dates formatted now (`due`, `due_iso`, `due_ts`, `created`, `created_short`,
/// `created_iso`), so a desk's own `tickets_index.html` sees what it always saw.
pub(crate) struct RowView<'a> {
    pub row: &'a Row,
    /// [`Row::created_iso`], already made to sort the page.
    pub created_iso: String,
    pub fmt: &'a fmt::Fmt,
}

impl Serialize for RowView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let (r, f) = (self.row, self.fmt);
        let due = r.due;
        let mut m = s.serialize_struct("Row", 23)?;
        m.serialize_field("id", &r.id)?;
        m.serialize_field("url", &r.url)?;
        m.serialize_field("title", &r.title)?;
        m.serialize_field("customer", r.customer)?;
        m.serialize_field("customer_name", r.customer_name)?;
        m.serialize_field("status", r.status)?;
        m.serialize_field("status_label", r.status_label)?;
        m.serialize_field("priority", r.priority)?;
        m.serialize_field("priority_label", r.priority_label)?;
        m.serialize_field("level", &r.level)?;
        m.serialize_field("assignee", r.assignee)?;
        m.serialize_field("assignee_name", r.assignee_name)?;
        m.serialize_field("sla", r.sla)?;
        m.serialize_field("sla_label", r.sla_label)?;
        m.serialize_field("sla_rank", &r.sla_rank)?;
        m.serialize_field(
            "due",
            &due.map(|d| f.cell_datetime(d.with_timezone(&Utc)))
                .unwrap_or_default(),
        )?;
        m.serialize_field("due_iso", &due.map(|d| d.to_rfc3339()).unwrap_or_default())?;
        m.serialize_field("due_ts", &due.map(|d| d.timestamp()))?;
        m.serialize_field(
            "created",
            &r.created
                .map(|c| f.stamp(&crate::model::ticket::Stamp(c)))
                .unwrap_or_default(),
        )?;
        m.serialize_field(
            "created_short",
            &r.created
                .map(|c| f.cell_datetime(c.with_timezone(&Utc)))
                .unwrap_or_default(),
        )?;
        m.serialize_field("created_iso", &self.created_iso)?;
        m.serialize_field("month", r.month)?;
        m.serialize_field("open", &r.open)?;
        m.serialize_field("unread", &r.unread)?;
        m.end()
    }
}

/// A row's instants in the build manifest: seconds, nanoseconds and the offset in seconds
/// (three integers instead of five strings; the offset is kept because the pages show it).
mod moment {
    use chrono::{DateTime, FixedOffset};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        v: &Option<DateTime<FixedOffset>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        v.map(|d| {
            (
                d.timestamp(),
                d.timestamp_subsec_nanos(),
                d.offset().local_minus_utc(),
            )
        })
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<DateTime<FixedOffset>>, D::Error> {
        let Some((secs, nanos, offset)) = Option::<(i64, u32, i32)>::deserialize(d)? else {
            return Ok(None);
        };
        let bad = || serde::de::Error::custom("instant out of range");
        let offset = FixedOffset::east_opt(offset).ok_or_else(bad)?;
        let utc = DateTime::from_timestamp(secs, nanos).ok_or_else(bad)?;
        Ok(Some(utc.with_timezone(&offset)))
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ticket::Stamp;

    fn fmt(lang: &str) -> fmt::Fmt {
        fmt::Fmt::new(
            Box::leak(Box::new(Catalog::load(lang, None))),
            chrono_tz::America::Bogota,
        )
    }

    fn row(created: &str, due: Option<DateTime<chrono_tz::Tz>>) -> Row {
        Row {
            id: "260308-ABCDE".into(),
            url: "tickets/2026/03/260308-ABCDE.html".into(),
            title: "Impresora".into(),
            customer: "",
            customer_name: "",
            status: "new",
            status_label: "",
            priority: "",
            priority_label: "",
            level: 1,
            assignee: "",
            assignee_name: "",
            sla: "none",
            sla_label: "",
            sla_rank: 9,
            due: due.map(|d| d.fixed_offset()),
            created: Some(Stamp::parse(created).unwrap().0),
            month: "2026-03",
            open: true,
            unread: false,
        }
    }

    /// The six date fields an index page reads, as the view gives them.
    fn dates(r: &Row, f: &fmt::Fmt) -> [String; 6] {
        let v = serde_json::to_value(RowView {
            row: r,
            created_iso: r.created_iso(),
            fmt: f,
        })
        .unwrap();
        [
            "due",
            "due_iso",
            "due_ts",
            "created",
            "created_short",
            "created_iso",
        ]
        .map(|k| v[k].to_string().trim_matches('"').to_string())
    }

    /// Worked by hand: 8 March 2026 was a Sunday, Bogotá is UTC-5 all year, and New York
    /// moved to daylight time (UTC-4) at 02:00 that morning. The strings are those the rows
    /// used to keep (the due instant in its calendar's offset, the creation text in the
    /// offset it was recorded in, the cells in the desk's zone).
    #[test]
    fn the_formatted_dates_are_the_strings_rows_kept() {
        let ny = chrono_tz::America::New_York;
        let due = chrono::TimeZone::timestamp_opt(&ny, 1_772_955_000, 0).unwrap();
        let r = row("2026-03-08T01:30:00-05:00", Some(due));
        assert_eq!(
            dates(&r, &fmt("es")),
            [
                "08/03/2026 02:30",
                "2026-03-08T03:30:00-04:00",
                "1772955000",
                "domingo 8 de marzo de 2026, 01:30",
                "08/03/2026 01:30",
                "2026-03-08T01:30:00-05:00",
            ]
        );
        assert_eq!(
            dates(&r, &fmt("en")),
            [
                "2026-03-08 02:30",
                "2026-03-08T03:30:00-04:00",
                "1772955000",
                "Sunday 8 March 2026, 01:30",
                "2026-03-08 01:30",
                "2026-03-08T01:30:00-05:00",
            ]
        );
        // The same instant recorded in UTC with a fraction: the cells are the desk's,
        // the creation text keeps what the file wrote.
        let utc = row("2026-03-08T06:30:00.250Z", None);
        assert_eq!(
            dates(&utc, &fmt("en")),
            [
                "",
                "",
                "null",
                "Sunday 8 March 2026, 01:30",
                "2026-03-08 01:30",
                "2026-03-08T06:30:00.250+00:00",
            ]
        );
        assert!(!r.same_created(&utc));
        assert!(r.same_created(&row("2026-03-08T01:30:00-05:00", None)));
    }

    /// The manifest keeps a row's instants with their offsets and fractions.
    #[test]
    fn a_rows_instants_survive_the_manifest_encoding() {
        let ny = chrono_tz::America::New_York;
        let due = chrono::TimeZone::timestamp_opt(&ny, 1_772_955_000, 7).unwrap();
        for r in [
            row("2026-03-08T06:30:00.250Z", Some(due)),
            row("2026-11-30T10:00:00-05:00", None),
            row("2017-10-01T23:59:59+05:30", None),
        ] {
            let bytes = postcard::to_allocvec(&r).unwrap();
            let back: Row = postcard::from_bytes(Box::leak(bytes.into_boxed_slice())).unwrap();
            assert_eq!(back.created_iso(), r.created_iso());
            assert!(back.same_created(&r));
            let iso = |r: &Row| r.due.map(|d| d.to_rfc3339());
            assert_eq!(iso(&back), iso(&r));
            assert_eq!(dates(&back, &fmt("es")), dates(&r, &fmt("es")));
        }
    }
}
