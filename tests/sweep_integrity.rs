//! Sweep integrity: `--resume` and `merge` use only fragments that match
//! the size and SHA-256 in their done markers; `merge` refuses overlapping
//! shards; and sweep-specific input (unknown parameters, a `--set` on a
//! swept key, Sobol's point count, `--reps`) is refused before any work,
//! leaving nothing on disk.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::{entries, repo, vomsim};
use predicates::prelude::*;

/// 15 points (5 x 3), a second each at 3 replications.
const POOL: &str = "scenarios/sweeps/mediator_pool.toml";
const FILES: [&str; 4] = [
    "summary.csv",
    "replications.csv",
    "diagnosis.csv",
    "points.csv",
];

fn sweep_args(dir: &Path, extra: &[&str]) -> assert_cmd::Command {
    let mut c = vomsim();
    c.args([
        "sweep",
        repo(POOL).to_str().unwrap(),
        "--reps",
        "3",
        "--threads",
        "2",
        "--quiet",
        "--out",
    ])
    .arg(dir)
    .args(extra);
    c
}

fn sweep(dir: &Path, extra: &[&str]) {
    sweep_args(dir, extra).assert().success();
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

fn fragment(dir: &Path, point: usize, kind: &str) -> PathBuf {
    dir.join("points")
        .join(format!("point-{point:06}.{kind}.csv"))
}

/// No temporary file of vomsim's anywhere under `dir`.
fn assert_no_partials(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".partial-"), "left behind: {name}");
        if entry.path().is_dir() {
            assert_no_partials(&entry.path());
        }
    }
}

/// The three kinds of damage: a cut mid-line, an emptied file, and one
/// value changed (one digit, so the size stays the same).
fn cut_mid_line(path: &Path) {
    let text = fs::read_to_string(path).unwrap();
    let mut end = text.len() / 2;
    while text.as_bytes()[end - 1] == b'\n' {
        end += 1;
    }
    fs::write(path, &text[..end]).unwrap();
}

fn empty(path: &Path) {
    fs::write(path, "").unwrap();
}

fn change_one_value(path: &Path) {
    let mut bytes = fs::read(path).unwrap();
    // The last character of a line that ends in a digit: a value.
    let at = (1..bytes.len())
        .find(|&i| bytes[i] == b'\n' && bytes[i - 1].is_ascii_digit())
        .expect("a line ending in a number")
        - 1;
    bytes[at] = if bytes[at] == b'9' {
        b'1'
    } else {
        bytes[at] + 1
    };
    fs::write(path, bytes).unwrap();
}

#[test]
fn resume_recomputes_damaged_points_to_identical_files() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, damaged) = (tmp.path().join("whole"), tmp.path().join("damaged"));
    sweep(&whole, &[]);
    sweep(&damaged, &[]);
    cut_mid_line(&fragment(&damaged, 1, "replications"));
    empty(&fragment(&damaged, 2, "summary"));
    change_one_value(&fragment(&damaged, 3, "replications"));
    change_one_value(&fragment(&damaged, 4, "diagnosis"));
    fs::remove_file(fragment(&damaged, 5, "summary")).unwrap();
    let before = fs::read(fragment(&damaged, 3, "replications")).unwrap();
    assert_ne!(
        before,
        fs::read(fragment(&whole, 3, "replications")).unwrap()
    );

    let output = sweep_args(&damaged, &["--resume"]).assert().success();
    let stderr = String::from_utf8(output.get_output().stderr.clone()).unwrap();
    let notes: Vec<&str> = stderr.lines().filter(|l| l.starts_with("note:")).collect();
    assert_eq!(notes.len(), 5, "one note per damaged point: {stderr}");
    for (point, file, why) in [
        (1, "point-000001.replications.csv", "bytes"),
        (2, "point-000002.summary.csv", "has 0 bytes"),
        (3, "point-000003.replications.csv", "SHA-256"),
        (4, "point-000004.diagnosis.csv", "SHA-256"),
        (5, "point-000005.summary.csv", "missing"),
    ] {
        assert!(
            notes.iter().any(|n| n.contains(&format!("point {point}:"))
                && n.contains(file)
                && n.contains(why)),
            "no note for point {point} ({file}, {why}): {stderr}"
        );
    }
    assert_same(&damaged, &whole);
    for point in 1..=5 {
        for kind in ["summary", "diagnosis", "replications"] {
            assert_eq!(
                fs::read(fragment(&damaged, point, kind)).unwrap(),
                fs::read(fragment(&whole, point, kind)).unwrap(),
                "point {point} {kind} recomputed"
            );
        }
    }
    assert_no_partials(tmp.path());

    // Now every point checks: a second resume recomputes nothing.
    sweep_args(&damaged, &["--resume"])
        .assert()
        .success()
        .stderr(predicate::str::contains("note:").not());
    assert_same(&damaged, &whole);
}

