//! Customer email coming in (`mesa inbox import|fetch`): each message becomes a reply on its
//! case, an answer the workflow expects, a reopened case, or a new case, with one commit each.
//! Library code only: it never prints; the CLI face is `src/cli/inbox.rs`, which calls it.
//!
//! The order for one message: parse ([`parse`]); set aside what must never be answered (auto
//! replies, bounces, the desk's own mail) or cannot be read, in the clone's `rejected/` folder
//! with the reason; skip a Message-ID the desk already holds (any event's `received_id`, which
//! travels with the ticket through merges); find its case from `In-Reply-To` / `References`
//! (a Message-ID mesa recorded, or one of the customer's earlier messages) or `[Caso ID]` in
//! the subject; then build the events and let the workflow accept them, as the CLI's steps do
//! ([`crate::steps::stage`]), write the ticket and its attachments and commit them.
//!
//! Everything recorded is derived from the message alone (its arrival time, its Message-ID),
//! so two clones importing the same mailbox write the same events, and even the same new case
//! number: when they merge, git and the ticket merge driver see one message, not two.

use crate::mail::inbound::parse::{self, fnv, Parsed};
use crate::mail::inbound::text;
use crate::model::diag::{Error, Result};
use crate::model::load::Desk;
use crate::model::ticket::{
    Attachment, Event, EventKind, Requester, Stamp, Status, Ticket, TicketFront,
};
use crate::rules::workflow::{self, Answer, CUSTOMER, MESA};
use crate::steps as commands;
use crate::tr;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use text::AnswerWords;

/// The channel id tickets opened from email get (desk.yaml `channels`).
pub const EMAIL_CHANNEL: &str = "email";
/// The clone's folder of messages set aside, git-ignored like `outbox/`.
pub const REJECTED_DIR: &str = "rejected";

/// What happened to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Appended to its case as a customer message.
    Reply,
    /// Appended, and the answer it gives applied as the customer's step.
    Answer,
    /// Appended to a closed case, which reopened.
    Reopened,
    /// A new case.
    New,
    /// A reply to a closed case that may not reopen: a new case linked to it.
    NewLinked,
    /// Its Message-ID is already in the desk.
    Duplicate,
    /// An auto-reply, bounce or the desk's own mail: set aside, never answered.
    Loop,
    /// Unreadable: set aside with the reason.
    Rejected,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Reply => "reply",
            Action::Answer => "answer",
            Action::Reopened => "reopened",
            Action::New => "new",
            Action::NewLinked => "new_linked",
            Action::Duplicate => "duplicate",
            Action::Loop => "loop",
            Action::Rejected => "rejected",
        }
    }
    /// Whether the message changed the desk (and so has a commit).
    pub fn writes(self) -> bool {
        matches!(
            self,
            Action::Reply | Action::Answer | Action::Reopened | Action::New | Action::NewLinked
        )
    }
}

/// One message's outcome, as `mesa inbox` lists it (JSON output serialises this).
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub source: String,
    pub message_id: Option<String>,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// The earlier case a new case follows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<&'static str>,
    /// The customer id a new case was given; `null` for an unknown sender (triage).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    pub triage: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    pub subject: String,
    /// Why a message was skipped or set aside, for people.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// Emails queued by the step (the acknowledgement of a new case...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub queued: Vec<String>,
    pub attachments_kept: usize,
    pub attachments_left_out: usize,
    /// Where the message was set aside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set_aside: Option<PathBuf>,
}

