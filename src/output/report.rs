//! `mesa report`: the supervisors' figures over the tickets created in a period, broken down by
//! priority, request, incident, customer, agent, level or month. Every figure is defined in
//! `docs/reports.md` and in the catalogs (`report.def.*`, shown by `mesa report --help`).
//!
//! Tickets are evaluated as of `min(--to, now)`: events after that instant are ignored, so a
//! report of a past month reads the same tomorrow. Clocks come from `sla` (nothing stored).

use crate::model::diag::{Error, Result};
use crate::model::load::Desk;
use crate::model::ticket::{Clock, CloseReason, EventKind, Status, TicketFront};
use crate::rules::calendar::Calendars;
use crate::rules::sla::{self, ClockState, ClockView};
use crate::rules::workflow;
use crate::tr;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;

/// What `--by` groups tickets by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Priority,
    Request,
    Incident,
    Customer,
    Agent,
    Level,
    Month,
    /// The channel the ticket came through (desk.yaml `channels`: email, phone...).
    Channel,
}

impl By {
    /// Every grouping, in the order the facts cache keeps a ticket's groups.
    pub const ALL: [By; 8] = [
        By::Priority,
        By::Request,
        By::Incident,
        By::Customer,
        By::Agent,
        By::Level,
        By::Month,
        By::Channel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            By::Priority => "priority",
            By::Request => "request",
            By::Incident => "incident",
            By::Customer => "customer",
            By::Agent => "agent",
            By::Level => "level",
            By::Month => "month",
            By::Channel => "channel",
        }
    }
}

/// Compliance of one clock over a group of tickets.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Compliance {
    pub met: u64,
    pub met_after_extension: u64,
    pub breached: u64,
    pub open_on_time: u64,
    pub open_breached: u64,
    /// Tickets with no target on this clock (not counted above).
    pub no_target: u64,
}

impl Compliance {
    fn add(&mut self, o: &Compliance) {
        self.met += o.met;
        self.met_after_extension += o.met_after_extension;
        self.breached += o.breached;
        self.open_on_time += o.open_on_time;
        self.open_breached += o.open_breached;
        self.no_target += o.no_target;
    }
    pub fn total(&self) -> u64 {
        self.met
            + self.met_after_extension
            + self.breached
            + self.open_on_time
            + self.open_breached
            + self.no_target
    }
    /// Met (with or without extension) over stopped clocks with a target, in percent.
    pub fn rate(&self) -> Option<f64> {
        let done = self.met + self.met_after_extension + self.breached;
        (done > 0).then(|| 100.0 * (self.met + self.met_after_extension) as f64 / done as f64)
    }
}

/// Backlog of open tickets by calendar age at the report instant.
pub const AGE_BUCKETS: [&str; 5] = ["lt_1d", "d1_3", "d3_7", "d7_30", "gt_30d"];

/// Every figure of one group (or of the whole report).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct Figures {
    pub tickets: u64,
    pub open: u64,
    pub closed: u64,
    pub response: Compliance,
    pub resolution: Compliance,
    pub at_risk: u64,
    pub open_breached: u64,
    /// Open tickets by age bucket (`AGE_BUCKETS`).
    pub backlog: [u64; 5],
    pub escalated_tickets: u64,
    /// Escalation events by the level escalated to (index 0 = level 1 .. 4 = level 5).
    pub escalations_to: [u64; 5],
    pub reached_level5: u64,
    /// Closed after a solution (confirmed, auto_confirmed, or mutual agreement after a solution).
    pub closed_solved: u64,
    pub first_contact: u64,
    pub resolved_once: u64,
    pub reopened: u64,
    pub closed_by_silence: u64,
    /// Solution notices sent (`resolved` events) and those followed by the call the manual
    /// asks for ("Solución": by phone and email) before the customer's answer.
    pub solutions_sent: u64,
    pub solutions_called: u64,
    pub quotes_sent: u64,
    pub quotes_accepted: u64,
    pub quotes_declined: u64,
    pub respond_minutes_mean: Option<f64>,
    pub respond_minutes_median: Option<f64>,
    pub resolve_minutes_mean: Option<f64>,
    pub resolve_minutes_median: Option<f64>,
    /// Customer emails appended to tickets (`received` events, `mesa inbox`).
    pub customer_replies: u64,
    /// Tickets whose latest customer email no agent has acted on yet.
    pub unread_replies: u64,
    /// Wall-clock time from a customer email to the desk's next step on the ticket.
    pub reply_action_minutes_mean: Option<f64>,
    pub reply_action_minutes_median: Option<f64>,
    /// The rates of `ROWS` in percent (`None` when there is nothing to divide by).
    pub response_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub first_contact_rate: Option<f64>,
    pub reopen_rate: Option<f64>,
    pub call_rate: Option<f64>,
    #[serde(skip)]
    respond_samples: Vec<i64>,
    #[serde(skip)]
    resolve_samples: Vec<i64>,
    #[serde(skip)]
    reply_action_samples: Vec<i64>,
}

impl Figures {
    /// The counters of one ticket's figures, in a fixed order (for the facts cache).
    fn counts(&self) -> Vec<u64> {
        let c = |x: &Compliance| {
            [
                x.met,
                x.met_after_extension,
                x.breached,
                x.open_on_time,
                x.open_breached,
                x.no_target,
            ]
        };
        let mut v = Vec::with_capacity(41);
        v.extend([self.tickets, self.open, self.closed]);
        v.extend(c(&self.response));
        v.extend(c(&self.resolution));
        v.extend([self.at_risk, self.open_breached]);
        v.extend(self.backlog);
        v.push(self.escalated_tickets);
        v.extend(self.escalations_to);
        v.extend([
            self.reached_level5,
            self.closed_solved,
            self.first_contact,
            self.resolved_once,
            self.reopened,
            self.closed_by_silence,
            self.solutions_sent,
            self.solutions_called,
            self.quotes_sent,
            self.quotes_accepted,
            self.quotes_declined,
            self.customer_replies,
            self.unread_replies,
        ]);
        v
    }

    /// The figures back from [`Figures::counts`] (`None` when the list has another length).
    fn from_counts(s: &Settled) -> Option<Figures> {
        Figures::from_parts(
            &s.counts,
            s.respond.clone(),
            s.resolve.clone(),
            s.reply_action.clone(),
        )
    }

