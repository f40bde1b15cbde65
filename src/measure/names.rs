//! The names of DESIGN.md's output contract, once: every metric and group
//! that `summary.csv`, `replications.csv` and `diagnosis.csv` can hold.
//! The tally emits them, and the report, `compare` and the console tables
//! read them, by these constants, so a typo is a compile error rather than a
//! silently empty chart; `tests/contract.rs` checks each name is in
//! docs/DESIGN.md and that the tally emits no other.
//!
//! (`returned_wait` is both a metric, cases returned by program month, and a
//! group, youths whose case was returned: one constant in each module.)

/// Metric names (the `metric` column).
pub mod metric {
    pub const REFERRALS: &str = "referrals";
    pub const SHARE: &str = "share";
    pub const REARREST: &str = "rearrest";
    pub const RECONVICTION: &str = "reconviction";
    pub const CONVICTION_GIVEN_REARREST: &str = "conviction_given_rearrest";
    pub const REARRESTS_PER_YOUTH: &str = "rearrests_per_youth";
    pub const OFFENSES_BEFORE: &str = "offenses_before";
    pub const OFFENSES_AFTER: &str = "offenses_after";
    pub const OFFENSE_CHANGE: &str = "offense_change";
    pub const MONETARY_AGREED: &str = "monetary_agreed";
    pub const MONETARY_COMPLETED: &str = "monetary_completed";
    pub const DOLLARS_PAID_SHARE: &str = "dollars_paid_share";
    pub const SERVICE_AGREED: &str = "service_agreed";
    pub const SERVICE_COMPLETED: &str = "service_completed";
    pub const SERVICE_HOURS_SHARE: &str = "service_hours_share";
    pub const EFFECT_RATIO: &str = "effect_ratio";
    pub const EFFECT_RATIO_LOWER: &str = "effect_ratio_lower";
    pub const EFFECT_RATIO_UPPER: &str = "effect_ratio_upper";
    pub const KM_SURVIVAL: &str = "km_survival";
    pub const KM_LOWER: &str = "km_lower";
    pub const KM_UPPER: &str = "km_upper";
    pub const REARREST_OBSERVED: &str = "rearrest_observed";
    pub const KM_OBSERVED: &str = "km_observed";
    pub const HAZARD_RATIO: &str = "hazard_ratio";
    pub const OFFENDER_CONSENTS: &str = "offender_consents";
    pub const VICTIM_CONSENTS: &str = "victim_consents";
    pub const SESSIONS: &str = "sessions";
    pub const RETURNED_WAIT: &str = "returned_wait";
    pub const BACKLOG: &str = "backlog";
    pub const ACTIVE_MEDIATORS: &str = "active_mediators";
    pub const TRAINING_MEDIATORS: &str = "training_mediators";
    pub const MEDIATOR_HOURS: &str = "mediator_hours";
    pub const UTILIZATION: &str = "utilization";
    pub const WAIT_DAYS_MEAN: &str = "wait_days_mean";
    pub const WAIT_DAYS_P90: &str = "wait_days_p90";
    pub const SESSIONS_PER_ACTIVE_VOLUNTEER: &str = "sessions_per_active_volunteer";
    pub const HOURS_PER_ACTIVE_VOLUNTEER: &str = "hours_per_active_volunteer";
    pub const STAFF_UTILIZATION: &str = "staff_utilization";
    pub const INTAKE_WAIT_DAYS: &str = "intake_wait_days";
    pub const COST_PER_REFERRAL: &str = "cost_per_referral";
    pub const RESTITUTION_PAID_PER_REFERRAL: &str = "restitution_paid_per_referral";
    pub const REARRESTS_AVERTED_PER_100: &str = "rearrests_averted_per_100";
    pub const COST_PER_REARREST_AVERTED: &str = "cost_per_rearrest_averted";
    pub const NET_BENEFIT_PER_REFERRAL: &str = "net_benefit_per_referral";
    pub const BENEFIT_COST_RATIO: &str = "benefit_cost_ratio";
    pub const P_BENEFITS_EXCEED_COSTS: &str = "p_benefits_exceed_costs";
    pub const MEDIATION_MODE: &str = "mediation_mode";
    pub const AGREEMENT_RATE: &str = "agreement_rate";
    pub const COMPLETED_IN_FULL: &str = "completed_in_full";
    pub const DAYS_TO_DISPOSITION: &str = "days_to_disposition";
    pub const BENEFIT_PER_REFERRAL: &str = "benefit_per_referral";
    pub const SHARE_OFFERED: &str = "share_offered";
    pub const SHARE_VICTIM_CONSENTED: &str = "share_victim_consented";
    pub const SHARE_MEDIATED: &str = "share_mediated";
    pub const SHARE_RETURNED: &str = "share_returned";
    pub const DISPARITY_MEDIATED: &str = "disparity_mediated";
    /// Every metric name, in the order of DESIGN.md's tables.
    pub const ALL: [&str; 56] = [
        REFERRALS,
        SHARE,
        REARREST,
        RECONVICTION,
        CONVICTION_GIVEN_REARREST,
        REARRESTS_PER_YOUTH,
        OFFENSES_BEFORE,
        OFFENSES_AFTER,
        OFFENSE_CHANGE,
        MONETARY_AGREED,
        MONETARY_COMPLETED,
        DOLLARS_PAID_SHARE,
        SERVICE_AGREED,
        SERVICE_COMPLETED,
        SERVICE_HOURS_SHARE,
        MEDIATION_MODE,
        AGREEMENT_RATE,
        COMPLETED_IN_FULL,
        DAYS_TO_DISPOSITION,
        EFFECT_RATIO,
        EFFECT_RATIO_LOWER,
        EFFECT_RATIO_UPPER,
        KM_SURVIVAL,
        KM_LOWER,
        KM_UPPER,
        REARREST_OBSERVED,
        KM_OBSERVED,
        HAZARD_RATIO,
        OFFENDER_CONSENTS,
        VICTIM_CONSENTS,
        SESSIONS,
        RETURNED_WAIT,
        BACKLOG,
        ACTIVE_MEDIATORS,
        TRAINING_MEDIATORS,
        MEDIATOR_HOURS,
        UTILIZATION,
        WAIT_DAYS_MEAN,
        WAIT_DAYS_P90,
        SESSIONS_PER_ACTIVE_VOLUNTEER,
        HOURS_PER_ACTIVE_VOLUNTEER,
        STAFF_UTILIZATION,
        INTAKE_WAIT_DAYS,
        COST_PER_REFERRAL,
        RESTITUTION_PAID_PER_REFERRAL,
        REARRESTS_AVERTED_PER_100,
        COST_PER_REARREST_AVERTED,
        NET_BENEFIT_PER_REFERRAL,
        BENEFIT_COST_RATIO,
        P_BENEFITS_EXCEED_COSTS,
        BENEFIT_PER_REFERRAL,
        SHARE_OFFERED,
        SHARE_VICTIM_CONSENTED,
        SHARE_MEDIATED,
        SHARE_RETURNED,
        DISPARITY_MEDIATED,
    ];
}

