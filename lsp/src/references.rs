//! Find references and document highlights: every place in the document where the
//! name at the cursor means the same thing — an attribute of one object (whichever
//! record reads it: `stage`, `record.stage`, `deal.stage` of a loop item), an option,
//! a list, a team, a webhook, an action, a rule, an `as` binding. `rulec refs`
//! answers the same question across a workspace.

use tower_lsp_server::ls_types::{
    DocumentHighlight, DocumentHighlightKind, Location, Position, Uri,
};

use crate::analysis::DocAnalysis;
use crate::position::Lines;
use crate::resolve::{self, Meaning, Name};

/// The uses of the name at `position`, in source order; `None` when there is no name
/// there, or one without identity (a built-in such as `event`).
fn uses(analysis: &DocAnalysis, lines: &Lines<'_>, position: Position) -> Option<Vec<Name>> {
    let wanted = resolve::name_at(analysis, lines.offset(position))?;
    if matches!(wanted.meaning, Meaning::Builtin(_) | Meaning::Field { .. }) {
        return None;
    }
    let document = analysis.document()?;
    let mut out: Vec<Name> = Vec::new();
    for (index, item) in document.items.iter().enumerate() {
        out.extend(
            resolve::item_names(analysis, index, item)
                .into_iter()
                .filter(|n| n.meaning == wanted.meaning),
        );
    }
    out.sort_by_key(|n| (n.span.lo(), n.span.hi()));
    out.dedup_by_key(|n| (n.span.lo(), n.span.hi()));
    Some(out)
}

/// Find references: the uses, with the declaration when asked for and it is in the
/// document.
pub fn references(
    analysis: &DocAnalysis,
    lines: &Lines<'_>,
    uri: &Uri,
    position: Position,
    include_declaration: bool,
) -> Option<Vec<Location>> {
    let found = uses(analysis, lines, position)?;
    Some(
        found
            .into_iter()
            .filter(|n| include_declaration || !n.declaration)
            .map(|n| Location::new(uri.clone(), lines.range(n.span)))
            .collect(),
    )
}

/// Document highlights: the uses, the declaration marked as written, the rest as read.
pub fn highlights(
    analysis: &DocAnalysis,
    lines: &Lines<'_>,
    position: Position,
) -> Option<Vec<DocumentHighlight>> {
    let found = uses(analysis, lines, position)?;
    Some(
        found
            .into_iter()
            .map(|n| DocumentHighlight {
                range: lines.range(n.span),
                kind: Some(if n.declaration {
                    DocumentHighlightKind::WRITE
                } else {
                    DocumentHighlightKind::READ
                }),
            })
            .collect(),
    )
}