    /// The figures from their counts and samples.
    fn from_parts(
        v: &[u64],
        respond: Vec<i64>,
        resolve: Vec<i64>,
        reply_action: Vec<i64>,
    ) -> Option<Figures> {
        if v.len() != 41 {
            return None;
        }
        let c = |s: &[u64]| Compliance {
            met: s[0],
            met_after_extension: s[1],
            breached: s[2],
            open_on_time: s[3],
            open_breached: s[4],
            no_target: s[5],
        };
        let five = |s: &[u64]| [s[0], s[1], s[2], s[3], s[4]];
        Some(Figures {
            tickets: v[0],
            open: v[1],
            closed: v[2],
            response: c(&v[3..9]),
            resolution: c(&v[9..15]),
            at_risk: v[15],
            open_breached: v[16],
            backlog: five(&v[17..22]),
            escalated_tickets: v[22],
            escalations_to: five(&v[23..28]),
            reached_level5: v[28],
            closed_solved: v[29],
            first_contact: v[30],
            resolved_once: v[31],
            reopened: v[32],
            closed_by_silence: v[33],
            solutions_sent: v[34],
            solutions_called: v[35],
            quotes_sent: v[36],
            quotes_accepted: v[37],
            quotes_declined: v[38],
            customer_replies: v[39],
            unread_replies: v[40],
            respond_samples: respond,
            resolve_samples: resolve,
            reply_action_samples: reply_action,
            ..Figures::default()
        })
    }

    fn add(&mut self, o: &Figures) {
        self.tickets += o.tickets;
        self.open += o.open;
        self.closed += o.closed;
        self.response.add(&o.response);
        self.resolution.add(&o.resolution);
        self.at_risk += o.at_risk;
        self.open_breached += o.open_breached;
        for i in 0..5 {
            self.backlog[i] += o.backlog[i];
            self.escalations_to[i] += o.escalations_to[i];
        }
        self.escalated_tickets += o.escalated_tickets;
        self.reached_level5 += o.reached_level5;
        self.closed_solved += o.closed_solved;
        self.first_contact += o.first_contact;
        self.resolved_once += o.resolved_once;
        self.reopened += o.reopened;
        self.closed_by_silence += o.closed_by_silence;
        self.solutions_sent += o.solutions_sent;
        self.solutions_called += o.solutions_called;
        self.quotes_sent += o.quotes_sent;
        self.quotes_accepted += o.quotes_accepted;
        self.quotes_declined += o.quotes_declined;
        self.respond_samples.extend_from_slice(&o.respond_samples);
        self.resolve_samples.extend_from_slice(&o.resolve_samples);
        self.customer_replies += o.customer_replies;
        self.unread_replies += o.unread_replies;
        self.reply_action_samples
            .extend_from_slice(&o.reply_action_samples);
    }

    fn finish(&mut self) {
        (self.respond_minutes_mean, self.respond_minutes_median) =
            mean_median(&mut self.respond_samples);
        (self.resolve_minutes_mean, self.resolve_minutes_median) =
            mean_median(&mut self.resolve_samples);
        (
            self.reply_action_minutes_mean,
            self.reply_action_minutes_median,
        ) = mean_median(&mut self.reply_action_samples);
        self.response_rate = self.response.rate();
        self.resolution_rate = self.resolution.rate();
        self.first_contact_rate = self.first_contact_rate();
        self.reopen_rate = self.reopen_rate();
        self.call_rate = self.call_rate();
    }

    /// First-contact resolution rate in percent.
    pub fn first_contact_rate(&self) -> Option<f64> {
        (self.closed_solved > 0)
            .then(|| 100.0 * self.first_contact as f64 / self.closed_solved as f64)
    }

    /// Share of solution notices with the call recorded, in percent.
    pub fn call_rate(&self) -> Option<f64> {
        (self.solutions_sent > 0)
            .then(|| 100.0 * self.solutions_called as f64 / self.solutions_sent as f64)
    }

    /// Reopen rate in percent.
    pub fn reopen_rate(&self) -> Option<f64> {
        (self.resolved_once > 0).then(|| 100.0 * self.reopened as f64 / self.resolved_once as f64)
    }
}

/// Mean and median of working seconds, in minutes.
fn mean_median(v: &mut [i64]) -> (Option<f64>, Option<f64>) {
    if v.is_empty() {
        return (None, None);
    }
    v.sort_unstable();
    let n = v.len();
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n as f64 / 60.0;
    let median = if n % 2 == 1 {
        v[n / 2] as f64
    } else {
        (v[n / 2 - 1] as f64 + v[n / 2] as f64) / 2.0
    } / 60.0;
    (Some(mean), Some(median))
}

/// An open ticket at risk or breached, with who holds it.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Watch {
    pub id: String,
    pub title: String,
    pub clock: Clock,
    pub state: ClockState,
    pub assignee: Option<String>,
    pub level: u8,
    pub due: Option<String>,
    pub left_minutes: i64,
}

/// One ticket's contribution: its group key and figures (`tickets` = 1).
pub struct TicketFacts {
    pub key: String,
    pub figures: PackedFigures,
    pub watch: Vec<Watch>,
}

impl TicketFacts {
    /// Group key, figures and watch list, with the figures packed to be kept.
    fn packed((key, figures, watch): (String, Figures, Vec<Watch>)) -> TicketFacts {
        TicketFacts {
            key,
            figures: PackedFigures::pack(&figures),
            watch,
        }
    }
}

/// One ticket's [`Figures`], samples included, packed: a full build keeps one per ticket
/// until its reports are written (and `mesa serve` for good), and a ticket's figures are
/// mostly zeros and absent means: about 60 bytes packed against 600 as a [`Figures`] (600 MB
/// at a million tickets).
#[derive(Debug, Clone, PartialEq)]
pub struct PackedFigures(Box<[u8]>);

impl PackedFigures {
    pub fn pack(f: &Figures) -> PackedFigures {
        let samples = [
            &f.respond_samples[..],
            &f.resolve_samples[..],
            &f.reply_action_samples[..],
        ];
        PackedFigures(
            postcard::to_stdvec(&(f, samples))
                .unwrap_or_default()
                .into_boxed_slice(),
        )
    }

    /// The figures packed (postcard reads back what it wrote: the default is never reached).
    pub fn unpack(&self) -> Figures {
        let (mut f, [respond, resolve, reply]): (Figures, [Vec<i64>; 3]) =
            postcard::from_bytes(&self.0).unwrap_or_default();
        f.respond_samples = respond;
        f.resolve_samples = resolve;
        f.reply_action_samples = reply;
        f
    }
}

/// A [`TicketFacts`] as the site's build manifest keeps it: the figures with the samples
/// their JSON leaves out.
#[derive(Serialize)]
struct KeptFactsRef<'a> {
    key: &'a str,
    figures: &'a Figures,
    samples: [&'a [i64]; 3],
    watch: &'a [Watch],
}

#[derive(serde::Deserialize)]
struct KeptFacts {
    key: String,
    figures: Figures,
    samples: [Vec<i64>; 3],
    watch: Vec<Watch>,
}

