//! The study designs against the truth (statistical tests, run in release).
//!
//! Every check reads `diagnosis.csv`, whose `bias` is the mean over
//! replications of (estimate - estimand), paired replication by replication.
//! Its standard error is sd(error) / sqrt(reps), with
//! sd(error) = sqrt(rmse^2 - bias^2). "Within noise" means within 4 such
//! standard errors (a false alarm about 1 in 16,000 per check); "biased"
//! means further than 4 from zero.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{read_summary, repo, vomsim};

#[derive(Debug)]
struct Diagnosis {
    estimand: f64,
    mean: f64,
    bias: f64,
    se: f64,
    coverage: Option<f64>,
    reps: f64,
    log_bias: f64,
    /// Standard error of `log_bias`.
    log_se: f64,
}

fn run(scenario: &str, extra: &[&str], root: &Path) -> HashMap<(String, u32), Diagnosis> {
    let dir = root.join("run");
    vomsim()
        .args(["run", repo(scenario).to_str().unwrap(), "--quiet", "--out"])
        .arg(&dir)
        .args(extra)
        .assert()
        .success();
    let mut reader = csv::Reader::from_path(dir.join("diagnosis.csv")).unwrap();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            // Columns after `point` (a run's is 0).
            let f = |i: usize| r[i + 1].parse::<f64>().unwrap();
            let (bias, rmse, reps) = (f(4), f(5), f(8));
            let (log_bias, log_rmse) = (f(10), f(11));
            (
                (r[1].to_string(), r[2].parse().unwrap()),
                Diagnosis {
                    estimand: f(2),
                    mean: f(3),
                    bias,
                    se: (rmse * rmse - bias * bias).max(0.0).sqrt() / reps.sqrt(),
                    coverage: r[7].parse().ok(),
                    reps,
                    log_bias,
                    log_se: (log_rmse * log_rmse - log_bias * log_bias).max(0.0).sqrt()
                        / reps.sqrt(),
                },
            )
        })
        .collect()
}

const MONTHS: [u32; 5] = [6, 12, 18, 24, 30];

#[test]
fn without_selection_every_design_recovers_the_truth() {
    let tmp = tempfile::tempdir().unwrap();
    let diagnosis = run("scenarios/selection_free.toml", &[], tmp.path());
    for estimator in ["naive", "vors_design", "stratified"] {
        for month in MONTHS {
            let d = &diagnosis[&(estimator.to_string(), month)];
            println!(
                "{estimator:<12} {month:>2} bias {:+.4} se {:.4} coverage {:?}",
                d.bias, d.se, d.coverage
            );
            assert!(d.reps >= 200.0);
            assert!(
                d.bias.abs() <= 4.0 * d.se,
                "{estimator} at {month}: bias {} beyond 4 SE ({})",
                d.bias,
                d.se
            );
        }
    }
}

#[test]
fn in_vors_la_the_observational_designs_overstate_the_effect() {
    let tmp = tempfile::tempdir().unwrap();
    let diagnosis = run("scenarios/vors_la.toml", &[], tmp.path());
    for estimator in ["naive", "vors_design"] {
        let d = &diagnosis[&(estimator.to_string(), 12)];
        println!(
            "{estimator}: mean {:.3} vs true_att {:.3} (se {:.4})",
            d.mean, d.estimand, d.se
        );
        // A lower ratio is a larger apparent reduction in rearrest.
        assert!(
            d.bias < -4.0 * d.se,
            "{estimator} at 12 months: bias {} is not clearly negative (se {})",
            d.bias,
            d.se
        );
    }
}

