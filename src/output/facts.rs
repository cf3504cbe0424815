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
//! - Versioned: a header holds the format, and a stamp hashing mesa's version and build, the
//!   active language and every desk input the facts depend on (desk.yaml, the catalog and
//!   playbook, the article ids, the calendars' holiday files, the desk's message overrides).
//!   A missing, truncated, corrupt or foreign file is ignored and rebuilt silently; the body
//!   carries a checksum.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"MESAFCT\n";
/// Bumped whenever the layout of any cached record changes.
const FORMAT: u32 = 1;

/// What the file system says about a ticket file: enough to notice any change to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    size: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    ino: u64,
    dev: u64,
}

impl Stat {
    /// The later of the file's modification and change times (for the racy-file rule: a file
    /// touched at or after the moment a record was written is never trusted).
    pub fn touched_ns(&self) -> i64 {
        self.mtime_ns.max(self.ctime_ns)
    }

    /// The modification time (nanoseconds since the epoch).
    pub fn modified_ns(&self) -> i64 {
        self.mtime_ns
    }
}

/// The stat of a regular file (`None` for links, folders, special files and errors: those are
/// never cached).
#[cfg(unix)]
pub fn stat_of(path: &Path) -> Option<Stat> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::symlink_metadata(path).ok()?;
    if !m.file_type().is_file() {
        return None;
    }
    Some(Stat {
        size: m.size(),
        mtime_ns: m.mtime().saturating_mul(1_000_000_000) + m.mtime_nsec(),
        ctime_ns: m.ctime().saturating_mul(1_000_000_000) + m.ctime_nsec(),
        ino: m.ino(),
        dev: m.dev(),
    })
}

#[cfg(not(unix))]
pub fn stat_of(_path: &Path) -> Option<Stat> {
    None
}

/// The folder of the cache for the desk at `root`: `mesa/` in its git directory; `None` when
/// the desk is not in a git work tree.
pub fn cache_dir(root: &Path) -> Option<PathBuf> {
    let repo = git2::Repository::discover(root).ok()?;
    (!repo.is_bare()).then(|| repo.path().join("mesa"))
}

/// 64-bit FNV-1a, for the stamp (small inputs).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) {
        for x in b {
            self.0 ^= u64::from(*x);
            self.0 = self.0.wrapping_mul(0x100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        self.0 ^= b.len() as u64;
        self.0 = self.0.wrapping_mul(0x100_0000_01b3);
    }
    fn file(&mut self, path: &Path) {
        self.bytes(path.to_string_lossy().as_bytes());
        match std::fs::read(path) {
            Ok(b) => self.bytes(&b),
            Err(_) => self.bytes(b"\0missing"),
        }
    }
}

/// A word-at-a-time checksum of the body (fast over tens of megabytes).
pub(crate) fn checksum(b: &[u8]) -> u64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15 ^ b.len() as u64;
    let mut chunks = b.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w).wrapping_mul(0xff51_afd7_ed55_8ccd).rotate_left(29);
    }
    for x in chunks.remainder() {
        h = (h ^ u64::from(*x)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    }
    h ^ (h >> 31)
}

