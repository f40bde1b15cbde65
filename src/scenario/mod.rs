//! Scenarios: the TOML file a user writes, checked once and turned into the
//! typed parameters every stage reads.
//!
//! Two levels, as in ripgrep's and fd's configuration: [`schema`] mirrors
//! the file one to one (unknown keys rejected); [`Scenario`] is validated
//! and typed (probabilities in range, shares summing to 1, hazard tables
//! and distributions precomputed), so simulation code never re-checks.
//! `from_toml_str` does the work and is tested on inline strings; `load`
//! only reads the file and adds its path to errors.

pub mod bounds;
mod document;
mod keys;
pub mod reference;
pub mod schema;
pub mod template;
mod validate;

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::model::consent::ConsentParams;
use crate::model::queue::MediatorParams;
use crate::model::recidivism::RecidivismParams;
use crate::model::referral::ReferralParams;
use crate::model::restitution::RestitutionParams;
use crate::model::session::MediationParams;
pub use document::resolved_document;
pub use keys::{nearest_name, split_index, value_at};
pub use schema::RawScenario;
pub use template::{INIT_MARK, scenario_template};
pub use validate::{NAME_RULE, valid_name};

/// A validated scenario: what every stage of the simulation reads.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The resolved file (defaults filled in, `--set` applied), as printed by
    /// `vomsim validate` and recorded in `manifest.json`.
    pub raw: RawScenario,
    /// SHA-256 of the scenario file's bytes, hex.
    pub source_sha256: String,
    pub(crate) referral: ReferralParams,
    pub(crate) consent: ConsentParams,
    pub(crate) mediators: MediatorParams,
    pub(crate) mediation: MediationParams,
    pub(crate) restitution: RestitutionParams,
    pub(crate) recidivism: RecidivismParams,
    /// The study layered on the program: randomized arms, comparison pool.
    pub(crate) design: crate::model::design::DesignParams,
    pub(crate) costs: crate::model::costs::CostParams,
    pub(crate) court: crate::model::court::CourtParams,
    /// Paid coordinators' intake; `None` is unlimited staff.
    pub(crate) staff: Option<crate::model::staff::StaffParams>,
}

impl Scenario {
    /// Parses, overrides (`--set KEY=VALUE`, in order) and validates a
    /// scenario given as text. `origin` names the text in error messages
    /// (usually its path).
    pub fn from_toml_str(text: &str, origin: &str, overrides: &[String]) -> Result<Scenario> {
        let table = parse_table(text, origin)?;
        Scenario::from_table(table, Some(text), origin, overrides, hash_text(text))
    }

    /// Validates a parsed scenario table (`--set` overrides applied in
    /// order). Every key the table does not name takes its documented
    /// default, table by table (see `keys::merged_with_defaults`). `text`,
    /// when given and without overrides, is re-read on a type error so that
    /// the message carries its line and column.
    pub fn from_table(
        mut table: toml::Table,
        text: Option<&str>,
        origin: &str,
        overrides: &[String],
        source_sha256: String,
    ) -> Result<Scenario> {
        let defaults = keys::default_tree();
        keys::check_known(&table, &defaults, origin, "")?;
        let mut overridden = Vec::new();
        for arg in overrides {
            let key = keys::apply_override(&mut table, &defaults, arg)?;
            overridden.push(key);
        }
        let resolved = keys::merged_with_defaults(&table, &defaults);
        let raw: std::result::Result<RawScenario, toml::de::Error> =
            resolved.try_into().map_err(|e| match text {
                // The file's own text gives the error its line and column.
                Some(text) if overrides.is_empty() => {
                    toml::from_str::<RawScenario>(text).err().unwrap_or(e)
                }
                _ => e,
            });
        let raw = raw.map_err(|e| Error::Syntax {
            origin: if overrides.is_empty() {
                origin.to_string()
            } else {
                format!("{origin} (with --set)")
            },
            message: one_paragraph(&e.to_string()),
        })?;
        validate::validate(raw, origin, &overridden, source_sha256)
    }

    /// Reads a scenario file and validates it (see [`Scenario::from_toml_str`]).
    pub fn load(path: &Path, overrides: &[String]) -> Result<Scenario> {
        let text = read_text_file(path, "scenario")?;
        Scenario::from_toml_str(&text, &path.display().to_string(), overrides)
    }

    /// The scenario's name (the default output folder's name).
    pub fn name(&self) -> &str {
        &self.raw.name
    }

