//! The module-table reader on memory images: a small CPython runtime laid out by hand for each
//! layout (3.9's sized dict keys, 3.11's log2 keys, 3.13's debug offsets) must read back as
//! built, and the same images with bytes changed anywhere, cut short, or replaced by random bytes
//! must give an answer or an error — never a panic, never a walk without end.

use proptest::prelude::*;

use super::layout::{self, KeysLayout, Layout};
use super::{ModuleTable, SysAttributes, read_module_table};
use crate::process::ImageMemory;

const BASE: u64 = 0x10_0000;

/// A bump allocator of objects in one region, in the layout of one CPython version.
struct Image {
    bytes: Vec<u8>,
    layout: Layout,
    types: std::collections::HashMap<&'static str, u64>,
}

impl Image {
    fn new(layout: Layout) -> Self {
        let mut image = Self {
            bytes: Vec::new(),
            layout,
            types: Default::default(),
        };
        for name in ["str", "dict", "module", "list", "tuple", "frozenset"] {
            let text = image.alloc(name.len() + 1);
            image.put_bytes(text, name.as_bytes());
            let ty = image.alloc(64);
            image.put(ty + layout.tp_name, text);
            image.types.insert(name, ty);
        }
        image
    }

    fn alloc(&mut self, size: usize) -> u64 {
        let at = BASE + self.bytes.len() as u64;
        self.bytes
            .resize(self.bytes.len() + size.next_multiple_of(8), 0);
        at
    }

    fn put(&mut self, address: u64, value: u64) {
        self.put_bytes(address, &value.to_le_bytes());
    }

    fn put_bytes(&mut self, address: u64, bytes: &[u8]) {
        let at = (address - BASE) as usize;
        self.bytes[at..at + bytes.len()].copy_from_slice(bytes);
    }

    fn object(&mut self, ty: &str, size: usize) -> u64 {
        let at = self.alloc(size);
        self.put(at, 1);
        let ty = self.types[ty];
        self.put(at + 8, ty);
        at
    }

    fn str(&mut self, text: &str) -> u64 {
        let ascii = text.is_ascii();
        let start = if ascii {
            self.layout.ascii_size
        } else {
            self.layout.compact_size
        };
        let chars: Vec<u32> = text.chars().map(u32::from).collect();
        let wide = chars.iter().any(|&c| c > 0xff);
        let width = if wide { 4 } else { 1 };
        let at = self.object("str", start as usize + chars.len() * width + 4);
        self.put(at + self.layout.str_length, chars.len() as u64);
        let kind: u64 = if wide { 4 } else { 1 };
        let state = (kind << 2) | (1 << 5) | if ascii { 1 << 6 } else { 0 };
        self.put_bytes(at + self.layout.str_state, &(state as u32).to_le_bytes());
        for (i, c) in chars.iter().enumerate() {
            if wide {
                self.put_bytes(at + start + 4 * i as u64, &c.to_le_bytes());
            } else {
                self.put_bytes(at + start + i as u64, &[*c as u8]);
            }
        }
        at
    }

    fn dict(&mut self, items: &[(u64, u64)]) -> u64 {
        let n = items.len() as u64;
        let keys = match self.layout.keys {
            KeysLayout::Sized => {
                let keys = self.alloc((40 + 64 + 24 * n) as usize);
                self.put(keys + 8, 64);
                self.put(keys + 32, n);
                for (i, (k, v)) in items.iter().enumerate() {
                    let entry = keys + 40 + 64 + 24 * i as u64;
                    self.put(entry + 8, *k);
                    self.put(entry + 16, *v);
                }
                keys
            }
            KeysLayout::Log2 => {
                let keys = self.alloc((32 + 64 + 16 * n) as usize);
                self.put_bytes(keys + 8, &[6, 6, 1]);
                self.put(keys + 24, n);
                for (i, (k, v)) in items.iter().enumerate() {
                    let entry = keys + 32 + 64 + 16 * i as u64;
                    self.put(entry, *k);
                    self.put(entry + 8, *v);
                }
                keys
            }
        };
        let dict = self.object("dict", 48);
        self.put(dict + 16, n);
        self.put(dict + self.layout.dict_keys, keys);
        dict
    }

