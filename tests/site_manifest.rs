//! `mesa build` as a fresh process, with the build manifest kept in the git directory
//! (`mesa::output::site::manifest`): after a change, every file of the output folder must be
//! byte for byte what a clean full build of the same desk writes into a fresh folder, whether
//! the build patched the site (one ticket, one article body) or fell back to a full one
//! (anything global, a tampered output folder, a corrupt manifest, another commit checked
//! out). The real binary builds; the reference is the library's full build at the same
//! instant.

mod common;

#[allow(dead_code)]
#[path = "../examples/gen_desk.rs"]
mod gen_desk;

use common::git::git;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const NOW: &str = "2026-11-26T10:00:00-05:00";

fn mesa(root: &Path, args: &[&str]) -> std::process::Output {
    mesa_at(root, NOW, args)
}

fn mesa_at(root: &Path, now: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(root)
        .args(["--now", now])
        .args(args)
        .env("MESA_AGENT", "lmartinez")
        .env_remove("MESA_DESK")
        .env_remove("MESA_NOW")
        .env_remove("MESA_LANG")
        .output()
        .expect("mesa runs")
}

fn ok(root: &Path, args: &[&str]) -> String {
    ok_at(root, NOW, args)
}

fn ok_at(root: &Path, now: &str, args: &[&str]) -> String {
    let out = mesa_at(root, now, args);
    assert!(
        out.status.success(),
        "mesa {args:?} ({:?}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `mesa build --out DIR` through the binary: (incremental?, pages rendered).
fn build(root: &Path, out: &str) -> (bool, u64) {
    build_at(root, out, NOW)
}

/// [`build`] at another instant.
fn build_at(root: &Path, out: &str, now: &str) -> (bool, u64) {
    let out = root.join(out);
    let text = ok_at(
        root,
        now,
        &["--format", "json", "build", "--out", out.to_str().unwrap()],
    );
    let v: serde_json::Value = serde_json::from_str(text.trim()).expect("json summary");
    (
        v["incremental"].as_bool().expect("incremental"),
        v["pages"].as_u64().expect("pages"),
    )
}

/// (modification time, inode) of every file: what a write changes.
fn stamps(dir: &Path) -> BTreeMap<String, (std::time::SystemTime, u64)> {
    use std::os::unix::fs::MetadataExt;
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let m = e.metadata().unwrap();
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, (m.modified().unwrap(), m.ino()))
        })
        .collect()
}

/// The files whose bytes were written since `before`.
fn written(dir: &Path, before: &BTreeMap<String, (std::time::SystemTime, u64)>) -> Vec<String> {
    stamps(dir)
        .into_iter()
        .filter(|(k, v)| before.get(k) != Some(v))
        .map(|(k, _)| k)
        .collect()
}

/// A clean full build of the desk as it is now into a fresh folder, compared file by file.
fn assert_same_as_full(root: &Path, site: &Path, step: &str) {
    assert_same_as_full_at(root, site, step, NOW)
}

/// [`assert_same_as_full`] at another instant.
fn assert_same_as_full_at(root: &Path, site: &Path, step: &str, now: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let full = tmp.path().join("full");
    let opts = mesa::output::site::BuildOptions {
        public: false,
        progress: None,
        now: Some(chrono::DateTime::parse_from_rfc3339(now).unwrap().into()),
        live_reload: false,
    };
    mesa::output::site::build(root, &full, &opts).expect("full build");
    common::site::assert_same_files(site, &full, step);
}

fn append(path: &Path, text: &str) {
    let mut t = std::fs::read_to_string(path).unwrap();
    t.push_str(text);
    std::fs::write(path, t).unwrap();
}

/// The first stylesheet under the desk's theme/.
fn stylesheet(root: &Path) -> PathBuf {
    walkdir::WalkDir::new(root.join("theme"))
        .into_iter()
        .filter_map(|e| e.ok())
        .find(|e| e.path().extension().is_some_and(|x| x == "css"))
        .expect("a stylesheet")
        .into_path()
}

fn manifest_file(root: &Path) -> PathBuf {
    root.join(".git/mesa/site.bin")
}

