//! `mesa kb new --from-ticket ID` with the real binary in a temp git repository holding a copy
//! of the sample desk: the ticket is solved with the lifecycle commands, then drafted into an
//! article, committed, and linked both ways.

mod common;

use mesa::model::kb::ArticleFront;
use std::path::Path;
use std::process::Output;

const CASE: &str = "261102-C4K7P";
const TICKET: &str = "tickets/2026/11/261102-C4K7P.md";

fn desk_repo() -> tempfile::TempDir {
    let dir = common::sample_copy(&["kb", "tickets"]);
    std::fs::write(dir.path().join(".gitignore"), "/outbox/\n/_site/\n").unwrap();
    common::git::init_committed(dir.path());
    dir
}

fn mesa(root: &Path, now: &str, args: &[&str]) -> Output {
    common::mesa_at(root, now, args)
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", text(&o));
    o
}

fn head(root: &Path) -> git2::Oid {
    git2::Oid::from_str(&common::git::head(root)).unwrap()
}

fn clean(root: &Path) -> bool {
    common::git::is_clean(root)
}

/// Records the playbook checks and the solution with the lifecycle commands.
fn solve(root: &Path) {
    for (i, (check, result)) in [
        ("conexiones-fisicas", "done"),
        ("direccionamiento-ip", "done"),
        ("url-acceso", "na"),
        ("disponibilidad-servidor", "failed"),
        ("vpn", "done"),
    ]
    .iter()
    .enumerate()
    {
        let now = format!("2026-11-03T09:{:02}:00-05:00", 10 + i);
        ok(mesa(
            root,
            &now,
            &["verify", CASE, check, "--result", result],
        ));
    }
    ok(mesa(
        root,
        "2026-11-03T10:00:00-05:00",
        &[
            "resolve",
            CASE,
            "--solution",
            "Se reinició el servicio web del servidor de la sede Duitama. La página de historias clínicas volvió a cargar.",
        ],
    ));
}

#[test]
fn drafts_commits_and_links_both_ways() {
    let dir = desk_repo();
    let root = dir.path();
    solve(root);
    let before = head(root);
    let o = ok(mesa(
        root,
        "2026-11-03T11:00:00-05:00",
        &[
            "--format",
            "json",
            "kb",
            "new",
            "--from-ticket",
            &CASE.to_lowercase(),
        ],
    ));
    let out: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let slug = out["article"].as_str().unwrap().to_string();
    assert_eq!(slug, "no-carga-la-pagina-de-historias-clinicas");
    assert_eq!(out["path"], format!("kb/articles/{slug}.md"));

    // The article: valid front matter, linked to the ticket, with symptom, checks and solution.
    let path = root.join(format!("kb/articles/{slug}.md"));
    let text_md = std::fs::read_to_string(&path).unwrap();
    let page: mesa::model::kb::Article =
        mesa::model::load::load_page::<ArticleFront>(&path).unwrap();
    assert_eq!(page.front.from_tickets, vec![CASE.to_string()]);
    assert_eq!(page.front.title, "No carga la página de historias clínicas");
    assert_eq!(page.front.category, "Acceso");
    assert!(page.front.internal, "drafts are internal until reviewed");
    assert_eq!(
        page.front.summary,
        "Se reinició el servicio web del servidor de la sede Duitama."
    );
    assert!(page.front.tags.contains(&"no-carga-pagina".to_string()));
    assert!(text_md.contains("## Síntoma"), "{text_md}");
    assert!(
        text_md.contains("La usuaria reporta que la página no carga"),
        "{text_md}"
    );
    assert!(text_md.contains("## Verificaciones"), "{text_md}");
    assert!(
        text_md.contains(
            "| Verificar conexiones físicas del equipo. | Soporte Técnico del cliente | Hecha |"
        ),
        "{text_md}"
    );
    assert!(
        text_md
            .contains("| Verificar disponibilidad de servidor. | Mesa de Servicio SGM | Falló |"),
        "{text_md}"
    );
    assert!(text_md.contains("| No aplica |"), "{text_md}");
    assert!(text_md.contains("(../playbook/acceso.md)"), "{text_md}");
    assert!(text_md.contains("## Solución"), "{text_md}");
    assert!(text_md.contains("La página de historias clínicas volvió a cargar."));

    // The ticket: a `linked` event and the article in its kb list.
    let t = mesa::model::ticket::parse(
        Path::new(TICKET),
        &std::fs::read_to_string(root.join(TICKET)).unwrap(),
    )
    .unwrap();
    assert_eq!(t.front.kb, vec![slug.clone()]);
    let last = t.front.events.last().unwrap();
    assert_eq!(last.event, mesa::model::ticket::EventKind::Linked);
    assert_eq!(last.kb.as_deref(), Some(slug.as_str()));
    assert_eq!(last.by, "lmartinez");
    assert_eq!(
        t.front.status,
        mesa::model::ticket::Status::Resolved,
        "linking changes no status"
    );

    // One commit with both files, by the agent; nothing left uncommitted.
    let repo = git2::Repository::open(root).unwrap();
    let commit = repo.head().unwrap().peel_to_commit().unwrap();
    assert_eq!(commit.parent_id(0).unwrap(), before);
    assert!(
        commit.message().unwrap().starts_with(&format!("{CASE}: ")),
        "{:?}",
        commit.message()
    );
    assert_eq!(
        commit.author().email().ok(),
        Some("lmartinez@sgm.example.co")
    );
    let parent_tree = repo.find_commit(before).unwrap().tree().unwrap();
    let diff = repo
        .diff_tree_to_tree(Some(&parent_tree), Some(&commit.tree().unwrap()), None)
        .unwrap();
    let mut files: Vec<String> = diff
        .deltas()
        .map(|d| d.new_file().path().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        vec![format!("kb/articles/{slug}.md"), TICKET.to_string()]
    );
    assert!(clean(root));

    // The desk still checks clean: article schema, links, and the ticket's replayed log.
    let o = mesa(root, "2026-11-03T11:05:00-05:00", &["check"]);
    assert!(o.status.success(), "{}", text(&o));

    // A second draft from the same case is refused, and changes nothing.
    let o = mesa(
        root,
        "2026-11-03T11:10:00-05:00",
        &["kb", "new", "--from-ticket", CASE],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains(&slug),
        "{}",
        text(&o)
    );
    assert_eq!(head(root), commit.id());
    assert!(clean(root));
}

