//! Input that was once accepted silently or reported in the wrong words, and
//! the coordinator's cost that was charged over months the program did not
//! operate. Each test runs the binary and checks the exit code, the message
//! and what is left on disk.

mod common;

use std::fs;

use common::{entries, repo, vomsim};

const SMALL: &str =
    "name = \"small\"\n[simulation]\nintake_months = 2\n[referrals]\nper_month = 8\n";

fn stderr(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8(a.get_output().stderr.clone()).unwrap()
}

#[test]
fn size_refuses_a_lever_that_adds_no_capacity() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    fs::write(&file, SMALL).unwrap();
    for lever in [
        "simulation.seed",
        "referrals.per_month",
        "mediators.cohort_every_months",
    ] {
        let a = vomsim()
            .arg("size")
            .arg(&file)
            .args(["--wait-days", "28", "--quantile", "0.9", "--lever", lever])
            .arg("--out")
            .arg(dir.path().join("out"))
            .assert()
            .code(2);
        let err = stderr(&a);
        assert!(
            err.contains(lever) && err.contains("mediators.initial_active"),
            "{err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one paragraph: {err}");
    }
    assert_eq!(entries(dir.path()), ["s.toml"]);
}

/// `compare` refuses what `report` refuses: a summary or replication value
/// that is not a finite number (vomsim never writes one).
#[test]
fn compare_refuses_non_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    fs::write(&file, SMALL).unwrap();
    for run in ["a", "b"] {
        vomsim()
            .arg("run")
            .arg(&file)
            .args(["--reps", "3", "--quiet", "--out"])
            .arg(dir.path().join(run))
            .assert()
            .success();
    }
    let b = dir.path().join("b");
    let pristine = (
        fs::read_to_string(b.join("summary.csv")).unwrap(),
        fs::read_to_string(b.join("replications.csv")).unwrap(),
    );
    for (file, bad) in [
        ("summary.csv", "NaN"),
        ("summary.csv", "inf"),
        ("replications.csv", "NaN"),
    ] {
        fs::write(b.join("summary.csv"), &pristine.0).unwrap();
        fs::write(b.join("replications.csv"), &pristine.1).unwrap();
        // Replace the value of the share of mediated youths (never undefined).
        let text = fs::read_to_string(b.join(file)).unwrap();
        let damaged: Vec<String> = text
            .lines()
            .map(|l| {
                if l.contains(",share,mediated,") {
                    let mut f: Vec<&str> = l.split(',').collect();
                    let at = if file == "summary.csv" { 4 } else { 5 };
                    f[at] = bad;
                    f.join(",")
                } else {
                    l.to_string()
                }
            })
            .collect();
        fs::write(b.join(file), damaged.join("\n") + "\n").unwrap();
        let a = vomsim()
            .arg("compare")
            .arg(dir.path().join("a"))
            .arg(&b)
            .arg("--out")
            .arg(dir.path().join("cmp"))
            .assert()
            .code(2);
        let err = stderr(&a);
        assert!(
            err.contains(file) && err.contains(bad) && err.contains("finite number"),
            "{err}"
        );
        assert!(!dir.path().join("cmp").exists());
    }
}

/// The coordinator is paid for the months the program takes referrals, not
/// for the tail months that only let the last cases finish: a $55,077-a-year
/// budget entered monthly costs $55,077 for a one-year program (it came out
/// near $89,760 when the tail was charged too). With every other cost zero
/// and no discounting, cost per referral times referrals is that budget in
/// every replication, to rounding.
#[test]
fn the_coordinator_is_paid_over_the_operating_months() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    fs::write(
        &file,
        "name = \"c\"\n[simulation]\nintake_months = 12\n[costs]\nimplementation_package = 0\n\
         case_database = 0\ntraining_per_mediator = 0\nper_mediation_case = 0\ndiscount_rate = 0\n\
         coordinator_per_month = 4589.75\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    vomsim()
        .arg("run")
        .arg(&file)
        .args(["--reps", "5", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let text = fs::read_to_string(out.join("replications.csv")).unwrap();
    let value = |rep: usize, prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(&format!("0,{rep},{prefix}")))
            .and_then(|l| l.rsplit(',').next())
            .unwrap()
            .parse()
            .unwrap()
    };
    for rep in 0..5 {
        let total = value(rep, "cost_per_referral,program,,") * value(rep, "referrals,referred,,");
        assert!(
            (total - 55_077.0).abs() < 1e-6,
            "replication {rep}: {total}"
        );
    }
}

