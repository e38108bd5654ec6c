//! The Go functions linked into a binary, from its pclntab: the table the Go runtime itself
//! needs for stack traces, so it survives `-ldflags='-s -w'`, which strips the symbol table.
//! Whether a vulnerable symbol is in the binary is answered from these names.
//!
//! Traps: the table's layout changed with Go 1.2, 1.16, 1.18 and 1.20 (told apart by its magic);
//! method names are written `pkg.T.M` or `pkg.(*T).M`, generic instantiations `pkg.F[...]`, and a
//! closure `pkg.F.func1` is part of `F`. A function the compiler inlined at every call has no
//! entry of its own in the function table: from Go 1.16 on, the inline trees (FUNCDATA_InlTree)
//! name each inlined callee by its offset into the table's funcname table, and the linker writes
//! into that table exactly the names of the functions and of every callee of their inline trees
//! (`walkFuncs` in cmd/link's pcln.go), so reading the funcname table whole reads every inline
//! tree, without locating `go:func.*`, which a stripped binary only tells through its moduledata.
//! Before Go 1.16 names sit among the table's other data and inlined callees are not read.
//!
//! The names are kept as one sorted list without duplicates (a binary holds thousands): a
//! package's functions are then one run of it, found by binary search.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::ops::Range;

use object::{Object, ObjectSection, ReadRef};

const MAGIC_1_2: u32 = 0xffff_fffb;
const MAGIC_1_16: u32 = 0xffff_fffa;
const MAGIC_1_18: u32 = 0xffff_fff0;
const MAGIC_1_20: u32 = 0xffff_fff1;
/// More functions than any real binary holds; a header claiming more is not a pclntab.
const MAX_FUNCTIONS: u64 = 4_000_000;

/// Why the function names of a binary could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("not an executable runbom reads (ELF, Mach-O or PE): {0}")]
    NotAnExecutable(String),
    #[error("no Go function table (pclntab) found")]
    NoTable,
    #[error("the Go function table is malformed: {0}")]
    Malformed(String),
}

/// Every function name of the Go binary `data` (its bytes, or a `ReadCache` of its file), e.g.
/// `golang.org/x/text/language.Parse`, sorted, each once.
pub fn function_names<'a, R: ReadRef<'a>>(data: R) -> Result<Vec<String>, Error> {
    let file = object::File::parse(data).map_err(|e| Error::NotAnExecutable(e.to_string()))?;
    let little = file.is_little_endian();
    for section in file.sections() {
        if !matches!(section.name().unwrap_or(""), ".gopclntab" | "__gopclntab") {
            continue;
        }
        if let Ok(data) = section.data()
            && let Ok(names) = Table::new(data, little).and_then(|t| t.names())
        {
            return Ok(names);
        }
    }
    // PE, and stripped files without the section: find the header by its magic.
    let bytes = data
        .len()
        .and_then(|len| data.read_bytes_at(0, len))
        .map_err(|()| Error::NoTable)?;
    scan(bytes, little).ok_or(Error::NoTable)
}

fn scan(bytes: &[u8], little: bool) -> Option<Vec<String>> {
    for magic in [MAGIC_1_20, MAGIC_1_18, MAGIC_1_16, MAGIC_1_2] {
        let pattern = if little {
            magic.to_le_bytes()
        } else {
            magic.to_be_bytes()
        };
        for at in memchr::memmem::find_iter(bytes, &pattern) {
            if at % 4 != 0 {
                continue;
            }
            if let Ok(names) = Table::new(&bytes[at..], little).and_then(|t| t.names())
                && !names.is_empty()
            {
                return Some(names);
            }
        }
    }
    None
}

/// A pclntab and its layout.
struct Table<'a> {
    data: &'a [u8],
    little: bool,
    magic: u32,
    pointer_size: usize,
}

impl<'a> Table<'a> {
    fn new(data: &'a [u8], little: bool) -> Result<Self, Error> {
        let header = data
            .get(..8)
            .ok_or_else(|| Error::Malformed("shorter than its header".to_owned()))?;
        let magic = read_u32(header, little);
        let quantum = header[6];
        let pointer_size = usize::from(header[7]);
        let plausible = header[4] == 0
            && header[5] == 0
            && matches!(quantum, 1 | 2 | 4)
            && matches!(pointer_size, 4 | 8)
            && matches!(magic, MAGIC_1_2 | MAGIC_1_16 | MAGIC_1_18 | MAGIC_1_20);
        if !plausible {
            return Err(Error::Malformed("not a pclntab header".to_owned()));
        }
        Ok(Table {
            data,
            little,
            magic,
            pointer_size,
        })
    }

