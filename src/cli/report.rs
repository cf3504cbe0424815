//! `mesa report`: parses the period and grouping, prints the figures of
//! [`crate::output::report`] as text, CSV or JSON.

use super::common::{Format, Global};
use crate::model::diag::{Error, Result};
use crate::model::load::Desk;
use crate::output::report::{self, By};
use crate::output::trend;
use crate::rules::calendar::Calendars;
use crate::tr;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use std::process::ExitCode;

/// `--format` as `mesa` parses it: `csv` exists only for `mesa report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Csv,
}

impl OutputFormat {
    /// The format every other command understands (csv reads as text there and is refused
    /// by [`refuse_csv`]).
    pub fn base(self) -> Format {
        match self {
            OutputFormat::Json => Format::Json,
            _ => Format::Text,
        }
    }
}

/// Refuses `--format csv` for commands other than `mesa report`.
pub fn refuse_csv(global: &Global) -> Result<ExitCode> {
    global.activate_language(global.desk.as_deref());
    Err(Error::Usage(tr!("report.csv_only")))
}

/// `--by`, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ByArg {
    Priority,
    Request,
    Incident,
    Customer,
    Agent,
    Level,
    Month,
    Channel,
}

impl From<ByArg> for By {
    fn from(b: ByArg) -> By {
        match b {
            ByArg::Priority => By::Priority,
            ByArg::Request => By::Request,
            ByArg::Incident => By::Incident,
            ByArg::Customer => By::Customer,
            ByArg::Agent => By::Agent,
            ByArg::Level => By::Level,
            ByArg::Month => By::Month,
            ByArg::Channel => By::Channel,
        }
    }
}

/// `--trend`, as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TrendArg {
    /// Also typed in the desk's language.
    #[value(alias = "semana")]
    Week,
    #[value(alias = "mes")]
    Month,
}

impl From<TrendArg> for trend::Step {
    fn from(t: TrendArg) -> trend::Step {
        match t {
            TrendArg::Week => trend::Step::Week,
            TrendArg::Month => trend::Step::Month,
        }
    }
}

/// What both `mesa report` and `mesa report --mail` start from: the desk, its calendars, the
/// instant and the period's bounds (`--from`/`--to` in the desk's zone).
struct Opened {
    desk: Desk,
    cals: Calendars,
    now: DateTime<Utc>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
}

fn open_period(global: &Global, from: Option<&str>, to: Option<&str>) -> Result<Opened> {
    let root = global.desk_root()?;
    let desk = Desk::open(&root)?;
    let (cals, diags) = Calendars::new(&desk);
    if !diags.is_empty() {
        return Err(Error::Diagnostics(diags));
    }
    let tz: Tz = desk.config.tz();
    let now = global.now()?;
    let from = from
        .map(|s| report::parse_bound(s, tz, false))
        .transpose()?;
    let to = to.map(|s| report::parse_bound(s, tz, true)).transpose()?;
    if let (Some(f), Some(t)) = (from, to) {
        if t <= f {
            return Err(Error::Usage(tr!("report.empty_period")));
        }
    }
    Ok(Opened {
        desk,
        cals,
        now,
        from,
        to,
    })
}

/// `mesa report --mail TO`: queues the summary email of the period to each address.
pub fn mail(
    global: &Global,
    from: Option<&str>,
    to: Option<&str>,
    recipients: &[String],
) -> Result<ExitCode> {
    let Opened {
        desk,
        cals,
        now,
        from,
        to,
    } = open_period(global, from, to)?;
    let period = crate::output::summary::period_of(&desk, from, to, now);
    let messages = crate::output::summary::compose(&desk, &cals, &period, recipients)?;
    let new = crate::output::summary::queue(&desk, &messages)?;
    for m in &messages {
        let key = if new.contains(&m.message_id) {
            "report.mail_queued"
        } else {
            "report.mail_already"
        };
        println!("{}", tr!(key, to = m.to, id = m.message_id));
    }
    Ok(ExitCode::SUCCESS)
}

/// `mesa report`.
pub fn run(
    global: &Global,
    from: Option<&str>,
    to: Option<&str>,
    by: Option<By>,
    step: Option<trend::Step>,
    load: bool,
    csv: bool,
) -> Result<ExitCode> {
    crate::output::facts::keep_freed_memory();
    let Opened {
        desk,
        cals,
        now,
        from,
        to,
    } = open_period(global, from, to)?;
    if step.is_some() || load {
        let (tickets, load_diags) = crate::model::load::load_tickets(&desk.root);
        for d in &load_diags {
            eprintln!("{d}");
        }
        let fronts: Vec<_> = tickets.into_iter().map(|t| t.front).collect();
        if load {
            let l = crate::output::load::build(&desk, &cals, &fronts, from, to, now);
            if csv {
                print!("{}", crate::output::load::render_csv(&desk, &l));
            } else {
                match global.format {
                    Format::Json => {
                        println!("{}", serde_json::to_string_pretty(&l).unwrap_or_default())
                    }
                    Format::Text => print!("{}", crate::output::load::render_text(&desk, &l)),
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        let Some(step) = step else {
            return Ok(ExitCode::SUCCESS);
        };
        let t = trend::build(&desk, &cals, &fronts, step, from, to, now);
        if csv {
            print!("{}", trend::render_csv(&t));
        } else {
            match global.format {
                Format::Json => {
                    println!("{}", serde_json::to_string_pretty(&t).unwrap_or_default())
                }
                Format::Text => print!("{}", trend::render_text(&t)),
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let (report, load_diags) = report::build_from_files(&desk, &cals, from, to, by, now);
    for d in &load_diags {
        eprintln!("{d}");
    }
    if csv {
        print!("{}", report::render_csv(&desk, &report));
    } else {
        match global.format {
            Format::Json => println!(
                "{}",
                serde_json::to_string_pretty(&report).unwrap_or_default()
            ),
            Format::Text => print!("{}", report::render_text(&desk, &report)),
        }
    }
    Ok(ExitCode::SUCCESS)
}
