//! Study designs, per replication: what each design would have estimated,
//! with the 95% interval its study would have reported (the counts they
//! need, the estimators and their arithmetic). How they fare across
//! replications is `super::diagnosis`.
//!
//! The estimand of every observational design, and of the randomized
//! complier effect, is the true effect on the treated (`true_att`: the
//! mediated youths' cumulative rearrest over their own untreated
//! counterfactual); the randomized intention-to-treat contrast estimates the
//! true ITT effect (`true_itt`: the offered arm's rearrest over the same
//! youths' untreated counterfactual). Effects are ratios of cumulative
//! incidence every 6 follow-up months to the horizon (6 to 30 by default).
//!
//! - `naive`: mediated vs everyone not mediated; Katz log risk-ratio interval.
//! - `vors_design`: mediated vs victim declined (the VORS evaluation's
//!   comparison; seed 003); Katz interval.
//! - `stratified`: the same comparison, Mantel-Haenszel risk ratio across
//!   strata of the observed covariates (offense, first or second arrest,
//!   sex, age band 13-15 or 16-17); Greenland-Robins (1985) variance.
//! - `matched`, `ipw`: the mediated against the comparison pool (or, without
//!   one, everyone not mediated), matched or weighted on a propensity score
//!   of the observed covariates (see `super::propensity`).
//! - `rct_itt`: offered arm vs control arm, when the scenario randomizes
//!   before consent; Katz interval.
//! - `rct_consent_first`: the same contrast when the scenario randomizes
//!   only consented cases (`design.randomize_after_consent`): its ITT is the
//!   effect on the consenters offered mediation; Katz interval.
//! - `rct_cace`: the effect on those who took part, from the randomized
//!   arms: the untreated risk of participants is the control arm's risk less
//!   the non-participants' share, divided by the participation rate
//!   (DESIGN.md); delta-method interval on the log scale.

use crate::measure::names::group;
use crate::measure::propensity::Adjusted;
use crate::measure::stats::Z95;
use crate::model::design::Shape;
use crate::model::referral::Youth;
use crate::model::time::{EFFECT_STEP_MONTHS, MAX_EFFECTS};

/// Mantel-Haenszel strata: 6 offenses x 2 arrests x 2 sexes x 2 age bands.
pub const STRATA: usize = 48;

/// Youths and first rearrests (by each effect month) of one set of youths.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Counts {
    pub youths: u64,
    /// By effect month (6, 12, ... to the longest horizon).
    pub events: [u64; MAX_EFFECTS],
}

impl Default for Counts {
    fn default() -> Self {
        Counts {
            youths: 0,
            events: [0; MAX_EFFECTS],
        }
    }
}

impl Counts {
    /// Adds a youth whose first rearrest came at `time` months (if any).
    pub fn add(&mut self, time: Option<f64>) {
        self.youths += 1;
        if let Some(t) = time {
            for (k, events) in self.events.iter_mut().enumerate() {
                *events += u64::from(t <= ((k + 1) * EFFECT_STEP_MONTHS) as f64);
            }
        }
    }
}

/// The counts every design needs, for one replication.
#[derive(Debug, Clone)]
pub(crate) struct DesignTally {
    /// By stratum: the mediated (0) and the victim-declined comparison (1).
    pub strata: [[Counts; 2]; STRATA],
    /// The randomized arms (all zero when the scenario does not randomize).
    pub offered: Counts,
    /// The offered arm's untreated counterfactual (for `true_itt`).
    pub offered_untreated: Counts,
    pub participants: Counts,
    pub nonparticipants: Counts,
    pub control: Counts,
}

impl Default for DesignTally {
    fn default() -> Self {
        DesignTally {
            strata: [[Counts::default(); 2]; STRATA],
            offered: Counts::default(),
            offered_untreated: Counts::default(),
            participants: Counts::default(),
            nonparticipants: Counts::default(),
            control: Counts::default(),
        }
    }
}

/// A youth's stratum of observed covariates.
pub fn stratum(youth: &Youth) -> usize {
    let age_band = usize::from(youth.age >= 16);
    ((youth.offense as usize * 2 + usize::from(youth.prior_arrests > 0)) * 2
        + usize::from(youth.male))
        * 2
        + age_band
}

/// An estimate with its nominal 95% interval; NaN where undefined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub ratio: f64,
    pub lower: f64,
    pub upper: f64,
}

impl Estimate {
    pub const UNDEFINED: Estimate = Estimate {
        ratio: f64::NAN,
        lower: f64::NAN,
        upper: f64::NAN,
    };

