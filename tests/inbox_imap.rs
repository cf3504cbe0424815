//! `mesa inbox fetch` against a real Dovecot IMAP server started on loopback by the test, with
//! its configuration in a temporary folder and messages delivered by Dovecot's own `doveadm
//! save`: the whole flow, a dry run, a rerun, and a connection dropped mid-fetch (between a
//! commit and the move that marks the message) followed by a rerun: nothing lost, nothing twice.
//!
//! Needs `dovecot-imapd` and root (Dovecot's services switch users); `.ci/run` installs it and
//! sets `MESA_REQUIRE_IMAP=1`, which turns a missing server into a failure instead of a skip.

mod common;

use common::git::{git, TestDesk, MESA};
use common::mail_corpus::crlf;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

const USER: &str = "soporte@sgm.com.co";
const PASSWORD: &str = "clave-de-prueba";
const DOVECOT: &str = "/usr/sbin/dovecot";

/// A Dovecot instance for one test; stopped on drop.
struct Dovecot {
    dir: tempfile::TempDir,
    conf: PathBuf,
    port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts Dovecot, or says why it cannot run here (a failure under `MESA_REQUIRE_IMAP=1`).
fn dovecot() -> Option<Dovecot> {
    let why = if !Path::new(DOVECOT).exists() {
        Some("dovecot is not installed (apt-get install dovecot-imapd)".to_string())
    } else if !Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
    {
        Some("dovecot needs root to switch users".to_string())
    } else {
        None
    };
    if let Some(why) = why {
        if std::env::var("MESA_REQUIRE_IMAP").as_deref() == Ok("1") {
            panic!("MESA_REQUIRE_IMAP=1 but {why}");
        }
        eprintln!("skipped: {why}");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
    for sub in ["run", "state", "mail", "home"] {
        std::fs::create_dir_all(d.join(sub)).unwrap();
    }
    for sub in ["mail", "home"] {
        std::fs::set_permissions(d.join(sub), std::fs::Permissions::from_mode(0o777)).unwrap();
    }
    std::fs::write(d.join("users"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
    let port = free_port();
    let p = |s: &str| d.join(s).display().to_string();
    let conf = d.join("dovecot.conf");
    std::fs::write(
        &conf,
        format!(
            "base_dir = {run}\nstate_dir = {state}\nlog_path = {log}\nprotocols = imap\n\
             listen = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\nfirst_valid_uid = 1\n\
             auth_mechanisms = plain login\nmail_location = maildir:{mail}/%n\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {users}\n}}\n\
             userdb {{\n  driver = static\n  args = uid=dovecot gid=dovecot home={home}/%n\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n\
               inet_listener imaps {{\n    port = 0\n  }}\n}}\n",
            run = p("run"),
            state = p("state"),
            log = p("dovecot.log"),
            mail = p("mail"),
            users = p("users"),
            home = p("home"),
        ),
    )
    .unwrap();
    // The daemon keeps its standard streams: give it none, so nothing waits on them.
    let status = Command::new(DOVECOT)
        .arg("-c")
        .arg(&conf)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "dovecot did not start: {}",
        std::fs::read_to_string(d.join("dovecot.log")).unwrap_or_default()
    );
    // Wait for the listener (the event, not a fixed sleep).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "dovecot never listened"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Some(Dovecot { dir, conf, port })
}

impl Dovecot {
    /// Delivers a message with Dovecot's own tool.
    fn deliver(&self, raw: &str) {
        let mut child = Command::new("doveadm")
            .arg("-c")
            .arg(&self.conf)
            .args(["save", "-u", USER, "-m", "INBOX"])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(crlf(raw).as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "doveadm save failed");
    }

    /// (messages in `folder`, those carrying `$MesaImported`), read over IMAP.
    fn count(&self, folder: &str) -> (usize, usize) {
        let client = imap::ClientBuilder::new("127.0.0.1", self.port)
            .mode(imap::ConnectionMode::Plaintext)
            .connect()
            .unwrap();
        let mut s = client.login(USER, PASSWORD).map_err(|(e, _)| e).unwrap();
        let all = match s.select(folder) {
            Ok(m) => m.exists as usize,
            Err(_) => return (0, 0),
        };
        let flagged = s.uid_search("KEYWORD $MesaImported").unwrap().len();
        s.logout().unwrap();
        (all, flagged)
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new(DOVECOT)
            .arg("-c")
            .arg(&self.conf)
            .arg("stop")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let _ = self.dir.path();
    }
}

/// The sample desk with `mail.inbound.imap` pointing at `port`.
fn desk_for(port: u16, move_to: Option<&str>) -> TestDesk {
    let d = TestDesk::new();
    let cfg = std::fs::read_to_string(d.root.join("desk.yaml")).unwrap();
    let mut imap = format!(
        "    imap:\n      host: 127.0.0.1\n      port: {port}\n      tls: none\n      user: {USER}\n      \
         password_env: MESA_TEST_IMAP_PASSWORD\n      folder: INBOX\n"
    );
    if let Some(m) = move_to {
        imap.push_str(&format!("      move_to: {m}\n"));
    }
    let cfg = cfg.replace(
        "    max_attachments_per_desk: 1073741824\n",
        &format!("    max_attachments_per_desk: 1073741824\n{imap}"),
    );
    assert!(
        cfg.contains("password_env"),
        "desk.yaml has the inbound section"
    );
    std::fs::write(d.root.join("desk.yaml"), cfg).unwrap();
    git(&d.root, &["commit", "-q", "-am", "imap"]);
    d
}

fn fetch(d: &TestDesk, now: &str, extra: &[&str]) -> Output {
    Command::new(MESA)
        .args([
            "--desk",
            d.root.to_str().unwrap(),
            "--now",
            now,
            "--format",
            "json",
        ])
        .args(["inbox", "fetch"])
        .args(extra)
        .env("MESA_TEST_IMAP_PASSWORD", PASSWORD)
        .env("MESA_AGENT", "lmartinez")
        .env_remove("MESA_DESK")
        .env_remove("MESA_NOW")
        .env_remove("MESA_LANG")
        .output()
        .expect("mesa runs")
}

fn actions(out: &Output) -> Vec<String> {
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["messages"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["action"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn new_message(n: u32) -> String {
    format!(
        "Received: from mx by mail.sgm.com.co; Mon, 2 Nov 2026 10:{n:02}:00 -0500\n\
         From: Luisa Fernanda Orozco <lorozco@cmcaribe.example.co>\nTo: {USER}\n\
         Subject: Solicitud {n}\nDate: Mon, 2 Nov 2026 10:{n:02}:00 -0500\n\
         Message-ID: <imap{n}@cmcaribe.example.co>\nMIME-Version: 1.0\n\
         Content-Type: text/plain; charset=UTF-8\n\nNecesitamos ayuda con el punto {n}.\n"
    )
}

fn received_ids(root: &Path) -> Vec<String> {
    let mut ids = Vec::new();
    for e in walkdir::WalkDir::new(root.join("tickets")) {
        let e = e.unwrap();
        if e.path().extension().is_some_and(|x| x == "md") {
            let text = std::fs::read_to_string(e.path()).unwrap();
            for l in text.lines() {
                if let Some(v) = l.trim().strip_prefix("received_id: ") {
                    ids.push(v.to_string());
                }
            }
        }
    }
    ids.sort();
    ids
}

#[test]
fn fetch_flags_imported_messages_and_a_rerun_adds_nothing() {
    let Some(server) = dovecot() else { return };
    let d = desk_for(server.port, None);
    let a = d.new_ticket(
        "2026-11-02T08:00:00-05:00",
        &["--type", "incident", "--incident", "no-carga-pagina"],
    );
    let ack = d.show(&a)["emails"][0]["message_id"]
        .as_str()
        .unwrap()
        .to_string();
    server.deliver(&format!(
        "Received: from mx by mail.sgm.com.co; Mon, 2 Nov 2026 10:00:00 -0500\n\
         From: Marcela Rincón <sistemas@santahelena.example.co>\nTo: {USER}\n\
         Subject: Re: [Caso {a}] Hemos recibido su caso\nDate: Mon, 2 Nov 2026 10:00:00 -0500\n\
         Message-ID: <imap-reply@santahelena.example.co>\nIn-Reply-To: {ack}\nMIME-Version: 1.0\n\
         Content-Type: text/plain; charset=UTF-8\n\nSigue sin cargar.\n"
    ));
    server.deliver(&new_message(1));
    server.deliver(&format!(
        "From: Marcela Rincón <sistemas@santahelena.example.co>\nTo: {USER}\n\
         Subject: Fuera de la oficina\nAuto-Submitted: auto-replied\n\
         Message-ID: <imap-auto@santahelena.example.co>\n\nVuelvo el lunes.\n"
    ));
    let now = "2026-11-02T12:00:00-05:00";

    // A dry run reads everything and marks and writes nothing.
    let head = d.head();
    let out = fetch(&d, now, &["--dry-run"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(actions(&out), ["reply", "new", "loop"]);
    assert_eq!(d.head(), head);
    assert_eq!(server.count("INBOX"), (3, 0));

    let out = fetch(&d, now, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(actions(&out), ["reply", "new", "loop"]);
    assert_eq!(
        server.count("INBOX"),
        (3, 3),
        "every handled message is flagged"
    );
    let rec: Vec<Value> = d.show(&a)["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "received")
        .cloned()
        .collect();
    assert_eq!(rec.len(), 1);
    assert_eq!(rec[0]["text"], "Sigue sin cargar.");

    // A rerun finds nothing new.
    let head = d.head();
    let out = fetch(&d, now, &[]);
    assert!(out.status.success());
    assert!(actions(&out).is_empty());
    assert_eq!(d.head(), head);
    // A wrong password is a clear error and changes nothing.
    let bad = Command::new(MESA)
        .args([
            "--desk",
            d.root.to_str().unwrap(),
            "--now",
            now,
            "inbox",
            "fetch",
        ])
        .env("MESA_TEST_IMAP_PASSWORD", "otra")
        .env_remove("MESA_LANG")
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("servidor IMAP 127.0.0.1"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

/// A TCP relay to `port` that, on its first connection only, cuts both directions when the
/// client sends its `drop_at`-th `UID MOVE` (before forwarding it).
fn cutting_proxy(port: u16, drop_at: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let me = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut first = true;
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let server = TcpStream::connect(("127.0.0.1", port)).unwrap();
            let cut = Arc::new(AtomicBool::new(false));
            let moves = Arc::new(AtomicUsize::new(0));
            let cutting = first;
            first = false;
            let (mut c_in, mut s_out) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            let (mut s_in, mut c_out) = (server, client);
            let cut2 = cut.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while let Ok(n) = c_in.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let chunk = String::from_utf8_lossy(&buf[..n]);
                    if cutting && chunk.contains("UID MOVE") {
                        let seen = moves.fetch_add(1, Ordering::SeqCst) + 1;
                        if seen == drop_at {
                            cut2.store(true, Ordering::SeqCst);
                            let _ = c_in.shutdown(Shutdown::Both);
                            let _ = s_out.shutdown(Shutdown::Both);
                            break;
                        }
                    }
                    if s_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = s_out.shutdown(Shutdown::Write);
            });
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while let Ok(n) = s_in.read(&mut buf) {
                    if n == 0 || cut.load(Ordering::SeqCst) {
                        break;
                    }
                    if c_out.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = c_out.shutdown(Shutdown::Both);
            });
        }
    });
    me
}

#[test]
fn a_connection_dropped_mid_fetch_loses_nothing_and_imports_nothing_twice() {
    let Some(server) = dovecot() else { return };
    for n in 1..=6 {
        server.deliver(&new_message(n));
    }
    // The third move never reaches the server: message 3 is committed but not marked, and
    // messages 4 to 6 are not read in this run.
    let proxy = cutting_proxy(server.port, 3);
    let d = desk_for(proxy, Some("Importados"));
    let now = "2026-11-02T12:00:00-05:00";
    let out = fetch(&d, now, &[]);
    assert!(!out.status.success(), "the dropped connection is an error");
    assert_eq!(
        actions(&out),
        ["new", "new"],
        "the outcomes reported before the drop"
    );
    assert_eq!(
        received_ids(&d.root),
        [
            "<imap1@cmcaribe.example.co>",
            "<imap2@cmcaribe.example.co>",
            "<imap3@cmcaribe.example.co>"
        ]
    );
    assert_eq!(
        server.count("INBOX").0,
        4,
        "messages 3 to 6 stay on the server"
    );
    assert_eq!(server.count("Importados").0, 2);
    assert_eq!(d.status(), "", "nothing half-written");

    // The rerun (the proxy now lets everything through): 3 is recognised and only marked.
    let out = fetch(&d, now, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(actions(&out), ["duplicate", "new", "new", "new"]);
    let want: Vec<String> = (1..=6)
        .map(|n| format!("<imap{n}@cmcaribe.example.co>"))
        .collect();
    assert_eq!(received_ids(&d.root), want, "each message exactly once");
    assert_eq!(server.count("INBOX").0, 0);
    assert_eq!(server.count("Importados").0, 6);
    let check = d.run("2026-11-02T13:00:00-05:00", &["check"]);
    assert!(check.status.success());
}
