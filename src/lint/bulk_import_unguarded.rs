//! `bulk-import-unguarded`: a rule on new records that notifies people, imports included.

use super::{Check, Finding, Level, Lint, RuleContext};
use crate::diagnostics::{Edit, Fix, Safety};
use crate::source::Span;
use crate::syntax::ast::{
    BinaryOp, Branch, Expr, ExprKind, Step, StepKind, TriggerClause, TriggerKind, UnaryOp,
    WhenClause,
};

pub(super) const LINT: Lint = Lint {
    name: "bulk-import-unguarded",
    default: Level::Warning,
    summary: "a rule on new records notifies people for every row of a bulk import",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# bulk-import-unguarded

## What it does
Flags a rule that reacts to new records — `created`, or `added to list "…"` — and
notifies people (`slack`, `email`, `create task`, `ask`, at any depth), when its
condition does not keep bulk imports out.

A condition keeps imports out when one of its `and` parts is:

- `event.source != import` or `event.actor != import`;
- `event.source not in [… import …]`;
- `event.source = <another source>` or `event.source in [...]` without `import` (the
  same for `event.actor`);
- a test of the record's age: `created_at within last 5 minutes`,
  `created_at after …`, `created_at before …`.

An `or` counts only when every side keeps imports out. Steps inside a branch that keeps
imports out (`if event.source != import then … end`), and steps after
`if event.source = import then stop end`, do not count.

A `created` rule with no condition at all is left to `unconditioned-trigger`, which
reports it with the same fix.

## Why is this bad?
A CSV import creates thousands of records at once. The first import of 5,000 people
fires the welcome workflow 5,000 times: the Slack channel is flooded for twenty minutes,
reps mute it, and the workflow is useless from then on. If the step sends email, you
have just torched sender reputation across 5,000 contacts — easily a $2-4K incident in
lost deliverability.

## Example
```rules
rule welcome_email
  owner "marketing@acme.com"
  description "Welcomes every new contact"
  on people
  when created
    and email_addresses is set
  do
    email email_addresses subject "Welcome to Acme" body "Hi {{name}}, thanks for signing up."
```

## Use instead
```rules
rule welcome_email
  owner "marketing@acme.com"
  description "Welcomes every new contact who signed up by hand"
  on people
  when created
    and email_addresses is set
    and event.source != import
  do
    email email_addresses subject "Welcome to Acme" body "Hi {{name}}, thanks for signing up."
```

## Fix
Add `and event.source != import` to the condition (or `created_at within last
5 minutes` if imports should still count when they are recent). The editor offers to add
`and event.source != import`; this changes which events run the rule (that is the
point), so `rulec check --fix` applies it only with `--unsafe-fixes`.

## When to allow
When an imported record really should notify someone, for example a list that only
ever receives a handful of hand-picked records. Say why:
`allow bulk-import-unguarded "only ops adds to this list, one record at a time"`.
"##;

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let TriggerClause::When(when) = &cx.ast.trigger else {
        return;
    };
    let list = match &when.trigger.kind {
        TriggerKind::Created => None,
        TriggerKind::AddedToList(name) => Some(name),
        _ => return,
    };
    // `unconditioned-trigger` already reports an unconditioned `created` rule, with the
    // same fix; saying it twice would only add noise.
    if list.is_none() && when.condition.is_none() {
        return;
    }
    if when.condition.as_ref().is_some_and(excludes_imports) {
        return;
    }
    let Some(notification) = first_notification(&cx.ast.steps) else {
        return;
    };
    let rule = &cx.ir.id;
    let message = match list {
        None => format!(
            "rule `{rule}` notifies people for every new record, imports included; add `and event.source != import`"
        ),
        Some(name) => format!(
            "rule `{rule}` notifies people for every record added to list `{}`, bulk imports included; add `and event.source != import`",
            name.lossy()
        ),
    };
    out.push(
        Finding::new(when.trigger.span, message)
            .help("a 5,000-row import would send 5,000 notifications; keep imports out with `and event.source != import` or an age test such as `and created_at within last 5 minutes`")
            .related(notification.span, "this step notifies people")
            .fix(guard_fix(when)),
    );
}

/// Appends `and event.source != import` to the condition, or to the trigger when there
/// is none. A condition whose top level is an `or` is parenthesised first: appended to
/// `a or b`, the guard would bind to `b` alone.
fn guard_fix(when: &WhenClause) -> Fix {
    const GUARD: &str = " and event.source != import";
    let insert = |at: usize, text: String| Edit {
        span: Span::new(at, at),
        replacement: text,
    };
    let edits = match &when.condition {
        Some(condition) if is_or(condition) => vec![
            insert(condition.span.lo(), "(".into()),
            insert(condition.span.hi(), format!("){GUARD}")),
        ],
        Some(condition) => vec![insert(condition.span.hi(), GUARD.into())],
        None => vec![insert(when.trigger.span.hi(), GUARD.into())],
    };
    Fix {
        title: "add an import guard".into(),
        safety: Safety::ChangesBehaviour,
        edits,
    }
}

fn is_or(e: &Expr) -> bool {
    matches!(
        e.kind,
        ExprKind::Binary {
            op: BinaryOp::Or,
            ..
        }
    )
}

