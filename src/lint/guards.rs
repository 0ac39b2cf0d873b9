//! What a condition proves about empty values, for the flow-sensitive lints
//! (`null-unsafe-path`, `overwrite-without-guard`).
//!
//! Paths are keyed by their text without a leading `record.`: `company`,
//! `company.owner`, `old.owner`. A condition that holds (or fails) proves some paths set
//! and some empty; the language's empty-value rules make this exact for the forms
//! understood: `is set`/`is empty` and their negations, `= empty`/`!= empty`, and a
//! comparison that is false on an empty value (`value > 10`, `owner = "ana@acme.com"`,
//! `stage in [..]`) proves its operand set when it holds. `not`, `and` and `or`
//! combine these; anything else proves nothing.

use crate::syntax::ast::{BinaryOp, Expr, ExprKind, Ident, StringPart, UnaryOp};

/// What is known where a condition had a given outcome.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Known {
    /// Paths that are set (with every shorter path they go through).
    pub set: Vec<String>,
    /// Paths that are empty.
    pub empty: Vec<String>,
}

impl Known {
    fn union(mut self, other: Known) -> Known {
        extend(&mut self.set, other.set);
        extend(&mut self.empty, other.empty);
        self
    }

    fn intersection(mut self, other: &Known) -> Known {
        self.set.retain(|k| other.set.contains(k));
        self.empty.retain(|k| other.empty.contains(k));
        self
    }

    fn set(e: &Expr) -> Known {
        Known {
            set: key(e).map(|k| with_prefixes(&k)).unwrap_or_default(),
            empty: Vec::new(),
        }
    }

    fn empty(e: &Expr) -> Known {
        Known {
            set: Vec::new(),
            empty: key(e).into_iter().collect(),
        }
    }
}

/// Adds the keys not there yet.
pub(super) fn extend(into: &mut Vec<String>, keys: impl IntoIterator<Item = String>) {
    for k in keys {
        if !into.contains(&k) {
            into.push(k);
        }
    }
}

/// The keys in every one of `sets`, in the first one's order; `None` when there are
/// no sets (every path ended the run).
pub(super) fn meet(sets: Vec<Vec<String>>) -> Option<Vec<String>> {
    let mut sets = sets.into_iter();
    let mut first = sets.next()?;
    for other in sets {
        first.retain(|k| other.contains(k));
    }
    Some(first)
}

/// What `e` proves when it evaluates to `outcome`.
pub(super) fn known(e: &Expr, outcome: bool) -> Known {
    match &e.kind {
        ExprKind::Paren(inner) => known(inner, outcome),
        ExprKind::Unary {
            op: UnaryOp::Not,
            operand,
        } => known(operand, !outcome),
        ExprKind::Binary {
            op: op @ (BinaryOp::And | BinaryOp::Or),
            lhs,
            rhs,
            ..
        } => {
            let (l, r) = (known(lhs, outcome), known(rhs, outcome));
            // `a and b` holding, or `a or b` failing, means both sides did.
            if (*op == BinaryOp::And) == outcome {
                l.union(r)
            } else {
                l.intersection(&r)
            }
        }
        ExprKind::Test { op, operand } => {
            if op.wants_value() == outcome {
                Known::set(operand)
            } else {
                Known::empty(operand)
            }
        }
        ExprKind::Binary {
            op: op @ (BinaryOp::Eq | BinaryOp::Ne),
            lhs,
            rhs,
            ..
        } => {
            // `= empty` is `is empty`; `!= empty` is `is set`.
            let other = match (&lhs.kind, &rhs.kind) {
                (_, ExprKind::Empty) => Some(lhs),
                (ExprKind::Empty, _) => Some(rhs),
                _ => None,
            };
            let equal = (*op == BinaryOp::Eq) == outcome;
            if let Some(other) = other {
                return if equal {
                    Known::empty(other)
                } else {
                    Known::set(other)
                };
            }
            // Equal to a value that is never empty: set. (`empty = empty` holds, so two
            // paths prove nothing.)
            if !equal {
                return Known::default();
            }
            match (never_empty_literal(lhs), never_empty_literal(rhs)) {
                (false, true) => Known::set(lhs),
                (true, false) => Known::set(rhs),
                _ => Known::default(),
            }
        }
        ExprKind::Binary { op, lhs, rhs, .. } => {
            let in_list = match op {
                BinaryOp::In => outcome,
                BinaryOp::NotIn => !outcome,
                _ => false,
            };
            if in_list {
                return Known::set(lhs);
            }
            if !outcome {
                return Known::default();
            }
            match op {
                // False whenever either side is empty.
                BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge
                | BinaryOp::Before
                | BinaryOp::After
                | BinaryOp::Contains
                | BinaryOp::StartsWith
                | BinaryOp::EndsWith => Known::set(lhs).union(Known::set(rhs)),
                // False whenever the left side is empty.
                BinaryOp::ContainsAny
                | BinaryOp::ContainsAll
                | BinaryOp::WithinLast
                | BinaryOp::WithinNext => Known::set(lhs),
                _ => Known::default(),
            }
        }
        _ => Known::default(),
    }
}

