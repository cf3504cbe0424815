//! The build manifest: what a `mesa build` kept of the site it wrote, so that the next
//! `mesa build` (a fresh process) renders only the pages that depend on what changed, the way
//! `mesa serve`'s [`Session`] does in memory, and the output stays byte for byte that of a
//! full build.
//!
//! - Stored outside the tracked tree, beside the facts cache ([`crate::output::facts::cache_dir`]):
//!   `<gitdir>/mesa/site.bin`, the record of the last full build, and `site.delta`, what the
//!   incremental builds since changed. A desk outside git has none and always builds in full.
//! - The full record is written once per full build, in sections (the head, the tickets'
//!   and the output's stats, paths, citations, report and flow facts, index rows, search
//!   documents, the postings by ranges of documents, articles, page index, the rows by month,
//!   the term groups), each with its own checksum; it is mapped and only the sections a change
//!   needs are decoded (an article body edited reads only the citations of the per-ticket
//!   ones). The per-ticket citations, facts, rows and search documents are [`records`], each
//!   decodable alone: a ticket edit reads its own, its month's rows, the paths, its range of
//!   the postings and the `search/t/` files its terms reach ([`termshards`]), never the
//!   whole postings. An incremental build rewrites only the small delta (the records of
//!   the tickets and articles it patched, the new stats of what it read and wrote), whole and
//!   atomically; it names the full record it applies to. A build killed at any point leaves
//!   the old files, which the stats then contradict wherever it wrote: a full build.
//! - What it keeps: per ticket what its pages need from the others (index row, search
//!   document and postings, report and trend/load facts, the kb citations), the rendered
//!   articles as the indexes show them and the page search index; and the state of every
//!   source and output file.
//! - Keyed as the facts cache keys its entries ([`facts::Stat`]: size, modification and change
//!   times, inode, device), with git's racy rule: a file touched at or after the moment the
//!   record holding its stat was written (that file's own modification time, the file
//!   system's clock) is never trusted. Tickets and articles whose files moved are rendered
//!   again; any other difference in the output folder (a page edited, added or removed by
//!   hand, another `--out`) means a full build.
//! - Versioned by a stamp hashing mesa's version and build, the language, and every global
//!   input of the site (desk.yaml, every file of theme/ and of kb/ but the articles, the
//!   calendars' holiday files): any change there is a full build. The articles' git history
//!   (their "last updated" lines) must be unchanged too: new commits are accepted only when
//!   none of them touches `kb/`.
//! - The instant of the clocks: an incremental build keeps the one of the last full build, as
//!   `mesa serve` does, for at most [`REFRESH_AFTER_MINUTES`] (an explicit `--now` must equal
//!   it); past that, a full build moves it on. Public builds are always full.
//!
//! A missing, truncated, corrupt or foreign record (or section of it) is ignored and written
//! again; a delta that does not match the full record is ignored.

use super::context::{BuildOptions, BuildSummary, TicketOut};
use super::incremental::{
    Log, PagePatch, Part, Pending, Session, Terms, TicketPatch, REFRESH_AFTER_MINUTES,
};
use super::kbpages::{ArticleView, KbPages};
use super::output::trace;
use super::pipeline::Kept;
use super::records::{self, Records};
use super::termshards::{self, DocShards, Groups};
use crate::model::diag::{Diagnostic, Result};
use crate::model::load::Desk;
use crate::model::mapped::Bytes;
use crate::model::scan::Entry;
use crate::output::facts::{self, Fnv, Stat};
use crate::output::search::PageIndex;
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"MESASITE";
const DELTA_MAGIC: &[u8; 8] = b"MESADLTA";
/// Bumped whenever the layout of anything kept changes.
const FORMAT: u32 = 5;
const FILE: &str = "site.bin";
const DELTA_FILE: &str = "site.delta";
/// More new commits than this since the last build: checking that none touched `kb/` is not
/// worth it, build in full.
const MAX_NEW_COMMITS: usize = 1000;

/// The sections of the full record, in file order.
const META: usize = 0;
const TICKETS: usize = 1;
const OUTPUT: usize = 2;
const PATHS: usize = 3;
const CITES: usize = 4;
const FACTS: usize = 5;
const FLOW: usize = 6;
const ROWS: usize = 7;
const DOCS: usize = 8;
/// The ticket postings by ranges of documents ([`termshards`]), and the term groups.
const TERMS: usize = 9;
const ARTICLES: usize = 10;
const PAGES: usize = 11;
const MONTHS: usize = 12;
const GROUPS: usize = 13;
const SECTIONS: usize = 14;
/// Magic, format, stamp, the record's id, the number of sections; then per section its
/// offset, length and checksum, then the checksum of all that.
const HEAD: usize = 8 + 4 + 8 + 8 + 4;
const TABLE: usize = SECTIONS * 24 + 8;

/// A diagnostic as kept (its `hint` is skipped when empty in JSON, which a compact binary
/// format cannot read back).
type Diag = (PathBuf, usize, usize, String, Option<String>);

fn diag_out(d: &Diagnostic) -> Diag {
    (
        d.path.clone(),
        d.line,
        d.col,
        d.message.clone(),
        d.hint.clone(),
    )
}

