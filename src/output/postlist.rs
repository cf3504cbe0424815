//! One search term's postings, compact: the (document, weight) pairs of a term in the order
//! they were added, each document as its difference from the one before and both numbers as
//! LEB128 variable-length integers. A pair takes two or three bytes instead of eight; at a
//! million tickets the build keeps about 150 million pairs until it writes the search shards
//! and the build manifest.
//!
//! The last pair is held apart, unencoded, because its weight still grows while its document
//! is being indexed ([`PostList::bump_or_push`]). Serialised it is the flat list
//! `[doc, weight, doc, weight, ...]` the index always was, in JSON (the search shards) and in
//! postcard (the build manifest), so both keep their bytes.

use serde::{Deserialize, Serialize};

/// A term's (document, weight) pairs.
#[derive(Default, Clone, Debug)]
pub struct PostList {
    /// Every pair but the last: document minus the previous pair's (wrapping, so an out of
    /// order list still round-trips), then the weight.
    bytes: Vec<u8>,
    /// The document of the last pair in `bytes` (0 when empty): what the next difference is
    /// taken from.
    base: u32,
    /// The last pair (meaningful when `pairs > 0`).
    last: (u32, u32),
    pairs: u32,
}

fn put(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The integer at `*at` in `b` (its caller wrote it with [`put`]).
fn get(b: &[u8], at: &mut usize) -> u32 {
    let mut v = 0u32;
    let mut shift = 0;
    while let Some(&byte) = b.get(*at) {
        *at += 1;
        v |= u32::from(byte & 0x7f).wrapping_shl(shift);
        if byte < 0x80 {
            break;
        }
        shift += 7;
    }
    v
}

impl PostList {
    /// A list of one pair.
    pub fn one(doc: u32, weight: u32) -> PostList {
        PostList {
            bytes: Vec::new(),
            base: 0,
            last: (doc, weight),
            pairs: 1,
        }
    }

    /// The number of pairs.
    pub fn pairs(&self) -> usize {
        self.pairs as usize
    }

    pub fn is_empty(&self) -> bool {
        self.pairs == 0
    }

    /// Appends a pair.
    pub fn push(&mut self, doc: u32, weight: u32) {
        if self.pairs > 0 {
            let (d, w) = self.last;
            put(&mut self.bytes, d.wrapping_sub(self.base));
            put(&mut self.bytes, w);
            self.base = d;
        }
        self.last = (doc, weight);
        self.pairs += 1;
    }

    /// The last pair's weight when its document is `doc`, to grow in place.
    pub fn last_weight_of(&mut self, doc: u32) -> Option<&mut u32> {
        (self.pairs > 0 && self.last.0 == doc).then_some(&mut self.last.1)
    }

    /// The pairs in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            list: self,
            at: 0,
            doc: 0,
            left: self.pairs,
        }
    }

    /// Appends `other`'s pairs with their documents moved on by `offset`: the differences
    /// inside `other` do not change, so its bytes after the first pair are copied as they are.
    pub fn append_shifted(&mut self, other: PostList, offset: u32) {
        if other.pairs == 0 {
            return;
        }
        if other.bytes.is_empty() {
            self.push(other.last.0.wrapping_add(offset), other.last.1);
            return;
        }
        let mut at = 0;
        let first = get(&other.bytes, &mut at).wrapping_add(offset);
        let weight = get(&other.bytes, &mut at);
        self.push(first, weight);
        // Encode it, so what follows in `other.bytes` (differences from it on) fits behind.
        let (d, w) = self.last;
        put(&mut self.bytes, d.wrapping_sub(self.base));
        put(&mut self.bytes, w);
        self.bytes.extend_from_slice(&other.bytes[at..]);
        self.base = other.base.wrapping_add(offset);
        self.last = (other.last.0.wrapping_add(offset), other.last.1);
        self.pairs += other.pairs - 1;
    }

    /// Gives back what the bytes reserved beyond their length.
    pub fn shrink_to_fit(&mut self) {
        self.bytes.shrink_to_fit();
    }
}

impl FromIterator<(u32, u32)> for PostList {
    fn from_iter<I: IntoIterator<Item = (u32, u32)>>(pairs: I) -> PostList {
        let mut list = PostList::default();
        for (d, w) in pairs {
            list.push(d, w);
        }
        list
    }
}

