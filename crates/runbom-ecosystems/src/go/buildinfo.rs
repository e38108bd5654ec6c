//! The build information a Go binary carries (`go version -m`): the toolchain version, the main
//! module, every dependency module with its version, sum and `replace`, and the build settings.
//! Read as Go's `debug/buildinfo` reads it, from ELF, Mach-O and PE.
//!
//! Traps: the blob starts with the 14-byte magic `\xff Go buildinf:` at a 16-byte aligned address;
//! Go 1.18+ stores both strings inline (flag bit 2), older toolchains store pointers to Go string
//! headers that must be followed through the file's sections. The module text is framed by two
//! 16-byte sentinels; a binary built without modules has none, and no module information.
//!
//! Some released binaries (esbuild's, built by Go 1.26) carry no blob at all, only the module
//! text the runtime keeps for `debug.ReadBuildInfo`, which `go version -m` cannot find. That
//! text is found by its sentinels, and the toolchain by the one `go1.N[.N]` string the runtime
//! keeps; such build information is marked `recovered`.

use std::path::{Path, PathBuf};

use object::read::ReadCache;
use object::{Object, ObjectSection, ReadRef};
use serde::Serialize;

/// The magic that opens the build information blob.
const MAGIC: &[u8] = b"\xff Go buildinf:";
/// The blob's header: magic, pointer size, flags, then two pointers or padding.
const HEADER_LEN: usize = 32;
const FLAG_BIG_ENDIAN: u8 = 0x1;
const FLAG_INLINE_STRINGS: u8 = 0x2;
/// Longest module text accepted; real binaries carry a few kilobytes.
const MAX_MODINFO: u64 = 16 << 20;
/// Largest file read: a Go binary is rarely over a few hundred megabytes.
pub const MAX_FILE_SIZE: u64 = 1 << 30;

/// What a Go binary was built from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BuildInfo {
    /// The toolchain, e.g. `go1.19.8`.
    pub go_version: String,
    /// The main package's import path, e.g. `golang.org/x/vuln/cmd/govulncheck`.
    pub path: String,
    /// The main module; `None` for a binary built outside a module (`go run file.go`).
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    /// `build` lines in order, e.g. `CGO_ENABLED=1`, `vcs.revision=…`.
    pub settings: Vec<Setting>,
    /// Read from the runtime's module text, the binary having no build information blob.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub recovered: bool,
}

/// One `build` line: `-ldflags`, `CGO_ENABLED`, `GOOS`, `vcs.revision`, `vcs.modified` …
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Setting {
    pub key: String,
    pub value: String,
}

impl BuildInfo {
    /// The value of build setting `key`.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.value.as_str())
    }

    /// The text `go version -m` prints after the file name's line, one line per entry, as Go's
    /// `BuildInfo.String` writes it (with the file's Go version on the first line).
    pub fn go_version_m(&self) -> String {
        let mut out = String::new();
        if !self.path.is_empty() {
            out.push_str(&format!("path\t{}\n", self.path));
        }
        if let Some(main) = &self.main {
            main.write_line("mod", &mut out);
        }
        for dep in &self.deps {
            dep.write_line("dep", &mut out);
        }
        for Setting { key, value } in &self.settings {
            let key = if needs_quoting(key, true) {
                go_quote(key)
            } else {
                key.clone()
            };
            let value = if needs_quoting(value, false) {
                go_quote(value)
            } else {
                value.clone()
            };
            out.push_str(&format!("build\t{key}={value}\n"));
        }
        out
    }
}

/// One module: the main module, a dependency, or what `replace` put in its place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Module {
    pub path: String,
    /// `v1.2.3`, a pseudo-version, or `(devel)` for a main module built from its source tree.
    pub version: String,
    /// The `go.sum` hash (`h1:…`); empty for the main module, vendored builds and local
    /// replacements.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sum: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replace: Option<Box<Module>>,
}

impl Module {
    /// The module that really went into the binary: the replacement when there is one.
    pub fn effective(&self) -> &Module {
        self.replace.as_deref().unwrap_or(self)
    }

    fn write_line(&self, word: &str, out: &mut String) {
        out.push_str(&format!("{word}\t{}\t{}", self.path, self.version));
        match &self.replace {
            None => out.push_str(&format!("\t{}\n", self.sum)),
            Some(replace) => {
                out.push('\n');
                replace.write_line("=>", out);
            }
        }
    }
}

