//! `null-unsafe-path`: reading through a record reference, or sending to a recipient,
//! that may be empty.

use super::guards::{self, known};
use super::{Check, Finding, Level, Lint, RuleContext};
use crate::diagnostics::{Edit, Fix, Safety};
use crate::schema::Type;
use crate::source::Span;
use crate::syntax::ast::{
    BinaryOp, Branch, EmailContent, Expr, ExprKind, Ident, SlackTarget, Step, StepKind, StringLit,
    StringPart, TriggerClause, TriggerKind, Values,
};

pub(super) const LINT: Lint = Lint {
    name: "null-unsafe-path",
    default: Level::Warning,
    summary: "a path through a record reference, or a recipient, that may be empty, with no `is set` test first",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# null-unsafe-path

## What it does
Flags two uses of a value that may be empty, when nothing first makes sure it is set:

- a path through a record reference of the rule's record — `company.name`, where
  `company` is a `record(companies)` attribute — used in a step (an argument, a `{{ }}`
  hole, an `if`/`route` condition) or in a comparison of the rule's condition;
- a recipient read from the record — `slack dm owner`, `email owner`,
  `create task … for owner`, `ask owner …`, with any attribute (`manager`, `csm`), a
  path (`company.owner`) or `old.owner` — which fails the step when it is empty;
- the record a step acts on (`set company.owner = …`, `note on person …`,
  `add company to list …`, `create task … linked to champion`) when it is a
  reference of the record or what a `find` bound (empty when nothing matched): the
  step fails when it is empty;
- a step's `key` read from the record (`key company`): an empty key fails the step.

A value counts as set:

- after an `and` part of the condition (or of the `for … where` filter, or of the
  `matches` filter) that tests it: `company is set`, `company is not empty`,
  `company != empty`, `not (company is empty)`, or a comparison that is false on an
  empty value (`owner = "ana@acme.com"`, `company.employee_count > 1000`). A test of a
  longer path, `company.name is set`, covers `company` too. Inside the condition, only
  the parts after that test are covered; an `or` covers only what both of its sides
  prove, and only after it;
- after a trigger that sets it: `owner changed to "ana@acme.com"`,
  `owner changed from empty`;
- inside an `if` or `route` branch whose condition proves it, and in the branches after
  one whose condition failed where it is empty (`route company is empty => …`);
- after a step `set owner = …` (with or without `if empty`) whose value is not itself
  possibly empty;
- after an `if`/`route` when it is set at the end of every branch that does not end
  the run: a branch that always ends the run (`stop`, `skip`) guards what follows it.
  So `if company is not set then stop end`, `if company is empty then skip "…" end`,
  `if not (company is set) then stop end` and
  `if company is set then … else stop end` all cover the steps after them.

`clear company` (or `set company = …` again) undoes what was known about it.

Tests of the path itself (`company.name is set`, `company.name = empty`), the first
argument of `coalesce(…)`, paths inside `find … where` (they read the searched records)
and reads through `old.` are not reported (a recipient `old.owner` is). Each reference
and each recipient is reported once per rule, at its first unguarded use.

Recipients that are never empty are not reported: an address (`email "x@y.com"`), a
function's result (`slack dm round_robin(sdr)`: a team with members always gives
one), a binding. A list of recipients is reported only when every item may be empty
(`email [owner, manager]`): with one address that is always there
(`email [owner, "finance@acme.com"]`) the email still goes out. A list whose items are
all empty is not itself empty, so the step does not fail, but it reaches no one.
`on error continue` does not silence a recipient: the step still fails and nothing is
sent.

## Why is this bad?
A workflow assumes every person has a company. Live, it hits a person without one:
the message goes out with a blank where the company should be, or the comparison is
quietly false and the step never runs. Reps wonder why the Slack ping never came, and
nobody notices for two weeks. Test bad-case records — missing fields — and add a
graceful skip for them.

A message to an empty owner is worse: the step fails with "`owner` is empty: there is
no one to send this to", the run fails (or logs the error and goes on), and the person
who should have acted is never told.

## Example
```rules
rule new_contact_ping
  owner "sales@acme.com"
  description "Announces new contacts and their company"
  on people
  when created
    and event.source != import
  do
    slack "#new-contacts" "{{name}} joined from {{company.name}}"
```

