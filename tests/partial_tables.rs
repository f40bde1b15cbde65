//! A table given in part keeps every key it does not name at that table's
//! documented default: in a scenario file, through `--set`, and in a sweep.
//!
//! The cases are generated from the schema itself: `vomsim validate` on a
//! file with only a name prints every key with its default, and each leaf of
//! that tree (a number, a string, a list, a `{ low, high }` cost) becomes one
//! scenario file naming only that key, inside its own table. The resolved
//! output must equal the defaults everywhere but that key. A schema key added
//! later is covered without touching this file.

mod common;

use std::fs;
use std::path::Path;

use common::vomsim;
use toml::{Table, Value};

fn validate(file: &Path, sets: &[String]) -> assert_cmd::assert::Assert {
    let mut cmd = vomsim();
    cmd.arg("validate").arg(file);
    for s in sets {
        cmd.args(["--set", s]);
    }
    cmd.assert()
}

fn resolved(file: &Path, sets: &[String]) -> Option<Table> {
    let out = validate(file, sets).get_output().clone();
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).unwrap().parse().unwrap())
}

/// Every leaf of the resolved tree, as (dotted path, value). A `{ low, high }`
/// cost is one value.
fn leaves(table: &Table, prefix: &str, out: &mut Vec<(Vec<String>, Value)>) {
    for (k, v) in table {
        let mut path: Vec<String> = if prefix.is_empty() {
            Vec::new()
        } else {
            prefix.split('.').map(str::to_string).collect()
        };
        path.push(k.clone());
        match v {
            Value::Table(t) if !(t.len() == 2 && t.contains_key("low")) => {
                leaves(t, &path.join("."), out)
            }
            _ => out.push((path, v.clone())),
        }
    }
}

/// A different value of the same type, where one exists that validation
/// could accept; `None` where the default is the only sensible probe.
fn changed(v: &Value) -> Option<Value> {
    match v {
        Value::Float(x) => Some(Value::Float(if *x == 0.0 { 0.01 } else { x * 0.9 })),
        Value::Integer(i) => Some(Value::Integer(if *i > 1 { i - 1 } else { i + 1 })),
        Value::Boolean(b) => Some(Value::Boolean(!b)),
        Value::Table(t) => {
            let mut t = t.clone();
            for (_, x) in t.iter_mut() {
                if let Value::Float(f) = x {
                    *f *= 0.9;
                }
            }
            Some(Value::Table(t))
        }
        _ => None,
    }
}

/// `resolved` with the value at `path` replaced.
fn with(tree: &Table, path: &[String], value: &Value) -> Table {
    let mut tree = tree.clone();
    let mut node = &mut tree;
    for p in &path[..path.len() - 1] {
        node = node.get_mut(p).unwrap().as_table_mut().unwrap();
    }
    node.insert(path[path.len() - 1].clone(), value.clone());
    tree
}

/// One key in its own table: `[a.b]\nkey = value`.
fn file_naming(path: &[String], value: &Value) -> String {
    let mut leaf = Table::new();
    leaf.insert(path[path.len() - 1].clone(), value.clone());
    let mut tree = leaf;
    for p in path[..path.len() - 1].iter().rev() {
        let mut up = Table::new();
        up.insert(p.clone(), Value::Table(tree));
        tree = up;
    }
    if path.len() > 1 || path[0] != "name" {
        tree.insert("name".into(), Value::String("partial".into()));
    }
    toml::to_string(&tree).unwrap()
}

fn defaults(dir: &Path) -> Table {
    let base = dir.join("base.toml");
    fs::write(&base, "name = \"partial\"\n").unwrap();
    resolved(&base, &[]).expect("a file with only a name validates")
}

#[test]
fn one_key_in_a_file_changes_only_that_key() {
    let dir = tempfile::tempdir().unwrap();
    let defaults = defaults(dir.path());
    let mut all = Vec::new();
    leaves(&defaults, "", &mut all);
    assert!(all.len() > 100, "the schema has {} keys", all.len());
    let (mut nested, mut changed_values) = (0, 0);
    for (i, (path, default)) in all.iter().enumerate() {
        if path.len() > 1 {
            nested += 1;
        }
        let file = dir.path().join(format!("k{i}.toml"));
        // A changed value where validation accepts it alone (a share changed
        // alone breaks its sum, so those keys are probed at their default:
        // that still catches a table whose other keys are reset).
        let mut probe = None;
        if let Some(value) = changed(default) {
            fs::write(&file, file_naming(path, &value)).unwrap();
            if let Some(got) = resolved(&file, &[]) {
                probe = Some((value, got));
                changed_values += 1;
            }
        }
        let (value, got) = probe.unwrap_or_else(|| {
            fs::write(&file, file_naming(path, default)).unwrap();
            let got = resolved(&file, &[])
                .unwrap_or_else(|| panic!("{} at its default must validate", path.join(".")));
            (default.clone(), got)
        });
        assert_eq!(
            got,
            with(&defaults, path, &value),
            "naming only `{}` changed other keys",
            path.join(".")
        );
    }
    assert!(
        nested > 100 && changed_values > 60,
        "{nested} nested, {changed_values} changed"
    );
}

