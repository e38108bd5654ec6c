//! `python/requirements`: pip requirements files — pins, `--hash`, `-r`/`-c` includes (relative
//! to the including file, cycles refused), markers, extras, direct URLs, line continuations and
//! comments. Each requirement line is parsed by `pep508_rs`.
//!
//! Trap: a constraint file (`-c`) does not add requirements; it only pins versions of
//! requirements listed elsewhere.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::pep440_rs::Operator;
use pep508_rs::{Requirement, VersionOrUrl};
use runbom_model::expected::{
    ComponentHash, ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};
use runbom_model::{Ecosystem, PackageName};

use crate::sniff::Shape;
use crate::{InventoryReader, SourceError, purl};

#[derive(Debug)]
pub(crate) struct Requirements;

impl InventoryReader for Requirements {
    fn name(&self) -> &'static str {
        "python/requirements"
    }

    /// Lines of text, each blank, a comment, an option (`-r`, `--hash`, …) or one that starts
    /// as a requirement does.
    fn fits(&self, shape: &Shape, contents: &str) -> Result<(), String> {
        if !matches!(shape, Shape::Text { .. }) {
            return Err("not lines of text (JSON, XML or TOML)".to_owned());
        }
        for (number, line) in contents.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('-') {
                continue;
            }
            if !looks_like_requirement(line) {
                return Err(format!(
                    "line {} is not a requirement: `{line}`",
                    number + 1
                ));
            }
        }
        Ok(())
    }

    fn conventional_name(&self, name: &str) -> bool {
        name.starts_with("requirements") && name.ends_with(".txt")
    }

    fn read(&self, path: &Path, contents: &str) -> Result<ExpectedInventory, SourceError> {
        let mut state = State::default();
        state.file(path, contents, false, &mut Vec::new())?;
        // Constraints pin requirements that name no exact version themselves.
        for component in &mut state.components {
            if component.version.exact().is_none()
                && let Some(pin) = state.constraints.get(&component.name)
            {
                component.version = ExpectedVersion::Exact(pin.clone());
            }
        }
        Ok(ExpectedInventory {
            format: self.name().to_owned(),
            source: path.display().to_string(),
            components: state.components,
            checksum_file: None,
            lists_unbuilt: false,
        })
    }
}

#[derive(Default)]
struct State {
    components: Vec<ExpectedComponent>,
    constraints: HashMap<PackageName, String>,
}

/// One logical line: continuations joined, comment removed, with its first physical line.
struct Line {
    number: usize,
    text: String,
}

fn logical_lines(contents: &str) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut pending: Option<Line> = None;
    for (i, raw) in contents.lines().enumerate() {
        let (body, continued) = match raw.strip_suffix('\\') {
            Some(body) => (body, true),
            None => (raw, false),
        };
        let line = pending.get_or_insert_with(|| Line {
            number: i + 1,
            text: String::new(),
        });
        line.text.push_str(body);
        if continued {
            line.text.push(' ');
        } else if let Some(done) = pending.take() {
            lines.push(done);
        }
    }
    lines.extend(pending);
    for line in &mut lines {
        line.text = strip_comment(&line.text).trim().to_owned();
    }
    lines.retain(|l| !l.text.is_empty());
    lines
}

/// pip's rule: `#` starts a comment at the line start or after whitespace.
fn strip_comment(text: &str) -> &str {
    let bytes = text.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &text[..i];
        }
    }
    text
}

/// The value of `-r FILE`, `-rFILE`, `--requirement FILE`, `--requirement=FILE`.
fn option_value<'a>(text: &'a str, short: &str, long: &str) -> Option<&'a str> {
    for flag in [long, short] {
        if let Some(rest) = text.strip_prefix(flag) {
            let rest = rest.strip_prefix('=').unwrap_or(rest);
            if flag == long
                && !rest.starts_with([' ', '\t'])
                && rest.len() == text.len() - flag.len()
            {
                // `--requirementsX` is not this option.
                if !text[flag.len()..].starts_with('=') {
                    continue;
                }
            }
            return Some(rest.trim());
        }
    }
    None
}

