//! `go/binary`: a Go binary read as an expected inventory — typically the previous release's, to
//! verify that the new one runs the same dependencies. Its main module and standard library are
//! expected at any version (a new release has a new main version and may have a new toolchain);
//! every dependency at the exact version (after `replace`) the old binary was linked with, and
//! with the source checksum (`h1:…`) it recorded.

use std::path::Path;

use runbom_model::Ecosystem;
use runbom_model::expected::{
    ComponentHash, ExpectedComponent, ExpectedInventory, ExpectedVersion, SourceLocation,
};

use super::binary::purl;
use super::buildinfo::{BuildInfo, FileError, read_file};

/// The stable name of this reader, as `--expected-format` takes it.
pub const FORMAT: &str = "go/binary";

/// The expected inventory the Go binary at `path` gives.
pub fn read_expected(path: &Path) -> Result<ExpectedInventory, FileError> {
    Ok(expected_inventory(path, &read_file(path)?))
}

/// The expected inventory of `info`, read from the binary at `path`.
pub fn expected_inventory(path: &Path, info: &BuildInfo) -> ExpectedInventory {
    let file = path.display().to_string();
    let component = |name: &str, version: ExpectedVersion, place: String| {
        let location = SourceLocation {
            file: file.clone(),
            line: None,
            path: Some(place),
        };
        let purl = version.exact().map(|v| purl(name, v));
        ExpectedComponent {
            purl,
            ..ExpectedComponent::new(Ecosystem::Go, name, version, location)
        }
    };
    let mut components = Vec::new();
    if let Some(main) = &info.main {
        components.push(component(
            &main.path,
            ExpectedVersion::Unspecified,
            format!("mod {}", main.path),
        ));
    }
    components.push(component(
        "stdlib",
        ExpectedVersion::Unspecified,
        "go version".to_owned(),
    ));
    for dep in &info.deps {
        let linked = dep.effective();
        let mut expected = component(
            &linked.path,
            ExpectedVersion::Exact(linked.version.clone()),
            format!("dep {}", dep.path),
        );
        if !linked.sum.is_empty() {
            expected.hashes.push(ComponentHash::go_sum(&linked.sum));
        }
        components.push(expected);
    }
    ExpectedInventory {
        format: FORMAT.to_owned(),
        source: file,
        components,
        checksum_file: None,
        lists_unbuilt: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::go::buildinfo::parse_modinfo;

    #[test]
    fn dependencies_are_expected_at_the_version_linked_and_the_rest_at_any() {
        let info = parse_modinfo(
            "path\texample.com/app\n\
             mod\texample.com/app\tv1.4.0\t\n\
             dep\tgolang.org/x/net\tv0.7.0\th1:abc=\n\
             dep\tgolang.org/x/text\tv0.3.7\n\
             =>\tgolang.org/x/text\tv0.3.8\th1:def=\n",
        )
        .expect("modinfo");
        let inventory = expected_inventory(Path::new("app-1.4.0"), &info);
        let got: Vec<(&str, &ExpectedVersion, Option<&str>)> = inventory
            .components
            .iter()
            .map(|c| (c.name.as_str(), &c.version, c.location.path.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "example.com/app",
                    &ExpectedVersion::Unspecified,
                    Some("mod example.com/app")
                ),
                ("stdlib", &ExpectedVersion::Unspecified, Some("go version")),
                (
                    "golang.org/x/net",
                    &ExpectedVersion::Exact("v0.7.0".into()),
                    Some("dep golang.org/x/net")
                ),
                (
                    "golang.org/x/text",
                    &ExpectedVersion::Exact("v0.3.8".into()),
                    Some("dep golang.org/x/text")
                ),
            ]
        );
        assert_eq!(
            inventory.components[2].purl.as_deref(),
            Some("pkg:golang/golang.org/x/net@v0.7.0")
        );
        assert_eq!(inventory.format, "go/binary");
    }
}
