//! Small SVG charts for the report: line charts with interval bands, bar
//! charts with intervals, scatter plots. Self-contained markup (no fonts or
//! scripts to fetch), sized for a page, with titles and labelled axes.

use std::fmt::Write;

/// A qualitative palette that stays distinct for colour-blind readers
/// (Okabe-Ito).
pub const COLORS: [&str; 8] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];

/// One line, with an optional band (x, low, high) drawn behind it.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub points: Vec<(f64, f64)>,
    pub band: Vec<(f64, f64, f64)>,
    pub dashed: bool,
}

/// How a chart's axes read.
#[derive(Debug, Clone, Default)]
pub struct Axes {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Show y as percentages (values are shares).
    pub percent: bool,
    /// A horizontal reference line (e.g. a ratio of 1).
    pub reference_y: Option<f64>,
    /// Force y to start at 0.
    pub y_from_zero: bool,
    /// Values are dollars (bar labels read $1,234).
    pub money: bool,
    /// The least range the y axis covers, whatever the data (the unit's
    /// meaningful range: see `rules`).
    pub y_span: Option<(f64, f64)>,
    /// The x axis's range, whatever the data (charts that must line up,
    /// such as the caseload's program months).
    pub x_span: Option<(f64, f64)>,
}

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 320.0;
const LEFT: f64 = 64.0;
/// Right margin with a legend, and without one (bar charts).
const RIGHT: f64 = 180.0;
const RIGHT_BARE: f64 = 24.0;
const TOP: f64 = 36.0;
const BOTTOM: f64 = 48.0;

/// Escapes text for HTML and SVG.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Round tick values covering [low, high]: steps of 1, 2 or 5 times a
/// power of ten, about five of them.
fn ticks(low: f64, high: f64) -> Vec<f64> {
    let span = (high - low).max(1e-12);
    let raw = span / 5.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| span / s <= 6.0)
        .unwrap_or(10.0 * power);
    // Each tick from its index (no accumulated error), rounded to the step.
    let first = (low / step).ceil() as i64;
    let last = (high / step + 1e-9).floor() as i64;
    let values: Vec<f64> = (first..=last)
        .map(|k| (k as f64 * step * 1e9).round() / 1e9)
        .collect();
    values
}

/// A tick label with as many decimals as the tick step needs.
fn label(value: f64, percent: bool, step: f64) -> String {
    let decimals = |step: f64| (-step.log10().floor()).max(0.0) as usize;
    if percent {
        let digits = decimals(step * 100.0);
        format!("{:.digits$}%", value * 100.0)
    } else if value.abs() >= 10_000.0 && step >= 1000.0 {
        format!("{:.0}k", value / 1000.0)
    } else {
        let digits = decimals(step);
        format!("{value:.digits$}")
    }
}

/// Dollars, rounded, with thousands separators: $1,234.
pub fn dollars(value: f64) -> String {
    let rounded = value.round() as i64;
    let digits = rounded.unsigned_abs().to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{}${grouped}", if rounded < 0 { "-" } else { "" })
}

/// A value printed on a bar.
fn value_label(value: f64, axes: &Axes) -> String {
    if axes.money {
        dollars(value)
    } else if axes.percent {
        format!("{:.1}%", value * 100.0)
    } else {
        format!("{value:.2}")
    }
}

/// The frame of a chart: title, axes, grid, ticks; returns the markup and
/// the functions placing x and y.
struct Frame {
    svg: String,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
    right: f64,
}

