//! `mesa calendar` and `mesa sla ID`: the desk's calendars and one ticket's clocks, for people
//! (text in the desk's language) and for programs (`--format json`).

use super::common::{Format, Global};
use crate::model::diag::{Error, Result};
use crate::model::load::Desk;
use crate::model::ticket::{self, Ticket};
use crate::rules::calendar::{Calendars, WEEKDAYS};
use crate::rules::sla::{self, ClockView, SegmentKind};
use crate::tr;
use chrono::Datelike;
use chrono_tz::Tz;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where a ticket's file is: `tickets/20YY/MM/<id>.md`, the year and month read from the id.
pub fn ticket_path(root: &Path, id: &str) -> Result<PathBuf> {
    if !crate::model::ids::is_valid(id) {
        return Err(Error::Usage(tr!("sla.bad_id", id = id)));
    }
    Ok(root.join(format!("tickets/20{}/{}/{id}.md", &id[0..2], &id[2..4])))
}

/// Loads one ticket by case number without scanning the desk.
pub fn load_ticket(root: &Path, id: &str) -> Result<Ticket> {
    let path = ticket_path(root, id)?;
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(Error::Message(tr!(
            "sla.not_found",
            id = id,
            path = crate::model::load::rel(root, &path).display()
        )));
    }
    let text = crate::model::front_matter::read_text(&path)?;
    Ok(ticket::parse(&crate::model::load::rel(root, &path), &text)?)
}

fn open_desk(global: &Global) -> Result<(Desk, Calendars)> {
    let root = global.desk_root()?;
    let desk = Desk::open(&root)?;
    let (cals, diags) = Calendars::new(&desk);
    if !diags.is_empty() {
        return Err(Error::Diagnostics(diags));
    }
    Ok((desk, cals))
}

/// Working minutes for people: "2 h 5 min", "45 min".
pub fn human_minutes(m: i64) -> String {
    crate::output::site::fmt::Fmt::new(crate::model::i18n::active(), chrono_tz::UTC).minutes(m)
}

