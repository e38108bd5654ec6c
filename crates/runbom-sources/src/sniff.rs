//! What an expected-inventory file holds, told from its content alone: the top-level keys of a
//! JSON object or a TOML document, the root element of an XML document, or lines of text. Readers
//! claim a file from this, whatever its name (`requirements.lock`, `base.txt`, `bom.json`).

use std::collections::{BTreeMap, BTreeSet};

use serde::de::IgnoredAny;

/// The shape of a file's content.
#[derive(Debug)]
pub enum Shape {
    /// A JSON object, with its top-level keys.
    Json(BTreeSet<String>),
    /// Text that starts as JSON but does not parse: why, and the keys it seems to hold (quoted
    /// strings followed by `:`), so that the reader of its kind can name the broken place.
    BadJson {
        error: String,
        keys: BTreeSet<String>,
    },
    /// An XML document, with its root element's local name and default namespace.
    Xml {
        root: String,
        namespace: Option<String>,
    },
    /// A TOML document with at least one key, with its top-level keys.
    Toml(BTreeSet<String>),
    /// Text with TOML table headers that does not parse: why, and the top-level keys and tables
    /// its lines seem to hold.
    BadToml {
        error: String,
        keys: BTreeSet<String>,
    },
    /// Anything else: lines of text. `toml_error` says why it is not TOML.
    Text { toml_error: String },
}

impl Shape {
    pub fn of(contents: &str) -> Self {
        let start = contents.trim_start_matches('\u{feff}').trim_start();
        if start.starts_with('{') {
            return match serde_json::from_str::<BTreeMap<String, IgnoredAny>>(start) {
                Ok(keys) => Shape::Json(keys.into_keys().collect()),
                Err(e) => Shape::BadJson {
                    error: e.to_string(),
                    keys: json_like_keys(start),
                },
            };
        }
        if start.starts_with('<') {
            return xml_root(start);
        }
        match toml::from_str::<toml::Table>(contents) {
            Ok(table) if !table.is_empty() => Shape::Toml(table.keys().cloned().collect()),
            Ok(_) => Shape::Text {
                toml_error: "no TOML key".to_owned(),
            },
            Err(e) if has_table_header(contents) => Shape::BadToml {
                error: e.message().to_owned(),
                keys: toml_like_keys(contents),
            },
            Err(e) => Shape::Text {
                toml_error: e.message().to_owned(),
            },
        }
    }

    /// Why a reader of a JSON object holding `key` does not claim this file, if it does not.
    pub fn json_with(&self, key: &str) -> Result<(), String> {
        match self {
            Shape::Json(keys) | Shape::BadJson { keys, .. } if keys.contains(key) => Ok(()),
            Shape::Json(_) => Err(format!("a JSON object without `{key}`")),
            Shape::BadJson { error, .. } => Err(format!("not valid JSON: {error}")),
            _ => Err("not a JSON object".to_owned()),
        }
    }

    /// Why a reader of a TOML document holding every key of `all` and none of `none` does not
    /// claim this file, if it does not.
    pub fn toml_with(&self, all: &[&str], none: &[&str]) -> Result<(), String> {
        let keys = match self {
            Shape::Toml(keys) | Shape::BadToml { keys, .. } => keys,
            Shape::Text { toml_error } => return Err(format!("not TOML: {toml_error}")),
            _ => return Err("not TOML".to_owned()),
        };
        if let Some(missing) = all.iter().find(|k| !keys.contains(**k)) {
            return Err(format!("a TOML document without `{missing}`"));
        }
        if let Some(other) = none.iter().find(|k| keys.contains(**k)) {
            return Err(format!("a TOML document with `{other}`"));
        }
        Ok(())
    }
}

/// Keys a broken JSON text seems to hold: every `"string"` followed by `:`.
fn json_like_keys(text: &str) -> BTreeSet<String> {
    text.split('"')
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|w| w[1].trim_start().starts_with(':'))
        .map(|w| w[0].to_owned())
        .collect()
}

fn has_table_header(text: &str) -> bool {
    text.lines().any(|l| l.trim_start().starts_with('['))
}

/// Top-level keys and tables a broken TOML text seems to hold: `key =` lines before the first
/// table header, and the first word of every `[table]` / `[[table]]` header.
fn toml_like_keys(text: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut in_table = false;
    for line in text.lines().map(str::trim) {
        if let Some(header) = line.strip_prefix('[') {
            in_table = true;
            let name = header.trim_start_matches('[').split([']', '.']).next();
            keys.extend(name.map(|n| n.trim().to_owned()));
        } else if !in_table && let Some((key, _)) = line.split_once('=') {
            keys.insert(key.trim().to_owned());
        }
    }
    keys
}

/// The root element of an XML document, after its prolog, comments and doctype.
fn xml_root(text: &str) -> Shape {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        let skip = if rest.starts_with("<?") {
            rest.find("?>").map(|i| i + 2)
        } else if rest.starts_with("<!--") {
            rest.find("-->").map(|i| i + 3)
        } else if rest.starts_with("<!") {
            // A doctype's internal subset (`[ <!ENTITY …> ]`) holds `>` of its own.
            match (rest.find('['), rest.find('>')) {
                (Some(open), Some(close)) if open < close => rest.find("]>").map(|i| i + 2),
                (_, close) => close.map(|i| i + 1),
            }
        } else {
            break;
        };
        match skip {
            Some(n) => rest = &rest[n..],
            None => break,
        }
    }
    let tag_end = rest.find('>').unwrap_or(rest.len());
    let tag = rest.get(1..tag_end).unwrap_or("");
    let name = tag.split_whitespace().next().unwrap_or("");
    let root = name.rsplit(':').next().unwrap_or(name).to_owned();
    let namespace = tag
        .split("xmlns=")
        .nth(1)
        .and_then(|v| {
            let quote = v.chars().next()?;
            v[1..].split(quote).next()
        })
        .map(str::to_owned);
    Shape::Xml { root, namespace }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_json_xml_toml_and_text_apart() {
        assert!(
            matches!(Shape::of("{\"bomFormat\": 1}"), Shape::Json(k) if k.contains("bomFormat"))
        );
        assert!(
            matches!(Shape::of("{\"bomFormat\": \"Cy"), Shape::BadJson { keys, .. } if keys.contains("bomFormat"))
        );
        assert!(
            matches!(Shape::of("version = 1\n[[package]\n"), Shape::BadToml { keys, .. } if keys.contains("version") && keys.contains("package"))
        );
        let xml = Shape::of(
            "<?xml version=\"1.0\"?>\n<!-- c -->\n<bom xmlns=\"http://cyclonedx.org/schema/bom/1.6\" version=\"1\">",
        );
        assert!(
            matches!(&xml, Shape::Xml { root, namespace: Some(ns) } if root == "bom" && ns.ends_with("1.6")),
            "{xml:?}"
        );
        assert!(
            matches!(Shape::of("version = 1\n[[package]]\nname = \"a\"\n"), Shape::Toml(k) if k.contains("package"))
        );
        assert!(matches!(
            Shape::of("requests==2.0\nidna\n"),
            Shape::Text { .. }
        ));
        assert!(matches!(Shape::of(""), Shape::Text { .. }));
    }
}