impl Frame {
    fn new(
        axes: &Axes,
        x_range: (f64, f64),
        y_range: (f64, f64),
        x_ticks: Option<Vec<(f64, String)>>,
        legend: bool,
    ) -> Frame {
        let right = if legend { RIGHT } else { RIGHT_BARE };
        let (x0, x1) = x_range;
        let (y0, y1) = y_range;
        let mut svg = String::new();
        let _ = write!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{t}" font-family="Helvetica, Arial, sans-serif" font-size="12">"#,
            t = escape(&axes.title)
        );
        let _ = write!(
            svg,
            r#"<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#
        );
        let _ = write!(
            svg,
            r#"<text x="{LEFT}" y="20" font-size="14" font-weight="bold">{}</text>"#,
            escape(&axes.title)
        );
        let mut frame = Frame {
            svg,
            x0,
            x1,
            y0,
            y1,
            right,
        };
        let (plot_right, plot_bottom) = (WIDTH - right, HEIGHT - BOTTOM);
        let y_ticks = ticks(y0, y1);
        let y_step = if y_ticks.len() > 1 {
            y_ticks[1] - y_ticks[0]
        } else {
            1.0
        };
        for y in y_ticks {
            let py = frame.y(y);
            let _ = write!(
                frame.svg,
                r##"<line x1="{LEFT}" y1="{py:.1}" x2="{plot_right}" y2="{py:.1}" stroke="#e5e5e5"/><text x="{:.1}" y="{:.1}" text-anchor="end" fill="#444">{}</text>"##,
                LEFT - 6.0,
                py + 4.0,
                label(y, axes.percent, y_step)
            );
        }
        let x_marks = x_ticks.unwrap_or_else(|| {
            let marks = ticks(x0, x1);
            let step = if marks.len() > 1 {
                marks[1] - marks[0]
            } else {
                1.0
            };
            marks
                .into_iter()
                .map(|x| (x, label(x, false, step)))
                .collect()
        });
        for (x, text) in x_marks {
            let px = frame.x(x);
            let _ = write!(
                frame.svg,
                r##"<line x1="{px:.1}" y1="{plot_bottom}" x2="{px:.1}" y2="{:.1}" stroke="#999"/><text x="{px:.1}" y="{:.1}" text-anchor="middle" fill="#444">{}</text>"##,
                plot_bottom + 4.0,
                plot_bottom + 17.0,
                escape(&text)
            );
        }
        let _ = write!(
            frame.svg,
            r##"<line x1="{LEFT}" y1="{plot_bottom}" x2="{plot_right}" y2="{plot_bottom}" stroke="#333"/><line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{plot_bottom}" stroke="#333"/>"##
        );
        let _ = write!(
            frame.svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#222">{}</text>"##,
            (LEFT + plot_right) / 2.0,
            HEIGHT - 10.0,
            escape(&axes.x_label)
        );
        let _ = write!(
            frame.svg,
            r##"<text transform="translate(14,{:.1}) rotate(-90)" text-anchor="middle" fill="#222">{}</text>"##,
            (TOP + plot_bottom) / 2.0,
            escape(&axes.y_label)
        );
        if let Some(r) = axes.reference_y
            && r >= y0
            && r <= y1
        {
            let py = frame.y(r);
            let _ = write!(
                frame.svg,
                r##"<line x1="{LEFT}" y1="{py:.1}" x2="{plot_right}" y2="{py:.1}" stroke="#555" stroke-dasharray="2,3"/>"##
            );
        }
        frame
    }

    fn x(&self, x: f64) -> f64 {
        let span = (self.x1 - self.x0).max(1e-12);
        LEFT + (x - self.x0) / span * (WIDTH - self.right - LEFT)
    }

    fn y(&self, y: f64) -> f64 {
        let span = (self.y1 - self.y0).max(1e-12);
        HEIGHT - BOTTOM - (y - self.y0) / span * (HEIGHT - BOTTOM - TOP)
    }

    /// A 95% interval as a whisker at x pixel `cx`, from `low` to `high`.
    fn whisker(&mut self, cx: f64, low: f64, high: f64) {
        let (pl, ph) = (self.y(low), self.y(high));
        let _ = write!(
            self.svg,
            r##"<line x1="{cx:.1}" y1="{pl:.1}" x2="{cx:.1}" y2="{ph:.1}" stroke="#222" stroke-width="1.5"/><line x1="{:.1}" y1="{pl:.1}" x2="{:.1}" y2="{pl:.1}" stroke="#222"/><line x1="{:.1}" y1="{ph:.1}" x2="{:.1}" y2="{ph:.1}" stroke="#222"/>"##,
            cx - 6.0,
            cx + 6.0,
            cx - 6.0,
            cx + 6.0
        );
    }

    fn legend(&mut self, entries: &[(&str, &str, bool)]) {
        for (i, (name, color, dashed)) in entries.iter().enumerate() {
            let y = TOP + 8.0 + 18.0 * i as f64;
            let x = WIDTH - self.right + 10.0;
            let dash = if *dashed {
                r#" stroke-dasharray="6,4""#
            } else {
                ""
            };
            let _ = write!(
                self.svg,
                r##"<line x1="{x}" y1="{y}" x2="{:.1}" y2="{y}" stroke="{color}" stroke-width="2.5"{dash}/><text x="{:.1}" y="{:.1}" fill="#222" font-size="11">{}</text>"##,
                x + 22.0,
                x + 28.0,
                y + 4.0,
                escape(name)
            );
        }
    }

    fn finish(mut self) -> String {
        self.svg.push_str("</svg>");
        self.svg
    }
}

