//! The `--targets` file: the published figures to reproduce, read and
//! checked row by row, and the row of the scenario's catalog each one names.

use std::path::Path;

use crate::error::{Error, Result};
use crate::measure::metrics::MetricKey;

/// One published figure to reproduce.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub metric: String,
    pub group: String,
    /// Empty for metrics without a month.
    pub month: String,
    pub target: f64,
    pub tolerance: f64,
    pub source: String,
}

/// Reads targets (`metric,group,month,target,tolerance,source`) from a
/// regular file of at most [`crate::scenario::bounds::MAX_INPUT_FILE_BYTES`].
pub fn read_targets(path: &Path) -> Result<Vec<Target>> {
    let bad = |message: String| Error::BadArgument {
        option: "--targets".to_string(),
        value: path.display().to_string(),
        requirement: message,
    };
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
        };
        if target.tolerance <= 0.0 {
            return Err(bad(format!(
                "row {}: tolerance must be greater than 0",
                line + 2
            )));
        }
        targets.push(target);
    }
    if targets.is_empty() {
        return Err(bad("holds no targets".to_string()));
    }
    Ok(targets)
}

/// The index of the target's row in `catalog`, if the scenario reports it.
pub(super) fn find(catalog: &[MetricKey], t: &Target) -> Option<usize> {
    let month: Option<u32> = if t.month.is_empty() {
        None
    } else {
        Some(t.month.parse().ok()?)
    };
    catalog
        .iter()
        .position(|k| k.metric == t.metric && k.group == t.group && k.month == month)
}
