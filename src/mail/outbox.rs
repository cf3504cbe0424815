//! `mesa outbox list|send`: delivers the clone's queued customer emails over SMTP.
//!
//! A queued message is a folder `outbox/<stem>/` holding `message.eml` and `meta.json` (see
//! [`crate::mail::compose::enqueue`]). Delivery never deletes anything: a delivered message's folder
//! is renamed into `outbox/sent/`, and a failure leaves it where it is with the reason in
//! `error.json`. The files that record a delivery attempt, all written atomically:
//!
//! - `sending`: written just before the SMTP `DATA` command. Until then nothing the server
//!   could deliver has left this machine, so any failure is a plain failure, retried by the
//!   next `send`.
//! - `delivered.json`: the server answered 250 to the message. Written before the folder moves
//!   to `sent/`, so a crash between the two only finishes the move on the next run.
//! - `uncertain.json`: the connection broke after `DATA` was accepted and before the server's
//!   final reply (or mesa itself stopped there: a `sending` file found by the next run). The
//!   server may or may not have delivered the message. **Choice:** such a message stays queued,
//!   flagged "possibly sent", and is not sent again unless an operator asks with
//!   `--retry-uncertain`. So mesa never sends a message twice on its own, and never loses one;
//!   if the operator does resend, the message keeps its Message-ID (deterministic, see
//!   [`crate::mail::compose`]) so the recipient's mail program can recognise the duplicate.
//! - `error.json`: the last failure (phase, server reply or network error, attempt count).
//!   A reply from the server (4xx/5xx) at any phase means the message was not accepted.
//!
//! One `send` runs at a time per clone (an OS lock on `outbox/.lock`, released even if mesa
//! dies), so two runs cannot pick the same message.

use crate::mail::compose::{Outgoing, MESSAGE_FILE, META_FILE};
use crate::model::desk::{MailSettings, TlsMode};
use crate::model::diag::{Error, Result};
use crate::tr;
use chrono::{DateTime, Utc};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::Address;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const SENDING_FILE: &str = "sending";
pub const DELIVERED_FILE: &str = "delivered.json";
pub const UNCERTAIN_FILE: &str = "uncertain.json";
pub const ERROR_FILE: &str = "error.json";
pub const SENT_DIR: &str = "sent";

/// How long to wait for the server at each step.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Where a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for its first attempt.
    Queued,
    /// The last attempt failed for sure; the next `send` tries again.
    Failed,
    /// The server may have it (connection lost after DATA); resent only on request.
    Uncertain,
    /// An attempt was in progress when mesa stopped (seen as uncertain by `send`).
    Interrupted,
    /// The server accepted it; only the move to `sent/` is missing.
    Delivered,
}

impl State {
    pub fn key(self) -> &'static str {
        match self {
            State::Queued => "outbox.state_queued",
            State::Failed => "outbox.state_failed",
            State::Uncertain => "outbox.state_uncertain",
            State::Interrupted => "outbox.state_interrupted",
            State::Delivered => "outbox.state_delivered",
        }
    }
}

/// A failure recorded beside the message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Failure {
    pub at: DateTime<Utc>,
    /// connect, mail, rcpt, data or message.
    pub phase: String,
    pub error: String,
    #[serde(default)]
    pub attempts: u32,
}

/// One message of the outbox, as `list` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub stem: String,
    #[serde(skip)]
    pub dir: PathBuf,
    pub state: State,
    pub message: Outgoing,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Failure>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncertain: Option<Failure>,
}

/// The queued messages, oldest first, and the folders that are not readable messages (as
/// messages naming them; a crash while queueing leaves only hidden temporary folders, which
/// are skipped). One broken folder never holds up the others.
pub fn list(desk_root: &Path) -> (Vec<Entry>, Vec<String>) {
    let outbox = crate::mail::compose::outbox_dir(desk_root);
    let Ok(read) = std::fs::read_dir(&outbox) else {
        return (Vec::new(), Vec::new());
    };
    let mut dirs: Vec<PathBuf> = read
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with('.') && n != SENT_DIR)
        })
        .collect();
    dirs.sort();
    let mut out = Vec::with_capacity(dirs.len());
    let mut broken = Vec::new();
    for dir in dirs {
        match read_entry(desk_root, &dir) {
            Ok(e) => out.push(e),
            Err(e) => broken.push(e.to_string()),
        }
    }
    (out, broken)
}

