//! The manual's process as one state machine. Every rule about which step may follow which,
//! and every field derived from the log (status, level, priority, SLA targets...), lives here:
//! commands call [`apply`] before they write, `mesa check` replays whole logs with [`replay`],
//! and the merge driver recomputes merged tickets with it. No rule is written anywhere else.

use crate::model::desk::{ConfirmationHours, Customer, DeskConfig};
use crate::model::duration::Dur;
use crate::model::kb::{CabRule, Kb, QuoteRule};
use crate::model::labels;
use crate::model::ticket::{
    CheckResult, Clock, CloseReason, Event, EventKind, SlaTargets, Stamp, Status, TicketFront,
    TicketType,
};
use crate::rules::repeats;
use crate::tr;
use std::collections::{BTreeMap, BTreeSet};

/// The part of the desk the rules need.
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    pub config: &'a DeskConfig,
    pub kb: &'a Kb,
    /// The whole desk, for the calendars when the confirmation waits count working hours
    /// (`sla.confirmation_hours: working`).
    pub desk: &'a crate::model::load::Desk,
}

/// A rule broken by one event: which event (index in the log), which of its fields, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleError {
    pub event: usize,
    pub field: Option<&'static str>,
    pub message: String,
    pub hint: Option<String>,
}

/// The state a log replays to. The first group of fields is what the front matter caches.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct State {
    pub status: Option<Status>,
    pub level: u8,
    pub ticket_type: Option<TicketType>,
    pub incident: Option<String>,
    pub request: Option<String>,
    pub priority: Option<String>,
    pub impact: Option<String>,
    pub urgency: Option<String>,
    pub effort: Option<String>,
    pub agreed_date: Option<Stamp>,
    pub assignee: Option<String>,
    pub close_reason: Option<CloseReason>,
    pub sla: SlaTargets,
    pub checks: BTreeMap<String, CheckResult>,
    pub kb: Vec<String>,
    // ---- process memory ----
    /// CAB decided whether a quote is needed (None until the CAB has reviewed).
    pub quote_needed: Option<bool>,
    pub proposals: u32,
    pub resolved_at: Option<Stamp>,
    pub reminded: bool,
    /// When the follow-up of the current solution was sent.
    pub reminded_at: Option<Stamp>,
    pub called: bool,
    pub reopened: u32,
    pub extended_resolution: Option<Dur>,
    pub last_at: Option<Stamp>,
    /// When the ticket last closed (for the reopen window).
    pub closed_at: Option<Stamp>,
    /// Message-IDs of the emails the log's events queued, and of those recorded as delivered
    /// (`mailed` events): the shared outbox sends the difference (docs/mail.md).
    pub queued_mail: BTreeSet<String>,
    pub delivered_mail: BTreeSet<String>,
    /// When the first customer email no agent has read since arrived ([`unread_reply`]).
    pub unread_since: Option<Stamp>,
    /// The case waits on the customer's side after its check failed (`paused` until
    /// `resumed`, see [`crate::rules::customer_wait`]).
    pub waiting: Option<CustomerWait>,
}

/// A case waiting on the customer's side: who must act, on which check, since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerWait {
    /// Playbook owner id (desk.yaml `playbook.owners`).
    pub owner: String,
    /// Playbook check id.
    pub check: String,
    pub since: Stamp,
}

impl CustomerWait {
    /// (owner, check): what makes two waits the same.
    pub fn parts(&self) -> (&str, &str) {
        (&self.owner, &self.check)
    }
}

/// The customer-side owner of `check` in the state's incident, with the check (`None`: no
/// such check, or its owner is the desk's).
pub fn customer_owner<'a>(
    rules: Rules<'a>,
    customer: Option<&Customer>,
    state: &State,
    check: &str,
) -> Option<(&'a crate::model::desk::Owner, &'a crate::model::kb::Check)> {
    let inc = state.incident.as_deref()?;
    let c = applicable_checks(rules, customer, inc)
        .into_iter()
        .find(|c| c.id == check)?;
    rules
        .config
        .playbook
        .owners
        .iter()
        .find(|o| o.id == c.owner && o.customer)
        .map(|o| (o, c))
}

/// Whether the clocks are paused by a wait on the customer's side: one is recorded and the
/// desk pauses for it (`sla.pause_on_customer_checks`; see [`crate::rules::customer_wait`]).
pub fn waits_on_customer(rules: Rules, state: &State) -> bool {
    state.waiting.is_some() && rules.config.sla.pause_on_customer_checks
}

impl State {
    pub fn status(&self) -> Status {
        self.status.unwrap_or(Status::New)
    }

    /// Makes `self` equal to `src` (as `*self = src.clone()` does), field by field with
    /// `clone_from`, so the text buffers `self` already holds are reused rather than freed
    /// and allocated again ([`apply_with`] asks it for every event of a log). Every field is
    /// named: a new one cannot be forgotten.
    pub fn copy_from(&mut self, src: &State) {
        let State {
            status,
            level,
            ticket_type,
            incident,
            request,
            priority,
            impact,
            urgency,
            effort,
            agreed_date,
            assignee,
            close_reason,
            sla,
            checks,
            kb,
            quote_needed,
            proposals,
            resolved_at,
            reminded,
            reminded_at,
            called,
            reopened,
            extended_resolution,
            last_at,
            closed_at,
            queued_mail,
            delivered_mail,
            unread_since,
            waiting,
        } = self;
        *status = src.status;
        *level = src.level;
        *ticket_type = src.ticket_type;
        incident.clone_from(&src.incident);
        request.clone_from(&src.request);
        priority.clone_from(&src.priority);
        impact.clone_from(&src.impact);
        urgency.clone_from(&src.urgency);
        effort.clone_from(&src.effort);
        *agreed_date = src.agreed_date;
        assignee.clone_from(&src.assignee);
        *close_reason = src.close_reason;
        sla.clone_from(&src.sla);
        checks.clone_from(&src.checks);
        kb.clone_from(&src.kb);
        *quote_needed = src.quote_needed;
        *proposals = src.proposals;
        *resolved_at = src.resolved_at;
        *reminded = src.reminded;
        *reminded_at = src.reminded_at;
        *called = src.called;
        *reopened = src.reopened;
        *extended_resolution = src.extended_resolution;
        *last_at = src.last_at;
        *closed_at = src.closed_at;
        queued_mail.clone_from(&src.queued_mail);
        delivered_mail.clone_from(&src.delivered_mail);
        *unread_since = src.unread_since;
        waiting.clone_from(&src.waiting);
    }