    /// The `n`th pointer-sized word after the 8-byte fixed header.
    fn header_word(&self, n: usize) -> Result<u64, Error> {
        self.word(8 + n * self.pointer_size)
    }

    fn word(&self, at: usize) -> Result<u64, Error> {
        let bytes = self
            .data
            .get(at..at + self.pointer_size)
            .ok_or_else(|| self.short(at))?;
        Ok(if self.pointer_size == 4 {
            u64::from(read_u32(bytes, self.little))
        } else {
            let mut buf = [0u8; 8];
            buf.copy_from_slice(bytes);
            if self.little {
                u64::from_le_bytes(buf)
            } else {
                u64::from_be_bytes(buf)
            }
        })
    }

    fn u32_at(&self, at: usize) -> Result<u32, Error> {
        let bytes = self.data.get(at..at + 4).ok_or_else(|| self.short(at))?;
        Ok(read_u32(bytes, self.little))
    }

    fn short(&self, at: usize) -> Error {
        Error::Malformed(format!("offset {at} is past the table's end"))
    }

    fn offset(&self, value: u64) -> Result<usize, Error> {
        usize::try_from(value).map_err(|_| self.short(usize::MAX))
    }

    /// Every function's name, sorted, each once.
    fn names(&self) -> Result<Vec<String>, Error> {
        let functions = self.header_word(0)?;
        if functions > MAX_FUNCTIONS {
            return Err(Error::Malformed(format!("{functions} functions")));
        }
        let functions = functions as usize;
        let mut names: Vec<&[u8]> = Vec::with_capacity(functions);
        match self.magic {
            MAGIC_1_18 | MAGIC_1_20 => {
                // nfunc, nfiles, textStart, funcnameOffset, cuOffset, filetabOffset,
                // pctabOffset, pclnOffset; functab entries are two u32 (entry, funcoff).
                let table =
                    self.offset(self.header_word(3)?)?..self.offset(self.header_word(4)?)?;
                let functab = self.offset(self.header_word(7)?)?;
                for i in 0..functions {
                    let func =
                        functab + self.offset(u64::from(self.u32_at(functab + i * 8 + 4)?))?;
                    self.function_name(&table, self.u32_at(func + 4)?, &mut names)?;
                }
                self.funcname_table(table, &mut names)?;
            }
            MAGIC_1_16 => {
                // nfunc, nfiles, funcnameOffset, cuOffset, filetabOffset, pctabOffset,
                // pclnOffset; functab entries are two words (entry, funcoff).
                let table =
                    self.offset(self.header_word(2)?)?..self.offset(self.header_word(3)?)?;
                let functab = self.offset(self.header_word(6)?)?;
                let entry = 2 * self.pointer_size;
                for i in 0..functions {
                    let func = functab
                        + self.offset(self.word(functab + i * entry + self.pointer_size)?)?;
                    self.function_name(&table, self.u32_at(func + self.pointer_size)?, &mut names)?;
                }
                self.funcname_table(table, &mut names)?;
            }
            _ => {
                // Go 1.2–1.15: nfunc, then the functab (pc, funcoff) from the next word; offsets
                // are from the table's start, names too.
                let functab = 8 + self.pointer_size;
                let entry = 2 * self.pointer_size;
                for i in 0..functions {
                    let func = self.offset(self.word(functab + i * entry + self.pointer_size)?)?;
                    let name_offset = self.u32_at(func + self.pointer_size)?;
                    names.push(self.c_string(self.offset(u64::from(name_offset))?)?);
                }
            }
        }
        names.sort_unstable();
        names.dedup();
        Ok(names
            .into_iter()
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .collect())
    }

    /// The name at `offset` into the funcname table `table` (Go 1.16+). A name that starts an
    /// entry of the table is read with the table (see [`Table::funcname_table`]); only one that
    /// does not (no linker writes that) is added here.
    fn function_name(
        &self,
        table: &Range<usize>,
        offset: u32,
        names: &mut Vec<&'a [u8]>,
    ) -> Result<(), Error> {
        let at = table.start + self.offset(u64::from(offset))?;
        let starts_entry = table.contains(&at)
            && (at == table.start || self.data[at - 1] == 0)
            && self.data[at] != 0;
        if !starts_entry {
            names.push(self.c_string(at)?);
        }
        Ok(())
    }

