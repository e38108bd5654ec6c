//! Core-metadata (METADATA / PKG-INFO) parsing: RFC 822-style headers with continuation lines
//! and repeated fields. Invalid UTF-8 is replaced, never fatal.

/// Header fields in file order; a field may repeat (`Requires-Dist`, `Classifier`).
#[derive(Debug, Default, Clone)]
pub struct Headers {
    fields: Vec<(String, String)>,
}

impl Headers {
    /// First value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses the header block (up to the first empty line). Returns the 1-based line of the first
/// malformed line (no `:` and not a continuation) as an error.
pub fn parse_headers(text: &str) -> Result<Headers, (usize, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            match fields.last_mut() {
                Some((_, value)) => {
                    value.push('\n');
                    value.push_str(line.trim_start_matches([' ', '\t', '|']).trim_end());
                }
                None => return Err((index + 1, "continuation line before any header".into())),
            }
            continue;
        }
        match line.split_once(':') {
            Some((key, value)) if !key.is_empty() && !key.contains(' ') => {
                fields.push((key.to_owned(), value.trim().to_owned()));
            }
            _ => return Err((index + 1, format!("not a `Name: value` header: `{line}`"))),
        }
    }
    Ok(Headers { fields })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_repeats_and_continuations() {
        let h = parse_headers(
            "Metadata-Version: 2.1\nName: Foo\nLicense: line one\n        line two\nRequires-Dist: a\nRequires-Dist: b; extra == \"x\"\n\nbody: x\n",
        )
        .unwrap();
        assert_eq!(h.get("name"), Some("Foo"));
        assert_eq!(h.get("License"), Some("line one\nline two"));
        assert_eq!(
            h.get_all("Requires-Dist").collect::<Vec<_>>(),
            ["a", "b; extra == \"x\""]
        );
        assert_eq!(h.get("body"), None);
    }

    #[test]
    fn reports_bad_line() {
        let err = parse_headers("Name: a\nthis is not a header\n").unwrap_err();
        assert_eq!(err.0, 2);
    }
}
