//! `mesa doctor [--repair]`: what this clone lacks ([`crate::store::doctor`]: hooks, merge
//! driver, `.gitattributes`, identity, mail settings) and what a killed or concurrent command
//! left ([`crate::steps::doctor`]: locks, a half-done step, a stale index), each with its fix;
//! `--repair` repairs the second kind. Exit 1 while anything is left (with `--repair`: while
//! anything of the second kind is left).

use super::common::{Format, Global};
use crate::model::diag::Result;
use crate::tr;
use std::process::ExitCode;

/// `mesa doctor [--repair]`.
pub fn run(global: &Global, repair: bool) -> Result<ExitCode> {
    let root = global.desk_root()?;
    let left = if repair {
        crate::steps::doctor::repair(&root)?
    } else {
        crate::steps::doctor::examine(&root)?
    };
    let config = crate::model::load::load_config(&root.join(crate::model::load::DESK_FILE)).ok();
    let setup = crate::store::doctor::examine(&root, config.as_ref())?;
    let count = left.problems.len() + setup.len();
    // `--repair` succeeds when what a killed command left is repaired; the clone's set-up
    // findings are still printed, but only `mesa doctor` fails on them.
    let ok = left.problems.is_empty() && (repair || setup.is_empty());
    match global.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({
                "ok": ok,
                "problems": left.problems,
                "repaired": left.repaired,
                "notes": left.notes,
                "findings": setup,
            })
        ),
        Format::Text => {
            for line in left
                .problems
                .iter()
                .chain(&left.repaired)
                .chain(&left.notes)
            {
                println!("{line}");
            }
            for f in &setup {
                println!("✗ {}", f.problem);
                println!("  {} {}", tr!("doctor.fix"), f.fix);
            }
            if count == 0 || (ok && repair) {
                if repair && !left.repaired.is_empty() {
                    println!("{}", tr!("doctor.repaired"));
                } else {
                    println!("{}", tr!("doctor.ok"));
                }
            } else if !global.quiet {
                eprintln!("{}", tr!("doctor.problems", count = count));
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
