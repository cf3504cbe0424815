//! The one CSV convention of every file mesa writes (the site's `reports/*.csv` and
//! `mesa report --format csv`): made for a spreadsheet opened by double-click in a Spanish
//! locale (Excel or LibreOffice with `es-CO`), where the comma is the decimal mark.
//!
//! - UTF-8 with a byte-order mark, so accents survive;
//! - `;` between fields, CRLF line ends, a field quoted only when it holds `;`, `"` or a line
//!   break;
//! - numbers with `,` as the decimal mark and no thousands separator;
//! - instants as `YYYY-MM-DD HH:MM` in the desk's time zone (what spreadsheets read as a date
//!   and time in any locale; RFC 3339 with its `T` and offset is read as text);
//! - an empty cell where a value is undefined (a rate with nothing to divide), so the column
//!   stays numeric;
//! - text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@` first) gets a leading
//!   `'`: ticket titles come from customers' emails.

use chrono::{DateTime, TimeZone};

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A decimal number with this many decimals.
    Dec(f64, usize),
    /// An instant as local date and time (the zone is the caller's choice: the desk's).
    Instant(chrono::NaiveDateTime),
    /// Undefined.
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }

    /// A decimal, or an empty cell where there is none.
    pub fn dec(x: Option<f64>, decimals: usize) -> Cell {
        x.filter(|x| x.is_finite())
            .map_or(Cell::Empty, |x| Cell::Dec(x, decimals))
    }

    /// An instant in zone `tz`.
    pub fn instant<Tz: TimeZone>(t: &DateTime<Tz>, tz: &impl TimeZone) -> Cell {
        Cell::Instant(t.with_timezone(tz).naive_local())
    }

    fn write(&self, out: &mut String) {
        match self {
            Cell::Text(s) => field(s, out),
            Cell::Int(n) => out.push_str(&n.to_string()),
            Cell::Dec(x, d) => out.push_str(&format!("{x:.d$}").replace('.', ",")),
            Cell::Instant(t) => out.push_str(&t.format("%Y-%m-%d %H:%M").to_string()),
            Cell::Empty => {}
        }
    }
}

fn field(s: &str, out: &mut String) {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let text = if formula {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    };
    if text.contains([';', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&text);
    }
}

/// A CSV file being written: a header line, then rows.
#[derive(Debug, Clone)]
pub struct Csv {
    out: String,
}

impl Csv {
    /// A file starting with its byte-order mark and the header line.
    pub fn new<S: AsRef<str>>(header: &[S]) -> Csv {
        let mut csv = Csv {
            out: String::from("\u{feff}"),
        };
        let cells: Vec<Cell> = header.iter().map(|h| Cell::text(h.as_ref())).collect();
        csv.row(&cells);
        csv
    }

    pub fn row(&mut self, cells: &[Cell]) {
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                self.out.push(';');
            }
            c.write(&mut self.out);
        }
        self.out.push_str("\r\n");
    }

    pub fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spanish_spreadsheet_convention() {
        let mut csv = Csv::new(&["Grupo", "Tasa", "Vence"]);
        let t = chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
            .unwrap()
            .and_hms_opt(9, 5, 0)
            .unwrap();
        csv.row(&[
            Cell::text("Crítica; urgente"),
            Cell::Dec(87.5, 2),
            Cell::Instant(t),
        ]);
        csv.row(&[
            Cell::text("=HYPERLINK(\"x\")"),
            Cell::dec(None, 2),
            Cell::Int(-3),
        ]);
        assert_eq!(
            csv.finish(),
            "\u{feff}Grupo;Tasa;Vence\r\n\"Crítica; urgente\";87,50;2026-11-20 09:05\r\n\"'=HYPERLINK(\"\"x\"\")\";;-3\r\n"
        );
    }
}
