//! `manifest.json`: how a folder's results were made (version, inputs,
//! seed, replications) and which files vomsim wrote into it, one struct per
//! kind of folder ([`RunManifest`], [`CompareManifest`], [`SweepManifest`],
//! the last for a merge too).
//!
//! Every writer and every reader goes through these structs, so the field
//! names (DESIGN.md's file contract) live in one place: `--force` (the
//! `ownership` module) recognizes a folder as vomsim's by its manifest
//! deserializing into one of them, and `deny_unknown_fields` makes that
//! "exactly the fields vomsim writes".
//!
//! The fields are declared in alphabetical order, nested scenarios are
//! [`serde_json::Value`]s: manifests were first written through
//! `serde_json`'s map, which sorts keys at every level, and the files must
//! stay byte-identical. `files` is optional on reading only: manifests
//! written before it existed lack it (the kind's whole list applies then).

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// `manifest.json` of `vomsim run`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunManifest {
    /// Every file written into the folder, this one last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<String>>,
    /// Every resolved parameter of the scenario, keys sorted.
    pub parameters: Value,
    /// The parameter draws of `run --parameters`; absent otherwise (the
    /// file as before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters_file: Option<ParametersFile>,
    pub reps: u64,
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file as given on the command line.
    pub scenario_file: String,
    pub scenario_sha256: String,
    pub seed: u64,
    pub threads: usize,
    /// The vomsim version that wrote the folder.
    pub version: String,
    pub wall_seconds: f64,
}

/// The parameters file of `run --parameters`, in a run's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParametersFile {
    /// Draws (rows) in the file.
    pub draws: usize,
    /// The file as given on the command line.
    pub path: String,
    /// SHA-256 of the file's bytes.
    pub sha256: String,
}

/// `manifest.json` of `vomsim compare`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompareManifest {
    /// Run folder A, as given.
    pub a: String,
    /// Run folder B, as given.
    pub b: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<String>>,
    /// Run folders compared with A besides B, as given (none when two runs
    /// are compared).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more: Vec<String>,
    /// Whether every run was compared with A replication by replication.
    pub paired: bool,
    pub version: String,
}

/// `manifest.json` of `vomsim sweep` (a whole sweep or one shard) and of
/// `vomsim merge`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepManifest {
    /// The sweep file's scenario, every resolved parameter, keys sorted.
    pub base_scenario: Value,
    /// `grid`, `lhs` or `sobol`.
    pub design: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<String>>,
    /// The `--set`s applied to every point.
    pub overrides: Vec<String>,
    /// The swept keys.
    pub parameters: Vec<String>,
    /// How many points this folder holds.
    pub points: usize,
    pub reps: u64,
    pub scenario: String,
    pub seed: u64,
    /// `[K, N]` for a shard, `null` for a whole sweep or a merge. Required
    /// (vomsim always writes it), though serde would read a missing
    /// `Option` as `None`.
    #[serde(deserialize_with = "required")]
    pub shard: Option<(usize, usize)>,
    pub sweep_file: String,
    pub sweep_sha256: String,
    pub threads: usize,
    pub version: String,
    pub wall_seconds: f64,
}

/// `manifest.json` of `vomsim size` (and, with `plan` set, of `vomsim
/// plan`). Not a [`Manifest`] variant: only `--force` reads it back, through
/// [`SizeManifest::parse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeManifest {
    /// The smallest value meeting the target (`null` if none in range).
    #[serde(deserialize_with = "required")]
    pub answer: Option<u64>,
    pub files: Vec<String>,
    /// The key varied.
    pub lever: String,
    /// The `--set`s given.
    pub overrides: Vec<String>,
    /// Every resolved parameter of the scenario (with the `--set`s, before
    /// the lever), keys sorted.
    pub parameters: Value,
    pub reps: u64,
    pub scenario: String,
    pub scenario_file: String,
    pub scenario_sha256: String,
    /// `bisection` or `scan`.
    pub search: String,
    pub seed: u64,
    /// The waiting target.
    pub target: TargetManifest,
    pub threads: usize,
    pub version: String,
    pub wall_seconds: f64,
}