fn diag_in((path, line, col, message, hint): Diag) -> Diagnostic {
    Diagnostic::new(&path, line, col, message).with_hint(hint)
}

/// An article as recorded: relative path, stat, hash of the front matter.
type ArticleState = (String, Option<Stat>, u64);

/// The head of the full record: where, when, from which commit, the articles, the warnings.
#[derive(Serialize, Deserialize)]
struct Meta {
    /// The output folder, canonical.
    out: PathBuf,
    /// The instant of the clocks (nanoseconds since the epoch).
    now_ns: i64,
    /// HEAD's commit and the id of its `kb/` tree, when the desk has commits.
    git: Option<(String, Option<String>)>,
    /// Articles in the desk's order.
    articles: Vec<ArticleState>,
    ticket_warnings: Vec<Diag>,
    warnings: Vec<Diag>,
}

/// Bytes kept as such in a record (another record inside it, read only when needed).
struct Blob<'a>(&'a [u8]);

impl Serialize for Blob<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_bytes(self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Blob<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        <&'a [u8]>::deserialize(d).map(Blob)
    }
}

/// What the incremental builds since the full record changed (written whole each time).
#[derive(Serialize, Deserialize)]
struct Delta<'a> {
    /// The full record this applies to.
    base: u64,
    /// Ticket files whose stat moved since the full record (path, new stat).
    #[serde(borrow)]
    tickets: Vec<(&'a str, Option<Stat>)>,
    /// Output files written or removed since (path, new stat; `None`: removed).
    #[serde(borrow)]
    output: Vec<(&'a str, Option<Stat>)>,
    /// Every article, now.
    articles: Vec<ArticleState>,
    /// The build's warnings, now.
    warnings: Vec<Diag>,
    /// Each patched ticket's record ([`TicketPatch`]) and article's ([`PagePatch`]).
    #[serde(borrow)]
    patched: Vec<(u32, Blob<'a>)>,
    #[serde(borrow)]
    pages: Vec<(u32, Blob<'a>)>,
    /// The term groups of `search/t/` now.
    groups: Groups,
}

/// What a build did: the summary, and whether it was incremental.
pub struct Built {
    pub summary: BuildSummary,
    pub incremental: bool,
    /// Why the build manifest could not be written (the next build is then a full one).
    pub not_saved: Option<NotSaved>,
}

/// `mesa build`: builds the desk at `root` into `out`, incrementally when the manifest of the
/// last build says which pages the changes since reach. `entries`: the ticket files as the
/// check before the build listed them (stat taken before it read them). `explicit_now`: the
/// instant in `opts` was asked for (`--now`), not just the clock's.
pub fn build(
    root: &Path,
    desk: Desk,
    entries: &[Entry],
    out: &Path,
    opts: &BuildOptions,
    explicit_now: bool,
) -> Result<Built> {
    let dir = facts::cache_dir(root).filter(|_| !opts.public);
    let Some(dir) = dir else {
        // A public build (or a desk outside git): the manifest no longer describes `out`.
        if let Some(d) = facts::cache_dir(root) {
            let _ = std::fs::remove_file(d.join(DELTA_FILE));
            let _ = std::fs::remove_file(d.join(FILE));
        }
        let summary = super::pipeline::build_loaded(desk, out, opts)?;
        return Ok(Built {
            summary,
            incremental: false,
            not_saved: None,
        });
    };
    let (file, delta_file) = (dir.join(FILE), dir.join(DELTA_FILE));
    let mut sources = Sources::scan(root, desk, entries);
    trace("sources scanned");
    let now = opts.now.unwrap_or_else(Utc::now);
    let resumed = Base::read(&file).and_then(|base| {
        let delta = read_delta(&delta_file, &base);
        resume(base, delta, root, out, &mut sources, now, explicit_now)
    });
    trace("manifest read");
    match resumed {
        Some(Resumed::Unchanged(warnings)) => {
            return Ok(Built {
                summary: BuildSummary {
                    pages: 0,
                    files: 0,
                    changed: 0,
                    bytes: 0,
                    elapsed: std::time::Duration::ZERO,
                    warnings,
                },
                incremental: true,
                not_saved: None,
            });
        }
        Some(Resumed::Patch {
            mut session,
            changed,
            now: kept_now,
            base,
            tickets,
        }) => {
            let opts = BuildOptions {
                now: Some(kept_now),
                ..opts.clone()
            };
            if let Some(summary) = session.patch(&changed, &opts)? {
                save_delta(
                    &delta_file,
                    out,
                    &session,
                    &sources,
                    base,
                    tickets,
                    &changed,
                );
                // `mesa build` ends here: 100,000 rows and postings are not freed one by one.
                std::mem::forget(session);
                return Ok(Built {
                    summary,
                    incremental: true,
                    not_saved: None,
                });
            }
        }
        None => {}
    }
    let _ = std::fs::remove_file(&delta_file);
    let opts = BuildOptions {
        now: Some(now),
        ..opts.clone()
    };
    let (session, summary) = Session::build(root, out, &opts)?;
    trace("site built");
    let saved = save(&file, out, &session, &sources);
    trace("manifest saved");
    std::mem::forget(session);
    Ok(Built {
        summary,
        incremental: false,
        not_saved: saved.err(),
    })
}

/// The desk's sources as found before a build reads them.
struct Sources {
    desk: Option<Desk>,
    stamp: u64,
    tickets: Vec<(String, Option<Stat>)>,
    articles: Vec<ArticleState>,
    git: Option<(String, Option<String>)>,
}

impl Sources {
    /// `desk` as `mesa build` loaded and checked it (no diagnostics), `entries` its tickets.
    fn scan(root: &Path, desk: Desk, entries: &[Entry]) -> Sources {
        let tickets = entries
            .iter()
            .map(|e| (facts::key(&e.rel), e.stat))
            .collect();
        let articles = desk
            .kb
            .articles
            .iter()
            .map(|a| {
                (
                    facts::key(&crate::model::load::rel(root, &a.path)),
                    facts::stat_of(&a.path),
                    front_hash(a),
                )
            })
            .collect();
        let stamp = stamp(&desk);
        Sources {
            desk: Some(desk),
            stamp,
            tickets,
            articles,
            git: git_state(root),
        }
    }
}

/// An article's front matter, hashed: what other pages list of it.
fn front_hash(a: &crate::model::kb::Article) -> u64 {
    let mut h = Fnv::new();
    h.bytes(a.id.as_bytes());
    h.bytes(
        serde_json::to_string(&a.front)
            .unwrap_or_default()
            .as_bytes(),
    );
    h.0
}

/// The full record as mapped: sections are decoded when asked for.
struct Base {
    stamp: u64,
    id: u64,
    /// The record's own modification time: files touched at or after it are not trusted.
    written_ns: i64,
    /// Mapped for the rest of the process: the rows' few `&'static str` fields make their
    /// `Deserialize` ask for `'static` input, and the stats' paths are read in place.
    bytes: &'static [u8],
    table: [(usize, usize, u64); SECTIONS],
}

impl Base {
    fn read(file: &Path) -> Option<Base> {
        let stat = facts::stat_of(file)?;
        let mapped = Bytes::map(file, false).ok()??;
        let bytes: &'static [u8] = &Box::leak(Box::new(mapped))[..];
        let head = bytes.get(..HEAD + TABLE)?;
        if &head[..8] != MAGIC
            || head[8..12] != FORMAT.to_le_bytes()
            || head[28..32] != (SECTIONS as u32).to_le_bytes()
        {
            return None;
        }
        let u64_at = |at: usize| u64::from_le_bytes(head[at..at + 8].try_into().unwrap_or([0; 8]));
        if u64_at(HEAD + TABLE - 8) != facts::checksum(&head[..HEAD + TABLE - 8]) {
            return None;
        }
        let mut table = [(0, 0, 0); SECTIONS];
        for (k, t) in table.iter_mut().enumerate() {
            let at = HEAD + k * 24;
            let (off, len) = (u64_at(at) as usize, u64_at(at + 8) as usize);
            if off.checked_add(len)? > bytes.len() {
                return None;
            }
            *t = (off, len, u64_at(at + 16));
        }
        Some(Base {
            stamp: u64_at(12),
            id: u64_at(20),
            written_ns: stat.modified_ns(),
            bytes,
            table,
        })
    }

    /// Section `k` as per-ticket records, each decoded when read (`None`: its head is
    /// corrupt; its records' blocks are checked as they are read).
    fn records(&self, k: usize) -> Option<Records> {
        let (off, len, _) = self.table[k];
        Records::parse(&self.bytes[off..off + len])
    }

    /// Section `k`'s bytes, unchecked (a section that checks its own parts).
    fn raw(&self, k: usize) -> &'static [u8] {
        let (off, len, _) = self.table[k];
        &self.bytes[off..off + len]
    }

    /// Section `k`, decoded (`None` when its checksum or its decoding fails).
    fn section<T: Deserialize<'static>>(&self, k: usize) -> Option<T> {
        let (off, len, sum) = self.table[k];
        let b = &self.bytes[off..off + len];
        if facts::checksum(b) != sum {
            return None;
        }
        postcard::from_bytes(b).ok()
    }
}

/// The delta for `base`, with its own modification time (`None`: none, or not for `base`).
fn read_delta(file: &Path, base: &Base) -> Option<(Delta<'static>, i64)> {
    let stat = facts::stat_of(file)?;
    let bytes: &'static [u8] = Box::leak(std::fs::read(file).ok()?.into_boxed_slice());
    let head = bytes.get(..28)?;
    if &head[..8] != DELTA_MAGIC
        || head[8..12] != FORMAT.to_le_bytes()
        || head[12..20] != base.stamp.to_le_bytes()
    {
        return None;
    }
    let body = &bytes[28..];
    if head[20..28] != facts::checksum(body).to_le_bytes() {
        return None;
    }
    let delta: Delta<'static> = postcard::from_bytes(body).ok()?;
    (delta.base == base.id).then_some((delta, stat.modified_ns()))
}

/// What the kept site says about this build.
enum Resumed {
    /// Nothing changed since: nothing to write (the build's warnings).
    Unchanged(Vec<Diagnostic>),
    /// A kept site ready to be patched, with the files that changed.
    Patch {
        session: Box<Session>,
        changed: Vec<PathBuf>,
        now: DateTime<Utc>,
        /// The full record's id and the tickets' stats the delta had moved.
        base: u64,
        tickets: Vec<(String, Option<Stat>)>,
    },
}

/// The kept site, when it still describes the output folder and nothing global changed;
/// with the sources that changed since.
fn resume(
    base: Base,
    delta: Option<(Delta<'static>, i64)>,
    root: &Path,
    out: &Path,
    src: &mut Sources,
    now: DateTime<Utc>,
    explicit_now: bool,
) -> Option<Resumed> {
    if base.stamp != src.stamp {
        return None;
    }
    let meta: Meta = base.section(META)?;
    if src.git.is_none() != meta.git.is_none() {
        return None;
    }
    let kept_now = DateTime::<Utc>::from_timestamp_nanos(meta.now_ns);
    let fresh = if explicit_now {
        now == kept_now
    } else {
        now >= kept_now && now - kept_now <= chrono::Duration::minutes(REFRESH_AFTER_MINUTES)
    };
    if !fresh || out.canonicalize().ok()? != meta.out {
        return None;
    }
    if let (Some(old), Some(new)) = (&meta.git, &src.git) {
        if old != new && !kb_history_same(root, old, new) {
            return None;
        }
    }
    let base_settled = |s: &Stat| s.touched_ns() < base.written_ns;
    let (delta, delta_ns) = match delta {
        Some((d, ns)) => (Some(d), ns),
        None => (None, i64::MIN),
    };
    let delta_settled = |s: &Stat| s.touched_ns() < delta_ns;

    // The output folder must be exactly as the last build left it.
    let moved: HashMap<&str, Option<Stat>> = delta
        .as_ref()
        .map(|d| d.output.iter().copied().collect())
        .unwrap_or_default();
    let recorded: Vec<(&str, Stat)> = base.section(OUTPUT)?;
    // Both lists are sorted by path: walked side by side, nothing a million long is built.
    let mut added: Vec<(&str, Stat, bool)> = moved
        .iter()
        .filter_map(|(p, s)| Some((*p, (*s)?)))
        .filter(|(p, _)| recorded.binary_search_by(|r| r.0.cmp(p)).is_err())
        .map(|(p, s)| (p, s, delta_settled(&s)))
        .collect();
    added.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut old_files = recorded
        .iter()
        .filter_map(|&(p, s)| match moved.get(p) {
            Some(Some(new)) => Some((p, *new, delta_settled(new))),
            Some(None) => None,
            None => Some((p, s, base_settled(&s))),
        })
        .peekable();
    let mut added = added.into_iter().peekable();
    let output = scan_output(out)?;
    let mut found = output.iter();
    loop {
        let next = match (old_files.peek(), added.peek()) {
            (Some(a), Some(b)) if b.0 < a.0 => added.next(),
            (Some(_), _) => old_files.next(),
            (None, _) => added.next(),
        };
        match (next, found.next()) {
            (None, None) => break,
            (Some(e), Some(o)) if o.0 == e.0 && o.1 == e.1 && e.2 => {}
            _ => return None,
        }
    }
    drop(output);

    // Articles: the same files with the same front matter; bodies may differ.
    type Settled<'a> = &'a dyn Fn(&Stat) -> bool;
    let (articles, articles_settled): (&[ArticleState], Settled) = match &delta {
        Some(d) => (&d.articles, &delta_settled),
        None => (&meta.articles, &base_settled),
    };
    if articles.len() != src.articles.len() {
        return None;
    }
    let mut changed = Vec::new();
    for (old, new) in articles.iter().zip(&src.articles) {
        if old.0 != new.0 || old.2 != new.2 {
            return None;
        }
        if old.1.is_none() || old.1 != new.1 || !old.1.as_ref().is_some_and(articles_settled) {
            changed.push(PathBuf::from(&new.0));
        }
    }
    let articles_changed = !changed.is_empty();
    let article_count = changed.len();

    // Tickets: the same files (one added or removed is a full build), those whose file moved.
    let recorded: Vec<(&str, Option<Stat>)> = base.section(TICKETS)?;
    if recorded.len() != src.tickets.len() {
        return None;
    }
    let moved: HashMap<&str, Option<Stat>> = delta
        .as_ref()
        .map(|d| d.tickets.iter().copied().collect())
        .unwrap_or_default();
    for ((old_path, old), (path, stat)) in recorded.iter().zip(&src.tickets) {
        if *old_path != path.as_str() {
            return None;
        }
        let trusted = match moved.get(old_path) {
            Some(s) => s.as_ref().filter(|s| delta_settled(s)),
            None => old.as_ref().filter(|s| base_settled(s)),
        };
        if trusted.is_none() || trusted != stat.as_ref() {
            changed.push(PathBuf::from(path));
        }
    }
    let tickets_changed = changed.len() > article_count;
    if changed.is_empty() {
        let warnings = match delta {
            Some(d) => d.warnings,
            None => meta.warnings,
        };
        return Some(Resumed::Unchanged(
            warnings.into_iter().map(diag_in).collect(),
        ));
    }

    // Only the sections the changes need: an article body needs the articles, the page index
    // and the citations (all of them); a ticket needs its own records, the paths and the
    // postings, and the rows of its month (more only when its change reaches further).
    let views: Vec<ArticleView> = base.section(ARTICLES)?;
    let page_index: PageIndex = if articles_changed {
        base.section(PAGES)?
    } else {
        PageIndex::default()
    };
    let mut pending = Pending {
        terms: Some(Terms {
            docs: DocShards::parse(base.raw(TERMS))?,
            groups: match &delta {
                Some(d) => d.groups.clone(),
                None => base.section(GROUPS)?,
            },
            patched: HashMap::new(),
        }),
        rows: Some(Part::new(base.records(ROWS)?)),
        docs: Some(Part::new(base.records(DOCS)?)),
        cites: Some(Part::new(base.records(CITES)?)),
        facts: Some(Part::new(base.records(FACTS)?)),
        flow: Some(Part::new(base.records(FLOW)?)),
        months: Vec::new(),
        open: Vec::new(),
    };
    let n = pending.cites.as_ref()?.recs.len();
    let mut per_ticket = PerTicket::default();
    if tickets_changed {
        per_ticket = PerTicket::read(&base)?;
        (pending.months, pending.open) = base.section(MONTHS)?;
    }
    let lens = [
        pending.rows.as_ref()?.recs.len(),
        pending.docs.as_ref()?.recs.len(),
        pending.facts.as_ref()?.recs.len(),
        pending.flow.as_ref()?.recs.len(),
    ];
    if lens.iter().any(|&l| l != n) || (tickets_changed && per_ticket.paths.len() != n) {
        return None;
    }
    let by_id = views
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.clone(), i))
        .collect();
    let mut kept = Kept {
        desk: src.desk.take()?,
        kb: KbPages {
            articles: views,
            catalog: Vec::new(),
            cases: Vec::new(),
            broken: Vec::new(),
            by_id,
            tags: Default::default(),
            page_index,
        },
        paths: per_ticket.paths,
        cites: Vec::new(),
        facts: Vec::new(),
        flow: Vec::new(),
        tickets: TicketOut {
            rows: Vec::new(),
            docs: Vec::new(),
            postings: Default::default(),
            warnings: meta.ticket_warnings.into_iter().map(diag_in).collect(),
        },
        warnings: meta.warnings.into_iter().map(diag_in).collect(),
        outputs: None,
    };

    // What the incremental builds since the full record patched, applied again.
    let mut log = Log::default();
    let mut moved_tickets = Vec::new();
    if let Some(d) = delta {
        kept.warnings = d.warnings.into_iter().map(diag_in).collect();
        for (i, Blob(b)) in d.patched {
            let p: TicketPatch = postcard::from_bytes(b).ok()?;
            let i = i as usize;
            if i >= n {
                return None;
            }
            if tickets_changed {
                if let Some(t) = pending.terms.as_mut() {
                    t.patched.insert(i as u32, (p.title, p.text));
                }
            }
            let pending = &mut pending;
            pending.cites.as_mut()?.over.insert(i, p.cite);
            pending.rows.as_mut()?.over.insert(i, p.row);
            pending.docs.as_mut()?.over.insert(i, p.doc);
            pending.facts.as_mut()?.over.insert(i, p.facts);
            pending.flow.as_mut()?.over.insert(i, p.flow);
            log.tickets.insert(i as u32, b.to_vec());
        }
        for (doc, Blob(b)) in d.pages {
            if articles_changed {
                let (title, body, snippet): PagePatch = postcard::from_bytes(b).ok()?;
                if doc as usize >= kept.kb.articles.len() {
                    return None;
                }
                kept.kb
                    .page_index
                    .replace(doc as usize, &title, &body, snippet);
            }
            log.pages.insert(doc, b.to_vec());
        }
        log.files = d.output.iter().map(|(p, _)| p.to_string()).collect();
        moved_tickets = d
            .tickets
            .into_iter()
            .map(|(p, s)| (p.to_string(), s))
            .collect();
    }
    Some(Resumed::Patch {
        session: Box::new(Session::resume(
            root, out, kept_now, kept, log, pending, &changed,
        )),
        changed,
        now: kept_now,
        base: base.id,
        tickets: moved_tickets,
    })
}

