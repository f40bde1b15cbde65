//! `vomsim calibrate` against known answers (release; about 35 s).

mod common;

use std::fs;
use std::path::Path;

use common::{read_summary, repo, vomsim};

const VORS: &str = "scenarios/vors_la.toml";
const FITS: [&str; 3] = [
    "recidivism.baseline_rearrest_12m=0.05..0.4",
    "consent.victim_risk_log_odds=-2..0",
    "treatment.hazard_ratio_initial=0.2..1.0",
];

/// Runs calibrate; returns the calibrated scenario's table and calibration.csv rows.
fn calibrate(extra: &[&str], targets: &Path, dir: &Path) -> (toml::Table, Vec<csv::StringRecord>) {
    let out = dir.join("fit").join("fitted.toml");
    let mut command = vomsim();
    command
        .args([
            "calibrate",
            repo(VORS).to_str().unwrap(),
            "--quiet",
            "--seed",
            "5",
            "--targets",
        ])
        .arg(targets)
        .arg("--out")
        .arg(&out)
        .args(extra);
    let assert = command.assert().success();
    println!("{}", String::from_utf8_lossy(&assert.get_output().stdout));
    let fitted: toml::Table = fs::read_to_string(&out).unwrap().parse().unwrap();
    let rows = csv::Reader::from_path(dir.join("fit").join("calibration.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .collect();
    (fitted, rows)
}

fn value(table: &toml::Table, key: &str) -> f64 {
    let (section, name) = key.split_once('.').unwrap();
    table[section][name].as_float().unwrap()
}

/// Targets produced by the model itself at known parameter values (1,000
/// replications at another seed), then fitted from vors_la's values. The
/// targets' tolerances (0.005 on 12-month rearrest, 0.01 on the true
/// effect ratio) make the objective rise by 1 within +-0.0035 of the
/// baseline, +-0.058 of the victim loading and +-0.020 of the hazard ratio
/// (calibrate's own report); the check allows about three times that.
#[test]
fn recovers_known_parameters() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = [
        ("recidivism.baseline_rearrest_12m", 0.2),
        ("consent.victim_risk_log_odds", -0.4),
        ("treatment.hazard_ratio_initial", 0.6),
    ];
    let run_dir = tmp.path().join("truth");
    let mut run = vomsim();
    run.args([
        "run",
        repo(VORS).to_str().unwrap(),
        "--reps",
        "1000",
        "--seed",
        "99",
        "--quiet",
        "--out",
    ])
    .arg(&run_dir);
    for (key, v) in truth {
        run.args(["--set", &format!("{key}={v}")]);
    }
    run.assert().success();
    let summary = read_summary(&run_dir.join("summary.csv"));
    let mean = |m: &str, g: &str, month: &str| {
        summary[&(m.to_string(), g.to_string(), month.to_string())].mean
    };
    let targets = tmp.path().join("targets.csv");
    fs::write(
        &targets,
        format!(
            "metric,group,month,target,tolerance,source\n\
             rearrest,mediated,12,{},0.005,model\n\
             rearrest,victim_declined,12,{},0.005,model\n\
             effect_ratio,true_att,12,{},0.01,model\n",
            mean("rearrest", "mediated", "12"),
            mean("rearrest", "victim_declined", "12"),
            mean("effect_ratio", "true_att", "12"),
        ),
    )
    .unwrap();
    let mut args = vec!["--reps", "400"];
    for fit in FITS {
        args.extend(["--fit", fit]);
    }
    let (fitted, rows) = calibrate(&args, &targets, tmp.path());
    for ((key, expected), allowed) in truth.iter().zip([0.01, 0.2, 0.04]) {
        let got = value(&fitted, key);
        println!("{key}: fitted {got:.4}, true {expected}");
        assert!(
            (got - expected).abs() <= allowed,
            "{key}: fitted {got}, true {expected}"
        );
    }
    assert!(rows.iter().all(|r| &r[8] == "within"), "{rows:?}");
}

/// A target beyond the fitted parameters' reach is reported unreachable,
/// with the closest value the search saw.
#[test]
fn reports_an_unreachable_target() {
    let tmp = tempfile::tempdir().unwrap();
    let targets = tmp.path().join("targets.csv");
    fs::write(
        &targets,
        "metric,group,month,target,tolerance,source\n\
         rearrest,victim_declined,12,0.309,0.025,seed 003\n\
         monetary_agreed,mediated,,0.95,0.02,not reachable by a rearrest parameter\n",
    )
    .unwrap();
    let (_, rows) = calibrate(&["--reps", "100", "--fit", FITS[0]], &targets, tmp.path());
    assert_eq!(&rows[0][8], "within", "{:?}", rows[0]);
    assert_eq!(&rows[1][8], "unreachable", "{:?}", rows[1]);
    let closest: f64 = rows[1][9].parse().unwrap();
    assert!(
        (closest - 0.50).abs() < 0.03,
        "closest {closest}: monetary agreement stays near 50%"
    );
}

/// Re-derives the shipped vors_la calibration from perturbed values: every
/// target of tests/targets/vors_la.csv within tolerance again, and the
/// fitted values near the shipped ones (within the +-1-tolerance
/// half-widths calibrate reports for these targets: about 0.015, 0.25 and
/// 0.08).
#[test]
fn re_derives_the_shipped_vors_la_calibration() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--set",
        "recidivism.baseline_rearrest_12m=0.25",
        "--set",
        "consent.victim_risk_log_odds=-0.3",
        "--set",
        "treatment.hazard_ratio_initial=0.7",
    ];
    for fit in FITS {
        args.extend(["--fit", fit]);
    }
    let (fitted, rows) = calibrate(&args, &repo("tests/targets/vors_la.csv"), tmp.path());
    assert!(rows.iter().all(|r| &r[8] == "within"), "{rows:?}");
    for ((key, shipped), allowed) in [
        ("recidivism.baseline_rearrest_12m", 0.1593),
        ("consent.victim_risk_log_odds", -0.738),
        ("treatment.hazard_ratio_initial", 0.498),
    ]
    .iter()
    .zip([0.015, 0.25, 0.08])
    {
        let got = value(&fitted, key);
        assert!(
            (got - shipped).abs() <= allowed,
            "{key}: fitted {got}, shipped {shipped}"
        );
    }
}

