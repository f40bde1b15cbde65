//! `vomsim init NAME`: write `DIR/NAME.toml`, a complete scenario file with
//! every key at its default and its meaning and source as comments (see
//! [`crate::scenario::scenario_template`]).

use std::io::Write;
use std::path::PathBuf;

use crate::commands::cli::InitArgs;
use crate::error::{Error, Result};
use crate::output::folder::write_atomically;
use crate::output::ownership::{self, Expected};
use crate::scenario::{NAME_RULE, scenario_template, valid_name};

use super::{Report, print_out};

/// `vomsim init`: checks the name and the path, writes the file atomically
/// and says what to run next.
pub(super) fn init(args: &InitArgs) -> Result<()> {
    if !valid_name(&args.name) {
        return Err(Error::BadArgument {
            option: "NAME".to_string(),
            value: format!("{:?}", args.name),
            requirement: format!(
                "{NAME_RULE} (it is the scenario's `name` and the file is NAME.toml)"
            ),
        });
    }
    let path: PathBuf = args.dir.join(format!("{}.toml", args.name));
    let unusable = |reason: String| Error::OutputFileUnusable {
        path: path.clone(),
        reason,
    };
    if let Ok(metadata) = std::fs::symlink_metadata(&path) {
        if metadata.is_dir() {
            return Err(unusable(
                "it is a folder; choose another NAME or --dir".to_string(),
            ));
        }
        if !args.force {
            return Err(unusable(
                "the file already exists and was left as it is; pass --force to overwrite a \
                 scenario file vomsim init wrote, or choose another NAME or --dir"
                    .to_string(),
            ));
        }
        ownership::check_replaceable(&path, Expected::InitScenario).map_err(unusable)?;
    }
    let text = scenario_template(&args.name).map_err(|missing| {
        Error::Internal(format!(
            "docs/scenario-reference.md has no row with a default and its source for {}",
            missing.join(", ")
        ))
    })?;
    if !args.dir.as_os_str().is_empty() {
        std::fs::create_dir_all(&args.dir).map_err(|e| Error::OutputUnusable {
            path: args.dir.clone(),
            reason: e.to_string(),
        })?;
    }
    let file_name = format!("{}.toml", args.name);
    ownership::remove_stale_temporaries(&args.dir, |name| name == file_name);
    write_atomically(&path, |w| w.write_all(text.as_bytes()))?;
    let mut report = Report::default();
    report.line(format_args!(
        "wrote {} (every key at its Los Angeles VORS default); next: vomsim run {}",
        path.display(),
        path.display()
    ));
    print_out(&report.0)
}
