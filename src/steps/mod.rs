//! The steps API: the one writer of tickets. Every front end (the command line, `sweep`,
//! `kb new --from-ticket`, and any later inbox or web front end) applies the manual's steps
//! through here, and nothing here prints.
//!
//! A step goes the same way whoever asks: find the ticket straight from its case number
//! (`YYMMDD-XXXXX` -> `tickets/20YY/MM/<id>.md`, never a scan of the desk), replay its log with
//! [`workflow::replay`], turn the [`Step`] into events, let [`workflow::apply`] accept or refuse
//! each, write the derived fields, write the file atomically and make one git commit (see
//! [`crate::store::git`]), then queue the customer emails the step sends. A refused step
//! writes nothing and comes back as an [`Error`] saying why.
//!
//! ```no_run
//! use mesa::model::load::Desk;
//! use mesa::steps::{self, Options, Step};
//!
//! let desk = Desk::open(std::path::Path::new("/srv/desk"))?;
//! let agent = steps::resolve_actor(&desk, Some("ana"))?;
//! let now = steps::stamp_at(&desk, Some("2026-11-30T09:00:00-05:00"))?;
//! let step = Step::Escalate { to: None, reason: "Needs the database team".into(), assign: None };
//! let outcome = steps::apply(&desk, "261130-C4K7P", step, agent, now, Options::default())?;
//! println!("{} -> level {}", outcome.what, outcome.ticket.front.level);
//! # Ok::<(), mesa::model::diag::Error>(())
//! ```

pub mod delivery;
pub mod doctor;
pub mod inbox;
pub mod kb_draft;
pub mod sweep;

use crate::model::desk::{Agent, Customer};
use crate::model::diag::{Error, Result};
use crate::model::duration::Dur;
use crate::model::kb::Complexity;
use crate::model::labels;
use crate::model::load::Desk;
use crate::model::ticket::{
    self, CheckResult, Clock, CloseReason, Event, EventKind, Requester, Stamp, Ticket, TicketFront,
    TicketType,
};
use crate::rules::customer_wait;
use crate::rules::workflow::{self, RuleError, State};
use crate::store::git::{Author, Change};
use crate::tr;
use chrono::{DateTime, FixedOffset, Utc};
use std::path::{Path, PathBuf};

/// Who records the customer's answers: the customer, through the agent who logs it (or
/// `mesa inbox`, from the customer's email).
pub const CUSTOMER: &str = workflow::CUSTOMER;

/// Priority and its guidance, as given with `new`, `classify` and `priority`. Without a
/// priority, impact, urgency and effort (given or already on the ticket) suggest one.
#[derive(Debug, Clone, Default)]
pub struct PriorityInput {
    pub priority: Option<String>,
    pub impact: Option<String>,
    pub urgency: Option<String>,
    pub effort: Option<String>,
    /// Why the priority differs from the guidance's suggestion.
    pub reason: Option<String>,
    /// Agreed date for a planned priority.
    pub agreed_date: Option<Stamp>,
}

/// What a ticket is, decided at analysis (or at reception).
#[derive(Debug, Clone)]
pub struct Classification {
    pub ticket_type: TicketType,
    /// Playbook incident id (incidents and problems).
    pub incident: Option<String>,
    /// Catalog entry id (requests).
    pub request: Option<String>,
    /// For a request whose CAB review is conditional: whether the CAB must review it.
    pub cab: Option<bool>,
}

/// Reception: everything a new ticket starts with.
#[derive(Debug, Clone)]
pub struct Reception {
    pub channel: String,
    pub customer: String,
    pub requester: Requester,
    pub title: String,
    pub description: String,
    pub classification: Option<Classification>,
    pub priority: PriorityInput,
}

