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

use std::io::{self, Write};
use std::path::Path;

use indicatif::ProgressBar;

use crate::cancel::Cancel;
use crate::engine::{self, RunOptions, progress_bar};
use crate::error::{Error, Result};
use crate::measure::metrics::MetricKey;
use crate::scenario::Scenario;

/// One published figure to reproduce.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub metric: String,
    pub group: String,
    /// Empty for metrics without a month.
    pub month: String,
    pub target: f64,
    pub tolerance: f64,
    pub source: String,
}

/// One parameter to fit, by dotted key, within bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct FitParameter {
    pub key: String,
    pub low: f64,
    pub high: f64,
}

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
}

impl TargetStatus {
    pub fn name(self) -> &'static str {
        match self {
            TargetStatus::Within => "within",
            TargetStatus::Conflict => "conflict",
            TargetStatus::Unreachable => "unreachable",
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
}

/// Reads targets (`metric,group,month,target,tolerance,source`) from a
/// regular file of at most [`crate::scenario::bounds::MAX_INPUT_FILE_BYTES`].
pub fn read_targets(path: &Path) -> Result<Vec<Target>> {
    let bad = |message: String| Error::BadArgument {
        option: "--targets".to_string(),
        value: path.display().to_string(),
        requirement: message,
    };
    // Bounded and regular files only, like scenario files.
    let bytes = crate::scenario::bounds::read_input_file(path, "targets")
        .map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let expected = ["metric", "group", "month", "target", "tolerance", "source"];
    if headers.iter().collect::<Vec<_>>() != expected {
        return Err(bad(format!("must have the columns {}", expected.join(","))));
    }
    let mut targets = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        let number = |i: usize| {
            record[i]
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    bad(format!(
                        "row {}: {} = {:?} is not a number",
                        line + 2,
                        expected[i],
                        &record[i]
                    ))
                })
        };
        let target = Target {
            metric: record[0].trim().to_string(),
            group: record[1].trim().to_string(),
            month: record[2].trim().to_string(),
            target: number(3)?,
            tolerance: number(4)?,
            source: record[5].to_string(),
        };
        if target.tolerance <= 0.0 {
            return Err(bad(format!(
                "row {}: tolerance must be greater than 0",
                line + 2
            )));
        }
        targets.push(target);
    }
    if targets.is_empty() {
        return Err(bad("holds no targets".to_string()));
    }
    Ok(targets)
}

