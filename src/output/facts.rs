//! The derived-facts cache: what `mesa check`, `mesa report` and `mesa list` derived from each
//! ticket file, kept between runs so that an unchanged desk is not parsed and replayed again.
//!
//! - Keyed as git's index keys its entries: a regular file's size, modification and change
//!   times (nanoseconds), inode and device. An edit that keeps the size and puts the mtime back
//!   (`touch -r`) still changes the ctime, which nobody can set back. Links and special files
//!   are never cached (the safe reader decides about them on every run).
//! - Never trusted over the file ("racy git"): an entry whose file was modified or changed at
//!   or after the moment the cache was written is derived again, since a write in that same
//!   instant could leave the same times.
//! - Stored outside the tracked tree: in the git directory (`.git/mesa/`, the worktree's own
//!   git directory for a linked worktree). A desk outside git has no cache (nothing is ever
//!   written into a desk folder by a reading command). One file per command, written
//!   atomically (temporary file and rename).
//! - Read in place: the file is mapped; fixed records sorted in scan order point at the keys
//!   and the postcard facts, decoded only for a ticket that asks (see [`Cache`]).
//! - Versioned: a header holds the format, and a stamp hashing mesa's version and build, the
//!   active language and every desk input the facts depend on (desk.yaml, the catalog and
//!   playbook, the article ids, the calendars' holiday files, the desk's message overrides).
//!   A missing, truncated, corrupt or foreign file is ignored and rebuilt silently; the body
//!   carries a checksum.

use crate::model::mapped::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

pub use crate::model::scan::{stat_of, Stat};

const MAGIC: &[u8; 8] = b"MESAFCT\n";
/// Bumped whenever the layout of the file or of any cached record changes.
const FORMAT: u32 = 4;
/// The header: magic, format, stamp, checksum of the body.
const HEAD: usize = 28;
/// One record: key offset and length, the stat (size, mtime, ctime, inode, device), data
/// offset and length; all little-endian.
const REC: usize = 56;

/// The folder of the cache for the desk at `root`: `mesa/` in its git directory; `None` when
/// the desk is not in a git work tree.
pub fn cache_dir(root: &Path) -> Option<PathBuf> {
    let repo = git2::Repository::discover(root).ok()?;
    (!repo.is_bare()).then(|| repo.path().join("mesa"))
}

pub(crate) use crate::model::cache::{checksum, Checksum, Fnv};

/// The stamp of everything besides a ticket's own file that its facts depend on, for the
/// cache `name`: a cache written under another stamp is ignored.
pub fn stamp(desk: &crate::model::load::Desk, name: &str) -> u64 {
    let root = &desk.root;
    let mut h = Fnv::new();
    h.bytes(&FORMAT.to_le_bytes());
    h.bytes(name.as_bytes());
    h.build();
    let lang = &crate::model::i18n::active().lang;
    h.bytes(lang.as_bytes());
    h.file(&root.join(crate::model::load::DESK_FILE));
    h.file(&root.join("theme/i18n").join(format!("{lang}.yaml")));
    for page in &desk.kb.catalog {
        h.file(&page.path);
    }
    for page in &desk.kb.playbook {
        h.file(&page.path);
    }
    // Tickets name articles (`kb:`): which ones exist matters, not what they say.
    for a in &desk.kb.articles {
        h.bytes(a.id.as_bytes());
    }
    for cal in &desk.config.calendars {
        if let Some(f) = &cal.holidays_ics {
            h.file(&root.join(f));
        }
    }
    h.0
}

/// One command's cache, as read at the start of a run: the file as it is on disk, read in one
/// go and looked up in place (no decoding of the whole file: a record's facts are decoded
/// only when its ticket asks for them).
///
/// Body: the instant it was written (i64 ns), the number of records (u64), the records
/// ([`REC`] bytes each, sorted by key in [`cmp_key`] order, the order of the ticket scan),
/// then the keys and the postcard-encoded facts they point into.
pub struct Cache<T> {
    path: PathBuf,
    stamp: u64,
    written_ns: i64,
    /// The whole file as read (header included).
    body: Bytes,
    n: usize,
    _facts: PhantomData<fn() -> T>,
}

/// What the next cache keeps of a ticket: the record of the cache read at the start of the
/// run (unchanged, copied without decoding) or newly derived facts.
pub enum Next<'a, T> {
    Old(u32),
    New(&'a T),
}

/// Keys in the order of paths (component by component, as `Path` compares them): the ticket
/// scan's order, so that a ticket's record is usually at the ticket's own position.
pub fn cmp_key(a: &[u8], b: &[u8]) -> Ordering {
    let map = |c: &u8| if *c == b'/' { 0 } else { *c };
    a.iter().map(map).cmp(b.iter().map(map))
}

