//! The ticket search postings as the build manifest keeps them, sharded, so that a build after
//! one ticket edit reads and rewrites what that ticket's terms reach, not the whole index (at
//! a million tickets the postings are over 400 MB).
//!
//! - **By documents** ([`write_doc_shards`], [`DocShards`]): the postings of each range of
//!   [`SHARD_DOCS`] tickets, each range encoded and checksummed alone. They say which terms a
//!   ticket had, and with which weight, as of the full build: a ticket edit decodes its own
//!   range (and replays the patches of the delta on it), never the others.
//! - **By terms**: the site's own `search/t/*.js` files, which hold every term's whole list;
//!   the manifest has already checked that the output folder is exactly as the last build left
//!   it, so they are read as that build wrote them. Only the files of terms whose weight for
//!   an edited ticket moved are read, patched and written ([`patch_site`]), and each is
//!   checked to read back into the same bytes before it is trusted.
//! - **The groups** ([`Groups`]): per two-letter key, the size that decides whether its terms
//!   are split by three letters (as [`crate::output::search::each_ticket_shard`] decides) and
//!   the files it has: what `search/t/index.js` lists. Small; kept whole.

use crate::output::postlist::PostList;
use crate::output::search::{
    manifest_file, shard, shard3, shard_file, term_bytes, Postings, PREFIX, SPLIT_BYTES,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Tickets per range of the postings by documents.
pub(crate) const SHARD_DOCS: usize = 1024;

/// The two-letter groups of the ticket terms: each one's size (the sum of
/// [`term_bytes`]) and the keys of its files under `search/t/`.
#[derive(Serialize, Deserialize, Clone, Default, Debug, PartialEq)]
pub(crate) struct Groups(BTreeMap<String, Group>);

#[derive(Serialize, Deserialize, Clone, Default, Debug, PartialEq)]
pub(crate) struct Group {
    size: u64,
    files: BTreeSet<String>,
}

impl Group {
    fn split(&self) -> bool {
        self.size > SPLIT_BYTES as u64
    }
}

impl Groups {
    /// The groups of a whole index, as a full build writes its files.
    pub(crate) fn of(postings: &Postings) -> Groups {
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        for (t, l) in postings.lists() {
            groups.entry(shard(t)).or_default().size += term_bytes(t, l) as u64;
        }
        for (t, _) in postings.lists() {
            let g = groups.entry(shard(t)).or_default();
            let key = if g.split() { shard3(t) } else { shard(t) };
            g.files.insert(key);
        }
        Groups(groups)
    }

    /// `search/t/index.js` (name, text).
    pub(crate) fn index_file(&self) -> (String, String) {
        let split: Vec<&str> = self
            .0
            .iter()
            .filter(|(_, g)| g.split())
            .map(|(k, _)| k.as_str())
            .collect();
        let names: BTreeSet<&str> = self
            .0
            .values()
            .flat_map(|g| g.files.iter().map(String::as_str))
            .collect();
        let names: Vec<&str> = names.into_iter().collect();
        manifest_file(&split, &names)
    }

    /// The name of every term file (`key.js`).
    pub(crate) fn file_names(&self) -> Vec<String> {
        self.0
            .values()
            .flat_map(|g| g.files.iter().map(|k| format!("{k}.js")))
            .collect()
    }
}

/// Writes the postings by ranges of documents (`docs`: how many there are): the number of
/// ranges, then per range its offset (from the end of the table), length and checksum, the
/// checksum of all that, then the ranges. Each range is made from every list's next pairs and
/// written at once: only the cursors of the lists and one range are held.
pub(crate) fn write_doc_shards(
    postings: &Postings,
    docs: usize,
    w: &mut dyn super::records::Sink,
) -> std::io::Result<()> {
    let n = docs.div_ceil(SHARD_DOCS).max(1);
    let start = w.written();
    let table_len = 8 + n * 24 + 8;
    w.write_all(&vec![0u8; table_len])?;
    let mut terms: Vec<(&str, &PostList)> = postings.lists().collect();
    terms.sort_unstable_by(|a, b| a.0.cmp(b.0));
    let mut cursors: Vec<std::iter::Peekable<crate::output::postlist::Iter>> =
        terms.iter().map(|(_, l)| l.iter().peekable()).collect();
    let range_of = |d: u32| (d as usize / SHARD_DOCS).min(n - 1);
    // The terms whose next pair lies in each range, in term order.
    let mut waiting: Vec<Vec<u32>> = vec![Vec::new(); n];
    for (k, c) in cursors.iter_mut().enumerate() {
        if let Some(&(d, _)) = c.peek() {
            waiting[range_of(d)].push(k as u32);
        }
    }
    let mut table = Vec::with_capacity(table_len);
    table.extend_from_slice(&(n as u64).to_le_bytes());
    let mut at = 0u64;
    for r in 0..n {
        let mut ks = std::mem::take(&mut waiting[r]);
        ks.sort_unstable();
        let end = ((r + 1) * SHARD_DOCS) as u64;
        let mut lists: Vec<(&str, PostList)> = Vec::with_capacity(ks.len());
        for k in ks {
            let c = &mut cursors[k as usize];
            let mut list = PostList::default();
            while let Some(&(d, wt)) = c.peek() {
                if r + 1 < n && u64::from(d) >= end {
                    break;
                }
                list.push(d, wt);
                c.next();
            }
            if let Some(&(d, _)) = c.peek() {
                waiting[range_of(d)].push(k);
            }
            lists.push((terms[k as usize].0, list));
        }
        let bytes = postcard::to_stdvec(&lists).map_err(std::io::Error::other)?;
        w.write_all(&bytes)?;
        table.extend_from_slice(&at.to_le_bytes());
        table.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        table.extend_from_slice(&crate::output::facts::checksum(&bytes).to_le_bytes());
        at += bytes.len() as u64;
    }
    let sum = crate::output::facts::checksum(&table);
    table.extend_from_slice(&sum.to_le_bytes());
    w.patch(start, &table)
}

/// The postings by documents as mapped: the table checked, each range checked when read.
#[derive(Clone, Copy)]
pub(crate) struct DocShards {
    table: &'static [u8],
    data: &'static [u8],
}

impl DocShards {
    /// `None` when the table is cut short, its checksum fails or a range lies outside.
    pub(crate) fn parse(b: &'static [u8]) -> Option<DocShards> {
        let n = usize::try_from(u64::from_le_bytes(b.get(..8)?.try_into().ok()?)).ok()?;
        let table_len = n.checked_mul(24)?.checked_add(16)?;
        let table = b.get(..table_len - 8)?;
        let sum = u64::from_le_bytes(b.get(table_len - 8..table_len)?.try_into().ok()?);
        if sum != crate::output::facts::checksum(table) {
            return None;
        }
        let s = DocShards {
            table,
            data: &b[table_len..],
        };
        for r in 0..n {
            let (off, len, _) = s.entry(r)?;
            if off.checked_add(len)? > s.data.len() {
                return None;
            }
        }
        Some(s)
    }

    fn entry(&self, r: usize) -> Option<(usize, usize, u64)> {
        let word = |at: usize| -> Option<u64> {
            Some(u64::from_le_bytes(
                self.table.get(at..at + 8)?.try_into().ok()?,
            ))
        };
        let at = 8 + r * 24;
        Some((
            usize::try_from(word(at)?).ok()?,
            usize::try_from(word(at + 8)?).ok()?,
            word(at + 16)?,
        ))
    }

    /// The postings of the range holding document `doc` (`None`: corrupt or out of range).
    pub(crate) fn of_doc(&self, doc: u32) -> Option<Postings> {
        let n = usize::try_from(u64::from_le_bytes(self.table.get(..8)?.try_into().ok()?)).ok()?;
        let r = (doc as usize / SHARD_DOCS).min(n.checked_sub(1)?);
        let (off, len, sum) = self.entry(r)?;
        let bytes = self.data.get(off..off + len)?;
        if crate::output::facts::checksum(bytes) != sum {
            return None;
        }
        let lists: Vec<(&str, PostList)> = postcard::from_bytes(bytes).ok()?;
        Some(Postings::from_lists(
            lists.into_iter().map(|(t, l)| (t.to_string(), l)),
        ))
    }
}

/// The range of documents `doc` belongs to.
pub(crate) fn range_of(doc: u32) -> usize {
    doc as usize / SHARD_DOCS
}

/// Document `doc`'s weight for each of its terms.
pub(crate) fn weights_of(postings: &Postings, doc: u32) -> HashMap<String, u32> {
    postings
        .lists()
        .filter_map(|(t, l)| {
            l.iter()
                .take_while(|&(d, _)| d <= doc)
                .find(|&(d, _)| d == doc)
                .map(|(_, w)| (t.to_string(), w))
        })
        .collect()
}

/// How one term's list changes: document, its weight before and after (`None`: absent).
pub(crate) type Change = (u32, Option<u32>, Option<u32>);

/// The changes of document `doc` from `old` to `new` weights, by term.
pub(crate) fn changes(
    doc: u32,
    old: &HashMap<String, u32>,
    new: &HashMap<String, u32>,
    into: &mut BTreeMap<String, Vec<Change>>,
) {
    for (t, &w) in old {
        let n = new.get(t).copied();
        if n != Some(w) {
            into.entry(t.clone()).or_default().push((doc, Some(w), n));
        }
    }
    for (t, &w) in new {
        if !old.contains_key(t) {
            into.entry(t.clone())
                .or_default()
                .push((doc, None, Some(w)));
        }
    }
}

/// A term file of `search/t/` read back into its lists (`None`: not as
/// [`shard_file`] writes it).
fn parse_file(key: &str, text: &str) -> Option<BTreeMap<String, PostList>> {
    let head = format!(
        "{PREFIX}MESA_SEARCH.tickets=MESA_SEARCH.tickets||{{}};MESA_SEARCH.tickets[\"{key}\"]="
    );
    let body = text.strip_prefix(&head)?.strip_suffix(";\n")?;
    let map: BTreeMap<String, PostList> = serde_json::from_str(body).ok()?;
    // Trusted only if it is exactly what writing it again gives.
    let borrowed: BTreeMap<&str, &PostList> = map.iter().map(|(k, v)| (k.as_str(), v)).collect();
    (shard_file(key, &borrowed).1 == text).then_some(map)
}

/// Applies `changes` (by term) to the term files, read with `read` (file name under
/// `search/t/` -> its text): returns the files to write (name, text), `groups` updated. A
/// file no longer in `groups` is to be removed. `None` when a file cannot be read back or
/// does not hold what the changes expect (the caller builds in full).
pub(crate) fn patch_site(
    groups: &mut Groups,
    changes: &BTreeMap<String, Vec<Change>>,
    read: &(dyn Fn(&str) -> Option<String> + Sync),
) -> Option<Vec<(String, String)>> {
    let mut by_group: BTreeMap<String, Vec<(&str, &[Change])>> = BTreeMap::new();
    for (t, c) in changes {
        by_group
            .entry(shard(t))
            .or_default()
            .push((t.as_str(), c.as_slice()));
    }
    let mut out = Vec::new();
    for (key2, terms) in by_group {
        let g = groups.0.entry(key2.clone()).or_default();
        let was_split = g.split();
        let file_of = |t: &str, split: bool| if split { shard3(t) } else { shard(t) };
        // The files the changed terms live in, read (absent ones start empty).
        let mut files: BTreeMap<String, BTreeMap<String, PostList>> = BTreeMap::new();
        for (t, _) in &terms {
            let key = file_of(t, was_split);
            if files.contains_key(&key) {
                continue;
            }
            let map = if g.files.contains(&key) {
                parse_file(&key, &read(&format!("{key}.js"))?)?
            } else {
                BTreeMap::new()
            };
            files.insert(key, map);
        }
        let mut size = g.size as i64;
        for (t, cs) in &terms {
            let map = files.get_mut(&file_of(t, was_split))?;
            let old = map.remove(*t);
            let mut pairs: Vec<(u32, u32)> =
                old.as_ref().map(|l| l.iter().collect()).unwrap_or_default();
            for &(doc, before, after) in *cs {
                let at = pairs.iter().position(|&(d, _)| d == doc);
                if at.map(|k| pairs[k].1) != before {
                    return None;
                }
                if let Some(k) = at {
                    pairs.remove(k);
                }
                if let Some(w) = after {
                    let k = pairs.partition_point(|&(d, _)| d < doc);
                    pairs.insert(k, (doc, w));
                }
            }
            if let Some(l) = &old {
                size -= term_bytes(t, l) as i64;
            }
            if !pairs.is_empty() {
                let list: PostList = pairs.into_iter().collect();
                size += term_bytes(t, &list) as i64;
                map.insert(t.to_string(), list);
            }
        }
        g.size = u64::try_from(size).ok()?;
        let now_split = g.split();
        if now_split != was_split {
            // The group changes form: every one of its files is read, and written anew.
            let mut all: BTreeMap<String, PostList> = BTreeMap::new();
            for key in g.files.clone() {
                let map = match files.remove(&key) {
                    Some(m) => m,
                    None => parse_file(&key, &read(&format!("{key}.js"))?)?,
                };
                all.extend(map);
            }
            for (_, map) in std::mem::take(&mut files) {
                all.extend(map);
            }
            g.files.clear();
            for (t, l) in all {
                files
                    .entry(file_of(&t, now_split))
                    .or_default()
                    .insert(t, l);
            }
        }
        for (key, map) in &files {
            if map.is_empty() {
                g.files.remove(key);
            } else {
                g.files.insert(key.clone());
                let borrowed: BTreeMap<&str, &PostList> =
                    map.iter().map(|(k, v)| (k.as_str(), v)).collect();
                out.push(shard_file(key, &borrowed));
            }
        }
        if g.files.is_empty() {
            groups.0.remove(&key2);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::search::ticket_shards;

    fn index(docs: &[(&str, &str)]) -> Postings {
        let mut p = Postings::default();
        for (i, (t, b)) in docs.iter().enumerate() {
            p.add(i as u32, t, b);
        }
        p
    }

    fn files_of(p: &Postings) -> BTreeMap<String, String> {
        ticket_shards(p, &[]).into_iter().collect()
    }

    /// The postings by ranges, read back range by range, hold exactly each document's
    /// weights, across ranges and at the last, short one.
    #[test]
    fn doc_ranges_read_back_each_documents_weights() {
        let docs: Vec<(String, String)> = (0..SHARD_DOCS * 2 + 7)
            .map(|i| {
                (
                    format!("caso {}", i % 13),
                    format!("texto palabra{} comun", i % 50),
                )
            })
            .collect();
        let refs: Vec<(&str, &str)> = docs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        let p = index(&refs);
        let mut bytes = Vec::new();
        write_doc_shards(&p, docs.len(), &mut bytes).unwrap();
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        let shards = DocShards::parse(bytes).unwrap();
        for doc in [0u32, 1, 1023, 1024, 2047, 2048, 2054] {
            let range = shards.of_doc(doc).unwrap();
            assert_eq!(weights_of(&range, doc), weights_of(&p, doc), "doc {doc}");
        }
        // A flipped byte in a range: that range is refused, not misread.
        let mut bad = bytes.to_vec();
        let last = bad.len() - 3;
        bad[last] ^= 0x55;
        let bad: &'static [u8] = Box::leak(bad.into_boxed_slice());
        let shards = DocShards::parse(bad).unwrap();
        assert!(shards.of_doc(2050).is_none());
        assert!(shards.of_doc(3).is_some());
        // Cut short: the whole section is refused.
        assert!(DocShards::parse(&bytes[..40]).is_none());
    }

    /// Patching the term files of a changed document gives the files and index of a full
    /// write of the new postings, including when a group grows past the split size and
    /// shrinks back under it.
    #[test]
    fn patched_term_files_equal_a_full_write() {
        // "cosa" in 40,000 documents: its group is just under the split size.
        let filler: Vec<String> = (0..40_000).map(|_| "cosa".to_string()).collect();
        let mut docs: Vec<(String, String)> = filler
            .iter()
            .map(|b| ("titulo".to_string(), b.clone()))
            .collect();
        docs.push(("otro".into(), "nada aqui".into()));
        let edits = [
            "cambio de texto aqui",
            // Enough new "co" terms in one document to split the group.
            &(0..3000)
                .map(|i| format!("cox{i}"))
                .collect::<Vec<_>>()
                .join(" "),
            "nada aqui",
            "",
        ];
        let refs = |d: &[(String, String)]| -> Postings {
            let v: Vec<(&str, &str)> = d.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
            index(&v)
        };
        let mut p = refs(&docs);
        let mut groups = Groups::of(&p);
        let mut site = files_of(&p);
        let last = (docs.len() - 1) as u32;
        for edit in edits {
            let old = weights_of(&p, last);
            docs.last_mut().unwrap().1 = edit.to_string();
            let mut fresh = Postings::default();
            fresh.add(last, &docs.last().unwrap().0, edit);
            let new = weights_of(&fresh, last);
            let mut ch = BTreeMap::new();
            changes(last, &old, &new, &mut ch);
            let written = patch_site(&mut groups, &ch, &|name| site.get(name).cloned()).unwrap();
            for (name, text) in written {
                site.insert(name, text);
            }
            let (name, text) = groups.index_file();
            site.insert(name, text);
            let names: BTreeSet<String> = groups.file_names().into_iter().collect();
            site.retain(|k, _| k == "index.js" || names.contains(k));
            p = refs(&docs);
            assert_eq!(groups, Groups::of(&p), "after {:.20}", edit);
            assert_eq!(site, files_of(&p), "after {:.20}", edit);
        }
        // A file that does not hold what the change expects: refused.
        let mut ch = BTreeMap::new();
        ch.insert("titulo".to_string(), vec![(last, Some(7), None)]);
        assert!(patch_site(&mut groups.clone(), &ch, &|name| site.get(name).cloned()).is_none());
    }
}