#[test]
fn a_fresh_build_after_one_ticket_or_article_writes_only_what_depends_on_it() {
    let (_tmp, root) = common::site::sample_git_desk("/outbox/\n/_site/\n/_other/\n/_public/\n");
    let site = root.join("_site");
    let (incremental, all) = build(&root, "_site");
    assert!(!incremental, "the first build is full");
    assert!(all > 50, "a real site: {all} pages");
    assert!(
        manifest_file(&root).is_file(),
        "the manifest is kept in .git/mesa/"
    );

    // Nothing changed: nothing to render.
    let (incremental, pages) = build(&root, "_site");
    assert!(incremental);
    assert_eq!(pages, 0, "an unchanged desk renders no page");
    assert_same_as_full(&root, &site, "an unchanged desk");

    // (a) One ticket's body edited by hand.
    let before = stamps(&site);
    let edited = common::site::ticket_file(&root, "261116-B3X03");
    append(
        &edited,
        "\nNota añadida a mano: el huellero del piso 3 volvió a fallar.\n",
    );
    let (incremental, pages) = build(&root, "_site");
    assert!(incremental, "one ticket edited: incremental");
    assert!(pages < all / 4, "rendered {pages} of {all} pages");
    let w = written(&site, &before);
    assert!(
        w.contains(&"tickets/2026/11/261116-B3X03.html".to_string()),
        "its page was rewritten: {w:?}"
    );
    // Only what shows the ticket: its page, the ticket lists, the reports and search files.
    for f in &w {
        let expected = f == "tickets/2026/11/261116-B3X03.html"
            || (f.starts_with("tickets/") && !f.contains("/2026/"))
            || f.starts_with("reports/")
            || f.starts_with("search/t/");
        assert!(expected, "{f} was written after one ticket's edit ({w:?})");
    }
    assert_same_as_full(&root, &site, "one ticket edited");

    // The same, through the real `mesa comment` (a new commit that does not touch kb/).
    ok(
        &root,
        &[
            "comment",
            "261123-C0WE5",
            "--text",
            "Llamé al cliente: fotografía recibida.",
        ],
    );
    let (incremental, _) = build(&root, "_site");
    assert!(incremental, "a ticket commit keeps the build incremental");
    assert_same_as_full(&root, &site, "mesa comment");

    // (b) One article's body edited: its page and the page search index only.
    let before = stamps(&site);
    let article = root.join("kb/articles/capacitacion-captura-biometrica.md");
    append(
        &article,
        "\nSi el lector sigue sin responder, pruebe con el puerto USB trasero.\n",
    );
    let (incremental, pages) = build(&root, "_site");
    assert!(incremental, "an article body edited: incremental");
    assert_eq!(pages, 1, "only the article's page is rendered");
    let mut w = written(&site, &before);
    w.sort();
    assert_eq!(
        w,
        [
            "kb/articles/capacitacion-captura-biometrica.html",
            "search/pages.js"
        ],
        "only the article's page and the page index are written"
    );
    assert_same_as_full(&root, &site, "an article body edited");

    // (c) The article's front matter: other pages list it differently, a full build.
    let text = std::fs::read_to_string(&article).unwrap();
    let retitled = text.replacen("title: \"", "title: \"Revisado: ", 1);
    assert_ne!(retitled, text);
    std::fs::write(&article, retitled).unwrap();
    let (incremental, pages) = build(&root, "_site");
    assert!(
        !incremental,
        "a retitled article: full build ({pages} pages)"
    );
    assert_same_as_full(&root, &site, "an article retitled");

    // (d) A ticket deleted, then one added through the real binary.
    std::fs::remove_file(common::site::ticket_file(&root, "261102-C4K7P")).unwrap();
    build(&root, "_site");
    assert!(!site.join("tickets/2026/11/261102-C4K7P.html").exists());
    assert_same_as_full(&root, &site, "a ticket deleted");
    ok(
        &root,
        &[
            "new",
            "--customer",
            "hospital-san-rafael",
            "--title",
            "Impresora de fotografías sin conexión",
            "--requester",
            "Hernán Darío Quintero",
            "--channel",
            "email",
            "--description",
            "La impresora de fotografías del consultorio 2 no responde.",
        ],
    );
    build(&root, "_site");
    assert_same_as_full(&root, &site, "a ticket added");

    // (i) An edit of the same size with the modification time put back: the change time
    // still moved, so the ticket is rendered again.
    let edited = common::site::ticket_file(&root, "261116-B3X03");
    common::edit_keeping_mtime(&edited, "piso 3", "piso 4");
    let (incremental, _) = build(&root, "_site");
    assert!(incremental);
    let page = std::fs::read_to_string(site.join("tickets/2026/11/261116-B3X03.html")).unwrap();
    assert!(
        page.contains("piso 4"),
        "the edit with its mtime put back is on the page"
    );
    assert_same_as_full(&root, &site, "an edit with its mtime preserved");

    // A public build never holds internal data, whatever the manifest says.
    let public = root.join("_public");
    ok(
        &root,
        &["build", "--public", "--out", public.to_str().unwrap()],
    );
    assert!(
        !root.join("_public/tickets").exists(),
        "no ticket pages in public"
    );
    assert!(
        !root.join("_public/reports").exists(),
        "no reports in public"
    );
    // And the internal build after it is a full one (the manifest went with the public build).
    let (incremental, _) = build(&root, "_site");
    assert!(!incremental);
    assert_same_as_full(&root, &site, "an internal build after a public one");
}

