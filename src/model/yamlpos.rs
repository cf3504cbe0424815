//! Positions of keys in a YAML document. serde tells us *what* is wrong with a value but not
//! where a perfectly well-formed value sits; this walks the parser's events once and records the
//! line and column of every key and sequence item by its dotted path (`events.3.level`).
//! It is only run for files that have problems, so valid desks never pay for it.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// Dotted path -> (line, col), both 1-based, relative to the YAML text.
#[derive(Debug, Default)]
pub struct Positions {
    map: HashMap<String, (usize, usize)>,
}

enum Frame {
    Map {
        path: String,
        key: Option<String>,
        /// A sequence item with no key seen yet: the first key's position becomes the item's
        /// own (the parser's marker for a block mapping's start lies after its first key).
        first: bool,
    },
    Seq {
        path: String,
        index: usize,
    },
}

struct Collector {
    stack: Vec<Frame>,
    map: HashMap<String, (usize, usize)>,
}

fn join(path: &str, part: &str) -> String {
    if path.is_empty() {
        part.to_string()
    } else {
        format!("{path}.{part}")
    }
}

impl Collector {
    /// Path of the node about to start, recording its position; advances the parent frame.
    fn enter_value(&mut self, mark: Marker) -> Option<String> {
        let pos = (mark.line(), mark.col() + 1);
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Seq { path, index }) => {
                let p = join(path, &index.to_string());
                *index += 1;
                self.map.entry(p.clone()).or_insert(pos);
                Some(p)
            }
            Some(Frame::Map { path, key, .. }) => key.take().map(|k| join(path, &k)),
        }
    }
}

impl MarkedEventReceiver for Collector {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => {
                if let Some(Frame::Map { path, key, first }) = self.stack.last_mut() {
                    if key.is_none() {
                        let pos = (mark.line(), mark.col() + 1);
                        if *first && !path.is_empty() {
                            self.map.insert(path.clone(), pos);
                        }
                        *first = false;
                        let p = join(path, &value);
                        self.map.entry(p).or_insert(pos);
                        *key = Some(value);
                        return;
                    }
                }
                self.enter_value(mark);
            }
            Event::Alias(_) => {
                self.enter_value(mark);
            }
            Event::SequenceStart(..) => {
                let path = self.enter_value(mark).unwrap_or_default();
                self.stack.push(Frame::Seq { path, index: 0 });
            }
            Event::MappingStart(..) => {
                let in_seq = matches!(self.stack.last(), Some(Frame::Seq { .. }));
                let path = self.enter_value(mark).unwrap_or_default();
                self.stack.push(Frame::Map {
                    path,
                    key: None,
                    first: in_seq,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

/// Block nesting deeper than any desk file has (indentation plus `- ` items on one line,
/// in columns): the scanner's work grows with depth on every line, so such input is skipped.
fn deep_block(yaml: &str) -> bool {
    yaml.lines().any(|l| {
        let t = l.trim_start_matches(' ');
        let mut columns = l.len() - t.len();
        let mut r = t;
        while let Some(rest) = r.strip_prefix("- ").or_else(|| r.strip_prefix("? ")) {
            columns += 2;
            r = rest.trim_start_matches(' ');
        }
        columns > 512
    })
}

impl Positions {
    /// Collects the positions in `yaml`. A document the parser rejects yields the positions
    /// seen up to the error, which is still useful.
    ///
    /// Events are pulled one by one rather than through `Parser::load`, which recurses once per
    /// nesting level (a hostile `- - - ...` overflows the stack) and asserts on odd documents;
    /// the collector keeps its own stack on the heap. Huge inputs are skipped: diagnostics then
    /// fall back to the start of the front matter.
    pub fn of(yaml: &str) -> Positions {
        const MAX_INPUT: usize = 16 * 1024 * 1024;
        let mut collector = Collector {
            stack: Vec::new(),
            map: HashMap::new(),
        };
        if yaml.len() > MAX_INPUT || too_deep(yaml).is_some() || deep_block(yaml) {
            return Positions { map: collector.map };
        }
        let mut parser = Parser::new_from_str(yaml);
        while let Ok((ev, mark)) = parser.next_token() {
            match ev {
                Event::StreamEnd | Event::DocumentEnd => break,
                ev => collector.on_event(ev, mark),
            }
        }
        Positions { map: collector.map }
    }

    /// The position of `path`, or of its nearest ancestor that has one.
    pub fn find(&self, path: &str) -> Option<(usize, usize)> {
        let mut p = path;
        loop {
            if let Some(pos) = self.map.get(p) {
                return Some(*pos);
            }
            match p.rfind('.') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }
}

/// Deepest flow nesting (`[`, `{`) accepted. serde_yaml refuses more than 128 levels anyway,
/// but libyaml's scanner takes quadratic time to get there (100,000 `[` cost seconds).
pub const MAX_FLOW_DEPTH: usize = 128;

/// Where flow collections nest deeper than [`MAX_FLOW_DEPTH`] (line and column, 1-based), by a
/// quick scan that skips quoted scalars and comments. Brackets inside plain text (`a [b`) do
/// not count: only those that open a value do.
pub fn too_deep(yaml: &str) -> Option<(usize, usize)> {
    let b = yaml.as_bytes();
    let (mut depth, mut line, mut line_start) = (0usize, 1usize, 0usize);
    let mut prev = b'\n';
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                prev = b'\n';
            }
            b' ' | b'\t' | b'\r' => {}
            b'#' if prev == b'\n' || matches!(b[i - 1], b' ' | b'\t') => {
                while i + 1 < b.len() && b[i + 1] != b'\n' {
                    i += 1;
                }
            }
            b'"' | b'\'' if matches!(prev, b'\n' | b':' | b'-' | b',' | b'[' | b'{' | b'?') => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'\n' {
                        line += 1;
                        line_start = i + 1;
                    } else if c == b'"' && b[i] == b'\\' {
                        i += 1;
                    } else if b[i] == c {
                        if c == b'\'' && b.get(i + 1) == Some(&b'\'') {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    i += 1;
                }
                prev = c;
            }
            b'[' | b'{' if matches!(prev, b'\n' | b':' | b'-' | b',' | b'[' | b'{' | b'?') => {
                depth += 1;
                if depth > MAX_FLOW_DEPTH {
                    return Some((line, i - line_start + 1));
                }
                prev = c;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                prev = c;
            }
            _ => prev = c,
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_keys_and_items() {
        let yaml = "id: a\nevents:\n  - at: x\n    by: y\n  - at: z\n    level: 3\nnested:\n  deep:\n    key: 1\n";
        let p = Positions::of(yaml);
        assert_eq!(p.find("id"), Some((1, 1)));
        assert_eq!(p.find("events"), Some((2, 1)));
        assert_eq!(p.find("events.1.level"), Some((6, 5)));
        assert_eq!(p.find("events.1"), Some((5, 5)));
        assert_eq!(p.find("nested.deep.key"), Some((9, 5)));
        assert_eq!(p.find("nested.deep"), Some((8, 3)));
        assert_eq!(p.find("events.1.missing"), Some((5, 5)));
    }
}
