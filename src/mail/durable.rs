//! When queued emails reach the disk. Each queued message is synced before the step that
//! queued it ends, so a crash of the machine right after loses nothing. A run that queues many
//! (`mesa inbox import` acknowledging a thousand new cases) would then spend most of its time
//! waiting for the disk, three syncs per message: inside a [`Batch`] the files are written
//! without waiting, and the batch syncs their file system once when it ends.
//!
//! A killed process loses nothing either way (written files are in the kernel's cache); only
//! a crash of the whole machine during a batch can lose messages queued in it, as it can lose
//! the batch's commits (git, and mesa with it, does not sync loose objects by default), and
//! the next run composes nothing again for a commit that is gone.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

thread_local! {
    /// The open batch of this thread: the folders whose file system it must sync.
    static OPEN: RefCell<Option<Vec<PathBuf>>> = const { RefCell::new(None) };
}

/// Defers the syncs of this thread's queued files until it is dropped (or [`Batch::end`]).
pub struct Batch {
    /// Not `Send`: the batch belongs to the thread that queues.
    _thread: std::marker::PhantomData<*const ()>,
}

impl Batch {
    pub fn start() -> Batch {
        OPEN.with(|o| {
            o.borrow_mut().get_or_insert_with(Vec::new);
        });
        Batch {
            _thread: std::marker::PhantomData,
        }
    }

    /// Syncs everything the batch deferred.
    pub fn end(self) {}
}

impl Drop for Batch {
    fn drop(&mut self) {
        let folders = OPEN.with(|o| o.borrow_mut().take()).unwrap_or_default();
        for f in folders {
            sync_file_system(&f);
        }
    }
}

/// Makes `path` (a file just written, or a folder after a rename in it) durable now, or when
/// the thread's batch ends; `folder` is where it lives.
pub fn sync(path: &Path, folder: &Path) -> std::io::Result<()> {
    let deferred = OPEN.with(|o| match o.borrow_mut().as_mut() {
        Some(list) => {
            if !list.iter().any(|f| f == folder) {
                list.push(folder.to_path_buf());
            }
            true
        }
        None => false,
    });
    if deferred {
        Ok(())
    } else {
        std::fs::File::open(path)?.sync_all()
    }
}

/// Everything written in the file system holding `folder` reaches the disk: one `syncfs` on
/// Linux, a global `sync` elsewhere.
fn sync_file_system(folder: &Path) {
    let Ok(f) = std::fs::File::open(folder) else {
        return;
    };
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor is open for the duration of the call.
        unsafe {
            libc::syncfs(f.as_raw_fd());
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = f;
        #[cfg(unix)]
        // SAFETY: `sync` takes no arguments and cannot fail.
        unsafe {
            libc::sync();
        }
    }
}