    /// Copies the derived fields into a front matter (what commands and the merge driver write).
    pub fn write_into(&self, front: &mut TicketFront) {
        front.status = self.status();
        front.level = self.level;
        front.ticket_type = self.ticket_type;
        front.incident = self.incident.clone();
        front.request = self.request.clone();
        front.priority = self.priority.clone();
        front.impact = self.impact.clone();
        front.urgency = self.urgency.clone();
        front.effort = self.effort.clone();
        front.assignee = self.assignee.clone();
        front.close_reason = self.close_reason;
        front.sla = self.sla.clone();
        front.checks = self.checks.clone();
        front.kb = self.kb.clone();
    }

    /// Derived fields of `front` that differ from this state: (field, recorded, replayed).
    pub fn differences(&self, front: &TicketFront) -> Vec<(&'static str, String, String)> {
        // Fast path for the common case (`mesa check` asks for every ticket): strict equality
        // of every field implies equal text below, so nothing needs formatting.
        let same_due = match (front.sla.due, self.sla.due) {
            (Some(a), Some(b)) => a.0 == b.0 && a.0.offset() == b.0.offset(),
            (a, b) => a.is_none() && b.is_none(),
        };
        if same_due
            && front.status == self.status()
            && front.level == self.level
            && front.ticket_type == self.ticket_type
            && front.incident == self.incident
            && front.request == self.request
            && front.priority == self.priority
            && front.impact == self.impact
            && front.urgency == self.urgency
            && front.effort == self.effort
            && front.assignee == self.assignee
            && front.close_reason == self.close_reason
            && front.sla.response == self.sla.response
            && front.sla.resolution == self.sla.resolution
            && front.checks == self.checks
            && front.kb == self.kb
        {
            return Vec::new();
        }
        let mut out = Vec::new();
        let mut cmp = |name: &'static str, have: String, want: String| {
            if have != want {
                out.push((name, have, want));
            }
        };
        let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
        cmp(
            "status",
            front.status.to_string(),
            self.status().to_string(),
        );
        cmp("level", front.level.to_string(), self.level.to_string());
        cmp(
            "type",
            format!("{:?}", front.ticket_type),
            format!("{:?}", self.ticket_type),
        );
        cmp("incident", opt(&front.incident), opt(&self.incident));
        cmp("request", opt(&front.request), opt(&self.request));
        cmp("priority", opt(&front.priority), opt(&self.priority));
        cmp("impact", opt(&front.impact), opt(&self.impact));
        cmp("urgency", opt(&front.urgency), opt(&self.urgency));
        cmp("effort", opt(&front.effort), opt(&self.effort));
        cmp("assignee", opt(&front.assignee), opt(&self.assignee));
        cmp(
            "close_reason",
            front.close_reason.map_or("-".into(), |r| r.as_str().into()),
            self.close_reason.map_or("-".into(), |r| r.as_str().into()),
        );
        let dur = |d: Option<Dur>| d.map_or("-".into(), |d| d.to_string());
        cmp(
            "sla.response",
            dur(front.sla.response),
            dur(self.sla.response),
        );
        cmp(
            "sla.resolution",
            dur(front.sla.resolution),
            dur(self.sla.resolution),
        );
        cmp(
            "sla.due",
            front.sla.due.map_or("-".into(), |d| d.to_string()),
            self.sla.due.map_or("-".into(), |d| d.to_string()),
        );
        let checks = |c: &BTreeMap<String, CheckResult>| {
            c.iter()
                .map(|(k, v)| format!("{k}={v:?}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        cmp("checks", checks(&front.checks), checks(&self.checks));
        cmp("kb", front.kb.join(","), self.kb.join(","));
        out
    }
}

/// Replays a whole log. Returns the final state and every broken rule (replay goes on after a
/// broken rule, skipping that event, so one run reports as much as it can).
pub fn replay(
    rules: Rules,
    customer: Option<&Customer>,
    events: &[Event],
) -> (State, Vec<RuleError>) {
    let mut state = State::default();
    let mut errors = Vec::new();
    let mut last = repeats::LastActs::default();
    let mut scratch = State::default();
    for (i, ev) in events.iter().enumerate() {
        let before = state.status;
        match apply_with(rules, customer, &mut state, &mut scratch, ev) {
            Ok(()) => last.accepted(before, state.status, ev),
            // The same act recorded in two clones (merged): the second changes nothing, but
            // the email it queued is the case's.
            Err(_) if last.repeats(state.waiting.as_ref().map(CustomerWait::parts), ev) => {
                if let Some(m) = &ev.message_id {
                    state.queued_mail.insert(m.clone());
                }
            }
            Err(mut e) => {
                e.event = i;
                errors.push(e);
            }
        }
    }
    (state, errors)
}

fn err(field: Option<&'static str>, message: String) -> RuleError {
    RuleError {
        event: 0,
        field,
        message,
        hint: None,
    }
}

/// An agent code desk.yaml does not list, with the nearest codes it does as the hint.
fn unknown_agent(rules: &Rules, code: &str) -> RuleError {
    let codes = rules.config.agents.iter().map(|a| a.code.as_str());
    err(Some("agent"), tr!("rule.unknown_agent", id = code))
        .with_hint(crate::model::diag::suggest(code, codes), &[])
}

fn require<'a, T>(v: &'a Option<T>, ev: &Event, field: &'static str) -> Result<&'a T, RuleError> {
    v.as_ref().ok_or_else(|| {
        err(
            Some("event"),
            tr!("rule.field_required", event = ev.event, field = field),
        )
    })
}

fn allowed(state: &State, ev: &Event, ok: &[Status]) -> Result<(), RuleError> {
    let s = state.status();
    if ok.contains(&s) {
        Ok(())
    } else {
        let list: Vec<String> = ok.iter().map(|s| labels::status(*s)).collect();
        Err(err(
            Some("event"),
            tr!(
                "rule.wrong_status",
                label = labels::event(ev.event),
                event = ev.event,
                status = labels::status(s),
                allowed = list.join(", ")
            ),
        ))
    }
}

/// Statuses in which the ticket is being worked on by the desk.
const WORKING: &[Status] = &[Status::Analysis, Status::InProgress];
const OPEN_NOT_NEW: &[Status] = &[
    Status::Analysis,
    Status::CabReview,
    Status::AwaitingApproval,
    Status::InProgress,
    Status::Resolved,
];
const OPEN: &[Status] = &[
    Status::New,
    Status::Analysis,
    Status::CabReview,
    Status::AwaitingApproval,
    Status::InProgress,
    Status::Resolved,
];

/// The checks of the ticket's playbook incident that apply to this customer, in Table 4's order.
/// A check that points elsewhere ("(Véase Acceso)", `see: acceso/no-carga-pagina`) is preceded
/// by the applicable checks it points to: the manual runs those first.
pub fn applicable_checks<'a>(
    rules: Rules<'a>,
    customer: Option<&Customer>,
    incident: &str,
) -> Vec<&'a crate::model::kb::Check> {
    let extramural = customer.is_some_and(|c| c.extramural);
    let mut out = Vec::new();
    if let Some((_, inc)) = rules.kb.incident(incident) {
        expand(rules.kb, &inc.checks, extramural, 0, &mut out);
    }
    out
}

