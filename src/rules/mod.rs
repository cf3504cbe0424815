//! The rules: the manual's process and the desk's promises, read from the model and applied to
//! it. The only place domain rules live; commands, checks, reports and templates ask here.
//!
//! - [`workflow`]: the state machine every ticket's event log is replayed through.
//! - [`calendar`], [`holidays`]: working hours and public holidays.
//! - [`customer_wait`]: the wait on the customer's side after its playbook check failed.
//! - [`repeats`]: an act two offline clones both recorded, counted once when a log is replayed.
//! - [`sla`]: response and resolution clocks derived from the event log.
//! - [`validate`]: what makes a desk.yaml, a kb page or a ticket file valid (used by
//!   `mesa check`, by every command before it writes, and by the site build).

pub mod calendar;
pub mod customer_wait;
pub mod holidays;
pub mod repeats;
pub mod sla;
pub mod validate;
pub mod workflow;
