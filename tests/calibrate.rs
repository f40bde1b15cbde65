//! `vomsim calibrate` against known answers (release; about 20 s).

mod common;

use std::fs;
use std::path::Path;

use common::{read_summary, repo, vomsim};

const VORS: &str = "scenarios/vors_la.toml";
const FITS: [&str; 3] = [
    "recidivism.baseline_rearrest_12m=0.05..0.4",
    "consent.victim_risk_log_odds=-2..0",
    "treatment.hazard_ratio_initial=0.2..1.0",
];

/// Runs calibrate; returns the calibrated scenario's table and calibration.csv rows.
fn calibrate(extra: &[&str], targets: &Path, dir: &Path) -> (toml::Table, Vec<csv::StringRecord>) {
    let out = dir.join("fit").join("fitted.toml");
    let mut command = vomsim();
    command
        .args([
            "calibrate",
            repo(VORS).to_str().unwrap(),
            "--quiet",
            "--seed",
            "5",
            "--targets",
        ])
        .arg(targets)
        .arg("--out")
        .arg(&out)
        .args(extra);
    let assert = command.assert().success();
    println!("{}", String::from_utf8_lossy(&assert.get_output().stdout));
    let fitted: toml::Table = fs::read_to_string(&out).unwrap().parse().unwrap();
    let rows = csv::Reader::from_path(dir.join("fit").join("calibration.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .collect();
    (fitted, rows)
}

fn value(table: &toml::Table, key: &str) -> f64 {
    let (section, name) = key.split_once('.').unwrap();
    table[section][name].as_float().unwrap()
}

/// Targets produced by the model itself at known parameter values (1,000
/// replications at another seed), then fitted from vors_la's values. The
/// targets' tolerances (0.005 on 12-month rearrest, 0.01 on the true
/// effect ratio) make the objective rise by 1 within +-0.0035 of the
/// baseline, +-0.058 of the victim loading and +-0.020 of the hazard ratio
/// (calibrate's own report); the check allows about three times that.
#[test]
fn recovers_known_parameters() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = [
        ("recidivism.baseline_rearrest_12m", 0.2),
        ("consent.victim_risk_log_odds", -0.4),
        ("treatment.hazard_ratio_initial", 0.6),
    ];
    let run_dir = tmp.path().join("truth");
    let mut run = vomsim();
    run.args([
        "run",
        repo(VORS).to_str().unwrap(),
        "--reps",
        "1000",
        "--seed",
        "99",
        "--quiet",
        "--out",
    ])
    .arg(&run_dir);
    for (key, v) in truth {
        run.args(["--set", &format!("{key}={v}")]);
    }
    run.assert().success();
    let summary = read_summary(&run_dir.join("summary.csv"));
    let mean = |m: &str, g: &str, month: &str| {
        summary[&(m.to_string(), g.to_string(), month.to_string())].mean
    };
    let targets = tmp.path().join("targets.csv");
    fs::write(
        &targets,
        format!(
            "metric,group,month,target,tolerance,source\n\
             rearrest,mediated,12,{},0.005,model\n\
             rearrest,victim_declined,12,{},0.005,model\n\
             effect_ratio,true_att,12,{},0.01,model\n",
            mean("rearrest", "mediated", "12"),
            mean("rearrest", "victim_declined", "12"),
            mean("effect_ratio", "true_att", "12"),
        ),
    )
    .unwrap();
    let mut args = vec!["--reps", "400"];
    for fit in FITS {
        args.extend(["--fit", fit]);
    }
    let (fitted, rows) = calibrate(&args, &targets, tmp.path());
    for ((key, expected), allowed) in truth.iter().zip([0.01, 0.2, 0.04]) {
        let got = value(&fitted, key);
        println!("{key}: fitted {got:.4}, true {expected}");
        assert!(
            (got - expected).abs() <= allowed,
            "{key}: fitted {got}, true {expected}"
        );
    }
    assert!(rows.iter().all(|r| &r[8] == "within"), "{rows:?}");
}

/// A target beyond the fitted parameters' reach is reported unreachable,
/// with the closest value the search saw.
#[test]
fn reports_an_unreachable_target() {
    let tmp = tempfile::tempdir().unwrap();
    let targets = tmp.path().join("targets.csv");
    fs::write(
        &targets,
        "metric,group,month,target,tolerance,source\n\
         rearrest,victim_declined,12,0.309,0.025,seed 003\n\
         monetary_agreed,mediated,,0.95,0.02,not reachable by a rearrest parameter\n",
    )
    .unwrap();
    let (_, rows) = calibrate(&["--reps", "100", "--fit", FITS[0]], &targets, tmp.path());
    assert_eq!(&rows[0][8], "within", "{:?}", rows[0]);
    assert_eq!(&rows[1][8], "unreachable", "{:?}", rows[1]);
    let closest: f64 = rows[1][9].parse().unwrap();
    assert!(
        (closest - 0.50).abs() < 0.03,
        "closest {closest}: monetary agreement stays near 50%"
    );
}

/// Re-derives the shipped vors_la calibration from perturbed values: every
/// target of tests/targets/vors_la.csv within tolerance again, and the
/// fitted values near the shipped ones (within the +-1-tolerance
/// half-widths calibrate reports for these targets: about 0.015, 0.25 and
/// 0.08).
#[test]
fn re_derives_the_shipped_vors_la_calibration() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--set",
        "recidivism.baseline_rearrest_12m=0.25",
        "--set",
        "consent.victim_risk_log_odds=-0.3",
        "--set",
        "treatment.hazard_ratio_initial=0.7",
    ];
    for fit in FITS {
        args.extend(["--fit", fit]);
    }
    let (fitted, rows) = calibrate(&args, &repo("tests/targets/vors_la.csv"), tmp.path());
    assert!(rows.iter().all(|r| &r[8] == "within"), "{rows:?}");
    for ((key, shipped), allowed) in [
        ("recidivism.baseline_rearrest_12m", 0.1593),
        ("consent.victim_risk_log_odds", -0.738),
        ("treatment.hazard_ratio_initial", 0.498),
    ]
    .iter()
    .zip([0.015, 0.25, 0.08])
    {
        let got = value(&fitted, key);
        assert!(
            (got - shipped).abs() <= allowed,
            "{key}: fitted {got}, shipped {shipped}"
        );
    }
}

