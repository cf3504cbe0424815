//! One email as mesa needs it, read with `mail-parser` (MIME structure, transfer encodings,
//! charsets such as ISO-8859-1 and Windows-1252, RFC 2047 encoded words, HTML to text).

use chrono::{DateTime, TimeZone, Utc};
use mail_parser::{HeaderValue, MessageParser, MimeHeaders};

/// Largest message read at all; bigger ones are set aside (`rejected/`).
pub const MAX_MESSAGE_BYTES: usize = 50 * 1024 * 1024;
/// Longest text kept from a message body; the rest is cut with a note.
pub const MAX_TEXT_CHARS: usize = 64 * 1024;

/// Why a message must never be answered (and is not imported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoopKind {
    /// `Auto-Submitted` other than `no`, `X-Autoreply`, `X-Autorespond`.
    AutoReply,
    /// `Precedence: bulk | junk | list | auto_reply`.
    Bulk,
    /// A delivery-status report (bounce): `multipart/report`, `MAILER-DAEMON`, null sender.
    Bounce,
    /// Mail from one of the desk's own addresses.
    Own,
}

impl LoopKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LoopKind::AutoReply => "auto_reply",
            LoopKind::Bulk => "bulk",
            LoopKind::Bounce => "bounce",
            LoopKind::Own => "own_address",
        }
    }
}

/// A parsed email.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// `<...>`; made from a hash of the raw bytes when the message has none, so that the same
    /// message still gets the same id in every clone.
    pub message_id: String,
    pub had_message_id: bool,
    pub from_name: Option<String>,
    pub from_addr: Option<String>,
    pub subject: String,
    /// The Date header.
    pub date: Option<DateTime<Utc>>,
    /// When the desk's server received it: the newest `Received` header's date.
    pub arrival: Option<DateTime<Utc>>,
    /// Message-IDs it answers: `In-Reply-To` first, then `References` newest first.
    pub refs: Vec<String>,
    /// The text body (the HTML part converted when there is no text part), capped.
    pub text: String,
    pub truncated: bool,
    pub attachments: Vec<(String, Vec<u8>)>,
    pub loop_kind: Option<LoopKind>,
}

fn angle(id: &str) -> String {
    let id = id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    format!("<{id}>")
}

