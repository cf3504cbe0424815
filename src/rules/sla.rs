//! SLA clocks, derived from a ticket's event log on every read; nothing is stored that can
//! drift. Changing a calendar or a target in desk.yaml or kb/ recomputes every clock.
//!
//! Definitions (also in docs/reports.md):
//! - Both clocks start at the `created` event.
//! - **Response clock**: the priority's response time (Table 5), on the priority's calendar.
//!   It stops at the desk's first act of attention after reception ([`is_response`]): a
//!   playbook check recorded (`checked`), work started (`started`), an escalation
//!   (`escalated`), the CAB's review (`cab_reviewed`), a message to the customer (`proposed`,
//!   `called`, a public `commented`, a `closed` by an agent) or a solution (`resolved`).
//!   Classifying, prioritising and assigning are reception (`mesa new` records them with the
//!   ticket), and the desk's automatic messages (`by: mesa`) are not attention: none of them
//!   stops the clock, whenever it is recorded.
//! - **Resolution clock**: the catalog entry's ANS for requests (on the entry's calendar), else
//!   the priority's resolution target where the desk sets one (on the priority's calendar);
//!   an `extended` event replaces the target. It stops when the ticket closes.
//! - Both run in `new`, `analysis`, `cab_review` and `in_progress`, and pause while the desk
//!   waits on the customer: `awaiting_approval` (proposal out) and `resolved` (solution out
//!   for confirmation). A rejection reopens the ticket and the clock runs again. The status
//!   after each event comes from `workflow::apply`; no rule is re-derived here.
//! - They also pause while a failed playbook check owned by the customer's side waits on the
//!   customer, when the desk chooses so (`sla.pause_on_customer_checks`): from the `paused`
//!   event to the `resumed` one ([`crate::rules::customer_wait`]).
//! - Planned tickets: the resolution clock is due at the agreed date.
//! - States: `met` (stopped within target), `met_after_extension` (within an extended target
//!   but over the original one), `breached` (working time used over the target, stopped or
//!   not), `paused`, `at_risk` (running with at least `sla.at_risk` of the target used),
//!   `running`.

use crate::model::duration::Dur;
use crate::model::load::Desk;
use crate::model::ticket::{Clock, Event, EventKind, Stamp, Status, TicketFront};
use crate::rules::calendar::{Calendar, Calendars};
use crate::rules::workflow::{self, State};
use crate::tr;
use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Serialize, Serializer};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockState {
    Running,
    Paused,
    Met,
    MetAfterExtension,
    Breached,
    AtRisk,
}

impl ClockState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClockState::Running => "running",
            ClockState::Paused => "paused",
            ClockState::Met => "met",
            ClockState::MetAfterExtension => "met_after_extension",
            ClockState::Breached => "breached",
            ClockState::AtRisk => "at_risk",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    Running,
    Paused,
}

/// A stretch of time in which the clock ran or was paused.
#[derive(Debug, Clone, Serialize)]
pub struct Segment {
    pub kind: SegmentKind,
    #[serde(serialize_with = "ser_dt")]
    pub from: DateTime<Tz>,
    /// `None`: still going at `now`.
    #[serde(serialize_with = "ser_opt_dt")]
    pub to: Option<DateTime<Tz>>,
    /// Working minutes inside the segment (counted for running segments only).
    pub working_minutes: i64,
}

/// One clock of one ticket, as of `now`.
#[derive(Debug, Clone, Serialize)]
pub struct ClockView {
    pub clock: Clock,
    /// The target in force (after any extension); `None` for planned tickets and tickets
    /// without a priority yet.
    pub target: Option<Dur>,
    /// The target before any extension.
    pub original_target: Option<Dur>,
    pub extended: bool,
    pub calendar: String,
    pub state: ClockState,
    /// True once the clock has stopped (response given, ticket closed).
    pub stopped: bool,
    pub used_minutes: i64,
    pub left_minutes: i64,
    #[serde(serialize_with = "ser_opt_dt")]
    pub due: Option<DateTime<Tz>>,
    #[serde(serialize_with = "ser_opt_dt")]
    pub stopped_at: Option<DateTime<Tz>>,
    pub segments: Vec<Segment>,
    pub why: String,
    /// Working seconds used (exact; minutes above are floored).
    #[serde(skip)]
    pub used_seconds: i64,
    /// The wait on the customer's side pausing this clock now (see
    /// [`crate::rules::customer_wait`]); `None` when there is none or the clock stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_on: Option<WaitingOn>,
}

