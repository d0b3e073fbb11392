//! Bad scenarios and bad command lines: exit 2 with a message that names the
//! file, the line, the key and the bad value. Never a panic.

mod common;

use common::{loadrun, text, Scratch};

fn rejects(body: &str, wanted: &[&str]) {
    let s = Scratch::new();
    let path = s.scenario("bad.toml", body);
    let out = loadrun(&["validate", path.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{body:?} gave {stderr}");
    assert!(stderr.contains("bad.toml"), "names the file: {stderr}");
    for w in wanted {
        assert!(stderr.contains(w), "{body:?}: expected {w:?} in {stderr}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn zero_messages_names_the_stage_line_and_value() {
    rejects(
        "[[stage]]\nname = \"high\"\nmessages = 0\n",
        &["bad.toml:3:", "stage 'high'", "messages must be at least 1, got 0"],
    );
}

#[test]
fn a_delivery_threshold_on_a_stage_that_only_publishes_is_refused() {
    rejects(
        "[thresholds]\ne2e_p99 = \"5ms\"\n\n[[stage]]\nname = \"fire\"\nmessages = 10\n\
         consume = false\n",
        &["bad.toml:4:", "stage 'fire'", "thresholds.e2e_p99 needs a consumer", "consume = false"],
    );
    rejects(
        "[[stage]]\nname = \"fire\"\nmessages = 10\nconsume = false\n\
         [stage.thresholds]\nmax_lost = 0\n",
        &["stage 'fire'", "thresholds.max_lost needs a consumer"],
    );
    rejects(
        "[[stage]]\nname = \"fire\"\nmessages = 10\nconsume = \"no\"\n",
        &["bad.toml:4:", "consume"],
    );
}

#[test]
fn an_unknown_key_is_named_with_its_table() {
    rejects("[[stage]]\nmessages = 5\nmesages = 5\n", &["bad.toml:3:", "unknown field `mesages`"]);
    rejects(
        "[bus]\nkind = \"memory\"\ncolour = 1\n[[stage]]\nmessages = 1\n",
        &["colour", "[bus]"],
    );
    rejects("[[stage]]\nmessages = 1\n[thresholds]\ne2e_p98 = \"1s\"\n", &["e2e_p98"]);
    rejects("surprise = true\n[[stage]]\nmessages = 1\n", &["bad.toml:1:", "surprise"]);
    rejects("[defaults]\ntopicz = 2\n[[stage]]\nmessages = 1\n", &["bad.toml:2:", "topicz"]);
    rejects(
        "[[stage]]\nmessages = 1\n[stage.thresholds]\nmax_lots = 1\n",
        &["bad.toml:4:", "max_lots"],
    );
    rejects("[[compare]]\nkind = \"nats\"\nspeed = 9\n[[stage]]\nmessages = 1\n", &["speed"]);
}

#[test]
fn a_bad_duration_names_key_and_value() {
    rejects(
        "[defaults]\ntimeout = \"2 fortnights\"\n[[stage]]\nmessages = 1\n",
        &["bad.toml:2:", "[defaults]", "timeout", "2 fortnights"],
    );
    rejects("[[stage]]\nmessages = 1\nsettle = \"30\"\n", &["settle", "has no unit"]);
}

#[test]
fn wrong_types_and_unknown_bus_kinds_are_refused() {
    rejects("[[stage]]\nmessages = \"many\"\n", &["bad.toml:2:", "messages"]);
    rejects(
        "[bus]\nkind = \"carrier-pigeon\"\n[[stage]]\nmessages = 1\n",
        &["bad.toml:2:", "kind must be one of", "carrier-pigeon"],
    );
}

#[test]
fn negative_and_absurd_sizes_are_refused() {
    rejects("[[stage]]\nmessages = -5\n", &["messages must be at least 1, got -5"]);
    rejects(
        "[[stage]]\nmessages = 1\nmessage_size = 10\n",
        &["message_size must be at least 36, got 10"],
    );
    rejects("[[stage]]\nmessages = 1\nproducers = 100000\n", &["producers must be at most"]);
}

#[test]
fn stages_must_exist_and_have_unique_names() {
    rejects("name = \"x\"\n", &["no [[stage]]"]);
    rejects("stage = []\n", &["`stage` is empty"]);
    rejects(
        "[[stage]]\nname = \"a\"\nmessages = 1\n[[stage]]\nname = \"a\"\nmessages = 2\n",
        &["bad.toml:5:", "\"a\" is used by an earlier stage"],
    );
    rejects("[[stage]]\nname = \"a\"\n", &["stage 'a'", "messages is required"]);
}

#[test]
fn syntax_errors_empty_files_and_binary_garbage_are_refused() {
    rejects("[[stage]\nmessages = 1\n", &["bad.toml:1:"]);
    rejects("", &["is empty"]);
    rejects("   \n\n", &["is empty"]);
    let s = Scratch::new();
    let path = s.path().join("bad.toml");
    std::fs::write(&path, [0xff, 0xfe, 0x00, 0x80, 0x41]).unwrap();
    let out = loadrun(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("not UTF-8"), "{}", text(&out.stderr));
}

#[test]
fn a_missing_file_or_a_directory_is_refused() {
    let out = loadrun(&["validate", "no/such/file.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/such/file.toml"));
    let out = loadrun(&["scenarios"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("is a directory"), "{}", text(&out.stderr));
}

#[test]
fn bad_command_line_values_exit_2() {
    let out = loadrun(&["scenarios/low.toml", "--bus", "smoke-signals"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("smoke-signals"));
    let out = loadrun(&["validate", "scenarios/extreme.toml", "--stage", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("--stage nope") && stderr.contains("low, medium"), "{stderr}");
}

#[test]
fn an_unset_environment_secret_is_named() {
    rejects(
        "[bus]\nkind = \"kafka\"\n[bus.config]\n\"sasl.password\" = \"${LOADRUN_TEST_UNSET_SECRET}\"\n[[stage]]\nmessages = 1\n",
        &["LOADRUN_TEST_UNSET_SECRET is not set"],
    );
}

#[test]
fn shipped_scenarios_validate() {
    for file in std::fs::read_dir("scenarios").unwrap().flatten() {
        let path = file.path();
        let out = loadrun(&["validate", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{path:?}: {}", text(&out.stderr));
    }
}

#[test]
fn an_unwritable_results_directory_fails_before_any_load() {
    let s = Scratch::new();
    let blocker = s.path().join("file");
    std::fs::write(&blocker, "not a directory").unwrap();
    let out = loadrun(&["scenarios/low.toml", "--results", blocker.join("x").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("results"), "{stderr}");
    assert!(!stderr.contains("stage low"), "no stage may start: {stderr}");
}
