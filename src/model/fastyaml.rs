//! A fast path for reading the plain block YAML that mesa itself writes (and people write by
//! hand in the same style): block mappings and sequences, plain, single- and double-quoted
//! scalars on one line, and literal block scalars (`|`, `|-`, `|+`).
//!
//! Why: `mesa check` reads every ticket of a desk, and a libyaml-style parser spends most of
//! the check's time on them. This reader only ever *succeeds* on input whose meaning it is sure
//! of, and gives the same value `serde_yaml` would; anything else (flow collections, anchors,
//! tags, multi-line plain or quoted scalars, folded scalars, tabs, odd indentation, numbers in
//! unusual forms, deserialisation errors) makes it return `None`, and the caller parses the
//! text again with `serde_yaml`, which also produces the exact error message and position.
//!
//! [`from_str`] reads the lines into the caller's type as serde asks for each value, with no
//! tree in between; [`from_str_tree`] builds the tree first. Both share the rules for lines,
//! entries and items (`Parser::map_entry`, `Parser::seq_item`, `Parser::value`), and the tests
//! compare them.

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};
use std::borrow::Cow;
use std::fmt;

/// Deepest nesting the fast path accepts; deeper documents go to `serde_yaml` and its limits.
const MAX_DEPTH: usize = 48;

/// Parses `yaml` into `T` if it is in the simple subset and deserialises without error.
///
/// The text is read straight into `T`'s fields, line by line as `T` asks for them, with no
/// tree in between (building the tree and then walking it was a quarter of a cold `mesa
/// check`). It answers exactly as [`from_str_tree`] does: the same lines are accepted the same
/// way, a value `T` skips is still read to the end, and anything else declines.
pub fn from_str<T: DeserializeOwned>(yaml: &str) -> Option<T> {
    let mut p = Parser::new(yaml)?;
    let value = T::deserialize(Stream {
        p: &mut p,
        at: At::Block(0),
    })
    .ok()?;
    p.skip_blank();
    (p.pos >= p.lines.len()).then_some(value)
}

/// The reference reader [`from_str`] must agree with: the whole document as a tree first,
/// then `T` from the tree. Kept for the tests that compare the two.
pub fn from_str_tree<T: DeserializeOwned>(yaml: &str) -> Option<T> {
    let node = parse(yaml)?;
    T::deserialize(De(&node)).ok()
}

#[derive(Debug, PartialEq)]
enum Node<'a> {
    Scalar { text: Cow<'a, str>, plain: bool },
    Map(Vec<(&'a str, Node<'a>)>),
    Seq(Vec<Node<'a>>),
}

#[derive(Clone, Copy)]
struct Line<'a> {
    /// Column where `text` starts.
    indent: usize,
    /// The line without its indentation and line ending.
    text: &'a str,
    /// Blank or comment-only.
    skip: bool,
}

struct Parser<'a> {
    lines: Vec<Line<'a>>,
    pos: usize,
    depth: usize,
}

/// The whole document as a tree, or `None` when it is outside the subset.
fn parse(yaml: &str) -> Option<Node<'_>> {
    let mut p = Parser::new(yaml)?;
    let node = p.block(0)?;
    p.skip_blank();
    if p.pos < p.lines.len() {
        return None;
    }
    Some(node)
}

