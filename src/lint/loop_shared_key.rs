//! `loop-shared-key`: a `key` inside `for each` that does not mention the item, so
//! every item shares one effect.

use super::{Check, Finding, Level, Lint, RuleContext};
use crate::syntax::ast::{Expr, ExprKind, Ident, Step, StepKind, StringPart};

pub(super) const LINT: Lint = Lint {
    name: "loop-shared-key",
    default: Level::Warning,
    summary: "a `key` inside `for each` that does not mention the item: only the first item acts",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# loop-shared-key

## What it does
Flags a step inside `for each <item> in … do … end` whose `key` does not mention the
item (nor anything bound inside the loop). Without a `key`, each item's effect is keyed
by the item itself; a `key` replaces that, so a key that is the same for every item
makes the items one effect.

## Why is this bad?
The first item's task is created; every other item's step is found already done and
skipped. Nothing fails, and the run history shows `already_done` for all but one deal,
so the close-out that was meant to reach fifty owners reaches one.

## Example
```rules
rule close_out
  owner "revops@acme.com"
  description "Tells every owner of a lost company's deals"
  on companies
  when industry changed to Other
  do
    find all deals where company = record limit 50 as open_deals
    for each deal in open_deals do
      create task "Close {{deal.name}}" linked to deal key record.id
    end
```

## Use instead
```rules
rule close_out
  owner "revops@acme.com"
  description "Tells every owner of a lost company's deals"
  on companies
  when industry changed to Other
  do
    find all deals where company = record limit 50 as open_deals
    for each deal in open_deals do
      create task "Close {{deal.name}}" linked to deal key deal
    end
```

## Fix
Put the item in the key (`key deal`, `key "close-{{deal.id}}"`), or drop the `key`:
inside a loop, steps are keyed by their item already.

## When to allow
When one effect for the whole loop is the point — a single message however many
records matched. Say why: `allow loop-shared-key "one alert per run is enough"`.
"##;

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    walk(&cx.ast.steps, &mut Vec::new(), &cx.ir.id, out);
}

/// `names`: what the loops around these steps bind (the items, and names bound in
/// their bodies), innermost last; empty outside any loop.
fn walk(steps: &[Step], names: &mut Vec<String>, rule: &str, out: &mut Vec<Finding>) {
    let mark = names.len();
    for step in steps {
        if let StepKind::ForEach {
            binding,
            steps: body,
            ..
        } = &step.kind
        {
            names.push(binding.name.clone());
            walk(body, names, rule, out);
            names.truncate(mark);
            continue;
        }
        if !names.is_empty() {
            if let Some(key) = key(&step.kind) {
                if !mentions(key, names) {
                    out.push(
                        Finding::new(
                            key.span,
                            format!(
                                "in rule `{rule}`, this `key` is the same for every item of the loop, so only the first item acts"
                            ),
                        )
                        .help(format!(
                            "put the item in it (`key {}`) or drop the `key`: inside `for each`, steps are keyed by their item already",
                            names[0]
                        )),
                    );
                }
            }
            if let Some(bound) = step.kind.binding() {
                names.push(bound.name.clone());
            }
        }
        for block in step.blocks() {
            walk(block, names, rule, out);
        }
    }
    names.truncate(mark);
}

fn key(kind: &StepKind) -> Option<&Expr> {
    match kind {
        StepKind::Create { key, .. }
        | StepKind::CreateTask { key, .. }
        | StepKind::Http { key, .. }
        | StepKind::Custom { key, .. }
        | StepKind::Slack { key, .. }
        | StepKind::Email { key, .. } => key.as_ref(),
        _ => None,
    }
}

/// Whether `e` reads any of `names` (as the first segment of a path, or in a hole).
fn mentions(e: &Expr, names: &[String]) -> bool {
    let named = |segments: &[Ident]| segments.first().is_some_and(|s| names.contains(&s.name));
    match &e.kind {
        ExprKind::Path(segments) => named(segments),
        ExprKind::String(s) => s.parts.iter().any(|p| match p {
            StringPart::Hole(h) => mentions(h, names),
            StringPart::Text { .. } => false,
        }),
        ExprKind::Paren(inner) => mentions(inner, names),
        ExprKind::Unary { operand, .. } | ExprKind::Test { operand, .. } => {
            mentions(operand, names)
        }
        ExprKind::Binary { lhs, rhs, .. } => mentions(lhs, names) || mentions(rhs, names),
        ExprKind::Call { args, .. } | ExprKind::List(args) => {
            args.iter().any(|a| mentions(a, names))
        }
        ExprKind::Map(entries) => entries.iter().any(|m| mentions(&m.value, names)),
        _ => false,
    }
}
