//! Output size and what reads the optional files (issue 18):
//! `--no-replications` leaves `replications.csv` out of runs, sweeps and
//! merges, the manifests do not list it, and `report`, `compare` and
//! `merge` work without it.

mod common;

use std::fs;
use std::path::Path;

use common::{repo, vomsim};

fn run(dir: &Path, extra: &[&str]) {
    vomsim()
        .args([
            "run",
            repo("scenarios/vors_la.toml").to_str().unwrap(),
            "--reps",
            "6",
            "--quiet",
            "--out",
        ])
        .arg(dir)
        .args(extra)
        .assert()
        .success();
}

fn manifest_files(dir: &Path) -> Vec<String> {
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_run_without_replications_writes_everything_else_and_is_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let with = tmp.path().join("with");
    let without = tmp.path().join("without");
    run(&with, &[]);
    run(&without, &["--no-replications"]);
    assert!(with.join("replications.csv").is_file());
    assert!(!without.join("replications.csv").exists());
    assert_eq!(
        manifest_files(&without),
        ["summary.csv", "diagnosis.csv", "manifest.json"]
    );
    assert!(manifest_files(&with).contains(&"replications.csv".to_string()));
    // The other files are the same bytes.
    for file in ["summary.csv", "diagnosis.csv"] {
        assert_eq!(
            fs::read(with.join(file)).unwrap(),
            fs::read(without.join(file)).unwrap(),
            "{file}"
        );
    }
    // --force recognizes the smaller folder as vomsim's.
    run(&without, &["--no-replications", "--force"]);
    // report reads summary.csv only.
    vomsim().arg("report").arg(&without).assert().success();
    // compare cannot pair without replications: it compares them as
    // independent runs and says why.
    let out = tmp.path().join("cmp");
    let assert = vomsim()
        .arg("compare")
        .arg(&with)
        .arg(&without)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("independent runs"), "{stdout}");
    assert!(stdout.contains("--no-replications"), "{stdout}");
    assert!(out.join("compare.csv").is_file());
}

#[test]
fn a_sweep_and_its_merge_without_replications() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = |dir: &Path, extra: &[&str]| {
        vomsim()
            .args([
                "sweep",
                repo("scenarios/sweeps/mediator_pool.toml")
                    .to_str()
                    .unwrap(),
                "--reps",
                "3",
                "--quiet",
                "--no-replications",
                "--out",
            ])
            .arg(dir)
            .args(extra)
            .assert()
            .success();
    };
    let whole = tmp.path().join("whole");
    sweep(&whole, &[]);
    assert!(!whole.join("replications.csv").exists());
    assert!(!manifest_files(&whole).contains(&"replications.csv".to_string()));
    assert!(whole.join("summary.csv").is_file());
    let shards: Vec<_> = (1..=2)
        .map(|k| tmp.path().join(format!("shard-{k}")))
        .collect();
    for (k, dir) in shards.iter().enumerate() {
        sweep(dir, &["--shard", &format!("{}/2", k + 1)]);
    }
    let merged = tmp.path().join("merged");
    vomsim()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert!(!merged.join("replications.csv").exists());
    for file in ["summary.csv", "diagnosis.csv", "points.csv"] {
        assert_eq!(
            fs::read(whole.join(file)).unwrap(),
            fs::read(merged.join(file)).unwrap(),
            "{file}"
        );
    }
    vomsim().arg("report").arg(&merged).assert().success();
}

/// The benefits by source add up to the benefits behind the net benefit
/// (means are linear, so the means add too).
#[test]
fn benefits_by_source_sum_to_the_benefits() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    run(&dir, &["--no-replications"]);
    let summary = common::read_summary(&dir.join("summary.csv"));
    let mean = |metric: &str, group: &str| {
        summary[&(metric.to_string(), group.to_string(), String::new())].mean
    };
    let sources = mean("benefit_per_referral", "rearrests_averted")
        + mean("benefit_per_referral", "agency_cases_avoided");
    let benefits =
        mean("net_benefit_per_referral", "program") + mean("cost_per_referral", "program");
    assert!(
        (sources - benefits).abs() < 1e-6 * benefits.abs().max(1.0),
        "{sources} vs {benefits}"
    );
    assert!(mean("benefit_per_referral", "agency_cases_avoided") > 0.0);
}
