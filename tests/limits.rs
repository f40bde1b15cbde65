//! Bounded input and bounded work (README, "Limits"), through the binary:
//! files that are too large or not regular, runs too large for memory or
//! time, an unbounded mediator pool, and too many threads. Each refusal
//! exits 2 with the limit in its message and leaves nothing on disk.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{repo, vomsim};

/// A scenario that runs in milliseconds.
const TINY: &str = "name = \"tiny\"\n[simulation]\nreplications = 2\nintake_months = 1\n[referrals]\nper_month = 5.0\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs vomsim in `dir` and expects exit 2 with every one of `expected` in
/// the message, and `dir` holding only `kept` afterwards.
fn refused(dir: &Path, args: &[&str], expected: &[&str], kept: &[&str]) -> String {
    let output = vomsim().current_dir(dir).args(args).output().unwrap();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
    assert!(message.starts_with("error: "), "{message}");
    assert_eq!(
        message.trim_end().lines().count(),
        1,
        "one paragraph: {message}"
    );
    for e in expected {
        assert!(message.contains(e), "{args:?}: expected {e:?} in {message}");
    }
    let mut kept: Vec<String> = kept.iter().map(|s| s.to_string()).collect();
    kept.sort();
    assert_eq!(entries(dir), kept, "{args:?} left something behind");
    message
}

#[test]
fn a_device_is_refused_without_reading_it() {
    let tmp = tempfile::tempdir().unwrap();
    for command in ["validate", "run"] {
        refused(
            tmp.path(),
            &[command, "/dev/zero"],
            &["/dev/zero", "not a regular file"],
            &[],
        );
    }
}

#[test]
fn a_file_over_one_mib_is_refused_naming_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    // A valid scenario, padded with comments to one byte over the limit.
    let mut text = TINY.to_string();
    let line = format!("# {}\n", "x".repeat(97));
    while text.len() + line.len() <= 1 << 20 {
        text.push_str(&line);
    }
    let exact = text.clone();
    text.push_str(&"#".repeat((1 << 20) + 1 - text.len()));
    assert_eq!(text.len(), (1 << 20) + 1);
    write(tmp.path(), "big.toml", &text);
    write(tmp.path(), "exact.toml", &exact);
    let kept = ["big.toml", "exact.toml"];
    for command in ["validate", "run", "sweep"] {
        refused(
            tmp.path(),
            &[command, "big.toml"],
            &["big.toml", "1048577 bytes", "at most 1 MiB (1048576 bytes)"],
            &kept,
        );
    }
    // At the limit is fine.
    vomsim()
        .current_dir(tmp.path())
        .args(["validate", "exact.toml"])
        .assert()
        .success();
    // Targets too.
    let targets = "metric,group,month,target,tolerance,source\n".to_string()
        + &"share,mediated,,0.5,0.1,x\n".repeat((1 << 20) / 26 + 1);
    write(tmp.path(), "targets.csv", &targets);
    refused(
        tmp.path(),
        &[
            "calibrate",
            "exact.toml",
            "--targets",
            "targets.csv",
            "--fit",
            "mediation.agreement_probability=0.1..0.9",
            "--out",
            "cal/tiny.toml",
        ],
        &["--targets", "targets.csv", "at most 1 MiB"],
        &["big.toml", "exact.toml", "targets.csv"],
    );
}

/// Waits for a child, killing it (and failing) if it blocks.
fn finish(mut child: std::process::Child, what: &str) -> Output {
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("{what}: blocked on the FIFO");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("scenario.toml");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let tiny = write(tmp.path(), "tiny.toml", TINY);
    let cases: [Vec<&str>; 3] = [
        vec!["validate", "scenario.toml"],
        vec!["run", "scenario.toml", "--out", "out"],
        vec![
            "calibrate",
            tiny.to_str().unwrap(),
            "--targets",
            "scenario.toml",
            "--fit",
            "mediation.agreement_probability=0.1..0.9",
            "--out",
            "cal/tiny.toml",
        ],
    ];
    for args in cases {
        // No writer ever opens the FIFO: opening it to read would block.
        let child = Command::new(env!("CARGO_BIN_EXE_vomsim"))
            .current_dir(tmp.path())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = finish(child, &args.join(" "));
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert!(message.contains("not a regular file"), "{message}");
        assert!(message.contains("scenario.toml"), "{message}");
        assert_eq!(entries(tmp.path()), ["scenario.toml", "tiny.toml"]);
    }
}

#[test]
fn a_symlink_to_a_scenario_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let link = tmp.path().join("link.toml");
    std::os::unix::fs::symlink(repo("scenarios/vors_la.toml"), &link).unwrap();
    vomsim()
        .args(["validate", link.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicates::str::contains("name = \"vors_la\""));
}

