//! Find references and document highlights: every place where the name at the
//! cursor means the same thing — an attribute of one object (whichever record reads
//! it: `stage`, `record.stage`, `deal.stage` of a loop item), an option, a list, a
//! team, a webhook, an action, a rule, an `as` binding. References and rename look in
//! every file of the document's folder (what `rulec check` checks together, the schema
//! file included); highlights and bindings stay in the document.

use tower_lsp_server::ls_types::{
    DocumentHighlight, DocumentHighlightKind, Location, Position, Uri,
};

use crate::analysis::DocAnalysis;
use crate::position::{Encoding, Lines};
use crate::resolve::{self, Meaning, Name};

/// A use in some file of the folder.
pub struct Use {
    /// The folder's unit it is in.
    pub unit: usize,
    /// The name there.
    pub name: Name,
}

/// The uses of the name at `offset` in every file of the document's folder (in the
/// document only for an `as` binding, which is the rule's own), the name's meaning
/// first; `None` when there is no name there, or one without identity.
pub fn folder_uses(analysis: &DocAnalysis, offset: usize) -> Option<(Meaning, Vec<Use>)> {
    let wanted = resolve::name_at(analysis, offset)?;
    if matches!(wanted.meaning, Meaning::Builtin(_) | Meaning::Field { .. }) {
        return None;
    }
    let units: Vec<usize> = match wanted.meaning {
        Meaning::Binding { .. } => vec![analysis.unit],
        _ => (0..analysis.analysis().units.len()).collect(),
    };
    let mut out = Vec::new();
    for unit in units {
        let doc = DocAnalysis {
            folder: analysis.folder.clone(),
            unit,
        };
        let Some(document) = doc.document() else {
            continue;
        };
        let mut names: Vec<Name> = Vec::new();
        for (index, item) in document.items.iter().enumerate() {
            names.extend(
                resolve::item_names(&doc, index, item)
                    .into_iter()
                    .filter(|n| n.meaning == wanted.meaning),
            );
        }
        names.sort_by_key(|n| (n.span.lo(), n.span.hi()));
        names.dedup_by_key(|n| (n.span.lo(), n.span.hi()));
        out.extend(names.into_iter().map(|name| Use { unit, name }));
    }
    Some((wanted.meaning, out))
}

/// Where a unit's file is, for an editor: the document's own URI, or its path's.
pub fn unit_uri(analysis: &DocAnalysis, uri: &Uri, unit: usize) -> Option<Uri> {
    if unit == analysis.unit {
        return Some(uri.clone());
    }
    let path = analysis.folder.paths.get(unit)?.as_ref()?;
    Uri::from_file_path(path)
}

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

/// Find references: the uses in every file of the folder, with the declaration when
/// asked for.
pub fn references(
    analysis: &DocAnalysis,
    lines: &Lines<'_>,
    uri: &Uri,
    position: Position,
    include_declaration: bool,
    encoding: Encoding,
) -> Option<Vec<Location>> {
    let (_, found) = folder_uses(analysis, lines.offset(position))?;
    let mut out = Vec::new();
    for u in found {
        if !include_declaration && u.name.declaration {
            continue;
        }
        let Some(target) = unit_uri(analysis, uri, u.unit) else {
            continue;
        };
        let doc = DocAnalysis {
            folder: analysis.folder.clone(),
            unit: u.unit,
        };
        out.push(Location::new(
            target,
            doc.lines(encoding).range(u.name.span),
        ));
    }
    Some(out)
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