/// Appends `checks` (with the checks each one points to first) to `out`, once per id; `depth`
/// bounds a chain of pointers (a cycle in the playbook data cannot loop).
fn expand<'a>(
    kb: &'a crate::model::kb::Kb,
    checks: &'a [crate::model::kb::Check],
    extramural: bool,
    depth: u8,
    out: &mut Vec<&'a crate::model::kb::Check>,
) {
    for c in checks.iter().filter(|c| !c.extramural_only || extramural) {
        if let Some((_, target)) = c.see.as_deref().and_then(|s| kb.see_target(s)) {
            if depth < 4 {
                expand(kb, &target.checks, extramural, depth + 1, out);
            }
        }
        if !out.iter().any(|o| o.id == c.id) {
            out.push(c);
        }
    }
}

/// A check as the manual's table lists it: its number in the incident's order, id and action
/// (`2. direccionamiento-ip (Verificar configuración de direccionamiento IP del equipo)`).
fn numbered(i: usize, c: &crate::model::kb::Check) -> String {
    format!(
        "{}. {} ({})",
        i + 1,
        c.id,
        c.action.trim_end_matches('.').trim()
    )
}

/// `missing` (checks of the state's incident) numbered in Table 4's order.
fn in_order(
    rules: Rules,
    customer: Option<&Customer>,
    state: &State,
    missing: &[&crate::model::kb::Check],
) -> Vec<String> {
    let all = state
        .incident
        .as_deref()
        .map(|inc| applicable_checks(rules, customer, inc))
        .unwrap_or_default();
    missing
        .iter()
        .map(|m| {
            let i = all.iter().position(|c| c.id == m.id).unwrap_or(0);
            numbered(i, m)
        })
        .collect()
}

/// Checks that must be recorded before escalating from the state's current level.
pub fn missing_checks<'a>(
    rules: Rules<'a>,
    customer: Option<&Customer>,
    state: &State,
) -> Vec<&'a crate::model::kb::Check> {
    let Some(incident) = &state.incident else {
        return Vec::new();
    };
    applicable_checks(rules, customer, incident)
        .into_iter()
        .filter(|c| c.level <= state.level && !state.checks.contains_key(&c.id))
        .collect()
}

/// Whether a quote is needed for this request and customer (Table 2 and the contract scope).
pub fn quote_needed(rule: QuoteRule, request: &str, customer: Option<&Customer>) -> bool {
    match rule {
        QuoteRule::No => false,
        QuoteRule::Yes => true,
        QuoteRule::Contract => {
            !customer.is_some_and(|c| c.contract.included.iter().any(|r| r == request))
        }
    }
}

/// Impact, urgency and effort must be ids of desk.yaml's `priority_guidance` scales. A name
/// typed where the id belongs ("alto") is refused with the id it stands for.
pub fn check_levels(config: &DeskConfig, ev: &Event) -> Result<(), RuleError> {
    for (field, value) in [
        ("impact", &ev.impact),
        ("urgency", &ev.urgency),
        ("effort", &ev.effort),
    ] {
        let Some(v) = value else { continue };
        let list = config.guidance_levels(field);
        if list.iter().any(|l| &l.id == v) {
            continue;
        }
        let ids: Vec<&str> = list.iter().map(|l| l.id.as_str()).collect();
        let close = match config.guidance_level(field, v) {
            Some(l) => vec![l.id.as_str()],
            None => crate::model::diag::suggest(v, ids.iter().copied()),
        };
        return Err(err(
            Some(field),
            tr!("rule.unknown_level", field = field, id = v),
        )
        .with_hint(close, &ids));
    }
    Ok(())
}

