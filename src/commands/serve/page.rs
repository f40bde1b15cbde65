//! What the page shows and what its buttons download: the levers and
//! their baseline values, a run's numbers and charts as HTML (drawn by the
//! report's code, `crate::output::report`), the changed scenario as TOML,
//! and the run's CSVs, all made in memory.
//!
//! The page itself (`assets/`) is static and embedded in the binary, so it
//! works offline; its script only sends the changes and puts the HTML it
//! gets back in place.

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::analysis::compare::{CompareRow, write_compare};
use crate::measure::diagnosis;
use crate::output::csv::{RowPrefix, number_field, optional_field, write_diagnosis};
use crate::output::report::compare::{HEADLINES, neg, number};
use crate::output::report::svg::escape;
use crate::output::report::{self, PAGE_STYLE};
use crate::scenario::{resolved_document, value_at};

use super::state::{Computed, Refusal, State};

/// The page, its script and its style, embedded: nothing is fetched from
/// the network.
const INDEX_HTML: &str = include_str!("assets/index.html");
pub const APP_JS: &str = include_str!("assets/app.js");
pub const STYLE_CSS: &str = include_str!("assets/style.css");

/// A lever of the panel: its dotted key, its label, and for a choice its
/// values (a number otherwise). Any other key can be added on the page by
/// its dotted name.
struct Lever {
    key: &'static str,
    label: &'static str,
    choices: &'static [&'static str],
}

const fn number_lever(key: &'static str, label: &'static str) -> Lever {
    Lever {
        key,
        label,
        choices: &[],
    }
}

/// The levers policymakers asked for, in panel order (the keys of
/// docs/scenario-reference.md).
const LEVERS: [Lever; 15] = [
    number_lever("referrals.per_month", "Referrals per month"),
    Lever {
        key: "consent.offender_mode",
        label: "Offender consent",
        choices: &["voluntary", "court_ordered"],
    },
    number_lever(
        "consent.offender_probability",
        "Offender consent probability",
    ),
    number_lever("consent.victim_probability", "Victim consent probability"),
    number_lever("mediators.initial_active", "Initial mediator pool"),
    number_lever("mediators.cohort_size", "Volunteers per training cohort"),
    number_lever(
        "mediation.agreement_probability",
        "Agreement probability (face to face)",
    ),
    Lever {
        key: "treatment.shape",
        label: "Shape of the effect",
        choices: &["fade", "constant", "piecewise", "none"],
    },
    number_lever(
        "treatment.hazard_ratio_initial",
        "Initial hazard ratio of mediated youths",
    ),
    number_lever(
        "treatment.half_life_months",
        "Half-life of the effect (months)",
    ),
    number_lever(
        "costs.coordinator_per_month",
        "Coordination staff per month ($)",
    ),
    number_lever("costs.training_per_mediator", "Training per mediator ($)"),
    number_lever("costs.per_mediation_case", "Cost per mediated case ($)"),
    number_lever(
        "costs.agency_per_case",
        "Agency's cost per case as usual ($)",
    ),
    number_lever("costs.discount_rate", "Annual discount rate"),
];

