//! The built site and the CLI's downloads as independent tools read them: every page of the
//! internal and public builds through the Nu HTML Checker (`vnu`), and every CSV mesa writes
//! through a CSV reader set up as a Spanish-locale spreadsheet (`;`, decimal comma, UTF-8 with
//! BOM).
//!
//! The checker comes from the npm registry (`vnu-jar`, run with Debian's Java runtime), which
//! `.ci/run` installs into `.ci/tools/`; without it the validity test says that it was skipped,
//! and with `MESA_REQUIRE_VNU=1` (CI) it fails instead.

mod common;

use common::{mesa, temp_desk, tool_or_skip};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const NOW: &str = "2026-11-25T10:00:00-05:00";

/// `mesa build` of `desk` into `out`, with `extra` options.
fn build(desk: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "--desk",
        desk.to_str().unwrap(),
        "--now",
        NOW,
        "build",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = mesa(&args);
    assert!(
        o.status.success(),
        "mesa build {extra:?} failed: {}",
        common::stderr(&o)
    );
}

/// Customer email in the desk (`mesa inbox import`), so the pages that show it are checked too:
/// a reply with an attachment (a name with markup characters) on an open sample case, and a
/// new case from a sender no customer has (awaiting triage).
fn import_email(desk: &Path) {
    common::git::init_committed(desk);
    let o = common::mesa_at(desk, NOW, &["--format", "json", "list"]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).expect("list JSON");
    let open = list
        .as_array()
        .expect("tickets")
        .iter()
        .find(|t| t["status"] != "closed")
        .expect("an open sample case")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mail = tempfile::tempdir().unwrap();
    let maildir = mail.path().join("Maildir");
    let reply = format!(
        "From: Marcela Rincon <sistemas@santahelena.example.co>\n\
         To: soporte@sgm.com.co\nSubject: Re: [Caso {open}] Su caso\n\
         Date: Tue, 24 Nov 2026 09:00:00 -0500\nMessage-ID: <vnu1@santahelena.example.co>\n\
         MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"B\"\n\n\
         --B\nContent-Type: text/plain; charset=UTF-8\n\n\
         Sigue fallando <b>desde ayer</b> & no carga.\n--B\n\
         Content-Type: image/png\nContent-Disposition: attachment; filename=\"captura <1>.png\"\n\
         Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--B--\n"
    );
    common::mail_corpus::deliver(
        &maildir,
        "1.M1.mx",
        common::mail_corpus::crlf(&reply).as_bytes(),
    );
    let new = "From: Alguien <alguien@desconocido.example>\nTo: soporte@sgm.com.co\n\
               Subject: Consulta\nDate: Tue, 24 Nov 2026 09:30:00 -0500\n\
               Message-ID: <vnu2@desconocido.example>\nMIME-Version: 1.0\n\
               Content-Type: text/plain; charset=UTF-8\n\nNecesitamos ayuda.\n";
    common::mail_corpus::deliver(
        &maildir,
        "2.M2.mx",
        common::mail_corpus::crlf(new).as_bytes(),
    );
    let o = common::mesa_at(
        desk,
        NOW,
        &[
            "--format",
            "json",
            "inbox",
            "import",
            maildir.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", common::stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("inbox JSON");
    let actions: Vec<&str> = v["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["reply", "new"], "{v}");
}

fn java_or_skip() -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("java"))
            .find(|j| j.is_file())
    });
    if found.is_none() {
        let message = "java not found: install Debian's default-jre-headless";
        if std::env::var("MESA_REQUIRE_VNU").is_ok_and(|v| v == "1") {
            panic!("{message}; MESA_REQUIRE_VNU=1 requires the HTML check to run");
        }
        eprintln!("\nSKIPPED `every_page_is_valid_html`: {message}\n");
    }
    found
}