/// Checked before any folder or search: a target the scenario does not
/// report, a key fitted twice, a whole-number key, a bound out of range.
#[test]
fn bad_calibrations_are_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let targets = tmp.path().join("t.csv");
    fs::write(
        &targets,
        "metric,group,month,target,tolerance,source\nrearrest,mediated,12,0.15,0.02,x\n",
    )
    .unwrap();
    let bad_target = tmp.path().join("bad.csv");
    fs::write(
        &bad_target,
        "metric,group,month,target,tolerance,source\nnosuch,mediated,12,0.15,0.02,x\n",
    )
    .unwrap();
    let cases: [(&std::path::Path, &[&str], &str); 4] = [
        (
            &bad_target,
            &["--fit", FITS[0]],
            "not a row this scenario reports",
        ),
        (
            &targets,
            &[
                "--fit",
                FITS[0],
                "--fit",
                "recidivism.baseline_rearrest_12m=0.1..0.2",
            ],
            "given twice",
        ),
        (
            &targets,
            &["--fit", "mediators.initial_active=1..50"],
            "whole-number key",
        ),
        (
            &targets,
            &["--fit", "consent.victim_probability=0..2"],
            "bound the scenario refuses",
        ),
    ];
    for (targets, args, expected) in cases {
        let out = tmp.path().join("out").join("x.toml");
        let output = vomsim()
            .args([
                "calibrate",
                repo(VORS).to_str().unwrap(),
                "--quiet",
                "--targets",
            ])
            .arg(targets)
            .args(args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "expected {expected:?}: {stderr}");
        assert!(!tmp.path().join("out").exists(), "no folder is created");
    }
}

#[test]
fn bad_fit_arguments_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    vomsim()
        .args(["calibrate", repo(VORS).to_str().unwrap(), "--targets"])
        .arg(repo("tests/targets/vors_la.csv"))
        .args(["--fit", "recidivism.nope=0..1", "--out"])
        .arg(tmp.path().join("x.toml"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a scenario key"));
    vomsim()
        .args(["calibrate", repo(VORS).to_str().unwrap(), "--targets"])
        .arg(tmp.path().join("missing.csv"))
        .args(["--fit", FITS[0]])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("missing.csv"));
}
