//! JSON Schemas of the file formats, generated from the same types that read them, so editors
//! (the YAML language server) validate tickets, articles and `desk.yaml` as agents type.

use schemars::schema_for;

/// The schema of `what` (`ticket`, `article`, `catalog`, `playbook` or `desk`) as pretty JSON.
pub fn schema(what: &str) -> Option<String> {
    let schema = match what {
        "ticket" => schema_for!(crate::model::ticket::TicketFront),
        "article" => schema_for!(crate::model::kb::ArticleFront),
        "catalog" => schema_for!(crate::model::kb::CatalogFront),
        "playbook" => schema_for!(crate::model::kb::PlaybookFront),
        "desk" => schema_for!(crate::model::desk::DeskConfig),
        _ => return None,
    };
    serde_json::to_string_pretty(&schema).ok()
}

pub const KINDS: &[&str] = &["ticket", "article", "catalog", "playbook", "desk"];
