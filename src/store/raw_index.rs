//! The git index file (`.git/index`) read and patched as bytes, for the one-commit-per-step
//! path of [`crate::store::git`].
//!
//! A desk of 100,000 tickets has a 10 MB index. Loading it through libgit2 builds a hash map
//! of every entry and checks the file's SHA-1; writing it back serialises every entry again:
//! together most of a step's time. A step changes one or two entries, so here the file is
//! walked once without building anything, the changed entries are replaced (or inserted, or
//! removed) in a copy of the bytes, and the rest is copied as is. The format is git's
//! (<https://git-scm.com/docs/index-format>), versions 2, 3 and 4:
//!
//! - the cache tree (`TREE`) is kept, with the folders above each changed path invalidated,
//!   exactly as git does when it stages a file, so a later `git commit` recomputes only those;
//! - the optional extensions that describe entries by position or stat data (untracked cache,
//!   fsmonitor, end-of-entries offset, entry offset table) are dropped: git rebuilds them;
//! - the resolve-undo and conflict-name records are kept;
//! - anything this module does not handle (a mandatory extension such as a split or sparse
//!   index, a conflicted, skip-worktree or intent-to-add entry at a changed path, an unknown
//!   version) is [`Unsupported`], and the caller takes libgit2's full path instead.
//!
//! The trailing checksum is the SHA-1 of the content, or zeros when `index.skipHash` is set,
//! as git writes it.

use crate::model::mapped::Bytes;
use std::fmt;

/// The index cannot be handled here: take the general path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

type R<T> = std::result::Result<T, Unsupported>;

fn unsupported<T>(why: impl Into<String>) -> R<T> {
    Err(Unsupported(why.into()))
}

const HASH: usize = 20;
/// Fixed part of an entry: ten 32-bit stat fields, the object id, the 16-bit flags.
const FIXED: usize = 40 + HASH + 2;
const EXTENDED: u16 = 0x4000;
const STAGE_MASK: u16 = 0x3000;
const NAME_MASK: u16 = 0x0fff;
/// Extended flags git uses for skip-worktree and intent-to-add.
const SKIP_WORKTREE: u16 = 0x4000;
const INTENT_TO_ADD: u16 = 0x2000;

/// The stat data git keeps per entry to tell, without reading the file, that it is unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stat {
    pub ctime: (u32, u32),
    pub mtime: (u32, u32),
    pub dev: u32,
    pub ino: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u32,
}

impl Stat {
    /// The stat data of the file at `path` (not following a link), truncated to 32 bits as
    /// git stores it.
    pub fn of(path: &std::path::Path) -> std::io::Result<Stat> {
        let m = std::fs::symlink_metadata(path)?;
        Ok(Self::from_metadata(&m))
    }

    #[cfg(unix)]
    fn from_metadata(m: &std::fs::Metadata) -> Stat {
        use std::os::unix::fs::MetadataExt;
        Stat {
            ctime: (m.ctime() as u32, m.ctime_nsec() as u32),
            mtime: (m.mtime() as u32, m.mtime_nsec() as u32),
            dev: m.dev() as u32,
            ino: m.ino() as u32,
            uid: m.uid(),
            gid: m.gid(),
            size: m.len() as u32,
        }
    }

    #[cfg(not(unix))]
    fn from_metadata(m: &std::fs::Metadata) -> Stat {
        let secs = |t: std::io::Result<std::time::SystemTime>| {
            t.ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or((0, 0), |d| (d.as_secs() as u32, d.subsec_nanos()))
        };
        Stat {
            ctime: secs(m.created()),
            mtime: secs(m.modified()),
            size: m.len() as u32,
            ..Stat::default()
        }
    }
}

/// What a changed path becomes in the index: a stage-0 entry, or nothing (removed).
#[derive(Debug, Clone)]
pub struct Update {
    /// `/`-separated, relative to the working folder.
    pub path: Vec<u8>,
    pub entry: Option<NewEntry>,
}

