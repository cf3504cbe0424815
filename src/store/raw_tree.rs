//! A git tree object patched as bytes, for the one-commit-per-step path of
//! [`crate::store::git`].
//!
//! A month folder of a big desk holds thousands of tickets: its tree object is hundreds of
//! kilobytes. libgit2's tree builder parses every entry into its own allocation, sorts them
//! again and serialises them back to change one. A tree is already sorted bytes (`<mode>
//! <name>\0<20-byte id>` per entry, in git's order), so here one entry is replaced, inserted or
//! removed in a copy of the bytes and the result is written as a tree object: the same bytes
//! the tree builder would write (the caller compares nothing else). A tree whose bytes are not
//! well formed or not in git's order is `None`, and the caller takes the tree builder's path.

use std::cmp::Ordering;

const HASH: usize = 20;
/// The mode of a sub-tree and of a submodule (a commit), as git stores them.
pub const TREE_MODE: u32 = 0o040000;
const COMMIT_MODE: u32 = 0o160000;

/// One entry of a tree's bytes.
#[derive(Debug, Clone, Copy)]
struct Entry<'a> {
    start: usize,
    end: usize,
    mode: u32,
    name: &'a [u8],
    oid: &'a [u8],
}

/// The entries of a tree, in order; `None` when the bytes are not a well-formed tree.
fn entries(data: &[u8]) -> Option<Vec<Entry<'_>>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < data.len() {
        let space = at + data[at..].iter().position(|&c| c == b' ')?;
        let nul = space + 1 + data[space + 1..].iter().position(|&c| c == 0)?;
        let end = nul + 1 + HASH;
        if end > data.len() || space == at || nul == space + 1 {
            return None;
        }
        let mut mode = 0u32;
        for &c in &data[at..space] {
            if !(b'0'..=b'7').contains(&c) {
                return None;
            }
            mode = mode.checked_mul(8)?.checked_add(u32::from(c - b'0'))?;
        }
        out.push(Entry {
            start: at,
            end,
            mode,
            name: &data[space + 1..nul],
            oid: &data[nul + 1..end],
        });
        at = end;
    }
    Some(out)
}

/// Git's order of tree entries: by name, a sub-tree's name compared as if it ended in `/`.
pub fn cmp_entries(a: &[u8], a_tree: bool, b: &[u8], b_tree: bool) -> Ordering {
    let common = a.len().min(b.len());
    match a[..common].cmp(&b[..common]) {
        Ordering::Equal => {}
        other => return other,
    }
    let next = |name: &[u8], tree: bool| match name.get(common) {
        Some(&c) => c,
        None if tree => b'/',
        None => 0,
    };
    next(a, a_tree).cmp(&next(b, b_tree))
}

/// The entry `name` of the tree `data`: its id and mode. The outer `None`: malformed bytes.
pub fn find(data: &[u8], name: &[u8]) -> Option<Option<([u8; HASH], u32)>> {
    let list = entries(data)?;
    Some(list.iter().find(|e| e.name == name).map(|e| {
        let mut id = [0u8; HASH];
        id.copy_from_slice(e.oid);
        (id, e.mode)
    }))
}

/// Whether a mode is a blob's (a regular file, an executable or a symbolic link).
pub fn is_blob_mode(mode: u32) -> bool {
    mode != TREE_MODE && mode != COMMIT_MODE
}

