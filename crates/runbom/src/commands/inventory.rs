//! `runbom inventory`: every distribution installed for a Python interpreter, as a table or as
//! versioned JSON (`runbom.inventory/v1`); with paths, the build information of Go binaries
//! (`go_inventory`); with `--perl`, the Perl distributions of a perl
//! (`runbom.perl-inventory/v1`); with `--tclsh`, the Tcl packages a Tcl shell finds (`tcl`).

mod go;
mod perl;
mod ruby;
mod tcl;

use std::io::Write;

use runbom_ecosystems::python::{Detail, query_interpreter, read_inventory_with};
use runbom_model::inventory::{Inventory, RecordFile};

use crate::cli::{Format, InventoryArgs};
use crate::commands::ExitStatus;
use crate::commands::columns::write_rows;

pub fn run(args: &InventoryArgs) -> anyhow::Result<ExitStatus> {
    if let Some(perl) = &args.perl {
        return perl::run(perl, args.format);
    }
    if !args.binaries.is_empty() {
        return go::run(&args.binaries, args.format);
    }
    if let Some(tclsh) = &args.tclsh {
        return tcl::run(tclsh, args.format);
    }
    if let Some(interpreter) = &args.ruby {
        return ruby::run(interpreter, args.format);
    }
    let interpreter = query_interpreter(&args.python)?;
    // The table shows no files but still reports a malformed RECORD: RECORD is checked either
    // way, and only JSON keeps every file.
    let detail = match args.format {
        Format::Json => Detail::Full,
        Format::Table => Detail::Listing,
    };
    let mut inventory = read_inventory_with(&interpreter, &args.paths, detail);
    match print(args.format, &mut inventory) {
        Err(err) if is_broken_pipe(&err) => {}
        other => other?,
    }
    for problem in &inventory.problems {
        eprintln!("warning: {problem}");
    }
    // Freeing every RECORD file one by one costs more than the process exit that follows.
    std::mem::forget(inventory);
    Ok(ExitStatus::Success)
}

fn print(format: Format, inventory: &mut Inventory) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match format {
        Format::Json => {
            write_json(&mut out, inventory)?;
            writeln!(out)?;
        }
        Format::Table => write_table(&mut out, inventory)?,
    }
    out.flush()?;
    Ok(())
}

/// Exactly `serde_json::to_writer_pretty(out, inventory)`, several times faster: the RECORD files
/// (nearly all of the bytes) are written here, without serde's per-byte escaping scan, and the
/// rest by serde_json. `inventory` is as it was on return.
fn write_json(out: &mut impl Write, inventory: &mut Inventory) -> anyhow::Result<()> {
    let (mut buf, mut scratch) = (Vec::new(), Vec::new());
    buf.extend_from_slice(b"{\n  \"schema\": ");
    serde_json::to_writer(&mut buf, &inventory.schema)?;
    buf.extend_from_slice(b",\n  \"interpreter\": ");
    push_indented(&mut buf, &inventory.interpreter, 1, &mut scratch)?;
    buf.extend_from_slice(b",\n  \"distributions\": [");
    for (index, distribution) in inventory.distributions.iter_mut().enumerate() {
        buf.extend_from_slice(if index == 0 { b"\n    " } else { b",\n    " });
        let files = std::mem::take(&mut distribution.files);
        let head = push_indented(&mut buf, distribution, 2, &mut scratch);
        distribution.files = files;
        head?;
        write_files(out, &mut buf, &distribution.files)?;
    }
    buf.extend_from_slice(if inventory.distributions.is_empty() {
        b"],\n  \"problems\": "
    } else {
        b"\n  ],\n  \"problems\": "
    });
    push_indented(&mut buf, &inventory.problems, 1, &mut scratch)?;
    buf.extend_from_slice(b"\n}");
    out.write_all(&buf)?;
    Ok(())
}

