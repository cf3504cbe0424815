//! What every command shares: the global options, the exit path, opening the desk.

use crate::model::diag::{Error, Result};
use crate::model::i18n::{self, Catalog};
use crate::model::load;
use crate::model::load::Desk;
use crate::model::ticket::{Clock, Stamp};
use crate::tr;
use clap::Args;
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
    /// `--format csv`: the commands that print tables (`report`, `list`) write CSV.
    pub csv: bool,
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
            Some(s) => {
                let t = chrono::DateTime::parse_from_rfc3339(s.trim())
                    .map(|t| t.with_timezone(&chrono::Utc))
                    .map_err(|_| Error::Usage(tr!("sla.bad_now", value = s)))?;
                match crate::model::input::instant_problem(t) {
                    Some(p) => Err(Error::Usage(p)),
                    None => Ok(t),
                }
            }
            None => Ok(chrono::Utc::now()),
        }
    }

    /// Activates `--lang`, else the desk's `language`, else Spanish.
    pub fn activate_language(&self, root: Option<&Path>) {
        let lang = self
            .lang
            .clone()
            .or_else(|| root.and_then(load::desk_language))
            .unwrap_or_else(|| "es".into());
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

/// Options every writing command takes.
#[derive(Debug, Args, Clone, Default)]
pub struct Common {
    /// Only write the ticket file; do not commit.
    #[arg(long)]
    pub no_commit: bool,
}

/// Takes the desk lock for this command line (so a busy desk names it) and prints what taking
/// it repaired. Held until the command is done.
pub fn lock_desk(global: &Global) -> Result<crate::store::lock::DeskLock> {
    let root = global.desk_root()?;
    let command: Vec<String> = std::env::args().collect();
    let lock = crate::steps::lock_desk(&root, &command.join(" "))?;
    if !global.quiet {
        for note in &lock.repaired {
            eprintln!("{}", tr!("lock.repaired_note", note = note));
        }
    }
    Ok(lock)
}

pub fn parse_stamp(s: &str) -> Result<Stamp> {
    Stamp::parse(s).map_err(|_| Error::Usage(tr!("cmd.bad_time", value = s)))
}

/// The desk, the instant and the acting agent every writing command starts from.
pub fn open_desk(global: &Global) -> Result<(Desk, Stamp)> {
    let root = global.desk_root()?;
    let desk = Desk::open(&root)?;
    let now = crate::steps::stamp_at(&desk, global.now.as_deref())?;
    Ok((desk, now))
}

/// The author of automatic steps (sweep, delivery records): the acting agent when there is
/// one, else the bot identity `MESA_BOT_NAME` / `MESA_BOT_EMAIL` (the scheduled script sets
/// them), else `mesa <mesa@localhost>`.
pub fn automatic_author(desk: &Desk, global: &Global, now: Stamp) -> crate::store::git::Author {
    if let Ok(agent) = crate::steps::resolve_actor(desk, global.agent.as_deref()) {
        return crate::steps::author_of(agent, &now);
    }
    let mut author = crate::steps::sweep::bot_author(now);
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    if let Some(name) = var("MESA_BOT_NAME") {
        author.name = name;
    }
    if let Some(email) = var("MESA_BOT_EMAIL") {
        author.email = email;
    }
    author
}

/// A clock's name for people.
pub fn clock_name(c: Clock) -> String {
    match c {
        Clock::Response => tr!("show.clock_response"),
        Clock::Resolution => tr!("show.clock_resolution"),
    }
}
