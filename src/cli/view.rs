//! Reading tickets: `mesa show` and `mesa list`.

use super::common::{clock_name, open_desk, Format, Global};
use crate::model::diag::Result;
use crate::model::labels;
use crate::model::ticket::{EventKind, Requester, Status};
use crate::output::site::fmt::Fmt;
use crate::rules::workflow;
use crate::steps;
use crate::tr;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub id: String,
}

#[derive(Debug, Args, Default)]
pub struct ListArgs {
    #[arg(long)]
    pub status: Vec<String>,
    #[arg(long)]
    pub priority: Vec<String>,
    #[arg(long)]
    pub level: Vec<u8>,
    #[arg(long)]
    pub customer: Vec<String>,
    #[arg(long)]
    pub assignee: Vec<String>,
    /// Only tickets with a breached SLA clock.
    #[arg(long)]
    pub breached: bool,
    /// Only tickets with a running clock due before this time (RFC 3339).
    #[arg(long)]
    pub due_before: Option<String>,
    /// Only open tickets.
    #[arg(long)]
    pub open: bool,
    /// Only the tickets assigned to the acting agent (`--agent` or git's user.email).
    #[arg(long)]
    pub mine: bool,
    /// Only tickets with a customer email no agent has acted on since (`mesa inbox`).
    #[arg(long)]
    pub unread: bool,
    /// Only tickets opened from email with no customer (unknown sender), awaiting triage.
    #[arg(long)]
    pub triage: bool,
    /// Order: due (nearest due time first, the default), priority, updated (latest first), id.
    #[arg(long, value_enum, default_value = "due")]
    pub sort: SortArg,
}

/// `mesa list --sort`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SortArg {
    #[default]
    Due,
    Priority,
    Updated,
    Id,
}