impl Serialize for TicketFacts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let f = &self.figures.unpack();
        KeptFactsRef {
            key: &self.key,
            figures: f,
            samples: [
                &f.respond_samples,
                &f.resolve_samples,
                &f.reply_action_samples,
            ],
            watch: &self.watch,
        }
        .serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for TicketFacts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let KeptFacts {
            key,
            mut figures,
            samples: [respond, resolve, reply],
            watch,
        } = KeptFacts::deserialize(d)?;
        figures.respond_samples = respond;
        figures.resolve_samples = resolve;
        figures.reply_action_samples = reply;
        Ok(TicketFacts {
            key,
            figures: PackedFigures::pack(&figures),
            watch,
        })
    }
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub from: Option<String>,
    pub to: Option<String>,
    pub as_of: String,
    pub by: Option<By>,
    pub groups: BTreeMap<String, Figures>,
    pub total: Figures,
    pub watch: Vec<Watch>,
}

fn compliance_of(v: Option<&ClockView>) -> (Compliance, Option<i64>) {
    let mut c = Compliance::default();
    let Some(v) = v else {
        c.no_target = 1;
        return (c, None);
    };
    let has_target = v.target.is_some() || is_planned(v);
    if !has_target {
        c.no_target = 1;
    } else {
        match (v.stopped, v.state) {
            (true, ClockState::Breached) => c.breached = 1,
            (true, ClockState::MetAfterExtension) => c.met_after_extension = 1,
            (true, _) => c.met = 1,
            (false, ClockState::Breached) => c.open_breached = 1,
            (false, _) => c.open_on_time = 1,
        }
    }
    (c, v.stopped.then_some(v.used_seconds))
}

fn is_planned(v: &ClockView) -> bool {
    v.clock == Clock::Resolution && v.target.is_none() && v.due.is_some()
}

/// Who a watched clock belongs to.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Who {
    id: String,
    title: String,
    assignee: Option<String>,
    level: u8,
}

impl Who {
    fn of(front: &TicketFront, w: &sla::Walk) -> Who {
        Who {
            id: front.id.clone(),
            title: front.title.clone(),
            assignee: w.state.assignee.clone(),
            level: w.state.level,
        }
    }
}

/// The facts of one ticket as of `as_of`, figures packed to be kept.
pub fn ticket_facts(
    desk: &Desk,
    cals: &Calendars,
    front: &TicketFront,
    by: Option<By>,
    as_of: DateTime<Utc>,
    tz: Tz,
) -> TicketFacts {
    TicketFacts::packed(ticket_figures(desk, cals, front, by, as_of, tz))
}

/// [`ticket_facts`] unpacked: group key, figures, watch list.
fn ticket_figures(
    desk: &Desk,
    cals: &Calendars,
    front: &TicketFront,
    by: Option<By>,
    as_of: DateTime<Utc>,
    tz: Tz,
) -> (String, Figures, Vec<Watch>) {
    let w = sla::walk(desk, front, as_of);
    let views = sla::clocks_of_walk_brief(desk, cals, &w, as_of);
    figures_walked(front, &w, &views, by, as_of, tz)
}

/// [`ticket_figures`] from the log already walked up to `as_of` and its clocks then.
fn figures_walked(
    front: &TicketFront,
    w: &sla::Walk,
    views: &[ClockView],
    by: Option<By>,
    as_of: DateTime<Utc>,
    tz: Tz,
) -> (String, Figures, Vec<Watch>) {
    let open = w.state.status() != Status::Closed;
    let fixed = log_figures(front, w, as_of);
    let (figures, watch) = clock_figures(fixed, views, open, w.created, as_of, &Who::of(front, w));
    (group_key(by, front, w, tz), figures, watch)
}

/// What the facts cache keeps of a ticket whose last event is `last`, evaluated after it:
/// its settled figures when it is closed with every clock stopped, else what its log fixes
/// (the clocks' inputs, the log's figures, its groups), its clocks evaluated at each report's
/// instant.
fn record_of(
    desk: &Desk,
    cals: &Calendars,
    front: &TicketFront,
    last: DateTime<Utc>,
    tz: Tz,
) -> ReportFacts {
    let w = sla::walk(desk, front, last);
    let Some(keys) = all_keys(front, &w, tz) else {
        return ReportFacts::Live;
    };
    let open = w.state.status() != Status::Closed;
    let fixed = log_figures(front, &w, last);
    let created_ns = front.events.first().map_or(i64::MIN, |e| nanos(e.at.utc()));
    let since_ns = nanos(last);
    let inputs = sla::ClockInputs::of(desk, &w);
    let who = Who::of(front, &w);
    if !open {
        let views = sla::clocks_of_inputs_brief(desk, cals, &inputs, last);
        if views.iter().all(|v| v.stopped) {
            let (f, _) = clock_figures(fixed, &views, open, inputs.created, last, &who);
            return ReportFacts::Settled(Settled {
                created_ns,
                since_ns,
                counts: f.counts(),
                respond: f.respond_samples,
                resolve: f.resolve_samples,
                reply_action: f.reply_action_samples,
                keys,
            });
        }
    }
    ReportFacts::Open(Box::new(Open {
        created_ns,
        since_ns,
        counts: fixed.counts(),
        reply_action: fixed.reply_action_samples,
        open,
        who,
        inputs,
        keys,
    }))
}

/// The ticket's group under every `--by` ([`By::ALL`] order), joined by [`KEY_SEPARATOR`];
/// `None` when a group holds the separator (hostile input: the ticket stays live).
fn all_keys(front: &TicketFront, w: &sla::Walk, tz: Tz) -> Option<String> {
    let keys: Vec<String> = By::ALL
        .iter()
        .map(|b| group_key(Some(*b), front, w, tz))
        .collect();
    (!keys.iter().any(|k| k.contains(KEY_SEPARATOR))).then(|| keys.join(KEY_SEPARATOR))
}

