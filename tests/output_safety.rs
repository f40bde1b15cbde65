//! Output-folder safety (issue 12): `--force` replaces only vomsim's own
//! folders with nothing added; an output is never, never holds and never
//! lies inside an input; a replacement killed between its two renames is
//! finished on the next run; staging folders and temporary files of killed
//! processes are removed only when vomsim provably made them; bad output
//! paths are refused before any work, with exit code 2.
//!
//! Each test runs the binary and checks the exit code, the message, and
//! the disk afterwards: the user's files byte for byte, no `.partial`
//! left-overs.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{entries, repo, vomsim};

const VORS: &str = "scenarios/vors_la.toml";
const POOL: &str = "scenarios/sweeps/mediator_pool.toml";
const TARGETS: &str = "tests/targets/vors_la.csv";
/// A small run: a fraction of a second.
const SMALL: [&str; 7] = [
    "--reps",
    "2",
    "--set",
    "referrals.per_month=8",
    "--set",
    "simulation.intake_months=2",
    "--quiet",
];
/// A run that would take many seconds: a refusal that comes within a
/// couple of seconds came before the work. (Within the memory limit even
/// for calibrate's 4 x --reps verification, about 1,500 values kept per
/// replication.)
const LONG: [&str; 3] = ["--reps", "60000", "--quiet"];
/// A tiny calibration.
const CALIBRATE: [&str; 13] = [
    "--fit",
    "recidivism.baseline_rearrest_12m=0.05..0.5",
    "--reps",
    "2",
    "--verify-reps",
    "2",
    "--max-evaluations",
    "3",
    "--set",
    "referrals.per_month=8",
    "--set",
    "simulation.intake_months=2",
    "--quiet",
];

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs vomsim with `args`; asserts success.
fn ok(args: &[&str]) {
    let output = vomsim().args(args).output().unwrap();
    assert!(
        output.status.success(),
        "vomsim {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs vomsim with `args`; asserts exit code 2 within `limit`, and that
/// stderr holds every one of `expected`. Returns stderr.
fn refused_within(args: &[&str], expected: &[&str], limit: Duration) -> String {
    let started = Instant::now();
    let output: Output = vomsim().args(args).output().unwrap();
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(2),
        "vomsim {}: {stderr}",
        args.join(" ")
    );
    for e in expected {
        assert!(
            stderr.contains(e),
            "vomsim {}: {stderr}\nlacks {e:?}",
            args.join(" ")
        );
    }
    assert!(
        elapsed < limit,
        "vomsim {}: refused only after {elapsed:?}: after the work",
        args.join(" ")
    );
    stderr
}

fn refused(args: &[&str], expected: &[&str]) -> String {
    refused_within(args, expected, Duration::from_secs(30))
}

/// Every file under `root` (relative path -> bytes; folders as `None`).
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, Option<Vec<u8>>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let relative = path.strip_prefix(root).unwrap().to_path_buf();
            let kind = fs::symlink_metadata(&path).unwrap().file_type();
            if kind.is_dir() {
                into.insert(relative, None);
                walk(root, &path, into);
            } else if kind.is_symlink() {
                let target = fs::read_link(&path).unwrap();
                into.insert(relative, Some(target.to_string_lossy().as_bytes().to_vec()));
            } else {
                into.insert(relative, Some(fs::read(&path).unwrap()));
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(root, root, &mut files);
    files
}

/// Asserts that nothing under `root` is a staging folder, an aside folder
/// or a temporary file of vomsim's.
fn assert_no_partials(root: &Path) {
    let left: Vec<String> = snapshot(root)
        .keys()
        .map(|p| p.display().to_string())
        .filter(|p| p.contains(".partial") || p.contains(".vomsim-staging"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// The PID of a process that has exited.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn run_into(out: &Path, extra: &[&str]) {
    let mut args = vec!["run", VORS_PATH.as_str()];
    args.extend(SMALL);
    args.extend(extra);
    args.extend(["--out", path(out)]);
    ok(&args);
}

fn sweep_into(out: &Path, extra: &[&str]) {
    let pool = repo(POOL);
    let mut args = vec!["sweep", path(&pool)];
    args.extend(SMALL);
    args.extend(extra);
    args.extend(["--out", path(out)]);
    ok(&args);
}

static VORS_PATH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| repo(VORS).to_str().unwrap().to_string());

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap()
}

// 1. --force replaces only vomsim's own folders, with nothing added.

#[test]
fn force_refuses_a_folder_whose_manifest_vomsim_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let ext = tmp.path().join("ext");
    fs::create_dir_all(ext.join("src")).unwrap();
    fs::write(ext.join("manifest.json"), "{\"manifest_version\":3}\n").unwrap();
    fs::write(ext.join("src/background.js"), "x\n").unwrap();
    let before = snapshot(tmp.path());
    let vors = repo(VORS);
    let pool = repo(POOL);
    let expected = [
        "ext",
        "manifest.json was not written by vomsim",
        "manifest_version",
        "--force replaces only vomsim's own output folders",
    ];
    let mut run = vec!["run", path(&vors)];
    run.extend(SMALL);
    run.extend(["--out", path(&ext), "--force"]);
    refused(&run, &expected);
    let mut sweep = vec!["sweep", path(&pool)];
    sweep.extend(SMALL);
    sweep.extend(["--out", path(&ext), "--force"]);
    refused(&sweep, &expected);
    let mut size = vec![
        "size",
        path(&vors),
        "--wait-days",
        "30",
        "--quantile",
        "0.9",
    ];
    size.extend(SMALL);
    size.extend(["--out", path(&ext), "--force"]);
    refused(&size, &expected);
    assert_eq!(snapshot(tmp.path()), before, "the folder is untouched");
}

