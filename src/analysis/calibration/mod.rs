//! `vomsim calibrate`: fit scenario parameters to a program's own published
//! figures.
//!
//! Targets come in the format of the project's calibration targets
//! (`metric,group,month,target,tolerance,source`). The objective is the sum
//! over targets of ((simulated mean - target) / tolerance)^2. Every
//! evaluation runs the same replications (common random numbers), so the
//! objective moves only with the parameters. It is minimized by Nelder-Mead
//! in the unit cube of the parameters' bounds, restarted from the best point
//! until a restart stops improving. The result is then verified with fresh
//! seeds and more replications. Each target is reported `within` tolerance,
//! in `conflict` (reached alone during the search, not together with the
//! others), or `unreachable` (never reached; the closest value is given).
//! For each fitted parameter it reports how far the parameter can move
//! before the objective rises by one squared tolerance (from the objective's
//! curvature at the fit); beyond a quarter of its bounds it is a flat
//! direction that the targets do not pin down.

mod choice;
mod hessian;
mod objective;
mod optimizer;
mod parameters;
mod posterior;
mod rewrite;
mod targets;

use std::io::{self, Write};

use crate::cancel::Cancel;
use crate::engine::progress_bar;
use crate::error::{Error, Result};
use crate::scenario::Scenario;
pub use choice::{
    Alternative, Choice, alternative_text, best, choice_comment, parse_choice, used_parameters,
    verified_objective,
};
use objective::Evaluator;
use parameters::to_values;
pub use parameters::{FitParameter, parse_fit};
pub use posterior::{
    MAX_POSTERIOR_DRAWS, MIN_DRAWS_PER_COEFFICIENT, PRIOR_DRAWS_PER_ACCEPTED, ParameterDraws,
    ParameterPosterior, Posterior, PosteriorDraw, PosteriorOptions, check_draws,
    check_draws_for_targets, posterior, posterior_header, read_parameters, weighted_quantile,
    write_posterior,
};
pub use rewrite::{WRITTEN_DIGITS, calibrated_scenario, check_calibrated, today, written_value};
use targets::locate;
pub use targets::{Target, read_targets};

/// How to calibrate.
#[derive(Debug, Clone)]
pub struct CalibrationOptions {
    pub seed: u64,
    pub reps: u64,
    /// Replications of the verification run (at fresh seeds).
    pub verify_reps: u64,
    pub threads: usize,
    /// Objective evaluations at most, over all restarts.
    pub max_evaluations: usize,
    pub progress: bool,
    /// Stops between replications when requested.
    pub cancel: Cancel,
}

/// How a target came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetStatus {
    Within,
    Conflict,
    Unreachable,
    /// The search hit `--max-evaluations` before it ended: the values are
    /// the best point so far.
    Stopped,
}

impl TargetStatus {
    pub fn name(self) -> &'static str {
        match self {
            TargetStatus::Within => "within",
            TargetStatus::Conflict => "conflict",
            TargetStatus::Unreachable => "unreachable",
            TargetStatus::Stopped => "stopped",
        }
    }
}

/// A target's verified result.
#[derive(Debug, Clone)]
pub struct TargetResult {
    pub target: Target,
    /// Mean over the verification run, and its 95% interval (mean +- 1.96
    /// standard errors).
    pub achieved: f64,
    pub lower: f64,
    pub upper: f64,
    pub status: TargetStatus,
    /// The value closest to the target seen anywhere in the search.
    pub closest: f64,
}

/// A fitted parameter.
#[derive(Debug, Clone)]
pub struct ParameterResult {
    pub parameter: FitParameter,
    pub start: f64,
    /// The value written to the calibrated scenario, and the one verified
    /// (see [`written_value`]).
    pub fitted: f64,
    /// The schema types the key as a whole number (written as an integer);
    /// otherwise it is a float key, written as a float whatever the file's
    /// literal was. [`check`] refuses whole-number keys today.
    pub whole_number: bool,
    /// How far (in the parameter's units) it can move either way, the
    /// others re-fitted, before the objective rises by 1 (one squared
    /// tolerance): from the objective's Hessian at the fit. Infinite when
    /// the Hessian has a flat direction.
    pub half_width: f64,
    /// A flat direction: the half-width exceeds a quarter of the bounds, so
    /// the targets barely pin the parameter down.
    pub flat: bool,
}

/// The outcome of a calibration.
#[derive(Debug, Clone)]
pub struct Calibration {
    pub parameters: Vec<ParameterResult>,
    pub targets: Vec<TargetResult>,
    pub objective: f64,
    pub evaluations: usize,
    /// The search hit `--max-evaluations` (every target's status is then
    /// `stopped`).
    pub stopped: bool,
}

