//! Power planning: the smallest study (referrals a month, or months of
//! intake) at which a design detects the program's effect with a given
//! probability, by bisection on common random numbers, and the power curve
//! of every value tried.
//!
//! A replication "detects" the effect when the design's interval at level
//! `1 - alpha` excludes 1 on the side of the true effect. The interval is
//! rebuilt from the 95% interval each design reports: every design's
//! interval is symmetric on the log scale, so its standard error is
//! `ln(upper / lower) / (2 * 1.96)`. An undefined estimate (an empty
//! group, no event) detects nothing. Power rises with the study's size but
//! is estimated from finitely many replications, so it is monotone only up
//! to that noise; the search reports the smallest value whose estimated
//! power meets the target, above a value whose power does not.
//!
//! A larger study needs a larger program: by default the mediator pool
//! (`mediators.initial_active`, `mediators.cohort_size`) grows in
//! proportion to `referrals.per_month`, so that the waits, and the share of
//! consented cases mediated, stay as in the scenario. Without that (`--fixed-pool`),
//! more referrals overflow the same volunteers and the effect offered is
//! diluted by returned cases, which a planner may want to see too.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use crate::cancel::Cancel;
use crate::engine::{self, metric_values, progress_bar};
use crate::error::{Error, Result};
use crate::measure::estimators::Estimator;
use crate::measure::metrics::{self, MetricKey};
use crate::measure::names::metric;
use crate::measure::stats::Z95;
use crate::model::draws::normal_quantile;
use crate::output::csv::number_field;
use crate::scenario::Scenario;

/// The keys `power` may vary: more of either means a larger study.
pub const POWER_LEVERS: [&str; 2] = ["referrals.per_month", "simulation.intake_months"];

/// The most values one search tries (a doubling bracket and a bisection of
/// 2^40 need fewer).
const MAX_EVALUATIONS: usize = 80;

pub use crate::output::csv::POWER_HEADER;

/// What to search.
#[derive(Debug, Clone)]
pub struct PowerOptions {
    pub design: Estimator,
    pub month: u32,
    pub power: f64,
    pub alpha: f64,
    pub lever: String,
    /// Grow the mediator pool with the referrals (see the module comment):
    /// the scenario's referrals a month, initial pool and cohort size.
    pub scale_pool: Option<(f64, u32, u32)>,
    /// Largest value the search may try.
    pub max_value: u64,
    pub seed: u64,
    pub reps: u64,
    pub threads: usize,
    pub progress: bool,
    pub cancel: Cancel,
}

/// The estimated power at one value of the lever.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerRow {
    pub value: u64,
    pub power: f64,
    /// Wilson 95% interval of the power.
    pub lower: f64,
    pub upper: f64,
    pub reps: u64,
    /// Share of replications whose estimate was undefined.
    pub undefined: f64,
}

/// The search's answer and every value it tried.
#[derive(Debug, Clone)]
pub struct PowerResult {
    /// The smallest value meeting the target, if one up to `max_value` does.
    pub answer: Option<u64>,
    /// Rows by value.
    pub rows: Vec<PowerRow>,
}

/// Searches for the smallest value of the lever meeting the power target,
/// starting from the scenario's value: a doubling bracket, then bisection.
/// `text`/`origin`/`overrides` are the scenario file and the user's
/// `--set`s; every value tried is validated as a scenario.
pub fn search(
    text: &str,
    origin: &str,
    overrides: &[String],
    start: u64,
    options: &PowerOptions,
) -> Result<PowerResult> {
    let pool = engine::thread_pool(options.threads)?;
    let mut rows: BTreeMap<u64, PowerRow> = BTreeMap::new();
    let mut evaluate = |value: u64| -> Result<bool> {
        if let Some(row) = rows.get(&value) {
            return Ok(row.power >= options.power);
        }
        if rows.len() >= MAX_EVALUATIONS {
            return Err(Error::BadArgument {
                option: "--lever".to_string(),
                value: options.lever.clone(),
                requirement: format!(
                    "needed more than {MAX_EVALUATIONS} values to bracket the target"
                ),
            });
        }
        let scenario =
            Scenario::from_toml_str(text, origin, &overrides_at(overrides, options, value))?;
        let row = power_at(&pool, &scenario, value, options)?;
        let meets = row.power >= options.power;
        rows.insert(value, row);
        Ok(meets)
    };

    // Bracket: `low` fails (or is 0), `high` meets.
    let mut high = start.max(1);
    let mut low = 0;
    loop {
        if evaluate(high)? {
            break;
        }
        low = high;
        if high >= options.max_value {
            return Ok(PowerResult {
                answer: None,
                rows: rows.into_values().collect(),
            });
        }
        high = high.saturating_mul(2).min(options.max_value);
    }
    if low == 0 && high > 1 {
        // The scenario's own value meets: look below it.
        let mut probe = high / 2;
        while probe >= 1 && evaluate(probe)? {
            high = probe;
            probe /= 2;
        }
        low = probe;
    }
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if evaluate(middle)? {
            high = middle;
        } else {
            low = middle;
        }
    }
    Ok(PowerResult {
        answer: Some(high),
        rows: rows.into_values().collect(),
    })
}

