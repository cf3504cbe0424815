//! Synthetic desk generator for benchmarks and load tests.
//!
//! ```text
//! cargo run --release --example gen_desk -- --tickets 100000 --out DIR [--articles 1000] [--seed 42]
//! ```
//!
//! Copies the sample desk's `desk.yaml`, `kb/` and `theme/` into `DIR`, then writes `--tickets`
//! realistic tickets (every path of the process, 5-20 events, 1-3 KB each) and `--articles`
//! synthetic knowledge-base articles. Every event goes through `mesa::rules::workflow::apply` before it
//! is kept and the derived fields come from the replayed state, so the desk is valid under
//! `mesa check`. The output depends only on the arguments (seeded, no clock, no OS randomness).

use chrono::{DateTime, Duration, FixedOffset, TimeZone};
use clap::Parser;
use mesa::model::desk::{AgentRole, Customer};
use mesa::model::duration::Dur;
use mesa::model::kb::{CabRule, Complexity};
use mesa::model::load::Desk;
use mesa::model::ticket::{
    CheckResult, Clock, CloseReason, Event, EventKind, Requester, Stamp, Status, Ticket,
    TicketFront, TicketType,
};
use mesa::rules::calendar::Calendar;
use mesa::rules::workflow::{self, Rules, State};
use rayon::prelude::*;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Parser)]
#[command(about = "Writes a synthetic, valid desk for benchmarks")]
pub struct Args {
    /// Number of tickets to write.
    #[arg(long, default_value_t = 1000)]
    pub tickets: usize,
    /// Output folder (created; must be empty unless --force).
    #[arg(long)]
    pub out: PathBuf,
    /// Number of synthetic knowledge-base articles to add.
    #[arg(long, default_value_t = 0)]
    pub articles: usize,
    /// Seed of the generator: the same seed gives the same desk.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Sample desk to copy desk.yaml, kb/ and theme/ from.
    #[arg(long, default_value = env!("CARGO_MANIFEST_DIR"))]
    pub from: PathBuf,
    /// Replace the tickets and kb of a non-empty output folder.
    #[arg(long)]
    pub force: bool,
}

/// SplitMix64: tiny, fast and good enough for synthetic data; no dependency, fully seeded.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut r = Rng(seed ^ 0x9e37_79b9_7f4a_7c15);
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1).max(1) as usize) as i64
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

const FIRST_NAMES: &[&str] = &[
    "Carolina",
    "Andrés",
    "Mónica",
    "Felipe",
    "Juliana",
    "Óscar",
    "Natalia",
    "Camilo",
    "Paola",
    "Sebastián",
    "Diana",
    "Mauricio",
    "Lina",
    "Hernán",
    "Valentina",
    "Jorge",
    "Adriana",
    "Ricardo",
    "Gloria",
    "Esteban",
    "Yolanda",
    "Fabián",
    "Sandra",
    "Wilson",
    "Catalina",
    "Alejandro",
];
const LAST_NAMES: &[&str] = &[
    "Pérez",
    "Gómez",
    "Rodríguez",
    "Martínez",
    "Hernández",
    "López",
    "Ramírez",
    "Torres",
    "Suárez",
    "Vargas",
    "Moreno",
    "Jiménez",
    "Castillo",
    "Rojas",
    "Ortiz",
    "Cárdenas",
    "Salazar",
    "Mejía",
    "Ospina",
    "Guerrero",
    "Acosta",
    "Bermúdez",
    "Patiño",
    "Zapata",
];
const SITES: &[&str] = &[
    "la sede principal",
    "la sede norte",
    "el consultorio de salud ocupacional",
    "la unidad móvil",
    "la sede de Duitama",
    "la sede de Sogamoso",
    "el laboratorio",
    "la sala de toma de muestras",
    "la recepción",
    "el área de facturación",
];
const DEVICES: &[&str] = &[
    "el equipo de recepción",
    "el portátil de la unidad móvil",
    "el computador del consultorio 3",
    "el equipo de audiometría",
    "el computador de facturación",
    "el equipo de la enfermera jefe",
];
const MODULES: &[&str] = &[
    "historia clínica ocupacional",
    "certificados de aptitud",
    "agenda de citas",
    "facturación",
    "audiometría",
    "visiometría",
    "optometría",
    "vacunación",
    "laboratorio",
];
const PROBLEM_TITLES: &[&str] = &[
    "Lentitud recurrente al abrir historias clínicas",
    "Errores intermitentes al generar certificados",
    "La sesión se cierra sola varias veces al día",
    "Fallas repetidas al sincronizar la unidad móvil",
];