/// One step of the manual on an existing ticket, with its arguments.
#[derive(Debug, Clone)]
pub enum Step {
    Classify {
        classification: Classification,
        priority: PriorityInput,
    },
    Assign {
        to: String,
    },
    Prioritize(PriorityInput),
    Verify {
        check: String,
        result: CheckResult,
        note: Option<String>,
    },
    /// One level up without `to`. The case goes to `assign`, an agent of the target level, or
    /// else to the least loaded one ([`least_loaded`]).
    Escalate {
        to: Option<u8>,
        reason: String,
        assign: Option<String>,
    },
    Start {
        note: Option<String>,
    },
    /// The CAB's decision; without values, the catalog entry and the customer's contract decide.
    Cab {
        complexity: Option<Complexity>,
        quote: Option<bool>,
        note: Option<String>,
    },
    Propose {
        text: String,
        amount: Option<f64>,
        currency: Option<String>,
    },
    Accept {
        note: Option<String>,
    },
    Decline {
        note: Option<String>,
    },
    Resolve {
        solution: String,
        kb: Option<String>,
    },
    Call {
        note: Option<String>,
    },
    Confirm {
        note: Option<String>,
    },
    Reject {
        reason: String,
    },
    Close {
        reason: CloseReason,
        note: Option<String>,
    },
    Extend {
        to: Dur,
        reason: String,
    },
    Comment {
        text: String,
        public: bool,
    },
    /// End a wait on the customer's side by hand: the clocks run again (docs/lifecycle.md).
    Resume {
        reason: String,
    },
}

/// How a step is recorded.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Commit the change (the default); without it the file is only written.
    pub commit: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { commit: true }
    }
}

/// What an applied step produced.
#[derive(Debug)]
pub struct Outcome {
    /// The ticket as written, with its new events and derived fields.
    pub ticket: Ticket,
    /// The replayed state after the step.
    pub state: State,
    /// What happened, as the commit message says it (after `<ID>: `).
    pub what: String,
    pub commit: Option<git2::Oid>,
    /// Message-IDs of the customer emails queued.
    pub message_ids: Vec<String>,
    /// The steps the workflow allows next, as commands (`mesa resolve ID ...`).
    pub next: Vec<String>,
    /// Problems already in the log before this step (e.g. after a hand merge).
    pub log_problems: Vec<RuleError>,
    /// The priority the guidance suggests, when impact, urgency or effort were given.
    pub suggested_priority: Option<String>,
    /// The promised resolution instant, for a new ticket.
    pub promised: Option<DateTime<chrono_tz::Tz>>,
}

/// Events applied in memory: the ticket with its new events and derived fields, the replayed
/// state, and the customer emails to queue once the change is committed.
pub struct Staged {
    pub ticket: Ticket,
    pub state: State,
    pub outgoing: Vec<crate::mail::compose::Outgoing>,
}

/// Events recorded and committed.
pub struct Recorded {
    pub ticket: Ticket,
    pub state: State,
    pub commit: Option<git2::Oid>,
    pub message_ids: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Who and when

/// The instant `given` (RFC 3339), or the system clock, expressed in the desk's time zone.
pub fn stamp_at(desk: &Desk, given: Option<&str>) -> Result<Stamp> {
    let utc: DateTime<Utc> = match given {
        Some(s) => DateTime::parse_from_rfc3339(s.trim())
            .map_err(|_| Error::Usage(tr!("cmd.bad_now", value = s)))?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    if let Some(p) = crate::model::input::instant_problem(utc) {
        return Err(Error::Usage(p));
    }
    Ok(Stamp(in_desk_zone(desk, utc)))
}

/// `utc` with the desk's time-zone offset at that instant.
pub fn in_desk_zone(desk: &Desk, utc: DateTime<Utc>) -> DateTime<FixedOffset> {
    match desk.config.time_zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => utc.with_timezone(&tz).fixed_offset(),
        Err(_) => utc.fixed_offset(),
    }
}

/// The acting agent: `given` (an agent code, or an email), else git's `user.email` matched
/// against desk.yaml's agents.
pub fn resolve_actor<'a>(desk: &'a Desk, given: Option<&str>) -> Result<&'a Agent> {
    let cfg = &desk.config;
    let codes: Vec<&str> = cfg.agents.iter().map(|a| a.code.as_str()).collect();
    if let Some(a) = given {
        return cfg
            .agent(a)
            .or_else(|| cfg.agent_by_email(a))
            .ok_or_else(|| {
                let close = crate::model::diag::suggest(a, codes.iter().copied());
                Error::Usage(tr!(
                    "cmd.unknown_agent",
                    id = a,
                    list = if close.is_empty() {
                        codes.join(", ")
                    } else {
                        close.join(", ")
                    }
                ))
            });
    }
    let email = git2::Repository::discover(&desk.root)
        .and_then(|r| r.config())
        .and_then(|c| c.get_string("user.email"))
        .or_else(|_| git2::Config::open_default().and_then(|c| c.get_string("user.email")))
        .ok();
    match email {
        Some(e) => cfg.agent_by_email(&e).ok_or_else(|| {
            Error::Usage(tr!(
                "cmd.email_not_agent",
                email = e,
                list = codes.join(", ")
            ))
        }),
        None => Err(Error::Usage(tr!("cmd.no_actor", list = codes.join(", ")))),
    }
}

