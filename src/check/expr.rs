//! Typing expressions and lowering them to IR.

use crate::diagnostics::did_you_mean;
use crate::ir::{self, ExprKind as K, Function, Root, TemplatePart, Value};
use crate::schema::{quoted_list, Type};
use crate::source::Span;
use crate::syntax::ast::{self, BinaryOp, ExprKind, StringLit, StringPart, UnaryOp};

use super::rule::Checker;
use super::scope::{ACTOR_KINDS, EVENT, FAILURE};
use super::suggest_or_list;

const FUNCTIONS: &[&str] = &[
    "lower",
    "upper",
    "trim",
    "capitalize",
    "title_case",
    "url_encode",
    "member",
    "domain",
    "len",
    "coalesce",
    "days_between",
    "next_business_day",
    "round_robin",
    "secret",
    "first",
    "count",
    "sum",
    "avg",
    "min",
    "max",
];

/// A time literal as written in rules and tests (`2026-01-31T09:00Z`, seconds optional).
pub fn timestamp_literal(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    // RFC 3339 wants the seconds the author may leave out.
    let full = match (text.get(..16), text.get(16..)) {
        (Some(head), Some(tail)) if !tail.starts_with(':') => format!("{head}:00{tail}"),
        _ => text.to_string(),
    };
    chrono::DateTime::parse_from_rfc3339(&full)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// A path field read from a value of type `container`, as the IR records it.
fn resolved(container: &Type, name: &str, ty: Type) -> ir::Field {
    ir::Field {
        name: name.to_string(),
        ty,
        attribute_of: match container {
            Type::Record(object) => Some(object.clone()),
            Type::List(item) => match &**item {
                Type::Record(object) => Some(object.clone()),
                _ => None,
            },
            _ => None,
        },
    }
}

/// `approval.answer`: the text answer of an `ask … as approval`.
fn is_answer(e: &ir::Expr) -> bool {
    match &e.kind {
        K::Read {
            root: Root::Binding { .. },
            path,
        } => {
            path.len() == 1
                && path[0].name == "answer"
                && path[0].attribute_of.is_none()
                && e.ty == Type::Text
        }
        _ => false,
    }
}

fn unknown() -> ir::Expr {
    ir::Expr::constant(Value::Empty, Type::Unknown)
}

impl Checker<'_> {
    /// A condition: an expression that must be true or false.
    pub(super) fn condition(&mut self, e: &ast::Expr) -> ir::Expr {
        let out = self.expr(e, Some(&Type::Checkbox));
        if !Type::Checkbox.accepts(&out.ty) {
            self.error(
                "type-mismatch",
                format!("a condition must be true or false, but this is {}", out.ty),
                e.span,
                Some("compare it with something, e.g. `value > 1000` or `owner is set`".into()),
            );
        }
        out
    }

    /// An expression whose value is stored where `target` is expected.
    pub(super) fn value_for(&mut self, e: &ast::Expr, target: &Type, what: &str) -> ir::Expr {
        let mut out = self.expr(e, Some(target));
        // An `ask`'s answer names a member as the person wrote it (their email): it
        // may go where a member goes, read as `member(answer)`, so a step given
        // anything but one address fails, saying so.
        if *target == Type::Member && is_answer(&out) {
            out = ir::Expr {
                ty: Type::Member,
                kind: K::Call {
                    function: Function::Member,
                    args: vec![out],
                },
            };
        }
        if !target.accepts(&out.ty) {
            self.error(
                "type-mismatch",
                format!("{what} expects {target}, but this is {}", out.ty),
                e.span,
                None,
            );
        }
        out
    }

    /// Types an expression. `expected` lets bare identifiers and strings resolve to
    /// options of a select or status attribute.
    pub(super) fn expr(&mut self, e: &ast::Expr, expected: Option<&Type>) -> ir::Expr {
        match &e.kind {
            ExprKind::Number(n) => ir::Expr::constant(Value::Number(n.value), Type::Number),
            ExprKind::String(s) => self.string(s, expected),
            ExprKind::Bool(b) => ir::Expr::constant(Value::Bool(*b), Type::Checkbox),
            ExprKind::Empty => ir::Expr::constant(Value::Empty, Type::Empty),
            ExprKind::Now => ir::Expr {
                ty: Type::Timestamp,
                kind: K::Now,
            },
            ExprKind::Today => ir::Expr {
                ty: Type::Date,
                kind: K::Today,
            },
            ExprKind::Date(text) => match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
                Ok(_) => ir::Expr::constant(Value::Date(text.clone()), Type::Date),
                Err(_) => {
                    self.error(
                        "invalid-value",
                        format!("`{text}` is not a calendar date"),
                        e.span,
                        None,
                    );
                    unknown()
                }
            },
            ExprKind::DateTime(text) => match timestamp_literal(text) {
                Some(t) => ir::Expr::constant(Value::Timestamp(t.to_rfc3339()), Type::Timestamp),
                None => {
                    self.error(
                        "invalid-value",
                        format!("`{text}` is not a valid time"),
                        e.span,
                        None,
                    );
                    unknown()
                }
            },
            ExprKind::Duration(d) => {
                ir::Expr::constant(Value::Duration(d.seconds()), Type::Duration)
            }
            ExprKind::Ago(d) => ir::Expr {
                ty: Type::Timestamp,
                kind: K::Relative {
                    seconds: -d.seconds(),
                },
            },
            ExprKind::FromNow(d) => ir::Expr {
                ty: Type::Timestamp,
                kind: K::Relative {
                    seconds: d.seconds(),
                },
            },
            ExprKind::List(items) => self.list_literal(items, expected, e.span),
            ExprKind::Map(entries) => {
                let entries = entries
                    .iter()
                    .map(|entry| (entry.key.name.clone(), self.expr(&entry.value, None)))
                    .collect();
                ir::Expr {
                    ty: Type::Json,
                    kind: K::Map { entries },
                }
            }
            ExprKind::Path(segments) => self.path(segments, expected, e.span),
            ExprKind::Call { name, args } => self.call(name, args, e.span),
            ExprKind::Paren(inner) => self.expr(inner, expected),
            ExprKind::Unary { op, operand } => self.unary(*op, operand, e.span),
            ExprKind::Test { op, operand } => {
                let operand = self.expr(operand, None);
                ir::Expr {
                    ty: Type::Checkbox,
                    kind: K::Test {
                        test: *op,
                        operand: Box::new(operand),
                    },
                }
            }
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => self.binary(*op, *op_span, lhs, rhs),
            ExprKind::InList {
                operand,
                list,
                negated,
            } => self.in_list(operand, list, *negated),
        }
    }

    /// The path and the declared currency of an attribute read directly
    /// (`value` of a `currency(USD)` attribute); converted amounts have none.
    pub(super) fn currency_of(&self, e: &ir::Expr) -> Option<(String, String)> {
        match &e.kind {
            K::Read { root, path } => {
                let last = path.last()?;
                let object = self.cx.schema.object(last.attribute_of.as_deref()?)?;
                let code = object.attribute(&last.name)?.currency.clone()?;
                let mut shown: Vec<&str> = path.iter().map(|f| f.name.as_str()).collect();
                if matches!(root, Root::Old) {
                    shown.insert(0, "old");
                }
                Some((shown.join("."), code))
            }
            // An amount plus or minus a number, or the first set of amounts, keeps its
            // currency; multiplying or dividing is how one converts.
            K::Binary {
                operator: BinaryOp::Add | BinaryOp::Sub,
                lhs,
                rhs,
            } => self.currency_of(lhs).or_else(|| self.currency_of(rhs)),
            K::Call {
                function: Function::Coalesce | Function::Min | Function::Max | Function::Sum,
                args,
            } => args.iter().find_map(|a| self.currency_of(a)),
            K::Neg { operand } => self.currency_of(operand),
            _ => None,
        }
    }

    /// `x in list "…"`: `x` is a record of the list's object.
    fn in_list(&mut self, operand: &ast::Expr, list: &StringLit, negated: bool) -> ir::Expr {
        let checked = self.expr(operand, None);
        let holder = match &checked.ty {
            Type::Record(object) => self.cx.schema.object(object),
            Type::Unknown => None,
            other => {
                self.error(
                    "type-mismatch",
                    format!("`in list` asks it of a record, but this is {other}"),
                    operand.span,
                    Some("name a record: `record in list \"…\"`, `company in list \"…\"`".into()),
                );
                None
            }
        };
        let name = self.list(list, holder, true);
        match name {
            Some(list) => ir::Expr {
                ty: Type::Checkbox,
                kind: K::InList {
                    operand: Box::new(checked),
                    list,
                    negated,
                },
            },
            None => unknown(),
        }
    }

    /// A string literal: a constant, an option of the expected set, or a template.
    pub(super) fn string(&mut self, s: &StringLit, expected: Option<&Type>) -> ir::Expr {
        if let (Some(text), Some(expected)) = (s.plain(), expected) {
            if let Some(set) = element(expected).options() {
                return self
                    .option(&text, s.span, &element(expected).clone())
                    .unwrap_or_else(|| {
                        self.unknown_option(&text, s.span, set);
                        unknown()
                    });
            }
            if matches!(element(expected), Type::Member) && text.contains('@') {
                return ir::Expr::constant(Value::Text(text), Type::Email);
            }
            if matches!(element(expected), Type::Actor)
                && !text.contains('@')
                && !ACTOR_KINDS.contains(&text.as_str())
            {
                self.error(
                    "type-mismatch",
                    format!("`{text}` is not an actor"),
                    s.span,
                    Some(format!(
                        "an actor is a member's email or one of {}",
                        quoted_list(ACTOR_KINDS)
                    )),
                );
                return unknown();
            }
            if matches!(element(expected), Type::Member) && !text.is_empty() {
                self.error(
                    "type-mismatch",
                    format!("`{text}` is not a member"),
                    s.span,
                    Some(
                        "members are written as their email address, e.g. `\"ana@acme.com\"`"
                            .into(),
                    ),
                );
                return unknown();
            }
        }
        self.template(s)
    }

    /// A string with `{{ }}` holes, typed as text.
    pub(super) fn template(&mut self, s: &StringLit) -> ir::Expr {
        if let Some(text) = s.plain() {
            return ir::Expr::constant(Value::Text(text), Type::Text);
        }
        let parts = s
            .parts
            .iter()
            .map(|part| match part {
                StringPart::Text { value, .. } => TemplatePart::Text(value.clone()),
                StringPart::Hole(e) => TemplatePart::Hole(self.expr(e, None)),
            })
            .collect();
        ir::Expr {
            ty: Type::Text,
            kind: K::Template { parts },
        }
    }

    fn list_literal(
        &mut self,
        items: &[ast::Expr],
        expected: Option<&Type>,
        span: Span,
    ) -> ir::Expr {
        let expected_item = match expected {
            Some(Type::List(inner)) => Some(inner.as_ref().clone()),
            Some(Type::MultiSelect(set)) => Some(Type::Select(set.clone())),
            Some(other) => Some(other.clone()),
            None => None,
        };
        let mut item_ty: Option<Type> = expected_item.clone().filter(|t| !t.is_wild());
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let checked = self.expr(item, item_ty.as_ref());
            match &item_ty {
                None if !checked.ty.is_wild() => item_ty = Some(checked.ty.clone()),
                Some(want) if !want.accepts(&checked.ty) => self.error(
                    "type-mismatch",
                    format!("list items must be {want}, but this is {}", checked.ty),
                    item.span,
                    None,
                ),
                _ => {}
            }
            out.push(checked);
        }
        let ty = Type::List(Box::new(item_ty.unwrap_or(Type::Empty)));
        let constants: Option<Vec<Value>> = out.iter().map(|e| e.as_const().cloned()).collect();
        let _ = span;
        match constants {
            Some(values) => ir::Expr::constant(Value::List(values), ty),
            None => ir::Expr {
                ty,
                kind: K::List { items: out },
            },
        }
    }

    /// An option of `ty` (a select, status or actor type) called `name`.
    pub(super) fn option(&mut self, name: &str, _span: Span, ty: &Type) -> Option<ir::Expr> {
        if matches!(ty, Type::Actor) {
            return ACTOR_KINDS
                .contains(&name)
                .then(|| ir::Expr::constant(Value::Text(name.to_string()), Type::Actor));
        }
        let set = ty.options()?;
        let index = set.index_of(name)?;
        let value_ty = match ty {
            Type::MultiSelect(set) => Type::Select(set.clone()),
            other => other.clone(),
        };
        Some(ir::Expr::constant(
            Value::Option {
                index: u32::try_from(index).unwrap_or(u32::MAX),
                name: name.to_string(),
            },
            value_ty,
        ))
    }

    pub(super) fn unknown_option(
        &mut self,
        name: &str,
        span: Span,
        set: &crate::schema::OptionSet,
    ) {
        let help = suggest_or_list(name, set.options.iter().map(String::as_str), "its options");
        self.error(
            "unknown-option",
            format!("`{name}` is not an option of `{}`", set.owner),
            span,
            Some(help),
        );
    }

    fn path(&mut self, segments: &[ast::Ident], expected: Option<&Type>, span: Span) -> ir::Expr {
        let Some(first) = segments.first() else {
            return unknown();
        };
        // A bare identifier opposite a select/status/actor value is one of its options.
        if let (1, Some(expected)) = (segments.len(), expected) {
            let elem = element(expected).clone();
            if elem.options().is_some() || matches!(elem, Type::Actor) {
                if let Some(option) = self.option(&first.name, first.span, &elem) {
                    return option;
                }
                if self.resolve_root(&first.name).is_none() {
                    match elem.options() {
                        Some(set) => {
                            let set = set.clone();
                            self.unknown_option(&first.name, first.span, &set);
                        }
                        None => self.error(
                            "unknown-option",
                            format!("`{}` is not a kind of actor", first.name),
                            first.span,
                            Some(format!(
                                "an actor is a member's email or one of {}",
                                quoted_list(ACTOR_KINDS)
                            )),
                        ),
                    }
                    return unknown();
                }
            }
        }
        if let Some(explicit) = self.qualified(segments, span) {
            return explicit;
        }
        if let Some(candidate) = self.scope.candidate {
            if candidate.attribute(&first.name).is_some() {
                self.check_unambiguous(candidate, first);
            }
        }
        // `id` alone, in a rule with a record that has no attribute of that name: the
        // record's id, as `record.id` is.
        if let ([only], Some(object)) = (segments, self.scope.object) {
            if only.name == "id"
                && object.attribute("id").is_none()
                && self.scope.binding("id").is_none()
                && self.scope.candidate.is_none()
            {
                return ir::Expr {
                    ty: Type::Text,
                    kind: K::Read {
                        root: Root::Record,
                        path: vec![ir::Field::attribute(&object.name, "id", Type::Text)],
                    },
                };
            }
        }
        // `record` alone is the rule's record itself, as a value: `company = record`,
        // `add record to list …`.
        if let ([only], Some(object)) = (segments, self.scope.object) {
            if only.name == "record" && self.scope.binding("record").is_none() {
                return ir::Expr {
                    ty: Type::Record(object.name.clone()),
                    kind: K::Read {
                        root: Root::Record,
                        path: Vec::new(),
                    },
                };
            }
        }
        let Some((root, ty, consumed)) = self.resolve_root(&first.name) else {
            // Opposite a value whose type is already unknown (an error was reported for
            // it), a bare word is most likely an option: do not report it twice.
            if !(segments.len() == 1 && expected == Some(&Type::Unknown)) {
                self.unknown_name(first);
            }
            return unknown();
        };
        if matches!(root, Root::Old) && segments.len() == 1 {
            self.error(
                "unknown-attribute",
                "`old` needs an attribute",
                span,
                Some("write `old.<attribute>`, e.g. `old.stage`".into()),
            );
            return unknown();
        }
        let mut path = Vec::with_capacity(segments.len());
        if consumed {
            let object = match root {
                Root::Candidate => self.scope.candidate,
                _ => self.scope.object,
            };
            path.push(ir::Field {
                name: first.name.clone(),
                ty: ty.clone(),
                attribute_of: object.map(|o| o.name.clone()),
            });
        }
        let mut ty = ty;
        let mut owner = first.name.as_str();
        for segment in segments.iter().skip(1) {
            let Some(next) = self.field(&ty, segment, owner) else {
                return unknown();
            };
            path.push(resolved(&ty, &segment.name, next.clone()));
            ty = next;
            owner = &segment.name;
        }
        ir::Expr {
            ty,
            kind: K::Read { root, path },
        }
    }

    /// `record.<attr>` (the rule's record) and, inside `find <object> where`,
    /// `<object>.<attr>` (the record searched): names that say whose attribute.
    fn qualified(&mut self, segments: &[ast::Ident], span: Span) -> Option<ir::Expr> {
        let [prefix, attr, rest @ ..] = segments else {
            return None;
        };
        let (root, object) = if prefix.name == "record" && self.scope.binding("record").is_none() {
            (Root::Record, self.scope.object?)
        } else {
            let candidate = self.scope.candidate.filter(|c| c.name == prefix.name)?;
            if attr.name == "id" && candidate.attribute("id").is_none() {
                self.error(
                    "unknown-attribute",
                    format!("a `find` cannot test the id of the `{}` it searches", candidate.name),
                    attr.span,
                    Some("to find a record you know the id of, use that id directly: it is already the record".into()),
                );
                return Some(unknown());
            }
            (Root::Candidate, candidate)
        };
        let _ = span;
        let start = Type::Record(object.name.clone());
        let mut ty = self.field(&start, attr, &prefix.name);
        let mut path: Vec<ir::Field> = ty
            .iter()
            .map(|t| resolved(&start, &attr.name, t.clone()))
            .collect();
        let mut owner = attr.name.as_str();
        for segment in rest {
            let Some(container) = ty else { break };
            ty = self.field(&container, segment, owner);
            if let Some(t) = &ty {
                path.push(resolved(&container, &segment.name, t.clone()));
            }
            owner = &segment.name;
        }
        Some(match ty {
            Some(ty) => ir::Expr {
                ty,
                kind: K::Read { root, path },
            },
            None => unknown(),
        })
    }

    /// Inside `find`, a bare name that is the searched object's attribute must not also
    /// be an `as` binding: the author named both, and either reading is plausible.
    fn check_unambiguous(&mut self, candidate: &crate::schema::Object, name: &ast::Ident) {
        if self.scope.binding(&name.name).is_none() {
            return;
        }
        let help = format!(
            "`{0}` is both an attribute of the `{1}` searched and an `as` binding; rename the binding (e.g. `as the_{0}`)",
            name.name, candidate.name
        );
        self.error(
            "ambiguous-name",
            format!("`{}` could mean two things here", name.name),
            name.span,
            Some(help),
        );
    }

    /// The root a name starts from, its type, and whether the name itself is the first
    /// path segment (record attributes) or only selects the root (`event`, bindings).
    pub(super) fn resolve_root(&self, name: &str) -> Option<(Root, Type, bool)> {
        let scope = &self.scope;
        if let Some(attr) = scope.candidate.and_then(|o| o.attribute(name)) {
            return Some((Root::Candidate, attr.ty.clone(), true));
        }
        if let Some(binding) = scope.binding(name) {
            return Some((
                Root::Binding {
                    name: name.to_string(),
                },
                binding.ty.clone(),
                false,
            ));
        }
        if let Some(attr) = scope.object.and_then(|o| o.attribute(name)) {
            return Some((Root::Record, attr.ty.clone(), true));
        }
        match name {
            "event" => Some((Root::Event, Type::Struct(EVENT.clone()), false)),
            "old" if scope.has_old => scope
                .object
                .map(|o| (Root::Old, Type::Record(o.name.clone()), false)),
            "payload" => scope
                .payload
                .clone()
                .map(|p| (Root::Payload, Type::Struct(p), false)),
            "failure" if scope.failure => {
                Some((Root::Failure, Type::Struct(FAILURE.clone()), false))
            }
            _ => match &scope.activity {
                Some((activity, shape)) if *activity == name => {
                    Some((Root::Activity, Type::Struct(shape.clone()), false))
                }
                _ => None,
            },
        }
    }

    fn field(&mut self, ty: &Type, segment: &ast::Ident, owner: &str) -> Option<Type> {
        match ty {
            Type::Record(object) => {
                let object = self.cx.schema.object(object)?;
                match object.attribute(&segment.name) {
                    Some(attr) => Some(attr.ty.clone()),
                    // Every record has its id (`{{person.id}}`, `key company.id`).
                    None if segment.name == "id" => Some(Type::Text),
                    None => {
                        self.unknown_attribute(object, segment);
                        None
                    }
                }
            }
            Type::Struct(shape) => match shape.field(&segment.name) {
                Some(t) => Some(t.clone()),
                None => {
                    let help = suggest_or_list(
                        &segment.name,
                        shape.fields.iter().map(|(n, _)| n.as_str()),
                        "its fields",
                    );
                    self.error(
                        "unknown-attribute",
                        format!("{} has no field `{}`", shape.name, segment.name),
                        segment.span,
                        Some(help),
                    );
                    None
                }
            },
            Type::Json | Type::Unknown => Some(ty.clone()),
            // Through a list of records (`open_deals.value`): the attribute of each, as
            // one list.
            Type::List(item) if matches!(**item, Type::Record(_)) => {
                let each = self.field(item, segment, owner)?;
                Some(match each {
                    Type::List(_) => each,
                    one => Type::List(Box::new(one)),
                })
            }
            other => {
                self.error(
                    "type-mismatch",
                    format!("`{owner}` is {other} and has no field `{}`", segment.name),
                    segment.span,
                    None,
                );
                None
            }
        }
    }

    pub(super) fn unknown_name(&mut self, name: &ast::Ident) {
        let scope_names = self.scope.names();
        let suggestion = did_you_mean(&name.name, scope_names.iter().copied());
        let (code, message) = match self.scope.object {
            Some(object) => (
                "unknown-attribute",
                format!("`{}` has no attribute `{}`", object.name, name.name),
            ),
            None => ("unknown-name", format!("unknown name `{}`", name.name)),
        };
        let activity_help = match name.name.as_str() {
            "entry" => Some("`entry` is the list entry of a rule triggered by one: `when added to list \"…\"`, `when entry changed in list \"…\"`, `when stage changed … in list \"…\"`"),
            _ => None,
        };
        let help = suggestion.or_else(|| activity_help.map(String::from)).or_else(|| {
            let elsewhere: Vec<&str> = self
                .cx
                .schema
                .objects_with(&name.name)
                .map(|o| o.name.as_str())
                .collect();
            if !elsewhere.is_empty() {
                Some(format!("`{}` is an attribute of {}", name.name, quoted_list(&elsewhere)))
            } else if self.scope.object.is_none() {
                Some("this rule has no record in scope; add `on <object>` or use `payload.`, `event.` or an `as` binding".into())
            } else {
                None
            }
        });
        self.error(code, message, name.span, help);
    }

    fn unary(&mut self, op: UnaryOp, operand: &ast::Expr, span: Span) -> ir::Expr {
        match op {
            UnaryOp::Not => {
                let inner = self.condition(operand);
                if let Some(Value::Bool(b)) = inner.as_const() {
                    return ir::Expr::constant(Value::Bool(!b), Type::Checkbox);
                }
                ir::Expr {
                    ty: Type::Checkbox,
                    kind: K::Not {
                        operand: Box::new(inner),
                    },
                }
            }
            UnaryOp::Neg => {
                let inner = self.expr(operand, None);
                if !(inner.ty.is_numeric() || inner.ty == Type::Duration || inner.ty.is_wild()) {
                    self.error(
                        "type-mismatch",
                        format!(
                            "only numbers and durations can be negated, but this is {}",
                            inner.ty
                        ),
                        span,
                        None,
                    );
                }
                match inner.as_const() {
                    Some(Value::Number(n)) => ir::Expr::constant(Value::Number(-n), inner.ty),
                    Some(Value::Duration(d)) => {
                        ir::Expr::constant(Value::Duration(-d), Type::Duration)
                    }
                    _ => ir::Expr {
                        ty: inner.ty.clone(),
                        kind: K::Neg {
                            operand: Box::new(inner),
                        },
                    },
                }
            }
        }
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        op_span: Span,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
    ) -> ir::Expr {
        use BinaryOp as B;
        if matches!(op, B::And | B::Or) {
            let l = self.condition(lhs);
            let r = self.condition(rhs);
            return fold(op, l, r, Type::Checkbox);
        }
        if let (Some(candidate), Some(l), Some(r)) =
            (self.scope.candidate, is_bare_ident(lhs), is_bare_ident(rhs))
        {
            if l == r && candidate.attribute(l).is_some() && self.scope.binding(l).is_none() {
                let help = if self.scope.object.is_some_and(|o| o.attribute(l).is_some()) {
                    format!("inside `find`, bare names are the searched `{}`'s attributes; write `record.{l}` for this rule's record", candidate.name)
                } else {
                    format!("inside `find`, bare names are the searched `{}`'s attributes; compare `{l}` with a value or an `as` binding", candidate.name)
                };
                self.error(
                    "ambiguous-name",
                    format!(
                        "`{l} {} {r}` compares the searched record's `{l}` with itself",
                        op.as_str()
                    ),
                    lhs.span.cover(rhs.span),
                    Some(help),
                );
            }
        }
        // Type the side that is a name first, so `Open = stage` resolves `Open` as an option.
        // Likewise `"bob" = event.actor`: a string on the left is read against the right.
        let lhs_is_string =
            matches!(&lhs.kind, ExprKind::String(_)) && !matches!(&rhs.kind, ExprKind::String(_));
        let lhs_is_option_like = lhs_is_string
            || is_bare_ident(lhs).is_some_and(|name| self.resolve_root(name).is_none())
                && is_bare_ident(rhs).is_none_or(|name| self.resolve_root(name).is_some());
        let (l, r) = if lhs_is_option_like && matches!(op, B::Eq | B::Ne) {
            let r = self.expr(rhs, None);
            let l = self.expr(lhs, Some(&r.ty));
            (l, r)
        } else {
            let l = self.expr(lhs, None);
            let expected_rhs = match op {
                B::In | B::NotIn => Some(Type::List(Box::new(l.ty.clone()))),
                B::Contains => item_type(&l.ty),
                B::ContainsAny | B::ContainsAll => {
                    item_type(&l.ty).map(|item| Type::List(Box::new(item)))
                }
                B::Eq | B::Ne | B::Lt | B::Le | B::Gt | B::Ge => Some(l.ty.clone()),
                _ => None,
            };
            let r = self.expr(rhs, expected_rhs.as_ref());
            (l, r)
        };
        if let (Some(a), Some(b)) = (self.currency_of(&l), self.currency_of(&r)) {
            if a.1 != b.1 && !matches!(op, B::Mul | B::Div) {
                self.error(
                    "type-mismatch",
                    format!(
                        "`{}` is in {} and `{}` in {}: amounts in two currencies cannot be compared or added",
                        a.0, a.1, b.0, b.1
                    ),
                    op_span.cover(lhs.span).cover(rhs.span),
                    Some(format!(
                        "convert one first at the rate you use, e.g. `{} * 1.08`",
                        b.0
                    )),
                );
                return unknown_bool(op);
            }
        }
        if let Some((message, help)) = multi_value_misuse(op, lhs, &l.ty, &r.ty) {
            self.error(
                "type-mismatch",
                message,
                op_span.cover(lhs.span).cover(rhs.span),
                Some(help),
            );
            return unknown_bool(op);
        }
        let result = match result_type(op, &l.ty, &r.ty) {
            Ok(ty) => ty,
            Err(message) => {
                self.error(
                    "type-mismatch",
                    message,
                    op_span.cover(lhs.span).cover(rhs.span),
                    None,
                );
                return unknown_bool(op);
            }
        };
        fold(op, l, r, result)
    }

    fn call(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> ir::Expr {
        let function = match name.name.as_str() {
            "lower" => Function::Lower,
            "upper" => Function::Upper,
            "trim" => Function::Trim,
            "capitalize" => Function::Capitalize,
            "title_case" => Function::TitleCase,
            "url_encode" => Function::UrlEncode,
            "member" => Function::Member,
            "domain" => Function::Domain,
            "len" => Function::Len,
            "coalesce" => Function::Coalesce,
            "days_between" => Function::DaysBetween,
            "next_business_day" => Function::NextBusinessDay,
            "round_robin" => Function::RoundRobin,
            "secret" => Function::Secret,
            "first" => Function::First,
            "count" => Function::Count,
            "sum" => Function::Sum,
            "avg" => Function::Avg,
            "min" => Function::Min,
            "max" => Function::Max,
            other => {
                let help = if self.cx.schema.action(other).is_some() {
                    format!("`{other}` is an action: write it as a step after `do`, with named arguments")
                } else {
                    suggest_or_list(other, FUNCTIONS.iter().copied(), "functions")
                };
                self.error(
                    "unknown-function",
                    format!("unknown function `{other}`"),
                    name.span,
                    Some(help),
                );
                return unknown();
            }
        };
        let (min, max) = match function {
            Function::Coalesce | Function::DaysBetween => (2, 2),
            Function::NextBusinessDay => (0, 1),
            _ => (1, 1),
        };
        if args.len() < min || args.len() > max {
            let wanted = match (min, max) {
                (0, 1) => "at most 1 argument".to_string(),
                (1, 1) => "1 argument".to_string(),
                (n, _) => format!("{n} arguments"),
            };
            self.error(
                "invalid-argument",
                format!(
                    "`{}` takes {wanted}, but {} were given",
                    name.name,
                    args.len()
                ),
                span,
                None,
            );
            return unknown();
        }
        if function == Function::RoundRobin {
            return self.round_robin(&args[0]);
        }
        if function == Function::Secret {
            return self.secret(&args[0]);
        }
        let checked: Vec<ir::Expr> = args.iter().map(|a| self.expr(a, None)).collect();
        let bad = |this: &mut Self, i: usize, wanted: &str| {
            if let (Some(arg), Some(ast_arg)) = (checked.get(i), args.get(i)) {
                this.error(
                    "invalid-argument",
                    format!("`{}` expects {wanted}, but this is {}", name.name, arg.ty),
                    ast_arg.span,
                    None,
                );
            }
        };
        let ty_of = |i: usize| {
            checked
                .get(i)
                .map(|e| e.ty.clone())
                .unwrap_or(Type::Unknown)
        };
        let result = match function {
            Function::Lower
            | Function::Upper
            | Function::Trim
            | Function::Capitalize
            | Function::TitleCase
            | Function::UrlEncode => {
                if !(ty_of(0).is_textual() || ty_of(0).is_wild()) {
                    bad(self, 0, "text");
                }
                Type::Text
            }
            Function::Member => {
                if !(ty_of(0).is_textual() || ty_of(0).is_wild()) {
                    bad(self, 0, "text");
                }
                Type::Member
            }
            Function::Domain => {
                // A list of addresses (`email_addresses`): the primary one's domain.
                let one = match ty_of(0) {
                    Type::List(item) => *item,
                    other => other,
                };
                if !(one.is_textual() || one.is_wild()) {
                    bad(self, 0, "an email address, or a list of them");
                }
                Type::Domain
            }
            Function::First => match ty_of(0) {
                Type::List(item) => *item,
                other if other.is_wild() => Type::Unknown,
                _ => {
                    bad(self, 0, "a list, such as `email_addresses`");
                    Type::Unknown
                }
            },
            Function::Len => {
                if !(ty_of(0).is_textual()
                    || matches!(ty_of(0), Type::List(_) | Type::MultiSelect(_))
                    || ty_of(0).is_wild())
                {
                    bad(self, 0, "text or a list");
                }
                Type::Number
            }
            Function::Coalesce => {
                if !ty_of(0).comparable(&ty_of(1)) {
                    bad(
                        self,
                        1,
                        &format!("a value of the same type as the first ({})", ty_of(0)),
                    );
                }
                if ty_of(0).is_wild() {
                    ty_of(1)
                } else {
                    ty_of(0)
                }
            }
            Function::DaysBetween => {
                for i in 0..2 {
                    if !(ty_of(i).is_temporal() || ty_of(i).is_wild()) {
                        bad(self, i, "a date or timestamp");
                    }
                }
                Type::Number
            }
            Function::NextBusinessDay => {
                if !(checked.is_empty() || ty_of(0).is_temporal() || ty_of(0).is_wild()) {
                    bad(self, 0, "a date or timestamp");
                }
                Type::Date
            }
            Function::Count => {
                if !(matches!(ty_of(0), Type::List(_) | Type::MultiSelect(_)) || ty_of(0).is_wild())
                {
                    bad(
                        self,
                        0,
                        "a list (a `find all` binding, or `deals.value` through one)",
                    );
                }
                Type::Number
            }
            Function::Sum | Function::Avg | Function::Min | Function::Max => {
                let item = match ty_of(0) {
                    Type::List(item) => *item,
                    other if other.is_wild() => Type::Unknown,
                    _ => {
                        bad(
                            self,
                            0,
                            "a list, such as `open_deals.value` of a `find all … as open_deals`",
                        );
                        Type::Unknown
                    }
                };
                let numeric = matches!(item, Type::Number | Type::Currency);
                let ordered = numeric || item.is_temporal();
                let fits = match function {
                    Function::Sum | Function::Avg => numeric,
                    _ => ordered,
                };
                if !(fits || item.is_wild()) {
                    let wanted = if matches!(function, Function::Sum | Function::Avg) {
                        "a list of numbers or amounts"
                    } else {
                        "a list of numbers, amounts, dates or timestamps"
                    };
                    bad(self, 0, wanted);
                }
                match (function, item) {
                    (Function::Avg, Type::Currency) => Type::Currency,
                    (Function::Avg, _) => Type::Number,
                    (_, item) => item,
                }
            }
            Function::RoundRobin | Function::Secret => Type::Unknown,
        };
        ir::Expr {
            ty: result,
            kind: K::Call {
                function,
                args: checked,
            },
        }
    }

    fn round_robin(&mut self, arg: &ast::Expr) -> ir::Expr {
        let Some(team) = is_bare_ident(arg) else {
            self.error(
                "invalid-argument",
                "`round_robin` takes the name of a team",
                arg.span,
                Some("declare one with `team sdr = [\"ana@acme.com\", \"bo@acme.com\"]` and write `round_robin(sdr)`".into()),
            );
            return unknown();
        };
        if self.cx.schema.team(team).is_none() {
            let names: Vec<&str> = self
                .cx
                .schema
                .teams
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            let help = did_you_mean(team, names.iter().copied()).unwrap_or_else(|| {
                format!("declare it with `team {team} = [\"ana@acme.com\", …]`")
            });
            self.error(
                "unknown-team",
                format!("unknown team `{team}`"),
                arg.span,
                Some(help),
            );
            return unknown();
        }
        ir::Expr {
            ty: Type::Member,
            kind: K::Call {
                function: Function::RoundRobin,
                args: vec![ir::Expr::constant(
                    Value::Text(team.to_string()),
                    Type::Text,
                )],
            },
        }
    }

    fn secret(&mut self, arg: &ast::Expr) -> ir::Expr {
        if !self.secrets_allowed {
            self.error(
                "secret-exposed",
                "a secret can only be sent to an API",
                arg.span,
                Some("use `secret(…)` in an `http` step's URL, headers or body, or as an argument of a custom action; anywhere else it would be shown to people".into()),
            );
            return unknown();
        }
        let name = match &arg.kind {
            ExprKind::String(s) => s.plain(),
            _ => None,
        };
        match name {
            Some(name) if !name.is_empty() => ir::Expr {
                ty: Type::Text,
                kind: K::Call {
                    function: Function::Secret,
                    args: vec![ir::Expr::constant(Value::Text(name), Type::Text)],
                },
            },
            _ => {
                self.error(
                    "invalid-argument",
                    "`secret` takes the secret's name as a plain string",
                    arg.span,
                    Some(
                        "write `secret(\"SLACK_TOKEN\")`; the host resolves it at run time".into(),
                    ),
                );
                unknown()
            }
        }
    }
}