/// A resolved value as the page's input shows it, and as a `--set` would
/// write it back: strings bare, numbers as TOML writes them, tables and
/// lists inline.
fn value_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The page with its configuration (scenario, replications, seed, levers
/// at their baseline values) in place.
pub fn index(state: &State) -> String {
    let tree = toml::Value::try_from(&state.baseline.scenario.raw).ok();
    let levers: Vec<Value> = LEVERS
        .iter()
        .filter_map(|lever| {
            let value = value_at(tree.as_ref()?, lever.key)?;
            Some(json!({
                "key": lever.key,
                "label": lever.label,
                "choices": lever.choices,
                "number": matches!(value, toml::Value::Integer(_) | toml::Value::Float(_)),
                "baseline": value_text(value),
            }))
        })
        .collect();
    let config = json!({
        "scenario": state.baseline.scenario.name(),
        "file": state.origin,
        "reps": state.reps,
        "seed": state.seed,
        "levers": levers,
    });
    // `</` cannot end the script element the configuration sits in.
    let config = config.to_string().replace("</", "<\\/");
    INDEX_HTML
        .replace("{{TITLE}}", &escape(state.baseline.scenario.name()))
        .replace("/*{{REPORT_STYLE}}*/", PAGE_STYLE)
        .replace("{{CONFIG}}", &config)
}

/// The paired differences from the baseline, one row per headline number:
/// each cell as the compare page prints it, and each row's numbers as
/// `compare.csv` writes them in `data-` attributes (what the browser test
/// checks against `vomsim compare`).
fn differences_table(rows: &[CompareRow]) -> String {
    let mut html = String::from(
        "<table class=\"numbers\" id=\"differences\"><tr><th>key number</th><th>baseline</th><th>with the changes</th><th>change</th><th>95% interval</th><th>chance the change does better</th></tr>",
    );
    for (label, metric, group, month, unit) in HEADLINES {
        let Some(r) = rows
            .iter()
            .find(|r| r.metric == metric && r.group == group && r.month == month)
        else {
            continue;
        };
        let better = r
            .p_a_better
            .map_or_else(|| "–".to_string(), |p| format!("{:.0}%", (1.0 - p) * 100.0));
        let _ = write!(
            html,
            "<tr data-metric=\"{}\" data-group=\"{}\" data-month=\"{}\" data-a=\"{}\" data-b=\"{}\" data-difference=\"{}\" data-lower=\"{}\" data-upper=\"{}\" data-p=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} to {}</td><td>{better}</td></tr>",
            escape(metric),
            escape(group),
            escape(month),
            number_field(r.a_mean),
            number_field(r.b_mean),
            number_field(r.difference),
            number_field(r.lower),
            number_field(r.upper),
            optional_field(r.p_a_better),
            escape(label),
            number(unit, r.a_mean, false),
            number(unit, r.b_mean, false),
            number(unit, neg(r.difference), true),
            number(unit, neg(r.upper), true),
            number(unit, neg(r.lower), true),
        );
    }
    html.push_str("</table>");
    html
}

/// The answer to a run: the changes, the differences from the baseline
/// (none for the baseline itself), and the run's own numbers and charts.
pub fn run_json(state: &State, computed: &Computed) -> Result<Value, Refusal> {
    let parameters = serde_json::to_value(&computed.scenario.raw).unwrap_or(Value::Null);
    let fragments = report::run_fragments(&computed.summary_csv, &state.scenario_text, &parameters)
        .map_err(|e| Refusal {
            status: 500,
            message: e.to_string(),
        })?;
    let differences = if computed.sets.is_empty() {
        String::new()
    } else {
        differences_table(&computed.rows)
    };
    Ok(json!({
        "sets": computed.sets,
        "seconds": computed.seconds,
        "differences": differences,
        "summary": escape(&fragments.summary),
        "key_numbers": fragments.key_numbers,
        "charts": fragments.charts,
    }))
}

/// The changed scenario as TOML: the baseline's file resolved with the
/// changes (`vomsim validate`'s text), the changes first as comments, so
/// that `vomsim run` on it gives the page's numbers.
pub fn scenario_toml(state: &State, computed: &Computed) -> String {
    let all: Vec<String> = state
        .base_sets
        .iter()
        .chain(&computed.sets)
        .cloned()
        .collect();
    let mut text = format!(
        "# Written by vomsim serve: {}, resolved (every key at the value the page ran)\n",
        state.origin
    );
    if all.is_empty() {
        text.push_str("# with no changes: the scenario as it was read\n");
    } else {
        text.push_str("# with these changes, as `vomsim run` takes them:\n");
        for set in &all {
            let _ = writeln!(text, "# --set {set}");
        }
    }
    let _ = writeln!(
        text,
        "# The page's numbers: vomsim run THIS_FILE --seed {} --reps {}",
        state.seed, state.reps
    );
    text.push_str(&resolved_document(
        &state.scenario_text,
        &computed.scenario.raw,
        &all,
    ));
    text
}

/// The CSV files a run offers for download, by name.
pub const CSV_FILES: [&str; 3] = ["summary.csv", "diagnosis.csv", "compare.csv"];

/// One of [`CSV_FILES`] of a run, made in memory (`None` for another name).
pub fn csv_file(computed: &Computed, name: &str) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    match name {
        "summary.csv" => return Some(computed.summary_csv.clone()),
        "diagnosis.csv" => {
            let rows = diagnosis::diagnose(&computed.result.catalog, &computed.result.values);
            write_diagnosis(&mut bytes, Some(&RowPrefix::run()), true, &rows).ok()?;
        }
        "compare.csv" => write_compare(&mut bytes, true, &computed.rows).ok()?,
        _ => return None,
    }
    Some(bytes)
}
