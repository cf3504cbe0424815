//! Writing the site in place: a page whose bytes did not change is not touched, a changed page
//! is replaced atomically (temp file + rename), a new page is written directly (in a clean
//! build as an unnamed file linked in whole, [`Creation::Linked`]), and files of an earlier
//! build that this build did not write are removed at the end. Rebuilds (`mesa serve`)
//! then cost a read per page instead of a write, and a browser or server never sees half a file.

use crate::model::diag::{Error, Result};
use crate::model::scan::Stat;
use crate::tr;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// A file in every output folder mesa writes, so that it only ever cleans its own builds.
pub const MARKER: &str = ".mesa-site";
const MARKER_TEXT: &[u8] = b"mesa build\n";

pub struct Output {
    pub target: PathBuf,
    pub bytes: AtomicU64,
    pub files: AtomicUsize,
    /// Files actually written (new or changed) by this build.
    pub changed: AtomicUsize,
    written: Mutex<HashSet<String>>,
    tmp_seq: AtomicU64,
    /// The marker goes in before the first page: pages are written as they are rendered, and
    /// a build that stops half-way (a broken link) must leave a folder mesa still owns.
    marked: std::sync::Once,
    /// The folder did not exist before this build (so a failed build removes it again).
    fresh: bool,
    /// The folder was missing or empty: no page has old bytes to compare with and nothing is
    /// left to clean, so pages are written without a look first (a fresh 100k-ticket build
    /// saved a `stat` and a remembered path per page).
    clean: bool,
    /// The folders of a clean build, open, by their path inside the site: each new page is
    /// created relative to its folder, so the kernel does not walk the whole path once more
    /// per page (a full build creates 100,000 pages in a dozen folders).
    #[cfg(unix)]
    dirs: std::sync::RwLock<std::collections::HashMap<String, std::sync::Arc<std::fs::File>>>,
    /// Whether new pages are still made as unnamed files and linked in whole
    /// ([`Creation::Linked`]); cleared for good at the first sign that the file system or the
    /// system cannot (then pages are created by name, as before).
    linked: std::sync::atomic::AtomicBool,
    /// The folder a whole build into a new target writes instead, renamed to the target at
    /// the end ([`Output::aside`]).
    aside: Option<PathBuf>,
    /// Whether an unnamed page is still linked by its descriptor ([`Link::Descriptor`]);
    /// cleared for good when the kernel refuses that (then through `/proc`, [`Link::Proc`]).
    by_descriptor: std::sync::atomic::AtomicBool,
    /// A clean build's pages with their stat, taken from the descriptor each was written
    /// through once it had its name (`fstat`, no path looked up), for the build manifest,
    /// which otherwise stats every file of the folder again at the end ([`Output::finish`]).
    /// `None` once a page's stat could not be taken (the manifest then scans the folder).
    stats: Mutex<Option<Vec<(String, Stat)>>>,
}

/// How an unnamed page gets its name ([`Creation::Linked`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// `linkat(fd, "", folder, name, AT_EMPTY_PATH)`: no path is resolved for the file. Linux
    /// allows it to the process that opened the file (since 6.10), or with the capability
    /// `CAP_DAC_READ_SEARCH` (root); refused otherwise.
    Descriptor,
    /// `linkat` of `/proc/self/fd/N` following the link: allowed to anyone, but the kernel
    /// walks `/proc` for every page (about a third of `linkat`'s time in a 100,000-ticket
    /// build's profile, session 9).
    Proc,
}

/// How a clean build creates its pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Creation {
    /// An unnamed file in the page's folder (`O_TMPFILE`), written, then given its name
    /// (`linkat`): the page appears whole or not at all, and the kernel allocates its inode
    /// without holding the folder's lock, so the cores do not wait on each other there.
    Linked,
    /// `openat` of the name with `O_CREAT`, then one write (the way of systems and file
    /// systems without `O_TMPFILE`).
    Named,
}

impl Creation {
    /// `MESA_SITE_CREATE=named` chooses [`Creation::Named`] (to compare the ways, and for a
    /// file system where linking misbehaves), `linked-proc` [`Creation::Linked`] through
    /// [`Link::Proc`]; anything else, [`Creation::Linked`] by [`Link::Descriptor`] where the
    /// system allows each.
    fn from_env() -> (Creation, Link) {
        match std::env::var("MESA_SITE_CREATE").as_deref() {
            Ok("named") => (Creation::Named, Link::Proc),
            Ok("linked-proc") => (Creation::Linked, Link::Proc),
            _ => (Creation::Linked, Link::Descriptor),
        }
    }

