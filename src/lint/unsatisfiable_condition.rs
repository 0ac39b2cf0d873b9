//! `unsatisfiable-condition`: a condition no record can satisfy.

use super::condition_space::{decide, decide_refs, Verdict};
use super::{Check, Finding, Level, Lint, RuleContext};
use crate::ir;
use crate::syntax::ast::{self, StepKind, TriggerClause, TriggerKind};

pub(super) const LINT: Lint = Lint {
    name: "unsatisfiable-condition",
    default: Level::Error,
    summary: "a condition that no record can satisfy, so the rule or branch never runs",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# unsatisfiable-condition

## What it does
Flags a condition that no record can ever satisfy: contradictory ranges
(`value > 10 and value < 5`), two different options for one attribute
(`stage = Open and stage = ClosedLost`), a condition that contradicts the trigger
(`stage changed to ClosedWon and stage = Open`), `changed from Open to Open`, and `if`
or `route` conditions that can never hold. It reasons over numbers, currencies, dates,
options (in pipeline order for statuses) and text values, through `and`, `or` and `not`.

## Why is this bad?
A rule that can never run fails silently: the Slack ping nobody receives, the handoff
that never happens. Workflows "that should be running but are not" are found weeks
later, after the pipeline they were meant to protect has leaked.

## Example
```rules
when stage changed to ClosedWon and value > 10000 and value < 5000 do slack "#wins"
```

## Use instead
```rules
when stage changed to ClosedWon and value > 5000 and value < 10000 do slack "#wins"
```

## Fix
Rewrite the condition to say what you meant; there is no mechanical fix.

## When to allow
Never for a live rule. A rule deliberately disabled this way should use
`status paused` instead.
"##;

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let rule = &cx.ir.id;

    if let TriggerClause::When(when) = &cx.ast.trigger {
        if let TriggerKind::Changed {
            from: Some(from),
            to: Some(to),
            ..
        } = &when.trigger.kind
        {
            if same_single_value(from, to) {
                out.push(
                    Finding::new(when.trigger.span, format!("rule `{rule}` waits for a change from a value to itself, which never happens"))
                        .help("a change needs a different old and new value; fix `from` or `to`"),
                );
                return;
            }
        }
        if let (TriggerKind::Matches(filter), ir::Trigger::Matches { filter: checked }) =
            (&when.trigger.kind, &cx.ir.trigger)
        {
            if decide(checked, &[]) == Verdict::Never {
                out.push(never(
                    filter.span,
                    format!("no record ever matches the filter of rule `{rule}`"),
                ));
                return;
            }
        }
    }
    let condition_span = match &cx.ast.trigger {
        TriggerClause::When(when) => when.condition.as_ref().map(|c| c.span),
        TriggerClause::Every(every) => every
            .for_clause
            .as_ref()
            .and_then(|f| f.filter.as_ref())
            .map(|f| f.span),
    };
    let mut context: Vec<&ir::Expr> = cx.trigger_facts().iter().collect();
    if let (Some(span), Some(condition)) = (condition_span, &cx.ir.condition) {
        if cx.condition_verdict() == Some(Verdict::Never) {
            let alone = cx.condition_verdict_alone() == Some(Verdict::Never);
            let why = if alone {
                ""
            } else {
                " together with its trigger"
            };
            out.push(never(
                span,
                format!("the condition of rule `{rule}` can never hold{why}"),
            ));
            return;
        }
        context.push(condition);
    }
    branches(&cx.ast.steps, &cx.ir.steps, &context, rule, out);
}

fn never(span: crate::source::Span, message: String) -> Finding {
    Finding::new(span, message)
        .help("the comparisons contradict each other; say what you meant, or remove the rule")
}

fn same_single_value(from: &ast::Values, to: &ast::Values) -> bool {
    match (from.items.as_slice(), to.items.as_slice()) {
        ([a], [b]) => crate::format::expr(a) == crate::format::expr(b),
        _ => false,
    }
}

/// `if`/`route` conditions that cannot hold where they are evaluated.
fn branches(
    ast_steps: &[ast::Step],
    ir_steps: &[ir::Step],
    context: &[&ir::Expr],
    rule: &str,
    out: &mut Vec<Finding>,
) {
    for (a, i) in ast_steps.iter().zip(ir_steps) {
        let (ast_branches, ir_branches, ast_else, ir_else) = match (&a.kind, &i.action) {
            (
                StepKind::If {
                    branches,
                    otherwise,
                },
                ir::Action::If {
                    branches: ib,
                    otherwise: io,
                },
            )
            | (
                StepKind::Route {
                    arms: branches,
                    otherwise,
                },
                ir::Action::Route {
                    arms: ib,
                    otherwise: io,
                },
            ) => (branches, ib, otherwise, io),
            (StepKind::ForEach { steps, .. }, ir::Action::ForEach { steps: body, .. }) => {
                branches(steps, body, context, rule, out);
                continue;
            }
            _ => continue,
        };
        for (ab, ib) in ast_branches.iter().zip(ir_branches) {
            if decide_refs(&ib.condition, context) == Verdict::Never {
                out.push(never(
                    ab.condition.span,
                    format!(
                        "this branch of rule `{rule}` can never run: its condition never holds"
                    ),
                ));
                continue;
            }
            let mut inner = context.to_vec();
            inner.push(&ib.condition);
            branches(&ab.steps, &ib.steps, &inner, rule, out);
        }
        if let Some(steps) = ast_else {
            branches(steps, ir_else, context, rule, out);
        }
    }
}
