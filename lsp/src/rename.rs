//! Rename: an `as` binding (a `find`, `create`, `upsert`, `http`, `ask` result, or a
//! `for each` item) everywhere its rule uses it; an attribute, an option, a list, a
//! team or a rule id everywhere in the document's folder (every file `rulec check`
//! checks with it, the declarations included). A new name that is not a name, is a
//! reserved word, or is taken (an attribute the object has, an option of the same
//! attribute, a declared list or team, another rule's id) is refused with the reason.

use std::collections::HashMap;

use rulec::schema::Type;
use rulec::syntax::ast::Item;
use tower_lsp_server::ls_types::{Position, Range, TextEdit, Uri, WorkspaceEdit};

use crate::analysis::DocAnalysis;
use crate::position::{Encoding, Lines};
use crate::references::{folder_uses, unit_uri};
use crate::resolve::{self, Meaning};

/// The name under the cursor, when it can be renamed.
pub fn prepare(analysis: &DocAnalysis, lines: &Lines<'_>, position: Position) -> Option<Range> {
    let name = resolve::name_at(analysis, lines.offset(position))?;
    renamable(&name.meaning).then(|| lines.range(name.span))
}

fn renamable(meaning: &Meaning) -> bool {
    matches!(
        meaning,
        Meaning::Binding { .. }
            | Meaning::Attribute { .. }
            | Meaning::Option { .. }
            | Meaning::List(_)
            | Meaning::Team(_)
            | Meaning::Rule(_)
    )
}

/// Whether `text` is a name rules can write bare.
fn is_name(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !rulec::syntax::RESERVED_WORDS.contains(&text)
}

/// `text` as a string literal.
fn quoted(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Why a workspace name cannot become `new_name`, if it cannot.
fn refusal(analysis: &DocAnalysis, meaning: &Meaning, new_name: &str) -> Option<String> {
    let schema = analysis.schema();
    let must_be_name = |what: &str| {
        (!is_name(new_name)).then(|| {
            format!("`{new_name}` is not a name for {what}: use letters, digits and `_`, starting with a letter, and no reserved word")
        })
    };
    match meaning {
        Meaning::Attribute { object, .. } => must_be_name("an attribute").or_else(|| {
            if rulec::check::RESERVED_ROOTS.contains(&new_name) {
                return Some(format!(
                    "`{new_name}` already means something in every rule"
                ));
            }
            schema
                .object(object)
                .and_then(|o| o.attribute(new_name))
                .map(|_| format!("`{object}` already has an attribute `{new_name}`"))
        }),
        Meaning::Team(_) => must_be_name("a team").or_else(|| {
            schema
                .team(new_name)
                .map(|_| format!("a team `{new_name}` is already declared"))
        }),
        Meaning::Rule(_) => must_be_name("a rule id").or_else(|| {
            analysis
                .analysis()
                .checked
                .rules
                .iter()
                .any(|r| r.id == new_name)
                .then(|| format!("a rule already has the id `{new_name}`"))
        }),
        Meaning::List(_) => {
            if new_name.trim().is_empty() || new_name.contains("{{") {
                return Some("a list name is a non-empty text without `{{ }}`".into());
            }
            schema
                .list(new_name)
                .map(|_| format!("a list \"{new_name}\" is already declared"))
        }
        Meaning::Option { owner, .. } => {
            if new_name.trim().is_empty() {
                return Some("an option needs a name".into());
            }
            let (object, attr) = owner.split_once('.')?;
            let ty = schema.object(object)?.attribute(attr)?.ty.clone();
            let set = match &ty {
                Type::List(inner) => inner.options().cloned(),
                other => other.options().cloned(),
            }?;
            set.index_of(new_name)
                .map(|_| format!("`{owner}` already has an option `{new_name}`"))
        }
        _ => None,
    }
}

/// Renames a workspace name in every file of the folder.
fn rename_everywhere(
    analysis: &DocAnalysis,
    uri: &Uri,
    offset: usize,
    new_name: &str,
    encoding: Encoding,
) -> Result<Option<WorkspaceEdit>, String> {
    let Some((meaning, uses)) = folder_uses(analysis, offset) else {
        return Ok(None);
    };
    if let Some(why) = refusal(analysis, &meaning, new_name) {
        return Err(why);
    }
    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
    for u in uses {
        let doc = DocAnalysis {
            folder: analysis.folder.clone(),
            unit: u.unit,
        };
        let Some(target) = unit_uri(analysis, uri, u.unit) else {
            return Err("a file of the folder has no path to edit; save it first".into());
        };
        let written = doc
            .text()
            .get(u.name.span.lo()..u.name.span.hi())
            .unwrap_or("");
        // Lists are always quoted; an option is quoted where it was, or where the new
        // name cannot be written bare.
        let text = if written.starts_with('"') || !is_name(new_name) {
            quoted(new_name)
        } else {
            new_name.to_string()
        };
        let range = doc.lines(encoding).range(u.name.span);
        changes
            .entry(target)
            .or_default()
            .push(TextEdit::new(range, text));
    }
    Ok(Some(WorkspaceEdit::new(changes)))
}

/// The edits that rename the binding at `position` to `new_name`, or why not.
pub fn rename(
    analysis: &DocAnalysis,
    lines: &Lines<'_>,
    uri: &Uri,
    position: Position,
    new_name: &str,
    encoding: Encoding,
) -> Result<Option<WorkspaceEdit>, String> {
    let offset = lines.offset(position);
    let Some(wanted) = resolve::name_at(analysis, offset) else {
        return Ok(None);
    };
    let Meaning::Binding { name: old, .. } = &wanted.meaning else {
        if !renamable(&wanted.meaning) {
            return Err("this name cannot be renamed: built-in names, objects, webhooks and actions keep theirs".into());
        }
        return rename_everywhere(analysis, uri, offset, new_name, encoding);
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