#[test]
fn resume_recomputes_points_with_markers_of_an_older_vomsim() {
    let tmp = tempfile::tempdir().unwrap();
    let (whole, old) = (tmp.path().join("whole"), tmp.path().join("old"));
    sweep(&whole, &[]);
    sweep(&old, &[]);
    // Before checksums, a done marker was an empty file; tamper with a
    // value too, which such a marker cannot reveal.
    for point in [0, 7] {
        fs::write(
            old.join("points").join(format!("point-{point:06}.done")),
            "",
        )
        .unwrap();
    }
    change_one_value(&fragment(&old, 7, "summary"));
    sweep_args(&old, &["--resume"]).assert().success().stderr(
        predicate::str::contains("recomputing 2 finished points (e.g. 0, 7)")
            .and(predicate::str::contains("older vomsim")),
    );
    assert_same(&old, &whole);
    sweep_args(&old, &["--resume"])
        .assert()
        .success()
        .stderr(predicate::str::contains("note:").not());
}

/// Runs `merge` expecting a refusal: exit 2, the message parts, and no
/// output folder (nor a temporary one) beside the shards.
fn assert_merge_refused(tmp: &Path, shards: &[&Path], parts: &[&str]) {
    let out = tmp.join("merged");
    let before = entries(tmp);
    let output = vomsim()
        .arg("merge")
        .args(shards)
        .arg("--out")
        .arg(&out)
        .assert()
        .code(2);
    let stderr = String::from_utf8(output.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one paragraph: {stderr}");
    for part in parts {
        assert!(stderr.contains(part), "`{part}` not in: {stderr}");
    }
    assert!(!out.exists(), "no output folder after a refusal");
    assert_eq!(entries(tmp), before, "nothing added beside the shards");
}

#[test]
fn merge_refuses_damaged_and_short_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let whole = tmp.path().join("whole");
    sweep(&whole, &[]);
    let (one, two) = (tmp.path().join("shard-1"), tmp.path().join("shard-2"));
    sweep(&one, &["--shard", "1/2"]);
    sweep(&two, &["--shard", "2/2"]);
    let target = fragment(&two, 3, "replications");
    let good = fs::read_to_string(&target).unwrap();

    // A fragment missing 1,244 whole rows: every line is well formed.
    let lines: Vec<&str> = good.lines().collect();
    assert!(lines.len() > 2000, "{}", lines.len());
    let short: String = lines[..lines.len() - 1244]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&target, short).unwrap();
    assert_merge_refused(
        tmp.path(),
        &[&one, &two],
        &[
            "shard folder",
            &two.display().to_string(),
            "point 3",
            &target.display().to_string(),
            "damaged",
            "--resume",
        ],
    );
    for (damage, why) in [
        (cut_mid_line as fn(&Path), "bytes"),
        (empty, "has 0 bytes"),
        (change_one_value, "SHA-256"),
    ] {
        fs::write(&target, &good).unwrap();
        damage(&target);
        assert_merge_refused(
            tmp.path(),
            &[&one, &two],
            &["point 3", &target.display().to_string(), why],
        );
    }
    // A missing fragment is named itself, not as the merged file.
    fs::remove_file(&target).unwrap();
    assert_merge_refused(
        tmp.path(),
        &[&one, &two],
        &[&target.display().to_string(), "missing"],
    );

    // Resuming the damaged shard repairs it; the merge is then whole.
    sweep_args(&two, &["--shard", "2/2", "--resume"])
        .assert()
        .success()
        .stderr(predicate::str::contains("recomputing point 3"));
    let merged = tmp.path().join("merged");
    vomsim()
        .arg("merge")
        .args([&one, &two])
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_same(&merged, &whole);
    assert_no_partials(tmp.path());
}

