//! Who uses this? Every rule that watches, reads or writes an attribute, or uses a
//! list, a team, a webhook or a custom action — from the checked program, so an
//! attribute read through a reference (`company.name` on a deal) or written on another
//! record (`set company.owner`) is found under its own object (`companies.name`).
//!
//! `rulec refs deals.stage` prints them; the language server's *find references*
//! answers the same question inside one editor session.

use serde::Serialize;

use crate::ir::{self, Action, Expr, ExprKind, Function, Program, Step, Trigger};
use crate::schema::Schema;

/// What is looked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// `deals.stage`.
    Attribute {
        /// The object.
        object: String,
        /// The attribute.
        attr: String,
    },
    /// `lists/Key accounts`.
    List(String),
    /// `teams/sdr`.
    Team(String),
    /// `webhooks/typeform`.
    Webhook(String),
    /// `actions/pagerduty`.
    Action(String),
}

/// How a rule uses the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Its trigger fires on a change of it (`stage changed`, `matches stage = …`,
    /// `added to list`, `webhook`).
    Watches,
    /// Its condition or a step reads it.
    Reads,
    /// A step writes it (`set`, `clear`, `create`/`upsert` fields, list membership).
    Writes,
    /// A step calls it (a custom action).
    Calls,
}

impl Kind {
    /// The word people read.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Watches => "watches",
            Kind::Reads => "reads",
            Kind::Writes => "writes",
            Kind::Calls => "calls",
        }
    }
}

/// One use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Use {
    /// The rule's id.
    pub rule: String,
    /// How.
    pub kind: Kind,
    /// The rule's file.
    pub file: String,
    /// Where: the rule's first line for what its trigger and condition do, else the
    /// step's (1-based).
    pub line: u32,
    /// The column there (1-based).
    pub column: u32,
}

/// Reads `deals.stage`, `lists/<name>`, `teams/<name>`, `webhooks/<name>` or
/// `actions/<name>`, checked against the schema: an unknown name is an error that
/// says what there is.
pub fn parse_target(text: &str, schema: &Schema) -> Result<Target, String> {
    let did_you_mean = |name: &str, names: Vec<&str>, what: &str| {
        let hint = crate::diagnostics::did_you_mean(name, names.iter().copied())
            .unwrap_or_else(|| format!("the {what} are {}", crate::schema::quoted_list(&names)));
        format!("no {} `{name}`: {hint}", what.trim_end_matches('s'))
    };
    if let Some((kind, name)) = text.split_once('/') {
        return match kind {
            "lists" => match schema.list(name) {
                Some(_) => Ok(Target::List(name.to_string())),
                None => Err(did_you_mean(name, schema.lists.iter().map(|l| l.name.as_str()).collect(), "lists")),
            },
            "teams" => match schema.team(name) {
                Some(_) => Ok(Target::Team(name.to_string())),
                None => Err(did_you_mean(name, schema.teams.iter().map(|t| t.name.as_str()).collect(), "teams")),
            },
            "webhooks" => match schema.webhook(name) {
                Some(_) => Ok(Target::Webhook(name.to_string())),
                None => Err(did_you_mean(name, schema.webhooks.iter().map(|w| w.name.as_str()).collect(), "webhooks")),
            },
            "actions" => match schema.action(name) {
                Some(_) => Ok(Target::Action(name.to_string())),
                None => Err(did_you_mean(name, schema.actions.iter().map(|a| a.name.as_str()).collect(), "actions")),
            },
            other => Err(format!(
                "`{other}/…` is not something rules use; write `<object>.<attribute>`, `lists/<name>`, `teams/<name>`, `webhooks/<name>` or `actions/<name>`"
            )),
        };
    }
    let Some((object, attr)) = text.split_once('.') else {
        return Err(format!(
            "`{text}` names nothing: write `<object>.<attribute>` (`deals.stage`), `lists/<name>`, `teams/<name>`, `webhooks/<name>` or `actions/<name>`"
        ));
    };
    let Some(found) = schema.object(object) else {
        return Err(did_you_mean(
            object,
            schema.objects.iter().map(|o| o.name.as_str()).collect(),
            "objects",
        ));
    };
    if found.attribute(attr).is_none() {
        let names: Vec<&str> = found.attributes.iter().map(|a| a.name.as_str()).collect();
        let hint =
            crate::diagnostics::did_you_mean(attr, names.iter().copied()).unwrap_or_else(|| {
                format!("its attributes are {}", crate::schema::quoted_list(&names))
            });
        return Err(format!("`{object}` has no attribute `{attr}`: {hint}"));
    }
    Ok(Target::Attribute {
        object: object.to_string(),
        attr: attr.to_string(),
    })
}

