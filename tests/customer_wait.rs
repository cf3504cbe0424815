//! The customer wait of Table 4 (issue 9, point 6): when a check owned by the customer's side
//! fails, the clocks pause while the case waits on the customer, if the desk chooses so
//! (desk.yaml `sla.pause_on_customer_checks`; the sample desk does), with the wait and its end
//! recorded as events. Real binary, real git desk, `--now`.
//!
//! The case: an Alta incident "No carga la página" (Tabla 4, Acceso) of Clínica Santa Helena,
//! opened Tuesday 3 November 2026 at 08:00 (Bogotá). Its first check, "Verificar conexiones
//! físicas del equipo", is owned by "Soporte Técnico del cliente" (customer: true in desk.yaml).
//! Alta runs on the `laboral` calendar: Monday to Friday 07:00-12:00 and 13:00-17:00,
//! Saturday 08:00-12:00; 3-6 November 2026 are working days (the holidays of that month in
//! Colombia are Monday 2 and Monday 16 November). Targets: response 2 h, resolution 16 h
//! (960 min), from desk.yaml's Table 5 row.
//!
//! Worked by hand:
//! - 09:00 Tue: the check is recorded as failed. That is the first act of attention, so the
//!   response clock stops: 60 min used of 120, met. The resolution clock has run 08:00-09:00
//!   = 60 min, and pauses.
//! - 15:00 Tue: still paused; 60 min used; no due time while paused.
//! - 10:30 Wed 4 Nov: the customer's IT fixed it; the check is recorded as done: the clock runs.
//! - 11:30 Wed: used 60 + (10:30-11:30) 60 = 120 min; left 960 - 120 = 840 min. Due: Wed
//!   11:30-12:00 = 30 (810 left), 13:00-17:00 = 240 (570 left), Thu 07:00-12:00 = 300 (270
//!   left), 13:00-17:00 = 240 (30 left), Fri 6 Nov 07:00-07:30 -> due 2026-11-06T07:30-05:00.
//! - Without the pause (a desk that does not opt in), at 11:30 Wed: Tue 08:00-12:00 = 240,
//!   13:00-17:00 = 240, Wed 07:00-11:30 = 270, used 750 min, left 210: Wed 11:30-12:00 = 30
//!   (180 left), 13:00-16:00 -> due 2026-11-04T16:00-05:00.
//! - Thursday 5 Nov 10:00: with the pause, used 120 + 30 + 240 + 180 (07:00-10:00) = 570 min
//!   (59 %: running, not at risk); without it, 750 + 30 + 240 + 180 = 1200 > 960: breached.

mod common;

use common::git::{bare_remote, clone, git, TestDesk, MESA};
use serde_json::Value;

const CREATED: &str = "2026-11-03T08:00:00-05:00";
const FAILED: &str = "2026-11-03T09:00:00-05:00";
const TUE_1500: &str = "2026-11-03T15:00:00-05:00";
const PASSED: &str = "2026-11-04T10:30:00-05:00";
const WED_1130: &str = "2026-11-04T11:30:00-05:00";
const THU_1000: &str = "2026-11-05T10:00:00-05:00";

fn alta_no_page(d: &TestDesk) -> String {
    d.new_ticket(
        CREATED,
        &[
            "--type",
            "incident",
            "--incident",
            "no-carga-pagina",
            "--priority",
            "alta",
        ],
    )
}

fn fail_physical(d: &TestDesk, id: &str) {
    d.ok(
        FAILED,
        &["verify", id, "conexiones-fisicas", "--result", "failed"],
    );
}

/// The clock of `kind` in `mesa sla ID --format json` at `now`.
fn clock(d: &TestDesk, now: &str, id: &str, kind: &str) -> Value {
    let v = d.json(now, &["sla", id]);
    let list = v["clocks"]
        .as_array()
        .or_else(|| v.as_array())
        .unwrap_or_else(|| panic!("no clocks in {v}"))
        .clone();
    list.into_iter()
        .find(|c| c["clock"] == kind)
        .unwrap_or_else(|| panic!("no {kind} clock in {v}"))
}

fn events(d: &TestDesk, id: &str) -> Vec<Value> {
    d.show(id)["events"].as_array().unwrap().clone()
}

fn kinds(d: &TestDesk, id: &str) -> Vec<String> {
    events(d, id)
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect()
}

fn breached(d: &TestDesk, now: &str) -> Vec<String> {
    let v = d.json(now, &["list", "--breached"]);
    v.as_array()
        .or_else(|| v["tickets"].as_array())
        .unwrap_or_else(|| panic!("no list in {v}"))
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_string())
        .collect()
}