#[test]
fn merge_refuses_overlapping_shards() {
    let tmp = tempfile::tempdir().unwrap();
    let shard = |k: usize, n: usize| {
        let dir = tmp.path().join(format!("shard-{k}-of-{n}"));
        sweep(&dir, &["--shard", &format!("{k}/{n}")]);
        dir
    };
    let (a, b, c) = (shard(1, 2), shard(2, 2), shard(2, 3));
    // In any order, naming the two overlapping shards.
    for order in [[&a, &b, &c], [&c, &a, &b], [&b, &c, &a]] {
        let shards: Vec<&Path> = order.iter().map(|p| p.as_path()).collect();
        assert_merge_refused(tmp.path(), &shards, &["overlap", "shard 2/3"]);
    }
    assert_merge_refused(
        tmp.path(),
        &[&a, &b, &c],
        &["shard 2/2", "shard 2/3", "both hold point 1"],
    );
    // The same shard in two folders.
    let copy = tmp.path().join("copy-of-2-of-2");
    fs::create_dir_all(copy.join("points")).unwrap();
    for entry in fs::read_dir(&b).unwrap().flatten() {
        if entry.path().is_file() {
            fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
        }
    }
    for entry in fs::read_dir(b.join("points")).unwrap().flatten() {
        fs::copy(entry.path(), copy.join("points").join(entry.file_name())).unwrap();
    }
    assert_merge_refused(
        tmp.path(),
        &[&a, &b, &copy],
        &["same shard (shard 2/2) given twice"],
    );
    // The same folder twice (by another spelling of its path).
    let again = tmp.path().join(".").join("shard-1-of-2");
    assert_merge_refused(tmp.path(), &[&a, &b, &again], &["given twice"]);

    // Shards of different splits that do not overlap still merge:
    // 1/2 (even points), 2/4 and 4/4 (the odd ones).
    let (d, e) = (shard(2, 4), shard(4, 4));
    let whole = tmp.path().join("whole");
    sweep(&whole, &[]);
    let merged = tmp.path().join("merged");
    vomsim()
        .arg("merge")
        .args([&e, &a, &d])
        .arg("--out")
        .arg(&merged)
        .assert()
        .success();
    assert_same(&merged, &whole);
}

/// A sweep file: `vors_la` with this `[sweep]` table.
fn write_sweep(dir: &Path, name: &str, sweep_table: &str) -> PathBuf {
    let text = fs::read_to_string(repo("scenarios/vors_la.toml")).unwrap();
    let path = dir.join(name);
    fs::write(&path, format!("{text}\n{sweep_table}")).unwrap();
    path
}

/// Runs a sweep expecting a refusal before any work: exit 2, one line
/// naming `parts`, and nothing new in the folder.
fn assert_sweep_refused(tmp: &Path, file: &Path, extra: &[&str], parts: &[&str]) -> String {
    let out = tmp.join("out");
    let before = entries(tmp);
    let output = vomsim()
        .arg("sweep")
        .arg(file)
        .args(["--quiet", "--out"])
        .arg(&out)
        .args(extra)
        .assert()
        .code(2);
    let stderr = String::from_utf8(output.get_output().stderr.clone()).unwrap();
    assert_eq!(stderr.lines().count(), 1, "one paragraph: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    for part in parts {
        assert!(stderr.contains(part), "`{part}` not in: {stderr}");
    }
    assert!(!out.exists(), "nothing written for a refused sweep");
    assert_eq!(entries(tmp), before, "nothing new on disk");
    stderr
}

#[test]
fn an_unknown_sweep_parameter_is_named_as_one() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_sweep(
        tmp.path(),
        "typo.toml",
        "[sweep.parameters]\n\"mediators.initial_activ\" = [10, 20]\n",
    );
    let stderr = assert_sweep_refused(
        tmp.path(),
        &file,
        &[],
        &[
            "typo.toml",
            "unknown sweep parameter `mediators.initial_activ`",
            "[sweep.parameters]",
            "did you mean `mediators.initial_active`?",
        ],
    );
    assert!(!stderr.contains("--set"), "not a --set: {stderr}");
    // A typo in the table's part of the key: the whole key is suggested.
    let file = write_sweep(
        tmp.path(),
        "typo2.toml",
        "[sweep.parameters]\n\"mediatorz.initial_active\" = [10, 20]\n",
    );
    assert_sweep_refused(
        tmp.path(),
        &file,
        &[],
        &[
            "unknown sweep parameter `mediatorz.initial_active`",
            "did you mean `mediators.initial_active`?",
        ],
    );
}

