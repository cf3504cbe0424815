//! `mesa build`: the static site. Load the desk -> check kb links -> stream the tickets (read,
//! render, write, drop, in parallel chunks, keeping only index rows, search postings and report
//! facts) -> kb pages (rendered once) and indexes, in parallel with rayon, writing as they go ->
//! search index (each shard written as it is made) and assets -> remove what the last build
//! wrote and this one did not. Memory is bounded by the pages in flight plus the rows.
//!
//! Pages get a small per-page Tera context (the page's own data plus a few globals); indexes
//! are inserted only into the pages that show them, so cost stays linear in the page count.
//! Every link is relative so the site works from `file://`, any static host or `mesa serve`.
//!
//! - [`context`]: what every page renderer shares (the desk, options, links, ticket rows);
//! - [`paths`]: where each page lives;
//! - [`pipeline`]: a full build; [`incremental`]: `mesa serve`'s rebuild of what changed;
//! - `kbpages`, `tickets`, `reports` (with `flow`: trend and load), `help`: the pages; [`theme`], [`fmt`], [`output`], [`history`]:
//!   templates, formatting, writing files, authorship from git; `escape`: the templates' HTML
//!   escaping.

mod chart;
pub mod context;
mod escape;
mod flow;
pub mod fmt;
mod fold;
mod help;
pub mod history;
pub mod incremental;
mod kbpages;
pub mod manifest;
pub mod output;
pub mod paths;
pub mod pipeline;
mod records;
mod reports;
mod termshards;
pub mod theme;
mod tickets;

pub use context::{BuildOptions, BuildSummary, Link};
pub use incremental::Session;
pub use pipeline::build;