fn check_priority(rules: Rules, state: &State, ev: &Event) -> Result<(), RuleError> {
    let config = rules.config;
    check_levels(config, ev)?;
    let Some(p) = &ev.priority else {
        return Ok(());
    };
    let Some(prio) = config.priority(p) else {
        let ids: Vec<&str> = config.priorities.iter().map(|p| p.id.as_str()).collect();
        return Err(err(Some("priority"), tr!("rule.unknown_priority", id = p))
            .with_hint(crate::model::diag::suggest(p, ids.iter().copied()), &ids));
    };
    if prio.planned && ev.agreed_date.is_none() && state.agreed_date.is_none() {
        return Err(err(Some("priority"), tr!("rule.planned_needs_date")));
    }
    // A date agreed now is in the future: one in the past would be breached as it is written.
    if let Some(d) = ev.agreed_date {
        if d.utc() <= ev.at.utc() {
            return Err(err(
                Some("agreed_date"),
                tr!("rule.agreed_date_past", date = d, at = ev.at),
            ));
        }
    }
    let impact = ev.impact.as_deref().or(state.impact.as_deref());
    let urgency = ev.urgency.as_deref().or(state.urgency.as_deref());
    let effort = ev.effort.as_deref().or(state.effort.as_deref());
    if impact.is_some() && urgency.is_some() {
        if let Some(rule) = config.suggest_priority(impact, urgency, effort) {
            if &rule.priority != p && ev.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
                return Err(err(
                    Some("priority"),
                    tr!(
                        "rule.override_needs_reason",
                        chosen = p,
                        suggested = rule.priority
                    ),
                ));
            }
        }
    }
    Ok(())
}

impl RuleError {
    fn with_hint(mut self, close: Vec<&str>, all: &[&str]) -> Self {
        self.hint = if let Some(c) = close.first() {
            Some(tr!("check.did_you_mean", name = format!("`{c}`")))
        } else if !all.is_empty() && all.len() <= 16 {
            Some(tr!("check.expected_one_of", list = all.join(", ")))
        } else {
            None
        };
        self
    }
}

fn set_priority(state: &mut State, ev: &Event) {
    if let Some(p) = &ev.priority {
        state.priority = Some(p.clone());
    }
    if ev.impact.is_some() {
        state.impact = ev.impact.clone();
    }
    if ev.urgency.is_some() {
        state.urgency = ev.urgency.clone();
    }
    if ev.effort.is_some() {
        state.effort = ev.effort.clone();
    }
    if ev.agreed_date.is_some() {
        state.agreed_date = ev.agreed_date;
    }
}

/// The SLA targets the desk promises for the state's priority and request.
pub fn targets(rules: Rules, state: &State) -> SlaTargets {
    let prio = state
        .priority
        .as_deref()
        .and_then(|p| rules.config.priority(p));
    let request = state.request.as_deref().and_then(|r| rules.kb.request(r));
    let planned = prio.is_some_and(|p| p.planned);
    SlaTargets {
        response: prio.and_then(|p| p.response),
        resolution: if planned {
            None
        } else {
            state
                .extended_resolution
                .or(request.map(|r| r.front.ans))
                .or(prio.and_then(|p| p.resolution))
        },
        due: if planned { state.agreed_date } else { None },
    }
}

/// When a confirmation wait of `wait` that starts at `from` ends: wall-clock time, or working
/// time on the ticket's resolution calendar (`sla.confirmation_hours: working`; a ticket
/// without a calendar yet counts wall-clock time).
pub fn wait_end(rules: Rules, s: &State, from: Stamp, wait: Dur) -> chrono::DateTime<chrono::Utc> {
    let wall = from.utc() + wait.to_chrono();
    if rules.config.sla.confirmation_hours != ConfirmationHours::Working {
        return wall;
    }
    let cals = crate::rules::calendar::cached_calendars(rules.desk);
    let cal_id = s
        .request
        .as_deref()
        .and_then(|r| rules.kb.request(r))
        .map(|r| r.front.calendar.clone())
        .or_else(|| {
            s.priority
                .as_deref()
                .and_then(|p| rules.config.priority(p))
                .map(|p| p.calendar.clone())
        });
    cal_id
        .and_then(|id| cals.get(&id))
        .and_then(|c| c.add_working(from.utc(), wait.seconds()))
        .unwrap_or(wall)
}

/// When the sent solution may be closed as approved: the auto-close wait after the solution
/// and the grace after the follow-up (`None` until the follow-up was sent).
pub fn auto_close_at(rules: Rules, s: &State) -> Option<chrono::DateTime<chrono::Utc>> {
    let sla = &rules.config.sla;
    let resolved = s.resolved_at?;
    let reminded = s.reminded_at?;
    Some(
        wait_end(rules, s, resolved, sla.auto_close_after).max(wait_end(
            rules,
            s,
            reminded,
            sla.grace(),
        )),
    )
}

/// Applies one event to `state` if the process allows it; on error `state` is unchanged.
pub fn apply(
    rules: Rules,
    customer: Option<&Customer>,
    state: &mut State,
    ev: &Event,
) -> Result<(), RuleError> {
    apply_with(rules, customer, state, &mut State::default(), ev)
}

