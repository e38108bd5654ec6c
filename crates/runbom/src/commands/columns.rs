//! Plain aligned columns for the table formats: every column but the last padded to its widest
//! cell (counted in characters), the last written as is.

use std::io::Write;

/// The width of each column (the last one's too, though it is not padded).
pub fn widths<const N: usize>(rows: &[[String; N]]) -> [usize; N] {
    let mut widths = [0usize; N];
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    widths
}

/// The cells of one row, each but the last padded to its column's width.
pub fn padded<const N: usize>(row: &[String; N], widths: &[usize; N]) -> Vec<String> {
    row.iter()
        .zip(widths)
        .enumerate()
        .map(|(i, (cell, width))| {
            if i + 1 == N {
                cell.clone()
            } else {
                format!("{cell:<width$}")
            }
        })
        .collect()
}

/// Writes `rows` as aligned columns, two spaces apart, trailing space trimmed.
pub fn write_rows<const N: usize>(
    out: &mut (impl Write + ?Sized),
    rows: &[[String; N]],
) -> std::io::Result<()> {
    let widths = widths(rows);
    for row in rows {
        writeln!(out, "{}", padded(row, &widths).join("  ").trim_end())?;
    }
    Ok(())
}
