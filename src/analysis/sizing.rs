//! The planner's question, `vomsim size`: the smallest mediator pool that
//! keeps waits short.
//!
//! It tries a range of values of a recruitment lever (by default
//! `mediators.initial_active`, the pool a program starts with), runs the
//! same replications at each (common random numbers: the same youths, the
//! same attrition draws, so the curve over sizes is smooth), and reports for
//! each value the mean active mediators, the mean over replications of the
//! Q-quantile of queue waits, the share of cases returned for waiting, and
//! whether enough replications meet the target.

use std::io::{self, Write};
use std::path::Path;

use crate::cancel::Cancel;
use crate::engine::{self, progress_bar};
use crate::error::Result;
use crate::measure::metrics::Tally;
use crate::measure::stats::quantile_sorted;
use crate::model::referral::DAYS_PER_MONTH;
use crate::scenario::Scenario;

/// What `size` is asked.
#[derive(Debug, Clone)]
pub struct SizeOptions {
    /// The dotted key varied (a whole number of mediators).
    pub lever: String,
    /// The values tried, ascending.
    pub values: Vec<u64>,
    /// Target: the `quantile` of queue waits within `wait_days` days...
    pub wait_days: f64,
    pub quantile: f64,
    /// ...and at most this share of queued cases returned for waiting...
    pub max_returned_share: Option<f64>,
    /// ...in at least this share of replications.
    pub confidence: f64,
    pub seed: u64,
    pub reps: u64,
    pub threads: usize,
    pub progress: bool,
    /// Stops between replications when requested.
    pub cancel: Cancel,
}

/// One pool size tried (a row of `size.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct SizeRow {
    pub value: u64,
    /// Mean active mediators over the intake months, averaged over replications.
    pub active_mediators_mean: f64,
    /// The wait quantile (days), averaged over replications.
    pub wait_days_q: f64,
    /// Share of queued cases returned for waiting, averaged over replications.
    pub returned_share: f64,
    /// Share of replications that met the target.
    pub share_meeting: f64,
    pub meets_target: bool,
}

/// One replication's queue statistics.
struct QueueStats {
    active_mediators: f64,
    wait_quantile: f64,
    returned_share: f64,
}

/// Runs every size; `overrides` are the user's `--set`s.
pub fn size(path: &Path, overrides: &[String], options: &SizeOptions) -> Result<Vec<SizeRow>> {
    let scenarios = options
        .values
        .iter()
        .map(|value| {
            let mut all = overrides.to_vec();
            all.push(format!("{}={value}", options.lever));
            Scenario::load(path, &all)
        })
        .collect::<Result<Vec<_>>>()?;
    let pool = engine::thread_pool(options.threads)?;
    let bar = progress_bar(
        options.reps * scenarios.len() as u64,
        options.progress,
        "replications",
    );
    let rows = scenarios
        .iter()
        .zip(&options.values)
        .map(|(scenario, &value)| {
            let jobs: Vec<(&Scenario, u64)> =
                (0..options.reps).map(|rep| (scenario, rep)).collect();
            let stats =
                engine::replicate(&pool, &jobs, options.seed, &options.cancel, &bar, |tally| {
                    replication_stats(scenario, options, tally)
                })?;
            Ok(summarize_size(value, &stats, options))
        })
        .collect::<Result<Vec<_>>>();
    bar.finish_and_clear();
    rows
}

fn replication_stats(scenario: &Scenario, options: &SizeOptions, mut tally: Tally) -> QueueStats {
    let intake = scenario.intake_months() as usize;
    let active_days: f64 = tally.caseload.active_days[..intake].iter().sum();
    let queued = tally.waits.len();
    let returned: u64 = tally.caseload.returned.iter().sum();
    tally.waits.sort_by(f64::total_cmp);
    QueueStats {
        active_mediators: active_days / (intake as f64 * DAYS_PER_MONTH),
        wait_quantile: if queued == 0 {
            0.0
        } else {
            quantile_sorted(&tally.waits, options.quantile)
        },
        returned_share: if queued == 0 {
            0.0
        } else {
            returned as f64 / queued as f64
        },
    }
}

fn summarize_size(value: u64, stats: &[QueueStats], options: &SizeOptions) -> SizeRow {
    let n = stats.len() as f64;
    let mean = |f: &dyn Fn(&QueueStats) -> f64| stats.iter().map(f).sum::<f64>() / n;
    let meeting = stats
        .iter()
        .filter(|s| {
            s.wait_quantile <= options.wait_days
                && options
                    .max_returned_share
                    .is_none_or(|max| s.returned_share <= max)
        })
        .count() as f64
        / n;
    SizeRow {
        value,
        active_mediators_mean: mean(&|s| s.active_mediators),
        wait_days_q: mean(&|s| s.wait_quantile),
        returned_share: mean(&|s| s.returned_share),
        share_meeting: meeting,
        meets_target: meeting >= options.confidence,
    }
}

/// The smallest value that meets the target, if any.
pub fn smallest_meeting(rows: &[SizeRow]) -> Option<&SizeRow> {
    rows.iter().find(|r| r.meets_target)
}

pub use crate::output::csv::SIZE_HEADER;
use crate::output::csv::number_field;

/// Writes `size.csv`.
pub fn write_size(out: &mut impl Write, rows: &[SizeRow]) -> io::Result<()> {
    writeln!(out, "{SIZE_HEADER}")?;
    for r in rows {
        writeln!(
            out,
            "{},{},{},{},{}",
            r.value,
            number_field(r.active_mediators_mean),
            number_field(r.wait_days_q),
            number_field(r.returned_share),
            r.meets_target
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_csv_has_the_contract_columns() {
        let rows = [SizeRow {
            value: 10,
            active_mediators_mean: 9.5,
            wait_days_q: 3.25,
            returned_share: 0.0,
            share_meeting: 1.0,
            meets_target: true,
        }];
        let mut out = Vec::new();
        write_size(&mut out, &rows).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{SIZE_HEADER}\n10,9.5,3.25,0,true\n")
        );
    }
}
