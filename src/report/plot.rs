//! plot.svg: one picture per result directory, drawn from its files alone
//! (so `loadrun plot DIR` redraws any run, merged ones too). On top, each
//! stage's end-to-end latency spectrum; below it the resource timeline,
//! with stage boundaries and settle periods marked, so a leak or a slow
//! settle shows at a glance.
//!
//! Only plotters' SVG backend is used, without its font features: text is
//! written as SVG text for the viewer to render, so no font library is
//! needed to build or to draw.

mod spectrum;
mod timeline;

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context as _, Result};
use plotters::prelude::*;

use crate::runner::EXIT_OK;

const WIDTH: u32 = 1200;
const SPECTRUM_HEIGHT: u32 = 560;
const PANEL_HEIGHT: u32 = 190;

/// Draws `dir/plot.svg`, replacing an earlier one.
pub fn draw(dir: &Path) -> Result<PathBuf> {
    crate::report::read::result_dir(dir)?;
    let lines = spectrum::load(dir)?;
    let samples = timeline::load(dir)?;
    let panels = if samples.is_some() { timeline::PANELS.len() as u32 } else { 0 };
    let path = dir.join("plot.svg");
    let height = SPECTRUM_HEIGHT + panels * PANEL_HEIGHT + 40;
    let root = SVGBackend::new(&path, (WIDTH, height)).into_drawing_area();
    let fail = |e: &dyn std::fmt::Display| anyhow!("{}: {e}", path.display());
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let root = root.titled(&format!("loadrun {name}"), ("sans-serif", 22)).map_err(|e| fail(&e))?;
    {
        let (top, bottom) = root.split_vertically(SPECTRUM_HEIGHT);
        spectrum::draw(&top, &lines).map_err(|e| fail(&e))?;
        if let Some(samples) = &samples {
            timeline::draw(&bottom, samples).map_err(|e| fail(&e))?;
        }
        root.present().map_err(|e| fail(&e))?;
    }
    Ok(dir.join("plot.svg"))
}

/// `loadrun plot DIR`.
pub fn redraw(dir: &Path) -> Result<i32> {
    let path = draw(dir).context("cannot draw")?;
    println!("{}", path.display());
    Ok(EXIT_OK)
}

/// The color of the n-th stage, the same in every part of the picture.
fn color(n: usize) -> RGBColor {
    const COLORS: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(23, 190, 207),
    ];
    COLORS[n % COLORS.len()]
}