#[test]
fn global_changes_tampering_and_other_commits_build_in_full() {
    let (_tmp, root) = common::site::sample_git_desk("/outbox/\n/_site/\n/_other/\n/_public/\n");
    let site = root.join("_site");
    build(&root, "_site");

    // (e) desk.yaml changed.
    let desk = root.join("desk.yaml");
    let text = std::fs::read_to_string(&desk).unwrap();
    let renamed = text.replacen("name: ", "name: Nueva ", 1);
    assert_ne!(renamed, text);
    std::fs::write(&desk, renamed).unwrap();
    let (incremental, _) = build(&root, "_site");
    assert!(!incremental, "desk.yaml changed: full build");
    assert_same_as_full(&root, &site, "desk.yaml changed");

    // (e) A theme file changed.
    let css = stylesheet(&root);
    append(&css, "\n/* retocado */\n");
    let (incremental, _) = build(&root, "_site");
    assert!(!incremental, "the theme changed: full build");
    assert_same_as_full(&root, &site, "the theme changed");

    // (f) A page edited by hand, a stray file, a page removed: full builds that restore it.
    let page = site.join("tickets/index.html");
    append(&page, "<!-- a mano -->");
    let (incremental, _) = build(&root, "_site");
    assert!(!incremental, "a page edited by hand: full build");
    assert_same_as_full(&root, &site, "a page edited by hand");
    std::fs::write(site.join("extra.html"), "hola").unwrap();
    let (incremental, _) = build(&root, "_site");
    assert!(!incremental, "a stray file: full build");
    assert!(!site.join("extra.html").exists());
    assert_same_as_full(&root, &site, "a stray file");
    std::fs::remove_file(site.join("tickets/index.html")).unwrap();
    let (incremental, _) = build(&root, "_site");
    assert!(!incremental, "a page removed: full build");
    assert_same_as_full(&root, &site, "a page removed");
    // Another output folder, then back: each is a full build.
    let (incremental, _) = build(&root, "_other");
    assert!(!incremental, "another --out: full build");
    append(
        &common::site::ticket_file(&root, "261116-B3X03"),
        "\nOtra nota.\n",
    );
    let (incremental, _) = build(&root, "_site");
    assert!(!incremental, "back to _site: full build");
    assert_same_as_full(&root, &site, "another --out in between");

    // (g) A corrupt or truncated manifest: ignored, a full build, and written again.
    let file = manifest_file(&root);
    let bytes = std::fs::read(&file).unwrap();
    let mut corrupt = bytes.clone();
    let mid = corrupt.len() / 2;
    corrupt[mid] ^= 0x5a;
    std::fs::write(&file, &corrupt).unwrap();
    append(
        &common::site::ticket_file(&root, "261116-B3X03"),
        "\nTercera nota.\n",
    );
    let (incremental, _) = build(&root, "_site");
    assert!(!incremental, "a corrupt manifest: full build");
    assert_same_as_full(&root, &site, "a corrupt manifest");
    std::fs::write(&file, &bytes[..bytes.len() / 3]).unwrap();
    let (incremental, _) = build(&root, "_site");
    assert!(!incremental, "a truncated manifest: full build");
    assert_same_as_full(&root, &site, "a truncated manifest");
    std::fs::write(&file, b"not a manifest").unwrap();
    let (incremental, _) = build(&root, "_site");
    assert!(!incremental);
    let (incremental, _) = build(&root, "_site");
    assert!(incremental, "written again after a full build");

    // (h) A commit that changes an article (its "last updated" line moves), then a checkout
    // of the commit before it: each gives what a full build gives.
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "notas"]);
    let (incremental, _) = build(&root, "_site");
    assert!(incremental, "a commit that does not touch kb/: incremental");
    assert_same_as_full(&root, &site, "a commit of ticket notes");
    let article = root.join("kb/articles/roles.md");
    append(&article, "\nVer también la matriz de escalamiento.\n");
    git(&root, &["add", "-A"]);
    git(
        &root,
        &[
            "-c",
            "user.name=Otra Persona",
            "commit",
            "-q",
            "-m",
            "roles",
        ],
    );
    let (incremental, _) = build(&root, "_site");
    assert!(!incremental, "a commit that touches kb/: full build");
    assert_same_as_full(&root, &site, "a commit to kb/");
    git(&root, &["checkout", "-q", "HEAD~2"]);
    let (incremental, _) = build(&root, "_site");
    assert!(!incremental, "an older commit checked out: full build");
    assert_same_as_full(&root, &site, "an older commit checked out");
    git(&root, &["checkout", "-q", "main"]);
    build(&root, "_site");
    assert_same_as_full(&root, &site, "back to main");
}