/// The complier effect from the randomized arms recovers the effect on the
/// treated under vors_la's strong selection, where the observational designs
/// do not. A ratio with a noisy denominator carries a bias of order 1/n
/// (+0.05 at 12 months at the shipped 200 referrals a month, +0.012 at 800,
/// +0.002 to +0.005 at 3,200, over seeds): the test runs a trial of 3,200
/// referrals a month, where that bias is one or two standard errors.
#[test]
fn rct_cace_recovers_the_effect_on_the_treated_under_selection() {
    let tmp = tempfile::tempdir().unwrap();
    let diagnosis = run(
        "scenarios/rct.toml",
        &[
            "--set",
            "referrals.per_month=3200",
            "--set",
            "mediators.initial_active=2400",
            "--set",
            "mediators.cohort_size=400",
        ],
        tmp.path(),
    );
    for month in MONTHS {
        let cace = &diagnosis[&("rct_cace".to_string(), month)];
        let vors = &diagnosis[&("vors_design".to_string(), month)];
        println!(
            "{month:>2}: rct_cace bias {:+.4} (se {:.4}); vors_design bias {:+.4}",
            cace.bias, cace.se, vors.bias
        );
        assert!(
            cace.bias.abs() <= 4.0 * cace.se,
            "rct_cace at {month}: {cace:?}"
        );
        // On the log scale too (the scale a ratio's bias is read on).
        assert!(
            cace.log_bias.abs() <= 4.0 * cace.log_se,
            "rct_cace at {month}, log scale: {cace:?}"
        );
        assert!(
            vors.bias < -4.0 * vors.se,
            "vors_design at {month} should be biased: {vors:?}"
        );
    }
}

/// Coverage of the intention-to-treat interval over 400 replications: its
/// standard error at 95% is sqrt(0.95 * 0.05 / 400) = 0.011; the check
/// allows 3.5 of them (Katz intervals are slightly conservative).
#[test]
fn rct_itt_intervals_cover_about_95_percent() {
    let tmp = tempfile::tempdir().unwrap();
    let diagnosis = run("scenarios/rct.toml", &["--reps", "400"], tmp.path());
    let se = (0.95f64 * 0.05 / 400.0).sqrt();
    for month in MONTHS {
        let d = &diagnosis[&("rct_itt".to_string(), month)];
        let coverage = d.coverage.unwrap();
        println!(
            "rct_itt {month:>2}: coverage {coverage:.4}, bias {:+.4}",
            d.bias
        );
        assert!(
            (coverage - 0.95).abs() <= 3.5 * se,
            "rct_itt at {month}: coverage {coverage}"
        );
        assert!(d.bias.abs() <= 4.0 * d.se, "rct_itt at {month}: {d:?}");
    }
}

/// The engine's Kaplan-Meier curve for replication 0 equals the
/// product-limit estimate computed here from `agents.csv` (exact times,
/// censoring at 30 months), for every group, to rounding.
#[test]
fn engine_kaplan_meier_equals_the_product_limit_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    vomsim()
        .args([
            "run",
            repo("scenarios/vors_la.toml").to_str().unwrap(),
            "--reps",
            "1",
            "--agents",
            "--quiet",
            "--out",
        ])
        .arg(&dir)
        .assert()
        .success();
    let mut by_group: HashMap<String, Vec<(f64, bool)>> = HashMap::new();
    let mut reader = csv::Reader::from_path(dir.join("agents.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (group, time, event) = (col("group"), col("time_months"), col("event"));
    for r in reader.records() {
        let r = r.unwrap();
        let observation = (r[time].parse::<f64>().unwrap(), &r[event] == "1");
        by_group
            .entry(r[group].to_string())
            .or_default()
            .push(observation);
        by_group
            .entry("referred".to_string())
            .or_default()
            .push(observation);
        if &r[group] != "mediated" {
            by_group
                .entry("not_mediated".to_string())
                .or_default()
                .push(observation);
        }
    }
    let summary = read_summary(&dir.join("summary.csv"));
    let mut checked = 0;
    for (group, observations) in &by_group {
        // Product-limit: over distinct event times, S *= 1 - d / n.
        let mut times: Vec<f64> = observations.iter().filter(|o| o.1).map(|o| o.0).collect();
        times.sort_by(f64::total_cmp);
        times.dedup();
        for month in 1..=30u32 {
            let mut survival = 1.0;
            for &t in times.iter().filter(|&&t| t <= f64::from(month)) {
                let at_risk = observations.iter().filter(|o| o.0 >= t).count() as f64;
                let events = observations.iter().filter(|o| o.1 && o.0 == t).count() as f64;
                survival *= 1.0 - events / at_risk;
            }
            let engine = &summary[&("km_survival".to_string(), group.clone(), month.to_string())];
            assert!(
                (engine.mean - survival).abs() < 1e-9,
                "{group} month {month}: engine {} vs product-limit {survival}",
                engine.mean
            );
            checked += 1;
        }
    }
    assert!(checked >= 5 * 30, "checked {checked} points");
}

/// Options that remove the one selection channel no study can see even
/// without latent selection: a youth rearrested while waiting is returned,
/// so the mediated are survivors of the wait.
const NO_WAIT_SELECTION: [&str; 2] = ["--set", "mediators.rearrest_returns_case=false"];

/// Selection on what a study observes only: youths of some offenses are
/// less often mediated and rearrested more. The naive comparison is biased;
/// matching and weighting on the observed covariates against a
/// court-processed pool from the same population are not (within 4 SE).
#[test]
fn matched_and_weighted_designs_remove_selection_on_observed_covariates() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--set",
        "design.comparison_pool_per_month=200",
        "--set",
        "consent.victim_offense_log_odds.burglary=-1.5",
        "--set",
        "consent.victim_offense_log_odds.assault=-1.5",
        "--set",
        "recidivism.offense_log_hr.burglary=0.9",
        "--set",
        "recidivism.offense_log_hr.assault=0.9",
    ];
    args.extend(NO_WAIT_SELECTION);
    let diagnosis = run("scenarios/selection_free.toml", &args, tmp.path());
    for month in MONTHS {
        for estimator in ["matched", "ipw"] {
            let d = &diagnosis[&(estimator.to_string(), month)];
            println!(
                "{estimator:<8} {month:>2} bias {:+.4} se {:.4} coverage {:?}",
                d.bias, d.se, d.coverage
            );
            assert!(d.reps >= 200.0);
            assert!(
                d.bias.abs() <= 4.0 * d.se,
                "{estimator} at {month}: bias {} beyond 4 SE ({})",
                d.bias,
                d.se
            );
        }
    }
    let naive = &diagnosis[&("naive".to_string(), 12)];
    assert!(
        naive.bias < -4.0 * naive.se,
        "the naive comparison should be biased: {naive:?}"
    );
}

