//! Writing the build manifest (`mesa::output::site::manifest`): a full build writes it section
//! by section straight to its file (a million tickets make sections of over a gigabyte, never
//! held in memory) and checksums them from the file; the next build reads it back and finds
//! nothing to do. When it cannot be written, `mesa build` still succeeds but says so and why
//! (a million-ticket build once ended without one and without a word), and the next build is
//! a full one.

mod common;

use std::path::Path;
use std::process::Command;

const NOW: &str = "2026-11-26T10:00:00-05:00";

/// `mesa build --out _site` through the binary: (incremental?, stderr).
fn build(root: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(root)
        .args(["--now", NOW, "--format", "json", "build", "--out"])
        .arg(root.join("_site"))
        .env("MESA_AGENT", "lmartinez")
        .env_remove("MESA_DESK")
        .env_remove("MESA_NOW")
        .env("MESA_LANG", "en")
        .output()
        .expect("mesa runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "mesa build ({:?}): {stderr}",
        out.status
    );
    let v: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).expect("json summary");
    (v["incremental"].as_bool().expect("incremental"), stderr)
}

#[test]
fn a_full_build_writes_its_manifest_and_says_why_when_it_cannot() {
    let (_tmp, root) = common::site::sample_git_desk("/outbox/\n/_site/\n");
    let file = root.join(".git/mesa/site.bin");

    let (incremental, stderr) = build(&root);
    assert!(!incremental, "the first build is a full one");
    assert!(!stderr.contains("manifest"), "no warning: {stderr}");
    let bytes = std::fs::read(&file).expect("the full build wrote its manifest");
    assert_eq!(&bytes[..8], b"MESASITE");
    // Read back whole: every section's checksum (taken from the file) holds, so nothing is
    // built again.
    let (incremental, stderr) = build(&root);
    assert!(
        incremental,
        "an unchanged desk reads the manifest back: {stderr}"
    );

    // The manifest's place taken by a folder: the build succeeds and says why it wrote none.
    std::fs::remove_file(&file).unwrap();
    std::fs::create_dir_all(file.join("in-the-way")).unwrap();
    let (incremental, stderr) = build(&root);
    assert!(!incremental, "no manifest: a full build");
    assert!(
        stderr.contains("the build manifest was not written (its file could not be written)"),
        "the reason is printed: {stderr}"
    );
    std::fs::remove_dir_all(&file).unwrap();
    let (incremental, _) = build(&root);
    assert!(!incremental, "still no manifest: a full build");
    assert!(file.is_file(), "written again");
    let (incremental, _) = build(&root);
    assert!(incremental);
}
