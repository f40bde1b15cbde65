//! Every mistake a user makes gets a one-paragraph message naming what is
//! wrong, exit code 2, no panic or backtrace, and no output left behind.
//! (Merging shards of different sweeps is in tests/sweep.rs.)

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{repo, vomsim};

struct Case {
    name: &'static str,
    /// The scenario text written to `bad.toml` (None: use the shipped one).
    scenario: Option<&'static str>,
    args: Vec<String>,
    expected: Vec<&'static str>,
}

fn case(
    name: &'static str,
    scenario: Option<&'static str>,
    args: &[&str],
    expected: &[&'static str],
) -> Case {
    Case {
        name,
        scenario,
        args: args.iter().map(|s| s.to_string()).collect(),
        expected: expected.to_vec(),
    }
}

/// Runs `vomsim run <scenario> <args> --out <tmp>/out/run` and checks the
/// exit code, the message, and that nothing was written.
fn check(c: &Case, tmp: &Path) {
    let scenario: PathBuf = match c.scenario {
        Some(text) => {
            let path = tmp.join("bad.toml");
            fs::write(&path, text).unwrap();
            path
        }
        None => repo("scenarios/vors_la.toml"),
    };
    let out = tmp.join("out").join("run");
    let args: Vec<String> = c
        .args
        .iter()
        .map(|a| a.replace("{tmp}", tmp.to_str().unwrap()))
        .collect();
    let has_out = args.iter().any(|a| a == "--out");
    let mut command = vomsim();
    command.arg("run").arg(&scenario).args(&args).arg("--quiet");
    if !has_out {
        command.arg("--out").arg(&out);
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}: exit code; stderr: {stderr}",
        c.name
    );
    assert!(stderr.starts_with("error"), "{}: {stderr}", c.name);
    assert!(
        !stderr.contains("panicked") && !stderr.contains("stack backtrace"),
        "{}: {stderr}",
        c.name
    );
    assert!(
        stderr.trim_end().lines().count() <= 3,
        "{}: a short message: {stderr}",
        c.name
    );
    for needle in &c.expected {
        assert!(
            stderr.contains(needle),
            "{}: expected {needle:?} in: {stderr}",
            c.name
        );
    }
    assert!(
        !out.exists(),
        "{}: an output folder was left behind",
        c.name
    );
    if tmp.join("out").exists() {
        let left: Vec<_> = fs::read_dir(tmp.join("out")).unwrap().flatten().collect();
        assert!(left.is_empty(), "{}: left {left:?}", c.name);
    }
}

#[test]
fn every_mistake_is_explained() {
    let cases = vec![
        case(
            "TOML syntax",
            Some("[referrals]\nper_month = = 3\n"),
            &[],
            &["bad.toml", "line 2, column", "per_month"],
        ),
        case(
            "unknown key",
            Some("[consent]\nvictim_probabilty = 0.5\n"),
            &[],
            &[
                "unknown key `consent.victim_probabilty`",
                "did you mean `consent.victim_probability`",
            ],
        ),
        case(
            "wrong type",
            Some("[referrals]\nper_month = \"lots\"\n"),
            &[],
            &["wrong type", "expected a number", "per_month", "line 2"],
        ),
        case(
            "out of range",
            Some("[mediation]\nagreement_probability = 1.3\n"),
            &[],
            &["mediation.agreement_probability = 1.3", "[0, 1]"],
        ),
        case(
            "shares not summing to 1",
            Some("[referrals.offense_shares]\nvandalism = 0.9\n"),
            &[],
            &["referrals.offense_shares", "must sum to 1"],
        ),
        case(
            "inconsistent combination",
            Some("[mediators]\ninitial_active = 1\ncohort_size = 0\ncomediation_share = 0.5\n"),
            &[],
            &["mediators.comediation_share", "two mediators"],
        ),
        case("empty file", Some(""), &[], &["bad.toml", "empty"]),
        case("comments only", Some("# nothing here\n"), &[], &["empty"]),
        case(
            "binary file",
            Some("\u{0}\u{1}\u{2}\u{3}"),
            &[],
            &["bad.toml"],
        ),
        case(
            "--set unknown path",
            None,
            &["--set", "referals.per_month=3"],
            &["unknown key `referals`", "referrals"],
        ),
        case(
            "--set unparsable value",
            None,
            &["--set", "referrals.per_month=lots"],
            &["wrong type", "referrals.per_month"],
        ),
        case(
            "--set without =",
            None,
            &["--set", "referrals.per_month"],
            &["KEY=VALUE"],
        ),
        case(
            "--reps 0",
            None,
            &["--reps", "0"],
            &["--reps", "at least 1"],
        ),
        case(
            "--threads 0",
            None,
            &["--threads", "0"],
            &["--threads", "at least 1"],
        ),
        case("--seed not a number", None, &["--seed", "x"], &["--seed"]),
    ];
    for c in &cases {
        let tmp = tempfile::tempdir().unwrap();
        check(c, tmp.path());
    }
}

