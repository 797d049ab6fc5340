//! Rendering speed and size of quote PDFs: `cargo bench -p kontor-quotes --bench render`.
//! Prints median and best of 30 renders for a one-page quote (with GiroCode) and a
//! 50-item quote, the first render of the process (which parses the fonts) and the PDF
//! sizes. Goals (issue 11): ≤ 100 ms per render, ≤ 150 KB without a logo.

#[path = "../tests/support/sample.rs"]
mod sample;

use std::time::{Duration, Instant};

use kontor_quotes::{BusinessDetails, Quote, pdf::render};

const RUNS: usize = 30;

fn time(quote: &Quote, details: &BusinessDetails) -> (Vec<Duration>, usize) {
    let customer = sample::customer();
    let mut times = Vec::with_capacity(RUNS);
    let mut size = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let pdf = render(quote, details, &customer, true).expect("renders");
        times.push(start.elapsed());
        size = pdf.len();
    }
    times.sort();
    (times, size)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let start = Instant::now();
    render(
        &sample::quote(true),
        &sample::details(true),
        &sample::customer(),
        true,
    )
    .expect("renders");
    println!(
        "first render in this process (parses the fonts): {:.1} ms",
        ms(start.elapsed())
    );
    for (name, quote, details) in [
        (
            "1 page, 4 items, GiroCode",
            sample::quote(true),
            sample::details(true),
        ),
        (
            "1 page, 4 items, no GiroCode",
            sample::quote(true),
            sample::details(false),
        ),
        ("50 items", sample::long_quote(50), sample::details(false)),
    ] {
        let (times, size) = time(&quote, &details);
        println!(
            "{name:<30} median {:>6.1} ms  best {:>6.1} ms  worst {:>6.1} ms  size {:>6.1} KB",
            ms(times[RUNS / 2]),
            ms(times[0]),
            ms(times[RUNS - 1]),
            size as f64 / 1024.0
        );
    }
}
