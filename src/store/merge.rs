//! The git merge driver for ticket files (`mesa merge-ticket BASE OURS THEIRS PATH`, registered
//! by `mesa hooks install`).
//!
//! A ticket's log is append-only, so two clones that changed the same ticket never really
//! conflict: the merged log is every event of both sides. The events both sides share (their
//! longest common subsequence) stay in place as anchors; between two anchors the events only
//! one side has are merged by time, ties broken by a canonical key (the event's JSON), so the
//! result does not depend on which side is "ours". Identical events (e.g. the same automatic
//! reminder made by `mesa sweep` in two clones) appear once, and so do the steps of one
//! customer email (same `received_id`) imported in two clones. Derived fields are then recomputed
//! with `workflow::replay`. Where the merged log breaks a rule (both clones resolved; one
//! closed while the other reopened) the driver still writes it and `mesa check` reports it for
//! a supervisor: nothing is chosen silently. Two different tickets on one path (different
//! `created` events) are refused. The same act recorded in both clones (both took the case on)
//! stays twice, and the replay counts the second as a repeat (`rules::repeats`).

use crate::model::diag::{Error, Result};
use crate::model::load::Desk;
use crate::model::ticket::{self, Event, Ticket};
use crate::rules::workflow;
use crate::tr;
use std::collections::HashMap;
use std::path::Path;

/// Merges three versions of a ticket file. `base` may be empty (the file was added on both
/// sides). The result is the same whichever side is `ours`.
pub fn merge_texts(
    desk: &Desk,
    path: &Path,
    base: &str,
    ours: &str,
    theirs: &str,
) -> Result<String> {
    let base_t = if base.trim().is_empty() {
        None
    } else {
        Some(ticket::parse(path, base)?)
    };
    let ours_t = ticket::parse(path, ours)?;
    let theirs_t = ticket::parse(path, theirs)?;
    let (o, t) = (&ours_t.front, &theirs_t.front);
    let same_created = match (o.events.first(), t.events.first()) {
        (Some(a), Some(b)) => key(a) == key(b),
        _ => true,
    };
    if o.id != t.id || !same_created {
        return Err(Error::Message(tr!(
            "merge.two_tickets",
            path = path.display(),
            id = o.id
        )));
    }
    let base_events: &[Event] = base_t
        .as_ref()
        .map(|b| b.front.events.as_slice())
        .unwrap_or(&[]);
    let events = union(base_events, &o.events, &t.events);

    let mut front = o.clone();
    let pick = |b: Option<String>, x: String, y: String| -> String {
        if Some(&x) == b.as_ref() {
            y
        } else if Some(&y) == b.as_ref() || x == y {
            x
        } else {
            x.max(y)
        }
    };
    let bf = base_t.as_ref().map(|b| &b.front);
    front.title = pick(
        bf.map(|b| b.title.clone()),
        o.title.clone(),
        t.title.clone(),
    );
    front.customer = pick(
        bf.map(|b| b.customer.clone()),
        o.customer.clone(),
        t.customer.clone(),
    );
    front.channel = pick(
        bf.map(|b| b.channel.clone()),
        o.channel.clone(),
        t.channel.clone(),
    );
    let req = |r: &ticket::Requester| serde_json::to_string(r).unwrap_or_default();
    let chosen = pick(
        bf.map(|b| req(&b.requester)),
        req(&o.requester),
        req(&t.requester),
    );
    if chosen == req(&t.requester) {
        front.requester = t.requester.clone();
    }
    front.events = events;
    let customer = desk.config.customer(&front.customer);
    let (state, _) = workflow::replay(desk.rules(), customer, &front.events);
    state.write_into(&mut front);
    let body = merge_body(
        base_t.as_ref().map(|b| b.body.as_str()).unwrap_or(""),
        &ours_t.body,
        &theirs_t.body,
    );
    Ok(Ticket {
        path: path.to_path_buf(),
        front,
        body,
    }
    .to_text())
}

/// The canonical key of an event: its JSON (fields in declaration order).
pub fn key(e: &Event) -> String {
    serde_json::to_string(e).unwrap_or_default()
}

fn order(e: &Event) -> (chrono::DateTime<chrono::Utc>, String) {
    (e.at.utc(), key(e))
}

/// Every event of both logs (and of the base, should a side have dropped one), once each.
pub fn union(base: &[Event], ours: &[Event], theirs: &[Event]) -> Vec<Event> {
    let mut merged = merge_logs(ours, theirs);
    // Base events a side removed by hand are kept: a merge never loses history.
    let mut have: HashMap<String, usize> = HashMap::new();
    for e in &merged {
        *have.entry(key(e)).or_default() += 1;
    }
    let mut missing = Vec::new();
    for e in base {
        let k = key(e);
        match have.get_mut(&k) {
            Some(n) if *n > 0 => *n -= 1,
            _ => missing.push(e.clone()),
        }
    }
    if !missing.is_empty() {
        merged = merge_logs(&merged, &missing);
    }
    // One customer email is one set of steps, whichever clone imported it and whenever (the
    // instant can differ when a clone had later events): the earliest of each kind stays.
    let mut seen = std::collections::HashSet::new();
    merged.retain(|e| match &e.received_id {
        Some(r) => seen.insert((e.event, r.clone())),
        None => true,
    });
    merged
}

