//! Splitting a Markdown file into its YAML front matter and its body, and turning YAML errors
//! into diagnostics that point at the right line of the *file* (not of the front matter).

use crate::diag::Diagnostic;
use crate::tr;
use crate::yamlpos::Positions;
use serde::de::DeserializeOwned;
use std::path::Path;

/// Front matter bigger than this is refused before parsing: no ticket or article needs it, and
/// it keeps a hostile file from costing the whole desk's check time.
pub const MAX_FRONT_MATTER: usize = 4 * 1024 * 1024;

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
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let trimmed = line.trim_end_matches(['\n', '\r']);
        if trimmed == "---" {
            let yaml = &rest[..offset];
            let body = &rest[offset + line.len()..];
            if yaml.len() > MAX_FRONT_MATTER {
                return Err(Diagnostic::new(
                    path,
                    2,
                    1,
                    tr!("fm.too_big", max = MAX_FRONT_MATTER / 1024 / 1024),
                ));
            }
            return Ok(Split {
                yaml,
                body,
                yaml_line: 2,
            });
        }
        offset += line.len();
    }
    Err(Diagnostic::new(path, 1, 1, tr!("fm.missing_close")).with_hint(Some(tr!("fm.missing_close_hint"))))
}

/// Reads a file as UTF-8, with a diagnostic (not a panic) for unreadable or non-UTF-8 bytes.
pub fn read_text(path: &Path) -> Result<String, Diagnostic> {
    let bytes = std::fs::read(path).map_err(|e| Diagnostic::new(path, 0, 0, e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
        let col = valid.len() - valid.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1) + 1;
        Diagnostic::new(path, line, col, tr!("fm.not_utf8"))
    })
}

/// Deserialises front matter, mapping serde's error to the file's line and column.
pub fn parse<T: DeserializeOwned>(path: &Path, split: &Split) -> Result<T, Diagnostic> {
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
    // serde_yaml appends " at line X column Y"; the position is ours to print.
    let message = match text.find(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    };
    let hint = unknown_field_hint(&message);
    Diagnostic::new(path, line, col, message).with_hint(hint)
}

/// From serde's "unknown field `x`, expected one of `a`, `b`" builds "did you mean `a`?".
fn unknown_field_hint(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    let (wrong, expected) = rest.split_once('`')?;
    let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    let close = crate::diag::suggest(wrong, known.iter().copied());
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