#[test]
fn force_refuses_vomsim_folders_with_anything_added() {
    let tmp = tempfile::tempdir().unwrap();
    let vors = repo(VORS);
    let pool = repo(POOL);

    // A run folder with a file, then a folder, added.
    let run = tmp.path().join("run");
    run_into(&run, &[]);
    let mut again = vec!["run", path(&vors)];
    again.extend(SMALL);
    again.extend(["--out", path(&run), "--force"]);
    fs::write(run.join("notes.txt"), "my notes").unwrap();
    let before = snapshot(tmp.path());
    refused(
        &again,
        &[
            "it holds `notes.txt`, which vomsim did not write",
            "--force replaces only vomsim's own output folders",
        ],
    );
    assert_eq!(snapshot(tmp.path()), before);
    fs::remove_file(run.join("notes.txt")).unwrap();
    fs::create_dir(run.join("src")).unwrap();
    fs::write(run.join("src/main.rs"), "fn main() {}").unwrap();
    let before = snapshot(tmp.path());
    refused(&again, &["it holds `src`"]);
    assert_eq!(snapshot(tmp.path()), before);

    // A file that only looks like vomsim's (a symbolic link).
    fs::remove_dir_all(run.join("src")).unwrap();
    fs::remove_file(run.join("summary.csv")).unwrap();
    std::os::unix::fs::symlink(tmp.path().join("elsewhere.csv"), run.join("summary.csv")).unwrap();
    refused(&again, &["it holds `summary.csv`"]);

    // A sweep folder with a file added at the top and in points/.
    let sweep = tmp.path().join("sweep");
    sweep_into(&sweep, &[]);
    let mut force_sweep = vec!["sweep", path(&pool)];
    force_sweep.extend(SMALL);
    force_sweep.extend(["--out", path(&sweep), "--force"]);
    fs::write(sweep.join("thesis.tex"), "years of work").unwrap();
    let before = snapshot(tmp.path());
    refused(&force_sweep, &["it holds `thesis.tex`"]);
    assert_eq!(snapshot(tmp.path()), before);
    fs::remove_file(sweep.join("thesis.tex")).unwrap();
    fs::write(sweep.join("points/mine.txt"), "mine").unwrap();
    let before = snapshot(tmp.path());
    refused(&force_sweep, &["it holds `points/mine.txt`"]);
    assert_eq!(snapshot(tmp.path()), before);

    // An unfinished sweep (sweep.json, no manifest.json) with a file added.
    fs::remove_file(sweep.join("points/mine.txt")).unwrap();
    fs::remove_file(sweep.join("manifest.json")).unwrap();
    fs::write(sweep.join("data.csv"), "a,b\n").unwrap();
    refused(&force_sweep, &["it holds `data.csv`"]);
    // A sweep.json vomsim did not write.
    fs::remove_file(sweep.join("data.csv")).unwrap();
    fs::write(sweep.join("sweep.json"), "{\"name\":\"mine\"}").unwrap();
    refused(&force_sweep, &["sweep.json was not written by vomsim"]);

    // size folders: size.csv with vomsim's header, and nothing else.
    let size = tmp.path().join("size");
    fs::create_dir(&size).unwrap();
    fs::write(size.join("size.csv"), "my,own,table\n1,2,3\n").unwrap();
    let mut force_size = vec![
        "size",
        path(&vors),
        "--wait-days",
        "30",
        "--quantile",
        "0.9",
    ];
    force_size.extend(SMALL);
    force_size.extend(["--out", path(&size), "--force"]);
    let before = snapshot(tmp.path());
    refused(&force_size, &["size.csv was not written by vomsim"]);
    assert_eq!(snapshot(tmp.path()), before);
    fs::write(
        size.join("size.csv"),
        "value,active_mediators_mean,wait_days_q,returned_share,meets_target\n",
    )
    .unwrap();
    fs::write(size.join("budget.xlsx"), "numbers").unwrap();
    let before = snapshot(tmp.path());
    refused(&force_size, &["it holds `budget.xlsx`"]);
    assert_eq!(snapshot(tmp.path()), before);

    // compare folders.
    let (a, b, cmp) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("cmp"),
    );
    run_into(&a, &[]);
    run_into(&b, &["--seed", "7"]);
    ok(&["compare", path(&a), path(&b), "--out", path(&cmp)]);
    fs::write(cmp.join("slides.pptx"), "slides").unwrap();
    let before = snapshot(tmp.path());
    refused(
        &[
            "compare",
            path(&a),
            path(&b),
            "--out",
            path(&cmp),
            "--force",
        ],
        &["it holds `slides.pptx`"],
    );
    assert_eq!(snapshot(tmp.path()), before);
    assert_no_partials(tmp.path());
}