    fn module(&mut self, items: &[(u64, u64)]) -> u64 {
        let dict = self.dict(items);
        let module = self.object("module", 48);
        self.put(module + 16, dict);
        module
    }

    fn list(&mut self, ty: &str, items: &[u64]) -> u64 {
        let array = self.alloc(8 * items.len().max(1));
        for (i, item) in items.iter().enumerate() {
            self.put(array + 8 * i as u64, *item);
        }
        let list = match ty {
            "tuple" => {
                let tuple =
                    self.object("tuple", self.layout.tuple_items as usize + 8 * items.len());
                for (i, item) in items.iter().enumerate() {
                    self.put(tuple + self.layout.tuple_items + 8 * i as u64, *item);
                }
                tuple
            }
            _ => {
                let list = self.object("list", 48);
                self.put(list + self.layout.list_items, array);
                list
            }
        };
        self.put(list + self.layout.var_size, items.len() as u64);
        list
    }

    fn frozenset(&mut self, items: &[u64]) -> u64 {
        let table = self.alloc(16 * 8);
        for (i, item) in items.iter().enumerate() {
            self.put(table + 16 * (i as u64 * 3 % 8), *item);
        }
        let set = self.object("frozenset", 72);
        self.put(set + 32, 7);
        self.put(set + 40, table);
        set
    }
}

/// A runtime with `sys`, `builtins`, `six` (with a file) and `café` (a non-ASCII name), and the
/// table it must read back as; the runtime's address.
fn runtime_image(layout: Layout, debug_offsets: bool) -> (ImageMemory, u64, ModuleTable) {
    let mut image = Image::new(layout);
    let runtime = image.alloc(4096);
    if debug_offsets {
        image.put_bytes(runtime, b"xdebugpy");
        image.put(runtime + 8, 0x030d_00f0);
        for (at, value) in [
            (40, layout.interpreters_head),
            (88, layout.interp_modules),
            (376, layout.tp_name),
            (408, layout.tuple_items),
            (432, layout.list_items),
            (440, layout.var_size),
            (456, layout.dict_keys),
            (464, layout.dict_values),
            (544, layout.str_state),
            (552, layout.str_length),
            (560, layout.ascii_size),
        ] {
            image.put(runtime + at, value);
        }
    }
    let sys = SysAttributes {
        version: format!("3.{}.2 (main)", layout.minor),
        executable: "/venv/bin/python".into(),
        prefix: "/venv".into(),
        base_prefix: "/usr".into(),
        path: vec!["".into(), "/venv/lib/site-packages".into()],
        argv: vec!["app.py".into()],
        builtin_names: vec!["builtins".into(), "sys".into()],
        stdlib_names: vec!["os".into(), "sys".into()],
    };
    let mut sys_items = Vec::new();
    for (name, value) in [
        ("version", &sys.version),
        ("executable", &sys.executable),
        ("prefix", &sys.prefix),
        ("base_prefix", &sys.base_prefix),
    ] {
        let key = image.str(name);
        let value = image.str(value);
        sys_items.push((key, value));
    }
    for (name, values, ty) in [
        ("path", &sys.path, "list"),
        ("argv", &sys.argv, "list"),
        ("builtin_module_names", &sys.builtin_names, "tuple"),
        ("stdlib_module_names", &sys.stdlib_names, "frozenset"),
    ] {
        let key = image.str(name);
        let items: Vec<u64> = values.iter().map(|v| image.str(v)).collect();
        let value = match ty {
            "frozenset" => image.frozenset(&items),
            _ => image.list(ty, &items),
        };
        sys_items.push((key, value));
    }
    let sys_module = image.module(&sys_items);
    let builtins = image.module(&[]);
    let file_key = image.str("__file__");
    let six_file = image.str("/venv/lib/site-packages/six.py");
    let six = image.module(&[(file_key, six_file)]);
    let cafe_file = image.str("/app/café.py");
    let cafe = image.module(&[(file_key, cafe_file)]);
    let not_a_module = image.str("anything");
    let mut modules = Vec::new();
    for (name, value) in [
        ("sys", sys_module),
        ("builtins", builtins),
        ("six", six),
        ("café", cafe),
        ("fake", not_a_module),
    ] {
        let key = image.str(name);
        modules.push((key, value));
    }
    let modules = image.dict(&modules);
    let interp = image.alloc(layout.interp_modules as usize + 8);
    image.put(interp + layout.interp_modules, modules);
    image.put(runtime + layout.interpreters_head, interp);
    let expected = ModuleTable {
        modules: vec![
            ("builtins".into(), None),
            ("café".into(), Some("/app/café.py".into())),
            ("fake".into(), None),
            ("six".into(), Some("/venv/lib/site-packages/six.py".into())),
            ("sys".into(), None),
        ],
        sys,
        errors: 0,
    };
    let mut memory = ImageMemory::new();
    memory.map(BASE, image.bytes);
    (memory, runtime, expected)
}

