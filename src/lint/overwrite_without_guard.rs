//! `overwrite-without-guard`: a re-firing rule that overwrites an owner or a stage.

use super::{Check, Finding, Level, Lint, RuleContext};
use crate::diagnostics::{Edit, Fix, Safety};
use crate::ir;
use crate::schema::{Object, Type};
use crate::source::Span;
use crate::syntax::ast::{
    BinaryOp, Branch, Expr, ExprKind, Ident, Step, StepKind, TriggerClause, TriggerKind,
};

pub(super) const LINT: Lint = Lint {
    name: "overwrite-without-guard",
    default: Level::Info,
    summary: "a rule that runs again overwrites an owner or stage people also edit",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# overwrite-without-guard

## What it does
Flags `set <attr> = …` without `if empty` (at any depth) when the attribute is one
people edit by hand — a `member` (owners, managers) or a `status` (pipeline stages) —
and the rule can run again on a record that already exists: any trigger but `created`.

It stays quiet when the write is plainly intended:

- the rule's own trigger watches that attribute (`when owner changed …` that sets
  `owner` is routing, not an accident);
- the rule's condition, or an enclosing `if`/`route` branch, tests that the attribute
  is empty (`owner is empty`, `owner is not set`, `owner = empty`), or an earlier
  branch took every record where it is set;
- an earlier `if owner is set then stop end` (or `skip`) ended the run when it is set.

## Why is this bad?
A rep reassigns a deal or moves its stage by hand; the next time the rule fires it
silently puts its own value back. The rep's edit is lost, nobody knows why, and the
record flips back and forth. "Set value" always overwrites; "set only if empty" gives a
default without undoing a person's decision.

## Example
```rules
team sdr = ["ana@acme.com", "bo@acme.com"]

rule qualified_owner
  owner "revops@acme.com"
  description "Gives qualified deals an SDR"
  on deals
  when stage changed to Qualified
  do
    set owner = round_robin(sdr)
```

## Use instead
```rules
team sdr = ["ana@acme.com", "bo@acme.com"]

rule qualified_owner
  owner "revops@acme.com"
  description "Gives qualified deals without an owner an SDR"
  on deals
  when stage changed to Qualified
  do
    set owner = round_robin(sdr) if empty
```

## Fix
Add `if empty`, so the step only fills the attribute when nobody has set it. The
editor offers this edit; it changes what the rule does to records that already have a
value, so `rulec check --fix` applies it only with `--unsafe-fixes`.

## When to allow
When the rule must win over manual edits, for example an escalation that always
reassigns to a manager. Say why:
`allow overwrite-without-guard "escalations always go to the duty manager"`.
"##;

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    // A record that was just created carries no edit of a person's yet.
    if matches!(cx.ir.trigger, ir::Trigger::Created) {
        return;
    }
    let Some(object) = cx.ir.object.as_deref().and_then(|o| cx.schema.object(o)) else {
        return;
    };
    let watched = match &cx.ir.trigger {
        ir::Trigger::Changed { attr, .. } => Some(attr.attr.as_str()),
        _ => None,
    };
    let mut empty: Vec<String> = Vec::new();
    match &cx.ast.trigger {
        TriggerClause::When(when) => {
            if let TriggerKind::Matches(filter) = &when.trigger.kind {
                empty_conjuncts(filter, &mut empty);
            }
            if let Some(condition) = &when.condition {
                empty_conjuncts(condition, &mut empty);
            }
        }
        TriggerClause::Every(every) => {
            if let Some(filter) = every.for_clause.as_ref().and_then(|f| f.filter.as_ref()) {
                empty_conjuncts(filter, &mut empty);
            }
        }
    }
    let walker = Walker {
        rule: &cx.ir.id,
        object,
        watched,
    };
    walker.steps(&cx.ast.steps, &empty, out);
}

struct Walker<'a> {
    rule: &'a str,
    object: &'a Object,
    watched: Option<&'a str>,
}

