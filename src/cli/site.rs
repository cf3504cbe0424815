//! `mesa build` and `mesa serve`: the site is built by [`crate::output::site`] and served by
//! [`crate::output::server`]; this prints what they did.

use super::common::{Format, Global};
use crate::model::diag::Result;
use crate::output::{server, site};
use crate::tr;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{mpsc, Arc};
use std::time::Instant;

/// `mesa build [--out DIR] [--public]`: builds, prints warnings and the one-line summary.
pub fn build(global: &Global, out: Option<&Path>, public: bool) -> Result<std::process::ExitCode> {
    let root = global.desk_root()?;
    let out = match out {
        Some(o) => o.to_path_buf(),
        None => root.join("_site"),
    };
    let opts = site::BuildOptions {
        public,
        progress: super::progress::TerminalProgress::unless_quiet(global.quiet),
        now: Some(global.now()?),
        live_reload: false,
    };
    // The build stops on exactly what `mesa check` calls an error (unsafe and broken links,
    // refused files, broken tickets): both ask the same function.
    crate::output::site::output::trace("check");
    let (checked, desk, entries) = crate::output::check::check_desk_kept(&root)?;
    crate::output::site::output::trace("checked");
    if !checked.diagnostics.is_empty() {
        return Err(crate::model::diag::Error::Diagnostics(checked.diagnostics));
    }
    // Incremental when the build manifest says which pages the changes since reach.
    let built = site::manifest::build(&root, desk, &entries, &out, &opts, global.now.is_some())?;
    crate::output::site::output::trace("built");
    let summary = built.summary;
    for w in &summary.warnings {
        eprintln!("{}", tr!("site.warning", diagnostic = w));
    }
    if let Some(why) = built.not_saved {
        eprintln!(
            "{}",
            tr!("site.manifest_not_written", reason = why.reason())
        );
    }
    if global.format == Format::Json {
        println!(
            "{}",
            serde_json::json!({
                "ok": true,
                "incremental": built.incremental,
                "pages": summary.pages,
                "files": summary.files,
                "changed": summary.changed,
                "bytes": summary.bytes,
                "seconds": summary.elapsed.as_secs_f64(),
                "warnings": summary.warnings,
                "out": out,
            })
        );
    } else {
        // The summary is the command's result: printed even with --quiet (which only drops
        // the progress lines).
        eprintln!("{}", summary.line(&out));
    }
    Ok(std::process::ExitCode::SUCCESS)
}

/// `mesa serve [--port N] [--bind ADDR] [--public]`: builds the site into the desk's `_site/`,
/// serves it, and rebuilds on every change to the desk's sources until interrupted.
pub fn serve(
    global: &Global,
    port: u16,
    bind: &str,
    public: bool,
    allow_remote: bool,
) -> Result<ExitCode> {
    let desk_root = global.desk_root()?;
    if let Some(notice) = server::bind_policy(bind, public, allow_remote)? {
        // Printed even with --quiet: it says who can read the desk.
        eprintln!("{notice}");
    }
    let desk_root = desk_root.canonicalize().unwrap_or(desk_root);
    let out = desk_root.join("_site");
    let say = |line: String| {
        if !global.quiet {
            println!("{line}");
            let _ = std::io::stdout().flush();
        }
    };
    // The first build shows its progress (it can take a while on a big desk); rebuilds are quiet.
    let opts = |quiet: bool| -> Result<site::BuildOptions> {
        Ok(site::BuildOptions {
            public,
            progress: super::progress::TerminalProgress::unless_quiet(quiet),
            now: Some(global.now()?),
            live_reload: false,
        })
    };
    // The session keeps the last build, so a changed ticket re-renders only what shows it.
    let (mut session, summary) = site::Session::build(&desk_root, &out, &opts(global.quiet)?)?;
    for w in &summary.warnings {
        eprintln!("{}", tr!("site.warning", diagnostic = w));
    }
    say(summary.line(&out));
    let version = Arc::new(server::Version::new());
    let (tx, rx) = mpsc::channel();
    let _watcher = server::watch(&desk_root, tx)?;
    let server = server::Server::start(bind, port, &out, Arc::clone(&version))?;
    // Printed even with --quiet: the address is the command's result.
    println!("{}", tr!("serve.listening", url = server.url));
    let _ = std::io::stdout().flush();
    while let Some(changed) = server::next_batch(&rx) {
        let started = Instant::now();
        match opts(true).and_then(|o| session.rebuild(&changed, &o)) {
            Ok(_) => {
                version.bump();
                say(tr!(
                    "serve.rebuilt",
                    ms = started.elapsed().as_millis(),
                    files = changed.len()
                ));
            }
            Err(e) => eprintln!("{}", tr!("serve.rebuild_failed", error = e)),
        }
    }
    server.stop();
    Ok(ExitCode::SUCCESS)
}
