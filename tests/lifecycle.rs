//! One scenario per path of the manual, each run with the real `mesa` binary in a temp git
//! repository, each step one commit, each ending with a clean `mesa check --history`.

mod common;

use chrono::{Duration, FixedOffset, TimeZone};
use common::git::{git, TestDesk};

/// `minutes` after Tuesday 3 November 2026, 08:00 Bogotá (a working day).
fn at(minutes: i64) -> String {
    let base = FixedOffset::west_opt(5 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 3, 8, 0, 0)
        .unwrap();
    (base + Duration::minutes(minutes)).to_rfc3339()
}

fn status(d: &TestDesk, id: &str) -> (String, u64) {
    let v = d.show(id);
    (
        v["status"].as_str().unwrap().to_string(),
        v["level"].as_u64().unwrap(),
    )
}

fn commits_since(d: &TestDesk, base: &str) -> usize {
    git(&d.root, &["rev-list", "--count", &format!("{base}..HEAD")])
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn incident_solved_at_level_1() {
    let d = TestDesk::new();
    let base = d.head();
    let id = d.new_ticket(&at(0), &common::INCIDENT);
    assert_eq!(status(&d, &id), ("analysis".into(), 1));
    let subject = git(&d.root, &["log", "-1", "--format=%s|%an|%ae"]);
    assert!(subject.starts_with(&format!("{id}: ")), "{subject}");
    assert!(
        subject
            .trim()
            .ends_with("|Laura Martínez|lmartinez@sgm.example.co"),
        "{subject}"
    );

    let out = d.ok(
        &at(5),
        &[
            "resolve",
            &id,
            "--solution",
            "Se limpió la caché del navegador.",
        ],
    );
    assert!(out.contains("next:"), "{out}");
    assert_eq!(status(&d, &id).0, "resolved");
    // Issue 9, point 4: the manual notifies the solution by phone and email; the missing
    // call shows on `mesa show` until it is recorded.
    let show = d.ok(&at(5), &["show", &id]);
    assert!(show.contains("solution call: pending"), "{show}");
    assert_eq!(d.show(&id)["solution_call"], "pending");
    d.ok(
        &at(6),
        &[
            "call",
            &id,
            "--note",
            "La usuaria confirma por teléfono que recibió la solución",
        ],
    );
    assert!(d
        .ok(&at(6), &["show", &id])
        .contains("solution call: recorded"));
    d.ok(&at(30), &["confirm", &id]);
    let v = d.show(&id);
    assert_eq!(v["status"], "closed");
    assert_eq!(v["close_reason"], "confirmed");
    assert_eq!(commits_since(&d, &base), 4, "one commit per step");
    assert_eq!(d.outbox_kinds(&id), vec!["acknowledgement", "solution"]);
    let emails = v["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 2, "message ids recorded in the events");
    assert!(
        d.status().is_empty(),
        "working folder clean: {}",
        d.status()
    );
    d.history_clean(&base);
}

#[test]
fn incident_escalated_step_by_step_to_level_4() {
    let d = TestDesk::new();
    let base = d.head();
    let id = d.new_ticket(
        &at(0),
        &[
            "--type",
            "incident",
            "--incident",
            "no-muestra-informacion",
            "--priority",
            "media",
            "--impact",
            "medium",
            "--urgency",
            "medium",
        ],
    );
    // Escalating before the level-1 checks are recorded is refused, naming them.
    let err = d.refused(&at(1), &["escalate", &id, "--reason", "no funciona"]);
    assert!(err.contains("conectividad"), "{err}");
    d.verify_missing(&at(2), &id);
    // One level at a time: 1 -> 3 is refused.
    d.refused(
        &at(3),
        &["escalate", &id, "--to", "3", "--reason", "saltar"],
    );
    d.ok(
        &at(4),
        &["escalate", &id, "--reason", "requiere parametrización"],
    );
    assert_eq!(status(&d, &id).1, 2);
    d.ok(&at(5), &["assign", &id, "--to", "agomez"]);
    d.verify_missing(&at(6), &id);
    d.ok(
        &at(7),
        &[
            "escalate",
            &id,
            "--to",
            "3",
            "--reason",
            "error de software",
        ],
    );
    d.refused(
        &at(8),
        &["escalate", &id, "--to", "3", "--reason", "otra vez"],
    );
    d.verify_missing(&at(9), &id);
    d.ok(
        &at(10),
        &[
            "escalate",
            &id,
            "--to",
            "4",
            "--reason",
            "compromete la plataforma",
        ],
    );
    let v = d.show(&id);
    assert_eq!(v["level"], 4);
    // Escalation hands the case over to the level's agent (Table 3: Gerente Tecnología).
    assert_eq!(v["assignee"], "pvaldes");
    d.ok(
        &at(60),
        &[
            "resolve",
            &id,
            "--solution",
            "Se corrigió la parametrización del servidor.",
        ],
    );
    d.ok(&at(90), &["confirm", &id]);
    assert_eq!(status(&d, &id), ("closed".into(), 4));
    d.history_clean(&base);
}

#[test]
fn incident_straight_to_level_5() {
    let d = TestDesk::new();
    let base = d.head();
    let id = d.new_ticket(&at(0), &common::INCIDENT);
    d.verify_missing(&at(1), &id);
    d.ok(
        &at(2),
        &[
            "escalate",
            &id,
            "--to",
            "5",
            "--reason",
            "falla del proveedor de infraestructura",
        ],
    );
    assert_eq!(status(&d, &id), ("analysis".into(), 5));
    d.ok(&at(3), &["start", &id]);
    d.ok(
        &at(120),
        &[
            "resolve",
            &id,
            "--solution",
            "El proveedor restableció el servicio.",
        ],
    );
    d.ok(&at(200), &["confirm", &id]);
    assert_eq!(status(&d, &id), ("closed".into(), 5));
    d.history_clean(&base);
}

#[test]
fn request_without_cab() {
    let d = TestDesk::new();
    let base = d.head();
    let id = d.new_ticket(
        &at(0),
        &["--type", "request", "--request", "anular-factura"],
    );
    let v = d.show(&id);
    assert_eq!(v["status"], "analysis", "no CAB for this request");
    assert_eq!(v["sla"]["resolution"], "10m");
    // A CAB decision is refused for a request that does not go to the CAB.
    d.refused(&at(1), &["cab", &id]);
    d.ok(&at(5), &["resolve", &id, "--solution", "Factura anulada."]);
    d.ok(&at(40), &["confirm", &id]);
    assert_eq!(status(&d, &id).0, "closed");
    d.history_clean(&base);
}

#[test]
fn request_with_cab_and_accepted_quote() {
    let d = TestDesk::new();
    let base = d.head();
    let id = d.new_ticket(&at(0), &["--type", "request", "--request", "crear-reporte"]);
    assert_eq!(status(&d, &id).0, "cab_review");
    d.refused(&at(1), &["propose", &id, "--text", "antes del comité"]);
    d.ok(&at(60), &["cab", &id, "--complexity", "medium-high"]);
    // The CAB decided a quote is needed: a proposal without an amount is refused.
    d.refused(&at(61), &["propose", &id, "--text", "sin valor"]);
    d.ok(
        &at(62),
        &[
            "propose",
            &id,
            "--text",
            "Reporte de ausentismo por sede",
            "--amount",
            "1500000",
            "--currency",
            "COP",
        ],
    );
    assert_eq!(status(&d, &id).0, "awaiting_approval");
    d.ok(&at(600), &["accept", &id]);
    assert_eq!(status(&d, &id).0, "in_progress");
    d.ok(
        &at(900),
        &[
            "resolve",
            &id,
            "--solution",
            "Reporte publicado en el menú Informes.",
        ],
    );
    d.ok(&at(960), &["confirm", &id]);
    assert_eq!(status(&d, &id).0, "closed");
    assert_eq!(
        d.outbox_kinds(&id),
        vec!["acknowledgement", "proposal", "solution"]
    );
    d.history_clean(&base);
}

#[test]
fn request_with_declined_quote() {
    let d = TestDesk::new();
    let base = d.head();
    let id = d.new_ticket(
        &at(0),
        &["--type", "request", "--request", "crear-plantilla"],
    );
    d.ok(&at(30), &["cab", &id]);
    d.ok(
        &at(31),
        &[
            "propose",
            &id,
            "--text",
            "Plantilla de historia ocupacional",
            "--amount",
            "800000",
            "--currency",
            "COP",
        ],
    );
    d.ok(
        &at(300),
        &["decline", &id, "--note", "Sin presupuesto este año"],
    );
    let v = d.show(&id);
    assert_eq!(v["status"], "closed");
    assert_eq!(v["close_reason"], "declined");
    d.refused(&at(301), &["resolve", &id, "--solution", "tarde"]);
    d.history_clean(&base);
}

#[test]
fn reopened_then_confirmed() {
    let d = TestDesk::new();
    let base = d.head();
    let id = d.new_ticket(&at(0), &common::INCIDENT);
    d.ok(
        &at(10),
        &["resolve", &id, "--solution", "Se reinició el servicio web."],
    );
    // Only a resolved ticket can be rejected, and only with a reason (clap refuses without).
    d.ok(
        &at(100),
        &[
            "reject",
            &id,
            "--reason",
            "Sigue sin cargar en la sede Duitama",
        ],
    );
    assert_eq!(status(&d, &id).0, "in_progress");
    d.refused(&at(101), &["reject", &id, "--reason", "otra vez"]);
    d.ok(
        &at(200),
        &[
            "resolve",
            &id,
            "--solution",
            "Se corrigió el DNS de la sede.",
        ],
    );
    d.ok(&at(300), &["confirm", &id]);
    let v = d.show(&id);
    assert_eq!(v["close_reason"], "confirmed");
    assert_eq!(
        d.outbox_kinds(&id),
        vec!["acknowledgement", "solution", "reopen", "solution"]
    );
    d.history_clean(&base);
}

#[test]
fn auto_closed_after_72_hours() {
    let d = TestDesk::new();
    let base = d.head();
    let id = d.new_ticket(&at(0), &common::INCIDENT);
    d.ok(
        &at(10),
        &["resolve", &id, "--solution", "Se reinició el servicio web."],
    );
    let resolved = d.head();
    // Before 24 h nothing is due.
    d.ok(&at(10 + 23 * 60), &["sweep"]);
    assert_eq!(d.head(), resolved);
    // After 24 h: one reminder, dated when the sweep sends it, by mesa.
    let out = d.ok(&at(10 + 25 * 60), &["sweep"]);
    assert!(out.contains(&id), "{out}");
    let reminded = d.head();
    assert_ne!(reminded, resolved);
    // The same sweep again adds nothing.
    d.ok(&at(10 + 25 * 60), &["sweep"]);
    d.ok(&at(10 + 30 * 60), &["sweep"]);
    assert_eq!(d.head(), reminded);
    let v = d.show(&id);
    let last = v["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["event"], "reminded");
    assert_eq!(last["by"], "mesa");
    assert_eq!(last["at"], at(10 + 25 * 60));
    // After 72 h from the solution and 48 h from the reminder (25 h + 48 h = 73 h): closed as
    // approved, once, dated at that instant.
    d.ok(&at(10 + 80 * 60), &["sweep"]);
    let closed = d.head();
    d.ok(&at(10 + 81 * 60), &["sweep"]);
    assert_eq!(d.head(), closed);
    let v = d.show(&id);
    assert_eq!(v["status"], "closed");
    assert_eq!(v["close_reason"], "auto_confirmed");
    let last = v["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["at"], at(10 + 73 * 60));
    assert_eq!(
        d.outbox_kinds(&id),
        vec!["acknowledgement", "solution", "reminder", "auto_close"]
    );
    d.history_clean(&base);
}

#[test]
fn closed_by_mutual_agreement() {
    let d = TestDesk::new();
    let base = d.head();
    let id = d.new_ticket(&at(0), &common::INCIDENT);
    d.ok(
        &at(10),
        &[
            "resolve",
            &id,
            "--solution",
            "Se ajustó la configuración del proxy.",
        ],
    );
    d.ok(
        &at(100),
        &["reject", &id, "--reason", "La lentitud continúa"],
    );
    d.ok(
        &at(200),
        &[
            "comment",
            &id,
            "--text",
            "Reunión con la coordinadora de sistemas",
            "--public",
        ],
    );
    d.ok(
        &at(300),
        &[
            "close",
            &id,
            "--reason",
            "mutual_agreement",
            "--note",
            "La lentitud depende de su red; se acuerda cerrar",
        ],
    );
    let v = d.show(&id);
    assert_eq!(v["status"], "closed");
    assert_eq!(v["close_reason"], "mutual_agreement");
    assert!(d.outbox_kinds(&id).contains(&"comment".to_string()));
    d.history_clean(&base);
}

#[test]
fn dirty_ticket_is_refused_and_no_commit_only_writes() {
    let d = TestDesk::new();
    let id = d.new_ticket(&at(0), &common::INCIDENT);
    let path = d.ticket_path(&id);
    let committed = std::fs::read_to_string(&path).unwrap();

    // --no-commit writes the file and makes no commit.
    let head = d.head();
    d.ok(&at(1), &["comment", &id, "--text", "nota", "--no-commit"]);
    assert_eq!(d.head(), head);
    assert!(d.status().contains(&id), "{}", d.status());
    // Now the file is dirty: a committing step is refused and leaves it as it is.
    let written = std::fs::read_to_string(&path).unwrap();
    assert_ne!(written, committed);
    let err = d.refused(&at(2), &["comment", &id, "--text", "otra"]);
    assert!(err.contains("uncommitted"), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written);

    // Unknown ticket, bad case number, unknown agent: clear errors.
    git(&d.root, &["checkout", "--", "."]);
    let err = d.refused(&at(3), &["comment", "261103-ZZZZZ", "--text", "x"]);
    assert!(err.contains("no ticket"), "{err}");
    let out = d.run(&at(3), &["comment", "nope", "--text", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = d.run(&at(3), &["--agent", "nadie", "comment", &id, "--text", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown agent"));
}

#[test]
fn priority_guidance_and_override() {
    let d = TestDesk::new();
    let base = d.head();
    let id = d.new_ticket(
        &at(0),
        &["--type", "incident", "--incident", "no-carga-pagina"],
    );
    // Impact and urgency suggest the priority.
    d.ok(
        &at(1),
        &["priority", &id, "--impact", "high", "--urgency", "high"],
    );
    assert_eq!(d.show(&id)["priority"], "critica");
    // Another priority needs a reason.
    let err = d.refused(&at(2), &["priority", &id, "baja"]);
    assert!(err.contains("critica"), "{err}");
    d.ok(
        &at(3),
        &[
            "priority",
            &id,
            "baja",
            "--reason",
            "El cliente pide atenderlo la próxima semana",
        ],
    );
    assert_eq!(d.show(&id)["priority"], "baja");
    d.history_clean(&base);
}

#[test]
fn description_from_stdin_and_list_filters() {
    let d = TestDesk::new();
    let mut child = std::process::Command::new(common::git::MESA)
        .current_dir(&d.root)
        .args([
            "--now",
            &at(0),
            "--format",
            "json",
            "new",
            "--channel",
            "email",
            "--customer",
            "ips-andina",
        ])
        .args([
            "--requester",
            "Julián Pardo <jpardo@ipsandina.example.co>",
            "--title",
            "Desde stdin",
            "--description",
            "-",
        ])
        .env("MESA_AGENT", "dcastro")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all("Texto leído de la entrada estándar.\n".as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let a = v["id"].as_str().unwrap().to_string();
    let text = std::fs::read_to_string(d.ticket_path(&a)).unwrap();
    assert!(text.contains("Texto leído de la entrada estándar."));
    let b = d.new_ticket(&at(1), &common::INCIDENT);
    d.ok(&at(2), &["resolve", &b, "--solution", "hecho"]);

    let list = d.json(&at(3), &["list", "--status", "resolved"]);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![b.as_str()]);
    let list = d.json(&at(3), &["list", "--assignee", "dcastro"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], a);
    let list = d.json(
        &at(3),
        &["list", "--customer", "ips-andina", "--status", "new"],
    );
    assert_eq!(list.as_array().unwrap().len(), 1);
    // Ticket a has an unclassified priority: no clocks; ticket b's response clock stopped.
    // Far in the future, b (resolved: paused) is not breached and a has no target.
    let breached = d.json("2026-12-31T12:00:00-05:00", &["list", "--breached"]);
    assert!(breached
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["id"] != b.as_str()));
}

#[test]
fn extend_an_estimated_target_with_a_reason() {
    let d = TestDesk::new();
    let base = d.head();
    // Not estimated (10 minutes, no `*` in the manual): refused.
    let fixed = d.new_ticket(
        &at(0),
        &["--type", "request", "--request", "anular-factura"],
    );
    d.refused(
        &at(1),
        &["extend", &fixed, "--to", "2h", "--reason", "más trabajo"],
    );
    // Estimated (24 h*): extended, and the new target is what the ticket promises now.
    let id = d.new_ticket(
        &at(2),
        &["--type", "request", "--request", "bases-datos-estandar"],
    );
    assert_eq!(d.show(&id)["sla"]["resolution"], "24h");
    d.refused(&at(3), &["extend", &id, "--to", "12h", "--reason", "menos"]);
    d.ok(
        &at(4),
        &[
            "extend",
            &id,
            "--to",
            "48h",
            "--reason",
            "Siete sedes y cinco años de historia",
        ],
    );
    assert_eq!(d.show(&id)["sla"]["resolution"], "48h");
    d.history_clean(&base);
}

#[test]
fn sweep_commits_once_and_skips_dirty_tickets() {
    let d = TestDesk::new();
    let a = d.new_ticket(&at(0), &common::INCIDENT);
    let b = d.new_ticket(&at(1), &common::INCIDENT);
    let c = d.new_ticket(&at(2), &common::INCIDENT);
    for id in [&a, &b, &c] {
        d.ok(&at(10), &["resolve", id, "--solution", "Listo"]);
    }
    // c has a hand edit in progress: the sweep leaves it alone and says so.
    let c_path = d.ticket_path(&c);
    let edited = format!(
        "{}\nNota a medio escribir.\n",
        std::fs::read_to_string(&c_path).unwrap()
    );
    std::fs::write(&c_path, &edited).unwrap();
    let before = d.head();
    let out = d.run(&at(10 + 25 * 60), &["sweep"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a skipped ticket makes the sweep fail"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains(&c));
    assert_eq!(
        commits_since(&d, &before),
        1,
        "one commit for the whole run"
    );
    let files = git(&d.root, &["show", "--name-only", "--format=%s", "HEAD"]);
    assert!(
        files.contains(&format!("{a}.md")) && files.contains(&format!("{b}.md")),
        "{files}"
    );
    assert!(!files.contains(&format!("{c}.md")), "{files}");
    assert_eq!(std::fs::read_to_string(&c_path).unwrap(), edited);
    for id in [&a, &b] {
        assert_eq!(
            d.show(id)["events"].as_array().unwrap().last().unwrap()["event"],
            "reminded"
        );
    }
}
