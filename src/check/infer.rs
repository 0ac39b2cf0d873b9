//! Which object a rule without `on` is about.
//!
//! The evidence is every bare name the rule reads or writes that is an attribute of
//! some object: `when stage changed … and value > 10000` names `stage` and `value`,
//! and only `deals` has both. Names bound by `as`, the searched object's attributes in
//! `find … where`, and the keys of `create`/`upsert` are not evidence.

use std::collections::BTreeSet;

use crate::schema::{quoted_list, Schema};
use crate::syntax::ast::{self, ExprKind, Part, StepKind, StringLit, StringPart, TriggerKind};

/// The outcome of inference.
pub(super) enum Inference<'s> {
    /// The rule is about this object.
    Object(&'s crate::schema::Object),
    /// The rule has no record (webhooks, digests, meta-rules, or activity on anything).
    None,
    /// Several objects fit: their names and the evidence.
    Ambiguous(Vec<String>, Vec<String>),
    /// No object has all the names used.
    Conflict(Vec<String>),
    /// Nothing to go on, and the trigger needs a record.
    NoEvidence,
}

/// Whether a trigger clause needs a record to make sense.
pub(super) fn needs_record(trigger: &ast::TriggerClause) -> Option<bool> {
    match trigger {
        ast::TriggerClause::Every(every) => Some(every.for_clause.is_some()),
        ast::TriggerClause::When(when) => match &when.trigger.kind {
            TriggerKind::Webhook(_) | TriggerKind::RuleFailed { .. } => Some(false),
            TriggerKind::NoteCreated
            | TriggerKind::CommentAdded
            | TriggerKind::TaskCreated
            | TriggerKind::TaskCompleted
            | TriggerKind::CallRecorded => None,
            _ => Some(true),
        },
    }
}

/// Infers the object of a rule that has no `on` (and no `when <object>`).
pub(super) fn infer<'s>(schema: &'s Schema, rule: &ast::Rule) -> Inference<'s> {
    if needs_record(&rule.trigger) == Some(false) {
        return Inference::None;
    }
    // A list holds records of one object: that is the rule's object.
    if let ast::TriggerClause::When(when) = &rule.trigger {
        if let Some(name) = when.trigger.kind.list() {
            if let Some(object) = name
                .plain()
                .and_then(|n| schema.list(&n))
                .and_then(|l| schema.object(&l.object))
            {
                return Inference::Object(object);
            }
        }
    }
    let mut collector = Names::default();
    collector.rule(rule);
    let evidence: BTreeSet<&str> = collector
        .names
        .iter()
        .map(String::as_str)
        .filter(|n| !collector.bound.contains(*n))
        .filter(|n| schema.objects_with(n).next().is_some())
        .collect();
    if evidence.is_empty() {
        return match needs_record(&rule.trigger) {
            Some(true) => Inference::NoEvidence,
            _ => Inference::None,
        };
    }
    let fits: Vec<&crate::schema::Object> = schema
        .objects
        .iter()
        .filter(|o| evidence.iter().all(|n| o.attribute(n).is_some()))
        .collect();
    let evidence: Vec<String> = evidence.into_iter().map(String::from).collect();
    match fits.as_slice() {
        [one] => Inference::Object(one),
        [] => Inference::Conflict(evidence),
        many => Inference::Ambiguous(many.iter().map(|o| o.name.clone()).collect(), evidence),
    }
}

/// Help text for an ambiguous rule.
pub(super) fn ambiguous_help(objects: &[String]) -> String {
    let first = objects.first().map_or("deals", String::as_str);
    format!(
        "add `on {first}` (or `on` one of {}) to the rule",
        quoted_list(objects)
    )
}

#[derive(Default)]
struct Names {
    names: BTreeSet<String>,
    bound: BTreeSet<String>,
}

impl Names {
    fn rule(&mut self, rule: &ast::Rule) {
        match &rule.trigger {
            ast::TriggerClause::When(when) => {
                match &when.trigger.kind {
                    TriggerKind::Changed { attr, .. } => {
                        self.names.insert(attr.name.clone());
                    }
                    TriggerKind::Matches(filter) => self.expr(filter),
                    _ => {}
                }
                if let Some(condition) = &when.condition {
                    self.expr(condition);
                }
            }
            ast::TriggerClause::Every(every) => {
                if let Some(filter) = every.for_clause.as_ref().and_then(|f| f.filter.as_ref()) {
                    self.expr(filter);
                }
            }
        }
        self.steps(&rule.steps);
    }

    fn steps(&mut self, steps: &[ast::Step]) {
        for step in steps {
            self.step(step);
        }
    }

    fn step(&mut self, step: &ast::Step) {
        if let Some(b) = step.kind.binding() {
            self.bound.insert(b.name.clone());
        }
        match &step.kind {
            StepKind::Set {
                attr, target: None, ..
            }
            | StepKind::Clear { attr, target: None } => {
                self.names.insert(attr.name.clone());
            }
            // The filter reads the searched object's attributes, not the rule's.
            StepKind::Find { .. } => return,
            _ => {}
        }
        for part in step.kind.parts() {
            match part {
                Part::Expr(e) => self.expr(e),
                Part::Str(s) => self.string(s),
            }
        }
        for block in step.blocks() {
            self.steps(block);
        }
    }

    fn string(&mut self, s: &StringLit) {
        for part in &s.parts {
            if let StringPart::Hole(e) = part {
                self.expr(e);
            }
        }
    }

    fn expr(&mut self, e: &ast::Expr) {
        match &e.kind {
            ExprKind::Path(segments) => match segments.as_slice() {
                [root, attr, ..] if root.name == "old" || root.name == "record" => {
                    self.names.insert(attr.name.clone());
                }
                [first, ..] => {
                    self.names.insert(first.name.clone());
                }
                [] => {}
            },
            ExprKind::String(s) => self.string(s),
            ExprKind::List(items) => items.iter().for_each(|i| self.expr(i)),
            ExprKind::Map(entries) => entries.iter().for_each(|m| self.expr(&m.value)),
            // `round_robin(sdr)` names a team, not an attribute.
            ExprKind::Call { name, args } if name.name != "round_robin" => {
                args.iter().for_each(|a| self.expr(a))
            }
            ExprKind::Unary { operand, .. }
            | ExprKind::Test { operand, .. }
            | ExprKind::Paren(operand) => self.expr(operand),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            _ => {}
        }
    }
}
