//! From the checked IR to what the engine runs: attribute names become slots, option
//! values indices, paths lookups, schedules parsed once.
//!
//! This is the only place the engine looks names up; a program that fails to compile
//! here was not produced by this version's checker (a hand-edited IR file), and says so.

use std::collections::HashMap;
use std::sync::Arc;

use chrono_tz::Tz;

use super::condition::Condition;
use super::effect::{slack_escape, url_escape};
use super::eval::{Node, Path, PathRoot, PathStep, Piece};
use super::record::Layouts;
use super::trigger::Accept;
use super::value::{parse_time, Val};
use crate::ir::follow::{follow, Follow};
use crate::ir::{self, Action, ExprKind, Root, TemplatePart, Timing, Trigger, Value};
use crate::schema::{Schema, Type};
use crate::syntax::ast::BinaryOp;

/// A rule ready to run.
#[derive(Debug)]
pub struct Compiled {
    /// The checked rule.
    pub ir: ir::Rule,
    /// The object's index.
    pub object: Option<u16>,
    /// What starts it.
    pub trigger: When,
    /// The condition (for schedules: the `for … where` filter).
    pub condition: Option<Condition>,
    /// [`Engine::evaluate`](super::Engine::evaluate) needs no `World` for it: a local
    /// condition and a trigger that is not a filter (which may read references).
    pub probe_is_local: bool,
    /// The steps.
    pub steps: Vec<Op>,
    /// For a schedule `for <object>` with [`super::Builder::host_reads`]: the one
    /// step of the run that asks the host for the records of an occurrence.
    pub scan: Option<Op>,
    /// Names bound by `as`, by binding index.
    pub bindings: Vec<String>,
    /// The zone `today` is read in.
    pub zone: Tz,
    /// The hosts its `http` steps may call (the program's allow-list; `None`: any).
    pub http_allow: Option<Arc<[String]>>,
}

/// Compiled triggers.
#[derive(Debug)]
pub enum When {
    /// `created`
    Created,
    /// `updated`
    Updated,
    /// `deleted`
    Deleted,
    /// `merged`
    Merged,
    /// `<attr> changed [from …] [to …]`
    Changed {
        /// The attribute's slot.
        slot: u16,
        /// Accepted old values.
        from: Accept,
        /// Accepted new values.
        to: Accept,
    },
    /// `matches <filter>`
    Matches {
        /// The filter.
        filter: Condition,
        /// The slots it reads (an update touching none of them cannot change it).
        reads: Vec<u16>,
    },
    /// List movement.
    List {
        /// The list.
        list: String,
        /// Added (else removed).
        added: bool,
    },
    /// A list entry's own attributes changed (or were set on a new entry).
    Entry {
        /// The list's index.
        list: u16,
        /// The attribute's slot in the entry; any when absent.
        slot: Option<u16>,
        /// Accepted old values.
        from: Accept,
        /// Accepted new values.
        to: Accept,
    },
    /// An activity event.
    Activity(super::event::EventKind),
    /// A webhook.
    Webhook(String),
    /// A command run on a record, by name.
    Command(String),
    /// Another rule's failure streak.
    RuleFailed {
        /// The watched rule.
        rule: String,
        /// Streak length.
        times: u32,
    },
    /// A schedule.
    Schedule(Box<Schedule>),
}

/// A parsed schedule.
#[derive(Debug)]
pub struct Schedule {
    /// The timing.
    pub timing: Timing,
    /// The cron expression, parsed.
    pub cron: Option<croner::Cron>,
    /// The zone.
    pub zone: Tz,
    /// `for <object>`.
    pub for_object: Option<u16>,
}

/// Appends a value from data to text of a target's syntax, escaped for it.
pub type Escape = fn(&str, &mut String);

/// A value handed to a handler.
#[derive(Debug)]
pub enum ArgValue {
    /// An expression of a type, with how values from data are escaped into its text
    /// (Slack markup, URLs).
    Expr(Node, Type, Option<Escape>),
    /// Attribute values of a record to create.
    Fields(Vec<(String, Node, Type)>),
    /// A constant.
    Const(serde_json::Value),
    /// Who a message or task goes to: empty fails the step, naming the expression.
    Recipient(Node, Type, String),
}

/// How a message names an expression: its path as written where it is one.
fn describe(e: &ir::Expr) -> String {
    let ir::ExprKind::Read { root, path } = &e.kind else {
        return "the recipient".to_string();
    };
    let head = match root {
        ir::Root::Old => Some("old"),
        ir::Root::Event => Some("event"),
        ir::Root::Payload => Some("payload"),
        ir::Root::Failure => Some("failure"),
        ir::Root::Binding { name } => Some(name.as_str()),
        ir::Root::Record | ir::Root::Activity | ir::Root::Candidate => None,
    };
    head.into_iter()
        .chain(path.iter().map(|f| f.name.as_str()))
        .collect::<Vec<_>>()
        .join(".")
}

/// A constant text argument.
fn text_arg(name: &'static str, text: &str) -> Arg {
    Arg {
        name,
        value: ArgValue::Const(serde_json::Value::String(text.to_string())),
    }
}

