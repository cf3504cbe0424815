//! `mesa check`: validates the whole desk (config, knowledge base, every ticket) and reports
//! every problem in one run. Tickets are checked in parallel; positions of keys are looked up
//! only for files that have problems.

use crate::model::desk::DeskConfig;
use crate::model::diag::{suggest, Diagnostic};
use crate::model::front_matter::{self, Split};
use crate::model::load::{self, Desk};
use crate::model::ticket::{self, Ticket};
use crate::model::yamlpos::Positions;
use crate::rules::workflow;
use crate::tr;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

impl Desk {
    /// Loads the desk and refuses it when any of its config or kb files is broken (commands
    /// that change tickets need a sound desk; `mesa check` lists the problems). A knowledge
    /// base found sound before and unchanged since comes from [`crate::rules::kb_cache`]
    /// instead of being read and checked again; a refused one is always checked in full.
    pub fn open(root: &Path) -> crate::model::diag::Result<Desk> {
        let (desk, diags) = Desk::load_checked(root)?;
        if diags.is_empty() {
            Ok(desk)
        } else {
            Err(crate::model::diag::Error::Diagnostics(diags))
        }
    }

    /// The desk with the problems of its config and knowledge base (paths relative to
    /// `root`), what [`Desk::load`] and [`check_config`] find together. A verdict found clean
    /// before, with every input unchanged since, comes from [`crate::rules::kb_cache`] with
    /// no problems; any other is made in full (and kept when clean), so the problems are
    /// always a cold run's.
    pub fn load_checked(root: &Path) -> crate::model::diag::Result<(Desk, Vec<Diagnostic>)> {
        let (config, text) = load::load_config_text(&root.join(load::DESK_FILE))?;
        let snap = crate::rules::kb_cache::snapshot(root, &config, &text);
        if let Some(kb) = crate::rules::kb_cache::lookup(&snap) {
            let desk = Desk {
                root: root.to_path_buf(),
                config,
                kb,
            };
            return Ok((desk, Vec::new()));
        }
        let mut diags = Vec::new();
        let kb = load::load_kb(root, &mut diags);
        let desk = Desk {
            root: root.to_path_buf(),
            config,
            kb,
        };
        diags.extend(check_config(&desk));
        for d in &mut diags {
            d.path = crate::model::load::rel(root, &d.path);
        }
        if diags.is_empty() {
            crate::rules::kb_cache::store(&snap, &desk.kb);
        }
        Ok((desk, diags))
    }
}

/// A ticket's problems and, when it parsed, its id and path for the uniqueness check.
pub type TicketOutcome = (Vec<Diagnostic>, Option<(String, PathBuf)>);

/// Checks one ticket file's text (`path` relative to the desk).
pub fn check_ticket_text(desk: &Desk, path: &Path, text: &str) -> TicketOutcome {
    let split = match front_matter::split(path, text) {
        Ok(s) => s,
        Err(d) => return (vec![d], None),
    };
    let t = match front_matter::parse::<ticket::TicketFront>(path, &split) {
        Ok(front) => Ticket {
            path: path.to_path_buf(),
            front,
            body: String::new(),
        },
        Err(d) => return (vec![d], None),
    };
    let problems = ticket_problems(desk, &t);
    let id = Some((t.front.id.clone(), path.to_path_buf()));
    if problems.is_empty() {
        return (Vec::new(), id);
    }
    let positions = Positions::of(split.yaml);
    let diags = problems
        .into_iter()
        .map(|p| located(path, &split, &positions, p))
        .collect();
    (diags, id)
}

/// A problem found in a parsed ticket, positioned by the dotted path of its key.
pub struct Problem {
    pub key: String,
    pub message: String,
    pub hint: Option<String>,
}

fn located(path: &Path, split: &Split, positions: &Positions, p: Problem) -> Diagnostic {
    let (line, col) = front_matter::locate(split, positions, &p.key);
    Diagnostic::new(path, line, col, p.message).with_hint(p.hint)
}

fn problem(key: impl Into<String>, message: String, hint: Option<String>) -> Problem {
    Problem {
        key: key.into(),
        message,
        hint,
    }
}

fn hint_for<'a>(wrong: &str, known: impl IntoIterator<Item = &'a str>) -> Option<String> {
    suggest(wrong, known)
        .first()
        .map(|k| tr!("check.did_you_mean", name = format!("`{k}`")))
}

