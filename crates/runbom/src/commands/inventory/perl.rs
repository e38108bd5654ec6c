//! `runbom inventory --perl [PERL]`: the Perl distributions installed for a perl, one line each
//! (name, version, where it was found), or as `runbom.perl-inventory/v1` JSON with every file.
//! What could not be read (a malformed `.packlist` line, a broken `MYMETA.json`) is a warning
//! naming the file and line; the rest is still listed.

use std::io::Write;
use std::path::Path;

use runbom_ecosystems::perl::inventory::{
    DpkgDatabase, PerlInventory, Source, query_perl, read_inventory,
};

use crate::cli::Format;
use crate::commands::ExitStatus;

pub fn run(perl: &Path, format: Format) -> anyhow::Result<ExitStatus> {
    let info = query_perl(perl)?;
    let inventory = read_inventory(info, &DpkgDatabase::default());
    super::print_listing(
        format,
        &inventory,
        |out, i| write_table(out, i),
        &inventory.problems,
    )
}

fn write_table(out: &mut dyn Write, inventory: &PerlInventory) -> anyhow::Result<()> {
    let name_width = inventory
        .distributions
        .iter()
        .map(|d| d.name.len())
        .max()
        .unwrap_or(0)
        .max("DISTRIBUTION".len());
    let version_width = inventory
        .distributions
        .iter()
        .map(|d| d.version.len())
        .max()
        .unwrap_or(0)
        .max("VERSION".len());
    writeln!(
        out,
        "{:name_width$}  {:version_width$}  FROM",
        "DISTRIBUTION", "VERSION"
    )?;
    for dist in &inventory.distributions {
        let from = match (dist.source, &dist.debian_package) {
            (Source::Dpkg, Some(package)) => format!("debian {package}"),
            _ => dist.metadata_path.display().to_string(),
        };
        writeln!(
            out,
            "{:name_width$}  {:version_width$}  {from}",
            dist.name, dist.version
        )?;
    }
    writeln!(
        out,
        "{} distributions, {} core files of perl {}",
        inventory.distributions.len(),
        inventory.core_files.len(),
        inventory.perl.version
    )?;
    Ok(())
}
