//! Markdown to HTML for the site. Every body (articles, catalog, playbook, tickets) is untrusted:
//! raw HTML and odd URLs go through `ammonia`, headings get stable ids and a table of contents,
//! footnotes get prefixed ids, and links between kb files (`../catalog/x.md`) become page URLs,
//! resolved and validated with [`crate::model::links`].

use crate::model::diag::Diagnostic;
use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Serialize;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Where an internal link leads once the site is built.
#[derive(Debug, Clone)]
pub enum LinkTarget {
    /// The page's URL relative to the site root (`kb/articles/x.html`).
    Page(String),
    /// The page exists but is left out of this build (an internal article in a public build):
    /// the link text stays, the link goes.
    Omitted,
}

/// Resolves an absolute source path (`/desk/kb/articles/x.md`) to its target in the site.
pub trait LinkResolver: Sync {
    fn target(&self, source: &Path) -> Option<LinkTarget>;
}

impl LinkResolver for HashMap<PathBuf, LinkTarget> {
    fn target(&self, source: &Path) -> Option<LinkTarget> {
        self.get(source).cloned()
    }
}

/// One heading of the table of contents.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct TocEntry {
    pub level: u8,
    pub id: String,
    pub text: String,
}

/// A rendered body.
#[derive(Debug, Clone, Default)]
pub struct Rendered {
    pub html: String,
    pub toc: Vec<TocEntry>,
    /// Plain text (for search and snippets).
    pub text: String,
    /// Internal links that lead nowhere: `path:line:col` diagnostics.
    pub broken: Vec<Diagnostic>,
}

/// What the renderer needs to know about the page being rendered.
pub struct Source<'a> {
    /// The file the body comes from (absolute, or as the resolver knows it).
    pub path: &'a Path,
    /// Path shown in diagnostics (relative to the desk).
    pub shown: &'a Path,
    /// File line of the body's first line.
    pub body_line: usize,
    /// This page's URL relative to the site root, to make links relative (file:// needs it).
    pub page_url: &'a str,
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_STRIKETHROUGH
}

/// `../` repeated for the depth of `page_url`, so that `prefix + "kb/index.html"` works from it.
pub fn root_prefix(page_url: &str) -> String {
    "../".repeat(page_url.matches('/').count())
}

pub use crate::model::text::slug;

/// Whether a URL can go into `href` without the sanitiser: relative, fragment, or a scheme
/// that cannot run code.
fn safe_url(url: &str) -> bool {
    let u: String = url
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase();
    let scheme_end = u.find(':');
    let path_start = u.find(['/', '?', '#']);
    match (scheme_end, path_start) {
        (None, _) => true,
        (Some(s), Some(p)) if p < s => true,
        (Some(_), _) => {
            u.starts_with("http:")
                || u.starts_with("https:")
                || u.starts_with("mailto:")
                || u.starts_with("tel:")
        }
    }
}

