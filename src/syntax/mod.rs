//! Text to AST. Parsing never fails: it returns a document plus diagnostics.
//!
//! The document is split into items (`split`), each item is parsed by pest on its own
//! (`grammar/rules.pest`) and lowered to the AST (`lower`). An item that does not parse
//! becomes [`ast::Item::Error`] with one syntax diagnostic worded for people
//! (`expected`); every other item is unaffected.
//!
//! This layer knows no schema and no LSP.

pub mod ast;
mod expected;
mod lower;
pub mod split;

use std::sync::Arc;

use pest::Parser as _;

use crate::diagnostics::Diagnostic;
use crate::source::{SourceFile, Span};

pub use ast::Document;

/// Words that can never be names (the grammar's `reserved`): they continue or end an
/// expression or a block.
pub const RESERVED_WORDS: &[&str] = &[
    "and", "as", "after", "ago", "before", "contains", "do", "ends", "end", "empty", "else",
    "every", "false", "in", "is", "if", "not", "now", "or", "starts", "true", "today", "then",
    "when", "where", "within",
];

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/rules.pest"]
pub(crate) struct RulesParser;

/// A parsed document and the syntax diagnostics found on the way.
#[derive(Debug)]
pub struct Parsed {
    /// The items (broken ones as `Item::Error`).
    pub document: Document,
    /// Syntax errors, one per broken item.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses a whole file. Items are independent, so large files are parsed on every
/// core; the result is the same as parsing them one by one.
pub fn parse(file: &Arc<SourceFile>) -> Parsed {
    let text = file.text();
    let split = split::split(text);
    let parsed = crate::parallel::map_parts(&split.chunks, |chunk| {
        parse_item(file, &split.comments, chunk)
    });
    let mut items = Vec::with_capacity(split.chunks.len());
    let mut diagnostics = Vec::new();
    for (item, diagnostic) in parsed.into_iter().flatten() {
        items.push(item);
        diagnostics.extend(diagnostic);
    }
    Parsed {
        document: Document {
            items,
            comments: split.comments,
        },
        diagnostics,
    }
}

/// Parses one item. Exposed so an editor can reparse only the item that changed;
/// `comments` are the document's comments (from the split), used to trim spans.
pub fn parse_item(
    file: &Arc<SourceFile>,
    comments: &[Span],
    chunk: &split::Chunk,
) -> (ast::Item, Vec<Diagnostic>) {
    let span = chunk.span;
    if let Some(at) = chunk.too_deep {
        let diagnostic = Diagnostic::error(
            file,
            "syntax-error",
            format!("brackets nested more than {} deep", split::MAX_NESTING),
            Span::new(at, at + 1),
        )
        .with_help("split the expression into smaller steps or conditions");
        return (ast::Item::Error(span), vec![diagnostic]);
    }
    let text = file.slice(span);
    match RulesParser::parse(Rule::item_file, text) {
        Ok(mut pairs) => match pairs.next() {
            Some(pair) => lower::item(file, comments, pair, span.lo()),
            None => (ast::Item::Error(span), Vec::new()),
        },
        Err(error) => {
            let diagnostic = expected::syntax_error(file, span.lo(), text, &error);
            (ast::Item::Error(span), vec![diagnostic])
        }
    }
}

/// Runs only the pest stage over every item (no lowering), returning the number of
/// tokens; used by the benchmarks to separate grammar cost from lowering cost.
#[doc(hidden)]
pub fn pest_tokens(text: &str) -> usize {
    split::split(text)
        .chunks
        .iter()
        .filter_map(|chunk| text.get(chunk.span.lo()..chunk.span.hi()))
        .filter_map(|item| RulesParser::parse(Rule::item_file, item).ok())
        .map(|pairs| pairs.flatten().count())
        .sum()
}
