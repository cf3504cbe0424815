//! Incremental rebuilds for `mesa serve`: a [`Session`] keeps what the last full build loaded
//! and computed (the desk, the rendered knowledge base, every ticket's front matter, index
//! row, search document, postings and report facts, all as of that build's instant, which
//! incremental rebuilds keep). When only existing ticket files changed, it re-parses
//! just those, renders their pages, patches their rows and postings, and renders again only
//! what shows them: the index pages listing them, the reports and the search shards (written
//! only where their bytes changed). When only existing articles' bodies changed (front matter
//! equal, so no other page lists anything new), it renders just their pages and the search
//! index of pages. Anything else (desk.yaml, theme/, a new, removed or retitled article, a new
//! or removed ticket, a change that reaches the knowledge base) falls back to a full build. Either way the
//! output is byte for byte what a full build of the same desk writes (tests/site_incremental.rs).

use super::context::{rel_diags, BuildOptions, BuildSummary};
use super::output::{Output, Progress};
use super::pipeline::{build_kept, new_site, Kept};
use super::reports;
use super::tickets::{self, IndexOnly};
use crate::model::diag::Result;
use crate::output::report::{self, By, TicketFacts};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// A site kept between builds of one desk into one output folder.
pub struct Session {
    root: PathBuf,
    out: PathBuf,
    /// `None` after a failed build: the next rebuild is a full one.
    kept: Option<Kept>,
    public: bool,
    /// Ticket file (relative to the desk) -> its index in the kept rows.
    index: HashMap<PathBuf, usize>,
    /// The instant of the last full build. Incremental rebuilds keep it, so the pages they
    /// patch agree with the ones they leave (clocks, reports); a full build moves it on.
    now: DateTime<Utc>,
    /// Each kept ticket's contribution to the reports (`None`: not counted).
    facts: Vec<Option<TicketFacts>>,
    /// Each kept ticket's trend and load facts.
    flow: Vec<super::flow::FlowFacts>,
    /// What incremental rebuilds changed since the last full build (the build manifest's
    /// delta).
    log: Log,
    /// What a session resumed from the build manifest has not decoded yet.
    pending: Pending,
}

/// The per-ticket records a resumed session reads one by one, until a change needs them all
/// (a ticket that moves between months, report figures that move, an article edit: the
/// citations); each `Some` part stands for its vector in [`Kept`] (or `facts`, `flow`).
#[derive(Default)]
pub(crate) struct Pending {
    pub rows: Option<Part<super::context::Row>>,
    pub docs: Option<Part<crate::output::search::TicketDoc>>,
    pub cites: Option<Part<tickets::Cite>>,
    pub facts: Option<Part<Option<TicketFacts>>>,
    pub flow: Option<Part<super::flow::FlowFacts>>,
    /// The rows of each month and of the open tickets, by index, as of the full build (the
    /// patched rows in `rows` say where they are now).
    pub months: Vec<(String, Vec<u32>)>,
    pub open: Vec<u32>,
    /// The ticket postings as the manifest keeps them (by ranges of documents, and the term
    /// groups of `search/t/`), in place of the whole postings in [`Kept`].
    pub terms: Option<Terms>,
}

/// The sharded postings of a resumed session ([`super::termshards`]).
pub(crate) struct Terms {
    pub docs: super::termshards::DocShards,
    pub groups: super::termshards::Groups,
    /// The title and text of each ticket patched since the full build (its range of the
    /// postings by documents is as of the full build: they are indexed again on it).
    pub patched: HashMap<u32, (String, String)>,
}

/// Records of the full build plus those patched since, which take precedence.
pub(crate) struct Part<T> {
    pub recs: super::records::Records,
    pub over: HashMap<usize, T>,
}

/// A record read from a [`Part`]: decoded, or patched and borrowed.
enum Got<'a, T> {
    Own(T),
    Ref(&'a T),
}

impl<T> std::ops::Deref for Got<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            Got::Own(t) => t,
            Got::Ref(t) => t,
        }
    }
}