/// Why a file has no build information runbom can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("not an executable runbom reads (ELF, Mach-O or PE): {0}")]
    NotAnExecutable(String),
    #[error("no Go build information (not a Go binary, or one built without it)")]
    NoBuildInfo,
    #[error("the Go build information is cut short at offset {offset}")]
    Truncated { offset: u64 },
    #[error("the Go build information is malformed: {0}")]
    Malformed(String),
    #[error("the Go binary was built without module information")]
    NoModules,
}

/// A file that could not be read as a Go binary, named.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is {size} bytes, more than the {MAX_FILE_SIZE} runbom reads as a Go binary", path.display())]
    TooLarge { path: PathBuf, size: u64 },
    #[error("`{}`", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: Error,
    },
}

/// Reads the build information of the file at `path`, reading only the parts it needs.
pub fn read_file(path: &Path) -> Result<BuildInfo, FileError> {
    let file = open_bounded(path)?;
    read(&file).map_err(|source| FileError::Parse {
        path: path.to_owned(),
        source,
    })
}

/// The file at `path` for reading parts of it, refused when larger than [`MAX_FILE_SIZE`].
pub fn open_bounded(path: &Path) -> Result<ReadCache<std::fs::File>, FileError> {
    let io = |source| FileError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > MAX_FILE_SIZE {
        return Err(FileError::TooLarge {
            path: path.to_owned(),
            size,
        });
    }
    Ok(ReadCache::new(file))
}

/// The build information of the executable `data` (its bytes, or a [`ReadCache`] of its file).
pub fn read<'a, R: ReadRef<'a>>(data: R) -> Result<BuildInfo, Error> {
    let file = object::File::parse(data).map_err(|e| Error::NotAnExecutable(e.to_string()))?;
    let Some((blob, blob_address)) = find_blob(&file, data) else {
        return recover(data);
    };
    let header = blob.get(..HEADER_LEN).ok_or(Error::Truncated {
        offset: blob_address,
    })?;
    let pointer_size = usize::from(header[14]);
    let flags = header[15];
    let (version, modinfo) = if flags & FLAG_INLINE_STRINGS != 0 {
        let rest = &blob[HEADER_LEN..];
        let (version, used) = varint_string(rest, blob_address)?;
        let (modinfo, _) = varint_string(&rest[used..], blob_address + used as u64)?;
        (version, modinfo)
    } else {
        let big_endian = flags & FLAG_BIG_ENDIAN != 0;
        if pointer_size != 4 && pointer_size != 8 {
            return Err(Error::Malformed(format!("pointer size {pointer_size}")));
        }
        let reader = Pointers {
            file: &file,
            size: pointer_size,
            big_endian,
        };
        let version_at = reader.word(&header[16..16 + pointer_size])?;
        let modinfo_at = reader.word(&header[16 + pointer_size..16 + 2 * pointer_size])?;
        (reader.string(version_at)?, reader.string(modinfo_at)?)
    };
    let version = String::from_utf8_lossy(&version).into_owned();
    if version.is_empty() {
        return Err(Error::NoBuildInfo);
    }
    let modinfo = strip_sentinels(&modinfo).ok_or(Error::NoModules)?;
    let modinfo = std::str::from_utf8(modinfo)
        .map_err(|_| Error::Malformed("module text is not UTF-8".to_owned()))?;
    let mut info = parse_modinfo(modinfo)?;
    info.go_version = version;
    Ok(info)
}

/// The build information of a binary without a blob, from the runtime's copy of the module text
/// and its version string; [`Error::NoBuildInfo`] when either is missing or ambiguous.
fn recover<'a, R: ReadRef<'a>>(data: R) -> Result<BuildInfo, Error> {
    let bytes = data
        .read_bytes_at(0, data.len().map_err(|()| Error::NoBuildInfo)?)
        .map_err(|()| Error::NoBuildInfo)?;
    let start = memchr::memmem::find(bytes, &SENTINEL_START).ok_or(Error::NoBuildInfo)?;
    let text = &bytes[start + SENTINEL_START.len()..];
    let window = &text[..text.len().min(MAX_MODINFO as usize)];
    let end = memchr::memmem::find(window, &SENTINEL_END).ok_or(Error::NoBuildInfo)?;
    let modinfo = std::str::from_utf8(&window[..end])
        .map_err(|_| Error::Malformed("module text is not UTF-8".to_owned()))?;
    let go_version = runtime_version(bytes).ok_or(Error::NoBuildInfo)?;
    let mut info = parse_modinfo(modinfo)?;
    info.go_version = go_version;
    info.recovered = true;
    Ok(info)
}

