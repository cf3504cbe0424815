//! The offline search index, built at build time and queried by `theme/static/search.js`.
//!
//! Terms are folded (lowercase, accents removed: "Fotografía" -> "fotografia") and lightly
//! stemmed for Spanish plurals, the same way in Rust and in the browser. Scripts, not JSON, carry
//! the index (they assign to `window.MESA_SEARCH`), because `fetch()` fails on `file://`.
//!
//! - `search/pages.js`: every kb, playbook, catalog and table page, with its text for snippets.
//! - `search/t/<xy>.js` (internal build): ticket postings of the terms starting with `xy`, and
//!   `search/t/docs-<n>.js`: ticket titles and snippets in chunks. A query loads only the
//!   shards of its own terms, so no page downloads the whole ticket index.

use super::postlist::PostList;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Tickets per document chunk.
pub const DOC_CHUNK: usize = 1000;
/// Weight of a term found in a title, against 1 per occurrence in the body (capped below).
pub const TITLE_WEIGHT: u32 = 100;
const BODY_CAP: u32 = 20;

pub use crate::model::text::fold;
use crate::model::text::fold_char;

/// Light Spanish stemming, mirrored in search.js: a plural `s` goes, and an `e` after l, n, r,
/// d, j or z goes too, so "verificaciones" and "verificación" meet at "verificacion".
pub fn stem(word: &str) -> &str {
    let mut w = word;
    if w.len() > 3 && w.ends_with('s') {
        w = &w[..w.len() - 1];
    }
    if w.len() > 3 && w.ends_with('e') {
        let before = w.as_bytes()[w.len() - 2];
        if matches!(before, b'l' | b'n' | b'r' | b'd' | b'j' | b'z') {
            w = &w[..w.len() - 1];
        }
    }
    w
}

/// [`each_term`]'s classes of bytes: ASCII lowercase letters and digits, ASCII uppercase
/// letters, other ASCII, and the bytes of characters outside ASCII.
const LOWER: u8 = 0;
const UPPER: u8 = 1;
const OTHER: u8 = 2;
const WIDE: u8 = 3;
const CLASS: [u8; 256] = {
    let mut t = [WIDE; 256];
    let mut b = 0;
    while b < 128 {
        t[b] = match b as u8 {
            b'a'..=b'z' | b'0'..=b'9' => LOWER,
            b'A'..=b'Z' => UPPER,
            _ => OTHER,
        };
        b += 1;
    }
    t
};

/// Calls `f` with each index term of a text: folded ([`fold`]), split at anything not
/// alphanumeric, 2+ characters, stemmed.
///
/// One pass, as [`fold`] then a split of the folded text would give: a folded character is
/// either part of the word being read or ends it, so the text is never copied whole. A word
/// that is one run of lowercase ASCII letters and digits (most of a ticket) is handed over as
/// a slice of `text`; other words are folded into one small buffer (ASCII runs copied and
/// lowercased, other characters through the Unicode decomposition). The fold-then-split
/// version is kept in the tests as the oracle.
pub fn each_term(text: &str, mut f: impl FnMut(&str)) {
    // The word being folded when it is not a plain slice of `text`.
    let mut word = String::new();
    // Whether `word` holds a character outside ASCII (then 2+ bytes is not 2+ characters).
    let mut wide = false;
    let mut emit = |w: &str, wide: bool| {
        if w.len() >= 2 && (!wide || w.chars().count() >= 2) {
            f(stem(w));
        }
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let class = CLASS[bytes[i] as usize];
        if class <= UPPER {
            let start = i;
            let mut upper = 0;
            // One table look-up per byte: this loop sees nearly every byte of every ticket.
            while let Some(&b) = bytes.get(i) {
                let class = CLASS[b as usize];
                if class > UPPER {
                    break;
                }
                upper |= class;
                i += 1;
            }
            let upper = upper == UPPER;
            let run = &text[start..i];
            // A non-ASCII character next may fold into letters that continue the word.
            let ends = bytes.get(i).is_none_or(u8::is_ascii);
            if word.is_empty() && !upper && ends {
                emit(run, false);
            } else {
                let at = word.len();
                word.push_str(run);
                word[at..].make_ascii_lowercase();
            }
        } else if class == OTHER {
            if !word.is_empty() {
                emit(&word, wide);
                word.clear();
                wide = false;
            }
            i += 1;
        } else {
            // `i` is on a character boundary: ASCII bytes and whole characters are consumed.
            let c = text[i..].chars().next().unwrap_or_default();
            i += c.len_utf8();
            fold_char(c, |l| {
                if l.is_alphanumeric() {
                    word.push(l);
                    wide |= !l.is_ascii();
                } else if !word.is_empty() {
                    emit(&word, wide);
                    word.clear();
                    wide = false;
                }
            });
        }
    }
    if !word.is_empty() {
        emit(&word, wide);
    }
}

