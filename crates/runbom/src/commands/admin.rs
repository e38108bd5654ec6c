//! `runbom admin …`: administration of a server's store.

pub mod token;
