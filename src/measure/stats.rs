//! Summaries across replications: mean, standard deviation and quantiles of
//! each metric, over the replications where it was defined.
//!
//! Sums run serially in replication order, so the result does not depend on
//! how replications were split among threads. Quantiles are R's type 7
//! (numpy's default `linear`), so R and pandas users get the same numbers.

/// The normal quantile of a two-sided 95% interval, 1.96 to full
/// precision (R's `qnorm(0.975)`): the one every interval of vomsim uses.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Summary of one metric across replications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub mean: f64,
    /// Sample standard deviation (n - 1); `None` with fewer than 2 values.
    pub sd: Option<f64>,
    pub q025: f64,
    pub q500: f64,
    pub q975: f64,
    /// Replications where the metric was defined.
    pub reps: usize,
}

/// Summarizes the finite values; `None` if there are none.
pub fn summarize(values: impl IntoIterator<Item = f64>) -> Option<Summary> {
    let finite: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    summarize_finite(&finite)
}

/// [`summarize`] of values already known finite (for a caller that
/// gathered them itself).
pub fn summarize_finite(finite: &[f64]) -> Option<Summary> {
    if finite.is_empty() {
        return None;
    }
    let n = finite.len();
    let mean = finite.iter().sum::<f64>() / n as f64;
    let sd = (n > 1).then(|| {
        let ss: f64 = finite.iter().map(|v| (v - mean).powi(2)).sum();
        (ss / (n - 1) as f64).sqrt()
    });
    let [q025, q500, q975] = quantiles_selected(finite, [0.975, 0.5, 0.025]);
    Some(Summary {
        mean,
        sd,
        q025,
        q500,
        q975,
        reps: n,
    })
}

/// Type-7 quantiles of `values` at `ps`, given in decreasing order and
/// returned in increasing order. The same numbers as [`quantile_sorted`]
/// of the sorted values (the same order statistics, combined the same
/// way).
///
/// Why: `summary.csv` summarizes every metric (1,440 for vors_la), and
/// sorting each one's 10,000 values was most of its cost. Only the two
/// order statistics either side of each quantile are needed: the high one
/// is selected among the values below the previous quantile's (which are
/// exactly the smallest values, in some order), the low one just below it
/// is their greatest. The selection runs on integer keys in `total_cmp`'s
/// order (`order_key`): compared through `total_cmp`, each comparison
/// cost several times an integer's, and the selections were three
/// quarters of the summary's instructions at 200 replications.
pub fn quantiles_selected<const N: usize>(values: &[f64], ps: [f64; N]) -> [f64; N] {
    let n = values.len();
    let mut keys: Vec<u64> = values.iter().map(|&v| order_key(v)).collect();
    let mut found = [0.0; N];
    // `keys[..end]` are the `end` smallest values; below `n`, `keys[end]`
    // is the next one.
    let mut end = n;
    for (i, p) in ps.into_iter().enumerate() {
        let position = (n - 1) as f64 * p;
        let low = position.floor() as usize;
        let high = position.ceil() as usize;
        let high_key = if high < end {
            let (_, &mut key, _) = keys[..end].select_nth_unstable(high);
            end = high;
            key
        } else {
            // The previous quantile's high order statistic.
            keys[high]
        };
        let high_value = from_order_key(high_key);
        let low_value = if low == high {
            high_value
        } else {
            keys[..high]
                .iter()
                .max()
                .map_or(high_value, |&key| from_order_key(key))
        };
        found[N - 1 - i] = low_value + (position - low as f64) * (high_value - low_value);
    }
    found
}

/// An integer whose order is `f64::total_cmp`'s: the bits with every bit
/// but the sign flipped for negative numbers (as `total_cmp` does), then
/// the sign flipped, so that unsigned order is the signed one. Exactly
/// invertible ([`from_order_key`]).
fn order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    let flipped = bits ^ (((bits as i64 >> 63) as u64) >> 1);
    flipped ^ (1 << 63)
}

/// The `f64` whose [`order_key`] is `key`.
fn from_order_key(key: u64) -> f64 {
    let flipped = key ^ (1 << 63);
    f64::from_bits(flipped ^ (((flipped as i64 >> 63) as u64) >> 1))
}

/// Type-7 quantile of sorted values: linear interpolation between order
/// statistics at position (n - 1) p.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let position = (sorted.len() - 1) as f64 * p;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    sorted[low] + (position - low as f64) * (sorted[high] - sorted[low])
}

/// One point of a Kaplan-Meier curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurvivalPoint {
    pub survival: f64,
    /// Greenwood 95% bounds on the log scale (R's `survfit` default,
    /// `conf.type = "log"`); NaN where undefined (survival 0, or no one).
    pub lower: f64,
    pub upper: f64,
}

