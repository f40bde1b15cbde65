//! The scenario file's schema: plain serde structs that mirror the TOML one
//! to one. Unknown keys are rejected (`deny_unknown_fields`); every field has
//! a default so that `vomsim validate` can print the fully resolved file.
//!
//! Nothing here is checked beyond its type: ranges, sums and consistency are
//! checked once in `validate`, which turns this into a typed
//! [`super::Scenario`].
//!
//! The defaults are the calibrated Los Angeles VORS values of
//! `scenarios/vors_la.toml`; that file carries each number's source.

use serde::{Deserialize, Serialize};

/// One scenario file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawScenario {
    /// Short name; names the default output folder `output/<name>/`.
    pub name: String,
    /// One line for humans.
    pub description: String,
    pub simulation: RawSimulation,
    pub referrals: RawReferrals,
    pub consent: RawConsent,
    pub mediators: RawMediators,
    pub mediation: RawMediation,
    pub restitution: RawRestitution,
    pub recidivism: RawRecidivism,
    pub treatment: RawTreatment,
    pub court: RawCourt,
    pub outcomes: RawOutcomes,
    pub staff: RawStaff,
    pub design: RawDesign,
    pub costs: RawCosts,
}

/// What is followed, and for how long.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawOutcomes {
    /// Months of follow-up after disposition, 12 to 120, a multiple of 6
    /// (effects are reported every 6 months to it).
    pub follow_up_months: u32,
    /// Months before referral whose offenses are counted, and the length of
    /// the window after disposition they are compared with: 0 (none) or a
    /// multiple of 6 up to `follow_up_months`.
    pub pre_period_months: u32,
    /// Correlation of the latent risk behind the pre-period's offenses with
    /// the follow-up's, in [-1, 1]: 1 is a fixed youth effect; below 1 the
    /// youth's risk changes between the periods.
    pub pre_period_risk_correlation: f64,
    /// The program month at which the study ends, 0 for none: a youth is
    /// followed until then (or the horizon), so later entrants have shorter
    /// follow-up; `rearrest_observed` and `km_observed` show what a study
    /// sees.
    pub study_end_month: u32,
}

impl Default for RawOutcomes {
    fn default() -> Self {
        RawOutcomes {
            follow_up_months: 30,
            pre_period_months: 0,
            pre_period_risk_correlation: 1.0,
            study_end_month: 0,
        }
    }
}

/// Paid staff (issue 19): coordinators who do each consented case's intake
/// and preparation before it reaches the volunteer queue. `coordinators =
/// 0` (the default) is unlimited staff: intake takes no time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawStaff {
    /// Paid coordinators doing intake, in [0, 1000]; 0 = unlimited staff
    /// (no staff queue).
    pub coordinators: u32,
    /// Hours a coordinator gives to intake in a month, in (0, 744].
    pub hours_per_month: f64,
    /// Mean coordinator hours of intake and preparation per consented case,
    /// by mediation mode (exponentially distributed).
    pub intake_hours: RawIntakeHours,
}

/// Mean intake hours per case of each mediation mode, each in [0, 1000].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawIntakeHours {
    /// Face-to-face mediation: contacting both parties, a pre-meeting each.
    pub face_to_face: f64,
    /// Indirect (shuttle) mediation.
    pub indirect: f64,
    /// Conferencing: families and supporters to contact as well.
    pub conference: f64,
}

impl Default for RawStaff {
    fn default() -> Self {
        RawStaff {
            coordinators: 0,
            // Assumption: a full-time coordinator's 173 paid hours a month,
            // three quarters of them on cases.
            hours_per_month: 130.0,
            intake_hours: RawIntakeHours::default(),
        }
    }
}

impl Default for RawIntakeHours {
    fn default() -> Self {
        // Assumptions: a few hours of calls and scheduling per case, less
        // without a joint meeting, more with families to bring together.
        RawIntakeHours {
            face_to_face: 4.0,
            indirect: 3.0,
            conference: 6.0,
        }
    }
}

