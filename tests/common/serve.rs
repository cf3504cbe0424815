//! Shared by tests/serve.rs and tests/browser.rs: a temp copy of the sample desk, the real
//! `mesa serve` running on loopback, and raw HTTP over a TcpStream (so nothing normalises paths).

use super::http::dechunk;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A temp folder holding `desk/`, a copy of the sample desk (config, kb, tickets, theme).
pub fn sample_desk() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let desk = tmp.path().join("desk");
    std::fs::create_dir_all(&desk).unwrap();
    std::fs::copy(
        super::sample_root().join("desk.yaml"),
        desk.join("desk.yaml"),
    )
    .unwrap();
    for dir in ["kb", "tickets", "theme"] {
        if super::sample_root().join(dir).is_dir() {
            super::copy_dir(&super::sample_root().join(dir), &desk.join(dir));
        }
    }
    (tmp, desk)
}

/// Creates a ticket in `desk` with the real `mesa new` (no git commit); returns its case number.
pub fn new_ticket(
    desk: &Path,
    customer: &str,
    title: &str,
    description: &str,
    now: &str,
) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(desk)
        .args([
            "new",
            "--no-commit",
            "--channel",
            "email",
            "--customer",
            customer,
        ])
        .args([
            "--requester",
            "Ana Ruiz <ana.ruiz@example.co>",
            "--title",
            title,
        ])
        .args(["--description", description, "--format", "json"])
        .env("MESA_AGENT", "lmartinez")
        .env("MESA_NOW", now)
        .output()
        .expect("run mesa new");
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "mesa new failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found = walkdir::WalkDir::new(desk.join("tickets"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".md"))
                .map(String::from)
        })
        .find(|id| text.contains(id.as_str()));
    found.unwrap_or_else(|| panic!("no new ticket file for: {text}"))
}

/// `mesa serve` as a child process; killed when dropped.
pub struct Serve {
    child: Child,
    pub url: String,
    pub port: u16,
    /// Lines the server printed after the URL (rebuild notices).
    pub lines: mpsc::Receiver<String>,
}

impl Serve {
    /// Starts `mesa --desk DESK serve --port 0 [extra]` with English messages and waits for
    /// the URL it prints.
    pub fn start(desk: &Path, extra: &[&str]) -> Serve {
        Serve::start_lang(desk, extra, "en")
    }

    /// The same in the language `lang` (the site's language too).
    pub fn start_lang(desk: &Path, extra: &[&str], lang: &str) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mesa"))
            .arg("--desk")
            .arg(desk)
            .args(["serve", "--port", "0"])
            .args(extra)
            .env("MESA_LANG", lang)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run mesa serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                println!("mesa serve: {line}");
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(120);
        let url = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => {
                    if let Some(at) = line.find("http://") {
                        let url: String = line[at..]
                            .chars()
                            .take_while(|c| !c.is_whitespace())
                            .collect();
                        break url;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "mesa serve printed no URL within 120 s (exit: {:?})",
                        child.try_wait()
                    );
                }
            }
        };
        let port = url
            .trim_end_matches('/')
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {url}"));
        Serve {
            child,
            url,
            port,
            lines: rx,
        }
    }

    pub fn get(&self, target: &str) -> Response {
        raw_request(
            self.port,
            &format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                .into_bytes(),
        )
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Sends `request` as bytes to 127.0.0.1:`port` and reads the whole response (the request
/// must ask for `Connection: close`). A connection closed without a status line is status 0.
pub fn raw_request(port: u16, request: &[u8]) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to mesa serve");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    stream.write_all(request).unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Response {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Response {
            status: 0,
            headers: Vec::new(),
            body: raw.to_vec(),
        };
    };
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Response {
        status,
        headers,
        body,
    }
}
