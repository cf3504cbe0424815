//! The `mesa` binary: everything it does is in the library; [`mesa::cli`] is its face.

use std::process::ExitCode;

/// Builds of large desks allocate millions of small strings; mimalloc makes that a third cheaper.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    mesa::output::site::output::tune_allocator();
    mesa::cli::main()
}