```rules
rule won_follow_up
  owner "sales@acme.com"
  description "Asks the owner to send a thank-you for every won deal"
  on deals
  when stage changed to ClosedWon
  do
    create task "Thank {{name}}" for owner key event.id
```

## Use instead
```rules
rule new_contact_ping
  owner "sales@acme.com"
  description "Announces new contacts and their company"
  on people
  when created
    and event.source != import
    and company is set
  do
    slack "#new-contacts" "{{name}} joined from {{company.name}}"
```

```rules
rule won_follow_up
  owner "sales@acme.com"
  description "Asks the owner to send a thank-you for every won deal"
  on deals
  when stage changed to ClosedWon
  do
    if owner is not set then
      skip "no owner to thank the customer"
    end
    create task "Thank {{name}}" for owner key event.id
```

Or keep the rule for everyone and handle the gap: `{{coalesce(company.name, "no company")}}`,
`if company is set then … end` around the steps that need it, or give the record an
owner first (`set owner = round_robin(sdr) if empty`).

## Fix
Test the value before using it. The editor offers to add `and company is set` (or
`and owner is set`) to the condition (at its start when the condition itself reads
through the reference, else at its end), or after a `when` trigger that has no
condition. It changes which records run the rule, so `rulec check --fix` applies it
only with `--unsafe-fixes`. A list of recipients gets no fix: which one to test is
the author's choice.

## When to allow
When the value can never be empty in your workspace, for example an attribute an
integration always fills before records exist. Say why:
`allow null-unsafe-path "the billing sync always links a company"`.
"##;

/// Where an unguarded use was found; decides where a guard can go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The `matches` filter: no guard can be put before it.
    Filter,
    /// The rule's condition (or `for … where` filter).
    Condition,
    /// A step.
    Step,
}

/// A path through a reference, read where the reference may be empty.
struct Use {
    reference: String,
    path: String,
    span: Span,
    place: Place,
}

/// A recipient that may be empty: a step would fail on it.
struct Recipient {
    /// The path's key (`owner`, `company.owner`), or a list as written.
    key: String,
    /// As written.
    shown: String,
    span: Span,
    /// What would fail: `message`, `email`, `task`, `question`.
    what: &'static str,
    /// A list every item of which may be empty.
    list: bool,
    /// A `find` binding (the record a step acts on): testable only in the steps.
    found: bool,
}

