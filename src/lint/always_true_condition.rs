//! `always-true-condition`: a condition every record satisfies.

use super::condition_space::{decide, Verdict};
use super::{Check, Finding, Level, Lint, RuleContext};
use crate::ir;
use crate::syntax::ast::{TriggerClause, TriggerKind};

pub(super) const LINT: Lint = Lint {
    name: "always-true-condition",
    default: Level::Warning,
    summary: "a condition every record satisfies, so the trigger is effectively unconditioned",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# always-true-condition

## What it does
Flags a rule condition (or `matches` filter, or scheduled `for … where` filter) that
every record with those attributes set satisfies — `value > 5 or value <= 5`,
`stage >= Lead` (the first stage), or a condition the trigger already guarantees
(`stage changed to ClosedWon and stage = ClosedWon`).

## Why is this bad?
The author believed the rule was filtered; it is not. It fires on every event of its
kind, with the same cost as an unconditioned trigger: a flooded channel that people
mute, or thousands of emails after an import.

## Example
```rules
when stage changed to ClosedWon and value > 5 or value <= 5 do slack "#wins"
```

## Use instead
```rules
when stage changed to ClosedWon and value > 10000 do slack "#wins"
```

## Fix
Write the condition you meant. If the rule really should run every time, remove the
condition and, if needed, allow `unconditioned-trigger` with a reason.

## When to allow
Rarely: a condition kept as documentation of an invariant. Prefer a comment.
"##;

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let rule = &cx.ir.id;
    if let (TriggerClause::When(when), ir::Trigger::Matches { filter }) =
        (&cx.ast.trigger, &cx.ir.trigger)
    {
        if let TriggerKind::Matches(ast_filter) = &when.trigger.kind {
            if decide(filter, &[]) == Verdict::Always {
                out.push(
                    Finding::new(
                        ast_filter.span,
                        format!(
                            "every record matches the filter of rule `{rule}`; it filters nothing"
                        ),
                    )
                    .help("say which records should match"),
                );
            }
        }
    }
    let span = match &cx.ast.trigger {
        TriggerClause::When(when) => when.condition.as_ref().map(|c| c.span),
        TriggerClause::Every(every) => every
            .for_clause
            .as_ref()
            .and_then(|f| f.filter.as_ref())
            .map(|f| f.span),
    };
    let Some(span) = span else {
        return;
    };
    if cx.condition_verdict() == Some(Verdict::Always) {
        let alone = cx.condition_verdict_alone() == Some(Verdict::Always);
        let why = if alone { "" } else { ", given its trigger" };
        out.push(
            Finding::new(
                span,
                format!("the condition of rule `{rule}` always holds{why}; it filters nothing"),
            )
            .help("write the condition you meant, or remove it"),
        );
    }
}