/// Parses `--fit KEY=LOW..HIGH` (the command line's value parser): the
/// error says what is wrong, in plain words.
pub fn parse_fit(text: &str) -> std::result::Result<FitParameter, String> {
    let shape = || {
        "expected KEY=LOW..HIGH, a scenario key and its bounds, \
         e.g. recidivism.baseline_rearrest_12m=0.05..0.4"
            .to_string()
    };
    let (key, range) = text.split_once('=').ok_or_else(shape)?;
    let (low, high) = range.split_once("..").ok_or_else(shape)?;
    let key = key.trim();
    if key.is_empty() {
        return Err(shape());
    }
    let parse = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite());
    match (parse(low), parse(high)) {
        (Some(low), Some(high)) if low < high => Ok(FitParameter {
            key: key.to_string(),
            low,
            high,
        }),
        _ => Err(format!(
            "the bounds `{}` must be two finite numbers with LOW < HIGH, e.g. 0.05..0.4",
            range.trim()
        )),
    }
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
    let catalog = crate::measure::metrics::catalog(base.program_months(), base.randomized());
    for t in targets {
        if find(&catalog, t).is_none() {
            return Err(bad(
                "--targets",
                format!("{},{},{}", t.metric, t.group, t.month),
                "is not a row this scenario reports (see its summary.csv)".to_string(),
            ));
        }
    }
    let tree = toml::Value::try_from(&base.raw).expect("a scenario serializes to TOML");
    for (i, p) in parameters.iter().enumerate() {
        if parameters[..i].iter().any(|q| q.key == p.key) {
            return Err(bad("--fit", p.key.clone(), "is given twice".to_string()));
        }
        match p
            .key
            .split('.')
            .try_fold(&tree, |node, part| node.get(part))
        {
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

/// Evaluates targets' means for parameter values, over fixed seeds.
struct Evaluator<'a> {
    text: &'a str,
    origin: &'a str,
    overrides: &'a [String],
    parameters: &'a [FitParameter],
    targets: &'a [Target],
    threads: usize,
    cancel: Cancel,
    evaluations: usize,
    /// Closest value seen per target.
    closest: Vec<f64>,
    bar: ProgressBar,
}

impl Evaluator<'_> {
    fn scenario(&self, values: &[f64]) -> Result<Scenario> {
        let mut all = self.overrides.to_vec();
        for (p, v) in self.parameters.iter().zip(values) {
            all.push(format!("{}={v}", p.key));
        }
        Scenario::from_toml_str(self.text, self.origin, &all)
    }

    /// Target means (and standard errors) at `values`, over `reps`
    /// replications from `seed`.
    fn means(&mut self, values: &[f64], seed: u64, reps: u64) -> Result<Vec<(f64, f64)>> {
        let scenario = self.scenario(values)?;
        let options = RunOptions {
            seed,
            reps,
            threads: self.threads,
            progress: false,
            agents: false,
            cancel: self.cancel.clone(),
        };
        let run = engine::run(&scenario, &options)?;
        self.targets
            .iter()
            .map(|t| {
                let index = find(&run.catalog, t).ok_or_else(|| Error::BadArgument {
                    option: "--targets".to_string(),
                    value: format!("{},{},{}", t.metric, t.group, t.month),
                    requirement: "is not a row this scenario reports (see its summary.csv)"
                        .to_string(),
                })?;
                let defined: Vec<f64> = run
                    .values
                    .iter()
                    .map(|r| r[index])
                    .filter(|v| v.is_finite())
                    .collect();
                let n = defined.len() as f64;
                if defined.is_empty() {
                    return Ok((f64::NAN, f64::NAN));
                }
                let mean = defined.iter().sum::<f64>() / n;
                let var =
                    defined.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
                Ok((mean, (var / n).sqrt()))
            })
            .collect()
    }

    /// The objective at a point of the unit cube.
    fn objective(&mut self, unit: &[f64], seed: u64, reps: u64) -> Result<f64> {
        let values = to_values(self.parameters, unit);
        let means = self.means(&values, seed, reps)?;
        self.evaluations += 1;
        self.bar.inc(1);
        let mut total = 0.0;
        for (i, (t, (mean, _))) in self.targets.iter().zip(&means).enumerate() {
            if !mean.is_finite() {
                return Ok(f64::INFINITY);
            }
            if (mean - t.target).abs() < (self.closest[i] - t.target).abs()
                || !self.closest[i].is_finite()
            {
                self.closest[i] = *mean;
            }
            total += ((mean - t.target) / t.tolerance).powi(2);
        }
        Ok(total)
    }
}

fn find(catalog: &[MetricKey], t: &Target) -> Option<usize> {
    let month: Option<u32> = if t.month.is_empty() {
        None
    } else {
        Some(t.month.parse().ok()?)
    };
    catalog
        .iter()
        .position(|k| k.metric == t.metric && k.group == t.group && k.month == month)
}

fn to_values(parameters: &[FitParameter], unit: &[f64]) -> Vec<f64> {
    parameters
        .iter()
        .zip(unit)
        .map(|(p, u)| p.low + u.clamp(0.0, 1.0) * (p.high - p.low))
        .collect()
}