#[test]
fn a_set_on_a_swept_key_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = repo(POOL);
    assert_sweep_refused(
        tmp.path(),
        &file,
        &["--set", "mediators.initial_active=5"],
        &[
            "--set mediators.initial_active=5",
            "`mediators.initial_active` is varied by the sweep",
        ],
    );
    // A --set on a key the sweep does not vary is still applied.
    let out = tmp.path().join("ok");
    vomsim()
        .arg("sweep")
        .arg(&file)
        .args([
            "--reps",
            "2",
            "--quiet",
            "--set",
            "referrals.per_month=20",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let manifest = fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("referrals.per_month=20"), "{manifest}");
}

#[test]
fn a_sobol_sweep_over_the_point_cap_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let keys = [
        "referrals.per_month",
        "consent.victim_probability",
        "mediators.premeeting_hours",
        "recidivism.baseline_rearrest_12m",
        "treatment.hazard_ratio_initial",
        "treatment.half_life_months",
        "recidivism.risk_log_hr",
        "consent.victim_risk_log_odds",
        "mediators.initial_active",
    ];
    let parameters: String = keys
        .iter()
        .map(|k| format!("\"{k}\" = {{ low = 0.1, high = 0.2 }}\n"))
        .collect();
    let file = write_sweep(
        tmp.path(),
        "sobol.toml",
        &format!(
            "[sweep]\ndesign = \"sobol\"\nbase_samples = 100000\noutputs = [\"rearrest,referred,12\"]\n[sweep.parameters]\n{parameters}"
        ),
    );
    assert_sweep_refused(
        tmp.path(),
        &file,
        &[],
        &[
            "sobol.toml",
            "sweep.base_samples = 100000",
            "1100000 points",
            "limit of 1000000 points",
            "at most 90909",
        ],
    );
}

#[test]
fn reps_beyond_the_sweep_limits_are_refused_before_work() {
    let tmp = tempfile::tempdir().unwrap();
    let file = repo(POOL);
    // 15 points x 10^9: over the total, and over the memory limit.
    assert_sweep_refused(
        tmp.path(),
        &file,
        &["--reps", "1000000000"],
        &[
            "--reps = 1000000000",
            "15 points x 1000000000 replications = 15000000000 replications",
            "limit 1000000000",
            "TiB of values at once",
            "limit 4.0 GiB",
            "--shard",
        ],
    );
    // One point (a shard of 15) under the total, but its replications'
    // values would not fit in memory.
    assert_sweep_refused(
        tmp.path(),
        &file,
        &["--reps", "2000000", "--shard", "1/15"],
        &[
            "1 point of shard 1/15 x 2000000 replications",
            "GiB of values at once (limit 4.0 GiB)",
        ],
    );
}

/// A small sweep (three points of a two-month program, a fraction of a
/// second at 2 replications) varying burglary's consent odds over `values`.
fn small_sweep(dir: &Path, name: &str, values: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(
        &path,
        format!(
            "name = \"x\"\n[simulation]\nintake_months = 2\n[referrals]\nper_month = 8\n\
             [sweep]\ndesign = \"grid\"\n[sweep.parameters]\n\
             \"consent.victim_offense_log_odds.burglary\" = {values}\n"
        ),
    )
    .unwrap();
    path
}

fn small_args(file: &Path, out: &Path, extra: &[&str]) -> assert_cmd::Command {
    let mut c = vomsim();
    c.arg("sweep")
        .arg(file)
        .args(["--reps", "2", "--threads", "2", "--quiet", "--out"])
        .arg(out)
        .args(extra);
    c
}

