//! Program variants (issue 14): each new scenario key changes what it
//! should, run through the real binary on the shipped `vors_la` scenario.
//!
//! Most checks are exact (common random numbers make a changed key's
//! effect visible without noise: the same youths, the same draws). The
//! statistical ones say why their tolerance is what it is.

mod common;

use std::collections::HashMap;
use std::path::Path;

use common::{SummaryRow, read_summary, repo, vomsim};

type Summary = HashMap<(String, String, String), SummaryRow>;

/// Runs `vors_la` with `--set` overrides into `dir`; returns its summary.
fn run(dir: &Path, reps: u32, sets: &[&str], agents: bool) -> Summary {
    let mut cmd = vomsim();
    cmd.args(["run", repo("scenarios/vors_la.toml").to_str().unwrap()])
        .args([
            "--quiet",
            "--seed",
            "7",
            "--reps",
            &reps.to_string(),
            "--out",
        ])
        .arg(dir);
    for set in sets {
        cmd.args(["--set", set]);
    }
    if agents {
        cmd.arg("--agents");
    }
    cmd.assert().success();
    read_summary(&dir.join("summary.csv"))
}

fn mean(summary: &Summary, metric: &str, group: &str, month: &str) -> f64 {
    summary
        .get(&(metric.to_string(), group.to_string(), month.to_string()))
        .unwrap_or_else(|| panic!("no row {metric}/{group}/{month}"))
        .mean
}

