//! The Kontor app as a library: the Slint UI (and the demo around it), so the binary and
//! the headless UI tests build the window the same way. The CLI stays in the binary.

#[cfg(feature = "demo")]
/// The process's allocator, for the binary and everything else that links the app.
///
/// Why not glibc's: it gives each thread that contends for the heap an arena of its own
/// (up to 8 per core) and keeps what is freed there for reuse. Kontor's work comes in
/// bursts spread over the runtime's workers and blocking threads (a sync's first
/// response, the search backfill decrypting and indexing thousands of messages), and
/// after one such burst the app bench read ~150 MiB of anonymous memory, most of it in
/// those arenas, against ~35 MiB on a device without the burst. mimalloc returns freed
/// pages to the OS shortly after they are free, so the resident size follows what is in
/// use. Measured in BENCHMARKS.md (issue 15).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod demo;
pub mod service;
pub mod ui;