/// Nelder-Mead on the unit cube (points are clamped into it), from `start`
/// with an initial simplex of side `step`. Returns the best point and value.
fn nelder_mead(
    f: &mut dyn FnMut(&[f64]) -> Result<f64>,
    start: &[f64],
    step: f64,
    max_evaluations: usize,
    tolerance: f64,
) -> Result<(Vec<f64>, f64, usize)> {
    let d = start.len();
    let clamp = |x: Vec<f64>| {
        x.into_iter()
            .map(|v| v.clamp(0.0, 1.0))
            .collect::<Vec<f64>>()
    };
    let mut simplex: Vec<(Vec<f64>, f64)> = Vec::with_capacity(d + 1);
    let mut used = 0;
    simplex.push((start.to_vec(), f(start)?));
    used += 1;
    for i in 0..d {
        let mut x = start.to_vec();
        x[i] = if x[i] + step <= 1.0 {
            x[i] + step
        } else {
            x[i] - step
        };
        let fx = f(&x)?;
        used += 1;
        simplex.push((x, fx));
    }
    while used < max_evaluations {
        simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
        let spread = simplex[d].1 - simplex[0].1;
        let size = simplex[1..]
            .iter()
            .map(|(x, _)| {
                x.iter()
                    .zip(&simplex[0].0)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f64::max)
            })
            .fold(0.0, f64::max);
        if spread.abs() <= tolerance && size <= tolerance {
            break;
        }
        let centroid: Vec<f64> = (0..d)
            .map(|j| simplex[..d].iter().map(|(x, _)| x[j]).sum::<f64>() / d as f64)
            .collect();
        let toward = |coefficient: f64| -> Vec<f64> {
            clamp(
                centroid
                    .iter()
                    .zip(&simplex[d].0)
                    .map(|(c, w)| c + coefficient * (w - c))
                    .collect(),
            )
        };
        let reflected = toward(-1.0);
        let fr = f(&reflected)?;
        used += 1;
        if fr < simplex[0].1 {
            let expanded = toward(-2.0);
            let fe = f(&expanded)?;
            used += 1;
            simplex[d] = if fe < fr {
                (expanded, fe)
            } else {
                (reflected, fr)
            };
        } else if fr < simplex[d - 1].1 {
            simplex[d] = (reflected, fr);
        } else {
            let contracted = if fr < simplex[d].1 {
                toward(-0.5)
            } else {
                toward(0.5)
            };
            let fc = f(&contracted)?;
            used += 1;
            if fc < simplex[d].1.min(fr) {
                simplex[d] = (contracted, fc);
            } else {
                // Shrink towards the best point.
                let best = simplex[0].0.clone();
                for vertex in simplex.iter_mut().skip(1) {
                    let x = clamp(
                        best.iter()
                            .zip(&vertex.0)
                            .map(|(b, v)| b + 0.5 * (v - b))
                            .collect(),
                    );
                    let fx = f(&x)?;
                    used += 1;
                    *vertex = (x, fx);
                }
            }
        }
    }
    simplex.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (x, fx) = simplex.swap_remove(0);
    Ok((x, fx, used))
}

/// The inverse of a symmetric matrix by Cholesky decomposition; `None` if
/// it is not positive definite. (Matrix arithmetic reads best by index.)
#[allow(clippy::needless_range_loop)]
fn invert_positive_definite(a: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let sum: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let diagonal = a[i][i] - sum;
                if !(diagonal > 0.0 && diagonal.is_finite()) {
                    return None;
                }
                l[i][i] = diagonal.sqrt();
            } else {
                l[i][j] = (a[i][j] - sum) / l[j][j];
            }
        }
    }
    // Solve L L' x = e_k for each unit vector.
    let mut inverse = vec![vec![0.0; n]; n];
    for k in 0..n {
        let mut y = vec![0.0; n];
        for i in 0..n {
            let e = if i == k { 1.0 } else { 0.0 };
            y[i] = (e - (0..i).map(|j| l[i][j] * y[j]).sum::<f64>()) / l[i][i];
        }
        for i in (0..n).rev() {
            inverse[i][k] =
                (y[i] - (i + 1..n).map(|j| l[j][i] * inverse[j][k]).sum::<f64>()) / l[i][i];
        }
    }
    Some(inverse)
}

