//! `mesa sweep`, for cron or a CI schedule: the manual's closing loop and the SLA warnings.
//!
//! For every ticket whose solution notice went unanswered: after `sla.follow_up_after` (24 h)
//! a `reminded` event and reminder email, dated when the sweep sends it; once both
//! `sla.auto_close_after` (72 h) after the solution and `sla.auto_close_grace` (48 h) after
//! that reminder have passed, a `closed` event (`auto_confirmed`) and its notice, dated at that
//! instant. One run never does both for a ticket, so the close always follows a follow-up the
//! customer received, however late the sweep runs. A second run adds nothing: the workflow
//! refuses a second reminder for the same solution and a closed ticket has no deadline left.
//! (Run the sweep from one place, a cron job or CI: two clones sweeping the same ticket before
//! they sync would each send a reminder.) All the tickets a run changes go into one commit (one index rewrite, however
//! many tickets), the emails are queued after it. Running clocks that are at risk or breached
//! are listed.

use crate::model::diag::{Diagnostic, Result};
use crate::model::load::Desk;
use crate::model::ticket::{CloseReason, Event, EventKind, Stamp, Status};
use crate::rules::sla::{ClockState, ClockView};
use crate::rules::workflow;
use crate::store::git::Author;
use crate::tr;

/// Who the sweep's events are by.
pub const BY: &str = crate::rules::workflow::MESA;

/// What a sweep did and found.
#[derive(Debug, Default)]
pub struct SweepReport {
    /// Tickets that got their follow-up reminder.
    pub reminded: Vec<String>,
    /// Tickets closed as confirmed by silence.
    pub closed: Vec<String>,
    /// Running clocks at risk or breached, by ticket.
    pub warnings: Vec<(String, ClockView)>,
    /// Tickets left alone (uncommitted edits, refused events, mail not queued), with why.
    pub errors: Vec<String>,
    /// Ticket files that could not be read.
    pub unreadable: Vec<Diagnostic>,
    pub commit: Option<git2::Oid>,
}

/// The follow-up or the auto-close due for a ticket at `now`, given its replayed state; never
/// both in one run. The follow-up is dated when it is sent (now: a late sweep reminds now,
/// and the customer gets the full grace after it); the close at the first instant the
/// workflow allows it ([`workflow::auto_close_at`]), so a second run adds nothing.
pub fn due_events(desk: &Desk, now: Stamp, state: &workflow::State) -> Vec<Event> {
    let mut out = Vec::new();
    // A customer email after the solution that no agent has read holds the loop.
    if state.status() != Status::Resolved || workflow::closing_loop_on_hold(state) {
        return out;
    }
    let Some(resolved) = state.resolved_at else {
        return out;
    };
    let rules = desk.rules();
    let sla = &desk.config.sla;
    let last = state.last_at.unwrap_or(resolved).utc();
    let now = now.utc();
    if !state.reminded {
        if now >= workflow::wait_end(rules, state, resolved, sla.follow_up_after) {
            let at = Stamp(super::in_desk_zone(desk, now.max(last)));
            out.push(Event::new(at, BY, EventKind::Reminded));
        }
        return out;
    }
    if let Some(due) = workflow::auto_close_at(rules, state) {
        if now >= due {
            // Never before the log's last event: the log only moves forward.
            let at = Stamp(super::in_desk_zone(desk, due.max(last)));
            let mut ev = Event::new(at, BY, EventKind::Closed);
            ev.close_reason = Some(CloseReason::AutoConfirmed);
            out.push(ev);
        }
    }
    out
}

/// The author of a sweep's commit when no agent runs it (cron, CI).
pub fn bot_author(now: Stamp) -> Author {
    Author {
        name: "mesa".into(),
        email: "mesa@localhost".into(),
        at: now.0,
    }
}

/// Runs the sweep over the whole desk at `now`: one commit for every ticket it changes.
pub fn sweep(desk: &Desk, now: Stamp, author: &Author, commit: bool) -> Result<SweepReport> {
    let _lock = super::lock_desk(&desk.root, "mesa sweep")?;
    let mut report = SweepReport::default();
    let (mut tickets, unreadable) = crate::model::load::load_tickets(&desk.root);
    report.unreadable = unreadable;
    let (cals, _) = crate::rules::calendar::Calendars::new(desk);
    let repo = if commit {
        Some(crate::store::git::open_repo(&desk.root)?)
    } else {
        None
    };
    let mut staged = Vec::new();
    let mut lines = Vec::new();
    tickets.sort_by(|a, b| a.front.id.cmp(&b.front.id));
    for t in tickets {
        let customer = desk.config.customer(&t.front.customer);
        let (state, _) = workflow::replay(desk.rules(), customer, &t.front.events);
        if state.status().is_open() {
            for c in crate::rules::sla::clocks_with(desk, &cals, &t.front, now.utc()) {
                if matches!(c.state, ClockState::AtRisk | ClockState::Breached) {
                    report.warnings.push((t.front.id.clone(), c));
                }
            }
        }
        let events = due_events(desk, now, &state);
        if events.is_empty() {
            continue;
        }
        let id = t.front.id.clone();
        if let Some(repo) = &repo {
            // A ticket with uncommitted edits is left for the next run, not committed under
            // the sweep's name.
            if let Err(e) = crate::store::git::ensure_clean(repo, &desk.root.join(&t.path)) {
                report.errors.push(format!("{id}: {e}"));
                continue;
            }
        }
        let closes = events.iter().any(|e| e.event == EventKind::Closed);
        let reminds = events.iter().any(|e| e.event == EventKind::Reminded);
        match super::stage(desk, t, events) {
            Ok(st) => {
                let what = if closes {
                    tr!("sweep.what_closed")
                } else {
                    tr!("sweep.what_reminded")
                };
                lines.push(format!("{id}: {what}"));
                if reminds {
                    report.reminded.push(id.clone());
                }
                if closes {
                    report.closed.push(id.clone());
                }
                staged.push(st);
            }
            Err(e) => report.errors.push(format!("{id}: {e}")),
        }
    }
    if !staged.is_empty() {
        let message = if lines.len() == 1 {
            lines[0].clone()
        } else {
            format!(
                "{}\n\n{}\n",
                tr!(
                    "sweep.commit",
                    reminded = report.reminded.len(),
                    closed = report.closed.len()
                ),
                lines.join("\n")
            )
        };
        let (oid, mail_errors) = super::record_batch(desk, staged, &message, author, commit)?;
        report.commit = oid;
        report
            .errors
            .extend(mail_errors.into_iter().map(|e| e.to_string()));
    }
    Ok(report)
}
