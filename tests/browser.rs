//! The built site in Debian's headless Chromium, served by the real `mesa serve`: search,
//! ticket filters, no console errors, screenshots for review, and XSS payloads that never run.
//!
//! Without Chromium and chromedriver these tests say that they were skipped and pass; with
//! `MESA_REQUIRE_BROWSER=1` (as `.ci/run` sets) a missing browser fails them.

mod common;

use common::browser::{browser_or_skip, screenshot_dir, Browser};
use common::serve::{new_ticket, sample_desk, Serve};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const SAMPLE_TICKET: &str = "261102-C4K7P";

/// Loads `rel` and waits until the page and its deferred work (search index, filters) settle.
fn open(browser: &Browser, serve: &Serve, rel: &str) {
    browser.goto(&format!("{}{rel}", serve.url));
    browser.wait_for(
        &format!("{rel} to load"),
        "return document.readyState === 'complete' && !!window.__dialogs",
        json!([]),
    );
    std::thread::sleep(Duration::from_millis(300));
}

/// Console errors of the page just loaded: the browser's log at SEVERE level plus what the page
/// hook saw (script errors, failed resources, console.error, unhandled rejections).
fn errors(browser: &Browser) -> Vec<String> {
    let mut found: Vec<String> = browser
        .console()
        .into_iter()
        .filter(|l| l.starts_with("SEVERE"))
        .collect();
    if let Value::Array(hooked) = browser.exec("return window.__errors || []", json!([])) {
        found.extend(
            hooked
                .into_iter()
                .map(|v| v.as_str().unwrap_or_default().to_string()),
        );
    }
    found
}

/// The URL (relative to the site root) a link on the current page points to, found by text.
fn link_to(browser: &Browser, text: &str) -> String {
    let href = browser.exec(
        "var a = Array.from(document.querySelectorAll('main a')).find(a => a.textContent.includes(arguments[0]));
         return a ? a.href : null;",
        json!([text]),
    );
    href.as_str()
        .unwrap_or_else(|| panic!("no link with text {text:?}"))
        .to_string()
}

