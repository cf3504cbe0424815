//! Customer emails: composing (templates, threading, languages), queueing, and delivery with
//! the real `mesa` binary to a real SMTP server on loopback (Python's aiosmtpd) and to a
//! fault-injecting sink that breaks the connection mid-send.

mod common;

use common::smtp::{quoted_printable_decode, Fault, Sink};
use mesa::mail::compose::{compose, enqueue, MailKind, Outgoing};
use mesa::model::load::Desk;
use mesa::model::ticket::{CloseReason, Event, EventKind, Stamp, Ticket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const CASE: &str = "261102-C4K7P";

/// A copy of the sample desk in a temp folder, sending to `port` on loopback.
fn sample_desk(port: u16) -> tempfile::TempDir {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let yaml = std::fs::read_to_string(src.join("desk.yaml")).unwrap();
    assert!(
        yaml.contains("smtp_port: 2525"),
        "sample desk.yaml changed its mail settings"
    );
    let yaml = yaml
        .replace("smtp_port: 2525", &format!("smtp_port: {port}"))
        .replace("smtp_host: localhost", "smtp_host: 127.0.0.1");
    std::fs::write(dir.path().join("desk.yaml"), yaml).unwrap();
    for sub in ["kb", "tickets"] {
        for entry in walkdir::WalkDir::new(src.join(sub)) {
            let entry = entry.unwrap();
            let rel = entry.path().strip_prefix(src).unwrap();
            let dest = dir.path().join(rel);
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&dest).unwrap();
            } else {
                std::fs::copy(entry.path(), &dest).unwrap();
            }
        }
    }
    dir
}

fn ticket(root: &Path) -> Ticket {
    let path = root.join(format!("tickets/2026/11/{CASE}.md"));
    let text = std::fs::read_to_string(&path).unwrap();
    mesa::model::ticket::parse(&path, &text).unwrap()
}

fn at(s: &str) -> Stamp {
    Stamp::parse(s).unwrap()
}

/// Composes the step's email, records its Message-ID in the event and the ticket's log (what
/// the lifecycle commands do), and queues it.
fn step(desk: &Desk, t: &mut Ticket, kind: MailKind, mut ev: Event) -> Outgoing {
    let out = compose(desk, t, kind, &ev)
        .unwrap()
        .expect("requester has an email");
    ev.message_id = Some(out.message_id.clone());
    t.front.events.push(ev);
    enqueue(&desk.root, &out).unwrap();
    out
}

/// The case's acknowledgement (for its existing `created` event) and solution notice.
fn queue_ack_and_solution(root: &Path) -> (Outgoing, Outgoing) {
    let desk = Desk::open(root).unwrap();
    let mut t = ticket(root);
    // As `mesa new --priority alta` records it: the acknowledgement promises the 2 h response.
    let mut created = t.front.events.remove(0);
    created.priority = Some("alta".into());
    let rest: Vec<Event> = std::mem::take(&mut t.front.events);
    let ack = step(&desk, &mut t, MailKind::Acknowledgement, created);
    t.front.events.extend(rest);
    let mut res = Event::new(
        at("2026-11-02T10:30:00-05:00"),
        "lmartinez",
        EventKind::Resolved,
    );
    res.text = Some("Se restableció la conexión del servidor de la sede; la página de historias clínicas ya carga.".into());
    res.kb = Some("politica-de-confirmacion".into());
    let sol = step(&desk, &mut t, MailKind::Solution, res);
    (ack, sol)
}

