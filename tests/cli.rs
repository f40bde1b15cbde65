//! The real binary on real scenario files: determinism, value stability,
//! the output contract, and every kind of bad input.

mod common;

use std::fs;
use std::path::Path;

use common::{entries, read_summary, repo, vomsim};
use predicates::prelude::*;

const VORS: &str = "scenarios/vors_la.toml";

/// A small, quick run of the shipped scenario.
fn small_run(out: &Path, threads: &str) {
    vomsim()
        .args([
            "run",
            repo(VORS).to_str().unwrap(),
            "--reps",
            "16",
            "--seed",
            "11",
        ])
        .args([
            "--threads",
            threads,
            "--quiet",
            "--set",
            "referrals.per_month=15",
        ])
        .arg("--out")
        .arg(out)
        .assert()
        .success();
}

#[test]
fn output_is_byte_identical_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (tmp.path().join("t1"), tmp.path().join("t2"));
    small_run(&one, "1");
    small_run(&two, "2");
    for file in ["summary.csv", "replications.csv"] {
        let a = fs::read(one.join(file)).unwrap();
        let b = fs::read(two.join(file)).unwrap();
        assert!(!a.is_empty());
        assert!(a == b, "{file} differs between --threads 1 and --threads 2");
    }
}

/// Pins the output of a small run for one seed, on its own scenario file
/// (every key written out, so re-calibrating `vors_la` does not move it). A
/// change here is a
/// reproducibility break: log it in CHANGELOG.md, then regenerate with
/// `VOMSIM_BLESS=1 cargo test --release --test cli value_stability`.
#[test]
fn value_stability() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    vomsim()
        .args([
            "run",
            repo("tests/golden/value_stability.toml").to_str().unwrap(),
            "--reps",
            "3",
            "--seed",
            "42",
            "--quiet",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let golden = repo("tests/golden/value_stability_summary.csv");
    let produced = fs::read_to_string(out.join("summary.csv")).unwrap();
    if std::env::var_os("VOMSIM_BLESS").is_some() {
        fs::write(&golden, &produced).unwrap();
    }
    let expected = fs::read_to_string(&golden).unwrap();
    assert!(
        produced == expected,
        "summary.csv of the pinned run changed (see this test's comment)"
    );
}

#[test]
fn run_writes_the_contract_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    vomsim()
        .args([
            "run",
            repo(VORS).to_str().unwrap(),
            "--reps",
            "4",
            "--agents",
        ])
        .args(["--set", "referrals.per_month=10", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("effect ratio at 12: true ATT"));
    assert_eq!(
        entries(&out),
        [
            "agents.csv",
            "diagnosis.csv",
            "manifest.json",
            "replications.csv",
            "summary.csv"
        ]
    );
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary.starts_with("point,metric,group,month,mean,sd,q025,q500,q975,reps\n"));
    let replications = fs::read_to_string(out.join("replications.csv")).unwrap();
    assert!(replications.starts_with("point,rep,metric,group,month,value\n"));
    assert!(!summary.contains("NaN") && !replications.contains("NaN"));
    assert!(!summary.contains("inf") && !replications.contains("inf"));

    // agents.csv: one row per youth of every replication, with the survival columns.
    let rows = read_summary(&out.join("summary.csv"));
    let mut agents = csv::Reader::from_path(out.join("agents.csv")).unwrap();
    let header = agents.headers().unwrap().clone();
    for column in [
        "group",
        "time_months",
        "event",
        "t0_months",
        "t1_months",
        "risk",
        "motivation",
        "wait_days",
    ] {
        assert!(
            header.iter().any(|h| h == column),
            "agents.csv lacks {column}"
        );
    }
    // One row per youth of every replication, `rep` first.
    assert_eq!(&header[0], "rep");
    let mut youths = [0u64; 4];
    for record in agents.records() {
        youths[record.unwrap()[0].parse::<usize>().unwrap()] += 1;
    }
    let replications = fs::read_to_string(out.join("replications.csv")).unwrap();
    for (rep, count) in youths.iter().enumerate() {
        let referred = replications
            .lines()
            .find(|l| l.starts_with(&format!("0,{rep},referrals,referred,")))
            .map(|l| l.rsplit(',').next().unwrap().parse::<f64>().unwrap())
            .unwrap();
        assert_eq!(*count as f64, referred, "replication {rep}");
    }
    assert!(rows.contains_key(&("share".into(), "mediated".into(), "".into())));

    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["scenario"], "vors_la");
    assert_eq!(manifest["reps"], 4);
    assert_eq!(manifest["parameters"]["referrals"]["per_month"], 10.0);
    assert_eq!(manifest["scenario_sha256"].as_str().unwrap().len(), 64);
}

