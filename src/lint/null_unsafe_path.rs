//! `null-unsafe-path`: reading through a record reference that may be empty.

use super::{Check, Finding, Level, Lint, RuleContext};
use crate::diagnostics::{Edit, Fix, Safety};
use crate::schema::Type;
use crate::source::Span;
use crate::syntax::ast::{
    BinaryOp, Branch, EmailContent, Expr, ExprKind, Ident, SlackTarget, Step, StepKind, StringLit,
    StringPart, TriggerClause, TriggerKind,
};

pub(super) const LINT: Lint = Lint {
    name: "null-unsafe-path",
    default: Level::Warning,
    summary: "a path through a record reference that may be empty, with no `is set` test first",
    docs: DOCS,
    check: Check::Rule(check),
};

const DOCS: &str = r##"# null-unsafe-path

## What it does
Flags a path through a record reference of the rule's record — `company.name`, where
`company` is a `record(companies)` attribute — used in a step (an argument, a `{{ }}`
hole, an `if`/`route` condition) or in a comparison of the rule's condition, when
nothing first makes sure the reference is set.

The reference counts as set:

- after an `and` part of the condition (or of the `for … where` filter, or of the
  `matches` filter) that tests it: `company is set`, `company is not empty`,
  `company != empty` (a test of a longer path, `company.name is set`, counts too).
  Inside the condition, only the parts after that test are covered; an `or` covers
  nothing;
- inside an `if` or `route` branch whose condition has such an `and` part, and after a
  branch that took every record where it is empty (`route company is empty => …`);
- after a step `set company = …` (without `if empty`), or after
  `if company is not set then stop end` (or `skip`), in the same or an enclosing block.

Tests of the path itself (`company.name is set`, `company.name = empty`), the first
argument of `coalesce(…)`, paths inside `find … where` (they read the searched records)
and paths through `old.` are not reported. Each reference is reported once per rule, at
its first unguarded use.

## Why is this bad?
A workflow assumes every person has a company. Live, it hits a person without one:
the message goes out with a blank where the company should be, or the comparison is
quietly false and the step never runs. Reps wonder why the Slack ping never came, and
nobody notices for two weeks. Test bad-case records — missing fields — and add a
graceful skip for them.

## Example
```rules
rule new_contact_ping
  owner "sales@acme.com"
  description "Tells the owner about new contacts and their company"
  on people
  when created
    and event.source != import
  do
    slack dm owner "{{name}} joined from {{company.name}}"
```

## Use instead
```rules
rule new_contact_ping
  owner "sales@acme.com"
  description "Tells the owner about new contacts and their company"
  on people
  when created
    and event.source != import
    and company is set
  do
    slack dm owner "{{name}} joined from {{company.name}}"
```

Or keep the rule for everyone and handle the gap: `{{coalesce(company.name, "no company")}}`,
or `if company is set then … end` around the steps that need it.

## Fix
Test the reference before using it. The editor offers to add `and company is set` to
the condition (at its start when the condition itself reads through the reference,
else at its end), or after a `when` trigger that has no condition. It changes which
records run the rule, so `rulec check --fix` applies it only with `--unsafe-fixes`.

