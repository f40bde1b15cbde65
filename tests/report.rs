//! `vomsim report` writes a self-contained page, and a real browser renders
//! its charts. The browser part runs headless Chromium (Debian's `chromium`;
//! `.ci/run` installs it), takes a screenshot and checks that it is not
//! blank and that the charts' colours are drawn. Without Chromium it is
//! skipped with a note, except in CI (`CI` set), where it must run.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{repo, vomsim};

fn report(args: &[&str], dir: &Path) -> String {
    let mut run = vomsim();
    run.args(args).args(["--quiet", "--out"]).arg(dir);
    assert!(run.output().unwrap().status.success());
    vomsim().arg("report").arg(dir).assert().success();
    fs::read_to_string(dir.join("report.html")).unwrap()
}

fn assert_self_contained(html: &str) {
    for needle in ["src=", "href=", "@import", "url(", "<script"] {
        assert!(
            !html.contains(needle),
            "the report loads something: {needle}"
        );
    }
}

#[test]
fn run_and_sweep_reports_are_self_contained_with_charts() {
    let tmp = tempfile::tempdir().unwrap();
    let html = report(
        &[
            "run",
            repo("scenarios/vors_la.toml").to_str().unwrap(),
            "--reps",
            "30",
        ],
        &tmp.path().join("run"),
    );
    assert_self_contained(&html);
    // Funnel, rearrest, effect, mediators, costs; the backlog and the
    // waits are zero throughout for vors_la, and said in words instead.
    assert!(
        html.matches("<svg").count() >= 5,
        "charts: {}",
        html.matches("<svg").count()
    );
    for title in [
        "From referral to restitution",
        "Rearrest over 30 months",
        "The effect as each study design would see it",
        "Costs and benefits",
    ] {
        assert!(html.contains(title), "missing section {title}");
    }
    assert!(
        html.contains("youths are referred"),
        "the plain-words summary"
    );
    // The key numbers with intervals, and the scenario's assumptions with
    // their values (vors_la marks the agency's saving per case as one).
    assert!(html.contains("Key numbers") && html.contains("95% interval"));
    assert!(html.contains("<h2>Assumptions</h2>"));
    assert!(
        html.contains("<code>costs.agency_per_case</code></td><td>1500.0</td>"),
        "the assumed saving per agency case is listed"
    );
    // Benefits stacked by source, the assumed ones marked.
    assert!(
        html.contains("agency cases (assumed)"),
        "assumed part marked"
    );
    assert!(html.contains("restitution (transfer)"));
    // vors_la's mediators keep up: the backlog is zero throughout, and is
    // said in words, not drawn as a flat line.
    assert!(
        html.contains("No case waited for a mediator"),
        "the all-zero backlog becomes a sentence"
    );
    // Who is diverted: the disparity ratios by group.
    assert!(html.contains("Who is diverted") && html.contains("race=black"));
    assert!(html.contains("Mediated share over everyone"));
    // Rearrest by group and disposition: a table with the mediated and
    // victim-declined youths' 12- and 30-month rearrest of each group, as
    // summary.csv has them.
    assert!(html.contains("Rearrest by group and disposition"));
    let summary = fs::read_to_string(tmp.path().join("run").join("summary.csv")).unwrap();
    let mean = |group: &str, month: &str| -> f64 {
        let start = format!("0,rearrest,{group},{month},");
        summary
            .lines()
            .find(|l| l.starts_with(&start))
            .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
            .unwrap_or_else(|| panic!("no row {start}"))
    };
    let table = &html[html.find("id=\"rearrest-by-disposition\"").unwrap()..];
    let row = &table[table.find("<td>race=black</td>").unwrap()..];
    let row = &row[..row.find("</tr>").unwrap()];
    for group in ["race=black;mediated", "race=black;victim_declined"] {
        let cell = format!(
            "<td>{:.1}% / {:.1}%</td>",
            mean(group, "12") * 100.0,
            mean(group, "30") * 100.0
        );
        assert!(row.contains(&cell), "{group}: {cell} not in {row}");
    }
    // The naive, VORS and stratified lines lie on one another: said so.
    assert!(html.contains("overlap:"), "overlapping lines are named");

    let html = report(
        &[
            "sweep",
            repo("scenarios/sweeps/mediator_pool.toml")
                .to_str()
                .unwrap(),
            "--reps",
            "4",
        ],
        &tmp.path().join("sweep"),
    );
    assert_self_contained(&html);
    assert!(
        html.contains("by mediators.initial_active")
            && html.contains("by consent.victim_probability")
    );
    // One line per value of the second parameter, each with its band: the
    // chart against the pool size has a line per victim-consent value (3),
    // the chart against victim consent one per pool size (5).
    for (title, legend) in [
        (
            "Share mediated by initial_active",
            &[
                "victim_probability = 0.4",
                "victim_probability = 0.55",
                "victim_probability = 0.7",
            ][..],
        ),
        (
            "Share mediated by victim_probability",
            &[
                "initial_active = 8",
                "initial_active = 12",
                "initial_active = 16",
                "initial_active = 24",
                "initial_active = 37",
            ][..],
        ),
    ] {
        let chart = svg_titled(&html, title);
        assert_eq!(chart.matches("<polyline").count(), legend.len(), "{title}");
        assert_eq!(
            chart.matches("fill-opacity=\"0.15\"").count(),
            legend.len(),
            "{title}: bands"
        );
        for name in legend {
            assert!(
                chart.contains(&format!(">{name}</text>")),
                "{title}: {name}"
            );
        }
        // Shares keep their 0-100% axis (rule 1).
        assert!(
            chart.contains(">100%</text>") && chart.contains(">0%</text>"),
            "{title}"
        );
    }
    // The point shown in detail is named.
    assert!(
        html.contains("<h2>Point 0 in detail: mediators.initial_active = 8, consent.victim_probability = 0.4</h2>"),
        "the detailed point is named"
    );
}

