//! Errors of every reader: each names the file and, where the parser knows it, line and column.

/// Why an expected inventory could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("cannot read `{file}`: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error("`{file}` is not an expected inventory runbom reads; formats tried:{tried}")]
    UnknownFormat {
        file: String,
        /// One line per format tried: `\n  name: why it did not fit`.
        tried: String,
    },
    #[error("no expected-inventory format is called `{name}` (known: {})", known.join(", "))]
    UnknownReader {
        name: String,
        known: Vec<&'static str>,
    },
    #[error("`{file}`:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("`{file}`{}: {message}", place.as_deref().map(|p| format!(" at {p}")).unwrap_or_default())]
    Invalid {
        file: String,
        place: Option<String>,
        message: String,
    },
    #[error("`{file}`: unsupported {format} version `{version}` (supported: {supported})")]
    UnsupportedVersion {
        file: String,
        format: &'static str,
        version: String,
        supported: &'static str,
    },
    #[error("`{file}`: include cycle: {chain}")]
    IncludeCycle { file: String, chain: String },
}

impl SourceError {
    pub(crate) fn json(file: &std::path::Path, error: &serde_json::Error) -> Self {
        Self::Syntax {
            file: file.display().to_string(),
            line: error.line(),
            column: error.column(),
            message: error.to_string(),
        }
    }

    pub(crate) fn toml(file: &std::path::Path, contents: &str, error: &toml::de::Error) -> Self {
        let (line, column) = error
            .span()
            .map(|span| line_column(contents, span.start))
            .unwrap_or((0, 0));
        Self::Syntax {
            file: file.display().to_string(),
            line,
            column,
            message: error.message().to_owned(),
        }
    }

    pub(crate) fn invalid(
        file: &std::path::Path,
        place: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::Invalid {
            file: file.display().to_string(),
            place: Some(place.into()),
            message: message.into(),
        }
    }
}

/// 1-based line and column of a byte offset.
pub(crate) fn line_column(contents: &str, offset: usize) -> (usize, usize) {
    let before = &contents[..offset.min(contents.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, column)
}
