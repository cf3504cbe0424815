//! Setting up desks and clones: `mesa init DIR`, `mesa hooks install`, and the merge driver
//! git calls (`mesa merge-ticket`). The work is in [`crate::store::hooks`] and
//! [`crate::store::merge`].

use super::common::{Format, Global};
use crate::model::diag::{Error, Result};
use crate::model::i18n::Catalog;
use crate::model::load::Desk;
use crate::store::git::Author;
use crate::store::hooks::{install, share_attributes, Shared};
use crate::store::init::{Organisation, Start};
use crate::tr;
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Folder of the new desk (created if missing; must not hold a desk yet).
    pub dir: PathBuf,
    /// The organisation's name, as its customers know it.
    #[arg(long)]
    pub name: Option<String>,
    /// The organisation's email domain, e.g. example.com.
    #[arg(long)]
    pub domain: Option<String>,
    /// Where customers write for support (default: soporte@DOMAIN, or support@DOMAIN in English).
    #[arg(long)]
    pub support_email: Option<String>,
    /// ISO 3166 country code (CO, MX, ES, ...); it picks the holiday rules.
    #[arg(long)]
    pub country: Option<String>,
    /// The desk's time zone, an IANA name such as America/Bogota.
    #[arg(long)]
    pub time_zone: Option<String>,
    /// The desk's language: es (default) or en.
    #[arg(long)]
    pub language: Option<String>,
    /// Your name, as the desk's first agent (default: git's user.name).
    #[arg(long)]
    pub agent_name: Option<String>,
    /// Your email, as the desk's first agent (default: git's user.email).
    #[arg(long)]
    pub agent_email: Option<String>,
    /// Start from SGM's sample desk (catalog, playbook, articles, customers, agents, tickets)
    /// instead of an empty desk of your own.
    #[arg(long, conflicts_with_all = ["name", "domain", "support_email", "country", "time_zone", "language", "agent_name", "agent_email"])]
    pub sample: bool,
    /// Also write the CI configuration for this system (github, gitlab, forgejo).
    #[arg(long, value_name = "KIND")]
    pub ci: Option<String>,
    /// With --ci: when the scheduled job runs (cron, UTC).
    #[arg(long, default_value = crate::store::ci::DEFAULT_CRON, requires = "ci")]
    pub cron: String,
}

#[derive(Debug, Args)]
pub struct CiArgs {
    #[command(subcommand)]
    pub action: CiAction,
}

#[derive(Debug, Subcommand)]
pub enum CiAction {
    /// Write and commit the CI configuration (github, gitlab, forgejo) and the scheduled
    /// script: check --history on every push; sweep, inbox and outbox on a schedule; the
    /// sites on the main branch.
    Install {
        /// github, gitlab or forgejo.
        kind: String,
        /// When the scheduled job runs (cron, UTC; default: every 15 minutes, 07:00-18:45
        /// Bogotá time, Monday to Friday).
        #[arg(long, default_value = crate::store::ci::DEFAULT_CRON)]
        cron: String,
    },
}

/// The author of setup commits: the repository's git identity, else `mesa`.
fn repo_author(root: &Path) -> crate::store::git::Author {
    let sig = git2::Repository::discover(root)
        .and_then(|r| r.signature())
        .ok()
        .map(|s| {
            (
                s.name().unwrap_or("mesa").to_string(),
                s.email().unwrap_or("mesa@localhost").to_string(),
            )
        })
        .unwrap_or_else(|| ("mesa".into(), "mesa@localhost".into()));
    crate::store::git::Author {
        name: sig.0,
        email: sig.1,
        at: chrono::Utc::now().fixed_offset(),
    }
}

/// Installs the CI files of `kind` in the desk at `root` and prints what was written.
fn ci_install(global: &Global, root: &Path, kind: &str, cron: &str) -> Result<()> {
    let written = crate::store::ci::install(root, kind, cron, &repo_author(root), true)?;
    if global.format == Format::Json {
        println!(
            "{}",
            serde_json::json!({"ok": true, "ci": kind, "written": written})
        );
        return Ok(());
    }
    for p in &written {
        println!("{}", tr!("ci.written", path = p.display()));
    }
    if !global.quiet {
        println!("  {}", tr!("ci.next", kind = kind));
    }
    Ok(())
}

