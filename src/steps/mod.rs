//! The ticket life cycle from the command line: one command per step of the manual.
//!
//! Every step goes the same way: open the desk, find the ticket straight from its case number
//! (`YYMMDD-XXXXX` -> `tickets/20YY/MM/<id>.md`, never a scan of the desk), replay its log with
//! [`workflow::replay`], build the step's [`Event`], let [`workflow::apply`] accept or refuse it,
//! write the derived fields, commit (see [`crate::store::git`]), queue the customer email if the step
//! has one, and print what happened and what comes next. The rules themselves live only in
//! [`crate::rules::workflow`].

pub mod inbox;
pub mod kb_draft;
pub mod sweep;

use crate::cli::{Format, Global};
use crate::model::desk::{Agent, Customer};
use crate::model::diag::{Error, Result};
use crate::model::duration::Dur;
use crate::model::kb::Complexity;
use crate::model::load::Desk;
use crate::model::ticket::{
    self, CheckResult, Clock, CloseReason, Event, EventKind, Requester, Stamp, Status, Ticket,
    TicketFront, TicketType,
};
use crate::rules::workflow::{self, State};
use crate::tr;
use chrono::{DateTime, FixedOffset, Utc};
use clap::{Args, Subcommand, ValueEnum};
use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The life-cycle commands, flattened into `mesa`'s own subcommands by `main.rs`.
#[derive(Debug, Subcommand)]
pub enum TicketCommand {
    /// Reception: create a ticket, print its case number and promised time, queue the acknowledgement.
    New(Box<NewArgs>),
    /// Analysis: incident, problem or request (with its playbook incident or catalog entry).
    Classify(Box<ClassifyArgs>),
    /// Assign the ticket to an agent.
    Assign(AssignArgs),
    /// Set the priority; impact, urgency and effort suggest one, an override needs --reason.
    Priority(Box<PriorityArgs>),
    /// Record a playbook check: done, failed or na.
    Verify(VerifyArgs),
    /// Escalate one level up (or to a level reachable directly, e.g. 5).
    Escalate(EscalateArgs),
    /// Start working on the solution (analysis -> in progress).
    Start(SimpleArgs),
    /// The change advisory board's decision: complexity and whether a quote is needed.
    Cab(CabArgs),
    /// Email the proposal or quote to the customer.
    Propose(ProposeArgs),
    /// The customer accepts the proposal or quote.
    Accept(SimpleArgs),
    /// The customer declines the proposal or quote (the ticket closes).
    Decline(SimpleArgs),
    /// Solution notice: record the solution and email it.
    Resolve(ResolveArgs),
    /// Record the phone call that notified the solution.
    Call(SimpleArgs),
    /// The customer confirms the solution (the ticket closes).
    Confirm(SimpleArgs),
    /// The customer rejects the solution (the ticket reopens).
    Reject(RejectArgs),
    /// Close by mutual agreement or as not applicable.
    Close(CloseArgs),
    /// Extend an estimated resolution target, with a reason.
    Extend(ExtendArgs),
    /// Add a comment: internal, or to the customer with --public.
    Comment(CommentArgs),
    /// Show a ticket: status, level, checks, clocks, emails, next step.
    Show(ShowArgs),
    /// List tickets, filtered.
    List(Box<ListArgs>),
    /// Follow-ups and auto-closes that are due, and SLA warnings (for cron or CI).
    Sweep(crate::steps::sweep::SweepArgs),
    /// Create a new desk: default configuration, knowledge base, theme, git repository, hooks.
    Init(crate::store::hooks::InitArgs),
    /// Set up this clone: merge driver for tickets and the pre-commit check.
    Hooks(crate::store::hooks::HooksArgs),
    /// Git merge driver for ticket files (installed by `mesa hooks install`).
    #[command(hide = true)]
    MergeTicket(crate::store::merge::MergeArgs),
}

/// Runs one life-cycle command.
pub fn run(global: &Global, cmd: TicketCommand) -> Result<ExitCode> {
    use TicketCommand as C;
    match cmd {
        C::New(a) => new(global, *a),
        C::Classify(a) => classify(global, *a),
        C::Assign(a) => assign(global, a),
        C::Priority(a) => priority(global, *a),
        C::Verify(a) => verify(global, a),
        C::Escalate(a) => escalate(global, a),
        C::Start(a) => simple(global, a, EventKind::Started),
        C::Cab(a) => cab(global, a),
        C::Propose(a) => propose(global, a),
        C::Accept(a) => simple(global, a, EventKind::Accepted),
        C::Decline(a) => simple(global, a, EventKind::Declined),
        C::Resolve(a) => resolve(global, a),
        C::Call(a) => simple(global, a, EventKind::Called),
        C::Confirm(a) => simple(global, a, EventKind::Confirmed),
        C::Reject(a) => reject(global, a),
        C::Close(a) => close(global, a),
        C::Extend(a) => extend(global, a),
        C::Comment(a) => comment(global, a),
        C::Show(a) => show(global, a),
        C::List(a) => list(global, *a),
        C::Sweep(a) => crate::steps::sweep::run(global, a),
        C::Init(a) => crate::store::hooks::init(global, a),
        C::Hooks(a) => crate::store::hooks::hooks(global, a),
        C::MergeTicket(a) => crate::store::merge::run(global, a),
    }
}

// ---------------------------------------------------------------------------------------------
// Arguments