impl State {
    fn file(
        &mut self,
        path: &Path,
        contents: &str,
        constraints_only: bool,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), SourceError> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        if stack.contains(&canonical) {
            let chain = stack
                .iter()
                .chain(std::iter::once(&canonical))
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" -> ");
            return Err(SourceError::IncludeCycle {
                file: path.display().to_string(),
                chain,
            });
        }
        stack.push(canonical);
        for line in logical_lines(contents) {
            self.line(path, &line, constraints_only, stack)?;
        }
        stack.pop();
        Ok(())
    }

    fn line(
        &mut self,
        path: &Path,
        line: &Line,
        constraints_only: bool,
        stack: &mut Vec<PathBuf>,
    ) -> Result<(), SourceError> {
        let text = line.text.as_str();
        let include = option_value(text, "-r", "--requirement")
            .map(|f| (f, constraints_only))
            .or_else(|| option_value(text, "-c", "--constraint").map(|f| (f, true)));
        if let Some((target, as_constraints)) = include {
            let included = path.parent().unwrap_or(Path::new(".")).join(target);
            let contents =
                std::fs::read_to_string(&included).map_err(|e| SourceError::Invalid {
                    file: path.display().to_string(),
                    place: Some(format!("line {}", line.number)),
                    message: format!("cannot read included `{}`: {e}", included.display()),
                })?;
            return self.file(&included, &contents, as_constraints, stack);
        }
        if text.starts_with('-') && !text.starts_with("-e") && !text.starts_with("--editable") {
            // Global options: --index-url, --extra-index-url, --find-links, --require-hashes, …
            return Ok(());
        }
        let (requirement_text, hashes) = split_hashes(text);
        let editable = requirement_text
            .strip_prefix("--editable")
            .or_else(|| requirement_text.strip_prefix("-e"))
            .map(str::trim);
        let requirement_text = match editable {
            Some(reference) => match egg_name(reference) {
                Some(name) => format!("{name} @ {reference}"),
                // A local editable project without a name: nothing to pin.
                None => return Ok(()),
            },
            None if is_bare_reference(&requirement_text) => {
                match egg_name(&requirement_text).or_else(|| wheel_name(&requirement_text)) {
                    Some(name) => format!("{name} @ {requirement_text}"),
                    None => {
                        return Err(SourceError::Invalid {
                            file: path.display().to_string(),
                            place: Some(format!("line {}", line.number)),
                            message: format!(
                                "cannot tell the package name of `{requirement_text}`; add `#egg=NAME`"
                            ),
                        });
                    }
                }
            }
            None => requirement_text,
        };
        let requirement = Requirement::<pep508_rs::VerbatimUrl>::from_str(&requirement_text)
            .map_err(|e| SourceError::Syntax {
                file: path.display().to_string(),
                line: line.number,
                column: e.start + 1,
                message: e.message.to_string(),
            })?;
        let name = PackageName::pypi(requirement.name.as_ref());
        let version = match &requirement.version_or_url {
            None => ExpectedVersion::Unspecified,
            Some(VersionOrUrl::Url(url)) => ExpectedVersion::Url(url.to_string()),
            Some(VersionOrUrl::VersionSpecifier(specifiers)) => match specifiers.as_ref() {
                [one] if matches!(one.operator(), Operator::Equal | Operator::ExactEqual) => {
                    ExpectedVersion::Exact(one.version().to_string())
                }
                _ => ExpectedVersion::Specifier(specifiers.to_string()),
            },
        };
        if constraints_only {
            if let ExpectedVersion::Exact(v) = version {
                self.constraints.insert(name, v);
            }
            return Ok(());
        }
        let purl = purl::pypi(&name, version.exact());
        self.components.push(ExpectedComponent {
            ecosystem: Some(Ecosystem::PyPi),
            raw_name: raw_name(&requirement_text).to_owned(),
            name,
            version,
            purl,
            hashes,
            licenses: Vec::new(),
            marker: requirement.marker.try_to_string(),
            location: SourceLocation {
                file: path.display().to_string(),
                line: Some(line.number),
                path: None,
            },
        });
        Ok(())
    }
}

/// Removes `--hash=alg:hex` options (also `--hash alg:hex`) and returns them.
fn split_hashes(text: &str) -> (String, Vec<ComponentHash>) {
    let mut rest = Vec::new();
    let mut hashes = Vec::new();
    let mut words = text.split_whitespace().peekable();
    while let Some(word) = words.next() {
        let value = if let Some(v) = word.strip_prefix("--hash=") {
            Some(v.to_owned())
        } else if word == "--hash" {
            words.next().map(str::to_owned)
        } else {
            None
        };
        match value {
            Some(v) => {
                if let Some((alg, hex)) = v.split_once(':') {
                    hashes.push(ComponentHash::new(alg, hex));
                }
            }
            None => rest.push(word),
        }
    }
    (rest.join(" "), hashes)
}