/// A theme file swapped for a link out of the desk, with the very same text behind it: the
/// build refuses it as a build into a new folder does (the manifest's stamp reads the file as
/// the build does, so it cannot stand in for the refused file), and once the file is put back
/// the next build equals a full one.
#[test]
fn a_theme_file_behind_a_link_out_of_the_desk_is_refused_despite_the_manifest() {
    let (_tmp, root) = common::site::sample_git_desk("/outbox/\n/_site/\n/_new/\n");
    let site = root.join("_site");
    build(&root, "_site");
    let css = stylesheet(&root);
    let text = std::fs::read(&css).unwrap();
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(outside.path(), &text).unwrap();
    std::fs::remove_file(&css).unwrap();
    std::os::unix::fs::symlink(outside.path(), &css).unwrap();
    let kept = mesa(&root, &["build", "--out", site.to_str().unwrap()]);
    let fresh = mesa(
        &root,
        &["build", "--out", root.join("_new").to_str().unwrap()],
    );
    assert!(!kept.status.success(), "the build refuses the link");
    assert!(!fresh.status.success());
    // The diagnostics, without the progress lines (their order varies between the cores).
    let diagnostics = |out: &std::process::Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.starts_with("mesa build: "))
            .map(str::to_string)
            .collect()
    };
    let said = diagnostics(&kept);
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(
        said[0].contains("style.css:1:1: enlace simbólico que sale de la mesa"),
        "{said:?}"
    );
    assert_eq!(said, diagnostics(&fresh));
    std::fs::remove_file(&css).unwrap();
    std::fs::write(&css, &text).unwrap();
    build(&root, "_site");
    assert_same_as_full(&root, &site, "the stylesheet put back");
}

/// An incremental build keeps the clocks of the last full build (as `mesa serve` does): an
/// explicit `--now` must be that same instant, or the build is a full one at the new instant.
#[test]
fn another_instant_is_a_full_build() {
    let (_tmp, root) = common::site::sample_git_desk("/outbox/\n/_site/\n/_other/\n/_public/\n");
    build(&root, "_site");
    append(
        &common::site::ticket_file(&root, "261116-B3X03"),
        "\nNota.\n",
    );
    let later = "2026-11-26T10:05:00-05:00";
    let site = root.join("_site");
    let out = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(&root)
        .args(["--now", later, "--format", "json", "build", "--out"])
        .arg(&site)
        .env_remove("MESA_DESK")
        .env_remove("MESA_NOW")
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["incremental"], false, "another --now: full build");
    let page = std::fs::read_to_string(site.join("reports/index.html")).unwrap();
    assert!(
        page.contains("10:05"),
        "the reports are as of the new instant"
    );
}

fn delta_file(root: &Path) -> PathBuf {
    root.join(".git/mesa/site.delta")
}

/// Section `k` of the full record (offset, length), read from its table: magic (8), format
/// (4), stamp (8), id (8), count (4), then 24 bytes per section.
fn section(bytes: &[u8], k: usize) -> (usize, usize) {
    let at = 32 + k * 24;
    let word = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap()) as usize;
    (word(at), word(at + 8))
}