/// What the customer said when reporting, by playbook case.
fn report_text(rng: &mut Rng, case: &str, incident_title: &str) -> String {
    let site = rng.pick(SITES);
    let device = rng.pick(DEVICES);
    let module = rng.pick(MODULES);
    match case {
        "acceso" => format!(
            "Desde {site} informan: \"{incident_title}\". El problema empezó esta mañana en {device}; \
             otros usuarios de la misma sede {}. Ya reiniciaron el navegador y el equipo sin cambios. \
             Necesitan atender pacientes en el módulo de {module}.",
            if rng.chance(0.5) { "tampoco pueden trabajar" } else { "sí ingresan normalmente" }
        ),
        "dispositivos" => format!(
            "En {site} la plataforma no responde como se espera: \"{incident_title}\". El dispositivo \
             está conectado a {device} y hasta ayer funcionaba. Tienen pacientes en sala de espera \
             para exámenes de ingreso y están registrando los datos en papel mientras tanto."
        ),
        _ => format!(
            "El usuario trabaja en el módulo de {module} desde {site} y reporta: \"{incident_title}\". \
             Ocurre con varios pacientes desde hace {} horas. Envió captura de pantalla del mensaje \
             que muestra la plataforma.",
            rng.range(1, 6)
        ),
    }
}

fn request_text(rng: &mut Rng, title: &str, summary: &str) -> String {
    format!(
        "Solicitud: {title}. {summary} El cliente escribe desde {} y pide que quede listo \
         antes del cierre de mes porque lo necesitan para el informe a la ARL. Adjunta el detalle \
         en el correo original ({} registros aproximadamente).",
        rng.pick(SITES),
        rng.range(5, 400)
    )
}

/// Working state of one generated ticket.
struct Gen<'a> {
    rules: Rules<'a>,
    customer: &'a Customer,
    state: State,
    events: Vec<Event>,
    conversation: Vec<String>,
    t: DateTime<FixedOffset>,
    id: String,
    now: DateTime<FixedOffset>,
}

impl<'a> Gen<'a> {
    fn stamp(&self) -> Stamp {
        Stamp(self.t)
    }

    /// Applies `ev` through the workflow; keeps it only if the process allows it.
    fn push(&mut self, mut ev: Event, note: Option<String>) -> bool {
        if matches!(
            ev.event,
            EventKind::Created
                | EventKind::Proposed
                | EventKind::Resolved
                | EventKind::Reminded
                | EventKind::Closed
        ) {
            ev.message_id = Some(format!(
                "<{}.{}@sgm.com.co>",
                self.id,
                self.events.len() + 1
            ));
        }
        match workflow::apply(self.rules, Some(self.customer), &mut self.state, &ev) {
            Ok(()) => {
                if let Some(n) = note {
                    let who = self
                        .rules
                        .config
                        .agent(&ev.by)
                        .map(|a| a.name.clone())
                        .unwrap_or_else(|| {
                            if ev.by == "customer" {
                                "Cliente".into()
                            } else {
                                "Mesa (automático)".into()
                            }
                        });
                    self.conversation.push(format!(
                        "**{} — {}:** {}",
                        ev.at.0.format("%Y-%m-%d %H:%M"),
                        who,
                        n
                    ));
                }
                self.events.push(ev);
                true
            }
            Err(_) => false,
        }
    }

    /// Moves the clock on; desk work that would fall outside 07:00-17:00 moves to the next
    /// morning, as a real desk's log does.
    fn advance(&mut self, rng: &mut Rng, lo: i64, hi: i64) {
        use chrono::Timelike;
        self.t += Duration::minutes(rng.range(lo, hi));
        let hour = self.t.hour();
        if !(7..17).contains(&hour) {
            let skip = if hour >= 17 { 24 - hour + 7 } else { 7 - hour };
            self.t += Duration::hours(skip as i64);
        }
    }

