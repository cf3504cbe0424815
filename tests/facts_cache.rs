//! The derived-facts cache (`src/output/facts.rs`) is never trusted over the files: after each
//! way a ticket or the desk can change under it, and with a broken or foreign cache file,
//! `mesa check`, `mesa report` and `mesa list` answer exactly what a cold run (cache deleted)
//! answers. Each change is also shown to change some answer, so a cache that missed it would
//! fail the test. Real binary, real git, a desk from the benchmark generator (settled closed
//! tickets and live open ones).

mod common;

#[allow(dead_code)]
#[path = "../examples/gen_desk.rs"]
mod gen_desk;

use common::facts::*;
use common::git::{git, identity};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A generated desk of 300 tickets in a fresh git repository, with its cache warm.
fn desk() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("desk");
    gen_desk::run(gen_desk::Args {
        tickets: 300,
        out: root.clone(),
        articles: 5,
        seed: 11,
        from: common::sample_root(),
        force: false,
    })
    .expect("gen_desk");
    git(&root, &["init", "-q", "-b", "main"]);
    identity(&root);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "desk"]);
    answers(&root);
    assert!(
        cache_dir(&root).join("check.bin").is_file()
            && cache_dir(&root).join("report.bin").is_file()
            && cache_dir(&root).join("list.bin").is_file(),
        "the first run writes the cache"
    );
    (tmp, root)
}

/// The ticket files whose text `keep` accepts, sorted.
fn tickets_where(root: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(root.join("tickets"))
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| keep(&std::fs::read_to_string(p).unwrap()))
        .collect();
    v.sort();
    v
}

/// The closed tickets (settled: what the cache keeps whole), sorted.
fn closed_tickets(root: &Path) -> Vec<PathBuf> {
    let v = tickets_where(root, |text| text.contains("\nstatus: closed\n"));
    assert!(v.len() > 100, "the generated desk has settled tickets");
    v
}

/// The open tickets (their clocks run: the cache keeps their walk, the clocks are evaluated
/// at each run's instant), sorted.
fn open_tickets(root: &Path) -> Vec<PathBuf> {
    let v = tickets_where(root, |text| {
        !text.contains("\nstatus: closed\n") && text.contains("\nstatus: ")
    });
    assert!(v.len() > 10, "the generated desk has open tickets");
    v
}

/// `touch -r`: `to` gets the times of `from`.
fn same_times(from: &Path, to: &Path) {
    let st = Command::new("touch")
        .arg("-r")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(st.success());
}

/// `customer: X` becomes a customer id of the same length that the desk does not know (the
/// file keeps its size): check reports it, the report groups it apart, the list shows it.
fn rename_customer(text: &str) -> String {
    let start = text.find("\ncustomer: ").expect("customer") + "\ncustomer: ".len();
    let mut out = text.to_string();
    out.replace_range(start..start + 1, "x");
    out
}

fn mtime_ns(p: &Path) -> (u64, i128) {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(p).unwrap();
    (
        m.size(),
        m.mtime() as i128 * 1_000_000_000 + m.mtime_nsec() as i128,
    )
}

#[test]
fn a_hand_edit_with_the_same_size_and_mtime_is_seen() {
    let (_tmp, root) = desk();
    let before = answers(&root);
    let ticket = &closed_tickets(&root)[7];
    let reference = root.join("..").join("reference");
    let st = Command::new("cp")
        .args(["-p"])
        .arg(ticket)
        .arg(&reference)
        .status()
        .unwrap();
    assert!(st.success());
    let text = std::fs::read_to_string(ticket).unwrap();
    std::fs::write(ticket, rename_customer(&text)).unwrap();
    let st = Command::new("touch")
        .arg("-r")
        .arg(&reference)
        .arg(ticket)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(
        mtime_ns(ticket),
        mtime_ns(&reference),
        "size and mtime kept"
    );
    // And an open ticket (kept with its walk, its clocks evaluated live), likewise.
    let open = &open_tickets(&root)[2];
    let open_reference = root.join("..").join("open-reference");
    std::fs::copy(open, &open_reference).unwrap();
    same_times(open, &open_reference);
    let text = std::fs::read_to_string(open).unwrap();
    std::fs::write(open, rename_customer(&text)).unwrap();
    same_times(&open_reference, open);
    assert_eq!(mtime_ns(open), mtime_ns(&open_reference));
    let got = answers(&root);
    let want = cold_answers(&root);
    assert_changed(&before, &want, "the hand edit");
    assert_same(&got, &want, "hand edit, mtime preserved");
    // And the run after that, from the cache it rewrote.
    assert_same(&answers(&root), &want, "the run after the hand edit");
}

