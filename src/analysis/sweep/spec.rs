//! The sweep file read into a [`Sweep`]: its `[sweep]` table checked
//! (design, counts, outputs), each parameter checked against the scenario
//! (a model value, a list, a range or bounds as its design needs), the
//! points drawn (see `sampling.rs`) and every point validated as a
//! scenario; then each point's scenario, row prefix and description.

use crate::output::parquet::Format;
use toml::Value;

use super::sampling;
use super::schema;
use crate::error::{Error, Result};
use crate::output::csv::RowPrefix;
use crate::scenario::{self, Scenario};

/// The most points a sweep may have, whatever its design: each point is
/// validated as a scenario before anything runs, and writes three
/// fragments and a marker, so a million points already means seconds of
/// checking and four million small files.
pub const MAX_POINTS: usize = 1_000_000;

/// How the points are chosen (`design` in `[sweep]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum Design {
    #[default]
    Grid,
    Lhs,
    Sobol,
}

/// An output whose variance the Sobol indices apportion: one row of
/// `summary.csv` (its mean over replications, at each point).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub metric: String,
    pub group: String,
    /// Empty for metrics without a month.
    pub month: String,
}

impl Output {
    pub fn name(&self) -> String {
        format!("{},{},{}", self.metric, self.group, self.month)
    }
}

/// A validated sweep: the base scenario and every point.
#[derive(Debug, Clone)]
pub struct Sweep {
    /// The sweep file's text (copied into the output folder).
    pub text: String,
    pub origin: String,
    pub sha256: String,
    /// The scenario part of the file, without `[sweep]`.
    base: toml::Table,
    /// The user's `--set`s, applied to every point before the swept values.
    pub overrides: Vec<String>,
    pub design: Design,
    /// The swept keys, in the file's order.
    pub parameters: Vec<String>,
    /// Each point's values, in `parameters` order.
    pub points: Vec<Vec<Value>>,
    /// Sobol: the outputs and bootstrap resamples.
    pub outputs: Vec<Output>,
    pub bootstrap: usize,
    /// Sobol: base samples N.
    pub base_samples: usize,
    /// Whether to write `replications.csv` (a large sweep may skip it: over
    /// a thousand rows per replication).
    pub replications_file: bool,
    /// The format of the final tables (`--format`): the points' fragments
    /// are CSV either way.
    pub format: Format,
    /// The validated base scenario (for its name and defaults).
    pub base_scenario: Scenario,
    /// The most values one replication of any point yields (the length of
    /// its metric catalog): what a replication holds in memory.
    pub values_per_replication: usize,
}

fn bad(origin: &str, key: &str, value: impl std::fmt::Display, requirement: &str) -> Error {
    Error::Invalid {
        origin: origin.to_string(),
        key: key.to_string(),
        value: value.to_string(),
        requirement: requirement.to_string(),
    }
}

/// The error for a `[sweep.parameters]` key that is not a scenario value,
/// worded as a sweep parameter (not as a `--set`) with the nearest valid
/// key. The scenario's own override check finds the unknown part and its
/// nearest neighbour; the rest of the dotted path is kept after it.
fn unknown_parameter(base: &toml::Table, defaults: &Value, origin: &str, key: &str) -> Error {
    let probe = Scenario::from_table(
        base.clone(),
        None,
        origin,
        &[format!("{key}=0")],
        String::new(),
    );
    match probe {
        Err(Error::UnknownKey {
            key: unknown,
            suggestion,
            ..
        }) => {
            let rest = key.strip_prefix(unknown.as_str()).unwrap_or("");
            let suggestion = suggestion.map(|s| {
                let whole = format!("{s}{rest}");
                let exists = whole
                    .split('.')
                    .try_fold(defaults, |node, part| node.get(part))
                    .is_some();
                if exists { whole } else { s }
            });
            Error::UnknownSweepParameter {
                origin: origin.to_string(),
                key: key.to_string(),
                suggestion,
            }
        }
        _ => bad(
            origin,
            &format!("sweep.parameters.\"{key}\""),
            key,
            "is not a scenario value",
        ),
    }
}

/// Why a scenario key cannot be a sweep parameter, if it cannot: it is
/// not part of the model, so sweeping it would give points that differ
/// only in their label (the scenario's name and description), or that
/// silently ignore it (every point runs the same `--seed` and `--reps`).
/// `simulation.intake_months` is a model parameter and may be swept.
fn not_a_model_parameter(key: &str) -> Option<&'static str> {
    match key {
        "simulation.seed" => Some(
            "the seed is not part of it: every point runs the same replications from one seed \
             (common random numbers), set with --seed or with simulation.seed outside [sweep], \
             so the points would be identical",
        ),
        "simulation.replications" => Some(
            "the replication count is not part of it: every point runs the same number of \
             replications, set with --reps or with simulation.replications outside [sweep], \
             so the points would be labelled with counts they did not run",
        ),
        "name" | "description" => Some(
            "the scenario's name and description are not part of it: the points would differ \
             only in their label (points are told apart by their `point` column)",
        ),
        _ => None,
    }
}