fn read_entry(desk_root: &Path, dir: &Path) -> Result<Entry> {
    let meta_path = dir.join(META_FILE);
    let rel = crate::model::load::rel(desk_root, &meta_path);
    let text = std::fs::read_to_string(&meta_path)
        .map_err(|e| Error::msg(tr!("outbox.bad_entry", path = rel.display(), error = e)))?;
    let message: Outgoing = serde_json::from_str(&text)
        .map_err(|e| Error::msg(tr!("outbox.bad_entry", path = rel.display(), error = e)))?;
    let read_failure = |name: &str| -> Option<Failure> {
        std::fs::read_to_string(dir.join(name))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
    };
    let error = read_failure(ERROR_FILE);
    let uncertain = read_failure(UNCERTAIN_FILE);
    let state = if dir.join(DELIVERED_FILE).exists() {
        State::Delivered
    } else if dir.join(SENDING_FILE).exists() {
        State::Interrupted
    } else if dir.join(UNCERTAIN_FILE).exists() {
        State::Uncertain
    } else if error.is_some() {
        State::Failed
    } else {
        State::Queued
    };
    Ok(Entry {
        stem: dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        dir: dir.to_path_buf(),
        state,
        message,
        error,
        uncertain,
    })
}

/// What a `send` run did.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Report {
    /// Delivered in this run (stems).
    pub sent: Vec<String>,
    /// Failed for sure; still queued with the error recorded.
    pub failed: Vec<(String, String)>,
    /// Lost the connection after DATA in this run or an earlier one: possibly sent, kept.
    pub uncertain: Vec<(String, String)>,
    /// Outbox folders that are not readable messages (left untouched).
    pub broken: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.uncertain.is_empty() && self.broken.is_empty()
    }
}

#[derive(Debug, Clone, Default)]
pub struct SendOptions {
    /// Resend these messages flagged "possibly sent" (by stem, with the same Message-ID): the
    /// operator confirmed each one (see [`uncertain`]).
    pub retry: Vec<String>,
}

/// The messages the server may already hold (flagged "possibly sent", or interrupted between
/// `DATA` and the server's reply), for the operator to confirm one by one before a resend.
pub fn uncertain(desk_root: &Path) -> Vec<Entry> {
    list(desk_root)
        .0
        .into_iter()
        .filter(|e| matches!(e.state, State::Uncertain | State::Interrupted))
        .collect()
}

/// The server's queue id in its reply to the end of a message, when it names one: Postfix
/// `250 2.0.0 Ok: queued as 4XyZ`, Exim `250 OK id=1a2b3c-...`, or a bare token after `Ok:`.
/// Kept in `delivered.json`, so an operator who doubts a delivery can look it up in the
/// server's log.
pub fn queue_id(reply: &str) -> Option<String> {
    let clean = |s: &str| {
        let t: String = s
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
            .collect();
        Some(t).filter(|t| !t.is_empty())
    };
    let lower = reply.to_ascii_lowercase();
    if let Some(i) = lower.find("queued as ") {
        return clean(&reply[i + 10..]);
    }
    if let Some(i) = lower.find("id=") {
        return clean(&reply[i + 3..]);
    }
    None
}

