//! Colombia's holidays computed by `mesa::rules::holidays` against a list written down outside
//! the code, 2020-2035.
//!
//! The list below is not computed by mesa. It was produced by an independent implementation,
//! the Python `holidays` package (vacanza/holidays 0.109, which added Ley 2578 de 2026 in its
//! pull request #3607), pasted here as data, and cross-checked for 2020-2030 against the
//! yearly lists published in Colombia (the government's and the press's: e.g. 2025's list with
//! Sacred Heart and Saints Peter and Paul both on 30 June, 2026's from festivos.com.co /
//! Noticias Caracol, 2027 from elrinconcolombiano.com): those agree on every date but the new
//! 9 July holiday, which they predate. Each entry names its rule; the law behind each rule:
//!
//! - `new_year` (1 Jan), `labour_day` (1 May), `independence` (20 Jul), `boyaca` (7 Aug),
//!   `immaculate_conception` (8 Dec), `christmas` (25 Dec): Ley 51 de 1983, art. 1 (= art. 177
//!   of the Código Sustantivo del Trabajo), on their date.
//! - `holy_thursday`, `good_friday`: Ley 51 de 1983, art. 1, on their date (Easter - 3, - 2).
//! - `epiphany` (6 Jan), `saint_joseph` (19 Mar), `saints_peter_paul` (29 Jun), `assumption`
//!   (15 Aug), `columbus_day` (12 Oct), `all_saints` (1 Nov), `cartagena` (11 Nov): Ley 51 de
//!   1983, art. 1, moved to the following Monday by its paragraph 2 (art. 177.2 CST).
//! - `ascension` (Easter + 39), `corpus_christi` (+ 60), `sacred_heart` (+ 68): Ley 51 de 1983,
//!   art. 1, moved to the following Monday (+ 43, + 64, + 71).
//! - `chiquinquira` (9 Jul, Nuestra Señora del Rosario de Chiquinquirá): Ley 2578 del 1 de
//!   junio de 2026, art. 6, from 2026, moved to the following Monday as Ley 51 de 1983
//!   provides (13 July in 2026).
//!
//! A date that carries two holidays (2025 and 2031: Sacred Heart and Saints Peter and Paul on
//! one Monday) appears twice, once per rule.

use chrono::{Datelike, NaiveDate};
use mesa::rules::holidays;
use std::collections::BTreeSet;

