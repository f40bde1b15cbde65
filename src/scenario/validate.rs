//! Validation: every range, sum and combination checked once, with an error
//! naming the file (or `--set`), the key, the value and what is allowed;
//! then the typed parameters of every stage, with tables precomputed.

use super::Scenario;
use super::bounds::{MAX_INTAKE_MONTHS, MAX_MEDIATORS_PER_REPLICATION, MAX_REPLICATIONS};
use super::schema::{
    BaselineFamily, ConsentOrder, CostValue, DurationKind, EffectShapeKind, OffenderMode,
    OffenseValues, RawCompletion, RawScenario,
};
use crate::error::{Error, Result};
use crate::model::consent::ConsentParams;
use crate::model::costs::{CostParams, Uncertain};
use crate::model::court::{CourtParams, Processing};
use crate::model::design::DesignParams;
use crate::model::draws::{cumulative, cumulative_of, logit};
use crate::model::queue::max_mediators;
use crate::model::queue::{DurationDistribution, MediatorParams};
use crate::model::recidivism::{
    Counting, Cure, EffectScales, EffectShape, MAX_FOLLOW_UP_MONTHS, RecidivismParams,
    effect_log_hr, log_logistic_monthly, weibull_monthly,
};
use crate::model::referral::ReferralParams;
use crate::model::restitution::{CompletionParams, CourtOrderParams, RestitutionParams};
use crate::model::session::{LogNormal, MediationParams, ModeParams};
use crate::model::staff::StaffParams;
use crate::model::time::{EFFECT_STEP_MONTHS, MIN_FOLLOW_UP_MONTHS};

/// Most paid coordinators (`staff.coordinators`): far beyond any program.
const MAX_COORDINATORS: u32 = 1000;

/// Expected referrals of one replication at most (memory: about 300 bytes
/// a youth, one replication per thread).
const MAX_REFERRALS_PER_REPLICATION: f64 = 5e6;

/// The ages a program may refer: youth diversion takes youths from age 10
/// (the youngest age of criminal responsibility in most US states that set
/// one) to 17.
const MIN_AGE: u8 = 10;
const MAX_AGE: u8 = 17;

/// Most entries of `referrals.prior_arrest_shares` (1 to 10 priors).
const MAX_PRIOR_ARRESTS: usize = 10;

/// Tolerance on shares that must sum to 1.
const SUM_TOLERANCE: f64 = 1e-6;

/// Checks values against their ranges; knows where each key came from.
struct Checker<'a> {
    origin: &'a str,
    overridden: &'a [String],
}

