//! `go/go-mod`: a Go module's `go.mod` — the `module` line (the main module), the `go` line (the
//! standard library, any toolchain version), every `require` (single lines and blocks, `//
//! indirect` kept as required) with `replace` applied as the linker records it: a replacement by
//! another module version is what goes into the binary; a replacement by a local directory keeps
//! the required path and version. A `go.sum` beside it gives each required version the
//! checksum of its source (`h1:…`), which the binary's build information records too.
//!
//! Trap: module paths may be quoted (`"example.com/a b"`), and comments run from `//` to the end
//! of the line.

use std::collections::HashMap;
use std::path::Path;

use runbom_model::Ecosystem;
use runbom_model::expected::{
    ComponentHash, ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};

use crate::sniff::Shape;
use crate::{InventoryReader, SourceError, go_sum};

#[derive(Debug)]
pub(crate) struct GoMod;

impl InventoryReader for GoMod {
    fn name(&self) -> &'static str {
        "go/go-mod"
    }

    /// Text whose first directive is `module`.
    fn fits(&self, shape: &Shape, contents: &str) -> Result<(), String> {
        if !matches!(shape, Shape::Text { .. }) {
            return Err("not lines of text (JSON, XML or TOML)".to_owned());
        }
        match directives(contents).next() {
            Some((_, words)) if words.first().map(String::as_str) == Some("module") => Ok(()),
            _ => Err("its first directive is not `module`".to_owned()),
        }
    }

    fn conventional_name(&self, name: &str) -> bool {
        name == "go.mod"
    }

    fn read(&self, path: &Path, contents: &str) -> Result<ExpectedInventory, SourceError> {
        let file = path.display().to_string();
        let mut module = None;
        let mut go = None;
        let mut requires: Vec<(usize, String, String)> = Vec::new();
        let mut replaces: HashMap<(String, Option<String>), (String, String)> = HashMap::new();
        let mut block: Option<String> = None;
        for (line, words) in directives(contents) {
            let invalid = |message: String| SourceError::Invalid {
                file: file.clone(),
                place: Some(format!("line {line}")),
                message,
            };
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            let (verb, args): (&str, &[&str]) = match (&block, words.as_slice()) {
                (Some(_), [")"]) => {
                    block = None;
                    continue;
                }
                (Some(verb), args) => (verb.as_str(), args),
                (None, [verb, "("]) => {
                    block = Some((*verb).to_owned());
                    continue;
                }
                (None, [verb, args @ ..]) => (*verb, args),
                (None, []) => continue,
            };
            match (verb, args) {
                ("module", [path]) => module = Some(((*path).to_owned(), line)),
                ("go", [version]) => go = Some(line).filter(|_| !version.is_empty()),
                ("require", [path, version]) => {
                    requires.push((line, (*path).to_owned(), (*version).to_owned()));
                }
                ("replace", [from, "=>", to @ ..]) | ("replace", [from, _, "=>", to @ ..]) => {
                    let from_version = (args[1] != "=>").then(|| args[1].to_owned());
                    let target = match to {
                        [dir] => ((*dir).to_owned(), String::new()),
                        [path, version] => ((*path).to_owned(), (*version).to_owned()),
                        _ => {
                            return Err(invalid(format!(
                                "`replace` needs a target: `{}`",
                                args.join(" ")
                            )));
                        }
                    };
                    replaces.insert(((*from).to_owned(), from_version), target);
                }
                ("module" | "go" | "require" | "replace", _) => {
                    return Err(invalid(format!("malformed `{verb}`: `{}`", args.join(" "))));
                }
                // toolchain, exclude, retract, godebug, tool: nothing the binary records.
                _ => {}
            }
        }
        let Some((main, main_line)) = module else {
            return Err(SourceError::Invalid {
                file,
                place: None,
                message: "no `module` line".to_owned(),
            });
        };
        let component = |name: &str, version: ExpectedVersion, line: usize| {
            let location = SourceLocation {
                file: file.clone(),
                line: Some(line),
                path: None,
            };
            ExpectedComponent::new(Ecosystem::Go, name, version, location)
        };
        let (checksum_file, mut sums) = match sums_beside(path)? {
            Some((go_sum, sums)) => (Some(go_sum), sums),
            None => (None, HashMap::new()),
        };
        let mut components = vec![component(&main, ExpectedVersion::Unspecified, main_line)];
        if let Some(line) = go {
            // The toolchain that builds it is any at or above the `go` line: not pinned here.
            components.push(component("stdlib", ExpectedVersion::Unspecified, line));
        }
        for (line, path, version) in requires {
            let replaced = replaces
                .get(&(path.clone(), Some(version.clone())))
                .or_else(|| replaces.get(&(path.clone(), None)));
            let (name, version) = match replaced {
                Some((to, to_version)) if !to_version.is_empty() => {
                    (to.clone(), to_version.clone())
                }
                _ => (path, version),
            };
            let mut required = component(&name, ExpectedVersion::Exact(version.clone()), line);
            required.hashes.extend(sums.remove(&(name, version)));
            components.push(required);
        }
        Ok(ExpectedInventory {
            format: self.name().to_owned(),
            source: file,
            components,
            checksum_file,
            lists_unbuilt: true,
        })
    }
}