/// `mesa ci install KIND`.
pub fn ci(global: &Global, a: CiArgs) -> Result<ExitCode> {
    match a.action {
        CiAction::Install { kind, cron } => {
            let root = global.desk_root()?;
            ci_install(global, &root, &kind, &cron)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Debug, Args)]
pub struct HooksArgs {
    #[command(subcommand)]
    pub action: HooksAction,
}

#[derive(Debug, Subcommand)]
pub enum HooksAction {
    /// Register the ticket merge driver and the pre-commit check in this clone; with
    /// --server, the pre-receive gate in a server's bare repository.
    Install {
        /// Install the push gate in the bare repository given (or the current folder):
        /// every pushed branch must pass `mesa check --history OLD..NEW`.
        #[arg(long, value_name = "BARE_REPO", num_args = 0..=1, default_missing_value = ".")]
        server: Option<PathBuf>,
    },
}

/// git's global identity (the new repository has no config of its own yet).
fn global_identity() -> (Option<String>, Option<String>) {
    let cfg = git2::Config::open_default().ok();
    let get = |k: &str| cfg.as_ref().and_then(|c| c.get_string(k).ok());
    (get("user.name"), get("user.email"))
}

/// Asks on the terminal; an empty answer takes `default`.
fn ask(question: &str, default: Option<&str>) -> Result<String> {
    use std::io::Write;
    let mut err = std::io::stderr();
    match default {
        Some(d) if !d.is_empty() => write!(err, "{question} [{d}]: ")?,
        _ => write!(err, "{question}: ")?,
    }
    err.flush()?;
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line)? == 0 {
        return Err(Error::Usage(tr!("init.no_answer")));
    }
    let line = line.trim();
    Ok(if line.is_empty() {
        default.unwrap_or_default().to_string()
    } else {
        line.to_string()
    })
}

/// The answers: flags, else questions on a terminal, else defaults; flags missing with
/// nobody to ask are a usage error naming them all.
fn gather(global: &Global, a: &InitArgs) -> Result<Start> {
    use std::io::IsTerminal;
    let interactive = std::io::stdin().is_terminal();
    if a.sample {
        return Ok(Start::Sample);
    }
    let given_any = a.name.is_some() || a.domain.is_some() || a.country.is_some();
    if interactive && !given_any {
        let answer = ask(&tr!("init.ask_sample"), Some(&tr!("init.no")))?;
        let answer = crate::model::text::fold(answer.trim());
        if tr!("init.yes_words").split(',').any(|w| w.trim() == answer) {
            return Ok(Start::Sample);
        }
    }
    let (git_name, git_email) = global_identity();
    let mut missing = Vec::new();
    let mut value = |v: &Option<String>,
                     flag: &str,
                     question: &str,
                     default: Option<String>|
     -> Result<String> {
        if let Some(v) = v {
            return Ok(v.clone());
        }
        if interactive {
            return ask(question, default.as_deref());
        }
        match default {
            Some(d) => Ok(d),
            None => {
                missing.push(flag.to_string());
                Ok(String::new())
            }
        }
    };
    let name = value(&a.name, "--name", &tr!("init.ask_name"), None)?;
    let domain = value(&a.domain, "--domain", &tr!("init.ask_domain"), None)?;
    let language = value(
        &a.language,
        "--language",
        &tr!("init.ask_language"),
        Some(global.lang.clone().unwrap_or_else(|| "es".into())),
    )?;
    let local = if language.trim() == "en" {
        "support"
    } else {
        "soporte"
    };
    let support_email = value(
        &a.support_email,
        "--support-email",
        &tr!("init.ask_support_email"),
        (!domain.trim().is_empty()).then(|| format!("{local}@{}", domain.trim())),
    )?;
    let country = value(&a.country, "--country", &tr!("init.ask_country"), None)?;
    let time_zone = value(
        &a.time_zone,
        "--time-zone",
        &tr!("init.ask_time_zone"),
        None,
    )?;
    let agent_name = value(
        &a.agent_name,
        "--agent-name",
        &tr!("init.ask_agent_name"),
        git_name,
    )?;
    let agent_email = value(
        &a.agent_email,
        "--agent-email",
        &tr!("init.ask_agent_email"),
        git_email,
    )?;
    if !missing.is_empty() {
        return Err(Error::Usage(tr!("init.missing", flags = missing.join(" "))));
    }
    Ok(Start::Empty(Organisation {
        name,
        domain,
        support_email,
        country,
        time_zone,
        language,
        agent_name,
        agent_email,
    }))
}