    /// Whether a whole build into a folder that does not exist yet writes it aside and
    /// renames it into place at the end ([`Output::aside`]): `MESA_SITE_CREATE=aside`. Not
    /// the default: on this machine's ext4 it saved 5-10% of a 10,000-ticket build's system
    /// time on a quiet disk, but a page created by name allocates its inode under its
    /// folder's lock, which the two cores then wait on when the disk is slow to allocate
    /// inodes (after mass deletions nearby: see docs/scale.md, session 10).
    fn aside_from_env() -> bool {
        std::env::var("MESA_SITE_CREATE").as_deref() == Ok("aside")
    }
}

/// The folder a whole build into `target` writes aside (`.<name>.mesa-new-<pid>` beside it).
fn aside_name(target: &Path, pid: u32) -> Option<PathBuf> {
    let name = target.file_name()?.to_str()?;
    Some(target.with_file_name(format!(".{name}.mesa-new-{pid}")))
}

/// Removes what builds into `target` killed before their end left aside: folders named as
/// [`aside_name`] makes them, holding mesa's marker, whose process is gone.
fn remove_left_aside(target: &Path) {
    let (Some(name), Some(parent)) = (target.file_name().and_then(|n| n.to_str()), target.parent())
    else {
        return;
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let prefix = format!(".{name}.mesa-new-");
    for e in std::fs::read_dir(parent).into_iter().flatten().flatten() {
        let file_name = e.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only asks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone && e.path().join(MARKER).is_file() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

impl Output {
    /// Refuses a target that exists, is not empty and was not written by mesa (so `--out .`
    /// cannot wipe a desk). Nothing is created until the first write.
    pub fn new(target: &Path) -> Result<Output> {
        tune_allocator();
        if target.exists() {
            let is_ours = target.join(MARKER).is_file();
            let empty = std::fs::read_dir(target)
                .map(|mut d| d.next().is_none())
                .unwrap_or(false);
            if !target.is_dir() || !(is_ours || empty) {
                return Err(Error::Message(tr!(
                    "site.out_not_ours",
                    path = target.display()
                )));
            }
        }
        let clean = std::fs::read_dir(target).map_or(true, |mut d| d.next().is_none());
        let (creation, link) = Creation::from_env();
        Ok(Output {
            clean,
            target: target.to_path_buf(),
            bytes: AtomicU64::new(0),
            files: AtomicUsize::new(0),
            changed: AtomicUsize::new(0),
            written: Mutex::new(HashSet::new()),
            tmp_seq: AtomicU64::new(0),
            marked: std::sync::Once::new(),
            fresh: !target.exists(),
            #[cfg(unix)]
            dirs: Default::default(),
            linked: std::sync::atomic::AtomicBool::new(
                cfg!(target_os = "linux") && creation == Creation::Linked,
            ),
            by_descriptor: std::sync::atomic::AtomicBool::new(link == Link::Descriptor),
            stats: Mutex::new(clean.then(Vec::new)),
            aside: None,
        })
    }

    /// For a whole build (one that ends with [`Output::finish`] or [`Output::abandon`]) into
    /// a folder that does not exist yet, with `MESA_SITE_CREATE=aside` (and whatever the
    /// way, what killed builds left aside is removed first): the site is written into a new
    /// folder beside it
    /// (`.<name>.mesa-new-<pid>`), its pages created by name (`openat`, one `write`), and
    /// renamed to the target when complete. The site appears whole or not at all, so its
    /// pages need not be unnamed files linked in one by one: a build killed half-way leaves
    /// no page under the target, only the folder aside, which the next build into the same
    /// target removes (its process gone). A folder that exists (even empty) is written in
    /// place as before.
    pub fn aside(mut self) -> Output {
        if !self.fresh || !cfg!(unix) {
            return self;
        }
        remove_left_aside(&self.target);
        if !Creation::aside_from_env() {
            return self;
        }
        self.aside = aside_name(&self.target, std::process::id());
        if self.aside.is_some() {
            self.linked.store(false, Ordering::Relaxed);
        }
        self
    }

    /// Where the pages go: the folder aside, if any, else the target.
    fn root(&self) -> &Path {
        self.aside.as_deref().unwrap_or(&self.target)
    }

    /// Keeps the stat of the page `rel` of a clean build (`None`: it could not be taken, and
    /// the manifest will scan the folder instead).
    fn keep_stat(&self, rel: &str, stat: Option<Stat>) {
        if let Ok(mut kept) = self.stats.lock() {
            match stat {
                Some(s) => {
                    if let Some(v) = kept.as_mut() {
                        v.push((rel.to_string(), s));
                    }
                }
                None => *kept = None,
            }
        }
    }

    /// Writes `rel` (a `/`-separated path inside the site) unless it already has these bytes.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        self.mark();
        let path = self.root().join(rel);
        if self.clean {
            self.create(rel, &path, bytes)
                .map_err(|e| io_err(&path, e))?;
            self.changed.fetch_add(1, Ordering::Relaxed);
            self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
            self.files.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        let old = std::fs::metadata(&path);
        let same = match &old {
            Ok(m) if m.is_file() => {
                m.len() == bytes.len() as u64 && std::fs::read(&path).is_ok_and(|old| old == bytes)
            }
            _ => false,
        };
        if !same {
            self.replace(&path, bytes, old.is_ok())
                .map_err(|e| io_err(&path, e))?;
            self.changed.fetch_add(1, Ordering::Relaxed);
        }
        if let Ok(mut w) = self.written.lock() {
            w.insert(rel.to_string());
        }
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.files.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Whether the folder did not exist before this build (a failed build removes it again).
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// The pages written so far (relative to the folder; empty for a clean folder, which
    /// does not remember them): what an incremental rebuild tells the build manifest.
    pub fn written(&self) -> Vec<String> {
        self.written
            .lock()
            .map(|w| w.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// Writes the marker once, before the first page.
    fn mark(&self) {
        self.marked.call_once(|| {
            let marker = self.root().join(MARKER);
            if !marker.is_file() {
                // A failure here shows up as the page's own write error just below.
                let _ = std::fs::create_dir_all(self.root())
                    .and_then(|_| std::fs::write(&marker, MARKER_TEXT));
            }
        });
    }

    /// Writes a new page of a clean build: `rel` inside the site, `path` the same page as a
    /// whole path. The same as [`Output::replace`] of a missing file, but opened relative to
    /// its folder's descriptor.
    #[cfg(unix)]
    fn create(&self, rel: &str, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        use std::os::fd::{AsRawFd, FromRawFd};
        let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        let Ok(cname) = std::ffi::CString::new(name) else {
            self.replace(path, bytes, false)?;
            self.keep_stat(rel, crate::model::scan::stat_of(path));
            return Ok(());
        };
        let folder = self.dirs.read().ok().and_then(|d| d.get(dir).cloned());
        let folder = match folder {
            Some(f) => f,
            None => {
                let p = self.root().join(dir);
                std::fs::create_dir_all(&p)?;
                let f = std::sync::Arc::new(std::fs::File::open(&p)?);
                if let Ok(mut d) = self.dirs.write() {
                    d.entry(dir.to_string()).or_insert_with(|| f.clone());
                }
                f
            }
        };
        #[cfg(target_os = "linux")]
        if self.linked.load(Ordering::Relaxed) {
            match create_linked_file(&folder, &cname, bytes, &self.by_descriptor) {
                // Its stat now that it has its name (linking changed its change time).
                Ok(Some(file)) => {
                    self.keep_stat(rel, crate::model::scan::stat_of_open(&file));
                    return Ok(());
                }
                // The name exists (a page written twice): replaced by name below.
                Ok(None) => {}
                // Written by name below, which reports this page's own error if it has one
                // (a full disk); nothing of the unnamed file is left behind.
                Err(e) => {
                    if linking_unsupported(&e) {
                        self.linked.store(false, Ordering::Relaxed);
                    }
                }
            }
        }
        let mode: libc::c_uint = 0o666;
        // SAFETY: `openat` of a NUL-terminated name in an open folder; the descriptor it
        // returns is owned by the `File` made from it at once.
        let fd = unsafe {
            libc::openat(
                folder.as_raw_fd(),
                cname.as_ptr(),
                libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC,
                mode,
            )
        };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and nothing else owns it.
        let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
        file.write_all(bytes)?;
        self.keep_stat(rel, crate::model::scan::stat_of_open(&file));
        Ok(())
    }

    /// How this build creates its pages (after a fallback, [`Creation::Named`]).
    pub fn creation(&self) -> Creation {
        if self.linked.load(Ordering::Relaxed) {
            Creation::Linked
        } else {
            Creation::Named
        }
    }

    /// How this build links its unnamed pages (after a refusal, [`Link::Proc`]).
    pub fn link(&self) -> Link {
        if self.by_descriptor.load(Ordering::Relaxed) {
            Link::Descriptor
        } else {
            Link::Proc
        }
    }

    #[cfg(not(unix))]
    fn create(&self, rel: &str, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        self.replace(path, bytes, false)?;
        self.keep_stat(rel, crate::model::scan::stat_of(path));
        Ok(())
    }

    /// `exists`: whether `path` was there a moment ago (a new page is written directly).
    fn replace(&self, path: &Path, bytes: &[u8], exists: bool) -> std::io::Result<()> {
        if !exists {
            return std::fs::write(path, bytes).or_else(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    std::fs::write(path, bytes)
                } else {
                    Err(e)
                }
            });
        }
        let n = self.tmp_seq.fetch_add(1, Ordering::Relaxed);
        let tmp = path.with_file_name(format!(
            ".{}.tmp-{}-{n}",
            path.file_name()
                .map(|f| f.to_string_lossy())
                .unwrap_or_default(),
            std::process::id()
        ));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }

    /// A failed build: pages are written as they are rendered, so a folder this build created
    /// is removed again (no half site); an earlier build's folder keeps the pages already
    /// rewritten and every other page of that build.
    pub fn abandon(self) {
        if self.fresh {
            let _ = std::fs::remove_dir_all(self.root());
        }
    }

    /// Marks the folder as mesa's and removes what earlier builds wrote and this one did not.
    /// A clean build returns every file it put in the folder with its stat, sorted by path,
    /// as [`crate::model::scan::files`] would list the folder if nobody else wrote in it
    /// (`None` for any other build, or when a stat could not be taken). A page written twice
    /// keeps its last stat; should another writer have changed a page since, its stat differs
    /// from the file's and the next build distrusts the folder (a full build), where a scan
    /// at the end would have recorded the other writer's file as the build's.
    pub fn finish(self) -> Result<Option<Vec<(String, Stat)>>> {
        if self.clean {
            // The marker went in before the first page; nothing else is in the folder.
            self.mark();
            let marker = self.root().join(MARKER);
            if !marker.is_file() {
                self.replace(&marker, MARKER_TEXT, false)
                    .map_err(|e| io_err(&marker, e))?;
            }
            self.keep_stat(MARKER, crate::model::scan::stat_of(&marker));
            if let Some(aside) = &self.aside {
                // Renaming the folder changes no file's stat. Never over a target that
                // appeared meanwhile: that is an error, and the folder aside goes.
                rename_noreplace(aside, &self.target).map_err(|e| {
                    let _ = std::fs::remove_dir_all(aside);
                    io_err(&self.target, e)
                })?;
            }
            let stats = self.stats.into_inner().ok().flatten().map(|mut v| {
                // Stable: of a page written twice, the later stat comes last and is kept.
                v.sort_by(|a, b| a.0.cmp(&b.0));
                let mut out: Vec<(String, Stat)> = Vec::with_capacity(v.len());
                for e in v {
                    match out.last_mut() {
                        Some(last) if last.0 == e.0 => *last = e,
                        _ => out.push(e),
                    }
                }
                out
            });
            return Ok(stats);
        }
        self.write(MARKER, MARKER_TEXT)?;
        let written = self.written.into_inner().unwrap_or_default();
        let mut dirs = Vec::new();
        for e in walkdir::WalkDir::new(&self.target)
            .min_depth(1)
            .into_iter()
            .filter_map(|e| e.ok())
        {
            let rel = e
                .path()
                .strip_prefix(&self.target)
                .unwrap_or(e.path())
                .to_string_lossy()
                .replace('\\', "/");
            if e.file_type().is_dir() {
                dirs.push(e.into_path());
            } else if !written.contains(&rel) {
                std::fs::remove_file(e.path()).map_err(|err| io_err(e.path(), err))?;
            }
        }
        // Deepest first, so emptied parents go too; folders still in use are not empty.
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        for d in dirs {
            let _ = std::fs::remove_dir(d);
        }
        Ok(None)
    }
}

/// Allocator settings for the page rate of a build (the binary's allocator is mimalloc v3):
/// freed memory goes back to the system after 10 ms (mimalloc's own default, set here so it
/// is said). Returning it at once (delay 0, the setting until session 7) made a 100,000-ticket
/// build fault its pages in again and again: 652,000 page faults against 396,000-416,000
/// with a delay of 10-20 ms, for a peak of 476 against 508-512 MiB (session 7, 100,000
/// tickets).
/// Transparent huge pages are off at compile time (the `no_thp` feature in Cargo.toml): an
/// option set here would come after mimalloc's first arena was already advised huge.
///
/// Called first thing by the binary and again by every build (for library users).
pub fn tune_allocator() {
    // `mi_option_purge_delay` in mimalloc v3's `mi_option_e` (libmimalloc-sys 0.1.49).
    const PURGE_DELAY: std::ffi::c_int = 15;
    use mimalloc as _;
    unsafe extern "C" {
        fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    }
    // `MIMALLOC_PURGE_DELAY` in the environment, mimalloc's own way to set it, is left to win
    // (to measure other delays without a new build).
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option; mimalloc reads options atomically. mimalloc is
        // linked into anything using this library (the `use` above), whether or not it is the
        // global allocator (then the call only tunes an allocator nobody uses).
        unsafe {
            mi_option_set(PURGE_DELAY, 10);
        }
    }
}

/// Creates `name` in `folder` with `bytes` as an unnamed file linked in once written
/// ([`Creation::Linked`]), and returns it, still open (its stat is the page's). `Ok(None)`:
/// the name already exists (nothing was created). `by_descriptor`: whether to link by the
/// file's descriptor first ([`link_unnamed`]).
#[cfg(target_os = "linux")]
fn create_linked_file(
    folder: &std::fs::File,
    name: &std::ffi::CStr,
    bytes: &[u8],
    by_descriptor: &std::sync::atomic::AtomicBool,
) -> std::io::Result<Option<std::fs::File>> {
    use std::io::Write;
    let mut file = open_unnamed(folder)?;
    file.write_all(bytes)?;
    Ok(link_unnamed(&file, folder, name, by_descriptor)?.then_some(file))
}

/// [`create_linked_file`] saying only whether the page was created.
#[cfg(all(target_os = "linux", test))]
fn create_linked(
    folder: &std::fs::File,
    name: &std::ffi::CStr,
    bytes: &[u8],
    by_descriptor: &std::sync::atomic::AtomicBool,
) -> std::io::Result<bool> {
    create_linked_file(folder, name, bytes, by_descriptor).map(|f| f.is_some())
}

/// Gives the unnamed `file` the name `name` in `folder`: by its descriptor
/// ([`Link::Descriptor`]) while `by_descriptor` holds, else (and for good, clearing it, once
/// the kernel refuses that) through `/proc/self/fd` ([`Link::Proc`]). `Ok(false)`: the name
/// already exists.
#[cfg(target_os = "linux")]
fn link_unnamed(
    file: &std::fs::File,
    folder: &std::fs::File,
    name: &std::ffi::CStr,
    by_descriptor: &std::sync::atomic::AtomicBool,
) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    let done = |rc: libc::c_int| -> std::io::Result<bool> {
        if rc == 0 {
            return Ok(true);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return Ok(false);
        }
        Err(e)
    };
    let fd = file.as_raw_fd();
    if by_descriptor.load(Ordering::Relaxed) {
        // SAFETY: an empty NUL-terminated path with `AT_EMPTY_PATH` names `fd` itself; the
        // new name is NUL-terminated; both descriptors are open.
        let rc = unsafe {
            libc::linkat(
                fd,
                c"".as_ptr(),
                folder.as_raw_fd(),
                name.as_ptr(),
                libc::AT_EMPTY_PATH,
            )
        };
        match done(rc) {
            Err(e) if descriptor_link_refused(&e) => by_descriptor.store(false, Ordering::Relaxed),
            other => return other,
        }
    }
    let Ok(proc) = std::ffi::CString::new(format!("/proc/self/fd/{fd}")) else {
        return Err(std::io::Error::from(std::io::ErrorKind::InvalidInput));
    };
    // SAFETY: both paths are NUL-terminated, both descriptors open.
    done(unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            proc.as_ptr(),
            folder.as_raw_fd(),
            name.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    })
}

/// How the kernel refuses a link by descriptor ([`Link::Descriptor`]) to a process that may
/// not make it: `ENOENT` (no `CAP_DAC_READ_SEARCH`, and before Linux 6.10 or with other
/// credentials than the file was opened with), `EPERM` or `EINVAL` (a kernel or filter
/// without `AT_EMPTY_PATH`). The `/proc` way then decides: a folder really gone fails there
/// too, and the page is written by name, which reports it.
#[cfg(target_os = "linux")]
fn descriptor_link_refused(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOENT | libc::EPERM | libc::EINVAL)
    )
}

