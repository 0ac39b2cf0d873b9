//! rulec: a checked rule language for CRM automation.
//!
//! The pipeline, one module per stage (see ARCHITECTURE.md):
//! [`syntax`] (text → AST) → [`check`] (AST + [`schema`] → [`ir`]) → [`lint`], with
//! every problem reported as a [`diagnostics::Diagnostic`]. [`format`](mod@format) prints the AST
//! back canonically; [`workspace`] ties the stages together for the CLI and editors.
//!
//! ```
//! use rulec::diagnostics::Severity;
//! use rulec::workspace::analyze_text;
//!
//! let rule = r##"when stage changed from Open to ClosedWon and value > 10000 do slack "#wins""##;
//! let analysis = analyze_text("wins.rules", rule);
//! // Clean: no error, no warning (only a hint that a header-less rule has no owner).
//! assert!(analysis.diagnostics.iter().all(|d| d.severity < Severity::Warning));
//!
//! // The checked IR: the object was inferred, the id generated from the file name.
//! let compiled = &analysis.checked.rules[0];
//! assert_eq!(compiled.object.as_deref(), Some("deals"));
//! assert_eq!(compiled.id, "wins#1");
//!
//! // A typo is an error with a suggestion, never a panic.
//! let analysis = analyze_text("wins.rules", &rule.replace("Open", "Opn"));
//! assert_eq!(analysis.diagnostics[0].help.as_deref(), Some("did you mean `Open`?"));
//! ```

// pest's derive, built without its `std` feature (see Cargo.toml), names `alloc`.
extern crate alloc;

pub mod check;
#[cfg(feature = "cli")]
pub mod cli;
pub mod diagnostics;
pub mod engine;
pub mod format;
pub mod graph;
pub mod ir;
pub mod lint;
mod parallel;
pub mod reference;
pub mod refs;
pub mod schema;
#[cfg(feature = "serve")]
pub mod serve;
pub mod source;
pub mod syntax;
pub mod testing;
pub mod workspace;
