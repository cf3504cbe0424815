//! The life-cycle commands: one per step of the manual. Each parses its arguments into a
//! [`steps::Step`], calls the steps API, and prints the [`steps::Outcome`] in the chosen format
//! and language. The rules and the writing are in [`crate::steps`] and [`crate::rules`].

use super::common::{open_desk, parse_stamp, Common, Format, Global};
use crate::model::diag::{Error, Result};
use crate::model::kb::Complexity;
use crate::model::load::Desk;
use crate::model::ticket::{CheckResult, CloseReason, TicketType};
use crate::steps::{self, Classification, Options, Outcome, PriorityInput, Reception, Step};
use crate::tr;
use clap::{Args, Subcommand, ValueEnum};
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

/// The life-cycle commands, flattened into `mesa`'s own subcommands by `main.rs`.
#[derive(Debug, Subcommand)]
pub enum TicketCommand {
    /// Reception: create a ticket, print its case number and promised time, queue the acknowledgement.
    #[command(visible_alias = "nuevo")]
    New(Box<NewArgs>),
    /// Analysis: incident, problem or request (with its playbook incident or catalog entry).
    #[command(visible_alias = "clasificar")]
    Classify(Box<ClassifyArgs>),
    /// Assign the ticket to an agent.
    #[command(visible_alias = "asignar")]
    Assign(AssignArgs),
    /// Set the priority; impact, urgency and effort suggest one, an override needs --reason.
    #[command(visible_alias = "prioridad")]
    Priority(Box<PriorityArgs>),
    /// Record a playbook check: done, failed or na. When one owned by the customer fails and the
    /// desk pauses for it (sla.pause_on_customer_checks), the clocks wait until the customer acts.
    #[command(visible_alias = "verificar")]
    Verify(VerifyArgs),
    /// Escalate one level up (or to a level reachable directly, e.g. 5).
    #[command(visible_alias = "escalar")]
    Escalate(EscalateArgs),
    /// Start working on the solution (analysis -> in progress).
    #[command(visible_alias = "iniciar")]
    Start(SimpleArgs),
    /// The change advisory board's decision: complexity and whether a quote is needed.
    Cab(CabArgs),
    /// Email the proposal or quote to the customer.
    #[command(visible_alias = "proponer")]
    Propose(ProposeArgs),
    /// The customer accepts the proposal or quote.
    #[command(visible_alias = "aceptar")]
    Accept(SimpleArgs),
    /// The customer declines the proposal or quote (the ticket closes).
    #[command(visible_alias = "declinar")]
    Decline(SimpleArgs),
    /// Solution notice: record the solution and email it.
    #[command(visible_alias = "resolver")]
    Resolve(ResolveArgs),
    /// Record the phone call that notified the solution.
    #[command(visible_alias = "llamada")]
    Call(SimpleArgs),
    /// The customer confirms the solution (the ticket closes).
    #[command(visible_alias = "confirmar")]
    Confirm(SimpleArgs),
    /// The customer rejects the solution (the ticket reopens).
    #[command(visible_alias = "rechazar")]
    Reject(RejectArgs),
    /// Close by mutual agreement or as not applicable.
    #[command(visible_alias = "cerrar")]
    Close(CloseArgs),
    /// Extend an estimated resolution target, with a reason.
    #[command(visible_alias = "ampliar")]
    Extend(ExtendArgs),
    /// Add a comment: internal, or to the customer with --public.
    #[command(visible_alias = "comentar")]
    Comment(CommentArgs),
    /// End a wait on the customer's side (a failed check it owns) by hand: the clocks run again.
    #[command(visible_alias = "reanudar")]
    Resume(ResumeArgs),
    /// Show a ticket: status, level, checks, clocks, emails, next step.
    #[command(visible_alias = "ver")]
    Show(super::view::ShowArgs),
    /// List tickets, filtered.
    #[command(visible_alias = "listar")]
    List(Box<super::view::ListArgs>),
    /// Follow-ups and auto-closes that are due, and SLA warnings (for cron or CI).
    Sweep(super::sweep::SweepArgs),
    /// Create a new desk in a new git repository: your organisation's own, empty (asks on a
    /// terminal for what the options leave out), or the sample desk with --sample.
    Init(super::setup::InitArgs),
    /// Set up this clone: merge driver for tickets and the pre-commit check.
    Hooks(super::setup::HooksArgs),
    /// Git merge driver for ticket files (installed by `mesa hooks install`).
    #[command(hide = true)]
    MergeTicket(super::setup::MergeArgs),
}