    /// The resolved scenario as TOML: every key, defaults included.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(&self.raw).expect("a RawScenario always serializes to TOML")
    }

    /// Program months in which referrals arrive.
    pub fn intake_months(&self) -> u32 {
        self.raw.simulation.intake_months
    }

    /// Whether referrals are randomized to a control arm.
    pub fn randomized(&self) -> bool {
        self.shape().randomized
    }

    /// The arms and groups the scenario's design reports.
    pub fn shape(&self) -> crate::model::design::Shape {
        let recidivism = &self.recidivism;
        crate::model::design::Shape {
            horizon: recidivism.horizon,
            recurrent: recidivism.counting.on,
            pre_period: recidivism.counting.pre_period_months,
            study_end: self.raw.outcomes.study_end_month as usize,
            staff: self.staff.is_some(),
            ..self.design.shape()
        }
    }

    /// Whether two scenarios simulate the same model: the same typed
    /// parameters of every stage, whatever their files say (a key that the
    /// chosen shape or family ignores changes the file, not the model).
    pub fn same_model(&self, other: &Scenario) -> bool {
        let model = |s: &Scenario| {
            format!(
                "{:?}",
                (
                    &s.referral,
                    &s.consent,
                    &s.mediators,
                    &s.mediation,
                    &s.restitution,
                    &s.recidivism,
                    &s.design,
                    &s.court,
                    &s.costs,
                    &s.staff,
                )
            )
        };
        model(self) == model(other)
    }

    /// Program months of caseload reported: the intake period and a tail
    /// for the last cases to be mediated.
    pub fn program_months(&self) -> usize {
        (self.intake_months() + self.mediators.tail_months()) as usize
    }
}

/// Reads a scenario or sweep file: a text file with at least one key, of
/// at most [`crate::scenario::bounds::MAX_INPUT_FILE_BYTES`], and only a regular file
/// (a FIFO or a device is refused without being opened; see
/// [`crate::scenario::bounds::read_input_file`]). A directory, a binary (non-UTF-8)
/// file and an empty file (or one with only comments) get their own
/// messages.
pub fn read_text_file(path: &Path, what: &str) -> Result<String> {
    let fail = |message: String| Error::ReadScenario {
        path: path.to_path_buf(),
        source: std::io::Error::other(message),
    };
    let bytes = crate::scenario::bounds::read_input_file(path, what).map_err(|source| {
        Error::ReadScenario {
            path: path.to_path_buf(),
            source,
        }
    })?;
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(fail(format!(
            "this is not a text file: byte {at} is a NUL byte (is it a binary file?)"
        )));
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "this is not a text file: byte {} is not UTF-8 (is it a binary file?)",
            e.utf8_error().valid_up_to()
        ))
    })?;
    let has_content = text
        .lines()
        .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    if !has_content {
        return Err(fail(format!(
            "the file is empty; a {what} file needs at least `name = \"...\"` (see `vomsim validate` on scenarios/vors_la.toml)"
        )));
    }
    Ok(text)
}

/// Parses TOML text into a table, with the parser's line and column on error.
pub fn parse_table(text: &str, origin: &str) -> Result<toml::Table> {
    text.parse().map_err(|e: toml::de::Error| Error::Syntax {
        origin: origin.to_string(),
        message: one_paragraph(&e.to_string()),
    })
}

/// SHA-256 of a text, hex.
pub fn hash_text(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Folds a multi-line parser message into one paragraph. TOML's message is
/// "TOML parse error at line L, column C", an excerpt of the line with a
/// caret, then the reason: keep the position, the reason and the line.
/// Serde's and Rust's type names become plain words (see `plain_words`).
pub fn one_paragraph(message: &str) -> String {
    let mut parts = Vec::new();
    let mut excerpt = None;
    for line in message.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match line.split_once('|') {
            Some((number, text)) if number.trim().chars().all(|c| c.is_ascii_digit()) => {
                let text = text.trim();
                if !text.is_empty() && !text.chars().all(|c| c == '^' || c == ' ') {
                    excerpt = Some(text.to_string());
                }
            }
            _ => parts.push(line.to_string()),
        }
    }
    let mut paragraph = plain_words(&parts.join(": "));
    if let Some(text) = excerpt {
        paragraph.push_str(&format!(" (in `{text}`)"));
    }
    paragraph
}

