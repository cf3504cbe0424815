//! The ticket files of a desk with what the file system says about each, in one parallel pass:
//! the same entries, in the same order, as [`crate::model::load::ticket_paths`], each regular
//! `*.md` file with its [`Stat`] (what the facts cache keys on). Every folder is read once
//! and each file is stat'ed relative to its open folder (`fstatat`), so that no path is looked
//! up from the root again, and folders and files are stat'ed on every core (as git's
//! `preload-index` does): at 100,000 tickets this is most of what an unchanged desk costs.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What the file system says about a ticket file: enough to notice any change to it (git's
/// index keys its entries on the same fields).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
    pub dev: u64,
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

/// One entry of `tickets/`.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Relative to the desk root (`tickets/...`).
    pub rel: PathBuf,
    /// A regular `*.md` file's stat, when its name is UTF-8 (only those are cached: the key is
    /// the name as text); `None` for anything the reader must decide about on every run.
    pub stat: Option<Stat>,
}

impl Entry {
    /// The cache key: the relative path as text.
    pub fn key(&self) -> &str {
        self.rel.to_str().unwrap_or("")
    }
}

/// Every ticket entry under `root/tickets`, as [`crate::model::load::ticket_paths`] lists them.
#[cfg(unix)]
pub fn ticket_entries(root: &Path) -> Vec<Entry> {
    use std::os::unix::ffi::OsStrExt;
    let top = root.join("tickets");
    if crate::model::fsread::worth_reporting(&top, false) {
        return vec![Entry {
            rel: PathBuf::from("tickets"),
            stat: None,
        }];
    }
    let Ok(c) = std::ffi::CString::new(top.as_os_str().as_bytes()) else {
        return crate::model::load::ticket_paths(root)
            .into_iter()
            .map(|p| Entry {
                stat: stat_of(&p),
                rel: crate::model::load::rel(root, &p),
            })
            .collect();
    };
    // SAFETY: a plain `open` of a NUL-terminated path; the descriptor is owned by `Dir`.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Vec::new();
    }
    walk(Dir(fd), PathBuf::from("tickets"))
}

#[cfg(not(unix))]
pub fn ticket_entries(root: &Path) -> Vec<Entry> {
    crate::model::load::ticket_paths(root)
        .into_iter()
        .map(|p| Entry {
            stat: None,
            rel: crate::model::load::rel(root, &p),
        })
        .collect()
}

/// An open folder, closed on drop.
#[cfg(unix)]
struct Dir(libc::c_int);

/// Opens a folder by path (links along the path followed, as any path lookup does).
#[cfg(unix)]
fn open_dir(path: &Path) -> Option<Dir> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).ok()?;
    // SAFETY: `open` of a NUL-terminated path; the descriptor is owned by `Dir`.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    (fd >= 0).then_some(Dir(fd))
}

#[cfg(unix)]
impl Drop for Dir {
    fn drop(&mut self) {
        // SAFETY: the descriptor is ours and closed once.
        unsafe { libc::close(self.0) };
    }
}

#[cfg(unix)]
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Dir,
    Link,
    Other,
}

#[cfg(unix)]
fn kind_of_mode(mode: libc::mode_t) -> Kind {
    match mode & libc::S_IFMT {
        libc::S_IFREG => Kind::File,
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFLNK => Kind::Link,
        _ => Kind::Other,
    }
}