use crate::model::cache::now_ns;

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

fn u32_at(b: &[u8], at: usize) -> usize {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(w) as usize
}

impl<T: Serialize + DeserializeOwned> Cache<T> {
    /// Reads the cache `name` of the desk at `root` (empty when missing, unreadable, corrupt or
    /// written under another stamp).
    pub fn open(root: &Path, name: &str, stamp: u64) -> Cache<T> {
        let Some(dir) = cache_dir(root) else {
            return Cache::disabled();
        };
        let mut cache = Cache {
            path: dir.join(format!("{name}.bin")),
            stamp,
            written_ns: 0,
            body: Bytes::Owned(Vec::new()),
            n: 0,
            _facts: PhantomData,
        };
        if let Some((written_ns, body, n)) = read(&cache.path, stamp) {
            cache.written_ns = written_ns;
            cache.body = body;
            cache.n = n;
        }
        cache
    }

    /// A cache that keeps nothing and is never written (for a run that cannot use it).
    pub fn disabled() -> Cache<T> {
        Cache {
            path: PathBuf::new(),
            stamp: 0,
            written_ns: 0,
            body: Bytes::Owned(Vec::new()),
            n: 0,
            _facts: PhantomData,
        }
    }

    /// The file as read; the body starts after the header.
    fn record(&self, i: usize) -> &[u8] {
        let at = HEAD + 16 + i * REC;
        &self.body[at..at + REC]
    }

    fn blob(&self) -> &[u8] {
        &self.body[HEAD + 16 + self.n * REC..]
    }

    fn key_at(&self, i: usize) -> &[u8] {
        let r = self.record(i);
        let (at, len) = (u32_at(r, 0), u32_at(r, 4));
        self.blob().get(at..at.saturating_add(len)).unwrap_or(&[])
    }

    fn data_at(&self, i: usize) -> Option<&[u8]> {
        let r = self.record(i);
        let (at, len) = (u32_at(r, 48), u32_at(r, 52));
        self.blob().get(at..at.checked_add(len)?)
    }

    fn stat_at(&self, i: usize) -> Stat {
        let r = self.record(i);
        Stat {
            size: u64_at(r, 8),
            mtime_ns: u64_at(r, 16) as i64,
            ctime_ns: u64_at(r, 24) as i64,
            ino: u64_at(r, 32),
            dev: u64_at(r, 40),
        }
    }

