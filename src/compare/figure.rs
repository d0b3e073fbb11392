//! The figures `compare` puts side by side, which way is better for each,
//! and the change between two readings.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Messages per second: a fall is a regression.
    Throughput,
    /// Microseconds: a rise is a regression.
    Latency,
    /// Lost, duplicated, reordered, errors: shown, not gated by percent
    /// (a run with a threshold on them fails by itself).
    Count,
}

#[derive(Debug)]
pub struct Figure {
    pub name: &'static str,
    pub kind: Kind,
}

const fn fig(name: &'static str, kind: Kind) -> Figure {
    Figure { name, kind }
}

pub const FIGURES: [Figure; 10] = [
    fig("send_rate", Kind::Throughput),
    fig("receive_rate", Kind::Throughput),
    fig("e2e_p50_us", Kind::Latency),
    fig("e2e_p99_us", Kind::Latency),
    fig("e2e_max_us", Kind::Latency),
    fig("publish_p99_us", Kind::Latency),
    fig("lost", Kind::Count),
    fig("duplicated", Kind::Count),
    fig("reordered", Kind::Count),
    fig("errors", Kind::Count),
];

/// The change from `old` to `new` in percent of `old`; None when `old` is
/// zero and `new` is not (no percentage describes that).
pub fn change_pct(old: f64, new: f64) -> Option<f64> {
    if old == 0.0 {
        (new == 0.0).then_some(0.0)
    } else {
        Some((new - old) / old.abs() * 100.0)
    }
}

/// How far a change went in the bad direction, in percent (0 when it
/// improved or the figure is not gated).
pub fn worsening(kind: Kind, pct: f64) -> f64 {
    match kind {
        Kind::Throughput => (-pct).max(0.0),
        Kind::Latency => pct.max(0.0),
        Kind::Count => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_in_percent_of_the_old_value() {
        assert_eq!(change_pct(100.0, 150.0), Some(50.0));
        assert_eq!(change_pct(200.0, 100.0), Some(-50.0));
        assert_eq!(change_pct(0.0, 0.0), Some(0.0));
        assert_eq!(change_pct(0.0, 3.0), None);
    }

    #[test]
    fn only_slower_latency_and_lower_throughput_count_as_worse() {
        assert_eq!(worsening(Kind::Latency, 60.0), 60.0);
        assert_eq!(worsening(Kind::Latency, -60.0), 0.0);
        assert_eq!(worsening(Kind::Throughput, -60.0), 60.0);
        assert_eq!(worsening(Kind::Throughput, 60.0), 0.0);
        assert_eq!(worsening(Kind::Count, 500.0), 0.0);
    }
}