/// The name as written: the leading run of name characters.
fn raw_name(requirement: &str) -> &str {
    let end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(requirement.len());
    &requirement[..end]
}

fn is_bare_reference(text: &str) -> bool {
    let first = text.split_whitespace().next().unwrap_or("");
    first.contains("://") || first.ends_with(".whl") || first.ends_with(".tar.gz")
}

fn egg_name(reference: &str) -> Option<String> {
    let fragment = reference.split_once('#')?.1;
    fragment
        .split('&')
        .find_map(|kv| kv.strip_prefix("egg="))
        .map(|n| n.split(['[', ';', ' ']).next().unwrap_or(n).to_owned())
}

/// The distribution name of a wheel or sdist URL: `pkg-1.0-py3-none-any.whl` -> `pkg`.
fn wheel_name(reference: &str) -> Option<String> {
    let first = reference.split_whitespace().next()?;
    let file = first.split(['#', '?']).next()?.rsplit('/').next()?;
    let (name, _) = file.split_once('-')?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// Whether a line starts as a requirement does: a path or URL, or a name followed by nothing,
/// extras, a version comparison, markers, `@ url` or a comment — not by prose, and not by
/// `= value` as TOML or INI would have it (`==`, `~=`, `===` are comparisons).
fn looks_like_requirement(line: &str) -> bool {
    if line.starts_with(['.', '/', '~']) || line.contains("://") {
        return true;
    }
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(line.len());
    let rest = line[name_end..].trim_start();
    name_end > 0
        && (rest.is_empty()
            || rest.starts_with("==")
            || rest.starts_with(['[', '(', '<', '>', '!', '~', ';', '@', '#', '\\']))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata;

    fn read(name: &str) -> Result<ExpectedInventory, SourceError> {
        let path = testdata::path(name);
        let contents = std::fs::read_to_string(&path).expect("fixture");
        Requirements.read(&path, &contents)
    }

    #[test]
    fn reads_pins_hashes_markers_extras_urls_and_includes() {
        let inventory = read("requirements/requirements.txt").expect("read");
        let by = |n: &str| {
            inventory
                .components
                .iter()
                .find(|c| c.name.as_str() == n)
                .unwrap_or_else(|| panic!("{n} missing from {:#?}", inventory.components))
        };
        let requests = by("requests");
        assert_eq!(requests.version.exact(), Some("2.32.3"));
        assert_eq!(requests.purl.as_deref(), Some("pkg:pypi/requests@2.32.3"));
        assert_eq!(requests.hashes.len(), 2);
        assert_eq!(requests.hashes[0].algorithm, "sha256");
        assert_eq!(requests.location.line, Some(3));
        let typing = by("typing-extensions");
        assert_eq!(typing.raw_name, "typing_extensions");
        assert!(
            typing
                .marker
                .as_deref()
                .is_some_and(|m| m.contains("python_full_version")),
            "{typing:?}"
        );
        assert!(matches!(by("flask").version, ExpectedVersion::Specifier(_)));
        assert!(matches!(by("six").version, ExpectedVersion::Url(_)));
        assert!(matches!(by("attrs").version, ExpectedVersion::Url(_)));
        // From `-r base.txt`, pinned by `-c constraints.txt`.
        assert_eq!(by("idna").version.exact(), Some("3.10"));
        assert_eq!(
            by("idna").location.file,
            testdata::path("requirements/base.txt")
                .display()
                .to_string()
        );
        // Constraint files add no requirements.
        assert!(
            inventory
                .components
                .iter()
                .all(|c| c.name.as_str() != "urllib3")
        );
    }

    #[test]
    fn include_cycles_are_refused() {
        let error = read("requirements/broken/cycle-a.txt").expect_err("cycle");
        assert!(matches!(error, SourceError::IncludeCycle { .. }), "{error}");
        assert!(error.to_string().contains("cycle-b.txt"), "{error}");
    }

    #[test]
    fn bad_requirement_names_file_line_and_column() {
        let error = read("requirements/broken/bad-line.txt").expect_err("bad");
        let text = error.to_string();
        assert!(
            matches!(error, SourceError::Syntax { line: 2, .. }),
            "{text}"
        );
        assert!(text.contains("bad-line.txt`:2:"), "{text}");
    }

    #[test]
    fn comments_need_leading_whitespace() {
        assert_eq!(
            strip_comment("pkg @ https://x/y#egg=pkg  # note"),
            "pkg @ https://x/y#egg=pkg  "
        );
    }
}
