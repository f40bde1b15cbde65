//! Outcomes and time (issue 15): the follow-up horizon, against theory and
//! against the default horizon, through the real binary.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{SummaryRow, read_summary, repo, vomsim};

type Summary = HashMap<(String, String, String), SummaryRow>;

/// Every youth a reference youth: no covariate or latent risk moves the
/// hazard, so the untreated world's curve is the baseline's closed form.
const HOMOGENEOUS: [&str; 5] = [
    "recidivism.risk_log_hr=0",
    "recidivism.second_arrest_log_hr=0",
    "recidivism.male_log_hr=0",
    "recidivism.age_log_hr=0",
    "recidivism.offense_log_hr={vandalism=0,shoplifting=0,joyriding=0,burglary=0,assault=0,violent=0}",
];

fn run(dir: &Path, scenario: &str, reps: &str, sets: &[&str]) -> Summary {
    let mut cmd = vomsim();
    cmd.args(["run", repo(scenario).to_str().unwrap(), "--reps", reps])
        .args(["--seed", "15", "--quiet", "--out"])
        .arg(dir);
    for s in sets {
        cmd.args(["--set", s]);
    }
    cmd.assert().success();
    read_summary(&dir.join("summary.csv"))
}

fn row<'a>(s: &'a Summary, metric: &str, group: &str, month: &str) -> &'a SummaryRow {
    s.get(&(metric.to_string(), group.to_string(), month.to_string()))
        .unwrap_or_else(|| panic!("no row {metric},{group},{month}"))
}

/// A 60-month follow-up: the curves run to month 60 and no further, effects
/// are reported every 6 months to 60, and rearrests averted at 12 and 60;
/// the untreated world's cumulative rearrest at 60 months is the Weibull
/// baseline's `1 - exp(-c (60/12)^shape)`, `c = -ln(1 - p12)`, within 5
/// standard errors of the mean over 200 replications (about 0.002 here).
#[test]
fn a_longer_follow_up_follows_its_horizon_and_theory() {
    let tmp = tempfile::tempdir().unwrap();
    let mut sets = HOMOGENEOUS.to_vec();
    sets.push("outcomes.follow_up_months=60");
    let s = run(
        &tmp.path().join("sixty"),
        "scenarios/nugent_attenuation.toml",
        "200",
        &sets,
    );
    assert!(s.contains_key(&("rearrest".into(), "referred".into(), "60".into())));
    assert!(!s.contains_key(&("rearrest".into(), "referred".into(), "61".into())));
    for month in (6..=60).step_by(6) {
        row(&s, "effect_ratio", "true_att", &month.to_string());
        row(&s, "hazard_ratio", "true_att", &month.to_string());
    }
    assert!(!s.contains_key(&("effect_ratio".into(), "true_att".into(), "66".into())));
    row(&s, "rearrests_averted_per_100", "program", "60");
    assert!(!s.contains_key(&(
        "rearrests_averted_per_100".into(),
        "program".into(),
        "30".into()
    )));

    let validated = vomsim()
        .args([
            "validate",
            repo("scenarios/nugent_attenuation.toml").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(validated.stdout).unwrap();
    let value = |key: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key} =")))
            .unwrap();
        let v = line.split('=').nth(1).unwrap();
        v.split('#').next().unwrap().trim().parse().unwrap()
    };
    let (p12, shape) = (
        value("baseline_rearrest_12m"),
        value("baseline_weibull_shape"),
    );
    let c = -(1.0 - p12).ln();
    for month in [12.0f64, 30.0, 60.0] {
        let expected = 1.0 - (-c * (month / 12.0).powf(shape)).exp();
        let r = row(&s, "rearrest", "mediated_untreated", &format!("{month}"));
        let se = r.sd.unwrap() / (r.reps as f64).sqrt();
        println!("month {month}: {:.4} vs {expected:.4} (se {se:.4})", r.mean);
        assert!(
            (r.mean - expected).abs() <= 5.0 * se,
            "month {month}: {} vs {expected}",
            r.mean
        );
    }
}

/// The horizon changes what is followed, not what happens: every rearrest
/// and reconviction row of months 1 to 30 is the same, to the bit, with a
/// 30- and a 60-month follow-up (the same seeds, the same youths).
#[test]
fn the_first_thirty_months_do_not_depend_on_the_horizon() {
    let tmp = tempfile::tempdir().unwrap();
    let thirty = run(&tmp.path().join("30"), "scenarios/vors_la.toml", "20", &[]);
    let sixty = run(
        &tmp.path().join("60"),
        "scenarios/vors_la.toml",
        "20",
        &["outcomes.follow_up_months=60"],
    );
    let mut compared = 0;
    for ((metric, group, month), r) in &thirty {
        // Equity subgroups report months 12 and the horizon only.
        let by_month = !group.contains('=');
        if by_month && (metric == "rearrest" || metric == "reconviction" || metric == "km_survival")
        {
            let other = row(&sixty, metric, group, month);
            assert_eq!(r.mean, other.mean, "{metric},{group},{month}");
            compared += 1;
        }
    }
    assert!(compared > 400, "{compared}");
}

