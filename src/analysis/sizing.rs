//! The planner's question, `vomsim size`: the smallest value of a
//! recruitment lever (by default `mediators.initial_active`, the pool a
//! program starts with) whose waits meet a target.
//!
//! Every value is run on the same replications (common random numbers: the
//! same youths, the same attrition draws), so the share of replications
//! meeting the target is, up to the queue's own discreteness, monotone in
//! the lever: more volunteers never lengthen the queue for the same
//! referrals. The search exploits that: it tries the scenario's own value,
//! then brackets the threshold (down to the range's start, or up by
//! doubling), then bisects, so it needs about `2 log2(n)` runs of the `n`
//! values in range instead of all of them. `--scan` runs every value (the
//! curve, and the check that the bisection's answer is the scan's).
//!
//! For each value tried it reports the mean active mediators, the mean over
//! replications of the Q-quantile of waits (to assignment of mediators, or
//! to the session: [`WaitTo`]), the share of queued cases returned for
//! waiting, and the share of replications meeting the target with its
//! Wilson 95% interval.

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::analysis::power::wilson;
use crate::cancel::Cancel;
use crate::engine::{self, progress_bar};
use crate::error::{Error, Result};
use crate::measure::metrics::Tally;
use crate::measure::stats::quantile_sorted;
use crate::model::referral::DAYS_PER_MONTH;
use crate::scenario::Scenario;

/// Which wait the target is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaitTo {
    /// From referral to the assignment of mediators (the queue's wait).
    #[default]
    Assignment,
    /// From referral to the mediation session (the wait plus the case's
    /// preparation): what programs promise victims.
    Session,
}

impl WaitTo {
    /// The name on the command line and in `size.csv`.
    pub fn name(self) -> &'static str {
        match self {
            WaitTo::Assignment => "assignment",
            WaitTo::Session => "session",
        }
    }

    /// Parses `--target`.
    pub fn parse(text: &str) -> std::result::Result<WaitTo, String> {
        match text {
            "assignment" => Ok(WaitTo::Assignment),
            "session" => Ok(WaitTo::Session),
            _ => Err("must be `assignment` or `session`".to_string()),
        }
    }
}

/// A waiting target: the `quantile` of waits (to assignment or to the
/// session) within `wait_days`, and at most `max_returned_share` of queued
/// cases returned, in at least `confidence` of replications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WaitTarget {
    pub wait_to: WaitTo,
    pub wait_days: f64,
    pub quantile: f64,
    pub max_returned_share: Option<f64>,
    pub confidence: f64,
}

/// What `size` is asked.
#[derive(Debug, Clone)]
pub struct SizeOptions {
    /// The dotted key varied (a whole number of mediators).
    pub lever: String,
    /// The values that may be tried: `from + k * step` up to `to`.
    pub from: u64,
    pub to: u64,
    pub step: u64,
    /// Where the search starts (the scenario's own value).
    pub start: u64,
    /// Run every value instead of bisecting.
    pub scan: bool,
    pub target: WaitTarget,
    pub seed: u64,
    pub reps: u64,
    pub threads: usize,
    pub progress: bool,
    /// Stops between replications when requested.
    pub cancel: Cancel,
}

/// One value tried (a row of `size.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct SizeRow {
    pub value: u64,
    /// Mean active mediators over the intake months, averaged over replications.
    pub active_mediators_mean: f64,
    /// The wait quantile (days), averaged over replications.
    pub wait_days_q: f64,
    /// Share of queued cases returned for waiting, averaged over replications.
    pub returned_share: f64,
    /// Share of replications that met the target, and its Wilson 95% interval.
    pub share_meeting: f64,
    pub share_lower: f64,
    pub share_upper: f64,
    pub reps: u64,
    pub meets_target: bool,
}

/// The search's answer and every value it tried.
#[derive(Debug, Clone)]
pub struct SizeResult {
    /// The smallest value meeting the target, if any in range does.
    pub answer: Option<u64>,
    /// Rows by value.
    pub rows: Vec<SizeRow>,
}

impl SizeResult {
    /// The row of the answer.
    pub fn answer_row(&self) -> Option<&SizeRow> {
        self.answer
            .and_then(|a| self.rows.iter().find(|r| r.value == a))
    }
}

