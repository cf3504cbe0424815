//! What each command does, called by `main.rs` after argument parsing: find and open the desk,
//! run the library, print the result in the chosen format and language.

pub mod inbox;
pub mod sla;

use crate::model::diag::{Error, Result};
use crate::model::i18n::{self, Catalog};
use crate::model::load;
use crate::tr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Options every command takes.
#[derive(Debug, Clone)]
pub struct Global {
    pub desk: Option<PathBuf>,
    pub format: Format,
    pub lang: Option<String>,
    pub now: Option<String>,
    pub agent: Option<String>,
    pub quiet: bool,
}

impl Global {
    /// The desk folder: `--desk`, or the nearest folder above the current one with desk.yaml.
    /// Also activates the message catalog in the desk's language.
    pub fn desk_root(&self) -> Result<PathBuf> {
        let root = match &self.desk {
            Some(d) => d.clone(),
            None => {
                let cwd = std::env::current_dir()?;
                match load::find_desk(&cwd) {
                    Some(d) => d,
                    None => {
                        self.activate_language(None);
                        return Err(Error::Usage(tr!("load.no_desk_found")));
                    }
                }
            }
        };
        self.activate_language(Some(&root));
        Ok(root)
    }

    /// The current instant: `--now` / `MESA_NOW` (RFC 3339) when given, else the system clock.
    pub fn now(&self) -> Result<chrono::DateTime<chrono::Utc>> {
        match &self.now {
            Some(s) => chrono::DateTime::parse_from_rfc3339(s.trim())
                .map(|t| t.with_timezone(&chrono::Utc))
                .map_err(|_| Error::Usage(tr!("sla.bad_now", value = s))),
            None => Ok(chrono::Utc::now()),
        }
    }

    /// Activates `--lang`, else the desk's `language`, else Spanish.
    pub fn activate_language(&self, root: Option<&Path>) {
        let lang = self.lang.clone().unwrap_or_else(|| {
            root.and_then(|r| std::fs::read_to_string(r.join(load::DESK_FILE)).ok())
                .and_then(|t| {
                    t.lines().find_map(|l| {
                        l.strip_prefix("language:")
                            .map(|v| v.trim().trim_matches('"').to_string())
                    })
                })
                .unwrap_or_else(|| "es".into())
        });
        i18n::activate(Catalog::load(&lang, root));
    }
}

/// Prints an error (or nothing) and turns the result into the process exit code.
pub fn finish(global: &Global, result: Result<ExitCode>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            if global.format == Format::Json {
                let value = match &e {
                    Error::Diagnostics(ds) => serde_json::json!({ "ok": false, "diagnostics": ds }),
                    other => serde_json::json!({ "ok": false, "error": other.to_string() }),
                };
                println!("{value}");
            } else {
                eprintln!("{e}");
            }
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

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