/// Two logs merged around their longest common subsequence.
fn merge_logs(a: &[Event], b: &[Event]) -> Vec<Event> {
    let ka: Vec<String> = a.iter().map(key).collect();
    let kb: Vec<String> = b.iter().map(key).collect();
    let (n, m) = (a.len(), b.len());
    // lcs[i][j]: length of the LCS of a[i..] and b[j..].
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if ka[i] == kb[j] {
                lcs[at(i + 1, j + 1)] + 1
            } else {
                lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
            };
        }
    }
    let mut out = Vec::with_capacity(n + m);
    let (mut i, mut j) = (0, 0);
    let (mut ca, mut cb): (Vec<&Event>, Vec<&Event>) = (Vec::new(), Vec::new());
    while i < n || j < m {
        if i < n && j < m && ka[i] == kb[j] {
            flush(&mut out, &mut ca, &mut cb);
            out.push(a[i].clone());
            i += 1;
            j += 1;
        } else if j >= m || (i < n && lcs[at(i + 1, j)] >= lcs[at(i, j + 1)]) {
            ca.push(&a[i]);
            i += 1;
        } else {
            cb.push(&b[j]);
            j += 1;
        }
    }
    flush(&mut out, &mut ca, &mut cb);
    out
}

/// Appends two chunks (each in its own side's order) merged by time, then canonical key.
fn flush(out: &mut Vec<Event>, ca: &mut Vec<&Event>, cb: &mut Vec<&Event>) {
    let (mut i, mut j) = (0, 0);
    while i < ca.len() || j < cb.len() {
        let take_a = j >= cb.len() || (i < ca.len() && order(ca[i]) <= order(cb[j]));
        if take_a {
            out.push(ca[i].clone());
            i += 1;
        } else {
            out.push(cb[j].clone());
            j += 1;
        }
    }
    ca.clear();
    cb.clear();
}

/// The body is the description and the conversation: keep the base, then what each side
/// appended (in a fixed order); if a side rewrote the middle, keep both versions.
pub fn merge_body(base: &str, ours: &str, theirs: &str) -> String {
    if ours == theirs || theirs == base {
        return ours.to_string();
    }
    if ours == base {
        return theirs.to_string();
    }
    match (ours.strip_prefix(base), theirs.strip_prefix(base)) {
        (Some(x), Some(y)) => {
            if x.starts_with(y) {
                return ours.to_string();
            }
            if y.starts_with(x) {
                return theirs.to_string();
            }
            let (first, second) = if x <= y { (x, y) } else { (y, x) };
            let mut out = base.to_string();
            out.push_str(first);
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(second);
            out
        }
        _ => {
            let (first, second) = if ours <= theirs {
                (ours, theirs)
            } else {
                (theirs, ours)
            };
            let mut out = first.to_string();
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push('\n');
            out.push_str(second);
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ticket::{EventKind, Stamp};

    fn ev(at: &str, kind: EventKind, text: &str) -> Event {
        let mut e = Event::new(Stamp::parse(at).unwrap(), "lmartinez", kind);
        if !text.is_empty() {
            e.text = Some(text.into());
        }
        e
    }

    #[test]
    fn union_is_symmetric_and_dedupes() {
        let c = ev("2026-11-02T08:00:00-05:00", EventKind::Created, "");
        let k = ev(
            "2026-11-02T08:00:00-05:00",
            EventKind::Commented,
            "same instant",
        );
        let a1 = ev("2026-11-02T09:00:00-05:00", EventKind::Commented, "a");
        let b1 = ev("2026-11-02T08:30:00-05:00", EventKind::Commented, "b");
        let shared = ev("2026-11-03T09:00:00-05:00", EventKind::Commented, "both");
        let base = vec![c.clone(), k.clone()];
        let ours = vec![c.clone(), k.clone(), a1.clone(), shared.clone()];
        let theirs = vec![c.clone(), k.clone(), b1.clone(), shared.clone()];
        let x = union(&base, &ours, &theirs);
        let y = union(&base, &theirs, &ours);
        assert_eq!(x, y);
        assert_eq!(x, vec![c, k, b1, a1, shared]);
    }

    #[test]
    fn removed_base_events_come_back() {
        let c = ev("2026-11-02T08:00:00-05:00", EventKind::Created, "");
        let k = ev("2026-11-02T08:10:00-05:00", EventKind::Commented, "x");
        let out = union(
            &[c.clone(), k.clone()],
            std::slice::from_ref(&c),
            std::slice::from_ref(&c),
        );
        assert_eq!(out, vec![c, k]);
    }

    #[test]
    fn bodies_keep_both_appends() {
        let m = merge_body("desc\n", "desc\nours\n", "desc\ntheirs\n");
        assert_eq!(m, "desc\nours\ntheirs\n");
        assert_eq!(m, merge_body("desc\n", "desc\ntheirs\n", "desc\nours\n"));
        assert_eq!(merge_body("d\n", "d\n", "d\nt\n"), "d\nt\n");
    }
}