/// The commit author for an agent's step at `now`.
pub fn author_of(agent: &Agent, now: &Stamp) -> Author {
    Author {
        name: agent.name.clone(),
        email: agent.email.clone(),
        at: now.0,
    }
}

// ---------------------------------------------------------------------------------------------
// Finding tickets

/// Normalises a case number as typed (lower case accepted).
pub fn normalize_id(id: &str) -> Result<String> {
    let id = id.trim().to_ascii_uppercase();
    if crate::model::ids::is_valid(&id) {
        Ok(id)
    } else {
        Err(Error::Usage(tr!("cmd.bad_id", id = id)))
    }
}

/// Where a ticket lives, from its case number alone: `tickets/20YY/MM/<id>.md`.
pub fn ticket_rel_path(id: &str) -> PathBuf {
    let part = |r: std::ops::Range<usize>| id.get(r).unwrap_or("00");
    PathBuf::from(format!("tickets/20{}/{}/{id}.md", part(0..2), part(2..4)))
}

/// Loads the ticket `id` straight from its path.
pub fn load_ticket(root: &Path, id: &str) -> Result<Ticket> {
    let id = normalize_id(id)?;
    let rel = ticket_rel_path(&id);
    let abs = root.join(&rel);
    // Anything at the path is read (and refused there when it is not a regular file).
    if std::fs::symlink_metadata(&abs).is_err() {
        return Err(Error::Message(tr!(
            "cmd.no_ticket",
            id = id,
            path = rel.display()
        )));
    }
    let text = crate::model::front_matter::read_text(&abs).map_err(|mut d| {
        d.path = rel.clone();
        Error::from(d)
    })?;
    Ok(ticket::parse(&rel, &text)?)
}

/// `Name <email>`, a bare email, or a bare name (a caller without email, e.g. by phone).
/// Anything that names an address must name exactly one, with nothing after it; names may not
/// hold control characters (they end up in the `To:` header). The rules are in
/// [`crate::model::input`].
pub fn parse_requester(s: &str, phone: Option<String>) -> Result<Requester> {
    let s = s.trim();
    let (name, email) = if s.contains(['@', '<', '>']) {
        let (name, addr) = crate::model::input::one_address(s).map_err(Error::Usage)?;
        let name = if name.is_empty() { addr.clone() } else { name };
        (name, Some(addr))
    } else {
        if let Some(p) = crate::model::input::header_text_problem(s) {
            return Err(Error::Usage(tr!(
                "guard.bad_field",
                field = "--requester",
                why = p
            )));
        }
        (s.to_string(), None)
    };
    if name.is_empty() {
        return Err(Error::Usage(tr!("cmd.bad_requester", value = s)));
    }
    Ok(Requester { name, email, phone })
}

/// Takes the desk lock (see [`crate::store::lock`]) for `command`, and queues again the emails
/// of a killed step that the repair finished. Every writer of tickets holds it from before it
/// reads a ticket until its step is committed and queued; taking it again in the same process
/// (a front end that already holds it) is free.
pub fn lock_desk(root: &Path, command: &str) -> Result<crate::store::lock::DeskLock> {
    let mut lock = crate::store::lock::acquire(root, command)?;
    if let Some(requeue) = lock.requeue.take() {
        if let Ok((desk, _)) = Desk::load(root) {
            for rel in &requeue.tickets {
                let Ok(text) = crate::model::fsread::read_text(&desk.root.join(rel)) else {
                    continue;
                };
                let Ok(t) = ticket::parse(rel, &text) else {
                    continue;
                };
                if let Ok(ids) = crate::mail::outbox::requeue_only(&desk, &t, Some(&requeue.mail)) {
                    if !ids.is_empty() {
                        lock.repaired.push(tr!(
                            "journal.requeued",
                            count = ids.len(),
                            id = t.front.id
                        ));
                    }
                }
            }
        }
    }
    Ok(lock)
}

// ---------------------------------------------------------------------------------------------
// Applying steps

