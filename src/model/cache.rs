//! What mesa's caches kept in the git directory share: where they live, the hasher of their
//! stamps, the checksum of their bodies and the clock of their racy-file rule. The caches
//! themselves are the facts cache (`output::facts`), the build manifest (`output::site`) and
//! the knowledge base's verdict (`rules::kb_cache`).

use std::path::{Path, PathBuf};

/// The git directory of the work tree holding `root` (`.git/`, or the folder a `.git` file
/// names, as in a linked worktree), found by walking up as git does; `None` outside git.
/// Read from the file system alone: no repository is opened for it.
pub fn git_dir(root: &Path) -> Option<PathBuf> {
    let mut dir = Some(root);
    while let Some(d) = dir {
        let dot = d.join(".git");
        match std::fs::symlink_metadata(&dot) {
            Ok(m) if m.is_dir() => return Some(dot),
            Ok(m) if m.is_file() => {
                let text = std::fs::read_to_string(&dot).ok()?;
                let target = text.lines().next()?.strip_prefix("gitdir:")?.trim();
                return Some(d.join(target));
            }
            _ => dir = d.parent(),
        }
    }
    None
}

/// The current instant in nanoseconds since the epoch (file times are compared with it).
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// 64-bit FNV-1a, for the stamps of the caches (small inputs).
pub struct Fnv(pub u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv::new()
    }
}

impl Fnv {
    pub fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    pub fn bytes(&mut self, b: &[u8]) {
        for x in b {
            self.0 ^= u64::from(*x);
            self.0 = self.0.wrapping_mul(0x100_0000_01b3);
        }
        // A separator, so that ("ab", "c") and ("a", "bc") differ.
        self.0 ^= b.len() as u64;
        self.0 = self.0.wrapping_mul(0x100_0000_01b3);
    }
    /// mesa's version and build: rules change between builds of one version while mesa is
    /// developed.
    pub fn build(&mut self) {
        self.bytes(env!("CARGO_PKG_VERSION").as_bytes());
        if let Some(m) = std::env::current_exe()
            .ok()
            .and_then(|e| std::fs::metadata(e).ok())
        {
            self.bytes(&m.len().to_le_bytes());
            if let Ok(t) = m.modified() {
                self.bytes(format!("{t:?}").as_bytes());
            }
        }
    }

    /// A file's path and contents as the desk's safe reader ([`crate::model::fsread`]) reads
    /// them: a symbolic link is followed only to a file inside the desk, and a link leading
    /// out of it, a special file (a FIFO would block a plain read) or a file over the size
    /// limit hashes as its refusal, not as what lies behind it. So a stamp matches only when
    /// the commands that read the file would read the same text (or refuse it the same way).
    pub fn file(&mut self, path: &Path) {
        self.file_named(path.to_string_lossy().as_bytes(), path);
    }

    /// [`Fnv::file`] under a name of the caller's choice (the site's manifest names files
    /// relative to the desk, so a desk moved to another folder keeps its manifest).
    pub fn file_named(&mut self, name: &[u8], path: &Path) {
        self.bytes(name);
        match crate::model::fsread::read_bytes(path) {
            Ok(b) => self.bytes(&b),
            Err(d) => {
                self.bytes(b"\0refused");
                self.bytes(d.message.as_bytes());
            }
        }
    }
}

/// A word-at-a-time checksum of the body (fast over tens of megabytes).
pub fn checksum(b: &[u8]) -> u64 {
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

/// [`checksum`] of `len` bytes given in pieces (a file too big to hold): the same value.
pub struct Checksum {
    h: u64,
    /// Bytes of an unfinished 8-byte word.
    tail: Vec<u8>,
}

impl Checksum {
    pub fn new(len: u64) -> Checksum {
        Checksum {
            h: 0x9e37_79b9_7f4a_7c15 ^ len,
            tail: Vec::with_capacity(8),
        }
    }

    pub fn update(&mut self, mut b: &[u8]) {
        if !self.tail.is_empty() {
            let take = (8 - self.tail.len()).min(b.len());
            self.tail.extend_from_slice(&b[..take]);
            b = &b[take..];
            if self.tail.len() < 8 {
                return;
            }
            let w = u64::from_le_bytes(self.tail[..8].try_into().unwrap_or([0; 8]));
            self.h = (self.h ^ w)
                .wrapping_mul(0xff51_afd7_ed55_8ccd)
                .rotate_left(29);
            self.tail.clear();
        }
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            self.h = (self.h ^ w)
                .wrapping_mul(0xff51_afd7_ed55_8ccd)
                .rotate_left(29);
        }
        self.tail.extend_from_slice(chunks.remainder());
    }

    pub fn finish(self) -> u64 {
        let mut h = self.h;
        for x in &self.tail {
            h = (h ^ u64::from(*x)).wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        }
        h ^ (h >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checksum_in_pieces_equals_the_whole() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 3) as u8).collect();
        for len in [0, 1, 7, 8, 9, 63, 64, 999, 1000] {
            let whole = checksum(&data[..len]);
            for cut in [1, 3, 8, 13, 64] {
                let mut c = Checksum::new(len as u64);
                data[..len].chunks(cut).for_each(|p| c.update(p));
                assert_eq!(c.finish(), whole, "len {len}, pieces of {cut}");
            }
        }
    }
}