/// Delivers every queued message over SMTP as `mail` says, oldest first.
pub fn send(
    desk_root: &Path,
    mail: &MailSettings,
    now: DateTime<Utc>,
    opts: SendOptions,
) -> Result<Report> {
    let outbox = crate::mail::compose::outbox_dir(desk_root);
    let mut report = Report::default();
    if !outbox.is_dir() {
        return Ok(report);
    }
    let lock_path = outbox.join(".lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| {
            Error::msg(tr!(
                "mail.outbox_write",
                path = lock_path.display(),
                error = e
            ))
        })?;
    if lock.try_lock().is_err() {
        return Err(Error::msg(tr!("outbox.locked", path = lock_path.display())));
    }
    let (entries, broken) = list(desk_root);
    report.broken = broken;
    let mut session = Session::new(mail);
    for entry in entries {
        let stem = entry.stem.clone();
        match entry.state {
            State::Delivered => {
                finish_delivery(&outbox, &entry)?;
                report.sent.push(stem);
                continue;
            }
            State::Interrupted => {
                // mesa stopped between DATA and the server's reply: nobody knows.
                let failure = Failure {
                    at: now,
                    phase: "message".into(),
                    error: tr!("outbox.interrupted"),
                    attempts: entry.error.as_ref().map_or(0, |e| e.attempts) + 1,
                };
                write_json(&entry.dir.join(UNCERTAIN_FILE), &failure)?;
                remove(&entry.dir.join(SENDING_FILE))?;
                if !opts.retry.contains(&stem) {
                    report.uncertain.push((stem, failure.error));
                    continue;
                }
            }
            State::Uncertain if !opts.retry.contains(&stem) => {
                let why = entry
                    .uncertain
                    .as_ref()
                    .map(|u| u.error.clone())
                    .unwrap_or_default();
                report.uncertain.push((stem, why));
                continue;
            }
            _ => {}
        }
        let raw = match std::fs::read(entry.dir.join(MESSAGE_FILE)) {
            Ok(raw) => raw,
            Err(e) => {
                report.broken.push(tr!(
                    "outbox.bad_entry",
                    path =
                        crate::model::load::rel(desk_root, &entry.dir.join(MESSAGE_FILE)).display(),
                    error = e
                ));
                continue;
            }
        };
        let attempts = entry.error.as_ref().map_or(0, |e| e.attempts) + 1;
        match session.deliver(&entry, &raw) {
            Ok(response) => {
                write_json(
                    &entry.dir.join(DELIVERED_FILE),
                    &serde_json::json!({
                        "at": now,
                        "response": response,
                        "queue_id": queue_id(&response),
                        "attempts": attempts
                    }),
                )?;
                remove(&entry.dir.join(SENDING_FILE))?;
                finish_delivery(&outbox, &entry)?;
                report.sent.push(stem);
            }
            Err(Attempt::Failed { phase, error }) => {
                let failure = Failure {
                    at: now,
                    phase: phase.into(),
                    error: error.clone(),
                    attempts,
                };
                write_json(&entry.dir.join(ERROR_FILE), &failure)?;
                remove(&entry.dir.join(SENDING_FILE))?;
                report.failed.push((stem, error));
            }
            Err(Attempt::Uncertain { error }) => {
                let failure = Failure {
                    at: now,
                    phase: "message".into(),
                    error: error.clone(),
                    attempts,
                };
                write_json(&entry.dir.join(UNCERTAIN_FILE), &failure)?;
                write_json(&entry.dir.join(ERROR_FILE), &failure)?;
                remove(&entry.dir.join(SENDING_FILE))?;
                report.uncertain.push((stem, error));
            }
        }
    }
    session.quit();
    drop(lock);
    Ok(report)
}

/// Composes again every email `ticket`'s events record (composition is deterministic, so each
/// gets its recorded Message-ID) and queues those neither queued nor sent from this clone.
/// Returns the Message-IDs queued.
pub fn requeue(
    desk: &crate::model::load::Desk,
    ticket: &crate::model::ticket::Ticket,
) -> Result<Vec<String>> {
    requeue_only(desk, ticket, None)
}