/// [`apply`] with a scratch state the caller keeps from one event to the next (a log's
/// replay): the candidate state is copied into it field by field, reusing the text buffers
/// the previous event left there, instead of allocating a copy of every id per event. What
/// `scratch` holds before and after is of no meaning.
pub fn apply_with(
    rules: Rules,
    customer: Option<&Customer>,
    state: &mut State,
    scratch: &mut State,
    ev: &Event,
) -> Result<(), RuleError> {
    // The mail sets grow with the log and `step` only reads them; the checks and the
    // articles only change as the last act of a step that succeeds (`checked`, `resolved`,
    // `linked`): all four move into the candidate state instead of being copied for every
    // event, and move back unchanged on error.
    let queued = std::mem::take(&mut state.queued_mail);
    let delivered = std::mem::take(&mut state.delivered_mail);
    let checks = std::mem::take(&mut state.checks);
    let kb = std::mem::take(&mut state.kb);
    let next = scratch;
    next.copy_from(state);
    next.queued_mail = queued;
    next.delivered_mail = delivered;
    next.checks = checks;
    next.kb = kb;
    if let Err(e) = step(rules, customer, next, ev) {
        state.queued_mail = std::mem::take(&mut next.queued_mail);
        state.delivered_mail = std::mem::take(&mut next.delivered_mail);
        state.checks = std::mem::take(&mut next.checks);
        state.kb = std::mem::take(&mut next.kb);
        return Err(e);
    }
    if let Some(m) = &ev.message_id {
        if ev.event == EventKind::Mailed {
            next.delivered_mail.insert(m.clone());
        } else {
            next.queued_mail.insert(m.clone());
        }
    }
    if next.status == Some(Status::Closed) && state.status != Some(Status::Closed) {
        next.closed_at = Some(ev.at);
    }
    match reply_effect(ev) {
        Some(true) => {
            next.unread_since.get_or_insert(ev.at);
        }
        Some(false) => next.unread_since = None,
        None => {}
    }
    // A case the desk no longer works on (waiting on an answer, closed) waits on nothing else.
    if !WORKING.contains(&next.status()) {
        next.waiting = None;
    }
    next.last_at = Some(ev.at);
    next.sla = targets(rules, next);
    // The old state's buffers stay in the scratch for the next event's copy.
    std::mem::swap(state, next);
    Ok(())
}

