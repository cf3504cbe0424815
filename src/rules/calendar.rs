//! Business calendars: a time zone, working intervals per weekday, holidays (a computed rule
//! set, an `.ics` file, extra closed dates) and dates opened by exception; or `always_open`.
//!
//! Working time is real elapsed time inside working intervals. Intervals are written in wall
//! clock time of the calendar's zone and turned into instants day by day, so a day with a DST
//! change is as long as it really is, and a wall time inside a DST gap starts at the first
//! instant after the gap. Arithmetic is in seconds; targets are whole minutes.

use crate::model::desk::CalendarConfig;
use crate::model::diag::Diagnostic;
use crate::model::load::Desk;
use crate::tr;
use chrono::{
    DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::Tz;
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// How far arithmetic looks for working time before giving up (a calendar that never opens).
const MAX_DAYS: i64 = 3 * 366;

/// A working interval of one day, as minutes from local midnight; `end` may be 1440.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// Parses "HH:MM-HH:MM" (an end of "00:00" or "24:00" means midnight at the end of the day).
    pub fn parse(s: &str) -> Option<Span> {
        let (a, b) = s.split_once('-')?;
        let start = minutes_of(a.trim())?;
        let end = match minutes_of(b.trim())? {
            0 => 1440,
            m => m,
        };
        (start < end && start < 1440).then_some(Span { start, end })
    }
}

fn minutes_of(s: &str) -> Option<u32> {
    if s == "24:00" {
        return Some(1440);
    }
    let t = NaiveTime::parse_from_str(s, "%H:%M").ok()?;
    Some(chrono::Timelike::hour(&t) * 60 + chrono::Timelike::minute(&t))
}

/// Closed dates read from an `.ics` file: single dates, and dates that recur every year.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IcsDates {
    pub dates: BTreeSet<NaiveDate>,
    /// (month, day, first year, last year inclusive) of `RRULE:FREQ=YEARLY` events.
    pub yearly: Vec<(u32, u32, i32, i32)>,
}

impl IcsDates {
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.dates.contains(&d)
            || self.yearly.iter().any(|&(m, day, from, to)| {
                d.month() == m && d.day() == day && (from..=to).contains(&d.year())
            })
    }
}

/// A calendar ready for arithmetic.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub id: String,
    pub name: String,
    pub tz: Tz,
    pub always_open: bool,
    /// Monday first.
    pub week: [Vec<Span>; 7],
    pub rules: Option<String>,
    pub ics: IcsDates,
    pub closed: HashSet<NaiveDate>,
    pub open: BTreeMap<NaiveDate, Vec<Span>>,
    /// Working intervals of each day as Unix seconds, built a year at a time on first use
    /// (turning wall times into instants is the costly part of the arithmetic).
    years: Arc<[OnceLock<YearTable>]>,
}

/// First and last year kept in tables; other years are computed day by day.
const TABLE_YEARS: (i32, i32) = (1900, 2200);

#[derive(Debug)]
struct YearTable {
    /// `index[d]..index[d + 1]` are the spans of the year's day `d` (0-based ordinal).
    index: Vec<u32>,
    spans: Vec<(i64, i64)>,
    /// `before[d]`: working seconds of the year's days before day `d` (`before[days]` is
    /// the year's total), so a run of whole days costs one subtraction, not a day each.
    before: Vec<i64>,
}