/// The per-ticket section a ticket edit decodes whole.
#[derive(Default)]
struct PerTicket {
    paths: Vec<PathBuf>,
}

impl PerTicket {
    fn read(base: &Base) -> Option<PerTicket> {
        Some(PerTicket {
            paths: base.section(PATHS)?,
        })
    }
}

/// Row indexes by month (in month order) and of the open tickets: which records an index
/// page of one month, or the open list, reads.
type MonthIndex = (Vec<(String, Vec<u32>)>, Vec<u32>);

fn month_index(rows: &[super::context::Row]) -> MonthIndex {
    let mut months: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
    let mut open = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        months.entry(r.month).or_default().push(i as u32);
        if r.open {
            open.push(i as u32);
        }
    }
    (
        months
            .into_iter()
            .map(|(m, l)| (m.to_string(), l))
            .collect(),
        open,
    )
}

/// Why the full record was not written (`mesa build` says so: the next build is a full one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSaved {
    /// The build kept no state (it failed).
    NoState,
    /// The output folder could not be listed.
    Scan,
    /// A section could not be encoded.
    Encode,
    /// The file could not be written (the error's text).
    Write,
    /// Its modification time never passed that of the files it records.
    Racy,
}

impl NotSaved {
    /// The reason, in the desk's language.
    pub fn reason(self) -> String {
        match self {
            NotSaved::NoState => crate::tr!("site.manifest_why.no_state"),
            NotSaved::Scan => crate::tr!("site.manifest_why.scan"),
            NotSaved::Encode => crate::tr!("site.manifest_why.encode"),
            NotSaved::Write => crate::tr!("site.manifest_why.write"),
            NotSaved::Racy => crate::tr!("site.manifest_why.racy"),
        }
    }
}

