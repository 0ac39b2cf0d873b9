//! Hover: what the name under the cursor is (an attribute's type and options, an
//! option's place in its pipeline, a list, team, webhook or action), what a keyword
//! means, and the documentation of a lint reported there.

use rulec::schema::{Schema, Type};
use rulec::{lint, reference};
use tower_lsp_server::ls_types::{Hover, HoverContents, MarkupContent, MarkupKind, Position};

use crate::analysis::DocAnalysis;
use crate::keywords::{self, ACTIONS, FUNCTIONS, HEADERS, ITEMS, OPERATORS, PARTS, TRIGGERS};
use crate::lexer::{self, Kind};
use crate::position::Lines;
use crate::resolve::{self, Meaning};

/// The hover at `position`, if there is anything to say.
pub fn hover(analysis: &DocAnalysis, lines: &Lines<'_>, position: Position) -> Option<Hover> {
    let offset = lines.offset(position);
    let mut sections: Vec<String> = Vec::new();
    let mut range = None;
    if let Some(name) = resolve::name_at(analysis, offset) {
        if let Some(text) = describe(analysis.schema(), &name.meaning) {
            sections.push(text);
            range = Some(lines.range(name.span));
        }
    }
    if sections.is_empty() {
        // After `do`, a word like `note` is the action, before it the trigger.
        use rulec::syntax::ast::Item;
        let item = analysis.item_at(offset).map(|(_, item)| item);
        let place = match item {
            Some(Item::Rule(rule)) if rule.do_span.hi() <= offset => Place::Steps,
            Some(
                Item::Object(_)
                | Item::List(_)
                | Item::Webhook(_)
                | Item::Action(_)
                | Item::Team(_),
            ) => Place::Declaration,
            _ => Place::Rule,
        };
        if let Some((span, text)) = keyword_at(analysis.text(), offset, place) {
            sections.push(text);
            range = Some(lines.range(span));
        }
    }
    for d in analysis.diagnostics() {
        if d.span.lo() <= offset && offset <= d.span.hi() {
            if let Some(l) = lint::lint(&d.code) {
                sections.push(format!(
                    "**{}** ({})\n\n{}",
                    l.name,
                    l.summary,
                    l.docs.trim()
                ));
            }
        }
    }
    sections.dedup();
    if sections.is_empty() {
        return None;
    }
    Some(Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value: sections.join("\n\n---\n\n"),
        }),
        range,
    })
}

/// Markdown for a type, with options listed (in pipeline order for a status).
pub fn type_text(ty: &Type) -> String {
    let options = match ty {
        Type::List(inner) => inner.options(),
        ty => ty.options(),
    };
    match (ty, options) {
        (Type::Status(set), _) => format!("status: {}", set.options.join(" → ")),
        (_, Some(set)) => format!("{ty}: {}", set.options.join(", ")),
        _ => ty.to_string(),
    }
}

/// What a resolved name is, in Markdown.
pub fn describe(schema: &Schema, meaning: &Meaning) -> Option<String> {
    Some(match meaning {
        Meaning::Object(name) => {
            let object = schema.object(name)?;
            let attrs: Vec<String> = object
                .attributes
                .iter()
                .map(|a| format!("  {}: {}", a.name, a.ty))
                .collect();
            format!(
                "```rules\nobject {} {{\n{}\n}}\n```\n{}",
                object.name,
                attrs.join("\n"),
                if object.builtin {
                    "built-in object"
                } else {
                    "declared object"
                }
            )
        }
        Meaning::Attribute { object, attr } => {
            let a = schema.object(object)?.attribute(attr)?;
            let mut flags = Vec::new();
            if a.readonly {
                flags.push("readonly");
            }
            if a.unique {
                flags.push("unique");
            }
            let flags = if flags.is_empty() {
                String::new()
            } else {
                format!(" ({})", flags.join(", "))
            };
            format!("`{object}.{attr}`{flags}\n\n{}", type_text(&a.ty))
        }
        Meaning::Field { shape, field, ty } => match ty {
            Some(ty) => format!("`{shape}.{field}`: {}", type_text(ty)),
            None => match keywords::shape_field_type(shape, field) {
                Some(ty) => format!("`{shape}.{field}`: {ty}"),
                None => format!("`{shape}.{field}`"),
            },
        },
        Meaning::Builtin(name) => keywords::builtin_doc(name)?.to_string(),
        Meaning::Option { owner, name } => option_text(schema, owner, name)?,
        Meaning::List(name) => {
            let list = schema.list(name)?;
            format!("list `\"{}\"` of `{}`", list.name, list.object)
        }
        Meaning::Team(name) => {
            let team = schema.team(name)?;
            format!(
                "team `{}`, in rotation order: {}",
                team.name,
                team.members.join(", ")
            )
        }
        Meaning::Webhook(name) => {
            let webhook = schema.webhook(name)?;
            let fields: Vec<String> = webhook
                .payload
                .fields
                .iter()
                .map(|(n, t)| format!("{n}: {t}"))
                .collect();
            format!(
                "webhook `{}`: payload {{ {} }}",
                webhook.name,
                fields.join(", ")
            )
        }
        Meaning::Action(name) => {
            let action = schema.action(name)?;
            let params: Vec<String> = action
                .params
                .iter()
                .map(|(n, t)| format!("{n}: {t}"))
                .collect();
            format!(
                "```rules\naction {}({}){}\n```\ncustom action{}",
                action.name,
                params.join(", "),
                if action.idempotent { " idempotent" } else { "" },
                if action.idempotent {
                    " (safe to repeat)"
                } else {
                    "; not idempotent: give it a `key`"
                }
            )
        }
        Meaning::Param { action, name } => {
            let action = schema.action(action)?;
            let (_, ty) = action.params.iter().find(|(n, _)| n == name)?;
            format!("parameter `{name}` of `{}`: {}", action.name, type_text(ty))
        }
        Meaning::Rule(id) => format!("rule `{id}`"),
        Meaning::Binding { name, object, .. } => match object {
            Some(object) => format!("`{name}`: record({object}), bound with `as`"),
            None => format!("`{name}`: bound with `as`"),
        },
        Meaning::Function(name) => keywords::doc(name, &[FUNCTIONS])?.to_string(),
        Meaning::Lint(name) => {
            let l = lint::lint(name)?;
            format!(
                "**{}** (default: {})\n\n{}",
                l.name,
                l.default.as_str(),
                l.docs.trim()
            )
        }
    })
}

