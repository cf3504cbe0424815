//! The `mesa` command line: parses arguments and calls the library. Nothing else lives here.

use clap::{Parser, Subcommand};
use mesa::cli::Global;
use std::path::PathBuf;
use std::process::ExitCode;

/// Builds of large desks allocate millions of small strings; mimalloc makes that a third cheaper.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "mesa",
    version,
    about = "Mesa de servicio en un repositorio git / A service desk in a git repository"
)]
struct Cli {
    /// Desk folder (default: walk up from the current folder to desk.yaml).
    #[arg(long, global = true, env = "MESA_DESK")]
    desk: Option<PathBuf>,
    /// Output format where the output is data (csv: `mesa report` only).
    #[arg(long, global = true, value_enum, default_value = "text")]
    format: mesa::output::report::OutputFormat,
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
enum Command {
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
    Ticket(mesa::steps::TicketCommand),
    /// Each calendar's working hours and the holidays it closes on.
    Calendar {
        /// Year whose holidays to list (default: this year).
        #[arg(long)]
        year: Option<i32>,
    },
    /// Explain a ticket's SLA clocks: segments, working time used and left, due instant, why.
    Sla { id: String },
    /// Supervisors' report: SLA compliance, risk, backlog, escalations, quality, quotes, times.
    #[command(after_long_help = mesa::output::report::help_definitions())]
    Report {
        /// Tickets created from this date (YYYY-MM-DD in the desk's zone, or RFC 3339).
        #[arg(long)]
        from: Option<String>,
        /// Tickets created up to this date, inclusive (YYYY-MM-DD, or RFC 3339 exclusive).
        #[arg(long)]
        to: Option<String>,
        /// Break the figures down by this key.
        #[arg(long, value_enum)]
        by: Option<mesa::output::report::By>,
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
        action: mesa::steps::kb_draft::KbCommand,
    },
    /// Customer email coming in: replies, answers and new cases (`inbox import SOURCE...`).
    Inbox {
        #[command(subcommand)]
        action: mesa::cli::inbox::InboxCommand,
    },
    /// Customer emails queued in this clone: list them or deliver them over SMTP.
    Outbox {
        #[command(subcommand)]
        action: mesa::mail::outbox::OutboxCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let global = Global {
        desk: cli.desk,
        format: cli.format.base(),
        lang: cli.lang,
        now: cli.now,
        agent: cli.agent,
        quiet: cli.quiet,
    };
    let csv = cli.format == mesa::output::report::OutputFormat::Csv;
    if csv && !matches!(cli.command, Command::Report { .. }) {
        return mesa::cli::finish(&global, mesa::output::report::refuse_csv(&global));
    }
    let result = match cli.command {
        Command::Check { history, files } => mesa::cli::check(&global, history.as_deref(), &files),
        Command::Schema { what } => mesa::cli::schema(&global, &what),
        Command::Calendar { year } => mesa::cli::sla::calendar(&global, year),
        Command::Sla { id } => mesa::cli::sla::sla(&global, &id),
        Command::Report { from, to, by } => {
            mesa::output::report::run(&global, from.as_deref(), to.as_deref(), by, csv)
        }
        Command::Ticket(cmd) => mesa::steps::run(&global, cmd),
        Command::Build { out, public } => {
            mesa::output::site::command(&global, out.as_deref(), public)
        }
        Command::Serve { port, bind, public } => {
            mesa::output::server::serve(&global, port, &bind, public)
        }
        Command::Outbox { action } => mesa::mail::outbox::run(&global, &action),
        Command::Inbox { action } => mesa::cli::inbox::run(&global, &action),
        Command::Kb { action } => mesa::steps::kb_draft::run(&global, &action),
    };
    mesa::cli::finish(&global, result)
}