impl Checker<'_> {
    fn fail(&self, key: &str, value: impl std::fmt::Display, requirement: &str) -> Error {
        let origin = if self.overridden.iter().any(|k| key.starts_with(k.as_str())) {
            format!("{} (--set)", self.origin)
        } else {
            self.origin.to_string()
        };
        // A number of 300 digits (1e300 read back) is shown as 1e300.
        let value = value.to_string();
        let value = match value.parse::<f64>() {
            Ok(v) if value.len() > 16 => format!("{v:e}"),
            _ => value,
        };
        Error::Invalid {
            origin,
            key: key.to_string(),
            value,
            requirement: requirement.to_string(),
        }
    }

    fn finite(&self, key: &str, v: f64) -> Result<f64> {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(self.fail(key, v, "must be a finite number"))
        }
    }

    /// `v` in [low, high].
    fn within(&self, key: &str, v: f64, low: f64, high: f64) -> Result<f64> {
        if v.is_finite() && v >= low && v <= high {
            Ok(v)
        } else {
            Err(self.fail(key, v, &format!("must lie in [{low}, {high}]")))
        }
    }

    fn probability(&self, key: &str, v: f64) -> Result<f64> {
        self.within(key, v, 0.0, 1.0)
    }

    /// A probability that is converted to log-odds: strictly inside (0, 1).
    fn open_probability(&self, key: &str, v: f64) -> Result<f64> {
        if v.is_finite() && v > 0.0 && v < 1.0 {
            Ok(v)
        } else {
            Err(self.fail(key, v, "must lie strictly between 0 and 1"))
        }
    }

    fn positive(&self, key: &str, v: f64) -> Result<f64> {
        if v.is_finite() && v > 0.0 {
            Ok(v)
        } else {
            Err(self.fail(key, v, "must be a finite number greater than 0"))
        }
    }

    fn non_negative(&self, key: &str, v: f64) -> Result<f64> {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(self.fail(key, v, "must be a finite number of at least 0"))
        }
    }

    /// Shares: each in [0, 1], summing to 1.
    fn shares<const N: usize>(
        &self,
        key: &str,
        names: [&str; N],
        values: [f64; N],
    ) -> Result<[f64; N]> {
        for (name, v) in names.iter().zip(values) {
            self.probability(&format!("{key}.{name}"), v)?;
        }
        let total: f64 = values.iter().sum();
        if (total - 1.0).abs() > SUM_TOLERANCE {
            let listed = names
                .iter()
                .zip(values)
                .map(|(n, v)| format!("{n} = {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(self.fail(
                key,
                format!("{{ {listed} }}"),
                &format!("must sum to 1 (they sum to {total})"),
            ));
        }
        Ok(values)
    }

    /// A list of shares, one per `names` entry (the list's length is
    /// checked by the caller): each in [0, 1], summing to 1.
    fn share_list(&self, key: &str, names: &[String], values: &[f64]) -> Result<Vec<f64>> {
        for (i, v) in values.iter().enumerate() {
            self.probability(&format!("{key}[{i}]"), *v)?;
        }
        let total: f64 = values.iter().sum();
        if (total - 1.0).abs() > SUM_TOLERANCE {
            let listed = names
                .iter()
                .zip(values)
                .map(|(n, v)| format!("{n}: {v}"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(self.fail(
                key,
                format!("[{listed}]"),
                &format!("must sum to 1 (they sum to {total})"),
            ));
        }
        Ok(values.to_vec())
    }

    fn offense_values(&self, key: &str, values: OffenseValues) -> Result<[f64; 6]> {
        let array = values.to_array();
        for (name, v) in OFFENSE_NAMES.iter().zip(array) {
            self.finite(&format!("{key}.{name}"), v)?;
        }
        Ok(array)
    }

    fn offense_probabilities(&self, key: &str, values: OffenseValues) -> Result<[f64; 6]> {
        let array = values.to_array();
        for (name, v) in OFFENSE_NAMES.iter().zip(array) {
            self.probability(&format!("{key}.{name}"), v)?;
        }
        Ok(array)
    }

    fn completion(
        &self,
        key: &str,
        raw: &RawCompletion,
        amount_log_median: f64,
        hours_log_median: f64,
    ) -> Result<CompletionParams> {
        Ok(CompletionParams {
            payment_intercept: logit(self.probability(
                &format!("{key}.payment_probability"),
                raw.payment_probability,
            )?),
            payment_slope: self.finite(
                &format!("{key}.payment_amount_log_odds"),
                raw.payment_amount_log_odds,
            )?,
            amount_log_median,
            partial_paid_max_share: self.probability(
                &format!("{key}.partial_paid_max_share"),
                raw.partial_paid_max_share,
            )?,
            service_intercept: logit(self.probability(
                &format!("{key}.service_probability"),
                raw.service_probability,
            )?),
            service_slope: self.finite(
                &format!("{key}.service_hours_log_odds"),
                raw.service_hours_log_odds,
            )?,
            hours_log_median,
            partial_hours_max_share: self.probability(
                &format!("{key}.partial_hours_max_share"),
                raw.partial_hours_max_share,
            )?,
            risk_log_odds: self.within(
                &format!("{key}.risk_log_odds"),
                raw.risk_log_odds,
                -10.0,
                10.0,
            )?,
        })
    }

    /// A log-normal by its median and log-scale sd; the sd is bounded so
    /// that amounts stay finite and meaningful (5 already spans a factor of
    /// 10^8 between the 2.5% and 97.5% quantiles).
    fn log_normal(
        &self,
        key_median: &str,
        median: f64,
        key_sd: &str,
        sd: f64,
    ) -> Result<LogNormal> {
        Ok(LogNormal {
            log_median: self.within(key_median, median, 1e-6, 1e9)?.ln(),
            log_sd: self.within(key_sd, sd, 0.0, 5.0)?,
        })
    }
}

const OFFENSE_NAMES: [&str; 6] = [
    "vandalism",
    "shoplifting",
    "joyriding",
    "burglary",
    "assault",
    "violent",
];

/// What a scenario's `name` must be, for messages.
pub const NAME_RULE: &str = "must be a non-empty folder name of letters, digits, '_', '-' or '.'";

/// Whether `name` is a valid scenario name: a folder name of letters,
/// digits, `_`, `-` or `.`, not starting with `.` (it names the default
/// output folder `output/<name>/`, and `vomsim init` writes `<name>.toml`).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-' || ch == '.')
}

/// `outcomes.follow_up_months`: 12 to 120, a multiple of 6.
fn follow_up_months(c: &Checker, months: u32) -> Result<usize> {
    let months = months as usize;
    if (MIN_FOLLOW_UP_MONTHS..=MAX_FOLLOW_UP_MONTHS).contains(&months)
        && months.is_multiple_of(EFFECT_STEP_MONTHS)
    {
        Ok(months)
    } else {
        Err(c.fail(
            "outcomes.follow_up_months",
            months,
            &format!(
                "must be a whole number of months from {MIN_FOLLOW_UP_MONTHS} to \
                 {MAX_FOLLOW_UP_MONTHS}, a multiple of {EFFECT_STEP_MONTHS} (effects are \
                 reported every {EFFECT_STEP_MONTHS} months to it)"
            ),
        ))
    }
}

