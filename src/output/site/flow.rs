//! The supervisors' trend and load pages (internal build only): `reports/trend.html`, the flow
//! per week and per month, and `reports/load.html`, who holds what now. The figures are
//! `crate::output::trend`'s and `crate::output::load`'s, the ones `mesa report --trend` and
//! `--load` print; nothing is recounted here. Each chart is inline SVG drawn at build time
//! (no script), with a table of the same figures beside it. Every figure cell carries
//! `data-table`, `data-group` and `data-figure` so that tests (and anyone scraping the page)
//! find it without depending on the layout.

use super::chart::{bar_chart, count_axis};
use super::context::{Site, TicketOut};
use crate::model::diag::Result;
use crate::model::ticket::TicketFront;
use crate::output::load::{self, Load, AGENT_COLUMNS, CUSTOMER_COLUMNS};
use crate::output::trend::{self, Period, Step, Trend};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;

/// How many periods a trend chart draws (the newest); its table lists every period.
const CHART_PERIODS: usize = 12;

/// A cell of a figures table: its text and where it belongs.
fn cell(text: String, figure: &str) -> Value {
    json!({"text": text, "figure": figure})
}

fn rate(site: &Site, r: Option<f64>) -> String {
    r.map_or_else(|| "–".into(), |x| site.fmt.percent(x))
}

/// A period's name for people: "septiembre de 2026", or the week's Monday.
fn period_label(site: &Site, step: Step, p: &Period) -> String {
    match step {
        Step::Month => {
            let mut parts = p.period.split('-');
            let y = parts.next().and_then(|y| y.parse().ok()).unwrap_or(0);
            let m = parts.next().and_then(|m| m.parse().ok()).unwrap_or(1);
            site.fmt.month(y, m)
        }
        Step::Week => NaiveDate::parse_from_str(&p.period, "%Y-%m-%d")
            .map(|d| {
                site.cat
                    .format("site.reports.week_of", &[("date", &site.fmt.date(d))])
            })
            .unwrap_or_else(|_| p.period.clone()),
    }
}

/// A period's name under its bars: the month's, or the week's Monday as day/month (the
/// table beside the chart names it in full).
fn short_label(site: &Site, step: Step, p: &Period) -> String {
    match step {
        Step::Month => period_label(site, step, p),
        Step::Week => NaiveDate::parse_from_str(&p.period, "%Y-%m-%d")
            .map(|d| d.format("%d/%m").to_string())
            .unwrap_or_else(|_| p.period.clone()),
    }
}

/// One table of figures: header labels, then rows of (group key, group label, cells).
fn table(table: &str, header: Vec<String>, rows: Vec<(String, String, Vec<Value>)>) -> Value {
    json!({
        "name": table,
        "header": header,
        "rows": rows.into_iter().map(|(k, l, c)| json!({"key": k, "label": l, "cells": c})).collect::<Vec<_>>(),
    })
}