/// A named argument.
#[derive(Debug)]
pub struct Arg {
    /// Its name in the effect's arguments (empty: fields spread into the arguments).
    pub name: &'static str,
    /// Its value.
    pub value: ArgValue,
}

/// What kind of effect, where the engine must know (record state, follow-on events).
#[derive(Debug, Clone, PartialEq)]
pub enum EffectKind {
    /// A Slack message.
    Slack,
    /// An email.
    Email,
    /// A task on the record.
    Task,
    /// A new record.
    Create {
        /// Object index.
        object: u16,
    },
    /// Find by a unique attribute, else create.
    Upsert {
        /// Object index.
        object: u16,
        /// The unique attribute's slot.
        by: u16,
    },
    /// A note on the record.
    Note,
    /// An HTTP call.
    Http,
    /// List membership.
    List {
        /// The list.
        list: String,
        /// Added (else removed).
        added: bool,
    },
    /// A host-registered action.
    Custom,
    /// A `find` asked of the host ([`super::Builder::host_reads`]).
    Find {
        /// Object index.
        object: u16,
    },
    /// A schedule's records asked of the host ([`super::Builder::host_reads`]).
    Scan {
        /// Object index.
        object: u16,
    },
}

/// A compiled step.
#[derive(Debug)]
pub struct Op {
    /// Its path in the rule (`2`, `3.then.0`).
    pub path: String,
    /// Where it is written.
    pub location: ir::Location,
    /// `on error continue`.
    pub continue_on_error: bool,
    /// `retry n`.
    pub retry: u32,
    /// What it does.
    pub kind: OpKind,
    /// The record it acts on when it names one; else the run's.
    pub target: Option<Target>,
    /// The event it causes when performed (the same answer `rule-cycle` follows).
    pub follow: Option<Follow>,
}

/// The record a step names (`company` in `set company.csm = …`), compiled.
#[derive(Debug)]
pub struct Target {
    /// Its object's index.
    pub object: u16,
    /// Its id.
    pub record: Node,
    /// How a message names it (`company`).
    pub shown: String,
}

/// Step kinds.
#[derive(Debug)]
pub enum OpKind {
    /// An effect through a handler.
    Effect {
        /// Handler name (`slack`, `http`, a custom action's name).
        action: String,
        /// What kind.
        kind: EffectKind,
        /// Arguments.
        args: Vec<Arg>,
        /// `key <expr>`.
        key: Option<Node>,
        /// `as <name>`.
        binding: Option<u16>,
    },
    /// `set` / `clear`.
    Set {
        /// Slot.
        slot: u16,
        /// New value (`None` for `clear`).
        value: Option<Node>,
        /// `if empty`.
        if_empty: bool,
    },
    /// `find`.
    Find {
        /// Object index.
        object: u16,
        /// Filter over the candidate.
        filter: Node,
        /// Binding.
        binding: u16,
        /// A conjunct `candidate.<slot> = <value>` of the filter: the store's index on
        /// the attribute gives the candidates, so a find reads only those.
        lookup: Option<(u16, Node)>,
        /// With [`super::Builder::host_reads`], the read asked of the host: the object
        /// and, from `lookup`, the attribute value that narrows the query.
        request: Vec<Arg>,
        /// [`EffectKind::Find`] of the object, for the request's effect.
        kind: EffectKind,
        /// `find all`: every match, up to this many, bound as a list.
        all: Option<u32>,
    },
    /// `for each`: the body once per item of the list, the item bound.
    ForEach {
        /// The binding of each item.
        binding: u16,
        /// The hidden binding of the loop's progress: the items done, the one in
        /// progress.
        progress: u16,
        /// The list.
        list: Node,
        /// The steps.
        body: Vec<Op>,
    },
    /// A schedule's scan, asked of the host: a run of its own whose answer starts one
    /// run per record that passes the `for … where` filter.
    Scan {
        /// The read asked of the host: the object.
        request: Vec<Arg>,
        /// [`EffectKind::Scan`] of the object.
        kind: EffectKind,
    },
    /// `wait <duration>` (`until` false) or `wait until <time>`.
    Wait {
        /// The duration or time.
        value: Node,
        /// `until`.
        until: bool,
    },
    /// `ask`.
    Ask {
        /// Member and question.
        args: Vec<Arg>,
        /// Timeout.
        timeout: Option<Node>,
        /// Ends the rule's open question about the same record.
        replace: bool,
        /// Binding.
        binding: u16,
    },
    /// `if` and `route`: the first arm whose guard holds.
    Branch {
        /// Guarded arms.
        arms: Vec<(Node, Vec<Op>)>,
        /// `else`.
        otherwise: Vec<Op>,
        /// The word for the step log (`if`, `route`).
        word: &'static str,
    },
    /// `stop`.
    Stop,
    /// `skip`.
    Skip(Option<String>),
}

/// How often a host's failed scan of a schedule is tried again before the
/// occurrence's run fails.
pub const SCAN_RETRIES: u32 = 5;

