//! `vomsim report` on a `size` or `plan` folder: a self-contained page of
//! the search (the wait quantile and the share of replications meeting the
//! target against the value tried, the target drawn as a line; the plans'
//! costs). Kept apart from the run report (`report`), whose charts it
//! borrows.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::folder;
use crate::output::ownership;
use crate::output::report::svg::{Axes, COLORS, Series, dollars, escape, line_chart, scatter};

/// Whether `dir` is a `size` or `plan` folder (its page is this one).
pub fn is_planning_folder(dir: &Path) -> bool {
    dir.join("size.csv").is_file() || dir.join("plan.csv").is_file()
}

/// A CSV's rows as maps from column to text.
fn rows(path: &Path) -> Result<Vec<std::collections::HashMap<String, String>>> {
    let bad = |why: String| Error::BadArgument {
        option: "DIR".to_string(),
        value: path.display().to_string(),
        requirement: why,
    };
    let mut reader =
        ::csv::Reader::from_path(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let headers = reader
        .headers()
        .map_err(|e| bad(format!("cannot read it: {e}")))?
        .clone();
    reader
        .records()
        .map(|r| {
            let r = r.map_err(|e| bad(format!("is not a CSV vomsim wrote: {e}")))?;
            Ok(headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect())
        })
        .collect()
}

fn number(row: &std::collections::HashMap<String, String>, column: &str) -> f64 {
    row.get(column)
        .and_then(|v| v.parse().ok())
        .unwrap_or(f64::NAN)
}

fn axes(title: &str, x: &str, y: &str, percent: bool, reference: Option<f64>) -> Axes {
    Axes {
        title: title.to_string(),
        x_label: x.to_string(),
        y_label: y.to_string(),
        percent,
        reference_y: reference,
        y_from_zero: true,
        money: false,
        // Shares span 0-100% (the report's rule for a share axis).
        y_span: percent.then_some((0.0, 1.0)),
        x_span: None,
    }
}

/// The sections of a size folder's page.
/// A section: its title, its text and its chart (none without data).
type Section = (String, String, Option<String>);

/// A page's lead paragraph and its sections.
type Page = (String, Vec<Section>);

fn size_sections(dir: &Path) -> Result<Page> {
    let rows = rows(&dir.join("size.csv"))?;
    let first = rows.first();
    let target = |c: &str| first.map_or(f64::NAN, |r| number(r, c));
    let wait_to = first
        .and_then(|r| r.get("wait_to").cloned())
        .unwrap_or_else(|| "assignment".to_string());
    let (wait_days, quantile, confidence) = (
        target("wait_days"),
        target("quantile"),
        target("confidence"),
    );
    let answer = rows
        .iter()
        .find(|r| r.get("meets_target").is_some_and(|m| m == "true"))
        .and_then(|r| r.get("value").cloned());
    let lead = match &answer {
        Some(v) => format!(
            "The smallest value meeting the target is {v}: {:.0}% of waits to {wait_to} within {wait_days} days in at least {:.0}% of simulated program years.",
            quantile * 100.0,
            confidence * 100.0
        ),
        None => "No value tried meets the target.".to_string(),
    };
    let points = |c: &str| -> Vec<(f64, f64)> {
        rows.iter()
            .map(|r| (number(r, "value"), number(r, c)))
            .filter(|p| p.0.is_finite() && p.1.is_finite())
            .collect()
    };
    let wait = line_chart(
        &axes(
            &format!("Wait q{:.0} against the lever", quantile * 100.0),
            "value tried",
            "days",
            false,
            Some(wait_days),
        ),
        &[Series {
            name: format!("wait q{:.0}", quantile * 100.0),
            color: COLORS[0],
            points: points("wait_days_q"),
            band: Vec::new(),
            dashed: false,
        }],
    );
    let band: Vec<(f64, f64, f64)> = rows
        .iter()
        .map(|r| {
            (
                number(r, "value"),
                number(r, "share_lower"),
                number(r, "share_upper"),
            )
        })
        .filter(|b| b.0.is_finite() && b.1.is_finite() && b.2.is_finite())
        .collect();
    let share = line_chart(
        &axes(
            "Share of program years meeting the target",
            "value tried",
            "share meeting",
            true,
            Some(confidence),
        ),
        &[Series {
            name: "share meeting".to_string(),
            color: COLORS[1],
            points: points("share_meeting"),
            band,
            dashed: false,
        }],
    );
    let returned = line_chart(
        &axes(
            "Cases returned for waiting",
            "value tried",
            "share returned",
            true,
            None,
        ),
        &[Series {
            name: "returned".to_string(),
            color: COLORS[2],
            points: points("returned_share"),
            band: Vec::new(),
            dashed: false,
        }],
    );
    Ok((
        lead,
        vec![
            (
                "Waits".to_string(),
                format!(
                    "The mean over program years of each year's wait quantile; the line is the target of {wait_days} days."
                ),
                wait,
            ),
            (
                "Meeting the target".to_string(),
                format!(
                    "The share of program years meeting the target, with its Wilson 95% interval; the line is the {:.0}% asked.",
                    confidence * 100.0
                ),
                share,
            ),
            (
                "Returned cases".to_string(),
                "The share of queued cases returned to the agency for waiting.".to_string(),
                returned,
            ),
        ],
    ))
}

/// The sections of a plan folder's page.
fn plan_sections(dir: &Path) -> Result<Page> {
    let rows = rows(&dir.join("plan.csv"))?;
    let mark = |r: &std::collections::HashMap<String, String>| {
        r.get("chosen").cloned().unwrap_or_default()
    };
    let chosen = rows.iter().find(|r| mark(r) == "true");
    let lead = match chosen {
        Some(r) => format!(
            "The cheapest plan meeting the target: an initial pool of {} volunteers, cohorts of {} every {} months{}, at an expected {}; it met the target in {:.0}% of simulated programs.",
            r["initial_active"],
            r["cohort_size"],
            r["cohort_every_months"],
            if r["coordinators"] == "0" {
                String::new()
            } else {
                format!(", {} coordinators", r["coordinators"])
            },
            dollars(number(r, "cost_mean")),
            number(r, "share_meeting") * 100.0
        ),
        None => "No plan tried meets the target.".to_string(),
    };
    let group = |meets: bool| -> Vec<(f64, f64)> {
        rows.iter()
            .filter(|r| mark(r) == "false" && (r["meets_target"] == "true") == meets)
            .map(|r| (number(r, "initial_active"), number(r, "cost_mean")))
            .collect()
    };
    let chosen_point: Vec<(f64, f64)> = chosen
        .map(|r| (number(r, "initial_active"), number(r, "cost_mean")))
        .into_iter()
        .collect();
    let mut cost_axes = axes("Plans tried", "initial pool", "expected cost", false, None);
    cost_axes.money = true;
    let chart = scatter(
        &cost_axes,
        &[
            ("meets the target".to_string(), COLORS[0], group(true)),
            ("misses it".to_string(), COLORS[1], group(false)),
            ("chosen".to_string(), COLORS[6], chosen_point),
        ],
    );
    Ok((
        lead,
        vec![(
            "Cost of every plan tried".to_string(),
            "Each point is a plan (an initial pool, a cohort size and spacing): its expected cost against its initial pool. plan.csv lists them all.".to_string(),
            chart,
        )],
    ))
}

/// Writes `DIR/report.html` for a size or plan folder (atomically).
pub fn write(dir: &Path) -> Result<PathBuf> {
    let path = dir.join(ownership::REPORT_FILE);
    if path.is_dir() || (path.exists() && !ownership::is_vomsim_report(&path)) {
        return Err(Error::OutputFileUnusable {
            path: path.clone(),
            reason: "it exists and was not written by vomsim report; report replaces only its own page (move yours away first)".to_string(),
        });
    }
    ownership::remove_stale_temporaries(dir, |name| name == ownership::REPORT_FILE);
    let (kind, (lead, sections)) = if dir.join("size.csv").is_file() {
        ("size", size_sections(dir)?)
    } else {
        ("plan", plan_sections(dir)?)
    };
    let name = dir
        .file_name()
        .map_or_else(|| kind.to_string(), |n| n.to_string_lossy().into_owned());
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>vomsim report: {}</h1><p class=\"lead\">{}</p>",
        escape(&name),
        escape(&lead)
    );
    for (title, text, chart) in sections {
        let Some(chart) = chart else { continue };
        let _ = write!(
            body,
            "<section><h2>{}</h2><p>{}</p><figure>{chart}</figure></section>",
            escape(&title),
            escape(&text)
        );
    }
    let page = format!(
        "{}{}</title><style>{STYLE}</style></head><body>{body}<footer>vomsim {} — {kind}: every number comes from the scenario's assumptions and sources.</footer></body></html>\n",
        ownership::REPORT_START,
        escape(&name),
        env!("CARGO_PKG_VERSION")
    );
    folder::write_atomically(&path, |w| w.write_all(page.as_bytes()))?;
    Ok(path)
}

const STYLE: &str = "body{font-family:Helvetica,Arial,sans-serif;max-width:760px;margin:24px auto;padding:0 16px;color:#111;line-height:1.45}\
h1{font-size:24px}h2{font-size:18px;margin:28px 0 6px}\
p.lead{font-size:16px;background:#f3f6fa;padding:12px 14px;border-left:4px solid #0072B2}\
svg{max-width:100%;height:auto}footer{margin-top:32px;color:#666;font-size:12px;border-top:1px solid #ddd;padding-top:8px}";