/// Every use of `target` in the program's rules, by rule in file order, then by line.
pub fn find(program: &Program, target: &Target) -> Vec<Use> {
    let mut out = Vec::new();
    for rule in &program.rules {
        let mut uses: Vec<(Kind, ir::Location)> = Vec::new();
        let at = rule.location;
        if let Some(kind) = watched(&rule.trigger, target) {
            uses.push((kind, at));
        }
        if let Trigger::Matches { filter } = &rule.trigger {
            if reads(filter, target) {
                uses.push((Kind::Watches, at));
            }
        }
        if rule.condition.as_ref().is_some_and(|c| reads(c, target)) {
            uses.push((Kind::Reads, at));
        }
        steps(&rule.steps, target, &mut uses);
        uses.sort_by_key(|(kind, location)| (location.line, location.column, *kind));
        uses.dedup();
        out.extend(uses.into_iter().map(|(kind, location)| Use {
            rule: rule.id.clone(),
            kind,
            file: rule.file.clone(),
            line: location.line,
            column: location.column,
        }));
    }
    out
}

fn watched(trigger: &Trigger, target: &Target) -> Option<Kind> {
    let hit = match (trigger, target) {
        (Trigger::Changed { attr, .. }, Target::Attribute { object, attr: a }) => {
            attr.object == *object && attr.attr == *a
        }
        (
            Trigger::AddedToList { list }
            | Trigger::RemovedFromList { list }
            | Trigger::EntryChanged { list, .. },
            Target::List(name),
        ) => list == name,
        (Trigger::Webhook { name }, Target::Webhook(wanted)) => name == wanted,
        _ => false,
    };
    hit.then_some(Kind::Watches)
}

fn steps(list: &[Step], target: &Target, out: &mut Vec<(Kind, ir::Location)>) {
    for step in crate::ir::visit::all_steps(list) {
        let at = step.location;
        if let Some(kind) = written(&step.action, target) {
            out.push((kind, at));
        }
        let mut read = false;
        crate::ir::visit::step_exprs(&step.action, &mut |e| read |= reads_here(e, target));
        if read {
            out.push((Kind::Reads, at));
        }
    }
}

fn written(action: &Action, target: &Target) -> Option<Kind> {
    let hit = match (action, target) {
        (
            Action::Set { attr, .. } | Action::Clear { attr, .. },
            Target::Attribute { object, attr: a },
        ) => attr.object == *object && attr.attr == *a,
        (
            Action::Create {
                object: o, fields, ..
            }
            | Action::Upsert {
                object: o, fields, ..
            },
            Target::Attribute { object, attr },
        ) => o == object && fields.iter().any(|(name, _)| name == attr),
        (
            Action::AddToList { list, .. } | Action::RemoveFromList { list, .. },
            Target::List(name),
        ) => list == name,
        (Action::Custom { name, .. }, Target::Action(wanted)) => {
            return (name == wanted).then_some(Kind::Calls)
        }
        _ => false,
    };
    hit.then_some(Kind::Writes)
}

/// Whether `e`, or anything inside it, reads the target.
fn reads(e: &Expr, target: &Target) -> bool {
    let mut found = false;
    crate::ir::visit::expr(e, &mut |inner| found |= reads_here(inner, target));
    found
}

/// Whether `e` itself reads the target (not looking inside it).
fn reads_here(e: &Expr, target: &Target) -> bool {
    match (&e.kind, target) {
        (ExprKind::InList { list, .. }, Target::List(name)) => list == name,
        (ExprKind::Read { path, .. }, Target::Attribute { object, attr }) => path
            .iter()
            .any(|f| f.name == *attr && f.attribute_of.as_deref() == Some(object.as_str())),
        (
            ExprKind::Call {
                function: Function::RoundRobin,
                args,
            },
            Target::Team(team),
        ) => matches!(
            args.first().map(|a| &a.kind),
            Some(ExprKind::Const { value: ir::Value::Text(name) }) if name == team
        ),
        _ => false,
    }
}
