//! Modules that a native extension creates without a file of its own — Cython's
//! `cython_runtime` and its `_cython_3_x_y` ABI module, which every Cython-compiled extension
//! adds to `sys.modules` — attributed to the distribution of a loaded extension whose binary
//! names them, instead of being reported as unknown code.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use runbom_model::inventory::InstalledDistribution;

/// An extension larger than this is not searched (Python extensions are a few MB; a bigger file
/// is read only up to here).
const LARGEST_READ: u64 = 64 * 1024 * 1024;

/// The loaded extensions of one process, their binaries read on the first question.
pub(super) struct LoadedExtensions<'o, 'd> {
    extensions: Vec<(&'o Path, &'d InstalledDistribution)>,
    binaries: HashMap<PathBuf, Option<Vec<u8>>>,
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
        Self {
            extensions,
            binaries: HashMap::new(),
        }
    }

    /// The distribution of the first loaded extension whose binary holds `module` as a whole C
    /// string (`\0name\0`), as Cython's generated code does for the modules it creates. Dunder
    /// names (`__main__` of a `-c` program) are named by every extension and made by none.
    pub(super) fn creator_of(&mut self, module: &str) -> Option<&'d InstalledDistribution> {
        if self.extensions.is_empty() || module.contains('.') || module.starts_with("__") {
            return None;
        }
        let needle = [b"\0", module.as_bytes(), b"\0"].concat();
        let binaries = &mut self.binaries;
        self.extensions.iter().find_map(|(file, owner)| {
            let binary = binaries
                .entry(file.to_path_buf())
                .or_insert_with(|| read_bounded(file));
            binary
                .as_deref()
                .is_some_and(|bytes| memchr::memmem::find(bytes, &needle).is_some())
                .then_some(*owner)
        })
    }
}

/// The file's bytes, or `None` when it cannot be read now (the report then keeps the module
/// unowned, as before; the owner of the extension itself is still known from RECORD).
fn read_bounded(file: &Path) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    File::open(file)
        .and_then(|f| f.take(LARGEST_READ).read_to_end(&mut bytes))
        .ok()?;
    Some(bytes)
}