/// Runs one life-cycle command.
pub fn run(global: &Global, cmd: TicketCommand) -> Result<ExitCode> {
    use TicketCommand as C;
    // Commands that write hold the desk lock from before they read the ticket until they are
    // done; taking it repairs what a killed command left (and says so).
    let writes = !matches!(
        cmd,
        C::Show(_) | C::List(_) | C::Init(_) | C::Hooks(_) | C::MergeTicket(_) | C::Sweep(_)
    );
    let _lock = if writes {
        Some(super::common::lock_desk(global)?)
    } else {
        None
    };
    match cmd {
        C::New(a) => new(global, *a),
        C::Classify(a) => {
            let (id, common) = (a.id.clone(), a.common.clone());
            step(global, &id, &common, |_| {
                Ok(Step::Classify {
                    classification: Classification {
                        ticket_type: a.ticket_type.into(),
                        incident: a.incident,
                        request: a.request,
                        cab: a.cab.map(bool::from),
                    },
                    priority: a.prio.input()?,
                })
            })
        }
        C::Assign(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Assign { to: a.to.clone() })
        }),
        C::Priority(a) => {
            let (id, common) = (a.id.clone(), a.common.clone());
            step(global, &id, &common, |_| {
                let mut p = a.prio.input()?;
                if p.priority.is_none() {
                    p.priority = a.value;
                }
                Ok(Step::Prioritize(p))
            })
        }
        C::Verify(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Verify {
                check: a.step.clone(),
                result: match a.result {
                    ResultArg::Done => CheckResult::Done,
                    ResultArg::Failed => CheckResult::Failed,
                    ResultArg::Na => CheckResult::Na,
                },
                note: a.note.clone(),
            })
        }),
        C::Escalate(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Escalate {
                to: a.to,
                reason: a.reason.clone(),
                assign: a.assign.clone(),
            })
        }),
        C::Start(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Start {
                note: a.note.clone(),
            })
        }),
        C::Cab(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Cab {
                complexity: a.complexity.map(|c| match c {
                    ComplexityArg::Low => Complexity::Low,
                    ComplexityArg::Medium => Complexity::Medium,
                    ComplexityArg::MediumHigh => Complexity::MediumHigh,
                }),
                quote: a.quote.map(bool::from),
                note: a.note.clone(),
            })
        }),
        C::Propose(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Propose {
                text: a.text.clone(),
                amount: a.amount,
                currency: a.currency.clone(),
            })
        }),
        C::Accept(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Accept {
                note: a.note.clone(),
            })
        }),
        C::Decline(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Decline {
                note: a.note.clone(),
            })
        }),
        C::Resolve(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Resolve {
                solution: a.solution.clone(),
                kb: a.kb.clone(),
            })
        }),
        C::Call(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Call {
                note: a.note.clone(),
            })
        }),
        C::Confirm(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Confirm {
                note: a.note.clone(),
            })
        }),
        C::Resume(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Resume {
                reason: a.reason.clone(),
            })
        }),
        C::Reject(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Reject {
                reason: a.reason.clone(),
            })
        }),
        C::Close(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Close {
                reason: match a.reason {
                    CloseReasonArg::MutualAgreement => CloseReason::MutualAgreement,
                    CloseReasonArg::NotApplicable => CloseReason::NotApplicable,
                    CloseReasonArg::AutoConfirmed => CloseReason::AutoConfirmed,
                },
                note: a.note.clone(),
            })
        }),
        C::Extend(a) => step(global, &a.id, &a.common, |_| {
            let to = a.to.parse().map_err(|e: String| {
                Error::Usage(tr!("cmd.bad_duration", value = a.to, error = e))
            })?;
            Ok(Step::Extend {
                to,
                reason: a.reason.clone(),
            })
        }),
        C::Comment(a) => step(global, &a.id, &a.common, |_| {
            Ok(Step::Comment {
                text: a.text.clone(),
                public: a.public,
            })
        }),
        C::Show(a) => super::view::show(global, &a.id),
        C::List(a) => super::list::list(global, &a),
        C::Sweep(a) => super::sweep::run(global, a),
        C::Init(a) => super::setup::init(global, a),
        C::Hooks(a) => super::setup::hooks(global, a),
        C::MergeTicket(a) => super::setup::merge_driver(global, a),
    }
}