impl<T: serde::Deserialize<'static> + Send> Part<T> {
    pub(crate) fn new(recs: super::records::Records) -> Part<T> {
        Part {
            recs,
            over: HashMap::new(),
        }
    }

    fn get(&self, i: usize) -> Option<Got<'_, T>> {
        match self.over.get(&i) {
            Some(t) => Some(Got::Ref(t)),
            None => self.recs.get(i).map(Got::Own),
        }
    }

    fn all(self) -> Option<Vec<T>> {
        let mut v = self.recs.all()?;
        for (i, t) in self.over {
            *v.get_mut(i)? = t;
        }
        Some(v)
    }
}

/// Record `i` of a vector that is decoded (`part` is `None`) or not yet.
fn get<'a, T: serde::Deserialize<'static> + Send>(
    part: &'a Option<Part<T>>,
    all: &'a [T],
    i: usize,
) -> Option<Got<'a, T>> {
    match part {
        Some(p) => p.get(i),
        None => all.get(i).map(Got::Ref),
    }
}

/// Sets record `i`, in the vector or over the records.
fn set<T>(part: &mut Option<Part<T>>, all: &mut [T], i: usize, value: T) {
    match part {
        Some(p) => {
            p.over.insert(i, value);
        }
        None => {
            if let Some(slot) = all.get_mut(i) {
                *slot = value;
            }
        }
    }
}

/// Decodes every record of `part` into `all` (nothing when already done); `false` when a
/// record cannot be read.
fn load<T: serde::Deserialize<'static> + Send>(
    part: &mut Option<Part<T>>,
    all: &mut Vec<T>,
) -> bool {
    match part.take().map(Part::all) {
        Some(Some(v)) => {
            *all = v;
            true
        }
        Some(None) => false,
        None => true,
    }
}

/// What incremental rebuilds changed since the last full build, as the build manifest keeps
/// it beside the full build's own record: each patched ticket's and article's new record
/// (postcard bytes: [`TicketPatch`], [`PagePatch`]) and every output file written or removed.
#[derive(Default)]
pub(crate) struct Log {
    pub tickets: BTreeMap<u32, Vec<u8>>,
    pub pages: BTreeMap<u32, Vec<u8>>,
    pub files: BTreeSet<String>,
    /// A record could not be encoded: the log does not describe the site.
    pub broken: bool,
}

/// A patched ticket's kept record, as written ([`TicketPatch`] reads it back).
#[derive(serde::Serialize)]
struct TicketPatchRef<'a> {
    row: &'a super::context::Row,
    doc: &'a crate::output::search::TicketDoc,
    cite: &'a tickets::Cite,
    facts: &'a Option<TicketFacts>,
    flow: &'a super::flow::FlowFacts,
    title: &'a str,
    text: &'a str,
}

/// A patched ticket's kept record: its index row, search document, citations, report and
/// flow facts, and the title and text its search postings come from.
#[derive(serde::Deserialize)]
#[serde(bound(deserialize = "'de: 'static"))]
pub(crate) struct TicketPatch {
    pub row: super::context::Row,
    pub doc: crate::output::search::TicketDoc,
    pub cite: tickets::Cite,
    pub facts: Option<TicketFacts>,
    pub flow: super::flow::FlowFacts,
    pub title: String,
    pub text: String,
}

/// A patched article's entry in the page search index: title, body, snippet.
pub(crate) type PagePatch = (String, String, String);

/// What [`Session::state`] shows: the kept site, each ticket's report and flow facts, the
/// instant of the clocks.
pub(crate) type KeptState<'a> = (
    &'a Kept,
    &'a [Option<TicketFacts>],
    &'a [super::flow::FlowFacts],
    DateTime<Utc>,
);

/// Incremental rebuilds keep the clocks of the last full build; after this long the next
/// change rebuilds in full, so SLA clocks and reports on an open page never lag further.
pub(crate) const REFRESH_AFTER_MINUTES: i64 = 10;

/// What a batch of changed paths asks for.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// These kept tickets changed (indexes), nothing else that the site shows.
    Tickets(Vec<usize>),
    /// These articles changed (indexes in the desk's articles), nothing else.
    Articles(Vec<usize>),
    Full,
}

