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

use crate::cli::{Format, Global};
use crate::model::diag::Result;
use crate::model::ticket::{CloseReason, Event, EventKind, Stamp, Status};
use crate::rules::workflow;
use crate::steps::{self, Common, Ctx};
use crate::tr;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub common: Common,
}

/// Who the sweep's events are by.
pub const BY: &str = "mesa";

/// The follow-up and auto-close events due for a ticket at `now`, given its replayed state.
pub fn due_events(ctx: &Ctx, state: &workflow::State) -> Vec<Event> {
    let mut out = Vec::new();
    if state.status() != Status::Resolved {
        return out;
    }
    let Some(resolved) = state.resolved_at else {
        return out;
    };
    let sla = &ctx.desk.config.sla;
    let mut last = state.last_at.unwrap_or(resolved);
    let instant = |wait: crate::model::duration::Dur, last: Stamp| {
        let due = resolved.utc() + wait.to_chrono();
        // Never before the log's last event: the log only moves forward.
        let at = due.max(last.utc());
        Stamp(steps::in_desk_zone(&ctx.desk, at))
    };
    let now = ctx.now.utc();
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

/// `mesa sweep`.
pub fn run(global: &Global, a: SweepArgs) -> Result<ExitCode> {
    let ctx = Ctx::open(global)?;
    let desk = &ctx.desk;
    let author = match steps::actor(global, desk) {
        Ok(agent) => crate::store::git::Author {
            name: agent.name.clone(),
            email: agent.email.clone(),
            at: ctx.now.0,
        },
        Err(_) => crate::store::git::Author {
            name: "mesa".into(),
            email: "mesa@localhost".into(),
            at: ctx.now.0,
        },
    };
    let (tickets, load_diags) = crate::model::load::load_tickets(ctx.root());
    if !global.quiet {
        for d in &load_diags {
            eprintln!("{d}");
        }
    }
    let (cals, _) = crate::rules::calendar::Calendars::new(desk);
    let mut reminded = Vec::new();
    let mut closed = Vec::new();
    let mut warnings = Vec::new();
    let mut errors = Vec::new();
    let repo = if a.common.no_commit {
        None
    } else {
        Some(crate::store::git::open_repo(ctx.root())?)
    };
    let mut changes = Vec::new();
    let mut lines = Vec::new();
    let mut mail = Vec::new();
    let mut tickets = tickets;
    tickets.sort_by(|a, b| a.front.id.cmp(&b.front.id));
    for t in tickets {
        let customer = desk.config.customer(&t.front.customer);
        let (state, _) = workflow::replay(desk.rules(), customer, &t.front.events);
        if state.status().is_open() {
            for c in crate::rules::sla::clocks_with(desk, &cals, &t.front, ctx.now.utc()) {
                if matches!(
                    c.state,
                    crate::rules::sla::ClockState::AtRisk | crate::rules::sla::ClockState::Breached
                ) {
                    warnings.push((t.front.id.clone(), c));
                }
            }
        }
        let events = due_events(&ctx, &state);
        if events.is_empty() {
            continue;
        }
        let id = t.front.id.clone();
        let abs = ctx.root().join(&t.path);
        if let Some(repo) = &repo {
            // A ticket with uncommitted edits is left for the next run, not committed under
            // the sweep's name.
            if let Err(e) = crate::store::git::ensure_clean(repo, &abs) {
                errors.push(format!("{id}: {e}"));
                continue;
            }
        }
        let closes = events.iter().any(|e| e.event == EventKind::Closed);
        let reminds = events.iter().any(|e| e.event == EventKind::Reminded);
        match steps::stage(desk, t, events) {
            Ok(st) => {
                let what = if closes {
                    tr!("sweep.what_closed")
                } else {
                    tr!("sweep.what_reminded")
                };
                lines.push(format!("{id}: {what}"));
                if reminds {
                    reminded.push(id.clone());
                }
                if closes {
                    closed.push(id.clone());
                }
                changes.push(crate::store::git::Change {
                    path: abs,
                    contents: st.ticket.to_text().into_bytes(),
                });
                mail.push((id, st.outgoing));
            }
            Err(e) => errors.push(format!("{id}: {e}")),
        }
    }
    // One commit for the whole run: a sweep that closes many tickets rewrites the index once.
    if !changes.is_empty() {
        let message = if lines.len() == 1 {
            lines[0].clone()
        } else {
            format!(
                "{}\n\n{}\n",
                tr!(
                    "sweep.commit",
                    reminded = reminded.len(),
                    closed = closed.len()
                ),
                lines.join("\n")
            )
        };
        crate::store::git::write_and_commit(
            ctx.root(),
            &changes,
            &message,
            &author,
            !a.common.no_commit,
        )?;
        for (id, out) in &mail {
            if let Err(e) = steps::enqueue_all(desk, id, out) {
                errors.push(e.to_string());
            }
        }
    }
    let lang = crate::model::i18n::active().lang.clone();
    match global.format {
        Format::Json => {
            let w: Vec<serde_json::Value> = warnings
                .iter()
                .map(|(id, c)| serde_json::json!({"id": id, "clock": c.clock, "state": c.state, "due": serde_json::to_value(c).ok().and_then(|v| v.get("due").cloned())}))
                .collect();
            println!(
                "{}",
                serde_json::json!({"ok": errors.is_empty(), "reminded": reminded, "closed": closed, "warnings": w, "errors": errors})
            );
        }
        Format::Text => {
            for id in &reminded {
                println!("{}", tr!("sweep.reminded", id = id));
            }
            for id in &closed {
                println!("{}", tr!("sweep.closed", id = id));
            }
            for (id, c) in &warnings {
                let due = c
                    .due
                    .map(|d| crate::rules::sla::human_datetime(&d, &lang))
                    .unwrap_or_else(|| "-".into());
                let clock = steps::clock_name(c.clock);
                println!(
                    "{}",
                    tr!(
                        "sweep.warning",
                        id = id,
                        clock = clock,
                        state = c.state.as_str(),
                        due = due
                    )
                );
            }
            for e in &errors {
                eprintln!("{e}");
            }
            if !global.quiet {
                eprintln!(
                    "{}",
                    tr!(
                        "sweep.summary",
                        reminded = reminded.len(),
                        closed = closed.len(),
                        warnings = warnings.len()
                    )
                );
            }
        }
    }
    Ok(if errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
