//! The build manifest: what a `mesa build` kept of the site it wrote, so that the next
//! `mesa build` (a fresh process) renders only the pages that depend on what changed, the way
//! `mesa serve`'s [`Session`] does in memory, and the output stays byte for byte that of a
//! full build.
//!
//! - Stored outside the tracked tree, beside the facts cache (`<gitdir>/mesa/site.bin`,
//!   [`crate::output::facts::cache_dir`]); a desk outside git has none and always builds in
//!   full. Written atomically at the end of a build; removed before a build starts writing,
//!   so a build that fails or is killed half-way leaves no manifest that could be trusted.
//! - What it keeps: per ticket what its pages need from the others (index row, search
//!   document and postings, report and trend/load facts, the kb citations), the rendered
//!   articles as the indexes show them and the page search index; and the state of every
//!   source and output file.
//! - Keyed as the facts cache keys its entries ([`facts::Stat`]: size, modification and change
//!   times, inode, device), with git's racy rule: a file touched at or after the moment the
//!   manifest was written (its own modification time, the file system's clock) is never
//!   trusted. Tickets and articles whose files moved are rendered again; any other difference
//!   in the output folder (a page edited, added or removed by hand, another `--out`) means a
//!   full build.
//! - Versioned by a stamp hashing mesa's version and build, the language, and every global
//!   input of the site (desk.yaml, every file of theme/ and of kb/ but the articles, the
//!   calendars' holiday files): any change there is a full build. The articles' git history
//!   (their "last updated" lines) must be unchanged too: new commits are accepted only when
//!   none of them touches `kb/`.
//! - The instant of the clocks: an incremental build keeps the one of the last full build, as
//!   `mesa serve` does, for at most [`REFRESH_AFTER_MINUTES`] (an explicit `--now` must equal
//!   it); past that, a full build moves it on. Public builds are always full.
//!
//! A missing, truncated, corrupt or foreign manifest is ignored and written again.

use super::context::{BuildOptions, BuildSummary, TicketOut};
use super::incremental::{Session, REFRESH_AFTER_MINUTES};
use super::kbpages::{ArticleView, KbPages};
use super::pipeline::Kept;
use super::tickets::Cite;
use crate::model::diag::{Diagnostic, Result};
use crate::model::load::Desk;
use crate::output::facts::{self, Fnv, Stat};
use crate::output::report::TicketFacts;
use crate::output::search::{PageIndex, Postings, TicketDoc};
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"MESASITE";
/// Bumped whenever the layout of anything kept changes.
const FORMAT: u32 = 1;
const FILE: &str = "site.bin";
/// More new commits than this since the last build: checking that none touched `kb/` is not
/// worth it, build in full.
const MAX_NEW_COMMITS: usize = 1000;

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

/// What a build kept of its sources and output: enough to tell what changed since.
#[derive(Serialize, Deserialize)]
struct Head {
    /// The output folder, canonical.
    out: PathBuf,
    /// The instant of the clocks (nanoseconds since the epoch).
    now_ns: i64,
    /// HEAD's commit and the id of its `kb/` tree, when the desk has commits.
    git: Option<(String, Option<String>)>,
    /// Ticket files (relative to the desk, in `ticket_paths` order) and their stats before
    /// they were read.
    tickets: Vec<(String, Option<Stat>)>,
    /// Articles (relative path, stat, hash of the front matter), in the desk's order.
    articles: Vec<(String, Option<Stat>, u64)>,
    /// Every file of the output folder, sorted by relative path.
    output: Vec<(String, Stat)>,
}

/// The kept state of the site, written from borrowed parts ([`StateRef`], same layout).
#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'static"))]
struct State {
    paths: Vec<PathBuf>,
    cites: Vec<Cite>,
    facts: Vec<Option<TicketFacts>>,
    flow: Vec<super::flow::FlowFacts>,
    rows: Vec<super::context::Row>,
    docs: Vec<TicketDoc>,
    postings: Postings,
    ticket_warnings: Vec<Diag>,
    warnings: Vec<Diag>,
    articles: Vec<ArticleView>,
    page_index: PageIndex,
}

