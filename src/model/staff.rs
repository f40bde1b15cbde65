//! Stage 4b, paid staff: a coordinator does the intake and preparation of
//! each consented case (contacting both parties, scheduling) before the
//! case reaches the volunteer queue. Seed 003's VORS was run by paid staff
//! who recruited and supported the volunteers; how many hours a case takes
//! them is an assumption a program replaces with its own figures.
//!
//! Staff are a second first-in, first-out queue with `coordinators`
//! servers: a case waits for the first coordinator free, who then spends
//! its intake time on it (exponential, with mean `intake_hours` of the
//! case's mediation mode, turned into days at the coordinator's
//! `hours_per_month` spread over the month: a coordinator's cases share
//! their hours, which for capacity is one case at a time at that rate).
//! With Poisson arrivals and one mode this is the M/M/c queue
//! (`tests/staff.rs` checks it against Erlang C). Without staff
//! (`coordinators = 0`, the default) intake takes no time and nothing here
//! runs, so outputs are those of a program without the stage.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::model::session::Mode;
use crate::model::time::DAYS_PER_MONTH;

/// Validated staff parameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StaffParams {
    /// Coordinators (at least 1: without staff there are no parameters).
    pub coordinators: u32,
    /// Hours a coordinator gives to intake in a month.
    pub hours_per_month: f64,
    /// Mean intake hours per case, by mode ([`Mode::ALL`] order).
    pub intake_hours: [f64; 3],
}

impl StaffParams {
    /// A case's intake time in days, from a uniform in (0, 1): exponential
    /// with mean the mode's hours at the coordinator's daily rate.
    pub fn intake_days(&self, mode: Mode, u: f64) -> f64 {
        let mean_days = self.intake_hours[mode as usize] / (self.hours_per_month / DAYS_PER_MONTH);
        -mean_days * u.ln()
    }
}

/// What the staff queue did, by program month (index: month - 1).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct StaffLoad {
    /// Coordinator-days busy with intake.
    pub busy_days: Vec<f64>,
    /// Waits for a coordinator of the cases whose intake began in the month.
    pub waits: Vec<Vec<f64>>,
}

/// Runs the staff queue: `cases` are (arrival day, intake days), sorted by
/// arrival. Returns each case's day of reaching the volunteer queue (the
/// end of its intake) and the load of `months` program months.
pub(crate) fn run_staff(
    params: &StaffParams,
    cases: &[(f64, f64)],
    months: usize,
) -> (Vec<f64>, StaffLoad) {
    let mut load = StaffLoad {
        busy_days: vec![0.0; months],
        waits: vec![Vec::new(); months],
    };
    // Each coordinator's next free day; first come, first served: the
    // case arriving next takes the coordinator free first (ties: lowest).
    let mut free: BinaryHeap<Reverse<(OrderedDay, u32)>> = (0..params.coordinators)
        .map(|id| Reverse((OrderedDay(0.0), id)))
        .collect();
    let mut done = Vec::with_capacity(cases.len());
    for &(arrival, intake) in cases {
        let Reverse((OrderedDay(free_day), id)) = free.pop().expect("at least one coordinator");
        let start = arrival.max(free_day);
        let end = start + intake;
        if let Some(m) = month_index(start, months) {
            load.waits[m].push(start - arrival);
        }
        add_busy(&mut load.busy_days, start, end);
        free.push(Reverse((OrderedDay(end), id)));
        done.push(end);
    }
    (done, load)
}

/// The program month (0-based) a day falls in, if reported.
fn month_index(day: f64, months: usize) -> Option<usize> {
    let m = (day / DAYS_PER_MONTH).floor();
    (m >= 0.0 && (m as usize) < months).then_some(m as usize)
}

/// Adds the busy interval `[start, end)` to the months it spans.
fn add_busy(busy: &mut [f64], start: f64, end: f64) {
    let mut from = start;
    while from < end {
        let Some(m) = month_index(from, busy.len()) else {
            return;
        };
        let month_end = (m as f64 + 1.0) * DAYS_PER_MONTH;
        let to = end.min(month_end);
        busy[m] += to - from;
        from = month_end;
    }
}

/// A day with a total order (days are finite).
#[derive(Debug, Clone, Copy, PartialEq)]
struct OrderedDay(f64);

impl Eq for OrderedDay {}

impl PartialOrd for OrderedDay {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderedDay {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(coordinators: u32) -> StaffParams {
        StaffParams {
            coordinators,
            hours_per_month: DAYS_PER_MONTH,
            intake_hours: [1.0, 2.0, 3.0],
        }
    }

    #[test]
    fn first_come_first_served_with_two_coordinators() {
        // Intake of 10, 10, 10, 1 days; two coordinators.
        let cases = [(0.0, 10.0), (1.0, 10.0), (2.0, 10.0), (3.0, 1.0)];
        let (done, load) = run_staff(&params(2), &cases, 2);
        assert_eq!(done, [10.0, 11.0, 20.0, 12.0]);
        assert_eq!(load.waits[0], [0.0, 0.0, 8.0, 8.0]);
        assert!((load.busy_days.iter().sum::<f64>() - 31.0).abs() < 1e-9);
        // Busy time split at the month's end.
        assert!(
            (load.busy_days[0] - 31.0).abs() < 1e-9,
            "{:?}",
            load.busy_days
        );
        let (_, load) = run_staff(&params(1), &[(25.0, 10.0)], 2);
        assert!((load.busy_days[0] - (DAYS_PER_MONTH - 25.0)).abs() < 1e-9);
        assert!((load.busy_days[1] - (35.0 - DAYS_PER_MONTH)).abs() < 1e-9);
    }

    #[test]
    fn intake_days_follow_the_modes_hours() {
        // One hour a day: the mean intake is the mode's hours, in days.
        let p = params(1);
        let u = (-1.0f64).exp(); // -ln(u) = 1
        assert!((p.intake_days(Mode::FaceToFace, u) - 1.0).abs() < 1e-12);
        assert!((p.intake_days(Mode::Conference, u) - 3.0).abs() < 1e-12);
    }
}