/// Every rule a parsed ticket can break: references, file naming, the log's replay and the
/// derived fields.
pub fn ticket_problems(desk: &Desk, t: &Ticket) -> Vec<Problem> {
    let cfg = &desk.config;
    let f = &t.front;
    let mut out = Vec::new();
    let stem = t
        .path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem != f.id {
        out.push(problem(
            "id",
            tr!("check.id_not_file_name", id = f.id, file = stem),
            None,
        ));
    }
    if !crate::model::ids::is_valid(&f.id) {
        out.push(problem(
            "id",
            tr!("check.bad_id", id = f.id),
            Some(tr!("check.bad_id_hint")),
        ));
    }
    if let Some(first) = f.events.first() {
        let want = Ticket::relative_path(&f.id, &first.at);
        let parent_ok = t
            .path
            .parent()
            .is_some_and(|p| p.ends_with(want.parent().unwrap_or(Path::new(""))));
        if !parent_ok {
            out.push(problem(
                "id",
                tr!("check.wrong_folder", want = want.display()),
                None,
            ));
        }
    } else {
        out.push(problem("events", tr!("check.no_events"), None));
    }
    let customer = cfg.customer(&f.customer);
    // An empty customer is a case opened from an email nobody recognised, awaiting triage.
    if customer.is_none() && !f.customer.is_empty() {
        out.push(problem(
            "customer",
            tr!("check.unknown_customer", id = f.customer),
            hint_for(&f.customer, cfg.customers.iter().map(|c| c.id.as_str())),
        ));
    }
    if cfg.channel(&f.channel).is_none() {
        out.push(problem(
            "channel",
            tr!("check.unknown_channel", id = f.channel),
            hint_for(&f.channel, cfg.channels.iter().map(|c| c.id.as_str())),
        ));
    }
    if f.title.trim().is_empty() {
        out.push(problem("title", tr!("check.empty", field = "title"), None));
    }
    // Text that reaches a mail header: the same rule `mesa new` applies to its arguments.
    let header_fields = [
        ("title", Some(f.title.as_str())),
        ("requester.name", Some(f.requester.name.as_str())),
        ("requester.email", f.requester.email.as_deref()),
        ("requester.phone", f.requester.phone.as_deref()),
    ];
    for (key, value) in header_fields {
        if let Some(p) = value.and_then(crate::model::input::header_text_problem) {
            out.push(problem(
                key,
                tr!("guard.bad_field", field = key, why = p),
                Some(tr!("guard.bad_field_hint")),
            ));
        }
    }
    if let Some(email) = f.requester.email.as_deref().map(str::trim) {
        if !email.is_empty() && email.parse::<lettre::Address>().is_err() {
            out.push(problem(
                "requester.email",
                tr!("mail.bad_requester_email", email = email),
                None,
            ));
        }
    }
    for (i, ev) in f.events.iter().enumerate() {
        let known = ev.by == "customer" || ev.by == "mesa" || cfg.agent(&ev.by).is_some();
        if !known {
            out.push(problem(
                format!("events.{i}.by"),
                tr!("check.unknown_actor", id = ev.by),
                hint_for(&ev.by, cfg.agents.iter().map(|a| a.code.as_str())),
            ));
        }
    }
    let (state, errors) = workflow::replay(desk.rules(), customer, &f.events);
    let rule_errors = !errors.is_empty();
    for e in errors {
        let key = match e.field {
            Some("event") | None => format!("events.{}.event", e.event),
            Some(field) => format!("events.{}.{field}", e.event),
        };
        out.push(problem(key, e.message, e.hint));
    }
    // Derived fields are only meaningful when the log itself replays cleanly.
    if !rule_errors {
        for (field, have, want) in state.differences(f) {
            out.push(problem(
                field,
                tr!(
                    "check.derived_mismatch",
                    field = field,
                    have = have,
                    want = want
                ),
                Some(tr!("check.derived_hint")),
            ));
        }
        // Recorded targets against the calendars (owned by `sla`).
        let cals = crate::rules::calendar::cached_calendars(desk);
        for (key, message) in crate::rules::sla::target_problems(desk, &cals, f) {
            out.push(problem(key, message, None));
        }
    }
    out
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn parse_interval(s: &str) -> bool {
    let Some((a, b)) = s.split_once('-') else {
        return false;
    };
    let parse = |t: &str| chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M").ok();
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a < b || b.format("%H:%M").to_string() == "00:00",
        _ => false,
    }
}