/// `agents.csv` as rows of named fields.
fn agents(dir: &Path) -> Vec<HashMap<String, String>> {
    let mut reader = csv::Reader::from_path(dir.join("agents.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn mode_shares_appear_in_mediation_mode_and_scale_hours() {
    let tmp = tempfile::tempdir().unwrap();
    let modes = [
        "mediation.modes.face_to_face.share=0.5",
        "mediation.modes.indirect.share=0.3",
        "mediation.modes.conference.share=0.2",
    ];
    let s = run(&tmp.path().join("modes"), 60, &modes, false);
    let by_mode = [
        ("face_to_face", 0.5),
        ("indirect", 0.3),
        ("conference", 0.2),
    ];
    let total: f64 = by_mode
        .iter()
        .map(|(m, _)| mean(&s, "mediation_mode", m, ""))
        .sum();
    // Every mediated youth has exactly one mode.
    assert!((total - mean(&s, "share", "mediated", "")).abs() < 1e-12);
    // About 170 mediated youths a replication, 60 replications: a mode's
    // share of them has a standard error below 0.006; 0.03 is 5 of them.
    for (mode, share) in by_mode {
        let observed = mean(&s, "mediation_mode", mode, "") / total;
        assert!(
            (observed - share).abs() < 0.03,
            "{mode}: {observed} vs {share}"
        );
    }

    // The default is all face-to-face; doubling its hours doubles the
    // mediators' hours exactly (hours do not change who waits).
    let plain = run(&tmp.path().join("plain"), 5, &[], false);
    let doubled = run(
        &tmp.path().join("doubled"),
        5,
        &["mediation.modes.face_to_face.hours_scale=2"],
        false,
    );
    assert_eq!(mean(&plain, "mediation_mode", "face_to_face", ""), {
        mean(&plain, "share", "mediated", "")
    });
    assert_eq!(mean(&plain, "mediation_mode", "indirect", ""), 0.0);
    for month in 1..=12 {
        let month = month.to_string();
        let (a, b) = (
            mean(&plain, "mediator_hours", "program", &month),
            mean(&doubled, "mediator_hours", "program", &month),
        );
        assert!((b - 2.0 * a).abs() < 1e-9 * a.max(1.0), "month {month}");
    }
}

#[test]
fn an_effect_scale_of_zero_removes_that_modes_effect() {
    let tmp = tempfile::tempdir().unwrap();
    let none = run(
        &tmp.path().join("none"),
        20,
        &[
            "mediation.modes.face_to_face.share=0",
            "mediation.modes.indirect.share=1",
            "mediation.modes.indirect.effect_scale=0",
        ],
        false,
    );
    let full = run(&tmp.path().join("full"), 20, &[], false);
    for month in ["6", "12", "18", "24", "30"] {
        // Without an effect the treated world is the untreated one, youth
        // by youth: the true ratio is exactly 1.
        assert_eq!(mean(&none, "effect_ratio", "true_att", month), 1.0);
        assert!(mean(&full, "effect_ratio", "true_att", month) < 1.0);
    }
}

#[test]
fn a_session_without_agreement_can_carry_no_effect() {
    let tmp = tempfile::tempdir().unwrap();
    let never = run(
        &tmp.path().join("never"),
        20,
        &[
            "mediation.agreement_probability=0",
            "treatment.no_agreement_effect_scale=0",
        ],
        false,
    );
    assert_eq!(mean(&never, "agreement_rate", "mediated", ""), 0.0);
    assert_eq!(mean(&never, "effect_ratio", "true_att", "6"), 1.0);
    // Half the sessions agree: the effect lies between none and full.
    let half = run(
        &tmp.path().join("half"),
        20,
        &[
            "mediation.agreement_probability=0.5",
            "treatment.no_agreement_effect_scale=0",
        ],
        false,
    );
    let full = run(&tmp.path().join("full"), 20, &[], false);
    let (h, f) = (
        mean(&half, "effect_ratio", "true_att", "6"),
        mean(&full, "effect_ratio", "true_att", "6"),
    );
    assert!(f < h && h < 1.0, "full {f}, half {h}");
    // 20 replications of about 170 sessions: the agreement rate's standard
    // error is about 0.009; 0.04 is more than 4 of them.
    assert!((mean(&half, "agreement_rate", "mediated", "") - 0.5).abs() < 0.04);
}

#[test]
fn ages_from_ten_and_prior_arrest_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("young");
    run(
        &dir,
        1,
        &[
            "referrals.per_month=200",
            "referrals.age_min=10",
            "referrals.age_max=14",
            "referrals.age_shares=[0.2, 0.2, 0.2, 0.2, 0.2]",
            "referrals.second_arrest_share=0.5",
            "referrals.prior_arrest_shares=[0.5, 0.3, 0.2]",
        ],
        true,
    );
    let rows = agents(&dir);
    let ages: Vec<u8> = rows.iter().map(|r| r["age"].parse().unwrap()).collect();
    assert!(ages.iter().all(|a| (10..=14).contains(a)));
    assert!(ages.contains(&10) && ages.contains(&14));
    let priors: Vec<u8> = rows
        .iter()
        .map(|r| r["prior_arrests"].parse().unwrap())
        .collect();
    let share = |n: u8| priors.iter().filter(|&&p| p == n).count() as f64 / priors.len() as f64;
    // About 2,400 youths: a share's standard error is at most 0.01; 0.05
    // is 5 of them.
    for (n, expected) in [(0, 0.5), (1, 0.25), (2, 0.15), (3, 0.10)] {
        assert!(
            (share(n) - expected).abs() < 0.05,
            "{n} priors: {}",
            share(n)
        );
    }
    assert!(priors.iter().all(|&p| p <= 3));
}

#[test]
fn age_shares_must_match_the_ages() {
    vomsim()
        .args(["validate", repo("scenarios/vors_la.toml").to_str().unwrap()])
        .args(["--set", "referrals.age_min=10"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "must list 8 shares, one for each age 10, 11, 12, 13, 14, 15, 16, 17",
        ));
}

#[test]
fn the_consent_order_decides_who_is_asked() {
    let tmp = tempfile::tempdir().unwrap();
    for (order, first, second) in [
        ("offender_first", "offender_consent", "victim_consent"),
        ("victim_first", "victim_consent", "offender_consent"),
    ] {
        let dir = tmp.path().join(order);
        let set = format!("consent.order=\"{order}\"");
        run(&dir, 1, &[&set, "referrals.per_month=100"], true);
        let rows = agents(&dir);
        assert!(rows.iter().all(|r| r[first] == "0" || r[first] == "1"));
        for r in &rows {
            // The second party is asked exactly when the first said yes.
            assert_eq!(r[second].is_empty(), r[first] == "0", "{order}: {r:?}");
        }
        assert!(rows.iter().any(|r| r[first] == "0"));
    }
    // Asking the victim first fills the victim-declined group with youths
    // who would have declined themselves: it grows, and the youths'
    // own refusals shrink.
    let share = |order: &str, group: &str| {
        mean(
            &read_summary(&tmp.path().join(order).join("summary.csv")),
            "share",
            group,
            "",
        )
    };
    assert!(share("victim_first", "victim_declined") > share("offender_first", "victim_declined"));
    assert!(
        share("victim_first", "offender_declined") < share("offender_first", "offender_declined")
    );
}

#[test]
fn court_processing_delays_disposition_and_its_effect_is_the_untreated_worlds() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = run(&tmp.path().join("plain"), 20, &[], false);
    let court = run(
        &tmp.path().join("court"),
        20,
        &[
            "court.processing_days_mean=90",
            "court.processing_days_sd=30",
            "court.log_hr=0.3",
        ],
        false,
    );
    // About 90 declined youths a replication, 20 replications, sd 30 days:
    // the mean's standard error is about 0.7 days; 4 days is over 5 of them.
    for group in ["victim_declined", "offender_declined"] {
        assert_eq!(mean(&plain, "days_to_disposition", group, ""), 0.0);
        let days = mean(&court, "days_to_disposition", group, "");
        assert!((days - 90.0).abs() < 4.0, "{group}: {days}");
    }
    // Mediated youths are diverted: their days, rearrests and
    // reconvictions are the same youths' as without the court effect.
    for (metric, month) in [
        ("days_to_disposition", ""),
        ("rearrest", "12"),
        ("rearrest", "30"),
    ] {
        assert_eq!(
            mean(&plain, metric, "mediated", month),
            mean(&court, metric, "mediated", month),
            "{metric} {month}"
        );
    }
    // The court raises the untreated world's rearrest, so the true effect
    // of mediation against court processing grows.
    assert!(
        mean(&court, "rearrest", "victim_declined", "12")
            > mean(&plain, "rearrest", "victim_declined", "12")
    );
    assert!(
        mean(&court, "effect_ratio", "true_att", "12")
            < mean(&plain, "effect_ratio", "true_att", "12")
    );
}

