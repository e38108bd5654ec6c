//! sha256 of loaded files (and of members of zip archives, by the archive's `stat`), remembered across runs by what `stat` says of each file (device,
//! inode, size, mtime and ctime in nanoseconds): a program started again hashes only the files
//! that changed since. ctime cannot be set back by a user, so a file rewritten in place with its
//! old size and mtime still misses the cache. Kept as one text file in runbom's cache directory,
//! rewritten whole (temporary file + rename) when it gained entries; a damaged cache is ignored.

use std::collections::HashMap;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::integrity::sha256_file;
use super::zipped;

const HEADER: &str = "runbom-hashes/1";
/// Entries kept at most; beyond it, the ones not used by this process are dropped on save.
const MAX_ENTRIES: usize = 200_000;

/// What identifies one content of one file without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stat {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Stat {
    fn of(meta: &fs::Metadata) -> Self {
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    stat: Stat,
    sha256: String,
    used: bool,
}

/// The remembered entries, keyed by the bytes of each path: hashing bytes with foldhash, not a
/// `Path`'s components with SipHash, keeps reading ~1,000 entries and looking up every loaded
/// file off `runbom run`'s time after the program exits.
type Entries = HashMap<Box<[u8]>, Entry, foldhash::fast::RandomState>;

/// Remembered hashes; `None` file: remembered for this process only.
#[derive(Debug, Default)]
pub struct HashCache {
    file: Option<PathBuf>,
    entries: Mutex<Entries>,
    gained: Mutex<bool>,
}

impl HashCache {
    /// The cache kept in `dir` (`hashes-v1.tsv`), or an empty one when it cannot be read.
    pub fn open(dir: Option<&Path>) -> Self {
        let file = dir.map(|d| d.join("hashes-v1.tsv"));
        let entries = file
            .as_deref()
            .and_then(|f| fs::read_to_string(f).ok())
            .map(|text| parse(&text))
            .unwrap_or_default();
        Self {
            file,
            entries: Mutex::new(entries),
            gained: Mutex::new(false),
        }
    }

    /// The sha256 (lower-case hex) of `path`: remembered when its `stat` is unchanged, else read.
    pub fn sha256(&self, path: &Path) -> std::io::Result<String> {
        let stat = Stat::of(&zipped::metadata_of(path)?);
        let key = path.as_os_str().as_bytes();
        if let Ok(mut entries) = self.entries.lock()
            && let Some(entry) = entries.get_mut(key)
            && entry.stat == stat
        {
            entry.used = true;
            return Ok(entry.sha256.clone());
        }
        let sha256 = sha256_file(path)?;
        // A file changed while it was read is not remembered.
        if zipped::metadata_of(path).is_ok_and(|m| Stat::of(&m) == stat)
            && let Ok(mut entries) = self.entries.lock()
        {
            let entry = Entry {
                stat,
                sha256: sha256.clone(),
                used: true,
            };
            entries.insert(key.into(), entry);
            if let Ok(mut gained) = self.gained.lock() {
                *gained = true;
            }
        }
        Ok(sha256)
    }

    /// Writes the cache back when it gained entries since it was read or last saved; failures
    /// only cost the next run time.
    pub fn save(&self) {
        let gained = self
            .gained
            .lock()
            .map(|mut g| std::mem::take(&mut *g))
            .unwrap_or(false);
        let (Some(file), true) = (&self.file, gained) else {
            return;
        };
        let Ok(entries) = self.entries.lock() else {
            return;
        };
        let keep_unused = entries.len() <= MAX_ENTRIES;
        let mut text = format!("{HEADER}\n");
        for (path, entry) in entries.iter().filter(|(_, e)| keep_unused || e.used) {
            let Some(path) = std::str::from_utf8(path)
                .ok()
                .filter(|p| !p.contains(['\t', '\n']))
            else {
                continue;
            };
            let s = entry.stat;
            text.push_str(&format!(
                "{}\t{}\t{}\t{}\t{}\t{}\t{path}\n",
                s.dev, s.ino, s.size, s.mtime_ns, s.ctime_ns, entry.sha256
            ));
        }
        let _ = crate::cache::write_atomically(file, text.as_bytes());
    }
}

/// The entries of a cache file; a file without the header, or a malformed line, yields nothing
/// of it.
fn parse(text: &str) -> Entries {
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Entries::default();
    }
    lines.filter_map(parse_line).collect()
}

fn parse_line(line: &str) -> Option<(Box<[u8]>, Entry)> {
    let mut fields = line.splitn(7, '\t');
    let mut number = || fields.next()?.parse::<i128>().ok();
    let (dev, ino, size, mtime_ns, ctime_ns) =
        (number()?, number()?, number()?, number()?, number()?);
    let sha256 = fields.next()?;
    let path = fields.next()?;
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let stat = Stat {
        dev: u64::try_from(dev).ok()?,
        ino: u64::try_from(ino).ok()?,
        size: u64::try_from(size).ok()?,
        mtime_ns,
        ctime_ns,
    };
    let entry = Entry {
        stat,
        sha256: sha256.to_owned(),
        used: false,
    };
    Some((path.as_bytes().into(), entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_a_hash_until_the_file_changes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("m.py");
        fs::write(&file, "x = 1\n").unwrap();
        let cache_dir = dir.path().join("cache");
        let first = HashCache::open(Some(&cache_dir));
        let hash = first.sha256(&file).unwrap();
        assert_eq!(hash, sha256_file(&file).unwrap());
        first.save();

        let second = HashCache::open(Some(&cache_dir));
        assert_eq!(second.entries.lock().unwrap().len(), 1, "read back");
        assert_eq!(second.sha256(&file).unwrap(), hash);
        // Same size, rewritten: ctime moves, so the content is read again.
        std::thread::sleep(std::time::Duration::from_millis(10));
        fs::write(&file, "x = 2\n").unwrap();
        assert_eq!(second.sha256(&file).unwrap(), sha256_file(&file).unwrap());
        assert_ne!(second.sha256(&file).unwrap(), hash);
    }

    #[test]
    fn a_damaged_cache_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("hashes-v1.tsv"), "garbage\n1\t2").unwrap();
        assert!(
            HashCache::open(Some(dir.path()))
                .entries
                .lock()
                .unwrap()
                .is_empty()
        );
        let text = format!(
            "{HEADER}\n1\t2\t3\t4\t5\tnothex\t/x\n1\t2\t3\t4\t5\t{}\t/y\n",
            "a".repeat(64)
        );
        assert_eq!(parse(&text).len(), 1);
    }
}
