//! Message catalogs. Every string a person reads (CLI output, diagnostics, the site, emails)
//! comes from `theme/i18n/<lang>.yaml`; the sample desk's catalogs are embedded as the default
//! and a desk may override any key with its own file.

use std::collections::HashMap;
use std::fmt::Display;
use std::path::Path;
use std::sync::OnceLock;

/// Languages mesa ships complete catalogs for.
pub const LANGUAGES: &[&str] = &["es", "en"];

const EMBEDDED_ES: &str = include_str!("../../theme/i18n/es.yaml");
const EMBEDDED_EN: &str = include_str!("../../theme/i18n/en.yaml");

/// The flattened messages (`site.home.title` -> text). Hashed with foldhash, not SipHash: a
/// build looks up dozens of keys per ticket page and SipHash was most of each lookup. The
/// keys are mesa's own and those of the desk's catalog files (as trusted as desk.yaml); no
/// one outside the desk chooses them, so flooding the map is not a concern.
pub type Messages = HashMap<String, String, foldhash::fast::RandomState>;

#[derive(Debug, Clone)]
pub struct Catalog {
    pub lang: String,
    messages: Messages,
}

static ACTIVE: OnceLock<Catalog> = OnceLock::new();

impl Catalog {
    /// The embedded catalog for `lang` (falling back to Spanish), overlaid with the desk's own
    /// `theme/i18n/<lang>.yaml` when `desk_dir` has one.
    pub fn load(lang: &str, desk_dir: Option<&Path>) -> Catalog {
        let lang = if LANGUAGES.contains(&lang) {
            lang
        } else {
            "es"
        };
        let mut messages = Messages::default();
        flatten_into(&mut messages, EMBEDDED_ES);
        if lang == "en" {
            flatten_into(&mut messages, EMBEDDED_EN);
        }
        if let Some(dir) = desk_dir {
            let own = dir.join("theme/i18n").join(format!("{lang}.yaml"));
            // Only an existing file is read: a refusal's message would need the catalog this
            // is building (and fix the default catalog in place for good).
            let exists = std::fs::symlink_metadata(&own).is_ok();
            // A desk usually keeps a copy of the shipped catalog; flattening it again would
            // change nothing and cost as much as the first time (a tenth of a one-ticket
            // command), so an identical copy is not parsed.
            let shipped = if lang == "en" {
                EMBEDDED_EN
            } else {
                EMBEDDED_ES
            };
            if let Some(text) = exists
                .then(|| crate::model::fsread::read_text(&own).ok())
                .flatten()
                .filter(|text| text != shipped)
            {
                flatten_into(&mut messages, &text);
            }
        }
        Catalog {
            lang: lang.to_string(),
            messages,
        }
    }

    pub fn get(&self, key: &str) -> String {
        self.text(key).to_string()
    }

    /// The message for `key` (the key itself when there is none), borrowed.
    pub fn text<'a>(&'a self, key: &'a str) -> &'a str {
        self.messages.get(key).map_or(key, String::as_str)
    }

    /// The message for `key` with each `{name}` replaced by its argument.
    ///
    /// The arguments are applied in turn, each to the text the ones before left (a value
    /// holding `{name}` of a later argument gets it filled, as it always did), with three
    /// buffers for the whole call instead of three new strings per argument.
    pub fn format(&self, key: &str, args: &[(&str, &dyn Display)]) -> String {
        use std::fmt::Write;
        let mut out = self.get(key);
        let mut needle = String::new();
        let mut value = String::new();
        let mut next = String::new();
        for (name, v) in args {
            needle.clear();
            needle.push('{');
            needle.push_str(name);
            needle.push('}');
            if !out.contains(needle.as_str()) {
                continue;
            }
            value.clear();
            let _ = write!(value, "{v}");
            // `out.replace(&needle, &value)`, into a buffer kept across arguments.
            next.clear();
            let mut last = 0;
            for (at, _) in out.match_indices(needle.as_str()) {
                next.push_str(&out[last..at]);
                next.push_str(&value);
                last = at + needle.len();
            }
            next.push_str(&out[last..]);
            std::mem::swap(&mut out, &mut next);
        }
        out
    }

    /// Every message, flattened (`site.home.title`), for templates.
    pub fn all(&self) -> &Messages {
        &self.messages
    }
}

fn flatten_into(out: &mut Messages, text: &str) {
    if let Ok(value) = serde_yaml::from_str::<serde_yaml::Value>(text) {
        flatten_value(out, String::new(), &value);
    }
}

