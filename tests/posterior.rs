//! `calibrate --posterior` and `run --parameters` (release): the ABC
//! posterior's coverage on synthetic data, posterior.csv's shape and
//! determinism, the widening of a prediction's interval, ratio targets,
//! nearest-name suggestions, and the error cases.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{entries, read_summary, repo, vomsim};
use vomsim::analysis::calibration::{self, FitParameter, PosteriorOptions, Target};
use vomsim::cancel::Cancel;
use vomsim::engine::{self, RunOptions};
use vomsim::scenario::Scenario;

/// A small program (four intake months, 15 referrals a month): a
/// replication takes well under a millisecond.
const SMALL: &str =
    "name = \"small\"\n[simulation]\nintake_months = 4\n[referrals]\nper_month = 15\n";

const HAZARD: &str = "treatment.hazard_ratio_initial";
const HALF_LIFE: &str = "treatment.half_life_months";

/// A deterministic uniform in [0, 1) for the synthetic data (SplitMix64).
fn uniform(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
}

/// A deterministic standard normal (Box-Muller).
fn normal(state: &mut u64) -> f64 {
    let (u, v) = (1.0 - uniform(state), uniform(state));
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Coverage of the 90% intervals over 20 synthetic data sets.
///
/// Each data set draws the truth from the prior (uniform on the bounds),
/// simulates the three target figures at it exactly as the posterior's own
/// model says figures arise (the mean over `REPS` replications at a seed
/// of their own, plus a normal error of the target's tolerance), and asks
/// for the posterior. Averaged over truths drawn from the prior, a 90%
/// credible interval of the exact posterior covers the truth with
/// probability exactly 0.9 (the defining property of a posterior; Cook,
/// Gelman & Rubin 2006 use it to validate Bayesian software), so the
/// count of covering intervals per parameter is Binomial(20, 0.9) up to
/// the ABC approximation. P(X <= 14 | n = 20, p = 0.9) = 0.011, so at least
/// 15 of 20 per parameter is required: a correct method fails this about
/// once in 90 seeds per parameter, and one whose intervals cover 70% of the
/// time passes it with probability 0.42 only. The intervals must also be
/// informative, so that covering by being as wide as the prior does not
/// pass: the prior's own 90% interval spans 0.9 of the bounds, and the
/// posterior's must average under 0.75 of them (the half-life, pinned
/// down only by how fast the effect fades, is the weaker: about 0.65 here;
/// the hazard ratio about 0.35).
///
/// 20 x 600 simulations of 24 replications of a 60-youth program: about
/// 50 s in release on one core.
#[test]
fn posterior_intervals_cover_the_truth_about_90_percent_of_the_time() {
    const REPS: u64 = 24;
    const DATA_SETS: u64 = 20;
    let parameters = [
        FitParameter {
            key: HAZARD.to_string(),
            low: 0.3,
            high: 0.8,
        },
        FitParameter {
            key: HALF_LIFE.to_string(),
            low: 3.0,
            high: 30.0,
        },
    ];
    // The true effect's ratio early and late pins both parameters down.
    let rows = [6, 12, 18, 24, 30].map(|month| ("effect_ratio", "true_att", month));
    let tolerance = 0.03;
    let mut state = 17u64;
    let mut covered = [0usize; 2];
    let mut widths = [0.0f64; 2];
    for set in 0..DATA_SETS {
        let truth: Vec<f64> = parameters
            .iter()
            .map(|p| p.low + uniform(&mut state) * (p.high - p.low))
            .collect();
        let overrides: Vec<String> = parameters
            .iter()
            .zip(&truth)
            .map(|(p, v)| format!("{}={v}", p.key))
            .collect();
        let scenario = Scenario::from_toml_str(SMALL, "small.toml", &overrides).unwrap();
        let run = engine::run(
            &scenario,
            &RunOptions {
                seed: 1_000_000 + set,
                reps: REPS,
                threads: 1,
                progress: false,
                agents_reps: 0,
                cancel: Cancel::never(),
            },
        )
        .unwrap();
        let targets: Vec<Target> = rows
            .iter()
            .enumerate()
            .map(|(k, &(metric, group, month))| {
                let index = run
                    .catalog
                    .iter()
                    .position(|key| {
                        key.metric == metric && key.group == group && key.month == Some(month)
                    })
                    .unwrap();
                let defined: Vec<f64> = run
                    .values
                    .iter()
                    .map(|r| r[index])
                    .filter(|v| v.is_finite())
                    .collect();
                let mean = defined.iter().sum::<f64>() / defined.len() as f64;
                Target {
                    metric: metric.to_string(),
                    group: group.to_string(),
                    month: month.to_string(),
                    target: mean + tolerance * normal(&mut state),
                    tolerance,
                    source: "synthetic".to_string(),
                    file: "synthetic.csv".to_string(),
                    row: k + 2,
                }
            })
            .collect();
        let posterior = calibration::posterior(
            SMALL,
            "small.toml",
            &[],
            &parameters,
            &targets,
            &PosteriorOptions {
                seed: 7 + set,
                reps: REPS,
                draws: 60,
                threads: 1,
                progress: false,
                cancel: Cancel::never(),
            },
        )
        .unwrap();
        for (j, s) in posterior.summaries.iter().enumerate() {
            let inside = s.q05 <= truth[j] && truth[j] <= s.q95;
            covered[j] += usize::from(inside);
            widths[j] += (s.q95 - s.q05) / (parameters[j].high - parameters[j].low);
            println!(
                "set {set}: {} = {:.3}, posterior {:.3} [{:.3}, {:.3}]{}",
                s.key,
                truth[j],
                s.mean,
                s.q05,
                s.q95,
                if inside { "" } else { "  missed" }
            );
        }
    }
    for (j, p) in parameters.iter().enumerate() {
        let mean_width = widths[j] / DATA_SETS as f64;
        println!(
            "{}: {} of {DATA_SETS} covered, mean width {mean_width:.2} of the bounds",
            p.key, covered[j]
        );
        assert!(covered[j] >= 15, "{}: {} of {DATA_SETS}", p.key, covered[j]);
        assert!(mean_width < 0.75, "{}: mean width {mean_width}", p.key);
    }
}

/// Writes the small scenario and a targets file with a ratio row into
/// `dir`; returns their paths.
fn small_files(dir: &Path) -> (PathBuf, PathBuf) {
    let scenario = dir.join("small.toml");
    fs::write(&scenario, SMALL).unwrap();
    let targets = dir.join("t.csv");
    fs::write(
        &targets,
        "metric,group,month,target,tolerance,source\n\
         effect_ratio,true_att,12,0.6,0.1,test\n\
         rearrest,mediated/victim_declined,12,0.5,0.15,test: a ratio of two groups\n",
    )
    .unwrap();
    (scenario, targets)
}

/// `calibrate --posterior 20` of the small scenario (fast: 4 replications
/// per simulation, 60 evaluations for the search) into `dir/fit/`.
fn calibrate_posterior(scenario: &Path, targets: &Path, dir: &Path, threads: &str) -> String {
    let output = vomsim()
        .arg("calibrate")
        .arg(scenario)
        .arg("--targets")
        .arg(targets)
        .args(["--fit", &format!("{HAZARD}=0.3..0.9")])
        .args(["--fit", &format!("{HALF_LIFE}=3..30")])
        .args(["--posterior", "20", "--max-evaluations", "260"])
        .args([
            "--reps",
            "4",
            "--verify-reps",
            "4",
            "--seed",
            "5",
            "--quiet",
        ])
        .args(["--threads", threads])
        .arg("--out")
        .arg(dir.join("fit").join("fitted.toml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// posterior.csv: `draw`, the fitted keys, `weight`, `distance`; N rows
/// within the bounds, weights in (0, 1]; byte-identical on one thread and
/// on two (every simulation's seed is fixed by its draw). The summary is
/// printed and written into the calibrated scenario's header.
#[test]
fn posterior_csv_has_its_shape_and_does_not_depend_on_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let (scenario, targets) = small_files(tmp.path());
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    let printed = calibrate_posterior(&scenario, &targets, &one, "1");
    calibrate_posterior(&scenario, &targets, &two, "2");
    let text = fs::read(one.join("fit/posterior.csv")).unwrap();
    assert_eq!(text, fs::read(two.join("fit/posterior.csv")).unwrap());
    assert_eq!(
        entries(&one.join("fit")),
        ["calibration.csv", "fitted.toml", "posterior.csv"]
    );
    let mut reader = csv::Reader::from_reader(text.as_slice());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["draw", HAZARD, HALF_LIFE, "weight", "distance"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 20);
    let mut draws = Vec::new();
    for r in &rows {
        let number = |i: usize| r[i].parse::<f64>().unwrap();
        draws.push(r[0].parse::<usize>().unwrap());
        assert!((0.3..=0.9).contains(&number(1)), "{r:?}");
        assert!((3.0..=30.0).contains(&number(2)), "{r:?}");
        assert!(number(3) > 0.0 && number(3) <= 1.0, "{r:?}");
        assert!(number(4) >= 0.0, "{r:?}");
    }
    // Distinct prior draws among the 200 simulated, in order.
    assert!(
        draws.windows(2).all(|w| w[0] < w[1]) && draws[19] < 200,
        "{draws:?}"
    );
    assert!(printed.contains("90% interval"), "{printed}");
    assert!(
        printed.contains(&format!("{HAZARD} ")),
        "the posterior of each parameter is printed: {printed}"
    );
    let fitted = fs::read_to_string(one.join("fit/fitted.toml")).unwrap();
    assert!(fitted.contains(&format!("#   {HAZARD} = ")), "{fitted}");
}

/// The 97.5% minus the 2.5% quantile of a summary.csv row.
fn interval_width(run: &Path, metric: &str, group: &str, month: &str) -> f64 {
    let mut reader = csv::Reader::from_path(run.join("summary.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (m, g, mo, low, high) = (
        col("metric"),
        col("group"),
        col("month"),
        col("q025"),
        col("q975"),
    );
    reader
        .records()
        .map(|r| r.unwrap())
        .find(|r| &r[m] == metric && &r[g] == group && &r[mo] == month)
        .map(|r| r[high].parse::<f64>().unwrap() - r[low].parse::<f64>().unwrap())
        .unwrap()
}

/// A run at the posterior's draws against the same run at the scenario's
/// point values (same seed and replications, a larger program so that a
/// replication's own noise does not drown the parameters'): the true
/// effect's 95% interval at 30 months is wider, since each replication's
/// effect now also varies with its hazard ratio and half-life (here from
/// about 0.3 to 0.9, and 3 to 30 months). The manifest records the file,
/// the draws of each replication are fixed by (seed, replication), so the
/// folder is the same on one thread and on two; `compare` and `report`
/// accept the run.
#[test]
fn parameters_widen_the_true_effect_interval() {
    let tmp = tempfile::tempdir().unwrap();
    let (scenario, targets) = small_files(tmp.path());
    calibrate_posterior(&scenario, &targets, tmp.path(), "2");
    let posterior = tmp.path().join("fit/posterior.csv");
    let run = |out: &str, threads: &str, parameters: bool| {
        let mut command = vomsim();
        command
            .arg("run")
            .arg(&scenario)
            .args([
                "--reps",
                "200",
                "--seed",
                "3",
                "--quiet",
                "--threads",
                threads,
            ])
            .args(["--set", "referrals.per_month=60", "--no-replications"])
            .arg("--out")
            .arg(tmp.path().join(out));
        if parameters {
            command.arg("--parameters").arg(&posterior);
        }
        command.assert().success();
        tmp.path().join(out)
    };
    let point = run("point", "2", false);
    let drawn = run("drawn", "2", true);
    let drawn_one = run("drawn_one", "1", true);
    let (narrow, wide) = (
        interval_width(&point, "effect_ratio", "true_att", "30"),
        interval_width(&drawn, "effect_ratio", "true_att", "30"),
    );
    println!("true effect at 30: interval width {narrow:.4} without, {wide:.4} with --parameters");
    assert!(wide > narrow, "{wide} <= {narrow}");
    for file in ["summary.csv", "diagnosis.csv"] {
        assert_eq!(
            fs::read(drawn.join(file)).unwrap(),
            fs::read(drawn_one.join(file)).unwrap(),
            "{file}"
        );
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(drawn.join("manifest.json")).unwrap()).unwrap();
    let recorded = &manifest["parameters_file"];
    assert_eq!(recorded["draws"], 20);
    assert_eq!(recorded["path"], posterior.display().to_string());
    assert_eq!(recorded["sha256"].as_str().unwrap().len(), 64);
    let plain: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(point.join("manifest.json")).unwrap()).unwrap();
    assert!(plain.get("parameters_file").is_none());
    // compare and report work on such runs.
    vomsim()
        .arg("compare")
        .arg(&point)
        .arg(&drawn)
        .arg("--out")
        .arg(tmp.path().join("cmp"))
        .assert()
        .success();
    assert!(tmp.path().join("cmp/compare.csv").is_file());
    vomsim().arg("report").arg(&drawn).assert().success();
    assert!(drawn.join("report.html").is_file());
    // A run folder with the report added is still vomsim's: --force replaces it.
    vomsim()
        .arg("run")
        .arg(&scenario)
        .args(["--reps", "2", "--quiet", "--force", "--parameters"])
        .arg(&posterior)
        .arg("--out")
        .arg(&drawn)
        .assert()
        .success();
}

/// A ratio target is fitted: 12-month rearrest of mediated youths over
/// that of youths whose victims declined (the VORS study's comparison),
/// made by vors_la at a known hazard ratio of 0.6 (400 replications at
/// another seed), recovers it. The ratio moves by about 0.6 per unit of
/// the hazard ratio; the synthetic ratio's own Monte Carlo error (about
/// 0.008) and the search's on 50 common replications (about 0.02) make the
/// fitted hazard ratio uncertain by about 0.035 (one standard deviation);
/// the check allows a little over twice that.
#[test]
fn a_ratio_target_is_fitted() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = 0.6;
    vomsim()
        .arg("run")
        .arg(repo("scenarios/vors_la.toml"))
        .args([
            "--reps",
            "400",
            "--seed",
            "99",
            "--quiet",
            "--no-replications",
        ])
        .args(["--set", &format!("{HAZARD}={truth}")])
        .arg("--out")
        .arg(tmp.path().join("truth"))
        .assert()
        .success();
    let summary = read_summary(&tmp.path().join("truth/summary.csv"));
    let mean =
        |group: &str| summary[&("rearrest".to_string(), group.to_string(), "12".to_string())].mean;
    let ratio = mean("mediated") / mean("victim_declined");
    let targets = tmp.path().join("ratio.csv");
    fs::write(
        &targets,
        format!(
            "metric,group,month,target,tolerance,source\n\
             rearrest,mediated/victim_declined,12,{ratio},0.01,synthetic\n"
        ),
    )
    .unwrap();
    let out = tmp.path().join("fit/fitted.toml");
    let output = vomsim()
        .arg("calibrate")
        .arg(repo("scenarios/vors_la.toml"))
        .arg("--targets")
        .arg(&targets)
        .args(["--fit", &format!("{HAZARD}=0.2..1.0")])
        .args(["--reps", "50", "--seed", "5", "--quiet"])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{stdout}");
    assert!(
        stdout.contains("rearrest mediated/victim_declined 12"),
        "the ratio is reported by its row: {stdout}"
    );
    let fitted: toml::Table = fs::read_to_string(&out).unwrap().parse().unwrap();
    let got = fitted["treatment"]["hazard_ratio_initial"]
        .as_float()
        .unwrap();
    assert!((got - truth).abs() <= 0.08, "fitted {got}, truth {truth}");
}

/// A target with no value anywhere (a ratio over a group of share 0) is
/// refused with its row, and nothing is written: it used to run to the
/// evaluation cap and write a "fitted" file at the start values.
#[test]
fn a_target_undefined_everywhere_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let targets = tmp.path().join("zero.csv");
    fs::write(
        &targets,
        "metric,group,month,target,tolerance,source\n\
         share,mediated/returned_wait,,1,0.1,x\n",
    )
    .unwrap();
    // No case waits long enough to be returned in `vors_la` at these
    // settings: the denominator is 0 in every replication.
    let out = tmp.path().join("fit");
    vomsim()
        .arg("calibrate")
        .arg(repo("scenarios/vors_la.toml"))
        .arg("--targets")
        .arg(&targets)
        .args(["--fit", &format!("{HAZARD}=0.2..1.0")])
        .args(["--reps", "5", "--verify-reps", "5", "--quiet"])
        .arg("--out")
        .arg(out.join("x.toml"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "row 2: names a figure (share,mediated/returned_wait,) that had no value at any of",
        ));
    assert!(!out.exists(), "nothing is written");
}

/// An unknown metric, group or month in a targets file: exit 2, the row
/// and the nearest valid name, before any output exists.
#[test]
fn unknown_target_names_get_the_nearest_valid_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (scenario, _) = small_files(tmp.path());
    for (row, expected) in [
        (
            "rearest,mediated,12",
            "unknown metric `rearest` in t.csv row 3; did you mean `rearrest`?",
        ),
        (
            "rearrest,mediatd,12",
            "unknown group `mediatd` of metric `rearrest` in t.csv row 3; did you mean `mediated`?",
        ),
        (
            "rearrest,mediated/victim_declned,12",
            "did you mean `victim_declined`?",
        ),
        (
            "rearrest,mediated/,12",
            "row 3: group = \"mediated/\" is not a ratio: write NUMERATOR/DENOMINATOR",
        ),
        ("rearrest,a/b/c,12", "is not a ratio"),
        (
            "rearrest,mediated,31",
            "unknown month `31` for `rearrest,mediated` in t.csv row 3; did you mean `30`?",
        ),
    ] {
        let targets = tmp.path().join("t.csv");
        fs::write(
            &targets,
            format!(
                "metric,group,month,target,tolerance,source\n\
                 share,mediated,,0.4,0.05,x\n{row},0.2,0.05,x\n"
            ),
        )
        .unwrap();
        let out = tmp.path().join("never");
        vomsim()
            .arg("calibrate")
            .arg(&scenario)
            .arg("--targets")
            .arg(&targets)
            .args(["--fit", &format!("{HAZARD}=0.3..0.9")])
            .arg("--out")
            .arg(out.join("fit.toml"))
            .assert()
            .code(2)
            .stderr(predicates::str::contains(expected));
        assert!(!out.exists(), "{row}: nothing is written");
    }
}

