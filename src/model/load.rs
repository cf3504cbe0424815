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

pub const DESK_FILE: &str = crate::model::fsread::DESK_FILE;

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
    // Through the safe reader, checked to exist first: this runs before the language is
    // active, and a refusal's message would activate the default catalog.
    let path = root.join(DESK_FILE);
    std::fs::symlink_metadata(&path).ok()?;
    let text = crate::model::fsread::read_text(&path).ok()?;
    text.lines().find_map(|l| {
        l.strip_prefix("language:")
            .map(|v| v.trim().trim_matches('"').trim_matches('\'').to_string())
    })
}

/// Walks up from `start` to the first folder holding `desk.yaml`.
pub fn find_desk(start: &Path) -> Option<PathBuf> {
    crate::model::fsread::find_desk(start)
}

/// Parses `desk.yaml`; its syntax and schema errors are fatal (nothing else can be checked
/// without it) but still reported with their position.
pub fn load_config(path: &Path) -> Result<DeskConfig> {
    load_config_text(path).map(|(config, _)| config)
}

/// [`load_config`], with the text that was parsed (what a cache keyed on the file hashes).
pub fn load_config_text(path: &Path) -> Result<(DeskConfig, String)> {
    let text = front_matter::read_text(path).map_err(|d| {
        if d.line == 0 {
            Error::Message(tr!("load.no_desk", path = path.display()))
        } else {
            Error::from(d)
        }
    })?;
    let config = parse_config(path, &text).map_err(Error::from)?;
    crate::model::fsread::set_limits(config.limits);
    Ok((config, text))
}

pub fn parse_config(path: &Path, text: &str) -> std::result::Result<DeskConfig, Diagnostic> {
    let split = front_matter::Split {
        yaml: text,
        body: "",
        yaml_line: 1,
    };
    let mut config: DeskConfig = front_matter::parse(path, &split)?;
    // A calendar without its own zone runs in the desk's: one setting for the whole desk.
    for cal in &mut config.calendars {
        if cal.time_zone.is_empty() {
            cal.time_zone = config.time_zone.clone();
        }
    }
    Ok(config)
}

/// Loads every `*.md` file of `dir` as a page with front matter `F`, sorted by id.
pub fn load_pages<F: DeserializeOwned + Send>(
    dir: &Path,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Page<F>> {
    let mut pages = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return pages;
    };
    // A folder that is a link leaving the desk (or a special file) is refused, not read.
    if let crate::model::fsread::Kind::Refused(why) = crate::model::fsread::kind(dir) {
        diags.push(Diagnostic::new(dir, 0, 0, why));
        return pages;
    }
    // Every `*.md` entry goes to the reader, whatever it is: one that is not a regular file in
    // the desk is reported there, never skipped.
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let md = p.extension().is_some_and(|x| x == "md");
            md || crate::model::fsread::worth_reporting(p, false)
        })
        .collect();
    paths.sort();
    // Read and parsed on every core (a knowledge base of 10,000 articles took a fifth of a
    // build on one); results are gathered in path order, so pages and diagnostics keep it.
    use rayon::prelude::*;
    let loaded: Vec<std::result::Result<Page<F>, Diagnostic>> =
        paths.par_iter().map(|path| load_page::<F>(path)).collect();
    for r in loaded {
        match r {
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
    Kb::new(catalog, playbook, articles)
}

/// Suffix of the folder beside a ticket file that keeps its email attachments.
pub const ATTACHMENT_DIR_SUFFIX: &str = ".files";

/// Every ticket path under `tickets/`, sorted: the `*.md` files, and every entry the reader
/// must refuse (a `*.md` that is a folder, a FIFO or a device, any symbolic link that is not a
/// regular file inside the desk), so that reading it reports the problem instead of the
/// ticket silently dropping out of checks, reports and the site. Links are not followed.
pub fn ticket_paths(root: &Path) -> Vec<PathBuf> {
    let top = root.join("tickets");
    if crate::model::fsread::worth_reporting(&top, false) {
        return vec![top];
    }
    // Each folder's entries sorted by name, depth first: the paths come out in `Path` order
    // without sorting 100,000 paths by their components afterwards.
    let paths: Vec<PathBuf> = walkdir::WalkDir::new(&top)
        .min_depth(1)
        .sort_by_file_name()
        .into_iter()
        // `<ID>.files/` beside a ticket holds its email attachments, never tickets.
        .filter_entry(|e| {
            !(e.file_type().is_dir()
                && e.file_name()
                    .to_string_lossy()
                    .ends_with(ATTACHMENT_DIR_SUFFIX))
        })
        .filter_map(|e| e.ok())
        .filter(|e| {
            let md = e.path().extension().is_some_and(|x| x == "md");
            let ft = e.file_type();
            if ft.is_file() {
                md
            } else if ft.is_symlink() {
                // A link to a regular `.md` file inside the desk is read; anything else refused.
                true
            } else {
                md || !ft.is_dir()
            }
        })
        .map(|e| e.into_path())
        .collect();
    debug_assert!(paths.windows(2).all(|w| w[0] <= w[1]));
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
