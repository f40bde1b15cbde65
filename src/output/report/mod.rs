//! `vomsim report DIR`: one self-contained `report.html` (inline SVG, no
//! network resources) that a policymaker can read: a summary in plain words,
//! then the funnel from referral to completed restitution, rearrest by group
//! over 30 months, the effect by study design as it fades, the program's
//! caseload and volunteers month by month, costs and benefits, and for a
//! sweep, each key metric against the swept parameters.

mod assumptions;
pub mod compare;
pub mod rules;
pub mod svg;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use assumptions::Assumption;
use rules::{Drawn, Unit};
use svg::{Axes, COLORS, Part, Series, Stack, bar_chart, dollars, escape, stacked_bar_chart};

use crate::error::{Error, Result};
use crate::measure::names::{group, metric};
use crate::output::csv::SUMMARY_HEADER;
use crate::output::folder;
use crate::output::manifest::Manifest;
use crate::output::ownership;

/// One summary row's numbers.
#[derive(Debug, Clone, Copy)]
struct Stat {
    mean: f64,
    q025: f64,
    q975: f64,
}

/// The rows of one point (a run has one).
#[derive(Debug, Default)]
struct Point {
    /// Swept parameter values, in column order.
    values: Vec<f64>,
    rows: HashMap<(String, String, String), Stat>,
}

/// The program months a point reports caseload for: every month up to the
/// longest a scenario can have (intake and tail), not just the intake cap.
fn program_months(p: &Point) -> Vec<u32> {
    (1..=crate::model::time::MAX_PROGRAM_MONTHS)
        .filter(|m| {
            p.get(metric::ACTIVE_MEDIATORS, group::PROGRAM, &m.to_string())
                .is_some()
        })
        .collect()
}

impl Point {
    fn get(&self, metric: &str, group: &str, month: &str) -> Option<Stat> {
        self.rows
            .get(&(metric.to_string(), group.to_string(), month.to_string()))
            .copied()
    }

    fn mean(&self, metric: &str, group: &str, month: &str) -> Option<f64> {
        self.get(metric, group, month).map(|s| s.mean)
    }

    /// A metric by month as a line with its 95% band.
    fn series(
        &self,
        metric: &str,
        group: &str,
        months: impl Iterator<Item = u32>,
        name: &str,
        color: &'static str,
        dashed: bool,
    ) -> Series {
        let mut points = Vec::new();
        let mut band = Vec::new();
        for m in months {
            if let Some(s) = self.get(metric, group, &m.to_string()) {
                points.push((f64::from(m), s.mean));
                band.push((f64::from(m), s.q025, s.q975));
            }
        }
        Series {
            name: name.to_string(),
            color,
            points,
            band,
            dashed,
        }
    }
}

/// What the report shows: the run's (or sweep's) points and manifest.
struct Data {
    name: String,
    parameters: Vec<String>,
    points: Vec<Point>,
    reps: Option<u64>,
    /// The parameters the scenario marks as assumptions, or why they
    /// cannot be listed.
    assumptions: std::result::Result<Vec<Assumption>, String>,
    /// A Sobol sweep's indices (`sensitivity.csv`), or none.
    sensitivity: Vec<Sensitivity>,
}

/// One row of `sensitivity.csv`: an output's (`metric,group,month`)
/// indices for one parameter, each (estimate, lower, upper).
#[derive(Debug, Clone)]
struct Sensitivity {
    output: String,
    parameter: String,
    first: (f64, f64, f64),
    total: (f64, f64, f64),
}

/// The rows of a sweep's `sensitivity.csv` (none when it has none).
fn read_sensitivity(dir: &Path) -> Result<Vec<Sensitivity>> {
    let path = dir.join("sensitivity.csv");
    if !path.is_file() {
        return Ok(Vec::new());
    }
    let bad = |requirement: String| Error::BadArgument {
        option: "report".to_string(),
        value: dir.display().to_string(),
        requirement,
    };
    let mut reader = csv::Reader::from_path(&path)
        .map_err(|e| bad(format!("holds an unreadable sensitivity.csv ({e})")))?;
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    if headers.iter().collect::<Vec<_>>().join(",") != crate::output::csv::SENSITIVITY_HEADER {
        return Err(bad(format!(
            "has a sensitivity.csv whose header is not vomsim's (`{}`); was it edited?",
            crate::output::csv::SENSITIVITY_HEADER
        )));
    }
    let mut rows = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let r = record.map_err(|e| bad(e.to_string()))?;
        let number = |i: usize| -> Result<f64> {
            match &r[i] {
                "" => Ok(f64::NAN),
                text => text.parse().map_err(|_| {
                    bad(format!(
                        "sensitivity.csv row {} holds {text:?} where a number belongs",
                        line + 2
                    ))
                }),
            }
        };
        rows.push(Sensitivity {
            output: format!("{},{},{}", &r[0], &r[1], &r[2]),
            parameter: r[3].to_string(),
            first: (number(4)?, number(5)?, number(6)?),
            total: (number(7)?, number(8)?, number(9)?),
        });
    }
    Ok(rows)
}

/// The assumptions of the scenario file `file` (as the manifest names it),
/// if it can still be read and is the file that was run.
fn scenario_assumptions(
    file: &Path,
    sha256: Option<&str>,
    parameters: &serde_json::Value,
) -> std::result::Result<Vec<Assumption>, String> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        format!(
            "The scenario file {} cannot be read here ({e}), so its assumptions are not listed.",
            file.display()
        )
    })?;
    if let Some(sha) = sha256
        && crate::scenario::hash_text(&text) != sha
    {
        return Err(format!(
            "The scenario file {} has changed since this run, so its assumptions are not listed.",
            file.display()
        ));
    }
    Ok(assumptions::assumptions(&text, parameters))
}

fn read(dir: &Path) -> Result<Data> {
    let bad = |requirement: String| Error::BadArgument {
        option: "report".to_string(),
        value: dir.display().to_string(),
        requirement,
    };
    let reader = crate::output::parquet::table_reader(dir, "summary").map_err(|e| {
        bad(format!(
            "holds no readable summary.csv or summary.parquet ({e}); give a folder written by vomsim run or sweep"
        ))
    })?;
    let (parameters, points) = read_points(reader, &bad)?;
    read_manifest(dir, parameters, points, &bad)
}

