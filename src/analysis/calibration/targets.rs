//! The `--targets` file: the published figures to reproduce, read and
//! checked row by row, and the row (or the two rows of a ratio) of the
//! scenario's catalog each one names.
//!
//! A target is one `summary.csv` row, or the ratio of two: any of the
//! `metric`, `group` and `month` fields may hold `A/B`, the numerator's
//! value before the slash and the denominator's after it; a field without
//! a slash is the same in both. `rearrest,mediated/victim_declined,12`
//! is 12-month rearrest of mediated youths over that of youths whose
//! victims declined, as published comparisons often are reported
//! (15.0% / 30.9% in the VORS evaluation). No metric or group name holds a
//! slash, so the syntax is unambiguous.

use std::path::Path;

use crate::error::{Error, Result};
use crate::measure::metrics::MetricKey;

/// One published figure to reproduce.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The fields as written (a ratio's hold `A/B`, see the module).
    pub metric: String,
    pub group: String,
    /// Empty for metrics without a month.
    pub month: String,
    pub target: f64,
    pub tolerance: f64,
    pub source: String,
    /// The targets file's name and the row's line in it (the header is
    /// line 1), for messages.
    pub file: String,
    pub row: usize,
}

/// One side of a target: a `summary.csv` row by name.
#[derive(Debug, Clone, PartialEq)]
struct Term {
    metric: String,
    group: String,
    month: Option<u32>,
}

/// Where a target's values are in a replication's values: the row, and
/// the denominator's row for a ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Located {
    numerator: usize,
    denominator: Option<usize>,
}

impl Target {
    /// Whether the target is a ratio of two rows.
    pub fn is_ratio(&self) -> bool {
        [&self.metric, &self.group, &self.month]
            .iter()
            .any(|f| f.contains('/'))
    }

    /// The target's numerator and, for a ratio, denominator.
    fn terms(&self) -> Result<(Term, Option<Term>)> {
        let split = |field: &str| -> (String, String) {
            match field.split_once('/') {
                Some((a, b)) => (a.trim().to_string(), b.trim().to_string()),
                None => (field.to_string(), field.to_string()),
            }
        };
        let (metrics, groups, months) =
            (split(&self.metric), split(&self.group), split(&self.month));
        let month = |text: &str| -> Result<Option<u32>> {
            if text.is_empty() {
                return Ok(None);
            }
            text.parse().map(Some).map_err(|_| Error::UnknownTarget {
                file: self.file.clone(),
                row: self.row,
                what: "month",
                name: text.to_string(),
                suggestion: None,
            })
        };
        let numerator = Term {
            metric: metrics.0,
            group: groups.0,
            month: month(&months.0)?,
        };
        if !self.is_ratio() {
            return Ok((numerator, None));
        }
        let denominator = Term {
            metric: metrics.1,
            group: groups.1,
            month: month(&months.1)?,
        };
        Ok((numerator, Some(denominator)))
    }
}

