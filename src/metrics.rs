//! What one replication reports: a tally of counts in fixed arrays indexed
//! by group and month, turned into the named metrics of DESIGN.md's
//! contract (`metric`, `group`, `month`).
//!
//! The metric catalog and a replication's values come from one traversal,
//! [`emit`], so the keys and values can never fall out of step. A value
//! that is undefined in a replication (a ratio over an empty group) is NaN
//! here and is left out of that replication's rows downstream.

use crate::consent::Consent;
use crate::mediators::Caseload;
use crate::recidivism::{FOLLOW_UP_MONTHS, PotentialOutcomes};
use crate::referral::DAYS_PER_MONTH;
use crate::restitution::Restitution;
use crate::stats::quantile_sorted;

/// Follow-up months at which effects are estimated.
pub const EFFECT_MONTHS: [usize; 5] = [6, 12, 18, 24, 30];

/// A youth's own group: where its case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Mediated,
    VictimDeclined,
    OffenderDeclined,
    ReturnedWait,
}

impl Disposition {
    pub fn group(self) -> Group {
        match self {
            Disposition::Mediated => Group::Mediated,
            Disposition::VictimDeclined => Group::VictimDeclined,
            Disposition::OffenderDeclined => Group::OffenderDeclined,
            Disposition::ReturnedWait => Group::ReturnedWait,
        }
    }
}

/// The reported groups (DESIGN.md), in output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Referred,
    Mediated,
    VictimDeclined,
    OffenderDeclined,
    ReturnedWait,
    NotMediated,
    /// The mediated youths' counterfactual (their `T0`).
    MediatedUntreated,
}

impl Group {
    pub const ALL: [Group; 7] = [
        Group::Referred,
        Group::Mediated,
        Group::VictimDeclined,
        Group::OffenderDeclined,
        Group::ReturnedWait,
        Group::NotMediated,
        Group::MediatedUntreated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Group::Referred => "referred",
            Group::Mediated => "mediated",
            Group::VictimDeclined => "victim_declined",
            Group::OffenderDeclined => "offender_declined",
            Group::ReturnedWait => "returned_wait",
            Group::NotMediated => "not_mediated",
            Group::MediatedUntreated => "mediated_untreated",
        }
    }
}

/// Restitution sums for one group.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RestitutionTally {
    pub youths: u64,
    pub monetary: u64,
    pub monetary_completed: u64,
    pub dollars_set: f64,
    pub dollars_paid: f64,
    pub service: u64,
    pub service_completed: u64,
    pub hours_set: f64,
    pub hours_done: f64,
}

impl RestitutionTally {
    fn add(&mut self, r: &Restitution) {
        self.youths += 1;
        if r.obligations.amount > 0.0 {
            self.monetary += 1;
            self.monetary_completed += u64::from(r.payment_completed);
            self.dollars_set += r.obligations.amount;
            self.dollars_paid += r.paid;
        }
        if r.obligations.hours > 0.0 {
            self.service += 1;
            self.service_completed += u64::from(r.service_completed);
            self.hours_set += r.obligations.hours;
            self.hours_done += r.hours_done;
        }
    }
}

/// Counts of one replication. Event histograms count first events by the
/// follow-up month they fall in (month m holds times in (m-1, m]).
#[derive(Debug, Clone)]
pub(crate) struct Tally {
    pub youths: [u64; 7],
    pub rearrest: [[u64; FOLLOW_UP_MONTHS]; 7],
    pub reconviction: [[u64; FOLLOW_UP_MONTHS]; 7],
    /// Every youth's first rearrest under `T0` and `T1` (for the ATE).
    pub everyone: [[u64; FOLLOW_UP_MONTHS]; 2],
    /// Restitution of the mediated and of the victim-declined comparison.
    pub restitution: [RestitutionTally; 2],
    /// Referrals and consents by program month of referral.
    pub referrals: Vec<u64>,
    pub offender_consents: Vec<u64>,
    pub victim_consents: Vec<u64>,
    /// The queue's month-by-month caseload.
    pub caseload: Caseload,
    /// Every queued case's wait (until assignment or return), in days.
    pub waits: Vec<f64>,
}

impl Tally {
    /// An empty tally reporting `months` program months of caseload.
    pub fn new(months: usize) -> Tally {
        Tally {
            youths: [0; 7],
            rearrest: [[0; FOLLOW_UP_MONTHS]; 7],
            reconviction: [[0; FOLLOW_UP_MONTHS]; 7],
            everyone: [[0; FOLLOW_UP_MONTHS]; 2],
            restitution: [RestitutionTally::default(); 2],
            referrals: vec![0; months],
            offender_consents: vec![0; months],
            victim_consents: vec![0; months],
            caseload: Caseload::new(months),
            waits: Vec::new(),
        }
    }

