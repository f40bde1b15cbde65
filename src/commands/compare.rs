//! `vomsim compare`: two runs side by side, paired by replication when they
//! share seeds.

use std::path::PathBuf;

use crate::analysis::compare;
use crate::commands::cli::CompareArgs;
use crate::error::Result;
use crate::output::folder::OutputDir;
use crate::output::manifest::CompareManifest;
use crate::output::ownership;

use super::{Report, print_out};

/// `vomsim compare`.
pub(super) fn run_compare(args: &CompareArgs) -> Result<()> {
    let name = |p: &std::path::Path| {
        p.file_name()
            .map_or_else(|| "run".to_string(), |n| n.to_string_lossy().into_owned())
    };
    let target = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("output").join(format!("compare_{}_vs_{}", name(&args.a), name(&args.b)))
    });
    ownership::check_not_input(
        &target,
        &[("run folder A", &args.a), ("run folder B", &args.b)],
    )?;
    let output = OutputDir::prepare(&target, args.force)?;
    let rows = compare::compare(&args.a, &args.b)?;
    output.write_file("compare.csv", |w| compare::write_compare(w, &rows))?;
    output.write_file("manifest.json", |w| {
        CompareManifest {
            a: args.a.display().to_string(),
            b: args.b.display().to_string(),
            files: Some(
                ownership::COMPARE_FILES
                    .iter()
                    .map(|f| f.to_string())
                    .collect(),
            ),
            paired: rows.first().is_some_and(|r| r.paired),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
        .write(w)
    })?;
    let written = output.commit()?;
    let mut out = Report::default();
    let paired = rows.first().is_some_and(|r| r.paired);
    out.line(format_args!(
        "A = {}, B = {}; {} (intervals: 95% of one program year's difference A - B)",
        args.a.display(),
        args.b.display(),
        if paired {
            "paired by replication (same seed and replications: common random numbers)"
        } else {
            "independent runs"
        }
    ));
    if !paired && let Some(why) = compare::unpaired_reason(&args.a, &args.b) {
        out.line(format_args!("not paired: {why}"));
    }
    out.line(format_args!(
        "{:<30} {:<18} {:>3} {:>11} {:>11} {:>11} {:>25} {:>10}",
        "metric", "group", "m", "A", "B", "A - B", "95% interval", "P(A better)"
    ));
    for r in &rows {
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
    out.line(format_args!("-> {}", written.join("compare.csv").display()));
    print_out(&out.0)
}
