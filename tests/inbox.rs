//! `mesa inbox import`: a corpus of real-shaped customer emails (written here, byte by byte)
//! delivered to a Maildir and imported into a real desk in a real git repository with the real
//! binary, each with the outcome worked out by hand; the same Maildir imported in two clones
//! that then merge; dry runs; repeats.

mod common;

use common::git::{bare_remote, clone, git, TestDesk, MESA};
use common::mail_corpus::{base64, cp1252, crlf, deliver, latin1, quoted_printable};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// 2 November 2026 at `hh:mm` in Bogotá.
fn nov2(hh: u32, mm: u32) -> String {
    format!("2026-11-02T{hh:02}:{mm:02}:00-05:00")
}

/// Runs `mesa inbox ...` in the desk's own language (Spanish).
fn inbox(root: &Path, now: &str, args: &[&str]) -> Output {
    Command::new(MESA)
        .args(["--desk", root.to_str().unwrap(), "--now", now])
        .args(args)
        .env("MESA_AGENT", "lmartinez")
        .env_remove("MESA_DESK")
        .env_remove("MESA_NOW")
        .env_remove("MESA_LANG")
        .output()
        .expect("mesa runs")
}

fn import_json(root: &Path, now: &str, extra: &[&str], sources: &[&Path]) -> Value {
    let mut args: Vec<&str> = vec!["--format", "json", "inbox", "import"];
    args.extend_from_slice(extra);
    let srcs: Vec<String> = sources
        .iter()
        .map(|p| p.to_str().unwrap().to_string())
        .collect();
    args.extend(srcs.iter().map(String::as_str));
    let out = inbox(root, now, &args);
    assert!(
        out.status.success(),
        "inbox import failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// The Message-ID of the email a ticket's event of `kind` queued.
fn mail_id(d: &TestDesk, id: &str, kind: &str) -> String {
    let v = d.show(id);
    v["emails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == kind)
        .unwrap_or_else(|| panic!("{id} has no {kind} email: {v}"))["message_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn commits(root: &Path) -> usize {
    git(root, &["rev-list", "--count", "HEAD"])
        .trim()
        .parse()
        .unwrap()
}

/// A plain header block; `extra` lines are added as given.
fn headers(from: &str, subject: &str, received: &str, mid: Option<&str>, extra: &[&str]) -> String {
    let mut h = format!(
        "Received: from mx.cliente.example by mail.sgm.com.co with ESMTPS id 4X; {received}\n"
    );
    h.push_str(&format!(
        "From: {from}\nTo: Mesa de Servicio SGM <soporte@sgm.com.co>\n"
    ));
    h.push_str(&format!("Subject: {subject}\nDate: {received}\n"));
    if let Some(m) = mid {
        h.push_str(&format!("Message-ID: {m}\n"));
    }
    for e in extra {
        h.push_str(e);
        h.push('\n');
    }
    h.push_str("MIME-Version: 1.0\n");
    h
}

struct Cases {
    a: String,
    b: String,
    c: String,
    d: String,
    e: String,
    f: String,
}

/// Six cases in the states the replies need, made with the CLI.
fn setup(d: &TestDesk) -> Cases {
    let incident = ["--type", "incident", "--incident", "no-carga-pagina"];
    // E: solved and confirmed a month ago (beyond the desk's 120 h reopen window).
    let e = d.new_ticket("2026-10-01T09:00:00-05:00", &incident);
    d.ok("2026-10-01T09:05:00-05:00", &["start", &e]);
    d.ok(
        "2026-10-01T09:10:00-05:00",
        &["resolve", &e, "--solution", "Se reinició el servicio web"],
    );
    d.ok("2026-10-01T10:00:00-05:00", &["confirm", &e]);
    // D: solved and confirmed this morning.
    let dd = d.new_ticket(&nov2(7, 0), &incident);
    d.ok(&nov2(7, 5), &["start", &dd]);
    d.ok(
        &nov2(7, 10),
        &[
            "resolve",
            &dd,
            "--solution",
            "Se limpió la caché del navegador",
        ],
    );
    d.ok(&nov2(7, 30), &["confirm", &dd]);
    // A: in analysis.
    let a = d.new_ticket(&nov2(8, 0), &incident);
    // B and F: solution notified, awaiting the customer's confirmation.
    let b = d.new_ticket(&nov2(8, 5), &incident);
    d.ok(&nov2(8, 10), &["start", &b]);
    d.ok(
        &nov2(8, 20),
        &[
            "resolve",
            &b,
            "--solution",
            "Se actualizó el certificado del servidor",
        ],
    );
    let f = d.new_ticket(&nov2(8, 6), &incident);
    d.ok(&nov2(8, 11), &["start", &f]);
    d.ok(
        &nov2(8, 21),
        &["resolve", &f, "--solution", "Se reinstaló el controlador"],
    );
    // C: a quote awaiting approval.
    let c = d.new_ticket(
        &nov2(8, 30),
        &["--type", "request", "--request", "crear-plantilla"],
    );
    d.ok(&nov2(8, 40), &["cab", &c]);
    d.ok(
        &nov2(8, 45),
        &[
            "propose",
            &c,
            "--text",
            "Plantilla de historia ocupacional",
            "--amount",
            "800000",
            "--currency",
            "COP",
        ],
    );
    Cases {
        a,
        b,
        c,
        d: dd,
        e,
        f,
    }
}

const MARCELA: &str = "Marcela =?UTF-8?Q?Rinc=C3=B3n?= <sistemas@santahelena.example.co>";

/// The corpus: (file name in the Maildir, bytes). Names sort in delivery order.
fn corpus(d: &TestDesk, k: &Cases) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let mut add = |n: u32, text: Vec<u8>| {
        out.push((format!("1762095{n:03}.M{n}P1.mx"), text));
    };

    // 1. Gmail reply, UTF-8 8-bit, Spanish attribution over two lines, quoted history.
    let ack_a = mail_id(d, &k.a, "created");
    let mut m = headers(
        MARCELA,
        &format!("Re: [Caso {}] Hemos recibido su caso", k.a),
        "Mon, 2 Nov 2026 10:00:00 -0500",
        Some("<CAGmail01@mail.gmail.com>"),
        &[
            &format!("In-Reply-To: {ack_a}"),
            &format!("References: {ack_a}"),
        ],
    );
    m.push_str("Content-Type: text/plain; charset=\"UTF-8\"\nContent-Transfer-Encoding: 8bit\n\n");
    m.push_str(
        "Buenos días,\n\nLa página sigue sin cargar desde el pabellón B.\n\n\
         El lun, 2 nov 2026 a las 8:00, Mesa de Servicio SGM (<\n\
         soporte@sgm.com.co>) escribió:\n\n> Estimado(a) Marcela:\n> Hemos recibido su caso\n",
    );
    add(1, crlf(&m).into_bytes());

    // 2. Outlook reply, Windows-1252 quoted-printable, header block: confirms B's solution.
    let sol_b = mail_id(d, &k.b, "resolved");
    let mut m = headers(
        MARCELA,
        &format!("RE: [Caso {}] =?utf-8?q?Soluci=C3=B3n?= de su caso", k.b),
        "Mon, 2 Nov 2026 10:05:00 -0500",
        Some("<DM6PR01MB0002@namprd01.prod.outlook.com>"),
        &[
            &format!("In-Reply-To: {sol_b}"),
            &format!("References: {} {sol_b}", mail_id(d, &k.b, "created")),
            "X-Mailer: Microsoft Outlook 16.0",
        ],
    );
    m.push_str(
        "Content-Type: text/plain; charset=\"windows-1252\"\nContent-Transfer-Encoding: quoted-printable\n\n",
    );
    let body = crlf(
        "CONFIRMO\n\nGracias “Laura”, ya funciona — 100 €.\n\n________________________________\n\
         De: Mesa de Servicio SGM <soporte@sgm.com.co>\nEnviado: lunes, 2 de noviembre de 2026 8:20\n\
         Para: Marcela Rincón\nAsunto: [Caso] Solución de su caso\n\nEstimado(a) Marcela:\n",
    );
    let mut bytes = crlf(&m).into_bytes();
    bytes.extend(quoted_printable(&cp1252(&body)).into_bytes());
    add(2, bytes);

    // 3. HTML-only reply in base64 accepting C's quote.
    let prop_c = mail_id(d, &k.c, "proposed");
    let mut m = headers(
        MARCELA,
        &format!("Re: [Caso {}] Cotización", k.c),
        "Mon, 2 Nov 2026 10:10:00 -0500",
        Some("<CAGmail03@mail.gmail.com>"),
        &[&format!("In-Reply-To: {prop_c}")],
    );
    m.push_str("Content-Type: text/html; charset=\"UTF-8\"\nContent-Transfer-Encoding: base64\n\n");
    let html = "<html><body><div dir=\"ltr\">Acepto.</div><br><div class=\"gmail_quote\">\
                <div dir=\"ltr\" class=\"gmail_attr\">El lun, 2 nov 2026 a las 8:45, Mesa de Servicio SGM \
                &lt;soporte@sgm.com.co&gt; escribió:<br></div><blockquote>Le enviamos la cotización \
                para su caso</blockquote></div></body></html>";
    let mut bytes = crlf(&m).into_bytes();
    bytes.extend(base64(html.as_bytes()).into_bytes());
    bytes.extend(b"\r\n");
    add(3, bytes);

    // 4. A new message in ISO-8859-1 quoted-printable with encoded-word subject and sender,
    //    from the customer's domain (not a listed contact).
    let mut m = headers(
        "=?ISO-8859-1?Q?Jos=E9_P=E9rez?= <jperez@santahelena.example.co>",
        "=?ISO-8859-1?Q?Creaci=F3n_de_usuario_para_auditor=EDa?=",
        "Mon, 2 Nov 2026 10:15:00 -0500",
        Some("<20261102101500.jperez@santahelena.example.co>"),
        &[],
    );
    m.push_str(
        "Content-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n",
    );
    let mut bytes = crlf(&m).into_bytes();
    bytes.extend(
        quoted_printable(&latin1(&crlf(
            "Necesitamos un usuario para la auditora externa, Sra. Núñez.\n\nGracias,\nJosé\n",
        )))
        .into_bytes(),
    );
    add(4, bytes);

    // 5. Attachments: a PDF that is kept and a ZIP over the message cap.
    let pdf: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 251) as u8).collect();
    let zip: Vec<u8> = (0..150_000u32).map(|i| (i % 253) as u8).collect();
    let mut m = headers(
        "=?UTF-8?Q?Juli=C3=A1n_Andr=C3=A9s_Pardo?= <jpardo@ipsandina.example.co>",
        "Error al generar el informe mensual",
        "Mon, 2 Nov 2026 10:20:00 -0500",
        Some("<att05@ipsandina.example.co>"),
        &[],
    );
    m.push_str("Content-Type: multipart/mixed; boundary=\"XYZ\"\n\n--XYZ\n");
    m.push_str(
        "Content-Type: text/plain; charset=UTF-8\n\nAdjunto el informe con el error.\n\n--XYZ\n",
    );
    m.push_str(
        "Content-Type: application/pdf; name=\"informe de error.pdf\"\n\
         Content-Disposition: attachment; filename=\"informe de error.pdf\"\n\
         Content-Transfer-Encoding: base64\n\n",
    );
    let mut bytes = crlf(&m).into_bytes();
    bytes.extend(base64(&pdf).into_bytes());
    bytes.extend(
        crlf(
            "\n--XYZ\nContent-Type: application/zip\n\
             Content-Disposition: attachment; filename=\"registros.zip\"\n\
             Content-Transfer-Encoding: base64\n\n",
        )
        .into_bytes(),
    );
    bytes.extend(base64(&zip).into_bytes());
    bytes.extend(b"\r\n--XYZ--\r\n");
    add(5, bytes);

    // 6. An out-of-office auto-reply to A's acknowledgement.
    let mut m = headers(
        MARCELA,
        &format!(
            "Respuesta automática: [Caso {}] Hemos recibido su caso",
            k.a
        ),
        "Mon, 2 Nov 2026 10:21:00 -0500",
        Some("<auto06@santahelena.example.co>"),
        &[
            "Auto-Submitted: auto-replied",
            &format!("In-Reply-To: {ack_a}"),
        ],
    );
    m.push_str(
        "Content-Type: text/plain; charset=UTF-8\n\nEstoy fuera de la oficina hasta el lunes.\n",
    );
    add(6, crlf(&m).into_bytes());

    // 7. A bounce (delivery-status report).
    let mut m = headers(
        "Mail Delivery Subsystem <MAILER-DAEMON@mx.santahelena.example.co>",
        "Undelivered Mail Returned to Sender",
        "Mon, 2 Nov 2026 10:22:00 -0500",
        Some("<bounce07@mx.santahelena.example.co>"),
        &[],
    );
    m.push_str(
        "Content-Type: multipart/report; report-type=delivery-status; boundary=\"R\"\n\n\
         --R\nContent-Type: text/plain\n\nThe mail system could not deliver your message.\n\
         --R\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\nAction: failed\n--R--\n",
    );
    add(7, crlf(&m).into_bytes());

    // 8. A reply to D, closed 3 h ago: within the window, it reopens.
    let sol_d = mail_id(d, &k.d, "resolved");
    let mut m = headers(
        MARCELA,
        &format!("Re: [Caso {}] Solución de su caso", k.d),
        "Mon, 2 Nov 2026 10:25:00 -0500",
        Some("<CAGmail08@mail.gmail.com>"),
        &[&format!("In-Reply-To: {sol_d}")],
    );
    m.push_str(
        "Content-Type: text/plain; charset=UTF-8\n\nEl problema volvió a aparecer esta mañana.\n",
    );
    add(8, crlf(&m).into_bytes());

    // 9. A message naming E (closed a month ago) only in its subject: a new linked case.
    let mut m = headers(
        MARCELA,
        &format!("[Caso {}] otra vez sin servicio", k.e),
        "Mon, 2 Nov 2026 10:26:00 -0500",
        Some("<CAGmail09@mail.gmail.com>"),
        &[],
    );
    m.push_str(
        "Content-Type: text/plain; charset=UTF-8\n\nDe nuevo no carga la página de citas.\n",
    );
    add(9, crlf(&m).into_bytes());

    // 10. An unknown sender.
    let mut m = headers(
        "Pedro Gómez <pedro.gomez@correo-personal.example.net>",
        "Consulta sobre el servicio",
        "Mon, 2 Nov 2026 10:27:00 -0500",
        Some("<p10@correo-personal.example.net>"),
        &[],
    );
    m.push_str("Content-Type: text/plain; charset=UTF-8\n\n¿Atienden los sábados?\n");
    add(10, crlf(&m).into_bytes());

    // 11. No Message-ID at all, from a listed contact.
    let mut m = headers(
        "Hernán Darío Quintero <hquintero@hsanrafael.example.co>",
        "Lentitud en el módulo de facturación",
        "Mon, 2 Nov 2026 10:28:00 -0500",
        None,
        &[],
    );
    m.push_str(
        "Content-Type: text/plain; charset=UTF-8\n\nEl módulo tarda más de un minuto en abrir.\n",
    );
    add(11, crlf(&m).into_bytes());

    // 12. Not an email at all.
    add(12, vec![0u8, 159, 146, 150, 0, 1, 2, 3, 255, 254]);

    // 13. Mail from the desk's own address (a loop through a forwarding rule).
    let mut m = headers(
        "Mesa de Servicio SGM <soporte@sgm.com.co>",
        &format!("[Caso {}] Hemos recibido su caso", k.a),
        "Mon, 2 Nov 2026 10:29:00 -0500",
        Some("<own13@sgm.com.co>"),
        &[],
    );
    m.push_str("Content-Type: text/plain; charset=UTF-8\n\nEstimado(a) Marcela:\n");
    add(13, crlf(&m).into_bytes());

    // 14. Not an answer: "Rechazo" starts the line but is not the answer word alone or with
    //     a colon; F stays resolved and the message waits for the agent.
    let sol_f = mail_id(d, &k.f, "resolved");
    let mut m = headers(
        MARCELA,
        &format!("Re: [Caso {}] Solución de su caso", k.f),
        "Mon, 2 Nov 2026 10:30:00 -0500",
        Some("<CAGmail14@mail.gmail.com>"),
        &[&format!("In-Reply-To: {sol_f}")],
    );
    m.push_str(
        "Content-Type: text/plain; charset=UTF-8\n\nRechazo la idea de cerrarlo sin visita.\n-- \nMarcela Rincón\n",
    );
    add(14, crlf(&m).into_bytes());
    out
}

fn find<'a>(outcomes: &'a [Value], name: &str) -> &'a Value {
    outcomes
        .iter()
        .find(|o| o["source"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("no outcome for {name}"))
}

