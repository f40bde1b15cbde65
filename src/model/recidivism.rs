//! Stage 8-9, recidivism: rearrest and reconviction over the
//! follow-up, in both potential worlds.
//!
//! From disposition, a youth's rearrest intensity in follow-up month `j` is
//! `h0_j * exp(x'b + s*z) * HR_j^k`: a baseline `h0` (Weibull, log-logistic
//! or given monthly values, constant within a month), observed covariates `x`,
//! latent risk `z`, and for mediated youths a treatment hazard ratio of a
//! chosen shape (`effect_log_hr`): by default its log halves every
//! `half_life_months` (decaying towards 1, as the effect of VOM fades with
//! follow-up: seed 000, Review two, 0.54:1 at 6 months, 0.87:1 at 30);
//! constant, piecewise constant, or none. Effect modifiers scale the log
//! hazard ratio by `k`: a violent offense, restitution completed, a
//! session without agreement, and the mediation mode. The untreated world
//! is the court path: its hazard carries the court's own log hazard ratio
//! relative to no action (`court.log_hr`), from which mediated youths are
//! diverted; a youth waiting for mediators has not yet been processed, and
//! waits at the no-action hazard. Every shape and family gives monthly values, so
//! the cumulative tables stay piecewise linear and their inversion closed
//! form: draws stay monotone in their uniform.
//!
//! A share of youths may be *cured* (`RecidivismParams::cured`): never
//! rearrested in either world (nor while waiting for mediators). A youth is
//! cured when a latent normal, correlated with its latent risk `z`, falls in
//! the top `cure_share` of its distribution; the hazard above is that of the
//! susceptible.
//!
//! Potential outcomes with common random numbers: each youth draws one
//! stream of unit-exponential gaps; event `n` happens when the youth's
//! cumulative intensity reaches `E_1 + ... + E_n`, read off the untreated
//! table for `T0` and off the treated one for `T1`. Each event is convicted
//! with a probability after an exponential lag, with the same draws in both
//! worlds. Rearrests recur (a Poisson process with this intensity), so the
//! first rearrest has exactly the hazard above.

use crate::model::draws::{YouthDraws, keyed, normal_quantile, open01, slot};
use crate::model::referral::Youth;
use crate::model::session::Mode;

pub use crate::model::time::MAX_FOLLOW_UP_MONTHS;

/// Rearrests followed per youth at most (see `potential_outcomes`).
const MAX_EVENTS: u32 = 1000;

/// Cumulative intensity at the end of months 0..=30 (index 0 is 0).
pub(crate) type CumulativeTable = [f64; MAX_FOLLOW_UP_MONTHS + 1];

/// Combinations of the effect modifiers: violent offense (2) × restitution
/// completed (2) × agreement (2) × mode (3).
pub(crate) const MODIFIER_COMBINATIONS: usize = 24;

/// The factors on the treatment's log hazard ratio.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EffectScales {
    pub violent: f64,
    pub restitution_completed: f64,
    pub no_agreement: f64,
    /// By mode, in [`Mode::ALL`] order.
    pub modes: [f64; 3],
}

impl EffectScales {
    /// No modification: every factor 1.
    #[cfg(test)]
    pub const NONE: EffectScales = EffectScales {
        violent: 1.0,
        restitution_completed: 1.0,
        no_agreement: 1.0,
        modes: [1.0; 3],
    };

    /// The factor of one combination (see [`treated_index`]).
    fn scale(&self, combination: usize) -> f64 {
        let mut k = self.modes[combination / 8];
        if combination & 1 != 0 {
            k *= self.violent;
        }
        if combination & 2 != 0 {
            k *= self.restitution_completed;
        }
        if combination & 4 != 0 {
            k *= self.no_agreement;
        }
        k
    }
}

/// The treated table of a youth with these effect modifiers.
pub(crate) fn treated_index(violent: bool, completed: bool, agreed: bool, mode: Mode) -> usize {
    usize::from(violent) + 2 * usize::from(completed) + 4 * usize::from(!agreed) + 8 * mode as usize
}

