//! Storage: the desk is a git repository.
//!
//! - [`git`]: atomic writes and one commit per step, with the agent as author.
//! - [`merge`]: the merge driver that unions ticket event logs.
//! - [`hooks`]: installing the merge driver and the pre-commit check in a clone; new desks.

pub mod git;
pub mod hooks;
pub mod merge;
