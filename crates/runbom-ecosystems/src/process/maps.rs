//! `/proc/PID/maps`, parsed as hostile input: the process chooses the paths of what it maps
//! (a file named `x (deleted)`, a path with spaces or newlines escaped by the kernel), so every
//! line is parsed strictly, lines and their count are bounded, and a bad line is an error naming
//! its number rather than a guess.

use std::path::PathBuf;

/// At most this many mappings are read (a process has a few hundred to a few thousand; the
/// kernel caps `vm.max_map_count` at 65530 by default).
pub const MAX_MAPPINGS: usize = 70_000;
/// At most this many bytes of one line (a path is at most `PATH_MAX`, 4096).
const MAX_LINE: usize = 4096 + 128;

/// One mapped region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub start: u64,
    pub end: u64,
    pub readable: bool,
    pub executable: bool,
    /// Offset into the file of `start`.
    pub offset: u64,
    pub inode: u64,
    /// The file mapped, or a pseudo-path (`[heap]`, `[stack]`, `[vdso]`) or nothing.
    pub path: Option<PathBuf>,
    /// The file was deleted (or replaced) after it was mapped.
    pub deleted: bool,
}

impl Mapping {
    /// A mapping of a file (not `[heap]` and friends, nor anonymous memory).
    pub fn file(&self) -> Option<&std::path::Path> {
        self.path.as_deref().filter(|p| p.is_absolute())
    }
}

/// Why a maps file could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MapsError {
    #[error("line {line}: {message}")]
    Line { line: usize, message: &'static str },
    #[error("more than {MAX_MAPPINGS} mappings")]
    TooMany,
}

/// Every mapping of `text`, in order.
pub fn parse(text: &[u8]) -> Result<Vec<Mapping>, MapsError> {
    let mut mappings = Vec::new();
    for (i, line) in text.split(|&b| b == b'\n').enumerate() {
        if line.is_empty() {
            continue;
        }
        if mappings.len() == MAX_MAPPINGS {
            return Err(MapsError::TooMany);
        }
        let error = |message| MapsError::Line {
            line: i + 1,
            message,
        };
        if line.len() > MAX_LINE {
            return Err(error("line too long"));
        }
        mappings.push(parse_line(line).map_err(error)?);
    }
    Ok(mappings)
}

fn parse_line(line: &[u8]) -> Result<Mapping, &'static str> {
    // address perms offset dev inode [path]; the path is everything after the inode's padding.
    let mut rest = line;
    let mut field = || -> Result<&[u8], &'static str> {
        let start = rest
            .iter()
            .position(|&b| b != b' ')
            .ok_or("too few fields")?;
        rest = &rest[start..];
        let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
        let (value, tail) = rest.split_at(end);
        rest = tail;
        Ok(value)
    };
    let range = field()?;
    let perms = field()?;
    let offset = field()?;
    let _device = field()?;
    let inode = field()?;
    let (start, end) = split_once(range, b'-').ok_or("address range without `-`")?;
    let start = hex(start).ok_or("bad start address")?;
    let end = hex(end).ok_or("bad end address")?;
    if end < start {
        return Err("address range ends before it starts");
    }
    if perms.len() != 4 {
        return Err("permissions are not four letters");
    }
    let offset = hex(offset).ok_or("bad offset")?;
    let inode = std::str::from_utf8(inode)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or("bad inode")?;
    let path = rest.iter().position(|&b| b != b' ').map(|i| &rest[i..]);
    let (path, deleted) = match path {
        Some(p) => match p.strip_suffix(b" (deleted)") {
            Some(p) => (Some(p), true),
            None => (Some(p), false),
        },
        None => (None, false),
    };
    Ok(Mapping {
        start,
        end,
        readable: perms[0] == b'r',
        executable: perms[2] == b'x',
        offset,
        inode,
        path: path.map(|p| {
            use std::os::unix::ffi::OsStrExt;
            PathBuf::from(std::ffi::OsStr::from_bytes(p))
        }),
        deleted,
    })
}

fn split_once(bytes: &[u8], at: u8) -> Option<(&[u8], &[u8])> {
    let i = bytes.iter().position(|&b| b == at)?;
    Some((&bytes[..i], &bytes[i + 1..]))
}

fn hex(bytes: &[u8]) -> Option<u64> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(bytes).ok()?, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_files_pseudo_paths_and_anonymous_memory() {
        let text = b"55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 1234   /usr/bin/python3.11\n\
7f00aa000000-7f00aa021000 r-xp 00002000 08:01 99 /venv/lib/a b.so (deleted)\n\
7ffd1000-7ffd2000 rw-p 00000000 00:00 0                          [stack]\n\
7ffd3000-7ffd4000 rw-p 00000000 00:00 0\n";
        let maps = parse(text).unwrap();
        assert_eq!(maps.len(), 4);
        assert_eq!(
            maps[0].file(),
            Some(std::path::Path::new("/usr/bin/python3.11"))
        );
        assert_eq!(maps[0].inode, 1234);
        assert!(maps[1].executable && maps[1].deleted);
        assert_eq!(maps[1].offset, 0x2000);
        assert_eq!(
            maps[1].file(),
            Some(std::path::Path::new("/venv/lib/a b.so"))
        );
        assert_eq!(maps[2].file(), None);
        assert_eq!(maps[3].path, None);
    }

    #[test]
    fn a_bad_line_is_an_error_naming_it() {
        let text = b"1000-2000 r--p 00000000 08:01 1 /a\nzz-2000 r--p 0 08:01 1 /b\n";
        assert_eq!(
            parse(text),
            Err(MapsError::Line {
                line: 2,
                message: "bad start address"
            })
        );
        assert!(parse(b"2000-1000 r--p 0 0:0 0\n").is_err());
        assert!(parse(b"1000-2000 r--p\n").is_err());
    }

    #[test]
    fn reads_this_process() {
        let text = std::fs::read("/proc/self/maps").unwrap();
        let maps = parse(&text).unwrap();
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        assert!(maps.iter().any(|m| m.file() == Some(exe.as_path())));
    }
}
