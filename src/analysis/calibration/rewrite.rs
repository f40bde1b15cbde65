//! The calibrated scenario: each fitted value as written (rounded, in its
//! key's schema type), the TOML rewritten with toml_edit (comments and
//! layout kept, inline and dotted tables respected, each fit commented),
//! and the guard that the text reads back to the values verified.

use super::{Calibration, FitParameter};
use crate::scenario::Scenario;

/// Significant digits of a fitted float as written.
pub const WRITTEN_DIGITS: usize = 6;

/// The value of a fitted parameter as it is written to the calibrated
/// scenario: a whole-number key rounded to an integer, a float key rounded
/// to [`WRITTEN_DIGITS`] significant digits, either kept within the
/// parameter's bounds (a bound itself where rounding would cross it). The
/// search's best point is rounded *before* the verification run, so the
/// value verified, printed, written to the scenario and reported by
/// `calibration.csv` is one and the same.
pub fn written_value(parameter: &FitParameter, value: f64, whole_number: bool) -> f64 {
    let (low, high) = (parameter.low, parameter.high);
    if whole_number {
        let rounded = value.round();
        return if low.ceil() <= high.floor() {
            rounded.clamp(low.ceil(), high.floor())
        } else {
            rounded
        };
    }
    // The decimal with WRITTEN_DIGITS significant digits, read back: its
    // shortest representation is that decimal.
    let rounded: f64 = format!("{value:.*e}", WRITTEN_DIGITS - 1)
        .parse()
        .unwrap_or(value);
    rounded.clamp(low, high)
}

/// The scenario text with the fitted values in place, each with a comment
/// saying it was fitted, to what and when. Comments and layout elsewhere
/// are kept. Each value is written in its key's schema type
/// ([`ParameterResult::whole_number`]), exactly as [`Calibration`] holds
/// it. A comment ends its line: a fitted key inside an inline table
/// (`offense_log_hr = { burglary = 0.35 }`) is commented after the
/// outermost inline table's closing brace, naming the key, since a comment
/// inside the braces would swallow them. Tables the file lacks are added
/// in the style of their parent: inline within an inline table, dotted
/// within dotted keys, otherwise a standard table.
///
/// [`ParameterResult::whole_number`]: super::ParameterResult::whole_number
pub fn calibrated_scenario(
    text: &str,
    calibration: &Calibration,
    targets_name: &str,
    date: &str,
) -> String {
    use toml_edit::{Item, Value};
    let mut document: toml_edit::DocumentMut = text
        .parse()
        .expect("the scenario parsed before calibration");
    // Where each comment goes (the key whose line it ends) and what it says.
    let mut comments: Vec<(Vec<String>, Vec<String>)> = Vec::new();
    // The scenario as the file alone resolves it: the default of a list
    // whose element is fitted but which the file does not write.
    let resolved = Scenario::from_toml_str(text, "calibrated", &[])
        .ok()
        .and_then(|s| toml::Value::try_from(&s.raw).ok());
    for p in &calibration.parameters {
        // A list element, `key[i]`: the list key, and the index.
        let (key, index) = match crate::scenario::split_index(&p.parameter.key) {
            Some(Ok((name, index))) => (name, Some(index)),
            _ => (p.parameter.key.as_str(), None),
        };
        let parts: Vec<&str> = key.split('.').collect();
        let last = parts[parts.len() - 1];
        let element = index.map_or(String::new(), |i| format!("[{i}]"));
        let was = format!(
            "was {}; bounds [{}, {}]",
            p.start, p.parameter.low, p.parameter.high
        );
        // The outermost inline table on the path, if any.
        let mut anchor = parts.len();
        let mut node: &dyn toml_edit::TableLike = document.as_table();
        for (i, part) in parts[..parts.len() - 1].iter().enumerate() {
            match node.get(part) {
                Some(Item::Table(table)) => node = table,
                Some(Item::Value(Value::InlineTable(_))) => {
                    anchor = i + 1;
                    break;
                }
                _ => break,
            }
        }
        let (anchor, note) = if anchor == parts.len() && element.is_empty() {
            (parts.clone(), was)
        } else if anchor == parts.len() {
            (parts.clone(), format!("{last}{element}: {was}"))
        } else {
            (
                parts[..anchor].to_vec(),
                format!("{}{element}: {was}", parts[anchor..].join(".")),
            )
        };
        let anchor: Vec<String> = anchor.iter().map(|s| s.to_string()).collect();
        match comments.iter_mut().find(|(a, _)| *a == anchor) {
            Some((_, notes)) => notes.push(note),
            None => comments.push((anchor, vec![note])),
        }

        // The value, keeping the decor it had (inside an inline table).
        let node = parent_table(&mut document, &parts);
        let mut value = if p.whole_number {
            Value::from(p.fitted as i64)
        } else {
            Value::from(p.fitted)
        };
        if let Some(index) = index {
            // One element of a list: replaced in place, the list's other
            // elements as the file (or the default) gives them.
            if node.get(last).and_then(Item::as_array).is_none() {
                let default = resolved
                    .as_ref()
                    .and_then(|tree| crate::scenario::value_at(tree, key))
                    .and_then(toml::Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let mut list = toml_edit::Array::new();
                for v in default {
                    match v {
                        toml::Value::Float(f) => list.push(f),
                        toml::Value::Integer(i) => list.push(i),
                        _ => {}
                    }
                }
                node.insert(last, Item::Value(Value::Array(list)));
            }
            let list = node
                .get_mut(last)
                .and_then(Item::as_array_mut)
                .expect("just made a list");
            if let Some(old) = list.get_mut(index) {
                *value.decor_mut() = old.decor().clone();
                *old = value;
            }
            continue;
        }
        replace_in_place(node, last, value);
    }
    for (anchor, notes) in comments {
        let mut item = document.as_item_mut();
        for part in &anchor {
            item = &mut item[part.as_str()];
        }
        if let Some(value) = item.as_value_mut() {
            value.decor_mut().set_suffix(format!(
                "  {}{targets_name} on {date} ({})",
                crate::output::ownership::FITTED_MARK,
                notes.join("; ")
            ));
        }
    }
    document.to_string()
}

/// The table holding the key at `parts` (its last part the key's own
/// name), created where the file lacks it in the style of its parent:
/// inline within an inline table, dotted within dotted keys, otherwise a
/// standard table.
fn parent_table<'a>(
    document: &'a mut toml_edit::DocumentMut,
    parts: &[&str],
) -> &'a mut dyn toml_edit::TableLike {
    use toml_edit::{Item, Table, Value};
    let mut node: &mut dyn toml_edit::TableLike = document.as_table_mut();
    let mut inline = false;
    for part in &parts[..parts.len() - 1] {
        if !node.contains_key(part) {
            let child = if inline {
                Item::Value(Value::InlineTable(toml_edit::InlineTable::new()))
            } else if node.is_dotted() {
                let mut table = Table::new();
                table.set_dotted(true);
                Item::Table(table)
            } else {
                toml_edit::table()
            };
            node.insert(part, child);
        }
        let child = node.get_mut(part).expect("just inserted");
        inline = inline || matches!(child, Item::Value(Value::InlineTable(_)));
        node = child
            .as_table_like_mut()
            .expect("a key's parent is a table (the scenario read)");
    }
    node
}

