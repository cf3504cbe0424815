//! Finding and loading a desk: `desk.yaml` and `kb/`. Loading never stops at the first broken
//! file: every problem becomes a diagnostic and the rest still loads, so `mesa check` can list
//! them all in one run.

use crate::model::desk::DeskConfig;
use crate::model::diag::{Diagnostic, Error, Result};
use crate::model::front_matter;
use crate::model::kb::{Kb, Page};
use crate::tr;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};

pub const DESK_FILE: &str = "desk.yaml";

/// A loaded desk: where it is, its configuration and its knowledge base.
#[derive(Debug, Clone)]
pub struct Desk {
    pub root: PathBuf,
    pub config: DeskConfig,
    pub kb: Kb,
}

impl Desk {
    pub fn tickets_dir(&self) -> PathBuf {
        self.root.join("tickets")
    }

    /// Loads the desk; problems in config or kb files come back as diagnostics beside it.
    /// Only a missing or unparseable `desk.yaml` is fatal.
    pub fn load(root: &Path) -> Result<(Desk, Vec<Diagnostic>)> {
        let mut diags = Vec::new();
        let config_path = root.join(DESK_FILE);
        let config = load_config(&config_path)?;
        let kb = load_kb(root, &mut diags);
        Ok((
            Desk {
                root: root.to_path_buf(),
                config,
                kb,
            },
            diags,
        ))
    }
}

/// The `language:` a desk's desk.yaml declares, read without parsing the file (the language
/// is needed before anything else, even for a desk too broken to load).
pub fn desk_language(root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(root.join(DESK_FILE)).ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix("language:")
            .map(|v| v.trim().trim_matches('"').trim_matches('\'').to_string())
    })
}

/// Walks up from `start` to the first folder holding `desk.yaml`.
pub fn find_desk(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d.join(DESK_FILE).is_file() {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    None
}

/// Parses `desk.yaml`; its syntax and schema errors are fatal (nothing else can be checked
/// without it) but still reported with their position.
pub fn load_config(path: &Path) -> Result<DeskConfig> {
    let text = front_matter::read_text(path).map_err(|d| {
        if d.line == 0 {
            Error::Message(tr!("load.no_desk", path = path.display()))
        } else {
            Error::from(d)
        }
    })?;
    parse_config(path, &text).map_err(Error::from)
}

pub fn parse_config(path: &Path, text: &str) -> std::result::Result<DeskConfig, Diagnostic> {
    let split = front_matter::Split {
        yaml: text,
        body: "",
        yaml_line: 1,
    };
    front_matter::parse(path, &split)
}

/// Loads every `*.md` file of `dir` as a page with front matter `F`, sorted by id.
pub fn load_pages<F: DeserializeOwned>(dir: &Path, diags: &mut Vec<Diagnostic>) -> Vec<Page<F>> {
    let mut pages = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return pages;
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    paths.sort();
    for path in paths {
        match load_page::<F>(&path) {
            Ok(p) => pages.push(p),
            Err(d) => diags.push(d),
        }
    }
    pages
}

pub fn load_page<F: DeserializeOwned>(path: &Path) -> std::result::Result<Page<F>, Diagnostic> {
    let text = front_matter::read_text(path)?;
    let split = front_matter::split(path, &text)?;
    let front: F = front_matter::parse(path, &split)?;
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let body_line = split.yaml_line + split.yaml.lines().count() + 1;
    Ok(Page {
        id,
        path: path.to_path_buf(),
        front,
        body: split.body.to_string(),
        body_line,
    })
}

/// Loads `kb/`: catalog sorted by the manual's order, playbook cases likewise, articles by id.
pub fn load_kb(root: &Path, diags: &mut Vec<Diagnostic>) -> Kb {
    let kb_dir = root.join("kb");
    let mut catalog: Vec<crate::model::kb::CatalogEntry> =
        load_pages(&kb_dir.join("catalog"), diags);
    catalog.sort_by(|a, b| a.front.order.cmp(&b.front.order).then(a.id.cmp(&b.id)));
    let mut playbook: Vec<crate::model::kb::PlaybookCase> =
        load_pages(&kb_dir.join("playbook"), diags);
    playbook.sort_by(|a, b| a.front.order.cmp(&b.front.order).then(a.id.cmp(&b.id)));
    let articles = load_pages(&kb_dir.join("articles"), diags);
    Kb {
        catalog,
        playbook,
        articles,
    }
}

/// Every ticket file under `tickets/`, sorted.
/// Suffix of the folder beside a ticket file that keeps its email attachments.
pub const ATTACHMENT_DIR_SUFFIX: &str = ".files";

pub fn ticket_paths(root: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = walkdir::WalkDir::new(root.join("tickets"))
        .into_iter()
        // `<ID>.files/` beside a ticket holds its email attachments, never tickets.
        .filter_entry(|e| {
            !(e.file_type().is_dir()
                && e.file_name()
                    .to_string_lossy()
                    .ends_with(ATTACHMENT_DIR_SUFFIX))
        })
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file() && e.path().extension().is_some_and(|x| x == "md"))
        .map(|e| e.into_path())
        .collect();
    paths.sort();
    paths
}

/// Loads every ticket, in parallel; unparseable ones become diagnostics.
pub fn load_tickets(root: &Path) -> (Vec<crate::model::ticket::Ticket>, Vec<Diagnostic>) {
    use rayon::prelude::*;
    let results: Vec<std::result::Result<crate::model::ticket::Ticket, Diagnostic>> =
        ticket_paths(root)
            .par_iter()
            .map(|p| {
                let text = front_matter::read_text(p)?;
                crate::model::ticket::parse(&rel(root, p), &text)
            })
            .collect();
    let mut tickets = Vec::with_capacity(results.len());
    let mut diags = Vec::new();
    for r in results {
        match r {
            Ok(t) => tickets.push(t),
            Err(d) => diags.push(d),
        }
    }
    (tickets, diags)
}

/// `path` relative to the desk root, for messages.
pub fn rel(root: &Path, path: &Path) -> PathBuf {
    path.strip_prefix(root).unwrap_or(path).to_path_buf()
}