    fn agent_at(&self, rng: &mut Rng, level: u8) -> String {
        let agents: Vec<&str> = self
            .rules
            .config
            .agents
            .iter()
            .filter(|a| a.level == level && a.role != AgentRole::Supervisor)
            .map(|a| a.code.as_str())
            .collect();
        if agents.is_empty() {
            self.state.assignee.clone().unwrap_or_default()
        } else {
            rng.pick(&agents).to_string()
        }
    }

    fn worker(&self) -> String {
        self.state.assignee.clone().unwrap_or_default()
    }
}

fn ev(at: Stamp, by: &str, kind: EventKind) -> Event {
    Event::new(at, by, kind)
}

/// Impact, urgency and the priority the guidance suggests for them.
fn guided(rules: Rules, rng: &mut Rng) -> (String, String, Option<String>, String) {
    let g = &rules.config.priority_guidance;
    let impact = rng.pick(&g.impact).id.clone();
    let urgency = rng.pick(&g.urgency).id.clone();
    let effort = if rng.chance(0.3) {
        Some(rng.pick(&g.effort).id.clone())
    } else {
        None
    };
    let prio = rules
        .config
        .suggest_priority(Some(&impact), Some(&urgency), effort.as_deref())
        .map(|r| r.priority.clone())
        .unwrap_or_else(|| "media".into());
    (impact, urgency, effort, prio)
}

