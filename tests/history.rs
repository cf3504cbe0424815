//! `mesa check --history A..B` refuses hand edits; the pre-commit hook checks staged tickets.

mod common;

use common::git::{git, TestDesk};

const NOW: &str = "2026-11-03T08:00:00-05:00";
const LATER: &str = "2026-11-03T09:00:00-05:00";
const INCIDENT: &[&str] = &["--type", "incident", "--incident", "no-carga-pagina"];

fn history(d: &TestDesk, base: &str) -> (bool, String) {
    let out = d.run(LATER, &["check", "--history", &format!("{base}..HEAD")]);
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

fn hand_commit(d: &TestDesk, message: &str) {
    git(&d.root, &["commit", "-q", "--no-verify", "-am", message]);
}

#[test]
fn removing_a_past_event_is_refused() {
    let d = TestDesk::new();
    let base = d.head();
    let id = d.new_ticket(NOW, INCIDENT);
    d.ok(
        LATER,
        &["comment", &id, "--text", "Nota que alguien quiere borrar"],
    );
    assert!(history(&d, &base).0);
    let path = d.ticket_path(&id);
    let text = std::fs::read_to_string(&path).unwrap();
    let start = text.find("- at: 2026-11-03T09:00:00-05:00").unwrap();
    let end = text[start..].find("---").unwrap() + start;
    std::fs::write(&path, format!("{}{}", &text[..start], &text[end..])).unwrap();
    hand_commit(&d, "borrar comentario");
    // The final state is valid on its own; only the history shows the removal.
    assert!(d.run(LATER, &["check"]).status.success());
    let (ok, out) = history(&d, &base);
    assert!(!ok);
    assert!(out.contains("rewrites or removes event 2"), "{out}");
    assert!(out.contains(&format!("tickets/2026/11/{id}.md:")), "{out}");
}

#[test]
fn rewriting_a_past_event_is_refused() {
    let d = TestDesk::new();
    let base = d.head();
    let id = d.new_ticket(NOW, INCIDENT);
    d.ok(LATER, &["comment", &id, "--text", "texto original"]);
    let path = d.ticket_path(&id);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("texto original", "texto cambiado");
    std::fs::write(&path, text).unwrap();
    hand_commit(&d, "reescribir");
    let (ok, out) = history(&d, &base);
    assert!(!ok);
    assert!(out.contains("rewrites or removes event"), "{out}");
}

#[test]
fn skipping_states_by_hand_is_refused() {
    let d = TestDesk::new();
    let base = d.head();
    let id = d.new_ticket(NOW, INCIDENT);
    let path = d.ticket_path(&id);
    // A status edited by hand: the log still says analysis.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("status: analysis", "status: closed");
    std::fs::write(&path, text).unwrap();
    hand_commit(&d, "cerrar a mano");
    let (ok, out) = history(&d, &base);
    assert!(!ok);
    assert!(out.contains("records `status` = closed"), "{out}");
    git(&d.root, &["revert", "--no-edit", "HEAD"]);

    // An event appended by hand that the workflow refuses (closing without a solution).
    let base2 = d.head();
    let text = std::fs::read_to_string(&path).unwrap();
    let text = text.replacen(
        "\n---\n",
        "\n- at: 2026-11-03T09:00:00-05:00\n  by: lmartinez\n  event: confirmed\n---\n",
        1,
    );
    std::fs::write(&path, text).unwrap();
    hand_commit(&d, "confirmar a mano");
    let (ok, out) = history(&d, &base2);
    assert!(!ok);
    assert!(out.contains("adds event 2, which breaks a rule"), "{out}");
}

#[test]
fn deleting_a_ticket_is_refused() {
    let d = TestDesk::new();
    let base = d.head();
    let id = d.new_ticket(NOW, INCIDENT);
    git(&d.root, &["rm", "-q", d.ticket_path(&id).to_str().unwrap()]);
    hand_commit(&d, "borrar ticket");
    let (ok, out) = history(&d, &base);
    assert!(!ok);
    assert!(out.contains("deletes the ticket"), "{out}");
}

#[test]
fn pre_commit_hook_checks_staged_tickets_only() {
    let d = TestDesk::new();
    d.ok(NOW, &["hooks", "install"]);
    let hook = d.root.join(".git/hooks/pre-commit");
    assert!(std::fs::read_to_string(&hook).unwrap().contains("check"));
    // `hooks install` committed .gitattributes itself.
    assert!(git(&d.root, &["status", "--porcelain"]).trim().is_empty());
    assert!(git(&d.root, &["show", "--name-only", "--format=", "HEAD"]).contains(".gitattributes"));
    let good = d.new_ticket(NOW, INCIDENT);
    let bad = d.new_ticket(NOW, INCIDENT);
    let bad_path = d.ticket_path(&bad);
    let text = std::fs::read_to_string(&bad_path)
        .unwrap()
        .replace("level: 1", "level: 3");
    std::fs::write(&bad_path, text).unwrap();

    // `mesa check FILE` checks only the files given.
    let good_rel = format!("tickets/2026/11/{good}.md");
    let bad_rel = format!("tickets/2026/11/{bad}.md");
    assert!(d.run(LATER, &["check", &good_rel]).status.success());
    let out = d.run(LATER, &["check", &bad_rel]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{bad_rel}:")));

    // The hook refuses the broken ticket...
    git(&d.root, &["add", &bad_rel]);
    let out = std::process::Command::new("git")
        .current_dir(&d.root)
        .args(["commit", "-q", "-m", "editar a mano"])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the pre-commit hook must refuse a broken ticket"
    );
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains(&format!("{bad_rel}:")), "{said}");
    // ...and lets a valid change through.
    git(&d.root, &["checkout", "HEAD", "--", &bad_rel]);
    let text = std::fs::read_to_string(&bad_path).unwrap();
    std::fs::write(
        &bad_path,
        format!("{text}\nNota agregada a mano a la conversación.\n"),
    )
    .unwrap();
    git(&d.root, &["commit", "-q", "-am", "nota"]);
}