/// Type errors name what a scenario author writes, not Rust's types, and a
/// bad cost range says what a range needs.
#[test]
fn type_errors_are_in_the_users_words() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.toml");
    for (text, expected) in [
        ("[referrals]\nper_month = \"many\"\n", "expected a number"),
        (
            "[simulation]\nintake_months = 2.5\n",
            "expected a whole number",
        ),
        (
            "[costs]\nagency_per_case = { low = 1 }\n",
            "needs both `low` and `high`",
        ),
        (
            "[costs]\njustice_per_rearrest = \"x\"\n",
            "a range `{ low = .., high = .. }`",
        ),
    ] {
        fs::write(&file, format!("name = \"t\"\n{text}")).unwrap();
        let a = vomsim().arg("validate").arg(&file).assert().code(2);
        let err = stderr(&a);
        assert!(err.contains(expected), "{text}: {err}");
        for jargon in ["f64", "u32", "untagged", "CostValue", "Raw"] {
            assert!(!err.contains(jargon), "{text}: {err}");
        }
    }
}

/// The shipped scenarios still validate (a guard for the changes above).
#[test]
fn shipped_scenarios_validate() {
    for name in ["vors_la", "nugent_attenuation", "rct", "selection_free"] {
        vomsim()
            .arg("validate")
            .arg(repo(&format!("scenarios/{name}.toml")))
            .assert()
            .success();
    }
}

/// `report` replaces only a `report.html` vomsim wrote; a page of the
/// user's in the run folder is refused, untouched.
#[test]
fn report_keeps_a_users_own_page() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    fs::write(&file, SMALL).unwrap();
    let run = dir.path().join("run");
    vomsim()
        .arg("run")
        .arg(&file)
        .args(["--reps", "2", "--quiet", "--out"])
        .arg(&run)
        .assert()
        .success();
    // vomsim's own page may be rewritten.
    vomsim().arg("report").arg(&run).assert().success();
    vomsim().arg("report").arg(&run).assert().success();
    fs::write(run.join("report.html"), "<p>my notes</p>\n").unwrap();
    let a = vomsim().arg("report").arg(&run).assert().code(2);
    assert!(
        stderr(&a).contains("not written by vomsim report"),
        "{}",
        stderr(&a)
    );
    assert_eq!(
        fs::read_to_string(run.join("report.html")).unwrap(),
        "<p>my notes</p>\n"
    );
    assert!(!entries(&run).iter().any(|n| n.contains(".partial-")));
}

/// An output path that goes through the output itself (`./o1/../o1/`) is
/// refused before any work; the folder it names is kept as it was.
#[test]
fn an_output_path_through_itself_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    fs::write(&file, SMALL).unwrap();
    let o1 = dir.path().join("o1");
    vomsim()
        .arg("run")
        .arg(&file)
        .args(["--reps", "2", "--quiet", "--out"])
        .arg(&o1)
        .assert()
        .success();
    let before = fs::read(o1.join("summary.csv")).unwrap();
    for through in ["./o1/../o1/", "./o1/../o1"] {
        let a = vomsim()
            .current_dir(dir.path())
            .arg("run")
            .arg(&file)
            .args(["--reps", "2", "--quiet", "--force", "--out", through])
            .assert()
            .code(2);
        assert!(
            stderr(&a).contains("goes through the output itself"),
            "{}",
            stderr(&a)
        );
        assert_eq!(fs::read(o1.join("summary.csv")).unwrap(), before);
        assert_eq!(entries(dir.path()), ["o1", "s.toml"]);
    }
    // A path that only climbs out of another folder is fine.
    fs::create_dir(dir.path().join("elsewhere")).unwrap();
    vomsim()
        .current_dir(dir.path().join("elsewhere"))
        .arg("run")
        .arg(&file)
        .args(["--reps", "2", "--quiet", "--force", "--out", "../o1"])
        .assert()
        .success();
}

