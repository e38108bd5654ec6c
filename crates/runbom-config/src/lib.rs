//! Reads `runbom.toml` in two steps — TOML shape (`raw`), then values (`validate`) — and reports
//! every problem at once as rustc-style diagnostics pointing at the file, line and column.

pub mod policy;
mod raw;
mod validate;

use std::fmt;
use std::path::Path;

use codespan_reporting::diagnostic::Diagnostic;
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term;

pub use policy::Config;

/// Everything wrong with one config file, ready to print.
pub struct ConfigError {
    file: SimpleFile<String, String>,
    diagnostics: Vec<Diagnostic<()>>,
}

impl fmt::Debug for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigError")
            .field("file", &self.file.name())
            .field("diagnostics", &self.diagnostics)
            .finish()
    }
}

impl ConfigError {
    /// How many problems were found.
    pub fn len(&self) -> usize {
        self.diagnostics.len()
    }

    /// Always false: a `ConfigError` holds at least one diagnostic.
    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// The diagnostics as plain text with source snippets and carets, no colour.
    pub fn render(&self) -> String {
        let config = term::Config::default();
        let mut out = String::new();
        for diagnostic in &self.diagnostics {
            if term::emit_to_string(&mut out, &config, &self.file, diagnostic).is_err() {
                // The span lies outside the file; fall back to the bare message.
                out.push_str(&format!("error: {}\n", diagnostic.message));
            }
        }
        out
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a valid runbom config ({} problem{}):\n{}",
            self.file.name(),
            self.diagnostics.len(),
            if self.diagnostics.len() == 1 { "" } else { "s" },
            self.render()
        )
    }
}

impl std::error::Error for ConfigError {}

/// Errors reading the config file from disk.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read config `{path}`")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file was read but is not valid.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
}

/// Reads and validates the config at `path`.
pub fn load(path: &Path) -> Result<Config, LoadError> {
    load_with_source(path).map(|(config, _)| config)
}

/// Reads and validates the config at `path`, and keeps its text for diagnostics that point
/// into it (findings name the line their rule was written on).
pub fn load_with_source(path: &Path) -> Result<(Config, ConfigSource), LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let name = path.display().to_string();
    let config = parse(&name, &text)?;
    Ok((
        config,
        ConfigSource {
            file: SimpleFile::new(name, text),
        },
    ))
}

/// The text of a valid config file, to render diagnostics that point into it.
pub struct ConfigSource {
    file: SimpleFile<String, String>,
}

impl fmt::Debug for ConfigSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfigSource")
            .field("file", &self.file.name())
            .finish()
    }
}

impl ConfigSource {
    /// The file name as given.
    pub fn name(&self) -> &str {
        self.file.name()
    }

    /// The byte range of the value written at 1-based `line` and `column` (as
    /// [`policy::Origin`] gives them): up to its closing quote, else to the end of the line.
    pub fn span(&self, line: usize, column: usize) -> Option<std::ops::Range<usize>> {
        let text = self.file.source();
        let line_start = if line <= 1 {
            0
        } else {
            text.match_indices('\n').nth(line - 2).map(|(i, _)| i + 1)?
        };
        let line_text = text[line_start..].lines().next().unwrap_or_default();
        let offset = line_text
            .char_indices()
            .nth(column.saturating_sub(1))
            .map(|(i, _)| i)?;
        let start = line_start + offset;
        let rest = &line_text[offset..];
        let end = rest
            .find(['"', '\''])
            .unwrap_or(rest.trim_end().len())
            .max(1);
        Some(start..(start + end).min(line_start + line_text.len()))
    }

    /// One diagnostic as plain text with the source snippet and carets.
    pub fn render(&self, diagnostic: &Diagnostic<()>) -> String {
        let mut out = String::new();
        if term::emit_to_string(&mut out, &term::Config::default(), &self.file, diagnostic).is_err()
        {
            out.push_str(&format!("error: {}\n", diagnostic.message));
        }
        out
    }
}

/// Parses and validates config text; `name` is used in diagnostics.
pub fn parse(name: &str, text: &str) -> Result<Config, ConfigError> {
    let error = |diagnostics| ConfigError {
        file: SimpleFile::new(name.to_owned(), text.to_owned()),
        diagnostics,
    };
    let mut value = match toml_span::parse(text) {
        Ok(value) => value,
        Err(e) => return Err(error(vec![e.to_diagnostic(())])),
    };
    let mut shape_errors = Vec::new();
    let raw = raw::read(&mut value, &mut shape_errors);
    let mut diagnostics: Vec<Diagnostic<()>> =
        shape_errors.iter().flat_map(shape_diagnostics).collect();
    let validated = validate::validate(text, raw);
    match validated {
        Ok(config) if diagnostics.is_empty() => Ok(config),
        Ok(_) => Err(error(diagnostics)),
        Err(more) => {
            diagnostics.extend(more);
            diagnostics.sort_by_key(|d| d.labels.first().map(|l| l.range.start));
            Err(error(diagnostics))
        }
    }
}

/// One diagnostic per shape error; unknown keys get one each, naming the key.
fn shape_diagnostics(error: &toml_span::Error) -> Vec<Diagnostic<()>> {
    use codespan_reporting::diagnostic::Label;
    match &error.kind {
        toml_span::ErrorKind::UnexpectedKeys { keys, expected } => keys
            .iter()
            .map(|(key, span)| {
                Diagnostic::error()
                    .with_code("unknown-key")
                    .with_message(format!("unknown key `{key}`"))
                    .with_labels(vec![Label::primary((), *span).with_message("unknown key")])
                    .with_notes(vec![format!(
                        "help: expected one of {}",
                        expected
                            .iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )])
            })
            .collect(),
        _ => vec![error.to_diagnostic(())],
    }
}

#[cfg(test)]
mod tests;