fn range(values: impl Iterator<Item = f64>, from_zero: bool, pad: bool) -> Option<(f64, f64)> {
    let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        low = low.min(v);
        high = high.max(v);
    }
    if !low.is_finite() {
        return None;
    }
    if from_zero {
        low = low.min(0.0);
    }
    if high - low < 1e-9 {
        // A flat series: give the axis a readable height around it.
        high = low
            + if low.abs() < 1.0 {
                1.0
            } else {
                low.abs() * 0.1
            };
    }
    if pad {
        let span = (high - low).max(high.abs() * 0.1).max(1e-9);
        high += span * 0.08;
        if !from_zero {
            low -= span * 0.08;
        }
    }
    Some((low, high))
}

/// A line chart; `None` when there is nothing to draw.
pub fn line_chart(axes: &Axes, series: &[Series]) -> Option<String> {
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let (x0, x1) = match axes.x_span {
        Some(span) if series.iter().any(|s| !s.points.is_empty()) => span,
        _ => range(xs, false, false)?,
    };
    let ys = series.iter().flat_map(|s| {
        s.points
            .iter()
            .map(|p| p.1)
            .chain(s.band.iter().flat_map(|b| [b.1, b.2]))
    });
    let span = axes.y_span.into_iter().flat_map(|(a, b)| [a, b]);
    let ys: Vec<f64> = ys.chain(axes.reference_y).chain(span).collect();
    let (y0, y1) = range(ys.into_iter(), axes.y_from_zero, true)?;
    let mut frame = Frame::new(axes, (x0, x1), (y0, y1), None, true);
    for s in series {
        if s.band.len() >= 2 {
            let mut path = String::new();
            for (i, (x, low, _)) in s.band.iter().enumerate() {
                let _ = write!(
                    path,
                    "{}{:.1},{:.1} ",
                    if i == 0 { "M" } else { "L" },
                    frame.x(*x),
                    frame.y(*low)
                );
            }
            for (x, _, high) in s.band.iter().rev() {
                let _ = write!(path, "L{:.1},{:.1} ", frame.x(*x), frame.y(*high));
            }
            let _ = write!(
                frame.svg,
                r#"<path d="{path}Z" fill="{}" fill-opacity="0.15" stroke="none"/>"#,
                s.color
            );
        }
    }
    for s in series {
        let points: Vec<String> = s
            .points
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|(x, y)| format!("{:.1},{:.1}", frame.x(*x), frame.y(*y)))
            .collect();
        let dash = if s.dashed {
            r#" stroke-dasharray="6,4""#
        } else {
            ""
        };
        let _ = write!(
            frame.svg,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5"{dash}/>"#,
            points.join(" "),
            s.color
        );
        if s.points.len() <= 12 {
            for (x, y) in s.points.iter().filter(|p| p.1.is_finite()) {
                let _ = write!(
                    frame.svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{}"/>"#,
                    frame.x(*x),
                    frame.y(*y),
                    s.color
                );
            }
        }
    }
    let legend: Vec<(&str, &str, bool)> = series
        .iter()
        .map(|s| (s.name.as_str(), s.color, s.dashed))
        .collect();
    frame.legend(&legend);
    Some(frame.finish())
}

/// A bar: its label, value and optional 95% interval.
pub type Bar = (String, f64, Option<(f64, f64)>);

