//! `non-idempotent-create`: a step that creates something twice when the rule runs twice.

use super::{Check, Finding, Level, Lint, RuleContext};
use crate::diagnostics::{Edit, Fix, Safety};
use crate::ir;
use crate::source::Span;
use crate::syntax::ast::{Ident, Step, StepKind};

pub(super) const LINT: Lint = Lint {
    name: "non-idempotent-create",
    default: Level::Warning,
    summary:
        "a create, API call or task without `key` duplicates its effect when the rule runs again",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# non-idempotent-create

## What it does
Flags steps that create something and have no idempotency `key`, at any depth:

- `create <object> { … }` without `key`;
- `http POST`, `PUT` or `PATCH` without `key`;
- a declared custom action that is not `idempotent`, called without `key`;
- `create task` without `key` in a rule that can run more than once for the same
  record: any trigger except `created`, `deleted`, `merged` and `webhook`.

Records, API calls and custom actions are flagged whatever the trigger: a retried run,
or a retried webhook delivery, repeats them too.

## Why is this bad?
A run that fails halfway is retried, and a record whose trigger fires again runs the
rule again. Without a key, every repeat creates another task: the rep gets duplicate
tasks, and at 50 events a day that is 25 ghost tasks a week. Reps lose about
30 minutes a day triaging them — at $80-120/hour loaded, $800-1,500 a month per rep of
dead time. A repeated `POST` creates a second order or invoice in the other system.

## Example
```rules
rule negotiation_follow_up
  owner "revops@acme.com"
  description "Asks the owner to follow up when a deal reaches negotiation"
  on deals
  when stage changed to Negotiation
    and owner is set
  do
    create task "Follow up on {{name}}" for owner due in 2 days
```

## Use instead
```rules
rule negotiation_follow_up
  owner "revops@acme.com"
  description "Asks the owner to follow up when a deal reaches negotiation"
  on deals
  when stage changed to Negotiation
    and owner is set
  do
    create task "Follow up on {{name}}" for owner due in 2 days key event.id
```

## Fix
Add `key <expr>`: an id that is the same on every retry of the same piece of work —
`event.id` for one event, or an external id such as `payload.email` for a webhook, or
`"{{name}}-renewal"` to create at most one task per record. The editor offers to add
`key event.id` (before `as <name>` and before `on error continue`/`retry`); a single
run behaves the same with it, so `rulec check --fix` applies it.

## When to allow
When every run really should create something new, for example a log record per
event in a system that removes duplicates itself. Say why:
`allow non-idempotent-create "the warehouse deduplicates on its own id"`.
"##;

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    // These triggers fire once per record; a webhook fires once per delivery, and a
    // re-delivery is the engine's to deduplicate. Other triggers fire again for the
    // same record, so an unkeyed task is created again.
    let refires = !matches!(
        cx.ir.trigger,
        ir::Trigger::Created
            | ir::Trigger::Deleted
            | ir::Trigger::Merged
            | ir::Trigger::Webhook { .. }
            | ir::Trigger::Command { .. }
    );
    let steps = crate::syntax::ast::all_steps(&cx.ast.steps);
    let rule = &cx.ir.id;
    for step in steps {
        let (message, binding) = match &step.kind {
            StepKind::Create {
                object,
                key: None,
                binding,
                ..
            } => (
                format!(
                    "rule `{rule}` creates a record in `{}` without `key`, so a repeated run creates another; add `key event.id`",
                    object.name
                ),
                binding.as_ref(),
            ),
            StepKind::Http {
                method,
                key: None,
                binding,
                ..
            } if matches!(method.name.as_str(), "POST" | "PUT" | "PATCH") => (
                format!(
                    "rule `{rule}` calls `http {}` without `key`, so a repeated run sends it again; add `key event.id`",
                    method.name
                ),
                binding.as_ref(),
            ),
            StepKind::Custom {
                name,
                key: None,
                binding,
                ..
            } if cx
                .schema
                .action(&name.name)
                .is_some_and(|action| !action.idempotent) =>
            {
                (
                    format!(
                        "rule `{rule}` calls `{}`, which is not idempotent, without `key`; add `key event.id`",
                        name.name
                    ),
                    binding.as_ref(),
                )
            }
            StepKind::CreateTask {
                key: None, binding, ..
            } if refires => (
                format!(
                    "rule `{rule}` creates a task without `key` and can run again for the same record; add `key event.id`"
                ),
                binding.as_ref(),
            ),
            _ => continue,
        };
        let mut finding = Finding::new(step.span, message).help(
            "`key` makes a repeated run reuse the first result; use an id that is the same on every retry (`event.id`, or an external id such as `payload.email`)",
        );
        if let Some(edit) = key_edit(cx.file.text(), step, binding) {
            finding = finding.fix(Fix {
                title: "add an idempotency key".into(),
                safety: Safety::Safe,
                edits: vec![edit],
            });
        }
        out.push(finding);
    }
}

/// Where `key event.id` goes. The grammar wants `key` after the step's own clauses but
/// before `as <name>`, and step modifiers (`on error continue`, `retry n`) come after
/// both. So:
///
/// - with a binding, insert `key event.id ` at the `as` keyword (found by walking back
///   from the bound name over whitespace);
/// - else, with modifiers, insert `key event.id ` at the first modifier (`on` of
///   `on error continue`, or `retry`, found by walking back from its count);
/// - else append ` key event.id` at the end of the step.
///
/// Inserting at the start of a keyword rather than after the previous token keeps the
/// edit out of any comment written between the two. When the keyword is not where
/// expected (a comment between `as` and its name, say), there is no fix.
fn key_edit(text: &str, step: &Step, binding: Option<&Ident>) -> Option<Edit> {
    const KEY: &str = "key event.id";
    let insert = |at: usize, replacement: String| Edit {
        span: Span::new(at, at),
        replacement,
    };
    if let Some(binding) = binding {
        let at = keyword_before(text, binding.span.lo(), "as")?;
        return Some(insert(at, format!("{KEY} ")));
    }
    let mut first_modifier = step.continue_on_error.map(|span| span.lo());
    if let Some(retry) = &step.retry {
        let at = keyword_before(text, retry.span.lo(), "retry")?;
        first_modifier = Some(first_modifier.map_or(at, |other| other.min(at)));
    }
    Some(match first_modifier {
        Some(at) => insert(at, format!("{KEY} ")),
        None => insert(step.span.hi(), format!(" {KEY}")),
    })
}

/// The offset of `keyword` when it is the last word before `pos`, with only whitespace
/// between.
fn keyword_before(text: &str, pos: usize, keyword: &str) -> Option<usize> {
    let before = text.get(..pos)?;
    let trimmed = before.trim_end_matches(|c: char| c.is_ascii_whitespace());
    let rest = trimmed.strip_suffix(keyword)?;
    let whole_word = rest
        .chars()
        .next_back()
        .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
    whole_word.then_some(rest.len())
}