/// Reads targets (`metric,group,month,target,tolerance,source`) from a
/// regular file of at most [`crate::scenario::bounds::MAX_INPUT_FILE_BYTES`].
pub fn read_targets(path: &Path) -> Result<Vec<Target>> {
    let bad = |message: String| Error::BadArgument {
        option: "--targets".to_string(),
        value: path.display().to_string(),
        requirement: message,
    };
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    // Bounded and regular files only, like scenario files.
    let bytes = crate::scenario::bounds::read_input_file(path, "targets")
        .map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let expected = ["metric", "group", "month", "target", "tolerance", "source"];
    if headers.iter().collect::<Vec<_>>() != expected {
        return Err(bad(format!("must have the columns {}", expected.join(","))));
    }
    let mut targets = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        let number = |i: usize| {
            record[i]
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    bad(format!(
                        "row {}: {} = {:?} is not a number",
                        line + 2,
                        expected[i],
                        &record[i]
                    ))
                })
        };
        let target = Target {
            metric: record[0].trim().to_string(),
            group: record[1].trim().to_string(),
            month: record[2].trim().to_string(),
            target: number(3)?,
            tolerance: number(4)?,
            source: record[5].to_string(),
            file: file.clone(),
            row: line + 2,
        };
        if target.tolerance <= 0.0 {
            return Err(bad(format!(
                "row {}: tolerance must be greater than 0",
                line + 2
            )));
        }
        // A ratio's metric and group fields name two rows: `A/B` with both
        // sides written (a field without a slash applies to both sides).
        for (column, field) in [("metric", &target.metric), ("group", &target.group)] {
            let sides: Vec<&str> = field.split('/').collect();
            if sides.len() > 2 || (sides.len() == 2 && sides.iter().any(|s| s.trim().is_empty())) {
                return Err(bad(format!(
                    "row {}: {column} = {field:?} is not a ratio: write NUMERATOR/DENOMINATOR, \
                     both named (e.g. mediated/victim_declined), or one name for both sides",
                    line + 2
                )));
            }
        }
        // A malformed month is refused here; names need the scenario.
        target.terms()?;
        targets.push(target);
    }
    if targets.is_empty() {
        return Err(bad("holds no targets".to_string()));
    }
    Ok(targets)
}

/// Where the target's row (or rows) are in `catalog`; an unknown metric,
/// group or month is an error naming the nearest the scenario reports.
pub(super) fn locate(catalog: &[MetricKey], t: &Target) -> Result<Located> {
    let (numerator, denominator) = t.terms()?;
    let numerator = position(catalog, t, &numerator)?;
    let denominator = match denominator {
        Some(term) => Some(position(catalog, t, &term)?),
        None => None,
    };
    Ok(Located {
        numerator,
        denominator,
    })
}

/// The index of one term's row in `catalog`.
fn position(catalog: &[MetricKey], t: &Target, term: &Term) -> Result<usize> {
    let unknown =
        |what: &'static str, name: String, suggestion: Option<String>| Error::UnknownTarget {
            file: t.file.clone(),
            row: t.row,
            what,
            name,
            suggestion,
        };
    let mut metrics: Vec<&str> = catalog.iter().map(|k| k.metric).collect();
    metrics.dedup();
    if !metrics.contains(&term.metric.as_str()) {
        let near = crate::scenario::nearest_name(&term.metric, metrics.iter().copied());
        return Err(unknown(
            "metric",
            term.metric.clone(),
            near.map(str::to_string),
        ));
    }
    let of_metric: Vec<&MetricKey> = catalog.iter().filter(|k| k.metric == term.metric).collect();
    let mut groups: Vec<&str> = of_metric.iter().map(|k| k.group).collect();
    groups.sort_unstable();
    groups.dedup();
    if !groups.contains(&term.group.as_str()) {
        let near = crate::scenario::nearest_name(&term.group, groups.iter().copied());
        return Err(unknown(
            "group",
            format!("{}` of metric `{}", term.group, term.metric),
            near.map(str::to_string),
        ));
    }
    if let Some(i) = catalog
        .iter()
        .position(|k| k.metric == term.metric && k.group == term.group && k.month == term.month)
    {
        return Ok(i);
    }
    // The month: the nearest the row has, or none for a row without one.
    let months: Vec<Option<u32>> = of_metric
        .iter()
        .filter(|k| k.group == term.group)
        .map(|k| k.month)
        .collect();
    let shown = |m: Option<u32>| m.map_or("(empty)".to_string(), |m| m.to_string());
    let near = match term.month {
        Some(m) => months
            .iter()
            .flatten()
            .min_by_key(|&&n| n.abs_diff(m))
            .copied()
            .map(Some),
        None => months.first().copied(),
    };
    Err(unknown(
        "month",
        format!("{}` for `{},{}", shown(term.month), term.metric, term.group),
        near.map(shown),
    ))
}

