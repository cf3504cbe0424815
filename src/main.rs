//! The `mesa` binary: everything it does is in the library; [`mesa::cli`] is its face.

use std::process::ExitCode;

/// Builds of large desks allocate millions of small strings; mimalloc makes that a third cheaper.
#[global_allocator]
static GLOBAL: Mi = Mi;

/// mimalloc, asked for a plain block whenever the alignment Rust wants is one every plain block
/// has. `mimalloc::MiMalloc` passes each request to `mi_malloc_aligned`, whose check that the
/// free block at hand happens to be aligned was about a fifth of a small allocation (some 2%
/// of a full build's instructions, at about 1,700 allocations per ticket).
///
/// mimalloc rounds small sizes up to 16 bytes (two words) and starts every page's blocks at a
/// 16-byte boundary, so any block of 16 bytes or more is 16-byte aligned and an 8-byte block
/// 8-byte aligned (mimalloc asserts it in `_mi_page_malloc_zero`). Hence the rule std's own
/// `System` allocator uses over `malloc`: alignment at most 16 and at most the size.
struct Mi;

/// `MI_MAX_ALIGN_SIZE` in mimalloc's `types.h`.
const MI_MAX_ALIGN: usize = 16;

fn plain(align: usize, size: usize) -> bool {
    align <= MI_MAX_ALIGN && align <= size
}

unsafe extern "C" {
    fn mi_malloc(size: usize) -> *mut std::ffi::c_void;
    fn mi_zalloc(size: usize) -> *mut std::ffi::c_void;
    fn mi_realloc(p: *mut std::ffi::c_void, size: usize) -> *mut std::ffi::c_void;
}

// SAFETY: each call is mimalloc's own allocator (the aligned entry points through
// `mimalloc::MiMalloc`, the plain ones only where they give the alignment asked for, see
// above); every block, however it was got, is freed by `mi_free` or resized by
// `mi_realloc[_aligned]`, which take any mimalloc block.
unsafe impl std::alloc::GlobalAlloc for Mi {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            unsafe { mi_malloc(layout.size()).cast() }
        } else {
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if plain(layout.align(), layout.size()) {
            unsafe { mi_zalloc(layout.size()).cast() }
        } else {
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, new_size: usize) -> *mut u8 {
        if plain(layout.align(), new_size) {
            unsafe { mi_realloc(ptr.cast(), new_size).cast() }
        } else {
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        }
    }
}

fn main() -> ExitCode {
    mesa::output::site::output::tune_allocator();
    mesa::cli::main()
}

#[cfg(test)]
mod tests {
    use std::alloc::{GlobalAlloc, Layout};

    /// Every block has the alignment asked for (the contract of `GlobalAlloc`), on the plain
    /// path and the aligned one, fresh, zeroed and resized, with blocks held so that pages
    /// fill and blocks of each size class come from different places.
    #[test]
    fn blocks_have_the_alignment_asked_for() {
        let a = &super::GLOBAL;
        let sizes = (1..=300).chain([511, 512, 1000, 4096, 70_000, 1 << 20]);
        for size in sizes {
            for align in [1, 2, 4, 8, 16, 32, 64, 4096] {
                let layout = Layout::from_size_align(size, align).unwrap();
                let mut held = Vec::new();
                for i in 0..6 {
                    // SAFETY: a non-zero size; each block is freed below with its layout.
                    let p = unsafe {
                        if i % 2 == 0 {
                            a.alloc(layout)
                        } else {
                            a.alloc_zeroed(layout)
                        }
                    };
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "size {size}, align {align}");
                    // SAFETY: `p` holds `size` bytes.
                    let bytes = unsafe { std::slice::from_raw_parts_mut(p, size) };
                    if i % 2 == 1 {
                        assert!(bytes.iter().all(|&b| b == 0), "zeroed {size}");
                    }
                    bytes[size - 1] = 7;
                    bytes[0] = 9;
                    held.push(p);
                }
                for p in held {
                    let grown = size * 2 + 1;
                    // SAFETY: `p` was allocated above with `layout`; freed with the new size.
                    unsafe {
                        let q = a.realloc(p, layout, grown);
                        assert_eq!(q as usize % align, 0, "realloc {size}, align {align}");
                        assert_eq!((*q, *q.add(size - 1)), (9, if size == 1 { 9 } else { 7 }));
                        a.dealloc(q, Layout::from_size_align(grown, align).unwrap());
                    }
                }
            }
        }
    }
}