fn generate(
    desk: &Desk,
    index: usize,
    seed: u64,
    id: &str,
    created: DateTime<FixedOffset>,
    now: DateTime<FixedOffset>,
    planned_calendar: Option<&Calendar>,
) -> Ticket {
    let rules = desk.rules();
    let cfg = &desk.config;
    let mut rng = Rng::new(seed.wrapping_mul(0x100_0000_01b3) ^ index as u64);
    let customer = rng.pick(&cfg.customers);
    let first = rng.pick(FIRST_NAMES);
    let last = rng.pick(LAST_NAMES);
    let requester = Requester {
        name: format!("{first} {last}"),
        email: customer
            .contacts
            .first()
            .and_then(|c| c.email.split_once('@'))
            .map(|(_, domain)| {
                format!(
                    "{}{}@{domain}",
                    first.chars().next().unwrap_or('u').to_lowercase(),
                    fold(last)
                )
            }),
        phone: if rng.chance(0.4) {
            Some(format!(
                "+57 3{:02} {:03} {:04}",
                rng.range(0, 50),
                rng.range(0, 999),
                rng.range(0, 9999)
            ))
        } else {
            None
        },
    };
    let channel = rng.pick(&cfg.channels).id.clone();
    let level1: Vec<&str> = cfg
        .agents
        .iter()
        .filter(|a| a.level == 1 && a.role == AgentRole::Agent)
        .map(|a| a.code.as_str())
        .collect();
    let receiver = rng.pick(&level1).to_string();
    let mut g = Gen {
        rules,
        customer,
        state: State::default(),
        events: Vec::new(),
        conversation: Vec::new(),
        t: created,
        id: id.to_string(),
        now,
    };
    let target = 5 + rng.below(16);

    // Reception and classification.
    let kind = rng.below(100);
    let mut title;
    let description;
    g.push(
        ev(g.stamp(), &receiver, EventKind::Created),
        Some(format!(
            "Se registra el caso {id} por {} y se envía al cliente el número de caso.",
            cfg.channel(&channel)
                .map(|c| c.name.to_lowercase())
                .unwrap_or_default()
        )),
    );
    g.advance(&mut rng, 1, 40);
    if rng.chance(0.03) {
        // A late first response: the acknowledgement goes out long after the promise.
        g.advance(&mut rng, 300, 900);
    }
    let mut classified = ev(g.stamp(), &receiver, EventKind::Classified);
    if kind < 65 {
        let incidents: Vec<(&str, &str, &str)> = desk
            .kb
            .playbook
            .iter()
            .flat_map(|c| {
                c.front
                    .incidents
                    .iter()
                    .map(move |i| (c.id.as_str(), i.id.as_str(), i.title.as_str()))
            })
            .collect();
        let (case, inc, inc_title) = *rng.pick(&incidents);
        let problem = kind >= 58;
        classified.ticket_type = Some(if problem {
            TicketType::Problem
        } else {
            TicketType::Incident
        });
        if !problem || rng.chance(0.5) {
            classified.incident = Some(inc.to_string());
        }
        title = if problem {
            rng.pick(PROBLEM_TITLES).to_string()
        } else {
            format!("{inc_title} en {}", rng.pick(SITES))
        };
        description = report_text(&mut rng, case, inc_title);
        let (impact, urgency, effort, prio) = guided(rules, &mut rng);
        classified.impact = Some(impact);
        classified.urgency = Some(urgency);
        classified.effort = effort;
        if rng.chance(0.08) {
            let other = rng.pick(&["alta", "media", "baja"]).to_string();
            if other != prio {
                classified.reason = Some(
                    "El cliente tiene auditoría de la secretaría de salud esta semana; se ajusta la prioridad."
                        .into(),
                );
            }
            classified.priority = Some(other);
        } else {
            classified.priority = Some(prio);
        }
    } else {
        let entry = rng.pick(&desk.kb.catalog);
        classified.ticket_type = Some(TicketType::Request);
        classified.request = Some(entry.id.clone());
        if entry.front.cab == CabRule::Conditional {
            classified.cab = Some(rng.chance(0.5));
        }
        title = format!(
            "{} — {}",
            entry.front.title.trim_end_matches('.'),
            customer.name
        );
        description = request_text(&mut rng, &entry.front.title, &entry.front.summary);
        if rng.chance(0.06) {
            classified.priority = Some("planeado".into());
            // Agreed dates fall in working time of the priority's calendar.
            let mut due = (g.t + Duration::days(rng.range(3, 20)))
                .date_naive()
                .and_hms_opt(*rng.pick(&[8, 9, 10, 11, 13, 14, 15]), 0, 0)
                .and_then(|d| d.and_local_timezone(*g.t.offset()).single())
                .unwrap_or(g.t);
            for _ in 0..30 {
                if planned_calendar.is_none_or(|c| c.is_working(due.with_timezone(&chrono::Utc))) {
                    break;
                }
                due += Duration::days(1);
            }
            classified.agreed_date = Some(Stamp(due));
            title = format!("Planeado: {title}");
        } else {
            let (impact, urgency, effort, prio) = guided(rules, &mut rng);
            classified.impact = Some(impact);
            classified.urgency = Some(urgency);
            classified.effort = effort;
            classified.priority = Some(prio);
        }
    }
    // Tickets of the last days are often still open, in every status (a few not even
    // classified yet).
    let recent = now - created < Duration::days(10);
    if !(recent && rng.chance(0.05)) {
        g.push(
            classified,
            Some("Caso clasificado y priorizado según la guía de la mesa.".into()),
        );
    }

    // The rest of the life cycle, one plausible step at a time.
    // A ticket older than a month has run its course, as a real desk's have: it keeps
    // stepping past its planned length until it closes (within a bound).
    let settled = now - created > Duration::days(30);
    let mut stuck = 0;
    while (g.events.len() < target || settled) && g.events.len() < 60 && stuck < 8 {
        if g.state.status() == Status::Closed || g.state.status() == Status::New {
            break;
        }
        if recent && rng.chance(0.12) {
            break;
        }
        let before = g.events.len();
        step(&mut g, &mut rng);
        if g.t > g.now {
            // Do not record the future: drop the step that crossed "now" and stop.
            if g.events.len() > before {
                g.events.truncate(before);
                g.conversation.pop();
                let (state, _) = workflow::replay(rules, Some(customer), &g.events);
                g.state = state;
            }
            break;
        }
        if g.events.len() == before {
            stuck += 1;
        }
    }

    let mut front = TicketFront {
        events: g.events,
        ..TicketFront::new(
            id.to_string(),
            title,
            customer.id.clone(),
            requester,
            channel,
        )
    };
    g.state.write_into(&mut front);
    let mut body = String::with_capacity(1500);
    body.push_str(&description);
    body.push_str("\n\n## Conversación\n\n");
    for line in &g.conversation {
        body.push_str(line);
        body.push_str("\n\n");
    }
    Ticket {
        path: PathBuf::new(),
        front,
        body,
    }
}

