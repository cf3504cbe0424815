//! The names people read for the ids mesa stores (`in_progress` -> "En curso"), from the
//! message catalogs. Files, flags and JSON keep the ids; everything printed for a person goes
//! through here, so a label is defined once for the command line, the emails and the site.

use crate::model::kb::Complexity;
use crate::model::ticket::{CheckResult, Clock, CloseReason, EventKind, Status, TicketType};

fn label(key: &str, fallback: &str) -> String {
    crate::model::i18n::active()
        .all()
        .get(key)
        .cloned()
        .unwrap_or_else(|| fallback.to_string())
}

pub fn status(s: Status) -> String {
    label(&format!("site.status.{}", s.as_str()), s.as_str())
}

pub fn close_reason(r: CloseReason) -> String {
    label(&format!("site.close.{}", r.as_str()), r.as_str())
}

pub fn ticket_type(t: TicketType) -> String {
    let id = match t {
        TicketType::Incident => "incident",
        TicketType::Problem => "problem",
        TicketType::Request => "request",
    };
    label(&format!("site.type.{id}"), id)
}

pub fn check_result(r: Option<CheckResult>) -> String {
    let id = match r {
        Some(CheckResult::Done) => "done",
        Some(CheckResult::Failed) => "failed",
        Some(CheckResult::Na) => "na",
        None => "pending",
    };
    label(&format!("site.check.{id}"), id)
}

pub fn complexity(c: Complexity) -> String {
    let id = match c {
        Complexity::Low => "low",
        Complexity::Medium => "medium",
        Complexity::MediumHigh => "medium_high",
    };
    label(&format!("site.complexity.{id}"), id)
}

pub fn event(e: EventKind) -> String {
    label(&format!("site.event.{}", e.as_str()), e.as_str())
}

pub fn clock(c: Clock) -> String {
    match c {
        Clock::Response => label("show.clock_response", "response"),
        Clock::Resolution => label("show.clock_resolution", "resolution"),
    }
}

/// A clock state's id (`met`, `at_risk`, ...) as people read it.
pub fn clock_state(id: &str) -> String {
    label(&format!("sla.state.{id}"), id)
}

pub fn yes_no(b: bool) -> String {
    if b {
        label("cmd.yes", "yes")
    } else {
        label("cmd.no", "no")
    }
}

/// A channel's name from desk.yaml, else its id.
pub fn channel(config: &crate::model::desk::DeskConfig, id: &str) -> String {
    config
        .channel(id)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| id.to_string())
}
