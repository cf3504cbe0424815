//! Site tests' kit: a committed copy of the sample desk, and output folders compared file by
//! file (an incremental build must write exactly what a clean full build writes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The sample desk, tickets included, committed in a fresh git repository; `ignore` is its
/// `.gitignore` (the output folders a test writes inside the desk).
pub fn sample_git_desk(ignore: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("desk");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::copy(
        super::sample_root().join("desk.yaml"),
        root.join("desk.yaml"),
    )
    .unwrap();
    for sub in ["kb", "tickets", "theme"] {
        super::copy_dir(&super::sample_root().join(sub), &root.join(sub));
    }
    std::fs::write(root.join(".gitignore"), ignore).unwrap();
    super::git::init_committed(&root);
    (tmp, root)
}

/// Every file under `dir`, by path relative to it.
pub fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

/// Asserts the two folders hold the same files with the same bytes, naming those that differ.
pub fn assert_same_files(site: &Path, full: &Path, what: &str) {
    let (a, b) = (files(site), files(full));
    let names_a: Vec<&String> = a.keys().collect();
    let names_b: Vec<&String> = b.keys().collect();
    assert_eq!(names_a, names_b, "the same files after {what}");
    let differ: Vec<&String> = a.keys().filter(|k| a[*k] != b[*k]).collect();
    assert!(
        differ.is_empty(),
        "files that differ after {what}: {differ:?}"
    );
}

/// The file of ticket `id` under the desk's `tickets/`.
pub fn ticket_file(root: &Path, id: &str) -> PathBuf {
    walkdir::WalkDir::new(root.join("tickets"))
        .into_iter()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy() == format!("{id}.md"))
        .map(|e| e.into_path())
        .expect("ticket file")
}