#[test]
fn force_replaces_vomsim_folders_and_empty_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let vors = repo(VORS);

    // A run folder, with the report vomsim wrote into it; an empty folder.
    let run = tmp.path().join("run");
    run_into(&run, &["--agents"]);
    assert_eq!(
        manifest(&run)["files"],
        serde_json::json!([
            "summary.csv",
            "replications.csv",
            "diagnosis.csv",
            "agents.csv",
            "manifest.json"
        ])
    );
    ok(&["report", path(&run)]);
    run_into(&run, &["--force", "--seed", "5"]);
    assert_eq!(manifest(&run)["seed"], 5);
    assert!(!run.join("agents.csv").exists(), "replaced, not merged");
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    run_into(&empty, &["--force"]);
    assert!(empty.join("summary.csv").is_file());

    // A sweep folder, with its report; then one stopped before its final
    // files (only sweep.json, sweep.toml and points/).
    let sweep = tmp.path().join("sweep");
    sweep_into(&sweep, &[]);
    let mut listed: Vec<String> = manifest(&sweep)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect();
    listed.push("points".to_string());
    listed.sort();
    assert_eq!(entries(&sweep), listed, "the manifest lists the folder");
    ok(&["report", path(&sweep)]);
    sweep_into(&sweep, &["--force"]);
    for name in [
        "manifest.json",
        "summary.csv",
        "points.csv",
        "replications.csv",
        "diagnosis.csv",
    ] {
        fs::remove_file(sweep.join(name)).unwrap();
    }
    sweep_into(&sweep, &["--force"]);
    assert!(sweep.join("manifest.json").is_file());

    // size and compare folders.
    let size = tmp.path().join("size");
    let mut sizing = vec![
        "size",
        path(&vors),
        "--wait-days",
        "30",
        "--quantile",
        "0.9",
    ];
    sizing.extend(SMALL);
    sizing.extend(["--out", path(&size)]);
    ok(&sizing);
    sizing.push("--force");
    ok(&sizing);
    assert_eq!(entries(&size), ["manifest.json", "size.csv"]);
    let (a, b, cmp) = (
        tmp.path().join("a"),
        tmp.path().join("b"),
        tmp.path().join("cmp"),
    );
    run_into(&a, &[]);
    run_into(&b, &["--seed", "7"]);
    ok(&["compare", path(&a), path(&b), "--out", path(&cmp)]);
    assert_eq!(
        manifest(&cmp)["files"],
        serde_json::json!(["compare.csv", "manifest.json"])
    );
    ok(&[
        "compare",
        path(&a),
        path(&b),
        "--out",
        path(&cmp),
        "--force",
    ]);

    // merge folders: shards, then the merge replaced by a merge.
    let mut shards = Vec::new();
    for k in 1..=3 {
        let shard = tmp.path().join(format!("shard-{k}"));
        sweep_into(&shard, &["--shard", &format!("{k}/3")]);
        shards.push(shard);
    }
    let merged = tmp.path().join("merged");
    let mut merge: Vec<&str> = vec!["merge"];
    merge.extend(shards.iter().map(|s| path(s)));
    merge.extend(["--out", path(&merged)]);
    ok(&merge);
    merge.push("--force");
    ok(&merge);
    assert_no_partials(tmp.path());
}

