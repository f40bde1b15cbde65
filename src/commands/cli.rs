//! The command line (DESIGN.md's contract), declared with clap's derive API.
//! Parsing only: what each command does lives in [`crate::commands`].

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::analysis::calibration::{Choice, FitParameter, parse_choice, parse_fit};
use crate::analysis::sizing::WaitTo;
use crate::analysis::sweep::Shard;

/// `--format`: the tables' file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Comma-separated text.
    Csv,
    /// Apache Parquet, zstd-compressed: the same columns and types.
    Parquet,
}

impl From<FormatArg> for crate::output::parquet::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Csv => crate::output::parquet::Format::Csv,
            FormatArg::Parquet => crate::output::parquet::Format::Parquet,
        }
    }
}

/// A Monte Carlo, agent-based simulator of youth diversion through
/// victim-offender mediation.
#[derive(Debug, Parser)]
#[command(name = "vomsim", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a new scenario file, DIR/NAME.toml: every key at its default,
    /// each with its meaning and its default's source as a comment.
    #[command(
        after_help = "Examples:\n  vomsim init myprogram                # writes scenarios/myprogram.toml\n  vomsim init county --dir my_scenarios"
    )]
    Init(InitArgs),
    /// Run a scenario's replications and write summary.csv, diagnosis.csv,
    /// replications.csv (unless --no-replications) and manifest.json (and
    /// agents.csv with --agents).
    #[command(
        after_help = "Examples:\n  vomsim run scenarios/vors_la.toml                  # writes output/vors_la/\n  vomsim run scenarios/vors_la.toml --reps 1000 --no-replications --out output/big\n  vomsim run scenarios/vors_la.toml --set consent.offender_mode=court_ordered --out output/court"
    )]
    Run(RunArgs),
    /// Check a scenario file and print it resolved: every key, defaults included.
    #[command(
        after_help = "Examples:\n  vomsim validate scenarios/vors_la.toml\n  vomsim validate scenarios/vors_la.toml --set referrals.per_month=60 > resolved.toml"
    )]
    Validate(ValidateArgs),
    /// Find the smallest mediator pool whose waits meet a target, by
    /// bisection on common random numbers; writes size.csv and manifest.json.
    #[command(
        after_help = "Examples:\n  vomsim size scenarios/vors_la.toml --wait-days 28 --quantile 0.9\n  vomsim size scenarios/vors_la.toml --wait-days 28 --quantile 0.9 --target session"
    )]
    Size(SizeArgs),
    /// Choose the initial pool, training cohorts (and coordinators) meeting a
    /// waiting target in every month at the least expected cost; writes
    /// plan.csv and manifest.json.
    #[command(
        after_help = "Examples:\n  vomsim plan scenarios/vors_la.toml --wait-days 28 --quantile 0.9 --confidence 0.9 --years 3\n  vomsim plan scenarios/vors_la.toml --wait-days 28 --quantile 0.9 --confidence 0.9 --years 3 --max-sessions-per-volunteer 1.5"
    )]
    Plan(PlanArgs),
    /// Find the smallest study at which a design detects the effect with a
    /// given power; writes power.csv.
    #[command(
        after_help = "Examples:\n  vomsim power scenarios/rct.toml --design rct_itt\n  vomsim power scenarios/rct.toml --design rct_cace --month 30 --power 0.9"
    )]
    Power(PowerArgs),
    /// Fit scenario parameters to published figures; writes the calibrated
    /// scenario and calibration.csv.
    #[command(
        after_help = "Examples:\n  vomsim calibrate scenarios/vors_la.toml --targets county.csv --fit consent.victim_probability=0.2..0.9\n  vomsim calibrate scenarios/nugent_attenuation.toml --targets tests/targets/nugent_attenuation.csv --fit treatment.hazard_ratio_initial=0.2..0.9 --choose treatment.shape=fade,constant\n  vomsim calibrate scenarios/vors_la.toml --targets tests/targets/vors_la.csv --fit treatment.hazard_ratio_initial=0.2..1.0 --posterior 300 --reps 50"
    )]
    Calibrate(CalibrateArgs),
    /// Run every point of a sweep file (a scenario with a sweep table).
    #[command(
        after_help = "Examples:\n  vomsim sweep scenarios/sweeps/mediator_pool.toml --reps 100 --no-replications\n  vomsim sweep scenarios/sweeps/mediator_pool.toml --shard 2/4 --out output/pool/shard-2\n  vomsim sweep scenarios/sweeps/mediator_pool.toml --format parquet --out output/pool-parquet"
    )]
    Sweep(SweepArgs),
    /// Merge the shard folders of one sweep into one result.
    #[command(
        after_help = "Examples:\n  vomsim merge output/pool/shard-* --out output/pool/merged\n  vomsim merge output/pool/shard-1 output/pool/shard-2 --out output/pool/merged --force"
    )]
    Merge(MergeArgs),
    /// Compare runs with the first (the baseline); writes compare.csv.
    #[command(
        after_help = "Examples:\n  vomsim compare output/voluntary output/court_ordered\n  vomsim compare output/voluntary output/court_ordered output/bigger_pool --out output/three"
    )]
    Compare(CompareArgs),
    /// Write report.html, a self-contained report, into a run's, a sweep's
    /// or a comparison's output folder.
    #[command(
        after_help = "Examples:\n  vomsim report output/vors_la         # then open output/vors_la/report.html\n  vomsim report output/compare_voluntary_vs_court_ordered"
    )]
    Report(ReportArgs),
    /// Serve a what-if page on this machine: the scenario's numbers and
    /// charts, levers to change it, and each change's paired differences
    /// from the baseline with 95% intervals.
    #[command(
        after_help = "Examples:\n  vomsim serve scenarios/vors_la.toml                # then open http://127.0.0.1:8080/\n  vomsim serve scenarios/vors_la.toml --port 9000 --reps 500"
    )]
    Serve(ServeArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Replications (default: the scenario's simulation.replications).
    #[arg(long, value_parser = at_least_one)]
    pub reps: Option<u64>,
    /// Master seed (default: the scenario's simulation.seed).
    #[arg(long, value_parser = seed)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = at_least_one)]
    pub threads: Option<u64>,
    /// Output folder (default: output/NAME, NAME the scenario's name).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the output folder if it exists.
    #[arg(long)]
    pub force: bool,
    /// Override a scenario key by its dotted path, e.g. referrals.per_month=60.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Also write agents.csv: every youth of every replication, with a
    /// `rep` column (see --agents-reps to write fewer).
    #[arg(long)]
    pub agents: bool,
    /// Write agents.csv for the first N replications only (implies --agents).
    #[arg(long, value_name = "N", value_parser = at_least_one)]
    pub agents_reps: Option<u64>,
    /// Leave out replications.csv (every value of every replication, about
    /// 70 KB per replication); summary.csv and diagnosis.csv are still written.
    #[arg(long)]
    pub no_replications: bool,
    /// Parameter draws (calibrate's posterior.csv): each replication runs
    /// at one draw, chosen by weight from its own random stream, so every
    /// interval includes the parameters' uncertainty.
    #[arg(long, value_name = "POSTERIOR.csv")]
    pub parameters: Option<PathBuf>,
    /// Table format: csv (default) or parquet (zstd-compressed, the same
    /// columns and types; for large runs).
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    pub format: FormatArg,
    /// No progress bar and no summary table.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The scenario's name: letters, digits, '_', '-' or '.' (not first).
    pub name: String,
    /// The folder to write NAME.toml into.
    #[arg(long, default_value = "scenarios")]
    pub dir: PathBuf,
    /// Overwrite DIR/NAME.toml if vomsim init wrote it.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Override a scenario key by its dotted path, e.g. referrals.per_month=60.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

#[derive(Debug, Args)]
pub struct SizeArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Target: the --quantile of waits must be at most this many days.
    #[arg(long, value_name = "D", value_parser = days)]
    pub wait_days: f64,
    /// Which wait: from referral to the assignment of mediators
    /// (`assignment`) or to the mediation session (`session`).
    #[arg(long, value_name = "TO", default_value = "assignment", value_parser = WaitTo::parse)]
    pub target: WaitTo,
    /// The wait quantile the target is about, in (0, 1] (0.9: 90% of cases).
    #[arg(long, value_name = "Q", value_parser = above_zero_to_one)]
    pub quantile: f64,
    /// Share of replications that must meet the target, in (0, 1].
    #[arg(long, value_name = "P", default_value_t = 0.9, value_parser = above_zero_to_one)]
    pub confidence: f64,
    /// Also require at most this share of queued cases returned for waiting.
    #[arg(long, value_name = "R", value_parser = zero_to_one)]
    pub max_returned_share: Option<f64>,
    /// The whole-number key varied: the recruitment lever.
    #[arg(long, value_name = "KEY", default_value = "mediators.initial_active")]
    pub lever: String,
    /// Smallest value the search may return (default: 0, or 1 for
    /// mediators.max_cases_per_mediator).
    #[arg(long)]
    pub from: Option<u64>,
    /// Largest value the search may try (default: 16 times the scenario's
    /// value, at least 160, within the limits).
    #[arg(long)]
    pub to: Option<u64>,
    /// The answer's resolution: the values tried are --from + k x STEP
    /// (default 1).
    #[arg(long, value_parser = at_least_one)]
    pub step: Option<u64>,
    /// Run every value from --from to --to by --step (at most 1000) instead
    /// of bisecting: the whole curve.
    #[arg(long)]
    pub scan: bool,
    /// Replications per value (default: the scenario's simulation.replications).
    #[arg(long, value_parser = at_least_one)]
    pub reps: Option<u64>,
    /// Master seed, the same for every value (default: the scenario's).
    #[arg(long, value_parser = seed)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = at_least_one)]
    pub threads: Option<u64>,
    /// Output folder (default: output/NAME_size, NAME the scenario's name).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the output folder if it exists.
    #[arg(long)]
    pub force: bool,
    /// Override a scenario key by its dotted path, e.g. referrals.per_month=60.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// Target: the --quantile of each month's waits must be at most this many days.
    #[arg(long, value_name = "D", value_parser = days)]
    pub wait_days: f64,
    /// Which wait: to the assignment of mediators, or to the session.
    #[arg(long, value_name = "TO", default_value = "assignment", value_parser = WaitTo::parse)]
    pub target: WaitTo,
    /// The wait quantile the target is about, in (0, 1].
    #[arg(long, value_name = "Q", value_parser = above_zero_to_one)]
    pub quantile: f64,
    /// Share of replications that must meet the target in every month, in (0, 1].
    #[arg(long, value_name = "P", default_value_t = 0.9, value_parser = above_zero_to_one)]
    pub confidence: f64,
    /// Years of intake planned (1 to 50).
    #[arg(long, value_name = "Y", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub years: u32,
    /// Also require at most this many sessions a month per active
    /// volunteer, in every month (seed 003: one mediation a month).
    #[arg(long, value_name = "S", value_parser = positive)]
    pub max_sessions_per_volunteer: Option<f64>,
    /// Dollars per volunteer hour in the cost (default 0: hours counted, not priced).
    #[arg(long, value_name = "DOLLARS", default_value_t = 0.0, value_parser = days)]
    pub volunteer_hour_value: f64,
    /// Replications per plan tried (default 100).
    #[arg(long, value_parser = at_least_one)]
    pub reps: Option<u64>,
    /// Master seed, the same for every plan (default: the scenario's).
    #[arg(long, value_parser = seed)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = at_least_one)]
    pub threads: Option<u64>,
    /// Output folder (default: output/NAME_plan, NAME the scenario's name).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the output folder if it exists.
    #[arg(long)]
    pub force: bool,
    /// Override a scenario key by its dotted path, e.g. referrals.per_month=80.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct PowerArgs {
    /// The scenario file (TOML).
    pub scenario: PathBuf,
    /// The design whose power is planned (an effect_ratio group such as
    /// rct_itt, rct_cace, vors_design, matched).
    #[arg(long)]
    pub design: String,
    /// The follow-up month of the effect: a multiple of 6 up to the
    /// scenario's follow-up (for `did`, its pre-period's length).
    #[arg(long, default_value_t = 12)]
    pub month: u32,
    /// The power wanted, in (0, 1).
    #[arg(long, value_name = "P", default_value_t = 0.8, value_parser = above_zero_below_one)]
    pub power: f64,
    /// The two-sided significance level, in (0, 1).
    #[arg(long, default_value_t = 0.05, value_parser = above_zero_below_one)]
    pub alpha: f64,
    /// The key varied: referrals.per_month or simulation.intake_months.
    #[arg(long, value_name = "KEY", default_value = "referrals.per_month")]
    pub lever: String,
    /// Keep the mediator pool as the scenario has it (by default it grows in
    /// proportion to referrals.per_month).
    #[arg(long)]
    pub fixed_pool: bool,
    /// Replications per value (default: the scenario's simulation.replications).
    #[arg(long, value_parser = at_least_one)]
    pub reps: Option<u64>,
    /// Master seed, the same for every value (default: the scenario's).
    #[arg(long, value_parser = seed)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = at_least_one)]
    pub threads: Option<u64>,
    /// Output folder (default: output/NAME_power, NAME the scenario's name).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the output folder if it exists.
    #[arg(long)]
    pub force: bool,
    /// Override a scenario key by its dotted path, e.g. referrals.per_month=60.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct CalibrateArgs {
    /// The scenario file (TOML) to start from.
    pub scenario: PathBuf,
    /// Targets: a CSV with columns metric,group,month,target,tolerance,source.
    #[arg(long, value_name = "TARGETS.csv")]
    pub targets: PathBuf,
    /// A parameter to fit and its bounds, e.g. recidivism.baseline_rearrest_12m=0.05..0.4.
    #[arg(long = "fit", value_name = "KEY=LOW..HIGH", required = true, value_parser = parse_fit)]
    pub fit: Vec<FitParameter>,
    /// A choice the data makes, e.g. treatment.shape=fade,constant,piecewise,none:
    /// calibrates once per value (fitting the --fit parameters that value
    /// uses), compares them by verified objective + 2 x parameters fitted,
    /// and writes the best.
    #[arg(long, value_name = "KEY=A,B,...", value_parser = parse_choice)]
    pub choose: Option<Choice>,
    /// Replications per evaluation of the objective (the same seeds each time).
    #[arg(long, value_parser = at_least_one, default_value_t = 200)]
    pub reps: u64,
    /// Replications of the verification run at fresh seeds (default: 4 x --reps).
    #[arg(long, value_parser = at_least_one)]
    pub verify_reps: Option<u64>,
    /// Simulations at most: the search's objective evaluations and the
    /// posterior's prior draws together (default: 400, plus 10 x N with
    /// --posterior N).
    #[arg(long, value_parser = at_least_one)]
    pub max_evaluations: Option<u64>,
    /// Also sample the parameters' posterior by approximate Bayesian
    /// computation: N accepted draws (of 10 x N simulated), written to
    /// posterior.csv beside the calibrated scenario, for `run --parameters`.
    #[arg(long, value_name = "N", value_parser = whole_number)]
    pub posterior: Option<u64>,
    /// Master seed (default: the scenario's).
    #[arg(long, value_parser = seed)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = at_least_one)]
    pub threads: Option<u64>,
    /// The calibrated scenario file to write; calibration.csv goes beside it
    /// (default: output/NAME_calibrated/NAME_calibrated.toml).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The calibrated scenario's name (default: the output file's stem), so
    /// that running it writes to its own output folder.
    #[arg(long)]
    pub name: Option<String>,
    /// Replace the output files if they exist.
    #[arg(long)]
    pub force: bool,
    /// Override a scenario key by its dotted path, e.g. referrals.per_month=60.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The sweep file: a scenario with a sweep table.
    pub sweep: PathBuf,
    /// Replications per point (default: the scenario's simulation.replications).
    #[arg(long, value_parser = at_least_one)]
    pub reps: Option<u64>,
    /// Master seed, the same for every point (default: the scenario's).
    #[arg(long, value_parser = seed)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = at_least_one)]
    pub threads: Option<u64>,
    /// Output folder (default: output/NAME, NAME the scenario's name).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Run only shard K of N: the points whose index is K-1 modulo N.
    #[arg(long, value_name = "K/N", value_parser = Shard::parse)]
    pub shard: Option<Shard>,
    /// Continue an interrupted sweep in --out, skipping finished points.
    #[arg(long)]
    pub resume: bool,
    /// Replace the output folder if it exists (vomsim's own output only).
    #[arg(long, conflicts_with = "resume")]
    pub force: bool,
    /// Override a scenario key for every point, e.g. referrals.per_month=60.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Leave out replications.csv (as `replications_file = false` in the
    /// sweep table): summary.csv, diagnosis.csv and the rest are written.
    #[arg(long)]
    pub no_replications: bool,
    /// Table format: csv (default) or parquet (zstd-compressed, the same
    /// columns and types; for large runs).
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    pub format: FormatArg,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard folders of one sweep (written by sweep --shard K/N).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    /// The merged output folder.
    #[arg(long)]
    pub out: PathBuf,
    /// Replace the output folder if it exists (vomsim's own output only).
    #[arg(long)]
    pub force: bool,
    /// Table format of the merged folder: csv (default) or parquet.
    #[arg(long, value_enum, default_value_t = FormatArg::Csv)]
    pub format: FormatArg,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Output folders of two or more runs; the first is the baseline each
    /// other run is compared with.
    #[arg(required = true, num_args = 2.., value_name = "DIR")]
    pub runs: Vec<PathBuf>,
    /// Where to write compare.csv (default: output/compare_A_vs_B, with
    /// every run's folder name).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the output folder if it exists (vomsim's own output only).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A folder written by vomsim run, sweep or compare.
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The scenario file (TOML): the baseline every change is compared with.
    pub scenario: PathBuf,
    /// The TCP port to listen on (0: any free port, printed at start).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// The address to listen on; anything but loopback lets other machines
    /// run simulations here (a warning says so).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: std::net::IpAddr,
    /// Replications of the baseline and of every change (at most 10,000).
    #[arg(long, default_value_t = 200, value_parser = at_least_one)]
    pub reps: u64,
    /// Master seed, shared by the baseline and every change (default: the
    /// scenario's simulation.seed).
    #[arg(long, value_parser = seed)]
    pub seed: Option<u64>,
    /// Worker threads (default: all cores).
    #[arg(long, value_parser = at_least_one)]
    pub threads: Option<u64>,
    /// Override a key of the baseline by its dotted path, e.g. referrals.per_month=60.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// A seed: any whole number from 0 to 2^64 - 1, said in those words.
fn seed(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .map_err(|_| format!("`{text}` is not a whole number from 0 to {}", u64::MAX))
}

/// A whole number (its range is checked with the other inputs).
fn whole_number(text: &str) -> Result<u64, String> {
    text.parse::<u64>()
        .map_err(|_| format!("`{text}` is not a whole number"))
}

/// A whole number of at least 1 (for `--reps`, `--threads`).
fn at_least_one(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a whole number")),
    }
}

/// A finite number, said in those words.
fn number(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| format!("`{text}` is not a number"))
}

