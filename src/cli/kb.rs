//! `mesa kb new --from-ticket ID`: the work is in [`crate::steps::kb_draft`].

use super::common::{Format, Global};
use crate::model::diag::Result;
use crate::steps::{
    self,
    kb_draft::{create_from_ticket, Created, DraftOptions},
};
use crate::tr;
use std::path::Path;
use std::process::ExitCode;

/// `mesa kb ...`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum KbCommand {
    /// Draft an article from a solved ticket (symptom, checks, solution), commit it and link
    /// ticket and article both ways.
    New {
        /// The solved ticket's case number.
        #[arg(long = "from-ticket", value_name = "ID")]
        from_ticket: String,
        /// Article id (file name); default: from the title.
        #[arg(long)]
        slug: Option<String>,
        /// Title; default: the ticket's title.
        #[arg(long)]
        title: Option<String>,
        /// Category; default: the playbook case or catalog entry of the ticket.
        #[arg(long)]
        category: Option<String>,
        /// Only write the files, do not commit.
        #[arg(long)]
        no_commit: bool,
    },
}

/// Runs `mesa kb ...`.
pub fn run(global: &Global, cmd: &KbCommand) -> Result<ExitCode> {
    match cmd {
        KbCommand::New {
            from_ticket,
            slug,
            title,
            category,
            no_commit,
        } => {
            let _lock = super::common::lock_desk(global)?;
            let (desk, now) = super::common::open_desk(global)?;
            let agent = steps::resolve_actor(&desk, global.agent.as_deref())?;
            let ticket = steps::load_ticket(&desk.root, from_ticket)?;
            let author = steps::author_of(agent, &now);
            let opts = DraftOptions {
                slug: slug.clone(),
                title: title.clone(),
                category: category.clone(),
            };
            let done = create_from_ticket(&desk, ticket, &opts, &agent.code, &author, !no_commit)?;
            print(global, &desk.root, &done);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn print(global: &Global, root: &Path, done: &Created) {
    let commit = done.commit.map(|o| o.to_string());
    match global.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({
                "ok": true,
                "article": done.draft.id,
                "path": done.draft.path,
                "ticket": done.ticket.front.id,
                "kb": done.ticket.front.kb,
                "commit": commit,
            })
        ),
        Format::Text => {
            println!(
                "{}",
                tr!(
                    "kbnew.created",
                    path = done.draft.path.display(),
                    id = done.ticket.front.id
                )
            );
            if !global.quiet {
                let commit = commit
                    .map(|c| c[..10].to_string())
                    .unwrap_or_else(|| tr!("cmd.not_committed"));
                println!(
                    "  {}",
                    tr!(
                        "kbnew.linked",
                        id = done.ticket.front.id,
                        article = done.draft.id,
                        commit = commit
                    )
                );
                println!(
                    "  {}",
                    tr!("kbnew.review", path = root.join(&done.draft.path).display())
                );
            }
        }
    }
}
