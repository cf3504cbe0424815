//! The `mesa` command line: parses arguments and calls the library. Nothing else lives here.

use clap::{Parser, Subcommand};
use mesa::cli::{Format, Global};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "mesa", version, about = "Mesa de servicio en un repositorio git / A service desk in a git repository")]
struct Cli {
    /// Desk folder (default: walk up from the current folder to desk.yaml).
    #[arg(long, global = true, env = "MESA_DESK")]
    desk: Option<PathBuf>,
    /// Output format where the output is data.
    #[arg(long, global = true, value_enum, default_value = "text")]
    format: Format,
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let global = Global {
        desk: cli.desk,
        format: cli.format,
        lang: cli.lang,
        now: cli.now,
        agent: cli.agent,
        quiet: cli.quiet,
    };
    let result = match cli.command {
        Command::Check { history, files } => mesa::cli::check(&global, history.as_deref(), &files),
        Command::Schema { what } => mesa::cli::schema(&global, &what),
    };
    mesa::cli::finish(&global, result)
}
