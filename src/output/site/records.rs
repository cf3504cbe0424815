//! Per-ticket records in a section of the build manifest, each decodable alone: a build after
//! one ticket edit reads that ticket's row, facts and citations, not the 100,000 others.
//!
//! Layout: the record count (u64), the number of blocks (u64), the checksum of each block of
//! [`BLOCK`] records (u64 each), the offset of each record and of the end (u64 each, from the
//! start of the data), the checksum of everything so far (u64), then the records (postcard).
//! A record is trusted only once its block's checksum matched, so a corrupt byte anywhere is
//! never decoded into a wrong value: a lookup of a record beside it still works, a lookup of
//! it fails (and the build is full).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU8, Ordering};

/// Records per checksummed block.
const BLOCK: usize = 256;

/// Blocks encoded at once by [`write`] (on every core), then written and dropped: at a
/// million tickets a whole section is hundreds of megabytes.
const GROUP: usize = 64;

/// Where a record section is written: bytes appended, and the head, whose room was written
/// first, filled in at the end.
pub(crate) trait Sink: std::io::Write {
    /// The bytes written so far.
    fn written(&self) -> u64;
    /// Overwrites bytes already written, from `at` (as counted by [`Sink::written`]).
    fn patch(&mut self, at: u64, bytes: &[u8]) -> std::io::Result<()>;
}

impl Sink for Vec<u8> {
    fn written(&self) -> u64 {
        self.len() as u64
    }
    fn patch(&mut self, at: u64, bytes: &[u8]) -> std::io::Result<()> {
        let at = usize::try_from(at).map_err(std::io::Error::other)?;
        self.get_mut(at..at + bytes.len())
            .ok_or_else(|| std::io::Error::other("patch past the end"))?
            .copy_from_slice(bytes);
        Ok(())
    }
}

/// Why a section was not written.
#[derive(Debug)]
pub(crate) enum WriteError {
    /// A record could not be encoded.
    Encode,
    /// The sink failed.
    Io,
}

/// Encodes `items` as a record section (blocks encoded on every core).
#[cfg(test)]
pub(crate) fn encode<T: Serialize + Sync>(items: &[T]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    write(items, &mut out).ok()?;
    Some(out)
}

/// Writes `items` as a record section into `w`, [`GROUP`] blocks at a time: the head (the
/// blocks' checksums and the records' offsets) precedes the records but is known only once
/// they are all encoded, so its room is written first and filled in at the end. Only the
/// head (8 bytes a record) and the group in hand are held, never the section.
pub(crate) fn write<T: Serialize + Sync>(items: &[T], w: &mut dyn Sink) -> Result<(), WriteError> {
    write_grouped(items, w, GROUP)
}

fn write_grouped<T: Serialize + Sync>(
    items: &[T],
    w: &mut dyn Sink,
    group: usize,
) -> Result<(), WriteError> {
    let n = items.len();
    let blocks = n.div_ceil(BLOCK);
    let start = w.written();
    let sums_at = 16;
    let offsets_at = sums_at + blocks * 8;
    let head_len = offsets_at + (n + 1) * 8;
    let mut head = vec![0u8; head_len];
    head[..8].copy_from_slice(&(n as u64).to_le_bytes());
    head[8..16].copy_from_slice(&(blocks as u64).to_le_bytes());
    w.write_all(&head)
        .and_then(|()| w.write_all(&[0; 8]))
        .map_err(|_| WriteError::Io)?;
    let (mut block, mut record, mut at) = (0usize, 0usize, 0u64);
    for batch in items.chunks(BLOCK * group) {
        let encoded: Vec<(Vec<u8>, Vec<u64>)> = batch
            .par_chunks(BLOCK)
            .map(|chunk| {
                let mut data = Vec::new();
                let mut ends = Vec::with_capacity(chunk.len());
                for item in chunk {
                    data = postcard::to_extend(item, data).ok()?;
                    ends.push(data.len() as u64);
                }
                Some((data, ends))
            })
            .collect::<Option<_>>()
            .ok_or(WriteError::Encode)?;
        for (data, ends) in encoded {
            let sum = crate::output::facts::checksum(&data);
            head[sums_at + block * 8..sums_at + block * 8 + 8].copy_from_slice(&sum.to_le_bytes());
            block += 1;
            for e in ends {
                record += 1;
                let o = offsets_at + record * 8;
                head[o..o + 8].copy_from_slice(&(at + e).to_le_bytes());
            }
            at += data.len() as u64;
            w.write_all(&data).map_err(|_| WriteError::Io)?;
        }
    }
    let sum = crate::output::facts::checksum(&head);
    w.patch(start, &head)
        .and_then(|()| w.patch(start + head_len as u64, &sum.to_le_bytes()))
        .map_err(|_| WriteError::Io)
}

