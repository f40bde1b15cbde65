//! `vomsim compare DIR_A DIR_B`: two runs side by side, for policymakers
//! weighing scenario A against scenario B.
//!
//! Compared: every metric without a month (shares, restitution, costs and
//! benefits), rearrest and reconviction of every group at 12 and 30 months,
//! and every effect ratio and policy metric given at 12 and 30 months. For
//! each: both means, the difference A - B with a 95% interval, and the
//! probability that A does better (where "better" has a direction: lower
//! rearrest, higher restitution, ...).
//!
//! When the two runs share their seed and replication count, replication r
//! of A and of B saw the same youths (common random numbers): differences
//! are then paired replication by replication, the interval is the 2.5%
//! and 97.5% quantiles of the paired differences, and the probability is
//! the share of replications where A did better (ties count half).
//! Otherwise the runs are independent: the interval is the difference of
//! means +- 1.96 (`Z95`) sqrt(sd_A^2 + sd_B^2) and the probability comes from the
//! normal approximation. Either way the interval describes one program
//! year's difference, as the quantiles in summary.csv do, not the precision
//! of the mean.

use std::collections::HashMap;
use std::io::{self, Write};

use crate::measure::names::{group, metric};
use crate::output::csv::{REPLICATIONS_HEADER, SUMMARY_HEADER, number_field, optional_field};
use crate::output::manifest::Manifest;
use crate::output::parquet;
use std::path::Path;

use crate::engine::RunResult;
use crate::error::{Error, Result};
use crate::measure::stats::{Z95, quantile_sorted, summarize};

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

/// The direction of a metric (and group), if it has one.
pub fn better(metric: &str, group: &str) -> Option<Better> {
    match metric {
        metric::REARREST
        | metric::RECONVICTION
        | metric::EFFECT_RATIO
        | metric::COST_PER_REFERRAL
        | metric::COST_PER_REARREST_AVERTED
        | metric::RETURNED_WAIT
        | metric::WAIT_DAYS_MEAN
        | metric::WAIT_DAYS_P90
        | metric::BACKLOG => Some(Better::Lower),
        metric::MONETARY_AGREED
        | metric::MONETARY_COMPLETED
        | metric::DOLLARS_PAID_SHARE
        | metric::SERVICE_AGREED
        | metric::SERVICE_COMPLETED
        | metric::SERVICE_HOURS_SHARE
        | metric::RESTITUTION_PAID_PER_REFERRAL
        | metric::REARRESTS_AVERTED_PER_100
        | metric::NET_BENEFIT_PER_REFERRAL
        | metric::BENEFIT_COST_RATIO
        | metric::P_BENEFITS_EXCEED_COSTS => Some(Better::Higher),
        metric::SHARE if group == group::MEDIATED => Some(Better::Higher),
        metric::SHARE if group == group::RETURNED_WAIT => Some(Better::Lower),
        _ => None,
    }
}

/// One compared row.
#[derive(Debug, Clone, PartialEq)]
pub struct CompareRow {
    pub metric: String,
    pub group: String,
    pub month: String,
    pub a_mean: f64,
    pub b_mean: f64,
    pub difference: f64,
    pub lower: f64,
    pub upper: f64,
    pub better: Option<Better>,
    pub p_a_better: Option<f64>,
    pub paired: bool,
    /// Run folder B, as given.
    pub b: String,
}

