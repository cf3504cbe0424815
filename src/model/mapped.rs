//! A file's bytes mapped read-only from the page cache, as git maps its index: no copy, and
//! only the pages looked at are touched (reading a 10 MB index or a cache of 100,000 records
//! into fresh memory costs more than the work done on it). Only for files that are never
//! written in place, where a new version is renamed over the old one (the git index, the facts
//! cache), so the mapping keeps the file as it was opened. Read into memory where mapping is
//! not possible.

use std::path::Path;

pub enum Bytes {
    Owned(Vec<u8>),
    #[cfg(unix)]
    Mapped(*const u8, usize),
}

// SAFETY: the mapping is read-only and owned by this value; reading it from several threads is
// reading shared immutable memory.
unsafe impl Send for Bytes {}
unsafe impl Sync for Bytes {}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            // SAFETY: a live read-only mapping of `len` bytes, unmapped only on drop.
            #[cfg(unix)]
            Bytes::Mapped(p, len) => unsafe { std::slice::from_raw_parts(*p, *len) },
        }
    }
}

impl Drop for Bytes {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Bytes::Mapped(p, len) = self {
            // SAFETY: unmaps exactly the mapping made in `map`, once.
            unsafe {
                libc::munmap(*p as *mut libc::c_void, *len);
            }
        }
    }
}

impl Bytes {
    /// The file at `path` (`None`: it does not exist). `populate` faults every page in at once,
    /// for a file that will be read whole.
    pub fn map(path: &Path, populate: bool) -> std::io::Result<Option<Bytes>> {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let len = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
        #[cfg(unix)]
        if len > 0 && len != usize::MAX {
            use std::os::unix::io::AsRawFd;
            let flags = if populate {
                libc::MAP_PRIVATE | libc::MAP_POPULATE
            } else {
                libc::MAP_PRIVATE
            };
            // SAFETY: a private read-only mapping of a regular file of `len` bytes; checked for
            // failure; the descriptor may be closed afterwards.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    len,
                    libc::PROT_READ,
                    flags,
                    file.as_raw_fd(),
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                return Ok(Some(Bytes::Mapped(p as *const u8, len)));
            }
        }
        #[cfg(not(unix))]
        let _ = populate;
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut { file }, &mut v)?;
        Ok(Some(Bytes::Owned(v)))
    }
}