/// The swept parameters and the points of a `summary.csv`, read from
/// `reader` (a folder's file, or the bytes `vomsim serve` holds in memory).
fn read_points<R: std::io::Read>(
    mut reader: csv::Reader<R>,
    bad: &dyn Fn(String) -> Error,
) -> Result<(Vec<String>, Vec<Point>)> {
    let headers = reader.headers().map_err(|e| bad(e.to_string()))?.clone();
    let metric_column = headers
        .iter()
        .position(|h| h == "metric")
        .ok_or_else(|| bad("summary.csv has no metric column".to_string()))?;
    // Rows are read by position: the header must be vomsim's, `point`, the
    // swept parameters, then the run's columns from `metric` on.
    let tail = SUMMARY_HEADER.split(',').skip(1);
    if metric_column == 0
        || headers.get(0) != Some("point")
        || !headers.iter().skip(metric_column).eq(tail)
    {
        return Err(bad(format!(
            "summary.csv's header is not vomsim's (`{SUMMARY_HEADER}`, with a sweep's parameters after `point`); was the file edited?"
        )));
    }
    let parameters: Vec<String> = headers
        .iter()
        .skip(1)
        .take(metric_column - 1)
        .map(str::to_string)
        .collect();
    let mut points: Vec<Point> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (line, record) in reader.records().enumerate() {
        let r = record.map_err(|e| bad(e.to_string()))?;
        let row = line + 2;
        if r.len() != headers.len() {
            return Err(bad(format!(
                "summary.csv row {row} has {} fields, not {}",
                r.len(),
                headers.len()
            )));
        }
        for i in metric_column + 3..=metric_column + 8 {
            if i == metric_column + 4 && r[i].is_empty() {
                continue; // sd: empty with one replication
            }
            if !r[i].parse::<f64>().is_ok_and(f64::is_finite) {
                return Err(bad(format!(
                    "summary.csv row {row} holds {:?} where a number belongs",
                    &r[i]
                )));
            }
        }
        let id = r[0].to_string();
        let slot = *index.entry(id).or_insert_with(|| {
            points.push(Point {
                values: (1..metric_column)
                    .map(|i| r[i].parse().unwrap_or(f64::NAN))
                    .collect(),
                rows: HashMap::new(),
            });
            points.len() - 1
        });
        let number = |i: usize| r[i].parse::<f64>().unwrap_or(f64::NAN);
        let (m, g, mo) = (metric_column, metric_column + 1, metric_column + 2);
        points[slot].rows.insert(
            (r[m].to_string(), r[g].to_string(), r[mo].to_string()),
            Stat {
                mean: number(mo + 1),
                q025: number(mo + 3),
                q975: number(mo + 5),
            },
        );
    }
    if points.is_empty() {
        return Err(bad("summary.csv has no rows".to_string()));
    }
    Ok((parameters, points))
}

