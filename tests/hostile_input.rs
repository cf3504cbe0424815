//! The reproductions of issue 11, with the real binary on real git repositories: hostile
//! values in arguments and ticket files, hostile files in the desk, far dates, and rules that
//! must agree between `mesa check` and `mesa build`. Never a panic, never a hang, never a
//! silent skip.

mod common;

use chrono::{Duration as Minutes, FixedOffset, TimeZone};
use common::git::{git, TestDesk, MESA};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn at(minutes: i64) -> String {
    let base = FixedOffset::west_opt(5 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 3, 8, 0, 0)
        .unwrap();
    (base + Minutes::minutes(minutes)).to_rfc3339()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn no_panic(o: &Output) {
    let t = text(o);
    assert!(!t.contains("panicked"), "{t}");
    assert!(o.status.code().is_some(), "killed by a signal: {t}");
}

const NEW: &[&str] = &[
    "new",
    "--channel",
    "phone",
    "--customer",
    "clinica-santa-helena",
    "--title",
    "Caso",
    "--description",
    "Texto.",
    "--requester",
];

#[test]
fn a_requester_that_would_inject_a_header_is_refused_by_new() {
    let d = TestDesk::new();
    for bad in [
        "A\r\nBcc: x@evil.example <a@b.c>",
        "A <a@b.c> junk",
        "A <a@b.c>, B <d@e.f>",
        "a@b.c, d@e.f",
        "A <a@b.c",
        "Ana\u{1} <a@b.c>",
    ] {
        let mut args = NEW.to_vec();
        args.push(bad);
        let head = d.head();
        let out = d.run(&at(0), &args);
        no_panic(&out);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", text(&out));
        assert!(text(&out).contains("requester"), "{bad:?}: {}", text(&out));
        assert_eq!(d.head(), head, "{bad:?}: nothing committed");
        assert!(d.status().is_empty(), "{bad:?}: nothing written");
    }
    // A title with a line break is refused the same way.
    let mut args = vec![
        "new",
        "--channel",
        "phone",
        "--customer",
        "clinica-santa-helena",
        "--description",
        "x",
        "--requester",
        "Ana <a@b.co>",
        "--title",
    ];
    args.push("Hola\r\nBcc: x@evil.example");
    let out = d.run(&at(0), &args);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("U+000D"), "{}", text(&out));
}

/// Rewrites a committed ticket's requester name (as a hand edit that was committed).
fn poison_name(d: &TestDesk, id: &str) {
    let path = d.ticket_path(id);
    let t = std::fs::read_to_string(&path).unwrap();
    let t = t.replacen(
        "  name: Marcela Rincón\n",
        "  name: \"Marcela\\r\\nBcc: x@evil.example\"\n",
        1,
    );
    assert!(t.contains("Bcc"));
    std::fs::write(&path, t).unwrap();
    git(&d.root, &["commit", "-qam", "hand edit"]);
}

#[test]
fn a_stored_bad_name_fails_check_and_sweep_goes_on_with_the_others() {
    let d = TestDesk::new();
    let good = d.new_ticket(&at(0), &common::INCIDENT);
    let bad = d.new_ticket(&at(1), &common::INCIDENT);
    for id in [&good, &bad] {
        d.ok(&at(10), &["resolve", id, "--solution", "Listo"]);
    }
    poison_name(&d, &bad);

    let check = d.run(&at(20), &["check"]);
    no_panic(&check);
    assert_eq!(check.status.code(), Some(1));
    let out = text(&check);
    assert!(
        out.lines()
            .any(|l| l.contains(&format!("{bad}.md:")) && l.contains("requester.name")),
        "{out}"
    );

    // A day later both are due a reminder: the good one gets it, the bad one is reported.
    let sweep = d.run(&at(10 + 25 * 60), &["sweep"]);
    no_panic(&sweep);
    assert_eq!(sweep.status.code(), Some(1), "{}", text(&sweep));
    assert!(text(&sweep).contains(&bad), "{}", text(&sweep));
    let good_events = d.show(&good)["events"].as_array().unwrap().clone();
    assert_eq!(
        good_events.last().unwrap()["event"],
        "reminded",
        "the sweep went on with the other ticket"
    );
    assert!(d.status().is_empty());
}

