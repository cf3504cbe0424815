//! Working-time arithmetic on calendars and the SLA clocks derived from event logs.

mod common;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Timelike, Utc};
use common::sla::*;
use mesa::model::desk::CalendarConfig;
use mesa::model::duration::Dur;
use mesa::model::ticket::{Clock, EventKind, Stamp};
use mesa::rules::calendar::{parse_ics, Calendar, Calendars};
use mesa::rules::sla::{self, ClockState, SegmentKind};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

fn config(id: &str, tz: &str, hours: &[(&str, &[&str])]) -> CalendarConfig {
    CalendarConfig {
        id: id.into(),
        name: id.into(),
        time_zone: tz.into(),
        always_open: false,
        hours: hours
            .iter()
            .map(|(d, l)| (d.to_string(), l.iter().map(|s| s.to_string()).collect()))
            .collect(),
        holidays: None,
        holidays_ics: None,
        closed: Vec::new(),
        open: BTreeMap::new(),
        description: None,
    }
}

const WEEK: &[&str] = &["07:00-12:00", "13:00-17:00"];

/// The sample desk's `laboral` calendar, as desk.yaml writes it.
fn laboral() -> Calendar {
    let mut c = config(
        "laboral",
        "America/Bogota",
        &[
            ("mon", WEEK),
            ("tue", WEEK),
            ("wed", WEEK),
            ("thu", WEEK),
            ("fri", WEEK),
            ("sat", &["08:00-12:00"]),
        ],
    );
    c.holidays = Some("co".into());
    c.closed = vec!["2026-12-24".into(), "2026-12-31".into()];
    Calendar::from_config(&c, Path::new(".")).unwrap()
}

/// Monday to Friday only, with Colombia's holidays.
fn weekdays() -> Calendar {
    let mut c = config(
        "weekdays",
        "America/Bogota",
        &[
            ("mon", WEEK),
            ("tue", WEEK),
            ("wed", WEEK),
            ("thu", WEEK),
            ("fri", WEEK),
        ],
    );
    c.holidays = Some("co".into());
    Calendar::from_config(&c, Path::new(".")).unwrap()
}

fn new_york() -> Calendar {
    let day: &[&str] = &["09:00-17:00"];
    let c = config(
        "ny",
        "America/New_York",
        &[
            ("mon", day),
            ("tue", day),
            ("wed", day),
            ("thu", day),
            ("fri", day),
            ("sat", day),
            ("sun", day),
        ],
    );
    Calendar::from_config(&c, Path::new(".")).unwrap()
}