/// A group of scatter points: its name, colour and (x, y) points.
pub type PointGroup = (String, &'static str, Vec<(f64, f64)>);

/// A bar per label with an optional 95% interval; `None` when empty.
pub fn bar_chart(axes: &Axes, bars: &[Bar]) -> Option<String> {
    if bars.is_empty() {
        return None;
    }
    let ys = bars
        .iter()
        .flat_map(|(_, v, i)| [Some(*v), i.map(|i| i.0), i.map(|i| i.1)])
        .flatten()
        .chain(axes.y_span.into_iter().flat_map(|(a, b)| [a, b]));
    let (y0, y1) = range(ys, true, true)?;
    let n = bars.len() as f64;
    let ticks: Vec<(f64, String)> = bars
        .iter()
        .enumerate()
        .map(|(i, (name, _, _))| (i as f64 + 0.5, name.clone()))
        .collect();
    let mut frame = Frame::new(axes, (0.0, n), (y0, y1), Some(ticks), false);
    let width = (WIDTH - RIGHT_BARE - LEFT) / n * 0.6;
    for (i, (_, value, interval)) in bars.iter().enumerate() {
        let cx = frame.x(i as f64 + 0.5);
        let (top, base) = (frame.y(value.max(0.0)), frame.y(value.min(0.0)));
        let color = COLORS[i % COLORS.len()];
        let _ = write!(
            frame.svg,
            r#"<rect x="{:.1}" y="{top:.1}" width="{width:.1}" height="{:.1}" fill="{color}" fill-opacity="0.85"/>"#,
            cx - width / 2.0,
            (base - top).max(0.5)
        );
        let label_y = interval.map_or(top, |(low, high)| top.min(frame.y(low)).min(frame.y(high)));
        let _ = write!(
            frame.svg,
            r##"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" fill="#111" font-weight="bold">{}</text>"##,
            label_y - 5.0,
            value_label(*value, axes)
        );
        if let Some((low, high)) = interval {
            frame.whisker(cx, *low, *high);
        }
    }
    Some(frame.finish())
}

/// One part of a stacked bar: its name (in the legend), value and colour;
/// a part resting on assumptions is drawn hatched, lighter, with a dashed
/// outline, and its legend entry says so.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub value: f64,
    pub color: &'static str,
    pub assumed: bool,
}

/// A bar made of parts stacked from zero (positive parts up, negative
/// parts down), with an optional 95% interval of its total.
#[derive(Debug, Clone)]
pub struct Stack {
    pub label: String,
    pub parts: Vec<Part>,
    pub interval: Option<(f64, f64)>,
}