/// Counts what goes through to the file.
struct Counted<W> {
    inner: W,
    n: u64,
}

impl<W: std::io::Write> std::io::Write for Counted<W> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(b)?;
        self.n += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<W: std::io::Write + std::ops::Deref<Target = std::fs::File>> records::Sink
    for Counted<std::io::BufWriter<W>>
{
    fn written(&self) -> u64 {
        self.n
    }
    fn patch(&mut self, at: u64, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::unix::fs::FileExt;
        // What is buffered lies after `at`: out first, so the patch is not overwritten.
        self.inner.flush()?;
        self.inner.get_ref().write_all_at(bytes, at)
    }
}

/// One section's encoder: writes it to the file, in postcard.
type SectionJob<'a> = Box<dyn Fn(&mut dyn records::Sink) -> std::result::Result<(), NotSaved> + 'a>;

fn job<'a, T: Serialize + ?Sized>(value: &'a T) -> SectionJob<'a> {
    Box::new(move |w| {
        postcard::to_io(value, w).map(|_| ()).map_err(|e| match e {
            postcard::Error::SerializeBufferFull => NotSaved::Write,
            _ => NotSaved::Encode,
        })
    })
}

/// A per-ticket record section's encoder ([`records::write`]: a few blocks at a time, on
/// every core, straight into the file).
fn records_job<'a, T: Serialize + Sync>(items: &'a [T]) -> SectionJob<'a> {
    Box::new(move |w| {
        records::write(items, w).map_err(|e| match e {
            records::WriteError::Encode => NotSaved::Encode,
            records::WriteError::Io => NotSaved::Write,
        })
    })
}

