//! Holiday rule sets computed for any year.

/// Rule sets a calendar may name in `holidays:`.
pub const RULE_SETS: &[&str] = &["co"];