/// Incremental builds one after another: the full record is written once by the full build
/// and never again, each incremental build rewrites only the delta (which carries every
/// patch since); a lost, truncated or foreign delta, and a corrupt section of the full
/// record, are never trusted over the files.
#[test]
fn a_series_of_edits_keeps_the_full_record_and_patches_a_delta() {
    use std::os::unix::fs::MetadataExt;
    let (_tmp, root) = common::site::sample_git_desk("/outbox/\n/_site/\n");
    let site = root.join("_site");
    build(&root, "_site");
    let record = std::fs::metadata(manifest_file(&root)).unwrap();
    let record_id = (record.ino(), record.mtime_nsec(), record.mtime());
    let same_record = |step: &str| {
        let m = std::fs::metadata(manifest_file(&root)).unwrap();
        assert_eq!(
            (m.ino(), m.mtime_nsec(), m.mtime()),
            record_id,
            "{step}: the full record is not rewritten"
        );
    };

    // Ticket, article, another ticket, the first one again (its patch is in the delta).
    let first = common::site::ticket_file(&root, "261116-B3X03");
    let second = common::site::ticket_file(&root, "261123-C0WE5");
    let article = root.join("kb/articles/capacitacion-captura-biometrica.md");
    let steps: [(&Path, &str); 4] = [
        (&first, "\nPrimera nota de la serie: huellero revisado.\n"),
        (&article, "\nUn párrafo nuevo sobre la captura en campo.\n"),
        (&second, "\nSegunda nota de la serie: zanahoria.\n"),
        (&first, "\nTercera nota de la serie: calabaza.\n"),
    ];
    for (i, (file, text)) in steps.iter().enumerate() {
        append(file, text);
        let (incremental, pages) = build(&root, "_site");
        assert!(incremental, "step {i}: incremental ({pages} pages)");
        assert!(delta_file(&root).is_file(), "step {i}: a delta is kept");
        same_record(&format!("step {i}"));
        assert_same_as_full(&root, &site, &format!("edit {i} of a series"));
    }
    let page = std::fs::read_to_string(site.join("tickets/2026/11/261116-B3X03.html")).unwrap();
    assert!(page.contains("huellero revisado") && page.contains("calabaza"));

    // The same ticket edited again with its size kept and its mtime put back: its stat in the
    // delta still differs (the change time), so it is rendered again.
    common::edit_keeping_mtime(&first, "calabaza", "calabazo");
    let (incremental, _) = build(&root, "_site");
    assert!(incremental);
    let page = std::fs::read_to_string(site.join("tickets/2026/11/261116-B3X03.html")).unwrap();
    assert!(
        page.contains("calabazo"),
        "the mtime-preserved edit is on the page"
    );
    assert_same_as_full(&root, &site, "an mtime-preserved edit after a delta");

    // A build killed before it wrote its delta (or whose delta was cut short): the pages the
    // earlier incremental builds patched contradict the full record, so a full build.
    for (what, truncate) in [("a lost delta", false), ("a truncated delta", true)] {
        append(&first, &format!("\nNota antes de {what}.\n"));
        assert!(
            build(&root, "_site").0,
            "{what}: an incremental build first"
        );
        let delta = std::fs::read(delta_file(&root)).unwrap();
        if truncate {
            std::fs::write(delta_file(&root), &delta[..delta.len() / 2]).unwrap();
        } else {
            std::fs::remove_file(delta_file(&root)).unwrap();
        }
        append(&second, &format!("\nNota tras {what}.\n"));
        let (incremental, _) = build(&root, "_site");
        assert!(!incremental, "{what}: full build");
        assert_same_as_full(&root, &site, what);
    }

    // A delta of another full record (kept from before the last full build) is ignored.
    append(&second, "\nOtra nota más.\n");
    assert!(build(&root, "_site").0);
    let old_delta = std::fs::read(delta_file(&root)).unwrap();
    std::fs::write(root.join("desk.yaml"), {
        let t = std::fs::read_to_string(root.join("desk.yaml")).unwrap();
        t.replacen("name: ", "name: Otra ", 1)
    })
    .unwrap();
    assert!(!build(&root, "_site").0, "desk.yaml changed: full build");
    std::fs::write(delta_file(&root), &old_delta).unwrap();
    append(&first, "\nNota con un delta ajeno.\n");
    build(&root, "_site");
    assert_same_as_full(&root, &site, "a foreign delta");

    // A corrupt section: the rows (read for a ticket edit) make a ticket edit a full build;
    // the page index (read only for an article edit) leaves a ticket edit incremental and
    // makes an article edit a full build.
    build(&root, "_site");
    let bytes = std::fs::read(manifest_file(&root)).unwrap();
    let corrupt = |k: usize| {
        let (off, len) = section(&bytes, k);
        assert!(len > 2, "section {k} has bytes");
        let mut b = bytes.clone();
        b[off + len / 2] ^= 0x5a;
        std::fs::write(manifest_file(&root), b).unwrap();
    };
    const ROWS: usize = 7;
    const PAGES: usize = 11;
    corrupt(ROWS);
    append(&first, "\nNota con las filas dañadas.\n");
    let (incremental, _) = build(&root, "_site");
    assert!(!incremental, "a corrupt rows section: full build");
    assert_same_as_full(&root, &site, "a corrupt rows section");
    let bytes = std::fs::read(manifest_file(&root)).unwrap();
    let (off, len) = section(&bytes, PAGES);
    let mut b = bytes.clone();
    b[off + len / 2] ^= 0x5a;
    std::fs::write(manifest_file(&root), b).unwrap();
    append(&first, "\nNota con el índice de páginas dañado.\n");
    let (incremental, _) = build(&root, "_site");
    assert!(incremental, "a ticket edit does not read the page index");
    assert_same_as_full(&root, &site, "a ticket edit beside a corrupt page index");
    append(&article, "\nOtro párrafo.\n");
    let (incremental, _) = build(&root, "_site");
    assert!(
        !incremental,
        "an article edit reads the corrupt page index: full build"
    );
    assert_same_as_full(&root, &site, "an article edit beside a corrupt page index");
}

