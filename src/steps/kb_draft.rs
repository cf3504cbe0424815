//! `mesa kb new --from-ticket ID`: the manual asks the desk to build its knowledge base from
//! what it solves. This drafts an article from a solved ticket (its symptom, the playbook
//! checks and their results, and the solution), and links both ways in one git commit: the
//! article's `from_tickets` names the ticket, and a `linked` event adds the article to the
//! ticket's `kb` list.
//!
//! Drafts are `internal: true`: a ticket's description can carry the customer's details, so a
//! person reviews the text before publishing it. The article's text is in the desk's language.

use crate::model::diag::{Error, Result};
use crate::model::i18n::Catalog;
use crate::model::kb::{ArticleFront, ArticleKind, Page};
use crate::model::load::Desk;
use crate::model::ticket::{CheckResult, Event, EventKind, Stamp, Status, Ticket, TicketType};
use crate::rules::workflow;
use crate::tr;
use std::path::PathBuf;

/// What to draft, beyond the ticket.
#[derive(Debug, Clone, Default)]
pub struct DraftOptions {
    pub slug: Option<String>,
    pub title: Option<String>,
    pub category: Option<String>,
}

/// A drafted article.
#[derive(Debug, Clone)]
pub struct Draft {
    pub id: String,
    /// Relative to the desk: `kb/articles/<id>.md`.
    pub path: PathBuf,
    pub front: ArticleFront,
    pub body: String,
}

impl Draft {
    pub fn to_text(&self) -> String {
        let yaml = serde_yaml::to_string(&self.front).unwrap_or_default();
        format!("---\n{yaml}---\n{}", self.body)
    }
}

/// The latest solution of a solved ticket, or why there is none.
fn solution(desk: &Desk, ticket: &Ticket) -> Result<Event> {
    let f = &ticket.front;
    let customer = desk.config.customer(&f.customer);
    let (state, _) = workflow::replay(desk.rules(), customer, &f.events);
    let solved = matches!(state.status(), Status::Resolved | Status::Closed);
    match f
        .events
        .iter()
        .rev()
        .find(|e| e.event == EventKind::Resolved)
    {
        Some(ev) if solved => Ok(ev.clone()),
        _ => Err(Error::Message(tr!(
            "kbnew.not_solved",
            id = f.id,
            status = state.status()
        ))),
    }
}

/// Lowercase letters, digits and `-`: what kb file names may be.
fn valid_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn slug_taken(desk: &Desk, slug: &str) -> bool {
    desk.kb.article(slug).is_some()
        || desk
            .root
            .join("kb/articles")
            .join(format!("{slug}.md"))
            .exists()
}

/// An unused article id from `title`, at most 60 characters, cut at a word.
fn free_slug(desk: &Desk, title: &str) -> String {
    let mut base = crate::model::text::slug(title);
    if base.len() > 60 {
        let cut = base[..60].rfind('-').unwrap_or(60);
        base.truncate(cut);
    }
    if !slug_taken(desk, &base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|s| !slug_taken(desk, s))
        .expect("an unused suffix exists")
}

/// A Markdown table cell: one line, no unescaped pipes.
fn cell(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('|', "\\|")
}

/// The first sentence of `text` (up to 200 characters), for the summary.
fn first_sentence(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = flat
        .char_indices()
        .find(|(i, c)| matches!(c, '.' | '!' | '?') && flat[i + 1..].starts_with(' '))
        .map(|(i, _)| i + 1)
        .unwrap_or(flat.len());
    let mut s: String = flat[..end].chars().take(200).collect();
    if s.chars().count() < flat[..end].chars().count() {
        s.push('…');
    }
    s
}

