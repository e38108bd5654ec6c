//! `perl/cpanfile-snapshot`: Carton's `cpanfile.snapshot`, the pinned distributions of a Perl
//! application. Each two-space-indented line under `DISTRIBUTIONS` is one distribution's
//! `Name-Version` (its "distvname"); its `pathname:` (`S/SR/SRI/Mojolicious-9.31.tar.gz`),
//! `provides:` and `requirements:` follow, indented further.
//!
//! Traps:
//! - A distribution name may hold `-` and digits (`libwww-perl-6.68`, `Net-HTTP-6.22`,
//!   `IO-Socket-SSL-2.081`): the version starts after the last `-` that is followed by a digit
//!   (or `v` and a digit), as CPAN::DistnameInfo splits most names.
//! - The `pathname:` may name a file whose distvname differs from the header (a renamed
//!   upload); the header is what Carton pinned and is read, the pathname only when the header
//!   has no version.

use std::path::Path;

use runbom_model::expected::{
    ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};
use runbom_model::{Ecosystem, PackageName};

use crate::sniff::Shape;
use crate::{InventoryReader, SourceError};

#[derive(Debug)]
pub(crate) struct CpanfileSnapshot;

const HEADER: &str = "# carton snapshot format:";

impl InventoryReader for CpanfileSnapshot {
    fn name(&self) -> &'static str {
        "perl/cpanfile-snapshot"
    }

    /// Text whose first line is Carton's header, or that has a `DISTRIBUTIONS` line.
    fn fits(&self, shape: &Shape, contents: &str) -> Result<(), String> {
        if !matches!(shape, Shape::Text { .. } | Shape::BadToml { .. }) {
            return Err("not lines of text (JSON, XML or TOML)".to_owned());
        }
        let first = contents.trim_start_matches('\u{feff}').lines().next();
        if first.is_some_and(|l| l.starts_with(HEADER))
            || contents.lines().any(|l| l.trim_end() == "DISTRIBUTIONS")
        {
            Ok(())
        } else {
            Err("no `# carton snapshot format` header or `DISTRIBUTIONS` line".to_owned())
        }
    }

    fn conventional_name(&self, name: &str) -> bool {
        name == "cpanfile.snapshot"
    }

    fn read(&self, path: &Path, contents: &str) -> Result<ExpectedInventory, SourceError> {
        let file = path.display().to_string();
        let invalid = |line: usize, message: String| SourceError::Invalid {
            file: file.clone(),
            place: Some(format!("line {line}")),
            message,
        };
        let mut components: Vec<ExpectedComponent> = Vec::new();
        let mut in_distributions = false;
        let mut seen_distributions = false;
        for (index, raw) in contents.lines().enumerate() {
            let line = index + 1;
            let text = raw.trim_end_matches('\r');
            if text.trim().is_empty() || text.starts_with('#') {
                continue;
            }
            if ["<<<<<<<", "=======", ">>>>>>>"]
                .iter()
                .any(|m| text.starts_with(m))
            {
                return Err(invalid(line, "a merge conflict marker".to_owned()));
            }
            let indent = text.len() - text.trim_start_matches(' ').len();
            match indent {
                0 => {
                    in_distributions = text == "DISTRIBUTIONS";
                    seen_distributions |= in_distributions;
                }
                2 if in_distributions => {
                    let distvname = text.trim();
                    let (name, version) = split_distvname(distvname).ok_or_else(|| {
                        invalid(line, format!("`{distvname}` is not `Name-Version`"))
                    })?;
                    components.push(ExpectedComponent {
                        ecosystem: Some(Ecosystem::Cpan),
                        raw_name: name.to_owned(),
                        name: PackageName::new(Ecosystem::Cpan, name),
                        purl: None,
                        version: if version.is_empty() {
                            ExpectedVersion::Unspecified
                        } else {
                            ExpectedVersion::Exact(version.to_owned())
                        },
                        hashes: Vec::new(),
                        licenses: Vec::new(),
                        marker: None,
                        location: SourceLocation {
                            file: file.clone(),
                            line: Some(line),
                            path: None,
                        },
                    });
                }
                _ if in_distributions && indent > 2 => {
                    let Some(pathname) = text.trim().strip_prefix("pathname:") else {
                        continue;
                    };
                    let Some(last) = components.last_mut() else {
                        return Err(invalid(line, "a `pathname` before any distribution".into()));
                    };
                    if matches!(last.version, ExpectedVersion::Unspecified)
                        && let Some((_, version)) = pathname_distvname(pathname.trim())
                            .as_deref()
                            .and_then(split_distvname)
                            .filter(|(name, v)| *name == last.raw_name && !v.is_empty())
                    {
                        last.version = ExpectedVersion::Exact(version.to_owned());
                    }
                }
                _ => {
                    return Err(invalid(
                        line,
                        format!(
                            "unexpected indentation of {indent} spaces: `{}`",
                            text.trim()
                        ),
                    ));
                }
            }
        }
        if !seen_distributions {
            return Err(SourceError::Invalid {
                file,
                place: None,
                message: "no `DISTRIBUTIONS` section".to_owned(),
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

/// `libwww-perl-6.68` → (`libwww-perl`, `6.68`); a name without a version part is the name
/// with an empty version; `None` for text that holds no name.
pub(crate) fn split_distvname(distvname: &str) -> Option<(&str, &str)> {
    if distvname.is_empty() || distvname.contains(char::is_whitespace) {
        return None;
    }
    let at = distvname.char_indices().rev().find_map(|(at, c)| {
        let rest = &distvname[at + 1..];
        let digits = rest.strip_prefix(['v', 'V']).unwrap_or(rest);
        (c == '-' && digits.starts_with(|c: char| c.is_ascii_digit())).then_some(at)
    });
    match at {
        Some(0) => None,
        Some(at) => Some((&distvname[..at], &distvname[at + 1..])),
        None => Some((distvname, "")),
    }
}

/// `S/SR/SRI/Mojolicious-9.31.tar.gz` → `Mojolicious-9.31`.
fn pathname_distvname(pathname: &str) -> Option<String> {
    let file = pathname.rsplit('/').next()?;
    [".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SNAPSHOT: &str = "# carton snapshot format: version 1.0\n\
        DISTRIBUTIONS\n\
        \x20 Mojolicious-9.31\n\
        \x20   pathname: S/SR/SRI/Mojolicious-9.31.tar.gz\n\
        \x20   provides:\n\
        \x20     Mojo undef\n\
        \x20     Mojo::Base 9.31\n\
        \x20   requirements:\n\
        \x20     ExtUtils::MakeMaker 0\n\
        \x20     perl 5.016\n\
        \x20 libwww-perl-6.68\n\
        \x20   pathname: O/OA/OALDERS/libwww-perl-6.68.tar.gz\n\
        \x20   provides:\n\
        \x20     LWP 6.68\n\
        \x20 IO-Socket-SSL-2.081\n\
        \x20   pathname: S/SU/SULLR/IO-Socket-SSL-2.081.tar.gz\n\
        \x20 version-v0.9929\n";

    #[test]
    fn reads_each_pinned_distribution() {
        assert_eq!(
            CpanfileSnapshot.fits(&Shape::of(SNAPSHOT), SNAPSHOT),
            Ok(())
        );
        let inventory = CpanfileSnapshot
            .read(Path::new("cpanfile.snapshot"), SNAPSHOT)
            .unwrap();
        let got: Vec<(&str, Option<&str>, Option<usize>)> = inventory
            .components
            .iter()
            .map(|c| (c.raw_name.as_str(), c.version.exact(), c.location.line))
            .collect();
        assert_eq!(
            got,
            [
                ("Mojolicious", Some("9.31"), Some(3)),
                ("libwww-perl", Some("6.68"), Some(11)),
                ("IO-Socket-SSL", Some("2.081"), Some(15)),
                ("version", Some("v0.9929"), Some(17)),
            ]
        );
        assert!(
            inventory
                .components
                .iter()
                .all(|c| c.ecosystem == Some(Ecosystem::Cpan))
        );
    }

    #[test]
    fn other_files_do_not_fit_and_bad_lines_are_named() {
        let requirements = "requests==2.31.0\n";
        assert!(
            CpanfileSnapshot
                .fits(&Shape::of(requirements), requirements)
                .is_err()
        );
        let conflicted = "DISTRIBUTIONS\n  Moo-2.0\n<<<<<<< HEAD\n  Moo-2.1\n";
        let err = CpanfileSnapshot
            .read(Path::new("cpanfile.snapshot"), conflicted)
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 3") && err.contains("conflict"), "{err}");
        let err = CpanfileSnapshot
            .read(Path::new("s"), "DISTRIBUTIONS\n -1.0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2"), "{err}");
        let err = CpanfileSnapshot
            .read(Path::new("s"), "DISTRIBUTIONS\n  -1.0\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && err.contains("`-1.0`"), "{err}");
    }

    #[test]
    fn a_header_without_a_version_takes_the_pathnames() {
        let text = "DISTRIBUTIONS\n  Foo\n    pathname: A/AB/ABC/Foo-1.2.tar.gz\n";
        let inventory = CpanfileSnapshot.read(Path::new("s"), text).unwrap();
        assert_eq!(inventory.components[0].version.exact(), Some("1.2"));
    }

    #[test]
    fn distvnames_split_at_the_last_dash_before_a_digit() {
        assert_eq!(split_distvname("Net-HTTP-6.22"), Some(("Net-HTTP", "6.22")));
        assert_eq!(split_distvname("Foo-Bar2-1.0"), Some(("Foo-Bar2", "1.0")));
        assert_eq!(split_distvname("perl-5.36.0"), Some(("perl", "5.36.0")));
        assert_eq!(split_distvname("Foo"), Some(("Foo", "")));
        assert_eq!(split_distvname("-1"), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn hostile_snapshots_never_panic(
            text in "\\PC{0,300}",
            changes in proptest::collection::vec((any::<prop::sample::Index>(), "[ \\n:<=>/.a-z0-9-]{0,6}"), 0..6),
        ) {
            let _ = CpanfileSnapshot.read(Path::new("s"), &text);
            let mut damaged = SNAPSHOT.to_owned();
            for (at, insert) in changes {
                let at = at.index(damaged.len() + 1);
                damaged.insert_str(at, &insert);
            }
            let _ = CpanfileSnapshot.fits(&Shape::of(&damaged), &damaged);
            let _ = CpanfileSnapshot.read(Path::new("s"), &damaged);
        }
    }
}
