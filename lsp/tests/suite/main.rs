//! The integration tests of `rulec-lsp`, one binary (one link instead of five): each
//! module is what a separate `tests/*.rs` file would be.

mod code_actions;
mod edits;
mod equivalence;
mod features;
mod stdio;
mod workspace;
