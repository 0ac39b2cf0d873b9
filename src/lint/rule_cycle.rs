//! `rule-cycle`: rules whose writes trigger each other in a loop.

use rustc_hash::FxHashMap as HashMap;

use super::condition_space::{decide, trigger_facts, Verdict};
use super::{Check, Finding, Level, Lint, WorkspaceContext};
use crate::ir::follow::Follow;
use crate::ir::{self, Action, ExprKind, Root, Trigger, Value};
use crate::schema::{Schema, Type};
use crate::syntax::ast::{BinaryOp, TestOp};

pub(super) const LINT: Lint = Lint {
    name: "rule-cycle",
    default: Level::Error,
    summary: "rules whose writes trigger each other in a loop",
    docs: DOCS,
    check: Check::Workspace(check),
};

const DOCS: &str = r##"# rule-cycle

## What it does
Builds the graph "rule writes an attribute → rule watches that attribute" across every
file checked together — `set`/`clear`, records created or upserted (whose attributes
count as changes from empty), notes, tasks and list entries on one side; `changed`,
`updated`, `matches`, `created`, list and activity triggers on the other — and reports
each loop once, naming every rule in it.

A write cannot start a rule whose `changed … to` values exclude the constant written,
or whose condition excludes rule-made events (`event.source != rule`); such edges are
left out. Nor can a constant write (or a `clear`) start a rule whose condition (or
`matches` filter) is provably false on a record holding that value: `set score = 20`
does not start `when score changed and score > 20`, and `set owner = "ana@acme.com"`
does not start `when updated and owner is not set`. The same analysis as
`unsatisfiable-condition` decides it, with the written value as a fact; a computed
value (`set score = score + 10`), or a condition it cannot decide, keeps the edge.

## Why is this bad?
Rules that trigger each other write the same records over and over: the engine stops
the cascade at its depth bound and fails the run, but until then every turn of the loop
sends its notifications and API calls again — and two rules fighting over an owner or
a stage leave the record flapping for reps to see.

## Example
```rules
object deals { priority: select [Low, High] }

rule escalate
  owner "revops@acme.com"
  description "High priority moves a deal to negotiation"
  on deals
  when priority changed and value > 0
  do set stage = Negotiation

rule prioritise
  owner "revops@acme.com"
  description "Negotiation makes a deal high priority"
  on deals
  when stage changed and value > 0
  do set priority = High
```

## Use instead
```rules
object deals { priority: select [Low, High] }

rule escalate
  owner "revops@acme.com"
  description "High priority moves a deal to negotiation"
  on deals
  when priority changed to High and event.source != rule
  do set stage = Negotiation

rule prioritise
  owner "revops@acme.com"
  description "Negotiation makes a deal high priority"
  on deals
  when stage changed to Negotiation and event.source != rule
  do set priority = High
```

## Fix
Narrow a trigger with `to` values the other rule never writes, or exclude rule-made
changes with `and event.source != rule`. There is no mechanical fix: which rule should
yield is a business decision.

## When to allow
When the loop provably ends (e.g. each turn moves a status forward and the last stage
matches no trigger) and the analysis cannot see it; say why in the reason.
"##;

/// What a write or a watch is about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    /// An attribute of an object.
    Attr(String, String),
    /// Any attribute of an object (`updated`).
    Any(String),
    /// A record of an object was created.
    Created(String),
    /// An activity (`note`, `task`) on a record of an object.
    Activity(String, &'static str),
    /// A record was added to a list.
    ListAdded(String),
    /// A record was removed from a list.
    ListRemoved(String),
}

