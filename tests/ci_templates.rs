//! The CI templates `mesa init --ci KIND` and `mesa ci install KIND` write: where they go, the
//! schedule, the scheduled script (the very file the shared-outbox tests run), and validation
//! by the ecosystem's own schemas (check-jsonschema's bundled GitHub workflow and GitLab CI
//! schemas; Forgejo Actions uses GitHub's workflow syntax). Skipped with a notice when
//! check-jsonschema is missing; required when MESA_REQUIRE_CI_SCHEMA=1 (as in CI).

mod common;

use common::git::{git, TestDesk, MESA};
use std::path::Path;
use std::process::Command;

const KINDS: [(&str, &str, &str); 3] = [
    (
        "github",
        ".github/workflows/mesa.yml",
        "vendor.github-workflows",
    ),
    ("gitlab", ".gitlab-ci.yml", "vendor.gitlab-ci"),
    (
        "forgejo",
        ".forgejo/workflows/mesa.yml",
        "vendor.github-workflows",
    ),
];

fn schema_checker() -> bool {
    let found = Command::new("check-jsonschema")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("MESA_REQUIRE_CI_SCHEMA").is_none(),
            "check-jsonschema is required (MESA_REQUIRE_CI_SCHEMA is set): pip install check-jsonschema"
        );
        eprintln!("NOTICE: check-jsonschema not found: CI templates not schema-checked (pip install check-jsonschema)");
    }
    found
}

fn validate(file: &Path, schema: &str) {
    let out = Command::new("check-jsonschema")
        .args(["--builtin-schema", schema])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{} fails {schema}:\n{}\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ci_install_writes_valid_templates_and_the_scheduled_script() {
    let check = schema_checker();
    let script = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mesa-scheduled.sh"),
    )
    .unwrap();
    let d = TestDesk::new();
    for (kind, path, schema) in KINDS {
        let before = d.head();
        let cron = "*/20 13-22 * * 1-6";
        let out = d.ok(
            "2026-11-02T08:00:00-05:00",
            &["ci", "install", kind, "--cron", cron],
        );
        assert!(out.contains(path), "{out}");
        let text = std::fs::read_to_string(d.root.join(path)).unwrap();
        assert!(text.contains(cron), "{kind}: the schedule is set");
        assert!(!text.contains("@CRON@"));
        for secret in ["MESA_SMTP_USER", "MESA_SMTP_PASSWORD", "MESA_IMAP_PASSWORD"] {
            assert!(text.contains(secret), "{kind}: secret {secret} by name");
        }
        assert!(text.contains("check --history"));
        assert!(text.contains("scripts/mesa-scheduled.sh"));
        assert!(text.contains("build --public"));
        assert!(!text.contains("--force"), "{kind}: never force-push");
        // One commit; the script is the repository's own.
        assert_ne!(d.head(), before);
        assert!(d.status().trim().is_empty(), "{kind}: everything committed");
        assert_eq!(
            std::fs::read_to_string(d.root.join("scripts/mesa-scheduled.sh")).unwrap(),
            script
        );
        if check {
            validate(&d.root.join(path), schema);
        }
        // Installing again changes nothing; a different file there is refused.
        let head = d.head();
        d.ok(
            "2026-11-02T08:00:00-05:00",
            &["ci", "install", kind, "--cron", cron],
        );
        assert_eq!(d.head(), head);
        let err = d.run("2026-11-02T08:00:00-05:00", &["ci", "install", kind]);
        assert_eq!(
            err.status.code(),
            Some(1),
            "another schedule over an existing file"
        );
        assert!(String::from_utf8_lossy(&err.stderr).contains(path));
    }
    // Bad input: an unknown system, a malformed schedule.
    let out = d.run("2026-11-02T08:00:00-05:00", &["ci", "install", "jenkins"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("github, gitlab, forgejo"));
    let out = d.run(
        "2026-11-02T08:00:00-05:00",
        &["ci", "install", "github", "--cron", "often"],
    );
    assert_eq!(out.status.code(), Some(2));
    // The script parses as POSIX sh.
    let out = Command::new("sh")
        .arg("-n")
        .arg(d.root.join("scripts/mesa-scheduled.sh"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn init_with_ci_writes_a_desk_with_its_ci() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("desk");
    let out = Command::new(MESA)
        .args([
            "--lang",
            "en",
            "init",
            "--sample",
            dir.to_str().unwrap(),
            "--ci",
            "gitlab",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dir.join(".gitlab-ci.yml").is_file());
    assert!(dir.join("scripts/mesa-scheduled.sh").is_file());
    assert!(git(&dir, &["status", "--porcelain"]).trim().is_empty());
    if schema_checker() {
        validate(&dir.join(".gitlab-ci.yml"), "vendor.gitlab-ci");
    }
    // An unknown system creates nothing.
    let bad = tmp.path().join("bad");
    let out = Command::new(MESA)
        .args([
            "--lang",
            "en",
            "init",
            "--sample",
            bad.to_str().unwrap(),
            "--ci",
            "travis",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!bad.join("desk.yaml").exists());
}