/// One step's three charts with their tables.
fn trend_section(site: &Site, t: &Trend) -> Value {
    let step = t.step;
    let id = match step {
        Step::Week => "week",
        Step::Month => "month",
    };
    let label = |k: &str| site.label(&format!("report.trend.{k}"));
    let shown = &t.periods[t.periods.len().saturating_sub(CHART_PERIODS)..];
    let names: Vec<String> = shown.iter().map(|p| short_label(site, step, p)).collect();
    let all_names: Vec<String> = t
        .periods
        .iter()
        .map(|p| period_label(site, step, p))
        .collect();
    let int = |n: u64| site.fmt.int(n as i64);
    let count = |n: u64| Some(n as f64);
    let title = |k: &str| site.label(&format!("site.reports.trend_{k}_{id}"));
    let rows = |f: &dyn Fn(&Period) -> Vec<Value>| -> Vec<(String, String, Vec<Value>)> {
        t.periods
            .iter()
            .zip(&all_names)
            .map(|(p, n)| (p.period.clone(), n.clone(), f(p)))
            .collect()
    };
    let period_header = site.label(&format!("site.reports.period_{id}"));

    // Opened, closed and the backlog at the end.
    let flow_keys = ["opened", "closed", "backlog"];
    let max = shown
        .iter()
        .flat_map(|p| [p.opened, p.closed, p.backlog])
        .max()
        .unwrap_or(0) as f64;
    let flow_chart = bar_chart(
        640.0,
        &title("flow"),
        &names,
        &[
            (
                label("opened"),
                shown.iter().map(|p| count(p.opened)).collect(),
            ),
            (
                label("closed"),
                shown.iter().map(|p| count(p.closed)).collect(),
            ),
            (
                label("backlog"),
                shown.iter().map(|p| count(p.backlog)).collect(),
            ),
        ],
        count_axis(max),
        &|x| site.fmt.int(x.round() as i64),
    );
    let flow = table(
        &format!("trend-{id}"),
        std::iter::once(period_header.clone())
            .chain(flow_keys.iter().map(|k| label(k)))
            .collect(),
        rows(&|p| {
            vec![
                cell(int(p.opened), "opened"),
                cell(int(p.closed), "closed"),
                cell(int(p.backlog), "backlog"),
            ]
        }),
    );

    // The backlog's age profile at the end of each period.
    let ages: Vec<String> = crate::output::report::AGE_BUCKETS
        .iter()
        .map(|a| site.label(&format!("site.reports.age_{a}")))
        .collect();
    let max = shown.iter().flat_map(|p| p.backlog_age).max().unwrap_or(0) as f64;
    let age_chart = bar_chart(
        640.0,
        &title("age"),
        &names,
        &ages
            .iter()
            .enumerate()
            .map(|(i, a)| {
                (
                    a.clone(),
                    shown.iter().map(|p| count(p.backlog_age[i])).collect(),
                )
            })
            .collect::<Vec<_>>(),
        count_axis(max),
        &|x| site.fmt.int(x.round() as i64),
    );
    let age = table(
        &format!("trend-{id}"),
        std::iter::once(period_header.clone())
            .chain(ages.iter().cloned())
            .collect(),
        rows(&|p| {
            crate::output::report::AGE_BUCKETS
                .iter()
                .zip(p.backlog_age)
                .map(|(a, n)| cell(int(n), &format!("backlog_{a}")))
                .collect()
        }),
    );

    // Compliance of the clocks that ended in each period.
    let compliance_chart = bar_chart(
        640.0,
        &title("compliance"),
        &names,
        &[
            (
                label("response_rate"),
                shown.iter().map(|p| p.response.rate).collect(),
            ),
            (
                label("resolution_rate"),
                shown.iter().map(|p| p.resolution.rate).collect(),
            ),
        ],
        (100.0, 20.0),
        &|x| site.fmt.percent(x),
    );
    let ckeys = [
        "response_met",
        "response_breached",
        "response_rate",
        "resolution_met",
        "resolution_met_after_extension",
        "resolution_breached",
        "resolution_rate",
    ];
    let compliance = table(
        &format!("trend-{id}"),
        std::iter::once(period_header)
            .chain(ckeys.iter().map(|k| label(k)))
            .collect(),
        rows(&|p| {
            vec![
                cell(
                    int(p.response.met + p.response.met_after_extension),
                    "response_met",
                ),
                cell(int(p.response.breached), "response_breached"),
                cell(rate(site, p.response.rate), "response_rate"),
                cell(int(p.resolution.met), "resolution_met"),
                cell(
                    int(p.resolution.met_after_extension),
                    "resolution_met_after_extension",
                ),
                cell(int(p.resolution.breached), "resolution_breached"),
                cell(rate(site, p.resolution.rate), "resolution_rate"),
            ]
        }),
    );
    json!({
        "id": id,
        "title": site.label(&format!("site.reports.trend_{id}")),
        "stem": format!("trend-{id}"),
        "charts": [
            {"id": format!("{id}-flow"), "title": title("flow"), "chart": flow_chart, "table": flow},
            {"id": format!("{id}-age"), "title": title("age"), "chart": age_chart, "table": age},
            {"id": format!("{id}-compliance"), "title": title("compliance"), "chart": compliance_chart, "table": compliance},
        ],
    })
}

