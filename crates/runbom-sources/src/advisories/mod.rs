//! Advisory sources: one reader per advisory format behind [`AdvisoryReader`], all registered in
//! [`ADVISORY_READERS`], and [`AdvisoryStream`], which walks files, directory trees and zip
//! archives (OSV's per-ecosystem bulk exports) and yields one record per advisory file.
//!
//! Traps:
//! - A malformed record is an `Err` item naming its file (and line and column where the parser
//!   gives them); the stream goes on, so one bad record never stops an import.
//! - YAML scalars are read as written: `1.10` stays the version `1.10` (not the number 1.1) and
//!   timestamps stay strings.
//! - Files no reader claims inside a tree or archive (READMEs, licences) are passed over, not
//!   reported; hidden directories (`.git`, `.github`) are not walked.

mod archive;
pub mod cpansa;
pub mod download;
mod osv_json;
mod osv_yaml;
mod rubysec;

use std::path::Path;

use runbom_model::Advisory;

pub use archive::AdvisoryStream;

/// Why one advisory file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AdvisoryError {
    #[error("cannot read `{file}`: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("`{file}` is not a zip archive runbom can read: {message}")]
    Zip { file: String, message: String },
    #[error("`{file}`{}: {message}", place(*line, *column))]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("`{file}`: {message}")]
    Invalid { file: String, message: String },
    /// A bad record of a source text whose line is known (CPAN::Audit's `DB.pm`).
    #[error("`{file}`:{line}: {message}")]
    InvalidAt {
        file: String,
        line: usize,
        message: String,
    },
    #[error(
        "`{file}` is not an advisory format runbom reads (OSV JSON, OSV YAML, ruby-advisory-db YAML, CPAN::Audit's CPANSA database)"
    )]
    UnknownFormat { file: String },
}

fn place(line: usize, column: usize) -> String {
    if line == 0 {
        String::new()
    } else {
        format!(":{line}:{column}")
    }
}

impl AdvisoryError {
    /// The file (or `archive.zip!entry`) the error is about.
    pub fn file(&self) -> &str {
        match self {
            AdvisoryError::Io { file, .. }
            | AdvisoryError::Zip { file, .. }
            | AdvisoryError::Syntax { file, .. }
            | AdvisoryError::Invalid { file, .. }
            | AdvisoryError::InvalidAt { file, .. }
            | AdvisoryError::UnknownFormat { file } => file,
        }
    }

    pub(crate) fn json(file: &str, error: &serde_json::Error) -> Self {
        Self::Syntax {
            file: file.to_owned(),
            line: error.line(),
            column: error.column(),
            message: strip_position(error.to_string()),
        }
    }

    pub(crate) fn yaml(file: &str, error: &serde_norway::Error) -> Self {
        let (line, column) = error.location().map_or((0, 0), |l| (l.line(), l.column()));
        Self::Syntax {
            file: file.to_owned(),
            line,
            column,
            message: strip_position(error.to_string()),
        }
    }
}

/// Drops the parser's own " at line L column C" suffix: the error names the place itself.
fn strip_position(message: String) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
    }
}

/// One advisory format.
pub trait AdvisoryReader: Sync {
    /// Stable name used in output, e.g. `osv/json`.
    fn name(&self) -> &'static str;
    /// Whether this reader claims the file, from its name and its contents.
    fn detect(&self, name: &str, contents: &[u8]) -> bool;
    /// Reads one advisory; `file` names it in errors.
    fn read(&self, file: &str, contents: &[u8]) -> Result<Advisory, AdvisoryError>;
}

/// Every advisory reader, most specific first.
pub static ADVISORY_READERS: &[&dyn AdvisoryReader] =
    &[&osv_json::OsvJson, &rubysec::RubySec, &osv_yaml::OsvYaml];

/// The reader that claims a file, if any.
pub fn detect(name: &str, contents: &[u8]) -> Option<&'static dyn AdvisoryReader> {
    ADVISORY_READERS
        .iter()
        .copied()
        .find(|r| r.detect(name, contents))
}

/// Whether a file name has an extension some advisory reader could claim.
pub(crate) fn is_candidate(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".json", ".yaml", ".yml"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// Reads one advisory file's contents with the reader that claims it.
pub fn read_one(file: &str, contents: &[u8]) -> Result<Advisory, AdvisoryError> {
    match detect(file, contents) {
        Some(reader) => reader.read(file, contents),
        None => Err(AdvisoryError::UnknownFormat {
            file: file.to_owned(),
        }),
    }
}

/// Reads the advisories under `paths` (files, directories, zip archives), lazily.
pub fn read_paths(paths: &[impl AsRef<Path>]) -> AdvisoryStream {
    AdvisoryStream::open(paths)
}

fn text<'a>(file: &str, contents: &'a [u8]) -> Result<&'a str, AdvisoryError> {
    std::str::from_utf8(contents).map_err(|e| AdvisoryError::Invalid {
        file: file.to_owned(),
        message: format!("not UTF-8: {e}"),
    })
}

#[cfg(test)]
mod tests;