/// The chart whose title is `title`: from its `<svg` to its `</svg>`.
fn svg_titled<'a>(html: &'a str, title: &str) -> &'a str {
    let label = format!("aria-label=\"{title}\"");
    let at = html
        .find(&label)
        .unwrap_or_else(|| panic!("no chart {title}"));
    let start = html[..at].rfind("<svg").unwrap();
    let end = at + html[at..].find("</svg>").unwrap();
    &html[start..end]
}

/// The shipped Sobol sweep, with fewer base samples (24 instead of 256:
/// 168 points instead of 1,792) and replications, so that it runs in
/// seconds: its page draws the first-order and total index of every
/// parameter for every output, with the values of sensitivity.csv, and
/// stays under 1 MB (the full sweep's page was measured too: see the
/// CHANGELOG).
#[test]
fn sobol_page_draws_the_indices_and_stays_small() {
    let tmp = tempfile::tempdir().unwrap();
    let shipped = fs::read_to_string(repo("scenarios/sweeps/selection_sensitivity.toml")).unwrap();
    assert!(shipped.contains("\nbase_samples = 256"));
    let file = tmp.path().join("selection_sensitivity.toml");
    fs::write(
        &file,
        shipped.replace("\nbase_samples = 256", "\nbase_samples = 24"),
    )
    .unwrap();
    let dir = tmp.path().join("sobol");
    let html = report(&["sweep", file.to_str().unwrap(), "--reps", "4"], &dir);
    assert_self_contained(&html);
    assert!(html.len() < 1_000_000, "page of {} bytes", html.len());
    let sensitivity = fs::read_to_string(dir.join("sensitivity.csv")).unwrap();
    let mut rows = 0;
    for line in sensitivity.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        let output = cells[..3].join(" ");
        let chart = svg_titled(&html, &format!("Sobol indices: {output}"));
        let parameter = cells[3];
        for (kind, value) in [("first-order", cells[4]), ("total", cells[7])] {
            let value: f64 = value.parse().unwrap();
            assert!(
                chart.contains(&format!("class=\"{kind}\" data-parameter=\"{parameter}\"")),
                "{output}: no {kind} bar of {parameter}"
            );
            assert!(
                chart.contains(&format!("<title>{parameter} {kind}: {value:.2}</title>")),
                "{output}: {parameter} {kind} is not {value:.2}"
            );
        }
        rows += 1;
    }
    // Three outputs by five parameters.
    assert_eq!(rows, 15);
    // Saltelli's random points are grouped into bins, one line each chart.
    let chart = svg_titled(&html, "Share mediated by victim_risk_log_odds");
    assert_eq!(chart.matches("<polyline").count(), 1);
    assert!(html.contains("grouped into 10 bins"));
}

