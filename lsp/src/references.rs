//! Find references: every place in the document where the name at the cursor means
//! the same thing — an attribute of one object (whichever record reads it: `stage`,
//! `record.stage`, `deal.stage` of a loop item), an option, a list, a team, a webhook,
//! an action, a rule, an `as` binding — with its declaration when asked for and it is
//! in the document. `rulec refs` answers the same question across a workspace.

use tower_lsp_server::ls_types::{Location, Position, Uri};

use crate::analysis::DocAnalysis;
use crate::position::Lines;
use crate::resolve::{self, Meaning};

/// The uses of the name at `position`, in source order; `None` when there is no name
/// there, or one without identity (a built-in such as `event`).
pub fn references(
    analysis: &DocAnalysis,
    lines: &Lines<'_>,
    uri: &Uri,
    position: Position,
    include_declaration: bool,
) -> Option<Vec<Location>> {
    let offset = lines.offset(position);
    let wanted = resolve::name_at(analysis, offset)?;
    if matches!(wanted.meaning, Meaning::Builtin(_) | Meaning::Field { .. }) {
        return None;
    }
    let document = analysis.document()?;
    let mut spans = Vec::new();
    for (index, item) in document.items.iter().enumerate() {
        for name in resolve::item_names(analysis, index, item) {
            if name.meaning == wanted.meaning && (include_declaration || !name.declaration) {
                spans.push(name.span);
            }
        }
    }
    spans.sort_by_key(|s| (s.lo(), s.hi()));
    spans.dedup();
    Some(
        spans
            .into_iter()
            .map(|span| Location::new(uri.clone(), lines.range(span)))
            .collect(),
    )
}
