//! Time units and horizons: the program clock runs in days, reporting is
//! monthly, follow-up is counted in months from disposition.
//!
//! These constants size fixed arrays throughout the model and the tally, so
//! they live here, below everything that reads them.

/// Days in a month: reporting is monthly on a 365.25-day year (DESIGN.md).
pub const DAYS_PER_MONTH: f64 = 365.25 / 12.0;

/// The default months of follow-up after disposition
/// (`outcomes.follow_up_months`; DESIGN.md: months 1..30; seed 000 reports
/// effects up to 30 months of follow-up).
pub const DEFAULT_FOLLOW_UP_MONTHS: usize = 30;

/// The shortest and longest follow-up a scenario may ask for: one year (the
/// VORS evaluation's rearrest figure, seed 003) to ten years. Hazard tables
/// and histograms are sized for the longest, so memory and speed per youth
/// do not depend on the horizon.
pub const MIN_FOLLOW_UP_MONTHS: usize = 12;
pub const MAX_FOLLOW_UP_MONTHS: usize = 120;

/// Effects are estimated every this many follow-up months, to the horizon
/// (DESIGN.md: 6, 12, 18, 24, 30 at the default horizon); the horizon is a
/// multiple of it.
pub const EFFECT_STEP_MONTHS: usize = 6;

/// The most effect months a horizon can have.
pub const MAX_EFFECTS: usize = MAX_FOLLOW_UP_MONTHS / EFFECT_STEP_MONTHS;

/// The follow-up months at which effects are estimated for `horizon`.
pub fn effect_months(horizon: usize) -> impl Iterator<Item = usize> + Clone {
    (1..=horizon / EFFECT_STEP_MONTHS).map(|k| k * EFFECT_STEP_MONTHS)
}

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
/// rearrest figure (seed 003), and the end of follow-up (30 by default;
/// DESIGN.md); only 12 when the follow-up is 12 months.
pub fn averted_months(horizon: usize) -> Vec<u32> {
    if horizon == 12 {
        vec![12]
    } else {
        vec![12, horizon as u32]
    }
}