/// A new file in `folder` with no name yet (`O_TMPFILE`): it gets one only by `linkat`.
#[cfg(target_os = "linux")]
fn open_unnamed(folder: &std::fs::File) -> std::io::Result<std::fs::File> {
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: `openat` of "." in an open folder; the descriptor is owned at once below.
    let fd = unsafe {
        libc::openat(
            folder.as_raw_fd(),
            c".".as_ptr(),
            libc::O_TMPFILE | libc::O_WRONLY | libc::O_CLOEXEC,
            0o666 as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and nothing else owns it.
    Ok(unsafe { std::fs::File::from_raw_fd(fd) })
}

/// Errors by which `O_TMPFILE` + `linkat` says it cannot work here, rather than that this
/// page cannot be written: the file system has no unnamed files (`EOPNOTSUPP`), the kernel
/// predates them (`EISDIR`, `EINVAL`), or `/proc` is not mounted (`ENOENT` on the link).
#[cfg(target_os = "linux")]
fn linking_unsupported(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL | libc::ENOENT | libc::EXDEV)
    )
}

/// Where [`trace`] hands its lines: set by the face, which alone writes to the terminal.
static TRACE_SINK: std::sync::OnceLock<fn(&str)> = std::sync::OnceLock::new();

/// Lets the face receive [`trace`]'s lines (the first sink set stays).
pub fn set_trace_sink(sink: fn(&str)) {
    let _ = TRACE_SINK.set(sink);
}

