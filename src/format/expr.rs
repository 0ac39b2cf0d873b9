//! Expressions and strings in canonical form.

use crate::syntax::ast::{self, ExprKind, StringLit, StringPart, UnaryOp};

/// An expression on one line. The tree already encodes precedence and keeps the
/// author's parentheses, so printing it back needs none of its own.
pub fn expr(e: &ast::Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, e);
    out
}

fn write_expr(out: &mut String, e: &ast::Expr) {
    match &e.kind {
        ExprKind::Number(n) => out.push_str(&n.text),
        ExprKind::String(s) => write_string(out, s),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::Empty => out.push_str("empty"),
        ExprKind::Now => out.push_str("now"),
        ExprKind::Today => out.push_str("today"),
        ExprKind::Date(d) | ExprKind::DateTime(d) => out.push_str(d),
        ExprKind::Duration(d) => write_duration(out, d),
        ExprKind::Ago(d) => {
            write_duration(out, d);
            out.push_str(" ago");
        }
        ExprKind::FromNow(d) => {
            out.push_str("in ");
            write_duration(out, d);
        }
        ExprKind::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, item);
            }
            out.push(']');
        }
        ExprKind::Map(entries) => {
            if entries.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{ ");
            for (i, entry) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                if entry.quoted || !is_plain_ident(&entry.key.name) {
                    out.push('"');
                    out.push_str(&entry.key.name.replace('\\', "\\\\").replace('"', "\\\""));
                    out.push('"');
                } else {
                    out.push_str(&entry.key.name);
                }
                out.push_str(": ");
                write_expr(out, &entry.value);
            }
            out.push_str(" }");
        }
        ExprKind::Path(segments) => {
            for (i, s) in segments.iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(&s.name);
            }
        }
        ExprKind::Call { name, args } => {
            out.push_str(&name.name);
            out.push('(');
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_expr(out, a);
            }
            out.push(')');
        }
        ExprKind::Unary { op, operand } => {
            out.push_str(match op {
                UnaryOp::Not => "not ",
                UnaryOp::Neg => "-",
            });
            write_expr(out, operand);
        }
        ExprKind::Binary { op, lhs, rhs, .. } => {
            write_expr(out, lhs);
            out.push(' ');
            out.push_str(op.as_str());
            out.push(' ');
            write_expr(out, rhs);
        }
        ExprKind::Test { op, operand } => {
            write_expr(out, operand);
            out.push(' ');
            out.push_str(op.as_str());
        }
        ExprKind::InList {
            operand,
            list,
            negated,
        } => {
            write_expr(out, operand);
            out.push_str(if *negated {
                " not in list "
            } else {
                " in list "
            });
            write_string(out, list);
        }
        ExprKind::Paren(inner) => {
            out.push('(');
            write_expr(out, inner);
            out.push(')');
        }
    }
}

/// A duration with its unit spelled for its amount (`1 day`, `2 days`).
pub(super) fn duration(d: &ast::Duration) -> String {
    let mut out = String::new();
    write_duration(&mut out, d);
    out
}

fn write_duration(out: &mut String, d: &ast::Duration) {
    out.push_str(&d.amount.text);
    out.push(' ');
    out.push_str(d.unit.name(d.amount.value != 1.0));
}

/// A string literal as written, with holes printed canonically as `{{expr}}`.
pub fn string(s: &StringLit) -> String {
    let mut out = String::new();
    write_string(&mut out, s);
    out
}

fn write_string(out: &mut String, s: &StringLit) {
    out.push('"');
    for part in &s.parts {
        match part {
            StringPart::Text { raw, .. } => out.push_str(raw),
            StringPart::Hole(e) => {
                out.push_str("{{");
                write_expr(out, e);
                out.push_str("}}");
            }
        }
    }
    out.push('"');
}

/// Whether `name` can be written without quotes (an identifier, not a reserved word).
pub(crate) fn is_plain_ident(name: &str) -> bool {
    const RESERVED: &[&str] = &[
        "and", "or", "not", "in", "is", "contains", "starts", "ends", "before", "after", "within",
        "true", "false", "empty", "now", "today", "do", "then", "else", "end", "if", "when",
        "every", "where", "as", "ago",
    ];
    let mut chars = name.chars();
    let starts_well = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    starts_well
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !RESERVED.contains(&name)
}
