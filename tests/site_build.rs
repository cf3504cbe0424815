//! `mesa build` on copies of the sample desk, through the real binary: every page exists and
//! every internal link and asset resolves; the public build leaks no case number, requester or
//! customer contact; XSS payloads in tickets and articles come out inert; broken kb links stop
//! the build at `path:line:col`; theme overrides, language, git history and search index.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

const NOW: &str = "2026-11-26T10:00:00-05:00";

fn repo() -> PathBuf {
    common::sample_root()
}

/// A copy of the sample desk (desk.yaml, kb/, tickets/, theme/) in a temp folder.
fn sample_desk() -> tempfile::TempDir {
    common::sample_copy(&["kb", "tickets", "theme"])
}

struct Built {
    ok: bool,
    stderr: String,
    out: PathBuf,
}

fn build(desk: &Path, args: &[&str]) -> Built {
    let out = desk.join("_out");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mesa"));
    cmd.arg("--desk")
        .arg(desk)
        .arg("build")
        .arg("--out")
        .arg(&out)
        .args(args)
        .env("MESA_NOW", NOW)
        .env_remove("MESA_LANG")
        .env("NO_COLOR", "1");
    let o = cmd.output().expect("mesa runs");
    Built {
        ok: o.status.success(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        out,
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every `href`/`src`/`action` attribute value of an HTML text (entities decoded).
fn references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in [" href=\"", " src=\"", " action=\""] {
        let mut rest = html;
        while let Some(i) = rest.find(attr) {
            rest = &rest[i + attr.len()..];
            let end = rest.find('"').unwrap_or(rest.len());
            out.push(decode_entities(&rest[..end]));
            rest = &rest[end..];
        }
    }
    out
}

fn decode_entities(s: &str) -> String {
    s.replace("&#x2F;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'%' && i + 2 < b.len())
            .then(|| {
                std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .flatten();
        match hex {
            Some(v) => {
                out.push(v);
                i += 3;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Checks that every relative reference of every HTML page leads to a file of the site, and
/// every `#fragment` to an id in that file. Returns the number of references checked.
fn check_links(site: &Path) -> usize {
    let mut ids: HashMap<PathBuf, BTreeSet<String>> = HashMap::new();
    let mut ids_of = |p: &Path| -> BTreeSet<String> {
        ids.entry(p.to_path_buf())
            .or_insert_with(|| {
                let html = read(p);
                let mut set = BTreeSet::new();
                let mut rest = html.as_str();
                while let Some(i) = rest.find(" id=\"") {
                    rest = &rest[i + 5..];
                    let end = rest.find('"').unwrap_or(rest.len());
                    set.insert(decode_entities(&rest[..end]));
                }
                set
            })
            .clone()
    };
    let mut checked = 0;
    let mut broken = Vec::new();
    for page in files(site)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
    {
        let html = read(&page);
        for r in references(&html) {
            if r.starts_with("mailto:")
                || r.starts_with("tel:")
                || r.starts_with("https://")
                || r.starts_with("http://")
            {
                continue;
            }
            assert!(
                !r.starts_with('/'),
                "{}: absolute reference {r} breaks file://",
                page.display()
            );
            checked += 1;
            let (path, frag) = match r.split_once('#') {
                Some((p, f)) => (p.to_string(), Some(f.to_string())),
                None => (r.clone(), None),
            };
            let path = path.split('?').next().unwrap_or("").to_string();
            let target = if path.is_empty() {
                page.clone()
            } else {
                let mut t = page.parent().unwrap().to_path_buf();
                for part in percent_decode(&path).split('/') {
                    match part {
                        ".." => {
                            t.pop();
                        }
                        "." | "" => {}
                        p => t.push(p),
                    }
                }
                t
            };
            if !target.starts_with(site) || !target.is_file() {
                broken.push(format!("{} -> {r}", page.display()));
                continue;
            }
            if let Some(f) = frag {
                if !f.is_empty()
                    && target.extension().is_some_and(|e| e == "html")
                    && !ids_of(&target).contains(&f)
                {
                    broken.push(format!("{} -> {r} (no id {f})", page.display()));
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "broken references:\n{}",
        broken.join("\n")
    );
    checked
}

#[test]
fn sample_desk_builds_every_page_and_every_link_resolves() {
    let desk = sample_desk();
    let b = build(desk.path(), &[]);
    assert!(b.ok, "build failed: {}", b.stderr);
    let site = &b.out;
    let loaded = mesa::model::load::Desk::load(desk.path()).unwrap().0;
    let mut expected: Vec<String> = vec![
        "index.html".into(),
        "kb/index.html".into(),
        "news/index.html".into(),
        "playbook/index.html".into(),
        "catalog/index.html".into(),
        "escalation.html".into(),
        "priorities.html".into(),
        "contact.html".into(),
        "search.html".into(),
        "404.html".into(),
        "tickets/index.html".into(),
        "reports/index.html".into(),
        "search/pages.js".into(),
        "static/style.css".into(),
        "static/site.js".into(),
        "static/search.js".into(),
    ];
    for a in &loaded.kb.articles {
        expected.push(format!("kb/articles/{}.html", a.id));
    }
    for c in &loaded.kb.catalog {
        expected.push(format!("catalog/{}.html", c.id));
    }
    for c in &loaded.kb.playbook {
        expected.push(format!("playbook/{}.html", c.id));
        for i in &c.front.incidents {
            expected.push(format!("playbook/{}/{}.html", c.id, i.id));
        }
    }
    let (tickets, diags) = mesa::model::load::load_tickets(desk.path());
    assert!(diags.is_empty(), "{diags:?}");
    assert!(!tickets.is_empty());
    for t in &tickets {
        expected.push(
            t.path
                .with_extension("html")
                .to_string_lossy()
                .replace('\\', "/"),
        );
    }
    for stem in [
        "compliance-by-month",
        "backlog-by-age",
        "escalations-by-level",
        "at-risk",
        "breached",
    ] {
        expected.push(format!("reports/{stem}.csv"));
        expected.push(format!("reports/{stem}.json"));
    }
    for e in &expected {
        assert!(site.join(e).is_file(), "missing page {e}");
    }
    let checked = check_links(site);
    assert!(checked > 500, "only {checked} references checked");

    // Real content from the desk.
    let home = read(&site.join("index.html"));
    assert!(
        home.contains("soporte@sgm.com.co"),
        "contact channels on the home page"
    );
    assert!(home.contains("Qué hacer primero"));
    let incident = read(&site.join("playbook/funcionalidad.html"));
    assert!(
        incident.contains("href=\"../playbook/acceso.html\""),
        "Véase Acceso is a link"
    );
    assert!(incident.contains("Véase Acceso"));
    let no_carga = read(&site.join("playbook/acceso/no-carga-pagina.html"));
    assert!(
        no_carga.contains("owner-customer_it") && no_carga.contains("Soporte Técnico del cliente")
    );
    assert!(
        no_carga.contains("id=\"nota-extramural\""),
        "the ** footnote is shown"
    );
    let catalog = read(&site.join("catalog/index.html"));
    assert_eq!(
        catalog.matches("<tr data-complexity=").count(),
        loaded.kb.catalog.len()
    );
    let prios = read(&site.join("priorities.html"));
    assert!(prios.contains("Crítica") && prios.contains("30 min"));
    // Issue 9, point 2: both Table 5 columns, the resolution target being the desk's choice
    // (Baja: 72 h response, 120 h resolution in desk.yaml).
    assert!(
        prios.contains("Meta de resolución") && prios.contains("72 h") && prios.contains("120 h"),
        "response and resolution columns"
    );
    assert!(
        prios.contains("8 de diciembre de 2026"),
        "coming holidays: Inmaculada Concepción"
    );
    let ticket = tickets
        .iter()
        .find(|t| t.front.id == "261102-C4K7P")
        .expect("sample ticket");
    let page = read(&site.join(ticket.path.with_extension("html")));
    assert!(
        page.contains("role=\"progressbar\""),
        "clocks as progress bars"
    );
    assert!(page.contains("Historia del caso") && page.contains("Carolina Pérez"));
    let reports = read(&site.join("reports/index.html"));
    assert!(
        reports.matches("<svg class=\"chart\"").count() >= 3,
        "inline charts"
    );
    let csv = read(&site.join("reports/compliance-by-month.csv"));
    assert!(csv.lines().count() >= 2);
    let index = read(&site.join("tickets/index.html"));
    for f in ["status", "priority", "level", "customer", "assignee", "sla"] {
        assert!(
            index.contains(&format!("data-column=\"{f}\"")),
            "filter {f}"
        );
    }
    // The article a ticket solved lists it (internal build).
    if let Some((t, k)) = tickets
        .iter()
        .find_map(|t| t.front.kb.first().map(|k| (t, k)))
    {
        let a = read(&site.join(format!("kb/articles/{k}.html")));
        assert!(
            a.contains(&t.front.id),
            "article {k} lists ticket {}",
            t.front.id
        );
    }
    // Plain progress lines and the one-line summary (stderr is not a terminal here).
    assert!(
        b.stderr.contains("mesa build: generando páginas"),
        "{}",
        b.stderr
    );
    let summary = b.stderr.lines().last().unwrap_or("");
    assert!(
        summary.contains("páginas en") && summary.contains("aviso"),
        "{summary}"
    );
}

/// Every interface string the templates use exists in both catalogs.
#[test]
fn every_template_string_is_translated() {
    let es = mesa::model::i18n::Catalog::load("es", None);
    let en = mesa::model::i18n::Catalog::load("en", None);
    let mut missing = Vec::new();
    for p in files(&repo().join("theme/templates")) {
        let text = read(&p);
        for quote in ['"', '\''] {
            let pat = format!("t(k={quote}");
            let mut rest = text.as_str();
            while let Some(i) = rest.find(&pat) {
                rest = &rest[i + pat.len()..];
                let end = rest.find(quote).unwrap();
                let key = &rest[..end];
                // `t(k="site.tickets.col_" ~ f)` builds its key: checked by the pages it renders.
                if rest[end + 1..].trim_start().starts_with('~') {
                    continue;
                }
                for cat in [&es, &en] {
                    if !cat.all().contains_key(key) {
                        missing.push(format!("{} {}: {key}", cat.lang, p.display()));
                    }
                }
            }
        }
    }
    for s in mesa::model::ticket::Status::ALL {
        for cat in [&es, &en] {
            if !cat
                .all()
                .contains_key(&format!("site.status.{}", s.as_str()))
            {
                missing.push(format!("{}: site.status.{}", cat.lang, s.as_str()));
            }
        }
    }
    for k in mesa::mail::compose::MailKind::ALL {
        for cat in [&es, &en] {
            if !cat.all().contains_key(&format!("site.mail.{}", k.as_str())) {
                missing.push(format!("{}: site.mail.{}", cat.lang, k.as_str()));
            }
        }
    }
    assert!(missing.is_empty(), "untranslated: {missing:#?}");
}

/// The public build: no tickets, reports, customers' contacts or internal articles, and no case
/// number, requester name or email, or customer contact anywhere in any file.
#[test]
fn public_build_leaks_no_case_requester_or_customer_contact() {
    let desk = sample_desk();
    let b = build(desk.path(), &["--public"]);
    assert!(b.ok, "build failed: {}", b.stderr);
    let site = &b.out;
    assert!(!site.join("tickets").exists());
    assert!(!site.join("reports").exists());
    assert!(!site.join("search/t").exists());

    let loaded = mesa::model::load::Desk::load(desk.path()).unwrap().0;
    let (tickets, _) = mesa::model::load::load_tickets(desk.path());
    let mut secrets: BTreeSet<String> = BTreeSet::new();
    for t in &tickets {
        secrets.insert(t.front.id.clone());
        secrets.insert(t.front.requester.name.clone());
        secrets.extend(t.front.requester.email.clone());
        secrets.extend(t.front.requester.phone.clone());
        secrets.insert(t.front.title.clone());
    }
    for c in &loaded.config.customers {
        secrets.insert(c.contract.code.clone());
        for p in &c.contacts {
            secrets.insert(p.name.clone());
            secrets.insert(p.email.clone());
            secrets.extend(p.phone.clone());
        }
    }
    let internal: Vec<&mesa::model::kb::Article> = loaded
        .kb
        .articles
        .iter()
        .filter(|a| a.front.internal)
        .collect();
    assert!(
        !internal.is_empty(),
        "the sample desk has an internal article to leave out"
    );
    for a in &internal {
        secrets.insert(a.front.title.clone());
        assert!(!site.join(format!("kb/articles/{}.html", a.id)).exists());
    }
    // Also as the search index folds them (lowercase, no accents) and as HTML escapes them.
    let variants: Vec<(String, String)> = secrets
        .iter()
        .filter(|s| s.len() >= 4)
        .flat_map(|s| {
            let folded = mesa::output::search::fold(s);
            let escaped = mesa::output::markdown::escape(s).replace('/', "&#x2F;");
            [
                (s.clone(), s.clone()),
                (folded, s.clone()),
                (escaped, s.clone()),
            ]
        })
        .collect();
    let mut leaks = Vec::new();
    let all = files(site);
    assert!(all.len() > 50);
    for f in &all {
        let bytes = std::fs::read(f).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let lower = text.to_lowercase();
        for (v, original) in &variants {
            if text.contains(v.as_str()) || lower.contains(&v.to_lowercase()) {
                leaks.push(format!("{}: {original:?}", f.display()));
            }
        }
    }
    assert!(leaks.is_empty(), "leaks:\n{}", leaks.join("\n"));
    // The public build still works as a site.
    check_links(site);
    assert!(read(&site.join("index.html")).contains("soporte@sgm.com.co"));
}

/// A tag with its name and attribute text, for every `<tag ...>` of an HTML text.
fn tags(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let inside = &rest[..end];
        let name_len = inside
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '!' || c == '/' || c == '-'))
            .unwrap_or(inside.len());
        out.push((
            inside[..name_len].to_ascii_lowercase(),
            inside[name_len..].to_string(),
        ));
        rest = &rest[end..];
    }
    out
}

/// Fails if an HTML page has anything that could run script or restyle the page from content.
fn assert_inert(page: &Path, allow_svg: bool) {
    let html = read(page);
    for (name, attrs) in tags(&html) {
        let a = attrs.to_ascii_lowercase();
        match name.as_str() {
            "script" => {
                assert!(
                    a.contains("src=\""),
                    "{}: inline script <script{attrs}>",
                    page.display()
                );
                assert!(
                    a.contains("static/") || a.contains("search/"),
                    "{}: foreign script {attrs}",
                    page.display()
                );
            }
            "iframe" | "object" | "embed" | "style" | "base" | "math" | "frame" | "frameset"
            | "link"
                if name != "link" || !a.contains(" href=\"") || !a.contains("static/") =>
            {
                panic!("{}: <{name}{attrs}> in page", page.display())
            }
            "svg" if !allow_svg => panic!("{}: <svg{attrs}> in page", page.display()),
            _ => {}
        }
        // Event handlers: ` on...=` attributes.
        let mut rest = a.as_str();
        while let Some(i) = rest.find(" on") {
            let after = &rest[i + 3..];
            let word: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphabetic())
                .collect();
            let next = after[word.len()..].trim_start();
            assert!(
                !(word.len() > 1 && next.starts_with('=')),
                "{}: event handler in <{name}{attrs}>",
                page.display()
            );
            rest = after;
        }
        for bad in ["javascript:", "vbscript:", "data:"] {
            for attr in [
                "href=\"",
                "src=\"",
                "action=\"",
                "xlink:href=\"",
                "formaction=\"",
            ] {
                if let Some(i) = a.find(attr) {
                    let v =
                        decode_entities(&a[i + attr.len()..]).replace(['\t', '\n', '\r', ' '], "");
                    assert!(
                        !v.starts_with(bad),
                        "{}: {bad} URL in <{name}{attrs}>",
                        page.display()
                    );
                }
            }
        }
        if let Some(i) = a.find("style=\"") {
            let v = &a[i + 7..];
            let v = &v[..v.find('"').unwrap_or(v.len())];
            assert!(
                v.starts_with("width: ")
                    && v.ends_with('%')
                    && v[7..v.len() - 1].chars().all(|c| c.is_ascii_digit()),
                "{}: style attribute in <{name}{attrs}>",
                page.display()
            );
        }
    }
}

const PAYLOADS: &str = r#"
<script>alert('xss-script')</script>

<img src=x onerror="alert('xss-img')">

[click me](javascript:alert('xss-link'))

[spaced]( javascript:alert(1) ) [upper](JAVASCRIPT:alert(1)) [vb](vbscript:msgbox(1))

<a href="jav&#x09;ascript:alert('xss-entity')">entity</a>

<style>body { display: none }</style>

<p style="background: url(javascript:alert(1))">styled</p>

<iframe src="https://example.com/xss"></iframe>

<svg onload="alert('xss-svg')"><circle r="1"/></svg>

<math><mi xlink:href="javascript:alert(1)">m</mi></math>

![data](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)

<a href="data:text/html,<script>alert(1)</script>">data link</a>

<object data="x.swf"></object><embed src="x.swf">

<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">go</button></form>

<base href="https://evil.example/">

<div onmouseover="alert(1)" id="mesa-main">hover</div>

<details open ontoggle=alert(1)>x</details>
"#;

#[test]
fn xss_payloads_in_articles_and_tickets_come_out_inert() {
    let desk = sample_desk();
    let root = desk.path();
    std::fs::write(
        root.join("kb/articles/xss.md"),
        format!(
            "---\ntitle: \"<img src=x onerror=alert('title')> Ataque\"\nkind: article\ncategory: \"<script>alert(1)</script>\"\ntags: [\"<svg onload=alert(1)>\"]\nsummary: \"<iframe src=x>\"\n---\n## Pruebas\n{PAYLOADS}\n"
        ),
    )
    .unwrap();
    // A ticket with payloads in its title, requester, body and an event's text.
    let ticket = format!(
        "---\nid: 261125-XSS00\ntitle: \"<script>alert('ticket')</script>\"\ncustomer: ips-andina\nrequester:\n  name: \"<img src=x onerror=alert(1)>\"\n  email: \"a@b.co\\\"><script>alert(1)</script>\"\nchannel: phone\nlevel: 1\nassignee: lmartinez\nstatus: new\nevents:\n  - at: 2026-11-25T08:00:00-05:00\n    by: lmartinez\n    event: created\n  - at: 2026-11-25T08:05:00-05:00\n    by: lmartinez\n    event: commented\n    text: \"<script>alert('event')</script> [x](javascript:alert(1)) <img src=x onerror=alert(2)>\"\n---\n{PAYLOADS}\n"
    );
    std::fs::create_dir_all(root.join("tickets/2026/11")).unwrap();
    std::fs::write(root.join("tickets/2026/11/261125-XSS00.md"), ticket).unwrap();

    // `mesa build` stops on what `mesa check` calls an error: the script links and the
    // requester's address that is no address (issue 11), each named at its line.
    let b = build(root, &[]);
    assert!(!b.ok, "unsafe links must stop the build");
    for bad in ["javascript:alert(1)", "vbscript:msgbox(1)", "requester"] {
        assert!(b.stderr.contains(bad), "{bad}: {}", b.stderr);
    }
    assert!(!b.out.join("index.html").exists(), "nothing published");
    // Defence in depth: rendered anyway (the library's build has no check gate), every payload
    // comes out inert.
    let lib_out = root.join("_lib_out");
    mesa::output::site::build(
        root,
        &lib_out,
        &mesa::output::site::BuildOptions {
            public: false,
            progress: None,
            now: Some(chrono::DateTime::parse_from_rfc3339(NOW).unwrap().into()),
            live_reload: false,
        },
    )
    .expect("the library renders the payloads");
    let site = &lib_out;
    let article = site.join("kb/articles/xss.html");
    let ticket = site.join("tickets/2026/11/261125-XSS00.html");
    assert!(
        read(&article).contains("styled"),
        "the harmless text survives"
    );
    assert!(read(&ticket).contains("hover"));
    for page in files(site)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
    {
        // The report pages' charts are SVG that mesa draws (every text in them escaped).
        let reports = page.parent().is_some_and(|d| d.ends_with("reports"));
        assert_inert(&page, reports);
    }
    // The theme's own elements keep their ids: content cannot take `mesa-main`.
    assert_eq!(read(&ticket).matches("id=\"mesa-main\"").count(), 1);
    // Search index scripts carry text only as JSON strings.
    for js in files(&site.join("search")) {
        let text = read(&js);
        assert!(!text.contains("</script"), "{}", js.display());
        assert!(text.starts_with("window.MESA_SEARCH="), "{}", js.display());
    }
}

#[test]
fn broken_internal_link_stops_the_build_at_its_line() {
    let desk = sample_desk();
    std::fs::write(
        desk.path().join("kb/articles/roto.md"),
        "---\ntitle: Roto\nkind: article\ncategory: Pruebas\nsummary: Un enlace roto.\n---\n## Uno\n\nTexto con [un enlace](no-existe.md) roto.\n",
    )
    .unwrap();
    let b = build(desk.path(), &[]);
    assert!(!b.ok);
    let want = format!("kb{0}articles{0}roto.md:9:11:", std::path::MAIN_SEPARATOR);
    assert!(b.stderr.contains(&want), "{}", b.stderr);
    assert!(b.stderr.contains("no-existe.md"));
    assert!(!b.out.exists(), "a failed build leaves no site");
}

/// The library's build (no `mesa check` gate, as `mesa serve` runs it) stops on a broken link
/// with the same diagnostics whether its folder is new (links checked while rendering, the
/// folder removed again) or an earlier build's (checked before any page is written, every
/// page left as it was).
#[test]
fn broken_link_fails_alike_into_a_new_and_an_earlier_folder() {
    let desk = sample_desk();
    let root = desk.path();
    let opts = mesa::output::site::BuildOptions {
        public: false,
        progress: None,
        now: Some(chrono::DateTime::parse_from_rfc3339(NOW).unwrap().into()),
        live_reload: false,
    };
    let earlier = root.join("_earlier");
    mesa::output::site::build(root, &earlier, &opts).expect("clean desk builds");
    let before: Vec<(PathBuf, String)> = files(&earlier)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .map(|p| (p.clone(), read(&p)))
        .collect();
    // A link `mesa check` accepts (the file exists in kb/) but no page of this build has:
    // only the build's own check can stop it.
    std::fs::create_dir_all(root.join("kb/drafts")).unwrap();
    std::fs::write(
        root.join("kb/drafts/borrador.md"),
        "---\ntitle: B\n---\nx\n",
    )
    .unwrap();
    let article = root.join("kb/articles/como-reportar-un-caso.md");
    let text = read(&article);
    std::fs::write(
        &article,
        format!("{text}\nVer [el borrador](../drafts/borrador.md).\n"),
    )
    .unwrap();
    std::fs::write(
        root.join("kb/articles/roto.md"),
        "---\ntitle: Roto\nkind: article\ncategory: Pruebas\nsummary: R.\n---\n[a](no-existe.md) y [b](otro.md)\n",
    )
    .unwrap();
    let message = |r: mesa::model::diag::Result<mesa::output::site::BuildSummary>| match r {
        Err(mesa::model::diag::Error::Diagnostics(d)) => d,
        other => panic!("expected broken links, got {:?}", other.map(|s| s.pages)),
    };
    let fresh = root.join("_fresh");
    let into_new = message(mesa::output::site::build(root, &fresh, &opts));
    assert!(
        !fresh.exists(),
        "a failed build into a new folder leaves none"
    );
    let into_earlier = message(mesa::output::site::build(root, &earlier, &opts));
    assert_eq!(into_new, into_earlier);
    let shown: Vec<String> = into_new.iter().map(|d| d.to_string()).collect();
    assert_eq!(shown.len(), 3, "{shown:#?}");
    for link in ["no-existe.md", "otro.md", "../drafts/borrador.md"] {
        assert!(shown.iter().any(|d| d.contains(link)), "{link}: {shown:#?}");
    }
    for (page, old) in before {
        assert_eq!(read(&page), old, "{} changed", page.display());
    }
}

#[test]
fn refuses_to_replace_a_folder_it_did_not_write() {
    let desk = sample_desk();
    let out = desk.path().join("_out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("precious.txt"), "keep").unwrap();
    let b = build(desk.path(), &[]);
    assert!(!b.ok);
    assert_eq!(read(&out.join("precious.txt")), "keep");
    // A folder mesa wrote is replaced, stale pages included.
    std::fs::remove_file(out.join("precious.txt")).unwrap();
    assert!(build(desk.path(), &[]).ok);
    std::fs::write(out.join("stale.html"), "old").unwrap();
    assert!(build(desk.path(), &[]).ok);
    assert!(!out.join("stale.html").exists());
    assert!(out.join("index.html").is_file());
}

#[test]
fn desk_theme_overrides_templates_and_assets() {
    let desk = sample_desk();
    let t = desk.path().join("theme/templates");
    std::fs::create_dir_all(&t).unwrap();
    std::fs::write(
        t.join("404.html"),
        "{% extends \"base.html\" %}{% block main %}<p>OVERRIDDEN-404 {{ t(k=\"site.not_found.home\") }}</p>{% endblock main %}",
    )
    .unwrap();
    std::fs::create_dir_all(desk.path().join("theme/static")).unwrap();
    std::fs::write(
        desk.path().join("theme/static/style.css"),
        "body{color:red}/*OWN*/",
    )
    .unwrap();
    std::fs::write(desk.path().join("theme/static/logo.txt"), "logo").unwrap();
    let b = build(desk.path(), &[]);
    assert!(b.ok, "{}", b.stderr);
    assert!(read(&b.out.join("404.html")).contains("OVERRIDDEN-404 Ir al inicio"));
    assert!(read(&b.out.join("static/style.css")).contains("/*OWN*/"));
    assert_eq!(read(&b.out.join("static/logo.txt")), "logo");
    assert!(
        b.out.join("static/site.js").is_file(),
        "embedded defaults stay"
    );
}

#[test]
fn english_desk_gets_english_interface_dates_and_numbers() {
    let desk = sample_desk();
    let b = build(desk.path(), &["--lang", "en"]);
    assert!(b.ok, "{}", b.stderr);
    let home = read(&b.out.join("index.html"));
    assert!(home.contains("<html lang=\"en\">"));
    assert!(home.contains("What to do first"));
    let prios = read(&b.out.join("priorities.html"));
    assert!(prios.contains("8 December 2026"), "English dates");
    assert!(b.stderr.lines().last().unwrap_or("").contains("pages in"));
}

#[test]
fn last_updated_and_author_come_from_git_history() {
    use git2::{Repository, Signature, Time};
    let desk = sample_desk();
    let repo = Repository::init(desk.path()).unwrap();
    let commit = |who: &str, when: i64, msg: &str| {
        let mut index = repo.index().unwrap();
        index
            .add_all(["kb"].iter(), git2::IndexAddOption::DEFAULT, None)
            .unwrap();
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = Signature::new(who, "x@example.co", &Time::new(when, 0)).unwrap();
        let parents: Vec<git2::Commit> = repo
            .head()
            .ok()
            .and_then(|h| h.peel_to_commit().ok())
            .into_iter()
            .collect();
        let refs: Vec<&git2::Commit> = parents.iter().collect();
        repo.commit(Some("HEAD"), &sig, &sig, msg, &tree, &refs)
            .unwrap();
    };
    commit("Ana Autora", 1_790_000_000, "kb");
    let roles = desk.path().join("kb/articles/roles.md");
    let text = read(&roles) + "\nUna línea más.\n";
    std::fs::write(&roles, text).unwrap();
    commit("Beto Editor", 1_791_000_000, "roles");
    let b = build(desk.path(), &[]);
    assert!(b.ok, "{}", b.stderr);
    let roles_page = read(&b.out.join("kb/articles/roles.html"));
    assert!(
        roles_page.contains("Beto Editor"),
        "last author of roles.md"
    );
    assert!(!roles_page.contains("Ana Autora"));
    let other = read(&b.out.join("kb/articles/prioridades-y-tiempos.html"));
    assert!(other.contains("Ana Autora"));
    assert!(other.contains("Última actualización"));
}

/// The search index: accent- and case-folded terms, titles weighted above bodies, and ticket
/// terms in prefix shards that only their own queries load.
#[test]
fn search_index_is_folded_ranked_and_sharded() {
    let desk = sample_desk();
    std::fs::write(
        desk.path().join("tickets/2026/11/261125-FT000.md"),
        "---\nid: 261125-FT000\ntitle: Fotografía del paciente no se guarda\ncustomer: ips-andina\nrequester:\n  name: Ana\nchannel: phone\nlevel: 1\nassignee: lmartinez\nstatus: new\nevents:\n  - at: 2026-11-25T08:00:00-05:00\n    by: lmartinez\n    event: created\n---\nLa cámara toma la FOTOGRAFÍA pero no queda en la historia.\n",
    )
    .unwrap();
    let b = build(desk.path(), &[]);
    assert!(b.ok, "{}", b.stderr);
    let pages = read(&b.out.join("search/pages.js"));
    let json = pages
        .trim_start_matches("window.MESA_SEARCH=window.MESA_SEARCH||{};MESA_SEARCH.pages=")
        .trim_end()
        .trim_end_matches(';');
    let v: serde_json::Value = serde_json::from_str(json).expect("pages index is JSON");
    let docs = v["docs"].as_array().unwrap();
    let postings = |term: &str| -> Vec<(String, u64)> {
        v["terms"][term]
            .as_array()
            .map(|l| {
                l.chunks(2)
                    .map(|c| {
                        (
                            docs[c[0].as_u64().unwrap() as usize][1]
                                .as_str()
                                .unwrap()
                                .to_string(),
                            c[1].as_u64().unwrap(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let huellero = postings("huellero");
    assert!(
        huellero.iter().any(|(t, _)| t == "No registra Huella"),
        "huellero finds the fingerprint checks: {huellero:?}"
    );
    let title_hit = huellero
        .iter()
        .find(|(t, _)| t.contains("(huellero)"))
        .expect("a title with huellero");
    let body_hits: Vec<&(String, u64)> = huellero
        .iter()
        .filter(|(t, _)| !t.to_lowercase().contains("huellero"))
        .collect();
    assert!(
        body_hits.iter().all(|(_, w)| *w < title_hit.1),
        "titles rank above bodies"
    );
    assert!(
        !postings("biometrico").is_empty(),
        "accents folded: biométrico"
    );
    assert!(v["terms"].get("biométrico").is_none());
    // Tickets: the folded term lives in the shard of its first two letters, not elsewhere.
    let fo = read(&b.out.join("search/t/fo.js"));
    assert!(fo.contains("\"fotografia\":"), "{fo}");
    let other = read(&b.out.join("search/t/ca.js"));
    assert!(!other.contains("\"fotografia\""));
    assert!(b.out.join("search/t/docs-0.js").is_file());
    let search_page = read(&b.out.join("search.html"));
    assert!(
        !search_page.contains("search/t/"),
        "no page loads the ticket index up front"
    );
}

/// The inertness check itself catches each kind of payload (so the XSS test can fail).
#[test]
fn inertness_check_catches_payloads() {
    let dir = tempfile::tempdir().unwrap();
    for (i, bad) in [
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<a href=\"data:text/html,x\">x</a>",
        "<iframe src=x></iframe>",
        "<style>p{}</style>",
        "<p style=\"color:red\">x</p>",
        "<svg onload=alert(1)>",
        "<details ontoggle =alert(1)>",
    ]
    .iter()
    .enumerate()
    {
        let p = dir.path().join(format!("{i}.html"));
        std::fs::write(&p, format!("<html><body>{bad}</body></html>")).unwrap();
        let caught = std::panic::catch_unwind(|| assert_inert(&p, false)).is_err();
        assert!(caught, "not caught: {bad}");
    }
    let ok = dir.path().join("ok.html");
    std::fs::write(&ok, "<p>&lt;script&gt;alert(1) onerror=x</p><div class=\"bar\"><span style=\"width: 40%\"></span></div>").unwrap();
    assert_inert(&ok, false);
}

/// A second build of an unchanged desk rewrites no file (pages are deterministic), and
/// `--quiet` leaves only the one-line summary.
#[test]
fn rebuild_writes_nothing_and_quiet_prints_only_the_summary() {
    let desk = sample_desk();
    let first = build(desk.path(), &[]);
    assert!(first.ok, "{}", first.stderr);
    let out = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(desk.path())
        .args(["--format", "json", "build", "--out"])
        .arg(&first.out)
        .env("MESA_NOW", NOW)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    assert_eq!(v["changed"], 0, "{v}");
    assert!(v["pages"].as_u64().unwrap() > 100);
    let quiet = build(desk.path(), &["--quiet"]);
    assert!(quiet.ok);
    let lines: Vec<&str> = quiet.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("mesa build: ") && lines[0].contains("páginas en"));
}

#[test]
fn streamed_articles_are_written_indexed_and_listed() {
    // Enough articles for every rayon worker to take several: each is written, indexed under
    // its own document number, listed in order, and carries a short snippet only.
    let desk = sample_desk();
    for i in 0..120 {
        std::fs::write(
            desk.path().join(format!("kb/articles/flujo-{i:03}.md")),
            format!(
                "---\ntitle: Flujo {i} palabra{i}x\nkind: article\ncategory: Flujos\ntags: [flujo]\nsummary: Resumen del flujo {i}.\n---\n## Paso\n\nTexto único marcador{i}z. {}\n\nVea [el anterior](flujo-{:03}.md).\n",
                "relleno ".repeat(400),
                i.max(1) - 1
            ),
        )
        .unwrap();
    }
    let b = build(desk.path(), &["--public"]);
    assert!(b.ok, "{}", b.stderr);
    let pages = read(&b.out.join("search/pages.js"));
    let json = pages
        .trim_start_matches("window.MESA_SEARCH=window.MESA_SEARCH||{};MESA_SEARCH.pages=")
        .trim_end()
        .trim_end_matches(';');
    let v: serde_json::Value = serde_json::from_str(json).expect("pages index is JSON");
    let docs = v["docs"].as_array().unwrap();
    for i in [0, 57, 119] {
        let url = format!("kb/articles/flujo-{i:03}.html");
        let page = read(&b.out.join(&url));
        assert!(page.contains(&format!("marcador{i}z")), "{url}");
        if i > 0 {
            assert!(page.contains(&format!(
                "href=\"../../kb/articles/flujo-{:03}.html\"",
                i - 1
            )));
        }
        // The body term and the title term both lead to this article, and only to it.
        for term in [format!("marcador{i}z"), format!("palabra{i}x")] {
            let list = v["terms"][&term].as_array().expect(&term);
            assert_eq!(list.len(), 2, "{term}: {list:?}");
            let doc = &docs[list[0].as_u64().unwrap() as usize];
            assert_eq!(doc[0], url.as_str(), "{term}");
        }
    }
    for d in docs {
        let snippet = d[3].as_str().unwrap();
        assert!(
            snippet.len() <= 250,
            "snippet of {}: {} bytes",
            d[0],
            snippet.len()
        );
    }
    // Postings stay ordered by document, as the browser's scorer reads them.
    let list = v["terms"]["relleno"].as_array().unwrap();
    let ids: Vec<u64> = list
        .iter()
        .step_by(2)
        .map(|x| x.as_u64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]) && ids.len() == 120,
        "{ids:?}"
    );
    let tag = read(&b.out.join("kb/tags/flujo.html"));
    assert!(tag.contains("flujo-000.html") && tag.contains("flujo-119.html"));
    assert!(read(&b.out.join("kb/index.html")).contains("Resumen del flujo 57."));
}

/// The site's help page links one guide per persona, each rendered into the site from docs/
/// (so the links work from file://), and every page's navigation leads to it.
#[test]
fn help_page_links_every_persona_guide_inside_the_site() {
    let desk = sample_desk();
    let b = build(desk.path(), &[]);
    assert!(b.ok, "build failed: {}", b.stderr);
    let index = read(&b.out.join("help/index.html"));
    for (page, doc) in [
        ("agent", "agent.md"),
        ("supervisor", "supervisor.md"),
        ("kb-author", "kb-author.md"),
        ("administrator", "administrator.md"),
        ("adapting", "adapting.md"),
    ] {
        assert!(
            index.contains(&format!("href=\"../help/{page}.html\"")),
            "{page} not linked from the help page"
        );
        let html = read(&b.out.join(format!("help/{page}.html")));
        // The page carries the document's own title (its first heading in docs/).
        let source = std::fs::read_to_string(repo().join("docs").join(doc)).unwrap();
        let title = source.lines().next().unwrap().trim_start_matches("# ");
        assert!(
            html.contains(&format!("<h1>{title}</h1>")),
            "{page}: {title}"
        );
    }
    // Every page's navigation has the help link (here: home and a ticket index).
    for page in ["index.html", "tickets/index.html"] {
        let html = read(&b.out.join(page));
        assert!(html.contains("help/index.html\">Ayuda</a>"), "{page}");
    }
    // Links between the guides stay inside the site.
    let agent = read(&b.out.join("help/agent.html"));
    assert!(agent.contains("href=\"../help/administrator.html\""));
    assert!(!agent.contains(".md\""));
}

/// A clean build creates its pages as unnamed files linked in whole (`O_TMPFILE`) where the
/// system allows, by their descriptor or else through `/proc` (`MESA_SITE_CREATE=linked-proc`
/// forces that), else by name (`MESA_SITE_CREATE=named` forces that way, as a file system
/// without unnamed files does); `MESA_SITE_CREATE=aside` writes a new folder aside by name
/// and renames it into place: all write the same files, byte for byte, with the same
/// permissions, and nothing else.
#[test]
fn pages_created_linked_or_by_name_are_the_same_site() {
    use std::os::unix::fs::PermissionsExt;
    let desk = sample_desk();
    let mut sites = Vec::new();
    // "aside": a build into a new folder writes it aside by name and renames it into place.
    for way in ["linked", "linked-proc", "named", "aside"] {
        let out = desk.path().join(format!("_out-{way}"));
        let o = Command::new(env!("CARGO_BIN_EXE_mesa"))
            .arg("--desk")
            .arg(desk.path())
            .args(["--quiet", "build", "--out"])
            .arg(&out)
            .env("MESA_NOW", NOW)
            .env("MESA_SITE_CREATE", way)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let mut pages: Vec<(PathBuf, Vec<u8>, u32)> = files(&out)
            .into_iter()
            .map(|p| {
                let mode = std::fs::metadata(&p).unwrap().permissions().mode();
                let bytes = std::fs::read(&p).unwrap();
                (p.strip_prefix(&out).unwrap().to_path_buf(), bytes, mode)
            })
            .collect();
        pages.sort();
        sites.push(pages);
    }
    assert!(sites[0].len() > 100, "{} files", sites[0].len());
    assert!(
        sites[0] == sites[1],
        "linked by descriptor and through /proc differ"
    );
    assert!(sites[0] == sites[2], "linked and by name differ");
    assert!(sites[0] == sites[3], "linked and written aside differ");
}