fn always(tz: &str) -> Calendar {
    let mut c = config("24x7", tz, &[]);
    c.always_open = true;
    Calendar::from_config(&c, Path::new(".")).unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn due(cal: &Calendar, from: &str, minutes: i64) -> String {
    let t = cal.add_working(at(from), minutes * 60).unwrap();
    t.with_timezone(&cal.tz).to_rfc3339()
}

#[test]
fn lunch_break_is_not_working_time() {
    let cal = laboral();
    assert_eq!(
        due(&cal, "2026-11-03T11:00:00-05:00", 120),
        "2026-11-03T14:00:00-05:00"
    );
    // Exactly at the lunch break: the earliest instant is 12:00, not 13:00.
    assert_eq!(
        due(&cal, "2026-11-03T11:00:00-05:00", 60),
        "2026-11-03T12:00:00-05:00"
    );
    assert_eq!(
        cal.working_seconds(
            at("2026-11-03T11:30:00-05:00"),
            at("2026-11-03T13:30:00-05:00")
        ),
        3600
    );
}

#[test]
fn weekends_are_skipped() {
    assert_eq!(
        due(&laboral(), "2026-11-06T16:00:00-05:00", 120),
        "2026-11-07T09:00:00-05:00"
    );
    assert_eq!(
        due(&weekdays(), "2026-11-06T16:00:00-05:00", 120),
        "2026-11-09T08:00:00-05:00"
    );
}

#[test]
fn holidays_and_closed_dates_are_skipped() {
    // Monday 16 November 2026 is the Independence of Cartagena (moved from the 11th).
    assert_eq!(
        due(&weekdays(), "2026-11-13T16:00:00-05:00", 120),
        "2026-11-17T08:00:00-05:00"
    );
    // 24 December is closed by desk.yaml, 25 is Christmas, 26 is a Saturday.
    assert_eq!(
        due(&laboral(), "2026-12-23T16:00:00-05:00", 120),
        "2026-12-26T09:00:00-05:00"
    );
}

#[test]
fn a_ticket_opened_at_night_starts_counting_next_morning() {
    assert_eq!(
        due(&laboral(), "2026-11-03T22:30:00-05:00", 30),
        "2026-11-04T07:30:00-05:00"
    );
    assert_eq!(
        due(&laboral(), "2026-11-04T05:00:00-05:00", 30),
        "2026-11-04T07:30:00-05:00"
    );
}

#[test]
fn a_ticket_opened_on_a_holiday_waits_for_the_next_working_day() {
    // Monday 2 November 2026 is All Saints (moved from Sunday the 1st).
    assert_eq!(
        due(&laboral(), "2026-11-02T10:00:00-05:00", 120),
        "2026-11-03T09:00:00-05:00"
    );
    // Unless the desk opens that day by exception.
    let mut c = config("x", "America/Bogota", &[("mon", WEEK), ("tue", WEEK)]);
    c.holidays = Some("co".into());
    c.open
        .insert("2026-11-02".into(), vec!["09:00-11:00".into()]);
    let cal = Calendar::from_config(&c, Path::new(".")).unwrap();
    assert_eq!(
        due(&cal, "2026-11-02T10:00:00-05:00", 120),
        "2026-11-03T08:00:00-05:00"
    );
}

#[test]
fn a_target_longer_than_a_week() {
    // 72 h of working time from Monday 23 November 07:00: 45 h Mon-Fri, 4 h Saturday,
    // 9 h Monday 30, 9 h Tuesday 1 December, 5 h on Wednesday 2 December.
    assert_eq!(
        due(&laboral(), "2026-11-23T07:00:00-05:00", 72 * 60),
        "2026-12-02T12:00:00-05:00"
    );
    // Three weeks around the clock is exactly 21 days.
    assert_eq!(
        due(
            &always("America/Bogota"),
            "2026-11-23T07:00:00-05:00",
            21 * 24 * 60
        ),
        "2026-12-14T07:00:00-05:00"
    );
}

#[test]
fn dst_in_new_york() {
    // Spring forward on Sunday 8 March 2026 at 02:00: 24 real hours from Saturday noon EST end
    // at 13:00 EDT.
    let ny24 = always("America/New_York");
    assert_eq!(
        due(&ny24, "2026-03-07T12:00:00-05:00", 24 * 60),
        "2026-03-08T13:00:00-04:00"
    );
    // Business hours keep their wall-clock times on both sides of the change.
    let ny = new_york();
    assert_eq!(
        due(&ny, "2026-03-07T16:00:00-05:00", 120),
        "2026-03-08T10:00:00-04:00"
    );
    assert_eq!(
        due(&ny, "2026-10-31T16:00:00-04:00", 120),
        "2026-11-01T10:00:00-05:00"
    );
    // A whole-day interval lasts 23 h on the spring day and 25 h on the fall day.
    let whole = config("w", "America/New_York", &[("sun", &["00:00-24:00"])]);
    let whole = Calendar::from_config(&whole, Path::new(".")).unwrap();
    assert_eq!(
        whole.working_seconds(
            at("2026-03-07T00:00:00-05:00"),
            at("2026-03-10T00:00:00-04:00")
        ),
        23 * 3600
    );
    assert_eq!(
        whole.working_seconds(
            at("2026-10-31T00:00:00-04:00"),
            at("2026-11-03T00:00:00-05:00")
        ),
        25 * 3600
    );
    // A working interval starting inside the gap starts when the gap ends (03:00 EDT).
    let gap = config("g", "America/New_York", &[("sun", &["02:30-04:00"])]);
    let gap = Calendar::from_config(&gap, Path::new(".")).unwrap();
    assert_eq!(
        gap.working_seconds(
            at("2026-03-08T00:00:00-05:00"),
            at("2026-03-09T00:00:00-04:00")
        ),
        3600
    );
}

#[test]
fn a_calendar_that_never_opens_has_no_due_instant() {
    let mut c = config("never", "America/Bogota", &[]);
    c.holidays = Some("co".into());
    let cal = Calendar::from_config(&c, Path::new(".")).unwrap();
    assert_eq!(cal.add_working(at("2026-11-03T08:00:00-05:00"), 60), None);
}

#[test]
fn broken_calendar_entries_are_refused() {
    let bad_tz = config("x", "America/Bogot", &[("mon", WEEK)]);
    assert!(Calendar::from_config(&bad_tz, Path::new(".")).is_err());
    let overlap = config(
        "x",
        "America/Bogota",
        &[("mon", &["07:00-12:00", "11:00-13:00"])],
    );
    assert!(Calendar::from_config(&overlap, Path::new(".")).is_err());
    let backwards = config("x", "America/Bogota", &[("mon", &["12:00-07:00"])]);
    assert!(Calendar::from_config(&backwards, Path::new(".")).is_err());
}

#[test]
fn ics_all_day_events_close_dates() {
    let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nSUMMARY:Aniversario\r\nDTSTART;VALUE=DATE:20261110\r\nDTEND;VALUE=DATE:20261112\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Fundaci\r\n ón\r\nDTSTART;VALUE=DATE:20200305\r\nRRULE:FREQ=YEARLY;COUNT=10\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let dates = parse_ics(text).unwrap();
    let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
    assert!(dates.contains(d(2026, 11, 10)) && dates.contains(d(2026, 11, 11)));
    assert!(!dates.contains(d(2026, 11, 12)));
    assert!(dates.contains(d(2020, 3, 5)) && dates.contains(d(2029, 3, 5)));
    assert!(!dates.contains(d(2030, 3, 5)));
    // Timed events and complex rules are refused with the line.
    let timed = "BEGIN:VEVENT\nDTSTART:20261110T090000Z\nEND:VEVENT\n";
    assert_eq!(parse_ics(timed).unwrap_err().0, 2);
    let monthly = "BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261110\nRRULE:FREQ=MONTHLY\nEND:VEVENT\n";
    assert_eq!(parse_ics(monthly).unwrap_err().0, 3);
    assert!(parse_ics("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261110\n").is_err());
}

#[test]
fn ics_file_closes_a_working_day() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("cierres.ics"),
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261104\nEND:VEVENT\nEND:VCALENDAR\n",
    )
    .unwrap();
    let mut c = config(
        "x",
        "America/Bogota",
        &[("tue", WEEK), ("wed", WEEK), ("thu", WEEK)],
    );
    c.holidays_ics = Some("cierres.ics".into());
    let cal = Calendar::from_config(&c, dir.path()).unwrap();
    assert_eq!(
        due(&cal, "2026-11-03T16:00:00-05:00", 120),
        "2026-11-05T08:00:00-05:00"
    );
    c.holidays_ics = Some("missing.ics".into());
    assert!(Calendar::from_config(&c, dir.path()).is_err());
}