/// The figures a ticket's log fixes once walked up to `as_of`: counts of events and states,
/// and the reply samples; not the clocks' figures nor the backlog ([`clock_figures`]).
fn log_figures(front: &TicketFront, w: &sla::Walk, as_of: DateTime<Utc>) -> Figures {
    let state = &w.state;
    let open = state.status() != Status::Closed;
    let mut f = Figures {
        tickets: 1,
        ..Figures::default()
    };
    if open {
        f.open = 1;
    } else {
        f.closed = 1;
    }
    // Escalations, solutions, reopenings and quotes, from the log up to as_of (`mesa check`
    // proves the log replays through the workflow).
    let mut escalated = false;
    let mut resolved = false;
    let mut last_quote = false;
    // The first customer email the desk has not acted on since.
    let mut waiting: Option<DateTime<Utc>> = None;
    let mut uncalled_solution = false;
    for ev in front.events.iter().take_while(|e| e.at.utc() <= as_of) {
        // Read as `mesa list --unread` reads it (`workflow::reply_effect`); an answer applied
        // from the email needs no agent, so it ends the wait without a sample.
        match workflow::reply_effect(ev) {
            Some(true) => {
                f.customer_replies += 1;
                waiting.get_or_insert(ev.at.utc());
            }
            Some(false) => {
                if let Some(since) = waiting.take() {
                    if ev.by != workflow::CUSTOMER {
                        f.reply_action_samples
                            .push((ev.at.utc() - since).num_seconds().max(0));
                    }
                }
            }
            None => {}
        }
        match ev.event {
            EventKind::Escalated => {
                if let Some(l) = ev.level.filter(|l| (1..=5).contains(l)) {
                    f.escalations_to[l as usize - 1] += 1;
                    escalated = true;
                }
            }
            EventKind::Resolved => {
                resolved = true;
                f.solutions_sent += 1;
                uncalled_solution = true;
            }
            EventKind::Called if uncalled_solution => {
                f.solutions_called += 1;
                uncalled_solution = false;
            }
            EventKind::Proposed => {
                last_quote = ev.amount.is_some();
                if last_quote {
                    f.quotes_sent += 1;
                }
            }
            EventKind::Accepted if last_quote => f.quotes_accepted += 1,
            EventKind::Declined if last_quote => f.quotes_declined += 1,
            _ => {}
        }
    }
    f.unread_replies = waiting.is_some() as u64;
    f.escalated_tickets = escalated as u64;
    f.reached_level5 = (state.level >= 5) as u64;
    f.resolved_once = resolved as u64;
    f.reopened = (state.reopened > 0) as u64;
    let solved_close = matches!(
        state.close_reason,
        Some(CloseReason::Confirmed | CloseReason::AutoConfirmed)
    ) || (state.close_reason == Some(CloseReason::MutualAgreement) && resolved);
    if !open && solved_close {
        f.closed_solved = 1;
        if !escalated && state.level == 1 {
            f.first_contact = 1;
        }
    }
    f.closed_by_silence = (state.close_reason == Some(CloseReason::AutoConfirmed)) as u64;
    f
}

/// The figures that change with the instant, added to a ticket's [`log_figures`]: the
/// backlog's age, the clocks' compliance and risk, the clocks to watch.
fn clock_figures(
    mut f: Figures,
    views: &[ClockView],
    open: bool,
    created: Option<DateTime<Utc>>,
    as_of: DateTime<Utc>,
    who: &Who,
) -> (Figures, Vec<Watch>) {
    let response = views.iter().find(|v| v.clock == Clock::Response);
    let resolution = views.iter().find(|v| v.clock == Clock::Resolution);
    if open {
        let age = created.map(|c| (as_of - c).num_seconds()).unwrap_or(0);
        let day = 86_400;
        let bucket = match age {
            a if a < day => 0,
            a if a < 3 * day => 1,
            a if a < 7 * day => 2,
            a if a < 30 * day => 3,
            _ => 4,
        };
        f.backlog[bucket] = 1;
    }
    let (rc, respond) = compliance_of(response);
    f.response = rc;
    if let Some(s) = respond {
        f.respond_samples.push(s);
    }
    let (sc, _) = compliance_of(resolution);
    f.resolution = sc;
    let mut watch = Vec::new();
    for v in views {
        if !v.stopped && matches!(v.state, ClockState::AtRisk | ClockState::Breached) {
            watch.push(Watch {
                id: who.id.clone(),
                title: who.title.clone(),
                clock: v.clock,
                state: v.state,
                assignee: who.assignee.clone(),
                level: who.level,
                due: v.due.map(|d| d.to_rfc3339()),
                left_minutes: v.left_minutes,
            });
        }
    }
    if watch.iter().any(|w| w.state == ClockState::AtRisk) {
        f.at_risk = 1;
    }
    if watch.iter().any(|w| w.state == ClockState::Breached) {
        f.open_breached = 1;
    }
    if f.closed_solved == 1 {
        if let Some(v) = resolution {
            f.resolve_samples.push(v.used_seconds);
        }
    }
    (f, watch)
}

/// The group a ticket falls in.
fn group_key(by: Option<By>, front: &TicketFront, w: &sla::Walk, tz: Tz) -> String {
    let state = &w.state;
    match by {
        None => String::new(),
        Some(By::Priority) => state.priority.clone().unwrap_or_else(|| "-".into()),
        Some(By::Request) => state.request.clone().unwrap_or_else(|| "-".into()),
        Some(By::Incident) => state.incident.clone().unwrap_or_else(|| "-".into()),
        // A case from an unknown sender has no customer yet (awaiting triage).
        Some(By::Customer) if front.customer.is_empty() => "-".into(),
        Some(By::Customer) => front.customer.clone(),
        Some(By::Agent) => state.assignee.clone().unwrap_or_else(|| "-".into()),
        Some(By::Level) => state.level.to_string(),
        Some(By::Channel) => front.channel.clone(),
        Some(By::Month) => w
            .created
            .map(|c| c.with_timezone(&tz).format("%Y-%m").to_string())
            .unwrap_or_else(|| "-".into()),
    }
}

fn nanos(t: DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(i64::MAX)
}

/// What the facts cache ([`crate::output::facts`]) keeps of a ticket for reports: the figures
/// of a settled one, which hold for every instant from its last event on; what the log of
/// any other fixes ([`Open`]); nothing for a ticket whose groups cannot be kept.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum ReportFacts {
    Live,
    Settled(Settled),
    Open(Box<Open>),
}

/// What an unsettled ticket's log fixes, for any instant from its last event on: its clocks
/// are evaluated from `inputs` at the report's instant ([`clock_figures`]).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Open {
    created_ns: i64,
    since_ns: i64,
    /// [`log_figures`] as [`Figures::counts`], and its reply samples.
    counts: Vec<u64>,
    reply_action: Vec<i64>,
    open: bool,
    who: Who,
    inputs: sla::ClockInputs,
    keys: String,
}

/// A settled ticket's figures, with its group under each `--by` ([`By::ALL`] order).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Settled {
    created_ns: i64,
    since_ns: i64,
    counts: Vec<u64>,
    respond: Vec<i64>,
    resolve: Vec<i64>,
    reply_action: Vec<i64>,
    /// The groups, joined by [`KEY_SEPARATOR`] (one allocation instead of seven).
    keys: String,
}