/// (month, day, rule key).
type Day = (u32, u32, &'static str);

const OFFICIAL: &[(i32, &[Day])] = &[
    (
        2020,
        &[
            (1, 1, "new_year"),
            (1, 6, "epiphany"),
            (3, 23, "saint_joseph"),
            (4, 9, "holy_thursday"),
            (4, 10, "good_friday"),
            (5, 1, "labour_day"),
            (5, 25, "ascension"),
            (6, 15, "corpus_christi"),
            (6, 22, "sacred_heart"),
            (6, 29, "saints_peter_paul"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 17, "assumption"),
            (10, 12, "columbus_day"),
            (11, 2, "all_saints"),
            (11, 16, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2021,
        &[
            (1, 1, "new_year"),
            (1, 11, "epiphany"),
            (3, 22, "saint_joseph"),
            (4, 1, "holy_thursday"),
            (4, 2, "good_friday"),
            (5, 1, "labour_day"),
            (5, 17, "ascension"),
            (6, 7, "corpus_christi"),
            (6, 14, "sacred_heart"),
            (7, 5, "saints_peter_paul"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 16, "assumption"),
            (10, 18, "columbus_day"),
            (11, 1, "all_saints"),
            (11, 15, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2022,
        &[
            (1, 1, "new_year"),
            (1, 10, "epiphany"),
            (3, 21, "saint_joseph"),
            (4, 14, "holy_thursday"),
            (4, 15, "good_friday"),
            (5, 1, "labour_day"),
            (5, 30, "ascension"),
            (6, 20, "corpus_christi"),
            (6, 27, "sacred_heart"),
            (7, 4, "saints_peter_paul"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 15, "assumption"),
            (10, 17, "columbus_day"),
            (11, 7, "all_saints"),
            (11, 14, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2023,
        &[
            (1, 1, "new_year"),
            (1, 9, "epiphany"),
            (3, 20, "saint_joseph"),
            (4, 6, "holy_thursday"),
            (4, 7, "good_friday"),
            (5, 1, "labour_day"),
            (5, 22, "ascension"),
            (6, 12, "corpus_christi"),
            (6, 19, "sacred_heart"),
            (7, 3, "saints_peter_paul"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 21, "assumption"),
            (10, 16, "columbus_day"),
            (11, 6, "all_saints"),
            (11, 13, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2024,
        &[
            (1, 1, "new_year"),
            (1, 8, "epiphany"),
            (3, 25, "saint_joseph"),
            (3, 28, "holy_thursday"),
            (3, 29, "good_friday"),
            (5, 1, "labour_day"),
            (5, 13, "ascension"),
            (6, 3, "corpus_christi"),
            (6, 10, "sacred_heart"),
            (7, 1, "saints_peter_paul"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 19, "assumption"),
            (10, 14, "columbus_day"),
            (11, 4, "all_saints"),
            (11, 11, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2025,
        &[
            (1, 1, "new_year"),
            (1, 6, "epiphany"),
            (3, 24, "saint_joseph"),
            (4, 17, "holy_thursday"),
            (4, 18, "good_friday"),
            (5, 1, "labour_day"),
            (6, 2, "ascension"),
            (6, 23, "corpus_christi"),
            (6, 30, "sacred_heart"),
            (6, 30, "saints_peter_paul"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 18, "assumption"),
            (10, 13, "columbus_day"),
            (11, 3, "all_saints"),
            (11, 17, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2026,
        &[
            (1, 1, "new_year"),
            (1, 12, "epiphany"),
            (3, 23, "saint_joseph"),
            (4, 2, "holy_thursday"),
            (4, 3, "good_friday"),
            (5, 1, "labour_day"),
            (5, 18, "ascension"),
            (6, 8, "corpus_christi"),
            (6, 15, "sacred_heart"),
            (6, 29, "saints_peter_paul"),
            (7, 13, "chiquinquira"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 17, "assumption"),
            (10, 12, "columbus_day"),
            (11, 2, "all_saints"),
            (11, 16, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2027,
        &[
            (1, 1, "new_year"),
            (1, 11, "epiphany"),
            (3, 22, "saint_joseph"),
            (3, 25, "holy_thursday"),
            (3, 26, "good_friday"),
            (5, 1, "labour_day"),
            (5, 10, "ascension"),
            (5, 31, "corpus_christi"),
            (6, 7, "sacred_heart"),
            (7, 5, "saints_peter_paul"),
            (7, 12, "chiquinquira"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 16, "assumption"),
            (10, 18, "columbus_day"),
            (11, 1, "all_saints"),
            (11, 15, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2028,
        &[
            (1, 1, "new_year"),
            (1, 10, "epiphany"),
            (3, 20, "saint_joseph"),
            (4, 13, "holy_thursday"),
            (4, 14, "good_friday"),
            (5, 1, "labour_day"),
            (5, 29, "ascension"),
            (6, 19, "corpus_christi"),
            (6, 26, "sacred_heart"),
            (7, 3, "saints_peter_paul"),
            (7, 10, "chiquinquira"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 21, "assumption"),
            (10, 16, "columbus_day"),
            (11, 6, "all_saints"),
            (11, 13, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2029,
        &[
            (1, 1, "new_year"),
            (1, 8, "epiphany"),
            (3, 19, "saint_joseph"),
            (3, 29, "holy_thursday"),
            (3, 30, "good_friday"),
            (5, 1, "labour_day"),
            (5, 14, "ascension"),
            (6, 4, "corpus_christi"),
            (6, 11, "sacred_heart"),
            (7, 2, "saints_peter_paul"),
            (7, 9, "chiquinquira"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 20, "assumption"),
            (10, 15, "columbus_day"),
            (11, 5, "all_saints"),
            (11, 12, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2030,
        &[
            (1, 1, "new_year"),
            (1, 7, "epiphany"),
            (3, 25, "saint_joseph"),
            (4, 18, "holy_thursday"),
            (4, 19, "good_friday"),
            (5, 1, "labour_day"),
            (6, 3, "ascension"),
            (6, 24, "corpus_christi"),
            (7, 1, "sacred_heart"),
            (7, 1, "saints_peter_paul"),
            (7, 15, "chiquinquira"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 19, "assumption"),
            (10, 14, "columbus_day"),
            (11, 4, "all_saints"),
            (11, 11, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2031,
        &[
            (1, 1, "new_year"),
            (1, 6, "epiphany"),
            (3, 24, "saint_joseph"),
            (4, 10, "holy_thursday"),
            (4, 11, "good_friday"),
            (5, 1, "labour_day"),
            (5, 26, "ascension"),
            (6, 16, "corpus_christi"),
            (6, 23, "sacred_heart"),
            (6, 30, "saints_peter_paul"),
            (7, 14, "chiquinquira"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 18, "assumption"),
            (10, 13, "columbus_day"),
            (11, 3, "all_saints"),
            (11, 17, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2032,
        &[
            (1, 1, "new_year"),
            (1, 12, "epiphany"),
            (3, 22, "saint_joseph"),
            (3, 25, "holy_thursday"),
            (3, 26, "good_friday"),
            (5, 1, "labour_day"),
            (5, 10, "ascension"),
            (5, 31, "corpus_christi"),
            (6, 7, "sacred_heart"),
            (7, 5, "saints_peter_paul"),
            (7, 12, "chiquinquira"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 16, "assumption"),
            (10, 18, "columbus_day"),
            (11, 1, "all_saints"),
            (11, 15, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2033,
        &[
            (1, 1, "new_year"),
            (1, 10, "epiphany"),
            (3, 21, "saint_joseph"),
            (4, 14, "holy_thursday"),
            (4, 15, "good_friday"),
            (5, 1, "labour_day"),
            (5, 30, "ascension"),
            (6, 20, "corpus_christi"),
            (6, 27, "sacred_heart"),
            (7, 4, "saints_peter_paul"),
            (7, 11, "chiquinquira"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 15, "assumption"),
            (10, 17, "columbus_day"),
            (11, 7, "all_saints"),
            (11, 14, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2034,
        &[
            (1, 1, "new_year"),
            (1, 9, "epiphany"),
            (3, 20, "saint_joseph"),
            (4, 6, "holy_thursday"),
            (4, 7, "good_friday"),
            (5, 1, "labour_day"),
            (5, 22, "ascension"),
            (6, 12, "corpus_christi"),
            (6, 19, "sacred_heart"),
            (7, 3, "saints_peter_paul"),
            (7, 10, "chiquinquira"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 21, "assumption"),
            (10, 16, "columbus_day"),
            (11, 6, "all_saints"),
            (11, 13, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
    (
        2035,
        &[
            (1, 1, "new_year"),
            (1, 8, "epiphany"),
            (3, 19, "saint_joseph"),
            (3, 22, "holy_thursday"),
            (3, 23, "good_friday"),
            (5, 1, "labour_day"),
            (5, 7, "ascension"),
            (5, 28, "corpus_christi"),
            (6, 4, "sacred_heart"),
            (7, 2, "saints_peter_paul"),
            (7, 9, "chiquinquira"),
            (7, 20, "independence"),
            (8, 7, "boyaca"),
            (8, 20, "assumption"),
            (10, 15, "columbus_day"),
            (11, 5, "all_saints"),
            (11, 12, "cartagena"),
            (12, 8, "immaculate_conception"),
            (12, 25, "christmas"),
        ],
    ),
];

#[test]
fn colombia_2020_to_2035_match_the_independent_list() {
    assert_eq!(OFFICIAL.len(), 16);
    for (year, days) in OFFICIAL {
        let want: BTreeSet<NaiveDate> = days
            .iter()
            .map(|&(m, d, _)| NaiveDate::from_ymd_opt(*year, m, d).unwrap())
            .collect();
        // Rule by rule: the same holiday key on the same date.
        let want_keyed: BTreeSet<(NaiveDate, &str)> = days
            .iter()
            .map(|&(m, d, k)| (NaiveDate::from_ymd_opt(*year, m, d).unwrap(), k))
            .collect();
        let got_keyed: BTreeSet<(NaiveDate, &str)> = holidays::holidays("co", *year)
            .unwrap()
            .into_iter()
            .map(|h| (h.date, h.key))
            .collect();
        assert_eq!(got_keyed, want_keyed, "{year}");
        let got: BTreeSet<NaiveDate> = holidays::holidays("co", *year)
            .unwrap()
            .into_iter()
            .map(|h| h.date)
            .collect();
        let missing: Vec<_> = want.difference(&got).collect();
        let extra: Vec<_> = got.difference(&want).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{year}: missing {missing:?}, extra {extra:?}"
        );
        for d in &want {
            assert!(holidays::is_holiday("co", *d), "{d} should be a holiday");
        }
    }
}

#[test]
fn eighteen_holidays_until_2025_nineteen_from_2026_and_none_outside_the_list() {
    for year in 1984..=2100 {
        let list = holidays::colombia(year);
        // Ley 2578 de 2026 added the 19th.
        let count = if year >= 2026 { 19 } else { 18 };
        assert_eq!(list.len(), count, "{year}");
        assert!(list.iter().all(|h| h.date.year() == year));
        let set: BTreeSet<NaiveDate> = list.iter().map(|h| h.date).collect();
        let mut d = NaiveDate::from_ymd_opt(year, 1, 1).unwrap();
        while d.year() == year {
            assert_eq!(holidays::is_holiday("co", d), set.contains(&d), "{d}");
            d = d.succ_opt().unwrap();
        }
    }
    // Outside the precomputed table the rules still apply.
    assert!(holidays::is_holiday(
        "co",
        NaiveDate::from_ymd_opt(2300, 7, 20).unwrap()
    ));
    assert!(holidays::is_holiday(
        "co",
        NaiveDate::from_ymd_opt(1850, 12, 25).unwrap()
    ));
}

#[test]
fn unknown_rule_sets_close_nothing() {
    assert!(holidays::holidays("xx", 2026).is_none());
    assert!(!holidays::is_holiday(
        "xx",
        NaiveDate::from_ymd_opt(2026, 12, 25).unwrap()
    ));
    assert_eq!(holidays::RULE_SETS, &["co"]);
}

#[test]
fn chiquinquira_only_from_2026() {
    let jul = |y, d| NaiveDate::from_ymd_opt(y, 7, d).unwrap();
    // 2025: 9 July is a Wednesday; the law did not exist, so neither it nor Monday 14 closes.
    assert!(!holidays::is_holiday("co", jul(2025, 9)));
    assert!(!holidays::is_holiday("co", jul(2025, 14)));
    // 2026: Thursday 9 July, rest on Monday 13 (the Ministry of the Interior's announcement).
    assert!(!holidays::is_holiday("co", jul(2026, 9)));
    assert!(holidays::is_holiday("co", jul(2026, 13)));
    // 2029: 9 July is a Monday and stays there.
    assert!(holidays::is_holiday("co", jul(2029, 9)));
}
