//! `vomsim plan`: the cheapest initial pool, training cohorts (and
//! coordinators) meeting a waiting target in every month.

mod common;

use std::fs;
use std::path::Path;

use common::{repo, vomsim};

const VORS: &str = "scenarios/vors_la.toml";

/// A row of plan.csv.
#[derive(Debug, Clone)]
struct Row {
    initial: u64,
    cohort: u64,
    every: u64,
    coordinators: u64,
    cost: f64,
    share: f64,
    meets: bool,
    chosen: String,
}

/// Runs `plan` on vors_la (28 days, q90, P 0.9) with extra options; returns
/// plan.csv's rows and stdout.
fn plan(out: &Path, options: &[&str]) -> (Vec<Row>, String) {
    let assert = vomsim()
        .args(["plan", repo(VORS).to_str().unwrap()])
        .args([
            "--wait-days",
            "28",
            "--quantile",
            "0.9",
            "--confidence",
            "0.9",
        ])
        .args(["--reps", "60", "--quiet", "--out"])
        .arg(out)
        .args(options)
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let mut reader = csv::Reader::from_path(out.join("plan.csv")).unwrap();
    assert_eq!(
        reader
            .headers()
            .unwrap()
            .iter()
            .collect::<Vec<_>>()
            .join(","),
        "initial_active,cohort_size,cohort_every_months,coordinators,cost_mean,training_cost,\
         coordinator_cost,volunteer_hours,share_meeting,share_lower,share_upper,reps,seed,\
         meets_target,chosen"
    );
    let rows = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            Row {
                initial: r[0].parse().unwrap(),
                cohort: r[1].parse().unwrap(),
                every: r[2].parse().unwrap(),
                coordinators: r[3].parse().unwrap(),
                cost: r[4].parse().unwrap(),
                share: r[8].parse().unwrap(),
                meets: &r[13] == "true",
                chosen: r[14].to_string(),
            }
        })
        .collect();
    (rows, stdout)
}

fn chosen(rows: &[Row]) -> &Row {
    let mut chosen = rows.iter().filter(|r| r.chosen == "true");
    let row = chosen.next().expect("a chosen plan");
    assert!(chosen.next().is_none());
    row
}

/// The chosen plan is the cheapest of the candidates meeting the target;
/// on fresh seeds it still meets it, up to the noise of 60 replications.
fn check_choice(rows: &[Row]) {
    let best = chosen(rows);
    assert!(best.meets);
    for r in rows
        .iter()
        .filter(|r| r.meets && r.chosen != "verification")
    {
        assert!(r.cost >= best.cost, "{r:?} is cheaper than {best:?}");
    }
    let fresh: Vec<&Row> = rows.iter().filter(|r| r.chosen == "verification").collect();
    assert_eq!(fresh.len(), 1);
    assert_eq!(
        (
            fresh[0].initial,
            fresh[0].cohort,
            fresh[0].every,
            fresh[0].coordinators
        ),
        (best.initial, best.cohort, best.every, best.coordinators)
    );
    // The plan was chosen at the threshold (its share just reaches 0.9),
    // so on fresh seeds its share is about 0.9 with a binomial standard
    // error of sqrt(0.09 / 60) = 0.039: three of them below is 0.78.
    assert!(fresh[0].share >= 0.9 - 3.0 * 0.039, "{:?}", fresh[0]);
}

/// Volunteers who leave at 15% a month are mostly gone within a year:
/// without training cohorts no initial pool up to 592 keeps two years of
/// waits short, so cohorts are clearly the cheaper lever, and the plan
/// trains them.
#[test]
fn plan_trains_cohorts_when_volunteers_leave() {
    let tmp = tempfile::tempdir().unwrap();
    let (rows, stdout) = plan(
        &tmp.path().join("leave"),
        &[
            "--years",
            "2",
            "--set",
            "mediators.attrition_during_commitment=0.15",
            "--set",
            "mediators.attrition_after_commitment=0.15",
        ],
    );
    check_choice(&rows);
    let best = chosen(&rows);
    assert!(best.cohort > 0, "{best:?}");
    let without: Vec<&Row> = rows.iter().filter(|r| r.cohort == 0 && r.meets).collect();
    assert!(without.iter().all(|r| r.cost > best.cost), "{without:?}");
    assert!(
        stdout.contains("chosen plan: an initial pool of"),
        "{stdout}"
    );
    assert!(stdout.contains("training schedule:"), "{stdout}");
}