/// Group names (the `group` column): youths' groups, the program, and the
/// true effects and design estimators of `effect_ratio`.
pub mod group {
    pub const REFERRED: &str = "referred";
    pub const MEDIATED: &str = "mediated";
    pub const VICTIM_DECLINED: &str = "victim_declined";
    pub const OFFENDER_DECLINED: &str = "offender_declined";
    pub const RETURNED_WAIT: &str = "returned_wait";
    pub const NOT_MEDIATED: &str = "not_mediated";
    pub const MEDIATED_UNTREATED: &str = "mediated_untreated";
    pub const RCT_CONTROL: &str = "rct_control";
    pub const PROGRAM: &str = "program";
    pub const TRUE_ATT: &str = "true_att";
    pub const TRUE_ATE: &str = "true_ate";
    pub const TRUE_ITT: &str = "true_itt";
    pub const NAIVE: &str = "naive";
    pub const VORS_DESIGN: &str = "vors_design";
    pub const STRATIFIED: &str = "stratified";
    pub const RCT_ITT: &str = "rct_itt";
    pub const RCT_CACE: &str = "rct_cace";
    pub const COMPARISON_POOL: &str = "comparison_pool";
    pub const MATCHED: &str = "matched";
    pub const IPW: &str = "ipw";
    pub const RCT_CONSENT_FIRST: &str = "rct_consent_first";
    pub const DID: &str = "did";
    pub const TRUE_RATE_ATT: &str = "true_rate_att";
    pub const FACE_TO_FACE: &str = "face_to_face";
    pub const INDIRECT: &str = "indirect";
    pub const CONFERENCE: &str = "conference";
    pub const REARRESTS_AVERTED: &str = "rearrests_averted";
    pub const AGENCY_CASES_AVOIDED: &str = "agency_cases_avoided";
    /// The equity subgroups (`measure::equity`): races, sexes, ages 10 to
    /// 17, offenses, each `attribute=value`, in the model's order.
    pub const SUBGROUPS: [&str; 21] = [
        "race=hispanic",
        "race=black",
        "race=white",
        "race=asian",
        "race=unspecified",
        "sex=male",
        "sex=female",
        "age=10",
        "age=11",
        "age=12",
        "age=13",
        "age=14",
        "age=15",
        "age=16",
        "age=17",
        "offense=vandalism",
        "offense=shoplifting",
        "offense=joyriding",
        "offense=burglary",
        "offense=assault",
        "offense=violent",
    ];
    /// Every group name but the [`SUBGROUPS`].
    pub const ALL: [&str; 28] = [
        REFERRED,
        MEDIATED,
        VICTIM_DECLINED,
        OFFENDER_DECLINED,
        RETURNED_WAIT,
        NOT_MEDIATED,
        MEDIATED_UNTREATED,
        RCT_CONTROL,
        PROGRAM,
        TRUE_ATT,
        TRUE_ATE,
        TRUE_ITT,
        NAIVE,
        VORS_DESIGN,
        STRATIFIED,
        RCT_ITT,
        RCT_CACE,
        COMPARISON_POOL,
        MATCHED,
        IPW,
        RCT_CONSENT_FIRST,
        DID,
        TRUE_RATE_ATT,
        FACE_TO_FACE,
        INDIRECT,
        CONFERENCE,
        REARRESTS_AVERTED,
        AGENCY_CASES_AVOIDED,
    ];
    /// The dispositions by which each equity subgroup's rearrest is also
    /// reported (`rct_control` only when the scenario randomizes).
    pub const DISPOSITIONS: [&str; 5] = [
        MEDIATED,
        VICTIM_DECLINED,
        OFFENDER_DECLINED,
        RETURNED_WAIT,
        RCT_CONTROL,
    ];
    /// The separator of a subgroup and a disposition in one group name:
    /// `race=black;mediated`.
    pub const BY_DISPOSITION: char = ';';

    /// Every `SUBGROUP;DISPOSITION` name ([`SUBGROUPS`] by
    /// [`DISPOSITIONS`], subgroup-major): the equity subgroups' rearrest by
    /// disposition.
    pub fn subgroup_dispositions() -> &'static [&'static str] {
        static NAMES: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
            SUBGROUPS
                .iter()
                .flat_map(|s| {
                    DISPOSITIONS.iter().map(move |d| {
                        // Made once per process: group names are `&'static str`.
                        &*Box::leak(format!("{s}{BY_DISPOSITION}{d}").into_boxed_str())
                    })
                })
                .collect()
        });
        &NAMES
    }
}
