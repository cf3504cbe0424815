//! The site's help: one page per persona (agent, supervisor, knowledge-base author,
//! administrator) and the guide to adapting a desk, rendered from `docs/` (embedded in the
//! binary, so every desk's site has them and they work from `file://` like every other page).
//! Links between these documents become links between their pages.

use super::context::Site;
use crate::model::diag::Result;
use crate::output::markdown::{self, LinkTarget};
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// (page id, Markdown source), in the order the help index lists them.
const DOCS: &[(&str, &str)] = &[
    ("agent", include_str!("../../../docs/agent.md")),
    ("supervisor", include_str!("../../../docs/supervisor.md")),
    ("kb-author", include_str!("../../../docs/kb-author.md")),
    (
        "administrator",
        include_str!("../../../docs/administrator.md"),
    ),
    ("adapting", include_str!("../../../docs/adapting.md")),
];

/// Pages [`pages`] writes: the index and one per document.
pub const PAGES: usize = DOCS.len() + 1;

/// Where the documents are as far as their links are concerned (never read from disk).
const SOURCE_DIR: &str = "/mesa/docs";

fn page_url(id: &str) -> String {
    format!("help/{id}.html")
}

/// A document's title (its first `# ` heading) and the rest of its body.
fn split_title(source: &str) -> (&str, &str) {
    match source.strip_prefix("# ") {
        Some(rest) => match rest.split_once('\n') {
            Some((title, body)) => (title.trim(), body),
            None => (rest.trim(), ""),
        },
        None => ("", source),
    }
}

/// The help index and every document's page.
pub fn pages(site: &Site) -> Result<()> {
    let resolver: HashMap<PathBuf, LinkTarget> = DOCS
        .iter()
        .map(|(id, _)| {
            (
                Path::new(SOURCE_DIR).join(format!("{id}.md")),
                LinkTarget::Page(page_url(id)),
            )
        })
        .collect();
    let mut list = Vec::new();
    for (id, source) in DOCS {
        let url = page_url(id);
        let (title, body) = split_title(source);
        let path = Path::new(SOURCE_DIR).join(format!("{id}.md"));
        let shown = PathBuf::from(format!("docs/{id}.md"));
        let rendered = markdown::render(
            body,
            &markdown::Source {
                path: &path,
                shown: &shown,
                body_line: 2,
                page_url: &url,
            },
            &resolver,
        );
        let mut ctx = site.context(&url, "help", title);
        ctx.insert("doc_html", &rendered.html);
        ctx.insert("toc", &rendered.toc);
        site.page(&url, "help.html", &ctx)?;
        list.push(json!({
            "id": id,
            "title": title,
            "url": url,
            "summary": site.label(&format!("site.help.summary_{}", id.replace('-', "_"))),
        }));
    }
    let file = "help/index.html";
    let mut ctx = site.context(file, "help", &site.label("site.help.title"));
    ctx.insert("docs", &list);
    site.page(file, "help_index.html", &ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every link between the embedded documents leads to one of them.
    #[test]
    fn links_between_help_documents_resolve() {
        let resolver: HashMap<PathBuf, LinkTarget> = DOCS
            .iter()
            .map(|(id, _)| {
                (
                    Path::new(SOURCE_DIR).join(format!("{id}.md")),
                    LinkTarget::Page(page_url(id)),
                )
            })
            .collect();
        for (id, source) in DOCS {
            let (title, body) = split_title(source);
            assert!(!title.is_empty(), "{id} has no title");
            let path = Path::new(SOURCE_DIR).join(format!("{id}.md"));
            let shown = PathBuf::from(format!("docs/{id}.md"));
            let src = markdown::Source {
                path: &path,
                shown: &shown,
                body_line: 2,
                page_url: "help/x.html",
            };
            let broken = markdown::broken_links(body, &src, &resolver);
            assert!(broken.is_empty(), "{id}: {broken:?}");
        }
    }
}