fn check(cx: &RuleContext<'_>, out: &mut Vec<Finding>) {
    let Some(object) = cx.ir.object.as_deref().and_then(|o| cx.schema.object(o)) else {
        return;
    };
    let references: Vec<&str> = object
        .attributes
        .iter()
        .filter(|a| matches!(a.ty, Type::Record(_)))
        .map(|a| a.name.as_str())
        .collect();
    let found = crate::syntax::ast::all_steps(&cx.ast.steps)
        .into_iter()
        .filter_map(|s| match &s.kind {
            StepKind::Find {
                all: false,
                binding,
                ..
            } => Some(binding.name.clone()),
            _ => None,
        })
        .collect();
    let mut walker = Walker {
        references,
        attributes: object.attributes.iter().map(|a| a.name.as_str()).collect(),
        found,
        uses: Vec::new(),
        recipients: Vec::new(),
    };
    let (filter, condition) = match &cx.ast.trigger {
        TriggerClause::When(when) => {
            let filter = match &when.trigger.kind {
                TriggerKind::Matches(filter) => Some(filter),
                _ => None,
            };
            (filter, when.condition.as_ref())
        }
        TriggerClause::Every(every) => (
            None,
            every.for_clause.as_ref().and_then(|f| f.filter.as_ref()),
        ),
    };
    // The trigger holds whenever the rule runs, then the filter, then the condition:
    // what they prove covers what comes after them.
    let mut guarded: Vec<String> = match &cx.ast.trigger {
        TriggerClause::When(when) => trigger_guards(&when.trigger.kind),
        TriggerClause::Every(_) => Vec::new(),
    };
    for (expr, place) in [(filter, Place::Filter), (condition, Place::Condition)] {
        let Some(expr) = expr else { continue };
        walker.expr(expr, &guarded, place);
        guards::extend(&mut guarded, known(expr, true).set);
    }
    walker.steps(&cx.ast.steps, &guarded);
    // A guard in the condition that a step undid (`clear company`) is no fix.
    let fix = |key: &str, places: &[Place]| {
        if guarded.iter().any(|g| g == key) {
            None
        } else {
            guard_fix(cx, key, places)
        }
    };

    let rule = &cx.ir.id;
    let mut reported: Vec<&str> = Vec::new();
    for first in &walker.uses {
        let reference = first.reference.as_str();
        if reported.contains(&reference) {
            continue;
        }
        reported.push(reference);
        let path = &first.path;
        let mut finding = Finding::new(
            first.span,
            format!(
                "rule `{rule}` reads `{path}` without testing that `{reference}` is set; add `and {reference} is set`"
            ),
        )
        .help(format!(
            "on a record without `{reference}`, `{path}` is empty: messages show a blank and comparisons are false; test it first (`and {reference} is set`, or `if {reference} is set then … end`), or give a default with `coalesce({path}, …)`"
        ));
        for other in walker
            .uses
            .iter()
            .filter(|u| u.reference == reference && u.span != first.span)
        {
            finding = finding.related(other.span, format!("`{}` is read here too", other.path));
        }
        let places: Vec<Place> = walker
            .uses
            .iter()
            .filter(|u| u.reference == reference)
            .map(|u| u.place)
            .collect();
        if let Some(fix) = fix(reference, &places) {
            finding = finding.fix(fix);
        }
        out.push(finding);
    }

    let mut reported: Vec<&str> = Vec::new();
    for first in &walker.recipients {
        let key = first.key.as_str();
        if reported.contains(&key) {
            continue;
        }
        reported.push(key);
        let (shown, what) = (&first.shown, first.what);
        let mut finding = if first.list {
            Finding::new(
                first.span,
                format!(
                    "in rule `{rule}`, every recipient in `{shown}` may be empty here, and the {what} would reach no one"
                ),
            )
            .help(
                "test one of them first (`and … is set` in the condition, or `if … is set then … end`), or add a recipient that is always there, such as a fixed address",
            )
        } else {
            Finding::new(
                first.span,
                format!("in rule `{rule}`, `{shown}` may be empty here, and the {what} would fail"),
            )
            .help(if first.what == "keyed step" {
                format!("an empty key fails the step, since nothing would tell its effect from another with an empty key; test it first (`and {key} is set` in the condition, or `if {key} is set then … end`), or key on something always set")
            } else if first.found {
                format!("`find` binds nothing when no record matches, and the step fails (\"`{key}` is empty\"); test it first: `if {key} is set then … end`")
            } else {
                format!(
                    "a step whose recipient is empty fails (\"`{key}` is empty\"); test it first: `and {key} is set` in the condition, or `if {key} is set then … end`"
                )
            })
        };
        for other in walker
            .recipients
            .iter()
            .filter(|r| r.key == key && r.span != first.span)
        {
            let label = match other.what {
                "keyed step" => format!("`{}` keys this step too", other.shown),
                "message" | "email" | "task" | "question" => {
                    format!("`{}` is sent to here too", other.shown)
                }
                _ => format!("a step acts on `{}` here too", other.shown),
            };
            finding = finding.related(other.span, label);
        }
        if !first.list && !first.found {
            if let Some(fix) = fix(key, &[Place::Step]) {
                finding = finding.fix(fix);
            }
        }
        out.push(finding);
    }
}

/// What a `when` trigger guarantees is set: `owner changed to "ana@acme.com"` (any
/// `to` values but `empty`) and `owner changed from empty` leave `owner` set; `from`
/// values but `empty` leave `old.owner` set.
fn trigger_guards(trigger: &TriggerKind) -> Vec<String> {
    // An entry's attribute is read as `entry.<attr>`, not as the record's.
    let TriggerKind::Changed {
        attr,
        from,
        to,
        list: None,
    } = trigger
    else {
        return Vec::new();
    };
    let present = |values: &Option<Values>| {
        values.as_ref().is_some_and(|v| {
            v.items
                .iter()
                .all(|i| !matches!(unparen(i).kind, ExprKind::Empty))
        })
    };
    let only_empty = from.as_ref().is_some_and(|v| {
        !v.items.is_empty()
            && v.items
                .iter()
                .all(|i| matches!(unparen(i).kind, ExprKind::Empty))
    });
    let mut out = Vec::new();
    if present(to) || only_empty {
        out.push(attr.name.clone());
    }
    if present(from) {
        out.push(format!("old.{}", attr.name));
    }
    out
}