/// Usage errors are one paragraph too, and no message carries the
/// operating system's error numbers or Rust's number types.
#[test]
fn usage_and_system_errors_are_one_paragraph_in_plain_words() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    fs::write(&file, SMALL).unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "run".into(),
                file.display().to_string(),
                "--reps".into(),
                "1e9".into(),
            ],
            "not a whole number",
        ),
        (
            vec![
                "run".into(),
                file.display().to_string(),
                "--seed".into(),
                "18446744073709551616".into(),
            ],
            "not a whole number from 0 to 18446744073709551615",
        ),
        (vec!["run".into()], "<SCENARIO>"),
        (
            vec![
                "run".into(),
                dir.path().join("missing.toml").display().to_string(),
            ],
            "No such file",
        ),
        (
            vec![
                "validate".into(),
                file.display().to_string(),
                "--set".into(),
                "referrals.per_month=1e308".into(),
            ],
            "1e308",
        ),
    ];
    for (args, expected) in cases {
        let a = vomsim().args(&args).assert().code(2);
        let err = stderr(&a);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
        assert!(
            !err.contains("os error") && !err.contains("target type"),
            "{err}"
        );
        assert!(err.len() < 400, "{args:?}: {err}");
    }
    // --help still prints clap's layout, on stdout, with success.
    let out = vomsim()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(out).unwrap().lines().count() > 5);
}

/// A file holding a NUL byte is called a binary file, not a TOML error.
#[test]
fn a_nul_byte_means_a_binary_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.toml");
    fs::write(&file, b"name = \"x\"\0\n").unwrap();
    let a = vomsim().arg("validate").arg(&file).assert().code(2);
    assert!(stderr(&a).contains("binary file"), "{}", stderr(&a));
}

/// Damaged files that vomsim reads back are explained, never a panic: a
/// shard whose `sweep.json` names an impossible shard (`[1, 0]` once divided
/// by zero in `merge`), and a `summary.csv` or `replications.csv` whose
/// header was cut (rows are read by position in `compare` and `report`).
#[test]
fn damaged_files_read_back_are_explained() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = dir.path().join("s.toml");
    fs::write(
        &sweep,
        format!(
            "{SMALL}[sweep]\ndesign = \"grid\"\n[sweep.parameters]\n\"consent.victim_probability\" = [0.4, 0.5]\n"
        ),
    )
    .unwrap();
    for (k, name) in [("1/2", "a"), ("2/2", "b")] {
        vomsim()
            .arg("sweep")
            .arg(&sweep)
            .args(["--reps", "2", "--quiet", "--shard", k, "--out"])
            .arg(dir.path().join(name))
            .assert()
            .success();
    }
    let json = dir.path().join("a/sweep.json");
    let mut fingerprint: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&json).unwrap()).unwrap();
    fingerprint["shard"] = serde_json::json!([1, 0]);
    fs::write(&json, fingerprint.to_string()).unwrap();
    let a = vomsim()
        .arg("merge")
        .arg(dir.path().join("a"))
        .arg(dir.path().join("b"))
        .arg("--out")
        .arg(dir.path().join("m"))
        .assert()
        .code(2);
    assert!(stderr(&a).contains("sweep.json"), "{}", stderr(&a));
    assert!(!dir.path().join("m").exists());

    let file = dir.path().join("r.toml");
    fs::write(&file, SMALL).unwrap();
    for run in ["r1", "r2"] {
        vomsim()
            .arg("run")
            .arg(&file)
            .args(["--reps", "2", "--quiet", "--out"])
            .arg(dir.path().join(run))
            .assert()
            .success();
    }
    for csv in ["summary.csv", "replications.csv"] {
        let path = dir.path().join("r2").join(csv);
        let pristine = fs::read_to_string(&path).unwrap();
        // The header loses a column (the first `month`).
        let cut = pristine.replacen(",month,", ",", 1);
        fs::write(&path, &cut).unwrap();
        let a = vomsim()
            .arg("compare")
            .arg(dir.path().join("r1"))
            .arg(dir.path().join("r2"))
            .arg("--out")
            .arg(dir.path().join("cmp"))
            .assert()
            .code(2);
        assert!(stderr(&a).contains("header"), "{csv}: {}", stderr(&a));
        if csv == "summary.csv" {
            let a = vomsim()
                .arg("report")
                .arg(dir.path().join("r2"))
                .assert()
                .code(2);
            assert!(stderr(&a).contains("header"), "{}", stderr(&a));
        }
        fs::write(&path, pristine).unwrap();
    }
}