impl<'a> Parser<'a> {
    /// The document's lines, positioned at its first line, or `None` when the text is outside
    /// the subset before any line is read (control characters, tabs leading a line, nothing
    /// but blank lines, a first line that is indented or a `---`/`...` marker).
    fn new(yaml: &'a str) -> Option<Parser<'a>> {
        if !plain_text(yaml.as_bytes()) {
            return None;
        }
        let mut lines = Vec::with_capacity(yaml.len() / 24 + 1);
        let bytes = yaml.as_bytes();
        let mut start = 0;
        // The same lines as `yaml.split('\n')`, found with one vectorised search for the whole
        // text instead of one per line.
        let ends = memchr::memchr_iter(b'\n', bytes).chain(std::iter::once(bytes.len()));
        for end in ends {
            let mut stop = end;
            if stop > start && bytes[stop - 1] == b'\r' {
                stop -= 1;
            }
            let mut first = start;
            while first < stop && bytes[first] == b' ' {
                first += 1;
            }
            let head = bytes.get(first).copied().filter(|_| first < stop);
            if head == Some(b'\t') {
                return None;
            }
            lines.push(Line {
                indent: first - start,
                // Cut at ASCII bytes (space, CR, LF): always character boundaries.
                text: &yaml[first..stop],
                skip: matches!(head, None | Some(b'#')),
            });
            start = end + 1;
        }
        let mut p = Parser {
            lines,
            pos: 0,
            depth: 0,
        };
        p.skip_blank();
        if p.pos >= p.lines.len() {
            return None;
        }
        let first = p.lines[p.pos];
        if first.indent != 0 || first.text.starts_with("---") || first.text.starts_with("...") {
            return None;
        }
        Some(p)
    }
}

/// No control characters, byte-order marks or non-characters, which YAML refuses or treats
/// specially: those files go to serde_yaml. (A CR is let through, as it always was: only a
/// CR before an LF ends a line here, so a lone CR stays in its line's text where serde_yaml
/// would end the line; the checks on the value then speak of it.)
fn plain_text(b: &[u8]) -> bool {
    // Most blocks of text hold none of the bytes that need a closer look: a branch-free test
    // per block (which the compiler vectorises) skips them, and only a block with one of them
    // is walked byte by byte.
    const BLOCK: usize = 32;
    let suspect = |c: u8| {
        (c < 0x20 && c != b'\t' && c != b'\n' && c != b'\r')
            | (c == 0x7f)
            | (c == 0xc2)
            | (c == 0xef)
    };
    let mut at = 0;
    for block in b.chunks(BLOCK) {
        if block.iter().fold(false, |any, &c| any | suspect(c))
            && !plain_bytes(b, at, at + block.len())
        {
            return false;
        }
        at += block.len();
    }
    true
}

/// The byte-by-byte test of `plain_text` for `b[from..to]` (a sequence may run past `to`).
fn plain_bytes(b: &[u8], from: usize, to: usize) -> bool {
    let mut i = from;
    while i < to {
        let c = b[i];
        if (c < 0x20 && c != b'\t' && c != b'\n' && c != b'\r') || c == 0x7f {
            return false;
        }
        if c == 0xc2 && b.get(i + 1).is_some_and(|n| (0x80..=0x9f).contains(n)) {
            return false;
        }
        if c == 0xef
            && matches!(
                (b.get(i + 1), b.get(i + 2)),
                (Some(0xbb), Some(0xbf)) | (Some(0xbf), Some(0xbe)) | (Some(0xbf), Some(0xbf))
            )
        {
            return false;
        }
        i += 1;
    }
    true
}

fn is_seq_item(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// Splits `key: rest` (or `key:`) when `text` is a mapping entry with a simple plain key.
fn split_key(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    let first = *bytes.first()?;
    // A `match`, not `<[u8]>::contains` (a `memchr` call per line, 5% of a cold check).
    if matches!(
        first,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b'<'
    ) {
        return None;
    }
    // Only colons and `#` matter (a tab is neither: it stays in the key or the value).
    let mut from = 0;
    while let Some(found) = find3(&bytes[from..], [b':', b'#', b':']) {
        let i = from + found;
        match bytes[i] {
            b':' if i + 1 == bytes.len() || bytes[i + 1] == b' ' => {
                if bytes[i - 1] == b' ' {
                    return None;
                }
                return Some((&text[..i], trim_spaces(&text[i + 1..])));
            }
            // ` #` before the colon starts a comment: no key on this line.
            b'#' if bytes[i - 1] == b' ' => return None,
            _ => {}
        }
        from = i + 1;
    }
    None
}

/// `text` without its leading spaces (a byte loop: `trim_start_matches` goes by `char`).
fn trim_spaces(text: &str) -> &str {
    let n = text.bytes().take_while(|&b| b == b' ').count();
    // Spaces are ASCII: `n` is a character boundary.
    &text[n..]
}

impl<'a> Parser<'a> {
    fn skip_blank(&mut self) {
        while self.pos < self.lines.len() && self.lines[self.pos].skip {
            self.pos += 1;
        }
    }

    fn peek(&mut self) -> Option<Line<'a>> {
        self.skip_blank();
        self.lines.get(self.pos).copied()
    }

    /// A block node whose first line is the current one, at column `indent`.
    fn block(&mut self, indent: usize) -> Option<Node<'a>> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let line = self.peek()?;
        if line.indent != indent {
            return None;
        }
        let node = if is_seq_item(line.text) {
            self.seq(indent)
        } else {
            self.map(indent)
        };
        self.depth -= 1;
        node
    }

