//! Supervisors' reports (internal build only): every figure `mesa report` computes (the
//! computation is `crate::output::report`'s; nothing is recounted here), as tables and inline SVG
//! charts, with a CSV and a JSON download of each table.

use super::chart::{bar_chart, count_axis};
use super::context::{Site, TicketOut};
use crate::model::diag::Result;
use crate::model::ticket::Clock;
use crate::output::csv::{Cell as C, Csv};
use crate::output::report::{self, Cell, Row as ReportRow, Watch};
use crate::rules::sla::ClockState;
use serde_json::json;
use std::collections::HashMap;

/// One table of the page with its downloads.
struct Table {
    /// File stem under `reports/`.
    stem: &'static str,
    csv: String,
    json: String,
}

fn cell_text(site: &Site, c: Cell) -> String {
    match c {
        Cell::Count(n) => site.fmt.int(n as i64),
        Cell::Measure(None) => "–".into(),
        Cell::Measure(Some(x)) => site.fmt.dec1(x),
    }
}

/// The report pages of a report by month over every ticket (`flow`: their trend and load facts)
/// as of `site.now`: the
/// figures page here, the trend and load pages in [`super::flow`].
pub fn pages_of(
    site: &Site,
    by_month: report::Report,
    flow: &[super::flow::FlowFacts],
    out: &TicketOut,
) -> Result<()> {
    super::flow::pages(site, flow, out)?;
    let desk = site.desk;
    let urls: HashMap<&str, &str> = out.rows.iter().map(|r| (&*r.id, &*r.url)).collect();
    let mut tables: Vec<Table> = Vec::new();
    let mut ctx = site.context(
        "reports/index.html",
        "reports",
        &site.label("site.reports.title"),
    );
    let total = &by_month.total;
    let lbl = |k: &str| site.label(&format!("report.col.{k}"));

    // Summary cards.
    let cards: Vec<serde_json::Value> = [
        "tickets",
        "open",
        "response_rate",
        "resolution_rate",
        "at_risk",
        "open_breached",
    ]
    .iter()
    .map(|k| {
        let c = total.cell(k);
        let value = match c {
            Cell::Measure(Some(x)) => site.fmt.percent(x),
            other => cell_text(site, other),
        };
        json!({"label": lbl(k), "value": value, "key": k})
    })
    .collect();
    ctx.insert("cards", &cards);

    // Compliance by month.
    let months: Vec<(&String, &report::Figures)> = by_month.groups.iter().collect();
    let month_labels: Vec<String> = months.iter().map(|(m, _)| m.to_string()).collect();
    let resp: Vec<Option<f64>> = months.iter().map(|(_, f)| f.response.rate()).collect();
    let reso: Vec<Option<f64>> = months.iter().map(|(_, f)| f.resolution.rate()).collect();
    let chart = bar_chart(
        640.0,
        &site.label("site.reports.compliance_chart"),
        &month_labels,
        &[
            (site.label("site.reports.response_rate"), resp),
            (site.label("site.reports.resolution_rate"), reso),
        ],
        (100.0, 20.0),
        &|x| site.fmt.percent(x),
    );
    let header: Vec<String> = vec![
        site.label("site.reports.month"),
        lbl("tickets"),
        lbl("response_rate"),
        lbl("resolution_rate"),
        lbl("at_risk"),
        lbl("open_breached"),
    ];
    let keys = [
        "tickets",
        "response_rate",
        "resolution_rate",
        "at_risk",
        "open_breached",
    ];
    let rows: Vec<serde_json::Value> = months
        .iter()
        .map(|(m, f)| {
            json!({"key": m, "label": m, "cells": keys.iter().map(|k| json!({"figure": k, "text": cell_text(site, f.cell(k))})).collect::<Vec<_>>()})
        })
        .collect();
    tables.push(Table {
        stem: "compliance-by-month",
        csv: report::render_csv(desk, &by_month),
        json: serde_json::to_string_pretty(&by_month).unwrap_or_default(),
    });
    ctx.insert(
        "compliance",
        &json!({"chart": chart, "table": {"name": "by-month", "header": header, "rows": rows}, "stem": "compliance-by-month"}),
    );

    // Backlog by age.
    let ages: Vec<String> = report::AGE_BUCKETS
        .iter()
        .map(|a| site.label(&format!("site.reports.age_{a}")))
        .collect();
    let backlog: Vec<Option<f64>> = total.backlog.iter().map(|&n| Some(n as f64)).collect();
    let max = total.backlog.iter().copied().max().unwrap_or(0) as f64;
    // Half-width cards: a narrower drawing keeps its text at a readable size.
    let chart = bar_chart(
        420.0,
        &site.label("site.reports.backlog_chart"),
        &ages,
        &[(site.label("site.reports.count"), backlog)],
        count_axis(max),
        &|x| site.fmt.int(x.round() as i64),
    );
    let rows: Vec<serde_json::Value> = ages
        .iter()
        .zip(report::AGE_BUCKETS)
        .zip(total.backlog.iter())
        .map(|((a, k), n)| json!([a, site.fmt.int(*n as i64), format!("backlog_{k}")]))
        .collect();
    let header = vec![
        site.label("site.reports.age"),
        site.label("site.reports.count"),
    ];
    tables.push(Table {
        stem: "backlog-by-age",
        csv: {
            let mut csv = Csv::new(&header);
            for (a, n) in ages.iter().zip(total.backlog.iter()) {
                csv.row(&[C::text(a), C::Int(*n as i64)]);
            }
            csv.finish()
        },
        json: serde_json::to_string_pretty(
            &report::AGE_BUCKETS
                .iter()
                .zip(total.backlog.iter())
                .map(|(a, n)| json!({"age": a, "open": n}))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default(),
    });
    ctx.insert(
        "backlog",
        &json!({"chart": chart, "header": header, "rows": rows, "stem": "backlog-by-age"}),
    );

    // Escalations by level (to levels 2..5).
    let levels: Vec<u8> = (2..=5).collect();
    let counts: Vec<u64> = levels
        .iter()
        .map(|l| match total.cell(&format!("escalations_to_{l}")) {
            Cell::Count(n) => n,
            _ => 0,
        })
        .collect();
    let level_labels: Vec<String> = levels
        .iter()
        .map(|l| {
            let role = desk.config.level_role(*l).unwrap_or("");
            format!("{l} · {role}")
        })
        .collect();
    let chart = bar_chart(
        420.0,
        &site.label("site.reports.escalations_chart"),
        &levels.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
        &[(
            site.label("site.reports.count"),
            counts.iter().map(|&n| Some(n as f64)).collect(),
        )],
        count_axis(counts.iter().copied().max().unwrap_or(0) as f64),
        &|x| site.fmt.int(x.round() as i64),
    );
    let header = vec![
        site.label("site.reports.level"),
        site.label("site.reports.count"),
    ];
    let rows: Vec<serde_json::Value> = level_labels
        .iter()
        .zip(&levels)
        .zip(counts.iter())
        .map(|((l, level), n)| {
            json!([
                l,
                site.fmt.int(*n as i64),
                format!("escalations_to_{level}")
            ])
        })
        .collect();
    tables.push(Table {
        stem: "escalations-by-level",
        csv: {
            let mut csv = Csv::new(&header);
            for (l, n) in level_labels.iter().zip(counts.iter()) {
                csv.row(&[C::text(l), C::Int(*n as i64)]);
            }
            csv.finish()
        },
        json: serde_json::to_string_pretty(
            &levels
                .iter()
                .zip(counts.iter())
                .map(|(l, n)| json!({"level": l, "escalations": n}))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default(),
    });
    ctx.insert(
        "escalations",
        &json!({"chart": chart, "header": header, "rows": rows, "stem": "escalations-by-level",
                "escalated": site.fmt.int(total.escalated_tickets as i64), "reached5": site.fmt.int(total.reached_level5 as i64)}),
    );

    // At-risk and breached lists.
    for (key, state, stem) in [
        ("at_risk", ClockState::AtRisk, "at-risk"),
        ("breached", ClockState::Breached, "breached"),
    ] {
        let list: Vec<&Watch> = by_month.watch.iter().filter(|w| w.state == state).collect();
        let clock = |c: Clock| {
            site.label(match c {
                Clock::Response => "sla.clock.response",
                Clock::Resolution => "sla.clock.resolution",
            })
        };
        let rows: Vec<serde_json::Value> = list
            .iter()
            .map(|w| {
                json!({"id": w.id, "url": urls.get(w.id.as_str()), "title": w.title, "clock": clock(w.clock),
                       "clock_id": w.clock, "state_id": w.state,
                       "assignee": w.assignee.as_deref().map(|a| desk.config.agent(a).map_or(a.to_string(), |x| x.name.clone())),
                       "level": w.level,
                       "due": w.due.as_deref().and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok()).map(|d| site.fmt.datetime(d.with_timezone(&chrono::Utc))),
                       "left": site.fmt.minutes(w.left_minutes)})
            })
            .collect();
        let header: Vec<String> = vec![
            site.label("site.tickets.col_id"),
            site.label("site.tickets.col_title"),
            site.label("site.reports.col_clock"),
            site.label("site.tickets.col_assignee"),
            site.label("site.tickets.col_level"),
            site.label("site.reports.col_due"),
            site.label("site.reports.col_left"),
        ];
        // The CSV: labels, the due instant in the desk's zone, the time left in hours.
        let mut csv_header = header.clone();
        csv_header[6] = site.label("site.reports.col_left_hours");
        let mut csv = Csv::new(&csv_header);
        for w in &list {
            let due = w
                .due
                .as_deref()
                .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok());
            csv.row(&[
                C::text(&w.id),
                C::text(&w.title),
                C::Text(clock(w.clock)),
                C::Text(
                    w.assignee
                        .as_deref()
                        .map(|a| {
                            desk.config
                                .agent(a)
                                .map_or(a.to_string(), |x| x.name.clone())
                        })
                        .unwrap_or_default(),
                ),
                C::Int(w.level as i64),
                due.map_or(C::Empty, |d| C::instant(&d, &site.fmt.tz)),
                C::Dec(w.left_minutes as f64 / 60.0, 2),
            ]);
        }
        tables.push(Table {
            stem,
            csv: csv.finish(),
            json: serde_json::to_string_pretty(&list).unwrap_or_default(),
        });
        ctx.insert(
            key,
            &json!({"rows": rows, "stem": stem, "count": site.fmt.int(list.len() as i64)}),
        );
    }

    // Every figure `mesa report` computes: the total and each month (one computation of the
    // report serves the whole page).
    // (key, label, figures); the key is `total` or the month, as in `mesa report --format json`.
    let groups: Vec<(String, String, &report::Figures)> = std::iter::once((
        "total".to_string(),
        site.label("site.reports.total"),
        &by_month.total,
    ))
    .chain(
        by_month
            .groups
            .iter()
            .map(|(k, f)| (k.clone(), k.clone(), f)),
    )
    .collect();
    let mut figure_rows: Vec<serde_json::Value> = Vec::new();
    for r in report::ROWS {
        match r {
            ReportRow::Section(s) => {
                figure_rows.push(json!({"section": site.label(&format!("report.section.{s}"))}))
            }
            ReportRow::Figure(k) => figure_rows.push(json!({
                "label": lbl(k),
                "definition": site.label(&format!("report.def.{k}")),
                "key": k,
                "cells": groups.iter().map(|(g, _, f)| json!({"group": g, "text": cell_text(site, f.cell(k))})).collect::<Vec<_>>(),
            })),
        }
    }
    ctx.insert(
        "figures",
        &json!({"groups": groups.iter().map(|(_, g, _)| g).collect::<Vec<_>>(), "rows": figure_rows, "stem": "compliance-by-month"}),
    );
    ctx.insert("as_of", &site.fmt.datetime(site.now));
    ctx.insert("subpage", "index");

    site.progress.add_total(1);
    for t in &tables {
        site.out
            .write(&format!("reports/{}.csv", t.stem), t.csv.as_bytes())?;
        site.out
            .write(&format!("reports/{}.json", t.stem), t.json.as_bytes())?;
    }
    site.page("reports/index.html", "reports.html", &ctx)
}