/// A literal that is never empty: a number, a string with some text, a date, `true`.
fn never_empty_literal(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Paren(inner) => never_empty_literal(inner),
        ExprKind::Number(_)
        | ExprKind::Bool(_)
        | ExprKind::Now
        | ExprKind::Today
        | ExprKind::Date(_)
        | ExprKind::DateTime(_)
        | ExprKind::Duration(_)
        | ExprKind::Ago(_)
        | ExprKind::FromNow(_) => true,
        ExprKind::String(s) => s
            .parts
            .iter()
            .any(|p| matches!(p, StringPart::Text { value, .. } if !value.is_empty())),
        ExprKind::List(items) => !items.is_empty() && items.iter().all(never_empty_literal),
        _ => false,
    }
}

/// The key of a path: its text without a leading `record.`.
pub(super) fn key(e: &Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Paren(inner) => key(inner),
        ExprKind::Path(segments) => Some(path_key(segments)),
        _ => None,
    }
}

/// `record.company.name` → `company.name`.
pub(super) fn path_key(segments: &[Ident]) -> String {
    let segments = match segments {
        [first, rest @ ..] if first.name == "record" && !rest.is_empty() => rest,
        _ => segments,
    };
    crate::ir::join_dotted("", segments.iter().map(|s| s.name.as_str()))
}

/// A set path and the paths it goes through: `company.owner` → `company.owner`,
/// `company` (a path through an empty reference is empty). `old.` alone is no path.
fn with_prefixes(key: &str) -> Vec<String> {
    let mut out = vec![key.to_string()];
    let mut rest = key;
    while let Some((head, _)) = rest.rsplit_once('.') {
        if head == "old" {
            break;
        }
        out.push(head.to_string());
        rest = head;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceFile;
    use crate::syntax::ast::{Item, StepKind, TriggerClause};

    fn condition(text: &str) -> Expr {
        let source = format!("when deals updated and {text} do stop");
        let parsed = crate::syntax::parse(&SourceFile::new("t.rules", source.as_str()));
        let Some(Item::Rule(rule)) = parsed.document.items.into_iter().next() else {
            unreachable!("not a rule: {text}")
        };
        let TriggerClause::When(when) = rule.trigger else {
            unreachable!()
        };
        assert!(matches!(rule.steps[0].kind, StepKind::Stop));
        when.condition.unwrap_or_else(|| unreachable!())
    }

    fn set(text: &str, outcome: bool) -> Vec<String> {
        known(&condition(text), outcome).set
    }

    fn empty(text: &str, outcome: bool) -> Vec<String> {
        known(&condition(text), outcome).empty
    }

    #[test]
    fn tests_and_their_negations() {
        assert_eq!(set("company is set", true), ["company"]);
        assert_eq!(set("company is not set", false), ["company"]);
        assert_eq!(set("not (company is set)", false), ["company"]);
        assert_eq!(set("company is empty", false), ["company"]);
        assert_eq!(set("record.company != empty", true), ["company"]);
        assert_eq!(
            set("company.owner is set", true),
            ["company.owner", "company"]
        );
        assert_eq!(
            set("old.company.owner is set", true),
            ["old.company.owner", "old.company"]
        );
        assert_eq!(empty("owner is not set", true), ["owner"]);
        assert_eq!(empty("not (owner is set)", true), ["owner"]);
        assert_eq!(empty("owner = empty", true), ["owner"]);
        assert!(set("company is set", false).is_empty());
    }

    #[test]
    fn connectives() {
        assert_eq!(
            set("owner is set and company is set", true),
            ["owner", "company"]
        );
        assert!(set("owner is set and company is set", false).is_empty());
        assert!(set("owner is set or company is set", true).is_empty());
        assert_eq!(
            set("owner is empty or company is empty", false),
            ["owner", "company"]
        );
        assert_eq!(
            set("owner is set or (owner is set and value > 1)", true),
            ["owner"]
        );
    }

    #[test]
    fn comparisons_false_on_empty() {
        assert_eq!(set("owner = \"ana@acme.com\"", true), ["owner"]);
        assert!(set("owner = \"ana@acme.com\"", false).is_empty());
        assert!(set("owner != \"ana@acme.com\"", true).is_empty());
        assert_eq!(set("owner != \"ana@acme.com\"", false), ["owner"]);
        assert!(set("owner = manager", true).is_empty());
        assert_eq!(set("value > 10", true), ["value"]);
        assert_eq!(set("owner in [\"ana@acme.com\"]", true), ["owner"]);
        assert!(set("owner not in [\"ana@acme.com\"]", true).is_empty());
        assert_eq!(set("owner not in [\"ana@acme.com\"]", false), ["owner"]);
    }
}
