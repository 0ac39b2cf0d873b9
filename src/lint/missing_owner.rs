//! `missing-owner`: a rule nobody answers for.

use super::{Check, Finding, Level, Lint, RuleContext};

pub(super) const LINT: Lint = Lint {
    name: "missing-owner",
    default: Level::Warning,
    summary: "a rule without an `owner` header has nobody to answer for it",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# missing-owner

## What it does
Flags a rule with no `owner "<email>"` header.

A rule written with no header line at all — a one-liner such as
`when … do …` — gets a hint instead of a warning: one-liners are how rules start, but
one that stays should get a `rule` id and an owner. Any header (`rule`, `on`,
`description`, …) makes the rule a full rule, and then a missing owner is a warning.

## Why is this bad?
Six months in there are 22 workflows: three are stale, two are misfiring, and nobody
can explain the rest. When a rule floods a channel or starts failing silently,
someone has to be asked, and an unowned rule has nobody; anyone changing the data
model breaks it without knowing whom to tell. Treat rules like production code: each
one has an owner, a purpose and a maintenance burden.

## Example
```rules
rule big_wins
  description "Posts to #wins when a deal over $10K closes"
  when stage changed from Open to ClosedWon and value > 10000
  do slack "#wins" "{{name}} closed for {{value}}"
```

## Use instead
```rules
rule big_wins
  owner "revops@acme.com"
  description "Posts to #wins when a deal over $10K closes"
  when stage changed from Open to ClosedWon and value > 10000
  do slack "#wins" "{{name}} closed for {{value}}"
```

## Fix
Add a header line `owner "<email>"` naming the person (or team mailbox) who answers
for the rule. There is no automatic fix: only you know who that is.

## When to allow
Rarely: a scratch file of experiments that is never deployed. Say so:
`allow missing-owner "scratch rules, never deployed"`.
"##;

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    if cx.ir.owner.is_some() {
        return;
    }
    let rule = &cx.ir.id;
    let span = cx.ast.anchor();
    if cx.ast.headers.is_empty() {
        // A one-liner is a sketch more often than a shipped rule: nudge, don't nag.
        out.push(
            Finding::new(
                span,
                format!("rule `{rule}` has no owner; give it a `rule` header and `owner \"<email>\"`"),
            )
            .help("before this rule lives long, write it as `rule <id>` with `owner \"<email>\"` on the next line")
            .as_hint(),
        );
    } else {
        out.push(
            Finding::new(span, format!("rule `{rule}` has no owner; add `owner \"<email>\"`"))
                .help("add a header line `owner \"<email>\"` naming who answers for this rule when it misfires"),
        );
    }
}
