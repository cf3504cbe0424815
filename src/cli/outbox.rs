//! `mesa outbox list|send|requeue`: the customer emails queued in this clone.

use super::common::{Format, Global};
use crate::mail::outbox;
use crate::model::diag::{Error, Result};
use crate::tr;
use std::process::ExitCode;

/// `mesa outbox ...`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum OutboxCommand {
    /// List the queued messages, their state and last error.
    List,
    /// Deliver the queued messages over SMTP (desk.yaml `mail`; credentials from
    /// MESA_SMTP_USER and MESA_SMTP_PASSWORD).
    Send {
        /// Also resend messages flagged "possibly sent" (the connection broke after DATA);
        /// they keep their Message-ID, so a duplicate can be recognised.
        #[arg(long)]
        retry_uncertain: bool,
        /// With --retry-uncertain: resend every possibly-sent message without asking one by one.
        #[arg(long)]
        yes: bool,
        /// Record deliveries in the tickets without committing.
        #[arg(long)]
        no_commit: bool,
    },
    /// Queue again the emails a ticket's events record but this clone's outbox lacks (after
    /// a step was committed and queueing failed). Use it in the clone that recorded the step.
    Requeue {
        /// Case number.
        id: String,
    },
}

/// Names each message the server may already hold and asks, one by one, whether to send it
/// again (`--yes`: all of them). Without a terminal to ask on and without `--yes`, refuses.
/// Returns the stems to resend.
fn confirm_uncertain(root: &std::path::Path, yes: bool) -> Result<Vec<String>> {
    use std::io::{BufRead, IsTerminal, Write};
    let entries = outbox::uncertain(root);
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    eprintln!("{}", tr!("outbox_guard.may_hold", count = entries.len()));
    for e in &entries {
        let why = e
            .uncertain
            .as_ref()
            .map(|u| u.error.clone())
            .unwrap_or_else(|| tr!("outbox.interrupted"));
        eprintln!(
            "{}",
            tr!(
                "outbox_guard.entry",
                message = e.stem,
                to = e.message.to,
                subject = e.message.subject,
                why = why
            )
        );
    }
    if yes {
        return Ok(entries.into_iter().map(|e| e.stem).collect());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::Usage(tr!("outbox_guard.need_yes")));
    }
    let mut chosen = Vec::new();
    let mut lines = stdin.lock().lines();
    for e in entries {
        eprint!(
            "{}",
            tr!("outbox_guard.ask", message = e.stem, to = e.message.to)
        );
        let _ = std::io::stderr().flush();
        let answer = lines.next().and_then(|l| l.ok()).unwrap_or_default();
        let answer = answer.trim().to_lowercase();
        if matches!(answer.as_str(), "y" | "yes" | "s" | "si" | "sí") {
            chosen.push(e.stem);
        }
    }
    Ok(chosen)
}

/// Runs `mesa outbox ...`.
pub fn run(global: &Global, cmd: &OutboxCommand) -> Result<ExitCode> {
    let root = global.desk_root()?;
    match cmd {
        OutboxCommand::List => {
            let (entries, broken) = outbox::list(&root);
            for b in &broken {
                eprintln!("{b}");
            }
            match global.format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&entries).unwrap_or_default()
                ),
                Format::Text => {
                    if entries.is_empty() {
                        println!("{}", tr!("outbox.empty"));
                    }
                    for e in &entries {
                        println!(
                            "{}  {}  {}  {}  {}",
                            tr!(e.state.key()),
                            e.message.ticket,
                            e.message.kind,
                            e.message.envelope_to,
                            e.message.subject
                        );
                        if let Some(f) = e.uncertain.as_ref().or(e.error.as_ref()) {
                            println!(
                                "    {}",
                                tr!(
                                    "outbox.last_error",
                                    at = f.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                                    phase = f.phase,
                                    attempts = f.attempts,
                                    error = f.error
                                )
                            );
                        }
                    }
                }
            }
            Ok(if broken.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        OutboxCommand::Requeue { id } => {
            let desk = crate::model::load::Desk::open(&root)?;
            let ticket = crate::steps::load_ticket(&root, id)?;
            let queued = outbox::requeue(&desk, &ticket)?;
            match global.format {
                Format::Json => println!(
                    "{}",
                    serde_json::json!({ "ok": true, "ticket": ticket.front.id, "queued": queued })
                ),
                Format::Text => {
                    for m in &queued {
                        println!("{}", tr!("outbox.requeued", id = m));
                    }
                    if queued.is_empty() {
                        println!("{}", tr!("outbox.nothing_to_requeue", id = ticket.front.id));
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        OutboxCommand::Send {
            retry_uncertain,
            yes,
            no_commit,
        } => {
            let desk = crate::model::load::Desk::open(&root)?;
            let now = crate::steps::stamp_at(&desk, global.now.as_deref())?;
            let author = super::common::automatic_author(&desk, global, now);
            let retry = if *retry_uncertain {
                confirm_uncertain(&root, *yes)?
            } else {
                Vec::new()
            };
            let delivery = crate::steps::delivery::send(
                &desk,
                now,
                &author,
                outbox::SendOptions { retry },
                !no_commit,
            )?;
            let report = &delivery.report;
            match global.format {
                Format::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "ok": report.ok(),
                        "sent": report.sent,
                        "failed": report.failed.iter().map(|(s, e)| serde_json::json!({"message": s, "error": e})).collect::<Vec<_>>(),
                        "uncertain": report.uncertain.iter().map(|(s, e)| serde_json::json!({"message": s, "error": e})).collect::<Vec<_>>(),
                        "broken": report.broken,
                        "from_git": delivery.from_git,
                        "elsewhere": delivery.elsewhere,
                        "recorded": delivery.recorded,
                        "commit": delivery.commit.map(|c| c.to_string()),
                        "errors": delivery.errors,
                    }))
                    .unwrap_or_default()
                ),
                Format::Text => {
                    for b in report.broken.iter().chain(&delivery.errors) {
                        eprintln!("{b}");
                    }
                    if !global.quiet {
                        for m in &delivery.from_git {
                            println!("{}", tr!("outbox.from_git_line", message = m));
                        }
                    }
                    for m in &delivery.elsewhere {
                        println!("{}", tr!("outbox.elsewhere_line", message = m));
                    }
                    if !global.quiet {
                        for s in &report.sent {
                            println!("{}", tr!("outbox.sent_line", message = s));
                        }
                    }
                    for (s, e) in &report.failed {
                        println!("{}", tr!("outbox.failed_line", message = s, error = e));
                    }
                    for (s, e) in &report.uncertain {
                        println!("{}", tr!("outbox.uncertain_line", message = s, error = e));
                    }
                    if !global.quiet || !report.ok() {
                        eprintln!(
                            "{}",
                            tr!(
                                "outbox.summary",
                                sent = report.sent.len(),
                                failed = report.failed.len(),
                                uncertain = report.uncertain.len()
                            )
                        );
                    }
                    if let (Some(c), false) = (delivery.commit, global.quiet) {
                        eprintln!(
                            "{}",
                            tr!(
                                "outbox.recorded",
                                count = delivery.recorded.len(),
                                commit = &c.to_string()[..10]
                            )
                        );
                    }
                }
            }
            Ok(if report.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
