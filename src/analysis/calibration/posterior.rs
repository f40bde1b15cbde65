//! `calibrate --posterior N`: the posterior of the fitted parameters by
//! approximate Bayesian computation, and `posterior.csv`, the draws that
//! `run --parameters` carries into predictions.
//!
//! The method is rejection ABC with local-linear regression adjustment
//! (Beaumont, Zhang & Balding 2002, "Approximate Bayesian computation in
//! population genetics", Genetics 162:2025-2035), chosen over ABC-SMC
//! because it is cheap and robust: one batch of simulations from the prior,
//! no tuning of kernels or tolerance schedules, every simulation
//! independent of the others (so the posterior does not depend on their
//! order or on the thread count), and the regression corrects most of the
//! error of a non-zero tolerance.
//!
//! The model of the data: each published figure `t` is the model's mean
//! `f(theta)` plus an error with the target's tolerance as its standard
//! deviation, `t ~ N(f(theta), tolerance^2)` (the tolerance read as the
//! figure's standard error, as in the targets files). ABC needs simulated
//! figures drawn from that model, so each simulation's mean over `--reps`
//! replications gets a normal error of the tolerance added ("noisy ABC",
//! Wilkinson 2013, "Approximate Bayesian computation (ABC) gives exact
//! results under the assumption of model error", Stat. Appl. Genet. Mol.
//! Biol. 12:129-141). `--reps` should make the simulation's own Monte Carlo
//! error small next to the tolerances; what remains of it widens the
//! posterior slightly, never narrows it.
//!
//! The steps, for N accepted draws:
//!
//! 1. [`PRIOR_DRAWS_PER_ACCEPTED`] x N parameter values from the prior,
//!    uniform on the `--fit` bounds; draw `i` takes its values, its
//!    simulation seed and its figures' errors from keyed streams of
//!    (seed, i), so it is the same whatever else runs.
//! 2. Each simulated: its figures in tolerances from the targets,
//!    `z_k = (simulated_k + error_k - target_k) / tolerance_k`, and the
//!    distance `|z|` (Euclidean).
//! 3. The N nearest accepted; the tolerance `delta` is the distance of the
//!    nearest one refused, and each accepted draw weighs
//!    `1 - (distance / delta)^2` (the Epanechnikov kernel, as Beaumont et
//!    al.).
//! 4. On the logit scale of each parameter within its bounds (so adjusted
//!    values stay inside them), a weighted least-squares regression of the
//!    parameter on `z`; each draw is moved to where the regression puts it
//!    at `z = 0`, the published figures: `logit(theta) - beta' z`.
//!
//! The posterior mean and 90% interval are the weighted mean and the
//! weighted 5% and 95% quantiles of the adjusted draws.

use std::io::{self, Write};
use std::path::Path;

use super::parameters::FitParameter;
use super::targets::{Target, locate, mean_and_error};
use crate::cancel::Cancel;
use crate::engine::{self, RunOptions, progress_bar};
use crate::error::{Error, Result};
use crate::model::draws::{keyed_uniform, normal_quantile, replication_key};
use crate::output::csv::number_field;
use crate::scenario::Scenario;

/// Simulations from the prior per accepted draw: the N nearest of 10 x N
/// are kept (the 10% acceptance of Beaumont et al.'s examples; the
/// regression adjustment makes the result insensitive to it within a
/// wide range).
pub const PRIOR_DRAWS_PER_ACCEPTED: usize = 10;

/// Most accepted draws `--posterior` takes: 10,000 (100,000 simulations).
/// A 90% interval's ends are estimated to within a few percent of the
/// posterior's spread from a few hundred draws; more is only cost.
pub const MAX_POSTERIOR_DRAWS: usize = 10_000;

/// Keys of the posterior's streams, apart from every model stream (they
/// are mixed with the seed, never with a replication key).
const PRIOR_STREAM: u64 = 0x0ab0_0001;
const ERROR_STREAM: u64 = 0x0ab0_0002;
const SEED_STREAM: u64 = 0x0ab0_0003;

/// How to sample the posterior.
#[derive(Debug, Clone)]
pub struct PosteriorOptions {
    pub seed: u64,
    /// Replications per simulation.
    pub reps: u64,
    /// Accepted draws (N).
    pub draws: usize,
    pub threads: usize,
    pub progress: bool,
    pub cancel: Cancel,
}

