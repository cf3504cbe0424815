//! The parsed email templates and answer words of a desk, kept for the process: a run that
//! composes many emails (`mesa inbox import` acknowledging a thousand new cases, the sweep)
//! parses the templates and the catalog once, not once per email. The desk's own files are
//! part of the key (their size and modification time), so a process that lives on sees an
//! edited template.

use crate::model::diag::Result;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

/// What composing an email in one language needs parsed.
pub struct Compiled {
    pub tera: tera::Tera,
    /// The first-line words `mesa inbox` recognises as answers, by answer id.
    pub answers: serde_json::Map<String, serde_json::Value>,
}

/// Each file the compiled value was built from, with its size and modification time (`None`
/// when absent: the embedded default was used).
type Stamps = Vec<Option<(SystemTime, u64)>>;

type Cache = HashMap<(PathBuf, String), (Stamps, Arc<Compiled>)>;

static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();

/// The compiled templates of `root` in `lang`, built by `build` when first asked for or when
/// one of `files` (the desk's own files that override the defaults) changed since. A failed
/// build is not kept: the next call reports it again.
pub fn compiled(
    root: &Path,
    lang: &str,
    files: &[PathBuf],
    build: impl FnOnce() -> Result<Compiled>,
) -> Result<Arc<Compiled>> {
    let stamps: Stamps = files
        .iter()
        .map(|f| {
            std::fs::symlink_metadata(f)
                .ok()
                .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()))
        })
        .collect();
    let key = (root.to_path_buf(), lang.to_string());
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Ok(m) = cache.lock() {
        if let Some((s, c)) = m.get(&key) {
            if *s == stamps {
                return Ok(c.clone());
            }
        }
    }
    let built = Arc::new(build()?);
    if let Ok(mut m) = cache.lock() {
        m.insert(key, (stamps, built.clone()));
    }
    Ok(built)
}
