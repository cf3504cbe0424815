//! `mesa report --load`: who holds what now. Per agent (the assignee), the open tickets by
//! level and by clock state, the oldest and the nearest due; per customer, the open tickets,
//! the tickets of the period with a breached clock and the quotes waiting for an answer.
//! Definitions in `docs/reports.md` ("Load").

use crate::model::load::Desk;
use crate::model::ticket::{EventKind, Status, TicketFront};
use crate::rules::calendar::Calendars;
use crate::rules::sla::{self, ClockState};
use crate::tr;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::BTreeMap;

/// The clock states an open ticket is counted under: its worst clock that has not stopped.
pub const STATES: [&str; 4] = ["breached", "at_risk", "running", "paused"];

/// One agent's open tickets.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct AgentLoad {
    pub open: u64,
    /// By current level (index 0 = level 1).
    pub by_level: [u64; 5],
    /// By the worst running or paused clock ([`STATES`]); tickets without one are not counted.
    pub by_state: [u64; 4],
    /// The open ticket created first, and when.
    pub oldest: Option<String>,
    pub oldest_created: Option<String>,
    /// The open ticket whose running clock falls due first, and when (RFC 3339).
    pub nearest_due: Option<String>,
    pub nearest_due_at: Option<String>,
    #[serde(skip)]
    oldest_at: Option<DateTime<Utc>>,
    #[serde(skip)]
    due_at: Option<DateTime<Utc>>,
}

/// One customer's tickets.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CustomerLoad {
    pub open: u64,
    /// Tickets created in the period with at least one breached clock (stopped or not).
    pub breached_in_period: u64,
    /// Open tickets waiting for the customer's answer to a quote (a proposal with an amount).
    pub quotes_pending: u64,
}

/// The load of the desk at the evaluated instant.
#[derive(Debug, Clone, Serialize)]
pub struct Load {
    pub as_of: String,
    pub agents: BTreeMap<String, AgentLoad>,
    pub customers: BTreeMap<String, CustomerLoad>,
}

fn rank(s: ClockState) -> Option<usize> {
    match s {
        ClockState::Breached => Some(0),
        ClockState::AtRisk => Some(1),
        ClockState::Running => Some(2),
        ClockState::Paused => Some(3),
        _ => None,
    }
}

/// What the load needs of one ticket as of an instant (see [`facts_of`]): kept per ticket by
/// a streaming build or `mesa serve`, so the load is summed without the tickets in memory.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Facts {
    id: String,
    /// The customer's code, `-` for a case from an unknown sender (awaiting triage).
    customer: String,
    created: DateTime<Utc>,
    /// Any clock breached (stopped or not).
    breached: bool,
    /// `None` for a closed ticket.
    open: Option<OpenFacts>,
}

#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
struct OpenFacts {
    /// Waiting for the customer's answer to a quote (a proposal with an amount).
    quote_pending: bool,
    /// The assignee, `-` when none.
    assignee: String,
    /// Index into `AgentLoad::by_level` (level 1 = 0).
    level: usize,
    /// Index into [`STATES`] of the worst clock that has not stopped.
    worst: Option<usize>,
    /// The nearest due instant of a clock that has not stopped.
    due: Option<DateTime<Utc>>,
}

/// One ticket's load facts as of `as_of`; `None` for a ticket not yet created then.
pub fn facts_of(
    desk: &Desk,
    cals: &Calendars,
    front: &TicketFront,
    as_of: DateTime<Utc>,
) -> Option<Facts> {
    let w = sla::walk(desk, front, as_of);
    let views = sla::clocks_of_walk_brief(desk, cals, &w, as_of);
    facts_of_walk(front, &w, &views, as_of)
}

/// [`facts_of`] from the log already walked up to `as_of` ([`sla::walk`]) and its clocks at
/// that instant (their `why` is not read): a build walks each log once for all its uses.
pub fn facts_of_walk(
    front: &TicketFront,
    w: &sla::Walk,
    views: &[sla::ClockView],
    as_of: DateTime<Utc>,
) -> Option<Facts> {
    let created = w.created.filter(|c| *c <= as_of)?;
    let customer = if front.customer.is_empty() {
        "-".to_string()
    } else {
        front.customer.clone()
    };
    let open = (w.state.status() != Status::Closed).then(|| {
        let quote_pending = w.state.status() == Status::AwaitingApproval
            && front
                .events
                .iter()
                .take_while(|e| e.at.utc() <= as_of)
                .filter(|e| e.event == EventKind::Proposed)
                .last()
                .is_some_and(|e| e.amount.is_some());
        let running = || views.iter().filter(|v| !v.stopped);
        OpenFacts {
            quote_pending,
            assignee: w.state.assignee.clone().unwrap_or_else(|| "-".into()),
            level: (w.state.level.clamp(1, 5) - 1) as usize,
            worst: running().filter_map(|v| rank(v.state)).min(),
            due: running()
                .filter_map(|v| v.due.map(|d| d.with_timezone(&Utc)))
                .min(),
        }
    });
    Some(Facts {
        id: front.id.clone(),
        customer,
        created,
        breached: views.iter().any(|v| v.state == ClockState::Breached),
        open,
    })
}