/// Compiles every rule of a program.
pub fn compile(program: &ir::Program, layouts: &Layouts) -> Result<Vec<Compiled>, String> {
    let http_allow: Option<Arc<[String]>> = program.http_allow.as_deref().map(Arc::from);
    program
        .rules
        .iter()
        .map(|rule| compile_rule(rule, &program.schema, layouts, http_allow.clone()))
        .collect()
}

/// Compiles one rule against a schema's layouts: a program's, or — for a run that
/// waited while its rule changed — the rule as it was, against today's schema.
pub fn compile_rule(
    rule: &ir::Rule,
    schema: &Schema,
    layouts: &Layouts,
    http_allow: Option<Arc<[String]>>,
) -> Result<Compiled, String> {
    Compiler {
        schema,
        layouts,
        http_allow,
        rule,
        bindings: HashMap::new(),
        names: Vec::new(),
    }
    .rule()
    .map_err(|e| format!("rule `{}`: {e}", rule.id))
}

struct Compiler<'a> {
    schema: &'a Schema,
    layouts: &'a Layouts,
    http_allow: Option<Arc<[String]>>,
    rule: &'a ir::Rule,
    bindings: HashMap<String, u16>,
    names: Vec<String>,
}

type R<T> = Result<T, String>;

/// A constant of the IR as a runtime value. The checker only writes valid dates and
/// times; a program that holds another (a hand-edited IR) does not load.
pub fn const_val(value: &Value) -> R<Val> {
    Ok(match value {
        Value::Empty => Val::Empty,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => Val::Number(*n),
        Value::Text(s) => Val::text(s),
        Value::Date(d) => chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .map(Val::Date)
            .map_err(|_| format!("`{d}` is not a calendar date"))?,
        Value::Timestamp(t) => parse_time(t)
            .map(Val::Time)
            .ok_or_else(|| format!("`{t}` is not an RFC 3339 time"))?,
        Value::Duration(d) => Val::Duration(*d),
        Value::Option { index, .. } => Val::Option(*index),
        Value::List(items) => Val::List(items.iter().map(const_val).collect::<R<_>>()?),
    })
}

