//! runbom's judgements: pure functions from model types (inventories, runtime reports, expected
//! inventories, advisories, policy) to findings. Nothing here does I/O.

pub mod severity;
pub mod verify;
pub mod vulns;
