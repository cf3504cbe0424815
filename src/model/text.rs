//! Text helpers shared by every layer: accent folding (search, slugs) and slugs.

/// Lowercase, accents and other combining marks removed (NFD), as the browser does with
/// `s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()`.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    fold_into(s, &mut out);
    out
}

pub fn fold_into(s: &str, out: &mut String) {
    for c in s.chars() {
        fold_char(c, |l| out.push(l));
    }
}

/// Calls `f` with each character [`fold`] makes of `c`, in order (none, one or several).
pub fn fold_char(c: char, mut f: impl FnMut(char)) {
    if c.is_ascii() {
        f(c.to_ascii_lowercase());
    } else {
        unicode_normalization::char::decompose_canonical(c, |d| {
            if !('\u{0300}'..='\u{036f}').contains(&d) {
                d.to_lowercase().for_each(&mut f);
            }
        });
    }
}

/// Lowercase ASCII slug of a text, accents folded: "Cómo atender" -> "como-atender".
pub fn slug(text: &str) -> String {
    let folded = fold(text);
    let mut out = String::with_capacity(folded.len());
    let mut dash = false;
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
            dash = false;
        } else if !dash && !out.is_empty() {
            out.push('-');
            dash = true;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("section");
    }
    out
}

/// `s` allocated once per process and shared: for the strings every kept ticket repeats
/// (labels, states, customers, agents, months). A value is never freed, so only strings with
/// few distinct values (bounded by the desk's configuration and calendar) belong here.
pub fn intern(s: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::{Mutex, OnceLock};
    static SEEN: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(k) = seen.get(s) {
        return k;
    }
    let k: &'static str = Box::leak(s.to_owned().into_boxed_str());
    seen.insert(k);
    k
}