/// Runs a calibration of the scenario `text` (named `origin`).
#[allow(clippy::needless_range_loop)]
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
        let current = p
            .key
            .split('.')
            .try_fold(&tree, |node, part| node.get(part));
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
    let (seed, reps) = (options.seed, options.reps);
    let mut objective = |unit: &[f64]| evaluator.objective(unit, seed, reps);
    let mut best = (unit_start.clone(), f64::INFINITY);
    let mut step = 0.1;
    let mut used = 0;
    for _restart in 0..4 {
        let remaining = options.max_evaluations.saturating_sub(used);
        if remaining <= parameters.len() + 1 {
            break;
        }
        let (x, fx, n) = nelder_mead(&mut objective, &best.0, step, remaining, 1e-4)?;
        used += n;
        let improved = best.1 - fx;
        if fx < best.1 {
            best = (x, fx);
        }
        if improved < 1e-3 {
            break;
        }
        step /= 2.0;
    }

    // Identifiability: the objective's Hessian at the fit, by central
    // differences 5% of the range wide (the stencil kept inside the cube).
    // Near the minimum f rises by (1/2) d'Hd; the largest move of parameter
    // i, the others re-fitted, before f rises by 1 is sqrt(2 (H^-1)_ii). A
    // Hessian that is not positive definite has a flat (or noise-dominated)
    // direction: every parameter is then reported flat.
    const PROBE: f64 = 0.05;
    let d = parameters.len();
    let center: Vec<f64> = best.0.iter().map(|x| x.clamp(PROBE, 1.0 - PROBE)).collect();
    let f_center = objective(&center)?;
    let mut at = |moves: &[(usize, f64)]| {
        let mut x = center.clone();
        for &(i, delta) in moves {
            x[i] += delta;
        }
        objective(&x)
    };
    let mut hessian = vec![vec![0.0; d]; d];
    for i in 0..d {
        hessian[i][i] =
            (at(&[(i, PROBE)])? - 2.0 * f_center + at(&[(i, -PROBE)])?) / (PROBE * PROBE);
        for j in 0..i {
            let h = (at(&[(i, PROBE), (j, PROBE)])?
                - at(&[(i, PROBE), (j, -PROBE)])?
                - at(&[(i, -PROBE), (j, PROBE)])?
                + at(&[(i, -PROBE), (j, -PROBE)])?)
                / (4.0 * PROBE * PROBE);
            hessian[i][j] = h;
            hessian[j][i] = h;
        }
    }
    let half_widths: Vec<f64> = match invert_positive_definite(&hessian) {
        Some(inverse) => (0..d).map(|i| (2.0 * inverse[i][i]).sqrt()).collect(),
        None => vec![f64::INFINITY; d],
    };
    evaluator.bar.finish_and_clear();

    // Verification at fresh seeds, with more replications, of the values
    // as they will be written.
    let fitted: Vec<f64> = to_values(parameters, &best.0)
        .into_iter()
        .zip(parameters.iter().zip(&whole_numbers))
        .map(|(v, (p, &whole))| written_value(p, v, whole))
        .collect();
    let verify_seed = options.seed ^ 0x005e_ed0f_ca1b_0001;
    let means = evaluator.means(&fitted, verify_seed, options.verify_reps)?;
    let target_results = targets
        .iter()
        .zip(means)
        .zip(&evaluator.closest)
        .map(|((t, (mean, se)), &closest)| {
            let status = if (mean - t.target).abs() <= t.tolerance {
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
                flat: unit_half_width > 0.25,
            },
        )
        .collect();
    Ok(Calibration {
        parameters: parameter_results,
        targets: target_results,
        objective: best.1,
        evaluations: evaluator.evaluations,
    })
}

pub use crate::output::csv::CALIBRATION_HEADER;

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
            r.achieved.to_string(),
            r.lower.to_string(),
            r.upper.to_string(),
            r.status.name().to_string(),
            r.closest.to_string(),
            t.source.clone(),
        ])?;
    }
    writer.flush()
}

