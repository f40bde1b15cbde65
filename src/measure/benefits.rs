//! The program's benefits by source, per referral: what the rearrests it
//! averts would have cost (justice and victims) and the referring agency's
//! cases it no longer handles. They sum to the benefits of
//! `net_benefit_per_referral` and `benefit_cost_ratio`; restitution paid
//! to victims is a transfer, reported apart
//! (`restitution_paid_per_referral`). Kept out of `metrics.rs`, which
//! calls [`emit`] once, after the costs and benefits.

use super::metrics::{MetricKey, Tally};
use super::names::{group, metric};

/// Emits `benefit_per_referral` for each source (group
/// `rearrests_averted`, `agency_cases_avoided`); undefined (NaN) without
/// referrals.
pub(crate) fn emit(tally: &Tally, out: &mut impl FnMut(MetricKey, f64)) {
    let referrals = tally.youths[super::metrics::Group::Referred as usize] as f64;
    let c = &tally.costs;
    let m = &tally.money;
    let per_referral = |dollars: f64| {
        if referrals > 0.0 {
            dollars / referrals
        } else {
            f64::NAN
        }
    };
    let rearrests = (c.justice_per_rearrest + c.victim_per_rearrest) * m.averted_discounted;
    let agency = c.agency_per_case * (m.agency_cases_without - m.agency_cases_with);
    for (source, dollars) in [
        (group::REARRESTS_AVERTED, rearrests),
        (group::AGENCY_CASES_AVOIDED, agency),
    ] {
        out(
            MetricKey {
                metric: metric::BENEFIT_PER_REFERRAL,
                group: source,
                month: None,
            },
            per_referral(dollars),
        );
    }
}
