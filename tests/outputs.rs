//! Output size and what reads the optional files (issue 18):
//! `--no-replications` leaves `replications.csv` out of runs, sweeps and
//! merges, the manifests do not list it, and `report`, `compare` and
//! `merge` work without it.

mod common;

use std::fs;
use std::path::Path;

use common::{repo, vomsim};
use predicates::prelude::*;

fn run(dir: &Path, extra: &[&str]) {
    vomsim()
        .args([
            "run",
            repo("scenarios/vors_la.toml").to_str().unwrap(),
            "--reps",
            "6",
            "--quiet",
            "--out",
        ])
        .arg(dir)
        .args(extra)
        .assert()
        .success();
}

fn manifest_files(dir: &Path) -> Vec<String> {
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_run_without_replications_writes_everything_else_and_is_read_back() {
    let tmp = tempfile::tempdir().unwrap();
    let with = tmp.path().join("with");
    let without = tmp.path().join("without");
    run(&with, &[]);
    run(&without, &["--no-replications"]);
    assert!(with.join("replications.csv").is_file());
    assert!(!without.join("replications.csv").exists());
    assert_eq!(
        manifest_files(&without),
        ["summary.csv", "diagnosis.csv", "manifest.json"]
    );
    assert!(manifest_files(&with).contains(&"replications.csv".to_string()));
    // The other files are the same bytes.
    for file in ["summary.csv", "diagnosis.csv"] {
        assert_eq!(
            fs::read(with.join(file)).unwrap(),
            fs::read(without.join(file)).unwrap(),
            "{file}"
        );
    }
    // --force recognizes the smaller folder as vomsim's.
    run(&without, &["--no-replications", "--force"]);
    // report reads summary.csv only.
    vomsim().arg("report").arg(&without).assert().success();
    // compare cannot pair without replications: it compares them as
    // independent runs and says why.
    let out = tmp.path().join("cmp");
    let assert = vomsim()
        .arg("compare")
        .arg(&with)
        .arg(&without)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(stdout.contains("independent runs"), "{stdout}");
    assert!(stdout.contains("--no-replications"), "{stdout}");
    assert!(out.join("compare.csv").is_file());
}

#[test]
fn a_sweep_and_its_merge_without_replications() {
    let tmp = tempfile::tempdir().unwrap();
    let sweep = |dir: &Path, extra: &[&str]| {
        vomsim()
            .args([
                "sweep",
                repo("scenarios/sweeps/mediator_pool.toml")
                    .to_str()
                    .unwrap(),
                "--reps",
                "3",
                "--quiet",
                "--no-replications",
                "--out",
            ])
            .arg(dir)
            .args(extra)
            .assert()
            .success();
    };
    let whole = tmp.path().join("whole");
    sweep(&whole, &[]);
    assert!(!whole.join("replications.csv").exists());
    assert!(!manifest_files(&whole).contains(&"replications.csv".to_string()));
    assert!(whole.join("summary.csv").is_file());
    let shards: Vec<_> = (1..=2)
        .map(|k| tmp.path().join(format!("shard-{k}")))
        .collect();
    for (k, dir) in shards.iter().enumerate() {
        sweep(dir, &["--shard", &format!("{}/2", k + 1)]);
    }
    let merged = tmp.path().join("merged");
    vomsim()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert!(!merged.join("replications.csv").exists());
    for file in ["summary.csv", "diagnosis.csv", "points.csv"] {
        assert_eq!(
            fs::read(whole.join(file)).unwrap(),
            fs::read(merged.join(file)).unwrap(),
            "{file}"
        );
    }
    vomsim().arg("report").arg(&merged).assert().success();
}

/// The benefits by source add up to the benefits behind the net benefit
/// (means are linear, so the means add too).
#[test]
fn benefits_by_source_sum_to_the_benefits() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    run(&dir, &["--no-replications"]);
    let summary = common::read_summary(&dir.join("summary.csv"));
    let mean = |metric: &str, group: &str| {
        summary[&(metric.to_string(), group.to_string(), String::new())].mean
    };
    let sources = mean("benefit_per_referral", "rearrests_averted")
        + mean("benefit_per_referral", "agency_cases_avoided");
    let benefits =
        mean("net_benefit_per_referral", "program") + mean("cost_per_referral", "program");
    assert!(
        (sources - benefits).abs() < 1e-6 * benefits.abs().max(1.0),
        "{sources} vs {benefits}"
    );
    assert!(mean("benefit_per_referral", "agency_cases_avoided") > 0.0);
}

