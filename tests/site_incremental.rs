//! `mesa serve`'s incremental rebuild (`mesa::output::site::Session`): after a ticket changes (edited
//! by hand, or through the real `mesa comment` / `mesa confirm` commands in a real git repo),
//! the kept site is patched, and every file of it must be byte for byte what a fresh full build
//! of the same desk writes into another folder.

mod common;

use mesa::output::site::{BuildOptions, Session};
use std::path::Path;
use std::process::Command;

const NOW: &str = "2026-11-26T10:00:00-05:00";

fn opts() -> BuildOptions {
    BuildOptions {
        public: false,
        progress: None,
        now: Some(chrono::DateTime::parse_from_rfc3339(NOW).unwrap().into()),
        live_reload: false,
    }
}

fn mesa(root: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(root)
        .args(["--now", NOW])
        .args(args)
        .env("MESA_AGENT", "lmartinez")
        .env_remove("MESA_DESK")
        .env_remove("MESA_NOW")
        .output()
        .expect("mesa runs");
    assert!(
        out.status.success(),
        "mesa {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds the desk's current state in full into a fresh folder and compares every file.
fn assert_same_as_full(root: &Path, site: &Path, n: usize) {
    let full = root.join(format!("_full{n}"));
    mesa::output::site::build(root, &full, &opts()).expect("full build");
    common::site::assert_same_files(site, &full, &format!("change {n}"));
    std::fs::remove_dir_all(&full).unwrap();
}

#[test]
fn incremental_rebuild_matches_a_full_build_byte_for_byte() {
    let (_tmp, root) = common::site::sample_git_desk("/outbox/\n/_site/\n/_full*/\n");
    let site = root.join("_site");
    let (mut session, first) = Session::build(&root, &site, &opts()).expect("first build");
    assert!(first.pages > 50, "a real site: {} pages", first.pages);
    assert_same_as_full(&root, &site, 0);

    // 1. A ticket's body edited by hand (absolute path, as the file watcher reports it).
    let edited = common::site::ticket_file(&root, "261116-B3X03");
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text.push_str("\nNota añadida a mano: el huellero del piso 3 volvió a fallar.\n");
    std::fs::write(&edited, text).unwrap();
    let s = session
        .rebuild(std::slice::from_ref(&edited), &opts())
        .unwrap();
    // Incremental: its own page, the index pages showing it and the reports, not the site.
    assert!(
        s.pages < first.pages / 2,
        "incremental rebuild rendered {} of {} pages",
        s.pages,
        first.pages
    );
    assert!(s.changed >= 1, "the ticket page was rewritten");
    let page = std::fs::read_to_string(site.join("tickets/2026/11/261116-B3X03.html")).unwrap();
    assert!(
        page.contains("volvió a fallar"),
        "the new note is on the page"
    );
    assert_same_as_full(&root, &site, 1);

    // 2. A comment through the real binary (relative path, event list changed).
    mesa(
        &root,
        &[
            "comment",
            "261123-C0WE5",
            "--text",
            "Llamé al cliente: fotografía recibida.",
        ],
    );
    let rel = common::site::ticket_file(&root, "261123-C0WE5")
        .strip_prefix(&root)
        .unwrap()
        .to_path_buf();
    let s = session.rebuild(&[rel], &opts()).unwrap();
    assert!(s.pages < first.pages / 2, "incremental: {} pages", s.pages);
    assert_same_as_full(&root, &site, 2);

    // 3. The customer confirms a resolved ticket: it closes and leaves the open list, whose
    //    pages and counts change; its search terms change too.
    mesa(&root, &["confirm", "261125-DA8S9"]);
    let confirmed = common::site::ticket_file(&root, "261125-DA8S9");
    let s = session.rebuild(&[confirmed], &opts()).unwrap();
    assert!(s.pages < first.pages / 2, "incremental: {} pages", s.pages);
    assert_same_as_full(&root, &site, 3);

    // 4. Two tickets in one batch, plus a folder event and a temporary file that came and went.
    let a = common::site::ticket_file(&root, "261116-B3X03");
    let b = common::site::ticket_file(&root, "261123-C0WE5");
    for (p, note) in [(&a, "Segunda nota."), (&b, "Otra nota con pacientes.")] {
        let mut t = std::fs::read_to_string(p).unwrap();
        t.push_str(&format!("\n{note}\n"));
        std::fs::write(p, t).unwrap();
    }
    let gone = root.join("tickets/2026/11/borrador.md");
    session
        .rebuild(
            &[a.clone(), b, a.parent().unwrap().to_path_buf(), gone],
            &opts(),
        )
        .unwrap();
    assert_same_as_full(&root, &site, 4);
}

#[test]
fn changes_beyond_existing_tickets_fall_back_to_a_full_build() {
    let (_tmp, root) = common::site::sample_git_desk("/outbox/\n/_site/\n/_full*/\n");
    let site = root.join("_site");
    let (mut session, first) = Session::build(&root, &site, &opts()).expect("first build");

    // A new ticket through the real binary: a full build, and it is listed.
    let before = common::site::files(&site).len();
    mesa(
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
    let newest = walkdir::WalkDir::new(root.join("tickets"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .max_by_key(|e| e.metadata().unwrap().modified().unwrap())
        .unwrap()
        .into_path();
    let s = session.rebuild(&[newest], &opts()).unwrap();
    assert!(s.pages >= first.pages, "a full build: {} pages", s.pages);
    assert_eq!(
        common::site::files(&site).len(),
        before + 1,
        "the new ticket's page"
    );
    assert_same_as_full(&root, &site, 5);

    // A ticket that now cites an article changes that article's page: full build.
    let cited = common::site::ticket_file(&root, "261116-B3X03");
    let text = std::fs::read_to_string(&cited).unwrap();
    let article = std::fs::read_dir(root.join("kb/articles"))
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "md"))
        .unwrap();
    let id = article.file_stem().unwrap().to_string_lossy().into_owned();
    std::fs::write(
        &cited,
        text.replacen("\nevents:\n", &format!("\nkb:\n- {id}\nevents:\n"), 1),
    )
    .unwrap();
    let s = session.rebuild(&[cited], &opts()).unwrap();
    assert!(s.pages >= first.pages, "a full build: {} pages", s.pages);
    assert_same_as_full(&root, &site, 6);

    // desk.yaml: full build.
    let desk = root.join("desk.yaml");
    let text = std::fs::read_to_string(&desk).unwrap();
    std::fs::write(&desk, format!("{text}\n")).unwrap();
    let s = session.rebuild(&[desk], &opts()).unwrap();
    assert!(s.pages >= first.pages, "a full build: {} pages", s.pages);
    assert_same_as_full(&root, &site, 7);
}

/// An article whose body alone changed is rendered again with the search index of pages, not
/// the site; one whose title changed (other pages list it) is a full build. Both match a full
/// build byte for byte.
#[test]
fn an_article_body_edit_rewrites_its_page_and_the_page_index_only() {
    let (_tmp, root) = common::site::sample_git_desk("/outbox/\n/_site/\n/_full*/\n");
    let site = root.join("_site");
    let (mut session, first) = Session::build(&root, &site, &opts()).expect("first build");
    let article = root.join("kb/articles/capacitacion-captura-biometrica.md");
    let text = std::fs::read_to_string(&article).unwrap();
    std::fs::write(
        &article,
        format!("{text}\nSi el lector sigue sin responder, pruebe con el puerto USB trasero.\n"),
    )
    .unwrap();
    let s = session
        .rebuild(std::slice::from_ref(&article), &opts())
        .unwrap();
    assert_eq!(
        s.pages, 1,
        "only the article's own page is rendered (and search/pages.js written)"
    );
    let page =
        std::fs::read_to_string(site.join("kb/articles/capacitacion-captura-biometrica.html"))
            .unwrap();
    assert!(
        page.contains("puerto USB trasero"),
        "the new text is on the page"
    );
    let index = std::fs::read_to_string(site.join("search/pages.js")).unwrap();
    assert!(index.contains("\"trasero\""), "and in the search index");
    assert_same_as_full(&root, &site, 8);

    // A new title shows on the kb index, tag pages and citing tickets: a full build.
    let text = std::fs::read_to_string(&article).unwrap();
    let retitled = text.replacen("title: \"", "title: \"Revisado: ", 1);
    assert_ne!(retitled, text);
    std::fs::write(&article, retitled).unwrap();
    let s = session
        .rebuild(std::slice::from_ref(&article), &opts())
        .unwrap();
    assert!(s.pages >= first.pages, "a full build: {} pages", s.pages);
    assert_same_as_full(&root, &site, 9);
}

/// Incremental rebuilds keep the last full build's clocks; once those are over ten minutes
/// old, the next change rebuilds everything so SLA clocks and reports move on.
#[test]
fn stale_clocks_trigger_a_full_rebuild() {
    let (_tmp, root) = common::site::sample_git_desk("/outbox/\n/_site/\n/_full*/\n");
    let site = root.join("_site");
    let (mut session, first) = Session::build(&root, &site, &opts()).expect("first build");
    let edited = common::site::ticket_file(&root, "261102-C4K7P");
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, format!("{text}\nNota agregada a mano.\n")).unwrap();
    let soon = BuildOptions {
        now: opts().now.map(|n| n + chrono::Duration::minutes(5)),
        ..opts()
    };
    let s = session
        .rebuild(std::slice::from_ref(&edited), &soon)
        .unwrap();
    assert!(
        s.pages < first.pages / 2,
        "5 minutes later, incremental: {} pages",
        s.pages
    );
    let later = BuildOptions {
        now: opts().now.map(|n| n + chrono::Duration::minutes(11)),
        ..opts()
    };
    let s = session
        .rebuild(std::slice::from_ref(&edited), &later)
        .unwrap();
    assert_eq!(s.pages, first.pages, "11 minutes later the rebuild is full");
}