/// The target's mean over `values` (one vector per replication, aligned
/// with the catalog), and its standard error; NaN where never defined.
/// A ratio is the ratio of the two rows' means (as a published comparison
/// of two groups' rates is), over the replications where both are defined;
/// its standard error is the ratio estimator's (the delta method:
/// Cochran 1977, Sampling Techniques, section 6.4).
pub(super) fn mean_and_error(values: &[Vec<f64>], located: Located) -> (f64, f64) {
    match located.denominator {
        None => {
            let defined: Vec<f64> = values
                .iter()
                .map(|r| r[located.numerator])
                .filter(|v| v.is_finite())
                .collect();
            if defined.is_empty() {
                return (f64::NAN, f64::NAN);
            }
            let n = defined.len() as f64;
            let mean = defined.iter().sum::<f64>() / n;
            let var = defined.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
            (mean, (var / n).sqrt())
        }
        Some(denominator) => {
            let pairs: Vec<(f64, f64)> = values
                .iter()
                .map(|r| (r[located.numerator], r[denominator]))
                .filter(|(a, b)| a.is_finite() && b.is_finite())
                .collect();
            if pairs.is_empty() {
                return (f64::NAN, f64::NAN);
            }
            let n = pairs.len() as f64;
            let top = pairs.iter().map(|p| p.0).sum::<f64>() / n;
            let bottom = pairs.iter().map(|p| p.1).sum::<f64>() / n;
            if bottom == 0.0 {
                return (f64::NAN, f64::NAN);
            }
            let ratio = top / bottom;
            let var = pairs
                .iter()
                .map(|(a, b)| (a - ratio * b).powi(2))
                .sum::<f64>()
                / (n - 1.0).max(1.0);
            (ratio, (var / n).sqrt() / bottom.abs())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(metric: &str, group: &str, month: &str) -> Target {
        Target {
            metric: metric.to_string(),
            group: group.to_string(),
            month: month.to_string(),
            target: 0.5,
            tolerance: 0.1,
            source: String::new(),
            file: "t.csv".to_string(),
            row: 3,
        }
    }

    fn catalog() -> Vec<MetricKey> {
        crate::measure::metrics::catalog(3, Default::default())
    }

    #[test]
    fn a_ratio_names_two_rows_and_a_plain_target_one() {
        let catalog = catalog();
        let plain = locate(&catalog, &target("rearrest", "mediated", "12")).unwrap();
        assert!(plain.denominator.is_none());
        let ratio = locate(
            &catalog,
            &target("rearrest", "mediated/victim_declined", "12"),
        )
        .unwrap();
        assert_eq!(ratio.numerator, plain.numerator);
        let other = locate(&catalog, &target("rearrest", "victim_declined", "12")).unwrap();
        assert_eq!(ratio.denominator, Some(other.numerator));
        // Mean of ratio = ratio of means, not mean of ratios.
        let mut a = vec![0.0; catalog.len()];
        let mut b = a.clone();
        (a[plain.numerator], a[other.numerator]) = (0.1, 0.2);
        (b[plain.numerator], b[other.numerator]) = (0.3, 0.4);
        let (mean, se) = mean_and_error(&[a, b], ratio);
        assert!((mean - 0.4 / 0.6).abs() < 1e-12 && se > 0.0, "{mean} {se}");
    }

    #[test]
    fn unknown_names_get_the_nearest_valid_one() {
        let catalog = catalog();
        let message = |t: Target| locate(&catalog, &t).unwrap_err().to_string();
        assert_eq!(
            message(target("rearest", "mediated", "12")),
            "unknown metric `rearest` in t.csv row 3; did you mean `rearrest`?"
        );
        assert!(
            message(target("rearrest", "mediatd", "12")).contains("did you mean `mediated`?"),
            "{}",
            message(target("rearrest", "mediatd", "12"))
        );
        assert!(message(target("rearrest", "mediated", "31")).contains("did you mean `30`?"));
        assert!(
            message(target("rearrest", "mediated/victim_declind", "12"))
                .contains("did you mean `victim_declined`?")
        );
    }
}
