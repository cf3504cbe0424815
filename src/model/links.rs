//! Internal links between knowledge-base pages. Authors link files by relative path
//! (`../catalog/crear-reporte.md`); the build rewrites them to page URLs, and this module makes
//! sure each one points at a page that exists, reporting broken ones at `path:line:col`.

use crate::model::diag::Diagnostic;
use crate::model::load::Desk;
use crate::tr;
use pulldown_cmark::{Event, Options, Parser, Tag};
use std::path::{Component, Path, PathBuf};

/// Whether a link target is internal (a relative path), as opposed to a URL or an anchor.
pub fn is_internal(dest: &str) -> bool {
    !(dest.is_empty()
        || dest.starts_with('#')
        || dest.starts_with('/')
        || dest.starts_with("//")
        || dest.contains("://")
        || dest.starts_with("mailto:")
        || dest.starts_with("tel:"))
}

/// Resolves `dest` (relative to `from`'s folder) lexically, without touching the file system.
pub fn resolve(from: &Path, dest: &str) -> PathBuf {
    let target = dest.split(['#', '?']).next().unwrap_or("");
    let mut out = from.parent().map(Path::to_path_buf).unwrap_or_default();
    for c in Path::new(target).components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(p) => out.push(p),
            _ => {}
        }
    }
    out
}

/// Every internal link of every kb page that does not lead to an existing kb page.
pub fn check_links(desk: &Desk) -> Vec<Diagnostic> {
    use rayon::prelude::*;
    let kb_root = desk.root.join("kb");
    let pages: Vec<(&PathBuf, &String, usize)> = desk
        .kb
        .catalog
        .iter()
        .map(|p| (&p.path, &p.body, p.body_line))
        .chain(
            desk.kb
                .playbook
                .iter()
                .map(|p| (&p.path, &p.body, p.body_line)),
        )
        .chain(
            desk.kb
                .articles
                .iter()
                .map(|p| (&p.path, &p.body, p.body_line)),
        )
        .collect();
    // Each page is parsed on its own core (serial, this was a tenth of a 10,000-article
    // build); `collect` keeps the pages' order.
    pages
        .par_iter()
        .flat_map_iter(|&(path, body, body_line)| {
            let kb_root = &kb_root;
            internal_links(body)
                .into_iter()
                .filter_map(move |(dest, line, col)| {
                    let target = resolve(path, &dest);
                    let ok = target.starts_with(kb_root)
                        && target.extension().is_some_and(|e| e == "md")
                        && target.is_file();
                    (!ok).then(|| {
                        Diagnostic::new(
                            path,
                            body_line + line - 1,
                            col,
                            tr!("check.broken_link", link = dest),
                        )
                        .with_hint(Some(tr!("check.broken_link_hint")))
                    })
                })
        })
        .collect()
}

/// Internal link targets of a Markdown text with their (1-based) line and column.
pub fn internal_links(body: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    for (ev, range) in Parser::new_ext(body, Options::all()).into_offset_iter() {
        if let Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) = ev {
            if is_internal(&dest_url) {
                let before = &body[..range.start];
                let line = before.matches('\n').count() + 1;
                let col = range.start - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                out.push((dest_url.to_string(), line, col));
            }
        }
    }
    out
}