/// FNV-1a over `bytes` with a seed: a stable hash across machines and versions.
pub fn fnv(seed: u64, bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn to_utc(d: &mail_parser::DateTime) -> Option<DateTime<Utc>> {
    if !d.is_valid() {
        return None;
    }
    Utc.timestamp_opt(d.to_timestamp(), 0).single()
}

fn text_list(v: &HeaderValue) -> Vec<String> {
    match v {
        HeaderValue::Text(t) => t.split_whitespace().map(angle).collect(),
        HeaderValue::TextList(l) => l.iter().map(|t| angle(t)).collect(),
        _ => Vec::new(),
    }
}

/// Parses raw bytes. `Err(reason)` (a catalog key under `inbox.rejected.`) when the message
/// cannot be imported at all.
pub fn parse(raw: &[u8], own: &[String]) -> Result<Parsed, &'static str> {
    if raw.len() > MAX_MESSAGE_BYTES {
        return Err("too_big");
    }
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("empty");
    }
    let msg = MessageParser::default().parse(raw).ok_or("unreadable")?;
    if msg.headers().is_empty() {
        return Err("no_headers");
    }
    let (message_id, had_message_id) = match msg.message_id().filter(|m| !m.trim().is_empty()) {
        Some(m) => (angle(m), true),
        None => (
            format!(
                "<{:016x}{:016x}.sin-message-id@mesa.invalid>",
                fnv(1, raw),
                fnv(2, raw)
            ),
            false,
        ),
    };
    let from = msg.from().and_then(|a| a.first());
    let from_addr = from
        .and_then(|a| a.address())
        .map(|a| a.trim().to_string())
        .filter(|a| a.contains('@') && !a.contains(char::is_whitespace));
    let from_name = from
        .and_then(|a| a.name())
        .map(|n| n.trim().trim_matches('"').trim().to_string())
        .filter(|n| !n.is_empty());
    let subject = msg
        .subject()
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    let date = msg.date().and_then(to_utc);
    let arrival = msg
        .received()
        .and_then(|r| r.date.as_ref())
        .and_then(to_utc);
    let mut refs = text_list(msg.in_reply_to());
    let mut older = text_list(msg.references());
    older.reverse();
    for r in older {
        if !refs.contains(&r) {
            refs.push(r);
        }
    }
    let mut text = msg
        .body_text(0)
        .map(|t| t.replace("\r\n", "\n"))
        .unwrap_or_default();
    let mut truncated = false;
    if text.chars().count() > MAX_TEXT_CHARS {
        text = text.chars().take(MAX_TEXT_CHARS).collect();
        truncated = true;
    }
    let mut attachments = Vec::new();
    for (n, part) in msg.attachments().enumerate() {
        // A forwarded message's own body parts are kept as one .eml attachment.
        let bytes = match part.message() {
            Some(inner) => inner.raw_message().to_vec(),
            None => part.contents().to_vec(),
        };
        let name = part
            .attachment_name()
            .map(str::to_string)
            .unwrap_or_else(|| {
                let ext = if part.message().is_some() {
                    "eml"
                } else {
                    "bin"
                };
                format!("adjunto-{}.{ext}", n + 1)
            });
        attachments.push((name, bytes));
    }
    let header_text = |name: &str| -> Option<String> {
        msg.header_raw(name).map(|v| v.trim().to_ascii_lowercase())
    };
    let is_report = msg.root_part().content_type().is_some_and(|ct| {
        ct.c_type.eq_ignore_ascii_case("multipart")
            && ct
                .c_subtype
                .as_ref()
                .is_some_and(|s| s.eq_ignore_ascii_case("report"))
    });
    let from_lower = from_addr.clone().unwrap_or_default().to_ascii_lowercase();
    let return_path_null = msg
        .header_raw("Return-Path")
        .is_some_and(|v| v.trim() == "<>");
    let loop_kind = if from_addr
        .as_deref()
        .is_some_and(|a| own.iter().any(|o| o.eq_ignore_ascii_case(a)))
    {
        Some(LoopKind::Own)
    } else if is_report
        || from_lower.starts_with("mailer-daemon@")
        || from_lower.starts_with("postmaster@")
        || return_path_null
    {
        Some(LoopKind::Bounce)
    } else if header_text("Auto-Submitted").is_some_and(|v| !v.starts_with("no"))
        || msg.header_raw("X-Autoreply").is_some()
        || msg.header_raw("X-Autorespond").is_some()
    {
        Some(LoopKind::AutoReply)
    } else if header_text("Precedence")
        .is_some_and(|v| matches!(v.as_str(), "bulk" | "junk" | "list" | "auto_reply"))
    {
        Some(LoopKind::Bulk)
    } else {
        None
    };
    Ok(Parsed {
        message_id,
        had_message_id,
        from_name,
        from_addr,
        subject,
        date,
        arrival,
        refs,
        text,
        truncated,
        attachments,
        loop_kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_bit_headers_and_huge_bodies_are_read_as_well_as_can_be() {
        // A raw UTF-8 subject and sender name (no encoded words), as some mailers send.
        let mut raw = "From: Jos\u{e9} P\u{e9}rez <jp@cliente.example.co>\r\nSubject: Impresi\u{f3}n fallida\r\nMessage-ID: <8bit@x>\r\n\r\n"
            .as_bytes()
            .to_vec();
        raw.extend(std::iter::repeat_n(b'a', MAX_TEXT_CHARS + 5000));
        let p = parse(&raw, &[]).expect("imported");
        assert_eq!(p.subject, "Impresión fallida");
        assert_eq!(p.from_name.as_deref(), Some("José Pérez"));
        assert!(p.truncated);
        assert_eq!(p.text.chars().count(), MAX_TEXT_CHARS);
        assert!(p.loop_kind.is_none());
    }

    #[test]
    fn no_headers_and_own_mail() {
        assert_eq!(parse(b"   \r\n", &[]).unwrap_err(), "empty");
        let own = vec!["soporte@sgm.com.co".to_string()];
        let p = parse(
            b"From: Mesa <SOPORTE@sgm.com.co>\r\nSubject: x\r\n\r\nhola\r\n",
            &own,
        )
        .unwrap();
        assert_eq!(p.loop_kind, Some(LoopKind::Own));
        assert!(!p.had_message_id);
        let again = parse(
            b"From: Mesa <SOPORTE@sgm.com.co>\r\nSubject: x\r\n\r\nhola\r\n",
            &own,
        )
        .unwrap();
        assert_eq!(p.message_id, again.message_id, "the made-up id is stable");
    }
}