#[test]
fn the_horizon_is_checked() {
    for bad in ["31", "6", "126"] {
        vomsim()
            .args(["validate", repo("scenarios/vors_la.toml").to_str().unwrap()])
            .args(["--set", &format!("outcomes.follow_up_months={bad}")])
            .assert()
            .code(2)
            .stderr(predicates::str::contains("outcomes.follow_up_months"))
            .stderr(predicates::str::contains("a multiple of 6"));
    }
}

/// The program's effect on adjudication: with conviction at the rearrest
/// (no lag) and a per-rearrest conviction probability of 0.5, an odds ratio
/// of 3 makes it 0.75 for every rearrest in the treated world, drawn from
/// the same uniform: the mediated youths' share convicted among the
/// rearrested is at least 0.75 (more with several rearrests) and above
/// their own untreated world's; an odds ratio of 1 leaves every reconviction
/// row as it is without the key.
#[test]
fn the_conviction_odds_ratio_moves_adjudication_of_the_treated_world() {
    let tmp = tempfile::tempdir().unwrap();
    let base = [
        "recidivism.conviction_probability=0.5",
        "recidivism.conviction_lag_months_mean=0",
    ];
    let mut sets = base.to_vec();
    sets.push("treatment.conviction_odds_ratio=3");
    let s = run(
        &tmp.path().join("or3"),
        "scenarios/vors_la.toml",
        "50",
        &sets,
    );
    let treated = row(&s, "conviction_given_rearrest", "mediated", "").mean;
    let untreated = row(&s, "conviction_given_rearrest", "mediated_untreated", "").mean;
    println!("treated {treated}, untreated {untreated}");
    assert!((0.75..1.0).contains(&treated), "{treated}");
    assert!(treated > untreated + 0.15, "{treated} vs {untreated}");
    // The court's groups are untreated: their adjudication is the base one.
    let declined = row(&s, "conviction_given_rearrest", "victim_declined", "").mean;
    assert!(declined < 0.7, "{declined}");

    let plain = run(
        &tmp.path().join("plain"),
        "scenarios/vors_la.toml",
        "50",
        &base,
    );
    let mut one = base.to_vec();
    one.push("treatment.conviction_odds_ratio=1");
    let same = run(
        &tmp.path().join("one"),
        "scenarios/vors_la.toml",
        "50",
        &one,
    );
    for ((metric, group, month), r) in &plain {
        if metric == "reconviction" {
            assert_eq!(r.mean, row(&same, metric, group, month).mean);
        }
    }
}

