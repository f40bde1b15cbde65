//! How a design's points are generated from the checked parameters: a
//! range's evenly spaced values, a grid's cartesian product, Latin
//! hypercube points and Saltelli's points for Sobol indices.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use toml::Value;

use crate::model::draws::open01;

fn number_value(x: f64, integer: bool) -> Value {
    if integer {
        Value::Integer(x.round() as i64)
    } else {
        Value::Float(x)
    }
}

/// A range's `steps` values, evenly spaced from `start` to `stop` (`start`
/// alone for one step).
pub(super) fn range(start: f64, stop: f64, steps: usize, integer: bool) -> Vec<Value> {
    (0..steps)
        .map(|k| {
            let x = if steps == 1 {
                start
            } else {
                start + (stop - start) * k as f64 / (steps - 1) as f64
            };
            number_value(x, integer)
        })
        .collect()
}

/// The `total` points of a grid, the cartesian product of `choices` (the
/// first parameter varies slowest); `total` is the product of their lengths.
pub(super) fn grid(choices: &[Vec<Value>], total: usize) -> Vec<Vec<Value>> {
    (0..total)
        .map(|mut index| {
            let mut point = vec![Value::Integer(0); choices.len()];
            for (slot, options) in point.iter_mut().zip(choices).rev() {
                *slot = options[index % options.len()].clone();
                index /= options.len();
            }
            point
        })
        .collect()
}

/// `n` Latin hypercube points within `bounds`: each parameter's range cut
/// into `n` equal strata, one point per stratum, strata paired at random.
pub(super) fn latin_hypercube(n: usize, bounds: &[(f64, f64, bool)], seed: u64) -> Vec<Vec<Value>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let columns: Vec<Vec<f64>> = bounds
        .iter()
        .map(|&(low, high, _)| {
            let mut strata: Vec<usize> = (0..n).collect();
            // Fisher-Yates with the project's generator.
            for i in (1..n).rev() {
                let j = (open01(&mut rng) * (i + 1) as f64) as usize;
                strata.swap(i, j.min(i));
            }
            strata
                .into_iter()
                .map(|s| low + (high - low) * (s as f64 + open01(&mut rng)) / n as f64)
                .collect()
        })
        .collect();
    (0..n)
        .map(|i| {
            columns
                .iter()
                .zip(bounds)
                .map(|(c, &(_, _, integer))| number_value(c[i], integer))
                .collect()
        })
        .collect()
}

/// Saltelli's N(d+2) points: A (rows 0..N), B (N..2N), then A_B^i for each
/// parameter i in turn. `bounds` are (low, high, integer).
pub(super) fn saltelli_points(n: usize, bounds: &[(f64, f64, bool)], seed: u64) -> Vec<Vec<Value>> {
    let d = bounds.len();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let sample = |rng: &mut Xoshiro256PlusPlus| -> Vec<Vec<f64>> {
        (0..n)
            .map(|_| {
                bounds
                    .iter()
                    .map(|&(low, high, _)| low + (high - low) * open01(rng))
                    .collect()
            })
            .collect()
    };
    let a = sample(&mut rng);
    let b = sample(&mut rng);
    let mut rows: Vec<Vec<f64>> = a.iter().chain(&b).cloned().collect();
    for i in 0..d {
        rows.extend(a.iter().zip(&b).map(|(ra, rb)| {
            let mut row = ra.clone();
            row[i] = rb[i];
            row
        }));
    }
    rows.into_iter()
        .map(|row| {
            row.into_iter()
                .zip(bounds)
                .map(|(x, &(_, _, integer))| {
                    if integer {
                        Value::Integer(x.round() as i64)
                    } else {
                        Value::Float(x)
                    }
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Sweep;
    use crate::error::Result;

    fn sweep(spec: &str) -> Result<Sweep> {
        Sweep::from_toml_str(&format!("name = \"s\"\n{spec}"), "s.toml", &[])
    }

    #[test]
    fn latin_hypercube_fills_every_stratum() {
        let s = sweep(
            "[sweep]\ndesign = \"lhs\"\npoints = 10\n[sweep.parameters]\n\"referrals.per_month\" = { low = 0.0, high = 100.0 }\n\"mediators.initial_active\" = { low = 0, high = 50 }\n",
        )
        .unwrap();
        assert_eq!(s.points.len(), 10);
        let mut strata: Vec<usize> = s
            .points
            .iter()
            .map(|p| (p[0].as_float().unwrap() / 10.0) as usize)
            .collect();
        strata.sort();
        assert_eq!(strata, (0..10).collect::<Vec<_>>());
        assert!(
            s.points.iter().all(|p| p[1].as_integer().is_some()),
            "integer keys stay integers"
        );
    }
}