/// With `MESA_TRACE` set, hands the trace sink `mesa-trace <seconds since the first mark>
/// <what> cpu <seconds on a core of each thread of the process>` (the threads' run time from
/// `/proc/self/task/*/schedstat`, in nanoseconds there): where a build's phases begin and
/// which of them run on one core, whatever the machine's load (`scripts/build_timeline.py`
/// turns the lines into a table). A developer's tool: not translated, silent by default.
pub fn trace(what: &str) {
    let Some(sink) = TRACE_SINK.get() else {
        return;
    };
    static START: std::sync::OnceLock<Option<std::time::Instant>> = std::sync::OnceLock::new();
    let Some(start) =
        START.get_or_init(|| std::env::var_os("MESA_TRACE").map(|_| std::time::Instant::now()))
    else {
        return;
    };
    let mut line = format!("mesa-trace {:.3} {what} cpu", start.elapsed().as_secs_f64());
    let mut tasks: Vec<(u64, u64)> = std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let tid = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("schedstat")).ok()?;
            Some((tid, stat.split(' ').next()?.parse().ok()?))
        })
        .collect();
    tasks.sort();
    for (tid, ns) in tasks {
        line.push_str(&format!(" {tid}:{:.3}", ns as f64 / 1e9));
    }
    sink(&line);
}

