//! `mesa init DIR`: a new desk in a new git repository. Either an organisation's own desk
//! (desk.yaml written from `init/<lang>/desk.yaml` with its name, domain, support email,
//! country, time zone and language, each in one place; an empty catalog and playbook with one
//! commented example each; one agent, the person running init; no customers, no tickets) or
//! SGM's sample desk as it is in this repository, for trying mesa out. Both get the theme, the
//! merge driver, the pre-commit check and a first commit.

use crate::model::diag::{Error, Result};
use crate::model::load;
use crate::store::git::{write_atomic, Author};
use crate::tr;
use include_dir::{include_dir, Dir};
use std::path::Path;

const SAMPLE_DESK: &str = include_str!("../../desk.yaml");
static SAMPLE_KB: Dir = include_dir!("$CARGO_MANIFEST_DIR/kb");
static SAMPLE_TICKETS: Dir = include_dir!("$CARGO_MANIFEST_DIR/tickets");
static THEME: Dir = include_dir!("$CARGO_MANIFEST_DIR/theme");
/// The new organisation's files, per language: the desk.yaml template and the kb examples.
static NEW_DESK: Dir = include_dir!("$CARGO_MANIFEST_DIR/init");

/// What a new organisation says about itself.
#[derive(Debug, Clone, Default)]
pub struct Organisation {
    pub name: String,
    pub domain: String,
    pub support_email: String,
    /// ISO 3166 code, e.g. `CO`.
    pub country: String,
    /// IANA zone, e.g. `America/Bogota`.
    pub time_zone: String,
    /// `es` or `en`.
    pub language: String,
    /// The person running init, the desk's first agent.
    pub agent_name: String,
    pub agent_email: String,
}

/// How the new desk starts.
#[derive(Debug, Clone)]
pub enum Start {
    /// The organisation's own desk, empty.
    Empty(Organisation),
    /// SGM's sample desk: its configuration, knowledge base and tickets.
    Sample,
}

/// What init did.
#[derive(Debug, Clone)]
pub struct Created {
    pub commit: git2::Oid,
    /// The holiday rule set the working calendar uses (`co`), if the country has one.
    pub holidays: Option<String>,
    /// The country of an empty desk when mesa has no holiday rules for it.
    pub country_without_rules: Option<String>,
}

fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((user, host)) => {
            !user.is_empty() && host.contains('.') && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

fn looks_like_domain(s: &str) -> bool {
    s.contains('.')
        && !s.starts_with('.')
        && !s.ends_with('.')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

impl Organisation {
    /// Every problem of the answers at once, each naming the flag to fix.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.name.trim().is_empty() {
            out.push(tr!("init.bad_name"));
        }
        if !looks_like_domain(self.domain.trim()) {
            out.push(tr!("init.bad_domain", value = self.domain));
        }
        if !looks_like_email(self.support_email.trim()) {
            out.push(tr!(
                "init.bad_email",
                flag = "--support-email",
                value = self.support_email
            ));
        }
        let c = self.country.trim();
        if c.len() != 2 || !c.chars().all(|c| c.is_ascii_alphabetic()) {
            out.push(tr!("init.bad_country", value = self.country));
        }
        if self.time_zone.trim().parse::<chrono_tz::Tz>().is_err() {
            out.push(tr!("init.bad_time_zone", value = self.time_zone));
        }
        if !crate::model::i18n::LANGUAGES.contains(&self.language.trim()) {
            out.push(tr!(
                "init.bad_language",
                value = self.language,
                list = crate::model::i18n::LANGUAGES.join(", ")
            ));
        }
        if self.agent_name.trim().is_empty() {
            out.push(tr!("init.bad_agent_name"));
        }
        if !looks_like_email(self.agent_email.trim()) {
            out.push(tr!(
                "init.bad_email",
                flag = "--agent-email",
                value = self.agent_email
            ));
        }
        out
    }

    /// The agent code of the person running init: their email's local part as an id.
    pub fn agent_code(&self) -> String {
        let local = self.agent_email.split('@').next().unwrap_or_default();
        let code = crate::model::text::slug(local);
        if code.is_empty() {
            "admin".into()
        } else {
            code
        }
    }

    /// The desk.yaml of this organisation, from the language's template.
    pub fn desk_yaml(&self) -> Result<String> {
        let lang = self.language.trim();
        let path = format!("{lang}/desk.yaml");
        let template = NEW_DESK
            .get_file(&path)
            .and_then(|f| f.contents_utf8())
            .ok_or_else(|| Error::Message(format!("init/{path}")))?;
        let country = self.country.trim().to_ascii_uppercase();
        let holidays = crate::rules::holidays::rule_set_for_country(&country);
        let name = self.name.trim();
        let mut ctx = tera::Context::new();
        ctx.insert("name", name);
        ctx.insert("full_name", &tr!("init.full_name", name = name));
        ctx.insert("domain", self.domain.trim());
        ctx.insert("support_email", self.support_email.trim());
        ctx.insert("country", &country);
        ctx.insert("time_zone", self.time_zone.trim());
        ctx.insert("language", lang);
        ctx.insert("holidays", &holidays);
        ctx.insert("agent_code", &self.agent_code());
        ctx.insert("agent_name", self.agent_name.trim());
        ctx.insert("agent_email", self.agent_email.trim());
        ctx.insert(
            "mail_from",
            &format!(
                "{} <{}>",
                tr!("init.full_name", name = name).replace(['<', '>', '"'], ""),
                self.support_email.trim()
            ),
        );
        tera::Tera::one_off(template, &ctx, false)
            .map_err(|e| Error::Message(format!("init/{path}: {e}")))
    }
}