    /// Every name of the funcname table `table` (Go 1.16+): the functions' and their inlined
    /// callees', each ending in a NUL.
    fn funcname_table(&self, table: Range<usize>, names: &mut Vec<&'a [u8]>) -> Result<(), Error> {
        let bytes = self.data.get(table.clone()).ok_or_else(|| {
            Error::Malformed(format!("funcname table {}..{}", table.start, table.end))
        })?;
        names.extend(bytes.split(|&b| b == 0).filter(|n| !n.is_empty()));
        Ok(())
    }

    fn c_string(&self, at: usize) -> Result<&'a [u8], Error> {
        let rest = self.data.get(at..).ok_or_else(|| self.short(at))?;
        let end = memchr::memchr(0, rest).ok_or_else(|| self.short(at))?;
        Ok(&rest[..end])
    }
}

fn read_u32(bytes: &[u8], little: bool) -> u32 {
    let buf = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if little {
        u32::from_le_bytes(buf)
    } else {
        u32::from_be_bytes(buf)
    }
}

/// Whether `names` (sorted) holds `symbol` of package `package` as the Go vulnerability database
/// names it (see [`vulndb_name`]).
pub fn has_symbol(names: &[String], package: &str, symbol: &str) -> bool {
    let wanted = format!("{package}.{symbol}");
    of_package(names, package)
        .iter()
        .any(|name| vulndb_name(name).as_deref() == Some(wanted.as_str()))
}

/// Every function of `names` (sorted) as the Go vulnerability database names symbols, sorted,
/// each once.
pub fn vulndb_names(names: &[String]) -> Vec<String> {
    let mut symbols: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        // A closure follows its function (`F`, `F.func1`): most names repeat the one before.
        let Some(symbol) = vulndb_name(name) else {
            continue;
        };
        if symbols.last().map(String::as_str) != Some(&*symbol) {
            symbols.push(symbol.into_owned());
        }
    }
    symbols.sort_unstable();
    symbols.dedup();
    symbols
}

/// A linker function name as the Go vulnerability database names the symbol: `pkg.F`, or
/// `pkg.T.M` for a method on `T` or `*T`. Generic instantiations (`F[go.shape.int]`) are their
/// generic; closures and wrappers inside `F` (`F.func1`, `F.func1.2`, `F.gowrap1`) are `F`'s code.
pub fn vulndb_name(name: &str) -> Option<Cow<'_, str>> {
    // Called on every function of a binary (an audit reads thousands): most names are their own
    // symbol or a closure of it, whose answer is a prefix of the name, borrowed.
    let plain = strip_instantiation(name);
    let (package, local) = split_package(&plain)?;
    let as_written = matches!((&plain, &package), (Cow::Borrowed(_), Cow::Borrowed(_)))
        && !local.contains(['(', ')']);
    let mut symbol = String::new();
    let mut end = package.len();
    for part in local.split('.') {
        let trimmed = part.trim_start_matches("(*").trim_end_matches(')');
        let numbered = |prefix: &str| {
            trimmed
                .strip_prefix(prefix)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        };
        let generated = ["func", "gowrap", "deferwrap"].into_iter().any(numbered)
            || trimmed.bytes().all(|b| b.is_ascii_digit());
        if generated || trimmed.is_empty() {
            break;
        }
        if as_written {
            end += 1 + part.len();
        } else {
            if symbol.is_empty() {
                symbol.reserve(plain.len());
                symbol.push_str(&package);
            }
            symbol.push('.');
            symbol.push_str(trimmed);
        }
    }
    if as_written {
        (end > package.len()).then(|| Cow::Borrowed(&name[..end]))
    } else {
        (!symbol.is_empty()).then_some(Cow::Owned(symbol))
    }
}

/// Whether any function of package `package` is linked in (`names` sorted).
pub fn has_package(names: &[String], package: &str) -> bool {
    !of_package(names, package).is_empty()
}

/// The functions of package `package` in `names` (sorted): one run, the names that start with
/// the package's symbol prefix.
fn of_package<'n>(names: &'n [String], package: &str) -> &'n [String] {
    let prefix = symbol_prefix(package);
    let start = names.partition_point(|name| name.as_str() < prefix.as_str());
    let len = names[start..].partition_point(|name| name.starts_with(&prefix));
    &names[start..start + len]
}