/// Checks references and value rules of `desk.yaml` and `kb/` that serde cannot express.
pub fn check_config(desk: &Desk) -> Vec<Diagnostic> {
    let cfg: &DeskConfig = &desk.config;
    let config_path = desk.root.join(load::DESK_FILE);
    let text = crate::model::fsread::read_text(&config_path).unwrap_or_default();
    let split = Split {
        yaml: &text,
        body: "",
        yaml_line: 1,
    };
    let mut problems: Vec<Problem> = Vec::new();
    let mut p = |key: String, message: String, hint: Option<String>| {
        problems.push(problem(key, message, hint))
    };

    if !crate::model::i18n::LANGUAGES.contains(&cfg.language.as_str()) {
        p(
            "language".into(),
            tr!("check.bad_language", lang = cfg.language),
            Some(tr!(
                "check.expected_one_of",
                list = crate::model::i18n::LANGUAGES.join(", ")
            )),
        );
    }
    if cfg.time_zone.parse::<chrono_tz::Tz>().is_err() {
        p(
            "time_zone".into(),
            tr!("check.bad_time_zone", tz = cfg.time_zone),
            Some(tr!("check.time_zone_hint")),
        );
    }
    let dup = |list: Vec<&str>,
               what: &str,
               key: &str,
               p: &mut dyn FnMut(String, String, Option<String>)| {
        let mut seen = HashSet::new();
        for (i, id) in list.iter().enumerate() {
            if !seen.insert(*id) {
                p(
                    format!("{key}.{i}"),
                    tr!("check.duplicate", what = what, id = id),
                    None,
                );
            }
        }
    };
    dup(
        cfg.channels.iter().map(|c| c.id.as_str()).collect(),
        "channel",
        "channels",
        &mut p,
    );
    dup(
        cfg.priorities.iter().map(|c| c.id.as_str()).collect(),
        "priority",
        "priorities",
        &mut p,
    );
    dup(
        cfg.calendars.iter().map(|c| c.id.as_str()).collect(),
        "calendar",
        "calendars",
        &mut p,
    );
    dup(
        cfg.customers.iter().map(|c| c.id.as_str()).collect(),
        "customer",
        "customers",
        &mut p,
    );
    dup(
        cfg.agents.iter().map(|c| c.code.as_str()).collect(),
        "agent",
        "agents",
        &mut p,
    );
    for (i, level) in cfg.contact_levels.iter().enumerate() {
        for channel in level.contacts.keys() {
            if cfg.channel(channel).is_none() {
                p(
                    format!("contact_levels.{i}.contacts.{channel}"),
                    tr!("check.unknown_channel", id = channel),
                    hint_for(channel, cfg.channels.iter().map(|c| c.id.as_str())),
                );
            }
        }
    }
    let levels: Vec<u8> = cfg.escalation.levels.iter().map(|l| l.level).collect();
    for (i, l) in levels.iter().enumerate() {
        if *l as usize != i + 1 {
            p(
                format!("escalation.levels.{i}.level"),
                tr!("check.levels_in_order", n = i + 1),
                None,
            );
        }
    }
    for (i, d) in cfg.escalation.direct.iter().enumerate() {
        if !levels.contains(d) {
            p(
                format!("escalation.direct.{i}"),
                tr!("check.unknown_level", level = d),
                None,
            );
        }
    }
    let calendar_ids: Vec<&str> = cfg.calendars.iter().map(|c| c.id.as_str()).collect();
    for (i, prio) in cfg.priorities.iter().enumerate() {
        if !valid_id(&prio.id) {
            p(
                format!("priorities.{i}.id"),
                tr!("check.bad_key_id", id = prio.id),
                None,
            );
        }
        if prio.planned == prio.response.is_some() {
            p(
                format!("priorities.{i}"),
                tr!("check.priority_response_or_planned", id = prio.id),
                None,
            );
        }
        if cfg.calendar(&prio.calendar).is_none() {
            p(
                format!("priorities.{i}.calendar"),
                tr!("check.unknown_calendar", id = prio.calendar),
                hint_for(&prio.calendar, calendar_ids.iter().copied()),
            );
        }
    }
    let g = &cfg.priority_guidance;
    for (i, rule) in g.rules.iter().enumerate() {
        if cfg.priority(&rule.priority).is_none() {
            p(
                format!("priority_guidance.rules.{i}.priority"),
                tr!("rule.unknown_priority", id = rule.priority),
                hint_for(&rule.priority, cfg.priorities.iter().map(|p| p.id.as_str())),
            );
        }
        for (field, value, list) in [
            ("impact", &rule.impact, &g.impact),
            ("urgency", &rule.urgency, &g.urgency),
            ("effort", &rule.effort, &g.effort),
        ] {
            if let Some(v) = value {
                if !list.iter().any(|l| &l.id == v) {
                    p(
                        format!("priority_guidance.rules.{i}.{field}"),
                        tr!("rule.unknown_level", field = field, id = v),
                        None,
                    );
                }
            }
        }
    }
    for (i, cal) in cfg.calendars.iter().enumerate() {
        // An inherited zone is the desk's, already reported above when wrong.
        if cal.time_zone != cfg.time_zone && cal.time_zone.parse::<chrono_tz::Tz>().is_err() {
            p(
                format!("calendars.{i}.time_zone"),
                tr!("check.bad_time_zone", tz = cal.time_zone),
                Some(tr!("check.time_zone_hint")),
            );
        }
        for (day, intervals) in &cal.hours {
            if !["mon", "tue", "wed", "thu", "fri", "sat", "sun"].contains(&day.as_str()) {
                p(
                    format!("calendars.{i}.hours.{day}"),
                    tr!("check.bad_weekday", day = day),
                    Some(tr!("check.weekday_hint")),
                );
            }
            for (j, iv) in intervals.iter().enumerate() {
                if !parse_interval(iv) {
                    p(
                        format!("calendars.{i}.hours.{day}.{j}"),
                        tr!("check.bad_interval", value = iv),
                        Some(tr!("check.interval_hint")),
                    );
                }
            }
        }
        if !cal.always_open && cal.hours.values().all(|v| v.is_empty()) {
            p(
                format!("calendars.{i}"),
                tr!("check.calendar_never_open", id = cal.id),
                None,
            );
        }
        if let Some(rules) = &cal.holidays {
            if !crate::rules::holidays::RULE_SETS.contains(&rules.as_str()) {
                p(
                    format!("calendars.{i}.holidays"),
                    tr!("check.unknown_holiday_rules", id = rules),
                    Some(tr!(
                        "check.expected_one_of",
                        list = crate::rules::holidays::RULE_SETS.join(", ")
                    )),
                );
            }
        }
        if let Some(ics) = &cal.holidays_ics {
            if std::fs::symlink_metadata(desk.root.join(ics)).is_err() {
                p(
                    format!("calendars.{i}.holidays_ics"),
                    tr!("check.missing_file", file = ics),
                    None,
                );
            } else if let Some((line, msg)) = crate::model::fsread::read_text(&desk.root.join(ics))
                .map_err(|d| (0, d.message))
                .and_then(|t| crate::rules::calendar::parse_ics(&t))
                .err()
            {
                p(
                    format!("calendars.{i}.holidays_ics"),
                    format!("{ics}:{line}: {msg}"),
                    None,
                );
            }
        }
        for (j, d) in cal.closed.iter().enumerate() {
            if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
                p(
                    format!("calendars.{i}.closed.{j}"),
                    tr!("check.bad_date", value = d),
                    None,
                );
            }
        }
        for (d, intervals) in &cal.open {
            if chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_err() {
                p(
                    format!("calendars.{i}.open.{d}"),
                    tr!("check.bad_date", value = d),
                    None,
                );
            }
            for iv in intervals {
                if !parse_interval(iv) {
                    p(
                        format!("calendars.{i}.open.{d}"),
                        tr!("check.bad_interval", value = iv),
                        Some(tr!("check.interval_hint")),
                    );
                }
            }
        }
    }
    if !(0.0..=1.0).contains(&cfg.sla.at_risk) {
        p(
            "sla.at_risk".into(),
            tr!("check.bad_fraction", value = cfg.sla.at_risk),
            None,
        );
    }
    if cfg.sla.auto_close_after <= cfg.sla.follow_up_after {
        p(
            "sla.auto_close_after".into(),
            tr!("check.auto_close_before_follow_up"),
            None,
        );
    }
    let request_ids: Vec<&str> = desk.kb.catalog.iter().map(|c| c.id.as_str()).collect();
    for (i, c) in cfg.customers.iter().enumerate() {
        if !valid_id(&c.id) {
            p(
                format!("customers.{i}.id"),
                tr!("check.bad_key_id", id = c.id),
                None,
            );
        }
        for (j, r) in c.contract.included.iter().enumerate() {
            if desk.kb.request(r).is_none() {
                p(
                    format!("customers.{i}.contract.included.{j}"),
                    tr!("rule.unknown_request", id = r),
                    hint_for(r, request_ids.iter().copied()),
                );
            }
        }
    }
    for (i, a) in cfg.agents.iter().enumerate() {
        if !valid_id(&a.code) {
            p(
                format!("agents.{i}.code"),
                tr!("check.bad_key_id", id = a.code),
                None,
            );
        }
        if !levels.contains(&a.level) {
            p(
                format!("agents.{i}.level"),
                tr!("check.unknown_level", level = a.level),
                None,
            );
        }
    }
    let positions = Positions::of(&text);
    let mut diags: Vec<Diagnostic> = problems
        .into_iter()
        .map(|pr| located(&config_path, &split, &positions, pr))
        .collect();
    diags.extend(check_kb(desk));
    diags
}

