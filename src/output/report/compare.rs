//! The report of a `compare` folder: the scenarios side by side. Each
//! scenario's headline numbers, then for each scenario against the
//! baseline (the first run given) the differences with their 95% intervals
//! and the probability that it does better, read from `compare.csv`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use super::rules::Unit;
use super::svg::{Axes, Bar, bar_chart, dollars, escape};
use crate::error::{Error, Result};
use crate::measure::names::{group, metric};
use crate::output::csv::COMPARE_HEADER;
use crate::output::manifest::CompareManifest;

/// One row of `compare.csv`.
#[derive(Debug, Clone)]
struct Row {
    a_mean: f64,
    b_mean: f64,
    /// A - B and its interval.
    difference: f64,
    lower: f64,
    upper: f64,
    p_a_better: Option<f64>,
    paired: bool,
}

/// The headline numbers, in page order: label, metric, group, month, unit
/// (also `vomsim serve`'s rows of differences).
pub const HEADLINES: [(&str, &str, &str, &str, Unit); 10] = [
    (
        "share mediated",
        metric::SHARE,
        group::MEDIATED,
        "",
        Unit::Share,
    ),
    (
        "share returned for waiting",
        metric::SHARE,
        group::RETURNED_WAIT,
        "",
        Unit::Share,
    ),
    (
        "12-month rearrest, all referred",
        metric::REARREST,
        group::REFERRED,
        "12",
        Unit::Share,
    ),
    (
        "30-month rearrest, all referred",
        metric::REARREST,
        group::REFERRED,
        "30",
        Unit::Share,
    ),
    (
        "true effect ratio at 12 months",
        metric::EFFECT_RATIO,
        group::TRUE_ATT,
        "12",
        Unit::Ratio,
    ),
    (
        "rearrests averted per 100 referrals, 30 months",
        metric::REARRESTS_AVERTED_PER_100,
        group::PROGRAM,
        "30",
        Unit::Count,
    ),
    (
        "cost per referral",
        metric::COST_PER_REFERRAL,
        group::PROGRAM,
        "",
        Unit::Dollars,
    ),
    (
        "net benefit per referral",
        metric::NET_BENEFIT_PER_REFERRAL,
        group::PROGRAM,
        "",
        Unit::Dollars,
    ),
    (
        "benefit-cost ratio",
        metric::BENEFIT_COST_RATIO,
        group::PROGRAM,
        "",
        Unit::Ratio,
    ),
    (
        "chance that benefits exceed costs",
        metric::P_BENEFITS_EXCEED_COSTS,
        group::PROGRAM,
        "",
        Unit::Share,
    ),
];

/// B - A from A - B, without a negative zero.
pub fn neg(v: f64) -> f64 {
    0.0 - v
}

/// A number as the page prints it; `signed` for differences. A value
/// that rounds to zero is printed without a sign.
pub fn number(unit: Unit, v: f64, signed: bool) -> String {
    let text = signed_number(unit, v, signed);
    if text.chars().all(|c| !c.is_ascii_digit() || c == '0') {
        text.trim_start_matches(['-', '+']).replacen("-$", "$", 1)
    } else {
        text
    }
}

fn signed_number(unit: Unit, v: f64, signed: bool) -> String {
    if !v.is_finite() {
        return "–".to_string();
    }
    let sign = if signed && v > 0.0 { "+" } else { "" };
    match unit {
        Unit::Share if signed => format!("{sign}{:.1} points", v * 100.0),
        Unit::Share => format!("{:.1}%", v * 100.0),
        Unit::Dollars => format!("{sign}{}", dollars(v)),
        Unit::Count | Unit::Days => format!("{sign}{v:.1}"),
        Unit::Ratio => format!("{sign}{v:.2}"),
    }
}

/// The runs (A first) and the rows of each run B, by (metric, group, month).
type Compared = (Vec<String>, Vec<HashMap<(String, String, String), Row>>);