/// Checked before any folder or search: a target the scenario does not
/// report, a key fitted twice, a whole-number key, a bound out of range.
#[test]
fn bad_calibrations_are_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let targets = tmp.path().join("t.csv");
    fs::write(
        &targets,
        "metric,group,month,target,tolerance,source\nrearrest,mediated,12,0.15,0.02,x\n",
    )
    .unwrap();
    let bad_target = tmp.path().join("bad.csv");
    fs::write(
        &bad_target,
        "metric,group,month,target,tolerance,source\nnosuch,mediated,12,0.15,0.02,x\n",
    )
    .unwrap();
    let cases: [(&std::path::Path, &[&str], &str); 4] = [
        (
            &bad_target,
            &["--fit", FITS[0]],
            "unknown metric `nosuch` in bad.csv row 2",
        ),
        (
            &targets,
            &[
                "--fit",
                FITS[0],
                "--fit",
                "recidivism.baseline_rearrest_12m=0.1..0.2",
            ],
            "given twice",
        ),
        (
            &targets,
            &["--fit", "mediators.initial_active=1..50"],
            "whole-number key",
        ),
        (
            &targets,
            &["--fit", "consent.victim_probability=0..2"],
            "bound the scenario refuses",
        ),
    ];
    for (targets, args, expected) in cases {
        let out = tmp.path().join("out").join("x.toml");
        let output = vomsim()
            .args([
                "calibrate",
                repo(VORS).to_str().unwrap(),
                "--quiet",
                "--targets",
            ])
            .arg(targets)
            .args(args)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "expected {expected:?}: {stderr}");
        assert!(!tmp.path().join("out").exists(), "no folder is created");
    }
}