    /// A ratio with a standard error of its log (NaN bounds if the error
    /// is not finite).
    pub(crate) fn with_log_se(ratio: f64, se: f64) -> Estimate {
        if !(ratio.is_finite() && ratio > 0.0 && se.is_finite()) {
            return Estimate {
                ratio,
                lower: f64::NAN,
                upper: f64::NAN,
            };
        }
        Estimate {
            ratio,
            lower: ratio * (-Z95 * se).exp(),
            upper: ratio * (Z95 * se).exp(),
        }
    }
}

/// Risk ratio of two groups with Katz's interval:
/// `se(log RR) = sqrt(1/a - 1/n1 + 1/c - 1/n0)`.
pub fn katz(a: u64, n1: u64, c: u64, n0: u64) -> Estimate {
    if n1 == 0 || n0 == 0 || c == 0 {
        return Estimate::UNDEFINED;
    }
    let (a, n1, c, n0) = (a as f64, n1 as f64, c as f64, n0 as f64);
    let ratio = (a / n1) / (c / n0);
    let se = (1.0 / a - 1.0 / n1 + 1.0 / c - 1.0 / n0).sqrt();
    Estimate::with_log_se(ratio, if a > 0.0 { se } else { f64::NAN })
}

/// Mantel-Haenszel risk ratio across strata with the Greenland-Robins
/// variance of its log. Each stratum: (events, youths) treated, then
/// comparison; strata lacking either group carry no information.
pub fn mantel_haenszel(strata: impl Iterator<Item = (u64, u64, u64, u64)>) -> Estimate {
    let (mut r, mut s, mut v) = (0.0, 0.0, 0.0);
    for (a, n1, c, n0) in strata {
        if n1 == 0 || n0 == 0 {
            continue;
        }
        let (a, n1, c, n0) = (a as f64, n1 as f64, c as f64, n0 as f64);
        let n = n1 + n0;
        r += a * n0 / n;
        s += c * n1 / n;
        v += (n1 * n0 * (a + c) - a * c * n) / (n * n);
    }
    if s <= 0.0 {
        return Estimate::UNDEFINED;
    }
    let ratio = r / s;
    let se = if r > 0.0 {
        (v / (r * s)).sqrt()
    } else {
        f64::NAN
    };
    Estimate::with_log_se(ratio, se)
}

/// Difference-in-differences on the log scale: the ratio of the treated's
/// offenses after to before over the comparison's, each a sum of counts
/// `(after, before)`; `se(log) = sqrt(1/A1 + 1/B1 + 1/A0 + 1/B0)` treats
/// the four sums as Poisson (overdispersion, as with a frailty, makes the
/// interval too narrow: its coverage is a diagnosand to read).
pub fn did(treated: (u64, u64), comparison: (u64, u64)) -> Estimate {
    let ((a1, b1), (a0, b0)) = (treated, comparison);
    if b1 == 0 || a0 == 0 || b0 == 0 {
        return Estimate::UNDEFINED;
    }
    let (a1, b1, a0, b0) = (a1 as f64, b1 as f64, a0 as f64, b0 as f64);
    let ratio = (a1 / b1) / (a0 / b0);
    let se = if a1 > 0.0 {
        (1.0 / a1 + 1.0 / b1 + 1.0 / a0 + 1.0 / b0).sqrt()
    } else {
        f64::NAN
    };
    Estimate::with_log_se(ratio, se)
}

/// The complier effect ratio from the randomized arms, with a delta-method
/// interval on the log scale (arms and proportions taken as independent
/// binomials).
pub fn cace(
    participants: (u64, u64),
    nonparticipants: (u64, u64),
    control: (u64, u64),
) -> Estimate {
    let (a_p, n_p) = participants;
    let (a_n, n_n) = nonparticipants;
    let (a_c, n_c) = control;
    let offered = n_p + n_n;
    if n_p == 0 || n_c == 0 {
        return Estimate::UNDEFINED;
    }
    let pi = n_p as f64 / offered as f64;
    let p1 = a_p as f64 / n_p as f64;
    let p_n = if n_n > 0 {
        a_n as f64 / n_n as f64
    } else {
        0.0
    };
    let p_c = a_c as f64 / n_c as f64;
    // Untreated risk of participants, times the participation rate.
    let d = p_c - (1.0 - pi) * p_n;
    if d <= 0.0 {
        return Estimate::UNDEFINED;
    }
    let ratio = pi * p1 / d;
    let var_pi = pi * (1.0 - pi) / offered as f64;
    let var_pn = if n_n > 0 {
        p_n * (1.0 - p_n) / n_n as f64
    } else {
        0.0
    };
    let var = (1.0 / pi - p_n / d).powi(2) * var_pi
        + if p1 > 0.0 {
            (1.0 - p1) / (p1 * n_p as f64)
        } else {
            f64::NAN
        }
        + p_c * (1.0 - p_c) / (n_c as f64 * d * d)
        + ((1.0 - pi) / d).powi(2) * var_pn;
    Estimate::with_log_se(ratio, var.sqrt())
}