fn mesa(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(root)
        .args(args)
        .env_remove("MESA_SMTP_USER")
        .env_remove("MESA_SMTP_PASSWORD")
        .env_remove("MESA_LANG")
        .env_remove("MESA_DESK")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn queued(root: &Path) -> Vec<String> {
    dir_names(&root.join("outbox"))
}

fn sent(root: &Path) -> Vec<String> {
    dir_names(&root.join("outbox/sent"))
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.') && n != "sent")
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

fn list_json(root: &Path) -> serde_json::Value {
    let o = mesa(root, &["--format", "json", "outbox", "list"]);
    assert!(o.status.success(), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

// ---------------------------------------------------------------------------------------
// Composing

#[test]
fn every_kind_threads_to_the_first_message_of_the_case() {
    let dir = sample_desk(2525);
    let root = dir.path();
    let desk = Desk::open(root).unwrap();
    let mut t = ticket(root);
    // As `mesa new --priority alta` records it: the acknowledgement promises the 2 h response.
    let mut created = t.front.events.remove(0);
    created.priority = Some("alta".into());
    let rest: Vec<Event> = std::mem::take(&mut t.front.events);
    let ack = step(&desk, &mut t, MailKind::Acknowledgement, created);
    t.front.events.extend(rest);
    assert_eq!(ack.in_reply_to, None);
    assert!(ack.references.is_empty());
    assert!(
        ack.subject.starts_with(&format!("[Caso {CASE}] ")),
        "{}",
        ack.subject
    );
    assert!(ack.body.contains("Carolina Pérez"), "{}", ack.body);
    assert!(ack.body.contains("Prioridad: Alta"), "{}", ack.body);
    assert!(
        ack.body.contains("martes 3 de noviembre de 2026, 09:00"),
        "{}",
        ack.body
    );

    let mut prop = Event::new(
        at("2026-11-02T09:00:00-05:00"),
        "agomez",
        EventKind::Proposed,
    );
    prop.text = Some("Ajuste del reporte de aptitud con dos columnas nuevas.".into());
    prop.amount = Some(1_250_000.0);
    prop.currency = Some("COP".into());
    let proposal = step(&desk, &mut t, MailKind::Proposal, prop);
    assert!(proposal.body.contains("1.250.000 COP"), "{}", proposal.body);
    assert!(
        proposal.subject.contains("Cotización"),
        "{}",
        proposal.subject
    );

    let mut res = Event::new(
        at("2026-11-02T10:30:00-05:00"),
        "lmartinez",
        EventKind::Resolved,
    );
    res.text = Some("Se restableció la conexión.".into());
    res.kb = Some("politica-de-confirmacion".into());
    let solution = step(&desk, &mut t, MailKind::Solution, res);
    let article = desk.kb.article("politica-de-confirmacion").unwrap();
    assert!(
        solution.body.contains(&article.front.title),
        "{}",
        solution.body
    );
    assert!(solution.body.contains("Se restableció la conexión."));
    assert!(
        solution.body.contains("24 h") && solution.body.contains("72 h"),
        "{}",
        solution.body
    );
    // The first-line answers `mesa inbox` recognises (theme/i18n/es.yaml inbox.answer).
    assert!(
        solution.body.contains("  - CONFIRMO ") && solution.body.contains("  - RECHAZO: motivo "),
        "{}",
        solution.body
    );

    let rem = Event::new(at("2026-11-03T10:30:00-05:00"), "mesa", EventKind::Reminded);
    let reminder = step(&desk, &mut t, MailKind::Reminder, rem);
    assert!(
        reminder.body.contains("Se restableció la conexión."),
        "reminder quotes the solution"
    );

    let mut rej = Event::new(
        at("2026-11-03T11:00:00-05:00"),
        "customer",
        EventKind::Rejected,
    );
    rej.reason = Some("Sigue sin cargar en la sede Duitama.".into());
    let reopen = step(&desk, &mut t, MailKind::Reopen, rej);
    assert!(reopen.body.contains("Sigue sin cargar en la sede Duitama."));

    let mut com = Event::new(
        at("2026-11-03T12:00:00-05:00"),
        "agomez",
        EventKind::Commented,
    );
    com.text = Some("Estamos revisando el enlace con su proveedor.".into());
    com.public = Some(true);
    let comment = step(&desk, &mut t, MailKind::Comment, com);

    let mut close = Event::new(at("2026-11-09T12:00:00-05:00"), "mesa", EventKind::Closed);
    close.close_reason = Some(CloseReason::AutoConfirmed);
    let auto = step(&desk, &mut t, MailKind::AutoClose, close);
    assert!(auto.body.contains("72 h"));

    let all = [
        &ack, &proposal, &solution, &reminder, &reopen, &comment, &auto,
    ];
    let mut ids: Vec<&str> = all.iter().map(|o| o.message_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 7, "distinct Message-IDs");
    for (i, o) in all.iter().enumerate().skip(1) {
        assert_eq!(
            o.in_reply_to.as_deref(),
            Some(ack.message_id.as_str()),
            "{:?}",
            o.kind
        );
        let expected: Vec<String> = all[..i].iter().map(|p| p.message_id.clone()).collect();
        assert_eq!(
            o.references, expected,
            "{:?} references every earlier message",
            o.kind
        );
        assert!(
            o.subject.starts_with(&format!("[Caso {CASE}] ")),
            "{}",
            o.subject
        );
        assert!(o.message_id.ends_with("@sgm.com.co>"), "{}", o.message_id);
        let raw = String::from_utf8(o.raw.clone()).unwrap();
        assert!(
            raw.contains(&format!("Message-ID: {}", o.message_id)),
            "{raw}"
        );
        assert!(
            raw.contains("Content-Type: text/plain; charset=utf-8"),
            "{raw}"
        );
        assert!(raw.contains("In-Reply-To: "), "{raw}");
    }
    assert_eq!(
        MailKind::for_event(&t.front.events[0]),
        Some(MailKind::Acknowledgement)
    );
    // Seven messages queued, each once.
    assert_eq!(queued(root).len(), 7);
}

#[test]
fn no_email_no_message_and_composing_is_deterministic() {
    let dir = sample_desk(2525);
    let root = dir.path();
    let desk = Desk::open(root).unwrap();
    let mut t = ticket(root);
    let ev = t.front.events[0].clone();
    let a = compose(&desk, &t, MailKind::Acknowledgement, &ev)
        .unwrap()
        .unwrap();
    let b = compose(&desk, &t, MailKind::Acknowledgement, &ev)
        .unwrap()
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.raw, b.raw);
    // Queueing the same message twice queues it once.
    enqueue(root, &a).unwrap();
    enqueue(root, &b).unwrap();
    assert_eq!(queued(root).len(), 1);
    let mut other = ev.clone();
    other.by = "dcastro".into();
    let c = compose(&desk, &t, MailKind::Acknowledgement, &other)
        .unwrap()
        .unwrap();
    assert_ne!(
        a.message_id, c.message_id,
        "a different event is a different message"
    );

    t.front.requester.email = None;
    assert!(compose(&desk, &t, MailKind::Acknowledgement, &ev)
        .unwrap()
        .is_none());
    t.front.requester.email = Some("no es un correo".into());
    let err = compose(&desk, &t, MailKind::Acknowledgement, &ev)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no es un correo") && err.contains(CASE),
        "{err}"
    );
}

/// The emails that await the customer's answer (proposal or quote, solution, follow-up) name
/// the first-line words `mesa inbox` recognises, in the desk's language: the words of the
/// issue ("ACEPTO" / "NO ACEPTO", "CONFIRMO" / "RECHAZO: motivo") and their English ones.
#[test]
fn emails_that_await_an_answer_name_the_answer_words_in_both_languages() {
    for (lang, accept, decline, confirm, reject, others) in [
        (
            "es",
            "ACEPTO",
            "NO ACEPTO",
            "CONFIRMO",
            "RECHAZO",
            "Cualquier otra respuesta llega al agente",
        ),
        (
            "en",
            "ACCEPT",
            "DO NOT ACCEPT",
            "CONFIRM",
            "REJECT",
            "Any other reply reaches the agent",
        ),
    ] {
        let dir = sample_desk(2525);
        let root = dir.path();
        let yaml = std::fs::read_to_string(root.join("desk.yaml")).unwrap();
        std::fs::write(
            root.join("desk.yaml"),
            yaml.replace("language: es", &format!("language: {lang}")),
        )
        .unwrap();
        let desk = Desk::open(root).unwrap();
        let mut t = ticket(root);
        let mut prop = Event::new(
            at("2026-11-02T09:00:00-05:00"),
            "agomez",
            EventKind::Proposed,
        );
        prop.text = Some("Ajuste del reporte de aptitud.".into());
        prop.amount = Some(1_250_000.0);
        prop.currency = Some("COP".into());
        let proposal = step(&desk, &mut t, MailKind::Proposal, prop);
        let mut res = Event::new(
            at("2026-11-02T10:30:00-05:00"),
            "lmartinez",
            EventKind::Resolved,
        );
        res.text = Some("Se restableció la conexión.".into());
        let solution = step(&desk, &mut t, MailKind::Solution, res);
        let rem = Event::new(at("2026-11-03T10:30:00-05:00"), "mesa", EventKind::Reminded);
        let reminder = step(&desk, &mut t, MailKind::Reminder, rem);

        let body = &proposal.body;
        assert!(
            body.contains(&format!(" {accept} ")) && body.contains(&format!(" {decline} ")),
            "{lang} proposal: {body}"
        );
        for (what, body) in [("solution", &solution.body), ("reminder", &reminder.body)] {
            assert!(
                body.contains(&format!(" {confirm} ")) && body.contains(&format!(" {reject}:")),
                "{lang} {what}: {body}"
            );
        }
        for (what, body) in [
            ("proposal", &proposal.body),
            ("solution", &solution.body),
            ("reminder", &reminder.body),
        ] {
            assert!(body.contains(others), "{lang} {what}: {body}");
        }
    }
}

#[test]
fn english_desk_and_desk_templates() {
    let dir = sample_desk(2525);
    let root = dir.path();
    let yaml = std::fs::read_to_string(root.join("desk.yaml")).unwrap();
    std::fs::write(
        root.join("desk.yaml"),
        yaml.replace("language: es", "language: en"),
    )
    .unwrap();
    let desk = Desk::open(root).unwrap();
    let t = ticket(root);
    let ev = t.front.events[0].clone();
    let out = compose(&desk, &t, MailKind::Acknowledgement, &ev)
        .unwrap()
        .unwrap();
    assert!(
        out.subject
            .starts_with(&format!("[Case {CASE}] We received")),
        "{}",
        out.subject
    );
    assert!(out.body.starts_with("Dear Carolina Pérez,"), "{}", out.body);

    // A desk's own template wins over the default; the others still come from the defaults.
    let own = root.join("theme/emails/en");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(
        own.join("acknowledgement.subject.txt"),
        "{{ case.id }} received ({{ case.customer }})",
    )
    .unwrap();
    let out = compose(&desk, &t, MailKind::Acknowledgement, &ev)
        .unwrap()
        .unwrap();
    assert_eq!(
        out.subject,
        format!("{CASE} received (IPS Salud Ocupacional Andina)")
    );
    assert!(out.body.starts_with("Dear Carolina Pérez,"));

    // A broken template is an error that names the desk's file.
    std::fs::write(own.join("acknowledgement.txt"), "Hello {{ case.id ").unwrap();
    let err = compose(&desk, &t, MailKind::Acknowledgement, &ev)
        .unwrap_err()
        .to_string();
    assert!(err.contains("theme/emails/en/acknowledgement.txt"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Delivery to the fault-injecting sink

fn error_json(root: &Path, stem: &str, name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(root.join("outbox").join(stem).join(name))
        .unwrap_or_else(|e| panic!("{stem}/{name}: {e}"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn drop_before_data_is_a_failure_retried_until_delivered_once() {
    for (fault, phase) in [
        (Fault::DropAfterMail, "mail"),
        (Fault::DropAfterDataCommand, "data"),
        (Fault::RejectRcpt, "rcpt"),
        (Fault::TempFailBody, "message"),
    ] {
        let sink = Sink::start(&[fault]);
        let dir = sample_desk(sink.port);
        let root = dir.path();
        let (ack, _sol) = queue_ack_and_solution(root);
        let o = mesa(root, &["outbox", "send"]);
        assert_eq!(o.status.code(), Some(1), "{fault:?}: {}", text(&o));
        // The first message failed and is still queued with its error; the second went out.
        let q = queued(root);
        assert_eq!(q.len(), 1, "{fault:?}: {q:?}");
        assert!(q[0].contains("acknowledgement"));
        let err = error_json(root, &q[0], "error.json");
        assert_eq!(err["phase"], phase, "{fault:?}: {err}");
        assert_eq!(err["attempts"], 1);
        assert!(!root
            .join("outbox")
            .join(&q[0])
            .join("uncertain.json")
            .exists());
        let listed = list_json(root);
        assert_eq!(listed[0]["state"], "failed", "{listed}");
        let o = mesa(root, &["outbox", "list"]);
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("falló"),
            "{}",
            text(&o)
        );

        let o = mesa(root, &["outbox", "send"]);
        assert!(o.status.success(), "{fault:?}: {}", text(&o));
        assert!(queued(root).is_empty());
        assert_eq!(sent(root).len(), 2);
        let delivered = sink.delivered();
        let acks: Vec<_> = delivered
            .iter()
            .filter(|m| m.header("Message-ID").as_deref() == Some(ack.message_id.as_str()))
            .collect();
        assert_eq!(
            acks.len(),
            1,
            "{fault:?}: the acknowledgement arrived exactly once"
        );
        assert_eq!(delivered.len(), 2, "{fault:?}");
        // A third run sends nothing.
        let o = mesa(root, &["outbox", "send"]);
        assert!(o.status.success());
        assert_eq!(sink.delivered().len(), 2);
    }
}

#[test]
fn drop_after_the_message_is_possibly_sent_and_never_resent_on_its_own() {
    for fault in [Fault::DropAfterBody, Fault::DropAfter354] {
        let sink = Sink::start(&[Fault::None, fault]);
        let dir = sample_desk(sink.port);
        let root = dir.path();
        let (ack, sol) = queue_ack_and_solution(root);
        let o = mesa(root, &["outbox", "send"]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("--retry-uncertain"),
            "{}",
            text(&o)
        );
        assert_eq!(sent(root).len(), 1, "the acknowledgement went out");
        let q = queued(root);
        assert_eq!(q.len(), 1);
        assert!(q[0].contains("solution"));
        let unc = error_json(root, &q[0], "uncertain.json");
        assert_eq!(unc["phase"], "message");
        assert!(!root.join("outbox").join(&q[0]).join("sending").exists());
        assert_eq!(list_json(root)[0]["state"], "uncertain");
        let expected_first = if fault == Fault::DropAfterBody { 2 } else { 1 };
        assert_eq!(sink.delivered().len(), expected_first, "{fault:?}");

        // Plain runs leave it alone: no second copy.
        for _ in 0..2 {
            let o = mesa(root, &["outbox", "send"]);
            assert_eq!(o.status.code(), Some(1), "{}", text(&o));
            assert_eq!(
                sink.delivered().len(),
                expected_first,
                "{fault:?}: not resent"
            );
            assert_eq!(queued(root).len(), 1, "never lost");
        }

        // The operator asks for it: resent once, with the same Message-ID.
        let o = mesa(root, &["outbox", "send", "--retry-uncertain", "--yes"]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(queued(root).is_empty());
        assert_eq!(sent(root).len(), 2);
        let copies: Vec<_> = sink
            .delivered()
            .into_iter()
            .filter(|m| m.header("Message-ID").as_deref() == Some(sol.message_id.as_str()))
            .collect();
        assert_eq!(copies.len(), expected_first, "{fault:?}");
        assert!(
            copies.iter().all(|m| m.data == copies[0].data),
            "a resend is byte-identical"
        );
        let acks = sink
            .delivered()
            .into_iter()
            .filter(|m| m.header("Message-ID").as_deref() == Some(ack.message_id.as_str()))
            .count();
        assert_eq!(acks, 1);
    }
}

#[test]
fn a_broken_connection_mid_queue_keeps_order_and_reconnects() {
    let sink = Sink::start(&[Fault::None, Fault::DropAfterMail, Fault::None]);
    let dir = sample_desk(sink.port);
    let root = dir.path();
    let desk = Desk::open(root).unwrap();
    let mut t = ticket(root);
    let mut outs = Vec::new();
    for (i, when) in [
        "2026-11-02T09:00:00-05:00",
        "2026-11-02T09:05:00-05:00",
        "2026-11-02T09:10:00-05:00",
    ]
    .iter()
    .enumerate()
    {
        let mut ev = Event::new(at(when), "lmartinez", EventKind::Commented);
        ev.text = Some(format!("Avance número {i} del caso."));
        ev.public = Some(true);
        outs.push(step(&desk, &mut t, MailKind::Comment, ev));
    }
    let o = mesa(root, &["outbox", "send"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let got: Vec<String> = sink
        .delivered()
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(
        got,
        vec![outs[0].message_id.clone(), outs[2].message_id.clone()]
    );
    assert!(sink.connections() >= 2, "reconnected after the drop");
    let o = mesa(root, &["outbox", "send"]);
    assert!(o.status.success(), "{}", text(&o));
    let got: Vec<String> = sink
        .delivered()
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    assert_eq!(got.len(), 3);
    assert_eq!(got[2], outs[1].message_id);
}

#[test]
fn a_send_interrupted_by_a_crash_is_treated_as_possibly_sent() {
    let sink = Sink::start(&[]);
    let dir = sample_desk(sink.port);
    let root = dir.path();
    let (_ack, _sol) = queue_ack_and_solution(root);
    // mesa died between DATA and the server's reply: the marker is still there.
    let q = queued(root);
    std::fs::write(root.join("outbox").join(&q[0]).join("sending"), b"").unwrap();
    assert_eq!(list_json(root)[0]["state"], "interrupted");
    let o = mesa(root, &["outbox", "send"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert_eq!(sink.delivered().len(), 1, "only the other message");
    assert_eq!(queued(root), vec![q[0].clone()]);
    assert_eq!(list_json(root)[0]["state"], "uncertain");
    // A resend needs a confirmation per message: without a terminal to ask on and without
    // --yes, it names the message the server may hold and sends nothing.
    let o = mesa(root, &["outbox", "send", "--retry-uncertain"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains(&q[0]), "{}", text(&o));
    assert!(text(&o).contains("--yes"), "{}", text(&o));
    assert_eq!(
        sink.delivered().len(),
        1,
        "nothing resent without confirmation"
    );
    let o = mesa(root, &["outbox", "send", "--retry-uncertain", "--yes"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(sink.delivered().len(), 2);
    // The server's queue id is kept with each delivered message.
    for s in sent(root) {
        let d: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root.join("outbox/sent").join(&s).join("delivered.json"))
                .unwrap(),
        )
        .unwrap();
        assert!(
            d["queue_id"]
                .as_str()
                .is_some_and(|q| q.starts_with("SINK")),
            "{d}"
        );
    }
    assert!(queued(root).is_empty());
}

#[test]
fn a_delivered_message_whose_move_was_interrupted_is_not_resent() {
    let sink = Sink::start(&[]);
    let dir = sample_desk(sink.port);
    let root = dir.path();
    let (_ack, _sol) = queue_ack_and_solution(root);
    let q = queued(root);
    std::fs::write(
        root.join("outbox").join(&q[0]).join("delivered.json"),
        br#"{"at":"2026-11-02T13:20:00Z","response":"250 OK"}"#,
    )
    .unwrap();
    let o = mesa(root, &["outbox", "send"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        sink.delivered().len(),
        1,
        "only the solution went over SMTP"
    );
    assert_eq!(sent(root).len(), 2);
}

#[test]
fn one_send_at_a_time_and_no_server_keeps_everything() {
    // Nobody listens on this port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = sample_desk(port);
    let root = dir.path();
    queue_ack_and_solution(root);
    let o = mesa(root, &["outbox", "send"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let q = queued(root);
    assert_eq!(q.len(), 2);
    for stem in &q {
        assert_eq!(error_json(root, stem, "error.json")["phase"], "connect");
    }
    assert!(
        String::from_utf8_lossy(&o.stdout).contains(&format!("127.0.0.1:{port}")),
        "{}",
        text(&o)
    );

    let lock = std::fs::File::create(root.join("outbox/.lock")).unwrap();
    lock.lock().unwrap();
    let o = mesa(root, &["outbox", "send"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("outbox send"),
        "{}",
        text(&o)
    );
    drop(lock);
}

#[test]
fn credentials_are_not_sent_in_clear_to_a_remote_host() {
    let sink = Sink::start(&[]);
    let dir = sample_desk(sink.port);
    let root = dir.path();
    // A remote host without TLS: refused before any connection is made.
    let yaml = std::fs::read_to_string(root.join("desk.yaml")).unwrap();
    std::fs::write(
        root.join("desk.yaml"),
        yaml.replace("smtp_host: 127.0.0.1", "smtp_host: smtp.example.invalid"),
    )
    .unwrap();
    queue_ack_and_solution(root);
    let o = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(root)
        .args(["outbox", "send"])
        .env("MESA_SMTP_USER", "agente")
        .env("MESA_SMTP_PASSWORD", "secreto")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("tls: starttls"),
        "{}",
        text(&o)
    );
    assert!(sink.received().is_empty());
    assert_eq!(queued(root).len(), 2);
}

// ---------------------------------------------------------------------------------------
// Delivery to a real SMTP server (aiosmtpd)

struct Aiosmtpd {
    child: Child,
    port: u16,
    maildir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Aiosmtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts aiosmtpd on a free loopback port saving to a Maildir, or explains why it cannot
/// (None: skipped; a failure when MESA_REQUIRE_SMTP=1, as in CI).
fn aiosmtpd() -> Option<Aiosmtpd> {
    aiosmtpd_with(&[])
}

/// [`aiosmtpd`] with extra command-line options (TLS).
fn aiosmtpd_with(extra: &[&str]) -> Option<Aiosmtpd> {
    let have = Command::new("/usr/bin/env")
        .args(["python3", "-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !have {
        let why = "python3 with aiosmtpd is not available (install Debian's python3-aiosmtpd or `pip install aiosmtpd`)";
        if std::env::var("MESA_REQUIRE_SMTP").as_deref() == Ok("1") {
            panic!("MESA_REQUIRE_SMTP=1 but {why}");
        }
        eprintln!("SKIPPED: the real-SMTP-server test did not run: {why}");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let maildir = dir.path().join("maildir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("/usr/bin/env")
        .args(["python3", "-m", "aiosmtpd", "-n", "-l"])
        .arg(format!("127.0.0.1:{port}"))
        .args(extra)
        .args(["-c", "aiosmtpd.handlers.Mailbox"])
        .arg(&maildir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aiosmtpd");
    let server = Aiosmtpd {
        child,
        port,
        maildir,
        _dir: dir,
    };
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "aiosmtpd did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(server)
}

/// The Maildir's messages parsed by Python's `email` package (decoded headers and body).
fn read_maildir(maildir: &Path) -> Vec<serde_json::Value> {
    let script = r#"
import email, email.policy, json, os, sys
d = os.path.join(sys.argv[1], "new")
out = []
for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
    with open(os.path.join(d, f), "rb") as fh:
        m = email.message_from_binary_file(fh, policy=email.policy.default)
    out.append({
        "subject": str(m["subject"]), "from": str(m["from"]), "to": str(m["to"]),
        "message_id": str(m["message-id"]), "in_reply_to": m["in-reply-to"] and str(m["in-reply-to"]),
        "references": m["references"] and str(m["references"]), "date": str(m["date"]),
        "content_type": m.get_content_type(), "charset": m.get_content_charset(),
        "rcpt": str(m["x-rcptto"]), "mail_from": str(m["x-mailfrom"]), "body": m.get_content(),
    })
print(json.dumps(out))
"#;
    let o = Command::new("/usr/bin/env")
        .args(["python3", "-c", script])
        .arg(maildir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let mut v: Vec<serde_json::Value> = serde_json::from_slice(&o.stdout).unwrap();
    v.sort_by_key(|m| m["message_id"].as_str().unwrap_or_default().to_string());
    v
}

#[test]
fn delivers_to_a_real_smtp_server() {
    let Some(server) = aiosmtpd() else {
        return;
    };
    let dir = sample_desk(server.port);
    let root = dir.path();
    let (ack, sol) = queue_ack_and_solution(root);
    let o = mesa(root, &["outbox", "send"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("2 enviados"),
        "{}",
        text(&o)
    );
    assert!(queued(root).is_empty());
    assert_eq!(sent(root).len(), 2);
    let got = read_maildir(&server.maildir);
    assert_eq!(got.len(), 2, "{got:?}");
    let find = |id: &str| {
        got.iter()
            .find(|m| m["message_id"] == id)
            .unwrap_or_else(|| panic!("{id} in {got:?}"))
    };
    let a = find(&ack.message_id);
    let s = find(&sol.message_id);
    for m in [a, s] {
        assert_eq!(m["from"], "Mesa de Servicio SGM <soporte@sgm.com.co>");
        assert_eq!(m["to"], "Carolina Pérez <cperez@ipsandina.example.co>");
        assert_eq!(m["rcpt"], "cperez@ipsandina.example.co");
        assert_eq!(m["mail_from"], "soporte@sgm.com.co");
        assert_eq!(m["content_type"], "text/plain");
        assert_eq!(m["charset"], "utf-8");
        assert!(m["date"].as_str().unwrap().contains("2026"), "{m}");
    }
    assert_eq!(
        a["subject"],
        "[Caso 261102-C4K7P] Recibimos su reporte: No carga la página de historias clínicas"
    );
    let body = a["body"].as_str().unwrap();
    assert!(body.starts_with("Estimado(a) Carolina Pérez:"), "{body}");
    assert!(
        body.contains("abrimos el caso número 261102-C4K7P"),
        "{body}"
    );
    // 2026-11-02 is a holiday in Colombia: the 2 h response runs from Tuesday 07:00.
    assert!(
        body.contains("a más tardar el martes 3 de noviembre de 2026, 09:00"),
        "{body}"
    );
    assert_eq!(a["in_reply_to"], serde_json::Value::Null);
    assert_eq!(
        s["subject"],
        "[Caso 261102-C4K7P] Solución de su caso: No carga la página de historias clínicas"
    );
    assert_eq!(s["in_reply_to"], ack.message_id.as_str());
    assert_eq!(s["references"], ack.message_id.as_str());
    let body = s["body"].as_str().unwrap();
    assert!(
        body.contains("la página de historias clínicas ya carga."),
        "{body}"
    );
    assert!(
        body.contains("CONFIRMO") && body.contains("RECHAZO: motivo"),
        "{body}"
    );

    // Nothing is sent twice.
    let o = mesa(root, &["outbox", "send"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(read_maildir(&server.maildir).len(), 2);
}

// ---------------------------------------------------------------------------------------
// With the lifecycle commands

/// The sample desk in a temp git repository (the lifecycle commands commit every step).
fn desk_repo(port: u16) -> tempfile::TempDir {
    let dir = sample_desk(port);
    std::fs::write(dir.path().join(".gitignore"), "/outbox/\n").unwrap();
    let repo = git2::Repository::init(dir.path()).unwrap();
    let mut index = repo.index().unwrap();
    index
        .add_all(["*"].iter(), git2::IndexAddOption::DEFAULT, None)
        .unwrap();
    index.write().unwrap();
    let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
    let sig = git2::Signature::now("Laura Martínez", "lmartinez@sgm.example.co").unwrap();
    repo.commit(Some("HEAD"), &sig, &sig, "sample desk", &tree, &[])
        .unwrap();
    dir
}

fn step_cmd(root: &Path, now: &str, args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(root)
        .args(["--now", now, "--format", "json"])
        .args(args)
        .env("MESA_AGENT", "lmartinez")
        .env_remove("MESA_LANG")
        .env_remove("MESA_DESK")
        .env_remove("MESA_NOW")
        .output()
        .unwrap();
    assert!(o.status.success(), "{args:?}: {}", text(&o));
    o
}

#[test]
fn lifecycle_steps_queue_threaded_mail_recorded_in_the_ticket() {
    let sink = Sink::start(&[]);
    let dir = desk_repo(sink.port);
    let root = dir.path();
    let o = step_cmd(
        root,
        "2026-11-03T08:00:00-05:00",
        &[
            "new",
            "--channel",
            "phone",
            "--customer",
            "ips-andina",
            "--requester",
            "Carolina Pérez <cperez@ipsandina.example.co>",
            "--title",
            "No imprime el certificado de aptitud",
            "--description",
            "Al imprimir el certificado sale en blanco.",
            "--type",
            "incident",
            "--priority",
            "alta",
        ],
    );
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    step_cmd(
        root,
        "2026-11-03T09:00:00-05:00",
        &[
            "resolve",
            &id,
            "--solution",
            "Se reinstaló el controlador de la impresora; el certificado imprime completo.",
        ],
    );
    assert_eq!(queued(root).len(), 2, "acknowledgement and solution queued");

    // The ticket's events carry the Message-IDs of the queued mail.
    let rel = format!("tickets/20{}/{}/{id}.md", &id[0..2], &id[2..4]);
    let t = mesa::model::ticket::parse(
        Path::new(&rel),
        &std::fs::read_to_string(root.join(&rel)).unwrap(),
    )
    .unwrap();
    let ids: Vec<String> = t
        .front
        .events
        .iter()
        .filter_map(|e| e.message_id.clone())
        .collect();
    assert_eq!(ids.len(), 2, "{:?}", t.front.events);
    assert_eq!(
        t.front.events[0].message_id.as_deref(),
        Some(ids[0].as_str())
    );

    // Queueing failed after the commit (simulated: the messages vanish): requeue rebuilds them
    // byte for byte from the ticket, and only once.
    let q = queued(root);
    let originals: Vec<Vec<u8>> = q
        .iter()
        .map(|s| std::fs::read(root.join("outbox").join(s).join("message.eml")).unwrap())
        .collect();
    for s in &q {
        std::fs::remove_dir_all(root.join("outbox").join(s)).unwrap();
    }
    let o = mesa(
        root,
        &["--format", "json", "outbox", "requeue", &id.to_lowercase()],
    );
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["queued"], serde_json::json!(ids));
    assert_eq!(queued(root), q);
    for (s, original) in q.iter().zip(&originals) {
        let again = std::fs::read(root.join("outbox").join(s).join("message.eml")).unwrap();
        assert!(again == *original, "{s} rebuilt identically");
    }
    let o = mesa(root, &["--format", "json", "outbox", "requeue", &id]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["queued"],
        serde_json::json!([])
    );

    let o = mesa(root, &["outbox", "send"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = mesa(root, &["--format", "json", "outbox", "requeue", &id]);
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap()["queued"],
        serde_json::json!([]),
        "sent messages are not queued again"
    );
    let got = sink.delivered();
    assert_eq!(got.len(), 2);
    let ack = got
        .iter()
        .find(|m| m.header("Message-ID").as_deref() == Some(ids[0].as_str()))
        .unwrap();
    let sol = got
        .iter()
        .find(|m| m.header("Message-ID").as_deref() == Some(ids[1].as_str()))
        .unwrap();
    assert!(ack.header("In-Reply-To").is_none());
    assert_eq!(sol.header("In-Reply-To").as_deref(), Some(ids[0].as_str()));
    assert_eq!(sol.header("References").as_deref(), Some(ids[0].as_str()));
    assert!(
        ack.header("Subject").unwrap().contains(&id),
        "{:?}",
        ack.header("Subject")
    );
    // The acknowledgement promises the priority's 2 h response on the working calendar.
    let body = quoted_printable_decode(ack.data.split_once("\r\n\r\n").unwrap().1);
    assert!(
        body.contains("a más tardar el martes 3 de noviembre de 2026, 10:00"),
        "{body}"
    );
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/smtp-tls")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn delivers_over_starttls_and_implicit_tls() {
    let (cert, key) = (fixture("cert.pem"), fixture("key.pem"));
    for (mode, flags) in [
        ("starttls", ["--tlscert", "--tlskey"]),
        ("tls", ["--smtpscert", "--smtpskey"]),
    ] {
        let Some(server) = aiosmtpd_with(&[flags[0], &cert, flags[1], &key]) else {
            return;
        };
        let dir = sample_desk(server.port);
        let root = dir.path();
        let yaml = std::fs::read_to_string(root.join("desk.yaml")).unwrap();
        std::fs::write(
            root.join("desk.yaml"),
            yaml.replace("tls: none", &format!("tls: {mode}")),
        )
        .unwrap();
        queue_ack_and_solution(root);

        // The server's certificate is not from a public authority: refused, nothing lost.
        let o = mesa(root, &["outbox", "send"]);
        assert_eq!(o.status.code(), Some(1), "{mode}: {}", text(&o));
        assert_eq!(queued(root).len(), 2);
        assert!(read_maildir(&server.maildir).is_empty());

        // Trusting it (as a company trusts its private CA) delivers, encrypted.
        let o = Command::new(env!("CARGO_BIN_EXE_mesa"))
            .arg("--desk")
            .arg(root)
            .args(["outbox", "send"])
            .env("MESA_SMTP_CA_FILE", &cert)
            .env("MESA_SMTP_USER", "agente")
            .env("MESA_SMTP_PASSWORD", "secreto")
            .env_remove("MESA_LANG")
            .output()
            .unwrap();
        // aiosmtpd offers no AUTH: credentials are only attempted, over TLS, and refused.
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{mode}: {out}");
        assert!(out.contains("MESA_SMTP_USER"), "{mode}: {out}");
        let o = Command::new(env!("CARGO_BIN_EXE_mesa"))
            .arg("--desk")
            .arg(root)
            .args(["outbox", "send"])
            .env("MESA_SMTP_CA_FILE", &cert)
            .env_remove("MESA_SMTP_USER")
            .env_remove("MESA_LANG")
            .output()
            .unwrap();
        assert!(o.status.success(), "{mode}: {}", text(&o));
        assert!(queued(root).is_empty());
        let got = read_maildir(&server.maildir);
        assert_eq!(got.len(), 2, "{mode}");
        assert!(got.iter().all(|m| m["subject"]
            .as_str()
            .unwrap()
            .starts_with("[Caso 261102-C4K7P]")));
    }
}