/// The one toolchain version string (`go1.26.5`, `go1.22rc1`) standing alone in `bytes`: not
/// part of a longer name (`fips140only_go1.26.go`); `None` when there is none, or several.
fn runtime_version(bytes: &[u8]) -> Option<String> {
    let mut found: Option<&[u8]> = None;
    for at in memchr::memmem::find_iter(bytes, b"go1.") {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        if before.is_some_and(|b| b.is_ascii_alphanumeric() || b"_./-".contains(&b)) {
            continue;
        }
        let len = bytes[at..]
            .iter()
            .take(24)
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'.')
            .count();
        let candidate = &bytes[at..at + len];
        let after = bytes.get(at + len).copied().unwrap_or(0);
        let well_formed = is_toolchain_version(&candidate[4..]) && !after.is_ascii_graphic();
        if !well_formed {
            continue;
        }
        match found {
            Some(other) if other != candidate => return None,
            _ => found = Some(candidate),
        }
    }
    found.map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Whether `rest` (what follows `go1.`) is `N`, `N.N`, then optionally `rcN` or `betaN`.
fn is_toolchain_version(rest: &[u8]) -> bool {
    let digits = |b: &[u8]| b.iter().take_while(|c| c.is_ascii_digit()).count();
    let minor = digits(rest);
    let mut at = minor;
    if rest.get(at) == Some(&b'.') {
        let patch = digits(&rest[at + 1..]);
        if patch == 0 {
            return false;
        }
        at += 1 + patch;
    }
    let tail = &rest[at..];
    let pre = ["rc", "beta"]
        .iter()
        .find_map(|p| tail.strip_prefix(p.as_bytes()))
        .unwrap_or(tail);
    minor > 0
        && (tail.is_empty()
            || (!pre.is_empty() && digits(pre) == pre.len() && pre.len() < tail.len()))
}

/// The bytes from the magic to the end of its section (or of the file), and the magic's address.
fn find_blob<'a, R: ReadRef<'a>>(file: &object::File<'a, R>, data: R) -> Option<(&'a [u8], u64)> {
    for section in file.sections() {
        let name = section.name().unwrap_or("");
        let candidate = matches!(name, ".go.buildinfo" | "__go_buildinfo" | ".data");
        if !candidate {
            continue;
        }
        let Ok(data) = section.data() else { continue };
        if let Some(at) = aligned_magic(data, section.address()) {
            return Some((&data[at..], section.address() + at as u64));
        }
    }
    // Older toolchains put the blob at the start of the data segment without a section of its
    // own: look through the whole file for it.
    let bytes = data.read_bytes_at(0, data.len().ok()?).ok()?;
    aligned_magic(bytes, 0).map(|at| (&bytes[at..], at as u64))
}

/// The offset in `data` (which starts at `address`) of the first magic at an address aligned
/// to 16.
fn aligned_magic(data: &[u8], address: u64) -> Option<usize> {
    memchr::memmem::find_iter(data, MAGIC).find(|&at| (address + at as u64).is_multiple_of(16))
}

/// A length-prefixed string (unsigned LEB128 varint), and the bytes it took.
fn varint_string(data: &[u8], address: u64) -> Result<(Vec<u8>, usize), Error> {
    let mut length: u64 = 0;
    let mut used = 0;
    loop {
        let byte = *data.get(used).ok_or(Error::Truncated { offset: address })?;
        if used >= 10 {
            return Err(Error::Malformed("string length overflows".to_owned()));
        }
        length |= u64::from(byte & 0x7f) << (7 * used);
        used += 1;
        if byte & 0x80 == 0 {
            break;
        }
    }
    if length > MAX_MODINFO {
        return Err(Error::Malformed(format!("string of {length} bytes")));
    }
    let end = used + length as usize;
    let text = data.get(used..end).ok_or(Error::Truncated {
        offset: address + used as u64,
    })?;
    Ok((text.to_vec(), end))
}

/// Pointers of the pre-1.18 layout, followed through the file's sections.
struct Pointers<'f, 'a, R: ReadRef<'a>> {
    file: &'f object::File<'a, R>,
    size: usize,
    big_endian: bool,
}