/// One plausible next step for the ticket's status.
fn step(g: &mut Gen, rng: &mut Rng) {
    let rules = g.rules;
    match g.state.status() {
        Status::New | Status::Closed => {}
        Status::Analysis | Status::InProgress => {
            let missing = workflow::missing_checks(rules, Some(g.customer), &g.state);
            if let Some(check) = missing.first() {
                g.advance(rng, 3, 30);
                let mut e = ev(g.stamp(), &g.worker(), EventKind::Checked);
                e.check = Some(check.id.clone());
                let r = rng.below(100);
                e.result = Some(if r < 60 {
                    CheckResult::Done
                } else if r < 85 {
                    CheckResult::Failed
                } else {
                    CheckResult::Na
                });
                let note = format!(
                    "Verificación «{}»: {:?}.",
                    check.action.trim_end_matches('.'),
                    e.result.unwrap()
                );
                g.push(e, Some(note));
                return;
            }
            let is_request = g.state.ticket_type == Some(TicketType::Request);
            let roll = rng.below(100);
            let level = g.state.level;
            if !is_request && level < 5 && roll < 28 {
                g.advance(rng, 10, 120);
                let to = if rng.chance(0.1) { 5 } else { level + 1 };
                let mut e = ev(g.stamp(), &g.worker(), EventKind::Escalated);
                e.level = Some(to);
                e.reason = Some(format!(
                    "Verificaciones del nivel {level} registradas y el problema continúa; se requiere {}.",
                    rules.config.level_role(to).unwrap_or("el siguiente nivel")
                ));
                if g.push(e, Some(format!("Se escala el caso al nivel {to}."))) {
                    g.advance(rng, 1, 20);
                    let who = g.agent_at(rng, to);
                    let mut a = ev(g.stamp(), &g.worker(), EventKind::Assigned);
                    a.agent = Some(who);
                    g.push(a, None);
                }
            } else if g.state.status() == Status::Analysis && roll < 55 {
                g.advance(rng, 5, 90);
                let e = ev(g.stamp(), &g.worker(), EventKind::Started);
                g.push(e, Some("Se inicia el trabajo sobre la solución.".into()));
            } else if roll < 62 && g.state.extended_resolution.is_none() {
                let current = g.state.sla.resolution.unwrap_or(Dur::hours(24));
                g.advance(rng, 30, 240);
                let mut e = ev(g.stamp(), &g.worker(), EventKind::Extended);
                e.clock = Some(Clock::Resolution);
                e.target = Some(Dur::minutes(current.minutes + 60 * rng.range(12, 72)));
                e.reason = Some(format!(
                    "El volumen es mayor al estimado: {} registros en lugar de los indicados.",
                    rng.range(500, 5000)
                ));
                g.push(
                    e,
                    Some("Se amplía el ANS estimado y se informa al cliente.".into()),
                );
            } else if roll < 70 {
                g.advance(rng, 15, 300);
                let mut e = ev(g.stamp(), &g.worker(), EventKind::Commented);
                e.text = Some(format!(
                    "Se revisan los registros del servidor de {}; se pide al usuario una nueva captura de pantalla.",
                    rng.pick(MODULES)
                ));
                e.public = Some(rng.chance(0.5));
                g.push(e, Some("Nota de seguimiento registrada.".into()));
            } else {
                g.advance(rng, 20, 600);
                let mut e = ev(g.stamp(), &g.worker(), EventKind::Resolved);
                e.text = Some(format!(
                    "Se corrigió la configuración en {} y se probó con el usuario en {}.",
                    rng.pick(DEVICES),
                    rng.pick(SITES)
                ));
                if rng.chance(0.2) {
                    let article = rng.pick(&rules.kb.articles).id.clone();
                    e.kb = Some(article);
                }
                g.push(
                    e,
                    Some("Se envía la notificación de solución por correo.".into()),
                );
            }
        }
        Status::CabReview => {
            if g.state.quote_needed.is_none() {
                g.advance(rng, 120, 1440);
                let request = g.state.request.clone().unwrap_or_default();
                let entry = rules.kb.request(&request);
                let mut e = ev(g.stamp(), "pvaldes", EventKind::CabReviewed);
                e.complexity = Some(entry.map_or(Complexity::Medium, |r| r.front.complexity));
                e.quote = Some(entry.is_some_and(|r| {
                    workflow::quote_needed(r.front.quote, &request, Some(g.customer))
                }));
                g.push(
                    e,
                    Some("El comité de control de cambios revisa la solicitud.".into()),
                );
            } else {
                g.advance(rng, 60, 600);
                let mut e = ev(g.stamp(), &g.worker(), EventKind::Proposed);
                e.text = Some("Propuesta de solución con alcance, entregables y fechas.".into());
                if g.state.quote_needed == Some(true) {
                    e.amount = Some((rng.range(4, 160) * 50_000) as f64);
                    e.currency = Some("COP".into());
                }
                g.push(
                    e,
                    Some("Se envía la propuesta al cliente por correo.".into()),
                );
            }
        }
        Status::AwaitingApproval => {
            g.advance(rng, 240, 4320);
            let kind = if rng.chance(0.8) {
                EventKind::Accepted
            } else {
                EventKind::Declined
            };
            let e = ev(g.stamp(), "customer", kind);
            let note = if kind == EventKind::Accepted {
                "El cliente aprueba la propuesta."
            } else {
                "El cliente no aprueba la propuesta por presupuesto."
            };
            g.push(e, Some(note.into()));
        }
        Status::Resolved => {
            if !g.state.called && rng.chance(0.7) {
                g.advance(rng, 5, 60);
                let mut e = ev(g.stamp(), &g.worker(), EventKind::Called);
                e.text = Some("Se llama al usuario para contarle la solución.".into());
                g.push(e, None);
                return;
            }
            let resolved = g.state.resolved_at.map(|s| s.0).unwrap_or(g.t);
            let roll = rng.below(100);
            if roll < 58 {
                g.advance(rng, 30, 1200);
                let e = ev(g.stamp(), "customer", EventKind::Confirmed);
                g.push(
                    e,
                    Some("El usuario confirma que quedó funcionando. ¡Gracias!".into()),
                );
            } else if roll < 73 && g.state.reopened < 2 {
                g.advance(rng, 60, 1200);
                let mut e = ev(g.stamp(), "customer", EventKind::Rejected);
                e.reason =
                    Some("El problema volvió a presentarse en otro equipo de la sede.".into());
                g.push(
                    e,
                    Some("El cliente rechaza la solución; se reabre el caso.".into()),
                );
            } else if roll < 90 {
                if !g.state.reminded {
                    g.t = g
                        .t
                        .max(resolved + Duration::hours(24) + Duration::minutes(rng.range(1, 120)));
                    let e = ev(g.stamp(), "mesa", EventKind::Reminded);
                    g.push(
                        e,
                        Some("Recordatorio automático: sin respuesta del cliente.".into()),
                    );
                } else {
                    g.t = g
                        .t
                        .max(resolved + Duration::hours(72) + Duration::minutes(rng.range(1, 120)));
                    let mut e = ev(g.stamp(), "mesa", EventKind::Closed);
                    e.close_reason = Some(CloseReason::AutoConfirmed);
                    g.push(e, Some("Cierre automático: 72 horas sin respuesta.".into()));
                }
            } else {
                g.advance(rng, 60, 1440);
                let mut e = ev(g.stamp(), &g.worker(), EventKind::Closed);
                e.close_reason = Some(CloseReason::MutualAgreement);
                e.reason = Some(
                    "El cliente y la mesa acuerdan cerrar; el resto se atiende en un caso nuevo."
                        .into(),
                );
                g.push(e, Some("Cierre de mutuo acuerdo.".into()));
            }
        }
    }
}