/// A text field quoted as CSV needs it (a folder name with a comma or a
/// quote).
fn csv_text(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

type Key = (String, String, String);

/// A run's summary rows: mean and sd by key, in file order.
struct RunSummary {
    keys: Vec<Key>,
    rows: HashMap<Key, (f64, f64)>,
    seed: Option<u64>,
    reps: Option<u64>,
}

fn bad(dir: &Path, requirement: &str) -> Error {
    Error::BadArgument {
        option: "compare".to_string(),
        value: dir.display().to_string(),
        requirement: requirement.to_string(),
    }
}

/// A CSV number: vomsim writes only finite numbers (undefined values are
/// left out or empty), so `NaN`, `inf` or text mean a damaged or foreign
/// file, refused as `report` refuses it rather than compared.
fn finite(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

fn not_a_number(dir: &Path, file: &str, row: usize, text: &str) -> Error {
    bad(
        dir,
        &format!(
            "has {text:?} in {file} row {row} where a finite number belongs; was the file edited?"
        ),
    )
}

/// Refuses a file whose header is not the one vomsim writes: its rows are
/// read by column position.
fn expect_header(
    dir: &Path,
    file: &str,
    headers: &csv::StringRecord,
    expected: &str,
) -> Result<()> {
    if headers.iter().eq(expected.split(',')) {
        return Ok(());
    }
    Err(bad(
        dir,
        &format!("has a {file} whose header is not vomsim's (`{expected}`); was the file edited?"),
    ))
}

fn read_summary(dir: &Path) -> Result<RunSummary> {
    let mut reader = parquet::table_reader(dir, "summary").map_err(|e| {
        bad(
            dir,
            &format!(
                "holds no readable summary.csv or summary.parquet ({e}); give two folders written by vomsim run"
            ),
        )
    })?;
    let headers = reader
        .headers()
        .map_err(|e| bad(dir, &e.to_string()))?
        .clone();
    if headers.get(1) != Some("metric") {
        return Err(bad(
            dir,
            "is a sweep's output: compare takes two runs (compare a sweep's points within its summary.csv)",
        ));
    }
    expect_header(dir, "summary.csv", &headers, SUMMARY_HEADER)?;
    let mut keys = Vec::new();
    let mut rows = HashMap::new();
    for (line, record) in reader.records().enumerate() {
        let r = record.map_err(|e| bad(dir, &e.to_string()))?;
        let key = (r[1].to_string(), r[2].to_string(), r[3].to_string());
        let row = line + 2;
        let mean = finite(&r[4]).ok_or_else(|| not_a_number(dir, "summary.csv", row, &r[4]))?;
        // sd is empty with one replication.
        let sd = match &r[5] {
            "" => 0.0,
            text => finite(text).ok_or_else(|| not_a_number(dir, "summary.csv", row, text))?,
        };
        if rows.insert(key.clone(), (mean, sd)).is_some() {
            return Err(bad(
                dir,
                &format!(
                    "has summary.csv row {row} for {},{},{} a second time (vomsim writes each \
                     once); was it edited?",
                    key.0, key.1, key.2
                ),
            ));
        }
        keys.push(key);
    }
    // Without a manifest the seed is unknown: the runs count as independent.
    let (seed, reps) = match Manifest::read(dir) {
        Ok(None) => (None, None),
        Ok(Some(Manifest::Run(m))) => (Some(m.seed), Some(m.reps)),
        Ok(Some(_)) => return Err(bad(dir, "has a manifest.json that is not a run's")),
        Err(why) => {
            return Err(bad(
                dir,
                &format!("has a manifest.json vomsim did not write ({why}); was it edited?"),
            ));
        }
    };
    Ok(RunSummary {
        keys,
        rows,
        seed,
        reps,
    })
}

/// Whether a row is compared.
fn compared(key: &Key) -> bool {
    let (metric, _, month) = key;
    month.is_empty()
        || ((month == "12" || month == "30")
            && matches!(
                metric.as_str(),
                metric::REARREST
                    | metric::RECONVICTION
                    | metric::EFFECT_RATIO
                    | metric::REARRESTS_AVERTED_PER_100
                    | metric::COST_PER_REARREST_AVERTED
            ))
}

/// Per-replication values of the compared keys: key -> value by replication.
fn read_replications(dir: &Path, keys: &HashMap<Key, usize>, reps: usize) -> Result<Vec<Vec<f64>>> {
    let mut values = vec![vec![f64::NAN; reps]; keys.len()];
    let mut reader = parquet::table_reader(dir, "replications")
        .map_err(|e| bad(dir, &format!("holds no readable replications table ({e})")))?;
    let headers = reader
        .headers()
        .map_err(|e| bad(dir, &e.to_string()))?
        .clone();
    expect_header(dir, "replications.csv", &headers, REPLICATIONS_HEADER)?;
    for (line, record) in reader.records().enumerate() {
        let r = record.map_err(|e| bad(dir, &e.to_string()))?;
        let key = (r[2].to_string(), r[3].to_string(), r[4].to_string());
        if let Some(&i) = keys.get(&key) {
            let rep: usize = r[1]
                .parse()
                .map_err(|_| bad(dir, "replications.csv has a bad rep"))?;
            if rep < reps {
                values[i][rep] = finite(&r[5])
                    .ok_or_else(|| not_a_number(dir, "replications.csv", line + 2, &r[5]))?;
            }
        }
    }
    Ok(values)
}

/// The standard normal CDF (Abramowitz-Stegun 7.1.26 via erf; error below
/// 1.5e-7, plenty for a probability printed to two decimals).
fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// Why two runs' folders are compared as independent runs, not paired by
/// replication (`None` when they are paired or nothing says why): the
/// reason a person can act on, such as a run written with
/// `--no-replications`.
pub fn unpaired_reason(dir_a: &Path, dir_b: &Path) -> Option<String> {
    let seed_reps = |dir: &Path| match Manifest::read(dir) {
        Ok(Some(Manifest::Run(m))) => Some((m.seed, m.reps)),
        _ => None,
    };
    let (a, b) = (seed_reps(dir_a)?, seed_reps(dir_b)?);
    if a.0 != b.0 {
        return Some(format!("their seeds differ ({} and {})", a.0, b.0));
    }
    if a.1 != b.1 {
        return Some(format!(
            "their replication counts differ ({} and {})",
            a.1, b.1
        ));
    }
    [dir_a, dir_b]
        .into_iter()
        .find(|d| !parquet::has_table(d, "replications"))
        .map(|d| {
            format!(
                "{} has no replications.csv (it was run with --no-replications; run it again without it to pair)",
                d.display()
            )
        })
}

/// Compares two runs' folders.
pub fn compare(dir_a: &Path, dir_b: &Path) -> Result<Vec<CompareRow>> {
    let (a, b) = (read_summary(dir_a)?, read_summary(dir_b)?);
    let keys = compared_keys(&a, &b);
    let paired = a.seed.is_some()
        && a.seed == b.seed
        && a.reps == b.reps
        && parquet::has_table(dir_a, "replications")
        && parquet::has_table(dir_b, "replications");
    let values = if paired {
        let index: HashMap<Key, usize> = keys
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, k)| (k, i))
            .collect();
        let reps = a.reps.unwrap_or(0) as usize;
        Some((
            read_replications(dir_a, &index, reps)?,
            read_replications(dir_b, &index, reps)?,
        ))
    } else {
        None
    };
    Ok(compare_rows(
        &a,
        &b,
        &keys,
        values.as_ref(),
        &dir_b.display().to_string(),
    ))
}