## When to allow
When the reference can never be empty in your workspace, for example an attribute an
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
    if references.is_empty() {
        return;
    }
    let mut walker = Walker {
        references,
        uses: Vec::new(),
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
    // The filter holds whenever the rule runs, then the condition: their tests cover
    // what comes after them.
    let mut guarded: Vec<String> = Vec::new();
    for (expr, place) in [(filter, Place::Filter), (condition, Place::Condition)] {
        let Some(expr) = expr else { continue };
        walker.expr(expr, &guarded, place);
        for conjunct in conjuncts(expr) {
            if let Some(reference) = walker.set_test(conjunct) {
                guarded.push(reference);
            }
        }
    }
    walker.steps(&cx.ast.steps, &guarded);

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
        if let Some(fix) = guard_fix(cx, reference, &places) {
            finding = finding.fix(fix);
        }
        out.push(finding);
    }
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
    uses: Vec<Use>,
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

    /// The reference a path starts with, if any: `company`, `company.name`.
    fn starts_with_reference(&self, e: &Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Paren(inner) => self.starts_with_reference(inner),
            ExprKind::Path(segments) => {
                let first = strip_record(segments).first()?;
                self.references
                    .contains(&first.name.as_str())
                    .then(|| first.name.clone())
            }
            _ => None,
        }
    }

    /// The reference a condition proves set: `company is set`, `company is not empty`,
    /// `company != empty`, `company.name is set`.
    fn set_test(&self, e: &Expr) -> Option<String> {
        match &e.kind {
            ExprKind::Paren(inner) => self.set_test(inner),
            ExprKind::Test { op, operand } if op.wants_value() => {
                self.starts_with_reference(operand)
            }
            ExprKind::Binary {
                op: BinaryOp::Ne,
                lhs,
                rhs,
                ..
            } => match (&lhs.kind, &rhs.kind) {
                (_, ExprKind::Empty) => self.starts_with_reference(lhs),
                (ExprKind::Empty, _) => self.starts_with_reference(rhs),
                _ => None,
            },
            _ => None,
        }
    }

    /// The reference a whole condition proves empty: `company is empty`,
    /// `company is not set`, `company = empty`.
    fn empty_test(&self, e: &Expr) -> Option<String> {
        let reference = |e: &Expr| match &e.kind {
            ExprKind::Path(segments) => match strip_record(segments) {
                [only] if self.references.contains(&only.name.as_str()) => Some(only.name.clone()),
                _ => None,
            },
            _ => None,
        };
        match &e.kind {
            ExprKind::Paren(inner) => self.empty_test(inner),
            ExprKind::Test { op, operand } if !op.wants_value() => reference(unparen(operand)),
            ExprKind::Binary {
                op: BinaryOp::Eq,
                lhs,
                rhs,
                ..
            } => match (&lhs.kind, &rhs.kind) {
                (_, ExprKind::Empty) => reference(unparen(lhs)),
                (ExprKind::Empty, _) => reference(unparen(rhs)),
                _ => None,
            },
            _ => None,
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
                    if let Some(reference) = self.set_test(conjunct) {
                        local.push(reference);
                    }
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

    fn steps(&mut self, steps: &[Step], guarded: &[String]) {
        let mut guarded = guarded.to_vec();
        for step in steps {
            match &step.kind {
                StepKind::Set {
                    attr,
                    value,
                    if_empty,
                } => {
                    self.expr(value, &guarded, Place::Step);
                    if !*if_empty && self.references.contains(&attr.name.as_str()) {
                        guarded.push(attr.name.clone());
                    }
                }
                StepKind::Clear(attr) => guarded.retain(|g| *g != attr.name),
                StepKind::Slack { target, text } => {
                    if let SlackTarget::Dm(member) = target {
                        self.expr(member, &guarded, Place::Step);
                    }
                    if let Some(text) = text {
                        self.string(text, &guarded, Place::Step);
                    }
                }
                StepKind::Email { to, content } => {
                    self.expr(to, &guarded, Place::Step);
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
                    key,
                    ..
                } => {
                    self.string(title, &guarded, Place::Step);
                    self.opt(assignee.as_ref(), &guarded);
                    self.opt(due.as_ref(), &guarded);
                    if let Some(body) = body {
                        self.string(body, &guarded, Place::Step);
                    }
                    self.opt(key.as_ref(), &guarded);
                }
                StepKind::Create { fields, key, .. } => {
                    for field in fields {
                        self.expr(&field.value, &guarded, Place::Step);
                    }
                    self.opt(key.as_ref(), &guarded);
                }
                StepKind::Upsert { fields, .. } => {
                    for field in fields {
                        self.expr(&field.value, &guarded, Place::Step);
                    }
                }
                StepKind::Note { title, body } => {
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
                    self.opt(key.as_ref(), &guarded);
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
                    self.expr(member, &guarded, Place::Step);
                    self.string(question, &guarded, Place::Step);
                    self.opt(timeout.as_ref(), &guarded);
                }
                StepKind::Custom { args, key, .. } => {
                    for arg in args {
                        self.expr(&arg.value, &guarded, Place::Step);
                    }
                    self.opt(key.as_ref(), &guarded);
                }
                StepKind::If {
                    branches,
                    otherwise,
                }
                | StepKind::Route {
                    arms: branches,
                    otherwise,
                } => {
                    self.branches(branches, otherwise.as_deref(), &guarded);
                    // `if company is not set then stop end`: past it, `company` is set.
                    if let Some(first) = branches.first() {
                        let ends_run = first
                            .steps
                            .last()
                            .is_some_and(|s| matches!(s.kind, StepKind::Stop | StepKind::Skip(_)));
                        if ends_run {
                            if let Some(reference) = self.empty_test(&first.condition) {
                                guarded.push(reference);
                            }
                        }
                    }
                }
                // `find … where` reads the searched records; skip reasons are fixed text.
                StepKind::Find { .. }
                | StepKind::AddToList(_)
                | StepKind::RemoveFromList(_)
                | StepKind::Stop
                | StepKind::Skip(_) => {}
            }
        }
    }

    /// Branches run first match first: a branch's own tests cover its steps, and a
    /// branch that took every record where a reference is empty leaves it set for the
    /// branches after it and the `else`.
    fn branches(&mut self, branches: &[Branch], otherwise: Option<&[Step]>, guarded: &[String]) {
        let mut after = guarded.to_vec();
        for branch in branches {
            self.expr(&branch.condition, &after, Place::Step);
            let mut inside = after.clone();
            for conjunct in conjuncts(&branch.condition) {
                if let Some(reference) = self.set_test(conjunct) {
                    inside.push(reference);
                }
            }
            self.steps(&branch.steps, &inside);
            if let Some(reference) = self.empty_test(&branch.condition) {
                after.push(reference);
            }
        }
        if let Some(steps) = otherwise {
            self.steps(steps, &after);
        }
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