/// The load over `tickets` as of `min(to, now)`; "in the period" = created in `[from, to)`.
pub fn build(
    desk: &Desk,
    cals: &Calendars,
    tickets: &[TicketFront],
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Load {
    let as_of = to.map_or(now, |t| t.min(now));
    let facts: Vec<Facts> = tickets
        .iter()
        .filter_map(|t| facts_of(desk, cals, t, as_of))
        .collect();
    build_from(desk, facts.iter(), from, to, as_of)
}

/// The load from facts of [`facts_of`] taken as of `as_of`, in ticket order.
pub fn build_from<'a>(
    desk: &Desk,
    facts: impl IntoIterator<Item = &'a Facts>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    as_of: DateTime<Utc>,
) -> Load {
    let tz: Tz = desk.config.tz();
    let fmt = |t: DateTime<Utc>| {
        t.with_timezone(&tz)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    };
    let mut agents: BTreeMap<String, AgentLoad> = BTreeMap::new();
    let mut customers: BTreeMap<String, CustomerLoad> = BTreeMap::new();
    for f in facts {
        let cust = customers.entry(f.customer.clone()).or_default();
        let in_period = from.is_none_or(|x| f.created >= x) && to.is_none_or(|t| f.created < t);
        if in_period && f.breached {
            cust.breached_in_period += 1;
        }
        let Some(o) = &f.open else { continue };
        cust.open += 1;
        if o.quote_pending {
            cust.quotes_pending += 1;
        }
        let a = agents.entry(o.assignee.clone()).or_default();
        a.open += 1;
        a.by_level[o.level] += 1;
        if let Some(r) = o.worst {
            a.by_state[r] += 1;
        }
        if a.oldest_at.is_none_or(|x| f.created < x) {
            a.oldest_at = Some(f.created);
            a.oldest = Some(f.id.clone());
            a.oldest_created = Some(fmt(f.created));
        }
        if let Some(due) = o.due {
            if a.due_at.is_none_or(|d| due < d) {
                a.due_at = Some(due);
                a.nearest_due = Some(f.id.clone());
                a.nearest_due_at = Some(fmt(due));
            }
        }
    }
    Load {
        as_of: fmt(as_of),
        agents,
        customers,
    }
}

/// The agent columns, in order (labels `report.load.<key>`).
pub const AGENT_COLUMNS: &[&str] = &[
    "open",
    "level_1",
    "level_2",
    "level_3",
    "level_4",
    "level_5",
    "breached",
    "at_risk",
    "running",
    "paused",
    "oldest",
    "nearest_due",
];

/// The customer columns, in order (labels `report.load.<key>`).
pub const CUSTOMER_COLUMNS: &[&str] = &["open", "breached_in_period", "quotes_pending"];

impl AgentLoad {
    /// Column `key` of [`AGENT_COLUMNS`] as printed.
    pub fn cell(&self, key: &str) -> String {
        let n = match key {
            "open" => self.open,
            "oldest" => return self.oldest.clone().unwrap_or_else(|| "-".into()),
            "nearest_due" => {
                return match (&self.nearest_due, &self.nearest_due_at) {
                    (Some(id), Some(at)) => format!("{id} {at}"),
                    _ => "-".into(),
                }
            }
            k => {
                if let Some(l) = k.strip_prefix("level_") {
                    self.by_level[l.parse::<usize>().unwrap_or(1).clamp(1, 5) - 1]
                } else {
                    match STATES.iter().position(|s| *s == k) {
                        Some(i) => self.by_state[i],
                        None => return "-".into(),
                    }
                }
            }
        };
        n.to_string()
    }
}