/// The court path: how youths who are not mediated (declined, returned,
/// the control arm) are processed, and what that does to rearrest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawCourt {
    /// Mean days from referral (or from the return of a case that waited)
    /// to the court's disposition, in [0, 3650]; 0 disposes on that day.
    pub processing_days_mean: f64,
    /// Standard deviation of those days (log-normal), in [0, 3650]; 0 gives
    /// every case the mean.
    pub processing_days_sd: f64,
    /// Log hazard ratio of rearrest after court processing, relative to no
    /// action, in [-10, 10]: the untreated world's hazard; mediated
    /// youths are diverted from it.
    pub log_hr: f64,
}

impl Default for RawCourt {
    fn default() -> Self {
        RawCourt {
            processing_days_mean: 0.0,
            processing_days_sd: 0.0,
            log_hr: 0.0,
        }
    }
}

/// Costs and benefits, in dollars. Any cost may be given as
/// `{ low = .., high = .. }`: drawn uniformly once per replication
/// (parameter uncertainty).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawCosts {
    /// The implementation package, once, dollars, >= 0.
    pub implementation_package: CostValue,
    /// The case-management database, once, dollars, >= 0.
    pub case_database: CostValue,
    /// Training one volunteer mediator (initial pool and every cohort), dollars, >= 0.
    pub training_per_mediator: CostValue,
    /// Program coordination staff per month the program takes referrals
    /// (the intake months; not the tail that lets the last cases finish),
    /// dollars, >= 0.
    pub coordinator_per_month: CostValue,
    /// Direct cost of one mediated case, dollars, >= 0.
    pub per_mediation_case: CostValue,
    /// The referring agency's cost of handling one case (treatment as
    /// usual), dollars, >= 0.
    pub agency_per_case: CostValue,
    /// Justice-system cost of one rearrest (arrest, court, supervision), dollars, >= 0.
    pub justice_per_rearrest: CostValue,
    /// Victims' cost of the offense behind one rearrest, dollars, >= 0.
    pub victim_per_rearrest: CostValue,
    /// Annual discount rate, in [0, 1).
    pub discount_rate: CostValue,
}

/// A number, or bounds `{ low, high }` of a uniform draw per replication.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CostValue {
    Fixed(f64),
    Uniform { low: f64, high: f64 },
}