/// Reception: creates a ticket with a fresh case number, records its first events, commits and
/// queues the acknowledgement.
pub fn open_ticket(
    desk: &Desk,
    reception: Reception,
    agent: &Agent,
    now: Stamp,
    options: Options,
) -> Result<Outcome> {
    let cfg = &desk.config;
    if cfg.customer(&reception.customer).is_none() {
        let ids: Vec<&str> = cfg.customers.iter().map(|c| c.id.as_str()).collect();
        return Err(Error::Usage(tr!(
            "cmd.unknown_customer",
            id = reception.customer,
            list = ids.join(", ")
        )));
    }
    if cfg.channel(&reception.channel).is_none() {
        let ids: Vec<&str> = cfg.channels.iter().map(|c| c.id.as_str()).collect();
        return Err(Error::Usage(tr!(
            "cmd.unknown_channel",
            id = reception.channel,
            list = ids.join(", ")
        )));
    }
    let title = reception.title.trim().to_string();
    if title.is_empty() {
        return Err(Error::Usage(tr!("cmd.empty_title")));
    }
    if let Some(p) = crate::model::input::header_text_problem(&title) {
        return Err(Error::Usage(tr!(
            "guard.bad_field",
            field = "--title",
            why = p
        )));
    }
    let _lock = lock_desk(&desk.root, "mesa new")?;
    let description = reception.description.trim().to_string();
    if description.is_empty() {
        return Err(Error::Usage(tr!("cmd.no_description")));
    }
    let mut prio = normalized(desk, &reception.priority);
    let suggestion = suggested(desk, None, &prio);
    if prio.priority.is_none() {
        prio.priority = suggestion.clone();
    }
    let mut created = Event::new(now, &agent.code, EventKind::Created);
    let mut events = Vec::new();
    match &reception.classification {
        Some(c) => {
            events.push(created);
            let mut ev = Event::new(now, &agent.code, EventKind::Classified);
            fill_classification(&mut ev, c);
            fill_priority(&mut ev, &prio);
            events.push(ev);
        }
        None => {
            fill_priority(&mut created, &prio);
            events.push(created);
        }
    }

    // A case number this clone has not used: draw again on the (rare) clash.
    let mut id = String::new();
    for _ in 0..64 {
        let candidate = crate::model::ids::case_number(&now.0, crate::model::ids::random_bits());
        if !desk.root.join(ticket_rel_path(&candidate)).exists() {
            id = candidate;
            break;
        }
    }
    if id.is_empty() {
        return Err(Error::Message(tr!("cmd.no_free_id")));
    }
    let front = TicketFront::new(
        id.clone(),
        title.clone(),
        reception.customer.clone(),
        reception.requester.clone(),
        reception.channel.clone(),
    );
    let ticket = Ticket {
        path: ticket_rel_path(&id),
        front,
        body: format!("{description}\n"),
    };
    let what = tr!("cmd.what.created", title = title);
    let message = format!("{id}: {what}");
    let rec = record(
        desk,
        ticket,
        events,
        &message,
        &author_of(agent, &now),
        options.commit,
    )?;
    let promised = crate::rules::sla::promised_due(desk, &rec.ticket.front);
    Ok(outcome(desk, rec, what, Vec::new(), suggestion, promised))
}

/// Applies one step to the ticket `id` as `agent` at `now`: checked by the workflow, written,
/// committed, its emails queued. A refused step leaves the repository as it was.
pub fn apply(
    desk: &Desk,
    id: &str,
    step: Step,
    agent: &Agent,
    now: Stamp,
    options: Options,
) -> Result<Outcome> {
    // Held from before the ticket is read until the step is committed and queued.
    let name = format!("{step:?}");
    let name = name
        .split([' ', '{', '('])
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let _lock = lock_desk(&desk.root, &format!("mesa {name} {id}"))?;
    let ticket = load_ticket(&desk.root, id)?;
    let customer = desk.config.customer(&ticket.front.customer);
    let (state, log_problems) = workflow::replay(desk.rules(), customer, &ticket.front.events);
    let built = build(desk, &state, customer, agent, now, step)?;
    let message = format!("{}: {}", ticket.front.id, built.what);
    let rec = record(
        desk,
        ticket,
        built.events,
        &message,
        &author_of(agent, &now),
        options.commit,
    )?;
    Ok(outcome(
        desk,
        rec,
        built.what,
        log_problems,
        built.suggestion,
        None,
    ))
}