fn check(cx: &WorkspaceContext<'_>, out: &mut Vec<Finding>) {
    let mut watchers: HashMap<Key, Vec<usize>> = HashMap::default();
    for (i, rule) in cx.rules.iter().enumerate() {
        if rule.ir.status != ir::Status::Active || ignores_rule_writes(rule.ir) {
            continue;
        }
        for key in watches(rule.ir) {
            watchers.entry(key).or_default().push(i);
        }
    }
    // The graph is bipartite: rule → what it writes → rules that watch it. Going
    // through write nodes keeps it linear where many rules write and watch one
    // attribute (a direct rule → rule graph would be quadratic).
    let n = cx.rules.len();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut write_nodes: HashMap<(Key, Option<String>), usize> = HashMap::default();
    for (i, rule) in cx.rules.iter().enumerate() {
        if rule.ir.status != ir::Status::Active {
            continue;
        }
        let mut writes = Vec::new();
        collect_writes(&rule.ir.steps, rule.ir.object.as_deref(), &mut writes);
        // A write the rule's own trigger just made is no change, so it starts nothing:
        // `stage changed to Open … set stage = Open`, `removed from list L … remove
        // from list L`.
        let own = watches(rule.ir);
        writes.retain(|(key, value)| {
            let list_again =
                matches!(key, Key::ListAdded(_) | Key::ListRemoved(_)) && own.contains(key);
            let value_again =
                own.contains(key) && value.as_ref().is_some_and(|v| only_value(rule.ir, v));
            !(list_again || value_again)
        });
        for (key, value) in writes {
            let id = (key.clone(), value.as_ref().map(|v| format!("{v:?}")));
            let node = match write_nodes.get(&id) {
                Some(&node) => node,
                None => {
                    let node = edges.len();
                    let mut targets: Vec<usize> = watchers.get(&key).cloned().unwrap_or_default();
                    if let Key::Attr(object, _) = &key {
                        targets.extend(
                            watchers
                                .get(&Key::Any(object.clone()))
                                .into_iter()
                                .flatten(),
                        );
                    }
                    targets.retain(|&j| {
                        cx.rules.get(j).is_some_and(|target| {
                            value
                                .as_ref()
                                .is_none_or(|v| reaches(target.ir, cx.schema, &key, v))
                        })
                    });
                    edges.push(targets);
                    write_nodes.insert(id, node);
                    node
                }
            };
            if let Some(list) = edges.get_mut(i) {
                list.push(node);
            }
        }
    }
    for component in crate::graph::strongly_connected(&edges) {
        // Write nodes only lead to rules, so any component of two or more nodes is a
        // loop through at least one rule.
        if component.len() < 2 {
            continue;
        }
        let rules: Vec<usize> = component.into_iter().filter(|&i| i < n).collect();
        report(cx, &rules, out);
    }
}

fn report(cx: &WorkspaceContext<'_>, component: &[usize], out: &mut Vec<Finding>) {
    let mut members = component.to_vec();
    members.sort_unstable();
    let Some(&first) = members.first() else {
        return;
    };
    let Some(head) = cx.rules.get(first) else {
        return;
    };
    let names: Vec<String> = members
        .iter()
        .filter_map(|&i| cx.rules.get(i))
        .map(|r| format!("`{}`", r.ir.id))
        .collect();
    let message = if members.len() == 1 {
        format!(
            "rule `{}` triggers itself: its own writes start it again",
            head.ir.id
        )
    } else if names.len() > 6 {
        let shown: Vec<&str> = names.iter().take(5).map(String::as_str).collect();
        format!(
            "rules {} and {} more trigger each other in a loop",
            shown.join(", "),
            names.len() - 5
        )
    } else {
        format!("rules {} trigger each other in a loop", names.join(" → "))
    };
    let mut finding = Finding::new(trigger_span(head), message).on_rule(first);
    let mut elsewhere = Vec::new();
    for &i in members.iter().skip(1) {
        let Some(rule) = cx.rules.get(i) else {
            continue;
        };
        if rule.file.name() == head.file.name() {
            finding = finding.related(
                trigger_span(rule),
                format!("`{}` is part of the loop", rule.ir.id),
            );
        } else {
            elsewhere.push(format!(
                "`{}` ({}:{})",
                rule.ir.id,
                rule.file.name(),
                rule.ir.location.line
            ));
        }
    }
    let mut help = "narrow a trigger with `to` values the other rules never write, or add `and event.source != rule`".to_string();
    if !elsewhere.is_empty() {
        help.push_str(&format!("; also in the loop: {}", elsewhere.join(", ")));
    }
    out.push(finding.help(help));
}

fn trigger_span(rule: &super::RuleContext<'_>) -> crate::source::Span {
    match &rule.ast.trigger {
        crate::syntax::ast::TriggerClause::When(when) => when.trigger.span,
        crate::syntax::ast::TriggerClause::Every(every) => every.schedule.span,
    }
}

