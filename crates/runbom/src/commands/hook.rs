//! `runbom hook`: enable the runtime hook permanently in a virtualenv, remove it, and build
//! reports from what an installed hook observed.

pub mod flush;
pub mod install;
pub mod tcl;
pub mod uninstall;