/// Creates the desk in `dir` (made if missing; refused if it already holds a desk), installs
/// the merge driver and pre-commit check, and makes the first commit with `author`.
pub fn init_desk(dir: &Path, start: &Start, author: &Author) -> Result<Created> {
    if dir.join(load::DESK_FILE).exists() {
        return Err(Error::Message(tr!(
            "hooks.desk_exists",
            path = dir.display()
        )));
    }
    let mut created = Created {
        commit: git2::Oid::ZERO_SHA1,
        holidays: None,
        country_without_rules: None,
    };
    let desk_text = match start {
        Start::Empty(org) => {
            let problems = org.problems();
            if !problems.is_empty() {
                return Err(Error::Usage(problems.join("\n")));
            }
            let country = org.country.trim().to_ascii_uppercase();
            match crate::rules::holidays::rule_set_for_country(&country) {
                Some(r) => created.holidays = Some(r.to_string()),
                None => created.country_without_rules = Some(country),
            }
            org.desk_yaml()?
        }
        Start::Sample => SAMPLE_DESK.to_string(),
    };
    std::fs::create_dir_all(dir)?;
    write_atomic(&dir.join(load::DESK_FILE), desk_text.as_bytes())?;
    extract(&THEME, &dir.join("theme"))?;
    match start {
        Start::Empty(org) => {
            let lang = org.language.trim();
            let kb = NEW_DESK
                .get_dir(format!("{lang}/kb"))
                .ok_or_else(|| Error::Message(format!("init/{lang}/kb")))?;
            extract(kb, &dir.join("kb"))?;
            for sub in ["kb/articles", "tickets"] {
                std::fs::create_dir_all(dir.join(sub))?;
                write_atomic(&dir.join(sub).join(".gitkeep"), b"")?;
            }
        }
        Start::Sample => {
            extract(&SAMPLE_KB, &dir.join("kb"))?;
            extract(&SAMPLE_TICKETS, &dir.join("tickets"))?;
        }
    }
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        write_atomic(&ignore, b"/outbox/\n/_site/\n/rejected/\n")?;
    }
    let repo = git2::Repository::init(dir)?;
    let root = dir.canonicalize()?;
    crate::store::hooks::install(&repo, &root)?;
    if let Start::Empty(org) = start {
        // The person running init commits as the agent they just became, whatever git's
        // global identity is, so that their steps and `mesa doctor` find them in desk.yaml.
        let email = org.agent_email.trim();
        let current = repo.config()?.get_string("user.email").ok();
        if !current.is_some_and(|c| c.eq_ignore_ascii_case(email)) {
            let mut local = repo.config()?.open_level(git2::ConfigLevel::Local)?;
            local.set_str("user.name", org.agent_name.trim())?;
            local.set_str("user.email", email)?;
        }
    }
    let lang = match start {
        Start::Empty(org) => org.language.trim().to_string(),
        Start::Sample => "es".into(),
    };
    let message = crate::model::i18n::Catalog::load(&lang, None).get("hooks.init_commit");
    created.commit = crate::store::git::commit_all(&repo, &message, author)?;
    Ok(created)
}

fn extract(dir: &Dir, to: &Path) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for f in dir.files() {
        write_atomic(
            &to.join(f.path().file_name().unwrap_or_default()),
            f.contents(),
        )?;
    }
    for d in dir.dirs() {
        extract(d, &to.join(d.path().file_name().unwrap_or_default()))?;
    }
    Ok(())
}