/// Renders `body`. Internal links are rewritten with `resolver`; the ones it cannot resolve
/// come back in [`Rendered::broken`] and are rendered as plain text.
pub fn render(body: &str, src: &Source, resolver: &dyn LinkResolver) -> Rendered {
    if let Some(r) = plain(body) {
        return r;
    }
    let prefix = root_prefix(src.page_url);
    let mut needs_sanitiser = false;
    let mut broken = Vec::new();
    let mut text = String::new();
    let mut events: Vec<Event> = Vec::new();
    // Index in `events` of the open heading and the text collected for it.
    let mut heading: Option<(usize, String)> = None;
    let mut ids: HashSet<String> = HashSet::new();
    let mut toc = Vec::new();
    // Links turned into plain text: their End events are dropped too.
    let mut dropped_links: Vec<bool> = Vec::new();
    let mut footnotes: HashMap<String, usize> = HashMap::new();

    for (ev, range) in Parser::new_ext(body, options()).into_offset_iter() {
        match ev {
            Event::Html(_) | Event::InlineHtml(_) => {
                needs_sanitiser = true;
                events.push(ev);
            }
            Event::Start(Tag::Heading { level, .. }) => {
                heading = Some((events.len(), String::new()));
                events.push(Event::Start(Tag::Heading {
                    level,
                    id: None,
                    classes: Vec::new(),
                    attrs: Vec::new(),
                }));
            }
            Event::End(TagEnd::Heading(level)) => {
                if let Some((at, htext)) = heading.take() {
                    let base = slug(&htext);
                    let mut id = base.clone();
                    let mut n = 1;
                    while !ids.insert(id.clone()) {
                        n += 1;
                        id = format!("{base}-{n}");
                    }
                    events[at] = Event::Start(Tag::Heading {
                        level,
                        id: Some(CowStr::from(id.clone())),
                        classes: Vec::new(),
                        attrs: Vec::new(),
                    });
                    events.push(Event::Html(CowStr::from(format!(
                        " <a class=\"anchor\" href=\"#{id}\" aria-hidden=\"true\" tabindex=\"-1\">#</a>"
                    ))));
                    if matches!(level, HeadingLevel::H2 | HeadingLevel::H3) {
                        toc.push(TocEntry {
                            level: level as u8,
                            id,
                            text: htext.trim().to_string(),
                        });
                    }
                }
                events.push(Event::End(TagEnd::Heading(level)));
                text.push('\n');
            }
            Event::Text(ref t) | Event::Code(ref t) => {
                if let Some((_, h)) = heading.as_mut() {
                    h.push_str(t);
                }
                text.push_str(t);
                events.push(ev);
            }
            Event::SoftBreak | Event::HardBreak => {
                text.push(' ');
                events.push(ev);
            }
            Event::End(TagEnd::Paragraph)
            | Event::End(TagEnd::Item)
            | Event::End(TagEnd::TableCell) => {
                text.push(' ');
                events.push(ev);
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let (dest, drop) = rewrite(
                    &dest_url,
                    src,
                    &prefix,
                    resolver,
                    body,
                    range.start,
                    &mut broken,
                );
                if !drop && !safe_url(&dest) {
                    needs_sanitiser = true;
                }
                dropped_links.push(drop);
                if !drop {
                    events.push(Event::Start(Tag::Link {
                        link_type,
                        dest_url: CowStr::from(dest),
                        title,
                        id,
                    }));
                }
            }
            Event::End(TagEnd::Link) => {
                if !dropped_links.pop().unwrap_or(false) {
                    events.push(ev);
                }
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let (dest, _) = rewrite(
                    &dest_url,
                    src,
                    &prefix,
                    resolver,
                    body,
                    range.start,
                    &mut broken,
                );
                if !safe_url(&dest) {
                    needs_sanitiser = true;
                }
                events.push(Event::Start(Tag::Image {
                    link_type,
                    dest_url: CowStr::from(dest),
                    title,
                    id,
                }));
            }
            Event::FootnoteReference(label) => {
                let next = footnotes.len() + 1;
                let n = *footnotes.entry(label.to_string()).or_insert(next);
                let id = slug(&label);
                events.push(Event::Html(CowStr::from(format!(
                    "<sup class=\"footnote-reference\"><a href=\"#fn-{id}\" id=\"fnref-{id}\">{n}</a></sup>"
                ))));
            }
            Event::Start(Tag::FootnoteDefinition(label)) => {
                let next = footnotes.len() + 1;
                let n = *footnotes.entry(label.to_string()).or_insert(next);
                let id = slug(&label);
                events.push(Event::Html(CowStr::from(format!(
                    "<div class=\"footnote-definition\" id=\"fn-{id}\"><sup class=\"footnote-definition-label\"><a href=\"#fnref-{id}\">{n}</a></sup>"
                ))));
            }
            Event::End(TagEnd::FootnoteDefinition) => {
                events.push(Event::Html(CowStr::from("</div>\n")));
            }
            other => events.push(other),
        }
    }

    let mut html = String::with_capacity(body.len() * 3 / 2 + 64);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    // Table alignment comes as inline styles, which the sanitiser (rightly) refuses.
    if html.contains(" style=\"text-align: ") {
        html = html
            .replace(" style=\"text-align: left\"", " class=\"align-left\"")
            .replace(" style=\"text-align: center\"", " class=\"align-center\"")
            .replace(" style=\"text-align: right\"", " class=\"align-right\"");
    }
    if needs_sanitiser {
        html = sanitise(&html);
    }
    Rendered {
        html,
        toc,
        text: collapse_spaces(&text),
        broken,
    }
}

/// The broken internal links of a body, exactly as [`render`] reports them, without rendering:
/// a build checks every kb page before it writes any (pages are written as they render).
pub fn broken_links(body: &str, src: &Source, resolver: &dyn LinkResolver) -> Vec<Diagnostic> {
    let mut broken = Vec::new();
    if !body.contains('[') {
        return broken; // no link or image can start without one
    }
    let prefix = root_prefix(src.page_url);
    for (ev, range) in Parser::new_ext(body, options()).into_offset_iter() {
        if let Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) = ev {
            rewrite(
                &dest_url,
                src,
                &prefix,
                resolver,
                body,
                range.start,
                &mut broken,
            );
        }
    }
    broken
}

