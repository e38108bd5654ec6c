//! Writers of VEX documents, one module per format, behind the [`VexWriter`] trait and registered
//! in [`VEX_WRITERS`]: CycloneDX 1.6 VEX (JSON) and OpenVEX 0.2.0.
//!
//! Trap: OpenVEX allows a justification *or* an impact statement on `not_affected`, never both,
//! so the evidence goes into `status_notes`; CycloneDX has its own state and justification names
//! (`not_affected` + `code_not_reachable` for `vulnerable_code_not_in_execute_path`).

mod cyclonedx;
mod openvex;

use runbom_model::vex::VexDocument;

pub use cyclonedx::CycloneDxVexWriter;
pub use openvex::OpenVexWriter;

use super::WriteError;

/// One VEX format.
pub trait VexWriter: Sync {
    /// Stable name: `cyclonedx/vex`, `openvex`.
    fn name(&self) -> &'static str;
    /// The whole document, ending in a newline.
    fn write(&self, vex: &VexDocument) -> Result<String, WriteError>;
}

/// Every VEX writer.
pub static VEX_WRITERS: &[&dyn VexWriter] = &[&CycloneDxVexWriter, &OpenVexWriter];

/// The VEX writer with this stable name.
pub fn vex_writer_by_name(name: &str) -> Option<&'static dyn VexWriter> {
    VEX_WRITERS.iter().copied().find(|w| w.name() == name)
}

#[cfg(test)]
mod tests;