fn read(dir: &Path, manifest: &CompareManifest) -> Result<Compared> {
    let bad = |requirement: String| Error::BadArgument {
        option: "report".to_string(),
        value: dir.display().to_string(),
        requirement,
    };
    let mut reader = csv::Reader::from_path(dir.join("compare.csv"))
        .map_err(|e| bad(format!("holds no readable compare.csv ({e})")))?;
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    // compare.csv of two runs written before the `b` column: B is the
    // manifest's.
    let old_header = COMPARE_HEADER.trim_end_matches(",b");
    let with_b = headers.iter().eq(COMPARE_HEADER.split(','));
    if !with_b && !headers.iter().eq(old_header.split(',')) {
        return Err(bad(format!(
            "has a compare.csv whose header is not vomsim's (`{COMPARE_HEADER}`); was it edited?"
        )));
    }
    let mut runs = vec![manifest.a.clone(), manifest.b.clone()];
    runs.extend(manifest.more.iter().cloned());
    let mut rows: Vec<HashMap<(String, String, String), Row>> =
        vec![HashMap::new(); runs.len() - 1];
    for (line, record) in reader.records().enumerate() {
        let r = record.map_err(|e| bad(e.to_string()))?;
        let row = line + 2;
        let number = |i: usize| -> Result<f64> {
            match &r[i] {
                "" => Ok(f64::NAN),
                text => text
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| {
                        bad(format!(
                            "compare.csv row {row} holds {text:?} where a number belongs"
                        ))
                    }),
            }
        };
        let b = if with_b { &r[11] } else { manifest.b.as_str() };
        let Some(slot) = runs.iter().skip(1).position(|run| run == b) else {
            return Err(bad(format!(
                "compare.csv row {row} names run {b:?}, which its manifest.json does not list"
            )));
        };
        let p = number(9)?;
        rows[slot].insert(
            (r[0].to_string(), r[1].to_string(), r[2].to_string()),
            Row {
                a_mean: number(3)?,
                b_mean: number(4)?,
                difference: number(5)?,
                lower: number(6)?,
                upper: number(7)?,
                p_a_better: p.is_finite().then_some(p),
                paired: &r[10] == "true",
            },
        );
    }
    Ok((runs, rows))
}

fn short(run: &str) -> String {
    Path::new(run)
        .file_name()
        .map_or_else(|| run.to_string(), |n| n.to_string_lossy().into_owned())
}