fn step(
    rules: Rules,
    customer: Option<&Customer>,
    s: &mut State,
    ev: &Event,
) -> Result<(), RuleError> {
    use EventKind::*;
    if let Some(last) = s.last_at {
        if ev.at < last {
            return Err(err(
                Some("at"),
                tr!("rule.time_backwards", at = ev.at, last = last),
            ));
        }
    }
    if s.status.is_none() && ev.event != Created {
        return Err(err(Some("event"), tr!("rule.first_must_be_created")));
    }
    if ev.by.trim().is_empty() {
        return Err(err(
            Some("by"),
            tr!("rule.field_required", event = ev.event, field = "by"),
        ));
    }
    match ev.event {
        Created => {
            if s.status.is_some() {
                return Err(err(Some("event"), tr!("rule.created_twice")));
            }
            // Case numbers and folders carry the year as `20YY` (see `ids`).
            let year = chrono::Datelike::year(&ev.at.0);
            if !(2000..=2099).contains(&year) {
                return Err(err(Some("at"), tr!("rule.created_year", year = year)));
            }
            s.status = Some(Status::New);
            s.level = 1;
            // A ticket mesa opened from an email waits for an agent to take it.
            s.assignee = (ev.by != MESA).then(|| ev.by.clone());
            check_priority(rules, s, ev)?;
            set_priority(s, ev);
        }
        Classified => {
            allowed(s, ev, &[Status::New, Status::Analysis])?;
            let t = *require(&ev.ticket_type, ev, "type")?;
            s.ticket_type = Some(t);
            s.incident = None;
            s.request = None;
            s.status = Some(Status::Analysis);
            if let Some(inc) = &ev.incident {
                if rules.kb.incident(inc).is_none() {
                    let ids: Vec<&str> = rules.kb.incident_ids().collect();
                    return Err(
                        err(Some("incident"), tr!("rule.unknown_incident", id = inc))
                            .with_hint(crate::model::diag::suggest(inc, ids.iter().copied()), &[]),
                    );
                }
                if t == TicketType::Request {
                    return Err(err(Some("incident"), tr!("rule.request_has_incident")));
                }
                s.incident = Some(inc.clone());
            }
            if t == TicketType::Request {
                let r = require(&ev.request, ev, "request")?;
                let Some(entry) = rules.kb.request(r) else {
                    let ids: Vec<&str> = rules.kb.catalog.iter().map(|c| c.id.as_str()).collect();
                    return Err(err(Some("request"), tr!("rule.unknown_request", id = r))
                        .with_hint(crate::model::diag::suggest(r, ids.iter().copied()), &[]));
                };
                s.request = Some(r.clone());
                let needs_cab = match entry.front.cab {
                    CabRule::No => false,
                    CabRule::Yes => true,
                    CabRule::Conditional => *require(&ev.cab, ev, "cab")?,
                };
                if needs_cab {
                    s.status = Some(Status::CabReview);
                }
            } else if ev.request.is_some() {
                return Err(err(Some("request"), tr!("rule.incident_has_request")));
            }
            check_priority(rules, s, ev)?;
            set_priority(s, ev);
        }
        Prioritized => {
            allowed(
                s,
                ev,
                &[
                    Status::New,
                    Status::Analysis,
                    Status::CabReview,
                    Status::AwaitingApproval,
                    Status::InProgress,
                ],
            )?;
            require(&ev.priority, ev, "priority")?;
            check_priority(rules, s, ev)?;
            set_priority(s, ev);
        }
        Assigned => {
            allowed(s, ev, OPEN)?;
            let a = require(&ev.agent, ev, "agent")?;
            if rules.config.agent(a).is_none() {
                return Err(unknown_agent(&rules, a));
            }
            s.assignee = Some(a.clone());
        }
        Checked => {
            allowed(s, ev, WORKING)?;
            let c = require(&ev.check, ev, "check")?;
            let result = *require(&ev.result, ev, "result")?;
            let Some(inc) = &s.incident else {
                return Err(err(Some("check"), tr!("rule.no_incident_for_check")));
            };
            let checks = applicable_checks(rules, customer, inc);
            let Some(pos) = checks.iter().position(|k| &k.id == c) else {
                let ids: Vec<&str> = checks.iter().map(|k| k.id.as_str()).collect();
                return Err(err(
                    Some("check"),
                    tr!("rule.unknown_check", id = c, incident = inc),
                )
                .with_hint(crate::model::diag::suggest(c, ids.iter().copied()), &ids));
            };
            // Table 4's order: the checks before this one (of its level or a lower one) first.
            let level = checks[pos].level;
            let earlier: Vec<String> = checks[..pos]
                .iter()
                .enumerate()
                .filter(|(_, k)| k.level <= level && !s.checks.contains_key(&k.id))
                .map(|(i, k)| numbered(i, k))
                .collect();
            if !earlier.is_empty() && !s.checks.contains_key(c) {
                return Err(err(
                    Some("check"),
                    tr!(
                        "rule.checks_out_of_order",
                        check = numbered(pos, checks[pos]),
                        checks = earlier.join("; ")
                    ),
                ));
            }
            // The last act of the step: `apply` relies on no refusal after it.
            s.checks.insert(c.clone(), result);
        }
        Escalated => {
            allowed(s, ev, WORKING)?;
            let to = *require(&ev.level, ev, "level")?;
            require(&ev.reason, ev, "reason")?;
            let max = rules.config.max_level();
            let direct = rules.config.escalation.direct.contains(&to);
            if to <= s.level || to > max || (to != s.level + 1 && !direct) {
                return Err(err(
                    Some("level"),
                    tr!("rule.bad_escalation", from = s.level, to = to),
                ));
            }
            let missing = missing_checks(rules, customer, s);
            if !missing.is_empty() {
                let ids = in_order(rules, customer, s, &missing);
                return Err(err(
                    Some("level"),
                    tr!(
                        "rule.checks_missing",
                        level = s.level,
                        checks = ids.join("; ")
                    ),
                ));
            }
            // The hand-over: the agent of the new level who takes the case (older logs may
            // escalate without one; the assignee then stays).
            if let Some(a) = &ev.agent {
                match rules.config.agent(a) {
                    None => return Err(unknown_agent(&rules, a)),
                    Some(agent) if agent.level != to => {
                        let ids: Vec<&str> = rules
                            .config
                            .agents
                            .iter()
                            .filter(|a| a.level == to)
                            .map(|a| a.code.as_str())
                            .collect();
                        return Err(err(
                            Some("agent"),
                            tr!(
                                "rule.agent_wrong_level",
                                agent = a,
                                level = agent.level,
                                to = to
                            ),
                        )
                        .with_hint(Vec::new(), &ids));
                    }
                    Some(_) => s.assignee = Some(a.clone()),
                }
            }
            s.level = to;
        }
        Started => {
            allowed(s, ev, &[Status::Analysis])?;
            s.status = Some(Status::InProgress);
        }
        CabReviewed => {
            allowed(s, ev, &[Status::CabReview])?;
            require(&ev.complexity, ev, "complexity")?;
            let quote = *require(&ev.quote, ev, "quote")?;
            let request = s.request.clone().unwrap_or_default();
            let rule = rules
                .kb
                .request(&request)
                .map(|r| r.front.quote)
                .unwrap_or(QuoteRule::No);
            let needed = quote_needed(rule, &request, customer);
            if quote != needed {
                return Err(err(
                    Some("quote"),
                    tr!("rule.quote_mismatch", request = request, needed = needed),
                ));
            }
            s.quote_needed = Some(needed);
        }
        Proposed => {
            allowed(s, ev, &[Status::CabReview, Status::AwaitingApproval])?;
            let Some(needed) = s.quote_needed else {
                return Err(err(Some("event"), tr!("rule.propose_before_cab")));
            };
            require(&ev.text, ev, "text")?;
            if needed && ev.amount.is_none() {
                return Err(err(Some("amount"), tr!("rule.quote_needs_amount")));
            }
            if ev.amount.is_some_and(|a| !(a.is_finite() && a >= 0.0)) {
                return Err(err(Some("amount"), tr!("rule.bad_amount")));
            }
            s.proposals += 1;
            s.status = Some(Status::AwaitingApproval);
        }
        Accepted => {
            allowed(s, ev, &[Status::AwaitingApproval])?;
            s.status = Some(Status::InProgress);
        }
        Declined => {
            allowed(s, ev, &[Status::AwaitingApproval])?;
            s.status = Some(Status::Closed);
            s.close_reason = Some(CloseReason::Declined);
        }
        Resolved => {
            allowed(s, ev, WORKING)?;
            require(&ev.text, ev, "text")?;
            if s.ticket_type.is_none() {
                return Err(err(Some("event"), tr!("rule.resolve_unclassified")));
            }
            if let Some(k) = &ev.kb {
                if rules.kb.article(k).is_none() {
                    let ids: Vec<&str> = rules.kb.articles.iter().map(|a| a.id.as_str()).collect();
                    return Err(err(Some("kb"), tr!("rule.unknown_article", id = k))
                        .with_hint(crate::model::diag::suggest(k, ids.iter().copied()), &[]));
                }
                if !s.kb.contains(k) {
                    s.kb.push(k.clone());
                }
            }
            s.status = Some(Status::Resolved);
            s.resolved_at = Some(ev.at);
            s.reminded = false;
            s.reminded_at = None;
            s.called = false;
        }
        Called => {
            allowed(s, ev, &[Status::Resolved])?;
            s.called = true;
        }
        Reminded => {
            allowed(s, ev, &[Status::Resolved])?;
            let since = s.resolved_at.unwrap_or(ev.at);
            let wait = rules.config.sla.follow_up_after;
            if ev.at.utc() < wait_end(rules, s, since, wait) {
                return Err(err(Some("at"), tr!("rule.remind_too_early", after = wait)));
            }
            if s.reminded {
                return Err(err(Some("event"), tr!("rule.reminded_twice")));
            }
            s.reminded = true;
            s.reminded_at = Some(ev.at);
        }
        Confirmed => {
            allowed(s, ev, &[Status::Resolved])?;
            s.status = Some(Status::Closed);
            s.close_reason = Some(CloseReason::Confirmed);
        }
        Rejected => {
            allowed(s, ev, &[Status::Resolved])?;
            require(&ev.reason, ev, "reason")?;
            s.status = Some(Status::InProgress);
            s.reopened += 1;
            s.resolved_at = None;
        }
        Closed => {
            let reason = *require(&ev.close_reason, ev, "close_reason")?;
            match reason {
                CloseReason::MutualAgreement => {
                    allowed(s, ev, OPEN_NOT_NEW)?;
                    require(&ev.reason, ev, "reason")?;
                }
                CloseReason::NotApplicable => {
                    allowed(s, ev, &[Status::New, Status::Analysis])?;
                    require(&ev.reason, ev, "reason")?;
                }
                CloseReason::AutoConfirmed => {
                    allowed(s, ev, &[Status::Resolved])?;
                    // The manual's close "as approved" follows a follow-up the customer
                    // received: never without one, never before the grace after it.
                    let Some(earliest) = auto_close_at(rules, s) else {
                        return Err(err(
                            Some("close_reason"),
                            tr!("rule.auto_close_without_reminder"),
                        ));
                    };
                    if ev.at.utc() < earliest {
                        let sla = &rules.config.sla;
                        return Err(err(
                            Some("at"),
                            tr!(
                                "rule.auto_close_too_early",
                                after = sla.auto_close_after,
                                grace = sla.grace()
                            ),
                        ));
                    }
                }
                CloseReason::Confirmed | CloseReason::Declined => {
                    return Err(err(
                        Some("close_reason"),
                        tr!("rule.close_reason_by_event", reason = reason.as_str()),
                    ));
                }
            }
            s.status = Some(Status::Closed);
            s.close_reason = Some(reason);
        }
        Extended => {
            allowed(s, ev, OPEN_NOT_NEW)?;
            let clock = ev.clock.unwrap_or(Clock::Resolution);
            let target = *require(&ev.target, ev, "target")?;
            require(&ev.reason, ev, "reason")?;
            let estimated = s
                .request
                .as_deref()
                .and_then(|r| rules.kb.request(r))
                .is_some_and(|r| r.front.estimated);
            if clock != Clock::Resolution || !estimated {
                return Err(err(Some("event"), tr!("rule.extend_not_estimated")));
            }
            let current = targets(rules, s).resolution.unwrap_or_default();
            if target <= current {
                return Err(err(
                    Some("target"),
                    tr!("rule.extend_not_longer", target = target, current = current),
                ));
            }
            s.extended_resolution = Some(target);
        }
        Commented => {
            require(&ev.text, ev, "text")?;
        }
        Received => {
            allowed(s, ev, OPEN)?;
            require(&ev.received_id, ev, "received_id")?;
        }
        Reopened => {
            allowed(s, ev, &[Status::Closed])?;
            let window = rules.config.sla.reopen_within;
            let reason_ok = matches!(
                s.close_reason,
                Some(
                    CloseReason::Confirmed
                        | CloseReason::AutoConfirmed
                        | CloseReason::MutualAgreement
                )
            );
            let in_time = match (window, s.closed_at) {
                (Some(w), Some(at)) => ev.at.utc() - at.utc() <= w.to_chrono(),
                _ => false,
            };
            if !reason_ok || !in_time {
                return Err(err(
                    Some("event"),
                    tr!(
                        "rule.reopen_not_allowed",
                        window = window.map_or("-".to_string(), |w| w.to_string())
                    ),
                ));
            }
            s.status = Some(Status::InProgress);
            s.close_reason = None;
            s.reopened += 1;
            s.resolved_at = None;
        }
        Mailed => {
            // Delivery of an email an earlier event of this ticket queued; no state changes.
            let id = require(&ev.message_id, ev, "message_id")?;
            if !s.queued_mail.contains(id) {
                return Err(err(Some("message_id"), tr!("rule.mailed_unknown", id = id)));
            }
        }
        Paused => {
            allowed(s, ev, WORKING)?;
            let check = require(&ev.check, ev, "check")?;
            let owner = require(&ev.owner, ev, "owner")?;
            require(&ev.reason, ev, "reason")?;
            if s.waiting.is_some() {
                return Err(err(Some("event"), tr!("rule.paused_twice")));
            }
            let found = customer_owner(rules, customer, s, check);
            let failed = s.checks.get(check) == Some(&CheckResult::Failed);
            if !failed || found.is_none_or(|(o, _)| &o.id != owner) {
                return Err(err(
                    Some("check"),
                    tr!("rule.paused_not_customer", check = check, owner = owner),
                ));
            }
            s.waiting = Some(CustomerWait {
                owner: owner.clone(),
                check: check.clone(),
                since: ev.at,
            });
        }
        Resumed => {
            require(&ev.reason, ev, "reason")?;
            if s.waiting.is_none() {
                return Err(err(Some("event"), tr!("rule.resumed_not_waiting")));
            }
            s.waiting = None;
        }
        Linked => {
            let k = require(&ev.kb, ev, "kb")?;
            if rules.kb.article(k).is_none() {
                return Err(err(Some("kb"), tr!("rule.unknown_article", id = k)));
            }
            if !s.kb.contains(k) {
                s.kb.push(k.clone());
            }
        }
    }
    Ok(())
}

