//! Effect shapes, baseline hazard families and the cure fraction against
//! theory, through the real binary with fixed seeds.
//!
//! Most checks run `nugent_attenuation` (no self-selection) with every
//! youth made a reference youth (every log hazard ratio of a covariate and
//! of latent risk set to 0), so that the population's hazard is the
//! baseline's and closed forms apply. Statistical checks compare the mean
//! over replications with its theoretical value within
//! `STANDARD_ERRORS` standard errors of that mean (sd / sqrt(reps), read
//! from `summary.csv`), plus a stated allowance where the estimator has a
//! known small bias (a mean of ratios is not the ratio of means). With 400
//! replications of about 1,200 referrals the standard errors are 0.001 to
//! 0.003, so the tolerances are a few hundredths at most.
//! Meant for `cargo test --release`; about a second each there.

mod common;

use std::collections::HashMap;

use common::{SummaryRow, read_summary, repo, vomsim};

/// Standard errors a statistical tolerance spans: a pass is not luck of
/// the seed (a miss at 5 standard errors happens about once in 1.7 million
/// runs of a correct model).
const STANDARD_ERRORS: f64 = 5.0;

const REPS: &str = "400";

/// Every youth a reference youth: no covariate or latent risk moves the
/// hazard.
const HOMOGENEOUS: [&str; 5] = [
    "recidivism.risk_log_hr=0",
    "recidivism.second_arrest_log_hr=0",
    "recidivism.male_log_hr=0",
    "recidivism.age_log_hr=0",
    "recidivism.offense_log_hr={vandalism=0,shoplifting=0,joyriding=0,burglary=0,assault=0,violent=0}",
];

type Summary = HashMap<(String, String, String), SummaryRow>;

fn run(scenario: &str, sets: &[String]) -> Summary {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let mut cmd = vomsim();
    cmd.args(["run", repo(scenario).to_str().unwrap(), "--reps", REPS])
        .args(["--seed", "15", "--quiet", "--out"])
        .arg(&out);
    for s in sets {
        cmd.args(["--set", s]);
    }
    cmd.assert().success();
    read_summary(&out.join("summary.csv"))
}

fn row<'a>(summary: &'a Summary, metric: &str, group: &str, month: u32) -> &'a SummaryRow {
    summary
        .get(&(metric.to_string(), group.to_string(), month.to_string()))
        .unwrap_or_else(|| panic!("no row {metric},{group},{month}"))
}

fn standard_error(r: &SummaryRow) -> f64 {
    r.sd.unwrap() / (r.reps as f64).sqrt()
}

/// The mean of `r` lies within `STANDARD_ERRORS` standard errors (plus
/// `allowance`) of `expected`.
fn assert_near(what: &str, r: &SummaryRow, expected: f64, allowance: f64) {
    let se = standard_error(r);
    let miss = (r.mean - expected).abs();
    println!(
        "{what}: mean {:.5} expected {expected:.5} (se {se:.5})",
        r.mean
    );
    assert!(
        miss <= STANDARD_ERRORS * se + allowance,
        "{what}: mean {} misses {expected} by {miss}, over {STANDARD_ERRORS} standard errors ({se}) + {allowance}",
        r.mean
    );
}

/// A constant monthly baseline hazard `h` for everyone, and the shape's keys.
fn homogeneous(h: f64, extra: &[&str]) -> Vec<String> {
    let mut sets: Vec<String> = HOMOGENEOUS.iter().map(|s| s.to_string()).collect();
    sets.push("recidivism.baseline_family=monthly".to_string());
    sets.push(format!(
        "recidivism.baseline_monthly_hazard=[{}]",
        vec![h.to_string(); 30].join(",")
    ));
    sets.extend(extra.iter().map(|s| s.to_string()));
    sets
}

/// What a homogeneous population at monthly hazard `h`, with monthly
/// hazard ratios `ratios` when treated, shows over the first six months:
/// the expected occurrence/exposure rate ratio (events over months at risk,
/// treated against untreated: each month's ratio weighted by the treated
/// youths' months at risk in it), and the cumulative incidence ratio at
/// month 6.
fn first_interval(h: f64, ratios: &[f64]) -> (f64, f64) {
    let (mut events, mut exposure, mut cumulative) = (0.0, 0.0, 0.0f64);
    for r in &ratios[..6] {
        let rate = h * r;
        let survival = (-cumulative).exp();
        events += survival * (1.0 - (-rate).exp());
        exposure += survival * (1.0 - (-rate).exp()) / rate;
        cumulative += rate;
    }
    let rate_ratio = events / exposure / h;
    let incidence_ratio = (1.0 - (-cumulative).exp()) / (1.0 - (-6.0 * h).exp());
    (rate_ratio, incidence_ratio)
}