/// The element type of a list type, or the type itself.
fn element(ty: &Type) -> &Type {
    match ty {
        Type::List(inner) => inner,
        other => other,
    }
}

fn is_bare_ident(e: &ast::Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Path(segments) if segments.len() == 1 => {
            segments.first().map(|s| s.name.as_str())
        }
        ExprKind::Paren(inner) => is_bare_ident(inner),
        _ => None,
    }
}

fn unknown_bool(op: BinaryOp) -> ir::Expr {
    let ty = if op.precedence() == 4 {
        Type::Checkbox
    } else {
        Type::Unknown
    };
    ir::Expr::constant(Value::Empty, ty)
}

/// What one value of `ty` is, where `contains` looks for it: an element of a list or
/// multi-select, or text inside text.
fn item_type(ty: &Type) -> Option<Type> {
    match ty {
        Type::List(inner) => Some(inner.as_ref().clone()),
        Type::MultiSelect(set) => Some(Type::Select(set.clone())),
        t if t.is_textual() => Some(Type::Text),
        _ => None,
    }
}

fn is_multi_value(ty: &Type) -> bool {
    matches!(ty, Type::List(_) | Type::MultiSelect(_))
}

/// A comparison that reads one way and means another on an attribute with several
/// values (`tags in [vip, partner]`, `tags contains [vip, partner]`, `tags = vip`): an
/// error naming the form that says what the author meant.
fn multi_value_misuse(
    op: BinaryOp,
    lhs: &ast::Expr,
    l: &Type,
    r: &Type,
) -> Option<(String, String)> {
    use BinaryOp as B;
    if !is_multi_value(l) || r.is_wild() {
        return None;
    }
    let name = match &lhs.kind {
        ExprKind::Path(segments) => segments
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join("."),
        _ => "this".to_string(),
    };
    let forms = format!(
        "write `{name} contains any [..]` (at least one of them), `{name} contains all [..]` (every one of them) or `not ({name} contains any [..])` (none of them)"
    );
    match op {
        B::In | B::NotIn => Some((
            format!("`{name}` holds several values, so `{}` is ambiguous", op.as_str()),
            forms,
        )),
        B::Contains if is_multi_value(r) => Some((
            "`contains` takes one value, but this is a list".to_string(),
            forms,
        )),
        B::Eq | B::Ne if !is_multi_value(r) => Some((
            format!(
                "`{name} {} …` compares all of `{name}`'s values with one",
                op.as_str()
            ),
            format!("write `{name} contains …` for \"has this value\", or `{name} = [..]` for exactly these values"),
        )),
        _ => None,
    }
}

