//! Modules that a native extension creates without a file of its own — Cython's
//! `cython_runtime` and its `_cython_3_x_y` ABI module, which every Cython-compiled extension
//! adds to `sys.modules` — attributed to the distribution of a loaded extension whose binary
//! names them, instead of being reported as unknown code.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use memchr::memmem::Finder;
use runbom_model::inventory::InstalledDistribution;

/// An extension is searched up to here (Python extensions are a few MB).
const LARGEST_READ: u64 = 64 * 1024 * 1024;
/// Extensions are read in blocks of this size into one buffer, not whole: a 5 MB extension
/// would otherwise cost 5 MB of fresh heap, page-faulted in after the program exited.
const BLOCK: usize = 256 * 1024;

/// The owned extension modules of one process.
pub(super) struct LoadedExtensions<'o, 'd> {
    extensions: Vec<(&'o Path, &'d InstalledDistribution)>,
}

impl<'o, 'd> LoadedExtensions<'o, 'd> {
    /// The owned extension modules (`.so`, `.pyd`) among a process's modules, in its order (the
    /// hook reports `sys.modules` in import order).
    pub(super) fn new(
        modules: &'o [(String, Option<PathBuf>)],
        owners_by_file: &HashMap<&str, &'d InstalledDistribution>,
    ) -> Self {
        let extensions = modules
            .iter()
            .filter_map(|(name, file)| {
                let file = file.as_deref()?;
                let native = file.extension().is_some_and(|e| e == "so" || e == "pyd");
                native.then_some((file, *owners_by_file.get(name.as_str())?))
            })
            .collect();
        Self { extensions }
    }

    /// Of `modules` (modules without a file that nothing else owns), each one the binary of a
    /// loaded extension holds as a whole C string (`\0name\0`, as Cython's generated code does
    /// for the modules it creates), with the distribution of the first such extension. Dotted
    /// names are no extension's creation and dunder names (`__main__` of a `-c` program) are
    /// named by every extension and made by none. Each binary is read at most once, in load
    /// order, until every name is attributed; one that cannot be read attributes nothing (its
    /// modules stay unowned, as before).
    pub(super) fn creators<'n>(
        &self,
        modules: &[&'n str],
    ) -> HashMap<&'n str, &'d InstalledDistribution> {
        let mut wanted: Vec<(&'n str, Finder<'static>)> = modules
            .iter()
            .filter(|m| !m.contains('.') && !m.starts_with("__"))
            .map(|&m| (m, whole_name(m)))
            .collect();
        let mut made = HashMap::new();
        let mut buffer = Vec::new();
        for (file, owner) in &self.extensions {
            if wanted.is_empty() {
                break;
            }
            let _ = search(file, &mut buffer, &mut wanted, |name| {
                made.insert(name, *owner);
            });
        }
        made
    }
}

/// Finds `name` as a whole C string.
fn whole_name(name: &str) -> Finder<'static> {
    Finder::new(&[b"\0", name.as_bytes(), b"\0"].concat()).into_owned()
}

/// Reads `file` block by block (each block after the first starting with the previous one's
/// last bytes, so that a name across two blocks is still whole), calling `found` for each of
/// `wanted` in it, which is then no longer wanted.
fn search<'n>(
    file: &Path,
    buffer: &mut Vec<u8>,
    wanted: &mut Vec<(&'n str, Finder<'static>)>,
    mut found: impl FnMut(&'n str),
) -> std::io::Result<()> {
    let longest = wanted
        .iter()
        .map(|(_, f)| f.needle().len())
        .max()
        .unwrap_or(0);
    let keep = longest.saturating_sub(1);
    let mut reader = File::open(file)?.take(LARGEST_READ);
    buffer.clear();
    loop {
        // Appends to what is kept of the last block, into capacity that is not zeroed again.
        if (&mut reader).take(BLOCK as u64).read_to_end(buffer)? == 0 {
            return Ok(());
        }
        wanted.retain(|(name, finder)| {
            let here = finder.find(buffer).is_some();
            if here {
                found(name);
            }
            !here
        });
        if wanted.is_empty() {
            return Ok(());
        }
        let tail = buffer.len().saturating_sub(keep);
        buffer.drain(..tail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_across_two_blocks_is_found_and_a_partial_name_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ext.so");
        let mut bytes = vec![b'x'; BLOCK - 5];
        bytes.extend_from_slice(b"\0cython_runtime\0");
        bytes.extend_from_slice(b"\0_cython_3_0\0 \0cython_runtime_not\0");
        std::fs::write(&file, &bytes).unwrap();
        let mut wanted: Vec<(&str, Finder<'static>)> = ["cython_runtime", "_cython_3_0", "runtime"]
            .iter()
            .map(|&m| (m, whole_name(m)))
            .collect();
        let mut found = Vec::new();
        search(&file, &mut Vec::new(), &mut wanted, |name| found.push(name)).unwrap();
        found.sort_unstable();
        assert_eq!(found, ["_cython_3_0", "cython_runtime"]);
        assert_eq!(wanted.len(), 1, "`runtime` is only part of a name");
    }
}
