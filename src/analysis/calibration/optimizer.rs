//! The search: Nelder-Mead in the unit cube of the parameters' bounds,
//! restarted from the best point. Pure numerics on any objective.

use crate::error::Result;

/// Nelder-Mead from `start`, restarted from the best point with a smaller
/// simplex while a restart still improves the objective, within
/// `max_evaluations` in all. Returns the best point and value.
pub(super) fn minimize(
    f: &mut dyn FnMut(&[f64]) -> Result<f64>,
    start: &[f64],
    max_evaluations: usize,
) -> Result<(Vec<f64>, f64)> {
    let mut best = (start.to_vec(), f64::INFINITY);
    let mut step = 0.1;
    let mut used = 0;
    for _restart in 0..4 {
        let remaining = max_evaluations.saturating_sub(used);
        if remaining <= start.len() + 1 {
            break;
        }
        let (x, fx, n) = nelder_mead(f, &best.0, step, remaining, 1e-4)?;
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
    Ok(best)
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
}