    /// The record for `key`: first at `hint` (the ticket's position in the scan, where it is
    /// when no ticket came or went), else by binary search.
    fn find(&self, hint: usize, key: &str) -> Option<usize> {
        let key = key.as_bytes();
        if hint < self.n && self.key_at(hint) == key {
            return Some(hint);
        }
        let (mut lo, mut hi) = (0, self.n);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match cmp_key(self.key_at(mid), key) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The record kept for `key` when its file is exactly as it was when its facts were
    /// derived, and was last touched strictly before the cache was written.
    pub fn get(&self, hint: usize, key: &str, stat: &Stat) -> Option<u32> {
        let i = self.find(hint, key)?;
        let settled = stat.mtime_ns < self.written_ns && stat.ctime_ns < self.written_ns;
        (settled && self.stat_at(i) == *stat)
            .then(|| u32::try_from(i).ok())
            .flatten()
    }

    /// The facts of record `i` (`None` when they do not decode: then they are derived again).
    pub fn decode(&self, i: u32) -> Option<T> {
        postcard::from_bytes(self.data_at(i as usize)?).ok()
    }

    /// [`Cache::get`] and [`Cache::decode`] in one.
    pub fn fetch(&self, hint: usize, key: &str, stat: &Stat) -> Option<(u32, T)> {
        let i = self.get(hint, key, stat)?;
        Some((i, self.decode(i)?))
    }

    /// Number of records read.
    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Writes `entries` (key, stat, facts) as the new cache, atomically; failures are ignored
    /// (the cache only saves time: a read-only repository works without it).
    pub fn save<'a, I>(&self, entries: I)
    where
        I: IntoIterator<Item = (&'a str, &'a Stat, Next<'a, T>)>,
        T: 'a,
    {
        if self.path.as_os_str().is_empty() {
            return;
        }
        let written_ns = now_ns();
        let mut entries: Vec<(&str, &Stat, Next<'a, T>)> = entries.into_iter().collect();
        if !entries
            .windows(2)
            .all(|w| cmp_key(w[0].0.as_bytes(), w[1].0.as_bytes()) == Ordering::Less)
        {
            entries.sort_by(|a, b| cmp_key(a.0.as_bytes(), b.0.as_bytes()));
            entries.dedup_by(|a, b| a.0 == b.0);
        }
        let mut records = Vec::with_capacity(16 + entries.len() * REC);
        records.extend_from_slice(&written_ns.to_le_bytes());
        records.extend_from_slice(&(entries.len() as u64).to_le_bytes());
        let mut blob: Vec<u8> = Vec::with_capacity(entries.len() * 64);
        let offset = |len: usize| u32::try_from(len).ok();
        for (key, stat, next) in &entries {
            let Some(key_at) = offset(blob.len()) else {
                return;
            };
            blob.extend_from_slice(key.as_bytes());
            let data_at = blob.len();
            match next {
                Next::Old(i) => match self.data_at(*i as usize) {
                    Some(d) => blob.extend_from_slice(d),
                    None => return,
                },
                Next::New(f) => match postcard::to_extend(*f, std::mem::take(&mut blob)) {
                    Ok(b) => blob = b,
                    Err(_) => return,
                },
            }
            let (Some(key_len), Some(data), Some(data_len)) = (
                offset(key.len()),
                offset(data_at),
                offset(blob.len() - data_at),
            ) else {
                return;
            };
            records.extend_from_slice(&key_at.to_le_bytes());
            records.extend_from_slice(&key_len.to_le_bytes());
            records.extend_from_slice(&stat.size.to_le_bytes());
            records.extend_from_slice(&stat.mtime_ns.to_le_bytes());
            records.extend_from_slice(&stat.ctime_ns.to_le_bytes());
            records.extend_from_slice(&stat.ino.to_le_bytes());
            records.extend_from_slice(&stat.dev.to_le_bytes());
            records.extend_from_slice(&data.to_le_bytes());
            records.extend_from_slice(&data_len.to_le_bytes());
        }
        records.extend_from_slice(&blob);
        let body = records;
        let mut bytes = Vec::with_capacity(body.len() + HEAD);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT.to_le_bytes());
        bytes.extend_from_slice(&self.stamp.to_le_bytes());
        bytes.extend_from_slice(&checksum(&body).to_le_bytes());
        bytes.extend_from_slice(&body);
        let _ = write_atomic(&self.path, &bytes);
    }
}

/// Allocator setting for a command that reads the whole desk once and exits (`mesa check`,
/// `report`, `list`): memory freed while it runs is kept for reuse instead of being handed
/// back to the system at once, page by page, as a build does ([`tune_allocator`]): at 100,000
/// tickets those `madvise` calls were a twentieth of a warm run's time, for memory the
/// process gives back anyway when it exits a moment later.
///
/// [`tune_allocator`]: crate::output::site::output::tune_allocator
pub fn keep_freed_memory() {
    // `mi_option_purge_delay` in mimalloc v3's `mi_option_e` (libmimalloc-sys 0.1.49); -1:
    // never purge.
    const PURGE_DELAY: std::ffi::c_int = 15;
    use mimalloc as _;
    unsafe extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    // SAFETY: sets a plain integer option; mimalloc reads options atomically.
    unsafe {
        mi_option_set(PURGE_DELAY, -1);
    }
}

/// The path of `p` under `root` as the cache keys it.
pub fn key(rel: &Path) -> String {
    rel.to_string_lossy().into_owned()
}

pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic_parts(path, &[bytes])
}

/// [`write_atomic`] of a file made of `parts` in order, without joining them in memory first
/// (the build manifest of a million-ticket desk is over a gigabyte).
pub(crate) fn write_atomic_parts(path: &Path, parts: &[&[u8]]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    for p in parts {
        tmp.write_all(p)?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The cache file's body, checked: its instant, the body and the number of records.
fn read(path: &Path, stamp: u64) -> Option<(i64, Bytes, usize)> {
    let bytes = Bytes::map(path, true).ok()??;
    let head = bytes.get(..HEAD)?;
    if &head[..8] != MAGIC
        || head[8..12] != FORMAT.to_le_bytes()
        || head[12..20] != stamp.to_le_bytes()
    {
        return None;
    }
    let sum = u64_at(head, 20);
    let body = &bytes[HEAD..];
    if sum != checksum(body) || body.len() < 16 {
        return None;
    }
    let written_ns = u64_at(body, 0) as i64;
    let n = usize::try_from(u64_at(body, 8)).ok()?;
    let records = n.checked_mul(REC)?.checked_add(16)?;
    (records <= body.len()).then_some((written_ns, bytes, n))
}

/// What `mesa check` keeps of a ticket: its problems and, when it parsed, its id.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckFacts {
    diags: Vec<(u32, u32, String, Option<String>)>,
    id: Option<String>,
}

impl CheckFacts {
    /// From a ticket's outcome (every diagnostic of a ticket is at the ticket's path).
    pub fn of(outcome: &crate::rules::validate::TicketOutcome) -> CheckFacts {
        CheckFacts {
            diags: outcome
                .0
                .iter()
                .map(|d| {
                    (
                        u32::try_from(d.line).unwrap_or(u32::MAX),
                        u32::try_from(d.col).unwrap_or(u32::MAX),
                        d.message.clone(),
                        d.hint.clone(),
                    )
                })
                .collect(),
            id: outcome.1.as_ref().map(|(id, _)| id.clone()),
        }
    }

    /// Back to the outcome for the ticket at `rel`.
    pub fn outcome(self, rel: &Path) -> crate::rules::validate::TicketOutcome {
        (
            self.diags
                .into_iter()
                .map(|(line, col, message, hint)| {
                    crate::model::diag::Diagnostic::new(rel, line as usize, col as usize, message)
                        .with_hint(hint)
                })
                .collect(),
            self.id.map(|id| (id, rel.to_path_buf())),
        )
    }

    /// Whether every diagnostic sits at `rel` (only then can they be rebuilt from the facts).
    pub fn all_at(outcome: &crate::rules::validate::TicketOutcome, rel: &Path) -> bool {
        outcome.0.iter().all(|d| d.path == rel) && outcome.1.as_ref().is_none_or(|(_, p)| p == rel)
    }
}

/// What the facts cache keeps of a ticket for `mesa list`: the listed fields of a settled one
/// (closed, every clock stopped), whose row no longer changes from its last event on; the
/// row and clock inputs of any other ([`OpenRow`]); nothing for a log out of order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ListFacts {
    Live,
    Settled(ListRow),
    Open(Box<OpenRow>),
}

/// The fields `mesa list` shows, filters and sorts a settled ticket by.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListRow {
    pub id: String,
    pub title: String,
    pub customer: String,
    pub status: crate::model::ticket::Status,
    pub level: u8,
    pub priority: Option<String>,
    pub assignee: Option<String>,
    pub ticket_type: Option<crate::model::ticket::TicketType>,
    /// The instant of the last event (seconds and nanoseconds since the epoch, UTC): the
    /// latest of the log (a log whose last event is not its latest is never settled), what
    /// the "updated" order sorts by. Kept as numbers, not as written, so a warm list neither
    /// allocates nor parses a date per row.
    last: (i64, u32),
    /// Whether a clock ended breached.
    pub breached: bool,
}

