//! Go to definition: objects, attributes, lists, teams, webhooks, custom actions,
//! rules named by `rule … failed`, and `as` bindings — in the document or in any other
//! file of its folder (the schema file included).

use std::sync::Arc;

use rulec::schema::Origin;
use rulec::source::{SourceFile, Span};
use tower_lsp_server::ls_types::{Location, Position, Uri};

use crate::analysis::DocAnalysis;
use crate::position::{Encoding, Lines};
use crate::resolve::{self, Meaning};

/// Where the name at `position` is declared. Built-in objects (the prelude) have no
/// file, so they have no definition.
pub fn definition(
    analysis: &DocAnalysis,
    lines: &Lines<'_>,
    uri: &Uri,
    position: Position,
    encoding: Encoding,
) -> Option<Location> {
    let offset = lines.offset(position);
    let name = resolve::name_at(analysis, offset)?;
    let schema = analysis.schema();
    let origin: Option<&Origin> = match &name.meaning {
        Meaning::Object(n) => schema.object(n)?.origin.as_ref(),
        Meaning::Attribute { object, attr } => {
            schema.object(object)?.attribute(attr)?.origin.as_ref()
        }
        Meaning::List(n) => schema.list(n)?.origin.as_ref(),
        Meaning::Team(n) => schema.team(n)?.origin.as_ref(),
        Meaning::Webhook(n) => schema.webhook(n)?.origin.as_ref(),
        Meaning::Action(n) | Meaning::Param { action: n, .. } => schema.action(n)?.origin.as_ref(),
        Meaning::Binding { declared, .. } => {
            return Some(Location::new(uri.clone(), lines.range(*declared)));
        }
        Meaning::Rule(id) => {
            let (unit, span) = resolve::rule_by_id(analysis, id)?;
            let file = analysis.folder.file(unit)?.clone();
            return locate(analysis, lines, uri, &file, span, encoding);
        }
        _ => None,
    };
    let origin = origin?;
    locate(analysis, lines, uri, &origin.file, origin.span, encoding)
}

/// A span in the document or in another file of its folder (the schema file
/// included) as a location.
fn locate(
    analysis: &DocAnalysis,
    lines: &Lines<'_>,
    uri: &Uri,
    file: &Arc<SourceFile>,
    span: Span,
    encoding: Encoding,
) -> Option<Location> {
    if analysis.is_document(file) {
        return Some(Location::new(uri.clone(), lines.range(span)));
    }
    let folder = &analysis.folder;
    let unit = folder.unit_of(file)?;
    let path = folder.paths.get(unit)?.as_ref()?;
    let target = Uri::from_file_path(path)?;
    let index = folder.line_index(unit)?;
    let other = Lines::new(file.text(), index, encoding);
    Some(Location::new(target, other.range(span)))
}