/// `agents.csv` of every replication and `summary.csv` load with the
/// types docs/output.md documents (read with the `csv` crate: this
/// machine's Python has no pandas, and the types are checked cell by cell
/// the way pandas' `dtype=` would enforce them).
#[test]
fn agents_and_summary_load_with_their_documented_types() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    run(
        &dir,
        &[
            "--agents",
            "--set",
            "referrals.per_month=8",
            "--set",
            "simulation.intake_months=3",
        ],
    );
    let whole = |t: &str| t.parse::<u64>().is_ok();
    let number = |t: &str| t.parse::<f64>().is_ok_and(f64::is_finite);
    let flag = |t: &str| t == "0" || t == "1";
    let mut reader = csv::Reader::from_path(dir.join("agents.csv")).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let text_columns = [
        "sex",
        "race",
        "offense",
        "victim_type",
        "group",
        "mediation_mode",
    ];
    let whole_columns = ["rep", "id", "intake_month", "age", "prior_arrests"];
    let flags = [
        "apology",
        "payment_completed",
        "service_completed",
        "event",
        "event0",
        "event1",
        "reconviction_event",
    ];
    let optional_flags = ["offender_consent", "victim_consent", "agreement"];
    for renamed in [
        "time_months",
        "t0_months",
        "t1_months",
        "amount_dollars",
        "paid_dollars",
    ] {
        assert!(header.iter().any(|h| h == renamed), "no {renamed}");
    }
    let mut reps = std::collections::BTreeSet::new();
    let mut months = std::collections::BTreeSet::new();
    let mut rows = 0;
    for record in reader.records() {
        let r = record.unwrap();
        rows += 1;
        for (name, cell) in header.iter().zip(r.iter()) {
            let name = name.as_str();
            let ok = if text_columns.contains(&name) {
                !cell.contains(',')
            } else if whole_columns.contains(&name) {
                whole(cell)
            } else if flags.contains(&name) {
                flag(cell)
            } else if optional_flags.contains(&name) {
                cell.is_empty() || flag(cell)
            } else if name == "wait_days" {
                cell.is_empty() || number(cell)
            } else {
                number(cell)
            };
            assert!(ok, "agents.csv row {rows}: {name} = {cell:?}");
        }
        reps.insert(r[0].to_string());
        months.insert(r[2].parse::<u32>().unwrap());
    }
    assert!(rows > 0);
    assert_eq!(reps.len(), 6, "every replication, with a rep column");
    // 1-based intake months: 1 to 3 for three months of intake.
    assert_eq!(months.first(), Some(&1));
    assert!(*months.last().unwrap() <= 3, "{months:?}");

    let caseload = [
        "referrals",
        "offender_consents",
        "victim_consents",
        "sessions",
        "backlog",
        "active_mediators",
        "training_mediators",
        "mediator_hours",
        "utilization",
        "wait_days_mean",
        "wait_days_p90",
        "returned_wait",
    ];
    let mut reader = csv::Reader::from_path(dir.join("summary.csv")).unwrap();
    let mut program_months = 0;
    for record in reader.records() {
        let r = record.unwrap();
        assert!(whole(&r[0]) && whole(&r[9]), "{r:?}");
        assert!(r[3].is_empty() || whole(&r[3]), "month {:?}", &r[3]);
        assert!(r[5].is_empty() || number(&r[5]));
        for i in [4, 6, 7, 8] {
            assert!(number(&r[i]), "{r:?}");
        }
        // The documented rule: program months for the caseload metrics of
        // group `program`, follow-up months (at most 30) for the rest.
        if !r[3].is_empty() && r[2] == *"program" && caseload.contains(&&r[1]) {
            program_months += 1;
        } else if !r[3].is_empty() {
            assert!(r[3].parse::<u32>().unwrap() <= 30, "{r:?}");
        }
    }
    assert!(program_months > 0);
    let diagnosis = fs::read_to_string(dir.join("diagnosis.csv")).unwrap();
    assert!(diagnosis.starts_with("point,estimator,month,"));
    assert!(diagnosis.lines().skip(1).all(|l| l.starts_with("0,")));
}

/// A sweep file given to `run` is pointed to `vomsim sweep`, not refused
/// as an unknown key (`validate` reads sweep files as they are).
#[test]
fn a_sweep_file_given_to_run_points_to_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    vomsim()
        .arg("run")
        .arg(repo("scenarios/sweeps/mediator_pool.toml"))
        .args(["--quiet", "--out"])
        .arg(tmp.path().join("x"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("this is a sweep file"))
        .stderr(predicates::str::contains("`vomsim sweep FILE`"))
        .stderr(predicates::str::contains("unknown key").not());
    assert!(!tmp.path().join("x").exists());
}

