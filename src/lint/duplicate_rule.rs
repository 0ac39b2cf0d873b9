//! `duplicate-rule`: two active rules that do exactly the same thing.

use rustc_hash::FxHashMap as HashMap;

use super::{Check, Finding, Level, Lint, WorkspaceContext};
use crate::ir;

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
    // The checker hashes what each rule does (`ir::Rule::behaviour`), so equal
    // behaviour is one map lookup per rule.
    let mut first: HashMap<u64, Vec<usize>> = HashMap::default();
    for (index, rule) in cx.rules.iter().enumerate() {
        if rule.ir.status != ir::Status::Active {
            continue;
        }
        // Equal hashes are confirmed structurally, so a collision never reports.
        let bucket = first.entry(rule.ir.behaviour).or_default();
        let earlier = bucket.iter().copied().find(|&e| {
            cx.rules
                .get(e)
                .is_some_and(|earlier| same_behaviour(earlier.ir, rule.ir))
        });
        match earlier {
            Some(earlier) => report(cx, earlier, index, out),
            None => bucket.push(index),
        }
    }
}

fn same_behaviour(a: &ir::Rule, b: &ir::Rule) -> bool {
    a.object == b.object
        && a.trigger == b.trigger
        && a.condition == b.condition
        && same_steps(&a.steps, &b.steps)
}

/// Steps equal up to where they are written.
fn same_steps(a: &[ir::Step], b: &[ir::Step]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.path == y.path
                && x.continue_on_error == y.continue_on_error
                && x.retry == y.retry
                && same_action(&x.action, &y.action)
        })
}

fn same_action(a: &ir::Action, b: &ir::Action) -> bool {
    use ir::Action::{If, Route};
    match (a, b) {
        (
            If {
                branches: ba,
                otherwise: oa,
            },
            If {
                branches: bb,
                otherwise: ob,
            },
        )
        | (
            Route {
                arms: ba,
                otherwise: oa,
            },
            Route {
                arms: bb,
                otherwise: ob,
            },
        ) => {
            ba.len() == bb.len()
                && ba
                    .iter()
                    .zip(bb)
                    .all(|(x, y)| x.condition == y.condition && same_steps(&x.steps, &y.steps))
                && same_steps(oa, ob)
        }
        _ => a == b,
    }
}

fn report(cx: &WorkspaceContext<'_>, earlier_index: usize, index: usize, out: &mut Vec<Finding>) {
    let (Some(earlier), Some(rule)) = (cx.rules.get(earlier_index), cx.rules.get(index)) else {
        return;
    };
    let same_file = earlier.file.name() == rule.file.name();
    let whereabouts = if same_file {
        String::new()
    } else {
        format!(" (in `{}`)", earlier.ir.file)
    };
    let mut finding = Finding::new(
        rule.ast.anchor(),
        format!(
            "rule `{}` does exactly what rule `{}`{whereabouts} does; remove one of them",
            rule.ir.id, earlier.ir.id
        ),
    )
    .help("both run on every matching event, so every message, task and write happens twice; delete one or give it `status paused`")
    .on_rule(index);
    if same_file {
        finding = finding.related(
            earlier.ast.anchor(),
            format!("rule `{}` does the same", earlier.ir.id),
        );
    }
    out.push(finding);
}