/// A folder's report data: its points, and what its manifest says.
fn read_manifest(
    dir: &Path,
    parameters: Vec<String>,
    points: Vec<Point>,
    bad: &dyn Fn(String) -> Error,
) -> Result<Data> {
    // Without manifest.json (written last) the folder's name stands in.
    let no_manifest = || {
        Err(
            "The folder has no manifest.json, so the scenario's assumptions are not listed."
                .to_string(),
        )
    };
    let (scenario, reps, assumptions) = match Manifest::read(dir) {
        Ok(None) => (None, None, no_manifest()),
        Ok(Some(Manifest::Run(m))) => {
            let assumed = scenario_assumptions(
                Path::new(&m.scenario_file),
                Some(&m.scenario_sha256),
                &m.parameters,
            );
            (Some(m.scenario), Some(m.reps), assumed)
        }
        Ok(Some(Manifest::Sweep(m))) => {
            // The sweep's own copy of its file; values at the base scenario.
            let assumed = scenario_assumptions(&dir.join("sweep.toml"), None, &m.base_scenario);
            (Some(m.scenario), Some(m.reps), assumed)
        }
        Ok(Some(Manifest::Compare(_))) => {
            return Err(bad(
                "holds a compare's manifest.json but is read as a run's; was it edited?"
                    .to_string(),
            ));
        }
        Err(why) => {
            return Err(bad(format!(
                "has a manifest.json vomsim did not write ({why}); was it edited?"
            )));
        }
    };
    let name = scenario.unwrap_or_else(|| {
        dir.file_name().map_or_else(
            || "vomsim".to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    });
    Ok(Data {
        name,
        parameters,
        points,
        reps,
        assumptions,
        sensitivity: read_sensitivity(dir)?,
    })
}

fn percent(v: f64) -> String {
    format!("{:.0}%", v * 100.0)
}

/// The summary paragraph, in plain words.
fn summary(p: &Point) -> String {
    let mut text = String::new();
    if let (Some(referrals), Some(mediated)) = (
        p.mean(metric::REFERRALS, group::REFERRED, ""),
        p.mean(metric::SHARE, group::MEDIATED, ""),
    ) {
        let _ = write!(
            text,
            "In each simulated program year about {:.0} youths are referred; {} of them meet their victims in mediation. ",
            referrals,
            percent(mediated)
        );
    }
    if let (Some(m), Some(v)) = (
        p.mean(metric::REARREST, group::MEDIATED, "12"),
        p.mean(metric::REARREST, group::VICTIM_DECLINED, "12"),
    ) {
        let _ = write!(
            text,
            "Within a year {} of mediated youths are rearrested, against {} of youths whose victims declined to meet. ",
            percent(m),
            percent(v)
        );
    }
    if let (Some(att), Some(vors)) = (
        p.mean(metric::EFFECT_RATIO, group::TRUE_ATT, "12"),
        p.mean(metric::EFFECT_RATIO, group::VORS_DESIGN, "12"),
    ) {
        let _ = write!(
            text,
            "Part of that gap is who takes part, not what mediation does: the true effect on mediated youths is a {} cut in 12-month rearrest, where a study comparing them with the victim-declined group would report a {} cut. ",
            percent(1.0 - att),
            percent(1.0 - vors)
        );
    }
    if let Some(att30) = p.mean(metric::EFFECT_RATIO, group::TRUE_ATT, "30") {
        let _ = write!(
            text,
            "The effect fades with time: a {} cut after 30 months. ",
            percent(1.0 - att30)
        );
    }
    if let (Some(cost), Some(net), Some(prob)) = (
        p.mean(metric::COST_PER_REFERRAL, group::PROGRAM, ""),
        p.mean(metric::NET_BENEFIT_PER_REFERRAL, group::PROGRAM, ""),
        p.mean(metric::P_BENEFITS_EXCEED_COSTS, group::PROGRAM, ""),
    ) {
        let _ = write!(
            text,
            "The program costs about {} per referral; counting rearrests averted and cases the agency no longer handles, the net benefit is {} per referral, and benefits exceed costs in {} of simulations (costs are partly illustrative assumptions: see the scenario file).",
            dollars(cost),
            dollars(net),
            percent(prob)
        );
    }
    text
}

fn axes(title: &str, x_label: &str, y_label: &str, percent: bool) -> Axes {
    Axes {
        title: title.to_string(),
        x_label: x_label.to_string(),
        y_label: y_label.to_string(),
        percent,
        y_from_zero: true,
        ..Axes::default()
    }
}

/// One section of the page: a title, its text, and what the rules made of
/// its chart.
struct Section {
    title: String,
    text: String,
    drawn: Drawn,
}

impl Section {
    fn new(title: &str, text: impl Into<String>, drawn: Drawn) -> Section {
        Section {
            title: title.to_string(),
            text: text.into(),
            drawn,
        }
    }

    /// A chart drawn without the line rules (bars), or nothing.
    fn chart(title: &str, text: impl Into<String>, svg: Option<String>) -> Section {
        let drawn = svg.map_or(Drawn::Nothing, |svg| Drawn::Chart(svg, Vec::new()));
        Section::new(title, text, drawn)
    }
}

/// The charts of one run (or one point of a sweep).
fn run_sections(p: &Point, assumed: &[Assumption]) -> Vec<Section> {
    let mut sections = Vec::new();
    // The funnel.
    let share = |g: &str| p.mean(metric::SHARE, g, "").unwrap_or(0.0);
    let mediated = share(group::MEDIATED);
    let youth_agreed = 1.0 - share(group::OFFENDER_DECLINED) - share(group::RCT_CONTROL);
    let victim_agreed = mediated + share(group::RETURNED_WAIT);
    let agreed_money = mediated
        * p.mean(metric::MONETARY_AGREED, group::MEDIATED, "")
            .unwrap_or(0.0);
    let paid = agreed_money
        * p.mean(metric::MONETARY_COMPLETED, group::MEDIATED, "")
            .unwrap_or(0.0);
    let funnel = [
        (group::REFERRED.to_string(), 1.0, None),
        ("youth agreed".to_string(), youth_agreed, None),
        ("victim agreed".to_string(), victim_agreed, None),
        (
            group::MEDIATED.to_string(),
            mediated,
            p.get(metric::SHARE, group::MEDIATED, "")
                .map(|s| (s.q025, s.q975)),
        ),
        ("agreed to pay".to_string(), agreed_money, None),
        ("paid in full".to_string(), paid, None),
    ];
    let funnel_axes = Axes {
        y_span: Some(Unit::Share.least_span()),
        ..axes(
            "The funnel: share of referrals",
            "step",
            "share of referred youths",
            true,
        )
    };
    sections.push(Section::chart(
        "From referral to restitution",
        "Share of referred youths at each step: the youth agrees to meet, the victim agrees, the session takes place (a case waiting too long goes back to the agency), an agreement includes monetary restitution, and it is paid in full.",
        bar_chart(&funnel_axes, &funnel),
    ));
    // Rearrest by group.
    let groups = [
        (group::MEDIATED, group::MEDIATED, COLORS[0], false),
        (
            group::MEDIATED_UNTREATED,
            "mediated, had they not been",
            COLORS[0],
            true,
        ),
        (group::VICTIM_DECLINED, "victim declined", COLORS[1], false),
        (group::NOT_MEDIATED, "all not mediated", COLORS[2], false),
    ];
    let series: Vec<Series> = groups
        .iter()
        .map(|(g, name, color, dashed)| p.series(metric::REARREST, g, 1..=30, name, color, *dashed))
        .collect();
    sections.push(Section::new(
        "Rearrest over 30 months",
        "Share rearrested at least once, by months since the case was closed, with 95% intervals across simulated program years. The dashed line is what the mediated youths' rearrest would have been without mediation.",
        rules::lines(
            &axes("Cumulative rearrest by group", "months of follow-up", "share rearrested", true),
            Unit::Share,
            true,
            series,
            "No youth in any group was rearrested within 30 months.",
        ),
    ));
    // Effect by design.
    let designs = [
        (group::TRUE_ATT, "truth, on the mediated", COLORS[6], false),
        (group::VORS_DESIGN, "VORS design", COLORS[1], false),
        (group::NAIVE, "naive comparison", COLORS[2], false),
        (group::STRATIFIED, group::STRATIFIED, COLORS[3], true),
        (group::RCT_ITT, "trial: offered", COLORS[4], false),
        (group::RCT_CACE, "trial: participants", COLORS[5], false),
    ];
    let series: Vec<Series> = designs
        .iter()
        .map(|(g, name, color, dashed)| {
            let mut s = p.series(
                metric::EFFECT_RATIO,
                g,
                [6, 12, 18, 24, 30].into_iter(),
                name,
                color,
                *dashed,
            );
            // Bands for the truth and the VORS design only: more overlap.
            if !matches!(*g, group::TRUE_ATT | group::VORS_DESIGN) {
                s.band.clear();
            }
            s
        })
        .collect();
    let mut effect_axes = axes(
        "Rearrest ratio, mediated over comparison",
        "months of follow-up",
        "ratio (1 = no effect)",
        false,
    );
    effect_axes.reference_y = Some(1.0);
    sections.push(Section::new(
        "The effect as each study design would see it",
        "Ratio of cumulative rearrest, mediated over comparison (below 1 means fewer rearrests), at 6 to 30 months. The truth comes from each youth's two potential outcomes; the designs show what studies would have estimated (95% intervals across program years shown for the truth and the VORS design).",
        rules::lines(
            &effect_axes,
            Unit::Ratio,
            false,
            series,
            "Every ratio is zero: no mediated youth was rearrested.",
        ),
    ));
    // Operations, over one range of program months (rule 3).
    let months = program_months(p);
    let span = months
        .first()
        .zip(months.last())
        .map(|(a, b)| (f64::from(*a), f64::from(*b)));
    for (metric, title, y_label, unit, text, when_zero) in [
        (
            metric::BACKLOG,
            "Cases waiting for mediators",
            "cases at month end",
            Unit::Count,
            "Cases consented by both parties but not yet assigned mediators, at the end of each program month.",
            "No case waited for a mediator: at the end of every program month, every case both parties agreed to had its mediators.",
        ),
        (
            metric::WAIT_DAYS_P90,
            "Waiting time (90th percentile)",
            "days",
            Unit::Days,
            "Nine cases in ten are assigned mediators within this many days of referral.",
            "No case waited for a mediator: every case was assigned mediators on the day both parties agreed.",
        ),
        (
            metric::ACTIVE_MEDIATORS,
            "Volunteer mediators",
            "mediators",
            Unit::Count,
            "Active volunteers (solid) and volunteers in training (dashed), averaged over each month.",
            "The program had no volunteer mediators in any month.",
        ),
    ] {
        let mut series = vec![p.series(
            metric,
            group::PROGRAM,
            months.iter().copied(),
            title,
            COLORS[0],
            false,
        )];
        if metric == metric::ACTIVE_MEDIATORS {
            series[0].name = "active".to_string();
            series.push(p.series(
                metric::TRAINING_MEDIATORS,
                group::PROGRAM,
                months.iter().copied(),
                "in training",
                COLORS[1],
                true,
            ));
        }
        let chart_axes = Axes {
            x_span: span,
            ..axes(title, "program month", y_label, false)
        };
        sections.push(Section::new(
            title,
            text,
            rules::lines(&chart_axes, unit, false, series, when_zero),
        ));
    }
    // Costs and benefits, the benefits stacked by source.
    if let Some(section) = costs_section(p, assumed) {
        sections.push(section);
    }
    sections
}

/// Costs and benefits per referral: the cost, the benefits stacked by
/// source (those resting on the scenario's assumptions marked), the
/// restitution victims receive (a transfer, not a benefit), and the net
/// benefit.
fn costs_section(p: &Point, assumed: &[Assumption]) -> Option<Section> {
    let cost = p.get(metric::COST_PER_REFERRAL, group::PROGRAM, "")?;
    let net = p.get(metric::NET_BENEFIT_PER_REFERRAL, group::PROGRAM, "")?;
    let is_assumed = |keys: &[&str]| {
        assumed.iter().any(|a| {
            keys.iter()
                .any(|k| a.key == *k || a.key.starts_with(&format!("{k}.")))
        })
    };
    let rearrests = p.mean(metric::BENEFIT_PER_REFERRAL, group::REARRESTS_AVERTED, "");
    let agency = p.mean(
        metric::BENEFIT_PER_REFERRAL,
        group::AGENCY_CASES_AVOIDED,
        "",
    );
    let benefit_parts = match (rearrests, agency) {
        (Some(r), Some(a)) => vec![
            Part {
                name: "rearrests averted".to_string(),
                value: r,
                color: COLORS[2],
                assumed: is_assumed(&["costs.justice_per_rearrest", "costs.victim_per_rearrest"]),
            },
            Part {
                name: "agency cases".to_string(),
                value: a,
                color: COLORS[4],
                assumed: is_assumed(&["costs.agency_per_case"]),
            },
        ],
        // A folder written before benefits were split by source.
        _ => vec![Part {
            name: "benefits".to_string(),
            value: cost.mean + net.mean,
            color: COLORS[2],
            assumed: false,
        }],
    };
    let mut stacks = vec![
        Stack {
            label: "cost".to_string(),
            parts: vec![Part {
                name: "program cost".to_string(),
                value: cost.mean,
                color: COLORS[0],
                assumed: false,
            }],
            interval: Some((cost.q025, cost.q975)),
        },
        Stack {
            label: "benefits".to_string(),
            parts: benefit_parts.clone(),
            interval: None,
        },
    ];
    if let Some(paid) = p.get(metric::RESTITUTION_PAID_PER_REFERRAL, group::PROGRAM, "") {
        stacks.push(Stack {
            label: "to victims".to_string(),
            parts: vec![Part {
                name: "restitution (transfer)".to_string(),
                value: paid.mean,
                color: COLORS[5],
                assumed: false,
            }],
            interval: Some((paid.q025, paid.q975)),
        });
    }
    stacks.push(Stack {
        label: "net benefit".to_string(),
        parts: vec![Part {
            name: "net benefit".to_string(),
            value: net.mean,
            color: COLORS[6],
            assumed: false,
        }],
        interval: Some((net.q025, net.q975)),
    });
    let ratio = p.get(metric::BENEFIT_COST_RATIO, group::PROGRAM, "");
    let prob = p.mean(metric::P_BENEFITS_EXCEED_COSTS, group::PROGRAM, "");
    let averted = p.get(metric::REARRESTS_AVERTED_PER_100, group::PROGRAM, "30");
    let mut text = "Dollars per referral, discounted, with 95% intervals across simulated program years (which include the uncertainty of costs given as ranges). The benefits are stacked by source; restitution paid to victims is shown apart: it moves money from youths to victims and is not counted as a benefit.".to_string();
    let total: f64 = benefit_parts.iter().map(|b| b.value).sum();
    let assumed_total: f64 = benefit_parts
        .iter()
        .filter(|b| b.assumed)
        .map(|b| b.value)
        .sum();
    if assumed_total != 0.0 && total > 0.0 {
        let _ = write!(
            text,
            " Hatched parts rest on values the scenario marks as assumptions: {} of the benefits.",
            percent(assumed_total / total)
        );
    }
    if let (Some(r), Some(prob), Some(a)) = (ratio, prob, averted) {
        let _ = write!(
            text,
            " Benefit-cost ratio {:.2} ({:.2} to {:.2}); benefits exceed costs in {} of simulations; {:.1} rearrests averted per 100 referrals within 30 months.",
            r.mean,
            r.q025,
            r.q975,
            percent(prob),
            a.mean
        );
    }
    Some(Section::chart(
        "Costs and benefits",
        text,
        stacked_bar_chart(
            &Axes {
                money: true,
                ..axes(
                    "Costs and benefits per referral",
                    "",
                    "dollars per referral",
                    false,
                )
            },
            &stacks,
        ),
    ))
}

/// Who is diverted: each subgroup's mediated share over everyone's (the
/// disparity ratio, 1 = parity) with its 95% interval, one chart per
/// attribute, and a table of every subgroup's path through the program.
fn equity_section(p: &Point) -> Option<String> {
    let mut charts = String::new();
    for (attribute, title) in [
        ("race", "race or ethnicity"),
        ("sex", "sex"),
        ("age", "age"),
        ("offense", "offense"),
    ] {
        let bars: Vec<svg::Bar> = group::SUBGROUPS
            .iter()
            .filter(|g| g.starts_with(&format!("{attribute}=")))
            .filter_map(|g| {
                let s = p.get(metric::DISPARITY_MEDIATED, g, "")?;
                let label = g.split_once('=').map_or(*g, |(_, v)| v);
                Some((label.to_string(), s.mean, Some((s.q025, s.q975))))
            })
            .collect();
        let axes = Axes {
            reference_y: Some(1.0),
            y_span: Some(Unit::Ratio.least_span()),
            ..axes(
                &format!("Mediated share over everyone's, by {title}"),
                title,
                "ratio (1 = parity)",
                false,
            )
        };
        if let Some(chart) = bar_chart(&axes, &bars) {
            let _ = write!(charts, "<figure>{chart}</figure>");
        }
    }
    if charts.is_empty() {
        return None;
    }
    // The end of follow-up: the last month of the referred's rearrest curve.
    let horizon = p
        .rows
        .keys()
        .filter(|(m, g, _)| m == metric::REARREST && g == group::REFERRED)
        .filter_map(|(_, _, month)| month.parse::<u32>().ok())
        .max()
        .unwrap_or(30)
        .to_string();
    let mut table = format!(
        "<table class=\"numbers\"><tr><th>group</th><th>share of referrals</th><th>offered</th><th>victim agreed</th><th>mediated</th><th>disparity (95% interval)</th><th>rearrest 12 / {horizon} months</th></tr>",
    );
    for g in group::SUBGROUPS {
        let (Some(share), Some(d)) = (
            p.mean(metric::SHARE, g, ""),
            p.get(metric::DISPARITY_MEDIATED, g, ""),
        ) else {
            continue;
        };
        let cell = |metric: &str, month: &str| {
            p.mean(metric, g, month)
                .map_or_else(|| "–".to_string(), |v| number(Unit::Share, v))
        };
        let _ = write!(
            table,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2} ({:.2} to {:.2})</td><td>{} / {}</td></tr>",
            escape(g),
            number(Unit::Share, share),
            cell(metric::SHARE_OFFERED, ""),
            cell(metric::SHARE_VICTIM_CONSENTED, ""),
            cell(metric::SHARE_MEDIATED, ""),
            d.mean,
            d.q025,
            d.q975,
            cell(metric::REARREST, "12"),
            cell(metric::REARREST, &horizon),
        );
    }
    table.push_str("</table>");
    table.push_str(&rearrest_by_disposition(p, &horizon));
    Some(format!(
        "<section><h2>Who is diverted</h2><p>Diversion programs are judged on equity: which youths are offered mediation, whose victims agree, who is mediated and who is rearrested. The disparity ratio is a group's mediated share over everyone's (1 = parity; below 1, the group is mediated less often), with the range holding 95% of simulated program years. In this model differences come from the scenario's consent and referral parameters (offense, victim type, latent risk), not from any rule that names a group.</p>{charts}{table}</section>"
    ))
}