/// Read by hand rather than by serde's `untagged`, whose only message is
/// "data did not match any variant of untagged enum CostValue": a user gets
/// what a cost may be and which key of a range is wrong or missing.
impl<'de> Deserialize<'de> for CostValue {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = CostValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number of dollars, or a range `{ low = .., high = .. }`")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<CostValue, E> {
                Ok(CostValue::Fixed(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<CostValue, E> {
                Ok(CostValue::Fixed(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<CostValue, E> {
                Ok(CostValue::Fixed(v as f64))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<CostValue, A::Error> {
                use serde::de::Error;
                let (mut low, mut high) = (None, None);
                while let Some(key) = map.next_key::<String>()? {
                    let slot = match key.as_str() {
                        "low" => &mut low,
                        "high" => &mut high,
                        other => {
                            return Err(A::Error::custom(format!(
                                "a cost range has only `low` and `high`, not `{other}`"
                            )));
                        }
                    };
                    *slot = Some(map.next_value::<Number>()?.0);
                }
                match (low, high) {
                    (Some(low), Some(high)) => Ok(CostValue::Uniform { low, high }),
                    _ => Err(A::Error::custom(
                        "a cost range needs both `low` and `high`, e.g. { low = 5000, high = 15000 }",
                    )),
                }
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// A number written with or without a decimal point.
struct Number(f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Number;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Default for RawCosts {
    fn default() -> Self {
        RawCosts {
            implementation_package: CostValue::Fixed(4000.0),
            case_database: CostValue::Fixed(7000.0),
            training_per_mediator: CostValue::Fixed(2000.0),
            coordinator_per_month: CostValue::Fixed(6000.0),
            per_mediation_case: CostValue::Fixed(200.0),
            agency_per_case: CostValue::Fixed(1500.0),
            justice_per_rearrest: CostValue::Uniform {
                low: 5000.0,
                high: 15000.0,
            },
            victim_per_rearrest: CostValue::Uniform {
                low: 2000.0,
                high: 10000.0,
            },
            discount_rate: CostValue::Fixed(0.03),
        }
    }
}

/// The research design layered on the program.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawDesign {
    /// Share of referrals randomized to a control arm never offered
    /// mediation, in [0, 1); 0 means no randomization.
    pub rct_control_share: f64,
    /// Randomize only cases both parties consented to (a consent-first
    /// trial): the control arm is consented cases never mediated.
    pub randomize_after_consent: bool,
    /// Mean youths per intake month of a court-processed comparison pool:
    /// youths from the same population who were never referred; >= 0
    /// (0: no pool).
    pub comparison_pool_per_month: f64,
    /// How the pool's latent risk differs from the referred youths', in
    /// standard deviations, in [-5, 5].
    pub comparison_pool_risk_shift: f64,
}

impl Default for RawDesign {
    fn default() -> Self {
        RawDesign {
            rct_control_share: 0.0,
            randomize_after_consent: false,
            comparison_pool_per_month: 0.0,
            comparison_pool_risk_shift: 0.0,
        }
    }
}

/// How much to simulate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawSimulation {
    /// Master seed of the random streams (overridden by `--seed`).
    pub seed: u64,
    /// Replications to run (overridden by `--reps`); at least 1.
    pub replications: u64,
    /// Months during which referrals arrive (the intake period); 1 to 600.
    pub intake_months: u32,
}

/// Stage 1: who is referred, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawReferrals {
    /// Mean referrals per program month (Poisson); >= 0.
    pub per_month: f64,
    /// Optional multipliers of `per_month` by intake month, cycled; each >= 0.
    /// Empty means a constant rate.
    pub monthly_multipliers: Vec<f64>,
    /// Youngest age referred, 10 to 17.
    pub age_min: u8,
    /// Oldest age referred, `age_min` to 17.
    pub age_max: u8,
    /// Shares of each age from `age_min` to `age_max` (one value per age,
    /// summing to 1).
    pub age_shares: Vec<f64>,
    /// Share of boys, in [0, 1].
    pub male_share: f64,
    /// Race/ethnicity shares (sum to 1).
    pub race_shares: RaceShares,
    /// Offense shares (sum to 1); `violent` is an opt-in extension.
    pub offense_shares: OffenseValues,
    /// Share of youths with a prior arrest (on their second or later arrest,
    /// rather than their first), in [0, 1].
    pub second_arrest_share: f64,
    /// Among youths with a prior arrest, the shares with 1, 2, 3, ... prior
    /// arrests (one to ten values, summing to 1).
    pub prior_arrest_shares: Vec<f64>,
    /// Correlation of motivation with latent risk `z`, in [-1, 1].
    pub motivation_risk_correlation: f64,
}

/// Stages 2-4: offender and victim consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawConsent {
    /// Who is asked first: `offender_first` (the victim is asked only after
    /// the youth consents) or `victim_first` (the youth is asked only after
    /// the victim consents).
    pub order: ConsentOrder,
    /// `voluntary` (a logistic model) or `court_ordered` (always yes).
    pub offender_mode: OffenderMode,
    /// Voluntary consent probability of a reference youth (motivation 0,
    /// vandalism), in [0, 1].
    pub offender_probability: f64,
    /// Log-odds of offender consent per standard deviation of motivation.
    pub offender_motivation_log_odds: f64,
    /// Log-odds shift of offender consent by offense.
    pub offender_offense_log_odds: OffenseValues,
    /// Victim consent probability for a reference case (individual victim,
    /// vandalism, youth risk z = 0), in [0, 1].
    pub victim_probability: f64,
    /// Log-odds shift of victim consent by offense.
    pub victim_offense_log_odds: OffenseValues,
    /// Share of cases whose victim is a business (a store, a company), by
    /// offense, in [0, 1].
    pub victim_business_share: OffenseValues,
    /// Log-odds shift of victim consent when the victim is a business.
    pub victim_business_log_odds: f64,
    /// Log-odds of victim consent per standard deviation of the youth's latent
    /// risk: the self-selection channel of the VORS comparison group.
    pub victim_risk_log_odds: f64,
}

/// Stage 5: the volunteer mediator pool and the case queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawMediators {
    /// Active mediators at program start; >= 0.
    pub initial_active: u32,
    /// Volunteers per training cohort; >= 0 (0: no cohorts).
    pub cohort_size: u32,
    /// A cohort starts training every this many months; >= 1.
    pub cohort_every_months: u32,
    /// Days from the start of training to being active, >= 0.
    pub training_days: f64,
    /// Sessions a volunteer commits to before the later attrition rate
    /// applies; >= 0.
    pub commitment_sessions: u32,
    /// Monthly probability of leaving while within the commitment, in [0, 1].
    pub attrition_during_commitment: f64,
    /// Monthly probability of leaving after the commitment, in [0, 1].
    pub attrition_after_commitment: f64,
    /// Cases a mediator holds at once; >= 1.
    pub max_cases_per_mediator: u32,
    /// Share of cases that need two mediators (co-mediation), in [0, 1].
    pub comediation_share: f64,
    /// `lognormal` or `exponential`: distribution of a case's duration, from
    /// assignment to the session.
    pub case_days_distribution: DurationKind,
    /// Mean case duration in days, > 0.
    pub case_days_mean: f64,
    /// Standard deviation of the duration in days (log-normal only), > 0.
    pub case_days_sd: f64,
    /// A case still waiting after this many days returns to the agency, > 0.
    pub max_wait_days: f64,
    /// Whether a youth rearrested while waiting (at the untreated hazard)
    /// returns to the agency.
    pub rearrest_returns_case: bool,
    /// Hours each mediator spends preparing a case, >= 0.
    pub preparation_hours: f64,
    /// Share of cases with separate pre-meetings with each party, in [0, 1].
    pub premeeting_share: f64,
    /// Hours of each of the two pre-meetings, >= 0.
    pub premeeting_hours: f64,
    /// Shortest session, hours, >= 0 (the session's length is uniform
    /// between the shortest and the longest).
    pub session_hours_min: f64,
    /// Longest session, hours, >= `session_hours_min`.
    pub session_hours_max: f64,
}

/// Distribution of case durations.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DurationKind {
    #[default]
    Lognormal,
    Exponential,
}

/// Stage 6: the session and the agreement's contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawMediation {
    /// Probability that a session ends in a signed agreement, in [0, 1].
    pub agreement_probability: f64,
    /// Probability an agreement includes monetary restitution, in [0, 1].
    pub monetary_probability: f64,
    /// Median restitution amount agreed, dollars (log-normal), > 0.
    pub amount_median_dollars: f64,
    /// Log-scale standard deviation of the amount, >= 0.
    pub amount_log_sd: f64,
    /// Probability an agreement includes community service, in [0, 1].
    pub service_probability: f64,
    /// Median community service hours agreed (log-normal), > 0.
    pub service_hours_median: f64,
    /// Log-scale standard deviation of the hours, >= 0.
    pub service_hours_log_sd: f64,
    /// Probability an agreement includes an apology, in [0, 1].
    pub apology_probability: f64,
    /// How consented cases are mediated: shares, agreement, hours and effect
    /// by mode.
    pub modes: RawModes,
}

/// The mediation modes; their shares of mediated cases sum to 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawModes {
    /// A joint meeting of youth and victim (VOM as VORS runs it).
    pub face_to_face: RawFaceToFace,
    /// Shuttle mediation: the mediator meets each party separately; no
    /// joint session.
    pub indirect: RawMode,
    /// A family-group or community conference: more participants, longer
    /// preparation.
    pub conference: RawMode,
}

/// The face-to-face mode: its agreement probability is
/// `mediation.agreement_probability`, its hours the `mediators` hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawFaceToFace {
    /// Share of mediated cases handled in this mode, in [0, 1].
    pub share: f64,
    /// Factor on the mediators' hours of a case (preparation, pre-meetings,
    /// session), in [0, 20].
    pub hours_scale: f64,
    /// Factor on the treatment's log hazard ratio, in [0, 10]: 1 the full
    /// effect, 0 none.
    pub effect_scale: f64,
}