/// After the README's Install section every command is written as
/// `vomsim ...` (the quick start before it builds with cargo), and the
/// guides never ask for `cargo run`.
#[test]
fn the_docs_use_the_installed_vomsim() {
    let readme = fs::read_to_string(repo("README.md")).unwrap();
    let (_, after) = readme.split_once("## Install").expect("an Install section");
    assert!(after.contains("cargo install --path ."));
    let runs: Vec<&str> = after.lines().filter(|l| l.contains("cargo run")).collect();
    assert_eq!(
        runs.len(),
        1,
        "only the line saying what it replaces: {runs:?}"
    );
    for page in fs::read_dir(repo("docs")).unwrap() {
        let path = page.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            let text = fs::read_to_string(&path).unwrap();
            assert!(
                !text.contains("cargo run --release --"),
                "{}",
                path.display()
            );
        }
    }
}

/// On a terminal (a pseudo-terminal made by `script`, from util-linux), the
/// progress bar and then a line naming each file being written show, every
/// line within 80 columns.
#[test]
fn on_a_terminal_progress_covers_writing_within_80_columns() {
    if std::process::Command::new("script")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("not run: no `script` (util-linux) on this machine");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let command = format!(
        "{} run {} --reps 300 --threads 1 --out {}",
        env!("CARGO_BIN_EXE_vomsim"),
        repo("scenarios/vors_la.toml").display(),
        tmp.path().join("run").display()
    );
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("COLUMNS", "80")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    // Without the terminal's control sequences (ESC [ ... letter).
    let mut plain = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    assert!(plain.contains("replications (eta"), "{plain}");
    assert!(plain.contains("writing summary.csv"), "{plain}");
    assert!(plain.contains("writing manifest.json"), "{plain}");
    let progress = plain
        .split(['\r', '\n'])
        .filter(|l| l.contains("replications (eta") || l.contains("writing "));
    for line in progress {
        assert!(
            line.trim_end().chars().count() <= 80,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    // --quiet shows neither.
    let quiet = std::process::Command::new("script")
        .args(["-qec", &format!("{command} --force --quiet"), "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&quiet.stdout).contains("writing"));
}

/// The equity tally against the youths themselves: in one replication,
/// each subgroup's shares and rearrest equal the counts in agents.csv, and
/// the disparity ratio is its mediated share over everyone's.
#[test]
fn equity_metrics_match_the_youths() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("one");
    vomsim()
        .args([
            "run",
            repo("scenarios/rct.toml").to_str().unwrap(),
            "--reps",
            "1",
            "--agents",
            "--quiet",
            "--out",
        ])
        .arg(&dir)
        .assert()
        .success();
    let summary = common::read_summary(&dir.join("summary.csv"));
    let value = |metric: &str, group: &str, month: &str| {
        summary
            .get(&(metric.to_string(), group.to_string(), month.to_string()))
            .map(|r| r.mean)
    };
    let mut reader = csv::Reader::from_path(dir.join("agents.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (race, sex, age, offense, group, time, event) = (
        col("race"),
        col("sex"),
        col("age"),
        col("offense"),
        col("group"),
        col("time_months"),
        col("event"),
    );
    let youths: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let everyone = youths.len() as f64;
    let mediated_all = youths.iter().filter(|y| &y[group] == "mediated").count() as f64;
    let mut checked = 0;
    for name in vomsim::measure::names::group::SUBGROUPS {
        let (attribute, wanted) = name.split_once('=').unwrap();
        let column = match attribute {
            "race" => race,
            "sex" => sex,
            "age" => age,
            _ => offense,
        };
        let members: Vec<&csv::StringRecord> =
            youths.iter().filter(|y| &y[column] == wanted).collect();
        let n = members.len() as f64;
        if members.is_empty() {
            assert_eq!(value("share_mediated", name, ""), None, "{name}");
            continue;
        }
        let share = |pred: &dyn Fn(&csv::StringRecord) -> bool| {
            members.iter().filter(|y| pred(y)).count() as f64 / n
        };
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-12);
        assert!(close(value("share", name, ""), n / everyone), "{name}");
        let mediated = share(&|y| &y[group] == "mediated");
        assert!(close(value("share_mediated", name, ""), mediated), "{name}");
        assert!(
            close(
                value("share_offered", name, ""),
                share(&|y| &y[group] != "rct_control")
            ),
            "{name}"
        );
        assert!(
            close(
                value("share_returned", name, ""),
                share(&|y| &y[group] == "returned_wait")
            ),
            "{name}"
        );
        for month in [12.0, 30.0] {
            let rearrested =
                share(&|y| &y[event] == "1" && y[time].parse::<f64>().unwrap() <= month);
            assert!(
                close(value("rearrest", name, &format!("{month}")), rearrested),
                "{name} {month}"
            );
        }
        assert!(
            close(
                value("disparity_mediated", name, ""),
                mediated / (mediated_all / everyone)
            ),
            "{name}"
        );
        // Rearrest by disposition: the subgroup's youths of that group.
        for disposition in vomsim::measure::names::group::DISPOSITIONS {
            let by = format!("{name};{disposition}");
            let of: Vec<&&csv::StringRecord> = members
                .iter()
                .filter(|y| &y[group] == disposition)
                .collect();
            for month in [12.0, 30.0] {
                let got = value("rearrest", &by, &format!("{month}"));
                if of.is_empty() {
                    assert_eq!(got, None, "{by}");
                    continue;
                }
                let rearrested = of
                    .iter()
                    .filter(|y| &y[event] == "1" && y[time].parse::<f64>().unwrap() <= month)
                    .count() as f64
                    / of.len() as f64;
                assert!(close(got, rearrested), "{by} {month}: {got:?} {rearrested}");
            }
        }
        checked += 1;
    }
    assert!(checked >= 15, "{checked}");
}

/// Rearrest by subgroup and disposition: a row for every subgroup of the
/// scenario by every disposition it has (the control arm only when it
/// randomizes), and mediation's effect seen within subgroups. In
/// `selection_free` the victim's consent does not depend on the youth, so
/// the victim-declined youths are the mediated youths' fair comparison:
/// with the treatment on, the mediated youths' 12-month rearrest is lower
/// by more than 3 standard errors of the difference of means (about 30
/// here); with `treatment.shape = none` the two agree within 4.
#[test]
fn rearrest_by_subgroup_and_disposition() {
    let tmp = tempfile::tempdir().unwrap();
    let summary = |name: &str, extra: &[&str]| {
        let dir = tmp.path().join(name);
        vomsim()
            .args([
                "run",
                repo("scenarios/selection_free.toml").to_str().unwrap(),
                "--reps",
                "100",
                "--seed",
                "5",
                "--no-replications",
                "--quiet",
                "--out",
            ])
            .arg(&dir)
            .args(extra)
            .assert()
            .success();
        common::read_summary(&dir.join("summary.csv"))
    };
    let on = summary("on", &[]);
    let off = summary("off", &["--set", "treatment.shape=none"]);
    let row = |s: &std::collections::HashMap<(String, String, String), common::SummaryRow>,
               group: &str,
               month: &str| {
        s.get(&("rearrest".to_string(), group.to_string(), month.to_string()))
            .cloned()
    };
    let key = |metric: &str, group: &str| (metric.to_string(), group.to_string(), String::new());
    let mut subgroups = 0;
    for name in vomsim::measure::names::group::SUBGROUPS {
        if !on.contains_key(&key("share_mediated", name)) {
            continue;
        }
        subgroups += 1;
        for month in ["12", "30"] {
            for disposition in ["mediated", "victim_declined"] {
                assert!(
                    row(&on, &format!("{name};{disposition}"), month).is_some(),
                    "{name};{disposition} {month}"
                );
            }
            assert!(row(&on, &format!("{name};rct_control"), month).is_none());
        }
    }
    assert!(subgroups >= 12, "{subgroups}");
    for name in ["sex=male", "sex=female", "race=hispanic", "race=black"] {
        let gap = |s| {
            let m = row(s, &format!("{name};mediated"), "12").unwrap();
            let d = row(s, &format!("{name};victim_declined"), "12").unwrap();
            let se = ((m.sd.unwrap().powi(2) / m.reps as f64)
                + (d.sd.unwrap().powi(2) / d.reps as f64))
                .sqrt();
            ((d.mean - m.mean), se)
        };
        let (difference, se) = gap(&on);
        assert!(difference > 3.0 * se, "{name}: {difference} vs se {se}");
        let (difference, se) = gap(&off);
        assert!(
            difference.abs() < 4.0 * se,
            "{name} without effect: {difference} vs se {se}"
        );
    }
}