/// Who a paused clock waits on: a playbook owner of the customer's side and its failed check.
#[derive(Debug, Clone, Serialize)]
pub struct WaitingOn {
    /// Owner id (desk.yaml `playbook.owners`) and its name.
    pub owner: String,
    pub owner_name: String,
    /// Playbook check id.
    pub check: String,
    #[serde(serialize_with = "ser_dt")]
    pub since: DateTime<Tz>,
}

fn ser_dt<S: Serializer>(d: &DateTime<Tz>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&d.to_rfc3339_opts(SecondsFormat::AutoSi, false))
}

fn ser_opt_dt<S: Serializer>(d: &Option<DateTime<Tz>>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => ser_dt(d, s),
        None => s.serialize_none(),
    }
}

/// Whether a status counts toward a clock (the desk is working, not waiting on the customer).
pub fn runs_in(status: Status) -> bool {
    matches!(
        status,
        Status::New | Status::Analysis | Status::CabReview | Status::InProgress
    )
}

/// Whether an event is an act of attention that stops the response clock (see the module
/// documentation). Reception's own steps (classification, priority, assignment), links,
/// extensions and everything done by `mesa` or the customer are not.
pub fn is_response(ev: &Event) -> bool {
    if ev.by == "customer" || ev.by == "mesa" {
        return false;
    }
    match ev.event {
        EventKind::Checked
        | EventKind::Started
        | EventKind::Escalated
        | EventKind::CabReviewed
        | EventKind::Proposed
        | EventKind::Resolved
        | EventKind::Called
        | EventKind::Closed => true,
        EventKind::Commented => ev.public == Some(true),
        _ => false,
    }
}

/// The log walked through the workflow: the status after each accepted event.
pub struct Walk {
    pub created: Option<DateTime<Utc>>,
    /// (instant, status after the event, whether the clocks run after it), for accepted
    /// events only. Clocks run in [`runs_in`] statuses unless the case waits on the customer's
    /// side ([`crate::rules::customer_wait`]).
    pub timeline: Vec<(DateTime<Utc>, Status, bool)>,
    pub responded: Option<DateTime<Utc>>,
    /// The resolution target before the first extension.
    pub original_resolution: Option<Dur>,
    pub state: State,
}

/// Replays the events up to `now` through `workflow::apply` (events that break a rule are
/// skipped, as `workflow::replay` does; `mesa check` reports them).
pub fn walk(desk: &Desk, front: &TicketFront, now: DateTime<Utc>) -> Walk {
    let rules = desk.rules();
    let customer = desk.config.customer(&front.customer);
    let mut state = State::default();
    let mut w = Walk {
        created: None,
        timeline: Vec::with_capacity(front.events.len()),
        responded: None,
        original_resolution: None,
        state: State::default(),
    };
    let mut extended_seen = false;
    let mut scratch = State::default();
    for ev in &front.events {
        let at = ev.at.utc();
        if at > now {
            break;
        }
        let before = state.sla.resolution;
        if workflow::apply_with(rules, customer, &mut state, &mut scratch, ev).is_err() {
            continue;
        }
        if ev.event == EventKind::Created {
            w.created = Some(at);
        } else if w.responded.is_none() && is_response(ev) {
            w.responded = Some(at);
        }
        if ev.event == EventKind::Extended && !extended_seen {
            extended_seen = true;
            w.original_resolution = before;
        }
        let runs = runs_in(state.status()) && !workflow::waits_on_customer(rules, &state);
        w.timeline.push((at, state.status(), runs));
    }
    if !extended_seen {
        w.original_resolution = state.sla.resolution;
    }
    w.state = state;
    w
}