/// A mode other than face-to-face.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawMode {
    /// Share of mediated cases handled in this mode, in [0, 1].
    pub share: f64,
    /// Probability that the mediation ends in a signed agreement, in [0, 1].
    pub agreement_probability: f64,
    /// Factor on the mediators' hours of a case (preparation, pre-meetings,
    /// session), in [0, 20].
    pub hours_scale: f64,
    /// Factor on the treatment's log hazard ratio, in [0, 10]: 1 the full
    /// effect, 0 none.
    pub effect_scale: f64,
}

impl Default for RawModes {
    fn default() -> Self {
        RawModes {
            face_to_face: RawFaceToFace {
                share: 1.0,
                hours_scale: 1.0,
                effect_scale: 1.0,
            },
            indirect: RawMode {
                share: 0.0,
                agreement_probability: 0.85,
                hours_scale: 1.5,
                effect_scale: 0.5,
            },
            conference: RawMode {
                share: 0.0,
                agreement_probability: 0.90,
                hours_scale: 2.5,
                effect_scale: 1.0,
            },
        }
    }
}

impl Default for RawFaceToFace {
    fn default() -> Self {
        RawModes::default().face_to_face
    }
}

impl Default for RawMode {
    /// Serde's fallback only: every mode table is merged onto its own
    /// documented defaults before it is read (`keys::merged_with_defaults`).
    fn default() -> Self {
        RawModes::default().indirect
    }
}