/// Checks a calibration before it runs: every target is a row the scenario
/// reports; every fitted key appears once, is a number (not a whole-number
/// key: the search is continuous), and both its bounds validate.
pub fn check(
    text: &str,
    origin: &str,
    overrides: &[String],
    parameters: &[FitParameter],
    targets: &[Target],
) -> Result<()> {
    let bad = |option: &str, value: String, requirement: String| Error::BadArgument {
        option: option.to_string(),
        value,
        requirement,
    };
    let base = Scenario::from_toml_str(text, origin, overrides)?;
    let catalog = crate::measure::metrics::catalog(base.program_months(), base.shape());
    for t in targets {
        locate(&catalog, t)?;
    }
    let tree = toml::Value::try_from(&base.raw).expect("a scenario serializes to TOML");
    for (i, p) in parameters.iter().enumerate() {
        if parameters[..i].iter().any(|q| q.key == p.key) {
            return Err(bad("--fit", p.key.clone(), "is given twice".to_string()));
        }
        match crate::scenario::value_at(&tree, &p.key) {
            Some(toml::Value::Float(_)) => {}
            Some(toml::Value::Integer(_)) => {
                return Err(bad(
                    "--fit",
                    p.key.clone(),
                    "is a whole-number key; calibrate fits continuous parameters (use vomsim size or a sweep for counts)"
                        .to_string(),
                ));
            }
            Some(_) => {
                return Err(bad(
                    "--fit",
                    p.key.clone(),
                    "must name a number key of the scenario".to_string(),
                ));
            }
            None => {
                return Err(bad(
                    "--fit",
                    p.key.clone(),
                    "is not a scenario key (see `vomsim validate`)".to_string(),
                ));
            }
        }
        for bound in [p.low, p.high] {
            let mut all = overrides.to_vec();
            all.push(format!("{}={bound}", p.key));
            Scenario::from_toml_str(text, origin, &all).map_err(|e| {
                bad(
                    "--fit",
                    format!("{}={}..{}", p.key, p.low, p.high),
                    format!("has a bound the scenario refuses: {e}"),
                )
            })?;
        }
    }
    Ok(())
}

