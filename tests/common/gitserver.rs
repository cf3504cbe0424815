//! A real git server on loopback: `git daemon` with receive-pack enabled, serving the bare
//! repositories under a folder, and a shared desk made with `mesa init` behind it.

use super::git::{git, MESA};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct GitServer {
    child: Child,
    pub port: u16,
    pub base: PathBuf,
}

impl GitServer {
    /// Serves the bare repositories under `base` (read and push) on 127.0.0.1.
    pub fn start(base: &Path) -> GitServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("git")
            .args([
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--enable=receive-pack",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.display()),
                &base.display().to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts");
        // Wait until it accepts connections.
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "git daemon did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
        GitServer {
            child,
            port,
            base: base.to_path_buf(),
        }
    }

    pub fn url(&self, repo: &str) -> String {
        format!("git://127.0.0.1:{}/{repo}", self.port)
    }
}

impl Drop for GitServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new desk (`mesa init`) pushed to `<base>/desk.git`, a bare repository with the server
/// gate installed. Returns the bare repository's path.
pub fn shared_desk(tmp: &Path) -> PathBuf {
    let src = tmp.join("init");
    let out = Command::new(MESA)
        .args(["--lang", "en", "init", "--sample", src.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The shared branch is `main`, whatever git's default branch name here.
    git(&src, &["branch", "-M", "main"]);
    let base = tmp.join("srv");
    std::fs::create_dir_all(&base).unwrap();
    let bare = base.join("desk.git");
    git(
        tmp,
        &[
            "clone",
            "-q",
            "--bare",
            src.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let out = Command::new(MESA)
        .args([
            "--lang",
            "en",
            "hooks",
            "install",
            "--server",
            bare.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    bare
}

/// `git` in `dir` without panicking: (success, stdout + stderr).
pub fn try_git(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git runs");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Pushes HEAD to main, rebasing on what others pushed meanwhile, until it lands or the
/// server refuses it for another reason; returns (landed, last output).
pub fn push_with_retry(dir: &Path) -> (bool, String) {
    let mut last = String::new();
    for _ in 0..20 {
        let (ok, out) = try_git(dir, &["push", "origin", "HEAD:main"]);
        if ok {
            return (true, out);
        }
        last = out;
        if !(last.contains("fetch first")
            || last.contains("non-fast-forward")
            || last.contains("cannot lock ref"))
        {
            return (false, last);
        }
        let (ok, out) = try_git(dir, &["pull", "-q", "--rebase", "origin", "main"]);
        assert!(ok, "pull --rebase failed: {out}");
    }
    (false, last)
}

/// An instant in November 2026, in Bogotá's offset: `at(2, 9, 0)` is 2 Nov 09:00.
pub fn at(d: u32, hh: u32, mm: u32) -> String {
    format!("2026-11-{d:02}T{hh:02}:{mm:02}:00-05:00")
}