/// Sets `name` in `node` to `value`, replaced in place: `insert` would
/// reset the key's formatting (and the comment lines above it).
fn replace_in_place(node: &mut dyn toml_edit::TableLike, name: &str, mut value: toml_edit::Value) {
    use toml_edit::Item;
    match node.get_mut(name) {
        Some(old) => {
            if let Some(old) = old.as_value() {
                *value.decor_mut() = old.decor().clone();
            }
            *old = Item::Value(value);
        }
        None => {
            node.insert(name, Item::Value(value));
        }
    }
}

/// Sets the dotted `key` of a scenario document to `value`, keeping the
/// document's comments and layout (the key's own comment too).
pub(super) fn set_value(document: &mut toml_edit::DocumentMut, key: &str, value: toml_edit::Value) {
    let parts: Vec<&str> = key.split('.').collect();
    let node = parent_table(document, &parts);
    replace_in_place(node, parts[parts.len() - 1], value);
}

/// The guard before a calibrated scenario is put in place: `text` must
/// read back as a valid scenario (with the calibration's `--set`
/// overrides) and hold each fitted key, in its schema type, at exactly the
/// value verified. Otherwise the reason.
pub fn check_calibrated(
    text: &str,
    origin: &str,
    overrides: &[String],
    calibration: &Calibration,
) -> std::result::Result<(), String> {
    let scenario = Scenario::from_toml_str(text, origin, overrides)
        .map_err(|e| format!("it does not read as a scenario: {e}"))?;
    let own = toml::Value::Table(
        crate::scenario::parse_table(text, origin)
            .map_err(|e| format!("it does not parse: {e}"))?,
    );
    let read = toml::Value::try_from(&scenario.raw).expect("a scenario serializes to TOML");
    let overridden: Vec<&str> = overrides
        .iter()
        .filter_map(|o| o.split_once('=').map(|(k, _)| k.trim()))
        .collect();
    let at = |tree: &toml::Value, key: &str| match crate::scenario::value_at(tree, key) {
        Some(toml::Value::Float(v)) => Some((*v, false)),
        Some(toml::Value::Integer(v)) => Some((*v as f64, true)),
        _ => None,
    };
    for p in &calibration.parameters {
        let key = p.parameter.key.as_str();
        let expected = Some((p.fitted, p.whole_number));
        let in_file = at(&own, key);
        if in_file != expected {
            return Err(format!(
                "{key} reads back as {} rather than the verified {}",
                in_file.map_or("nothing".to_string(), |(v, _)| v.to_string()),
                p.fitted
            ));
        }
        // As the scenario reads it, unless a --set names the key itself.
        let set_here = overridden.iter().any(|o| {
            key == *o || key.starts_with(&format!("{o}.")) || key.starts_with(&format!("{o}["))
        });
        if !set_here && at(&read, key).map(|(v, _)| v) != Some(p.fitted) {
            return Err(format!(
                "the scenario reads {key} as {:?} rather than the verified {}",
                at(&read, key).map(|(v, _)| v),
                p.fitted
            ));
        }
    }
    Ok(())
}

