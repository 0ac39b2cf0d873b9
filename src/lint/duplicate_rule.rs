//! `duplicate-rule`: two active rules that do exactly the same thing.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;

use super::{Check, Finding, Level, Lint, RuleContext, WorkspaceContext};
use crate::ir;
use crate::source::Span;
use crate::syntax::ast::{HeaderKind, TriggerClause};

pub(super) const LINT: Lint = Lint {
    name: "duplicate-rule",
    default: Level::Warning,
    summary: "two active rules with the same trigger, condition and steps",
    docs: DOCS,
    check: Check::Workspace(check),
};

const DOCS: &str = r##"# duplicate-rule

## What it does
Flags an active rule that does exactly what an earlier active rule does: the same
object, the same trigger, the same condition and the same steps, in any files checked
together. The later rule is reported and names the earlier one.

Rules are compared after checking, so layout, comments, header lines, `==` for `=`
and quoted or bare option names make no difference. Paused, draft and archived rules
are not compared.

## Why is this bad?
Every event runs both rules: each Slack message is posted twice, each task created
twice, each email sent twice. Duplicates creep in when a workflow is copied to be
changed and the change never happens, or when two people automate the same process.
Six months later there are 22 workflows, and nobody can say which of two identical ones
is the real one.

## Example
```rules
rule big_win_ping
  owner "revops@acme.com"
  description "Tells #wins about big wins"
  on deals
  when stage changed to ClosedWon
    and value > 10000
  do
    slack "#wins" "{{name}} closed for {{value}}"

rule wins_channel
  owner "sales@acme.com"
  description "Posts big wins to #wins"
  on deals
  when stage changed to ClosedWon
    and value > 10000
  do
    slack "#wins" "{{name}} closed for {{value}}"
```

## Use instead
Keep one of them:

```rules
rule big_win_ping
  owner "revops@acme.com"
  description "Tells #wins about big wins"
  on deals
  when stage changed to ClosedWon
    and value > 10000
  do
    slack "#wins" "{{name}} closed for {{value}}"
```

## Fix
Delete one rule, or give it `status paused` while you decide. There is no automatic
fix: which one to keep (its id, owner and run history) is your call.

## When to allow
When the duplication is deliberate and temporary, for example a rule being moved
between files under a new id. Say why, on the later rule:
`allow duplicate-rule "replaces big_win_ping, which is removed next release"`.
"##;

fn check(cx: &WorkspaceContext<'_>, out: &mut Vec<Finding>) {
    // One pass with a map from what a rule does to the first rule doing it.
    let mut first: HashMap<String, usize> = HashMap::new();
    for (index, rule) in cx.rules.iter().enumerate() {
        if rule.ir.status != ir::Status::Active {
            continue;
        }
        let Some(key) = behaviour(rule.ir) else {
            continue;
        };
        let earlier_index = match first.entry(key) {
            Entry::Vacant(slot) => {
                slot.insert(index);
                continue;
            }
            Entry::Occupied(slot) => *slot.get(),
        };
        let Some(earlier) = cx.rules.get(earlier_index) else {
            continue;
        };
        let same_file = Arc::ptr_eq(earlier.file, rule.file);
        let whereabouts = if same_file {
            String::new()
        } else {
            format!(" (in `{}`)", earlier.ir.file)
        };
        let mut finding = Finding::new(
            rule_span(rule),
            format!(
                "rule `{}` does exactly what rule `{}`{whereabouts} does; remove one of them",
                rule.ir.id, earlier.ir.id
            ),
        )
        .help("both run on every matching event, so every message, task and write happens twice; delete one or give it `status paused`")
        .on_rule(index);
        if same_file {
            finding = finding.related(
                rule_span(earlier),
                format!("rule `{}` does the same", earlier.ir.id),
            );
        }
        out.push(finding);
    }
}

/// Where to point at a rule: its `rule` header, else its trigger.
fn rule_span(rule: &RuleContext<'_>) -> Span {
    let header = rule
        .ast
        .headers
        .iter()
        .find(|h| matches!(h.kind, HeaderKind::Rule { .. }));
    match (header, &rule.ast.trigger) {
        (Some(header), _) => header.span,
        (None, TriggerClause::When(when)) => when.trigger.span,
        (None, TriggerClause::Every(every)) => every.schedule.span,
    }
}

/// What a rule does, as text: its object, trigger, condition and steps. Step
/// locations are blanked, since two copies of a rule never share their lines.
fn behaviour(rule: &ir::Rule) -> Option<String> {
    let steps = without_locations(&rule.steps);
    serde_json::to_string(&(&rule.object, &rule.trigger, &rule.condition, &steps)).ok()
}

fn without_locations(steps: &[ir::Step]) -> Vec<ir::Step> {
    steps
        .iter()
        .map(|step| {
            let mut step = step.clone();
            step.location = ir::Location { line: 0, column: 0 };
            match &mut step.action {
                ir::Action::If {
                    branches,
                    otherwise,
                }
                | ir::Action::Route {
                    arms: branches,
                    otherwise,
                } => {
                    for branch in branches.iter_mut() {
                        let steps = without_locations(&branch.steps);
                        branch.steps = steps;
                    }
                    let steps = without_locations(otherwise);
                    *otherwise = steps;
                }
                _ => {}
            }
            step
        })
        .collect()
}
