//! Python: distributions installed for an interpreter (`*.dist-info`, `*.egg-info`), and the
//! runtime hook that records which modules a live interpreter imports.

pub mod environment;
pub mod hash_cache;
pub mod integrity;
mod inventory;
mod metadata;
pub mod runtime;
pub mod venv_hook;

pub use inventory::{
    Detail, Error, by_name, cache_root, query_interpreter, read_inventory, read_inventory_with,
};
pub use metadata::{Headers, parse_headers};
