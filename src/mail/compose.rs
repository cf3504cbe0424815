//! Customer emails: every customer-facing step renders a Tera template from `theme/emails/`
//! in the desk's language into an RFC 5322 message, which is queued in the clone's `outbox/`
//! and delivered later by `mesa outbox send` (see [`crate::mail::outbox`]).
//!
//! The order a command follows is: [`compose`] the message, store its Message-ID in the event,
//! write and commit the ticket, then [`enqueue`]. The Message-ID is deterministic (case, kind,
//! event instant and a hash of the event), so composing the same event twice gives the same
//! message, enqueueing it twice is a no-op, and a message sent twice after an ambiguous SMTP
//! failure can be recognised as one by the recipient's mail program.
//!
//! Threading: every message of a case carries `In-Reply-To` the case's first message (usually
//! the acknowledgement) and `References` the case's earlier messages, which the ticket's events
//! record, so mail programs show the whole case as one conversation.

use crate::model::diag::{Diagnostic, Error, Result};
use crate::model::load::Desk;
use crate::model::ticket::{Event, EventKind, Stamp, Ticket};
use crate::tr;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, SinglePart};
use lettre::Address;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Which customer email a step sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MailKind {
    /// Reception: case number and promised time.
    Acknowledgement,
    /// Proposal or quote awaiting the customer's approval.
    Proposal,
    /// Solution notice: how to confirm or reject, and the follow-up/auto-close policy.
    Solution,
    /// Follow-up after the solution notice went unanswered.
    Reminder,
    /// Closed as approved after no answer.
    AutoClose,
    /// The customer rejected the solution: the case is open again.
    Reopen,
    /// A comment addressed to the customer.
    Comment,
    /// The estimated ANS was extended: the new promised time and the reason.
    Extension,
    /// The customer declined the proposal or quote: the case is closed.
    Declined,
    /// Closed by mutual agreement: what was agreed.
    MutualClose,
    /// The priority changed and with it the promised time (sent only when the time moves).
    PriorityChange,
    /// Internal: an escalated case handed over to an agent of the new level (to that agent).
    Handover,
    /// Internal: the supervisors' summary of a period (not a case's: see [`compose_summary`]).
    Report,
    /// A check owned by the customer's side failed and the case waits on the customer: who
    /// must act, on what, and that the clocks pause until they do (only on desks that pause).
    CustomerWait,
}

impl MailKind {
    pub const ALL: [MailKind; 14] = [
        MailKind::Acknowledgement,
        MailKind::Proposal,
        MailKind::Solution,
        MailKind::Reminder,
        MailKind::AutoClose,
        MailKind::Reopen,
        MailKind::Comment,
        MailKind::Extension,
        MailKind::Declined,
        MailKind::MutualClose,
        MailKind::PriorityChange,
        MailKind::Handover,
        MailKind::Report,
        MailKind::CustomerWait,
    ];

    /// The template's file stem and the word used in file names and Message-IDs.
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Acknowledgement => "acknowledgement",
            MailKind::Proposal => "proposal",
            MailKind::Solution => "solution",
            MailKind::Reminder => "reminder",
            MailKind::AutoClose => "auto_close",
            MailKind::Reopen => "reopen",
            MailKind::Comment => "comment",
            MailKind::Extension => "extension",
            MailKind::Declined => "declined",
            MailKind::MutualClose => "mutual_close",
            MailKind::PriorityChange => "priority_change",
            MailKind::Handover => "handover",
            MailKind::Report => "report",
            MailKind::CustomerWait => "customer_wait",
        }
    }

    /// The email a workflow event sends, if any (a `commented` event only when public, a
    /// `closed` event only when automatic).
    pub fn for_event(ev: &Event) -> Option<MailKind> {
        match ev.event {
            EventKind::Created => Some(MailKind::Acknowledgement),
            EventKind::Proposed => Some(MailKind::Proposal),
            EventKind::Resolved => Some(MailKind::Solution),
            EventKind::Reminded => Some(MailKind::Reminder),
            EventKind::Rejected => Some(MailKind::Reopen),
            EventKind::Closed
                if ev.close_reason == Some(crate::model::ticket::CloseReason::AutoConfirmed) =>
            {
                Some(MailKind::AutoClose)
            }
            EventKind::Closed
                if ev.close_reason == Some(crate::model::ticket::CloseReason::MutualAgreement) =>
            {
                Some(MailKind::MutualClose)
            }
            EventKind::Commented if ev.public == Some(true) => Some(MailKind::Comment),
            EventKind::Extended => Some(MailKind::Extension),
            EventKind::Declined => Some(MailKind::Declined),
            EventKind::Prioritized => Some(MailKind::PriorityChange),
            EventKind::Escalated if ev.agent.is_some() => Some(MailKind::Handover),
            EventKind::Paused => Some(MailKind::CustomerWait),
            _ => None,
        }
    }
}

