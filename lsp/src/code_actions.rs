//! Code actions: each diagnostic's fix, and for every lint diagnostic an
//! `allow <lint> "<reason>"` header on the rule it is about.

use std::collections::HashMap;

use rulec::diagnostics::{Diagnostic, Safety};
use rulec::lint;
use rulec::source::Span;
use rulec::syntax::ast::{Item, TriggerClause};
use tower_lsp_server::ls_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Range, TextEdit, Uri, WorkspaceEdit,
};

use crate::analysis::DocAnalysis;
use crate::diagnostics::{fix_edits, to_lsp};
use crate::position::Lines;

/// The reason written into an `allow` header, for the author to replace.
pub const REASON_PLACEHOLDER: &str = "explain why this rule is fine";

fn action(
    title: String,
    uri: &Uri,
    edits: Vec<TextEdit>,
    diagnostic: tower_lsp_server::ls_types::Diagnostic,
    preferred: bool,
) -> CodeActionOrCommand {
    let mut changes = HashMap::new();
    changes.insert(uri.clone(), edits);
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic]),
        edit: Some(WorkspaceEdit {
            changes: Some(changes),
            document_changes: None,
            change_annotations: None,
        }),
        command: None,
        is_preferred: Some(preferred),
        disabled: None,
        data: None,
    })
}

/// The code actions for the diagnostics that touch `range`.
pub fn code_actions(
    analysis: &DocAnalysis,
    lines: &Lines<'_>,
    uri: &Uri,
    range: Range,
) -> Vec<CodeActionOrCommand> {
    let wanted = lines.span(range);
    let mut out = Vec::new();
    for d in analysis.diagnostics() {
        let touches = d.span.lo() <= wanted.hi() && wanted.lo() <= d.span.hi();
        if !touches {
            continue;
        }
        let lsp_diagnostic = to_lsp(d, lines, uri);
        if let Some(fix) = &d.fix {
            out.push(action(
                fix.title.clone(),
                uri,
                fix_edits(fix, lines),
                lsp_diagnostic.clone(),
                fix.safety == Safety::Safe,
            ));
        }
        if let Some(edit) = allow_edit(analysis, d) {
            out.push(action(
                format!("allow `{}` in this rule, with a reason", d.code),
                uri,
                vec![TextEdit::new(lines.range(edit.0), edit.1)],
                lsp_diagnostic,
                false,
            ));
        }
    }
    out
}

/// The insertion that adds `allow <lint> "<reason>"` to the rule holding a lint
/// diagnostic: a header line just before the trigger, indented like it.
pub fn allow_edit(analysis: &DocAnalysis, d: &Diagnostic) -> Option<(Span, String)> {
    let lint = lint::lint(&d.code)?;
    let (_, item) = analysis.item_at(d.span.lo())?;
    let Item::Rule(rule) = item else {
        return None;
    };
    let text = analysis.text();
    let trigger = match &rule.trigger {
        TriggerClause::When(w) => w.keyword.lo(),
        TriggerClause::Every(e) => e.span.lo(),
    };
    let line_start = text.get(..trigger)?.rfind('\n').map_or(0, |n| n + 1);
    let before = text.get(line_start..trigger)?;
    let header = format!("allow {} \"{REASON_PLACEHOLDER}\"", lint.name);
    let indent: String = before.chars().take_while(|c| c.is_whitespace()).collect();
    if before.trim_start().starts_with("rule ") {
        // `rule <id>` must stay first: the header goes between it and the trigger.
        return Some((Span::new(trigger, trigger), format!("{header}\n{indent}  ")));
    }
    // A header line of its own before the trigger's line (which may hold headers too).
    Some((
        Span::new(line_start, line_start),
        format!("{indent}{header}\n"),
    ))
}