pub const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Calendar {
    /// Builds a calendar from its desk.yaml entry; `root` resolves `holidays_ics`. Problems
    /// come back as messages (the caller knows where the entry is).
    pub fn from_config(cfg: &CalendarConfig, root: &Path) -> Result<Calendar, String> {
        let tz: Tz = cfg
            .time_zone
            .parse()
            .map_err(|_| tr!("check.bad_time_zone", tz = cfg.time_zone))?;
        let mut week: [Vec<Span>; 7] = Default::default();
        for (day, list) in &cfg.hours {
            let i = WEEKDAYS
                .iter()
                .position(|w| w == day)
                .ok_or_else(|| tr!("check.bad_weekday", day = day))?;
            week[i] = parse_spans(list)?;
        }
        let rules = match &cfg.holidays {
            Some(r) if crate::rules::holidays::RULE_SETS.contains(&r.as_str()) => Some(r.clone()),
            Some(r) => return Err(tr!("check.unknown_holiday_rules", id = r)),
            None => None,
        };
        let ics = match &cfg.holidays_ics {
            Some(file) => {
                let path = root.join(file);
                let text = crate::model::fsread::read_text(&path)
                    .map_err(|d| tr!("calendar.ics_unreadable", file = file, error = d.message))?;
                parse_ics(&text).map_err(|(line, msg)| format!("{file}:{line}: {msg}"))?
            }
            None => IcsDates::default(),
        };
        let mut closed = HashSet::new();
        for d in &cfg.closed {
            closed.insert(parse_date(d)?);
        }
        let mut open = BTreeMap::new();
        for (d, list) in &cfg.open {
            open.insert(parse_date(d)?, parse_spans(list)?);
        }
        Ok(Calendar {
            id: cfg.id.clone(),
            name: cfg.name.clone(),
            tz,
            always_open: cfg.always_open,
            week,
            rules,
            ics,
            closed,
            open,
            years: (TABLE_YEARS.0..=TABLE_YEARS.1)
                .map(|_| OnceLock::new())
                .collect(),
        })
    }

    /// Whether the desk is closed all of `date` by a holiday or an extra closed date (an
    /// `open` exception wins).
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        !self.always_open
            && !self.open.contains_key(&date)
            && (self.closed.contains(&date)
                || self.ics.contains(date)
                || self
                    .rules
                    .as_deref()
                    .is_some_and(|r| crate::rules::holidays::is_holiday(r, date)))
    }

    /// The working spans of a local date.
    pub fn spans(&self, date: NaiveDate) -> &[Span] {
        const ALL_DAY: &[Span] = &[Span {
            start: 0,
            end: 1440,
        }];
        if self.always_open {
            return ALL_DAY;
        }
        if let Some(s) = self.open.get(&date) {
            return s;
        }
        if self.is_holiday(date) {
            return &[];
        }
        &self.week[date.weekday().num_days_from_monday() as usize]
    }

    /// The instant a wall time of this zone names: the earlier one when the wall time happens
    /// twice, the first instant after the gap when it does not happen.
    pub fn instant(&self, date: NaiveDate, minute: u32) -> DateTime<Utc> {
        local_instant(self.tz, date, minute)
    }

    /// The working intervals of a local date as Unix seconds.
    fn day_secs(&self, date: NaiveDate) -> Cow<'_, [(i64, i64)]> {
        let y = date.year();
        if (TABLE_YEARS.0..=TABLE_YEARS.1).contains(&y) {
            let table = self.years[(y - TABLE_YEARS.0) as usize].get_or_init(|| self.year_table(y));
            let d = date.ordinal0() as usize;
            Cow::Borrowed(&table.spans[table.index[d] as usize..table.index[d + 1] as usize])
        } else {
            Cow::Owned(self.compute_day(date))
        }
    }

    fn compute_day(&self, date: NaiveDate) -> Vec<(i64, i64)> {
        self.spans(date)
            .iter()
            .map(|s| {
                (
                    self.instant(date, s.start).timestamp(),
                    self.instant(date, s.end).timestamp(),
                )
            })
            .filter(|(a, b)| a < b)
            .collect()
    }

    fn year_table(&self, year: i32) -> YearTable {
        let mut index = Vec::with_capacity(367);
        let mut spans = Vec::with_capacity(366 * 3);
        let mut d = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
        while d.year() == year {
            index.push(spans.len() as u32);
            spans.extend(self.compute_day(d));
            d += Duration::days(1);
        }
        index.push(spans.len() as u32);
        let mut before = Vec::with_capacity(index.len());
        let mut sum = 0;
        before.push(0);
        for w in index.windows(2) {
            sum += spans[w[0] as usize..w[1] as usize]
                .iter()
                .map(|(a, b)| b - a)
                .sum::<i64>();
            before.push(sum);
        }
        YearTable {
            index,
            spans,
            before,
        }
    }

    /// The working intervals of a local date as instants.
    pub fn day_intervals(
        &self,
        date: NaiveDate,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let secs = self.day_secs(date);
        (0..secs.len()).map(move |i| {
            let (a, b) = secs[i];
            (at_secs(a), at_secs(b))
        })
    }

    /// The table of a year, when the year is in the tables.
    fn year(&self, year: i32) -> Option<&YearTable> {
        if !(TABLE_YEARS.0..=TABLE_YEARS.1).contains(&year) {
            return None;
        }
        Some(self.years[(year - TABLE_YEARS.0) as usize].get_or_init(|| self.year_table(year)))
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.tz).date_naive()
    }

    /// The working seconds of the whole local days from `d` up to `last` (excluded, or the
    /// end of `d`'s year) and how many days that is, when `d` lies strictly between `first`
    /// and `last`: such days lie entirely inside `[from, to)` and come from the year's table,
    /// so the cost grows with years, not days.
    fn whole_days(&self, d: NaiveDate, first: NaiveDate, last: NaiveDate) -> Option<(i64, i64)> {
        if d <= first || d >= last {
            return None;
        }
        let table = self.year(d.year())?;
        let start = d.ordinal0() as usize;
        let end = if last.year() == d.year() {
            last.ordinal0() as usize
        } else {
            table.before.len() - 1
        };
        Some((
            table.before[end] - table.before[start],
            (end - start) as i64,
        ))
    }

    /// Working seconds in `[from, to)` (0 when `to <= from`).
    pub fn working_seconds(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        if to <= from {
            return 0;
        }
        if self.always_open {
            return (to - from).num_seconds();
        }
        match (whole_seconds(from), whole_seconds(to)) {
            (Some(f), Some(t)) => self.working_seconds_in(from, to, f, t),
            _ => self.working_seconds_stepped(from, to),
        }
    }

    /// [`Calendar::working_seconds`] of two whole-second instants (every recorded stamp but
    /// a fractional one), `f` and `t` their Unix seconds: the days' intervals are compared
    /// as integers, with no instant made for each ([`Calendar::working_seconds_stepped`] is
    /// the same walk on instants, which the tests compare it with).
    fn working_seconds_in(&self, from: DateTime<Utc>, to: DateTime<Utc>, f: i64, t: i64) -> i64 {
        self.sum_days(from, to, |d| {
            let mut total = 0;
            for &(a, b) in self.day_secs(d).iter() {
                let (a, b) = (a.max(f), b.min(t));
                if a < b {
                    total += b - a;
                }
            }
            total
        })
    }

    /// Working seconds in `[from, to)`, day by day on instants: the reference for
    /// fractional-second instants.
    fn working_seconds_stepped(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        self.sum_days(from, to, |d| {
            let mut total = 0;
            for (a, b) in self.day_intervals(d) {
                let (a, b) = (a.max(from), b.min(to));
                if a < b {
                    total += (b - a).num_seconds();
                }
            }
            total
        })
    }

    /// The sum of `day(d)` over the local days that `[from, to)` touches, the whole days
    /// between its first and last from the year's tables ([`Calendar::whole_days`]).
    fn sum_days(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        day: impl Fn(NaiveDate) -> i64,
    ) -> i64 {
        let mut total = 0;
        // A day's intervals may start the evening before in UTC terms; start one day early.
        let first = self.local_date(from);
        let mut d = first - Duration::days(1);
        let last = self.local_date(to);
        while d <= last {
            if let Some((secs, days)) = self.whole_days(d, first, last) {
                total += secs;
                d += Duration::days(days);
                continue;
            }
            total += day(d);
            d += Duration::days(1);
        }
        total
    }

    /// The earliest instant at or after `from` at which `seconds` of working time have
    /// elapsed since `from`. `None` when the calendar has no working time within three years.
    pub fn add_working(&self, from: DateTime<Utc>, seconds: i64) -> Option<DateTime<Utc>> {
        if seconds <= 0 {
            return Some(from);
        }
        if self.always_open {
            return Some(from + Duration::seconds(seconds));
        }
        let Some(f) = whole_seconds(from) else {
            return self.add_working_stepped(from, seconds);
        };
        // As below, on the days' intervals as Unix seconds (`from` is a whole second).
        let mut left = seconds;
        let mut d = self.local_date(from) - Duration::days(1);
        let stop = d + Duration::days(MAX_DAYS);
        while d <= stop {
            for &(a, b) in self.day_secs(d).iter() {
                let a = a.max(f);
                if a >= b {
                    continue;
                }
                let len = b - a;
                if left <= len {
                    return Some(at_secs(a + left));
                }
                left -= len;
            }
            d += Duration::days(1);
        }
        None
    }

    /// [`Calendar::add_working`] day by day on instants: the reference for a fractional-second
    /// `from`.
    fn add_working_stepped(&self, from: DateTime<Utc>, seconds: i64) -> Option<DateTime<Utc>> {
        let mut left = seconds;
        let mut d = self.local_date(from) - Duration::days(1);
        let stop = d + Duration::days(MAX_DAYS);
        while d <= stop {
            for (a, b) in self.day_intervals(d) {
                let a = a.max(from);
                if a >= b {
                    continue;
                }
                let len = (b - a).num_seconds();
                if left <= len {
                    return Some(a + Duration::seconds(left));
                }
                left -= len;
            }
            d += Duration::days(1);
        }
        None
    }

    /// Whether `t` is inside a working interval.
    pub fn is_working(&self, t: DateTime<Utc>) -> bool {
        self.always_open || self.working_seconds(t, t + Duration::seconds(1)) > 0
    }

    /// The holidays and closed dates of `year`, sorted (for `mesa calendar`): (date, name key
    /// or `None` for a date closed by `closed:` or the `.ics` file).
    pub fn closed_dates(&self, year: i32) -> Vec<(NaiveDate, Option<&'static str>)> {
        if self.always_open {
            return Vec::new();
        }
        let mut out: BTreeMap<NaiveDate, Option<&'static str>> = BTreeMap::new();
        if let Some(rules) = &self.rules {
            for h in crate::rules::holidays::holidays(rules, year).unwrap_or_default() {
                out.insert(h.date, Some(h.key));
            }
        }
        let mut d = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
        while d.year() == year {
            if self.closed.contains(&d) || self.ics.contains(d) {
                out.entry(d).or_insert(None);
            }
            d += Duration::days(1);
        }
        out.retain(|d, _| !self.open.contains_key(d));
        out.into_iter().collect()
    }
}