/// The index terms of a text, in order.
pub fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    each_term(text, |t| out.push(t.to_string()));
    out
}

/// Shard key of a term: its first two characters (ASCII letters and digits; `_` otherwise).
pub fn shard(term: &str) -> String {
    term.chars()
        .take(2)
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

/// Shard size (bytes, about) above which a two-letter shard is split by three letters.
pub const SPLIT_BYTES: usize = 512 * 1024;

/// Shard key of a term in a split shard: three characters, or the two of a two-letter term
/// followed by `-`.
pub fn shard3(term: &str) -> String {
    let mut key: String = term
        .chars()
        .take(3)
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if term.chars().count() < 3 {
        key.push('-');
    }
    key
}

/// A document of the page index.
pub struct Doc {
    pub url: String,
    pub title: String,
    /// What kind of page it is (a label shown with the result).
    pub kind: String,
    pub body: String,
}

/// A ticket as a search result: what the result list shows (its terms are in [`Postings`]).
#[derive(Serialize, Deserialize)]
pub struct TicketDoc {
    /// The ticket's row's URL, shared.
    pub url: std::sync::Arc<str>,
    pub title: String,
    /// "Caso · status · customer": a few distinct values, shared ([`crate::model::text::intern`]).
    #[serde(deserialize_with = "interned")]
    pub kind: &'static str,
    pub snippet: String,
}

fn interned<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
    let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
    Ok(crate::model::text::intern(&s))
}

/// The hasher of the term maps: the terms are mesa's own index, so no attacker chooses them,
/// and the default SipHash was a third of [`Postings::add`], itself 7% of a 100k-ticket build.
/// Nothing depends on the maps' order ([`Postings::sorted`] sorts).
type TermHash = foldhash::fast::RandomState;

/// term -> (doc, weight) pairs, compact ([`PostList`]; serialised as the flat list).
#[derive(Default, Serialize, Deserialize)]
pub struct Postings {
    map: HashMap<String, PostList, TermHash>,
}

impl Postings {
    /// Indexes document `doc`: each title occurrence weighs [`TITLE_WEIGHT`], each body
    /// occurrence 1 (up to a cap, so long bodies do not outrank titles).
    pub fn add(&mut self, doc: u32, title: &str, body: &str) {
        // A term already seen in `doc` ends its list with `doc`'s pair, whose weight grows in
        // place: a scratch map of the document's terms cost a string per term and document.
        let map = &mut self.map;
        let mut bump = |t: &str, w: u32| match map.get_mut(t) {
            Some(list) => match list.last_weight_of(doc) {
                Some(v) => {
                    if w == TITLE_WEIGHT || *v % TITLE_WEIGHT < BODY_CAP {
                        *v += w;
                    }
                }
                None => list.push(doc, w),
            },
            None => {
                map.insert(t.to_string(), PostList::one(doc, w));
            }
        };
        each_term(title, |t| bump(t, TITLE_WEIGHT));
        each_term(body, |t| bump(t, 1));
    }

    /// Appends another index's postings (of later documents) to this one.
    pub fn merge(&mut self, other: Postings) {
        self.merge_shifted(other, 0);
    }