/// Selection on latent risk (vors_la: victims decline riskier youths), with
/// a court-processed pool: matching and weighting on what a study observes
/// cannot remove it; the mediated look better than they are (a ratio below
/// the truth), though less so than in the naive comparison, part of whose
/// selection (offense, victim type) the covariates carry.
#[test]
fn selection_on_latent_risk_biases_the_matched_and_weighted_designs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--set",
        "design.comparison_pool_per_month=200",
        "--set",
        "referrals.per_month=200",
        "--set",
        "mediators.initial_active=150",
    ];
    args.extend(NO_WAIT_SELECTION);
    let diagnosis = run("scenarios/vors_la.toml", &args, tmp.path());
    let naive = &diagnosis[&("naive".to_string(), 12)];
    for estimator in ["matched", "ipw"] {
        let d = &diagnosis[&(estimator.to_string(), 12)];
        println!(
            "{estimator}: bias {:+.4} (se {:.4}); naive {:+.4}",
            d.bias, d.se, naive.bias
        );
        assert!(d.bias < -4.0 * d.se, "{estimator}: {d:?}");
        assert!(d.bias > naive.bias, "{estimator} {d:?} vs naive {naive:?}");
    }
}

/// A consent-first trial randomizes only consented cases: its contrast is
/// the effect on the consenters offered mediation, recovered within 4 SE
/// under vors_la's selection; with a pool large enough that no case waits
/// too long, that is the effect on the participants (`true_att`).
#[test]
fn a_consent_first_trial_recovers_the_effect_on_participants() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--set",
        "design.randomize_after_consent=true",
        "--set",
        "referrals.per_month=800",
        "--set",
        "mediators.initial_active=600",
        "--set",
        "mediators.cohort_size=100",
    ];
    args.extend(NO_WAIT_SELECTION);
    let diagnosis = run("scenarios/rct.toml", &args, tmp.path());
    assert!(!diagnosis.contains_key(&("rct_itt".to_string(), 12)));
    for month in MONTHS {
        let d = &diagnosis[&("rct_consent_first".to_string(), month)];
        let att = &diagnosis[&("naive".to_string(), month)].estimand;
        println!(
            "{month:>2}: rct_consent_first bias {:+.4} (se {:.4}), estimand {:.4}, true_att {att:.4}",
            d.bias, d.se, d.estimand
        );
        assert!(d.bias.abs() <= 4.0 * d.se, "at {month}: {d:?}");
        // Every consented case offered mediation is mediated.
        assert!((d.estimand - att).abs() < 1e-3, "at {month}: {d:?}");
    }
}
