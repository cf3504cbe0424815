//! `mesa check` and `mesa schema`.

use super::common::{Format, Global};
use crate::model::diag::{Error, Result};
use crate::tr;
use std::path::PathBuf;
use std::process::ExitCode;

/// `mesa check`.
pub fn check(global: &Global, history: Option<&str>, files: &[PathBuf]) -> Result<ExitCode> {
    let root = global.desk_root()?;
    let report = match history {
        Some(range) => crate::output::history::check_history(&root, range)?,
        None if !files.is_empty() => crate::output::check::check_files(&root, files)?,
        None => crate::output::check::check_desk(&root)?,
    };
    let ok = report.diagnostics.is_empty();
    match global.format {
        Format::Json => {
            let value = serde_json::json!({
                "ok": ok,
                "tickets": report.tickets,
                "pages": report.pages,
                "diagnostics": report.diagnostics,
            });
            println!(
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
        }
        Format::Text => {
            for d in &report.diagnostics {
                println!("{d}");
            }
            if ok {
                if !global.quiet {
                    eprintln!(
                        "{}",
                        tr!("check.ok", tickets = report.tickets, pages = report.pages)
                    );
                }
            } else {
                eprintln!(
                    "{}",
                    tr!(
                        "check.failed",
                        count = report.diagnostics.len(),
                        tickets = report.tickets,
                        pages = report.pages
                    )
                );
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `mesa schema KIND`.
pub fn schema(global: &Global, what: &str) -> Result<ExitCode> {
    global.activate_language(global.desk.as_deref());
    match crate::model::schema::schema(what) {
        Some(s) => {
            println!("{s}");
            Ok(ExitCode::SUCCESS)
        }
        None => Err(Error::Usage(tr!(
            "cli.unknown_schema",
            what = what,
            list = crate::model::schema::KINDS.join(", ")
        ))),
    }
}
