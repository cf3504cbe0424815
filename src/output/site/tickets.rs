//! Ticket pages (internal build only): one page per ticket, rendered and written in one
//! parallel pass that also yields the small rows the indexes, reports and search need (the
//! full views are never held for all tickets at once), then the filterable indexes.

use super::context::{Link, Row, RowView, Site, TicketOut};
use super::paths::{case_file, catalog_file, incident_file, seg_path, ticket_file};
use crate::model::diag::{Diagnostic, Result};
use crate::model::text::intern;
use crate::model::ticket::{Event, Ticket};
use crate::output::report::{self, By, TicketFacts};
use crate::output::search::{Postings, TicketDoc};
use crate::rules::sla::{ClockState, ClockView};
use crate::rules::workflow;
use rayon::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// A JSON object of values moved in: `json!` serialises each value it is given, that is, copies
/// every string of a page's view once more and drops the original. The object is built from
/// the pairs at once (`Map::from_iter` sorts them and fills the B-tree in one pass), not by
/// one search-and-insert per key; the keys are written in alphabetical order, so the sort
/// finds them sorted.
macro_rules! obj {
    ($($key:literal: $value:expr),* $(,)?) => {
        Value::Object(serde_json::Map::from_iter([$(($key.to_string(), Value::from($value))),*]))
    };
}

/// A value `json!` would have serialised (a struct, a list of links).
fn ser<T: serde::Serialize>(value: T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Tickets per parallel work unit: each unit renders its tickets and indexes them for search
/// locally, so no ticket's text is kept after its page is written.
const CHUNK: usize = 1024;

/// Rows per ticket index page: a month of a busy desk stays a page a browser filters at once.
const PAGE_ROWS: usize = 2000;

/// Clock states from worst to best, for a ticket's overall SLA state.
fn severity(s: ClockState) -> u8 {
    match s {
        ClockState::Breached => 0,
        ClockState::AtRisk => 1,
        ClockState::Running => 2,
        ClockState::Paused => 3,
        ClockState::MetAfterExtension => 4,
        ClockState::Met => 5,
    }
}

fn worst(clocks: &[ClockView]) -> &'static str {
    clocks
        .iter()
        .map(|c| c.state)
        .min_by_key(|s| severity(*s))
        .map_or("none", |s| s.as_str())
}

fn sla_label(site: &Site, state: &str) -> String {
    if state == "none" {
        site.label("site.tickets.no_sla")
    } else {
        site.label(&format!("sla.state.{state}"))
    }
}

/// What the knowledge base pages need of a ticket (the articles it cites, how it is linked),
/// kept after the ticket itself is dropped.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct Cite {
    /// The same strings as the ticket's row (shared, see [`Cite::shared`]).
    pub id: Arc<str>,
    pub title: Arc<str>,
    pub url: Arc<str>,
    pub kb: Vec<String>,
}

impl Cite {
    pub fn of(t: &Ticket) -> Cite {
        Cite {
            id: t.front.id.as_str().into(),
            title: t.front.title.as_str().into(),
            url: seg_path(&ticket_file(t)).into(),
            kb: t.front.kb.clone(),
        }
    }

    /// This citation's strings taken by `row`, which holds the same ones (built from the same
    /// ticket): a million tickets kept each of them twice, and a search document's URL a
    /// third time.
    pub fn shared(&self, mut row: Row) -> Row {
        debug_assert!(*row.id == *self.id && *row.url == *self.url && *row.title == *self.title);
        row.id = self.id.clone();
        row.url = self.url.clone();
        row.title = self.title.clone();
        row
    }
}

/// What [`stream`] keeps of the tickets, in the order of their files: the pages are written and
/// the parsed tickets dropped chunk by chunk, so memory holds these small rows, never the desk.
pub(crate) struct Streamed {
    pub out: TicketOut,
    /// Ticket files (relative to the desk) that parsed, in the order of `out.rows` (internal
    /// build only).
    pub paths: Vec<PathBuf>,
    pub cites: Vec<Cite>,
    /// Each ticket's contribution to the reports (internal build only).
    pub facts: Vec<Option<TicketFacts>>,
    /// Each ticket's trend and load facts (internal build only).
    pub flow: Vec<super::flow::FlowFacts>,
    /// Tickets that could not be read or parsed (left out, as a full load leaves them out).
    pub unreadable: Vec<Diagnostic>,
}

/// An article's title and page, by id, for the ticket pages that cite it.
pub(crate) type ArticleLinks<'a> = dyn Fn(&str) -> Option<Link> + Sync + 'a;