/// `buf` holds a distribution serialised with no files, ending `"files": []` and its closing
/// brace; the files go in between, as serde_json would write them at that depth.
fn write_files(
    out: &mut impl Write,
    buf: &mut Vec<u8>,
    files: &[RecordFile],
) -> anyhow::Result<()> {
    const EMPTY: &[u8] = b"\"files\": []\n    }";
    anyhow::ensure!(
        buf.ends_with(EMPTY),
        "`files` is not the last field of a distribution"
    );
    if files.is_empty() {
        return Ok(());
    }
    buf.truncate(buf.len() - b"]\n    }".len());
    for (index, file) in files.iter().enumerate() {
        buf.extend_from_slice(if index == 0 {
            b"\n        {\n          \"path\": "
        } else {
            b",\n        {\n          \"path\": "
        });
        let path = file.path.as_os_str().as_encoded_bytes();
        if is_plain_ascii(path) {
            push_plain(buf, path);
        } else {
            serde_json::to_writer(&mut *buf, &file.path)?;
        }
        buf.extend_from_slice(b",\n          \"hash\": ");
        match &file.hash {
            Some(hash) if is_plain_ascii(hash.as_bytes()) => push_plain(buf, hash.as_bytes()),
            Some(hash) => serde_json::to_writer(&mut *buf, hash)?,
            None => buf.extend_from_slice(b"null"),
        }
        buf.extend_from_slice(b",\n          \"size\": ");
        match file.size {
            Some(size) => push_decimal(buf, size),
            None => buf.extend_from_slice(b"null"),
        }
        buf.extend_from_slice(b"\n        }");
        if buf.len() >= 1 << 16 {
            out.write_all(buf)?;
            buf.clear();
        }
    }
    buf.extend_from_slice(b"\n      ]\n    }");
    Ok(())
}

/// ASCII with nothing JSON escapes (paths and hashes, nearly always): then the bytes are the
/// string's JSON as they are. A branch-free scan the compiler vectorises (`b - 0x20 >= 0x60`
/// is `b < 0x20 || b >= 0x80`).
fn is_plain_ascii(bytes: &[u8]) -> bool {
    let special = bytes.iter().fold(0u8, |found, &b| {
        found | u8::from(b.wrapping_sub(0x20) >= 0x60) | u8::from(b == b'"') | u8::from(b == b'\\')
    });
    special == 0
}

/// `n` in decimal, as serde_json writes it (no `fmt` machinery: one per RECORD file).
fn push_decimal(buf: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[start..]);
}

/// `bytes` (plain ASCII) as a JSON string.
fn push_plain(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.push(b'"');
    buf.extend_from_slice(bytes);
    buf.push(b'"');
}

/// Appends `value` as pretty JSON nested `depth` levels deep: serialised alone, then each line
/// after the first indented. JSON strings hold no raw newline, so every `\n` serde_json writes
/// starts a line of structure.
fn push_indented(
    out: &mut Vec<u8>,
    value: &impl serde::Serialize,
    depth: usize,
    scratch: &mut Vec<u8>,
) -> serde_json::Result<()> {
    scratch.clear();
    serde_json::to_writer_pretty(&mut *scratch, value)?;
    let indent = "  ".repeat(depth);
    let mut start = 0;
    for newline in memchr::memchr_iter(b'\n', scratch) {
        out.extend_from_slice(&scratch[start..=newline]);
        out.extend_from_slice(indent.as_bytes());
        start = newline + 1;
    }
    out.extend_from_slice(&scratch[start..]);
    Ok(())
}

/// Plain aligned columns: name, version, licence, location, installer, flags.
pub fn write_table(out: &mut impl Write, inventory: &Inventory) -> anyhow::Result<()> {
    let interp = &inventory.interpreter;
    writeln!(
        out,
        "{} {} ({}){}",
        interp.implementation,
        interp.version,
        interp.executable.display(),
        if interp.is_venv { ", venv" } else { "" }
    )?;
    let mut rows = vec![[
        "NAME".to_owned(),
        "VERSION".to_owned(),
        "LICENCE".to_owned(),
        "LOCATION".to_owned(),
        "INSTALLER".to_owned(),
        "FLAGS".to_owned(),
    ]];
    for dist in &inventory.distributions {
        let mut flags = Vec::new();
        if dist.editable.is_some() {
            flags.push("editable");
        }
        if dist.shadowed {
            flags.push("shadowed");
        }
        let license: String = dist
            .license
            .best()
            .unwrap_or("-")
            .chars()
            .take(40)
            .collect();
        rows.push([
            dist.name.clone(),
            dist.version.clone(),
            license,
            dist.location.display().to_string(),
            dist.installer.clone().unwrap_or_else(|| "-".to_owned()),
            if flags.is_empty() {
                "-".to_owned()
            } else {
                flags.join(",")
            },
        ]);
    }
    write_rows(&mut *out, &rows)?;
    writeln!(
        out,
        "{} distributions, {} problems",
        inventory.distributions.len(),
        inventory.problems.len()
    )?;
    Ok(())
}

