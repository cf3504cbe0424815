//! Who sends a customer email, exactly once, when several clones and a scheduled runner hold
//! the same ticket (docs/mail.md, "The shared outbox").
//!
//! The queue travels with the ticket: the event that queues an email records its Message-ID,
//! and composition is deterministic, so any clone can build the message byte for byte from the
//! ticket in git. The sender records the delivery in the ticket as a `mailed` event (same
//! Message-ID) in one commit; the merge driver keeps every event of both sides, so once the
//! clones merge, every clone sees the delivery. [`send`] therefore:
//!
//! 1. moves to `outbox/sent/` (as delivered elsewhere) every queued message whose delivery a
//!    ticket already records: it is never sent again;
//! 2. with desk.yaml `mail.shared_since`, queues the emails tickets record from that day on and
//!    that are neither delivered nor in this clone's outbox (queued offline by another clone);
//! 3. delivers the outbox ([`crate::mail::outbox::send`]: its never-lost / possibly-sent rules
//!    are unchanged);
//! 4. records a `mailed` event for every message this clone delivered and no ticket records
//!    yet (including deliveries of an earlier run whose commit did not happen), one commit.
//!
//! Two senders that never see each other's commit before sending (two runners at the same
//! instant) could both send: the scheduled script holds a lease on the remote
//! (`scripts/mesa-scheduled.sh`) so runners send one at a time, each from the latest state.

use crate::mail::compose::{self, MailKind};
use crate::mail::outbox::{self, SendOptions};
use crate::model::diag::Result;
use crate::model::load::Desk;
use crate::model::ticket::{Event, EventKind, Stamp, Ticket};
use crate::rules::workflow;
use crate::store::git::Author;
use crate::tr;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashSet};

/// What [`send`] did.
#[derive(Debug, Default)]
pub struct Delivery {
    pub report: outbox::Report,
    /// Queued here from the tickets in git (another clone queued them).
    pub from_git: Vec<String>,
    /// Not sent: a ticket records that another clone delivered them.
    pub elsewhere: Vec<String>,
    /// Deliveries recorded in their tickets (`mailed` events) by this run.
    pub recorded: Vec<String>,
    pub commit: Option<git2::Oid>,
    /// Tickets whose delivery could not be recorded now (retried by the next run).
    pub errors: Vec<String>,
}

/// The shared-outbox send (see the module documentation). `commit`: record deliveries as a
/// git commit (else only the files are written).
pub fn send(
    desk: &Desk,
    now: Stamp,
    author: &Author,
    opts: SendOptions,
    commit: bool,
) -> Result<Delivery> {
    let mut out = Delivery::default();
    let (tickets, _) = crate::model::load::load_tickets(&desk.root);
    let mut states: BTreeMap<String, (Ticket, workflow::State)> = BTreeMap::new();
    for t in tickets {
        let customer = desk.config.customer(&t.front.customer);
        let (state, _) = workflow::replay(desk.rules(), customer, &t.front.events);
        states.insert(t.front.id.clone(), (t, state));
    }
    let delivered: HashSet<&str> = states
        .values()
        .flat_map(|(_, s)| s.delivered_mail.iter().map(String::as_str))
        .collect();

    // 1. Delivered elsewhere: never again.
    let (entries, _) = outbox::list(&desk.root);
    for e in &entries {
        if e.state != outbox::State::Delivered && delivered.contains(e.message.message_id.as_str())
        {
            outbox::delivered_elsewhere(&desk.root, e, now.utc())?;
            out.elsewhere.push(e.message.message_id.clone());
        }
    }

    // 2. The shared queue: emails recorded in git that nobody delivered yet.
    if let Some(since) = desk.config.mail.shared_since {
        let local: HashSet<String> = entries
            .iter()
            .map(|e| e.message.message_id.clone())
            .chain(
                outbox::sent(&desk.root)
                    .into_iter()
                    .map(|s| s.message.message_id),
            )
            .collect();
        for (t, state) in states.values() {
            for ev in &t.front.events {
                let (Some(id), Some(kind)) = (&ev.message_id, MailKind::for_event(ev)) else {
                    continue;
                };
                if ev.at.0.date_naive() < since
                    || state.delivered_mail.contains(id)
                    || local.contains(id)
                {
                    continue;
                }
                if let Some(msg) = compose::compose(desk, t, kind, ev)? {
                    if &msg.message_id != id {
                        out.errors.push(tr!(
                            "outbox.requeue_mismatch",
                            id = t.front.id,
                            recorded = id,
                            composed = msg.message_id
                        ));
                        continue;
                    }
                    compose::enqueue(&desk.root, &msg)?;
                    out.from_git.push(msg.message_id);
                }
            }
        }
    }

    // 3. Deliver.
    out.report = outbox::send(&desk.root, &desk.config.mail, now.utc(), opts)?;

    // 4. Record what this clone delivered and no ticket records yet. The desk lock is held
    // from here (not while talking to the SMTP server), and each ticket is read again under
    // it, so a step another command committed meanwhile is kept.
    let _lock = super::lock_desk(&desk.root, "mesa outbox send")?;
    let mut pending: BTreeMap<String, Vec<(String, DateTime<Utc>)>> = BTreeMap::new();
    for s in outbox::sent(&desk.root) {
        if s.elsewhere || !states.contains_key(&s.message.ticket) {
            continue;
        }
        pending
            .entry(s.message.ticket.clone())
            .or_default()
            .push((s.message.message_id, s.at.unwrap_or(now.utc())));
    }
    // A desk outside git (a bare folder) still gets the events, written without a commit.
    let repo = if commit {
        crate::store::git::open_repo(&desk.root).ok()
    } else {
        None
    };
    let commit = repo.is_some();
    let mut staged = Vec::new();
    for (id, sent) in pending {
        let Ok(t) = super::load_ticket(&desk.root, &id) else {
            continue;
        };
        let customer = desk.config.customer(&t.front.customer);
        let (state, _) = workflow::replay(desk.rules(), customer, &t.front.events);
        let last = t.front.events.last().map(|e| e.at.0);
        let mut events: Vec<Event> = sent
            .into_iter()
            .filter(|(m, _)| !state.delivered_mail.contains(m) && state.queued_mail.contains(m))
            .map(|(m, at)| {
                let when = super::in_desk_zone(desk, at);
                let when = last.map_or(when, |l| when.max(l));
                let mut ev = Event::new(Stamp(when), "mesa", EventKind::Mailed);
                ev.message_id = Some(m);
                ev
            })
            .collect();
        if events.is_empty() {
            continue;
        }
        if let Some(repo) = &repo {
            if let Err(e) = crate::store::git::ensure_clean(repo, &desk.root.join(&t.path)) {
                out.errors.push(format!("{id}: {e}"));
                continue;
            }
        }
        events.sort_by_key(|e| e.at);
        let ids: Vec<String> = events.iter().filter_map(|e| e.message_id.clone()).collect();
        match super::stage(desk, t, events) {
            Ok(st) => {
                out.recorded.extend(ids);
                staged.push(st);
            }
            Err(e) => out.errors.push(format!("{id}: {e}")),
        }
    }
    if !staged.is_empty() {
        let message = tr!("outbox.commit", count = out.recorded.len());
        let (oid, _) = super::record_batch(desk, staged, &message, author, commit)?;
        out.commit = oid;
    }
    Ok(out)
}