/// Reads, parses, renders and writes every ticket page in parallel chunks, then drops the
/// ticket: returns rows, search documents and postings, citations and report facts. A public
/// build renders nothing and keeps only the citations (articles show how many tickets they
/// solved).
pub(crate) fn stream(site: &Site, files: &[PathBuf], links: &ArticleLinks) -> Result<Streamed> {
    let root = &site.desk.root;
    let internal = site.internal();
    #[derive(Default)]
    struct Part {
        rows: Vec<Row>,
        docs: Vec<TicketDoc>,
        postings: Postings,
        warnings: Vec<Diagnostic>,
        paths: Vec<PathBuf>,
        cites: Vec<Cite>,
        facts: Vec<Option<TicketFacts>>,
        flow: Vec<super::flow::FlowFacts>,
        unreadable: Vec<Diagnostic>,
    }
    let render = |chunk: &[PathBuf]| -> Result<Part> {
        let mut part = Part::default();
        // Each ticket opened relative to its month's folder, kept open for the chunk: a
        // whole-path open and `lstat` per ticket were a tenth of the build's system time.
        let mut reader = crate::model::scan::Reader::default();
        for abs in chunk {
            let rel = crate::model::load::rel(root, abs);
            let text = match abs.strip_prefix(root) {
                Ok(inside) => reader.text(root, inside),
                Err(_) => crate::model::front_matter::read_text(abs),
            };
            let parsed = text.and_then(|text| crate::model::ticket::parse(&rel, &text));
            let t = match parsed {
                Ok(t) => t,
                Err(d) => {
                    part.unreadable.push(d);
                    continue;
                }
            };
            let cite = Cite::of(&t);
            if !internal {
                part.cites.push(cite);
                continue;
            }
            let walked = Walked::of(site, &t);
            let (row, title, text, w) = one(site, &t, &walked, links)?;
            let row = cite.shared(row);
            part.cites.push(cite);
            // Numbered within the chunk; shifted when the chunks are joined.
            part.postings.add(part.rows.len() as u32, &title, &text);
            part.docs.push(search_doc(site, &row, title, &text));
            part.rows.push(row);
            part.warnings.extend(w);
            let (facts, flow) = walked.facts(site, &t);
            part.facts.push(facts);
            part.flow.push(flow);
            part.paths.push(t.path);
        }
        Ok(part)
    };
    let mut s = Streamed {
        out: TicketOut {
            rows: Vec::new(),
            docs: Vec::new(),
            postings: Postings::default(),
            warnings: Vec::new(),
        },
        paths: Vec::new(),
        cites: Vec::with_capacity(files.len()),
        facts: Vec::new(),
        flow: Vec::new(),
        unreadable: Vec::new(),
    };
    if internal {
        s.out.rows.reserve(files.len());
        s.out.docs.reserve(files.len());
        s.paths.reserve(files.len());
        s.facts.reserve(files.len());
        s.flow.reserve(files.len());
    }
    let join = |s: &mut Streamed, p: Part| {
        let offset = s.out.rows.len() as u32;
        s.out.rows.extend(p.rows);
        s.out.docs.extend(p.docs);
        s.out.postings.merge_shifted(p.postings, offset);
        s.out.warnings.extend(p.warnings);
        s.paths.extend(p.paths);
        s.cites.extend(p.cites);
        s.facts.extend(p.facts);
        s.flow.extend(p.flow);
        s.unreadable.extend(p.unreadable);
    };
    // Chunks are taken in file order from one counter and joined in that order as soon as
    // they are done, so only the chunks in flight are held apart (each with its own term
    // map: at a million tickets, holding every chunk until the end cost gigabytes).
    let chunks: Vec<&[PathBuf]> = files.chunks(CHUNK).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    struct Joined {
        s: Streamed,
        /// The next chunk to join, and the chunks done before it.
        at: usize,
        done: BTreeMap<usize, Result<Part>>,
        failed: Option<crate::model::diag::Error>,
    }
    let joined = std::sync::Mutex::new(Joined {
        s,
        at: 0,
        done: BTreeMap::new(),
        failed: None,
    });
    let stop = std::sync::atomic::AtomicBool::new(false);
    (0..rayon::current_num_threads().min(chunks.len()))
        .into_par_iter()
        .for_each(|_| loop {
            use std::sync::atomic::Ordering::Relaxed;
            let k = next.fetch_add(1, Relaxed);
            if k >= chunks.len() || stop.load(Relaxed) {
                break;
            }
            let part = render(chunks[k]);
            let mut j = joined.lock().unwrap_or_else(|e| e.into_inner());
            j.done.insert(k, part);
            loop {
                let at = j.at;
                let Some(p) = j.done.remove(&at) else { break };
                j.at += 1;
                match p {
                    Ok(p) => join(&mut j.s, p),
                    // The first failure in file order, as a sequential pass would stop.
                    Err(e) => {
                        j.failed.get_or_insert(e);
                        stop.store(true, Relaxed);
                    }
                }
            }
        });
    let j = joined.into_inner().unwrap_or_else(|e| e.into_inner());
    if let Some(e) = j.failed {
        return Err(e);
    }
    let mut s = j.s;
    // The lists grew by doubling as the chunks were joined: a third of their memory.
    s.out.postings.shrink_to_fit();
    Ok(s)
}