impl Session {
    /// A full build of the desk at `root` into `out`, kept for later rebuilds.
    pub fn build(root: &Path, out: &Path, opts: &BuildOptions) -> Result<(Session, BuildSummary)> {
        let mut session = Session {
            root: root.to_path_buf(),
            out: out.to_path_buf(),
            kept: None,
            public: opts.public,
            index: HashMap::new(),
            now: Utc::now(),
            facts: Vec::new(),
            flow: Vec::new(),
            log: Log::default(),
            pending: Pending::default(),
        };
        let summary = session.full(opts)?;
        Ok((session, summary))
    }

    /// Brings the site up to date after `changed` paths (absolute or relative to the desk)
    /// changed: incrementally when only existing tickets changed, otherwise in full.
    pub fn rebuild(&mut self, changed: &[PathBuf], opts: &BuildOptions) -> Result<BuildSummary> {
        match self.patch(changed, opts)? {
            Some(summary) => Ok(summary),
            None => self.full(opts),
        }
    }

    /// The incremental part of [`Session::rebuild`]: `None` (nothing written) when the change
    /// needs a full build.
    pub(crate) fn patch(
        &mut self,
        changed: &[PathBuf],
        opts: &BuildOptions,
    ) -> Result<Option<BuildSummary>> {
        let now = opts.now.unwrap_or_else(Utc::now);
        let stale = now - self.now > chrono::Duration::minutes(REFRESH_AFTER_MINUTES);
        if self.kept.is_none() || opts.public != self.public || opts.public || stale {
            return Ok(None);
        }
        let done = match self.plan(changed) {
            Plan::Tickets(list) => self.tickets(&list, opts),
            Plan::Articles(list) => self.articles(&list, opts),
            Plan::Full => return Ok(None),
        };
        // Half patched: the next rebuild starts over.
        if done.is_err() {
            self.kept = None;
        }
        done
    }

    /// A full build, replacing what is kept (the old state is dropped first, so peak memory
    /// stays that of one build).
    pub fn full(&mut self, opts: &BuildOptions) -> Result<BuildSummary> {
        self.kept = None;
        self.index.clear();
        self.facts.clear();
        self.flow.clear();
        self.log = Log::default();
        self.pending = Pending::default();
        self.public = opts.public;
        self.now = opts.now.unwrap_or_else(Utc::now);
        let opts = BuildOptions {
            now: Some(self.now),
            ..opts.clone()
        };
        let (summary, mut kept) = build_kept(&self.root, &self.out, &opts)?;
        self.facts = std::mem::take(&mut kept.facts);
        self.flow = std::mem::take(&mut kept.flow);
        self.index = kept
            .paths
            .iter()
            .enumerate()
            .map(|(i, p)| (p.clone(), i))
            .collect();
        self.kept = Some(kept);
        Ok(summary)
    }

    /// A session from what an earlier process kept (the build manifest): `desk` is loaded
    /// now, `kept` holds the rest as of that build, whose instant was `now`, and `log` what
    /// was patched since the full build. `kept` may leave out what the changes at hand do not
    /// need (the manifest reads only those parts): [`Session::plan`] never reaches for them.
    /// Only the tickets among `changed` are indexed by path (a million paths are not copied
    /// for the one a build patches): the session patches those and nothing else.
    pub(crate) fn resume(
        root: &Path,
        out: &Path,
        now: DateTime<Utc>,
        mut kept: Kept,
        log: Log,
        pending: Pending,
        changed: &[PathBuf],
    ) -> Session {
        let facts = std::mem::take(&mut kept.facts);
        let flow = std::mem::take(&mut kept.flow);
        let changed: HashSet<&Path> = changed.iter().map(PathBuf::as_path).collect();
        let index = kept
            .paths
            .iter()
            .enumerate()
            .filter(|(_, p)| changed.contains(p.as_path()))
            .map(|(i, p)| (p.clone(), i))
            .collect();
        Session {
            root: root.to_path_buf(),
            out: out.to_path_buf(),
            kept: Some(kept),
            public: false,
            index,
            now,
            facts,
            flow,
            log,
            pending,
        }
    }