/// The equity subgroups' rearrest by disposition (`SUBGROUP;DISPOSITION`
/// rows): a table, one row per subgroup, one column per disposition the run
/// has, each cell the 12-month and end-of-follow-up rearrest.
fn rearrest_by_disposition(p: &Point, horizon: &str) -> String {
    let named = |g: &str, d: &str| format!("{g}{}{d}", group::BY_DISPOSITION);
    let present: Vec<&str> = group::DISPOSITIONS
        .into_iter()
        .filter(|d| {
            group::SUBGROUPS
                .iter()
                .any(|g| p.mean(metric::REARREST, &named(g, d), "12").is_some())
        })
        .collect();
    if present.is_empty() {
        return String::new();
    }
    let label = |d: &str| match d {
        group::MEDIATED => "mediated",
        group::VICTIM_DECLINED => "victim declined",
        group::OFFENDER_DECLINED => "youth declined",
        group::RETURNED_WAIT => "returned (waited too long)",
        _ => "control arm",
    };
    let mut table = format!(
        "<h3>Rearrest by group and disposition</h3><p>Each group's youths by what happened to their case: the share rearrested by 12 and by {horizon} months of follow-up (means over simulated program years; – where no youth of the group had that disposition). Mediated youths against those whose victim declined is the VORS comparison within each group.</p><table class=\"numbers\" id=\"rearrest-by-disposition\"><tr><th>group</th>"
    );
    for d in &present {
        let _ = write!(table, "<th>{} 12 / {horizon}</th>", label(d));
    }
    table.push_str("</tr>");
    for g in group::SUBGROUPS {
        if p.mean(metric::SHARE_MEDIATED, g, "").is_none() {
            continue;
        }
        let _ = write!(table, "<tr><td>{}</td>", escape(g));
        for d in &present {
            let name = named(g, d);
            let cell = |month: &str| {
                p.mean(metric::REARREST, &name, month)
                    .map_or_else(|| "–".to_string(), |v| number(Unit::Share, v))
            };
            let _ = write!(table, "<td>{} / {}</td>", cell("12"), cell(horizon));
        }
        table.push_str("</tr>");
    }
    table.push_str("</table>");
    table
}