fn option_text(schema: &Schema, owner: &str, name: &str) -> Option<String> {
    let (object, attr) = owner.split_once('.')?;
    let ty = &schema.object(object)?.attribute(attr)?.ty;
    let set = match ty {
        Type::List(inner) => inner.options()?.clone(),
        ty => ty.options()?.clone(),
    };
    let index = set.index_of(name)?;
    Some(match ty {
        Type::Status(_) => {
            let pipeline: Vec<String> = set
                .options
                .iter()
                .map(|o| {
                    if o == name {
                        format!("**{o}**")
                    } else {
                        o.clone()
                    }
                })
                .collect();
            format!(
                "`{name}`: step {} of {} in the `{owner}` pipeline\n\n{}",
                index + 1,
                set.options.len(),
                pipeline.join(" → ")
            )
        }
        _ => format!(
            "`{name}`: option {} of {} of `{owner}`\n\n{}",
            index + 1,
            set.options.len(),
            set.options.join(", ")
        ),
    })
}

/// Where a keyword stands, which decides what it means.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A rule's headers, trigger and condition, or a test.
    Rule,
    /// A rule's steps (after `do`).
    Steps,
    /// An object, list, team, webhook or action declaration.
    Declaration,
}

/// The keyword under the cursor, its meaning and the reference section that explains
/// it (not in strings or comments).
fn keyword_at(text: &str, offset: usize, place: Place) -> Option<(rulec::source::Span, String)> {
    let in_steps = place == Place::Steps;
    let tokens = lexer::lex(text);
    let at = tokens
        .iter()
        .position(|t| t.span.lo() <= offset && offset <= t.span.hi() && t.kind == Kind::Word)?;
    let word_of = |i: usize| {
        let t = tokens.get(i).filter(|t| t.kind == Kind::Word)?;
        text.get(t.span.lo()..t.span.hi())
    };
    let token = tokens.get(at)?;
    let word = word_of(at)?;
    let tables: &[&[keywords::Keyword]] = if in_steps {
        &[
            ACTIONS, OPERATORS, FUNCTIONS, TRIGGERS, HEADERS, ITEMS, PARTS,
        ]
    } else {
        &[
            TRIGGERS, HEADERS, ITEMS, OPERATORS, FUNCTIONS, ACTIONS, PARTS,
        ]
    };
    let (doc, section) = match place {
        Place::Declaration => (
            keywords::declaration_doc(word),
            keywords::declaration_section(word),
        ),
        _ => {
            let prev = at.checked_sub(1).and_then(word_of);
            let next = word_of(at + 1);
            (
                None,
                keywords::reference_section(word, prev, next, in_steps),
            )
        }
    };
    let mut out = doc.or_else(|| keywords::doc(word, tables))?.to_string();
    if let Some(section) = section.and_then(reference::section) {
        let summary = section.summary();
        if !summary.is_empty() {
            out.push_str("\n\n");
            out.push_str(&summary);
        }
        out.push_str(&format!(
            "\n\nReference: `{}`, § {}",
            reference::LANGUAGE_PATH,
            section.path()
        ));
    }
    Some((token.span, out))
}