/// How the linker writes `package` before a symbol: `.` and `%` of the last path element
/// escaped (`gopkg.in/yaml.v3` → `gopkg.in/yaml%2ev3.`), as `objabi.PathToPrefix` does.
fn symbol_prefix(package: &str) -> String {
    let last = package.rfind('/').map_or(0, |i| i + 1);
    let mut prefix = package[..last].to_owned();
    for c in package[last..].chars() {
        match c {
            '.' => prefix.push_str("%2e"),
            '%' => prefix.push_str("%25"),
            c => prefix.push(c),
        }
    }
    prefix.push('.');
    prefix
}

/// `F[go.shape.int]` → `F`, `(*T[go.shape.int]).M` → `(*T).M`.
fn strip_instantiation(name: &str) -> Cow<'_, str> {
    if !name.contains('[') {
        return Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len());
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    Cow::Owned(out)
}

/// The Go packages the functions `names` belong to: `golang.org/x/text/language.Parse` →
/// `golang.org/x/text/language`. The package path ends at the first `.` after the last `/`
/// (a `.` of the path itself is escaped as `%2e`).
pub fn packages(names: &[String]) -> BTreeSet<String> {
    let mut packages = BTreeSet::new();
    let mut last: Option<Cow<'_, str>> = None;
    for name in names {
        // The functions of a package are mostly one run of the sorted names.
        let Some(package) = package_of(name) else {
            continue;
        };
        if last.as_deref() != Some(&*package) {
            packages.insert(package.clone().into_owned());
            last = Some(package);
        }
    }
    packages
}

fn package_of(name: &str) -> Option<Cow<'_, str>> {
    let name = name.split('[').next()?;
    split_package(name).map(|(package, _)| package)
}

/// `golang.org/x/text/language.(*Tag).String` → (`golang.org/x/text/language`, `(*Tag).String`):
/// the package (unescaped) and what follows the `.` that ends it.
fn split_package(name: &str) -> Option<(Cow<'_, str>, &str)> {
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    let dot = name[last_slash..].find('.')? + last_slash;
    let package = &name[..dot];
    let package = if package.contains('%') {
        Cow::Owned(package.replace("%2e", ".").replace("%25", "%"))
    } else {
        Cow::Borrowed(package)
    };
    Some((package, &name[dot + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn symbols_match_as_the_vulnerability_database_names_them() {
        let linked = names(&[
            "golang.org/x/text/language.Parse",
            "golang.org/x/text/language.(*Tag).String",
            "golang.org/x/text/language.Make.func1",
            "golang.org/x/net/html.Map[go.shape.int].Get",
            "golang.org/x/text/language/display.Names",
        ]);
        let pkg = "golang.org/x/text/language";
        assert!(has_symbol(&linked, pkg, "Parse"));
        assert!(has_symbol(&linked, pkg, "Tag.String"));
        assert!(
            has_symbol(&linked, pkg, "Make"),
            "a closure is its function's code"
        );
        assert!(!has_symbol(&linked, pkg, "ParseAcceptLanguage"));
        assert!(!has_symbol(&linked, pkg, "Names"), "another package");
        assert!(has_symbol(&linked, "golang.org/x/net/html", "Map.Get"));
        assert!(has_package(&linked, pkg));
        assert!(!has_package(&linked, "golang.org/x/text"));
    }

    #[test]
    fn packages_end_at_the_first_dot_after_the_last_slash() {
        let linked = names(&[
            "gopkg.in/yaml%2ev3.Unmarshal",
            "main.main",
            "golang.org/x/text/language.(*Tag).String",
        ]);
        let expected = ["golang.org/x/text/language", "gopkg.in/yaml.v3", "main"];
        assert_eq!(
            packages(&linked),
            expected.into_iter().map(str::to_owned).collect()
        );
        assert!(has_symbol(&linked, "gopkg.in/yaml.v3", "Unmarshal"));
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(function_names(&b""[..]).is_err());
        let mut fake = vec![0u8; 64];
        fake[..4].copy_from_slice(&MAGIC_1_18.to_le_bytes());
        fake[6] = 1;
        fake[7] = 8;
        fake[8] = 0xff;
        assert!(Table::new(&fake, true).unwrap().names().is_err());
    }
}