/// Lowercase ASCII fold of a Spanish surname, for email addresses.
fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'Á' => 'a',
            'é' | 'É' => 'e',
            'í' | 'Í' => 'i',
            'ó' | 'Ó' => 'o',
            'ú' | 'Ú' | 'ü' => 'u',
            'ñ' | 'Ñ' => 'n',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.map_err(std::io::Error::other)?;
        let rel = entry
            .path()
            .strip_prefix(from)
            .map_err(std::io::Error::other)?;
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest)?;
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}

const ARTICLE_TOPICS: &[(&str, &str)] = &[
    (
        "Configurar la cámara web para la foto del paciente",
        "dispositivos",
    ),
    (
        "Restablecer la contraseña de un usuario Funcionario",
        "acceso",
    ),
    ("Imprimir certificados de aptitud en lote", "funcionalidad"),
    (
        "Preparar el equipo de la unidad móvil antes de la jornada",
        "extramural",
    ),
    ("Exportar la base de audiometrías del mes", "reportes"),
    ("Cómo leer el tablero de tiempos de respuesta", "ans"),
];

fn article_text(rng: &mut Rng, n: usize, total: usize) -> String {
    let (topic, category) = *rng.pick(ARTICLE_TOPICS);
    let kinds = ["article", "training", "announcement", "policy"];
    let kind = *rng.pick(&kinds);
    let mut s = String::with_capacity(3000);
    let _ = writeln!(s, "---");
    let _ = writeln!(s, "title: \"{topic} ({n})\"");
    let _ = writeln!(s, "kind: {kind}");
    let _ = writeln!(s, "category: {category}");
    let _ = writeln!(s, "tags: [{category}, sintetico]");
    let _ = writeln!(
        s,
        "summary: \"Guía {n} generada para pruebas de carga: {}.\"",
        topic.to_lowercase()
    );
    let _ = writeln!(s, "internal: {}", rng.chance(0.3));
    if kind == "announcement" || kind == "training" {
        let _ = writeln!(
            s,
            "date: 2026-{:02}-{:02}",
            rng.range(9, 11),
            rng.range(1, 28)
        );
    }
    let _ = writeln!(s, "---");
    let _ = writeln!(s, "## Antes de empezar\n");
    for i in 0..6 {
        let _ = writeln!(
            s,
            "- Paso previo {}: confirme con el usuario el módulo de {} y la sede ({}).",
            i + 1,
            rng.pick(MODULES),
            rng.pick(SITES)
        );
    }
    let _ = writeln!(s, "\n## Procedimiento\n");
    for i in 0..18 {
        let _ = writeln!(
            s,
            "{}. Revise {} y registre el resultado en el ticket antes de continuar con el paso siguiente.",
            i + 1,
            rng.pick(DEVICES)
        );
    }
    let _ = writeln!(s, "\n## Véase también\n");
    let other = rng.below(total.max(1)) + 1;
    let _ = writeln!(s, "- [Crear nuevo reporte](../catalog/crear-reporte.md)");
    let _ = writeln!(s, "- [Matriz de escalamiento](matriz-de-escalamiento.md)");
    let _ = writeln!(s, "- [Otra guía](sintetico-{other:05}.md)");
    let _ = writeln!(s, "\n## Notas\n");
    for _ in 0..8 {
        let _ = writeln!(
            s,
            "Si el problema continúa después de {} minutos, escale según la matriz y deje constancia de las verificaciones.",
            rng.range(5, 60)
        );
    }
    s
}

