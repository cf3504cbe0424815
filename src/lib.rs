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

pub mod check;
pub mod cli;
pub mod desk;
pub mod diag;
pub mod duration;
pub mod front_matter;
pub mod holidays;
pub mod i18n;
pub mod ids;
pub mod kb;
pub mod links;
pub mod load;
pub mod schema;
pub mod ticket;
pub mod workflow;
pub mod yamlpos;