#[test]
fn a_damaged_summary_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    report(
        &[
            "run",
            repo("scenarios/vors_la.toml").to_str().unwrap(),
            "--reps",
            "3",
        ],
        &dir,
    );
    let summary = fs::read_to_string(dir.join("summary.csv")).unwrap();
    // The first data row's mean becomes text.
    let mut lines: Vec<String> = summary.lines().map(str::to_string).collect();
    let mut cells: Vec<&str> = lines[1].split(',').collect();
    cells[4] = "abc";
    lines[1] = cells.join(",");
    let damaged = lines.join("\n") + "\n";
    fs::write(dir.join("summary.csv"), damaged).unwrap();
    vomsim()
        .arg("report")
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("summary.csv row 2"));
}

/// A screenshot's pixels, channels per pixel, and (width, height).
fn read_png(path: &Path) -> (Vec<u8>, usize, (u32, u32)) {
    let decoder = png::Decoder::new(std::io::BufReader::new(fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    pixels.truncate(info.buffer_size());
    (pixels, info.color_type.samples(), (info.width, info.height))
}

/// Pixels of an RGBA or RGB image close to a colour.
fn count_color(pixels: &[u8], channels: usize, (r, g, b): (i32, i32, i32)) -> usize {
    pixels
        .chunks(channels)
        .filter(|p| {
            (p[0] as i32 - r).abs() < 24
                && (p[1] as i32 - g).abs() < 24
                && (p[2] as i32 - b).abs() < 24
        })
        .count()
}

#[test]
fn a_browser_renders_the_charts() {
    let browser = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    let Some(browser) = browser else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test: .ci/run installs chromium"
        );
        eprintln!("browser test not run: no chromium on this machine (apt-get install chromium)");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    report(
        &[
            "run",
            repo("scenarios/vors_la.toml").to_str().unwrap(),
            "--reps",
            "30",
        ],
        &dir,
    );
    let shot = tmp.path().join("report.png");
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=800,4200",
        ])
        .arg(format!(
            "--user-data-dir={}",
            tmp.path().join("profile").display()
        ))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", dir.join("report.html").display()))
        .output()
        .unwrap();
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let (pixels, channels, (width, height)) = read_png(&shot);
    let pixels = &pixels[..];
    let total = pixels.len() / channels;
    let white = count_color(pixels, channels, (255, 255, 255));
    let drawn = total - white;
    println!("{width}x{height}: {drawn} of {total} pixels drawn");
    assert!(
        drawn as f64 > 0.04 * total as f64,
        "the page is nearly blank"
    );
    // The charts' first two colours (Okabe-Ito blue and vermillion) are
    // drawn: a blank page, or one whose SVG failed to render, has none.
    // Measured on vors_la at 800 px wide: about 4,800 blue and 1,500
    // vermillion pixels; the floor of 500 each leaves room for font and
    // antialiasing differences between Chromium versions.
    let blue = count_color(pixels, channels, (0, 114, 178));
    let vermillion = count_color(pixels, channels, (213, 94, 0));
    println!("blue {blue}, vermillion {vermillion}");
    assert!(
        blue > 500 && vermillion > 500,
        "chart colours missing: blue {blue}, vermillion {vermillion}"
    );

    // The page as the browser lays it out: the key numbers, the equity
    // section with its disparity ratios, and the assumptions are there.
    let dom = headless(browser, &tmp.path().join("profile-dom"))
        .arg("--dump-dom")
        .arg(format!("file://{}", dir.join("report.html").display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    let summary = fs::read_to_string(dir.join("summary.csv")).unwrap();
    let disparity: f64 = summary
        .lines()
        .find(|l| l.starts_with("0,disparity_mediated,race=black,,"))
        .map(|l| l.split(',').nth(4).unwrap().parse().unwrap())
        .unwrap();
    for needle in [
        "Key numbers".to_string(),
        "Who is diverted".to_string(),
        "race=black".to_string(),
        "offense=burglary".to_string(),
        format!("{disparity:.2} ("),
        "Assumptions".to_string(),
    ] {
        assert!(dom.contains(&needle), "the page's text lacks {needle:?}");
    }
}

#[test]
fn compare_pairs_runs_that_share_their_seed() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |dir: &str, extra: &[&str]| {
        let mut command = vomsim();
        command
            .args([
                "run",
                repo("scenarios/vors_la.toml").to_str().unwrap(),
                "--reps",
                "40",
                "--quiet",
                "--out",
            ])
            .arg(tmp.path().join(dir))
            .args(extra);
        assert!(command.output().unwrap().status.success());
    };
    run("voluntary", &[]);
    run("court", &["--set", "consent.offender_mode=court_ordered"]);
    run(
        "court-other-seed",
        &[
            "--set",
            "consent.offender_mode=court_ordered",
            "--seed",
            "7",
        ],
    );
    let compare = |b: &str, out: &str| -> Vec<csv::StringRecord> {
        vomsim()
            .arg("compare")
            .arg(tmp.path().join("voluntary"))
            .arg(tmp.path().join(b))
            .arg("--out")
            .arg(tmp.path().join(out))
            .assert()
            .success()
            .stdout(predicates::str::contains("P(A better)"));
        let mut reader = csv::Reader::from_path(tmp.path().join(out).join("compare.csv")).unwrap();
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            [
                "metric",
                "group",
                "month",
                "a_mean",
                "b_mean",
                "difference",
                "lower",
                "upper",
                "better",
                "p_a_better",
                "paired",
                "b"
            ]
        );
        reader.records().map(|r| r.unwrap()).collect()
    };
    let row = |rows: &[csv::StringRecord], metric: &str, group: &str, month: &str| {
        rows.iter()
            .find(|r| &r[0] == metric && &r[1] == group && &r[2] == month)
            .cloned()
            .unwrap()
    };
    let paired = compare("court", "paired");
    assert!(paired.iter().all(|r| &r[10] == "true"));
    // The same youths in both: referrals are identical, replication by replication.
    let referrals = row(&paired, "referrals", "referred", "");
    assert_eq!(
        (&referrals[5], &referrals[6], &referrals[7]),
        ("0", "0", "0")
    );
    // Court-ordered participation mediates more youths: voluntary has the
    // lower share in every paired replication.
    let mediated = row(&paired, "share", "mediated", "");
    assert!(mediated[5].parse::<f64>().unwrap() < 0.0);
    assert_eq!(&mediated[9], "0");
    assert!(paired.iter().any(|r| &r[0] == "net_benefit_per_referral"));
    assert!(
        paired
            .iter()
            .any(|r| &r[0] == "effect_ratio" && &r[2] == "30")
    );

    let unpaired = compare("court-other-seed", "unpaired");
    assert!(unpaired.iter().all(|r| &r[10] == "false"));
    let p: f64 = row(&unpaired, "share", "mediated", "")[9].parse().unwrap();
    assert!(p < 0.05, "independent runs still tell the difference: {p}");
}