fn main() {
    if let Err(e) = run(Args::parse()) {
        eprintln!("gen_desk: {e}");
        std::process::exit(1);
    }
}

/// Tickets a day of the synthetic desk: SGM's order of magnitude (a million in ten years).
const TICKETS_PER_DAY: usize = 300;

/// Days of history for `tickets` tickets: at [`TICKETS_PER_DAY`], and at least the 86 days
/// (1 September to 26 November 2026) every desk of up to 25,800 tickets spans.
fn span_days(tickets: usize) -> i64 {
    (tickets.div_ceil(TICKETS_PER_DAY) as i64).max(86)
}

/// Writes the desk `args` describes.
pub fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let out = &args.out;
    if out.exists() && std::fs::read_dir(out)?.next().is_some() {
        if !args.force {
            return Err(format!(
                "{} is not empty (use --force to replace its tickets and kb)",
                out.display()
            )
            .into());
        }
        for sub in ["tickets", "kb", "theme"] {
            let p = out.join(sub);
            if p.exists() {
                std::fs::remove_dir_all(&p)?;
            }
        }
    }
    std::fs::create_dir_all(out)?;
    std::fs::copy(args.from.join("desk.yaml"), out.join("desk.yaml"))?;
    copy_dir(&args.from.join("kb"), &out.join("kb"))?;
    if args.from.join("theme").is_dir() {
        copy_dir(&args.from.join("theme"), &out.join("theme"))?;
    }

    let mut rng = Rng::new(args.seed);
    for n in 1..=args.articles {
        let text = article_text(&mut rng, n, args.articles);
        std::fs::write(out.join(format!("kb/articles/sintetico-{n:05}.md")), text)?;
    }

    let (desk, diags) = Desk::load(out)?;
    if !diags.is_empty() {
        for d in &diags {
            eprintln!("{d}");
        }
        return Err("the sample desk copied into the output has problems".into());
    }

    let planned_calendar = desk
        .config
        .priorities
        .iter()
        .find(|p| p.planned)
        .and_then(|p| desk.config.calendar(&p.calendar))
        .and_then(|c| Calendar::from_config(c, out).ok());

    // Creation instants and case numbers, sequentially so ids stay unique and deterministic.
    // The desk's history ends on a fixed day and reaches back as far as a desk taking
    // TICKETS_PER_DAY tickets a day needs (never less than the three months of small desks):
    // month folders hold a few thousand tickets, as a real desk's do, at any size.
    let tz = FixedOffset::west_opt(5 * 3600).ok_or("offset")?;
    let now = tz
        .with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .ok_or("date")?;
    let days = span_days(args.tickets);
    let start = tz
        .from_local_datetime(
            &(now.date_naive() - Duration::days(days))
                .and_hms_opt(0, 0, 0)
                .ok_or("date")?,
        )
        .single()
        .ok_or("date")?;
    let days = (now - start).num_days();
    let mut seen = HashSet::with_capacity(args.tickets);
    let mut plan = Vec::with_capacity(args.tickets);
    for _ in 0..args.tickets {
        let day = rng.range(0, days - 1);
        // Mostly working hours, some at night (the 24x7 calendar of Crítica).
        let minute = if rng.chance(0.9) {
            rng.range(7 * 60, 17 * 60)
        } else {
            rng.range(0, 24 * 60 - 1)
        };
        let created = start
            + Duration::days(day)
            + Duration::minutes(minute)
            + Duration::seconds(rng.range(0, 59));
        let id = loop {
            let id = mesa::model::ids::case_number(&created, (rng.next() & 0x7fff) as u16);
            if seen.insert(id.clone()) {
                break id;
            }
        };
        plan.push((id, created));
    }
    let months: HashSet<String> = plan
        .iter()
        .map(|(_, c)| c.format("tickets/%Y/%m").to_string())
        .collect();
    for m in months {
        std::fs::create_dir_all(out.join(m))?;
    }
    let bytes: usize = plan
        .par_iter()
        .enumerate()
        .map(|(i, (id, created))| -> Result<usize, String> {
            let ticket = generate(
                &desk,
                i,
                args.seed,
                id,
                *created,
                now,
                planned_calendar.as_ref(),
            );
            let text = ticket.to_text();
            let path = out.join(Ticket::relative_path(id, &Stamp(*created)));
            std::fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(text.len())
        })
        .collect::<Result<Vec<usize>, String>>()?
        .into_iter()
        .sum();
    eprintln!(
        "gen_desk: {} tickets ({:.1} MB, {:.0} bytes each on average) and {} articles in {} ({:.1} s)",
        args.tickets,
        bytes as f64 / 1e6,
        bytes as f64 / args.tickets.max(1) as f64,
        args.articles,
        out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
