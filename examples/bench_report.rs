//! Benchmark of `mesa report` and of one ticket's clocks.
//!
//! ```text
//! cargo run --release --example gen_desk -- --tickets 100000 --out /tmp/desk100k
//! cargo build --release
//! cargo run --release --example bench_report -- --desk /tmp/desk100k
//! ```
//!
//! Times the real release binary (`target/release/mesa report`, wall clock and CPU time of the
//! child, best and median of `--runs`) in text, csv and json, with `--trend` and `--load`; with
//! `--baseline PATH` (e.g. main's binary) each command runs interleaved with the baseline's
//! (A B A B) and the load average is printed before and after. Then, in-process, the clocks of every ticket and of one
//! ticket repeated, in microseconds. Targets (issue 4): the report under 3 s for 100,000
//! tickets; one ticket's clocks in microseconds.

use chrono::{DateTime, Utc};
use clap::Parser;
use mesa::model::load::Desk;
use mesa::rules::calendar::Calendars;
use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

#[derive(Parser)]
struct Args {
    /// A desk made by `gen_desk`.
    #[arg(long)]
    desk: PathBuf,
    /// Runs of each report command.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The report's clock (RFC 3339).
    #[arg(long, default_value = "2026-12-31T12:00:00-05:00")]
    now: String,
    /// Another mesa binary to time interleaved with this one (A B A B).
    #[arg(long)]
    baseline: Option<PathBuf>,
}

/// Children's CPU time so far (user + system), in seconds.
fn children_cpu() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// (wall, cpu) of one run of `mesa args`.
fn time_one(mesa: &std::path::Path, args: &[String]) -> (f64, f64) {
    let cpu = children_cpu();
    let t = Instant::now();
    let out = Command::new(mesa).args(args).output().expect("run mesa");
    let wall = t.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{} {args:?}: {}",
        mesa.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    (wall, children_cpu() - cpu)
}

fn summary(v: &mut [(f64, f64)]) -> String {
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut cpu: Vec<f64> = v.iter().map(|x| x.1).collect();
    cpu.sort_by(f64::total_cmp);
    format!(
        "best {:.3} s, median {:.3} s wall; cpu best {:.3} s, median {:.3} s",
        v[0].0,
        v[v.len() / 2].0,
        cpu[0],
        cpu[cpu.len() / 2]
    )
}

fn main() {
    let args = Args::parse();
    let exe = std::env::current_exe().expect("current exe");
    let mesa = exe
        .parent()
        .and_then(|p| p.parent())
        .map(|p| p.join("mesa"))
        .filter(|p| p.is_file())
        .expect("build the release binary first: cargo build --release");
    let count = mesa::model::load::ticket_paths(&args.desk).len();
    println!(
        "desk: {} ({count} tickets), binary: {}",
        args.desk.display(),
        mesa.display()
    );
    println!("load average before: {}", loadavg());
    let variants: [&[&str]; 6] = [
        &["--format", "text", "report"],
        &["--format", "text", "report", "--by", "priority"],
        &["--format", "csv", "report", "--by", "month"],
        &["--format", "json", "report", "--by", "agent"],
        &["--format", "text", "report", "--trend", "month"],
        &["--format", "text", "report", "--load"],
    ];
    for v in variants {
        let mut cmd: Vec<String> = vec![
            "--desk".into(),
            args.desk.display().to_string(),
            "--now".into(),
            args.now.clone(),
        ];
        cmd.extend(v.iter().map(|s| s.to_string()));
        let (mut ours, mut base) = (Vec::new(), Vec::new());
        for _ in 0..args.runs {
            ours.push(time_one(&mesa, &cmd));
            if let Some(b) = &args.baseline {
                base.push(time_one(b, &cmd));
            }
        }
        println!(
            "mesa {:<42} this:     {}",
            v[2..].join(" ") + &format!(" ({})", v[1]),
            summary(&mut ours)
        );
        if !base.is_empty() {
            println!("{:<47} baseline: {}", "", summary(&mut base));
        }
    }
    println!("load average after: {}", loadavg());

    let (desk, _) = Desk::load(&args.desk).expect("desk loads");
    let (cals, _) = Calendars::new(&desk);
    let now: DateTime<Utc> = DateTime::parse_from_rfc3339(&args.now)
        .expect("--now")
        .with_timezone(&Utc);
    let t = Instant::now();
    let (tickets, _) = mesa::model::load::load_tickets(&args.desk);
    println!(
        "load {} tickets (parallel): {:.3} s",
        tickets.len(),
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    for tk in &tickets {
        std::hint::black_box(mesa::rules::sla::walk(&desk, &tk.front, now));
    }
    let walk = t.elapsed().as_secs_f64();
    println!(
        "replaying every log through the workflow alone, one thread: {:.3} s, {:.1} µs per ticket",
        walk,
        walk * 1e6 / tickets.len().max(1) as f64
    );
    let t = Instant::now();
    let mut clocks = 0usize;
    for tk in &tickets {
        clocks += mesa::rules::sla::clocks_with(&desk, &cals, &tk.front, now).len();
    }
    let all = t.elapsed().as_secs_f64();
    println!(
        "clocks of every ticket, one thread: {:.3} s, {:.1} µs per ticket ({clocks} clocks)",
        all,
        all * 1e6 / tickets.len().max(1) as f64
    );
    // What `mesa check` adds per ticket: recorded targets against the calendars.
    let t = Instant::now();
    for tk in &tickets {
        let cals = mesa::rules::calendar::cached_calendars(&desk);
        std::hint::black_box(mesa::rules::sla::target_problems(&desk, &cals, &tk.front));
    }
    let check = t.elapsed().as_secs_f64();
    println!(
        "calendar checks of `mesa check` (sla::target_problems), one thread: {:.3} s, {:.2} µs per ticket",
        check,
        check * 1e6 / tickets.len().max(1) as f64
    );
    // One ticket with the longest log, repeated.
    if let Some(tk) = tickets.iter().max_by_key(|t| t.front.events.len()) {
        let n = 10_000;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(mesa::rules::sla::clocks_with(
                &desk,
                &cals,
                std::hint::black_box(&tk.front),
                now,
            ));
        }
        println!(
            "clocks of one ticket ({} events), repeated {n} times: {:.1} µs each",
            tk.front.events.len(),
            t.elapsed().as_secs_f64() * 1e6 / n as f64
        );
    }
}