#[test]
fn validate_prints_every_key_resolved() {
    let assert = vomsim()
        .args([
            "validate",
            repo(VORS).to_str().unwrap(),
            "--set",
            "referrals.per_month=60",
        ])
        .assert()
        .success();
    let text = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let resolved: toml::Table = text.parse().unwrap();
    assert_eq!(resolved["referrals"]["per_month"].as_float(), Some(60.0));
    // Keys the file leaves to their defaults are printed too.
    let tmp = tempfile::tempdir().unwrap();
    let minimal = tmp.path().join("minimal.toml");
    fs::write(&minimal, "name = \"minimal\"\n").unwrap();
    vomsim()
        .arg("validate")
        .arg(&minimal)
        .assert()
        .success()
        .stdout(predicate::str::contains("victim_risk_log_odds"))
        .stdout(predicate::str::contains(
            "[restitution.court_ordered.completion]",
        ));
}

/// Runs the binary on a bad scenario text; checks the exit code, that the
/// message names what it should, that nothing panicked, and that no output
/// (not even a staging folder) was left behind.
fn rejects(text: &str, extra: &[&str], expected: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("bad.toml");
    fs::write(&scenario, text).unwrap();
    let out = tmp.path().join("out").join("run");
    let assert = vomsim()
        .arg("run")
        .arg(&scenario)
        .args(extra)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("backtrace"),
        "{stderr}"
    );
    for needle in expected {
        assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
    }
    assert!(!out.exists(), "an output folder was left behind");
    if tmp.path().join("out").exists() {
        assert!(entries(&tmp.path().join("out")).is_empty());
    }
}

#[test]
fn syntax_error_gives_line_and_column() {
    rejects(
        "name = \"x\"\n[referrals]\nper_month = = 3\n",
        &[],
        &["bad.toml", "line 3", "column"],
    );
}

#[test]
fn unknown_key_is_named_with_the_nearest_valid_one() {
    rejects(
        "[mediation]\nagrement_probability = 0.9\n",
        &[],
        &[
            "mediation.agrement_probability",
            "did you mean `mediation.agreement_probability`",
        ],
    );
}

#[test]
fn out_of_range_value_names_key_value_and_range() {
    rejects(
        "[mediation]\nagreement_probability = 1.3\n",
        &[],
        &[
            "bad.toml",
            "mediation.agreement_probability = 1.3",
            "[0, 1]",
        ],
    );
}

#[test]
fn bad_set_is_rejected() {
    rejects(
        "name = \"x\"\n",
        &["--set", "referals.per_month=3"],
        &["did you mean `referrals`"],
    );
    rejects(
        "name = \"x\"\n",
        &["--set", "referrals.per_month=-3"],
        &["referrals.per_month = -3"],
    );
}

#[test]
fn zero_replications_is_a_usage_error() {
    rejects(
        "name = \"x\"\n",
        &["--reps", "0"],
        &["--reps", "at least 1"],
    );
    rejects(
        "name = \"x\"\n",
        &["--threads", "0"],
        &["--threads", "at least 1"],
    );
}