/// Validated recidivism parameters, with the hazard tables precomputed.
#[derive(Debug, Clone)]
pub(crate) struct RecidivismParams {
    /// Months of follow-up (`outcomes.follow_up_months`): events after it
    /// are not seen. The tables run to the longest horizon.
    pub horizon: usize,
    /// Cumulative baseline intensity without any action (while waiting).
    pub no_action: CumulativeTable,
    /// Untreated (court-processed) cumulative intensity.
    pub untreated: CumulativeTable,
    /// Treated cumulative intensity, by effect-modifier combination
    /// ([`treated_index`]).
    pub treated: [CumulativeTable; MODIFIER_COMBINATIONS],
    /// Whether completing restitution modifies the treatment effect (its
    /// scale `treatment.restitution_completed_log_hr_scale` is not 1): only
    /// then is a youth's restitution in the treated world needed, and drawn.
    pub restitution_modifies_effect: bool,
    pub risk_log_hr: f64,
    pub offense_log_hr: [f64; 6],
    pub second_arrest_log_hr: f64,
    /// Per prior arrest beyond the first.
    pub extra_prior_log_hr: f64,
    pub male_log_hr: f64,
    pub age_log_hr: f64,
    /// Counting every rearrest: frailty and pre-period.
    pub counting: Counting,
    /// Probability that a rearrest leads to a conviction, without and with
    /// mediation (`treatment.conviction_odds_ratio` moves the second).
    pub conviction_probability: [f64; 2],
    pub conviction_lag_months_mean: f64,
    /// Factor on the lag in the treated world (`treatment.conviction_lag_scale`):
    /// the same draw, a program that speeds or slows adjudication.
    pub conviction_lag_scale: f64,
    /// The cure fraction: whether any youth may be cured, the latent
    /// normal's threshold (its `1 - cure_share` quantile) and its
    /// correlation with latent risk.
    pub cure: Option<Cure>,
}

/// The cure fraction's parameters (`recidivism.cure_share` > 0).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cure {
    /// A youth is cured when its latent normal exceeds this: the
    /// `1 - cure_share` quantile of the standard normal.
    pub threshold: f64,
    /// Correlation of the latent normal with latent risk `z`.
    pub risk_correlation: f64,
}

impl Cure {
    /// The cure parameters of a share in (0, 1) and a correlation in [-1, 1].
    pub fn new(share: f64, risk_correlation: f64) -> Cure {
        Cure {
            threshold: normal_quantile(1.0 - share),
            risk_correlation,
        }
    }
}

/// The terms of one youth's intensity that both potential worlds and the
/// wait for mediators share, computed once per youth (a queued youth would
/// otherwise compute them twice: an `exp`, and with a cure fraction or a
/// frailty, keyed draws). Each user combines them as it always has, so the
/// results are the same to the bit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hazard {
    /// The gamma frailty (exactly 1 without one).
    pub frailty: f64,
    /// Never rearrested (see [`RecidivismParams::cured`]).
    pub cured: bool,
    /// `exp(-x'b - s*z)`, the reference youth's intensity over this one's
    /// (0, unused, for a cured youth).
    pub relative: f64,
}

/// Both potential worlds of one youth, in months since disposition; `None`
/// means no such event within the follow-up.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PotentialOutcomes {
    /// First rearrest without mediation (`T0`) and with it (`T1`).
    pub rearrest: [Option<f64>; 2],
    /// First conviction without and with mediation.
    pub reconviction: [Option<f64>; 2],
    /// Offenses in the pre-period before referral (0 without one).
    pub offenses_before: u32,
    /// Rearrests in a window of the pre-period's length after disposition,
    /// without and with mediation (0 without a pre-period).
    pub offenses_after: [u32; 2],
}

/// Every rearrest of one youth in each world, in months since disposition,
/// when the scenario counts them (`recidivism.recurrent`, or a pre-period):
/// a buffer the caller keeps and the model refills for each youth.
#[derive(Debug, Clone, Default)]
pub struct EventLog {
    pub times: [Vec<f64>; 2],
}

/// Validated parameters of counting: the recurrent process's frailty and
/// the pre-period.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Counting {
    /// Count every rearrest to the horizon (`recidivism.recurrent`, or a
    /// pre-period).
    pub on: bool,
    /// Variance of the gamma frailty (mean 1) on a youth's intensity; 0
    /// for none.
    pub frailty_variance: f64,
    /// Months of the pre-period (0: none).
    pub pre_period_months: usize,
    /// Correlation of the latent risk that drives the pre-period's offenses
    /// with the follow-up's (1: a fixed youth effect).
    pub pre_period_risk_correlation: f64,
}