#[test]
fn a_binary_file_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("binary.toml");
    fs::write(&path, [0x7f, b'E', b'L', b'F', 0xff, 0xfe, 0x00]).unwrap();
    vomsim()
        .arg("validate")
        .arg(&path)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a text file"));
}

#[test]
fn missing_files_and_directories_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    for (path, expected) in [
        (tmp.path().join("nope.toml"), "No such file"),
        (tmp.path().to_path_buf(), "directory"),
    ] {
        let output = vomsim()
            .arg("run")
            .arg(&path)
            .arg("--quiet")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(path.to_str().unwrap()) && stderr.contains(expected),
            "{stderr}"
        );
    }
}

#[test]
fn bad_output_paths_are_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    fs::write(&file, "x").unwrap();
    let existing = tmp.path().join("existing");
    fs::create_dir(&existing).unwrap();
    let cases = [
        (file.join("run"), "cannot use this output folder"),
        (
            PathBuf::from("/proc/vomsim-cannot-write-here/run"),
            "cannot use this output folder",
        ),
        (existing.clone(), "already exists"),
    ];
    for (out, expected) in cases {
        let started = std::time::Instant::now();
        let output = vomsim()
            .args([
                "run",
                repo("scenarios/vors_la.toml").to_str().unwrap(),
                "--reps",
                "100000",
                "--quiet",
                "--out",
            ])
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{}: {stderr}", out.display());
        assert!(stderr.contains(expected), "{}: {stderr}", out.display());
        // 100,000 replications would take seconds: the check came first.
        assert!(
            started.elapsed().as_secs() < 5,
            "refused only after running"
        );
    }
    assert!(
        fs::read_dir(&existing).unwrap().next().is_none(),
        "the existing folder is untouched"
    );
}