/// A ticket's log walked once up to the build's instant, and its clocks then: its page, its
/// report facts and its trend and load facts all read them (each walked the log again, four
/// walks and clock evaluations per ticket).
pub(super) struct Walked {
    walk: crate::rules::sla::Walk,
    clocks: Vec<ClockView>,
}

impl Walked {
    pub fn of(site: &Site, t: &Ticket) -> Walked {
        let walk = crate::rules::sla::walk(site.desk, &t.front, site.now);
        let clocks = crate::rules::sla::clocks_of_walk(site.desk, &site.cals, &walk, site.now);
        Walked { walk, clocks }
    }

    /// The ticket's report facts (by month) and its trend and load facts.
    pub fn facts(&self, site: &Site, t: &Ticket) -> (Option<TicketFacts>, super::flow::FlowFacts) {
        let (w, views) = (&self.walk, &self.clocks);
        (
            report::facts_of_walk(site.desk, &t.front, w, views, Some(By::Month), site.now),
            super::flow::facts_of_walk(&t.front, w, views, site.now),
        )
    }
}

/// A ticket as a search result.
pub(super) fn search_doc(site: &Site, row: &Row, title: String, text: &str) -> TicketDoc {
    TicketDoc {
        url: row.url.clone(),
        title,
        kind: intern(&format!(
            "{} · {} · {}",
            site.label("site.tickets.kind"),
            row.status_label,
            row.customer_name
        )),
        snippet: crate::output::search::truncate(text, 160),
    }
}

fn agent_name(site: &Site, code: &str) -> String {
    match code {
        "customer" => site.label("site.tickets.by_customer"),
        "mesa" => site.label("site.tickets.by_mesa"),
        c => site
            .desk
            .config
            .agent(c)
            .map_or(c.to_string(), |a| a.name.clone()),
    }
}

