//! `ruby/gemfile-lock`: Bundler's `Gemfile.lock` — every gem of its `GEM`, `GIT` and `PATH`
//! sources (the `specs:` entries, four spaces in), each at its locked version; a platform gem's
//! entry carries its platform after the version (`nokogiri (1.15.0-x86_64-linux)`), which goes
//! into the PURL's `platform` qualifier, as Bundler splits it: the version is what comes before
//! the first `-`. `BUNDLED WITH` pins `bundler` (the program runs under it with `bundle exec`);
//! `PLATFORMS`, `DEPENDENCIES` and `RUBY VERSION` pin no gem.
//!
//! Trap: a lockfile left half-merged (`<<<<<<<`, `=======`, `>>>>>>>`) still looks like one; it is
//! an error naming the line of the first marker, never read as if whole.

use std::path::Path;

use runbom_model::expected::{
    ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};
use runbom_model::{Ecosystem, PackageName};

use crate::sniff::Shape;
use crate::{InventoryReader, SourceError};

#[derive(Debug)]
pub(crate) struct GemfileLock;

/// The sections whose `specs:` list gems.
const SOURCES: [&str; 3] = ["GEM", "GIT", "PATH"];

impl InventoryReader for GemfileLock {
    fn name(&self) -> &'static str {
        "ruby/gemfile-lock"
    }

    /// Text with a `GEM`, `GIT` or `PATH` section that has `specs:`.
    fn fits(&self, shape: &Shape, contents: &str) -> Result<(), String> {
        if !matches!(shape, Shape::Text { .. }) {
            return Err("not lines of text (JSON, XML or TOML)".to_owned());
        }
        let has_source = contents.lines().any(|l| SOURCES.contains(&l.trim_end()));
        let has_specs = contents.lines().any(|l| l.trim_end() == "  specs:");
        if has_source && has_specs {
            Ok(())
        } else {
            Err("no `GEM`, `GIT` or `PATH` section with `specs:`".to_owned())
        }
    }

    fn conventional_name(&self, name: &str) -> bool {
        name == "Gemfile.lock" || name == "gems.locked"
    }

    fn read(&self, path: &Path, contents: &str) -> Result<ExpectedInventory, SourceError> {
        let file = path.display().to_string();
        let invalid = |line: usize, message: String| SourceError::Invalid {
            file: file.clone(),
            place: Some(format!("line {line}")),
            message,
        };
        let mut components = Vec::new();
        let mut section: Option<&str> = None;
        let mut remote: Option<String> = None;
        let mut in_specs = false;
        for (index, raw) in contents.lines().enumerate() {
            let line = index + 1;
            let text = raw.trim_end();
            if ["<<<<<<<", "=======", ">>>>>>>", "|||||||"]
                .iter()
                .any(|marker| text.starts_with(marker))
            {
                return Err(invalid(
                    line,
                    "a merge conflict marker: resolve the conflict and run `bundle lock`"
                        .to_owned(),
                ));
            }
            if text.is_empty() {
                continue;
            }
            let indent = text.len() - text.trim_start().len();
            if indent == 0 {
                section = Some(text);
                remote = None;
                in_specs = false;
                continue;
            }
            let Some(current) = section.filter(|s| SOURCES.contains(s) || *s == BUNDLED_WITH)
            else {
                continue;
            };
            match indent {
                2 => {
                    let entry = text.trim_start();
                    in_specs = entry == "specs:";
                    if let Some(url) = entry.strip_prefix("remote: ") {
                        remote = Some(url.to_owned());
                    }
                }
                3 if current_bundled_with(section) => {
                    let version = text.trim_start();
                    components.push(ExpectedComponent {
                        ecosystem: Some(Ecosystem::RubyGems),
                        raw_name: "bundler".to_owned(),
                        name: PackageName::new(Ecosystem::RubyGems, "bundler"),
                        purl: Some(purl("bundler", version, "")),
                        version: ExpectedVersion::Exact(version.to_owned()),
                        hashes: Vec::new(),
                        licenses: Vec::new(),
                        marker: None,
                        location: SourceLocation {
                            file: file.clone(),
                            line: Some(line),
                            path: Some("BUNDLED WITH".to_owned()),
                        },
                    });
                }
                4 if in_specs => {
                    let (name, version, platform) =
                        name_version(text.trim_start()).ok_or_else(|| {
                            invalid(
                                line,
                                format!(
                                    "`{}` is not `name (version)` in `{current}` specs",
                                    text.trim_start()
                                ),
                            )
                        })?;
                    components.push(ExpectedComponent {
                        ecosystem: Some(Ecosystem::RubyGems),
                        raw_name: name.to_owned(),
                        name: PackageName::new(Ecosystem::RubyGems, name),
                        purl: Some(purl(name, version, platform)),
                        version: ExpectedVersion::Exact(version.to_owned()),
                        hashes: Vec::new(),
                        licenses: Vec::new(),
                        marker: None,
                        location: SourceLocation {
                            file: file.clone(),
                            line: Some(line),
                            path: Some(match &remote {
                                Some(remote) => format!("{current} {remote}"),
                                None => current.to_owned(),
                            }),
                        },
                    });
                }
                // A spec's own dependencies (six spaces), and anything else inside a source.
                _ => {}
            }
        }
        if !contents.lines().any(|l| SOURCES.contains(&l.trim_end())) {
            return Err(SourceError::Invalid {
                file,
                place: None,
                message: "no `GEM`, `GIT` or `PATH` section".to_owned(),
            });
        }
        Ok(ExpectedInventory {
            format: self.name().to_owned(),
            source: file,
            components,
            checksum_file: None,
            lists_unbuilt: false,
        })
    }
}

