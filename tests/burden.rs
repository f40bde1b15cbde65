//! The volunteer burden metrics (`sessions_per_active_volunteer`,
//! `hours_per_active_volunteer`, group `program`): in every replication and
//! program month they are the month's mediator-sessions and
//! `mediator_hours` over its mean `active_mediators`, so a larger pool
//! carries a lighter burden.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{repo, vomsim};

/// Per (rep, metric, month) value of the `program` group.
fn program_values(dir: &Path) -> HashMap<(String, String, String), f64> {
    let mut reader = csv::Reader::from_path(dir.join("replications.csv")).unwrap();
    reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| &r[3] == "program" && !r[4].is_empty())
        .map(|r| {
            (
                (r[1].to_string(), r[2].to_string(), r[4].to_string()),
                r[5].parse().unwrap(),
            )
        })
        .collect()
}

fn run(dir: &Path, initial: u32) -> HashMap<(String, String, String), f64> {
    vomsim()
        .args(["run", repo("scenarios/vors_la.toml").to_str().unwrap()])
        .args(["--reps", "20", "--quiet", "--set"])
        .arg(format!("mediators.initial_active={initial}"))
        .arg("--out")
        .arg(dir)
        .assert()
        .success();
    program_values(dir)
}

#[test]
fn burden_is_sessions_and_hours_per_active_volunteer() {
    let tmp = tempfile::tempdir().unwrap();
    let values = run(&tmp.path().join("run"), 37);
    let mut checked = 0;
    for ((rep, metric, month), &burden) in &values {
        let get = |name: &str| values.get(&(rep.clone(), name.to_string(), month.clone()));
        let active = || *get("active_mediators").unwrap();
        match metric.as_str() {
            "hours_per_active_volunteer" => {
                let hours = *get("mediator_hours").unwrap();
                assert!((burden * active() - hours).abs() < 1e-6 * hours.max(1.0));
                checked += 1;
            }
            "sessions_per_active_volunteer" => {
                // One or two mediators per session.
                let sessions = *get("sessions").unwrap();
                let mediator_sessions = burden * active();
                assert!(
                    mediator_sessions >= sessions - 1e-6
                        && mediator_sessions <= 2.0 * sessions + 1e-6,
                    "rep {rep} month {month}: {mediator_sessions} for {sessions} sessions"
                );
                assert!((mediator_sessions - mediator_sessions.round()).abs() < 1e-6);
                checked += 1;
            }
            _ => {}
        }
    }
    assert!(checked > 20 * 2 * 12, "{checked}");
}

#[test]
fn a_smaller_pool_carries_more_sessions_per_volunteer() {
    let tmp = tempfile::tempdir().unwrap();
    let mean = |values: &HashMap<(String, String, String), f64>, metric: &str| {
        let v: Vec<f64> = values
            .iter()
            .filter(|((_, m, month), _)| m == metric && month.parse::<u32>().unwrap() <= 12)
            .map(|(_, v)| *v)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let large = run(&tmp.path().join("large"), 74);
    let small = run(&tmp.path().join("small"), 18);
    // The same caseload (18 volunteers keep up, per docs/planners.md)
    // shared by about four times fewer: far more than the noise of 20
    // replications of 12 months.
    for metric in [
        "sessions_per_active_volunteer",
        "hours_per_active_volunteer",
    ] {
        let (s, l) = (mean(&small, metric), mean(&large, metric));
        assert!(s > 2.0 * l, "{metric}: {s} with 18 vs {l} with 74");
    }
}
