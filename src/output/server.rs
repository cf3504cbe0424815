//! `mesa serve`: builds the site, serves the output folder over HTTP (loopback by default) and
//! rebuilds when the desk's sources change, so the open page reloads by itself.
//!
//! Serving is deliberately paranoid about paths: the request target is decoded once, every
//! segment must be a plain name, and the file found is canonicalised (following symlinks) and
//! must still lie inside the output folder. Anything else is the site's 404 page.

use crate::model::diag::{Error, Result};
use crate::tr;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Answers the current build version; the reload script polls it.
pub const VERSION_PATH: &str = "/__mesa/version";
/// The live-reload script, injected into every HTML page `mesa serve` sends.
pub const RELOAD_PATH: &str = "/__mesa/reload.js";
const RELOAD_JS: &str = include_str!("../../theme/static/reload.js");
const RELOAD_TAG: &str = "<script src=\"/__mesa/reload.js\" defer></script>";

/// Quiet time after the last change before rebuilding: editors write a file in several steps
/// (a temporary file and a rename, within a few milliseconds of each other).
const DEBOUNCE: Duration = Duration::from_millis(50);

/// The build counter the reload script compares. It starts from the clock so a restarted
/// server also makes open pages reload.
#[derive(Debug)]
pub struct Version {
    start: u64,
    builds: AtomicU64,
}

impl Version {
    pub fn new() -> Version {
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Version {
            start,
            builds: AtomicU64::new(0),
        }
    }

    pub fn bump(&self) {
        self.builds.fetch_add(1, Ordering::SeqCst);
    }

    pub fn current(&self) -> String {
        format!("{}-{}", self.start, self.builds.load(Ordering::SeqCst))
    }
}

impl Default for Version {
    fn default() -> Self {
        Version::new()
    }
}

/// What a request target maps to inside the output folder.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    /// A file inside the output folder (canonical path).
    File(PathBuf),
    /// A folder asked for without its trailing slash: redirect so relative links work.
    Redirect(String),
    NotFound,
}

/// Maps a raw request target (`/kb/x.html?q=1`) to a file under `root`, which must already be
/// canonical. Never returns a path outside `root`.
pub fn resolve(root: &Path, target: &str) -> Resolved {
    let path = target.split(['?', '#']).next().unwrap_or("");
    if !path.starts_with('/') {
        return Resolved::NotFound;
    }
    let Some(decoded) = percent_decode(path) else {
        return Resolved::NotFound;
    };
    // One decoding only: a `%` left after it is double encoding, which the site never emits.
    if decoded.contains(['\\', '\0', '%']) {
        return Resolved::NotFound;
    }
    let mut candidate = root.to_path_buf();
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        let mut parts = Path::new(segment).components();
        match (parts.next(), parts.next()) {
            // Hidden files (`.mesa-site`, editors' files) are not part of the site.
            (Some(Component::Normal(name)), None)
                if name == segment && !segment.starts_with('.') =>
            {
                candidate.push(name)
            }
            _ => return Resolved::NotFound,
        }
    }
    if candidate.is_dir() {
        if !decoded.ends_with('/') {
            let query = &target[path.len()..];
            return Resolved::Redirect(safe_location(&format!("{path}/{query}")));
        }
        candidate.push("index.html");
    }
    match candidate.canonicalize() {
        Ok(real) if real.starts_with(root) && real.is_file() => Resolved::File(real),
        _ => Resolved::NotFound,
    }
}