fn flatten_value(out: &mut Messages, prefix: String, value: &serde_yaml::Value) {
    match value {
        serde_yaml::Value::Mapping(map) => {
            for (k, v) in map {
                if let Some(k) = k.as_str() {
                    let key = if prefix.is_empty() {
                        k.to_string()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    flatten_value(out, key, v);
                }
            }
        }
        serde_yaml::Value::String(s) => {
            out.insert(prefix, s.clone());
        }
        serde_yaml::Value::Number(n) => {
            out.insert(prefix, n.to_string());
        }
        _ => {}
    }
}

/// Makes `catalog` the one used by [`t`] and [`tr!`]. Only the first call wins, which is what
/// a process that reads one desk wants.
pub fn activate(catalog: Catalog) {
    let _ = ACTIVE.set(catalog);
}

/// Whether a catalog is already active (the first activation wins: a later one would only
/// parse the catalogs again for nothing).
pub fn is_active() -> bool {
    ACTIVE.get().is_some()
}

/// The active catalog (Spanish, embedded, until a desk activates its own).
pub fn active() -> &'static Catalog {
    ACTIVE.get_or_init(|| Catalog::load("es", None))
}

/// The active catalog's message for `key`.
pub fn t(key: &str) -> String {
    active().get(key)
}

/// `tr!("check.unknown_customer", id = name)`: the active catalog's message with arguments.
#[macro_export]
macro_rules! tr {
    ($key:expr) => { $crate::model::i18n::t($key) };
    ($key:expr, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::model::i18n::active().format($key, &[$((stringify!($name), &$value as &dyn std::fmt::Display)),+])
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`Catalog::format`] as it was first written: one `replace` per argument.
    fn format_by_replace(pattern: &str, args: &[(&str, &dyn Display)]) -> String {
        let mut out = pattern.to_string();
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), &value.to_string());
        }
        out
    }

    fn catalog(pattern: &str) -> Catalog {
        let mut messages = Messages::default();
        messages.insert("k".into(), pattern.into());
        Catalog {
            lang: "es".into(),
            messages,
        }
    }

    #[test]
    fn format_worked_by_hand() {
        let c = catalog("{weekday} {day} de {month} de {year}, {time}");
        let args: [(&str, &dyn Display); 5] = [
            ("weekday", &"lunes"),
            ("day", &1),
            ("month", &"diciembre"),
            ("year", &2026),
            ("time", &"10:30"),
        ];
        assert_eq!(c.format("k", &args), "lunes 1 de diciembre de 2026, 10:30");
        // Repeated, missing and unknown placeholders; braces around a placeholder stay.
        let c = catalog("{a}-{a} {b} {{a}} {c");
        assert_eq!(c.format("k", &[("a", &"x"), ("z", &9)]), "x-x {b} {x} {c");
        // A value holding a later argument's placeholder gets it filled (arguments apply in
        // turn); an earlier one's is left as it is.
        let c = catalog("{a} {b}");
        assert_eq!(c.format("k", &[("a", &"{b}"), ("b", &"{a}")]), "{a} {a}");
        // A value joined with the text around it into a later placeholder: filled too.
        let c = catalog("{{a}}");
        assert_eq!(c.format("k", &[("a", &"b"), ("b", &"ok")]), "ok");
        // No message: the key itself, formatted.
        assert_eq!(c.format("{n} x", &[("n", &3)]), "3 x");
        assert_eq!(c.text("nope"), "nope");
        assert_eq!(c.get("k"), "{{a}}");
    }

    #[test]
    fn format_matches_one_replace_per_argument() {
        let pieces = [
            "{", "}", "a", "b", "ab", "{a}", "{b}", "{ab}", "é", " ", "{{", "}}",
        ];
        let mut seed = 7u64;
        let mut next = |n: usize| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize % n
        };
        for _ in 0..20_000 {
            let mut pattern = String::new();
            for _ in 0..next(10) {
                pattern.push_str(pieces[next(pieces.len())]);
            }
            let values: Vec<String> = (0..3)
                .map(|_| (0..next(4)).map(|_| pieces[next(pieces.len())]).collect())
                .collect();
            let names = ["a", "b", "ab"];
            let args: Vec<(&str, &dyn Display)> = (0..next(4))
                .map(|i| (names[next(3)], &values[i % 3] as &dyn Display))
                .collect();
            assert_eq!(
                catalog(&pattern).format("k", &args),
                format_by_replace(&pattern, &args),
                "{pattern:?} {values:?}"
            );
        }
    }
}
