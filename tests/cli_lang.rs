//! The command line in the desk's language, through the real binary: every command's help in
//! Spanish and English from the catalogs, usage errors with suggestions, labels instead of
//! internal ids, and quiet endings when the reader of standard output goes away.

mod common;

use clap::CommandFactory;
use common::git::{git, TestDesk};
use mesa::model::i18n::Catalog;
use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

const NOW: &str = "2026-11-26T10:00:00-05:00";

fn catalogs() -> (Catalog, Catalog) {
    (Catalog::load("es", None), Catalog::load("en", None))
}

/// Every subcommand path of the real command tree (`["hooks", "install"]`, ...).
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        for sc in cmd.get_subcommands() {
            let mut p = prefix.clone();
            p.push(sc.get_name().to_string());
            out.push(p.clone());
            walk(sc, p, out);
        }
    }
    let mut out = vec![Vec::new()];
    walk(&mesa::cli::Cli::command(), Vec::new(), &mut out);
    out
}

#[test]
fn every_help_text_exists_in_both_languages() {
    let (es, en) = catalogs();
    mesa::model::i18n::activate(Catalog::load("es", None));
    let keys = mesa::cli::localize::help_keys(&mesa::cli::Cli::command());
    assert!(keys.len() > 100, "{} help keys", keys.len());
    let missing: Vec<String> = keys
        .iter()
        .flat_map(|k| {
            [("es", &es), ("en", &en)]
                .into_iter()
                .filter(|(_, c)| !c.all().contains_key(k))
                .map(move |(lang, _)| format!("{lang}: {k}"))
        })
        .collect();
    assert!(missing.is_empty(), "help keys missing: {missing:#?}");
    // And the two catalogs have the same keys, whatever they are for.
    let only = |a: &Catalog, b: &Catalog| -> Vec<String> {
        let mut v: Vec<String> = a
            .all()
            .keys()
            .filter(|k| !b.all().contains_key(*k))
            .cloned()
            .collect();
        v.sort();
        v
    };
    assert_eq!(only(&es, &en), Vec::<String>::new(), "keys only in es.yaml");
    assert_eq!(only(&en, &es), Vec::<String>::new(), "keys only in en.yaml");
}

#[test]
fn every_command_help_in_spanish_and_in_english() {
    let (es, en) = catalogs();
    for path in command_paths() {
        let key = if path.is_empty() {
            "help.about.mesa".to_string()
        } else {
            format!("help.about.{}", path.join(" "))
        };
        for (lang, cat, usage, foreign) in [
            ("es", &es, "Uso:", ["Usage:", "Print help", "Options:"]),
            (
                "en",
                &en,
                "Usage:",
                ["Uso:", "Muestra esta ayuda", "Opciones:"],
            ),
        ] {
            let mut args: Vec<&str> = vec!["--lang", lang];
            args.extend(path.iter().map(String::as_str));
            args.push("--help");
            let out = common::mesa(&args);
            let text = common::stdout(&out);
            assert!(
                out.status.success(),
                "mesa {args:?}: {}",
                common::stderr(&out)
            );
            let about = cat.all().get(&key).cloned().unwrap_or_default();
            assert!(!about.is_empty(), "{key} in {lang}");
            assert!(
                text.contains(&about),
                "mesa {args:?} lacks «{about}»:\n{text}"
            );
            assert!(text.contains(usage), "mesa {args:?}:\n{text}");
            for word in foreign {
                assert!(
                    !text.contains(word),
                    "mesa {args:?} shows «{word}»:\n{text}"
                );
            }
        }
    }
}

#[test]
fn the_help_command_and_spanish_aliases() {
    let out = common::mesa(&["help", "verify"]);
    assert!(out.status.success());
    assert!(
        common::stdout(&out).contains("Uso: mesa verify"),
        "{}",
        common::stdout(&out)
    );
    let out = common::mesa(&["nuevo", "--help"]);
    assert!(common::stdout(&out).contains("Uso: mesa new"));
    let out = common::mesa(&["ver", "--help"]);
    assert!(common::stdout(&out).contains("Uso: mesa show"));
}