/// `mesa calendar [--year Y]`.
pub fn calendar(global: &Global, year: Option<i32>) -> Result<ExitCode> {
    let (desk, cals) = open_desk(global)?;
    let tz: Tz = desk.config.tz();
    let year = match year {
        Some(y) if (1583..=9999).contains(&y) => y,
        Some(y) => return Err(Error::Usage(tr!("calendar.bad_year", value = y))),
        None => global.now()?.with_timezone(&tz).year(),
    };
    let mut json = Vec::new();
    let mut text = String::new();
    for cal in &cals.list {
        let cfg = desk.config.calendar(&cal.id);
        let closed = cal.closed_dates(year);
        let name_of = |key: Option<&str>| match key {
            Some(k) => tr!(&format!(
                "holidays.{}.{k}",
                cal.rules.as_deref().unwrap_or("co")
            )),
            None => tr!("calendar.extra_closed"),
        };
        let hours: serde_json::Map<String, serde_json::Value> = WEEKDAYS
            .iter()
            .map(|d| {
                let list = cfg
                    .and_then(|c| c.hours.get(*d))
                    .cloned()
                    .unwrap_or_default();
                (d.to_string(), serde_json::json!(list))
            })
            .collect();
        json.push(serde_json::json!({
            "id": cal.id,
            "name": cal.name,
            "time_zone": cal.tz.name(),
            "always_open": cal.always_open,
            "hours": if cal.always_open { serde_json::Value::Null } else { serde_json::Value::Object(hours.clone()) },
            "holiday_rules": cal.rules,
            "open": cfg.map(|c| serde_json::json!(c.open)).unwrap_or(serde_json::Value::Null),
            "year": year,
            "closed": closed.iter().map(|(d, k)| serde_json::json!({
                "date": d.format("%Y-%m-%d").to_string(),
                "holiday": k,
                "name": name_of(*k),
            })).collect::<Vec<_>>(),
        }));
        text.push_str(&tr!(
            "calendar.title",
            name = cal.name,
            id = cal.id,
            tz = cal.tz.name()
        ));
        text.push('\n');
        if cal.always_open {
            text.push_str(&format!("  {}\n", tr!("calendar.always_open")));
            continue;
        }
        text.push_str(&format!("  {}:\n", tr!("calendar.hours")));
        for (i, d) in WEEKDAYS.iter().enumerate() {
            let list = hours
                .get(*d)
                .and_then(|v| v.as_array())
                .cloned()
                .unwrap_or_default();
            let shown = if list.is_empty() {
                tr!("calendar.closed_day")
            } else {
                list.iter()
                    .filter_map(|v| v.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let day = tr!(&format!("calendar.weekday.{}", WEEKDAYS[i]));
            text.push_str(&format!("    {day:<10} {shown}\n"));
        }
        if let Some(c) = cfg {
            for (d, list) in &c.open {
                text.push_str(&format!("    {d} {}\n", list.join(", ")));
            }
        }
        text.push_str(&format!(
            "  {}:\n",
            tr!("calendar.holidays_in", year = year)
        ));
        if closed.is_empty() {
            text.push_str(&format!("    {}\n", tr!("calendar.no_holidays")));
        }
        // A desk outside Colombia has no holiday rules: say what to do instead.
        if cfg.is_some_and(|c| {
            c.holidays.is_none() && c.holidays_ics.is_none() && c.closed.is_empty()
        }) {
            text.push_str(&format!(
                "    {}\n",
                tr!("calendar.no_holiday_source", id = cal.id)
            ));
        }
        for (d, k) in &closed {
            let wd = tr!(&format!(
                "calendar.weekday.{}",
                WEEKDAYS[d.weekday().num_days_from_monday() as usize]
            ));
            text.push_str(&format!(
                "    {}  {wd:<10} {}\n",
                d.format("%Y-%m-%d"),
                name_of(*k)
            ));
        }
    }
    match global.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json).unwrap_or_default()
        ),
        Format::Text => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// `mesa sla ID`.
pub fn sla(global: &Global, id: &str) -> Result<ExitCode> {
    let (desk, cals) = open_desk(global)?;
    let now = global.now()?;
    let t = load_ticket(&desk.root, id)?;
    let views = sla::clocks_with(&desk, &cals, &t.front, now);
    let promised = sla::promised_due_with(&desk, &cals, &t.front);
    let lang = crate::model::i18n::active().lang.clone();
    match global.format {
        Format::Json => {
            let value = serde_json::json!({
                "id": t.front.id,
                "status": t.front.status,
                "now": now.to_rfc3339(),
                "promised": promised.map(|p| p.to_rfc3339()),
                "promised_text": promised.map(|p| sla::human_datetime(&p, &lang)),
                "clocks": views,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
        }
        Format::Text => {
            let tz: Tz = desk.config.tz();
            println!(
                "{}",
                tr!(
                    "sla.header",
                    id = t.front.id,
                    title = t.front.title,
                    status = crate::model::labels::status(t.front.status),
                    now = sla::human_datetime(&now.with_timezone(&tz), &lang)
                )
            );
            if views.is_empty() {
                println!("{}", tr!("sla.no_clocks"));
            }
            for v in &views {
                print_view(v, &lang, tz);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One clock for people; instants in the desk's zone `tz` (RFC 3339 in the calendar's).
fn print_view(v: &ClockView, lang: &str, tz: Tz) {
    let clock = match v.clock {
        ticket::Clock::Response => tr!("sla.clock.response"),
        ticket::Clock::Resolution => tr!("sla.clock.resolution"),
    };
    println!(
        "\n{clock}: {}",
        tr!(&format!("sla.state.{}", v.state.as_str()))
    );
    let target = v
        .target
        .map(|t| human_minutes(t.minutes))
        .unwrap_or_else(|| tr!("sla.none"));
    println!(
        "  {}: {target} · {}: {} · {}: {}",
        tr!("sla.target"),
        tr!("sla.used"),
        human_minutes(v.used_minutes),
        tr!("sla.left"),
        if v.target.is_none() && v.due.is_none() {
            "-".to_string()
        } else {
            human_minutes(v.left_minutes)
        }
    );
    if let Some(d) = &v.due {
        println!(
            "  {}: {} ({})",
            tr!("sla.due"),
            sla::human_datetime(&d.with_timezone(&tz), lang),
            d.to_rfc3339()
        );
    }
    if let Some(d) = &v.stopped_at {
        println!(
            "  {}: {} ({})",
            tr!("sla.stopped_at"),
            sla::human_datetime(&d.with_timezone(&tz), lang),
            d.to_rfc3339()
        );
    }
    if let Some(w) = &v.waiting_on {
        println!(
            "  {}",
            tr!(
                "sla.waiting_on",
                owner = w.owner_name,
                check = w.check,
                since = sla::human_datetime(&w.since.with_timezone(&tz), lang)
            )
        );
    }
    for s in &v.segments {
        let kind = match s.kind {
            SegmentKind::Running => tr!("sla.segment.running"),
            SegmentKind::Paused => tr!("sla.segment.paused"),
        };
        let to = s.to.map(|t| t.to_rfc3339()).unwrap_or_else(|| "…".into());
        let minutes = if s.kind == SegmentKind::Running {
            human_minutes(s.working_minutes)
        } else {
            String::new()
        };
        println!("    {kind:<8} {} → {to}  {minutes}", s.from.to_rfc3339());
    }
    println!("  {}: {}", tr!("sla.why"), v.why);
}