/// `manifest.json` of `vomsim plan`; like [`SizeManifest`], read back
/// only by `--force`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanManifest {
    /// The chosen plan's levers by key (`null` if no plan met the target).
    #[serde(deserialize_with = "required")]
    pub chosen: Option<BTreeMap<String, u64>>,
    pub files: Vec<String>,
    /// The seed of the chosen plan's verification.
    pub fresh_seed: u64,
    pub max_sessions_per_volunteer: Option<f64>,
    pub overrides: Vec<String>,
    pub parameters: Value,
    pub reps: u64,
    pub scenario: String,
    pub scenario_file: String,
    pub scenario_sha256: String,
    pub seed: u64,
    pub target: TargetManifest,
    pub threads: usize,
    pub version: String,
    pub volunteer_hour_value: f64,
    pub wall_seconds: f64,
    pub years: u32,
}

impl PlanManifest {
    pub fn write(&self, w: &mut impl Write) -> io::Result<()> {
        write(w, self)
    }

    /// Parses a `plan` manifest: exactly the fields vomsim writes.
    pub fn parse(text: &str) -> Result<PlanManifest, String> {
        serde_json::from_str(text).map_err(|e| format!("as a plan manifest: {e}"))
    }
}

/// The waiting target of a `size` (or `plan`) manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetManifest {
    pub confidence: f64,
    #[serde(deserialize_with = "required")]
    pub max_returned_share: Option<f64>,
    pub quantile: f64,
    pub wait_days: f64,
    /// `assignment` or `session`.
    pub wait_to: String,
}

impl SizeManifest {
    pub fn write(&self, w: &mut impl Write) -> io::Result<()> {
        write(w, self)
    }

    /// Parses a `size` manifest: exactly the fields vomsim writes.
    pub fn parse(text: &str) -> Result<SizeManifest, String> {
        serde_json::from_str(text).map_err(|e| format!("as a size manifest: {e}"))
    }
}

/// Reads a field as its type does: a field with `deserialize_with` is
/// missing only as an error.
fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize(d)
}

/// A manifest of any kind, as read back.
#[derive(Debug, Clone, PartialEq)]
pub enum Manifest {
    Run(RunManifest),
    Compare(CompareManifest),
    Sweep(SweepManifest),
}

impl Manifest {
    /// Parses a `manifest.json` as the kind whose fields it has; otherwise
    /// says why it is not one vomsim writes (a phrase for a message).
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let object: serde_json::Map<String, Value> =
            serde_json::from_str(text).map_err(|e| format!("not a JSON object: {e}"))?;
        // Each kind is tried in turn; at most one can match, as each has a
        // field the others lack.
        let run = serde_json::from_str(text).map(Manifest::Run);
        let compare = || serde_json::from_str(text).map(Manifest::Compare);
        let sweep = || serde_json::from_str(text).map(Manifest::Sweep);
        let (run, compare, sweep) = match run {
            Ok(m) => return Ok(m),
            Err(run) => match compare() {
                Ok(m) => return Ok(m),
                Err(compare) => match sweep() {
                    Ok(m) => return Ok(m),
                    Err(sweep) => (run, compare, sweep),
                },
            },
        };
        // The reason: that of the one kind whose fields cover the object's
        // (a field missing, a value of the wrong type), if there is one.
        let covers = |fields: &[&str]| object.keys().all(|k| fields.contains(&k.as_str()));
        let candidates = [
            ("a run's", covers(field_names::<RunManifest>()), run),
            (
                "a compare's",
                covers(field_names::<CompareManifest>()),
                compare,
            ),
            ("a sweep's", covers(field_names::<SweepManifest>()), sweep),
        ];
        let mut covering = candidates.iter().filter(|(_, covers, _)| *covers);
        if let (Some((kind, _, e)), None) = (covering.next(), covering.next()) {
            return Err(format!("as {kind} manifest: {e}"));
        }
        if object.is_empty() {
            return Err("an empty JSON object".to_string());
        }
        let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
        keys.truncate(8);
        Err(format!(
            "its fields {} are not those of a run, sweep or compare manifest",
            keys.join(", ")
        ))
    }

    /// Reads `dir/manifest.json`: `Ok(None)` if there is none, otherwise
    /// the manifest or why it is not one vomsim writes.
    pub fn read(dir: &Path) -> Result<Option<Manifest>, String> {
        let text = match fs::read_to_string(dir.join("manifest.json")) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read it: {e}")),
        };
        Manifest::parse(&text).map(Some)
    }

    /// The files it lists (`None` in manifests written before the list).
    pub fn files(&self) -> Option<&[String]> {
        match self {
            Manifest::Run(m) => m.files.as_deref(),
            Manifest::Compare(m) => m.files.as_deref(),
            Manifest::Sweep(m) => m.files.as_deref(),
        }
    }
}