impl Walker<'_> {
    /// `empty` holds the attributes known to be empty where these steps run.
    fn steps(&self, steps: &[Step], empty: &[String], out: &mut Vec<Finding>) {
        let mut empty = empty.to_vec();
        for step in steps {
            match &step.kind {
                StepKind::Set {
                    attr,
                    value,
                    if_empty: false,
                } => self.set(step, attr, value, &empty, out),
                StepKind::If {
                    branches,
                    otherwise,
                }
                | StepKind::Route {
                    arms: branches,
                    otherwise,
                } => {
                    self.branches(branches, otherwise.as_deref(), &empty, out);
                    // `if owner is set then stop end`: past it, `owner` is empty.
                    if let Some(first) = branches.first() {
                        let ends_run = first
                            .steps
                            .last()
                            .is_some_and(|s| matches!(s.kind, StepKind::Stop | StepKind::Skip(_)));
                        if ends_run {
                            if let Some(name) = set_test(&first.condition) {
                                empty.push(name.to_string());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Branches run first match first, so a branch that took every record where an
    /// attribute is set leaves it empty for the branches after it and the `else`.
    fn branches(
        &self,
        branches: &[Branch],
        otherwise: Option<&[Step]>,
        empty: &[String],
        out: &mut Vec<Finding>,
    ) {
        let mut after = empty.to_vec();
        for branch in branches {
            let mut inside = after.clone();
            empty_conjuncts(&branch.condition, &mut inside);
            self.steps(&branch.steps, &inside, out);
            if let Some(name) = set_test(&branch.condition) {
                after.push(name.to_string());
            }
        }
        if let Some(steps) = otherwise {
            self.steps(steps, &after, out);
        }
    }

    fn set(
        &self,
        step: &Step,
        attr: &Ident,
        value: &Expr,
        empty: &[String],
        out: &mut Vec<Finding>,
    ) {
        let name = attr.name.as_str();
        if self.watched == Some(name) || empty.iter().any(|e| e == name) {
            return;
        }
        let Some(attribute) = self.object.attribute(name) else {
            return;
        };
        let edited_by = match attribute.ty {
            Type::Member => "reassign",
            Type::Status(_) => "move",
            _ => return,
        };
        let rule = self.rule;
        out.push(
            Finding::new(
                step.span,
                format!(
                    "rule `{rule}` overwrites `{name}` each time it runs, undoing anyone who changed it; add `if empty`"
                ),
            )
            .help(format!(
                "people {edited_by} `{name}` by hand; `set {name} = … if empty` only fills it when nobody has"
            ))
            .fix(Fix {
                title: "only fill when empty".into(),
                safety: Safety::ChangesBehaviour,
                edits: vec![Edit {
                    span: Span::new(value.span.hi(), value.span.hi()),
                    replacement: " if empty".into(),
                }],
            }),
        );
    }
}

/// Adds the attributes that `and` parts of the condition require to be empty.
fn empty_conjuncts(e: &Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Paren(inner) => empty_conjuncts(inner, out),
        ExprKind::Binary {
            op: BinaryOp::And,
            lhs,
            rhs,
            ..
        } => {
            empty_conjuncts(lhs, out);
            empty_conjuncts(rhs, out);
        }
        ExprKind::Test { op, operand } if !op.wants_value() => {
            if let Some(name) = attribute(operand) {
                out.push(name.to_string());
            }
        }
        ExprKind::Binary {
            op: BinaryOp::Eq,
            lhs,
            rhs,
            ..
        } => {
            let name = match (&lhs.kind, &rhs.kind) {
                (_, ExprKind::Empty) => attribute(lhs),
                (ExprKind::Empty, _) => attribute(rhs),
                _ => None,
            };
            if let Some(name) = name {
                out.push(name.to_string());
            }
        }
        _ => {}
    }
}

/// The attribute a whole condition requires to be set: `owner is set`,
/// `owner is not empty`, `owner != empty`.
fn set_test(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Paren(inner) => set_test(inner),
        ExprKind::Test { op, operand } if op.wants_value() => attribute(operand),
        ExprKind::Binary {
            op: BinaryOp::Ne,
            lhs,
            rhs,
            ..
        } => match (&lhs.kind, &rhs.kind) {
            (_, ExprKind::Empty) => attribute(lhs),
            (ExprKind::Empty, _) => attribute(rhs),
            _ => None,
        },
        _ => None,
    }
}

/// The record attribute an expression reads directly: `owner` or `record.owner`.
fn attribute(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Paren(inner) => attribute(inner),
        ExprKind::Path(segments) => match segments.as_slice() {
            [name] => Some(name.name.as_str()),
            [prefix, name] if prefix.name == "record" => Some(name.name.as_str()),
            _ => None,
        },
        _ => None,
    }
}