/// A swept value as a CSV field: numbers as numbers, strings bare.
pub fn field(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Sweep {
    /// Reads and validates a sweep file.
    pub fn load(path: &std::path::Path, overrides: &[String]) -> Result<Sweep> {
        let text = scenario::read_text_file(path, "sweep")?;
        Sweep::from_toml_str(&text, &path.display().to_string(), overrides)
    }

    /// Parses and validates a sweep given as text.
    pub fn from_toml_str(text: &str, origin: &str, overrides: &[String]) -> Result<Sweep> {
        let mut base = scenario::parse_table(text, origin)?;
        let spec = match base.remove("sweep") {
            Some(Value::Table(t)) => t,
            Some(_) => return Err(bad(origin, "sweep", "a value", "must be a table, [sweep]")),
            None => {
                return Err(bad(
                    origin,
                    "sweep",
                    "(missing)",
                    "is required in a sweep file: a [sweep] table with [sweep.parameters]",
                ));
            }
        };
        let raw = schema::parse(spec, text, origin)?;
        let sha256 = scenario::hash_text(text);
        let base_scenario =
            Scenario::from_table(base.clone(), None, origin, overrides, sha256.clone())?;
        let defaults =
            toml::Value::try_from(&base_scenario.raw).expect("a scenario serializes to TOML");

        let design = raw.design;
        let count = |key: &str, given: Option<i64>, default: i64, low: i64, high: i64| match given {
            None => Ok(default as usize),
            Some(n) if (low..=high).contains(&n) => Ok(n as usize),
            Some(n) => Err(bad(
                origin,
                &format!("sweep.{key}"),
                n,
                &format!("must be a whole number in [{low}, {high}]"),
            )),
        };
        let sampling_seed = count("sampling_seed", raw.sampling_seed, 1, 0, i64::MAX)? as u64;
        let replications_file = raw.replications_file.unwrap_or(true);
        let bootstrap = count("bootstrap", raw.bootstrap, 1000, 10, 100_000)?;

        let Some(parameter_specs) = &raw.parameters else {
            return Err(bad(
                origin,
                "sweep.parameters",
                "(missing)",
                "is required: a table of dotted keys and their values",
            ));
        };
        if parameter_specs.is_empty() {
            return Err(bad(
                origin,
                "sweep.parameters",
                "{}",
                "must name at least one parameter",
            ));
        }
        // A --set on a swept key would be overwritten at every point.
        for arg in overrides {
            let set_key = arg.split_once('=').map_or(arg.as_str(), |(k, _)| k).trim();
            let swept = parameter_specs
                .keys()
                .find(|p| *p == set_key || p.starts_with(&format!("{set_key}.")));
            if let Some(swept) = swept {
                return Err(Error::BadOverride {
                    arg: arg.clone(),
                    message: format!(
                        "`{swept}` is varied by the sweep ([sweep.parameters] in {origin}), so this --set \
                         would be overwritten at every point; remove the --set, or remove the key from \
                         [sweep.parameters]"
                    ),
                });
            }
        }
        let mut parameters = Vec::new();
        let mut choices: Vec<Vec<Value>> = Vec::new();
        let mut bounds: Vec<(f64, f64, bool)> = Vec::new();
        for (key, value) in parameter_specs {
            if let Some(why) = not_a_model_parameter(key) {
                return Err(bad(
                    origin,
                    &format!("sweep.parameters.\"{key}\""),
                    value,
                    &format!(
                        "cannot be swept: a sweep point is a variant of the model, and {why}; \
                         remove \"{key}\" from [sweep.parameters]"
                    ),
                ));
            }
            let current = key
                .split('.')
                .try_fold(&defaults, |node, part| node.get(part));
            let integer = match current {
                Some(Value::Table(_)) => {
                    return Err(bad(
                        origin,
                        &format!("sweep.parameters.\"{key}\""),
                        value,
                        "names a table of scenario keys, not one value: a sweep parameter is one key, e.g. mediators.initial_active",
                    ));
                }
                None => return Err(unknown_parameter(&base, &defaults, origin, key)),
                Some(Value::Integer(_)) => true,
                Some(_) => false,
            };
            let name = format!("sweep.parameters.\"{key}\"");
            match (design, value) {
                (Design::Grid, Value::Array(list)) if !list.is_empty() => {
                    choices.push(list.clone())
                }
                (Design::Grid, Value::Table(t)) if t.contains_key("start") => {
                    let number = |k: &str| {
                        t.get(k)
                            .and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
                    };
                    let steps = t.get("steps").and_then(Value::as_integer);
                    match (number("start"), number("stop"), steps) {
                        (Some(start), Some(stop), Some(steps)) if (1..=10_000).contains(&steps) => {
                            choices.push(sampling::range(start, stop, steps as usize, integer));
                        }
                        _ => {
                            return Err(bad(
                                origin,
                                &name,
                                value,
                                "a range needs numbers start, stop and a whole number of steps in [1, 10000]",
                            ));
                        }
                    }
                }
                (Design::Lhs | Design::Sobol, Value::Table(t)) if t.contains_key("low") => {
                    let number = |k: &str| {
                        t.get(k)
                            .and_then(|v| v.as_float().or(v.as_integer().map(|i| i as f64)))
                    };
                    match (number("low"), number("high")) {
                        (Some(low), Some(high))
                            if low < high && low.is_finite() && high.is_finite() =>
                        {
                            bounds.push((low, high, integer))
                        }
                        _ => {
                            return Err(bad(
                                origin,
                                &name,
                                value,
                                "bounds need numbers low < high",
                            ));
                        }
                    }
                }
                (Design::Grid, _) => {
                    return Err(bad(
                        origin,
                        &name,
                        value,
                        "must be a non-empty list of values or a range { start, stop, steps }",
                    ));
                }
                _ => {
                    return Err(bad(
                        origin,
                        &name,
                        value,
                        "must give bounds { low, high } for design lhs or sobol",
                    ));
                }
            }
            parameters.push(key.clone());
        }

        let mut outputs = Vec::new();
        let mut base_samples = 0;
        let points: Vec<Vec<Value>> = match design {
            Design::Grid => {
                let total = choices
                    .iter()
                    .try_fold(1u128, |n, c| n.checked_mul(c.len() as u128));
                let Some(total) = total
                    .filter(|&n| n <= MAX_POINTS as u128)
                    .map(|n| n as usize)
                else {
                    let shown: Vec<String> = choices.iter().map(|c| c.len().to_string()).collect();
                    let total =
                        total.map_or_else(|| format!("over {}", u128::MAX), |n| n.to_string());
                    return Err(bad(
                        origin,
                        "sweep.parameters",
                        format!("a grid of {} = {total} points", shown.join(" x ")),
                        &format!(
                            "is too large: a sweep may have at most {MAX_POINTS} points; \
                             use fewer values or steps, or design = \"lhs\""
                        ),
                    ));
                };
                sampling::grid(&choices, total)
            }
            Design::Lhs => {
                let n = count("points", raw.points, 0, 2, MAX_POINTS as i64)?;
                if n < 2 {
                    return Err(bad(
                        origin,
                        "sweep.points",
                        "(missing)",
                        "design lhs needs points, a whole number of at least 2",
                    ));
                }
                sampling::latin_hypercube(n, &bounds, sampling_seed)
            }
            Design::Sobol => {
                base_samples = count("base_samples", raw.base_samples, 0, 2, 100_000)?;
                if base_samples < 2 {
                    return Err(bad(
                        origin,
                        "sweep.base_samples",
                        "(missing)",
                        "design sobol needs base_samples, a whole number of at least 2",
                    ));
                }
                let Some(list) = &raw.outputs else {
                    return Err(bad(
                        origin,
                        "sweep.outputs",
                        "(missing)",
                        "design sobol needs outputs, a list of \"metric,group,month\"",
                    ));
                };
                for item in list {
                    let parsed = {
                        let parts: Vec<&str> = item.split(',').map(str::trim).collect();
                        (parts.len() == 3).then(|| Output {
                            metric: parts[0].to_string(),
                            group: parts[1].to_string(),
                            month: parts[2].to_string(),
                        })
                    };
                    match parsed {
                        Some(o) => outputs.push(o),
                        None => {
                            return Err(bad(
                                origin,
                                "sweep.outputs",
                                Value::String(item.clone()),
                                "each output is \"metric,group,month\" (month may be empty)",
                            ));
                        }
                    }
                }
                // Saltelli's design runs N(d+2) points: the same cap as a
                // grid's, checked before the points are drawn.
                let d = bounds.len();
                let total = base_samples.saturating_mul(d + 2);
                if total > MAX_POINTS {
                    return Err(bad(
                        origin,
                        "sweep.base_samples",
                        base_samples,
                        &format!(
                            "gives N(d+2) = {base_samples} x ({d} + 2) = {total} points with {d} parameters, \
                             above the limit of {MAX_POINTS} points for any sweep; \
                             use base_samples of at most {}",
                            MAX_POINTS / (d + 2)
                        ),
                    ));
                }
                sampling::saltelli_points(base_samples, &bounds, sampling_seed)
            }
        };

        let mut sweep = Sweep {
            text: text.to_string(),
            origin: origin.to_string(),
            sha256,
            base,
            overrides: overrides.to_vec(),
            design,
            parameters,
            points,
            outputs,
            bootstrap,
            base_samples,
            replications_file,
            format: Format::Csv,
            base_scenario,
            values_per_replication: 0,
        };
        // Validate every point now: a bad combination costs seconds, not a
        // run. Note the largest catalog (few distinct ones: it depends only
        // on the program's months and on the design's shape).
        let mut catalogs = Vec::new();
        for point in 0..sweep.points.len() {
            let scenario = sweep.scenario(point)?;
            let shape = (scenario.program_months(), scenario.shape());
            if !catalogs.contains(&shape) {
                catalogs.push(shape);
                sweep.values_per_replication = sweep
                    .values_per_replication
                    .max(crate::measure::metrics::catalog(shape.0, shape.1).len());
            }
        }
        if design == Design::Sobol {
            let catalog = crate::measure::metrics::catalog(
                sweep.base_scenario.program_months(),
                sweep.base_scenario.shape(),
            );
            for o in &sweep.outputs {
                let month: Option<u32> = if o.month.is_empty() {
                    None
                } else {
                    o.month.parse().ok()
                };
                if !catalog
                    .iter()
                    .any(|k| k.metric == o.metric && k.group == o.group && k.month == month)
                {
                    return Err(bad(
                        origin,
                        "sweep.outputs",
                        o.name(),
                        "is not a row of this scenario's summary.csv",
                    ));
                }
            }
        }
        Ok(sweep)
    }

    /// The scenario of one point: the base, the user's `--set`s, then the
    /// point's values.
    pub fn scenario(&self, point: usize) -> Result<Scenario> {
        let mut all = self.overrides.clone();
        for (key, value) in self.parameters.iter().zip(&self.points[point]) {
            all.push(format!("{key}={value}"));
        }
        Scenario::from_table(
            self.base.clone(),
            None,
            &format!("{} (point {point})", self.origin),
            &all,
            self.sha256.clone(),
        )
    }

    /// The leading columns of a point's rows.
    pub fn prefix(&self, point: usize) -> RowPrefix {
        let mut columns = String::from("point");
        let mut values = point.to_string();
        for (key, value) in self.parameters.iter().zip(&self.points[point]) {
            columns.push(',');
            columns.push_str(key);
            values.push(',');
            values.push_str(&field(value));
        }
        RowPrefix { columns, values }
    }
}

/// Writes the point table of a sweep (for printing).
pub fn describe(sweep: &Sweep) -> String {
    let mut text = String::new();
    for (p, values) in sweep.points.iter().enumerate().take(5) {
        let shown: Vec<String> = values.iter().map(field).collect();
        text.push_str(&format!("  point {p}: {}\n", shown.join(", ")));
    }
    if sweep.points.len() > 5 {
        text.push_str(&format!("  ... {} points in all\n", sweep.points.len()));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sweep(spec: &str) -> Result<Sweep> {
        Sweep::from_toml_str(&format!("name = \"s\"\n{spec}"), "s.toml", &[])
    }

    #[test]
    fn grid_is_the_cartesian_product() {
        let s = sweep(
            "[sweep.parameters]\n\"mediators.initial_active\" = [10, 20]\n\"consent.victim_probability\" = { start = 0.3, stop = 0.7, steps = 3 }\n",
        )
        .unwrap();
        assert_eq!(s.points.len(), 6);
        assert_eq!(s.points[0], vec![Value::Integer(10), Value::Float(0.3)]);
        assert_eq!(s.points[5], vec![Value::Integer(20), Value::Float(0.7)]);
        assert_eq!(s.prefix(1).values, "1,10,0.5");
        assert_eq!(
            s.prefix(1).columns,
            "point,mediators.initial_active,consent.victim_probability"
        );
        assert_eq!(s.scenario(4).unwrap().raw.mediators.initial_active, 20);
    }

    #[test]
    fn bad_sweeps_are_explained() {
        let err = sweep("[sweep.parameters]\n\"mediators.initial_activ\" = [1]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("mediators.initial_activ"), "{err}");
        let err = sweep("[sweep.parameters]\n\"consent.victim_probability\" = [0.5, 1.5]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("point 1") && err.contains("consent.victim_probability = 1.5"),
            "{err}"
        );
        let err = sweep("[sweep]\ndesign = \"lhs\"\npoints = 4\n[sweep.parameters]\n\"referrals.per_month\" = [1, 2]\n").unwrap_err().to_string();
        assert!(err.contains("bounds"), "{err}");
        let err = sweep("[sweep]\ndesgn = \"grid\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("sweep.desgn"), "{err}");
        assert!(sweep("").unwrap_err().to_string().contains("[sweep]"));
    }
}
