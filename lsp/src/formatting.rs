//! Formatting: the whole document through `rulec fmt`'s printer. A document with
//! syntax errors is left alone (no edits), so a half-typed rule is never rewritten.

use tower_lsp_server::ls_types::TextEdit;

use crate::analysis::DocAnalysis;
use crate::position::Lines;

/// The edits that format the document (none when it is formatted or does not parse).
pub fn format(analysis: &DocAnalysis, lines: &Lines<'_>) -> Vec<TextEdit> {
    if analysis.has_syntax_errors() {
        return Vec::new();
    }
    let Some(document) = analysis.document() else {
        return Vec::new();
    };
    let text = analysis.text();
    let formatted = rulec::format::format_document(text, document);
    if formatted == text {
        return Vec::new();
    }
    vec![TextEdit::new(lines.whole(), formatted)]
}
