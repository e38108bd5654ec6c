//! `runbom inventory --tclsh [TCLSH]`: every Tcl package the shell can find, as aligned columns
//! or as `runbom.tcl-inventory/v1` JSON. A malformed `pkgIndex.tcl` is a warning naming its file
//! and line, and the rest is still listed; a program that is not a Tcl shell is an error (exit 2).

use std::io::Write;
use std::path::Path;

use runbom_ecosystems::tcl::inventory::{
    PackageSource, TclInventory, query_interpreter, read_inventory,
};

use crate::cli::Format;
use crate::commands::ExitStatus;
use crate::commands::columns::write_rows;

pub fn run(tclsh: &Path, format: Format) -> anyhow::Result<ExitStatus> {
    let interpreter = query_interpreter(tclsh)?;
    let inventory = read_inventory(&interpreter, &[]);
    super::print_listing(
        format,
        &inventory,
        |out, i| write_table(out, i),
        &inventory.problems,
    )
}

/// The interpreter, then name, version, how it is found, where, and whether it is Tcl's own.
pub fn write_table(out: &mut dyn Write, inventory: &TclInventory) -> anyhow::Result<()> {
    let tcl = &inventory.interpreter;
    writeln!(
        out,
        "tcl {} ({}), library {}",
        tcl.version,
        tcl.executable.display(),
        tcl.library.display()
    )?;
    let mut rows = vec![[
        "NAME".to_owned(),
        "VERSION".to_owned(),
        "SOURCE".to_owned(),
        "LOCATION".to_owned(),
        "FLAGS".to_owned(),
    ]];
    for package in &inventory.packages {
        rows.push([
            package.name.clone(),
            package.version.clone(),
            match package.source {
                PackageSource::PkgIndex => "pkgIndex".to_owned(),
                PackageSource::Module => "tm".to_owned(),
            },
            package.location.display().to_string(),
            if package.stdlib { "stdlib" } else { "-" }.to_owned(),
        ]);
    }
    write_rows(&mut *out, &rows)?;
    writeln!(
        out,
        "{} packages, {} problems",
        inventory.packages.len(),
        inventory.problems.len()
    )?;
    Ok(())
}