#[test]
fn bad_fit_arguments_are_usage_errors() {
    let tmp = tempfile::tempdir().unwrap();
    vomsim()
        .args(["calibrate", repo(VORS).to_str().unwrap(), "--targets"])
        .arg(repo("tests/targets/vors_la.csv"))
        .args(["--fit", "recidivism.nope=0..1", "--out"])
        .arg(tmp.path().join("x.toml"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("not a scenario key"));
    vomsim()
        .args(["calibrate", repo(VORS).to_str().unwrap(), "--targets"])
        .arg(tmp.path().join("missing.csv"))
        .args(["--fit", FITS[0]])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("missing.csv"));
}

/// A small, fast scenario (two intake months, eight referrals a month)
/// with `extra` lines, and the one target `rearrest,referred,12`.
fn small(dir: &Path, name: &str, extra: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let scenario = dir.join(name);
    fs::write(
        &scenario,
        format!(
            "name = \"x\"\n{extra}[simulation]\nintake_months = 2\n[referrals]\nper_month = 8\n"
        ),
    )
    .unwrap();
    let targets = dir.join("t.csv");
    fs::write(
        &targets,
        "metric,group,month,target,tolerance,source\nrearrest,referred,12,0.40,0.02,test\n",
    )
    .unwrap();
    (scenario, targets)
}

/// Runs a fast calibrate (`--reps 2 --verify-reps 2 --seed 5`).
fn quick(scenario: &Path, targets: &Path, fits: &[&str], out: &Path) -> std::process::Output {
    let mut command = vomsim();
    command
        .arg("calibrate")
        .arg(scenario)
        .arg("--targets")
        .arg(targets)
        .args([
            "--reps",
            "2",
            "--verify-reps",
            "2",
            "--seed",
            "5",
            "--quiet",
        ])
        .arg("--out")
        .arg(out);
    for fit in fits {
        command.args(["--fit", fit]);
    }
    command.output().unwrap()
}

/// The fitted value calibrate printed for `key`.
fn printed(stdout: &str, key: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.starts_with(&format!("{key} ")))
        .unwrap_or_else(|| panic!("no line for {key}: {stdout}"));
    line.split_whitespace().nth(2).unwrap().to_string()
}

/// `vomsim validate` accepts the file; returns what it prints.
fn validates(path: &Path) -> String {
    let output = vomsim().arg("validate").arg(path).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}: {stderr}", path.display());
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `--out DIR/calibration.csv` names the table written beside it: refused
/// before any work, however the path is spelled, with nothing on disk.
#[test]
fn out_named_calibration_csv_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (scenario, targets) = small(tmp.path(), "base.toml", "");
    for out in ["sub/calibration.csv", "sub/./calibration.csv"] {
        let output = quick(
            &scenario,
            &targets,
            &["recidivism.risk_log_hr=0..1"],
            &tmp.path().join(out),
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{out}: {stderr}");
        assert!(
            stderr.contains("it is the calibration.csv that calibrate writes beside"),
            "{out}: {stderr}"
        );
        assert_eq!(
            stderr.trim_end().lines().count(),
            1,
            "one paragraph: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{out}: no report");
        assert!(!tmp.path().join("sub").exists(), "{out}: nothing on disk");
    }
}

