//! Latency histograms: HdrHistogram in nanoseconds, from 1 ns to one hour at
//! three significant digits, so a figure is within 0.1% whatever its size.

use hdrhistogram::Histogram;

pub type Hist = Histogram<u64>;

const HIGHEST_NS: u64 = 3_600_000_000_000;

pub fn new_hist() -> Hist {
    Histogram::new_with_bounds(1, HIGHEST_NS, 3).expect("fixed bounds are valid")
}

/// Records a latency, clamping rather than failing on an absurd value (a
/// clock that stepped, a message from a stalled hour).
pub fn record(hist: &mut Hist, ns: u64) {
    hist.saturating_record(ns.clamp(1, HIGHEST_NS));
}

/// The percentiles every report uses, in microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
    pub mean_us: f64,
}

pub fn summarize(hist: &Hist) -> Summary {
    if hist.is_empty() {
        return Summary::default();
    }
    let us = |ns: u64| ns as f64 / 1000.0;
    Summary {
        count: hist.len(),
        p50_us: us(hist.value_at_quantile(0.50)),
        p90_us: us(hist.value_at_quantile(0.90)),
        p99_us: us(hist.value_at_quantile(0.99)),
        p999_us: us(hist.value_at_quantile(0.999)),
        max_us: us(hist.max()),
        mean_us: hist.mean() / 1000.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_in_microseconds_within_a_tenth_of_a_percent() {
        let mut h = new_hist();
        for i in 1..=1000u64 {
            record(&mut h, i * 1000);
        }
        let s = summarize(&h);
        assert_eq!(s.count, 1000);
        assert!((s.p50_us - 500.0).abs() < 1.0, "{s:?}");
        assert!((s.p99_us - 990.0).abs() < 1.0, "{s:?}");
        assert!((s.max_us - 1000.0).abs() < 1.0, "{s:?}");
    }

    #[test]
    fn absurd_values_are_clamped_not_lost() {
        let mut h = new_hist();
        record(&mut h, 0);
        record(&mut h, u64::MAX);
        assert_eq!(h.len(), 2);
    }
}
