//! Shared by the life-cycle, multi-clone and history tests: a real desk in a real git repository
//! in a temp folder (a copy of the sample desk's desk.yaml, kb/ and theme/, no tickets), and
//! the real `mesa` binary.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const MESA: &str = env!("CARGO_BIN_EXE_mesa");

/// Runs `git` in `dir`, panicking with its output when it fails.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {} failed:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Makes `dir` a git repository (branch main, the test identity) with everything in it
/// committed.
pub fn init_committed(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    identity(dir);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "desk"]);
}

/// HEAD's commit id.
pub fn head(dir: &Path) -> String {
    git(dir, &["rev-parse", "HEAD"]).trim().to_string()
}

/// Whether the work tree has no change and no untracked file.
pub fn is_clean(dir: &Path) -> bool {
    git(dir, &["status", "--porcelain"]).trim().is_empty()
}

/// Sets git's identity for a repository (so commits made by git itself work).
pub fn identity(dir: &Path) {
    git(dir, &["config", "user.name", "Laura Martínez"]);
    git(dir, &["config", "user.email", "lmartinez@sgm.example.co"]);
    git(dir, &["config", "commit.gpgsign", "false"]);
}

/// A desk in a git repository.
pub struct TestDesk {
    _tmp: Option<tempfile::TempDir>,
    pub root: PathBuf,
    pub agent: String,
}

impl TestDesk {
    /// The sample desk's configuration, kb and theme (no tickets), committed.
    pub fn new() -> TestDesk {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("desk");
        let src = Path::new(env!("CARGO_MANIFEST_DIR"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::copy(src.join("desk.yaml"), root.join("desk.yaml")).unwrap();
        super::copy_dir(&src.join("kb"), &root.join("kb"));
        super::copy_dir(&src.join("theme"), &root.join("theme"));
        std::fs::write(root.join(".gitignore"), "/outbox/\n/_site/\n/rejected/\n").unwrap();
        init_committed(&root);
        TestDesk {
            _tmp: Some(tmp),
            root,
            agent: "lmartinez".into(),
        }
    }

    /// An existing clone.
    pub fn at(root: &Path) -> TestDesk {
        TestDesk {
            _tmp: None,
            root: root.to_path_buf(),
            agent: "lmartinez".into(),
        }
    }

    pub fn run(&self, now: &str, args: &[&str]) -> Output {
        Command::new(MESA)
            .current_dir(&self.root)
            .args([
                "--desk",
                self.root.to_str().unwrap(),
                "--now",
                now,
                "--lang",
                "en",
            ])
            .args(args)
            .env("MESA_AGENT", &self.agent)
            .env_remove("MESA_DESK")
            .env_remove("MESA_NOW")
            .env_remove("MESA_LANG")
            .output()
            .expect("mesa runs")
    }

    /// Runs mesa and asserts success; returns stdout.
    pub fn ok(&self, now: &str, args: &[&str]) -> String {
        let out = self.run(now, args);
        assert!(
            out.status.success(),
            "mesa {args:?} failed ({:?}):\n{}\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs mesa, asserts it fails with exit 1 and leaves the repository untouched; returns
    /// stderr.
    pub fn refused(&self, now: &str, args: &[&str]) -> String {
        let head = self.head();
        let status = self.status();
        let out = self.run(now, args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "mesa {args:?} should be refused:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(self.head(), head, "a refused step must not commit");
        assert_eq!(
            self.status(),
            status,
            "a refused step must not touch the working folder"
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    pub fn json(&self, now: &str, args: &[&str]) -> Value {
        let mut all = vec!["--format", "json"];
        all.extend_from_slice(args);
        let out = self.ok(now, &all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    pub fn show(&self, id: &str) -> Value {
        self.json("2030-01-01T00:00:00-05:00", &["show", id])
    }

    pub fn head(&self) -> String {
        git(&self.root, &["rev-parse", "HEAD"]).trim().to_string()
    }

    /// `git status --porcelain` (the outbox is ignored).
    pub fn status(&self) -> String {
        git(&self.root, &["status", "--porcelain"])
    }

    /// Creates a ticket and returns its case number.
    pub fn new_ticket(&self, now: &str, extra: &[&str]) -> String {
        let mut args = vec![
            "new",
            "--channel",
            "phone",
            "--customer",
            "clinica-santa-helena",
            "--requester",
            "Marcela Rincón <sistemas@santahelena.example.co>",
            "--title",
            "Caso de prueba",
            "--description",
            "La usuaria reporta el problema.",
        ];
        args.extend_from_slice(extra);
        let v = self.json(now, &args);
        v["id"]
            .as_str()
            .expect("id in the output of mesa new")
            .to_string()
    }

    /// Records every missing playbook check of the ticket's current level as done.
    pub fn verify_missing(&self, now: &str, id: &str) {
        let v = self.show(id);
        for c in v["missing_checks"].as_array().unwrap() {
            self.ok(
                now,
                &["verify", id, c.as_str().unwrap(), "--result", "done"],
            );
        }
    }

    /// `mesa check --history FROM..HEAD` passes.
    pub fn history_clean(&self, from: &str) {
        let range = format!("{from}..HEAD");
        let out = self.run("2030-01-01T00:00:00-05:00", &["check", "--history", &range]);
        assert!(
            out.status.success(),
            "history check failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Every queued email's kind for a case.
    pub fn outbox_kinds(&self, id: &str) -> Vec<String> {
        let dir = self.root.join("outbox");
        let mut kinds = Vec::new();
        if let Ok(entries) = std::fs::read_dir(&dir) {
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            for n in names {
                if n.contains(id) {
                    let meta: Value = serde_json::from_str(
                        &std::fs::read_to_string(dir.join(&n).join("meta.json")).unwrap(),
                    )
                    .unwrap();
                    kinds.push(meta["kind"].as_str().unwrap().to_string());
                }
            }
        }
        kinds
    }

    pub fn ticket_path(&self, id: &str) -> PathBuf {
        self.root
            .join(format!("tickets/20{}/{}/{id}.md", &id[0..2], &id[2..4]))
    }
}

/// A bare repository `to` cloned from the desk at `from`: the remote clones sync through.
pub fn bare_remote(from: &Path, to: &Path) {
    git(
        to.parent().unwrap(),
        &[
            "clone",
            "-q",
            "--bare",
            from.to_str().unwrap(),
            to.to_str().unwrap(),
        ],
    );
}

/// A clone of `url` (a path or a `git://` address) at `to` with the test identity and mesa's
/// hooks (the ticket merge driver among them), as agent `agent`.
pub fn clone(url: &str, to: &Path, agent: &str) -> TestDesk {
    git(
        to.parent().unwrap(),
        &["clone", "-q", url, to.to_str().unwrap()],
    );
    identity(to);
    let mut d = TestDesk::at(to);
    d.agent = agent.into();
    d.ok("2026-11-02T07:00:00-05:00", &["hooks", "install"]);
    d
}
