//! Checking `test` blocks: every name and every value, against the schema, with the
//! same literal rules as rule text — so `rulec check` catches `value: "lots"` and a
//! test's `2026-01-05T09:00Z` means what it means in a rule.
//!
//! [`literal`] turns a checked test value into the event JSON the test runner feeds
//! the engine; it is the one conversion, used by the checker (to refuse what it cannot
//! convert) and by [`crate::testing`].

use std::sync::Arc;

use serde_json::{json, Map, Value as Json};

use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::schema::{Object, Schema, StructType, Type};
use crate::source::SourceFile;
use crate::syntax::ast::{self, ExprKind, TestClauseKind, TriggerKind};

use super::expr::timestamp_literal;
use super::rule::{Checker, Context};
use super::scope::{self, Scope};
use super::suggest_or_list;

/// What `expect` may name besides custom actions.
const EXPECTABLE: &[&str] = &[
    "set", "clear", "slack", "email", "task", "create", "upsert", "note", "http", "wait", "ask",
    "list", "run", "skip", "stop", "fail",
];

/// Checks a `test` block's names and values against the schema (running it is the
/// engine's job).
pub(super) fn check_test(
    schema: &Schema,
    file: &Arc<SourceFile>,
    test: &ast::TestBlock,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let cx = Context {
        schema,
        file,
        rule_ids: &[],
    };
    let mut checker = Checker {
        cx: &cx,
        diagnostics,
        scope: Scope::default(),
        secrets_allowed: false,
    };
    // An `event` without an object is about the record of the last `given`.
    let mut given: Option<&Object> = None;
    for clause in &test.clauses {
        match &clause.kind {
            TestClauseKind::Given { object, fields, .. } => {
                let Some(object) = checker.object(object) else {
                    continue;
                };
                given = Some(object);
                check_fields(&mut checker, Fields::Object(object), fields);
            }
            TestClauseKind::Event {
                object,
                trigger,
                fields,
            } => {
                let object = match object {
                    Some(name) => checker.object(name),
                    None => given,
                };
                check_event(&mut checker, object, trigger, fields.as_deref());
            }
            TestClauseKind::MockHttp { url, answer } => {
                if !(url.lossy().starts_with("https://") || url.lossy().starts_with("http://")) {
                    checker.error(
                        "invalid-value",
                        format!("`{}` is not an http(s) URL", url.lossy()),
                        url.span,
                        Some("write the start of the URLs it answers, e.g. `given http \"https://api.example.com/\" { … }`".into()),
                    );
                }
                if let Err(message) = literal(answer) {
                    checker.error("invalid-value", message, answer.span, None);
                }
            }
            TestClauseKind::MockAsk { answer } => {
                check_fields(&mut checker, Fields::Shape(&super::scope::ANSWER), answer);
            }
            TestClauseKind::Redeliver => {}
            TestClauseKind::Expect { action, .. } => {
                if !EXPECTABLE.contains(&action.name.as_str())
                    && schema.action(&action.name).is_none()
                {
                    let mut names: Vec<&str> = EXPECTABLE.to_vec();
                    names.extend(schema.actions.iter().map(|a| a.name.as_str()));
                    let help = suggest_or_list(&action.name, names.iter().copied(), "expectations");
                    checker.error(
                        "unknown-action",
                        format!("cannot expect `{}`", action.name),
                        action.span,
                        Some(help),
                    );
                }
            }
        }
    }
}

/// Where the fields of a `{ … }` in a test belong.
#[derive(Clone, Copy)]
enum Fields<'a> {
    /// A record's attributes.
    Object(&'a Object),
    /// An activity or a webhook payload.
    Shape(&'a StructType),
}

impl Fields<'_> {
    fn name(&self) -> &str {
        match self {
            Fields::Object(o) => &o.name,
            Fields::Shape(s) => &s.name,
        }
    }

    fn field(&self, name: &str) -> Option<&Type> {
        match self {
            Fields::Object(o) => o.attribute(name).map(|a| &a.ty),
            Fields::Shape(s) => s.field(name),
        }
    }

    fn names(&self) -> Vec<&str> {
        match self {
            Fields::Object(o) => o.attributes.iter().map(|a| a.name.as_str()).collect(),
            Fields::Shape(s) => s.fields.iter().map(|(n, _)| n.as_str()).collect(),
        }
    }
}

fn check_fields(checker: &mut Checker<'_>, owner: Fields<'_>, fields: &[ast::MapEntry]) {
    for field in fields {
        let Some(ty) = owner.field(&field.key.name).cloned() else {
            let help = suggest_or_list(&field.key.name, owner.names(), "its fields");
            checker.error(
                "unknown-attribute",
                format!("`{}` has no attribute `{}`", owner.name(), field.key.name),
                field.key.span,
                Some(help),
            );
            continue;
        };
        let what = format!("`{}.{}`", owner.name(), field.key.name);
        check_value(checker, &field.value, &ty, &what);
    }
}

