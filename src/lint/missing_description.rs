//! `missing-description`: a rule that does not say why it exists.

use super::{Check, Finding, Level, Lint, RuleContext};
use crate::syntax::ast::HeaderKind;

pub(super) const LINT: Lint = Lint {
    name: "missing-description",
    default: Level::Info,
    summary: "a rule without a `description` header does not say why it exists",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# missing-description

## What it does
Flags a rule with header lines but no `description "<text>"` header, or with an
empty one.

A one-liner with no header at all is left alone: `missing-owner` already nudges it
to become a full rule.

## Why is this bad?
Six months in there are 22 workflows: three are stale, two are misfiring, and nobody
can explain the rest. Anyone editing the data model breaks something without knowing
which rule it was or whether it still matters. Every workflow deserves a short
paragraph: why it exists, what triggers it, the volume to expect. Future-you will not
remember in six months, and the quarterly review ("is it still needed?") cannot
answer that question for a rule that does not say what it is for.

## Example
```rules
rule big_wins
  owner "revops@acme.com"
  when stage changed from Open to ClosedWon and value > 10000
  do slack "#wins" "{{name}} closed for {{value}}"
```

## Use instead
```rules
rule big_wins
  owner "revops@acme.com"
  description "Posts to #wins when a deal over $10K closes; a few a week"
  when stage changed from Open to ClosedWon and value > 10000
  do slack "#wins" "{{name}} closed for {{value}}"
```

## Fix
Add a header line `description "<why this rule exists>"`. There is no automatic fix:
the description is the one thing the rule's text cannot tell.

## When to allow
When the rule's id and title already say everything, for example a trivial rule in a
file whose comment documents it:
`allow missing-description "documented in the file header"`.
"##;

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    if cx.ast.headers.is_empty() {
        return;
    }
    let rule = &cx.ir.id;
    let written = cx.ast.headers.iter().find_map(|h| match &h.kind {
        HeaderKind::Description(text) => Some((h.span, text.lossy())),
        _ => None,
    });
    match written {
        None => out.push(
            Finding::new(
                cx.ast.anchor(),
                format!("rule `{rule}` has no description; add `description \"<why it exists>\"`"),
            )
            .help("say in one or two sentences why the rule exists, what triggers it and how often it should run"),
        ),
        Some((span, text)) if text.trim().is_empty() => out.push(
            Finding::new(
                span,
                format!("rule `{rule}` has an empty description; say why it exists"),
            )
            .help("say in one or two sentences why the rule exists, what triggers it and how often it should run"),
        ),
        Some(_) => {}
    }
}
