//! `--choose KEY=A,B,...`: a choice the data makes. The calibration runs
//! once per alternative (the key set to it in the scenario's text), fitting
//! only the `--fit` parameters that the alternative's model uses; the
//! alternatives are compared by their verified objective plus twice the
//! number of parameters fitted (an AIC-style penalty: the objective is a sum
//! of squared standardized misses, -2 log-likelihood up to a constant when
//! the tolerances are standard deviations).

use super::{Calibration, FitParameter};
use crate::error::{Error, Result};
use crate::scenario::Scenario;

/// A key and the values to choose among.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub key: String,
    pub alternatives: Vec<String>,
}

/// Parses `--choose KEY=A,B,...` (the command line's value parser).
pub fn parse_choice(text: &str) -> std::result::Result<Choice, String> {
    let shape = || {
        "expected KEY=A,B,..., a scenario key and two or more values to choose among, \
         e.g. treatment.shape=fade,constant,piecewise,none"
            .to_string()
    };
    let (key, values) = text.split_once('=').ok_or_else(shape)?;
    let key = key.trim();
    let alternatives: Vec<String> = values.split(',').map(|v| v.trim().to_string()).collect();
    if key.is_empty() || alternatives.len() < 2 || alternatives.iter().any(String::is_empty) {
        return Err(shape());
    }
    for (i, a) in alternatives.iter().enumerate() {
        if alternatives[..i].contains(a) {
            return Err(format!("the value `{a}` is given twice"));
        }
    }
    Ok(Choice {
        key: key.to_string(),
        alternatives,
    })
}

/// The scenario text with `key` set to `value` (read as a TOML value, or
/// as a string where it is not one, as `--set` reads it), everything else
/// kept as it was.
pub fn alternative_text(text: &str, key: &str, value: &str) -> Result<String> {
    let mut document: toml_edit::DocumentMut = text.parse().map_err(|e| Error::BadArgument {
        option: "--choose".to_string(),
        value: key.to_string(),
        requirement: format!("needs a scenario that parses: {e}"),
    })?;
    let parsed = format!("v = {value}")
        .parse::<toml_edit::DocumentMut>()
        .ok()
        .and_then(|d| d.get("v").and_then(|i| i.as_value().cloned()))
        .unwrap_or_else(|| toml_edit::Value::from(value));
    super::rewrite::set_value(&mut document, key, parsed);
    Ok(document.to_string())
}

/// The `--fit` parameters that the scenario `text` uses: those whose two
/// bounds give different models (a key the alternative ignores, such as
/// `treatment.half_life_months` for a constant effect, is left out).
pub fn used_parameters(
    text: &str,
    origin: &str,
    overrides: &[String],
    parameters: &[FitParameter],
) -> Result<Vec<FitParameter>> {
    let mut used = Vec::new();
    for p in parameters {
        let at = |bound: f64| {
            let mut all = overrides.to_vec();
            all.push(format!("{}={bound}", p.key));
            Scenario::from_toml_str(text, origin, &all)
        };
        if !at(p.low)?.same_model(&at(p.high)?) {
            used.push(p.clone());
        }
    }
    Ok(used)
}

/// One alternative's calibration and its comparison.
#[derive(Debug, Clone)]
pub struct Alternative {
    pub value: String,
    /// The scenario text with the key set to this value.
    pub text: String,
    pub calibration: Calibration,
    /// The objective at the verification run (fresh seeds, more
    /// replications): the sum over targets of ((mean - target) / tolerance)^2.
    pub verified_objective: f64,
    /// Parameters fitted (those the alternative uses).
    pub fitted: usize,
}

impl Alternative {
    /// The penalized objective: verified objective + 2 x parameters fitted.
    pub fn penalized(&self) -> f64 {
        self.verified_objective + 2.0 * self.fitted as f64
    }
}

/// The verified objective of a calibration.
pub fn verified_objective(calibration: &Calibration) -> f64 {
    calibration
        .targets
        .iter()
        .map(|r| ((r.achieved - r.target.target) / r.target.tolerance).powi(2))
        .sum()
}

/// The index of the best alternative: the lowest penalized objective (the
/// first of equal ones; a NaN never wins).
pub fn best(alternatives: &[Alternative]) -> usize {
    alternatives
        .iter()
        .enumerate()
        .min_by(|a, b| {
            let key = |x: &Alternative| {
                let v = x.penalized();
                if v.is_nan() { f64::INFINITY } else { v }
            };
            key(a.1).total_cmp(&key(b.1))
        })
        .map_or(0, |(i, _)| i)
}

/// The comment line that heads a scenario written by `--choose`: the
/// choice and every alternative's objectives.
pub fn choice_comment(
    choice: &Choice,
    alternatives: &[Alternative],
    chosen: usize,
    targets_name: &str,
    date: &str,
) -> String {
    let listed = alternatives
        .iter()
        .map(|a| {
            format!(
                "{} {:.3} + 2 x {} = {:.3}",
                a.value,
                a.verified_objective,
                a.fitted,
                a.penalized()
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    format!(
        "{}{targets_name} on {date}: {} = {} chosen by --choose among (verified objective + 2 x parameters fitted) {listed}\n",
        crate::output::ownership::FITTED_MARK,
        choice.key,
        alternatives[chosen].value,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse() {
        let c = parse_choice("treatment.shape=fade, constant,none").unwrap();
        assert_eq!(c.key, "treatment.shape");
        assert_eq!(c.alternatives, ["fade", "constant", "none"]);
        assert!(parse_choice("treatment.shape=fade").is_err());
        assert!(parse_choice("treatment.shape=fade,,none").is_err());
        assert!(parse_choice("=a,b").is_err());
        assert!(parse_choice("k=a,a").unwrap_err().contains("twice"));
    }

    #[test]
    fn an_alternative_sets_the_key_in_the_text() {
        let text = "# top\n[treatment]\nshape = \"fade\"  # mine\nhalf_life_months = 5.0\n";
        let out = alternative_text(text, "treatment.shape", "constant").unwrap();
        assert!(out.contains("shape = \"constant\"  # mine"), "{out}");
        assert!(out.contains("# top"));
        let out = alternative_text("name = \"x\"\n", "treatment.shape", "none").unwrap();
        let s = Scenario::from_toml_str(&out, "t", &[]).unwrap();
        assert_eq!(
            s.raw.treatment.shape,
            crate::scenario::schema::EffectShapeKind::None
        );
    }

    #[test]
    fn only_the_parameters_a_shape_uses_are_fitted() {
        let fits: Vec<FitParameter> = [
            "treatment.hazard_ratio_initial=0.2..0.9",
            "treatment.half_life_months=1..20",
            "treatment.piecewise_hazard_ratios[0]=0.2..1",
        ]
        .iter()
        .map(|f| super::super::parse_fit(f).unwrap())
        .collect();
        let used = |shape: &str| {
            let text = alternative_text("name = \"x\"\n", "treatment.shape", shape).unwrap();
            used_parameters(&text, "t", &[], &fits)
                .unwrap()
                .into_iter()
                .map(|p| p.key)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            used("fade"),
            [
                "treatment.hazard_ratio_initial",
                "treatment.half_life_months"
            ]
        );
        assert_eq!(used("constant"), ["treatment.hazard_ratio_initial"]);
        assert_eq!(used("piecewise"), ["treatment.piecewise_hazard_ratios[0]"]);
        assert!(used("none").is_empty());
    }
}
