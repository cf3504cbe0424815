//! The knowledge base a one-ticket command found sound is kept between runs
//! (`src/rules/kb_cache.rs`, `.git/mesa/kb.bin`), and is never trusted over the files: after
//! each way the knowledge base or desk.yaml can be broken by hand under a warm cache, `mesa
//! comment` and `mesa show` refuse exactly as a cold run (no cache) refuses, write nothing,
//! and `mesa check` rejects the desk too; once the edit is undone the command works again.
//! Real binary, real git repository, the sample desk's knowledge base.

mod common;

use common::git::{git, TestDesk};
use std::path::{Path, PathBuf};
use std::process::Command;

const T0: &str = "2026-11-02T08:00:00-05:00";
const T1: &str = "2026-11-02T09:00:00-05:00";

fn cache_file(root: &Path) -> PathBuf {
    root.join(".git/mesa/kb.bin")
}

/// The sample desk with one ticket, the cache written by the commands that made it.
fn desk() -> (TestDesk, String) {
    let d = TestDesk::new();
    let id = d.new_ticket(T0, &[]);
    d.ok(T0, &["comment", &id, "--text", "warm"]);
    assert!(
        cache_file(&d.root).is_file(),
        "a command on a sound desk keeps its knowledge base"
    );
    let (code, _, err) = check_as_cold(&d, "the sound desk");
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("pages"), "the pages are counted: {err}");
    std::fs::remove_file(cache_file(&d.root)).unwrap();
    check(&d);
    assert!(
        cache_file(&d.root).is_file(),
        "mesa check on a sound desk keeps its knowledge base"
    );
    (d, id)
}

