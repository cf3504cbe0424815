//! `mesa report --trend week|month`: the flow of the desk over time. Per week (Monday to
//! Sunday) or calendar month in the desk's zone: tickets opened, tickets closed, the tickets
//! open at the end of the period (the backlog) with their age profile, and the compliance of
//! the clocks that ENDED in the period (a response given, a ticket closed), so a past period's
//! figure is final once the period is over. Definitions in `docs/reports.md` ("Trend").
//!
//! The trend counts every ticket of the desk, evaluated as of `min(--to, now)` like the report;
//! `--from` / `--to` only choose the periods shown (default: from the first ticket's period).

use crate::model::load::Desk;
use crate::model::ticket::{Clock, Status, TicketFront};
use crate::rules::calendar::{local_instant, Calendars};
use crate::rules::sla::{self, ClockState};
use crate::tr;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use rayon::prelude::*;
use serde::Serialize;

/// The length of a trend period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Week,
    Month,
}

/// How the clocks that ended in a period ended (clocks with a target only).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Ended {
    pub met: u64,
    pub met_after_extension: u64,
    pub breached: u64,
    /// (met + met after extension) / all three, in percent; `None` when no clock ended.
    pub rate: Option<f64>,
}

impl Ended {
    fn add(&mut self, s: ClockState) {
        match s {
            ClockState::Breached => self.breached += 1,
            ClockState::MetAfterExtension => self.met_after_extension += 1,
            _ => self.met += 1,
        }
    }
    fn finish(&mut self) {
        let done = self.met + self.met_after_extension + self.breached;
        self.rate =
            (done > 0).then(|| 100.0 * (self.met + self.met_after_extension) as f64 / done as f64);
    }
}

/// One period of the trend.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Period {
    /// `YYYY-MM` for months, the Monday `YYYY-MM-DD` for weeks.
    pub period: String,
    /// First instant of the period and the instant its backlog is taken at (its end, or the
    /// evaluated instant for the running period), RFC 3339 in the desk's zone.
    pub start: String,
    pub end: String,
    pub opened: u64,
    pub closed: u64,
    pub backlog: u64,
    /// The backlog by age at the end: `[<1 d, 1-3 d, 3-7 d, 7-30 d, ≥30 d]` (as the report's).
    pub backlog_age: [u64; 5],
    pub response: Ended,
    pub resolution: Ended,
}

/// The whole trend.
#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    pub step: Step,
    pub as_of: String,
    pub periods: Vec<Period>,
}

/// What the trend needs of one ticket (see [`evaluate`], [`facts_of`]).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Facts {
    created: DateTime<Utc>,
    closed: Option<DateTime<Utc>>,
    /// (instant the clock stopped, how it ended), clocks with a target that stopped.
    ended: Vec<(Clock, DateTime<Utc>, ClockState)>,
}

fn facts(
    desk: &Desk,
    cals: &Calendars,
    front: &TicketFront,
    as_of: DateTime<Utc>,
) -> Option<Facts> {
    let w = sla::walk(desk, front, as_of);
    facts_walked(&w, &sla::clocks_of_walk_brief(desk, cals, &w, as_of))
}

/// [`facts`] from a log already walked up to `as_of` and its clocks at that instant.
fn facts_walked(w: &sla::Walk, views: &[sla::ClockView]) -> Option<Facts> {
    let created = w.created?;
    let closed = (w.state.status() == Status::Closed)
        .then(|| {
            w.timeline
                .iter()
                .find(|(_, s, _)| *s == Status::Closed)
                .map(|(t, _, _)| *t)
        })
        .flatten();
    let ended = views
        .iter()
        .filter(|v| v.stopped && (v.target.is_some() || v.due.is_some()))
        .filter_map(|v| Some((v.clock, v.stopped_at?.with_timezone(&Utc), v.state)))
        .collect();
    Some(Facts {
        created,
        closed,
        ended,
    })
}

/// One ticket's trend facts as of `as_of`; `None` for a ticket not yet created then, from a
/// walk of its own. The build uses [`facts_of_walk`]; `tests/site_walk.rs` checks they agree.
pub fn facts_of(
    desk: &Desk,
    cals: &Calendars,
    front: &TicketFront,
    as_of: DateTime<Utc>,
) -> Option<Facts> {
    facts(desk, cals, front, as_of).filter(|f| f.created <= as_of)
}

