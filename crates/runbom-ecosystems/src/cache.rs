//! runbom's cache directory, shared by every language: interpreter answers, the hook's compiled
//! copy, file hashes. Everything in it can be deleted at any time; it is only ever a shortcut.

use std::fs;
use std::path::{Path, PathBuf};

/// `$RUNBOM_CACHE_DIR`, else `$XDG_CACHE_HOME/runbom`, else `~/.cache/runbom`; `None` when
/// `RUNBOM_NO_CACHE=1` or no home is known.
pub fn cache_root() -> Option<PathBuf> {
    if std::env::var_os("RUNBOM_NO_CACHE").is_some_and(|v| !v.is_empty() && v != "0") {
        return None;
    }
    std::env::var_os("RUNBOM_CACHE_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("runbom")))
        .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/runbom")))
}

/// Writes `bytes` to `file` through a temporary file renamed into place, so that a reader never
/// sees half of it (making the directory first).
pub fn write_atomically(file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = file.parent() {
        fs::create_dir_all(dir)?;
    }
    let temp = file.with_extension(format!("tmp{}", std::process::id()));
    fs::write(&temp, bytes)?;
    fs::rename(&temp, file).inspect_err(|_| {
        let _ = fs::remove_file(&temp);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_atomic_write_makes_its_directory_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a/b/answer.txt");
        write_atomically(&file, b"one").expect("written");
        write_atomically(&file, b"two").expect("written again");
        assert_eq!(fs::read(&file).expect("read"), b"two");
        let names: Vec<_> = fs::read_dir(file.parent().expect("dir"))
            .expect("listed")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["answer.txt"]);
    }
}