/// The tree `data` with the entry `name` (whatever its kind) replaced by `new` (mode and id) or
/// removed (`None`). `None` when `data` is not a well-formed tree in git's order.
pub fn patch(data: &[u8], name: &[u8], new: Option<(u32, [u8; HASH])>) -> Option<Vec<u8>> {
    let list = entries(data)?;
    let sorted = list.windows(2).all(|w| {
        cmp_entries(
            w[0].name,
            w[0].mode == TREE_MODE,
            w[1].name,
            w[1].mode == TREE_MODE,
        ) == Ordering::Less
    });
    if !sorted || name.is_empty() || name.contains(&0) || name.contains(&b'/') {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() + name.len() + 32);
    // Where the new entry goes: before the first entry that sorts after it.
    let insert_at = new.map(|(mode, _)| {
        list.iter()
            .position(|e| {
                cmp_entries(e.name, e.mode == TREE_MODE, name, mode == TREE_MODE)
                    == Ordering::Greater
            })
            .map_or(data.len(), |i| list[i].start)
    });
    let old = list.iter().find(|e| e.name == name);
    let mut copied = 0;
    let mut cut = |out: &mut Vec<u8>, upto: usize, skip_to: usize| {
        out.extend_from_slice(&data[copied..upto]);
        copied = skip_to;
    };
    // The removal and the insertion, in file order.
    let mut edits: Vec<(usize, bool)> = Vec::new();
    if let Some(o) = old {
        edits.push((o.start, false));
    }
    if let Some(at) = insert_at {
        edits.push((at, true));
    }
    edits.sort_by_key(|&(at, insert)| (at, !insert));
    for (at, insert) in edits {
        if insert {
            cut(&mut out, at, at);
            if let Some((mode, id)) = new {
                out.extend_from_slice(format!("{mode:o} ").as_bytes());
                out.extend_from_slice(name);
                out.push(0);
                out.extend_from_slice(&id);
            }
        } else if let Some(o) = old {
            cut(&mut out, o.start, o.end);
        }
    }
    out.extend_from_slice(&data[copied..]);
    Some(out)
}

/// Writes `data` as a loose object of `kind` (`tree`) under `objects` (`.git/objects`) and
/// returns its id, as git writes one (`objects/ab/cdef...`, read-only, put in place by a
/// rename) except that the zlib stream holds the bytes in stored blocks instead of deflating
/// them: a month's tree is mostly object ids, which do not compress, and deflating hundreds of
/// kilobytes cost more than the rest of the commit. Every zlib reader, git's and libgit2's,
/// reads stored blocks; `git gc` compresses the object when it packs it. An object already
/// there is left as it is.
pub fn write_loose(
    objects: &std::path::Path,
    kind: &str,
    data: &[u8],
) -> std::io::Result<[u8; HASH]> {
    use sha1::Digest;
    let header = format!("{kind} {}\0", data.len());
    let mut h = sha1::Sha1::new();
    h.update(header.as_bytes());
    h.update(data);
    let mut id = [0u8; HASH];
    id.copy_from_slice(&h.finalize());
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let dir = objects.join(&hex[..2]);
    let path = dir.join(&hex[2..]);
    if std::fs::symlink_metadata(&path).is_ok() {
        return Ok(id);
    }
    std::fs::create_dir_all(&dir)?;
    let total = header.len() + data.len();
    let mut out = Vec::with_capacity(total + total / 0xffff * 5 + 16);
    // zlib header: deflate with a 32 KiB window, fastest level, check bits.
    out.extend_from_slice(&[0x78, 0x01]);
    let mut adler = Adler32::new();
    let mut pending: Vec<&[u8]> = vec![header.as_bytes(), data];
    let mut left = total;
    let mut block: Vec<u8> = Vec::with_capacity(0xffff);
    while left > 0 || out.len() == 2 {
        block.clear();
        while block.len() < 0xffff && !pending.is_empty() {
            let take = (0xffff - block.len()).min(pending[0].len());
            block.extend_from_slice(&pending[0][..take]);
            pending[0] = &pending[0][take..];
            if pending[0].is_empty() {
                pending.remove(0);
            }
        }
        left -= block.len();
        adler.update(&block);
        let len = block.len() as u16;
        out.push(u8::from(left == 0));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&adler.finish().to_be_bytes());
    let mut tmp = tempfile::Builder::new()
        .prefix("tmp_obj_")
        .tempfile_in(&dir)?;
    std::io::Write::write_all(&mut tmp, &out)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o444))?;
    }
    match tmp.persist_noclobber(&path) {
        Ok(_) => Ok(id),
        // Written meanwhile by someone else: the same bytes under the same name.
        Err(e) if std::fs::symlink_metadata(&path).is_ok() => {
            drop(e);
            Ok(id)
        }
        Err(e) => Err(e.error),
    }
}

/// zlib's checksum of the uncompressed bytes.
struct Adler32 {
    a: u32,
    b: u32,
}

impl Adler32 {
    fn new() -> Adler32 {
        Adler32 { a: 1, b: 0 }
    }

    fn update(&mut self, data: &[u8]) {
        const MOD: u32 = 65521;
        // 5552 bytes is the most that can be summed before `b` could overflow 32 bits.
        for chunk in data.chunks(5552) {
            for &x in chunk {
                self.a += u32::from(x);
                self.b += self.a;
            }
            self.a %= MOD;
            self.b %= MOD;
        }
    }