/// The calendar a clock runs on: the catalog entry's for a request's resolution, else the
/// priority's.
pub fn calendar_id(desk: &Desk, state: &State, clock: Clock) -> Option<String> {
    calendar_of(
        desk,
        state.request.as_deref(),
        state.priority.as_deref(),
        clock,
    )
}

fn calendar_of(
    desk: &Desk,
    request: Option<&str>,
    priority: Option<&str>,
    clock: Clock,
) -> Option<String> {
    if clock == Clock::Resolution {
        if let Some(r) = request.and_then(|r| desk.kb.request(r)) {
            return Some(r.front.calendar.clone());
        }
    }
    priority
        .and_then(|p| desk.config.priority(p))
        .map(|p| p.calendar.clone())
}

/// What the clocks read of a walked log ([`Walk`]), and nothing else: fixed once the log is
/// walked to its last event, so a cache can keep it and evaluate the clocks at any later
/// instant ([`clocks_of_inputs_brief`]) exactly as from the walk.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ClockInputs {
    pub created: Option<DateTime<Utc>>,
    pub timeline: Vec<(DateTime<Utc>, Status, bool)>,
    pub responded: Option<DateTime<Utc>>,
    pub original_resolution: Option<Dur>,
    pub response: Option<Dur>,
    pub resolution: Option<Dur>,
    pub due: Option<Stamp>,
    pub request: Option<String>,
    pub priority: Option<String>,
    pub extended_resolution: Option<Dur>,
    /// Whether the customer's side holds the clocks ([`workflow::waits_on_customer`]).
    pub waits: bool,
    /// Who and which check it waits on, since when.
    pub waiting: Option<(String, String, Stamp)>,
}

impl ClockInputs {
    pub fn of(desk: &Desk, w: &Walk) -> ClockInputs {
        let s = &w.state;
        ClockInputs {
            created: w.created,
            timeline: w.timeline.clone(),
            responded: w.responded,
            original_resolution: w.original_resolution,
            response: s.sla.response,
            resolution: s.sla.resolution,
            due: s.sla.due,
            request: s.request.clone(),
            priority: s.priority.clone(),
            extended_resolution: s.extended_resolution,
            waits: workflow::waits_on_customer(desk.rules(), s),
            waiting: s
                .waiting
                .as_ref()
                .map(|w| (w.owner.clone(), w.check.clone(), w.since)),
        }
    }

    fn calendar(&self, desk: &Desk, clock: Clock) -> Option<String> {
        calendar_of(
            desk,
            self.request.as_deref(),
            self.priority.as_deref(),
            clock,
        )
    }
}

/// Every clock of a ticket as of `now`, on the desk's calendars (built once per process and
/// configuration, see [`crate::rules::calendar::cached_calendars`]).
pub fn clocks(desk: &Desk, front: &TicketFront, now: DateTime<Utc>) -> Vec<ClockView> {
    clocks_with(
        desk,
        &crate::rules::calendar::cached_calendars(desk),
        front,
        now,
    )
}

/// Every clock of a ticket as of `now`, on prebuilt calendars.
pub fn clocks_with(
    desk: &Desk,
    cals: &Calendars,
    front: &TicketFront,
    now: DateTime<Utc>,
) -> Vec<ClockView> {
    clocks_of_walk(desk, cals, &walk(desk, front, now), now)
}

/// The clocks of a log already walked up to `now` with [`walk`].
pub fn clocks_of_walk(
    desk: &Desk,
    cals: &Calendars,
    w: &Walk,
    now: DateTime<Utc>,
) -> Vec<ClockView> {
    clocks_inner(desk, cals, &ClockInputs::of(desk, w), now, true)
}