impl RecidivismParams {
    /// Builds the tables from monthly baseline hazards, the court's log
    /// hazard ratio and the treatment's monthly log hazard ratios, with the
    /// modifiers' scales: (no action, untreated, treated).
    pub fn tables(
        baseline_monthly: &[f64; MAX_FOLLOW_UP_MONTHS],
        court_log_hr: f64,
        log_hr_monthly: &[f64; MAX_FOLLOW_UP_MONTHS],
        scales: &EffectScales,
    ) -> (
        CumulativeTable,
        CumulativeTable,
        [CumulativeTable; MODIFIER_COMBINATIONS],
    ) {
        let mut no_action = [0.0; MAX_FOLLOW_UP_MONTHS + 1];
        let mut untreated = [0.0; MAX_FOLLOW_UP_MONTHS + 1];
        let mut treated = [[0.0; MAX_FOLLOW_UP_MONTHS + 1]; MODIFIER_COMBINATIONS];
        // Exactly 1 without a court effect, so the default tables are
        // today's to the bit.
        let court = if court_log_hr == 0.0 {
            1.0
        } else {
            court_log_hr.exp()
        };
        for (j, h) in baseline_monthly.iter().enumerate() {
            no_action[j + 1] = no_action[j] + h;
            untreated[j + 1] = untreated[j] + h * court;
            for (combo, table) in treated.iter_mut().enumerate() {
                let k = scales.scale(combo);
                table[j + 1] = table[j] + h * (k * log_hr_monthly[j]).exp();
            }
        }
        (no_action, untreated, treated)
    }

    /// The youth's log relative hazard `x'b + s*z`.
    pub fn linear_predictor(&self, youth: &Youth) -> f64 {
        let mut eta = self.offense_log_hr[youth.offense as usize]
            + self.risk_log_hr * youth.risk
            + self.age_log_hr * (f64::from(youth.age) - 15.0);
        if youth.prior_arrests > 0 {
            eta += self.second_arrest_log_hr
                + self.extra_prior_log_hr * f64::from(youth.prior_arrests - 1);
        }
        if youth.male {
            eta += self.male_log_hr;
        }
        eta
    }

    /// The youth's frailty: a gamma multiplier of its intensity with mean 1
    /// and variance `frailty_variance` (exactly 1 without one), from a
    /// stream of its own so that no other draw moves.
    pub fn frailty(&self, draws: &YouthDraws) -> f64 {
        let variance = self.counting.frailty_variance;
        if variance == 0.0 {
            return 1.0;
        }
        // Validation keeps the variance positive and finite.
        let gamma = rand_distr::Gamma::new(1.0 / variance, variance).expect("validated frailty");
        rand_distr::Distribution::sample(&gamma, &mut draws.keyed_rng(keyed::FRAILTY))
    }

    /// Offenses in the pre-period: a Poisson count whose mean is the youth's
    /// untreated intensity over as many months from the start of follow-up
    /// (the same rate, before any action), read by inverse CDF from a keyed
    /// uniform. The latent risk behind it correlates with the follow-up's
    /// by `pre_period_risk_correlation` (1: a fixed youth effect).
    fn offenses_before(&self, youth: &Youth, draws: &YouthDraws, frailty: f64) -> u32 {
        let months = self.counting.pre_period_months;
        if months == 0 {
            return 0;
        }
        let rho = self.counting.pre_period_risk_correlation;
        let risk = if rho == 1.0 {
            youth.risk
        } else {
            rho * youth.risk
                + (1.0 - rho * rho).sqrt() * normal_quantile(draws.keyed(keyed::PRE_RISK))
        };
        let eta = self.linear_predictor(youth) + self.risk_log_hr * (risk - youth.risk);
        let mean = self.no_action[months] * eta.exp() * frailty;
        poisson_quantile(mean, draws.keyed(keyed::PRE_PERIOD))
    }