#[test]
fn huge_runs_are_refused_with_the_estimate_and_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = repo("scenarios/vors_la.toml");
    let scenario = scenario.to_str().unwrap();
    let targets = repo("tests/targets/vors_la.csv");
    let targets = targets.to_str().unwrap();
    let fit = "recidivism.baseline_rearrest_12m=0.05..0.4";
    let limits = [
        "too large a run",
        "of memory (",
        "the limits are 1000000 replications and 4.0 GiB",
    ];
    for reps in ["1000000000", "18446744073709551615"] {
        let cases: [Vec<&str>; 4] = [
            vec!["run", scenario, "--reps", reps, "--out", "out"],
            vec![
                "size",
                scenario,
                "--wait-days",
                "30",
                "--quantile",
                "0.9",
                "--reps",
                reps,
                "--out",
                "out",
            ],
            vec![
                "calibrate",
                scenario,
                "--targets",
                targets,
                "--fit",
                fit,
                "--reps",
                reps,
                "--out",
                "out/x.toml",
            ],
            vec![
                "calibrate",
                scenario,
                "--targets",
                targets,
                "--fit",
                fit,
                "--reps",
                "10",
                "--verify-reps",
                reps,
                "--out",
                "out/x.toml",
            ],
        ];
        for args in cases {
            let message = refused(tmp.path(), &args, &limits, &[]);
            assert!(message.contains(&format!("= {reps}: ")), "{message}");
            assert!(message.contains("replications fit"), "{message}");
        }
    }
    // Within the replication cap, but not within memory: the largest run
    // that fits is named, and it is below the cap.
    let message = refused(
        tmp.path(),
        &["run", scenario, "--reps", "900000", "--out", "out"],
        &limits,
        &[],
    );
    let largest: u64 = message
        .split("at most ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{message}"));
    assert!((100_000..900_000).contains(&largest), "{message}");
    // The default verification, 4 x --reps, is checked too.
    refused(
        tmp.path(),
        &[
            "calibrate",
            scenario,
            "--targets",
            targets,
            "--fit",
            fit,
            "--reps",
            "200000",
            "--out",
            "out/x.toml",
        ],
        &["--verify-reps (4 x --reps) = 800000", "too large a run"],
        &[],
    );
}

#[test]
fn replications_in_the_scenario_are_capped_too() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "many.toml",
        &TINY.replace("replications = 2", "replications = 1000001"),
    );
    refused(
        tmp.path(),
        &["run", "many.toml", "--out", "out"],
        &["simulation.replications = 1000001 must be at most 1000000"],
        &["many.toml"],
    );
    // The file itself is invalid, whatever --reps says.
    refused(
        tmp.path(),
        &["run", "many.toml", "--reps", "2", "--out", "out"],
        &["simulation.replications = 1000001"],
        &["many.toml"],
    );
}

#[test]
fn an_unbounded_mediator_pool_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    write(
        tmp.path(),
        "pool.toml",
        &format!("{TINY}[mediators]\ncohort_size = 100000\ncohort_every_months = 1\n")
            .replace("intake_months = 1", "intake_months = 600"),
    );
    for command in ["validate", "run"] {
        refused(
            tmp.path(),
            &[command, "pool.toml"],
            &[
                "pool.toml",
                "mediators.cohort_size = 100000",
                "mediators in one replication",
                "at most 100000 are allowed",
            ],
            &["pool.toml"],
        );
    }
    // The larger part of the pool is the one named.
    write(tmp.path(), "tiny.toml", TINY);
    refused(
        tmp.path(),
        &[
            "run",
            "tiny.toml",
            "--set",
            "mediators.initial_active=100000",
        ],
        &[
            "mediators.initial_active = 100000 gives a pool of",
            "at most 100000 are allowed",
        ],
        &["pool.toml", "tiny.toml"],
    );
    // The per-key cap names its own key.
    refused(
        tmp.path(),
        &[
            "validate",
            "pool.toml",
            "--set",
            "mediators.cohort_size=100001",
        ],
        &["mediators.cohort_size = 100001 must be at most 100000"],
        &["pool.toml", "tiny.toml"],
    );
    refused(
        tmp.path(),
        &[
            "validate",
            "pool.toml",
            "--set",
            "mediators.initial_active=100001",
        ],
        &["mediators.initial_active = 100001 must be at most 100000"],
        &["pool.toml", "tiny.toml"],
    );
    // `size` checks every pool size it would try before its output folder.
    refused(
        tmp.path(),
        &[
            "size",
            "pool.toml",
            "--set",
            "mediators.cohort_size=0",
            "--wait-days",
            "30",
            "--quantile",
            "0.9",
            "--from",
            "2",
            "--to",
            "200002",
            "--step",
            "100000",
            "--out",
            "out",
        ],
        &["mediators.initial_active = 100002 must be at most 100000"],
        &["pool.toml", "tiny.toml"],
    );
}

#[test]
fn too_many_threads_are_lowered_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    write(tmp.path(), "tiny.toml", TINY);
    let output = vomsim()
        .current_dir(tmp.path())
        .args([
            "run",
            "tiny.toml",
            "--threads",
            "100000",
            "--out",
            "out",
            "--quiet",
        ])
        .output()
        .unwrap();
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{message}");
    assert!(
        message.contains("warning: --threads 100000 is more than 4 per core"),
        "{message}"
    );
    let used: usize = message
        .split("using ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{message}"));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(used, 4 * cores);
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.path().join("out/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["threads"], used);
    // Within the cap: no warning.
    let output = vomsim()
        .current_dir(tmp.path())
        .args([
            "run",
            "tiny.toml",
            "--threads",
            "2",
            "--out",
            "out2",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
}