/// A study design's estimator: what a study of that design would have
/// reported, from the youths it could observe. The names are DESIGN.md's
/// `effect_ratio` groups; [`Estimator::in_output`] gives their order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Estimator {
    /// Mediated vs everyone not mediated; Katz interval.
    Naive,
    /// Mediated vs victim declined, the VORS evaluation's comparison
    /// (seed 003); Katz interval.
    VorsDesign,
    /// The VORS comparison, Mantel-Haenszel across strata of the observed
    /// covariates; Greenland-Robins interval.
    Stratified,
    /// Mediated vs the comparison, 1:1 matched on a propensity score.
    Matched,
    /// Mediated vs the comparison, ATT-weighted by a propensity score.
    Ipw,
    /// Offered arm vs control arm (randomized scenarios); Katz interval.
    RctItt,
    /// Offered arm vs control arm of a trial randomizing consented cases.
    RctConsentFirst,
    /// Difference-in-differences of offense counts before referral and
    /// after disposition, mediated vs not mediated (with a pre-period).
    Did,
    /// The complier effect from the randomized arms; delta-method interval.
    RctCace,
}

/// What the design estimators read at one effect month: first rearrests and
/// youths of the groups they compare, and the design tally.
pub(crate) struct DesignInputs<'a> {
    /// (first rearrests by the month, youths) of the mediated.
    pub mediated: (u64, u64),
    pub not_mediated: (u64, u64),
    pub victim_declined: (u64, u64),
    pub design: &'a DesignTally,
    /// The matched and weighted designs' estimates.
    pub adjusted: &'a Adjusted,
    /// Index into the effect months.
    pub k: usize,
}

impl Estimator {
    /// Every estimator, in output order.
    pub const ALL: [Estimator; 9] = [
        Estimator::Naive,
        Estimator::VorsDesign,
        Estimator::Stratified,
        Estimator::Matched,
        Estimator::Ipw,
        Estimator::Did,
        Estimator::RctItt,
        Estimator::RctConsentFirst,
        Estimator::RctCace,
    ];