impl Outcome {
    fn new(source: &str, action: Action) -> Outcome {
        Outcome {
            source: source.to_string(),
            message_id: None,
            action,
            ticket: None,
            related: None,
            answer: None,
            customer: None,
            triage: false,
            from: None,
            subject: String::new(),
            reason: None,
            commit: None,
            queued: Vec::new(),
            attachments_kept: 0,
            attachments_left_out: 0,
            set_aside: None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sources

/// One message read from a source, with a label naming where it came from.
pub struct Item {
    pub label: String,
    pub raw: Vec<u8>,
}

/// Reads every message of the sources: a Maildir folder (`cur/` and `new/`, oldest first by
/// file name, as maildir names start with the delivery time), a folder of `.eml` files, an
/// mbox file (starts with `From `) or one `.eml` file. Every unreadable source is reported
/// together.
pub fn read_sources(paths: &[PathBuf]) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    for p in paths {
        match read_source(p, &mut items) {
            Ok(()) => {}
            Err(e) => problems.push(tr!("inbox.bad_source", path = p.display(), error = e)),
        }
    }
    if problems.is_empty() {
        Ok(items)
    } else {
        Err(Error::Usage(problems.join("\n")))
    }
}

fn read_source(p: &Path, items: &mut Vec<Item>) -> std::io::Result<()> {
    let meta = std::fs::metadata(p)?;
    if meta.is_dir() {
        let sub: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .map(|s| p.join(s))
            .filter(|d| d.is_dir())
            .collect();
        let dirs = if sub.is_empty() {
            vec![p.to_path_buf()]
        } else {
            sub
        };
        let mut files: Vec<(String, PathBuf)> = Vec::new();
        for d in dirs {
            for e in std::fs::read_dir(&d)? {
                let e = e?;
                let name = e.file_name().to_string_lossy().to_string();
                if name.starts_with('.') || !e.file_type()?.is_file() {
                    continue;
                }
                files.push((name, e.path()));
            }
        }
        files.sort();
        for (_, f) in files {
            items.push(Item {
                label: f.display().to_string(),
                raw: std::fs::read(&f)?,
            });
        }
        return Ok(());
    }
    let raw = std::fs::read(p)?;
    if raw.starts_with(b"From ") {
        let reader = std::io::BufReader::new(raw.as_slice());
        for (n, m) in mail_parser::mailbox::mbox::MessageIterator::new(reader).enumerate() {
            items.push(Item {
                label: format!("{}#{}", p.display(), n + 1),
                raw: m?.unwrap_contents(),
            });
        }
    } else {
        items.push(Item {
            label: p.display().to_string(),
            raw,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// What the desk already holds

/// Message-IDs of customer emails already in the desk (the case holding each) and the bytes
/// of attachments kept, from one scan of the ticket files.
#[derive(Debug, Default)]
pub struct Index {
    pub received: HashMap<String, String>,
    pub attachment_bytes: u64,
}

/// Scans every ticket file for `received_id:` lines (a text scan, not a parse: it runs on
/// every import) and sums the attachment folders.
pub fn scan(root: &Path) -> Index {
    use rayon::prelude::*;
    let mut files = Vec::new();
    let mut bytes = 0u64;
    for e in walkdir::WalkDir::new(root.join("tickets"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
    {
        let in_files = e.path().parent().is_some_and(|d| {
            d.file_name().is_some_and(|n| {
                n.to_string_lossy()
                    .ends_with(crate::model::load::ATTACHMENT_DIR_SUFFIX)
            })
        });
        if in_files {
            bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
        } else if e.path().extension().is_some_and(|x| x == "md") {
            files.push(e.into_path());
        }
    }
    let found: Vec<(String, String)> = files
        .par_iter()
        .flat_map_iter(|p| {
            let id = p
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            let text = std::fs::read_to_string(p).unwrap_or_default();
            let mut out = Vec::new();
            if text.contains("received_id:") {
                for line in text.lines() {
                    if let Some(v) = line.trim_start().strip_prefix("received_id:") {
                        out.push((yaml_scalar(v), id.clone()));
                    }
                }
            }
            out
        })
        .collect();
    Index {
        received: found.into_iter().collect(),
        attachment_bytes: bytes,
    }
}

/// A one-line YAML scalar as mesa writes it: plain, 'single' or "double" quoted.
fn yaml_scalar(v: &str) -> String {
    let v = v.trim();
    if let Some(s) = v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return s.replace("''", "'");
    }
    if v.starts_with('"') {
        if let Ok(s) = serde_yaml::from_str::<String>(v) {
            return s;
        }
    }
    v.to_string()
}

// ---------------------------------------------------------------------------------------------
// Importing

/// Imports messages into one desk. Keeps the index up to date as it commits, so a message
/// repeated within one run is also imported once.
pub struct Importer<'a> {
    desk: &'a Desk,
    index: Index,
    words: AnswerWords,
    own: Vec<String>,
    own_domain: String,
    author: crate::store::git::Author,
    now: Stamp,
    dry_run: bool,
    /// The emails queued during the run reach the disk with one sync when the importer is
    /// dropped, not three syncs per acknowledgement ([`crate::mail::durable`]).
    durable: Option<crate::mail::durable::Batch>,
    /// One index write for the run's commits, not one per message
    /// ([`crate::store::batch`]); none in a dry run.
    index_batch: Option<crate::store::batch::IndexBatch>,
    /// The desk lock, held from before the first ticket is read until the run ends (none in a
    /// dry run, which writes nothing).
    _lock: Option<crate::store::lock::DeskLock>,
}

impl<'a> Importer<'a> {
    pub fn new(desk: &'a Desk, now: Stamp, dry_run: bool) -> Result<Importer<'a>> {
        let cfg = &desk.config;
        if cfg.channel(EMAIL_CHANNEL).is_none() {
            return Err(Error::Message(tr!("inbox.no_email_channel")));
        }
        let from: lettre::message::Mailbox = cfg
            .mail
            .from
            .parse()
            .map_err(|_| Error::Message(tr!("mail.bad_from", from = cfg.mail.from)))?;
        let mut own: Vec<String> = vec![from.email.to_string()];
        own.extend(cfg.mail.inbound.addresses.iter().cloned());
        if let Some(imap) = &cfg.mail.inbound.imap {
            if imap.user.contains('@') {
                own.push(imap.user.clone());
            }
        }
        let lock = if dry_run {
            None
        } else {
            Some(commands::lock_desk(&desk.root, "mesa inbox")?)
        };
        let index_batch = if dry_run {
            None
        } else {
            Some(crate::store::batch::IndexBatch::start(&desk.root)?)
        };
        let lang = crate::mail::compose::mail_language(desk);
        let words =
            AnswerWords::from_catalog(&crate::model::i18n::Catalog::load(lang, Some(&desk.root)));
        Ok(Importer {
            desk,
            index: scan(&desk.root),
            words,
            own,
            own_domain: from.email.domain().to_ascii_lowercase(),
            author: crate::store::git::Author {
                name: from
                    .name
                    .clone()
                    .unwrap_or_else(|| cfg.organisation.name.clone()),
                email: from.email.to_string(),
                at: now.0,
            },
            now,
            dry_run,
            durable: Some(crate::mail::durable::Batch::start()),
            index_batch,
            _lock: lock,
        })
    }

    /// Ends the run's writes: the index gets every commit's entries, and one sync of the file
    /// system makes the commits and queued emails durable.
    pub fn finish(&mut self) -> Result<()> {
        if let Some(batch) = self.index_batch.take() {
            batch.finish()?;
            crate::mail::durable::sync(&self.desk.root, &self.desk.root)?;
        }
        if let Some(durable) = self.durable.take() {
            durable.end();
        }
        Ok(())
    }

    /// Whether a Message-ID is already in the desk (or was imported by this run).
    pub fn holds(&self, message_id: &str) -> bool {
        self.index.received.contains_key(message_id)
    }

    /// Imports one message. An `Err` is a failure of the desk (a write or commit that failed),
    /// never of the message: bad messages are set aside and reported in the outcome.
    pub fn import(&mut self, label: &str, raw: &[u8]) -> Result<Outcome> {
        let p = match parse::parse(raw, &self.own) {
            Ok(p) => p,
            Err(reason) => {
                let mut o = Outcome::new(label, Action::Rejected);
                o.reason = Some(tr!(&format!("inbox.rejected.{reason}")));
                o.set_aside = self.set_aside(raw, label, None, reason)?;
                return Ok(o);
            }
        };
        let mut o = Outcome::new(label, Action::Reply);
        o.message_id = Some(p.message_id.clone());
        o.subject = p.subject.clone();
        o.from = p.from_addr.clone();
        if let Some(k) = p.loop_kind {
            o.action = Action::Loop;
            o.reason = Some(tr!(&format!("inbox.loop.{}", k.as_str())));
            o.set_aside = self.set_aside(raw, label, Some(&p.message_id), k.as_str())?;
            return Ok(o);
        }
        if let Some(t) = self.index.received.get(&p.message_id) {
            o.action = Action::Duplicate;
            o.ticket = Some(t.clone());
            o.reason = Some(tr!("inbox.duplicate", id = t));
            return Ok(o);
        }
        match self.find_case(&p) {
            Some(ticket) => self.on_case(&p, ticket, o),
            None => {
                if p.from_addr.is_none() {
                    o.action = Action::Rejected;
                    o.reason = Some(tr!("inbox.rejected.no_sender"));
                    o.set_aside = self.set_aside(raw, label, Some(&p.message_id), "no_sender")?;
                    return Ok(o);
                }
                self.new_case(&p, None, o)
            }
        }
    }

    /// The case a message belongs to: a Message-ID it answers, then `[Caso ID]` in the subject.
    fn find_case(&self, p: &Parsed) -> Option<Ticket> {
        for r in &p.refs {
            if let Some(id) = self.index.received.get(r) {
                if let Ok(t) = commands::load_ticket(&self.desk.root, id) {
                    return Some(t);
                }
            }
            // mesa's own ids: <CASE.kind.stamp.hash@domain>, recorded in the case's events.
            let inner = r.trim_start_matches('<').trim_end_matches('>');
            let Some((local, domain)) = inner.rsplit_once('@') else {
                continue;
            };
            let case = local.get(..12).unwrap_or_default();
            if domain.eq_ignore_ascii_case(&self.own_domain) && crate::model::ids::is_valid(case) {
                if let Ok(t) = commands::load_ticket(&self.desk.root, case) {
                    if t.front
                        .events
                        .iter()
                        .any(|e| e.message_id.as_deref() == Some(r.as_str()))
                    {
                        return Some(t);
                    }
                }
            }
        }
        let case = subject_case(&p.subject)?;
        commands::load_ticket(&self.desk.root, &case).ok()
    }

    /// When the message counts as received: the desk server's `Received` time, else its
    /// `Date`, else now; never in the future, in the desk's zone, whole seconds.
    fn arrival(&self, p: &Parsed) -> Stamp {
        let now = self.now.utc();
        let at: DateTime<Utc> = p.arrival.or(p.date).unwrap_or(now).min(now);
        let at = chrono::DateTime::<Utc>::from_timestamp(at.timestamp(), 0).unwrap_or(now);
        Stamp(commands::in_desk_zone(self.desk, at))
    }

    fn received_event(&self, p: &Parsed, at: Stamp, case: &str) -> (Event, Vec<Kept>) {
        let mut ev = Event::new(at, CUSTOMER, EventKind::Received);
        ev.received_id = Some(p.message_id.clone());
        ev.from = Some(sender(p));
        let text = body_text(p, false);
        ev.text = (!text.is_empty()).then_some(text);
        let (list, kept) = self.attachments(p, case, at);
        ev.attachments = list;
        (ev, kept)
    }

    fn on_case(&mut self, p: &Parsed, ticket: Ticket, mut o: Outcome) -> Result<Outcome> {
        let rules = self.desk.rules();
        let customer = self.desk.config.customer(&ticket.front.customer);
        let (state, _) = workflow::replay(rules, customer, &ticket.front.events);
        let last = state.last_at.or(ticket.front.events.last().map(|e| e.at));
        let mut at = self.arrival(p);
        if let Some(l) = last {
            at = at.max(l);
        }
        let id = ticket.front.id.clone();
        if state.status() == Status::Closed {
            if !workflow::may_reopen(rules, &state, at) {
                return self.new_case(p, Some(&ticket), o);
            }
            let (received, kept) = self.received_event(p, at, &id);
            let mut reopen = Event::new(at, CUSTOMER, EventKind::Reopened);
            reopen.received_id = Some(p.message_id.clone());
            o.action = Action::Reopened;
            return self.commit(p, ticket, vec![reopen, received], kept, o, false);
        }
        let (received, kept) = self.received_event(p, at, &id);
        let mut events = vec![received];
        let stripped = body_text(p, false);
        if let Some((answer, reason)) =
            text::find_answer(&stripped, workflow::awaited_answers(&state), &self.words)
        {
            let mut ev = Event::new(at, CUSTOMER, answer.event());
            // The same Message-ID ties the step to its email (and dedupes it in merges).
            ev.received_id = Some(p.message_id.clone());
            if answer == Answer::Reject {
                ev.reason = reason;
            }
            events.push(ev);
            o.action = Action::Answer;
            o.answer = Some(answer.as_str());
        }
        self.commit(p, ticket, events, kept, o, false)
    }

    fn new_case(
        &mut self,
        p: &Parsed,
        earlier: Option<&Ticket>,
        mut o: Outcome,
    ) -> Result<Outcome> {
        let cfg = &self.desk.config;
        let at = self.arrival(p);
        let addr = p.from_addr.clone().unwrap_or_default();
        let customer = cfg
            .customer_by_email(&addr)
            .map(|c| c.id.clone())
            .or_else(|| earlier.map(|t| t.front.customer.clone()))
            .unwrap_or_default();
        // A case number from the arrival time and the Message-ID: the same in every clone.
        let mut id = String::new();
        for attempt in 0..64u64 {
            let bits = (fnv(attempt, p.message_id.as_bytes()) & 0x7fff) as u16;
            let candidate = crate::model::ids::case_number(&at.0, bits);
            if !self
                .desk
                .root
                .join(commands::ticket_rel_path(&candidate))
                .exists()
            {
                id = candidate;
                break;
            }
        }
        if id.is_empty() {
            return Err(Error::Message(tr!("cmd.no_free_id")));
        }
        let title = title_of(&p.subject);
        let requester = Requester {
            name: p.from_name.clone().unwrap_or_else(|| addr.clone()),
            email: Some(addr.clone()),
            phone: None,
        };
        let front = TicketFront::new(
            id.clone(),
            title,
            customer.clone(),
            requester,
            EMAIL_CHANNEL.to_string(),
        );
        let body = body_text(p, true);
        let ticket = Ticket {
            path: commands::ticket_rel_path(&id),
            front,
            body: format!("{body}\n"),
        };
        let mut created = Event::new(at, MESA, EventKind::Created);
        created.received_id = Some(p.message_id.clone());
        created.from = Some(sender(p));
        created.related = earlier.map(|t| t.front.id.clone());
        let (list, kept) = self.attachments(p, &id, at);
        created.attachments = list;
        o.action = if earlier.is_some() {
            Action::NewLinked
        } else {
            Action::New
        };
        o.related = created.related.clone();
        o.triage = customer.is_empty();
        o.customer = (!customer.is_empty()).then_some(customer);
        self.commit(p, ticket, vec![created], kept, o, true)
    }

    /// Which attachments are kept (within the per-message and per-desk caps) and their files.
    fn attachments(&self, p: &Parsed, case: &str, at: Stamp) -> (Vec<Attachment>, Vec<Kept>) {
        let inbound = &self.desk.config.mail.inbound;
        let tag = format!("{:08x}", fnv(7, p.message_id.as_bytes()) as u32);
        let dir = attachment_dir(case, &at);
        let mut used = 0u64;
        let mut list = Vec::new();
        let mut kept = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for (name, bytes) in &p.attachments {
            let size = bytes.len() as u64;
            let mut file = format!("{tag}-{}", safe_name(name));
            let mut n = 2;
            while names.contains(&file) {
                file = format!("{tag}-{n}-{}", safe_name(name));
                n += 1;
            }
            names.push(file.clone());
            let fits = used + size <= inbound.max_attachments_per_message
                && self.index.attachment_bytes + used + size <= inbound.max_attachments_per_desk;
            if fits {
                used += size;
                kept.push(Kept {
                    path: dir.join(&file),
                    bytes: bytes.clone(),
                });
            }
            list.push(Attachment {
                file,
                bytes: size,
                left_out: !fits,
            });
        }
        (list, kept)
    }

    /// Lets the workflow accept the events, then records the ticket and its attachments as one
    /// commit through [`commands::record_with_files`], the one writer of tickets (journal,
    /// check-before-write, queued emails), as every other step does.
    fn commit(
        &mut self,
        p: &Parsed,
        ticket: Ticket,
        events: Vec<Event>,
        kept: Vec<Kept>,
        mut o: Outcome,
        created: bool,
    ) -> Result<Outcome> {
        let id = ticket.front.id.clone();
        let title = ticket.front.title.clone();
        o.ticket = Some(id.clone());
        o.attachments_kept = kept.len();
        o.attachments_left_out = p.attachments.len() - kept.len();
        if self.dry_run {
            let staged = commands::stage(self.desk, ticket, events)?;
            o.queued = staged
                .outgoing
                .iter()
                .map(|m| m.message_id.clone())
                .collect();
            self.index.received.insert(p.message_id.clone(), id);
            return Ok(o);
        }
        let kept_bytes: u64 = kept.iter().map(|k| k.bytes.len() as u64).sum();
        let files: Vec<crate::store::git::Change> = kept
            .into_iter()
            .map(|k| crate::store::git::Change {
                path: self.desk.root.join(&k.path),
                contents: k.bytes,
            })
            .collect();
        let what = if created {
            tr!("cmd.what.created", title = title)
        } else {
            tr!("inbox.commit_reply")
        };
        let message = format!("{id}: {what}");
        let rec = commands::record_with_files(
            self.desk,
            ticket,
            events,
            files,
            &message,
            &self.author,
            true,
        )?;
        o.queued = rec.message_ids;
        o.commit = rec.commit.map(|c| c.to_string());
        self.index.received.insert(p.message_id.clone(), id);
        self.index.attachment_bytes += kept_bytes;
        Ok(o)
    }

    /// Keeps a message that was not imported in `rejected/<hash>.eml` with `<hash>.json`
    /// saying why: nothing that arrives is lost. Nothing is written in a dry run.
    fn set_aside(
        &self,
        raw: &[u8],
        label: &str,
        message_id: Option<&str>,
        reason: &str,
    ) -> Result<Option<PathBuf>> {
        let stem = format!("{:016x}{:016x}", fnv(1, raw), fnv(2, raw));
        let rel = Path::new(REJECTED_DIR).join(format!("{stem}.eml"));
        if self.dry_run {
            return Ok(Some(rel));
        }
        let dir = self.desk.root.join(REJECTED_DIR);
        std::fs::create_dir_all(&dir)?;
        crate::store::git::write_atomic(&self.desk.root.join(&rel), raw)?;
        let meta = serde_json::json!({
            "source": label,
            "message_id": message_id,
            "reason": reason,
            "explanation": tr!(&format!("inbox.reason.{reason}")),
            "at": self.now.to_string(),
        });
        crate::store::git::write_atomic(
            &dir.join(format!("{stem}.json")),
            serde_json::to_string_pretty(&meta)
                .unwrap_or_default()
                .as_bytes(),
        )?;
        Ok(Some(rel))
    }
}

/// `mesa inbox fetch`: imports every message of the IMAP folder not yet imported, oldest first,
/// and marks each on the server only after its outcome is final (committed, skipped as a
/// duplicate, or set aside). `on` hears each outcome as it happens. A dry run reads and
/// marks nothing. A failure stops the run; messages not marked are taken again next time.
pub fn fetch_imap(
    importer: &mut Importer,
    dry_run: bool,
    on: &mut dyn FnMut(&Outcome),
) -> Result<()> {
    use crate::mail::inbound::imap::{password, Mailbox};
    let Some(s) = importer.desk.config.mail.inbound.imap.clone() else {
        return Err(Error::Message(tr!("inbox.imap_not_configured")));
    };
    let pass = password(&s)?;
    let mut mailbox = Mailbox::open(&s, &pass)?;
    let uids = mailbox.pending(&s.host)?;
    for uid in uids {
        let Some(raw) = mailbox.read(&s.host, uid)? else {
            continue;
        };
        let label = format!("imap://{}/{}#{uid}", s.host, s.folder);
        let outcome = importer.import(&label, &raw)?;
        // Its commit exists (HEAD moved); the index entries follow when the run ends, and a
        // run killed before that is repaired by the next command (store::batch).
        if !dry_run {
            mailbox.mark(&s.host, uid)?;
        }
        on(&outcome);
    }
    mailbox.close();
    importer.finish()
}

/// An attachment file to write with the ticket.
struct Kept {
    path: PathBuf,
    bytes: Vec<u8>,
}

/// `tickets/YYYY/MM/<ID>.files/`: the folder beside a ticket's file.
pub fn attachment_dir(case: &str, _at: &Stamp) -> PathBuf {
    let file = commands::ticket_rel_path(case);
    file.with_file_name(format!(
        "{case}{}",
        crate::model::load::ATTACHMENT_DIR_SUFFIX
    ))
}

fn sender(p: &Parsed) -> String {
    match (&p.from_name, &p.from_addr) {
        (Some(n), Some(a)) => format!("{n} <{a}>"),
        (None, Some(a)) => a.clone(),
        (Some(n), None) => n.clone(),
        (None, None) => tr!("inbox.unknown_sender"),
    }
}

/// The text recorded: the reply without quoted history and signature (for a new case, the
/// whole text when stripping would leave nothing), with a note when the body was cut.
fn body_text(p: &Parsed, whole_if_empty: bool) -> String {
    let mut t = text::strip_reply(&p.text);
    if t.trim().is_empty() && whole_if_empty {
        t = p.text.trim().to_string();
    }
    if t.trim().is_empty() && whole_if_empty {
        t = tr!("inbox.no_text");
    }
    if p.truncated {
        t.push_str("\n\n");
        t.push_str(&tr!("inbox.truncated", chars = parse::MAX_TEXT_CHARS));
    }
    t
}

/// `[Caso 261102-C4K7P]` (or `[Case ...]`) in a subject.
pub fn subject_case(subject: &str) -> Option<String> {
    let lower = subject.to_lowercase();
    for tag in ["[caso ", "[case "] {
        let mut from = 0;
        while let Some(i) = lower[from..].find(tag) {
            let start = from + i + tag.len();
            let id = subject
                .get(start..start + 12)
                .map(|s| s.to_ascii_uppercase());
            if let Some(id) = id {
                if crate::model::ids::is_valid(&id)
                    && subject.get(start + 12..start + 13) == Some("]")
                {
                    return Some(id);
                }
            }
            from = start;
        }
    }
    None
}

/// A new case's title: the subject without reply/forward prefixes and case tags.
fn title_of(subject: &str) -> String {
    let mut s = subject.trim().to_string();
    loop {
        let before = s.clone();
        for p in ["re:", "rv:", "fw:", "fwd:", "res:", "aw:", "r:"] {
            if s.len() >= p.len() && s[..p.len()].eq_ignore_ascii_case(p) {
                s = s[p.len()..].trim_start().to_string();
            }
        }
        let lower = s.to_lowercase();
        if (lower.starts_with("[caso ") || lower.starts_with("[case ")) && s.len() >= 19 {
            if let Some(end) = s.find(']') {
                s = s[end + 1..].trim_start().to_string();
            }
        }
        if s == before {
            break;
        }
    }
    if s.is_empty() {
        tr!("inbox.no_subject")
    } else {
        s
    }
}

/// A file name safe on every system: letters, digits, `.`, `-`, `_`; no leading dot; at most
/// 80 characters keeping the extension.
fn safe_name(name: &str) -> String {
    let folded = crate::model::text::fold(name);
    let mut s: String = folded
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    s = s.trim_start_matches('.').to_string();
    if s.chars().count() > 80 {
        let ext: String = s
            .rsplit_once('.')
            .map(|(_, e)| e.chars().take(10).collect())
            .unwrap_or_default();
        let head: String = s.chars().take(68).collect();
        s = if ext.is_empty() {
            head
        } else {
            format!("{head}.{ext}")
        };
    }
    if s.is_empty() || s.chars().all(|c| c == '_' || c == '.') {
        "adjunto.bin".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_and_titles() {
        assert_eq!(
            subject_case("RE: [Caso 261102-C4K7P] Solución de su caso").as_deref(),
            Some("261102-C4K7P")
        );
        assert_eq!(
            subject_case("Re: [caso 261102-c4k7p] x").as_deref(),
            Some("261102-C4K7P")
        );
        assert_eq!(subject_case("[Caso 2611] x"), None);
        assert_eq!(
            title_of("RE: RV: [Caso 261102-C4K7P] Impresora"),
            "Impresora"
        );
        let evil = safe_name("../../etc/passwd");
        assert!(!evil.contains('/') && !evil.starts_with('.'), "{evil}");
        let pdf = safe_name("Factura Nº 12 (copia).pdf");
        assert!(
            pdf.ends_with(".pdf") && pdf.is_ascii() && !pdf.contains(' '),
            "{pdf}"
        );
        assert_eq!(safe_name(".."), "adjunto.bin");
    }
}