fn outcome(
    desk: &Desk,
    rec: Recorded,
    what: String,
    log_problems: Vec<RuleError>,
    suggested_priority: Option<String>,
    promised: Option<DateTime<chrono_tz::Tz>>,
) -> Outcome {
    let customer = desk.config.customer(&rec.ticket.front.customer);
    let next = workflow::next_steps(&rec.ticket.front.id, desk.rules(), customer, &rec.state);
    Outcome {
        ticket: rec.ticket,
        state: rec.state,
        what,
        commit: rec.commit,
        message_ids: rec.message_ids,
        next,
        log_problems,
        suggested_priority,
        promised,
    }
}

/// A step turned into events, with the words of its commit message.
struct Built {
    events: Vec<Event>,
    what: String,
    suggestion: Option<String>,
}

fn build(
    desk: &Desk,
    state: &State,
    customer: Option<&Customer>,
    agent: &Agent,
    now: Stamp,
    step: Step,
) -> Result<Built> {
    let ev = |by: &str, kind| Event::new(now, by, kind);
    let me = agent.code.as_str();
    let mut suggestion = None;
    let (events, what) = match step {
        Step::Classify {
            classification,
            priority,
        } => {
            let mut e = ev(me, EventKind::Classified);
            fill_classification(&mut e, &classification);
            let mut prio = normalized(desk, &priority);
            suggestion = suggested(desk, Some(state), &prio);
            if prio.priority.is_none() {
                prio.priority = suggestion.clone();
            }
            fill_priority(&mut e, &prio);
            let what = tr!(
                "cmd.what.classified",
                kind = labels::ticket_type(classification.ticket_type),
                entry = classification
                    .incident
                    .clone()
                    .or(classification.request.clone())
                    .unwrap_or_else(|| "-".into())
            );
            (vec![e], what)
        }
        Step::Assign { to } => {
            let mut e = ev(me, EventKind::Assigned);
            e.agent = Some(to.clone());
            (vec![e], tr!("cmd.what.assigned", agent = to))
        }
        Step::Prioritize(prio) => {
            let mut prio = normalized(desk, &prio);
            suggestion = suggested(desk, Some(state), &prio);
            if prio.priority.is_none() {
                prio.priority = suggestion.clone();
            }
            let Some(chosen) = prio.priority.clone() else {
                return Err(Error::Usage(tr!("cmd.priority_needed")));
            };
            let mut e = ev(me, EventKind::Prioritized);
            fill_priority(&mut e, &prio);
            (vec![e], tr!("cmd.what.prioritized", priority = chosen))
        }
        Step::Verify {
            check,
            result,
            note,
        } => {
            let mut e = ev(me, EventKind::Checked);
            e.check = Some(check.clone());
            e.result = Some(result);
            e.text = note;
            let result = labels::check_result(Some(result));
            (
                vec![e],
                tr!("cmd.what.checked", check = check, result = result),
            )
        }
        Step::Escalate { to, reason, assign } => {
            let to = to.unwrap_or(state.level.saturating_add(1));
            let mut e = ev(me, EventKind::Escalated);
            e.level = Some(to);
            e.reason = Some(reason);
            e.agent = assign.or_else(|| least_loaded(desk, to));
            let role = desk.config.level_role(to).unwrap_or("-").to_string();
            let what = match &e.agent {
                Some(who) => tr!(
                    "cmd.what.escalated_to",
                    level = to,
                    role = role,
                    agent = who
                ),
                None => {
                    let people: Vec<&str> = desk
                        .config
                        .agents
                        .iter()
                        .filter(|ag| ag.level == to)
                        .map(|ag| ag.code.as_str())
                        .collect();
                    tr!(
                        "cmd.what.escalated",
                        level = to,
                        role = role,
                        agents = people.join(", ")
                    )
                }
            };
            (vec![e], what)
        }
        Step::Cab {
            complexity,
            quote,
            note,
        } => {
            let entry = state.request.as_deref().and_then(|r| desk.kb.request(r));
            let complexity = complexity.or(entry.map(|e| e.front.complexity));
            let quote = quote
                .or_else(|| entry.map(|e| workflow::quote_needed(e.front.quote, &e.id, customer)));
            let mut e = ev(me, EventKind::CabReviewed);
            e.complexity = complexity;
            e.quote = quote;
            e.text = note;
            let what = tr!(
                "cmd.what.cab_reviewed",
                complexity = complexity.map(labels::complexity).unwrap_or_default(),
                quote = labels::yes_no(quote == Some(true))
            );
            (vec![e], what)
        }
        Step::Propose {
            text,
            amount,
            currency,
        } => {
            let mut e = ev(me, EventKind::Proposed);
            e.text = Some(text);
            e.amount = amount;
            e.currency = currency.clone();
            let what = match amount {
                Some(amount) => tr!(
                    "cmd.what.quoted",
                    amount = amount,
                    currency = currency.unwrap_or_default()
                ),
                None => tr!("cmd.what.proposed"),
            };
            (vec![e], what)
        }
        Step::Start { note } => simple(ev(me, EventKind::Started), note),
        Step::Call { note } => simple(ev(me, EventKind::Called), note),
        Step::Accept { note } => simple(ev(CUSTOMER, EventKind::Accepted), note),
        Step::Decline { note } => simple(ev(CUSTOMER, EventKind::Declined), note),
        Step::Confirm { note } => simple(ev(CUSTOMER, EventKind::Confirmed), note),
        Step::Resolve { solution, kb } => {
            let mut e = ev(me, EventKind::Resolved);
            e.text = Some(solution);
            e.kb = kb;
            (vec![e], tr!("cmd.what.resolved"))
        }
        Step::Reject { reason } => {
            let mut e = ev(CUSTOMER, EventKind::Rejected);
            e.reason = Some(reason.clone());
            (vec![e], tr!("cmd.what.rejected", reason = reason))
        }
        Step::Close { reason, note } => {
            let mut e = ev(me, EventKind::Closed);
            e.close_reason = Some(reason);
            // The close reason itself is the minimal record of why; a note says more.
            e.reason =
                Some(note.unwrap_or_else(|| tr!(&format!("cmd.close_reason.{}", reason.as_str()))));
            (
                vec![e],
                tr!("cmd.what.closed", reason = labels::close_reason(reason)),
            )
        }
        Step::Extend { to, reason } => {
            let mut e = ev(me, EventKind::Extended);
            e.clock = Some(Clock::Resolution);
            e.target = Some(to);
            e.reason = Some(reason);
            (vec![e], tr!("cmd.what.extended", target = to))
        }
        Step::Comment { text, public } => {
            let mut e = ev(me, EventKind::Commented);
            e.text = Some(text);
            if public {
                e.public = Some(true);
            }
            let what = if public {
                tr!("cmd.what.commented_public")
            } else {
                tr!("cmd.what.commented")
            };
            (vec![e], what)
        }
        Step::Resume { reason } => (
            vec![customer_wait::resume_by_hand(state, now, me, reason)],
            tr!("cmd.what.resumed"),
        ),
    };
    Ok(Built {
        events,
        what,
        suggestion,
    })
}