    /// Its `effect_ratio` group name (DESIGN.md).
    pub fn name(self) -> &'static str {
        match self {
            Estimator::Naive => group::NAIVE,
            Estimator::VorsDesign => group::VORS_DESIGN,
            Estimator::Stratified => group::STRATIFIED,
            Estimator::Matched => group::MATCHED,
            Estimator::Ipw => group::IPW,
            Estimator::RctItt => group::RCT_ITT,
            Estimator::RctConsentFirst => group::RCT_CONSENT_FIRST,
            Estimator::Did => group::DID,
            Estimator::RctCace => group::RCT_CACE,
        }
    }

    /// The true effect it aims at: the effect on the treated, except the
    /// randomized intention-to-treat contrast, which aims at the true ITT.
    pub fn estimand(self) -> &'static str {
        match self {
            Estimator::RctItt | Estimator::RctConsentFirst => group::TRUE_ITT,
            Estimator::Did => group::TRUE_RATE_ATT,
            _ => group::TRUE_ATT,
        }
    }

    /// Whether a scenario of this shape reports it: the randomized ones
    /// only when the scenario randomizes (`rct_itt` before consent,
    /// `rct_consent_first` after).
    pub fn reported(self, shape: Shape) -> bool {
        match self {
            Estimator::RctItt => shape.randomized && !shape.after_consent,
            Estimator::RctConsentFirst => shape.after_consent,
            Estimator::RctCace => shape.randomized,
            Estimator::Did => shape.pre_period > 0,
            _ => true,
        }
    }

    /// The estimators a scenario of this shape reports, in output order.
    pub fn in_output(shape: Shape) -> impl Iterator<Item = Estimator> {
        Estimator::ALL
            .into_iter()
            .filter(move |e| e.reported(shape))
    }

    /// Its estimate and nominal 95% interval at one effect month.
    pub(crate) fn estimate(self, i: &DesignInputs) -> Estimate {
        let (d, k) = (i.design, i.k);
        match self {
            Estimator::Naive => {
                let ((a, n1), (c, n0)) = (i.mediated, i.not_mediated);
                katz(a, n1, c, n0)
            }
            Estimator::VorsDesign => {
                let ((a, n1), (c, n0)) = (i.mediated, i.victim_declined);
                katz(a, n1, c, n0)
            }
            Estimator::Stratified => mantel_haenszel(
                d.strata
                    .iter()
                    .map(|[t, c]| (t.events[k], t.youths, c.events[k], c.youths)),
            ),
            Estimator::Matched => i.adjusted.matched[k],
            // Read from counts in a window, by `did` (see `metrics`).
            Estimator::Did => Estimate::UNDEFINED,
            Estimator::Ipw => i.adjusted.ipw[k],
            Estimator::RctItt | Estimator::RctConsentFirst => katz(
                d.offered.events[k],
                d.offered.youths,
                d.control.events[k],
                d.control.youths,
            ),
            Estimator::RctCace => cace(
                (d.participants.events[k], d.participants.youths),
                (d.nonparticipants.events[k], d.nonparticipants.youths),
                (d.control.events[k], d.control.youths),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimators_name_their_groups_and_estimands() {
        let names: Vec<&str> = Estimator::in_output(Shape::default())
            .map(Estimator::name)
            .collect();
        assert_eq!(
            names,
            ["naive", "vors_design", "stratified", "matched", "ipw"]
        );
        let randomized = Shape {
            randomized: true,
            ..Shape::default()
        };
        let names: Vec<&str> = Estimator::in_output(randomized)
            .map(Estimator::name)
            .collect();
        assert!(names.contains(&"rct_itt") && names.contains(&"rct_cace"));
        let after = Shape {
            after_consent: true,
            ..randomized
        };
        let names: Vec<&str> = Estimator::in_output(after).map(Estimator::name).collect();
        assert!(names.contains(&"rct_consent_first") && !names.contains(&"rct_itt"));
        assert_eq!(Estimator::RctItt.estimand(), "true_itt");
        assert_eq!(Estimator::RctCace.estimand(), "true_att");
    }

    #[test]
    fn katz_matches_a_hand_computation() {
        // 10/100 vs 20/100: RR 0.5, se = sqrt(1/10 - 1/100 + 1/20 - 1/100) = 0.3742.
        let e = katz(10, 100, 20, 100);
        assert!((e.ratio - 0.5).abs() < 1e-12);
        let se = (0.1f64 - 0.01 + 0.05 - 0.01).sqrt();
        assert!((e.lower - 0.5 * (-Z95 * se).exp()).abs() < 1e-12);
        assert!((e.upper - 0.5 * (Z95 * se).exp()).abs() < 1e-12);
        assert!(katz(0, 100, 20, 100).lower.is_nan());
        assert!(katz(3, 100, 0, 100).ratio.is_nan());
    }

    #[test]
    fn mantel_haenszel_of_one_stratum_is_the_crude_ratio() {
        let one = mantel_haenszel([(10, 100, 20, 100)].into_iter());
        assert!((one.ratio - 0.5).abs() < 1e-12);
        // With one stratum the Greenland-Robins variance equals Katz's.
        let k = katz(10, 100, 20, 100);
        assert!((one.lower - k.lower).abs() < 1e-9);
        // Homogeneous strata give their common ratio; empty strata are ignored.
        let two = mantel_haenszel([(5, 50, 20, 100), (12, 40, 6, 10), (3, 0, 4, 9)].into_iter());
        assert!((two.ratio - 0.5).abs() < 1e-12);
    }

    #[test]
    fn cace_without_noncompliance_is_the_itt_ratio() {
        let c = cace((15, 100), (0, 0), (30, 100));
        assert!((c.ratio - 0.5).abs() < 1e-12);
        // Half take part; non-participants' risk 0.4, control 0.3:
        // untreated risk of participants = (0.3 - 0.5 * 0.4) / 0.5 = 0.2.
        let c = cace((10, 100), (40, 100), (60, 200));
        assert!((c.ratio - 0.5).abs() < 1e-12);
        assert!(c.lower < 0.5 && c.upper > 0.5);
        assert!(
            cace((10, 100), (90, 100), (20, 200)).ratio.is_nan(),
            "negative untreated risk"
        );
    }

    #[test]
    fn strata_are_distinct() {
        use crate::model::referral::{Offense, Race};
        let mut seen = std::collections::HashSet::new();
        for offense in Offense::ALL {
            for prior_arrests in [0, 1] {
                for male in [false, true] {
                    for age in [13, 17] {
                        let y = Youth {
                            month: 0,
                            index: 0,
                            referral_day: 0.0,
                            age,
                            male,
                            race: Race::Hispanic,
                            offense,
                            prior_arrests,
                            risk: 0.0,
                            motivation: 0.0,
                        };
                        assert!(stratum(&y) < STRATA);
                        seen.insert(stratum(&y));
                    }
                }
            }
        }
        assert_eq!(seen.len(), STRATA);
    }
}
