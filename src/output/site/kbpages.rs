//! The pages built from the knowledge base and desk.yaml: home, kb index and tags, articles,
//! announcements and trainings, playbook cases and incidents, request catalog, and the
//! manual's tables (contact channels, escalation matrix, priorities with calendars).

use super::context::{rel_diags, Link, Site, TicketOut};
use super::paths::*;
use super::tickets::Cite;
use crate::model::diag::{Diagnostic, Result};
use crate::model::kb::{ArticleKind, CabRule, Complexity, QuoteRule};
use crate::model::load::Desk;
use crate::output::markdown::{self, LinkTarget, TocEntry};
use crate::output::search::Doc;
use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

/// Where each kb file's links lead: its page, or nowhere in this build (internal articles of
/// a public build).
pub fn link_targets(desk: &Desk, public: bool) -> HashMap<PathBuf, LinkTarget> {
    let mut m = HashMap::new();
    for a in &desk.kb.articles {
        let t = if public && a.front.internal {
            LinkTarget::Omitted
        } else {
            LinkTarget::Page(seg_path(&article_file(&a.id)))
        };
        m.insert(a.path.clone(), t);
    }
    for c in &desk.kb.catalog {
        m.insert(
            c.path.clone(),
            LinkTarget::Page(seg_path(&catalog_file(&c.id))),
        );
    }
    for c in &desk.kb.playbook {
        m.insert(
            c.path.clone(),
            LinkTarget::Page(seg_path(&case_file(&c.id))),
        );
    }
    m
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ArticleView {
    pub id: String,
    pub url: String,
    pub title: String,
    #[serde(deserialize_with = "super::context::interned")]
    pub kind: &'static str,
    pub kind_label: String,
    pub category: String,
    pub category_anchor: String,
    pub tags: Vec<Link>,
    pub summary: String,
    pub date: Option<String>,
    pub date_iso: Option<String>,
    pub upcoming: bool,
    pub updated: Option<String>,
    pub updated_iso: Option<String>,
    pub author: Option<String>,
    pub internal: bool,
    pub solved: usize,
    pub cited_by: Vec<Link>,
    pub html: String,
    pub toc: Vec<TocEntry>,
    #[serde(skip)]
    pub text: String,
    #[serde(skip)]
    pub sort_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CatalogView {
    pub id: String,
    pub url: String,
    pub title: String,
    pub order: u32,
    pub complexity: &'static str,
    pub complexity_label: String,
    pub cab: &'static str,
    pub cab_label: String,
    pub quote: &'static str,
    pub quote_label: String,
    pub ans: String,
    pub ans_minutes: i64,
    pub estimated: bool,
    pub calendar: String,
    pub calendar_name: String,
    pub summary: String,
    pub cab_condition: Option<String>,
    pub exports: Vec<String>,
    pub html: String,
    pub toc: Vec<TocEntry>,
    #[serde(skip)]
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckView {
    pub n: usize,
    pub id: String,
    pub action: String,
    pub owner: String,
    pub owner_label: String,
    pub extramural_only: bool,
    pub level: u8,
    pub see: Option<Link>,
    /// The actions of the checks `see` points to, run (and required) before this one.
    pub see_checks: Vec<SeeCheck>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeeCheck {
    pub action: String,
    pub extramural_only: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct IncidentView {
    pub id: String,
    pub url: String,
    pub file: String,
    pub title: String,
    pub case_title: String,
    pub case_url: String,
    pub checks: Vec<CheckView>,
    pub has_extramural: bool,
    pub has_see: bool,
    pub has_levels: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub id: String,
    pub url: String,
    pub title: String,
    pub order: u32,
    pub summary: String,
    pub html: String,
    pub toc: Vec<TocEntry>,
    pub incidents: Vec<IncidentView>,
    #[serde(skip)]
    pub text: String,
}

/// The knowledge base, rendered once and shared by every page that shows part of it.
pub struct KbPages {
    pub articles: Vec<ArticleView>,
    pub catalog: Vec<CatalogView>,
    pub cases: Vec<CaseView>,
    pub broken: Vec<Diagnostic>,
    /// Article id -> index in `articles`.
    pub by_id: HashMap<String, usize>,
    pub tags: BTreeMap<String, Vec<usize>>,
    /// `search/pages.js` (postings and short snippets, no page text).
    pub page_index: crate::output::search::PageIndex,
}

impl KbPages {
    /// Pages still to render (articles are written by [`prepare`] already).
    pub fn page_count(&self) -> usize {
        self.catalog.len()
            + self.cases.len()
            + self.cases.iter().map(|c| c.incidents.len()).sum::<usize>()
            + self.tags.len()
    }

    pub fn article_link(&self, id: &str) -> Option<Link> {
        self.by_id.get(id).map(|&i| Link {
            title: self.articles[i].title.clone(),
            url: self.articles[i].url.clone(),
        })
    }

    /// Search documents for the kb pages other than articles (indexed as they are rendered).
    pub fn search_docs(&self, site: &Site) -> Vec<Doc> {
        let mut docs = Vec::new();
        for c in &self.catalog {
            docs.push(Doc {
                url: c.url.clone(),
                title: c.title.clone(),
                kind: site.label("site.catalog.kind"),
                body: format!("{} {} {}", c.summary, c.exports.join(" "), c.text),
            });
        }
        for c in &self.cases {
            docs.push(Doc {
                url: c.url.clone(),
                title: c.title.clone(),
                kind: site.label("site.playbook.case_kind"),
                body: format!(
                    "{} {} {}",
                    c.summary,
                    c.incidents
                        .iter()
                        .map(|i| i.title.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                    c.text
                ),
            });
            for i in &c.incidents {
                docs.push(Doc {
                    url: i.url.clone(),
                    title: i.title.clone(),
                    kind: site.label("site.playbook.incident_kind"),
                    body: format!(
                        "{} {} {}",
                        c.title,
                        c.summary,
                        i.checks
                            .iter()
                            .map(|k| k.action.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    ),
                });
            }
        }
        docs
    }
}

/// The page index: the articles' postings gathered while rendering, then every other page.
fn page_index(
    site: &Site,
    kb: &KbPages,
    postings: crate::output::search::Postings,
    snippets: Vec<String>,
) -> crate::output::search::PageIndex {
    let rows = kb
        .articles
        .iter()
        .zip(snippets)
        .map(|(a, snippet)| {
            [
                a.url.clone(),
                a.title.clone(),
                a.kind_label.clone(),
                snippet,
            ]
        })
        .collect();
    let mut index = crate::output::search::PageIndex::with(postings, rows);
    for d in kb.search_docs(site).iter().chain(&table_docs(site)) {
        index.add(d, SNIPPET);
    }
    index
}

/// Bytes of page text kept as a search result's snippet (the summary comes first).
const SNIPPET: usize = 240;

/// What an article is found by: its summary, category, tags and text.
pub(super) fn article_search_body(a: &ArticleView) -> String {
    format!("{} {} {} {}", a.summary, a.category, tag_names(a), a.text)
}

/// An article's view once its page is written: the index row, without body, contents or
/// citing tickets.
pub(super) fn slim(mut v: ArticleView) -> ArticleView {
    v.html = String::new();
    v.text = String::new();
    v.toc = Vec::new();
    v.cited_by = Vec::new();
    v
}

/// What each rayon worker gathers while streaming articles (merged at the end).
#[derive(Default)]
struct ArticleAcc {
    views: Vec<(usize, ArticleView)>,
    snippets: Vec<(usize, String)>,
    postings: crate::output::search::Postings,
    broken: Vec<Diagnostic>,
    error: Option<crate::model::diag::Error>,
}

impl ArticleAcc {
    fn merge(mut self, other: ArticleAcc) -> ArticleAcc {
        self.views.extend(other.views);
        self.snippets.extend(other.snippets);
        self.postings.merge(other.postings);
        self.broken.extend(other.broken);
        self.error = self.error.or(other.error);
        self
    }
}

fn tag_names(a: &ArticleView) -> String {
    a.tags
        .iter()
        .map(|t| t.title.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn kind_str(k: ArticleKind) -> &'static str {
    match k {
        ArticleKind::Article => "article",
        ArticleKind::Announcement => "announcement",
        ArticleKind::Training => "training",
        ArticleKind::Policy => "policy",
    }
}

fn complexity_str(c: Complexity) -> &'static str {
    match c {
        Complexity::Low => "low",
        Complexity::Medium => "medium",
        Complexity::MediumHigh => "medium_high",
    }
}

fn cab_str(c: CabRule) -> &'static str {
    match c {
        CabRule::No => "no",
        CabRule::Yes => "yes",
        CabRule::Conditional => "conditional",
    }
}

fn quote_str(q: QuoteRule) -> &'static str {
    match q {
        QuoteRule::No => "no",
        QuoteRule::Yes => "yes",
        QuoteRule::Contract => "contract",
    }
}

/// The articles a build shows, in the knowledge base's order.
fn shown<'a>(site: &Site<'a>) -> Vec<&'a crate::model::kb::Article> {
    let public = site.opts.public;
    site.desk
        .kb
        .articles
        .iter()
        .filter(|a| !(public && a.front.internal))
        .collect()
}

/// Every kb link is checked before any page is written, so that a broken one stops the build
/// before any page changes (`mesa serve` keeps showing the last good site).
pub fn check_links(site: &Site) -> Result<()> {
    let desk = site.desk;
    let mut broken: Vec<Diagnostic> = shown(site)
        .par_iter()
        .flat_map_iter(|a| site.broken_links(&a.body, &a.path, a.body_line, &article_file(&a.id)))
        .collect();
    for c in &desk.kb.catalog {
        broken.extend(site.broken_links(&c.body, &c.path, c.body_line, &catalog_file(&c.id)));
    }
    for c in &desk.kb.playbook {
        broken.extend(site.broken_links(&c.body, &c.path, c.body_line, &case_file(&c.id)));
    }
    if !broken.is_empty() {
        return Err(crate::model::diag::Error::Diagnostics(rel_diags(
            &desk.root, broken,
        )));
    }
    Ok(())
}

/// Each shown article's title and page, by id: what a ticket page links to (the same links
/// [`KbPages::article_link`] gives once the articles are rendered).
pub fn article_links(site: &Site) -> HashMap<String, Link> {
    shown(site)
        .into_iter()
        .map(|a| {
            let link = Link {
                title: a.front.title.clone(),
                url: seg_path(&article_file(&a.id)),
            };
            (a.id.clone(), link)
        })
        .collect()
}

/// Renders every kb body (in parallel), gathers tags and the tickets citing each article.
/// [`check_links`] has passed.
pub fn prepare(site: &Site, tickets: &[Cite]) -> Result<KbPages> {
    let desk = site.desk;

    // Which tickets cite which article: the tickets' `kb` lists and the articles' `from_tickets`.
    let mut cites: HashMap<&str, BTreeMap<&str, &Cite>> = HashMap::new();
    for t in tickets {
        for k in &t.kb {
            cites.entry(k.as_str()).or_default().insert(&*t.id, t);
        }
    }
    let by_ticket_id: HashMap<&str, &Cite> = tickets.iter().map(|t| (&*t.id, t)).collect();
    let changes = {
        let wanted: HashSet<PathBuf> = desk.kb.articles.iter().map(|a| a.path.clone()).collect();
        super::history::kb_changes(&desk.root, &wanted)
    };
    let shown = shown(site);

    // Articles stream: each is rendered, written and indexed for search as soon as it is ready
    // (in parallel); only its index row and its postings stay, never its HTML or text, so
    // memory does not grow with the size of the knowledge base.
    site.progress.add_total(shown.len() as u64);
    let acc = shown
        .par_iter()
        .enumerate()
        .fold(ArticleAcc::default, |mut acc, (doc, a)| {
            let citing = cites
                .get(a.id.as_str())
                .map(|m| m.keys().copied().collect())
                .unwrap_or_default();
            let (view, snippet, broken, written) = article(
                site,
                a,
                citing,
                &by_ticket_id,
                changes.get(&a.path),
                acc.error.is_none(),
            );
            acc.broken.extend(broken);
            if let Err(e) = written {
                acc.error = Some(e);
            }
            let body = article_search_body(&view);
            acc.postings.add(doc as u32, &view.title, &body);
            acc.snippets.push((doc, snippet));
            acc.views.push((doc, slim(view)));
            acc
        })
        .reduce(ArticleAcc::default, ArticleAcc::merge);
    if let Some(e) = acc.error {
        return Err(e);
    }
    let ArticleAcc {
        mut views,
        mut snippets,
        mut postings,
        mut broken,
        ..
    } = acc;
    views.sort_unstable_by_key(|(i, _)| *i);
    snippets.sort_unstable_by_key(|(i, _)| *i);
    postings.sort_docs();
    let articles: Vec<ArticleView> = views.into_iter().map(|(_, v)| v).collect();
    let article_snippets: Vec<String> = snippets.into_iter().map(|(_, s)| s).collect();

    let catalog: Vec<(CatalogView, Vec<Diagnostic>)> = desk
        .kb
        .catalog
        .par_iter()
        .map(|c| {
            let file = catalog_file(&c.id);
            let r = site.markdown(&c.body, &c.path, c.body_line, &file);
            let f = &c.front;
            let view = CatalogView {
                id: c.id.clone(),
                url: seg_path(&file),
                title: f.title.clone(),
                order: f.order,
                complexity: complexity_str(f.complexity),
                complexity_label: site
                    .label(&format!("site.complexity.{}", complexity_str(f.complexity))),
                cab: cab_str(f.cab),
                cab_label: site.label(&format!("site.cab.{}", cab_str(f.cab))),
                quote: quote_str(f.quote),
                quote_label: site.label(&format!("site.quote.{}", quote_str(f.quote))),
                ans: site.fmt.duration(f.ans),
                ans_minutes: f.ans.minutes,
                estimated: f.estimated,
                calendar: f.calendar.clone(),
                calendar_name: desk
                    .config
                    .calendar(&f.calendar)
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| f.calendar.clone()),
                summary: f.summary.clone(),
                cab_condition: f.cab_condition.clone(),
                exports: f.exports.clone(),
                html: r.html,
                toc: r.toc,
                text: r.text,
            };
            (view, r.broken)
        })
        .collect();
    let mut catalog_views = Vec::with_capacity(catalog.len());
    for (v, b) in catalog {
        broken.extend(b);
        catalog_views.push(v);
    }

    let owners: HashMap<&str, &str> = desk
        .config
        .playbook
        .owners
        .iter()
        .map(|o| (o.id.as_str(), o.name.as_str()))
        .collect();
    let mut cases = Vec::new();
    for c in &desk.kb.playbook {
        let file = case_file(&c.id);
        let r = site.markdown(&c.body, &c.path, c.body_line, &file);
        broken.extend(r.broken);
        let incidents = c
            .front
            .incidents
            .iter()
            .map(|i| {
                let ifile = incident_file(&c.id, &i.id);
                let checks: Vec<CheckView> = i
                    .checks
                    .iter()
                    .enumerate()
                    .map(|(n, k)| CheckView {
                        n: n + 1,
                        id: k.id.clone(),
                        action: k.action.clone(),
                        owner: k.owner.clone(),
                        owner_label: owners
                            .get(k.owner.as_str())
                            .map_or(k.owner.clone(), |s| s.to_string()),
                        extramural_only: k.extramural_only,
                        level: k.level,
                        see: k.see.as_deref().and_then(|s| desk.kb.see_target(s)).map(
                            |(sc, si)| Link {
                                title: sc.front.title.clone(),
                                url: seg_path(&incident_file(&sc.id, &si.id)),
                            },
                        ),
                        see_checks: k
                            .see
                            .as_deref()
                            .and_then(|s| desk.kb.see_target(s))
                            .map(|(_, si)| {
                                si.checks
                                    .iter()
                                    .map(|t| SeeCheck {
                                        action: t.action.clone(),
                                        extramural_only: t.extramural_only,
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                    .collect();
                IncidentView {
                    id: i.id.clone(),
                    url: seg_path(&ifile),
                    // The checks a "Véase" lists may carry the extramural footnote too.
                    has_extramural: checks.iter().any(|k| {
                        k.extramural_only || k.see_checks.iter().any(|s| s.extramural_only)
                    }),
                    has_see: checks.iter().any(|k| k.see.is_some()),
                    has_levels: checks.iter().any(|k| k.level > 1),
                    file: ifile,
                    title: i.title.clone(),
                    case_title: c.front.title.clone(),
                    case_url: seg_path(&file),
                    checks,
                }
            })
            .collect();
        cases.push(CaseView {
            id: c.id.clone(),
            url: seg_path(&file),
            title: c.front.title.clone(),
            order: c.front.order,
            summary: c.front.summary.clone(),
            html: r.html,
            toc: r.toc,
            incidents,
            text: r.text,
        });
    }

    let mut tags: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, a) in articles.iter().enumerate() {
        for t in &a.tags {
            tags.entry(t.title.clone()).or_default().push(i);
        }
    }
    let by_id = articles
        .iter()
        .enumerate()
        .map(|(i, a)| (a.id.clone(), i))
        .collect();
    let mut kb = KbPages {
        articles,
        catalog: catalog_views,
        cases,
        broken,
        by_id,
        tags,
        page_index: Default::default(),
    };
    kb.page_index = page_index(site, &kb, postings, article_snippets);
    Ok(kb)
}

/// Renders one article: its view (with body, contents and citing tickets), its search snippet
/// and broken links; writes its page when `write` (a parallel build stops writing after the
/// first error). `citing`: ids of the tickets whose `kb` lists it.
pub(super) fn article<'a>(
    site: &Site,
    a: &'a crate::model::kb::Article,
    citing: BTreeSet<&'a str>,
    by_ticket_id: &HashMap<&str, &Cite>,
    change: Option<&super::history::Change>,
    write: bool,
) -> (ArticleView, String, Vec<Diagnostic>, Result<()>) {
    let public = site.opts.public;
    let today = site.now.with_timezone(&site.fmt.tz).date_naive();
    let file = article_file(&a.id);
    let r = site.markdown(&a.body, &a.path, a.body_line, &file);
    let f = &a.front;
    let mut citing = citing;
    citing.extend(f.from_tickets.iter().map(String::as_str));
    let cited_by = if public {
        Vec::new()
    } else {
        citing
            .iter()
            .filter_map(|id| by_ticket_id.get(id))
            .map(|t| Link {
                title: format!("{} · {}", t.id, t.title),
                url: t.url.to_string(),
            })
            .collect()
    };
    let view = ArticleView {
        id: a.id.clone(),
        url: seg_path(&file),
        title: f.title.clone(),
        kind: kind_str(f.kind),
        kind_label: site.label(&format!("site.kind.{}", kind_str(f.kind))),
        category: f.category.clone(),
        category_anchor: format!("cat-{}", markdown::slug(&f.category)),
        tags: f
            .tags
            .iter()
            .map(|t| Link {
                title: t.clone(),
                url: seg_path(&tag_file(t)),
            })
            .collect(),
        summary: f.summary.clone(),
        date: f.date.map(|d| site.fmt.date(d)),
        date_iso: f.date.map(|d| d.to_string()),
        upcoming: f.date.is_some_and(|d| d >= today),
        updated: change.map(|c| site.fmt.datetime(c.at)),
        updated_iso: change.map(|c| c.at.to_rfc3339()),
        author: change.map(|c| c.author.clone()).filter(|a| !a.is_empty()),
        internal: f.internal,
        solved: citing.len(),
        cited_by,
        html: r.html,
        toc: r.toc,
        text: r.text,
        sort_date: f.date,
    };
    let mut written = Ok(());
    if write {
        let mut ctx = site.context(&file, "kb", &view.title);
        ctx.insert("article", &view);
        written = site.page(&file, "article.html", &ctx);
    }
    // The snippet shows what the article says: summary and text, not its category and tags
    // (those find it, but read as noise at the start of a result).
    let snippet =
        crate::output::search::truncate(&format!("{} {}", view.summary, view.text), SNIPPET);
    (view, snippet, r.broken, written)
}

/// Pages [`jobs`] renders besides the kb pages counted by [`KbPages::page_count`].
pub const FIXED_PAGES: usize = 10;

type Job<'a> = Box<dyn Fn() -> Result<()> + Sync + 'a>;

/// Every kb and table page as a job for the parallel renderer.
pub fn jobs<'a>(site: &'a Site, kb: &'a KbPages, tickets: &'a TicketOut) -> Vec<Job<'a>> {
    let mut jobs: Vec<Job<'a>> = Vec::new();
    jobs.push(Box::new(move || home(site, kb)));
    jobs.push(Box::new(move || kb_index(site, kb)));
    jobs.push(Box::new(move || news(site, kb)));
    for (tag, list) in &kb.tags {
        jobs.push(Box::new(move || {
            let file = tag_file(tag);
            let mut ctx = site.context(&file, "kb", tag);
            let items: Vec<ArticleRow> = list
                .iter()
                .filter_map(|&i| kb.articles.get(i))
                .map(row)
                .collect();
            ctx.insert("tag", tag);
            ctx.insert("articles", &items);
            site.page(&file, "kb_tag.html", &ctx)
        }));
    }
    jobs.push(Box::new(move || {
        let file = "playbook/index.html";
        let mut ctx = site.context(file, "playbook", &site.label("site.playbook.title"));
        ctx.insert("cases", &kb.cases);
        ctx.insert("notes", &desk_notes(site));
        site.page(file, "playbook_index.html", &ctx)
    }));
    for c in &kb.cases {
        jobs.push(Box::new(move || {
            let file = case_file(&c.id);
            let mut ctx = site.context(&file, "playbook", &c.title);
            ctx.insert("case", c);
            ctx.insert("notes", &desk_notes(site));
            site.page(&file, "playbook_case.html", &ctx)
        }));
        for i in &c.incidents {
            jobs.push(Box::new(move || {
                let mut ctx = site.context(&i.file, "playbook", &i.title);
                ctx.insert("incident", i);
                ctx.insert("notes", &desk_notes(site));
                site.page(&i.file, "incident.html", &ctx)
            }));
        }
    }
    jobs.push(Box::new(move || {
        let file = "catalog/index.html";
        let mut ctx = site.context(file, "catalog", &site.label("site.catalog.title"));
        ctx.insert("entries", &kb.catalog);
        site.page(file, "catalog_index.html", &ctx)
    }));
    for c in &kb.catalog {
        jobs.push(Box::new(move || {
            let file = catalog_file(&c.id);
            let mut ctx = site.context(&file, "catalog", &c.title);
            ctx.insert("entry", c);
            site.page(&file, "catalog_entry.html", &ctx)
        }));
    }
    jobs.push(Box::new(move || escalation(site)));
    jobs.push(Box::new(move || priorities(site)));
    jobs.push(Box::new(move || contact(site)));
    jobs.push(Box::new(move || {
        let file = "search.html";
        let mut ctx = site.context(file, "search", &site.label("site.search.title"));
        ctx.insert(
            "has_tickets",
            &(site.internal() && !tickets.rows.is_empty()),
        );
        ctx.insert("doc_chunk", &crate::output::search::DOC_CHUNK);
        site.page(file, "search.html", &ctx)
    }));
    jobs.push(Box::new(move || {
        let file = "404.html";
        let ctx = site.context(file, "", &site.label("site.not_found.title"));
        site.page(file, "404.html", &ctx)
    }));
    jobs
}

/// An article as a row of the index pages: what they show (no body, tags or contents),
/// borrowed, and turned into template data only by the page that shows it, so no copy of
/// every row outlives its page (Tera data costs about 150 bytes per field).
#[derive(Serialize)]
struct ArticleRow<'a> {
    url: &'a str,
    title: &'a str,
    kind: &'a str,
    kind_label: &'a str,
    category: &'a str,
    summary: &'a str,
    date: &'a Option<String>,
    date_iso: &'a Option<String>,
    upcoming: bool,
    updated: &'a Option<String>,
    updated_iso: &'a Option<String>,
    solved: usize,
    internal: bool,
}

fn row(a: &ArticleView) -> ArticleRow<'_> {
    ArticleRow {
        url: &a.url,
        title: &a.title,
        kind: a.kind,
        kind_label: &a.kind_label,
        category: &a.category,
        summary: &a.summary,
        date: &a.date,
        date_iso: &a.date_iso,
        upcoming: a.upcoming,
        updated: &a.updated,
        updated_iso: &a.updated_iso,
        solved: a.solved,
        internal: a.internal,
    }
}

/// Announcements and trainings, newest first.
fn news_items(kb: &KbPages) -> Vec<&ArticleView> {
    let mut items: Vec<&ArticleView> = kb
        .articles
        .iter()
        .filter(|a| matches!(a.kind, "announcement" | "training"))
        .collect();
    items.sort_by(|a, b| b.sort_date.cmp(&a.sort_date).then(a.title.cmp(&b.title)));
    items
}

fn desk_notes(site: &Site) -> serde_json::Value {
    let p = &site.desk.config.playbook;
    json!({
        "owner": p.owner_note, "extramural": p.extramural_note, "see": p.see_note,
        "owners": p.owners,
    })
}

/// Table 1 as rows (channels) by columns (levels); channels nobody answers on are left out.
fn contact_table(site: &Site) -> serde_json::Value {
    let cfg = &site.desk.config;
    let levels: Vec<serde_json::Value> = cfg
        .contact_levels
        .iter()
        .map(|l| json!({"level": l.level, "name": l.name}))
        .collect();
    let rows: Vec<serde_json::Value> = cfg
        .channels
        .iter()
        .filter(|ch| {
            cfg.contact_levels
                .iter()
                .any(|l| l.contacts.contains_key(&ch.id))
        })
        .map(|ch| {
            let cells: Vec<Vec<String>> = cfg
                .contact_levels
                .iter()
                .map(|l| l.contacts.get(&ch.id).cloned().unwrap_or_default())
                .collect();
            json!({"id": ch.id, "name": ch.name, "cells": cells})
        })
        .collect();
    json!({"levels": levels, "rows": rows})
}

fn home(site: &Site, kb: &KbPages) -> Result<()> {
    let file = "index.html";
    let mut ctx = site.context(file, "home", &site.desk.config.organisation.name);
    let latest: Vec<ArticleRow> = news_items(kb).into_iter().take(5).map(row).collect();
    ctx.insert("latest", &latest);
    ctx.insert("contacts", &contact_table(site));
    ctx.insert(
        "cases",
        &kb.cases
            .iter()
            .map(|c| Link {
                title: c.title.clone(),
                url: c.url.clone(),
            })
            .collect::<Vec<_>>(),
    );
    ctx.insert("counts", &json!({
        "articles": site.fmt.int(kb.articles.len() as i64),
        "catalog": site.fmt.int(kb.catalog.len() as i64),
        "incidents": site.fmt.int(kb.cases.iter().map(|c| c.incidents.len()).sum::<usize>() as i64),
    }));
    site.page(file, "home.html", &ctx)
}

fn kb_index(site: &Site, kb: &KbPages) -> Result<()> {
    let file = "kb/index.html";
    let mut ctx = site.context(file, "kb", &site.label("site.kb.title"));
    let mut cats: BTreeMap<&str, Vec<ArticleRow>> = BTreeMap::new();
    for a in &kb.articles {
        cats.entry(a.category.as_str()).or_default().push(row(a));
    }
    let categories: Vec<serde_json::Value> = cats
        .iter()
        .map(|(name, list)| json!({"name": name, "anchor": format!("cat-{}", markdown::slug(name)), "articles": list}))
        .collect();
    let tags: Vec<serde_json::Value> = kb
        .tags
        .iter()
        .map(|(t, l)| json!({"title": t, "url": seg_path(&tag_file(t)), "count": l.len()}))
        .collect();
    let mut by_solved: Vec<ArticleRow> = kb.articles.iter().map(row).collect();
    by_solved.sort_by(|a, b| b.solved.cmp(&a.solved).then(a.title.cmp(b.title)));
    insert_moved(&mut ctx, "categories", serde_json::Value::Array(categories));
    insert_moved(&mut ctx, "tags", serde_json::Value::Array(tags));
    ctx.insert("articles", &by_solved);
    site.page(file, "kb_index.html", &ctx)
}

/// `ctx[key] = value` for a value already built as template data, moved in: `Context::insert`
/// copies it whole again (the kb index's categories hold a row per article).
fn insert_moved(ctx: &mut tera::Context, key: &str, value: serde_json::Value) {
    let mut one = serde_json::Map::new();
    one.insert(key.to_string(), value);
    // A JSON object always makes a context; `from_value` refuses only other values.
    if let Ok(moved) = tera::Context::from_value(serde_json::Value::Object(one)) {
        ctx.extend(moved);
    }
}

fn news(site: &Site, kb: &KbPages) -> Result<()> {
    let file = "news/index.html";
    let mut ctx = site.context(file, "news", &site.label("site.news.title"));
    let items = news_items(kb);
    let trainings: Vec<ArticleRow> = items
        .iter()
        .filter(|a| a.kind == "training")
        .map(|a| row(a))
        .collect();
    let announcements: Vec<ArticleRow> = items
        .iter()
        .filter(|a| a.kind == "announcement")
        .map(|a| row(a))
        .collect();
    ctx.insert("trainings", &trainings);
    ctx.insert("announcements", &announcements);
    site.page(file, "news.html", &ctx)
}

fn escalation(site: &Site) -> Result<()> {
    let file = "escalation.html";
    let cfg = &site.desk.config;
    let mut ctx = site.context(file, "escalation", &site.label("site.escalation.title"));
    let levels: Vec<serde_json::Value> = cfg
        .escalation
        .levels
        .iter()
        .map(|l| {
            let agents: Vec<&str> = if site.internal() {
                cfg.agents
                    .iter()
                    .filter(|a| a.level == l.level)
                    .map(|a| a.name.as_str())
                    .collect()
            } else {
                Vec::new()
            };
            json!({"level": l.level, "role": l.role, "description": l.description,
                   "direct": cfg.escalation.direct.contains(&l.level), "agents": agents})
        })
        .collect();
    ctx.insert("levels", &levels);
    site.page(file, "escalation.html", &ctx)
}

fn priorities(site: &Site) -> Result<()> {
    let file = "priorities.html";
    let cfg = &site.desk.config;
    let mut ctx = site.context(file, "priorities", &site.label("site.priorities.title"));
    let cal_name = |id: &str| {
        cfg.calendar(id)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| id.to_string())
    };
    let prios: Vec<serde_json::Value> = cfg
        .priorities
        .iter()
        .map(|p| {
            json!({"id": p.id, "name": p.name, "description": p.description,
                   "response": p.response.map(|d| site.fmt.duration(d)),
                   "resolution": p.resolution.map(|d| site.fmt.duration(d)),
                   "planned": p.planned, "calendar": p.calendar, "calendar_name": cal_name(&p.calendar)})
        })
        .collect();
    let g = &cfg.priority_guidance;
    let name_of = |list: &[crate::model::desk::Level3], id: &Option<String>| {
        id.as_ref().map(|id| {
            list.iter()
                .find(|l| &l.id == id)
                .map_or(id.clone(), |l| l.name.clone())
        })
    };
    let rules: Vec<serde_json::Value> = g
        .rules
        .iter()
        .map(|r| {
            json!({"impact": name_of(&g.impact, &r.impact), "urgency": name_of(&g.urgency, &r.urgency),
                   "effort": name_of(&g.effort, &r.effort),
                   "priority": cfg.priority(&r.priority).map_or(r.priority.clone(), |p| p.name.clone()),
                   "note": r.note})
        })
        .collect();
    let today = site.now.with_timezone(&site.fmt.tz).date_naive();
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let calendars: Vec<serde_json::Value> = cfg
        .calendars
        .iter()
        .map(|c| {
            let hours: Vec<serde_json::Value> = DAYS
                .iter()
                .map(|d| {
                    let spans = c.hours.get(*d).cloned().unwrap_or_default();
                    json!({"day": site.label(&format!("calendar.weekday.{d}")), "spans": spans})
                })
                .collect();
            let coming: Vec<serde_json::Value> = site
                .cals
                .get(&c.id)
                .map(|cal| {
                    let mut out = Vec::new();
                    for year in [today.year(), today.year() + 1] {
                        for (d, key) in cal.closed_dates(year) {
                            if d >= today && out.len() < 12 {
                                let name = match (key, &c.holidays) {
                                    (Some(k), Some(rules)) => site.label(&format!("holidays.{rules}.{k}")),
                                    _ => site.label("site.priorities.closed_day"),
                                };
                                out.push(json!({"date": site.fmt.date(d), "iso": d.to_string(), "name": name}));
                            }
                        }
                    }
                    out
                })
                .unwrap_or_default();
            json!({"id": c.id, "name": c.name, "description": c.description, "time_zone": c.time_zone,
                   "always_open": c.always_open, "hours": hours, "coming": coming})
        })
        .collect();
    ctx.insert("priorities", &prios);
    ctx.insert(
        "guidance",
        &json!({"impact": g.impact, "urgency": g.urgency, "effort": g.effort, "rules": rules}),
    );
    ctx.insert("calendars", &calendars);
    ctx.insert(
        "sla",
        &json!({
            "at_risk": site.fmt.percent(cfg.sla.at_risk * 100.0),
            "follow_up": site.fmt.duration(cfg.sla.follow_up_after),
            "auto_close": site.fmt.duration(cfg.sla.auto_close_after),
            "grace": site.fmt.duration(cfg.sla.grace()),
            "working": cfg.sla.confirmation_hours == crate::model::desk::ConfirmationHours::Working,
        }),
    );
    site.page(file, "priorities.html", &ctx)
}

fn contact(site: &Site) -> Result<()> {
    let file = "contact.html";
    let cfg = &site.desk.config;
    let mut ctx = site.context(file, "contact", &site.label("site.contact.title"));
    ctx.insert("contacts", &contact_table(site));
    ctx.insert("channels", &cfg.channels);
    let customers: Vec<serde_json::Value> = if site.internal() {
        cfg.customers
            .iter()
            .map(|c| {
                json!({"name": c.name, "city": c.city, "extramural": c.extramural,
                            "contract": c.contract.code, "contacts": c.contacts})
            })
            .collect()
    } else {
        Vec::new()
    };
    ctx.insert("customers", &customers);
    site.page(file, "contact.html", &ctx)
}

/// Search documents for the table pages.
pub fn table_docs(site: &Site) -> Vec<Doc> {
    let cfg = &site.desk.config;
    let mut docs = Vec::new();
    docs.push(Doc {
        url: "escalation.html".into(),
        title: site.label("site.escalation.title"),
        kind: site.label("site.kind.table"),
        body: cfg
            .escalation
            .levels
            .iter()
            .map(|l| {
                format!(
                    "{} {} {}",
                    l.level,
                    l.role,
                    l.description.clone().unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(" "),
    });
    docs.push(Doc {
        url: "priorities.html".into(),
        title: site.label("site.priorities.title"),
        kind: site.label("site.kind.table"),
        body: cfg
            .priorities
            .iter()
            .map(|p| format!("{} {}", p.name, p.description))
            .chain(cfg.calendars.iter().map(|c| c.name.clone()))
            .collect::<Vec<_>>()
            .join(" "),
    });
    docs.push(Doc {
        url: "contact.html".into(),
        title: site.label("site.contact.title"),
        kind: site.label("site.kind.table"),
        body: cfg
            .contact_levels
            .iter()
            .map(|l| {
                format!(
                    "{} {}",
                    l.name,
                    l.contacts
                        .values()
                        .flatten()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            })
            .chain(cfg.channels.iter().map(|c| c.name.clone()))
            .collect::<Vec<_>>()
            .join(" "),
    });
    docs
}