/// Significant digits of a fitted float as written.
pub const WRITTEN_DIGITS: usize = 6;

/// The value of a fitted parameter as it is written to the calibrated
/// scenario: a whole-number key rounded to an integer, a float key rounded
/// to [`WRITTEN_DIGITS`] significant digits, either kept within the
/// parameter's bounds (a bound itself where rounding would cross it). The
/// search's best point is rounded *before* the verification run, so the
/// value verified, printed, written to the scenario and reported by
/// `calibration.csv` is one and the same.
pub fn written_value(parameter: &FitParameter, value: f64, whole_number: bool) -> f64 {
    let (low, high) = (parameter.low, parameter.high);
    if whole_number {
        let rounded = value.round();
        return if low.ceil() <= high.floor() {
            rounded.clamp(low.ceil(), high.floor())
        } else {
            rounded
        };
    }
    // The decimal with WRITTEN_DIGITS significant digits, read back: its
    // shortest representation is that decimal.
    let rounded: f64 = format!("{value:.*e}", WRITTEN_DIGITS - 1)
        .parse()
        .unwrap_or(value);
    rounded.clamp(low, high)
}

/// The scenario text with the fitted values in place, each with a comment
/// saying it was fitted, to what and when. Comments and layout elsewhere
/// are kept. Each value is written in its key's schema type
/// ([`ParameterResult::whole_number`]), exactly as [`Calibration`] holds
/// it. A comment ends its line: a fitted key inside an inline table
/// (`offense_log_hr = { burglary = 0.35 }`) is commented after the
/// outermost inline table's closing brace, naming the key, since a comment
/// inside the braces would swallow them. Tables the file lacks are added
/// in the style of their parent: inline within an inline table, dotted
/// within dotted keys, otherwise a standard table.
pub fn calibrated_scenario(
    text: &str,
    calibration: &Calibration,
    targets_name: &str,
    date: &str,
) -> String {
    use toml_edit::{Item, Table, Value};
    let mut document: toml_edit::DocumentMut = text
        .parse()
        .expect("the scenario parsed before calibration");
    // Where each comment goes (the key whose line it ends) and what it says.
    let mut comments: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    for p in &calibration.parameters {
        let parts: Vec<&str> = p.parameter.key.split('.').collect();
        let last = parts[parts.len() - 1];
        let was = format!(
            "was {}; bounds [{}, {}]",
            p.start, p.parameter.low, p.parameter.high
        );
        // The outermost inline table on the path, if any.
        let mut anchor = parts.len();
        let mut node: &dyn toml_edit::TableLike = document.as_table();
        for (i, part) in parts[..parts.len() - 1].iter().enumerate() {
            match node.get(part) {
                Some(Item::Table(table)) => node = table,
                Some(Item::Value(Value::InlineTable(_))) => {
                    anchor = i + 1;
                    break;
                }
                _ => break,
            }
        }
        let (anchor, note) = if anchor == parts.len() {
            (parts.clone(), was)
        } else {
            (
                parts[..anchor].to_vec(),
                format!("{}: {was}", parts[anchor..].join(".")),
            )
        };
        let anchor: Vec<String> = anchor.iter().map(|s| s.to_string()).collect();
        match comments.iter_mut().find(|(a, _)| *a == anchor) {
            Some((_, notes)) => notes.push(note),
            None => comments.push((anchor, vec![note])),
        }

        // The value, keeping the decor it had (inside an inline table).
        let mut node: &mut dyn toml_edit::TableLike = document.as_table_mut();
        let mut inline = false;
        for part in &parts[..parts.len() - 1] {
            if !node.contains_key(part) {
                let child = if inline {
                    Item::Value(Value::InlineTable(toml_edit::InlineTable::new()))
                } else if node.is_dotted() {
                    let mut table = Table::new();
                    table.set_dotted(true);
                    Item::Table(table)
                } else {
                    toml_edit::table()
                };
                node.insert(part, child);
            }
            let child = node.get_mut(part).expect("just inserted");
            inline = inline || matches!(child, Item::Value(Value::InlineTable(_)));
            node = child
                .as_table_like_mut()
                .expect("a fitted key's parent is a table (the scenario read)");
        }
        let mut value = if p.whole_number {
            Value::from(p.fitted as i64)
        } else {
            Value::from(p.fitted)
        };
        // Replaced in place: `insert` would reset the key's formatting (and
        // the comment lines above it).
        match node.get_mut(last) {
            Some(old) => {
                if let Some(old) = old.as_value() {
                    *value.decor_mut() = old.decor().clone();
                }
                *old = Item::Value(value);
            }
            None => {
                node.insert(last, Item::Value(value));
            }
        }
    }
    for (anchor, notes) in comments {
        let mut item = document.as_item_mut();
        for part in &anchor {
            item = &mut item[part.as_str()];
        }
        if let Some(value) = item.as_value_mut() {
            value.decor_mut().set_suffix(format!(
                "  {}{targets_name} on {date} ({})",
                crate::output::ownership::FITTED_MARK,
                notes.join("; ")
            ));
        }
    }
    document.to_string()
}