#[derive(Debug, Clone, Copy)]
pub struct NewEntry {
    pub oid: [u8; HASH],
    pub mode: u32,
    pub stat: Stat,
}

/// An entry as found in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found {
    pub oid: [u8; HASH],
    pub mode: u32,
}

/// One entry located in the file.
struct Entry<'a> {
    start: usize,
    end: usize,
    path: &'a [u8],
    flags: u16,
    ext_flags: u16,
}

/// An index file's bytes, its header checked.
pub struct RawIndex {
    bytes: Bytes,
    version: u32,
    count: u32,
    /// Where the extensions (or the checksum) start: known after a walk.
    entries_end: std::cell::Cell<Option<usize>>,
}

/// Where the new index goes: written on, and hashed, as it is produced.
struct Sink<'w> {
    out: &'w mut dyn std::io::Write,
    hasher: sha1::Sha1,
    buf: Vec<u8>,
    error: Option<std::io::Error>,
}

impl Sink<'_> {
    const CAP: usize = 1 << 16;

    fn put(&mut self, data: &[u8]) {
        use sha1::Digest;
        self.hasher.update(data);
        if self.buf.len() + data.len() > Self::CAP {
            self.flush();
        }
        if data.len() > Self::CAP {
            self.write(data);
        } else {
            self.buf.extend_from_slice(data);
        }
    }

    fn write(&mut self, data: &[u8]) {
        if self.error.is_none() {
            if let Err(e) = self.out.write_all(data) {
                self.error = Some(e);
            }
        }
    }

    fn flush(&mut self) {
        let buf = std::mem::take(&mut self.buf);
        self.write(&buf);
        self.buf = buf;
        self.buf.clear();
    }
}

fn be32(b: &[u8], at: usize) -> R<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| Unsupported("index file is truncated".into()))
}

fn be16(b: &[u8], at: usize) -> R<u16> {
    b.get(at..at + 2)
        .map(|s| u16::from_be_bytes([s[0], s[1]]))
        .ok_or_else(|| Unsupported("index file is truncated".into()))
}

/// Git's offset varint (index v4 path prefixes): big-endian 7-bit groups, each continuation
/// adding one so every value has a single encoding.
fn read_varint(b: &[u8], mut at: usize) -> R<(usize, usize)> {
    let mut c = *b.get(at).ok_or_else(|| Unsupported("bad varint".into()))?;
    at += 1;
    let mut val = (c & 127) as usize;
    while c & 128 != 0 {
        c = *b.get(at).ok_or_else(|| Unsupported("bad varint".into()))?;
        at += 1;
        val = ((val + 1) << 7) | (c & 127) as usize;
        if val > u32::MAX as usize {
            return unsupported("bad varint");
        }
    }
    Ok((val, at))
}

fn write_varint(out: &mut Vec<u8>, mut value: usize) {
    let mut buf = [0u8; 16];
    let mut pos = buf.len() - 1;
    buf[pos] = (value & 127) as u8;
    value >>= 7;
    while value != 0 {
        value -= 1;
        pos -= 1;
        buf[pos] = 128 | (value & 127) as u8;
        value >>= 7;
    }
    out.extend_from_slice(&buf[pos..]);
}

impl RawIndex {
    /// Reads the index file at `path` (`Ok(None)`: there is none); the outer error is the
    /// file's, the inner one says the fast path cannot patch it.
    pub fn read(path: &std::path::Path) -> std::io::Result<Option<R<RawIndex>>> {
        Ok(Bytes::map(path, false)?.map(RawIndex::from_bytes))
    }

    /// Takes an index file's bytes; refuses what it cannot patch safely.
    pub fn parse(bytes: Vec<u8>) -> R<RawIndex> {
        Self::from_bytes(Bytes::Owned(bytes))
    }

