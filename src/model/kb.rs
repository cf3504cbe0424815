//! The knowledge base: the request catalog (Table 2), the incident playbook (Table 4) and the
//! articles, each a Markdown file with front matter under `kb/`.

use crate::model::duration::Dur;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Complexity {
    Low,
    Medium,
    MediumHigh,
}

/// Whether a request type needs the change advisory board (the manual's NO / SI / SI*).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CabRule {
    No,
    Yes,
    Conditional,
}

/// Whether a request type needs a quote (NO / SI / "depende del alcance del contrato").
#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum QuoteRule {
    No,
    Yes,
    Contract,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogFront {
    pub title: String,
    pub order: u32,
    pub complexity: Complexity,
    pub cab: CabRule,
    pub quote: QuoteRule,
    /// The ANS (Table 2).
    pub ans: Dur,
    /// The manual's `*`: an estimate that may be extended with a recorded reason.
    #[serde(default)]
    pub estimated: bool,
    pub calendar: String,
    pub summary: String,
    #[serde(default)]
    pub cab_condition: Option<String>,
    #[serde(default)]
    pub exports: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ArticleKind {
    Article,
    Announcement,
    Training,
    Policy,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleFront {
    pub title: String,
    pub kind: ArticleKind,
    pub category: String,
    #[serde(default)]
    pub tags: Vec<String>,
    pub summary: String,
    /// Staff only: left out of the public build.
    #[serde(default)]
    pub internal: bool,
    /// Publication date (announcements) or session date (trainings), YYYY-MM-DD.
    #[serde(default)]
    pub date: Option<chrono::NaiveDate>,
    /// The tickets this article was drafted from (`mesa kb new --from-ticket`).
    #[serde(default)]
    pub from_tickets: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaybookFront {
    pub title: String,
    pub order: u32,
    pub summary: String,
    pub incidents: Vec<Incident>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    pub id: String,
    pub title: String,
    pub checks: Vec<Check>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub id: String,
    pub action: String,
    /// Who acts when the check fails (an owner id from desk.yaml's `playbook.owners`).
    pub owner: String,
    /// Only for customers with extramural care (the manual's `**`).
    #[serde(default)]
    pub extramural_only: bool,
    /// "(Véase X)": the checks this one points to, as `case/incident` (e.g.
    /// `acceso/no-carga-pagina`); they are run (and required) before this one.
    #[serde(default)]
    pub see: Option<String>,
    /// Escalation level at which the desk verifies it (default 1).
    #[serde(default = "one")]
    pub level: u8,
}

fn one() -> u8 {
    1
}

/// A loaded knowledge-base file: its id (file stem), where it is, its front matter and body.
/// Serialized only into the knowledge-base cache (`rules::kb_cache`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Page<F> {
    pub id: String,
    pub path: PathBuf,
    pub front: F,
    pub body: String,
    /// File line where the body starts, for diagnostics about links in it.
    pub body_line: usize,
}

pub type CatalogEntry = Page<CatalogFront>;
pub type PlaybookCase = Page<PlaybookFront>;
pub type Article = Page<ArticleFront>;

/// The whole knowledge base, sorted the way the manual lists it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Kb {
    pub catalog: Vec<CatalogEntry>,
    pub playbook: Vec<PlaybookCase>,
    pub articles: Vec<Article>,
    /// Each article id's first position in `articles`, made on the first lookup, with the
    /// number of articles it was made from: every ticket's `kb:` names are checked against a
    /// thousand articles, and a search through them was a twentieth of a cold `mesa check`.
    /// Articles are replaced only by one of the same id; one added goes through
    /// [`Kb::add_article`], and a count that no longer matches falls back to the search.
    #[serde(skip)]
    article_index: std::sync::OnceLock<(usize, std::collections::HashMap<String, usize>)>,
}

impl Kb {
    pub fn new(
        catalog: Vec<CatalogEntry>,
        playbook: Vec<PlaybookCase>,
        articles: Vec<Article>,
    ) -> Kb {
        Kb {
            catalog,
            playbook,
            articles,
            article_index: std::sync::OnceLock::new(),
        }
    }

    pub fn request(&self, id: &str) -> Option<&CatalogEntry> {
        self.catalog.iter().find(|c| c.id == id)
    }

    /// The incident with this id and the case it belongs to.
    pub fn incident(&self, id: &str) -> Option<(&PlaybookCase, &Incident)> {
        self.playbook.iter().find_map(|case| {
            case.front
                .incidents
                .iter()
                .find(|i| i.id == id)
                .map(|i| (case, i))
        })
    }

    /// The incident a check's `see: case/incident` points to (None when either part is unknown).
    pub fn see_target(&self, see: &str) -> Option<(&PlaybookCase, &Incident)> {
        let (case, incident) = see.split_once('/')?;
        let c = self.case(case)?;
        c.front
            .incidents
            .iter()
            .find(|i| i.id == incident)
            .map(|i| (c, i))
    }

    pub fn case(&self, id: &str) -> Option<&PlaybookCase> {
        self.playbook.iter().find(|c| c.id == id)
    }

    pub fn article(&self, id: &str) -> Option<&Article> {
        let (n, index) = self.article_index.get_or_init(|| {
            let mut index = std::collections::HashMap::with_capacity(self.articles.len());
            for (i, a) in self.articles.iter().enumerate() {
                index.entry(a.id.clone()).or_insert(i);
            }
            (self.articles.len(), index)
        });
        if *n != self.articles.len() {
            return self.articles.iter().find(|a| a.id == id);
        }
        index.get(id).and_then(|&i| self.articles.get(i))
    }

    /// Adds an article (the index of ids is made again on the next lookup).
    pub fn add_article(&mut self, article: Article) {
        self.articles.push(article);
        self.article_index = std::sync::OnceLock::new();
    }

    pub fn incident_ids(&self) -> impl Iterator<Item = &str> {
        self.playbook
            .iter()
            .flat_map(|c| c.front.incidents.iter().map(|i| i.id.as_str()))
    }
}