/// `reports/trend.html` and its downloads (the CSV and JSON of `mesa report --trend`).
fn trend_page(site: &Site, flow: &[FlowFacts]) -> Result<()> {
    let facts: Vec<trend::Facts> = flow.iter().filter_map(|f| f.trend.clone()).collect();
    let mut sections = Vec::new();
    for step in [Step::Month, Step::Week] {
        let t = trend::build_from(site.desk, &facts, step, None, site.now);
        let section = trend_section(site, &t);
        let stem = section["stem"].as_str().unwrap_or_default().to_string();
        site.out.write(
            &format!("reports/{stem}.csv"),
            trend::render_csv(&t).as_bytes(),
        )?;
        site.out.write(
            &format!("reports/{stem}.json"),
            serde_json::to_string_pretty(&t)
                .unwrap_or_default()
                .as_bytes(),
        )?;
        sections.push(section);
    }
    let mut ctx = site.context(
        "reports/trend.html",
        "reports",
        &site.label("site.reports.trend_title"),
    );
    ctx.insert("sections", &sections);
    ctx.insert("as_of", &site.fmt.datetime(site.now));
    ctx.insert("subpage", "trend");
    site.progress.add_total(1);
    site.page("reports/trend.html", "report_trend.html", &ctx)
}

/// An instant of the load (RFC 3339) as a `<time>` value: (machine, people).
fn instant(site: &Site, s: &Option<String>) -> Option<(String, String)> {
    let s = s.as_deref()?;
    let t = DateTime::parse_from_rfc3339(s).ok()?;
    Some((
        s.to_string(),
        site.fmt.short_datetime(t.with_timezone(&Utc)),
    ))
}