/// The type of `l op r`, or why the operands do not fit.
fn result_type(op: BinaryOp, l: &Type, r: &Type) -> Result<Type, String> {
    use BinaryOp as B;
    let wild = l.is_wild() || r.is_wild();
    let mismatch = |what: &str| Err(format!("`{}` {what}, but got {l} and {r}", op.as_str()));
    match op {
        B::And | B::Or => Ok(Type::Checkbox),
        B::Eq | B::Ne => {
            if l.comparable(r) {
                Ok(Type::Checkbox)
            } else {
                Err(format!("cannot compare {l} with {r}"))
            }
        }
        B::Lt | B::Le | B::Gt | B::Ge => {
            let ordered = (l.is_numeric() && r.is_numeric())
                || (l.is_temporal() && r.is_temporal())
                || (*l == Type::Duration && *r == Type::Duration)
                || matches!((l, r), (Type::Status(a), Type::Status(b)) if a == b);
            if ordered || (wild && !matches!(l, Type::Select(_)) && !matches!(r, Type::Select(_))) {
                Ok(Type::Checkbox)
            } else if let Type::Select(set) = l {
                Err(format!(
                    "options of `{}` have no order; only status options do",
                    set.owner
                ))
            } else {
                Err(format!("cannot order {l} and {r}"))
            }
        }
        B::In | B::NotIn => match r {
            Type::List(inner) if l.comparable(inner) => Ok(Type::Checkbox),
            _ if wild => Ok(Type::Checkbox),
            _ => mismatch("needs a value and a list of the same type"),
        },
        B::Contains => {
            let ok = match l {
                t if t.is_textual() => r.is_textual(),
                Type::List(inner) => inner.comparable(r),
                Type::MultiSelect(set) => Type::Select(set.clone()).comparable(r),
                _ => false,
            };
            if ok || wild {
                Ok(Type::Checkbox)
            } else {
                mismatch("needs text or a list on the left and an item on the right")
            }
        }
        B::ContainsAny | B::ContainsAll => {
            let ok = match (item_type(l), r) {
                (Some(item), Type::List(items)) => {
                    item.comparable(items) || (item.is_textual() && items.is_textual())
                }
                _ => false,
            };
            if ok || wild {
                Ok(Type::Checkbox)
            } else {
                mismatch("needs text or a list on the left and a list of items on the right, e.g. `tags contains any [vip, partner]`")
            }
        }
        B::StartsWith | B::EndsWith => {
            if (l.is_textual() && r.is_textual()) || wild {
                Ok(Type::Checkbox)
            } else {
                mismatch("needs text on both sides")
            }
        }
        B::Before | B::After => {
            if (l.is_temporal() || l.is_wild()) && (r.is_temporal() || r.is_wild()) {
                Ok(Type::Checkbox)
            } else {
                mismatch("needs dates or timestamps")
            }
        }
        B::WithinLast | B::WithinNext => {
            if (l.is_temporal() || l.is_wild()) && (*r == Type::Duration || r.is_wild()) {
                Ok(Type::Checkbox)
            } else {
                mismatch("needs a date or timestamp and a duration such as `7 days`")
            }
        }
        B::Add | B::Sub => {
            if l.is_numeric() && r.is_numeric() {
                Ok(if *l == Type::Currency || *r == Type::Currency {
                    Type::Currency
                } else {
                    Type::Number
                })
            } else if l.is_temporal() && *r == Type::Duration {
                Ok(l.clone())
            } else if op == B::Add && *l == Type::Duration && r.is_temporal() {
                Ok(r.clone())
            } else if (op == B::Sub && l.is_temporal() && r.is_temporal())
                || (*l == Type::Duration && *r == Type::Duration)
            {
                Ok(Type::Duration)
            } else if op == B::Add && l.is_textual() && r.is_textual() {
                Ok(Type::Text)
            } else if wild {
                Ok(if l.is_wild() { r.clone() } else { l.clone() })
            } else {
                mismatch("needs numbers, durations, or a time and a duration")
            }
        }
        B::Mul | B::Div => {
            if l.is_numeric() && r.is_numeric() {
                Ok(if *l == Type::Currency || *r == Type::Currency {
                    Type::Currency
                } else {
                    Type::Number
                })
            } else if (*l == Type::Duration && r.is_numeric())
                || (op == B::Mul && l.is_numeric() && *r == Type::Duration)
            {
                Ok(Type::Duration)
            } else if wild {
                Ok(if l.is_wild() { r.clone() } else { l.clone() })
            } else {
                mismatch("needs numbers")
            }
        }
    }
}

