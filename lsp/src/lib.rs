//! `rulec-lsp`: the language server for rulec rule files.
//!
//! Only [`server`] knows the protocol transport (tower-lsp-server) and tokio. Every
//! feature is a pure function over a [`analysis::DocAnalysis`] and a position, tested
//! without a server:
//!
//! - [`folder`]: which files a document is checked with (its folder, as
//!   `rulec check <folder>` reads it, open documents' text winning);
//! - [`analysis`]: a folder checked exactly as `rulec check <folder>` checks it, and
//!   one document's view of it;
//! - [`document`]: open documents, edits applied in order, one analysis per folder;
//! - [`position`]: byte offsets ⇄ LSP positions (UTF-16, or UTF-8 when negotiated);
//! - [`diagnostics`], [`hover`], [`completion`], [`definition`], [`symbols`],
//!   [`folding`], [`semantic_tokens`], [`formatting`], [`code_actions`]: the features;
//! - [`resolve`] (what names mean), [`lexer`] (tokens of half-typed text) and
//!   [`keywords`] (what keywords mean): shared by the features.

pub mod analysis;
pub mod code_actions;
pub mod code_lens;
pub mod completion;
pub mod definition;
pub mod diagnostics;
pub mod document;
pub mod folder;
pub mod folding;
pub mod formatting;
pub mod hover;
pub mod incremental;
pub mod inlay;
pub mod keywords;
pub mod lexer;
pub mod position;
pub mod references;
pub mod rename;
pub mod resolve;
pub mod semantic_tokens;
pub mod server;
pub mod signature;
pub mod symbols;
pub mod transport;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tower_lsp_server::{LspService, Server};

/// Serves the protocol on standard input and output until `exit`. Returns whether
/// `shutdown` came first (the process then exits with status 0, else 1).
pub async fn serve_stdio() -> bool {
    let shutdown = Arc::new(AtomicBool::new(false));
    let flag = shutdown.clone();
    let (service, socket) = LspService::new(move |client| server::Backend::new(client, flag));
    transport::serve(
        tokio::io::stdin(),
        tokio::io::stdout(),
        move |input, output| {
            Box::pin(async move { Server::new(input, output, socket).serve(service).await })
        },
    )
    .await;
    shutdown.load(Ordering::SeqCst)
}
