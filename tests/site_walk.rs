//! A full build walks each ticket's log once (`site::tickets::Walked`): its page, its report
//! facts and its trend and load facts all read that one walk and one clock evaluation (with
//! the explanations the page shows). Each of those facts must be what its own walk gives, at
//! every instant of every sample ticket's log: just before and at each event (later events not
//! yet happened), a day after, and long after the last one.

mod common;

use chrono::{DateTime, Duration, Utc};
use mesa::model::load::{load_tickets, Desk};
use mesa::output::report::{self, By};
use mesa::output::{load, trend};
use mesa::rules::calendar::Calendars;
use mesa::rules::sla;

#[test]
fn one_walk_gives_every_use_the_facts_its_own_walk_gives() {
    let root = common::sample_root();
    let (desk, diags) = Desk::load(&root).expect("sample desk");
    assert!(diags.is_empty(), "{diags:?}");
    let (cals, _) = Calendars::new(&desk);
    let (tickets, diags) = load_tickets(&root);
    assert!(diags.is_empty(), "{diags:?}");
    assert!(tickets.len() >= 30, "the sample desk's tickets");
    let later: DateTime<Utc> = "2031-01-01T00:00:00Z".parse().expect("instant");
    let (mut compared, mut reported, mut explained) = (0, 0, 0);
    for t in &tickets {
        let mut instants: Vec<DateTime<Utc>> = t
            .front
            .events
            .iter()
            .flat_map(|e| {
                let at = e.at.utc();
                [at - Duration::minutes(1), at, at + Duration::days(1)]
            })
            .collect();
        instants.push(later);
        for now in instants {
            let w = sla::walk(&desk, &t.front, now);
            let views = sla::clocks_of_walk(&desk, &cals, &w, now);
            explained += views.iter().filter(|v| !v.why.is_empty()).count();
            let own = report::facts_of(&desk, &cals, &t.front, Some(By::Month), now);
            let shared = report::facts_of_walk(&desk, &t.front, &w, &views, Some(By::Month), now);
            match (own, shared) {
                (Some(a), Some(b)) => {
                    assert!(
                        a.key == b.key && a.figures == b.figures && a.watch == b.watch,
                        "{} at {now}: report facts differ",
                        t.front.id
                    );
                    reported += 1;
                }
                (None, None) => {}
                _ => panic!("{} at {now}: report facts present in one only", t.front.id),
            }
            assert_eq!(
                trend::facts_of(&desk, &cals, &t.front, now),
                trend::facts_of_walk(&w, &views, now),
                "{} at {now}: trend facts",
                t.front.id
            );
            assert_eq!(
                load::facts_of(&desk, &cals, &t.front, now),
                load::facts_of_walk(&t.front, &w, &views, now),
                "{} at {now}: load facts",
                t.front.id
            );
            compared += 1;
        }
    }
    // The comparison covered instants before a ticket existed, while it was open and after it
    // closed, with clocks that carry their explanations (which the facts must not read).
    assert!(compared > 300, "{compared} instants compared");
    assert!(
        reported > 200 && reported < compared,
        "{reported} of {compared} reported"
    );
    assert!(explained > 100, "{explained} explained clocks");
}
