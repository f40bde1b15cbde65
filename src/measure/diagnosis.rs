//! Design diagnosis across replications (as DeclareDesign diagnoses a
//! design): for each study design's estimator and effect month, its
//! estimand, mean, bias, RMSE, coverage of its own nominal 95% interval and
//! power at the 5% level; and, since the estimates are ratios with heavy
//! tails in small studies (a ratio's mean can sit far from every typical
//! value), the median estimate, bias and RMSE on the log scale, and the
//! share of replications where the estimate was undefined. A pure function
//! of the replications' values, so `diagnosis.csv` follows from
//! `replications.csv`.

use std::collections::HashMap;

use crate::measure::estimators::Estimator;
use crate::measure::metrics::MetricKey;
use crate::model::time::{MAX_FOLLOW_UP_MONTHS, effect_months};

/// One row of `diagnosis.csv`: how a design's estimator fared against its
/// estimand across replications (as DeclareDesign diagnoses a design).
#[derive(Debug, Clone, PartialEq)]
pub struct DiagnosisRow {
    pub estimator: &'static str,
    pub month: u32,
    /// Mean over replications of the estimand (`true_att`, or `true_itt`
    /// for `rct_itt`).
    pub estimand: f64,
    /// Mean estimate.
    pub mean: f64,
    /// Mean of estimate minus estimand, replication by replication.
    pub bias: f64,
    pub rmse: f64,
    /// Share of replications whose nominal 95% interval holds that
    /// replication's estimand; `None` if no interval was defined.
    pub coverage: Option<f64>,
    /// Share of replications whose interval excludes 1 (significant at 5%).
    pub power: Option<f64>,
    /// Replications where the estimate and the estimand were defined.
    pub reps: usize,
    /// Median estimate.
    pub median: f64,
    /// Mean and root mean square of ln(estimate) - ln(estimand), over the
    /// replications where both are positive; NaN if none.
    pub log_bias: f64,
    pub log_rmse: f64,
    /// Share of the replications with a defined estimand whose estimate was
    /// undefined (an empty or event-free group).
    pub undefined: f64,
}

/// Diagnoses every design estimator at every effect month from the
/// replications' values (aligned with `catalog`). Bias and RMSE use the
/// replications where both estimate and estimand are defined; coverage and
/// power those of them where the interval is defined too.
pub fn diagnose(catalog: &[MetricKey], values: &[Vec<f64>]) -> Vec<DiagnosisRow> {
    // The catalog's effect-ratio columns by (metric, group, month): one pass
    // instead of a search of the whole catalog per lookup (the searches
    // were most of the time diagnosing took).
    let mut columns: HashMap<(&str, &str, u32), usize> = HashMap::new();
    for (i, k) in catalog.iter().enumerate() {
        if let Some(month) = k.month
            && k.metric.starts_with("effect_ratio")
        {
            columns.entry((k.metric, k.group, month)).or_insert(i);
        }
    }
    let find =
        |metric: &str, group: &str, month: u32| columns.get(&(metric, group, month)).copied();
    let mut rows = Vec::new();
    // The catalog holds the estimators the scenario's design reports.
    for design in Estimator::ALL {
        let estimator = design.name();
        // Every effect month the catalog holds (to its horizon).
        for month in effect_months(MAX_FOLLOW_UP_MONTHS).map(|m| m as u32) {
            let (Some(e), Some(lo), Some(hi), Some(t)) = (
                find("effect_ratio", estimator, month),
                find("effect_ratio_lower", estimator, month),
                find("effect_ratio_upper", estimator, month),
                find("effect_ratio", design.estimand(), month),
            ) else {
                continue;
            };
            let (mut n, mut sum_truth, mut sum_estimate, mut sum_error, mut sum_squared) =
                (0, 0.0, 0.0, 0.0, 0.0);
            let (mut with_interval, mut covered, mut significant) = (0, 0, 0);
            let (mut with_truth, mut log_n, mut log_sum, mut log_squared) = (0, 0, 0.0, 0.0);
            let mut estimates = Vec::with_capacity(values.len());
            for rep in values {
                let (estimate, truth) = (rep[e], rep[t]);
                with_truth += usize::from(truth.is_finite());
                if !(estimate.is_finite() && truth.is_finite()) {
                    continue;
                }
                n += 1;
                estimates.push(estimate);
                if estimate > 0.0 && truth > 0.0 {
                    let error = estimate.ln() - truth.ln();
                    log_n += 1;
                    log_sum += error;
                    log_squared += error * error;
                }
                sum_truth += truth;
                sum_estimate += estimate;
                sum_error += estimate - truth;
                sum_squared += (estimate - truth).powi(2);
                let (lower, upper) = (rep[lo], rep[hi]);
                if lower.is_finite() && upper.is_finite() {
                    with_interval += 1;
                    covered += usize::from(lower <= truth && truth <= upper);
                    significant += usize::from(upper < 1.0 || lower > 1.0);
                }
            }
            if n == 0 {
                continue;
            }
            let share = |k: usize| (with_interval > 0).then(|| k as f64 / with_interval as f64);
            let n_f = n as f64;
            let log_mean = |sum: f64| {
                if log_n > 0 {
                    sum / log_n as f64
                } else {
                    f64::NAN
                }
            };
            rows.push(DiagnosisRow {
                estimator,
                month,
                estimand: sum_truth / n_f,
                mean: sum_estimate / n_f,
                bias: sum_error / n_f,
                rmse: (sum_squared / n_f).sqrt(),
                coverage: share(covered),
                power: share(significant),
                reps: n,
                median: crate::measure::stats::quantiles_selected(&estimates, [0.5])[0],
                log_bias: log_mean(log_sum),
                log_rmse: log_mean(log_squared).sqrt(),
                undefined: 1.0 - n_f / with_truth as f64,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnosis_measures_bias_coverage_and_power() {
        let key = |metric, group| MetricKey {
            metric,
            group,
            month: Some(6),
        };
        let catalog = vec![
            key("effect_ratio", "true_att"),
            key("effect_ratio", "naive"),
            key("effect_ratio_lower", "naive"),
            key("effect_ratio_upper", "naive"),
        ];
        // Two replications: truth 0.8; estimates 0.6 (interval misses the
        // truth, excludes 1) and 0.8 (covers it, includes 1).
        let values = vec![vec![0.8, 0.6, 0.5, 0.7], vec![0.8, 0.8, 0.6, 1.1]];
        let rows = diagnose(&catalog, &values);
        assert_eq!(rows.len(), 1, "only the rows the catalog holds");
        let r = &rows[0];
        assert_eq!((r.estimator, r.month, r.reps), ("naive", 6, 2));
        assert!((r.bias + 0.1).abs() < 1e-12);
        assert!((r.rmse - 0.02f64.sqrt()).abs() < 1e-12);
        assert_eq!((r.coverage, r.power), (Some(0.5), Some(0.5)));
        assert!((r.median - 0.7).abs() < 1e-12);
        let log_errors = [(0.6f64 / 0.8).ln(), 0.0];
        assert!((r.log_bias - log_errors[0] / 2.0).abs() < 1e-12);
        assert!((r.log_rmse - (log_errors[0].powi(2) / 2.0).sqrt()).abs() < 1e-12);
        assert_eq!(r.undefined, 0.0);
    }
}