impl Compiler<'_> {
    fn rule(mut self) -> R<Compiled> {
        let object = match &self.rule.object {
            Some(name) => Some(self.object(name)?),
            None => None,
        };
        let zone = match &self.rule.trigger {
            Trigger::Schedule(s) if !s.zone.is_empty() => zone(&s.zone)?,
            _ => self
                .rule
                .zone
                .as_deref()
                .map(zone)
                .transpose()?
                .unwrap_or(Tz::UTC),
        };
        // Bindings first, so every step sees every name's index and type.
        self.declare_bindings(&self.rule.steps);
        let trigger = self.trigger(object)?;
        let condition = match &self.rule.condition {
            Some(c) => Some(self.expr(c, object)?),
            None => None,
        };
        let steps = self.steps(&self.rule.steps, object)?;
        let scan = match &trigger {
            When::Schedule(schedule) => schedule.for_object.map(|o| self.scan(o)),
            _ => None,
        };
        let probe_is_local = condition.as_ref().is_none_or(|c| !c.needs_world())
            && !matches!(trigger, When::Matches { .. });
        Ok(Compiled {
            ir: self.rule.clone(),
            object,
            trigger,
            probe_is_local,
            condition: condition.map(Condition::new),
            steps,
            scan,
            bindings: self.names,
            zone,
            http_allow: self.http_allow,
        })
    }

    fn object(&self, name: &str) -> R<u16> {
        self.layouts
            .index(name)
            .ok_or_else(|| format!("unknown object `{name}`"))
    }

    fn slot(&self, object: u16, attr: &str) -> R<u16> {
        self.layouts.objects[object as usize]
            .slot(attr)
            .ok_or_else(|| format!("unknown attribute `{attr}`"))
    }

    /// The scan step of a schedule over `object`. A read is worth retrying: a failed
    /// one comes back at its backoff time, up to [`SCAN_RETRIES`] times.
    fn scan(&self, object: u16) -> Op {
        Op {
            path: "scan".to_string(),
            location: self.rule.location,
            continue_on_error: false,
            retry: SCAN_RETRIES,
            kind: OpKind::Scan {
                request: vec![text_arg(
                    "object",
                    &self.layouts.objects[object as usize].object,
                )],
                kind: EffectKind::Scan { object },
            },
            target: None,
            follow: None,
        }
    }

    /// Gives each name bound anywhere in the rule a slot, nested steps included; a
    /// `for each` also gets a hidden one for where the loop stands, kept with the run.
    fn declare_bindings(&mut self, steps: &[ir::Step]) {
        for step in ir::visit::all_steps(steps) {
            let progress =
                matches!(step.action, Action::ForEach { .. }).then(|| progress_binding(&step.path));
            for name in progress
                .iter()
                .map(String::as_str)
                .chain(step.action.binding())
            {
                if !self.bindings.contains_key(name) {
                    self.bindings
                        .insert(name.to_string(), self.names.len() as u16);
                    self.names.push(name.to_string());
                }
            }
        }
    }

    fn binding(&self, name: &str) -> R<u16> {
        self.bindings
            .get(name)
            .copied()
            .ok_or_else(|| format!("unknown binding `{name}`"))
    }

    fn trigger(&mut self, object: Option<u16>) -> R<When> {
        use super::event::EventKind as E;
        Ok(match &self.rule.trigger {
            Trigger::Created => When::Created,
            Trigger::Updated => When::Updated,
            Trigger::Deleted => When::Deleted,
            Trigger::Merged => When::Merged,
            Trigger::Changed { attr, from, to } => {
                let object = self.object(&attr.object)?;
                let values = |v: &Option<Vec<Value>>| {
                    v.as_ref()
                        .map(|vs| vs.iter().map(const_val).collect::<R<Vec<_>>>())
                        .transpose()
                };
                When::Changed {
                    slot: self.slot(object, &attr.attr)?,
                    from: Accept::new(values(from)?),
                    to: Accept::new(values(to)?),
                }
            }
            Trigger::Matches { filter } => {
                let filter = self.expr(filter, object)?;
                let mut reads = Vec::new();
                reads_of(&filter, &mut reads);
                reads.sort_unstable();
                reads.dedup();
                When::Matches {
                    filter: Condition::new(filter),
                    reads,
                }
            }
            Trigger::EntryChanged {
                list,
                attr,
                from,
                to,
            } => {
                let index = self
                    .schema
                    .lists
                    .iter()
                    .position(|l| &l.name == list)
                    .ok_or_else(|| format!("unknown list `{list}`"))?;
                let layout = &self.layouts.lists[index];
                let values = |v: &Option<Vec<Value>>| {
                    v.as_ref()
                        .map(|vs| vs.iter().map(const_val).collect::<R<Vec<_>>>())
                        .transpose()
                };
                When::Entry {
                    list: index as u16,
                    slot: match attr {
                        Some(attr) => Some(layout.slot(attr).ok_or_else(|| {
                            format!("entries of list `{list}` have no attribute `{attr}`")
                        })?),
                        None => None,
                    },
                    from: Accept::new(values(from)?),
                    to: Accept::new(values(to)?),
                }
            }
            Trigger::AddedToList { list } => When::List {
                list: list.clone(),
                added: true,
            },
            Trigger::RemovedFromList { list } => When::List {
                list: list.clone(),
                added: false,
            },
            Trigger::NoteCreated => When::Activity(E::NoteCreated),
            Trigger::CommentAdded => When::Activity(E::CommentCreated),
            Trigger::TaskCreated => When::Activity(E::TaskCreated),
            Trigger::TaskCompleted => When::Activity(E::TaskCompleted),
            Trigger::CallRecorded => When::Activity(E::CallRecorded),
            Trigger::Webhook { name } => When::Webhook(name.clone()),
            Trigger::Command { name } => When::Command(name.clone()),
            Trigger::RuleFailed { rule, times } => When::RuleFailed {
                rule: rule.clone(),
                times: (*times).max(1),
            },
            Trigger::Schedule(s) => When::Schedule(Box::new(Schedule {
                cron: match &s.timing {
                    Timing::Cron { expression } => Some(
                        expression
                            .parse::<croner::Cron>()
                            .map_err(|e| format!("cron `{expression}`: {e}"))?,
                    ),
                    _ => None,
                },
                timing: s.timing.clone(),
                zone: match s.zone.as_str() {
                    "" => self
                        .rule
                        .zone
                        .as_deref()
                        .map(zone)
                        .transpose()?
                        .unwrap_or(Tz::UTC),
                    explicit => zone(explicit)?,
                },
                for_object: match &s.for_object {
                    Some(o) => Some(self.object(o)?),
                    None => None,
                },
            })),
        })
    }

    fn steps(&mut self, steps: &[ir::Step], object: Option<u16>) -> R<Vec<Op>> {
        steps.iter().map(|s| self.step(s, object)).collect()
    }

    fn arg(&mut self, name: &'static str, e: &ir::Expr, object: Option<u16>) -> R<Arg> {
        Ok(Arg {
            name,
            value: ArgValue::Expr(self.expr(e, object)?, e.ty.clone(), None),
        })
    }

    fn recipient(&mut self, name: &'static str, e: &ir::Expr, object: Option<u16>) -> R<Arg> {
        Ok(Arg {
            name,
            value: ArgValue::Recipient(self.expr(e, object)?, e.ty.clone(), describe(e)),
        })
    }

    fn opt_arg(
        &mut self,
        args: &mut Vec<Arg>,
        name: &'static str,
        e: &Option<ir::Expr>,
        object: Option<u16>,
    ) -> R<()> {
        if let Some(e) = e {
            args.push(self.arg(name, e, object)?);
        }
        Ok(())
    }

    fn fields(
        &mut self,
        target: u16,
        fields: &[(String, ir::Expr)],
        object: Option<u16>,
    ) -> R<Vec<(String, Node, Type)>> {
        let layout = &self.layouts.objects[target as usize];
        let mut out = Vec::new();
        for (name, e) in fields {
            let ty = layout
                .slot(name)
                .map(|s| layout.types[s as usize].clone())
                .unwrap_or_else(|| e.ty.clone());
            out.push((name.clone(), self.expr(e, object)?, ty));
        }
        Ok(out)
    }

    fn opt_binding(&self, b: &Option<String>) -> R<Option<u16>> {
        b.as_deref().map(|b| self.binding(b)).transpose()
    }

    fn step(&mut self, step: &ir::Step, object: Option<u16>) -> R<Op> {
        let effect = |action: &str,
                      kind: EffectKind,
                      args: Vec<Arg>,
                      key: Option<Node>,
                      binding: Option<u16>| OpKind::Effect {
            action: action.to_string(),
            kind,
            args,
            key,
            binding,
        };
        let kind = match &step.action {
            Action::Set {
                attr,
                value,
                if_empty,
                ..
            } => {
                let o = self.object(&attr.object)?;
                OpKind::Set {
                    slot: self.slot(o, &attr.attr)?,
                    value: Some(self.expr(value, object)?),
                    if_empty: *if_empty,
                }
            }
            Action::Clear { attr, .. } => {
                let o = self.object(&attr.object)?;
                OpKind::Set {
                    slot: self.slot(o, &attr.attr)?,
                    value: None,
                    if_empty: false,
                }
            }
            Action::AddToList { list, .. } | Action::RemoveFromList { list, .. } => {
                let added = matches!(step.action, Action::AddToList { .. });
                let args = vec![text_arg("list", list)];
                let name = if added {
                    "add_to_list"
                } else {
                    "remove_from_list"
                };
                effect(
                    name,
                    EffectKind::List {
                        list: list.clone(),
                        added,
                    },
                    args,
                    None,
                    None,
                )
            }
            Action::SlackChannel { channel, text, key } => {
                let mut args = vec![text_arg("channel", channel)];
                if let Some(text) = text {
                    args.push(Arg {
                        name: "text",
                        value: ArgValue::Expr(
                            self.expr(text, object)?,
                            text.ty.clone(),
                            Some(slack_escape),
                        ),
                    });
                }
                let key = key.as_ref().map(|k| self.expr(k, object)).transpose()?;
                effect("slack", EffectKind::Slack, args, key, None)
            }
            Action::SlackDm { member, text, key } => {
                let mut args = vec![self.recipient("member", member, object)?];
                if let Some(text) = text {
                    args.push(Arg {
                        name: "text",
                        value: ArgValue::Expr(
                            self.expr(text, object)?,
                            text.ty.clone(),
                            Some(slack_escape),
                        ),
                    });
                }
                let key = key.as_ref().map(|k| self.expr(k, object)).transpose()?;
                effect("slack", EffectKind::Slack, args, key, None)
            }
            Action::Email {
                to,
                subject,
                body,
                template,
                key,
            } => {
                let mut args = vec![self.recipient("to", to, object)?];
                self.opt_arg(&mut args, "subject", subject, object)?;
                self.opt_arg(&mut args, "body", body, object)?;
                if let Some(t) = template {
                    args.push(text_arg("template", t));
                }
                let key = key.as_ref().map(|k| self.expr(k, object)).transpose()?;
                effect("email", EffectKind::Email, args, key, None)
            }
            Action::CreateTask {
                title,
                assignee,
                due,
                body,
                key,
                binding,
                ..
            } => {
                let mut args = vec![self.arg("title", title, object)?];
                if let Some(assignee) = assignee {
                    args.push(self.recipient("assignee", assignee, object)?);
                }
                self.opt_arg(&mut args, "due", due, object)?;
                self.opt_arg(&mut args, "body", body, object)?;
                let key = key.as_ref().map(|k| self.expr(k, object)).transpose()?;
                let binding = self.opt_binding(binding)?;
                effect("create_task", EffectKind::Task, args, key, binding)
            }
            Action::Create {
                object: target,
                fields,
                key,
                binding,
            } => {
                let t = self.object(target)?;
                let args = vec![
                    text_arg("object", target),
                    Arg {
                        name: "fields",
                        value: ArgValue::Fields(self.fields(t, fields, object)?),
                    },
                ];
                let key = key.as_ref().map(|k| self.expr(k, object)).transpose()?;
                let binding = self.opt_binding(binding)?;
                effect(
                    "create",
                    EffectKind::Create { object: t },
                    args,
                    key,
                    binding,
                )
            }
            Action::Upsert {
                object: target,
                by,
                fields,
                binding,
            } => {
                let t = self.object(target)?;
                let args = vec![
                    text_arg("object", target),
                    text_arg("by", by),
                    Arg {
                        name: "fields",
                        value: ArgValue::Fields(self.fields(t, fields, object)?),
                    },
                ];
                let by = self.slot(t, by)?;
                let binding = self.opt_binding(binding)?;
                effect(
                    "upsert",
                    EffectKind::Upsert { object: t, by },
                    args,
                    None,
                    binding,
                )
            }
            Action::Find {
                object: target,
                filter,
                binding,
                all,
                limit,
            } => {
                let t = self.object(target)?;
                let filter = self.expr_in(filter, object, Some(t))?;
                let lookup = lookup_of(&filter);
                let layout = &self.layouts.objects[t as usize];
                let mut request = vec![text_arg("object", &layout.object)];
                if let Some((slot, value)) = &lookup {
                    request.push(Arg {
                        name: "equals",
                        value: ArgValue::Fields(vec![(
                            layout.names[*slot as usize].to_string(),
                            value.clone(),
                            layout.types[*slot as usize].clone(),
                        )]),
                    });
                }
                OpKind::Find {
                    object: t,
                    lookup,
                    filter,
                    binding: self.binding(binding)?,
                    request,
                    kind: EffectKind::Find { object: t },
                    all: all.then_some(limit.unwrap_or(u32::MAX)),
                }
            }
            Action::ForEach {
                binding,
                list,
                steps,
            } => OpKind::ForEach {
                binding: self.binding(binding)?,
                progress: self.binding(&progress_binding(&step.path))?,
                list: self.expr(list, object)?,
                body: self.steps(steps, object)?,
            },
            Action::Note { title, body, .. } => {
                let mut args = vec![self.arg("title", title, object)?];
                self.opt_arg(&mut args, "body", body, object)?;
                effect("note", EffectKind::Note, args, None, None)
            }
            Action::Http {
                method,
                url,
                headers,
                body,
                key,
                binding,
            } => {
                let mut args = vec![
                    text_arg("method", method),
                    Arg {
                        name: "url",
                        value: ArgValue::Expr(
                            self.expr(url, object)?,
                            url.ty.clone(),
                            Some(url_escape),
                        ),
                    },
                ];
                if !headers.is_empty() {
                    args.push(Arg {
                        name: "headers",
                        value: ArgValue::Fields(
                            headers
                                .iter()
                                .map(|(k, e)| Ok((k.clone(), self.expr(e, object)?, e.ty.clone())))
                                .collect::<R<_>>()?,
                        ),
                    });
                }
                self.opt_arg(&mut args, "body", body, object)?;
                let key = key.as_ref().map(|k| self.expr(k, object)).transpose()?;
                let binding = self.opt_binding(binding)?;
                effect("http", EffectKind::Http, args, key, binding)
            }
            Action::WaitFor { duration } => OpKind::Wait {
                value: self.expr(duration, object)?,
                until: false,
            },
            Action::WaitUntil { time } => OpKind::Wait {
                value: self.expr(time, object)?,
                until: true,
            },
            Action::Ask {
                member,
                question,
                timeout,
                replace,
                binding,
            } => OpKind::Ask {
                args: vec![
                    self.recipient("member", member, object)?,
                    self.arg("question", question, object)?,
                ],
                timeout: timeout.as_ref().map(|t| self.expr(t, object)).transpose()?,
                replace: *replace,
                binding: self.binding(binding)?,
            },
            Action::If {
                branches,
                otherwise,
            }
            | Action::Route {
                arms: branches,
                otherwise,
            } => {
                let word = if matches!(step.action, Action::If { .. }) {
                    "if"
                } else {
                    "route"
                };
                let mut arms = Vec::new();
                for branch in branches {
                    arms.push((
                        self.expr(&branch.condition, object)?,
                        self.steps(&branch.steps, object)?,
                    ));
                }
                OpKind::Branch {
                    arms,
                    otherwise: self.steps(otherwise, object)?,
                    word,
                }
            }
            Action::Stop => OpKind::Stop,
            Action::Skip { reason } => OpKind::Skip(reason.clone()),
            Action::Custom {
                name,
                args,
                key,
                binding,
            } => {
                let params = self
                    .schema
                    .action(name)
                    .map(|a| a.params.clone())
                    .unwrap_or_default();
                let fields = args
                    .iter()
                    .map(|(k, e)| {
                        let ty = params
                            .iter()
                            .find(|(p, _)| p == k)
                            .map(|(_, t)| t.clone())
                            .unwrap_or_else(|| e.ty.clone());
                        Ok((k.clone(), self.expr(e, object)?, ty))
                    })
                    .collect::<R<Vec<_>>>()?;
                // A custom action's parameters are its arguments, side by side.
                let args = vec![Arg {
                    name: "",
                    value: ArgValue::Fields(fields),
                }];
                let key = key.as_ref().map(|k| self.expr(k, object)).transpose()?;
                let binding = self.opt_binding(binding)?;
                effect(name, EffectKind::Custom, args, key, binding)
            }
        };
        let target = match step.action.target() {
            Some(target) => Some(Target {
                object: self.object(&target.object)?,
                record: self.expr(&target.record, object)?,
                shown: describe(&target.record),
            }),
            None => None,
        };
        Ok(Op {
            path: step.path.clone(),
            location: step.location,
            continue_on_error: step.continue_on_error,
            retry: step.retry,
            kind,
            target,
            follow: follow(&step.action),
        })
    }

    fn expr(&mut self, e: &ir::Expr, object: Option<u16>) -> R<Node> {
        self.expr_in(e, object, None)
    }

    /// Compiles an expression; `candidate` is the object a `find` searches.
    fn expr_in(&mut self, e: &ir::Expr, object: Option<u16>, candidate: Option<u16>) -> R<Node> {
        let mut sub = |x: &ir::Expr| -> R<Node> { self.expr_in(x, object, candidate) };
        Ok(match &e.kind {
            ExprKind::Const { value } => Node::Const(const_val(value)?),
            ExprKind::Now => Node::Now,
            ExprKind::Today => Node::Today,
            ExprKind::Relative { seconds } => Node::Relative(*seconds),
            ExprKind::List { items } => {
                Node::List(items.iter().map(&mut sub).collect::<R<Vec<_>>>()?.into())
            }
            ExprKind::Map { entries } => Node::Map(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), sub(v)?, v.ty.clone())))
                    .collect::<R<Vec<_>>>()?
                    .into(),
            ),
            ExprKind::Template { parts } => Node::Template(
                parts
                    .iter()
                    .map(|p| {
                        Ok(match p {
                            TemplatePart::Text(t) => Piece::Text(t.clone()),
                            TemplatePart::Hole(h) => Piece::Hole(sub(h)?, h.ty.clone()),
                        })
                    })
                    .collect::<R<Vec<_>>>()?
                    .into(),
            ),
            ExprKind::Call { function, args } => Node::Call(
                *function,
                args.iter()
                    .map(|a| Ok((sub(a)?, a.ty.clone())))
                    .collect::<R<Vec<_>>>()?
                    .into(),
            ),
            ExprKind::Not { operand } => Node::Not(Box::new(sub(operand)?)),
            ExprKind::Neg { operand } => Node::Neg(Box::new(sub(operand)?)),
            ExprKind::Test { test, operand } => Node::Test(*test, Box::new(sub(operand)?)),
            ExprKind::InList {
                operand,
                list,
                negated,
            } => Node::InList {
                record: Box::new(sub(operand)?),
                list: Arc::from(list.as_str()),
                negated: *negated,
            },
            ExprKind::Binary { operator, lhs, rhs } => {
                let pair = Box::new((sub(lhs)?, sub(rhs)?));
                match operator {
                    BinaryOp::And => Node::And(pair),
                    BinaryOp::Or => Node::Or(pair),
                    op => Node::Binary(*op, pair),
                }
            }
            ExprKind::Read { root, path } => self.read(root, path, object, candidate)?,
        })
    }

    /// A read path as the checker resolved it: each field becomes a slot of its
    /// object's layout or a key with its type.
    fn read(
        &mut self,
        root: &Root,
        path: &[ir::Field],
        object: Option<u16>,
        candidate: Option<u16>,
    ) -> R<Node> {
        let record_root =
            |o: Option<u16>, what: &str| o.ok_or_else(|| format!("`{what}` outside a record rule"));
        let mut fields = path.iter();
        let mut steps = Vec::with_capacity(path.len());
        let root = match root {
            Root::Event => {
                return Ok(match path.first().map(|f| f.name.as_str()) {
                    Some("id") => Node::EventId,
                    Some("actor") => Node::EventActor,
                    Some("source") => Node::EventSource,
                    Some("duplicate") => Node::EventDuplicate,
                    Some("at") => Node::EventAt,
                    other => return Err(format!("unknown event field {other:?}")),
                })
            }
            // `record` alone: the rule's record itself, by its id.
            Root::Record if path.is_empty() => {
                record_root(object, "record")?;
                return Ok(Node::RecordId);
            }
            Root::Record | Root::Old | Root::Candidate => {
                let o = match root {
                    Root::Candidate => record_root(candidate, "find")?,
                    _ => record_root(object, "record")?,
                };
                let first = fields.next().ok_or("empty path")?;
                // `record.id`: the record's own id, not an attribute.
                if first.name == "id" && self.layouts.objects[o as usize].slot("id").is_none() {
                    return match root {
                        Root::Candidate => Err("the id of a searched record".to_string()),
                        _ => Ok(Node::RecordId),
                    };
                }
                let slot = self.slot(o, &first.name)?;
                match (root, path.len()) {
                    (Root::Record, 1) => return Ok(Node::Slot(slot)),
                    (Root::Old, 1) => return Ok(Node::OldSlot(slot)),
                    _ => {}
                }
                steps.push(PathStep::Attr(slot));
                match root {
                    Root::Record => PathRoot::Record,
                    Root::Old => PathRoot::Old,
                    _ => PathRoot::Candidate,
                }
            }
            Root::Binding { name } => PathRoot::Binding(self.binding(name)?),
            Root::Payload => PathRoot::Payload,
            Root::Activity => PathRoot::Activity,
            Root::Failure => PathRoot::Failure,
        };
        for field in fields {
            steps.push(match &field.attribute_of {
                Some(of) => {
                    let o = self.object(of)?;
                    // A reference's `id` is the reference itself.
                    if field.name == "id" && self.layouts.objects[o as usize].slot("id").is_none() {
                        continue;
                    }
                    PathStep::Deref {
                        object: o,
                        slot: self.slot(o, &field.name)?,
                    }
                }
                None => PathStep::Field(field.name.clone(), field.ty.clone()),
            });
        }
        Ok(Node::Path(Box::new(Path { root, steps })))
    }
}