/// Runs a search from the home page's search box; returns the results as (text, href).
fn search(
    browser: &Browser,
    serve: &Serve,
    query: &str,
    check_console: bool,
) -> Vec<(String, String)> {
    open(browser, serve, "index.html");
    let input = browser
        .find("main input[type=search]")
        .expect("the home page has a search box");
    browser.type_into(&input, &format!("{query}\u{E007}"));
    let results = browser.wait_for(
        &format!("results for {query:?}"),
        "var s = document.getElementById('mesa-search-status');
         var cfg = document.getElementById('mesa-search-config');
         var loading = cfg ? cfg.getAttribute('data-msg-loading') : null;
         if (!s || !s.textContent.trim() || s.textContent === loading) return null;
         var items = Array.from(document.querySelectorAll('#mesa-search-results li'));
         return [items.map(li => { var a = li.querySelector('a'); return [li.textContent, a ? a.href : '']; })];",
        json!([]),
    );
    let errs = errors(browser);
    assert!(
        !check_console || errs.is_empty(),
        "console errors on the search page: {errs:?}"
    );
    results[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap_or_default().to_string(),
                r[1].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Number of ticket rows currently shown by the index's filters.
fn visible_rows(browser: &Browser) -> Vec<String> {
    let v = browser.exec(
        "return Array.from(document.querySelectorAll('#mesa-tickets tbody tr'))
           .filter(tr => tr.getClientRects().length > 0)
           .map(tr => tr.querySelector('a').textContent.trim());",
        json!([]),
    );
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Ids of the rows whose `data-*` attributes have all these values, shown or not.
fn rows_where(browser: &Browser, want: &[(&str, &str)]) -> Vec<String> {
    let want: serde_json::Map<String, Value> = want
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    let v = browser.exec(
        "var want = arguments[0];
         return Array.from(document.querySelectorAll('#mesa-tickets tbody tr'))
           .filter(tr => Object.keys(want).every(k => tr.dataset[k] === want[k]))
           .map(tr => tr.querySelector('a').textContent.trim());",
        json!([want]),
    );
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

fn select(browser: &Browser, id: &str, value: &str) {
    browser.exec(
        "var s = document.getElementById(arguments[0]); s.value = arguments[1];
         s.dispatchEvent(new Event('input', {bubbles: true}));
         s.dispatchEvent(new Event('change', {bubbles: true}));",
        json!([id, value]),
    );
    std::thread::sleep(Duration::from_millis(200));
}

#[test]
fn search_filters_console_and_screenshots() {
    let Some((chromium, driver)) = browser_or_skip("search_filters_console_and_screenshots") else {
        return;
    };
    let (_tmp, desk) = sample_desk();
    let printer = new_ticket(
        &desk,
        "clinica-santa-helena",
        "Impresora de recepción no responde",
        "La impresora de la recepción no imprime los certificados.",
        "2026-11-20T10:00:00-05:00",
    );
    let serve = Serve::start_lang(&desk, &[], "es");
    let browser = Browser::start(&chromium, &driver);
    let shots = screenshot_dir();

    // Search, accent- and case-insensitive, from the home page's box. Misses are collected and
    // reported at the end so the rest of the test (and the screenshots) still runs.
    let mut misses = Vec::new();
    for (query, want, what) in [
        (
            "fotografia",
            "no-captura-foto",
            "the photo-capture incident",
        ),
        ("huellero", "playbook/dispositivos", "the biometric checks"),
        (
            "impresora recepcion",
            printer.as_str(),
            "the new ticket (internal build)",
        ),
    ] {
        let found = search(&browser, &serve, query, true);
        if !found.iter().any(|(_, href)| href.contains(want)) {
            misses.push(format!(
                "{query:?} should find {what} ({want}); found {found:?}"
            ));
        }
    }

    // Ticket filters on the open tickets' index: each filter shows exactly the rows whose data
    // match, and filters combine.
    open(&browser, &serve, "tickets/index.html");
    let all = visible_rows(&browser);
    assert!(
        all.contains(&printer) && all.contains(&SAMPLE_TICKET.to_string()),
        "open tickets listed: {all:?}"
    );
    assert_eq!(
        all.len(),
        rows_where(&browser, &[]).len(),
        "no filter: every row shown"
    );
    let mut narrowed = false;
    for f in ["status", "priority", "level", "customer", "assignee", "sla"] {
        // The new ticket's value, or (for a field it has not set yet) another row's.
        let value = browser.exec(
            "var rows = Array.from(document.querySelectorAll('#mesa-tickets tbody tr'));
             var mine = rows.find(tr => tr.textContent.includes(arguments[0]));
             if (mine.dataset[arguments[1]]) return mine.dataset[arguments[1]];
             var other = rows.find(tr => tr.dataset[arguments[1]]);
             return other ? other.dataset[arguments[1]] : null;",
            json!([printer, f]),
        );
        let value = value
            .as_str()
            .unwrap_or_else(|| panic!("no row has data-{f}"))
            .to_string();
        select(&browser, &format!("mesa-f-{f}"), &value);
        let shown = visible_rows(&browser);
        assert!(
            !shown.is_empty(),
            "filter {f} = {value} shows the matching rows"
        );
        assert_eq!(
            shown,
            rows_where(&browser, &[(f, &value)]),
            "filter {f} = {value}"
        );
        narrowed |= shown.len() < all.len();
        select(&browser, &format!("mesa-f-{f}"), "");
    }
    assert!(narrowed, "some filter hides some rows");
    select(&browser, "mesa-f-status", "new");
    select(&browser, "mesa-f-customer", "ips-andina");
    assert_eq!(
        visible_rows(&browser),
        rows_where(&browser, &[("status", "new"), ("customer", "ips-andina")]),
        "filters combine"
    );
    assert!(!visible_rows(&browser).contains(&printer));
    select(&browser, "mesa-f-status", "");
    select(&browser, "mesa-f-customer", "");
    assert_eq!(
        visible_rows(&browser),
        all,
        "clearing the filters shows every row"
    );
    let text = browser.find("#mesa-f-text").expect("text filter");
    browser.type_into(&text, "impresora de recepción");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(visible_rows(&browser), vec![printer.clone()], "text filter");
    let errs = errors(&browser);
    assert!(
        errs.is_empty(),
        "console errors on the ticket index: {errs:?}"
    );

    // The pages staff use most: no console errors, and a screenshot of each for review.
    open(&browser, &serve, "tickets/index.html");
    let ticket_url = link_to(&browser, SAMPLE_TICKET);
    let ticket_rel = ticket_url
        .strip_prefix(&serve.url)
        .expect("a link inside the site")
        .to_string();
    let pages = [
        ("home", "index.html".to_string()),
        ("playbook", "playbook/acceso.html".to_string()),
        ("playbook-index", "playbook/index.html".to_string()),
        (
            "incident",
            "playbook/dispositivos/no-captura-foto.html".to_string(),
        ),
        ("catalog", "catalog/index.html".to_string()),
        (
            "catalog-entry",
            "catalog/bases-datos-estandar.html".to_string(),
        ),
        ("kb", "kb/index.html".to_string()),
        ("article", "kb/articles/roles.html".to_string()),
        ("ticket", ticket_rel),
        ("tickets", "tickets/index.html".to_string()),
        ("report", "reports/index.html".to_string()),
        ("priorities", "priorities.html".to_string()),
        ("escalation", "escalation.html".to_string()),
        ("contact", "contact.html".to_string()),
        ("news", "news/index.html".to_string()),
        ("not-found", "no/such/page.html".to_string()),
    ];
    for (name, rel) in &pages {
        let status = serve.get(&format!("/{rel}")).status;
        assert_eq!(
            status,
            if *name == "not-found" { 404 } else { 200 },
            "{rel}"
        );
        open(&browser, &serve, rel);
        let errs = errors(&browser);
        if *name == "not-found" {
            let title = browser.exec("return document.title", json!([]));
            assert!(
                !title.as_str().unwrap_or_default().is_empty(),
                "the site's 404 page"
            );
            // The 404 response itself is the one expected error.
            assert!(
                errs.iter().all(|e| e.contains("404")),
                "console errors on {rel}: {errs:?}"
            );
        } else {
            assert!(errs.is_empty(), "console errors on {rel}: {errs:?}");
        }
        if ["home", "playbook", "catalog", "ticket", "report"].contains(name) {
            browser.screenshot(&shots.join(format!("{name}.png")));
        }
    }
    // The ticket page shows the ticket.
    open(&browser, &serve, &pages[8].1);
    let body = browser.exec("return document.body.innerText", json!([]));
    assert!(body.as_str().unwrap().contains(SAMPLE_TICKET));
    println!("screenshots in {}", shots.display());
    assert!(misses.is_empty(), "search misses:\n{}", misses.join("\n"));
}

/// Markdown and HTML that try every way to run script; each sets `top.__xss` or opens a dialog.
const PAYLOADS: &[&str] = &[
    "<script>top.__xss='script';alert('script')</script>",
    "<img src=x onerror=\"top.__xss='img';alert('img')\">",
    "<img src=\"https://x.invalid/a.png\" onload=\"top.__xss='img-load'\">",
    "<svg onload=\"top.__xss='svg'\"><circle r=\"1\"/></svg>",
    "<svg><script>top.__xss='svg-script'</script></svg>",
    "<iframe src=\"javascript:top.__xss='iframe-js'\"></iframe>",
    "<iframe srcdoc=\"<script>top.__xss='srcdoc'</script>\"></iframe>",
    "<object data=\"javascript:top.__xss='object'\"></object>",
    "<embed src=\"javascript:top.__xss='embed'\">",
    "<details open ontoggle=\"top.__xss='details'\">x</details>",
    "<input autofocus onfocus=\"top.__xss='focus'\">",
    "<video><source onerror=\"top.__xss='video'\"></video>",
    "<math><mtext><table><mglyph><style><img src=x onerror=\"top.__xss='mxss'\"></style></mglyph></table></mtext></math>",
    "<a href=\"javascript:top.__xss='link'\">raw link</a>",
    "[md link](javascript:top.__xss='mdlink')",
    "[md link 2](JaVaScRiPt:top.__xss='mdlink2')",
    "[md link 3](&#106;avascript:top.__xss='mdlink3')",
    "![md img](https://x.invalid/a.png\" onerror=\"top.__xss='mdimg')",
    "<a href=\"data:text/html,<script>top.__xss='data'</script>\">data link</a>",
    "<form action=\"javascript:top.__xss='form'\"><button>go</button></form>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:top.__xss='meta'\">",
    "<base href=\"javascript:top.__xss='base'//\">",
    "<style>body{background:url(\"javascript:top.__xss='css'\")}</style>",
    "<div style=\"background-image:url(javascript:top.__xss='style')\">styled</div>",
    "<noscript><p title=\"</noscript><img src=x onerror=top.__xss='noscript'>\"></noscript>",
    "<template><script>top.__xss='template'</script></template>",
    "<scr<script>ipt>top.__xss='split'</scr</script>ipt>",
    "`<script>top.__xss='code'</script>` in a code span",
    "<body onload=\"top.__xss='body'\">",
    "<a href=\"#\" onclick=\"top.__xss='click'\" id=\"xss-click\">click me</a>",
    "</textarea></title></style><script>top.__xss='breakout'</script>",
    "\"><script>top.__xss='attr-breakout'</script>",
    "<img src=x onerror=\"document.title='XSSRAN'\">",
    "<svg><animate onbegin=\"document.title='XSSRAN'\" attributeName=x dur=1s>",
    "<iframe src=\"data:text/html,<script>parent.document.title='XSSRAN'</script>\"></iframe>",
    "{{ 7*7 }} {% raw %}{{ x }}{% endraw %} xsscorpus-template",
];

fn corpus() -> String {
    let mut text = String::from("\n\n## xsscorpus\n\n");
    for p in PAYLOADS {
        text.push_str(p);
        text.push_str("\n\n");
    }
    text
}

/// Appends the corpus to a Markdown file's body and puts a payload in its `title:`.
fn poison(file: &Path, title_key: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let title = "xsscorpus <script>top.__xss=\\\"title\\\"</script><img src=x onerror=top.__xss=1>";
    let text = text
        .lines()
        .map(|l| {
            if l.starts_with(title_key) {
                format!("{title_key} \"{title}\"")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(file, format!("{text}\n{}", corpus())).unwrap();
}

/// Whether any script ran or any dialog opened on the current page, or an element still carries
/// an event handler or a script URL from the corpus.
fn assert_clean(browser: &Browser, rel: &str) {
    // Give handlers (onerror of images, autofocus, toggles) a moment to fire.
    std::thread::sleep(Duration::from_millis(500));
    if let Some(text) = browser.open_dialog() {
        panic!("{rel}: a dialog opened: {text:?}");
    }
    let state = browser.exec(
        "var bad = [];
         document.querySelectorAll('*').forEach(function (el) {
           Array.from(el.attributes).forEach(function (a) {
             var v = (a.value || '').replace(/[\\s\\u0000-\\u001f]/g, '').toLowerCase();
             if (/^on/i.test(a.name) && a.value.indexOf('__xss') >= 0) bad.push(el.tagName + ' ' + a.name);
             if (/^(javascript|data|vbscript):/.test(v) && v.indexOf('__xss') >= 0) bad.push(el.tagName + ' ' + a.name + '=' + a.value);
             if (a.name === 'srcdoc') bad.push(el.tagName + ' srcdoc');
           });
         });
         return {xss: window.__xss || null, title: document.title, dialogs: window.__dialogs || null,
                 bad: bad, found: document.body.innerText.indexOf('xsscorpus') >= 0};",
        json!([]),
    );
    assert_eq!(state["xss"], Value::Null, "{rel}: a payload ran: {state}");
    assert_eq!(
        state["dialogs"],
        json!([]),
        "{rel}: a dialog was called: {state}"
    );
    assert_eq!(
        state["bad"],
        json!([]),
        "{rel}: dangerous attributes survived: {state}"
    );
    assert!(
        !state["title"]
            .as_str()
            .unwrap_or_default()
            .contains("XSSRAN"),
        "{rel}: {state}"
    );
    // Click the links and buttons the corpus left, in case one carries script.
    browser.exec(
        "document.querySelectorAll('main a, main button').forEach(function (el) {
           if ((el.textContent || '').match(/raw link|md link|data link|click me|^go$/)) {
             el.addEventListener('click', function (e) { e.preventDefault(); }, {once: true});
             el.click();
           }
         });",
        json!([]),
    );
    std::thread::sleep(Duration::from_millis(200));
    let after = browser.exec("return [window.__xss || null, window.__dialogs]", json!([]));
    assert_eq!(
        after,
        json!([null, []]),
        "{rel}: clicking the corpus's links ran script"
    );
}

#[test]
fn xss_payloads_never_run() {
    let Some((chromium, driver)) = browser_or_skip("xss_payloads_never_run") else {
        return;
    };
    let (_tmp, desk) = sample_desk();
    let ticket = walkdir::WalkDir::new(desk.join("tickets"))
        .into_iter()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with(SAMPLE_TICKET))
        .expect("the sample ticket")
        .into_path();
    poison(&ticket, "title:");
    poison(&desk.join("kb/articles/roles.md"), "title:");
    let serve = Serve::start_lang(&desk, &[], "es");
    let browser = Browser::start(&chromium, &driver);

    // The detectors work: a page that does run script is caught.
    browser.goto("data:text/html,<script>top.__xss='canary';alert('canary')</script>");
    let caught = browser.exec("return [window.__xss, window.__dialogs]", json!([]));
    assert_eq!(
        caught,
        json!(["canary", ["alert: canary"]]),
        "the page hook records script and dialogs"
    );

    open(&browser, &serve, "tickets/index.html");
    let ticket_url = browser
        .exec(
            "var a = Array.from(document.querySelectorAll('#mesa-tickets a')).find(a => a.textContent.includes(arguments[0]));
             return a ? a.href : null;",
            json!([SAMPLE_TICKET]),
        )
        .as_str()
        .expect("the ticket is listed")
        .to_string();
    let ticket_rel = ticket_url.strip_prefix(&serve.url).unwrap().to_string();
    for rel in [
        ticket_rel.as_str(),
        "kb/articles/roles.html",
        "tickets/index.html",
        "kb/index.html",
        "index.html",
        "reports/index.html",
        "search.html?q=xsscorpus",
    ] {
        open(&browser, &serve, rel);
        assert_clean(&browser, rel);
    }
    // The corpus is shown as text where it belongs.
    open(&browser, &serve, "kb/articles/roles.html");
    let body = browser.exec("return document.body.innerText", json!([]));
    assert!(
        body.as_str().unwrap().contains("xsscorpus"),
        "the poisoned article is shown"
    );
    // Search results render the poisoned titles and snippets as text.
    let results = search(&browser, &serve, "xsscorpus", false);
    assert!(
        results.len() >= 2,
        "both poisoned pages are found: {results:?}"
    );
    assert_clean(&browser, "search results");
}

#[test]
fn the_open_page_reloads_after_a_change() {
    let Some((chromium, driver)) = browser_or_skip("the_open_page_reloads_after_a_change") else {
        return;
    };
    let (_tmp, desk) = sample_desk();
    let serve = Serve::start_lang(&desk, &[], "es");
    let browser = Browser::start(&chromium, &driver);
    open(&browser, &serve, "kb/articles/roles.html");
    // Let the reload script read the current version first.
    std::thread::sleep(Duration::from_millis(800));
    browser.exec("window.__before_reload = true", json!([]));
    let article = desk.join("kb/articles/roles.md");
    let text = std::fs::read_to_string(&article).unwrap();
    std::fs::write(&article, format!("{text}\nRecargaAutomaticaComprobada\n")).unwrap();
    browser.wait_for(
        "the page to reload with the new text",
        "return !window.__before_reload && document.readyState === 'complete'
           && document.body.innerText.indexOf('RecargaAutomaticaComprobada') >= 0",
        json!([]),
    );
    let errs = errors(&browser);
    assert!(errs.is_empty(), "console errors after the reload: {errs:?}");
}

/// axe-core's verdict on the page just loaded: violations of impact serious or critical (as
/// "rule: target"), and the rules whose checks need a person to review ("incomplete").
fn axe(browser: &Browser, source: &str) -> (Vec<String>, Vec<(String, String)>) {
    let injected = browser.exec(
        "if (!window.axe) { var s = document.createElement('script'); s.textContent = arguments[0];
           document.head.appendChild(s); }
         return !!window.axe;",
        json!([source]),
    );
    assert_eq!(injected, json!(true), "axe-core loads into the page");
    let result = browser.exec_async(
        "var done = arguments[arguments.length - 1];
         axe.run(document, {resultTypes: ['violations', 'incomplete']}).then(function (r) {
           function flat(list) {
             var out = [];
             list.forEach(function (rule) {
               rule.nodes.forEach(function (n) {
                 out.push({id: rule.id, impact: n.impact || rule.impact || '', target: n.target.join(' '),
                           html: n.html.slice(0, 160)});
               });
             });
             return out;
           }
           done({violations: flat(r.violations), incomplete: flat(r.incomplete)});
         }, function (e) { done({error: String(e)}); });",
        json!([]),
    );
    assert!(result.get("error").is_none(), "axe failed: {result}");
    let serious = result["violations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["impact"] == "serious" || v["impact"] == "critical")
        .map(|v| {
            format!(
                "{} ({}): {} {}",
                v["id"], v["impact"], v["target"], v["html"]
            )
        })
        .collect();
    let review = result["incomplete"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["id"].as_str().unwrap_or_default().to_string(),
                format!("{} {}", v["target"], v["html"]),
            )
        })
        .collect();
    (serious, review)
}

/// axe-core (from the npm registry, installed by `.ci/run`) over every kind of page, in
/// Spanish and in English: no violation of impact serious or critical, and every check axe
/// leaves for a person to review is one that docs/site.md explains.
#[test]
fn axe_finds_no_serious_problem_on_any_kind_of_page() {
    let test = "axe_finds_no_serious_problem_on_any_kind_of_page";
    let Some((chromium, driver)) = browser_or_skip(test) else {
        return;
    };
    let Some(axe_js) = common::tool_or_skip(
        test,
        "MESA_AXE_JS",
        "axe-core/axe.min.js",
        "MESA_REQUIRE_AXE",
    ) else {
        return;
    };
    let source = std::fs::read_to_string(axe_js).unwrap();
    let docs = std::fs::read_to_string(common::sample_root().join("docs/site.md")).unwrap();
    let explained = docs
        .split("## Accessibility")
        .nth(1)
        .expect("docs/site.md has an Accessibility section");
    let (_tmp, desk) = sample_desk();
    let browser = Browser::start(&chromium, &driver);
    let mut problems = Vec::new();
    let mut unexplained = std::collections::BTreeSet::new();
    for lang in ["es", "en"] {
        let serve = Serve::start_lang(&desk, &[], lang);
        open(&browser, &serve, "tickets/index.html");
        let ticket = link_to(&browser, SAMPLE_TICKET);
        let ticket = ticket.strip_prefix(&serve.url).unwrap().to_string();
        let month = browser
            .exec(
                "var a = document.querySelector('nav.months li:nth-child(2) a'); return a ? a.href : null;",
                json!([]),
            )
            .as_str()
            .expect("a month page")
            .strip_prefix(&serve.url)
            .unwrap()
            .to_string();
        let pages = [
            "index.html".to_string(),
            "kb/index.html".to_string(),
            "kb/articles/roles.html".to_string(),
            "news/index.html".to_string(),
            "playbook/index.html".to_string(),
            "playbook/acceso.html".to_string(),
            "playbook/dispositivos/no-captura-foto.html".to_string(),
            "catalog/index.html".to_string(),
            "catalog/bases-datos-estandar.html".to_string(),
            "priorities.html".to_string(),
            "escalation.html".to_string(),
            "contact.html".to_string(),
            "tickets/index.html".to_string(),
            month,
            ticket,
            "reports/index.html".to_string(),
            "reports/trend.html".to_string(),
            "reports/load.html".to_string(),
            "search.html?q=fotografia".to_string(),
            "no/such/page.html".to_string(),
        ];
        // A tag page, found from the article's tag links.
        open(&browser, &serve, "kb/articles/roles.html");
        let tag = browser.exec(
            "var a = document.querySelector('main a[href*=\"tags/\"]'); return a ? a.href : null;",
            json!([]),
        );
        let tag = tag
            .as_str()
            .expect("the article links a tag page")
            .strip_prefix(&serve.url)
            .unwrap()
            .to_string();
        for rel in pages.iter().chain([&tag]) {
            open(&browser, &serve, rel);
            if rel.starts_with("search.html") {
                browser.wait_for(
                    "search results",
                    "return document.querySelectorAll('#mesa-search-results li').length",
                    json!([]),
                );
            }
            let (serious, review) = axe(&browser, &source);
            problems.extend(serious.into_iter().map(|p| format!("{lang} {rel}: {p}")));
            for (rule, node) in review {
                if !explained.contains(&format!("`{rule}`")) {
                    unexplained.insert(format!("{rule}: {lang} {rel}: {node}"));
                }
            }
        }
        // The axe run did look at the pages: a page known to break a rule is caught.
        browser.goto("data:text/html,<html><body><img src='x.png'><a href='#'></a></body></html>");
        let (caught, _) = axe(&browser, &source);
        assert!(
            caught.iter().any(|p| p.contains("image-alt")),
            "axe reports a missing alt text: {caught:?}"
        );
    }
    assert!(
        problems.is_empty(),
        "serious or critical accessibility problems:\n{}",
        problems.join("\n")
    );
    assert!(
        unexplained.is_empty(),
        "checks axe leaves for review that docs/site.md (## Accessibility) does not explain:\n{}",
        unexplained.into_iter().collect::<Vec<_>>().join("\n")
    );
}
