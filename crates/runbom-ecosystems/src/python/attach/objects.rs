//! CPython objects read out of another process's memory: `dict`, `str`, `list`, `tuple`,
//! `frozenset` and modules, each checked by its type's name before its fields are trusted. The
//! target owns these bytes: every length is bounded, every pointer is read through [`Memory`]
//! (which refuses what is not mapped and counts what it read), and a structure that does not add
//! up is refused with [`AttachError::Layout`] rather than guessed at.

use std::cell::RefCell;
use std::collections::HashMap;

use super::AttachError;
use super::layout::{KeysLayout, Layout};
use crate::process::Memory;

/// At most this many entries of one dict, items of one list, tuple or set.
pub const MAX_ITEMS: u64 = 1 << 16;
/// At most this many characters of one string (module names, paths).
pub const MAX_STR: u64 = 1 << 16;
/// How many bytes of a string are read at first: its header and most names and paths at once.
const STR_PREFETCH: usize = 256;

/// Reads CPython objects of one layout from one memory.
pub struct Objects<'m> {
    memory: &'m dyn Memory,
    layout: Layout,
    /// Type object address -> `tp_name`, read once each.
    type_names: RefCell<HashMap<u64, String>>,
    /// Interned key strings found so far: text -> address, for lookups by address.
    interned: RefCell<HashMap<&'static str, u64>>,
}

impl std::fmt::Debug for Objects<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Objects")
            .field("layout", &self.layout)
            .finish()
    }
}

impl<'m> Objects<'m> {
    pub fn new(memory: &'m dyn Memory, layout: Layout) -> Self {
        Self {
            memory,
            layout,
            type_names: RefCell::new(HashMap::new()),
            interned: RefCell::new(HashMap::new()),
        }
    }

