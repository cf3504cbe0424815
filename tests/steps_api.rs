//! The steps API with no command line: a front end (here, this test) applies the manual's steps
//! to a real desk in a real git repository through `mesa::steps`, and each step is one commit.

mod common;

use common::git::{git, is_clean, TestDesk};
use mesa::model::load::Desk;
use mesa::model::ticket::{CheckResult, EventKind, Requester, Status, TicketType};
use mesa::steps::{self, Classification, Options, PriorityInput, Reception, Step};

const NOW: &str = "2026-11-24T09:00:00-05:00";

fn head(desk: &TestDesk) -> String {
    common::git::head(&desk.root)
}

#[test]
fn a_front_end_applies_steps_without_a_command_line() {
    mesa::model::i18n::activate(mesa::model::i18n::Catalog::load("es", None));
    let td = TestDesk::new();
    let desk = Desk::open(&td.root).expect("the sample desk opens");
    let agent = steps::resolve_actor(&desk, Some("lmartinez")).expect("agent");
    let now = steps::stamp_at(&desk, Some(NOW)).expect("instant");

    // Reception, classified at once as the playbook's "no ingresa usuario Funcionario".
    let reception = Reception {
        channel: "phone".into(),
        customer: "clinica-santa-helena".into(),
        requester: Requester {
            name: "Marcela Rincón Vargas".into(),
            email: Some("sistemas@santahelena.example.co".into()),
            phone: None,
        },
        title: "No puede ingresar a la plataforma".into(),
        description: "La coordinadora no puede ingresar con su usuario.".into(),
        classification: Some(Classification {
            ticket_type: TicketType::Incident,
            incident: Some("no-ingresa-funcionario".into()),
            request: None,
            cab: None,
        }),
        priority: PriorityInput {
            priority: Some("alta".into()),
            ..Default::default()
        },
    };
    let opened = steps::open_ticket(&desk, reception, agent, now, Options::default())
        .expect("reception is accepted");
    let id = opened.ticket.front.id.clone();
    assert_eq!(opened.ticket.front.status, Status::Analysis);
    assert_eq!(
        opened.commit.map(|c| c.to_string()),
        Some(head(&td)),
        "reception is the last commit"
    );
    assert_eq!(opened.message_ids.len(), 1, "the acknowledgement is queued");
    assert!(td
        .root
        .join("outbox")
        .read_dir()
        .expect("outbox")
        .next()
        .is_some());
    assert!(opened.promised.is_some(), "the promised time is known");

    // Escalating before the level's checks is refused, and nothing is written.
    let before = head(&td);
    let refused = steps::apply(
        &desk,
        &id,
        Step::Escalate {
            to: None,
            reason: "Necesita nivel 2".into(),
            assign: None,
        },
        agent,
        now,
        Options::default(),
    )
    .expect_err("the checks are missing");
    let why = refused.to_string();
    assert!(why.contains("usuario-contrasena"), "{why}");
    assert_eq!(head(&td), before, "a refused step makes no commit");
    assert!(is_clean(&td.root));

    // The two checks, then the escalation: one commit each.
    for check in ["usuario-contrasena", "estado-usuario"] {
        let done = steps::apply(
            &desk,
            &id,
            Step::Verify {
                check: check.into(),
                result: CheckResult::Done,
                note: None,
            },
            agent,
            now,
            Options::default(),
        )
        .expect("check recorded");
        assert_eq!(done.commit.map(|c| c.to_string()), Some(head(&td)));
    }
    let escalated = steps::apply(
        &desk,
        &id,
        Step::Escalate {
            to: None,
            reason: "Necesita nivel 2".into(),
            assign: None,
        },
        agent,
        now,
        Options::default(),
    )
    .expect("escalation after the checks");
    assert_eq!(escalated.ticket.front.level, 2);
    let last = escalated.ticket.front.events.last().expect("event");
    assert_eq!(last.event, EventKind::Escalated);
    // Handed over to the level's one agent (Table 3, level 2).
    assert_eq!(last.agent.as_deref(), Some("agomez"));
    assert_eq!(escalated.ticket.front.assignee.as_deref(), Some("agomez"));
    assert!(
        !escalated.next.is_empty(),
        "the outcome names the next steps"
    );
    let log = git(&td.root, &["log", "--format=%s"]);
    assert_eq!(
        log.lines().count(),
        5,
        "desk + reception + 2 checks + escalation:\n{log}"
    );
    assert!(log
        .lines()
        .next()
        .unwrap_or("")
        .starts_with(&format!("{id}: ")));
    assert!(is_clean(&td.root));
}