    /// Program months reported.
    pub fn months(&self) -> usize {
        self.referrals.len()
    }

    /// Counts a referral and its consents in its program month.
    pub fn add_referral(&mut self, month: usize, consent: &Consent) {
        if month < self.months() {
            self.referrals[month] += 1;
            self.offender_consents[month] += u64::from(consent.offender);
            self.victim_consents[month] += u64::from(consent.victim);
        }
    }
}

#[inline]
fn month_index(t: f64) -> usize {
    (t.ceil() as usize).clamp(1, FOLLOW_UP_MONTHS) - 1
}

impl Tally {
    /// Adds one youth.
    pub fn add(
        &mut self,
        disposition: Disposition,
        restitution: &Restitution,
        outcomes: &PotentialOutcomes,
        wait_days: Option<f64>,
    ) {
        if let Some(w) = wait_days {
            self.waits.push(w);
        }
        let mediated = disposition == Disposition::Mediated;
        let world = usize::from(mediated);
        let mut groups = [Group::Referred, disposition.group(), Group::NotMediated];
        let group_count = if mediated { 2 } else { 3 };
        for group in &mut groups[..group_count] {
            let g = *group as usize;
            self.youths[g] += 1;
            if let Some(t) = outcomes.rearrest[world] {
                self.rearrest[g][month_index(t)] += 1;
            }
            if let Some(t) = outcomes.reconviction[world] {
                self.reconviction[g][month_index(t)] += 1;
            }
        }
        if mediated {
            let g = Group::MediatedUntreated as usize;
            self.youths[g] += 1;
            if let Some(t) = outcomes.rearrest[0] {
                self.rearrest[g][month_index(t)] += 1;
            }
            if let Some(t) = outcomes.reconviction[0] {
                self.reconviction[g][month_index(t)] += 1;
            }
            self.restitution[0].add(restitution);
        } else if disposition == Disposition::VictimDeclined {
            self.restitution[1].add(restitution);
        }
        for (w, counts) in self.everyone.iter_mut().enumerate() {
            if let Some(t) = outcomes.rearrest[w] {
                counts[month_index(t)] += 1;
            }
        }
    }
}

/// One row key of `summary.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricKey {
    pub metric: &'static str,
    pub group: &'static str,
    /// Follow-up month (outcomes, effects) or program month (caseload).
    pub month: Option<u32>,
}

fn ratio(numerator: f64, denominator: f64) -> f64 {
    if denominator > 0.0 {
        numerator / denominator
    } else {
        f64::NAN
    }
}

/// Cumulative incidence by month from a histogram of first events.
fn cumulative_incidence(
    histogram: &[u64; FOLLOW_UP_MONTHS],
    youths: u64,
) -> [f64; FOLLOW_UP_MONTHS] {
    let mut running = 0;
    std::array::from_fn(|m| {
        running += histogram[m];
        ratio(running as f64, youths as f64)
    })
}

/// Walks every metric of a replication in contract order, calling `out`
/// with its key and value.
pub(crate) fn emit(tally: &Tally, out: &mut impl FnMut(MetricKey, f64)) {
    let key = |metric, group: Group, month| MetricKey {
        metric,
        group: group.name(),
        month,
    };
    let referred = tally.youths[Group::Referred as usize] as f64;
    out(key("referrals", Group::Referred, None), referred);
    for group in Group::ALL {
        if group != Group::MediatedUntreated {
            out(
                key("share", group, None),
                ratio(tally.youths[group as usize] as f64, referred),
            );
        }
    }

    let mut incidence = [[[0.0; FOLLOW_UP_MONTHS]; 7]; 2];
    for (metric_index, (metric, histograms)) in [
        ("rearrest", &tally.rearrest),
        ("reconviction", &tally.reconviction),
    ]
    .into_iter()
    .enumerate()
    {
        for group in Group::ALL {
            let g = group as usize;
            incidence[metric_index][g] = cumulative_incidence(&histograms[g], tally.youths[g]);
            for (m, v) in incidence[metric_index][g].iter().enumerate() {
                out(key(metric, group, Some(m as u32 + 1)), *v);
            }
        }
    }

    for (i, group) in [Group::Mediated, Group::VictimDeclined]
        .into_iter()
        .enumerate()
    {
        let r = &tally.restitution[i];
        let rows = [
            ("monetary_agreed", ratio(r.monetary as f64, r.youths as f64)),
            (
                "monetary_completed",
                ratio(r.monetary_completed as f64, r.monetary as f64),
            ),
            ("dollars_paid_share", ratio(r.dollars_paid, r.dollars_set)),
            ("service_agreed", ratio(r.service as f64, r.youths as f64)),
            (
                "service_completed",
                ratio(r.service_completed as f64, r.service as f64),
            ),
            ("service_hours_share", ratio(r.hours_done, r.hours_set)),
        ];
        for (metric, v) in rows {
            out(key(metric, group, None), v);
        }
    }

    let rearrest = &incidence[0];
    let everyone_untreated = cumulative_incidence(&tally.everyone[0], tally.youths[0]);
    let everyone_treated = cumulative_incidence(&tally.everyone[1], tally.youths[0]);
    let mediated = Group::Mediated as usize;
    let estimators: [(&str, &[f64; FOLLOW_UP_MONTHS], &[f64; FOLLOW_UP_MONTHS]); 4] = [
        (
            "true_att",
            &rearrest[mediated],
            &rearrest[Group::MediatedUntreated as usize],
        ),
        ("true_ate", &everyone_treated, &everyone_untreated),
        (
            "naive",
            &rearrest[mediated],
            &rearrest[Group::NotMediated as usize],
        ),
        (
            "vors_design",
            &rearrest[mediated],
            &rearrest[Group::VictimDeclined as usize],
        ),
    ];
    for (name, treated, comparison) in estimators {
        for month in EFFECT_MONTHS {
            out(
                MetricKey {
                    metric: "effect_ratio",
                    group: name,
                    month: Some(month as u32),
                },
                ratio(treated[month - 1], comparison[month - 1]),
            );
        }
    }
    emit_caseload(tally, out);
}

