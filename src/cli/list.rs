//! `mesa list`: the tickets of a desk as a table, CSV or JSON, filtered and sorted.
//!
//! A ticket whose file is unchanged comes from the facts cache
//! ([`crate::output::facts::ListFacts`]), no ticket is built: a settled one (closed, every
//! clock stopped) whole from its cached row; an open one from its cached row and clock
//! inputs, its clocks evaluated at the list's instant. Any other ticket is read, parsed and
//! its clocks evaluated once. `--format json` prints every clock in full and reads the files. The table is measured, then written through one buffered
//! writer, formatted on every core in blocks of rows.

use super::common::{open_desk, parse_stamp, Format, Global};
use super::view::{agent_name, people_format, priority_name, ListArgs, SortArg};
use crate::model::diag::{Diagnostic, Error, Result};
use crate::model::labels;
use crate::model::ticket::{self, Status, Ticket, TicketFront, TicketType};
use crate::output::facts::{self, Cache, ListFacts, ListRow, OpenRow};
use crate::output::site::fmt::Fmt;
use crate::rules::sla::{ClockState, ClockView};
use crate::tr;
use chrono::{DateTime, Utc};
use rayon::prelude::*;
use std::borrow::Cow;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// One listed ticket: what the table, CSV and JSON print and what the orders sort by.
struct Row {
    id: String,
    title: String,
    customer: String,
    status: Status,
    level: u8,
    priority: Option<String>,
    assignee: Option<String>,
    ticket_type: Option<TicketType>,
    path: PathBuf,
    /// A customer's email nobody acted on since.
    unread: bool,
    /// The instant of the log's last event (the "updated" order).
    updated: Option<DateTime<Utc>>,
    clocks: Vec<ClockView>,
}

impl Row {
    fn of_ticket(t: Ticket, clocks: Vec<ClockView>) -> Row {
        let f = t.front;
        Row {
            unread: crate::rules::workflow::unread_reply(&f.events).is_some(),
            updated: f.events.last().map(|e| e.at.utc()),
            id: f.id,
            title: f.title,
            customer: f.customer,
            status: f.status,
            level: f.level,
            priority: f.priority,
            assignee: f.assignee,
            ticket_type: f.ticket_type,
            path: t.path,
            clocks,
        }
    }

    /// A settled ticket's row from the cache (no clock runs, no unread email: see
    /// [`ListFacts::of`]).
    fn of_settled(r: ListRow, path: PathBuf, updated: DateTime<Utc>) -> Row {
        Row {
            id: r.id,
            title: r.title,
            customer: r.customer,
            status: r.status,
            level: r.level,
            priority: r.priority,
            assignee: r.assignee,
            ticket_type: r.ticket_type,
            path,
            unread: false,
            updated: Some(updated),
            clocks: Vec::new(),
        }
    }

    /// An unsettled ticket's row from the cache, with its clocks now.
    fn of_open(o: OpenRow, path: PathBuf, updated: DateTime<Utc>, clocks: Vec<ClockView>) -> Row {
        let mut row = Row::of_settled(o.row, path, updated);
        row.unread = o.unread;
        row.clocks = clocks;
        row
    }

    fn due(&self) -> Option<DateTime<chrono_tz::Tz>> {
        next_due(&self.clocks)
    }
}

/// A ticket's row, or why its file could not be read (both boxed: see `Found` in [`list`]).
type Listed = std::result::Result<Box<Row>, Box<Diagnostic>>;

/// The filters that read a ticket's fields (everything but the clocks).
struct Filter<'a> {
    a: &'a ListArgs,
    mine: Option<String>,
}

