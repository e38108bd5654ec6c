//! Python code inside zip archives on `sys.path`: zipapps (`pip install --target app` then
//! `python -m zipapp app`), shiv- and pex-style bundles, zipped eggs. zipimport names a module's
//! file `app.pyz/pkg/mod.py`, a path whose archive part is a file: this module splits such
//! paths, lists the `*.dist-info` an archive carries, and reads its members.
//!
//! Traps: a zipapp starts with a `#!` line before the zip data, so an archive is recognised by
//! its central directory, not by its first bytes. The archive is the target's or a stranger's:
//! every member read is bounded in size.

use std::fs;
use std::io::Read;
use std::path::Path;

/// The most runbom reads of one member (a METADATA, a RECORD, a module's source to hash).
const MAX_MEMBER_BYTES: u64 = 64 << 20;

/// A `*.dist-info` directory inside an archive, with the texts runbom reads of it.
#[derive(Debug)]
pub(super) struct ZippedDistInfo {
    /// The directory's name, e.g. `pyflakes-3.2.0.dist-info`.
    pub name: String,
    pub metadata: std::io::Result<String>,
    pub record: Option<String>,
    pub top_level: Option<String>,
    pub installer: Option<String>,
}

/// Whether `path` is a zip archive Python can import from (a regular file with a readable
/// central directory).
pub(super) fn is_archive(path: &Path) -> bool {
    path.is_file()
        && fs::File::open(path)
            .ok()
            .is_some_and(|file| zip::ZipArchive::new(file).is_ok())
}

/// `app.pyz/pkg/mod.py` -> (`app.pyz`, `pkg/mod.py`) when an ancestor of `path` is a regular
/// file; `None` for a path that is not inside one.
pub fn split_member(path: &Path) -> Option<(&Path, String)> {
    let archive = path.ancestors().skip(1).find(|a| a.is_file())?;
    let member = path.strip_prefix(archive).ok()?.to_str()?.to_owned();
    (!member.is_empty()).then_some((archive, member))
}

/// The metadata of `path`, or, for a member of an archive, of the archive (which changes
/// whenever a member does).
pub fn metadata_of(path: &Path) -> std::io::Result<fs::Metadata> {
    fs::metadata(path).or_else(|err| match split_member(path) {
        Some((archive, _)) => fs::metadata(archive),
        None => Err(err),
    })
}

/// The bytes of `member` of `archive`, at most [`MAX_MEMBER_BYTES`].
pub fn read_member(archive: &Path, member: &str) -> std::io::Result<Vec<u8>> {
    let mut zip = zip::ZipArchive::new(fs::File::open(archive)?).map_err(invalid)?;
    let entry = zip.by_name(member).map_err(invalid)?;
    if entry.size() > MAX_MEMBER_BYTES {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{member} is larger than {MAX_MEMBER_BYTES} bytes"),
        ));
    }
    let mut bytes = Vec::new();
    entry.take(MAX_MEMBER_BYTES).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Every top-level `*.dist-info` of `archive` with its METADATA, RECORD, `top_level.txt` and
/// INSTALLER; an error naming why the archive cannot be read at all.
pub(super) fn dist_infos(archive: &Path) -> Result<Vec<ZippedDistInfo>, String> {
    let file = fs::File::open(archive).map_err(|err| format!("cannot open: {err}"))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|err| format!("not a zip archive: {err}"))?;
    let mut names: Vec<String> = zip
        .file_names()
        .filter_map(|name| name.strip_suffix("/METADATA"))
        .filter(|dir| dir.ends_with(".dist-info") && !dir.contains('/'))
        .map(str::to_owned)
        .collect();
    names.sort();
    let mut text = |member: String| -> std::io::Result<String> {
        let entry = zip.by_name(&member).map_err(invalid)?;
        let mut bytes = Vec::new();
        entry.take(MAX_MEMBER_BYTES).read_to_end(&mut bytes)?;
        Ok(String::from_utf8(bytes)
            .unwrap_or_else(|err| String::from_utf8_lossy(err.as_bytes()).into_owned()))
    };
    Ok(names
        .into_iter()
        .map(|name| ZippedDistInfo {
            metadata: text(format!("{name}/METADATA")),
            record: text(format!("{name}/RECORD")).ok(),
            top_level: text(format!("{name}/top_level.txt")).ok(),
            installer: text(format!("{name}/INSTALLER")).ok(),
            name,
        })
        .collect())
}

fn invalid(err: zip::result::ZipError) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, err.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::PathBuf;

    fn zipapp(dir: &Path) -> PathBuf {
        let path = dir.join("app.pyz");
        let mut out = fs::File::create(&path).unwrap();
        out.write_all(b"#!/usr/bin/env python3\n").unwrap();
        let mut zip = zip::ZipWriter::new(out);
        let options = zip::write::SimpleFileOptions::default();
        for (name, body) in [
            ("__main__.py", "import demo\n"),
            ("demo/__init__.py", "X = 1\n"),
            ("demo-1.0.dist-info/METADATA", "Name: demo\nVersion: 1.0\n"),
            ("demo-1.0.dist-info/RECORD", "demo/__init__.py,,\n"),
            ("nested/other-2.0.dist-info/METADATA", "Name: other\n"),
        ] {
            zip.start_file(name, options).unwrap();
            zip.write_all(body.as_bytes()).unwrap();
        }
        zip.finish().unwrap();
        path
    }

    #[test]
    fn a_zipapp_with_a_shebang_is_an_archive_and_its_members_are_split_and_read() {
        let tmp = tempfile::tempdir().unwrap();
        let app = zipapp(tmp.path());
        assert!(is_archive(&app));
        assert!(!is_archive(tmp.path()));
        let module = app.join("demo/__init__.py");
        let (archive, member) = split_member(&module).unwrap();
        assert_eq!(
            (archive, member.as_str()),
            (app.as_path(), "demo/__init__.py")
        );
        assert_eq!(read_member(archive, &member).unwrap(), b"X = 1\n");
        assert!(read_member(archive, "demo/missing.py").is_err());
        assert_eq!(
            metadata_of(&module).unwrap().len(),
            fs::metadata(&app).unwrap().len()
        );
        assert!(split_member(&tmp.path().join("plain/file.py")).is_none());
    }

    #[test]
    fn only_top_level_dist_infos_are_listed() {
        let tmp = tempfile::tempdir().unwrap();
        let infos = dist_infos(&zipapp(tmp.path())).unwrap();
        assert_eq!(infos.len(), 1);
        assert_eq!(infos[0].name, "demo-1.0.dist-info");
        assert_eq!(
            infos[0].metadata.as_deref().unwrap(),
            "Name: demo\nVersion: 1.0\n"
        );
        assert!(infos[0].top_level.is_none());
        let broken = tmp.path().join("broken.pyz");
        fs::write(&broken, b"PK\x03\x04 not really").unwrap();
        assert!(
            dist_infos(&broken)
                .unwrap_err()
                .starts_with("not a zip archive")
        );
    }
}
