//! `deprecated-status`: an archived rule that a meta-rule still watches.

use std::collections::BTreeMap;

use super::{Check, Finding, Level, Lint, WorkspaceContext};
use crate::ir;
use crate::syntax::ast::{HeaderKind, TriggerClause};

pub(super) const LINT: Lint = Lint {
    name: "deprecated-status",
    default: Level::Info,
    summary: "an archived rule is still watched by a `rule … failed` meta-rule",
    docs: DOCS,
    check: Check::Workspace(check),
};

const DOCS: &str = r##"# deprecated-status

## What it does
Flags a rule with `status archived` that another rule still watches with
`when rule <id> failed`. The finding is on the archived rule's `status` line and names
every meta-rule that still watches it. Meta-rules that are archived themselves do not
count.

## Why is this bad?
An archived rule never runs, so it never fails: the meta-rule watching it can never
fire, and it monitors nothing. Meta-rules are how a team notices that a workflow has
started failing — after a Slack token rotation every workflow that sends to Slack can
fail silently for months, and if even 5% of MQLs are dropped that is tens of thousands
in lost pipeline. When a rule is archived because another replaced it, the
replacement usually needs the monitoring, and a watcher left pointing at the archived
rule looks like coverage that is not there. The quarterly audit ("is it still
needed?") should retire or retarget the watcher together with the rule.

## Example
```rules
rule erp_sync
  owner "revops@acme.com"
  description "Pushed won deals to the old ERP; replaced by erp_sync_v2"
  status archived
  on deals
  when stage changed to ClosedWon
  do
    http POST "https://erp.example.com/deals" body { id: event.id } key event.id

rule erp_sync_watch
  owner "revops@acme.com"
  description "Alerts #ops when the ERP sync keeps failing"
  when rule erp_sync failed 3 times in a row
  do
    slack "#ops" "{{failure.rule}} failed: {{failure.error}}"
```

## Use instead
Watch the rule that replaced it:

```rules
rule erp_sync
  owner "revops@acme.com"
  description "Pushed won deals to the old ERP; replaced by erp_sync_v2"
  status archived
  on deals
  when stage changed to ClosedWon
  do
    http POST "https://erp.example.com/deals" body { id: event.id } key event.id

rule erp_sync_v2
  owner "revops@acme.com"
  description "Pushes won deals to the new ERP"
  on deals
  when stage changed to ClosedWon
  do
    http POST "https://erp.example.com/v2/deals" body { id: event.id } key event.id

rule erp_sync_watch
  owner "revops@acme.com"
  description "Alerts #ops when the ERP sync keeps failing"
  when rule erp_sync_v2 failed 3 times in a row
  do
    slack "#ops" "{{failure.rule}} failed: {{failure.error}}"
```

## Fix
Point each watcher at the rule that replaced the archived one, or archive (or delete)
the watcher too. There is no automatic fix: only you know which rule took over.

## When to allow
When the rule is archived only for a short while and will come back with its
monitoring unchanged: `allow deprecated-status "re-enabled after the ERP migration"`.
"##;

fn check(cx: &WorkspaceContext<'_>, out: &mut Vec<Finding>) {
    // Watched id → the live meta-rules watching it, in file order.
    let mut watchers: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (index, rule) in cx.rules.iter().enumerate() {
        if rule.ir.status == ir::Status::Archived {
            continue;
        }
        if let ir::Trigger::RuleFailed { rule: watched, .. } = &rule.ir.trigger {
            watchers.entry(watched.as_str()).or_default().push(index);
        }
    }
    for (index, rule) in cx.rules.iter().enumerate() {
        if rule.ir.status != ir::Status::Archived {
            continue;
        }
        let Some(status_span) = rule.ast.headers.iter().find_map(|h| match &h.kind {
            HeaderKind::Status(_) => Some(h.span),
            _ => None,
        }) else {
            continue;
        };
        let Some(watching) = watchers.get(rule.ir.id.as_str()) else {
            continue;
        };
        let watching: Vec<_> = watching
            .iter()
            .filter(|&&w| w != index)
            .filter_map(|&w| cx.rules.get(w))
            .collect();
        if watching.is_empty() {
            continue;
        }
        let id = &rule.ir.id;
        let names = join(watching.iter().map(|w| format!("`{}`", w.ir.id)).collect());
        let (verb, them) = if watching.len() == 1 {
            ("watches", names.clone())
        } else {
            ("watch", "them".to_string())
        };
        let mut finding = Finding::new(
            status_span,
            format!("rule `{id}` is archived but {names} still {verb} it; retarget or archive {them}"),
        )
        .help(format!(
            "an archived rule never runs, so `rule {id} failed` can never fire; point the meta-rule at the rule that replaced `{id}`, or archive it too"
        ))
        .on_rule(index);
        for watcher in &watching {
            if watcher.file.name() != rule.file.name() {
                continue;
            }
            if let TriggerClause::When(when) = &watcher.ast.trigger {
                finding = finding.related(when.trigger.span, "still watched here");
            }
        }
        out.push(finding);
    }
}

/// `a`, `a and b`, `a, b and c`.
fn join(mut items: Vec<String>) -> String {
    let Some(last) = items.pop() else {
        return String::new();
    };
    if items.is_empty() {
        last
    } else {
        format!("{} and {last}", items.join(", "))
    }
}