/// Replaces serde's and Rust's type names in a message by the words a
/// scenario author knows: "expected f64" means "expected a number".
fn plain_words(message: &str) -> String {
    const WORDS: [(&str, &str); 12] = [
        ("invalid type: ", "wrong type: found "),
        ("floating point `", "the number `"),
        ("integer `", "the whole number `"),
        ("boolean `", "true/false `"),
        ("string \"", "the text \""),
        ("expected f64", "expected a number"),
        ("expected u64", "expected a whole number of at least 0"),
        ("expected u32", "expected a whole number of at least 0"),
        ("expected i64", "expected a whole number"),
        ("expected a sequence", "expected a list, such as [0.2, 0.8]"),
        ("expected a boolean", "expected true or false"),
        ("expected a map", "expected a table"),
    ];
    let mut text = message.to_string();
    for (from, to) in WORDS {
        text = text.replace(from, to);
    }
    // "expected struct RawSimulation": the struct's name means nothing here.
    while let Some(at) = text.find("expected struct ") {
        let rest = &text[at + "expected struct ".len()..];
        let end = rest
            .find(|c: char| !c.is_alphanumeric() && c != '_')
            .unwrap_or(rest.len());
        text = format!("{}expected a table{}", &text[..at], &rest[end..]);
    }
    text
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Scenario> {
        Scenario::from_toml_str(text, "test.toml", &[])
    }

    #[test]
    fn defaults_are_the_shipped_vors_la_scenario() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/vors_la.toml");
        let shipped = Scenario::load(Path::new(path), &[]).unwrap().raw;
        let defaults = RawScenario {
            name: shipped.name.clone(),
            description: shipped.description.clone(),
            ..RawScenario::default()
        };
        assert_eq!(shipped, defaults);
    }

    /// The scenario reference (docs/scenario-reference.md) lists every key of the schema.
    #[test]
    fn readme_documents_every_key() {
        fn walk(table: &toml::Table, prefix: &str, keys: &mut Vec<String>) {
            for (k, v) in table {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                match v {
                    toml::Value::Table(t)
                        if t.contains_key("vandalism") || t.contains_key("hispanic") =>
                    {
                        keys.push(format!("{path}.<"))
                    }
                    // A cost given as { low, high } is one value.
                    toml::Value::Table(t) if t.contains_key("low") => keys.push(path),
                    toml::Value::Table(t) => walk(t, &path, keys),
                    _ => keys.push(path),
                }
            }
        }
        let readme = include_str!("../../docs/scenario-reference.md");
        let mut keys = Vec::new();
        walk(&keys::default_tree(), "", &mut keys);
        let missing: Vec<_> = keys
            .iter()
            .filter(|k| !readme.contains(&format!("`{k}")))
            .collect();
        assert!(
            missing.is_empty(),
            "docs/scenario-reference.md lacks {missing:?}"
        );
    }

    #[test]
    fn empty_text_gives_the_defaults() {
        let s = parse("").unwrap();
        assert_eq!(s.raw, RawScenario::default());
    }

    #[test]
    fn resolved_toml_round_trips() {
        let s = parse("name = \"x\"\n[referrals]\nper_month = 12.5\n").unwrap();
        let again = parse(&s.to_toml()).unwrap();
        assert_eq!(s.raw, again.raw);
        assert_eq!(again.raw.referrals.per_month, 12.5);
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let err = parse("[referrals]\nper_month = = 3\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("test.toml"), "{err}");
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("column"), "{err}");
    }

    #[test]
    fn unknown_key_suggests_the_nearest() {
        let err = parse("[mediation]\nagrement_probability = 0.9\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("mediation.agrement_probability"), "{err}");
        assert!(
            err.contains("did you mean `mediation.agreement_probability`"),
            "{err}"
        );
    }

    #[test]
    fn out_of_range_names_key_value_and_range() {
        let err = parse("[mediation]\nagreement_probability = 1.3\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("mediation.agreement_probability = 1.3 must lie in [0, 1]"),
            "{err}"
        );
    }

    #[test]
    fn shares_must_sum_to_one() {
        let err = parse("[referrals.race_shares]\nhispanic = 0.9\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("referrals.race_shares"), "{err}");
        assert!(err.contains("sum to 1"), "{err}");
    }

    #[test]
    fn wrong_type_is_reported() {
        let err = parse("[referrals]\nper_month = \"many\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("per_month"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn type_errors_use_a_scenario_authors_words() {
        let err = parse("[referrals]\nper_month = true\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected a number"), "{err}");
        assert!(!err.contains("f64"), "{err}");
        let err = parse("[simulation]\nintake_months = 2.5\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("expected a whole number"), "{err}");
        let err = parse("[costs]\nagency_per_case = { low = 1 }\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs both `low` and `high`"), "{err}");
        assert!(!err.contains("untagged"), "{err}");
    }

    #[test]
    fn set_overrides_with_the_same_validation() {
        let set = |args: &[&str]| {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            Scenario::from_toml_str("", "t.toml", &args)
        };
        let s = set(&[
            "referrals.per_month=7",
            "consent.offender_mode=court_ordered",
        ])
        .unwrap();
        assert_eq!(s.raw.referrals.per_month, 7.0);
        assert_eq!(
            s.raw.consent.offender_mode,
            schema::OffenderMode::CourtOrdered
        );
        let err = set(&["referals.per_month=7"]).unwrap_err().to_string();
        assert!(err.contains("did you mean `referrals`"), "{err}");
        let err = set(&["referrals.per_month=-1"]).unwrap_err().to_string();
        assert!(err.contains("referrals.per_month = -1"), "{err}");
        let err = set(&["referrals.per_month"]).unwrap_err().to_string();
        assert!(err.contains("KEY=VALUE"), "{err}");
        let err = set(&["consent.offender_mode=sometimes"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("sometimes"), "{err}");
    }

    /// The effect shapes, baseline families and cure fraction: each key's
    /// range, list lengths and combinations, with messages naming the key,
    /// the value and what is allowed.
    #[test]
    fn shapes_families_and_cure_are_validated() {
        let set = |args: &[&str]| {
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            Scenario::from_toml_str("", "t.toml", &args)
        };
        let err = |args: &[&str]| set(args).unwrap_err().to_string();
        for ok in [
            &["treatment.shape=constant"][..],
            &["treatment.shape=none"],
            &["treatment.shape=piecewise"],
            &[
                "treatment.shape=piecewise",
                "treatment.piecewise_months=[]",
                "treatment.piecewise_hazard_ratios=[0.7]",
            ],
            &["recidivism.baseline_family=log_logistic"],
            &[
                "recidivism.cure_share=0.5",
                "recidivism.cure_risk_correlation=1",
            ],
        ] {
            set(ok).unwrap_or_else(|e| panic!("{ok:?}: {e}"));
        }
        let e = err(&["treatment.shape=wavy"]);
        assert!(e.contains("wavy") && e.contains("piecewise"), "{e}");
        let e = err(&["treatment.piecewise_months=[6, 6, 18, 24]"]);
        assert!(
            e.contains("treatment.piecewise_months[1] = 6") && e.contains("increase strictly"),
            "{e}"
        );
        let e = err(&["treatment.piecewise_months=[6, 12, 18, 120]"]);
        assert!(
            e.contains("piecewise_months[3] = 120") && e.contains("1 to 119"),
            "{e}"
        );
        let e = err(&["treatment.piecewise_months=[0, 12, 18, 24]"]);
        assert!(e.contains("piecewise_months[0] = 0"), "{e}");
        let e = err(&["treatment.piecewise_hazard_ratios=[0.5, 0.6]"]);
        assert!(
            e.contains("treatment.piecewise_hazard_ratios = a list of 2")
                && e.contains("5 for the 4 boundaries"),
            "{e}"
        );
        // A key the shape does not use is still range-checked.
        let e = err(&[
            "treatment.shape=fade",
            "treatment.piecewise_hazard_ratios=[0.5, 0.6, 0, 0.9, 1]",
        ]);
        assert!(e.contains("piecewise_hazard_ratios[2] = 0"), "{e}");
        let e = err(&["treatment.shape=none", "treatment.half_life_months=0"]);
        assert!(e.contains("treatment.half_life_months = 0"), "{e}");
        let e = err(&["recidivism.baseline_log_logistic_shape=0"]);
        assert!(
            e.contains("recidivism.baseline_log_logistic_shape = 0") && e.contains("[0.05, 20]"),
            "{e}"
        );
        let e = err(&["recidivism.baseline_family=monthly"]);
        assert!(
            e.contains("baseline_family") && e.contains("needs the monthly values"),
            "{e}"
        );
        let thirty = format!(
            "recidivism.baseline_monthly_hazard=[{}]",
            ["0.02"; 30].join(",")
        );
        let e = err(&["recidivism.baseline_family=log_logistic", &thirty]);
        assert!(e.contains("cannot be given with"), "{e}");
        for family in ["monthly", "weibull"] {
            let s = set(&[&format!("recidivism.baseline_family={family}"), &thirty]).unwrap();
            assert!((s.recidivism.untreated[30] - 0.6).abs() < 1e-12, "{family}");
        }
        let e = err(&["recidivism.cure_share=1"]);
        assert!(
            e.contains("recidivism.cure_share = 1") && e.contains("[0, 1)"),
            "{e}"
        );
        let e = err(&["recidivism.cure_risk_correlation=-1.5"]);
        assert!(e.contains("cure_risk_correlation = -1.5"), "{e}");
    }
}
