//! Helpers shared by the integration tests: the real binary, scenario paths
//! and CSV reading.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub fn vomsim() -> assert_cmd::Command {
    assert_cmd::Command::new(env!("CARGO_BIN_EXE_vomsim"))
}

/// A folder's entries, sorted (to check that nothing was left behind).
pub fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

pub fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// One row of `summary.csv`.
#[derive(Debug, Clone)]
pub struct SummaryRow {
    pub mean: f64,
    pub sd: Option<f64>,
    pub reps: usize,
}

/// `summary.csv` keyed by (metric, group, month).
pub fn read_summary(path: &Path) -> HashMap<(String, String, String), SummaryRow> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (metric, group, month, mean, sd, reps) = (
        col("metric"),
        col("group"),
        col("month"),
        col("mean"),
        col("sd"),
        col("reps"),
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                (
                    r[metric].to_string(),
                    r[group].to_string(),
                    r[month].to_string(),
                ),
                SummaryRow {
                    mean: r[mean].parse().unwrap(),
                    sd: r[sd].parse().ok(),
                    reps: r[reps].parse().unwrap(),
                },
            )
        })
        .collect()
}

/// A calibration target: `metric,group,month,target,tolerance,source`.
#[derive(Debug, Clone)]
pub struct Target {
    pub metric: String,
    pub group: String,
    pub month: String,
    pub target: f64,
    pub tolerance: f64,
    pub source: String,
}

pub fn read_targets(path: &Path) -> Vec<Target> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Target {
                metric: r[0].to_string(),
                group: r[1].to_string(),
                month: r[2].to_string(),
                target: r[3].parse().unwrap(),
                tolerance: r[4].parse().unwrap(),
                source: r[5].to_string(),
            }
        })
        .collect()
}
