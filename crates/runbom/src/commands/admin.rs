//! `runbom admin …`: administration of a server's store: tokens, teams, dashboard users.

pub mod team;
pub mod token;
pub mod user;
