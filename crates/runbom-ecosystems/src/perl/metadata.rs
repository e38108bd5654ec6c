//! The small files that say which Perl distribution is installed where: ExtUtils::Install's
//! `.packlist` (one installed file a line), `perllocal.pod` (one `=head2` entry per install),
//! CPAN::Meta's `META.json`/`MYMETA.json` and cpanm's `install.json`, a module's `$VERSION`
//! line, and Debian's package database (`status` stanzas, `*.list` files, the DEP-5 `copyright`
//! file's `Upstream-Name`).
//!
//! Traps:
//! - A `.packlist` line may carry `key=value` options after the path (`/usr/bin/foo type=file`,
//!   `from=… type=link`); a path with spaces is still one path, so only trailing words that look
//!   like `key=value` are options.
//! - `$VERSION` is code, not data: only the common literal forms are read (`our $VERSION =
//!   '1.23';`, `$VERSION = 1.23`, `package Foo 1.23;`, `version->declare('v1.2.3')`, `qv(…)`);
//!   anything computed is "no version".
//! - A Debian version is `[epoch:]upstream[-revision]`, and the upstream part often carries a
//!   repack suffix (`9.31+dfsg`) that CPAN never had.

use std::path::{Path, PathBuf};

use runbom_model::inventory::Problem;

/// The files a `.packlist` lists, and a problem for each line that is not one.
pub fn parse_packlist(path: &Path, text: &str) -> (Vec<PathBuf>, Vec<Problem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let mut words: Vec<&str> = line.split(' ').collect();
        while words.len() > 1 && words.last().is_some_and(|w| is_option(w)) {
            words.pop();
        }
        let file = words.join(" ");
        if !file.starts_with('/') || file.contains('\0') {
            problems.push(Problem {
                path: path.to_owned(),
                line: Some(index + 1),
                message: format!("not an absolute file path: `{}`", truncate(line)),
            });
            continue;
        }
        files.push(PathBuf::from(file));
    }
    (files, problems)
}