/// [`requeue`], limited to the Message-IDs in `only` when given (the repair of a killed step
/// queues that step's emails, never older ones another clone may have sent).
pub fn requeue_only(
    desk: &crate::model::load::Desk,
    ticket: &crate::model::ticket::Ticket,
    only: Option<&[String]>,
) -> Result<Vec<String>> {
    let outbox = crate::mail::compose::outbox_dir(&desk.root);
    let mut queued = Vec::new();
    for ev in &ticket.front.events {
        let (Some(recorded), Some(kind)) = (
            &ev.message_id,
            crate::mail::compose::MailKind::for_event(ev),
        ) else {
            continue;
        };
        if only.is_some_and(|ids| !ids.contains(recorded)) {
            continue;
        }
        let Some(out) = crate::mail::compose::compose(desk, ticket, kind, ev)? else {
            continue;
        };
        if &out.message_id != recorded {
            return Err(Error::msg(tr!(
                "outbox.requeue_mismatch",
                id = ticket.front.id,
                recorded = recorded,
                composed = out.message_id
            )));
        }
        let stem = out.stem();
        let sent = std::fs::read_dir(outbox.join(SENT_DIR))
            .map(|r| {
                r.filter_map(|e| e.ok()).any(|e| {
                    e.file_name().to_string_lossy().split('.').next() == Some(stem.as_str())
                })
            })
            .unwrap_or(false);
        if outbox.join(&stem).exists() || sent {
            continue;
        }
        crate::mail::compose::enqueue(&desk.root, &out)?;
        queued.push(out.message_id);
    }
    Ok(queued)
}

/// A queued message whose delivery another clone or runner recorded in the ticket (a `mailed`
/// event pulled from git): it is not sent again. `delivered.json` says so (`elsewhere`) and the
/// folder moves to `sent/`, so nothing is deleted.
pub fn delivered_elsewhere(desk_root: &Path, entry: &Entry, now: DateTime<Utc>) -> Result<()> {
    let outbox = crate::mail::compose::outbox_dir(desk_root);
    write_json(
        &entry.dir.join(DELIVERED_FILE),
        &serde_json::json!({ "at": now, "elsewhere": true }),
    )?;
    finish_delivery(&outbox, entry)
}

/// A message in `outbox/sent/`: what was sent, when, and whether this clone sent it.
#[derive(Debug, Clone)]
pub struct Sent {
    pub message: Outgoing,
    pub at: Option<DateTime<Utc>>,
    /// Recorded as delivered by another clone (see [`delivered_elsewhere`]).
    pub elsewhere: bool,
}

/// Every message of `outbox/sent/` that can be read (the others are left alone).
pub fn sent(desk_root: &Path) -> Vec<Sent> {
    let dir = crate::mail::compose::outbox_dir(desk_root).join(SENT_DIR);
    let Ok(read) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in read.filter_map(|e| e.ok()) {
        let p = e.path();
        let Some(message) = std::fs::read_to_string(p.join(META_FILE))
            .ok()
            .and_then(|t| serde_json::from_str::<Outgoing>(&t).ok())
        else {
            continue;
        };
        let delivered: serde_json::Value = std::fs::read_to_string(p.join(DELIVERED_FILE))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default();
        out.push(Sent {
            message,
            at: delivered["at"]
                .as_str()
                .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.with_timezone(&Utc)),
            elsewhere: delivered["elsewhere"].as_bool().unwrap_or(false),
        });
    }
    out.sort_by(|a, b| a.message.message_id.cmp(&b.message.message_id));
    out
}

/// Moves a delivered message's folder into `outbox/sent/`.
fn finish_delivery(outbox: &Path, entry: &Entry) -> Result<()> {
    let sent = outbox.join(SENT_DIR);
    std::fs::create_dir_all(&sent)
        .map_err(|e| Error::msg(tr!("mail.outbox_write", path = sent.display(), error = e)))?;
    let mut dest = sent.join(&entry.stem);
    if dest.exists() {
        // Only possible after a --retry-uncertain resend of a message already in sent/.
        let mut n = 2;
        while sent.join(format!("{}.{n}", entry.stem)).exists() {
            n += 1;
        }
        dest = sent.join(format!("{}.{n}", entry.stem));
    }
    std::fs::rename(&entry.dir, &dest)
        .map_err(|e| Error::msg(tr!("mail.outbox_write", path = dest.display(), error = e)))?;
    crate::mail::compose::sync_dir(&sent);
    crate::mail::compose::sync_dir(outbox);
    Ok(())
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| Error::msg(e.to_string()))?;
    write_atomic(path, &bytes)
}

/// Temp file, fsync, rename, fsync the folder: the marker files must survive a crash.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let fail =
        |e: std::io::Error| Error::msg(tr!("mail.outbox_write", path = path.display(), error = e));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(fail)?;
    std::io::Write::write_all(&mut tmp, bytes).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    crate::mail::compose::sync_dir(dir);
    Ok(())
}

fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => {
            crate::mail::compose::sync_dir(path.parent().unwrap_or(Path::new(".")));
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::msg(tr!(
            "mail.outbox_write",
            path = path.display(),
            error = e
        ))),
    }
}

// ---------------------------------------------------------------------------------------
// SMTP

enum Attempt {
    /// Not delivered, for sure.
    Failed { phase: &'static str, error: String },
    /// Possibly delivered.
    Uncertain { error: String },
}

/// One SMTP connection reused for all messages of a run, reopened after it breaks.
struct Session<'a> {
    mail: &'a MailSettings,
    conn: Option<SmtpConnection>,
    /// The last transaction ended in error: reset before the next one.
    dirty: bool,
    /// The server could not be reached: the rest of the run fails the same way without
    /// waiting for it again.
    unreachable: Option<String>,
}

impl<'a> Session<'a> {
    fn new(mail: &'a MailSettings) -> Self {
        Session {
            mail,
            conn: None,
            dirty: false,
            unreachable: None,
        }
    }

    fn connect(&self) -> std::result::Result<SmtpConnection, String> {
        let m = self.mail;
        let user = std::env::var("MESA_SMTP_USER")
            .ok()
            .filter(|u| !u.is_empty());
        // Refuse before connecting: credentials never travel unencrypted beyond this machine.
        if user.is_some() && m.tls == TlsMode::None && !is_loopback(&m.smtp_host) {
            return Err(tr!("outbox.plain_auth_refused", host = m.smtp_host));
        }
        let hello = ClientId::default();
        let tls = || tls_parameters(&m.smtp_host);
        let addr = (m.smtp_host.as_str(), m.smtp_port);
        let mut conn = match m.tls {
            TlsMode::Tls => {
                let params = tls()?;
                SmtpConnection::connect(addr, Some(TIMEOUT), &hello, Some(&params), None)
            }
            _ => SmtpConnection::connect(addr, Some(TIMEOUT), &hello, None, None),
        }
        .map_err(|e| {
            tr!(
                "outbox.connect_failed",
                host = m.smtp_host,
                port = m.smtp_port,
                error = e
            )
        })?;
        if m.tls == TlsMode::Starttls {
            if !conn.can_starttls() {
                conn.abort();
                return Err(tr!("outbox.no_starttls", host = m.smtp_host));
            }
            let params = tls()?;
            conn.starttls(&params, &hello).map_err(|e| e.to_string())?;
        }
        if let Some(user) = user {
            let password = std::env::var("MESA_SMTP_PASSWORD").unwrap_or_default();
            conn.auth(
                &[Mechanism::Plain, Mechanism::Login],
                &Credentials::new(user, password),
            )
            .map_err(|e| tr!("outbox.auth_failed", error = e))?;
        }
        Ok(conn)
    }

    /// One message: (re)connect if needed, then the transaction.
    fn deliver(&mut self, entry: &Entry, raw: &[u8]) -> std::result::Result<String, Attempt> {
        if self.dirty {
            if let Some(conn) = self.conn.as_mut() {
                if conn.command(Rset).is_err() {
                    self.drop_conn();
                }
            }
        }
        if self.conn.is_none() {
            if let Some(error) = &self.unreachable {
                return Err(Attempt::Failed {
                    phase: "connect",
                    error: error.clone(),
                });
            }
            let conn = self.connect().map_err(|error| {
                self.unreachable = Some(error.clone());
                Attempt::Failed {
                    phase: "connect",
                    error,
                }
            })?;
            self.conn = Some(conn);
        }
        let conn = self.conn.as_mut().expect("connected above");
        match transaction(conn, entry, raw) {
            Ok(response) => {
                self.dirty = false;
                Ok(response)
            }
            Err((broken, attempt)) => {
                self.dirty = true;
                if broken {
                    self.drop_conn();
                }
                Err(attempt)
            }
        }
    }

    fn drop_conn(&mut self) {
        if let Some(mut c) = self.conn.take() {
            c.abort();
        }
        self.dirty = false;
    }