/// Today's date (UTC), as YYYY-MM-DD, from the system clock.
pub fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::calibration::{ParameterResult, parse_fit};

    #[test]
    fn today_is_a_date() {
        let d = today();
        assert_eq!(d.len(), 10);
        assert!(d.starts_with("20"));
    }

    #[test]
    fn calibrated_scenario_keeps_comments_and_marks_fits() {
        let text =
            "# header\n[recidivism]\nrisk_log_hr = 0.8  # assumption\nmale_log_hr = 0.3 # kept\n";
        let calibration = Calibration {
            parameters: vec![
                ParameterResult {
                    parameter: parse_fit("recidivism.risk_log_hr=0..2").unwrap(),
                    start: 0.8,
                    fitted: 1.234_567_89,
                    whole_number: false,
                    half_width: 0.1,
                    flat: false,
                },
                ParameterResult {
                    parameter: parse_fit("treatment.half_life_months=1..20").unwrap(),
                    start: 5.43,
                    fitted: 7.5,
                    whole_number: false,
                    half_width: 1.0,
                    flat: false,
                },
            ],
            targets: Vec::new(),
            objective: 0.0,
            evaluations: 1,
            stopped: false,
        };
        let out = calibrated_scenario(text, &calibration, "t.csv", "2026-11-21");
        assert!(out.contains("# header"));
        assert!(out.contains("male_log_hr = 0.3 # kept"));
        assert!(
            out.contains(
                "risk_log_hr = 1.23456789  # fitted by vomsim calibrate to t.csv on 2026-11-21"
            ),
            "{out}"
        );
        assert!(
            out.contains("half_life_months = 7.5"),
            "a key absent from the file is added: {out}"
        );
        let parsed = Scenario::from_toml_str(&out, "out.toml", &[]).unwrap();
        assert_eq!(parsed.raw.recidivism.risk_log_hr, 1.234_567_89);
    }

    fn fitted(key: &str, start: f64, fitted: f64, whole_number: bool) -> ParameterResult {
        ParameterResult {
            parameter: parse_fit(&format!("{key}=0..100")).unwrap(),
            start,
            fitted,
            whole_number,
            half_width: 0.1,
            flat: false,
        }
    }

    fn calibration(parameters: Vec<ParameterResult>) -> Calibration {
        Calibration {
            parameters,
            targets: Vec::new(),
            objective: 0.0,
            evaluations: 1,
            stopped: false,
        }
    }

    #[test]
    fn written_values_are_rounded_within_bounds() {
        let p = parse_fit("a=0.05..0.6").unwrap();
        assert_eq!(written_value(&p, 0.157_581_234_9, false), 0.157581);
        assert_eq!(written_value(&p, 0.599_999_99, false), 0.6);
        let p = parse_fit("a=0..0.12345675").unwrap();
        assert_eq!(
            written_value(&p, 0.12345675, false),
            0.12345675,
            "kept at the bound"
        );
        let p = parse_fit("a=4..12").unwrap();
        assert_eq!(written_value(&p, 9.150_000_1, false), 9.15);
        assert_eq!(written_value(&p, 9.6, true), 10.0);
        assert_eq!(written_value(&p, 12.4, true), 12.0);
    }

    /// The key's schema type decides the literal, not the file's: a float
    /// key written `8` is written back as a float; a whole-number key as an
    /// integer.
    #[test]
    fn fitted_values_are_written_in_the_schema_type() {
        let text = "[referrals]\nper_month = 8\n[mediators]\ninitial_active = 30.0\n";
        let c = calibration(vec![
            fitted("referrals.per_month", 8.0, 9.15, false),
            fitted("mediators.initial_active", 30.0, 41.0, true),
        ]);
        let out = calibrated_scenario(text, &c, "t.csv", "2026-11-21");
        assert!(out.contains("per_month = 9.15  # fitted"), "{out}");
        assert!(out.contains("initial_active = 41  # fitted"), "{out}");
        check_calibrated(&out, "out.toml", &[], &c).unwrap();
    }

    /// Every layout of a fitted key gives a file that parses and reads
    /// back the fitted values; a comment never lands inside braces.
    #[test]
    fn inline_and_dotted_keys_stay_valid() {
        let c = calibration(vec![
            fitted("recidivism.offense_log_hr.burglary", 0.35, 0.340625, false),
            fitted("recidivism.male_log_hr", 0.3, 0.25, false),
        ]);
        for text in [
            "recidivism.offense_log_hr = { burglary = 0.35 }\n",
            "[recidivism]\n# kept\noffense_log_hr = { burglary = 0.35 } # mine\n",
            "recidivism.offense_log_hr.burglary = 0.35\n",
            "[recidivism]\noffense_log_hr.burglary = 0.35\n",
            "recidivism = { offense_log_hr = { burglary = 0.35 } }\n",
            "[recidivism]\noffense_log_hr = {\n  burglary = 0.35, # c\n}\n",
            "recidivism.male_log_hr = 0.3\n",
            "[recidivism]\nmale_log_hr = 0.3\n",
            "name = \"x\"\n",
        ] {
            let out = calibrated_scenario(text, &c, "t.csv", "2026-11-21");
            check_calibrated(&out, "out.toml", &[], &c).unwrap_or_else(|e| panic!("{e}:\n{out}"));
            assert!(out.contains(crate::output::ownership::FITTED_MARK), "{out}");
            if text.contains("# kept") {
                assert!(out.contains("# kept\noffense_log_hr = {"), "{out}");
            }
        }
    }

    /// The guard refuses a text that does not parse or does not hold the
    /// verified value.
    #[test]
    fn the_guard_refuses_what_does_not_read_back() {
        let c = calibration(vec![fitted(
            "recidivism.offense_log_hr.burglary",
            0.35,
            0.340625,
            false,
        )]);
        let broken = "recidivism.offense_log_hr = { burglary = 0.340625  # fitted }\n";
        assert!(check_calibrated(broken, "o.toml", &[], &c).is_err());
        let other = "recidivism.offense_log_hr = { burglary = 0.34 }\n";
        let why = check_calibrated(other, "o.toml", &[], &c).unwrap_err();
        assert!(
            why.contains("0.34 rather than the verified 0.340625"),
            "{why}"
        );
        let c = calibration(vec![fitted("referrals.per_month", 8.0, 9.0, false)]);
        let why = check_calibrated("[referrals]\nper_month = 9\n", "o.toml", &[], &c);
        assert!(why.is_err(), "a float key written as an integer");
    }

    /// A fitted list element (`key[i]`) is written into its list, the
    /// other elements kept (the file's, or the default when the file does
    /// not write the list), and reads back.
    #[test]
    fn list_elements_are_written_in_place() {
        let c = calibration(vec![
            fitted("treatment.piecewise_hazard_ratios[0]", 0.62, 0.55, false),
            fitted("treatment.piecewise_hazard_ratios[2]", 0.9, 0.85, false),
        ]);
        for text in [
            "[treatment]\npiecewise_hazard_ratios = [0.62, 0.8, 0.9, 0.95, 0.98] # mine\n",
            "name = \"x\"\n",
            "treatment = { shape = \"piecewise\" }\n",
        ] {
            let out = calibrated_scenario(text, &c, "t.csv", "2026-11-21");
            check_calibrated(&out, "out.toml", &[], &c).unwrap_or_else(|e| panic!("{e}:\n{out}"));
            let s = Scenario::from_toml_str(&out, "out.toml", &[]).unwrap();
            assert_eq!(
                s.raw.treatment.piecewise_hazard_ratios,
                [0.55, 0.8, 0.85, 0.95, 0.98],
                "{out}"
            );
            assert!(
                out.contains("piecewise_hazard_ratios[0]: was 0.62"),
                "{out}"
            );
        }
    }
}