/// One accepted draw.
#[derive(Debug, Clone, PartialEq)]
pub struct PosteriorDraw {
    /// Its index among the prior draws (which fixes its streams).
    pub draw: usize,
    /// The regression-adjusted values, one per fitted parameter.
    pub values: Vec<f64>,
    /// Its Epanechnikov weight, in (0, 1].
    pub weight: f64,
    /// Its distance to the targets, in tolerances.
    pub distance: f64,
}

/// One parameter's posterior summary.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterPosterior {
    pub key: String,
    pub mean: f64,
    /// The weighted 5% and 95% quantiles: the 90% interval.
    pub q05: f64,
    pub q95: f64,
}

/// The posterior sample.
#[derive(Debug, Clone, PartialEq)]
pub struct Posterior {
    pub keys: Vec<String>,
    /// Accepted draws, by prior draw index.
    pub draws: Vec<PosteriorDraw>,
    /// Simulations run (prior draws).
    pub simulations: usize,
    /// The tolerance `delta`: the distance of the nearest refused draw.
    pub tolerance: f64,
    pub summaries: Vec<ParameterPosterior>,
}

/// Checks `--posterior N` before any work: 1 to [`MAX_POSTERIOR_DRAWS`].
pub fn check_draws(draws: u64) -> Result<usize> {
    if draws == 0 || draws > MAX_POSTERIOR_DRAWS as u64 {
        return Err(Error::BadArgument {
            option: "--posterior".to_string(),
            value: draws.to_string(),
            requirement: format!(
                "is the number of accepted posterior draws: from 1 to {MAX_POSTERIOR_DRAWS} \
                 (each simulates {PRIOR_DRAWS_PER_ACCEPTED} prior draws)"
            ),
        });
    }
    Ok(draws as usize)
}

/// Accepted draws per coefficient of the regression adjustment, at least.
///
/// Why: the adjustment fits one coefficient per target and an intercept;
/// with as many draws as coefficients it fits them exactly, every residual
/// vanishes and the posterior collapses to a point that claims certainty
/// (an adversarial review found a 90% interval of zero width at N = 10
/// with 16 targets). Five draws per coefficient keeps residual degrees of
/// freedom at four fifths of the draws, the usual rule of thumb for a
/// regression's sample size.
pub const MIN_DRAWS_PER_COEFFICIENT: usize = 5;

/// Checks `--posterior N` against the number of targets before any work:
/// the regression adjustment needs [`MIN_DRAWS_PER_COEFFICIENT`] accepted
/// draws per target and intercept.
pub fn check_draws_for_targets(draws: usize, targets: usize) -> Result<()> {
    let least = MIN_DRAWS_PER_COEFFICIENT * (targets + 1);
    if draws < least {
        return Err(Error::BadArgument {
            option: "--posterior".to_string(),
            value: draws.to_string(),
            requirement: format!(
                "is too few accepted draws for {targets} targets: the regression adjustment \
                 fits one coefficient per target and an intercept ({}), and needs at least \
                 {MIN_DRAWS_PER_COEFFICIENT} draws per coefficient, {least} here, or its \
                 posterior collapses to a point; raise --posterior to {least} or more",
                targets + 1
            ),
        });
    }
    Ok(())
}

