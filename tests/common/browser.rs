//! A small WebDriver client for Debian's headless Chromium through chromedriver, over plain
//! HTTP on loopback. Used by tests/browser.rs.

use super::http::{dechunk, free_port};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Flags that work on this machine (no GPU, no sandbox in containers, no network chatter).
pub const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
];

/// Runs before any script of every page and frame: dialogs are recorded instead of shown,
/// and errors are collected, so tests can tell whether a payload ran.
pub const PAGE_HOOK: &str = r#"
(function () {
  window.__dialogs = [];
  window.__errors = [];
  ['alert', 'confirm', 'prompt', 'print'].forEach(function (name) {
    window[name] = function (message) { window.__dialogs.push(name + ': ' + message); return null; };
  });
  window.addEventListener('error', function (e) {
    var where = e.target && e.target !== window ? (e.target.outerHTML || String(e.target)).slice(0, 200) : (e.filename || '');
    window.__errors.push('error: ' + (e.message || e.type) + ' ' + where);
  }, true);
  window.addEventListener('unhandledrejection', function (e) { window.__errors.push('rejection: ' + e.reason); });
  var original = console.error;
  console.error = function () {
    window.__errors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
})();
"#;

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Chromium and chromedriver, when both are installed.
pub fn browser() -> Option<(PathBuf, PathBuf)> {
    Some((
        find_program(&["chromium", "chromium-browser"])?,
        find_program(&["chromedriver"])?,
    ))
}

/// Chromium and chromedriver, or `None` after saying clearly that the browser tests are
/// skipped. With `MESA_REQUIRE_BROWSER=1` (CI) a missing browser is a failure instead.
pub fn browser_or_skip(test: &str) -> Option<(PathBuf, PathBuf)> {
    if let Some(found) = browser() {
        return Some(found);
    }
    let message = "headless Chromium not found: install Debian's `chromium` and `chromium-driver` packages (apt-get install -y chromium chromium-driver)";
    if std::env::var("MESA_REQUIRE_BROWSER").is_ok_and(|v| v == "1") {
        panic!("{message}; MESA_REQUIRE_BROWSER=1 requires the browser tests to run");
    }
    // Straight to stderr: the test harness hides what passing tests print with the macros.
    let line = format!("\nSKIPPED browser test `{test}`: {message}\n");
    let _ = std::io::stderr().write_all(line.as_bytes());
    None
}

/// One HTTP request to 127.0.0.1:`port`; returns status and JSON body.
fn http_json(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> std::io::Result<(u16, Value)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes())?;
    let (status, payload) = read_response(&mut stream)?;
    let value = serde_json::from_slice(&payload).unwrap_or(Value::Null);
    Ok((status, value))
}

/// Reads one HTTP response: chromedriver keeps the connection open, so the body ends by
/// Content-Length or the last chunk, not by the connection closing.
fn read_response(stream: &mut TcpStream) -> std::io::Result<(u16, Vec<u8>)> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let split = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::Error::other(
                "connection closed before the headers ended",
            ));
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length: Option<usize> = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    let mut body = raw[split + 4..].to_vec();
    loop {
        let done = match length {
            Some(n) => body.len() >= n,
            None if chunked => body.windows(5).any(|w| w == b"0\r\n\r\n"),
            None => false,
        };
        if done {
            break;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&buf[..n]);
    }
    if chunked {
        body = dechunk(&body);
    }
    Ok((status, body))
}

/// A chromedriver process with one Chromium session; both end when dropped.
pub struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
    /// One browser at a time: several Chromium instances on a 2-core machine starve each
    /// other's renderers until page loads time out.
    _turn: std::sync::MutexGuard<'static, ()>,
}