/// Writes the full record of the site `session` keeps.
fn save(
    file: &Path,
    out: &Path,
    session: &Session,
    src: &Sources,
) -> std::result::Result<(), NotSaved> {
    let _ = std::fs::remove_file(file);
    let (kept, facts_, flow, now) = session.state().ok_or(NotSaved::NoState)?;
    // A clean build's own list of what it wrote, each stat taken from the written file
    // (anything changed since differs from it: the next build distrusts the folder); the
    // folder scanned otherwise.
    let scanned;
    let output: &[(String, Stat)] = match &kept.outputs {
        Some(written) => written,
        None => {
            scanned = scan_output(out).ok_or(NotSaved::Scan)?;
            &scanned
        }
    };
    let out = out.canonicalize().map_err(|_| NotSaved::Scan)?;
    trace("output listed");
    let meta = Meta {
        out,
        now_ns: now.timestamp_nanos_opt().unwrap_or(0),
        git: src.git.clone(),
        articles: src.articles.clone(),
        ticket_warnings: kept.tickets.warnings.iter().map(diag_out).collect(),
        warnings: kept.warnings.iter().map(diag_out).collect(),
    };
    let months = month_index(&kept.tickets.rows);
    let groups = Groups::of(&kept.tickets.postings);
    let postings = &kept.tickets.postings;
    let doc_count = kept.tickets.docs.len();
    let terms: SectionJob = Box::new(move |w| {
        termshards::write_doc_shards(postings, doc_count, w).map_err(|_| NotSaved::Write)
    });
    let jobs: [SectionJob; SECTIONS] = [
        job(&meta),
        job(&src.tickets),
        job(output),
        job(&kept.paths),
        records_job(&kept.cites),
        records_job(facts_),
        records_job(flow),
        records_job(&kept.tickets.rows),
        records_job(&kept.tickets.docs),
        terms,
        job(&kept.kb.articles),
        job(&kept.kb.page_index),
        job(&months),
        job(&groups),
    ];
    // The racy rule: every recorded file must have been touched strictly before the record
    // was written (by the file system's own clock), or the next build would distrust it.
    let latest = output
        .iter()
        .map(|(_, s)| s)
        .chain(src.tickets.iter().filter_map(|(_, s)| s.as_ref()))
        .chain(src.articles.iter().filter_map(|(_, s, _)| s.as_ref()))
        .map(Stat::touched_ns)
        .max()
        .unwrap_or(0);
    write_streamed(file, &jobs, src.stamp, meta.now_ns, latest)
}