/// Samples the posterior of `parameters` given `targets` (see the module).
pub fn posterior(
    text: &str,
    origin: &str,
    overrides: &[String],
    parameters: &[FitParameter],
    targets: &[Target],
    options: &PosteriorOptions,
) -> Result<Posterior> {
    let accepted = check_draws(options.draws as u64)?;
    check_draws_for_targets(accepted, targets.len())?;
    let simulations = accepted * PRIOR_DRAWS_PER_ACCEPTED;
    let bar = progress_bar(simulations as u64, options.progress, "prior draws");
    let mut unit = Vec::with_capacity(simulations);
    let mut z = Vec::with_capacity(simulations);
    for i in 0..simulations {
        let (u, zi) = simulate_draw(text, origin, overrides, parameters, targets, options, i)?;
        unit.push(u);
        z.push(zi);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let distances: Vec<f64> = z
        .iter()
        .map(|zi| {
            let d = zi.iter().map(|v| v * v).sum::<f64>().sqrt();
            if d.is_finite() { d } else { f64::INFINITY }
        })
        .collect();
    let mut order: Vec<usize> = (0..simulations).collect();
    order.sort_by(|&a, &b| distances[a].total_cmp(&distances[b]).then(a.cmp(&b)));
    let delta = distances[order[accepted]];
    if !delta.is_finite() {
        return Err(Error::BadArgument {
            option: "--posterior".to_string(),
            value: accepted.to_string(),
            requirement: format!(
                "needs more than {accepted} of its {simulations} prior draws to give every \
                 target a value; the targets are undefined over much of the --fit bounds \
                 (narrow them)"
            ),
        });
    }
    let mut kept: Vec<usize> = order[..accepted].to_vec();
    kept.sort_unstable();
    let weights: Vec<f64> = kept
        .iter()
        .map(|&i| {
            if delta > 0.0 {
                1.0 - (distances[i] / delta).powi(2)
            } else {
                1.0
            }
        })
        .collect();
    let logits: Vec<Vec<f64>> = kept
        .iter()
        .map(|&i| unit[i].iter().map(|&u| logit(u)).collect())
        .collect();
    let kept_z: Vec<&[f64]> = kept.iter().map(|&i| z[i].as_slice()).collect();
    let adjusted = regression_adjust(&logits, &kept_z, &weights);
    let draws: Vec<PosteriorDraw> = kept
        .iter()
        .zip(&adjusted)
        .zip(&weights)
        .map(|((&i, phi), &weight)| PosteriorDraw {
            draw: i,
            values: parameters
                .iter()
                .zip(phi)
                .map(|(p, &v)| p.low + logistic(v) * (p.high - p.low))
                .collect(),
            weight,
            distance: distances[i],
        })
        .collect();
    let summaries = parameters
        .iter()
        .enumerate()
        .map(|(j, p)| {
            let sample: Vec<(f64, f64)> = draws.iter().map(|d| (d.values[j], d.weight)).collect();
            let total: f64 = weights.iter().sum();
            ParameterPosterior {
                key: p.key.clone(),
                mean: sample.iter().map(|(v, w)| v * w).sum::<f64>() / total,
                q05: weighted_quantile(&sample, 0.05),
                q95: weighted_quantile(&sample, 0.95),
            }
        })
        .collect();
    Ok(Posterior {
        keys: parameters.iter().map(|p| p.key.clone()).collect(),
        draws,
        simulations,
        tolerance: delta,
        summaries,
    })
}

/// Prior draw `i`: its parameters in the unit cube, and its simulated
/// figures with their errors, in tolerances from the targets (NaN where a
/// figure is undefined).
fn simulate_draw(
    text: &str,
    origin: &str,
    overrides: &[String],
    parameters: &[FitParameter],
    targets: &[Target],
    options: &PosteriorOptions,
    i: usize,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let i = i as u64;
    let unit: Vec<f64> = (0..parameters.len() as u64)
        .map(|j| keyed_uniform(&[options.seed, PRIOR_STREAM, i, j]))
        .collect();
    let mut all = overrides.to_vec();
    for (p, u) in parameters.iter().zip(&unit) {
        all.push(format!("{}={}", p.key, p.low + u * (p.high - p.low)));
    }
    let scenario = Scenario::from_toml_str(text, origin, &all)?;
    let run = engine::run(
        &scenario,
        &RunOptions {
            seed: replication_key(options.seed ^ SEED_STREAM, i),
            reps: options.reps,
            threads: options.threads,
            progress: false,
            agents_reps: 0,
            cancel: options.cancel.clone(),
        },
    )?;
    let mut z = Vec::with_capacity(targets.len());
    for (k, t) in targets.iter().enumerate() {
        let (mean, _) = mean_and_error(&run.values, locate(&run.catalog, t)?);
        let error = normal_quantile(keyed_uniform(&[options.seed, ERROR_STREAM, i, k as u64]));
        z.push((mean - t.target) / t.tolerance + error);
    }
    Ok((unit, z))
}

fn logit(u: f64) -> f64 {
    (u / (1.0 - u)).ln()
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Beaumont et al.'s adjustment: for each parameter (a column of `y`), the
/// weighted least-squares fit `y = a + b' z`, and `y - b' z`, its value
/// moved to `z = 0`. A regression the draws cannot determine (fewer draws
/// than coefficients, or collinear figures) leaves the values unadjusted
/// along the directions it cannot resolve (a small ridge keeps the normal
/// equations solvable).
fn regression_adjust(y: &[Vec<f64>], z: &[&[f64]], weights: &[f64]) -> Vec<Vec<f64>> {
    let columns = z.first().map_or(0, |r| r.len()) + 1;
    let row = |i: usize| -> Vec<f64> {
        let mut x = Vec::with_capacity(columns);
        x.push(1.0);
        x.extend_from_slice(z[i]);
        x
    };
    // X'WX, shared by every parameter.
    let mut xtwx = vec![vec![0.0; columns]; columns];
    for (i, &w) in weights.iter().enumerate() {
        let x = row(i);
        for a in 0..columns {
            for b in 0..columns {
                xtwx[a][b] += w * x[a] * x[b];
            }
        }
    }
    // A ridge of 1e-9 of the diagonal's scale, on the slopes only.
    let scale = (1..columns).map(|a| xtwx[a][a]).fold(0.0, f64::max);
    for (a, line) in xtwx.iter_mut().enumerate().skip(1) {
        line[a] += 1e-9 * scale.max(1e-300);
    }
    let parameters = y.first().map_or(0, Vec::len);
    let mut adjusted = y.to_vec();
    for j in 0..parameters {
        let mut xtwy = vec![0.0; columns];
        for (i, &w) in weights.iter().enumerate() {
            let x = row(i);
            for a in 0..columns {
                xtwy[a] += w * x[a] * y[i][j];
            }
        }
        let Some(beta) = solve(xtwx.clone(), xtwy) else {
            continue;
        };
        for (i, values) in adjusted.iter_mut().enumerate() {
            let shift: f64 = z[i].iter().zip(&beta[1..]).map(|(z, b)| z * b).sum();
            values[j] -= shift;
        }
    }
    adjusted
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting; `None`
/// when `a` is singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 || !a[pivot][col].is_finite() {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (upper, lower) = a.split_at_mut(col + 1);
        let pivot_row = &upper[col];
        for (offset, row) in lower.iter_mut().enumerate() {
            let factor = row[col] / pivot_row[col];
            for (value, above) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *value -= factor * above;
            }
            b[col + 1 + offset] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let rest: f64 = (r + 1..n).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - rest) / a[r][r];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// The weighted `p` quantile of (value, weight) pairs: the smallest value
/// whose cumulative weight reaches `p` of the total (the inverse of the
/// weighted empirical distribution function).
pub fn weighted_quantile(sample: &[(f64, f64)], p: f64) -> f64 {
    let mut sorted = sample.to_vec();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = sorted.iter().map(|s| s.1).sum();
    let mut cumulative = 0.0;
    for (value, weight) in &sorted {
        cumulative += weight;
        if cumulative >= p * total {
            return *value;
        }
    }
    sorted.last().map_or(f64::NAN, |s| s.0)
}

/// The header of `posterior.csv`: `draw`, one column per fitted key,
/// `weight`, `distance`.
pub fn posterior_header(keys: &[String]) -> Vec<String> {
    let mut header = vec!["draw".to_string()];
    header.extend(keys.iter().cloned());
    header.extend(["weight".to_string(), "distance".to_string()]);
    header
}

/// Writes `posterior.csv`: one row per accepted draw, by draw index.
pub fn write_posterior(out: &mut impl Write, posterior: &Posterior) -> io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(posterior_header(&posterior.keys))?;
    for d in &posterior.draws {
        let mut row = vec![d.draw.to_string()];
        row.extend(d.values.iter().map(|&v| number_field(v)));
        row.push(number_field(d.weight));
        row.push(number_field(d.distance));
        writer.write_record(row)?;
    }
    writer.flush()
}

/// Parameter draws for `run --parameters`: a posterior.csv (or any CSV of
/// the same form), checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ParameterDraws {
    /// The scenario keys, in the file's order.
    pub keys: Vec<String>,
    /// One row of values per draw, as written (TOML values for `--set`).
    pub values: Vec<Vec<String>>,
    pub weights: Vec<f64>,
    /// SHA-256 of the file's bytes, for the manifest.
    pub sha256: String,
}