// 2. An output is never, never holds and never lies inside an input.

#[test]
fn outputs_never_overlap_inputs() {
    let tmp = tempfile::tempdir().unwrap();
    let t = |name: &str| tmp.path().join(name);

    // merge sh1 sh2 sh3 --out sh1 --force (and inside a shard, and above).
    let mut shards = Vec::new();
    for k in 1..=3 {
        let shard = t(&format!("sh{k}"));
        sweep_into(&shard, &["--shard", &format!("{k}/3")]);
        shards.push(shard);
    }
    let shard_args: Vec<&str> = shards.iter().map(|s| path(s)).collect();
    let before = snapshot(tmp.path());
    for (out, relation) in [
        (shards[0].clone(), "is"),
        (shards[1].join("merged"), "lies inside"),
        (tmp.path().to_path_buf(), "holds"),
    ] {
        let mut merge = vec!["merge"];
        merge.extend(&shard_args);
        merge.extend(["--out", path(&out), "--force"]);
        refused(
            &merge,
            &[
                &format!("{}: this output {relation} ", out.display()),
                "the command's shard folder",
                "choose another --out",
            ],
        );
    }
    assert_eq!(snapshot(tmp.path()), before, "the shards are untouched");

    // compare A B --out A --force, and a folder inside B.
    let (a, b) = (t("A"), t("B"));
    run_into(&a, &[]);
    run_into(&b, &["--seed", "3"]);
    let before = snapshot(tmp.path());
    refused(
        &["compare", path(&a), path(&b), "--out", path(&a), "--force"],
        &[&format!(
            "{0}: this output is {0}, the command's run folder A",
            a.display()
        )],
    );
    refused(
        &["compare", path(&a), path(&b), "--out", path(&b.join("cmp"))],
        &["this output lies inside", "the command's run folder B"],
    );
    assert_eq!(snapshot(tmp.path()), before);

    // run / size / sweep with the scenario or sweep file inside --out,
    // directly, and through a symbolic link.
    let r = t("R");
    fs::create_dir(&r).unwrap();
    fs::copy(repo(VORS), r.join("my.toml")).unwrap();
    fs::copy(repo(POOL), r.join("sweep.toml")).unwrap();
    std::os::unix::fs::symlink(&r, t("link")).unwrap();
    let before = snapshot(tmp.path());
    let scenario = r.join("my.toml");
    let sweep_file = r.join("sweep.toml");
    for out in [r.clone(), t("link")] {
        let mut run = vec!["run", path(&scenario)];
        run.extend(LONG);
        run.extend(["--out", path(&out), "--force"]);
        refused_within(
            &run,
            &[
                &format!(
                    "{}: this output holds {}",
                    out.display(),
                    scenario.display()
                ),
                "the command's scenario file",
            ],
            Duration::from_secs(5),
        );
        let mut size = vec![
            "size",
            path(&scenario),
            "--wait-days",
            "30",
            "--quantile",
            "0.9",
        ];
        size.extend(LONG);
        size.extend(["--out", path(&out), "--force"]);
        refused_within(
            &size,
            &["the command's scenario file"],
            Duration::from_secs(5),
        );
        let mut sweep = vec!["sweep", path(&sweep_file)];
        sweep.extend(LONG);
        sweep.extend(["--out", path(&out), "--force"]);
        refused_within(
            &sweep,
            &["the command's sweep file"],
            Duration::from_secs(5),
        );
    }
    // The scenario given as the output itself.
    let mut run = vec!["run", path(&scenario)];
    run.extend(LONG);
    run.extend(["--out", path(&scenario), "--force"]);
    refused_within(&run, &["this output is"], Duration::from_secs(5));
    assert_eq!(snapshot(tmp.path()), before, "the inputs are untouched");
    assert_no_partials(tmp.path());
}

