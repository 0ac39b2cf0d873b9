//! `rulec` diagnostics as LSP diagnostics.
//!
//! Message, code (the lint or error name), severity and range are the library's; the
//! help text and related places become related information, and the fix travels in
//! `data` (as LSP edits) so a client can show it without asking again.

use rulec::diagnostics::{Diagnostic, Fix, Safety, Severity};
use serde_json::json;
use tower_lsp_server::ls_types::{
    self as lsp, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    TextEdit, Uri,
};

use crate::analysis::DocAnalysis;
use crate::position::Lines;

/// The source shown next to every diagnostic.
pub const SOURCE: &str = "rulec";

/// The protocol's severity for ours.
pub fn severity(severity: Severity) -> DiagnosticSeverity {
    match severity {
        Severity::Error => DiagnosticSeverity::ERROR,
        Severity::Warning => DiagnosticSeverity::WARNING,
        Severity::Info => DiagnosticSeverity::INFORMATION,
        Severity::Hint => DiagnosticSeverity::HINT,
    }
}

/// A fix as text edits.
pub fn fix_edits(fix: &Fix, lines: &Lines<'_>) -> Vec<TextEdit> {
    fix.edits
        .iter()
        .map(|e| TextEdit::new(lines.range(e.span), e.replacement.clone()))
        .collect()
}

/// One diagnostic for the protocol.
pub fn to_lsp(d: &Diagnostic, lines: &Lines<'_>, uri: &Uri) -> lsp::Diagnostic {
    let range = lines.range(d.span);
    let mut related: Vec<DiagnosticRelatedInformation> = d
        .related
        .iter()
        .map(|r| DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), lines.range(r.span)),
            message: r.message.clone(),
        })
        .collect();
    if let Some(help) = &d.help {
        related.push(DiagnosticRelatedInformation {
            location: Location::new(uri.clone(), range),
            message: format!("help: {help}"),
        });
    }
    let data = d.fix.as_ref().map(|fix| {
        json!({
            "fix": {
                "title": fix.title,
                "safe": fix.safety == Safety::Safe,
                "edits": fix_edits(fix, lines),
            }
        })
    });
    lsp::Diagnostic {
        range,
        severity: Some(severity(d.severity)),
        code: Some(NumberOrString::String(d.code.to_string())),
        code_description: None,
        source: Some(SOURCE.to_string()),
        message: d.message.clone(),
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data,
    }
}

/// Diagnostics of the document text `lines` converts for.
pub fn convert(diagnostics: &[Diagnostic], lines: &Lines<'_>, uri: &Uri) -> Vec<lsp::Diagnostic> {
    diagnostics.iter().map(|d| to_lsp(d, lines, uri)).collect()
}

/// Every diagnostic of the document, in `rulec check` order.
pub fn document_diagnostics(
    analysis: &DocAnalysis,
    lines: &Lines<'_>,
    uri: &Uri,
) -> Vec<lsp::Diagnostic> {
    analysis
        .diagnostics()
        .map(|d| to_lsp(d, lines, uri))
        .collect()
}