const NUGENT: &str = "scenarios/nugent_attenuation.toml";

/// Allowance for a mean of per-replication ratios: its bias is about the
/// ratio times the relative variance of the denominator (1 / its events,
/// about 200 untreated first rearrests in six months here), under 0.003.
const RATIO_BIAS: f64 = 0.003;

/// `constant`: the hazard ratio in the first six months is exactly
/// `hazard_ratio_initial`, and the cumulative incidence ratio at 6 months
/// its closed form.
#[test]
fn constant_shape_gives_its_ratio() {
    let h = 0.1;
    let s = run(
        NUGENT,
        &homogeneous(
            h,
            &[
                "treatment.shape=constant",
                "treatment.hazard_ratio_initial=0.5",
            ],
        ),
    );
    let (rate_ratio, incidence_ratio) = first_interval(h, &[0.5; 6]);
    assert!((rate_ratio - 0.5).abs() < 1e-12);
    assert_near(
        "constant: hazard ratio, months 1-6",
        row(&s, "hazard_ratio", "true_att", 6),
        0.5,
        RATIO_BIAS,
    );
    assert_near(
        "constant: effect ratio at 6",
        row(&s, "effect_ratio", "true_att", 6),
        incidence_ratio,
        RATIO_BIAS,
    );
    // Constant throughout: the second interval too (about 120 untreated
    // first rearrests there, so a mean-of-ratios bias under 0.01).
    assert_near(
        "constant: hazard ratio, months 7-12",
        row(&s, "hazard_ratio", "true_att", 12),
        0.5,
        0.01,
    );
}

/// `fade`: the hazard ratio in the first six months is the mean of the
/// shape's monthly ratios, weighted by the treated youths' months at risk
/// in each month (at this hazard, within 0.01 of the plain mean: the
/// early, stronger months weigh a little more).
#[test]
fn fade_shape_gives_the_mean_of_its_monthly_ratios() {
    let (h, hr0, half_life) = (0.1f64, 0.335f64, 5.43f64);
    let s = run(NUGENT, &homogeneous(h, &["treatment.shape=fade"]));
    let ratios: Vec<f64> = (0..30)
        .map(|j| (hr0.ln() * 0.5f64.powf((j as f64 + 0.5) / half_life)).exp())
        .collect();
    let plain_mean = ratios[..6].iter().sum::<f64>() / 6.0;
    let (rate_ratio, incidence_ratio) = first_interval(h, &ratios);
    assert!(
        (rate_ratio - plain_mean).abs() < 0.01,
        "{rate_ratio} {plain_mean}"
    );
    assert_near(
        "fade: hazard ratio, months 1-6",
        row(&s, "hazard_ratio", "true_att", 6),
        rate_ratio,
        RATIO_BIAS,
    );
    assert_near(
        "fade: effect ratio at 6",
        row(&s, "effect_ratio", "true_att", 6),
        incidence_ratio,
        RATIO_BIAS,
    );
}

/// `piecewise` with a ratio of 1 in the first interval: the treated and
/// untreated worlds coincide for six months (common random numbers), so
/// the true effect ratio at month 6 and the hazard ratio over months 1-6
/// are 1 in every replication, exactly; the later intervals' ratios take
/// over after. Run on the heterogeneous scenario as shipped.
#[test]
fn piecewise_ratio_of_one_first_gives_no_effect_at_6_months() {
    let s = run(
        NUGENT,
        &[
            "treatment.shape=piecewise".to_string(),
            "treatment.piecewise_months=[6, 12, 18, 24]".to_string(),
            "treatment.piecewise_hazard_ratios=[1.0, 0.5, 0.6, 0.7, 0.8]".to_string(),
        ],
    );
    for metric in ["effect_ratio", "hazard_ratio"] {
        let r = row(&s, metric, "true_att", 6);
        assert_eq!(r.mean, 1.0, "{metric} at 6");
        assert_eq!(r.sd, Some(0.0), "{metric} at 6 in every replication");
    }
    assert!(row(&s, "effect_ratio", "true_att", 12).mean < 0.95);
    // Homogeneous: the second interval's hazard ratio is its 0.5 (the
    // first interval, untreated alike, leaves both worlds the same youths).
    let s = run(
        NUGENT,
        &homogeneous(
            0.1,
            &[
                "treatment.shape=piecewise",
                "treatment.piecewise_hazard_ratios=[1.0, 0.5, 0.6, 0.7, 0.8]",
            ],
        ),
    );
    assert_eq!(row(&s, "effect_ratio", "true_att", 6).mean, 1.0);
    assert_near(
        "piecewise: hazard ratio, months 7-12",
        row(&s, "hazard_ratio", "true_att", 12),
        0.5,
        RATIO_BIAS * 2.0,
    );
}