#[test]
fn completion_can_depend_on_latent_risk() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("risk");
    run(
        &dir,
        1,
        &[
            "referrals.per_month=400",
            "mediators.initial_active=300",
            "restitution.mediated.risk_log_odds=-1.5",
        ],
        true,
    );
    let rows = agents(&dir);
    let completion = |high_risk: bool| {
        let obligated: Vec<_> = rows
            .iter()
            .filter(|r| r["group"] == "mediated" && r["service_hours"] != "0")
            .filter(|r| (r["risk"].parse::<f64>().unwrap() > 0.0) == high_risk)
            .collect();
        let done = obligated
            .iter()
            .filter(|r| r["service_completed"] == "1")
            .count();
        (done as f64 / obligated.len() as f64, obligated.len())
    };
    let ((high, n_high), (low, n_low)) = (completion(true), completion(false));
    // Hundreds of youths on each side (fewer of high risk: their victims
    // consent less; a pool of 300 mediates nearly every consented case):
    // each rate's standard error is under 0.03; a log-odds of -1.5 per SD
    // separates them by far more than that.
    assert!(n_high > 250 && n_low > 250, "{n_high} {n_low}");
    assert!(low - high > 0.2, "low risk {low}, high risk {high}");
    let s = read_summary(&dir.join("summary.csv"));
    let full = mean(&s, "completed_in_full", "mediated", "");
    assert!(full > 0.0 && full < 1.0);
}

#[test]
fn example_scenarios_validate_and_run() {
    let tmp = tempfile::tempdir().unwrap();
    let mut examples: Vec<_> = std::fs::read_dir(repo("scenarios/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    examples.sort();
    assert_eq!(examples.len(), 3, "{examples:?}");
    for path in examples {
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let dir = tmp.path().join(&name);
        vomsim()
            .args([
                "run",
                path.to_str().unwrap(),
                "--quiet",
                "--reps",
                "3",
                "--out",
            ])
            .arg(&dir)
            .assert()
            .success();
        let s = read_summary(&dir.join("summary.csv"));
        let modes: f64 = ["face_to_face", "indirect", "conference"]
            .iter()
            .map(|m| mean(&s, "mediation_mode", m, ""))
            .sum();
        assert!(
            (modes - mean(&s, "share", "mediated", "")).abs() < 1e-12,
            "{name}"
        );
    }
}

#[test]
fn the_face_to_face_agreement_probability_is_the_programs() {
    vomsim()
        .args(["validate", repo("scenarios/vors_la.toml").to_str().unwrap()])
        .args([
            "--set",
            "mediation.modes.face_to_face.agreement_probability=0.8",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "did you mean `mediation.agreement_probability`?",
        ));
}
