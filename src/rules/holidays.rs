//! Holiday rule sets computed for any year.
//!
//! `co`, Colombia. Sources: Ley 51 de 1983 ("Ley Emiliani"), article 1, which is article 177
//! of the Código Sustantivo del Trabajo, and Ley 2578 del 1 de junio de 2026, article 6, which
//! added 9 July (Nuestra Señora del Rosario de Chiquinquirá) from 2026 with Ley 51's move to
//! Monday. Checked in November 2026 (Ley 2466 de 2025, the labour reform, changed only the pay
//! surcharge for work on Sundays and holidays). 18 days until 2025, 19 from 2026:
//! - fixed dates: 1 January, 1 May, 20 July, 7 August, 8 December, 25 December;
//! - moved to the following Monday when they do not fall on a Monday (article 1, paragraph 2):
//!   6 January (Epiphany), 19 March (Saint Joseph), 29 June (Saints Peter and Paul),
//!   15 August (Assumption), 12 October (Columbus Day / Diversidad Étnica y Cultural),
//!   1 November (All Saints), 11 November (Independence of Cartagena);
//! - Easter-based: Holy Thursday and Good Friday on their day; Ascension (Easter + 39),
//!   Corpus Christi (Easter + 60) and Sacred Heart (Easter + 68), each moved to the following
//!   Monday, which makes them Easter + 43, + 64 and + 71;
//! - from 2026 (Ley 2578 de 2026): 9 July, moved to the following Monday.
//!
//! A list written outside this code (2020-2035, each rule with its law) is the oracle of
//! `tests/holidays.rs`.

use chrono::{Datelike, Duration, NaiveDate};
use std::collections::HashSet;
use std::sync::OnceLock;

/// Rule sets a calendar may name in `holidays:`.
pub const RULE_SETS: &[&str] = &["co"];

/// The rule set for an ISO 3166 country code (`CO` -> `co`), when mesa has one.
pub fn rule_set_for_country(country: &str) -> Option<&'static str> {
    let code = country.trim().to_ascii_lowercase();
    RULE_SETS.iter().copied().find(|r| *r == code)
}

/// One holiday: the date the desk closes and a key naming it (`holidays.co.<key>` in the
/// message catalogs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Holiday {
    pub date: NaiveDate,
    pub key: &'static str,
}

/// The holidays of rule set `rules` in `year`, sorted by date; `None` for an unknown rule set.
pub fn holidays(rules: &str, year: i32) -> Option<Vec<Holiday>> {
    match rules {
        "co" => Some(colombia(year)),
        _ => None,
    }
}

/// Whether `date` is a holiday of rule set `rules` (unknown rule sets close nothing).
/// Years 1900-2200 are answered from a table built once; others are computed.
pub fn is_holiday(rules: &str, date: NaiveDate) -> bool {
    match rules {
        "co" => {
            static TABLE: OnceLock<HashSet<NaiveDate>> = OnceLock::new();
            let y = date.year();
            if (1900..=2200).contains(&y) {
                TABLE
                    .get_or_init(|| (1900..=2200).flat_map(colombia).map(|h| h.date).collect())
                    .contains(&date)
            } else {
                colombia(y).iter().any(|h| h.date == date)
            }
        }
        _ => false,
    }
}

/// Easter Sunday (Gregorian), by the anonymous algorithm (Meeus/Jones/Butcher).
pub fn easter(year: i32) -> NaiveDate {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).unwrap_or_default()
}

/// The Monday on or after `d` (Ley 51 de 1983, article 1, paragraph 2).
fn to_monday(d: NaiveDate) -> NaiveDate {
    let ahead = (7 - d.weekday().num_days_from_monday()) % 7;
    d + Duration::days(ahead as i64)
}

fn ymd(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default()
}

/// The first year of Ley 2578 de 2026's holiday (9 July, Chiquinquirá).
const CHIQUINQUIRA_FROM: i32 = 2026;

/// Colombia's national holidays in `year`, sorted by date.
pub fn colombia(year: i32) -> Vec<Holiday> {
    let e = easter(year);
    let fixed = |m, d, key| Holiday {
        date: ymd(year, m, d),
        key,
    };
    let moved = |m, d, key| Holiday {
        date: to_monday(ymd(year, m, d)),
        key,
    };
    let easter_moved = |days: i64, key| Holiday {
        date: to_monday(e + Duration::days(days)),
        key,
    };
    let mut out = vec![
        fixed(1, 1, "new_year"),
        moved(1, 6, "epiphany"),
        moved(3, 19, "saint_joseph"),
        Holiday {
            date: e - Duration::days(3),
            key: "holy_thursday",
        },
        Holiday {
            date: e - Duration::days(2),
            key: "good_friday",
        },
        fixed(5, 1, "labour_day"),
        easter_moved(39, "ascension"),
        easter_moved(60, "corpus_christi"),
        easter_moved(68, "sacred_heart"),
        moved(6, 29, "saints_peter_paul"),
        fixed(7, 20, "independence"),
        fixed(8, 7, "boyaca"),
        moved(8, 15, "assumption"),
        moved(10, 12, "columbus_day"),
        moved(11, 1, "all_saints"),
        moved(11, 11, "cartagena"),
        fixed(12, 8, "immaculate_conception"),
        fixed(12, 25, "christmas"),
    ];
    if year >= CHIQUINQUIRA_FROM {
        out.push(moved(7, 9, "chiquinquira"));
    }
    debug_assert!(out.iter().all(|h| h.date.year() == year));
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_dates() {
        assert_eq!(easter(2024), ymd(2024, 3, 31));
        assert_eq!(easter(2025), ymd(2025, 4, 20));
        assert_eq!(easter(2026), ymd(2026, 4, 5));
        assert_eq!(easter(2038), ymd(2038, 4, 25));
    }

    #[test]
    fn moved_days_are_mondays() {
        for y in 1984..2100 {
            for h in colombia(y) {
                if !matches!(
                    h.key,
                    "new_year"
                        | "labour_day"
                        | "independence"
                        | "boyaca"
                        | "immaculate_conception"
                        | "christmas"
                        | "holy_thursday"
                        | "good_friday"
                ) {
                    assert_eq!(h.date.weekday(), chrono::Weekday::Mon, "{y} {}", h.key);
                }
            }
        }
    }
}