#[test]
fn missing_scenario_file_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    vomsim()
        .arg("run")
        .arg(tmp.path().join("nope.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope.toml"))
        .stderr(predicate::str::contains("cannot read"));
}

#[test]
fn existing_output_folder_is_kept_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("mine.txt"), "keep me").unwrap();
    fs::write(out.join("manifest.json"), "{}").unwrap();
    vomsim()
        .args([
            "run",
            repo(VORS).to_str().unwrap(),
            "--reps",
            "2",
            "--quiet",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already exists"))
        .stderr(predicate::str::contains("--force"));
    assert_eq!(entries(&out), ["manifest.json", "mine.txt"]);
    assert_eq!(
        entries(tmp.path()),
        ["run"],
        "no staging folder left behind"
    );
    vomsim()
        .args([
            "run",
            repo(VORS).to_str().unwrap(),
            "--reps",
            "2",
            "--quiet",
            "--force",
            "--out",
        ])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not written by vomsim"));
    assert_eq!(
        entries(&out),
        ["manifest.json", "mine.txt"],
        "--force refuses it: the manifest is not vomsim's"
    );
    fs::remove_dir_all(&out).unwrap();
    for force in [false, true] {
        vomsim()
            .args([
                "run",
                repo(VORS).to_str().unwrap(),
                "--reps",
                "2",
                "--quiet",
            ])
            .args(force.then_some("--force"))
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
    }
    assert!(out.join("summary.csv").exists());
}

#[test]
fn force_never_replaces_a_folder_vomsim_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let precious = tmp.path().join("thesis");
    fs::create_dir(&precious).unwrap();
    fs::write(precious.join("thesis.tex"), "years of work").unwrap();
    vomsim()
        .args([
            "run",
            repo(VORS).to_str().unwrap(),
            "--reps",
            "2",
            "--quiet",
            "--force",
            "--out",
        ])
        .arg(&precious)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not written by vomsim"));
    assert_eq!(entries(&precious), ["thesis.tex"]);
}

#[test]
fn output_under_a_regular_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    fs::write(&file, "x").unwrap();
    vomsim()
        .args([
            "run",
            repo(VORS).to_str().unwrap(),
            "--reps",
            "2",
            "--quiet",
            "--out",
        ])
        .arg(file.join("run"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot use this output folder"));
}

#[test]
fn size_finds_the_smallest_pool_meeting_the_wait_target() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("size");
    let assert = vomsim()
        .args([
            "size",
            repo(VORS).to_str().unwrap(),
            "--wait-days",
            "28",
            "--quantile",
            "0.9",
        ])
        .args([
            "--from", "4", "--to", "40", "--step", "6", "--scan", "--reps", "40", "--quiet",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains("smallest mediators.initial_active meeting the target"),
        "{stdout}"
    );
    let mut reader = csv::Reader::from_path(out.join("size.csv")).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "value",
            "active_mediators_mean",
            "wait_days_q",
            "returned_share",
            "meets_target",
            "share_meeting",
            "share_lower",
            "share_upper",
            "reps",
            "wait_to",
            "wait_days",
            "quantile",
            "confidence",
            "max_returned_share"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let values: Vec<u64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(values, [4, 10, 16, 22, 28, 34, 40]);
    let wait = |i: usize| rows[i][2].parse::<f64>().unwrap();
    let meets = |i: usize| &rows[i][4] == "true";
    // Four volunteers cannot keep up with ~15 consented cases a month;
    // forty leave no one waiting.
    assert!(!meets(0) && wait(0) > 28.0, "{:?}", rows[0]);
    assert!(meets(6) && wait(6) < 1.0, "{:?}", rows[6]);
    let active = |i: usize| rows[i][1].parse::<f64>().unwrap();
    assert!(active(6) > active(0));
    // The target on every row; the meeting share inside its interval.
    for row in &rows {
        let target: Vec<&str> = row.iter().skip(9).collect();
        assert_eq!(target, ["assignment", "28", "0.9", "0.9", ""]);
        let share = |i: usize| row[i].parse::<f64>().unwrap();
        assert!(share(6) <= share(5) && share(5) <= share(7), "{row:?}");
        assert_eq!(&row[4] == "true", share(5) >= 0.9);
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["search"], "scan");
    assert_eq!(manifest["target"]["wait_to"], "assignment");
    assert_eq!(
        manifest["files"],
        serde_json::json!(["size.csv", "manifest.json"])
    );
    // The folder's report page: the curves with the target drawn, the answer.
    vomsim().arg("report").arg(&out).assert().success();
    let page = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        page.contains("The smallest value meeting the target is "),
        "{page}"
    );
    assert_eq!(page.matches("<svg").count(), 3);
}