/// `vomsim calibrate SCENARIO --targets TARGETS (tiny) --out OUT EXTRA...`.
fn calibration(scenario: &Path, targets: &Path, out: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["calibrate", path(scenario), "--targets", path(targets)];
    args.extend(CALIBRATE);
    args.extend(["--out", path(out)]);
    args.extend(extra);
    args.into_iter().map(String::from).collect()
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn calibrate_never_overwrites_its_inputs_or_files_it_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let vors = repo(VORS);
    let targets = tmp.path().join("t.csv");
    fs::copy(repo(TARGETS), &targets).unwrap();
    let dir = tmp.path().join("cal");
    fs::create_dir(&dir).unwrap();
    let fit = dir.join("fit.toml");
    let beside = dir.join("calibration.csv");

    // Its targets file as --out, and as the calibration.csv beside --out;
    // its scenario file as --out.
    let before = snapshot(tmp.path());
    refused(
        &refs(&calibration(&vors, &targets, &targets, &["--force"])),
        &[&format!(
            "{0}: this output is {0}, the command's targets file",
            targets.display()
        )],
    );
    fs::copy(repo(TARGETS), &beside).unwrap();
    refused(
        &refs(&calibration(&vors, &beside, &fit, &["--force"])),
        &[&format!(
            "{0}: this output is {0}, the command's targets file",
            beside.display()
        )],
    );
    fs::remove_file(&beside).unwrap();
    let scenario = tmp.path().join("s.toml");
    fs::copy(repo(VORS), &scenario).unwrap();
    refused(
        &refs(&calibration(&scenario, &targets, &scenario, &["--force"])),
        &["this output is", "the command's scenario file"],
    );
    fs::remove_file(&scenario).unwrap();
    assert_eq!(snapshot(tmp.path()), before);

    // --force with a calibration.csv, or a scenario, vomsim did not write.
    fs::write(&beside, "my,own,numbers\n1,2,3\n").unwrap();
    let before = snapshot(tmp.path());
    refused(
        &refs(&calibration(&vors, &targets, &fit, &["--force"])),
        &[
            "calibration.csv: cannot write this output file: it was not written by vomsim",
            "--force replaces only vomsim's own calibration.csv",
        ],
    );
    assert_eq!(snapshot(tmp.path()), before);
    fs::remove_file(&beside).unwrap();
    let mine = dir.join("mine.toml");
    fs::copy(repo(VORS), &mine).unwrap();
    let before = snapshot(tmp.path());
    refused(
        &refs(&calibration(&vors, &targets, &mine, &["--force"])),
        &["mine.toml: cannot write this output file: it was not written by vomsim calibrate"],
    );
    assert_eq!(snapshot(tmp.path()), before);

    // vomsim's own files are replaced.
    ok(&refs(&calibration(&vors, &targets, &fit, &[])));
    refused(
        &refs(&calibration(&vors, &targets, &fit, &[])),
        &["already exists", "--force"],
    );
    ok(&refs(&calibration(&vors, &targets, &fit, &["--force"])));
    assert!(
        fs::read_to_string(&beside)
            .unwrap()
            .starts_with("metric,group,month,target,tolerance,achieved")
    );
    assert_eq!(
        fs::read(&targets).unwrap(),
        fs::read(repo(TARGETS)).unwrap(),
        "the targets are untouched"
    );
    assert_no_partials(tmp.path());
}

