//! `--fit`: the parameters to fit, by dotted key within bounds, and the
//! map from the search's unit cube to their values.

/// One parameter to fit, by dotted key, within bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct FitParameter {
    pub key: String,
    pub low: f64,
    pub high: f64,
}

/// Parses `--fit KEY=LOW..HIGH` (the command line's value parser): the
/// error says what is wrong, in plain words.
pub fn parse_fit(text: &str) -> std::result::Result<FitParameter, String> {
    let shape = || {
        "expected KEY=LOW..HIGH, a scenario key and its bounds, \
         e.g. recidivism.baseline_rearrest_12m=0.05..0.4"
            .to_string()
    };
    let (key, range) = text.split_once('=').ok_or_else(shape)?;
    let (low, high) = range.split_once("..").ok_or_else(shape)?;
    let key = key.trim();
    if key.is_empty() {
        return Err(shape());
    }
    let parse = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite());
    match (parse(low), parse(high)) {
        (Some(low), Some(high)) if low < high => Ok(FitParameter {
            key: key.to_string(),
            low,
            high,
        }),
        _ => Err(format!(
            "the bounds `{}` must be two finite numbers with LOW < HIGH, e.g. 0.05..0.4",
            range.trim()
        )),
    }
}

/// The parameters' values at a point of the unit cube (clamped into it).
pub(super) fn to_values(parameters: &[FitParameter], unit: &[f64]) -> Vec<f64> {
    parameters
        .iter()
        .zip(unit)
        .map(|(p, u)| p.low + u.clamp(0.0, 1.0) * (p.high - p.low))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_arguments_parse() {
        let p = parse_fit("recidivism.risk_log_hr=0.2..1.5").unwrap();
        assert_eq!(
            (p.key.as_str(), p.low, p.high),
            ("recidivism.risk_log_hr", 0.2, 1.5)
        );
        assert!(parse_fit("x=1..1").is_err());
        assert!(parse_fit("x=1").is_err());
        assert!(parse_fit("x=a..2").is_err());
    }
}