    fn from_bytes(bytes: Bytes) -> R<RawIndex> {
        if bytes.len() < 12 + HASH || &bytes[0..4] != b"DIRC" {
            return unsupported("not an index file");
        }
        let version = be32(&bytes, 4)?;
        if !(2..=4).contains(&version) {
            return unsupported(format!("index version {version}"));
        }
        let count = be32(&bytes, 8)?;
        Ok(RawIndex {
            bytes,
            version,
            count,
            entries_end: std::cell::Cell::new(None),
        })
    }

    /// An index with no entries (a repository whose index file does not exist yet).
    pub fn empty() -> RawIndex {
        let mut bytes = b"DIRC".to_vec();
        bytes.extend_from_slice(&2u32.to_be_bytes());
        bytes.extend_from_slice(&0u32.to_be_bytes());
        bytes.extend_from_slice(&[0u8; HASH]);
        RawIndex {
            bytes: Bytes::Owned(bytes),
            version: 2,
            count: 0,
            entries_end: std::cell::Cell::new(Some(12)),
        }
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// Refuses an index with an extension that must be understood (split or sparse index).
    pub fn check_extensions(&self) -> R<()> {
        let b = &self.bytes;
        let limit = b.len() - HASH;
        let mut at = self.entries_end()?;
        while at < limit {
            if at + 8 > limit {
                return unsupported("extension is truncated");
            }
            if !b[at].is_ascii_uppercase() {
                return unsupported(format!(
                    "mandatory index extension {}",
                    String::from_utf8_lossy(&b[at..at + 4])
                ));
            }
            at += 8 + be32(b, at + 4)? as usize;
        }
        if at != limit {
            return unsupported("extension is truncated");
        }
        Ok(())
    }

    /// Walks the entries in order; `f` returns false to stop early.
    fn walk(&self, mut f: impl FnMut(&Entry) -> bool) -> R<()> {
        let b = &self.bytes;
        let limit = b.len() - HASH;
        let mut at = 12usize;
        let mut path: Vec<u8> = Vec::new();
        for _ in 0..self.count {
            let start = at;
            let flags = be16(b, at + FIXED - 2)?;
            let mut cur = at + FIXED;
            let mut ext_flags = 0;
            if flags & EXTENDED != 0 {
                if self.version < 3 {
                    return unsupported("extended flags in a version 2 index");
                }
                ext_flags = be16(b, cur)?;
                cur += 2;
            }
            let end;
            let name: &[u8];
            if self.version == 4 {
                let (strip, next) = read_varint(b, cur)?;
                if strip > path.len() {
                    return unsupported("bad path prefix");
                }
                path.truncate(path.len() - strip);
                let nul = b[next..limit]
                    .iter()
                    .position(|&c| c == 0)
                    .ok_or_else(|| Unsupported("unterminated path".into()))?;
                path.extend_from_slice(&b[next..next + nul]);
                end = next + nul + 1;
                name = &path;
            } else {
                let len = (flags & NAME_MASK) as usize;
                let nul = if len < NAME_MASK as usize {
                    if b.get(cur + len) != Some(&0) {
                        return unsupported("bad path length");
                    }
                    len
                } else {
                    b[cur..limit]
                        .iter()
                        .position(|&c| c == 0)
                        .ok_or_else(|| Unsupported("unterminated path".into()))?
                };
                name = &b[cur..cur + nul];
                // Padded with 1 to 8 NULs to a multiple of 8 from the entry's start.
                end = start + ((cur - start + nul + 8) & !7);
            }
            if end > limit {
                return unsupported("index file is truncated");
            }
            let e = Entry {
                start,
                end,
                path: name,
                flags,
                ext_flags,
            };
            if !f(&e) {
                return Ok(());
            }
            at = end;
        }
        self.entries_end.set(Some(at));
        Ok(())
    }

    fn entries_end(&self) -> R<usize> {
        if let Some(e) = self.entries_end.get() {
            return Ok(e);
        }
        self.walk(|_| true)?;
        self.entries_end
            .get()
            .ok_or_else(|| Unsupported("index file is truncated".into()))
    }

    /// The stage-0 entry of each of `paths` (in the order given). A path in conflict, or
    /// marked skip-worktree or intent-to-add, is [`Unsupported`].
    pub fn lookup(&self, paths: &[&[u8]]) -> R<Vec<Option<Found>>> {
        let mut out = vec![None; paths.len()];
        let mut problem = None;
        let last = paths.iter().max().copied().unwrap_or_default();
        self.walk(|e| {
            for (i, p) in paths.iter().enumerate() {
                if e.path == *p {
                    if e.flags & STAGE_MASK != 0
                        || e.ext_flags & (SKIP_WORKTREE | INTENT_TO_ADD) != 0
                    {
                        problem = Some(String::from_utf8_lossy(p).into_owned());
                    } else {
                        let s = &self.bytes[e.start..];
                        let mut oid = [0u8; HASH];
                        oid.copy_from_slice(&s[40..40 + HASH]);
                        let mode = u32::from_be_bytes([s[24], s[25], s[26], s[27]]);
                        out[i] = Some(Found { oid, mode });
                    }
                }
            }
            // Entries are sorted by path: past the last wanted one nothing more can match.
            e.path <= last
        })?;
        if let Some(p) = problem {
            return unsupported(format!("{p} is conflicted, skip-worktree or intent-to-add"));
        }
        Ok(out)
    }

    /// The index with `updates` applied, as the bytes of a new index file (checksum
    /// included; zeros when `skip_hash`).
    pub fn updated(&self, updates: &[Update], skip_hash: bool) -> R<Vec<u8>> {
        let mut out = Vec::new();
        self.write_updated(updates, skip_hash, &mut out)
            .map_err(|e| Unsupported(e.to_string()))??;
        Ok(out)
    }

    /// Writes the index with `updates` applied to `w`, as it is produced (a big index is
    /// never held twice in memory). The outer error is the writer's.
    pub fn write_updated(
        &self,
        updates: &[Update],
        skip_hash: bool,
        w: &mut dyn std::io::Write,
    ) -> std::io::Result<R<()>> {
        use sha1::Digest;
        let mut updates: Vec<&Update> = updates.iter().collect();
        updates.sort_by(|a, b| a.path.cmp(&b.path));
        updates.dedup_by(|a, b| a.path == b.path);
        let paths: Vec<&[u8]> = updates.iter().map(|u| u.path.as_slice()).collect();
        // The header's entry count comes first: which updates replace an entry and which add.
        let present = match self.lookup(&paths) {
            Ok(p) => p,
            Err(u) => return Ok(Err(u)),
        };
        let mut count = self.count as i64;
        for (u, p) in updates.iter().zip(&present) {
            match (&u.entry, p) {
                (Some(_), None) => count += 1,
                (None, Some(_)) => count -= 1,
                _ => {}
            }
        }
        let Ok(count) = u32::try_from(count) else {
            return Ok(unsupported("entry count"));
        };
        let b = &self.bytes;
        let mut sink = Sink {
            out: w,
            hasher: sha1::Sha1::new(),
            buf: Vec::with_capacity(Sink::CAP),
            error: None,
        };
        sink.put(&b[..8]);
        sink.put(&count.to_be_bytes());
        let mut next = 0usize;
        // Index v4 encodes each path against the one before it in the file: after an
        // inserted or removed entry the next one is encoded again.
        let mut prev_out: Vec<u8> = Vec::new();
        let mut prev_in: Vec<u8> = Vec::new();
        let mut scratch: Vec<u8> = Vec::new();
        let mut copied_to = 12usize;
        let v4 = self.version == 4;
        let walked = self.walk(|e| {
            // New paths that sort before this entry.
            while next < updates.len() && updates[next].path.as_slice() < e.path {
                let u = updates[next];
                if let Some(n) = &u.entry {
                    sink.put(&b[copied_to..e.start]);
                    copied_to = e.start;
                    scratch.clear();
                    self.push_entry(&mut scratch, &prev_out, &u.path, n);
                    sink.put(&scratch);
                    prev_out.clone_from(&u.path);
                }
                next += 1;
            }
            if next < updates.len() && updates[next].path.as_slice() == e.path {
                sink.put(&b[copied_to..e.start]);
                copied_to = e.end;
                if let Some(n) = &updates[next].entry {
                    scratch.clear();
                    self.push_entry(&mut scratch, &prev_out, e.path, n);
                    sink.put(&scratch);
                    prev_out.clear();
                    prev_out.extend_from_slice(e.path);
                }
                next += 1;
            } else if v4 {
                if prev_out != prev_in {
                    sink.put(&b[copied_to..e.start]);
                    copied_to = e.end;
                    scratch.clear();
                    self.reencode_v4(&mut scratch, &prev_out, e);
                    sink.put(&scratch);
                }
                prev_out.clear();
                prev_out.extend_from_slice(e.path);
            }
            if v4 {
                prev_in.clear();
                prev_in.extend_from_slice(e.path);
            }
            true
        });
        let entries_end = match walked.and_then(|_| self.entries_end()) {
            Ok(e) => e,
            Err(u) => return Ok(Err(u)),
        };
        sink.put(&b[copied_to..entries_end]);
        for u in &updates[next..] {
            if let Some(n) = &u.entry {
                scratch.clear();
                self.push_entry(&mut scratch, &prev_out, &u.path, n);
                sink.put(&scratch);
                prev_out.clone_from(&u.path);
            }
        }
        let mut ext = Vec::new();
        if let Err(u) = self.push_extensions(&mut ext, entries_end, &paths) {
            return Ok(Err(u));
        }
        sink.put(&ext);
        sink.flush();
        let sum = std::mem::take(&mut sink.hasher).finalize();
        if skip_hash {
            sink.write(&[0u8; HASH]);
        } else {
            sink.write(&sum);
        }
        match sink.error {
            Some(e) => Err(e),
            None => Ok(Ok(())),
        }
    }

    /// Writes one entry (stage 0, no extended flags) encoding its path for this version.
    fn push_entry(&self, out: &mut Vec<u8>, prev: &[u8], path: &[u8], e: &NewEntry) {
        let start = out.len();
        let s = &e.stat;
        for v in [
            s.ctime.0, s.ctime.1, s.mtime.0, s.mtime.1, s.dev, s.ino, e.mode, s.uid, s.gid, s.size,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&e.oid);
        let flags = path.len().min(NAME_MASK as usize) as u16;
        out.extend_from_slice(&flags.to_be_bytes());
        self.push_path(out, start, prev, path);
    }

    /// An existing entry copied with its path encoded against a new predecessor (v4).
    fn reencode_v4(&self, out: &mut Vec<u8>, prev: &[u8], e: &Entry) {
        let b = &self.bytes;
        let fixed = if e.flags & EXTENDED != 0 {
            FIXED + 2
        } else {
            FIXED
        };
        let start = out.len();
        out.extend_from_slice(&b[e.start..e.start + fixed]);
        self.push_path(out, start, prev, e.path);
    }

    fn push_path(&self, out: &mut Vec<u8>, start: usize, prev: &[u8], path: &[u8]) {
        if self.version == 4 {
            let common = prev.iter().zip(path).take_while(|(a, b)| a == b).count();
            write_varint(out, prev.len() - common);
            out.extend_from_slice(&path[common..]);
            out.push(0);
        } else {
            out.extend_from_slice(path);
            let len = out.len() - start;
            let padded = (len + 8) & !7;
            out.resize(start + padded, 0);
        }
    }

    /// Copies the extensions worth keeping, the cache tree invalidated along `changed`.
    fn push_extensions(&self, out: &mut Vec<u8>, mut at: usize, changed: &[&[u8]]) -> R<()> {
        let b = &self.bytes;
        let limit = b.len() - HASH;
        while at < limit {
            if at + 8 > limit {
                return unsupported("extension is truncated");
            }
            let sig = &b[at..at + 4];
            let size = be32(b, at + 4)? as usize;
            let data_end = at + 8 + size;
            if data_end > limit {
                return unsupported("extension is truncated");
            }
            if !sig[0].is_ascii_uppercase() {
                return unsupported(format!(
                    "mandatory index extension {}",
                    String::from_utf8_lossy(sig)
                ));
            }
            match sig {
                b"TREE" => {
                    let mut data = Vec::with_capacity(size);
                    let (_, used) = rewrite_tree(&b[at + 8..data_end], 0, changed, &mut data)?;
                    if used != size {
                        return unsupported("bad cache tree");
                    }
                    out.extend_from_slice(b"TREE");
                    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
                    out.extend_from_slice(&data);
                }
                b"REUC" | b"NAME" => out.extend_from_slice(&b[at..data_end]),
                // Untracked cache, fsmonitor, end of entries, entry offsets, and anything
                // unknown: optional, and possibly tied to entry positions or stat data.
                _ => {}
            }
            at = data_end;
        }
        Ok(())
    }
}

/// One cache-tree node at `at` (and its subtrees) copied to `out`, invalidated when a changed
/// path (relative to the node) lies under it. Returns the position after it.
fn rewrite_tree(data: &[u8], at: usize, changed: &[&[u8]], out: &mut Vec<u8>) -> R<((), usize)> {
    let bad = || Unsupported("bad cache tree".into());
    let nul = data[at..].iter().position(|&c| c == 0).ok_or_else(bad)?;
    let name_end = at + nul;
    let nl = data[name_end..]
        .iter()
        .position(|&c| c == b'\n')
        .ok_or_else(bad)?;
    let line = std::str::from_utf8(&data[name_end + 1..name_end + nl]).map_err(|_| bad())?;
    let (entries, subtrees) = line.split_once(' ').ok_or_else(bad)?;
    let entries: i64 = entries.parse().map_err(|_| bad())?;
    let subtrees: usize = subtrees.parse().map_err(|_| bad())?;
    let mut pos = name_end + nl + 1;
    let has_oid = entries >= 0;
    if has_oid {
        pos += HASH;
        if pos > data.len() {
            return Err(bad());
        }
    }
    out.extend_from_slice(&data[at..=name_end]);
    if changed.is_empty() {
        out.extend_from_slice(&data[name_end + 1..pos]);
    } else {
        out.extend_from_slice(format!("-1 {subtrees}\n").as_bytes());
    }
    for _ in 0..subtrees {
        let child_nul = data[pos..].iter().position(|&c| c == 0).ok_or_else(bad)?;
        let child = &data[pos..pos + child_nul];
        let under: Vec<&[u8]> = changed
            .iter()
            .filter_map(|p| {
                p.strip_prefix(child)
                    .and_then(|rest| rest.strip_prefix(b"/".as_slice()))
            })
            .collect();
        let ((), next) = rewrite_tree(data, pos, &under, out)?;
        pos = next;
    }
    Ok(((), pos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_as_git_encodes_them() {
        // Git's encoding: 127 is one byte, 128 is [0x80, 0x00], 16511 is [0xff, 0x7f].
        for (v, enc) in [
            (0usize, vec![0u8]),
            (127, vec![0x7f]),
            (128, vec![0x80, 0x00]),
            (16511, vec![0xff, 0x7f]),
            (16512, vec![0x80, 0x80, 0x00]),
        ] {
            let mut out = Vec::new();
            write_varint(&mut out, v);
            assert_eq!(out, enc, "{v}");
            assert_eq!(read_varint(&enc, 0).unwrap(), (v, enc.len()));
        }
    }
}