fn is_option(word: &str) -> bool {
    word.split_once('=')
        .is_some_and(|(key, _)| !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// One install `perllocal.pod` records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalInstall {
    /// The main module, e.g. `Mojolicious`.
    pub module: String,
    pub version: Option<String>,
    pub installed_into: Option<PathBuf>,
}

/// Every install `perllocal.pod` records, in file order (a later one of the same module is a
/// newer install). An entry without a module name is a problem naming its line.
pub fn parse_perllocal(path: &Path, text: &str) -> (Vec<LocalInstall>, Vec<Problem>) {
    let mut installs: Vec<LocalInstall> = Vec::new();
    let mut problems = Vec::new();
    let mut current: Option<LocalInstall> = None;
    for (index, line) in text.lines().enumerate() {
        if let Some(head) = line.strip_prefix("=head2 ") {
            installs.extend(current.take());
            // `=head2 Thu Jan  1 00:00:00 2024: C<Module> L<Foo::Bar|Foo::Bar>`
            match head
                .rsplit_once("L<")
                .and_then(|(_, link)| link.split(['|', '>']).next())
                .filter(|m| is_module_name(m))
            {
                Some(module) => {
                    current = Some(LocalInstall {
                        module: module.to_owned(),
                        version: None,
                        installed_into: None,
                    });
                }
                None => problems.push(Problem {
                    path: path.to_owned(),
                    line: Some(index + 1),
                    message: format!("no module named in `{}`", truncate(line)),
                }),
            }
        } else if let Some(install) = current.as_mut()
            && let Some(item) = line.trim().strip_prefix("C<")
            && let Some(item) = item.strip_suffix('>')
        {
            let item = item.trim_matches('"');
            if let Some(version) = item.strip_prefix("VERSION: ") {
                install.version = Some(version.trim().to_owned()).filter(|v| !v.is_empty());
            } else if let Some(dir) = item.strip_prefix("installed into: ") {
                install.installed_into = Some(PathBuf::from(dir.trim()));
            }
        }
    }
    installs.extend(current);
    (installs, problems)
}

/// Whether `name` is a Perl package name (`Foo::Bar_2`).
pub fn is_module_name(name: &str) -> bool {
    !name.is_empty()
        && name.split("::").all(|part| {
            part.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// What a `META.json`, `MYMETA.json` or cpanm `install.json` says of its distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistMeta {
    /// The distribution, e.g. `libwww-perl`.
    pub name: String,
    pub version: String,
    /// cpanm's `install.json`: the main module (`name`), when present.
    pub main_module: Option<String>,
    /// The licences as CPAN::Meta names them (`perl_5`), when present.
    pub license: Vec<String>,
}

/// A JSON metadata file that is not one.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("no `{0}` field")]
    Missing(&'static str),
}

impl MetaError {
    /// The line the JSON parser stopped at, when it did.
    pub fn line(&self) -> Option<usize> {
        match self {
            MetaError::Json(err) => Some(err.line()),
            MetaError::Missing(_) => None,
        }
    }
}

/// Reads a CPAN::Meta `META.json`/`MYMETA.json` (`name`, `version`, `license`) or a cpanm
/// `install.json` (`dist` = `Name-1.23`, `name` = main module, `version`).
pub fn parse_meta_json(bytes: &[u8]) -> Result<DistMeta, MetaError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)?;
    let text = |key: &str| {
        value.get(key).and_then(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let version = text("version").ok_or(MetaError::Missing("version"))?;
    let license = match value.get("license") {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        _ => Vec::new(),
    };
    if let Some(dist) = text("dist") {
        // install.json: `dist` is the distvname, `name` the main module.
        let name = dist
            .strip_suffix(&format!("-{version}"))
            .unwrap_or(&dist)
            .to_owned();
        return Ok(DistMeta {
            name,
            version,
            main_module: text("name"),
            license,
        });
    }
    let name = text("name").ok_or(MetaError::Missing("name"))?;
    Ok(DistMeta {
        name,
        version,
        main_module: None,
        license,
    })
}

/// The version a module file declares, read as ExtUtils::MakeMaker's `parse_version` finds it
/// (the first `$VERSION =` or `package NAME VERSION` outside POD), when it is a literal.
pub fn module_version(source: &str) -> Option<String> {
    let mut in_pod = false;
    for line in source.lines() {
        if line.starts_with('=') {
            in_pod = !line.starts_with("=cut");
            continue;
        }
        if in_pod || line.trim_start().starts_with('#') {
            continue;
        }
        if line.starts_with("__END__") || line.starts_with("__DATA__") {
            break;
        }
        if let Some(rest) = line.trim_start().strip_prefix("package ") {
            let mut words = rest.split_whitespace();
            let _name = words.next();
            if let Some(version) = words.next() {
                let version = version.trim_end_matches([';', '{']);
                if looks_like_version(version) {
                    return Some(version.to_owned());
                }
            }
            continue;
        }
        let Some(at) = line.find("VERSION") else {
            continue;
        };
        let before = &line[..at];
        if !(before.ends_with('$') || before.ends_with("::") || before.ends_with('\'')) {
            continue;
        }
        let after = &line[at + "VERSION".len()..];
        let Some(value) = after.trim_start().strip_prefix('=') else {
            continue;
        };
        if value.starts_with('=') || value.starts_with('~') {
            continue;
        }
        return literal_version(value);
    }
    None
}

/// The first quoted string or bare number of an assigned expression, inside
/// `version->declare(…)`/`qv(…)` too.
fn literal_version(expression: &str) -> Option<String> {
    let expression = expression.trim();
    let inner = [
        "version->declare(",
        "version->parse(",
        "version->new(",
        "qv(",
    ]
    .iter()
    .find_map(|prefix| expression.strip_prefix(prefix))
    .unwrap_or(expression)
    .trim_start();
    let quoted = inner
        .strip_prefix('\'')
        .map(|s| (s, '\''))
        .or_else(|| inner.strip_prefix('"').map(|s| (s, '"')))
        .or_else(|| inner.strip_prefix("q(").map(|s| (s, ')')))
        .or_else(|| inner.strip_prefix("q{").map(|s| (s, '}')));
    let version = match quoted {
        Some((rest, close)) => rest.split(close).next()?.trim(),
        None => inner
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
            .next()?,
    };
    looks_like_version(version).then(|| version.to_owned())
}

fn looks_like_version(version: &str) -> bool {
    let digits = version.strip_prefix('v').unwrap_or(version);
    digits.chars().next().is_some_and(|c| c.is_ascii_digit())
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
}

/// One package of Debian's `status` file that is installed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DpkgPackage {
    pub name: String,
    /// `Architecture`, to find `NAME:ARCH.list`.
    pub architecture: String,
    pub version: String,
}

/// The installed packages of a dpkg `status` file (stanzas whose `Status` ends in `installed`);
/// a stanza without `Package` or `Version` is a problem naming its first line.
pub fn parse_dpkg_status(path: &Path, text: &str) -> (Vec<DpkgPackage>, Vec<Problem>) {
    let mut packages = Vec::new();
    let mut problems = Vec::new();
    let mut start = 1;
    let mut fields: Vec<(&str, &str)> = Vec::new();
    let mut finish = |fields: &mut Vec<(&str, &str)>, start: usize| {
        if fields.is_empty() {
            return;
        }
        let get = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.trim())
        };
        let installed = get("Status").is_some_and(|s| s.ends_with(" installed"));
        match (get("Package"), get("Version")) {
            (Some(name), Some(version)) if installed => packages.push(DpkgPackage {
                name: name.to_owned(),
                architecture: get("Architecture").unwrap_or("all").to_owned(),
                version: version.to_owned(),
            }),
            (Some(_), _) if !installed => {}
            _ => problems.push(Problem {
                path: path.to_owned(),
                line: Some(start),
                message: "a package stanza without `Package` or `Version`".to_owned(),
            }),
        }
        fields.clear();
    };
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            finish(&mut fields, start);
            start = index + 2;
        } else if line.starts_with([' ', '\t']) {
            continue;
        } else if let Some((key, value)) = line.split_once(':') {
            fields.push((key, value));
        }
    }
    finish(&mut fields, start);
    (packages, problems)
}