/// Kaplan-Meier survival at the end of each month from first events by
/// month, for `youths` followed to the end (censored only after the last
/// month: vomsim follows every youth 30 months). Within a month without
/// censoring, the product over event times telescopes to the monthly
/// product, so this equals the product-limit estimate at each month's end,
/// and the Greenwood sum likewise. One point per month of `events`: a
/// caller passes the months it reports (each point depends only on the
/// months before it), not the 120 months a tally holds.
pub fn kaplan_meier(events: &[u64], youths: u64) -> Vec<SurvivalPoint> {
    let z = Z95;
    let mut at_risk = youths as f64;
    let (mut survival, mut greenwood) = (1.0, 0.0);
    (0..events.len())
        .map(|m| {
            let d = events[m] as f64;
            if at_risk > 0.0 {
                survival *= 1.0 - d / at_risk;
                greenwood += if at_risk > d {
                    d / (at_risk * (at_risk - d))
                } else {
                    f64::INFINITY
                };
            }
            at_risk -= d;
            if youths == 0 {
                return SurvivalPoint {
                    survival: f64::NAN,
                    lower: f64::NAN,
                    upper: f64::NAN,
                };
            }
            let (lower, upper) = if survival > 0.0 && greenwood.is_finite() {
                let se = greenwood.sqrt();
                (
                    survival * (-z * se).exp(),
                    (survival * (z * se).exp()).min(1.0),
                )
            } else {
                (f64::NAN, f64::NAN)
            };
            SurvivalPoint {
                survival,
                lower,
                upper,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_matches_r() {
        // R: x <- c(3, 1, 4, 1, 5, 9, 2, 6); quantile(x, c(.025, .5, .975)); sd(x)
        let s = summarize([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]).unwrap();
        assert_eq!(s.mean, 3.875);
        assert!((s.sd.unwrap() - 2.748_376_1).abs() < 1e-6);
        assert!((s.q025 - 1.0).abs() < 1e-12);
        assert!((s.q500 - 3.5).abs() < 1e-12);
        assert!((s.q975 - 8.475).abs() < 1e-12);
        assert_eq!(s.reps, 8);
    }

    #[test]
    fn kaplan_meier_matches_r_survfit() {
        // Ten youths; events 2, 1, 3, 0 in months 1-4; four censored after
        // month 4. By hand: S = 0.8, 0.7, 0.4, 0.4; Greenwood sums 2/80,
        // + 1/56, + 3/28; lower = S exp(-1.96 sqrt(sum)). R gives the same:
        // summary(survfit(Surv(c(1,1,2,3,3,3,5,5,5,5), c(1,1,1,1,1,1,0,0,0,0)) ~ 1), times = 1:4)
        let km = kaplan_meier(&[2, 1, 3, 0], 10);
        let expected = [
            (0.8, 0.58682),
            (0.7, 0.46653),
            (0.4, 0.18724),
            (0.4, 0.18724),
        ];
        for (point, (s, lower)) in km.iter().zip(expected) {
            assert!((point.survival - s).abs() < 1e-12);
            assert!((point.lower - lower).abs() < 1e-4, "{point:?}");
        }
        assert!(kaplan_meier(&[0, 0], 0)[0].survival.is_nan());
        assert!(
            kaplan_meier(&[3, 0], 3)[1].lower.is_nan(),
            "no survivors: no interval"
        );
    }

    #[test]
    fn undefined_values_are_left_out() {
        let s = summarize([f64::NAN, 2.0]).unwrap();
        assert_eq!((s.mean, s.sd, s.reps), (2.0, None, 1));
        assert!(summarize([f64::NAN]).is_none());
    }

    /// Quantiles found by selection are those of the sorted values, for
    /// every count (ties, repeated values and signed zeros included).
    #[test]
    fn selected_quantiles_are_the_sorted_ones() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for n in (1..=90).chain([199, 200, 1000, 10_001]) {
            for spread in [3, 1 << 20] {
                let values: Vec<f64> = (0..n)
                    .map(|_| match next() % 9 {
                        0 => -0.0,
                        1 => 0.0,
                        _ => (next() % spread) as f64 / 7.0 - 1.0,
                    })
                    .collect();
                let mut sorted = values.clone();
                sorted.sort_by(f64::total_cmp);
                let expected = [0.025, 0.5, 0.975].map(|p| quantile_sorted(&sorted, p));
                let got = quantiles_selected(&values, [0.975, 0.5, 0.025]);
                assert_eq!(
                    got.map(f64::to_bits),
                    expected.map(f64::to_bits),
                    "{n} values"
                );
            }
        }
    }

    /// Integer keys order as `total_cmp` does, and give back the same bits.
    #[test]
    fn order_keys_follow_total_cmp() {
        let mut values = vec![
            f64::NEG_INFINITY,
            f64::MIN,
            -1.5,
            -f64::MIN_POSITIVE,
            -5e-324,
            -0.0,
            0.0,
            5e-324,
            f64::MIN_POSITIVE,
            1.0,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
            -f64::NAN,
        ];
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..10_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            values.push(f64::from_bits(state));
        }
        for &a in &values {
            assert_eq!(from_order_key(order_key(a)).to_bits(), a.to_bits());
        }
        for pair in values.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert_eq!(order_key(a).cmp(&order_key(b)), a.total_cmp(&b), "{a} {b}");
        }
    }
}
