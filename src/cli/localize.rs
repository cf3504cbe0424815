//! clap speaks English; mesa speaks the desk's language. Every command's about text and every
//! option's help come from the message catalogs: `help.about.<path>` and
//! `help.args.<path>.<id>` (else the shared `help.arg.<id>`), the path being the subcommand
//! names joined by spaces (`mesa` for the top, `hooks install`, ...). The help layout's
//! headings too, and usage errors are rewritten from clap's error context into the catalog's
//! sentences ("¿quiso decir `verify`?"). The English doc comments on the argument structs stay
//! as the fallback a missing key would show (a test makes sure none is missing).

use crate::model::i18n::{self, Catalog};
use crate::model::load;
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Arg, ArgAction, Command};
use std::ffi::OsString;
use std::path::PathBuf;

/// Activates the language before clap parses anything, so help and usage errors come out in
/// it: `--lang` / `MESA_LANG`, else the language of the desk (`--desk`, `MESA_DESK`, or the
/// folder above with desk.yaml), else Spanish.
pub fn activate_early(args: &[OsString]) {
    let value_of = |flag: &str| -> Option<String> {
        let mut it = args.iter().skip(1);
        while let Some(a) = it.next() {
            let a = a.to_string_lossy();
            if a == "--" {
                break;
            }
            if a == flag {
                return it.next().map(|v| v.to_string_lossy().into_owned());
            }
            if let Some(v) = a.strip_prefix(&format!("{flag}=")) {
                return Some(v.to_string());
            }
        }
        None
    };
    let root: Option<PathBuf> = value_of("--desk")
        .or_else(|| std::env::var("MESA_DESK").ok())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::current_dir()
                .ok()
                .and_then(|d| load::find_desk(&d))
        });
    let lang = value_of("--lang")
        .or_else(|| std::env::var("MESA_LANG").ok().filter(|l| !l.is_empty()))
        .or_else(|| root.as_deref().and_then(load::desk_language))
        .unwrap_or_else(|| "es".into());
    i18n::activate(Catalog::load(&lang, root.as_deref()));
}

fn t(key: &str) -> Option<String> {
    let cat = i18n::active();
    cat.all().get(key).cloned()
}

/// Every help key the command tree needs, for the catalog test.
pub fn help_keys(cmd: &Command) -> Vec<String> {
    let mut out = Vec::new();
    collect_keys(cmd, "mesa", &mut out);
    out
}

fn collect_keys(cmd: &Command, path: &str, out: &mut Vec<String>) {
    out.push(format!("help.about.{path}"));
    for a in cmd.get_arguments() {
        if is_builtin(a) {
            continue;
        }
        out.push(arg_key(path, a.get_id().as_str()));
    }
    for sc in cmd.get_subcommands() {
        collect_keys(sc, &child(path, sc.get_name()), out);
    }
}

fn child(path: &str, name: &str) -> String {
    if path == "mesa" {
        name.to_string()
    } else {
        format!("{path} {name}")
    }
}

/// The key of an argument's help: its own, else the shared one for that argument name.
fn arg_key(path: &str, id: &str) -> String {
    let own = format!("help.args.{path}.{id}");
    if i18n::active().all().contains_key(&own) {
        own
    } else {
        format!("help.arg.{id}")
    }
}

fn is_builtin(a: &Arg) -> bool {
    matches!(a.get_id().as_str(), "help" | "version")
}

/// The command tree with every text in the active language.
pub fn localize(cmd: Command) -> Command {
    let cmd = cmd
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help(t("help.flag.version").unwrap_or_else(|| "Print version".into())),
        )
        .subcommand(
            Command::new("help")
                .about(t("help.about.help").unwrap_or_else(|| "Print help".into()))
                .arg(
                    Arg::new("command")
                        .num_args(0..)
                        .help(t("help.args.help.command").unwrap_or_default()),
                ),
        );
    localize_in(cmd, "mesa")
}

fn localize_in(mut cmd: Command, path: &str) -> Command {
    if let Some(about) = t(&format!("help.about.{path}")) {
        cmd = cmd.about(about.clone()).long_about(None::<&str>);
    }
    let usage = t("help.usage_heading").unwrap_or_else(|| "Usage:".into());
    cmd = cmd
        .help_template(format!(
            "{{before-help}}{{about-with-newline}}\n{usage} {{usage}}\n\n{{all-args}}{{after-help}}"
        ))
        .subcommand_help_heading(t("help.heading.commands").unwrap_or_else(|| "Commands".into()))
        .subcommand_value_name(t("help.command_value").unwrap_or_else(|| "COMMAND".into()))
        .disable_help_flag(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .global(false)
                .help(t("help.flag.help").unwrap_or_else(|| "Print help".into())),
        );
    let options = t("help.heading.options").unwrap_or_else(|| "Options".into());
    let arguments = t("help.heading.arguments").unwrap_or_else(|| "Arguments".into());
    let ids: Vec<String> = cmd
        .get_arguments()
        .map(|a| a.get_id().to_string())
        .collect();
    for id in ids {
        let help = t(&arg_key(path, &id));
        cmd = cmd.mut_arg(&id, |a| {
            let heading = if a.is_positional() {
                arguments.clone()
            } else {
                options.clone()
            };
            let a = a.help_heading(heading);
            match &help {
                Some(h) => a.help(h.clone()).long_help(None::<&str>),
                None => a,
            }
        });
    }
    let subs: Vec<String> = cmd
        .get_subcommands()
        .map(|s| s.get_name().to_string())
        .collect();
    for name in subs {
        let sub_path = child(path, &name);
        cmd = cmd.mut_subcommand(&name, |sc| localize_in(sc, &sub_path));
    }
    cmd
}

