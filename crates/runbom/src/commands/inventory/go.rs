//! `runbom inventory PATH…` for Go binaries: the table is exactly what `go version -m PATH…`
//! prints; JSON is `runbom.go-inventory/v1`. Files under a directory that could not be read are
//! warnings; a named file that is not a Go binary is an error (exit 2).

use std::io::Write;
use std::path::PathBuf;

use runbom_ecosystems::go::inventory::{BinaryInventory, read_inventory};

use crate::cli::Format;
use crate::commands::ExitStatus;

pub fn run(paths: &[PathBuf], format: Format) -> anyhow::Result<ExitStatus> {
    let inventory = read_inventory(paths)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &inventory)
            .map_err(anyhow::Error::from)
            .and_then(|()| Ok(writeln!(out)?)),
        Format::Table => inventory
            .binaries
            .iter()
            .try_for_each(|binary| write_go_version_m(&mut out, binary)),
    };
    match written.and_then(|()| Ok(out.flush()?)) {
        Err(err) if super::is_broken_pipe(&err) => {}
        other => other?,
    }
    for problem in &inventory.problems {
        eprintln!("warning: {problem}");
    }
    for binary in inventory.binaries.iter().filter(|b| b.info.recovered) {
        eprintln!(
            "note: `{}` has no Go build information blob (`go version -m` cannot read it); \
             its modules were read from the runtime's copy of the module text",
            binary.file.display()
        );
    }
    Ok(ExitStatus::Success)
}

fn write_go_version_m(out: &mut impl Write, binary: &BinaryInventory) -> anyhow::Result<()> {
    writeln!(out, "{}: {}", binary.file.display(), binary.info.go_version)?;
    for line in binary.info.go_version_m().lines() {
        writeln!(out, "\t{line}")?;
    }
    Ok(())
}