    fn map(&mut self, indent: usize) -> Option<Node<'a>> {
        let mut entries: Vec<(&'a str, Node<'a>)> = Vec::with_capacity(8);
        // Repeated keys need no check here: serde_yaml passes them on as they come too, so
        // structs refuse them (duplicate field) and maps keep the last, on both paths.
        while let Some((key, rest)) = self.map_entry(indent).ok()? {
            let value = self.value(indent, rest, true)?;
            entries.push((key, value));
        }
        Some(Node::Map(entries))
    }

    /// The next entry of the block mapping at column `indent`: its key and the rest of its
    /// line (the line is then read), or `None` at the mapping's end (a line less indented).
    fn map_entry(&mut self, indent: usize) -> Result<Option<(&'a str, &'a str)>, Bail> {
        let Some(line) = self.peek() else {
            return Ok(None);
        };
        if line.indent < indent {
            return Ok(None);
        }
        if line.indent > indent || is_seq_item(line.text) {
            return Err(Bail);
        }
        let entry = split_key(line.text).ok_or(Bail)?;
        self.pos += 1;
        Ok(Some(entry))
    }

    fn seq(&mut self, indent: usize) -> Option<Node<'a>> {
        let mut items = Vec::new();
        while let Some(at) = self.seq_item(indent).ok()? {
            items.push(match at {
                At::Value {
                    indent,
                    rest,
                    in_map,
                } => self.value(indent, rest, in_map)?,
                At::Block(column) => self.block(column)?,
            });
        }
        Some(Node::Seq(items))
    }

    /// Where the next item of the block sequence at column `indent` stands (its `- ` read),
    /// or `None` at the sequence's end.
    fn seq_item(&mut self, indent: usize) -> Result<Option<At<'a>>, Bail> {
        let Some(line) = self.peek() else {
            return Ok(None);
        };
        if line.indent < indent {
            return Ok(None);
        }
        if line.indent > indent {
            return Err(Bail);
        }
        if !is_seq_item(line.text) {
            // A key at the column of a sequence that is a mapping's value ends it.
            return Ok(None);
        }
        let after = &line.text[1..];
        let content = trim_spaces(after);
        let column = indent + 1 + (after.len() - content.len());
        let at = if content.is_empty() || content.starts_with('#') {
            // `-` alone: the item is the block below, more indented.
            self.pos += 1;
            At::Value {
                indent,
                rest: "",
                in_map: false,
            }
        } else if is_seq_item(content) || split_key(content).is_some() {
            // A compact nested block starting on this line: re-read the line from there.
            self.lines[self.pos] = Line {
                indent: column,
                text: content,
                skip: false,
            };
            At::Block(column)
        } else {
            self.pos += 1;
            At::Value {
                indent,
                rest: content,
                in_map: false,
            }
        };
        Ok(Some(at))
    }

    /// The value after `key:` or `- ` whose parent sits at column `indent`: `rest` on the same
    /// line, or a block on the following lines.
    fn value(&mut self, indent: usize, rest: &'a str, in_map: bool) -> Option<Node<'a>> {
        if rest.is_empty() || rest.starts_with('#') {
            return match self.peek() {
                Some(next) if next.indent > indent => self.block(next.indent),
                // YAML lets a mapping's sequence value sit at the key's own column.
                Some(next) if in_map && next.indent == indent && is_seq_item(next.text) => {
                    self.block(indent)
                }
                _ => Some(Node::Scalar {
                    text: Cow::Borrowed(""),
                    plain: true,
                }),
            };
        }
        let node = if let Some(header) = rest.strip_prefix('|') {
            self.literal(indent, header)?
        } else {
            scalar(rest)?
        };
        // A more indented line after a one-line scalar would continue it: not in the subset.
        if let Some(next) = self.peek() {
            if next.indent > indent {
                return None;
            }
        }
        Some(node)
    }

    /// A literal block scalar; `header` is what follows `|` (chomping indicator only).
    fn literal(&mut self, indent: usize, header: &str) -> Option<Node<'a>> {
        // `|+` keeps trailing blank lines, whose count depends on the end of the front
        // matter; serde_yaml reads it.
        let strip = match header.trim_end_matches(' ') {
            "" => false,
            "-" => true,
            _ => return None,
        };
        let mut block_indent = None;
        let mut parts: Vec<&'a str> = Vec::new();
        let mut leading_blank_max = 0;
        while self.pos < self.lines.len() {
            let line = self.lines[self.pos];
            let blank = line.text.is_empty();
            match block_indent {
                None if blank => {
                    leading_blank_max = leading_blank_max.max(line.indent);
                    parts.push("");
                }
                None => {
                    if line.indent <= indent || line.indent < leading_blank_max {
                        break;
                    }
                    block_indent = Some(line.indent);
                    parts.push(line.text);
                }
                Some(bi) => {
                    if blank {
                        if line.indent > bi {
                            // Spaces beyond the block's indentation are content.
                            return None;
                        }
                        parts.push("");
                    } else if line.indent >= bi {
                        if line.indent > bi {
                            // Keep the extra indentation: rebuild from the raw columns.
                            return None;
                        }
                        parts.push(line.text);
                    } else {
                        break;
                    }
                }
            }
            self.pos += 1;
        }
        // Trailing blank lines belong to chomping, not content.
        let mut trailing = 0;
        while parts.last() == Some(&"") {
            parts.pop();
            trailing += 1;
        }
        // Blank lines consumed at the end may be the parent's separators: give them back.
        self.pos -= trailing;
        if parts.is_empty() {
            return None;
        }
        let mut text = parts.join("\n");
        if !strip {
            text.push('\n');
        }
        Some(Node::Scalar {
            text: Cow::Owned(text),
            plain: false,
        })
    }
}

