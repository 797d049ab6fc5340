//! The figures: minimum, median, the verdict against a goal, and what `/proc` says about
//! the machine's load and a process's memory.

pub(crate) fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}

pub(crate) fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

pub(crate) fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

/// A `/proc/<pid>/status` memory field in MiB.
pub(crate) fn vm_mib(pid: &str, field: &str) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
        / 1024.0
}

/// Where a process's resident memory is, from `/proc/<pid>/smaps`: the main heap (`brk`),
/// anonymous mappings (glibc's per-thread arenas, large allocations, thread stacks), and
/// file-backed mappings (the binary, libraries, fonts, memory-mapped stores), the largest
/// files by name. So a regression can be attributed without instrumenting the app.
pub(crate) fn rss_breakdown(pid: &str) -> String {
    use std::collections::HashMap;
    let s = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let (mut heap, mut anon, mut stack) = (0u64, 0u64, 0u64);
    // The biggest anonymous mappings separately: glibc arenas show as 64 MiB regions.
    let mut anon_regions: Vec<u64> = Vec::new();
    let mut files: HashMap<String, u64> = HashMap::new();
    let mut current = String::new();
    for line in s.lines() {
        let mut parts = line.split_whitespace();
        let first = parts.next().unwrap_or_default();
        if first.contains('-') && first.chars().next().is_some_and(|c| c.is_ascii_hexdigit()) {
            // A mapping header: address perms offset dev inode [path]. Files are named
            // with the mapping's permissions: a binary's code (`r-x`) and its read-only
            // data and unwind tables (`r--`) are separate mappings.
            let perms = parts
                .next()
                .unwrap_or_default()
                .get(..3)
                .unwrap_or_default()
                .to_owned();
            current = parts.nth(3).unwrap_or_default().to_owned();
            if !current.is_empty() && !current.starts_with('[') {
                current = format!("{current} {perms}");
            }
            continue;
        }
        if first != "Rss:" {
            continue;
        }
        let kib: u64 = parts.next().and_then(|k| k.parse().ok()).unwrap_or(0);
        match current.as_str() {
            "[heap]" => heap += kib,
            "" => {
                anon += kib;
                anon_regions.push(kib);
            }
            p if p.starts_with("[stack") => stack += kib,
            p if p.starts_with('[') => {}
            p => {
                let name = p.rsplit('/').next().unwrap_or(p).to_owned();
                *files.entry(name).or_default() += kib;
            }
        }
    }
    anon_regions.sort_unstable_by(|a, b| b.cmp(a));
    let mut files: Vec<(String, u64)> = files.into_iter().collect();
    files.sort_by_key(|f| std::cmp::Reverse(f.1));
    let file_total: u64 = files.iter().map(|f| f.1).sum();
    let mib = |k: u64| k as f64 / 1024.0;
    format!(
        "heap {:.1} MiB; anonymous {:.1} MiB (largest {}); stack {:.1} MiB; files {:.1} MiB ({})",
        mib(heap),
        mib(anon),
        anon_regions
            .iter()
            .take(6)
            .map(|k| format!("{:.1}", mib(*k)))
            .collect::<Vec<_>>()
            .join(", "),
        mib(stack),
        mib(file_total),
        files
            .iter()
            .take(5)
            .map(|(n, k)| format!("{n} {:.1}", mib(*k)))
            .collect::<Vec<_>>()
            .join(", ")
    )
}