/// Builds `l op r`, folding it when both sides are constants (or `now` ± a constant
/// duration, which becomes a relative time).
fn fold(op: BinaryOp, l: ir::Expr, r: ir::Expr, ty: Type) -> ir::Expr {
    use BinaryOp as B;
    let folded = match (op, l.as_const(), r.as_const()) {
        (B::And, Some(Value::Bool(a)), Some(Value::Bool(b))) => Some(Value::Bool(*a && *b)),
        (B::Or, Some(Value::Bool(a)), Some(Value::Bool(b))) => Some(Value::Bool(*a || *b)),
        (_, Some(Value::Number(a)), Some(Value::Number(b))) => match op {
            B::Add => Some(Value::Number(a + b)),
            B::Sub => Some(Value::Number(a - b)),
            B::Mul => Some(Value::Number(a * b)),
            B::Div if *b != 0.0 => Some(Value::Number(a / b)),
            B::Eq => Some(Value::Bool(a == b)),
            B::Ne => Some(Value::Bool(a != b)),
            B::Lt => Some(Value::Bool(a < b)),
            B::Le => Some(Value::Bool(a <= b)),
            B::Gt => Some(Value::Bool(a > b)),
            B::Ge => Some(Value::Bool(a >= b)),
            _ => None,
        },
        (_, Some(Value::Duration(a)), Some(Value::Duration(b))) => match op {
            B::Add => Some(Value::Duration(a.saturating_add(*b))),
            B::Sub => Some(Value::Duration(a.saturating_sub(*b))),
            _ => None,
        },
        (B::Mul, Some(Value::Duration(a)), Some(Value::Number(b)))
        | (B::Mul, Some(Value::Number(b)), Some(Value::Duration(a))) => {
            Some(Value::Duration((*a as f64 * b) as i64))
        }
        _ => None,
    };
    if let Some(value) = folded {
        return ir::Expr::constant(value, ty);
    }
    let relative_base = match &l.kind {
        K::Now => Some(0),
        K::Relative { seconds } => Some(*seconds),
        _ => None,
    };
    if let (Some(base), Some(Value::Duration(d)), B::Add | B::Sub) =
        (relative_base, r.as_const(), op)
    {
        let seconds = if op == B::Add {
            base.saturating_add(*d)
        } else {
            base.saturating_sub(*d)
        };
        return ir::Expr {
            ty,
            kind: K::Relative { seconds },
        };
    }
    ir::Expr {
        ty,
        kind: K::Binary {
            operator: op,
            lhs: Box::new(l),
            rhs: Box::new(r),
        },
    }
}