/// Reads a value of the resolved scenario (`vomsim validate`'s output).
fn resolved(scenario: &str, key: &str) -> f64 {
    let out = vomsim()
        .args(["validate", repo(scenario).to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{key} =")))
        .unwrap();
    line.split('=')
        .nth(1)
        .unwrap()
        .split('#')
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// Counts from the recurrent process against the Poisson-gamma model:
/// every youth a reference youth with a gamma frailty of variance 0.8, so a
/// youth's rearrests by month m are Poisson with mean Z H0(m), Z ~ Gamma
/// (mean 1): the mean count is H0(m) (Weibull: c (m/12)^shape) and the
/// share ever rearrested is the gamma's Laplace transform,
/// 1 - (1 + theta H0(m))^(-1/theta). Untreated youths only (the victims
/// never consent); 200 replications of about 2,400 youths: both means carry
/// standard errors under 0.003; the tolerance is 5 of them.
#[test]
fn recurrent_counts_match_the_poisson_gamma_model() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = "scenarios/nugent_attenuation.toml";
    let mut sets = HOMOGENEOUS.to_vec();
    sets.extend([
        "recidivism.recurrent=true",
        "recidivism.frailty_variance=0.8",
        "consent.victim_probability=0",
        "outcomes.follow_up_months=36",
    ]);
    let s = run(&tmp.path().join("counts"), scenario, "200", &sets);
    let (p12, shape) = (
        resolved(scenario, "baseline_rearrest_12m"),
        resolved(scenario, "baseline_weibull_shape"),
    );
    let c = -(1.0 - p12).ln();
    let theta = 0.8f64;
    for month in [6.0f64, 12.0, 24.0, 36.0] {
        let h0 = c * (month / 12.0).powf(shape);
        let m = format!("{month}");
        let count = row(&s, "rearrests_per_youth", "referred", &m);
        let se = count.sd.unwrap() / (count.reps as f64).sqrt();
        println!(
            "month {month}: mean count {:.4} vs {h0:.4} (se {se:.4})",
            count.mean
        );
        assert!((count.mean - h0).abs() <= 5.0 * se, "count at {month}");
        let ever = row(&s, "rearrest", "referred", &m);
        let expected = 1.0 - (1.0 + theta * h0).powf(-1.0 / theta);
        let se = ever.sd.unwrap() / (ever.reps as f64).sqrt();
        println!(
            "month {month}: ever {:.4} vs {expected:.4} (se {se:.4})",
            ever.mean
        );
        assert!(
            (ever.mean - expected).abs() <= 5.0 * se,
            "incidence at {month}"
        );
    }
}

/// Counting every rearrest changes no first-rearrest output: the rows of
/// `vors_la` with and without `recidivism.recurrent` are the same, to the
/// bit, but for the new count rows.
#[test]
fn counting_every_rearrest_changes_no_first_rearrest_output() {
    let tmp = tempfile::tempdir().unwrap();
    let off = run(&tmp.path().join("off"), "scenarios/vors_la.toml", "10", &[]);
    let on = run(
        &tmp.path().join("on"),
        "scenarios/vors_la.toml",
        "10",
        &["recidivism.recurrent=true"],
    );
    for (key, r) in &off {
        let other = on.get(key).unwrap_or_else(|| panic!("{key:?} gone"));
        assert_eq!(r.mean, other.mean, "{key:?}");
    }
    assert!(on.len() > off.len());
}

fn did_diagnosis(dir: &Path, extra: &[&str]) -> HashMap<String, (f64, f64, f64)> {
    let mut cmd = vomsim();
    cmd.args(["run", repo("scenarios/vors_la.toml").to_str().unwrap()])
        .args(["--reps", "200", "--seed", "3", "--quiet", "--out"])
        .arg(dir);
    for s in [
        "referrals.per_month=200",
        "mediators.initial_active=150",
        "mediators.rearrest_returns_case=false",
        "outcomes.pre_period_months=12",
    ]
    .iter()
    .chain(extra)
    {
        cmd.args(["--set", s]);
    }
    cmd.assert().success();
    let mut reader = csv::Reader::from_path(dir.join("diagnosis.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (estimator, month, estimand, bias, rmse, reps) = (
        col("estimator"),
        col("month"),
        col("estimand"),
        col("bias"),
        col("rmse"),
        col("reps"),
    );
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let f = |i: usize| r[i].parse::<f64>().unwrap();
            let (b, e, n) = (f(bias), f(rmse), f(reps));
            let se = (e * e - b * b).max(0.0).sqrt() / n.sqrt();
            (
                format!("{}@{}", &r[estimator], &r[month]),
                (f(estimand), b, se),
            )
        })
        .collect()
}

/// Difference-in-differences of offense counts (12 months before referral,
/// 12 after disposition), mediated vs not mediated, against the mediated
/// youths' own rate ratio (`true_rate_att`). Under vors_la's selection on
/// latent risk (victims decline riskier youths): when the risk is a fixed
/// youth effect, the before/after ratio removes it and the design is
/// unbiased within 4 standard errors; when the risk before referral is a
/// different draw (correlation 0 with the follow-up's), it is not, and the
/// mediated look better than they are.
#[test]
fn did_removes_a_fixed_youth_effect_but_not_a_changing_one() {
    let tmp = tempfile::tempdir().unwrap();
    let fixed = did_diagnosis(&tmp.path().join("fixed"), &[]);
    let (estimand, bias, se) = fixed["did@12"];
    println!("fixed: estimand {estimand:.4}, bias {bias:+.4} (se {se:.4})");
    assert!(estimand < 1.0);
    assert!(
        bias.abs() <= 4.0 * se,
        "fixed effect: bias {bias} (se {se})"
    );
    let changing = did_diagnosis(
        &tmp.path().join("changing"),
        &["outcomes.pre_period_risk_correlation=0"],
    );
    let (_, bias, se) = changing["did@12"];
    println!("changing: bias {bias:+.4} (se {se:.4})");
    assert!(bias < -4.0 * se, "time-varying risk: bias {bias} (se {se})");
}

/// The pre-period's offenses come from the youth's untreated rate: for
/// reference youths the mean count over 12 months is H0(12) = -ln(1 - p12),
/// and without treatment the count after disposition is the same in
/// expectation (no change); 200 replications, tolerance 5 standard errors
/// of the count (about 0.002).
#[test]
fn the_pre_period_counts_at_the_untreated_rate() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = "scenarios/nugent_attenuation.toml";
    let mut sets = HOMOGENEOUS.to_vec();
    sets.extend([
        "outcomes.pre_period_months=12",
        "consent.victim_probability=0",
    ]);
    let s = run(&tmp.path().join("pre"), scenario, "200", &sets);
    let h0 = -(1.0 - resolved(scenario, "baseline_rearrest_12m")).ln();
    for metric in ["offenses_before", "offenses_after"] {
        let r = row(&s, metric, "referred", "");
        let se = r.sd.unwrap() / (r.reps as f64).sqrt();
        println!("{metric}: {:.4} vs {h0:.4} (se {se:.4})", r.mean);
        assert!((r.mean - h0).abs() <= 5.0 * se, "{metric}");
    }
}

