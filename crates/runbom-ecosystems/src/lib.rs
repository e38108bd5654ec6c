//! Language ecosystems, one module each behind one seam ([`language`]): for each, what is
//! installed (inventory), how a running program is observed (a hook, or the artefact itself) and
//! what it really loaded, and the ecosystem's naming rules.

pub mod attach;
pub mod cache;
pub mod descendants;
pub mod go;
pub mod hook;
pub mod language;
pub mod parallel;
pub mod perl;
pub mod process;
pub mod program;
pub mod python;
pub mod report;
pub mod ruby;
pub mod tcl;

pub use hook::{Hook, HookObservation, Launch};
pub use language::{Artefact, ArtefactError, LANGUAGES, LanguageModule, ObservedBy, language_of};
pub use program::Program;