/// The guard before a calibrated scenario is put in place: `text` must
/// read back as a valid scenario (with the calibration's `--set`
/// overrides) and hold each fitted key, in its schema type, at exactly the
/// value verified. Otherwise the reason.
pub fn check_calibrated(
    text: &str,
    origin: &str,
    overrides: &[String],
    calibration: &Calibration,
) -> std::result::Result<(), String> {
    let scenario = Scenario::from_toml_str(text, origin, overrides)
        .map_err(|e| format!("it does not read as a scenario: {e}"))?;
    let own = toml::Value::Table(
        crate::scenario::parse_table(text, origin)
            .map_err(|e| format!("it does not parse: {e}"))?,
    );
    let read = toml::Value::try_from(&scenario.raw).expect("a scenario serializes to TOML");
    let overridden: Vec<&str> = overrides
        .iter()
        .filter_map(|o| o.split_once('=').map(|(k, _)| k.trim()))
        .collect();
    let at = |tree: &toml::Value, key: &str| match key
        .split('.')
        .try_fold(tree, |node, part| node.get(part))
    {
        Some(toml::Value::Float(v)) => Some((*v, false)),
        Some(toml::Value::Integer(v)) => Some((*v as f64, true)),
        _ => None,
    };
    for p in &calibration.parameters {
        let key = p.parameter.key.as_str();
        let expected = Some((p.fitted, p.whole_number));
        let in_file = at(&own, key);
        if in_file != expected {
            return Err(format!(
                "{key} reads back as {} rather than the verified {}",
                in_file.map_or("nothing".to_string(), |(v, _)| v.to_string()),
                p.fitted
            ));
        }
        // As the scenario reads it, unless a --set names the key itself.
        let set_here = overridden
            .iter()
            .any(|o| key == *o || key.starts_with(&format!("{o}.")));
        if !set_here && at(&read, key).map(|(v, _)| v) != Some(p.fitted) {
            return Err(format!(
                "the scenario reads {key} as {:?} rather than the verified {}",
                at(&read, key).map(|(v, _)| v),
                p.fitted
            ));
        }
    }
    Ok(())
}