#[derive(Serialize)]
struct StateRef<'a> {
    paths: &'a [PathBuf],
    cites: &'a [Cite],
    facts: &'a [Option<TicketFacts>],
    flow: &'a [super::flow::FlowFacts],
    rows: &'a [super::context::Row],
    docs: &'a [TicketDoc],
    postings: &'a Postings,
    ticket_warnings: Vec<Diag>,
    warnings: Vec<Diag>,
    articles: &'a [ArticleView],
    page_index: &'a PageIndex,
}

/// What a build did: the summary, and whether it was incremental.
pub struct Built {
    pub summary: BuildSummary,
    pub incremental: bool,
}

/// `mesa build`: builds the desk at `root` into `out`, incrementally when the manifest of the
/// last build says which pages the changes since reach. `explicit_now`: the instant in `opts`
/// was asked for (`--now`), not just the clock's.
pub fn build(
    root: &Path,
    desk: Desk,
    out: &Path,
    opts: &BuildOptions,
    explicit_now: bool,
) -> Result<Built> {
    let file = facts::cache_dir(root).map(|d| d.join(FILE));
    let record = file
        .as_deref()
        .filter(|_| !opts.public)
        .and_then(Record::read);
    // Whatever happens next, the manifest on disk no longer describes the output folder.
    if let Some(f) = &file {
        let _ = std::fs::remove_file(f);
    }
    let Some(file) = file.filter(|_| !opts.public) else {
        let summary = super::pipeline::build_loaded(desk, out, opts)?;
        return Ok(Built {
            summary,
            incremental: false,
        });
    };
    let mut sources = Sources::scan(root, desk);
    let now = opts.now.unwrap_or_else(Utc::now);
    let resumed = record.and_then(|r| r.resume(root, out, &mut sources, now, explicit_now));
    if let Some(Resumed {
        mut session,
        changed,
        now: kept_now,
    }) = resumed
    {
        let opts = BuildOptions {
            now: Some(kept_now),
            ..opts.clone()
        };
        if let Some(summary) = session.patch(&changed, &opts)? {
            save(&file, out, &session, &sources);
            return Ok(Built {
                summary,
                incremental: true,
            });
        }
    }
    let opts = BuildOptions {
        now: Some(now),
        ..opts.clone()
    };
    let (session, summary) = Session::build(root, out, &opts)?;
    save(&file, out, &session, &sources);
    Ok(Built {
        summary,
        incremental: false,
    })
}

/// The desk's sources as found before a build reads them.
struct Sources {
    desk: Option<Desk>,
    stamp: u64,
    tickets: Vec<(String, Option<Stat>)>,
    articles: Vec<(String, Option<Stat>, u64)>,
    git: Option<(String, Option<String>)>,
}