/// The stamp of everything besides a ticket's own file that its facts depend on, for the
/// cache `name`: a cache written under another stamp is ignored.
pub fn stamp(desk: &crate::model::load::Desk, name: &str) -> u64 {
    let root = &desk.root;
    let mut h = Fnv::new();
    h.bytes(&FORMAT.to_le_bytes());
    h.bytes(name.as_bytes());
    h.bytes(env!("CARGO_PKG_VERSION").as_bytes());
    // The build: rules change between builds of one version while mesa is developed.
    if let Some(m) = std::env::current_exe()
        .ok()
        .and_then(|e| std::fs::metadata(e).ok())
    {
        h.bytes(&m.len().to_le_bytes());
        if let Ok(t) = m.modified() {
            h.bytes(format!("{t:?}").as_bytes());
        }
    }
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

/// One command's cache, as read at the start of a run.
pub struct Cache<T> {
    path: PathBuf,
    stamp: u64,
    written_ns: i64,
    /// Sorted by path (bytes), so that a lookup is a binary search and needs no index.
    entries: Vec<(String, Stat, T)>,
}

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl<T: Serialize + DeserializeOwned> Cache<T> {
    /// Reads the cache `name` of the desk at `root` (empty when missing, unreadable, corrupt or
    /// written under another stamp).
    pub fn open(root: &Path, name: &str, stamp: u64) -> Cache<T> {
        let Some(dir) = cache_dir(root) else {
            return Cache::disabled();
        };
        let path = dir.join(format!("{name}.bin"));
        let mut cache = Cache {
            path,
            stamp,
            written_ns: 0,
            entries: Vec::new(),
        };
        if let Some((written_ns, mut entries)) = read::<T>(&cache.path, stamp) {
            if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                entries.dedup_by(|a, b| a.0 == b.0);
            }
            cache.written_ns = written_ns;
            cache.entries = entries;
        }
        cache
    }

    /// A cache that keeps nothing and is never written (for a run that cannot use it).
    pub fn disabled() -> Cache<T> {
        Cache {
            path: PathBuf::new(),
            stamp: 0,
            written_ns: 0,
            entries: Vec::new(),
        }
    }

    /// The facts kept for `rel` when its file is exactly as it was when they were derived, and
    /// was last touched strictly before the cache was written.
    pub fn get(&self, rel: &str, stat: &Stat) -> Option<&T> {
        let i = self
            .entries
            .binary_search_by(|(p, _, _)| p.as_str().cmp(rel))
            .ok()?;
        let (_, kept, facts) = &self.entries[i];
        let settled = stat.mtime_ns < self.written_ns && stat.ctime_ns < self.written_ns;
        (kept == stat && settled).then_some(facts)
    }

    /// Number of entries read.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes `entries` (path, stat, facts) as the new cache, atomically; failures are ignored
    /// (the cache only saves time: a read-only repository works without it).
    pub fn save<'a, I>(&self, entries: I)
    where
        I: IntoIterator<Item = (&'a str, &'a Stat, &'a T)>,
        T: 'a,
    {
        if self.path.as_os_str().is_empty() {
            return;
        }
        let written_ns = now_ns();
        let mut entries: Vec<(&str, &Stat, &T)> = entries.into_iter().collect();
        entries.sort_by(|a, b| a.0.cmp(b.0));
        let Ok(body) = postcard::to_stdvec(&(written_ns, &entries)) else {
            return;
        };
        let mut bytes = Vec::with_capacity(body.len() + 32);
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&FORMAT.to_le_bytes());
        bytes.extend_from_slice(&self.stamp.to_le_bytes());
        bytes.extend_from_slice(&checksum(&body).to_le_bytes());
        bytes.extend_from_slice(&body);
        let _ = write_atomic(&self.path, &bytes);
    }
}

pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

type Entries<T> = Vec<(String, Stat, T)>;

fn read<T: DeserializeOwned>(path: &Path, stamp: u64) -> Option<(i64, Entries<T>)> {
    let bytes = std::fs::read(path).ok()?;
    let head = bytes.get(..28)?;
    if &head[..8] != MAGIC
        || head[8..12] != FORMAT.to_le_bytes()
        || head[12..20] != stamp.to_le_bytes()
    {
        return None;
    }
    let body = &bytes[28..];
    if head[20..28] != checksum(body).to_le_bytes() {
        return None;
    }
    postcard::from_bytes(body).ok()
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
    pub fn outcome(&self, rel: &Path) -> crate::rules::validate::TicketOutcome {
        (
            self.diags
                .iter()
                .map(|(line, col, message, hint)| {
                    crate::model::diag::Diagnostic::new(
                        rel,
                        *line as usize,
                        *col as usize,
                        message.clone(),
                    )
                    .with_hint(hint.clone())
                })
                .collect(),
            self.id.clone().map(|id| (id, rel.to_path_buf())),
        )
    }

    /// Whether every diagnostic sits at `rel` (only then can they be rebuilt from the facts).
    pub fn all_at(outcome: &crate::rules::validate::TicketOutcome, rel: &Path) -> bool {
        outcome.0.iter().all(|d| d.path == rel) && outcome.1.as_ref().is_none_or(|(_, p)| p == rel)
    }
}