/// A one-line scalar (the whole of `rest`, up to an optional trailing comment).
fn scalar(rest: &str) -> Option<Node<'_>> {
    let first = rest.as_bytes()[0];
    match first {
        b'\'' => {
            let mut out = String::new();
            let mut chars = rest[1..].char_indices();
            loop {
                let (i, c) = chars.next()?;
                if c == '\'' {
                    if rest[1 + i + 1..].starts_with('\'') {
                        out.push('\'');
                        chars.next();
                    } else {
                        end_of_line(&rest[1 + i + 1..])?;
                        break;
                    }
                } else {
                    out.push(c);
                }
            }
            Some(Node::Scalar {
                text: Cow::Owned(out),
                plain: false,
            })
        }
        b'"' => {
            let mut out = String::new();
            let mut chars = rest[1..].char_indices();
            loop {
                let (i, c) = chars.next()?;
                match c {
                    '"' => {
                        end_of_line(&rest[1 + i + 1..])?;
                        break;
                    }
                    '\\' => {
                        let (_, e) = chars.next()?;
                        let simple = match e {
                            '0' => '\0',
                            'a' => '\x07',
                            'b' => '\x08',
                            't' | '\t' => '\t',
                            'n' => '\n',
                            'v' => '\x0b',
                            'f' => '\x0c',
                            'r' => '\r',
                            'e' => '\x1b',
                            ' ' => ' ',
                            '"' => '"',
                            '/' => '/',
                            '\\' => '\\',
                            'N' => '\u{85}',
                            '_' => '\u{a0}',
                            'L' => '\u{2028}',
                            'P' => '\u{2029}',
                            'x' | 'u' | 'U' => {
                                let n = match e {
                                    'x' => 2,
                                    'u' => 4,
                                    _ => 8,
                                };
                                let mut v = 0u32;
                                for _ in 0..n {
                                    let (_, h) = chars.next()?;
                                    v = v * 16 + h.to_digit(16)?;
                                }
                                char::from_u32(v)?
                            }
                            _ => return None,
                        };
                        out.push(simple);
                    }
                    c => out.push(c),
                }
            }
            Some(Node::Scalar {
                text: Cow::Owned(out),
                plain: false,
            })
        }
        b'[' => flow_seq(rest),
        b'{' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`' | b',' | b']' | b'}' => None,
        b'-' | b'?' | b':' if rest.len() == 1 || rest.as_bytes()[1] == b' ' => None,
        _ => {
            // One pass: stop at a comment; `a: b` inside a value is an error in YAML and tabs
            // are subtle, so both go to serde_yaml.
            // Only the three bytes that matter are looked at, found eight bytes at a time.
            let b = rest.as_bytes();
            let mut end = b.len();
            let mut from = 0;
            while let Some(found) = find_hash_colon_tab(&b[from..]) {
                let i = from + found;
                match b[i] {
                    b'#' if i > 0 && b[i - 1] == b' ' => {
                        end = i;
                        break;
                    }
                    b':' if i + 1 == b.len() || b[i + 1] == b' ' => return None,
                    b'\t' => return None,
                    _ => {}
                }
                from = i + 1;
            }
            let text = rest[..end].trim_end_matches(' ');
            if text.ends_with(':') {
                return None;
            }
            Some(Node::Scalar {
                text: Cow::Borrowed(text),
                plain: true,
            })
        }
    }
}

/// The first `#`, `:` or tab of `b`. Values are mostly short (a few dozen bytes), where a
/// vectorised search costs more to set up than it saves: eight bytes are tested at a time in a
/// word instead (the lowest flagged byte of the zero-byte test is always a true match).
fn find_hash_colon_tab(b: &[u8]) -> Option<usize> {
    find3(b, [b'#', b':', b'\t'])
}

/// The first byte of `b` that is one of `wanted`, eight bytes at a time (see
/// [`find_hash_colon_tab`]).
#[inline]
fn find3(b: &[u8], wanted: [u8; 3]) -> Option<usize> {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let flag = |x: u64, c: u8| {
        let y = x ^ (LO * c as u64);
        y.wrapping_sub(LO) & !y & HI
    };
    let mut chunks = b.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        let hit = flag(x, wanted[0]) | flag(x, wanted[1]) | flag(x, wanted[2]);
        if hit != 0 {
            return Some(at + hit.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    chunks
        .remainder()
        .iter()
        .position(|&c| c == wanted[0] || c == wanted[1] || c == wanted[2])
        .map(|i| at + i)
}

/// A one-line flow sequence of plain words (`[horario, fin de año]`, how articles list
/// their tags): each item is a plain scalar in flow context, exactly as a block sequence's
/// item would be. Anything that could mean more (quotes, nested collections, mappings,
/// anchors, comments, empty or leading-indicator items, a trailing comma) is left to serde_yaml.
fn flow_seq(rest: &str) -> Option<Node<'_>> {
    let inner = rest.strip_prefix('[')?;
    let close = inner.find(']')?;
    if !inner[close + 1..].bytes().all(|b| b == b' ') {
        return None;
    }
    let inner = &inner[..close];
    let special = |b: u8| b"[]{}#&*!|>%@`'\":\t\\".contains(&b);
    if inner.bytes().any(special) {
        return None;
    }
    if inner.trim_matches(' ').is_empty() {
        return (inner.is_empty()).then_some(Node::Seq(Vec::new()));
    }
    let mut items = Vec::new();
    for item in inner.split(',') {
        let text = item.trim_matches(' ');
        let first = *text.as_bytes().first()?;
        if matches!(first, b'-' | b'?') {
            return None;
        }
        items.push(Node::Scalar {
            text: Cow::Borrowed(text),
            plain: true,
        });
    }
    Some(Node::Seq(items))
}

/// After a quoted scalar only spaces and a comment may follow.
fn end_of_line(rest: &str) -> Option<()> {
    let t = rest.trim_start_matches(' ');
    if t.is_empty() || (t.starts_with('#') && t.len() < rest.len()) {
        Some(())
    } else {
        None
    }
}

fn is_null(s: &str) -> bool {
    matches!(s, "" | "~" | "null" | "Null" | "NULL")
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Plain decimal digits without sign or leading zero: the one integer form we read ourselves.
fn simple_uint(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) || (b.len() > 1 && b[0] == b'0') {
        return None;
    }
    s.parse().ok()
}

fn simple_int(s: &str) -> Option<i64> {
    match s.strip_prefix('-') {
        Some(rest) => simple_uint(rest)
            .and_then(|v| i64::try_from(v).ok())
            .map(|v| -v),
        None => simple_uint(s).and_then(|v| i64::try_from(v).ok()),
    }
}

/// `123`, `-4`, `600000.0`, `0.5`: the float forms we read ourselves.
fn simple_float(s: &str) -> Option<f64> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || (body.contains('.') && !digits(frac)) {
        return None;
    }
    if int.len() > 1 && int.starts_with('0') {
        return None;
    }
    s.parse().ok().filter(|f: &f64| f.is_finite())
}

/// Error of the fast path: its content does not matter, the caller re-parses with serde_yaml.
#[derive(Debug)]
pub struct Bail;

impl fmt::Display for Bail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not in the fast YAML subset")
    }
}

impl std::error::Error for Bail {}

impl de::Error for Bail {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Bail
    }
}

struct De<'n, 'a>(&'n Node<'a>);

impl<'n, 'a> De<'n, 'a> {
    fn plain(&self) -> Result<&'n str, Bail> {
        match self.0 {
            Node::Scalar { text, plain: true } => Ok(text),
            _ => Err(Bail),
        }
    }
}

macro_rules! uint {
    ($($name:ident => $visit:ident : $t:ty),*) => {$(
        fn $name<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
            let n = simple_uint(self.plain()?).ok_or(Bail)?;
            v.$visit(<$t>::try_from(n).map_err(|_| Bail)?)
        }
    )*};
}