    /// Whether the youth is cured: never rearrested, in either potential
    /// world or while waiting. The latent normal `c = rho*z +
    /// sqrt(1 - rho^2)*e`, `e` from the youth's keyed uniform
    /// ([`keyed::CURE`], which changes no other draw), must exceed the
    /// `1 - cure_share` quantile: a share `cure_share` of youths is cured,
    /// fewer among the riskier when `rho < 0`. Never with `cure_share = 0`.
    pub fn cured(&self, youth: &Youth, draws: &YouthDraws) -> bool {
        let Some(cure) = self.cure else {
            return false;
        };
        let rho = cure.risk_correlation;
        let latent =
            rho * youth.risk + (1.0 - rho * rho).sqrt() * normal_quantile(draws.keyed(keyed::CURE));
        latent > cure.threshold
    }

    /// The youth's own terms of its intensity (see [`Hazard`]).
    pub fn hazard(&self, youth: &Youth, draws: &YouthDraws) -> Hazard {
        let cured = self.cured(youth, draws);
        Hazard {
            frailty: self.frailty(draws),
            cured,
            relative: if cured {
                0.0
            } else {
                (-self.linear_predictor(youth)).exp()
            },
        }
    }

    /// Both potential worlds of one youth. `modifier` indexes the treated
    /// table (see [`RecidivismParams::treated`]).
    ///
    /// When the scenario counts rearrests, every one to the horizon is
    /// written to `log` (cleared first) and the pre-period's offenses and
    /// the window after disposition are counted; otherwise the search stops
    /// as soon as the first rearrest and conviction are settled.
    #[cfg(test)]
    pub fn potential_outcomes(
        &self,
        youth: &Youth,
        modifier: usize,
        draws: &mut YouthDraws,
        log: &mut EventLog,
    ) -> PotentialOutcomes {
        let hazard = self.hazard(youth, draws);
        self.potential_outcomes_of(youth, &hazard, modifier, draws, log)
    }

    /// [`RecidivismParams::potential_outcomes`] with the youth's terms
    /// already computed (the wait's rearrest uses them too).
    pub fn potential_outcomes_of(
        &self,
        youth: &Youth,
        hazard: &Hazard,
        modifier: usize,
        draws: &mut YouthDraws,
        log: &mut EventLog,
    ) -> PotentialOutcomes {
        let counting = self.counting.on;
        if counting {
            log.times[0].clear();
            log.times[1].clear();
        }
        let frailty = hazard.frailty;
        let mut out = PotentialOutcomes {
            offenses_before: self.offenses_before(youth, draws, frailty),
            ..PotentialOutcomes::default()
        };
        if hazard.cured {
            return out;
        }
        let tables = [&self.untreated, &self.treated[modifier]];
        let horizon = [tables[0][self.horizon], tables[1][self.horizon]];
        // The frailty multiplies the intensity (exactly 1 without one).
        let inverse_scale = hazard.relative / frailty;
        let window = self.counting.pre_period_months as f64;
        // Cumulative intensity (in units of the reference youth's) at which
        // the next event happens. Events come in time order in both worlds,
        // so the search stops once no later event can change a first
        // rearrest or an earlier conviction (`settled`), and in any case
        // after `MAX_EVENTS` (a youth rearrested that often within the follow-up is
        // saturated; this bounds the work for extreme hazards).
        let mut target = -draws.u[slot::REARREST].ln() * inverse_scale;
        // The youth's stream, taken up only if an event needs its draws.
        let mut stream = None;
        let mut events = 0;
        while (target <= horizon[0] || target <= horizon[1]) && events < MAX_EVENTS {
            events += 1;
            let times = [
                invert(tables[0], target, self.horizon),
                invert(tables[1], target, self.horizon),
            ];
            let settled = (0..2).all(|w| match (times[w], out.rearrest[w], out.reconviction[w]) {
                (None, _, _) => true,
                (Some(_), None, _) => false,
                (Some(t), Some(_), Some(first_conviction)) => t >= first_conviction,
                (Some(_), Some(_), None) => self.conviction_probability[w] == 0.0,
            });
            if settled && !counting {
                break;
            }
            // One uniform for both worlds: the program changes the chance
            // that the same rearrest is adjudicated, not the draw.
            let rng = stream.get_or_insert_with(|| draws.stream());
            let u = open01(rng);
            let convicted = [
                u < self.conviction_probability[0],
                u < self.conviction_probability[1],
            ];
            let lag = -self.conviction_lag_months_mean * open01(rng).ln();
            for (world, time) in times.into_iter().enumerate() {
                let Some(t) = time else {
                    continue;
                };
                if counting {
                    log.times[world].push(t);
                    out.offenses_after[world] += u32::from(t <= window);
                }
                if out.rearrest[world].is_none() {
                    out.rearrest[world] = Some(t);
                }
                let conviction = t + if world == 1 {
                    lag * self.conviction_lag_scale
                } else {
                    lag
                };
                if convicted[world] && conviction <= self.horizon as f64 {
                    let first = out.reconviction[world].map_or(conviction, |c| c.min(conviction));
                    out.reconviction[world] = Some(first);
                }
            }
            target += -open01(rng).ln() * inverse_scale;
        }
        if let Some(rng) = &stream {
            draws.continue_from(rng);
        }
        out
    }
}

