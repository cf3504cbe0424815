//! `mesa sweep`: runs [`crate::steps::sweep`] and prints what it did and the SLA warnings.

use super::common::{clock_name, open_desk, Common, Format, Global};
use crate::model::diag::Result;
use crate::steps::sweep;
use crate::tr;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub common: Common,
}

/// `mesa sweep`.
pub fn run(global: &Global, a: SweepArgs) -> Result<ExitCode> {
    let _lock = super::common::lock_desk(global)?;
    let (desk, now) = open_desk(global)?;
    let author = super::common::automatic_author(&desk, global, now);
    let report = sweep::sweep(&desk, now, &author, !a.common.no_commit)?;
    // The supervisors' summary of the period that ended (desk.yaml `reports.mail_to`), once.
    let (cals, _) = crate::rules::calendar::Calendars::new(&desk);
    let summaries = crate::output::summary::queue_due(&desk, &cals, now.utc())?;
    if !global.quiet {
        for d in &report.unreadable {
            eprintln!("{d}");
        }
    }
    let lang = crate::model::i18n::active().lang.clone();
    match global.format {
        Format::Json => {
            let w: Vec<serde_json::Value> = report
                .warnings
                .iter()
                .map(|(id, c)| serde_json::json!({"id": id, "clock": c.clock, "state": c.state, "due": serde_json::to_value(c).ok().and_then(|v| v.get("due").cloned())}))
                .collect();
            println!(
                "{}",
                serde_json::json!({"ok": report.errors.is_empty(), "reminded": report.reminded, "closed": report.closed, "warnings": w, "errors": report.errors, "summaries": summaries})
            );
        }
        Format::Text => {
            for id in &report.reminded {
                println!("{}", tr!("sweep.reminded", id = id));
            }
            for id in &report.closed {
                println!("{}", tr!("sweep.closed", id = id));
            }
            for id in &summaries {
                println!("{}", tr!("sweep.summary_queued", id = id));
            }
            for (id, c) in &report.warnings {
                let due = c
                    .due
                    .map(|d| crate::rules::sla::human_datetime(&d, &lang))
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{}",
                    tr!(
                        "sweep.warning",
                        id = id,
                        clock = clock_name(c.clock),
                        state = crate::model::labels::clock_state(c.state.as_str()),
                        due = due
                    )
                );
            }
            for e in &report.errors {
                eprintln!("{e}");
            }
            if !global.quiet {
                eprintln!(
                    "{}",
                    tr!(
                        "sweep.summary",
                        reminded = report.reminded.len(),
                        closed = report.closed.len(),
                        warnings = report.warnings.len()
                    )
                );
            }
        }
    }
    Ok(if report.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
