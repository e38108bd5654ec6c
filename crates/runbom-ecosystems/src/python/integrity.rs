//! Installed files against RECORD, read from disk: every RECORD-listed file with a sha256 is
//! hashed again, every file inside a distribution's package directories is looked up in the
//! RECORDs of the environment, and `direct_url.json` archive hashes are collected.
//!
//! Traps: `__pycache__/*.pyc` files are rewritten by Python whenever a source's mtime changes,
//! so they are neither hashed nor reported as unlisted (their sources are). The site directory
//! itself and `bin/` are shared by every distribution and are not walked.

use std::collections::HashSet;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine;
use runbom_model::expected::ComponentHash;
use runbom_model::integrity::{ArchiveHashes, ChangedFile, IntegrityScan, UnlistedFile};
use runbom_model::inventory::{InstalledDistribution, Inventory, MetadataFormat};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::zipped;

/// Hashes and walks the installed files of every active distribution of `inventory`.
pub fn scan(inventory: &Inventory) -> IntegrityScan {
    let listed: HashSet<&Path> = inventory
        .distributions
        .iter()
        .flat_map(|d| d.files.iter().map(|f| f.path.as_path()))
        .collect();
    let mut scan = IntegrityScan::default();
    let mut walked = HashSet::new();
    for dist in inventory.active() {
        hash_listed_files(dist, &mut scan);
        for dir in package_dirs(dist) {
            if walked.insert(dir.clone()) {
                walk_unlisted(dist, &dir, &listed, &mut scan.unlisted);
            }
        }
        if let Some(archive) = archive_hashes(dist) {
            scan.archives.push(archive);
        }
    }
    scan.changed.sort_by(|a, b| a.path.cmp(&b.path));
    scan.unlisted.sort_by(|a, b| a.path.cmp(&b.path));
    scan
}

/// The lower-case hex sha256 of a RECORD hash (`sha256=<urlsafe base64, no padding>`).
pub fn record_sha256_hex(record_hash: &str) -> Option<String> {
    let encoded = record_hash.strip_prefix("sha256=")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .ok()?;
    Some(hex::encode(bytes))
}

/// The lower-case hex sha256 of a file's bytes, or of a member's of a zip archive on `sys.path`
/// (`app.pyz/pkg/mod.py`).
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = match fs::File::open(path) {
        Ok(file) => file,
        Err(err) => {
            let (archive, member) = zipped::split_member(path).ok_or(err)?;
            return Ok(hex::encode(Sha256::digest(zipped::read_member(
                archive, &member,
            )?)));
        }
    };
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hex::encode(hasher.finalize()))
}

fn is_bytecode(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "__pycache__")
        || path.extension().is_some_and(|e| e == "pyc")
}

fn hash_listed_files(dist: &InstalledDistribution, scan: &mut IntegrityScan) {
    for file in &dist.files {
        let Some(recorded) = file.hash.as_deref().and_then(record_sha256_hex) else {
            continue;
        };
        if is_bytecode(&file.path) {
            continue;
        }
        // A listed file that is gone cannot run; it is not a changed file.
        let Ok(sha256) = sha256_file(&file.path) else {
            continue;
        };
        scan.files_hashed += 1;
        if sha256 != recorded {
            scan.changed.push(ChangedFile {
                distribution: dist.normalized_name.clone(),
                version: dist.version.clone(),
                path: file.path.clone(),
                sha256,
                recorded,
            });
        }
    }
}

/// The top-level directories under the site directory that hold this distribution's files
/// (its packages and its `.dist-info`), never the site directory itself or `bin/`.
fn package_dirs(dist: &InstalledDistribution) -> Vec<PathBuf> {
    if dist.format != MetadataFormat::DistInfo {
        return Vec::new();
    }
    let mut dirs: Vec<PathBuf> = dist
        .files
        .iter()
        .filter_map(|f| f.path.strip_prefix(&dist.location).ok())
        .filter(|relative| relative.components().count() > 1)
        .filter_map(|relative| relative.components().next())
        .map(|top| dist.location.join(top))
        .filter(|dir| dir.is_dir())
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}

fn walk_unlisted(
    dist: &InstalledDistribution,
    dir: &Path,
    listed: &HashSet<&Path>,
    into: &mut Vec<UnlistedFile>,
) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if entry.file_name() != "__pycache__" {
                walk_unlisted(dist, &path, listed, into);
            }
        } else if !listed.contains(path.as_path()) && !is_bytecode(&path) {
            into.push(UnlistedFile {
                distribution: dist.normalized_name.clone(),
                version: dist.version.clone(),
                sha256: sha256_file(&path).ok(),
                path,
            });
        }
    }
}

#[derive(Deserialize)]
struct DirectUrl {
    url: String,
    archive_info: Option<ArchiveInfo>,
}

#[derive(Deserialize)]
struct ArchiveInfo {
    /// PEP 610: `{"sha256": "<hex>", …}`.
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    /// Deprecated single `<alg>=<hex>`.
    hash: Option<String>,
}