/// Between a settled ticket's groups: a control character no id, name or month holds.
const KEY_SEPARATOR: &str = "\u{1f}";

/// Builds the report over `tickets` created in `[from, to)`, as of `min(to, now)`.
pub fn build(
    desk: &Desk,
    cals: &Calendars,
    tickets: &[TicketFront],
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    by: Option<By>,
    now: DateTime<Utc>,
) -> Report {
    let p = Period::new(desk, from, to, by, now);
    let acc = tickets
        .par_iter()
        .fold(Acc::default, |acc, t| acc.with(&p, desk, cals, t))
        .reduce(Acc::default, Acc::merge);
    p.finish(acc)
}

/// One ticket's facts for a report over every ticket as of `now` (`None` when that report
/// leaves it out), from a walk of its own. The build uses [`facts_of_walk`] (one walk per
/// ticket for all its uses); `tests/site_walk.rs` checks the two agree.
pub fn facts_of(
    desk: &Desk,
    cals: &Calendars,
    front: &TicketFront,
    by: Option<By>,
    now: DateTime<Utc>,
) -> Option<TicketFacts> {
    let p = Period::new(desk, None, None, by, now);
    p.covers(front)
        .then(|| ticket_facts(desk, cals, front, by, p.as_of, p.tz))
}

/// [`facts_of`] from the log already walked up to `now` ([`sla::walk`]) and its clocks at
/// that instant (their `why` is not read): a build walks each log once for all its uses.
pub fn facts_of_walk(
    desk: &Desk,
    front: &TicketFront,
    w: &sla::Walk,
    views: &[ClockView],
    by: Option<By>,
    now: DateTime<Utc>,
) -> Option<TicketFacts> {
    let p = Period::new(desk, None, None, by, now);
    p.covers(front)
        .then(|| TicketFacts::packed(figures_walked(front, w, views, by, p.as_of, p.tz)))
}

/// The report over every ticket from facts kept from [`facts_of`], in ticket order: the same
/// report [`build`] makes from those tickets, without evaluating them again.
pub fn build_from_facts<'a>(
    desk: &Desk,
    facts: impl IntoIterator<Item = &'a TicketFacts>,
    by: Option<By>,
    now: DateTime<Utc>,
) -> Report {
    let p = Period::new(desk, None, None, by, now);
    let mut acc = Acc::default();
    for f in facts {
        let figures = f.figures.unpack();
        acc.total.add(&figures);
        if by.is_some() {
            acc.groups.entry(f.key.clone()).or_default().add(&figures);
        }
        acc.watch.extend(f.watch.iter().cloned());
    }
    p.finish(acc)
}

/// Builds the report straight from the desk's ticket files, parsing and evaluating each in
/// parallel without keeping the tickets in memory. Unreadable tickets come back as
/// diagnostics (and are left out). A ticket whose file is unchanged and whose figures were
/// settled before the report's instant comes from the facts cache ([`crate::output::facts`]).
/// `entries`: the desk's ticket entries when already listed
/// ([`crate::model::scan::ticket_entries`]: `mesa report` lists them while the desk loads);
/// `None` lists them here.
pub fn build_from_files(
    desk: &Desk,
    cals: &Calendars,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    by: Option<By>,
    now: DateTime<Utc>,
    entries: Option<Vec<crate::model::scan::Entry>>,
) -> (Report, Vec<crate::model::diag::Diagnostic>) {
    let entries = entries.unwrap_or_else(|| crate::model::scan::ticket_entries(&desk.root));
    use crate::model::scan::Reader;
    use crate::output::facts::{self, Cache};
    let p = Period::new(desk, from, to, by, now);
    let root = &desk.root;
    let cache = Cache::<ReportFacts>::open(root, "report", facts::stamp(desk, "report"));
    let as_of = nanos(p.as_of);
    let by_index = by.and_then(|b| By::ALL.iter().position(|x| *x == b));
    // Per ticket in scan order: whether the scan's stat may key its record (when it has
    // one), and what the next cache keeps of it: the old record or a new one. Small, so
    // that 100,000 of them are cheap to gather from the workers.
    type Seen = (u32, bool, Option<u32>, Option<Box<ReportFacts>>);
    let (mut acc, seen) = entries
        .par_iter()
        .enumerate()
        .fold(
            || (Acc::default(), Vec::<Seen>::new(), Reader::default()),
            |(mut acc, mut seen, mut reader), (i, e)| {
                let rel = &e.rel;
                let at = i as u32;
                let old = e.stat.as_ref().and_then(|s| cache.get(i, e.key(), s));
                let kept = old.and_then(|o| cache.decode(o));
                let kept = match kept {
                    Some(ReportFacts::Settled(st)) if st.since_ns <= as_of => {
                        acc = acc.with_settled_owned(&p, st, by_index);
                        seen.push((at, true, old, None));
                        return (acc, seen, reader);
                    }
                    Some(ReportFacts::Open(o)) if o.since_ns <= as_of => {
                        acc = acc.with_open(&p, desk, cals, &o, by_index);
                        seen.push((at, true, old, None));
                        return (acc, seen, reader);
                    }
                    k => k,
                };
                let (text, read_stat) = reader.read(root, e);
                let parsed = text.and_then(|text| crate::model::ticket::parse(rel, &text));
                match parsed {
                    // Kept, but live (or settled after this report's instant): evaluated.
                    Ok(t) if kept.is_some() => {
                        acc = acc.with(&p, desk, cals, &t.front);
                        seen.push((at, true, old, None));
                    }
                    Ok(t) => {
                        let record;
                        (acc, record) = acc.with_facts(&p, desk, cals, &t.front, by_index);
                        seen.push((at, read_stat.is_some(), None, Some(Box::new(record))));
                    }
                    Err(mut d) => {
                        d.path = rel.clone();
                        acc.diags.push(d);
                        seen.push((at, true, None, Some(Box::new(ReportFacts::Live))));
                    }
                }
                (acc, seen, reader)
            },
        )
        .map(|(acc, seen, _)| (acc, seen))
        .reduce(
            || (Acc::default(), Vec::new()),
            |(a, mut sa), (b, sb)| {
                sa.extend(sb);
                (a.merge(b), sa)
            },
        );
    // Rewritten when a ticket was derived again (not merely evaluated live) or one went away.
    let stat_of = |(i, keep, ..): &Seen| entries[*i as usize].stat.as_ref().filter(|_| *keep);
    let derived_again = seen.iter().any(|s| stat_of(s).is_some() && s.3.is_some());
    let cacheable = seen.iter().filter(|s| stat_of(s).is_some()).count();
    // The next cache is written on another thread while the report is finished.
    std::thread::scope(|scope| {
        if derived_again || cacheable != cache.len() {
            scope.spawn(|| {
                let mut seen = seen;
                seen.sort_by_key(|s| s.0);
                cache.save(seen.iter().filter_map(|s| {
                    let next = match (&s.3, s.2) {
                        (Some(r), _) => facts::Next::New(&**r),
                        (None, Some(o)) => facts::Next::Old(o),
                        (None, None) => return None,
                    };
                    Some((entries[s.0 as usize].key(), stat_of(s)?, next))
                }));
            });
        }
        let mut diags = std::mem::take(&mut acc.diags);
        diags.sort();
        (p.finish(acc), diags)
    })
}