#[test]
fn mistyped_commands_and_values_get_suggestions() {
    let out = common::mesa(&["--lang", "es", "verfy"]);
    assert_eq!(out.status.code(), Some(2));
    let err = common::stderr(&out);
    assert!(
        err.contains("el comando `verfy` no existe; ¿quiso decir `verify`?"),
        "{err}"
    );
    assert!(err.contains("Uso: mesa"), "{err}");
    let out = common::mesa(&["--lang", "en", "verfy"]);
    assert!(
        common::stderr(&out).contains("there is no command `verfy`; did you mean `verify`?"),
        "{}",
        common::stderr(&out)
    );
    let out = common::mesa(&[
        "--lang",
        "es",
        "verify",
        "261102-C4K7P",
        "vpn",
        "--result",
        "hecha",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = common::stderr(&out);
    assert!(
        err.contains("`hecha` no es un valor válido para `--result <RESULT>`"),
        "{err}"
    );
    assert!(
        err.contains("valores posibles: `done`, `failed`, `na`"),
        "{err}"
    );
    let out = common::mesa(&["--lang", "es", "list", "--sortt", "due"]);
    let err = common::stderr(&out);
    assert!(err.contains("la opción `--sortt` no existe aquí"), "{err}");
    assert!(err.contains("¿quiso decir `--sort`?"), "{err}");
    let out = common::mesa(&["--lang", "es", "new"]);
    assert!(
        common::stderr(&out).contains("faltan argumentos obligatorios: --channel <CHANNEL>"),
        "{}",
        common::stderr(&out)
    );
}

/// Internal ids that have a label: none may reach a Spanish reader (commands to type, shown
/// after «siguiente:», keep their English flags and values).
const IDS: &[&str] = &[
    "in_progress",
    "awaiting_approval",
    "cab_review",
    "at_risk",
    "met_after_extension",
    "medium_high",
    "mutual_agreement",
    "auto_confirmed",
    "not_applicable",
    "true",
    "false",
];

fn assert_no_ids(what: &str, text: &str) {
    for line in text
        .lines()
        .filter(|l| !l.trim_start().starts_with("siguiente:"))
    {
        for word in line.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            assert!(
                !IDS.contains(&word),
                "{what} prints the id `{word}`:\n{line}"
            );
        }
    }
}

#[test]
fn spanish_output_shows_labels_not_ids() {
    let desk = common::temp_desk(true);
    let d = desk.path().to_str().unwrap();
    let list = common::mesa(&["--desk", d, "--now", NOW, "list"]);
    assert!(list.status.success(), "{}", common::stderr(&list));
    let text = common::stdout(&list);
    assert!(text.starts_with("Caso"), "list has a header:\n{text}");
    assert!(text.lines().next().unwrap_or("").contains("Vence"));
    assert_no_ids("mesa list", &text);
    let ids: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect();
    assert!(ids.len() >= 30, "{} tickets listed", ids.len());
    for id in &ids {
        for cmd in ["show", "sla"] {
            let out = common::mesa(&["--desk", d, "--now", NOW, cmd, id]);
            assert!(out.status.success(), "{cmd} {id}: {}", common::stderr(&out));
            let text = common::stdout(&out);
            assert_no_ids(&format!("mesa {cmd} {id}"), &text);
            assert!(!text.contains(" min min"), "{text}");
        }
    }
    let sweep = common::mesa(&["--desk", d, "--now", NOW, "sweep", "--no-commit"]);
    assert_no_ids("mesa sweep", &common::stdout(&sweep));
}

#[test]
fn list_sorts_and_filters_mine() {
    let desk = common::temp_desk(true);
    let d = desk.path().to_str().unwrap();
    let table = |args: &[&str]| -> (String, Vec<String>) {
        let mut all = vec!["--desk", d, "--now", NOW, "--agent", "lmartinez", "list"];
        all.extend_from_slice(args);
        let out = common::mesa(&all);
        assert!(out.status.success(), "{}", common::stderr(&out));
        let text = common::stdout(&out);
        let mut lines = text.lines().map(String::from);
        let header = lines.next().unwrap_or_default();
        (header, lines.collect())
    };
    let rows = |args: &[&str]| table(args).1;
    let mine = rows(&["--mine", "--open"]);
    assert!(!mine.is_empty());
    for r in &mine {
        assert!(r.contains("lmartinez"), "not mine: {r}");
    }
    // By priority: the desk's order (critica, alta, media, baja, planeado), no priority last.
    let order = ["Crítica", "Alta", "Media", "Baja", "Planeado"];
    let ranks: Vec<usize> = rows(&["--sort", "priority"])
        .iter()
        .map(|r| {
            order
                .iter()
                .position(|p| r.contains(p))
                .unwrap_or(order.len())
        })
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    // By due time: the tickets with a due time first.
    let (header, due) = table(&["--sort", "due", "--open"]);
    let column = |name: &str| header.chars().take(header.find(name).unwrap()).count();
    let (from, to) = (column("Vence"), column("Cliente"));
    let cells: Vec<String> = due
        .iter()
        .map(|r| {
            r.chars()
                .skip(from)
                .take(to - from)
                .collect::<String>()
                .trim()
                .to_string()
        })
        .collect();
    let first_dash = cells.iter().position(|c| c == "-").unwrap_or(cells.len());
    assert!(first_dash > 0, "{cells:#?}");
    assert!(cells[first_dash..].iter().all(|c| c == "-"), "{cells:#?}");
}

/// Runs mesa with its standard output closed before it writes anything: the `| head` case.
fn closed_stdout(root: &std::path::Path, args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mesa"))
        .arg("--desk")
        .arg(root)
        .args(["--now", NOW])
        .args(args)
        .env("MESA_AGENT", "lmartinez")
        .env_remove("MESA_LANG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mesa starts");
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("stderr");
    let status = child.wait().expect("mesa ends");
    std::process::Output {
        status,
        stdout: Vec::new(),
        stderr: err.into_bytes(),
    }
}

#[test]
fn a_closed_stdout_ends_quietly_and_never_half_way() {
    let td = TestDesk::new();
    let out = td.run(
        NOW,
        &[
            "new",
            "--channel",
            "phone",
            "--customer",
            "ips-andina",
            "--requester",
            "Carolina Pérez <cperez@ipsandina.example.co>",
            "--title",
            "No carga la página",
            "--description",
            "No abre.",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(|w| w.trim_end_matches(':'))
        .find(|w| w.len() == 12 && w.as_bytes()[6] == b'-')
        .map(String::from)
        .expect("case number printed");
    let commits = |root: &std::path::Path| git(root, &["rev-list", "--count", "HEAD"]);
    let before = commits(&td.root);
    for args in [
        vec!["show", id.as_str()],
        vec!["list"],
        vec!["sla", id.as_str()],
        vec!["calendar", "--year", "2026"],
        vec!["report"],
        vec!["check"],
        vec!["schema", "ticket"],
        vec!["--help"],
        vec!["comment", id.as_str(), "--text", "Llamé al cliente."],
    ] {
        let out = closed_stdout(&td.root, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "mesa {args:?} panicked: {err}");
        assert!(
            out.status.success() || out.status.signal() == Some(libc_sigpipe()),
            "mesa {args:?}: {:?} {err}",
            out.status
        );
    }
    // The comment was committed even though nobody read what mesa printed.
    let after = commits(&td.root);
    assert_eq!(
        after.trim().parse::<u32>().unwrap(),
        before.trim().parse::<u32>().unwrap() + 1
    );
    assert!(git(&td.root, &["log", "-1", "--format=%s"]).starts_with(&id));
    assert!(common::git::is_clean(&td.root));
}

fn libc_sigpipe() -> i32 {
    13
}

#[test]
fn shell_completions_are_valid_scripts() {
    let out = common::mesa(&["completions", "bash"]);
    assert!(out.status.success());
    let script = common::stdout(&out);
    assert!(script.contains("complete -F _mesa"), "{script}");
    assert!(script.contains("verify"));
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &script).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    for shell in ["zsh", "fish", "powershell"] {
        let out = common::mesa(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        assert!(common::stdout(&out).contains("escalate"), "{shell}");
    }
}

#[test]
fn list_as_csv_for_a_spanish_spreadsheet() {
    let desk = common::temp_desk(true);
    let d = desk.path().to_str().unwrap();
    let text = common::mesa(&["--desk", d, "--now", NOW, "list", "--open"]);
    let out = common::mesa(&[
        "--desk", d, "--now", NOW, "--format", "csv", "list", "--open",
    ]);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let csv = common::stdout(&out);
    let body = csv.strip_prefix('\u{feff}').expect("UTF-8 byte-order mark");
    assert!(body.ends_with("\r\n"));
    let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(
        lines[0],
        "Caso;Estado;Nivel;Prioridad;Asignado;Vence;Cliente;Título"
    );
    // The same tickets as the table, one row each, eight cells, labels not ids.
    assert_eq!(lines.len(), common::stdout(&text).lines().count());
    for row in &lines[1..] {
        let cells: Vec<&str> = row.split(';').collect();
        assert_eq!(cells.len(), 8, "{row}");
        assert!(!cells[1].contains('_'), "status label, not id: {row}");
        let due = cells[5];
        assert!(
            due.is_empty() || chrono::NaiveDateTime::parse_from_str(due, "%Y-%m-%d %H:%M").is_ok(),
            "due as a spreadsheet date: {row}"
        );
    }
    let out = common::mesa(&["--desk", d, "--format", "csv", "show", "261102-C4K7P"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(common::stderr(&out).contains("mesa report y mesa list"));
}