// 3. A replacement killed between its two renames.

/// Lays out what `OutputDir::commit` leaves when killed between renaming
/// the old `out` aside and the staging folder into place.
fn interrupted_swap(root: &Path, name: &str, with_staging: bool) -> u32 {
    let pid = dead_pid();
    let (old, new) = (root.join("old-build"), root.join("new-build"));
    run_into(&old, &["--seed", "1"]);
    fs::rename(&old, root.join(format!(".{name}.partial-{pid}.old"))).unwrap();
    if with_staging {
        run_into(&new, &["--seed", "2"]);
        fs::rename(&new, root.join(format!(".{name}.partial-{pid}"))).unwrap();
    }
    pid
}

#[test]
fn a_replacement_killed_between_its_renames_is_finished_before_the_next_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let vors = repo(VORS);
    let mut plain = vec!["run", path(&vors)];
    plain.extend(LONG);
    plain.extend(["--out", path(&out)]);

    // Both folders complete: the swap is finished (the new output, seed 2).
    interrupted_swap(tmp.path(), "out", true);
    refused_within(&plain, &["already exists"], Duration::from_secs(5));
    assert_eq!(entries(tmp.path()), ["out"]);
    assert_eq!(manifest(&out)["seed"], 2);
    // Later --force runs replace it, again and again.
    run_into(&out, &["--force"]);
    run_into(&out, &["--force"]);
    assert_eq!(entries(tmp.path()), ["out"]);
    assert_eq!(manifest(&out)["seed"], 20261121);

    // No staging folder left: the old output is put back (seed 1).
    fs::remove_dir_all(&out).unwrap();
    interrupted_swap(tmp.path(), "out", false);
    refused_within(&plain, &["already exists"], Duration::from_secs(5));
    assert_eq!(entries(tmp.path()), ["out"]);
    assert_eq!(manifest(&out)["seed"], 1);

    // The swap finished but the old folder was not removed yet.
    let pid = dead_pid();
    let aside = tmp.path().join(format!(".out.partial-{pid}.old"));
    run_into(&tmp.path().join("copy"), &[]);
    fs::rename(tmp.path().join("copy"), &aside).unwrap();
    run_into(&out, &["--force"]);
    assert_eq!(entries(tmp.path()), ["out"]);

    // A user's folder that merely has such a name is left alone.
    let lookalike = tmp.path().join(format!(".out.partial-{}.old", dead_pid()));
    fs::create_dir(&lookalike).unwrap();
    fs::write(lookalike.join("mine.txt"), "keep me").unwrap();
    fs::remove_dir_all(&out).unwrap();
    run_into(&out, &[]);
    run_into(&out, &["--force"]);
    assert_eq!(
        fs::read_to_string(lookalike.join("mine.txt")).unwrap(),
        "keep me"
    );
}

// 4. Staging folders of killed runs.

#[test]
fn only_staging_folders_vomsim_made_are_removed() {
    let tmp = tempfile::tempdir().unwrap();
    // A user's folder named like a staging folder of a dead process.
    let gx = tmp.path().join("gx");
    for pid in [999_999, dead_pid()] {
        let lookalike = tmp.path().join(format!(".gx.partial-{pid}"));
        fs::create_dir_all(lookalike.join("data")).unwrap();
        fs::write(lookalike.join("data/field-notes.txt"), "two years").unwrap();
    }
    let before = snapshot(tmp.path());
    run_into(&gx, &[]);
    run_into(&gx, &["--force"]);
    fs::remove_dir_all(&gx).unwrap();
    assert_eq!(
        snapshot(tmp.path()),
        before,
        "the user's folders are intact"
    );

    // A real staging folder of a run killed with SIGKILL.
    let killed = tmp.path().join("killed");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vomsim"))
        .args([
            "run",
            VORS_PATH.as_str(),
            "--reps",
            "300000", // minutes of work, within the memory limit (README, "Limits")
            "--quiet",
            "--out",
        ])
        .arg(&killed)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !entries(tmp.path())
        .iter()
        .any(|n| n.starts_with(".killed.partial-"))
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no staging folder"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        entries(tmp.path())
            .iter()
            .any(|n| n.starts_with(".killed.partial-"))
    );
    run_into(&killed, &[]);
    assert!(
        !entries(tmp.path())
            .iter()
            .any(|n| n.starts_with(".killed.")),
        "{:?}",
        entries(tmp.path())
    );
    fs::remove_dir_all(&killed).unwrap();
    assert_eq!(
        snapshot(tmp.path()),
        before,
        "the user's folders are intact"
    );
}