/// Compares two runs held in memory, A the baseline: `vomsim serve`'s
/// differences. The caller runs both on one seed, so runs of as many
/// replications are paired by replication (otherwise compared as
/// independent). The rows are those `compare` reads from
/// the two folders `vomsim run` would write, bit for bit: `summary.csv`
/// and `replications.csv` print each number in the shortest form that
/// reads back as the same `f64`, and the summaries here come from the same
/// [`summarize`] over the same values. `b` names run B in the rows.
pub fn compare_results(a: &RunResult, b: &RunResult, b_name: &str) -> Vec<CompareRow> {
    let (summary_a, index_a) = summary_of(a);
    let (summary_b, index_b) = summary_of(b);
    let keys = compared_keys(&summary_a, &summary_b);
    let values = |result: &RunResult, index: &HashMap<Key, usize>| -> Vec<Vec<f64>> {
        keys.iter()
            .map(|key| {
                let column = index[key];
                result.values.iter().map(|rep| rep[column]).collect()
            })
            .collect()
    };
    let paired = a.values.len() == b.values.len();
    let values = paired.then(|| (values(a, &index_a), values(b, &index_b)));
    compare_rows(&summary_a, &summary_b, &keys, values.as_ref(), b_name)
}

/// A run's summary rows as `summary.csv` holds them (the rows defined in
/// some replication, in catalog order), and each key's catalog column.
fn summary_of(result: &RunResult) -> (RunSummary, HashMap<Key, usize>) {
    let mut keys = Vec::new();
    let mut rows = HashMap::new();
    let mut index = HashMap::new();
    for (column, key) in result.catalog.iter().enumerate() {
        let Some(s) = summarize(result.values.iter().map(|rep| rep[column])) else {
            continue;
        };
        let key = (
            key.metric.to_string(),
            key.group.to_string(),
            key.month.map_or_else(String::new, |m| m.to_string()),
        );
        // sd is empty in summary.csv with one replication, read as 0.
        rows.insert(key.clone(), (s.mean, s.sd.unwrap_or(0.0)));
        index.insert(key.clone(), column);
        keys.push(key);
    }
    let summary = RunSummary {
        keys,
        rows,
        seed: None,
        reps: Some(result.values.len() as u64),
    };
    (summary, index)
}

/// The keys compared: A's compared rows that B has too, in A's order.
fn compared_keys(a: &RunSummary, b: &RunSummary) -> Vec<Key> {
    a.keys
        .iter()
        .filter(|k| compared(k) && b.rows.contains_key(*k))
        .cloned()
        .collect()
}

/// Each compared key's values by replication, A's then B's.
type PairedValues = (Vec<Vec<f64>>, Vec<Vec<f64>>);

