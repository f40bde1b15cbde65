//! The `[sweep]` table's schema: a serde struct that mirrors it one to one,
//! as [`crate::scenario::schema`] mirrors the scenario. An unknown key is
//! refused with the nearest valid one (`deny_unknown_fields` behind the
//! check that names it); a value of the wrong type gets the scenario's plain
//! words, with its line and column.
//!
//! Nothing here is checked beyond its type: ranges, what each design needs
//! and the `[sweep.parameters]` values (lists, ranges `{ start, stop, steps }`
//! and bounds `{ low, high }`, read by the key's type in the scenario) are
//! checked in [`super::Sweep::from_toml_str`].

use serde::Deserialize;
use toml::{Table, Value};

use super::Design;
use crate::error::{Error, Result};
use crate::scenario;

/// The `[sweep]` table of a sweep file. A key left out takes its default
/// (`design`, `bootstrap`, `sampling_seed`, `replications_file`) or is
/// required by the design that uses it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSweep {
    /// How the points are chosen: "grid" (the default), "lhs" or "sobol".
    #[serde(default)]
    pub design: Design,
    /// The swept keys, by dotted path, in the file's order, and their
    /// values.
    pub parameters: Option<Table>,
    /// Latin hypercube points (design lhs).
    pub points: Option<i64>,
    /// Base samples N (design sobol).
    pub base_samples: Option<i64>,
    /// The outputs whose variance the Sobol indices apportion, each
    /// "metric,group,month" (design sobol).
    pub outputs: Option<Vec<String>>,
    /// Bootstrap resamples of the Sobol indices.
    pub bootstrap: Option<i64>,
    /// The seed of the Latin hypercube and Sobol points.
    pub sampling_seed: Option<i64>,
    /// Whether to write `replications.csv`.
    pub replications_file: Option<bool>,
}

/// A sweep file seen through its `[sweep]` table alone (the rest is the
/// scenario's): read again from the text when a value has the wrong type,
/// so that the message carries its line and column.
#[derive(Deserialize)]
struct SweepFile {
    #[allow(dead_code)]
    sweep: Option<RawSweep>,
}

impl TryFrom<String> for Design {
    type Error = String;

    fn try_from(name: String) -> std::result::Result<Design, String> {
        match name.as_str() {
            "grid" => Ok(Design::Grid),
            "lhs" => Ok(Design::Lhs),
            "sobol" => Ok(Design::Sobol),
            _ => Err(format!(
                "sweep.design must be \"grid\", \"lhs\" or \"sobol\", not \"{name}\""
            )),
        }
    }
}

/// Reads the `[sweep]` table (`text` is the whole file, for the line and
/// column of a type error).
pub(super) fn parse(spec: Table, text: &str, origin: &str) -> Result<RawSweep> {
    check_known(&spec, origin)?;
    Value::Table(spec).try_into().map_err(|e: toml::de::Error| {
        // The file's own text gives the error its line and column.
        let e = toml::from_str::<SweepFile>(text).err().unwrap_or(e);
        Error::Syntax {
            origin: origin.to_string(),
            message: scenario::one_paragraph(&e.to_string()),
        }
    })
}

/// Refuses a key of `[sweep]` that [`RawSweep`] does not have, naming it
/// `sweep.KEY` with the nearest valid key.
fn check_known(spec: &Table, origin: &str) -> Result<()> {
    let known = field_names::<RawSweep>();
    match spec.keys().find(|key| !known.contains(&key.as_str())) {
        Some(key) => Err(Error::UnknownKey {
            origin: origin.to_string(),
            key: format!("sweep.{key}"),
            suggestion: scenario::nearest_name(key, known.iter().copied())
                .map(|k| format!("sweep.{k}")),
        }),
        None => Ok(()),
    }
}

/// The field names of a struct, as its derived `Deserialize` declares them
/// (the one list serde's `deny_unknown_fields` checks against): asked of a
/// deserializer that records them and reads nothing.
fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    use serde::de::{Error as _, Visitor, value::Error as ValueError};

    #[derive(Default)]
    struct Recorder(std::cell::Cell<&'static [&'static str]>);

    impl<'de> serde::Deserializer<'de> for &Recorder {
        type Error = ValueError;

        fn deserialize_any<V: Visitor<'de>>(
            self,
            _: V,
        ) -> std::result::Result<V::Value, ValueError> {
            Err(ValueError::custom("not a struct"))
        }

        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _name: &'static str,
            fields: &'static [&'static str],
            _visitor: V,
        ) -> std::result::Result<V::Value, ValueError> {
            self.0.set(fields);
            Err(ValueError::custom("fields recorded"))
        }

        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }

    let recorder = Recorder::default();
    let _ = T::deserialize(&recorder);
    recorder.0.get()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_known() {
        assert_eq!(
            field_names::<RawSweep>(),
            [
                "design",
                "parameters",
                "points",
                "base_samples",
                "outputs",
                "bootstrap",
                "sampling_seed",
                "replications_file",
            ]
        );
    }

    fn parse_text(text: &str) -> Result<RawSweep> {
        let mut table = scenario::parse_table(text, "s.toml")?;
        let Some(Value::Table(spec)) = table.remove("sweep") else {
            panic!("no [sweep] in {text}");
        };
        parse(spec, text, "s.toml")
    }

    #[test]
    fn an_unknown_key_names_the_nearest() {
        let err = parse_text("[sweep]\ndesing = \"grid\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "s.toml: unknown key `sweep.desing`; did you mean `sweep.design`?"
        );
        let err = parse_text("[sweep]\nzzzzzzzzzzzz = 1\n")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "s.toml: unknown key `sweep.zzzzzzzzzzzz`");
    }

    #[test]
    fn wrong_types_are_said_in_plain_words() {
        for (text, words) in [
            ("[sweep]\nbootstrap = \"many\"\n", "expected a whole number"),
            ("[sweep]\npoints = 2.5\n", "expected a whole number"),
            ("[sweep]\nreplications_file = 1\n", "expected true or false"),
            ("[sweep]\noutputs = \"a,b,\"\n", "expected a list"),
            ("[sweep]\nparameters = 3\n", "expected a table"),
            (
                "[sweep]\ndesign = \"grdi\"\n",
                "must be \"grid\", \"lhs\" or \"sobol\"",
            ),
        ] {
            let err = parse_text(text).unwrap_err().to_string();
            assert!(err.contains(words), "{text}: {err}");
            assert!(err.contains("line 2"), "{text}: {err}");
            for jargon in ["u64", "i64", "f64", "struct", "RawSweep", "map", "Design"] {
                assert!(!err.contains(jargon), "{text}: {err}");
            }
        }
    }
}