static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Browser {
    pub fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        // A test that failed while holding the turn poisons the lock; the next one may go on.
        let turn = TURN.lock().unwrap_or_else(|e| e.into_inner());
        let port = free_port();
        let profile = tempfile::tempdir().unwrap();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            _profile: profile,
            _turn: turn,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, v)) = http_json(port, "GET", "/status", None) {
                if v["value"]["ready"] == json!(true) {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not start within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
        args.push(format!(
            "--user-data-dir={}",
            browser._profile.path().display()
        ));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium.to_string_lossy(), "args": args},
            "goog:loggingPrefs": {"browser": "ALL"},
            "unhandledPromptBehavior": "ignore",
            "timeouts": {"pageLoad": 60000, "script": 30000, "implicit": 0}
        }}});
        let (status, v) = http_json(port, "POST", "/session", Some(&caps)).expect("new session");
        assert_eq!(status, 200, "chromedriver refused the session: {v}");
        browser.session = v["value"]["sessionId"]
            .as_str()
            .expect("session id")
            .to_string();
        browser.cdp("Page.enable", json!({}));
        browser.cdp(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": PAGE_HOOK}),
        );
        browser
    }

    /// A WebDriver command on this session; panics on a WebDriver error.
    pub fn cmd(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.try_cmd(method, path, body);
        assert_eq!(status, 200, "WebDriver {method} {path} failed: {v}");
        v
    }

    pub fn try_cmd(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let full = format!("/session/{}{path}", self.session);
        let body = body.or_else(|| (method == "POST").then(|| json!({})));
        let (status, v) =
            http_json(self.port, method, &full, body.as_ref()).expect("talk to chromedriver");
        (status, v["value"].clone())
    }

    pub fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.cmd(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": cmd, "params": params})),
        )
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", Some(json!({"url": url})));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub fn exec(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Runs an asynchronous `script`: its last argument is the callback that returns the value
    /// (within the session's 30 s script timeout).
    pub fn exec_async(&self, script: &str, args: Value) -> Value {
        self.cmd(
            "POST",
            "/execute/async",
            Some(json!({"script": script, "args": args})),
        )
    }

    /// Waits until `script` returns something truthy; returns it.
    pub fn wait_for(&self, what: &str, script: &str, args: Value) -> Value {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let v = self.exec(script, args.clone());
            if !(v.is_null()
                || v == json!(false)
                || v == json!("")
                || v == json!(0)
                || v == json!([]))
            {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn find(&self, css: &str) -> Option<String> {
        let (status, v) = self.try_cmd(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        if status != 200 {
            return None;
        }
        v.as_object()?.values().next()?.as_str().map(String::from)
    }

    pub fn type_into(&self, element: &str, text: &str) {
        self.cmd("POST", &format!("/element/{element}/clear"), None);
        self.cmd(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        );
    }

    pub fn click(&self, element: &str) {
        self.cmd("POST", &format!("/element/{element}/click"), None);
    }

    /// The text of an open dialog (alert, confirm, prompt), if one is open.
    pub fn open_dialog(&self) -> Option<String> {
        let (status, v) = self.try_cmd("GET", "/alert/text", None);
        (status == 200).then(|| v.as_str().unwrap_or_default().to_string())
    }

    /// Browser console entries since the last call, as "LEVEL message".
    pub fn console(&self) -> Vec<String> {
        let v = self.cmd("POST", "/se/log", Some(json!({"type": "browser"})));
        v.as_array()
            .map(|entries| {
                entries
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {}",
                            e["level"].as_str().unwrap_or(""),
                            e["message"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Saves a PNG screenshot of the whole page.
    pub fn screenshot(&self, path: &Path) {
        let shot = self.cdp(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true}),
        );
        let png = base64_decode(shot["data"].as_str().expect("screenshot data"));
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http_json(
                self.port,
                "DELETE",
                &format!("/session/{}", self.session),
                None,
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in text.bytes().filter_map(value) {
        acc = (acc << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// Where screenshots go: `<target>/screenshots/`, next to the test binary's profile folder.
pub fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_mesa"))
        .parent()
        .and_then(|p| p.parent())
        .map(|t| t.join("screenshots"))
        .unwrap_or_else(|| PathBuf::from("target/screenshots"))
}