/// Bad `--posterior` and `--parameters` input: exit 2 with the reason,
/// before any output exists.
#[test]
fn bad_posterior_and_parameters_input_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (scenario, targets) = small_files(tmp.path());
    let out = tmp.path().join("never");
    for (extra, expected) in [
        (
            vec!["--posterior", "0"],
            "--posterior = 0: is the number of accepted posterior draws: from 1 to 10000",
        ),
        (vec!["--posterior", "10001"], "from 1 to 10000"),
        (vec!["--posterior", "many"], "is not a whole number"),
        (
            // Two targets: the regression adjustment has 3 coefficients
            // and needs 15 draws; 10 would collapse the posterior.
            vec!["--posterior", "10"],
            "--posterior = 10: is too few accepted draws for 2 targets",
        ),
        (
            vec!["--posterior", "50", "--max-evaluations", "500"],
            "--max-evaluations = 500: caps every simulation of calibrate",
        ),
        (
            vec![
                "--posterior",
                "5",
                "--choose",
                "treatment.shape=fade,constant",
            ],
            "cannot be combined with --choose",
        ),
    ] {
        vomsim()
            .arg("calibrate")
            .arg(&scenario)
            .arg("--targets")
            .arg(&targets)
            .args(["--fit", &format!("{HAZARD}=0.3..0.9")])
            .args(&extra)
            .arg("--out")
            .arg(out.join("fit.toml"))
            .assert()
            .code(2)
            .stderr(predicates::str::contains(expected));
        assert!(!out.exists(), "{extra:?}");
    }
    for (text, expected) in [
        (
            "draw,treatment.hazard_ratio_intial,weight,distance\n0,0.5,1,0\n",
            "did you mean `treatment.hazard_ratio_initial`?",
        ),
        (
            "draw,treatment.hazard_ratio_initial,weight,distance\n0,0.5,-1,0\n",
            "row 2: weight = \"-1\" must be a non-negative number",
        ),
        (
            "draw,treatment.hazard_ratio_initial,weight,distance\n0,0.5,0,0\n1,0.6,0,0\n",
            "has every weight 0",
        ),
        (
            "draw,treatment.hazard_ratio_initial,weight,distance\n0,0.5,1,0\n1,-2,1,0\n",
            "row 3:",
        ),
        (
            "draw,treatment.hazard_ratio_initial\n0,0.5\n",
            "has no `weight` column",
        ),
        (
            "draw,simulation.seed,weight\n0,5,1\n",
            "not part of the model",
        ),
        ("draw,weight,distance\n0,1,0\n", "has no parameter columns"),
        (
            "draw,treatment.hazard_ratio_initial,weight\n",
            "holds no draws",
        ),
    ] {
        let parameters = tmp.path().join("p.csv");
        fs::write(&parameters, text).unwrap();
        vomsim()
            .arg("run")
            .arg(&scenario)
            .arg("--parameters")
            .arg(&parameters)
            .arg("--out")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(expected));
        assert!(!out.exists(), "{text}");
    }
    // sweep does not take parameter draws.
    vomsim()
        .args([
            "sweep",
            "scenarios/sweeps/mediator_pool.toml",
            "--parameters",
            "p.csv",
        ])
        .current_dir(repo(""))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--parameters"));
}

/// `posterior.csv` is one of calibrate's outputs: an existing one needs
/// `--force`, and `--force` replaces only vomsim's own (its header).
#[test]
fn a_posterior_csv_not_written_by_vomsim_is_never_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let (scenario, targets) = small_files(tmp.path());
    let folder = tmp.path().join("fit");
    fs::create_dir(&folder).unwrap();
    fs::write(folder.join("posterior.csv"), "my,own,notes\n").unwrap();
    let attempt = |force: bool| {
        let mut command = vomsim();
        command
            .arg("calibrate")
            .arg(&scenario)
            .arg("--targets")
            .arg(&targets)
            .args(["--fit", &format!("{HAZARD}=0.3..0.9"), "--posterior", "20"])
            .arg("--out")
            .arg(folder.join("fitted.toml"));
        if force {
            command.arg("--force");
        }
        command.assert().code(2)
    };
    attempt(false).stderr(predicates::str::contains("already exists"));
    attempt(true).stderr(predicates::str::contains(
        "--force replaces only vomsim's own posterior.csv",
    ));
    assert_eq!(
        fs::read_to_string(folder.join("posterior.csv")).unwrap(),
        "my,own,notes\n"
    );
    assert_eq!(entries(&folder), ["posterior.csv"]);
}