/// The archive hashes `direct_url.json` (PEP 610 `archive_info`) kept for `dist`, if any.
pub fn archive_hashes(dist: &InstalledDistribution) -> Option<ArchiveHashes> {
    let text = fs::read_to_string(dist.metadata_path.join("direct_url.json")).ok()?;
    let direct: DirectUrl = serde_json::from_str(&text).ok()?;
    let info = direct.archive_info?;
    let mut hashes: Vec<ComponentHash> = info
        .hashes
        .iter()
        .map(|(alg, hex)| ComponentHash::new(alg, hex))
        .collect();
    if let Some((alg, hex)) = info.hash.as_deref().and_then(|h| h.split_once('='))
        && !hashes.iter().any(|h| h.hex == hex.to_ascii_lowercase())
    {
        hashes.push(ComponentHash::new(alg, hex));
    }
    (!hashes.is_empty()).then(|| ArchiveHashes {
        distribution: dist.normalized_name.clone(),
        version: dist.version.clone(),
        url: direct.url,
        hashes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::read_inventory;
    use runbom_model::inventory::Interpreter;

    #[test]
    fn record_hash_decodes_to_hex() {
        // sha256 of the empty string.
        assert_eq!(
            record_sha256_hex("sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU").as_deref(),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert_eq!(record_sha256_hex("md5=abc"), None);
    }

    /// A site directory with one distribution `demo 1.0` whose RECORD lists `demo/__init__.py`.
    fn site(dir: &Path, init: &[u8], archive: Option<&str>) -> Inventory {
        let site = dir.join("site-packages");
        fs::create_dir_all(site.join("demo/__pycache__")).unwrap();
        fs::create_dir_all(site.join("demo-1.0.dist-info")).unwrap();
        fs::write(site.join("demo/__init__.py"), init).unwrap();
        fs::write(site.join("demo/__pycache__/__init__.cpython-311.pyc"), b"x").unwrap();
        fs::write(
            site.join("demo-1.0.dist-info/METADATA"),
            "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        )
        .unwrap();
        // sha256 of `print('hi')\n`.
        let record = "demo/__init__.py,sha256=yvAm8l1xQCCfmAcmBTB6Q4kUuc5vPBSyPRXZZnJB3lI,12\n\
                      demo-1.0.dist-info/METADATA,,\ndemo-1.0.dist-info/RECORD,,\n";
        let mut record = record.to_owned();
        if let Some(json) = archive {
            fs::write(site.join("demo-1.0.dist-info/direct_url.json"), json).unwrap();
            record.push_str("demo-1.0.dist-info/direct_url.json,,\n");
        }
        fs::write(site.join("demo-1.0.dist-info/RECORD"), record).unwrap();
        let interpreter = Interpreter {
            executable: dir.join("python"),
            implementation: "cpython".into(),
            version: "3.11.7".into(),
            prefix: dir.to_owned(),
            base_prefix: dir.to_owned(),
            sys_path: vec![site],
            user_site: None,
            is_venv: true,
        };
        read_inventory(&interpreter, &[])
    }

    #[test]
    fn untouched_files_give_a_clean_scan() {
        let dir = tempfile::tempdir().unwrap();
        let inventory = site(dir.path(), b"print('hi')\n", None);
        let scan = scan(&inventory);
        assert_eq!(scan.files_hashed, 1);
        assert!(scan.changed.is_empty(), "{scan:?}");
        assert!(scan.unlisted.is_empty(), "{scan:?}");
    }

    #[test]
    fn one_changed_byte_and_one_planted_file_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let inventory = site(dir.path(), b"print('hI')\n", None);
        fs::write(dir.path().join("site-packages/demo/evil.py"), b"x=1").unwrap();
        let scan = scan(&inventory);
        assert_eq!(scan.changed.len(), 1, "{scan:?}");
        assert_eq!(
            scan.changed[0].recorded,
            "caf026f25d7140209f98072605307a438914b9ce6f3c14b23d15d9667241de52"
        );
        assert!(scan.changed[0].path.ends_with("demo/__init__.py"));
        assert_eq!(scan.unlisted.len(), 1, "{scan:?}");
        assert!(scan.unlisted[0].path.ends_with("demo/evil.py"));
        assert_eq!(scan.unlisted[0].distribution.as_str(), "demo");
    }

    #[test]
    fn archive_hashes_come_from_direct_url_json() {
        let dir = tempfile::tempdir().unwrap();
        let json = r#"{"url": "file:///w/demo-1.0-py3-none-any.whl",
                       "archive_info": {"hashes": {"sha256": "AB12"}, "hash": "sha256=ab12"}}"#;
        let inventory = site(dir.path(), b"print('hi')\n", Some(json));
        let scan = scan(&inventory);
        assert_eq!(scan.archives.len(), 1);
        assert_eq!(
            scan.archives[0].hashes,
            [ComponentHash::new("sha256", "ab12")]
        );
    }
}