/// Page-level rules of the knowledge base: references to calendars, owners and cases, and
/// unique incident and check ids.
fn check_kb(desk: &Desk) -> Vec<Diagnostic> {
    let cfg = &desk.config;
    let mut diags = Vec::new();
    let mut page_problems = |path: &Path, problems: Vec<Problem>| {
        if problems.is_empty() {
            return;
        }
        let text = crate::model::fsread::read_text(path).unwrap_or_default();
        if let Ok(split) = front_matter::split(path, &text) {
            let positions = Positions::of(split.yaml);
            for pr in problems {
                diags.push(located(path, &split, &positions, pr));
            }
        }
    };
    for entry in &desk.kb.catalog {
        let mut pr = Vec::new();
        if !valid_id(&entry.id) {
            pr.push(problem(
                "title",
                tr!("check.bad_file_id", id = entry.id),
                None,
            ));
        }
        if cfg.calendar(&entry.front.calendar).is_none() {
            pr.push(problem(
                "calendar",
                tr!("check.unknown_calendar", id = entry.front.calendar),
                hint_for(
                    &entry.front.calendar,
                    cfg.calendars.iter().map(|c| c.id.as_str()),
                ),
            ));
        }
        if (entry.front.cab == crate::model::kb::CabRule::Conditional)
            != entry.front.cab_condition.is_some()
        {
            pr.push(problem("cab", tr!("check.cab_condition"), None));
        }
        page_problems(&entry.path, pr);
    }
    let mut incident_ids: HashMap<&str, &Path> = HashMap::new();
    for case in &desk.kb.playbook {
        let mut pr = Vec::new();
        for (i, inc) in case.front.incidents.iter().enumerate() {
            if let Some(other) = incident_ids.insert(inc.id.as_str(), &case.path) {
                pr.push(problem(
                    format!("incidents.{i}.id"),
                    tr!(
                        "check.duplicate_incident",
                        id = inc.id,
                        other = other.display()
                    ),
                    None,
                ));
            }
            let mut checks = HashSet::new();
            for (j, c) in inc.checks.iter().enumerate() {
                if !checks.insert(c.id.as_str()) {
                    pr.push(problem(
                        format!("incidents.{i}.checks.{j}.id"),
                        tr!("check.duplicate", what = "check", id = c.id),
                        None,
                    ));
                }
                if !cfg.playbook.owners.iter().any(|o| o.id == c.owner) {
                    pr.push(problem(
                        format!("incidents.{i}.checks.{j}.owner"),
                        tr!("check.unknown_owner", id = c.owner),
                        hint_for(&c.owner, cfg.playbook.owners.iter().map(|o| o.id.as_str())),
                    ));
                }
                if let Some(see) = &c.see {
                    if desk.kb.see_target(see).is_none() {
                        let targets: Vec<String> = desk
                            .kb
                            .playbook
                            .iter()
                            .flat_map(|c| {
                                c.front
                                    .incidents
                                    .iter()
                                    .map(move |n| format!("{}/{}", c.id, n.id))
                            })
                            .collect();
                        pr.push(problem(
                            format!("incidents.{i}.checks.{j}.see"),
                            tr!("check.unknown_see", id = see),
                            hint_for(see, targets.iter().map(|t| t.as_str())),
                        ));
                    }
                }
                if c.level == 0 || c.level > cfg.max_level() {
                    pr.push(problem(
                        format!("incidents.{i}.checks.{j}.level"),
                        tr!("check.unknown_level", level = c.level),
                        None,
                    ));
                }
            }
        }
        page_problems(&case.path, pr);
    }
    for a in &desk.kb.articles {
        let mut pr = Vec::new();
        if !valid_id(&a.id) {
            pr.push(problem("title", tr!("check.bad_file_id", id = a.id), None));
        }
        page_problems(&a.path, pr);
    }
    diags.extend(crate::model::links::check_links(desk));
    diags
}
