//! Identifiability: the objective's Hessian at the fit by central
//! differences, and how far each parameter can move before the objective
//! rises by one squared tolerance.

use crate::error::Result;

/// Identifiability: the objective's Hessian at the fit, by central
/// differences 5% of the range wide (the stencil kept inside the cube).
/// Near the minimum f rises by (1/2) d'Hd; the largest move of parameter
/// i, the others re-fitted, before f rises by 1 is sqrt(2 (H^-1)_ii),
/// i.e. sqrt(2 sum_k v_ik^2 / l_k) over H's eigenvalues l_k and
/// eigenvectors v_k. A direction along which f rises by less than 1 over a
/// quarter of the cube (l_k < 2 / 0.25^2), or not at all, is flat: the
/// parameters it involves (|v_ik| > 0.3) get an infinite half-width, and
/// only they; the others' half-widths come from the remaining directions.
/// Returns the half-widths in the unit cube.
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
    Ok(half_widths_of(&hessian))
}

/// The half-widths of the parameters from a Hessian (see
/// [`unit_half_widths`]).
#[allow(clippy::needless_range_loop)]
fn half_widths_of(hessian: &[Vec<f64>]) -> Vec<f64> {
    if let Some(inverse) = invert_positive_definite(hessian) {
        let widths: Vec<f64> = (0..hessian.len())
            .map(|i| (2.0 * inverse[i][i]).sqrt())
            .collect();
        // Positive definite and nowhere flat: the inverse's diagonal.
        if widths.iter().all(|w| *w <= FLAT_HALF_WIDTH) {
            return widths;
        }
    }
    let (values, vectors) = symmetric_eigen(hessian);
    let d = hessian.len();
    let flat_value = 2.0 / (FLAT_HALF_WIDTH * FLAT_HALF_WIDTH);
    (0..d)
        .map(|i| {
            let mut sum = 0.0;
            for k in 0..d {
                let component = vectors[i][k];
                // Flat (or not a number): the direction pins nothing.
                let pinned = values[k] > flat_value;
                if !pinned {
                    if component.abs() > INVOLVED {
                        return f64::INFINITY;
                    }
                    continue;
                }
                sum += component * component / values[k];
            }
            (2.0 * sum).sqrt()
        })
        .collect()
}

/// A half-width beyond this share of the cube is flat.
const FLAT_HALF_WIDTH: f64 = 0.25;

/// A parameter whose share of a flat direction's unit eigenvector exceeds
/// this is involved in it (0.3: about a tenth of the direction's squared
/// length).
const INVOLVED: f64 = 0.3;

/// Eigenvalues and eigenvectors (as columns: `vectors[i][k]` is component
/// i of vector k) of a symmetric matrix, by cyclic Jacobi rotations: exact
/// to rounding for the few parameters a calibration fits.
#[allow(clippy::needless_range_loop)]
fn symmetric_eigen(a: &[Vec<f64>]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = a.len();
    let mut m = a.to_vec();
    let mut v = vec![vec![0.0; n]; n];
    for i in 0..n {
        v[i][i] = 1.0;
    }
    for _sweep in 0..100 {
        let off: f64 = (0..n)
            .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[i][j] * m[i][j])
            .sum();
        if off < 1e-22 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                if m[p][q].abs() < 1e-300 {
                    continue;
                }
                let theta = (m[q][q] - m[p][p]) / (2.0 * m[p][q]);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (mkp, mkq) = (m[k][p], m[k][q]);
                    m[k][p] = c * mkp - s * mkq;
                    m[k][q] = s * mkp + c * mkq;
                }
                for k in 0..n {
                    let (mpk, mqk) = (m[p][k], m[q][k]);
                    m[p][k] = c * mpk - s * mqk;
                    m[q][k] = s * mpk + c * mqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k][p], v[k][q]);
                    v[k][p] = c * vkp - s * vkq;
                    v[k][q] = s * vkp + c * vkq;
                }
            }
        }
    }
    ((0..n).map(|i| m[i][i]).collect(), v)
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

    #[test]
    fn eigen_decomposition_rebuilds_the_matrix() {
        let a = vec![
            vec![4.0, 1.0, 0.5],
            vec![1.0, 3.0, -0.2],
            vec![0.5, -0.2, 2.0],
        ];
        let (values, vectors) = symmetric_eigen(&a);
        for i in 0..3 {
            for j in 0..3 {
                let rebuilt: f64 = (0..3)
                    .map(|k| vectors[i][k] * values[k] * vectors[j][k])
                    .sum();
                assert!((rebuilt - a[i][j]).abs() < 1e-10, "{i},{j}");
            }
        }
    }

    /// Parameters 0 and 1 trade off exactly (only their sum is pinned);
    /// parameter 2 is pinned on its own: only 0 and 1 are flat, and 2's
    /// half-width is its own curvature's.
    #[test]
    fn a_flat_direction_flags_only_its_parameters() {
        let h = vec![
            vec![100.0, 100.0, 0.0],
            vec![100.0, 100.0, 0.0],
            vec![0.0, 0.0, 200.0],
        ];
        let widths = half_widths_of(&h);
        assert!(
            widths[0].is_infinite() && widths[1].is_infinite(),
            "{widths:?}"
        );
        assert!(
            (widths[2] - (2.0f64 / 200.0).sqrt()).abs() < 1e-9,
            "{widths:?}"
        );
        // Nowhere flat: the inverse's diagonal.
        let h = vec![vec![400.0, 0.0], vec![0.0, 800.0]];
        let widths = half_widths_of(&h);
        assert!((widths[0] - (2.0f64 / 400.0).sqrt()).abs() < 1e-12);
    }
}
