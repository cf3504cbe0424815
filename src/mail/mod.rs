//! Mail: what the desk tells customers.
//!
//! - [`compose`]: a step's email, rendered from `theme/emails/` into an RFC 5322 message and
//!   queued in the clone's outbox.
//! - [`durable`]: when queued emails reach the disk (one sync per batch of many).
//! - [`inbound`]: customer email coming in, parsed, its reply text and answer found.
//! - [`outbox`]: delivering the outbox over SMTP, never losing and never re-sending a message.
//! - [`templates`]: the parsed templates and answer words, kept for the process.

pub mod compose;
pub mod durable;
pub mod inbound;
pub mod outbox;
pub mod templates;