#[test]
fn every_page_is_valid_html() {
    let Some(vnu) = tool_or_skip(
        "every_page_is_valid_html",
        "MESA_VNU_JAR",
        "vnu-jar/build/dist/vnu.jar",
        "MESA_REQUIRE_VNU",
    ) else {
        return;
    };
    let Some(java) = java_or_skip() else { return };
    let desk = temp_desk(true);
    import_email(desk.path());
    let out = tempfile::tempdir().unwrap();
    let (internal, public, english) = (
        out.path().join("internal"),
        out.path().join("public"),
        out.path().join("english"),
    );
    build(desk.path(), &internal, &[]);
    build(desk.path(), &public, &["--public"]);
    let o = mesa(&[
        "--desk",
        desk.path().to_str().unwrap(),
        "--now",
        NOW,
        "--lang",
        "en",
        "build",
        "--out",
        english.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let pages = walkdir::WalkDir::new(out.path())
        .into_iter()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "html"))
        .count();
    assert!(
        pages > 200,
        "three builds of the sample desk: {pages} pages"
    );

    let o = Command::new(java)
        .arg("-jar")
        .arg(&vnu)
        .args(["--format", "json", "--skip-non-html", "--also-check-svg"])
        .arg(&internal)
        .arg(&public)
        .arg(&english)
        .output()
        .expect("run the Nu HTML Checker");
    // vnu writes its JSON report to stderr.
    let report: serde_json::Value = serde_json::from_slice(&o.stderr).unwrap_or_else(|e| {
        panic!(
            "vnu's report is not JSON ({e}): {}",
            String::from_utf8_lossy(&o.stderr)
        )
    });
    let messages = report["messages"].as_array().expect("vnu messages");
    let errors: Vec<String> = messages
        .iter()
        .filter(|m| m["type"] == "error" || m["subType"] == "fatal")
        .map(|m| {
            format!(
                "{}:{}: {}",
                m["url"]
                    .as_str()
                    .unwrap_or("")
                    .trim_start_matches("file:")
                    .trim_start_matches(out.path().to_str().unwrap()),
                m["lastLine"],
                m["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert!(
        errors.is_empty(),
        "{} HTML errors:\n{}",
        errors.len(),
        errors.join("\n")
    );
    // The checker did look at the pages (a run that checked nothing reports nothing either).
    assert!(o.status.success(), "vnu exit status {:?}", o.status);
}

/// A CSV file read as a Spanish-locale spreadsheet reads it: BOM, `;`, CRLF.
struct Sheet {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read_sheet(what: &str, bytes: &[u8]) -> Sheet {
    assert!(
        bytes.starts_with("\u{feff}".as_bytes()),
        "{what}: starts with a UTF-8 byte-order mark"
    );
    let text = std::str::from_utf8(&bytes[3..]).unwrap_or_else(|_| panic!("{what}: UTF-8"));
    for (i, line) in text.split('\n').enumerate() {
        if i + 1 < text.split('\n').count() {
            assert!(
                line.ends_with('\r'),
                "{what}: line {} ends with CRLF",
                i + 1
            );
        } else {
            assert!(line.is_empty(), "{what}: ends with a line end");
        }
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap_or_else(|e| panic!("{what}: header: {e}"))
        .iter()
        .map(String::from)
        .collect();
    assert!(
        header.len() >= 2,
        "{what}: `;`-separated columns: {header:?}"
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| {
            r.unwrap_or_else(|e| panic!("{what}: {e}"))
                .iter()
                .map(String::from)
                .collect()
        })
        .collect();
    Sheet { header, rows }
}

/// What a spreadsheet in a Spanish locale makes of a cell.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Empty,
    Int(i64),
    Dec(f64),
    DateTime,
    Text,
}

fn kind(cell: &str) -> Kind {
    if cell.is_empty() {
        return Kind::Empty;
    }
    if let Ok(n) = cell.parse::<i64>() {
        return Kind::Int(n);
    }
    // Decimal comma, no thousands separator.
    if cell.contains(',') && !cell.contains('.') {
        if let Ok(x) = cell.replace(',', ".").parse::<f64>() {
            return Kind::Dec(x);
        }
    }
    if chrono::NaiveDateTime::parse_from_str(cell, "%Y-%m-%d %H:%M").is_ok()
        || chrono::NaiveDate::parse_from_str(&format!("{cell}-01"), "%Y-%m-%d").is_ok()
    {
        return Kind::DateTime;
    }
    Kind::Text
}

/// Ids mesa uses inside that people never see in a download.
const IDS: &[&str] = &[
    "lt_1d",
    "d1_3",
    "gt_30d",
    "response",
    "resolution",
    "at_risk",
    "breached",
    "in_progress",
    "critica",
    "alta",
    "clinica-santa-helena",
    "ips-andina",
    "true",
    "false",
];

/// Every column has one kind (numbers stay numbers, empty cells allowed), no cell is "-" or an
/// internal id, and no instant is written as RFC 3339. Returns the kind of each column.
fn check_columns(what: &str, sheet: &Sheet) -> Vec<Kind> {
    let mut kinds = vec![Kind::Empty; sheet.header.len()];
    for h in &sheet.header {
        assert!(!IDS.contains(&h.as_str()), "{what}: header {h:?} is an id");
    }
    for row in &sheet.rows {
        assert_eq!(row.len(), sheet.header.len(), "{what}: {row:?}");
        for (c, cell) in row.iter().enumerate() {
            assert_ne!(cell, "-", "{what}: an undefined value is an empty cell");
            assert!(
                !IDS.contains(&cell.as_str()),
                "{what}: column {:?} holds the id {cell:?}",
                sheet.header[c]
            );
            assert!(
                !(cell.len() > 19
                    && cell.as_bytes()[10] == b'T'
                    && cell.get(..10).is_some_and(|d| kind(d) == Kind::DateTime)),
                "{what}: {cell:?} is RFC 3339, which spreadsheets read as text"
            );
            let k = kind(cell);
            let merged = match (kinds[c], k) {
                (Kind::Empty, k) | (k, Kind::Empty) => k,
                (Kind::Int(_), Kind::Dec(x)) | (Kind::Dec(x), Kind::Int(_)) => Kind::Dec(x),
                (a, b) if std::mem::discriminant(&a) == std::mem::discriminant(&b) => b,
                (Kind::Text, _) | (_, Kind::Text) if c == 0 || kinds[c] == Kind::Text => Kind::Text,
                (a, b) => panic!(
                    "{what}: column {:?} mixes {a:?} and {b:?} ({row:?})",
                    sheet.header[c]
                ),
            };
            kinds[c] = merged;
        }
    }
    kinds
}

fn int(cell: &str) -> i64 {
    match kind(cell) {
        Kind::Int(n) => n,
        other => panic!("{cell:?} is {other:?}, not a whole number"),
    }
}

#[test]
fn every_csv_reads_in_a_spanish_spreadsheet() {
    let desk = temp_desk(true);
    let d = desk.path().to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    build(desk.path(), &site, &[]);
    let json = mesa(&["--desk", d, "--now", NOW, "--format", "json", "report"]);
    assert!(json.status.success(), "{}", common::stderr(&json));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let total = &report["total"];
    assert!(
        total["tickets"].as_u64().unwrap() > 5,
        "the sample desk has tickets"
    );

    // The site's downloads.
    let mut sheets = BTreeMap::new();
    for e in std::fs::read_dir(site.join("reports")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "csv") {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let sheet = read_sheet(&name, &std::fs::read(&p).unwrap());
            check_columns(&name, &sheet);
            sheets.insert(name, sheet);
        }
    }
    assert_eq!(
        sheets.keys().collect::<Vec<_>>(),
        [
            "at-risk.csv",
            "backlog-by-age.csv",
            "breached.csv",
            "compliance-by-month.csv",
            "escalations-by-level.csv",
            "load-agents.csv",
            "load-customers.csv",
            "trend-month.csv",
            "trend-week.csv"
        ],
        "every CSV of the reports page"
    );

    // Compliance by month: the months add up to the total line, which is the report's total.
    let c = &sheets["compliance-by-month.csv"];
    let kinds = check_columns("compliance-by-month.csv", c);
    let (last, months) = c.rows.split_last().unwrap();
    assert_eq!(last[0], "Total");
    for (i, h) in c.header.iter().enumerate().skip(1) {
        if let Kind::Int(_) = kinds[i] {
            let sum: i64 = months.iter().map(|r| int(&r[i])).sum();
            assert_eq!(
                sum,
                int(&last[i]),
                "column {h:?}: months add up to the total"
            );
        }
    }
    let col = |name: &str| {
        c.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("column {name:?} in {:?}", c.header))
    };
    assert_eq!(
        int(&last[col("tickets")]) as u64,
        total["tickets"].as_u64().unwrap()
    );
    let open = total["open"].as_u64().unwrap() as i64;
    assert_eq!(int(&last[col("abiertos")]), open);
    // A rate is a decimal-comma number (or empty where nothing divides), like JSON's.
    let rate_col = col("% respuesta cumplida");
    assert!(
        matches!(kinds[rate_col], Kind::Dec(_)),
        "{:?}",
        kinds[rate_col]
    );
    match (kind(&last[rate_col]), total["response_rate"].as_f64()) {
        (Kind::Dec(x), Some(y)) => assert!((x - y).abs() < 0.01, "{x} vs {y}"),
        (Kind::Int(x), Some(y)) => assert!((x as f64 - y).abs() < 0.01),
        (Kind::Empty, None) => {}
        (a, b) => panic!("response rate {a:?} vs JSON {b:?}"),
    }

    // Backlog by age: labels, and the buckets add up to the open tickets.
    let b = &sheets["backlog-by-age.csv"];
    assert_eq!(b.rows.len(), 5);
    assert!(b.rows[0][0].contains("día"), "{:?}", b.rows[0]);
    assert_eq!(b.rows.iter().map(|r| int(&r[1])).sum::<i64>(), open);

    // Escalations by level: levels 2 to 5 with their roles, adding up to the report's count.
    let e = &sheets["escalations-by-level.csv"];
    assert_eq!(e.rows.len(), 4);
    assert!(e.rows[0][0].starts_with("2 · "), "{:?}", e.rows[0]);
    let escalations: i64 = total["escalations_to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_i64().unwrap())
        .sum();
    assert_eq!(e.rows.iter().map(|r| int(&r[1])).sum::<i64>(), escalations);

    // At risk and breached: one line per clock of the report's watch list, with the clock's
    // name, the agent's name, a date Excel reads and hours as decimals.
    for (file, state) in [("at-risk.csv", "at_risk"), ("breached.csv", "breached")] {
        let s = &sheets[file];
        let watch: Vec<&serde_json::Value> = report["watch"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w["state"] == state)
            .collect();
        assert_eq!(s.rows.len(), watch.len(), "{file}");
        let kinds = check_columns(file, s);
        for (row, w) in s.rows.iter().zip(&watch) {
            assert_eq!(row[0], w["id"].as_str().unwrap());
            assert!(
                ["respuesta", "resolución"].contains(&row[2].as_str()),
                "{row:?}"
            );
            if w["due"].is_string() {
                assert_eq!(kind(&row[5]), Kind::DateTime, "{row:?}");
            }
        }
        if !s.rows.is_empty() {
            assert!(
                matches!(kinds[6], Kind::Dec(_)),
                "{file}: hours left {:?}",
                kinds[6]
            );
        }
    }
    assert!(
        !sheets["breached.csv"].rows.is_empty(),
        "the sample desk has breached clocks"
    );

    // The CLI's CSV, by each breakdown: the same convention, names instead of ids, and the
    // groups add up to the total line.
    for by in [
        "priority", "customer", "agent", "level", "month", "incident", "request",
    ] {
        let o = mesa(&[
            "--desk", d, "--now", NOW, "report", "--by", by, "--format", "csv",
        ]);
        assert!(o.status.success(), "{}", common::stderr(&o));
        let what = format!("mesa report --by {by} --format csv");
        let s = read_sheet(&what, &o.stdout);
        let kinds = check_columns(&what, &s);
        let (last, groups) = s.rows.split_last().unwrap();
        assert_eq!(last[0], "Total", "{what}");
        let tickets = s.header.iter().position(|h| h == "tickets").unwrap();
        assert_eq!(
            groups.iter().map(|r| int(&r[tickets])).sum::<i64>(),
            int(&last[tickets]),
            "{what}: groups add up"
        );
        assert_eq!(
            int(&last[tickets]) as u64,
            total["tickets"].as_u64().unwrap()
        );
        for (i, k) in kinds.iter().enumerate().skip(1) {
            assert!(
                !matches!(k, Kind::Text | Kind::DateTime),
                "{what}: column {:?} is {k:?}",
                s.header[i]
            );
        }
        if by == "priority" {
            let names: Vec<&str> = groups.iter().map(|r| r[0].as_str()).collect();
            assert!(
                names.contains(&"Crítica"),
                "{what}: priority names {names:?}"
            );
        }
        if by == "customer" {
            assert!(
                groups
                    .iter()
                    .any(|r| r[0] == "Clínica Santa Helena del Llano"),
                "{what}: customer names"
            );
        }
    }
}

/// The pages as staff read them: the findings of issue 13, each checked on the built site.
#[test]
fn pages_read_as_staff_expect() {
    let desk = temp_desk(true);
    let out = tempfile::tempdir().unwrap();
    let site = out.path().join("site");
    build(desk.path(), &site, &[]);
    let read = |rel: &str| std::fs::read_to_string(site.join(rel)).unwrap();

    // The home page's title is the desk's name, once; one search box there and on every page.
    let home = read("index.html");
    assert!(
        home.contains("<title>SGM Mesa de Servicio</title>"),
        "home title: {:?}",
        home.split("<title>")
            .nth(1)
            .map(|t| &t[..t.find('<').unwrap_or(0)])
    );
    for e in walkdir::WalkDir::new(&site)
        .into_iter()
        .filter_map(|e| e.ok())
    {
        if e.path().extension().is_some_and(|x| x == "html") {
            let page = std::fs::read_to_string(e.path()).unwrap();
            assert!(
                page.matches("role=\"search\"").count() <= 1,
                "{}: one search box",
                e.path().display()
            );
        }
    }
    assert_eq!(
        home.matches("type=\"search\"").count(),
        1,
        "home: one search box"
    );

    // Plurals.
    let playbook = read("playbook/index.html");
    assert!(!playbook.contains(">1 verificaciones<"), "1 verificación");
    assert!(
        playbook.contains(">1 verificación<"),
        "the sample has single-check incidents"
    );

    // The printed playbook has places for the case number and the agent, at the top.
    for rel in [
        "playbook/acceso.html",
        "playbook/dispositivos/no-captura-foto.html",
    ] {
        let page = read(rel);
        let fields = page.find("print-fields").expect("print fields");
        assert!(
            fields < page.find("class=\"checklist").unwrap(),
            "{rel}: before the checklist"
        );
        assert!(page[fields..].contains("Caso n.º") && page[fields..].contains("Agente"));
    }

    // The tickets index: a due column, sortable, short dates that fit a cell.
    let index = read("tickets/index.html");
    assert!(
        index.contains("data-sort=\"num\">Vence</button>"),
        "due column"
    );
    let rows: Vec<&str> = index
        .split("<tr data-status=")
        .skip(1)
        .map(|r| &r[..r.find("</tr>").unwrap()])
        .collect();
    assert!(rows.len() >= 5);
    for row in &rows {
        assert_eq!(row.matches("class=\"when\"").count(), 2, "{row}");
        assert!(!row.contains(" de 2026"), "long date in a cell: {row}");
    }
    assert!(
        rows.iter().any(|r| {
            let due = r.split("class=\"when\" data-value=\"").nth(1).unwrap();
            !due.starts_with("99999999999") && due.contains("2026 ")
        }),
        "some open ticket has a due instant"
    );

    // A ticket page: status shown once, labelled; the next step names the real case number.
    let ticket = walkdir::WalkDir::new(site.join("tickets/2026"))
        .into_iter()
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().starts_with("261102-C4K7P"))
        .expect("the sample ticket's page");
    let page = std::fs::read_to_string(ticket.path()).unwrap();
    let article = &page[page.find("<article class=\"ticket\">").unwrap()..];
    let header = &article[..article.find("</header>").unwrap()];
    assert_eq!(header.matches("En análisis").count(), 1, "{header}");
    assert!(
        header.contains("<dt>Estado</dt>") && header.contains("<dt>ANS</dt>"),
        "{header}"
    );
    let next = &page[page.find("class=\"card next\"").unwrap()..];
    let next = &next[..next.find("</section>").unwrap()];
    assert!(next.contains("mesa resolve 261102-C4K7P"), "{next}");
    assert!(!next.contains(" ID "), "{next}");

    // Charts: whole-number ticks on the count charts, a value on each bar.
    let reports = read("reports/index.html");
    let charts: Vec<&str> = reports.split("<svg class=\"chart\"").skip(1).collect();
    assert_eq!(charts.len(), 3);
    for chart in &charts {
        let ticks: Vec<&str> = chart
            .split("text-anchor=\"end\">")
            .skip(1)
            .map(|t| &t[..t.find('<').unwrap()])
            .collect();
        assert!(ticks.len() >= 2, "{chart}");
        for t in &ticks {
            assert!(t.parse::<u32>().is_ok(), "tick {t:?} is a whole number");
        }
        let steps: Vec<u32> = ticks.iter().map(|t| t.parse().unwrap()).collect();
        assert!(
            steps.windows(2).all(|w| w[1] - w[0] == steps[1] - steps[0]),
            "{steps:?}"
        );
        assert_eq!(
            chart.matches("<rect class=\"b").count() - chart.matches("width=\"12\"").count(),
            chart.matches("class=\"value\"").count(),
            "a value label per bar"
        );
    }

    // Search snippets start with what the article says, not with its tags.
    let pages = read("search/pages.js");
    let row = pages
        .split("[\"kb/articles/roles.html\",")
        .nth(1)
        .expect("the article in the search index");
    let snippet = row.split("\",\"").nth(2).unwrap();
    assert!(
        snippet.starts_with("Quién participa en la atención de un caso"),
        "{snippet}"
    );
}
