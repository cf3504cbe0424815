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

#[derive(Debug, Clone)]
pub struct Catalog {
    pub lang: String,
    messages: HashMap<String, String>,
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
        let mut messages = HashMap::new();
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
        self.messages
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string())
    }

    /// The message for `key` with each `{name}` replaced by its argument.
    pub fn format(&self, key: &str, args: &[(&str, &dyn Display)]) -> String {
        let mut out = self.get(key);
        for (name, value) in args {
            out = out.replace(&format!("{{{name}}}"), &value.to_string());
        }
        out
    }

    /// Every message, flattened (`site.home.title`), for templates.
    pub fn all(&self) -> &HashMap<String, String> {
        &self.messages
    }
}

fn flatten_into(out: &mut HashMap<String, String>, text: &str) {
    if let Ok(value) = serde_yaml::from_str::<serde_yaml::Value>(text) {
        flatten_value(out, String::new(), &value);
    }
}

fn flatten_value(out: &mut HashMap<String, String>, prefix: String, value: &serde_yaml::Value) {
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
