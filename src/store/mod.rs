//! Storage: the desk is a git repository.
//!
//! - [`git`]: atomic writes and one commit per step, with the agent as author.
//! - [`merge`]: the merge driver that unions ticket event logs.
//! - [`hooks`]: installing the merge driver and the pre-commit check in a clone; new desks.
//! - [`ci`]: the CI templates (GitHub, GitLab, Forgejo) and the scheduled script in a desk.
//! - [`server`]: the pre-receive gate of a shared remote (a bare repository).

pub mod ci;
pub mod git;
pub mod hooks;
pub mod merge;
pub mod server;