/// Drafts the article for a solved ticket (nothing is written).
pub fn draft(
    desk: &Desk,
    ticket: &Ticket,
    opts: &DraftOptions,
    today: chrono::NaiveDate,
) -> Result<Draft> {
    let f = &ticket.front;
    let solved = solution(desk, ticket)?;
    let already: Vec<&str> = desk
        .kb
        .articles
        .iter()
        .filter(|a| a.front.from_tickets.iter().any(|t| t == &f.id))
        .map(|a| a.id.as_str())
        .collect();
    if let Some(a) = already.first() {
        return Err(Error::Message(tr!("kbnew.already", id = f.id, article = a)));
    }
    let id = match &opts.slug {
        Some(s) => {
            if !valid_slug(s) {
                return Err(Error::Usage(tr!("kbnew.bad_slug", slug = s)));
            }
            if slug_taken(desk, s) {
                return Err(Error::Message(tr!("kbnew.slug_taken", slug = s)));
            }
            s.clone()
        }
        None => free_slug(desk, opts.title.as_deref().unwrap_or(&f.title)),
    };
    // The article speaks the desk's language, whatever language the CLI talks.
    let cat = Catalog::load(&desk.config.language, Some(&desk.root));
    let t = |key: &str| cat.get(&format!("kbnew.{key}"));

    let incident = f.incident.as_deref().and_then(|i| desk.kb.incident(i));
    let request = f.request.as_deref().and_then(|r| desk.kb.request(r));
    let category = opts
        .category
        .clone()
        .or_else(|| incident.map(|(case, _)| case.front.title.clone()))
        .or_else(|| request.map(|r| r.front.title.clone()))
        .unwrap_or_else(|| t("default_category"));
    let mut tags: Vec<String> = Vec::new();
    if let Some(i) = &f.incident {
        tags.push(i.clone());
    }
    if let Some(r) = &f.request {
        tags.push(r.clone());
    }
    if let Some(tt) = f.ticket_type {
        tags.push(
            t(match tt {
                TicketType::Incident => "tag_incident",
                TicketType::Problem => "tag_problem",
                TicketType::Request => "tag_request",
            })
            .to_string(),
        );
    }
    let solution_text = solved.text.clone().unwrap_or_default();
    let front = ArticleFront {
        title: opts.title.clone().unwrap_or_else(|| f.title.clone()),
        kind: ArticleKind::Article,
        category,
        tags,
        summary: first_sentence(&solution_text),
        internal: true,
        date: Some(today),
        from_tickets: vec![f.id.clone()],
    };

    let mut body = String::new();
    body.push_str(&format!("> {}\n\n", t("draft_note")));
    body.push_str(&format!("## {}\n\n", t("symptom")));
    let description = ticket.body.trim();
    body.push_str(if description.is_empty() {
        f.title.as_str()
    } else {
        description
    });
    body.push_str("\n\n");
    if let Some((case, inc)) = incident {
        let customer = desk.config.customer(&f.customer);
        let checks = workflow::applicable_checks(desk.rules(), customer, &inc.id);
        body.push_str(&format!("## {}\n\n", t("checks")));
        body.push_str(&cat.format(
            "kbnew.checks_intro",
            &[
                ("incident", &inc.title),
                ("link", &format!("../playbook/{}.md", case.id)),
                ("case", &case.front.title),
            ],
        ));
        body.push_str("\n\n");
        body.push_str(&format!(
            "| {} | {} | {} |\n|---|---|---|\n",
            t("col_check"),
            t("col_owner"),
            t("col_result")
        ));
        for c in checks {
            let owner = desk
                .config
                .playbook
                .owners
                .iter()
                .find(|o| o.id == c.owner)
                .map_or(c.owner.as_str(), |o| o.name.as_str());
            let result = match f.checks.get(&c.id) {
                Some(CheckResult::Done) => t("result_done"),
                Some(CheckResult::Failed) => t("result_failed"),
                Some(CheckResult::Na) => t("result_na"),
                None => t("result_none"),
            };
            body.push_str(&format!(
                "| {} | {} | {} |\n",
                cell(&c.action),
                cell(owner),
                cell(&result)
            ));
        }
        body.push('\n');
    } else if let Some(r) = request {
        body.push_str(&format!("## {}\n\n", t("request")));
        body.push_str(&cat.format(
            "kbnew.request_line",
            &[
                ("title", &r.front.title),
                ("link", &format!("../catalog/{}.md", r.id)),
            ],
        ));
        body.push_str("\n\n");
    }
    body.push_str(&format!("## {}\n\n", t("solution")));
    body.push_str(solution_text.trim());
    body.push('\n');
    let related: Vec<&str> =
        f.kb.iter()
            .map(String::as_str)
            .filter(|k| *k != id)
            .collect();
    if !related.is_empty() {
        body.push_str(&format!("\n## {}\n\n", t("see_also")));
        for k in related {
            let title = desk.kb.article(k).map_or(k, |a| a.front.title.as_str());
            body.push_str(&format!("- [{title}]({k}.md)\n"));
        }
    }
    Ok(Draft {
        path: PathBuf::from(format!("kb/articles/{id}.md")),
        id,
        front,
        body,
    })
}

/// What `kb new` did.
pub struct Created {
    pub draft: Draft,
    pub ticket: Ticket,
    pub commit: Option<git2::Oid>,
}

/// Drafts the article, records the `linked` event on the ticket, writes both files and commits
/// them as one commit (unless `commit` is false). Nothing is written when anything is refused.
pub fn create_from_ticket(
    desk: &Desk,
    ticket: Ticket,
    opts: &DraftOptions,
    by: &str,
    author: &crate::store::git::Author,
    commit: bool,
) -> Result<Created> {
    let now = Stamp(author.at);
    let draft = draft(desk, &ticket, opts, now.0.date_naive())?;
    // The workflow checks the link against a knowledge base that has the new article.
    let mut with_article = desk.clone();
    with_article.kb.add_article(Page {
        id: draft.id.clone(),
        path: draft.path.clone(),
        front: draft.front.clone(),
        body: draft.body.clone(),
        body_line: 1,
    });
    let mut ev = Event::new(now, by, EventKind::Linked);
    ev.kb = Some(draft.id.clone());
    let article = crate::store::git::Change {
        path: desk.root.join(&draft.path),
        contents: draft.to_text().into_bytes(),
    };
    let message = format!(
        "{}: {}",
        ticket.front.id,
        tr!("kbnew.commit_message", article = draft.id)
    );
    let rec = super::record_with_files(
        &with_article,
        ticket,
        vec![ev],
        vec![article],
        &message,
        author,
        commit,
    )?;
    let (ticket, commit) = (rec.ticket, rec.commit);
    Ok(Created {
        draft,
        ticket,
        commit,
    })
}
