//! `mesa check` and `mesa schema`.

use super::common::{Format, Global};
use crate::model::diag::{Error, Result};
use crate::tr;
use std::path::PathBuf;
use std::process::ExitCode;

/// `mesa check`.
pub fn check(
    global: &Global,
    history: Option<&str>,
    bare: bool,
    files: &[PathBuf],
) -> Result<ExitCode> {
    let no_desk = || {
        global.desk.is_none()
            && std::env::current_dir()
                .ok()
                .and_then(|d| crate::model::load::find_desk(&d))
                .is_none()
    };
    let report = match history {
        // A server's bare repository: the desk is read from the pushed commit.
        Some(range) if bare || no_desk() => {
            crate::output::history::check_history_bare(range, &|desk| {
                global.activate_language(Some(desk))
            })?
        }
        Some(range) => crate::output::history::check_history(&global.desk_root()?, range)?,
        None => {
            let root = global.desk_root()?;
            if files.is_empty() {
                crate::output::facts::keep_freed_memory();
                crate::output::check::check_desk(&root)?
            } else {
                crate::output::check::check_files(&root, files)?
            }
        }
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