/// Who records automatic steps (`mesa sweep`, tickets opened from email).
pub const MESA: &str = "mesa";
/// Who records the customer's answers and emails.
pub const CUSTOMER: &str = "customer";

/// The answers a customer can give by email, and the step each applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Decline,
    Confirm,
    Reject,
}

impl Answer {
    pub const ALL: [Answer; 4] = [
        Answer::Accept,
        Answer::Decline,
        Answer::Confirm,
        Answer::Reject,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Accept => "accept",
            Answer::Decline => "decline",
            Answer::Confirm => "confirm",
            Answer::Reject => "reject",
        }
    }
    /// The event the answer records (by the customer).
    pub fn event(self) -> EventKind {
        match self {
            Answer::Accept => EventKind::Accepted,
            Answer::Decline => EventKind::Declined,
            Answer::Confirm => EventKind::Confirmed,
            Answer::Reject => EventKind::Rejected,
        }
    }
    /// Whether the step needs the customer's reason (a rejected solution does).
    pub fn needs_reason(self) -> bool {
        self == Answer::Reject
    }
}

/// The answers the desk is waiting for from the customer in this state: approval of a proposal
/// or quote, or confirmation of a solution. Anything else the customer writes is a message.
pub fn awaited_answers(s: &State) -> &'static [Answer] {
    match s.status() {
        Status::AwaitingApproval => &[Answer::Accept, Answer::Decline],
        Status::Resolved => &[Answer::Confirm, Answer::Reject],
        _ => &[],
    }
}

