//! The face: the only part of mesa that knows the terminal. It parses arguments, activates the
//! language, calls the library (the steps API for every change, the outputs for reading),
//! prints the result as text or JSON in the desk's language, and turns it into an exit code.
//! One file per command group.

pub mod check;
pub mod common;
pub mod doctor;
pub mod inbox;
pub mod kb;
pub mod list;
pub mod localize;
pub mod outbox;
pub mod progress;
pub mod report;
pub mod setup;
pub mod site;
pub mod sla;
pub mod sweep;
pub mod tickets;
pub mod view;

use check::{check, schema};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
pub use common::{finish, Format, Global};
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "mesa",
    version,
    about = "Mesa de servicio en un repositorio git / A service desk in a git repository"
)]
pub struct Cli {
    /// Desk folder (default: walk up from the current folder to desk.yaml).
    #[arg(long, global = true, env = "MESA_DESK")]
    desk: Option<PathBuf>,
    /// Output format where the output is data (csv: `mesa report` only).
    #[arg(long, global = true, value_enum, default_value = "text")]
    format: report::OutputFormat,
    /// Language of messages (es, en); default: the desk's language.
    #[arg(long, global = true, env = "MESA_LANG")]
    lang: Option<String>,
    /// The current time (RFC 3339), for tests and for logging a step after the fact.
    #[arg(long, global = true, env = "MESA_NOW")]
    now: Option<String>,
    /// The acting agent's code (default: git's user.email matched to desk.yaml).
    #[arg(long, global = true, env = "MESA_AGENT")]
    agent: Option<String>,
    /// Less output: no progress, only results and errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Validate the whole desk: config, knowledge base and every ticket.
    Check {
        /// Replay every commit in a range (A..B) and refuse hand edits of past events.
        #[arg(long)]
        history: Option<String>,
        /// With --history: read the desk from the commits themselves, in a server's bare
        /// repository (GIT_DIR, or the current folder); chosen by itself when no desk.yaml is
        /// found.
        #[arg(long, requires = "history")]
        bare: bool,
        /// Only these files (as the pre-commit hook passes them).
        files: Vec<PathBuf>,
    },
    /// Print the JSON Schema of a file format: ticket, article, catalog, playbook, desk.
    Schema { what: String },
    /// The ticket life cycle: new, classify, ..., show, list, sweep; init and hooks.
    #[command(flatten)]
    Ticket(tickets::TicketCommand),
    /// Each calendar's working hours and the holidays it closes on.
    Calendar {
        /// Year whose holidays to list (default: this year).
        #[arg(long)]
        year: Option<i32>,
    },
    /// Explain a ticket's SLA clocks: segments, pauses (and whom they wait on), working time used
    /// and left, due instant, why.
    Sla { id: String },
    /// Supervisors' report: SLA compliance, risk, backlog, escalations, quality, quotes, times.
    // `after_long_help`: the report's definitions, set in `main` only when help is asked for.
    Report {
        /// Tickets created from this date (YYYY-MM-DD in the desk's zone, or RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Tickets created up to this date, inclusive (YYYY-MM-DD, or RFC 3339 exclusive).
        #[arg(long)]
        to: Option<String>,
        /// Break the figures down by this key.
        #[arg(long, value_enum)]
        by: Option<report::ByArg>,
        /// Instead of the figures, the trend per week or month: opened, closed, backlog at the
        /// end with its ages, compliance of the clocks that ended in each period.
        #[arg(long, value_enum, conflicts_with = "by")]
        trend: Option<report::TrendArg>,
        /// Instead of the figures, who holds what: each agent's open tickets by level and
        /// clock state, the oldest and the nearest due; each customer's open tickets, tickets
        /// with a breach in the period and quotes awaiting an answer.
        #[arg(long, conflicts_with_all = ["by", "trend"])]
        load: bool,
        /// Instead of printing, queue the summary email of the period (key figures, breached
        /// and at-risk tickets, links to the site's reports) to this address (repeatable).
        #[arg(long, value_name = "TO", conflicts_with_all = ["by", "trend", "load"])]
        mail: Vec<String>,
    },
    /// Build the static site: knowledge base, playbook, catalog, tables, tickets and reports.
    Build {
        /// Output folder (default: `_site` in the desk).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Public build: no tickets, reports, customers' contacts or internal articles.
        #[arg(long)]
        public: bool,
    },
    /// Build the site, serve it on this machine and rebuild it when the desk changes.
    Serve {
        /// TCP port (0 picks a free one).
        #[arg(long, default_value_t = 8000)]
        port: u16,
        /// Address to listen on; the default serves this machine only.
        #[arg(long, default_value = "127.0.0.1")]
        bind: String,
        /// Serve the public build: no tickets, reports, customers' contacts or internal articles.
        #[arg(long)]
        public: bool,
        /// Allow a non-loopback --bind for the internal build (tickets, customers, reports).
        #[arg(long)]
        allow_remote: bool,
    },
    /// What this clone lacks (hooks, merge driver, .gitattributes, identity, mail settings)
    /// and what a killed or concurrent command left (locks, a half-done step, a stale index),
    /// with how to fix each; `--repair` repairs what a killed command left.
    Doctor {
        /// Repair: take over a dead command's lock, finish or undo its step, fix the index.
        #[arg(long)]
        repair: bool,
    },
    /// Knowledge base: draft an article from a solved ticket (`kb new --from-ticket ID`).
    Kb {
        #[command(subcommand)]
        action: kb::KbCommand,
    },
    /// Customer email coming in: replies, answers and new cases (`inbox import SOURCE...`,
    /// `inbox fetch`).
    Inbox {
        #[command(subcommand)]
        action: inbox::InboxCommand,
    },
    /// The desk's CI: `ci install github|gitlab|forgejo`.
    Ci(setup::CiArgs),
    /// Customer emails queued in this clone: list them or deliver them over SMTP.
    Outbox {
        #[command(subcommand)]
        action: outbox::OutboxCommand,
    },
    /// Shell completions for mesa's commands and options (bash, zsh, fish, powershell).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Parses the command line and runs the command; the process exit code.
pub fn main() -> ExitCode {
    restore_sigpipe();
    // The build's developer trace (`MESA_TRACE=1`) goes to stderr, printed here.
    crate::output::site::output::set_trace_sink(|line| eprintln!("{line}"));
    let args: Vec<OsString> = std::env::args_os().collect();
    localize::activate_early(&args);
    let mut cmd = localize::localize(Cli::command());
    // The report's definitions take a catalog of their own to write: only for a help page
    // (every other command would pay for them).
    if args
        .iter()
        .skip(1)
        .any(|a| a == "--help" || a == "-h" || a == "help")
    {
        cmd = cmd.mut_subcommand("report", |c| {
            c.after_long_help(crate::output::report::help_definitions())
        });
    }
    let matches = match cmd.try_get_matches_from_mut(&args) {
        Ok(m) => m,
        Err(e) => return usage_error(&e, &cmd),
    };
    if let Some(("help", sub)) = matches.subcommand() {
        let path: Vec<String> = sub
            .get_many::<String>("command")
            .map(|v| v.cloned().collect())
            .unwrap_or_default();
        return help(&mut cmd, &path);
    }
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return usage_error(&e.with_cmd(&cmd), &cmd),
    };
    let global = Global {
        desk: cli.desk,
        format: cli.format.base(),
        lang: cli.lang,
        now: cli.now,
        agent: cli.agent,
        quiet: cli.quiet,
        csv: cli.format == report::OutputFormat::Csv,
    };
    let csv = cli.format == report::OutputFormat::Csv;
    let table = matches!(
        cli.command,
        Command::Report { .. } | Command::Ticket(tickets::TicketCommand::List(_))
    );
    if csv && !table {
        return finish(&global, report::refuse_csv(&global));
    }
    let result = match cli.command {
        Command::Check {
            history,
            bare,
            files,
        } => check(&global, history.as_deref(), bare, &files),
        Command::Schema { what } => schema(&global, &what),
        Command::Calendar { year } => sla::calendar(&global, year),
        Command::Sla { id } => sla::sla(&global, &id),
        Command::Report { from, to, mail, .. } if !mail.is_empty() => {
            report::mail(&global, from.as_deref(), to.as_deref(), &mail)
        }
        Command::Report {
            from,
            to,
            by,
            trend,
            load,
            mail: _,
        } => report::run(
            &global,
            from.as_deref(),
            to.as_deref(),
            by.map(Into::into),
            trend.map(Into::into),
            load,
            csv,
        ),
        Command::Ticket(cmd) => tickets::run(&global, cmd),
        Command::Build { out, public } => site::build(&global, out.as_deref(), public),
        Command::Serve {
            port,
            bind,
            public,
            allow_remote,
        } => site::serve(&global, port, &bind, public, allow_remote),
        Command::Doctor { repair } => doctor::run(&global, repair),
        Command::Outbox { action } => outbox::run(&global, &action),
        Command::Inbox { action } => inbox::run(&global, &action),
        Command::Kb { action } => kb::run(&global, &action),
        Command::Ci(a) => setup::ci(&global, a),
        Command::Completions { shell } => {
            let mut out = std::io::stdout();
            clap_complete::generate(shell, &mut cmd, "mesa", &mut out);
            Ok(ExitCode::SUCCESS)
        }
    };
    finish(&global, result)
}

