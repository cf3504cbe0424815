//! Dates, numbers and durations as the desk's language writes them. Names and patterns come
//! from the message catalog (`calendar.*` and `site.fmt.*`), never from code.

use crate::model::duration::Dur;
use crate::model::i18n::Catalog;
use crate::model::ticket::Stamp;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Formatting for one build: the catalog, the desk's time zone and separators.
pub struct Fmt {
    pub cat: &'static Catalog,
    pub tz: Tz,
    thousands: String,
    decimal: String,
    /// `calendar.human_datetime` split once into its text and fields, and the names it uses,
    /// looked up once.
    datetime_parts: Vec<Part>,
    weekdays: Vec<String>,
    months: Vec<String>,
    hours_pattern: String,
    minutes_pattern: String,
    percent_pattern: String,
}

/// `pattern` with each `{name}` replaced by `value(name)` (left as is when `None`), in one
/// pass: pages format many numbers and labels, and `str::replace` per argument adds up.
pub fn fill<'a>(
    pattern: &str,
    value: impl Fn(&str) -> Option<std::borrow::Cow<'a, str>>,
) -> String {
    let mut out = String::with_capacity(pattern.len() + 16);
    let mut rest = pattern;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let Some(end) = rest[i..].find('}') else {
            rest = &rest[i..];
            break;
        };
        let name = &rest[i + 1..i + end];
        match value(name) {
            Some(v) => out.push_str(&v),
            None => out.push_str(&rest[i..=i + end]),
        }
        rest = &rest[i + end + 1..];
    }
    out.push_str(rest);
    out
}

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A piece of the `calendar.human_datetime` pattern.
#[derive(Debug, PartialEq)]
enum Part {
    Text(String),
    Weekday,
    Day,
    Month,
    Year,
    Time,
}

/// `pattern` split at its `{field}`s: a name it does not know, and a `{` without a closing
/// `}` (with the rest of the pattern), stay text, as [`fill`] leaves them.
fn parts(pattern: &str) -> Vec<Part> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = pattern;
    while let Some(i) = rest.find('{') {
        text.push_str(&rest[..i]);
        let Some(end) = rest[i..].find('}') else {
            rest = &rest[i..];
            break;
        };
        let field = match &rest[i + 1..i + end] {
            "weekday" => Part::Weekday,
            "day" => Part::Day,
            "month" => Part::Month,
            "year" => Part::Year,
            "time" => Part::Time,
            _ => {
                text.push_str(&rest[i..=i + end]);
                rest = &rest[i + end + 1..];
                continue;
            }
        };
        if !text.is_empty() {
            out.push(Part::Text(std::mem::take(&mut text)));
        }
        out.push(field);
        rest = &rest[i + end + 1..];
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Part::Text(text));
    }
    out
}

/// `n` in decimal, as `n.to_string()` writes it, without a string of its own.
fn push_int(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut v = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&digits[at..]).unwrap_or_default());
}

/// `n` (below 100) with two digits, as `format!("{:02}", n)`.
fn push_two(out: &mut String, n: u32) {
    if n >= 100 {
        push_int(out, n as i64);
        return;
    }
    out.push((b'0' + (n / 10) as u8) as char);
    out.push((b'0' + (n % 10) as u8) as char);
}

impl Fmt {
    pub fn new(cat: &'static Catalog, tz: Tz) -> Fmt {
        Fmt {
            cat,
            tz,
            thousands: cat.get("site.fmt.thousands"),
            decimal: cat.get("site.fmt.decimal"),
            datetime_parts: parts(&cat.get("calendar.human_datetime")),
            weekdays: WEEKDAYS
                .iter()
                .map(|d| cat.get(&format!("calendar.weekday.{d}")))
                .collect(),
            months: MONTHS
                .iter()
                .map(|m| cat.get(&format!("calendar.month.{m}")))
                .collect(),
            hours_pattern: cat.get("site.fmt.hours"),
            minutes_pattern: cat.get("site.fmt.minutes"),
            percent_pattern: cat.get("site.fmt.percent"),
        }
    }

    pub fn lang(&self) -> &str {
        &self.cat.lang
    }

