//! The resource timeline from timeline.csv: threads, tasks, descriptors and
//! heap against time, one panel each, with every stage's start marked and
//! its settle period shaded. A leak is a staircase across the stages; a
//! slow settle is a wide shaded band.

use std::path::Path;

use anyhow::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::report::read::Table;

/// (column in timeline.csv, label, scale).
pub const PANELS: [(&str, &str, f64); 4] = [
    ("threads", "threads", 1.0),
    ("tasks", "tasks", 1.0),
    ("fds", "fds", 1.0),
    ("heap_bytes", "heap MiB", 1.0 / (1u64 << 20) as f64),
];

pub struct StageSpan {
    pub label: String,
    pub start: f64,
    pub settles: Vec<(f64, f64)>,
}

pub struct Samples {
    pub stages: Vec<StageSpan>,
    /// One series per panel: (seconds, value).
    pub series: Vec<Vec<(f64, f64)>>,
    pub end: f64,
}

/// None when the directory has no timeline (a merged one, say).
pub fn load(dir: &Path) -> Result<Option<Samples>> {
    let path = dir.join("timeline.csv");
    if !path.exists() {
        return Ok(None);
    }
    let mut required = vec!["time_s", "stage", "bus", "phase"];
    required.extend(PANELS.iter().map(|p| p.0));
    let table = Table::read(&path, &required)?;
    let mut samples =
        Samples { stages: Vec::new(), series: vec![Vec::new(); PANELS.len()], end: 0.0 };
    let mut previous = (String::new(), String::new());
    let mut was_settling = false;
    for row in &table.rows {
        let t = table.num(row, "time_s")?;
        let key = (table.text(row, "stage").to_string(), table.text(row, "bus").to_string());
        if key != previous {
            samples.stages.push(StageSpan { label: key.0.clone(), start: t, settles: Vec::new() });
            previous = key;
        }
        let settling = table.text(row, "phase") == "settle";
        if let Some(stage) = samples.stages.last_mut() {
            match stage.settles.last_mut() {
                // a settle lasts until the next sample that is not one
                Some(span) if was_settling => span.1 = t,
                _ if settling => stage.settles.push((t, t)),
                _ => {}
            }
        }
        was_settling = settling;
        for ((column, _, scale), series) in PANELS.iter().zip(&mut samples.series) {
            series.push((t, table.num(row, column)? * scale));
        }
        samples.end = t;
    }
    Ok(Some(samples))
}

pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    s: &Samples,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (caption, panels) = area.split_vertically(30);
    let style = ("sans-serif", 18).into_font().color(&BLACK);
    caption.draw_text(
        "resources over the run (stage starts marked, settle periods shaded)",
        &style,
        (330, 8),
    )?;
    let areas = panels.split_evenly((PANELS.len(), 1));
    let x_max = s.end.max(0.001);
    for (n, ((area, (_, label, scale)), series)) in
        areas.iter().zip(PANELS).zip(&s.series).enumerate()
    {
        let last = n + 1 == PANELS.len();
        let y_max = series.iter().map(|p| p.1).fold(1.0, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(area)
            .margin_left(12)
            .margin_right(20)
            .margin_top(6)
            .x_label_area_size(if last { 40 } else { 8 })
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        let decimals = if scale == 1.0 { 0 } else { 1 };
        let y_label = |v: &f64| format!("{v:.decimals$}");
        let mut mesh = chart.configure_mesh();
        mesh.y_desc(label)
            .y_labels(4)
            .y_label_formatter(&y_label)
            .light_line_style(WHITE.mix(0.0))
            .disable_x_mesh();
        if last {
            mesh.x_desc("time (s)");
        } else {
            mesh.x_labels(0);
        }
        mesh.draw()?;
        for (i, stage) in s.stages.iter().enumerate() {
            let color = super::color(i);
            chart.draw_series(stage.settles.iter().map(|&(a, b)| {
                Rectangle::new(
                    [(a, 0.0), (b.max(a + x_max / 500.0), y_max)],
                    color.mix(0.15).filled(),
                )
            }))?;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(stage.start, 0.0), (stage.start, y_max)],
                color.stroke_width(1),
            )))?;
            if n == 0 {
                let text = ("sans-serif", 13).into_font().color(&color);
                chart.draw_series(std::iter::once(Text::new(
                    stage.label.clone(),
                    (stage.start, y_max * 0.97),
                    text,
                )))?;
            }
        }
        chart.draw_series(LineSeries::new(series.iter().copied(), BLACK.stroke_width(1)))?;
    }
    Ok(())
}