impl CustomerLoad {
    /// Column `key` of [`CUSTOMER_COLUMNS`] as printed.
    pub fn cell(&self, key: &str) -> String {
        match key {
            "open" => self.open,
            "breached_in_period" => self.breached_in_period,
            "quotes_pending" => self.quotes_pending,
            _ => 0,
        }
        .to_string()
    }
}

fn table(out: &mut String, title: &str, cols: &[&str], rows: &[(String, Vec<String>)]) {
    out.push_str(title);
    out.push('\n');
    let labels: Vec<String> = cols
        .iter()
        .map(|k| format!("  {}", tr!(&format!("report.load.{k}"))))
        .collect();
    let lw = labels.iter().map(|l| l.chars().count()).max().unwrap_or(10);
    let widths: Vec<usize> = rows
        .iter()
        .map(|(name, cells)| {
            cells
                .iter()
                .map(|c| c.chars().count())
                .chain([name.chars().count()])
                .max()
                .unwrap_or(1)
        })
        .collect();
    out.push_str(&" ".repeat(lw));
    for ((name, _), w) in rows.iter().zip(&widths) {
        out.push_str(&format!("  {name:>w$}"));
    }
    out.push('\n');
    for (i, label) in labels.iter().enumerate() {
        out.push_str(&format!("{label:<lw$}"));
        for ((_, cells), w) in rows.iter().zip(&widths) {
            out.push_str(&format!("  {:>w$}", cells[i]));
        }
        out.push('\n');
    }
}

/// An agent's name for people (the code when the desk does not list it; "(sin dato)" for
/// the unassigned).
fn agent_name(desk: &Desk, code: &str) -> String {
    crate::output::report::group_label(desk, Some(crate::output::report::By::Agent), code)
}

fn customer_name(desk: &Desk, id: &str) -> String {
    crate::output::report::group_label(desk, Some(crate::output::report::By::Customer), id)
}

/// The load as text: the agents' table, then the customers'; one row per figure, one column
/// per agent or customer.
pub fn render_text(desk: &Desk, l: &Load) -> String {
    let mut out = tr!("report.load.title", as_of = l.as_of);
    out.push_str("\n\n");
    let agents: Vec<(String, Vec<String>)> = l
        .agents
        .iter()
        .map(|(k, a)| {
            (
                agent_name(desk, k),
                AGENT_COLUMNS.iter().map(|c| a.cell(c)).collect(),
            )
        })
        .collect();
    table(&mut out, &tr!("report.load.agents"), AGENT_COLUMNS, &agents);
    out.push('\n');
    let customers: Vec<(String, Vec<String>)> = l
        .customers
        .iter()
        .map(|(k, c)| {
            (
                customer_name(desk, k),
                CUSTOMER_COLUMNS.iter().map(|x| c.cell(x)).collect(),
            )
        })
        .collect();
    table(
        &mut out,
        &tr!("report.load.customers"),
        CUSTOMER_COLUMNS,
        &customers,
    );
    out
}

fn csv_block(out: &mut String, first: String, cols: &[&str], rows: Vec<(String, Vec<String>)>) {
    let mut header = vec![first];
    header.extend(cols.iter().map(|k| tr!(&format!("report.load.{k}"))));
    out.push_str(&header.join(";"));
    out.push_str("\r\n");
    for (name, cells) in rows {
        out.push_str(&name);
        for c in cells {
            out.push(';');
            // The CSV convention: nothing to show is an empty cell.
            if c != "-" {
                out.push_str(&c);
            }
        }
        out.push_str("\r\n");
    }
}

/// The load as CSV (the report's conventions): the agents' lines with their header, an empty
/// line, the customers' lines with theirs.
pub fn render_csv(desk: &Desk, l: &Load) -> String {
    let mut out = String::from("\u{feff}");
    csv_block(
        &mut out,
        tr!("report.load.agent"),
        AGENT_COLUMNS,
        l.agents
            .iter()
            .map(|(k, a)| {
                (
                    agent_name(desk, k),
                    AGENT_COLUMNS.iter().map(|c| a.cell(c)).collect(),
                )
            })
            .collect(),
    );
    out.push_str("\r\n");
    csv_block(
        &mut out,
        tr!("report.load.customer"),
        CUSTOMER_COLUMNS,
        l.customers
            .iter()
            .map(|(k, c)| {
                (
                    customer_name(desk, k),
                    CUSTOMER_COLUMNS.iter().map(|x| c.cell(x)).collect(),
                )
            })
            .collect(),
    );
    out
}
