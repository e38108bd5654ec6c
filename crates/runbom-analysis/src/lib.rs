//! runbom's judgements: pure functions from model types (inventories, runtime reports, expected
//! inventories, advisories, policy) to findings. Nothing here does I/O.

pub mod enforce;
pub mod licenses;
pub mod observation;
pub mod policy;
pub mod sbom;
pub mod severity;
pub mod unused;
pub mod verify;
pub mod vex;
pub mod vulns;