impl std::fmt::Display for MailKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A composed message, ready to queue. `raw` is exactly what goes over SMTP; the other fields
/// are what `mesa outbox list` shows and what the envelope is built from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Outgoing {
    /// The Message-ID header value, angle brackets included: `<...@domain>`.
    pub message_id: String,
    /// Case number.
    pub ticket: String,
    pub kind: MailKind,
    /// The From and To header values as written (display name and address).
    pub from: String,
    pub to: String,
    /// Envelope sender and recipient (bare addresses).
    pub envelope_from: String,
    pub envelope_to: String,
    pub subject: String,
    /// The instant of the event that queued the message (the Date header).
    pub date: Stamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<String>,
    /// The rendered text body (for display; `raw` holds it encoded).
    pub body: String,
    #[serde(skip)]
    pub raw: Vec<u8>,
}

impl Outgoing {
    /// File-system name of the queued message: sorts by the event instant, then case and kind,
    /// and is derived from the Message-ID so the same message always gets the same name.
    pub fn stem(&self) -> String {
        let local = self
            .message_id
            .trim_start_matches('<')
            .split('@')
            .next()
            .unwrap_or_default();
        // local = CASE.KIND.STAMP.HASH -> STAMP-CASE-KIND-HASH
        let parts: Vec<&str> = local.split('.').collect();
        let name = if parts.len() == 4 {
            format!("{}-{}-{}-{}", parts[2], parts[0], parts[1], parts[3])
        } else {
            local.to_string()
        };
        name.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Templates

macro_rules! embedded {
    ($($lang:literal / $name:literal),* $(,)?) => {
        &[$(($lang, $name, include_str!(concat!("../../theme/emails/", $lang, "/", $name)))),*]
    };
}

/// The default templates: (language, file name, text). A desk overrides any of them by placing
/// its own file at `theme/emails/<lang>/<name>`.
const EMBEDDED: &[(&str, &str, &str)] = embedded![
    "es" / "footer.txt",
    "es" / "acknowledgement.txt",
    "es" / "acknowledgement.subject.txt",
    "es" / "proposal.txt",
    "es" / "proposal.subject.txt",
    "es" / "solution.txt",
    "es" / "solution.subject.txt",
    "es" / "reminder.txt",
    "es" / "reminder.subject.txt",
    "es" / "auto_close.txt",
    "es" / "auto_close.subject.txt",
    "es" / "reopen.txt",
    "es" / "reopen.subject.txt",
    "es" / "comment.txt",
    "es" / "comment.subject.txt",
    "es" / "extension.txt",
    "es" / "extension.subject.txt",
    "es" / "declined.txt",
    "es" / "declined.subject.txt",
    "es" / "mutual_close.txt",
    "es" / "mutual_close.subject.txt",
    "es" / "priority_change.txt",
    "es" / "priority_change.subject.txt",
    "es" / "handover.txt",
    "es" / "handover.subject.txt",
    "es" / "report.txt",
    "es" / "report.subject.txt",
    "es" / "customer_wait.txt",
    "es" / "customer_wait.subject.txt",
    "en" / "footer.txt",
    "en" / "acknowledgement.txt",
    "en" / "acknowledgement.subject.txt",
    "en" / "proposal.txt",
    "en" / "proposal.subject.txt",
    "en" / "solution.txt",
    "en" / "solution.subject.txt",
    "en" / "reminder.txt",
    "en" / "reminder.subject.txt",
    "en" / "auto_close.txt",
    "en" / "auto_close.subject.txt",
    "en" / "reopen.txt",
    "en" / "reopen.subject.txt",
    "en" / "comment.txt",
    "en" / "comment.subject.txt",
    "en" / "extension.txt",
    "en" / "extension.subject.txt",
    "en" / "declined.txt",
    "en" / "declined.subject.txt",
    "en" / "mutual_close.txt",
    "en" / "mutual_close.subject.txt",
    "en" / "priority_change.txt",
    "en" / "priority_change.subject.txt",
    "en" / "handover.txt",
    "en" / "handover.subject.txt",
    "en" / "report.txt",
    "en" / "report.subject.txt",
    "en" / "customer_wait.txt",
    "en" / "customer_wait.subject.txt",
];

/// The language emails are written in: the desk's, when mesa ships templates for it.
pub fn mail_language(desk: &Desk) -> &'static str {
    match desk.config.language.as_str() {
        "en" => "en",
        _ => "es",
    }
}

/// The templates and answer words of the desk in `lang`, parsed once per process (and again
/// when one of the desk's own template or catalog files changes).
fn compiled(desk: &Desk, lang: &str) -> Result<std::sync::Arc<crate::mail::templates::Compiled>> {
    let root = &desk.root;
    let mut files: Vec<PathBuf> = EMBEDDED
        .iter()
        .filter(|(l, _, _)| *l == lang)
        .map(|(l, name, _)| root.join("theme/emails").join(l).join(name))
        .collect();
    files.push(root.join("theme/i18n").join(format!("{lang}.yaml")));
    crate::mail::templates::compiled(root, lang, &files, || {
        // The first-line words `mesa inbox` recognises as answers, in the emails' language.
        let cat = crate::model::i18n::Catalog::load(lang, Some(root));
        let answers = crate::rules::workflow::Answer::ALL
            .iter()
            .map(|a| {
                let key = format!("inbox.answer.{}", a.as_str());
                (a.as_str().to_string(), serde_json::json!(cat.get(&key)))
            })
            .collect();
        Ok(crate::mail::templates::Compiled {
            tera: engine(root, lang)?,
            answers,
        })
    })
}

/// The Tera engine with the language's templates, the desk's own files taking precedence.
fn engine(desk_root: &Path, lang: &str) -> Result<tera::Tera> {
    let mut tera = tera::Tera::default();
    let mut sources: Vec<(String, String)> = Vec::new();
    let mut paths: Vec<(String, PathBuf)> = Vec::new();
    for (l, name, text) in EMBEDDED.iter().filter(|(l, _, _)| *l == lang) {
        let own = desk_root.join("theme/emails").join(l).join(name);
        if std::fs::symlink_metadata(&own).is_ok() {
            let text = crate::model::front_matter::read_text(&own)?;
            sources.push((name.to_string(), text));
            paths.push((name.to_string(), own));
        } else {
            sources.push((name.to_string(), text.to_string()));
        }
    }
    tera.add_raw_templates(sources).map_err(|e| {
        // Name the desk's file when the broken template is one of them.
        let chain = tera_chain(&e);
        let path = paths
            .iter()
            .find(|(n, _)| chain.contains(n.as_str()))
            .map(|(_, p)| p.clone())
            .unwrap_or_else(|| desk_root.join("theme/emails").join(lang));
        Error::from(Diagnostic::new(
            &crate::model::load::rel(desk_root, &path),
            0,
            0,
            tr!("mail.template_error", error = chain),
        ))
    })?;
    tera.autoescape_on(vec![]);
    Ok(tera)
}

/// A Tera error with its causes, which hold the useful part (line, column, what is wrong).
fn tera_chain(e: &tera::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

// ---------------------------------------------------------------------------------------
// Composing

/// Renders the email a step sends to the requester. `event` is the step's event (it need not
/// be in `ticket`'s log yet). `Ok(None)` when the requester has no email address.
pub fn compose(
    desk: &Desk,
    ticket: &Ticket,
    kind: MailKind,
    event: &Event,
) -> Result<Option<Outgoing>> {
    let view = as_of(desk, ticket, event);
    if kind == MailKind::PriorityChange && !promise_moved(desk, &view, event) {
        return Ok(None);
    }
    let ticket = &view;
    let front = &ticket.front;
    // Customer emails go to the requester; the internal hand-over to the agent taking the case.
    let handed_to = (kind == MailKind::Handover)
        .then(|| event.agent.as_deref().and_then(|a| desk.config.agent(a)))
        .flatten();
    let recipient = match handed_to {
        Some(agent) => Some(agent.email.as_str()),
        None if kind == MailKind::Handover => None,
        None => front.requester.email.as_deref(),
    };
    let Some(email) = recipient.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let to_addr: Address = email.parse().map_err(|_| {
        Error::from(Diagnostic::new(
            &ticket.path,
            0,
            0,
            tr!("mail.bad_requester_email", email = email),
        ))
    })?;
    let from: Mailbox = desk.config.mail.from.parse().map_err(|_| {
        Error::from(Diagnostic::new(
            Path::new(crate::model::load::DESK_FILE),
            0,
            0,
            tr!("mail.bad_from", from = desk.config.mail.from),
        ))
    })?;
    // A stored value that cannot go into a header refuses this one message (the caller reports
    // the ticket and goes on with the others); it never reaches lettre, which panics on it.
    let refuse = |key: &str, why: String| {
        Error::from(Diagnostic::new(
            &ticket.path,
            0,
            0,
            tr!("guard.mail_refused", id = front.id, field = key, why = why),
        ))
    };
    if let Some(p) = crate::model::input::header_text_problem(&front.requester.name) {
        return Err(refuse("requester.name", p));
    }
    if let Some(p) = crate::model::input::instant_problem(event.at.utc()) {
        return Err(refuse("events.at", p));
    }
    let to_name = handed_to.map_or(front.requester.name.clone(), |a| a.name.clone());
    if let Some(p) = crate::model::input::header_text_problem(&to_name) {
        return Err(refuse("requester.name", p));
    }
    let to = Mailbox::new(Some(to_name), to_addr.clone());

    let lang = mail_language(desk);
    let compiled = compiled(desk, lang)?;
    let tera = &compiled.tera;
    let ctx = context(desk, ticket, event, lang, &compiled.answers);
    let render = |name: &str| -> Result<String> {
        tera.render(name, &ctx).map_err(|e| {
            Error::from(Diagnostic::new(
                &Path::new("theme/emails").join(lang).join(name),
                0,
                0,
                tr!("mail.template_error", error = tera_chain(&e)),
            ))
        })
    };
    let subject = render(&format!("{kind}.subject.txt"))?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let body = normalise_body(&render(&format!("{kind}.txt"))?);
    if let Some(p) = crate::model::input::header_text_problem(&subject) {
        return Err(refuse("title", p));
    }

    let message_id = message_id(&front.id, kind, event, from.email.domain());
    // Earlier messages of the case, in log order.
    let earlier: Vec<String> = front
        .events
        .iter()
        .take_while(|e| !same_event(e, event))
        .filter(|e| e.event != EventKind::Mailed)
        .filter_map(|e| e.message_id.clone())
        .filter(|m| *m != message_id)
        .collect();
    let in_reply_to = earlier.first().cloned();
    // RFC 5322 §3.6.4: keep the first and the most recent ids when the list grows long.
    let references: Vec<String> = if earlier.len() > 10 {
        std::iter::once(earlier[0].clone())
            .chain(earlier[earlier.len() - 9..].iter().cloned())
            .collect()
    } else {
        earlier
    };

    let mut builder = lettre::Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(subject.clone())
        .message_id(Some(message_id.clone()))
        .date(std::time::SystemTime::from(event.at.utc()));
    if let Some(r) = &in_reply_to {
        builder = builder.in_reply_to(r.clone());
    }
    if !references.is_empty() {
        builder = builder.references(references.join(" "));
    }
    let part = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .header(ContentTransferEncoding::QuotedPrintable)
        .body(body.clone());
    let message = builder
        .singlepart(part)
        .map_err(|e| Error::msg(tr!("mail.build_failed", id = front.id, error = e)))?;
    Ok(Some(Outgoing {
        message_id,
        ticket: front.id.clone(),
        kind,
        from: from.to_string(),
        to: to.to_string(),
        envelope_from: from.email.to_string(),
        envelope_to: to_addr.to_string(),
        subject,
        date: event.at,
        in_reply_to,
        references,
        body,
        raw: message.formatted(),
    }))
}

/// The supervisors' summary to `to`: `report.txt` / `report.subject.txt` of the desk's language
/// rendered with `ctx` (the figures come from the caller, `crate::output::summary`, which
/// computes them as `mesa report` does). `period` names the summary (`report-2026-10-19`, no
/// dots) and, with the recipient and `date`, makes its Message-ID, so the summary of one period
/// to one address is always the same message and queueing it again does nothing.
pub fn compose_summary(
    desk: &Desk,
    to: &str,
    period: &str,
    date: Stamp,
    ctx: &tera::Context,
) -> Result<Outgoing> {
    let desk_file = Path::new(crate::model::load::DESK_FILE);
    let bad = |why: String| Error::from(Diagnostic::new(desk_file, 0, 0, why));
    let from: Mailbox = desk
        .config
        .mail
        .from
        .parse()
        .map_err(|_| bad(tr!("mail.bad_from", from = desk.config.mail.from)))?;
    let to: Mailbox = to
        .trim()
        .parse()
        .map_err(|_| bad(tr!("mail.bad_summary_to", to = to)))?;
    let lang = mail_language(desk);
    let tera = engine(&desk.root, lang)?;
    let mut ctx = ctx.clone();
    ctx.insert("lang", lang);
    let render = |name: &str| -> Result<String> {
        tera.render(name, &ctx).map_err(|e| {
            Error::from(Diagnostic::new(
                &Path::new("theme/emails").join(lang).join(name),
                0,
                0,
                tr!("mail.template_error", error = tera_chain(&e)),
            ))
        })
    };
    let subject = render("report.subject.txt")?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if let Some(p) = crate::model::input::header_text_problem(&subject) {
        return Err(bad(p));
    }
    let body = normalise_body(&render("report.txt")?);
    let mut ev = Event::new(date, "mesa", EventKind::Mailed);
    ev.text = Some(to.email.to_string());
    let message_id = message_id(period, MailKind::Report, &ev, from.email.domain());
    let part = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .header(ContentTransferEncoding::QuotedPrintable)
        .body(body.clone());
    let message = lettre::Message::builder()
        .from(from.clone())
        .to(to.clone())
        .subject(subject.clone())
        .message_id(Some(message_id.clone()))
        .date(std::time::SystemTime::from(date.utc()))
        .singlepart(part)
        .map_err(|e| Error::msg(tr!("mail.build_failed", id = period, error = e)))?;
    Ok(Outgoing {
        message_id,
        ticket: period.to_string(),
        kind: MailKind::Report,
        from: from.to_string(),
        to: to.to_string(),
        envelope_from: from.email.to_string(),
        envelope_to: to.email.to_string(),
        subject,
        date,
        in_reply_to: None,
        references: Vec::new(),
        body,
        raw: message.formatted(),
    })
}

/// The ticket as it stood at `event`'s instant: the log up to it and the events recorded at
/// the same instant (one command's step, e.g. `created` and `classified` of `mesa new`), with
/// it appended when the command has not done so yet, and the derived fields replayed from that
/// log. A message says what was true at its step, and composing an old step again gives the
/// same message.
fn as_of(desk: &Desk, ticket: &Ticket, event: &Event) -> Ticket {
    let mut t = ticket.clone();
    match t.front.events.iter().position(|e| same_event(e, event)) {
        Some(pos) => {
            let end = t.front.events[pos..]
                .iter()
                .position(|e| e.at != event.at)
                .map_or(t.front.events.len(), |n| pos + n);
            t.front.events.truncate(end);
        }
        None => t.front.events.push(event.clone()),
    }
    let customer = desk.config.customer(&t.front.customer);
    let (state, _) = crate::rules::workflow::replay(desk.rules(), customer, &t.front.events);
    state.write_into(&mut t.front);
    t
}

/// Whether a priority change moved the promised time: the promise of the log up to `event`
/// against the promise of the log before it.
fn promise_moved(desk: &Desk, view: &Ticket, event: &Event) -> bool {
    let mut before = view.front.clone();
    if let Some(pos) = before.events.iter().rposition(|e| same_event(e, event)) {
        before.events.truncate(pos);
    }
    crate::rules::sla::promised_due(desk, &before)
        != crate::rules::sla::promised_due(desk, &view.front)
}

/// Whether `a` is the event `b` (whether or not its Message-ID is recorded yet).
fn same_event(a: &Event, b: &Event) -> bool {
    let mut a = a.clone();
    a.message_id.clone_from(&b.message_id);
    a == *b
}

/// Trims trailing spaces and runs of blank lines that template conditionals leave behind.
fn normalise_body(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    let trimmed = out.trim_matches('\n');
    format!("{trimmed}\n")
}

/// `<CASE.KIND.STAMP.HASH@domain>`: the same event always gives the same id; different events
/// (even of one kind at one instant) give different ones.
fn message_id(case: &str, kind: MailKind, event: &Event, domain: &str) -> String {
    let mut ev = event.clone();
    ev.message_id = None;
    let json = serde_json::to_string(&ev).unwrap_or_default();
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in case
        .bytes()
        .chain(kind.as_str().bytes())
        .chain(json.bytes())
    {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let alphabet = crate::model::ids::ALPHABET;
    let hash: String = (0..8)
        .map(|i| alphabet[((h >> (i * 5)) & 31) as usize] as char)
        .collect();
    let stamp = event.at.utc().format("%Y%m%dT%H%M%SZ");
    format!("<{case}.{}.{stamp}.{hash}@{domain}>", kind.as_str())
}

/// Everything the templates can use; see `theme/emails/es/*.txt`.
fn context(
    desk: &Desk,
    ticket: &Ticket,
    event: &Event,
    lang: &str,
    answers: &serde_json::Map<String, serde_json::Value>,
) -> tera::Context {
    let config = &desk.config;
    let front = &ticket.front;
    let customer = config.customer(&front.customer);
    let priority = front.priority.as_deref().and_then(|p| config.priority(p));
    let request = front.request.as_deref().and_then(|r| desk.kb.request(r));
    let mut ctx = tera::Context::new();
    ctx.insert(
        "case",
        &serde_json::json!({
            "id": front.id,
            "title": front.title,
            "customer": customer.map_or(front.customer.as_str(), |c| c.name.as_str()),
            "customer_id": front.customer,
            "requester": front.requester.name,
            "requester_email": front.requester.email,
            "type": front.ticket_type.map(|t| match t {
                crate::model::ticket::TicketType::Incident => "incident",
                crate::model::ticket::TicketType::Problem => "problem",
                crate::model::ticket::TicketType::Request => "request",
            }),
            "priority": priority.map(|p| p.name.as_str()),
            "priority_id": front.priority,
            "planned": priority.is_some_and(|p| p.planned),
            "request": request.map(|r| r.front.title.as_str()),
            "level": front.level,
            "status": front.status.as_str(),
        }),
    );
    // The first contact level of Table 1, in the order the desk lists its channels.
    let contacts: Vec<serde_json::Value> = config
        .contact_levels
        .iter()
        .min_by_key(|l| l.level)
        .map(|l| {
            config
                .channels
                .iter()
                .filter_map(|ch| {
                    let values = l.contacts.get(&ch.id).filter(|v| !v.is_empty())?;
                    Some(serde_json::json!({ "channel": ch.name, "values": values }))
                })
                .collect()
        })
        .unwrap_or_default();
    let from_name = config
        .mail
        .from
        .parse::<Mailbox>()
        .ok()
        .and_then(|m| m.name)
        .unwrap_or_else(|| config.organisation.name.clone());
    ctx.insert(
        "desk",
        &serde_json::json!({
            "name": from_name,
            "organisation": config.organisation.name,
            "full_name": config.organisation.full_name,
            "website": config.organisation.website,
            "contacts": contacts,
        }),
    );
    let kb = event.kb.as_deref().map(|id| {
        let article = desk.kb.article(id);
        serde_json::json!({
            "id": id,
            "title": article.map_or(id, |a| a.front.title.as_str()),
            "summary": article.map(|a| a.front.summary.as_str()),
        })
    });
    ctx.insert(
        "event",
        &serde_json::json!({
            "kind": event.event.as_str(),
            "at": event.at.to_string(),
            "by": event.by,
            "by_name": config.agent(&event.by).map(|a| a.name.as_str()),
            "text": event.text.as_deref().map(str::trim),
            "reason": event.reason,
            "amount": event.amount,
            "amount_text": event.amount.map(|a| format_amount(a, lang)),
            "currency": event.currency,
            "kb": kb,
            "owner_name": event.owner.as_deref().map(|o| config
                .playbook
                .owners
                .iter()
                .find(|x| x.id == o)
                .map_or(o, |x| x.name.as_str())),
            "check_action": event.check.as_deref().map(|c| desk
                .kb
                .playbook
                .iter()
                .flat_map(|p| p.front.incidents.iter())
                .flat_map(|i| i.checks.iter())
                .find(|k| k.id == c)
                .map_or(c, |k| k.action.trim())),
        }),
    );
    // The solution a reminder or auto-close notice refers to: the latest `resolved` event.
    let solution = front
        .events
        .iter()
        .rev()
        .find(|e| e.event == EventKind::Resolved)
        .and_then(|e| e.text.as_deref())
        .map(str::trim);
    ctx.insert("solution", &solution);
    ctx.insert(
        "policy",
        &serde_json::json!({
            "follow_up": human_duration(config.sla.follow_up_after),
            "auto_close": human_duration(config.sla.auto_close_after),
            "grace": human_duration(config.sla.grace()),
            "working": config.sla.confirmation_hours == crate::model::desk::ConfirmationHours::Working,
        }),
    );
    // The resolution clock's due instant as of the event (an extension's new promise).
    let resolution_due = crate::rules::sla::clocks(desk, front, event.at.utc())
        .into_iter()
        .find(|c| c.clock == crate::model::ticket::Clock::Resolution)
        .and_then(|c| c.due)
        .map(|d| crate::rules::sla::human_datetime(&d, lang));
    ctx.insert("resolution_due", &resolution_due);
    ctx.insert("extended_target", &event.target.map(human_duration));
    let (promised, target) = promised(desk, ticket, lang);
    ctx.insert("promised", &promised);
    ctx.insert("promised_target", &target);
    ctx.insert("lang", lang);
    ctx.insert("answers", answers);
    ctx
}

/// The promised due instant in words (the SLA module's computation), and the target as a
/// duration (for when no instant can be computed). `ticket` is already as of the event.
fn promised(desk: &Desk, ticket: &Ticket, lang: &str) -> (Option<String>, Option<String>) {
    let front = &ticket.front;
    let due = crate::rules::sla::promised_due(desk, front)
        .map(|d| crate::rules::sla::human_datetime(&d, lang));
    let target = front
        .sla
        .resolution
        .filter(|_| front.request.is_some())
        .or(front.sla.response)
        .map(human_duration);
    (due, target)
}

/// `24 h`, `30 min`, `1 h 30 min`, `3 d`: durations as a customer reads them.
pub fn human_duration(d: crate::model::duration::Dur) -> String {
    let m = d.minutes;
    let (h, min) = (m / 60, m % 60);
    match (h, min) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// `1.250.000,50` (es) or `1,250,000.50` (en); no decimals for whole amounts.
pub fn format_amount(amount: f64, lang: &str) -> String {
    let (thousands, decimal) = if lang == "en" { (',', '.') } else { ('.', ',') };
    let cents = (amount * 100.0).round() as i64;
    let whole = (cents / 100).abs();
    let frac = (cents % 100).abs();
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(thousands);
        }
        grouped.push(c);
    }
    let sign = if cents < 0 { "-" } else { "" };
    if frac == 0 {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}{decimal}{frac:02}")
    }
}

// ---------------------------------------------------------------------------------------
// Queueing

/// The clone's outbox: local to each clone and git-ignored, so one clone never sends
/// another's mail.
pub fn outbox_dir(desk_root: &Path) -> PathBuf {
    desk_root.join("outbox")
}

/// Name of the message file inside a queued message's folder.
pub const MESSAGE_FILE: &str = "message.eml";
/// Name of the metadata file inside a queued message's folder.
pub const META_FILE: &str = "meta.json";

/// Queues a message: `outbox/<stem>/` with `message.eml` (the bytes to send) and `meta.json`,
/// written in a temporary folder and renamed into place, so a message is either fully queued
/// or not at all. Queueing a message that is already queued or sent does nothing.
pub fn enqueue(desk_root: &Path, out: &Outgoing) -> Result<()> {
    let outbox = outbox_dir(desk_root);
    let stem = out.stem();
    let dest = outbox.join(&stem);
    if dest.exists() || outbox.join("sent").join(&stem).exists() {
        return Ok(());
    }
    std::fs::create_dir_all(&outbox)
        .map_err(|e| Error::msg(tr!("mail.outbox_write", path = outbox.display(), error = e)))?;
    let tmp = tempfile::Builder::new()
        .prefix(".queue-")
        .tempdir_in(&outbox)
        .map_err(|e| Error::msg(tr!("mail.outbox_write", path = outbox.display(), error = e)))?;
    let write = |name: &str, bytes: &[u8]| -> Result<()> {
        let path = tmp.path().join(name);
        std::fs::write(&path, bytes)
            .and_then(|_| crate::mail::durable::sync(&path, &outbox))
            .map_err(|e| Error::msg(tr!("mail.outbox_write", path = path.display(), error = e)))
    };
    write(MESSAGE_FILE, &out.raw)?;
    let meta = serde_json::to_vec_pretty(out).map_err(|e| Error::msg(e.to_string()))?;
    write(META_FILE, &meta)?;
    let tmp_path = tmp.keep();
    if let Err(e) = std::fs::rename(&tmp_path, &dest) {
        let _ = std::fs::remove_dir_all(&tmp_path);
        if dest.exists() {
            // Another process queued the same message meanwhile.
            return Ok(());
        }
        return Err(Error::msg(tr!(
            "mail.outbox_write",
            path = dest.display(),
            error = e
        )));
    }
    // Best effort for the folder: not every platform can open one.
    let _ = crate::mail::durable::sync(&outbox, &outbox);
    Ok(())
}

/// Makes a rename durable (best effort: not every platform can open a folder).
pub(crate) fn sync_dir(dir: &Path) {
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = f.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_and_durations() {
        assert_eq!(format_amount(1_250_000.0, "es"), "1.250.000");
        assert_eq!(format_amount(1_250_000.5, "en"), "1,250,000.50");
        assert_eq!(format_amount(999.99, "es"), "999,99");
        assert_eq!(
            human_duration(crate::model::duration::Dur::hours(24)),
            "24 h"
        );
        assert_eq!(
            human_duration(crate::model::duration::Dur::minutes(90)),
            "1 h 30 min"
        );
    }

    #[test]
    fn compose_sample_acknowledgement() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let desk = Desk::open(root).expect("sample desk opens");
        let path = root.join("tickets/2026/11/261102-C4K7P.md");
        let text = std::fs::read_to_string(&path).unwrap();
        let ticket = crate::model::ticket::parse(&path, &text).unwrap();
        let ev = ticket.front.events[0].clone();
        let out = compose(&desk, &ticket, MailKind::Acknowledgement, &ev)
            .unwrap()
            .unwrap();
        let raw = String::from_utf8(out.raw.clone()).unwrap();
        eprintln!("{raw}\n---\n{}", out.body);
        assert!(out.message_id.starts_with("<261102-C4K7P.acknowledgement."));
        assert!(out.message_id.ends_with("@sgm.com.co>"));
        assert!(out.subject.starts_with("[Caso 261102-C4K7P] "));
        assert!(out.body.contains("261102-C4K7P"));
        assert!(raw.is_ascii());
        let again = compose(&desk, &ticket, MailKind::Acknowledgement, &ev)
            .unwrap()
            .unwrap();
        assert_eq!(again.raw, out.raw, "composing is deterministic");
    }
}