/// A number of days of at least 0 (`size --wait-days`).
fn days(text: &str) -> Result<f64, String> {
    let v = number(text)?;
    if v >= 0.0 {
        Ok(v)
    } else {
        Err("must be a number of days of at least 0".to_string())
    }
}

/// A share in (0, 1] (`size --quantile`, `--confidence`).
fn above_zero_to_one(text: &str) -> Result<f64, String> {
    let v = number(text)?;
    if v > 0.0 && v <= 1.0 {
        Ok(v)
    } else {
        Err("must lie in (0, 1]".to_string())
    }
}

/// A number above 0 (`plan --max-sessions-per-volunteer`).
fn positive(text: &str) -> Result<f64, String> {
    let v = number(text)?;
    if v > 0.0 {
        Ok(v)
    } else {
        Err("must be a number above 0".to_string())
    }
}

/// A share in [0, 1] (`size --max-returned-share`).
fn zero_to_one(text: &str) -> Result<f64, String> {
    let v = number(text)?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err("must lie in [0, 1]".to_string())
    }
}

/// A share strictly inside (0, 1) (`power --power`, `--alpha`).
fn above_zero_below_one(text: &str) -> Result<f64, String> {
    let v = number(text)?;
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err("must lie strictly between 0 and 1".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// Every subcommand's --help ends with two or three examples, each a
    /// `vomsim` command line of that subcommand.
    #[test]
    fn every_subcommand_help_ends_with_examples() {
        let mut cli = Cli::command();
        for sub in cli.get_subcommands_mut() {
            let name = sub.get_name().to_string();
            let help = sub.render_long_help().to_string();
            let (_, examples) = help
                .rsplit_once("Examples:\n")
                .unwrap_or_else(|| panic!("{name} --help has no examples"));
            let lines: Vec<&str> = examples.lines().filter(|l| !l.trim().is_empty()).collect();
            assert!((2..=3).contains(&lines.len()), "{name}: {lines:?}");
            for line in lines {
                assert!(
                    line.trim_start().starts_with(&format!("vomsim {name} ")),
                    "{name}: {line}"
                );
            }
        }
    }
}