/// `reports/load.html` and its downloads (the CSV and JSON of `mesa report --load`).
fn load_page(site: &Site, flow: &[FlowFacts], out: &TicketOut) -> Result<()> {
    let l: Load = load::build_from(
        site.desk,
        flow.iter().filter_map(|f| f.load.as_ref()),
        None,
        None,
        site.now,
    );
    let desk = site.desk;
    let urls: HashMap<&str, &str> = out.rows.iter().map(|r| (&*r.id, &*r.url)).collect();
    let label = |k: &str| site.label(&format!("report.load.{k}"));
    let int = |n: u64| site.fmt.int(n as i64);
    let agent_name = |a: &str| {
        if a == "-" {
            site.label("site.reports.unassigned")
        } else {
            desk.config
                .agent(a)
                .map_or(a.to_string(), |x| x.name.clone())
        }
    };
    let ticket = |id: &Option<String>, at: Option<(String, String)>| {
        json!({
            "id": id,
            "url": id.as_deref().and_then(|i| urls.get(i)),
            "at": at.as_ref().map(|a| &a.0),
            "at_text": at.as_ref().map(|a| &a.1),
        })
    };
    let agents: Vec<Value> = l
        .agents
        .iter()
        .map(|(code, a)| {
            let mut cells: Vec<Value> = AGENT_COLUMNS
                .iter()
                .filter(|k| !matches!(**k, "oldest" | "nearest_due"))
                .map(|k| {
                    let n = a.cell(k).parse::<u64>().unwrap_or(0);
                    cell(int(n), k)
                })
                .collect();
            cells.push(json!({"figure": "oldest", "ticket": ticket(&a.oldest, instant(site, &a.oldest_created))}));
            cells.push(json!({"figure": "nearest_due", "ticket": ticket(&a.nearest_due, instant(site, &a.nearest_due_at))}));
            json!({"key": code, "label": agent_name(code), "cells": cells})
        })
        .collect();
    let names: Vec<String> = l.agents.keys().map(|a| agent_name(a)).collect();
    let max = l.agents.values().map(|a| a.open).max().unwrap_or(0) as f64;
    let agents_chart = bar_chart(
        640.0,
        &site.label("site.reports.load_agents_chart"),
        &names,
        &load::STATES
            .iter()
            .enumerate()
            .map(|(i, s)| {
                (
                    label(s),
                    l.agents
                        .values()
                        .map(|a| Some(a.by_state[i] as f64))
                        .collect(),
                )
            })
            .collect::<Vec<_>>(),
        count_axis(max),
        &|x| site.fmt.int(x.round() as i64),
    );
    let customers: Vec<(String, String, Vec<Value>)> = l
        .customers
        .iter()
        .map(|(id, c)| {
            (
                id.clone(),
                desk.config
                    .customer(id)
                    .map_or(id.clone(), |x| x.name.clone()),
                CUSTOMER_COLUMNS
                    .iter()
                    .map(|k| cell(int(c.cell(k).parse().unwrap_or(0)), k))
                    .collect(),
            )
        })
        .collect();
    let cnames: Vec<String> = customers.iter().map(|(_, n, _)| n.clone()).collect();
    let max = l
        .customers
        .values()
        .flat_map(|c| [c.open, c.breached_in_period, c.quotes_pending])
        .max()
        .unwrap_or(0) as f64;
    let customers_chart = bar_chart(
        640.0,
        &site.label("site.reports.load_customers_chart"),
        &cnames,
        &CUSTOMER_COLUMNS
            .iter()
            .map(|k| {
                (
                    label(k),
                    l.customers
                        .values()
                        .map(|c| c.cell(k).parse::<f64>().ok())
                        .collect(),
                )
            })
            .collect::<Vec<_>>(),
        count_axis(max),
        &|x| site.fmt.int(x.round() as i64),
    );
    let customers = table(
        "load-customers",
        std::iter::once(site.label("site.reports.customer"))
            .chain(CUSTOMER_COLUMNS.iter().map(|k| label(k)))
            .collect(),
        customers,
    );
    // `mesa report --load --format csv` holds two tables; a spreadsheet opens one per file.
    let csv = load::render_csv(site.desk, &l);
    let (agents_csv, customers_csv) = csv.split_once("\r\n\r\n").unwrap_or((&csv, ""));
    site.out.write(
        "reports/load-agents.csv",
        format!("{agents_csv}\r\n").as_bytes(),
    )?;
    site.out.write(
        "reports/load-customers.csv",
        format!("\u{feff}{customers_csv}").as_bytes(),
    )?;
    site.out.write(
        "reports/load.json",
        serde_json::to_string_pretty(&l)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    let mut ctx = site.context(
        "reports/load.html",
        "reports",
        &site.label("site.reports.load_title"),
    );
    ctx.insert(
        "agents",
        &json!({
            "chart": agents_chart,
            "header": std::iter::once(site.label("site.reports.agent")).chain(AGENT_COLUMNS.iter().map(|k| label(k))).collect::<Vec<_>>(),
            "rows": agents,
        }),
    );
    ctx.insert(
        "customers",
        &json!({"chart": customers_chart, "table": customers}),
    );
    ctx.insert("as_of", &site.fmt.datetime(site.now));
    ctx.insert("subpage", "load");
    site.progress.add_total(1);
    site.page("reports/load.html", "report_load.html", &ctx)
}

/// The trend and load pages over every ticket as of `site.now`.
/// What the trend and load pages keep of one ticket as of the build's instant, so that a
/// streaming build (and `mesa serve`) sums them without the tickets in memory.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FlowFacts {
    trend: Option<trend::Facts>,
    load: Option<load::Facts>,
}

/// One ticket's [`FlowFacts`] as of `now`, from its log already walked up to `now` and its
/// clocks then (a build walks each log once for all its uses).
pub fn facts_of_walk(
    front: &TicketFront,
    w: &crate::rules::sla::Walk,
    views: &[crate::rules::sla::ClockView],
    now: DateTime<Utc>,
) -> FlowFacts {
    FlowFacts {
        trend: trend::facts_of_walk(w, views, now),
        load: load::facts_of_walk(front, w, views, now),
    }
}

/// The trend and load pages from every ticket's [`FlowFacts`], in ticket order.
pub fn pages(site: &Site, flow: &[FlowFacts], out: &TicketOut) -> Result<()> {
    trend_page(site, flow)?;
    load_page(site, flow, out)
}