// 5. Temporary files of killed sweeps, reports and calibrations.

#[test]
fn stale_temporary_files_vomsim_made_are_removed_when_it_writes_there_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dead = dead_pid();
    // This test's own process is alive, and is not vomsim.
    let alive = std::process::id();

    // sweep --resume.
    let sweep = tmp.path().join("sweep");
    sweep_into(&sweep, &[]);
    let stale = [
        format!("points/.point-000003.summary.csv.partial-{dead}"),
        format!("points/.point-000003.done.partial-{dead}"),
        format!(".summary.csv.partial-{dead}"),
        format!(".manifest.json.partial-{dead}"),
    ];
    let kept = [
        format!(".summary.csv.partial-{alive}"),
        format!(".my-notes.txt.partial-{dead}"),
        format!("points/.mine.partial-{dead}"),
    ];
    for name in stale.iter().chain(&kept) {
        fs::write(sweep.join(name), "half").unwrap();
    }
    sweep_into(&sweep, &["--resume"]);
    for name in &stale {
        assert!(!sweep.join(name).exists(), "{name} is left");
    }
    for name in &kept {
        assert_eq!(
            fs::read_to_string(sweep.join(name)).unwrap(),
            "half",
            "{name}"
        );
    }
    // A live process's temporary file: --force refuses to pull the folder
    // from under it.
    for name in &kept[1..] {
        fs::remove_file(sweep.join(name)).unwrap();
    }
    let pool = repo(POOL);
    let mut force = vec!["sweep", path(&pool)];
    force.extend(SMALL);
    force.extend(["--out", path(&sweep), "--force"]);
    refused(
        &force,
        &[&format!(
            "another vomsim process (PID {alive}) is writing summary.csv"
        )],
    );
    fs::remove_file(sweep.join(&kept[0])).unwrap();

    // report.
    let run = tmp.path().join("run");
    run_into(&run, &[]);
    let stale_report = run.join(format!(".report.html.partial-{dead}"));
    let user = run.join(format!(".draft.html.partial-{dead}"));
    fs::write(&stale_report, "<html").unwrap();
    fs::write(&user, "mine").unwrap();
    ok(&["report", path(&run)]);
    assert!(!stale_report.exists());
    assert_eq!(fs::read_to_string(&user).unwrap(), "mine");
    fs::remove_file(&user).unwrap();

    // calibrate.
    let dir = tmp.path().join("cal");
    fs::create_dir(&dir).unwrap();
    let stale_table = dir.join(format!(".calibration.csv.partial-{dead}"));
    let stale_fit = dir.join(format!(".fit.toml.partial-{dead}"));
    let other = dir.join(format!(".other.toml.partial-{dead}"));
    for f in [&stale_table, &stale_fit, &other] {
        fs::write(f, "half").unwrap();
    }
    let vors = repo(VORS);
    let targets = repo(TARGETS);
    let mut args = vec!["calibrate", path(&vors), "--targets", path(&targets)];
    args.extend(CALIBRATE);
    let fit = dir.join("fit.toml");
    args.extend(["--out", path(&fit)]);
    ok(&args);
    assert!(!stale_table.exists() && !stale_fit.exists());
    assert_eq!(fs::read_to_string(&other).unwrap(), "half");
    fs::remove_file(&other).unwrap();
    assert_no_partials(tmp.path());
}

// 6. Output paths checked before the work, with exit code 2.

