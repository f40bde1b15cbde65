//! `vomsim compare`: runs side by side with the first (the baseline),
//! paired by replication when they share seeds.

use std::path::{Path, PathBuf};

use crate::analysis::compare::{self, CompareRow};
use crate::commands::cli::CompareArgs;
use crate::error::Result;
use crate::output::folder::OutputDir;
use crate::output::manifest::CompareManifest;
use crate::output::ownership;

use super::{Report, print_out};

fn folder_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(|| "run".to_string(), |n| n.to_string_lossy().into_owned())
}

/// `vomsim compare`.
pub(super) fn run_compare(args: &CompareArgs) -> Result<()> {
    let (a, others) = (&args.runs[0], &args.runs[1..]);
    let target = args.out.clone().unwrap_or_else(|| {
        let names: Vec<String> = args.runs.iter().map(|p| folder_name(p)).collect();
        PathBuf::from("output").join(format!("compare_{}", names.join("_vs_")))
    });
    const NAMES: [&str; 6] = [
        "run folder A",
        "run folder B",
        "run folder C",
        "run folder D",
        "run folder E",
        "run folder F",
    ];
    let inputs: Vec<(&'static str, &Path)> = args
        .runs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                NAMES.get(i).copied().unwrap_or("a run folder compared"),
                p.as_path(),
            )
        })
        .collect();
    ownership::check_not_input(&target, &inputs)?;
    let output = OutputDir::prepare(&target, args.force)?;
    let comparisons: Vec<Vec<CompareRow>> = others
        .iter()
        .map(|b| compare::compare(a, b))
        .collect::<Result<_>>()?;
    output.write_file("compare.csv", |w| {
        for (i, rows) in comparisons.iter().enumerate() {
            compare::write_compare(w, i == 0, rows)?;
        }
        Ok(())
    })?;
    let all_paired = comparisons
        .iter()
        .all(|rows| rows.first().is_some_and(|r| r.paired));
    output.write_file("manifest.json", |w| {
        CompareManifest {
            a: a.display().to_string(),
            b: others[0].display().to_string(),
            files: Some(
                ownership::COMPARE_FILES
                    .iter()
                    .map(|f| f.to_string())
                    .collect(),
            ),
            more: others[1..]
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
            paired: all_paired,
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
        .write(w)
    })?;
    let written = output.commit()?;
    let mut out = Report::default();
    for (b, rows) in others.iter().zip(&comparisons) {
        describe(&mut out, a, b, rows);
    }
    out.line(format_args!("-> {}", written.join("compare.csv").display()));
    print_out(&out.0)
}

/// The table of one comparison, A (the baseline) against B.
fn describe(out: &mut Report, a: &Path, b: &Path, rows: &[CompareRow]) {
    let paired = rows.first().is_some_and(|r| r.paired);
    out.line(format_args!(
        "A = {}, B = {}; {} (intervals: 95% of one program year's difference A - B)",
        a.display(),
        b.display(),
        if paired {
            "paired by replication (same seed and replications: common random numbers)"
        } else {
            "independent runs"
        }
    ));
    if !paired && let Some(why) = compare::unpaired_reason(a, b) {
        out.line(format_args!("not paired: {why}"));
    }
    out.line(format_args!(
        "{:<30} {:<18} {:>3} {:>11} {:>11} {:>11} {:>25} {:>10}",
        "metric", "group", "m", "A", "B", "A - B", "95% interval", "P(A better)"
    ));
    for r in rows {
        out.line(format_args!(
            "{:<30} {:<18} {:>3} {:>11.4} {:>11.4} {:>+11.4} [{:>+11.4}, {:>+11.4}] {:>10}",
            r.metric,
            r.group,
            r.month,
            r.a_mean,
            r.b_mean,
            r.difference,
            r.lower,
            r.upper,
            r.p_a_better
                .map_or_else(|| "-".to_string(), |p| format!("{:.2}", p))
        ));
    }
}
