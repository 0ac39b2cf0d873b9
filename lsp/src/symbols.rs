//! Document symbols (the outline): rules, declarations and tests.

use rulec::source::Span;
use rulec::syntax::ast::{HeaderKind, Item, TriggerClause};
use std::sync::Arc;

use tower_lsp_server::ls_types::{
    DocumentSymbol, Location, OneOf, SymbolKind, Uri, WorkspaceSymbol,
};

use crate::analysis::{DocAnalysis, FolderAnalysis};
use crate::position::{Encoding, Lines};

#[allow(deprecated)] // `DocumentSymbol::deprecated` must be written, as `None`
fn symbol(
    lines: &Lines<'_>,
    name: String,
    detail: Option<String>,
    kind: SymbolKind,
    span: Span,
    selection: Span,
    children: Vec<DocumentSymbol>,
) -> DocumentSymbol {
    DocumentSymbol {
        name: if name.is_empty() { "?".into() } else { name },
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: lines.range(span),
        selection_range: lines.range(selection),
        children: (!children.is_empty()).then_some(children),
    }
}

/// The outline of the document.
pub fn document_symbols(analysis: &DocAnalysis, lines: &Lines<'_>) -> Vec<DocumentSymbol> {
    let Some(document) = analysis.document() else {
        return Vec::new();
    };
    let text = analysis.text();
    let mut out = Vec::new();
    for (index, item) in document.items.iter().enumerate() {
        let s = match item {
            Item::Rule(rule) => {
                let id = analysis
                    .checked_rule(index)
                    .map(|r| r.id.clone())
                    .or_else(|| rule.id_header().map(|(id, _)| id.name.clone()));
                let title = rule
                    .id_header()
                    .and_then(|(_, t)| t.and_then(|t| t.plain()));
                let trigger_span = match &rule.trigger {
                    TriggerClause::When(w) => w.span,
                    TriggerClause::Every(e) => e.span,
                };
                let trigger = text
                    .get(trigger_span.lo()..trigger_span.hi())
                    .unwrap_or("")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                let selection = rule
                    .headers
                    .iter()
                    .find_map(|h| match &h.kind {
                        HeaderKind::Rule { id, .. } => Some(id.span),
                        _ => None,
                    })
                    .unwrap_or(rule.anchor());
                let name = id.unwrap_or_else(|| short(&trigger));
                symbol(
                    lines,
                    name,
                    Some(title.unwrap_or(trigger)),
                    SymbolKind::FUNCTION,
                    rule.span,
                    selection,
                    Vec::new(),
                )
            }
            Item::Object(o) => {
                let children = o
                    .attrs
                    .iter()
                    .map(|a| {
                        symbol(
                            lines,
                            a.name.name.clone(),
                            text.get(a.ty.span.lo()..a.ty.span.hi()).map(str::to_string),
                            SymbolKind::FIELD,
                            a.span,
                            a.name.span,
                            Vec::new(),
                        )
                    })
                    .collect();
                symbol(
                    lines,
                    o.name.name.clone(),
                    Some("object".into()),
                    SymbolKind::CLASS,
                    o.span,
                    o.name.span,
                    children,
                )
            }
            Item::List(l) => symbol(
                lines,
                l.name.lossy(),
                Some(format!("list of {}", l.object.name)),
                SymbolKind::ARRAY,
                l.span,
                l.name.span,
                Vec::new(),
            ),
            Item::Team(t) => symbol(
                lines,
                t.name.name.clone(),
                Some(format!("team of {}", t.members.len())),
                SymbolKind::CONSTANT,
                t.span,
                t.name.span,
                Vec::new(),
            ),
            Item::Webhook(w) => {
                let children = w
                    .fields
                    .iter()
                    .map(|f| {
                        symbol(
                            lines,
                            f.name.name.clone(),
                            text.get(f.ty.span.lo()..f.ty.span.hi()).map(str::to_string),
                            SymbolKind::FIELD,
                            f.span,
                            f.name.span,
                            Vec::new(),
                        )
                    })
                    .collect();
                symbol(
                    lines,
                    w.name.name.clone(),
                    Some("webhook".into()),
                    SymbolKind::EVENT,
                    w.span,
                    w.name.span,
                    children,
                )
            }
            Item::Action(a) => symbol(
                lines,
                a.name.name.clone(),
                Some("action".into()),
                SymbolKind::METHOD,
                a.span,
                a.name.span,
                Vec::new(),
            ),
            Item::Test(t) => symbol(
                lines,
                t.name.lossy(),
                Some("test".into()),
                SymbolKind::MODULE,
                t.span,
                t.name.span,
                Vec::new(),
            ),
            Item::Error(_) => continue,
        };
        out.push(s);
    }
    out
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(48).collect();
    if text.chars().count() > 48 {
        s.push('…');
    }
    s
}

/// Whether `query`'s characters appear in `name` in order, ignoring case (`kacc`
/// finds `key_accounts`); an empty query finds everything.
fn matches_query(name: &str, query: &str) -> bool {
    let mut wanted = query.chars().flat_map(char::to_lowercase).peekable();
    for c in name.chars().flat_map(char::to_lowercase) {
        if wanted.peek() == Some(&c) {
            wanted.next();
        }
    }
    wanted.peek().is_none()
}

/// Workspace symbols: the outline's top-level entries (rules, objects, lists, teams,
/// webhooks, actions, tests) of every file of the given folders whose name matches
/// `query`, at their files.
pub fn workspace_symbols(
    folders: &[Arc<FolderAnalysis>],
    query: &str,
    encoding: Encoding,
) -> Vec<WorkspaceSymbol> {
    let mut out = Vec::new();
    for folder in folders {
        for unit in 0..folder.analysis.units.len() {
            let Some(uri) = folder
                .paths
                .get(unit)
                .and_then(Option::as_ref)
                .and_then(Uri::from_file_path)
            else {
                continue;
            };
            let doc = DocAnalysis {
                folder: folder.clone(),
                unit,
            };
            let lines = doc.lines(encoding);
            for symbol in document_symbols(&doc, &lines) {
                if !matches_query(&symbol.name, query) {
                    continue;
                }
                out.push(WorkspaceSymbol {
                    name: symbol.name,
                    kind: symbol.kind,
                    tags: None,
                    container_name: Some(folder.analysis.units[unit].file.name().to_string()),
                    location: OneOf::Left(Location::new(uri.clone(), symbol.selection_range)),
                    data: None,
                });
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out.dedup_by(|a, b| a.name == b.name && a.location == b.location);
    out
}

#[cfg(test)]
mod tests {
    use super::matches_query;

    #[test]
    fn a_query_matches_its_letters_in_order() {
        assert!(matches_query("key_accounts", "kacc"));
        assert!(matches_query("Key accounts", "KEY"));
        assert!(matches_query("anything", ""));
        assert!(!matches_query("wins", "sw"));
    }
}
