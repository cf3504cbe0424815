//! `desk.yaml`: the organisation, its contact channels (Table 1), escalation matrix (Table 3),
//! priorities (Table 5) and their guidance, calendars, customers, agents, SLA and mail settings.
//! The manual's tables live here as data; code only reads them.

use crate::model::duration::Dur;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeskConfig {
    pub organisation: Organisation,
    /// Language of the site, emails and CLI messages: `es` (default) or `en`.
    #[serde(default = "default_language")]
    pub language: String,
    /// Time zone of the desk, for due instants shown to people.
    pub time_zone: String,
    /// The media customers reach the desk through (the rows of Table 1).
    pub channels: Vec<Channel>,
    /// Table 1: contact data per level, by channel id.
    pub contact_levels: Vec<ContactLevel>,
    /// Table 3.
    pub escalation: Escalation,
    /// Table 5.
    pub priorities: Vec<Priority>,
    pub priority_guidance: PriorityGuidance,
    /// Table 4's owners and footnotes; the checks themselves are in `kb/playbook/`.
    pub playbook: PlaybookSettings,
    pub calendars: Vec<CalendarConfig>,
    pub sla: SlaSettings,
    pub customers: Vec<Customer>,
    pub agents: Vec<Agent>,
    #[serde(default)]
    pub mail: MailSettings,
    /// Size caps for the files mesa reads from the desk (see [`crate::model::fsread`]).
    #[serde(default)]
    pub limits: Limits,
    /// The supervisors' summary email (`mesa report --mail`, `mesa sweep`).
    #[serde(default)]
    pub reports: ReportSettings,
}

/// desk.yaml `reports:`: where the supervisors' summary goes and where the site is read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ReportSettings {
    /// Addresses `mesa sweep` sends the summary of each period that ended to (none: no summary).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mail_to: Vec<String>,
    /// How often: `week` (Monday to Sunday in the desk's zone) or `month`.
    #[serde(default)]
    pub every: SummaryCadence,
    /// The internal site's base URL (ending in `/`), for the summary's links to the report pages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_url: Option<String>,
}

/// The period of the summary `mesa sweep` sends.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SummaryCadence {
    #[default]
    Week,
    Month,
}

/// How big a desk file may be before mesa refuses to read it. A hostile clone could hold a
/// huge file (or a link to `/dev/zero`); the caps keep every command's memory and time bounded.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest file read, in KiB (default 10240 = 10 MiB).
    #[serde(default = "default_max_file_kib")]
    pub max_file_kib: u64,
    /// Largest YAML front matter of a ticket or article, in KiB (default 1024 = 1 MiB).
    #[serde(default = "default_max_front_matter_kib")]
    pub max_front_matter_kib: u64,
}

fn default_max_file_kib() -> u64 {
    10 * 1024
}

fn default_max_front_matter_kib() -> u64 {
    1024
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_kib: default_max_file_kib(),
            max_front_matter_kib: default_max_front_matter_kib(),
        }
    }
}