/// clap's fixed English words inside rendered help and usage, in the active language.
pub fn translate_rendered(text: &str) -> String {
    let mut out = text.to_string();
    for (en, key) in [
        ("[OPTIONS]", "help.options_value"),
        ("[default: ", "help.default_prefix"),
        ("[possible values: ", "help.possible_prefix"),
        ("[env: ", "help.env_prefix"),
        ("[aliases: ", "help.aliases_prefix"),
        ("[alias: ", "help.aliases_prefix"),
        ("Usage:", "help.usage_heading"),
    ] {
        if let Some(local) = t(key) {
            out = out.replace(en, &local);
        }
    }
    out
}

fn strings(v: Option<&ContextValue>) -> Vec<String> {
    match v {
        Some(ContextValue::String(s)) => vec![s.clone()],
        Some(ContextValue::Strings(s)) => s.clone(),
        Some(ContextValue::StyledStr(s)) => vec![s.to_string()],
        Some(ContextValue::StyledStrs(s)) => s.iter().map(|x| x.to_string()).collect(),
        Some(ContextValue::Number(n)) => vec![n.to_string()],
        _ => Vec::new(),
    }
}

fn quoted(list: &[String]) -> String {
    list.iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A usage error in the active language: what is wrong, a suggestion when clap has one, the
/// usage line and where to read more.
pub fn render_error(e: &clap::Error, cmd: &Command) -> String {
    let get = |k: ContextKind| strings(e.get(k));
    let first = |k: ContextKind| get(k).into_iter().next().unwrap_or_default();
    let tr = |key: &str, args: &[(&str, &dyn std::fmt::Display)]| i18n::active().format(key, args);
    let arg = first(ContextKind::InvalidArg);
    let value = first(ContextKind::InvalidValue);
    let mut message = match e.kind() {
        ErrorKind::InvalidSubcommand => tr(
            "clap.invalid_subcommand",
            &[("value", &first(ContextKind::InvalidSubcommand))],
        ),
        ErrorKind::UnknownArgument => tr("clap.unknown_argument", &[("arg", &arg)]),
        ErrorKind::InvalidValue if value.is_empty() => tr("clap.value_missing", &[("arg", &arg)]),
        ErrorKind::InvalidValue => {
            let valid = get(ContextKind::ValidValue);
            let mut m = tr("clap.invalid_value", &[("value", &value), ("arg", &arg)]);
            if !valid.is_empty() {
                m.push_str("; ");
                m.push_str(&tr("clap.valid_values", &[("list", &quoted(&valid))]));
            }
            m
        }
        ErrorKind::ValueValidation => {
            tr("clap.value_validation", &[("value", &value), ("arg", &arg)])
        }
        ErrorKind::MissingRequiredArgument => tr(
            "clap.missing_required",
            &[("list", &get(ContextKind::InvalidArg).join(", "))],
        ),
        ErrorKind::MissingSubcommand | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            tr("clap.missing_subcommand", &[])
        }
        ErrorKind::ArgumentConflict => tr(
            "clap.conflict",
            &[("arg", &arg), ("other", &first(ContextKind::PriorArg))],
        ),
        ErrorKind::TooManyValues => tr("clap.too_many_values", &[("value", &value), ("arg", &arg)]),
        ErrorKind::InvalidUtf8 => tr("clap.invalid_utf8", &[]),
        _ => tr("clap.other", &[]),
    };
    let mut suggested: Vec<String> = [ContextKind::SuggestedArg, ContextKind::SuggestedValue]
        .into_iter()
        .flat_map(get)
        .collect();
    if e.kind() == ErrorKind::InvalidSubcommand {
        // Commands by their canonical name: a Spanish alias close to the typo names its
        // command, once.
        let wrong = first(ContextKind::InvalidSubcommand);
        let mut names: Vec<(String, String)> = Vec::new();
        for sc in cmd.get_subcommands() {
            names.push((sc.get_name().to_string(), sc.get_name().to_string()));
            for a in sc.get_all_aliases() {
                names.push((a.to_string(), sc.get_name().to_string()));
            }
        }
        // The closest only: "verfy" is nearer `verify` than the alias `ver` of `show`.
        let best = crate::model::diag::suggest(&wrong, names.iter().map(|(n, _)| n.as_str()));
        for close in best.into_iter().take(1) {
            if let Some((_, canonical)) = names.iter().find(|(n, _)| n == close) {
                if !suggested.contains(canonical) {
                    suggested.push(canonical.clone());
                }
            }
        }
    }
    if !suggested.is_empty() {
        message.push_str("; ");
        message.push_str(&tr("clap.did_you_mean", &[("list", &quoted(&suggested))]));
    }
    let rendered = e.render().to_string();
    let usage = rendered
        .lines()
        .find(|l| l.trim_start().starts_with("Usage:"))
        .map(|l| translate_rendered(l.trim()))
        .unwrap_or_default();
    let mut out = format!("{}: {message}\n", tr("clap.error", &[]));
    if !usage.is_empty() {
        out.push('\n');
        out.push_str(&usage);
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&tr("clap.more_help", &[]));
    out.push('\n');
    out
}
