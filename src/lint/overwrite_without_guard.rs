//! `overwrite-without-guard`: a re-firing rule that overwrites an owner.

use super::guards::{self, known};
use super::{Check, Finding, Level, Lint, RuleContext};
use crate::diagnostics::{Edit, Fix, Safety};
use crate::ir;
use crate::schema::{Object, Type};
use crate::source::Span;
use crate::syntax::ast::{Branch, Expr, Ident, Step, StepKind, TriggerClause, TriggerKind};

pub(super) const LINT: Lint = Lint {
    name: "overwrite-without-guard",
    default: Level::Info,
    summary: "a rule that runs again overwrites an owner (or another member) people also edit",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# overwrite-without-guard

## What it does
Flags `set <attr> = …` without `if empty` (at any depth) when the attribute is one
people edit by hand — a `member` (owners, managers, CSMs) — and the rule can run again
on a record that already exists: any trigger but `created`.

A `status` (a pipeline stage) is not flagged: it always has a value, so
`set stage = Negotiation` moves the record along its pipeline rather than overwriting
something a rep typed in, and `set stage = … if empty` would never do anything.

It stays quiet when the write is plainly intended:

- the rule's own trigger watches that attribute (`when owner changed …` that sets
  `owner` is routing, not an accident);
- the rule's condition, or an enclosing `if`/`route` branch, proves the attribute is
  empty (`owner is empty`, `owner is not set`, `owner = empty`,
  `not (owner is set)`), or an earlier branch took every record where it is set;
- an earlier step ended the run when it is set: `if owner is set then stop end` (or
  `skip`), `route owner is set => skip "owned" … end`, or
  `if owner is empty then … else stop end`.

## Why is this bad?
A rep reassigns a deal by hand; the next time the rule fires it silently puts its own
owner back. The rep's edit is lost, nobody knows why, and the
record flips back and forth. "Set value" always overwrites; "set only if empty" gives a
default without undoing a person's decision.

## Example
```rules
team sdr = ["ana@acme.com", "bo@acme.com"]

rule qualified_owner
  owner "revops@acme.com"
  description "Gives qualified deals an SDR"
  on deals
  when stage changed to Qualified
  do
    set owner = round_robin(sdr)
```

## Use instead
```rules
team sdr = ["ana@acme.com", "bo@acme.com"]

rule qualified_owner
  owner "revops@acme.com"
  description "Gives qualified deals without an owner an SDR"
  on deals
  when stage changed to Qualified
  do
    set owner = round_robin(sdr) if empty
```

## Fix
Add `if empty`, so the step only fills the attribute when nobody has set it. The
editor offers this edit; it changes what the rule does to records that already have a
value, so `rulec check --fix` applies it only with `--unsafe-fixes`.

## When to allow
When the rule must win over manual edits, for example an escalation that always
reassigns to a manager. Say why:
`allow overwrite-without-guard "escalations always go to the duty manager"`.
"##;

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    // A record that was just created carries no edit of a person's yet.
    if matches!(cx.ir.trigger, ir::Trigger::Created) {
        return;
    }
    let Some(object) = cx.ir.object.as_deref().and_then(|o| cx.schema.object(o)) else {
        return;
    };
    let watched = match &cx.ir.trigger {
        ir::Trigger::Changed { attr, .. } => Some(attr.attr.as_str()),
        _ => None,
    };
    let mut empty: Vec<String> = Vec::new();
    let mut holds = |e: &Expr| guards::extend(&mut empty, known(e, true).empty);
    match &cx.ast.trigger {
        TriggerClause::When(when) => {
            if let TriggerKind::Matches(filter) = &when.trigger.kind {
                holds(filter);
            }
            if let Some(condition) = &when.condition {
                holds(condition);
            }
        }
        TriggerClause::Every(every) => {
            if let Some(filter) = every.for_clause.as_ref().and_then(|f| f.filter.as_ref()) {
                holds(filter);
            }
        }
    }
    let walker = Walker {
        rule: &cx.ir.id,
        object,
        watched,
    };
    walker.steps(&cx.ast.steps, &empty, out);
}

struct Walker<'a> {
    rule: &'a str,
    object: &'a Object,
    watched: Option<&'a str>,
}

impl Walker<'_> {
    /// `empty` holds the attributes known to be empty where these steps run; returns
    /// those known empty at the end, or `None` when every way through ends the run.
    fn steps(
        &self,
        steps: &[Step],
        empty: &[String],
        out: &mut Vec<Finding>,
    ) -> Option<Vec<String>> {
        let mut empty = empty.to_vec();
        for step in steps {
            match &step.kind {
                // Another record's attribute (`set company.csm = …`) is not known to
                // have been edited by hand when this rule's trigger fires again.
                StepKind::Set {
                    target: None,
                    attr,
                    value,
                    if_empty: false,
                } => self.set(step, attr, value, &empty, out),
                StepKind::If {
                    branches,
                    otherwise,
                }
                | StepKind::Route {
                    arms: branches,
                    otherwise,
                } => {
                    // `if owner is set then stop end`: past it, `owner` is empty.
                    empty = self.branches(branches, otherwise.as_deref(), &empty, out)?;
                }
                StepKind::Stop | StepKind::Skip(_) => return None,
                _ => {}
            }
        }
        Some(empty)
    }

    /// Branches run first match first: a branch's condition covers its steps, the
    /// failed conditions before it cover it too (after `owner is set => …`, `owner` is
    /// empty), and what holds at the end of every branch that does not end the run
    /// (and past them all, without an `else`) holds after the `if`/`route`.
    fn branches(
        &self,
        branches: &[Branch],
        otherwise: Option<&[Step]>,
        empty: &[String],
        out: &mut Vec<Finding>,
    ) -> Option<Vec<String>> {
        let mut after = empty.to_vec();
        let mut exits = Vec::new();
        for branch in branches {
            let mut inside = after.clone();
            guards::extend(&mut inside, known(&branch.condition, true).empty);
            exits.extend(self.steps(&branch.steps, &inside, out));
            guards::extend(&mut after, known(&branch.condition, false).empty);
        }
        match otherwise {
            Some(steps) => exits.extend(self.steps(steps, &after, out)),
            None => exits.push(after),
        }
        guards::meet(exits)
    }

    fn set(
        &self,
        step: &Step,
        attr: &Ident,
        value: &Expr,
        empty: &[String],
        out: &mut Vec<Finding>,
    ) {
        let name = attr.name.as_str();
        if self.watched == Some(name) || empty.iter().any(|e| e == name) {
            return;
        }
        let Some(attribute) = self.object.attribute(name) else {
            return;
        };
        // A status always has a value: `set stage = …` moves the record along its
        // pipeline, it does not overwrite data a person typed in.
        if attribute.ty != Type::Member {
            return;
        }
        let rule = self.rule;
        out.push(
            Finding::new(
                step.span,
                format!(
                    "rule `{rule}` overwrites `{name}` each time it runs, undoing anyone who changed it; add `if empty`"
                ),
            )
            .help(format!(
                "people reassign `{name}` by hand; `set {name} = … if empty` only fills it when nobody has"
            ))
            .fix(Fix {
                title: "only fill when empty".into(),
                safety: Safety::ChangesBehaviour,
                edits: vec![Edit {
                    span: Span::new(value.span.hi(), value.span.hi()),
                    replacement: " if empty".into(),
                }],
            }),
        );
    }
}