/// Administrative censoring: a study ending at program month 24 follows
/// youths referred in a 12-month intake for 12 to 24 months of a 24-month
/// horizon. The life-table survival (`km_observed`) stays unbiased for the
/// full follow-up's survival (1 - `rearrest`, every youth followed), within
/// 5 standard errors plus the life-table's half-month approximation
/// (0.003); the naive share of everyone rearrested (`rearrest_observed`)
/// falls short of the truth at 24 months, as a study that ignores the
/// censoring would report.
#[test]
fn censoring_leaves_the_life_table_unbiased_and_the_naive_share_low() {
    let tmp = tempfile::tempdir().unwrap();
    let s = run(
        &tmp.path().join("end"),
        "scenarios/vors_la.toml",
        "200",
        &[
            "outcomes.follow_up_months=24",
            "outcomes.study_end_month=24",
            "referrals.per_month=100",
        ],
    );
    for month in [6, 12, 18, 24] {
        let m = month.to_string();
        let truth = 1.0 - row(&s, "rearrest", "referred", &m).mean;
        let km = row(&s, "km_observed", "referred", &m);
        let se = km.sd.unwrap() / (km.reps as f64).sqrt();
        let naive = row(&s, "rearrest_observed", "referred", &m).mean;
        println!(
            "month {month}: km {:.4} vs {truth:.4} (se {se:.4}); naive survival {:.4}",
            km.mean,
            1.0 - naive
        );
        assert!((km.mean - truth).abs() <= 5.0 * se + 0.003, "month {month}");
    }
    let truth = row(&s, "rearrest", "referred", "24").mean;
    let naive = row(&s, "rearrest_observed", "referred", "24").mean;
    assert!(naive < truth - 0.02, "naive {naive} vs {truth}");
}

/// The program's effect on the time to adjudication: with a lag scale of 0
/// every conviction of a mediated youth comes at the rearrest, so by every
/// month at least as many are convicted as with the court's lag, and the
/// untreated world does not move at all.
#[test]
fn the_conviction_lag_scale_moves_only_the_treated_world() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = run(
        &tmp.path().join("plain"),
        "scenarios/vors_la.toml",
        "20",
        &[],
    );
    let fast = run(
        &tmp.path().join("fast"),
        "scenarios/vors_la.toml",
        "20",
        &["treatment.conviction_lag_scale=0"],
    );
    for month in 1..=30 {
        let m = month.to_string();
        let (a, b) = (
            row(&plain, "reconviction", "mediated", &m).mean,
            row(&fast, "reconviction", "mediated", &m).mean,
        );
        assert!(b >= a, "month {month}: {b} < {a}");
        assert_eq!(
            row(&plain, "reconviction", "mediated_untreated", &m).mean,
            row(&fast, "reconviction", "mediated_untreated", &m).mean
        );
    }
    assert!(
        row(&fast, "reconviction", "mediated", "6").mean
            > row(&plain, "reconviction", "mediated", "6").mean
    );
}

/// A 12-month follow-up reports rearrests averted once, at month 12 (the
/// two horizons coincide), and every row of the summary is unique.
#[test]
fn a_twelve_month_follow_up_has_unique_rows() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("twelve");
    run(
        &dir,
        "scenarios/vors_la.toml",
        "3",
        &["outcomes.follow_up_months=12"],
    );
    let text = std::fs::read_to_string(dir.join("summary.csv")).unwrap();
    let mut keys: Vec<String> = text
        .lines()
        .map(|l| l.split(',').take(4).collect::<Vec<_>>().join(","))
        .collect();
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "duplicate rows");
}
