//! mesa: a service desk run from a git repository.
//!
//! The crate is built in layers, bottom to top; a layer uses only the layers below it
//! (`scripts/module_graph.py` checks this and that no two modules import each other in a loop):
//!
//! 1. [`model`]: the desk's files as types (desk.yaml, knowledge base, tickets, front matter,
//!    YAML readers, diagnostics, case numbers, message catalogs) and loading them from disk.
//! 2. [`rules`]: the manual's process (the workflow state machine), calendars and holidays, SLA
//!    clocks, and validation of every file: the only place domain rules live.
//! 3. [`store`]: git: atomic writes and one commit per step, the ticket merge driver, hooks.
//! 4. [`mail`]: composing customer emails and delivering the outbox over SMTP.
//! 5. [`steps`]: the steps API, the one writer of tickets: a manual step as data in, an
//!    outcome out (events, commit, emails queued, next steps) or a refusal; also the sweep and
//!    knowledge-base drafts. Every front end calls it.
//! 6. [`output`]: what is read: `check`, `check --history`, reports, the static site, search
//!    and the local server.
//! 7. [`cli`]: the face: argument parsing, language activation, printing, exit codes. The only
//!    module that knows the terminal.
//!
//! See `docs/architecture.md` for the path of one event from `mesa escalate` to the site.

pub mod cli;
pub mod mail;
pub mod model;
pub mod output;
pub mod rules;
pub mod steps;
pub mod store;