/// Renders one ticket's page; returns its row, its search title and text, and warnings.
pub(super) fn one(
    site: &Site,
    t: &Ticket,
    walked: &Walked,
    kb: &ArticleLinks,
) -> Result<(Row, String, String, Vec<Diagnostic>)> {
    let desk = site.desk;
    let cfg = &desk.config;
    let f = &t.front;
    let file = ticket_file(t);
    let abs = desk.root.join(&t.path);
    let mut warnings = Vec::new();
    let customer = cfg.customer(&f.customer);
    let rules = desk.rules();
    let (state, errors) = workflow::replay(rules, customer, &f.events);
    for e in &errors {
        warnings.push(Diagnostic::new(
            &t.path,
            0,
            0,
            site.cat.format(
                "site.tickets.rule_warning",
                &[("n", &(e.event + 1)), ("message", &e.message)],
            ),
        ));
    }
    let clocks = &walked.clocks;
    let sla = worst(clocks);
    let due = clocks
        .iter()
        .filter(|c| !c.stopped)
        .filter_map(|c| c.due.as_ref())
        .min();
    let status = state.status();
    let created = t.created_at();
    let created_local = created.map(|c| c.utc().with_timezone(&site.fmt.tz));
    let body = site.markdown(&t.body, &abs, 1, &file);
    if !body.broken.is_empty() {
        let offset = body_line(&abs) - 1;
        for mut d in body.broken.clone() {
            d.path = t.path.clone();
            d.line += offset;
            warnings.push(d);
        }
    }
    let prio = state.priority.as_deref().and_then(|p| cfg.priority(p));
    let row = Row {
        id: f.id.as_str().into(),
        url: seg_path(&file).into(),
        title: f.title.as_str().into(),
        customer: intern(&f.customer),
        // A case from an unknown sender has no customer until triage.
        customer_name: match customer {
            Some(c) => intern(&c.name),
            None if f.customer.is_empty() => intern(&site.label("site.tickets.no_customer")),
            None => intern(&f.customer),
        },
        status: status.as_str(),
        status_label: intern(&site.label(&format!("site.status.{}", status.as_str()))),
        priority: intern(state.priority.as_deref().unwrap_or_default()),
        priority_label: intern(&prio.map_or_else(
            || site.label("site.tickets.no_priority"),
            |p| p.name.clone(),
        )),
        level: state.level,
        assignee: intern(state.assignee.as_deref().unwrap_or_default()),
        assignee_name: intern(
            &state
                .assignee
                .as_deref()
                .map(|a| agent_name(site, a))
                .unwrap_or_else(|| site.label("site.tickets.no_assignee")),
        ),
        sla,
        sla_label: intern(&sla_label(site, sla)),
        sla_rank: clocks.iter().map(|c| severity(c.state)).min().unwrap_or(9),
        due: due.map(|d| d.fixed_offset()),
        created: created.map(|c| c.0),
        month: intern(
            &created_local
                .map(|c| c.format("%Y-%m").to_string())
                .unwrap_or_else(|| "0000-00".into()),
        ),
        open: status.is_open(),
        unread: workflow::unread_reply(&f.events).is_some(),
    };

    // The page.
    let mut ctx = site.context(&file, "tickets", &format!("{} · {}", f.id, f.title));
    let label_of = |list: &[crate::model::desk::Level3], id: &Option<String>| {
        id.as_ref().map(|id| {
            list.iter()
                .find(|l| &l.id == id)
                .map_or(id.clone(), |l| l.name.clone())
        })
    };
    let g = &cfg.priority_guidance;
    let incident = state.incident.as_deref().and_then(|i| desk.kb.incident(i));
    let request = state.request.as_deref().and_then(|r| desk.kb.request(r));
    let mut search_text = String::new();
    let events: Vec<serde_json::Value> = f
        .events
        .iter()
        .enumerate()
        .map(|(i, ev)| {
            let text = ev.text.as_deref().map(|x| site.markdown(x, &abs, 0, &file));
            if let Some(r) = &text {
                search_text.push(' ');
                search_text.push_str(&r.text);
            }
            let mail = sent_kind(ev).map(|k| site.label(&format!("site.mail.{}", k.as_str())));
            let pairs = details(site, ev, kb).into_iter().map(|(label, value)| {
                Value::Array(vec![Value::String(label), Value::String(value)])
            });
            obj! {
                "at": site.fmt.stamp(&ev.at),
                "at_iso": ev.at.to_string(),
                "broken": errors.iter().any(|e| e.event == i),
                "by": agent_name(site, &ev.by),
                "details": Value::Array(pairs.collect()),
                "kind": ev.event.as_str(),
                "kind_label": site.label(&format!("site.event.{}", ev.event.as_str())),
                "mail": mail,
                "message_id": ev.message_id.clone(),
                "n": i + 1,
                "text_html": text.map(|r| r.html),
            }
        })
        .collect();
    let emails: Vec<serde_json::Value> = f
        .events
        .iter()
        .filter_map(|ev| {
            sent_kind(ev).map(|k| {
                obj! {
                    "at": site.fmt.stamp(&ev.at),
                    "kind_label": site.label(&format!("site.mail.{}", k.as_str())),
                    "message_id": ev.message_id.clone(),
                }
            })
        })
        .collect();
    let clock_views: Vec<serde_json::Value> = clocks
        .iter()
        .map(|c| {
            let target_min = c.target.map(|d| d.minutes).unwrap_or(0);
            let pct = if target_min > 0 {
                c.used_minutes as f64 * 100.0 / target_min as f64
            } else {
                0.0
            };
            obj! {
                "bar": pct.clamp(0.0, 100.0).round() as i64,
                "calendar": cfg.calendar(&c.calendar).map_or(c.calendar.clone(), |k| k.name.clone()),
                "due": c.due.as_ref().map(|d| site.fmt.tz_datetime(d)),
                "due_iso": c.due.as_ref().map(|d| d.to_rfc3339()),
                "extended": c.extended,
                "has_target": target_min > 0,
                "left": site.fmt.minutes(c.left_minutes),
                "name": site.label(&format!("sla.clock.{}", match c.clock { crate::model::ticket::Clock::Response => "response", crate::model::ticket::Clock::Resolution => "resolution" })),
                "original_target": c.original_target.map(|d| site.fmt.duration(d)),
                "percent": site.fmt.percent(pct),
                "state": c.state.as_str(),
                "state_label": site.label(&format!("sla.state.{}", c.state.as_str())),
                "stopped": c.stopped,
                "stopped_at": c.stopped_at.as_ref().map(|d| site.fmt.tz_datetime(d)),
                "target": c.target.map(|d| site.fmt.duration(d)),
                "used": site.fmt.minutes(c.used_minutes),
                "waiting": c.waiting_on.as_ref().map(|w| site.cat.format("sla.waiting_on", &[
                    ("owner", &w.owner_name),
                    ("check", &w.check),
                    ("since", &site.fmt.tz_datetime(&w.since)),
                ])),
                "why": c.why.clone(),
            }
        })
        .collect();
    let owners = &cfg.playbook.owners;
    let checklist: Vec<serde_json::Value> = match &state.incident {
        Some(inc) => {
            let missing: Vec<&str> = workflow::missing_checks(rules, customer, &state)
                .iter()
                .map(|c| c.id.as_str())
                .collect();
            workflow::applicable_checks(rules, customer, inc)
                .iter()
                .enumerate()
                .map(|(n, c)| {
                    let result = state.checks.get(&c.id).map(|r| match r {
                        crate::model::ticket::CheckResult::Done => "done",
                        crate::model::ticket::CheckResult::Failed => "failed",
                        crate::model::ticket::CheckResult::Na => "na",
                    });
                    obj! {
                        "action": c.action.as_str(),
                        "level": c.level,
                        "missing": missing.contains(&c.id.as_str()),
                        "n": n + 1,
                        "owner": c.owner.as_str(),
                        "owner_label": owners.iter().find(|o| o.id == c.owner).map_or(c.owner.clone(), |o| o.name.clone()),
                        "result": result.unwrap_or("pending"),
                        "result_label": site.label(&format!("site.check.{}", result.unwrap_or("pending"))),
                    }
                })
                .collect()
        }
        None => Vec::new(),
    };
    let articles: Vec<Link> = state.kb.iter().filter_map(|k| kb(k)).collect();
    let strings = |v: Vec<String>| Value::Array(v.into_iter().map(Value::String).collect());
    let type_label = state.ticket_type.map(|t| {
        site.label(&format!(
            "site.type.{}",
            match t {
                crate::model::ticket::TicketType::Incident => "incident",
                crate::model::ticket::TicketType::Problem => "problem",
                crate::model::ticket::TicketType::Request => "request",
            }
        ))
    });
    let view = obj! {
        "articles": ser(articles),
        "assignee": row.assignee_name,
        "body_html": body.html,
        "channel": cfg.channel(&f.channel).map_or(f.channel.clone(), |c| c.name.clone()),
        "checklist": checklist,
        "clocks": clock_views,
        "close_reason": state.close_reason.map(|r| site.label(&format!("site.close.{}", r.as_str()))),
        "created": created.map(|c| site.fmt.stamp(&c)).unwrap_or_default(),
        "customer": customer.map(|c| obj! {
            "city": c.city.as_deref(),
            "contract": c.contract.code.as_str(),
            "extramural": c.extramural,
            "name": c.name.as_str(),
        }),
        "customer_id": f.customer.as_str(),
        "effort": label_of(&g.effort, &state.effort),
        "emails": emails,
        "events": events,
        "id": f.id.as_str(),
        "impact": label_of(&g.impact, &state.impact),
        "incident": incident.map(|(c, i)| ser(Link { title: i.title.clone(), url: seg_path(&incident_file(&c.id, &i.id)) })),
        "incident_case": incident.map(|(c, _)| ser(Link { title: c.front.title.clone(), url: seg_path(&case_file(&c.id)) })),
        "level": state.level,
        "level_role": cfg.level_role(state.level),
        "month": row.month,
        "next": strings(workflow::next_steps(&f.id, rules, customer, &state)),
        "priority": row.priority_label,
        "request": request.map(|r| ser(Link { title: r.front.title.clone(), url: seg_path(&catalog_file(&r.id)) })),
        "requester": ser(&f.requester),
        "rule_errors": strings(
            errors
                .iter()
                .map(|e| format!("#{}: {}", e.event + 1, e.message))
                .collect(),
        ),
        "sla": sla,
        "sla_label": row.sla_label,
        "status": status.as_str(),
        "status_label": row.status_label,
        "title": f.title.as_str(),
        "type_label": type_label,
        "urgency": label_of(&g.urgency, &state.urgency),
    };
    // Moved in, not serialised a second time.
    let mut data = serde_json::Map::new();
    data.insert("tk".into(), view);
    if let Ok(c) = tera::Context::from_value(serde_json::Value::Object(data)) {
        ctx.extend(c);
    }
    site.folded_page(&file, "ticket.html", &ctx)?;

    let title = format!("{} · {}", f.id, f.title);
    let text = format!("{}{} {}", body.text, search_text, row.customer_name);
    Ok((row, title, text, warnings))
}

