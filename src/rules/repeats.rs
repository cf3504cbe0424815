//! An act two offline clones both recorded. Agents work offline on the same cases; when two of
//! them record the same act (both take the case on, both see the customer's check fail, both
//! see the wait end), the merged log holds it twice, and the second would break the workflow
//! (the case is already in progress, already waiting, no longer waiting). As git-bug does with
//! concurrent operations, the log keeps both (a merge never loses history, and each may have
//! queued an email) and the replay counts the second as a repeat that changes nothing.
//!
//! A repeat is only the same act: the same kind and content (everything but who, when and the
//! email it queued) as the act that brought the case to its current status; a `paused` on the
//! check the case already waits on; a `resumed` right after a wait already ended. Acts that
//! differ (two different solutions, a close and a reopening, a pause on another check) still
//! break the rules and `mesa check` reports them for a supervisor: nothing is chosen silently.
//! Steps never record a repeat: they apply each new act with `workflow::apply`, which refuses
//! it; only `workflow::replay` asks here.

use crate::model::ticket::{Event, EventKind, Status};

/// What a repeat is compared with, kept while a log is replayed.
#[derive(Debug, Default, Clone, Copy)]
pub struct LastActs<'a> {
    /// The event that last changed the case's status.
    moved: Option<&'a Event>,
    /// The last `paused` or `resumed` event.
    wait: Option<&'a Event>,
}

impl<'a> LastActs<'a> {
    /// Remembers `ev`, which the workflow accepted, moving the case from `before` to `after`.
    pub fn accepted(&mut self, before: Option<Status>, after: Option<Status>, ev: &'a Event) {
        if after != before {
            self.moved = Some(ev);
        }
        if matches!(ev.event, EventKind::Paused | EventKind::Resumed) {
            self.wait = Some(ev);
        }
    }

    /// Whether `ev`, which the workflow refused, repeats an act already in effect; `waiting`
    /// is the (owner, check) the case waits on, if it does.
    pub fn repeats(&self, waiting: Option<(&str, &str)>, ev: &Event) -> bool {
        match ev.event {
            EventKind::Paused => waiting.is_some_and(|(owner, check)| {
                ev.owner.as_deref() == Some(owner) && ev.check.as_deref() == Some(check)
            }),
            EventKind::Resumed => {
                waiting.is_none() && self.wait.is_some_and(|w| w.event == EventKind::Resumed)
            }
            _ => self
                .moved
                .is_some_and(|m| m.event == ev.event && content(m) == content(ev)),
        }
    }
}

/// An event without who recorded it, when, and the email it queued.
fn content(ev: &Event) -> serde_json::Value {
    let mut v = serde_json::to_value(ev).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        for k in ["at", "by", "message_id"] {
            o.remove(k);
        }
    }
    v
}