/// Renames `from` to `to` unless `to` exists (`renameat2` with `RENAME_NOREPLACE` on Linux;
/// elsewhere a check, then `rename`).
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| {
            std::ffi::CString::new(p.as_os_str().as_bytes())
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))
        };
        let (f, t) = (c(from)?, c(to)?);
        // SAFETY: two NUL-terminated paths relative to the working folder.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                f.as_ptr(),
                libc::AT_FDCWD,
                t.as_ptr(),
                libc::RENAME_NOREPLACE,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        // A file system without the flag: the check and a plain rename.
        if e.raw_os_error() != Some(libc::EINVAL) {
            return Err(e);
        }
    }
    if to.exists() {
        return Err(std::io::Error::from(std::io::ErrorKind::AlreadyExists));
    }
    std::fs::rename(from, to)
}

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::Message(tr!("site.write_failed", path = path.display(), error = e))
}

/// Where a build reports its progress. The face decides what it looks like (a bar on a
/// terminal, plain lines, nothing); the build only counts.
pub trait ProgressSink: Send + Sync + std::fmt::Debug {
    /// A phase starts ("loading", "rendering", ...).
    fn phase(&self, msg: &str);
    /// More pages to render.
    fn add_total(&self, n: u64);
    /// One page rendered.
    fn inc(&self);
    /// The build is over.
    fn finish(&self);
}

