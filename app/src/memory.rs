//! How the process allocates: the one place Kontor tunes glibc's allocator.
//!
//! Why: glibc gives each thread that finds the heap busy an arena of its own, up to 8 per
//! core, and keeps what is freed in an arena for that arena's reuse. Kontor's work comes in
//! bursts spread over the runtime's workers and blocking threads (a sync's first response,
//! the search backfill decrypting and indexing thousands of messages after unlock), and
//! after such a burst the app bench read ~150 MiB of anonymous memory, nearly all in 14–16
//! MiB arenas, against ~12–15 MiB with at most two arenas (BENCHMARKS.md, issue 15). Two
//! arenas are plenty for a 2-core desktop client whose hot paths wait on the network and
//! the disk; mimalloc was measured too and kept more (one 163 MiB region).

/// Limits glibc to two malloc arenas. Call first thing in `main`, before any thread is
/// started (arenas made before the call stay). Returns whether the limit is set; a no-op
/// (false) where the C library is not glibc.
pub fn limit_malloc_arenas() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallopt` only sets an allocator parameter; `M_ARENA_MAX` with a
        // positive value is documented for glibc (mallopt(3)) and touches no memory the
        // caller owns. It is called before other threads exist, so no allocation races it.
        #[allow(unsafe_code)]
        let ok = unsafe { libc::mallopt(libc::M_ARENA_MAX, 2) };
        if ok != 1 {
            tracing::debug!("malloc arenas not limited (mallopt returned {ok})");
        }
        ok == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

/// Gives the memory malloc holds free back to the system: glibc's `malloc_trim(0)`
/// releases the top of every arena and every whole free page inside one. Returns whether
/// anything was released; a no-op (false) where the C library is not glibc.
///
/// Why: what a burst frees stays in glibc's arenas for their reuse, resident, as long as a
/// live block sits above it. After the search backfill (10,000 messages decrypted and
/// indexed right after unlock) that was ~30 MiB of the app's RSS that nothing would use
/// again soon (BENCHMARKS.md, issue 15). Call it when a burst is over, not on a hot
/// path: it walks every arena (a few milliseconds).
pub fn release_free_memory() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `malloc_trim` takes the arenas' own locks and only returns free pages
        // to the kernel (madvise); blocks in use are untouched (malloc_trim(3)), so it is
        // safe to call from any thread at any time.
        #[allow(unsafe_code)]
        let released = unsafe { libc::malloc_trim(0) };
        released == 1
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    false
}

#[cfg(test)]
mod tests {
    /// glibc accepts the limit (mallopt returns 0 for a parameter it rejects).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn glibc_takes_the_arena_limit() {
        assert!(super::limit_malloc_arenas());
    }

    /// Memory freed below a live block stays resident until it is released: 64 MiB in
    /// small blocks, all freed but the last, leaves the RSS high; the release brings it
    /// down by most of that.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn freed_memory_goes_back_to_the_system() {
        fn rss_mib() -> f64 {
            let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
            let pages: f64 = statm
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse().ok())
                .expect("resident pages");
            pages * 4096.0 / (1024.0 * 1024.0)
        }
        // 4 KiB blocks stay below glibc's mmap threshold: they come from an arena.
        let mut blocks: Vec<Vec<u8>> = (0..16 * 1024).map(|i| vec![i as u8; 4096]).collect();
        let pin = blocks.pop().expect("the last block");
        drop(blocks);
        let before = rss_mib();
        assert!(super::release_free_memory(), "something was released");
        let after = rss_mib();
        assert!(
            before - after > 32.0,
            "RSS {before:.1} MiB before the release, {after:.1} MiB after"
        );
        drop(pin);
    }
}
