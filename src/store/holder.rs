//! Who holds a lock: a process, recognised later as alive or dead (its pid and start time).
//! Shared by the desk lock ([`crate::store::lock`]) and the git lock a commit takes
//! ([`crate::store::git`]).

/// Who holds a lock, as its file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    pub start: Option<u64>,
    pub command: String,
}

impl Holder {
    pub fn me(command: &str) -> Holder {
        let pid = std::process::id();
        Holder {
            pid,
            start: process_start(pid),
            command: command.replace(['\n', '\r'], " "),
        }
    }

    pub fn to_text(&self) -> String {
        format!(
            "pid {}\nstart {}\ncommand {}\n",
            self.pid,
            self.start.map(|s| s.to_string()).unwrap_or_default(),
            self.command
        )
    }

    pub fn parse(text: &str) -> Option<Holder> {
        let mut pid = None;
        let mut start = None;
        let mut command = String::new();
        for line in text.lines() {
            match line.split_once(' ') {
                Some(("pid", v)) => pid = v.trim().parse().ok(),
                Some(("start", v)) => start = v.trim().parse().ok(),
                Some(("command", v)) => command = v.to_string(),
                _ => {}
            }
        }
        Some(Holder {
            pid: pid?,
            start,
            command,
        })
    }

    /// Whether the holder still runs: its pid exists and (where the system says) started at
    /// the recorded time, so a reused pid does not keep a dead holder's lock alive.
    pub fn alive(&self) -> bool {
        match process_start(self.pid) {
            Some(now) => self.start.is_none_or(|s| s == now),
            None => !cfg!(target_os = "linux") && self.pid != 0,
        }
    }
}

/// The start time of a process (clock ticks since boot, from `/proc/PID/stat`), or `None`
/// when there is no such process (or no `/proc`).
pub fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after = &stat[stat.rfind(')')? + 1..];
    after.split_whitespace().nth(19)?.parse().ok()
}

/// The contents mesa writes into a git lock file it takes itself (`index.lock`, see
/// [`crate::store::git`]): who holds it, so that a killed holder's lock is recognised as stale
/// by any later command, however many kills ago it was left.
pub fn git_lock_marker(command: &str) -> String {
    Holder::me(command).to_text()
}
