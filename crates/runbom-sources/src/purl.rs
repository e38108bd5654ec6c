//! PURL parsing shared by the SBOM readers: the ecosystem and name a PURL names.

use packageurl::PackageUrl;
use runbom_model::{Ecosystem, PackageName};

/// Ecosystem, name as written and version of a PURL, or `None` if it does not parse.
pub(crate) fn parse(purl: &str) -> Option<(Option<Ecosystem>, String, Option<String>)> {
    let parsed: PackageUrl<'_> = purl.parse().ok()?;
    let ecosystem = match parsed.ty() {
        "pypi" => Some(Ecosystem::PyPi),
        "golang" => Some(Ecosystem::Go),
        "gem" => Some(Ecosystem::RubyGems),
        "npm" => Some(Ecosystem::Npm),
        "cargo" => Some(Ecosystem::CratesIo),
        "cpan" => Some(Ecosystem::Cpan),
        // Tcl has no PURL type yet: runbom writes `pkg:generic/tcl/NAME@VERSION`.
        "generic" if parsed.namespace() == Some("tcl") => Some(Ecosystem::Tcl),
        _ => None,
    };
    let name = match parsed.namespace() {
        Some(_) if ecosystem == Some(Ecosystem::Tcl) => parsed.name().to_owned(),
        Some(ns) if ecosystem != Some(Ecosystem::PyPi) => format!("{ns}/{}", parsed.name()),
        _ => parsed.name().to_owned(),
    };
    Some((ecosystem, name, parsed.version().map(str::to_owned)))
}

/// A `pkg:pypi/…@…` PURL for a PyPI package, built with the `packageurl` crate.
pub(crate) fn pypi(name: &PackageName, version: Option<&str>) -> Option<String> {
    let mut purl = PackageUrl::new("pypi", name.as_str()).ok()?;
    if let Some(version) = version {
        let _ = purl.with_version(version.to_owned());
    }
    Some(purl.to_string())
}

/// The normalised name: for the ecosystem when known, else as written.
pub(crate) fn normalise(ecosystem: Option<Ecosystem>, raw: &str) -> PackageName {
    match ecosystem {
        Some(e) => PackageName::new(e, raw),
        None => PackageName::new(Ecosystem::Go, raw),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generic_purl_in_the_tcl_namespace_is_tcl() {
        assert_eq!(
            parse("pkg:generic/tcl/struct::list@1.8.5"),
            Some((
                Some(Ecosystem::Tcl),
                "struct::list".to_owned(),
                Some("1.8.5".to_owned())
            ))
        );
        assert_eq!(parse("pkg:generic/openssl@3").map(|p| p.0), Some(None));
    }
}