fn event_of<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == kind)
        .collect()
}

#[test]
fn corpus_of_customer_email() {
    let d = TestDesk::new();
    // A small per-message attachment cap for the ZIP to go over.
    let cfg = std::fs::read_to_string(d.root.join("desk.yaml")).unwrap();
    let cfg = cfg.replace(
        "max_attachments_per_message: 10485760",
        "max_attachments_per_message: 100000",
    );
    std::fs::write(d.root.join("desk.yaml"), cfg).unwrap();
    git(&d.root, &["commit", "-q", "-am", "attachment cap"]);
    let k = setup(&d);
    let maildir = d.root.parent().unwrap().join("Maildir");
    let messages = corpus(&d, &k);
    for (name, bytes) in &messages {
        deliver(&maildir, name, bytes);
    }
    let now = nov2(12, 0);

    // A dry run says the same as the real run and writes nothing.
    let head = d.head();
    let dry = import_json(&d.root, &now, &["--dry-run"], &[&maildir]);
    assert_eq!(d.head(), head, "a dry run commits nothing");
    assert_eq!(d.status(), "", "a dry run writes nothing");
    assert!(!d.root.join("rejected").exists());
    assert!(!d.root.join("outbox").read_dir().unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("20261102T1515")));

    let before = commits(&d.root);
    let v = import_json(&d.root, &now, &[], &[&maildir]);
    let out = v["messages"].as_array().unwrap().clone();
    assert_eq!(out.len(), 14);
    let actions: Vec<&str> = out.iter().map(|o| o["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        [
            "reply",
            "answer",
            "answer",
            "new",
            "new",
            "loop",
            "loop",
            "reopened",
            "new_linked",
            "new",
            "new",
            "rejected",
            "loop",
            "reply"
        ]
    );
    let dry_actions: Vec<&str> = dry["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["action"].as_str().unwrap())
        .collect();
    assert_eq!(dry_actions, actions, "the dry run predicts the real run");
    // One commit per message that changed the desk.
    assert_eq!(commits(&d.root) - before, 10);
    assert_eq!(d.status(), "", "everything written is committed");

    // 1. The reply, without the quoted history, on A.
    let m1 = find(&out, "M1P1.mx");
    assert_eq!(m1["ticket"], k.a.as_str());
    let a = d.show(&k.a);
    let rec = event_of(&a, "received");
    assert_eq!(rec.len(), 1);
    assert_eq!(
        rec[0]["text"],
        "Buenos días,\n\nLa página sigue sin cargar desde el pabellón B."
    );
    assert_eq!(rec[0]["by"], "customer");
    assert_eq!(rec[0]["received_id"], "<CAGmail01@mail.gmail.com>");
    assert_eq!(
        rec[0]["from"],
        "Marcela Rincón <sistemas@santahelena.example.co>"
    );
    // The arrival time is the desk server's Received header.
    assert_eq!(rec[0]["at"], "2026-11-02T10:00:00-05:00");
    assert_eq!(a["status"], "analysis");
    let log = git(&d.root, &["log", "--format=%s", "-n", "14"]);
    assert!(
        log.lines()
            .any(|l| l == format!("{}: respuesta del cliente", k.a)),
        "{log}"
    );

    // 2. Outlook, Windows-1252: the confirmation applied as the customer.
    assert_eq!(find(&out, "M2P1.mx")["answer"], "confirm");
    let b = d.show(&k.b);
    assert_eq!(b["status"], "closed");
    assert_eq!(b["close_reason"], "confirmed");
    let rec = event_of(&b, "received");
    assert_eq!(
        rec[0]["text"],
        "CONFIRMO\n\nGracias “Laura”, ya funciona — 100 €."
    );
    assert_eq!(event_of(&b, "confirmed")[0]["by"], "customer");

    // 3. HTML only, base64: the quote accepted, the quoted proposal not kept.
    assert_eq!(find(&out, "M3P1.mx")["answer"], "accept");
    let c = d.show(&k.c);
    assert_eq!(c["status"], "in_progress");
    let text = event_of(&c, "received")[0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(text.starts_with("Acepto."), "{text}");
    assert!(!text.contains("cotización"), "{text}");

    // 4. A new case from the customer's domain, through reception.
    let m4 = find(&out, "M4P1.mx");
    let id4 = m4["ticket"].as_str().unwrap().to_string();
    assert_eq!(m4["customer"], "clinica-santa-helena");
    let t4 = d.show(&id4);
    assert_eq!(t4["title"], "Creación de usuario para auditoría");
    assert_eq!(t4["channel"], "email");
    assert_eq!(t4["requester"]["name"], "José Pérez");
    assert_eq!(t4["requester"]["email"], "jperez@santahelena.example.co");
    assert_eq!(
        t4["description"],
        "Necesitamos un usuario para la auditora externa, Sra. Núñez.\n\nGracias,\nJosé\n"
    );
    assert_eq!(t4["status"], "new");
    assert_eq!(t4["events"][0]["by"], "mesa");
    assert!(id4.starts_with("261102-"), "{id4}");
    assert_eq!(d.outbox_kinds(&id4), ["acknowledgement"]);
    assert!(m4["queued"][0]
        .as_str()
        .unwrap()
        .contains(".acknowledgement."));

    // 5. The PDF kept beside the ticket, byte for byte; the ZIP over the cap left out.
    let m5 = find(&out, "M5P1.mx");
    let id5 = m5["ticket"].as_str().unwrap().to_string();
    assert_eq!(m5["customer"], "ips-andina");
    assert_eq!(
        (
            m5["attachments_kept"].as_u64(),
            m5["attachments_left_out"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let t5 = d.show(&id5);
    let atts = t5["events"][0]["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 2);
    assert!(atts[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("-informe_de_error.pdf"));
    assert_eq!(atts[0]["bytes"], 2000);
    assert!(atts[0].get("left_out").is_none());
    assert_eq!(atts[1]["bytes"], 150_000);
    assert_eq!(atts[1]["left_out"], true);
    let folder = d.ticket_path(&id5).with_file_name(format!("{id5}.files"));
    let kept = std::fs::read(folder.join(atts[0]["file"].as_str().unwrap())).unwrap();
    let pdf: Vec<u8> = (0..2000u32).map(|i| (i * 7 % 251) as u8).collect();
    assert_eq!(kept, pdf);
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1);

    // 6, 7, 13. Never answered, never imported: set aside with the reason.
    for (name, reason) in [
        ("M6P1.mx", "auto_reply"),
        ("M7P1.mx", "bounce"),
        ("M13P1.mx", "own_address"),
    ] {
        let o = find(&out, name);
        assert!(o.get("ticket").is_none());
        let aside = d.root.join(o["set_aside"].as_str().unwrap());
        let meta: Value =
            serde_json::from_str(&std::fs::read_to_string(aside.with_extension("json")).unwrap())
                .unwrap();
        assert_eq!(meta["reason"], reason, "{name}");
        assert!(std::fs::read(&aside).unwrap().len() > 100);
    }
    assert_eq!(
        event_of(&d.show(&k.a), "received").len(),
        1,
        "no auto-reply on A"
    );

    // 8. D reopened by the reply.
    let dd = d.show(&k.d);
    assert_eq!(dd["status"], "in_progress");
    assert!(dd.get("close_reason").is_none() || dd["close_reason"].is_null());
    assert_eq!(event_of(&dd, "reopened").len(), 1);
    assert_eq!(
        event_of(&dd, "received")[0]["text"],
        "El problema volvió a aparecer esta mañana."
    );

    // 9. E stays closed; the new case links it.
    let m9 = find(&out, "M9P1.mx");
    assert_eq!(m9["related"], k.e.as_str());
    assert_eq!(d.show(&k.e)["status"], "closed");
    let t9 = d.show(m9["ticket"].as_str().unwrap());
    assert_eq!(t9["events"][0]["related"], k.e.as_str());
    assert_eq!(t9["title"], "otra vez sin servicio");
    assert_eq!(t9["customer"], "clinica-santa-helena");

    // 10. Unknown sender: a case with no customer, listed for triage.
    let m10 = find(&out, "M10P1.mx");
    assert_eq!(m10["triage"], true);
    let id10 = m10["ticket"].as_str().unwrap();
    assert_eq!(d.show(id10)["customer"], "");
    let triage = d.json(&now, &["list", "--triage"]);
    let ids: Vec<&str> = triage
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id10]);

    // 11. No Message-ID: imported under an id made from its bytes.
    let m11 = find(&out, "M11P1.mx");
    assert_eq!(m11["customer"], "hospital-san-rafael");
    assert!(m11["message_id"]
        .as_str()
        .unwrap()
        .ends_with("@mesa.invalid>"));

    // 12. Unreadable: set aside.
    let m12 = find(&out, "M12P1.mx");
    assert!(d.root.join(m12["set_aside"].as_str().unwrap()).is_file());

    // 14. Not an answer: F still awaits confirmation; the message waits unread.
    let f = d.show(&k.f);
    assert_eq!(f["status"], "resolved");
    assert_eq!(
        event_of(&f, "received")[0]["text"],
        "Rechazo la idea de cerrarlo sin visita."
    );

    // Unread customer replies: A, D and F (B and C were answers the workflow applied).
    let unread = d.json(&now, &["list", "--unread"]);
    let mut ids: Vec<String> = unread
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    let mut want = vec![k.a.clone(), k.d.clone(), k.f.clone()];
    want.sort();
    assert_eq!(ids, want);
    // An agent's step reads it.
    d.ok(
        &nov2(12, 5),
        &["comment", &k.a, "--text", "Llamaré a la usuaria"],
    );
    let unread = d.json(&nov2(12, 6), &["list", "--unread"]);
    assert_eq!(unread.as_array().unwrap().len(), 2);

    // The desk is valid, and importing again adds nothing.
    let check = d.run(&nov2(12, 10), &["check"]);
    assert!(
        check.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let head = d.head();
    let again = import_json(&d.root, &nov2(13, 0), &[], &[&maildir]);
    assert_eq!(d.head(), head, "a second import commits nothing");
    for o in again["messages"].as_array().unwrap() {
        assert!(
            ["duplicate", "loop", "rejected"].contains(&o["action"].as_str().unwrap()),
            "{o}"
        );
    }
    // The text output names each outcome in Spanish.
    let text = inbox(
        &d.root,
        &nov2(13, 0),
        &["inbox", "import", maildir.to_str().unwrap()],
    );
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("repetido"), "{stdout}");
    assert!(stdout.contains("respuesta automática"), "{stdout}");
}

#[test]
fn mbox_and_eml_files_and_bad_sources() {
    let d = TestDesk::new();
    let a = d.new_ticket(
        &nov2(8, 0),
        &["--type", "incident", "--incident", "no-carga-pagina"],
    );
    let ack = mail_id(&d, &a, "created");
    let dir = d.root.parent().unwrap().to_path_buf();
    // An mbox with two messages, one body line starting with "From " escaped as ">From ".
    let mut mbox = String::new();
    for (n, body) in [
        (1, "Primera nota.\n>From ahora escribo desde otra sede.\n"),
        (2, "Segunda nota.\n"),
    ] {
        mbox.push_str("From sistemas@santahelena.example.co Mon Nov  2 10:00:00 2026\n");
        mbox.push_str(&headers(
            MARCELA,
            &format!("Re: [Caso {a}] Hemos recibido su caso"),
            &format!("Mon, 2 Nov 2026 10:0{n}:00 -0500"),
            Some(&format!("<mbox{n}@santahelena.example.co>")),
            &[&format!("In-Reply-To: {ack}")],
        ));
        mbox.push_str("Content-Type: text/plain; charset=UTF-8\n\n");
        mbox.push_str(body);
        mbox.push('\n');
    }
    let mbox_path = dir.join("correo.mbox");
    std::fs::write(&mbox_path, mbox).unwrap();
    let mut eml = headers(
        MARCELA,
        &format!("[Caso {a}] una cosa más"),
        "Mon, 2 Nov 2026 10:05:00 -0500",
        Some("<eml3@santahelena.example.co>"),
        &[],
    );
    eml.push_str("Content-Type: text/plain; charset=UTF-8\n\nTercera nota.\n");
    let eml_path: PathBuf = dir.join("nota.eml");
    std::fs::write(&eml_path, crlf(&eml)).unwrap();

    // Every bad source is named in one run, and nothing is imported.
    let head = d.head();
    let out = inbox(
        &d.root,
        &nov2(12, 0),
        &[
            "inbox",
            "import",
            "/no/such/maildir",
            mbox_path.to_str().unwrap(),
            "/no/such.eml",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/no/such/maildir") && err.contains("/no/such.eml"),
        "{err}"
    );
    assert_eq!(d.head(), head);

    let v = import_json(&d.root, &nov2(12, 0), &[], &[&mbox_path, &eml_path]);
    let texts: Vec<String> = event_of(&d.show(&a), "received")
        .iter()
        .map(|e| e["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        texts,
        [
            "Primera nota.\nFrom ahora escribo desde otra sede.",
            "Segunda nota.",
            "Tercera nota."
        ]
    );
    assert_eq!(v["messages"].as_array().unwrap().len(), 3);
}

#[test]
fn same_maildir_in_two_clones_that_merge() {
    let d = TestDesk::new();
    let a = d.new_ticket(
        &nov2(8, 0),
        &["--type", "incident", "--incident", "no-carga-pagina"],
    );
    let ack = mail_id(&d, &a, "created");
    let base_commit = d.head();
    let base = d.root.parent().unwrap().to_path_buf();
    let remote = base.join("remote.git");
    bare_remote(&d.root, &remote);
    let c1 = clone(remote.to_str().unwrap(), &base.join("c1"), "lmartinez");
    let c2 = clone(remote.to_str().unwrap(), &base.join("c2"), "lmartinez");

    let maildir = base.join("Maildir");
    let mut m = headers(
        MARCELA,
        &format!("Re: [Caso {a}] Hemos recibido su caso"),
        "Mon, 2 Nov 2026 10:00:00 -0500",
        Some("<twice1@santahelena.example.co>"),
        &[&format!("In-Reply-To: {ack}")],
    );
    m.push_str("Content-Type: text/plain; charset=UTF-8\n\nSigue igual.\n");
    deliver(&maildir, "1762095001.M1.mx", crlf(&m).as_bytes());
    let mut m = headers(
        "Luisa Fernanda Orozco <lorozco@cmcaribe.example.co>",
        "No funciona el lector biométrico",
        "Mon, 2 Nov 2026 10:10:00 -0500",
        Some("<twice2@cmcaribe.example.co>"),
        &[],
    );
    m.push_str(
        "Content-Type: multipart/mixed; boundary=\"B\"\n\n--B\nContent-Type: text/plain; charset=UTF-8\n\n\
         El lector no responde.\n--B\nContent-Type: image/png\nContent-Disposition: attachment; filename=\"foto.png\"\n\
         Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--B--\n",
    );
    deliver(&maildir, "1762095002.M2.mx", crlf(&m).as_bytes());
    let mut m = headers(
        "Hernán Darío Quintero <hquintero@hsanrafael.example.co>",
        "Sin Message-ID",
        "Mon, 2 Nov 2026 10:20:00 -0500",
        None,
        &[],
    );
    m.push_str("Content-Type: text/plain; charset=UTF-8\n\nHola.\n");
    deliver(&maildir, "1762095003.M3.mx", crlf(&m).as_bytes());

    // c2 has also worked on A meanwhile, so A's file differs between the clones.
    c2.ok(
        &nov2(11, 0),
        &["comment", &a, "--text", "Revisando el servidor"],
    );
    let v1 = import_json(&c1.root, &nov2(12, 0), &[], &[&maildir]);
    let v2 = import_json(&c2.root, &nov2(15, 30), &[], &[&maildir]);
    for v in [&v1, &v2] {
        let actions: Vec<&str> = v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["reply", "new", "new"]);
    }
    // The same message makes the same new case in both clones.
    assert_eq!(v1["messages"][1]["ticket"], v2["messages"][1]["ticket"]);
    assert_eq!(v1["messages"][2]["ticket"], v2["messages"][2]["ticket"]);

    git(&c1.root, &["push", "-q", "origin", "HEAD:main"]);
    git(
        &c2.root,
        &["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"],
    );
    git(&c2.root, &["push", "-q", "origin", "HEAD:main"]);
    git(
        &c1.root,
        &["pull", "-q", "--no-rebase", "--no-edit", "origin", "main"],
    );

    for c in [&c1, &c2] {
        // Each message once in the whole desk.
        let mut all = String::new();
        for e in walkdir(&c.root.join("tickets")) {
            if e.extension().is_some_and(|x| x == "md") {
                all.push_str(&std::fs::read_to_string(&e).unwrap());
            }
        }
        for mid in [
            "<twice1@santahelena.example.co>",
            "<twice2@cmcaribe.example.co>",
        ] {
            assert_eq!(
                all.matches(&format!("received_id: {mid}")).count(),
                1,
                "{mid}"
            );
        }
        assert_eq!(all.matches("@mesa.invalid>").count(), 1);
        let a_v = c.show(&a);
        assert_eq!(event_of(&a_v, "received").len(), 1);
        assert_eq!(event_of(&a_v, "commented").len(), 1);
        let check = c.run(&nov2(16, 0), &["check"]);
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stdout)
        );
        // The history gate accepts the merges: one copy of a message is not a rewrite.
        c.history_clean(&base_commit);
        // And importing again in either clone adds nothing.
        let head = c.head();
        let again = import_json(&c.root, &nov2(16, 0), &[], &[&maildir]);
        assert_eq!(c.head(), head);
        assert!(again["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|o| o["action"] == "duplicate"));
    }
    assert_eq!(
        std::fs::read_to_string(c1.ticket_path(&a)).unwrap(),
        std::fs::read_to_string(c2.ticket_path(&a)).unwrap()
    );
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walkdir(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn site_and_report_show_customer_email() {
    let d = TestDesk::new();
    let a = d.new_ticket(
        &nov2(8, 0),
        &["--type", "incident", "--incident", "no-carga-pagina"],
    );
    let ack = mail_id(&d, &a, "created");
    let maildir = d.root.parent().unwrap().join("Maildir");
    // A reply with markup in its text and a screenshot.
    let mut m = headers(
        MARCELA,
        &format!("Re: [Caso {a}] Hemos recibido su caso"),
        "Mon, 2 Nov 2026 10:00:00 -0500",
        Some("<site1@santahelena.example.co>"),
        &[&format!("In-Reply-To: {ack}")],
    );
    m.push_str(
        "Content-Type: multipart/mixed; boundary=\"S\"\n\n--S\nContent-Type: text/plain; charset=UTF-8\n\n\
         La página sigue en blanco <script>alert(1)</script> desde ayer.\n--S\n\
         Content-Type: image/png\nContent-Disposition: attachment; filename=\"captura.png\"\n\
         Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--S--\n",
    );
    deliver(&maildir, "1762095001.M1.mx", crlf(&m).as_bytes());
    let mut m = headers(
        "Luisa Fernanda Orozco <lorozco@cmcaribe.example.co>",
        "Nueva solicitud",
        "Mon, 2 Nov 2026 10:15:00 -0500",
        Some("<site2@cmcaribe.example.co>"),
        &[],
    );
    m.push_str("Content-Type: text/plain; charset=UTF-8\n\nNecesitamos un reporte nuevo.\n");
    deliver(&maildir, "1762095002.M2.mx", crlf(&m).as_bytes());
    import_json(&d.root, &nov2(11, 0), &[], &[&maildir]);

    // Internal build: the reply in A's timeline with its sender and attachment, no script; the
    // ticket index marks A as an unread reply.
    let site = d.root.parent().unwrap().join("site");
    let out = inbox(
        &d.root,
        &nov2(11, 0),
        &["build", "--out", site.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page =
        std::fs::read_to_string(site.join(format!("tickets/20{}/{}/{a}.html", &a[0..2], &a[2..4])))
            .unwrap();
    assert!(page.contains("Correo del cliente"), "timeline label");
    assert!(page.contains("La página sigue en blanco"), "reply text");
    assert!(page.contains("sistemas@santahelena.example.co"), "sender");
    assert!(page.contains("captura.png"), "attachment listed");
    assert!(!page.contains("<script>alert"), "no script from an email");
    let index = std::fs::read_to_string(site.join("tickets/index.html")).unwrap();
    let row = index
        .split("<tr")
        .find(|r| r.contains(&a))
        .expect("A in the index");
    assert!(row.contains("respuesta del cliente sin leer"), "{row}");
    // Public build: no ticket pages, so no customer message or attachment name anywhere.
    let public = d.root.parent().unwrap().join("public");
    let out = inbox(
        &d.root,
        &nov2(11, 0),
        &["build", "--public", "--out", public.to_str().unwrap()],
    );
    assert!(out.status.success());
    for f in walkdir(&public) {
        if let Ok(text) = std::fs::read_to_string(&f) {
            assert!(!text.contains("captura.png"), "{}", f.display());
            assert!(!text.contains("sigue en blanco"), "{}", f.display());
        }
    }

    // The agent acts at 12:30: 2.5 clock hours after the 10:00 reply.
    d.ok(
        &nov2(12, 30),
        &["comment", &a, "--text", "Revisamos el servidor"],
    );
    let r = d.json(&nov2(13, 0), &["report"]);
    let t = &r["total"];
    assert_eq!(t["customer_replies"], 1);
    assert_eq!(t["unread_replies"], 0);
    assert_eq!(t["reply_action_minutes_mean"], 150.0);
    let by = d.json(&nov2(13, 0), &["report", "--by", "channel"]);
    assert_eq!(by["groups"]["phone"]["tickets"], 1);
    assert_eq!(by["groups"]["email"]["tickets"], 1);
}

/// A customer who writes after the solution notice, in words that are not an answer, has
/// answered: the sweep neither sends the follow-up ("we have no answer from you") nor closes
/// the case as approved for lack of an answer until an agent has read the reply; then the
/// manual's loop goes on (follow-up now, close 48 h after it, desk.yaml `auto_close_grace`).
#[test]
fn an_unread_reply_holds_the_follow_up_and_the_close_as_approved() {
    let d = TestDesk::new();
    let b = d.new_ticket(
        &nov2(8, 5),
        &["--type", "incident", "--incident", "no-carga-pagina"],
    );
    d.ok(&nov2(8, 10), &["start", &b]);
    d.ok(
        &nov2(8, 20),
        &["resolve", &b, "--solution", "Se actualizó el certificado"],
    );
    let solution = mail_id(&d, &b, "resolved");
    let maildir = d.root.parent().unwrap().join("Maildir");
    let mut m = headers(
        MARCELA,
        &format!("Re: [Caso {b}] Solución de su caso"),
        "Mon, 2 Nov 2026 10:00:00 -0500",
        Some("<hold1@santahelena.example.co>"),
        &[&format!("In-Reply-To: {solution}")],
    );
    m.push_str(
        "Content-Type: text/plain; charset=UTF-8\n\nEn la sede norte sigue igual, ¿qué hago?\n",
    );
    deliver(&maildir, "1762095001.M1.mx", crlf(&m).as_bytes());
    let r = import_json(&d.root, &nov2(11, 0), &[], &[&maildir]);
    assert_eq!(r["messages"][0]["action"], "reply", "{r}");

    // Friday 6 November: past the 24 h follow-up and the 72 h close; the reply is unread.
    let s = d.json("2026-11-06T12:00:00-05:00", &["sweep"]);
    assert_eq!(s["reminded"], serde_json::json!([]), "{s}");
    assert_eq!(s["closed"], serde_json::json!([]), "{s}");
    assert_eq!(d.show(&b)["status"], "resolved");

    // The agent reads it and writes back; the loop goes on from now.
    d.ok(
        "2026-11-06T12:30:00-05:00",
        &[
            "comment",
            &b,
            "--public",
            "--text",
            "¿Probó desde otro navegador?",
        ],
    );
    let s = d.json("2026-11-06T13:00:00-05:00", &["sweep"]);
    assert_eq!(s["reminded"], serde_json::json!([b]), "{s}");
    let s = d.json("2026-11-08T12:59:00-05:00", &["sweep"]);
    assert_eq!(
        s["closed"],
        serde_json::json!([]),
        "48 h after the follow-up, not before: {s}"
    );
    let s = d.json("2026-11-08T13:00:00-05:00", &["sweep"]);
    assert_eq!(s["closed"], serde_json::json!([b]), "{s}");
    assert_eq!(d.show(&b)["status"], "closed");
}

/// `mesa inbox import` writes the git index once per run (`store::batch`), not once per
/// message: a run killed with `kill -9` after some of its commits leaves the index behind
/// HEAD. The next command repairs it, and importing the same Maildir again finishes the job:
/// one commit per message, each message exactly once, nothing lost, `git status` clean,
/// `git fsck` and `mesa check` pass.
#[test]
fn an_import_killed_mid_run_is_recovered_by_the_next_command() {
    let d = TestDesk::new();
    let base = commits(&d.root);
    let mail = tempfile::tempdir().unwrap();
    let maildir = mail.path().join("Maildir");
    let total = 60;
    for n in 0..total {
        let received = format!("Mon, 02 Nov 2026 09:{:02}:00 -0500", n);
        let mid = format!("<kill{n}@santahelena.example.co>");
        let mut m = headers(
            "Sistemas <sistemas@santahelena.example.co>",
            &format!("Solicitud de soporte {n}"),
            &received,
            Some(&mid),
            &["Content-Type: text/plain; charset=UTF-8"],
        );
        m.push_str(&format!("\nBuenos días, el módulo {n} no carga.\n"));
        deliver(
            &maildir,
            &format!("1700000{n:03}.M1P1.test"),
            crlf(&m).as_bytes(),
        );
    }
    let import = || {
        let mut c = Command::new(MESA);
        c.args(["--desk", d.root.to_str().unwrap(), "--now", &nov2(12, 0)])
            .args(["--quiet", "inbox", "import", maildir.to_str().unwrap()])
            .env("MESA_AGENT", "lmartinez")
            .env_remove("MESA_DESK")
            .env_remove("MESA_NOW")
            .env_remove("MESA_LANG")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        c
    };
    let marker = d.root.join(".git/mesa-index-behind");
    // Three runs killed, each once it has made a few commits of its own.
    for round in 0..3 {
        let before = commits(&d.root);
        let mut child = import().spawn().unwrap();
        let started = std::time::Instant::now();
        loop {
            if commits(&d.root) >= before + 3 {
                break;
            }
            assert!(
                child.try_wait().unwrap().is_none(),
                "round {round}: the import ended before it was killed"
            );
            assert!(
                started.elapsed() < std::time::Duration::from_secs(120),
                "round {round}: no commits"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(
            marker.exists(),
            "round {round}: the killed run left its index-behind marker"
        );
        if round == 0 {
            // What the repair is for: git sees the run's commits as staged reverts.
            assert!(!d.status().is_empty(), "index behind HEAD after the kill");
            // The next command, whatever it is, repairs before it does anything.
            let id = d.new_ticket(&nov2(12, 1), &[]);
            assert!(d.ticket_path(&id).exists());
            assert!(!marker.exists(), "repaired");
            assert_eq!(d.status(), "", "git status clean after the repair");
        }
    }
    // The last run is left to finish; a further run adds nothing.
    let out = import().output().unwrap();
    assert!(out.status.success());
    assert!(!marker.exists());
    assert_eq!(d.status(), "", "git status clean");
    let fsck = Command::new("git")
        .current_dir(&d.root)
        .args(["fsck", "--no-progress", "--no-dangling"])
        .output()
        .unwrap();
    assert!(
        fsck.status.success(),
        "{}",
        String::from_utf8_lossy(&fsck.stderr)
    );
    let check = d.run(&nov2(12, 5), &["check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    // One commit per message (plus the one ticket made by hand), every message exactly once.
    assert_eq!(commits(&d.root), base + total + 1);
    let mut seen = std::collections::HashMap::new();
    for f in walkdir(&d.root.join("tickets")) {
        let text = std::fs::read_to_string(&f).unwrap();
        for line in text.lines() {
            if let Some(id) = line.trim().strip_prefix("received_id: ") {
                *seen
                    .entry(id.trim_matches(['"', '\'']).to_string())
                    .or_insert(0) += 1;
            }
        }
    }
    for n in 0..total {
        let mid = format!("<kill{n}@santahelena.example.co>");
        assert_eq!(seen.get(&mid), Some(&1), "{mid} imported once: {seen:?}");
    }
    let again = import_json(&d.root, &nov2(12, 10), &[], &[&maildir]);
    let messages = again["messages"].as_array().unwrap();
    assert_eq!(messages.len(), total);
    assert!(
        messages.iter().all(|m| m["action"] == "duplicate"),
        "{again}"
    );
    assert_eq!(commits(&d.root), base + total + 1);
}