// ---- clocks from event logs ----

/// A problem classified at reception (as `mesa new` does) and started at `started`: the
/// classification is not attention, the start is.
fn incident(
    desk: &mesa::model::load::Desk,
    priority: &str,
    created: DateTime<FixedOffset>,
    started: DateTime<FixedOffset>,
) -> Vec<mesa::model::ticket::Event> {
    let c = ev(created, "lmartinez", EventKind::Created);
    let mut k = ev(created, "lmartinez", EventKind::Classified);
    k.ticket_type = Some(mesa::model::ticket::TicketType::Problem);
    k.priority = Some(priority.into());
    let s = ev(started, "lmartinez", EventKind::Started);
    let _ = desk;
    vec![c, k, s]
}

#[test]
fn response_clock_stops_at_first_attention_not_at_classification() {
    let desk = sample_desk();
    let events = incident(
        &desk,
        "alta",
        bogota(2026, 11, 3, 11, 0),
        bogota(2026, 11, 3, 13, 30),
    );
    let f = front(&desk, "261103-AAAAA", "ips-andina", events);
    let v = sla::clocks(&desk, &f, at("2026-11-03T15:00:00-05:00"));
    let r = v.iter().find(|c| c.clock == Clock::Response).unwrap();
    assert_eq!(r.state, ClockState::Met);
    assert_eq!(r.used_minutes, 90); // 11:00-12:00 and 13:00-13:30
    assert_eq!(r.left_minutes, 30);
    assert_eq!(r.due.unwrap().to_rfc3339(), "2026-11-03T14:00:00-05:00");
    assert_eq!(r.target, Some(Dur::hours(2)));
    assert_eq!(r.calendar, "laboral");
}

