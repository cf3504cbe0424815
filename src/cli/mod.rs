//! The face: the only part of mesa that knows the terminal. It parses arguments, activates the
//! language, calls the library (the steps API for every change, the outputs for reading),
//! prints the result as text or JSON in the desk's language, and turns it into an exit code.
//! One file per command group.

pub mod check;
pub mod common;
pub mod kb;
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
use clap::{Parser, Subcommand};
pub use common::{finish, Format, Global};
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
    /// Explain a ticket's SLA clocks: segments, working time used and left, due instant, why.
    Sla { id: String },
    /// Supervisors' report: SLA compliance, risk, backlog, escalations, quality, quotes, times.
    #[command(after_long_help = crate::output::report::help_definitions())]
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
    },
    /// Knowledge base: draft an article from a solved ticket (`kb new --from-ticket ID`).
    Kb {
        #[command(subcommand)]
        action: kb::KbCommand,
    },
    /// Customer emails queued in this clone: list them or deliver them over SMTP.
    Outbox {
        #[command(subcommand)]
        action: outbox::OutboxCommand,
    },
}

/// Parses the command line and runs the command; the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let global = Global {
        desk: cli.desk,
        format: cli.format.base(),
        lang: cli.lang,
        now: cli.now,
        agent: cli.agent,
        quiet: cli.quiet,
    };
    let csv = cli.format == report::OutputFormat::Csv;
    if csv && !matches!(cli.command, Command::Report { .. }) {
        return finish(&global, report::refuse_csv(&global));
    }
    let result = match cli.command {
        Command::Check { history, files } => check(&global, history.as_deref(), &files),
        Command::Schema { what } => schema(&global, &what),
        Command::Calendar { year } => sla::calendar(&global, year),
        Command::Sla { id } => sla::sla(&global, &id),
        Command::Report {
            from,
            to,
            by,
            trend,
            load,
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
        Command::Serve { port, bind, public } => site::serve(&global, port, &bind, public),
        Command::Outbox { action } => outbox::run(&global, &action),
        Command::Kb { action } => kb::run(&global, &action),
    };
    finish(&global, result)
}
