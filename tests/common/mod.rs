//! The one kit of the integration tests. Every test binary has `mod common;`:
//! - here: the sample desk copied to a temp folder, the real `mesa` binary with a clean
//!   environment, its output as text;
//! - [`git`]: a desk in a real git repository (`TestDesk`), git itself;
//! - [`gitserver`]: `git daemon` on loopback serving a shared desk with the push gate;
//! - [`serve`], [`http`]: `mesa serve` on loopback and raw HTTP to it;
//! - [`browser`]: headless Chromium through chromedriver;
//! - [`smtp`]: a fault-injecting SMTP sink;
//! - [`mail_corpus`]: real-shaped customer emails (encodings, charsets, Maildir delivery);
//! - [`sla`]: SLA fixtures and a generator of random valid tickets.
//! - [`facts`]: every answer of check, report and list, warm and cold (the facts cache).
#![allow(dead_code)]

pub mod browser;
pub mod facts;
pub mod git;
pub mod gitserver;
pub mod http;
pub mod mail_corpus;
pub mod serve;
pub mod site;
pub mod sla;
pub mod smtp;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root, which is also the sample desk.
pub fn sample_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies a folder tree (regular files and folders; anything else is skipped).
pub fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.expect("walk");
        let rel = entry.path().strip_prefix(from).expect("prefix");
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).expect("mkdir");
        } else if entry.file_type().is_file() {
            std::fs::copy(entry.path(), &dest).expect("copy");
        }
    }
}

/// A temp folder holding a copy of the sample desk's desk.yaml and the folders `parts`
/// (of kb, tickets, theme).
pub fn sample_copy(parts: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = sample_root();
    std::fs::copy(root.join("desk.yaml"), dir.path().join("desk.yaml")).expect("desk.yaml");
    for part in parts {
        copy_dir(&root.join(part), &dir.path().join(part));
    }
    dir
}

/// Runs the real binary on `desk` at `now` as agent `lmartinez`, with a clean environment.
pub fn mesa_at(desk: &Path, now: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(desk)
        .args(["--now", now])
        .args(args)
        .env("MESA_AGENT", "lmartinez")
        .env_remove("MESA_DESK")
        .env_remove("MESA_LANG")
        .env_remove("MESA_NOW")
        .output()
        .expect("run mesa")
}

/// A temporary desk with the sample's desk.yaml and kb/ and an empty tickets/ folder; with
/// `tickets`, the sample tickets too.
pub fn temp_desk(tickets: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = sample_root();
    std::fs::copy(root.join("desk.yaml"), dir.path().join("desk.yaml")).expect("desk.yaml");
    copy_dir(&root.join("kb"), &dir.path().join("kb"));
    if tickets {
        copy_dir(&root.join("tickets"), &dir.path().join("tickets"));
    } else {
        std::fs::create_dir_all(dir.path().join("tickets")).expect("tickets");
    }
    dir
}

/// Runs the real binary with a clean environment (no desk, language or clock from outside).
pub fn mesa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mesa"))
        .args(args)
        .env_remove("MESA_DESK")
        .env_remove("MESA_LANG")
        .env_remove("MESA_NOW")
        .env_remove("MESA_AGENT")
        .output()
        .expect("run mesa")
}

/// `mesa --desk DIR check` plus `extra` arguments.
pub fn check(desk: &Path, extra: &[&str]) -> Output {
    let d = desk.to_str().expect("utf-8 path");
    let mut args = vec!["--desk", d, "check"];
    args.extend_from_slice(extra);
    mesa(&args)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// An external checker (the Nu HTML Checker, axe-core) installed from the npm registry by
/// `.ci/run` into `.ci/tools/node_modules/`, or where `env_path` points. `None` after saying
/// clearly that the test is skipped; with `require_var=1` (CI) a missing tool fails instead.
pub fn tool_or_skip(
    test: &str,
    env_path: &str,
    in_tools: &str,
    require_var: &str,
) -> Option<PathBuf> {
    let found = std::env::var_os(env_path)
        .map(PathBuf::from)
        .or_else(|| Some(sample_root().join(".ci/tools/node_modules").join(in_tools)))
        .filter(|p| p.is_file());
    if found.is_some() {
        return found;
    }
    let message = format!(
        "{in_tools} not found: run `npm install --prefix .ci/tools vnu-jar axe-core` (as .ci/run does) or set {env_path}"
    );
    if std::env::var(require_var).is_ok_and(|v| v == "1") {
        panic!("{message}; {require_var}=1 requires this check to run");
    }
    let line = format!("\nSKIPPED `{test}`: {message}\n");
    let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    None
}

/// Replaces `from` with `to` (same length) in `path`, keeping the file's size and putting its
/// modification time back, as a careful hand edit or a restore tool does.
pub fn edit_keeping_mtime(path: &Path, from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{} holds {from}", path.display());
    let mtime = std::fs::metadata(path).unwrap().modified().unwrap();
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(mtime).unwrap();
    assert_eq!(std::fs::metadata(path).unwrap().modified().unwrap(), mtime);
}

/// An .ics file with one all-day closing (14 September, every year since 2020), as a desk's
/// holiday file.
pub const ANNIVERSARY_ICS: &str = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Aniversario SGM\r\nDTSTART;VALUE=DATE:20200914\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

/// Gives the sample desk's working calendar (the one with `holidays: co`) the holiday file
/// `cierres.ics` holding `ics`.
pub fn add_holiday_file(desk: &Path, ics: &str) {
    let yaml = std::fs::read_to_string(desk.join("desk.yaml")).unwrap();
    assert!(yaml.contains("    holidays: co\n"));
    std::fs::write(
        desk.join("desk.yaml"),
        yaml.replacen(
            "    holidays: co\n",
            "    holidays: co\n    holidays_ics: cierres.ics\n",
            1,
        ),
    )
    .unwrap();
    std::fs::write(desk.join("cierres.ics"), ics).unwrap();
}

/// `mesa new` arguments that classify a ticket at once as the playbook's "no carga la página".
pub const INCIDENT: [&str; 10] = [
    "--type",
    "incident",
    "--incident",
    "no-carga-pagina",
    "--priority",
    "alta",
    "--impact",
    "high",
    "--urgency",
    "medium",
];
