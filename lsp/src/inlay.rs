//! Inlay hints: what the checker inferred and the text does not say — the object of a
//! rule that names none (`when [deals] stage changed …`) and what an `as` binding holds
//! (`as open_deals: list of deals`).

use rulec::ir::{self, Action};
use rulec::schema::Type;
use rulec::syntax::ast::{self, HeaderKind, Item, TriggerClause};
use tower_lsp_server::ls_types::{InlayHint, InlayHintKind, InlayHintLabel, Range};

use crate::analysis::DocAnalysis;
use crate::hover::type_text;
use crate::position::Lines;

/// The hints of the items that touch `range`.
pub fn inlay_hints(analysis: &DocAnalysis, lines: &Lines<'_>, range: Range) -> Vec<InlayHint> {
    let Some(document) = analysis.document() else {
        return Vec::new();
    };
    let wanted = lines.span(range);
    let mut out = Vec::new();
    for (index, item) in document.items.iter().enumerate() {
        let Item::Rule(rule) = item else { continue };
        if rule.span.hi() < wanted.lo() || rule.span.lo() > wanted.hi() {
            continue;
        }
        let Some(checked) = analysis.checked_rule(index) else {
            continue;
        };
        if let (Some(object), Some(at)) = (&checked.object, unnamed_object_at(rule)) {
            out.push(hint(
                lines,
                at,
                format!("{object} "),
                InlayHintKind::TYPE,
                false,
            ));
        }
        let bound = bindings(&checked.steps);
        for step in ast::all_steps(&rule.steps) {
            let Some(name) = step.kind.binding() else {
                continue;
            };
            if let Some((_, ty)) = bound.iter().find(|(n, _)| *n == name.name) {
                out.push(hint(
                    lines,
                    name.span.hi(),
                    format!(": {ty}"),
                    InlayHintKind::TYPE,
                    true,
                ));
            }
        }
    }
    out
}

/// Where the rule's object would be written, when it is not: before the trigger.
fn unnamed_object_at(rule: &ast::Rule) -> Option<usize> {
    if rule
        .headers
        .iter()
        .any(|h| matches!(h.kind, HeaderKind::On(_)))
    {
        return None;
    }
    match &rule.trigger {
        TriggerClause::When(when) if when.object.is_none() => Some(when.trigger.span.lo()),
        _ => None,
    }
}

/// What each `as` binding of the steps holds, in words.
fn bindings(steps: &[ir::Step]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for step in ir::visit::all_steps(steps) {
        let text = match &step.action {
            Action::Find {
                object,
                binding,
                all,
                ..
            } => Some((
                binding.clone(),
                if *all {
                    format!("list of {object}")
                } else {
                    object.clone()
                },
            )),
            Action::Create {
                object,
                binding: Some(b),
                ..
            }
            | Action::Upsert {
                object,
                binding: Some(b),
                ..
            } => Some((b.clone(), object.clone())),
            Action::ForEach { binding, list, .. } => {
                let item = match &list.ty {
                    Type::List(item) => item.as_ref(),
                    other => other,
                };
                let shown = match item {
                    Type::Record(object) => object.clone(),
                    other => type_text(other),
                };
                Some((binding.clone(), shown))
            }
            Action::Http {
                binding: Some(b), ..
            } => Some((b.clone(), "json".to_string())),
            Action::Ask { binding, .. } => Some((binding.clone(), "answer".to_string())),
            Action::CreateTask {
                binding: Some(b), ..
            } => Some((b.clone(), "task".to_string())),
            _ => None,
        };
        out.extend(text);
    }
    out
}

fn hint(lines: &Lines<'_>, at: usize, label: String, kind: InlayHintKind, left: bool) -> InlayHint {
    InlayHint {
        position: lines.position(at),
        label: InlayHintLabel::String(label),
        kind: Some(kind),
        text_edits: None,
        tooltip: None,
        padding_left: Some(left),
        padding_right: Some(false),
        data: None,
    }
}