/// Copies point `from`'s fragments (and marker, if `marker`) of `source`
/// over point `to`'s in `dir`.
fn copy_point(source: &Path, from: usize, dir: &Path, to: usize, marker: bool) {
    for kind in ["summary", "diagnosis", "replications"] {
        fs::copy(fragment(source, from, kind), fragment(dir, to, kind)).unwrap();
    }
    if marker {
        fs::copy(
            source.join("points").join(format!("point-{from:06}.done")),
            dir.join("points").join(format!("point-{to:06}.done")),
        )
        .unwrap();
    }
}

fn copy_folder(from: &Path, to: &Path) {
    fs::create_dir_all(to.join("points")).unwrap();
    for sub in ["", "points"] {
        for entry in fs::read_dir(from.join(sub)).unwrap().flatten() {
            if entry.path().is_file() {
                fs::copy(entry.path(), to.join(sub).join(entry.file_name())).unwrap();
            }
        }
    }
}

#[test]
fn a_point_copied_from_another_sweep_is_refused_by_merge_and_recomputed_by_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let ours = small_sweep(tmp.path(), "s.toml", "[-1.0, -0.5, 0.0]");
    let theirs = small_sweep(tmp.path(), "s2.toml", "[-3.0, -0.5, 0.0]");
    let whole = tmp.path().join("whole");
    small_args(&ours, &whole, &[]).assert().success();
    let shards: Vec<PathBuf> = (1..=3)
        .map(|k| {
            let dir = tmp.path().join(format!("sh{k}"));
            small_args(&ours, &dir, &["--shard", &format!("{k}/3")])
                .assert()
                .success();
            dir
        })
        .collect();
    let other = tmp.path().join("x1");
    small_args(&theirs, &other, &["--shard", "1/3"])
        .assert()
        .success();
    // Another sweep's point 0 (burglary -3.0), files and marker, in shard 1.
    let d9 = tmp.path().join("d9");
    copy_folder(&shards[0], &d9);
    copy_point(&other, 0, &d9, 0, true);
    // The same sweep with another seed: its point 0 has the same values.
    let seeded = tmp.path().join("seeded");
    small_args(&ours, &seeded, &["--shard", "1/3", "--seed", "7"])
        .assert()
        .success();
    let d10 = tmp.path().join("d10");
    copy_folder(&shards[0], &d10);
    copy_point(&seeded, 0, &d10, 0, true);
    for (dir, why) in [(&d9, "another sweep file"), (&d10, "seed 7, not ")] {
        assert_merge_refused(
            tmp.path(),
            &[dir, &shards[1], &shards[2]],
            &[
                &format!("shard folder {} (shard 1/3), point 0", dir.display()),
                "was written by another sweep",
                why,
                "--resume",
            ],
        );
        small_args(&ours, dir, &["--shard", "1/3", "--resume"])
            .assert()
            .success()
            .stderr(
                predicate::str::contains("note: recomputing point 0:")
                    .and(predicate::str::contains("another sweep"))
                    .and(predicate::str::contains(why)),
            );
        let merged = tmp.path().join("merged");
        vomsim()
            .arg("merge")
            .args([dir, &shards[1], &shards[2]])
            .arg("--out")
            .arg(&merged)
            .assert()
            .success();
        assert_same(&merged, &whole);
        fs::remove_dir_all(&merged).unwrap();
    }
    assert_no_partials(tmp.path());
}