#[test]
fn malformed_shards_and_merges_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = repo("scenarios/sweeps/mediator_pool.toml");
    for shard in ["0/3", "4/3", "2", "a/b"] {
        let output = vomsim()
            .arg("sweep")
            .arg(&sweep)
            .args(["--shard", shard, "--out"])
            .arg(tmp.path().join("s"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{shard}: {stderr}");
        assert!(
            stderr.contains("--shard") && stderr.contains("K/N"),
            "{shard}: {stderr}"
        );
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(!tmp.path().join("s").exists());
    }
    let output = vomsim()
        .arg("merge")
        .arg(tmp.path().join("no-such-shard"))
        .arg("--out")
        .arg(tmp.path().join("m"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("holds no sweep"));
}

/// The `[sweep]` table is read through its serde mirror: an unknown key is
/// named with the nearest valid one, a wrong type in plain words with its
/// line, in one line, exit 2, nothing written.
#[test]
fn sweep_table_mistakes_are_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let parameters = "[sweep.parameters]\n\"mediators.initial_active\" = [10, 20]\n";
    for (sweep, expected) in [
        (
            "desing = \"grid\"\n",
            &["unknown key `sweep.desing`", "did you mean `sweep.design`?"][..],
        ),
        (
            "bootsrap = 50\n",
            &[
                "unknown key `sweep.bootsrap`",
                "did you mean `sweep.bootstrap`?",
            ][..],
        ),
        (
            "bootstrap = \"many\"\n",
            &["line 3", "expected a whole number", "bootstrap = \"many\""][..],
        ),
        (
            "replications_file = \"no\"\n",
            &["line 3", "expected true or false"][..],
        ),
        (
            "design = \"grdi\"\n",
            &["sweep.design must be \"grid\", \"lhs\" or \"sobol\""][..],
        ),
    ] {
        let file = tmp.path().join("bad_sweep.toml");
        fs::write(&file, format!("name = \"s\"\n[sweep]\n{sweep}{parameters}")).unwrap();
        let out = tmp.path().join("out");
        let output = vomsim()
            .arg("sweep")
            .arg(&file)
            .arg("--out")
            .arg(&out)
            .args(["--quiet"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{sweep}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{sweep}: {stderr}");
        assert!(stderr.starts_with("error: "), "{sweep}: {stderr}");
        for needle in expected {
            assert!(
                stderr.contains(needle),
                "{sweep}: expected {needle:?}: {stderr}"
            );
        }
        for jargon in ["i64", "u64", "f64", "struct", "RawSweep"] {
            assert!(!stderr.contains(jargon), "{sweep}: {stderr}");
        }
        assert!(!out.exists(), "{sweep}: nothing is written");
    }
}

/// `--fit KEY=LOW..HIGH` and `size`'s ranges are checked by clap's value
/// parsers: a usage error, exit 2, in one line, before any file is read.
#[test]
fn malformed_fits_and_ranges_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = repo("scenarios/vors_la.toml");
    let targets = repo("tests/targets/vors_la.csv");
    for (fit, expected) in [
        ("recidivism.risk_log_hr", "expected KEY=LOW..HIGH"),
        ("recidivism.risk_log_hr=0.5", "expected KEY=LOW..HIGH"),
        ("=0..1", "expected KEY=LOW..HIGH"),
        ("recidivism.risk_log_hr=1..0.5", "LOW < HIGH"),
        ("recidivism.risk_log_hr=a..2", "LOW < HIGH"),
        ("recidivism.risk_log_hr=0..inf", "finite"),
    ] {
        let out = tmp.path().join("fit").join("x.toml");
        let output = vomsim()
            .arg("calibrate")
            .arg(&scenario)
            .arg("--targets")
            .arg(&targets)
            .args(["--fit", fit, "--out"])
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{fit}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{fit}: {stderr}");
        assert!(
            stderr.contains("--fit") && stderr.contains(expected),
            "{fit}: expected {expected:?}: {stderr}"
        );
        assert!(
            !tmp.path().join("fit").exists(),
            "{fit}: nothing is written"
        );
    }
    for (option, value, expected) in [
        ("--quantile", "0", "must lie in (0, 1]"),
        ("--quantile", "1.5", "must lie in (0, 1]"),
        ("--confidence", "NaN", "is not a number"),
        ("--wait-days", "-1", "at least 0"),
        ("--max-returned-share", "1.1", "must lie in [0, 1]"),
    ] {
        let mut args = vec!["--wait-days", "28", "--quantile", "0.9"];
        if let Some(at) = args.iter().position(|a| *a == option) {
            args.remove(at + 1);
            args.remove(at);
        }
        let output = vomsim()
            .arg("size")
            .arg(&scenario)
            .args(&args)
            .args([&format!("{option}={value}")])
            .arg("--out")
            .arg(tmp.path().join("size"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{option} {value}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{option}: {stderr}");
        assert!(
            stderr.contains(option) && stderr.contains(expected),
            "{option} {value}: expected {expected:?}: {stderr}"
        );
        assert!(!tmp.path().join("size").exists());
    }
}

/// `--choose` and `--fit KEY[i]` mistakes: exit 2, one paragraph naming the
/// option and what is allowed, before any search, nothing written.
#[test]
fn choice_and_element_mistakes_are_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = repo("scenarios/nugent_attenuation.toml");
    let targets = repo("tests/targets/nugent_attenuation.csv");
    let fit = "treatment.hazard_ratio_initial=0.1..0.9";
    for (extra, expected) in [
        (
            vec!["--choose", "treatment.shape=fade"],
            "two or more values",
        ),
        (
            vec!["--choose", "treatment.shap=fade,none"],
            "is not a scenario key",
        ),
        (
            vec!["--choose", "treatment.shape=fade,wavy"],
            "treatment.shape=wavy: gives a scenario that does not validate",
        ),
        (
            vec![
                "--choose",
                "treatment.shape=fade,none",
                "--set",
                "treatment.shape=none",
            ],
            "is also given by --set",
        ),
        (
            vec!["--choose", "treatment.hazard_ratio_initial=0.5,0.6"],
            "is also fitted by --fit",
        ),
        (
            vec!["--fit", "treatment.piecewise_hazard_ratios[7]=0.1..1"],
            "is not a scenario key",
        ),
        (
            vec!["--fit", "treatment.piecewise_hazard_ratios[0]=0..1"],
            "treatment.piecewise_hazard_ratios[0] = 0 must lie in [0.001, 1000]",
        ),
    ] {
        let out = tmp.path().join("fit").join("x.toml");
        let output = vomsim()
            .arg("calibrate")
            .arg(&scenario)
            .arg("--targets")
            .arg(&targets)
            .args(["--fit", fit])
            .args(&extra)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{extra:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{extra:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{extra:?}: expected {expected:?}: {stderr}"
        );
        assert!(
            !tmp.path().join("fit").exists(),
            "{extra:?}: nothing is written"
        );
    }
}
