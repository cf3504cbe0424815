//! The theme: Tera templates and static assets embedded in the binary, each of which a desk
//! may override by placing a file of the same name under its own `theme/templates/` or
//! `theme/static/` (and add new ones there: extra templates can be included, extra assets are
//! copied).

use crate::diag::{Error, Result};
use crate::i18n::Catalog;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use tera::{Tera, Value};

macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../theme/templates/", $name)))),*]
    };
}

macro_rules! embed_static {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../../theme/static/", $name)) as &[u8])),*]
    };
}

/// The default templates.
pub const TEMPLATES: &[(&str, &str)] = embed!(
    "base.html",
    "macros.html",
    "contact_table.html",
    "checklist.html",
    "notes.html",
    "pages_nav.html",
    "home.html",
    "kb_index.html",
    "kb_tag.html",
    "article.html",
    "news.html",
    "playbook_index.html",
    "playbook_case.html",
    "incident.html",
    "catalog_index.html",
    "catalog_entry.html",
    "escalation.html",
    "priorities.html",
    "contact.html",
    "tickets_index.html",
    "ticket.html",
    "reports.html",
    "search.html",
    "404.html",
);

/// The default static assets (copied to `static/`).
pub const STATIC: &[(&str, &[u8])] =
    embed_static!("style.css", "site.js", "search.js", "reload.js", "favicon.svg");

fn tera_error(name: &str, e: tera::Error) -> Error {
    let mut msg = format!("theme/templates/{name}: {e}");
    let mut src = std::error::Error::source(&e);
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    Error::Message(crate::tr!("site.template_error", error = msg))
}

/// The templates with the desk's overrides, and `t(k=...)` for interface strings.
pub fn load(desk_root: &Path, cat: &'static Catalog) -> Result<Tera> {
    let mut sources: BTreeMap<String, String> = TEMPLATES
        .iter()
        .map(|(n, s)| (n.to_string(), s.to_string()))
        .collect();
    let own = desk_root.join("theme/templates");
    if let Ok(entries) = std::fs::read_dir(&own) {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "html") && p.is_file() {
                let name = e.file_name().to_string_lossy().into_owned();
                let text = std::fs::read_to_string(&p)
                    .map_err(|err| Error::Message(format!("{}: {err}", p.display())))?;
                sources.insert(name, text);
            }
        }
    }
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html"]);
    tera.add_raw_templates(sources.iter().map(|(n, s)| (n.as_str(), s.as_str())))
        .map_err(|e| tera_error("*", e))?;
    tera.register_function("t", move |args: &HashMap<String, Value>| {
        let key = args
            .get("k")
            .and_then(Value::as_str)
            .ok_or_else(|| tera::Error::msg("t() needs k=\"section.key\""))?;
        let mut s = cat.get(key);
        for (name, v) in args {
            if name != "k" {
                let text = match v {
                    Value::String(x) => x.clone(),
                    other => other.to_string(),
                };
                s = s.replace(&format!("{{{name}}}"), &text);
            }
        }
        Ok(Value::String(s))
    });
    Ok(tera)
}

/// Renders one template, with a message naming the template when it fails.
pub fn render(tera: &Tera, name: &str, ctx: &tera::Context) -> Result<String> {
    tera.render(name, ctx).map_err(|e| tera_error(name, e))
}

/// The static assets: embedded defaults, replaced or extended by the desk's `theme/static/`.
pub fn static_files(desk_root: &Path) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files: BTreeMap<String, Vec<u8>> = STATIC
        .iter()
        .map(|(n, b)| (n.to_string(), b.to_vec()))
        .collect();
    let own = desk_root.join("theme/static");
    if own.is_dir() {
        for e in walkdir::WalkDir::new(&own)
            .into_iter()
            .filter_map(|e| e.ok())
        {
            if e.file_type().is_file() {
                let rel = e.path().strip_prefix(&own).unwrap_or(e.path());
                let name = rel.to_string_lossy().replace('\\', "/");
                let bytes = std::fs::read(e.path())
                    .map_err(|err| Error::Message(format!("{}: {err}", e.path().display())))?;
                files.insert(name, bytes);
            }
        }
    }
    Ok(files.into_iter().collect())
}
