//! `mesa doctor`: prints what this clone lacks ([`crate::store::doctor`]) and how to fix each;
//! exit 1 when something is missing.

use super::common::{Format, Global};
use crate::model::diag::Result;
use crate::tr;
use clap::Args;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct DoctorArgs {}

/// `mesa doctor`.
pub fn run(global: &Global, _a: DoctorArgs) -> Result<ExitCode> {
    let root = global.desk_root()?;
    let config = crate::model::load::load_config(&root.join(crate::model::load::DESK_FILE)).ok();
    let findings = crate::store::doctor::examine(&root, config.as_ref())?;
    let ok = findings.is_empty();
    match global.format {
        Format::Json => println!("{}", serde_json::json!({ "ok": ok, "findings": findings })),
        Format::Text => {
            for f in &findings {
                println!("✗ {}", f.problem);
                println!("  {} {}", tr!("doctor.fix"), f.fix);
            }
            if ok {
                println!("{}", tr!("doctor.ok"));
            } else if !global.quiet {
                eprintln!("{}", tr!("doctor.problems", count = findings.len()));
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