/// The first step that reaches a person, skipping steps imports never get to.
fn first_notification(steps: &[Step]) -> Option<&Step> {
    for step in steps {
        match &step.kind {
            StepKind::Slack { .. }
            | StepKind::Email { .. }
            | StepKind::CreateTask { .. }
            | StepKind::Ask { .. } => return Some(step),
            StepKind::ForEach { steps, .. } => {
                if let Some(found) = first_notification(steps) {
                    return Some(found);
                }
            }
            StepKind::If {
                branches,
                otherwise,
            }
            | StepKind::Route {
                arms: branches,
                otherwise,
            } => {
                if let Some(found) = notification_in_branches(branches, otherwise.as_deref()) {
                    return Some(found);
                }
                // `if event.source = import then stop end`: imports end the run here.
                let stops_imports = branches.first().is_some_and(|first| {
                    holds_for_imports(&first.condition)
                        && first
                            .steps
                            .last()
                            .is_some_and(|s| matches!(s.kind, StepKind::Stop | StepKind::Skip(_)))
                });
                if stops_imports {
                    return None;
                }
            }
            _ => {}
        }
    }
    None
}

/// Branches are tried in order, so once one holds for every import, imports never
/// reach the branches after it (nor the `else`).
fn notification_in_branches<'a>(
    branches: &'a [Branch],
    otherwise: Option<&'a [Step]>,
) -> Option<&'a Step> {
    for branch in branches {
        if !excludes_imports(&branch.condition) {
            if let Some(found) = first_notification(&branch.steps) {
                return Some(found);
            }
        }
        if holds_for_imports(&branch.condition) {
            return None;
        }
    }
    otherwise.and_then(first_notification)
}

/// Whether the condition is false for every imported record (see the docs).
fn excludes_imports(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Paren(inner) => excludes_imports(inner),
        ExprKind::Binary {
            op: BinaryOp::And,
            lhs,
            rhs,
            ..
        } => excludes_imports(lhs) || excludes_imports(rhs),
        ExprKind::Binary {
            op: BinaryOp::Or,
            lhs,
            rhs,
            ..
        } => excludes_imports(lhs) && excludes_imports(rhs),
        ExprKind::Unary {
            op: UnaryOp::Not,
            operand,
        } => holds_for_imports(operand) || is_age_test(operand),
        ExprKind::Binary { op, lhs, rhs, .. } => {
            if is_age_comparison(*op, lhs, rhs) {
                return true;
            }
            let other = if is_event_origin(lhs) {
                rhs
            } else if is_event_origin(rhs) {
                lhs
            } else {
                return false;
            };
            match op {
                BinaryOp::Ne => is_import(other),
                BinaryOp::Eq => !is_import(other),
                BinaryOp::NotIn => {
                    list_items(other).is_some_and(|items| items.iter().any(is_import))
                }
                // A list that is not written out could hold anything: stay quiet.
                BinaryOp::In => list_items(other).is_none_or(|items| !items.iter().any(is_import)),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether the condition is true for every imported record: `event.source = import`,
/// `event.source in [… import …]`, or an `or` with such a side.
fn holds_for_imports(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Paren(inner) => holds_for_imports(inner),
        ExprKind::Binary {
            op: BinaryOp::Or,
            lhs,
            rhs,
            ..
        } => holds_for_imports(lhs) || holds_for_imports(rhs),
        ExprKind::Binary {
            op: BinaryOp::Eq,
            lhs,
            rhs,
            ..
        } => (is_event_origin(lhs) && is_import(rhs)) || (is_event_origin(rhs) && is_import(lhs)),
        ExprKind::Binary {
            op: BinaryOp::In,
            lhs,
            rhs,
            ..
        } => {
            is_event_origin(lhs) && list_items(rhs).is_some_and(|items| items.iter().any(is_import))
        }
        _ => false,
    }
}

/// A comparison involving `created_at`, anywhere in the condition.
fn is_age_test(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Paren(inner) => is_age_test(inner),
        ExprKind::Binary { op, lhs, rhs, .. } => is_age_comparison(*op, lhs, rhs),
        _ => false,
    }
}

/// `created_at within last 5 minutes`, `created_at after …`, `now - created_at < …`.
fn is_age_comparison(op: BinaryOp, lhs: &Expr, rhs: &Expr) -> bool {
    let ordering = matches!(
        op,
        BinaryOp::Before
            | BinaryOp::After
            | BinaryOp::WithinLast
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge
    );
    ordering && (mentions_created_at(lhs) || mentions_created_at(rhs))
}

fn mentions_created_at(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Path(segments) => {
            let names: Vec<&str> = segments.iter().map(|s| s.name.as_str()).collect();
            matches!(names.as_slice(), ["created_at"] | ["record", "created_at"])
        }
        ExprKind::Paren(inner) => mentions_created_at(inner),
        ExprKind::Unary { operand, .. } => mentions_created_at(operand),
        ExprKind::Binary { lhs, rhs, .. } => mentions_created_at(lhs) || mentions_created_at(rhs),
        ExprKind::Call { args, .. } => args.iter().any(mentions_created_at),
        _ => false,
    }
}

/// `event.source` or `event.actor`.
fn is_event_origin(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Path(segments) => {
            let names: Vec<&str> = segments.iter().map(|s| s.name.as_str()).collect();
            matches!(names.as_slice(), ["event", "source" | "actor"])
        }
        ExprKind::Paren(inner) => is_event_origin(inner),
        _ => false,
    }
}

/// The word `import`, bare or quoted.
fn is_import(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Path(segments) => {
            segments.len() == 1 && segments.first().is_some_and(|s| s.name == "import")
        }
        ExprKind::String(s) => s.plain().is_some_and(|text| text == "import"),
        ExprKind::Paren(inner) => is_import(inner),
        _ => false,
    }
}

fn list_items(e: &Expr) -> Option<&[Expr]> {
    match &e.kind {
        ExprKind::List(items) => Some(items),
        ExprKind::Paren(inner) => list_items(inner),
        _ => None,
    }
}