/// The name of the hidden binding that keeps a `for each`'s progress.
fn progress_binding(path: &str) -> String {
    format!("#each {path}")
}

fn zone(name: &str) -> R<Tz> {
    name.parse::<Tz>()
        .map_err(|_| format!("unknown time zone `{name}`"))
}

/// The record slots an expression reads directly.
fn reads_of(node: &Node, out: &mut Vec<u16>) {
    match node {
        Node::Slot(s) | Node::OldSlot(s) => out.push(*s),
        Node::Path(p) => {
            if let (PathRoot::Record, Some(PathStep::Attr(s))) = (p.root, p.steps.first()) {
                out.push(*s);
            }
        }
        Node::List(items) => items.iter().for_each(|n| reads_of(n, out)),
        Node::Map(entries) => entries.iter().for_each(|(_, n, _)| reads_of(n, out)),
        Node::Template(pieces) => pieces.iter().for_each(|p| {
            if let Piece::Hole(n, _) = p {
                reads_of(n, out)
            }
        }),
        Node::Call(_, args) => args.iter().for_each(|(n, _)| reads_of(n, out)),
        Node::Not(n) | Node::Neg(n) | Node::Test(_, n) => reads_of(n, out),
        Node::And(pair) | Node::Or(pair) | Node::Binary(_, pair) => {
            reads_of(&pair.0, out);
            reads_of(&pair.1, out);
        }
        _ => {}
    }
}