/// A one-line text with nothing Markdown would treat specially (most ticket notes) is one
/// paragraph: rendered without the parser, with the same result.
fn plain(body: &str) -> Option<Rendered> {
    let t = body.trim_end_matches(['\n', '\r']);
    let first = t.bytes().next()?;
    // A table, not a search of the list per byte (a body's every byte was a `memchr` call).
    const SPECIAL: [bool; 256] = {
        let mut t = [false; 256];
        let list = b"\\`*_[]<>!&|~#\n\r\t";
        let mut i = 0;
        while i < list.len() {
            t[list[i] as usize] = true;
            i += 1;
        }
        t
    };
    let special = |b: u8| SPECIAL[b as usize];
    if t.bytes().any(special)
        || matches!(first, b' ' | b'-' | b'+' | b'=' | b'0'..=b'9')
        || t.ends_with(' ')
        || t.contains("://")
        || t.contains("www.")
    {
        return None;
    }
    Some(Rendered {
        html: format!("<p>{}</p>\n", escape_text(t)),
        toc: Vec::new(),
        text: t.to_string(),
        broken: Vec::new(),
    })
}

/// Escapes text as pulldown-cmark does in text (`&`, `<`, `>`), copying the runs between.
fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    replace_bytes(&mut out, s, |b| match b {
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        _ => None,
    });
    out
}

/// Appends `s` to `out` with each byte `entity` names replaced by its text, copying the runs
/// between whole. Only for ASCII bytes: a run then always ends on a character boundary. The
/// one loop of this module's and the templates' escapers (`site::escape::html`).
pub(crate) fn replace_bytes(
    out: &mut String,
    s: &str,
    entity: impl Fn(u8) -> Option<&'static str>,
) {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        if let Some(e) = entity(b) {
            out.push_str(&s[start..i]);
            out.push_str(e);
            start = i + 1;
        }
    }
    out.push_str(&s[start..]);
}

/// `s` with each run of whitespace (`char::is_whitespace`) made one space, none at either
/// end. The words between are copied whole, not a character at a time.
fn collapse_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    // Where the word being read started.
    let mut word: Option<usize> = None;
    for (i, c) in s.char_indices() {
        if c.is_whitespace() {
            if let Some(start) = word.take() {
                if space {
                    out.push(' ');
                }
                out.push_str(&s[start..i]);
            }
            space = !out.is_empty();
        } else if word.is_none() {
            word = Some(i);
        }
    }
    if let Some(start) = word {
        if space {
            out.push(' ');
        }
        out.push_str(&s[start..]);
    }
    out
}

/// Rewrites one link destination. Returns the new destination and whether to drop the link
/// (keeping its text).
fn rewrite(
    dest: &str,
    src: &Source,
    prefix: &str,
    resolver: &dyn LinkResolver,
    body: &str,
    offset: usize,
    broken: &mut Vec<Diagnostic>,
) -> (String, bool) {
    if !crate::model::links::is_internal(dest) || !safe_url(dest) {
        return (dest.to_string(), false);
    }
    let fragment = dest.find('#').map(|i| &dest[i..]).unwrap_or("");
    let target = crate::model::links::resolve(src.path, dest);
    match resolver.target(&target) {
        Some(LinkTarget::Page(url)) => (format!("{prefix}{url}{fragment}"), false),
        Some(LinkTarget::Omitted) => (String::new(), true),
        None => {
            let before = &body[..offset.min(body.len())];
            let line = before.matches('\n').count() + 1;
            let col = offset - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            broken.push(
                Diagnostic::new(
                    src.shown,
                    src.body_line + line - 1,
                    col,
                    crate::tr!("check.broken_link", link = dest),
                )
                .with_hint(Some(crate::tr!("check.broken_link_hint"))),
            );
            (String::new(), true)
        }
    }
}

