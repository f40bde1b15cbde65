//! The parameters a scenario file marks as assumptions: every key (or
//! table) whose comment contains "assumption", with the value the run
//! used (from the manifest's resolved parameters, so a `--set` shows).

use serde_json::Value;

/// One parameter the scenario marks as an assumption.
#[derive(Debug, Clone, PartialEq)]
pub struct Assumption {
    /// Its dotted key (a table's key for a commented table header).
    pub key: String,
    /// The value used, as TOML-like text.
    pub value: String,
    /// The file's comment, without the `#`.
    pub comment: String,
}

/// The comment of a line: text after a `#` outside a string.
fn comment(line: &str) -> Option<&str> {
    let mut quoted = None;
    for (i, c) in line.char_indices() {
        match (quoted, c) {
            (None, '"' | '\'') => quoted = Some(c),
            (Some(q), _) if c == q => quoted = None,
            (None, '#') => return Some(line[i + 1..].trim()),
            _ => {}
        }
    }
    None
}

/// A resolved value by dotted key.
fn lookup<'a>(parameters: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.')
        .try_fold(parameters, |v, part| v.as_object()?.get(part))
}

/// A JSON value as a reader of the TOML file would write it.
fn show(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k} = {}", show(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(show).collect();
            format!("[{}]", parts.join(", "))
        }
        other => other.to_string(),
    }
}

/// Every key or table of `text` (a scenario file) whose comment mentions
/// an assumption, in file order, with its value in `parameters` (the
/// resolved scenario; the file's text where the key is not found there).
pub fn assumptions(text: &str, parameters: &Value) -> Vec<Assumption> {
    let mut table = String::new();
    let mut found = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        let note = comment(trimmed).filter(|c| c.to_lowercase().contains("assumption"));
        if let Some(header) = trimmed.strip_prefix('[') {
            let name = header
                .split(']')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            table = name.to_string();
            if let Some(note) = note
                && table != "sweep"
                && !table.starts_with("sweep.")
            {
                let value = lookup(parameters, &table).map_or_else(String::new, show);
                found.push(Assumption {
                    key: table.clone(),
                    value,
                    comment: note.to_string(),
                });
            }
            continue;
        }
        let (Some(note), Some((key, raw))) = (note, trimmed.split_once('=')) else {
            continue;
        };
        if trimmed.starts_with('#') || table == "sweep" || table.starts_with("sweep.") {
            continue;
        }
        let key = key.trim().trim_matches('"');
        let dotted = if table.is_empty() {
            key.to_string()
        } else {
            format!("{table}.{key}")
        };
        let value = lookup(parameters, &dotted).map_or_else(
            || {
                raw.split_once('#')
                    .map_or(raw, |(v, _)| v)
                    .trim()
                    .to_string()
            },
            show,
        );
        found.push(Assumption {
            key: dotted,
            value,
            comment: note.to_string(),
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_tables_marked_as_assumptions_are_listed_with_their_values() {
        let text = "name = \"x\"  # the name\n\
                    [costs]\n\
                    agency_per_case = 1500.0  # assumption (illustrative): one case\n\
                    training = 2000.0  # seed 003\n\
                    label = \"a # b\"  # Assumption: a hash in a string\n\
                    # assumption: a comment line is not a key\n\
                    [consent.victim_offense_log_odds]  # assumption: victims decline more\n\
                    burglary = -0.5\n\
                    [sweep]\n\
                    bootstrap = 10  # assumption: not a scenario key\n";
        let parameters = serde_json::json!({
            "costs": {"agency_per_case": 900.0, "training": 2000.0, "label": "a # b"},
            "consent": {"victim_offense_log_odds": {"burglary": -0.5}}
        });
        let found = assumptions(text, &parameters);
        let keys: Vec<&str> = found.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "costs.agency_per_case",
                "costs.label",
                "consent.victim_offense_log_odds"
            ]
        );
        // The value used (a --set shows), not the file's.
        assert_eq!(found[0].value, "900.0");
        assert_eq!(found[0].comment, "assumption (illustrative): one case");
        assert_eq!(found[2].value, "{ burglary = -0.5 }");
    }
}