/// What a rule's trigger listens to.
fn watches(rule: &ir::Rule) -> Vec<Key> {
    let Some(object) = rule.object.clone() else {
        return Vec::new();
    };
    match &rule.trigger {
        Trigger::Changed { attr, .. } => vec![Key::Attr(attr.object.clone(), attr.attr.clone())],
        Trigger::Updated => vec![Key::Any(object)],
        Trigger::Matches { filter } => {
            let mut attrs = Vec::new();
            reads(filter, &mut attrs);
            attrs
                .into_iter()
                .map(|a| Key::Attr(object.clone(), a))
                .collect()
        }
        Trigger::Created => vec![Key::Created(object)],
        Trigger::NoteCreated => vec![Key::Activity(object, "note")],
        Trigger::TaskCreated => vec![Key::Activity(object, "task")],
        Trigger::AddedToList { list } => vec![Key::ListAdded(list.clone())],
        Trigger::RemovedFromList { list } => vec![Key::ListRemoved(list.clone())],
        _ => Vec::new(),
    }
}

fn reads(e: &ir::Expr, out: &mut Vec<String>) {
    match &e.kind {
        ExprKind::Read {
            root: Root::Record,
            path,
        } => {
            if let Some(first) = path.first() {
                out.push(first.name.clone());
            }
        }
        ExprKind::Not { operand } | ExprKind::Neg { operand } | ExprKind::Test { operand, .. } => {
            reads(operand, out)
        }
        ExprKind::Binary { lhs, rhs, .. } => {
            reads(lhs, out);
            reads(rhs, out);
        }
        ExprKind::Call { args, .. } => args.iter().for_each(|a| reads(a, out)),
        ExprKind::List { items } => items.iter().for_each(|a| reads(a, out)),
        _ => {}
    }
}

/// What a rule's steps write, with the constant written when it is one: the events
/// [`ir::follow::follow`] says each step causes, as the engine delivers them.
fn collect_writes(steps: &[ir::Step], object: Option<&str>, out: &mut Vec<(Key, Option<Value>)>) {
    for step in ir::visit::all_steps(steps) {
        if let Some(follow) = ir::follow::follow(&step.action) {
            caused(&step.action, follow, object, out);
        }
    }
}

/// The keys the event `follow` of `action` touches.
fn caused(
    action: &Action,
    follow: Follow,
    object: Option<&str>,
    out: &mut Vec<(Key, Option<Value>)>,
) {
    match (follow, action) {
        (Follow::Updated, Action::Set { attr, value, .. }) => out.push((
            Key::Attr(attr.object.clone(), attr.attr.clone()),
            value.as_const().cloned(),
        )),
        (Follow::Updated, Action::Clear { attr, .. }) => out.push((
            Key::Attr(attr.object.clone(), attr.attr.clone()),
            Some(Value::Empty),
        )),
        // Each field counts as a change from empty.
        (
            Follow::Created,
            Action::Create { object, fields, .. } | Action::Upsert { object, fields, .. },
        ) => {
            out.push((Key::Created(object.clone()), None));
            for (attr, value) in fields {
                out.push((
                    Key::Attr(object.clone(), attr.clone()),
                    value.as_const().cloned(),
                ));
            }
        }
        // On the record the step names (`note on person …`), else the rule's.
        (Follow::Note | Follow::Task, _) => {
            let on = action.target().map(|t| t.object.as_str()).or(object);
            if let Some(o) = on {
                let kind = if follow == Follow::Note {
                    "note"
                } else {
                    "task"
                };
                out.push((Key::Activity(o.to_string(), kind), None));
            }
        }
        (
            Follow::ListEntry { added },
            Action::AddToList { list, .. } | Action::RemoveFromList { list, .. },
        ) => out.push((
            if added {
                Key::ListAdded(list.clone())
            } else {
                Key::ListRemoved(list.clone())
            },
            None,
        )),
        _ => {}
    }
}

/// Whether writing `value` under `key` can start `rule`: not when its `changed … to`
/// values exclude the value, nor when its filter and condition provably fail on a
/// record holding it.
fn reaches(rule: &ir::Rule, schema: &Schema, key: &Key, value: &Value) -> bool {
    if let (
        Trigger::Changed {
            to: Some(to), attr, ..
        },
        Key::Attr(_, written),
    ) = (&rule.trigger, key)
    {
        if *written == attr.attr && !to.contains(value) {
            return false;
        }
    }
    !excluded(rule, schema, key, value)
}