fn sanitiser() -> &'static ammonia::Builder<'static> {
    static B: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    B.get_or_init(|| {
        let mut b = ammonia::Builder::default();
        b.add_tags(["input"]);
        b.add_tag_attributes("input", ["type", "checked", "disabled"]);
        for h in ["h1", "h2", "h3", "h4", "h5", "h6", "div", "a", "li"] {
            b.add_tag_attributes(h, ["id"]);
        }
        b.add_tag_attributes("a", ["aria-hidden", "tabindex"]);
        b.add_allowed_classes("div", ["footnote-definition"]);
        b.add_allowed_classes("sup", ["footnote-reference", "footnote-definition-label"]);
        b.add_allowed_classes("a", ["anchor"]);
        b.add_allowed_classes("code", ["language-text"]);
        for t in ["th", "td"] {
            b.add_allowed_classes(t, ["align-left", "align-center", "align-right"]);
        }
        b.attribute_filter(|element, attribute, value| match (element, attribute) {
            // Only read-only task-list checkboxes survive.
            ("input", "type") if value != "checkbox" => None,
            // Ids the theme's own elements use are not for content to take.
            (_, "id") if value.starts_with("mesa-") => None,
            (_, "tabindex") if value != "-1" => None,
            _ => Some(Cow::Borrowed(value)),
        });
        b
    })
}

/// Sanitises HTML: no script, event handler, `javascript:`/`data:` URL, style or frame survives.
pub fn sanitise(html: &str) -> String {
    let out = sanitiser().clean(html).to_string();
    // Inputs that lost their type are text fields; there is nothing to fill in content.
    if out.contains("<input") {
        out.replace("<input>", "")
            .replace("<input checked=\"\">", "")
    } else {
        out
    }
}