#[test]
fn git_checkout_of_another_commit_is_seen() {
    let (_tmp, root) = desk();
    let first = answers(&root);
    let closed = closed_tickets(&root);
    for t in closed
        .iter()
        .step_by(9)
        .chain(open_tickets(&root).iter().step_by(5))
    {
        let text = std::fs::read_to_string(t).unwrap();
        std::fs::write(t, rename_customer(&text)).unwrap();
    }
    std::fs::remove_file(&closed[3]).unwrap();
    git(&root, &["commit", "-q", "-am", "edits"]);
    let second = answers(&root);
    assert_changed(&first, &second, "the second commit");
    git(&root, &["checkout", "-q", "HEAD~1"]);
    let got = answers(&root);
    assert_same(&got, &cold_answers(&root), "checkout of the first commit");
    assert_same(&got, &first, "back at the first commit");
    git(&root, &["checkout", "-q", "main"]);
    assert_same(
        &answers(&root),
        &cold_answers(&root),
        "checkout back to main",
    );
}

#[test]
fn a_merge_is_seen() {
    let (_tmp, root) = desk();
    let before = answers(&root);
    let closed = closed_tickets(&root);
    git(&root, &["checkout", "-q", "-b", "side"]);
    let text = std::fs::read_to_string(&closed[20]).unwrap();
    std::fs::write(&closed[20], rename_customer(&text)).unwrap();
    let open = open_tickets(&root);
    let text = std::fs::read_to_string(&open[4]).unwrap();
    std::fs::write(&open[4], rename_customer(&text)).unwrap();
    git(&root, &["commit", "-q", "-am", "side"]);
    git(&root, &["checkout", "-q", "main"]);
    let text = std::fs::read_to_string(&closed[40]).unwrap();
    std::fs::write(&closed[40], text.replace("\ntitle: ", "\ntitle: Urgente: ")).unwrap();
    git(&root, &["commit", "-q", "-am", "main"]);
    answers(&root);
    git(&root, &["merge", "-q", "--no-edit", "side"]);
    let got = answers(&root);
    let want = cold_answers(&root);
    assert_changed(&before, &want, "the merge");
    assert_same(&got, &want, "after the merge");
}

#[test]
fn a_truncated_or_corrupt_cache_is_rebuilt_silently() {
    let (_tmp, root) = desk();
    let want = cold_answers(&root);
    answers(&root);
    let dir = cache_dir(&root);
    let check = dir.join("check.bin");
    let len = std::fs::metadata(&check).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&check)
        .unwrap();
    f.set_len(len / 2).unwrap();
    drop(f);
    let report = dir.join("report.bin");
    let mut bytes = std::fs::read(&report).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(&report, bytes).unwrap();
    std::fs::write(dir.join("list.bin"), b"not a cache").unwrap();
    let got = answers(&root);
    assert_same(&got, &want, "broken cache files");
    for (_, _, err, _) in &got.0 {
        assert!(!err.contains("cache"), "a broken cache is silent: {err}");
    }
    assert_eq!(
        std::fs::metadata(&check).unwrap().len(),
        len,
        "the truncated cache is written again in full"
    );
    assert_same(&answers(&root), &want, "the rebuilt cache");
}

#[test]
fn a_cache_from_another_build_of_mesa_is_not_used() {
    let (tmp, root) = desk();
    // Another build: the same program at another path and time (what a new version is to
    // the cache's stamp).
    let other = tmp.path().join("mesa-other");
    std::fs::copy(common::git::MESA, &other).unwrap();
    let stamp = |p: &Path| std::fs::read(p).unwrap()[12..20].to_vec();
    let check = cache_dir(&root).join("check.bin");
    let ours = stamp(&check);
    answers_with(&root, &other, &[]);
    let theirs = stamp(&check);
    assert_ne!(
        ours, theirs,
        "the other build rewrote the cache under its own stamp"
    );
    let got = answers(&root);
    assert_eq!(
        stamp(&check),
        ours,
        "this build ignored the other's cache and wrote its own"
    );
    assert_same(&got, &cold_answers(&root), "after another build's cache");
}

