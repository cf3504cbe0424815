//! The reference desk's internal site against the same hand-worked figures as
//! `tests/report_reference.rs` (`tests/fixtures/reference/expected.json`): every figure the
//! report pages show (the figures page, the trend page, the load page), read from the built
//! HTML by an HTML tokenizer (html5ever) through the cells' `data-table` / `data-group` /
//! `data-figure` attributes, and compared as the page prints it (Spanish decimal comma, one
//! decimal: a printed value must round from the expected one). A figure that changes on the
//! site without the expected file being reworked fails here, and so does a figure the page
//! leaves out.

mod common;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::{
    BufferQueue, CharacterTokens, EndTag, StartTag, TagToken, Token, TokenSink, TokenSinkResult,
    Tokenizer, TokenizerOpts,
};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const NOW: &str = "2026-10-30T12:00:00-05:00";

fn reference() -> PathBuf {
    common::sample_root().join("tests/fixtures/reference")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(reference().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json parses")
}

/// What a page says: figure cells by (table, group, figure) with their text (and the
/// `datetime` of a `<time>` inside), and the watch-list rows (ticket, clock, state).
#[derive(Default)]
struct Page {
    cells: BTreeMap<(String, String, String), String>,
    watch: BTreeSet<(String, String, String)>,
}

/// A figure cell being read: its (table, group, figure), its tag name and its text so far.
type OpenCell = ((String, String, String), String, String);

#[derive(Default)]
struct Sink {
    page: RefCell<Page>,
    open: RefCell<Option<OpenCell>>,
}

impl TokenSink for Sink {
    type Handle = ();
    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            TagToken(tag) => {
                let attr = |n: &str| {
                    tag.attrs
                        .iter()
                        .find(|a| &*a.name.local == n)
                        .map(|a| a.value.to_string())
                };
                let mut open = self.open.borrow_mut();
                match tag.kind {
                    StartTag => {
                        if let (Some(t), Some(g), Some(f)) =
                            (attr("data-table"), attr("data-group"), attr("data-figure"))
                        {
                            assert!(open.is_none(), "a figure cell inside another");
                            *open = Some(((t, g, f), tag.name.to_string(), String::new()));
                        } else if let Some(at) = attr("datetime") {
                            if let Some((_, _, text)) = open.as_mut() {
                                text.push_str(&format!(" @{at} "));
                            }
                        }
                        if let (Some(id), Some(c), Some(s)) =
                            (attr("data-ticket"), attr("data-clock"), attr("data-state"))
                        {
                            self.page.borrow_mut().watch.insert((id, c, s));
                        }
                    }
                    EndTag => {
                        if open.as_ref().is_some_and(|(_, n, _)| *n == *tag.name) {
                            let (key, _, text) = open.take().unwrap();
                            let dup = self.page.borrow_mut().cells.insert(
                                key.clone(),
                                text.split_whitespace().collect::<Vec<_>>().join(" "),
                            );
                            assert!(dup.is_none(), "figure {key:?} twice on the page");
                        }
                    }
                }
            }
            CharacterTokens(s) => {
                if let Some((_, _, text)) = self.open.borrow_mut().as_mut() {
                    text.push_str(&s);
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

fn read_page(path: &Path) -> Page {
    let html = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let input = BufferQueue::default();
    input.push_back(StrTendril::from(html.as_str()));
    let tok = Tokenizer::new(Sink::default(), TokenizerOpts::default());
    let _ = tok.feed(&input);
    tok.end();
    tok.sink.page.take()
}

/// A printed number (`1.234`, `85,7`, `85,7 %`, `–`) and the half-unit of its last digit:
/// `None` for the dash of an undefined figure.
fn printed(s: &str) -> Option<(f64, f64)> {
    let s: String = s
        .chars()
        .filter(|c| c.is_ascii_digit() || matches!(c, ',' | '-' | '–'))
        .collect();
    if s.is_empty() || s == "–" || s == "-" {
        return None;
    }
    let decimals = s.split(',').nth(1).map_or(0, |d| d.len()) as i32;
    let v: f64 = s.replace(',', ".").parse().expect("a number");
    Some((v, 0.5 * 10f64.powi(-decimals) + 1e-9))
}

/// Checks one printed figure against its expected value; a problem line when it differs.
fn check(problems: &mut Vec<String>, what: String, got: Option<&String>, want: &Value) {
    let Some(got) = got else {
        problems.push(format!("{what}: not on the page"));
        return;
    };
    let ok = match (printed(got), want.as_f64()) {
        (None, None) => true,
        (Some((g, tol)), Some(w)) => (g - w).abs() <= tol,
        _ => false,
    };
    if !ok {
        problems.push(format!("{what}: page shows {got:?}, expected {want}"));
    }
}

fn build() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("site");
    let o = common::mesa(&[
        "--desk",
        reference().join("desk").to_str().unwrap(),
        "--now",
        NOW,
        "build",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    (tmp, out)
}

fn cells_of<'a>(page: &'a Page, table: &str) -> BTreeMap<(String, String), &'a String> {
    page.cells
        .iter()
        .filter(|((t, _, _), _)| t == table)
        .map(|((_, g, f), v)| ((g.clone(), f.clone()), v))
        .collect()
}

#[test]
fn the_figures_page_shows_the_hand_worked_figures() {
    let exp = expected();
    let (_tmp, out) = build();
    let page = read_page(&out.join("reports/index.html"));
    let mut problems = Vec::new();

    // Every figure, for the whole period and for each month of creation.
    let figures = cells_of(&page, "figures");
    let mut groups = vec![("total".to_string(), &exp["total"])];
    groups.extend(
        exp["by"]["month"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v)),
    );
    let mut want_keys = BTreeSet::new();
    for (g, want) in &groups {
        for (k, w) in want.as_object().unwrap() {
            want_keys.insert((g.clone(), k.clone()));
            let got = figures.get(&(g.clone(), k.clone())).copied();
            check(&mut problems, format!("figures {g} {k}"), got, w);
        }
    }
    for key in figures.keys() {
        if !want_keys.contains(key) {
            problems.push(format!(
                "figures {key:?}: on the page, not in expected.json"
            ));
        }
    }

    // The summary cards, the compliance by month, the backlog and the escalations.
    let mut shown = 0;
    for (table, group_of) in [
        ("summary", None),
        ("by-month", Some("month")),
        ("backlog", None),
        ("escalations", None),
    ] {
        let cells = cells_of(&page, table);
        assert!(!cells.is_empty(), "no {table} figures on the page");
        for ((g, k), got) in cells {
            let want = match group_of {
                None => &exp["total"][&k],
                Some(b) => &exp["by"][b][&g][&k],
            };
            assert!(!want.is_null() || k.ends_with("rate"), "{table} {g} {k}");
            check(&mut problems, format!("{table} {g} {k}"), Some(got), want);
            shown += 1;
        }
    }
    // Six cards, five figures for each of the two months, five age buckets, four levels.
    assert_eq!(shown, 6 + 5 * 2 + 5 + 4);

    // The at-risk and breached lists: the hand-worked watch list.
    let want: BTreeSet<(String, String, String)> = exp["watch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w[0].as_str().unwrap().into(),
                w[1].as_str().unwrap().into(),
                w[2].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(page.watch, want, "the at-risk and breached lists");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_trend_page_shows_the_hand_worked_trend() {
    let exp = expected();
    let (_tmp, out) = build();
    let page = read_page(&out.join("reports/trend.html"));
    let mut problems = Vec::new();
    for step in ["month", "week"] {
        let cells = cells_of(&page, &format!("trend-{step}"));
        let mut want_keys = BTreeSet::new();
        for row in exp["trend"][step].as_array().unwrap() {
            let period = row["period"].as_str().unwrap();
            for (k, w) in row.as_object().unwrap() {
                if k == "period" {
                    continue;
                }
                want_keys.insert((period.to_string(), k.clone()));
                let got = cells.get(&(period.to_string(), k.clone())).copied();
                check(&mut problems, format!("trend {step} {period} {k}"), got, w);
            }
        }
        for key in cells.keys() {
            if !want_keys.contains(key) {
                problems.push(format!("trend {step} {key:?}: not in expected.json"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_load_page_shows_the_hand_worked_load() {
    let exp = expected();
    let (_tmp, out) = build();
    let page = read_page(&out.join("reports/load.html"));
    let mut problems = Vec::new();
    for (table, which) in [("load-agents", "agents"), ("load-customers", "customers")] {
        let cells = cells_of(&page, table);
        let mut want_keys = BTreeSet::new();
        for (who, figures) in exp["load"][which].as_object().unwrap() {
            for (k, w) in figures.as_object().unwrap() {
                want_keys.insert((who.clone(), k.clone()));
                let got = cells.get(&(who.clone(), k.clone())).copied();
                match w.as_str() {
                    // The oldest ticket, or the nearest due with its instant (`<time datetime>`).
                    Some(text) => {
                        let got = got.map(|g| g.split_whitespace().collect::<Vec<_>>());
                        let got = got.map(|g| {
                            let id = g.first().copied().unwrap_or("");
                            match g.iter().find_map(|t| t.strip_prefix('@')) {
                                Some(at) if k == "nearest_due" => format!("{id} {at}"),
                                _ => id.to_string(),
                            }
                        });
                        if got.as_deref() != Some(text) {
                            problems.push(format!("{table} {who} {k}: {got:?}, expected {text}"));
                        }
                    }
                    None => check(&mut problems, format!("{table} {who} {k}"), got, w),
                }
            }
        }
        for key in cells.keys() {
            if !want_keys.contains(key) {
                problems.push(format!("{table} {key:?}: not in expected.json"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The tokenizer reads what the tests rely on: a figure cell, a `<time>` in it, a watch row.
#[test]
fn the_page_reader_reads_cells_times_and_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("p.html");
    std::fs::write(
        &p,
        "<table><tr data-ticket=\"T1\" data-clock=\"response\" data-state=\"breached\">\
         <td data-table=\"x\" data-group=\"g\" data-figure=\"f\">1.234,5&nbsp;%</td>\
         <td data-table=\"x\" data-group=\"g\" data-figure=\"d\"><a href=\"#\">T1</a> <time datetime=\"2026-01-01T00:00:00-05:00\">1 ene</time></td></tr></table>",
    )
    .unwrap();
    let page = read_page(&p);
    let f = &page.cells[&("x".into(), "g".into(), "f".into())];
    assert_eq!(printed(f), Some((1234.5, 0.05 + 1e-9)));
    assert_eq!(
        page.cells[&("x".into(), "g".into(), "d".into())],
        "T1 @2026-01-01T00:00:00-05:00 1 ene"
    );
    assert!(page
        .watch
        .contains(&("T1".into(), "response".into(), "breached".into())));
    assert_eq!(printed("–"), None);
}
