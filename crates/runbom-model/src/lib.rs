//! runbom's domain types, shared by every other crate: what a component is, what an inventory
//! and a runtime report hold, what an advisory and a finding say. Nothing here does I/O.

pub mod advisory;
mod ecosystem;
pub mod enforce;
pub mod expected;
pub mod integrity;
pub mod inventory;
mod language;
mod name;
pub mod redact;
pub mod release;
pub mod runtime;
pub mod sbom;
pub mod vex;

pub use advisory::Advisory;
pub use ecosystem::{Ecosystem, UnknownEcosystem};
pub use language::{Language, UnknownLanguage};
pub use name::PackageName;
pub use runtime::RuntimeReport;