fn show_text(d: &TestDesk, now: &str, id: &str) -> String {
    d.ok(now, &["show", id])
}

#[test]
fn a_failed_customer_check_pauses_the_clocks_until_it_passes() {
    let d = TestDesk::new();
    let base = d.head();
    let id = alta_no_page(&d);
    fail_physical(&d, &id);

    // The step recorded the wait: who (the owner) and which check, in the same commit.
    let evs = events(&d, &id);
    let paused = evs.iter().find(|e| e["event"] == "paused").expect("paused");
    assert_eq!(paused["owner"], "customer_it");
    assert_eq!(paused["check"], "conexiones-fisicas");
    assert_eq!(paused["at"], "2026-11-03T09:00:00-05:00");
    let last = git(&d.root, &["log", "-1", "-p", "--format=%s"]);
    assert!(
        last.contains("+  event: checked") && last.contains("+  event: paused"),
        "{last}"
    );

    // Tuesday 15:00: the response clock stopped at 09:00 (met, 60 min); the resolution
    // clock is paused at 60 min, with no due time, waiting on the customer's IT.
    let response = clock(&d, TUE_1500, &id, "response");
    assert_eq!(response["state"], "met");
    assert_eq!(response["used_minutes"], 60);
    let resolution = clock(&d, TUE_1500, &id, "resolution");
    assert_eq!(resolution["state"], "paused", "{resolution}");
    assert_eq!(resolution["used_minutes"], 60);
    assert_eq!(resolution["due"], Value::Null);
    assert_eq!(resolution["waiting_on"]["owner"], "customer_it");
    assert_eq!(resolution["waiting_on"]["check"], "conexiones-fisicas");
    let show = show_text(&d, TUE_1500, &id);
    assert!(
        show.contains(
            "resolution: paused · waiting on Soporte Técnico del cliente (check \
             conexiones-fisicas) since"
        ),
        "{show}"
    );
    assert!(
        show.contains(
            "Clock paused: waiting on the customer: Soporte Técnico del cliente must act"
        ),
        "{show}"
    );
    assert!(
        show.contains("the clocks are paused while the case waits on Soporte Técnico del cliente"),
        "{show}"
    );

    // Wednesday 10:30 the customer's IT fixed the cable: recorded as done, the clock runs.
    d.ok(
        PASSED,
        &["verify", &id, "conexiones-fisicas", "--result", "done"],
    );
    let evs = events(&d, &id);
    let resumed = evs
        .iter()
        .find(|e| e["event"] == "resumed")
        .expect("resumed");
    assert_eq!(resumed["at"], "2026-11-04T10:30:00-05:00");
    assert_eq!(resumed["check"], "conexiones-fisicas");

    let resolution = clock(&d, WED_1130, &id, "resolution");
    assert_eq!(resolution["state"], "running", "{resolution}");
    assert_eq!(resolution["used_minutes"], 120);
    assert_eq!(resolution["left_minutes"], 840);
    assert_eq!(resolution["due"], "2026-11-06T07:30:00-05:00");
    assert_eq!(resolution.get("waiting_on"), None);
    let segments: Vec<(String, String)> = resolution["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["kind"].as_str().unwrap().to_string(),
                s["from"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        segments,
        [
            ("running".into(), "2026-11-03T08:00:00-05:00".into()),
            ("paused".into(), "2026-11-03T09:00:00-05:00".into()),
            ("running".into(), "2026-11-04T10:30:00-05:00".into()),
        ]
    );
    let show = show_text(&d, WED_1130, &id);
    assert!(
        show.contains(
            "Clock resumed: check conexiones-fisicas, owned by Soporte Técnico del cliente"
        ),
        "{show}"
    );

    // Thursday 10:00: 570 min of 960 used, not breached (without the pause it would be).
    assert_eq!(clock(&d, THU_1000, &id, "resolution")["used_minutes"], 570);
    assert!(!breached(&d, THU_1000).contains(&id));
    d.history_clean(&base);
    let check = d.run(THU_1000, &["check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn a_desk_that_does_not_opt_in_keeps_the_clock_running() {
    let d = TestDesk::new();
    let yaml = std::fs::read_to_string(d.root.join("desk.yaml")).unwrap();
    assert!(yaml.contains("pause_on_customer_checks: true"));
    std::fs::write(
        d.root.join("desk.yaml"),
        yaml.replace(
            "pause_on_customer_checks: true",
            "pause_on_customer_checks: false",
        ),
    )
    .unwrap();
    git(
        &d.root,
        &[
            "commit",
            "-qam",
            "desk: the clocks run while the customer acts",
        ],
    );
    let id = alta_no_page(&d);
    fail_physical(&d, &id);
    d.ok(
        PASSED,
        &["verify", &id, "conexiones-fisicas", "--result", "done"],
    );
    let k = kinds(&d, &id);
    assert!(!k.contains(&"paused".to_string()), "{k:?}");
    assert!(!k.contains(&"resumed".to_string()), "{k:?}");
    assert_eq!(clock(&d, TUE_1500, &id, "resolution")["state"], "running");
    let resolution = clock(&d, WED_1130, &id, "resolution");
    assert_eq!(resolution["used_minutes"], 750);
    assert_eq!(resolution["due"], "2026-11-04T16:00:00-05:00");
    // Still "who must act next" (that is Table 4), but no pause.
    let show = show_text(&d, TUE_1500, &id);
    assert!(!show.contains("clocks are paused"), "{show}");
    assert!(breached(&d, THU_1000).contains(&id));
}

/// The customer's email (`mesa inbox`, issue 10) ends the wait: the reply to the email that
/// told them what to do. The desk's own check failing (Mesa de Servicio SGM) pauses nothing.
#[test]
fn the_customers_email_resumes_and_desk_checks_do_not_pause() {
    let d = TestDesk::new();
    let id = alta_no_page(&d);
    fail_physical(&d, &id);
    assert!(
        d.outbox_kinds(&id).contains(&"customer_wait".to_string()),
        "{:?}",
        d.outbox_kinds(&id)
    );
    // The email tells the requester who must do what, and that a reply resumes the service
    // (the desk speaks Spanish: its emails are in Spanish whatever `--lang` the agent uses).
    let outbox = d.root.join("outbox");
    let meta: Value = std::fs::read_dir(&outbox)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("meta.json"))
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|t| serde_json::from_str::<Value>(&t).unwrap())
        .find(|m| m["kind"] == "customer_wait" && m["ticket"] == id.as_str())
        .expect("the wait's email in the outbox");
    assert_eq!(
        meta["subject"],
        format!(
            "[Caso {id}] Su caso espera una acción de Soporte Técnico del cliente: Caso de prueba"
        )
    );
    let body = meta["body"].as_str().unwrap();
    assert!(
        body.contains("Verificar conexiones físicas del equipo"),
        "{body}"
    );
    assert!(body.contains("responda a este correo"), "{body}");
    let mail_id = d.show(&id)["emails"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["event"] == "paused")
        .expect("the wait's email")["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    let eml = d.root.parent().unwrap().join("reply.eml");
    std::fs::write(
        &eml,
        format!(
            "From: Marcela Rincón Vargas <sistemas@santahelena.example.co>\r\n\
             To: Mesa de Servicio SGM <soporte@sgm.com.co>\r\n\
             Subject: Re: [Caso {id}] Su caso espera una acción\r\n\
             Date: Wed, 4 Nov 2026 10:30:00 -0500\r\n\
             Message-ID: <listo1@santahelena.example.co>\r\n\
             In-Reply-To: {mail_id}\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=UTF-8\r\n\r\n\
             Ya conectamos el cable de red del equipo.\r\n"
        ),
    )
    .unwrap();
    d.ok(PASSED, &["inbox", "import", eml.to_str().unwrap()]);
    let k = kinds(&d, &id);
    let at = k.iter().position(|e| e == "received").expect("received");
    assert_eq!(k[at + 1], "resumed", "{k:?}");
    let resumed = &events(&d, &id)[at + 1];
    assert_eq!(resumed["by"], "customer");
    assert_eq!(clock(&d, WED_1130, &id, "resolution")["used_minutes"], 120);

    // The other checks; the desk's own ("disponibilidad-servidor", Mesa de Servicio SGM) fails.
    d.ok(
        WED_1130,
        &["verify", &id, "conexiones-fisicas", "--result", "done"],
    );
    for c in ["direccionamiento-ip", "url-acceso"] {
        d.ok(WED_1130, &["verify", &id, c, "--result", "done"]);
    }
    d.ok(
        WED_1130,
        &[
            "verify",
            &id,
            "disponibilidad-servidor",
            "--result",
            "failed",
        ],
    );
    let k = kinds(&d, &id);
    assert_eq!(k.iter().filter(|e| *e == "paused").count(), 1, "{k:?}");
    assert_eq!(clock(&d, WED_1130, &id, "resolution")["state"], "running");
}

/// An agent ends the wait by hand (`mesa resume`), and a desk act (escalation) ends it too;
/// `mesa resume` with nothing to resume is refused and leaves the repository unchanged.
#[test]
fn resume_by_hand_escalation_and_refusals() {
    let d = TestDesk::new();
    let base = d.head();
    let id = alta_no_page(&d);
    let err = d.refused(FAILED, &["resume", &id, "--reason", "El cliente llamó"]);
    assert!(err.contains("not waiting on the customer"), "{err}");
    fail_physical(&d, &id);
    d.ok(
        PASSED,
        &[
            "resume",
            &id,
            "--reason",
            "El cliente llamó: ya revisó el cable",
        ],
    );
    let evs = events(&d, &id);
    let last = evs.last().unwrap();
    assert_eq!(last["event"], "resumed");
    assert_eq!(last["by"], "lmartinez");
    assert_eq!(last["reason"], "El cliente llamó: ya revisó el cable");
    assert_eq!(clock(&d, WED_1130, &id, "resolution")["used_minutes"], 120);
    let err = d.refused(WED_1130, &["resume", &id, "--reason", "otra vez"]);
    assert!(err.contains("not waiting on the customer"), "{err}");

    // Failing again pauses again; escalating takes the case on: `resumed` comes first.
    d.ok(
        WED_1130,
        &["verify", &id, "conexiones-fisicas", "--result", "failed"],
    );
    for c in [
        "direccionamiento-ip",
        "url-acceso",
        "disponibilidad-servidor",
    ] {
        d.ok(WED_1130, &["verify", &id, c, "--result", "done"]);
    }
    d.ok(
        THU_1000,
        &[
            "escalate",
            &id,
            "--reason",
            "El cliente no responde; se revisa el servidor",
        ],
    );
    let k = kinds(&d, &id);
    let n = k.len();
    assert_eq!(&k[n - 2..], ["resumed", "escalated"], "{k:?}");
    // Paused Wed 11:30 -> Thu 10:00: used 120 (before) + 0 = 120 at Thursday 10:00.
    assert_eq!(clock(&d, THU_1000, &id, "resolution")["used_minutes"], 120);
    d.history_clean(&base);
}

/// A bad value of the setting is a desk.yaml error with its position, and nothing is written.
#[test]
fn a_bad_setting_is_reported_with_its_position() {
    let d = TestDesk::new();
    let id = alta_no_page(&d);
    let yaml = std::fs::read_to_string(d.root.join("desk.yaml")).unwrap();
    let line = yaml
        .lines()
        .position(|l| l.contains("pause_on_customer_checks: true"))
        .unwrap()
        + 1;
    std::fs::write(
        d.root.join("desk.yaml"),
        yaml.replace(
            "pause_on_customer_checks: true",
            "pause_on_customer_checks: sometimes",
        ),
    )
    .unwrap();
    git(&d.root, &["commit", "-qam", "desk: a typo"]);
    let out = d.run(FAILED, &["check"]);
    assert!(!out.status.success());
    let err =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(
        err.contains(&format!("desk.yaml:{line}:")),
        "line {line} expected in:\n{err}"
    );
    let err = d.refused(
        FAILED,
        &["verify", &id, "conexiones-fisicas", "--result", "failed"],
    );
    assert!(err.contains(&format!("desk.yaml:{line}:")), "{err}");
}

/// The internal site's ticket page shows the wait on the clock and both events in the timeline.
#[test]
fn the_ticket_page_shows_the_wait() {
    let d = TestDesk::new();
    let id = alta_no_page(&d);
    fail_physical(&d, &id);
    let site = d.root.parent().unwrap().join("site");
    d.ok(TUE_1500, &["build", "--out", site.to_str().unwrap()]);
    let page = std::fs::read_to_string(site.join(format!("tickets/2026/11/{id}.html"))).unwrap();
    assert!(
        page.contains(
            "paused while waiting on Soporte Técnico del cliente (check conexiones-fisicas)"
        ),
        "{page}"
    );
    assert!(
        page.contains("Clock paused: waiting on the customer"),
        "{page}"
    );
}

/// Two clones of `d` through a bare remote beside it, with the merge driver: Laura's and
/// Diego's laptops.
fn two_clones(d: &TestDesk) -> (TestDesk, TestDesk) {
    let base = d.root.parent().unwrap().to_path_buf();
    let remote = base.join("remote.git");
    bare_remote(&d.root, &remote);
    let url = remote.to_str().unwrap();
    (
        clone(url, &base.join("c1"), "lmartinez"),
        clone(url, &base.join("c2"), "dcastro"),
    )
}

/// Two agents offline record the same wait: both see the customer's check fail (09:00 in one
/// clone, 09:10 in the other), and later both see it end (the check passes at 10:30 in one,
/// the other resumes by hand at 10:40). The merged log keeps every act of both (and the email
/// each queued); the replay counts the second of each as a repeat, so the merged desk passes
/// `mesa check` and its clock is the single clone's: at 11:30 on Wednesday, 120 minutes used
/// (worked at the top of this file). A pause on another check while waiting is still refused.
#[test]
fn two_clones_that_record_the_same_wait_merge_into_one() {
    let d = TestDesk::new();
    let id = alta_no_page(&d);
    let (c1, c2) = two_clones(&d);
    let sync = |from: &TestDesk, to: &TestDesk| {
        git(&from.root, &["push", "-q", "origin", "HEAD:main"]);
        git(&to.root, &["pull", "-q", "--no-rebase", "origin", "main"]);
    };
    let count = |d: &TestDesk, kind: &str| kinds(d, &id).iter().filter(|k| *k == kind).count();

    fail_physical(&c1, &id);
    c2.ok(
        "2026-11-03T09:10:00-05:00",
        &["verify", &id, "conexiones-fisicas", "--result", "failed"],
    );
    sync(&c1, &c2);
    c2.ok(TUE_1500, &["check"]);
    assert_eq!(count(&c2, "paused"), 2, "{:?}", kinds(&c2, &id));
    assert_eq!(count(&c2, "checked"), 2);
    let waits = c2.show(&id)["emails"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "paused")
        .count();
    assert_eq!(waits, 2, "each clone's email stays the case's");
    let paused = clock(&c2, TUE_1500, &id, "resolution");
    assert_eq!(paused["state"], "paused");
    assert_eq!(paused["used_minutes"], 60);

    sync(&c2, &c1);
    c1.ok(
        PASSED,
        &["verify", &id, "conexiones-fisicas", "--result", "done"],
    );
    c2.ok(
        "2026-11-04T10:40:00-05:00",
        &[
            "resume",
            &id,
            "--reason",
            "El cliente confirmó por teléfono",
        ],
    );
    sync(&c1, &c2);
    c2.ok(WED_1130, &["check"]);
    assert_eq!(count(&c2, "resumed"), 2, "{:?}", kinds(&c2, &id));
    assert_eq!(clock(&c2, WED_1130, &id, "resolution")["used_minutes"], 120);
    assert!(c2.status().trim().is_empty(), "{}", c2.status());
}

/// Two agents offline both take the same case on (`mesa start`): the merged log has both
/// starts, the second counts as a repeat, and the desk passes `mesa check`; two different
/// solutions from two clones are still a conflict `mesa check` reports, in the desk's words.
#[test]
fn two_clones_that_start_the_same_case_merge_cleanly() {
    let d = TestDesk::new();
    let id = alta_no_page(&d);
    let (c1, c2) = two_clones(&d);
    c1.ok(FAILED, &["start", &id]);
    c2.ok("2026-11-03T09:10:00-05:00", &["start", &id]);
    git(&c1.root, &["push", "-q", "origin", "HEAD:main"]);
    git(&c2.root, &["pull", "-q", "--no-rebase", "origin", "main"]);
    c2.ok(TUE_1500, &["check"]);
    assert_eq!(
        kinds(&c2, &id).iter().filter(|k| *k == "started").count(),
        2
    );
    assert_eq!(c2.show(&id)["status"], "in_progress");

    c1.ok(
        TUE_1500,
        &["resolve", &id, "--solution", "Se ajustó el proxy"],
    );
    c2.ok(
        TUE_1500,
        &["resolve", &id, "--solution", "Se cambió el DNS"],
    );
    git(&c2.root, &["push", "-q", "origin", "HEAD:main"]);
    git(&c1.root, &["pull", "-q", "--no-rebase", "origin", "main"]);
    for (lang, words) in [
        ("en", "“Solution notice” (`event: resolved`) is not allowed with the case in status “Resolved” (only in: In analysis, In progress)"),
        ("es", "«Solución notificada» (`event: resolved`) no se permite con el caso en estado «Resuelto» (solo en: En análisis, En curso)"),
    ] {
        let out = std::process::Command::new(MESA)
            .args(["--desk", c1.root.to_str().unwrap(), "--now", WED_1130])
            .args(["--lang", lang, "check"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(err.contains(words), "{err}");
    }
}
