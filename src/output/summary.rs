//! The supervisors' summary email: the key figures of a period, the open tickets breached and
//! at risk, and links to the internal site's report pages, queued in the outbox like customer
//! mail. `mesa report --mail TO` sends the summary of the report's period; `mesa sweep` sends,
//! once per period, the summary of the week (or month) that ended to desk.yaml
//! `reports.mail_to`. The figures are [`crate::output::report`]'s, the ones `mesa report`
//! prints (same labels, same two decimals); nothing is recounted here.

use crate::mail::compose::{self, Outgoing};
use crate::model::desk::SummaryCadence;
use crate::model::diag::Result;
use crate::model::i18n::Catalog;
use crate::model::load::Desk;
use crate::model::ticket::{Clock, Stamp};
use crate::output::report::{self, Report};
use crate::output::trend::{self, Step};
use crate::rules::calendar::{local_instant, Calendars};
use crate::rules::sla::ClockState;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;

/// The figures the summary shows, in order (labels `report.col.<key>`).
pub const KEY_FIGURES: &[&str] = &[
    "tickets",
    "open",
    "closed",
    "response_rate",
    "response_breached",
    "response_open_breached",
    "resolution_rate",
    "resolution_breached",
    "resolution_open_breached",
    "at_risk",
    "open_breached",
    "escalated_tickets",
    "first_contact_rate",
    "reopen_rate",
    "call_rate",
];

/// A summary's period: its name in the Message-ID (`report-2026-10-19`), its bounds and the
/// instant it is evaluated at.
pub struct Period {
    pub key: String,
    pub name: String,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub as_of: DateTime<Utc>,
}