/// A record section as mapped (its head checked, its blocks checked when read).
#[derive(Clone, Copy)]
pub(crate) struct Records {
    n: usize,
    sums: &'static [u8],
    offsets: &'static [u8],
    data: &'static [u8],
    /// Each block's check, once made (0: not yet, 1: sound, 2: corrupt), so the records of
    /// one month read one by one hash each block once.
    checked: &'static [AtomicU8],
}

impl Records {
    /// `None` when the head is cut short or its checksum fails.
    pub(crate) fn parse(b: &'static [u8]) -> Option<Records> {
        let word = |at: usize| -> Option<u64> {
            Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
        };
        let n = usize::try_from(word(0)?).ok()?;
        let blocks = usize::try_from(word(8)?).ok()?;
        if blocks != n.div_ceil(BLOCK) {
            return None;
        }
        let sums_end = 16usize.checked_add(blocks.checked_mul(8)?)?;
        let head_end = sums_end.checked_add(n.checked_add(1)?.checked_mul(8)?)?;
        if word(head_end)? != crate::output::facts::checksum(b.get(..head_end)?) {
            return None;
        }
        let r = Records {
            n,
            sums: &b[16..sums_end],
            offsets: &b[sums_end..head_end],
            data: &b[head_end + 8..],
            // Lives as long as the mapped bytes it describes (the rest of the process).
            checked: Box::leak((0..blocks).map(|_| AtomicU8::new(0)).collect()),
        };
        (r.offset(n)? as usize == r.data.len()).then_some(r)
    }

    pub(crate) fn len(&self) -> usize {
        self.n
    }

    fn offset(&self, i: usize) -> Option<u64> {
        Some(u64::from_le_bytes(
            self.offsets.get(i * 8..i * 8 + 8)?.try_into().ok()?,
        ))
    }

