//! Reading tickets: `mesa show` and `mesa list`.

use super::common::{clock_name, open_desk, parse_stamp, Format, Global};
use crate::model::diag::{Error, Result};
use crate::model::ticket::{self, CheckResult, Requester, Status, Ticket};
use crate::rules::workflow;
use crate::steps;
use crate::tr;
use chrono::Utc;
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
    /// The acting agent's open cases (`--agent`, `MESA_AGENT` or git's user.email), the
    /// earliest due first.
    #[arg(long)]
    pub mine: bool,
}

pub fn show(global: &Global, id: &str) -> Result<ExitCode> {
    let (desk, now) = open_desk(global)?;
    let t = steps::load_ticket(&desk.root, id)?;
    let f = &t.front;
    let rules = desk.rules();
    let customer = desk.config.customer(&f.customer);
    let (state, errors) = workflow::replay(rules, customer, &f.events);
    let next = workflow::next_steps(rules, customer, &state);
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
    let emails: Vec<serde_json::Value> = f
        .events
        .iter()
        .filter_map(|e| {
            e.message_id
                .as_ref()
                .map(|m| serde_json::json!({"at": e.at, "event": e.event, "message_id": m}))
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
            let lang = crate::model::i18n::active().lang.clone();
            println!("{} · {}", f.id, f.title);
            let cust = customer.map(|c| c.name.as_str()).unwrap_or(&f.customer);
            println!(
                "  {}",
                tr!(
                    "show.customer",
                    customer = cust,
                    requester = requester_line(&f.requester),
                    channel = f.channel
                )
            );
            let kind = f
                .ticket_type
                .map(|t| format!("{t:?}").to_lowercase())
                .unwrap_or_else(|| "-".into());
            let entry = f
                .incident
                .clone()
                .or(f.request.clone())
                .unwrap_or_else(|| "-".into());
            println!("  {}", tr!("show.kind", kind = kind, entry = entry));
            let role = desk.config.level_role(f.level).unwrap_or("-");
            println!(
                "  {}",
                tr!(
                    "show.status",
                    status = f.status,
                    level = f.level,
                    role = role,
                    assignee = f.assignee.clone().unwrap_or_else(|| "-".into()),
                    priority = f.priority.clone().unwrap_or_else(|| "-".into())
                )
            );
            if let Some(r) = f.close_reason {
                println!("  {}", tr!("show.close_reason", reason = r.as_str()));
            }
            if !applicable.is_empty() {
                println!("  {}", tr!("show.checks"));
                for c in &applicable {
                    let mark = match state.checks.get(&c.id) {
                        Some(CheckResult::Done) => "done",
                        Some(CheckResult::Failed) => "failed",
                        Some(CheckResult::Na) => "na",
                        None if missing.contains(&c.id) => "MISSING",
                        None => "-",
                    };
                    println!("    [{mark}] {} (L{}): {}", c.id, c.level, c.action);
                }
            }
            if let Some(call) = solution_call(&state) {
                println!("  {}", tr!(&format!("show.solution_call_{call}")));
            }
            if !clocks.is_empty() {
                println!("  {}", tr!("show.clocks"));
                for c in &clocks {
                    println!("    {}", describe_clock(c, &lang));
                }
            }
            if !emails.is_empty() {
                println!("  {}", tr!("show.emails"));
                for e in f.events.iter().filter(|e| e.message_id.is_some()) {
                    println!(
                        "    {} {} {}",
                        e.at,
                        e.event,
                        e.message_id.as_deref().unwrap_or("")
                    );
                }
            }
            println!("  {}", tr!("show.events", count = f.events.len()));
            for e in &f.events {
                let detail = e
                    .text
                    .as_deref()
                    .or(e.reason.as_deref())
                    .map(|s| format!(": {}", s.lines().next().unwrap_or("")))
                    .unwrap_or_default();
                println!("    {} {} {}{detail}", e.at, e.by, e.event);
            }
            for p in &problems {
                println!("  {}", tr!("show.problem", problem = p));
            }
            for n in &next {
                println!(
                    "  {}",
                    tr!("cmd.next", step = n.replace(" ID", &format!(" {}", f.id)))
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One clock for people: which, its state, target, due time and what is left.
/// The call of the solution notice the manual asks for ("Solución": by phone and email), while a
/// solution waits for the customer: `pending` or `recorded`; `None` otherwise.
fn solution_call(state: &workflow::State) -> Option<&'static str> {
    (state.status() == Status::Resolved).then_some(if state.called {
        "recorded"
    } else {
        "pending"
    })
}

pub fn describe_clock(c: &crate::rules::sla::ClockView, lang: &str) -> String {
    let clock = clock_name(c.clock);
    if c.target.is_none() && c.due.is_none() {
        return tr!(
            "show.clock_no_target",
            clock = clock,
            state = c.state.as_str()
        );
    }
    tr!(
        "show.clock_line",
        clock = clock,
        state = c.state.as_str(),
        target = c
            .target
            .map(|t| t.to_string())
            .unwrap_or_else(|| "-".into()),
        due = c
            .due
            .map(|d| crate::rules::sla::human_datetime(&d, lang))
            .unwrap_or_else(|| "-".into()),
        used = c.used_minutes,
        left = c.left_minutes
    )
}

fn requester_line(r: &Requester) -> String {
    match &r.email {
        Some(e) => format!("{} <{e}>", r.name),
        None => r.name.clone(),
    }
}

pub fn list(global: &Global, a: &ListArgs) -> Result<ExitCode> {
    use rayon::prelude::*;
    let (desk, now) = open_desk(global)?;
    let root = desk.root.clone();
    let due_before = a.due_before.as_deref().map(parse_stamp).transpose()?;
    for s in &a.status {
        if !Status::ALL.iter().any(|x| x.as_str() == s) {
            let all: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
            return Err(Error::Usage(tr!(
                "cmd.unknown_status",
                id = s,
                list = all.join(", ")
            )));
        }
    }
    let mine = if a.mine {
        Some(
            steps::resolve_actor(&desk, global.agent.as_deref())?
                .code
                .clone(),
        )
    } else {
        None
    };
    let needs_clocks = a.breached || due_before.is_some() || mine.is_some();
    let (cals, _) = crate::rules::calendar::Calendars::new(&desk);
    let keep = |t: &Ticket| -> Option<Vec<crate::rules::sla::ClockView>> {
        let f = &t.front;
        let selected = (a.status.is_empty() || a.status.iter().any(|s| s == f.status.as_str()))
            && mine
                .as_ref()
                .is_none_or(|m| f.status.is_open() && f.assignee.as_ref() == Some(m))
            && (!a.open || f.status.is_open())
            && (a.priority.is_empty()
                || f.priority.as_ref().is_some_and(|p| a.priority.contains(p)))
            && (a.level.is_empty() || a.level.contains(&f.level))
            && (a.customer.is_empty() || a.customer.contains(&f.customer))
            && (a.assignee.is_empty()
                || f.assignee.as_ref().is_some_and(|p| a.assignee.contains(p)));
        if !selected {
            return None;
        }
        let clocks = if needs_clocks {
            crate::rules::sla::clocks_with(&desk, &cals, f, now.utc())
        } else {
            Vec::new()
        };
        if a.breached
            && !clocks
                .iter()
                .any(|c| c.state == crate::rules::sla::ClockState::Breached)
        {
            return None;
        }
        if let Some(before) = due_before {
            let due = clocks
                .iter()
                .any(|c| !c.stopped && c.due.is_some_and(|d| d.with_timezone(&Utc) < before.utc()));
            if !due {
                return None;
            }
        }
        Some(clocks)
    };
    // Tickets are parsed and filtered in parallel; only the selected ones stay in memory.
    let results: Vec<
        std::result::Result<
            (Ticket, Vec<crate::rules::sla::ClockView>),
            crate::model::diag::Diagnostic,
        >,
    > = crate::model::load::ticket_paths(&root)
        .par_iter()
        .filter_map(|p| {
            let rel = crate::model::load::rel(&root, p);
            let parsed = crate::model::front_matter::read_text(p)
                .map_err(|mut d| {
                    d.path = rel.clone();
                    d
                })
                .and_then(|text| ticket::parse(&rel, &text));
            match parsed {
                Ok(mut t) => keep(&t).map(|clocks| {
                    t.body = String::new();
                    Ok((t, clocks))
                }),
                Err(d) => Some(Err(d)),
            }
        })
        .collect();
    let mut rows = Vec::new();
    for r in results {
        match r {
            Ok(row) => rows.push(row),
            Err(d) if !global.quiet => eprintln!("{d}"),
            Err(_) => {}
        }
    }
    rows.sort_by(|x, y| x.0.front.id.cmp(&y.0.front.id));
    if mine.is_some() {
        // The earliest due instant of a running clock first; cases with none last.
        let due = |clocks: &[crate::rules::sla::ClockView]| {
            clocks
                .iter()
                .filter(|c| !c.stopped)
                .filter_map(|c| c.due.map(|d| d.with_timezone(&Utc)))
                .min()
        };
        rows.sort_by_key(|(_, c)| (due(c).is_none(), due(c)));
    }
    match global.format {
        Format::Json => {
            let items: Vec<serde_json::Value> = rows
                .iter()
                .map(|(t, clocks)| {
                    let f = &t.front;
                    serde_json::json!({
                        "id": f.id, "title": f.title, "customer": f.customer, "status": f.status,
                        "level": f.level, "priority": f.priority, "assignee": f.assignee,
                        "type": f.ticket_type, "path": t.path,
                        "clocks": serde_json::to_value(clocks).unwrap_or_default(),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&items).unwrap_or_default()
            );
        }
        Format::Text => {
            for (t, _) in &rows {
                let f = &t.front;
                println!(
                    "{}  {:<17} L{}  {:<9} {:<10} {:<22} {}",
                    f.id,
                    f.status.as_str(),
                    f.level,
                    f.priority.as_deref().unwrap_or("-"),
                    f.assignee.as_deref().unwrap_or("-"),
                    f.customer,
                    f.title
                );
            }
            if !global.quiet {
                eprintln!("{}", tr!("cmd.listed", count = rows.len()));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
