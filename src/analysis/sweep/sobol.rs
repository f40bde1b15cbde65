//! Variance-based sensitivity: first-order and total Sobol indices of
//! chosen outputs, from Saltelli's sampling and Jansen's estimators, with
//! bootstrap intervals.
//!
//! Two independent N x d samples A and B of the parameters (uniform within
//! their bounds) and, for each parameter i, the matrix A_B^i (A with column
//! i from B) give N(d+2) points. With f the output's mean over replications
//! at a point and V the variance of f over A and B:
//!
//! - first order (Jansen 1999): S_i = (V - mean((f(B) - f(A_B^i))^2) / 2) / V,
//!   the share of the output's variance due to parameter i alone;
//! - total (Jansen 1999): ST_i = mean((f(A) - f(A_B^i))^2) / 2 / V, the share
//!   due to parameter i with all its interactions.
//!
//! Intervals: 2.5% and 97.5% quantiles over bootstrap resamples of the N
//! rows. Each f is itself a Monte Carlo mean: its noise (reduced by common
//! random numbers across points) adds to V and to the total indices; use
//! enough replications that it is small beside the parameters' effects.
//!
//! Saltelli's points themselves are drawn in `sampling.rs`.

use std::io::{self, Write};

use crate::output::csv::number_field;

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::measure::stats::quantile_sorted;
use crate::model::draws::open01;

/// First-order and total indices of every parameter from the outputs at
/// Saltelli's points, for the rows `rows` (indices into 0..N).
fn jansen(f: &[f64], n: usize, d: usize, rows: &[usize]) -> Vec<(f64, f64)> {
    let m = rows.len() as f64;
    let (a, b) = (&f[..n], &f[n..2 * n]);
    let all: Vec<f64> = rows.iter().flat_map(|&j| [a[j], b[j]]).collect();
    let mean = all.iter().sum::<f64>() / all.len() as f64;
    let variance = all.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / all.len() as f64;
    (0..d)
        .map(|i| {
            let ab = &f[(2 + i) * n..(3 + i) * n];
            let first = rows.iter().map(|&j| (b[j] - ab[j]).powi(2)).sum::<f64>() / (2.0 * m);
            let total = rows.iter().map(|&j| (a[j] - ab[j]).powi(2)).sum::<f64>() / (2.0 * m);
            ((variance - first) / variance, total / variance)
        })
        .collect()
}

/// One parameter's indices for one output.
#[derive(Debug, Clone, PartialEq)]
pub struct Indices {
    pub output: String,
    pub parameter: String,
    pub first_order: f64,
    pub first_lower: f64,
    pub first_upper: f64,
    pub total: f64,
    pub total_lower: f64,
    pub total_upper: f64,
}

/// Sobol indices of one output from its values at every point, with
/// bootstrap intervals (`resamples` draws of the N rows, seeded).
pub fn indices(
    output: &str,
    parameters: &[String],
    f: &[f64],
    n: usize,
    resamples: usize,
    seed: u64,
) -> Vec<Indices> {
    let d = parameters.len();
    let all_rows: Vec<usize> = (0..n).collect();
    let estimate = jansen(f, n, d, &all_rows);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut boot: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); d];
    let mut rows = vec![0; n];
    for _ in 0..resamples {
        for r in rows.iter_mut() {
            *r = ((open01(&mut rng) * n as f64) as usize).min(n - 1);
        }
        for (i, (s, st)) in jansen(f, n, d, &rows).into_iter().enumerate() {
            boot[i].0.push(s);
            boot[i].1.push(st);
        }
    }
    parameters
        .iter()
        .enumerate()
        .map(|(i, parameter)| {
            let interval = |values: &mut Vec<f64>| {
                values.retain(|v| v.is_finite());
                values.sort_by(f64::total_cmp);
                if values.is_empty() {
                    (f64::NAN, f64::NAN)
                } else {
                    (
                        quantile_sorted(values, 0.025),
                        quantile_sorted(values, 0.975),
                    )
                }
            };
            let (first_lower, first_upper) = interval(&mut boot[i].0);
            let (total_lower, total_upper) = interval(&mut boot[i].1);
            Indices {
                output: output.to_string(),
                parameter: parameter.clone(),
                first_order: estimate[i].0,
                first_lower,
                first_upper,
                total: estimate[i].1,
                total_lower,
                total_upper,
            }
        })
        .collect()
}

/// Header of `sensitivity.csv` (kept with every header in `output::csv`,
/// where the report reads it too).
pub use crate::output::csv::SENSITIVITY_HEADER;

/// Writes `sensitivity.csv` (`output` is `metric,group,month`); an undefined
/// index (no variance) is left empty.
pub fn write_sensitivity(out: &mut impl Write, rows: &[Indices]) -> io::Result<()> {
    writeln!(out, "{SENSITIVITY_HEADER}")?;
    for r in rows {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            r.output,
            r.parameter,
            number_field(r.first_order),
            number_field(r.first_lower),
            number_field(r.first_upper),
            number_field(r.total),
            number_field(r.total_lower),
            number_field(r.total_upper)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::sampling::saltelli_points;
    use super::*;

    /// The Ishigami function (a = 7, b = 0.1) on [-pi, pi]^3, whose indices
    /// are known: S = (0.3139, 0.4424, 0), ST = (0.5576, 0.4424, 0.2437).
    #[test]
    fn jansen_recovers_the_ishigami_indices() {
        let pi = std::f64::consts::PI;
        let n = 20_000;
        let bounds = [(-pi, pi, false); 3];
        let points = saltelli_points(n, &bounds, 7);
        let f: Vec<f64> = points
            .iter()
            .map(|p| {
                let x: Vec<f64> = p.iter().map(|v| v.as_float().unwrap()).collect();
                x[0].sin() + 7.0 * x[1].sin().powi(2) + 0.1 * x[2].powi(4) * x[0].sin()
            })
            .collect();
        let names: Vec<String> = ["x1", "x2", "x3"].iter().map(|s| s.to_string()).collect();
        let result = indices("f", &names, &f, n, 200, 3);
        let expected = [(0.3139, 0.5576), (0.4424, 0.4424), (0.0, 0.2437)];
        for (r, (s, st)) in result.iter().zip(expected) {
            // With N = 20,000 the estimators' standard errors are about
            // 0.005-0.01; 0.03 is over three of them.
            assert!((r.first_order - s).abs() < 0.03, "{r:?}");
            assert!((r.total - st).abs() < 0.03, "{r:?}");
            assert!(
                r.first_lower <= r.first_order && r.first_order <= r.first_upper,
                "{r:?}"
            );
        }
    }
}