#[test]
fn response_clock_at_risk_then_breached() {
    let desk = sample_desk();
    let f = front(
        &desk,
        "261103-AAAAB",
        "ips-andina",
        vec![{
            let mut c = ev(bogota(2026, 11, 3, 8, 0), "lmartinez", EventKind::Created);
            c.priority = Some("alta".into());
            c
        }],
    );
    let v = sla::clocks(&desk, &f, at("2026-11-03T09:40:00-05:00"));
    assert_eq!(v[0].state, ClockState::AtRisk);
    let v = sla::clocks(&desk, &f, at("2026-11-03T09:00:00-05:00"));
    assert_eq!(v[0].state, ClockState::Running);
    let v = sla::clocks(&desk, &f, at("2026-11-03T14:00:00-05:00"));
    assert_eq!(v[0].state, ClockState::Breached);
    assert_eq!(v[0].used_minutes, 300);
    assert_eq!(v[0].due.unwrap().to_rfc3339(), "2026-11-03T10:00:00-05:00");
}

#[test]
fn resolution_clock_pauses_while_waiting_on_the_customer_and_resumes_on_reject() {
    let desk = sample_desk();
    // A 24 h request (bases-datos-estandar, no CAB) on the laboral calendar.
    let mut events = vec![ev(
        bogota(2026, 11, 3, 8, 0),
        "lmartinez",
        EventKind::Created,
    )];
    let mut k = ev(
        bogota(2026, 11, 3, 8, 0),
        "lmartinez",
        EventKind::Classified,
    );
    k.ticket_type = Some(mesa::model::ticket::TicketType::Request);
    k.request = Some("bases-datos-estandar".into());
    k.priority = Some("media".into());
    events.push(k);
    let mut r = ev(bogota(2026, 11, 3, 10, 0), "lmartinez", EventKind::Resolved);
    r.text = Some("done".into());
    events.push(r.clone());
    let mut j = ev(bogota(2026, 11, 5, 10, 0), "customer", EventKind::Rejected);
    j.reason = Some("missing columns".into());
    events.push(j);
    r.at = Stamp(bogota(2026, 11, 5, 11, 0));
    events.push(r);
    events.push(ev(
        bogota(2026, 11, 6, 9, 0),
        "customer",
        EventKind::Confirmed,
    ));
    let f = front(&desk, "261103-AAAAC", "ips-andina", events);
    let v = sla::clocks(&desk, &f, at("2026-11-10T00:00:00-05:00"));
    let res = v.iter().find(|c| c.clock == Clock::Resolution).unwrap();
    // 2 h before the first solution, 1 h after the rejection; the two days waiting on the
    // customer do not count.
    assert_eq!(res.used_minutes, 180);
    assert_eq!(res.state, ClockState::Met);
    let kinds: Vec<SegmentKind> = res.segments.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            SegmentKind::Running,
            SegmentKind::Paused,
            SegmentKind::Running,
            SegmentKind::Paused
        ]
    );
    assert!(res.stopped);
    // While paused no due instant is promised; the clock is paused.
    let v = sla::clocks(&desk, &f, at("2026-11-04T12:00:00-05:00"));
    let res = v.iter().find(|c| c.clock == Clock::Resolution).unwrap();
    assert_eq!(res.state, ClockState::Paused);
    assert_eq!(res.due, None);
    assert_eq!(res.used_minutes, 120);
}