/// One replication's queue statistics.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QueueStats {
    pub active_mediators: f64,
    pub wait_quantile: f64,
    pub returned_share: f64,
}

/// Most values one search runs (a bisection over 2^40 values needs fewer).
const MAX_EVALUATIONS: usize = 1000;

/// The smallest index in `0..=n` for which `meets` holds, assuming it is
/// monotone (false, then true), starting from `start`: if `start` meets,
/// the bracket is `[0, start]` (after trying 0 itself); otherwise it grows
/// upward by doubling (`k -> 2k + 1`) until a meeting index or `n`. Then
/// bisection. `None` if `n` does not meet. Every index is tried at most
/// once by a caching `meets`; about `2 log2(n) + 2` are tried in all.
pub fn smallest_meeting(
    n: u64,
    start: u64,
    mut meets: impl FnMut(u64) -> Result<bool>,
) -> Result<Option<u64>> {
    let start = start.min(n);
    let (mut low, mut high);
    if meets(start)? {
        if start == 0 || meets(0)? {
            return Ok(Some(0));
        }
        (low, high) = (0, start);
    } else {
        low = start;
        loop {
            if low >= n {
                return Ok(None);
            }
            let next = low.saturating_mul(2).saturating_add(1).min(n);
            if meets(next)? {
                high = next;
                break;
            }
            low = next;
        }
    }
    // `low` fails, `high` meets.
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if meets(middle)? {
            high = middle;
        } else {
            low = middle;
        }
    }
    Ok(Some(high))
}

/// Runs the search (or the scan) on a scenario file's text; `overrides`
/// are the user's `--set`s, and every value tried is validated as a
/// scenario.
pub fn size(
    text: &str,
    origin: &str,
    overrides: &[String],
    options: &SizeOptions,
) -> Result<SizeResult> {
    let pool = engine::thread_pool(options.threads)?;
    let n = (options.to - options.from) / options.step;
    let mut rows: BTreeMap<u64, SizeRow> = BTreeMap::new();
    let mut evaluate = |k: u64| -> Result<bool> {
        let value = options.from + k * options.step;
        if let Some(row) = rows.get(&value) {
            return Ok(row.meets_target);
        }
        if rows.len() >= MAX_EVALUATIONS {
            return Err(Error::BadArgument {
                option: "--step".to_string(),
                value: options.step.to_string(),
                requirement: format!("gives more than {MAX_EVALUATIONS} values to try; raise it"),
            });
        }
        let mut all = overrides.to_vec();
        all.push(format!("{}={value}", options.lever));
        let scenario = Scenario::from_toml_str(text, origin, &all)?;
        let row = size_at(&pool, &scenario, value, options)?;
        let meets = row.meets_target;
        rows.insert(value, row);
        Ok(meets)
    };
    let answer = if options.scan {
        let mut first = None;
        for k in 0..=n {
            if evaluate(k)? && first.is_none() {
                first = Some(k);
            }
        }
        first
    } else {
        let start = options.start.clamp(options.from, options.to);
        smallest_meeting(n, (start - options.from) / options.step, evaluate)?
    };
    Ok(SizeResult {
        answer: answer.map(|k| options.from + k * options.step),
        rows: rows.into_values().collect(),
    })
}

/// Runs one scenario's replications and summarizes them against the target.
fn size_at(
    pool: &rayon::ThreadPool,
    scenario: &Scenario,
    value: u64,
    options: &SizeOptions,
) -> Result<SizeRow> {
    let bar = progress_bar(
        options.reps,
        options.progress,
        &format!("replications at {value}"),
    );
    let jobs: Vec<(&Scenario, u64)> = (0..options.reps).map(|rep| (scenario, rep)).collect();
    let stats = engine::replicate(pool, &jobs, options.seed, &options.cancel, &bar, |tally| {
        replication_stats(scenario, &options.target, tally)
    })?;
    bar.finish_and_clear();
    Ok(summarize_size(value, &stats, &options.target))
}