/// As [`clocks_of_walk`] with an empty `why` (reports over many tickets do not show it).
pub fn clocks_of_walk_brief(
    desk: &Desk,
    cals: &Calendars,
    w: &Walk,
    now: DateTime<Utc>,
) -> Vec<ClockView> {
    clocks_inner(desk, cals, &ClockInputs::of(desk, w), now, false)
}

/// As [`clocks_of_walk`], from the inputs kept of a walk.
pub fn clocks_of_inputs(
    desk: &Desk,
    cals: &Calendars,
    w: &ClockInputs,
    now: DateTime<Utc>,
) -> Vec<ClockView> {
    clocks_inner(desk, cals, w, now, true)
}

/// As [`clocks_of_walk_brief`], from the inputs kept of a walk.
pub fn clocks_of_inputs_brief(
    desk: &Desk,
    cals: &Calendars,
    w: &ClockInputs,
    now: DateTime<Utc>,
) -> Vec<ClockView> {
    clocks_inner(desk, cals, w, now, false)
}

fn clocks_inner(
    desk: &Desk,
    cals: &Calendars,
    w: &ClockInputs,
    now: DateTime<Utc>,
    explain: bool,
) -> Vec<ClockView> {
    let Some(created) = w.created else {
        return Vec::new();
    };
    let at_risk = desk.config.sla.at_risk;
    let mut out = Vec::with_capacity(2);
    for clock in [Clock::Response, Clock::Resolution] {
        let cal_id = w.calendar(desk, clock);
        let cal = cal_id.as_deref().and_then(|id| cals.get(id));
        let planned_due = if clock == Clock::Resolution {
            w.due
        } else {
            None
        };
        let (target, original) = match clock {
            Clock::Response => (w.response, w.response),
            Clock::Resolution => (w.resolution, w.original_resolution),
        };
        // With no target the resolution clock still measures working time (for reports),
        // but only once a calendar is known (a priority or a request).
        if clock == Clock::Resolution && target.is_none() && planned_due.is_none() && cal.is_none()
        {
            continue;
        }
        let stop = match clock {
            Clock::Response => w.responded.or_else(|| closed_at(w)),
            Clock::Resolution => closed_at(w),
        };
        let mut v = view(ClockInput {
            clock,
            cal,
            cal_id: cal_id.clone().unwrap_or_else(|| "-".into()),
            created,
            timeline: &w.timeline,
            stop,
            now,
            target,
            original,
            planned_due: planned_due.map(|d| d.utc()),
            at_risk,
            why_target: if explain {
                why_target(desk, w, clock)
            } else {
                String::new()
            },
        });
        if !v.stopped && w.waits {
            v.waiting_on = w.waiting.as_ref().map(|(owner, check, since)| WaitingOn {
                owner: owner.clone(),
                owner_name: desk
                    .config
                    .playbook
                    .owners
                    .iter()
                    .find(|o| o.id == *owner)
                    .map_or_else(|| owner.clone(), |o| o.name.clone()),
                check: check.clone(),
                since: since
                    .utc()
                    .with_timezone(&cal.map_or(chrono_tz::UTC, |c| c.tz)),
            });
        }
        out.push(v);
    }
    out
}

fn closed_at(w: &ClockInputs) -> Option<DateTime<Utc>> {
    w.timeline
        .iter()
        .find(|(_, s, _)| *s == Status::Closed)
        .map(|(t, _, _)| *t)
}

fn why_target(desk: &Desk, state: &ClockInputs, clock: Clock) -> String {
    let prio = state
        .priority
        .as_deref()
        .and_then(|p| desk.config.priority(p));
    match clock {
        Clock::Response => match prio {
            Some(p) => match p.response {
                Some(t) => tr!("sla.why_response", priority = p.name, target = t),
                None => tr!("sla_more.why_no_response_target", priority = p.name),
            },
            None => tr!("sla.why_no_priority"),
        },
        Clock::Resolution => {
            if let Some(d) = state.due {
                return tr!("sla.why_planned", date = d);
            }
            let req = state.request.as_deref().and_then(|r| desk.kb.request(r));
            let base = match (req, prio) {
                (Some(r), _) => tr!(
                    "sla.why_request",
                    request = r.front.title,
                    target = r.front.ans
                ),
                (None, Some(p)) => match p.resolution {
                    Some(t) => tr!("sla.why_priority_resolution", priority = p.name, target = t),
                    None => tr!("sla.why_no_resolution_target", priority = p.name),
                },
                (None, None) => tr!("sla.why_no_priority"),
            };
            match state.extended_resolution {
                Some(t) => format!("{base}; {}", tr!("sla.why_extended", target = t)),
                None => base,
            }
        }
    }
}

