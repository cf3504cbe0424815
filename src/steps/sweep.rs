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

/// The follow-up or the auto-close due for a ticket at `now`, given its replayed state; never
/// both in one run. The follow-up is dated when it is sent (now: a late sweep reminds now,
/// and the customer gets the full grace after it); the close at the first instant the
/// workflow allows it ([`workflow::auto_close_at`]), so a second run adds nothing.
pub fn due_events(ctx: &Ctx, state: &workflow::State) -> Vec<Event> {
    let mut out = Vec::new();
    if state.status() != Status::Resolved {
        return out;
    }
    let Some(resolved) = state.resolved_at else {
        return out;
    };
    let rules = ctx.desk.rules();
    let sla = &ctx.desk.config.sla;
    let last = state.last_at.unwrap_or(resolved).utc();
    let now = ctx.now.utc();
    if !state.reminded {
        if now >= workflow::wait_end(rules, state, resolved, sla.follow_up_after) {
            let at = Stamp(steps::in_desk_zone(&ctx.desk, now.max(last)));
            out.push(Event::new(at, BY, EventKind::Reminded));
        }
        return out;
    }
    if let Some(due) = workflow::auto_close_at(rules, state) {
        if now >= due {
            // Never before the log's last event: the log only moves forward.
            let at = Stamp(steps::in_desk_zone(&ctx.desk, due.max(last)));
            let mut ev = Event::new(at, BY, EventKind::Closed);
            ev.close_reason = Some(CloseReason::AutoConfirmed);
            out.push(ev);
        }
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