/// `mesa init DIR`.
pub fn init(global: &Global, a: InitArgs) -> Result<ExitCode> {
    if let Some(kind) = &a.ci {
        // Refuse an unknown kind before anything is created.
        if !crate::store::ci::KINDS.iter().any(|k| k.0 == kind) {
            global.activate_language(None);
            crate::store::ci::install(&a.dir, kind, &a.cron, &repo_author(&a.dir), false)?;
        }
    }
    // Questions and refusals come in the interface language (`--lang`, else Spanish).
    let start = gather(global, &a)?;
    let author = match &start {
        Start::Empty(org) => Author {
            name: org.agent_name.trim().to_string(),
            email: org.agent_email.trim().to_string(),
            at: chrono::Local::now().fixed_offset(),
        },
        Start::Sample => {
            let (name, email) = global_identity();
            Author {
                name: name.unwrap_or_else(|| "mesa".into()),
                email: email.unwrap_or_else(|| "mesa@localhost".into()),
                at: chrono::Local::now().fixed_offset(),
            }
        }
    };
    let created = crate::store::init::init_desk(&a.dir, &start, &author)?;
    // From here on, the new desk's own language.
    // What was made is told in the new desk's language (unless `--lang` says otherwise), so a
    // new English desk answers in English at once.
    let lang = global
        .lang
        .clone()
        .or_else(|| crate::model::load::desk_language(&a.dir))
        .unwrap_or_else(|| "es".into());
    let cat = Catalog::load(&lang, Some(&a.dir));
    match global.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({
                "ok": true,
                "desk": a.dir,
                "commit": created.commit.to_string(),
                "sample": matches!(start, Start::Sample),
                "holidays": created.holidays,
                "country_without_holiday_rules": created.country_without_rules,
            })
        ),
        Format::Text => {
            let path = a.dir.display();
            println!("{}", cat.format("hooks.initialised", &[("path", &path)]));
            if let Some(country) = &created.country_without_rules {
                println!(
                    "  {}",
                    cat.format("init.no_holiday_rules", &[("country", country)])
                );
            }
            if !global.quiet {
                println!("  {}", cat.get("hooks.init_next"));
            }
        }
    }
    if let Some(kind) = &a.ci {
        ci_install(global, &a.dir, kind, &a.cron)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `mesa hooks install`.
pub fn hooks(global: &Global, a: HooksArgs) -> Result<ExitCode> {
    match a.action {
        HooksAction::Install {
            server: Some(git_dir),
        } => {
            global.activate_language(None);
            let hook = crate::store::server::install_server(&git_dir)?;
            println!("{}", tr!("hooks.server_installed", path = hook.display()));
            Ok(ExitCode::SUCCESS)
        }
        HooksAction::Install { server: None } => {
            let root = global.desk_root()?;
            let repo = crate::store::git::open_repo(&root)?;
            let root = root.canonicalize()?;
            install(&repo, &root)?;
            let shared = share_attributes(&repo, &root, &tr!("hooks.attributes_commit"))?;
            match global.format {
                Format::Json => {
                    let (state, detail) = match &shared {
                        Shared::Already => ("already", None),
                        Shared::Committed(oid) => ("committed", Some(oid.to_string())),
                        Shared::NotCommitted(why) => ("not_committed", Some(why.clone())),
                    };
                    println!(
                        "{}",
                        serde_json::json!({"ok": true, "attributes": state, "detail": detail})
                    );
                }
                Format::Text => {
                    println!("{}", tr!("hooks.installed"));
                    match &shared {
                        Shared::Already => {}
                        Shared::Committed(oid) => println!(
                            "  {}",
                            tr!("hooks.attributes_committed", commit = short(oid))
                        ),
                        Shared::NotCommitted(why) => println!("  {why}"),
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn short(oid: &git2::Oid) -> String {
    oid.to_string()[..7].to_string()
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The common ancestor's version (%O).
    pub base: PathBuf,
    /// Our version (%A); the merge result is written here.
    pub ours: PathBuf,
    /// Their version (%B).
    pub theirs: PathBuf,
    /// The file's path in the repository (%P), for messages and to find the desk.
    pub path: Option<PathBuf>,
}

/// `mesa merge-ticket`: exit 0 with the merged ticket in OURS, or 1 (git then reports a
/// conflict) when the versions cannot be merged.
pub fn merge_driver(global: &Global, a: MergeArgs) -> Result<ExitCode> {
    let shown = a.path.clone().unwrap_or_else(|| a.ours.clone());
    let root = match &global.desk {
        Some(d) => d.clone(),
        None => {
            let cwd = std::env::current_dir()?;
            let start = cwd.join(&shown);
            let start = start.parent().unwrap_or(&cwd);
            crate::model::load::find_desk(start)
                .or_else(|| crate::model::load::find_desk(&cwd))
                .ok_or_else(|| Error::Message(tr!("load.no_desk_found")))?
        }
    };
    global.activate_language(Some(&root));
    let (desk, _) = Desk::load(&root)?;
    let read = |p: &Path| -> Result<String> {
        crate::model::front_matter::read_text(p).map_err(|mut d| {
            d.path = shown.clone();
            Error::from(d)
        })
    };
    let base = read(&a.base)?;
    let ours = read(&a.ours)?;
    let theirs = read(&a.theirs)?;
    let merged = crate::store::merge::merge_texts(&desk, &shown, &base, &ours, &theirs)?;
    crate::store::git::write_atomic(&a.ours, merged.as_bytes())?;
    Ok(ExitCode::SUCCESS)
}