/// The key numbers with their 95% intervals, as an HTML table.
fn key_numbers(p: &Point) -> String {
    let rows: [(&str, &str, &str, &str, Unit); 13] = [
        (
            "youths referred per program year",
            metric::REFERRALS,
            group::REFERRED,
            "",
            Unit::Count,
        ),
        (
            "share mediated",
            metric::SHARE,
            group::MEDIATED,
            "",
            Unit::Share,
        ),
        (
            "share whose victim declined",
            metric::SHARE,
            group::VICTIM_DECLINED,
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
            "12-month rearrest, mediated",
            metric::REARREST,
            group::MEDIATED,
            "12",
            Unit::Share,
        ),
        (
            "12-month rearrest, victim declined",
            metric::REARREST,
            group::VICTIM_DECLINED,
            "12",
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
            "true effect ratio at 12 months",
            metric::EFFECT_RATIO,
            group::TRUE_ATT,
            "12",
            Unit::Ratio,
        ),
        (
            "VORS-design ratio at 12 months",
            metric::EFFECT_RATIO,
            group::VORS_DESIGN,
            "12",
            Unit::Ratio,
        ),
        (
            "true effect ratio at 30 months",
            metric::EFFECT_RATIO,
            group::TRUE_ATT,
            "30",
            Unit::Ratio,
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
    ];
    let mut table = String::from(
        "<table class=\"numbers\"><tr><th>key number</th><th>mean</th><th>95% interval</th></tr>",
    );
    for (label, metric, group, month, unit) in rows {
        let Some(s) = p.get(metric, group, month) else {
            continue;
        };
        let _ = write!(
            table,
            "<tr><td>{}</td><td>{}</td><td>{} to {}</td></tr>",
            escape(label),
            number(unit, s.mean),
            number(unit, s.q025),
            number(unit, s.q975)
        );
    }
    if let Some(prob) = p.mean(metric::P_BENEFITS_EXCEED_COSTS, group::PROGRAM, "") {
        let _ = write!(
            table,
            "<tr><td>chance that benefits exceed costs</td><td>{}</td><td></td></tr>",
            percent(prob)
        );
    }
    table.push_str("</table>");
    table
}

/// A number as the page prints it in its unit.
fn number(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Share => format!("{:.1}%", v * 100.0),
        Unit::Dollars => dollars(v),
        Unit::Count | Unit::Days => format!("{v:.1}"),
        Unit::Ratio => format!("{v:.2}"),
    }
}