/// An instant's Unix seconds when it is a whole second (no fraction, no leap second).
fn whole_seconds(t: DateTime<Utc>) -> Option<i64> {
    (t.timestamp_subsec_nanos() == 0).then(|| t.timestamp())
}

fn at_secs(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).unwrap_or_default()
}

/// The instant a wall time of zone `tz` names: the earlier one when the wall time happens
/// twice, the first instant after the gap when it does not happen. `minute` may be 1440
/// (midnight at the end of the day).
pub fn local_instant(tz: Tz, date: NaiveDate, minute: u32) -> DateTime<Utc> {
    let (date, minute) = if minute >= 1440 {
        (date + Duration::days(1), minute - 1440)
    } else {
        (date, minute)
    };
    let mut local = NaiveDateTime::new(date, NaiveTime::MIN) + Duration::minutes(minute as i64);
    for _ in 0..(26 * 60) {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(a, b) => return a.min(b).with_timezone(&Utc),
            LocalResult::None => local += Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&local)
}

fn parse_spans(list: &[String]) -> Result<Vec<Span>, String> {
    let mut spans = Vec::with_capacity(list.len());
    for s in list {
        spans.push(Span::parse(s).ok_or_else(|| tr!("check.bad_interval", value = s))?);
    }
    spans.sort_by_key(|s| s.start);
    if spans.windows(2).any(|w| w[1].start < w[0].end) {
        return Err(tr!("calendar.overlapping", list = list.join(", ")));
    }
    Ok(spans)
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| tr!("check.bad_date", value = s))
}