fn default_language() -> String {
    "es".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    pub name: String,
    /// ISO 3166 country code (`CO`): picks the holiday rule set of new calendars.
    #[serde(default)]
    pub country: Option<String>,
    /// The organisation's email domain (`example.com`).
    #[serde(default)]
    pub domain: Option<String>,
    /// Where customers write for support.
    #[serde(default)]
    pub support_email: Option<String>,
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub website: Option<String>,
    /// The process manual this desk implements (code, version, date).
    #[serde(default)]
    pub manual: Option<String>,
    #[serde(default)]
    pub products: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Channel {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactLevel {
    pub level: u8,
    pub name: String,
    /// Channel id -> addresses, numbers or handles. An empty list is the manual's "-".
    pub contacts: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Escalation {
    pub levels: Vec<EscalationLevel>,
    /// Levels reachable from any lower level, skipping the ones between (the manual's level 5).
    #[serde(default)]
    pub direct: Vec<u8>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationLevel {
    pub level: u8,
    /// The manual's role name for the level.
    pub role: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Priority {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Response time; absent for a planned priority, which is due at an agreed date.
    #[serde(default)]
    pub response: Option<Dur>,
    /// Resolution target, where the desk sets one.
    #[serde(default)]
    pub resolution: Option<Dur>,
    /// True for "Planeado": the ticket is due at the date agreed with the customer.
    #[serde(default)]
    pub planned: bool,
    /// Calendar id the clocks of this priority run on.
    pub calendar: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriorityGuidance {
    pub impact: Vec<Level3>,
    pub urgency: Vec<Level3>,
    pub effort: Vec<Level3>,
    /// Tried in order; the first rule whose given keys all match suggests the priority.
    pub rules: Vec<GuidanceRule>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Level3 {
    pub id: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuidanceRule {
    #[serde(default)]
    pub impact: Option<String>,
    #[serde(default)]
    pub urgency: Option<String>,
    #[serde(default)]
    pub effort: Option<String>,
    pub priority: String,
    /// Why this rule exists (shown to the agent).
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaybookSettings {
    pub owners: Vec<Owner>,
    /// The manual's footnote on owners ("post verificación del nivel anterior").
    pub owner_note: String,
    /// The manual's footnote on checks that apply to extramural care only.
    pub extramural_note: String,
    /// What "(Véase X)" means.
    pub see_note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Owner {
    pub id: String,
    pub name: String,
    /// The customer's side (its IT, its administrator profile): when a check it owns fails,
    /// the case waits on it, and `mesa show` says it must act next.
    #[serde(default)]
    pub customer: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    pub id: String,
    pub name: String,
    /// The calendar's time zone when it differs from the desk's; absent, it is the desk's
    /// `time_zone` (filled in when desk.yaml is read, so there is one setting to change).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub time_zone: String,
    /// Open every minute of every day; `hours` and holidays are then ignored.
    #[serde(default)]
    pub always_open: bool,
    /// Working intervals per weekday (`mon`..`sun`), each "HH:MM-HH:MM".
    #[serde(default)]
    pub hours: BTreeMap<String, Vec<String>>,
    /// Holiday rule set computed for any year (`co` for Colombia).
    #[serde(default)]
    pub holidays: Option<String>,
    /// An RFC 5545 file of all-day events whose dates are closed, relative to the desk.
    #[serde(default)]
    pub holidays_ics: Option<String>,
    /// Extra dates the desk is closed (YYYY-MM-DD).
    #[serde(default)]
    pub closed: Vec<String>,
    /// Dates the desk opens although the rules say closed, with the hours of that day.
    #[serde(default)]
    pub open: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaSettings {
    /// Fraction of a target after which a running clock is "at risk" (default 0.75).
    #[serde(default = "default_at_risk")]
    pub at_risk: f64,
    /// With no customer answer this long after the solution notice, the agent follows up.
    pub follow_up_after: Dur,
    /// With no answer this long after the solution notice, the ticket closes as approved.
    pub auto_close_after: Dur,
    /// A customer's reply may reopen a closed case (confirmed, auto-confirmed or closed by
    /// agreement) this long after it closed; later replies open a new case linked to it.
    /// Absent: replies to closed cases always open a new case.
    #[serde(default)]
    pub reopen_within: Option<Dur>,
    /// The close as approved also waits this long after the follow-up was sent, so that it
    /// always follows a follow-up the customer received (a late sweep reminds first). Default:
    /// `auto_close_after - follow_up_after`, the manual's spacing.
    #[serde(default)]
    pub auto_close_grace: Option<Dur>,
    /// How the confirmation waits count: `wall_clock` (hours as the customer lives them) or
    /// `working` (working time on the ticket's resolution calendar).
    #[serde(default)]
    pub confirmation_hours: ConfirmationHours,
    /// Whether the clocks pause while a failed playbook check owned by the customer's side
    /// (`playbook.owners[].customer: true`) waits on the customer: the check's step then
    /// records a `paused` event, and the customer's next act a `resumed` one
    /// (docs/lifecycle.md). The manual does not say; absent, the clocks keep running.
    #[serde(default)]
    pub pause_on_customer_checks: bool,
}

impl SlaSettings {
    /// The grace after the follow-up before the close as approved.
    pub fn grace(&self) -> Dur {
        self.auto_close_grace.unwrap_or_else(|| {
            Dur::minutes((self.auto_close_after.minutes - self.follow_up_after.minutes).max(0))
        })
    }
}

/// How the manual's 24 h / 72 h confirmation waits are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConfirmationHours {
    #[default]
    WallClock,
    Working,
}

fn default_at_risk() -> f64 {
    0.75
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub city: Option<String>,
    /// Care outside the customer's premises (over VPN): the playbook's VPN check applies.
    #[serde(default)]
    pub extramural: bool,
    pub contract: Contract,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    /// Email domains whose senders are this customer's people (`mesa inbox`), e.g.
    /// `santahelena.example.co`.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Further email addresses of this customer (besides its contacts').
    #[serde(default)]
    pub addresses: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    pub code: String,
    /// Catalog entries whose cost the contract covers: for a "depends on the contract" quote,
    /// an included entry needs no quote.
    #[serde(default)]
    pub included: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub role: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AgentRole {
    Agent,
    Engineer,
    Manager,
    Provider,
    Supervisor,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Agent {
    pub code: String,
    pub name: String,
    pub email: String,
    /// Escalation level the agent works at (Table 3).
    pub level: u8,
    pub role: AgentRole,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum TlsMode {
    #[default]
    None,
    Starttls,
    Tls,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// Sender of customer emails, e.g. `Mesa de Servicio SGM <soporte@sgm.com.co>`.
    pub from: String,
    #[serde(default)]
    pub smtp_host: String,
    #[serde(default = "default_smtp_port")]
    pub smtp_port: u16,
    #[serde(default)]
    pub tls: TlsMode,
    /// The outbox travels with the tickets in git from this day on: any clone or scheduled
    /// runner sends an email an event of that day or later queued, unless the ticket records
    /// its delivery (`mailed`). Unset: each clone sends only what it queued itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_since: Option<chrono::NaiveDate>,
    /// Customer email coming in (`mesa inbox import|fetch`).
    #[serde(default)]
    pub inbound: InboundSettings,
}

/// What `mesa inbox` reads and keeps.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InboundSettings {
    /// The desk's own addresses besides `mail.from` (aliases, the IMAP account): mail from
    /// them is never answered or imported, so the desk never talks to itself.
    #[serde(default)]
    pub addresses: Vec<String>,
    /// Attachments of one message kept with its ticket, in bytes (default 10 MiB).
    #[serde(default = "default_max_message")]
    pub max_attachments_per_message: u64,
    /// Attachments kept in the whole desk, in bytes (default 1 GiB).
    #[serde(default = "default_max_desk")]
    pub max_attachments_per_desk: u64,
    /// The IMAP mailbox `mesa inbox fetch` reads.
    #[serde(default)]
    pub imap: Option<ImapSettings>,
}

fn default_max_message() -> u64 {
    10 * 1024 * 1024
}

fn default_max_desk() -> u64 {
    1024 * 1024 * 1024
}

impl Default for InboundSettings {
    fn default() -> Self {
        InboundSettings {
            addresses: Vec::new(),
            max_attachments_per_message: default_max_message(),
            max_attachments_per_desk: default_max_desk(),
            imap: None,
        }
    }
}

/// An IMAP account: where it is, how to log in, and what to do with imported messages.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImapSettings {
    pub host: String,
    #[serde(default = "default_imap_port")]
    pub port: u16,
    /// `tls` (implicit, port 993), `starttls`, or `none` (loopback only).
    #[serde(default)]
    pub tls: TlsMode,
    pub user: String,
    /// Environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// Command whose first output line is the password (e.g. `pass show mesa/imap`).
    #[serde(default)]
    pub password_command: Option<String>,
    #[serde(default = "default_folder")]
    pub folder: String,
    /// Folder imported messages move to; without it they are flagged `\Seen` and
    /// `$MesaImported` and left in place.
    #[serde(default)]
    pub move_to: Option<String>,
}

fn default_imap_port() -> u16 {
    993
}

fn default_folder() -> String {
    "INBOX".into()
}

fn default_smtp_port() -> u16 {
    25
}

impl Default for MailSettings {
    fn default() -> Self {
        MailSettings {
            from: "mesa@localhost".into(),
            smtp_host: "localhost".into(),
            smtp_port: 25,
            tls: TlsMode::None,
            shared_since: None,
            inbound: InboundSettings::default(),
        }
    }
}

impl DeskConfig {
    /// The desk's time zone; UTC for a name chrono-tz does not know (`mesa check` refuses
    /// such a desk.yaml, so only a command run past that refusal sees the fallback).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.time_zone.parse().unwrap_or(chrono_tz::UTC)
    }
    pub fn customer(&self, id: &str) -> Option<&Customer> {
        self.customers.iter().find(|c| c.id == id)
    }
    pub fn agent(&self, code: &str) -> Option<&Agent> {
        self.agents.iter().find(|a| a.code == code)
    }
    /// The customer an email address belongs to: a contact's or listed address first, then
    /// the domain. Two customers claiming one domain make it ambiguous: no customer.
    pub fn customer_by_email(&self, email: &str) -> Option<&Customer> {
        let email = email.trim();
        let by_address = self.customers.iter().find(|c| {
            c.contacts
                .iter()
                .any(|k| k.email.eq_ignore_ascii_case(email))
                || c.addresses.iter().any(|a| a.eq_ignore_ascii_case(email))
        });
        if by_address.is_some() {
            return by_address;
        }
        let domain = email.rsplit_once('@')?.1;
        let mut found = self
            .customers
            .iter()
            .filter(|c| c.domains.iter().any(|d| d.eq_ignore_ascii_case(domain)));
        let first = found.next();
        if found.next().is_some() {
            return None;
        }
        first
    }
    pub fn agent_by_email(&self, email: &str) -> Option<&Agent> {
        self.agents
            .iter()
            .find(|a| a.email.eq_ignore_ascii_case(email))
    }
    pub fn priority(&self, id: &str) -> Option<&Priority> {
        self.priorities.iter().find(|p| p.id == id)
    }
    pub fn calendar(&self, id: &str) -> Option<&CalendarConfig> {
        self.calendars.iter().find(|c| c.id == id)
    }
    pub fn channel(&self, id: &str) -> Option<&Channel> {
        self.channels.iter().find(|c| c.id == id)
    }
    pub fn max_level(&self) -> u8 {
        self.escalation
            .levels
            .iter()
            .map(|l| l.level)
            .max()
            .unwrap_or(1)
    }
    pub fn level_role(&self, level: u8) -> Option<&str> {
        self.escalation
            .levels
            .iter()
            .find(|l| l.level == level)
            .map(|l| l.role.as_str())
    }

    /// The scale of a guidance field: `impact`, `urgency` or `effort` (empty for others).
    pub fn guidance_levels(&self, field: &str) -> &[Level3] {
        let g = &self.priority_guidance;
        match field {
            "impact" => &g.impact,
            "urgency" => &g.urgency,
            "effort" => &g.effort,
            _ => &[],
        }
    }

    /// A guidance value as a person types it: the level's id, or its name as the site shows it
    /// ("Alto", "media"), case and accents ignored. Commands store the id; logs hold only ids.
    pub fn guidance_level(&self, field: &str, value: &str) -> Option<&Level3> {
        let levels = self.guidance_levels(field);
        let v = value.trim();
        levels.iter().find(|l| l.id == v).or_else(|| {
            let folded = crate::model::text::fold(v);
            levels.iter().find(|l| {
                crate::model::text::fold(&l.id) == folded
                    || crate::model::text::fold(&l.name) == folded
            })
        })
    }

    /// The priority the guidance suggests for an impact, urgency and effort.
    pub fn suggest_priority(
        &self,
        impact: Option<&str>,
        urgency: Option<&str>,
        effort: Option<&str>,
    ) -> Option<&GuidanceRule> {
        let matches = |want: &Option<String>, have: Option<&str>| match want {
            None => true,
            Some(w) => have == Some(w.as_str()),
        };
        self.priority_guidance.rules.iter().find(|r| {
            matches(&r.impact, impact) && matches(&r.urgency, urgency) && matches(&r.effort, effort)
        })
    }
}
