//! Where each page of the site lives, relative to the site root.

use crate::model::ticket::Ticket;

/// A path segment safe for an `href` (the file on disk keeps its own name).
pub fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn article_file(id: &str) -> String {
    format!("kb/articles/{id}.html")
}
pub fn catalog_file(id: &str) -> String {
    format!("catalog/{id}.html")
}
pub fn case_file(id: &str) -> String {
    format!("playbook/{id}.html")
}
pub fn incident_file(case: &str, id: &str) -> String {
    format!("playbook/{case}/{id}.html")
}
pub fn seg_path(file: &str) -> String {
    file.split('/').map(seg).collect::<Vec<_>>().join("/")
}
pub fn tag_file(tag: &str) -> String {
    format!("kb/tags/{}.html", crate::model::text::slug(tag))
}

/// Ticket page URL (relative to the site root) of a ticket file.
pub fn ticket_file(t: &Ticket) -> String {
    let rel = t.path.with_extension("html");
    rel.to_string_lossy().replace('\\', "/")
}