struct ClockInput<'a> {
    clock: Clock,
    cal: Option<&'a Calendar>,
    cal_id: String,
    created: DateTime<Utc>,
    timeline: &'a [(DateTime<Utc>, Status, bool)],
    stop: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    target: Option<Dur>,
    original: Option<Dur>,
    planned_due: Option<DateTime<Utc>>,
    at_risk: f64,
    why_target: String,
}

/// A running or paused stretch: kind, start, end (`None`: still going).
pub type Stretch = (SegmentKind, DateTime<Utc>, Option<DateTime<Utc>>);

/// Running and paused stretches from `created` to `stop` (or `now`): (kind, from, to or None).
pub fn stretches(
    created: DateTime<Utc>,
    timeline: &[(DateTime<Utc>, Status, bool)],
    stop: Option<DateTime<Utc>>,
) -> Vec<Stretch> {
    let mut out: Vec<Stretch> = Vec::new();
    for &(at, status, runs) in timeline {
        if status == Status::Closed || (!out.is_empty() && stop.is_some_and(|e| at >= e)) {
            break;
        }
        let kind = if runs {
            SegmentKind::Running
        } else {
            SegmentKind::Paused
        };
        match out.last_mut() {
            Some(last) if last.0 == kind => {}
            Some(last) => {
                last.2 = Some(at);
                out.push((kind, at, None));
            }
            None => out.push((kind, created, None)),
        }
    }
    if let (Some(last), Some(e)) = (out.last_mut(), stop) {
        last.2 = Some(e);
    }
    out
}

