//! `vomsim report`: the self-contained HTML page of an output folder.

use crate::commands::cli::ReportArgs;
use crate::error::Result;

use super::{Report, print_out};

/// `vomsim report`.
pub(super) fn report(args: &ReportArgs) -> Result<()> {
    let path = if crate::output::planning_report::is_planning_folder(&args.dir) {
        crate::output::planning_report::write(&args.dir)?
    } else {
        crate::output::report::write(&args.dir)?
    };
    let mut out = Report::default();
    out.line(format_args!("wrote {}", path.display()));
    print_out(&out.0)
}