#[test]
fn another_desk_yaml_or_language_is_not_served_from_the_cache() {
    let (_tmp, root) = desk();
    let before = answers(&root);
    // Saturday becomes a day off: every clock on the working calendar counts differently,
    // while no ticket file changes.
    let yaml = std::fs::read_to_string(root.join("desk.yaml")).unwrap();
    let changed = yaml.replacen("      sat: [\"08:00-12:00\"]\n", "", 1);
    assert_ne!(yaml, changed, "the sample calendar has Saturday hours");
    std::fs::write(root.join("desk.yaml"), changed).unwrap();
    let got = answers(&root);
    let want = cold_answers(&root);
    assert_changed(&before, &want, "the calendar change");
    assert_same(&got, &want, "another desk.yaml");

    // A ticket with a problem, then the other language: messages come in English.
    let ticket = &closed_tickets(&root)[3];
    let text = std::fs::read_to_string(ticket).unwrap();
    std::fs::write(ticket, rename_customer(&text)).unwrap();
    let spanish = answers(&root);
    let english = answers_with(&root, Path::new(common::git::MESA), &["--lang", "en"]);
    assert_changed(&spanish, &english, "the language");
    assert_same(
        &english,
        &cold_answers_with(&root, &["--lang", "en"]),
        "another language",
    );
}

/// A customer email on a ticket that has since been closed: its counts (customer replies,
/// the time from the reply to the desk's next step) come back whole from the cache, as a
/// cold run counts them.
#[test]
fn a_settled_tickets_customer_replies_come_back_from_the_cache() {
    let (_tmp, root) = desk();
    let before = answers(&root);
    let ticket = closed_tickets(&root)
        .into_iter()
        .find(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("\n  event: resolved\n")
        })
        .expect("a closed ticket with a solution");
    let text = std::fs::read_to_string(&ticket).unwrap();
    // The email arrives at the instant of the solution notice, just before it.
    let resolved = text.find("\n  event: resolved\n").unwrap();
    let block = text[..resolved].rfind("\n- at: ").unwrap();
    let at = text[block + "\n- at: ".len()..]
        .lines()
        .next()
        .unwrap()
        .to_string();
    let email = format!(
        "\n- at: {at}\n  by: customer\n  event: received\n  received_id: <reply-1@cliente.example.co>\n  from: usuario@cliente.example.co\n  text: Sigue fallando en la sede."
    );
    let mut edited = text.clone();
    edited.insert_str(block, &email);
    std::fs::write(&ticket, edited).unwrap();
    let want = cold_answers(&root);
    assert!(
        want.0
            .iter()
            .any(|a| a.1.contains("\"customer_replies\": 1")),
        "the report counts the email: {:?}",
        want.0[2].1
    );
    assert_changed(&before, &want, "the customer email");
    assert_same(
        &answers(&root),
        &want,
        "the run that writes the ticket's facts",
    );
    assert_same(
        &answers(&root),
        &want,
        "the run that reads them from the cache",
    );
}

/// An open ticket's clocks run: warm runs at later and earlier instants (`MESA_NOW`) answer
/// what cold runs at those instants answer, though the cache was written at another one; and
/// some open ticket's row changes between the two warm runs (its SLA state or due time), so a
/// cache that kept an open ticket's clocks would be caught.
#[test]
fn an_open_tickets_clocks_follow_the_instant_between_warm_runs() {
    let (_tmp, root) = desk();
    let first = answers(&root);
    let later = "2026-12-04T16:30:00-05:00";
    let got = answers_at(&root, later);
    let want = cold_answers_at(&root, later);
    assert_changed(&first, &want, "four days later");
    // `mesa list` (the text table): a row of the same ticket reads differently.
    let rows = |a: &Answers| -> Vec<String> { a.0[6].1.lines().map(str::to_string).collect() };
    let (now_rows, later_rows) = (rows(&first), rows(&want));
    let id = |l: &str| l.split_whitespace().next().unwrap_or_default().to_string();
    assert!(
        now_rows.iter().any(|r| {
            later_rows
                .iter()
                .any(|l| id(l) == id(r) && l != r && !id(r).is_empty())
        }),
        "no open ticket's row changed with the instant"
    );
    answers(&root);
    assert_same(&got, &want, "a warm run at a later instant");
    // Earlier than some tickets' last events: those are read again, the rest come from the
    // cache written at the later instant.
    answers_at(&root, later);
    let earlier = "2026-11-25T12:00:00-05:00";
    let got = answers_at(&root, earlier);
    let want = cold_answers_at(&root, earlier);
    assert_changed(&first, &want, "an earlier instant");
    answers(&root);
    assert_same(&got, &want, "a warm run at an earlier instant");
    assert_same(&answers(&root), &first, "back at the first instant");
}