fn view(i: ClockInput) -> ClockView {
    let tz = i.cal.map(|c| c.tz).unwrap_or(chrono_tz::UTC);
    let local = |t: DateTime<Utc>| t.with_timezone(&tz);
    let parts = stretches(i.created, i.timeline, i.stop);
    let mut used = 0i64;
    let mut segments = Vec::with_capacity(parts.len());
    let target_s = i.target.map(|t| t.seconds());
    let mut crossed: Option<DateTime<Utc>> = None;
    for &(kind, from, to) in &parts {
        let secs = match (kind, i.cal) {
            (SegmentKind::Running, Some(cal)) => {
                let until = to.unwrap_or(i.now).max(from);
                let s = cal.working_seconds(from, until);
                if let (Some(t), None) = (target_s, crossed) {
                    if used + s >= t && t >= used {
                        crossed = cal.add_working(from, t - used);
                    }
                }
                s
            }
            _ => 0,
        };
        used += secs;
        segments.push(Segment {
            kind,
            from: local(from),
            to: to.map(local),
            working_minutes: secs / 60,
        });
    }
    let stopped = i.stop.is_some();
    let running_now = !stopped && parts.last().is_some_and(|p| p.0 == SegmentKind::Running);
    // The due instant: where the target's working time runs out; while running (or, once
    // stopped, from where it last ran) as if it went on running; unknown while paused.
    let due = match (i.planned_due, target_s, i.cal) {
        (Some(d), _, _) => Some(d),
        (None, Some(t), Some(cal)) => crossed.or_else(|| {
            let from = if stopped {
                last_run_end(&parts).or(i.stop)
            } else if running_now {
                Some(i.now)
            } else {
                None
            };
            from.and_then(|f| cal.add_working(f, t - used))
        }),
        _ => None,
    };
    let end = i.stop.unwrap_or(i.now);
    let (state, left) = match (i.planned_due, target_s) {
        (Some(due_at), _) => {
            let finish = if stopped {
                // Planned work is done when the clock last stopped running.
                last_run_end(&parts).unwrap_or(end)
            } else {
                end
            };
            let left = i
                .cal
                .map(|c| c.working_seconds(i.now.min(end), due_at))
                .unwrap_or(0);
            let total = i
                .cal
                .map(|c| c.working_seconds(i.created, due_at))
                .unwrap_or(0);
            let late = finish > due_at;
            let st = if stopped {
                if late {
                    ClockState::Breached
                } else {
                    ClockState::Met
                }
            } else if i.now > due_at {
                ClockState::Breached
            } else if !running_now {
                ClockState::Paused
            } else if total > 0 && (left as f64) <= (1.0 - i.at_risk) * total as f64 {
                ClockState::AtRisk
            } else {
                ClockState::Running
            };
            (st, if stopped { 0 } else { left })
        }
        (None, Some(t)) => {
            let orig = i.original.map(|o| o.seconds()).unwrap_or(t);
            let st = if used > t {
                ClockState::Breached
            } else if stopped {
                if used > orig {
                    ClockState::MetAfterExtension
                } else {
                    ClockState::Met
                }
            } else if !running_now {
                ClockState::Paused
            } else if t > 0 && used as f64 >= i.at_risk * t as f64 {
                ClockState::AtRisk
            } else {
                ClockState::Running
            };
            (st, (t - used).max(0))
        }
        (None, None) => {
            let st = if stopped {
                ClockState::Met
            } else if running_now {
                ClockState::Running
            } else {
                ClockState::Paused
            };
            (st, 0)
        }
    };
    let used_minutes = used / 60;
    let left_minutes = match i.target {
        Some(t) if i.planned_due.is_none() => (t.minutes - used_minutes).max(0),
        _ => left / 60,
    };
    let cal_note = match i.cal {
        _ if i.why_target.is_empty() => String::new(),
        Some(c) => tr!(
            "sla.why_calendar",
            calendar = c.name,
            id = c.id,
            tz = c.tz.name()
        ),
        None => tr!("sla.why_no_calendar", id = i.cal_id),
    };
    ClockView {
        clock: i.clock,
        target: i.target,
        original_target: i.original,
        extended: i.original != i.target && i.target.is_some(),
        calendar: i.cal_id,
        state,
        stopped,
        used_minutes,
        left_minutes,
        due: due.map(local),
        stopped_at: i.stop.map(local),
        segments,
        why: if cal_note.is_empty() {
            cal_note
        } else {
            format!("{}; {}", i.why_target, cal_note)
        },
        used_seconds: used,
        waiting_on: None,
    }
}

fn last_run_end(parts: &[Stretch]) -> Option<DateTime<Utc>> {
    parts
        .iter()
        .rev()
        .find(|p| p.0 == SegmentKind::Running)
        .and_then(|p| p.2)
}

/// The instant promised in the acknowledgement, in the calendar's zone: the request's ANS for
/// requests, the priority's response time otherwise; planned tickets: the agreed date.
pub fn promised_due(desk: &Desk, front: &TicketFront) -> Option<DateTime<Tz>> {
    promised_due_with(desk, &crate::rules::calendar::cached_calendars(desk), front)
}

pub fn promised_due_with(
    desk: &Desk,
    cals: &Calendars,
    front: &TicketFront,
) -> Option<DateTime<Tz>> {
    let w = walk(desk, front, DateTime::<Utc>::MAX_UTC);
    let created = w.created?;
    if let Some(d) = w.state.sla.due {
        let tz = calendar_id(desk, &w.state, Clock::Resolution)
            .and_then(|id| cals.get(&id).map(|c| c.tz))
            .or_else(|| desk.config.time_zone.parse().ok())
            .unwrap_or(chrono_tz::UTC);
        return Some(d.utc().with_timezone(&tz));
    }
    let (clock, target) = match w.state.request.as_deref().and_then(|r| desk.kb.request(r)) {
        Some(r) => (Clock::Resolution, r.front.ans),
        None => (Clock::Response, w.state.sla.response?),
    };
    let cal = cals.get(&calendar_id(desk, &w.state, clock)?)?;
    cal.add_working(created, target.seconds())
        .map(|t| t.with_timezone(&cal.tz))
}