    /// The warnings of the site as kept (`None` after a failed build).
    pub(crate) fn warnings(&self) -> Option<&[crate::model::diag::Diagnostic]> {
        self.kept.as_ref().map(|k| k.warnings.as_slice())
    }

    /// The term groups of a resumed session's `search/t/` (`None`: the whole postings are kept).
    pub(crate) fn groups(&self) -> Option<&super::termshards::Groups> {
        self.pending.terms.as_ref().map(|t| &t.groups)
    }

    /// What was patched since the last full build.
    pub(crate) fn log(&self) -> &Log {
        &self.log
    }

    /// What is kept (`None` after a failed build, or while records are still undecoded),
    /// with each ticket's report and flow facts and the instant of the clocks.
    pub(crate) fn state(&self) -> Option<KeptState<'_>> {
        let p = &self.pending;
        if p.rows.is_some()
            || p.terms.is_some()
            || p.docs.is_some()
            || p.cites.is_some()
            || p.facts.is_some()
            || p.flow.is_some()
        {
            return None;
        }
        let kept = self.kept.as_ref()?;
        Some((kept, &self.facts, &self.flow, self.now))
    }

    fn plan(&self, changed: &[PathBuf]) -> Plan {
        let mut list = Vec::new();
        let mut articles = Vec::new();
        for path in changed {
            let rel = path.strip_prefix(&self.root).unwrap_or(path);
            let abs = self.root.join(rel);
            let mut parts = rel.components();
            let top = match parts.next() {
                Some(Component::Normal(n)) => n.to_str().unwrap_or(""),
                _ => "",
            };
            // An existing article's file (never a new or removed one: other pages list those).
            if top == "kb" && matches!(parts.next(), Some(Component::Normal(n)) if n == "articles")
            {
                let article = self.kept.as_ref().and_then(|k| {
                    k.desk
                        .kb
                        .articles
                        .iter()
                        .position(|a| a.path.strip_prefix(&self.root).unwrap_or(&a.path) == rel)
                });
                match article {
                    Some(k) if abs.is_file() => articles.push(k),
                    _ => return Plan::Full,
                }
                continue;
            }
            if top != "tickets" {
                return Plan::Full;
            }
            if rel.extension().is_none_or(|e| e != "md") {
                // A folder's own event says nothing the files' events do not; anything else
                // (a removed folder of tickets...) is left to a full build.
                if abs.is_dir() {
                    continue;
                }
                return Plan::Full;
            }
            match self.index.get(rel) {
                Some(&i) if abs.is_file() => list.push(i),
                // Removed ticket.
                Some(_) => return Plan::Full,
                // New ticket.
                None if abs.exists() => return Plan::Full,
                // A file that came and went (a temporary file): the site never saw it.
                None => {}
            }
        }
        if !articles.is_empty() {
            // Articles and tickets in one batch: rare enough for a full build.
            if !list.is_empty() {
                return Plan::Full;
            }
            articles.sort_unstable();
            articles.dedup();
            return Plan::Articles(articles);
        }
        list.sort_unstable();
        list.dedup();
        Plan::Tickets(list)
    }

    /// Articles whose body alone changed: their own pages and the search index of pages. An
    /// article whose front matter changed (title, tags, summary...: what other pages list), or
    /// whose view as listed elsewhere would differ, or with a broken link, needs a full build
    /// (`None`).
    fn articles(&mut self, list: &[usize], opts: &BuildOptions) -> Result<Option<BuildSummary>> {
        let started = Instant::now();
        let opts = &BuildOptions {
            now: Some(self.now),
            ..opts.clone()
        };
        let Some(kept) = self.kept.as_mut() else {
            return Ok(None);
        };
        // Every ticket's citations: which ones cite the article.
        if !load(&mut self.pending.cites, &mut kept.cites) {
            return Ok(None);
        }
        let mut fresh = Vec::with_capacity(list.len());
        for &k in list {
            let old = &kept.desk.kb.articles[k];
            let Ok(new) =
                crate::model::load::load_page::<crate::model::kb::ArticleFront>(&old.path)
            else {
                return Ok(None);
            };
            let same_front =
                serde_json::to_value(&new.front).ok() == serde_json::to_value(&old.front).ok();
            if !same_front || new.id != old.id {
                return Ok(None);
            }
            fresh.push((k, new));
        }
        for (k, new) in fresh {
            kept.desk.kb.articles[k] = new;
        }
        let Kept {
            desk, kb, cites, ..
        } = kept;
        let (site, _) = new_site(desk, opts, Output::new(&self.out)?, Progress::silent())?;
        let by_ticket_id: HashMap<&str, &tickets::Cite> =
            cites.iter().map(|t| (&*t.id, t)).collect();
        for &k in list {
            let a = &desk.kb.articles[k];
            let file = super::paths::article_file(&a.id);
            if !site
                .broken_links(&a.body, &a.path, a.body_line, &file)
                .is_empty()
            {
                return Ok(None);
            }
            let Some(&doc) = kb.by_id.get(&a.id) else {
                return Ok(None);
            };
            let mut citing: std::collections::BTreeSet<&str> = cites
                .iter()
                .filter(|t| t.kb.iter().any(|x| x == &a.id))
                .map(|t| &*t.id)
                .collect();
            citing.extend(a.front.from_tickets.iter().map(String::as_str));
            let changes = super::history::kb_changes(&desk.root, &HashSet::from([a.path.clone()]));
            let (view, snippet, broken, written) = super::kbpages::article(
                &site,
                a,
                citing,
                &by_ticket_id,
                changes.get(&a.path),
                true,
            );
            written?;
            if !broken.is_empty() {
                return Ok(None);
            }
            let body = super::kbpages::article_search_body(&view);
            let (title, view) = (view.title.clone(), super::kbpages::slim(view));
            // What the indexes and tag pages show of it must not have moved.
            if serde_json::to_value(&view).ok() != serde_json::to_value(&kb.articles[doc]).ok() {
                return Ok(None);
            }
            match postcard::to_stdvec(&(&title, &body, &snippet)) {
                Ok(b) => {
                    self.log.pages.insert(doc as u32, b);
                }
                Err(_) => self.log.broken = true,
            }
            kb.page_index.replace(doc, &title, &body, snippet);
        }
        site.out
            .write("search/pages.js", kb.page_index.finish().as_bytes())?;
        self.log.files.extend(site.out.written());
        let o = &site.out;
        Ok(Some(BuildSummary {
            pages: site.pages.load(Ordering::Relaxed),
            files: o.files.load(Ordering::Relaxed),
            changed: o.changed.load(Ordering::Relaxed),
            bytes: o.bytes.load(Ordering::Relaxed),
            elapsed: started.elapsed(),
            warnings: kept.warnings.clone(),
        }))
    }

    /// The incremental path; `None` when the change turns out to need a full build.
    fn tickets(&mut self, list: &[usize], opts: &BuildOptions) -> Result<Option<BuildSummary>> {
        let started = Instant::now();
        let opts = &BuildOptions {
            now: Some(self.now),
            ..opts.clone()
        };
        let Session {
            root,
            out: out_dir,
            kept,
            facts: all_facts,
            flow: all_flow,
            log,
            pending,
            ..
        } = self;
        let Some(kept) = kept.as_mut() else {
            return Ok(None);
        };
        let mut parsed = Vec::with_capacity(list.len());
        for &i in list {
            let rel = &kept.paths[i];
            let abs = root.join(rel);
            // An unreadable ticket is a warning of the full build (and it is left out there).
            let Ok(text) = crate::model::front_matter::read_text(&abs) else {
                return Ok(None);
            };
            let Ok(ticket) = crate::model::ticket::parse(rel, &text) else {
                return Ok(None);
            };
            let Some(cite) = get(&pending.cites, &kept.cites, i) else {
                return Ok(None);
            };
            if reaches_kb(kept, &cite, &ticket.front) {
                return Ok(None);
            }
            parsed.push((i, ticket));
        }

        let Kept {
            desk,
            kb,
            paths,
            cites,
            tickets: out,
            warnings,
            ..
        } = kept;
        let (site, _) = new_site(desk, opts, Output::new(out_dir)?, Progress::silent())?;
        let mut only = IndexOnly {
            ids: HashSet::new(),
            whole: HashSet::new(),
        };
        let mut every_index = false;
        let mut reports_moved = false;
        // The open list is shown again when a changed ticket is (or was) on it.
        let mut open_list = false;
        let mut months = BTreeSet::new();
        let mut fresh = Vec::with_capacity(parsed.len());
        for (i, ticket) in parsed {
            let walked = tickets::Walked::of(&site, &ticket);
            let (row, title, text, w) =
                tickets::one(&site, &ticket, &walked, &|id: &str| kb.article_link(id))?;
            let (Some(old), Some(old_facts), Some(old_flow)) = (
                get(&pending.rows, &out.rows, i),
                get(&pending.facts, all_facts, i),
                get(&pending.flow, all_flow, i),
            ) else {
                return Ok(None);
            };
            // A ticket that moves between months changes every page's month list.
            if old.month != row.month || !old.same_created(&row) || old.id != row.id {
                every_index = true;
            }
            // Opened or closed: the open list's pages shift and its count changes.
            if old.open != row.open {
                only.whole.insert("tickets/index".to_string());
            }
            open_list |= old.open || row.open;
            months.insert(row.month.to_string());
            only.ids.insert(old.id.to_string());
            only.ids.insert(row.id.to_string());
            let (facts, flow) = walked.facts(&site, &ticket);
            // The reports (about 24 MB at 100,000 tickets) show each ticket's facts and link
            // its id: when neither moved, they are the same bytes and are not rendered again.
            let same = |a: &TicketFacts, b: &TicketFacts| {
                a.key == b.key && a.figures == b.figures && a.watch == b.watch
            };
            let same_facts = match (&*old_facts, &facts) {
                (Some(a), Some(b)) => same(a, b),
                (None, None) => true,
                _ => false,
            };
            if !same_facts || flow != *old_flow || old.id != row.id || old.url != row.url {
                reports_moved = true;
            }
            let doc = tickets::search_doc(&site, &row, title.clone(), &text);
            fresh.push((
                i,
                row,
                title,
                text,
                w,
                facts,
                flow,
                doc,
                tickets::Cite::of(&ticket),
            ));
        }
        // What the pages to render read of every ticket, decoded now when still undecoded.
        let loaded = (!every_index || load(&mut pending.rows, &mut out.rows))
            && (!reports_moved
                || load(&mut pending.rows, &mut out.rows)
                    && load(&mut pending.facts, all_facts)
                    && load(&mut pending.flow, all_flow));
        if !loaded {
            return Ok(None);
        }

        let mut touched = Vec::new();
        let mut changed_docs = Vec::new();
        // With the sharded postings: each changed term's list, by term.
        let mut term_changes = BTreeMap::new();
        let mut ranges: HashMap<usize, crate::output::search::Postings> = HashMap::new();
        for (i, row, title, text, w, facts, flow, doc, cite) in fresh {
            match pending.terms.as_mut() {
                None => touched.extend(out.postings.replace(i as u32, &title, &text)),
                Some(terms) => {
                    if !terms.reindex(&mut ranges, i as u32, &title, &text, &mut term_changes) {
                        return Ok(None);
                    }
                }
            }
            changed_docs.push(i as u32);
            set(&mut pending.facts, all_facts, i, facts);
            set(&mut pending.flow, all_flow, i, flow);
            set(&mut pending.docs, &mut out.docs, i, doc);
            set(&mut pending.rows, &mut out.rows, i, row);
            set(&mut pending.cites, cites, i, cite);
            let (Some(row), Some(doc), Some(cite), Some(facts), Some(flow)) = (
                get(&pending.rows, &out.rows, i),
                get(&pending.docs, &out.docs, i),
                get(&pending.cites, cites, i),
                get(&pending.facts, all_facts, i),
                get(&pending.flow, all_flow, i),
            ) else {
                return Ok(None);
            };
            let record = TicketPatchRef {
                row: &row,
                doc: &doc,
                cite: &cite,
                facts: &facts,
                flow: &flow,
                title: &title,
                text: &text,
            };
            match postcard::to_stdvec(&record) {
                Ok(b) => {
                    log.tickets.insert(i as u32, b);
                }
                Err(_) => log.broken = true,
            }
            warnings.retain(|d| d.path != paths[i]);
            warnings.extend(w);
        }
        *warnings = rel_diags(&desk.root, std::mem::take(warnings));

        match &pending.rows {
            None => tickets::index_pages(&site, out, (!every_index).then_some(&only))?,
            Some(rows) => {
                let Some(part) = partial_rows(pending, rows, &months, open_list) else {
                    return Ok(None);
                };
                let mut by_month: std::collections::BTreeMap<&str, Vec<&super::context::Row>> =
                    Default::default();
                for m in &months {
                    by_month.insert(m.as_str(), Vec::new());
                }
                let mut open = open_list.then(Vec::new);
                for r in part.rows.iter().map(|(_, r)| &**r) {
                    if let Some(list) = by_month.get_mut(r.month) {
                        list.push(r);
                    }
                    if let Some(o) = open.as_mut().filter(|_| r.open) {
                        o.push(r);
                    }
                }
                let counts = part.counts.iter().map(|(m, n)| (m.as_str(), *n)).collect();
                tickets::index_pages_of(&site, &counts, by_month, open, Some(&only))?;
            }
        }
        if reports_moved {
            let report = report::build_from_facts(
                desk,
                all_facts.iter().flatten(),
                Some(By::Month),
                site.now,
            );
            reports::pages_of(&site, report, all_flow, out)?;
        }
        let doc_count = match &pending.docs {
            Some(d) => d.recs.len(),
            None => out.docs.len(),
        };
        let (mut shards, names) = match pending.terms.as_mut() {
            None => {
                crate::output::search::ticket_shards_touched(&out.postings, doc_count, &touched)
            }
            Some(terms) => {
                let dir = out_dir.join("search/t");
                let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
                let Some(mut files) =
                    super::termshards::patch_site(&mut terms.groups, &term_changes, &read)
                else {
                    return Ok(None);
                };
                files.push(terms.groups.index_file());
                let mut names = terms.groups.file_names();
                names.push("index.js".into());
                names.extend(
                    (0..doc_count.div_ceil(crate::output::search::DOC_CHUNK))
                        .map(|n| format!("docs-{n}.js")),
                );
                (files, names)
            }
        };
        let chunks: BTreeSet<usize> = changed_docs
            .iter()
            .map(|&d| d as usize / crate::output::search::DOC_CHUNK)
            .collect();
        for n in chunks {
            let from = n * crate::output::search::DOC_CHUNK;
            let to = (from + crate::output::search::DOC_CHUNK).min(doc_count);
            let docs: Option<Vec<Got<_>>> = match &pending.docs {
                Some(p) => (from..to).into_par_iter().map(|d| p.get(d)).collect(),
                None => (from..to).map(|d| out.docs.get(d).map(Got::Ref)).collect(),
            };
            let Some(docs) = docs else {
                return Ok(None);
            };
            let docs: Vec<&crate::output::search::TicketDoc> = docs.iter().map(|d| &**d).collect();
            shards.push(crate::output::search::ticket_docs_file(n, &docs));
        }
        shards.par_iter().try_for_each(|(name, text)| {
            site.out.write(&format!("search/t/{name}"), text.as_bytes())
        })?;
        // A shard no longer produced (its last term went) is removed, as a full build would.
        let names: HashSet<&str> = names.iter().map(String::as_str).collect();
        if let Ok(dir) = std::fs::read_dir(out_dir.join("search/t")) {
            for e in dir.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !names.contains(name.as_str()) && e.path().is_file() {
                    let _ = std::fs::remove_file(e.path());
                    log.files.insert(format!("search/t/{name}"));
                }
            }
        }
        log.files.extend(site.out.written());
        let o = &site.out;
        Ok(Some(BuildSummary {
            pages: site.pages.load(Ordering::Relaxed),
            files: o.files.load(Ordering::Relaxed),
            changed: o.changed.load(Ordering::Relaxed),
            bytes: o.bytes.load(Ordering::Relaxed),
            elapsed: started.elapsed(),
            warnings: warnings.clone(),
        }))
    }
}