/// The pairs of a [`PostList`], decoded as they are read.
pub struct Iter<'a> {
    list: &'a PostList,
    at: usize,
    doc: u32,
    left: u32,
}

impl Iterator for Iter<'_> {
    type Item = (u32, u32);
    fn next(&mut self) -> Option<(u32, u32)> {
        match self.left {
            0 => None,
            1 => {
                self.left = 0;
                Some(self.list.last)
            }
            _ => {
                self.left -= 1;
                let b = &self.list.bytes;
                self.doc = self.doc.wrapping_add(get(b, &mut self.at));
                Some((self.doc, get(b, &mut self.at)))
            }
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left as usize, Some(self.left as usize))
    }
}

impl PartialEq for PostList {
    fn eq(&self, other: &PostList) -> bool {
        self.pairs == other.pairs && self.iter().eq(other.iter())
    }
}

impl Serialize for PostList {
    /// The flat `[doc, weight, ...]` list.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.pairs() * 2))?;
        for (d, w) in self.iter() {
            seq.serialize_element(&d)?;
            seq.serialize_element(&w)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for PostList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<PostList, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = PostList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a flat list of document and weight pairs")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<PostList, A::Error> {
                let mut list = PostList::default();
                while let Some(doc) = seq.next_element::<u32>()? {
                    let Some(w) = seq.next_element::<u32>()? else {
                        return Err(serde::de::Error::custom("a document without its weight"));
                    };
                    list.push(doc, w);
                }
                Ok(list)
            }
        }
        d.deserialize_seq(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(l: &PostList) -> Vec<u32> {
        l.iter().flat_map(|(d, w)| [d, w]).collect()
    }

    /// Pairs come back as pushed, across one-byte and multi-byte integers and out of order;
    /// the serialised forms are those of the plain `Vec<u32>` the index used to keep.
    #[test]
    fn pairs_round_trip_and_serialise_as_the_flat_list() {
        let pairs: Vec<(u32, u32)> = vec![
            (0, 1),
            (1, 100),
            (127, 20),
            (128, 1),
            (16_384, 300),
            (16_383, 2),
            (u32::MAX, u32::MAX),
            (5, 0),
        ];
        for n in 0..=pairs.len() {
            let list: PostList = pairs[..n].iter().copied().collect();
            assert_eq!(list.iter().collect::<Vec<_>>(), pairs[..n]);
            let plain: Vec<u32> = pairs[..n].iter().flat_map(|&(d, w)| [d, w]).collect();
            assert_eq!(
                serde_json::to_string(&list).unwrap(),
                serde_json::to_string(&plain).unwrap()
            );
            let bytes = postcard::to_allocvec(&list).unwrap();
            assert_eq!(bytes, postcard::to_allocvec(&plain).unwrap());
            let back: PostList = postcard::from_bytes(&bytes).unwrap();
            assert_eq!(flat(&back), plain);
        }
        assert!(postcard::from_bytes::<PostList>(
            &postcard::to_allocvec(&vec![1u32, 2, 3]).unwrap()
        )
        .is_err());
    }

    /// Appending a list shifted by an offset equals pushing its pairs one by one, whatever
    /// the two lists hold.
    #[test]
    fn appending_shifted_equals_pushing_one_by_one() {
        let lists: Vec<Vec<(u32, u32)>> = vec![
            vec![],
            vec![(0, 1)],
            vec![(3, 100)],
            vec![(0, 2), (1, 1)],
            vec![(0, 1), (200, 120), (201, 3), (70_000, 1)],
        ];
        for a in &lists {
            for b in &lists {
                for offset in [0, 1, 5, 300, 1_000_000] {
                    let mut joined: PostList = a.iter().copied().collect();
                    joined.append_shifted(b.iter().copied().collect(), offset);
                    let mut pushed: PostList = a.iter().copied().collect();
                    for &(d, w) in b {
                        pushed.push(d + offset, w);
                    }
                    assert_eq!(flat(&joined), flat(&pushed), "{a:?} + {b:?} at {offset}");
                    assert_eq!(joined.pairs(), a.len() + b.len());
                    // And it goes on growing as any list does.
                    joined.push(2_000_000, 7);
                    pushed.push(2_000_000, 7);
                    assert_eq!(flat(&joined), flat(&pushed));
                }
            }
        }
    }
}