/// Escapes text for HTML (for the few strings mesa puts into HTML itself).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src<'a>(path: &'a Path) -> Source<'a> {
        Source {
            path,
            shown: path,
            body_line: 5,
            page_url: "kb/articles/a.html",
        }
    }

    fn resolver() -> HashMap<PathBuf, LinkTarget> {
        let mut m = HashMap::new();
        m.insert(
            PathBuf::from("/d/kb/catalog/x.md"),
            LinkTarget::Page("catalog/x.html".into()),
        );
        m.insert(
            PathBuf::from("/d/kb/articles/secret.md"),
            LinkTarget::Omitted,
        );
        m
    }

    #[test]
    fn headings_get_ids_toc_and_anchors() {
        let p = PathBuf::from("/d/kb/articles/a.md");
        let r = render(
            "## Cómo atender\n\ntexto\n\n## Cómo atender\n",
            &src(&p),
            &resolver(),
        );
        assert!(r.html.contains("<h2 id=\"como-atender\">"), "{}", r.html);
        assert!(r.html.contains("id=\"como-atender-2\""));
        assert!(r.html.contains("href=\"#como-atender\""));
        assert_eq!(r.toc.len(), 2);
        assert_eq!(r.toc[0].text, "Cómo atender");
    }

    #[test]
    fn broken_links_are_those_render_reports() {
        let p = PathBuf::from("/d/kb/articles/a.md");
        let body =
            "[x](../catalog/x.md) ![i](foto.md)\n\n- [y](nada.md)\n\n[r][def]\n\n[def]: otra.md\n";
        let rendered = render(body, &src(&p), &resolver()).broken;
        let checked = broken_links(body, &src(&p), &resolver());
        assert_eq!(checked.len(), 3, "{checked:?}");
        assert_eq!(
            checked
                .iter()
                .map(|d| (d.line, d.col, d.message.clone()))
                .collect::<Vec<_>>(),
            rendered
                .iter()
                .map(|d| (d.line, d.col, d.message.clone()))
                .collect::<Vec<_>>()
        );
        assert!(broken_links("sin enlaces", &src(&p), &resolver()).is_empty());
    }

    #[test]
    fn internal_links_become_relative_page_urls() {
        let p = PathBuf::from("/d/kb/articles/a.md");
        let r = render(
            "[x](../catalog/x.md#pasos) [s](secret.md)\n\n[y](nada.md)\n",
            &src(&p),
            &resolver(),
        );
        assert!(
            r.html.contains("href=\"../../catalog/x.html#pasos\""),
            "{}",
            r.html
        );
        assert!(!r.html.contains("secret"));
        assert!(r.html.contains(">s<") || r.html.contains(" s"));
        assert_eq!(r.broken.len(), 1);
        assert_eq!(r.broken[0].line, 7);
        assert_eq!(r.broken[0].col, 1);
    }

    #[test]
    fn tables_footnotes_tasks() {
        let p = PathBuf::from("/d/kb/articles/a.md");
        let md = "| a | b |\n|:-:|--:|\n| 1 | 2 |\n\nNota[^n].\n\n[^n]: Al pie.\n\n- [x] hecho\n- [ ] falta\n\n<b>raw</b>\n";
        let r = render(md, &src(&p), &resolver());
        assert!(r.html.contains("class=\"align-center\""), "{}", r.html);
        assert!(r.html.contains("href=\"#fn-n\""));
        assert!(r.html.contains("id=\"fn-n\""));
        assert!(r.html.contains("type=\"checkbox\""));
        assert!(r.html.contains("checked"));
    }

    #[test]
    fn payloads_are_removed() {
        let p = PathBuf::from("/d/kb/articles/a.md");
        let md = "<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[a](javascript:alert(1))\n\n\
                  <style>body{display:none}</style>\n\n<iframe src=\"https://e.com\"></iframe>\n\n\
                  <svg onload=alert(1)></svg>\n\n![i](data:image/svg+xml;base64,PHN2Zz4=)\n\n\
                  <a href=\"JaVaScRiPt:alert(1)\">b</a> <p style=\"color:red\" id=\"mesa-search\">c</p>\n\n\
                  <input type=\"text\" onfocus=\"alert(1)\" autofocus>\n";
        let r = render(md, &src(&p), &resolver());
        let low = r.html.to_lowercase();
        for bad in [
            "<script",
            "onerror",
            "javascript:",
            "<style",
            "<iframe",
            "<svg",
            "onload",
            "data:",
            "style=",
            "mesa-search",
            "onfocus",
            "type=\"text\"",
        ] {
            assert!(!low.contains(bad), "{bad} survived: {}", r.html);
        }
    }

    #[test]
    fn unsafe_markdown_link_without_raw_html_is_sanitised() {
        let p = PathBuf::from("/d/kb/articles/a.md");
        let r = render(
            "[a](  javascript:alert(1))\n[b](vbscript:x)\n",
            &src(&p),
            &resolver(),
        );
        assert!(!r.html.to_lowercase().contains("script:"), "{}", r.html);
    }

    #[test]
    fn plain_text_fast_path_matches_the_parser() {
        let p = PathBuf::from("/d/t.md");
        for text in [
            "Se corrigió la configuración del equipo \"A\" y se probó.",
            "Llamada al usuario: todo bien.",
            "Nota con 'comillas' y (paréntesis); punto final.",
        ] {
            let fast = render(text, &src(&p), &resolver());
            let mut opts = Options::empty();
            opts.insert(options());
            let mut slow = String::new();
            pulldown_cmark::html::push_html(&mut slow, Parser::new_ext(text, opts));
            assert_eq!(fast.html, slow, "{text}");
            assert_eq!(fast.text, text);
        }
        for text in [
            "1. uno",
            "- item",
            "*x*",
            "a <b>",
            "# t",
            "http://x.co",
            "a\nb",
            "    code",
        ] {
            assert!(plain(text).is_none(), "{text}");
        }
    }

    #[test]
    fn whitespace_collapses_to_single_spaces() {
        assert_eq!(collapse_spaces(""), "");
        assert_eq!(collapse_spaces("   \n\t "), "");
        assert_eq!(collapse_spaces("uno"), "uno");
        assert_eq!(collapse_spaces("  uno  dos\n\ntres\t"), "uno dos tres");
        // Unicode whitespace counts (vertical tab, form feed, NEL, no-break space, ideographic
        // space, line separator); U+001F and a zero-width space do not.
        assert_eq!(
            collapse_spaces("a\u{b}b\u{c}c\u{85}d\u{a0}e\u{3000}f\u{2028}g"),
            "a b c d e f g"
        );
        assert_eq!(collapse_spaces("a\u{1f}b\u{200b}c"), "a\u{1f}b\u{200b}c");
        assert_eq!(collapse_spaces("año\u{a0}\u{a0} ñandú "), "año ñandú");
    }

    #[test]
    fn plain_text_escapes_three_characters() {
        assert_eq!(escape_text(""), "");
        assert_eq!(
            escape_text("a & b <c> \"d\" 'e' /f"),
            "a &amp; b &lt;c&gt; \"d\" 'e' /f"
        );
        assert_eq!(escape_text("&&<<>>"), "&amp;&amp;&lt;&lt;&gt;&gt;");
        assert_eq!(escape_text("ñ<ñ>€"), "ñ&lt;ñ&gt;€");
    }

    #[test]
    fn slugs_fold_accents() {
        assert_eq!(slug("¿Qué es la Mesa?"), "que-es-la-mesa");
        assert_eq!(slug("Año 2026"), "ano-2026");
        assert_eq!(slug("***"), "section");
    }
}
