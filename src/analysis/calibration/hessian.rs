//! Identifiability: the objective's Hessian at the fit by central
//! differences, and how far each parameter can move before the objective
//! rises by one squared tolerance.

use crate::error::Result;

/// Identifiability: the objective's Hessian at the fit, by central
/// differences 5% of the range wide (the stencil kept inside the cube).
/// Near the minimum f rises by (1/2) d'Hd; the largest move of parameter
/// i, the others re-fitted, before f rises by 1 is sqrt(2 (H^-1)_ii). A
/// Hessian that is not positive definite has a flat (or noise-dominated)
/// direction: every parameter is then reported flat. Returns the
/// half-widths in the unit cube, infinite when flat.
#[allow(clippy::needless_range_loop)]
pub(super) fn unit_half_widths(
    objective: &mut dyn FnMut(&[f64]) -> Result<f64>,
    best: &[f64],
) -> Result<Vec<f64>> {
    const PROBE: f64 = 0.05;
    let d = best.len();
    let center: Vec<f64> = best.iter().map(|x| x.clamp(PROBE, 1.0 - PROBE)).collect();
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
    Ok(match invert_positive_definite(&hessian) {
        Some(inverse) => (0..d).map(|i| (2.0 * inverse[i][i]).sqrt()).collect(),
        None => vec![f64::INFINITY; d],
    })
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