/// Stage 7: completing restitution, after mediation or on a court order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawRestitution {
    /// Completion of what a mediation agreement set.
    pub mediated: RawCompletion,
    /// The court's orders for cases returned to the agency, and their completion.
    pub court_ordered: RawCourtOrder,
}

/// How obligations get completed: completion falls with the amount (hours).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawCompletion {
    /// Probability of paying in full an amount equal to the median, in [0, 1].
    pub payment_probability: f64,
    /// Log-odds of paying in full per unit of ln(amount / median); <= 0
    /// makes completion fall with the amount.
    pub payment_amount_log_odds: f64,
    /// Non-payers pay a uniform share of the amount in [0, this], in [0, 1].
    pub partial_paid_max_share: f64,
    /// Probability of completing community service of median hours, in [0, 1].
    pub service_probability: f64,
    /// Log-odds of completing service per unit of ln(hours / median).
    pub service_hours_log_odds: f64,
    /// Non-completers perform a uniform share of the hours in [0, this].
    pub partial_hours_max_share: f64,
    /// Log-odds of completing (paying, performing service) per standard
    /// deviation of the youth's latent risk `z`, in [-10, 10].
    pub risk_log_odds: f64,
}

/// Treatment as usual: what the court orders a returned case, and completion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawCourtOrder {
    /// Probability the court orders monetary restitution, in [0, 1].
    pub monetary_probability: f64,
    /// Median amount ordered, dollars (log-normal), > 0.
    pub amount_median_dollars: f64,
    /// Log-scale standard deviation of the amount, >= 0.
    pub amount_log_sd: f64,
    /// Probability the court orders community service, in [0, 1].
    pub service_probability: f64,
    /// Median hours ordered (log-normal), > 0.
    pub service_hours_median: f64,
    /// Log-scale standard deviation of the hours, >= 0.
    pub service_hours_log_sd: f64,
    /// Completion of the orders.
    pub completion: RawCompletion,
}

/// Stage 8: the rearrest hazard and reconviction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawRecidivism {
    /// 12-month cumulative rearrest of a reference youth (vandalism, first
    /// arrest, girl, age 15, z = 0) without mediation, in (0, 1); with a
    /// cure fraction, of a reference youth who is susceptible (not cured).
    pub baseline_rearrest_12m: f64,
    /// The baseline hazard's family: `weibull` (the default), `log_logistic`
    /// (a hump: risk rising then falling, for a shape above 1) or `monthly`
    /// (the monthly values of `baseline_monthly_hazard`, one per month of follow-up).
    pub baseline_family: BaselineFamily,
    /// Weibull shape of the baseline hazard, 0.05 to 20; below 1 the hazard
    /// declines. Read only by the `weibull` family (still range-checked).
    pub baseline_weibull_shape: f64,
    /// Log-logistic shape of the baseline hazard, 0.05 to 20: above 1 the
    /// hazard rises, then falls. Read only by the `log_logistic` family
    /// (still range-checked).
    pub baseline_log_logistic_shape: f64,
    /// Optional monthly baseline hazards, one per month of `outcomes.follow_up_months` (per month, 0 to 50), that replace
    /// the parametric form: required by the `monthly` family; a non-empty
    /// list with the `weibull` family also replaces it (as before the family
    /// key existed); not allowed with `log_logistic`. Empty means use the
    /// family's form.
    pub baseline_monthly_hazard: Vec<f64>,
    /// Share of youths who are never rearrested (in either potential world,
    /// nor while waiting), in [0, 1): the cure fraction, where the
    /// cumulative incidence levels off at 1 - cure_share. 0 means none.
    pub cure_share: f64,
    /// Correlation of the latent normal deciding cure with latent risk `z`,
    /// in [-1, 1]; negative: riskier youths are less often cured.
    pub cure_risk_correlation: f64,
    /// Log hazard ratio per standard deviation of latent risk `z`.
    pub risk_log_hr: f64,
    /// Log hazard ratio by offense (relative to vandalism).
    pub offense_log_hr: OffenseValues,
    /// Log hazard ratio of a second arrest versus a first.
    pub second_arrest_log_hr: f64,
    /// Log hazard ratio of each prior arrest beyond the first.
    pub extra_prior_log_hr: f64,
    /// Log hazard ratio of boys versus girls.
    pub male_log_hr: f64,
    /// Log hazard ratio per year of age above 15.
    pub age_log_hr: f64,
    /// Probability that a rearrest leads to a conviction, in [0, 1].
    pub conviction_probability: f64,
    /// Count every rearrest to the end of follow-up (a recurrent-event
    /// process), not only the first.
    pub recurrent: bool,
    /// Variance of a per-youth gamma frailty (mean 1) multiplying the
    /// rearrest intensity, in [0, 10]; 0 for none.
    pub frailty_variance: f64,
    /// Mean months from rearrest to conviction (exponential), >= 0.
    pub conviction_lag_months_mean: f64,
}