/// The period of `mesa report --mail`: the report's own `--from` / `--to`, as of `min(to, now)`.
pub fn period_of(
    desk: &Desk,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Period {
    let tz = desk.config.tz();
    let as_of = to.map_or(now, |t| t.min(now));
    let day = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d").to_string();
    let cat = Catalog::load(compose::mail_language(desk), Some(&desk.root));
    let from_text = from.map_or_else(|| cat.get("report_period.start"), day);
    // `--to` is exclusive: the last day of the period is the one before it.
    let to_text = to.map_or_else(|| day(as_of), |t| day(t - Duration::seconds(1)));
    Period {
        key: format!(
            "report-{}-{}",
            from.map_or_else(|| "start".into(), &day),
            day(as_of).replace('-', "")
        ),
        name: cat.format("summary.period", &[("from", &from_text), ("to", &to_text)]),
        from,
        to,
        as_of,
    }
}

/// The last whole week (Monday to Sunday) or month in the desk's zone that ended at or before
/// `now`: the period `mesa sweep` reports on.
pub fn last_period(desk: &Desk, cadence: SummaryCadence, now: DateTime<Utc>) -> Period {
    let tz = desk.config.tz();
    let step = match cadence {
        SummaryCadence::Week => Step::Week,
        SummaryCadence::Month => Step::Month,
    };
    let current = trend::period_start(step, now.with_timezone(&tz).date_naive());
    let start = trend::period_start(step, current - Duration::days(1));
    let end = local_instant(tz, current, 0);
    let cat = Catalog::load(compose::mail_language(desk), Some(&desk.root));
    let last_day = current - Duration::days(1);
    let name = match step {
        Step::Week => cat.format(
            "summary.week",
            &[
                ("from", &start.format("%Y-%m-%d")),
                ("to", &last_day.format("%Y-%m-%d")),
            ],
        ),
        Step::Month => cat.format("summary.month", &[("month", &start.format("%Y-%m"))]),
    };
    Period {
        key: format!("report-{}", start.format("%Y-%m-%d")),
        name,
        from: Some(local_instant(tz, start, 0)),
        to: Some(end),
        as_of: end.min(now),
    }
}

/// The summary of `period` to each of `to`, composed (not queued).
pub fn compose(
    desk: &Desk,
    cals: &Calendars,
    period: &Period,
    to: &[String],
) -> Result<Vec<Outgoing>> {
    let (r, _) = report::build_from_files(desk, cals, period.from, period.to, None, period.as_of);
    let ctx = context(desk, &r, period);
    let tz = desk.config.tz();
    let date = Stamp(period.as_of.with_timezone(&tz).fixed_offset());
    to.iter()
        .map(|addr| compose::compose_summary(desk, addr, &period.key, date, &ctx))
        .collect()
}

/// The summary's template context: the period, the key figures as `mesa report` prints them,
/// the open tickets breached and at risk, and the links to the site's report pages.
fn context(desk: &Desk, r: &Report, period: &Period) -> tera::Context {
    let lang = compose::mail_language(desk);
    let cat = Catalog::load(lang, Some(&desk.root));
    let decimal = if lang == "en" { '.' } else { ',' };
    let tz = desk.config.tz();
    let human = |t: DateTime<Utc>| crate::rules::sla::human_datetime(&t.with_timezone(&tz), lang);
    let mut ctx = tera::Context::new();
    let figures: Vec<serde_json::Value> = KEY_FIGURES
        .iter()
        .map(|k| {
            json!({"key": k, "label": cat.get(&format!("report.col.{k}")),
                   "value": report::fmt_cell(r.total.cell(k), decimal)})
        })
        .collect();
    ctx.insert("figures", &figures);
    let watch = |state: ClockState| -> Vec<serde_json::Value> {
        r.watch
            .iter()
            .filter(|w| w.state == state)
            .map(|w| {
                json!({
                    "id": w.id,
                    "title": w.title,
                    "clock": cat.get(match w.clock {
                        Clock::Response => "sla.clock.response",
                        Clock::Resolution => "sla.clock.resolution",
                    }),
                    "assignee": report::group_label(desk, Some(report::By::Agent), w.assignee.as_deref().unwrap_or("-")),
                    "level": w.level,
                    "due": w.due.as_deref()
                        .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
                        .map(|d| human(d.with_timezone(&Utc))),
                })
            })
            .collect()
    };
    ctx.insert("breached", &watch(ClockState::Breached));
    ctx.insert("at_risk", &watch(ClockState::AtRisk));
    let links = desk.config.reports.site_url.as_deref().map(|base| {
        let base = if base.ends_with('/') {
            base.to_string()
        } else {
            format!("{base}/")
        };
        json!({
            "index": format!("{base}reports/index.html"),
            "trend": format!("{base}reports/trend.html"),
            "load": format!("{base}reports/load.html"),
        })
    });
    ctx.insert("links", &links);
    let day = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d").to_string();
    ctx.insert(
        "period",
        &json!({
            "name": period.name,
            "from": period.from.map_or_else(|| cat.get("report_period.start"), day),
            "to": day(period.to.map_or(period.as_of, |t| t - Duration::seconds(1))),
            "as_of": human(period.as_of),
        }),
    );
    let from_name = desk
        .config
        .mail
        .from
        .parse::<lettre::message::Mailbox>()
        .ok()
        .and_then(|m| m.name)
        .unwrap_or_else(|| desk.config.organisation.name.clone());
    ctx.insert(
        "desk",
        &json!({"name": from_name, "organisation": desk.config.organisation.name}),
    );
    ctx
}

/// Queues `messages`; the Message-IDs of those not queued or sent before.
pub fn queue(desk: &Desk, messages: &[Outgoing]) -> Result<Vec<String>> {
    let (queued, _) = crate::mail::outbox::list(&desk.root);
    let sent = crate::mail::outbox::sent(&desk.root);
    let mut new = Vec::new();
    for m in messages {
        let known = queued.iter().any(|e| e.message.message_id == m.message_id)
            || sent.iter().any(|s| s.message.message_id == m.message_id);
        compose::enqueue(&desk.root, m)?;
        if !known {
            new.push(m.message_id.clone());
        }
    }
    Ok(new)
}

/// `mesa sweep`'s part: with desk.yaml `reports.mail_to`, queues the summary of the last whole
/// period to each address, once (the Message-ID is the period's and the address's, so a later
/// sweep finds it queued or sent and does nothing). The Message-IDs newly queued.
pub fn queue_due(desk: &Desk, cals: &Calendars, now: DateTime<Utc>) -> Result<Vec<String>> {
    let settings = &desk.config.reports;
    if settings.mail_to.is_empty() {
        return Ok(Vec::new());
    }
    let period = last_period(desk, settings.every, now);
    let messages = compose(desk, cals, &period, &settings.mail_to)?;
    queue(desk, &messages)
}