/// File line where a ticket's body starts (read again only when a diagnostic needs it).
fn body_line(path: &std::path::Path) -> usize {
    crate::model::fsread::read_text(path)
        .ok()
        .and_then(|text| {
            let split = crate::model::front_matter::split(path, &text).ok()?;
            Some(split.yaml_line + split.yaml.lines().count() + 1)
        })
        .unwrap_or(1)
}

/// The event's own fields, as (label, value) pairs people read.
fn details(site: &Site, ev: &Event, kb: &ArticleLinks) -> Vec<(String, String)> {
    let cfg = &site.desk.config;
    let desk = site.desk;
    let mut out = Vec::new();
    let mut push =
        |key: &str, value: String| out.push((site.label(&format!("site.field.{key}")), value));
    if let Some(t) = ev.ticket_type {
        let k = match t {
            crate::model::ticket::TicketType::Incident => "incident",
            crate::model::ticket::TicketType::Problem => "problem",
            crate::model::ticket::TicketType::Request => "request",
        };
        push("type", site.label(&format!("site.type.{k}")));
    }
    if let Some(i) = &ev.incident {
        push(
            "incident",
            desk.kb
                .incident(i)
                .map_or(i.clone(), |(_, inc)| inc.title.clone()),
        );
    }
    if let Some(r) = &ev.request {
        push(
            "request",
            desk.kb
                .request(r)
                .map_or(r.clone(), |e| e.front.title.clone()),
        );
    }
    if let Some(c) = ev.cab {
        push("cab", site.label(if c { "site.yes" } else { "site.no" }));
    }
    if let Some(p) = &ev.priority {
        push(
            "priority",
            cfg.priority(p).map_or(p.clone(), |x| x.name.clone()),
        );
    }
    let g = &cfg.priority_guidance;
    for (key, v, list) in [
        ("impact", &ev.impact, &g.impact),
        ("urgency", &ev.urgency, &g.urgency),
        ("effort", &ev.effort, &g.effort),
    ] {
        if let Some(v) = v {
            push(
                key,
                list.iter()
                    .find(|l| &l.id == v)
                    .map_or(v.clone(), |l| l.name.clone()),
            );
        }
    }
    if let Some(d) = &ev.agreed_date {
        push("agreed_date", site.fmt.stamp(d));
    }
    if let Some(a) = &ev.agent {
        push("agent", agent_name(site, a));
    }
    if let Some(l) = ev.level {
        let role = cfg.level_role(l).unwrap_or("");
        push("level", format!("{l} · {role}"));
    }
    if let Some(c) = &ev.check {
        let action = desk
            .kb
            .playbook
            .iter()
            .flat_map(|p| p.front.incidents.iter())
            .flat_map(|i| i.checks.iter())
            .find(|k| &k.id == c)
            .map_or(c.clone(), |k| k.action.clone());
        push("check", action);
    }
    if let Some(o) = &ev.owner {
        let owners = &cfg.playbook.owners;
        let name = owners.iter().find(|x| &x.id == o);
        push("owner", name.map_or(o.clone(), |x| x.name.clone()));
    }
    if let Some(r) = ev.result {
        let k = match r {
            crate::model::ticket::CheckResult::Done => "done",
            crate::model::ticket::CheckResult::Failed => "failed",
            crate::model::ticket::CheckResult::Na => "na",
        };
        push("result", site.label(&format!("site.check.{k}")));
    }
    if let Some(c) = ev.complexity {
        let k = match c {
            crate::model::kb::Complexity::Low => "low",
            crate::model::kb::Complexity::Medium => "medium",
            crate::model::kb::Complexity::MediumHigh => "medium_high",
        };
        push("complexity", site.label(&format!("site.complexity.{k}")));
    }
    if let Some(q) = ev.quote {
        push("quote", site.label(if q { "site.yes" } else { "site.no" }));
    }
    if let Some(a) = ev.amount {
        let amount = crate::mail::compose::format_amount(a, site.fmt.lang());
        push(
            "amount",
            format!("{amount} {}", ev.currency.clone().unwrap_or_default())
                .trim()
                .to_string(),
        );
    }
    if let Some(r) = &ev.reason {
        push("reason", r.clone());
    }
    if let Some(r) = ev.close_reason {
        push(
            "close_reason",
            site.label(&format!("site.close.{}", r.as_str())),
        );
    }
    if let Some(c) = ev.clock {
        let k = match c {
            crate::model::ticket::Clock::Response => "response",
            crate::model::ticket::Clock::Resolution => "resolution",
        };
        push("clock", site.label(&format!("sla.clock.{k}")));
    }
    if let Some(t) = ev.target {
        push("target", site.fmt.duration(t));
    }
    if let Some(p) = ev.public {
        push("public", site.label(if p { "site.yes" } else { "site.no" }));
    }
    if let Some(k) = &ev.kb {
        push("kb", kb(k).map_or(k.clone(), |l| l.title));
    }
    // A customer email's sender, attachments and the earlier case it follows (ticket pages
    // are built for the internal site only).
    if let Some(f) = &ev.from {
        push("from", f.clone());
    }
    if !ev.attachments.is_empty() {
        let list: Vec<String> = ev
            .attachments
            .iter()
            .map(|a| {
                let size = site.fmt.size(a.bytes);
                if a.left_out {
                    format!("{} ({size}, {})", a.file, site.label("site.field.left_out"))
                } else {
                    format!("{} ({size})", a.file)
                }
            })
            .collect();
        push("attachments", list.join(" · "));
    }
    if let Some(r) = &ev.related {
        push("related", r.clone());
    }
    out
}