fn layouts() -> Vec<(Layout, bool)> {
    let memory = ImageMemory::new();
    let table = |minor| layout::layout(minor, &memory, 0).unwrap();
    let mut thirteen = table(12);
    thirteen.minor = 13;
    thirteen.interpreters_head = 632;
    thirteen.interp_modules = 7656;
    vec![(table(9), false), (table(11), false), (thirteen, true)]
}

fn read(memory: &ImageMemory, minor: u32, runtime: u64) -> Result<ModuleTable, super::AttachError> {
    let layout = layout::layout(minor, memory, runtime)?;
    read_module_table(memory, layout, runtime)
}

#[test]
fn each_layout_reads_back_as_built() {
    for (layout, debug) in layouts() {
        let (memory, runtime, expected) = runtime_image(layout, debug);
        let table = read(&memory, layout.minor, runtime).unwrap();
        assert_eq!(table, expected, "3.{}", layout.minor);
    }
}

#[test]
fn a_table_without_sys_is_refused() {
    let (layout, _) = layouts()[1];
    let mut image = Image::new(layout);
    let runtime = image.alloc(4096);
    let modules = image.dict(&[]);
    let interp = image.alloc(layout.interp_modules as usize + 8);
    image.put(interp + layout.interp_modules, modules);
    image.put(runtime + layout.interpreters_head, interp);
    let mut memory = ImageMemory::new();
    memory.map(BASE, image.bytes);
    let err = read(&memory, 11, runtime).unwrap_err();
    assert!(err.to_string().contains("no `sys` module"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn changed_bytes_never_panic(
        which in 0usize..3,
        changes in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
    ) {
        let (layout, debug) = layouts()[which];
        let (memory, runtime, _) = runtime_image(layout, debug);
        let mut bytes = Vec::new();
        let mut probe = [0u8; 1];
        let mut at = BASE;
        while crate::process::Memory::read(&memory, at, &mut probe).is_ok() {
            bytes.push(probe[0]);
            at += 1;
        }
        for (index, byte) in changes {
            let i = index.index(bytes.len());
            bytes[i] = byte;
        }
        let mut changed = ImageMemory::new();
        changed.map(BASE, bytes);
        let _ = read(&changed, layout.minor, runtime);
    }

    #[test]
    fn a_cut_image_never_panics(which in 0usize..3, keep in 0usize..20_000) {
        let (layout, debug) = layouts()[which];
        let (memory, runtime, _) = runtime_image(layout, debug);
        let mut bytes = vec![0u8; keep];
        if crate::process::Memory::read(&memory, BASE, &mut bytes).is_ok() {
            let mut cut = ImageMemory::new();
            cut.map(BASE, bytes);
            let _ = read(&cut, layout.minor, runtime);
        }
    }

    #[test]
    fn random_memory_never_panics(
        minor in 8u32..=13,
        bytes in proptest::collection::vec(any::<u8>(), 0..8192),
    ) {
        let mut memory = ImageMemory::new();
        memory.map(BASE, bytes);
        let _ = read(&memory, minor, BASE);
    }
}
