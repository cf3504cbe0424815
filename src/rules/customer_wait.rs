//! The customer wait of Table 4: when a check owned by the customer's side (its IT, its
//! administrator: `playbook.owners[].customer: true` in desk.yaml) is recorded as failed, the
//! case waits on the customer. If the desk chooses so (`sla.pause_on_customer_checks: true`),
//! the clocks pause for that wait, like the other waits on the customer (proposal out,
//! solution out).
//!
//! The wait is in the log, as two events the steps record next to the act that causes them
//! (never typed by hand):
//! - `paused` (owner, check, reason), right after a `checked` event with result `failed` of a
//!   customer-side check, when the case is not already waiting;
//! - `resumed` (owner, check, reason), when the wait ends: right after the customer's act (the
//!   same check recorded `done` or `na`, or a customer email, `received`), right before a desk
//!   act that takes the case on without the customer (`started`, `escalated`, `resolved`,
//!   `closed`), or alone when an agent resumes it (`mesa resume`).
//!
//! The setting decides both whether a step records the wait and whether recorded waits pause
//! the clocks: like every other SLA setting, changing it recomputes every clock.

use crate::model::desk::Customer;
use crate::model::ticket::{CheckResult, Event, EventKind, Stamp, Status};
use crate::rules::workflow::{customer_owner, CustomerWait, Rules, State, CUSTOMER};
use crate::tr;

/// Desk acts that take the case on without the customer, ending a wait: documented in
/// docs/lifecycle.md.
fn ends_wait_before(ev: &Event) -> bool {
    ev.by != CUSTOMER
        && matches!(
            ev.event,
            EventKind::Started | EventKind::Escalated | EventKind::Resolved | EventKind::Closed
        )
}

fn wait_event(at: Stamp, by: &str, kind: EventKind, w: &CustomerWait, reason: String) -> Event {
    let mut e = Event::new(at, by, kind);
    e.owner = Some(w.owner.clone());
    e.check = Some(w.check.clone());
    e.reason = Some(reason);
    e
}

fn owner_name(rules: Rules, id: &str) -> String {
    rules
        .config
        .playbook
        .owners
        .iter()
        .find(|o| o.id == id)
        .map_or_else(|| id.to_string(), |o| o.name.clone())
}

/// The `resumed` event a step records before `ev` (applied to `state`): `ev` is a desk act
/// that ends the wait.
pub fn before(state: &State, ev: &Event) -> Option<Event> {
    let w = state.waiting.as_ref()?;
    if !ends_wait_before(ev) {
        return None;
    }
    let reason = tr!(
        "customer_wait.resumed_desk_act",
        event = crate::model::labels::event(ev.event)
    );
    Some(wait_event(ev.at, &ev.by, EventKind::Resumed, w, reason))
}

/// The event a step records right after `ev`, given the state after it: `paused` when `ev`
/// records a customer-side check as failed (and the desk pauses for it), `resumed` when `ev`
/// is the customer's act that ends the wait.
pub fn after(
    rules: Rules,
    customer: Option<&Customer>,
    state: &State,
    ev: &Event,
) -> Option<Event> {
    match (&state.waiting, ev.event) {
        (None, EventKind::Checked) => {
            if !rules.config.sla.pause_on_customer_checks || ev.result != Some(CheckResult::Failed)
            {
                return None;
            }
            if !matches!(state.status(), Status::Analysis | Status::InProgress) {
                return None;
            }
            let check = ev.check.as_deref()?;
            let (owner, c) = customer_owner(rules, customer, state, check)?;
            let w = CustomerWait {
                owner: owner.id.clone(),
                check: check.to_string(),
                since: ev.at,
            };
            let reason = tr!(
                "customer_wait.paused_reason",
                owner = owner.name,
                check = check,
                action = c.action.trim_end_matches('.').trim()
            );
            Some(wait_event(ev.at, &ev.by, EventKind::Paused, &w, reason))
        }
        (Some(w), EventKind::Checked)
            if ev.check.as_deref() == Some(w.check.as_str())
                && ev.result != Some(CheckResult::Failed) =>
        {
            let reason = tr!(
                "customer_wait.resumed_check",
                owner = owner_name(rules, &w.owner),
                check = w.check,
                result = crate::model::labels::check_result(ev.result)
            );
            Some(wait_event(ev.at, &ev.by, EventKind::Resumed, w, reason))
        }
        (Some(w), EventKind::Received) => {
            let reason = tr!("customer_wait.resumed_received");
            Some(wait_event(ev.at, CUSTOMER, EventKind::Resumed, w, reason))
        }
        _ => None,
    }
}

/// The `resumed` event an agent records by hand (`mesa resume`), with the agent's reason (the
/// workflow refuses it when the case waits on nothing).
pub fn resume_by_hand(state: &State, at: Stamp, by: &str, reason: String) -> Event {
    let mut e = Event::new(at, by, EventKind::Resumed);
    e.owner = state.waiting.as_ref().map(|w| w.owner.clone());
    e.check = state.waiting.as_ref().map(|w| w.check.clone());
    e.reason = Some(reason);
    e
}