type GoSums = HashMap<(String, String), ComponentHash>;

/// The `go.sum` beside the go.mod at `path` and its checksums; `None` when there is none.
fn sums_beside(path: &Path) -> Result<Option<(String, GoSums)>, SourceError> {
    let go_sum = path.with_file_name("go.sum");
    match std::fs::read_to_string(&go_sum) {
        Ok(text) => Ok(Some((
            go_sum.display().to_string(),
            go_sum::read(&go_sum, &text)?,
        ))),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SourceError::Io {
            file: go_sum.display().to_string(),
            source,
        }),
    }
}

/// Each line's words (quoted ones unquoted), comments dropped, with 1-based line numbers;
/// blank lines left out.
fn directives(contents: &str) -> impl Iterator<Item = (usize, Vec<String>)> + '_ {
    contents.lines().enumerate().filter_map(|(index, line)| {
        let code = line.split("//").next().unwrap_or("");
        let words = words(code);
        (!words.is_empty()).then_some((index + 1, words))
    })
}

fn words(code: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut rest = code.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let end = quoted.find('"').unwrap_or(quoted.len());
            words.push(quoted[..end].to_owned());
            rest = quoted.get(end + 1..).unwrap_or("").trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            words.push(rest[..end].to_owned());
            rest = rest[end..].trim_start();
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    const GO_MOD: &str = "// a real-looking go.mod\n\
        module example.com/render\n\
        \n\
        go 1.19\n\
        \n\
        require golang.org/x/net v0.7.0\n\
        require (\n\
        \tgolang.org/x/text v0.7.0 // indirect\n\
        \t\"example.com/quoted\" v1.0.0\n\
        \texample.com/local v1.2.0\n\
        )\n\
        replace golang.org/x/text v0.7.0 => golang.org/x/text v0.8.0\n\
        replace example.com/local => ../local\n\
        exclude golang.org/x/net v0.6.0\n";

    #[test]
    fn reads_requires_with_replacements_as_the_binary_records_them() {
        let shape = Shape::of(GO_MOD);
        assert_eq!(GoMod.fits(&shape, GO_MOD), Ok(()));
        let inventory = GoMod.read(Path::new("go.mod"), GO_MOD).unwrap();
        let got: Vec<(&str, Option<&str>, Option<usize>)> = inventory
            .components
            .iter()
            .map(|c| (c.raw_name.as_str(), c.version.exact(), c.location.line))
            .collect();
        assert_eq!(
            got,
            [
                ("example.com/render", None, Some(2)),
                ("stdlib", None, Some(4)),
                ("golang.org/x/net", Some("v0.7.0"), Some(6)),
                ("golang.org/x/text", Some("v0.8.0"), Some(8)),
                ("example.com/quoted", Some("v1.0.0"), Some(9)),
                ("example.com/local", Some("v1.2.0"), Some(10)),
            ]
        );
        assert!(
            inventory
                .components
                .iter()
                .all(|c| c.ecosystem == Some(Ecosystem::Go))
        );
    }

    #[test]
    fn other_text_does_not_fit_and_bad_lines_are_named() {
        let requirements = "requests==2.31.0\n";
        assert!(GoMod.fits(&Shape::of(requirements), requirements).is_err());
        let err = GoMod
            .read(Path::new("go.mod"), "module a\nrequire b\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2") && err.contains("malformed `require`"),
            "{err}"
        );
    }
}