#[test]
fn extension_gives_met_after_extension_and_report_keeps_it_apart() {
    let desk = sample_desk();
    let mut events = vec![ev(
        bogota(2026, 11, 3, 8, 0),
        "lmartinez",
        EventKind::Created,
    )];
    let mut k = ev(
        bogota(2026, 11, 3, 8, 0),
        "lmartinez",
        EventKind::Classified,
    );
    k.ticket_type = Some(mesa::model::ticket::TicketType::Request);
    k.request = Some("bases-datos-estandar".into());
    k.priority = Some("media".into());
    events.push(k);
    let mut x = ev(bogota(2026, 11, 4, 8, 0), "lmartinez", EventKind::Extended);
    x.target = Some(Dur::hours(40));
    x.reason = Some("twelve exports instead of one".into());
    events.push(x);
    let mut r = ev(bogota(2026, 11, 7, 10, 0), "lmartinez", EventKind::Resolved);
    r.text = Some("done".into());
    events.push(r);
    events.push(ev(
        bogota(2026, 11, 7, 11, 0),
        "customer",
        EventKind::Confirmed,
    ));
    let f = front(&desk, "261103-AAAAD", "ips-andina", events);
    let v = sla::clocks(&desk, &f, at("2026-11-10T00:00:00-05:00"));
    let res = v.iter().find(|c| c.clock == Clock::Resolution).unwrap();
    // Tuesday from 08:00: 4 h + 4 h; Wednesday to Friday 9 h each; Saturday 08:00-10:00: 37 h.
    assert_eq!(res.used_minutes, 37 * 60);
    assert_eq!(res.original_target, Some(Dur::hours(24)));
    assert_eq!(res.target, Some(Dur::hours(40)));
    assert_eq!(res.state, ClockState::MetAfterExtension);
    let (cals, _) = Calendars::new(&desk);
    let rep = mesa::output::report::build(
        &desk,
        &cals,
        &[f],
        None,
        None,
        None,
        at("2026-11-10T00:00:00-05:00"),
    );
    assert_eq!(rep.total.resolution.met_after_extension, 1);
    assert_eq!(rep.total.resolution.met, 0);
}

#[test]
fn planned_ticket_is_due_at_the_agreed_date() {
    let desk = sample_desk();
    let mut c = ev(bogota(2026, 11, 3, 8, 0), "lmartinez", EventKind::Created);
    c.priority = Some("planeado".into());
    c.agreed_date = Some(Stamp(bogota(2026, 11, 20, 17, 0)));
    let f = front(&desk, "261103-AAAAE", "ips-andina", vec![c]);
    let v = sla::clocks(&desk, &f, at("2026-11-10T00:00:00-05:00"));
    let res = v.iter().find(|c| c.clock == Clock::Resolution).unwrap();
    assert_eq!(res.due.unwrap().to_rfc3339(), "2026-11-20T17:00:00-05:00");
    assert_eq!(res.state, ClockState::Running);
    let v = sla::clocks(&desk, &f, at("2026-11-21T00:00:00-05:00"));
    assert_eq!(
        v.iter()
            .find(|c| c.clock == Clock::Resolution)
            .unwrap()
            .state,
        ClockState::Breached
    );
    assert_eq!(
        sla::promised_due(&desk, &f).unwrap().to_rfc3339(),
        "2026-11-20T17:00:00-05:00"
    );
    // An agreed date on a holiday disagrees with the calendar.
    let mut c = ev(bogota(2026, 11, 3, 8, 0), "lmartinez", EventKind::Created);
    c.priority = Some("planeado".into());
    c.agreed_date = Some(Stamp(bogota(2026, 11, 16, 10, 0)));
    let f = front(&desk, "261103-AAAAF", "ips-andina", vec![c]);
    let (cals, _) = Calendars::new(&desk);
    let problems = sla::target_problems(&desk, &cals, &f);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].0, "sla.due");
}

#[test]
fn promised_time_for_people() {
    let desk = sample_desk();
    let mut c = ev(
        bogota(2026, 11, 30, 16, 30),
        "lmartinez",
        EventKind::Created,
    );
    c.priority = Some("alta".into());
    let f = front(&desk, "261130-AAAAA", "ips-andina", vec![c]);
    let due = sla::promised_due(&desk, &f).unwrap();
    assert_eq!(due.to_rfc3339(), "2026-12-01T08:30:00-05:00");
    assert_eq!(
        sla::human_datetime(&due, "es"),
        "martes 1 de diciembre de 2026, 08:30"
    );
    assert_eq!(
        sla::human_datetime(&due, "en"),
        "Tuesday 1 December 2026, 08:30"
    );
    let d = chrono_tz::America::Bogota
        .with_ymd_and_hms(2026, 12, 7, 10, 30, 0)
        .unwrap();
    assert_eq!(
        sla::human_datetime(&d, "es"),
        "lunes 7 de diciembre de 2026, 10:30"
    );
    // A request promises its ANS on the entry's calendar.
    let mut c = ev(
        bogota(2026, 11, 30, 16, 30),
        "lmartinez",
        EventKind::Created,
    );
    c.priority = Some("media".into());
    let mut k = ev(
        bogota(2026, 11, 30, 16, 30),
        "lmartinez",
        EventKind::Classified,
    );
    k.ticket_type = Some(mesa::model::ticket::TicketType::Request);
    k.request = Some("anular-factura".into());
    let f = front(&desk, "261130-AAAAB", "ips-andina", vec![c, k]);
    assert_eq!(
        sla::promised_due(&desk, &f).unwrap().to_rfc3339(),
        "2026-11-30T16:40:00-05:00"
    );
}