impl Filter<'_> {
    fn fields(
        &self,
        status: Status,
        level: u8,
        priority: Option<&String>,
        customer: &str,
        assignee: Option<&String>,
        unread: bool,
    ) -> bool {
        let a = self.a;
        (a.status.is_empty() || a.status.iter().any(|s| s == status.as_str()))
            && (!a.open || status.is_open())
            && (a.priority.is_empty() || priority.is_some_and(|p| a.priority.contains(p)))
            && (a.level.is_empty() || a.level.contains(&level))
            && (a.customer.is_empty() || a.customer.iter().any(|c| c == customer))
            && (a.assignee.is_empty() || assignee.is_some_and(|p| a.assignee.contains(p)))
            && self.mine.as_ref().is_none_or(|me| assignee == Some(me))
            && (!a.unread || unread)
            && (!a.triage || customer.is_empty())
    }

    fn front(&self, f: &TicketFront) -> bool {
        self.fields(
            f.status,
            f.level,
            f.priority.as_ref(),
            &f.customer,
            f.assignee.as_ref(),
            // Only asked when it filters: the log is walked for it.
            self.a.unread && crate::rules::workflow::unread_reply(&f.events).is_some(),
        )
    }

    fn settled(&self, r: &ListRow, unread: bool) -> bool {
        self.fields(
            r.status,
            r.level,
            r.priority.as_ref(),
            &r.customer,
            r.assignee.as_ref(),
            unread,
        )
    }
}