    fn quit(&mut self) {
        if let Some(mut c) = self.conn.take() {
            let _ = c.quit();
        }
    }
}

/// MAIL, RCPT, the `sending` marker, DATA, the message. On error: whether the connection is
/// unusable, and what happened.
fn transaction(
    conn: &mut SmtpConnection,
    entry: &Entry,
    raw: &[u8],
) -> std::result::Result<String, (bool, Attempt)> {
    let msg = &entry.message;
    // A reply code means the server is still talking; no code means the connection broke.
    let failed = |phase: &'static str, e: lettre::transport::smtp::Error| {
        (
            e.status().is_none(),
            Attempt::Failed {
                phase,
                error: e.to_string(),
            },
        )
    };
    let bad_address = |phase: &'static str, address: &str| {
        (
            false,
            Attempt::Failed {
                phase,
                error: tr!("outbox.bad_address", address = address),
            },
        )
    };
    let from: Address = msg
        .envelope_from
        .parse()
        .map_err(|_| bad_address("mail", &msg.envelope_from))?;
    let to: Address = msg
        .envelope_to
        .parse()
        .map_err(|_| bad_address("rcpt", &msg.envelope_to))?;
    let mut params = Vec::new();
    if !(msg.envelope_from.is_ascii() && msg.envelope_to.is_ascii()) {
        if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
            return Err((
                false,
                Attempt::Failed {
                    phase: "mail",
                    error: tr!("outbox.needs_smtputf8"),
                },
            ));
        }
        params.push(MailParameter::SmtpUtfEight);
    }
    if !raw.is_ascii() && conn.server_info().supports_feature(Extension::EightBitMime) {
        params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    // Until the server has answered DATA, nothing deliverable has left: plain failures.
    conn.command(Mail::new(Some(from), params))
        .map_err(|e| failed("mail", e))?;
    conn.command(Rcpt::new(to, vec![]))
        .map_err(|e| failed("rcpt", e))?;
    write_atomic(&entry.dir.join(SENDING_FILE), b"").map_err(|e| {
        (
            false,
            Attempt::Failed {
                phase: "data",
                error: e.to_string(),
            },
        )
    })?;
    conn.command(Data).map_err(|e| failed("data", e))?;
    match conn.message(raw) {
        Ok(response) => Ok(format!(
            "{} {}",
            response.code(),
            response.message().collect::<Vec<_>>().join(" ")
        )),
        // A reply code is the server's verdict: it did not take the message.
        Err(e) if e.status().is_some() => Err(failed("message", e)),
        Err(e) => Err((
            true,
            Attempt::Uncertain {
                error: tr!("outbox.uncertain", error = e),
            },
        )),
    }
}

/// TLS settings for `host`: the public roots, plus the certificate authority in the PEM file
/// named by `MESA_SMTP_CA_FILE` (a company's private CA, or a test server's certificate).
fn tls_parameters(host: &str) -> std::result::Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(host.to_string());
    if let Some(path) = std::env::var_os("MESA_SMTP_CA_FILE").filter(|p| !p.is_empty()) {
        let pem = std::fs::read(&path).map_err(|e| {
            tr!(
                "outbox.bad_ca",
                path = Path::new(&path).display(),
                error = e
            )
        })?;
        let cert = lettre::transport::smtp::client::Certificate::from_pem(&pem).map_err(|e| {
            tr!(
                "outbox.bad_ca",
                path = Path::new(&path).display(),
                error = e
            )
        })?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().map_err(|e| e.to_string())
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod queue_id_tests {
    use super::queue_id;

    #[test]
    fn queue_ids_from_published_reply_formats() {
        // Postfix (smtpd), Exim, and servers that name none (aiosmtpd, many relays).
        assert_eq!(
            queue_id("250 2.0.0 Ok: queued as 4BXZ3G0rTKz9sWd").as_deref(),
            Some("4BXZ3G0rTKz9sWd")
        );
        assert_eq!(
            queue_id("250 OK id=1tGq2x-0003Xs-2W").as_deref(),
            Some("1tGq2x-0003Xs-2W")
        );
        assert_eq!(queue_id("250 OK"), None);
    }
}