impl Sources {
    /// `desk` as `mesa build` loaded and checked it (no diagnostics).
    fn scan(root: &Path, desk: Desk) -> Sources {
        let desk = Some(desk);
        let tickets = crate::model::scan::ticket_entries(root)
            .into_iter()
            .map(|e| (facts::key(&e.rel), e.stat))
            .collect();
        let articles = desk
            .as_ref()
            .map(|d| {
                d.kb.articles
                    .iter()
                    .map(|a| {
                        (
                            facts::key(&crate::model::load::rel(root, &a.path)),
                            facts::stat_of(&a.path),
                            front_hash(a),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let stamp = desk.as_ref().map_or(0, stamp);
        Sources {
            desk,
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

/// A manifest as read from disk.
struct Record {
    stamp: u64,
    /// The manifest's own modification time: files touched at or after it are not trusted.
    written_ns: i64,
    head: Head,
    state: State,
}

/// A kept site ready to be patched.
struct Resumed {
    session: Session,
    changed: Vec<PathBuf>,
    now: DateTime<Utc>,
}

impl Record {
    fn read(file: &Path) -> Option<Record> {
        let stat = facts::stat_of(file)?;
        // Read once per process and kept to its end: the rows' few `&'static str` fields make
        // their `Deserialize` ask for `'static` input, though `interned` copies what it keeps.
        let bytes: &'static [u8] = Box::leak(std::fs::read(file).ok()?.into_boxed_slice());
        let head = bytes.get(..28)?;
        if &head[..8] != MAGIC || head[8..12] != FORMAT.to_le_bytes() {
            return None;
        }
        let stamp = u64::from_le_bytes(head[12..20].try_into().ok()?);
        let body = &bytes[28..];
        if head[20..28] != facts::checksum(body).to_le_bytes() {
            return None;
        }
        let (head, state): (Head, State) = postcard::from_bytes(body).ok()?;
        Some(Record {
            stamp,
            written_ns: stat.modified_ns(),
            head,
            state,
        })
    }

    /// The kept site, when it still describes the output folder and nothing global changed;
    /// with the sources that changed since.
    fn resume(
        self,
        root: &Path,
        out: &Path,
        src: &mut Sources,
        now: DateTime<Utc>,
        explicit_now: bool,
    ) -> Option<Resumed> {
        if self.stamp != src.stamp || src.git.is_none() != self.head.git.is_none() {
            return None;
        }
        let kept_now = DateTime::<Utc>::from_timestamp_nanos(self.head.now_ns);
        let fresh = if explicit_now {
            now == kept_now
        } else {
            now >= kept_now && now - kept_now <= chrono::Duration::minutes(REFRESH_AFTER_MINUTES)
        };
        if !fresh || out.canonicalize().ok()? != self.head.out {
            return None;
        }
        if let (Some(old), Some(new)) = (&self.head.git, &src.git) {
            if old != new && !kb_history_same(root, old, new) {
                return None;
            }
        }
        let settled = |s: &Stat| s.touched_ns() < self.written_ns;
        // The output folder must be exactly as the last build left it.
        let output = scan_output(out)?;
        if output.len() != self.head.output.len()
            || output
                .iter()
                .zip(&self.head.output)
                .any(|(a, b)| a != b || !settled(&b.1))
        {
            return None;
        }
        // Articles: the same files with the same front matter; bodies may differ.
        if self.head.articles.len() != src.articles.len() {
            return None;
        }
        let mut changed = Vec::new();
        for (old, new) in self.head.articles.iter().zip(&src.articles) {
            if old.0 != new.0 || old.2 != new.2 {
                return None;
            }
            if old.1.is_none() || old.1 != new.1 || !old.1.as_ref().is_some_and(settled) {
                changed.push(PathBuf::from(&new.0));
            }
        }
        // Tickets: those whose file moved, and any that came or went.
        let kept: HashMap<&str, &Option<Stat>> = self
            .head
            .tickets
            .iter()
            .map(|(p, s)| (p.as_str(), s))
            .collect();
        for (path, stat) in &src.tickets {
            match kept.get(path.as_str()) {
                Some(Some(old)) if Some(old) == stat.as_ref() && settled(old) => {}
                _ => changed.push(PathBuf::from(path)),
            }
        }
        if src.tickets.len() != self.head.tickets.len() {
            let now: std::collections::HashSet<&str> =
                src.tickets.iter().map(|(p, _)| p.as_str()).collect();
            changed.extend(
                self.head
                    .tickets
                    .iter()
                    .filter(|(p, _)| !now.contains(p.as_str()))
                    .map(|(p, _)| PathBuf::from(p)),
            );
        }
        let s = self.state;
        let by_id = s
            .articles
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.clone(), i))
            .collect();
        let kept = Kept {
            desk: src.desk.take()?,
            kb: KbPages {
                articles: s.articles,
                catalog: Vec::new(),
                cases: Vec::new(),
                broken: Vec::new(),
                by_id,
                tags: Default::default(),
                page_index: s.page_index,
            },
            paths: s.paths,
            cites: s.cites,
            facts: s.facts,
            flow: s.flow,
            tickets: TicketOut {
                rows: s.rows,
                docs: s.docs,
                postings: s.postings,
                warnings: s.ticket_warnings.into_iter().map(diag_in).collect(),
            },
            warnings: s.warnings.into_iter().map(diag_in).collect(),
        };
        Some(Resumed {
            session: Session::resume(root, out, kept_now, kept),
            changed,
            now: kept_now,
        })
    }
}

/// Writes the manifest of the site `session` keeps (nothing when it keeps none).
fn save(file: &Path, out: &Path, session: &Session, src: &Sources) {
    let Some((kept, facts_, flow, now)) = session.state() else {
        return;
    };
    let (Some(output), Ok(out)) = (scan_output(out), out.canonicalize()) else {
        return;
    };
    let head = Head {
        out,
        now_ns: now.timestamp_nanos_opt().unwrap_or(0),
        git: src.git.clone(),
        tickets: src.tickets.clone(),
        articles: src.articles.clone(),
        output,
    };
    let state = StateRef {
        paths: &kept.paths,
        cites: &kept.cites,
        facts: facts_,
        flow,
        rows: &kept.tickets.rows,
        docs: &kept.tickets.docs,
        postings: &kept.tickets.postings,
        ticket_warnings: kept.tickets.warnings.iter().map(diag_out).collect(),
        warnings: kept.warnings.iter().map(diag_out).collect(),
        articles: &kept.kb.articles,
        page_index: &kept.kb.page_index,
    };
    // Streamed to the file as it is serialised: at a million tickets the manifest is over a
    // gigabyte, and holding it in memory beside the state it describes would double the
    // build's peak (twice over with a header-prefixed copy).
    let kept = (&head, &state);
    let Ok(len) = postcard::experimental::serialized_size(&kept) else {
        return;
    };
    let write = |f: &mut std::fs::File| write_manifest(f, src.stamp, len, &kept);
    // The racy rule: every recorded file must have been touched strictly before the manifest
    // was written (by the file system's own clock), or the next build would distrust it.
    let latest = head
        .output
        .iter()
        .map(|(_, s)| s)
        .chain(head.tickets.iter().filter_map(|(_, s)| s.as_ref()))
        .chain(head.articles.iter().filter_map(|(_, s, _)| s.as_ref()))
        .map(Stat::touched_ns)
        .max()
        .unwrap_or(0);
    for _ in 0..50 {
        if facts::write_atomic_with(file, write).is_err() {
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

/// The manifest file: magic, format, stamp, the checksum of the body (written last, once
/// known) and the body (`len` bytes of postcard), streamed through a buffer.
fn write_manifest(
    f: &mut std::fs::File,
    stamp: u64,
    len: usize,
    kept: &impl Serialize,
) -> std::io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    /// Passes the body on and checksums it.
    struct Summed<'a> {
        file: &'a mut std::fs::File,
        sum: facts::Checksum,
        len: usize,
    }
    impl Write for Summed<'_> {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let n = self.file.write(b)?;
            self.sum.update(&b[..n]);
            self.len += n;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.file.flush()
        }
    }
    let mut head = Vec::with_capacity(28);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&FORMAT.to_le_bytes());
    head.extend_from_slice(&stamp.to_le_bytes());
    head.extend_from_slice(&[0; 8]);
    f.write_all(&head)?;
    let summed = Summed {
        file: f,
        sum: facts::Checksum::new(len),
        len: 0,
    };
    let buffered = std::io::BufWriter::with_capacity(1 << 20, summed);
    let buffered = postcard::to_io(kept, buffered).map_err(std::io::Error::other)?;
    let summed = buffered.into_inner().map_err(|e| e.into_error())?;
    if summed.len != len {
        return Err(std::io::Error::other("manifest size changed while written"));
    }
    let sum = summed.sum.finish();
    f.seek(SeekFrom::Start(20))?;
    f.write_all(&sum.to_le_bytes())?;
    f.flush()
}

/// Every file of the output folder with its stat, sorted; `None` when it cannot be read.
fn scan_output(out: &Path) -> Option<Vec<(String, Stat)>> {
    let mut files = Vec::new();
    for e in walkdir::WalkDir::new(out).min_depth(1) {
        let e = e.ok()?;
        if e.file_type().is_dir() {
            continue;
        }
        let rel = e
            .path()
            .strip_prefix(out)
            .ok()?
            .to_string_lossy()
            .into_owned();
        files.push((rel, e.into_path()));
    }
    let mut stats: Vec<(String, Stat)> = files
        .into_par_iter()
        .map(|(rel, p)| Some((rel, facts::stat_of(&p)?)))
        .collect::<Option<_>>()?;
    stats.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Some(stats)
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
        // Named relative to the desk, so a desk moved to another folder keeps its manifest.
        h.bytes(
            f.strip_prefix(root)
                .unwrap_or(&f)
                .to_string_lossy()
                .as_bytes(),
        );
        match std::fs::read(&f) {
            Ok(b) => h.bytes(&b),
            Err(_) => h.bytes(b"\0missing"),
        }
    }
    h.0
}
