//! The outputs: what people read, computed from the model and the rules.
//!
//! - [`check`]: `mesa check` over a whole desk or some files; [`history`]: `check --history`.
//! - [`facts`]: what check, report and list derived from each ticket, kept between runs.
//! - [`report`]: the supervisors' figures; [`csv`]: the one CSV convention of every download.
//! - [`markdown`], [`search`], [`site`]: the static site; [`server`]: serving it locally.

pub mod check;
pub mod csv;
pub mod facts;
pub mod history;
pub mod http;
pub mod load;
pub mod markdown;
pub mod postlist;
pub mod report;
pub mod search;
pub mod server;
pub mod site;
pub mod summary;
pub mod trend;