impl RecidivismParams {
    /// Months to a first rearrest at the no-action intensity, read from
    /// the youth's wait-rearrest uniform (`None` past the follow-up, or when
    /// the youth is cured): the rearrest of a youth while the case waits
    /// for mediators.
    #[cfg(test)]
    pub fn untreated_first_rearrest(&self, youth: &Youth, draws: &YouthDraws) -> Option<f64> {
        self.first_rearrest_waiting(&self.hazard(youth, draws), draws)
    }

    /// [`RecidivismParams::untreated_first_rearrest`] with the youth's
    /// terms already computed.
    pub fn first_rearrest_waiting(&self, hazard: &Hazard, draws: &YouthDraws) -> Option<f64> {
        if hazard.cured {
            return None;
        }
        let u = draws.u[slot::WAIT_REARREST];
        // The frailty multiplies the intensity while waiting too (exactly 1
        // without one).
        invert(
            &self.no_action,
            -u.ln() * hazard.relative / hazard.frailty,
            self.horizon,
        )
    }
}

/// The Poisson(`mean`) quantile of `u`: the smallest `k` whose cumulative
/// probability reaches `u` (monotone in `u`).
fn poisson_quantile(mean: f64, u: f64) -> u32 {
    if mean <= 0.0 {
        return 0;
    }
    // Sum the probabilities from the mode outwards would be steadier for a
    // huge mean; a pre-period's mean is a few offenses at most.
    let mut probability = (-mean).exp();
    let mut cumulative = probability;
    let mut k = 0u32;
    while cumulative < u && k < 100_000 {
        k += 1;
        probability *= mean / f64::from(k);
        cumulative += probability;
        if probability == 0.0 && cumulative < u {
            // Underflow of e^-mean for a very large mean: fall back to the
            // normal approximation.
            return (mean + mean.sqrt() * normal_quantile(u)).round().max(0.0) as u32;
        }
    }
    k
}

/// The time (months) at which a cumulative table reaches `target`, with the
/// intensity constant within each month; `None` past the follow-up.
#[inline]
pub(crate) fn invert(table: &CumulativeTable, target: f64, horizon: usize) -> Option<f64> {
    if target > table[horizon] {
        return None;
    }
    // The first month whose cumulative intensity reaches the target (the
    // table does not decrease, so a binary search finds it).
    let month = table[1..=horizon].partition_point(|&c| c < target) + 1;
    let (low, high) = (table[month - 1], table[month]);
    Some((month - 1) as f64 + (target - low) / (high - low))
}

/// Monthly hazards of a Weibull cumulative hazard `c * (t/12)^shape`, scaled
/// so that 12-month cumulative incidence is `p12`.
pub(crate) fn weibull_monthly(p12: f64, shape: f64) -> [f64; MAX_FOLLOW_UP_MONTHS] {
    let c = -(1.0 - p12).ln();
    let cumulative = |t: f64| c * (t / 12.0).powf(shape);
    std::array::from_fn(|j| cumulative((j + 1) as f64) - cumulative(j as f64))
}

/// Monthly hazards of a log-logistic cumulative hazard
/// `ln(1 + (t/alpha)^shape)`, with `alpha` solved so that 12-month
/// cumulative incidence is `p12`: `1 - 1/(1 + (12/alpha)^shape) = p12`.
/// For `shape > 1` the hazard rises, peaks at `alpha*(shape - 1)^(1/shape)`
/// and falls; for `shape <= 1` it declines from the start.
pub(crate) fn log_logistic_monthly(p12: f64, shape: f64) -> [f64; MAX_FOLLOW_UP_MONTHS] {
    // (12/alpha)^shape is the 12-month odds; (t/alpha)^shape = odds * (t/12)^shape.
    let odds12 = p12 / (1.0 - p12);
    let cumulative = |t: f64| (odds12 * (t / 12.0).powf(shape)).ln_1p();
    std::array::from_fn(|j| cumulative((j + 1) as f64) - cumulative(j as f64))
}

