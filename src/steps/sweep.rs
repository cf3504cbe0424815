//! `mesa sweep`, for cron or a CI schedule: the manual's closing loop and the SLA warnings.
//!
//! For every ticket whose solution notice went unanswered: after `sla.follow_up_after` (24 h)
//! a `reminded` event and reminder email; after `sla.auto_close_after` (72 h) a `closed` event
//! (`auto_confirmed`) and its notice. The events are made by `mesa` at exactly the solution
//! instant plus the wait (not at the time the sweep runs), so two clones that both swept write
//! identical events, which the merge driver keeps once; a second run adds nothing because the
//! workflow refuses a second reminder for the same solution and a closed ticket has no
//! deadline left. All the tickets a run changes go into one commit (one index rewrite, however
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
pub const BY: &str = "mesa";

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

/// The follow-up and auto-close events due for a ticket at `now`, given its replayed state.
pub fn due_events(desk: &Desk, now: Stamp, state: &workflow::State) -> Vec<Event> {
    let mut out = Vec::new();
    if state.status() != Status::Resolved {
        return out;
    }
    let Some(resolved) = state.resolved_at else {
        return out;
    };
    let sla = &desk.config.sla;
    let mut last = state.last_at.unwrap_or(resolved);
    let instant = |wait: crate::model::duration::Dur, last: Stamp| {
        let due = resolved.utc() + wait.to_chrono();
        // Never before the log's last event: the log only moves forward.
        let at = due.max(last.utc());
        Stamp(super::in_desk_zone(desk, at))
    };
    let now = now.utc();
    if !state.reminded && now >= resolved.utc() + sla.follow_up_after.to_chrono() {
        let at = instant(sla.follow_up_after, last);
        out.push(Event::new(at, BY, EventKind::Reminded));
        last = at;
    }
    if now >= resolved.utc() + sla.auto_close_after.to_chrono() {
        let mut ev = Event::new(instant(sla.auto_close_after, last), BY, EventKind::Closed);
        ev.close_reason = Some(CloseReason::AutoConfirmed);
        out.push(ev);
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