/// Volunteers who never leave, at a steady load: the initial pool alone
/// keeps up, and a cohort only adds training; the plan trains none.
#[test]
fn plan_needs_no_cohorts_when_nobody_leaves() {
    let tmp = tempfile::tempdir().unwrap();
    let (rows, _) = plan(
        &tmp.path().join("stay"),
        &[
            "--years",
            "2",
            "--set",
            "mediators.attrition_during_commitment=0",
            "--set",
            "mediators.attrition_after_commitment=0",
        ],
    );
    check_choice(&rows);
    let best = chosen(&rows);
    assert_eq!(best.cohort, 0, "{best:?}");
}

/// A cap on sessions per volunteer (seed 003's one mediation a month,
/// here tightened to 0.3 to bind) asks for more volunteers than the wait
/// alone, and the manifest records the plan.
#[test]
fn the_burden_cap_needs_more_volunteers() {
    let tmp = tempfile::tempdir().unwrap();
    let (free, _) = plan(&tmp.path().join("free"), &["--years", "1"]);
    let (capped, stdout) = plan(
        &tmp.path().join("capped"),
        &["--years", "1", "--max-sessions-per-volunteer", "0.3"],
    );
    check_choice(&capped);
    assert!(chosen(&capped).cost > chosen(&free).cost);
    assert!(stdout.contains("at most 0.3 sessions a month"), "{stdout}");
    // Every month of the printed schedule respects the cap on average.
    let months: Vec<f64> = stdout
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            (cells.len() == 4 && cells[0].parse::<u32>().is_ok()).then(|| cells[3].parse().unwrap())
        })
        .collect();
    assert_eq!(months.len(), 12, "{stdout}");
    assert!(months.iter().all(|&s| s <= 0.3), "{months:?}");
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.path().join("capped/manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["max_sessions_per_volunteer"], 0.3);
    assert_eq!(
        manifest["chosen"]["mediators.initial_active"],
        chosen(&capped).initial
    );
    // Its report page, then --force replaces the folder, page and all.
    vomsim()
        .arg("report")
        .arg(tmp.path().join("capped"))
        .assert()
        .success();
    let page = fs::read_to_string(tmp.path().join("capped/report.html")).unwrap();
    assert!(page.contains("The cheapest plan meeting the target") && page.contains("<svg"));
    plan(
        &tmp.path().join("capped"),
        &[
            "--years",
            "1",
            "--force",
            "--max-sessions-per-volunteer",
            "0.3",
        ],
    );
}

/// With `[staff]` the plan chooses coordinators too: the fewest that keep
/// intake from holding cases up, or one more.
#[test]
fn plan_chooses_coordinators_with_staff() {
    let tmp = tempfile::tempdir().unwrap();
    let (rows, stdout) = plan(
        &tmp.path().join("staff"),
        &[
            "--years",
            "1",
            "--set",
            "staff.coordinators=1",
            "--set",
            "staff.hours_per_month=30",
        ],
    );
    check_choice(&rows);
    // About 15 cases a month of 4 hours: 60 hours need at least three
    // coordinators of 30 hours (two would be saturated).
    let best = chosen(&rows);
    assert!((3..=5).contains(&best.coordinators), "{best:?}");
    assert!(stdout.contains("coordinators"), "{stdout}");
}

/// A summer peak (twice the other months' referrals in June and July, the
/// same referrals over the year) must be planned for, not averaged away:
/// it costs more volunteers than a flat year.
#[test]
fn plan_respects_seasonality() {
    let tmp = tempfile::tempdir().unwrap();
    let (flat, _) = plan(&tmp.path().join("flat"), &["--years", "1"]);
    let peak = "referrals.monthly_multipliers=[0.85,0.85,0.85,0.85,0.85,1.75,1.75,0.85,0.85,0.85,0.85,0.85]";
    let (seasonal, _) = plan(&tmp.path().join("peak"), &["--years", "1", "--set", peak]);
    check_choice(&seasonal);
    assert!(
        chosen(&seasonal).cost > chosen(&flat).cost,
        "{:?} vs {:?}",
        chosen(&seasonal),
        chosen(&flat)
    );
}