/// Reads a parameters file: a `weight` column (non-negative numbers, not
/// all zero), optional `draw` and `distance` columns (ignored), and every
/// other column a scenario key (checked by the caller, through `--set`).
pub fn read_parameters(path: &Path) -> Result<ParameterDraws> {
    let bad = |requirement: String| Error::BadArgument {
        option: "--parameters".to_string(),
        value: path.display().to_string(),
        requirement,
    };
    let bytes = crate::scenario::bounds::read_input_file(path, "parameters")
        .map_err(|e| bad(format!("cannot read it: {e}")))?;
    let sha256 = crate::scenario::hash_text(&String::from_utf8_lossy(&bytes));
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    // Names trimmed once, for every check below (`draw, weight` is read
    // as `draw,weight`).
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| bad(e.to_string()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let weight_column = headers.iter().position(|h| h == "weight").ok_or_else(|| {
        bad(
            "has no `weight` column (expected posterior.csv's columns: draw, one column per \
             scenario key, weight, distance)"
                .to_string(),
        )
    })?;
    let key_columns: Vec<usize> = (0..headers.len())
        .filter(|&c| c != weight_column && !matches!(headers[c].as_str(), "draw" | "distance"))
        .collect();
    if key_columns.is_empty() {
        return Err(bad(
            "has no parameter columns: besides draw, weight and distance, each column names a \
             scenario key"
                .to_string(),
        ));
    }
    let keys: Vec<String> = key_columns.iter().map(|&c| headers[c].clone()).collect();
    for (i, key) in keys.iter().enumerate() {
        if keys[..i].contains(key) {
            return Err(bad(format!("has the column `{key}` twice")));
        }
    }
    let mut values = Vec::new();
    let mut weights = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        let weight = record[weight_column]
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|w| w.is_finite() && *w >= 0.0)
            .ok_or_else(|| {
                bad(format!(
                    "row {}: weight = {:?} must be a non-negative number",
                    line + 2,
                    &record[weight_column]
                ))
            })?;
        weights.push(weight);
        values.push(
            key_columns
                .iter()
                .map(|&c| record[c].trim().to_string())
                .collect(),
        );
    }
    if values.is_empty() {
        return Err(bad("holds no draws".to_string()));
    }
    if weights.iter().all(|&w| w == 0.0) {
        return Err(bad(
            "has every weight 0; at least one draw must weigh more than 0".to_string(),
        ));
    }
    Ok(ParameterDraws {
        keys,
        values,
        weights,
        sha256,
    })
}