/// Parses the all-day events of an RFC 5545 calendar: `DTSTART;VALUE=DATE:YYYYMMDD`, an
/// optional `DTEND` (exclusive, for events of several days) and an optional
/// `RRULE:FREQ=YEARLY` with `COUNT` or `UNTIL`. Errors are (line, message).
pub fn parse_ics(text: &str) -> Result<IcsDates, (usize, String)> {
    // Unfold continuation lines (RFC 5545 3.1), remembering where each logical line began.
    let mut lines: Vec<(usize, String)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let raw = raw.trim_end_matches('\r');
        if let Some(rest) = raw.strip_prefix([' ', '\t']) {
            if let Some(last) = lines.last_mut() {
                last.1.push_str(rest);
                continue;
            }
        }
        lines.push((i + 1, raw.to_string()));
    }
    let mut out = IcsDates::default();
    let mut in_event = false;
    let mut start: Option<(usize, NaiveDate)> = None;
    let mut end: Option<NaiveDate> = None;
    let mut rrule: Option<(usize, String)> = None;
    let mut begin_line = 0;
    for (n, line) in lines {
        let (name_params, value) = line.split_once(':').unwrap_or((line.as_str(), ""));
        let mut parts = name_params.split(';');
        let name = parts.next().unwrap_or("").to_ascii_uppercase();
        let params: Vec<String> = parts.map(|p| p.to_ascii_uppercase()).collect();
        match name.as_str() {
            "BEGIN" if value.eq_ignore_ascii_case("VEVENT") => {
                in_event = true;
                begin_line = n;
                start = None;
                end = None;
                rrule = None;
            }
            "END" if value.eq_ignore_ascii_case("VEVENT") => {
                if !in_event {
                    return Err((n, tr!("calendar.ics_unbalanced")));
                }
                in_event = false;
                let Some((_, first)) = start else {
                    return Err((begin_line, tr!("calendar.ics_no_start")));
                };
                let last = end
                    .map(|e| e - Duration::days(1))
                    .filter(|e| *e >= first)
                    .unwrap_or(first);
                match &rrule {
                    None => {
                        let mut d = first;
                        while d <= last {
                            out.dates.insert(d);
                            d += Duration::days(1);
                        }
                    }
                    Some((rn, rule)) => {
                        if last != first {
                            return Err((*rn, tr!("calendar.ics_rrule_unsupported", rule = rule)));
                        }
                        let (from, to) = yearly_range(first, rule)
                            .ok_or((*rn, tr!("calendar.ics_rrule_unsupported", rule = rule)))?;
                        out.yearly.push((first.month(), first.day(), from, to));
                    }
                }
            }
            "DTSTART" | "DTEND" if in_event => {
                let date_only = params.iter().any(|p| p == "VALUE=DATE") || value.trim().len() == 8;
                if !date_only {
                    return Err((n, tr!("calendar.ics_not_all_day", value = value)));
                }
                let d = NaiveDate::parse_from_str(value.trim(), "%Y%m%d")
                    .map_err(|_| (n, tr!("calendar.ics_bad_date", value = value)))?;
                if name == "DTSTART" {
                    start = Some((n, d));
                } else {
                    end = Some(d);
                }
            }
            "RRULE" if in_event => rrule = Some((n, value.trim().to_ascii_uppercase())),
            _ => {}
        }
    }
    if in_event {
        return Err((begin_line, tr!("calendar.ics_unbalanced")));
    }
    Ok(out)
}