/// The upstream part of a Debian version: `1:9.31+dfsg-1` → `9.31`.
pub fn debian_upstream_version(version: &str) -> &str {
    let version = version.split_once(':').map_or(version, |(_, rest)| rest);
    let version = version
        .rsplit_once('-')
        .map_or(version, |(upstream, _)| upstream);
    version
        .split(['+', '~'])
        .next()
        .filter(|v| !v.is_empty())
        .unwrap_or(version)
}

/// `Upstream-Name:` of a DEP-5 `copyright` file (Debian's name of the CPAN distribution).
pub fn upstream_name(copyright: &str) -> Option<&str> {
    copyright
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case("Upstream-Name")
                .then(|| value.trim())
                .filter(|v| !v.is_empty() && !v.contains(char::is_whitespace))
        })
}

fn truncate(line: &str) -> &str {
    match line.char_indices().nth(80) {
        Some((at, _)) => &line[..at],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packlist_keeps_paths_with_spaces_and_drops_options() {
        let text = "/usr/local/share/perl/5.36.0/Foo.pm\n\
                    /usr/local/bin/foo type=file\n\
                    /usr/local/bin/bar from=/usr/local/bin/foo type=link\n\
                    /opt/my dir/Bar.pm\n\
                    \n\
                    relative/Baz.pm\n";
        let (files, problems) = parse_packlist(Path::new("auto/Foo/.packlist"), text);
        assert_eq!(
            files,
            [
                "/usr/local/share/perl/5.36.0/Foo.pm",
                "/usr/local/bin/foo",
                "/usr/local/bin/bar",
                "/opt/my dir/Bar.pm"
            ]
            .map(PathBuf::from)
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(6));
        assert!(
            problems[0]
                .to_string()
                .starts_with("auto/Foo/.packlist:6: ")
        );
    }

    #[test]
    fn perllocal_entries_as_makemaker_writes_them() {
        let text = "=head2 Sun Dec  6 10:00:00 2026: C<Module> L<Try::Tiny|Try::Tiny>\n\n\
            =over 4\n\n=item *\n\nC<installed into: /usr/local/share/perl/5.36.0>\n\n\
            =item *\n\nC<LINKTYPE: dynamic>\n\n=item *\n\nC<VERSION: 0.31>\n\n=back\n\n\
            =head2 broken entry\n\n\
            =head2 Sun Dec  6 11:00:00 2026: C<Module> L<Moo|Moo>\n\nC<VERSION: 2.005005>\n";
        let (installs, problems) = parse_perllocal(Path::new("perllocal.pod"), text);
        assert_eq!(installs.len(), 2);
        assert_eq!(installs[0].module, "Try::Tiny");
        assert_eq!(installs[0].version.as_deref(), Some("0.31"));
        assert_eq!(
            installs[0].installed_into.as_deref(),
            Some(Path::new("/usr/local/share/perl/5.36.0"))
        );
        assert_eq!(installs[1].version.as_deref(), Some("2.005005"));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(19));
    }

    #[test]
    fn meta_json_and_cpanm_install_json() {
        let meta = br#"{"name": "libwww-perl", "version": "6.68", "license": ["perl_5"]}"#;
        let meta = parse_meta_json(meta).unwrap();
        assert_eq!(
            (meta.name.as_str(), meta.version.as_str()),
            ("libwww-perl", "6.68")
        );
        assert_eq!(meta.license, ["perl_5"]);
        let install = br#"{"name":"Mojolicious","dist":"Mojolicious-9.31","version":"9.31"}"#;
        let install = parse_meta_json(install).unwrap();
        assert_eq!(install.name, "Mojolicious");
        assert_eq!(install.main_module.as_deref(), Some("Mojolicious"));
        let err = parse_meta_json(b"{\n\"name\": ").unwrap_err();
        assert_eq!(err.line(), Some(2));
        assert!(matches!(
            parse_meta_json(br#"{"name": "x"}"#),
            Err(MetaError::Missing("version"))
        ));
    }

    #[test]
    fn module_versions_in_their_common_forms() {
        let cases = [
            ("package Foo;\nour $VERSION = '9.31';\n", Some("9.31")),
            ("$VERSION = \"6.68\";", Some("6.68")),
            ("our $VERSION = 1.23_01;", Some("1.23_01")),
            ("package Foo 0.004;", Some("0.004")),
            ("package Foo v1.2.3 {", Some("v1.2.3")),
            ("our $VERSION = version->declare('v2.0.1');", Some("v2.0.1")),
            ("$Foo::VERSION = qv(\"1.2.3\");", Some("1.2.3")),
            (
                "=head1 X\n\n$VERSION = '1';\n\n=cut\nour $VERSION = '2';",
                Some("2"),
            ),
            ("our $VERSION = $Other::VERSION;", None),
            ("if ($VERSION == 3) {}", None),
            ("no version here", None),
        ];
        for (source, expected) in cases {
            assert_eq!(module_version(source).as_deref(), expected, "{source}");
        }
    }

    #[test]
    fn dpkg_status_installed_packages_only() {
        let text = "Package: libwww-perl\nStatus: install ok installed\nArchitecture: all\n\
                    Version: 6.68-1\nDescription: x\n more\n\n\
                    Package: gone\nStatus: deinstall ok config-files\nVersion: 1\n\n\
                    Status: install ok installed\nVersion: 2\n";
        let (packages, problems) = parse_dpkg_status(Path::new("status"), text);
        assert_eq!(
            packages,
            [DpkgPackage {
                name: "libwww-perl".into(),
                architecture: "all".into(),
                version: "6.68-1".into()
            }]
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].line, Some(12));
    }

    #[test]
    fn debian_versions_and_upstream_names() {
        assert_eq!(debian_upstream_version("9.31+dfsg-1"), "9.31");
        assert_eq!(debian_upstream_version("1:2.3-4+deb12u1"), "2.3");
        assert_eq!(debian_upstream_version("20230309.004-1"), "20230309.004");
        assert_eq!(debian_upstream_version("1.0~rc1-2"), "1.0");
        let copyright = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\
                         Upstream-Name: Mojolicious\n\nFiles: *\n";
        assert_eq!(upstream_name(copyright), Some("Mojolicious"));
        assert_eq!(upstream_name("Files: *\nUpstream-Name: X\n"), Some("X"));
        assert_eq!(upstream_name("free text\n\nUpstream-Name: late\n"), None);
    }
}