/// The build's handle on its [`ProgressSink`], if any.
#[derive(Clone, Default)]
pub struct Progress(Option<std::sync::Arc<dyn ProgressSink>>);

impl Progress {
    pub fn new(sink: Option<std::sync::Arc<dyn ProgressSink>>) -> Progress {
        Progress(sink)
    }
    pub fn silent() -> Progress {
        Progress(None)
    }
    pub fn phase(&self, msg: &str) {
        if let Some(s) = &self.0 {
            s.phase(msg);
        }
    }
    pub fn add_total(&self, n: u64) {
        if let Some(s) = &self.0 {
            s.add_total(n);
        }
    }
    pub fn inc(&self) {
        if let Some(s) = &self.0 {
            s.inc();
        }
    }
    pub fn finish(&self) {
        if let Some(s) = &self.0 {
            s.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    fn read(p: &Path) -> Vec<u8> {
        std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    /// Writes the same pages with the given way of creating them; returns the folder.
    fn clean_build(creation: Creation, link: Link) -> (tempfile::TempDir, Creation, Link) {
        let dir = tempfile::tempdir().unwrap();
        let out = Output::new(&dir.path().join("site")).unwrap();
        out.linked
            .store(creation == Creation::Linked, Ordering::Relaxed);
        out.by_descriptor
            .store(link == Link::Descriptor, Ordering::Relaxed);
        out.write("index.html", b"<p>inicio</p>").unwrap();
        out.write("kb/articles/a.html", b"<p>a</p>").unwrap();
        out.write("kb/articles/b.html", b"").unwrap();
        // A page written twice in one build keeps the second bytes, as by name.
        out.write("kb/articles/a.html", b"<p>a, otra vez</p>")
            .unwrap();
        let used = (out.creation(), out.link());
        out.finish().unwrap();
        (dir, used.0, used.1)
    }

    /// Both ways of creating pages write the same files, with the same permissions, and leave
    /// nothing else in the folder (no temporary names).
    #[test]
    fn linked_and_named_pages_are_the_same_files() {
        let (linked, used, _) = clean_build(Creation::Linked, Link::Descriptor);
        // Linux's file systems for temporary folders (ext4, tmpfs, xfs, btrfs) all have
        // `O_TMPFILE`: the linked way was really taken, not fallen back from.
        #[cfg(target_os = "linux")]
        assert_eq!(used, Creation::Linked);
        let (proc, used, link) = clean_build(Creation::Linked, Link::Proc);
        #[cfg(target_os = "linux")]
        assert_eq!((used, link), (Creation::Linked, Link::Proc));
        let (named, used, _) = clean_build(Creation::Named, Link::Proc);
        assert_eq!(used, Creation::Named);
        let list = |d: &Path| {
            let mut v: Vec<(String, Vec<u8>, u32)> = walkdir::WalkDir::new(d)
                .min_depth(1)
                .into_iter()
                .map(|e| e.unwrap())
                .filter(|e| e.file_type().is_file())
                .map(|e| {
                    use std::os::unix::fs::PermissionsExt;
                    let rel = e.path().strip_prefix(d).unwrap().display().to_string();
                    let mode = e.metadata().unwrap().permissions().mode();
                    (rel, read(e.path()), mode)
                })
                .collect();
            v.sort();
            v
        };
        let a = list(&linked.path().join("site"));
        assert_eq!(a, list(&named.path().join("site")));
        assert_eq!(a, list(&proc.path().join("site")));
        let names: Vec<&str> = a.iter().map(|(n, _, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                ".mesa-site",
                "index.html",
                "kb/articles/a.html",
                "kb/articles/b.html"
            ]
        );
        assert_eq!(a[2].1, b"<p>a, otra vez</p>");
    }

    /// A clean build's own list of its files and their stats (taken from the written files)
    /// is what a scan of the folder finds afterwards, whichever way the pages were created:
    /// linked, by name in place, or aside then renamed (renaming the folder changes no
    /// file's stat); a page written twice is listed once, with its last stat. Written aside,
    /// the site has no name until it is whole; abandoned, nothing is left.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_clean_build_lists_what_a_scan_finds() {
        for (aside, linked) in [(true, false), (false, true), (false, false)] {
            let dir = tempfile::tempdir().unwrap();
            let target = dir.path().join("site");
            let mut out = Output::new(&target).unwrap();
            if aside {
                out.aside = aside_name(&target, std::process::id());
                out.linked.store(false, Ordering::Relaxed);
            } else {
                out.linked.store(linked, Ordering::Relaxed);
            }
            out.write("index.html", b"<p>inicio</p>").unwrap();
            out.write("tickets/2026/11/a.html", b"<p>a</p>").unwrap();
            out.write("tickets/2026/11/a.html", b"<p>a, otra vez</p>")
                .unwrap();
            out.write("search/t/ab", b"").unwrap();
            assert_eq!(target.exists(), !aside, "aside {aside}");
            let listed = out
                .finish()
                .unwrap()
                .expect("a clean build lists its files");
            let scanned = crate::model::scan::files(&target).unwrap();
            assert_eq!(listed, scanned, "aside {aside}, linked {linked}");
            let names: Vec<&str> = listed.iter().map(|(n, _)| n.as_str()).collect();
            assert_eq!(
                names,
                [
                    ".mesa-site",
                    "index.html",
                    "search/t/ab",
                    "tickets/2026/11/a.html"
                ]
            );
            assert_eq!(
                read(&target.join("tickets/2026/11/a.html")),
                b"<p>a, otra vez</p>"
            );
            // Nothing else beside the site.
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        }
        // Abandoned aside: neither the site nor the folder aside is left.
        let aside_of = |target: &Path| {
            let mut out = Output::new(target).unwrap();
            out.aside = aside_name(target, std::process::id());
            out.linked.store(false, Ordering::Relaxed);
            out
        };
        let dir = tempfile::tempdir().unwrap();
        let out = aside_of(&dir.path().join("site"));
        out.write("index.html", b"<p>inicio</p>").unwrap();
        out.abandon();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // An existing (empty) folder is not new (written in place); one that appears during
        // the build is not replaced.
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("site");
        std::fs::create_dir(&target).unwrap();
        assert!(!Output::new(&target).unwrap().is_fresh());
        std::fs::remove_dir(&target).unwrap();
        let out = aside_of(&target);
        out.write("index.html", b"<p>inicio</p>").unwrap();
        std::fs::create_dir(&target).unwrap();
        assert!(out.finish().is_err());
        assert_eq!(std::fs::read_dir(&target).unwrap().count(), 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    /// Where a file system has no unnamed files, the linked way says so with an error that
    /// turns the build to creating pages by name (and leaves nothing behind).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_file_system_without_unnamed_files_is_recognised() {
        // sysfs has no `O_TMPFILE`: EOPNOTSUPP for root; without write permission the
        // permission check comes first (then the page is tried by name, which fails alike).
        let Ok(folder) = std::fs::File::open("/sys/kernel") else {
            eprintln!("skipped: no /sys/kernel here");
            return;
        };
        let e = create_linked(&folder, c"page.html", b"x", &AtomicBool::new(true)).unwrap_err();
        match e.raw_os_error() {
            Some(libc::EOPNOTSUPP) => assert!(linking_unsupported(&e)),
            Some(libc::EACCES | libc::EPERM) => assert!(!linking_unsupported(&e)),
            other => panic!("unexpected {other:?}: {e}"),
        }
        assert!(!Path::new("/sys/kernel/page.html").exists());
    }

    /// A page is invisible until whole: while its bytes are written it has no name in the
    /// folder, so a build killed then leaves no half page under the page's name.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_linked_page_has_no_name_until_written() {
        let dir = tempfile::tempdir().unwrap();
        let folder = std::fs::File::open(dir.path()).unwrap();
        // The first step of `create_linked`, stopped before the link: the folder stays empty.
        let mut file = open_unnamed(&folder).unwrap();
        std::io::Write::write_all(&mut file, b"<p>medio").unwrap();
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        drop(file);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // The whole way, by descriptor and through /proc: the name appears with every byte.
        for (k, descriptor) in [true, false].into_iter().enumerate() {
            let by = AtomicBool::new(descriptor);
            let name = std::ffi::CString::new(format!("p{k}.html")).unwrap();
            assert!(create_linked(&folder, &name, b"<p>entera</p>", &by).unwrap());
            let path = dir.path().join(name.to_str().unwrap());
            assert_eq!(read(&path), b"<p>entera</p>");
            // An existing name is not replaced by the link (the caller writes it by name).
            assert!(!create_linked(&folder, &name, b"otra", &by).unwrap());
            assert_eq!(read(&path), b"<p>entera</p>");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    /// Drops `CAP_DAC_READ_SEARCH` from the calling thread's effective capabilities (a thread
    /// has its own): its credentials are new afterwards even when it had not that capability,
    /// so the kernel refuses it a link by descriptor of a file opened before. `false` where
    /// the system does not let a thread set its capabilities.
    #[cfg(target_os = "linux")]
    fn drop_dac_read_search() -> bool {
        #[repr(C)]
        struct Header {
            version: u32,
            pid: libc::c_int,
        }
        #[repr(C)]
        #[derive(Clone, Copy, Default)]
        struct Data {
            effective: u32,
            permitted: u32,
            inheritable: u32,
        }
        let mut head = Header {
            version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
            pid: 0,
        };
        let mut data = [Data::default(); 2];
        // SAFETY: capget/capset of this thread with version 3's two data words.
        unsafe {
            if libc::syscall(libc::SYS_capget, &mut head, data.as_mut_ptr()) != 0 {
                return false;
            }
            data[0].effective &= !(1 << 2); // CAP_DAC_READ_SEARCH
            libc::syscall(libc::SYS_capset, &mut head, data.as_ptr()) == 0
        }
    }

    /// A process the kernel refuses a link by descriptor (no capability, and credentials other
    /// than those the file was opened with) still gets every page, linked through `/proc`,
    /// and stops asking for the rest of the build.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_refused_link_by_descriptor_goes_through_proc() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        // In a thread of its own: the dropped capability stays with that thread.
        let ran = std::thread::spawn(move || {
            let folder = std::fs::File::open(&root).unwrap();
            let mut file = open_unnamed(&folder).unwrap();
            std::io::Write::write_all(&mut file, b"<p>entera</p>").unwrap();
            if !drop_dac_read_search() {
                return false;
            }
            // SAFETY: as in `link_unnamed`.
            let rc = unsafe {
                libc::linkat(
                    std::os::fd::AsRawFd::as_raw_fd(&file),
                    c"".as_ptr(),
                    std::os::fd::AsRawFd::as_raw_fd(&folder),
                    c"directo.html".as_ptr(),
                    libc::AT_EMPTY_PATH,
                )
            };
            let e = std::io::Error::last_os_error();
            assert_eq!(
                rc, -1,
                "the kernel linked by descriptor for other credentials"
            );
            assert!(descriptor_link_refused(&e), "{e}");
            let by = AtomicBool::new(true);
            assert!(link_unnamed(&file, &folder, c"p.html", &by).unwrap());
            assert!(!by.load(Ordering::Relaxed), "still linking by descriptor");
            // Later pages go through /proc without asking again.
            assert!(create_linked(&folder, c"q.html", b"<p>otra</p>", &by).unwrap());
            true
        })
        .join()
        .unwrap();
        if !ran {
            eprintln!("skipped: this system does not let a thread drop a capability");
            return;
        }
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, ["p.html", "q.html"]);
        assert_eq!(read(&dir.path().join("p.html")), b"<p>entera</p>");
        assert_eq!(read(&dir.path().join("q.html")), b"<p>otra</p>");
    }

    /// What turns the build to `/proc` is the kernel's refusal, not a page's own error.
    #[cfg(target_os = "linux")]
    #[test]
    fn only_a_refusal_turns_linking_to_proc() {
        let e = |n| std::io::Error::from_raw_os_error(n);
        for refused in [libc::ENOENT, libc::EPERM, libc::EINVAL] {
            assert!(descriptor_link_refused(&e(refused)));
        }
        for own in [
            libc::ENOSPC,
            libc::EDQUOT,
            libc::EACCES,
            libc::EIO,
            libc::EMLINK,
        ] {
            assert!(!descriptor_link_refused(&e(own)));
        }
    }
}