/// The `--set`s of the scenario at `value`: the user's, the lever, and the
/// pool grown with the referrals (see the module comment).
pub fn overrides_at(overrides: &[String], options: &PowerOptions, value: u64) -> Vec<String> {
    let mut all = overrides.to_vec();
    all.push(format!("{}={value}", options.lever));
    if let (Some((per_month, initial, cohort)), "referrals.per_month") =
        (options.scale_pool, options.lever.as_str())
    {
        let scale = value as f64 / per_month.max(f64::MIN_POSITIVE);
        let grown = |n: u32| (f64::from(n) * scale).round().min(f64::from(u32::MAX)) as u64;
        all.push(format!("mediators.initial_active={}", grown(initial)));
        all.push(format!("mediators.cohort_size={}", grown(cohort)));
    }
    all
}

/// Checks that the scenario reports `design` at `month`, before anything
/// runs.
pub fn check_design(scenario: &Scenario, design: Estimator, month: u32) -> Result<()> {
    if design.reported(scenario.shape())
        && crate::model::time::effect_months(scenario.shape().horizon).any(|m| m == month as usize)
    {
        return Ok(());
    }
    Err(Error::BadArgument {
        option: "--design".to_string(),
        value: design.name().to_string(),
        requirement: format!(
            "is not reported by this scenario at month {month} (randomized designs need \
             design.rct_control_share > 0; rct_consent_first needs \
             design.randomize_after_consent = true, and rct_itt needs it false)"
        ),
    })
}

/// The design's power at one scenario (the lever set to `value`).
fn power_at(
    pool: &rayon::ThreadPool,
    scenario: &Scenario,
    value: u64,
    options: &PowerOptions,
) -> Result<PowerRow> {
    let catalog = metrics::catalog(scenario.program_months(), scenario.shape());
    let find = |metric: &str, group: &str| {
        catalog.iter().position(|k: &MetricKey| {
            k.metric == metric && k.group == group && k.month == Some(options.month)
        })
    };
    let name = options.design.name();
    let (Some(estimate), Some(lower), Some(upper), Some(truth)) = (
        find(metric::EFFECT_RATIO, name),
        find(metric::EFFECT_RATIO_LOWER, name),
        find(metric::EFFECT_RATIO_UPPER, name),
        find(metric::EFFECT_RATIO, options.design.estimand()),
    ) else {
        return Err(Error::BadArgument {
            option: "--design".to_string(),
            value: name.to_string(),
            requirement: format!(
                "is not reported by this scenario at month {} (randomized designs need \
                 design.rct_control_share > 0; rct_consent_first needs \
                 design.randomize_after_consent = true)",
                options.month
            ),
        });
    };
    let z = normal_quantile(1.0 - options.alpha / 2.0);
    let bar = progress_bar(options.reps, options.progress, &format!("reps at {value}"));
    let jobs: Vec<(&Scenario, u64)> = (0..options.reps).map(|rep| (scenario, rep)).collect();
    let outcomes = engine::replicate(pool, &jobs, options.seed, &options.cancel, &bar, |tally| {
        let values = metric_values(&tally);
        detects(
            values[estimate],
            values[lower],
            values[upper],
            values[truth],
            z,
        )
    })?;
    bar.finish_and_clear();
    let n = outcomes.len() as f64;
    let detected = outcomes.iter().filter(|o| **o == Some(true)).count() as f64;
    let undefined = outcomes.iter().filter(|o| o.is_none()).count() as f64;
    let power = detected / n;
    let (lower, upper) = wilson(detected, n);
    Ok(PowerRow {
        value,
        power,
        lower,
        upper,
        reps: options.reps,
        undefined: undefined / n,
    })
}