/// A ticket edit reads its own records of the full record (row, facts, citations...) and the
/// rows of its month, not every ticket's: edits made every way a file can change (by hand with
/// its mtime put back, by `git checkout`, by a merge, by a step that closes a case and so
/// moves it off the open list and changes the reports), one after another so that later ones
/// read records the delta patched, each compared with a full build.
#[test]
fn per_ticket_records_after_edits_by_hand_checkout_merge_and_close() {
    let (_tmp, root) = common::site::sample_git_desk("/outbox/\n/_site/\n");
    let site = root.join("_site");
    let (incremental, _) = build(&root, "_site");
    assert!(!incremental);
    let step = |what: &str| {
        let (incremental, _) = build(&root, "_site");
        assert!(incremental, "{what}: incremental");
        assert_same_as_full(&root, &site, what);
    };

    // An open ticket closed by a step: the open list and the reports move.
    ok(
        &root,
        &[
            "close",
            "261123-C0WE5",
            "--reason",
            "mutual_agreement",
            "--note",
            "El cliente confirmó por teléfono.",
        ],
    );
    step("an open ticket closed");

    // Another ticket of the same month by hand, its mtime put back: its month's rows are
    // read beside the closed one's patched row.
    let second = common::site::ticket_file(&root, "261116-B3X03");
    common::edit_keeping_mtime(&second, "Nuevo reporte", "Nuevo informe");
    step("an edit with its mtime put back");
    let page = std::fs::read_to_string(site.join("tickets/2026-11.html")).unwrap();
    assert!(
        page.contains("Nuevo informe"),
        "the month's list shows the edit"
    );

    // A ticket of another month, through a commit and then `git checkout` of its old version.
    let october = common::site::ticket_file(&root, "261027-DA2TJ");
    ok(
        &root,
        &["comment", "261027-DA2TJ", "--text", "Revisado el cableado."],
    );
    step("a comment in another month");
    git(
        &root,
        &["checkout", "HEAD~1", "--", october.to_str().unwrap()],
    );
    step("a ticket checked out at its previous commit");
    git(
        &root,
        &["checkout", "HEAD", "--", october.to_str().unwrap()],
    );
    step("the ticket checked out again");

    // A merge: a branch comments on one ticket, main on another, then main merges the branch.
    git(&root, &["checkout", "-q", "-b", "other"]);
    ok(
        &root,
        &["comment", "261110-DA82C", "--text", "Desde la otra rama."],
    );
    git(&root, &["checkout", "-q", "main"]);
    step("back on main");
    ok(
        &root,
        &[
            "comment",
            "261112-DA232",
            "--text",
            "Desde la rama principal.",
        ],
    );
    step("a comment on main");
    git(
        &root,
        &[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "merge",
            "-q",
            "--no-edit",
            "other",
        ],
    );
    step("a merge that changes one ticket");
    let page = std::fs::read_to_string(site.join("tickets/2026/11/261110-DA82C.html")).unwrap();
    assert!(
        page.contains("Desde la otra rama."),
        "the merged comment is on the page"
    );
}

/// A generated desk of `tickets` tickets and three articles at `root`, committed, with the
/// site's and the outbox's folders ignored (the desks the larger manifest tests start from).
fn generated_desk(root: &Path, tickets: usize, seed: u64) {
    gen_desk::run(gen_desk::Args {
        tickets,
        out: root.to_path_buf(),
        articles: 3,
        seed,
        from: common::sample_root(),
        force: false,
    })
    .expect("gen_desk");
    std::fs::write(root.join(".gitignore"), "/outbox/\n/_site/\n").unwrap();
    common::git::init_committed(root);
}

