//! The fuzzing harness, on stable Rust: property tests (proptest) that mutate the seeds in
//! `tests/fuzz_corpus/` (tickets and front matter, Markdown, desk.yaml, `.ics`, command
//! argument values, mail templates) and feed them to the library, in process. The property is
//! always the same: no panic (a panic fails the case, and proptest shrinks it to a small
//! input). Diagnostics and refusals are fine.
//!
//! CI runs a bounded number of cases per target (`MESA_FUZZ_CASES`, default 256). A longer local
//! run: `MESA_FUZZ_CASES=20000 cargo test --release --test fuzz`. A failing input found that
//! way belongs in the corpus, beside the seeds, so every later run tries it.

mod common;

use mesa::model::load::Desk;
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn cases() -> u32 {
    std::env::var("MESA_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn corpus(kind: &str) -> Vec<Vec<u8>> {
    let dir = common::sample_root().join("tests/fuzz_corpus").join(kind);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// The sample desk, loaded once (the rules, calendars and kb the checks need).
fn desk() -> &'static Desk {
    static DESK: OnceLock<Desk> = OnceLock::new();
    DESK.get_or_init(|| Desk::load(&common::sample_root()).unwrap().0)
}

/// One edit of a byte string: overwrite, insert, delete a run, or splice in a token that
/// parsers care about.
#[derive(Debug, Clone)]
enum Edit {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Token(usize, usize),
}

const TOKENS: &[&str] = &[
    "---\n",
    "\r\n",
    "\n",
    ": ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "&a ",
    "*a",
    "!!binary ",
    "\"",
    "'",
    "\\u0000",
    "\u{0}",
    "\u{feff}",
    "\u{2028}",
    "#",
    "|\n",
    ">\n",
    "<",
    ">",
    "@",
    "](",
    "javascript:",
    "9999-12-31T23:59:59Z",
    "1969-12-31T23:59:59Z",
    "\t",
    "%",
    "{{",
    "}}",
    "{%",
    "%}",
    "\\",
    "BEGIN:VEVENT\n",
    "END:VEVENT\n",
    "DTSTART;VALUE=DATE:",
    "RRULE:FREQ=YEARLY;COUNT=",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Edit::Set(i, b)),
        (any::<usize>(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(i, b)| Edit::Insert(i, b)),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Edit::Delete(i, n)),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(i, t)| Edit::Token(i, t)),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for e in edits {
        let len = bytes.len();
        let at = |i: usize| if len == 0 { 0 } else { i % (len + 1) };
        match e {
            Edit::Set(i, b) if len > 0 => {
                let i = i % len;
                bytes[i] = *b;
            }
            Edit::Set(..) => {}
            Edit::Insert(i, b) => {
                let i = at(*i);
                bytes.splice(i..i, b.iter().copied());
            }
            Edit::Delete(i, n) => {
                let i = at(*i);
                let end = (i + n).min(len);
                bytes.drain(i..end);
            }
            Edit::Token(i, t) => {
                let i = at(*i);
                bytes.splice(i..i, TOKENS[*t].bytes());
            }
        }
    }
    bytes
}