/// Runs `size` on vors_la with the given options; returns size.csv's rows
/// and the answer printed.
fn size_rows(out: &Path, options: &[&str]) -> (Vec<Vec<String>>, Option<u64>) {
    let assert = vomsim()
        .args([
            "size",
            repo(VORS).to_str().unwrap(),
            "--quantile",
            "0.9",
            "--reps",
            "40",
            "--quiet",
            "--out",
        ])
        .arg(out)
        .args(options)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let answer = stdout
        .split("meeting the target: ")
        .nth(1)
        .map(|rest| rest.split(' ').next().unwrap().parse().unwrap());
    let rows = csv::Reader::from_path(out.join("size.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (rows, answer)
}

/// The bisection finds the scan's answer, and every value it tries has
/// exactly the scan's row there (common random numbers: a value's
/// replications do not depend on which other values were tried), with far
/// fewer values run.
#[test]
fn size_bisection_returns_the_scans_answer() {
    let tmp = tempfile::tempdir().unwrap();
    for (wait, to) in [("28", "30"), ("14", "40")] {
        let range = ["--wait-days", wait, "--from", "4", "--to", to];
        let (scan, scan_answer) = size_rows(
            &tmp.path().join(format!("scan{wait}")),
            &[&range[..], &["--scan"]].concat(),
        );
        let (bisection, answer) = size_rows(&tmp.path().join(format!("bisect{wait}")), &range);
        assert!(scan_answer.is_some(), "the range holds the answer");
        assert_eq!(answer, scan_answer, "wait {wait}");
        assert!(
            bisection.len() * 2 < scan.len(),
            "{} values",
            bisection.len()
        );
        for row in &bisection {
            assert!(scan.contains(row), "{row:?} is not the scan's row");
        }
    }
}

/// Time to the session is the wait plus the case's preparation: it needs
/// at least the pool the wait to assignment needs, and a 14-day promise of
/// a session cannot be met by any pool when cases take three weeks.
#[test]
fn size_targets_the_wait_to_the_session() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, assignment) = size_rows(&tmp.path().join("a"), &["--wait-days", "45"]);
    let (rows, session) = size_rows(
        &tmp.path().join("s"),
        &["--wait-days", "45", "--target", "session"],
    );
    let (assignment, session) = (assignment.unwrap(), session.unwrap());
    assert!(session > assignment, "{session} vs {assignment}");
    assert!(rows.iter().all(|r| r[9] == "session"));
    let (_, never) = size_rows(
        &tmp.path().join("n"),
        &["--wait-days", "14", "--target", "session", "--to", "100"],
    );
    assert_eq!(never, None);
}

#[test]
fn size_rejects_a_lever_that_is_not_a_count() {
    vomsim()
        .args([
            "size",
            repo(VORS).to_str().unwrap(),
            "--wait-days",
            "28",
            "--quantile",
            "0.9",
        ])
        .args(["--lever", "mediators.comediation_share", "--quiet"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("mediator-pool key"));
    vomsim()
        .args([
            "size",
            repo(VORS).to_str().unwrap(),
            "--wait-days",
            "28",
            "--quantile",
            "1.5",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--quantile"));
}