const BUNDLED_WITH: &str = "BUNDLED WITH";

fn current_bundled_with(section: Option<&str>) -> bool {
    section == Some(BUNDLED_WITH)
}

/// `rack (2.2.22)` -> (`rack`, `2.2.22`, ``); `nokogiri (1.15.0-x86_64-linux)` ->
/// (`nokogiri`, `1.15.0`, `x86_64-linux`), splitting at the first `-` as Bundler does.
fn name_version(entry: &str) -> Option<(&str, &str, &str)> {
    let (name, rest) = entry.split_once(" (")?;
    let inside = rest.strip_suffix(')')?;
    let (version, platform) = inside.split_once('-').unwrap_or((inside, ""));
    let valid = |s: &str| !s.is_empty() && !s.contains(char::is_whitespace);
    (valid(name) && valid(version) && (platform.is_empty() || valid(platform)))
        .then_some((name, version, platform))
}

fn purl(name: &str, version: &str, platform: &str) -> String {
    let built = packageurl::PackageUrl::new("gem", name).and_then(|mut purl| {
        purl.with_version(version)?;
        if !platform.is_empty() && platform != "ruby" {
            purl.add_qualifier("platform", platform)?;
        }
        Ok(purl.to_string())
    });
    built.unwrap_or_else(|_| format!("pkg:gem/{name}@{version}"))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const LOCK: &str = include_str!("../testdata/gemfile-lock/Gemfile.lock");

    #[test]
    fn reads_every_source_with_platforms_and_lines() {
        assert_eq!(GemfileLock.fits(&Shape::of(LOCK), LOCK), Ok(()));
        let inventory = GemfileLock
            .read(Path::new("Gemfile.lock"), LOCK)
            .expect("reads");
        let got: Vec<String> = inventory
            .components
            .iter()
            .map(|c| {
                format!(
                    "{} {} {} line {} {}",
                    c.raw_name,
                    c.version.exact().unwrap_or("-"),
                    c.purl.as_deref().unwrap_or("-"),
                    c.location.line.unwrap_or(0),
                    c.location.path.as_deref().unwrap_or("-")
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                "hello 0.1.0 pkg:gem/hello@0.1.0 line 5 GIT https://example.com/hello.git",
                "myapp 1.0.0 pkg:gem/myapp@1.0.0 line 11 PATH .",
                "mustermann 3.0.0 pkg:gem/mustermann@3.0.0 line 17 GEM https://rubygems.org/",
                "nokogiri 1.15.0 pkg:gem/nokogiri@1.15.0?platform=x86_64-linux line 19 GEM https://rubygems.org/",
                "racc 1.6.0 pkg:gem/racc@1.6.0 line 21 GEM https://rubygems.org/",
                "rack 2.2.22 pkg:gem/rack@2.2.22 line 22 GEM https://rubygems.org/",
                "rack-protection 3.0.5 pkg:gem/rack-protection@3.0.5 line 23 GEM https://rubygems.org/",
                "ruby2_keywords 0.0.5 pkg:gem/ruby2_keywords@0.0.5 line 25 GEM https://rubygems.org/",
                "sinatra 3.0.5 pkg:gem/sinatra@3.0.5 line 26 GEM https://rubygems.org/",
                "tilt 2.0.11 pkg:gem/tilt@2.0.11 line 31 GEM https://rubygems.org/",
                "bundler 2.3.15 pkg:gem/bundler@2.3.15 line 46 BUNDLED WITH",
            ]
        );
    }

    #[test]
    fn a_conflict_marker_is_an_error_naming_its_line() {
        let broken = include_str!("../testdata/gemfile-lock/conflict.Gemfile.lock");
        assert_eq!(GemfileLock.fits(&Shape::of(broken), broken), Ok(()));
        let err = GemfileLock
            .read(Path::new("Gemfile.lock"), broken)
            .expect_err("conflict")
            .to_string();
        assert_eq!(
            err,
            "`Gemfile.lock` at line 6: a merge conflict marker: resolve the conflict and run \
             `bundle lock`"
        );
    }

    #[test]
    fn a_bad_spec_line_is_named_and_other_text_does_not_fit() {
        let bad = "GEM\n  remote: https://rubygems.org/\n  specs:\n    rack 2.2\n";
        let err = GemfileLock
            .read(Path::new("Gemfile.lock"), bad)
            .expect_err("bad")
            .to_string();
        assert!(
            err.contains("line 4") && err.contains("`rack 2.2`"),
            "{err}"
        );
        let go_mod = "module example.com/a\n";
        assert!(GemfileLock.fits(&Shape::of(go_mod), go_mod).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn damaged_lockfiles_never_panic(
            changes in proptest::collection::vec((any::<prop::sample::Index>(), any::<char>()), 0..8),
            cut in proptest::option::of(any::<prop::sample::Index>()),
        ) {
            let mut chars: Vec<char> = LOCK.chars().collect();
            for (at, value) in changes {
                let at = at.index(chars.len());
                chars[at] = value;
            }
            if let Some(cut) = cut {
                chars.truncate(cut.index(chars.len()));
            }
            let text: String = chars.into_iter().collect();
            let _ = GemfileLock.fits(&Shape::of(&text), &text);
            let _ = GemfileLock.read(Path::new("Gemfile.lock"), &text);
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
            let _ = GemfileLock.read(Path::new("Gemfile.lock"), &format!("GEM\n  specs:\n{text}"));
        }
    }
}