impl Terms {
    /// Indexes ticket `doc` again with its new `title` and `text` on its range of the
    /// postings by documents (decoded into `ranges` once, with the patches since the full
    /// build replayed), adding what moved to `changes`; `false` when the range cannot be read.
    fn reindex(
        &mut self,
        ranges: &mut HashMap<usize, crate::output::search::Postings>,
        doc: u32,
        title: &str,
        text: &str,
        changes: &mut BTreeMap<String, Vec<super::termshards::Change>>,
    ) -> bool {
        use super::termshards::{range_of, weights_of};
        let r = range_of(doc);
        if let std::collections::hash_map::Entry::Vacant(e) = ranges.entry(r) {
            let Some(mut postings) = self.docs.of_doc(doc) else {
                return false;
            };
            let mut patched: Vec<_> = self
                .patched
                .iter()
                .filter(|(&d, _)| range_of(d) == r)
                .collect();
            patched.sort_unstable_by_key(|(&d, _)| d);
            for (&d, (t, x)) in patched {
                postings.replace(d, t, x);
            }
            e.insert(postings);
        }
        let Some(postings) = ranges.get_mut(&r) else {
            return false;
        };
        let old = weights_of(postings, doc);
        postings.replace(doc, title, text);
        let new = weights_of(postings, doc);
        super::termshards::changes(doc, &old, &new, changes);
        self.patched
            .insert(doc, (title.to_string(), text.to_string()));
        true
    }
}