/// Stage 8 for mediated youths: the treatment hazard ratio and its decay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RawTreatment {
    /// The effect's shape over follow-up: `fade` (the default: the log
    /// hazard ratio halves every `half_life_months`), `constant`
    /// (`hazard_ratio_initial` throughout), `piecewise` (one ratio per
    /// interval of `piecewise_months`) or `none` (a ratio of 1). Keys a
    /// shape does not use are still range-checked, then ignored.
    pub shape: EffectShapeKind,
    /// Hazard ratio of mediated youths at the start of follow-up, 0.001 to
    /// 1000 (`fade` and `constant`).
    pub hazard_ratio_initial: f64,
    /// Months for the log hazard ratio to halve (decay towards 1), > 0
    /// (`fade`).
    pub half_life_months: f64,
    /// Boundaries of the `piecewise` shape's intervals, whole follow-up
    /// months, strictly increasing, each in 1..=29.
    pub piecewise_months: Vec<u32>,
    /// The `piecewise` shape's hazard ratio in each interval (one more than
    /// the boundaries), each 0.001 to 1000.
    pub piecewise_hazard_ratios: Vec<f64>,
    /// Factor on the log hazard ratio for violent offenses, >= 0.
    pub violent_log_hr_scale: f64,
    /// Factor on the log hazard ratio when all restitution agreed was
    /// completed, >= 0 (1 = no modification).
    pub restitution_completed_log_hr_scale: f64,
    /// Factor on the log hazard ratio when the session ends without an
    /// agreement, in [0, 1] (1 = the full effect, 0 = none).
    pub no_agreement_effect_scale: f64,
    /// Odds ratio of a conviction given a rearrest, mediated against not
    /// (the program's effect on adjudication), in [0.001, 1000].
    pub conviction_odds_ratio: f64,
    /// Factor on the lag from rearrest to conviction for mediated youths,
    /// in [0, 10] (1: the same lag as the court's).
    pub conviction_lag_scale: f64,
}

/// Which party is asked to consent first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentOrder {
    #[default]
    OffenderFirst,
    VictimFirst,
}

/// The baseline hazard's family (`recidivism.baseline_family`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineFamily {
    /// Weibull, `c * (t/12)^shape` (declining for shape < 1).
    #[default]
    Weibull,
    /// Log-logistic, `ln(1 + (t/alpha)^shape)` (a hump for shape > 1).
    LogLogistic,
    /// The monthly values of `recidivism.baseline_monthly_hazard`.
    Monthly,
}

/// The treatment effect's shape (`treatment.shape`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectShapeKind {
    /// The log hazard ratio halves every `half_life_months`.
    #[default]
    Fade,
    /// `hazard_ratio_initial` throughout.
    Constant,
    /// One ratio per interval of `piecewise_months`.
    Piecewise,
    /// No effect.
    None,
}

