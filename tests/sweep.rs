//! Sweeps: the grid, byte-identical output for any thread count, after a
//! kill and `--resume`, and from shards through `merge`; Latin hypercube
//! and Sobol designs; bad sweep files.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{repo, vomsim};
use predicates::prelude::*;

const POOL: &str = "scenarios/sweeps/mediator_pool.toml";
const FILES: [&str; 4] = [
    "summary.csv",
    "replications.csv",
    "diagnosis.csv",
    "points.csv",
];

fn sweep(dir: &Path, extra: &[&str]) {
    vomsim()
        .args([
            "sweep",
            repo(POOL).to_str().unwrap(),
            "--reps",
            "12",
            "--quiet",
            "--out",
        ])
        .arg(dir)
        .args(extra)
        .assert()
        .success();
}

fn assert_same(a: &Path, b: &Path) {
    for file in FILES {
        let (x, y) = (
            fs::read(a.join(file)).unwrap(),
            fs::read(b.join(file)).unwrap(),
        );
        assert!(!x.is_empty());
        assert!(
            x == y,
            "{file} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

#[test]
fn grid_sweep_writes_one_point_per_combination() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("grid");
    sweep(&dir, &["--threads", "2"]);
    let points = fs::read_to_string(dir.join("points.csv")).unwrap();
    let lines: Vec<&str> = points.lines().collect();
    assert_eq!(
        lines[0],
        "point,mediators.initial_active,consent.victim_probability"
    );
    assert_eq!(lines.len(), 1 + 5 * 3);
    assert_eq!(lines[1], "0,8,0.4");
    assert_eq!(lines[15], "14,37,0.7");
    let summary = fs::read_to_string(dir.join("summary.csv")).unwrap();
    assert!(summary.starts_with(
        "point,mediators.initial_active,consent.victim_probability,metric,group,month,mean,sd,q025,q500,q975,reps\n"
    ));
    assert!(summary.contains("\n14,37,0.7,share,mediated,,"));
    // Common random numbers: every point sees the same referrals.
    let referrals: Vec<&str> = summary
        .lines()
        .filter(|l| l.contains(",referrals,referred,,"))
        .map(|l| l.split(',').nth(6).unwrap())
        .collect();
    assert_eq!(referrals.len(), 15);
    assert!(
        referrals.iter().all(|r| *r == referrals[0]),
        "{referrals:?}"
    );

    let one = tmp.path().join("one-thread");
    sweep(&one, &["--threads", "1"]);
    assert_same(&dir, &one);
}

#[test]
fn killed_sweep_resumes_to_identical_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (killed, whole) = (tmp.path().join("killed"), tmp.path().join("whole"));
    let args = |dir: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vomsim"));
        c.args([
            "sweep",
            repo(POOL).to_str().unwrap(),
            "--reps",
            "300",
            "--threads",
            "1",
            "--quiet",
            "--out",
        ])
        .arg(dir);
        c
    };
    let mut child = args(&killed).spawn().unwrap();
    // Kill (SIGKILL) once at least one point is finished, mid-sweep.
    let started = Instant::now();
    loop {
        let finished = fs::read_dir(killed.join("points"))
            .map(|d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".done"))
                    .count()
            })
            .unwrap_or(0);
        if finished >= 2 || started.elapsed() > Duration::from_secs(60) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        !killed.join("summary.csv").exists(),
        "killed before the end"
    );
    let status = args(&killed).arg("--resume").status().unwrap();
    assert!(status.success());
    assert!(args(&whole).status().unwrap().success());
    assert_same(&killed, &whole);
    let leftovers = fs::read_dir(killed.join("points"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".partial-"))
        .count();
    assert_eq!(
        leftovers, 0,
        "temporary files of the killed run are cleaned up"
    );
}

