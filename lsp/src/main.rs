//! The `rulec-lsp` binary: a language server on standard input and output.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::args().any(|a| a == "--version" || a == "-V") {
        println!("rulec-lsp {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if rulec_lsp::serve_stdio().await {
        ExitCode::SUCCESS
    } else {
        // `exit` without `shutdown` (or the client went away), as the protocol says.
        ExitCode::from(1)
    }
}
