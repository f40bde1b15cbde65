//! `vomsim validate`: check a scenario (or a sweep file, every point) and
//! print it resolved, every key with its value: the file itself, comments
//! kept, with the keys it leaves out added (see
//! [`crate::scenario::resolved_document`]).

use crate::analysis::sweep::{self, Sweep};
use crate::cancel::Cancel;
use crate::commands::cli::ValidateArgs;
use crate::error::Result;
use crate::scenario::Scenario;

use super::{Report, print_out};

/// `vomsim validate`: print the resolved scenario; for a sweep file, check
/// every point and list them.
pub(super) fn validate(args: &ValidateArgs, cancel: &Cancel) -> Result<()> {
    // Validation writes nothing to disk: a signal may end it at once.
    let _reading = cancel.exit_at_once();
    let text = crate::scenario::read_text_file(&args.scenario, "scenario")?;
    let origin = args.scenario.display().to_string();
    if crate::scenario::parse_table(&text, &origin)?.contains_key("sweep") {
        let sweep = Sweep::from_toml_str(&text, &origin, &args.set)?;
        let mut out = Report::default();
        out.line(format_args!(
            "# a sweep of {} points over {}; every point is a valid scenario",
            sweep.points.len(),
            sweep.parameters.join(", ")
        ));
        out.line(format_args!("{}", sweep::run::describe(&sweep).trim_end()));
        out.line(format_args!("# the base scenario, resolved:"));
        out.line(format_args!("{}", sweep.base_scenario.to_toml()));
        return print_out(&out.0);
    }
    let scenario = Scenario::from_toml_str(&text, &origin, &args.set)?;
    print_out(&crate::scenario::resolved_document(
        &text,
        &scenario.raw,
        &args.set,
    ))
}