impl ListFacts {
    /// The record of `front`, walked (`w`) and with its clocks as of `now`: a settled row when
    /// the ticket is closed, every clock stopped and its last event not after `now`; else,
    /// when its last event is not after `now`, its row and what its clocks read.
    pub fn of(
        desk: &crate::model::load::Desk,
        front: &crate::model::ticket::TicketFront,
        w: &crate::rules::sla::Walk,
        clocks: &[crate::rules::sla::ClockView],
        now: chrono::DateTime<chrono::Utc>,
    ) -> ListFacts {
        use crate::model::ticket::Status;
        // The list sorts by the log's last event; the row starts to hold from its latest: a
        // log out of order (which `mesa check` reports) stays live.
        let Some(last) = front
            .events
            .last()
            .filter(|l| front.events.iter().all(|e| e.at.utc() <= l.at.utc()))
            .filter(|l| l.at.utc() <= now)
        else {
            return ListFacts::Live;
        };
        let unread = crate::rules::workflow::unread_reply(&front.events).is_some();
        // A customer's reply nobody acted on keeps the ticket open (`--unread`, the marker).
        let settled = front.status == Status::Closed && clocks.iter().all(|c| c.stopped) && !unread;
        let row = ListRow {
            id: front.id.clone(),
            title: front.title.clone(),
            customer: front.customer.clone(),
            status: front.status,
            level: front.level,
            priority: front.priority.clone(),
            assignee: front.assignee.clone(),
            ticket_type: front.ticket_type,
            last: {
                let at = last.at.utc();
                (at.timestamp(), at.timestamp_subsec_nanos())
            },
            breached: clocks
                .iter()
                .any(|c| c.state == crate::rules::sla::ClockState::Breached),
        };
        if settled {
            ListFacts::Settled(row)
        } else {
            ListFacts::Open(Box::new(OpenRow {
                row,
                unread,
                inputs: crate::rules::sla::ClockInputs::of(desk, w),
            }))
        }
    }
}

/// A ticket whose clocks may still run: its row (`breached` not used) and what its clocks
/// read, evaluated at each list's instant from its last event on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenRow {
    pub row: ListRow,
    /// A customer's email nobody acted on since.
    pub unread: bool,
    pub inputs: crate::rules::sla::ClockInputs,
}

impl ListRow {
    /// When the row starts to hold: its last event.
    pub fn since(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        chrono::DateTime::from_timestamp(self.last.0, self.last.1)
    }
}
