//! Figures and the Markdown tables they are printed in.

use std::time::Duration;

/// The `p` quantile (0 to 1) of `samples`, nearest rank (NaN when there are none); sorts them.
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx]
}

/// A duration in milliseconds.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The `## title` of a section, a blank line either side.
pub fn section(title: &str) {
    println!("\n## {title}\n");
}

/// A table's header row and its separator.
pub fn table(columns: &[&str]) {
    println!("| {} |", columns.join(" | "));
    println!("|{}", "---|".repeat(columns.len()));
}