/// The years a simple yearly rule covers: `FREQ=YEARLY` with an optional `INTERVAL=1`,
/// `COUNT=n` or `UNTIL=YYYYMMDD[...]`; anything else is not supported.
fn yearly_range(first: NaiveDate, rule: &str) -> Option<(i32, i32)> {
    let mut yearly = false;
    let mut to = i32::MAX;
    for part in rule.split(';') {
        let (k, v) = part.split_once('=')?;
        match k {
            "FREQ" if v == "YEARLY" => yearly = true,
            "INTERVAL" if v == "1" => {}
            "COUNT" => to = first.year() + v.parse::<i32>().ok()?.checked_sub(1)?,
            "UNTIL" => {
                let d = NaiveDate::parse_from_str(v.get(..8)?, "%Y%m%d").ok()?;
                to = if (d.month(), d.day()) >= (first.month(), first.day()) {
                    d.year()
                } else {
                    d.year() - 1
                };
            }
            _ => return None,
        }
    }
    (yearly && to >= first.year()).then_some((first.year(), to))
}

/// Every calendar of a desk, built once for many clocks.
#[derive(Debug, Clone, Default)]
pub struct Calendars {
    pub list: Vec<Calendar>,
}

impl Calendars {
    /// Builds every calendar of the desk; broken ones are left out and reported.
    pub fn new(desk: &Desk) -> (Calendars, Vec<Diagnostic>) {
        let mut list = Vec::new();
        let mut diags = Vec::new();
        let path = desk.root.join(crate::model::load::DESK_FILE);
        for (i, cfg) in desk.config.calendars.iter().enumerate() {
            match Calendar::from_config(cfg, &desk.root) {
                Ok(c) => list.push(c),
                Err(msg) => diags.push(Diagnostic::new(
                    &path,
                    0,
                    0,
                    tr!("calendar.broken", id = cfg.id, index = i, error = msg),
                )),
            }
        }
        (Calendars { list }, diags)
    }