#[test]
fn bad_output_paths_are_refused_before_the_work() {
    let tmp = tempfile::tempdir().unwrap();
    let vors = repo(VORS);
    let pool = repo(POOL);
    let dir = tmp.path().join("dir");
    run_into(&dir, &[]);
    let before = snapshot(tmp.path());

    // `DIR/.` (and `DIR/..`) names no folder of its own.
    for out in [
        format!("{}/.", dir.display()),
        format!("{}/./", dir.display()),
    ] {
        let mut run = vec!["run", path(&vors)];
        run.extend(LONG);
        run.extend(["--out", &out, "--force"]);
        refused_within(
            &run,
            &["its last part is `.`", &format!("`{}`", dir.display())],
            Duration::from_secs(5),
        );
        let mut sweep = vec!["sweep", path(&pool)];
        sweep.extend(LONG);
        sweep.extend(["--out", &out, "--force"]);
        refused_within(&sweep, &["its last part is `.`"], Duration::from_secs(5));
    }
    let up = format!("{}/..", dir.display());
    let mut run = vec!["run", path(&vors)];
    run.extend(LONG);
    run.extend(["--out", &up, "--force"]);
    refused_within(&run, &["its last part is `..`"], Duration::from_secs(5));
    assert_eq!(snapshot(tmp.path()), before);

    // calibrate --out naming a folder.
    let targets = repo(TARGETS);
    for out in [
        path(&dir).to_string(),
        format!("{}/", tmp.path().join("new").display()),
    ] {
        let args = [
            "calibrate",
            path(&vors),
            "--targets",
            path(&targets),
            "--fit",
            "recidivism.baseline_rearrest_12m=0.05..0.5",
            // Long, but within the memory limit of its 4 x verification.
            "--reps",
            "60000",
            "--quiet",
            "--out",
            &out,
            "--force",
        ];
        refused_within(
            &args,
            &["cannot write this output file", "folder"],
            Duration::from_secs(5),
        );
    }
    assert_eq!(snapshot(tmp.path()), before);
    assert!(!tmp.path().join("calibration.csv").exists());
    assert_no_partials(tmp.path());
}

/// Runs `vomsim report DIR` with DIR read-only. Permission bits do not
/// stop root, so as root DIR is bind-mounted read-only in a private mount
/// namespace (`unshare -m`, which needs root's privileges, as CI has);
/// otherwise its permission bits are cleared. `None` where neither works.
fn report_read_only(dir: &Path) -> Option<Output> {
    let root = fs::read_to_string("/proc/self/status")
        .map(|s| {
            s.lines()
                .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false);
    if root {
        let usable = Command::new("unshare")
            .args(["-m", "true"])
            .status()
            .is_ok_and(|s| s.success());
        if !usable {
            return None;
        }
        let script = r#"mount --bind "$1" "$1" && mount -o remount,ro,bind "$1" "$1" && exec "$0" report "$1""#;
        return Some(
            Command::new("unshare")
                .args(["-m", "sh", "-c", script, env!("CARGO_BIN_EXE_vomsim")])
                .arg(dir)
                .output()
                .unwrap(),
        );
    }
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o555)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_vomsim"))
        .arg("report")
        .arg(dir)
        .output()
        .unwrap();
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    Some(output)
}

#[test]
fn report_refuses_a_folder_it_cannot_write_before_reading_it() {
    let tmp = tempfile::tempdir().unwrap();
    let run = tmp.path().join("run");
    run_into(&run, &[]);
    let before = snapshot(tmp.path());
    match report_read_only(&run) {
        Some(output) => {
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.code(), Some(2), "{stderr}");
            assert!(
                stderr.contains("report.html: cannot write this output file: cannot write in"),
                "{stderr}"
            );
        }
        None => {
            eprintln!("no way to make a folder read-only here: the read-only case is not checked")
        }
    }
    // A folder where report.html is a folder: refused the same way.
    fs::create_dir(run.join("report.html")).unwrap();
    let before_dir = snapshot(tmp.path());
    refused(
        &["report", path(&run)],
        &["report.html: cannot write this output file: it is a folder"],
    );
    assert_eq!(snapshot(tmp.path()), before_dir);
    fs::remove_dir(run.join("report.html")).unwrap();
    assert_eq!(snapshot(tmp.path()), before);
    assert_no_partials(tmp.path());
}