#[test]
fn changing_a_target_recomputes_the_clock() {
    let mut desk = sample_desk();
    let f = front(
        &desk,
        "261103-AAAAG",
        "ips-andina",
        incident(
            &desk,
            "alta",
            bogota(2026, 11, 3, 8, 0),
            bogota(2026, 11, 3, 9, 30),
        ),
    );
    let now = at("2026-11-04T00:00:00-05:00");
    assert_eq!(sla::clocks(&desk, &f, now)[0].state, ClockState::Met);
    for p in &mut desk.config.priorities {
        if p.id == "alta" {
            p.response = Some(Dur::hours(1));
        }
    }
    let v = sla::clocks(&desk, &f, now);
    assert_eq!(v[0].state, ClockState::Breached);
    assert_eq!(v[0].target, Some(Dur::hours(1)));
}

// ---- properties ----

/// An oracle independent of `Calendar`: is minute `t` (UTC) working time on the laboral
/// calendar? Bogotá has no DST, so local time is UTC-5.
fn laboral_minute(t: DateTime<Utc>) -> bool {
    let local = t - Duration::hours(5);
    let d = local.date_naive();
    let m = local.hour() * 60 + local.minute();
    if mesa::rules::holidays::is_holiday("co", d)
        || ["2026-12-24", "2026-12-31"].contains(&d.format("%Y-%m-%d").to_string().as_str())
    {
        return false;
    }
    match d.weekday().num_days_from_monday() {
        0..=4 => (420..720).contains(&m) || (780..1020).contains(&m),
        5 => (480..720).contains(&m),
        _ => false,
    }
}