impl<'a, R: ReadRef<'a>> Pointers<'_, 'a, R> {
    fn word(&self, bytes: &[u8]) -> Result<u64, Error> {
        let mut buf = [0u8; 8];
        let bytes = bytes
            .get(..self.size)
            .ok_or(Error::Truncated { offset: 0 })?;
        if self.big_endian {
            buf[8 - self.size..].copy_from_slice(bytes);
            Ok(u64::from_be_bytes(buf))
        } else {
            buf[..self.size].copy_from_slice(bytes);
            Ok(u64::from_le_bytes(buf))
        }
    }

    /// The bytes of `len` at virtual address `address`.
    fn at(&self, address: u64, len: u64) -> Result<&'a [u8], Error> {
        for section in self.file.sections() {
            let start = section.address();
            if address < start || address - start >= section.size() {
                continue;
            }
            let Ok(data) = section.data() else { continue };
            let from = usize::try_from(address - start).unwrap_or(usize::MAX);
            let to = usize::try_from(len)
                .ok()
                .and_then(|len| from.checked_add(len))
                .unwrap_or(usize::MAX);
            return data
                .get(from..to)
                .ok_or(Error::Truncated { offset: address });
        }
        Err(Error::Truncated { offset: address })
    }

    /// The Go string whose header (data pointer, length) is at `address`.
    fn string(&self, address: u64) -> Result<Vec<u8>, Error> {
        let header = self.at(address, 2 * self.size as u64)?;
        let data = self.word(&header[..self.size])?;
        let len = self.word(&header[self.size..])?;
        if len > MAX_MODINFO {
            return Err(Error::Malformed(format!("string of {len} bytes")));
        }
        Ok(self.at(data, len)?.to_vec())
    }
}

/// The 16 bytes that open the module text (Go's `modload.infoStart`) and that close it.
const SENTINEL_START: [u8; 16] = [
    0x30, 0x77, 0xaf, 0x0c, 0x92, 0x74, 0x08, 0x02, 0x41, 0xe1, 0xc1, 0x07, 0xe6, 0xd6, 0x18, 0xe6,
];
const SENTINEL_END: [u8; 16] = [
    0xf9, 0x32, 0x43, 0x31, 0x86, 0x18, 0x20, 0x72, 0x00, 0x82, 0x42, 0x10, 0x41, 0x16, 0xd8, 0xf2,
];

/// The module text between its two 16-byte sentinels, or `None` when the binary has none.
fn strip_sentinels(modinfo: &[u8]) -> Option<&[u8]> {
    let len = modinfo.len();
    (len >= 33 && modinfo[len - 17] == b'\n').then(|| &modinfo[16..len - 16])
}

#[cfg(test)]
mod recovery_tests {
    use super::*;

    #[test]
    fn the_toolchain_is_the_one_version_string_standing_alone() {
        let version = |bytes: &[u8]| runtime_version(bytes);
        assert_eq!(
            version(b"\0\0fips140only_go1.26.go\0go1.26.5\0\0x").as_deref(),
            Some("go1.26.5")
        );
        assert_eq!(version(b"@go1.22rc1\0").as_deref(), Some("go1.22rc1"));
        // Twice the same is one; two different ones are ambiguous; none is none.
        assert_eq!(
            version(b"go1.21.3\0go1.21.3\0").as_deref(),
            Some("go1.21.3")
        );
        assert_eq!(version(b"go1.21.3\0go1.22.0\0"), None);
        assert_eq!(version(b"go1.x go1. ago1.2 go1.2go"), None);
    }

    #[test]
    fn module_text_without_a_blob_is_recovered_between_its_sentinels() {
        let mut image = b"\x7fELF but not parsed here ".to_vec();
        image.extend_from_slice(b"go1.26.5\0\0");
        image.extend_from_slice(&SENTINEL_START);
        image.extend_from_slice(b"path\texample.com/app\nmod\texample.com/app\t(devel)\t\n");
        image.extend_from_slice(&SENTINEL_END);
        let info = recover(image.as_slice()).expect("recovered");
        assert_eq!(info.go_version, "go1.26.5");
        assert_eq!(info.path, "example.com/app");
        assert!(info.recovered);
        // Without the closing sentinel or the version there is nothing to trust.
        let cut = &image[..image.len() - 4];
        assert_eq!(recover(cut), Err(Error::NoBuildInfo));
    }
}

