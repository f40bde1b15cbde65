//! Design diagnosis across replications (as DeclareDesign diagnoses a
//! design): for each study design's estimator and effect month, its
//! estimand, mean, bias, RMSE, coverage of its own nominal 95% interval and
//! power at the 5% level. A pure function of the replications' values, so
//! `diagnosis.csv` follows from `replications.csv`.

use crate::measure::estimators::Estimator;
use crate::measure::metrics::MetricKey;
use crate::model::time::EFFECT_MONTHS;

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
}

/// Diagnoses every design estimator at every effect month from the
/// replications' values (aligned with `catalog`). Bias and RMSE use the
/// replications where both estimate and estimand are defined; coverage and
/// power those of them where the interval is defined too.
pub fn diagnose(catalog: &[MetricKey], values: &[Vec<f64>], randomized: bool) -> Vec<DiagnosisRow> {
    let find = |metric: &str, group: &str, month: u32| {
        catalog
            .iter()
            .position(|k| k.metric == metric && k.group == group && k.month == Some(month))
    };
    let mut rows = Vec::new();
    for design in Estimator::in_output(randomized) {
        let estimator = design.name();
        for month in EFFECT_MONTHS.map(|m| m as u32) {
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
            for rep in values {
                let (estimate, truth) = (rep[e], rep[t]);
                if !(estimate.is_finite() && truth.is_finite()) {
                    continue;
                }
                n += 1;
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
        let rows = diagnose(&catalog, &values, false);
        assert_eq!(rows.len(), 1, "only the rows the catalog holds");
        let r = &rows[0];
        assert_eq!((r.estimator, r.month, r.reps), ("naive", 6, 2));
        assert!((r.bias + 0.1).abs() < 1e-12);
        assert!((r.rmse - 0.02f64.sqrt()).abs() < 1e-12);
        assert_eq!((r.coverage, r.power), (Some(0.5), Some(0.5)));
    }
}
