//! Shared by the SLA and report tests: the sample desk (read only) and a generator of random
//! but valid tickets, made by a random walk in which every event goes through
//! `workflow::apply` and only accepted events are kept.

use chrono::{DateTime, Duration, FixedOffset, TimeZone};
use mesa::model::duration::Dur;
use mesa::model::load::Desk;
use mesa::model::ticket::{
    CloseReason, Event, EventKind, Requester, Stamp, TicketFront, TicketType,
};
use mesa::rules::workflow::{self, State};
use std::path::Path;

pub fn sample_desk() -> Desk {
    Desk::load(Path::new(env!("CARGO_MANIFEST_DIR")))
        .expect("sample desk loads")
        .0
}

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len() as u64) as usize]
    }
}

pub fn bogota(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<FixedOffset> {
    FixedOffset::west_opt(5 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
}

/// A front matter around `events`, with the derived fields from the replay.
pub fn front(desk: &Desk, id: &str, customer: &str, events: Vec<Event>) -> TicketFront {
    let mut f = TicketFront {
        id: id.into(),
        title: format!("ticket {id}"),
        customer: customer.into(),
        requester: Requester {
            name: "Ana".into(),
            email: None,
            phone: None,
        },
        channel: "phone".into(),
        ticket_type: None,
        incident: None,
        request: None,
        priority: None,
        impact: None,
        urgency: None,
        effort: None,
        level: 1,
        assignee: None,
        status: mesa::model::ticket::Status::New,
        close_reason: None,
        sla: Default::default(),
        checks: Default::default(),
        kb: Vec::new(),
        events,
    };
    let (state, errors) = workflow::replay(desk.rules(), desk.config.customer(customer), &f.events);
    assert!(errors.is_empty(), "{errors:?}");
    state.write_into(&mut f);
    f
}

pub fn ev(at: DateTime<FixedOffset>, by: &str, kind: EventKind) -> Event {
    Event::new(Stamp(at), by, kind)
}

const REQUESTS: &[&str] = &[
    "anular-factura",
    "bases-datos-estandar",
    "ajustes-reporte",
    "crear-reporte",
    "bases-datos-personalizada",
    "items-parametros-cita",
    "creacion-usuarios",
];
const PRIORITIES: &[&str] = &["critica", "alta", "media", "baja"];
const AGENTS: &[&str] = &["lmartinez", "dcastro", "agomez", "jrojas"];
const CUSTOMERS: &[&str] = &[
    "clinica-santa-helena",
    "ips-andina",
    "centro-medico-caribe",
    "hospital-san-rafael",
];

/// A random valid ticket created at `start` (walks up to `steps` attempted events).
pub fn random_ticket(
    desk: &Desk,
    rng: &mut Rng,
    n: usize,
    start: DateTime<FixedOffset>,
    steps: usize,
) -> TicketFront {
    let customer = *rng.pick(CUSTOMERS);
    let cust = desk.config.customer(customer);
    let rules = desk.rules();
    let mut state = State::default();
    let mut events = Vec::new();
    let mut at = start;
    let by: &str = AGENTS[rng.below(AGENTS.len() as u64) as usize];
    let first = ev(at, by, EventKind::Created);
    workflow::apply(rules, cust, &mut state, &first).unwrap();
    events.push(first);
    for _ in 0..steps {
        let span = if rng.below(4) == 0 { 5000 } else { 240 };
        at += Duration::minutes(1 + rng.below(span) as i64);
        let agent = *rng.pick(AGENTS);
        let mut e = match rng.below(16) {
            0 | 1 => {
                let mut e = ev(at, agent, EventKind::Classified);
                if rng.below(2) == 0 {
                    e.ticket_type = Some(TicketType::Request);
                    e.request = Some(rng.pick(REQUESTS).to_string());
                    e.cab = Some(rng.below(2) == 0);
                } else {
                    e.ticket_type = Some(TicketType::Problem);
                }
                e.priority = Some(rng.pick(PRIORITIES).to_string());
                e
            }
            2 => {
                let mut e = ev(at, agent, EventKind::Assigned);
                e.agent = Some(rng.pick(AGENTS).to_string());
                e
            }
            3 => ev(at, agent, EventKind::Started),
            4 => {
                let mut e = ev(at, agent, EventKind::Escalated);
                e.level = Some(if rng.below(3) == 0 {
                    5
                } else {
                    state.level + 1
                });
                e.reason = Some("needs more skill".into());
                e
            }
            5 => {
                let mut e = ev(at, "mesa", EventKind::CabReviewed);
                e.complexity = Some(mesa::model::kb::Complexity::Low);
                e.quote = Some(rng.below(2) == 0);
                e
            }
            6 => {
                let mut e = ev(at, agent, EventKind::Proposed);
                e.text = Some("proposal".into());
                e.amount = Some(100.0);
                e.currency = Some("COP".into());
                e
            }
            7 => ev(at, "customer", EventKind::Accepted),
            8 => ev(at, "customer", EventKind::Declined),
            9 | 10 => {
                let mut e = ev(at, agent, EventKind::Resolved);
                e.text = Some("solution".into());
                e
            }
            11 => {
                let mut e = ev(at, "customer", EventKind::Rejected);
                e.reason = Some("still failing".into());
                e
            }
            12 => ev(at, "customer", EventKind::Confirmed),
            13 => {
                let mut e = ev(at, "mesa", EventKind::Closed);
                e.close_reason = Some(CloseReason::AutoConfirmed);
                e
            }
            14 => {
                let mut e = ev(at, agent, EventKind::Extended);
                e.target = Some(Dur::hours(100 + rng.below(50) as i64));
                e.reason = Some("more data than estimated".into());
                e
            }
            _ => {
                let mut e = ev(at, agent, EventKind::Commented);
                e.text = Some("note".into());
                e.public = Some(rng.below(2) == 0);
                e
            }
        };
        e.at = Stamp(at);
        if workflow::apply(rules, cust, &mut state, &e).is_ok() {
            events.push(e);
        }
    }
    let id = format!("{}-{}", start.format("%y%m%d"), code(n));
    front(desk, &id, customer, events)
}

fn code(n: usize) -> String {
    let a = mesa::model::ids::ALPHABET;
    (0..5)
        .rev()
        .map(|i| a[(n >> (5 * i)) & 31] as char)
        .collect()
}
