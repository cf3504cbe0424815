//! The knowledge base as [`Desk::open`] last loaded it and found it sound, kept between runs so
//! that a one-ticket command neither parses nor link-checks every article again (1,000
//! articles: most of what a `mesa comment` cost).
//!
//! Only a clean verdict is kept: a desk that `Desk::open` refuses is loaded and checked in full
//! every time, so its diagnostics are exactly those of a cold run. A kept knowledge base is
//! used only when nothing it was derived from changed:
//!
//! - every entry under `kb/` (recursively, sorted), each `*.md` file with its size,
//!   modification and change times, inode and device, as git's index keys its entries. Any
//!   symbolic link, special file or name that is not UTF-8 under `kb/` and the cache is not
//!   used (the safe reader decides about those on every run). Links between pages only ever
//!   lead to `*.md` files under `kb/`, so this also covers whether each link's target exists;
//! - a stamp hashing the cache's format, mesa's build, the desk's folder (links resolve
//!   against it), the text of desk.yaml as parsed (the config the verdict was made with,
//!   including the reader's size limits) and every calendar's holiday file;
//! - the racy-file rule: a file modified or changed at or after the instant the snapshot was
//!   taken is never trusted (a write in that same instant could leave the same stat data).
//!
//! Stored in the git directory (`.git/mesa/kb.bin`, beside the facts cache), written
//! atomically; missing, corrupt (a checksum covers the body) or foreign files are ignored and
//! rebuilt silently. A desk outside git has no cache.

use crate::model::cache::{checksum, git_dir, now_ns, Fnv};
use crate::model::desk::DeskConfig;
use crate::model::kb::Kb;
use crate::model::scan::{stat_of, Stat};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"MESAKB\0\n";
/// Bumped whenever the layout of the file or of the knowledge base's types changes.
const FORMAT: u32 = 1;
/// Magic, format, stamp, checksum of the body.
const HEAD: usize = 28;
const FILE: &str = "kb.bin";

/// One entry under `kb/`, relative to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Node {
    Dir(String),
    /// A regular `*.md` file.
    Page(String, Stat),
    /// A regular file of any other name: never read as a page or a link target, but listed so
    /// the snapshot tells one folder's content from another's.
    Other(String),
}

/// What the file system said about `kb/` at one instant, and the stamp of the other inputs.
pub struct Snapshot {
    /// The cache file (`None`: the desk is not in a git work tree).
    path: Option<PathBuf>,
    stamp: u64,
    taken_ns: i64,
    /// `None`: `kb/` holds something the cache never vouches for.
    nodes: Option<Vec<Node>>,
}

#[derive(Deserialize)]
struct Stored {
    taken_ns: i64,
    nodes: Vec<Node>,
    kb: Kb,
}

/// [`Stored`] as written (borrowed: the knowledge base is not copied to be serialized).
#[derive(Serialize)]
struct StoredRef<'a> {
    taken_ns: i64,
    nodes: &'a [Node],
    kb: &'a Kb,
}

/// Takes the snapshot of the desk at `root` whose desk.yaml parsed as `config` from `text`.
/// Taken before the knowledge base is read, so a file changed while it is read is seen as
/// changed next time.
pub fn snapshot(root: &Path, config: &DeskConfig, text: &str) -> Snapshot {
    let taken_ns = now_ns();
    let mut h = Fnv::new();
    h.bytes(&FORMAT.to_le_bytes());
    h.build();
    h.bytes(root.as_os_str().as_encoded_bytes());
    h.bytes(text.as_bytes());
    for cal in &config.calendars {
        if let Some(f) = &cal.holidays_ics {
            h.file(&root.join(f));
        }
    }
    Snapshot {
        path: git_dir(root).map(|g| g.join("mesa").join(FILE)),
        stamp: h.0,
        taken_ns,
        nodes: nodes(&root.join("kb")),
    }
}

/// Every entry under `kb` (sorted, depth first), or `None` when one of them is a link, a
/// special file or has a name that is not UTF-8. A missing `kb/` is an empty list; `kb`
/// itself anything but a folder is `None`.
fn nodes(kb: &Path) -> Option<Vec<Node>> {
    match std::fs::symlink_metadata(kb) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return None,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(Vec::new()),
        Err(_) => return None,
    }
    let mut out = Vec::new();
    for e in walkdir::WalkDir::new(kb).min_depth(1).sort_by_file_name() {
        let e = e.ok()?;
        let rel = e.path().strip_prefix(kb).ok()?.to_str()?.to_string();
        let ft = e.file_type();
        if ft.is_dir() {
            out.push(Node::Dir(rel));
        } else if ft.is_file() {
            if rel.ends_with(".md") {
                out.push(Node::Page(rel, stat_of(e.path())?));
            } else {
                out.push(Node::Other(rel));
            }
        } else {
            return None;
        }
    }
    Some(out)
}

/// The knowledge base kept for this snapshot, when every input is as it was when it was
/// loaded and found sound.
pub fn lookup(snap: &Snapshot) -> Option<Kb> {
    let nodes = snap.nodes.as_ref()?;
    // Mapped, not read: the pages are decoded straight from the page cache. The file is
    // only ever replaced by a rename, so the mapping keeps the version it opened.
    let bytes = crate::model::mapped::Bytes::map(snap.path.as_ref()?, true).ok()??;
    if bytes.len() < HEAD
        || &bytes[0..8] != MAGIC
        || bytes[8..12] != FORMAT.to_le_bytes()
        || bytes[12..20] != snap.stamp.to_le_bytes()
    {
        return None;
    }
    let body = &bytes[HEAD..];
    if bytes[20..28] != checksum(body).to_le_bytes() {
        return None;
    }
    let stored: Stored = postcard::from_bytes(body).ok()?;
    let settled = nodes.iter().all(|n| match n {
        Node::Page(_, s) => s.mtime_ns < stored.taken_ns && s.ctime_ns < stored.taken_ns,
        _ => true,
    });
    (settled && stored.nodes == *nodes).then_some(stored.kb)
}

/// Keeps `kb`, loaded after `snap` was taken and found sound, for the next run. Failures are
/// ignored (the cache only saves time); nothing is kept when a file was touched at or after
/// the snapshot (it could not be trusted next time anyway).
pub fn store(snap: &Snapshot, kb: &Kb) {
    let (Some(path), Some(nodes)) = (&snap.path, &snap.nodes) else {
        return;
    };
    let racy = nodes.iter().any(|n| match n {
        Node::Page(_, s) => s.touched_ns() >= snap.taken_ns,
        _ => false,
    });
    if racy {
        return;
    }
    let stored = StoredRef {
        taken_ns: snap.taken_ns,
        nodes,
        kb,
    };
    let Ok(body) = postcard::to_allocvec(&stored) else {
        return;
    };
    let mut bytes = Vec::with_capacity(HEAD + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT.to_le_bytes());
    bytes.extend_from_slice(&snap.stamp.to_le_bytes());
    bytes.extend_from_slice(&checksum(&body).to_le_bytes());
    bytes.extend_from_slice(&body);
    let Some(dir) = path.parent() else {
        return;
    };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    if let Ok(mut tmp) = tempfile::Builder::new()
        .prefix(".kb-")
        .suffix(".tmp")
        .tempfile_in(dir)
    {
        use std::io::Write;
        if tmp.write_all(&bytes).is_ok() {
            let _ = tmp.persist(path);
        }
    }
}