/// Help and version go to standard output (exit 0); anything else is a usage error in the
/// desk's language (exit 2).
fn usage_error(e: &clap::Error, cmd: &clap::Command) -> ExitCode {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let text = localize::translate_rendered(&e.render().to_string());
            let _ = write!(std::io::stdout(), "{text}");
            ExitCode::SUCCESS
        }
        _ => {
            eprint!("{}", localize::render_error(e, cmd));
            ExitCode::from(2)
        }
    }
}

/// `mesa help [COMMAND...]`: the help of the named command.
fn help(cmd: &mut clap::Command, path: &[String]) -> ExitCode {
    let mut current = cmd.clone();
    let mut names = Vec::new();
    for name in path {
        let found = current
            .get_subcommands()
            .find(|s| s.get_name() == name || s.get_all_aliases().any(|a| a == name))
            .cloned();
        match found {
            Some(next) => {
                names.push(next.get_name().to_string());
                current = next;
            }
            None => {
                let mut e =
                    clap::Error::new(clap::error::ErrorKind::InvalidSubcommand).with_cmd(cmd);
                e.insert(
                    clap::error::ContextKind::InvalidSubcommand,
                    clap::error::ContextValue::String(name.clone()),
                );
                return usage_error(&e, cmd);
            }
        }
    }
    if !names.is_empty() {
        current = current.bin_name(format!("mesa {}", names.join(" ")));
    }
    let mut text = localize::translate_rendered(&current.render_help().to_string());
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let _ = write!(std::io::stdout(), "{text}");
    ExitCode::SUCCESS
}

/// `mesa show ID | head -1`: when the reader goes away, end quietly as other Unix tools do
/// (killed by SIGPIPE) instead of panicking in `println!`. Every step has committed and queued
/// its mail before anything is printed, so nothing is left half done.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: resets one signal's disposition to the default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