macro_rules! int {
    ($($name:ident => $visit:ident : $t:ty),*) => {$(
        fn $name<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
            let n = simple_int(self.plain()?).ok_or(Bail)?;
            v.$visit(<$t>::try_from(n).map_err(|_| Bail)?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for De<'_, '_> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        match self.0 {
            Node::Map(entries) => v.visit_map(MapAcc {
                iter: entries.iter(),
                value: None,
            }),
            Node::Seq(items) => v.visit_seq(SeqAcc { iter: items.iter() }),
            Node::Scalar { text, plain: false } => v.visit_str(text),
            Node::Scalar { text, plain: true } => {
                if is_null(text) {
                    v.visit_unit()
                } else if let Some(b) = parse_bool(text) {
                    v.visit_bool(b)
                } else if let Some(n) = simple_uint(text) {
                    v.visit_u64(n)
                } else if text.starts_with(|c: char| c.is_ascii_digit() || "+-.".contains(c)) {
                    // Other numeric forms (hex, octal, exponents, .inf...) are serde_yaml's call.
                    Err(Bail)
                } else {
                    v.visit_str(text)
                }
            }
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        v.visit_bool(parse_bool(self.plain()?).ok_or(Bail)?)
    }

    uint!(deserialize_u8 => visit_u8: u8, deserialize_u16 => visit_u16: u16,
          deserialize_u32 => visit_u32: u32, deserialize_u64 => visit_u64: u64);
    int!(deserialize_i8 => visit_i8: i8, deserialize_i16 => visit_i16: i16,
         deserialize_i32 => visit_i32: i32, deserialize_i64 => visit_i64: i64);

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        self.deserialize_f64(v)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        v.visit_f64(simple_float(self.plain()?).ok_or(Bail)?)
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        self.deserialize_str(v)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        match self.0 {
            Node::Scalar { text, .. } => v.visit_str(text),
            _ => Err(Bail),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        match self.0 {
            Node::Scalar { text, plain: true } if is_null(text) => v.visit_none(),
            _ => v.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        if is_null(self.plain()?) {
            v.visit_unit()
        } else {
            Err(Bail)
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, Bail> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, Bail> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        match self.0 {
            Node::Seq(items) => v.visit_seq(SeqAcc { iter: items.iter() }),
            _ => Err(Bail),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, Bail> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value, Bail> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        match self.0 {
            Node::Map(entries) => v.visit_map(MapAcc {
                iter: entries.iter(),
                value: None,
            }),
            _ => Err(Bail),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Bail> {
        self.deserialize_map(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Bail> {
        match self.0 {
            Node::Scalar { text, .. } if !text.is_empty() => v.visit_enum(UnitEnum(text)),
            _ => Err(Bail),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        self.deserialize_str(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, Bail> {
        v.visit_unit()
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn deserialize_i128<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn deserialize_u128<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }
}

struct SeqAcc<'n, 'a> {
    iter: std::slice::Iter<'n, Node<'a>>,
}

impl<'de> de::SeqAccess<'de> for SeqAcc<'_, '_> {
    type Error = Bail;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Bail> {
        match self.iter.next() {
            Some(n) => seed.deserialize(De(n)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapAcc<'n, 'a> {
    iter: std::slice::Iter<'n, (&'a str, Node<'a>)>,
    value: Option<&'n Node<'a>>,
}

impl<'de> de::MapAccess<'de> for MapAcc<'_, '_> {
    type Error = Bail;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Bail> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                let key = Node::Scalar {
                    text: Cow::Borrowed(k),
                    plain: true,
                };
                seed.deserialize(De(&key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Bail> {
        seed.deserialize(De(self.value.take().ok_or(Bail)?))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct UnitEnum<'n>(&'n str);

impl<'de> de::EnumAccess<'de> for UnitEnum<'_> {
    type Error = Bail;
    type Variant = Self;

    fn variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<(T::Value, Self), Bail> {
        let d: de::value::StrDeserializer<'_, Bail> = self.0.into_deserializer();
        Ok((seed.deserialize(d)?, self))
    }
}

impl<'de> de::VariantAccess<'de> for UnitEnum<'_> {
    type Error = Bail;

    fn unit_variant(self) -> Result<(), Bail> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _: T) -> Result<T::Value, Bail> {
        Err(Bail)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Bail> {
        Err(Bail)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Bail> {
        Err(Bail)
    }
}

/// Where the value a [`Stream`] reads stands.
#[derive(Clone, Copy)]
enum At<'a> {
    /// The value after `key:` or `- ` whose parent sits at column `indent`: `rest` on the same
    /// line (see [`Parser::value`]), or a block on the following lines.
    Value {
        indent: usize,
        rest: &'a str,
        in_map: bool,
    },
    /// A block whose first line is the current one, at this column (see [`Parser::block`]).
    Block(usize),
}

/// What a value turned out to be: a scalar or one-line flow sequence (read whole, as small
/// as the line), or a block not read yet.
enum Got<'a> {
    Node(Node<'a>),
    Block(usize),
}

/// The streaming reader: one value of the document, read when `T` asks for it. Every method
/// reads its value to its end (a value `T` does not want is read and dropped), so the next
/// one starts where the tree reader's would.
struct Stream<'p, 'a> {
    p: &'p mut Parser<'a>,
    at: At<'a>,
}

impl<'a> Stream<'_, 'a> {
    /// [`Parser::value`] without building the block: a scalar is read, a block only found.
    fn resolve(&mut self) -> Result<Got<'a>, Bail> {
        let (indent, rest, in_map) = match self.at {
            At::Block(indent) => return Ok(Got::Block(indent)),
            At::Value {
                indent,
                rest,
                in_map,
            } => (indent, rest, in_map),
        };
        if rest.is_empty() || rest.starts_with('#') {
            let got = match self.p.peek() {
                Some(next) if next.indent > indent => Got::Block(next.indent),
                Some(next) if in_map && next.indent == indent && is_seq_item(next.text) => {
                    Got::Block(indent)
                }
                _ => Got::Node(Node::Scalar {
                    text: Cow::Borrowed(""),
                    plain: true,
                }),
            };
            // Found, not read: asking again gives the same block.
            if let Got::Block(i) = got {
                self.at = At::Block(i);
            }
            return Ok(got);
        }
        let node = if let Some(header) = rest.strip_prefix('|') {
            self.p.literal(indent, header)
        } else {
            scalar(rest)
        }
        .ok_or(Bail)?;
        if let Some(next) = self.p.peek() {
            if next.indent > indent {
                return Err(Bail);
            }
        }
        Ok(Got::Node(node))
    }

    /// Enters the block at `indent` as [`Parser::block`] does; `true` for a sequence.
    fn open(&mut self, indent: usize) -> Result<bool, Bail> {
        self.p.depth += 1;
        if self.p.depth > MAX_DEPTH {
            return Err(Bail);
        }
        let line = self.p.peek().ok_or(Bail)?;
        if line.indent != indent {
            return Err(Bail);
        }
        Ok(is_seq_item(line.text))
    }

    /// The block read whole as a tree, for what only the tree reader's rules decide.
    fn tree(&mut self, indent: usize) -> Result<Node<'a>, Bail> {
        self.p.block(indent).ok_or(Bail)
    }

    fn map<'de, V: Visitor<'de>>(&mut self, indent: usize, v: V) -> Result<V::Value, Bail> {
        let mut acc = MapStream {
            p: &mut *self.p,
            indent,
            rest: None,
        };
        let value = v.visit_map(&mut acc)?;
        acc.finish()?;
        self.p.depth -= 1;
        Ok(value)
    }

    fn seq<'de, V: Visitor<'de>>(&mut self, indent: usize, v: V) -> Result<V::Value, Bail> {
        let mut acc = SeqStream {
            p: &mut *self.p,
            indent,
        };
        let value = v.visit_seq(&mut acc)?;
        // Items the visitor left are read to the end as the tree reader would.
        let skip = || std::marker::PhantomData::<de::IgnoredAny>;
        while de::SeqAccess::next_element_seed(&mut &mut acc, skip())?.is_some() {}
        self.p.depth -= 1;
        Ok(value)
    }
}

/// Methods whose answer on a block is the tree reader's: the block is read as a tree and
/// handed to [`De`], which declines it or reads it as before.
macro_rules! as_tree {
    ($($name:ident),*) => {$(
        fn $name<V: Visitor<'de>>(mut self, v: V) -> Result<V::Value, Bail> {
            match self.resolve()? {
                Got::Node(n) => De(&n).$name(v),
                Got::Block(i) => {
                    let n = self.tree(i)?;
                    De(&n).$name(v)
                }
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Stream<'_, '_> {
    type Error = Bail;

    as_tree!(
        deserialize_bool,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_unit,
        deserialize_identifier,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_i128,
        deserialize_u128
    );

    fn deserialize_any<V: Visitor<'de>>(mut self, v: V) -> Result<V::Value, Bail> {
        match self.resolve()? {
            Got::Node(n) => De(&n).deserialize_any(v),
            Got::Block(i) => {
                if self.open(i)? {
                    self.seq(i, v)
                } else {
                    self.map(i, v)
                }
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, v: V) -> Result<V::Value, Bail> {
        match self.resolve()? {
            Got::Node(n) => De(&n).deserialize_option(v),
            Got::Block(_) => v.visit_some(self),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        v: V,
    ) -> Result<V::Value, Bail> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, Bail> {
        match self.resolve()? {
            Got::Node(n) => De(&n).deserialize_newtype_struct(name, v),
            Got::Block(_) => v.visit_newtype_struct(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(mut self, v: V) -> Result<V::Value, Bail> {
        match self.resolve()? {
            Got::Node(n) => De(&n).deserialize_seq(v),
            Got::Block(i) => {
                if !self.open(i)? {
                    return Err(Bail);
                }
                self.seq(i, v)
            }
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> Result<V::Value, Bail> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        v: V,
    ) -> Result<V::Value, Bail> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(mut self, v: V) -> Result<V::Value, Bail> {
        match self.resolve()? {
            Got::Node(n) => De(&n).deserialize_map(v),
            Got::Block(i) => {
                if self.open(i)? {
                    return Err(Bail);
                }
                self.map(i, v)
            }
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Bail> {
        self.deserialize_map(v)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        mut self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, Bail> {
        match self.resolve()? {
            Got::Node(n) => De(&n).deserialize_enum(name, variants, v),
            Got::Block(_) => Err(Bail),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(mut self, v: V) -> Result<V::Value, Bail> {
        // Not wanted, but read to its end as the tree reader would have read it.
        if let Got::Block(i) = self.resolve()? {
            self.tree(i)?;
        }
        v.visit_unit()
    }
}

/// A block mapping read entry by entry, as [`Parser::map`] reads it.
struct MapStream<'p, 'a> {
    p: &'p mut Parser<'a>,
    indent: usize,
    /// The current entry's text after `key:`, until its value is read.
    rest: Option<&'a str>,
}

impl<'a> MapStream<'_, 'a> {
    /// The next entry's key (the rest of its line kept for its value), or `None` at the
    /// mapping's end.
    fn entry(&mut self) -> Result<Option<&'a str>, Bail> {
        if let Some(rest) = self.rest.take() {
            // A value the visitor did not read is read now, as the tree reader would.
            self.p.value(self.indent, rest, true).ok_or(Bail)?;
        }
        Ok(self.p.map_entry(self.indent)?.map(|(key, rest)| {
            self.rest = Some(rest);
            key
        }))
    }

    /// Reads what the visitor left of the mapping.
    fn finish(&mut self) -> Result<(), Bail> {
        while self.entry()?.is_some() {}
        Ok(())
    }
}

impl<'de> de::MapAccess<'de> for &mut MapStream<'_, '_> {
    type Error = Bail;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Bail> {
        match self.entry()? {
            Some(key) => {
                let key = Node::Scalar {
                    text: Cow::Borrowed(key),
                    plain: true,
                };
                seed.deserialize(De(&key)).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<T::Value, Bail> {
        let rest = self.rest.take().ok_or(Bail)?;
        seed.deserialize(Stream {
            p: &mut *self.p,
            at: At::Value {
                indent: self.indent,
                rest,
                in_map: true,
            },
        })
    }
}

/// A block sequence read item by item, as [`Parser::seq`] reads it.
struct SeqStream<'p, 'a> {
    p: &'p mut Parser<'a>,
    indent: usize,
}

impl<'de> de::SeqAccess<'de> for &mut SeqStream<'_, '_> {
    type Error = Bail;

    /// The items ahead at the sequence's column, counted on the lines already split, so a
    /// `Vec` (a ticket's log) is allocated once at its length instead of growing by doubling
    /// and copying its large items each time. Only a capacity: a miscount changes nothing read.
    fn size_hint(&self) -> Option<usize> {
        let mut n = 0;
        for line in &self.p.lines[self.p.pos.min(self.p.lines.len())..] {
            if line.skip || line.indent > self.indent {
                continue;
            }
            if line.indent < self.indent || !is_seq_item(line.text) {
                break;
            }
            n += 1;
        }
        Some(n)
    }

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Bail> {
        match self.p.seq_item(self.indent)? {
            Some(at) => seed
                .deserialize(Stream {
                    p: &mut *self.p,
                    at,
                })
                .map(Some),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path must agree with serde_yaml wherever it answers.
    fn same(yaml: &str) -> bool {
        let fast: Option<serde_yaml::Value> = from_str(yaml);
        let tree: Option<serde_yaml::Value> = from_str_tree(yaml);
        assert_eq!(
            fast, tree,
            "the streaming and the tree reader differ on {yaml:?}"
        );
        let slow: Result<serde_yaml::Value, _> = serde_yaml::from_str(yaml);
        match fast {
            Some(f) => {
                assert_eq!(Some(f), slow.ok(), "{yaml:?}");
                true
            }
            None => false,
        }
    }

    #[test]
    fn answers_the_common_forms() {
        for yaml in [
            "a: 1\r\nb:\r\n  - x\r\n",
            "title: ¿No abre? ¡Urgente! 1º piso\n",
            "a: 1\n   \n\nb: 2",
            "a: 1\nb: texto con espacios\nc:\n  - x\n  - y\n",
            "a:\n- at: hoy\n  by: x\n  n: 600000\n- at: b\n",
            "a: 'it''s: here'\nb: \"tab\\there \\u00e9\"\n",
            "a: |\n  line one\n  line two\n\nb: |-\n  x\n",
            "a:\n- x: 1\n  y: 2\nb: 3\n",
            "a: ~\nb:\nc: null\nd: true\ne: False\n",
            "a: x # comment\n# full comment\nb: y\n",
            "tags: [horario, festivos, fin de año, prioridad crítica]\n",
            "a: [1, true, x  y]\nb: []\n",
            "- [a, b]\n- c\n",
        ] {
            assert!(same(yaml), "the fast path should read {yaml:?}");
        }
    }

    #[test]
    fn agrees_with_serde_yaml() {
        for yaml in [
            "a: 1\nb: texto con espacios\nc:\n  - x\n  - y\n",
            "a:\n- at: 2026-11-02T08:15:00-05:00\n  by: x\n  n: 600000.0\n- at: b\n",
            "a: 'it''s: here'\nb: \"tab\\there \\u00e9\"\n",
            "a: |\n  line one\n  line two\n\nb: |-\n  x\n",
            "a: |+\n  x\n\n\nb: 1\n",
            "a:\n- x: 1\n  y: 2\nb: 3\n",
            "a: |\n  x\n\n  y\n\n\nb: 1\n",
            "a: \u{feff}x\n",
            "a: x\u{7f}\n",
            "a: ~\nb:\nc: null\nd: true\ne: False\n",
            "a: x # comment\n# full comment\nb: y\n",
            "list:\n  - - 1\n    - 2\n  -\n    k: v\n",
            "a: -1\nb: 007\nc: 0x1f\nd: 1e3\ne: .inf\n",
            "a: b: c\n",
            "a: [1, 2]\n",
            "a: &x 1\nb: *x\n",
            "a: 1\na: 2\n",
            "a: x#y\nb: 'q' # c\nc: x:y\nd: x :\n",
            "a:\n  b: 1\n c: 2\n",
            "a: plain\n  continued\n",
            "a: |\n    indented\n  less\n",
            "",
            "- 1\n- 2\n",
            "a: [1, true, ~, x  y, 2026-11-30, 0.5]\nb: []\n",
            "a: [[1], 2]\n",
            "a: [x, ]\n",
            "a: [x,, y]\n",
            "a: [ ]\n",
            "a: ['q', \"r\"]\n",
            "a: [x] # c\n",
            "a: [x]y\n",
            "a: [a: b]\n",
            "a: [a:b, c]\n",
            "a: [{b: 1}]\n",
            "a: [- x]\n",
            "a: [? x]\n",
            "a: [&x 1, *x]\n",
            "a: [x\n  , y]\n",
            "a: [x, y]\n  z\n",
            "a: [x #y]\n",
            // Lines ending in CR LF, a lone CR, blank lines of spaces, a last line without LF.
            "a: 1\r\nb:\r\n  - x\r\n  - 'y'\r\n",
            "a: x\rb: y\n",
            "a: 1\n   \n\nb: 2",
            "a:\n  \t- x\n",
            "\ta: 1\n",
            // A key's text: a comment before the colon, spaces before it, a colon inside.
            "a #b: c\n",
            "a #b\n",
            "a : b\n",
            "a:b: c\n",
            "a#b: c\n",
            "'a': b\n",
            // Text with inverted marks and ordinal signs (two-byte UTF-8 led by 0xC2).
            "title: ¿No abre? ¡Urgente! 1º piso, 20°C\n",
            "a: \u{85}x\n",
            "a: x\u{a0}y\n",
            "a: \u{fffe}\n",
            "a: \u{ffff}\n",
            "a: \u{fff0}\n",
        ] {
            same(yaml);
        }
    }

    /// The block-wise test of `plain_text` says what the byte-by-byte one says, whatever
    /// block the suspect bytes fall in (within a block, across a block's end, at the end).
    #[test]
    fn plain_text_agrees_at_every_offset() {
        let suspects: [&[u8]; 11] = [
            b"\x01",
            b"\x7f",
            b"\t",
            b"\r\n",
            "\u{85}".as_bytes(),
            "\u{a0}".as_bytes(),
            "¿".as_bytes(),
            "\u{feff}".as_bytes(),
            "\u{fffe}".as_bytes(),
            "\u{ffff}".as_bytes(),
            "\u{fff0}".as_bytes(),
        ];
        for s in suspects {
            for at in 0..100 {
                let mut text = vec![b'x'; at];
                text.extend_from_slice(s);
                text.extend(std::iter::repeat_n(b'y', 70));
                for len in [at + s.len(), text.len()] {
                    let t = &text[..len];
                    assert_eq!(plain_text(t), plain_bytes(t, 0, t.len()), "{s:?} at {at}");
                }
            }
        }
        assert!(!plain_text("a: \u{85}\n".as_bytes()));
        assert!(plain_text("a: ¿x?\n".as_bytes()));
        assert!(plain_text(b"a: 1\r\n"));
    }

    /// The word-wise search finds what a byte-by-byte search finds, at every offset and
    /// beside bytes that differ from the wanted ones by one bit or a borrow.
    #[test]
    fn finds_hash_colon_tab_as_a_byte_search_does() {
        let fillers: [u8; 9] = [b'x', b' ', 0x22, 0x3b, 0x39, 0x08, 0xa3, 0x01, 0xff];
        for target in [b'#', b':', b'\t'] {
            for filler in fillers {
                for len in 0..20 {
                    for at in 0..=len {
                        let mut v = vec![filler; len];
                        if at < len {
                            v[at] = target;
                        }
                        let want = v.iter().position(|&c| matches!(c, b'#' | b':' | b'\t'));
                        assert_eq!(find_hash_colon_tab(&v), want, "{v:?}");
                    }
                }
            }
        }
        let mut v = b"abc\x00#xyz:".to_vec();
        assert_eq!(find_hash_colon_tab(&v), Some(4));
        v[4] = b'$';
        assert_eq!(find_hash_colon_tab(&v), Some(8));
    }

    #[test]
    fn reads_the_subset() {
        let v: serde_yaml::Value = from_str("a:\n- b: 1\n  c: |\n    x\n    y\n").unwrap();
        assert_eq!(v["a"][0]["c"].as_str(), Some("x\ny\n"));
        let v: serde_yaml::Value = from_str("a: [1, fin de año]\n").unwrap();
        assert_eq!(v["a"][0].as_u64(), Some(1));
        assert_eq!(v["a"][1].as_str(), Some("fin de año"));
        for declined in [
            "a: [[1]]\n",
            "a: [x, ]\n",
            "a: ['q']\n",
            "a: [x] # c\n",
            "a: [a: b]\n",
        ] {
            assert!(
                from_str::<serde_yaml::Value>(declined).is_none(),
                "{declined:?}"
            );
        }
        assert!(from_str::<serde_yaml::Value>("a:\n").is_some());
        let deep: String = (0..200).map(|i| format!("{}k:\n", " ".repeat(i))).collect();
        assert!(from_str::<serde_yaml::Value>(&deep).is_none());
    }

    /// A sequence's length is counted ahead (`SeqAccess::size_hint`), so a ticket's log is
    /// allocated once at its length: items at the column, past nested blocks, comments and
    /// blank lines, and not the keys after the sequence.
    #[test]
    fn sequences_are_allocated_at_their_length() {
        #[derive(serde::Deserialize, Debug)]
        struct Doc {
            events: Vec<serde_yaml::Value>,
            kb: Vec<String>,
            after: u32,
        }
        let yaml = "events:\n- at: 1\n  attachments:\n  - file: a\n  - file: b\n\n# note\n- at: 2\n  text: |\n    - not an item\n-   at: 3\n- [1, 2]\n- - x\n  - y\n- x\nkb:\n  - a\n  - b\nafter: 1\n";
        let doc: Doc = from_str(yaml).expect("inside the subset");
        assert_eq!(doc.events.len(), 6);
        assert_eq!(doc.events.capacity(), 6);
        assert_eq!((doc.kb.len(), doc.kb.capacity()), (2, 2));
        assert_eq!(doc.after, 1);
        let tree: serde_yaml::Value = serde_yaml::from_str(yaml).unwrap();
        assert_eq!(tree["events"].as_sequence().unwrap().len(), 6);
    }
}