/// A redirect target as a header value: bytes outside printable ASCII are percent-encoded, so
/// a raw UTF-8 or control byte in the request cannot break (or inject into) the response.
fn safe_location(target: &str) -> String {
    let mut out = String::with_capacity(target.len());
    for b in target.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes; `None` for a malformed escape or bytes that are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The Content-Type for a file, by extension.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "csv" => "text/csv; charset=utf-8",
        "txt" | "md" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff" => "font/woff",
        "woff2" => "font/woff2",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// A running HTTP server for one output folder (see [`crate::output::http`] for its limits).
pub struct Server {
    http: crate::output::http::Listener,
    pub url: String,
}

impl Server {
    /// Binds `bind:port` (port 0 picks a free one) and starts accepting connections.
    pub fn start(bind: &str, port: u16, out: &Path, version: Arc<Version>) -> Result<Server> {
        // An IPv6 address needs brackets before the port.
        let addr = if bind.contains(':') && !bind.starts_with('[') {
            format!("[{bind}]:{port}")
        } else {
            format!("{bind}:{port}")
        };
        let listener = std::net::TcpListener::bind(&addr)
            .map_err(|e| Error::Message(tr!("serve.bind_failed", addr = addr, error = e)))?;
        let out = out.to_path_buf();
        let handler: Arc<dyn Fn(crate::output::http::Request) + Send + Sync> =
            Arc::new(move |request| handle(request, &out, &version));
        let http = crate::output::http::Listener::start(listener, handler)
            .map_err(|e| Error::Message(tr!("serve.bind_failed", addr = addr, error = e)))?;
        let url = format!("http://{}/", http.addr);
        Ok(Server { http, url })
    }

    /// Stops accepting requests.
    pub fn stop(&self) {
        self.http.stop();
    }
}

fn respond(
    request: crate::output::http::Request,
    status: u16,
    content_type: &str,
    body: Vec<u8>,
    extra: &[(&str, &str)],
) {
    let mut headers = vec![
        ("Content-Type", content_type),
        ("Cache-Control", "no-cache"),
        ("X-Content-Type-Options", "nosniff"),
    ];
    headers.extend_from_slice(extra);
    // The client may have gone away; nothing to do about it.
    request.respond(status, &headers, &body);
}

fn handle(request: crate::output::http::Request, out: &Path, version: &Version) {
    if !matches!(request.method.as_str(), "GET" | "HEAD") {
        let body = tr!("serve.method_not_allowed").into_bytes();
        respond(
            request,
            405,
            "text/plain; charset=utf-8",
            body,
            &[("Allow", "GET, HEAD")],
        );
        return;
    }
    let target = request.url.clone();
    let path = target.split(['?', '#']).next().unwrap_or("");
    if path == VERSION_PATH {
        respond(
            request,
            200,
            "text/plain; charset=utf-8",
            version.current().into_bytes(),
            &[],
        );
        return;
    }
    if path == RELOAD_PATH {
        respond(
            request,
            200,
            content_type(Path::new("x.js")),
            RELOAD_JS.as_bytes().to_vec(),
            &[],
        );
        return;
    }
    let root = match out.canonicalize() {
        Ok(r) => r,
        Err(_) => return not_found(request, None),
    };
    match resolve(&root, &target) {
        Resolved::File(file) => match std::fs::read(&file) {
            Ok(body) => {
                let kind = content_type(&file);
                let body = if kind.starts_with("text/html") {
                    inject_reload(body)
                } else {
                    body
                };
                respond(request, 200, kind, body, &[]);
            }
            Err(_) => not_found(request, Some(&root)),
        },
        Resolved::Redirect(location) => respond(
            request,
            301,
            "text/plain; charset=utf-8",
            Vec::new(),
            &[("Location", &location)],
        ),
        Resolved::NotFound => not_found(request, Some(&root)),
    }
}

/// The site's own 404 page with status 404, or a one-line message when it has none.
fn not_found(request: crate::output::http::Request, root: Option<&Path>) {
    let page = root.and_then(|r| std::fs::read(r.join("404.html")).ok());
    match page {
        Some(body) => respond(
            request,
            404,
            "text/html; charset=utf-8",
            inject_reload(base_at_root(body)),
            &[],
        ),
        None => respond(
            request,
            404,
            "text/plain; charset=utf-8",
            tr!("serve.not_found").into_bytes(),
            &[],
        ),
    }
}

/// The 404 page is written for the site's root (its links are relative to it) but answers any
/// path: a `<base href="/">` makes its styles, scripts and links resolve from the root.
fn base_at_root(body: Vec<u8>) -> Vec<u8> {
    let text = match String::from_utf8(body) {
        Ok(t) => t,
        Err(e) => return e.into_bytes(),
    };
    let lower = text.to_ascii_lowercase();
    if lower.contains("<base") {
        return text.into_bytes();
    }
    let Some(head) = lower.find("<head") else {
        return text.into_bytes();
    };
    let at = lower[head..].find('>').map_or(head, |i| head + i + 1);
    format!("{}<base href=\"/\">{}", &text[..at], &text[at..]).into_bytes()
}

/// Adds the live-reload script before `</body>` unless the page already loads it.
fn inject_reload(body: Vec<u8>) -> Vec<u8> {
    let text = match String::from_utf8(body) {
        Ok(t) => t,
        Err(e) => return e.into_bytes(),
    };
    // The theme can load it itself (`live_reload`); never twice.
    if text.contains("reload.js") {
        return text.into_bytes();
    }
    let at = text
        .to_ascii_lowercase()
        .rfind("</body>")
        .unwrap_or(text.len());
    let mut out = String::with_capacity(text.len() + RELOAD_TAG.len());
    out.push_str(&text[..at]);
    out.push_str(RELOAD_TAG);
    out.push_str(&text[at..]);
    out.into_bytes()
}

/// Whether a changed path is a source of the site: `desk.yaml` or anything under `kb/`,
/// `tickets/` or `theme/`, except editors' hidden and backup files.
pub fn is_source(desk_root: &Path, path: &Path) -> bool {
    let Ok(rel) = path.strip_prefix(desk_root) else {
        return false;
    };
    let names: Vec<&str> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => n.to_str(),
            _ => None,
        })
        .collect();
    if names
        .iter()
        .any(|n| n.starts_with('.') || n.ends_with('~') || n.ends_with(".swp"))
    {
        return false;
    }
    match names.as_slice() {
        ["desk.yaml"] => true,
        [first, _, ..] => matches!(*first, "kb" | "tickets" | "theme"),
        _ => false,
    }
}

