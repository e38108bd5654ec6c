//! `runbom db …`: the local advisory store.

pub mod check;