/// Which index pages an incremental rebuild renders again: the pages showing one of `ids`,
/// and every page of the lists in `whole` (file stems such as `tickets/index`) whose
/// membership changed.
pub struct IndexOnly {
    pub ids: std::collections::HashSet<String>,
    pub whole: std::collections::HashSet<String>,
}

/// The ticket indexes: open tickets on `tickets/index.html`, every ticket by month of
/// creation on `tickets/YYYY-MM.html`, each with the same client-side filters. With `only`,
/// just the pages it selects.
pub fn index_pages(site: &Site, out: &TicketOut, only: Option<&IndexOnly>) -> Result<()> {
    let mut months: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for r in &out.rows {
        months.entry(r.month).or_default().push(r);
    }
    let counts = months.iter().map(|(m, rows)| (*m, rows.len())).collect();
    let open = out.rows.iter().filter(|r| r.open).collect();
    index_pages_of(site, &counts, months, Some(open), only)
}

/// [`index_pages`] from the rows of some months (each complete) and of the open list (all or
/// none), with every month's count: what an incremental build reads of 100,000 rows to render
/// the pages that show a changed ticket (pages of months or lists not given are not written).
pub(crate) fn index_pages_of<'r>(
    site: &Site,
    counts: &BTreeMap<&str, usize>,
    months: BTreeMap<&str, Vec<&'r Row>>,
    open: Option<Vec<&'r Row>>,
    only: Option<&IndexOnly>,
) -> Result<()> {
    let month_title = |m: &str| {
        let (y, mo) = m.split_once('-').unwrap_or(("0", "0"));
        site.fmt
            .month(y.parse().unwrap_or(0), mo.parse().unwrap_or(1))
    };
    let month_links: Vec<serde_json::Value> = counts
        .iter()
        .rev()
        .map(|(m, n)| {
            json!({"url": format!("tickets/{m}.html"), "key": m, "title": month_title(m),
                   "count": site.fmt.int(*n as i64)})
        })
        .collect();
    // Newest first by the creation text (its own offset), a stable sort as before; the rows
    // keep instants, so the texts are made here, once a row, and handed to the page.
    let sorted = |rows: Vec<&'r Row>| -> Keyed<'r> {
        let mut keyed: Keyed = rows.into_iter().map(|r| (r.created_iso(), r)).collect();
        keyed.sort_by(|a, b| b.0.cmp(&a.0));
        keyed
    };
    let mut lists: Vec<(String, String, Keyed)> = Vec::new();
    if let Some(open) = open {
        lists.push((
            "tickets/index".into(),
            site.label("site.tickets.open_title"),
            sorted(open),
        ));
    }
    // (file stem, title, rows); long lists are split into pages of PAGE_ROWS.
    for (m, rows) in months {
        let title = site
            .cat
            .format("site.tickets.month_title", &[("month", &month_title(m))]);
        lists.push((format!("tickets/{m}"), title, sorted(rows)));
    }
    type Page<'p, 'r> = (
        String,
        String,
        &'p [(String, &'r Row)],
        serde_json::Value,
        usize,
    );
    let mut pages: Vec<Page> = Vec::new();
    for (stem, title, rows) in &lists {
        let n = rows.len().div_ceil(PAGE_ROWS).max(1);
        let file = |i: usize| {
            if i == 0 {
                format!("{stem}.html")
            } else {
                format!("{stem}-{}.html", i + 1)
            }
        };
        let nav: Vec<serde_json::Value> = (0..n)
            .map(|i| json!({"url": file(i), "n": i + 1}))
            .collect();
        for i in 0..n {
            let part =
                &rows[(i * PAGE_ROWS).min(rows.len())..((i + 1) * PAGE_ROWS).min(rows.len())];
            let title = if n > 1 {
                site.cat.format(
                    "site.tickets.page_title",
                    &[("title", title), ("n", &(i + 1)), ("of", &n)],
                )
            } else {
                title.clone()
            };
            let nav = if n > 1 { json!(nav) } else { json!([]) };
            let wanted = only.is_none_or(|o| {
                o.whole.contains(stem) || part.iter().any(|(_, r)| o.ids.contains(&*r.id))
            });
            if wanted {
                pages.push((file(i), title, part, nav, rows.len()));
            }
        }
    }
    site.progress.add_total(pages.len() as u64);
    pages
        .par_iter()
        .try_for_each(|(file, title, rows, nav, total)| {
            let mut ctx = site.context(file, "tickets", title);
            let views: Vec<RowView> = rows
                .iter()
                .map(|(created_iso, row)| RowView {
                    row,
                    created_iso: created_iso.clone(),
                    fmt: &site.fmt,
                })
                .collect();
            ctx.insert("rows", &views);
            drop(views);
            let rows: Vec<&Row> = rows.iter().map(|(_, r)| *r).collect();
            ctx.insert("months", &month_links);
            ctx.insert("pages", nav);
            ctx.insert("filters", &filters(site, &rows));
            ctx.insert("total", &site.fmt.int(*total as i64));
            ctx.insert("shown", &site.fmt.int(rows.len() as i64));
            site.page(file, "tickets_index.html", &ctx)
        })
}

