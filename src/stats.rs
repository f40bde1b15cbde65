//! Summaries across replications: mean, standard deviation and quantiles of
//! each metric, over the replications where it was defined.
//!
//! Sums run serially in replication order, so the result does not depend on
//! how replications were split among threads. Quantiles are R's type 7
//! (numpy's default `linear`), so R and pandas users get the same numbers.

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
    let mut sorted: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let mean = sorted.iter().sum::<f64>() / n as f64;
    let sd = (n > 1).then(|| {
        let ss: f64 = sorted.iter().map(|v| (v - mean).powi(2)).sum();
        (ss / (n - 1) as f64).sqrt()
    });
    sorted.sort_by(f64::total_cmp);
    Some(Summary {
        mean,
        sd,
        q025: quantile_sorted(&sorted, 0.025),
        q500: quantile_sorted(&sorted, 0.5),
        q975: quantile_sorted(&sorted, 0.975),
        reps: n,
    })
}

/// Type-7 quantile of sorted values: linear interpolation between order
/// statistics at position (n - 1) p.
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let position = (sorted.len() - 1) as f64 * p;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    sorted[low] + (position - low as f64) * (sorted[high] - sorted[low])
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
    fn undefined_values_are_left_out() {
        let s = summarize([f64::NAN, 2.0]).unwrap();
        assert_eq!((s.mean, s.sd, s.reps), (2.0, None, 1));
        assert!(summarize([f64::NAN]).is_none());
    }
}