    pub fn memory(&self) -> &dyn Memory {
        self.memory
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The `tp_name` of the object at `address`'s type.
    pub fn type_name(&self, address: u64) -> Result<String, AttachError> {
        let ty = self.memory.read_u64(checked(address)? + 8)?;
        self.name_of_type(ty)
    }

    /// The first `len` bytes of the object at `address` (its header and fields) and its type's
    /// name, in one read.
    fn header(&self, address: u64, len: usize) -> Result<(String, Vec<u8>), AttachError> {
        let bytes = self.memory.read_vec(checked(address)?, len.max(16))?;
        let name = self.name_of_type(word_at(&bytes, 8))?;
        Ok((name, bytes))
    }

    /// The `tp_name` of the type object at `ty`, read once per type.
    fn name_of_type(&self, ty: u64) -> Result<String, AttachError> {
        if let Some(name) = self.type_names.borrow().get(&ty) {
            return Ok(name.clone());
        }
        let name_ptr = self.memory.read_u64(checked(ty)? + self.layout.tp_name)?;
        let name = self.c_string(name_ptr, 64)?;
        self.type_names.borrow_mut().insert(ty, name.clone());
        Ok(name)
    }

    /// Whether the object at `address` is of the type named `name` (exactly: subclasses are not).
    pub fn is(&self, address: u64, name: &str) -> Result<bool, AttachError> {
        Ok(self.type_name(address)? == name)
    }

    /// A NUL-terminated string of at most `max` bytes.
    fn c_string(&self, address: u64, max: usize) -> Result<String, AttachError> {
        if address == 0 || address >= 1 << 56 {
            return Err(AttachError::Layout(format!(
                "{address:#x} is not a string pointer"
            )));
        }
        let bytes = self.read_prefix(address, max)?;
        let end = bytes.iter().position(|&b| b == 0).ok_or_else(|| {
            AttachError::Layout(format!("type name at {address:#x} does not end"))
        })?;
        String::from_utf8(bytes[..end].to_vec())
            .map_err(|_| AttachError::Layout(format!("type name at {address:#x} is not UTF-8")))
    }

    /// Up to `len` bytes at `address`: all of them, or as many as are mapped before a page end.
    fn read_prefix(&self, address: u64, len: usize) -> Result<Vec<u8>, AttachError> {
        match self.memory.read_vec(address, len) {
            Ok(bytes) => Ok(bytes),
            Err(crate::process::MemoryError::Unreadable { .. }) => {
                let to_page_end = (0x1000 - (address % 0x1000)) as usize;
                Ok(self.memory.read_vec(address, len.min(to_page_end))?)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// The text of the `str` at `address` (compact strings: every string Python 3.8+ makes).
    pub fn string(&self, address: u64) -> Result<String, AttachError> {
        match self.try_string(address)? {
            Some(text) => Ok(text),
            None => Err(AttachError::Layout(format!(
                "expected a `str` at {address:#x}, found a `{}`",
                self.type_name(address)?
            ))),
        }
    }

    /// The text of the object at `address` when it is a `str`; `None` when it is another type.
    pub fn try_string(&self, address: u64) -> Result<Option<String>, AttachError> {
        let head = self.read_prefix(checked(address)?, STR_PREFETCH)?;
        if head.len() < 16 || self.name_of_type(word_at(&head, 8))? != "str" {
            return Ok(None);
        }
        let layout = &self.layout;
        let word = |offset: u64, size: usize| -> Result<u64, AttachError> {
            let offset = offset as usize;
            let bytes = head.get(offset..offset + size).ok_or_else(|| {
                AttachError::Layout(format!("`str` at {address:#x} is cut short"))
            })?;
            let mut value = [0u8; 8];
            value[..size].copy_from_slice(bytes);
            Ok(u64::from_le_bytes(value))
        };
        let length = word(layout.str_length, 8)?;
        let state = word(layout.str_state, 4)?;
        let kind = (state >> 2) & 0b111;
        let compact = state & (1 << 5) != 0;
        let ascii = state & (1 << 6) != 0;
        if length > MAX_STR {
            return Err(AttachError::Layout(format!(
                "`str` at {address:#x} claims {length} characters"
            )));
        }
        if !compact {
            return Err(AttachError::Layout(format!(
                "`str` at {address:#x} is not compact"
            )));
        }
        let (start, width) = match (ascii, kind) {
            (true, 1) => (layout.ascii_size, 1),
            (false, 1) => (layout.compact_size, 1),
            (false, 2) => (layout.compact_size, 2),
            (false, 4) => (layout.compact_size, 4),
            _ => {
                return Err(AttachError::Layout(format!(
                    "`str` at {address:#x} has kind {kind}"
                )));
            }
        };
        let len = (length * width) as usize;
        let data = match head.get(start as usize..start as usize + len) {
            Some(data) => data.to_vec(),
            None => self.memory.read_vec(address + start, len)?,
        };
        decode(&data, width).map(Some).ok_or_else(|| {
            AttachError::Layout(format!("`str` at {address:#x} holds an invalid character"))
        })
    }

    /// The `(key, value)` addresses of the `dict` at `address`, in insertion order.
    pub fn dict_items(&self, address: u64) -> Result<Vec<(u64, u64)>, AttachError> {
        let layout = &self.layout;
        let (name, head) = self.header(address, layout.dict_values as usize + 8)?;
        if name != "dict" {
            return Err(AttachError::Layout(format!(
                "expected a `dict` at {address:#x}, found a `{name}`"
            )));
        }
        let keys = word_at(&head, layout.dict_keys as usize);
        let values = word_at(&head, layout.dict_values as usize);
        if values != 0 {
            return Err(AttachError::Layout(format!(
                "`dict` at {address:#x} is split (its values apart from its keys)"
            )));
        }
        let header = self.memory.read_vec(checked(keys)?, 40)?;
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&header[at..at + 8]);
            u64::from_le_bytes(b)
        };
        let (entries_at, entry_size, nentries, with_hash) = match layout.keys {
            KeysLayout::Sized => {
                let size = word(8);
                if size > MAX_ITEMS * 2 || !size.is_power_of_two() {
                    return Err(AttachError::Layout(format!(
                        "`dict` keys at {keys:#x} claim size {size}"
                    )));
                }
                let index_bytes = match size {
                    0..=0xff => 1,
                    0x100..=0xffff => 2,
                    _ => 4,
                };
                (keys + 40 + size * index_bytes, 24, word(32), true)
            }
            KeysLayout::Log2 => {
                let log2_size = u64::from(header[8]);
                let log2_index_bytes = u64::from(header[9]);
                let kind = header[10];
                if log2_size > 20 || log2_index_bytes > 24 || kind > 2 {
                    return Err(AttachError::Layout(format!(
                        "`dict` keys at {keys:#x} are not a keys object"
                    )));
                }
                let general = kind == 0;
                (
                    keys + 32 + (1 << log2_index_bytes),
                    if general { 24 } else { 16 },
                    word(24),
                    general,
                )
            }
        };
        if nentries > MAX_ITEMS {
            return Err(AttachError::Layout(format!(
                "`dict` at {address:#x} claims {nentries} entries"
            )));
        }
        let bytes = self
            .memory
            .read_vec(entries_at, (nentries * entry_size) as usize)?;
        let mut items = Vec::with_capacity(nentries as usize);
        for entry in bytes.chunks_exact(entry_size as usize) {
            let word = |at: usize| {
                let mut b = [0u8; 8];
                b.copy_from_slice(&entry[at..at + 8]);
                u64::from_le_bytes(b)
            };
            let (key, value) = if with_hash {
                (word(8), word(16))
            } else {
                (word(0), word(8))
            };
            if key != 0 && value != 0 {
                items.push((key, value));
            }
        }
        Ok(items)
    }

    /// The value of the `dict` at `address` under the `str` key `name`. Once the key was found
    /// by its text it is looked for by address only: CPython interns attribute names and the keys
    /// `PyDict_SetItemString` sets, so every namespace's `__file__` is the same object (a key
    /// equal to it but made otherwise is missed: the module is then reported without a file).
    pub fn dict_get(&self, address: u64, name: &'static str) -> Result<Option<u64>, AttachError> {
        let items = self.dict_items(address)?;
        if let Some(&known) = self.interned.borrow().get(name) {
            return Ok(items.iter().find(|(k, _)| *k == known).map(|&(_, v)| v));
        }
        for (key, value) in items {
            if self.try_string(key)?.as_deref() == Some(name) {
                self.interned.borrow_mut().insert(name, key);
                return Ok(Some(value));
            }
        }
        Ok(None)
    }

    /// The items of the `list` or `tuple` at `address`.
    pub fn sequence(&self, address: u64) -> Result<Vec<u64>, AttachError> {
        let layout = &self.layout;
        let size = self.memory.read_u64(address + layout.var_size)?;
        if size > MAX_ITEMS {
            return Err(AttachError::Layout(format!(
                "sequence at {address:#x} claims {size} items"
            )));
        }
        let items_at = match self.type_name(address)?.as_str() {
            "list" => self.memory.read_u64(address + layout.list_items)?,
            "tuple" => address + layout.tuple_items,
            other => {
                return Err(AttachError::Layout(format!(
                    "expected a `list` or `tuple` at {address:#x}, found a `{other}`"
                )));
            }
        };
        if size == 0 {
            return Ok(Vec::new());
        }
        let bytes = self
            .memory
            .read_vec(checked(items_at)?, (size * 8) as usize)?;
        Ok(words(&bytes))
    }

    /// The items of the `set` or `frozenset` at `address` (`PySetObject`: fill, used, mask,
    /// table at 16, 24, 32, 40; entries of `(key, hash)`).
    pub fn set_items(&self, address: u64) -> Result<Vec<u64>, AttachError> {
        let name = self.type_name(address)?;
        if name != "frozenset" && name != "set" {
            return Err(AttachError::Layout(format!(
                "expected a `frozenset` at {address:#x}, found a `{name}`"
            )));
        }
        let header = self.memory.read_vec(address + 16, 32)?;
        let mask = words(&header[16..24])[0];
        let table = words(&header[24..32])[0];
        if mask >= MAX_ITEMS * 4 || !(mask + 1).is_power_of_two() {
            return Err(AttachError::Layout(format!(
                "set at {address:#x} claims mask {mask}"
            )));
        }
        let bytes = self
            .memory
            .read_vec(checked(table)?, ((mask + 1) * 16) as usize)?;
        // An empty slot is NULL; a deleted one is the `dummy` object, which is no `str`.
        Ok(bytes
            .chunks_exact(16)
            .map(|entry| words(&entry[..8])[0])
            .filter(|&key| key != 0)
            .collect())
    }

    /// Every `str` item of a sequence or set, skipping what is not a `str`.
    pub fn strings(&self, items: &[u64]) -> Result<Vec<String>, AttachError> {
        let mut out = Vec::new();
        for &item in items {
            if let Some(text) = self.try_string(item)? {
                out.push(text);
            }
        }
        Ok(out)
    }

    /// The `str` value of `module`'s attribute `name`, when its namespace holds a `str` there.
    pub fn module_str(
        &self,
        module: u64,
        name: &'static str,
    ) -> Result<Option<String>, AttachError> {
        let Some(dict) = self.module_dict(module)? else {
            return Err(AttachError::Layout(format!(
                "expected a `module` at {module:#x}"
            )));
        };
        let Some(value) = self.dict_get(dict, name)? else {
            return Ok(None);
        };
        self.try_string(value)
    }

    /// The namespace (`md_dict`) of the object at `address` when it is a module, in one read.
    pub fn module_dict(&self, address: u64) -> Result<Option<u64>, AttachError> {
        let (name, head) = self.header(address, 24)?;
        Ok((name == "module").then(|| word_at(&head, 16)))
    }
}

/// A pointer that may be followed: not NULL, aligned, in the user half of the address space.
fn checked(address: u64) -> Result<u64, AttachError> {
    if address == 0 || !address.is_multiple_of(8) || address >= 1 << 56 {
        return Err(AttachError::Layout(format!(
            "{address:#x} is not an object pointer"
        )));
    }
    Ok(address)
}

/// The little-endian word at `at` of `bytes` (which the caller read at least that long).
fn word_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    if let Some(src) = bytes.get(at..at + 8) {
        word.copy_from_slice(src);
    }
    u64::from_le_bytes(word)
}

fn words(bytes: &[u8]) -> Vec<u64> {
    bytes
        .chunks_exact(8)
        .map(|w| {
            let mut b = [0u8; 8];
            b.copy_from_slice(w);
            u64::from_le_bytes(b)
        })
        .collect()
}

/// Latin-1 (1 byte), UCS-2 or UCS-4 characters as text.
fn decode(data: &[u8], width: u64) -> Option<String> {
    match width {
        1 => Some(data.iter().map(|&b| char::from(b)).collect()),
        2 => data
            .chunks_exact(2)
            .map(|c| char::from_u32(u32::from(u16::from_le_bytes([c[0], c[1]]))))
            .collect(),
        _ => data
            .chunks_exact(4)
            .map(|c| char::from_u32(u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect(),
    }
}
