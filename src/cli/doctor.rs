//! `mesa doctor [--repair]`: prints what [`crate::steps::doctor`] found or repaired.

use super::common::{Format, Global};
use crate::model::diag::Result;
use crate::tr;
use std::process::ExitCode;

/// `mesa doctor [--repair]`: exit 0 when nothing is (left) to repair, 1 otherwise.
pub fn run(global: &Global, repair: bool) -> Result<ExitCode> {
    let root = global.desk_root()?;
    let f = if repair {
        crate::steps::doctor::repair(&root)?
    } else {
        crate::steps::doctor::examine(&root)?
    };
    let ok = f.problems.is_empty();
    match global.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({
                "ok": ok,
                "problems": f.problems,
                "repaired": f.repaired,
                "notes": f.notes,
            })
        ),
        Format::Text => {
            for line in f.problems.iter().chain(&f.repaired).chain(&f.notes) {
                println!("{line}");
            }
            if !global.quiet {
                let key = match (ok, repair) {
                    (true, true) => "doctor.repaired",
                    (true, false) => "doctor.ok",
                    (false, _) => "doctor.problems",
                };
                eprintln!("{}", tr!(key, count = f.problems.len()));
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