/// Watches the desk's sources with the OS's file notifications and sends every changed source
/// path on `tx`. The watcher stops when the returned value is dropped.
pub fn watch(desk_root: &Path, tx: mpsc::Sender<PathBuf>) -> Result<notify::RecommendedWatcher> {
    use notify::{RecursiveMode, Watcher};
    let root = desk_root.to_path_buf();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            for path in event.paths {
                if is_source(&root, &path) {
                    let _ = tx.send(path);
                }
            }
        }
    })
    .map_err(|e| {
        Error::Message(tr!(
            "serve.watch_failed",
            path = desk_root.display(),
            error = e
        ))
    })?;
    let watch = |w: &mut notify::RecommendedWatcher, p: &Path, mode| {
        w.watch(p, mode)
            .map_err(|e| Error::Message(tr!("serve.watch_failed", path = p.display(), error = e)))
    };
    watch(&mut watcher, desk_root, RecursiveMode::NonRecursive)?;
    for dir in ["kb", "tickets", "theme"] {
        let p = desk_root.join(dir);
        if p.is_dir() {
            watch(&mut watcher, &p, RecursiveMode::Recursive)?;
        }
    }
    Ok(watcher)
}

/// Waits for the first change, then for a quiet spell, and returns every path changed in
/// between (deduplicated). `None` when the watcher is gone.
pub fn next_batch(rx: &mpsc::Receiver<PathBuf>) -> Option<Vec<PathBuf>> {
    let first = rx.recv().ok()?;
    let mut paths = vec![first];
    loop {
        match rx.recv_timeout(DEBOUNCE) {
            Ok(p) => paths.push(p),
            Err(mpsc::RecvTimeoutError::Timeout) => break,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    paths.sort();
    paths.dedup();
    Some(paths)
}

/// Whether `bind` only listens on this machine.
pub fn is_loopback(bind: &str) -> bool {
    let host = bind.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What listening on `bind` exposes, or why it is refused: a non-loopback address serves
/// anyone who can reach it, so it needs `--public` (the public build: no tickets, reports,
/// customers' contacts or internal articles) or an explicit `--allow-remote` (the internal
/// build, for a trusted network).
pub fn bind_policy(bind: &str, public: bool, allow_remote: bool) -> Result<Option<String>> {
    if is_loopback(bind) {
        return Ok(None);
    }
    match (public, allow_remote) {
        (false, false) => Err(Error::Usage(tr!("serve_guard.remote_refused", bind = bind))),
        (true, _) => Ok(Some(tr!("serve_guard.remote_public", bind = bind))),
        (false, true) => Ok(Some(tr!("serve_guard.remote_internal", bind = bind))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("out");
        std::fs::create_dir_all(root.join("kb")).unwrap();
        std::fs::write(root.join("index.html"), "<html><body>home</body></html>").unwrap();
        std::fs::write(root.join("kb/a b.html"), "a").unwrap();
        std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
        let root = root.canonicalize().unwrap();
        (dir, root)
    }

    #[test]
    fn resolves_files_folders_and_escapes() {
        let (_d, root) = site();
        assert_eq!(resolve(&root, "/"), Resolved::File(root.join("index.html")));
        assert_eq!(
            resolve(&root, "/kb/a%20b.html?x=1"),
            Resolved::File(root.join("kb/a b.html"))
        );
        assert_eq!(
            resolve(&root, "/kb?q=1"),
            Resolved::Redirect("/kb/?q=1".into())
        );
        std::fs::create_dir_all(root.join("ñ")).unwrap();
        assert_eq!(
            resolve(&root, "/ñ?a\r\nX: y"),
            Resolved::Redirect("/%C3%B1/?a%0D%0AX:%20y".into())
        );
    }

    #[test]
    fn refuses_everything_that_leaves_the_folder() {
        let (_d, root) = site();
        for target in [
            "/../secret.txt",
            "/%2e%2e/secret.txt",
            "/%2E%2E%2Fsecret.txt",
            "/%252e%252e/secret.txt",
            "/..%5csecret.txt",
            "/kb\\..\\..\\secret.txt",
            "/kb/%00",
            "//etc/passwd",
            "http://example.com/../secret.txt",
            "/%zz",
            "/%c0%ae%c0%ae/secret.txt",
            "/./index.html",
        ] {
            assert_eq!(resolve(&root, target), Resolved::NotFound, "{target}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn refuses_symlinks_leading_out() {
        let (d, root) = site();
        std::os::unix::fs::symlink(d.path().join("secret.txt"), root.join("link.txt")).unwrap();
        std::os::unix::fs::symlink(d.path(), root.join("up")).unwrap();
        assert_eq!(resolve(&root, "/link.txt"), Resolved::NotFound);
        assert_eq!(resolve(&root, "/up/secret.txt"), Resolved::NotFound);
        std::os::unix::fs::symlink(root.join("index.html"), root.join("inside.html")).unwrap();
        assert_eq!(
            resolve(&root, "/inside.html"),
            Resolved::File(root.join("index.html"))
        );
    }

    #[test]
    fn leaves_pages_that_are_not_utf8_alone() {
        let page = b"<html><body>\xff</body></html>".to_vec();
        assert_eq!(inject_reload(page.clone()), page);
        assert_eq!(base_at_root(page.clone()), page);
    }

    #[test]
    fn injects_the_reload_script_once() {
        let page = inject_reload(b"<html><BODY>x</BODY></html>".to_vec());
        let page = String::from_utf8(page).unwrap();
        assert_eq!(page, format!("<html><BODY>x{RELOAD_TAG}</BODY></html>"));
        assert_eq!(
            String::from_utf8(inject_reload(page.clone().into_bytes())).unwrap(),
            page
        );
    }

    #[test]
    fn the_404_page_resolves_from_the_root() {
        let page =
            base_at_root(b"<html><HEAD lang=x><link href=\"static/a.css\"></head></html>".to_vec());
        assert_eq!(
            String::from_utf8(page).unwrap(),
            "<html><HEAD lang=x><base href=\"/\"><link href=\"static/a.css\"></head></html>"
        );
        let own = b"<head><base href=\"/x/\"></head>".to_vec();
        assert_eq!(base_at_root(own.clone()), own);
    }

    #[test]
    fn sources_are_desk_files_only() {
        let root = Path::new("/d");
        assert!(is_source(root, Path::new("/d/desk.yaml")));
        assert!(is_source(root, Path::new("/d/tickets/2026/11/x.md")));
        assert!(is_source(root, Path::new("/d/theme/static/site.css")));
        assert!(!is_source(root, Path::new("/d/_site/index.html")));
        assert!(!is_source(root, Path::new("/d/kb/.x.md.swp")));
        assert!(!is_source(root, Path::new("/d/.git/index")));
    }
}