/// Today's date (UTC), as YYYY-MM-DD, from the system clock.
pub fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nelder_mead_finds_a_quadratic_minimum() {
        let mut f = |x: &[f64]| Ok((x[0] - 0.3).powi(2) + 2.0 * (x[1] - 0.7).powi(2));
        let (x, fx, _) = nelder_mead(&mut f, &[0.9, 0.1], 0.1, 500, 1e-9).unwrap();
        assert!(
            (x[0] - 0.3).abs() < 1e-3 && (x[1] - 0.7).abs() < 1e-3,
            "{x:?}"
        );
        assert!(fx < 1e-6);
    }

    #[test]
    fn nelder_mead_stays_in_the_cube() {
        // The minimum lies outside: the search ends on the boundary.
        let mut f = |x: &[f64]| Ok((x[0] - 1.5).powi(2));
        let (x, _, _) = nelder_mead(&mut f, &[0.5], 0.1, 200, 1e-9).unwrap();
        assert!((x[0] - 1.0).abs() < 1e-6, "{x:?}");
    }

    #[test]
    fn inverse_of_a_positive_definite_matrix() {
        let a = vec![vec![4.0, 2.0], vec![2.0, 3.0]];
        let inverse = invert_positive_definite(&a).unwrap();
        // [[3, -2], [-2, 4]] / 8
        assert!((inverse[0][0] - 0.375).abs() < 1e-12);
        assert!((inverse[0][1] + 0.25).abs() < 1e-12);
        assert!((inverse[1][1] - 0.5).abs() < 1e-12);
        assert!(
            invert_positive_definite(&[vec![1.0, 1.0], vec![1.0, 1.0]]).is_none(),
            "singular"
        );
    }

    #[test]
    fn fit_arguments_parse() {
        let p = parse_fit("recidivism.risk_log_hr=0.2..1.5").unwrap();
        assert_eq!(
            (p.key.as_str(), p.low, p.high),
            ("recidivism.risk_log_hr", 0.2, 1.5)
        );
        assert!(parse_fit("x=1..1").is_err());
        assert!(parse_fit("x=1").is_err());
        assert!(parse_fit("x=a..2").is_err());
    }

    #[test]
    fn today_is_a_date() {
        let d = today();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"));
    }

    #[test]
    fn calibrated_scenario_keeps_comments_and_marks_fits() {
        let text =
            "# header\n[recidivism]\nrisk_log_hr = 0.8  # assumption\nmale_log_hr = 0.3 # kept\n";
        let calibration = Calibration {
            parameters: vec![
                ParameterResult {
                    parameter: parse_fit("recidivism.risk_log_hr=0..2").unwrap(),
                    start: 0.8,
                    fitted: 1.234_567_89,
                    whole_number: false,
                    half_width: 0.1,
                    flat: false,
                },
                ParameterResult {
                    parameter: parse_fit("treatment.half_life_months=1..20").unwrap(),
                    start: 5.43,
                    fitted: 7.5,
                    whole_number: false,
                    half_width: 1.0,
                    flat: false,
                },
            ],
            targets: Vec::new(),
            objective: 0.0,
            evaluations: 1,
        };
        let out = calibrated_scenario(text, &calibration, "t.csv", "2026-11-21");
        assert!(out.contains("# header"));
        assert!(out.contains("male_log_hr = 0.3 # kept"));
        assert!(
            out.contains(
                "risk_log_hr = 1.23456789  # fitted by vomsim calibrate to t.csv on 2026-11-21"
            ),
            "{out}"
        );
        assert!(
            out.contains("half_life_months = 7.5"),
            "a key absent from the file is added: {out}"
        );
        let parsed = Scenario::from_toml_str(&out, "out.toml", &[]).unwrap();
        assert_eq!(parsed.raw.recidivism.risk_log_hr, 1.234_567_89);
    }

    fn fitted(key: &str, start: f64, fitted: f64, whole_number: bool) -> ParameterResult {
        ParameterResult {
            parameter: parse_fit(&format!("{key}=0..100")).unwrap(),
            start,
            fitted,
            whole_number,
            half_width: 0.1,
            flat: false,
        }
    }

    fn calibration(parameters: Vec<ParameterResult>) -> Calibration {
        Calibration {
            parameters,
            targets: Vec::new(),
            objective: 0.0,
            evaluations: 1,
        }
    }

    #[test]
    fn written_values_are_rounded_within_bounds() {
        let p = parse_fit("a=0.05..0.6").unwrap();
        assert_eq!(written_value(&p, 0.157_581_234_9, false), 0.157581);
        assert_eq!(written_value(&p, 0.599_999_99, false), 0.6);
        let p = parse_fit("a=0..0.12345675").unwrap();
        assert_eq!(
            written_value(&p, 0.12345675, false),
            0.12345675,
            "kept at the bound"
        );
        let p = parse_fit("a=4..12").unwrap();
        assert_eq!(written_value(&p, 9.150_000_1, false), 9.15);
        assert_eq!(written_value(&p, 9.6, true), 10.0);
        assert_eq!(written_value(&p, 12.4, true), 12.0);
    }

    /// The key's schema type decides the literal, not the file's: a float
    /// key written `8` is written back as a float; a whole-number key as an
    /// integer.
    #[test]
    fn fitted_values_are_written_in_the_schema_type() {
        let text = "[referrals]\nper_month = 8\n[mediators]\ninitial_active = 30.0\n";
        let c = calibration(vec![
            fitted("referrals.per_month", 8.0, 9.15, false),
            fitted("mediators.initial_active", 30.0, 41.0, true),
        ]);
        let out = calibrated_scenario(text, &c, "t.csv", "2026-11-21");
        assert!(out.contains("per_month = 9.15  # fitted"), "{out}");
        assert!(out.contains("initial_active = 41  # fitted"), "{out}");
        check_calibrated(&out, "out.toml", &[], &c).unwrap();
    }

    /// Every layout of a fitted key gives a file that parses and reads
    /// back the fitted values; a comment never lands inside braces.
    #[test]
    fn inline_and_dotted_keys_stay_valid() {
        let c = calibration(vec![
            fitted("recidivism.offense_log_hr.burglary", 0.35, 0.340625, false),
            fitted("recidivism.male_log_hr", 0.3, 0.25, false),
        ]);
        for text in [
            "recidivism.offense_log_hr = { burglary = 0.35 }\n",
            "[recidivism]\n# kept\noffense_log_hr = { burglary = 0.35 } # mine\n",
            "recidivism.offense_log_hr.burglary = 0.35\n",
            "[recidivism]\noffense_log_hr.burglary = 0.35\n",
            "recidivism = { offense_log_hr = { burglary = 0.35 } }\n",
            "[recidivism]\noffense_log_hr = {\n  burglary = 0.35, # c\n}\n",
            "recidivism.male_log_hr = 0.3\n",
            "[recidivism]\nmale_log_hr = 0.3\n",
            "name = \"x\"\n",
        ] {
            let out = calibrated_scenario(text, &c, "t.csv", "2026-11-21");
            check_calibrated(&out, "out.toml", &[], &c).unwrap_or_else(|e| panic!("{e}:\n{out}"));
            assert!(out.contains(crate::output::ownership::FITTED_MARK), "{out}");
            if text.contains("# kept") {
                assert!(out.contains("# kept\noffense_log_hr = {"), "{out}");
            }
        }
    }

    /// The guard refuses a text that does not parse or does not hold the
    /// verified value.
    #[test]
    fn the_guard_refuses_what_does_not_read_back() {
        let c = calibration(vec![fitted(
            "recidivism.offense_log_hr.burglary",
            0.35,
            0.340625,
            false,
        )]);
        let broken = "recidivism.offense_log_hr = { burglary = 0.340625  # fitted }\n";
        assert!(check_calibrated(broken, "o.toml", &[], &c).is_err());
        let other = "recidivism.offense_log_hr = { burglary = 0.34 }\n";
        let why = check_calibrated(other, "o.toml", &[], &c).unwrap_err();
        assert!(
            why.contains("0.34 rather than the verified 0.340625"),
            "{why}"
        );
        let c = calibration(vec![fitted("referrals.per_month", 8.0, 9.0, false)]);
        let why = check_calibrated("[referrals]\nper_month = 9\n", "o.toml", &[], &c);
        assert!(why.is_err(), "a float key written as an integer");
    }
}