/// Validates a resolved file into a [`Scenario`].
pub(super) fn validate(
    raw: RawScenario,
    origin: &str,
    overridden: &[String],
    source_sha256: String,
) -> Result<Scenario> {
    let c = Checker { origin, overridden };

    // Simulation.
    let sim = &raw.simulation;
    if sim.replications == 0 {
        return Err(c.fail("simulation.replications", 0, "must be at least 1"));
    }
    if sim.replications > MAX_REPLICATIONS {
        return Err(c.fail(
            "simulation.replications",
            sim.replications,
            &format!("must be at most {MAX_REPLICATIONS}"),
        ));
    }
    if !(1..=MAX_INTAKE_MONTHS).contains(&sim.intake_months) {
        return Err(c.fail(
            "simulation.intake_months",
            sim.intake_months,
            "must lie in [1, 600]",
        ));
    }
    if !valid_name(&raw.name) {
        return Err(c.fail("name", format!("{:?}", raw.name), NAME_RULE));
    }

    // Referrals.
    let r = &raw.referrals;
    let per_month = c.non_negative("referrals.per_month", r.per_month)?;
    for (i, m) in r.monthly_multipliers.iter().enumerate() {
        c.non_negative(&format!("referrals.monthly_multipliers[{i}]"), *m)?;
    }
    // A replication's youths are held in memory together (about 300 bytes
    // each, per thread): bound the expected referrals of one replication.
    let expected: f64 = (0..sim.intake_months as usize)
        .map(|m| {
            let multiplier = if r.monthly_multipliers.is_empty() {
                1.0
            } else {
                r.monthly_multipliers[m % r.monthly_multipliers.len()]
            };
            per_month * multiplier
        })
        .sum();
    if expected > MAX_REFERRALS_PER_REPLICATION {
        return Err(c.fail(
            "referrals.per_month",
            per_month,
            &format!(
                "with simulation.intake_months = {} and the monthly multipliers gives {expected:.0} \
                 expected referrals per replication; at most {MAX_REFERRALS_PER_REPLICATION:.0} are allowed",
                sim.intake_months
            ),
        ));
    }
    for (key, age) in [
        ("referrals.age_min", r.age_min),
        ("referrals.age_max", r.age_max),
    ] {
        if !(MIN_AGE..=MAX_AGE).contains(&age) {
            return Err(c.fail(
                key,
                age,
                &format!("must lie in [{MIN_AGE}, {MAX_AGE}] (youth diversion)"),
            ));
        }
    }
    if r.age_max < r.age_min {
        return Err(c.fail(
            "referrals.age_max",
            r.age_max,
            &format!("must be at least referrals.age_min ({})", r.age_min),
        ));
    }
    let age_names: Vec<String> = (r.age_min..=r.age_max).map(|a| a.to_string()).collect();
    if r.age_shares.len() != age_names.len() {
        return Err(c.fail(
            "referrals.age_shares",
            format!("{:?}", r.age_shares),
            &format!(
                "must list {} shares, one for each age {} (referrals.age_min = {} to \
                 referrals.age_max = {})",
                age_names.len(),
                age_names.join(", "),
                r.age_min,
                r.age_max
            ),
        ));
    }
    let ages = c.share_list("referrals.age_shares", &age_names, &r.age_shares)?;
    let prior_names: Vec<String> = (1..=r.prior_arrest_shares.len())
        .map(|n| format!("{n} prior"))
        .collect();
    if !(1..=MAX_PRIOR_ARRESTS).contains(&r.prior_arrest_shares.len()) {
        return Err(c.fail(
            "referrals.prior_arrest_shares",
            format!("{:?}", r.prior_arrest_shares),
            &format!(
                "must list 1 to {MAX_PRIOR_ARRESTS} shares: of youths with 1, 2, 3, ... prior \
                 arrests among those with any (e.g. [1.0]: every such youth is on a second arrest)"
            ),
        ));
    }
    let priors = c.share_list(
        "referrals.prior_arrest_shares",
        &prior_names,
        &r.prior_arrest_shares,
    )?;
    let races = c.shares(
        "referrals.race_shares",
        ["hispanic", "black", "white", "asian", "unspecified"],
        r.race_shares.to_array(),
    )?;
    let offenses = c.shares(
        "referrals.offense_shares",
        OFFENSE_NAMES,
        r.offense_shares.to_array(),
    )?;
    let referral = ReferralParams {
        per_month,
        monthly_multipliers: r.monthly_multipliers.clone(),
        age_min: r.age_min,
        age_cumulative: cumulative_of(&ages),
        male_share: c.probability("referrals.male_share", r.male_share)?,
        race_cumulative: cumulative(races),
        offense_cumulative: cumulative(offenses),
        second_arrest_share: c
            .probability("referrals.second_arrest_share", r.second_arrest_share)?,
        prior_arrest_cumulative: cumulative_of(&priors),
        motivation_risk_correlation: c.within(
            "referrals.motivation_risk_correlation",
            r.motivation_risk_correlation,
            -1.0,
            1.0,
        )?,
    };

    // Consent.
    let k = &raw.consent;
    let consent = ConsentParams {
        court_ordered: k.offender_mode == OffenderMode::CourtOrdered,
        victim_first: k.order == ConsentOrder::VictimFirst,
        offender_intercept: logit(
            c.probability("consent.offender_probability", k.offender_probability)?,
        ),
        offender_motivation: c.finite(
            "consent.offender_motivation_log_odds",
            k.offender_motivation_log_odds,
        )?,
        offender_offense: c.offense_values(
            "consent.offender_offense_log_odds",
            k.offender_offense_log_odds,
        )?,
        victim_intercept: logit(c.probability("consent.victim_probability", k.victim_probability)?),
        victim_offense: c
            .offense_values("consent.victim_offense_log_odds", k.victim_offense_log_odds)?,
        victim_business_share: c
            .offense_probabilities("consent.victim_business_share", k.victim_business_share)?,
        victim_business: c.finite(
            "consent.victim_business_log_odds",
            k.victim_business_log_odds,
        )?,
        victim_risk: c.finite("consent.victim_risk_log_odds", k.victim_risk_log_odds)?,
    };

    // The mediator pool and the queue.
    let w = &raw.mediators;
    let case_days_mean = c.within("mediators.case_days_mean", w.case_days_mean, 1e-3, 3650.0)?;
    let duration = match w.case_days_distribution {
        DurationKind::Exponential => DurationDistribution::Exponential {
            mean: case_days_mean,
        },
        DurationKind::Lognormal => {
            let sd = c.within("mediators.case_days_sd", w.case_days_sd, 1e-3, 3650.0)?;
            let variance = (1.0 + (sd / case_days_mean).powi(2)).ln();
            DurationDistribution::LogNormal {
                log_mean: case_days_mean.ln() - variance / 2.0,
                log_sd: variance.sqrt(),
            }
        }
    };
    if w.max_cases_per_mediator == 0 {
        return Err(c.fail("mediators.max_cases_per_mediator", 0, "must be at least 1"));
    }
    if w.cohort_every_months == 0 {
        return Err(c.fail("mediators.cohort_every_months", 0, "must be at least 1"));
    }
    let comediation_share = c.probability("mediators.comediation_share", w.comediation_share)?;
    if comediation_share > 0.0
        && w.initial_active < 2
        && (w.cohort_size == 0 || w.initial_active + w.cohort_size < 2)
    {
        return Err(c.fail(
            "mediators.comediation_share",
            comediation_share,
            "needs a pool that can ever hold two mediators (initial_active + cohort_size >= 2), \
             or comediation_share = 0",
        ));
    }
    let session_hours_min = c.non_negative("mediators.session_hours_min", w.session_hours_min)?;
    let session_hours_max = c.non_negative("mediators.session_hours_max", w.session_hours_max)?;
    if session_hours_max < session_hours_min {
        return Err(c.fail(
            "mediators.session_hours_max",
            session_hours_max,
            &format!("must be at least mediators.session_hours_min ({session_hours_min})"),
        ));
    }
    let mediators = MediatorParams {
        initial_active: w.initial_active,
        cohort_size: w.cohort_size,
        cohort_every_months: w.cohort_every_months,
        training_days: c.within("mediators.training_days", w.training_days, 0.0, 3650.0)?,
        commitment_sessions: w.commitment_sessions,
        attrition_during_commitment: c.probability(
            "mediators.attrition_during_commitment",
            w.attrition_during_commitment,
        )?,
        attrition_after_commitment: c.probability(
            "mediators.attrition_after_commitment",
            w.attrition_after_commitment,
        )?,
        max_cases_per_mediator: w.max_cases_per_mediator,
        comediation_share,
        duration,
        max_wait_days: c.positive("mediators.max_wait_days", w.max_wait_days)?,
        rearrest_returns_case: w.rearrest_returns_case,
        preparation_hours: c.non_negative("mediators.preparation_hours", w.preparation_hours)?,
        premeeting_share: c.probability("mediators.premeeting_share", w.premeeting_share)?,
        premeeting_hours: c.non_negative("mediators.premeeting_hours", w.premeeting_hours)?,
        session_hours_min,
        session_hours_max,
    };
    // Every mediator is held, and visited at every month's end, for the
    // whole replication: bound the pool (model::queue::MAX_MEDIATORS_PER_REPLICATION).
    let most = MAX_MEDIATORS_PER_REPLICATION;
    for (key, value) in [
        ("mediators.initial_active", w.initial_active),
        ("mediators.cohort_size", w.cohort_size),
    ] {
        if u64::from(value) > most {
            return Err(c.fail(key, value, &format!("must be at most {most}")));
        }
    }
    let months = u64::from(sim.intake_months) + u64::from(mediators.tail_months());
    let pool = max_mediators(&mediators, months);
    if pool > most {
        let cohorts = months / u64::from(w.cohort_every_months);
        // Blame the larger part of the pool.
        let (key, value) = if u64::from(w.initial_active) >= u64::from(w.cohort_size) * cohorts {
            ("mediators.initial_active", w.initial_active)
        } else {
            ("mediators.cohort_size", w.cohort_size)
        };
        return Err(c.fail(
            key,
            value,
            &format!(
                "gives a pool of {pool} mediators in one replication (mediators.initial_active = {} \
                 plus {cohorts} cohorts of mediators.cohort_size = {}, one every {} months over \
                 {months} program months: simulation.intake_months = {} and a tail of {}); \
                 at most {most} are allowed",
                w.initial_active,
                w.cohort_size,
                w.cohort_every_months,
                sim.intake_months,
                months - u64::from(sim.intake_months)
            ),
        ));
    }

    // Mediation.
    let m = &raw.mediation;
    let md = &m.modes;
    let mode_shares = c.shares(
        "mediation.modes",
        ["face_to_face.share", "indirect.share", "conference.share"],
        [
            md.face_to_face.share,
            md.indirect.share,
            md.conference.share,
        ],
    )?;
    let hours_scale =
        |key: &str, v: f64| c.within(&format!("mediation.modes.{key}.hours_scale"), v, 0.0, 20.0);
    let effect_scale =
        |key: &str, v: f64| c.within(&format!("mediation.modes.{key}.effect_scale"), v, 0.0, 10.0);
    let modes = [
        ModeParams {
            agreement_probability: c
                .probability("mediation.agreement_probability", m.agreement_probability)?,
            hours_scale: hours_scale("face_to_face", md.face_to_face.hours_scale)?,
            effect_scale: effect_scale("face_to_face", md.face_to_face.effect_scale)?,
        },
        ModeParams {
            agreement_probability: c.probability(
                "mediation.modes.indirect.agreement_probability",
                md.indirect.agreement_probability,
            )?,
            hours_scale: hours_scale("indirect", md.indirect.hours_scale)?,
            effect_scale: effect_scale("indirect", md.indirect.effect_scale)?,
        },
        ModeParams {
            agreement_probability: c.probability(
                "mediation.modes.conference.agreement_probability",
                md.conference.agreement_probability,
            )?,
            hours_scale: hours_scale("conference", md.conference.hours_scale)?,
            effect_scale: effect_scale("conference", md.conference.effect_scale)?,
        },
    ];
    let mediation = MediationParams {
        mode_cumulative: cumulative(mode_shares),
        modes,
        monetary_probability: c
            .probability("mediation.monetary_probability", m.monetary_probability)?,
        amount: c.log_normal(
            "mediation.amount_median_dollars",
            m.amount_median_dollars,
            "mediation.amount_log_sd",
            m.amount_log_sd,
        )?,
        service_probability: c
            .probability("mediation.service_probability", m.service_probability)?,
        hours: c.log_normal(
            "mediation.service_hours_median",
            m.service_hours_median,
            "mediation.service_hours_log_sd",
            m.service_hours_log_sd,
        )?,
        apology_probability: c
            .probability("mediation.apology_probability", m.apology_probability)?,
    };

    // Restitution.
    let co = &raw.restitution.court_ordered;
    let court_order = CourtOrderParams {
        monetary_probability: c.probability(
            "restitution.court_ordered.monetary_probability",
            co.monetary_probability,
        )?,
        amount: c.log_normal(
            "restitution.court_ordered.amount_median_dollars",
            co.amount_median_dollars,
            "restitution.court_ordered.amount_log_sd",
            co.amount_log_sd,
        )?,
        service_probability: c.probability(
            "restitution.court_ordered.service_probability",
            co.service_probability,
        )?,
        hours: c.log_normal(
            "restitution.court_ordered.service_hours_median",
            co.service_hours_median,
            "restitution.court_ordered.service_hours_log_sd",
            co.service_hours_log_sd,
        )?,
    };
    let restitution = RestitutionParams {
        mediated: c.completion(
            "restitution.mediated",
            &raw.restitution.mediated,
            mediation.amount.log_median,
            mediation.hours.log_median,
        )?,
        court_completion: c.completion(
            "restitution.court_ordered.completion",
            &co.completion,
            court_order.amount.log_median,
            court_order.hours.log_median,
        )?,
        court_order,
    };

    // Recidivism and treatment.
    let h = &raw.recidivism;
    let t = &raw.treatment;
    let p12 = c.open_probability("recidivism.baseline_rearrest_12m", h.baseline_rearrest_12m)?;
    // Every shape key is range-checked whatever the family uses.
    let weibull_shape = c.within(
        "recidivism.baseline_weibull_shape",
        h.baseline_weibull_shape,
        0.05,
        20.0,
    )?;
    let log_logistic_shape = c.within(
        "recidivism.baseline_log_logistic_shape",
        h.baseline_log_logistic_shape,
        0.05,
        20.0,
    )?;
    let horizon = follow_up_months(&c, raw.outcomes.follow_up_months)?;
    let given: Option<[f64; MAX_FOLLOW_UP_MONTHS]> = if h.baseline_monthly_hazard.is_empty() {
        None
    } else {
        let list = &h.baseline_monthly_hazard;
        if list.len() != horizon {
            return Err(c.fail(
                "recidivism.baseline_monthly_hazard",
                format!("a list of {}", list.len()),
                &format!(
                    "must list {horizon} monthly hazards, one per month of \
                     outcomes.follow_up_months = {horizon} (or be empty to use the family's form)"
                ),
            ));
        }
        // Beyond the horizon nothing is seen: the last month's hazard holds.
        let given: [f64; MAX_FOLLOW_UP_MONTHS] = std::array::from_fn(|j| list[j.min(horizon - 1)]);
        for (i, v) in list.iter().enumerate() {
            c.within(
                &format!("recidivism.baseline_monthly_hazard[{i}]"),
                *v,
                0.0,
                50.0,
            )?;
        }
        Some(given)
    };
    let baseline: [f64; MAX_FOLLOW_UP_MONTHS] = match (h.baseline_family, given) {
        // A list with the default family replaces the Weibull form, as it
        // did before the family key existed.
        (BaselineFamily::Monthly | BaselineFamily::Weibull, Some(given)) => given,
        (BaselineFamily::Weibull, None) => weibull_monthly(p12, weibull_shape),
        (BaselineFamily::LogLogistic, None) => log_logistic_monthly(p12, log_logistic_shape),
        (BaselineFamily::Monthly, None) => {
            return Err(c.fail(
                "recidivism.baseline_family",
                "\"monthly\"",
                "needs the monthly values of recidivism.baseline_monthly_hazard (it is empty); \
                 give them, or choose \"weibull\" or \"log_logistic\"",
            ));
        }
        (BaselineFamily::LogLogistic, Some(_)) => {
            return Err(c.fail(
                "recidivism.baseline_monthly_hazard",
                format!("a list of {}", h.baseline_monthly_hazard.len()),
                "replaces the parametric baseline, so it cannot be given with \
                 recidivism.baseline_family = \"log_logistic\"; set the family to \"monthly\" \
                 to use the list, or leave the list empty",
            ));
        }
    };
    let cure_share = raw.recidivism.cure_share;
    if !(cure_share.is_finite() && (0.0..1.0).contains(&cure_share)) {
        return Err(c.fail("recidivism.cure_share", cure_share, "must lie in [0, 1)"));
    }
    let cure_risk_correlation = c.within(
        "recidivism.cure_risk_correlation",
        h.cure_risk_correlation,
        -1.0,
        1.0,
    )?;
    // Every effect key is range-checked whatever the shape uses.
    let hazard_ratio_initial = c.within(
        "treatment.hazard_ratio_initial",
        t.hazard_ratio_initial,
        1e-3,
        1e3,
    )?;
    let half_life = c.positive("treatment.half_life_months", t.half_life_months)?;
    let boundaries = &t.piecewise_months;
    for (i, &b) in boundaries.iter().enumerate() {
        let key = format!("treatment.piecewise_months[{i}]");
        // A boundary past the horizon is allowed (its intervals are not
        // seen), so that a shorter follow-up keeps the default boundaries.
        if b == 0 || b as usize >= MAX_FOLLOW_UP_MONTHS {
            return Err(c.fail(
                &key,
                b,
                &format!(
                    "must be a whole month from 1 to {}",
                    MAX_FOLLOW_UP_MONTHS - 1
                ),
            ));
        }
        if i > 0 && b <= boundaries[i - 1] {
            return Err(c.fail(
                &key,
                b,
                &format!(
                    "must be greater than the boundary before it ({}): the boundaries \
                     must increase strictly",
                    boundaries[i - 1]
                ),
            ));
        }
    }
    if t.piecewise_hazard_ratios.len() != boundaries.len() + 1 {
        return Err(c.fail(
            "treatment.piecewise_hazard_ratios",
            format!("a list of {}", t.piecewise_hazard_ratios.len()),
            &format!(
                "must list one hazard ratio per interval: {} for the {} boundaries of \
                 treatment.piecewise_months",
                boundaries.len() + 1,
                boundaries.len()
            ),
        ));
    }
    for (i, &r) in t.piecewise_hazard_ratios.iter().enumerate() {
        c.within(
            &format!("treatment.piecewise_hazard_ratios[{i}]"),
            r,
            1e-3,
            1e3,
        )?;
    }
    let shape = match t.shape {
        EffectShapeKind::Fade => EffectShape::Fade {
            hr0: hazard_ratio_initial,
            half_life,
        },
        EffectShapeKind::Constant => EffectShape::Constant {
            hr: hazard_ratio_initial,
        },
        EffectShapeKind::Piecewise => EffectShape::Piecewise {
            boundaries: boundaries.clone(),
            ratios: t.piecewise_hazard_ratios.clone(),
        },
        EffectShapeKind::None => EffectShape::None,
    };
    let log_hr = effect_log_hr(&shape);
    let violent_scale = c.within(
        "treatment.violent_log_hr_scale",
        t.violent_log_hr_scale,
        0.0,
        10.0,
    )?;
    let restitution_completed_scale = c.within(
        "treatment.restitution_completed_log_hr_scale",
        t.restitution_completed_log_hr_scale,
        0.0,
        10.0,
    )?;
    let no_agreement_scale = c.probability(
        "treatment.no_agreement_effect_scale",
        t.no_agreement_effect_scale,
    )?;
    let court_log_hr = c.within("court.log_hr", raw.court.log_hr, -10.0, 10.0)?;
    let scales = EffectScales {
        violent: violent_scale,
        restitution_completed: restitution_completed_scale,
        no_agreement: no_agreement_scale,
        modes: modes.map(|m| m.effect_scale),
    };
    let (no_action, untreated, treated) =
        RecidivismParams::tables(&baseline, court_log_hr, &log_hr, &scales);
    let conviction_probability = c.probability(
        "recidivism.conviction_probability",
        h.conviction_probability,
    )?;
    let odds_ratio = c.within(
        "treatment.conviction_odds_ratio",
        t.conviction_odds_ratio,
        1e-3,
        1e3,
    )?;
    // Exactly the untreated probability at an odds ratio of 1 (and at 0 or
    // 1, where odds do not move).
    let conviction_treated =
        if odds_ratio == 1.0 || conviction_probability == 0.0 || conviction_probability == 1.0 {
            conviction_probability
        } else {
            crate::model::draws::logistic(logit(conviction_probability) + odds_ratio.ln())
        };
    let log_hr_key = |key: &str, v: f64| c.within(key, v, -10.0, 10.0);
    let offense_log_hr = c.offense_values("recidivism.offense_log_hr", h.offense_log_hr)?;
    for (name, v) in OFFENSE_NAMES.iter().zip(offense_log_hr) {
        log_hr_key(&format!("recidivism.offense_log_hr.{name}"), v)?;
    }
    let pre_period_months = raw.outcomes.pre_period_months as usize;
    if pre_period_months > horizon || !pre_period_months.is_multiple_of(EFFECT_STEP_MONTHS) {
        return Err(c.fail(
            "outcomes.pre_period_months",
            pre_period_months,
            &format!(
                "must be 0 (no pre-period) or a multiple of {EFFECT_STEP_MONTHS} up to \
                 outcomes.follow_up_months ({horizon}): its offenses are compared with as many \
                 months after disposition"
            ),
        ));
    }
    let study_end = raw.outcomes.study_end_month;
    if study_end != 0 && !(1..=MAX_INTAKE_MONTHS + 240).contains(&study_end) {
        return Err(c.fail(
            "outcomes.study_end_month",
            study_end,
            &format!(
                "must be 0 (no study end) or a program month from 1 to {}",
                MAX_INTAKE_MONTHS + 240
            ),
        ));
    }
    let counting = Counting {
        on: h.recurrent || pre_period_months > 0,
        frailty_variance: c.within("recidivism.frailty_variance", h.frailty_variance, 0.0, 10.0)?,
        pre_period_months,
        pre_period_risk_correlation: c.within(
            "outcomes.pre_period_risk_correlation",
            raw.outcomes.pre_period_risk_correlation,
            -1.0,
            1.0,
        )?,
    };
    let recidivism = RecidivismParams {
        horizon,
        counting,
        no_action,
        untreated,
        treated,
        restitution_modifies_effect: restitution_completed_scale != 1.0,
        risk_log_hr: log_hr_key("recidivism.risk_log_hr", h.risk_log_hr)?,
        offense_log_hr,
        second_arrest_log_hr: log_hr_key(
            "recidivism.second_arrest_log_hr",
            h.second_arrest_log_hr,
        )?,
        extra_prior_log_hr: log_hr_key("recidivism.extra_prior_log_hr", h.extra_prior_log_hr)?,
        male_log_hr: log_hr_key("recidivism.male_log_hr", h.male_log_hr)?,
        age_log_hr: log_hr_key("recidivism.age_log_hr", h.age_log_hr)?,
        conviction_probability: [conviction_probability, conviction_treated],
        conviction_lag_months_mean: c.within(
            "recidivism.conviction_lag_months_mean",
            h.conviction_lag_months_mean,
            0.0,
            120.0,
        )?,
        conviction_lag_scale: c.within(
            "treatment.conviction_lag_scale",
            t.conviction_lag_scale,
            0.0,
            10.0,
        )?,
        cure: (cure_share > 0.0).then(|| Cure::new(cure_share, cure_risk_correlation)),
    };

    let processing_days_mean = c.within(
        "court.processing_days_mean",
        raw.court.processing_days_mean,
        0.0,
        3650.0,
    )?;
    let processing_days_sd = c.within(
        "court.processing_days_sd",
        raw.court.processing_days_sd,
        0.0,
        3650.0,
    )?;
    if processing_days_sd > 0.0 && processing_days_mean == 0.0 {
        return Err(c.fail(
            "court.processing_days_sd",
            processing_days_sd,
            "needs court.processing_days_mean above 0 (days cannot vary around a mean of 0)",
        ));
    }
    let court = CourtParams {
        processing: Processing::from_mean_sd(processing_days_mean, processing_days_sd),
    };

    let rct_control_share = raw.design.rct_control_share;
    if !(rct_control_share.is_finite() && (0.0..1.0).contains(&rct_control_share)) {
        return Err(c.fail(
            "design.rct_control_share",
            rct_control_share,
            "must lie in [0, 1)",
        ));
    }

    let k = &raw.costs;
    let cost = |key: &str, value: CostValue, high: f64| -> Result<Uncertain> {
        let key = format!("costs.{key}");
        let (low, up) = match value {
            CostValue::Fixed(v) => (v, v),
            CostValue::Uniform { low, high } => (low, high),
        };
        let requirement = format!("must lie in [0, {high}]");
        for v in [low, up] {
            if !(v.is_finite() && v >= 0.0 && v <= high) {
                return Err(c.fail(&key, v, &requirement));
            }
        }
        if low > up {
            return Err(c.fail(
                &key,
                format!("{{ low = {low}, high = {up} }}"),
                "needs low <= high",
            ));
        }
        Ok(Uncertain { low, high: up })
    };
    let money = 1e9;
    let costs = CostParams {
        implementation_package: cost("implementation_package", k.implementation_package, money)?,
        case_database: cost("case_database", k.case_database, money)?,
        training_per_mediator: cost("training_per_mediator", k.training_per_mediator, money)?,
        coordinator_per_month: cost("coordinator_per_month", k.coordinator_per_month, money)?,
        per_mediation_case: cost("per_mediation_case", k.per_mediation_case, money)?,
        agency_per_case: cost("agency_per_case", k.agency_per_case, money)?,
        justice_per_rearrest: cost("justice_per_rearrest", k.justice_per_rearrest, money)?,
        victim_per_rearrest: cost("victim_per_rearrest", k.victim_per_rearrest, money)?,
        discount_rate: cost("discount_rate", k.discount_rate, 0.99)?,
    };

    if raw.design.randomize_after_consent && rct_control_share == 0.0 {
        return Err(c.fail(
            "design.randomize_after_consent",
            true,
            "needs design.rct_control_share above 0: it says *when* cases are randomized \
             (after both parties consent), the share says how many",
        ));
    }
    let pool_per_month = c.within(
        "design.comparison_pool_per_month",
        raw.design.comparison_pool_per_month,
        0.0,
        MAX_REFERRALS_PER_REPLICATION / f64::from(sim.intake_months),
    )?;
    let design = DesignParams {
        rct_control_share,
        randomize_after_consent: raw.design.randomize_after_consent,
        pool_per_month,
        pool_risk_shift: c.within(
            "design.comparison_pool_risk_shift",
            raw.design.comparison_pool_risk_shift,
            -5.0,
            5.0,
        )?,
    };

    // Staff: none (unlimited) by default.
    let st = &raw.staff;
    if st.coordinators > MAX_COORDINATORS {
        return Err(c.fail(
            "staff.coordinators",
            st.coordinators,
            &format!("must lie in [0, {MAX_COORDINATORS}] (0: unlimited staff)"),
        ));
    }
    let hours_per_month = c.within("staff.hours_per_month", st.hours_per_month, 0.0, 744.0)?;
    if hours_per_month <= 0.0 {
        return Err(c.fail(
            "staff.hours_per_month",
            hours_per_month,
            "must lie in (0, 744]",
        ));
    }
    let intake = &st.intake_hours;
    let intake_hours = [
        c.within(
            "staff.intake_hours.face_to_face",
            intake.face_to_face,
            0.0,
            1000.0,
        )?,
        c.within("staff.intake_hours.indirect", intake.indirect, 0.0, 1000.0)?,
        c.within(
            "staff.intake_hours.conference",
            intake.conference,
            0.0,
            1000.0,
        )?,
    ];
    let staff = (st.coordinators > 0).then_some(StaffParams {
        coordinators: st.coordinators,
        hours_per_month,
        intake_hours,
    });

    Ok(Scenario {
        staff,
        costs,
        court,
        design,
        raw,
        source_sha256,
        referral,
        consent,
        mediators,
        mediation,
        restitution,
        recidivism,
    })
}