/// The browser, if this machine has one (in CI it must).
fn browser() -> Option<&'static str> {
    let found = ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the browser test: .ci/run installs chromium"
        );
        eprintln!("browser test not run: no chromium on this machine (apt-get install chromium)");
    }
    found
}

/// Headless Chromium's flags for a quiet, offline, local page.
fn headless(browser: &str, profile: &Path) -> Command {
    let mut command = Command::new(browser);
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}

/// `compare A B C` and `report` on its folder: a page with the three
/// scenarios side by side, rendered (not blank) with its key numbers in
/// the text the browser lays out.
#[test]
fn a_compare_page_shows_the_scenarios_side_by_side() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |dir: &str, extra: &[&str]| {
        vomsim()
            .args([
                "run",
                repo("scenarios/vors_la.toml").to_str().unwrap(),
                "--reps",
                "20",
                "--quiet",
                "--out",
            ])
            .arg(tmp.path().join(dir))
            .args(extra)
            .assert()
            .success();
    };
    run("voluntary", &[]);
    run("court", &["--set", "consent.offender_mode=court_ordered"]);
    run("bigger_pool", &["--set", "mediators.initial_active=60"]);
    let cmp = tmp.path().join("cmp");
    vomsim()
        .arg("compare")
        .args(["voluntary", "court", "bigger_pool"].map(|d| tmp.path().join(d)))
        .arg("--out")
        .arg(&cmp)
        .assert()
        .success();
    // Every row names its run B; the baseline is A in each.
    let text = fs::read_to_string(cmp.join("compare.csv")).unwrap();
    assert!(text.lines().next().unwrap().ends_with(",paired,b"));
    let court_rows = text.lines().filter(|l| l.ends_with("court")).count();
    let pool_rows = text.lines().filter(|l| l.ends_with("bigger_pool")).count();
    // (The rows differ a little: a metric undefined in every replication
    // of one run, such as a wait nobody had, has no row.)
    assert!(
        court_rows > 10 && pool_rows > 10,
        "{court_rows} {pool_rows}"
    );
    vomsim().arg("report").arg(&cmp).assert().success();
    let html = fs::read_to_string(cmp.join("report.html")).unwrap();
    assert_self_contained(&html);
    // The net benefit of court-ordered participation minus voluntary's,
    // as compare.csv has it (A - B), printed as B - A on the page.
    let net = text
        .lines()
        .find(|l| l.starts_with("net_benefit_per_referral,program,,") && l.ends_with("court"))
        .unwrap();
    let cells: Vec<&str> = net.split(',').collect();
    let (a_mean, b_mean): (f64, f64) = (cells[3].parse().unwrap(), cells[4].parse().unwrap());
    let dollars = |v: f64| {
        let s = format!("{}", v.round().abs() as i64);
        let mut grouped = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        format!("{}${grouped}", if v.round() < 0.0 { "-" } else { "" })
    };

    let Some(browser) = browser() else {
        return;
    };
    let page = format!("file://{}", cmp.join("report.html").display());
    let dom = headless(browser, &tmp.path().join("profile-dom"))
        .arg("--dump-dom")
        .arg(&page)
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&dom.stdout);
    for needle in [
        "Headline numbers",
        "voluntary (baseline)",
        "court minus voluntary",
        "bigger_pool minus voluntary",
        "chance court does better",
        "net benefit per referral",
    ] {
        assert!(dom.contains(needle), "the page's text lacks {needle:?}");
    }
    for value in [dollars(a_mean), dollars(b_mean)] {
        assert!(dom.contains(&value), "the page's text lacks {value}");
    }
    let shot = tmp.path().join("compare.png");
    let output = headless(browser, &tmp.path().join("profile-shot"))
        .arg("--window-size=800,2400")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&page)
        .output()
        .unwrap();
    assert!(
        shot.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let (pixels, channels, _) = read_png(&shot);
    let pixels = &pixels[..];
    let total = pixels.len() / channels;
    let drawn = total - count_color(pixels, channels, (255, 255, 255));
    assert!(
        drawn as f64 > 0.03 * total as f64,
        "the compare page is nearly blank: {drawn} of {total}"
    );
    // The difference bars are drawn in the palette's first colour.
    assert!(count_color(pixels, channels, (0, 114, 178)) > 300);
}