/// For a sweep: each key metric against each swept parameter.
fn sweep_sections(data: &Data) -> Vec<Section> {
    let metrics = [
        (metric::SHARE, group::MEDIATED, "", "Share mediated", true),
        (
            metric::REARREST,
            group::REFERRED,
            "12",
            "12-month rearrest, all referred",
            true,
        ),
        (
            metric::EFFECT_RATIO,
            group::TRUE_ATT,
            "12",
            "True effect ratio at 12 months",
            false,
        ),
        (
            metric::EFFECT_RATIO,
            group::VORS_DESIGN,
            "12",
            "VORS-design ratio at 12 months",
            false,
        ),
        (
            metric::SHARE,
            group::RETURNED_WAIT,
            "",
            "Share returned for waiting",
            true,
        ),
        (
            metric::NET_BENEFIT_PER_REFERRAL,
            group::PROGRAM,
            "",
            "Net benefit per referral ($)",
            false,
        ),
    ];
    let mut sections = sobol_sections(data);
    for (i, parameter) in data.parameters.iter().enumerate() {
        for (metric, group, month, title, pct) in metrics {
            let unit = if pct {
                Unit::Share
            } else if metric == metric::EFFECT_RATIO {
                Unit::Ratio
            } else {
                Unit::Dollars
            };
            let Some((series, text)) = sweep_lines(data, i, (metric, group, month)) else {
                continue;
            };
            let axes = Axes {
                title: format!("{title} by {}", short(parameter)),
                x_label: parameter.clone(),
                y_label: title.to_string(),
                money: unit == Unit::Dollars,
                reference_y: (unit == Unit::Ratio).then_some(1.0),
                ..Axes::default()
            };
            sections.push(Section::new(
                &format!("{title} by {parameter}"),
                text,
                rules::lines(
                    &axes,
                    unit,
                    false,
                    series,
                    &format!("{title} is zero at every point of the sweep."),
                ),
            ));
        }
    }
    sections
}

/// A swept parameter's name without its table (`initial_active` for
/// `mediators.initial_active`), for legends and titles.
fn short(parameter: &str) -> &str {
    parameter.rsplit('.').next().unwrap_or(parameter)
}