    /// The bytes of records `from..to`, when in range.
    fn span(&self, from: usize, to: usize) -> Option<&'static [u8]> {
        let (a, b) = (self.offset(from)? as usize, self.offset(to)? as usize);
        self.data.get(a..b)
    }

    /// Whether block `k`'s bytes match its checksum.
    fn block_ok(&self, k: usize) -> bool {
        match self.checked.get(k).map(|c| c.load(Ordering::Relaxed)) {
            Some(1) => return true,
            Some(2) | None => return false,
            _ => {}
        }
        let ok = self.block_sum_ok(k);
        self.checked[k].store(if ok { 1 } else { 2 }, Ordering::Relaxed);
        ok
    }

    fn block_sum_ok(&self, k: usize) -> bool {
        let to = ((k + 1) * BLOCK).min(self.n);
        let Some(bytes) = self.span(k * BLOCK, to) else {
            return false;
        };
        let sum = self
            .sums
            .get(k * 8..k * 8 + 8)
            .and_then(|s| s.try_into().ok())
            .map(u64::from_le_bytes);
        sum == Some(crate::output::facts::checksum(bytes))
    }

    /// Record `i`, decoded (`None`: out of range, its block corrupt, or not a `T`).
    pub(crate) fn get<T: Deserialize<'static>>(&self, i: usize) -> Option<T> {
        if i >= self.n || !self.block_ok(i / BLOCK) {
            return None;
        }
        postcard::from_bytes(self.span(i, i + 1)?).ok()
    }

    /// Every record, decoded on every core, block by block.
    pub(crate) fn all<T: Deserialize<'static> + Send>(&self) -> Option<Vec<T>> {
        let blocks: Vec<Vec<T>> = (0..self.n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|k| {
                if !self.block_ok(k) {
                    return None;
                }
                (k * BLOCK..((k + 1) * BLOCK).min(self.n))
                    .map(|i| postcard::from_bytes(self.span(i, i + 1)?).ok())
                    .collect::<Option<Vec<T>>>()
            })
            .collect::<Option<_>>()?;
        let mut out = Vec::with_capacity(self.n);
        for b in blocks {
            out.extend(b);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The section encoded whole (the writer before [`write`] streamed it): the reference
    /// the streamed bytes are compared with.
    fn encode_whole<T: Serialize>(items: &[T]) -> Vec<u8> {
        let blocks: Vec<(Vec<u8>, Vec<u64>)> = items
            .chunks(BLOCK)
            .map(|chunk| {
                let mut data = Vec::new();
                let mut ends = Vec::new();
                for item in chunk {
                    data.extend(postcard::to_allocvec(item).unwrap());
                    ends.push(data.len() as u64);
                }
                (data, ends)
            })
            .collect();
        let mut head = Vec::new();
        head.extend_from_slice(&(items.len() as u64).to_le_bytes());
        head.extend_from_slice(&(blocks.len() as u64).to_le_bytes());
        for (data, _) in &blocks {
            head.extend_from_slice(&crate::output::facts::checksum(data).to_le_bytes());
        }
        let mut at = 0u64;
        head.extend_from_slice(&at.to_le_bytes());
        for (data, ends) in &blocks {
            for e in ends {
                head.extend_from_slice(&(at + e).to_le_bytes());
            }
            at += data.len() as u64;
        }
        let sum = crate::output::facts::checksum(&head);
        head.extend_from_slice(&sum.to_le_bytes());
        for (data, _) in blocks {
            head.extend_from_slice(&data);
        }
        head
    }

    /// Written a few blocks at a time, behind other bytes, the section is the one encoded
    /// whole, for every size around the block and group edges.
    #[test]
    fn streamed_sections_equal_the_whole_encoding() {
        for n in [0, 1, 255, 256, 257, 511, 512, 513, 1000, 1300] {
            let items: Vec<(u32, String)> = (0..n)
                .map(|i| (i * 7919, "y".repeat(i as usize % 29)))
                .collect();
            let whole = encode_whole(&items);
            for group in [1, 2, 3, GROUP] {
                let mut out = b"before".to_vec();
                write_grouped(&items, &mut out, group).unwrap();
                assert_eq!(&out[..6], b"before");
                assert!(out[6..] == whole[..], "n {n}, group {group}");
            }
        }
    }

    fn leak(b: Vec<u8>) -> &'static [u8] {
        Box::leak(b.into_boxed_slice())
    }

    /// Every record comes back alone and all together, across block boundaries; an empty
    /// section too.
    #[test]
    fn records_come_back_one_by_one_and_all_together() {
        let items: Vec<(u32, String)> =
            (0..700).map(|i| (i, "x".repeat(i as usize % 13))).collect();
        let r = Records::parse(leak(encode(&items).unwrap())).unwrap();
        assert_eq!(r.len(), 700);
        for i in [0, 1, 255, 256, 257, 511, 512, 699] {
            assert_eq!(r.get::<(u32, String)>(i).unwrap(), items[i]);
        }
        assert!(r.get::<(u32, String)>(700).is_none());
        assert_eq!(r.all::<(u32, String)>().unwrap(), items);
        let empty = Records::parse(leak(encode::<u8>(&[]).unwrap())).unwrap();
        assert_eq!(empty.all::<u8>().unwrap(), Vec::<u8>::new());
    }

    /// A byte flipped in one block: that block's records are refused (so is reading all of
    /// them), the other blocks' still read; a byte flipped in the head refuses the section.
    #[test]
    fn a_corrupt_block_is_refused_and_only_it() {
        let items: Vec<u64> = (0..600).map(|i| i * 1000).collect();
        let bytes = encode(&items).unwrap();
        let head = 16 + 3 * 8 + 601 * 8 + 8;
        let mut b = bytes.clone();
        // Record 300 is in the second block.
        let at = head
            + u64::from_le_bytes(b[16 + 24 + 300 * 8..16 + 24 + 301 * 8].try_into().unwrap())
                as usize;
        b[at] ^= 0x01;
        let r = Records::parse(leak(b)).unwrap();
        assert!(r.get::<u64>(300).is_none());
        assert!(r.get::<u64>(256).is_none());
        assert_eq!(r.get::<u64>(255), Some(255_000));
        assert_eq!(r.get::<u64>(512), Some(512_000));
        assert!(r.all::<u64>().is_none());
        let mut b = bytes.clone();
        b[16 + 24 + 8] ^= 0x01;
        assert!(Records::parse(leak(b)).is_none());
        assert!(Records::parse(leak(bytes[..head - 4].to_vec())).is_none());
    }
}
