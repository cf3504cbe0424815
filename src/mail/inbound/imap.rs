//! The desk's IMAP mailbox (desk.yaml `mail.inbound.imap`), for `mesa inbox fetch`: list the
//! messages not yet imported, read one, and mark one as imported (move it to a folder, or flag
//! it `\Seen` and `$MesaImported`). Marking is a separate call so that the caller marks a
//! message only once its commit exists: a lost connection or a crash in between leaves the
//! message unmarked, and the next run finds it again and skips it as a duplicate.

use crate::model::desk::{ImapSettings, TlsMode};
use crate::model::diag::{Error, Result};
use crate::tr;
use imap::{ClientBuilder, ConnectionMode, TlsKind};

/// The keyword that marks an imported message when imported messages are not moved.
pub const IMPORTED_KEYWORD: &str = "$MesaImported";

/// An open session on the desk's folder.
pub struct Mailbox {
    session: imap::Session<imap::Connection>,
    move_to: Option<String>,
}

fn imap_err(host: &str, e: impl std::fmt::Display) -> Error {
    Error::Message(tr!("inbox.imap_failed", host = host, error = e))
}

/// The password: from the environment variable or the first line of the command's output.
pub fn password(s: &ImapSettings) -> Result<String> {
    if let Some(var) = &s.password_env {
        return std::env::var(var)
            .map_err(|_| Error::Message(tr!("inbox.imap_no_password_env", var = var)));
    }
    if let Some(cmd) = &s.password_command {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .output()
            .map_err(|e| Error::Message(tr!("inbox.imap_password_command", error = e)))?;
        if !out.status.success() {
            return Err(Error::Message(tr!(
                "inbox.imap_password_command",
                error = out.status
            )));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        return Ok(text.lines().next().unwrap_or_default().to_string());
    }
    Err(Error::Message(tr!("inbox.imap_no_password")))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Mailbox {
    /// Connects, logs in and selects the folder. A password is never sent unencrypted to a
    /// host other than this machine.
    pub fn open(s: &ImapSettings, password: &str) -> Result<Mailbox> {
        if s.tls == TlsMode::None && !is_loopback(&s.host) {
            return Err(Error::Message(tr!("inbox.imap_plaintext", host = s.host)));
        }
        let mode = match s.tls {
            TlsMode::None => ConnectionMode::Plaintext,
            TlsMode::Starttls => ConnectionMode::StartTls,
            TlsMode::Tls => ConnectionMode::Tls,
        };
        let client = ClientBuilder::new(s.host.as_str(), s.port)
            .mode(mode)
            .tls_kind(TlsKind::Rust)
            .connect()
            .map_err(|e| imap_err(&s.host, e))?;
        let mut session = client
            .login(&s.user, password)
            .map_err(|(e, _)| imap_err(&s.host, e))?;
        session
            .select(&s.folder)
            .map_err(|e| imap_err(&s.host, e))?;
        if let Some(dest) = &s.move_to {
            // Already there is fine; a real failure shows when moving.
            let _ = session.create(dest);
        }
        Ok(Mailbox {
            session,
            move_to: s.move_to.clone(),
        })
    }

    /// UIDs of the messages still to import, oldest first.
    pub fn pending(&mut self, host: &str) -> Result<Vec<u32>> {
        let query = if self.move_to.is_some() {
            "ALL".to_string()
        } else {
            format!("UNKEYWORD {IMPORTED_KEYWORD}")
        };
        let mut uids: Vec<u32> = self
            .session
            .uid_search(query)
            .map_err(|e| imap_err(host, e))?
            .into_iter()
            .collect();
        uids.sort_unstable();
        Ok(uids)
    }

    /// The raw bytes of one message, without setting `\Seen`.
    pub fn read(&mut self, host: &str, uid: u32) -> Result<Option<Vec<u8>>> {
        let fetches = self
            .session
            .uid_fetch(uid.to_string(), "(UID BODY.PEEK[])")
            .map_err(|e| imap_err(host, e))?;
        let body = fetches.iter().find_map(|f| f.body().map(<[u8]>::to_vec));
        Ok(body)
    }

    /// Marks one message as imported: moved, or flagged.
    pub fn mark(&mut self, host: &str, uid: u32) -> Result<()> {
        match &self.move_to {
            Some(dest) => self
                .session
                .uid_mv(uid.to_string(), dest)
                .map_err(|e| imap_err(host, e)),
            None => self
                .session
                .uid_store(
                    uid.to_string(),
                    format!("+FLAGS (\\Seen {IMPORTED_KEYWORD})"),
                )
                .map(|_| ())
                .map_err(|e| imap_err(host, e)),
        }
    }

    pub fn close(mut self) {
        let _ = self.session.logout();
    }
}
