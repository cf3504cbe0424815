//! Splitting a Markdown file into its YAML front matter and its body, and turning YAML errors
//! into diagnostics that point at the right line of the *file* (not of the front matter).

use crate::model::diag::Diagnostic;
use crate::model::yamlpos::Positions;
pub use crate::model::yamlpos::{too_deep, MAX_FLOW_DEPTH};
use crate::tr;
use serde::de::DeserializeOwned;
use std::path::Path;

/// A Markdown file split at its `---` fences.
#[derive(Debug, Clone, Copy)]
pub struct Split<'a> {
    pub yaml: &'a str,
    pub body: &'a str,
    /// File line (1-based) of the first line of `yaml`.
    pub yaml_line: usize,
}

/// Splits `text` (already valid UTF-8) into front matter and body.
pub fn split<'a>(path: &Path, text: &'a str) -> Result<Split<'a>, Diagnostic> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
        .ok_or_else(|| {
            Diagnostic::new(path, 1, 1, tr!("fm.missing_open"))
                .with_hint(Some(tr!("fm.missing_open_hint")))
        })?;
    // Candidate fences are found with a substring search (the common case scans each byte
    // once); a candidate counts only when its whole line is `---`.
    let line_at = |start: usize| -> &str {
        match rest[start..].find('\n') {
            Some(i) => &rest[start..start + i + 1],
            None => &rest[start..],
        }
    };
    // (`memmem`, vectorised: `str::match_indices` was 3% of a cold check.)
    let candidates = std::iter::once(0)
        .chain(memchr::memmem::find_iter(rest.as_bytes(), "\n---").map(|i| i + 1));
    for offset in candidates {
        let line = line_at(offset);
        if line.trim_end_matches(['\n', '\r']) == "---" {
            let yaml = &rest[..offset];
            let body = &rest[offset + line.len()..];
            // Front matter bigger than the cap (desk.yaml `limits:`) is refused before parsing:
            // no ticket or article needs it, and it keeps a hostile file from costing the
            // whole desk's check time.
            let max = crate::model::fsread::max_front_matter();
            if yaml.len() > max {
                return Err(Diagnostic::new(
                    path,
                    2,
                    1,
                    tr!("fm.too_big", max = max / 1024),
                ));
            }
            return Ok(Split {
                yaml,
                body,
                yaml_line: 2,
            });
        }
    }
    Err(Diagnostic::new(path, 1, 1, tr!("fm.missing_close"))
        .with_hint(Some(tr!("fm.missing_close_hint"))))
}

/// Reads a desk file as UTF-8 through the one safe reader ([`crate::model::fsread`]), with a
/// diagnostic (not a panic) for refused, unreadable or non-UTF-8 files.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    crate::model::fsread::read_text(path)
}

/// Deserialises front matter, mapping serde's error to the file's line and column.
/// The common case (block YAML as mesa writes it) takes the fast path; anything else, and
/// every error, goes through serde_yaml so messages and positions are its own.
pub fn parse<T: DeserializeOwned>(path: &Path, split: &Split) -> Result<T, Diagnostic> {
    if let Some(value) = crate::model::fastyaml::from_str::<T>(split.yaml) {
        return Ok(value);
    }
    if let Some((line, col)) = too_deep(split.yaml) {
        return Err(Diagnostic::new(
            path,
            line + split.yaml_line - 1,
            col,
            tr!("yaml.too_deep", max = MAX_FLOW_DEPTH),
        ));
    }
    serde_yaml::from_str::<T>(split.yaml).map_err(|e| yaml_error(path, split, &e))
}

/// A serde_yaml error as a diagnostic at the file position it names, with a "did you mean"
/// hint for unknown keys.
pub fn yaml_error(path: &Path, split: &Split, e: &serde_yaml::Error) -> Diagnostic {
    let (line, col) = e
        .location()
        .map(|l| (l.line() + split.yaml_line - 1, l.column()))
        .unwrap_or((split.yaml_line, 1));
    let text = e.to_string();
    // serde_yaml appends " at line X column Y"; the position is ours to print. libyaml's
    // syntax errors may go on with ", while scanning ... at line A column B": keep that part,
    // with its line counted in the file.
    let (problem, context) = match text.find(" at line ") {
        Some(i) => {
            let after = &text[i + " at line ".len()..];
            let context = after.split_once(", ").map(|(_, c)| c);
            (&text[..i], context)
        }
        None => (text.as_str(), None),
    };
    // Where the context points (e.g. where an unclosed quote opened), in file lines.
    let context_pos = context
        .and_then(|c| c.split_once(" at line "))
        .map(|(_, pos)| {
            let mut nums = pos
                .split(" column ")
                .map(|n| n.trim().parse::<usize>().unwrap_or(0));
            let (l, c) = (nums.next().unwrap_or(0), nums.next().unwrap_or(0));
            (l + split.yaml_line - 1, c)
        });
    let at = |l: usize, c: usize| -> Option<char> {
        let line = split.yaml.lines().nth(l.checked_sub(split.yaml_line)?)?;
        line.chars().nth(c.checked_sub(1)?)
    };
    let before_error: Option<String> = split
        .yaml
        .lines()
        .nth(line.saturating_sub(split.yaml_line))
        .map(|l| l.chars().take(col.saturating_sub(1)).collect());
    if let Some(kind) = syntax_kind(problem, context, at(line, col)) {
        // libyaml says "mapping values are not allowed" both for `title: Error: no abre` and
        // for a key indented deeper than its siblings; the text before the colon tells which.
        let kind = match (kind, &before_error) {
            ("colon_in_value", Some(b)) if b.starts_with(' ') && !b.contains(": ") => "indentation",
            _ => kind,
        };
        // Hand-edit mistakes: say what is wrong and how to fix it, in the desk's language.
        let (line, col) = match (kind, context_pos) {
            ("unclosed_quote" | "missing_colon_space", Some(p)) => p,
            _ => (line, col),
        };
        return Diagnostic::new(path, line, col, tr!(&format!("yaml.syntax.{kind}")))
            .with_hint(Some(tr!(&format!("yaml.fix.{kind}"))));
    }
    let hint = unknown_field_hint(problem);
    let mut message = localize(problem);
    if let Some(context) = context {
        message = match (context.split_once(" at line "), context_pos) {
            (Some((what, _)), Some((l, c))) => tr!(
                "yaml.context",
                problem = message,
                context = what,
                line = l,
                col = c
            ),
            _ => format!("{message}, {context}"),
        };
    }
    Diagnostic::new(path, line, col, message).with_hint(hint)
}