/// A float key is written as a float, whatever the file's literal (`8`),
/// and the file holds exactly the value verified: a run of the calibrated
/// scenario at the verification's seeds reproduces calibration.csv, and
/// the printed table shows what the file says.
#[test]
fn fitted_values_are_written_as_verified_in_the_schema_type() {
    let tmp = tempfile::tempdir().unwrap();
    let (scenario, targets) = small(tmp.path(), "e.toml", "");
    let text =
        fs::read_to_string(&scenario).unwrap() + "[recidivism]\nbaseline_rearrest_12m = 0.1593\n";
    fs::write(&scenario, text).unwrap();
    let out = tmp.path().join("out3").join("e.toml");
    let output = quick(
        &scenario,
        &targets,
        &[
            // Bounds without a whole number: the fit cannot be whole.
            "referrals.per_month=8.2..8.8",
            "recidivism.baseline_rearrest_12m=0.05..0.6",
        ],
        &out,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let written: toml::Table = fs::read_to_string(&out).unwrap().parse().unwrap();
    for (section, name) in [
        ("referrals", "per_month"),
        ("recidivism", "baseline_rearrest_12m"),
    ] {
        let value = written[section][name]
            .as_float()
            .unwrap_or_else(|| panic!("{section}.{name} is written as a float: {written}"));
        let shown = printed(&stdout, &format!("{section}.{name}"));
        assert_eq!(shown.parse::<f64>().unwrap(), value, "printed as written");
        let digits = value.to_string().replace(['-', '.'], "");
        assert!(
            digits.trim_start_matches('0').len() <= 6,
            "{value}: at most six significant digits"
        );
        let read: toml::Table = validates(&out).parse().unwrap();
        assert_eq!(
            read[section][name].as_float(),
            Some(value),
            "validate reads {section}.{name} as written"
        );
    }
    // The verification's seeds and replications, on the written file.
    let verify_seed = 5u64 ^ 0x005e_ed0f_ca1b_0001;
    let run_dir = tmp.path().join("check");
    vomsim()
        .arg("run")
        .arg(&out)
        .args(["--reps", "2", "--quiet", "--seed", &verify_seed.to_string()])
        .arg("--out")
        .arg(&run_dir)
        .assert()
        .success();
    let summary = read_summary(&run_dir.join("summary.csv"));
    let achieved: f64 = csv::Reader::from_path(tmp.path().join("out3").join("calibration.csv"))
        .unwrap()
        .records()
        .next()
        .unwrap()
        .unwrap()[5]
        .parse()
        .unwrap();
    let rerun = summary[&(
        "rearrest".to_string(),
        "referred".to_string(),
        "12".to_string(),
    )]
        .mean;
    assert!(
        (rerun - achieved).abs() < 1e-12,
        "calibration.csv reports {achieved}; the written scenario gives {rerun}"
    );
}

/// A fitted key inside an inline table, or under dotted keys: the file
/// still parses (the comment ends the line, after the closing brace),
/// validates, and reads back the fitted value as printed.
#[test]
fn fitted_keys_in_inline_tables_and_dotted_keys_stay_valid() {
    let tmp = tempfile::tempdir().unwrap();
    let layouts = [
        (
            "inline",
            "recidivism.offense_log_hr = { burglary = 0.35 }\n",
            "",
        ),
        (
            "inline_in_table",
            "",
            "[recidivism]\noffense_log_hr = { burglary = 0.35 }\n",
        ),
        ("dotted", "recidivism.offense_log_hr.burglary = 0.35\n", ""),
        (
            "dotted_in_table",
            "",
            "[recidivism]\noffense_log_hr.burglary = 0.35\n",
        ),
    ];
    for (name, top, tail) in layouts {
        let (scenario, targets) = small(tmp.path(), &format!("{name}.toml"), top);
        let text = fs::read_to_string(&scenario).unwrap() + tail;
        fs::write(&scenario, text).unwrap();
        let out = tmp.path().join(name).join("d.toml");
        let output = quick(
            &scenario,
            &targets,
            // Bounds without the file's 0.35: the value written is new.
            &["recidivism.offense_log_hr.burglary=0.5..1"],
            &out,
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = fs::read_to_string(&out).unwrap();
        assert!(
            text.contains("# fitted by vomsim calibrate to t.csv"),
            "{name}: {text}"
        );
        if name.starts_with("inline") {
            assert!(
                text.contains("} # fitted") || text.contains("}  # fitted"),
                "{name}: the comment follows the closing brace: {text}"
            );
        }
        validates(&out);
        let written: toml::Table = text.parse().unwrap();
        let value = written["recidivism"]["offense_log_hr"]["burglary"]
            .as_float()
            .unwrap();
        let shown = printed(&stdout, "recidivism.offense_log_hr.burglary");
        assert_eq!(shown.parse::<f64>().unwrap(), value, "{name}: {text}");
        assert!((0.5..=1.0).contains(&value), "{name}: {text}");
    }
}

/// `--choose`: targets made by a constant effect (hazard ratio 0.6, 1,000
/// replications of `nugent_attenuation`) are fitted by each shape; the
/// constant shape fits them with one parameter and is chosen, its ratio
/// recovered (the tolerances of 0.01 on the effect ratios pin it within
/// about +-0.01; the check allows 0.03). The piecewise alternative fits one
/// list element (`treatment.piecewise_hazard_ratios[0]`), written into its
/// list; `none` fits nothing and misses by far.
#[test]
fn choose_picks_the_shape_that_made_the_targets() {
    let tmp = tempfile::tempdir().unwrap();
    let nugent = repo("scenarios/nugent_attenuation.toml");
    let run_dir = tmp.path().join("truth");
    vomsim()
        .args(["run", nugent.to_str().unwrap(), "--reps", "1000"])
        .args(["--seed", "99", "--quiet", "--out"])
        .arg(&run_dir)
        .args(["--set", "treatment.shape=constant"])
        .args(["--set", "treatment.hazard_ratio_initial=0.6"])
        .assert()
        .success();
    let summary = read_summary(&run_dir.join("summary.csv"));
    let mut targets = String::from("metric,group,month,target,tolerance,source\n");
    for month in ["6", "18", "30"] {
        let key = (
            "effect_ratio".to_string(),
            "true_att".to_string(),
            month.to_string(),
        );
        targets += &format!(
            "effect_ratio,true_att,{month},{},0.01,model\n",
            summary[&key].mean
        );
    }
    let targets_file = tmp.path().join("targets.csv");
    fs::write(&targets_file, targets).unwrap();
    let out = tmp.path().join("fit").join("fitted.toml");
    let assert = vomsim()
        .args([
            "calibrate",
            nugent.to_str().unwrap(),
            "--quiet",
            "--seed",
            "5",
        ])
        .args(["--reps", "100", "--max-evaluations", "80", "--targets"])
        .arg(&targets_file)
        .args(["--fit", "treatment.hazard_ratio_initial=0.2..0.95"])
        .args(["--fit", "treatment.half_life_months=1..40"])
        .args(["--fit", "treatment.piecewise_hazard_ratios[0]=0.2..1.2"])
        .args(["--choose", "treatment.shape=fade,constant,piecewise,none"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    println!("{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("constant") && l.ends_with("<- chosen")),
        "{stdout}"
    );
    let text = fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("# Calibrated by vomsim"), "{text}");
    assert!(
        text.contains("\n# fitted by vomsim calibrate to targets.csv"),
        "{text}"
    );
    let fitted: toml::Table = text.parse().unwrap();
    assert_eq!(fitted["treatment"]["shape"].as_str(), Some("constant"));
    let hr = value(&fitted, "treatment.hazard_ratio_initial");
    assert!((hr - 0.6).abs() < 0.03, "fitted {hr}");
    // The fitted element of a list: --fit KEY[i] alone, without --choose.
    let targets_file = tmp.path().join("first.csv");
    fs::write(
        &targets_file,
        "metric,group,month,target,tolerance,source\neffect_ratio,true_att,6,0.7,0.01,test\n",
    )
    .unwrap();
    let out = tmp.path().join("element").join("fitted.toml");
    vomsim()
        .args([
            "calibrate",
            nugent.to_str().unwrap(),
            "--quiet",
            "--seed",
            "5",
        ])
        .args(["--reps", "100", "--max-evaluations", "60", "--targets"])
        .arg(&targets_file)
        .args(["--set", "treatment.shape=piecewise"])
        .args(["--fit", "treatment.piecewise_hazard_ratios[0]=0.2..1.2"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let fitted: toml::Table = fs::read_to_string(&out).unwrap().parse().unwrap();
    let list = fitted["treatment"]["piecewise_hazard_ratios"]
        .as_array()
        .unwrap();
    assert_eq!(list.len(), 5);
    let first = list[0].as_float().unwrap();
    assert!(first > 0.6 && first < 0.9, "fitted {first}");
    assert_eq!(list[1].as_float(), Some(0.8), "the other elements kept");
}

/// `--max-evaluations` is a hard cap: the search simulates at most that
/// many evaluations, every target's status is `stopped`, the values are
/// the best point so far, and identifiability is not claimed.
#[test]
fn the_evaluation_cap_stops_the_search_with_status_stopped() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fit").join("capped.toml");
    let assert = vomsim()
        .args(["calibrate", repo(VORS).to_str().unwrap(), "--seed", "5"])
        .args([
            "--reps",
            "20",
            "--verify-reps",
            "20",
            "--max-evaluations",
            "7",
        ])
        .arg("--targets")
        .arg(repo("tests/targets/vors_la.csv"))
        .args(["--fit", FITS[0], "--fit", FITS[1], "--out"])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    assert!(
        stdout.contains("7 evaluations of 20 replications"),
        "{stdout}"
    );
    assert!(
        stdout.contains("stopped at --max-evaluations 7"),
        "{stdout}"
    );
    let rows: Vec<csv::StringRecord> =
        csv::Reader::from_path(tmp.path().join("fit").join("calibration.csv"))
            .unwrap()
            .records()
            .map(|r| r.unwrap())
            .collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| &r[8] == "stopped"), "{rows:?}");
    assert!(!stdout.contains("flat:"), "{stdout}");
}

/// A one-direction-flat problem: the share of agreements with an apology
/// moves none of the targets, so the objective is flat along it alone;
/// the baseline and the victims' selection stay pinned. Only the apology
/// share is flagged flat (before, a Hessian with a flat direction flagged
/// every parameter).
#[test]
fn a_flat_direction_flags_only_the_parameters_it_involves() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fit").join("flat.toml");
    let assert = vomsim()
        .args(["calibrate", repo(VORS).to_str().unwrap(), "--seed", "5"])
        .args(["--reps", "40", "--verify-reps", "40"])
        .arg("--targets")
        .arg(repo("tests/targets/vors_la.csv"))
        .args(["--fit", FITS[0], "--fit", FITS[1]])
        .args(["--fit", "mediation.apology_probability=0.1..0.9", "--out"])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).into_owned();
    println!("{stdout}");
    let flagged = |key: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("no line for {key}"))
            .contains("flat:")
    };
    assert!(flagged("mediation.apology_probability"));
    assert!(!flagged("recidivism.baseline_rearrest_12m"));
    assert!(!flagged("consent.victim_risk_log_odds"));
}