/// The treatment effect's shape over follow-up (`treatment.shape`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum EffectShape {
    /// The log of `hr0` halving every `half_life` months (the default).
    Fade { hr0: f64, half_life: f64 },
    /// The hazard ratio `hr` throughout.
    Constant { hr: f64 },
    /// One ratio per interval between whole-month `boundaries` (strictly
    /// increasing, inside the follow-up; the last ratio holds to its end):
    /// `ratios.len() == boundaries.len() + 1`.
    Piecewise {
        boundaries: Vec<u32>,
        ratios: Vec<f64>,
    },
    /// No effect: a ratio of 1.
    None,
}

/// The treatment's monthly log hazard ratios for a shape, to the longest
/// horizon: what [`RecidivismParams::tables`] takes.
pub(crate) fn effect_log_hr(shape: &EffectShape) -> [f64; MAX_FOLLOW_UP_MONTHS] {
    match shape {
        EffectShape::Fade { hr0, half_life } => decaying_log_hr(*hr0, *half_life),
        EffectShape::Constant { hr } => [hr.ln(); MAX_FOLLOW_UP_MONTHS],
        EffectShape::Piecewise { boundaries, ratios } => std::array::from_fn(|j| {
            // Month j covers (j, j+1]: its interval is the number of
            // boundaries at or before its start.
            let interval = boundaries.iter().filter(|&&b| b as usize <= j).count();
            ratios[interval].ln()
        }),
        EffectShape::None => [0.0; MAX_FOLLOW_UP_MONTHS],
    }
}