/// The rows an index page of `months` (and of the open list, when `open`) reads, in the
/// order of the kept rows, from undecoded records; and every month's count.
struct PartialRows<'a> {
    rows: Vec<(usize, Got<'a, super::context::Row>)>,
    counts: BTreeMap<String, usize>,
}

fn partial_rows<'a>(
    pending: &Pending,
    part: &'a Part<super::context::Row>,
    months: &BTreeSet<String>,
    open: bool,
) -> Option<PartialRows<'a>> {
    let moved = &part.over;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut wanted: BTreeSet<usize> = BTreeSet::new();
    for (m, list) in &pending.months {
        let kept = list.iter().filter(|&&i| !moved.contains_key(&(i as usize)));
        if months.contains(m) {
            wanted.extend(kept.map(|&i| i as usize));
        } else {
            *counts.entry(m.clone()).or_default() += kept.count();
        }
    }
    if open {
        wanted.extend(
            pending
                .open
                .iter()
                .map(|&i| i as usize)
                .filter(|i| !moved.contains_key(i)),
        );
    }
    for (&i, r) in moved {
        if !months.contains(r.month) {
            *counts.entry(r.month.to_string()).or_default() += 1;
        }
        if months.contains(r.month) || (open && r.open) {
            wanted.insert(i);
        }
    }
    let wanted: Vec<usize> = wanted.into_iter().collect();
    let rows: Vec<(usize, Got<'a, super::context::Row>)> = wanted
        .par_iter()
        .map(|&i| Some((i, part.get(i)?)))
        .collect::<Option<_>>()?;
    for (_, r) in &rows {
        if months.contains(r.month) {
            *counts.entry(r.month.to_string()).or_default() += 1;
        }
    }
    counts.retain(|_, n| *n > 0);
    Some(PartialRows { rows, counts })
}

/// Whether a ticket's new front matter changes a knowledge base page: the articles it cites,
/// or (when an article lists it: it cites one, or one names it in `from_tickets`) its id or
/// title.
fn reaches_kb(kept: &Kept, old: &tickets::Cite, new: &crate::model::ticket::TicketFront) -> bool {
    if old.kb != new.kb || *old.id != *new.id {
        return true;
    }
    if *old.title == *new.title {
        return false;
    }
    !old.kb.is_empty()
        || kept
            .desk
            .kb
            .articles
            .iter()
            .any(|a| a.front.from_tickets.iter().any(|t| **t == *old.id))
}