impl ParameterDraws {
    /// Draw `row` as `--set` arguments.
    pub fn overrides(&self, row: usize) -> Vec<String> {
        self.keys
            .iter()
            .zip(&self.values[row])
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_quantiles_invert_the_weighted_distribution() {
        let sample = [(3.0, 1.0), (1.0, 1.0), (2.0, 2.0)];
        assert_eq!(weighted_quantile(&sample, 0.05), 1.0);
        assert_eq!(weighted_quantile(&sample, 0.25), 1.0);
        assert_eq!(weighted_quantile(&sample, 0.5), 2.0);
        assert_eq!(weighted_quantile(&sample, 0.95), 3.0);
    }

    /// Draws of y = 2 + 3 z + noise-free: the adjustment moves every draw
    /// to 2, the value at z = 0.
    #[test]
    fn the_regression_moves_draws_to_the_observed_figures() {
        let z: Vec<Vec<f64>> = (0..20).map(|i| vec![i as f64 / 10.0 - 1.0]).collect();
        let y: Vec<Vec<f64>> = z.iter().map(|z| vec![2.0 + 3.0 * z[0]]).collect();
        let zs: Vec<&[f64]> = z.iter().map(Vec::as_slice).collect();
        let weights: Vec<f64> = (0..20).map(|i| 0.5 + i as f64 / 40.0).collect();
        for adjusted in regression_adjust(&y, &zs, &weights) {
            assert!((adjusted[0] - 2.0).abs() < 1e-6, "{adjusted:?}");
        }
    }
}