/// `<reference> is set` added where it covers every use: at the start of the condition
/// when the condition itself reads through the reference, else at its end, else after
/// a `when` trigger. An `or` at the top of the condition is parenthesised first, so the
/// guard covers all of it. A use in a `matches` filter cannot be covered (the filter
/// comes first), and a schedule without `where` is left to the author.
fn guard_fix(cx: &RuleContext<'_>, reference: &str, places: &[Place]) -> Option<Fix> {
    if places.contains(&Place::Filter) {
        return None;
    }
    let condition = match &cx.ast.trigger {
        TriggerClause::When(when) => when.condition.as_ref(),
        TriggerClause::Every(every) => every.for_clause.as_ref().and_then(|f| f.filter.as_ref()),
    };
    let insert = |at: usize, text: String| Edit {
        span: Span::new(at, at),
        replacement: text,
    };
    let test = format!("{reference} is set");
    let edits = match condition {
        Some(condition) => {
            let (lo, hi) = (condition.span.lo(), condition.span.hi());
            let or = matches!(
                condition.kind,
                ExprKind::Binary {
                    op: BinaryOp::Or,
                    ..
                }
            );
            match (places.contains(&Place::Condition), or) {
                (true, true) => vec![insert(lo, format!("{test} and (")), insert(hi, ")".into())],
                (true, false) => vec![insert(lo, format!("{test} and "))],
                (false, true) => vec![insert(lo, "(".into()), insert(hi, format!(") and {test}"))],
                (false, false) => vec![insert(hi, format!(" and {test}"))],
            }
        }
        None => {
            let TriggerClause::When(when) = &cx.ast.trigger else {
                return None;
            };
            // After `matches`, an `and` would join the filter; `where` starts the condition.
            let word = match when.trigger.kind {
                TriggerKind::Matches(_) => "where",
                _ => "and",
            };
            let at = when.trigger.span.hi();
            vec![insert(at, format!(" {word} {test}"))]
        }
    };
    Some(Fix {
        title: "add a guard".into(),
        safety: Safety::ChangesBehaviour,
        edits,
    })
}

struct Walker<'a> {
    /// The record-reference attributes of the rule's object.
    references: Vec<&'a str>,
    /// Every attribute of the rule's object.
    attributes: Vec<&'a str>,
    /// The names `find` binds: empty when nothing was found.
    found: Vec<String>,
    uses: Vec<Use>,
    recipients: Vec<Recipient>,
}