/// Writes a manifest as vomsim always has: pretty-printed, a final newline.
fn write(w: &mut impl Write, manifest: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, manifest).map_err(io::Error::other)?;
    writeln!(w)
}

impl RunManifest {
    pub fn write(&self, w: &mut impl Write) -> io::Result<()> {
        write(w, self)
    }
}

impl CompareManifest {
    pub fn write(&self, w: &mut impl Write) -> io::Result<()> {
        write(w, self)
    }
}

impl SweepManifest {
    pub fn write(&self, w: &mut impl Write) -> io::Result<()> {
        write(w, self)
    }
}

/// The field names of a derived struct, in declaration order, as its
/// `Deserialize` hands them to the deserializer: the structs stay the one
/// list of names, for messages and tests.
fn field_names<T: DeserializeOwned>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

/// A deserializer that only records the fields a struct asks for.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("not a struct"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("fields recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(names: &[&str]) -> Option<Vec<String>> {
        Some(names.iter().map(|n| n.to_string()).collect())
    }

    fn run() -> RunManifest {
        RunManifest {
            files: files(&["summary.csv", "manifest.json"]),
            parameters: serde_json::json!({"simulation": {"seed": 1, "replications": 2}}),
            parameters_file: None,
            reps: 2,
            scenario: "s".to_string(),
            scenario_file: "s.toml".to_string(),
            scenario_sha256: "ab".to_string(),
            seed: 1,
            threads: 3,
            version: "0.1.0".to_string(),
            wall_seconds: 0.25,
        }
    }

    fn compare() -> CompareManifest {
        CompareManifest {
            a: "x".to_string(),
            b: "y".to_string(),
            files: files(&["compare.csv", "manifest.json"]),
            more: Vec::new(),
            paired: true,
            version: "0.1.0".to_string(),
        }
    }

    fn sweep(shard: Option<(usize, usize)>) -> SweepManifest {
        SweepManifest {
            base_scenario: serde_json::json!({"name": "s"}),
            design: "grid".to_string(),
            files: files(&["sweep.toml", "manifest.json"]),
            overrides: vec!["a.b=1".to_string()],
            parameters: vec!["a.b".to_string()],
            points: 3,
            reps: 2,
            scenario: "s".to_string(),
            seed: 1,
            shard,
            sweep_file: "sweep.toml".to_string(),
            sweep_sha256: "cd".to_string(),
            threads: 1,
            version: "0.1.0".to_string(),
            wall_seconds: 1.5,
        }
    }

    fn text(manifest: &impl Serialize) -> String {
        let mut bytes = Vec::new();
        write(&mut bytes, manifest).unwrap();
        String::from_utf8(bytes).unwrap()
    }

    /// The top-level keys of a written manifest, in file order.
    fn written_keys(text: &str) -> Vec<String> {
        text.lines()
            .filter_map(|l| l.strip_prefix("  \"")?.split_once('"'))
            .map(|(key, _)| key.to_string())
            .collect()
    }

    #[test]
    fn every_kind_round_trips() {
        let manifests = [
            Manifest::Run(run()),
            Manifest::Compare(compare()),
            Manifest::Sweep(sweep(None)),
            Manifest::Sweep(sweep(Some((2, 4)))),
        ];
        for manifest in manifests {
            let written = match &manifest {
                Manifest::Run(m) => text(m),
                Manifest::Compare(m) => text(m),
                Manifest::Sweep(m) => text(m),
            };
            assert!(written.ends_with("}\n"), "{written}");
            assert_eq!(Manifest::parse(&written), Ok(manifest));
        }
    }

    /// DESIGN.md's names, in the order they are written (alphabetical:
    /// see the module comment). A rename or a reorder changes the file.
    #[test]
    fn field_names_and_order_are_pinned() {
        let run_fields = [
            "files",
            "parameters",
            "parameters_file",
            "reps",
            "scenario",
            "scenario_file",
            "scenario_sha256",
            "seed",
            "threads",
            "version",
            "wall_seconds",
        ];
        let compare_fields = ["a", "b", "files", "more", "paired", "version"];
        let sweep_fields = [
            "base_scenario",
            "design",
            "files",
            "overrides",
            "parameters",
            "points",
            "reps",
            "scenario",
            "seed",
            "shard",
            "sweep_file",
            "sweep_sha256",
            "threads",
            "version",
            "wall_seconds",
        ];
        assert_eq!(field_names::<RunManifest>(), run_fields);
        assert_eq!(field_names::<CompareManifest>(), compare_fields);
        assert_eq!(field_names::<SweepManifest>(), sweep_fields);
        // Without --parameters: no `parameters_file`, the file as before.
        let mut drawn = run();
        drawn.parameters_file = Some(ParametersFile {
            draws: 3,
            path: "posterior.csv".to_string(),
            sha256: "ef".to_string(),
        });
        assert_eq!(written_keys(&text(&drawn)), run_fields);
        let plain: Vec<&str> = run_fields
            .iter()
            .copied()
            .filter(|f| *f != "parameters_file")
            .collect();
        assert_eq!(written_keys(&text(&run())), plain);
        let mut three = compare();
        three.more = vec!["z".to_string()];
        assert_eq!(written_keys(&text(&three)), compare_fields);
        // Two runs: no `more`, the file as before.
        assert_eq!(
            written_keys(&text(&compare())),
            ["a", "b", "files", "paired", "version"]
        );
        assert_eq!(written_keys(&text(&sweep(None))), sweep_fields);
    }

    #[test]
    fn the_format_is_pinned() {
        assert_eq!(
            text(&compare()),
            "{\n  \"a\": \"x\",\n  \"b\": \"y\",\n  \"files\": [\n    \"compare.csv\",\n    \
             \"manifest.json\"\n  ],\n  \"paired\": true,\n  \"version\": \"0.1.0\"\n}\n"
        );
        let shard = text(&sweep(Some((2, 4))));
        assert!(
            shard.contains("  \"shard\": [\n    2,\n    4\n  ],\n"),
            "{shard}"
        );
        assert!(text(&sweep(None)).contains("  \"shard\": null,\n"));
    }

    #[test]
    fn manifests_without_files_are_read() {
        let mut old = run();
        old.files = None;
        let written = text(&old);
        assert!(!written.contains("files"));
        assert_eq!(Manifest::parse(&written).unwrap().files(), None);
    }

    #[test]
    fn unknown_or_missing_fields_are_refused() {
        let mut value = serde_json::to_value(run()).unwrap();
        value["extra"] = Value::from(1);
        let why = Manifest::parse(&value.to_string()).unwrap_err();
        assert!(why.contains("extra"), "{why}");

        let mut value = serde_json::to_value(sweep(None)).unwrap();
        value.as_object_mut().unwrap().remove("shard");
        let why = Manifest::parse(&value.to_string()).unwrap_err();
        assert!(why.contains("a sweep's") && why.contains("shard"), "{why}");

        let why = Manifest::parse(r#"{"version":"0","a":"x","b":"y","paired":"yes"}"#).unwrap_err();
        assert!(
            why.contains("a compare's") && why.contains("invalid type"),
            "{why}"
        );

        let why = Manifest::parse(r#"{"manifest_version":3}"#).unwrap_err();
        assert!(why.contains("manifest_version"), "{why}");
        for not_one in ["{}", r#"{"version":"0"}"#, "[]", "", "{"] {
            assert!(Manifest::parse(not_one).is_err(), "{not_one}");
        }
    }

    #[test]
    fn a_missing_manifest_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Manifest::read(dir.path()), Ok(None));
        fs::write(dir.path().join("manifest.json"), text(&compare())).unwrap();
        assert_eq!(
            Manifest::read(dir.path()),
            Ok(Some(Manifest::Compare(compare())))
        );
    }
}