/// Writes the full record section by section straight into a temporary file beside `file`
/// (at a million tickets the sections are over a gigabyte: never held in memory), then its
/// head and table, checksummed from the file, and renames it into place once its
/// modification time is past `latest`.
fn write_streamed(
    file: &Path,
    jobs: &[SectionJob],
    stamp: u64,
    now_ns: i64,
    latest: i64,
) -> std::result::Result<(), NotSaved> {
    use std::io::Write;
    use std::os::unix::fs::FileExt;
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|_| NotSaved::Write)?;
    let mut spans = Vec::with_capacity(jobs.len());
    {
        let mut w = Counted {
            inner: std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut()),
            n: 0,
        };
        w.write_all(&[0; HEAD + TABLE])
            .map_err(|_| NotSaved::Write)?;
        for (k, job) in jobs.iter().enumerate() {
            let at = w.n;
            job(&mut w)?;
            spans.push((at, w.n - at));
            trace(&format!("manifest section {k} written"));
        }
        w.flush().map_err(|_| NotSaved::Write)?;
    }
    let f = tmp.as_file();
    let mut head = Vec::with_capacity(HEAD + TABLE);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&FORMAT.to_le_bytes());
    head.extend_from_slice(&stamp.to_le_bytes());
    // The record's id: the delta names it, so it never applies to another full build.
    let mut id = Fnv::new();
    id.bytes(&now_ns.to_le_bytes());
    id.bytes(
        &std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            .to_le_bytes(),
    );
    id.bytes(&std::process::id().to_le_bytes());
    head.extend_from_slice(&id.0.to_le_bytes());
    head.extend_from_slice(&(jobs.len() as u32).to_le_bytes());
    for &(at, len) in &spans {
        let sum = checksum_of(f, at, len).map_err(|_| NotSaved::Write)?;
        head.extend_from_slice(&at.to_le_bytes());
        head.extend_from_slice(&len.to_le_bytes());
        head.extend_from_slice(&sum.to_le_bytes());
    }
    let sum = facts::checksum(&head);
    head.extend_from_slice(&sum.to_le_bytes());
    trace("manifest checksummed");
    // Written again until the file's own time is past every file it records.
    let mut fresh = false;
    for _ in 0..50 {
        f.write_all_at(&head, 0).map_err(|_| NotSaved::Write)?;
        if facts::stat_of(tmp.path()).is_some_and(|s| s.modified_ns() > latest) {
            fresh = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    if !fresh {
        return Err(NotSaved::Racy);
    }
    tmp.persist(file).map_err(|_| NotSaved::Write)?;
    Ok(())
}

/// [`facts::checksum`] of `len` bytes of `f` at `at`, read in blocks.
fn checksum_of(f: &std::fs::File, at: u64, len: u64) -> std::io::Result<u64> {
    use std::os::unix::fs::FileExt;
    let mut sum = facts::Checksum::new(len);
    let mut buf = vec![0u8; 8 << 20];
    let mut done = 0;
    while done < len {
        let n = (len - done).min(buf.len() as u64) as usize;
        f.read_exact_at(&mut buf[..n], at + done)?;
        sum.update(&buf[..n]);
        done += n as u64;
    }
    Ok(sum.finish())
}

/// Writes `file` atomically with `write`, again until the file's modification time is past
/// `latest` (removed if that cannot be done).
fn write_after(file: &Path, write: &dyn Fn() -> std::io::Result<()>, latest: i64) {
    for _ in 0..50 {
        if write().is_err() {
            let _ = std::fs::remove_file(file);
            return;
        }
        if facts::stat_of(file).is_some_and(|s| s.modified_ns() > latest) {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let _ = std::fs::remove_file(file);
}

/// Writes the delta after an incremental build: what the session patched since the full
/// record `base`, the tickets' stats the earlier delta had moved (`tickets`) plus those of
/// this build's `changed` files, and the output files written or removed since.
fn save_delta(
    file: &Path,
    out: &Path,
    session: &Session,
    src: &Sources,
    base: u64,
    tickets: Vec<(String, Option<Stat>)>,
    changed: &[PathBuf],
) {
    let log = session.log();
    let (Some(warnings), Some(groups)) =
        (session.warnings().filter(|_| !log.broken), session.groups())
    else {
        let _ = std::fs::remove_file(file);
        return;
    };
    let mut moved: std::collections::BTreeMap<String, Option<Stat>> = tickets.into_iter().collect();
    let now: HashMap<&str, Option<Stat>> = changed
        .iter()
        .filter(|p| p.starts_with("tickets"))
        .filter_map(|p| p.to_str())
        .map(|p| (p, None))
        .collect();
    for (p, s) in &src.tickets {
        if now.contains_key(p.as_str()) {
            moved.insert(p.clone(), *s);
        }
    }
    let output: Vec<(String, Option<Stat>)> = log
        .files
        .par_iter()
        .map(|p| (p.clone(), facts::stat_of(&out.join(p))))
        .collect();
    let delta = Delta {
        base,
        tickets: moved.iter().map(|(p, s)| (p.as_str(), *s)).collect(),
        output: output.iter().map(|(p, s)| (p.as_str(), *s)).collect(),
        articles: src.articles.clone(),
        warnings: warnings.iter().map(diag_out).collect(),
        patched: log.tickets.iter().map(|(i, b)| (*i, Blob(b))).collect(),
        pages: log.pages.iter().map(|(i, b)| (*i, Blob(b))).collect(),
        groups: groups.clone(),
    };
    let Ok(body) = postcard::to_stdvec(&delta) else {
        let _ = std::fs::remove_file(file);
        return;
    };
    let mut bytes = Vec::with_capacity(body.len() + 28);
    bytes.extend_from_slice(DELTA_MAGIC);
    bytes.extend_from_slice(&FORMAT.to_le_bytes());
    bytes.extend_from_slice(&src.stamp.to_le_bytes());
    bytes.extend_from_slice(&facts::checksum(&body).to_le_bytes());
    bytes.extend_from_slice(&body);
    let latest = delta
        .tickets
        .iter()
        .filter_map(|(_, s)| s.as_ref())
        .chain(delta.output.iter().filter_map(|(_, s)| s.as_ref()))
        .chain(delta.articles.iter().filter_map(|(_, s, _)| s.as_ref()))
        .map(Stat::touched_ns)
        .max()
        .unwrap_or(0);
    write_after(file, &|| facts::write_atomic_parts(file, &[&bytes]), latest);
}

/// Every file of the output folder with its stat, sorted; `None` when it cannot be read
/// (or holds a link or a name that is not UTF-8: then it is built in full).
fn scan_output(out: &Path) -> Option<Vec<(String, Stat)>> {
    crate::model::scan::files(out)
}

/// HEAD's commit and its `kb/` tree (of the desk's folder within the repository).
fn git_state(root: &Path) -> Option<(String, Option<String>)> {
    let repo = git2::Repository::discover(root).ok()?;
    let head = repo.head().ok()?.peel_to_commit().ok()?;
    let kb = kb_tree(&repo, root, &head);
    Some((head.id().to_string(), kb))
}

fn kb_path(repo: &git2::Repository, root: &Path) -> Option<PathBuf> {
    let workdir = repo.workdir()?.canonicalize().ok()?;
    let root = root.canonicalize().ok()?;
    Some(root.strip_prefix(&workdir).ok()?.join("kb"))
}

fn kb_tree(repo: &git2::Repository, root: &Path, c: &git2::Commit) -> Option<String> {
    let path = kb_path(repo, root)?;
    Some(c.tree().ok()?.get_path(&path).ok()?.id().to_string())
}

/// Whether the "last updated" history of every kb file is the same at `new` as at `old`:
/// `new` descends from `old`, and no commit since changed `kb/` against its first parent.
fn kb_history_same(
    root: &Path,
    old: &(String, Option<String>),
    new: &(String, Option<String>),
) -> bool {
    let check = || -> Option<bool> {
        let repo = git2::Repository::discover(root).ok()?;
        let (o, n) = (
            git2::Oid::from_str(&old.0).ok()?,
            git2::Oid::from_str(&new.0).ok()?,
        );
        if old.1 != new.1 || !repo.graph_descendant_of(n, o).ok()? {
            return Some(false);
        }
        let mut walk = repo.revwalk().ok()?;
        walk.push(n).ok()?;
        walk.hide(o).ok()?;
        for (count, id) in walk.enumerate() {
            if count >= MAX_NEW_COMMITS {
                return Some(false);
            }
            let c = repo.find_commit(id.ok()?).ok()?;
            if kb_tree(&repo, root, &c) != old.1 {
                return Some(false);
            }
            if let Ok(p) = c.parent(0) {
                if kb_tree(&repo, root, &p) != old.1 {
                    return Some(false);
                }
            }
        }
        Some(true)
    };
    check().unwrap_or(false)
}

/// Everything global the site depends on: mesa's build, the language, desk.yaml, every file
/// under theme/ and under kb/ but the articles (tracked one by one), the holiday files.
fn stamp(desk: &Desk) -> u64 {
    let root = &desk.root;
    let mut h = Fnv::new();
    h.bytes(&FORMAT.to_le_bytes());
    h.build();
    h.bytes(crate::model::i18n::active().lang.as_bytes());
    let mut files = vec![root.join(crate::model::load::DESK_FILE)];
    let articles = root.join("kb").join("articles");
    for top in ["theme", "kb"] {
        for e in walkdir::WalkDir::new(root.join(top))
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| e.path() != articles)
            .flatten()
        {
            if !e.file_type().is_dir() {
                files.push(e.into_path());
            }
        }
    }
    for cal in &desk.config.calendars {
        if let Some(f) = &cal.holidays_ics {
            files.push(root.join(f));
        }
    }
    for f in files {
        // Named relative to the desk, so a desk moved to another folder keeps its manifest;
        // read as the build reads them (a link out of the desk stamps as its refusal).
        h.file_named(
            f.strip_prefix(root)
                .unwrap_or(&f)
                .to_string_lossy()
                .as_bytes(),
            &f,
        );
    }
    h.0
}
