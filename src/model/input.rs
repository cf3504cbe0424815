//! Rules for values that come from outside (command arguments, ticket files, email) and later
//! reach places that cannot take everything: mail headers and clock arithmetic. Commands,
//! `mesa check` and the mail layer all ask these functions, so a value one of them refuses is
//! refused by all of them, each with its own message position.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

/// The first instant mesa accepts: mail's `Date` header and Unix time start at 1970.
pub fn earliest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The first instant mesa refuses. Holiday rules, calendars and SLA clocks are computed for
/// years up to 2199; a desk has no business past that, and a bound keeps every clock cheap.
pub fn too_late() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2200, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether `t` lies in the supported range `[1970-01-01, 2200-01-01)` UTC.
pub fn instant_supported(t: DateTime<Utc>) -> bool {
    t >= earliest() && t < too_late()
}

/// Whether a calendar date lies in the supported range.
pub fn date_supported(d: NaiveDate) -> bool {
    d.and_hms_opt(12, 0, 0)
        .map(|t| instant_supported(t.and_utc()))
        .unwrap_or(false)
}

/// The reason `t` is refused, or `None` when it is fine.
pub fn instant_problem(t: DateTime<Utc>) -> Option<String> {
    if instant_supported(t) {
        None
    } else {
        Some(crate::tr!(
            "guard.instant_out_of_range",
            value = t.to_rfc3339()
        ))
    }
}

/// Where a header-bound text breaks the rules: the first control character (line breaks,
/// tabs, NUL, DEL, C1 controls) or a Unicode line/paragraph separator. Such a character in a
/// name or a title would let the text end the header it is written into and start another
/// (`Bcc:` injection), and mail libraries refuse it (lettre panics on it).
pub fn header_text_problem(s: &str) -> Option<String> {
    let (i, c) = s
        .char_indices()
        .find(|(_, c)| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))?;
    let column = s[..i].chars().count() + 1;
    Some(crate::tr!(
        "guard.control_char",
        code = format!("U+{:04X}", c as u32),
        column = column
    ))
}

/// A header-bound text checked: `Ok` with the text, or the reason it is refused.
pub fn header_text(s: &str) -> Result<&str, String> {
    match header_text_problem(s) {
        Some(p) => Err(p),
        None => Ok(s),
    }
}

/// The single email address of a requester as typed: `Name <addr>`, `<addr>` or a bare
/// `addr`. Exactly one address and nothing after it; the address itself must be one mail
/// accepts. Returns (display name, address).
pub fn one_address(s: &str) -> Result<(String, String), String> {
    let s = s.trim();
    let shown = s.escape_debug().to_string();
    let refuse = |why: String| Err(crate::tr!("guard.bad_address", value = shown, why = why));
    if let Some(p) = header_text_problem(s) {
        return refuse(p);
    }
    let (name, addr) = match s.find('<') {
        Some(open) => {
            let Some(close_rel) = s[open..].find('>') else {
                return refuse(crate::tr!("guard.addr_unclosed"));
            };
            let close = open + close_rel;
            let after = s[close + 1..].trim();
            if !after.is_empty() {
                return refuse(crate::tr!("guard.addr_trailing", rest = after));
            }
            (s[..open].trim(), s[open + 1..close].trim())
        }
        None => {
            if s.contains('>') {
                return refuse(crate::tr!("guard.addr_unclosed"));
            }
            ("", s)
        }
    };
    if name.contains(['<', '>']) || addr.contains(['<', '>']) {
        return refuse(crate::tr!("guard.addr_many"));
    }
    if addr.contains([',', ';']) || addr.matches('@').count() != 1 {
        return refuse(crate::tr!("guard.addr_many"));
    }
    if addr.parse::<lettre::Address>().is_err() {
        return refuse(crate::tr!("guard.addr_invalid", addr = addr));
    }
    let name = name.trim_matches('"').trim().to_string();
    Ok((name, addr.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_with_their_column() {
        assert!(header_text_problem("Marcela Rincón").is_none());
        let p = header_text_problem("A\r\nBcc: x@evil.example").unwrap();
        assert!(p.contains("U+000D") && p.contains('2'), "{p}");
        assert!(header_text_problem("tab\there").is_some());
        assert!(header_text_problem("line\u{2028}sep").is_some());
        assert!(header_text_problem("del\u{7f}").is_some());
    }

    #[test]
    fn exactly_one_address() {
        assert_eq!(
            one_address("Marcela Rincón <sistemas@santahelena.example.co>").unwrap(),
            (
                "Marcela Rincón".to_string(),
                "sistemas@santahelena.example.co".to_string()
            )
        );
        assert_eq!(one_address("a@b.co").unwrap().1, "a@b.co");
        for bad in [
            "A <a@b.c> junk",
            "A <a@b.c>, B <d@e.f>",
            "a@b.c, d@e.f",
            "A <a@b.c",
            "A <not an address>",
            "A\r\nBcc: x@evil.example <a@b.c>",
            "<a@b.c> <d@e.f>",
        ] {
            assert!(one_address(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn range_is_1970_to_2199() {
        let t = |y| Utc.with_ymd_and_hms(y, 6, 1, 0, 0, 0).unwrap();
        assert!(!instant_supported(t(1969)));
        assert!(instant_supported(t(1970)));
        assert!(instant_supported(t(2199)));
        assert!(!instant_supported(t(2200)));
        assert!(!instant_supported(t(5000)));
    }
}
