//! Both Go parsers fed hostile bytes: arbitrary ones, and a real Go binary (Debian's `gofmt`,
//! when present) with bytes changed where the build information and the function table start,
//! or cut short anywhere. Any answer is fine but a panic or a hang.

use std::sync::OnceLock;

use object::{Object, ObjectSection};
use proptest::prelude::*;

use super::{buildinfo, symbols};

/// A real Go binary and where its build information and function table start.
fn real_binary() -> Option<&'static (Vec<u8>, usize, usize)> {
    static BINARY: OnceLock<Option<(Vec<u8>, usize, usize)>> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let bytes = std::fs::read("/usr/lib/go/bin/gofmt").ok()?;
            let file = object::File::parse(&*bytes).ok()?;
            let offset = |name: &str| {
                let (start, _) = file.section_by_name(name)?.file_range()?;
                usize::try_from(start).ok()
            };
            let (info, table) = (offset(".go.buildinfo")?, offset(".gopclntab")?);
            Some((bytes, info, table))
        })
        .as_ref()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = buildinfo::read(&bytes[..]);
        let _ = symbols::function_names(&bytes[..]);
    }

    #[test]
    fn a_damaged_real_binary_never_panics(
        changes in proptest::collection::vec((0usize..1024, any::<u8>()), 1..8),
        in_table in any::<bool>(),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let Some((bytes, info, table)) = real_binary() else { return Ok(()) };
        let mut bytes = bytes.clone();
        let start = if in_table { *table } else { *info };
        for (at, value) in changes {
            if let Some(byte) = bytes.get_mut(start + at) {
                *byte = value;
            }
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        let _ = buildinfo::read(&bytes[..]);
        let _ = symbols::function_names(&bytes[..]);
    }
}

#[test]
fn the_real_binary_reads() {
    let Some((bytes, _, _)) = real_binary() else {
        eprintln!("skipped: no /usr/lib/go/bin/gofmt");
        return;
    };
    let info = buildinfo::read(&bytes[..]).expect("gofmt's build info");
    assert!(info.go_version.starts_with("go1."));
    let names = symbols::function_names(&bytes[..]).expect("gofmt's functions");
    assert!(
        names
            .binary_search_by(|n| n.as_str().cmp("main.main"))
            .is_ok(),
        "{} names",
        names.len()
    );
    assert!(
        symbols::has_symbol(&names, "go/format", "Source")
            || symbols::has_package(&names, "go/printer")
    );
}