/// Offender consent mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OffenderMode {
    /// The youth decides (logistic model of motivation and offense).
    #[default]
    Voluntary,
    /// The court orders participation: offender consent is always yes.
    CourtOrdered,
}

/// One number per offense category.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OffenseValues {
    pub vandalism: f64,
    pub shoplifting: f64,
    pub joyriding: f64,
    pub burglary: f64,
    pub assault: f64,
    pub violent: f64,
}

/// Race/ethnicity shares, as the VORS study population reports them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RaceShares {
    pub hispanic: f64,
    pub black: f64,
    pub white: f64,
    pub asian: f64,
    pub unspecified: f64,
}

impl OffenseValues {
    pub const ZERO: OffenseValues = OffenseValues {
        vandalism: 0.0,
        shoplifting: 0.0,
        joyriding: 0.0,
        burglary: 0.0,
        assault: 0.0,
        violent: 0.0,
    };

    /// Values in [`crate::model::referral::Offense`] order.
    pub fn to_array(self) -> [f64; 6] {
        [
            self.vandalism,
            self.shoplifting,
            self.joyriding,
            self.burglary,
            self.assault,
            self.violent,
        ]
    }
}

impl RaceShares {
    /// Values in [`crate::model::referral::Race`] order.
    pub fn to_array(self) -> [f64; 5] {
        [
            self.hispanic,
            self.black,
            self.white,
            self.asian,
            self.unspecified,
        ]
    }
}

impl Default for OffenseValues {
    fn default() -> Self {
        Self::ZERO
    }
}

impl Default for RaceShares {
    /// The VORS study population (seed 003, "Study Populations").
    fn default() -> Self {
        RaceShares {
            hispanic: 0.573,
            black: 0.291,
            white: 0.081,
            asian: 0.038,
            unspecified: 0.017,
        }
    }
}

impl Default for RawScenario {
    fn default() -> Self {
        RawScenario {
            name: "scenario".to_string(),
            description: String::new(),
            simulation: RawSimulation::default(),
            referrals: RawReferrals::default(),
            consent: RawConsent::default(),
            mediators: RawMediators::default(),
            mediation: RawMediation::default(),
            restitution: RawRestitution::default(),
            recidivism: RawRecidivism::default(),
            treatment: RawTreatment::default(),
            court: RawCourt::default(),
            outcomes: RawOutcomes::default(),
            staff: RawStaff::default(),
            design: RawDesign::default(),
            costs: RawCosts::default(),
        }
    }
}

impl Default for RawSimulation {
    fn default() -> Self {
        RawSimulation {
            seed: 20_261_121,
            replications: 200,
            intake_months: 12,
        }
    }
}

impl Default for RawReferrals {
    fn default() -> Self {
        RawReferrals {
            per_month: 40.0,
            monthly_multipliers: Vec::new(),
            age_min: 13,
            age_max: 17,
            age_shares: vec![0.15, 0.20, 0.22, 0.22, 0.21],
            male_share: 0.701,
            race_shares: RaceShares::default(),
            offense_shares: OffenseValues {
                vandalism: 0.25,
                shoplifting: 0.30,
                joyriding: 0.10,
                burglary: 0.15,
                assault: 0.20,
                violent: 0.0,
            },
            second_arrest_share: 0.30,
            prior_arrest_shares: vec![1.0],
            motivation_risk_correlation: -0.3,
        }
    }
}

impl Default for RawConsent {
    fn default() -> Self {
        RawConsent {
            order: ConsentOrder::OffenderFirst,
            offender_mode: OffenderMode::Voluntary,
            offender_probability: 0.75,
            offender_motivation_log_odds: 1.0,
            offender_offense_log_odds: OffenseValues::ZERO,
            victim_probability: 0.55,
            victim_offense_log_odds: OffenseValues {
                vandalism: 0.0,
                shoplifting: 0.0,
                joyriding: -0.2,
                burglary: -0.5,
                assault: -0.4,
                violent: -0.8,
            },
            victim_business_share: OffenseValues {
                vandalism: 0.3,
                shoplifting: 0.9,
                joyriding: 0.1,
                burglary: 0.3,
                assault: 0.0,
                violent: 0.0,
            },
            victim_business_log_odds: 0.0,
            victim_risk_log_odds: -0.738,
        }
    }
}

