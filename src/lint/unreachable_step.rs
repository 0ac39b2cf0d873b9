//! `unreachable-step`: steps and branches a run can never get to.

use super::{Check, Finding, Level, Lint, RuleContext};
use crate::source::Span;
use crate::syntax::ast::{Branch, Expr, ExprKind, Step, StepKind};

pub(super) const LINT: Lint = Lint {
    name: "unreachable-step",
    default: Level::Warning,
    summary: "steps after `stop`/`skip`, or a branch an earlier branch always takes first",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# unreachable-step

## What it does
Flags what a run can never get to:

- steps after `stop` or `skip` in the same block (reported from the first of them to
  the end of the block);
- a `route` arm whose condition is the same as an earlier arm's, or that comes after
  an arm whose condition is `true`: the first arm that holds wins, so it never runs;
- an `else if` whose condition is the same as an earlier branch's of the same `if`, or
  that comes after a branch whose condition is `true`.

Conditions are compared as written, in canonical form (`value>5` and `value > 5` are
the same; `5 < value` is not).

## Why is this bad?
The author meant those steps to run. A notification placed after `stop` never goes
out, and nothing says so: the run history shows a successful run. A copied `route` arm
that was never edited silently sends every matching record down the first arm. These
are the workflows "that should be running but are not", found weeks later.

## Example
```rules
rule lost_deal_cleanup
  owner "revops@acme.com"
  description "Clears the close date of lost deals and tells the owner"
  on deals
  when stage changed to ClosedLost
    and owner is set
  do
    clear close_date
    skip "lost"
    slack dm owner "{{name}} was marked lost"
```

## Use instead
```rules
rule lost_deal_cleanup
  owner "revops@acme.com"
  description "Clears the close date of lost deals and tells the owner"
  on deals
  when stage changed to ClosedLost
    and owner is set
  do
    clear close_date
    slack dm owner "{{name}} was marked lost"
```

## Fix
Move the steps before `stop`/`skip` (or remove them), and give each `route` arm and
`else if` its own condition. There is no automatic fix: only the author knows which
was meant.

## When to allow
Rarely: while debugging, a `stop` may cut a rule short on purpose. Prefer
`status paused` or removing the steps; if you must keep them, say why:
`allow unreachable-step "temporarily disabled until the ERP is back"`.
"##;

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    walk(&cx.ir.id, &cx.ast.steps, out);
}

fn walk(rule: &str, steps: &[Step], out: &mut Vec<Finding>) {
    let end = steps
        .iter()
        .position(|s| matches!(s.kind, StepKind::Stop | StepKind::Skip(_)));
    // Steps after the end are reported once, as a whole; what is nested in them is not
    // looked at, since none of it runs anyway.
    let reachable = match end {
        Some(index) => steps.get(..=index).unwrap_or(steps),
        None => steps,
    };
    if let Some(index) = end {
        let ender = steps.get(index);
        let first = steps.get(index + 1);
        if let (Some(ender), Some(first), Some(last)) = (ender, first, steps.last()) {
            let word = match ender.kind {
                StepKind::Stop => "stop",
                _ => "skip",
            };
            let span = Span::new(first.span.lo(), last.span.hi());
            out.push(
                Finding::new(
                    span,
                    format!("rule `{rule}` never runs the steps after `{word}`; move them before it or remove them"),
                )
                .help(format!("`{word}` ends the run, so nothing after it in the same block runs"))
                .related(ender.span, "the run ends here"),
            );
        }
    }
    for step in reachable {
        match &step.kind {
            StepKind::If {
                branches,
                otherwise,
            } => {
                shadowed(rule, branches, Kind::ElseIf, out);
                descend(rule, branches, otherwise.as_deref(), out);
            }
            StepKind::Route { arms, otherwise } => {
                shadowed(rule, arms, Kind::Arm, out);
                descend(rule, arms, otherwise.as_deref(), out);
            }
            StepKind::ForEach { steps, .. } => walk(rule, steps, out),
            _ => {}
        }
    }
}

fn descend(rule: &str, branches: &[Branch], otherwise: Option<&[Step]>, out: &mut Vec<Finding>) {
    for branch in branches {
        walk(rule, &branch.steps, out);
    }
    if let Some(steps) = otherwise {
        walk(rule, steps, out);
    }
}

#[derive(Clone, Copy)]
enum Kind {
    ElseIf,
    Arm,
}

/// Reports branches an earlier branch always takes first: the same condition, or any
/// condition after `true`.
fn shadowed(rule: &str, branches: &[Branch], kind: Kind, out: &mut Vec<Finding>) {
    let (what, earlier) = match kind {
        Kind::ElseIf => ("never takes this `else if`", "an earlier branch"),
        Kind::Arm => ("never reaches this `route` arm", "an earlier arm"),
    };
    let mut seen: Vec<(String, Span)> = Vec::new();
    let mut always: Option<Span> = None;
    for branch in branches {
        let condition = &branch.condition;
        if let Some(first) = always {
            out.push(
                Finding::new(
                    condition.span,
                    format!("rule `{rule}` {what}: {earlier} is always `true`; remove it or change that condition"),
                )
                .related(first, "this condition always holds"),
            );
            continue;
        }
        let text = crate::format::expr(unparen(condition));
        if let Some((_, first)) = seen.iter().find(|(t, _)| *t == text) {
            out.push(
                Finding::new(
                    condition.span,
                    format!("rule `{rule}` {what}: {earlier} has the same condition; change or remove one of them"),
                )
                .help("the first branch whose condition holds runs, so a repeated condition never gets its turn")
                .related(*first, "the same condition, checked first"),
            );
            continue;
        }
        if matches!(unparen(condition).kind, ExprKind::Bool(true)) {
            always = Some(condition.span);
        }
        seen.push((text, condition.span));
    }
}

fn unparen(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Paren(inner) => unparen(inner),
        _ => e,
    }
}