/// A step with no arguments but an optional note.
fn simple(mut e: Event, note: Option<String>) -> (Vec<Event>, String) {
    e.text = note;
    let what = tr!(&format!("cmd.what.{}", e.event.as_str()));
    (vec![e], what)
}

fn fill_classification(ev: &mut Event, c: &Classification) {
    ev.ticket_type = Some(c.ticket_type);
    ev.incident = c.incident.clone();
    ev.request = c.request.clone();
    ev.cab = c.cab;
}

fn fill_priority(ev: &mut Event, p: &PriorityInput) {
    ev.priority = p.priority.clone();
    ev.impact = p.impact.clone();
    ev.urgency = p.urgency.clone();
    ev.effort = p.effort.clone();
    ev.reason = p.reason.clone();
    ev.agreed_date = p.agreed_date;
}

/// Impact, urgency and effort as typed (the id, or the name the site shows, e.g. `alto`) turned
/// into desk.yaml's ids; unknown values stay as typed for the workflow to refuse.
fn normalized(desk: &Desk, p: &PriorityInput) -> PriorityInput {
    let mut p = p.clone();
    for (field, value) in [
        ("impact", &mut p.impact),
        ("urgency", &mut p.urgency),
        ("effort", &mut p.effort),
    ] {
        if let Some(v) = value {
            if let Some(level) = desk.config.guidance_level(field, v) {
                *v = level.id.clone();
            }
        }
    }
    p
}

