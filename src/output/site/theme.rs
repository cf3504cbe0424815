//! The theme: Tera templates and static assets embedded in the binary, each of which a desk
//! may override by placing a file of the same name under its own `theme/templates/` or
//! `theme/static/` (and add new ones there: extra templates can be included, extra assets are
//! copied).

use crate::model::diag::{Error, Result};
use crate::model::i18n::Catalog;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use tera::{Tera, Value};

macro_rules! embed {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../theme/templates/", $name)))),*]
    };
}

macro_rules! embed_static {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../../../theme/static/", $name)) as &[u8])),*]
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
    "help.html",
    "help_index.html",
    "tickets_index.html",
    "ticket.html",
    "reports.html",
    "report_trend.html",
    "report_load.html",
    "search.html",
    "404.html",
);

/// The default static assets (copied to `static/`).
pub const STATIC: &[(&str, &[u8])] = embed_static!(
    "style.css",
    "site.js",
    "search.js",
    "reload.js",
    "favicon.svg"
);

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
            let html = p.extension().is_some_and(|x| x == "html");
            if html && (p.is_file() || crate::model::fsread::worth_reporting(&p, true)) {
                let name = e.file_name().to_string_lossy().into_owned();
                let text = crate::model::fsread::read_text(&p).map_err(Error::from)?;
                sources.insert(name, text);
            }
        }
    }
    for text in sources.values_mut() {
        *text = prepare(text, cat);
    }
    let mut tera = Tera::default();
    tera.autoescape_on(vec![".html"]);
    // Tera's own escaping, the same bytes, without a push per character.
    tera.set_escape_fn(super::escape::html);
    tera.add_raw_templates(sources.iter().map(|(n, s)| (n.as_str(), s.as_str())))
        .map_err(|e| tera_error("*", e))?;
    tera.register_function("t", move |args: &HashMap<String, Value>| {
        let key = args
            .get("k")
            .and_then(Value::as_str)
            .ok_or_else(|| tera::Error::msg("t() needs k=\"section.key\""))?;
        // Plurals: with `n` = 1, a `<key>_one` sibling wins ("1 verificación").
        let one = args
            .get("n")
            .is_some_and(|v| v.as_i64() == Some(1) || v.as_str() == Some("1"));
        // Borrowed from the catalog: a call per clock, event and check of every ticket page.
        let all = cat.all();
        let singular = one.then(|| all.get(&format!("{key}_one"))).flatten();
        let pattern = singular
            .or_else(|| all.get(key))
            .map_or(key, String::as_str);
        let s = super::fmt::fill(pattern, |name| {
            args.get(name).filter(|_| name != "k").map(|v| match v {
                Value::String(x) => std::borrow::Cow::Borrowed(x.as_str()),
                other => std::borrow::Cow::Owned(other.to_string()),
            })
        });
        Ok(Value::String(s))
    });
    Ok(tera)
}

/// Readies a template source once per build, so that pages do not pay for it each time:
/// every `{{ t(k="key") }}` without arguments becomes its (escaped) text, and the indentation
/// of lines outside `<pre>`/`<textarea>` goes (it is a tenth of every page's bytes).
pub fn prepare(source: &str, cat: &Catalog) -> String {
    let mut text = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(i) = rest.find("{{ t(k=") {
        text.push_str(&rest[..i]);
        let after = &rest[i + 7..];
        let quote = after.chars().next().unwrap_or(' ');
        let literal = (quote == '"' || quote == '\'')
            .then(|| after[1..].find(quote))
            .flatten()
            .filter(|end| after[1 + end + 1..].starts_with(") }}"))
            .map(|end| (&after[1..1 + end], 1 + end + 1 + 4));
        match literal {
            Some((key, len)) if !key.contains(['{', '}', '%', '#']) => {
                let value = crate::output::markdown::escape(&cat.get(key)).replace('/', "&#x2F;");
                if value.contains(['{', '}', '%', '#']) {
                    text.push_str("{% raw %}");
                    text.push_str(&value);
                    text.push_str("{% endraw %}");
                } else {
                    text.push_str(&value);
                }
                rest = &after[len..];
            }
            _ => {
                text.push_str("{{ t(k=");
                rest = after;
            }
        }
    }
    text.push_str(rest);
    let mut out = String::with_capacity(text.len());
    let mut verbatim = false;
    for line in text.split('\n') {
        let l = if verbatim { line } else { line.trim_start() };
        if verbatim || !l.is_empty() {
            out.push_str(l);
            out.push('\n');
        }
        let open = line.rfind("<pre").max(line.rfind("<textarea"));
        let close = line.rfind("</pre>").max(line.rfind("</textarea>"));
        if open.is_some() || close.is_some() {
            verbatim = open > close;
        }
    }
    out
}

/// Renders one template into `out` (appended), with a message naming the template when it
/// fails.
pub fn render_to(tera: &Tera, name: &str, ctx: &tera::Context, out: &mut Vec<u8>) -> Result<()> {
    tera.render_to(name, ctx, out)
        .map_err(|e| tera_error(name, e))
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
            // Links and special files go to the reader too, which refuses them with a reason:
            // a link to a file outside the desk must never be published.
            if e.file_type().is_file() || crate::model::fsread::worth_reporting(e.path(), true) {
                let rel = e.path().strip_prefix(&own).unwrap_or(e.path());
                let name = rel.to_string_lossy().replace('\\', "/");
                let bytes = crate::model::fsread::read_bytes(e.path()).map_err(Error::from)?;
                files.insert(name, bytes);
            }
        }
    }
    Ok(files.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_inlined_and_indentation_dropped() {
        let cat: &'static Catalog = Box::leak(Box::new(Catalog::load("es", None)));
        let src = "<p>\n    {{ t(k=\"site.nav.kb\") }} {{ t(k='site.search.button') }}\n    {{ t(k=\"site.kb.tag_title\", tag=x) }}\n<pre>\n  keep\n</pre>\n  x\n";
        let out = prepare(src, cat);
        assert_eq!(
            out,
            "<p>\nBase de conocimiento Buscar\n{{ t(k=\"site.kb.tag_title\", tag=x) }}\n<pre>\n  keep\n</pre>\nx\n"
        );
    }
}