/// The search postings kept by ranges of documents and patched into the site's term files
/// (`search/t/`), on a generated desk of three ranges: edits in the first and the last, short
/// range that add terms (a new word, new term files) and take them away again (their files
/// go), a ticket moved to another month, then a corrupt range, a corrupt table of term groups,
/// a manifest of the older format and a build killed before its delta: each step byte for
/// byte a full build, the broken ones by building in full.
#[test]
fn sharded_postings_follow_edits_and_are_never_trusted_broken() {
    const LATER: &str = "2026-12-01T10:00:00-05:00";
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("desk");
    generated_desk(&root, 2_100, 7);
    let site = root.join("_site");
    assert!(
        !build_at(&root, "_site", LATER).0,
        "the first build is full"
    );
    let mut tickets: Vec<PathBuf> = walkdir::WalkDir::new(root.join("tickets"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    tickets.sort();
    assert_eq!(tickets.len(), 2_100);
    let (first, last) = (tickets[3].clone(), tickets[2_090].clone());
    let step = |what: &str, incremental: bool| {
        let (inc, _) = build_at(&root, "_site", LATER);
        assert_eq!(inc, incremental, "{what}: incremental {incremental}");
        assert_same_as_full_at(&root, &site, what, LATER);
    };
    let term_files = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(site.join("search/t"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let before = term_files();

    // New words (new terms, a new two-letter term file "qx") in the first and the last range.
    let original_first = std::fs::read_to_string(&first).unwrap();
    let original_last = std::fs::read_to_string(&last).unwrap();
    append(&first, "\nQxzanahoria y qxcalabaza en la sede.\n");
    step("new words in the first range", true);
    append(&last, "\nQxzanahoria otra vez, y huellero.\n");
    step("new words in the last range", true);
    assert!(
        term_files().contains(&"qx.js".to_string()),
        "a new term file"
    );
    // Taken away again: the term file of the words goes.
    std::fs::write(&first, &original_first).unwrap();
    step("the first edit undone", true);
    std::fs::write(&last, &original_last).unwrap();
    step("the last edit undone", true);
    assert_eq!(term_files(), before, "the same term files as at first");

    // A ticket moved to another month (its creation a month earlier).
    // (A day of the month that the month before has too.)
    let created_of = |p: &Path| {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("- at: "))
            .expect("an event")
            .to_string()
    };
    let moved = (1_500..)
        .find(|&k| created_of(&tickets[k])[8..10] <= *"28")
        .unwrap();
    let text = std::fs::read_to_string(&tickets[moved]).unwrap();
    let created = created_of(&tickets[moved]);
    let (year, rest) = created.split_at(4);
    let month: u32 = rest[1..3].parse().unwrap();
    let earlier = if month > 1 {
        format!("{year}-{:02}{}", month - 1, &rest[3..])
    } else {
        format!("{}-12{}", year.parse::<u32>().unwrap() - 1, &rest[3..])
    };
    // Its file moves to that month's folder (the check requires it): a ticket removed and
    // one added, so a full build.
    let name = tickets[moved].file_name().unwrap().to_owned();
    let folder = root
        .join("tickets")
        .join(&earlier[..4])
        .join(&earlier[5..7]);
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join(name), text.replacen(&created, &earlier, 1)).unwrap();
    std::fs::remove_file(&tickets[moved]).unwrap();
    step("a ticket moved to the month before", false);
    append(&first, "\nNota tras la mudanza.\n");
    step("an edit after the move", true);

    // A corrupt range of the postings by documents: a ticket edit there builds in full.
    let bytes = std::fs::read(manifest_file(&root)).unwrap();
    const TERMS: usize = 9;
    const GROUPS: usize = 13;
    let (off, len) = section(&bytes, TERMS);
    let mut b = bytes.clone();
    b[off + len - 5] ^= 0x5a;
    std::fs::write(manifest_file(&root), b).unwrap();
    append(&last, "\nNota con los términos dañados.\n");
    step("a corrupt range of the postings", false);

    // A corrupt table of term groups.
    let bytes = std::fs::read(manifest_file(&root)).unwrap();
    let (off, len) = section(&bytes, GROUPS);
    let mut b = bytes.clone();
    b[off + len / 2] ^= 0x5a;
    std::fs::write(manifest_file(&root), b).unwrap();
    append(&first, "\nNota con los grupos dañados.\n");
    step("a corrupt table of term groups", false);

    // A manifest of the older format (4): never read, a full build writes the new one.
    let mut bytes = std::fs::read(manifest_file(&root)).unwrap();
    bytes[8..12].copy_from_slice(&4u32.to_le_bytes());
    std::fs::write(manifest_file(&root), bytes).unwrap();
    append(&first, "\nNota con un manifiesto antiguo.\n");
    step("a manifest of the older format", false);
    append(&first, "\nNota tras el manifiesto nuevo.\n");
    step("after it", true);

    // A build killed after it wrote its term files but before its delta: the delta of the
    // build before it is found beside files it does not describe, so a full build.
    let old_delta = std::fs::read(delta_file(&root)).unwrap();
    append(&last, "\nQxmandarina antes de interrumpir.\n");
    step("an edit before the kill", true);
    std::fs::write(delta_file(&root), &old_delta).unwrap();
    append(&first, "\nNota tras la interrupción.\n");
    step("the build after a killed one", false);
}

/// The folders a build into `<name>` writes aside beside it (`.<name>.mesa-new-<pid>`).
fn aside_folders(parent: &Path, name: &str) -> Vec<PathBuf> {
    let prefix = format!(".{name}.mesa-new-");
    let mut v: Vec<PathBuf> = std::fs::read_dir(parent)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// After a build into a folder that did not exist, the build manifest records the files it
/// wrote with the stat each had once written (no scan of the folder): that record is the folder (the next build is incremental and writes
/// nothing), and a page changed behind its back afterwards, even with the same size and
/// modification time, or a file added, is caught (a full build restores the site).
#[test]
fn a_new_folders_record_is_what_the_build_wrote_and_is_never_trusted_over_it() {
    use std::os::unix::fs::MetadataExt;
    let (_tmp, root) = common::site::sample_git_desk("/outbox/\n/_a/\n/_b/\n/_c/\n");
    // The manifest describes the last full build's folder: each folder is new in its turn.
    let new_folder = |name: &str| -> PathBuf {
        assert!(!build(&root, name).0, "{name}: the first build is full");
        assert!(aside_folders(&root, name).is_empty(), "{name}: left aside");
        // The record is exactly the folder: nothing to do.
        assert_eq!(build(&root, name), (true, 0), "{name}: unchanged");
        root.join(name)
    };
    let a = new_folder("_a");
    assert_same_as_full(&root, &a, "a new folder");

    // _a, a ticket edited: incremental, as after a build in place.
    append(
        &common::site::ticket_file(&root, "261116-B3X03"),
        "\nOtra nota.\n",
    );
    assert!(build(&root, "_a").0, "a ticket edit after a new folder");
    assert_same_as_full(&root, &a, "a ticket edit after a new folder");

    // _b, a page rewritten by hand with the same size and its modification time put back:
    // its change time moved, so the record does not match it.
    let b = new_folder("_b");
    let page = b.join("tickets/index.html");
    let before = std::fs::metadata(&page).unwrap();
    let text = std::fs::read(&page).unwrap();
    let mut changed = text.clone();
    let at = changed.iter().position(|&c| c == b'<').unwrap();
    changed[at + 1] = if changed[at + 1] == b'x' { b'y' } else { b'x' };
    std::fs::write(&page, &changed).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&page)
        .unwrap()
        .set_modified(before.modified().unwrap())
        .unwrap();
    let after = std::fs::metadata(&page).unwrap();
    assert_eq!((after.len(), after.mtime()), (before.len(), before.mtime()));
    let (incremental, _) = build(&root, "_b");
    assert!(!incremental, "a page changed behind the record: full build");
    assert_eq!(std::fs::read(&page).unwrap(), text);
    assert_same_as_full(&root, &b, "a page changed behind the record");

    // _c, a file added: a full build, which removes it.
    let c = new_folder("_c");
    std::fs::write(c.join("tickets/extra.html"), "hola").unwrap();
    let (incremental, _) = build(&root, "_c");
    assert!(!incremental, "a file added behind the record: full build");
    assert!(!c.join("tickets/extra.html").exists());
    assert_same_as_full(&root, &c, "a file added behind the record");
}

/// A build into a new folder written aside (`MESA_SITE_CREATE=aside`) killed half-way leaves
/// no page under the folder's name (the site appears whole or not at all), and the next build
/// into it (the default way) removes what was left aside and writes the whole site.
#[test]
fn a_build_into_a_new_folder_killed_half_way_leaves_no_site_and_the_next_recovers() {
    const LATER: &str = "2026-12-01T10:00:00-05:00";
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("desk");
    generated_desk(&root, 3_000, 11);
    let site = root.join("_site");
    // The check before the build fills the facts cache, so the build itself starts at once.
    ok_at(&root, LATER, &["--quiet", "check"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(&root)
        .args(["--now", LATER, "--quiet", "build", "--out"])
        .arg(&site)
        .env("MESA_SITE_CREATE", "aside")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Killed once its folder aside holds its first ticket page (3,000 to go).
    let aside = loop {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the build ended ({status}) before any ticket page was written aside");
        }
        let found = aside_folders(&root, "_site").into_iter().find(|d| {
            std::fs::read_dir(d.join("tickets"))
                .into_iter()
                .flatten()
                .flatten()
                .any(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        });
        if let Some(d) = found {
            break d;
        }
        std::thread::yield_now();
    };
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the build was not killed: {status}");
    assert!(!site.exists(), "a killed build left a site under its name");
    assert!(
        aside.join(".mesa-site").is_file(),
        "the folder aside is mesa's"
    );
    // A folder aside of a live process (here this test's own) is another build's: kept.
    let live = root.join(format!(".{}.mesa-new-{}", "_site", std::process::id()));
    std::fs::create_dir(&live).unwrap();
    std::fs::write(live.join(".mesa-site"), "mesa build\n").unwrap();

    assert!(!build_at(&root, "_site", LATER).0, "the next build is full");
    assert!(
        !aside.exists(),
        "the killed build's folder aside is still there"
    );
    assert_eq!(aside_folders(&root, "_site"), vec![live]);
    assert_same_as_full_at(&root, &site, "after a killed build", LATER);
}