/// Options every writing command takes.
#[derive(Debug, Args, Clone, Default)]
pub struct Common {
    /// Only write the ticket file; do not commit.
    #[arg(long)]
    pub no_commit: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TypeArg {
    Incident,
    Problem,
    Request,
}

impl From<TypeArg> for TicketType {
    fn from(t: TypeArg) -> Self {
        match t {
            TypeArg::Incident => TicketType::Incident,
            TypeArg::Problem => TicketType::Problem,
            TypeArg::Request => TicketType::Request,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum YesNo {
    Yes,
    No,
}

impl From<YesNo> for bool {
    fn from(v: YesNo) -> bool {
        matches!(v, YesNo::Yes)
    }
}

/// The fields of a classification and a priority, shared by `new`, `classify` and `priority`.
#[derive(Debug, Args, Clone, Default)]
pub struct PriorityFields {
    /// Priority id from desk.yaml (e.g. critica, alta, media, baja, planeado).
    #[arg(long)]
    pub priority: Option<String>,
    /// Impact (desk.yaml's priority_guidance.impact).
    #[arg(long)]
    pub impact: Option<String>,
    /// Urgency (desk.yaml's priority_guidance.urgency).
    #[arg(long)]
    pub urgency: Option<String>,
    /// Effort (desk.yaml's priority_guidance.effort).
    #[arg(long)]
    pub effort: Option<String>,
    /// Why the priority differs from the guidance's suggestion.
    #[arg(long)]
    pub reason: Option<String>,
    /// Agreed date for a planned priority (RFC 3339).
    #[arg(long)]
    pub agreed_date: Option<String>,
}

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Channel id from desk.yaml the customer used (phone, email, chat...).
    #[arg(long)]
    pub channel: String,
    /// Customer id from desk.yaml.
    #[arg(long)]
    pub customer: String,
    /// The person reporting, as `Name <email>`.
    #[arg(long)]
    pub requester: String,
    /// The requester's phone.
    #[arg(long)]
    pub phone: Option<String>,
    #[arg(long)]
    pub title: String,
    /// The description (`-` reads standard input). Without it: --description-file or $EDITOR.
    #[arg(long)]
    pub description: Option<String>,
    /// Read the description from a file (`-` for standard input).
    #[arg(long)]
    pub description_file: Option<PathBuf>,
    /// Classify at once.
    #[arg(long = "type", value_enum)]
    pub ticket_type: Option<TypeArg>,
    /// Playbook incident id (incidents and problems).
    #[arg(long)]
    pub incident: Option<String>,
    /// Catalog entry id (requests).
    #[arg(long)]
    pub request: Option<String>,
    /// For a request whose CAB review is conditional: whether the CAB must review it.
    #[arg(long, value_enum)]
    pub cab: Option<YesNo>,
    #[command(flatten)]
    pub prio: PriorityFields,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    pub id: String,
    #[arg(long = "type", value_enum)]
    pub ticket_type: TypeArg,
    #[arg(long)]
    pub incident: Option<String>,
    #[arg(long)]
    pub request: Option<String>,
    #[arg(long, value_enum)]
    pub cab: Option<YesNo>,
    #[command(flatten)]
    pub prio: PriorityFields,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct AssignArgs {
    pub id: String,
    /// Agent code from desk.yaml.
    #[arg(long)]
    pub to: String,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct PriorityArgs {
    pub id: String,
    /// The priority; without it, the one impact, urgency and effort suggest.
    #[arg(value_name = "PRIORITY")]
    pub value: Option<String>,
    #[command(flatten)]
    pub prio: PriorityFields,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ResultArg {
    Done,
    Failed,
    Na,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    pub id: String,
    /// Playbook check id.
    pub step: String,
    #[arg(long, value_enum)]
    pub result: ResultArg,
    #[arg(long)]
    pub note: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct EscalateArgs {
    pub id: String,
    /// Target level (default: one up).
    #[arg(long)]
    pub to: Option<u8>,
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct SimpleArgs {
    pub id: String,
    /// A note recorded with the step.
    #[arg(long)]
    pub note: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum ComplexityArg {
    Low,
    Medium,
    #[value(alias = "medium-high")]
    MediumHigh,
}

#[derive(Debug, Args)]
pub struct CabArgs {
    pub id: String,
    /// The CAB's rating (default: the catalog entry's complexity).
    #[arg(long, value_enum)]
    pub complexity: Option<ComplexityArg>,
    /// Whether a quote is needed (default: the catalog entry and the customer's contract decide).
    #[arg(long, value_enum)]
    pub quote: Option<YesNo>,
    #[arg(long)]
    pub note: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct ProposeArgs {
    pub id: String,
    /// The proposal.
    #[arg(long)]
    pub text: String,
    /// Quote amount.
    #[arg(long)]
    pub amount: Option<f64>,
    #[arg(long)]
    pub currency: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    pub id: String,
    /// The solution, as the customer will read it.
    #[arg(long)]
    pub solution: String,
    /// Knowledge-base article the solution follows.
    #[arg(long)]
    pub kb: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    pub id: String,
    /// Why the customer rejects the solution.
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum CloseReasonArg {
    #[value(alias = "mutual-agreement")]
    MutualAgreement,
    #[value(alias = "not-applicable")]
    NotApplicable,
    #[value(alias = "auto-confirmed")]
    AutoConfirmed,
}

#[derive(Debug, Args)]
pub struct CloseArgs {
    pub id: String,
    /// The close reason.
    #[arg(long, value_enum)]
    pub reason: CloseReasonArg,
    /// What was agreed, or why the ticket does not apply.
    #[arg(long)]
    pub note: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct ExtendArgs {
    pub id: String,
    /// The new resolution target, as a duration (e.g. 120h, 10d).
    #[arg(long)]
    pub to: String,
    #[arg(long)]
    pub reason: String,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct CommentArgs {
    pub id: String,
    #[arg(long)]
    pub text: String,
    /// Email the comment to the customer instead of keeping it internal.
    #[arg(long)]
    pub public: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub id: String,
}

#[derive(Debug, Args, Default)]
pub struct ListArgs {
    #[arg(long)]
    pub status: Vec<String>,
    #[arg(long)]
    pub priority: Vec<String>,
    #[arg(long)]
    pub level: Vec<u8>,
    #[arg(long)]
    pub customer: Vec<String>,
    #[arg(long)]
    pub assignee: Vec<String>,
    /// Only tickets with a breached SLA clock.
    #[arg(long)]
    pub breached: bool,
    /// Only tickets with a running clock due before this time (RFC 3339).
    #[arg(long)]
    pub due_before: Option<String>,
    /// Only open tickets.
    #[arg(long)]
    pub open: bool,
    /// Only tickets with a customer email no agent has acted on since (`mesa inbox`).
    #[arg(long)]
    pub unread: bool,
    /// Only tickets opened from email with no customer (unknown sender), awaiting triage.
    #[arg(long)]
    pub triage: bool,
}

// ---------------------------------------------------------------------------------------------
// Context

/// What every command needs: the desk, the clock and who acts.
pub struct Ctx {
    pub desk: Desk,
    pub now: Stamp,
}

impl Ctx {
    pub fn open(global: &Global) -> Result<Ctx> {
        let root = global.desk_root()?;
        let desk = Desk::open(&root)?;
        let now = now(global, &desk)?;
        Ok(Ctx { desk, now })
    }

    pub fn root(&self) -> &Path {
        &self.desk.root
    }
}

/// The current instant, from `--now` / `MESA_NOW` or the system clock, expressed in the desk's
/// time zone offset.
pub fn now(global: &Global, desk: &Desk) -> Result<Stamp> {
    let utc: DateTime<Utc> = match &global.now {
        Some(s) => DateTime::parse_from_rfc3339(s.trim())
            .map_err(|_| Error::Usage(tr!("cmd.bad_now", value = s)))?
            .with_timezone(&Utc),
        None => Utc::now(),
    };
    Ok(Stamp(in_desk_zone(desk, utc)))
}

/// `utc` with the desk's time-zone offset at that instant.
pub fn in_desk_zone(desk: &Desk, utc: DateTime<Utc>) -> DateTime<FixedOffset> {
    match desk.config.time_zone.parse::<chrono_tz::Tz>() {
        Ok(tz) => utc.with_timezone(&tz).fixed_offset(),
        Err(_) => utc.fixed_offset(),
    }
}

/// The acting agent: `--agent` / `MESA_AGENT` (an agent code, or an email), else git's
/// `user.email` matched against desk.yaml's agents.
pub fn actor<'a>(global: &Global, desk: &'a Desk) -> Result<&'a Agent> {
    let cfg = &desk.config;
    let codes: Vec<&str> = cfg.agents.iter().map(|a| a.code.as_str()).collect();
    if let Some(a) = &global.agent {
        return cfg
            .agent(a)
            .or_else(|| cfg.agent_by_email(a))
            .ok_or_else(|| {
                let close = crate::model::diag::suggest(a, codes.iter().copied());
                Error::Usage(tr!(
                    "cmd.unknown_agent",
                    id = a,
                    list = if close.is_empty() {
                        codes.join(", ")
                    } else {
                        close.join(", ")
                    }
                ))
            });
    }
    let email = git2::Repository::discover(&desk.root)
        .and_then(|r| r.config())
        .and_then(|c| c.get_string("user.email"))
        .or_else(|_| git2::Config::open_default().and_then(|c| c.get_string("user.email")))
        .ok();
    match email {
        Some(e) => cfg.agent_by_email(&e).ok_or_else(|| {
            Error::Usage(tr!(
                "cmd.email_not_agent",
                email = e,
                list = codes.join(", ")
            ))
        }),
        None => Err(Error::Usage(tr!("cmd.no_actor", list = codes.join(", ")))),
    }
}

/// Normalises a case number as typed (lower case accepted).
pub fn normalize_id(id: &str) -> Result<String> {
    let id = id.trim().to_ascii_uppercase();
    if crate::model::ids::is_valid(&id) {
        Ok(id)
    } else {
        Err(Error::Usage(tr!("cmd.bad_id", id = id)))
    }
}

/// Where a ticket lives, from its case number alone: `tickets/20YY/MM/<id>.md`.
pub fn ticket_rel_path(id: &str) -> PathBuf {
    let part = |r: std::ops::Range<usize>| id.get(r).unwrap_or("00");
    PathBuf::from(format!("tickets/20{}/{}/{id}.md", part(0..2), part(2..4)))
}

/// Loads the ticket `id` straight from its path.
pub fn load_ticket(root: &Path, id: &str) -> Result<Ticket> {
    let id = normalize_id(id)?;
    let rel = ticket_rel_path(&id);
    let abs = root.join(&rel);
    if !abs.is_file() {
        return Err(Error::Message(tr!(
            "cmd.no_ticket",
            id = id,
            path = rel.display()
        )));
    }
    let text = crate::model::front_matter::read_text(&abs).map_err(|mut d| {
        d.path = rel.clone();
        Error::from(d)
    })?;
    Ok(ticket::parse(&rel, &text)?)
}

/// A refused step, as the error a person reads.
fn refused(id: &str, e: workflow::RuleError) -> Error {
    let mut m = tr!("cmd.refused", id = id, message = e.message);
    if let Some(h) = e.hint {
        m.push_str(&format!(" ({h})"));
    }
    Error::Message(m)
}

/// Prints rule errors already in a ticket's log (e.g. after a merge) as warnings.
fn warn_existing(global: &Global, t: &Ticket, errors: &[workflow::RuleError]) {
    if global.quiet || errors.is_empty() {
        return;
    }
    for e in errors {
        eprintln!(
            "{}",
            tr!(
                "cmd.log_problem",
                path = t.path.display(),
                event = e.event,
                message = e.message
            )
        );
    }
}

/// What a recorded step produced.
pub struct Recorded {
    pub ticket: Ticket,
    pub state: State,
    pub commit: Option<git2::Oid>,
    pub message_ids: Vec<String>,
}

/// A step applied in memory: the ticket with its new events and derived fields, the replayed
/// state, and the customer emails to queue once the step is committed.
pub struct Staged {
    pub ticket: Ticket,
    pub state: State,
    pub outgoing: Vec<crate::mail::compose::Outgoing>,
}

/// Appends `events` (in order) to `ticket`, checks each against the workflow and composes the
/// customer emails the steps send. Touches nothing on disk.
pub fn stage(desk: &Desk, mut ticket: Ticket, events: Vec<Event>) -> Result<Staged> {
    let rules = desk.rules();
    let customer = desk.config.customer(&ticket.front.customer);
    let (mut state, _) = workflow::replay(rules, customer, &ticket.front.events);
    let id = ticket.front.id.clone();
    let mut outgoing = Vec::new();
    let first_new = ticket.front.events.len();
    for ev in events {
        workflow::apply(rules, customer, &mut state, &ev).map_err(|e| refused(&id, e))?;
        ticket.front.events.push(ev);
        state.write_into(&mut ticket.front);
    }
    // Mail is composed once the whole step is in the log, so an acknowledgement of a ticket
    // classified on creation already knows its priority and promised time.
    for i in first_new..ticket.front.events.len() {
        let ev = ticket.front.events[i].clone();
        if let Some(kind) = crate::mail::compose::MailKind::for_event(&ev) {
            if let Some(out) = crate::mail::compose::compose(desk, &ticket, kind, &ev)? {
                ticket.front.events[i].message_id = Some(out.message_id.clone());
                outgoing.push(out);
            }
        }
    }
    Ok(Staged {
        ticket,
        state,
        outgoing,
    })
}

/// Queues the emails of committed steps; returns their Message-IDs.
pub fn enqueue_all(
    desk: &Desk,
    id: &str,
    outgoing: &[crate::mail::compose::Outgoing],
) -> Result<Vec<String>> {
    let mut message_ids = Vec::new();
    for out in outgoing {
        crate::mail::compose::enqueue(&desk.root, out)
            .map_err(|e| Error::Message(tr!("cmd.enqueue_failed", id = id, error = e)))?;
        message_ids.push(out.message_id.clone());
    }
    Ok(message_ids)
}

/// [`stage`]s the step, writes and commits the file as one commit with `message`, then queues
/// the emails. Nothing is written when a step is refused.
pub fn record(
    desk: &Desk,
    ticket: Ticket,
    events: Vec<Event>,
    message: &str,
    author: &crate::store::git::Author,
    commit: bool,
) -> Result<Recorded> {
    let staged = stage(desk, ticket, events)?;
    let change = crate::store::git::Change {
        path: desk.root.join(&staged.ticket.path),
        contents: staged.ticket.to_text().into_bytes(),
    };
    let oid = crate::store::git::write_and_commit(&desk.root, &[change], message, author, commit)?;
    let message_ids = enqueue_all(desk, &staged.ticket.front.id, &staged.outgoing)?;
    Ok(Recorded {
        ticket: staged.ticket,
        state: staged.state,
        commit: oid,
        message_ids,
    })
}

fn author_of(agent: &Agent, now: &Stamp) -> crate::store::git::Author {
    crate::store::git::Author {
        name: agent.name.clone(),
        email: agent.email.clone(),
        at: now.0,
    }
}

/// Prints the outcome of a step: what happened, the state, the next steps.
fn report(
    global: &Global,
    desk: &Desk,
    what: &str,
    rec: &Recorded,
    extra: serde_json::Value,
) -> ExitCode {
    let customer = desk.config.customer(&rec.ticket.front.customer);
    let next = workflow::next_steps(desk.rules(), customer, &rec.state);
    let f = &rec.ticket.front;
    match global.format {
        Format::Json => {
            let mut v = serde_json::json!({
                "ok": true,
                "id": f.id,
                "path": rec.ticket.path,
                "what": what,
                "status": f.status,
                "level": f.level,
                "assignee": f.assignee,
                "priority": f.priority,
                "commit": rec.commit.map(|o| o.to_string()),
                "message_ids": rec.message_ids,
                "next": next,
            });
            if let (Some(obj), serde_json::Value::Object(more)) = (v.as_object_mut(), extra) {
                obj.extend(more);
            }
            println!("{v}");
        }
        Format::Text => {
            println!("{}: {what}", f.id);
            if !global.quiet {
                let commit = rec
                    .commit
                    .map(|o| o.to_string()[..10].to_string())
                    .unwrap_or_else(|| tr!("cmd.not_committed"));
                println!(
                    "  {}",
                    tr!(
                        "cmd.state_line",
                        status = f.status,
                        level = f.level,
                        commit = commit
                    )
                );
                for m in &rec.message_ids {
                    println!("  {}", tr!("cmd.email_queued", id = m));
                }
                for n in &next {
                    println!(
                        "  {}",
                        tr!("cmd.next", step = n.replace(" ID", &format!(" {}", f.id)))
                    );
                }
            }
        }
    }
    ExitCode::SUCCESS
}

/// One step on an existing ticket: load, build the event from the replayed state, record, report.
fn step_on(
    global: &Global,
    id: &str,
    common: &Common,
    build: impl FnOnce(&Ctx, &Ticket, &State, Option<&Customer>, &Agent) -> Result<(Vec<Event>, String)>,
) -> Result<ExitCode> {
    let ctx = Ctx::open(global)?;
    let agent = actor(global, &ctx.desk)?;
    let ticket = load_ticket(ctx.root(), id)?;
    let customer = ctx.desk.config.customer(&ticket.front.customer);
    let (state, errors) = workflow::replay(ctx.desk.rules(), customer, &ticket.front.events);
    warn_existing(global, &ticket, &errors);
    let (events, what) = build(&ctx, &ticket, &state, customer, agent)?;
    let message = format!("{}: {what}", ticket.front.id);
    let rec = record(
        &ctx.desk,
        ticket,
        events,
        &message,
        &author_of(agent, &ctx.now),
        !common.no_commit,
    )?;
    Ok(report(
        global,
        &ctx.desk,
        &what,
        &rec,
        serde_json::json!({}),
    ))
}

fn event(ctx: &Ctx, by: &str, kind: EventKind) -> Event {
    Event::new(ctx.now, by, kind)
}

/// Who records the customer's answers: the customer, through the agent who logs it.
const CUSTOMER: &str = "customer";

fn parse_stamp(s: &str) -> Result<Stamp> {
    Stamp::parse(s).map_err(|_| Error::Usage(tr!("cmd.bad_time", value = s)))
}

fn fill_priority(ev: &mut Event, p: &PriorityFields) -> Result<()> {
    ev.priority = p.priority.clone();
    ev.impact = p.impact.clone();
    ev.urgency = p.urgency.clone();
    ev.effort = p.effort.clone();
    ev.reason = p.reason.clone();
    ev.agreed_date = p.agreed_date.as_deref().map(parse_stamp).transpose()?;
    Ok(())
}

/// With impact and urgency but no priority, the guidance's suggestion.
fn suggested(desk: &Desk, state: Option<&State>, p: &PriorityFields) -> Option<String> {
    let impact = p
        .impact
        .as_deref()
        .or(state.and_then(|s| s.impact.as_deref()));
    let urgency = p
        .urgency
        .as_deref()
        .or(state.and_then(|s| s.urgency.as_deref()));
    let effort = p
        .effort
        .as_deref()
        .or(state.and_then(|s| s.effort.as_deref()));
    if impact.is_none() && urgency.is_none() && effort.is_none() {
        return None;
    }
    desk.config
        .suggest_priority(impact, urgency, effort)
        .map(|r| r.priority.clone())
}

// ---------------------------------------------------------------------------------------------
// Reception

/// `Name <email>`, a bare email, or a bare name.
pub fn parse_requester(s: &str, phone: Option<String>) -> Result<Requester> {
    let s = s.trim();
    let (name, email) = match (s.find('<'), s.rfind('>')) {
        (Some(a), Some(b)) if a < b => (
            s[..a].trim().to_string(),
            Some(s[a + 1..b].trim().to_string()),
        ),
        _ if s.contains('@') && !s.contains(' ') => (s.to_string(), Some(s.to_string())),
        _ => (s.to_string(), None),
    };
    if name.is_empty() {
        return Err(Error::Usage(tr!("cmd.bad_requester", value = s)));
    }
    if let Some(e) = &email {
        if !e.contains('@') || e.contains(' ') {
            return Err(Error::Usage(tr!("cmd.bad_requester", value = s)));
        }
    }
    Ok(Requester {
        name,
        email: email.filter(|e| !e.is_empty()),
        phone,
    })
}

fn read_stdin() -> Result<String> {
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s)?;
    Ok(s)
}

/// The description: the flag, a file, standard input (`-`), or the agent's $EDITOR.
fn description(a: &NewArgs) -> Result<String> {
    let text = if let Some(d) = &a.description {
        if d == "-" {
            read_stdin()?
        } else {
            d.clone()
        }
    } else if let Some(f) = &a.description_file {
        if f.as_os_str() == "-" {
            read_stdin()?
        } else {
            std::fs::read_to_string(f).map_err(|e| {
                Error::Message(tr!("cmd.read_failed", path = f.display(), error = e))
            })?
        }
    } else if let Some(editor) = std::env::var("VISUAL")
        .ok()
        .or_else(|| std::env::var("EDITOR").ok())
        .filter(|e| !e.trim().is_empty() && std::io::stdin().is_terminal())
    {
        let file = tempfile::Builder::new()
            .prefix("mesa-")
            .suffix(".md")
            .tempfile()?;
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("{editor} \"$1\""))
            .arg("sh")
            .arg(file.path())
            .status()
            .map_err(|e| Error::Message(tr!("cmd.editor_failed", editor = editor, error = e)))?;
        if !status.success() {
            return Err(Error::Message(tr!(
                "cmd.editor_failed",
                editor = editor,
                error = status
            )));
        }
        std::fs::read_to_string(file.path())?
    } else {
        return Err(Error::Usage(tr!("cmd.no_description")));
    };
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err(Error::Usage(tr!("cmd.no_description")));
    }
    Ok(text)
}

fn new(global: &Global, a: NewArgs) -> Result<ExitCode> {
    let ctx = Ctx::open(global)?;
    let desk = &ctx.desk;
    let cfg = &desk.config;
    let agent = actor(global, desk)?;
    if cfg.customer(&a.customer).is_none() {
        let ids: Vec<&str> = cfg.customers.iter().map(|c| c.id.as_str()).collect();
        return Err(Error::Usage(tr!(
            "cmd.unknown_customer",
            id = a.customer,
            list = ids.join(", ")
        )));
    }
    if cfg.channel(&a.channel).is_none() {
        let ids: Vec<&str> = cfg.channels.iter().map(|c| c.id.as_str()).collect();
        return Err(Error::Usage(tr!(
            "cmd.unknown_channel",
            id = a.channel,
            list = ids.join(", ")
        )));
    }
    if a.title.trim().is_empty() {
        return Err(Error::Usage(tr!("cmd.empty_title")));
    }
    let requester = parse_requester(&a.requester, a.phone.clone())?;
    let body = description(&a)?;

    let mut prio = a.prio.clone();
    if prio.priority.is_none() {
        prio.priority = suggested(desk, None, &prio);
    }
    let mut created = event(&ctx, &agent.code, EventKind::Created);
    let mut steps = Vec::new();
    match a.ticket_type {
        Some(t) => {
            steps.push(created);
            let mut c = event(&ctx, &agent.code, EventKind::Classified);
            c.ticket_type = Some(t.into());
            c.incident = a.incident.clone();
            c.request = a.request.clone();
            c.cab = a.cab.map(bool::from);
            fill_priority(&mut c, &prio)?;
            steps.push(c);
        }
        None => {
            if a.incident.is_some() || a.request.is_some() {
                return Err(Error::Usage(tr!("cmd.type_needed")));
            }
            fill_priority(&mut created, &prio)?;
            steps.push(created);
        }
    }

    // A case number this clone has not used: draw again on the (rare) clash.
    let mut id = String::new();
    for _ in 0..64 {
        let candidate =
            crate::model::ids::case_number(&ctx.now.0, crate::model::ids::random_bits());
        if !ctx.root().join(ticket_rel_path(&candidate)).exists() {
            id = candidate;
            break;
        }
    }
    if id.is_empty() {
        return Err(Error::Message(tr!("cmd.no_free_id")));
    }
    let front = TicketFront::new(
        id.clone(),
        a.title.trim().to_string(),
        a.customer.clone(),
        requester,
        a.channel.clone(),
    );
    let ticket = Ticket {
        path: ticket_rel_path(&id),
        front,
        body: format!("{body}\n"),
    };
    let what = tr!("cmd.what.created", title = a.title.trim());
    let message = format!("{id}: {what}");
    let rec = record(
        desk,
        ticket,
        steps,
        &message,
        &author_of(agent, &ctx.now),
        !a.common.no_commit,
    )?;
    let promised = crate::rules::sla::promised_due(desk, &rec.ticket.front);
    let lang = crate::model::i18n::active().lang.clone();
    let promised_text = promised.map(|d| crate::rules::sla::human_datetime(&d, &lang));
    if global.format == Format::Text {
        if let Some(p) = &promised_text {
            println!("{}", tr!("cmd.promised", id = id, when = p));
        }
    }
    Ok(report(
        global,
        desk,
        &what,
        &rec,
        serde_json::json!({ "promised": promised.map(|d| d.to_rfc3339()), "promised_text": promised_text }),
    ))
}

// ---------------------------------------------------------------------------------------------
// Analysis

fn classify(global: &Global, a: ClassifyArgs) -> Result<ExitCode> {
    step_on(global, &a.id, &a.common, |ctx, _t, state, _c, agent| {
        let mut ev = event(ctx, &agent.code, EventKind::Classified);
        let t: TicketType = a.ticket_type.into();
        ev.ticket_type = Some(t);
        ev.incident = a.incident.clone();
        ev.request = a.request.clone();
        ev.cab = a.cab.map(bool::from);
        let mut prio = a.prio.clone();
        if prio.priority.is_none() {
            prio.priority = suggested(&ctx.desk, Some(state), &prio);
        }
        fill_priority(&mut ev, &prio)?;
        let what = tr!(
            "cmd.what.classified",
            kind = format!("{t:?}").to_lowercase(),
            entry = a
                .incident
                .clone()
                .or(a.request.clone())
                .unwrap_or_else(|| "-".into())
        );
        Ok((vec![ev], what))
    })
}

fn assign(global: &Global, a: AssignArgs) -> Result<ExitCode> {
    step_on(global, &a.id, &a.common, |ctx, _t, _s, _c, agent| {
        let mut ev = event(ctx, &agent.code, EventKind::Assigned);
        ev.agent = Some(a.to.clone());
        Ok((vec![ev], tr!("cmd.what.assigned", agent = a.to)))
    })
}

fn priority(global: &Global, a: PriorityArgs) -> Result<ExitCode> {
    step_on(global, &a.id, &a.common, |ctx, _t, state, _c, agent| {
        let mut prio = a.prio.clone();
        if prio.priority.is_none() {
            prio.priority = a.value.clone();
        }
        let suggestion = suggested(&ctx.desk, Some(state), &prio);
        if prio.priority.is_none() {
            prio.priority = suggestion.clone();
        }
        let Some(chosen) = prio.priority.clone() else {
            return Err(Error::Usage(tr!("cmd.priority_needed")));
        };
        if !global.quiet && global.format == Format::Text {
            if let Some(s) = &suggestion {
                eprintln!("{}", tr!("cmd.priority_suggested", priority = s));
            }
        }
        let mut ev = event(ctx, &agent.code, EventKind::Prioritized);
        fill_priority(&mut ev, &prio)?;
        Ok((vec![ev], tr!("cmd.what.prioritized", priority = chosen)))
    })
}

fn verify(global: &Global, a: VerifyArgs) -> Result<ExitCode> {
    step_on(global, &a.id, &a.common, |ctx, _t, _s, _c, agent| {
        let mut ev = event(ctx, &agent.code, EventKind::Checked);
        ev.check = Some(a.step.clone());
        ev.result = Some(match a.result {
            ResultArg::Done => CheckResult::Done,
            ResultArg::Failed => CheckResult::Failed,
            ResultArg::Na => CheckResult::Na,
        });
        ev.text = a.note.clone();
        let result = format!("{:?}", a.result).to_lowercase();
        Ok((
            vec![ev],
            tr!("cmd.what.checked", check = a.step, result = result),
        ))
    })
}

fn escalate(global: &Global, a: EscalateArgs) -> Result<ExitCode> {
    step_on(global, &a.id, &a.common, |ctx, _t, state, _c, agent| {
        let to = a.to.unwrap_or(state.level.saturating_add(1));
        let mut ev = event(ctx, &agent.code, EventKind::Escalated);
        ev.level = Some(to);
        ev.reason = Some(a.reason.clone());
        let role = ctx.desk.config.level_role(to).unwrap_or("-").to_string();
        let people: Vec<&str> = ctx
            .desk
            .config
            .agents
            .iter()
            .filter(|ag| ag.level == to)
            .map(|ag| ag.code.as_str())
            .collect();
        let what = tr!(
            "cmd.what.escalated",
            level = to,
            role = role,
            agents = people.join(", ")
        );
        Ok((vec![ev], what))
    })
}

fn cab(global: &Global, a: CabArgs) -> Result<ExitCode> {
    step_on(
        global,
        &a.id,
        &a.common,
        |ctx, _t, state, customer, agent| {
            let entry = state
                .request
                .as_deref()
                .and_then(|r| ctx.desk.kb.request(r));
            let complexity = match a.complexity {
                Some(ComplexityArg::Low) => Some(Complexity::Low),
                Some(ComplexityArg::Medium) => Some(Complexity::Medium),
                Some(ComplexityArg::MediumHigh) => Some(Complexity::MediumHigh),
                None => entry.map(|e| e.front.complexity),
            };
            let quote = match a.quote {
                Some(q) => Some(bool::from(q)),
                None => entry.map(|e| workflow::quote_needed(e.front.quote, &e.id, customer)),
            };
            let mut ev = event(ctx, &agent.code, EventKind::CabReviewed);
            ev.complexity = complexity;
            ev.quote = quote;
            ev.text = a.note.clone();
            let what = tr!(
                "cmd.what.cab_reviewed",
                complexity = complexity
                    .map(|c| format!("{c:?}").to_lowercase())
                    .unwrap_or_default(),
                quote = if quote == Some(true) {
                    tr!("cmd.yes")
                } else {
                    tr!("cmd.no")
                }
            );
            Ok((vec![ev], what))
        },
    )
}

fn propose(global: &Global, a: ProposeArgs) -> Result<ExitCode> {
    step_on(global, &a.id, &a.common, |ctx, _t, _s, _c, agent| {
        let mut ev = event(ctx, &agent.code, EventKind::Proposed);
        ev.text = Some(a.text.clone());
        ev.amount = a.amount;
        ev.currency = a.currency.clone();
        let what = match a.amount {
            Some(amount) => tr!(
                "cmd.what.quoted",
                amount = amount,
                currency = a.currency.clone().unwrap_or_default()
            ),
            None => tr!("cmd.what.proposed"),
        };
        Ok((vec![ev], what))
    })
}

// ---------------------------------------------------------------------------------------------
// Solution and closing

fn simple(global: &Global, a: SimpleArgs, kind: EventKind) -> Result<ExitCode> {
    step_on(global, &a.id, &a.common, |ctx, _t, _s, _c, agent| {
        let by = match kind {
            EventKind::Accepted | EventKind::Declined | EventKind::Confirmed => CUSTOMER,
            _ => agent.code.as_str(),
        };
        let mut ev = event(ctx, by, kind);
        ev.text = a.note.clone();
        let what = tr!(&format!("cmd.what.{}", kind.as_str()));
        Ok((vec![ev], what))
    })
}

fn resolve(global: &Global, a: ResolveArgs) -> Result<ExitCode> {
    step_on(global, &a.id, &a.common, |ctx, _t, _s, _c, agent| {
        let mut ev = event(ctx, &agent.code, EventKind::Resolved);
        ev.text = Some(a.solution.clone());
        ev.kb = a.kb.clone();
        Ok((vec![ev], tr!("cmd.what.resolved")))
    })
}

fn reject(global: &Global, a: RejectArgs) -> Result<ExitCode> {
    step_on(global, &a.id, &a.common, |ctx, _t, _s, _c, _agent| {
        let mut ev = event(ctx, CUSTOMER, EventKind::Rejected);
        ev.reason = Some(a.reason.clone());
        Ok((vec![ev], tr!("cmd.what.rejected", reason = a.reason)))
    })
}

fn close(global: &Global, a: CloseArgs) -> Result<ExitCode> {
    step_on(global, &a.id, &a.common, |ctx, _t, _s, _c, agent| {
        let reason = match a.reason {
            CloseReasonArg::MutualAgreement => CloseReason::MutualAgreement,
            CloseReasonArg::NotApplicable => CloseReason::NotApplicable,
            CloseReasonArg::AutoConfirmed => CloseReason::AutoConfirmed,
        };
        let mut ev = event(ctx, &agent.code, EventKind::Closed);
        ev.close_reason = Some(reason);
        // The close reason itself is the minimal record of why; a note says more.
        ev.reason = Some(
            a.note
                .clone()
                .unwrap_or_else(|| tr!(&format!("cmd.close_reason.{}", reason.as_str()))),
        );
        Ok((vec![ev], tr!("cmd.what.closed", reason = reason.as_str())))
    })
}

fn extend(global: &Global, a: ExtendArgs) -> Result<ExitCode> {
    step_on(global, &a.id, &a.common, |ctx, _t, _s, _c, agent| {
        let target: Dur = a
            .to
            .parse()
            .map_err(|e: String| Error::Usage(tr!("cmd.bad_duration", value = a.to, error = e)))?;
        let mut ev = event(ctx, &agent.code, EventKind::Extended);
        ev.clock = Some(Clock::Resolution);
        ev.target = Some(target);
        ev.reason = Some(a.reason.clone());
        Ok((vec![ev], tr!("cmd.what.extended", target = target)))
    })
}

fn comment(global: &Global, a: CommentArgs) -> Result<ExitCode> {
    step_on(global, &a.id, &a.common, |ctx, _t, _s, _c, agent| {
        let mut ev = event(ctx, &agent.code, EventKind::Commented);
        ev.text = Some(a.text.clone());
        if a.public {
            ev.public = Some(true);
        }
        let what = if a.public {
            tr!("cmd.what.commented_public")
        } else {
            tr!("cmd.what.commented")
        };
        Ok((vec![ev], what))
    })
}

// ---------------------------------------------------------------------------------------------
// Reading

fn show(global: &Global, a: ShowArgs) -> Result<ExitCode> {
    let root = global.desk_root()?;
    let desk = Desk::open(&root)?;
    let now = now(global, &desk)?;
    let t = load_ticket(&root, &a.id)?;
    let f = &t.front;
    let rules = desk.rules();
    let customer = desk.config.customer(&f.customer);
    let (state, errors) = workflow::replay(rules, customer, &f.events);
    let next = workflow::next_steps(rules, customer, &state);
    let applicable: Vec<&crate::model::kb::Check> = state
        .incident
        .as_deref()
        .map(|i| workflow::applicable_checks(rules, customer, i))
        .unwrap_or_default();
    let missing: Vec<String> = workflow::missing_checks(rules, customer, &state)
        .iter()
        .map(|c| c.id.clone())
        .collect();
    let clocks = crate::rules::sla::clocks(&desk, f, now.utc());
    let emails: Vec<serde_json::Value> = f
        .events
        .iter()
        .filter_map(|e| {
            e.message_id
                .as_ref()
                .map(|m| serde_json::json!({"at": e.at, "event": e.event, "message_id": m}))
        })
        .collect();
    let problems: Vec<String> = errors
        .iter()
        .map(|e| format!("events.{}: {}", e.event, e.message))
        .collect();
    match global.format {
        Format::Json => {
            let checks: Vec<serde_json::Value> = applicable
                .iter()
                .map(|c| {
                    serde_json::json!({
                        "id": c.id, "action": c.action, "owner": c.owner, "level": c.level,
                        "result": state.checks.get(&c.id),
                    })
                })
                .collect();
            let mut v = serde_json::to_value(f).unwrap_or_default();
            if let Some(obj) = v.as_object_mut() {
                obj.insert("path".into(), serde_json::json!(t.path));
                obj.insert("description".into(), serde_json::json!(t.body));
                obj.insert("applicable_checks".into(), serde_json::json!(checks));
                obj.insert("missing_checks".into(), serde_json::json!(missing));
                obj.insert(
                    "clocks".into(),
                    serde_json::to_value(&clocks).unwrap_or_default(),
                );
                obj.insert("emails".into(), serde_json::json!(emails));
                obj.insert("next".into(), serde_json::json!(next));
                obj.insert("problems".into(), serde_json::json!(problems));
            }
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        Format::Text => {
            let lang = crate::model::i18n::active().lang.clone();
            println!("{} · {}", f.id, f.title);
            let cust = customer.map(|c| c.name.as_str()).unwrap_or(&f.customer);
            println!(
                "  {}",
                tr!(
                    "show.customer",
                    customer = cust,
                    requester = requester_line(&f.requester),
                    channel = f.channel
                )
            );
            let kind = f
                .ticket_type
                .map(|t| format!("{t:?}").to_lowercase())
                .unwrap_or_else(|| "-".into());
            let entry = f
                .incident
                .clone()
                .or(f.request.clone())
                .unwrap_or_else(|| "-".into());
            println!("  {}", tr!("show.kind", kind = kind, entry = entry));
            let role = desk.config.level_role(f.level).unwrap_or("-");
            println!(
                "  {}",
                tr!(
                    "show.status",
                    status = f.status,
                    level = f.level,
                    role = role,
                    assignee = f.assignee.clone().unwrap_or_else(|| "-".into()),
                    priority = f.priority.clone().unwrap_or_else(|| "-".into())
                )
            );
            if let Some(r) = f.close_reason {
                println!("  {}", tr!("show.close_reason", reason = r.as_str()));
            }
            if !applicable.is_empty() {
                println!("  {}", tr!("show.checks"));
                for c in &applicable {
                    let mark = match state.checks.get(&c.id) {
                        Some(CheckResult::Done) => "done",
                        Some(CheckResult::Failed) => "failed",
                        Some(CheckResult::Na) => "na",
                        None if missing.contains(&c.id) => "MISSING",
                        None => "-",
                    };
                    println!("    [{mark}] {} (L{}): {}", c.id, c.level, c.action);
                }
            }
            if !clocks.is_empty() {
                println!("  {}", tr!("show.clocks"));
                for c in &clocks {
                    println!("    {}", describe_clock(c, &lang));
                }
            }
            if !emails.is_empty() {
                println!("  {}", tr!("show.emails"));
                for e in f.events.iter().filter(|e| e.message_id.is_some()) {
                    println!(
                        "    {} {} {}",
                        e.at,
                        e.event,
                        e.message_id.as_deref().unwrap_or("")
                    );
                }
            }
            println!("  {}", tr!("show.events", count = f.events.len()));
            for e in &f.events {
                let detail = e
                    .text
                    .as_deref()
                    .or(e.reason.as_deref())
                    .map(|s| format!(": {}", s.lines().next().unwrap_or("")))
                    .unwrap_or_default();
                println!("    {} {} {}{detail}", e.at, e.by, e.event);
            }
            for p in &problems {
                println!("  {}", tr!("show.problem", problem = p));
            }
            for n in &next {
                println!(
                    "  {}",
                    tr!("cmd.next", step = n.replace(" ID", &format!(" {}", f.id)))
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// One clock for people: which, its state, target, due time and what is left.
pub fn describe_clock(c: &crate::rules::sla::ClockView, lang: &str) -> String {
    let clock = clock_name(c.clock);
    if c.target.is_none() && c.due.is_none() {
        return tr!(
            "show.clock_no_target",
            clock = clock,
            state = c.state.as_str()
        );
    }
    tr!(
        "show.clock_line",
        clock = clock,
        state = c.state.as_str(),
        target = c
            .target
            .map(|t| t.to_string())
            .unwrap_or_else(|| "-".into()),
        due = c
            .due
            .map(|d| crate::rules::sla::human_datetime(&d, lang))
            .unwrap_or_else(|| "-".into()),
        used = c.used_minutes,
        left = c.left_minutes
    )
}

/// A clock's name for people.
pub fn clock_name(c: Clock) -> String {
    match c {
        Clock::Response => tr!("show.clock_response"),
        Clock::Resolution => tr!("show.clock_resolution"),
    }
}

fn requester_line(r: &Requester) -> String {
    match &r.email {
        Some(e) => format!("{} <{e}>", r.name),
        None => r.name.clone(),
    }
}

fn list(global: &Global, a: ListArgs) -> Result<ExitCode> {
    use rayon::prelude::*;
    let root = global.desk_root()?;
    let desk = Desk::open(&root)?;
    let now = now(global, &desk)?;
    let due_before = a.due_before.as_deref().map(parse_stamp).transpose()?;
    for s in &a.status {
        if !Status::ALL.iter().any(|x| x.as_str() == s) {
            let all: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
            return Err(Error::Usage(tr!(
                "cmd.unknown_status",
                id = s,
                list = all.join(", ")
            )));
        }
    }
    let needs_clocks = a.breached || due_before.is_some();
    let (cals, _) = crate::rules::calendar::Calendars::new(&desk);
    let keep = |t: &Ticket| -> Option<Vec<crate::rules::sla::ClockView>> {
        let f = &t.front;
        let selected = (a.status.is_empty() || a.status.iter().any(|s| s == f.status.as_str()))
            && (!a.open || f.status.is_open())
            && (a.priority.is_empty()
                || f.priority.as_ref().is_some_and(|p| a.priority.contains(p)))
            && (a.level.is_empty() || a.level.contains(&f.level))
            && (a.customer.is_empty() || a.customer.contains(&f.customer))
            && (a.assignee.is_empty()
                || f.assignee.as_ref().is_some_and(|p| a.assignee.contains(p)))
            && (!a.unread || workflow::unread_reply(&f.events).is_some())
            && (!a.triage || f.customer.is_empty());
        if !selected {
            return None;
        }
        let clocks = if needs_clocks {
            crate::rules::sla::clocks_with(&desk, &cals, f, now.utc())
        } else {
            Vec::new()
        };
        if a.breached
            && !clocks
                .iter()
                .any(|c| c.state == crate::rules::sla::ClockState::Breached)
        {
            return None;
        }
        if let Some(before) = due_before {
            let due = clocks
                .iter()
                .any(|c| !c.stopped && c.due.is_some_and(|d| d.with_timezone(&Utc) < before.utc()));
            if !due {
                return None;
            }
        }
        Some(clocks)
    };
    // Tickets are parsed and filtered in parallel; only the selected ones stay in memory.
    let results: Vec<
        std::result::Result<
            (Ticket, Vec<crate::rules::sla::ClockView>),
            crate::model::diag::Diagnostic,
        >,
    > = crate::model::load::ticket_paths(&root)
        .par_iter()
        .filter_map(|p| {
            let rel = crate::model::load::rel(&root, p);
            let parsed = crate::model::front_matter::read_text(p)
                .map_err(|mut d| {
                    d.path = rel.clone();
                    d
                })
                .and_then(|text| ticket::parse(&rel, &text));
            match parsed {
                Ok(mut t) => keep(&t).map(|clocks| {
                    t.body = String::new();
                    Ok((t, clocks))
                }),
                Err(d) => Some(Err(d)),
            }
        })
        .collect();
    let mut rows = Vec::new();
    for r in results {
        match r {
            Ok(row) => rows.push(row),
            Err(d) if !global.quiet => eprintln!("{d}"),
            Err(_) => {}
        }
    }
    rows.sort_by(|x, y| x.0.front.id.cmp(&y.0.front.id));
    match global.format {
        Format::Json => {
            let items: Vec<serde_json::Value> = rows
                .iter()
                .map(|(t, clocks)| {
                    let f = &t.front;
                    serde_json::json!({
                        "id": f.id, "title": f.title, "customer": f.customer, "status": f.status,
                        "level": f.level, "priority": f.priority, "assignee": f.assignee,
                        "type": f.ticket_type, "path": t.path,
                        "unread": workflow::unread_reply(&f.events).is_some(),
                        "clocks": serde_json::to_value(clocks).unwrap_or_default(),
                    })
                })
                .collect();
            println!(
                "{}",
                serde_json::to_string_pretty(&items).unwrap_or_default()
            );
        }
        Format::Text => {
            for (t, _) in &rows {
                let f = &t.front;
                let unread = if workflow::unread_reply(&f.events).is_some() {
                    format!("  [{}]", tr!("inbox.unread"))
                } else {
                    String::new()
                };
                println!(
                    "{}  {:<17} L{}  {:<9} {:<10} {:<22} {}{unread}",
                    f.id,
                    f.status.as_str(),
                    f.level,
                    f.priority.as_deref().unwrap_or("-"),
                    f.assignee.as_deref().unwrap_or("-"),
                    f.customer,
                    f.title
                );
            }
            if !global.quiet {
                eprintln!("{}", tr!("cmd.listed", count = rows.len()));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
