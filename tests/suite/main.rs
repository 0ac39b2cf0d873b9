//! The integration tests of `rulec`, one binary (one link instead of eight): each
//! module is what a separate `tests/*.rs` file would be.

mod cli;
mod condition_soundness;
mod engine;
mod engine_properties;
mod lint_docs;
mod properties;
mod robustness;
mod serve;
