//! `--format parquet` (issue 18): `run`, `sweep` and `merge` write their
//! tables as Parquet with the CSV's columns and types; a reader that is not
//! vomsim (polars) reads them back equal to the CSV of the same run; the
//! bytes do not depend on the threads; `report` and `compare` read them.
//!
//! The polars check needs Python with `polars` (`.ci/run` installs it); it
//! is skipped with a note where the module is missing, except in CI (`CI`
//! set), where it must run.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::{repo, vomsim};
use parquet::basic::Type as Physical;
use parquet::file::reader::{FileReader, SerializedFileReader};
use predicates::prelude::*;
use vomsim::output::parquet::{Kind, column_kind, kind_of_values, read_as_csv};

fn run(dir: &Path, format: &str, extra: &[&str]) {
    vomsim()
        .args([
            "run",
            repo("scenarios/vors_la.toml").to_str().unwrap(),
            "--reps",
            "5",
            "--seed",
            "11",
            "--agents",
            "--quiet",
            "--format",
            format,
            "--out",
        ])
        .arg(dir)
        .args(extra)
        .assert()
        .success();
}

fn sweep(dir: &Path, format: &str, extra: &[&str]) {
    vomsim()
        .args([
            "sweep",
            repo("scenarios/sweeps/mediator_pool.toml")
                .to_str()
                .unwrap(),
            "--reps",
            "2",
            "--quiet",
            "--format",
            format,
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

const RUN_TABLES: [&str; 4] = ["summary", "replications", "diagnosis", "agents"];
const SWEEP_TABLES: [&str; 3] = ["summary", "replications", "diagnosis"];

/// Each Parquet file's schema is the CSV's header, column by column, with
/// the type its name documents (a sweep's parameters: the type all their
/// values fit), and it reads back as the CSV's very bytes.
fn check_against_csv(csv_dir: &Path, parquet_dir: &Path, tables: &[&str]) {
    for table in tables {
        let csv_text = fs::read_to_string(csv_dir.join(format!("{table}.csv"))).unwrap();
        let path = parquet_dir.join(format!("{table}.parquet"));
        let reader = SerializedFileReader::new(fs::File::open(&path).unwrap()).unwrap();
        let metadata = reader.metadata().file_metadata();
        assert_eq!(metadata.created_by(), Some("vomsim"), "{table}");
        let columns = metadata.schema_descr().columns().to_vec();
        let header: Vec<&str> = csv_text.lines().next().unwrap().split(',').collect();
        let names: Vec<&str> = columns.iter().map(|c| c.name()).collect();
        assert_eq!(
            names, header,
            "{table}: Parquet columns against the CSV header"
        );
        for (i, c) in columns.iter().enumerate() {
            // A sweep's parameter takes the type all its values fit.
            let values = || {
                csv_text
                    .lines()
                    .skip(1)
                    .map(|l| l.split(',').nth(i).unwrap())
            };
            let kind = column_kind(c.name()).unwrap_or_else(|| kind_of_values(values()));
            let expected = match kind {
                Kind::Integer => Physical::INT64,
                Kind::Number => Physical::DOUBLE,
                Kind::Text => Physical::BYTE_ARRAY,
            };
            assert_eq!(c.physical_type(), expected, "{table}.{}", c.name());
        }
        assert_eq!(
            metadata.num_rows() as usize,
            csv_text.lines().count() - 1,
            "{table}: rows"
        );
        assert!(
            read_as_csv(&path).unwrap() == csv_text,
            "{table}: the Parquet file does not read back as the CSV"
        );
    }
}

#[test]
fn parquet_tables_have_the_csv_columns_types_and_values() {
    let tmp = tempfile::tempdir().unwrap();
    let (csv, pq) = (tmp.path().join("csv"), tmp.path().join("pq"));
    run(&csv, "csv", &[]);
    run(&pq, "parquet", &["--threads", "1"]);
    assert_eq!(
        manifest_files(&pq),
        [
            "summary.parquet",
            "replications.parquet",
            "diagnosis.parquet",
            "agents.parquet",
            "manifest.json"
        ]
    );
    assert!(!pq.join("summary.csv").exists());
    check_against_csv(&csv, &pq, &RUN_TABLES);

    // The same bytes for any thread count; --force replaces the folder.
    let two = tmp.path().join("two");
    run(&two, "parquet", &["--threads", "2"]);
    for table in RUN_TABLES {
        let file = format!("{table}.parquet");
        assert!(
            fs::read(pq.join(&file)).unwrap() == fs::read(two.join(&file)).unwrap(),
            "{file} depends on the threads"
        );
    }
    run(&two, "csv", &["--force", "--no-replications"]);
    assert!(!two.join("summary.parquet").exists());
    assert!(two.join("summary.csv").is_file());

    // report reads the Parquet run as it reads the CSV one: the same page
    // but for the folder's name.
    for dir in [&csv, &pq] {
        vomsim().arg("report").arg(dir).assert().success();
    }
    let page = |dir: &Path| {
        fs::read_to_string(dir.join("report.html"))
            .unwrap()
            .replace(dir.to_str().unwrap(), "DIR")
    };
    assert!(page(&csv) == page(&pq), "report differs on the Parquet run");

    // compare pairs a Parquet run with a CSV run of the same seed: every
    // difference is zero.
    let out = tmp.path().join("cmp");
    vomsim()
        .arg("compare")
        .arg(&csv)
        .arg(&pq)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let text = fs::read_to_string(out.join("compare.csv")).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut rows = 0;
    for record in reader.records() {
        let r = record.unwrap();
        assert_eq!(&r[10], "true", "paired");
        assert_eq!(r[5].parse::<f64>().unwrap(), 0.0, "{r:?}");
        rows += 1;
    }
    assert!(rows > 100, "{rows} compared rows");
}

#[test]
fn a_parquet_sweep_and_its_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let (csv, pq) = (tmp.path().join("csv"), tmp.path().join("pq"));
    sweep(&csv, "csv", &[]);
    sweep(&pq, "parquet", &[]);
    check_against_csv(&csv, &pq, &SWEEP_TABLES);
    let listed = manifest_files(&pq);
    for table in SWEEP_TABLES {
        assert!(listed.contains(&format!("{table}.parquet")), "{listed:?}");
    }
    // Shards merged into Parquet give the whole sweep's bytes.
    let shards: Vec<_> = (1..=2)
        .map(|k| tmp.path().join(format!("shard-{k}")))
        .collect();
    for (k, dir) in shards.iter().enumerate() {
        sweep(dir, "csv", &["--shard", &format!("{}/2", k + 1)]);
    }
    let merged = tmp.path().join("merged");
    vomsim()
        .arg("merge")
        .args(&shards)
        .args(["--format", "parquet", "--out"])
        .arg(&merged)
        .assert()
        .success();
    for table in SWEEP_TABLES {
        let file = format!("{table}.parquet");
        assert!(
            fs::read(pq.join(&file)).unwrap() == fs::read(merged.join(&file)).unwrap(),
            "{file}: merge differs from the sweep"
        );
    }
    vomsim().arg("report").arg(&merged).assert().success();
    // Resumed in the other format, the folder holds that format's tables
    // only (its manifest lists them), so --force still recognizes it.
    sweep(&pq, "csv", &["--resume"]);
    for table in SWEEP_TABLES {
        assert!(!pq.join(format!("{table}.parquet")).exists(), "{table}");
        assert!(
            fs::read(pq.join(format!("{table}.csv"))).unwrap()
                == fs::read(csv.join(format!("{table}.csv"))).unwrap(),
            "{table}"
        );
    }
    sweep(&pq, "parquet", &["--force"]);
    assert!(pq.join("summary.parquet").is_file() && !pq.join("summary.csv").exists());
}

#[test]
fn a_bad_format_is_a_usage_error() {
    vomsim()
        .args([
            "run",
            repo("scenarios/vors_la.toml").to_str().unwrap(),
            "--format",
            "feather",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("csv").and(predicates::str::contains("parquet")));
}

/// polars reads each Parquet table equal to the CSV of the same run: the
/// same columns, compatible types (a DOUBLE column whose values are all
/// whole numbers is read from the CSV as integers; a column empty
/// throughout is read from the CSV as text), equal values, and nulls where
/// the CSV is empty.
const POLARS_CHECK: &str = r#"
import sys
import polars as pl
csv_dir, pq_dir, tables = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
for table in tables:
    a = pl.read_parquet(f"{pq_dir}/{table}.parquet")
    b = pl.read_csv(f"{csv_dir}/{table}.csv", infer_schema_length=None)
    assert a.columns == b.columns, (table, a.columns, b.columns)
    assert a.height == b.height and a.height > 0, (table, a.height, b.height)
    for name in a.columns:
        x, y = a[name], b[name]
        assert x.null_count() == y.null_count(), (table, name, x.null_count(), y.null_count())
        if x.dtype != y.dtype:
            if y.null_count() == y.len():
                continue
            assert x.dtype == pl.Float64 and y.dtype == pl.Int64, (table, name, x.dtype, y.dtype)
            y = y.cast(pl.Float64)
        assert x.equals(y, null_equal=True), (table, name)
    print(f"{table}: {a.height} rows, {a.width} columns equal")
"#;

#[test]
fn polars_reads_parquet_back_equal_to_the_csv() {
    let has_polars = Command::new("python3")
        .args(["-c", "import polars"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_polars {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the polars test: .ci/run installs polars"
        );
        eprintln!("polars test not run: no Python module polars (pip install polars)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let (csv, pq) = (tmp.path().join("csv"), tmp.path().join("pq"));
    run(&csv, "csv", &[]);
    run(&pq, "parquet", &[]);
    let (swept_csv, swept_pq) = (tmp.path().join("sweep-csv"), tmp.path().join("sweep-pq"));
    sweep(&swept_csv, "csv", &[]);
    sweep(&swept_pq, "parquet", &[]);
    for (a, b, tables) in [
        (&csv, &pq, RUN_TABLES.join(",")),
        (&swept_csv, &swept_pq, SWEEP_TABLES.join(",")),
    ] {
        let out = Command::new("python3")
            .args(["-c", POLARS_CHECK])
            .arg(a)
            .arg(b)
            .arg(&tables)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "polars check failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
