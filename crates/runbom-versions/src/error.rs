//! Version parse errors that point at the bad part of the input with a caret, as uv-pep440 does.

use std::fmt;
use std::ops::Range;

use runbom_model::Ecosystem;

/// A version (or range, or requirement) string that does not parse under an ecosystem's rules.
///
/// `span` is a byte range into `input` marking the offending part; [`fmt::Display`] prints the
/// input with a caret line under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionError {
    ecosystem: Ecosystem,
    what: &'static str,
    input: String,
    span: Range<usize>,
    reason: String,
}

impl VersionError {
    pub(crate) fn new(
        ecosystem: Ecosystem,
        what: &'static str,
        input: &str,
        span: Range<usize>,
        reason: impl Into<String>,
    ) -> Self {
        let len = input.len();
        let mut start = span.start.min(len);
        let mut end = span.end.clamp(start, len);
        while !input.is_char_boundary(start) {
            start -= 1;
        }
        while !input.is_char_boundary(end) {
            end += 1;
        }
        Self {
            ecosystem,
            what,
            input: input.to_owned(),
            span: start..end,
            reason: reason.into(),
        }
    }

    /// The same error, re-labelled as a different kind of input (e.g. an OSV `fixed` event).
    pub(crate) fn with_what(mut self, what: &'static str) -> Self {
        self.what = what;
        self
    }

    pub fn ecosystem(&self) -> Ecosystem {
        self.ecosystem
    }

    /// The whole string that failed to parse.
    pub fn input(&self) -> &str {
        &self.input
    }

    /// Byte range of the bad part of [`Self::input`].
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// Why it is bad, without the input and caret.
    pub fn reason(&self) -> &str {
        &self.reason
    }
}

impl fmt::Display for VersionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} {} `{}`: {}",
            self.ecosystem, self.what, self.input, self.reason
        )?;
        // The caret line only helps when the input is one printable line.
        if !self.input.is_empty() && !self.input.contains(['\n', '\r']) {
            let before = self.input[..self.span.start].chars().count();
            let width = self.input[self.span.clone()].chars().count().max(1);
            write!(
                f,
                "\n    {}\n    {}{}",
                self.input,
                " ".repeat(before),
                "^".repeat(width)
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for VersionError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_sits_under_the_bad_part() {
        let err = VersionError::new(
            Ecosystem::PyPi,
            "version",
            "1.0foo",
            3..6,
            "unexpected `foo`",
        );
        assert_eq!(
            err.to_string(),
            "invalid PyPI version `1.0foo`: unexpected `foo`\n    1.0foo\n       ^^^"
        );
    }

    #[test]
    fn span_is_clamped_to_char_boundaries() {
        let err = VersionError::new(Ecosystem::PyPi, "version", "1.é", 3..3, "bad");
        assert_eq!(err.span(), 2..4);
        assert!(err.to_string().ends_with("  ^"));
    }
}
