//! `runbom db …`: the local advisory store.

pub mod check;
pub mod import;
pub mod status;
pub mod update;
