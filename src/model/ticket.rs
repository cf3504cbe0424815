//! The ticket file: `tickets/YYYY/MM/<id>.md`, YAML front matter with the ticket's identity,
//! its derived state and its append-only event log, then the description and conversation as
//! Markdown. The event log is the truth; the derived fields are a cache that `mesa check`
//! proves equal to a replay of the log (see `workflow`).

use crate::model::duration::Dur;
use chrono::{DateTime, FixedOffset, SecondsFormat};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// An instant with the offset it was recorded in. Offsets are required: a bare local time
/// cannot be ordered against events recorded in another zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Stamp(pub DateTime<FixedOffset>);

impl Stamp {
    /// Parses an RFC 3339 instant and refuses one outside the supported range (see
    /// [`crate::model::input::instant_supported`]): every stamp a file or an argument brings in
    /// passes here, so no later arithmetic or mail header meets an impossible date.
    pub fn parse(s: &str) -> Result<Stamp, String> {
        let t = DateTime::parse_from_rfc3339(s.trim())
            .map_err(|_| crate::tr!("yaml.bad_timestamp", value = s))?;
        match crate::model::input::instant_problem(t.with_timezone(&chrono::Utc)) {
            Some(p) => Err(p),
            None => Ok(Stamp(t)),
        }
    }
    pub fn utc(&self) -> DateTime<chrono::Utc> {
        self.0.with_timezone(&chrono::Utc)
    }
}

impl fmt::Display for Stamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, false))
    }
}

impl Serialize for Stamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Stamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A bad instant is refused here, after the text was read (as when it was read into a
        // `String` first): serde_yaml then places the error where it always did.
        d.deserialize_string(StampVisitor)?
            .map_err(serde::de::Error::custom)
    }
}

/// Reads a stamp's text in place (every event has one: no `String` is made for it),
/// accepting and refusing other types exactly as `String`'s own visitor does, in its words.
struct StampVisitor;

impl serde::de::Visitor<'_> for StampVisitor {
    type Value = Result<Stamp, String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Stamp::parse(s))
    }

    fn visit_bytes<E: serde::de::Error>(self, b: &[u8]) -> Result<Self::Value, E> {
        match std::str::from_utf8(b) {
            Ok(s) => self.visit_str(s),
            Err(_) => Err(E::invalid_value(serde::de::Unexpected::Bytes(b), &self)),
        }
    }
}

impl JsonSchema for Stamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})$",
            "description": "RFC 3339 timestamp with an offset, e.g. 2026-11-02T08:15:00-05:00"
        })
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum TicketType {
    Incident,
    Problem,
    Request,
}

