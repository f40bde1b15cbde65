//! `vomsim init` and `vomsim validate`'s output, through the real binary:
//! a new scenario file is complete, validates to the defaults and runs; an
//! existing file is never overwritten without `--force` (nor one vomsim did
//! not write); validate's output keeps the file's comments and reads back
//! as the same scenario.

mod common;

use std::fs;
use std::path::Path;

use common::{entries, repo, vomsim};
use predicates::prelude::*;
use vomsim::Scenario;
use vomsim::scenario::RawScenario;

fn init(dir: &Path, name: &str, extra: &[&str]) -> assert_cmd::assert::Assert {
    vomsim()
        .args(["init", name, "--dir"])
        .arg(dir)
        .args(extra)
        .assert()
}

/// What `vomsim validate` prints for `file` (it must succeed).
fn validated(file: &Path, sets: &[&str]) -> String {
    let mut command = vomsim();
    command.arg("validate").arg(file);
    for set in sets {
        command.args(["--set", set]);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn init_writes_a_complete_scenario_that_validates_and_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("scenarios");
    let file = dir.join("mine.toml");
    init(&dir, "mine", &[])
        .success()
        .stdout(predicate::str::contains(file.display().to_string()))
        .stdout(predicate::str::contains(format!(
            "vomsim run {}",
            file.display()
        )));
    assert_eq!(entries(&dir), ["mine.toml"], "only the file, no temporary");
    let text = fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("# mine: a vomsim scenario, made by `vomsim init`"));
    assert!(text.contains("Los Angeles VORS default"));

    // validate accepts it, and it resolves to the defaults named "mine".
    let printed = validated(&file, &[]);
    let expected = RawScenario {
        name: "mine".to_string(),
        ..RawScenario::default()
    };
    assert_eq!(Scenario::load(&file, &[]).unwrap().raw, expected);
    let again = Scenario::from_toml_str(&printed, "printed", &[]).unwrap();
    assert_eq!(again.raw, expected);
    // A complete file prints as it is: nothing is a hidden default.
    assert_eq!(printed, text);

    let out = tmp.path().join("out").join("mine");
    vomsim()
        .arg("run")
        .arg(&file)
        .args(["--reps", "2", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert!(out.join("summary.csv").is_file());
}

#[test]
fn init_never_overwrites_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("mine.toml");
    fs::write(&file, "name = \"mine\"  # my own\n").unwrap();
    init(tmp.path(), "mine", &[])
        .code(2)
        .stderr(predicate::str::contains("mine.toml"))
        .stderr(predicate::str::contains("--force"));
    // --force replaces only a file vomsim init wrote.
    init(tmp.path(), "mine", &["--force"])
        .code(2)
        .stderr(predicate::str::contains("not written by vomsim init"));
    assert_eq!(
        fs::read_to_string(&file).unwrap(),
        "name = \"mine\"  # my own\n"
    );
    assert_eq!(entries(tmp.path()), ["mine.toml"]);

    // A file init wrote (and the user edited) is refused without --force,
    // replaced with it.
    fs::remove_file(&file).unwrap();
    init(tmp.path(), "mine", &[]).success();
    let written = fs::read_to_string(&file).unwrap();
    let edited = written.replace("per_month = 40.0", "per_month = 12.0");
    fs::write(&file, &edited).unwrap();
    init(tmp.path(), "mine", &[]).code(2);
    assert_eq!(fs::read_to_string(&file).unwrap(), edited);
    init(tmp.path(), "mine", &["--force"]).success();
    assert_eq!(fs::read_to_string(&file).unwrap(), written);

    // A folder in the way.
    fs::create_dir(tmp.path().join("dir.toml")).unwrap();
    init(tmp.path(), "dir", &["--force"])
        .code(2)
        .stderr(predicate::str::contains("folder"));
}

#[test]
fn init_rejects_a_bad_name() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["my program", ".hidden", "a/b", "", "x$"] {
        init(tmp.path(), name, &[])
            .code(2)
            .stderr(predicate::str::contains("NAME"))
            .stderr(predicate::str::contains("letters, digits"));
    }
    assert!(entries(tmp.path()).is_empty());
}

#[test]
fn help_lists_init() {
    vomsim()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("init"));
    vomsim()
        .args(["init", "--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains("--dir"))
        .stdout(predicate::str::contains("--force"));
}

/// validate prints the shipped scenario with its comments, and its output
/// read back is the same scenario (with `--set` too).
#[test]
fn validate_keeps_comments_and_reads_back_the_same() {
    let vors = repo("scenarios/vors_la.toml");
    let text = fs::read_to_string(&vors).unwrap();
    let printed = validated(&vors, &[]);
    for line in text.lines().filter(|l| l.contains('#')) {
        assert!(printed.contains(line), "lost: {line}");
    }
    let tmp = tempfile::tempdir().unwrap();
    let sets = ["referrals.per_month=60", "design.rct_control_share=0.5"];
    let printed = validated(&vors, &sets);
    assert!(printed.contains("male_share = 0.701       # seed 003: 70.1% male"));
    let file = tmp.path().join("printed.toml");
    fs::write(&file, &printed).unwrap();
    let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        Scenario::load(&file, &[]).unwrap().raw,
        Scenario::load(&vors, &sets).unwrap().raw
    );
    // Printing is stable: the printed file prints as it is.
    assert_eq!(validated(&file, &[]), printed);

    // A file with only a name gets every other key, marked as a default.
    let minimal = tmp.path().join("minimal.toml");
    fs::write(&minimal, "# mine\nname = \"minimal\"\n").unwrap();
    let printed = validated(&minimal, &[]);
    assert!(printed.starts_with("# mine\nname = \"minimal\"\n"));
    assert!(printed.contains("victim_risk_log_odds = -0.738  # default"));
    fs::write(&file, &printed).unwrap();
    assert_eq!(
        Scenario::load(&file, &[]).unwrap().raw,
        Scenario::load(&minimal, &[]).unwrap().raw
    );
}