/// Monthly log hazard ratios: the log of `hr0` halving every `half_life`
/// months, read at each month's midpoint.
pub(crate) fn decaying_log_hr(hr0: f64, half_life: f64) -> [f64; MAX_FOLLOW_UP_MONTHS] {
    std::array::from_fn(|j| hr0.ln() * 0.5f64.powf((j as f64 + 0.5) / half_life))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weibull_table_hits_the_12_month_incidence() {
        let monthly = weibull_monthly(0.3, 0.8);
        let h12: f64 = monthly[..12].iter().sum();
        assert!((1.0 - (-h12).exp() - 0.3).abs() < 1e-12);
        assert!(monthly.windows(2).all(|w| w[1] < w[0]), "declining hazard");
    }

    #[test]
    fn invert_reads_the_piecewise_table() {
        let monthly = [0.1; MAX_FOLLOW_UP_MONTHS];
        let (_, table, _) = RecidivismParams::tables(
            &monthly,
            0.0,
            &[0.0; MAX_FOLLOW_UP_MONTHS],
            &EffectScales::NONE,
        );
        assert_eq!(invert(&table, 0.05, 30), Some(0.5));
        assert!((invert(&table, 0.25, 30).unwrap() - 2.5).abs() < 1e-12);
        assert_eq!(invert(&table, 3.1, 30), None);
        // A longer horizon reads further.
        assert!((invert(&table, 3.1, 60).unwrap() - 31.0).abs() < 1e-9);
    }

    #[test]
    fn treated_table_applies_the_decaying_ratio() {
        let monthly = [0.1; MAX_FOLLOW_UP_MONTHS];
        let log_hr = decaying_log_hr(0.5, 6.0);
        let scales = EffectScales {
            violent: 0.5,
            no_agreement: 0.0,
            modes: [1.0, 0.5, 2.0],
            ..EffectScales::NONE
        };
        let (no_action, untreated, treated) =
            RecidivismParams::tables(&monthly, 0.0, &log_hr, &scales);
        assert_eq!(no_action, untreated, "no court effect");
        let first = treated[0][1] / untreated[1];
        assert!((first - (0.5f64.ln() * 0.5f64.powf(0.5 / 6.0)).exp()).abs() < 1e-12);
        // A violent offense halves the log hazard ratio: a weaker effect.
        assert!(treated[1][30] > treated[0][30]);
        assert!(treated[0][30] < untreated[30]);
        // No agreement with a scale of 0: no effect at all.
        let failed = treated_index(false, false, false, Mode::FaceToFace);
        assert_eq!(treated[failed], untreated);
        // The mode's scale multiplies the log hazard ratio.
        let indirect = treated_index(true, false, true, Mode::Indirect);
        let expected = (0.25 * 0.5f64.ln() * 0.5f64.powf(0.5 / 6.0)).exp();
        assert!((treated[indirect][1] / untreated[1] - expected).abs() < 1e-12);
        assert!(treated[treated_index(false, false, true, Mode::Conference)][30] < treated[0][30]);
    }

    #[test]
    fn the_court_effect_is_the_untreated_worlds_alone() {
        let monthly = [0.1; MAX_FOLLOW_UP_MONTHS];
        let (no_action, untreated, treated) = RecidivismParams::tables(
            &monthly,
            2f64.ln(),
            &[0.0; MAX_FOLLOW_UP_MONTHS],
            &EffectScales::NONE,
        );
        assert!((untreated[30] - 2.0 * no_action[30]).abs() < 1e-12);
        assert_eq!(
            treated[0], no_action,
            "the mediated are diverted from court"
        );
    }

    #[test]
    fn shapes_give_their_monthly_log_ratios() {
        let constant = effect_log_hr(&EffectShape::Constant { hr: 0.6 });
        assert!(constant.iter().all(|&l| l == 0.6f64.ln()));
        assert_eq!(
            effect_log_hr(&EffectShape::None),
            [0.0; MAX_FOLLOW_UP_MONTHS]
        );
        assert_eq!(
            effect_log_hr(&EffectShape::Fade {
                hr0: 0.5,
                half_life: 6.0
            }),
            decaying_log_hr(0.5, 6.0)
        );
        let piecewise = effect_log_hr(&EffectShape::Piecewise {
            boundaries: vec![6, 12, 18, 24],
            ratios: vec![1.0, 0.5, 0.6, 0.7, 0.8],
        });
        for (j, l) in piecewise.iter().take(30).enumerate() {
            let expected = [1.0f64, 0.5, 0.6, 0.7, 0.8][j / 6].ln();
            assert_eq!(*l, expected, "month {}", j + 1);
        }
        // No boundary: one interval, a constant ratio.
        let one = effect_log_hr(&EffectShape::Piecewise {
            boundaries: vec![],
            ratios: vec![0.7],
        });
        assert!(one.iter().all(|&l| l == 0.7f64.ln()));
        // Uneven boundaries: month 3 (2, 3] is in the second interval of [2, 29].
        let uneven = effect_log_hr(&EffectShape::Piecewise {
            boundaries: vec![2, 29],
            ratios: vec![0.5, 0.6, 0.7],
        });
        assert_eq!(uneven[1], 0.5f64.ln());
        assert_eq!(uneven[2], 0.6f64.ln());
        assert_eq!(uneven[28], 0.6f64.ln());
        assert_eq!(uneven[29], 0.7f64.ln());
    }

    /// The log-logistic table: the reference youth's 12-month incidence is
    /// `p12`; with shape > 1 the hazard rises to its mode
    /// `alpha*(shape - 1)^(1/shape)` and falls after; monthly values match
    /// the closed-form cumulative hazard.
    #[test]
    fn log_logistic_hits_the_12_month_incidence_and_humps() {
        for (p12, shape) in [(0.3, 2.0), (0.1593, 1.5), (0.5, 0.7), (0.05, 4.0)] {
            let monthly = log_logistic_monthly(p12, shape);
            let h12: f64 = monthly[..12].iter().sum();
            assert!((1.0 - (-h12).exp() - p12).abs() < 1e-12, "{p12} {shape}");
            let alpha = 12.0 / (p12 / (1.0 - p12)).powf(1.0 / shape);
            let h30: f64 = monthly[..30].iter().sum();
            let closed = (1.0 + (30.0 / alpha).powf(shape)).ln();
            assert!((h30 - closed).abs() < 1e-12);
        }
        // p12 = 0.3, shape 2: alpha = 12 / sqrt(3/7) = 18.33, the mode too.
        let monthly = log_logistic_monthly(0.3, 2.0);
        let peak = monthly
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        // The hazard falls more slowly than it rises, so the month's mean
        // peaks in the month after the one that holds the mode.
        assert_eq!(peak, 18, "the month (18, 19] peaks, next to the mode 18.33");
        assert!(monthly[..=peak].windows(2).all(|w| w[1] > w[0]), "rising");
        assert!(
            monthly[peak + 1..].windows(2).all(|w| w[1] < w[0]),
            "falling"
        );
        // Shape <= 1: declining from the start.
        let monthly = log_logistic_monthly(0.3, 0.8);
        assert!(monthly.windows(2).all(|w| w[1] < w[0]));
    }

    fn params(monthly: [f64; MAX_FOLLOW_UP_MONTHS], cure: Option<Cure>) -> RecidivismParams {
        let (no_action, untreated, treated) = RecidivismParams::tables(
            &monthly,
            0.0,
            &[0.0; MAX_FOLLOW_UP_MONTHS],
            &EffectScales::NONE,
        );
        RecidivismParams {
            horizon: 30,
            no_action,
            untreated,
            treated,
            restitution_modifies_effect: false,
            risk_log_hr: 0.0,
            offense_log_hr: [0.0; 6],
            second_arrest_log_hr: 0.0,
            extra_prior_log_hr: 0.0,
            male_log_hr: 0.0,
            age_log_hr: 0.0,
            counting: Counting::default(),
            conviction_probability: [0.5; 2],
            conviction_lag_months_mean: 1.0,
            conviction_lag_scale: 1.0,
            cure,
        }
    }

    fn youth(risk: f64, index: u32) -> Youth {
        use crate::model::referral::{Offense, Race};
        Youth {
            month: 0,
            index,
            referral_day: 0.0,
            age: 15,
            male: false,
            race: Race::Hispanic,
            offense: Offense::Vandalism,
            prior_arrests: 0,
            risk,
            motivation: 0.0,
        }
    }

    /// With a hazard so high that every susceptible youth is rearrested
    /// within 30 months, the share ever rearrested is 1 - cure_share, in
    /// both worlds and while waiting; the cured are the less risky when
    /// the correlation is negative. 40,000 youths: the binomial standard
    /// error of the share is at most 0.0025, the tolerance 0.012 (about 5).
    #[test]
    fn cure_fraction_caps_incidence() {
        let n = 40_000u32;
        for (share, rho) in [(0.3, -0.5), (0.6, 0.0), (0.1, 0.9)] {
            let p = params([4.0; MAX_FOLLOW_UP_MONTHS], Some(Cure::new(share, rho)));
            let (mut rearrested, mut waiting) = (0u32, 0u32);
            let (mut z_cured, mut cured) = (0.0, 0u32);
            for i in 0..n {
                let mut draws = YouthDraws::new(7, 0, i);
                let y = youth(normal_quantile(draws.u[slot::RISK]), i);
                let out = p.potential_outcomes(&y, 0, &mut draws, &mut EventLog::default());
                assert_eq!(out.rearrest[0].is_some(), out.rearrest[1].is_some());
                rearrested += u32::from(out.rearrest[0].is_some());
                waiting += u32::from(p.untreated_first_rearrest(&y, &draws).is_some());
                if p.cured(&y, &draws) {
                    assert_eq!(out, PotentialOutcomes::default());
                    z_cured += y.risk;
                    cured += 1;
                }
            }
            let incidence = f64::from(rearrested) / f64::from(n);
            assert!(
                (incidence - (1.0 - share)).abs() < 0.012,
                "{share}: {incidence}"
            );
            assert_eq!(rearrested, waiting, "the wait sees the same cure");
            // E[z | cured] = rho * phi(c) / share, c the threshold.
            let c = normal_quantile(1.0 - share);
            let phi = (-c * c / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
            let mean_z = z_cured / f64::from(cured);
            // The mean of about n*share normals: SE under 0.01; tolerance 0.04.
            assert!((mean_z - rho * phi / share).abs() < 0.04, "{rho}: {mean_z}");
        }
        // Without a cure fraction nobody is cured.
        let p = params([4.0; MAX_FOLLOW_UP_MONTHS], None);
        let draws = YouthDraws::new(7, 0, 0);
        assert!(!p.cured(&youth(0.0, 0), &draws));
    }
}
