//! `go.sum` beside a `go.mod`: the checksum of each module version's source (`h1:` + base64 of
//! Go's dirhash), which `go build` verified and the linker records in the binary's build
//! information. Lines ending `/go.mod` are the checksum of that version's go.mod alone, which the
//! binary does not record; they are read and left out.

use std::collections::HashMap;
use std::path::Path;

use runbom_model::expected::ComponentHash;

use crate::SourceError;

/// Each module version's source checksum in the go.sum text `contents` of `file`.
pub fn read(
    file: &Path,
    contents: &str,
) -> Result<HashMap<(String, String), ComponentHash>, SourceError> {
    let mut sums = HashMap::new();
    for (index, line) in contents.lines().enumerate() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [path, version, sum] = words[..] else {
            if words.is_empty() {
                continue;
            }
            return Err(SourceError::Invalid {
                file: file.display().to_string(),
                place: Some(format!("line {}", index + 1)),
                message: format!("expected `module version h1:checksum`, found `{line}`"),
            });
        };
        if version.ends_with("/go.mod") {
            continue;
        }
        sums.insert(
            (path.to_owned(), version.to_owned()),
            ComponentHash::go_sum(sum),
        );
    }
    Ok(sums)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_source_checksums_and_leaves_out_go_mod_ones() {
        // esbuild v0.20.2's go.sum.
        let text = "golang.org/x/sys v0.0.0-20220715151400-c0bba94af5f8 h1:0A+M6Uqn+Eje4kHMK80dtF3JCXC4ykBgQG4Fe06QRhQ=\n\
            golang.org/x/sys v0.0.0-20220715151400-c0bba94af5f8/go.mod h1:oPkhp1MJrh7nUepCBck5+mAzfO9JrbApNNgaTdGDITg=\n";
        let sums = read(Path::new("go.sum"), text).unwrap();
        assert_eq!(sums.len(), 1);
        let key = (
            "golang.org/x/sys".to_owned(),
            "v0.0.0-20220715151400-c0bba94af5f8".to_owned(),
        );
        assert_eq!(
            sums[&key].hex,
            "h1:0A+M6Uqn+Eje4kHMK80dtF3JCXC4ykBgQG4Fe06QRhQ="
        );
    }

    #[test]
    fn a_bad_line_is_named() {
        let err = read(Path::new("go.sum"), "\nexample.com/a v1.0.0\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