impl Default for RawMediators {
    fn default() -> Self {
        RawMediators {
            initial_active: 37,
            cohort_size: 8,
            cohort_every_months: 6,
            training_days: 28.0,
            commitment_sessions: 12,
            attrition_during_commitment: 0.01,
            attrition_after_commitment: 0.04,
            max_cases_per_mediator: 1,
            comediation_share: 0.5,
            case_days_distribution: DurationKind::Lognormal,
            case_days_mean: 21.0,
            case_days_sd: 10.0,
            max_wait_days: 90.0,
            rearrest_returns_case: true,
            preparation_hours: 1.0,
            premeeting_share: 0.8,
            premeeting_hours: 1.0,
            session_hours_min: 1.0,
            session_hours_max: 1.5,
        }
    }
}

impl Default for RawMediation {
    fn default() -> Self {
        RawMediation {
            agreement_probability: 0.90,
            monetary_probability: 0.5556,
            amount_median_dollars: 200.0,
            amount_log_sd: 1.0,
            service_probability: 0.9111,
            service_hours_median: 20.0,
            service_hours_log_sd: 0.7,
            apology_probability: 0.8,
            modes: RawModes::default(),
        }
    }
}

impl Default for RawCompletion {
    fn default() -> Self {
        RawCompletion {
            payment_probability: 0.6267,
            payment_amount_log_odds: -0.5,
            partial_paid_max_share: 0.588,
            service_probability: 0.6008,
            service_hours_log_odds: -1.644,
            partial_hours_max_share: 0.2,
            risk_log_odds: 0.0,
        }
    }
}

impl Default for RawCourtOrder {
    fn default() -> Self {
        RawCourtOrder {
            monetary_probability: 0.25,
            amount_median_dollars: 300.0,
            amount_log_sd: 1.0,
            service_probability: 0.33,
            service_hours_median: 30.0,
            service_hours_log_sd: 0.7,
            completion: RawCompletion {
                payment_probability: 0.00668,
                payment_amount_log_odds: -2.45,
                partial_paid_max_share: 0.0,
                service_probability: 0.0518,
                service_hours_log_odds: -1.266,
                partial_hours_max_share: 0.0,
                risk_log_odds: 0.0,
            },
        }
    }
}

impl Default for RawRecidivism {
    fn default() -> Self {
        RawRecidivism {
            baseline_rearrest_12m: 0.1593,
            baseline_family: BaselineFamily::Weibull,
            baseline_weibull_shape: 0.8,
            // Assumption: a gentle hump (risk peaking within the follow-up
            // for the higher baselines); read only by `log_logistic`.
            baseline_log_logistic_shape: 1.5,
            baseline_monthly_hazard: Vec::new(),
            // No cure fraction: every youth is susceptible (as before).
            cure_share: 0.0,
            // Assumption: the riskier a youth, the less likely it never
            // reoffends (read only when cure_share > 0).
            cure_risk_correlation: -0.5,
            risk_log_hr: 0.8,
            offense_log_hr: OffenseValues {
                vandalism: 0.0,
                shoplifting: -0.1,
                joyriding: 0.2,
                burglary: 0.3,
                assault: 0.2,
                violent: 0.4,
            },
            second_arrest_log_hr: 0.3,
            extra_prior_log_hr: 0.15,
            male_log_hr: 0.3,
            age_log_hr: 0.0,
            conviction_probability: 0.6,
            recurrent: false,
            frailty_variance: 0.0,
            conviction_lag_months_mean: 3.0,
        }
    }
}

impl Default for RawTreatment {
    fn default() -> Self {
        RawTreatment {
            shape: EffectShapeKind::Fade,
            hazard_ratio_initial: 0.498,
            half_life_months: 5.43,
            // Assumption: 6-month intervals, each ratio the mean monthly
            // ratio of the default fade (0.498 halving every 5.43 months)
            // over the interval, rounded; read only by `piecewise`.
            piecewise_months: vec![6, 12, 18, 24],
            piecewise_hazard_ratios: vec![0.62, 0.80, 0.90, 0.95, 0.98],
            violent_log_hr_scale: 0.5,
            restitution_completed_log_hr_scale: 1.0,
            no_agreement_effect_scale: 1.0,
            conviction_odds_ratio: 1.0,
            conviction_lag_scale: 1.0,
        }
    }
}