/// One replication's statistics against a target.
pub(crate) fn replication_stats(
    scenario: &Scenario,
    target: &WaitTarget,
    mut tally: Box<Tally>,
) -> QueueStats {
    let intake = scenario.intake_months() as usize;
    let active_days: f64 = tally.caseload.active_days[..intake].iter().sum();
    let returned: u64 = tally.caseload.returned.iter().sum();
    let waits = match target.wait_to {
        WaitTo::Assignment => &mut tally.waits,
        WaitTo::Session => &mut tally.caseload.session_waits,
    };
    let queued = waits.len();
    waits.sort_by(f64::total_cmp);
    QueueStats {
        active_mediators: active_days / (intake as f64 * DAYS_PER_MONTH),
        wait_quantile: if queued == 0 {
            0.0
        } else {
            quantile_sorted(waits, target.quantile)
        },
        returned_share: if queued == 0 {
            0.0
        } else {
            returned as f64 / queued as f64
        },
    }
}

/// Whether one replication meets the target.
pub(crate) fn meets(stats: &QueueStats, target: &WaitTarget) -> bool {
    stats.wait_quantile <= target.wait_days
        && target
            .max_returned_share
            .is_none_or(|max| stats.returned_share <= max)
}

fn summarize_size(value: u64, stats: &[QueueStats], target: &WaitTarget) -> SizeRow {
    let n = stats.len() as f64;
    let mean = |f: &dyn Fn(&QueueStats) -> f64| stats.iter().map(f).sum::<f64>() / n;
    let meeting = stats.iter().filter(|s| meets(s, target)).count() as f64;
    let (share_lower, share_upper) = wilson(meeting, n);
    SizeRow {
        value,
        active_mediators_mean: mean(&|s| s.active_mediators),
        wait_days_q: mean(&|s| s.wait_quantile),
        returned_share: mean(&|s| s.returned_share),
        share_meeting: meeting / n,
        share_lower,
        share_upper,
        reps: stats.len() as u64,
        meets_target: meeting / n >= target.confidence,
    }
}

pub use crate::output::csv::SIZE_HEADER;
use crate::output::csv::number_field;

/// Writes `size.csv`: a row per value tried, each with the target.
pub fn write_size(out: &mut impl Write, rows: &[SizeRow], target: &WaitTarget) -> io::Result<()> {
    writeln!(out, "{SIZE_HEADER}")?;
    for r in rows {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.value,
            number_field(r.active_mediators_mean),
            number_field(r.wait_days_q),
            number_field(r.returned_share),
            r.meets_target,
            number_field(r.share_meeting),
            number_field(r.share_lower),
            number_field(r.share_upper),
            r.reps,
            target.wait_to.name(),
            number_field(target.wait_days),
            number_field(target.quantile),
            number_field(target.confidence),
            target
                .max_returned_share
                .map_or_else(String::new, number_field),
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
            share_lower: 0.75,
            share_upper: 1.0,
            reps: 10,
            meets_target: true,
        }];
        let target = WaitTarget {
            wait_to: WaitTo::Session,
            wait_days: 28.0,
            quantile: 0.9,
            max_returned_share: None,
            confidence: 0.9,
        };
        let mut out = Vec::new();
        write_size(&mut out, &rows, &target).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("{SIZE_HEADER}\n10,9.5,3.25,0,true,1,0.75,1,10,session,28,0.9,0.9,\n")
        );
    }

    /// The search against every threshold of a monotone predicate, from
    /// every start: the answer is the threshold, and it tries few indices.
    #[test]
    fn bisection_finds_every_threshold() {
        for n in [0u64, 1, 2, 7, 100] {
            for threshold in 0..=n + 1 {
                for start in [0, n / 3, n, n + 5] {
                    let mut tried = Vec::new();
                    let answer = smallest_meeting(n, start, |k| {
                        assert!(k <= n, "tried {k} beyond {n}");
                        tried.push(k);
                        Ok(k >= threshold)
                    })
                    .unwrap();
                    let expected = (threshold <= n).then_some(threshold);
                    assert_eq!(
                        answer, expected,
                        "n {n} threshold {threshold} start {start}"
                    );
                    assert!(tried.len() <= 2 * 8 + 2, "{tried:?}");
                }
            }
        }
    }
}
