//! Who is diverted: outcomes by race, sex, age and offense, the tally a
//! program is judged on for equity. Each subgroup (`race=black`,
//! `sex=female`, `age=14`, `offense=burglary`) reports its share of
//! referrals (`share`), the shares of its referrals offered mediation
//! (`share_offered`: not randomized to a control arm), whose victims agreed
//! (`share_victim_consented`), mediated (`share_mediated`) and returned for
//! waiting (`share_returned`), its mediated share over everyone's
//! (`disparity_mediated`, 1 = parity), and its cumulative rearrest (`rearrest`) at
//! follow-up months 12 and the horizon (30 by default) in the realized world.
//! That rearrest is also reported by disposition, in groups named
//! `SUBGROUP;DISPOSITION` (`race=black;mediated`, `sex=female;victim_declined`;
//! [`group::subgroup_dispositions`]): the subgroup's youths with that
//! disposition, so a program can see whether mediation's effect on rearrest
//! reaches every group.
//!
//! Kept apart from `metrics.rs`, which holds an `EquityTally`, adds each
//! youth to it and calls `emit` once.

use super::metrics::{CaseRecord, Disposition, MetricKey, Tally};
use super::names::{group, metric};
use crate::model::referral::{Offense, Race};

/// Every subgroup name, in output order (see [`group::SUBGROUPS`]).
pub const GROUPS: [&str; 21] = group::SUBGROUPS;

const SEX: usize = 5;
const AGE: usize = 7;
const OFFENSE: usize = 15;
/// The follow-up months whose rearrest is reported by subgroup: 12 and the
/// end of follow-up (the months of rearrests averted).
fn months(horizon: usize) -> Vec<u32> {
    crate::model::time::averted_months(horizon)
}

/// Counts by subgroup.
#[derive(Debug, Clone, Default)]
pub(crate) struct EquityTally {
    referred: [u64; 21],
    offered: [u64; 21],
    victim_consented: [u64; 21],
    mediated: [u64; 21],
    returned: [u64; 21],
    /// First rearrests by month 12 and by the end of follow-up.
    rearrested: [[u64; 21]; 2],
    /// Referred youths by disposition (in [`group::DISPOSITIONS`] order).
    by_disposition: [[u64; 21]; 5],
    /// Their first rearrests by month 12 and by the end of follow-up.
    rearrested_by_disposition: [[[u64; 21]; 5]; 2],
}

/// A disposition's place in [`group::DISPOSITIONS`].
fn disposition_index(d: Disposition) -> usize {
    match d {
        Disposition::Mediated => 0,
        Disposition::VictimDeclined => 1,
        Disposition::OffenderDeclined => 2,
        Disposition::ReturnedWait => 3,
        Disposition::Control => 4,
    }
}

fn position<T: PartialEq>(all: &[T], x: &T) -> usize {
    all.iter().position(|a| a == x).unwrap_or(0)
}

impl EquityTally {
    /// Adds one referred youth to its four subgroups (`horizon`: months of
    /// follow-up).
    pub fn add(&mut self, case: &CaseRecord, horizon: usize) {
        let y = case.youth;
        let groups = [
            position(&Race::ALL, &y.race),
            SEX + usize::from(!y.male),
            AGE + usize::from(y.age.clamp(10, 17) - 10),
            OFFENSE + position(&Offense::ALL, &y.offense),
        ];
        let d = case.disposition;
        let mediated = d == Disposition::Mediated;
        let realized = case.outcomes.rearrest[usize::from(mediated)];
        let k = disposition_index(d);
        // Rearrested by month 12 and by the horizon (the second unused when
        // they are one): decided once, added to each of the four groups.
        let rearrested =
            [12.0, horizon as f64].map(|month| u64::from(realized.is_some_and(|t| t <= month)));
        for g in groups {
            self.by_disposition[k][g] += 1;
            self.referred[g] += 1;
            self.offered[g] += u64::from(d != Disposition::Control);
            self.victim_consented[g] += u64::from(mediated || d == Disposition::ReturnedWait);
            self.mediated[g] += u64::from(mediated);
            self.returned[g] += u64::from(d == Disposition::ReturnedWait);
            for (i, &hit) in rearrested.iter().enumerate() {
                self.rearrested[i][g] += hit;
                self.rearrested_by_disposition[i][k][g] += hit;
            }
        }
    }
}

