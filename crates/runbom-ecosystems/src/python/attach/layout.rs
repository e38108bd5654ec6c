//! Where CPython keeps what `runbom attach` reads, per minor version (x86-64 and other LP64
//! targets, default non-debug, GIL builds): the offsets from `_PyRuntime` to the main
//! interpreter and from it to `sys.modules`, and the shapes of `dict`, `str` and friends.
//! 3.13 and later say their own offsets in `_Py_DebugOffsets` at the start of `_PyRuntime`
//! (cookie `xdebugpy`), which is read and preferred; 3.8–3.12 come from this table, derived from
//! each version's `Include/internal/pycore_runtime.h`/`pycore_interp.h` and checked against a
//! live interpreter of each version by `crates/runbom/tests/attach.rs`. Traps: 3.11 moved the
//! interpreter list by one field, 3.12 moved `modules` into `interp->imports`, 3.11 changed the
//! dict keys object (log2 sizes, `dk_kind`, entries without hashes), 3.12 dropped `wstr` from
//! `str` objects (16 bytes shorter headers).

use super::AttachError;
use crate::process::Memory;

/// The offsets one CPython minor version needs read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub minor: u32,
    /// `_PyRuntime.interpreters.head`.
    pub interpreters_head: u64,
    /// `PyInterpreterState.modules` (3.12+: `.imports.modules`).
    pub interp_modules: u64,
    /// `PyDictObject.ma_keys` and `.ma_values`.
    pub dict_keys: u64,
    pub dict_values: u64,
    pub keys: KeysLayout,
    /// `sizeof(PyASCIIObject)`: where a compact ASCII string's characters start.
    pub ascii_size: u64,
    /// `sizeof(PyCompactUnicodeObject)`: where a compact non-ASCII string's characters start.
    pub compact_size: u64,
    /// `PyUnicodeObject.state`, `.length`.
    pub str_state: u64,
    pub str_length: u64,
    /// `PyTypeObject.tp_name`.
    pub tp_name: u64,
    /// `PyListObject.ob_item`, `PyVarObject.ob_size`; a tuple's items follow its header.
    pub list_items: u64,
    pub var_size: u64,
    pub tuple_items: u64,
}

/// `PyDictKeysObject`, before and after 3.11.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysLayout {
    /// 3.8–3.10: `dk_refcnt, dk_size, dk_lookup, dk_usable, dk_nentries, dk_indices[]`;
    /// entries of `(hash, key, value)` after `dk_size` indices of 1, 2, 4 or 8 bytes.
    Sized,
    /// 3.11+: `dk_refcnt, u8 dk_log2_size, u8 dk_log2_index_bytes, u8 dk_kind, u32 dk_version,
    /// dk_usable, dk_nentries, dk_indices[]`; entries of `(key, value)` for `str`-keyed dicts
    /// (`dk_kind` 1, 2) or `(hash, key, value)` (`dk_kind` 0).
    Log2,
}

/// The minor versions read (3.8–3.13), by minor.
pub const SUPPORTED: std::ops::RangeInclusive<u32> = 8..=13;

/// The layout of CPython 3.`minor` from the table (3.8–3.12), or for 3.13+ from the
/// `_Py_DebugOffsets` at `runtime`.
pub fn layout(minor: u32, memory: &dyn Memory, runtime: u64) -> Result<Layout, AttachError> {
    let table = |interpreters_head, interp_modules, ascii_size, compact_size, keys| Layout {
        minor,
        interpreters_head,
        interp_modules,
        dict_keys: 32,
        dict_values: 40,
        keys,
        ascii_size,
        compact_size,
        str_state: 32,
        str_length: 16,
        tp_name: 24,
        list_items: 24,
        var_size: 16,
        tuple_items: 24,
    };
    match minor {
        8 => Ok(table(32, 56, 48, 72, KeysLayout::Sized)),
        9 | 10 => Ok(table(32, 856, 48, 72, KeysLayout::Sized)),
        11 => Ok(table(40, 888, 48, 72, KeysLayout::Log2)),
        12 => Ok(table(40, 944, 40, 56, KeysLayout::Log2)),
        13 => debug_offsets(minor, memory, runtime),
        _ => Err(AttachError::Unsupported {
            version: format!("3.{minor}"),
        }),
    }
}

/// `_Py_DebugOffsets` of 3.13 (`Include/internal/pycore_runtime.h`): a cookie, the version, then
/// groups of `u64` offsets, each group led by its struct's size.
const DEBUG_COOKIE: &[u8; 8] = b"xdebugpy";
const DEBUG_SIZE: usize = 584;

fn debug_offsets(minor: u32, memory: &dyn Memory, runtime: u64) -> Result<Layout, AttachError> {
    let bytes = memory.read_vec(runtime, DEBUG_SIZE)?;
    if &bytes[..8] != DEBUG_COOKIE {
        return Err(AttachError::Layout(
            "`_PyRuntime` does not start with the `_Py_DebugOffsets` cookie".into(),
        ));
    }
    let at = |offset: usize| -> u64 {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[offset..offset + 8]);
        u64::from_le_bytes(word)
    };
    let version = at(8);
    if (version >> 24) != 3 || ((version >> 16) & 0xff) as u32 != minor {
        return Err(AttachError::Layout(format!(
            "`_Py_DebugOffsets` says version {version:#x}, not 3.{minor}"
        )));
    }
    if at(16) != 0 {
        return Err(AttachError::Unsupported {
            version: format!("3.{minor} free-threaded"),
        });
    }
    let layout = Layout {
        minor,
        interpreters_head: at(40),
        interp_modules: at(88),
        tp_name: at(376),
        tuple_items: at(408),
        var_size: at(440),
        list_items: at(432),
        dict_keys: at(456),
        dict_values: at(464),
        keys: KeysLayout::Log2,
        str_state: at(544),
        str_length: at(552),
        ascii_size: at(560),
        // `PyCompactUnicodeObject` adds `utf8_length` and `utf8` to `PyASCIIObject`.
        compact_size: at(560) + 16,
    };
    let sane = [
        layout.interpreters_head,
        layout.interp_modules,
        layout.tp_name,
        layout.dict_keys,
        layout.ascii_size,
    ]
    .iter()
    .all(|&o| o > 0 && o < 1 << 20);
    if !sane {
        return Err(AttachError::Layout(
            "`_Py_DebugOffsets` holds offsets out of range".into(),
        ));
    }
    Ok(layout)
}