pub fn list(global: &Global, a: &ListArgs) -> Result<ExitCode> {
    facts::keep_freed_memory();
    // The ticket folders are listed and stat'ed while the desk loads.
    let root = global.desk_root()?;
    let (opened, entries) = rayon::join(
        || open_desk(global),
        || crate::model::scan::ticket_entries(&root),
    );
    let (desk, now) = opened?;
    let now = now.utc();
    let root = desk.root.clone();
    let due_before = a.due_before.as_deref().map(parse_stamp).transpose()?;
    let due_before = due_before.map(|d| d.utc());
    for s in &a.status {
        if !Status::ALL.iter().any(|x| x.as_str() == s) {
            let all: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
            return Err(Error::Usage(tr!(
                "cmd.unknown_status",
                id = s,
                list = all.join(", ")
            )));
        }
    }
    let mine = if a.mine {
        Some(
            crate::steps::resolve_actor(&desk, global.agent.as_deref())?
                .code
                .clone(),
        )
    } else {
        None
    };
    let filter = Filter { a, mine };
    let (cals, _) = crate::rules::calendar::Calendars::new(&desk);
    // The filters on clocks: breached, or a running clock due before `--due-before`.
    let by_clocks = |clocks: &[ClockView]| -> bool {
        (!a.breached || clocks.iter().any(|c| c.state == ClockState::Breached))
            && due_before.is_none_or(|before| {
                clocks
                    .iter()
                    .any(|c| !c.stopped && c.due.is_some_and(|d| d.with_timezone(&Utc) < before))
            })
    };
    // JSON prints every clock in full: a settled row does not keep them. The table and CSV
    // print no clock's explanation (`why`), so with the cache in use it is not written.
    let use_cache = global.csv || global.format == Format::Text;
    let cache = if use_cache {
        Cache::<ListFacts>::open(&root, "list", facts::stamp(&desk, "list"))
    } else {
        Cache::disabled()
    };
    // Per ticket, small (boxed rows and new records): 100,000 of them are collected, split
    // and moved, and inline rows made that a hundred megabytes of copies and fresh pages.
    type Seen = (Option<facts::Stat>, Option<Box<ListFacts>>, Option<u32>);
    type Found = (Option<Listed>, Seen);
    let found: Vec<Found> = entries
        .par_iter()
        .enumerate()
        .map_init(crate::model::scan::Reader::default, |reader, (i, e)| {
            let rel = &e.rel;
            let stat = e.stat.filter(|_| use_cache);
            let old = stat.as_ref().and_then(|s| cache.get(i, e.key(), s));
            let kept = old.and_then(|o| cache.decode(o));
            let live_kept = matches!(kept, Some(ListFacts::Live));
            let kept = match kept {
                Some(ListFacts::Open(o)) => match o.row.since().filter(|s| *s <= now) {
                    Some(since) => {
                        let row = filter.settled(&o.row, a.unread && o.unread).then(|| {
                            let clocks = crate::rules::sla::clocks_of_inputs_brief(
                                &desk, &cals, &o.inputs, now,
                            );
                            by_clocks(&clocks)
                                .then(|| Ok(Box::new(Row::of_open(*o, rel.clone(), since, clocks))))
                        });
                        return (row.flatten(), (stat, None, old));
                    }
                    None => Some(ListFacts::Open(o)),
                },
                k => k,
            };
            if let Some(ListFacts::Open(_)) = kept {
                // Its log goes on after this list's instant: read again, the record stays.
                let row = read_row(&root, rel, &filter, &by_clocks, |t| {
                    let w = crate::rules::sla::walk(&desk, t, now);
                    crate::rules::sla::clocks_of_walk_brief(&desk, &cals, &w, now)
                });
                return (row, (stat, None, old));
            }
            if let Some(ListFacts::Settled(row)) = kept {
                if let Some(since) = row.since().filter(|s| *s <= now) {
                    // A settled ticket has no running clock: `--due-before` never keeps it.
                    let keep = filter.settled(&row, false)
                        && (!a.breached || row.breached)
                        && due_before.is_none();
                    let row = keep.then(|| Ok(Box::new(Row::of_settled(row, rel.clone(), since))));
                    return (row, (stat, None, old));
                }
                // Settled after this list's instant: read again, the record stays.
                let row = read_row(&root, rel, &filter, &by_clocks, |t| {
                    let w = crate::rules::sla::walk(&desk, t, now);
                    crate::rules::sla::clocks_of_walk_brief(&desk, &cals, &w, now)
                });
                return (row, (stat, None, old));
            }
            let derive = use_cache && !live_kept;
            let (text, read_stat) = reader.read(&root, e);
            let parsed = text
                .map_err(|mut d| {
                    d.path = rel.clone();
                    d
                })
                .and_then(|text| ticket::parse(rel, &text));
            match parsed {
                Ok(mut t) => {
                    let selected = filter.front(&t.front);
                    // A ticket derived again is kept with its clocks now, selected or not;
                    // the clocks are evaluated once for both.
                    let walked = (selected || derive).then(|| {
                        let w = crate::rules::sla::walk(&desk, &t.front, now);
                        let clocks = if use_cache {
                            crate::rules::sla::clocks_of_walk_brief(&desk, &cals, &w, now)
                        } else {
                            crate::rules::sla::clocks_of_walk(&desk, &cals, &w, now)
                        };
                        (w, clocks)
                    });
                    let record = derive.then(|| {
                        Box::new(match &walked {
                            Some((w, clocks)) => ListFacts::of(&desk, &t.front, w, clocks, now),
                            None => ListFacts::Live,
                        })
                    });
                    let clocks = walked.map(|(_, clocks)| clocks);
                    let stat = read_stat.filter(|_| stat.is_some());
                    let row = match clocks {
                        Some(clocks) if selected && by_clocks(&clocks) => {
                            t.body = String::new();
                            Some(Ok(Box::new(Row::of_ticket(t, clocks))))
                        }
                        _ => None,
                    };
                    (row, (stat, record, old))
                }
                Err(d) => (
                    Some(Err(Box::new(d))),
                    (stat, derive.then(|| Box::new(ListFacts::Live)), old),
                ),
            }
        })
        .collect();
    let (results, seen): (Vec<_>, Vec<_>) = found.into_iter().unzip();
    let cacheable = seen.iter().filter(|(st, _, _)| st.is_some()).count();
    let save = use_cache
        && (seen.iter().any(|(st, r, _)| st.is_some() && r.is_some()) || cacheable != cache.len());
    // The next cache is written on another thread while the rows are sorted and printed: the
    // answer does not wait for it (the process does, before it exits).
    std::thread::scope(|scope| -> Result<()> {
        if save {
            scope.spawn(|| {
                cache.save(entries.iter().zip(&seen).filter_map(|(e, (st, rec, old))| {
                    let next = match (rec, old) {
                        (Some(r), _) => facts::Next::New(&**r),
                        (None, Some(o)) => facts::Next::Old(*o),
                        (None, None) => return None,
                    };
                    Some((e.key(), st.as_ref()?, next))
                }));
            });
        }
        let mut rows = Vec::with_capacity(results.len());
        for r in results.into_iter().flatten() {
            match r {
                Ok(row) => rows.push(row),
                Err(d) if !global.quiet => eprintln!("{d}"),
                Err(_) => {}
            }
        }
        let order = sort_rows(&rows, a.sort, &desk);
        let stdout = std::io::stdout();
        let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
        if global.csv {
            out.write_all(list_csv(&rows, &order, &desk).as_bytes())?;
        } else {
            match global.format {
                Format::Json => {
                    let items: Vec<serde_json::Value> = order
                        .iter()
                        .map(|&i| {
                            let r = &rows[i];
                            serde_json::json!({
                                "id": r.id, "title": r.title, "customer": r.customer,
                                "status": r.status, "level": r.level, "priority": r.priority,
                                "assignee": r.assignee, "type": r.ticket_type, "path": r.path,
                                "unread": r.unread,
                                "due": r.due().map(|d| d.to_rfc3339()),
                                "clocks": serde_json::to_value(&r.clocks).unwrap_or_default(),
                            })
                        })
                        .collect();
                    serde_json::to_writer_pretty(&mut out, &items).map_err(std::io::Error::from)?;
                    out.write_all(b"\n")?;
                }
                Format::Text => write_table(&mut out, &rows, &order, &desk)?,
            }
        }
        out.flush()?;
        drop(out);
        if global.format == Format::Text && !global.csv && !global.quiet {
            eprintln!("{}", tr!("cmd.listed", count = rows.len()));
        }
        // The process ends here: freeing 100,000 rows one by one (and handing the pages back) is
        // a tenth of a warm list's time for nothing.
        std::mem::forget(rows);
        Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Reads and parses one ticket, and its row when the filters keep it.
fn read_row(
    root: &std::path::Path,
    rel: &std::path::Path,
    filter: &Filter,
    by_clocks: &dyn Fn(&[ClockView]) -> bool,
    clocks_of: impl Fn(&TicketFront) -> Vec<ClockView>,
) -> Option<Listed> {
    let parsed = crate::model::front_matter::read_text(&root.join(rel))
        .map_err(|mut d| {
            d.path = rel.to_path_buf();
            d
        })
        .and_then(|text| ticket::parse(rel, &text));
    match parsed {
        Ok(mut t) => {
            if !filter.front(&t.front) {
                return None;
            }
            let clocks = clocks_of(&t.front);
            if !by_clocks(&clocks) {
                return None;
            }
            t.body = String::new();
            Some(Ok(Box::new(Row::of_ticket(t, clocks))))
        }
        Err(d) => Some(Err(Box::new(d))),
    }
}

/// The nearest due instant of a ticket's running clocks.
fn next_due(clocks: &[ClockView]) -> Option<DateTime<chrono_tz::Tz>> {
    clocks
        .iter()
        .filter(|c| !c.stopped)
        .filter_map(|c| c.due)
        .min_by_key(|d| d.with_timezone(&Utc))
}

/// "vie 27 nov 14:00 (en riesgo)": the nearest due time, short, with the worst clock state.
fn due_cell(clocks: &[ClockView], fmt: &Fmt) -> Cow<'static, str> {
    let Some(due) = next_due(clocks) else {
        return Cow::Borrowed("-");
    };
    let worst = clocks
        .iter()
        .filter(|c| !c.stopped)
        .map(|c| c.state)
        .max_by_key(|s| match s {
            ClockState::Breached => 3,
            ClockState::AtRisk => 2,
            _ => 1,
        });
    let when = fmt.short_datetime(due.with_timezone(&Utc));
    Cow::Owned(match worst {
        Some(s @ (ClockState::Breached | ClockState::AtRisk)) => {
            format!("{when} ({})", labels::clock_state(s.as_str()))
        }
        _ => when,
    })
}

/// The rows' positions in the asked order (a stable sort, on every core: ties keep the scan's
/// order).
fn sort_rows(rows: &[Box<Row>], sort: SortArg, desk: &crate::model::load::Desk) -> Vec<usize> {
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let rank = |p: &Option<String>| {
        p.as_deref()
            .and_then(|p| desk.config.priorities.iter().position(|x| x.id == p))
            .unwrap_or(usize::MAX)
    };
    let by_id = |x: &Row, y: &Row| x.id.cmp(&y.id);
    match sort {
        SortArg::Id => order.par_sort_by(|&x, &y| by_id(&rows[x], &rows[y])),
        SortArg::Due => {
            let due: Vec<Option<DateTime<chrono_tz::Tz>>> =
                rows.par_iter().map(|r| r.due()).collect();
            order.par_sort_by(|&x, &y| {
                match (due[x], due[y]) {
                    (Some(a), Some(b)) => a.cmp(&b),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                }
                .then_with(|| by_id(&rows[x], &rows[y]))
            })
        }
        SortArg::Priority => order.par_sort_by(|&x, &y| {
            rank(&rows[x].priority)
                .cmp(&rank(&rows[y].priority))
                .then_with(|| by_id(&rows[x], &rows[y]))
        }),
        SortArg::Updated => order.par_sort_by(|&x, &y| {
            rows[y]
                .updated
                .cmp(&rows[x].updated)
                .then_with(|| by_id(&rows[x], &rows[y]))
        }),
    }
    order
}

/// What the table prints in each column, looked up once per desk (statuses and priorities
/// have few values).
struct Cells {
    fmt: Fmt,
    statuses: Vec<(Status, String)>,
    /// A few entries: a search is cheaper than hashing each row's priority.
    priorities: Vec<(String, String)>,
    /// Every level's text (a level is a `u8`): no number is formatted per row.
    levels: Vec<String>,
    unread: String,
}

impl Cells {
    fn new(desk: &crate::model::load::Desk) -> Cells {
        Cells {
            fmt: people_format(desk),
            statuses: Status::ALL
                .iter()
                .map(|s| (*s, labels::status(*s)))
                .collect(),
            priorities: desk
                .config
                .priorities
                .iter()
                .map(|p| (p.id.clone(), priority_name(desk, &p.id)))
                .collect(),
            levels: (0..=u8::MAX).map(|l| l.to_string()).collect(),
            unread: tr!("inbox.unread"),
        }
    }

    fn of<'a>(&'a self, r: &'a Row, desk: &crate::model::load::Desk) -> [Cow<'a, str>; 8] {
        let status = self
            .statuses
            .iter()
            .find(|(s, _)| *s == r.status)
            .map_or_else(
                || Cow::Owned(labels::status(r.status)),
                |(_, l)| Cow::Borrowed(l.as_str()),
            );
        let priority = match r.priority.as_deref() {
            None => Cow::Borrowed("-"),
            Some(p) => match self.priorities.iter().find(|(id, _)| id == p) {
                Some((_, name)) => Cow::Borrowed(name.as_str()),
                None => Cow::Owned(priority_name(desk, p)),
            },
        };
        [
            Cow::Borrowed(r.id.as_str()),
            status,
            Cow::Borrowed(self.levels[usize::from(r.level)].as_str()),
            priority,
            Cow::Borrowed(r.assignee.as_deref().unwrap_or("-")),
            due_cell(&r.clocks, &self.fmt),
            Cow::Borrowed(r.customer.as_str()),
            if r.unread {
                Cow::Owned(format!("{} [{}]", r.title, self.unread))
            } else {
                Cow::Borrowed(r.title.as_str())
            },
        ]
    }
}

/// The text table: left-aligned columns, the last one unpadded; widths in characters, not
/// bytes. Measured on every core, then formatted in blocks on every core and written in order.
fn write_table(
    out: &mut impl Write,
    rows: &[Box<Row>],
    order: &[usize],
    desk: &crate::model::load::Desk,
) -> std::io::Result<()> {
    const N: usize = 8;
    let header: [String; N] = columns();
    let cells = Cells::new(desk);
    let widen = |mut w: [usize; N], cs: &[Cow<str>; N]| {
        for (i, c) in cs.iter().enumerate() {
            w[i] = w[i].max(c.chars().count());
        }
        w
    };
    let max = |a: [usize; N], b: [usize; N]| std::array::from_fn(|i| a[i].max(b[i]));
    let header_cells: [Cow<str>; N] = std::array::from_fn(|i| Cow::Borrowed(header[i].as_str()));
    let widths = rows
        .par_iter()
        .with_min_len(4096)
        .fold(|| [0usize; N], |w, r| widen(w, &cells.of(r, desk)))
        .reduce(|| [0usize; N], max);
    let widths = widen(widths, &header_cells);
    let line = |buf: &mut Vec<u8>, cs: &[Cow<str>; N]| {
        for (i, c) in cs.iter().enumerate() {
            buf.extend_from_slice(c.as_bytes());
            if i + 1 < N {
                let pad = widths[i] - c.chars().count() + 2;
                buf.resize(buf.len() + pad, b' ');
            }
        }
        buf.push(b'\n');
    };
    let mut head = Vec::new();
    line(&mut head, &header_cells);
    out.write_all(&head)?;
    let blocks: Vec<Vec<u8>> = order
        .par_chunks(4096)
        .map(|block| {
            let mut buf = Vec::with_capacity(block.len() * 128);
            for &i in block {
                line(&mut buf, &cells.of(&rows[i], desk));
            }
            buf
        })
        .collect();
    for b in &blocks {
        out.write_all(b)?;
    }
    Ok(())
}

/// `mesa list --format csv`: the same rows as the text table, in the one CSV convention
/// ([`crate::output::csv`]: BOM, `;`, CRLF, labels, dates a spreadsheet reads).
fn list_csv(rows: &[Box<Row>], order: &[usize], desk: &crate::model::load::Desk) -> String {
    use crate::output::csv::{Cell, Csv};
    let tz = desk
        .config
        .time_zone
        .parse::<chrono_tz::Tz>()
        .unwrap_or(chrono_tz::UTC);
    let mut csv = Csv::new(&columns());
    for &i in order {
        let r = &rows[i];
        csv.row(&[
            Cell::text(&r.id),
            Cell::text(labels::status(r.status)),
            Cell::Int(i64::from(r.level)),
            r.priority
                .as_deref()
                .map_or(Cell::Empty, |p| Cell::text(priority_name(desk, p))),
            r.assignee
                .as_deref()
                .map_or(Cell::Empty, |a| Cell::text(agent_name(desk, a))),
            r.due().map_or(Cell::Empty, |d| Cell::instant(&d, &tz)),
            Cell::text(
                desk.config
                    .customer(&r.customer)
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| r.customer.clone()),
            ),
            Cell::text(&r.title),
        ]);
    }
    csv.finish()
}

/// The list's columns, as the table and the CSV head them.
fn columns() -> [String; 8] {
    [
        tr!("list.col_id"),
        tr!("list.col_status"),
        tr!("list.col_level"),
        tr!("list.col_priority"),
        tr!("list.col_assignee"),
        tr!("list.col_due"),
        tr!("list.col_customer"),
        tr!("list.col_title"),
    ]
}