// ---------------------------------------------------------------------------------------------
// Arguments

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
    /// The agent of the target level who takes the case (default: the least loaded one).
    #[arg(long)]
    pub assign: Option<String>,
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
pub struct ResumeArgs {
    pub id: String,
    /// Why the desk stops waiting on the customer.
    #[arg(long)]
    pub reason: String,
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

impl PriorityFields {
    /// The fields as the steps API takes them.
    fn input(&self) -> Result<PriorityInput> {
        Ok(PriorityInput {
            priority: self.priority.clone(),
            impact: self.impact.clone(),
            urgency: self.urgency.clone(),
            effort: self.effort.clone(),
            reason: self.reason.clone(),
            agreed_date: self.agreed_date.as_deref().map(parse_stamp).transpose()?,
        })
    }
}

/// One step on an existing ticket: open the desk, build the step, apply it, print the outcome.
fn step(
    global: &Global,
    id: &str,
    common: &Common,
    build: impl FnOnce(&Desk) -> Result<Step>,
) -> Result<ExitCode> {
    let (desk, now) = open_desk(global)?;
    let agent = steps::resolve_actor(&desk, global.agent.as_deref())?;
    let step = build(&desk)?;
    let is_priority = matches!(step, Step::Prioritize(_));
    let outcome = steps::apply(
        &desk,
        id,
        step,
        agent,
        now,
        Options {
            commit: !common.no_commit,
        },
    )?;
    warn_log_problems(global, &outcome);
    if is_priority && !global.quiet && global.format == Format::Text {
        if let Some(s) = &outcome.suggested_priority {
            eprintln!("{}", tr!("cmd.priority_suggested", priority = s));
        }
    }
    Ok(print_outcome(global, &outcome, serde_json::json!({})))
}

/// Rule errors already in a ticket's log (e.g. after a merge), as warnings.
fn warn_log_problems(global: &Global, o: &Outcome) {
    if global.quiet {
        return;
    }
    for e in &o.log_problems {
        eprintln!(
            "{}",
            tr!(
                "cmd.log_problem",
                path = o.ticket.path.display(),
                event = e.event,
                message = e.message
            )
        );
    }
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
    let (desk, now) = open_desk(global)?;
    let agent = steps::resolve_actor(&desk, global.agent.as_deref())?;
    if a.ticket_type.is_none() && (a.incident.is_some() || a.request.is_some()) {
        return Err(Error::Usage(tr!("cmd.type_needed")));
    }
    let requester = steps::parse_requester(&a.requester, a.phone.clone())?;
    let reception = Reception {
        channel: a.channel.clone(),
        customer: a.customer.clone(),
        requester,
        title: a.title.clone(),
        description: description(&a)?,
        classification: a.ticket_type.map(|t| Classification {
            ticket_type: t.into(),
            incident: a.incident.clone(),
            request: a.request.clone(),
            cab: a.cab.map(bool::from),
        }),
        priority: a.prio.input()?,
    };
    let outcome = steps::open_ticket(
        &desk,
        reception,
        agent,
        now,
        Options {
            commit: !a.common.no_commit,
        },
    )?;
    let lang = crate::model::i18n::active().lang.clone();
    let promised_text = outcome
        .promised
        .map(|d| crate::rules::sla::human_datetime(&d, &lang));
    if global.format == Format::Text {
        if let Some(p) = &promised_text {
            println!(
                "{}",
                tr!("cmd.promised", id = outcome.ticket.front.id, when = p)
            );
        }
    }
    Ok(print_outcome(
        global,
        &outcome,
        serde_json::json!({ "promised": outcome.promised.map(|d| d.to_rfc3339()), "promised_text": promised_text }),
    ))
}

/// Prints the outcome of a step: what happened, the state, the next steps.
fn print_outcome(global: &Global, rec: &Outcome, extra: serde_json::Value) -> ExitCode {
    let what = &rec.what;
    let next = &rec.next;
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
                        status = crate::model::labels::status(f.status),
                        level = f.level,
                        commit = commit
                    )
                );
                for m in &rec.message_ids {
                    println!("  {}", tr!("cmd.email_queued", id = m));
                }
                for n in next {
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
