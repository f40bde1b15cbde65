//! The rules every chart of the report follows, in one place, so that no
//! chart misleads:
//!
//! 1. An axis spans at least a meaningful range for its unit
//!    ([`Unit::least_span`]): shares 0-100% (a chart may zoom in, and then
//!    its text says so), days at least 0-7, counts at least 0-5, ratios at
//!    least 0-1.2 (1, no effect, always in view). A wait of minutes is then
//!    a flat line near zero, not a dramatic spike.
//! 2. A chart whose every value is zero is not drawn: a sentence says so
//!    instead ("no case waited for a mediator").
//! 3. Charts that belong together share their x range (the caseload charts
//!    span the same program months).
//! 4. Lines that lie on top of one another are named in the chart's text
//!    ("... overlap"), since the reader sees only the one drawn last.
//! 5. Parts resting on assumptions are marked (see `svg::Part`).

use super::svg::{Axes, Series, line_chart};

/// What a chart's y values measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A share in [0, 1], drawn as a percentage.
    Share,
    /// Days.
    Days,
    /// A count (cases, mediators).
    Count,
    /// A ratio, 1 meaning no difference.
    Ratio,
    /// Dollars.
    Dollars,
}

impl Unit {
    /// The least range of a y axis in this unit (rule 1).
    pub fn least_span(self) -> (f64, f64) {
        match self {
            Unit::Share => (0.0, 1.0),
            Unit::Days => (0.0, 7.0),
            Unit::Count => (0.0, 5.0),
            Unit::Ratio => (0.0, 1.2),
            Unit::Dollars => (0.0, 0.0),
        }
    }
}

/// Two lines overlap when they differ by less than this share of the
/// axis's height at every x they share (rule 4): about 4 pixels of a
/// chart's 236.
pub const OVERLAP_SHARE: f64 = 0.02;

/// What a chart became under the rules.
#[derive(Debug, Clone, PartialEq)]
pub enum Drawn {
    /// The SVG, and notes to add to the chart's text (overlaps, zoom).
    Chart(String, Vec<String>),
    /// A sentence in place of a chart whose values are all zero (rule 2).
    Sentence(String),
    /// Nothing to show (no data).
    Nothing,
}

/// Whether every value of every series (lines and bands) is zero.
pub fn all_zero(series: &[Series]) -> bool {
    let mut any = false;
    for s in series {
        for v in s
            .points
            .iter()
            .map(|p| p.1)
            .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
        {
            any = true;
            if v != 0.0 {
                return false;
            }
        }
    }
    any
}

/// The y range the axis will show at least: the data's (from zero) widened
/// to the unit's least span unless `zoom` (rule 1).
fn y_extent(unit: Unit, zoom: bool, series: &[Series]) -> (f64, f64) {
    let (mut low, mut high) = if zoom { (0.0, 0.0) } else { unit.least_span() };
    for s in series {
        for v in s
            .points
            .iter()
            .map(|p| p.1)
            .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
            .filter(|v| v.is_finite())
        {
            low = low.min(v);
            high = high.max(v);
        }
    }
    (low, high)
}