#[derive(
    Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    New,
    Analysis,
    CabReview,
    AwaitingApproval,
    InProgress,
    Resolved,
    Closed,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::New,
        Status::Analysis,
        Status::CabReview,
        Status::AwaitingApproval,
        Status::InProgress,
        Status::Resolved,
        Status::Closed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Analysis => "analysis",
            Status::CabReview => "cab_review",
            Status::AwaitingApproval => "awaiting_approval",
            Status::InProgress => "in_progress",
            Status::Resolved => "resolved",
            Status::Closed => "closed",
        }
    }
    pub fn is_open(self) -> bool {
        self != Status::Closed
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum CloseReason {
    Confirmed,
    AutoConfirmed,
    MutualAgreement,
    Declined,
    NotApplicable,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Confirmed => "confirmed",
            CloseReason::AutoConfirmed => "auto_confirmed",
            CloseReason::MutualAgreement => "mutual_agreement",
            CloseReason::Declined => "declined",
            CloseReason::NotApplicable => "not_applicable",
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum CheckResult {
    Done,
    Failed,
    Na,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Clock {
    Response,
    Resolution,
}

/// What happened. Each kind's required fields and guards are in `workflow`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Reception: the ticket exists and the acknowledgement goes out.
    Created,
    /// Analysis: incident, problem or request, and which playbook incident or catalog entry.
    Classified,
    /// Priority set or changed (impact, urgency, effort; a reason when it overrides guidance).
    Prioritized,
    Assigned,
    /// A playbook check recorded.
    Checked,
    Escalated,
    /// The agent starts working on the solution.
    Started,
    /// The CAB's decision: complexity and whether a quote is needed.
    CabReviewed,
    /// Proposal or quote emailed to the customer.
    Proposed,
    Accepted,
    Declined,
    /// Solution notice (email).
    Resolved,
    /// The agent phoned the customer with the solution.
    Called,
    /// 24 h follow-up with no answer from the customer.
    Reminded,
    Confirmed,
    /// The customer rejected the solution: the ticket reopens.
    Rejected,
    Closed,
    /// An estimated target extended, with a reason.
    Extended,
    Commented,
    /// A knowledge-base article linked after the fact (`mesa kb new --from-ticket`).
    Linked,
    /// A customer email appended to the case (`mesa inbox`): sender, text, attachments.
    Received,
    /// A closed case opened again by the customer's reply, within the desk's window.
    Reopened,
    /// The email another event queued (same `message_id`) was delivered: recorded by the
    /// clone or runner that sent it, so no other clone sends it again (docs/mail.md).
    Mailed,
    /// The clocks pause: a failed check owned by the customer's side (`owner`, `check`) waits
    /// on the customer (desk.yaml `sla.pause_on_customer_checks`).
    Paused,
    /// The customer wait ended (the reason says how) and the clocks run again.
    Resumed,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Classified => "classified",
            EventKind::Prioritized => "prioritized",
            EventKind::Assigned => "assigned",
            EventKind::Checked => "checked",
            EventKind::Escalated => "escalated",
            EventKind::Started => "started",
            EventKind::CabReviewed => "cab_reviewed",
            EventKind::Proposed => "proposed",
            EventKind::Accepted => "accepted",
            EventKind::Declined => "declined",
            EventKind::Resolved => "resolved",
            EventKind::Called => "called",
            EventKind::Reminded => "reminded",
            EventKind::Confirmed => "confirmed",
            EventKind::Rejected => "rejected",
            EventKind::Closed => "closed",
            EventKind::Extended => "extended",
            EventKind::Commented => "commented",
            EventKind::Linked => "linked",
            EventKind::Received => "received",
            EventKind::Reopened => "reopened",
            EventKind::Mailed => "mailed",
            EventKind::Paused => "paused",
            EventKind::Resumed => "resumed",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of the append-only log. Fields other than `at`, `by` and `event` are used by the
/// kinds that need them; `workflow` says which.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub at: Stamp,
    /// Agent code, or `customer` / `mesa` for the customer's answers and automatic steps.
    pub by: String,
    pub event: EventKind,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<TicketType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// With a conditional-CAB request: whether the CAB must review it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cab: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agreed_date: Option<Stamp>,
    /// Assignment target (agent code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// Escalation target level.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<CheckResult>,
    /// Who the case waits on (`paused`, `resumed`): a playbook owner id from desk.yaml.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complexity: Option<crate::model::kb::Complexity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<CloseReason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clock: Option<Clock>,
    /// New target of an extended clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Dur>,
    /// Comment, proposal, solution or call notes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// A comment the customer sees (emailed) rather than an internal note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
    /// Knowledge-base article the solution links to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kb: Option<String>,
    /// Message-ID of the email this step queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Message-ID of the customer email this step came from (`mesa inbox`): what makes a
    /// second import of the same message a no-op, in this clone or after a merge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_id: Option<String>,
    /// Sender of that email, as `Name <address>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// The email's attachments: kept in the folder beside the ticket file, or left out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// On `created`: the earlier case this one follows (a reply to a case that could not reopen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub related: Option<String>,
}

/// One attachment of a customer email.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// File name inside the ticket's attachment folder (`<ID>.files/`), as sanitised on import.
    pub file: String,
    pub bytes: u64,
    /// Over the desk's size caps: not stored, only listed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub left_out: bool,
}

impl Event {
    pub fn new(at: Stamp, by: &str, event: EventKind) -> Event {
        Event {
            at,
            by: by.to_string(),
            event,
            ticket_type: None,
            incident: None,
            request: None,
            cab: None,
            priority: None,
            impact: None,
            urgency: None,
            effort: None,
            agreed_date: None,
            agent: None,
            level: None,
            check: None,
            result: None,
            owner: None,
            complexity: None,
            quote: None,
            amount: None,
            currency: None,
            reason: None,
            close_reason: None,
            clock: None,
            target: None,
            text: None,
            public: None,
            kb: None,
            message_id: None,
            received_id: None,
            from: None,
            attachments: Vec::new(),
            related: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct Requester {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

/// The SLA targets promised to the customer, as durations of working time.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Default)]
#[serde(deny_unknown_fields)]
pub struct SlaTargets {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Dur>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Dur>,
    /// Planned tickets: due at the agreed date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<Stamp>,
}

impl SlaTargets {
    pub fn is_empty(&self) -> bool {
        self.response.is_none() && self.resolution.is_none() && self.due.is_none()
    }
}

/// The front matter of a ticket file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TicketFront {
    /// Case number (see `ids`); equals the file name.
    pub id: String,
    pub title: String,
    pub customer: String,
    pub requester: Requester,
    /// Channel id from desk.yaml the request came through.
    pub channel: String,
    // ---- derived from the event log (checked by `mesa check`) ----
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub ticket_type: Option<TicketType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    pub level: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_reason: Option<CloseReason>,
    #[serde(default, skip_serializing_if = "SlaTargets::is_empty")]
    pub sla: SlaTargets,
    /// Playbook check id -> result.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checks: BTreeMap<String, CheckResult>,
    /// Knowledge-base articles linked to this ticket.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kb: Vec<String>,
    // ---- the log ----
    pub events: Vec<Event>,
}

impl TicketFront {
    /// A ticket at reception: identity only, derived fields at their starting values and an
    /// empty log (the caller appends `created` and replays).
    pub fn new(
        id: String,
        title: String,
        customer: String,
        requester: Requester,
        channel: String,
    ) -> TicketFront {
        TicketFront {
            id,
            title,
            customer,
            requester,
            channel,
            ticket_type: None,
            incident: None,
            request: None,
            priority: None,
            impact: None,
            urgency: None,
            effort: None,
            level: 1,
            assignee: None,
            status: Status::New,
            close_reason: None,
            sla: SlaTargets::default(),
            checks: BTreeMap::new(),
            kb: Vec::new(),
            events: Vec::new(),
        }
    }
}

/// A ticket file in memory.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub path: PathBuf,
    pub front: TicketFront,
    pub body: String,
}

impl Ticket {
    /// The file's text: front matter then body. Serialisation is deterministic so that equal
    /// tickets are equal files (which the merge driver relies on).
    pub fn to_text(&self) -> String {
        let yaml = serde_yaml::to_string(&self.front).unwrap_or_default();
        let mut out = String::with_capacity(yaml.len() + self.body.len() + 16);
        out.push_str("---\n");
        out.push_str(&yaml);
        out.push_str("---\n");
        out.push_str(&self.body);
        out
    }

    /// Relative path of a ticket file from its id and creation instant.
    pub fn relative_path(id: &str, created: &Stamp) -> PathBuf {
        use chrono::Datelike;
        let d = created.0;
        // `%Y` pads years 0-9999 to four digits; integers format without chrono's machinery
        // (`mesa check` asks this of every ticket).
        if (0..=9999).contains(&d.year()) {
            return PathBuf::from(format!("tickets/{:04}/{:02}/{id}.md", d.year(), d.month()));
        }
        PathBuf::from(format!(
            "tickets/{}/{:02}/{id}.md",
            d.format("%Y"),
            d.format("%m")
        ))
    }

    pub fn created_at(&self) -> Option<Stamp> {
        self.front.events.first().map(|e| e.at)
    }
}

/// Parses a ticket file's text.
pub fn parse(path: &Path, text: &str) -> Result<Ticket, crate::model::diag::Diagnostic> {
    let split = crate::model::front_matter::split(path, text)?;
    let front: TicketFront = crate::model::front_matter::parse(path, &split)?;
    Ok(Ticket {
        path: path.to_path_buf(),
        front,
        body: split.body.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `Stamp` read through a `String` before: the visitor in place must accept, refuse
    /// and word its refusals the same, from YAML and from JSON.
    fn through_string<'de, D: Deserializer<'de>>(d: D) -> Result<Stamp, D::Error> {
        let s = String::deserialize(d)?;
        Stamp::parse(&s).map_err(serde::de::Error::custom)
    }

    #[test]
    fn stamps_read_in_place_as_through_a_string() {
        for value in [
            "2026-11-02T08:15:00-05:00",
            "'2026-11-02T08:15:00Z'",
            "\"2026-11-02T08:15:00.5+01:00\"",
            "2026-11-02",
            "5",
            "~",
            "true",
            "[1]",
            "{a: 1}",
            "''",
            "9999-12-31T23:59:59Z",
        ] {
            let want = through_string(serde_yaml::Deserializer::from_str(value))
                .map_err(|e| e.to_string());
            let got = Stamp::deserialize(serde_yaml::Deserializer::from_str(value))
                .map_err(|e| e.to_string());
            assert_eq!(got, want, "{value}");
        }
        // Inside a log, where serde_yaml names the field and the position of a refusal.
        #[derive(Deserialize, Debug, PartialEq)]
        struct New {
            e: Vec<NewEvent>,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        struct NewEvent {
            at: Stamp,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        struct Old {
            e: Vec<OldEvent>,
        }
        #[derive(Deserialize, Debug, PartialEq)]
        struct OldEvent {
            #[serde(deserialize_with = "through_string")]
            at: Stamp,
        }
        for value in [
            "2026-11-02T08:15:00-05:00",
            "x2026-11-02T08:15:00-05:00",
            "[1]",
            "~",
        ] {
            let yaml = format!("e:\n- at: 2026-11-01T08:00:00Z\n- at: {value}\n");
            let new = serde_yaml::from_str::<New>(&yaml).map(|n| n.e[1].at);
            let old = serde_yaml::from_str::<Old>(&yaml).map(|o| o.e[1].at);
            let new = new.map_err(|e| e.to_string());
            assert_eq!(new, old.map_err(|e| e.to_string()), "{value}");
        }
        for value in ["\"2026-11-02T08:15:00-05:00\"", "\"x\"", "5", "null", "[1]"] {
            let json = |v: &str| serde_json::from_str::<serde_json::Value>(v).unwrap();
            let want = through_string(json(value)).map_err(|e| e.to_string());
            let got = Stamp::deserialize(json(value)).map_err(|e| e.to_string());
            assert_eq!(got, want, "{value}");
        }
    }
}