/// Runs a calibration of the scenario `text` (named `origin`).
pub fn calibrate(
    text: &str,
    origin: &str,
    overrides: &[String],
    parameters: &[FitParameter],
    targets: &[Target],
    options: &CalibrationOptions,
) -> Result<Calibration> {
    let base = Scenario::from_toml_str(text, origin, overrides)?;
    let tree = toml::Value::try_from(&base.raw).expect("a scenario serializes to TOML");
    // The scenario as read holds each key in the schema's type (a float key
    // written `8` in the file reads as 8.0), which decides how the fitted
    // value is written.
    let mut start = Vec::new();
    let mut whole_numbers = Vec::new();
    for p in parameters {
        let current = crate::scenario::value_at(&tree, &p.key);
        whole_numbers.push(matches!(current, Some(toml::Value::Integer(_))));
        let value = match current {
            Some(toml::Value::Float(v)) => *v,
            Some(toml::Value::Integer(v)) => *v as f64,
            Some(_) => {
                return Err(Error::BadArgument {
                    option: "--fit".to_string(),
                    value: p.key.clone(),
                    requirement: "must name a number key of the scenario".to_string(),
                });
            }
            None => {
                return Err(Error::BadArgument {
                    option: "--fit".to_string(),
                    value: p.key.clone(),
                    requirement: "is not a scenario key (see `vomsim validate`)".to_string(),
                });
            }
        };
        start.push(value.clamp(p.low, p.high));
    }
    let bar = progress_bar(
        options.max_evaluations as u64,
        options.progress,
        "evaluations",
    );
    let mut evaluator = Evaluator {
        text,
        origin,
        overrides,
        parameters,
        targets,
        threads: options.threads,
        cancel: options.cancel.clone(),
        evaluations: 0,
        cap: options.max_evaluations,
        capped: false,
        best: None,
        closest: vec![f64::NAN; targets.len()],
        bar,
    };
    let unit_start: Vec<f64> = parameters
        .iter()
        .zip(&start)
        .map(|(p, v)| (v - p.low) / (p.high - p.low))
        .collect();

    // The search, restarted from the best point with a smaller simplex
    // while a restart still improves the objective.
    // `--max-evaluations` is a hard cap: past it the objective is not
    // evaluated, the best point evaluated stands, and the calibration is
    // `stopped` (identifiability is then not measured).
    let (seed, reps) = (options.seed, options.reps);
    // Nothing to fit (an alternative of `--choose` that uses none of the
    // parameters): the objective where it stands.
    let (best, half_widths) = if parameters.is_empty() {
        let value = evaluator.objective(&[], seed, reps)?;
        ((Vec::new(), value), Vec::new())
    } else {
        let mut objective = |unit: &[f64]| evaluator.objective(unit, seed, reps);
        let searched = optimizer::minimize(&mut objective, &unit_start, options.max_evaluations)?;
        let best = match evaluator.best.clone() {
            Some(best) if best.1 < searched.1 || searched.1.is_infinite() => best,
            _ => searched,
        };
        // Identifiability: how far each parameter can move before the
        // objective rises by one squared tolerance.
        let mut half_widths = vec![f64::NAN; parameters.len()];
        if !evaluator.capped {
            let mut objective = |unit: &[f64]| evaluator.objective(unit, seed, reps);
            let widths = hessian::unit_half_widths(&mut objective, &best.0)?;
            if !evaluator.capped {
                half_widths = widths;
            }
        }
        (best, half_widths)
    };
    evaluator.bar.finish_and_clear();
    let stopped = evaluator.capped;

    // Verification at fresh seeds, with more replications, of the values
    // as they will be written.
    let fitted: Vec<f64> = to_values(parameters, &best.0)
        .into_iter()
        .zip(parameters.iter().zip(&whole_numbers))
        .map(|(v, (p, &whole))| written_value(p, v, whole))
        .collect();
    // A target that had no value at any of many points the search tried
    // (a ratio whose denominator is zero everywhere, a group nobody
    // enters) cannot be fitted: say so rather than write a "fitted" file
    // at the start. Below `UNDEFINED_AFTER` evaluations a tiny run may
    // simply not have met the figure yet (a capped search reports
    // `stopped`, as for any target).
    const UNDEFINED_AFTER: usize = 20;
    if evaluator.evaluations >= UNDEFINED_AFTER
        && let Some(t) = targets
            .iter()
            .zip(&evaluator.closest)
            .find_map(|(t, closest)| closest.is_nan().then_some(t))
    {
        return Err(Error::BadArgument {
            option: "--targets".to_string(),
            value: format!("{} row {}", t.file, t.row),
            requirement: format!(
                "names a figure ({},{},{}) that had no value at any of the {} points the \
                 search tried (a ratio whose denominator is zero, or a group no youth enters, in this \
                 scenario): it cannot be fitted; drop the row or change the scenario",
                t.metric, t.group, t.month, evaluator.evaluations
            ),
        });
    }
    let verify_seed = options.seed ^ 0x005e_ed0f_ca1b_0001;
    let means = evaluator.means(&fitted, verify_seed, options.verify_reps, options.progress)?;
    let target_results = targets
        .iter()
        .zip(means)
        .zip(&evaluator.closest)
        .map(|((t, (mean, se)), &closest)| {
            let status = if stopped {
                TargetStatus::Stopped
            } else if (mean - t.target).abs() <= t.tolerance {
                TargetStatus::Within
            } else if (closest - t.target).abs() <= t.tolerance {
                TargetStatus::Conflict
            } else {
                TargetStatus::Unreachable
            };
            TargetResult {
                target: t.clone(),
                achieved: mean,
                lower: mean - crate::measure::stats::Z95 * se,
                upper: mean + crate::measure::stats::Z95 * se,
                status,
                closest,
            }
        })
        .collect();
    let parameter_results = parameters
        .iter()
        .zip(start)
        .zip(fitted)
        .zip(half_widths)
        .zip(whole_numbers)
        .map(
            |((((p, start), fitted), unit_half_width), whole_number)| ParameterResult {
                parameter: p.clone(),
                start,
                fitted,
                whole_number,
                half_width: unit_half_width * (p.high - p.low),
                // NaN when stopped: not measured, not flat.
                flat: unit_half_width > 0.25,
            },
        )
        .collect();
    Ok(Calibration {
        parameters: parameter_results,
        targets: target_results,
        objective: best.1,
        evaluations: evaluator.evaluations,
        stopped,
    })
}

pub use crate::output::csv::CALIBRATION_HEADER;
use crate::output::csv::number_field;

/// Writes `calibration.csv`: each target, the verified mean with its 95%
/// interval, its status, and the closest value the search reached.
pub fn write_calibration(out: &mut impl Write, calibration: &Calibration) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(CALIBRATION_HEADER.split(','))?;
    for r in &calibration.targets {
        let t = &r.target;
        writer.write_record([
            t.metric.clone(),
            t.group.clone(),
            t.month.clone(),
            t.target.to_string(),
            t.tolerance.to_string(),
            number_field(r.achieved),
            number_field(r.lower),
            number_field(r.upper),
            r.status.name().to_string(),
            number_field(r.closest),
            t.source.clone(),
        ])?;
    }
    writer.flush()
}