/// A conjunct `candidate.attr = value` (either way round) of a `find` filter whose
/// value does not read the candidate: the attribute's slot and the value.
fn lookup_of(filter: &Node) -> Option<(u16, Node)> {
    match filter {
        Node::And(pair) => lookup_of(&pair.0).or_else(|| lookup_of(&pair.1)),
        Node::Binary(BinaryOp::Eq, pair) => {
            let attr = |n: &Node| match n {
                Node::Path(path) => match (path.root, path.steps.as_slice()) {
                    (PathRoot::Candidate, [PathStep::Attr(slot)]) => Some(*slot),
                    _ => None,
                },
                _ => None,
            };
            match (attr(&pair.0), attr(&pair.1)) {
                (Some(slot), None) if !mentions_candidate(&pair.1) => Some((slot, pair.1.clone())),
                (None, Some(slot)) if !mentions_candidate(&pair.0) => Some((slot, pair.0.clone())),
                _ => None,
            }
        }
        _ => None,
    }
}

/// Whether evaluating `node` reads the record a `find` is testing.
fn mentions_candidate(node: &Node) -> bool {
    match node {
        Node::Path(path) => matches!(path.root, PathRoot::Candidate),
        Node::List(items) => items.iter().any(mentions_candidate),
        Node::Map(entries) => entries.iter().any(|(_, n, _)| mentions_candidate(n)),
        Node::Template(pieces) => pieces
            .iter()
            .any(|p| matches!(p, Piece::Hole(n, _) if mentions_candidate(n))),
        Node::Call(_, args) => args.iter().any(|(n, _)| mentions_candidate(n)),
        Node::Not(n) | Node::Neg(n) | Node::Test(_, n) => mentions_candidate(n),
        Node::InList { record, .. } => mentions_candidate(record),
        Node::And(pair) | Node::Or(pair) | Node::Binary(_, pair) => {
            mentions_candidate(&pair.0) || mentions_candidate(&pair.1)
        }
        Node::Const(_)
        | Node::Slot(_)
        | Node::OldSlot(_)
        | Node::RecordId
        | Node::EventId
        | Node::EventActor
        | Node::EventSource
        | Node::EventDuplicate
        | Node::EventAt
        | Node::Now
        | Node::Today
        | Node::Relative(_) => false,
    }
}

/// The `(object, slot)` of every attribute a `find` looks up, in any rule.
pub fn find_lookups(rules: &[Compiled]) -> Vec<(u16, u16)> {
    fn walk(ops: &[Op], out: &mut Vec<(u16, u16)>) {
        for op in ops {
            match &op.kind {
                OpKind::Find {
                    object,
                    lookup: Some((slot, _)),
                    ..
                } => out.push((*object, *slot)),
                OpKind::Branch {
                    arms, otherwise, ..
                } => {
                    for (_, steps) in arms {
                        walk(steps, out);
                    }
                    walk(otherwise, out);
                }
                OpKind::ForEach { body, .. } => walk(body, out),
                _ => {}
            }
        }
    }
    let mut out = Vec::new();
    for rule in rules {
        walk(&rule.steps, &mut out);
    }
    out.sort_unstable();
    out.dedup();
    out
}
