//! mesa: a service desk run from a git repository.
//!
//! The pipeline, module by module:
//! - [`front_matter`], [`yamlpos`], [`diag`]: reading Markdown-with-YAML files and reporting
//!   problems at `path:line:col`.
//! - [`desk`], [`kb`], [`ticket`], [`load`]: the desk's data model and loading it from disk.
//! - [`workflow`]: the manual's process as one state machine; the only place rules live.
//! - [`check`], [`links`]: `mesa check`.
//! - [`ids`]: offline-safe case numbers.
//! - [`i18n`]: message catalogs (Spanish default, English).

pub mod calendar;
pub mod check;
pub mod cli;
pub mod cli_inbox;
pub mod cli_sla;
pub mod commands;
pub mod desk;
pub mod diag;
pub mod duration;
pub mod fastyaml;
pub mod front_matter;
pub mod history;
pub mod holidays;
pub mod hooks;
pub mod i18n;
pub mod ids;
pub mod inbound;
pub mod kb;
pub mod kbnew;
pub mod links;
pub mod load;
pub mod mail;
pub mod markdown;
pub mod merge;
pub mod outbox;
pub mod report;
pub mod schema;
pub mod search;
pub mod server;
pub mod site;
pub mod sla;
pub mod store;
pub mod sweep;
pub mod ticket;
pub mod workflow;
pub mod yamlpos;
