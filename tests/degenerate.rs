//! Degenerate but valid scenarios run and report well-defined numbers:
//! never NaN or infinity in any CSV, `reps` never above the replications
//! run, and rows undefined in every replication left out.

mod common;

use std::fs;
use std::path::Path;

use common::{repo, vomsim};

fn run(name: &str, sets: &[&str], reps: &str, dir: &Path) {
    let mut command = vomsim();
    command
        .args([
            "run",
            repo("scenarios/vors_la.toml").to_str().unwrap(),
            "--reps",
            reps,
            "--agents",
            "--quiet",
            "--out",
        ])
        .arg(dir);
    for set in sets {
        command.args(["--set", set]);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{name}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    for file in [
        "summary.csv",
        "replications.csv",
        "agents.csv",
        "diagnosis.csv",
    ] {
        let text = fs::read_to_string(dir.join(file)).unwrap();
        for (i, line) in text.lines().enumerate() {
            for cell in line.split(',') {
                let lower = cell.to_ascii_lowercase();
                assert!(
                    lower != "nan" && !lower.contains("inf"),
                    "{name}: {file} line {}: {line}",
                    i + 1
                );
            }
        }
    }
    let mut summary = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    let reps: usize = reps.parse().unwrap();
    for row in summary.records() {
        let row = row.unwrap();
        let n: usize = row[9].parse().unwrap();
        assert!(n >= 1 && n <= reps, "{name}: reps {n} in {row:?}");
        if reps == 1 {
            assert_eq!(&row[5], "", "{name}: no sd from one replication");
        }
    }
}

fn value(dir: &Path, metric: &str, group: &str, month: &str) -> Option<f64> {
    let mut summary = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    summary
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[1] == metric && &r[2] == group && &r[3] == month)
        .map(|r| r[4].parse().unwrap())
}

#[test]
fn degenerate_scenarios_report_well_defined_numbers() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: [(&str, &[&str], &str); 8] = [
        (
            "no referrals in some months",
            &["referrals.monthly_multipliers=[1.0, 0.0, 0.0, 1.0]"],
            "20",
        ),
        ("no referrals at all", &["referrals.per_month=0"], "5"),
        (
            "nobody consents",
            &["consent.offender_probability=0.0"],
            "10",
        ),
        (
            "everybody consents",
            &[
                "consent.offender_mode=court_ordered",
                "consent.victim_probability=1.0",
            ],
            "10",
        ),
        (
            "no mediators",
            &[
                "mediators.initial_active=0",
                "mediators.cohort_size=0",
                "mediators.comediation_share=0.0",
            ],
            "10",
        ),
        (
            "zero hazard",
            &[
                "recidivism.baseline_monthly_hazard=[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]",
            ],
            "10",
        ),
        ("one replication", &[], "1"),
        (
            "everything randomized away",
            &["design.rct_control_share=0.999"],
            "5",
        ),
    ];
    for (i, (name, sets, reps)) in cases.iter().enumerate() {
        let dir = tmp.path().join(format!("case-{i}"));
        run(name, sets, reps, &dir);
    }
    let dir = |i: usize| tmp.path().join(format!("case-{i}"));
    assert_eq!(value(&dir(1), "referrals", "referred", ""), Some(0.0));
    assert_eq!(
        value(&dir(1), "share", "mediated", ""),
        None,
        "no referrals: no shares"
    );
    assert_eq!(value(&dir(2), "share", "mediated", ""), Some(0.0));
    assert_eq!(value(&dir(3), "share", "offender_declined", ""), Some(0.0));
    assert_eq!(
        value(&dir(4), "share", "mediated", ""),
        Some(0.0),
        "no mediators: nobody is mediated"
    );
    assert!(value(&dir(4), "share", "returned_wait", "").unwrap() > 0.3);
    assert_eq!(value(&dir(5), "rearrest", "referred", "30"), Some(0.0));
    assert_eq!(
        value(&dir(5), "effect_ratio", "true_att", "12"),
        None,
        "0/0 is left out"
    );
}