impl Walker<'_> {
    /// The reference a path reads through: `company` in `company.name` and
    /// `record.company.name`; not `company` alone.
    fn through(&self, segments: &[Ident]) -> Option<String> {
        let segments = strip_record(segments);
        let [first, _, ..] = segments else {
            return None;
        };
        self.references
            .contains(&first.name.as_str())
            .then(|| first.name.clone())
    }

    /// The key of a path into the rule's record (`owner`, `record.owner`,
    /// `company.owner`, `old.owner`), which may be empty; `None` for bindings, `event.`
    /// and the like.
    fn record_path(&self, e: &Expr) -> Option<String> {
        let ExprKind::Path(segments) = &unparen(e).kind else {
            return None;
        };
        let attribute = match strip_record(segments) {
            [old, attr, ..] if old.name == "old" => attr,
            [attr, ..] => attr,
            [] => return None,
        };
        self.attributes
            .contains(&attribute.name.as_str())
            .then(|| guards::path_key(segments))
    }

    /// Whether a value may be empty where the guards in `guarded` hold: an unguarded
    /// path into the record, `empty`, a list of such values, `coalesce` of two. Literals,
    /// bindings and other functions' results (`round_robin(team)`) count as present.
    fn may_be_empty(&self, e: &Expr, guarded: &[String]) -> bool {
        match &e.kind {
            ExprKind::Paren(inner) => self.may_be_empty(inner, guarded),
            ExprKind::Path(_) => self
                .record_path(e)
                .is_some_and(|key| !guarded.contains(&key)),
            ExprKind::Empty => true,
            ExprKind::List(items) => items.iter().all(|i| self.may_be_empty(i, guarded)),
            ExprKind::Call { name, args } if name.name == "coalesce" => {
                args.iter().all(|a| self.may_be_empty(a, guarded))
            }
            ExprKind::String(s) => s.parts.iter().all(|p| match p {
                StringPart::Text { value, .. } => value.is_empty(),
                StringPart::Hole(e) => self.may_be_empty(e, guarded),
            }),
            _ => false,
        }
    }

    /// Records the unguarded paths of an expression. In an `and` chain each part's
    /// tests cover the parts after it; the sides of an `or` cover nothing.
    fn expr(&mut self, e: &Expr, guarded: &[String], place: Place) {
        match &e.kind {
            ExprKind::Path(segments) => {
                if let Some(reference) = self.through(segments) {
                    if !guarded.contains(&reference) {
                        self.uses.push(Use {
                            reference,
                            path: crate::format::expr(e),
                            span: e.span,
                            place,
                        });
                    }
                }
            }
            ExprKind::Binary {
                op: BinaryOp::And, ..
            } => {
                let mut local = guarded.to_vec();
                for conjunct in conjuncts(e) {
                    self.expr(conjunct, &local, place);
                    guards::extend(&mut local, known(conjunct, true).set);
                }
            }
            // A test for emptiness is how the author handles an empty value.
            ExprKind::Test { .. } => {}
            ExprKind::Binary {
                op: BinaryOp::Eq | BinaryOp::Ne,
                lhs,
                rhs,
                ..
            } if matches!(lhs.kind, ExprKind::Empty) || matches!(rhs.kind, ExprKind::Empty) => {}
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs, guarded, place);
                self.expr(rhs, guarded, place);
            }
            ExprKind::Call { name, args } => {
                for (index, arg) in args.iter().enumerate() {
                    // `coalesce(company.name, "…")` already gives the empty case a value.
                    if index == 0 && name.name == "coalesce" {
                        continue;
                    }
                    self.expr(arg, guarded, place);
                }
            }
            ExprKind::Unary { operand, .. } => self.expr(operand, guarded, place),
            ExprKind::Paren(inner) => self.expr(inner, guarded, place),
            ExprKind::List(items) => {
                for item in items {
                    self.expr(item, guarded, place);
                }
            }
            ExprKind::Map(entries) => {
                for entry in entries {
                    self.expr(&entry.value, guarded, place);
                }
            }
            ExprKind::String(s) => self.string(s, guarded, place),
            _ => {}
        }
    }

    fn string(&mut self, s: &StringLit, guarded: &[String], place: Place) {
        for part in &s.parts {
            if let StringPart::Hole(e) = part {
                self.expr(e, guarded, place);
            }
        }
    }

    fn opt(&mut self, e: Option<&Expr>, guarded: &[String]) {
        if let Some(e) = e {
            self.expr(e, guarded, Place::Step);
        }
    }

    /// Who a step sends to (`slack dm`, `email`, `create task … for`, `ask`): a path
    /// into the record is a recipient that may be empty; a list is one when every
    /// item may be empty. Anything else is read like any argument.
    fn recipient(&mut self, e: &Expr, guarded: &[String], what: &'static str) {
        if let Some(key) = self.record_path(e) {
            if !guarded.contains(&key) {
                self.recipients.push(Recipient {
                    key,
                    shown: crate::format::expr(e),
                    span: e.span,
                    what,
                    list: false,
                    found: false,
                });
            }
            return;
        }
        self.expr(e, guarded, Place::Step);
        if let ExprKind::List(items) = &unparen(e).kind {
            if !items.is_empty() && self.may_be_empty(e, guarded) {
                let shown = crate::format::expr(e);
                self.recipients.push(Recipient {
                    key: shown.clone(),
                    shown,
                    span: e.span,
                    what,
                    list: true,
                    found: false,
                });
            }
        }
    }

    /// A step's `key`: an empty one fails the step, like an empty recipient.
    fn key(&mut self, key: Option<&Expr>, guarded: &[String]) {
        if let Some(key) = key {
            self.recipient(key, guarded, "keyed step");
        }
    }

    /// The record a step acts on (`company` in `set company.csm = …`): like a
    /// recipient, an empty one fails the step.
    fn target(&mut self, target: Option<&Expr>, guarded: &[String], what: &'static str) {
        let Some(target) = target else { return };
        if let ExprKind::Path(names) = &unparen(target).kind {
            if let [name] = names.as_slice() {
                if self.found.contains(&name.name) {
                    if !guarded.contains(&name.name) {
                        self.recipients.push(Recipient {
                            key: name.name.clone(),
                            shown: name.name.clone(),
                            span: target.span,
                            what,
                            list: false,
                            found: true,
                        });
                    }
                    return;
                }
            }
        }
        self.recipient(target, guarded, what);
    }

    /// Walks a block; returns the paths known set at its end, or `None` when every
    /// way through it ends the run (`stop`, `skip`), so nothing after it runs from here.
    fn steps(&mut self, steps: &[Step], guarded: &[String]) -> Option<Vec<String>> {
        let mut guarded = guarded.to_vec();
        for step in steps {
            match &step.kind {
                StepKind::Set {
                    target,
                    attr,
                    value,
                    if_empty,
                } => {
                    self.target(target.as_ref(), &guarded, "write");
                    self.expr(value, &guarded, Place::Step);
                    let present = !self.may_be_empty(value, &guarded);
                    let name = written(target.as_ref(), attr);
                    let name = name.as_str();
                    if !*if_empty {
                        // A new value: what was known about the old one (and the record
                        // it referenced) is gone.
                        let inner = format!("{name}.");
                        guarded.retain(|g| g != name && !g.starts_with(&inner));
                    }
                    // With `if empty` the attribute keeps its value or gets this one.
                    if present {
                        guards::extend(&mut guarded, [name.to_string()]);
                    }
                }
                StepKind::Clear { target, attr } => {
                    self.target(target.as_ref(), &guarded, "write");
                    let name = written(target.as_ref(), attr);
                    let inner = format!("{name}.");
                    guarded.retain(|g| *g != name && !g.starts_with(&inner));
                }
                StepKind::AddToList { target, .. } | StepKind::RemoveFromList { target, .. } => {
                    self.target(target.as_ref(), &guarded, "list change");
                }
                StepKind::Slack {
                    target, text, key, ..
                } => {
                    self.key(key.as_ref(), &guarded);
                    if let SlackTarget::Dm(member) = target {
                        self.recipient(member, &guarded, "message");
                    }
                    if let Some(text) = text {
                        self.string(text, &guarded, Place::Step);
                    }
                }
                StepKind::Email { to, content, key } => {
                    self.key(key.as_ref(), &guarded);
                    self.recipient(to, &guarded, "email");
                    if let EmailContent::Inline { subject, body } = content {
                        self.string(subject, &guarded, Place::Step);
                        self.string(body, &guarded, Place::Step);
                    }
                }
                StepKind::CreateTask {
                    title,
                    assignee,
                    due,
                    body,
                    linked,
                    key,
                    ..
                } => {
                    self.string(title, &guarded, Place::Step);
                    if let Some(assignee) = assignee {
                        self.recipient(assignee, &guarded, "task");
                    }
                    self.target(linked.as_ref(), &guarded, "task");
                    self.opt(due.as_ref(), &guarded);
                    if let Some(body) = body {
                        self.string(body, &guarded, Place::Step);
                    }
                    self.key(key.as_ref(), &guarded);
                }
                StepKind::Create { fields, key, .. } => {
                    for field in fields {
                        self.expr(&field.value, &guarded, Place::Step);
                    }
                    self.key(key.as_ref(), &guarded);
                }
                StepKind::Upsert { fields, .. } => {
                    for field in fields {
                        self.expr(&field.value, &guarded, Place::Step);
                    }
                }
                StepKind::Note {
                    target,
                    title,
                    body,
                } => {
                    self.target(target.as_ref(), &guarded, "note");
                    self.string(title, &guarded, Place::Step);
                    if let Some(body) = body {
                        self.string(body, &guarded, Place::Step);
                    }
                }
                StepKind::Http {
                    url,
                    headers,
                    body,
                    key,
                    ..
                } => {
                    self.string(url, &guarded, Place::Step);
                    for header in headers {
                        self.expr(&header.value, &guarded, Place::Step);
                    }
                    self.opt(body.as_ref(), &guarded);
                    self.key(key.as_ref(), &guarded);
                }
                StepKind::WaitFor(e) | StepKind::WaitUntil(e) => {
                    self.expr(e, &guarded, Place::Step);
                }
                StepKind::Ask {
                    member,
                    question,
                    timeout,
                    ..
                } => {
                    self.recipient(member, &guarded, "question");
                    self.string(question, &guarded, Place::Step);
                    self.opt(timeout.as_ref(), &guarded);
                }
                StepKind::Custom { args, key, .. } => {
                    for arg in args {
                        self.expr(&arg.value, &guarded, Place::Step);
                    }
                    self.key(key.as_ref(), &guarded);
                }
                StepKind::If {
                    branches,
                    otherwise,
                }
                | StepKind::Route {
                    arms: branches,
                    otherwise,
                } => {
                    // `if company is not set then stop end`: past it, `company` is set.
                    guarded = self.branches(branches, otherwise.as_deref(), &guarded)?;
                }
                // The steps after these do not run (`unreachable-step` says so).
                StepKind::Stop | StepKind::Skip(_) => return None,
                // `find … where` reads the searched records.
                StepKind::Find { .. } => {}
                // The body may run no time at all: what it proves does not outlive it.
                StepKind::ForEach { list, steps, .. } => {
                    self.expr(list, &guarded, Place::Step);
                    let _ = self.steps(steps, &guarded);
                }
            }
        }
        Some(guarded)
    }

    /// Branches run first match first: a branch's own condition covers its steps, the
    /// failed conditions of the branches before it cover it too (after `route company
    /// is empty => …`, `company` is set), and what follows the `if`/`route` is covered
    /// by what holds at the end of every branch that does not end the run — with the
    /// way past every branch when there is no `else`.
    fn branches(
        &mut self,
        branches: &[Branch],
        otherwise: Option<&[Step]>,
        guarded: &[String],
    ) -> Option<Vec<String>> {
        let mut after = guarded.to_vec();
        let mut exits = Vec::new();
        for branch in branches {
            self.expr(&branch.condition, &after, Place::Step);
            let mut inside = after.clone();
            guards::extend(&mut inside, known(&branch.condition, true).set);
            exits.extend(self.steps(&branch.steps, &inside));
            guards::extend(&mut after, known(&branch.condition, false).set);
        }
        match otherwise {
            Some(steps) => exits.extend(self.steps(steps, &after)),
            None => exits.push(after),
        }
        guards::meet(exits)
    }
}

