//! The latency spectrum: each stage's end-to-end percentiles from its .hlog
//! file, with the percentile on a log scale of 1/(1-p), so 90, 99, 99.9
//! and 99.99 are evenly spaced and the tail gets the room it deserves.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::report::hlog;
use crate::report::read::Table;

/// One stage's line: (1/(1-p), microseconds).
pub struct Line {
    /// The stage's row in summary.csv, which picks its color: a stage with
    /// no end-to-end latency (it only published) keeps its color unused.
    pub index: usize,
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

pub fn load(dir: &Path) -> Result<Vec<Line>> {
    let summary = Table::read(&dir.join("summary.csv"), &["stage", "bus"])?;
    let buses: std::collections::BTreeSet<&str> =
        summary.rows.iter().map(|r| summary.text(r, "bus")).collect();
    let mut lines = Vec::new();
    for (index, row) in summary.rows.iter().enumerate() {
        let (stage, bus) = (summary.text(row, "stage"), summary.text(row, "bus"));
        let path = dir.join(hlog::file_name(stage, bus));
        if !path.exists() {
            continue;
        }
        let log = hlog::read(&path)?;
        let Some(hist) = log.get("e2e") else { continue };
        let label = if buses.len() > 1 { format!("{stage} ({bus})") } else { stage.to_string() };
        lines.push(Line { index, label, points: points(hist) });
    }
    Ok(lines)
}

/// The spectrum of one histogram. The last point, the maximum, sits at
/// the sample count: it is the one-in-n value.
fn points(hist: &crate::metrics::Hist) -> Vec<(f64, f64)> {
    let n = hist.len().max(1) as f64;
    let mut out: Vec<(f64, f64)> = Vec::new();
    for step in hist.iter_quantiles(4) {
        let q = step.quantile_iterated_to();
        let x = if q >= 1.0 { n } else { (1.0 / (1.0 - q)).min(n) };
        let us = hist.highest_equivalent(step.value_iterated_to()) as f64 / 1000.0;
        if out.last().is_none_or(|&(px, _)| x > px) {
            out.push((x, us.max(0.001)));
        }
    }
    if let Some(last) = out.last_mut() {
        last.1 = last.1.max(hist.max() as f64 / 1000.0);
    }
    out
}

/// 1 -> "0", 10 -> "90", 100 -> "99", 1000 -> "99.9", 2 -> "50".
pub fn percentile_label(x: f64) -> String {
    if x <= 1.0 {
        return "0%".into();
    }
    let p = 100.0 * (1.0 - 1.0 / x);
    let decimals = (x.log10().round() as i32 - 2).max(0) as usize;
    format!("{p:.decimals$}%")
}

fn us_label(us: f64) -> String {
    match us {
        u if u >= 1e6 => format!("{:.0}s", u / 1e6),
        u if u >= 1e3 => format!("{:.0}ms", u / 1e3),
        u if u >= 1.0 => format!("{u:.0}µs"),
        u => format!("{:.0}ns", u * 1e3),
    }
}

pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lines: &[Line],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let all = lines.iter().flat_map(|l| &l.points);
    let x_max = all.clone().map(|p| p.0).fold(10.0, f64::max) * 1.5;
    let y_min = all.clone().map(|p| p.1).fold(f64::INFINITY, f64::min).min(1e6) / 1.5;
    let y_max = all.map(|p| p.1).fold(1.0, f64::max) * 1.5;
    let mut chart = ChartBuilder::on(area)
        .caption("end-to-end latency by percentile", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d((1.0..x_max).log_scale(), (y_min..y_max).log_scale())?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency")
        .x_label_formatter(&|x| percentile_label(*x))
        .y_label_formatter(&|y| us_label(*y))
        .draw()?;
    if lines.is_empty() {
        let style = ("sans-serif", 16).into_font().color(&BLACK);
        area.draw_text("no latency recorded (no .hlog files)", &style, (120, 250))?;
    }
    for line in lines {
        let color = super::color(line.index);
        chart
            .draw_series(LineSeries::new(
                line.points.iter().map(|&(x, y)| (x, y.max(y_min))),
                color.stroke_width(2),
            ))?
            .label(line.label.as_str())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_labelled_as_people_say_them() {
        assert_eq!(percentile_label(1.0), "0%");
        assert_eq!(percentile_label(2.0), "50%");
        assert_eq!(percentile_label(10.0), "90%");
        assert_eq!(percentile_label(100.0), "99%");
        assert_eq!(percentile_label(1000.0), "99.9%");
        assert_eq!(percentile_label(100_000.0), "99.999%");
    }

    #[test]
    fn a_spectrum_rises_to_the_maximum_at_the_sample_count() {
        let mut h = crate::metrics::new_hist();
        for i in 1..=1000u64 {
            h.record(i * 1000).unwrap();
        }
        let p = points(&h);
        assert_eq!(p.first().unwrap().0, 1.0);
        assert!(p.windows(2).all(|w| w[1].0 > w[0].0 && w[1].1 >= w[0].1), "{p:?}");
        let last = p.last().unwrap();
        assert_eq!(last.0, 1000.0);
        assert!((last.1 - 1000.0).abs() < 1.0, "{last:?}");
    }
}