/// A reader that went away (`| head`) is not an error.
/// Prints one language's inventory to stdout — JSON as serde writes it, or the table
/// `write_table` writes — then each of its problems as a warning on stderr. A closed pipe
/// (`| head`) is not an error.
pub(super) fn print_listing<T: serde::Serialize, P: std::fmt::Display>(
    format: Format,
    inventory: &T,
    write_table: impl FnOnce(&mut dyn Write, &T) -> anyhow::Result<()>,
    problems: &[P],
) -> anyhow::Result<ExitStatus> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match format {
        Format::Json => serde_json::to_writer_pretty(&mut out, inventory)
            .map_err(anyhow::Error::from)
            .and_then(|()| Ok(writeln!(out)?)),
        Format::Table => write_table(&mut out, inventory),
    };
    match written.and_then(|()| Ok(out.flush()?)) {
        Err(err) if is_broken_pipe(&err) => {}
        other => other?,
    }
    for problem in problems {
        eprintln!("warning: {problem}");
    }
    Ok(ExitStatus::Success)
}

pub(super) fn is_broken_pipe(err: &anyhow::Error) -> bool {
    let broken = Some(std::io::ErrorKind::BrokenPipe);
    err.downcast_ref::<std::io::Error>()
        .map(std::io::Error::kind)
        == broken
        || err
            .downcast_ref::<serde_json::Error>()
            .and_then(serde_json::Error::io_error_kind)
            == broken
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use runbom_model::inventory::Interpreter;

    use super::*;

    fn fixture(sites: &[&str]) -> Inventory {
        let root =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../runbom-ecosystems/testdata/python");
        let interpreter = Interpreter {
            executable: PathBuf::from("/usr/bin/python3"),
            implementation: "cpython".into(),
            version: "3.11.7".into(),
            prefix: PathBuf::from("/usr"),
            base_prefix: PathBuf::from("/usr"),
            sys_path: sites.iter().map(|site| root.join(site)).collect(),
            user_site: Some(PathBuf::from("/home/a \"quoted\"\n site")),
            is_venv: false,
        };
        read_inventory_with(&interpreter, &[], Detail::Full)
    }

    #[test]
    fn json_is_serde_jsons_pretty_output() {
        for sites in [&["site-a", "site-b", "site-a"][..], &["missing"]] {
            let mut inventory = fixture(sites);
            let mut ours = Vec::new();
            write_json(&mut ours, &mut inventory).unwrap();
            let serde = serde_json::to_vec_pretty(&inventory).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(serde).unwrap(),
                "{sites:?}"
            );
        }
    }

    #[test]
    fn decimals_are_serde_jsons() {
        for n in [0, 7, 10, 4096, 1234567890, u64::MAX] {
            let mut ours = Vec::new();
            push_decimal(&mut ours, n);
            assert_eq!(ours, serde_json::to_vec(&n).unwrap(), "{n}");
        }
    }

    #[test]
    fn plain_ascii_is_its_own_json() {
        for text in ["", "a/b.py", "sha256=x-_", "~\u{7f} !#"] {
            assert!(is_plain_ascii(text.as_bytes()), "{text:?}");
            let mut ours = Vec::new();
            push_plain(&mut ours, text.as_bytes());
            assert_eq!(ours, serde_json::to_vec(text).unwrap(), "{text:?}");
        }
        let long = "abcdefghijklmnop/qrstuvwxyz0123456789";
        assert!(is_plain_ascii(long.as_bytes()));
        for at in 0..long.len() {
            let mut bad = long.as_bytes().to_vec();
            bad[at] = b'"';
            assert!(!is_plain_ascii(&bad), "{at}");
        }
        for text in ["a\"b", "a\\b", "tab\t", "\u{1f}", "é"] {
            assert!(!is_plain_ascii(text.as_bytes()), "{text:?}");
        }
    }

    #[test]
    fn the_fixture_has_what_the_json_test_needs() {
        let inventory = fixture(&["site-a", "site-b"]);
        assert!(inventory.distributions.len() > 2 && !inventory.problems.is_empty());
        assert!(inventory.distributions.iter().any(|d| d.editable.is_some()));
        assert!(fixture(&["missing"]).distributions.is_empty());
        let files = || inventory.distributions.iter().flat_map(|d| &d.files);
        assert!(files().any(|f| f.hash.is_none() && f.size.is_none()));
        assert!(files().any(|f| f.hash.is_some() && f.size.is_some()));
    }
}
