//! Language ecosystems: for each, what is installed (inventory), what really runs (the runtime
//! hook and the collection of its observations), and the ecosystem's naming rules.

pub mod python;