#[test]
fn dates_outside_the_supported_range_are_refused_at_the_edge() {
    let d = TestDesk::new();
    for now in [
        "1960-01-01T00:00:00Z",
        "5000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ] {
        let mut args = NEW.to_vec();
        args.push("Ana <a@b.co>");
        let out = d.run(now, &args);
        no_panic(&out);
        assert_eq!(out.status.code(), Some(2), "{now}: {}", text(&out));
        assert!(text(&out).contains("1970"), "{}", text(&out));
        let out = d.run(now, &["report"]);
        no_panic(&out);
        assert_eq!(out.status.code(), Some(2), "{now}: {}", text(&out));
    }
    // The last supported year works (and, benchmarked in scripts/bench_far_now.sh, is fast).
    let id = d.new_ticket(&at(0), &[]);
    let out = d.run("2199-12-31T00:00:00Z", &["report"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = d.run("2199-12-31T00:00:00Z", &["show", &id]);
    assert!(out.status.success(), "{}", text(&out));
    // A ticket file with an event before 1970 is a check error at that line.
    let path = d.ticket_path(&id);
    let t = std::fs::read_to_string(&path).unwrap();
    let created = t
        .lines()
        .find(|l| l.trim_start().starts_with("- at: "))
        .unwrap()
        .to_string();
    std::fs::write(
        &path,
        t.replacen(&created, "- at: 1960-11-03T08:00:00-05:00", 1),
    )
    .unwrap();
    let out = d.run(&at(5), &["check"]);
    no_panic(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("1970"), "{}", text(&out));
}

/// Runs mesa on `desk` with a deadline: a command that blocks (a FIFO) or eats memory (a link
/// to /dev/zero) fails the test instead of hanging it.
fn bounded(desk: &Path, args: &[&str]) -> Output {
    let mut child = Command::new(MESA)
        .arg("--desk")
        .arg(desk)
        .args(["--lang", "en", "--now", "2026-11-20T10:00:00-05:00"])
        .args(args)
        .env_remove("MESA_DESK")
        .env_remove("MESA_NOW")
        .env("MESA_AGENT", "lmartinez")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("mesa {args:?} did not finish in 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(unix)]
#[test]
fn links_devices_fifos_and_folders_are_refused_at_their_path() {
    let d = TestDesk::new();
    let id = d.new_ticket(&at(0), &[]);
    let root = d.root.clone();
    let secret_dir = tempfile::tempdir().unwrap();
    let secret = secret_dir.path().join("secret.md");
    std::fs::write(
        &secret,
        "---\ntitle: SECRETO-FUERA\nkind: article\ncategory: Acceso\nsummary: x\n---\nSECRETO-FUERA\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("/dev/zero", root.join("kb/articles/cero.md")).unwrap();
    let fifo = root.join("kb/articles/tubo.md");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::os::unix::fs::symlink(&secret, root.join("kb/articles/fuera.md")).unwrap();
    let month = d.ticket_path(&id).parent().unwrap().to_path_buf();
    std::fs::create_dir_all(month.join("261103-DDDDD.md")).unwrap();
    std::os::unix::fs::symlink(&secret, month.join("261103-LLLLL.md")).unwrap();
    std::fs::create_dir_all(root.join("theme/static")).unwrap();
    std::os::unix::fs::symlink(&secret, root.join("theme/static/fuera.txt")).unwrap();

    let check = bounded(&root, &["check"]);
    no_panic(&check);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    let out = String::from_utf8_lossy(&check.stdout).into_owned();
    for p in [
        "kb/articles/cero.md",
        "kb/articles/tubo.md",
        "kb/articles/fuera.md",
        "261103-DDDDD.md",
        "261103-LLLLL.md",
    ] {
        assert!(
            out.lines().any(|l| l.contains(p)),
            "{p} not reported:\n{out}"
        );
    }
    for args in [vec!["show", id.as_str()], vec!["report"], vec!["list"]] {
        let o = bounded(&root, &args);
        no_panic(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", text(&o));
        assert!(text(&o).contains("kb/articles/"), "{args:?}: {}", text(&o));
    }
    let site = tempfile::tempdir().unwrap();
    let build = bounded(&root, &["build", "--out", site.path().to_str().unwrap()]);
    no_panic(&build);
    assert_eq!(build.status.code(), Some(1), "{}", text(&build));
    let published = walk_text(site.path());
    assert!(
        !published.contains("SECRETO-FUERA"),
        "a file outside the desk was published"
    );

    // With the kb clean, the theme link outside the desk still stops the build.
    for f in ["cero.md", "tubo.md", "fuera.md"] {
        std::fs::remove_file(root.join("kb/articles").join(f)).unwrap();
    }
    std::fs::remove_dir(month.join("261103-DDDDD.md")).unwrap();
    std::fs::remove_file(month.join("261103-LLLLL.md")).unwrap();
    let build = bounded(&root, &["build", "--out", site.path().to_str().unwrap()]);
    no_panic(&build);
    assert_eq!(build.status.code(), Some(1), "{}", text(&build));
    assert!(text(&build).contains("fuera.txt"), "{}", text(&build));
    assert!(!walk_text(site.path()).contains("SECRETO-FUERA"));
}

fn walk_text(dir: &Path) -> String {
    let mut all = String::new();
    for e in walkdir::WalkDir::new(dir).into_iter().flatten() {
        if e.file_type().is_file() {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(e.path()).unwrap()));
        }
    }
    all
}

#[test]
fn a_link_inside_the_desk_is_read() {
    let d = TestDesk::new();
    let root = &d.root;
    let articles = root.join("kb/articles");
    let first = std::fs::read_dir(&articles)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "md"))
        .unwrap();
    let copy = root.join("otro.md");
    std::fs::rename(&first, &copy).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&copy, &first).unwrap();
    #[cfg(unix)]
    {
        let check = bounded(root, &["check"]);
        assert!(check.status.success(), "{}", text(&check));
    }
}

#[test]
fn build_stops_on_what_check_calls_an_error() {
    let d = TestDesk::new();
    let root = &d.root;
    let article = std::fs::read_dir(root.join("kb/articles"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "md"))
        .unwrap();
    let mut t = std::fs::read_to_string(&article).unwrap();
    t.push_str("\n[pulse aquí](javascript:alert(1))\n");
    std::fs::write(&article, t).unwrap();
    let check = bounded(root, &["check"]);
    assert_eq!(check.status.code(), Some(1));
    let site = tempfile::tempdir().unwrap();
    let out = site.path().join("out");
    for public in [false, true] {
        let mut args = vec!["build", "--out", out.to_str().unwrap()];
        if public {
            args.push("--public");
        }
        let build = bounded(root, &args);
        no_panic(&build);
        assert_eq!(build.status.code(), Some(1), "{}", text(&build));
        assert!(text(&build).contains("javascript:"), "{}", text(&build));
        assert!(!out.join("index.html").exists(), "nothing published");
    }
}

#[test]
fn a_bom_and_crlf_are_read_alike_in_every_file_kind() {
    let d = TestDesk::new();
    let id = d.new_ticket(&at(0), &[]);
    let root = &d.root;
    let bom = |p: &Path, crlf: bool| {
        let t = std::fs::read_to_string(p).unwrap();
        let t = if crlf { t.replace('\n', "\r\n") } else { t };
        let mut b = b"\xEF\xBB\xBF".to_vec();
        b.extend_from_slice(t.as_bytes());
        std::fs::write(p, b).unwrap();
    };
    bom(&root.join("desk.yaml"), false);
    bom(&d.ticket_path(&id), false);
    let article = std::fs::read_dir(root.join("kb/articles"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "md"))
        .unwrap();
    bom(&article, true);
    let check = bounded(root, &["check"]);
    assert!(check.status.success(), "{}", text(&check));
}