/// The agent of `level` who takes an escalated case when none is named: the one with the
/// fewest open tickets assigned, ties to the one listed first in desk.yaml. `None` when the
/// level has no agent (the case keeps its assignee). Reads every ticket's front matter once,
/// in parallel; escalations are rare next to the steps that never scan the desk.
pub fn least_loaded(desk: &Desk, level: u8) -> Option<String> {
    use rayon::prelude::*;
    let agents: Vec<&str> = desk
        .config
        .agents
        .iter()
        .filter(|a| a.level == level)
        .map(|a| a.code.as_str())
        .collect();
    if agents.len() <= 1 {
        return agents.first().map(|a| a.to_string());
    }
    let root = &desk.root;
    let load: Vec<usize> = crate::model::load::ticket_paths(root)
        .par_iter()
        .filter_map(|p| {
            let rel = crate::model::load::rel(root, p);
            let text = crate::model::front_matter::read_text(p).ok()?;
            let t = ticket::parse(&rel, &text).ok()?;
            let who = t.front.assignee.as_deref()?;
            (t.front.status.is_open())
                .then(|| agents.iter().position(|a| *a == who))
                .flatten()
        })
        .fold(
            || vec![0usize; agents.len()],
            |mut acc, i| {
                acc[i] += 1;
                acc
            },
        )
        .reduce(
            || vec![0usize; agents.len()],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    (0..agents.len())
        .min_by_key(|&i| (load[i], i))
        .map(|i| agents[i].to_string())
}

/// With impact, urgency or effort (given, or already on the ticket), the guidance's suggestion.
fn suggested(desk: &Desk, state: Option<&State>, p: &PriorityInput) -> Option<String> {
    let impact = p
        .impact
        .as_deref()
        .or(state.and_then(|s| s.impact.as_deref()));
    let urgency = p
        .urgency
        .as_deref()
        .or(state.and_then(|s| s.urgency.as_deref()));
    let effort = p
        .effort
        .as_deref()
        .or(state.and_then(|s| s.effort.as_deref()));
    if impact.is_none() && urgency.is_none() && effort.is_none() {
        return None;
    }
    desk.config
        .suggest_priority(impact, urgency, effort)
        .map(|r| r.priority.clone())
}

// ---------------------------------------------------------------------------------------------
// Recording events

/// A refused step, as the error a person reads.
fn refused(id: &str, e: RuleError) -> Error {
    let mut m = tr!("cmd.refused", id = id, message = e.message);
    if let Some(h) = e.hint {
        m.push_str(&format!(" ({h})"));
    }
    Error::Message(m)
}

/// Appends `events` (in order) to `ticket`, checks each against the workflow and composes the
/// customer emails the steps send. Touches nothing on disk.
pub fn stage(desk: &Desk, mut ticket: Ticket, events: Vec<Event>) -> Result<Staged> {
    let rules = desk.rules();
    let customer = desk.config.customer(&ticket.front.customer);
    let (mut state, _) = workflow::replay(rules, customer, &ticket.front.events);
    let id = ticket.front.id.clone();
    let mut outgoing = Vec::new();
    let first_new = ticket.front.events.len();
    let before = if first_new == 0 {
        Vec::new()
    } else {
        crate::rules::validate::check_ticket_text(desk, &ticket.path, &ticket.to_text()).0
    };
    for ev in events {
        // The customer wait's events go with the act that starts or ends it (docs/lifecycle.md).
        let before = customer_wait::before(&state, &ev);
        for ev in before.into_iter().chain([ev]) {
            workflow::apply(rules, customer, &mut state, &ev).map_err(|e| refused(&id, e))?;
            let after = customer_wait::after(rules, customer, &state, &ev);
            ticket.front.events.push(ev);
            if let Some(next) = after {
                workflow::apply(rules, customer, &mut state, &next).map_err(|e| refused(&id, e))?;
                ticket.front.events.push(next);
            }
        }
        state.write_into(&mut ticket.front);
    }
    // Mail is composed once the whole step is in the log, so an acknowledgement of a ticket
    // classified on creation already knows its priority and promised time.
    for i in first_new..ticket.front.events.len() {
        let ev = ticket.front.events[i].clone();
        if let Some(kind) = crate::mail::compose::MailKind::for_event(&ev) {
            if let Some(out) = crate::mail::compose::compose(desk, &ticket, kind, &ev)? {
                ticket.front.events[i].message_id = Some(out.message_id.clone());
                outgoing.push(out);
            }
        }
    }
    refuse_new_problems(desk, &ticket, &before)?;
    Ok(Staged {
        ticket,
        state,
        outgoing,
    })
}

/// Whatever `mesa check` rejects, no command writes: the staged file is checked exactly as
/// `mesa check` reads it (text, parse, replay, calendars, folder), and a problem the ticket did
/// not have before the step refuses it. Problems already there (e.g. after a merge) are left to
/// `mesa check` and a supervisor.
fn refuse_new_problems(
    desk: &Desk,
    ticket: &Ticket,
    before: &[crate::model::diag::Diagnostic],
) -> Result<()> {
    let after = crate::rules::validate::check_ticket_text(desk, &ticket.path, &ticket.to_text()).0;
    let new: Vec<String> = after
        .into_iter()
        .filter(|d| !before.iter().any(|b| b.message == d.message))
        .map(|d| match d.hint {
            Some(h) => format!("{} ({h})", d.message),
            None => d.message,
        })
        .collect();
    if new.is_empty() {
        Ok(())
    } else {
        Err(Error::Message(tr!(
            "cmd.refused",
            id = ticket.front.id,
            message = new.join("; ")
        )))
    }
}

/// Queues the emails of committed steps; returns their Message-IDs.
pub fn enqueue_all(
    desk: &Desk,
    id: &str,
    outgoing: &[crate::mail::compose::Outgoing],
) -> Result<Vec<String>> {
    let mut message_ids = Vec::new();
    for out in outgoing {
        crate::mail::compose::enqueue(&desk.root, out)
            .map_err(|e| Error::Message(tr!("cmd.enqueue_failed", id = id, error = e)))?;
        message_ids.push(out.message_id.clone());
    }
    Ok(message_ids)
}

/// [`stage`]s the events, writes and commits the file as one commit with `message`, then
/// queues the emails. Nothing is written when an event is refused. Front ends that make their
/// own events (automatic steps) record them here.
pub fn record(
    desk: &Desk,
    ticket: Ticket,
    events: Vec<Event>,
    message: &str,
    author: &Author,
    commit: bool,
) -> Result<Recorded> {
    record_with_files(desk, ticket, events, Vec::new(), message, author, commit)
}

/// [`record`], with other desk files (e.g. a drafted article) written in the same commit.
pub fn record_with_files(
    desk: &Desk,
    ticket: Ticket,
    events: Vec<Event>,
    files: Vec<Change>,
    message: &str,
    author: &Author,
    commit: bool,
) -> Result<Recorded> {
    let staged = stage(desk, ticket, events)?;
    let mut changes = files;
    changes.push(Change {
        path: desk.root.join(&staged.ticket.path),
        contents: staged.ticket.to_text().into_bytes(),
    });
    let mail: Vec<String> = staged
        .outgoing
        .iter()
        .map(|o| o.message_id.clone())
        .collect();
    let oid = crate::store::git::write_and_commit_step(
        &desk.root, &changes, message, author, commit, &mail,
    )?;
    let message_ids = enqueue_all(desk, &staged.ticket.front.id, &staged.outgoing)?;
    crate::store::journal::end(&desk.root);
    Ok(Recorded {
        ticket: staged.ticket,
        state: staged.state,
        commit: oid,
        message_ids,
    })
}

/// Several already [`stage`]d tickets written as one commit (the sweep: one index rewrite
/// however many tickets it touches), then their emails queued. Returns the commit and, per
/// ticket whose emails could not be queued, the error.
pub fn record_batch(
    desk: &Desk,
    staged: Vec<Staged>,
    message: &str,
    author: &Author,
    commit: bool,
) -> Result<(Option<git2::Oid>, Vec<Error>)> {
    let changes: Vec<Change> = staged
        .iter()
        .map(|st| Change {
            path: desk.root.join(&st.ticket.path),
            contents: st.ticket.to_text().into_bytes(),
        })
        .collect();
    let mail: Vec<String> = staged
        .iter()
        .flat_map(|st| st.outgoing.iter().map(|o| o.message_id.clone()))
        .collect();
    let oid = crate::store::git::write_and_commit_step(
        &desk.root, &changes, message, author, commit, &mail,
    )?;
    let mut errors = Vec::new();
    for st in &staged {
        if let Err(e) = enqueue_all(desk, &st.ticket.front.id, &st.outgoing) {
            errors.push(e);
        }
    }
    crate::store::journal::end(&desk.root);
    Ok((oid, errors))
}