/// What a report covers.
struct Period {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    as_of: DateTime<Utc>,
    by: Option<By>,
    tz: Tz,
}

impl Period {
    fn new(
        desk: &Desk,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        by: Option<By>,
        now: DateTime<Utc>,
    ) -> Period {
        Period {
            from,
            to,
            as_of: to.map_or(now, |t| t.min(now)),
            by,
            tz: desk.config.tz(),
        }
    }

    /// Whether a ticket was created in the period (and before the evaluated instant).
    fn covers(&self, t: &TicketFront) -> bool {
        let Some(c) = t.events.first().map(|e| e.at.utc()) else {
            return false;
        };
        self.from.is_none_or(|f| c >= f) && self.to.is_none_or(|t| c < t) && c <= self.as_of
    }

    /// [`Period::covers`] for a ticket kept in the facts cache: its first event's instant.
    fn holds(&self, created_ns: i64) -> bool {
        created_ns != i64::MIN
            && self.from.is_none_or(|f| created_ns >= nanos(f))
            && self.to.is_none_or(|t| created_ns < nanos(t))
            && created_ns <= nanos(self.as_of)
    }

    fn finish(&self, acc: Acc) -> Report {
        let Acc {
            mut groups,
            mut total,
            mut watch,
            ..
        } = acc;
        for g in groups.values_mut() {
            g.finish();
        }
        total.finish();
        watch.sort_by(|a, b| a.due.cmp(&b.due).then(a.id.cmp(&b.id)));
        let tz = self.tz;
        Report {
            from: self.from.map(|f| {
                f.with_timezone(&tz)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
            }),
            to: self.to.map(|t| {
                t.with_timezone(&tz)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
            }),
            as_of: self
                .as_of
                .with_timezone(&tz)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            by: self.by,
            groups,
            total,
            watch,
        }
    }
}

/// Figures gathered so far by one worker.
#[derive(Default)]
struct Acc {
    groups: BTreeMap<String, Figures>,
    total: Figures,
    watch: Vec<Watch>,
    diags: Vec<crate::model::diag::Diagnostic>,
}

impl Acc {
    fn with(mut self, p: &Period, desk: &Desk, cals: &Calendars, t: &TicketFront) -> Acc {
        if p.covers(t) {
            let (key, figures, watch) = ticket_figures(desk, cals, t, p.by, p.as_of, p.tz);
            self.total.add(&figures);
            if p.by.is_some() {
                self.groups.entry(key).or_default().add(&figures);
            }
            self.watch.extend(watch);
        }
        self
    }

    /// [`Acc::with`], also returning what the facts cache keeps of the ticket. A ticket whose
    /// log ends by the report's instant is counted from that record, as a later run counts it.
    fn with_facts(
        self,
        p: &Period,
        desk: &Desk,
        cals: &Calendars,
        t: &TicketFront,
        by: Option<usize>,
    ) -> (Acc, ReportFacts) {
        let last = t.events.iter().map(|e| e.at.utc()).max();
        let record = match last {
            Some(l) => record_of(desk, cals, t, l, p.tz),
            None => ReportFacts::Live,
        };
        let acc = match (&record, last) {
            (ReportFacts::Settled(st), Some(l)) if l <= p.as_of => self.with_settled(p, st, by),
            (ReportFacts::Open(o), Some(l)) if l <= p.as_of => self.with_open(p, desk, cals, o, by),
            _ => self.with(p, desk, cals, t),
        };
        (acc, record)
    }

    /// Adds an unsettled ticket kept in the facts cache, its clocks evaluated at the report's
    /// instant.
    fn with_open(
        mut self,
        p: &Period,
        desk: &Desk,
        cals: &Calendars,
        o: &Open,
        by: Option<usize>,
    ) -> Acc {
        if !p.holds(o.created_ns) {
            return self;
        }
        let Some(fixed) =
            Figures::from_parts(&o.counts, Vec::new(), Vec::new(), o.reply_action.clone())
        else {
            return self;
        };
        let views = sla::clocks_of_inputs_brief(desk, cals, &o.inputs, p.as_of);
        let (f, watch) = clock_figures(fixed, &views, o.open, o.inputs.created, p.as_of, &o.who);
        self.count(&f, &o.keys, by);
        self.watch.extend(watch);
        self
    }

    /// Counts `f` in the total and, grouped `by` the `i`-th of the cached `keys`, its group.
    fn count(&mut self, f: &Figures, keys: &str, by: Option<usize>) {
        self.total.add(f);
        if let Some(i) = by {
            let key = keys.split(KEY_SEPARATOR).nth(i).unwrap_or_default();
            self.groups.entry(key.to_string()).or_default().add(f);
        }
    }

    /// Adds a settled ticket's figures from the facts cache.
    fn with_settled(mut self, p: &Period, s: &Settled, by: Option<usize>) -> Acc {
        if !p.holds(s.created_ns) {
            return self;
        }
        let Some(f) = Figures::from_counts(s) else {
            return self;
        };
        self.count(&f, &s.keys, by);
        self
    }

    /// [`Acc::with_settled`] of a record decoded for this run only: its samples are moved
    /// into the figures, not copied (a warm report adds 100,000 of them).
    fn with_settled_owned(mut self, p: &Period, s: Settled, by: Option<usize>) -> Acc {
        if !p.holds(s.created_ns) {
            return self;
        }
        let Some(f) = Figures::from_parts(&s.counts, s.respond, s.resolve, s.reply_action) else {
            return self;
        };
        self.count(&f, &s.keys, by);
        self
    }

    fn merge(mut self, other: Acc) -> Acc {
        self.total.add(&other.total);
        for (k, g) in other.groups {
            self.groups.entry(k).or_default().add(&g);
        }
        self.watch.extend(other.watch);
        self.diags.extend(other.diags);
        self
    }
}

/// A cell of the report: a count, or a measure that may be undefined (no tickets to measure).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell {
    Count(u64),
    Measure(Option<f64>),
}

