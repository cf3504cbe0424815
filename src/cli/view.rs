//! Reading tickets: `mesa show` and `mesa list`.

use super::common::{clock_name, open_desk, parse_stamp, Format, Global};
use crate::model::diag::{Error, Result};
use crate::model::labels;
use crate::model::ticket::{self, EventKind, Requester, Status, Ticket};
use crate::output::site::fmt::Fmt;
use crate::rules::sla::{ClockState, ClockView};
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

fn agent_name(desk: &crate::model::load::Desk, code: &str) -> String {
    desk.config
        .agent(code)
        .map(|a| a.name.clone())
        .unwrap_or_else(|| code.to_string())
}

fn priority_name(desk: &crate::model::load::Desk, id: &str) -> String {
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
    // Clocks are computed for every listed ticket: the due column and the default order need them.
    let needs_clocks = true;
    let (cals, _) = crate::rules::calendar::Calendars::new(&desk);
    let selected = |f: &ticket::TicketFront| -> bool {
        (a.status.is_empty() || a.status.iter().any(|s| s == f.status.as_str()))
            && (!a.open || f.status.is_open())
            && (a.priority.is_empty()
                || f.priority.as_ref().is_some_and(|p| a.priority.contains(p)))
            && (a.level.is_empty() || a.level.contains(&f.level))
            && (a.customer.is_empty() || a.customer.contains(&f.customer))
            && (a.assignee.is_empty()
                || f.assignee.as_ref().is_some_and(|p| a.assignee.contains(p)))
            && mine
                .as_ref()
                .is_none_or(|me| f.assignee.as_ref() == Some(me))
            && (!a.unread || crate::rules::workflow::unread_reply(&f.events).is_some())
            && (!a.triage || f.customer.is_empty())
    };
    let keep = |t: &Ticket| -> Option<Vec<crate::rules::sla::ClockView>> {
        let f = &t.front;
        if !selected(f) {
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
    // Tickets are parsed and filtered in parallel; only the selected ones stay in memory. A
    // settled ticket (closed, every clock stopped) whose file is unchanged comes from the
    // facts cache, except for JSON, which prints every clock in full.
    use crate::output::facts::{self, Cache, ListFacts};
    let use_cache = global.csv || global.format == Format::Text;
    let cache = if use_cache {
        Cache::<ListFacts>::open(&root, "list", facts::stamp(&desk, "list"))
    } else {
        Cache::disabled()
    };
    // Boxed: 100,000 rows are moved by the collects and the sort, a ticket is large.
    type Row = (Box<Ticket>, Vec<crate::rules::sla::ClockView>);
    type Found = (
        Option<std::result::Result<Row, crate::model::diag::Diagnostic>>,
        (Option<facts::Stat>, Option<ListFacts>, Option<u32>),
    );
    let entries = crate::model::scan::ticket_entries(&root);
    let found: Vec<Found> = entries
        .par_iter()
        .enumerate()
        .map(|(i, e)| {
            let rel = &e.rel;
            let stat = e.stat.filter(|_| use_cache);
            let old = stat.as_ref().and_then(|s| cache.get(i, e.key(), s));
            let kept = old.and_then(|o| cache.decode(o));
            if let Some(ListFacts::Settled(row)) = &kept {
                if let Some(t) = row.since().filter(|s| *s <= now.utc()).and(row.ticket(rel)) {
                    let keep =
                        selected(&t.front) && (!a.breached || row.breached) && due_before.is_none();
                    return (
                        keep.then(|| Ok((Box::new(t), Vec::new()))),
                        (stat, None, old),
                    );
                }
            }
            let p = root.join(rel);
            let parsed = crate::model::front_matter::read_text(&p)
                .map_err(|mut d| {
                    d.path = rel.clone();
                    d
                })
                .and_then(|text| ticket::parse(rel, &text));
            match parsed {
                Ok(mut t) => {
                    // A ticket derived again is kept with its clocks now, selected or not.
                    let record = (use_cache && kept.is_none()).then(|| {
                        let clocks =
                            crate::rules::sla::clocks_with(&desk, &cals, &t.front, now.utc());
                        ListFacts::of(&t.front, &clocks, now.utc())
                    });
                    let stat = stat.filter(|s| facts::stat_of(&p).as_ref() == Some(s));
                    let row = keep(&t).map(|clocks| {
                        t.body = String::new();
                        Ok((Box::new(t), clocks))
                    });
                    (row, (stat, record, old))
                }
                Err(d) => (
                    Some(Err(d)),
                    (stat, kept.is_none().then_some(ListFacts::Live), old),
                ),
            }
        })
        .collect();
    let (results, seen): (Vec<_>, Vec<_>) = found.into_iter().unzip();
    let results: Vec<std::result::Result<Row, crate::model::diag::Diagnostic>> =
        results.into_iter().flatten().collect();
    let cacheable = seen.iter().filter(|(st, _, _)| st.is_some()).count();
    if use_cache
        && (seen.iter().any(|(st, r, _)| st.is_some() && r.is_some()) || cacheable != cache.len())
    {
        cache.save(entries.iter().zip(&seen).filter_map(|(e, (st, rec, old))| {
            let next = match (rec, old) {
                (Some(r), _) => facts::Next::New(r),
                (None, Some(o)) => facts::Next::Old(*o),
                (None, None) => return None,
            };
            Some((e.key(), st.as_ref()?, next))
        }));
    }
    let mut rows = Vec::new();
    for r in results {
        match r {
            Ok(row) => rows.push(row),
            Err(d) if !global.quiet => eprintln!("{d}"),
            Err(_) => {}
        }
    }
    sort_rows(&mut rows, a.sort, &desk);
    if global.csv {
        print!("{}", list_csv(&rows, &desk));
        return Ok(ExitCode::SUCCESS);
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
                        "unread": crate::rules::workflow::unread_reply(&f.events).is_some(),
                        "due": next_due(clocks).map(|d| d.to_rfc3339()),
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
            let fmt = people_format(&desk);
            let header = [
                tr!("list.col_id"),
                tr!("list.col_status"),
                tr!("list.col_level"),
                tr!("list.col_priority"),
                tr!("list.col_assignee"),
                tr!("list.col_due"),
                tr!("list.col_customer"),
                tr!("list.col_title"),
            ];
            let table: Vec<[String; 8]> = rows
                .par_iter()
                .map(|(t, clocks)| {
                    let f = &t.front;
                    [
                        f.id.clone(),
                        labels::status(f.status),
                        f.level.to_string(),
                        f.priority
                            .as_deref()
                            .map(|p| priority_name(&desk, p))
                            .unwrap_or_else(|| "-".into()),
                        f.assignee.clone().unwrap_or_else(|| "-".into()),
                        due_cell(clocks, &fmt),
                        f.customer.clone(),
                        if crate::rules::workflow::unread_reply(&f.events).is_some() {
                            format!("{} [{}]", f.title, tr!("inbox.unread"))
                        } else {
                            f.title.clone()
                        },
                    ]
                })
                .collect();
            print!("{}", columns(&header, &table));
            if !global.quiet {
                eprintln!("{}", tr!("cmd.listed", count = rows.len()));
            }
            // The process ends here: freeing 100,000 rows one by one (and handing the pages
            // back) is a tenth of a warm list's time for nothing.
            std::mem::forget(table);
        }
    }
    std::mem::forget(rows);
    Ok(ExitCode::SUCCESS)
}

/// The nearest due instant of a ticket's running clocks.
fn next_due(clocks: &[ClockView]) -> Option<chrono::DateTime<chrono_tz::Tz>> {
    clocks
        .iter()
        .filter(|c| !c.stopped)
        .filter_map(|c| c.due)
        .min_by_key(|d| d.with_timezone(&Utc))
}

/// "vie 27 nov 14:00 (en riesgo)": the nearest due time, short, with the worst clock state.
fn due_cell(clocks: &[ClockView], fmt: &Fmt) -> String {
    let Some(due) = next_due(clocks) else {
        return "-".into();
    };
    let worst = clocks
        .iter()
        .filter(|c| !c.stopped)
        .map(|c| c.state)
        .max_by_key(|s| match s {
            ClockState::Breached => 3,
            ClockState::AtRisk => 2,
            _ => 1,
        });
    let when = fmt.short_datetime(due.with_timezone(&Utc));
    match worst {
        Some(s @ (ClockState::Breached | ClockState::AtRisk)) => {
            format!("{when} ({})", labels::clock_state(s.as_str()))
        }
        _ => when,
    }
}

fn sort_rows(
    rows: &mut [(Box<Ticket>, Vec<ClockView>)],
    sort: SortArg,
    desk: &crate::model::load::Desk,
) {
    let rank = |p: &Option<String>| {
        p.as_deref()
            .and_then(|p| desk.config.priorities.iter().position(|x| x.id == p))
            .unwrap_or(usize::MAX)
    };
    match sort {
        SortArg::Id => rows.sort_by(|x, y| x.0.front.id.cmp(&y.0.front.id)),
        SortArg::Due => rows.sort_by(|x, y| {
            let (dx, dy) = (next_due(&x.1), next_due(&y.1));
            match (dx, dy) {
                (Some(a), Some(b)) => a.cmp(&b),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
            .then_with(|| x.0.front.id.cmp(&y.0.front.id))
        }),
        SortArg::Priority => rows.sort_by(|x, y| {
            rank(&x.0.front.priority)
                .cmp(&rank(&y.0.front.priority))
                .then_with(|| x.0.front.id.cmp(&y.0.front.id))
        }),
        SortArg::Updated => rows.sort_by(|x, y| {
            let last = |t: &Ticket| t.front.events.last().map(|e| e.at.utc());
            last(&y.0)
                .cmp(&last(&x.0))
                .then_with(|| x.0.front.id.cmp(&y.0.front.id))
        }),
    }
}

/// Left-aligned columns, the last one unpadded; widths in characters, not bytes.
fn columns<const N: usize>(header: &[String; N], rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for r in std::iter::once(header).chain(rows.iter()) {
        for (i, cell) in r.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(header).chain(rows.iter()) {
        for (i, cell) in r.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < N {
                let pad = widths[i] - cell.chars().count() + 2;
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

/// `mesa list --format csv`: the same rows as the text table, in the one CSV convention
/// ([`crate::output::csv`]: BOM, `;`, CRLF, labels, dates a spreadsheet reads).
fn list_csv(rows: &[(Box<Ticket>, Vec<ClockView>)], desk: &crate::model::load::Desk) -> String {
    use crate::output::csv::{Cell, Csv};
    let tz = desk
        .config
        .time_zone
        .parse::<chrono_tz::Tz>()
        .unwrap_or(chrono_tz::UTC);
    let mut csv = Csv::new(&[
        tr!("list.col_id"),
        tr!("list.col_status"),
        tr!("list.col_level"),
        tr!("list.col_priority"),
        tr!("list.col_assignee"),
        tr!("list.col_due"),
        tr!("list.col_customer"),
        tr!("list.col_title"),
    ]);
    for (t, clocks) in rows {
        let f = &t.front;
        csv.row(&[
            Cell::text(&f.id),
            Cell::text(labels::status(f.status)),
            Cell::Int(i64::from(f.level)),
            f.priority
                .as_deref()
                .map_or(Cell::Empty, |p| Cell::text(priority_name(desk, p))),
            f.assignee
                .as_deref()
                .map_or(Cell::Empty, |a| Cell::text(agent_name(desk, a))),
            next_due(clocks).map_or(Cell::Empty, |d| Cell::instant(&d, &tz)),
            Cell::text(
                desk.config
                    .customer(&f.customer)
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| f.customer.clone()),
            ),
            Cell::text(&f.title),
        ]);
    }
    csv.finish()
}
