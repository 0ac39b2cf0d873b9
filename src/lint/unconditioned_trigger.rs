//! `unconditioned-trigger`: a trigger that fires on every event of its kind.

use super::{Check, Finding, Level, Lint, RuleContext};
use crate::diagnostics::{Edit, Fix, Safety};
use crate::source::Span;
use crate::syntax::ast::{TriggerClause, TriggerKind};

pub(super) const LINT: Lint = Lint {
    name: "unconditioned-trigger",
    default: Level::Warning,
    summary: "a trigger with no condition fires on every matching event",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# unconditioned-trigger

## What it does
Flags a rule whose trigger fires on every event of its kind, with nothing to narrow
it down:

- `when updated` with no condition;
- `when <attribute> changed` with no `from`, no `to` and no condition;
- `when created` with no condition;
- `every …` with `for <object>` and no `where`.

## Why is this bad?
Reps update a deal's stage dozens of times a day. A rule on "stage changed" that posts
to Slack turns the channel into noise within a morning, people mute it, and the one
message that mattered is lost. "Record created" with no condition also fires on every
row of a CSV import: a 5,000-row import sends 5,000 welcome messages — an incident
that costs thousands in lost email deliverability. Workflows are easier to widen
later than to recover from misfires.

## Example
```rules
when stage changed do slack "#sales"
```

## Use instead
Say which change matters, and keep bulk imports out:

```rules
when stage changed from Open to ClosedWon and value > 10000 do slack "#wins"
```

## Fix
For `created`, the editor offers to add `and event.source != import`. This changes
which events run the rule (that is the point), so it is not applied by
`rulec check --fix` unless `--unsafe-fixes` is given. Other triggers need a condition
only the author can choose.

## When to allow
When every event really should run the rule, for example a rule that mirrors each
change to an external system with an idempotency key. Say why:
`allow unconditioned-trigger "mirrors every stage change to the warehouse"`.
"##;

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let rule = &cx.ir.id;
    match &cx.ast.trigger {
        TriggerClause::When(when) if when.condition.is_none() => {
            let span = when.trigger.span;
            match &when.trigger.kind {
                TriggerKind::Updated => out.push(
                    Finding::new(span, format!("rule `{rule}` runs on every update; add a condition"))
                        .help("add `and <condition>` after the trigger, or watch one attribute: `when stage changed to …`"),
                ),
                TriggerKind::Changed { attr, from: None, to: None, .. } => out.push(
                    Finding::new(
                        span,
                        format!("rule `{rule}` runs on every `{}` change; add `from`/`to` or a condition", attr.name),
                    )
                    .help(format!(
                        "say which change matters, e.g. `{} changed to <value>`, or add `and <condition>`",
                        attr.name
                    )),
                ),
                TriggerKind::Created => out.push(
                    Finding::new(
                        span,
                        format!("rule `{rule}` runs on every new record, imports included; add a condition"),
                    )
                    .help("exclude bulk imports with `and event.source != import`")
                    .fix(Fix {
                        title: "add an import guard".into(),
                        safety: Safety::ChangesBehaviour,
                        edits: vec![Edit {
                            span: Span::new(span.hi(), span.hi()),
                            replacement: " and event.source != import".into(),
                        }],
                    }),
                ),
                _ => {}
            }
        }
        TriggerClause::Every(every) => {
            if let Some(for_clause) = every.for_clause.as_ref().filter(|f| f.filter.is_none()) {
                let object = &for_clause.object.name;
                out.push(
                    Finding::new(
                        for_clause.object.span,
                        format!("rule `{rule}` runs for every record of `{object}` on each tick; add `where`"),
                    )
                    .help(format!("narrow the scan: `for {object} where <filter>`")),
                );
            }
        }
        TriggerClause::When(_) => {}
    }
}