/// The constant written makes the watching rule's `matches` filter or condition false,
/// whatever else the record holds: the condition analysis (with the rule's trigger
/// facts) says "never" once `attr = value` (`attr is empty` for `clear`) is a fact.
fn excluded(rule: &ir::Rule, schema: &Schema, key: &Key, value: &Value) -> bool {
    let Key::Attr(object, attr) = key else {
        return false;
    };
    // The fact is about the record the rule runs on, so only for rules on that object.
    if rule.object.as_deref() != Some(object.as_str()) {
        return false;
    }
    let Some(ty) = schema
        .object(object)
        .and_then(|o| o.attribute(attr))
        .map(|a| a.ty.clone())
    else {
        return false;
    };
    // A condition that never reads the attribute cannot be decided by its value (a
    // condition that never holds at all is `unsatisfiable-condition`'s to report):
    // this spares the analysis for most pairs of a large workspace.
    let mentions = |e: &ir::Expr| {
        let mut found = false;
        crate::ir::visit::expr(e, &mut |inner| {
            if let ExprKind::Read {
                root: Root::Record | Root::Old,
                path,
            } = &inner.kind
            {
                found |= path.first().is_some_and(|f| {
                    f.name == *attr && f.attribute_of.as_deref() == Some(object.as_str())
                });
            }
        });
        found
    };
    let filter_reads = matches!(&rule.trigger, Trigger::Matches { filter } if mentions(filter));
    if !filter_reads && !rule.condition.as_ref().is_some_and(mentions) {
        return false;
    }
    let read = Box::new(ir::Expr::attribute(Root::Record, object, attr, ty.clone()));
    let written = ir::Expr {
        ty: Type::Checkbox,
        kind: match value {
            Value::Empty => ExprKind::Test {
                test: TestOp::IsEmpty,
                operand: read,
            },
            v => ExprKind::Binary {
                operator: BinaryOp::Eq,
                lhs: read,
                rhs: Box::new(ir::Expr::constant(v.clone(), ty)),
            },
        },
    };
    let mut facts = trigger_facts(rule, schema);
    facts.push(written);
    let filter = match &rule.trigger {
        Trigger::Matches { filter } => Some(filter),
        _ => None,
    };
    let condition = match (&rule.condition, filter) {
        (Some(condition), filter) => {
            facts.extend(filter.cloned());
            condition
        }
        (None, Some(filter)) => filter,
        (None, None) => return false,
    };
    decide(condition, &facts) == Verdict::Never
}

/// The rule's trigger is `changed to <v>` for exactly this value.
fn only_value(rule: &ir::Rule, value: &Value) -> bool {
    matches!(&rule.trigger, Trigger::Changed { to: Some(to), .. } if to.as_slice() == std::slice::from_ref(value))
}

/// A condition with a top-level conjunct that excludes events made by rules.
fn ignores_rule_writes(rule: &ir::Rule) -> bool {
    let Some(condition) = &rule.condition else {
        return false;
    };
    let mut conjuncts = Vec::new();
    and_chain(condition, &mut conjuncts);
    conjuncts.iter().any(|c| excludes_rule_source(c))
}

fn and_chain<'a>(e: &'a ir::Expr, out: &mut Vec<&'a ir::Expr>) {
    match &e.kind {
        ExprKind::Binary {
            operator: BinaryOp::And,
            lhs,
            rhs,
        } => {
            and_chain(lhs, out);
            and_chain(rhs, out);
        }
        _ => out.push(e),
    }
}

fn excludes_rule_source(e: &ir::Expr) -> bool {
    let ExprKind::Binary { operator, lhs, rhs } = &e.kind else {
        return false;
    };
    let is_source = lhs.read_head() == Some((&Root::Event, "source"));
    if !is_source {
        return false;
    }
    let is_rule = |v: &Value| matches!(v, Value::Option { name, .. } if name == "rule");
    match (operator, rhs.as_const()) {
        (BinaryOp::Ne, Some(v)) => is_rule(v),
        (BinaryOp::Eq, Some(v)) => !is_rule(v),
        (BinaryOp::In, Some(Value::List(items))) => !items.iter().any(is_rule),
        (BinaryOp::NotIn, Some(Value::List(items))) => items.iter().any(is_rule),
        _ => false,
    }
}
