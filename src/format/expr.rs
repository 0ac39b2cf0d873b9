//! Expressions and strings in canonical form.

use std::fmt::{self, Write};

use crate::syntax::ast::{self, ExprKind, StringLit, StringPart, UnaryOp};

/// An expression on one line. The tree already encodes precedence and keeps the
/// author's parentheses, so printing it back needs none of its own.
pub fn expr(e: &ast::Expr) -> String {
    ExprText(e).to_string()
}

/// An expression formatted in place: `format!("wait {}", ExprText(e))` builds one
/// string, not one per part (the canonical text of every rule of a program is printed
/// for its version hash).
pub(super) struct ExprText<'a>(pub &'a ast::Expr);

impl fmt::Display for ExprText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_expr(f, self.0)
    }
}

/// A string literal formatted in place (see [`ExprText`]).
pub(super) struct StringText<'a>(pub &'a StringLit);

impl fmt::Display for StringText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_string(f, self.0)
    }
}

/// A duration formatted in place (see [`ExprText`]).
pub(super) struct DurationText<'a>(pub &'a ast::Duration);

impl fmt::Display for DurationText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_duration(f, self.0)
    }
}

fn write_expr(out: &mut impl Write, e: &ast::Expr) -> fmt::Result {
    match &e.kind {
        ExprKind::Number(n) => out.write_str(&n.text),
        ExprKind::String(s) => write_string(out, s),
        ExprKind::Bool(b) => out.write_str(if *b { "true" } else { "false" }),
        ExprKind::Empty => out.write_str("empty"),
        ExprKind::Now => out.write_str("now"),
        ExprKind::Today => out.write_str("today"),
        ExprKind::Date(d) | ExprKind::DateTime(d) => out.write_str(d),
        ExprKind::Duration(d) => write_duration(out, d),
        ExprKind::Ago(d) => {
            write_duration(out, d)?;
            out.write_str(" ago")
        }
        ExprKind::FromNow(d) => {
            out.write_str("in ")?;
            write_duration(out, d)
        }
        ExprKind::List(items) => {
            out.write_char('[')?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_str(", ")?;
                }
                write_expr(out, item)?;
            }
            out.write_char(']')
        }
        ExprKind::Map(entries) => {
            if entries.is_empty() {
                return out.write_str("{}");
            }
            out.write_str("{ ")?;
            for (i, entry) in entries.iter().enumerate() {
                if i > 0 {
                    out.write_str(", ")?;
                }
                if entry.quoted || !is_plain_ident(&entry.key.name) {
                    write_quoted(out, &entry.key.name)?;
                } else {
                    out.write_str(&entry.key.name)?;
                }
                out.write_str(": ")?;
                write_expr(out, &entry.value)?;
            }
            out.write_str(" }")
        }
        ExprKind::Path(segments) => {
            for (i, s) in segments.iter().enumerate() {
                if i > 0 {
                    out.write_char('.')?;
                }
                out.write_str(&s.name)?;
            }
            Ok(())
        }
        ExprKind::Call { name, args } => {
            out.write_str(&name.name)?;
            out.write_char('(')?;
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    out.write_str(", ")?;
                }
                write_expr(out, a)?;
            }
            out.write_char(')')
        }
        ExprKind::Unary { op, operand } => {
            out.write_str(match op {
                UnaryOp::Not => "not ",
                UnaryOp::Neg => "-",
            })?;
            write_expr(out, operand)
        }
        ExprKind::Binary { op, lhs, rhs, .. } => {
            write_expr(out, lhs)?;
            out.write_char(' ')?;
            out.write_str(op.as_str())?;
            out.write_char(' ')?;
            write_expr(out, rhs)
        }
        ExprKind::Test { op, operand } => {
            write_expr(out, operand)?;
            out.write_char(' ')?;
            out.write_str(op.as_str())
        }
        ExprKind::InList {
            operand,
            list,
            negated,
        } => {
            write_expr(out, operand)?;
            out.write_str(if *negated {
                " not in list "
            } else {
                " in list "
            })?;
            write_string(out, list)
        }
        ExprKind::Paren(inner) => {
            out.write_char('(')?;
            write_expr(out, inner)?;
            out.write_char(')')
        }
    }
}

/// A map key that is not a plain name, in quotes with `\` and `"` escaped.
pub(super) fn write_quoted(out: &mut impl Write, key: &str) -> fmt::Result {
    out.write_char('"')?;
    for c in key.chars() {
        if matches!(c, '\\' | '"') {
            out.write_char('\\')?;
        }
        out.write_char(c)?;
    }
    out.write_char('"')
}

/// A duration with its unit spelled for its amount (`1 day`, `2 days`).
pub(super) fn duration(d: &ast::Duration) -> String {
    DurationText(d).to_string()
}

fn write_duration(out: &mut impl Write, d: &ast::Duration) -> fmt::Result {
    out.write_str(&d.amount.text)?;
    out.write_char(' ')?;
    out.write_str(d.unit.name(d.amount.value != 1.0))
}

/// A string literal as written, with holes printed canonically as `{{expr}}`.
pub fn string(s: &StringLit) -> String {
    StringText(s).to_string()
}

fn write_string(out: &mut impl Write, s: &StringLit) -> fmt::Result {
    out.write_char('"')?;
    for part in &s.parts {
        match part {
            StringPart::Text { raw, .. } => out.write_str(raw)?,
            StringPart::Hole(e) => {
                out.write_str("{{")?;
                write_expr(out, e)?;
                out.write_str("}}")?;
            }
        }
    }
    out.write_char('"')
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