/// The parts of an `and` chain, in order, looking through parentheses.
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    let mut out = Vec::new();
    collect_conjuncts(e, &mut out);
    out
}

fn collect_conjuncts<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match &e.kind {
        ExprKind::Binary {
            op: BinaryOp::And,
            lhs,
            rhs,
            ..
        } => {
            collect_conjuncts(lhs, out);
            collect_conjuncts(rhs, out);
        }
        ExprKind::Paren(inner)
            if matches!(
                inner.kind,
                ExprKind::Binary {
                    op: BinaryOp::And,
                    ..
                }
            ) =>
        {
            collect_conjuncts(inner, out)
        }
        _ => out.push(e),
    }
}

/// `record.company.name` reads the same as `company.name`.
fn strip_record(segments: &[Ident]) -> &[Ident] {
    match segments {
        [first, rest @ ..] if first.name == "record" && !rest.is_empty() => rest,
        _ => segments,
    }
}

fn unparen(e: &Expr) -> &Expr {
    match &e.kind {
        ExprKind::Paren(inner) => unparen(inner),
        _ => e,
    }
}

/// The place a `set` or `clear` writes, as guards name it: `csm`, `company.csm`.
fn written(target: Option<&Expr>, attr: &Ident) -> String {
    match target {
        Some(t) => format!("{}.{}", crate::format::expr(t), attr.name),
        None => attr.name.clone(),
    }
}