/// Groups of series (by name) that overlap (rule 4): every pair within a
/// group differs by less than [`OVERLAP_SHARE`] of `height` wherever both
/// have a value, at two or more shared x.
pub fn overlapping(series: &[Series], height: f64) -> Vec<Vec<String>> {
    let close = |a: &Series, b: &Series| {
        let mut shared = 0;
        for (x, y) in &a.points {
            if let Some((_, z)) = b.points.iter().find(|(u, _)| u == x) {
                shared += 1;
                if (y - z).abs() >= OVERLAP_SHARE * height {
                    return false;
                }
            }
        }
        shared >= 2
    };
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in 0..series.len() {
        match groups
            .iter_mut()
            .find(|g| g.iter().all(|&j| close(&series[i], &series[j])))
        {
            Some(group) => group.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
        .into_iter()
        .filter(|g| g.len() > 1)
        .map(|g| g.into_iter().map(|i| series[i].name.clone()).collect())
        .collect()
}

/// "a, b and c".
pub fn and_list(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// A line chart under the rules: empty series dropped, all-zero data as
/// `when_zero`, the axis at least the unit's span (or zoomed, said in a
/// note), overlapping lines named in a note.
pub fn lines(axes: &Axes, unit: Unit, zoom: bool, series: Vec<Series>, when_zero: &str) -> Drawn {
    let series: Vec<Series> = series
        .into_iter()
        .filter(|s| !s.points.is_empty())
        .collect();
    if series.is_empty() {
        return Drawn::Nothing;
    }
    if all_zero(&series) {
        return Drawn::Sentence(when_zero.to_string());
    }
    let mut axes = axes.clone();
    axes.percent = unit == Unit::Share;
    axes.y_from_zero = true;
    let mut notes = Vec::new();
    let (low, high) = y_extent(unit, zoom, &series);
    if zoom {
        let (_, full) = unit.least_span();
        if high < full {
            notes.push(format!(
                "The vertical axis is zoomed in: it stops near {}, not at {}.",
                tick_text(unit, high),
                tick_text(unit, full)
            ));
        }
    } else {
        axes.y_span = Some(unit.least_span());
    }
    for group in overlapping(&series, (high - low).max(1e-12)) {
        notes.push(format!(
            "The lines of {} overlap: they differ by less than {:.0}% of the axis at every point, so only the last drawn may show.",
            and_list(&group),
            OVERLAP_SHARE * 100.0
        ));
    }
    match line_chart(&axes, &series) {
        Some(svg) => Drawn::Chart(svg, notes),
        None => Drawn::Nothing,
    }
}

fn tick_text(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Share => format!("{:.0}%", v * 100.0),
        _ => format!("{v:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::report::svg::COLORS;

    fn series(name: &str, ys: &[f64]) -> Series {
        Series {
            name: name.to_string(),
            color: COLORS[0],
            points: ys
                .iter()
                .enumerate()
                .map(|(i, y)| (i as f64 + 1.0, *y))
                .collect(),
            band: Vec::new(),
            dashed: false,
        }
    }

    fn axes() -> Axes {
        Axes {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            ..Axes::default()
        }
    }

    #[test]
    fn an_all_zero_series_becomes_a_sentence() {
        let drawn = lines(
            &axes(),
            Unit::Count,
            false,
            vec![series("backlog", &[0.0, 0.0, 0.0])],
            "No case waited for a mediator.",
        );
        assert_eq!(
            drawn,
            Drawn::Sentence("No case waited for a mediator.".into())
        );
        // One non-zero value is a chart.
        let drawn = lines(
            &axes(),
            Unit::Count,
            false,
            vec![series("backlog", &[0.0, 0.1, 0.0])],
            "none",
        );
        assert!(matches!(drawn, Drawn::Chart(..)));
        // No data at all is nothing, not a claim that it was zero.
        assert_eq!(
            lines(&axes(), Unit::Count, false, vec![series("a", &[])], "x"),
            Drawn::Nothing
        );
    }

    /// The wait of minutes that once filled a 0-0.0025 axis.
    #[test]
    fn a_tiny_range_gets_the_least_span_of_its_unit() {
        let Drawn::Chart(svg, notes) = lines(
            &axes(),
            Unit::Days,
            false,
            vec![series("p90", &[0.0, 0.0025, 0.001])],
            "none",
        ) else {
            panic!("a chart");
        };
        assert!(notes.is_empty(), "{notes:?}");
        // The axis reaches 7 days: a tick label of 6 or more is drawn, and
        // none of the thousandths a zoomed axis would have.
        assert!(svg.contains(">6<") || svg.contains(">7<"), "{svg}");
        assert!(!svg.contains(">0.0025<") && !svg.contains(">0.002<"));
        assert_eq!(Unit::Share.least_span(), (0.0, 1.0));
        assert_eq!(Unit::Days.least_span(), (0.0, 7.0));
    }

    #[test]
    fn a_zoomed_share_axis_says_so() {
        let Drawn::Chart(svg, notes) = lines(
            &axes(),
            Unit::Share,
            true,
            vec![series("rearrest", &[0.1, 0.2, 0.3])],
            "none",
        ) else {
            panic!("a chart");
        };
        assert!(notes.iter().any(|n| n.contains("zoomed")), "{notes:?}");
        assert!(!svg.contains(">100%<"));
        let Drawn::Chart(svg, notes) = lines(
            &axes(),
            Unit::Share,
            false,
            vec![series("rearrest", &[0.1, 0.2, 0.3])],
            "none",
        ) else {
            panic!("a chart");
        };
        assert!(notes.is_empty());
        assert!(svg.contains(">100%<"), "{svg}");
    }

    #[test]
    fn overlapping_lines_are_named() {
        let drawn = lines(
            &axes(),
            Unit::Ratio,
            false,
            vec![
                series("truth", &[0.7, 0.8, 0.9]),
                series("naive", &[0.50, 0.60, 0.70]),
                series("VORS design", &[0.505, 0.601, 0.699]),
                series("stratified", &[0.51, 0.605, 0.70]),
            ],
            "none",
        );
        let Drawn::Chart(_, notes) = drawn else {
            panic!("a chart");
        };
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0].starts_with("The lines of naive, VORS design and stratified overlap"),
            "{notes:?}"
        );
        assert!(!notes[0].contains("truth"));
    }
}