/// The compared rows of A against B; `values`, when the runs are paired,
/// holds each key's values by replication (A's, then B's), aligned with
/// `keys`.
fn compare_rows(
    a: &RunSummary,
    b: &RunSummary,
    keys: &[Key],
    values: Option<&PairedValues>,
    b_name: &str,
) -> Vec<CompareRow> {
    let paired = values.is_some();
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            let (metric, group, month) = key;
            let ((a_mean, a_sd), (b_mean, b_sd)) = (a.rows[key], b.rows[key]);
            let direction = better(metric, group);
            let sign = |d: f64| match direction {
                Some(Better::Lower) => -d,
                _ => d,
            };
            let (difference, lower, upper, p) = if let Some((values_a, values_b)) = values {
                let mut differences: Vec<f64> = values_a[i]
                    .iter()
                    .zip(&values_b[i])
                    .filter(|(x, y)| x.is_finite() && y.is_finite())
                    .map(|(x, y)| x - y)
                    .collect();
                differences.sort_by(f64::total_cmp);
                if differences.is_empty() {
                    (a_mean - b_mean, f64::NAN, f64::NAN, None)
                } else {
                    let n = differences.len() as f64;
                    let wins: f64 = differences
                        .iter()
                        .map(|&d| {
                            let s = sign(d);
                            if s > 0.0 {
                                1.0
                            } else if s < 0.0 {
                                0.0
                            } else {
                                0.5
                            }
                        })
                        .sum();
                    (
                        differences.iter().sum::<f64>() / n,
                        quantile_sorted(&differences, 0.025),
                        quantile_sorted(&differences, 0.975),
                        direction.map(|_| wins / n),
                    )
                }
            } else {
                let d = a_mean - b_mean;
                let spread = (a_sd * a_sd + b_sd * b_sd).sqrt();
                let p = direction.map(|_| match sign(d) {
                    s if spread > 0.0 => normal_cdf(s / spread),
                    s if s > 0.0 => 1.0,
                    s if s < 0.0 => 0.0,
                    _ => 0.5,
                });
                (d, d - Z95 * spread, d + Z95 * spread, p)
            };
            CompareRow {
                metric: metric.clone(),
                group: group.clone(),
                month: month.clone(),
                a_mean,
                b_mean,
                difference,
                lower,
                upper,
                better: direction,
                p_a_better: p,
                paired,
                b: b_name.to_string(),
            }
        })
        .collect()
}

pub use crate::output::csv::COMPARE_HEADER;

/// Writes `compare.csv` (with the header if `header`); undefined numbers
/// are left empty.
pub fn write_compare(out: &mut impl Write, header: bool, rows: &[CompareRow]) -> io::Result<()> {
    if header {
        writeln!(out, "{COMPARE_HEADER}")?;
    }
    for r in rows {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            r.metric,
            r.group,
            r.month,
            number_field(r.a_mean),
            number_field(r.b_mean),
            number_field(r.difference),
            number_field(r.lower),
            number_field(r.upper),
            match r.better {
                Some(Better::Lower) => "lower",
                Some(Better::Higher) => "higher",
                None => "",
            },
            optional_field(r.p_a_better),
            r.paired,
            csv_text(&r.b)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_cdf_matches_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.96) - 0.975).abs() < 1e-4);
        assert!((normal_cdf(-1.0) - 0.158_655_3).abs() < 1e-6);
    }

    #[test]
    fn directions_cover_the_policy_metrics() {
        assert_eq!(better("rearrest", "referred"), Some(Better::Lower));
        assert_eq!(
            better("net_benefit_per_referral", "program"),
            Some(Better::Higher)
        );
        assert_eq!(better("share", "victim_declined"), None);
    }

    #[test]
    fn a_damaged_manifest_is_refused_and_a_missing_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("summary.csv"),
            "point,metric,group,month,mean,sd,q025,q500,q975,reps\n\
             0,share,mediated,,0.5,0.1,0.4,0.5,0.6,4\n",
        )
        .unwrap();
        let summary = read_summary(dir.path()).unwrap();
        assert_eq!((summary.seed, summary.reps), (None, None));
        std::fs::write(
            dir.path().join("manifest.json"),
            r#"{"seed": 1, "reps": 4}"#,
        )
        .unwrap();
        let why = read_summary(dir.path()).err().unwrap().to_string();
        assert!(why.contains("manifest.json vomsim did not write"), "{why}");
    }

    #[test]
    fn a_summary_with_a_row_twice_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("summary.csv"),
            "point,metric,group,month,mean,sd,q025,q500,q975,reps\n\
             0,share,mediated,,0.5,0.1,0.4,0.5,0.6,4\n\
             0,share,mediated,,0.5,0.1,0.4,0.5,0.6,4\n",
        )
        .unwrap();
        let why = read_summary(dir.path()).err().unwrap().to_string();
        assert!(why.contains("a second time"), "{why}");
    }
}
