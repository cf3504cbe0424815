//! `mesa inbox`: the command-line face of [`crate::steps::inbox`]. Parses nothing itself, prints
//! each message's outcome in the chosen format and language.

use super::common::{Format, Global};
use crate::model::diag::Result;
use crate::steps::inbox::{self as inbound, Action, Importer, Outcome};
use crate::tr;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum InboxCommand {
    /// Import customer email from Maildir folders, mbox files or .eml files.
    Import {
        /// Maildir folders (with cur/ and new/), folders of .eml files, mbox or .eml files.
        #[arg(required = true)]
        sources: Vec<PathBuf>,
        /// Say what would happen to each message; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Import customer email from the IMAP folder in desk.yaml `mail.inbound.imap`.
    Fetch {
        /// Say what would happen to each message; write nothing and mark nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

pub fn run(global: &Global, cmd: &InboxCommand) -> Result<ExitCode> {
    match cmd {
        InboxCommand::Import { sources, dry_run } => import(global, sources, *dry_run),
        InboxCommand::Fetch { dry_run } => fetch(global, *dry_run),
    }
}

fn import(global: &Global, sources: &[PathBuf], dry_run: bool) -> Result<ExitCode> {
    let _lock = lock_unless(global, dry_run)?;
    let (desk, now) = super::common::open_desk(global)?;
    let items = inbound::read_sources(sources)?;
    let mut importer = Importer::new(&desk, now, dry_run)?;
    let mut outcomes = Vec::with_capacity(items.len());
    for item in &items {
        match importer.import(&item.label, &item.raw) {
            Ok(o) => {
                if global.format == Format::Text {
                    print_one(global, &o, dry_run);
                }
                outcomes.push(o);
            }
            Err(e) => {
                let _ = importer.finish();
                return end(global, &outcomes, dry_run, Err(e));
            }
        }
    }
    let result = importer.finish();
    end(global, &outcomes, dry_run, result)
}

/// The desk lock for a run that writes (taken before the desk is read, saying what it
/// repaired); a dry run writes nothing and takes none.
fn lock_unless(global: &Global, dry_run: bool) -> Result<Option<crate::store::lock::DeskLock>> {
    if dry_run {
        Ok(None)
    } else {
        super::common::lock_desk(global).map(Some)
    }
}

/// The run's end: the summary (text) or the one JSON document, with the error that stopped
/// the run if any (the messages before it are done; the rest are taken again next run).
fn end(
    global: &Global,
    outcomes: &[Outcome],
    dry_run: bool,
    result: Result<()>,
) -> Result<ExitCode> {
    match (global.format, result) {
        (Format::Json, Err(e)) => {
            let v = serde_json::json!({
                "ok": false,
                "error": e.to_string(),
                "dry_run": dry_run,
                "messages": outcomes,
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            Ok(ExitCode::from(e.exit_code() as u8))
        }
        (_, result) => {
            finish(global, outcomes, dry_run);
            result.map(|_| ExitCode::SUCCESS)
        }
    }
}

fn fetch(global: &Global, dry_run: bool) -> Result<ExitCode> {
    let _lock = lock_unless(global, dry_run)?;
    let (desk, now) = super::common::open_desk(global)?;
    let mut importer = Importer::new(&desk, now, dry_run)?;
    let mut outcomes = Vec::new();
    let result = inbound::fetch_imap(&mut importer, dry_run, &mut |o| {
        if global.format == Format::Text {
            print_one(global, o, dry_run);
        }
        outcomes.push(o.clone());
    });
    end(global, &outcomes, dry_run, result)
}

/// One line per message: what happened (or would), the case, the subject, why.
pub fn print_one(global: &Global, o: &Outcome, dry_run: bool) {
    let action = tr!(&format!("inbox.action.{}", o.action.as_str()));
    let mut line = format!(
        "{}{action}",
        if dry_run {
            tr!("inbox.would")
        } else {
            String::new()
        }
    );
    if let Some(t) = &o.ticket {
        line.push_str(&format!(" {t}"));
    }
    if let Some(a) = o.answer {
        line.push_str(&format!(" ({})", tr!(&format!("inbox.answer_label.{a}"))));
    }
    if let Some(r) = &o.related {
        line.push_str(&format!(" {}", tr!("inbox.follows", id = r)));
    }
    if !o.subject.is_empty() {
        line.push_str(&format!(" · {}", o.subject));
    }
    println!("{line}");
    if global.quiet {
        return;
    }
    println!("  {}", o.source);
    if let Some(r) = &o.reason {
        println!("  {r}");
    }
    if o.triage {
        println!("  {}", tr!("inbox.triage_note"));
    }
    if o.attachments_left_out > 0 {
        println!(
            "  {}",
            tr!("inbox.left_out", count = o.attachments_left_out)
        );
    }
    if let Some(p) = &o.set_aside {
        println!("  {}", tr!("inbox.set_aside", path = p.display()));
    }
}

fn finish(global: &Global, outcomes: &[Outcome], dry_run: bool) {
    match global.format {
        Format::Json => {
            let v = serde_json::json!({
                "ok": true,
                "dry_run": dry_run,
                "messages": outcomes,
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        Format::Text => {
            if !global.quiet {
                let count = |a: Action| outcomes.iter().filter(|o| o.action == a).count();
                let written = outcomes.iter().filter(|o| o.action.writes()).count();
                eprintln!(
                    "{}",
                    tr!(
                        "inbox.summary",
                        total = outcomes.len(),
                        written = written,
                        duplicate = count(Action::Duplicate),
                        set_aside = count(Action::Loop) + count(Action::Rejected)
                    )
                );
            }
        }
    }
}