/// Bars of stacked parts, with a legend of the parts; `None` when empty.
pub fn stacked_bar_chart(axes: &Axes, stacks: &[Stack]) -> Option<String> {
    if stacks.is_empty() {
        return None;
    }
    let mut ys = Vec::new();
    for s in stacks {
        let up: f64 = s.parts.iter().map(|p| p.value.max(0.0)).sum();
        let down: f64 = s.parts.iter().map(|p| p.value.min(0.0)).sum();
        ys.extend([up, down]);
        if let Some((low, high)) = s.interval {
            ys.extend([low, high]);
        }
    }
    ys.extend(axes.y_span.into_iter().flat_map(|(a, b)| [a, b]));
    let (y0, y1) = range(ys.into_iter(), true, true)?;
    let n = stacks.len() as f64;
    let ticks: Vec<(f64, String)> = stacks
        .iter()
        .enumerate()
        .map(|(i, s)| (i as f64 + 0.5, s.label.clone()))
        .collect();
    let mut frame = Frame::new(axes, (0.0, n), (y0, y1), Some(ticks), true);
    let width = (WIDTH - RIGHT - LEFT) / n * 0.6;
    let mut legend: Vec<(String, &str, bool)> = Vec::new();
    for (i, stack) in stacks.iter().enumerate() {
        let cx = frame.x(i as f64 + 0.5);
        let (mut up, mut down) = (0.0f64, 0.0f64);
        for part in &stack.parts {
            let (from, to) = if part.value >= 0.0 {
                up += part.value;
                (up - part.value, up)
            } else {
                down += part.value;
                (down - part.value, down)
            };
            let (top, base) = (frame.y(from.max(to)), frame.y(from.min(to)));
            let x = cx - width / 2.0;
            let height = (base - top).max(0.5);
            let (opacity, outline) = if part.assumed {
                (0.45, r##" stroke="#333" stroke-dasharray="4,3""##)
            } else {
                (0.85, "")
            };
            let _ = write!(
                frame.svg,
                r#"<rect x="{x:.1}" y="{top:.1}" width="{width:.1}" height="{height:.1}" fill="{}" fill-opacity="{opacity}"{outline}/>"#,
                part.color
            );
            if part.assumed {
                // Hatched: a stripe every 6 pixels (drawn, not a pattern,
                // so the chart references nothing).
                let mut y = top + 3.0;
                while y < top + height {
                    let _ = write!(
                        frame.svg,
                        r##"<line x1="{x:.1}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="#333" stroke-opacity="0.35"/>"##,
                        x + width
                    );
                    y += 6.0;
                }
            }
            let name = if part.assumed {
                format!("{} (assumed)", part.name)
            } else {
                part.name.clone()
            };
            if !legend.iter().any(|(n, _, _)| *n == name) {
                legend.push((name, part.color, part.assumed));
            }
        }
        let total = up + down;
        let top = frame.y(up);
        let label_y = stack
            .interval
            .map_or(top, |(low, high)| top.min(frame.y(low)).min(frame.y(high)));
        let _ = write!(
            frame.svg,
            r##"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" fill="#111" font-weight="bold">{}</text>"##,
            label_y - 5.0,
            value_label(total, axes)
        );
        if let Some((low, high)) = stack.interval {
            frame.whisker(cx, low, high);
        }
    }
    let entries: Vec<(&str, &str, bool)> = legend
        .iter()
        .map(|(n, c, dashed)| (n.as_str(), *c, *dashed))
        .collect();
    frame.legend(&entries);
    Some(frame.finish())
}

/// One parameter's Sobol indices: its name, then first-order and total
/// (estimate, 2.5% and 97.5% bootstrap bounds).
pub type IndexBars = (String, (f64, f64, f64), (f64, f64, f64));

/// Sobol indices as horizontal bars, two per parameter (first-order and
/// total), each with its bootstrap interval as a whisker. The axis spans at
/// least 0 to 1 (indices are shares of the output's variance; noise can
/// take an estimate or a bound a little past either end). `None` when
/// there is no parameter.
pub fn index_chart(title: &str, rows: &[IndexBars]) -> Option<String> {
    if rows.is_empty() {
        return None;
    }
    const LABEL: f64 = 250.0;
    const ROW: f64 = 40.0;
    let top = TOP + 22.0;
    let height = top + ROW * rows.len() as f64 + BOTTOM;
    let right = WIDTH - RIGHT_BARE;
    let finite = |v: f64| v.is_finite().then_some(v);
    let values = rows
        .iter()
        .flat_map(|(_, a, b)| [a.0, a.1, a.2, b.0, b.1, b.2]);
    let low = values.clone().filter_map(finite).fold(0.0, f64::min);
    let high = values.filter_map(finite).fold(1.0, f64::max);
    let x = |v: f64| LABEL + (v - low) / (high - low) * (right - LABEL);
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" aria-label="{t}" font-family="Helvetica, Arial, sans-serif" font-size="12"><rect x="0" y="0" width="{WIDTH}" height="{height}" fill="white"/><text x="{LEFT}" y="20" font-size="14" font-weight="bold">{t}</text>"#,
        t = escape(title)
    );
    let bottom = height - BOTTOM;
    for tick in ticks(low, high) {
        let px = x(tick);
        let _ = write!(
            svg,
            r##"<line x1="{px:.1}" y1="{top}" x2="{px:.1}" y2="{bottom}" stroke="#e5e5e5"/><text x="{px:.1}" y="{:.1}" text-anchor="middle" fill="#444">{}</text>"##,
            bottom + 16.0,
            label(tick, false, 0.1)
        );
    }
    let _ = write!(
        svg,
        r##"<line x1="{LABEL}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#333"/><line x1="{LABEL}" y1="{top}" x2="{LABEL}" y2="{bottom}" stroke="#333"/><text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#222">share of the output's variance</text>"##,
        (LABEL + right) / 2.0,
        height - 10.0
    );
    for (k, (name, color)) in [("first-order", COLORS[0]), ("total", COLORS[1])]
        .into_iter()
        .enumerate()
    {
        let lx = LABEL + 130.0 * k as f64;
        let _ = write!(
            svg,
            r##"<rect x="{lx}" y="{:.1}" width="14" height="10" fill="{color}"/><text x="{:.1}" y="{:.1}" fill="#222" font-size="11">{name} index</text>"##,
            TOP - 2.0,
            lx + 18.0,
            TOP + 7.0
        );
    }
    for (r, (parameter, first, total)) in rows.iter().enumerate() {
        let y0 = top + ROW * r as f64;
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#222">{}</text>"##,
            LABEL - 8.0,
            y0 + ROW / 2.0 + 4.0,
            escape(parameter)
        );
        for (k, (kind, color, (value, lower, upper))) in [
            ("first-order", COLORS[0], first),
            ("total", COLORS[1], total),
        ]
        .into_iter()
        .enumerate()
        {
            let y = y0 + 6.0 + 14.0 * k as f64;
            let (a, b) = if value.is_finite() {
                (x(value.min(0.0)), x(value.max(0.0)))
            } else {
                (x(0.0), x(0.0))
            };
            let _ = write!(
                svg,
                r#"<rect class="{kind}" data-parameter="{}" x="{a:.1}" y="{y:.1}" width="{:.1}" height="12" fill="{color}" fill-opacity="0.85"><title>{} {kind}: {}</title></rect>"#,
                escape(parameter),
                (b - a).max(0.5),
                escape(parameter),
                if value.is_finite() {
                    format!("{value:.2}")
                } else {
                    "undefined".to_string()
                }
            );
            if lower.is_finite() && upper.is_finite() {
                let (pl, ph, cy) = (x(*lower), x(*upper), y + 6.0);
                let _ = write!(
                    svg,
                    r##"<line x1="{pl:.1}" y1="{cy:.1}" x2="{ph:.1}" y2="{cy:.1}" stroke="#222" stroke-width="1.5"/><line x1="{pl:.1}" y1="{:.1}" x2="{pl:.1}" y2="{:.1}" stroke="#222"/><line x1="{ph:.1}" y1="{:.1}" x2="{ph:.1}" y2="{:.1}" stroke="#222"/>"##,
                    cy - 4.0,
                    cy + 4.0,
                    cy - 4.0,
                    cy + 4.0
                );
            }
            if value.is_finite() {
                let _ = write!(
                    svg,
                    r##"<text x="{:.1}" y="{:.1}" fill="#111" font-size="10">{value:.2}</text>"##,
                    x(upper.max(*value).min(high)) + 4.0,
                    y + 10.0
                );
            }
        }
    }
    svg.push_str("</svg>");
    Some(svg)
}

