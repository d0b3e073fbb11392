//! plot.svg: written at the end of every run, well-formed, with a line
//! per stage; and redrawn by `loadrun plot`.

mod common;

use common::{loadrun, text, Scratch};

fn svg_of(path: &std::path::Path) -> (usize, Vec<String>) {
    let content = std::fs::read_to_string(path).expect("plot.svg");
    let doc = roxmltree::Document::parse(&content).expect("well-formed XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let lines = doc.descendants().filter(|n| n.has_tag_name("polyline")).count();
    let texts = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text().map(|t| t.trim().to_string()))
        .collect();
    (lines, texts)
}

#[test]
fn a_run_draws_a_well_formed_svg_with_a_line_per_stage() {
    let s = Scratch::new();
    let out = s.run(&["scenarios/extreme.toml", "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let dir = s.result_dir();
    let (lines, texts) = svg_of(&dir.join("plot.svg"));
    // four stage spectra plus the four resource panels
    assert!(lines >= 8, "{lines} lines");
    for stage in ["low", "medium", "high", "extreme"] {
        let named = texts.iter().filter(|t| *t == stage).count();
        // once in the legend, once at its start on the timeline
        assert_eq!(named, 2, "{stage} in {texts:?}");
    }
    for label in ["99%", "threads", "tasks", "fds", "heap MiB", "time (s)"] {
        assert!(texts.iter().any(|t| t == label), "{label} missing: {texts:?}");
    }
}

#[test]
fn plot_redraws_the_picture_of_a_directory() {
    let s = Scratch::new();
    let out = s.run(&["scenarios/low.toml", "-q"]);
    assert_eq!(out.status.code(), Some(0));
    let dir = s.result_dir();
    std::fs::remove_file(dir.join("plot.svg")).unwrap();
    let out = loadrun(&["plot", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (lines, texts) = svg_of(&dir.join("plot.svg"));
    assert!(lines >= 5 && texts.iter().any(|t| t == "low"), "{texts:?}");

    let out = loadrun(&["plot", s.path().join("nothing").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("nothing: not a result directory"));
}

#[test]
fn a_stage_keeps_its_color_when_an_earlier_one_only_published() {
    let s = Scratch::new();
    let path = s.scenario(
        "mixed.toml",
        "[[stage]]\nname = \"firehose\"\nmessages = 2000\nconsume = false\n\n\
         [[stage]]\nname = \"checked\"\nmessages = 2000\n",
    );
    let out = s.run(&[path.to_str().unwrap(), "-q"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let content = std::fs::read_to_string(s.result_dir().join("plot.svg")).expect("plot.svg");
    let doc = roxmltree::Document::parse(&content).expect("well-formed XML");
    // the timeline writes each stage's name in the stage's color
    let marker = doc
        .descendants()
        .find(|n| {
            n.has_tag_name("text")
                && n.text().map(str::trim) == Some("checked")
                && n.attribute("fill") != Some("#000000")
        })
        .and_then(|n| n.attribute("fill"))
        .expect("the checked stage named on the timeline in its color");
    // the spectrum has one thick line: the checked stage's
    let spectra: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline") && n.attribute("stroke-width") == Some("2"))
        .filter_map(|n| n.attribute("stroke"))
        .collect();
    assert!(!spectra.is_empty(), "no spectrum drawn");
    assert!(spectra.iter().all(|c| *c == marker), "spectrum {spectra:?}, timeline {marker}");
}