/// `mesa check`'s exit code and everything it prints.
fn check(d: &TestDesk) -> (Option<i32>, String, String) {
    let out = Command::new(common::git::MESA)
        .args(["--desk", d.root.to_str().unwrap(), "--lang", "en", "check"])
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `mesa check` says the same with the kept knowledge base as without it (`mesa check`
/// takes a clean verdict from the cache too), and the cache is as it was before.
fn check_as_cold(d: &TestDesk, context: &str) -> (Option<i32>, String, String) {
    let kept = std::fs::read(cache_file(&d.root)).unwrap();
    let warm = check(d);
    std::fs::remove_file(cache_file(&d.root)).unwrap();
    let cold = check(d);
    assert_eq!(warm, cold, "{context}: mesa check, warm and cold");
    std::fs::write(cache_file(&d.root), kept).unwrap();
    warm
}

fn check_rejects(d: &TestDesk, context: &str) {
    let (code, ..) = check_as_cold(d, context);
    assert_ne!(code, Some(0), "{context}: mesa check accepts the desk");
}

/// With the cache as the last sound run left it, `comment` and `show` are refused (nothing
/// written), with the same messages as a run without the cache; `mesa check` rejects the desk.
fn refused_as_cold(d: &TestDesk, id: &str, context: &str) {
    assert!(
        cache_file(&d.root).is_file(),
        "{context}: the cache is warm"
    );
    let warm_cache = std::fs::read(cache_file(&d.root)).unwrap();
    let comment = ["comment", id, "--text", "after the hand edit"];
    let show = ["show", id];
    let warm = (d.refused(T1, &comment), d.refused(T1, &show));
    assert!(
        warm.0.contains("kb/") || warm.0.contains("desk.yaml"),
        "{context}: the refusal names the broken file: {}",
        warm.0
    );
    check_rejects(d, context);
    std::fs::remove_file(cache_file(&d.root)).unwrap();
    let cold = (d.refused(T1, &comment), d.refused(T1, &show));
    assert_eq!(
        warm, cold,
        "{context}: the warm run says what a cold run says"
    );
    assert!(
        !cache_file(&d.root).exists(),
        "{context}: a refused desk's knowledge base is not kept"
    );
    // Put back: a later command must not find a sound verdict for the broken files.
    std::fs::write(cache_file(&d.root), warm_cache).unwrap();
}

/// Undoes the hand edits (back to HEAD) and shows the command works again.
fn repaired(d: &TestDesk, id: &str) {
    git(&d.root, &["checkout", "--", "."]);
    git(&d.root, &["clean", "-fdq", "kb"]);
    d.ok(T1, &["comment", id, "--text", "after the repair"]);
    assert_eq!(d.status(), "");
}

#[test]
fn a_broken_link_edited_in_with_the_mtime_kept_is_refused() {
    let (d, id) = desk();
    let page = d.root.join("kb/catalog/ajustes-plantilla.md");
    common::edit_keeping_mtime(&page, "(ajustes-reporte.md)", "(ajustes-reportx.md)");
    refused_as_cold(&d, &id, "broken link, mtime kept");
    repaired(&d, &id);
}

#[test]
fn broken_front_matter_in_an_article_is_refused() {
    let (d, id) = desk();
    let page = d.root.join("kb/articles/roles.md");
    let text = std::fs::read_to_string(&page).unwrap();
    let kind = text
        .lines()
        .find(|l| l.starts_with("kind:"))
        .expect("an article has a kind")
        .to_string();
    common::edit_keeping_mtime(&page, &kind, &format!("kinx{}", &kind[4..]));
    refused_as_cold(&d, &id, "front matter");
    repaired(&d, &id);
}

#[test]
fn a_linked_page_deleted_or_a_broken_page_added_is_refused() {
    let (d, id) = desk();
    std::fs::remove_file(
        d.root
            .join("kb/articles/comite-de-cambios-y-cotizaciones.md"),
    )
    .unwrap();
    refused_as_cold(&d, &id, "link target deleted");
    repaired(&d, &id);
    std::fs::write(
        d.root.join("kb/articles/zz-nuevo.md"),
        "---\ntitle: Nuevo\nkind: article\n---\nSin resumen ni categoría.\n",
    )
    .unwrap();
    refused_as_cold(&d, &id, "a broken article added");
    repaired(&d, &id);
    // A page in a new folder, linked to from nowhere, and then a link to it: the links of a
    // page may lead to any `*.md` file under kb/.
    std::fs::create_dir_all(d.root.join("kb/extra")).unwrap();
    std::fs::write(d.root.join("kb/extra/nota.md"), "nota\n").unwrap();
    let page = d.root.join("kb/articles/roles.md");
    let text = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, format!("{text}\n[Nota](../extra/nota.md)\n")).unwrap();
    d.ok(T1, &["comment", &id, "--text", "the link leads to a file"]);
    std::fs::remove_file(d.root.join("kb/extra/nota.md")).unwrap();
    refused_as_cold(&d, &id, "the target outside the three folders deleted");
    repaired(&d, &id);
}

#[cfg(unix)]
#[test]
fn a_link_leaving_the_desk_is_refused() {
    let (d, id) = desk();
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        outside.path(),
        "---\ntitle: Fuera\nkind: article\ncategory: x\nsummary: y\n---\nTexto.\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(outside.path(), d.root.join("kb/articles/fuera.md")).unwrap();
    refused_as_cold(&d, &id, "a symbolic link out of the desk");
    repaired(&d, &id);
}

#[test]
fn desk_yaml_edited_against_the_knowledge_base_is_refused() {
    let (d, id) = desk();
    // A catalog entry names a calendar of desk.yaml: renamed there, the entry is broken.
    let catalog = std::fs::read_to_string(d.root.join("kb/catalog/crear-reporte.md")).unwrap();
    let cal = catalog
        .lines()
        .find_map(|l| l.strip_prefix("calendar:"))
        .expect("a catalog entry names its calendar")
        .trim()
        .to_string();
    let renamed = format!("{}q", &cal[..cal.len() - 1]);
    common::edit_keeping_mtime(
        &d.root.join("desk.yaml"),
        &format!("id: {cal}\n"),
        &format!("id: {renamed}\n"),
    );
    refused_as_cold(&d, &id, "a calendar renamed in desk.yaml");
    repaired(&d, &id);
}

#[test]
fn a_corrupt_or_foreign_cache_is_rebuilt() {
    let (d, id) = desk();
    let path = cache_file(&d.root);
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    d.ok(T1, &["comment", &id, "--text", "corrupt cache"]);
    assert_ne!(std::fs::read(&path).unwrap(), bytes, "rebuilt");
    std::fs::write(&path, b"not a cache").unwrap();
    d.ok(T1, &["comment", &id, "--text", "foreign cache"]);
    assert!(std::fs::read(&path).unwrap().starts_with(b"MESAKB"));
    assert_eq!(d.status(), "");
}

/// The holiday file a calendar names is part of what a kept verdict was made with, read as
/// the desk reads it: swapped for a link to the same text outside the desk, it is refused
/// (a cold run refuses it; the cache's key must not follow the link and find the old text).
#[cfg(unix)]
#[test]
fn a_holiday_file_swapped_for_a_link_out_of_the_desk_is_refused() {
    let d = TestDesk::new();
    let ics = common::ANNIVERSARY_ICS;
    common::add_holiday_file(&d.root, ics);
    git(&d.root, &["add", "-A"]);
    git(&d.root, &["commit", "-qm", "holiday file"]);
    let id = d.new_ticket(T0, &[]);
    d.ok(T0, &["comment", &id, "--text", "warm"]);
    assert!(cache_file(&d.root).is_file());
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(outside.path(), ics).unwrap();
    std::fs::remove_file(d.root.join("cierres.ics")).unwrap();
    std::os::unix::fs::symlink(outside.path(), d.root.join("cierres.ics")).unwrap();
    refused_as_cold(&d, &id, "the holiday file behind a link out of the desk");
    repaired(&d, &id);
}