    /// [`Postings::merge`] of an index whose documents are numbered from 0, renumbered from
    /// `offset` (parts indexed in parallel, joined in order).
    pub fn merge_shifted(&mut self, other: Postings, offset: u32) {
        for (t, list) in other.map {
            match self.map.get_mut(&t) {
                Some(l) => l.append_shifted(list, offset),
                None => {
                    let mut l = PostList::default();
                    l.append_shifted(list, offset);
                    self.map.insert(t, l);
                }
            }
        }
    }

    /// Re-indexes document `doc` (for `mesa serve`'s incremental rebuild), keeping every list
    /// ordered by document as a full build makes it. Returns the terms whose lists changed.
    pub fn replace(&mut self, doc: u32, title: &str, body: &str) -> Vec<String> {
        let mut fresh = Postings::default();
        fresh.add(doc, title, body);
        let mut touched = Vec::new();
        self.map.retain(|term, list| {
            // The lists are ordered by document: read up to `doc` only.
            let old = list
                .iter()
                .take_while(|&(d, _)| d <= doc)
                .find(|&(d, _)| d == doc)
                .map(|(_, w)| w);
            let new = fresh
                .map
                .remove(term)
                .and_then(|l| l.iter().next())
                .map(|(_, w)| w);
            if old != new {
                touched.push(term.clone());
                let mut pairs: Vec<(u32, u32)> = list.iter().filter(|&(d, _)| d != doc).collect();
                if let Some(w) = new {
                    let at = pairs.partition_point(|&(d, _)| d < doc);
                    pairs.insert(at, (doc, w));
                }
                *list = pairs.into_iter().collect();
            }
            !list.is_empty()
        });
        for (term, list) in fresh.map {
            touched.push(term.clone());
            self.map.insert(term, list);
        }
        touched
    }

    /// Gives back what the lists reserved beyond their length (after a full build's join).
    pub fn shrink_to_fit(&mut self) {
        self.map.values_mut().for_each(PostList::shrink_to_fit);
        self.map.shrink_to_fit();
    }

    /// Orders every list by document (after merging postings gathered out of order), so the
    /// output is the same as indexing the documents one by one.
    pub fn sort_docs(&mut self) {
        for list in self.map.values_mut() {
            let mut pairs: Vec<(u32, u32)> = list.iter().collect();
            pairs.sort_unstable();
            *list = pairs.into_iter().collect();
        }
    }

    /// Every term and its list, in no order.
    pub(crate) fn lists(&self) -> impl Iterator<Item = (&str, &PostList)> {
        self.map.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Postings made of these lists (each ordered by document).
    pub(crate) fn from_lists(lists: impl IntoIterator<Item = (String, PostList)>) -> Postings {
        Postings {
            map: lists.into_iter().collect(),
        }
    }

    pub(crate) fn sorted(&self) -> BTreeMap<&str, &PostList> {
        self.map.iter().map(|(k, v)| (k.as_str(), v)).collect()
    }
}

fn json(value: &impl Serialize) -> String {
    // The index is loaded as a script: keep `</script>` out of it even inside strings.
    serde_json::to_string(value)
        .unwrap_or_else(|_| "null".into())
        .replace("</", "<\\/")
}

pub(crate) const PREFIX: &str = "window.MESA_SEARCH=window.MESA_SEARCH||{};";

/// `search/pages.js`: the whole page index (kb, playbook, catalog, tables).
pub fn pages_index(docs: &[Doc], text_limit: usize) -> String {
    let mut index = PageIndex::default();
    for d in docs {
        index.add(d, text_limit);
    }
    index.finish()
}

/// The page index being built: postings plus one short row (url, title, kind, snippet) per
/// page. Pages may be indexed elsewhere (in parallel, as they are rendered) and handed over
/// with [`PageIndex::with`]; the full text of a page is never kept.
#[derive(Default, Serialize, Deserialize)]
pub struct PageIndex {
    postings: Postings,
    rows: Vec<[String; 4]>,
}

impl PageIndex {
    /// Starts from postings of documents `0..rows.len()` (lists sorted by document).
    pub fn with(postings: Postings, rows: Vec<[String; 4]>) -> PageIndex {
        PageIndex { postings, rows }
    }

