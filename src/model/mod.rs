//! The model: the desk's files as types, read from disk. Knows nothing of rules, git, mail or
//! output; everything above builds on it.
//!
//! - [`diag`]: problems at `path:line:col` and the crate's error type.
//! - [`front_matter`], [`fastyaml`], [`yamlpos`]: Markdown files with YAML front matter, a fast
//!   path for the YAML mesa writes, and key positions for error messages.
//! - [`desk`], [`kb`], [`ticket`]: desk.yaml, the knowledge base (catalog, playbook, articles)
//!   and tickets with their event logs.
//! - [`load`]: finding and loading a desk; [`links`]: resolving links between kb pages;
//!   [`scan`]: the ticket files with their stat, in one parallel pass.
//! - [`ids`]: offline-safe case numbers; [`duration`]: working-time durations.
//! - [`text`]: accent folding and slugs.
//! - [`fsread`]: the one safe reader of desk files; [`input`]: rules for values that reach mail
//!   headers and clock arithmetic (header text, one address, the supported date range).
//! - [`cache`]: what the caches in the git directory share (location, stamps, checksums).
//! - [`i18n`]: message catalogs (Spanish default, English); [`schema`]: JSON Schemas.

pub mod cache;
pub mod desk;
pub mod diag;
pub mod duration;
pub mod fastyaml;
pub mod front_matter;
pub mod fsread;
pub mod i18n;
pub mod ids;
pub mod input;
pub mod kb;
pub mod labels;
pub mod links;
pub mod load;
pub mod mapped;
pub mod scan;
pub mod schema;
pub mod text;
pub mod ticket;
pub mod yamlpos;
