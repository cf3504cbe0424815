//! Storage: the desk is a git repository.
//!
//! - [`git`]: atomic writes and one commit per step, with the agent as author.
//! - [`merge`]: the merge driver that unions ticket event logs.
//! - [`hooks`]: installing the merge driver and the pre-commit check in a clone; new desks.
//! - [`lock`]: one writer per desk (`.git/mesa.lock`); [`journal`]: a step's record, from which
//!   a killed step is finished or undone.

pub mod git;
pub mod hooks;
pub mod journal;
pub mod lock;
pub mod merge;
pub mod repair;