/// Sorted distinct values.
fn distinct(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.filter(|v| v.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

/// Bins of a parameter with more distinct values than a line can show
/// (Latin hypercube, Saltelli): this many of equal width.
const SWEEP_BINS: usize = 10;
/// The most distinct values of a parameter drawn one x each.
const MOST_X_VALUES: usize = 12;
/// The most values of a second parameter drawn as one line each.
const MOST_LINES: usize = 6;

/// The lines of one output against parameter `i`: one line per value of a
/// second swept parameter (the one with fewest values, at most
/// [`MOST_LINES`]), or one line; each with its band; and the chart's text.
/// A parameter with many values (random designs) is grouped into
/// [`SWEEP_BINS`] bins. Where a line's x holds one point, the band is the
/// range holding 95% of simulated program years there; where it holds
/// several (bins, or other swept parameters), the line is their mean and
/// the band the range of 95% of their means.
fn sweep_lines(data: &Data, i: usize, key: (&str, &str, &str)) -> Option<(Vec<Series>, String)> {
    let (metric, group, month) = key;
    let values: Vec<(&Point, Stat)> = data
        .points
        .iter()
        .filter_map(|p| Some((p, p.get(metric, group, month)?)))
        .filter(|(p, _)| p.values.get(i).is_some_and(|v| v.is_finite()))
        .collect();
    if values.is_empty() {
        return None;
    }
    let xs = distinct(values.iter().map(|(p, _)| p.values[i]));
    let (low, high) = (xs[0], xs[xs.len() - 1]);
    let binned = xs.len() > MOST_X_VALUES;
    let width = (high - low) / SWEEP_BINS as f64;
    let x_of = |v: f64| {
        if binned && width > 0.0 {
            let bin = (((v - low) / width) as usize).min(SWEEP_BINS - 1);
            low + width * (bin as f64 + 0.5)
        } else {
            v
        }
    };
    let second = (0..data.parameters.len())
        .filter(|&j| j != i)
        .map(|j| {
            (
                j,
                distinct(values.iter().filter_map(|(p, _)| p.values.get(j).copied())),
            )
        })
        .filter(|(_, v)| (2..=MOST_LINES).contains(&v.len()))
        .min_by_key(|(_, v)| v.len());
    let line_values: Vec<Option<f64>> = match &second {
        Some((_, v)) => v.iter().map(|v| Some(*v)).collect(),
        None => vec![None],
    };
    let mut pooled = false;
    let mut series = Vec::new();
    for (k, line) in line_values.iter().enumerate() {
        let members: Vec<&(&Point, Stat)> = values
            .iter()
            .filter(|(p, _)| match (line, &second) {
                (Some(v), Some((j, _))) => p.values.get(*j) == Some(v),
                _ => true,
            })
            .collect();
        let mut points = Vec::new();
        let mut band = Vec::new();
        for x in distinct(members.iter().map(|(p, _)| x_of(p.values[i]))) {
            let mut at: Vec<&Stat> = members
                .iter()
                .filter(|(p, _)| x_of(p.values[i]) == x)
                .map(|(_, s)| s)
                .collect();
            if at.len() == 1 {
                points.push((x, at[0].mean));
                band.push((x, at[0].q025, at[0].q975));
                continue;
            }
            pooled = true;
            at.sort_by(|a, b| a.mean.total_cmp(&b.mean));
            let means: Vec<f64> = at.iter().map(|s| s.mean).collect();
            points.push((x, means.iter().sum::<f64>() / means.len() as f64));
            band.push((
                x,
                crate::measure::stats::quantile_sorted(&means, 0.025),
                crate::measure::stats::quantile_sorted(&means, 0.975),
            ));
        }
        let name = match (line, &second) {
            (Some(v), Some((j, _))) => format!("{} = {v}", short(&data.parameters[*j])),
            _ => "all points".to_string(),
        };
        series.push(Series {
            name,
            color: COLORS[k % COLORS.len()],
            points,
            band,
            dashed: false,
        });
    }
    let mut text = match &second {
        Some((j, v)) => format!(
            "One line per value of {} ({} lines).",
            data.parameters[*j],
            v.len()
        ),
        None => "One line over the sweep's points.".to_string(),
    };
    if binned {
        let _ = write!(
            text,
            " The {} values of {} are grouped into {SWEEP_BINS} bins of equal width, drawn at their centres.",
            xs.len(),
            data.parameters[i]
        );
    }
    text.push_str(if pooled {
        " Where several points fall at one x (a bin, or other swept parameters that vary), the line is their mean and the band holds 95% of their means: the spread the other parameters and chance add."
    } else {
        " The band holds 95% of simulated program years at each point."
    });
    Some((series, text))
}

/// Sobol indices (`sensitivity.csv`): one chart per output, the
/// first-order and total index of every parameter as bars with their
/// bootstrap intervals.
fn sobol_sections(data: &Data) -> Vec<Section> {
    let mut outputs: Vec<&str> = Vec::new();
    for row in &data.sensitivity {
        if !outputs.contains(&row.output.as_str()) {
            outputs.push(&row.output);
        }
    }
    outputs
        .into_iter()
        .map(|output| {
            let rows: Vec<svg::IndexBars> = data
                .sensitivity
                .iter()
                .filter(|r| r.output == output)
                .map(|r| (r.parameter.clone(), r.first, r.total))
                .collect();
            let title = format!("What drives {}", output.replace(',', " "));
            Section::chart(
                &title,
                format!(
                    "Sobol indices of {output} (metric, group, month), from sensitivity.csv: the first-order index is the share of the output's variance across the sweep due to a parameter alone, the total index the share due to it with all its interactions; whiskers are 95% bootstrap intervals. A total index near 0 means the parameter does not matter over its range; the gap between total and first-order is what it does through interactions."
                ),
                svg::index_chart(&format!("Sobol indices: {}", output.replace(',', " ")), &rows),
            )
        })
        .collect()
}

/// A swept value as a person reads it: whole numbers as they are, others
/// to four significant digits (a random design's 0.28258176167717264 reads
/// 0.2826).
fn parameter_value(v: f64) -> String {
    if v.fract() == 0.0 || !v.is_finite() {
        format!("{v}")
    } else {
        let digits = (3 - v.abs().log10().floor() as i32).max(0) as usize;
        let text = format!("{v:.digits$}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A sweep point named by its parameter values.
fn point_name(data: &Data, p: &Point) -> String {
    data.parameters
        .iter()
        .zip(&p.values)
        .map(|(k, v)| format!("{k} = {}", parameter_value(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The list of the parameters the scenario marks as assumptions.
fn assumptions_section(assumed: &std::result::Result<Vec<Assumption>, String>) -> String {
    let mut html = String::from("<section><h2>Assumptions</h2>");
    match assumed {
        Err(why) => {
            let _ = write!(html, "<p class=\"note\">{}</p>", escape(why));
        }
        Ok(list) if list.is_empty() => {
            html.push_str("<p>The scenario file marks no parameter as an assumption.</p>");
        }
        Ok(list) => {
            let _ = write!(
                html,
                "<p>The {} parameters the scenario file marks as assumptions (rather than taken from a source), with the values this run used. Results resting on them are only as good as they are.</p><table class=\"numbers assumptions\"><tr><th>parameter</th><th>value</th><th>the file says</th></tr>",
                list.len()
            );
            for a in list {
                let _ = write!(
                    html,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    escape(&a.key),
                    escape(&a.value),
                    escape(&a.comment)
                );
            }
            html.push_str("</table>");
        }
    }
    html.push_str("</section>");
    html
}

/// The sections' HTML, in order: a chart with its text, or the sentence
/// that stands for a chart with nothing to show.
fn render_sections(sections: Vec<Section>) -> String {
    let mut body = String::new();
    for section in sections {
        match section.drawn {
            Drawn::Nothing => {}
            Drawn::Sentence(sentence) => {
                let _ = write!(
                    body,
                    "<section><h2>{}</h2><p class=\"empty\">{}</p></section>",
                    escape(&section.title),
                    escape(&sentence)
                );
            }
            Drawn::Chart(chart, notes) => {
                let mut text = section.text;
                for note in notes {
                    text.push(' ');
                    text.push_str(&note);
                }
                let _ = write!(
                    body,
                    "<section><h2>{}</h2><p>{}</p><figure>{chart}</figure></section>",
                    escape(&section.title),
                    escape(&text)
                );
            }
        }
    }
    body
}

/// The parts of a run's page, for a run held in memory (`vomsim serve`
/// shows them beside its levers, so that its page and `report.html` draw
/// the same charts from the same code).
#[derive(Debug, Clone)]
pub struct RunFragments {
    /// The summary in plain words.
    pub summary: String,
    /// The key numbers with their 95% intervals, an HTML table.
    pub key_numbers: String,
    /// Every chart's section (funnel, rearrest, effect, caseload, costs),
    /// HTML with inline SVG.
    pub charts: String,
}

/// The parts of a run's page from its `summary.csv` bytes; `scenario_text`
/// (the scenario file) and `parameters` (the resolved scenario as JSON)
/// mark the costs that rest on assumptions, as in `report.html`.
pub fn run_fragments(
    summary_csv: &[u8],
    scenario_text: &str,
    parameters: &serde_json::Value,
) -> Result<RunFragments> {
    let bad = |requirement: String| Error::Internal(format!("summary.csv in memory {requirement}"));
    let (_, points) = read_points(csv::Reader::from_reader(summary_csv), &bad)?;
    let first = &points[0];
    let assumed = assumptions::assumptions(scenario_text, parameters);
    Ok(RunFragments {
        summary: summary(first),
        key_numbers: key_numbers(first),
        charts: render_sections(run_sections(first, &assumed)),
    })
}

/// The page's style sheet, for pages built from the report's parts.
pub const PAGE_STYLE: &str = STYLE;

/// Builds the report's HTML.
fn html(data: &Data) -> String {
    let is_sweep = !data.parameters.is_empty();
    let first = &data.points[0];
    let mut body = String::new();
    let _ = write!(body, "<h1>vomsim report: {}</h1>", escape(&data.name));
    let reps = data.reps.map_or_else(String::new, |r| {
        format!(" over {r} simulated program years")
    });
    if is_sweep {
        let _ = write!(
            body,
            "<p class=\"lead\">A sweep of {} points over {}{}. Each point is a version of the program; the charts below show {}how the key results move with the swept parameters, then one point, point 0 ({}), in detail.</p>",
            data.points.len(),
            escape(&data.parameters.join(", ")),
            reps,
            if data.sensitivity.is_empty() {
                ""
            } else {
                "which parameters drive the outputs (Sobol indices), then "
            },
            escape(&point_name(data, first))
        );
    } else {
        let _ = write!(body, "<p class=\"lead\">{}</p>", escape(&summary(first)));
        let _ = write!(
            body,
            "<p class=\"note\">Simulated with vomsim{reps}. Intervals are 95% ranges across simulated program years.</p>"
        );
    }
    if is_sweep {
        body.push_str(&render_sections(sweep_sections(data)));
    }
    let assumed = data.assumptions.as_deref().unwrap_or(&[]);
    if is_sweep {
        let _ = write!(
            body,
            "<h2>Point 0 in detail: {}</h2><p class=\"note\">Everything below is point 0 of the sweep alone, as a run's report shows it; the charts above cover every point.</p>",
            escape(&point_name(data, first))
        );
    }
    let _ = write!(
        body,
        "<section><h2>Key numbers</h2><p>Means across simulated program years, with the range that holds 95% of them.</p>{}</section>",
        key_numbers(first)
    );
    body.push_str(&render_sections(run_sections(first, assumed)));
    if let Some(equity) = equity_section(first) {
        body.push_str(&equity);
    }
    body.push_str(&assumptions_section(&data.assumptions));
    page(&data.name, &body)
}

/// The whole page around a body.
fn page(title: &str, body: &str) -> String {
    format!(
        "{}{}</title><style>{}</style></head><body>{}<footer>vomsim {} — a Monte Carlo simulation of youth victim-offender mediation; every number comes from the scenario's assumptions and sources.</footer></body></html>\n",
        // The opening `ownership` recognizes vomsim's own report by.
        ownership::REPORT_START,
        escape(title),
        STYLE,
        body,
        env!("CARGO_PKG_VERSION")
    )
}

const STYLE: &str = "body{font-family:Helvetica,Arial,sans-serif;max-width:760px;margin:24px auto;padding:0 16px;color:#111;line-height:1.45}\
h1{font-size:24px;margin-bottom:8px}h2{font-size:18px;margin:28px 0 6px}\
p.lead{font-size:16px;background:#f3f6fa;padding:12px 14px;border-left:4px solid #0072B2}\
p.note{color:#555;font-size:13px}figure{margin:8px 0}svg{max-width:100%;height:auto}\
p.empty{font-size:15px;background:#f7f7f2;padding:10px 14px;border-left:4px solid #999}\
table.assumptions td:nth-child(3){min-width:260px}table.numbers{border-collapse:collapse;font-size:13px;margin:8px 0}table.numbers td,table.numbers th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left;vertical-align:top}\
footer{margin-top:32px;color:#666;font-size:12px;border-top:1px solid #ddd;padding-top:8px}";

/// Writes `DIR/report.html` (atomically) and returns its path.
pub fn write(dir: &Path) -> Result<PathBuf> {
    let path = dir.join(ownership::REPORT_FILE);
    // Before reading and drawing: can report.html be written here?
    if dir.is_dir() {
        let unusable = |reason: String| Error::OutputFileUnusable {
            path: path.clone(),
            reason,
        };
        if path.is_dir() {
            return Err(unusable("it is a folder".to_string()));
        }
        if path.exists() && !ownership::is_vomsim_report(&path) {
            return Err(unusable(
                "it exists and was not written by vomsim report; report replaces only its own page (move yours away first)"
                    .to_string(),
            ));
        }
        ownership::remove_stale_temporaries(dir, |name| name == ownership::REPORT_FILE);
        ownership::check_writable(dir, ownership::REPORT_FILE).map_err(|e| {
            unusable(format!(
                "cannot write in {}: {e} (report writes report.html into the folder it reads)",
                dir.display()
            ))
        })?;
    }
    let page = match Manifest::read(dir) {
        Ok(Some(Manifest::Compare(manifest))) => {
            let (title, body) = compare::body(dir, &manifest)?;
            page(&title, &body)
        }
        _ => html(&read(dir)?),
    };
    folder::write_atomically(&path, |w| w.write_all(page.as_bytes()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of 600 intake months and a 24-month tail reports months up to
    /// 624; the report once stopped at 600.
    #[test]
    fn program_months_reach_the_end_of_the_tail() {
        let mut p = Point::default();
        let stat = Stat {
            mean: 1.0,
            q025: 1.0,
            q975: 1.0,
        };
        for m in [1, 600, 601, 624] {
            p.rows.insert(
                ("active_mediators".into(), "program".into(), m.to_string()),
                stat,
            );
        }
        assert_eq!(program_months(&p), vec![1, 600, 601, 624]);
    }

    #[test]
    fn dollars_are_grouped() {
        use super::svg::dollars;
        assert_eq!(dollars(1234567.4), "$1,234,567");
        assert_eq!(dollars(-950.0), "-$950");
        assert_eq!(dollars(0.2), "$0");
    }
}
