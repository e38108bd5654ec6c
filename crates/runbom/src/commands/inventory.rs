//! `runbom inventory`: every distribution installed for a Python interpreter, as a table or as
//! versioned JSON (`runbom.inventory/v1`).

use std::io::Write;

use runbom_ecosystems::python::{query_interpreter, read_inventory};
use runbom_model::inventory::Inventory;

use crate::cli::{Format, InventoryArgs};
use crate::commands::ExitStatus;

pub fn run(args: &InventoryArgs) -> anyhow::Result<ExitStatus> {
    let interpreter = query_interpreter(&args.python)?;
    let inventory = read_inventory(&interpreter, &args.paths);
    match print(args.format, &inventory) {
        Err(err) if is_broken_pipe(&err) => {}
        other => other?,
    }
    for problem in &inventory.problems {
        eprintln!("warning: {problem}");
    }
    Ok(ExitStatus::Success)
}

fn print(format: Format, inventory: &Inventory) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, inventory)?;
            writeln!(out)?;
        }
        Format::Table => write_table(&mut out, inventory)?,
    }
    out.flush()?;
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
    let mut widths = [0usize; 6];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  "));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(
        out,
        "{} distributions, {} problems",
        inventory.distributions.len(),
        inventory.problems.len()
    )?;
    Ok(())
}

/// A reader that went away (`| head`) is not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    let broken = Some(std::io::ErrorKind::BrokenPipe);
    err.downcast_ref::<std::io::Error>()
        .map(std::io::Error::kind)
        == broken
        || err
            .downcast_ref::<serde_json::Error>()
            .and_then(serde_json::Error::io_error_kind)
            == broken
}