/// The compare page's body.
pub(super) fn body(dir: &Path, manifest: &CompareManifest) -> Result<(String, String)> {
    let (runs, rows) = read(dir, manifest)?;
    let names: Vec<String> = runs.iter().map(|r| short(r)).collect();
    let title = format!("{} against {}", names[1..].join(", "), names[0]);
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>vomsim comparison: {}</h1><p class=\"lead\">The baseline is <b>{}</b>; {} {} compared with it. Each difference is the alternative minus the baseline over one simulated program year, with the range that holds 95% of them, and the chance that the alternative does better.</p>",
        escape(&title),
        escape(&names[0]),
        escape(&names[1..].join(", ")),
        if names.len() > 2 { "are" } else { "is" }
    );
    for (name, rows) in names[1..].iter().zip(&rows) {
        let paired = rows.values().next().is_some_and(|r| r.paired);
        let _ = write!(
            body,
            "<p class=\"note\">{} against {}: {}.</p>",
            escape(name),
            escape(&names[0]),
            if paired {
                "paired by replication (the same seed and replications: both saw the same youths, so the differences are the scenarios' doing, not chance)"
            } else {
                "independent runs (different seeds or replications, or a run without replications.csv): the intervals include the noise of both runs"
            }
        );
    }
    // Headline numbers side by side.
    let _ = write!(
        body,
        "<section><h2>Headline numbers</h2><p>Means across simulated program years.</p><table class=\"numbers\"><tr><th>key number</th>"
    );
    for (i, name) in names.iter().enumerate() {
        let role = if i == 0 { " (baseline)" } else { "" };
        let _ = write!(body, "<th>{}{role}</th>", escape(name));
    }
    body.push_str("</tr>");
    for (label, metric, group, month, unit) in HEADLINES {
        let key = (metric.to_string(), group.to_string(), month.to_string());
        let Some(first) = rows.iter().find_map(|r| r.get(&key)) else {
            continue;
        };
        let _ = write!(
            body,
            "<tr><td>{}</td><td>{}</td>",
            escape(label),
            number(unit, first.a_mean, false)
        );
        for r in &rows {
            let cell = r
                .get(&key)
                .map_or_else(|| "–".to_string(), |x| number(unit, x.b_mean, false));
            let _ = write!(body, "<td>{cell}</td>");
        }
        body.push_str("</tr>");
    }
    body.push_str("</table></section>");
    // Differences against the baseline, one table per alternative.
    for (name, rows) in names[1..].iter().zip(&rows) {
        let _ = write!(
            body,
            "<section><h2>{} minus {}</h2><table class=\"numbers\"><tr><th>key number</th><th>difference</th><th>95% interval</th><th>chance {} does better</th></tr>",
            escape(name),
            escape(&names[0]),
            escape(name)
        );
        for (label, metric, group, month, unit) in HEADLINES {
            let key = (metric.to_string(), group.to_string(), month.to_string());
            let Some(r) = rows.get(&key) else {
                continue;
            };
            let better = r
                .p_a_better
                .map_or_else(|| "–".to_string(), |p| format!("{:.0}%", (1.0 - p) * 100.0));
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{} to {}</td><td>{better}</td></tr>",
                escape(label),
                number(unit, neg(r.difference), true),
                number(unit, neg(r.upper), true),
                number(unit, neg(r.lower), true)
            );
        }
        body.push_str("</table></section>");
    }
    // Two charts of the differences, every alternative a bar.
    for (title, metric, group, month, unit, text) in [
        (
            "Net benefit per referral, minus the baseline's",
            metric::NET_BENEFIT_PER_REFERRAL,
            group::PROGRAM,
            "",
            Unit::Dollars,
            "Above zero: the alternative returns more per referral than the baseline. Bars are the mean difference, whiskers the range holding 95% of program years.",
        ),
        (
            "12-month rearrest of all referred youths, minus the baseline's",
            metric::REARREST,
            group::REFERRED,
            "12",
            Unit::Share,
            "Below zero: fewer youths rearrested within a year than under the baseline.",
        ),
    ] {
        let key = (metric.to_string(), group.to_string(), month.to_string());
        let bars: Vec<Bar> = names[1..]
            .iter()
            .zip(&rows)
            .filter_map(|(name, r)| {
                let r = r.get(&key)?;
                Some((
                    name.clone(),
                    neg(r.difference),
                    Some((neg(r.upper), neg(r.lower))),
                ))
                .filter(|b| b.1.is_finite())
            })
            .collect();
        let axes = Axes {
            title: title.to_string(),
            y_label: if unit == Unit::Share {
                "difference (share)".to_string()
            } else {
                "difference ($ per referral)".to_string()
            },
            percent: unit == Unit::Share,
            money: unit == Unit::Dollars,
            y_from_zero: true,
            reference_y: Some(0.0),
            // Zero always in view; shares at least +-5 points.
            y_span: Some(if unit == Unit::Share {
                (-0.05, 0.05)
            } else {
                (0.0, 0.0)
            }),
            ..Axes::default()
        };
        if let Some(chart) = bar_chart(&axes, &bars) {
            let _ = write!(
                body,
                "<section><h2>{}</h2><p>{}</p><figure>{chart}</figure></section>",
                escape(title),
                escape(text)
            );
        }
    }
    Ok((title, body))
}