/// The path of `p` under `root` as the cache keys it.
pub fn key(rel: &Path) -> String {
    rel.to_string_lossy().into_owned()
}

/// What the facts cache keeps of a ticket for `mesa list`: nothing for a ticket whose clocks
/// still run, or the listed fields of a settled one (closed, every clock stopped), whose row
/// no longer changes from its last event on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ListFacts {
    Live,
    Settled(ListRow),
}

/// The fields `mesa list` shows, filters and sorts a settled ticket by.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ListRow {
    id: String,
    title: String,
    customer: String,
    status: crate::model::ticket::Status,
    level: u8,
    priority: Option<String>,
    assignee: Option<String>,
    ticket_type: Option<crate::model::ticket::TicketType>,
    /// The last event, as written (RFC 3339).
    last: String,
    /// Whether a clock ended breached.
    pub breached: bool,
}

impl ListFacts {
    /// The record of `front` with its clocks as of `now` (a settled row when the ticket is
    /// closed, every clock stopped and its last event not after `now`).
    pub fn of(
        front: &crate::model::ticket::TicketFront,
        clocks: &[crate::rules::sla::ClockView],
        now: chrono::DateTime<chrono::Utc>,
    ) -> ListFacts {
        use crate::model::ticket::Status;
        let last = front.events.iter().max_by_key(|e| e.at.utc());
        // A customer's reply nobody acted on keeps the ticket live (`--unread`, the marker).
        let settled = front.status == Status::Closed
            && clocks.iter().all(|c| c.stopped)
            && crate::rules::workflow::unread_reply(&front.events).is_none()
            && last.is_some_and(|l| l.at.utc() <= now);
        match last {
            Some(last) if settled => ListFacts::Settled(ListRow {
                id: front.id.clone(),
                title: front.title.clone(),
                customer: front.customer.clone(),
                status: front.status,
                level: front.level,
                priority: front.priority.clone(),
                assignee: front.assignee.clone(),
                ticket_type: front.ticket_type,
                last: last.at.to_string(),
                breached: clocks
                    .iter()
                    .any(|c| c.state == crate::rules::sla::ClockState::Breached),
            }),
            _ => ListFacts::Live,
        }
    }
}

impl ListRow {
    /// The ticket as far as the list reads it: its fields, and a log of its last event only
    /// (the "updated" order); `None` when the kept instant no longer parses.
    pub fn ticket(&self, path: &Path) -> Option<crate::model::ticket::Ticket> {
        use crate::model::ticket::{Event, EventKind, Requester, Stamp, Ticket, TicketFront};
        let at = Stamp::parse(&self.last).ok()?;
        let mut front = TicketFront::new(
            self.id.clone(),
            self.title.clone(),
            self.customer.clone(),
            Requester::default(),
            String::new(),
        );
        front.status = self.status;
        front.level = self.level;
        front.priority = self.priority.clone();
        front.assignee = self.assignee.clone();
        front.ticket_type = self.ticket_type;
        front.events = vec![Event::new(at, "", EventKind::Created)];
        Some(Ticket {
            path: path.to_path_buf(),
            front,
            body: String::new(),
        })
    }

    /// When the row starts to hold: its last event.
    pub fn since(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        crate::model::ticket::Stamp::parse(&self.last)
            .ok()
            .map(|s| s.utc())
    }
}