#[test]
fn shards_merge_to_the_whole_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    sweep(&whole, &[]);
    let shards: Vec<_> = (1..=4)
        .map(|k| tmp.path().join(format!("shard-{k}")))
        .collect();
    for (k, dir) in shards.iter().enumerate() {
        sweep(dir, &["--shard", &format!("{}/4", k + 1)]);
    }
    let merged = tmp.path().join("merged");
    vomsim()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_same(&merged, &whole);

    // Refused: a missing shard, and a shard from another seed.
    vomsim()
        .arg("merge")
        .args(&shards[..3])
        .arg("--out")
        .arg(tmp.path().join("partial"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing"));
    // Refused: a shard given twice, and a damaged fragment.
    vomsim()
        .arg("merge")
        .args(&shards)
        .arg(&shards[0])
        .arg("--out")
        .arg(tmp.path().join("twice"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("given twice"));
    let fragment = shards[1].join("points").join("point-000001.summary.csv");
    let text = fs::read_to_string(&fragment).unwrap();
    fs::write(&fragment, &text[..text.len() / 2]).unwrap();
    vomsim()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(tmp.path().join("damaged"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("damaged"));
    fs::write(&fragment, text).unwrap();
    let other = tmp.path().join("other-seed");
    sweep(&other, &["--shard", "4/4", "--seed", "9"]);
    vomsim()
        .arg("merge")
        .args(&shards[..3])
        .arg(&other)
        .arg("--out")
        .arg(tmp.path().join("mixed"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("different sweep"));
}

#[test]
fn resume_refuses_a_different_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    sweep(&dir, &["--shard", "1/2"]);
    vomsim()
        .args([
            "sweep",
            repo(POOL).to_str().unwrap(),
            "--reps",
            "13",
            "--quiet",
            "--resume",
            "--shard",
            "1/2",
            "--out",
        ])
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("different sweep"));
}

fn write_sweep(dir: &Path, sweep_table: &str) -> std::path::PathBuf {
    let text = fs::read_to_string(repo("scenarios/vors_la.toml")).unwrap();
    let path = dir.join("sweep.toml");
    fs::write(&path, format!("{text}\n{sweep_table}")).unwrap();
    path
}

#[test]
fn latin_hypercube_and_sobol_designs_run() {
    let tmp = tempfile::tempdir().unwrap();
    let lhs = write_sweep(
        tmp.path(),
        "[sweep]\ndesign = \"lhs\"\npoints = 6\n[sweep.parameters]\n\"referrals.per_month\" = { low = 20.0, high = 60.0 }\n\"mediators.initial_active\" = { low = 5, high = 40 }\n",
    );
    let out = tmp.path().join("lhs");
    vomsim()
        .arg("sweep")
        .arg(&lhs)
        .args(["--reps", "4", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(out.join("points.csv"))
            .unwrap()
            .lines()
            .count(),
        7
    );

    let sobol = write_sweep(
        tmp.path(),
        "[sweep]\ndesign = \"sobol\"\nbase_samples = 8\nbootstrap = 50\noutputs = [\"rearrest,referred,12\"]\n[sweep.parameters]\n\"recidivism.baseline_rearrest_12m\" = { low = 0.1, high = 0.3 }\n\"mediators.premeeting_hours\" = { low = 0.5, high = 2.0 }\n",
    );
    let out = tmp.path().join("sobol");
    vomsim()
        .arg("sweep")
        .arg(&sobol)
        .args(["--reps", "4", "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(out.join("points.csv"))
            .unwrap()
            .lines()
            .count(),
        1 + 8 * 4
    );
    let mut reader = csv::Reader::from_path(out.join("sensitivity.csv")).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    let total = |i: usize| rows[i][7].parse::<f64>().unwrap();
    // The baseline hazard drives 12-month rearrest; pre-meeting hours
    // (volunteer time) cannot touch it.
    assert!(total(0) > 0.5, "{:?}", rows[0]);
    assert!(total(1).abs() < 0.05, "{:?}", rows[1]);
}

#[test]
fn bad_sweep_files_are_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let unknown = write_sweep(
        tmp.path(),
        "[sweep.parameters]\n\"mediators.initial_activ\" = [1, 2]\n",
    );
    vomsim()
        .arg("sweep")
        .arg(&unknown)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("mediators.initial_activ"));
    let bad_shard = repo(POOL);
    vomsim()
        .arg("sweep")
        .arg(&bad_shard)
        .args(["--shard", "5/4"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--shard"));
}