/// The calibrated file is a scenario of its own: named after the output
/// file (or --name), with the --set values of the fit written in and a
/// header naming the command, the targets and the seed; it runs on its own,
/// into its own folder, with the --set values in force.
#[test]
fn the_calibrated_file_is_its_own_scenario() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fit").join("la_sixty.toml");
    vomsim()
        .args([
            "calibrate",
            repo(VORS).to_str().unwrap(),
            "--seed",
            "5",
            "--quiet",
        ])
        .args([
            "--reps",
            "20",
            "--verify-reps",
            "20",
            "--max-evaluations",
            "12",
        ])
        .arg("--targets")
        .arg(repo("tests/targets/vors_la.csv"))
        .args(["--fit", FITS[0], "--set", "referrals.per_month=60", "--out"])
        .arg(&out)
        .assert()
        .success();
    let text = fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("# Calibrated by vomsim"), "{text}");
    assert!(
        text.contains("with targets") && text.contains("seed 5"),
        "{text}"
    );
    let table: toml::Table = text.parse().unwrap();
    assert_eq!(table["name"].as_str(), Some("la_sixty"));
    assert_eq!(value(&table, "referrals.per_month"), 60.0);
    let run = tmp.path().join("run");
    vomsim()
        .args([
            "run",
            out.to_str().unwrap(),
            "--reps",
            "2",
            "--quiet",
            "--out",
        ])
        .arg(&run)
        .assert()
        .success();
    let manifest = fs::read_to_string(run.join("manifest.json")).unwrap();
    assert!(
        manifest.contains("\"scenario\": \"la_sixty\""),
        "{manifest}"
    );
    // A stem that is not a scenario name needs --name.
    vomsim()
        .args(["calibrate", repo(VORS).to_str().unwrap(), "--quiet"])
        .arg("--targets")
        .arg(repo("tests/targets/vors_la.csv"))
        .args(["--fit", FITS[0], "--out"])
        .arg(tmp.path().join("a b.toml"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("give --name"));
}