#[test]
fn one_key_by_set_changes_only_that_key() {
    let dir = tempfile::tempdir().unwrap();
    let defaults = defaults(dir.path());
    let base = dir.path().join("base.toml");
    let mut all = Vec::new();
    leaves(&defaults, "", &mut all);
    let mut checked = 0;
    for (path, default) in &all {
        let Some(value @ (Value::Float(_) | Value::Integer(_))) = changed(default) else {
            continue;
        };
        let set = format!("{}={value}", path.join("."));
        if let Some(got) = resolved(&base, &[set]) {
            assert_eq!(
                got,
                with(&defaults, path, &value),
                "--set {}",
                path.join(".")
            );
            checked += 1;
        }
    }
    assert!(checked > 60, "{checked} keys checked");
}

/// The two reproductions from the issue, by their numbers.
#[test]
fn court_completion_and_offense_maps_keep_their_own_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("s.toml");
    fs::write(
        &file,
        "name = \"p\"\n[restitution.court_ordered.completion]\npayment_probability = 0.5\n\
         [consent.victim_offense_log_odds]\nburglary = -1.0\n",
    )
    .unwrap();
    let got = resolved(&file, &[]).unwrap();
    let court = &got["restitution"]["court_ordered"]["completion"];
    assert_eq!(court["service_probability"].as_float(), Some(0.0518));
    assert_eq!(court["partial_paid_max_share"].as_float(), Some(0.0));
    let odds = &got["consent"]["victim_offense_log_odds"];
    assert_eq!(odds["joyriding"].as_float(), Some(-0.2));
    assert_eq!(odds["assault"].as_float(), Some(-0.4));
    assert_eq!(odds["violent"].as_float(), Some(-0.8));
}

/// A sweep varying one key of a table keeps the table's other defaults at
/// every point: the point's summary equals a run whose file writes the whole
/// court completion table out, at its defaults but the swept key (same seed
/// and replications, so the same streams). Under the old behaviour the
/// point took the mediated completion defaults and its restitution rows
/// differed.
#[test]
fn a_sweep_point_keeps_the_tables_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let small = "name = \"p\"\n[simulation]\nintake_months = 3\n[referrals]\nper_month = 20\n";
    let sweep = dir.path().join("sweep.toml");
    fs::write(
        &sweep,
        format!(
            "{small}[sweep]\ndesign = \"grid\"\n[sweep.parameters]\n\
             \"restitution.court_ordered.completion.payment_probability\" = [0.4, 0.5]\n"
        ),
    )
    .unwrap();
    let full = dir.path().join("full.toml");
    fs::write(
        &full,
        format!(
            "{small}[restitution.court_ordered.completion]\npayment_probability = 0.5\n\
             payment_amount_log_odds = -2.45\npartial_paid_max_share = 0.0\n\
             service_probability = 0.0518\nservice_hours_log_odds = -1.266\n\
             partial_hours_max_share = 0.0\n"
        ),
    )
    .unwrap();
    let (sweep_out, run_out) = (dir.path().join("s"), dir.path().join("r"));
    vomsim()
        .arg("sweep")
        .arg(&sweep)
        .args(["--reps", "3", "--quiet", "--out"])
        .arg(&sweep_out)
        .assert()
        .success();
    vomsim()
        .arg("run")
        .arg(&full)
        .args(["--reps", "3", "--quiet", "--out"])
        .arg(&run_out)
        .assert()
        .success();
    let point: Vec<String> = fs::read_to_string(sweep_out.join("points/point-000001.summary.csv"))
        .unwrap()
        .lines()
        .map(|l| l.strip_prefix("1,0.5,").unwrap().to_string())
        .collect();
    let run: Vec<String> = fs::read_to_string(run_out.join("summary.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.strip_prefix("0,").unwrap().to_string())
        .collect();
    assert!(
        point.iter().any(|l| l.starts_with("restitution")),
        "{point:?}"
    );
    assert_eq!(point, run);
}

/// `--set` takes one value: an embedded newline or a second key is refused,
/// never cut to its first value.
#[test]
fn a_set_value_is_one_value() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.toml");
    fs::write(&base, "name = \"p\"\n").unwrap();
    for arg in ["referrals.per_month=5\nfoo=1", "referrals.per_month=5\n"] {
        let out = validate(&base, &[arg.to_string()])
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains("one value per --set"), "{err}");
        assert!(out.stdout.is_empty());
    }
}

/// A cost range given one bound keeps the other at its default, in a file
/// and through `--set` (a reviewer's reproduction: it was refused).
#[test]
fn a_cost_range_given_one_bound_keeps_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("c.toml");
    fs::write(
        &file,
        "name = \"c\"\n[costs.justice_per_rearrest]\nlow = 6000\n",
    )
    .unwrap();
    let got = resolved(&file, &[]).expect("one bound of a default range is enough");
    let cost = &got["costs"]["justice_per_rearrest"];
    assert_eq!(cost["low"].as_float(), Some(6000.0));
    assert_eq!(cost["high"].as_float(), Some(15000.0));
    let base = dir.path().join("base.toml");
    fs::write(&base, "name = \"c\"\n").unwrap();
    let got = resolved(&base, &["costs.justice_per_rearrest.low=6000".to_string()]).unwrap();
    assert_eq!(
        got["costs"]["justice_per_rearrest"]["high"].as_float(),
        Some(15000.0)
    );
}

/// A cost whose default is a range may be set to one number by `--set`, as
/// in a file (sweeps and calibrate pass their values the same way).
#[test]
fn a_cost_range_may_be_set_to_one_number() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.toml");
    fs::write(&base, "name = \"c\"\n").unwrap();
    let got = resolved(&base, &["costs.justice_per_rearrest=8000".to_string()])
        .expect("a number for a cost range");
    assert_eq!(
        got["costs"]["justice_per_rearrest"].as_float(),
        Some(8000.0)
    );
}
