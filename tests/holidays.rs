//! Colombia's holidays computed by `mesa::rules::holidays` against the published lists.
//!
//! The oracle below is hard-coded from the official calendars published each year (Ley 51 de
//! 1983 as applied in the government's and the press's yearly lists; e.g. 2025's list with
//! Sacred Heart and Saints Peter and Paul both on 30 June, and 2026's 18 days from
//! festivos.com.co / Noticias Caracol; 2027 checked against elrinconcolombiano.com). A date
//! that appears twice in a year (two holidays on one Monday) is listed once.

use chrono::{Datelike, NaiveDate};
use mesa::rules::holidays;
use std::collections::BTreeSet;

const OFFICIAL: &[(i32, &[(u32, u32)])] = &[
    (
        2020,
        &[
            (1, 1),
            (1, 6),
            (3, 23),
            (4, 9),
            (4, 10),
            (5, 1),
            (5, 25),
            (6, 15),
            (6, 22),
            (6, 29),
            (7, 20),
            (8, 7),
            (8, 17),
            (10, 12),
            (11, 2),
            (11, 16),
            (12, 8),
            (12, 25),
        ],
    ),
    (
        2021,
        &[
            (1, 1),
            (1, 11),
            (3, 22),
            (4, 1),
            (4, 2),
            (5, 1),
            (5, 17),
            (6, 7),
            (6, 14),
            (7, 5),
            (7, 20),
            (8, 7),
            (8, 16),
            (10, 18),
            (11, 1),
            (11, 15),
            (12, 8),
            (12, 25),
        ],
    ),
    (
        2022,
        &[
            (1, 1),
            (1, 10),
            (3, 21),
            (4, 14),
            (4, 15),
            (5, 1),
            (5, 30),
            (6, 20),
            (6, 27),
            (7, 4),
            (7, 20),
            (8, 7),
            (8, 15),
            (10, 17),
            (11, 7),
            (11, 14),
            (12, 8),
            (12, 25),
        ],
    ),
    (
        2023,
        &[
            (1, 1),
            (1, 9),
            (3, 20),
            (4, 6),
            (4, 7),
            (5, 1),
            (5, 22),
            (6, 12),
            (6, 19),
            (7, 3),
            (7, 20),
            (8, 7),
            (8, 21),
            (10, 16),
            (11, 6),
            (11, 13),
            (12, 8),
            (12, 25),
        ],
    ),
    (
        2024,
        &[
            (1, 1),
            (1, 8),
            (3, 25),
            (3, 28),
            (3, 29),
            (5, 1),
            (5, 13),
            (6, 3),
            (6, 10),
            (7, 1),
            (7, 20),
            (8, 7),
            (8, 19),
            (10, 14),
            (11, 4),
            (11, 11),
            (12, 8),
            (12, 25),
        ],
    ),
    (
        2025,
        &[
            (1, 1),
            (1, 6),
            (3, 24),
            (4, 17),
            (4, 18),
            (5, 1),
            (6, 2),
            (6, 23),
            (6, 30),
            (7, 20),
            (8, 7),
            (8, 18),
            (10, 13),
            (11, 3),
            (11, 17),
            (12, 8),
            (12, 25),
        ],
    ),
    (
        2026,
        &[
            (1, 1),
            (1, 12),
            (3, 23),
            (4, 2),
            (4, 3),
            (5, 1),
            (5, 18),
            (6, 8),
            (6, 15),
            (6, 29),
            (7, 20),
            (8, 7),
            (8, 17),
            (10, 12),
            (11, 2),
            (11, 16),
            (12, 8),
            (12, 25),
        ],
    ),
    (
        2027,
        &[
            (1, 1),
            (1, 11),
            (3, 22),
            (3, 25),
            (3, 26),
            (5, 1),
            (5, 10),
            (5, 31),
            (6, 7),
            (7, 5),
            (7, 20),
            (8, 7),
            (8, 16),
            (10, 18),
            (11, 1),
            (11, 15),
            (12, 8),
            (12, 25),
        ],
    ),
    (
        2028,
        &[
            (1, 1),
            (1, 10),
            (3, 20),
            (4, 13),
            (4, 14),
            (5, 1),
            (5, 29),
            (6, 19),
            (6, 26),
            (7, 3),
            (7, 20),
            (8, 7),
            (8, 21),
            (10, 16),
            (11, 6),
            (11, 13),
            (12, 8),
            (12, 25),
        ],
    ),
    (
        2029,
        &[
            (1, 1),
            (1, 8),
            (3, 19),
            (3, 29),
            (3, 30),
            (5, 1),
            (5, 14),
            (6, 4),
            (6, 11),
            (7, 2),
            (7, 20),
            (8, 7),
            (8, 20),
            (10, 15),
            (11, 5),
            (11, 12),
            (12, 8),
            (12, 25),
        ],
    ),
    (
        2030,
        &[
            (1, 1),
            (1, 7),
            (3, 25),
            (4, 18),
            (4, 19),
            (5, 1),
            (6, 3),
            (6, 24),
            (7, 1),
            (7, 20),
            (8, 7),
            (8, 19),
            (10, 14),
            (11, 4),
            (11, 11),
            (12, 8),
            (12, 25),
        ],
    ),
];

#[test]
fn colombia_2020_to_2030_match_the_official_lists() {
    for (year, days) in OFFICIAL {
        let want: BTreeSet<NaiveDate> = days
            .iter()
            .map(|&(m, d)| NaiveDate::from_ymd_opt(*year, m, d).unwrap())
            .collect();
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
fn eighteen_holidays_every_year_and_none_outside_the_list() {
    for year in 1984..=2100 {
        let list = holidays::colombia(year);
        assert_eq!(list.len(), 18, "{year}");
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