/// Points (x, y) of one or more groups; `None` when empty.
pub fn scatter(axes: &Axes, groups: &[PointGroup]) -> Option<String> {
    let xs = groups.iter().flat_map(|g| g.2.iter().map(|p| p.0));
    let (x0, x1) = range(xs, false, true)?;
    let ys = groups
        .iter()
        .flat_map(|g| g.2.iter().map(|p| p.1))
        .chain(axes.y_span.into_iter().flat_map(|(a, b)| [a, b]));
    let (y0, y1) = range(ys, axes.y_from_zero, true)?;
    let mut frame = Frame::new(axes, (x0, x1), (y0, y1), None, true);
    for (_, color, points) in groups {
        for (x, y) in points.iter().filter(|p| p.1.is_finite()) {
            let _ = write!(
                frame.svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{color}" fill-opacity="0.7"/>"#,
                frame.x(*x),
                frame.y(*y)
            );
        }
    }
    let legend: Vec<(&str, &str, bool)> =
        groups.iter().map(|g| (g.0.as_str(), g.1, false)).collect();
    frame.legend(&legend);
    Some(frame.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_the_step() {
        assert_eq!(label(0.25, true, 0.05), "25%");
        assert_eq!(label(0.0012, false, 0.0005), "0.0012");
        assert_eq!(label(20.0, false, 10.0), "20");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(0.0, 1.0), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(ticks(3.0, 27.0), vec![5.0, 10.0, 15.0, 20.0, 25.0]);
    }

    #[test]
    fn charts_draw_their_series() {
        let axes = Axes {
            title: "t <1>".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            percent: true,
            reference_y: None,
            y_from_zero: true,
            ..Axes::default()
        };
        let series = [Series {
            name: "a".into(),
            color: COLORS[0],
            points: vec![(1.0, 0.1), (2.0, 0.2)],
            band: vec![(1.0, 0.05, 0.15), (2.0, 0.1, 0.3)],
            dashed: false,
        }];
        let svg = line_chart(&axes, &series).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("<polyline") && svg.contains("t &lt;1&gt;"));
        assert!(line_chart(&axes, &[]).is_none());
        let bars = bar_chart(&axes, &[("a".into(), 0.5, Some((0.4, 0.6)))]).unwrap();
        assert!(bars.contains("<rect") && bars.contains("50.0%"));
    }
}