/// Section headings and figure keys in the order they are shown.
pub enum Row {
    Section(&'static str),
    Figure(&'static str),
}

/// The figures, in order, with the section they belong to. Each key has a label
/// (`report.col.<key>`) and a definition (`report.def.<key>`) in the catalogs.
pub const ROWS: &[Row] = &[
    Row::Section("volume"),
    Row::Figure("tickets"),
    Row::Figure("open"),
    Row::Figure("closed"),
    Row::Section("response"),
    Row::Figure("response_met"),
    Row::Figure("response_met_after_extension"),
    Row::Figure("response_breached"),
    Row::Figure("response_open_on_time"),
    Row::Figure("response_open_breached"),
    Row::Figure("response_no_target"),
    Row::Figure("response_rate"),
    Row::Section("resolution"),
    Row::Figure("resolution_met"),
    Row::Figure("resolution_met_after_extension"),
    Row::Figure("resolution_breached"),
    Row::Figure("resolution_open_on_time"),
    Row::Figure("resolution_open_breached"),
    Row::Figure("resolution_no_target"),
    Row::Figure("resolution_rate"),
    Row::Section("risk"),
    Row::Figure("at_risk"),
    Row::Figure("open_breached"),
    Row::Section("backlog"),
    Row::Figure("backlog_lt_1d"),
    Row::Figure("backlog_d1_3"),
    Row::Figure("backlog_d3_7"),
    Row::Figure("backlog_d7_30"),
    Row::Figure("backlog_gt_30d"),
    Row::Section("escalation"),
    Row::Figure("escalated_tickets"),
    Row::Figure("escalations_to_2"),
    Row::Figure("escalations_to_3"),
    Row::Figure("escalations_to_4"),
    Row::Figure("escalations_to_5"),
    Row::Figure("reached_level5"),
    Row::Section("quality"),
    Row::Figure("closed_solved"),
    Row::Figure("first_contact"),
    Row::Figure("first_contact_rate"),
    Row::Figure("resolved_once"),
    Row::Figure("reopened"),
    Row::Figure("reopen_rate"),
    Row::Figure("closed_by_silence"),
    Row::Figure("solutions_sent"),
    Row::Figure("solutions_called"),
    Row::Figure("call_rate"),
    Row::Section("quotes"),
    Row::Figure("quotes_sent"),
    Row::Figure("quotes_accepted"),
    Row::Figure("quotes_declined"),
    Row::Section("times"),
    Row::Figure("respond_hours_mean"),
    Row::Figure("respond_hours_median"),
    Row::Figure("resolve_hours_mean"),
    Row::Figure("resolve_hours_median"),
    Row::Section("email"),
    Row::Figure("customer_replies"),
    Row::Figure("unread_replies"),
    Row::Figure("reply_action_hours_mean"),
    Row::Figure("reply_action_hours_median"),
];

/// The keys of every figure, in order.
pub fn figure_keys() -> impl Iterator<Item = &'static str> {
    ROWS.iter().filter_map(|r| match r {
        Row::Figure(k) => Some(*k),
        Row::Section(_) => None,
    })
}

impl Figures {
    /// The value of figure `key` (see [`ROWS`]).
    pub fn cell(&self, key: &str) -> Cell {
        use Cell::*;
        let c = |x: u64| Count(x);
        let hours = |m: Option<f64>| Measure(m.map(|m| m / 60.0));
        match key {
            "tickets" => c(self.tickets),
            "open" => c(self.open),
            "closed" => c(self.closed),
            "response_met" => c(self.response.met),
            "response_met_after_extension" => c(self.response.met_after_extension),
            "response_breached" => c(self.response.breached),
            "response_open_on_time" => c(self.response.open_on_time),
            "response_open_breached" => c(self.response.open_breached),
            "response_no_target" => c(self.response.no_target),
            "response_rate" => Measure(self.response.rate()),
            "resolution_met" => c(self.resolution.met),
            "resolution_met_after_extension" => c(self.resolution.met_after_extension),
            "resolution_breached" => c(self.resolution.breached),
            "resolution_open_on_time" => c(self.resolution.open_on_time),
            "resolution_open_breached" => c(self.resolution.open_breached),
            "resolution_no_target" => c(self.resolution.no_target),
            "resolution_rate" => Measure(self.resolution.rate()),
            "at_risk" => c(self.at_risk),
            "open_breached" => c(self.open_breached),
            "backlog_lt_1d" => c(self.backlog[0]),
            "backlog_d1_3" => c(self.backlog[1]),
            "backlog_d3_7" => c(self.backlog[2]),
            "backlog_d7_30" => c(self.backlog[3]),
            "backlog_gt_30d" => c(self.backlog[4]),
            "escalated_tickets" => c(self.escalated_tickets),
            "escalations_to_2" => c(self.escalations_to[1]),
            "escalations_to_3" => c(self.escalations_to[2]),
            "escalations_to_4" => c(self.escalations_to[3]),
            "escalations_to_5" => c(self.escalations_to[4]),
            "reached_level5" => c(self.reached_level5),
            "closed_solved" => c(self.closed_solved),
            "first_contact" => c(self.first_contact),
            "first_contact_rate" => Measure(self.first_contact_rate()),
            "resolved_once" => c(self.resolved_once),
            "reopened" => c(self.reopened),
            "reopen_rate" => Measure(self.reopen_rate()),
            "closed_by_silence" => c(self.closed_by_silence),
            "solutions_sent" => c(self.solutions_sent),
            "solutions_called" => c(self.solutions_called),
            "call_rate" => Measure(self.call_rate()),
            "quotes_sent" => c(self.quotes_sent),
            "quotes_accepted" => c(self.quotes_accepted),
            "quotes_declined" => c(self.quotes_declined),
            "respond_hours_mean" => hours(self.respond_minutes_mean),
            "respond_hours_median" => hours(self.respond_minutes_median),
            "resolve_hours_mean" => hours(self.resolve_minutes_mean),
            "resolve_hours_median" => hours(self.resolve_minutes_median),
            "customer_replies" => c(self.customer_replies),
            "unread_replies" => c(self.unread_replies),
            "reply_action_hours_mean" => hours(self.reply_action_minutes_mean),
            "reply_action_hours_median" => hours(self.reply_action_minutes_median),
            _ => Measure(None),
        }
    }
}

/// A figure as `mesa report` prints it: a count, or a measure with two decimals (`-` if none).
pub fn fmt_cell(c: Cell, decimal: char) -> String {
    match c {
        Cell::Count(n) => n.to_string(),
        Cell::Measure(None) => "-".into(),
        Cell::Measure(Some(x)) => format!("{x:.2}").replace('.', &decimal.to_string()),
    }
}

/// The group label of a key, for people: names from `desk.yaml` and the kb instead of ids, and
/// a word for the group of tickets without the key (`-`).
pub fn group_label(desk: &Desk, by: Option<By>, key: &str) -> String {
    let cfg = &desk.config;
    if key == "-" {
        return tr!("report.no_group");
    }
    let name = match by {
        Some(By::Level) => Some(tr!("report.level_n", n = key)),
        Some(By::Priority) => cfg.priority(key).map(|p| p.name.clone()),
        Some(By::Customer) => cfg.customer(key).map(|c| c.name.clone()),
        Some(By::Agent) => cfg.agent(key).map(|a| a.name.clone()),
        Some(By::Request) => desk.kb.request(key).map(|r| r.front.title.clone()),
        Some(By::Incident) => desk.kb.incident(key).map(|(_, i)| i.title.clone()),
        Some(By::Channel) => Some(crate::model::labels::channel(cfg, key)),
        Some(By::Month) | None => None,
    };
    name.unwrap_or_else(|| key.to_string())
}

/// The report as text: one row per figure, one column per group and the total.
pub fn render_text(desk: &Desk, r: &Report) -> String {
    let mut out = String::new();
    let from = r.from.clone().unwrap_or_else(|| tr!("report_period.start"));
    let to = r.to.clone().unwrap_or_else(|| tr!("report_period.end"));
    out.push_str(&tr!("report.header", from = from, to = to, as_of = r.as_of));
    if let Some(by) = r.by {
        out.push_str(&format!(
            " · {}",
            tr!(
                "report.by_label",
                by = tr!(&format!("report.by.{}", by.as_str()))
            )
        ));
    }
    out.push_str("\n\n");
    let mut cols: Vec<(String, &Figures)> = r
        .groups
        .iter()
        .map(|(k, f)| (group_label(desk, r.by, k), f))
        .collect();
    cols.push((tr!("report.total"), &r.total));
    let labels: Vec<String> = ROWS
        .iter()
        .map(|row| match row {
            Row::Section(s) => tr!(&format!("report.section.{s}")),
            Row::Figure(k) => format!("  {}", tr!(&format!("report.col.{k}"))),
        })
        .collect();
    let lw = labels.iter().map(|l| l.chars().count()).max().unwrap_or(10);
    let widths: Vec<usize> = cols
        .iter()
        .map(|(name, f)| {
            figure_keys()
                .map(|k| fmt_cell(f.cell(k), ',').chars().count())
                .chain([name.chars().count()])
                .max()
                .unwrap_or(1)
        })
        .collect();
    out.push_str(&" ".repeat(lw));
    for ((name, _), w) in cols.iter().zip(&widths) {
        out.push_str(&format!("  {name:>w$}"));
    }
    out.push('\n');
    for (row, label) in ROWS.iter().zip(&labels) {
        match row {
            Row::Section(_) => out.push_str(&format!("{label}\n")),
            Row::Figure(k) => {
                out.push_str(&format!("{label:<lw$}"));
                for ((_, f), w) in cols.iter().zip(&widths) {
                    out.push_str(&format!("  {:>w$}", fmt_cell(f.cell(k), ',')));
                }
                out.push('\n');
            }
        }
    }
    out.push('\n');
    out.push_str(&tr!("report.watch_title"));
    out.push('\n');
    if r.watch.is_empty() {
        out.push_str(&format!("  {}\n", tr!("report.watch_none")));
    }
    for w in &r.watch {
        let clock = match w.clock {
            Clock::Response => tr!("sla.clock.response"),
            Clock::Resolution => tr!("sla.clock.resolution"),
        };
        out.push_str(&format!(
            "  {}  {:<11} {:<14} {}  {}  {}  {}\n",
            w.id,
            clock,
            tr!(&format!("sla.state.{}", w.state.as_str())),
            w.assignee.clone().unwrap_or_else(|| "-".into()),
            tr!("report.level_n", n = w.level),
            w.due.clone().unwrap_or_else(|| "-".into()),
            w.title
        ));
    }
    out
}

/// The report as CSV ([`crate::output::csv`]: the convention of every CSV mesa writes): one line per
/// group and a total line, headers and group names in the desk's language. Open and breached
/// tickets are in the text and JSON outputs only.
pub fn render_csv(desk: &Desk, r: &Report) -> String {
    use crate::output::csv::{Cell as C, Csv};
    let mut header = vec![tr!("report.col.group")];
    header.extend(figure_keys().map(|k| tr!(&format!("report.col.{k}"))));
    let mut csv = Csv::new(&header);
    let mut rows: Vec<(String, &Figures)> = r
        .groups
        .iter()
        .map(|(k, f)| (group_label(desk, r.by, k), f))
        .collect();
    rows.push((tr!("report.total"), &r.total));
    for (name, f) in rows {
        let mut line = vec![C::Text(name)];
        line.extend(figure_keys().map(|k| match f.cell(k) {
            Cell::Count(n) => C::Int(n as i64),
            Cell::Measure(x) => C::dec(x, 2),
        }));
        csv.row(&line);
    }
    csv.finish()
}

/// Every figure's definition, one per line, in catalog `cat` (for `--help` and the docs).
pub fn definitions(cat: &crate::model::i18n::Catalog) -> String {
    let mut out = cat.get("report.def_intro");
    out.push('\n');
    for k in figure_keys() {
        out.push_str(&format!(
            "\n  {}: {}",
            cat.get(&format!("report.col.{k}")),
            cat.get(&format!("report.def.{k}"))
        ));
    }
    out.push_str("\n\n");
    out.push_str(&cat.get("report.trend_def_intro"));
    out.push('\n');
    for k in crate::output::trend::DEFINED {
        out.push_str(&format!(
            "\n  {}: {}",
            cat.get(&format!("report.trend_term.{k}")),
            cat.get(&format!("report.trend_def.{k}"))
        ));
    }
    out
}

/// The definitions for `mesa report --help`, in `MESA_LANG` or Spanish. Reads the catalog
/// without activating it (the desk's language is not known while arguments are parsed).
pub fn help_definitions() -> String {
    let lang = std::env::var("MESA_LANG").unwrap_or_else(|_| "es".into());
    definitions(&crate::model::i18n::Catalog::load(&lang, None))
}

/// Parses `--from` / `--to`: RFC 3339, or a date (`YYYY-MM-DD`) in the desk's zone, read as the
/// start of that day for `--from` and the end of it for `--to`.
pub fn parse_bound(s: &str, tz: Tz, end_of_day: bool) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Error::Usage(tr!("report.bad_bound", value = s)))?;
    let d = if end_of_day {
        d.succ_opt().unwrap_or(d)
    } else {
        d
    };
    Ok(crate::rules::calendar::local_instant(tz, d, 0))
}
