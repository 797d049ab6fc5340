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

#[cfg(test)]
mod tests {
    /// glibc accepts the limit (mallopt returns 0 for a parameter it rejects).
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn glibc_takes_the_arena_limit() {
        assert!(super::limit_malloc_arenas());
    }
}