/// The monthly caseload, group `program`, month = program month.
fn emit_caseload(tally: &Tally, out: &mut impl FnMut(MetricKey, f64)) {
    let c = &tally.caseload;
    let mut series = |metric: &'static str, value: &dyn Fn(usize) -> f64| {
        for m in 0..tally.months() {
            let key = MetricKey {
                metric,
                group: "program",
                month: Some(m as u32 + 1),
            };
            out(key, value(m));
        }
    };
    series("referrals", &|m| tally.referrals[m] as f64);
    series("offender_consents", &|m| tally.offender_consents[m] as f64);
    series("victim_consents", &|m| tally.victim_consents[m] as f64);
    series("sessions", &|m| c.sessions[m] as f64);
    series("backlog", &|m| c.backlog[m] as f64);
    series("active_mediators", &|m| c.active_days[m] / DAYS_PER_MONTH);
    series("training_mediators", &|m| {
        c.training_days[m] / DAYS_PER_MONTH
    });
    series("mediator_hours", &|m| c.hours[m]);
    series("utilization", &|m| {
        ratio(c.busy_slot_days[m], c.available_slot_days[m])
    });
    series("wait_days_mean", &|m| {
        ratio(c.waits[m].iter().sum(), c.waits[m].len() as f64)
    });
    series("wait_days_p90", &|m| {
        let mut waits = c.waits[m].clone();
        if waits.is_empty() {
            return f64::NAN;
        }
        waits.sort_by(f64::total_cmp);
        quantile_sorted(&waits, 0.9)
    });
    series("returned_wait", &|m| c.returned[m] as f64);
}

/// The metric catalog for `months` program months: every key a replication
/// reports, in order.
pub fn catalog(months: usize) -> Vec<MetricKey> {
    let mut keys = Vec::new();
    emit(&Tally::new(months), &mut |k, _| keys.push(k));
    keys
}

/// A replication's values, aligned with [`catalog`].
pub(crate) fn values(tally: &Tally) -> Vec<f64> {
    let mut values = Vec::new();
    emit(tally, &mut |_, v| values.push(v));
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_and_values_align() {
        let keys = catalog(3);
        assert_eq!(keys.len(), values(&Tally::new(3)).len());
        let caseload = keys.iter().filter(|k| k.group == "program").count();
        assert_eq!(caseload, 12 * 3);
        assert_eq!(keys[0].metric, "referrals");
        let effects = keys.iter().filter(|k| k.metric == "effect_ratio").count();
        assert_eq!(effects, 4 * EFFECT_MONTHS.len());
    }

    #[test]
    fn undefined_ratios_are_nan() {
        let v = values(&Tally::new(2));
        assert_eq!(v[0], 0.0);
        assert!(v[1].is_nan(), "share of nobody is undefined");
    }

    #[test]
    fn month_index_puts_times_in_their_month() {
        assert_eq!(month_index(0.01), 0);
        assert_eq!(month_index(1.0), 0);
        assert_eq!(month_index(1.01), 1);
        assert_eq!(month_index(30.0), 29);
    }
}