    fn finish(&self) -> u32 {
        (self.b << 16) | self.a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(list: &[(u32, &str, u8)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (mode, name, id) in list {
            out.extend_from_slice(format!("{mode:o} {name}\0").as_bytes());
            out.extend_from_slice(&[*id; HASH]);
        }
        out
    }

    #[test]
    fn git_orders_a_folder_as_if_its_name_ended_in_a_slash() {
        // "a.b" < "a/" (the folder) < "a0": '.' is 0x2e, '/' 0x2f, '0' 0x30.
        assert_eq!(cmp_entries(b"a.b", false, b"a", true), Ordering::Less);
        assert_eq!(cmp_entries(b"a", true, b"a0", false), Ordering::Less);
        assert_eq!(cmp_entries(b"a", false, b"a.b", false), Ordering::Less);
    }

    #[test]
    fn inserts_replaces_and_removes_in_place() {
        let base = tree(&[
            (0o100644, "a.md", 1),
            (0o040000, "b", 2),
            (0o100644, "c.md", 3),
        ]);
        assert_eq!(
            patch(&base, b"b.md", Some((0o100644, [9; HASH]))).unwrap(),
            // "b.md" before the folder "b": '.' sorts before the folder's '/'.
            tree(&[
                (0o100644, "a.md", 1),
                (0o100644, "b.md", 9),
                (0o040000, "b", 2),
                (0o100644, "c.md", 3),
            ])
        );
        assert_eq!(
            patch(&base, b"c.md", Some((0o100755, [7; HASH]))).unwrap(),
            tree(&[
                (0o100644, "a.md", 1),
                (0o040000, "b", 2),
                (0o100755, "c.md", 7)
            ])
        );
        assert_eq!(
            patch(&base, b"a.md", None).unwrap(),
            tree(&[(0o040000, "b", 2), (0o100644, "c.md", 3)])
        );
        assert_eq!(
            patch(&base, b"z", Some((0o040000, [5; HASH]))).unwrap(),
            tree(&[
                (0o100644, "a.md", 1),
                (0o040000, "b", 2),
                (0o100644, "c.md", 3),
                (0o040000, "z", 5),
            ])
        );
        // A file replaced by a folder of the same name moves to the folder's place.
        let f = tree(&[(0o100644, "a", 1), (0o100644, "a.b", 2)]);
        assert_eq!(
            patch(&f, b"a", Some((0o040000, [3; HASH]))).unwrap(),
            tree(&[(0o100644, "a.b", 2), (0o040000, "a", 3)])
        );
        assert_eq!(patch(&[], b"x", None).unwrap(), Vec::<u8>::new());
        assert_eq!(find(&base, b"b").unwrap(), Some(([2; HASH], 0o040000)));
        assert_eq!(find(&base, b"q").unwrap(), None);
    }

    #[test]
    fn adler32_matches_zlibs() {
        // RFC 1950's example value for "Wikipedia", as zlib computes it.
        let mut a = Adler32::new();
        a.update(b"Wikipedia");
        assert_eq!(a.finish(), 0x11e6_0398);
    }

    #[test]
    fn a_loose_object_is_stored_under_gits_id() {
        let dir = tempfile::tempdir().unwrap();
        // git hash-object of an empty tree: 4b825dc642cb6eb9a060e54bf8d69288fbee4904.
        let id = write_loose(dir.path(), "tree", b"").unwrap();
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "4b825dc642cb6eb9a060e54bf8d69288fbee4904");
        let big = vec![7u8; 200_000];
        let id = write_loose(dir.path(), "blob", &big).unwrap();
        let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let stored = std::fs::read(dir.path().join(&hex[..2]).join(&hex[2..])).unwrap();
        // Four stored blocks, the last one marked final.
        assert_eq!(stored.len(), 2 + (200_000 + 12) + 4 * 5 + 4);
    }

    #[test]
    fn refuses_bytes_that_are_not_a_sorted_tree() {
        let unsorted = tree(&[(0o100644, "b", 1), (0o100644, "a", 2)]);
        assert!(patch(&unsorted, b"c", None).is_none());
        assert!(patch(b"100644 x", b"c", None).is_none());
        assert!(find(b"100644 x\0short", b"x").is_none());
    }
}
