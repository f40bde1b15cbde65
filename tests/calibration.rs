//! The shipped scenarios reproduce their calibration targets
//! (`tests/targets/`, copied from the project's shared targets; each row
//! cites its source in the seeds).
//!
//! A target holds when the `mean` of its `summary.csv` row, over 200
//! replications (the targets' own rule), lies within the row's tolerance.
//! Each test also checks that the tolerance is at least 4 standard errors of
//! that mean wide (SE = sd / sqrt(reps)), so that a pass is not luck of the
//! seed and a miss is not noise: with 200 replications the standard errors
//! here are 0.0005 to 0.008, against tolerances of 0.02 to 0.06 (at most
//! 0.010 for the 0.8% dollars-paid share, whose SE is 0.0005).
//! Meant for `cargo test --release`; a few seconds there.

mod common;

use common::{read_summary, read_targets, repo, vomsim};

/// Standard errors the tolerance must span, so the test can tell a
/// calibrated scenario from a miscalibrated one.
const MIN_STANDARD_ERRORS: f64 = 4.0;

fn check_targets(scenario: &str, targets: &str) {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("run");
    vomsim()
        .args([
            "run",
            repo(scenario).to_str().unwrap(),
            "--reps",
            "200",
            "--quiet",
            "--out",
        ])
        .arg(&dir)
        .assert()
        .success();
    let summary = read_summary(&dir.join("summary.csv"));
    let mut failures = Vec::new();
    for t in read_targets(&repo(targets)) {
        let key = (t.metric.clone(), t.group.clone(), t.month.clone());
        let row = summary
            .get(&key)
            .unwrap_or_else(|| panic!("{scenario}: no summary row for {key:?}"));
        assert!(row.reps >= 200, "{key:?}: only {} replications", row.reps);
        let se = row.sd.unwrap() / (row.reps as f64).sqrt();
        assert!(
            t.tolerance >= MIN_STANDARD_ERRORS * se,
            "{key:?}: tolerance {} is under {MIN_STANDARD_ERRORS} standard errors ({se})",
            t.tolerance
        );
        let miss = (row.mean - t.target).abs();
        println!(
            "{:<20} {:<16} {:>3} target {:<6} mean {:.4} (se {:.4}) [{}]",
            t.metric, t.group, t.month, t.target, row.mean, se, t.source
        );
        if miss > t.tolerance {
            failures.push(format!(
                "{key:?}: mean {:.4} misses target {} by more than {} ({})",
                row.mean, t.target, t.tolerance, t.source
            ));
        }
    }
    assert!(failures.is_empty(), "{scenario}:\n{}", failures.join("\n"));
}

#[test]
fn vors_la_reproduces_the_vors_evaluation() {
    check_targets("scenarios/vors_la.toml", "tests/targets/vors_la.csv");
}

#[test]
fn nugent_attenuation_reproduces_the_decay_of_the_effect() {
    check_targets(
        "scenarios/nugent_attenuation.toml",
        "tests/targets/nugent_attenuation.csv",
    );
}
