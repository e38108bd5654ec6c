//! `runbom inventory --ruby [RUBY]`: every gem of a Ruby interpreter's `Gem.path`, as a table
//! (name, version, licences, platform, where, default) or as `runbom.ruby-inventory/v1` JSON.
//! A gemspec that cannot be read is a warning naming its file and line; the rest are listed.

use std::io::Write;
use std::path::Path;

use runbom_ecosystems::ruby::{GemInventory, query_interpreter, read_inventory};

use crate::cli::Format;
use crate::commands::ExitStatus;
use crate::commands::columns::write_rows;

pub fn run(ruby: &Path, format: Format) -> anyhow::Result<ExitStatus> {
    let interpreter = query_interpreter(ruby)?;
    let inventory = read_inventory(&interpreter, &[]);
    super::print_listing(
        format,
        &inventory,
        |out, i| write_table(out, i),
        &inventory.problems,
    )
}

fn write_table(out: &mut dyn Write, inventory: &GemInventory) -> anyhow::Result<()> {
    let interpreter = &inventory.interpreter;
    writeln!(
        out,
        "{} {} ({})",
        interpreter.implementation,
        interpreter.version,
        interpreter.executable.display()
    )?;
    let mut rows = vec![[
        "NAME".to_owned(),
        "VERSION".to_owned(),
        "LICENCE".to_owned(),
        "PLATFORM".to_owned(),
        "LOCATION".to_owned(),
        "FLAGS".to_owned(),
    ]];
    for gem in &inventory.gems {
        let licence = if gem.licenses.is_empty() {
            "-".to_owned()
        } else {
            gem.licenses.join(" OR ")
        };
        rows.push([
            gem.name.clone(),
            gem.version.clone(),
            licence,
            gem.platform.clone(),
            gem.location.display().to_string(),
            if gem.default { "default" } else { "-" }.to_owned(),
        ]);
    }
    write_rows(out, &rows)?;
    writeln!(
        out,
        "{} gems, {} problems",
        inventory.gems.len(),
        inventory.problems.len()
    )?;
    Ok(())
}