    /// "lunes 2 de noviembre de 2026, 08:15": the same text as `sla::human_datetime`, with the
    /// names looked up and the pattern split once per build instead of once per date (a
    /// ticket page formats one per event: about 4% of a full build's instructions went to
    /// searching the pattern, and to each of six fields converting the instant to local time).
    pub fn datetime(&self, t: DateTime<Utc>) -> String {
        use chrono::Timelike;
        let d = t.with_timezone(&self.tz).naive_local();
        let mut out = String::with_capacity(48);
        for part in &self.datetime_parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Weekday => {
                    out.push_str(&self.weekdays[d.weekday().num_days_from_monday() as usize])
                }
                Part::Day => push_int(&mut out, d.day() as i64),
                Part::Month => out.push_str(&self.months[d.month0() as usize]),
                Part::Year => push_int(&mut out, d.year() as i64),
                Part::Time => {
                    push_two(&mut out, d.hour());
                    out.push(':');
                    push_two(&mut out, d.minute());
                }
            }
        }
        out
    }

    /// "vie 27 nov 14:00": a date and time that fits a table column.
    pub fn short_datetime(&self, t: DateTime<Utc>) -> String {
        use chrono::Timelike;
        let d = t.with_timezone(&self.tz);
        let cut = |s: &str| s.chars().take(3).collect::<String>();
        format!(
            "{} {} {} {:02}:{:02}",
            cut(&self.weekdays[d.weekday().num_days_from_monday() as usize]),
            d.day(),
            cut(&self.months[d.month0() as usize]),
            d.hour(),
            d.minute()
        )
    }

    /// "20/11/2026 10:05": a date and time with its year that fits a table cell (the tickets
    /// index spans years), in the desk's zone.
    pub fn cell_datetime(&self, t: DateTime<Utc>) -> String {
        use chrono::Timelike;
        let d = t.with_timezone(&self.tz);
        let pattern = self.cat.get("site.fmt.cell_datetime");
        fill(&pattern, |name| {
            Some(std::borrow::Cow::Owned(match name {
                "dd" => format!("{:02}", d.day()),
                "mm" => format!("{:02}", d.month()),
                "yyyy" => d.year().to_string(),
                "time" => format!("{:02}:{:02}", d.hour(), d.minute()),
                _ => return None,
            }))
        })
    }

    pub fn stamp(&self, s: &Stamp) -> String {
        self.datetime(s.utc())
    }

    pub fn tz_datetime(&self, t: &DateTime<Tz>) -> String {
        self.datetime(t.with_timezone(&Utc))
    }

    /// "2 de noviembre de 2026".
    pub fn date(&self, d: NaiveDate) -> String {
        let month = self
            .cat
            .get(&format!("calendar.month.{}", MONTHS[d.month0() as usize]));
        self.cat.format(
            "site.fmt.date",
            &[("day", &d.day()), ("month", &month), ("year", &d.year())],
        )
    }

    /// "noviembre de 2026".
    pub fn month(&self, year: i32, month: u32) -> String {
        let name = self.cat.get(&format!(
            "calendar.month.{}",
            MONTHS[(month.clamp(1, 12) - 1) as usize]
        ));
        self.cat
            .format("site.fmt.month", &[("month", &name), ("year", &year)])
    }

    /// "100.000" (es), "100,000" (en).
    pub fn int(&self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push_str(&self.thousands);
            }
            out.push(c);
        }
        out
    }

    /// One decimal: "97,5" (es), "97.5" (en).
    pub fn dec1(&self, x: f64) -> String {
        let r = (x * 10.0).round() as i64;
        let whole = self.int(r / 10);
        let frac = (r % 10).abs();
        if r < 0 && r / 10 == 0 {
            format!("-0{}{frac}", self.decimal)
        } else {
            format!("{whole}{}{frac}", self.decimal)
        }
    }

    pub fn percent(&self, x: f64) -> String {
        let v = self.dec1(x);
        fill(&self.percent_pattern, |n| {
            (n == "value").then(|| v.as_str().into())
        })
    }

    /// "2 h 30 min" with the catalog's unit names.
    pub fn duration(&self, d: Dur) -> String {
        self.minutes(d.minutes)
    }

    pub fn minutes(&self, total: i64) -> String {
        let m = total.abs();
        let (hours, min) = (m / 60, m % 60);
        let mut parts = Vec::new();
        if hours > 0 {
            let h = self.int(hours);
            parts.push(fill(&self.hours_pattern, |n| {
                (n == "n").then(|| h.as_str().into())
            }));
        }
        if min > 0 || hours == 0 {
            let m = min.to_string();
            parts.push(fill(&self.minutes_pattern, |n| {
                (n == "n").then(|| m.as_str().into())
            }));
        }
        let s = parts.join(" ");
        if total < 0 {
            format!("-{s}")
        } else {
            s
        }
    }

    /// Bytes as "12,4 MB".
    pub fn size(&self, bytes: u64) -> String {
        let b = bytes as f64;
        if b >= 1024.0 * 1024.0 * 1024.0 {
            format!("{} GiB", self.dec1(b / 1024.0 / 1024.0 / 1024.0))
        } else if b >= 1024.0 * 1024.0 {
            format!("{} MiB", self.dec1(b / 1024.0 / 1024.0))
        } else if b >= 1024.0 {
            format!("{} KiB", self.dec1(b / 1024.0))
        } else {
            format!("{bytes} B")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn es() -> Fmt {
        static CAT: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
        Fmt::new(
            CAT.get_or_init(|| Catalog::load("es", None)),
            chrono_tz::America::Bogota,
        )
    }

    fn en() -> Fmt {
        static CAT: std::sync::OnceLock<Catalog> = std::sync::OnceLock::new();
        Fmt::new(
            CAT.get_or_init(|| Catalog::load("en", None)),
            chrono_tz::America::Bogota,
        )
    }

    #[test]
    fn numbers_by_language() {
        assert_eq!(es().int(100000), "100.000");
        assert_eq!(en().int(100000), "100,000");
        assert_eq!(es().int(-1234), "-1.234");
        assert_eq!(es().dec1(97.54), "97,5");
        assert_eq!(en().dec1(97.54), "97.5");
        assert_eq!(es().int(12), "12");
    }

    #[test]
    fn dates_by_language() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 2).unwrap();
        assert_eq!(es().date(d), "2 de noviembre de 2026");
        assert_eq!(en().date(d), "2 November 2026");
        let s = Stamp::parse("2026-11-02T08:15:00-05:00").unwrap();
        assert_eq!(es().stamp(&s), "lunes 2 de noviembre de 2026, 08:15");
        let local = s.utc().with_timezone(&chrono_tz::America::Bogota);
        assert_eq!(
            es().stamp(&s),
            crate::rules::sla::human_datetime(&local, "es")
        );
    }

    #[test]
    fn datetimes_across_a_year_and_the_edges_of_a_day() {
        // Worked by hand (Bogotá is UTC-5 all year).
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            es().datetime(at("2026-01-01T04:59:00Z")),
            "miércoles 31 de diciembre de 2025, 23:59"
        );
        assert_eq!(
            en().datetime(at("2026-01-01T05:00:00Z")),
            "Thursday 1 January 2026, 00:00"
        );
        assert_eq!(
            es().datetime(at("2028-02-29T17:07:00Z")),
            "martes 29 de febrero de 2028, 12:07"
        );
        assert_eq!(
            en().datetime(at("2026-07-04T15:30:00Z")),
            "Saturday 4 July 2026, 10:30"
        );
        // Every 7 hours 13 minutes for two years, against the rules layer's own formatting.
        let mut t = at("2025-12-01T00:00:00Z");
        for _ in 0..2500 {
            let local = t.with_timezone(&chrono_tz::America::Bogota);
            assert_eq!(
                es().datetime(t),
                crate::rules::sla::human_datetime(&local, "es")
            );
            assert_eq!(
                en().datetime(t),
                crate::rules::sla::human_datetime(&local, "en")
            );
            t += chrono::Duration::minutes(7 * 60 + 13);
        }
    }

    #[test]
    fn a_datetime_pattern_splits_as_fill_reads_it() {
        let text = |s: &str| Part::Text(s.to_string());
        assert_eq!(
            parts("{weekday} {day} de {month} de {year}, {time}"),
            vec![
                Part::Weekday,
                text(" "),
                Part::Day,
                text(" de "),
                Part::Month,
                text(" de "),
                Part::Year,
                text(", "),
                Part::Time
            ]
        );
        assert_eq!(parts(""), vec![]);
        assert_eq!(parts("{otro} {day}"), vec![text("{otro} "), Part::Day]);
        assert_eq!(parts("{day} {abierta"), vec![Part::Day, text(" {abierta")]);
        assert_eq!(parts("{}{year}}"), vec![text("{}"), Part::Year, text("}")]);
    }

    #[test]
    fn integers_written_in_place() {
        for n in [0i64, 7, 10, 99, 100, 2026, -1, -2026, i64::MAX, i64::MIN] {
            let mut s = String::from("x");
            push_int(&mut s, n);
            assert_eq!(s, format!("x{n}"));
        }
        for n in [0u32, 5, 9, 10, 59, 99, 100, 123] {
            let mut s = String::new();
            push_two(&mut s, n);
            assert_eq!(s, format!("{n:02}"));
        }
    }

    #[test]
    fn fill_replaces_known_names_in_one_pass() {
        let f = fill("{a} y {b} {c}", |n| match n {
            "a" => Some("uno".into()),
            "b" => Some("{a}".into()),
            _ => None,
        });
        assert_eq!(f, "uno y {a} {c}");
        assert_eq!(fill("sin llaves", |_| None), "sin llaves");
        assert_eq!(fill("abierta {x", |_| Some("y".into())), "abierta {x");
    }

    #[test]
    fn durations() {
        assert_eq!(es().duration(Dur::minutes(30)), "30 min");
        assert_eq!(es().duration(Dur::hours(72)), "72 h");
        assert_eq!(es().duration(Dur::minutes(150)), "2 h 30 min");
    }
}