/// Go's `debug.ParseBuildInfo`, without the `go` line (the version comes apart).
pub fn parse_modinfo(text: &str) -> Result<BuildInfo, Error> {
    let mut info = BuildInfo::default();
    // Which module a `=>` line replaces: the main module or the last dependency.
    enum Last {
        None,
        Main,
        Dep,
    }
    let mut last = Last::None;
    let mut lines = text.split('\n').peekable();
    while let Some(line) = lines.next() {
        if lines.peek().is_none() {
            break; // Go stops at the last line without a newline
        }
        if let Some(path) = line.strip_prefix("path\t") {
            info.path = path.to_owned();
        } else if let Some(rest) = line.strip_prefix("mod\t") {
            info.main = Some(module_line(rest)?);
            last = Last::Main;
        } else if let Some(rest) = line.strip_prefix("dep\t") {
            info.deps.push(module_line(rest)?);
            last = Last::Dep;
        } else if let Some(rest) = line.strip_prefix("=>\t") {
            let fields: Vec<&str> = rest.split('\t').collect();
            let [path, version, sum] = fields[..] else {
                return Err(Error::Malformed(format!(
                    "expected 3 columns for replacement; got {}",
                    fields.len()
                )));
            };
            let replace = Some(Box::new(Module {
                path: path.to_owned(),
                version: version.to_owned(),
                sum: sum.to_owned(),
                replace: None,
            }));
            let target = match last {
                Last::Main => info.main.as_mut(),
                Last::Dep => info.deps.last_mut(),
                Last::None => None,
            };
            target
                .ok_or_else(|| {
                    Error::Malformed("replacement with no module on previous line".to_owned())
                })?
                .replace = replace;
            last = Last::None;
        } else if let Some(kv) = line.strip_prefix("build\t") {
            info.settings.push(build_line(kv)?);
        }
    }
    Ok(info)
}

fn module_line(rest: &str) -> Result<Module, Error> {
    let fields: Vec<&str> = rest.split('\t').collect();
    let (path, version, sum) = match fields[..] {
        [path, version] => (path, version, ""),
        [path, version, sum] => (path, version, sum),
        _ => {
            return Err(Error::Malformed(format!(
                "expected 2 or 3 columns; got {}",
                fields.len()
            )));
        }
    };
    Ok(Module {
        path: path.to_owned(),
        version: version.to_owned(),
        sum: sum.to_owned(),
        replace: None,
    })
}

/// `key=value`, either side possibly Go-quoted.
fn build_line(kv: &str) -> Result<Setting, Error> {
    let malformed = |what: &str| Error::Malformed(format!("build line `{kv}`: {what}"));
    let (key, raw_value) = match kv.as_bytes().first() {
        None => return Err(malformed("missing `=`")),
        Some(b'=') => return Err(malformed("missing key")),
        Some(b'"' | b'`') => {
            let (key, used) = go_unquote_prefix(kv).ok_or_else(|| malformed("bad quoted key"))?;
            let rest = kv[used..]
                .strip_prefix('=')
                .ok_or_else(|| malformed("missing `=`"))?;
            (key, rest)
        }
        Some(_) => {
            let (key, value) = kv.split_once('=').ok_or_else(|| malformed("missing `=`"))?;
            (key.to_owned(), value)
        }
    };
    let value = match raw_value.as_bytes().first() {
        Some(b'"' | b'`') => match go_unquote_prefix(raw_value) {
            Some((value, used)) if used == raw_value.len() => value,
            _ => return Err(malformed("bad quoted value")),
        },
        _ => raw_value.to_owned(),
    };
    Ok(Setting { key, value })
}

/// Whether `BuildInfo.String` quotes this key or value.
fn needs_quoting(text: &str, key: bool) -> bool {
    (key && (text.is_empty() || text.contains('=')))
        || text.contains([' ', '\t', '\r', '\n', '"', '`'])
}

