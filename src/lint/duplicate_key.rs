//! `duplicate-key`: two steps of a rule that share an idempotency key, so the second
//! is never performed.

use super::{Check, Finding, Level, Lint, RuleContext};
use crate::source::Span;
use crate::syntax::ast::{Expr, Step, StepKind};

pub(super) const LINT: Lint = Lint {
    name: "duplicate-key",
    default: Level::Warning,
    summary: "two steps with the same action and the same `key`: the second is never performed",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# duplicate-key

## What it does
Flags a step whose `key` is the same as an earlier step's of the same rule with the
same action, when both can run in one run. A `key` replaces the event in the effect's
idempotency key, which is made of the rule, the action and the key's value — not of
the step, the URL, the method or the object created. So two `http` steps with
`key event.id` (whatever their URLs), or a `create companies` and a `create people`
with `key payload.email`, are one effect to the engine: the first is performed, the
second is found already done and skipped.

Keys are compared as written, in canonical form (`payload.email` and
`payload . email` are the same; `"{{payload.email}}-crm"` is not `payload.email`).
Steps in different branches of one `if` (`then`, `else if`, `else`) or in different
arms of one `route` never run together, and are not flagged.

## Why is this bad?
Nothing fails: the run history shows the second step as `already_done`, with the first
step's output, and the run completes. The second API never hears of the deal, the
second record is never created, and the `as` binding of the second step holds what the
first one answered — so later steps quietly use the wrong record.

## Example
```rules
rule won_sync
  owner "revops@acme.com"
  description "Tells the ERP and the data warehouse about each won deal"
  on deals
  when stage changed to ClosedWon
  do
    http POST "https://erp.example.com/deals" body { id: event.id } key event.id
    http POST "https://warehouse.example.com/events" body { id: event.id } key event.id
```

## Use instead
```rules
rule won_sync
  owner "revops@acme.com"
  description "Tells the ERP and the data warehouse about each won deal"
  on deals
  when stage changed to ClosedWon
  do
    http POST "https://erp.example.com/deals" body { id: event.id } key "erp-{{event.id}}"
    http POST "https://warehouse.example.com/events" body { id: event.id } key "warehouse-{{event.id}}"
```

## Fix
Give each step a key of its own that is still stable across retries, such as
`"erp-{{event.id}}"` and `"warehouse-{{event.id}}"`, or remove the step that repeats
the other. There is no automatic fix: only the author knows which part to add.

## When to allow
When the second step is meant as a fallback that must not run if the first did —
for example an unconditional step after an `if` that may already have done it. Say
why: `allow duplicate-key "the welcome goes out once, from whichever path runs first"`.
"##;

/// A step with a `key`, and where in the rule's branches it sits.
struct Keyed<'a> {
    action: String,
    key: String,
    span: Span,
    /// For each enclosing `if`/`route`: which one (numbered in walk order) and which
    /// of its branches.
    branches: Vec<(usize, usize)>,
    step: &'a Step,
}

impl Keyed<'_> {
    /// Whether one run can reach both: they are not in different branches of one
    /// `if` or `route`.
    fn can_run_with(&self, other: &Keyed<'_>) -> bool {
        !self
            .branches
            .iter()
            .zip(&other.branches)
            .any(|((a, arm_a), (b, arm_b))| a == b && arm_a != arm_b)
    }
}

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let mut keyed = Vec::new();
    let mut branch_steps = 0;
    collect(
        &cx.ast.steps,
        &mut Vec::new(),
        &mut branch_steps,
        &mut keyed,
    );
    for (i, later) in keyed.iter().enumerate() {
        let first = keyed[..i].iter().find(|earlier| {
            earlier.action == later.action
                && earlier.key == later.key
                && earlier.can_run_with(later)
        });
        let Some(first) = first else { continue };
        let line = cx.file.line_col(first.step.span.lo()).line;
        let action = if later.action == "create_task" {
            "create task"
        } else {
            &later.action
        };
        out.push(
            Finding::new(
                later.span,
                format!(
                    "rule `{}` has two `{action}` steps with `key {}`: they are one effect to the engine, so this one is never performed (it shows `already_done`); give each its own key",
                    cx.ir.id, later.key
                ),
            )
            .help(format!(
                "an idempotency key is made of the rule, the action and the key's value, not of the step, so this step and the one on line {line} share one; add what tells them apart, as in `key \"erp-{{{{event.id}}}}\"` and `key \"warehouse-{{{{event.id}}}}\"`"
            ))
            .related(first.span, "the same key, used first"),
        );
    }
}

/// Every step with a `key`, in the order a run meets them.
fn collect<'a>(
    steps: &'a [Step],
    branches: &mut Vec<(usize, usize)>,
    branch_steps: &mut usize,
    out: &mut Vec<Keyed<'a>>,
) {
    for step in steps {
        if let Some((action, key)) = action_and_key(step) {
            out.push(Keyed {
                action,
                key: crate::format::expr(key),
                span: key.span,
                branches: branches.clone(),
                step,
            });
        }
        let blocks = step.blocks();
        if blocks.is_empty() {
            continue;
        }
        let this = *branch_steps;
        *branch_steps += 1;
        for (arm, block) in blocks.into_iter().enumerate() {
            branches.push((this, arm));
            collect(block, branches, branch_steps, out);
            branches.pop();
        }
    }
}

/// The action a step's key is made with (as the engine names it) and its `key`.
fn action_and_key(step: &Step) -> Option<(String, &Expr)> {
    let (action, key) = match &step.kind {
        StepKind::Http { key, .. } => ("http".to_string(), key),
        StepKind::Create { key, .. } => ("create".to_string(), key),
        StepKind::CreateTask { key, .. } => ("create_task".to_string(), key),
        StepKind::Custom { name, key, .. } => (name.name.clone(), key),
        StepKind::Slack { key, .. } => ("slack".to_string(), key),
        StepKind::Email { key, .. } => ("email".to_string(), key),
        _ => return None,
    };
    Some((action, key.as_ref()?))
}