    /// Indexes the next document; its snippet is the start of its body.
    pub fn add(&mut self, d: &Doc, text_limit: usize) {
        self.postings.add(self.rows.len() as u32, &d.title, &d.body);
        self.rows.push([
            d.url.clone(),
            d.title.clone(),
            d.kind.clone(),
            truncate(&d.body, text_limit),
        ]);
    }

    /// Re-indexes document `doc` with a new snippet (`mesa serve`'s rebuild of one article).
    pub fn replace(&mut self, doc: usize, title: &str, body: &str, snippet: String) {
        self.postings.replace(doc as u32, title, body);
        if let Some(row) = self.rows.get_mut(doc) {
            row[3] = snippet;
        }
    }

    pub fn finish(&self) -> String {
        format!(
            "{PREFIX}MESA_SEARCH.pages={{\"docs\":{},\"terms\":{}}};\n",
            json(&self.rows),
            json(&self.postings.sorted())
        )
    }
}

/// About how many bytes a term and its postings take in a shard (decides which shards split).
pub(crate) fn term_bytes(term: &str, list: &PostList) -> usize {
    term.len() + 6 + list.pairs() * 12
}

/// One shard of ticket terms. [`ticket_shards`] and [`ticket_shards_touched`] both write
/// shards, the manifest and document chunks through these three, so the formats agree.
pub(crate) fn shard_file(key: &str, terms: &BTreeMap<&str, &PostList>) -> (String, String) {
    (
        format!("{key}.js"),
        format!(
            "{PREFIX}MESA_SEARCH.tickets=MESA_SEARCH.tickets||{{}};MESA_SEARCH.tickets[\"{key}\"]={};\n",
            json(terms)
        ),
    )
}

/// The manifest: which shards are split and which exist.
pub(crate) fn manifest_file(split: &[&str], names: &[&str]) -> (String, String) {
    (
        "index.js".into(),
        format!(
            "{PREFIX}MESA_SEARCH.ticketSplit={};MESA_SEARCH.ticketShards={};\n",
            json(&split),
            json(&names)
        ),
    )
}

/// Chunk `n` of the ticket documents (url, title, kind, snippet).
fn docs_file<D: std::borrow::Borrow<TicketDoc>>(n: usize, chunk: &[D]) -> (String, String) {
    let rows: Vec<(&str, &str, &str, &str)> = chunk
        .iter()
        .map(|d| {
            let d = d.borrow();
            (&*d.url, &*d.title, d.kind, d.snippet.as_str())
        })
        .collect();
    (
        format!("docs-{n}.js"),
        format!(
            "{PREFIX}MESA_SEARCH.ticketDocs=MESA_SEARCH.ticketDocs||{{}};MESA_SEARCH.ticketDocs[{n}]={};\n",
            json(&rows)
        ),
    )
}

/// The sharded ticket index: (file name under `search/t/`, contents). Deterministic, so an
/// unchanged desk rewrites nothing.
pub fn ticket_shards(postings: &Postings, docs: &[TicketDoc]) -> Vec<(String, String)> {
    let out = std::sync::Mutex::new(Vec::new());
    let _ = each_ticket_shard(postings, docs, &|name: &str,
                                                text: &str|
     -> Result<(), ()> {
        if let Ok(mut o) = out.lock() {
            o.push((name.to_string(), text.to_string()));
        }
        Ok(())
    });
    let mut out = out.into_inner().unwrap_or_default();
    out.sort();
    out
}

/// The files of [`ticket_shards`], each handed to `write` as soon as it is made (in parallel), so a
/// build never holds the whole serialised index; stops at the first error.
pub fn each_ticket_shard<E: Send>(
    postings: &Postings,
    docs: &[TicketDoc],
    write: &(dyn Fn(&str, &str) -> Result<(), E> + Sync),
) -> Result<(), E> {
    use rayon::prelude::*;
    let mut by_two: BTreeMap<String, Vec<(&str, &PostList)>> = BTreeMap::new();
    for (term, list) in postings.sorted() {
        by_two.entry(shard(term)).or_default().push((term, list));
    }
    // A common two-letter prefix ("co", "re") holds a large part of the index: such shards are
    // split by three letters, and `split.js` tells the browser which ones are.
    let mut split: Vec<&str> = Vec::new();
    let mut shards: BTreeMap<String, Vec<(&str, &PostList)>> = BTreeMap::new();
    for (key, terms) in &by_two {
        let size: usize = terms.iter().map(|(t, l)| term_bytes(t, l)).sum();
        if size > SPLIT_BYTES {
            split.push(key);
            for (t, l) in terms {
                shards.entry(shard3(t)).or_default().push((t, l));
            }
        } else {
            shards.insert(key.clone(), terms.clone());
        }
    }
    // The manifest: which shards are split and which exist, so the browser never asks for a
    // file that is not there (a 404 in the console of a served site).
    let names: Vec<&str> = shards.keys().map(String::as_str).collect();
    let (name, text) = manifest_file(&split, &names);
    write(&name, &text)?;
    shards.par_iter().try_for_each(|(key, terms)| {
        let map: BTreeMap<&str, &PostList> = terms.iter().copied().collect();
        let (name, text) = shard_file(key, &map);
        write(&name, &text)
    })?;
    docs.par_chunks(DOC_CHUNK)
        .enumerate()
        .try_for_each(|(n, chunk)| {
            let (name, text) = docs_file(n, chunk);
            write(&name, &text)
        })
}

/// The files of [`ticket_shards`] that can differ after documents were re-indexed and the
/// lists of `touched` terms changed ([`Postings::replace`]): those terms' shards and the
/// manifest, with the same bytes `ticket_shards` gives them (for the incremental rebuild;
/// the changed documents' chunks come from [`ticket_docs_file`]). Also returns the name of
/// every file that exists now (of `doc_count` documents), so the caller can remove the ones
/// that went away.
pub fn ticket_shards_touched(
    postings: &Postings,
    doc_count: usize,
    touched: &[String],
) -> (Vec<(String, String)>, Vec<String>) {
    use std::collections::{HashMap, HashSet};
    let mut sizes: HashMap<String, usize> = HashMap::new();
    for (t, l) in &postings.map {
        *sizes.entry(shard(t)).or_default() += term_bytes(t, l);
    }
    let key_of = |t: &str| {
        let two = shard(t);
        if sizes.get(&two).is_some_and(|&s| s > SPLIT_BYTES) {
            shard3(t)
        } else {
            two
        }
    };
    let mut split: Vec<&str> = sizes
        .iter()
        .filter(|(_, &s)| s > SPLIT_BYTES)
        .map(|(k, _)| k.as_str())
        .collect();
    split.sort_unstable();
    let wanted: HashSet<String> = touched.iter().map(|t| key_of(t)).collect();
    let mut names: BTreeMap<String, BTreeMap<&str, &PostList>> = BTreeMap::new();
    for (t, l) in &postings.map {
        let key = key_of(t);
        let terms = names.entry(key.clone()).or_default();
        if wanted.contains(&key) {
            terms.insert(t.as_str(), l);
        }
    }
    let mut out: Vec<(String, String)> = names
        .iter()
        .filter(|(key, _)| wanted.contains(*key))
        .map(|(key, map)| shard_file(key, map))
        .collect();
    let keys: Vec<&str> = names.keys().map(String::as_str).collect();
    out.push(manifest_file(&split, &keys));
    let mut files: Vec<String> = names.keys().map(|k| format!("{k}.js")).collect();
    files.push("index.js".into());
    files.extend((0..doc_count.div_ceil(DOC_CHUNK)).map(|n| format!("docs-{n}.js")));
    (out, files)
}

/// Chunk `n` of the ticket documents as [`ticket_shards`] writes it (`chunk`: its
/// [`DOC_CHUNK`] documents, fewer for the last).
pub fn ticket_docs_file(n: usize, chunk: &[&TicketDoc]) -> (String, String) {
    docs_file(n, chunk)
}

/// The first `max` bytes of `s` (at a character boundary), with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_and_stems_spanish() {
        assert_eq!(fold("Fotografía ÑANDÚ"), "fotografia nandu");
        assert_eq!(terms("Verificaciones"), terms("verificación"));
        assert_eq!(terms("errores"), terms("error"));
        assert_eq!(terms("páginas"), terms("Página"));
        assert_eq!(terms("a b cd"), vec!["cd".to_string()]);
    }

    /// What [`each_term`] does in one pass, as it was written before: the whole text folded,
    /// then split at every folded character that is not alphanumeric.
    fn terms_fold_then_split(text: &str) -> Vec<String> {
        fold(text)
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() >= 2 && (w.is_ascii() || w.chars().count() >= 2))
            .map(|w| stem(w).to_string())
            .collect()
    }

    #[test]
    fn terms_worked_by_hand() {
        let t = |s: &str| terms(s);
        // Plural stemmed ("niños" -> "nino"), accents folded, one-letter words dropped.
        assert_eq!(
            t("Niños, ¿qué pasó? Año 2026; x"),
            ["nino", "que", "paso", "ano", "2026"]
        );
        // "İ" decomposes to "I" and a combining dot (dropped); "Ç" to "C" and a cedilla;
        // the dotless "ı" stays itself, a letter.
        assert_eq!(t("İstanbul Çamlıca"), ["istanbul", "camlıca"]);
        // Two characters but one byte each after folding: "ñ" alone is one letter.
        assert_eq!(t("ñ é ü"), Vec::<String>::new());
        // Two non-ASCII characters make a term; one, however many bytes, does not.
        assert_eq!(t("日 日本 Ωμ"), ["日本", "ωμ"]);
        // Punctuation, emoji and a zero-width space split words; digits and letters do not.
        assert_eq!(
            t("VPN/IP-fijo😀ok\u{200b}ab_cd"),
            ["vpn", "ip", "fijo", "ok", "ab", "cd"]
        );
        // A combining mark typed apart is removed too; the word stays whole.
        assert_eq!(t("Cafe\u{301}s"), ["cafe"]);
        assert_eq!(t(""), Vec::<String>::new());
        assert_eq!(t("  ab  "), ["ab"]);
    }

    #[test]
    fn one_pass_terms_match_fold_then_split() {
        // Every character from U+0000 to U+2FFFF (the assigned planes but the private and
        // special ones) alone, doubled, and between ASCII letters and between accented ones.
        for c in (0u32..0x30000).filter_map(char::from_u32) {
            for text in [
                format!("{c}"),
                format!("{c}{c}"),
                format!("ab{c}cd"),
                format!("é{c}ñ{c}Ü"),
            ] {
                assert_eq!(terms(&text), terms_fold_then_split(&text), "{text:?}");
            }
        }
        // Longer texts: runs of mixed scripts, marks, punctuation and digits, as a simple
        // generator (deterministic) strings them together.
        let pieces = [
            "Fotografía",
            " ",
            "ÑANDÚ",
            "-",
            "errores",
            "İ",
            "ß",
            "ﬁ",
            "Σ",
            "²",
            "\u{301}",
            "\u{200b}",
            "日本",
            "😀",
            "x",
            "ǅ",
            "\n",
            "ses",
            "Verificaciones",
            ",",
            "Ǆ",
            "ά",
            "1",
        ];
        let mut seed = 12345u64;
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..(seed % 13) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            assert_eq!(terms(&text), terms_fold_then_split(&text), "{text:?}");
        }
    }

    #[test]
    fn titles_rank_above_bodies() {
        let docs = [
            Doc {
                url: "a.html".into(),
                title: "Otra cosa".into(),
                kind: "k".into(),
                body: "huellero huellero huellero".into(),
            },
            Doc {
                url: "b.html".into(),
                title: "Biométrico (huellero)".into(),
                kind: "k".into(),
                body: "nada".into(),
            },
        ];
        let mut p = Postings::default();
        for (i, d) in docs.iter().enumerate() {
            p.add(i as u32, &d.title, &d.body);
        }
        let list = &p.map["huellero"];
        let weight = |doc: u32| {
            list.iter()
                .find(|&(d, _)| d == doc)
                .map(|(_, w)| w)
                .unwrap()
        };
        assert!(weight(1) > weight(0));
        let js = pages_index(&docs, 100);
        assert!(js.starts_with("window.MESA_SEARCH"));
        assert!(js.contains("\"huellero\""));
    }

    #[test]
    fn pages_indexed_in_parallel_match_one_by_one() {
        let docs: Vec<Doc> = (0..40)
            .map(|i| Doc {
                url: format!("kb/articles/a{i}.html"),
                title: format!("Artículo {i} huellero"),
                kind: "Artículo".into(),
                body: format!(
                    "Fotografía {} captura {}",
                    "x".repeat(i % 7 + 2),
                    "é".repeat(300)
                ),
            })
            .collect();
        let one_by_one = pages_index(&docs, 240);
        // Two "workers" take interleaved documents, as rayon may, then merge and sort.
        let (mut a, mut b) = (Postings::default(), Postings::default());
        for (i, d) in docs.iter().enumerate().rev() {
            let p = if i % 3 == 0 { &mut a } else { &mut b };
            p.add(i as u32, &d.title, &d.body);
        }
        a.merge(b);
        a.sort_docs();
        let rows = docs
            .iter()
            .map(|d| {
                [
                    d.url.clone(),
                    d.title.clone(),
                    d.kind.clone(),
                    truncate(&d.body, 240),
                ]
            })
            .collect();
        assert_eq!(PageIndex::with(a, rows).finish(), one_by_one);
        // Snippets are short: no page carries its whole text.
        assert!(!one_by_one.contains(&"é".repeat(200)));
        assert!(
            one_by_one.contains("\"fotografia\":[0,1,1,1,2,1"),
            "{one_by_one}"
        );
    }

    #[test]
    fn big_shards_split_by_three_letters() {
        let mut p = Postings::default();
        let mut docs = Vec::new();
        // Enough documents with "configuracion" and "correo" to pass SPLIT_BYTES in "co".
        for i in 0..60_000u32 {
            p.add(i, &format!("n{}", i % 10), "configuración correo co");
            docs.push(TicketDoc {
                url: format!("t/{i}.html").into(),
                title: "Caso".into(),
                kind: "ticket",
                snippet: String::new(),
            });
        }
        let shards = ticket_shards(&p, &docs);
        let names: Vec<&str> = shards.iter().map(|(n, _)| n.as_str()).collect();
        assert!(
            names.contains(&"con.js") && names.contains(&"cor.js") && names.contains(&"co-.js"),
            "{names:?}"
        );
        assert!(!names.contains(&"co.js"));
        let split = &shards.iter().find(|(n, _)| n == "index.js").unwrap().1;
        assert!(split.contains("[\"co\"]"), "{split}");
        assert!(names.contains(&"n0.js"), "small shards stay whole");
    }

    #[test]
    fn ticket_shards_split_by_prefix() {
        let mut p = Postings::default();
        let mut docs = Vec::new();
        for i in 0..3u32 {
            let body = if i == 1 { "impresora" } else { "fotografía" };
            p.add(i, &format!("Caso {i}"), body);
            docs.push(TicketDoc {
                url: format!("tickets/{i}.html").into(),
                title: format!("Caso {i}"),
                kind: "ticket",
                snippet: body.into(),
            });
        }
        let shards = ticket_shards(&p, &docs);
        let fo = shards.iter().find(|(n, _)| n == "fo.js").unwrap();
        assert!(fo.1.contains("\"fotografia\":[0,1,2,1]"), "{}", fo.1);
        assert!(!fo.1.contains("impresora"));
        assert!(shards.iter().any(|(n, _)| n == "docs-0.js"));
        let index = shards.iter().find(|(n, _)| n == "index.js").unwrap();
        assert!(index.1.contains("MESA_SEARCH.ticketSplit=[];"));
        assert!(
            index.1.contains("\"fo\"") && index.1.contains("\"im\""),
            "{}",
            index.1
        );
        // Same input, same bytes (unchanged files are not rewritten).
        assert_eq!(shards, ticket_shards(&p, &docs));
    }
}