/// The common hand-edit mistakes among libyaml's syntax errors (a `: ` inside a plain value,
/// an unclosed quote, a tab, a missing space after the colon, indentation), by the words of
/// its message and the character at the error.
fn syntax_kind(problem: &str, context: Option<&str>, ch: Option<char>) -> Option<&'static str> {
    let context = context.unwrap_or("");
    if ch == Some('\t') || problem.contains("tab character") {
        return Some("tab");
    }
    let kinds: [(&str, &str); 10] = [
        ("mapping values are not allowed", "colon_in_value"),
        ("could not find expected ':'", "missing_colon_space"),
        ("did not find expected key", "indentation"),
        ("did not find expected '-' indicator", "list_indentation"),
        ("block sequence entries are not allowed", "list_indentation"),
        (
            "found character that cannot start any token",
            "bad_start_char",
        ),
        ("found unknown escape character", "bad_escape"),
        ("found undefined alias", "alias"),
        ("did not find expected node content", "missing_value"),
        ("found unexpected end of stream", "unexpected_end"),
    ];
    if context.contains("quoted scalar") && !problem.contains("escape") {
        return Some("unclosed_quote");
    }
    kinds
        .iter()
        .find(|(words, _)| problem.contains(words))
        .map(|(_, kind)| *kind)
}

/// serde's and serde_yaml's usual messages in the active language; others stay as they are.
/// A leading field path (`events[1].at: `) is kept.
fn localize(message: &str) -> String {
    let (prefix, body) = match message.split_once(": ") {
        Some((p, b)) if !p.is_empty() && !p.contains([' ', '`']) => (&message[..p.len() + 2], b),
        _ => ("", message),
    };
    let quoted = |s: &str| -> Option<(String, String)> {
        let (name, rest) = s.split_once('`')?;
        Some((name.to_string(), rest.to_string()))
    };
    let expected = |rest: &str| -> String {
        let e = rest.strip_prefix(", expected ").unwrap_or(rest);
        e.strip_prefix("one of ").unwrap_or(e).to_string()
    };
    let body = if let Some((field, rest)) = body.strip_prefix("unknown field `").and_then(quoted) {
        if rest == ", there are no fields" {
            tr!("yaml.no_fields", field = field)
        } else {
            tr!(
                "yaml.unknown_field",
                field = field,
                expected = expected(&rest)
            )
        }
    } else if let Some((value, rest)) = body.strip_prefix("unknown variant `").and_then(quoted) {
        tr!(
            "yaml.unknown_variant",
            value = value,
            expected = expected(&rest)
        )
    } else if let Some((field, _)) = body.strip_prefix("missing field `").and_then(quoted) {
        tr!("yaml.missing_field", field = field)
    } else if let Some((field, _)) = body.strip_prefix("duplicate field `").and_then(quoted) {
        tr!("yaml.duplicate_field", field = field)
    } else if let Some((found, exp)) = body
        .strip_prefix("invalid type: ")
        .and_then(|r| r.rsplit_once(", expected "))
    {
        tr!("yaml.invalid_type", found = found, expected = exp)
    } else if body == "recursion limit exceeded" {
        tr!("yaml.too_deep", max = 128)
    } else if body == "repetition limit exceeded" {
        tr!("yaml.too_repetitive")
    } else {
        body.to_string()
    };
    format!("{prefix}{body}")
}

/// From serde's "unknown field `x`, expected one of `a`, `b`" builds "did you mean `a`?".
fn unknown_field_hint(message: &str) -> Option<String> {
    // Unknown keys and unknown values of a fixed list (event kinds, statuses...) alike.
    let rest = ["unknown field `", "unknown variant `"]
        .iter()
        .find_map(|p| message.find(p).map(|i| &message[i + p.len()..]))?;
    let (wrong, expected) = rest.split_once('`')?;
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let close = crate::model::diag::suggest(wrong, known.iter().copied());
    close
        .first()
        .map(|k| tr!("check.did_you_mean", name = format!("`{k}`")))
}

/// Position of a dotted path inside the front matter, as a file position.
pub fn locate(split: &Split, positions: &Positions, path: &str) -> (usize, usize) {
    positions
        .find(path)
        .map(|(l, c)| (l + split.yaml_line - 1, c))
        .unwrap_or((split.yaml_line, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_front_matter() {
        let s = split(Path::new("a.md"), "---\na: 1\n---\nbody\n").unwrap();
        assert_eq!(s.yaml, "a: 1\n");
        assert_eq!(s.body, "body\n");
    }

    #[test]
    fn missing_fences_are_errors() {
        assert!(split(Path::new("a.md"), "a: 1\n").is_err());
        assert!(split(Path::new("a.md"), "---\na: 1\n").is_err());
        assert!(split(Path::new("a.md"), "").is_err());
    }
}
