//! The one way mesa reads a file of a desk (tickets, kb, theme, desk.yaml, calendars, email
//! templates). A desk is untrusted input: any clone may hold a link to `/dev/zero`, a FIFO, a
//! link to `~/.ssh/id_ed25519` or a 10 GB file. So a desk file is read only when it is a
//! regular file, a symbolic link is followed only when its target is a regular file inside the
//! desk, and no file is read past a size cap (desk.yaml `limits:`, with defaults). Whatever is
//! refused comes back as a diagnostic at the file's path, which `mesa check` lists and
//! `mesa build` stops on.
//!
//! Text is UTF-8; a leading byte-order mark is dropped for every kind of file alike, and both
//! `\n` and `\r\n` line ends are read alike by the parsers after this.

use crate::model::desk::Limits;
use crate::model::diag::Diagnostic;
use crate::tr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// The caps in force: set once the desk's configuration is read (every reader in a process
/// reads the same desk); the defaults until then, which is what desk.yaml itself is read with.
static LIMITS: RwLock<Limits> = RwLock::new(Limits {
    max_file_kib: 10 * 1024,
    max_front_matter_kib: 1024,
});

/// Puts a desk's caps in force.
pub fn set_limits(l: Limits) {
    if let Ok(mut g) = LIMITS.write() {
        *g = l;
    }
}

/// The caps in force.
pub fn limits() -> Limits {
    LIMITS.read().map(|g| *g).unwrap_or_default()
}

/// Largest file, in bytes.
pub fn max_file() -> u64 {
    limits().max_file_kib.saturating_mul(1024)
}

/// Largest front matter, in bytes.
pub fn max_front_matter() -> usize {
    usize::try_from(limits().max_front_matter_kib.saturating_mul(1024)).unwrap_or(usize::MAX)
}

/// What a path in the desk is, as far as reading it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// A regular file (directly, or through a link that stays in the desk): read it.
    File,
    /// A folder (directly, or through a link that stays in the desk).
    Dir,
    /// Anything else, with the reason it is refused.
    Refused(String),
}

/// Classifies `path`: an `lstat` for the common case, and for a symbolic link its resolved
/// target, which must lie inside the desk that holds `path`.
pub fn kind(path: &Path) -> Kind {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => return Kind::Refused(tr!("fsread.unreadable", error = e)),
    };
    let ft = meta.file_type();
    if ft.is_file() {
        return Kind::File;
    }
    if ft.is_dir() {
        return Kind::Dir;
    }
    if !ft.is_symlink() {
        return Kind::Refused(tr!("fsread.special"));
    }
    let target = match path.canonicalize() {
        Ok(t) => t,
        Err(_) => return Kind::Refused(tr!("fsread.broken_link")),
    };
    let inside = desk_root_of(path)
        .and_then(|r| r.canonicalize().ok())
        .is_some_and(|root| target.starts_with(&root));
    if !inside {
        return Kind::Refused(tr!("fsread.link_outside"));
    }
    match std::fs::metadata(&target) {
        Ok(m) if m.is_file() => Kind::File,
        Ok(m) if m.is_dir() => Kind::Dir,
        Ok(_) => Kind::Refused(tr!("fsread.special")),
        Err(e) => Kind::Refused(tr!("fsread.unreadable", error = e)),
    }
}

fn is_link(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// Whether a walker should hand `path` to the reader although it is not a regular file: any
/// symbolic link (followed only into the desk), or a FIFO, device or socket named like
/// content. Plain folders are the walker's business.
pub fn worth_reporting(path: &Path, named_like_content: bool) -> bool {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => true,
        Ok(m) => named_like_content && !m.is_file() && !m.is_dir(),
        Err(_) => false,
    }
}

/// The desk holding `path`: the nearest folder above it with desk.yaml (the file itself when
/// it is desk.yaml).
fn desk_root_of(path: &Path) -> Option<PathBuf> {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ok()?.join(path)
    };
    find_desk(abs.parent()?)
}

/// The file that makes a folder a desk.
pub const DESK_FILE: &str = "desk.yaml";

/// Walks up from `start` to the first folder holding `desk.yaml`.
pub fn find_desk(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d.join(DESK_FILE).is_file() {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    None
}

/// Reads a desk file's bytes under the rules above.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>, Diagnostic> {
    let refuse = |msg: String| Diagnostic::new(path, 0, 0, msg);
    match kind(path) {
        Kind::File => {}
        Kind::Dir if is_link(path) => return Err(refuse(tr!("fsread.dir_link"))),
        Kind::Dir => return Err(refuse(tr!("fsread.is_dir"))),
        Kind::Refused(why) => return Err(refuse(why)),
    }
    let max = max_file();
    let file =
        std::fs::File::open(path).map_err(|e| refuse(tr!("fsread.unreadable", error = e)))?;
    // The type is checked again on the open file: the path may have been swapped meanwhile.
    let meta = file
        .metadata()
        .map_err(|e| refuse(tr!("fsread.unreadable", error = e)))?;
    if !meta.is_file() {
        return Err(refuse(tr!("fsread.special")));
    }
    let too_big = || {
        refuse(tr!(
            "fsread.too_big",
            max = max / 1024,
            setting = "limits.max_file_kib"
        ))
    };
    if meta.len() > max {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| refuse(tr!("fsread.unreadable", error = e)))?;
    if bytes.len() as u64 > max {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Reads a desk file as UTF-8 text (a leading byte-order mark dropped), with a diagnostic at
/// the first invalid byte.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let bytes = read_bytes(path)?;
    decode(path, bytes)
}

/// Bytes to text, the same for every file kind: UTF-8, a leading BOM dropped.
pub fn decode(path: &Path, mut bytes: Vec<u8>) -> Result<String, Diagnostic> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    // The common case, valid text, is checked with wide instructions (a cold check validates
    // every ticket); an invalid file is checked again by the standard library for the position.
    if simdutf8::basic::from_utf8(&bytes).is_ok() {
        // SAFETY: validated as UTF-8 just above.
        return Ok(unsafe { String::from_utf8_unchecked(bytes) });
    }
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let col = valid.len() - valid.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1) + 1;
        Diagnostic::new(path, line, col, tr!("fm.not_utf8"))
    })
}
