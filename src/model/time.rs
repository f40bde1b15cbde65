//! Time units and horizons: the program clock runs in days, reporting is
//! monthly, follow-up is counted in months from disposition.
//!
//! These constants size fixed arrays throughout the model and the tally, so
//! they live here, below everything that reads them.

/// Days in a month: reporting is monthly on a 365.25-day year (DESIGN.md).
pub const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

/// Months of follow-up after disposition (DESIGN.md: months 1..30; seed 000
/// reports effects up to 30 months of follow-up).
pub const FOLLOW_UP_MONTHS: usize = 30;

/// Follow-up months at which effects are estimated (DESIGN.md).
pub const EFFECT_MONTHS: [usize; 5] = [6, 12, 18, 24, 30];

/// The longest intake period a scenario may have, in months (50 years: far
/// beyond any program evaluated, and a bound on a replication's arrays).
pub const MAX_INTAKE_MONTHS: u32 = 600;

/// The longest tail of program months after intake (two years): enough for
/// the last cases to wait `max_wait_days` and be mediated three mean
/// durations, for any pool the validation accepts.
pub const MAX_TAIL_MONTHS: u32 = 24;

/// The most program months a run reports: the intake period and the tail.
pub const MAX_PROGRAM_MONTHS: u32 = MAX_INTAKE_MONTHS + MAX_TAIL_MONTHS;

/// Follow-up months at which rearrests averted (and the program's cost per
/// rearrest averted) are reported: 12, the horizon of the VORS evaluation's
/// rearrest figure (seed 003), and 30, the end of follow-up (DESIGN.md).
pub const AVERTED_MONTHS: [u32; 2] = [12, FOLLOW_UP_MONTHS as u32];