fn calendars() -> Vec<Calendar> {
    vec![
        laboral(),
        weekdays(),
        new_york(),
        always("America/New_York"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// A due instant is the earliest instant at which exactly the target's working time has
    /// elapsed.
    #[test]
    fn due_is_the_earliest_instant_with_the_target_elapsed(start in 0i64..(2 * 365 * 24 * 60), minutes in 1i64..6000, which in 0usize..4) {
        let cal = &calendars()[which];
        let from = at("2025-06-01T00:00:00Z") + Duration::minutes(start) + Duration::seconds(start % 60);
        let due = cal.add_working(from, minutes * 60).unwrap();
        prop_assert_eq!(cal.working_seconds(from, due), minutes * 60);
        prop_assert!(cal.working_seconds(from, due - Duration::seconds(1)) < minutes * 60);
    }

    /// Splitting a stretch at any instant (a pause and a resume) neither loses nor
    /// double-counts working time, and the count matches a minute-by-minute oracle.
    #[test]
    fn splitting_never_loses_or_double_counts(a in 0i64..(365 * 24 * 60), l1 in 0i64..20000, l2 in 0i64..20000, which in 0usize..4) {
        let cal = &calendars()[which];
        let t0 = at("2026-01-01T00:00:00Z") + Duration::minutes(a);
        let t1 = t0 + Duration::minutes(l1);
        let t2 = t1 + Duration::minutes(l2);
        prop_assert_eq!(cal.working_seconds(t0, t2), cal.working_seconds(t0, t1) + cal.working_seconds(t1, t2));
        if which == 0 && l1 < 6000 {
            let oracle = (0..l1).filter(|i| laboral_minute(t0 + Duration::minutes(*i))).count() as i64;
            prop_assert_eq!(cal.working_seconds(t0, t1), oracle * 60);
        }
    }

    /// Over stretches of up to three years (whole days and years are added from the
    /// calendar's tables), the working time is the sum, day by day, of each local day's
    /// working intervals clipped to the stretch (the work day minute by minute is checked
    /// against an oracle above).
    #[test]
    fn long_stretches_count_every_day_once(a in 0i64..(365 * 24 * 60), len in 0i64..(3 * 366 * 24 * 60), which in 0usize..3) {
        let cal = &calendars()[which];
        let from = at("2025-01-01T00:00:00Z") + Duration::minutes(a) + Duration::seconds(a % 61);
        let to = from + Duration::minutes(len);
        let mut day = from.with_timezone(&cal.tz).date_naive() - Duration::days(1);
        let last = to.with_timezone(&cal.tz).date_naive();
        let mut oracle = 0;
        while day <= last {
            for (s, e) in cal.day_intervals(day) {
                let (s, e) = (s.max(from), e.min(to));
                if s < e {
                    oracle += (e - s).num_seconds();
                }
            }
            day += Duration::days(1);
        }
        prop_assert_eq!(cal.working_seconds(from, to), oracle);
    }

    /// On random valid tickets, the clock's used time is the working time of its running
    /// segments; running plus paused working time is the working time from creation to the
    /// end; segments are contiguous.
    #[test]
    fn clocks_account_for_every_working_minute(seed in any::<u64>(), start in 0i64..(300 * 24 * 60), later in 0i64..(40 * 24 * 60)) {
        let desk = sample_desk();
        let (cals, _) = Calendars::new(&desk);
        let mut rng = Rng(seed);
        let created = bogota(2026, 1, 1, 0, 0) + Duration::minutes(start);
        let f = random_ticket(&desk, &mut rng, 1, created, 30);
        let last = f.events.last().unwrap().at.utc();
        let now = last + Duration::minutes(later);
        for v in sla::clocks_with(&desk, &cals, &f, now) {
            let Some(cal) = cals.get(&v.calendar) else { continue };
            let end = v.stopped_at.map(|t| t.with_timezone(&Utc)).unwrap_or(now);
            let mut running = 0;
            let mut paused = 0;
            let mut prev = created.with_timezone(&Utc);
            for s in &v.segments {
                let from = s.from.with_timezone(&Utc);
                prop_assert_eq!(from, prev);
                let to = s.to.map(|t| t.with_timezone(&Utc)).unwrap_or(now);
                let w = cal.working_seconds(from, to);
                match s.kind {
                    SegmentKind::Running => running += w,
                    SegmentKind::Paused => paused += w,
                }
                prev = to;
            }
            prop_assert_eq!(prev, end);
            prop_assert_eq!(v.used_seconds, running);
            prop_assert_eq!(running + paused, cal.working_seconds(created.with_timezone(&Utc), end));
            if let (Some(t), false) = (v.target, v.stopped) {
                prop_assert_eq!(v.state == ClockState::Breached, v.used_seconds > t.seconds());
            }
        }
    }
}

#[test]
fn sample_tickets_have_clocks_from_their_events() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let desk = sample_desk();
    let (tickets, diags) = mesa::model::load::load_tickets(root);
    assert!(diags.is_empty(), "{diags:?}");
    assert!(!tickets.is_empty());
    let (cals, cal_diags) = Calendars::new(&desk);
    assert!(cal_diags.is_empty());
    let now = at("2027-01-01T00:00:00-05:00");
    for t in &tickets {
        let views = sla::clocks_with(&desk, &cals, &t.front, now);
        assert!(
            views.iter().any(|v| v.clock == Clock::Response),
            "{}",
            t.front.id
        );
        for v in views {
            assert!(
                cals.get(&v.calendar).is_some() || v.target.is_none(),
                "{}",
                t.front.id
            );
        }
    }
    let _ = FixedOffset::west_opt(0);
}

#[test]
fn changing_a_calendar_recomputes_the_clock() {
    let mut desk = sample_desk();
    let mut c = ev(bogota(2026, 11, 3, 16, 30), "lmartinez", EventKind::Created);
    c.priority = Some("alta".into());
    let f = front(&desk, "261103-AAAAH", "ips-andina", vec![c]);
    let now = at("2026-11-03T16:45:00-05:00");
    assert_eq!(
        sla::clocks(&desk, &f, now)[0].due.unwrap().to_rfc3339(),
        "2026-11-04T08:30:00-05:00"
    );
    // The desk closes on 4 November: the same log is now due a day later.
    for cal in &mut desk.config.calendars {
        if cal.id == "laboral" {
            cal.closed.push("2026-11-04".into());
        }
    }
    assert_eq!(
        sla::clocks(&desk, &f, now)[0].due.unwrap().to_rfc3339(),
        "2026-11-05T08:30:00-05:00"
    );
}