    pub fn get(&self, id: &str) -> Option<&Calendar> {
        self.list.iter().find(|c| c.id == id)
    }
}

/// The desk's calendars, built once and shared while the calendar configuration stays the
/// same (`mesa check` asks for them once per ticket, in parallel).
pub fn cached_calendars(desk: &Desk) -> std::sync::Arc<Calendars> {
    use std::sync::{Arc, Mutex};
    type Entry = (std::path::PathBuf, Vec<CalendarConfig>, Arc<Calendars>);
    static CACHE: Mutex<Option<Entry>> = Mutex::new(None);
    let mut guard = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    // Compared field by field (a few short strings): cheaper than any serialised key, and
    // this runs for every ticket.
    if let Some((root, config, cals)) = guard.as_ref() {
        if root == &desk.root && config == &desk.config.calendars {
            return cals.clone();
        }
    }
    let cals = Arc::new(Calendars::new(desk).0);
    *guard = Some((
        desk.root.clone(),
        desk.config.calendars.clone(),
        cals.clone(),
    ));
    cals
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::desk::CalendarConfig;

    fn calendar(
        tz: &str,
        week: &[(&str, &[&str])],
        edit: impl FnOnce(&mut CalendarConfig),
    ) -> Calendar {
        let mut c = CalendarConfig {
            id: "c".into(),
            name: "c".into(),
            time_zone: tz.into(),
            always_open: false,
            hours: week
                .iter()
                .map(|(d, l)| (d.to_string(), l.iter().map(|s| s.to_string()).collect()))
                .collect(),
            holidays: None,
            holidays_ics: None,
            closed: Vec::new(),
            open: BTreeMap::new(),
            description: None,
        };
        edit(&mut c);
        Calendar::from_config(&c, Path::new(".")).unwrap()
    }

    const WEEK: &[&str] = &["07:00-12:00", "13:00-17:00"];

    /// The sample desk's `laboral` (Bogotá, no daylight saving, Colombia's holidays, two
    /// closed dates).
    fn laboral() -> Calendar {
        let days = ["mon", "tue", "wed", "thu", "fri"].map(|d| (d, WEEK));
        let mut week: Vec<(&str, &[&str])> = days.to_vec();
        week.push(("sat", &["08:00-12:00"]));
        calendar("America/Bogota", &week, |c| {
            c.holidays = Some("co".into());
            c.closed = vec!["2026-12-24".into(), "2026-12-31".into()];
        })
    }

    /// Calendars the integer walk must agree with the instants' walk on: Bogotá, New York's
    /// daylight saving with spans across midnight and its gaps, an opened holiday.
    fn calendars() -> Vec<Calendar> {
        let night: &[&str] = &["00:00-01:30", "02:00-03:00", "22:00-24:00"];
        let all = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        vec![
            laboral(),
            calendar("America/New_York", &all.map(|d| (d, night)), |_| {}),
            calendar(
                "Europe/Madrid",
                &all.map(|d| (d, &["09:00-17:00"][..])),
                |c| {
                    c.holidays = Some("co".into());
                    c.open
                        .insert("2026-01-01".into(), vec!["10:00-11:00".into()]);
                },
            ),
        ]
    }

    /// The hand-worked cases of the issue: a target over a year's end (closed 31 December,
    /// New Year's Day a holiday, Saturday morning open, Sunday closed), midnight, a weekend.
    #[test]
    fn a_target_over_the_years_end() {
        let cal = laboral();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // Wed 30 Dec 16:00 + 10 h: 1 h that day, Sat 2 Jan 08-12 (4 h), Mon 4 Jan 07-12 (5 h).
        let from = at("2026-12-30T16:00:00-05:00");
        let due = cal.add_working(from, 10 * 3600).unwrap();
        assert_eq!(due, at("2027-01-04T12:00:00-05:00"));
        assert_eq!(cal.working_seconds(from, due), 36_000);
        // One second less is still within Monday's morning.
        let due = cal.add_working(from, 10 * 3600 - 1).unwrap();
        assert_eq!(due, at("2027-01-04T11:59:59-05:00"));
        // From midnight to midnight over the closed days: nothing.
        let (a, b) = (
            at("2026-12-31T00:00:00-05:00"),
            at("2027-01-02T00:00:00-05:00"),
        );
        assert_eq!(cal.working_seconds(a, b), 0);
        assert_eq!(
            cal.working_seconds(b, at("2027-01-02T09:30:00-05:00")),
            5_400
        );
        // Sunday 3 Jan counts nothing; Friday 17:00 to Monday 07:00 neither.
        assert_eq!(
            cal.working_seconds(
                at("2027-01-08T17:00:00-05:00"),
                at("2027-01-11T07:00:00-05:00")
            ),
            4 * 3600
        );
        // ... but 11 Jan 2027 is Epiphany moved to Monday: the Monday counts nothing either.
        assert_eq!(
            cal.working_seconds(
                at("2027-01-11T00:00:00-05:00"),
                at("2027-01-12T00:00:00-05:00")
            ),
            0
        );
    }

    /// The walk on Unix seconds gives what the walk on instants gives, on generated
    /// instants (whole seconds around midnights, spans' edges, daylight-saving changes,
    /// year ends) and lengths from zero to three years.
    #[test]
    fn integer_walk_agrees_with_the_instants_walk() {
        let cals = calendars();
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base = DateTime::parse_from_rfc3339("2024-10-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            .timestamp();
        let lengths = [
            0,
            1,
            59,
            60,
            3600,
            4 * 3600,
            86_400,
            7 * 86_400,
            400 * 86_400,
        ];
        for i in 0..20_000 {
            let cal = &cals[i % cals.len()];
            // Instants on the quarter hour or a second off it, over three years.
            let q = (next() % (3 * 366 * 96)) as i64 * 900;
            let off = [0, 0, 1, -1, 59][(next() % 5) as usize];
            let from = at_secs(base + q + off);
            let len = lengths[(next() % lengths.len() as u64) as usize];
            let len = len + (next() % 2) as i64 * (next() % 3600) as i64;
            let to = at_secs(base + q + off + len);
            assert_eq!(
                cal.working_seconds(from, to),
                cal.working_seconds_stepped(from, to),
                "{from} {to} on {}",
                cal.tz
            );
            assert_eq!(
                cal.add_working(from, len),
                if len <= 0 {
                    Some(from)
                } else {
                    cal.add_working_stepped(from, len)
                },
                "{from} + {len} s on {}",
                cal.tz
            );
        }
    }

    /// Fractional instants keep the instants' walk (its truncation per interval).
    #[test]
    fn fractional_instants_take_the_instants_walk() {
        let cal = laboral();
        let from = DateTime::parse_from_rfc3339("2026-12-30T16:00:00.5-05:00")
            .unwrap()
            .with_timezone(&Utc);
        let to = from + Duration::days(6);
        assert_eq!(
            cal.working_seconds(from, to),
            cal.working_seconds_stepped(from, to)
        );
        assert_eq!(
            cal.add_working(from, 3600),
            cal.add_working_stepped(from, 3600)
        );
        // 3,599 whole seconds that Wednesday, one on Saturday (from 08:00, the fraction gone).
        assert_eq!(
            cal.add_working(from, 3600).unwrap(),
            DateTime::parse_from_rfc3339("2027-01-02T08:00:01-05:00").unwrap()
        );
    }
}