/// Whether one replication's estimate detects the effect at the two-sided
/// level whose normal quantile is `z`; `None` if it is undefined.
fn detects(estimate: f64, lower: f64, upper: f64, truth: f64, z: f64) -> Option<bool> {
    if !(estimate > 0.0 && lower > 0.0 && upper > lower) {
        return None;
    }
    let se = (upper / lower).ln() / (2.0 * Z95);
    let statistic = estimate.ln() / se;
    // Detected on the side of the true effect (a reduction when the truth
    // is below 1).
    Some(if truth < 1.0 {
        statistic < -z
    } else {
        statistic > z
    })
}

/// Wilson's 95% interval of a binomial proportion (`size` uses it too).
pub fn wilson(successes: f64, n: f64) -> (f64, f64) {
    let p = successes / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
    // Exactly 0 (1) at no (every) success, whatever the rounding.
    let lower = if successes == 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let upper = if successes == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    (lower, upper)
}

/// Writes `power.csv`.
pub fn write_power(out: &mut impl Write, rows: &[PowerRow]) -> io::Result<()> {
    writeln!(out, "{POWER_HEADER}")?;
    for r in rows {
        writeln!(
            out,
            "{},{},{},{},{},{}",
            r.value,
            number_field(r.power),
            number_field(r.lower),
            number_field(r.upper),
            r.reps,
            number_field(r.undefined)
        )?;
    }
    Ok(())
}

/// The design named on the command line.
pub fn design_by_name(name: &str) -> Result<Estimator> {
    Estimator::ALL
        .into_iter()
        .find(|e| e.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = Estimator::ALL.iter().map(|e| e.name()).collect();
            let suggestion = crate::scenario::nearest_name(name, names.iter().copied())
                .map_or_else(String::new, |n| format!(" (did you mean {n}?)"));
            Error::BadArgument {
                option: "--design".to_string(),
                value: name.to_string(),
                requirement: format!("must be one of {}{suggestion}", names.join(", ")),
            }
        })
}

/// A lever's value in a scenario, and the largest value it may take.
pub fn lever_range(scenario: &Scenario, lever: &str) -> Result<(u64, u64)> {
    match lever {
        "referrals.per_month" => Ok((
            scenario.raw.referrals.per_month.round().max(1.0) as u64,
            1_000_000,
        )),
        "simulation.intake_months" => Ok((
            u64::from(scenario.raw.simulation.intake_months),
            u64::from(crate::model::time::MAX_INTAKE_MONTHS),
        )),
        other => Err(Error::BadArgument {
            option: "--lever".to_string(),
            value: other.to_string(),
            requirement: format!(
                "must be a key whose larger values make a larger study: one of {}",
                POWER_LEVERS.join(", ")
            ),
        }),
    }
}

/// The search on a scenario file (the path is read once).
pub fn search_file(
    path: &Path,
    overrides: &[String],
    options: &PowerOptions,
) -> Result<PowerResult> {
    let text = crate::scenario::read_text_file(path, "scenario")?;
    let origin = path.display().to_string();
    let scenario = Scenario::from_toml_str(&text, &origin, overrides)?;
    let (start, _) = lever_range(&scenario, &options.lever)?;
    search(&text, &origin, overrides, start, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_uses_the_level_and_the_side_of_the_truth() {
        // 95% interval (0.5, 0.9) around 0.67: se = ln(1.8) / 3.92.
        let z95 = normal_quantile(0.975);
        assert_eq!(detects(0.67, 0.5, 0.9, 0.7, z95), Some(true));
        assert_eq!(detects(0.67, 0.5, 0.9, 1.3, z95), Some(false), "wrong side");
        // At alpha = 0.001 the same interval is not significant.
        assert_eq!(
            detects(0.67, 0.5, 0.9, 0.7, normal_quantile(0.9995)),
            Some(false)
        );
        assert_eq!(detects(f64::NAN, 0.5, 0.9, 0.7, z95), None);
    }

    #[test]
    fn wilson_interval_brackets_the_share() {
        let (lo, hi) = wilson(80.0, 100.0);
        assert!(lo < 0.8 && hi > 0.8 && lo > 0.7 && hi < 0.88);
        assert_eq!(wilson(0.0, 10.0).0, 0.0);
    }
}
