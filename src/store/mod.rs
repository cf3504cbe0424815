//! Storage: the desk is a git repository.
//!
//! - [`git`]: atomic writes and one commit per step, with the agent as author.
//! - [`merge`]: the merge driver that unions ticket event logs.
//! - [`hooks`]: installing the merge driver and the pre-commit check in a clone, and sharing
//!   `.gitattributes` through a commit.
//! - [`init`]: new desks (`mesa init`), an organisation's own or the sample.
//! - [`doctor`]: what a clone lacks (`mesa doctor`), as findings with their fixes.
//! - [`holder`]: who holds a lock (pid and start time), alive or not.
//! - [`lock`]: one writer per desk (`.git/mesa.lock`); [`journal`]: a step's record, from which
//!   a killed step is finished or undone; [`repair`]: doing that.
//! - [`raw_index`]: the git index file patched as bytes, so a commit costs what it changes;
//!   [`raw_tree`]: a tree object patched as bytes, so a month of thousands of tickets is not
//!   parsed and rebuilt for one of them; [`batch`]: one index write for a run of many commits (`mesa inbox import`).
//! - [`ci`]: the CI templates (GitHub, GitLab, Forgejo) and the scheduled script in a desk.
//! - [`server`]: the pre-receive gate of a shared remote (a bare repository).

pub mod batch;
pub mod ci;
pub mod doctor;
pub mod git;
pub mod holder;
pub mod hooks;
pub mod init;
pub mod journal;
pub mod lock;
pub mod merge;
pub mod raw_index;
pub mod raw_tree;
pub mod repair;
pub mod server;
