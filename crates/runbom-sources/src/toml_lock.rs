//! Shared by the TOML lockfile readers: parsing with file/line/column errors, and the line where
//! the n-th `[[table]]` entry starts.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::SourceError;

pub(crate) fn parse<T: DeserializeOwned>(path: &Path, contents: &str) -> Result<T, SourceError> {
    toml::from_str(contents).map_err(|e| SourceError::toml(path, contents, &e))
}

/// 1-based line of each `[[header]]` in file order.
pub(crate) fn table_lines(contents: &str, header: &str) -> Vec<usize> {
    let wanted = format!("[[{header}]]");
    contents
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == wanted)
        .map(|(i, _)| i + 1)
        .collect()
}