/// Problems of a ticket's recorded targets against the calendars (for `mesa check`):
/// (key, message). A planned ticket's agreed date must fall in working time of its calendar,
/// and every clock's calendar must exist and open within three years.
pub fn target_problems(
    desk: &Desk,
    cals: &Calendars,
    front: &TicketFront,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(created) = front.events.first().map(|e| e.at.utc()) else {
        return out;
    };
    // The recorded fields: `mesa check` proves them equal to the replay separately.
    let state = State {
        priority: front.priority.clone(),
        request: front.request.clone(),
        ..State::default()
    };
    for (clock, key, target) in [
        (Clock::Response, "sla.response", front.sla.response),
        (Clock::Resolution, "sla.resolution", front.sla.resolution),
    ] {
        let Some(target) = target else { continue };
        let Some(id) = calendar_id(desk, &state, clock) else {
            continue;
        };
        match cals.get(&id) {
            None => out.push((key.to_string(), tr!("sla.check_no_calendar", id = id))),
            Some(cal) => {
                if cal.add_working(created, target.seconds()).is_none() {
                    out.push((
                        key.to_string(),
                        tr!("sla.check_never_due", id = id, target = target),
                    ));
                }
            }
        }
    }
    if let (Some(due), Some(id)) = (front.sla.due, calendar_id(desk, &state, Clock::Resolution)) {
        if let Some(cal) = cals.get(&id) {
            let at = due.utc();
            if !cal.is_working(at) && !is_interval_end(cal, at) {
                out.push((
                    "sla.due".to_string(),
                    tr!("sla.check_due_closed", due = due, calendar = cal.name),
                ));
            }
            if at < created {
                out.push((
                    "sla.due".to_string(),
                    tr!("sla.check_due_before_created", due = due),
                ));
            }
        }
    }
    out
}

/// Whether `t` is the end of a working interval (a due time such as 17:00 is fine).
fn is_interval_end(cal: &Calendar, t: DateTime<Utc>) -> bool {
    cal.working_seconds(t - chrono::Duration::seconds(1), t) > 0
}

/// A date and time for people in `lang`: "lunes 1 de diciembre de 2026, 10:30" (es),
/// "Monday 1 December 2026, 10:30" (en). Names and the pattern come from the catalogs.
pub fn human_datetime(dt: &DateTime<Tz>, lang: &str) -> String {
    use crate::model::i18n::{self, Catalog};
    use std::sync::OnceLock;
    static CACHE: OnceLock<Vec<Catalog>> = OnceLock::new();
    let active = i18n::active();
    let cat: &Catalog = if active.lang == lang {
        active
    } else {
        let all = CACHE.get_or_init(|| {
            i18n::LANGUAGES
                .iter()
                .map(|l| Catalog::load(l, None))
                .collect()
        });
        all.iter().find(|c| c.lang == lang).unwrap_or(active)
    };
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let weekday = cat.get(&format!(
        "calendar.weekday.{}",
        DAYS[dt.weekday().num_days_from_monday() as usize]
    ));
    let month = cat.get(&format!("calendar.month.{}", MONTHS[dt.month0() as usize]));
    let time = format!("{:02}:{:02}", dt.hour(), dt.minute());
    cat.format(
        "calendar.human_datetime",
        &[
            ("weekday", &weekday),
            ("day", &dt.day()),
            ("month", &month),
            ("year", &dt.year()),
            ("time", &time),
        ],
    )
}

/// A stamp for people, in the zone of `tz`.
pub fn human_stamp(s: &Stamp, tz: Tz, lang: &str) -> String {
    human_datetime(&s.utc().with_timezone(&tz), lang)
}