#[test]
fn an_unsolved_ticket_is_refused_and_nothing_changes() {
    let dir = desk_repo();
    let root = dir.path();
    let before = head(root);
    let o = mesa(
        root,
        "2026-11-03T11:00:00-05:00",
        &["kb", "new", "--from-ticket", CASE],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(CASE) && err.contains("mesa resolve"),
        "{}",
        text(&o)
    );
    assert_eq!(head(root), before);
    assert!(clean(root));
    assert!(!root
        .join("kb/articles/no-carga-la-pagina-de-historias-clinicas.md")
        .exists());
}

#[test]
fn slug_title_and_no_commit() {
    let dir = desk_repo();
    let root = dir.path();
    solve(root);
    // A taken slug and a malformed one are refused.
    let o = mesa(
        root,
        "2026-11-03T11:00:00-05:00",
        &["kb", "new", "--from-ticket", CASE, "--slug", "roles"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let o = mesa(
        root,
        "2026-11-03T11:00:00-05:00",
        &["kb", "new", "--from-ticket", CASE, "--slug", "Mal Nombre"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));

    let before = head(root);
    ok(mesa(
        root,
        "2026-11-03T11:00:00-05:00",
        &[
            "kb",
            "new",
            "--from-ticket",
            CASE,
            "--slug",
            "reinicio-servicio-web",
            "--title",
            "Reiniciar el servicio web de una sede",
            "--no-commit",
        ],
    ));
    assert_eq!(head(root), before, "--no-commit makes no commit");
    let page = mesa::model::load::load_page::<ArticleFront>(
        &root.join("kb/articles/reinicio-servicio-web.md"),
    )
    .unwrap();
    assert_eq!(page.front.title, "Reiniciar el servicio web de una sede");
    assert!(!clean(root), "the files are written");
    let t = mesa::model::ticket::parse(
        Path::new(TICKET),
        &std::fs::read_to_string(root.join(TICKET)).unwrap(),
    )
    .unwrap();
    assert_eq!(t.front.kb, vec!["reinicio-servicio-web".to_string()]);
}

#[test]
fn a_request_links_its_catalog_entry() {
    let dir = desk_repo();
    let root = dir.path();
    let o = ok(mesa(
        root,
        "2026-11-04T08:00:00-05:00",
        &[
            "--format",
            "json",
            "new",
            "--channel",
            "email",
            "--customer",
            "ips-andina",
            "--requester",
            "Julián Andrés Pardo <jpardo@ipsandina.example.co>",
            "--title",
            "Desactivar usuarios de la sede Tunja",
            "--description",
            "Tres usuarios de recepción ya no trabajan en la sede.",
            "--type",
            "request",
            "--request",
            "actualizacion-eliminacion-usuarios",
        ],
    ));
    let id = serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(mesa(
        root,
        "2026-11-04T09:00:00-05:00",
        &["resolve", &id, "--solution", "Se desactivaron los tres usuarios de recepción! El historial de sus atenciones se conserva."],
    ));
    let o = ok(mesa(
        root,
        "2026-11-04T09:30:00-05:00",
        &["--format", "json", "kb", "new", "--from-ticket", &id],
    ));
    let slug = serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["article"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(slug, "desactivar-usuarios-de-la-sede-tunja");
    let path = root.join(format!("kb/articles/{slug}.md"));
    let page = mesa::model::load::load_page::<ArticleFront>(&path).unwrap();
    let catalog = mesa::model::load::load_page::<mesa::model::kb::CatalogFront>(
        &root.join("kb/catalog/actualizacion-eliminacion-usuarios.md"),
    )
    .unwrap();
    assert_eq!(page.front.category, catalog.front.title);
    assert_eq!(
        page.front.summary,
        "Se desactivaron los tres usuarios de recepción!"
    );
    assert!(
        page.body
            .contains("(../catalog/actualizacion-eliminacion-usuarios.md)"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("## Verificaciones"), "{}", page.body);
    let o = mesa(root, "2026-11-04T09:35:00-05:00", &["check"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(clean(root));
}
