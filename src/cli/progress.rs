//! The site build's progress on the terminal: a bar on a terminal, a line every tenth of the
//! work otherwise.

use crate::output::site::output::ProgressSink;
use crate::tr;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Feedback while rendering: a bar on a terminal, plain lines otherwise.
#[derive(Debug)]
pub struct TerminalProgress {
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
    total: AtomicU64,
    done: AtomicU64,
    next_line: AtomicU64,
}

impl TerminalProgress {
    /// `None` when quiet: the build then reports nothing.
    pub fn unless_quiet(quiet: bool) -> Option<Arc<dyn ProgressSink>> {
        if quiet {
            return None;
        }
        let tty = std::io::stderr().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let bar = (!quiet && tty && !no_color).then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg:>12} [{bar:30}] {pos}/{len} {elapsed}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            b
        });
        Some(Arc::new(TerminalProgress {
            plain: bar.is_none(),
            bar,
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            next_line: AtomicU64::new(0),
        }))
    }
}

impl ProgressSink for TerminalProgress {
    /// A phase starts (a line when not on a terminal).
    fn phase(&self, msg: &str) {
        if let Some(b) = &self.bar {
            b.set_message(msg.to_string());
        } else if self.plain {
            eprintln!("{msg}");
        }
    }

    fn add_total(&self, n: u64) {
        let total = self.total.fetch_add(n, Ordering::Relaxed) + n;
        if let Some(b) = &self.bar {
            b.set_length(total);
        }
    }

    fn inc(&self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(b) = &self.bar {
            b.inc(1);
        } else if self.plain {
            // Plain output: a line every tenth of the work, not one per page.
            let total = self.total.load(Ordering::Relaxed).max(1);
            let step = (total / 10).max(1);
            let next = self.next_line.load(Ordering::Relaxed);
            if done >= next + step
                && self
                    .next_line
                    .compare_exchange(next, done, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                eprintln!("{}", tr!("site.progress_pages", done = done, total = total));
            }
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