/// A seed of `kind`, mutated.
fn mutated(kind: &'static str) -> impl Strategy<Value = Vec<u8>> {
    let seeds = corpus(kind);
    (0..seeds.len(), proptest::collection::vec(edit(), 0..12))
        .prop_map(move |(s, edits)| apply(seeds[s].clone(), &edits))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    /// Ticket files: read, split, parsed, checked against every rule (workflow replay, SLA
    /// targets, header text) and, when they parse, every email a step would send composed.
    #[test]
    fn tickets_and_front_matter(bytes in mutated("tickets")) {
        let path = Path::new("tickets/2026/11/261102-B0X7P.md");
        if let Ok(text) = mesa::model::fsread::decode(path, bytes) {
            let _ = mesa::rules::validate::check_ticket_text(desk(), path, &text);
            if let Ok(t) = mesa::model::ticket::parse(path, &text) {
                for ev in &t.front.events {
                    if let Some(kind) = mesa::mail::compose::MailKind::for_event(ev) {
                        let _ = mesa::mail::compose::compose(desk(), &t, kind, ev);
                    }
                }
                let _ = mesa::rules::sla::promised_due(desk(), &t.front);
            }
        }
    }

    /// Markdown bodies: rendered and link-checked, and nothing executable survives.
    #[test]
    fn markdown(bytes in mutated("markdown")) {
        let body = text(&bytes);
        let p = Path::new("/d/kb/articles/a.md");
        let src = mesa::output::markdown::Source {
            path: p,
            shown: Path::new("kb/articles/a.md"),
            body_line: 5,
            page_url: "kb/articles/a.html",
        };
        let resolver = std::collections::HashMap::new();
        let r = mesa::output::markdown::render(&body, &src, &resolver);
        if let Some(tag) = unsafe_tag(&r.html) {
            prop_assert!(false, "unsafe tag {tag} in {}", r.html);
        }
        let _ = mesa::output::markdown::broken_links(&body, &src, &resolver);
    }

    /// desk.yaml: parsed, and each calendar built.
    #[test]
    fn desk_yaml(bytes in mutated("desk")) {
        let path = Path::new("desk.yaml");
        if let Ok(text) = mesa::model::fsread::decode(path, bytes) {
            if let Ok(cfg) = mesa::model::load::parse_config(path, &text) {
                for c in &cfg.calendars {
                    let _ = mesa::rules::calendar::Calendar::from_config(c, &common::sample_root());
                }
            }
        }
    }

    /// `.ics` holiday files.
    #[test]
    fn ics(bytes in mutated("ics")) {
        let _ = mesa::rules::calendar::parse_ics(&text(&bytes));
    }

    /// Values given on the command line: requesters, instants, case numbers, durations.
    #[test]
    fn command_argument_values(bytes in mutated("args")) {
        for line in text(&bytes).lines() {
            let _ = mesa::steps::parse_requester(line, None);
            let _ = mesa::model::input::one_address(line);
            let _ = mesa::model::ticket::Stamp::parse(line);
            let _ = mesa::steps::normalize_id(line);
            let _ = line.parse::<mesa::model::duration::Dur>();
        }
    }

    /// Mail templates from a desk's theme: compiled and rendered for a sample ticket.
    #[test]
    fn mail_templates(bytes in mutated("templates")) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::copy(common::sample_root().join("desk.yaml"), root.join("desk.yaml")).unwrap();
        let emails = root.join("theme/emails/es");
        std::fs::create_dir_all(&emails).unwrap();
        std::fs::write(emails.join("solution.txt"), &bytes).unwrap();
        std::fs::write(emails.join("solution.subject.txt"), &bytes).unwrap();
        let mut d = desk().clone();
        d.root = root.to_path_buf();
        let t = sample_ticket();
        let mut ev = mesa::model::ticket::Event::new(
            t.front.events.last().unwrap().at,
            "lmartinez",
            mesa::model::ticket::EventKind::Resolved,
        );
        ev.text = Some("Listo".into());
        let _ = mesa::mail::compose::compose(&d, &t, mesa::mail::compose::MailKind::Solution, &ev);
    }
}

/// A tag of rendered HTML that could run script: a script-like element, an event handler
/// attribute, or a script URL. Text is escaped by the sanitiser, so every `<` starts a tag.
fn unsafe_tag(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let mut rest = lower.as_str();
    while let Some(open) = rest.find('<') {
        let close = rest[open..].find('>').map_or(rest.len(), |c| open + c + 1);
        let tag = &rest[open..close];
        let name: String = tag[1..]
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        // URL attributes whose value (as the browser reads it) starts with a script scheme.
        let script_url = ["href=\"", "src=\"", "action=\"", "xlink:href=\""]
            .iter()
            .any(|attr| {
                tag.match_indices(attr).any(|(i, _)| {
                    let value: String = tag[i + attr.len()..]
                        .chars()
                        .take_while(|c| *c != '"')
                        .filter(|c| !c.is_whitespace() && !c.is_control())
                        .collect();
                    ["javascript:", "vbscript:", "data:text/html"]
                        .iter()
                        .any(|s| value.starts_with(s))
                })
            });
        let handler = tag
            .split(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .any(|w| w.starts_with("on") && w.contains('='));
        if matches!(
            name.as_str(),
            "script" | "iframe" | "object" | "embed" | "style" | "frame" | "base" | "form"
        ) || handler
            || script_url
        {
            return Some(tag.to_string());
        }
        rest = &rest[close.min(rest.len())..];
        if close == 0 {
            break;
        }
    }
    None
}

fn sample_ticket() -> mesa::model::ticket::Ticket {
    let path = Path::new("tickets/2026/11/261102-B0X7P.md");
    let text = String::from_utf8(corpus("tickets")[0].clone()).unwrap();
    mesa::model::ticket::parse(path, &text).unwrap()
}
