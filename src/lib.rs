//! rulec: a checked rule language for CRM automation.
//!
//! The pipeline, one module per stage (see ARCHITECTURE.md):
//! [`syntax`] (text → AST) → [`check`] (AST + [`schema`] → [`ir`]) → [`lint`], with
//! every problem reported as a [`diagnostics::Diagnostic`]. [`format`] prints the AST
//! back canonically; [`workspace`] ties the stages together for the CLI and editors.

// pest's derive, built without its `std` feature (see Cargo.toml), names `alloc`.
extern crate alloc;

pub mod check;
pub mod cli;
pub mod diagnostics;
pub mod format;
pub mod ir;
pub mod lint;
mod parallel;
pub mod schema;
pub mod source;
pub mod syntax;
pub mod workspace;