fn ratio(numerator: u64, denominator: u64) -> f64 {
    if denominator > 0 {
        numerator as f64 / denominator as f64
    } else {
        f64::NAN
    }
}

/// Emits every subgroup's metrics (NaN where the subgroup is empty).
pub(crate) fn emit(tally: &Tally, out: &mut impl FnMut(MetricKey, f64)) {
    let e = &tally.equity;
    let total: u64 = e.referred[..SEX].iter().sum();
    let mediated: u64 = e.mediated[..SEX].iter().sum();
    for (g, name) in GROUPS.iter().enumerate() {
        let key = |metric, month| MetricKey {
            metric,
            group: name,
            month,
        };
        let n = e.referred[g];
        out(key(metric::SHARE, None), ratio(n, total));
        out(key(metric::SHARE_OFFERED, None), ratio(e.offered[g], n));
        out(
            key(metric::SHARE_VICTIM_CONSENTED, None),
            ratio(e.victim_consented[g], n),
        );
        out(key(metric::SHARE_MEDIATED, None), ratio(e.mediated[g], n));
        out(key(metric::SHARE_RETURNED, None), ratio(e.returned[g], n));
        // The subgroup's mediated share over everyone's: 1 is parity.
        out(
            key(metric::DISPARITY_MEDIATED, None),
            ratio(e.mediated[g], n) / ratio(mediated, total),
        );
        for (i, month) in months(tally.shape.horizon).iter().enumerate() {
            out(
                key(metric::REARREST, Some(*month)),
                ratio(e.rearrested[i][g], n),
            );
        }
    }
    // Rearrest by subgroup and disposition, after every subgroup's rows;
    // the control arm only when the scenario has one.
    let dispositions = if tally.shape.randomized { 5 } else { 4 };
    let names = group::subgroup_dispositions();
    for g in 0..GROUPS.len() {
        for k in 0..dispositions {
            let name = names[g * group::DISPOSITIONS.len() + k];
            for (i, month) in months(tally.shape.horizon).iter().enumerate() {
                out(
                    MetricKey {
                        metric: metric::REARREST,
                        group: name,
                        month: Some(*month),
                    },
                    ratio(e.rearrested_by_disposition[i][k][g], e.by_disposition[k][g]),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names follow the model's categories, in its order.
    #[test]
    fn group_names_follow_the_model() {
        for (i, race) in Race::ALL.iter().enumerate() {
            assert_eq!(GROUPS[i], format!("race={}", race.name()));
        }
        assert_eq!(&GROUPS[SEX..AGE], ["sex=male", "sex=female"]);
        for age in 10..=17u8 {
            assert_eq!(GROUPS[AGE + usize::from(age - 10)], format!("age={age}"));
        }
        for (i, offense) in Offense::ALL.iter().enumerate() {
            assert_eq!(GROUPS[OFFENSE + i], format!("offense={}", offense.name()));
        }
        assert_eq!(OFFENSE + Offense::ALL.len(), GROUPS.len());
    }

    /// The dispositions' order is the one their names are made in.
    #[test]
    fn dispositions_follow_their_names() {
        for d in [
            Disposition::Mediated,
            Disposition::VictimDeclined,
            Disposition::OffenderDeclined,
            Disposition::ReturnedWait,
            Disposition::Control,
        ] {
            assert_eq!(group::DISPOSITIONS[disposition_index(d)], d.group().name());
        }
        let names = group::subgroup_dispositions();
        assert_eq!(names.len(), GROUPS.len() * group::DISPOSITIONS.len());
        assert_eq!(names[1], "race=hispanic;victim_declined");
        assert_eq!(names[names.len() - 1], "offense=violent;rct_control");
    }
}