/// Rows with their creation text ([`Row::created_iso`]), sorted by it.
type Keyed<'r> = Vec<(String, &'r Row)>;

/// The values each filter offers on one index page (only those present in its rows).
fn filters(site: &Site, rows: &[&Row]) -> serde_json::Value {
    let mut status: BTreeMap<usize, (&str, &str)> = BTreeMap::new();
    let mut priority: BTreeMap<usize, (&str, &str)> = BTreeMap::new();
    let mut level: BTreeMap<u8, String> = BTreeMap::new();
    let mut customer: BTreeMap<&str, &str> = BTreeMap::new();
    let mut assignee: BTreeMap<&str, &str> = BTreeMap::new();
    let mut sla: BTreeMap<&str, &str> = BTreeMap::new();
    for r in rows {
        let si = crate::model::ticket::Status::ALL
            .iter()
            .position(|s| s.as_str() == r.status)
            .unwrap_or(99);
        status.insert(si, (r.status, r.status_label));
        let pi = site
            .desk
            .config
            .priorities
            .iter()
            .position(|p| p.id == r.priority)
            .unwrap_or(99);
        priority.insert(pi, (r.priority, r.priority_label));
        level.insert(r.level, r.level.to_string());
        customer.insert(r.customer, r.customer_name);
        assignee.insert(r.assignee, r.assignee_name);
        sla.insert(r.sla, r.sla_label);
    }
    let pairs = |it: Vec<(String, String)>| -> Vec<serde_json::Value> {
        it.into_iter()
            .map(|(v, l)| json!({"value": v, "label": l}))
            .collect()
    };
    json!({
        "status": pairs(status.values().map(|(v, l)| (v.to_string(), l.to_string())).collect()),
        "priority": pairs(priority.values().map(|(v, l)| (v.to_string(), l.to_string())).collect()),
        "level": pairs(level.iter().map(|(v, l)| (v.to_string(), l.clone())).collect()),
        "customer": pairs(customer.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect()),
        "assignee": pairs(assignee.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect()),
        "sla": pairs(sla.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect()),
    })
}

/// The email an event sent: a priority change sends one only when it moved the promised time,
/// which its recorded Message-ID shows.
fn sent_kind(ev: &crate::model::ticket::Event) -> Option<crate::mail::compose::MailKind> {
    use crate::mail::compose::MailKind;
    MailKind::for_event(ev).filter(|k| *k != MailKind::PriorityChange || ev.message_id.is_some())
}