#[test]
fn a_point_copied_from_another_point_is_refused_by_merge_and_recomputed_by_resume() {
    let tmp = tempfile::tempdir().unwrap();
    let ours = small_sweep(tmp.path(), "s.toml", "[-1.0, -0.5, 0.0]");
    let whole = tmp.path().join("whole");
    small_args(&ours, &whole, &[]).assert().success();
    let (one, two) = (tmp.path().join("sh1"), tmp.path().join("sh2"));
    small_args(&ours, &one, &["--shard", "1/2"])
        .assert()
        .success();
    small_args(&ours, &two, &["--shard", "2/2"])
        .assert()
        .success();
    let marker = |dir: &Path, p: usize| dir.join("points").join(format!("point-{p:06}.done"));
    let point_1 = fs::read_to_string(marker(&two, 1)).unwrap();
    assert!(point_1.contains("\"point\":1"), "{point_1}");
    assert!(point_1.contains("\"values\":[\"-0.5\"]"), "{point_1}");
    let claims_0 = point_1.replace("\"point\":1", "\"point\":0");
    // Point 1's files over point 0's; the marker unchanged, claiming point
    // 0 by its index, or by its index and values.
    let summary_0 = fragment(&one, 0, "summary").display().to_string();
    for (text, parts) in [
        (
            point_1.clone(),
            vec!["point 0", "is point 1's, not point 0's"],
        ),
        (
            claims_0.clone(),
            vec![
                "point 0",
                "parameter values -0.5, but this point's are -1.0",
            ],
        ),
        (
            claims_0.replace("\"values\":[\"-0.5\"]", "\"values\":[\"-1.0\"]"),
            vec![
                "point 0",
                "row 1 of ",
                &summary_0,
                "starts with 1,-0.5, not with this point's columns 0,-1.0",
            ],
        ),
    ] {
        copy_point(&two, 1, &one, 0, false);
        fs::write(marker(&one, 0), &text).unwrap();
        let mut all = parts.clone();
        all.push("(shard 1/2)");
        assert_merge_refused(tmp.path(), &[&one, &two], &all);
        let output = small_args(&ours, &one, &["--shard", "1/2", "--resume"])
            .assert()
            .success();
        let stderr = String::from_utf8(output.get_output().stderr.clone()).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("note: recomputing point 0:"), "{stderr}");
        for part in &parts[1..] {
            assert!(stderr.contains(part), "`{part}` not in: {stderr}");
        }
        let merged = tmp.path().join("merged");
        vomsim()
            .arg("merge")
            .args([&one, &two])
            .arg("--out")
            .arg(&merged)
            .assert()
            .success();
        assert_same(&merged, &whole);
        fs::remove_dir_all(&merged).unwrap();
    }
    assert_no_partials(tmp.path());
}

#[test]
fn keys_that_are_not_model_parameters_cannot_be_swept() {
    let tmp = tempfile::tempdir().unwrap();
    for (key, values, why) in [
        ("simulation.seed", "[1, 2]", "--seed"),
        ("simulation.replications", "[1, 3]", "--reps"),
        ("name", "[\"a\", \"b\"]", "name and description"),
        ("description", "[\"a\", \"b\"]", "name and description"),
    ] {
        let file = tmp.path().join("k.toml");
        fs::write(
            &file,
            format!(
                "name = \"x\"\n[simulation]\nintake_months = 2\n[sweep.parameters]\n\"{key}\" = {values}\n"
            ),
        )
        .unwrap();
        assert_sweep_refused(
            tmp.path(),
            &file,
            &["--reps", "2"],
            &[
                "k.toml",
                &format!("sweep.parameters.\"{key}\" = {values} cannot be swept"),
                "not part of it",
                why,
                &format!("remove \"{key}\" from [sweep.parameters]"),
            ],
        );
        vomsim()
            .arg("validate")
            .arg(&file)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("cannot be swept"));
        fs::remove_file(&file).unwrap();
    }
    // The program's length is a model parameter: it may be swept.
    let file = tmp.path().join("months.toml");
    fs::write(
        &file,
        "name = \"x\"\n[referrals]\nper_month = 8\n[sweep.parameters]\n\"simulation.intake_months\" = [1, 2]\n",
    )
    .unwrap();
    let out = tmp.path().join("months");
    small_args(&file, &out, &[]).assert().success();
    let points = fs::read_to_string(out.join("points.csv")).unwrap();
    assert_eq!(points, "point,simulation.intake_months\n0,1\n1,2\n");
}

#[test]
fn a_grid_over_the_point_cap_is_refused_in_plain_words() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_sweep(
        tmp.path(),
        "grid.toml",
        "[sweep.parameters]\n\
         \"referrals.per_month\" = { start = 10, stop = 20, steps = 1000 }\n\
         \"consent.victim_probability\" = { start = 0.3, stop = 0.7, steps = 1000 }\n\
         \"mediation.agreement_probability\" = { start = 0.3, stop = 0.7, steps = 1000 }\n",
    );
    assert_sweep_refused(
        tmp.path(),
        &file,
        &[],
        &[
            "grid.toml: sweep.parameters = a grid of 1000 x 1000 x 1000 = 1000000000 points \
             is too large: a sweep may have at most 1000000 points",
        ],
    );
}