fn check_event(
    checker: &mut Checker<'_>,
    object: Option<&Object>,
    trigger: &ast::Trigger,
    fields: Option<&[ast::MapEntry]>,
) {
    let schema = checker.cx.schema;
    let owner = match &trigger.kind {
        TriggerKind::Webhook(name) => match schema.webhook(&name.name) {
            Some(webhook) => Some(Fields::Shape(&webhook.payload)),
            None => {
                let help =
                    did_you_mean(&name.name, schema.webhooks.iter().map(|w| w.name.as_str()))
                        .unwrap_or_else(|| {
                            format!("declare it with `webhook {} {{ … }}`", name.name)
                        });
                checker.error(
                    "unknown-webhook",
                    format!("unknown webhook `{}`", name.name),
                    name.span,
                    Some(help),
                );
                None
            }
        },
        TriggerKind::Matches(_) => {
            checker.error(
                "invalid-test",
                "a `matches` event cannot be simulated",
                trigger.span,
                Some("write the change that makes the record match, e.g. `event stage changed to Qualified`".into()),
            );
            None
        }
        TriggerKind::RuleFailed { .. } => {
            checker.error(
                "invalid-test",
                "`rule … failed` cannot be simulated as an event",
                trigger.span,
                Some("make the watched rule fail instead".into()),
            );
            None
        }
        kind => match scope::activity(kind).or_else(|| {
            let list = schema.list(&kind.list()?.plain()?)?;
            Some(("entry", scope::entry(list)))
        }) {
            Some((_, shape)) => {
                if let TriggerKind::Changed { attr, from, to, .. } = kind {
                    match shape.field(&attr.name) {
                        Some(ty) => {
                            let what = format!("`{}`", attr.name);
                            for value in [from, to].into_iter().flatten().flat_map(|v| &v.items) {
                                check_value(checker, value, ty, &what);
                            }
                        }
                        // The rule's own check says what the entries have.
                        None => return,
                    }
                }
                check_fields(checker, Fields::Shape(&shape), fields.unwrap_or_default());
                return;
            }
            None => object.map(Fields::Object),
        },
    };
    if let (
        TriggerKind::Changed {
            attr,
            from,
            to,
            list: None,
        },
        Some(Fields::Object(object)),
    ) = (&trigger.kind, owner)
    {
        match object.attribute(&attr.name) {
            Some(attribute) => {
                let what = format!("`{}.{}`", object.name, attr.name);
                for values in [from, to].into_iter().flatten() {
                    for value in &values.items {
                        check_value(checker, value, &attribute.ty, &what);
                    }
                }
            }
            None => checker.unknown_attribute(object, attr),
        }
    }
    if let (Some(owner), Some(fields)) = (owner, fields) {
        check_fields(checker, owner, fields);
    }
}

/// A test value: a literal the runner can turn into event JSON, of the field's type.
fn check_value(checker: &mut Checker<'_>, value: &ast::Expr, ty: &Type, what: &str) {
    let json = match literal(value) {
        Ok(json) => json,
        Err(message) => {
            checker.error("invalid-value", message, value.span, None);
            return;
        }
    };
    // A duration is a number of seconds in tests as in events (`duration: 2700`), and
    // a record reference the referenced record's id, as events carry them.
    if *ty == Type::Duration && json.as_f64().is_some_and(|n| n.fract() == 0.0)
        || matches!(ty, Type::Record(_)) && json.is_string()
    {
        return;
    }
    if let (ExprKind::Path(segments), None) = (&value.kind, ty.options()) {
        if !ty.is_wild() {
            let name = segments
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(".");
            checker.error(
                "type-mismatch",
                format!("{what} expects {ty}, but `{name}` is a name"),
                value.span,
                Some(
                    "test values are literals: write text in quotes, numbers, dates or `empty`"
                        .into(),
                ),
            );
            return;
        }
    }
    checker.value_for(value, ty, what);
}

/// A test value as event JSON: options become their names, `empty` null, durations
/// seconds, times RFC 3339 — what a CRM event would carry.
pub fn literal(expr: &ast::Expr) -> Result<Json, String> {
    Ok(match &expr.kind {
        // A whole number stays whole, as an API would send it (`120`, not `120.0`).
        ExprKind::Number(n) if n.value.fract() == 0.0 && n.value.abs() < 9.0e15 => {
            json!(n.value as i64)
        }
        ExprKind::Number(n) => json!(n.value),
        ExprKind::String(s) => json!(s
            .plain()
            .ok_or("test values are literals; `{{ }}` is not evaluated here")?),
        ExprKind::Bool(b) => json!(b),
        ExprKind::Empty => Json::Null,
        ExprKind::Date(d) => json!(d),
        ExprKind::DateTime(text) => match timestamp_literal(text) {
            Some(t) => json!(t.to_rfc3339()),
            None => return Err(format!("`{text}` is not a valid time")),
        },
        ExprKind::Duration(d) => json!(d.seconds()),
        ExprKind::List(items) => Json::Array(items.iter().map(literal).collect::<Result<_, _>>()?),
        ExprKind::Map(entries) => Json::Object(literal_map(entries)?),
        ExprKind::Path(segments) if segments.len() == 1 => json!(segments[0].name),
        ExprKind::Paren(inner) => literal(inner)?,
        ExprKind::Unary {
            op: ast::UnaryOp::Neg,
            operand,
        } => match literal(operand)? {
            Json::Number(n) => json!(-n.as_f64().unwrap_or(0.0)),
            _ => return Err("only numbers can be negative".into()),
        },
        _ => {
            return Err(
                "test values must be literals (text, numbers, options, dates, lists)".into(),
            )
        }
    })
}

/// The fields of a `{ … }` in a test as event JSON.
pub fn literal_map(fields: &[ast::MapEntry]) -> Result<Map<String, Json>, String> {
    fields
        .iter()
        .map(|f| Ok((f.key.name.clone(), literal(&f.value)?)))
        .collect()
}