#[cfg(unix)]
fn lstat_at(dir: &Dir, name: &std::ffi::CStr) -> Option<libc::stat> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is written by the call when it returns 0; `name` is NUL-terminated.
    let rc = unsafe {
        libc::fstatat(
            dir.0,
            name.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    // SAFETY: initialised by the successful call.
    (rc == 0).then(|| unsafe { st.assume_init() })
}

/// The stat of an open regular file (`fstat`: no path is looked up), as [`files`] would list
/// it; `None` for anything else or an error.
#[cfg(unix)]
pub fn stat_of_open(file: &std::fs::File) -> Option<Stat> {
    use std::os::fd::AsRawFd;
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is written by the call when it returns 0; the descriptor is open.
    let rc = unsafe { libc::fstat(file.as_raw_fd(), st.as_mut_ptr()) };
    // SAFETY: initialised by the successful call.
    let st = (rc == 0).then(|| unsafe { st.assume_init() })?;
    (kind_of_mode(st.st_mode) == Kind::File).then(|| stat_from(&st))
}

#[cfg(unix)]
fn stat_from(st: &libc::stat) -> Stat {
    #[allow(clippy::unnecessary_cast)]
    Stat {
        size: st.st_size as u64,
        mtime_ns: (st.st_mtime as i64)
            .saturating_mul(1_000_000_000)
            .saturating_add(st.st_mtime_nsec as i64),
        ctime_ns: (st.st_ctime as i64)
            .saturating_mul(1_000_000_000)
            .saturating_add(st.st_ctime_nsec as i64),
        ino: st.st_ino as u64,
        dev: st.st_dev as u64,
    }
}

/// The names in an open folder with their types as `readdir` reports them (`None` when it
/// does not know), sorted by name (bytes, as `walkdir`'s `sort_by_file_name`).
#[cfg(unix)]
fn read_names(dir: &Dir) -> Vec<(std::ffi::CString, Option<Kind>)> {
    // `fdopendir` takes the descriptor over: give it a duplicate, ours stays open for `fstatat`.
    // SAFETY: plain descriptor calls; the stream is closed below.
    let dup = unsafe { libc::fcntl(dir.0, libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        return Vec::new();
    }
    let stream = unsafe { libc::fdopendir(dup) };
    if stream.is_null() {
        unsafe { libc::close(dup) };
        return Vec::new();
    }
    let mut names = Vec::new();
    loop {
        // SAFETY: `stream` is a valid open stream; the entry lives until the next call.
        let e = unsafe { libc::readdir(stream) };
        if e.is_null() {
            break;
        }
        let (name, d_type) =
            unsafe { (std::ffi::CStr::from_ptr((*e).d_name.as_ptr()), (*e).d_type) };
        let bytes = name.to_bytes();
        if bytes == b"." || bytes == b".." {
            continue;
        }
        let kind = match d_type {
            libc::DT_REG => Some(Kind::File),
            libc::DT_DIR => Some(Kind::Dir),
            libc::DT_LNK => Some(Kind::Link),
            libc::DT_UNKNOWN => None,
            _ => Some(Kind::Other),
        };
        names.push((name.to_owned(), kind));
    }
    // SAFETY: closes the stream (and the duplicate descriptor) once.
    unsafe { libc::closedir(stream) };
    names.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    names
}

/// Whether a name has the extension `md`, as `Path::extension` reads it (`.md` alone has none).
fn is_md(name: &[u8]) -> bool {
    name.len() > 3 && name.ends_with(b".md")
}

/// The entries under the open folder `dir` (at `rel`), depth first in name order.
#[cfg(unix)]
fn walk(dir: Dir, rel: PathBuf) -> Vec<Entry> {
    use std::os::unix::ffi::OsStrExt;
    let names = read_names(&dir);
    let per_name: Vec<Found> = names
        .par_iter()
        .with_min_len(256)
        .map(|(name, kind)| {
            let bytes = name.as_bytes();
            let md = is_md(bytes);
            let path = rel.join(std::ffi::OsStr::from_bytes(bytes));
            let st = match kind {
                // Only a regular `*.md` file or an unknown type needs its stat.
                Some(Kind::File) if md => lstat_at(&dir, name),
                None => lstat_at(&dir, name),
                _ => None,
            };
            let kind = kind.or_else(|| st.as_ref().map(|s| kind_of_mode(s.st_mode)));
            match kind {
                Some(Kind::File) if md => {
                    let stat = st
                        .filter(|s| kind_of_mode(s.st_mode) == Kind::File)
                        .filter(|_| std::str::from_utf8(bytes).is_ok())
                        .map(|s| stat_from(&s));
                    Found::One(Entry { rel: path, stat })
                }
                Some(Kind::File) => Found::Nothing,
                Some(Kind::Dir) => {
                    // `<ID>.files/` beside a ticket holds its email attachments, never tickets.
                    if bytes.ends_with(crate::model::load::ATTACHMENT_DIR_SUFFIX.as_bytes()) {
                        return Found::Nothing;
                    }
                    let mut out = Vec::new();
                    if md {
                        out.push(Entry {
                            rel: path.clone(),
                            stat: None,
                        });
                    }
                    // SAFETY: `openat` of a NUL-terminated name in an open folder.
                    let fd = unsafe {
                        libc::openat(
                            dir.0,
                            name.as_ptr(),
                            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                        )
                    };
                    if fd >= 0 {
                        out.extend(walk(Dir(fd), path));
                    }
                    Found::Many(out)
                }
                // A link is listed whatever it points to (the reader decides); so is anything
                // that is neither a file nor a folder.
                Some(Kind::Link) | Some(Kind::Other) => Found::One(Entry {
                    rel: path,
                    stat: None,
                }),
                // Vanished between `readdir` and `fstatat`: as `walkdir`, left out.
                None => Found::Nothing,
            }
        })
        .collect();
    let mut out = Vec::with_capacity(per_name.len());
    for f in per_name {
        match f {
            Found::One(e) => out.push(e),
            Found::Many(v) => out.extend(v),
            Found::Nothing => {}
        }
    }
    out
}

/// Reads the ticket file of a scanned entry as text, exactly as
/// [`crate::model::fsread::read_text`] would, with one path lookup instead of three: the file
/// is opened without following a link (and without waiting on a FIFO), checked to be a
/// regular file within the size cap on the open descriptor, read, and stat'ed again on the
/// descriptor. Returns the text and, when that last stat is still the scan's, the stat under
/// which facts derived from this text may be kept (the text read is the file the scan saw).
/// Anything else (no stat from the scan, a link or special file now, too big, any error) is
/// read by the safe reader, which decides and words the refusal; its stat is then `None`.
#[cfg(unix)]
pub fn read_entry(
    root: &Path,
    e: &Entry,
) -> (Result<String, crate::model::diag::Diagnostic>, Option<Stat>) {
    Reader::default().read(root, e)
}

/// [`read_entry`] for many entries in scan order (one per worker's run of entries, as
/// rayon's `map_init` makes them): it keeps the last folder open and opens each file relative
/// to it, so that a file costs a lookup of its own name instead of its whole path. The folder
/// is opened by path as a whole-path open would resolve it, and only kept for this run.
#[cfg(unix)]
#[derive(Default)]
pub struct Reader {
    folder: Option<(PathBuf, Dir)>,
}

#[cfg(unix)]
impl Reader {
    /// The open folder of `rel`'s parent under `root` (opened now unless it is the last one).
    fn folder(&mut self, root: &Path, rel: &Path) -> Option<&Dir> {
        let parent = rel.parent()?;
        if self.folder.as_ref().is_none_or(|(p, _)| p != parent) {
            self.folder = None;
            let dir = open_dir(&root.join(parent))?;
            self.folder = Some((parent.to_path_buf(), dir));
        }
        self.folder.as_ref().map(|(_, d)| d)
    }

    /// See [`read_entry`].
    pub fn read(
        &mut self,
        root: &Path,
        e: &Entry,
    ) -> (Result<String, crate::model::diag::Diagnostic>, Option<Stat>) {
        let path = root.join(&e.rel);
        let slow = |path: &Path| (crate::model::fsread::read_text(path), None);
        let Some(scanned) = e.stat else {
            return slow(&path);
        };
        let Some((bytes, after)) = self.regular(root, &e.rel, true) else {
            return slow(&path);
        };
        let kept = after.map(|st| stat_from(&st)).filter(|st| *st == scanned);
        (crate::model::fsread::decode(&path, bytes), kept)
    }

    /// The text of the file `rel` under `root`, exactly as
    /// [`crate::model::fsread::read_text`] reads it, opened relative to its folder as
    /// [`Reader::read`] does, for a caller without a scan's stat (the site build's tickets):
    /// a link or special file goes to the safe reader, which decides and words the refusal.
    pub fn text(
        &mut self,
        root: &Path,
        rel: &Path,
    ) -> Result<String, crate::model::diag::Diagnostic> {
        let path = root.join(rel);
        match self.regular(root, rel, false) {
            Some((bytes, _)) => crate::model::fsread::decode(&path, bytes),
            None => crate::model::fsread::read_text(&path),
        }
    }

    /// The bytes of `rel` if it is a regular file within the size cap, opened without
    /// following a link, and (`stat_after`) its stat after the read; `None` for anything the
    /// safe reader must decide.
    fn regular(
        &mut self,
        root: &Path,
        rel: &Path,
        stat_after: bool,
    ) -> Option<(Vec<u8>, Option<libc::stat>)> {
        use std::io::Read;
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::io::{AsRawFd, FromRawFd};
        let name = std::ffi::CString::new(rel.file_name()?.as_bytes()).ok()?;
        let dir = self.folder(root, rel)?;
        // SAFETY: `openat` of a NUL-terminated name in an open folder; the descriptor is
        // owned by the `File` below.
        let fd = unsafe {
            libc::openat(
                dir.0,
                name.as_ptr(),
                libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return None;
        }
        // SAFETY: a freshly opened descriptor, owned (and closed) by the file from here on.
        let file = unsafe { std::fs::File::from_raw_fd(fd) };
        let fstat = |f: &std::fs::File| {
            let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
            // SAFETY: `st` is written by the call when it returns 0.
            let rc = unsafe { libc::fstat(f.as_raw_fd(), st.as_mut_ptr()) };
            // SAFETY: initialised by the successful call.
            (rc == 0).then(|| unsafe { st.assume_init() })
        };
        let max = crate::model::fsread::max_file();
        let size = match fstat(&file) {
            Some(st) if kind_of_mode(st.st_mode) == Kind::File && (st.st_size as u64) <= max => {
                st.st_size as u64
            }
            _ => return None,
        };
        let size = usize::try_from(size).ok()?;
        // One read asks for a byte more than the file holds: a file still that size comes
        // whole, and the short count with a second stat of that size says it ended. Any
        // other count (the file changed, or came in pieces) reads on to the end as before.
        let mut bytes: Vec<u8> = Vec::with_capacity(size + 1);
        // SAFETY: reads at most the vector's capacity into it; the length is set to what
        // was read.
        let n = unsafe { libc::read(fd, bytes.as_mut_ptr().cast(), size + 1) };
        let n = usize::try_from(n).ok()?;
        // SAFETY: the first `n` bytes were written by `read`.
        unsafe { bytes.set_len(n) };
        // Without a stat to keep, the short count alone says the file ended: a read of a
        // regular file returns less than asked only at its end.
        let mut after = if stat_after { fstat(&file) } else { None };
        let whole =
            n == size && (!stat_after || after.is_some_and(|st| st.st_size as u64 == n as u64));
        if !whole {
            let room = (max + 1).saturating_sub(n as u64);
            if (&file).take(room).read_to_end(&mut bytes).is_err() || bytes.len() as u64 > max {
                return None;
            }
            if stat_after {
                after = fstat(&file);
            }
        }
        Some((bytes, after))
    }
}

#[cfg(not(unix))]
pub fn read_entry(
    root: &Path,
    e: &Entry,
) -> (Result<String, crate::model::diag::Diagnostic>, Option<Stat>) {
    let path = root.join(&e.rel);
    let text = crate::model::fsread::read_text(&path);
    let kept = e.stat.filter(|s| stat_of(&path).as_ref() == Some(s));
    (text, kept)
}

/// [`read_entry`] for many entries (the same reads here).
#[cfg(not(unix))]
#[derive(Default)]
pub struct Reader;

#[cfg(not(unix))]
impl Reader {
    pub fn read(
        &mut self,
        root: &Path,
        e: &Entry,
    ) -> (Result<String, crate::model::diag::Diagnostic>, Option<Stat>) {
        read_entry(root, e)
    }

    pub fn text(
        &mut self,
        root: &Path,
        rel: &Path,
    ) -> Result<String, crate::model::diag::Diagnostic> {
        crate::model::fsread::read_text(&root.join(rel))
    }
}

/// Every regular file under `root` (relative path as text, its stat), sorted by path as
/// `walkdir` yields them sorted by name; each folder read once and its files stat'ed
/// relative to it, on every core. `None` when anything cannot be read or is neither a file
/// nor a folder (a link, a name that is not UTF-8): the caller then trusts nothing there.
#[cfg(unix)]
pub fn files(root: &Path) -> Option<Vec<(String, Stat)>> {
    // Each folder's files in a list of their own, joined once here into one list of the
    // right size, each folder's list freed as it is moved: joining them level by level held
    // the site's million entries twice over (and a vector per file), at the very end of a
    // build.
    let folders = files_in(open_dir(root)?, String::new())?;
    let mut out = Vec::with_capacity(folders.iter().map(Vec::len).sum());
    for files in folders {
        out.extend(files);
    }
    out.par_sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Some(out)
}

#[cfg(not(unix))]
pub fn files(_root: &Path) -> Option<Vec<(String, Stat)>> {
    None
}

#[cfg(unix)]
/// The files of `dir` and of the folders under it: one list per folder.
fn files_in(dir: Dir, rel: String) -> Option<Vec<Vec<(String, Stat)>>> {
    /// A file, or the lists of a folder under it.
    enum Got {
        File((String, Stat)),
        Folders(Vec<Vec<(String, Stat)>>),
    }
    let names = read_names(&dir);
    let found: Vec<Got> = names
        .par_iter()
        .with_min_len(256)
        .map(|(name, _)| {
            let text = name.to_str().ok()?;
            let path = if rel.is_empty() {
                text.to_string()
            } else {
                format!("{rel}/{text}")
            };
            let st = lstat_at(&dir, name)?;
            match kind_of_mode(st.st_mode) {
                Kind::File => Some(Got::File((path, stat_from(&st)))),
                Kind::Dir => {
                    // SAFETY: `openat` of a NUL-terminated name in an open folder.
                    let fd = unsafe {
                        libc::openat(
                            dir.0,
                            name.as_ptr(),
                            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                        )
                    };
                    (fd >= 0).then_some(())?;
                    files_in(Dir(fd), path).map(Got::Folders)
                }
                _ => None,
            }
        })
        .collect::<Option<_>>()?;
    let here = found.iter().filter(|g| matches!(g, Got::File(_))).count();
    let mut files = Vec::with_capacity(here);
    let mut out = Vec::new();
    for g in found {
        match g {
            Got::File(e) => files.push(e),
            Got::Folders(v) => out.extend(v),
        }
    }
    if !files.is_empty() {
        out.push(files);
    }
    Some(out)
}

/// What one name of a folder adds to the walk.
#[cfg(unix)]
enum Found {
    One(Entry),
    Many(Vec<Entry>),
    Nothing,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The scan lists what `ticket_paths` lists, in its order, with a stat exactly for the
    /// regular `*.md` files: links (to a ticket, to a folder, dangling), a FIFO, a folder named
    /// like a ticket, attachment folders, other files, nested folders with names that sort
    /// differently as bytes and as paths (`a-b` and `a/b`).
    #[cfg(unix)]
    #[test]
    fn the_scan_lists_what_ticket_paths_lists() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let t = root.join("tickets");
        for d in [
            "2026/01",
            "2026/01-b",
            "2026/0",
            "2026/x.md/in",
            "2026/01/A.files",
        ] {
            std::fs::create_dir_all(t.join(d)).unwrap();
        }
        for f in [
            "2026/01/a.md",
            "2026/01/b.md",
            "2026/01/notes.txt",
            "2026/01/.md",
            "2026/01/A.files/c.md",
            "2026/01-b/c.md",
            "2026/0/d.md",
            "2026/x.md/in/e.md",
            "top.md",
        ] {
            std::fs::write(t.join(f), "x").unwrap();
        }
        let link = |to: &str, at: &str| std::os::unix::fs::symlink(to, t.join(at)).unwrap();
        link("a.md", "2026/01/l.md");
        link("../01", "2026/0/dirlink");
        link("nowhere", "2026/0/dangling.md");
        let fifo = std::ffi::CString::new(t.join("2026/01/f.md").to_str().unwrap()).unwrap();
        // SAFETY: creates a FIFO at a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);

        let want: Vec<PathBuf> = crate::model::load::ticket_paths(root)
            .iter()
            .map(|p| crate::model::load::rel(root, p))
            .collect();
        let got = ticket_entries(root);
        let rels: Vec<PathBuf> = got.iter().map(|e| e.rel.clone()).collect();
        assert_eq!(rels, want);
        assert!(want.len() >= 10, "{want:?}");
        for e in &got {
            let regular_md = std::fs::symlink_metadata(root.join(&e.rel))
                .is_ok_and(|m| m.file_type().is_file())
                && is_md(e.rel.file_name().unwrap().as_encoded_bytes());
            assert_eq!(e.stat.is_some(), regular_md, "{}", e.rel.display());
            if let Some(st) = e.stat {
                assert_eq!(Some(st), stat_of(&root.join(&e.rel)));
            }
        }
    }

    /// The one-lookup reader gives what the safe reader gives, for a plain ticket, a BOM, bad
    /// UTF-8, a link, a FIFO (without waiting on it) and a folder named like a ticket; it
    /// vouches for the scan's stat only for a regular file that is still as the scan saw it.
    #[cfg(unix)]
    #[test]
    fn read_entry_reads_what_the_safe_reader_reads() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join("desk.yaml"), "language: es\n").unwrap();
        let t = root.join("tickets/2026/01");
        std::fs::create_dir_all(t.join("d.md")).unwrap();
        std::fs::write(t.join("a.md"), "---\nid: A\n---\nhola\n").unwrap();
        std::fs::write(t.join("b.md"), b"\xEF\xBB\xBF---\nid: B\n---\n").unwrap();
        std::fs::write(t.join("c.md"), b"---\nid: \xff\n---\n").unwrap();
        std::fs::write(t.join("edited.md"), "---\nid: E\n---\n").unwrap();
        std::os::unix::fs::symlink("a.md", t.join("l.md")).unwrap();
        let fifo = std::ffi::CString::new(t.join("f.md").to_str().unwrap()).unwrap();
        // SAFETY: creates a FIFO at a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let entries = ticket_entries(root);
        assert_eq!(entries.len(), 7);
        // Changed after the scan, same size: read anew, the scan's stat not vouched for.
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
        let f = std::fs::File::options()
            .write(true)
            .open(t.join("edited.md"))
            .unwrap();
        f.set_modified(later).unwrap();
        // The build's reader (no scan stat), one for all, as a build's chunk uses it; and a
        // file gone since the scan.
        let mut reader = Reader::default();
        let gone = t.join("gone.md");
        std::fs::write(&gone, "---\nid: G\n---\n").unwrap();
        let mut all = entries.clone();
        all.push(Entry {
            rel: gone.strip_prefix(root).unwrap().to_path_buf(),
            stat: None,
        });
        std::fs::remove_file(&gone).unwrap();
        for e in &all {
            let want = crate::model::fsread::read_text(&root.join(&e.rel));
            let got = reader.text(root, &e.rel);
            match (&got, &want) {
                (Ok(g), Ok(w)) => assert_eq!(g, w, "{}", e.rel.display()),
                (Err(g), Err(w)) => assert_eq!(g.to_string(), w.to_string(), "{}", e.rel.display()),
                _ => panic!("{}: {got:?} against {want:?}", e.rel.display()),
            }
        }
        for e in &entries {
            let path = root.join(&e.rel);
            let (got, kept) = read_entry(root, e);
            let want = crate::model::fsread::read_text(&path);
            let name = e.rel.file_name().unwrap().to_str().unwrap();
            match (&got, &want) {
                (Ok(g), Ok(w)) => assert_eq!(g, w, "{name}"),
                (Err(g), Err(w)) => assert_eq!(g.to_string(), w.to_string(), "{name}"),
                _ => panic!("{name}: {got:?} against {want:?}"),
            }
            let vouched = matches!(name, "a.md" | "b.md" | "c.md");
            assert_eq!(kept.is_some(), vouched, "{name}");
            if vouched {
                assert_eq!(kept, e.stat, "{name}");
            }
        }
    }

    #[test]
    fn the_extension_is_read_as_path_reads_it() {
        for name in ["a.md", "..md", "x.y.md", ".md", "md", "a.mdx", "a.md.files"] {
            let want = Path::new(name).extension().is_some_and(|x| x == "md");
            assert_eq!(is_md(name.as_bytes()), want, "{name}");
        }
    }
}
