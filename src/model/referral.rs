//! Stage 1, referral: when youths arrive and who they are.
//!
//! Referrals arrive as a Poisson process during the intake period (a count
//! per program month, arrival days uniform within the month). Each youth
//! gets the scenario population's attributes (by default the VORS
//! population of seed 003: ages 13-17, 70.1% male, the race/ethnicity
//! shares, first or second arrest for a nonviolent offense; other programs
//! take youths from age 10 and with several prior arrests) and two latent
//! traits: risk `z ~ N(0, 1)`, which loads on the
//! rearrest hazard, and motivation, correlated with risk, which drives
//! voluntary consent.

use rand_distr::{Distribution, Poisson};

use crate::model::draws::{StreamRng, YouthDraws, categorical, keyed, normal_quantile, slot};

pub use crate::model::time::DAYS_PER_MONTH;

/// Offense categories; `Violent` is the opt-in extension beyond VORS's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offense {
    Vandalism,
    Shoplifting,
    Joyriding,
    Burglary,
    Assault,
    Violent,
}

impl Offense {
    pub const ALL: [Offense; 6] = [
        Offense::Vandalism,
        Offense::Shoplifting,
        Offense::Joyriding,
        Offense::Burglary,
        Offense::Assault,
        Offense::Violent,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Offense::Vandalism => "vandalism",
            Offense::Shoplifting => "shoplifting",
            Offense::Joyriding => "joyriding",
            Offense::Burglary => "burglary",
            Offense::Assault => "assault",
            Offense::Violent => "violent",
        }
    }
}

/// Race/ethnicity categories of the VORS study population.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Race {
    Hispanic,
    Black,
    White,
    Asian,
    Unspecified,
}

impl Race {
    pub const ALL: [Race; 5] = [
        Race::Hispanic,
        Race::Black,
        Race::White,
        Race::Asian,
        Race::Unspecified,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Race::Hispanic => "hispanic",
            Race::Black => "black",
            Race::White => "white",
            Race::Asian => "asian",
            Race::Unspecified => "unspecified",
        }
    }
}

/// Validated referral parameters.
#[derive(Debug, Clone)]
pub(crate) struct ReferralParams {
    pub per_month: f64,
    /// Multipliers by intake month, cycled; empty means 1.
    pub monthly_multipliers: Vec<f64>,
    /// The youngest age; `age_cumulative` has one share per age from it.
    pub age_min: u8,
    pub age_cumulative: Vec<f64>,
    pub male_share: f64,
    pub race_cumulative: [f64; 5],
    pub offense_cumulative: [f64; 6],
    /// Share of youths with any prior arrest.
    pub second_arrest_share: f64,
    /// Among them, cumulative shares of 1, 2, 3, ... prior arrests.
    pub prior_arrest_cumulative: Vec<f64>,
    pub motivation_risk_correlation: f64,
}

/// A referred youth's attributes and latent traits.
#[derive(Debug, Clone, Copy)]
pub struct Youth {
    /// Intake month (0-based) and arrival index within it: the youth's identity.
    pub month: u32,
    pub index: u32,
    /// Program day of the referral.
    pub referral_day: f64,
    pub age: u8,
    pub male: bool,
    pub race: Race,
    pub offense: Offense,
    /// Prior arrests: 0 on a first arrest, 1 on a second, and so on.
    pub prior_arrests: u8,
    /// Latent risk, N(0, 1).
    pub risk: f64,
    /// Motivation, N(0, 1), correlated with risk.
    pub motivation: f64,
}

impl ReferralParams {
    /// Expected referrals in intake month `month`.
    pub fn rate(&self, month: u32) -> f64 {
        let multiplier = if self.monthly_multipliers.is_empty() {
            1.0
        } else {
            self.monthly_multipliers[month as usize % self.monthly_multipliers.len()]
        };
        self.per_month * multiplier
    }

    /// The number of referrals in intake month `month`.
    pub fn count(&self, month: u32, rng: &mut StreamRng) -> u32 {
        let rate = self.rate(month);
        if rate <= 0.0 {
            return 0;
        }
        // Poisson::new fails only for a non-positive or non-finite rate,
        // which validation has excluded.
        let poisson = Poisson::new(rate).expect("validated referral rate");
        poisson.sample(rng) as u32
    }

    /// Prior arrests: none unless the youth's uniform falls in the share with
    /// a prior arrest; then how many, from a keyed uniform (drawn only when
    /// more than one is possible, so the default population draws nothing
    /// more).
    fn prior_arrests(&self, u: f64, draws: &YouthDraws) -> u8 {
        if u >= self.second_arrest_share {
            return 0;
        }
        if self.prior_arrest_cumulative.len() == 1 {
            return 1;
        }
        1 + categorical(draws.keyed(keyed::PRIORS), &self.prior_arrest_cumulative) as u8
    }

    /// A youth's attributes, read from its draws.
    pub fn youth(&self, month: u32, index: u32, draws: &YouthDraws) -> Youth {
        let u = &draws.u;
        let risk = normal_quantile(u[slot::RISK]);
        let rho = self.motivation_risk_correlation;
        let motivation =
            rho * risk + (1.0 - rho * rho).sqrt() * normal_quantile(u[slot::MOTIVATION]);
        Youth {
            month,
            index,
            referral_day: (f64::from(month) + u[slot::ARRIVAL]) * DAYS_PER_MONTH,
            age: self.age_min + categorical(u[slot::AGE], &self.age_cumulative) as u8,
            male: u[slot::SEX] < self.male_share,
            race: Race::ALL[categorical(u[slot::RACE], &self.race_cumulative)],
            offense: Offense::ALL[categorical(u[slot::OFFENSE], &self.offense_cumulative)],
            prior_arrests: self.prior_arrests(u[slot::PRIOR], draws),
            risk,
            motivation,
        }
    }
}