/// `none`: the treated world is the untreated one, so every true effect
/// ratio is 1 in every replication.
#[test]
fn no_effect_shape_gives_ratios_of_one() {
    let s = run(NUGENT, &["treatment.shape=none".to_string()]);
    for group in ["true_att", "true_ate"] {
        for month in [6, 12, 18, 24, 30] {
            let r = row(&s, "effect_ratio", group, month);
            assert_eq!((r.mean, r.sd), (1.0, Some(0.0)), "{group} {month}");
        }
    }
}

/// The cure fraction: with a hazard so high (3 a month) that every
/// susceptible youth is rearrested within the follow-up, the share of
/// referred youths ever rearrested is 1 - cure_share; and at an ordinary
/// hazard, `baseline_rearrest_12m` is the 12-month rearrest of the
/// susceptible, so the population's is (1 - cure_share) times it.
#[test]
fn cure_fraction_caps_cumulative_incidence() {
    for share in [0.25, 0.6] {
        let cure = format!("recidivism.cure_share={share}");
        let s = run(NUGENT, &homogeneous(3.0, &[&cure]));
        let r = row(&s, "rearrest", "referred", 30);
        assert_near(
            &format!("cure {share}: rearrest by 30"),
            r,
            1.0 - share,
            0.0,
        );
        // Flat after the first months: nobody left to rearrest.
        let r6 = row(&s, "rearrest", "referred", 6);
        assert!((r.mean - r6.mean).abs() < 1e-3, "{} {}", r.mean, r6.mean);
    }
    let mut sets: Vec<String> = HOMOGENEOUS.iter().map(|s| s.to_string()).collect();
    sets.push("recidivism.cure_share=0.3".to_string());
    sets.push("treatment.shape=none".to_string());
    let s = run(NUGENT, &sets);
    // nugent_attenuation: baseline_rearrest_12m = 0.3.
    assert_near(
        "cure 0.3: rearrest by 12",
        row(&s, "rearrest", "referred", 12),
        0.7 * 0.3,
        0.0,
    );
}

/// The log-logistic family: the reference youth's cumulative incidence is
/// `1 - 1/(1 + odds12*(t/12)^shape)` at every month, 12-month incidence
/// `baseline_rearrest_12m` (0.3 here); with shape 3 the hazard rises to a
/// peak near month 20 and falls, which the discrete hazard of the curve
/// shows.
#[test]
fn log_logistic_baseline_matches_its_closed_form() {
    let mut sets: Vec<String> = HOMOGENEOUS.iter().map(|s| s.to_string()).collect();
    sets.push("recidivism.baseline_family=log_logistic".to_string());
    sets.push("recidivism.baseline_log_logistic_shape=3".to_string());
    sets.push("treatment.shape=none".to_string());
    let s = run(NUGENT, &sets);
    let odds12 = 0.3 / 0.7;
    let closed = |t: f64| 1.0 - 1.0 / (1.0 + odds12 * (t / 12.0).powi(3));
    for month in [3, 6, 12, 20, 30] {
        assert_near(
            &format!("log-logistic: rearrest by {month}"),
            row(&s, "rearrest", "referred", month),
            closed(f64::from(month)),
            0.0,
        );
    }
    let incidence = |m: u32| {
        if m == 0 {
            0.0
        } else {
            row(&s, "rearrest", "referred", m).mean
        }
    };
    let hazard = |m: u32| {
        let (before, now) = (incidence(m - 1), incidence(m));
        -((1.0 - now) / (1.0 - before)).ln()
    };
    // Shape 3, alpha = 12 / odds12^(1/3) = 15.9: the mode is
    // alpha * 2^(1/3) = 20.0 months. The monthly hazards (about 0.004 at
    // month 3, 0.047 at 20, 0.043 at 30) differ by far more than their
    // noise (under 0.001).
    assert!(hazard(3) < hazard(12) && hazard(12) < hazard(20));
    assert!(hazard(30) < hazard(21), "{} {}", hazard(30), hazard(21));
}