pub fn show(global: &Global, id: &str) -> Result<ExitCode> {
    let (desk, now) = open_desk(global)?;
    let t = steps::load_ticket(&desk.root, id)?;
    let f = &t.front;
    let rules = desk.rules();
    let customer = desk.config.customer(&f.customer);
    let (state, errors) = workflow::replay(rules, customer, &f.events);
    let next = workflow::next_steps(&f.id, rules, customer, &state);
    let applicable: Vec<&crate::model::kb::Check> = state
        .incident
        .as_deref()
        .map(|i| workflow::applicable_checks(rules, customer, i))
        .unwrap_or_default();
    let missing: Vec<String> = workflow::missing_checks(rules, customer, &state)
        .iter()
        .map(|c| c.id.clone())
        .collect();
    let clocks = crate::rules::sla::clocks(&desk, f, now.utc());
    let mailed = |m: &str| {
        f.events
            .iter()
            .any(|e| e.event == EventKind::Mailed && e.message_id.as_deref() == Some(m))
    };
    let emails: Vec<serde_json::Value> = f
        .events
        .iter()
        .filter(|e| e.event != EventKind::Mailed)
        .filter_map(|e| {
            e.message_id.as_ref().map(|m| {
                serde_json::json!({"at": e.at, "event": e.event, "message_id": m,
                                   "delivered": mailed(m)})
            })
        })
        .collect();
    let problems: Vec<String> = errors
        .iter()
        .map(|e| format!("events.{}: {}", e.event, e.message))
        .collect();
    match global.format {
        Format::Json => {
            let checks: Vec<serde_json::Value> = applicable
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "id": c.id, "action": c.action, "owner": c.owner, "level": c.level,
                        "result": state.checks.get(&c.id),
                    })
                })
                .collect();
            let mut v = serde_json::to_value(f).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                obj.insert("path".into(), serde_json::json!(t.path));
                obj.insert("description".into(), serde_json::json!(t.body));
                obj.insert("applicable_checks".into(), serde_json::json!(checks));
                obj.insert("missing_checks".into(), serde_json::json!(missing));
                obj.insert(
                    "clocks".into(),
                    serde_json::to_value(&clocks).unwrap_or_default(),
                );
                obj.insert("emails".into(), serde_json::json!(emails));
                obj.insert(
                    "solution_call".into(),
                    serde_json::json!(solution_call(&state)),
                );
                obj.insert("next".into(), serde_json::json!(next));
                obj.insert("problems".into(), serde_json::json!(problems));
            }
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        Format::Text => {
            let fmt = people_format(&desk);
            let mut out = String::new();
            let mut line = |l: String| {
                out.push_str(&l);
                out.push('\n');
            };
            line(format!("{} · {}", f.id, f.title));
            let cust = customer.map(|c| c.name.as_str()).unwrap_or(&f.customer);
            line(format!(
                "  {}",
                tr!(
                    "show.customer",
                    customer = cust,
                    requester = requester_line(&f.requester),
                    channel = labels::channel(&desk.config, &f.channel)
                )
            ));
            let kind = f
                .ticket_type
                .map(labels::ticket_type)
                .unwrap_or_else(|| "-".into());
            let entry = f
                .incident
                .as_deref()
                .and_then(|i| desk.kb.incident(i).map(|(_, inc)| inc.title.clone()))
                .or_else(|| {
                    f.request
                        .as_deref()
                        .and_then(|r| desk.kb.request(r).map(|e| e.front.title.clone()))
                })
                .or(f.incident.clone().or(f.request.clone()))
                .unwrap_or_else(|| "-".into());
            line(format!(
                "  {}",
                tr!("show.kind", kind = kind, entry = entry)
            ));
            let role = desk.config.level_role(f.level).unwrap_or("-");
            line(format!(
                "  {}",
                tr!(
                    "show.status",
                    status = labels::status(f.status),
                    level = f.level,
                    role = role,
                    assignee = f
                        .assignee
                        .as_deref()
                        .map(|a| agent_name(&desk, a))
                        .unwrap_or_else(|| "-".into()),
                    priority = f
                        .priority
                        .as_deref()
                        .map(|p| priority_name(&desk, p))
                        .unwrap_or_else(|| "-".into())
                )
            ));
            if let Some(r) = f.close_reason {
                line(format!(
                    "  {}",
                    tr!("show.close_reason", reason = labels::close_reason(r))
                ));
            }
            if !applicable.is_empty() {
                line(format!("  {}", tr!("show.checks")));
                for c in &applicable {
                    let result = state.checks.get(&c.id).copied();
                    let mark = if result.is_none() && missing.contains(&c.id) {
                        tr!("show.check_missing")
                    } else {
                        labels::check_result(result)
                    };
                    line(format!(
                        "    [{mark}] {} ({}): {}",
                        c.id,
                        tr!("show.level_short", level = c.level),
                        c.action
                    ));
                }
            }
            if let Some(call) = solution_call(&state) {
                line(format!("  {}", tr!(&format!("show.solution_call_{call}"))));
            }
            if !clocks.is_empty() {
                line(format!("  {}", tr!("show.clocks")));
                for c in &clocks {
                    line(format!("    {}", describe_clock(c, &fmt)));
                }
            }
            if !emails.is_empty() {
                line(format!("  {}", tr!("show.emails")));
                for e in f
                    .events
                    .iter()
                    .filter(|e| e.message_id.is_some() && e.event != EventKind::Mailed)
                {
                    let m = e.message_id.as_deref().unwrap_or("");
                    let delivered = if mailed(m) {
                        format!(" ({})", tr!("site.event.mailed"))
                    } else {
                        String::new()
                    };
                    line(format!(
                        "    {} · {} · {m}{delivered}",
                        fmt.stamp(&e.at),
                        labels::event(e.event)
                    ));
                }
            }
            line(format!("  {}", tr!("show.events", count = f.events.len())));
            for e in &f.events {
                let detail = e
                    .text
                    .as_deref()
                    .or(e.reason.as_deref())
                    .map(|s| format!(": {}", s.lines().next().unwrap_or("")))
                    .unwrap_or_default();
                line(format!(
                    "    {} · {} · {}{detail}",
                    fmt.stamp(&e.at),
                    who(&desk, &e.by),
                    labels::event(e.event)
                ));
            }
            for p in &problems {
                line(format!("  {}", tr!("show.problem", problem = p)));
            }
            for n in &next {
                line(format!(
                    "  {}",
                    tr!("cmd.next", step = n.replace(" ID", &format!(" {}", f.id)))
                ));
            }
            print!("{out}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The call of the solution notice the manual asks for ("Solución": by phone and email), while a
/// solution waits for the customer: `pending` or `recorded`; `None` otherwise.
fn solution_call(state: &workflow::State) -> Option<&'static str> {
    (state.status() == Status::Resolved).then_some(if state.called {
        "recorded"
    } else {
        "pending"
    })
}

/// The desk's formats for people: dates to the minute in the desk's time zone, durations as
/// "2 h 30 min", in the active language.
pub fn people_format(desk: &crate::model::load::Desk) -> Fmt {
    let tz = desk
        .config
        .time_zone
        .parse::<chrono_tz::Tz>()
        .unwrap_or(chrono_tz::UTC);
    Fmt::new(crate::model::i18n::active(), tz)
}

/// One clock for people: which, its state, target, due time and what is left. A stopped
/// clock says when it stopped, not when it would have been due.
pub fn describe_clock(c: &crate::rules::sla::ClockView, fmt: &Fmt) -> String {
    let clock = clock_name(c.clock);
    let state = labels::clock_state(c.state.as_str());
    if c.target.is_none() && c.due.is_none() {
        return tr!("show.clock_no_target", clock = clock, state = state);
    }
    let target = c
        .target
        .map(|t| fmt.duration(t))
        .unwrap_or_else(|| "-".into());
    if c.stopped {
        return tr!(
            "show.clock_stopped",
            clock = clock,
            state = state,
            target = target,
            at = c
                .stopped_at
                .as_ref()
                .map(|d| fmt.tz_datetime(d))
                .unwrap_or_else(|| "-".into()),
            used = fmt.minutes(c.used_minutes)
        );
    }
    if let Some(w) = &c.waiting_on {
        return tr!(
            "show.clock_waiting",
            clock = clock,
            state = state,
            owner = w.owner_name,
            check = w.check,
            since = fmt.tz_datetime(&w.since),
            target = target,
            used = fmt.minutes(c.used_minutes),
            left = fmt.minutes(c.left_minutes)
        );
    }
    tr!(
        "show.clock_line",
        clock = clock,
        state = state,
        target = target,
        due = c
            .due
            .as_ref()
            .map(|d| fmt.tz_datetime(d))
            .unwrap_or_else(|| "-".into()),
        used = fmt.minutes(c.used_minutes),
        left = fmt.minutes(c.left_minutes)
    )
}

/// An agent's name from desk.yaml (the code when unknown); `customer` and `mesa` as words.
fn who(desk: &crate::model::load::Desk, by: &str) -> String {
    match by {
        steps::CUSTOMER => tr!("show.by_customer"),
        crate::steps::sweep::BY => tr!("show.by_mesa"),
        code => agent_name(desk, code),
    }
}

pub(super) fn agent_name(desk: &crate::model::load::Desk, code: &str) -> String {
    desk.config
        .agent(code)
        .map(|a| a.name.clone())
        .unwrap_or_else(|| code.to_string())
}

pub(super) fn priority_name(desk: &crate::model::load::Desk, id: &str) -> String {
    desk.config
        .priority(id)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| id.to_string())
}

fn requester_line(r: &Requester) -> String {
    match &r.email {
        Some(e) => format!("{} <{e}>", r.name),
        None => r.name.clone(),
    }
}