/// Go's `strconv.Quote`, for the characters build settings hold.
fn go_quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\x0b' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\x7f' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.QuotedPrefix` + `Unquote`: the string a quoted prefix of `text` stands for,
/// and how many bytes the quoted form took.
fn go_unquote_prefix(text: &str) -> Option<(String, usize)> {
    let quote = text.chars().next()?;
    if quote == '`' {
        let end = text[1..].find('`')? + 1;
        return Some((text[1..end].to_owned(), end + 1));
    }
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((out, at + 1)),
            '\n' => return None,
            '\\' => {
                let (_, escape) = chars.next()?;
                let simple = match escape {
                    'n' => Some('\n'),
                    't' => Some('\t'),
                    'r' => Some('\r'),
                    'a' => Some('\x07'),
                    'b' => Some('\x08'),
                    'f' => Some('\x0c'),
                    'v' => Some('\x0b'),
                    '\\' | '"' | '\'' => Some(escape),
                    _ => None,
                };
                if let Some(c) = simple {
                    out.push(c);
                    continue;
                }
                let digits = match escape {
                    'x' => 2,
                    'u' => 4,
                    'U' => 8,
                    '0'..='7' => 2,
                    _ => return None,
                };
                let mut code = String::new();
                if escape.is_ascii_digit() {
                    code.push(escape);
                }
                for _ in 0..digits {
                    code.push(chars.next()?.1);
                }
                let radix = if escape.is_ascii_digit() { 8 } else { 16 };
                let value = u32::from_str_radix(&code, radix).ok()?;
                out.push(char::from_u32(value)?);
            }
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODINFO: &str = "path\texample.com/app\n\
        mod\texample.com/app\t(devel)\t\n\
        dep\tgolang.org/x/text\tv0.3.7\th1:abc=\n\
        dep\texample.com/old\tv1.0.0\n\
        =>\t../old\t\t\n\
        build\t-compiler=gc\n\
        build\t-ldflags=\"-s -w\"\n\
        build\tCGO_ENABLED=0\n\
        build\tvcs.modified=true\n";

    #[test]
    fn parses_modules_replacements_and_quoted_settings() {
        let info = parse_modinfo(MODINFO).unwrap();
        assert_eq!(info.path, "example.com/app");
        assert_eq!(info.main.as_ref().unwrap().version, "(devel)");
        assert_eq!(info.deps.len(), 2);
        assert_eq!(info.deps[0].sum, "h1:abc=");
        let old = &info.deps[1];
        assert_eq!(old.effective().path, "../old");
        assert_eq!(info.setting("-ldflags"), Some("-s -w"));
        assert_eq!(info.setting("vcs.modified"), Some("true"));
        // What `go version -m` prints, byte for byte.
        assert_eq!(info.go_version_m(), MODINFO);
    }

    #[test]
    fn bad_lines_are_errors_not_panics() {
        for text in [
            "=>\ta\tb\tc\n",
            "dep\tonly\n",
            "build\t=x\n",
            "build\tnoequals\n",
            "build\t\"unterminated=1\n",
            "build\tk=\"bad\\q\"\n",
        ] {
            assert!(parse_modinfo(text).is_err(), "{text:?}");
        }
        assert!(parse_modinfo("").unwrap().main.is_none());
    }

    #[test]
    fn quoting_round_trips() {
        for text in ["-s -w", "a\"b", "tab\there", "nl\n", "back\\slash", "é ok"] {
            let quoted = go_quote(text);
            assert_eq!(
                go_unquote_prefix(&quoted),
                Some((text.to_owned(), quoted.len()))
            );
        }
        assert_eq!(
            go_unquote_prefix("`raw \\n`="),
            Some(("raw \\n".to_owned(), 8))
        );
        assert_eq!(
            go_unquote_prefix("\"\\x41\\u00e9\\101\""),
            Some(("AéA".to_owned(), 16))
        );
    }

    #[test]
    fn non_executables_and_plain_binaries_are_named() {
        assert!(matches!(read(&b""[..]), Err(Error::NotAnExecutable(_))));
        assert!(matches!(
            read(&b"hello world"[..]),
            Err(Error::NotAnExecutable(_))
        ));
        if let Ok(ls) = std::fs::read("/bin/ls") {
            assert_eq!(read(&ls[..]), Err(Error::NoBuildInfo));
            assert!(read(&ls[..100]).is_err());
        }
    }

    #[test]
    fn sentinels_frame_the_module_text() {
        let framed = format!("{}{}", "x".repeat(16), "y".repeat(16));
        assert_eq!(strip_sentinels(framed.as_bytes()), None, "too short");
        let framed = format!(
            "{}{}{}",
            "x".repeat(16),
            "path\tp\nmod\tp\t(devel)\t\n",
            "y".repeat(16)
        );
        assert_eq!(
            strip_sentinels(framed.as_bytes()),
            Some(&b"path\tp\nmod\tp\t(devel)\t\n"[..])
        );
    }
}