/// [`facts_of`] from the log already walked up to `as_of` ([`sla::walk`]) and its clocks at
/// that instant (their `why` is not read): a build walks each log once for all its uses.
pub fn facts_of_walk(
    w: &sla::Walk,
    views: &[sla::ClockView],
    as_of: DateTime<Utc>,
) -> Option<Facts> {
    facts_walked(w, views).filter(|f| f.created <= as_of)
}

/// The first instant of the period containing local date `d`.
pub fn period_start(step: Step, d: NaiveDate) -> NaiveDate {
    match step {
        Step::Week => d - Duration::days(d.weekday().num_days_from_monday() as i64),
        Step::Month => d.with_day(1).unwrap_or(d),
    }
}

/// The first day of the period after the one starting on `d`.
pub fn next_start(step: Step, d: NaiveDate) -> NaiveDate {
    match step {
        Step::Week => d + Duration::days(7),
        Step::Month => {
            let (y, m) = if d.month() == 12 {
                (d.year() + 1, 1)
            } else {
                (d.year(), d.month() + 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(d)
        }
    }
}

/// Age bucket of an open ticket (the report's backlog buckets).
pub fn age_bucket(age_seconds: i64) -> usize {
    let day = 86_400;
    match age_seconds {
        a if a < day => 0,
        a if a < 3 * day => 1,
        a if a < 7 * day => 2,
        a if a < 30 * day => 3,
        _ => 4,
    }
}

/// The trend over `tickets`, periods from `from` (default: the first ticket's) to
/// `min(to, now)`.
pub fn build(
    desk: &Desk,
    cals: &Calendars,
    tickets: &[TicketFront],
    step: Step,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Trend {
    let as_of = to.map_or(now, |t| t.min(now));
    build_from(
        desk,
        &evaluate(desk, cals, tickets, as_of),
        step,
        from,
        as_of,
    )
}

/// Every ticket's trend facts as of `as_of` (one evaluation serves both steps: the site
/// draws the weekly and the monthly trend from the same facts).
pub fn evaluate(
    desk: &Desk,
    cals: &Calendars,
    tickets: &[TicketFront],
    as_of: DateTime<Utc>,
) -> Vec<Facts> {
    tickets
        .par_iter()
        .filter_map(|t| facts_of(desk, cals, t, as_of))
        .collect()
}

/// The trend from facts of [`evaluate`] taken as of `as_of`, periods from `from` (default: the
/// first ticket's) to `as_of`.
pub fn build_from(
    desk: &Desk,
    all: &[Facts],
    step: Step,
    from: Option<DateTime<Utc>>,
    as_of: DateTime<Utc>,
) -> Trend {
    let tz: Tz = desk.config.tz();
    let fmt = |t: DateTime<Utc>| {
        t.with_timezone(&tz)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    };
    let first = from.or_else(|| all.iter().map(|f| f.created).min());
    let mut periods = Vec::new();
    if let Some(first) = first {
        let mut d = period_start(step, first.with_timezone(&tz).date_naive());
        loop {
            let start = local_instant(tz, d, 0);
            if start > as_of {
                break;
            }
            let next = next_start(step, d);
            let end = local_instant(tz, next, 0).min(as_of);
            let within = |t: DateTime<Utc>| t >= start && t < end;
            let mut p = Period {
                period: match step {
                    Step::Week => d.format("%Y-%m-%d").to_string(),
                    Step::Month => d.format("%Y-%m").to_string(),
                },
                start: fmt(start),
                end: fmt(end),
                opened: 0,
                closed: 0,
                backlog: 0,
                backlog_age: [0; 5],
                response: Ended::default(),
                resolution: Ended::default(),
            };
            for f in all {
                p.opened += within(f.created) as u64;
                p.closed += f.closed.is_some_and(within) as u64;
                if f.created < end && f.closed.is_none_or(|c| c >= end) {
                    p.backlog += 1;
                    p.backlog_age[age_bucket((end - f.created).num_seconds())] += 1;
                }
                for (clock, at, state) in &f.ended {
                    if within(*at) {
                        match clock {
                            Clock::Response => p.response.add(*state),
                            Clock::Resolution => p.resolution.add(*state),
                        }
                    }
                }
            }
            p.response.finish();
            p.resolution.finish();
            periods.push(p);
            if end >= as_of {
                break;
            }
            d = next;
        }
    }
    Trend {
        step,
        as_of: fmt(as_of),
        periods,
    }
}

/// The trend's figures with a definition (`report.trend_def.<key>`), for `--help`.
pub const DEFINED: &[&str] = &[
    "opened",
    "closed",
    "backlog",
    "backlog_age",
    "response",
    "resolution",
];

/// The trend's columns, in order; labels `report.trend.<key>` in the catalogs.
pub const COLUMNS: &[&str] = &[
    "opened",
    "closed",
    "backlog",
    "backlog_lt_1d",
    "backlog_d1_3",
    "backlog_d3_7",
    "backlog_d7_30",
    "backlog_gt_30d",
    "response_met",
    "response_breached",
    "response_rate",
    "resolution_met",
    "resolution_met_after_extension",
    "resolution_breached",
    "resolution_rate",
];

impl Period {
    /// Column `key` of [`COLUMNS`] as printed (`,` as the decimal mark, `-` for no rate).
    pub fn cell(&self, key: &str) -> String {
        let rate = |r: Option<f64>| match r {
            Some(x) => format!("{x:.2}").replace('.', ","),
            None => "-".into(),
        };
        let n = match key {
            "opened" => self.opened,
            "closed" => self.closed,
            "backlog" => self.backlog,
            "backlog_lt_1d" => self.backlog_age[0],
            "backlog_d1_3" => self.backlog_age[1],
            "backlog_d3_7" => self.backlog_age[2],
            "backlog_d7_30" => self.backlog_age[3],
            "backlog_gt_30d" => self.backlog_age[4],
            "response_met" => self.response.met + self.response.met_after_extension,
            "response_breached" => self.response.breached,
            "response_rate" => return rate(self.response.rate),
            "resolution_met" => self.resolution.met,
            "resolution_met_after_extension" => self.resolution.met_after_extension,
            "resolution_breached" => self.resolution.breached,
            "resolution_rate" => return rate(self.resolution.rate),
            _ => return "-".into(),
        };
        n.to_string()
    }
}

/// The trend as text: one row per figure, one column per period (as the report's table).
pub fn render_text(t: &Trend) -> String {
    let mut out = tr!(
        &format!("report.trend.title_{}", step_id(t.step)),
        as_of = t.as_of
    );
    out.push_str("\n\n");
    let labels: Vec<String> = COLUMNS
        .iter()
        .map(|k| format!("  {}", tr!(&format!("report.trend.{k}"))))
        .collect();
    let lw = labels.iter().map(|l| l.chars().count()).max().unwrap_or(10);
    let widths: Vec<usize> = t
        .periods
        .iter()
        .map(|p| {
            COLUMNS
                .iter()
                .map(|k| p.cell(k).chars().count())
                .chain([p.period.chars().count()])
                .max()
                .unwrap_or(1)
        })
        .collect();
    out.push_str(&format!("{:<lw$}", tr!("report.trend.period")));
    for (p, w) in t.periods.iter().zip(&widths) {
        out.push_str(&format!("  {:>w$}", p.period));
    }
    out.push('\n');
    for (k, label) in COLUMNS.iter().zip(&labels) {
        out.push_str(&format!("{label:<lw$}"));
        for (p, w) in t.periods.iter().zip(&widths) {
            out.push_str(&format!("  {:>w$}", p.cell(k)));
        }
        out.push('\n');
    }
    out
}

/// The trend as CSV, with the report's conventions (BOM, `;`, `,` decimals, CRLF).
pub fn render_csv(t: &Trend) -> String {
    let mut out = String::from("\u{feff}");
    let field = |s: String| {
        if s.contains([';', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s
        }
    };
    let mut header = vec![field(tr!("report.trend.period"))];
    header.extend(
        COLUMNS
            .iter()
            .map(|k| field(tr!(&format!("report.trend.{k}")))),
    );
    out.push_str(&header.join(";"));
    out.push_str("\r\n");
    for p in &t.periods {
        let mut line = vec![field(p.period.clone())];
        // The CSV convention: an undefined rate is an empty cell.
        line.extend(COLUMNS.iter().map(|k| p.cell(k)).map(|c| {
            if c == "-" {
                String::new()
            } else {
                c
            }
        }));
        out.push_str(&line.join(";"));
        out.push_str("\r\n");
    }
    out
}

fn step_id(s: Step) -> &'static str {
    match s {
        Step::Week => "week",
        Step::Month => "month",
    }
}
