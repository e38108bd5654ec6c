//! `runbom inventory PATH…` for Go binaries: the table is exactly what `go version -m PATH…`
//! prints; JSON is `runbom.go-inventory/v1`. Files under a directory that could not be read are
//! warnings; a named file that is not a Go binary is an error (exit 2).

use std::io::Write;
use std::path::PathBuf;

use runbom_ecosystems::go::inventory::{BinaryInventory, GoInventory, read_inventory};

use crate::cli::Format;
use crate::commands::ExitStatus;

pub fn run(paths: &[PathBuf], format: Format) -> anyhow::Result<ExitStatus> {
    let inventory = read_inventory(paths)?;
    let table = |out: &mut dyn Write, inventory: &GoInventory| {
        inventory
            .binaries
            .iter()
            .try_for_each(|binary| write_go_version_m(out, binary))
    };
    super::print_listing(format, &inventory, table, &inventory.problems)?;
    for binary in inventory.binaries.iter().filter(|b| b.info.recovered) {
        eprintln!(
            "note: `{}` has no Go build information blob (`go version -m` cannot read it); \
             its modules were read from the runtime's copy of the module text",
            binary.file.display()
        );
    }
    Ok(ExitStatus::Success)
}

fn write_go_version_m(out: &mut dyn Write, binary: &BinaryInventory) -> anyhow::Result<()> {
    writeln!(out, "{}: {}", binary.file.display(), binary.info.go_version)?;
    for line in binary.info.go_version_m().lines() {
        writeln!(out, "\t{line}")?;
    }
    Ok(())
}