/// How an event bears on the customer's email: `Some(true)` brings a reply to read (a
/// `received` event), `Some(false)` reads it (any step by an agent; a reply that was an
/// approval or a confirmation, applied as the customer's step, needs no reading, while a
/// rejection does: its reason is the agent's next work), `None` neither (other steps by
/// `customer` or `mesa`).
pub fn reply_effect(ev: &Event) -> Option<bool> {
    if ev.event == EventKind::Received {
        return Some(true);
    }
    let answered = ev.by == CUSTOMER
        && matches!(
            ev.event,
            EventKind::Accepted | EventKind::Declined | EventKind::Confirmed
        );
    if answered || (ev.by != CUSTOMER && ev.by != MESA) {
        return Some(false);
    }
    None
}

/// The customer email no agent has acted on since: the latest `received` event when nothing
/// that reads it follows ([`reply_effect`]).
pub fn unread_reply(events: &[Event]) -> Option<&Event> {
    for ev in events.iter().rev() {
        match reply_effect(ev) {
            Some(true) => return Some(ev),
            Some(false) => return None,
            None => {}
        }
    }
    None
}

/// Whether the manual's closing loop (the follow-up, then the close as approved) waits for an
/// agent: the customer wrote after the solution notice something that was not a clear answer,
/// and no agent has read it. A customer who wrote has answered; closing the case "for lack of
/// an answer" would ignore them.
pub fn closing_loop_on_hold(s: &State) -> bool {
    s.status() == Status::Resolved && s.unread_since.is_some()
}

/// Whether a reply to this closed ticket at `at` may reopen it (else it opens a new case).
pub fn may_reopen(rules: Rules, s: &State, at: Stamp) -> bool {
    let mut probe = s.clone();
    let ev = Event::new(at, CUSTOMER, EventKind::Reopened);
    step(rules, None, &mut probe, &ev).is_ok()
}

/// What the desk should do next, as message keys of the active catalog (for `mesa show` and
/// every command's "next" line).
/// Who must act next when checks owned by the customer's side (owners with `customer: true` in
/// desk.yaml) failed: one line per owner, naming its failed checks in Table 4's order.
fn customer_acts(id: &str, rules: Rules, customer: Option<&Customer>, s: &State) -> Vec<String> {
    let Some(inc) = s.incident.as_deref() else {
        return Vec::new();
    };
    let all = applicable_checks(rules, customer, inc);
    // The clocks wait on the customer (who, which check, and how the wait ends).
    let waiting = s
        .waiting
        .as_ref()
        .filter(|_| waits_on_customer(rules, s))
        .map(|w| {
            let owner = rules
                .config
                .playbook
                .owners
                .iter()
                .find(|o| o.id == w.owner);
            tr!(
                "next.customer_wait",
                owner = owner.map_or(w.owner.as_str(), |o| o.name.as_str()),
                check = w.check,
                id = id
            )
        });
    waiting
        .into_iter()
        .chain(
            rules
                .config
                .playbook
                .owners
                .iter()
                .filter(|o| o.customer)
                .filter_map(|o| {
                    let failed: Vec<String> = all
                        .iter()
                        .enumerate()
                        .filter(|(_, c)| {
                            c.owner == o.id && s.checks.get(&c.id) == Some(&CheckResult::Failed)
                        })
                        .map(|(i, c)| numbered(i, c))
                        .collect();
                    (!failed.is_empty()).then(|| {
                        tr!(
                            "next.customer_acts",
                            owner = o.name,
                            checks = failed.join("; ")
                        )
                    })
                }),
        )
        .collect()
}

pub fn next_steps(id: &str, rules: Rules, customer: Option<&Customer>, s: &State) -> Vec<String> {
    let mut out = Vec::new();
    match s.status() {
        Status::New => out.push(tr!("next.classify", id = id)),
        // Both working states offer the same acts: the customer's, the checks, then solve or escalate.
        Status::Analysis | Status::InProgress => {
            out.extend(customer_acts(id, rules, customer, s));
            let missing = missing_checks(rules, customer, s);
            if !missing.is_empty() {
                let ids = in_order(rules, customer, s, &missing);
                out.push(tr!("next.verify", checks = ids.join("; ")));
            }
            out.push(tr!("next.resolve_or_escalate", id = id));
        }
        Status::CabReview => {
            if s.quote_needed.is_none() {
                out.push(tr!("next.cab", id = id))
            } else {
                out.push(tr!("next.propose", id = id))
            }
        }
        Status::AwaitingApproval => out.push(tr!("next.await_approval", id = id)),
        Status::Resolved => {
            if !s.called {
                out.push(tr!("next.call", id = id));
            }
            out.push(tr!("next.await_confirmation", id = id));
        }
        Status::Closed => out.push(tr!("next.none")),
    }
    out
}

impl crate::model::load::Desk {
    /// The workflow's view of this desk: its configuration and knowledge base.
    pub fn rules(&self) -> Rules<'_> {
        Rules {
            config: &self.config,
            kb: &self.kb,
            desk: self,
        }
    }
}
