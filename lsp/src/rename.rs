//! Rename an `as` binding (a `find`, `create`, `upsert`, `http`, `ask` result, or a
//! `for each` item) everywhere the rule uses it. A new name that is not a name, is a
//! reserved word, or already means something in the rule is refused with the reason.
//! Names declared for the whole workspace (attributes, lists, teams, rule ids) are
//! not renamed here: their uses span files (`rulec refs` lists them).

use std::collections::HashMap;

use rulec::syntax::ast::Item;
use tower_lsp_server::ls_types::{Position, Range, TextEdit, Uri, WorkspaceEdit};

use crate::analysis::DocAnalysis;
use crate::position::Lines;
use crate::resolve::{self, Meaning};

/// The binding's name under the cursor, when it can be renamed here.
pub fn prepare(analysis: &DocAnalysis, lines: &Lines<'_>, position: Position) -> Option<Range> {
    let name = resolve::name_at(analysis, lines.offset(position))?;
    matches!(name.meaning, Meaning::Binding { .. }).then(|| lines.range(name.span))
}

/// The edits that rename the binding at `position` to `new_name`, or why not.
pub fn rename(
    analysis: &DocAnalysis,
    lines: &Lines<'_>,
    uri: &Uri,
    position: Position,
    new_name: &str,
) -> Result<Option<WorkspaceEdit>, String> {
    let offset = lines.offset(position);
    let Some(wanted) = resolve::name_at(analysis, offset) else {
        return Ok(None);
    };
    let Meaning::Binding { name: old, .. } = &wanted.meaning else {
        return Err("only `as` bindings and `for each` items are renamed here; `rulec refs` lists the uses of attributes, lists and teams across the workspace".into());
    };
    let Some((index, item)) = analysis.item_at(offset) else {
        return Ok(None);
    };
    if new_name == old {
        return Ok(None);
    }
    let is_name = new_name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && new_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !is_name {
        return Err(format!(
            "`{new_name}` is not a name: use letters, digits and `_`, starting with a letter"
        ));
    }
    if rulec::syntax::RESERVED_WORDS.contains(&new_name) {
        return Err(format!("`{new_name}` is a reserved word"));
    }
    if rulec::check::RESERVED_ROOTS.contains(&new_name) {
        return Err(format!(
            "`{new_name}` already means something in every rule"
        ));
    }
    let names = resolve::item_names(analysis, index, item);
    let taken = names
        .iter()
        .any(|n| matches!(&n.meaning, Meaning::Binding { name, .. } if name == new_name));
    let attribute = match item {
        Item::Rule(rule) => resolve::rule_object(analysis, index, rule)
            .is_some_and(|object| object.attribute(new_name).is_some()),
        _ => false,
    };
    if taken || attribute {
        return Err(format!(
            "`{new_name}` is already {} in this rule",
            if taken {
                "a binding"
            } else {
                "an attribute of the record"
            }
        ));
    }
    let edits: Vec<TextEdit> = names
        .iter()
        .filter(|n| n.meaning == wanted.meaning)
        .map(|n| TextEdit::new(lines.range(n.span), new_name.to_string()))
        .collect();
    Ok(Some(WorkspaceEdit::new(HashMap::from([(
        uri.clone(),
        edits,
    )]))))
}
