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
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &inventory)
            .map_err(anyhow::Error::from)
            .and_then(|()| Ok(writeln!(out)?)),
        Format::Table => write_table(&mut out, &inventory),
    };
    match written.and_then(|()| Ok(out.flush()?)) {
        Err(err) if super::is_broken_pipe(&err) => {}
        other => other?,
    }
    for problem in &inventory.problems {
        eprintln!("warning: {problem}");
    }
    Ok(ExitStatus::Success)
}

fn write_table(out: &mut impl Write, inventory: &GemInventory) -> anyhow::Result<()> {
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
