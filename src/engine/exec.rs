//! Running a rule's steps: effects through handlers, waits, branches, bindings.
//!
//! A run is a walk over the compiled steps from a position (`pc`); when it must wait,
//! the position after the waiting step is saved with everything the run needs, so
//! resuming after a restart is the same walk from the saved position.

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value as Json};

use super::compile::{Arg, ArgValue, Compiled, EffectKind, Op, OpKind};
use super::effect::{idempotency_key, slack_escape, Effect, EffectRecord, Handlers, Kept, Outcome};
use super::eval::{self, Node, Scope, World};
use super::event::Event;
use super::outbox::{EffectState, OutboxEntry};
use super::record::{Layouts, Record, Snapshot};
use super::run::{RunRecord, RunState, StepLog, StepStatus, Waiting};
use super::store::{Space, Store, StoreError};
use super::value::{display, to_json, Val};
use crate::ir::follow::Follow;
use crate::schema::Schema;

/// Secrets shorter than this are refused: scrubbing a two-letter value out of an error
/// message would mangle the message and hide nothing.
pub const MIN_SECRET_CHARS: usize = 8;

/// Resolves `secret("NAME")`.
pub type SecretFn = dyn Fn(&str) -> Option<String> + Send + Sync;

/// What evaluation and steps may touch: the store, the schema, secrets.
pub(super) struct Env<'a> {
    pub store: &'a mut dyn Store,
    pub layouts: &'a Layouts,
    pub schema: &'a Schema,
    pub secrets: &'a SecretFn,
    /// Why a value could not be used — a secret not set or too short, a text past
    /// [`eval::MAX_TEXT`] — noticed during evaluation; the step fails with it.
    pub refused: Option<String>,
    /// Secret values resolved in this run, scrubbed from error messages.
    pub revealed: Vec<String>,
    /// A store failure noticed during evaluation.
    pub failed: Option<StoreError>,
    /// Effects handed to the outbox, for the host to take.
    pub pending: &'a mut Vec<Effect>,
    /// Records a `find` read through the host ([`super::Builder::host_reads`]): the
    /// run reads them as the host returned them, ahead of the engine's snapshots.
    pub read: Vec<Found>,
}

/// A record the host read for a run's `find`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Found {
    /// Object index.
    pub object: u16,
    /// Its id.
    pub id: String,
    /// Its values by slot, as returned.
    pub values: Vec<Val>,
}

impl World for Env<'_> {
    fn lookup(&mut self, object: u16, id: &str) -> Option<Record> {
        if let Some(found) = self.read.iter().find(|f| f.object == object && f.id == id) {
            return Some(Record(found.values.clone()));
        }
        let layout = self.layouts.objects.get(object as usize)?;
        match self.store.record(&layout.object, id) {
            Ok(snapshot) => snapshot.map(|s| s.aligned(layout)),
            // The step sees an empty value; the run stops with the store's error.
            Err(e) => {
                self.failed.get_or_insert(e);
                None
            }
        }
    }

    fn member(&mut self, list: &str, id: &str) -> bool {
        match self
            .store
            .get(Space::Flags, &super::intake::membership(list, id))
        {
            Ok(found) => found.is_some_and(|f| f["in"] == Json::Bool(true)),
            Err(e) => {
                self.failed.get_or_insert(e);
                false
            }
        }
    }

    fn secret(&mut self, name: &str) -> Option<String> {
        let value = (self.secrets)(name);
        let problem = match &value {
            Some(v) if v.chars().count() < MIN_SECRET_CHARS => format!(
                "`secret(\"{name}\")` is too short to be kept out of logs: secrets need at \
                 least {MIN_SECRET_CHARS} characters"
            ),
            Some(v) => {
                self.revealed.push(v.clone());
                return value;
            }
            None => format!("`secret(\"{name}\")` is not set"),
        };
        self.refused.get_or_insert(problem);
        None
    }

    fn refuse(&mut self, message: String) {
        self.refused.get_or_insert(message);
    }

    fn too_long(&mut self) {
        self.refused.get_or_insert(format!(
            "the text would be over {} MiB; a message, note or request that large is refused",
            eval::MAX_TEXT >> 20
        ));
    }

    fn derived(&mut self, text: &str) {
        // Shorter text could not be scrubbed without mangling messages (as for secrets
        // themselves); run records still show it as `***`.
        if text.chars().count() >= MIN_SECRET_CHARS && !self.revealed.iter().any(|r| r == text) {
            self.revealed.push(text.to_string());
        }
    }

    fn round_robin(&mut self, team: &str) -> Val {
        let Some(members) = self.schema.team(team).map(|t| t.members.clone()) else {
            return Val::Empty;
        };
        if members.is_empty() {
            return Val::Empty;
        }
        let cursor = match self.store.get(Space::Cursors, team) {
            Ok(v) => v.and_then(|v| v.as_u64()).unwrap_or(0),
            Err(e) => {
                self.failed = Some(e);
                0
            }
        };
        if let Err(e) = self.store.put(Space::Cursors, team, json!(cursor + 1)) {
            self.failed = Some(e);
        }
        Val::text(&members[(cursor % members.len() as u64) as usize])
    }
}

/// The run's scope, built from fields so `env` stays free to borrow mutably.
macro_rules! scope {
    ($exec:expr) => {
        Scope {
            record: $exec.record.as_ref(),
            record_id: $exec.run.record.as_deref(),
            old: $exec.old.as_ref(),
            event: $exec.event,
            failure: $exec.failure.as_ref(),
            candidate: None,
            bindings: &$exec.bindings,
            now: $exec.now.into(),
            zone: $exec.rule.zone,
        }
    };
}

/// Arguments as the handler gets them, as records show them, and the values of
/// record fields.
type Evaluated = (Map<String, Json>, Map<String, Json>, Vec<(String, Val)>);

/// How a walk over steps ended.
pub(super) enum Flow {
    /// Fell off the end.
    Next,
    /// `stop`.
    Stop,
    /// `skip`.
    Skip(Option<String>),
    /// Must wait; the run's state says for what.
    Suspend(Waiting),
    /// A step failed.
    Fail(String),
}

/// A step's effect on its way to a handler or the outbox: what its answer needs.
struct Step<'s> {
    op: &'s Op,
    kind: &'s EffectKind,
    binding: Option<u16>,
    explicit_key: bool,
    /// The step's index in the run's log.
    log: usize,
    shown: Map<String, Json>,
    fields: Vec<(String, Val)>,
    started: Instant,
}

/// What a handler's answer leads to.
enum Answered {
    /// The walk goes on (or ends, or waits) like this.
    Flow(Flow),
    /// Try again (after this many seconds, if the target said); the error, scrubbed.
    Retry(Option<u64>, String),
}

/// A write to a record a step named, for its follow-on update event.
pub(super) struct OtherWrite {
    object: u16,
    id: String,
    slot: u16,
    /// The value before the run's first write to it.
    before: Val,
    /// The value the run's last write to it left.
    after: Val,
    /// Whether the engine knew the record (a snapshot, or the host's read of it).
    known: bool,
    /// The step that first wrote the record: the event's id is the run's and its.
    step: String,
}

/// An attribute of a record a step names.
struct Place {
    object: u16,
    id: String,
    slot: u16,
}

/// One run in progress.
pub(super) struct Exec<'a> {
    pub env: Env<'a>,
    pub handlers: &'a Handlers,
    pub rule: &'a Compiled,
    pub now: DateTime<Utc>,
    pub event: Option<&'a Event>,
    pub failure: Option<Json>,
    pub record: Option<Record>,
    pub old: Option<Record>,
    pub bindings: Vec<Val>,
    pub run: RunRecord,
    /// Attribute writes to the run's record: slot and value before the first write.
    pub writes: Vec<(u16, Val)>,
    /// Attribute writes to the records steps named, each with its value before the
    /// run's first write to it.
    pub other_writes: Vec<OtherWrite>,
    /// Events the run's effects cause (records created, notes, tasks, list entries),
    /// in step order; `true` marks the event of an effect found already done,
    /// delivered again: rules that ran on it see a duplicate not worth reporting.
    pub follow: Vec<(Json, bool)>,
    pub chain: Vec<String>,
    pub occurrence: Option<DateTime<Utc>>,
    /// The position after the step being run, saved when the run waits.
    next_pc: Vec<u32>,
    /// A recipient argument of the step being run that came out empty.
    empty_recipient: Option<String>,
    /// Effects go to the outbox instead of the handlers.
    pub outbox: bool,
    /// `find` asks the host ([`super::Builder::host_reads`]).
    pub host_reads: bool,
    /// Through the outbox, a failure that may pass is retried and parked after this
    /// many attempts ([`super::Builder::park_after`]).
    pub park_after: Option<u32>,
    /// A schedule's scan run: it walks the rule's scan step, not its steps.
    pub scan: bool,
    /// What a scan run's answer found: the records to start runs on.
    /// The run waits on an `ask … replace`: older open questions of its rule about
    /// its record end.
    pub replacing: bool,
    pub scanned: Vec<(String, Record)>,
    /// The items of the `for each` loops the walk is in, outermost first, as keys
    /// name them.
    iteration: Vec<String>,
    /// The host's answer to the outbox effect this run waits for.
    pub completion: Option<(String, Outcome)>,
    /// Runs that waited for the same outbox effect as this one, once it is answered.
    pub waiters: Vec<String>,
}

impl<'a> Exec<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        env: Env<'a>,
        handlers: &'a Handlers,
        rule: &'a Compiled,
        now: DateTime<Utc>,
        event: Option<&'a Event>,
        run: RunRecord,
    ) -> Exec<'a> {
        let mut env = env;
        // What the event brought along is read as a `find`'s records are.
        if let Some(event) = event.filter(|e| !e.related.is_empty()) {
            env.read = event.related.clone();
        }
        Exec {
            env,
            handlers,
            rule,
            now,
            event,
            failure: None,
            record: None,
            old: None,
            bindings: vec![Val::Empty; rule.bindings.len()],
            run,
            writes: Vec::new(),
            other_writes: Vec::new(),
            follow: Vec::new(),
            chain: Vec::new(),
            occurrence: None,
            next_pc: Vec::new(),
            empty_recipient: None,
            outbox: false,
            host_reads: false,
            park_after: None,
            scan: false,
            scanned: Vec::new(),
            replacing: false,
            iteration: Vec::new(),
            completion: None,
            waiters: Vec::new(),
        }
    }

    /// Evaluates in the run's scope.
    pub fn eval(&mut self, node: &Node) -> Val {
        let scope = scope!(self);
        eval::eval(node, &scope, &mut self.env)
    }

    /// The durable form of this run, to go on at `pc`.
    pub fn state(&self, pc: Vec<u32>, waiting: Waiting) -> RunState {
        RunState {
            record: self.run.clone(),
            event: self.event.map(|e| e.raw.json()),
            failure: self.failure.clone(),
            bindings: self.bindings.clone(),
            pc,
            seen: matches!(waiting, Waiting::Effect { .. })
                .then(|| {
                    self.record
                        .as_ref()
                        .map(|r| (r.0.clone(), self.old.as_ref().map(|o| o.0.clone())))
                })
                .flatten(),
            waiting,
            chain: self.chain.clone(),
            occurrence: self.occurrence,
            read: self.env.read.clone(),
            scan: self.scan,
        }
    }

    /// Runs from `pc` (empty: the start) to the end or a wait.
    pub fn walk(&mut self, pc: &[u32]) -> Result<(Flow, Vec<u32>), StoreError> {
        let steps = match (&self.rule.scan, self.scan) {
            (Some(scan), true) => std::slice::from_ref(scan),
            _ => &self.rule.steps,
        };
        let mut position = Vec::new();
        let flow = self.block(steps, pc, &mut position)?;
        Ok((flow, std::mem::take(&mut self.next_pc)))
    }

    fn block(
        &mut self,
        ops: &'a [Op],
        start: &[u32],
        position: &mut Vec<u32>,
    ) -> Result<Flow, StoreError> {
        let (mut i, mut inner) = match start.split_first() {
            Some((i, rest)) => (*i as usize, rest),
            None => (0, &[][..]),
        };
        while i < ops.len() {
            position.push(i as u32);
            let flow = match (inner.split_first(), &ops[i].kind) {
                (
                    Some((arm, rest)),
                    OpKind::Branch {
                        arms, otherwise, ..
                    },
                ) => {
                    let body = arms.get(*arm as usize).map(|(_, b)| b).unwrap_or(otherwise);
                    position.push(*arm);
                    let flow = self.block(body, rest, position)?;
                    position.pop();
                    flow
                }
                (
                    Some((item, rest)),
                    OpKind::ForEach {
                        binding,
                        progress,
                        list,
                        body,
                    },
                ) => self.each((*binding, *progress), list, body, (*item, rest), position)?,
                _ => self.op(&ops[i], position)?,
            };
            inner = &[];
            position.pop();
            match flow {
                Flow::Next => i += 1,
                other => return Ok(other),
            }
        }
        Ok(Flow::Next)
    }

    /// The items a `for each` walks: a list's, or one value on its own.
    fn items(&mut self, list: &Node) -> Vec<Val> {
        match self.eval(list) {
            Val::List(items) => items.to_vec(),
            Val::Empty => Vec::new(),
            one => vec![one],
        }
    }

    /// Walks a `for each` body once per item. Each item's effects are keyed by the item
    /// itself, so a redelivered event — or a list found again in another order after
    /// a crash — acts on no item twice. `progress` (a hidden binding, kept with the
    /// run) holds the items done and the one in progress: a run that resumes inside
    /// the body (after a `wait`) finishes the item that waited, then every item of the
    /// list as it is now that is not done, whatever order it is in now.
    fn each(
        &mut self,
        (binding, progress): (u16, u16),
        list: &Node,
        body: &'a [Op],
        from: (u32, &[u32]),
        position: &mut Vec<u32>,
    ) -> Result<Flow, StoreError> {
        let resuming = !from.1.is_empty();
        let (mut done, current) = match (&self.bindings[progress as usize], resuming) {
            (Val::Json(state), true) => (
                state["done"]
                    .as_array()
                    .map(|d| {
                        d.iter()
                            .filter_map(|k| k.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                state["current"].as_str().map(str::to_string),
            ),
            _ => (Vec::new(), None),
        };
        if let Some(key) = current {
            self.iteration.push(key.clone());
            position.push(from.0);
            let flow = self.block(body, from.1, position);
            position.pop();
            self.iteration.pop();
            match flow? {
                Flow::Next => done.push(key),
                other => return Ok(other),
            }
        }
        let items = self.items(list);
        for (n, item) in items.iter().enumerate() {
            let mut key = String::new();
            display(item, &crate::schema::Type::Text, &mut key);
            // The same value again in the list gets its own key, by how often it came.
            let repeat = items[..n].iter().filter(|v| *v == item).count();
            if repeat > 0 {
                key.push_str(&format!("#{repeat}"));
            }
            if done.contains(&key) {
                continue;
            }
            self.bindings[binding as usize] = item.clone();
            self.bindings[progress as usize] =
                Val::Json(Arc::new(json!({ "done": done, "current": key })));
            self.iteration.push(key.clone());
            position.push(n as u32);
            let flow = self.block(body, &[], position);
            position.pop();
            self.iteration.pop();
            match flow? {
                Flow::Next => done.push(key),
                other => return Ok(other),
            }
        }
        self.bindings[progress as usize] = Val::Json(Arc::new(json!({ "done": done })));
        Ok(Flow::Next)
    }

    /// Where a step is in its rule for keys and follow-on event ids: its path, and
    /// inside `for each` the item it runs for.
    fn step_id(&self, op: &Op) -> String {
        if self.iteration.is_empty() {
            return op.path.clone();
        }
        format!("{}[{}]", op.path, self.iteration.join("]["))
    }

    fn log(&mut self, op: &Op, action: &str, status: StepStatus, started: Instant) -> usize {
        self.run.steps.push(StepLog {
            path: op.path.clone(),
            line: op.location.line,
            column: op.location.column,
            action: action.to_string(),
            status,
            input: None,
            output: None,
            error: None,
            attempts: 0,
            duration_us: started.elapsed().as_micros() as u64,
        });
        self.run.steps.len() - 1
    }

    fn set_next(&mut self, position: &[u32]) {
        let mut next = position.to_vec();
        if let Some(last) = next.last_mut() {
            *last += 1;
        }
        self.next_pc = next;
    }

    fn op(&mut self, op: &'a Op, position: &mut Vec<u32>) -> Result<Flow, StoreError> {
        let started = Instant::now();
        self.set_next(position);
        let flow = match &op.kind {
            OpKind::Effect {
                action,
                kind,
                args,
                key,
                binding,
            } => self.effect(op, action, kind, args, key.as_ref(), *binding, started)?,
            OpKind::Set {
                slot,
                value,
                if_empty,
            } => self.set(op, *slot, value.as_ref(), *if_empty, started)?,
            OpKind::Scan { request, kind } => {
                self.effect(op, "scan", kind, request, None, None, started)?
            }
            OpKind::Find {
                request,
                kind,
                binding,
                ..
            } if self.host_reads => {
                self.effect(op, "find", kind, request, None, Some(*binding), started)?
            }
            OpKind::Find {
                object,
                filter,
                binding,
                lookup,
                all,
                ..
            } => {
                let layout = &self.env.layouts.objects[*object as usize];
                // The first match in id order, as a walk over every record finds it;
                // the index narrows that walk to the records it can be.
                let keys = lookup
                    .as_ref()
                    .map(|(slot, value)| (*slot, super::store::index_keys(&self.eval(value))))
                    .filter(|(_, keys)| !keys.is_empty());
                let records = match keys {
                    Some((slot, keys)) => {
                        let attribute = layout.names[slot as usize].as_ref();
                        let mut ids = Vec::new();
                        for key in &keys {
                            ids.extend(self.env.store.find(&layout.object, attribute, key)?);
                        }
                        ids.sort();
                        ids.dedup();
                        let mut records = Vec::with_capacity(ids.len());
                        for id in ids {
                            if let Some(snapshot) = self.env.store.record(&layout.object, &id)? {
                                records.push((id, snapshot));
                            }
                        }
                        records
                    }
                    None => self.env.store.records(&layout.object)?,
                };
                let wanted = all.map_or(1, |limit| limit as usize);
                let mut ids: Vec<Val> = Vec::new();
                for (id, snapshot) in records {
                    if ids.len() >= wanted {
                        break;
                    }
                    let candidate = snapshot.aligned(layout);
                    let mut scope = scope!(self);
                    scope.candidate = Some(&candidate);
                    if eval::holds(filter, &scope, &mut self.env) {
                        ids.push(Val::text(&id));
                    }
                }
                let i = self.log(op, "find", StepStatus::Done, started);
                let text = crate::schema::Type::Text;
                let found = match all {
                    Some(_) => {
                        let shown: Vec<Json> =
                            ids.iter().map(|v| to_json(v, &text, false)).collect();
                        self.run.steps[i].output = Some(json!({ "ids": shown }));
                        Val::List(ids.into())
                    }
                    None => {
                        let found = ids.pop().unwrap_or(Val::Empty);
                        self.run.steps[i].output =
                            Some(json!({ "id": to_json(&found, &text, false) }));
                        found
                    }
                };
                self.bindings[*binding as usize] = found;
                Flow::Next
            }
            OpKind::Wait { value, until } => {
                let v = self.eval(value);
                let at = if *until {
                    match &v {
                        // A date is its midnight where the rule reads dates (the
                        // workspace's zone), not midnight UTC.
                        Val::Date(d) => Some(super::schedule::instant(
                            self.rule.zone,
                            d.and_time(chrono::NaiveTime::MIN),
                        )),
                        _ => v.as_time(),
                    }
                } else {
                    match v {
                        Val::Duration(d) => super::value::shift(self.now, d),
                        _ => None,
                    }
                };
                match at {
                    Some(at) if at > self.now => {
                        let i = self.log(op, "wait", StepStatus::Waiting, started);
                        self.run.steps[i].output = Some(json!({ "until": at }));
                        Flow::Suspend(Waiting::Time { until: at })
                    }
                    // A time already past (or empty) does not hold the run up.
                    _ => {
                        self.log(op, "wait", StepStatus::Done, started);
                        Flow::Next
                    }
                }
            }
            OpKind::Ask {
                args,
                timeout,
                replace,
                binding,
            } => {
                self.replacing = *replace;
                let timeout = timeout.as_ref().and_then(|t| match self.eval(t) {
                    Val::Duration(d) => super::value::shift(self.now, d),
                    _ => None,
                });
                let flow = self.effect(
                    op,
                    "ask",
                    &EffectKind::Custom,
                    args,
                    None,
                    Some(*binding),
                    started,
                )?;
                match flow {
                    Flow::Suspend(Waiting::Answer {
                        key, binding, log, ..
                    }) => Flow::Suspend(Waiting::Answer {
                        key,
                        binding,
                        timeout,
                        log,
                    }),
                    other => other,
                }
            }
            OpKind::Branch {
                arms,
                otherwise,
                word,
            } => {
                let mut chosen = arms.len();
                for (n, (guard, _)) in arms.iter().enumerate() {
                    let scope = scope!(self);
                    if eval::holds(guard, &scope, &mut self.env) {
                        chosen = n;
                        break;
                    }
                }
                let i = self.log(op, word, StepStatus::Branched, started);
                self.run.steps[i].output = Some(if chosen < arms.len() {
                    json!({ "arm": chosen })
                } else {
                    json!({ "arm": "else" })
                });
                let body = arms.get(chosen).map(|(_, b)| b).unwrap_or(otherwise);
                position.push(chosen as u32);
                let flow = self.block(body, &[], position)?;
                position.pop();
                flow
            }
            OpKind::ForEach {
                binding,
                progress,
                list,
                body,
            } => {
                let i = self.log(op, "for each", StepStatus::Branched, started);
                let items = self.items(list);
                self.run.steps[i].output = Some(json!({ "items": items.len() }));
                self.each((*binding, *progress), list, body, (0, &[]), position)?
            }
            OpKind::Stop => {
                self.log(op, "stop", StepStatus::Stopped, started);
                Flow::Stop
            }
            OpKind::Skip(reason) => {
                self.log(op, "skip", StepStatus::Skipped, started);
                Flow::Skip(reason.clone())
            }
        };
        if let Some(e) = self.env.failed.take() {
            return Err(e);
        }
        Ok(flow)
    }

    /// Evaluates arguments: what the handler gets, what records show, and the values
    /// of record fields (for the engine's own snapshot of a created record).
    fn args(&mut self, args: &[Arg]) -> Evaluated {
        let mut real = Map::new();
        let mut shown = Map::new();
        let mut fields = Vec::new();
        for arg in args {
            match &arg.value {
                ArgValue::Const(c) => {
                    real.insert(arg.name.to_string(), c.clone());
                    shown.insert(arg.name.to_string(), c.clone());
                }
                ArgValue::Expr(node, ty, escape) => {
                    let v = match (escape, node) {
                        (Some(escape), Node::Template(pieces)) => {
                            let scope = scope!(self);
                            eval::template(pieces, &scope, &mut self.env, Some(*escape))
                        }
                        (Some(_), Node::Const(_)) | (None, _) => self.eval(node),
                        (Some(escape), _) => {
                            let v = self.eval(node);
                            // Escaping would turn it into plain text, and show it.
                            if v.holds_secret() {
                                real.insert(arg.name.to_string(), to_json(&v, ty, true));
                                shown.insert(arg.name.to_string(), to_json(&v, ty, false));
                                continue;
                            }
                            let mut text = String::new();
                            display(&v, ty, &mut text);
                            let mut escaped = String::new();
                            escape(&text, &mut escaped);
                            Val::Text(Arc::from(escaped))
                        }
                    };
                    real.insert(arg.name.to_string(), to_json(&v, ty, true));
                    shown.insert(arg.name.to_string(), to_json(&v, ty, false));
                }
                ArgValue::Recipient(node, ty, what) => {
                    let v = self.eval(node);
                    if v.is_empty() && self.empty_recipient.is_none() {
                        self.empty_recipient = Some(what.clone());
                    }
                    real.insert(arg.name.to_string(), to_json(&v, ty, true));
                    shown.insert(arg.name.to_string(), to_json(&v, ty, false));
                }
                ArgValue::Fields(entries) => {
                    let mut r = Map::new();
                    let mut s = Map::new();
                    for (name, node, ty) in entries {
                        let v = self.eval(node);
                        r.insert(name.clone(), to_json(&v, ty, true));
                        s.insert(name.clone(), to_json(&v, ty, false));
                        fields.push((name.clone(), v));
                    }
                    if arg.name.is_empty() {
                        real.extend(r);
                        shown.extend(s);
                    } else {
                        real.insert(arg.name.to_string(), Json::Object(r));
                        shown.insert(arg.name.to_string(), Json::Object(s));
                    }
                }
            }
        }
        (real, shown, fields)
    }

    /// The record `op` names, when it is not the run's own: its object and id. An
    /// empty one is the step's failure, named as written (`company`).
    fn acted_on(&mut self, op: &Op) -> Result<Option<(u16, String)>, String> {
        let Some(target) = &op.target else {
            return Ok(None);
        };
        let id = match self.eval(&target.record) {
            Val::Text(id) if !id.is_empty() => id.to_string(),
            _ => {
                return Err(format!(
                    "`{}` is empty: there is no record to act on",
                    target.shown
                ))
            }
        };
        let own = self.rule.object == Some(target.object)
            && self.run.record.as_deref() == Some(id.as_str());
        Ok((!own).then_some((target.object, id)))
    }

    fn record_ref(&self) -> Option<(String, String)> {
        Some((self.run.object.clone()?, self.run.record.clone()?))
    }

    /// Removes every secret value from a handler's message.
    fn scrub(&self, message: &str) -> String {
        let mut out = message.to_string();
        // Longest first: `lower(secret) + "-x"` must go whole, not leave `***-x`.
        let mut revealed: Vec<&String> = self.env.revealed.iter().collect();
        revealed.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for secret in revealed {
            if !secret.is_empty() {
                out = out.replace(secret.as_str(), "***");
            }
        }
        out
    }

    /// Why an `http` step may not call its URL, when the program has an allow-list:
    /// judged on the URL as rendered, since a `{{ }}` hole may have put any host there.
    fn host_refused(&self, kind: &EffectKind, args: &Map<String, Json>) -> Option<String> {
        use crate::ir::http::{allowed, http_host};
        let allow = self
            .rule
            .http_allow
            .as_deref()
            .filter(|_| *kind == EffectKind::Http)?;
        let url = args.get("url").and_then(Json::as_str).unwrap_or_default();
        let problem = match http_host(url) {
            Some(host) if allowed(&host, allow) => return None,
            Some(host) if host.is_empty() => "the URL has no host, so it is not".to_string(),
            Some(host) => format!("`{host}` is not"),
            None => "the URL is not an http(s) URL, so its host is not".to_string(),
        };
        let listed = if allow.is_empty() {
            "it is empty".to_string()
        } else {
            allow.join(", ")
        };
        Some(self.scrub(&format!(
            "{problem} in the `[http] allow` list of rulec.toml ({listed}); the request was not sent"
        )))
    }

    fn key(&mut self, op: &Op, key: Option<&Node>, action: &str) -> String {
        let rule = &self.rule.ir;
        match key {
            Some(node) => {
                let v = self.eval(node);
                let mut text = String::new();
                display(&v, &crate::schema::Type::Text, &mut text);
                idempotency_key(&rule.id, "key", action, &text, 0)
            }
            None => {
                let step = self.step_id(op);
                idempotency_key(&rule.id, &rule.version, &self.run.event, &step, 0)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn effect(
        &mut self,
        op: &Op,
        action: &str,
        kind: &EffectKind,
        args: &[Arg],
        key: Option<&Node>,
        binding: Option<u16>,
        started: Instant,
    ) -> Result<Flow, StoreError> {
        let (mut real, mut shown, fields) = self.args(args);
        let acted_on = self.acted_on(op);
        // A value the store could not read would go out empty: stop before the handler.
        if let Some(e) = self.env.failed.take() {
            return Err(e);
        }
        let record = match acted_on {
            Ok(Some((object, id))) => {
                let object = self.env.layouts.objects[object as usize].object.to_string();
                Some((object, id))
            }
            Ok(None) => self.record_ref(),
            Err(message) => {
                let i = self.log(op, action, StepStatus::Failed, started);
                self.run.steps[i].input = Some(Json::Object(shown));
                self.run.steps[i].error = Some(message.clone());
                return Ok(self.failed_step(op, i, message));
            }
        };
        // The run record shows which record a step named (the host has it as
        // `Effect::record`).
        if let (Some(_), Some((object, id))) = (&op.target, &record) {
            shown
                .entry("record")
                .or_insert_with(|| json!({ "object": object, "id": id }));
        }
        if let Some(message) = self.env.refused.take() {
            let i = self.log(op, action, StepStatus::Failed, started);
            self.run.steps[i].error = Some(message.clone());
            return Ok(self.failed_step(op, i, message));
        }
        if let Some(what) = self.empty_recipient.take() {
            let i = self.log(op, action, StepStatus::Failed, started);
            self.run.steps[i].input = Some(Json::Object(shown));
            let message = format!("`{what}` is empty: there is no one to send this to");
            self.run.steps[i].error = Some(message.clone());
            return Ok(self.failed_step(op, i, message));
        }
        if let Some(message) = self.host_refused(kind, &real) {
            let i = self.log(op, action, StepStatus::Failed, started);
            self.run.steps[i].input = Some(Json::Object(shown));
            self.run.steps[i].error = Some(message.clone());
            return Ok(self.failed_step(op, i, message));
        }
        if *kind == EffectKind::Email {
            // A line break in a subject would start a header of its own (header
            // injection): a subject is one line.
            for args in [&mut real, &mut shown] {
                if let Some(Json::String(subject)) = args.get_mut("subject") {
                    if subject.contains(['\r', '\n']) {
                        *subject = subject.replace("\r\n", " ").replace(['\r', '\n'], " ");
                    }
                }
            }
        }
        if *kind == EffectKind::Slack && !real.contains_key("text") {
            let text = self.default_message();
            real.insert("text".into(), Json::String(text.clone()));
            shown.insert("text".into(), Json::String(text));
        }
        if let (EffectKind::Upsert { object, by }, Some(Json::Object(f))) =
            (kind, real.get("fields"))
        {
            if let Some(id) = self.find_unique(*object, *by, f)? {
                real.insert("id".into(), Json::String(id.clone()));
                shown.insert("id".into(), Json::String(id));
            }
        }
        // An empty `key` would make every empty case one effect: the second deal with
        // no company would never get its message.
        if let Some(node) = key {
            if self.eval(node).is_empty() {
                let i = self.log(op, action, StepStatus::Failed, started);
                self.run.steps[i].input = Some(Json::Object(shown));
                let message = "its `key` is empty: nothing would tell this effect from another with an empty key; key it on something always set, or test it first".to_string();
                self.run.steps[i].error = Some(message.clone());
                return Ok(self.failed_step(op, i, message));
            }
        }
        let explicit_key = key;
        let key = self.key(op, key, action);
        let i = self.log(op, action, StepStatus::Done, started);
        self.run.steps[i].input = Some(Json::Object(shown.clone()));

        if let Some(kept) = self.env.store.get(Space::Effects, &key)? {
            if self.outbox {
                // Answered, then cut off by a crash before the entry's removal was
                // committed (the answer itself is journaled): the entry is done with.
                self.env.store.remove(Space::Outbox, &key)?;
            }
            return self.replay(kind, key, binding, i, Kept::from_json(kept));
        }
        let mut effect = Effect {
            action: action.to_string(),
            args: real,
            key,
            rule: self.rule.ir.id.clone(),
            version: self.rule.ir.version.clone(),
            run: self.run.run.clone(),
            step: op.path.clone(),
            record,
            attempt: 0,
            queued: None,
        };
        let step = Step {
            op,
            kind,
            binding,
            explicit_key: explicit_key.is_some(),
            log: i,
            shown,
            fields,
            started,
        };
        if self.outbox {
            return self.through_outbox(step, effect);
        }
        loop {
            effect.attempt += 1;
            let outcome = self.handlers.call(&effect);
            match self.answered(&step, &effect, outcome)? {
                Answered::Flow(flow) => return Ok(flow),
                Answered::Retry(..) => continue,
            }
        }
    }

    /// Goes on after the answer to attempt `effect.attempt` of a step's effect.
    fn answered(
        &mut self,
        step: &Step,
        effect: &Effect,
        outcome: Outcome,
    ) -> Result<Answered, StoreError> {
        let i = step.log;
        let key = &effect.key;
        self.run.steps[i].attempts = effect.attempt;
        self.run.steps[i].duration_us = step.started.elapsed().as_micros() as u64;
        match outcome {
            Outcome::Done(output) => {
                let output = match step.kind {
                    EffectKind::Find { .. } | EffectKind::Scan { .. } => {
                        match self.read_answer(step.op, step.kind, &output) {
                            Ok(kept) => kept,
                            Err(message) => {
                                self.run.steps[i].error = Some(message.clone());
                                self.run.steps[i].status = StepStatus::Failed;
                                return Ok(Answered::Flow(self.failed_step(step.op, i, message)));
                            }
                        }
                    }
                    _ => output,
                };
                if let EffectKind::Scan { .. } = step.kind {
                    self.scanned = scanned(&output);
                }
                let (output, follow) = self.consequences(
                    step.op.follow,
                    step.kind,
                    key,
                    effect,
                    &step.fields,
                    output,
                )?;
                // Kept before anything else: from here a crash must not make the
                // effect happen again, and its follow-up must survive with it.
                let kept = Kept::Done {
                    output: output.clone(),
                    follow: follow.clone(),
                    at: (!step.explicit_key).then(|| self.now.timestamp()),
                };
                self.env.store.effect_done(key, &kept.to_json())?;
                self.run.effects.push(EffectRecord {
                    action: effect.action.clone(),
                    args: step.shown.clone(),
                    key: key.clone(),
                });
                self.show_output(step.kind, i, &output);
                if let Some(b) = step.binding {
                    self.bindings[b as usize] = self.bound(step.kind, &output);
                }
                if let Some(event) = follow {
                    self.write_back(step.kind, &event)?;
                    self.follow.push((event, false));
                }
                Ok(Answered::Flow(Flow::Next))
            }
            Outcome::Defer => {
                // The request is out (an approval asked): a run derived again
                // after a crash waits for its answer instead of asking twice.
                self.env.store.effect_done(key, &Kept::Deferred.to_json())?;
                self.run.steps[i].status = StepStatus::Waiting;
                Ok(Answered::Flow(Flow::Suspend(Waiting::Answer {
                    key: key.clone(),
                    binding: step.binding,
                    timeout: None,
                    log: i,
                })))
            }
            Outcome::Error {
                message,
                retryable,
                retry_after,
            } => {
                // Through the outbox with parking on, a failure that may pass is tried
                // again until it parks, whatever the step's `retry`.
                let parks = self.outbox && self.park_after.is_some();
                if retryable && (effect.attempt <= step.op.retry || parks) {
                    return Ok(Answered::Retry(retry_after, self.scrub(&message)));
                }
                let message = self.scrub(&message);
                self.run.steps[i].error = Some(message.clone());
                if step.op.continue_on_error {
                    self.run.steps[i].status = StepStatus::Continued;
                    return Ok(Answered::Flow(Flow::Next));
                }
                self.run.steps[i].status = StepStatus::Failed;
                Ok(Answered::Flow(self.failed_step(step.op, i, message)))
            }
        }
    }

    /// The outbox's side of a step's effect: the host's answer if this walk carries
    /// it; otherwise the run parks on the key, and the effect is handed to the host
    /// unless it already has it or a retry is not yet due.
    fn through_outbox(&mut self, step: Step, mut effect: Effect) -> Result<Flow, StoreError> {
        let key = effect.key.clone();
        let entry = OutboxEntry::load(&*self.env.store, &key)?;
        effect.attempt = entry.as_ref().map_or(1, |e| e.attempt);
        effect.queued = Some(entry.as_ref().map_or(self.now, |e| e.queued));
        let answer = match self.completion.take() {
            Some((id, outcome)) if id == key => Some(outcome),
            other => {
                self.completion = other;
                None
            }
        };
        if let Some(outcome) = answer {
            let mut entry = entry;
            match self.answered(&step, &effect, outcome)? {
                Answered::Flow(flow) => {
                    self.env.store.remove(Space::Outbox, &key)?;
                    self.waiters = entry.map(|e| e.also).unwrap_or_default();
                    return Ok(flow);
                }
                Answered::Retry(retry_after, message) => {
                    let attempts = self.park_after.unwrap_or(u32::MAX).max(step.op.retry + 1);
                    if effect.attempt >= attempts {
                        // Parked: kept with its last error for an operator to retry or
                        // drop; never dropped in silence, never blocking other runs.
                        self.run.steps[step.log].error = Some(message.clone());
                        if let Some(entry) = &mut entry {
                            entry.state = EffectState::Parked;
                            entry.due = None;
                            entry.error = Some(message);
                            entry.save(self.env.store, &key)?;
                        }
                        return Ok(self.park_on_effect(&step, key, None));
                    }
                    let wait = super::outbox::backoff(&key, effect.attempt, retry_after);
                    let due =
                        super::value::shift(self.now, i64::try_from(wait).unwrap_or(i64::MAX))
                            .unwrap_or(DateTime::<Utc>::MAX_UTC);
                    if let Some(entry) = &mut entry {
                        entry.attempt = effect.attempt + 1;
                        entry.state = EffectState::Retrying;
                        entry.due = Some(due);
                        entry.error = Some(message);
                        entry.save(self.env.store, &key)?;
                    }
                    return Ok(self.park_on_effect(&step, key, Some(due)));
                }
            }
        }
        match entry {
            None => {
                let entry = OutboxEntry {
                    run: effect.run.clone(),
                    rule: effect.rule.clone(),
                    version: effect.version.clone(),
                    step: effect.step.clone(),
                    action: effect.action.clone(),
                    attempt: 1,
                    state: EffectState::Pending,
                    due: None,
                    input: Json::Object(step.shown.clone()),
                    error: None,
                    also: Vec::new(),
                    queued: self.now,
                };
                entry.save(self.env.store, &key)?;
                self.env.pending.push(effect);
                Ok(self.park_on_effect(&step, key, None))
            }
            // Another run reached a shared `key` first: this one waits for its answer.
            Some(mut entry) if entry.run != effect.run => {
                if !entry.also.contains(&effect.run) {
                    entry.also.push(effect.run.clone());
                    entry.save(self.env.store, &key)?;
                }
                Ok(self.park_on_effect(&step, key, None))
            }
            Some(entry) if entry.due.is_some_and(|due| due > self.now) => {
                Ok(self.park_on_effect(&step, key, entry.due))
            }
            // A retry that is due, or an effect derived again after a restart.
            Some(mut entry) => {
                if entry.state == EffectState::Retrying {
                    entry.state = EffectState::Pending;
                    entry.due = None;
                    entry.save(self.env.store, &key)?;
                }
                self.env.pending.push(effect);
                Ok(self.park_on_effect(&step, key, None))
            }
        }
    }

    /// Parks the run at the effect's own step, to run it again with the answer.
    fn park_on_effect(&mut self, step: &Step, key: String, due: Option<DateTime<Utc>>) -> Flow {
        self.run.steps[step.log].status = StepStatus::Waiting;
        if let Some(last) = self.next_pc.last_mut() {
            *last = last.saturating_sub(1);
        }
        Flow::Suspend(Waiting::Effect {
            key,
            binding: step.binding,
            due,
            log: step.log,
        })
    }

    pub(super) fn failed_step(&mut self, op: &Op, log: usize, message: String) -> Flow {
        if op.continue_on_error {
            self.run.steps[log].status = StepStatus::Continued;
            return Flow::Next;
        }
        Flow::Fail(format!(
            "step {} (line {}): {}",
            self.run.steps[log].action, op.location.line, message
        ))
    }

    /// The step's output as its run record shows it: a host's `find` shows the id it
    /// bound, as a `find` over the store does, not the record read.
    fn show_output(&mut self, kind: &EffectKind, log: usize, output: &Json) {
        let shown = match kind {
            EffectKind::Find { .. } if output.get("found").is_some() => {
                let ids: Vec<Json> = output["found"]
                    .as_array()
                    .map(|f| f.iter().map(|r| r["id"].clone()).collect())
                    .unwrap_or_default();
                json!({ "ids": ids })
            }
            EffectKind::Find { .. } => {
                json!({ "id": output.get("id").cloned().unwrap_or(Json::Null) })
            }
            EffectKind::Scan { .. } => {
                let n = output["records"].as_array().map_or(0, Vec::len);
                json!({ "records": n })
            }
            _ if output.is_null() => return,
            _ => output.clone(),
        };
        self.run.steps[log].output = Some(shown);
    }

    /// The host's answer to a read, as kept under its key. A `find` keeps the first
    /// record in id order that passes its whole filter (the host's narrowing is only
    /// a pre-filter) as `{"id": …, "values": […]}`, which the run reads from then on.
    /// A scan keeps every record, `{"records": [{"id": …, "values": […]}, …]}`: the
    /// schedule's filter is applied to each as its run starts.
    fn read_answer(&mut self, op: &Op, kind: &EffectKind, answer: &Json) -> Result<Json, String> {
        let (EffectKind::Find { object } | EffectKind::Scan { object }) = kind else {
            return Ok(answer.clone());
        };
        let layout = &self.env.layouts.objects[*object as usize];
        let what = if let EffectKind::Find { .. } = kind {
            "find"
        } else {
            "scan"
        };
        let mut records = host_records(answer, layout)
            .map_err(|e| format!("the host's answer to `{what}`: {e}"))?;
        records.sort_by(|a, b| a.0.cmp(&b.0));
        let OpKind::Find { filter, .. } = &op.kind else {
            let records: Vec<Json> = records
                .into_iter()
                .map(|(id, values)| json!({ "id": id, "values": values.0 }))
                .collect();
            return Ok(json!({ "records": records }));
        };
        let OpKind::Find { all, .. } = &op.kind else {
            return Ok(json!({ "id": null }));
        };
        let mut found = Vec::new();
        for (id, candidate) in records {
            if found.len() >= all.map_or(1, |limit| limit as usize) {
                break;
            }
            let mut scope = scope!(self);
            scope.candidate = Some(&candidate);
            if eval::holds(filter, &scope, &mut self.env) {
                found.push(json!({ "id": id, "values": candidate.0 }));
            }
        }
        Ok(match all {
            Some(_) => json!({ "found": found }),
            None => found.pop().unwrap_or_else(|| json!({ "id": null })),
        })
    }

    /// What `as` binds for an effect's output.
    fn bound(&mut self, kind: &EffectKind, output: &Json) -> Val {
        match kind {
            EffectKind::Find { object } if output.get("found").is_some() => {
                let found = output["found"].as_array().cloned().unwrap_or_default();
                let ids: Vec<Val> = found
                    .iter()
                    .map(|one| self.bound(kind, one))
                    .filter(|v| !v.is_empty())
                    .collect();
                let _ = object;
                Val::List(ids.into())
            }
            EffectKind::Find { object } => {
                let (Some(id), Some(values)) = (output["id"].as_str(), output.get("values")) else {
                    return Val::Empty;
                };
                let Ok(values) = serde_json::from_value::<Vec<Val>>(values.clone()) else {
                    return Val::Empty;
                };
                self.env
                    .read
                    .retain(|f| !(f.object == *object && f.id == id));
                self.env.read.push(Found {
                    object: *object,
                    id: id.to_string(),
                    values,
                });
                Val::text(id)
            }
            EffectKind::Create { .. } | EffectKind::Upsert { .. } => output
                .get("id")
                .and_then(Json::as_str)
                .map(Val::text)
                .unwrap_or(Val::Empty),
            _ if output.is_null() => Val::Empty,
            _ => Val::Json(Arc::new(output.clone())),
        }
    }

    fn default_message(&self) -> String {
        let rule = &self.rule.ir;
        let title = rule.title.as_deref().unwrap_or(&rule.id);
        let name = self
            .record
            .as_ref()
            .zip(self.rule.object)
            .and_then(|(r, o)| {
                let slot = self.env.layouts.objects[o as usize].slot("name")?;
                r.get(slot).as_text().map(str::to_string)
            });
        match (&self.run.object, &self.run.record) {
            (Some(object), Some(id)) => {
                let who = name.map(|n| format!("{n} ")).unwrap_or_default();
                let mut text = format!("{title}: ");
                slack_escape(&who, &mut text);
                // The record id is data too: it may not close the link or ping anyone.
                text.push_str(&format!("<crm://{object}/"));
                slack_escape(id, &mut text);
                text.push('|');
                slack_escape(&format!("{object}/{id}"), &mut text);
                text.push('>');
                text
            }
            _ => format!("{title} ran"),
        }
    }

    fn find_unique(
        &self,
        object: u16,
        by: u16,
        fields: &Map<String, Json>,
    ) -> Result<Option<String>, StoreError> {
        let layout = &self.env.layouts.objects[object as usize];
        let Some(wanted) = fields.get(layout.names[by as usize].as_ref()) else {
            return Ok(None);
        };
        let wanted =
            super::value::from_json(wanted, &layout.types[by as usize]).unwrap_or(Val::Empty);
        if wanted.is_empty() {
            return Ok(None);
        }
        // A list attribute (`domains`, `email_addresses`) matches on any shared value,
        // as Attio's `matching_attribute` does.
        let matches = |have: &Val| match (have, &wanted) {
            (Val::List(have), Val::List(wanted)) => wanted
                .iter()
                .any(|w| have.iter().any(|h| eval::equal(h, w))),
            (have, wanted) => eval::equal(have, wanted),
        };
        // The index gives candidates; the record itself decides, as `equal` does.
        let attribute = layout.names[by as usize].as_ref();
        let keys = super::store::index_keys(&wanted);
        let mut candidates = Vec::new();
        for key in &keys {
            candidates.extend(self.env.store.find(&layout.object, attribute, key)?);
        }
        if keys.is_empty() {
            // A value with no text form (a number) is not indexed: look at every record.
            let records = self.env.store.records(&layout.object)?;
            candidates.extend(records.into_iter().map(|(id, _)| id));
        }
        candidates.sort();
        candidates.dedup();
        for id in candidates {
            let Some(snapshot) = self.env.store.record(&layout.object, &id)? else {
                continue;
            };
            if matches(snapshot.aligned(layout).get(by)) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// Goes on past an effect whose key is already kept, exactly as its first answer
    /// did: the same output bound, and its follow-on event delivered again (rules
    /// that already ran on it see a duplicate; those a crash cut off run now).
    fn replay(
        &mut self,
        kind: &EffectKind,
        key: String,
        binding: Option<u16>,
        i: usize,
        kept: Kept,
    ) -> Result<Flow, StoreError> {
        match kept {
            Kept::Deferred => {
                self.run.steps[i].status = StepStatus::Waiting;
                Ok(Flow::Suspend(Waiting::Answer {
                    key,
                    binding,
                    timeout: None,
                    log: i,
                }))
            }
            Kept::Done { output, follow, .. } => {
                self.run.steps[i].status = StepStatus::AlreadyDone;
                self.show_output(kind, i, &output);
                if let EffectKind::Scan { .. } = kind {
                    self.scanned = scanned(&output);
                }
                if let Some(b) = binding {
                    self.bindings[b as usize] = self.bound(kind, &output);
                }
                if let Some(event) = follow {
                    self.write_back(kind, &event)?;
                    self.follow.push((event, true));
                }
                Ok(Flow::Next)
            }
        }
    }

    /// What a done effect means for the run: the output to bind (a created record's
    /// id) and the event it causes. Reads the store, writes nothing: the effect is
    /// kept first, then [`Exec::write_back`] applies it.
    fn consequences(
        &mut self,
        follow: Option<Follow>,
        kind: &EffectKind,
        key: &str,
        effect: &Effect,
        fields: &[(String, Val)],
        output: Json,
    ) -> Result<(Json, Option<Json>), StoreError> {
        let args = &effect.args;
        let base = |kind: &str, object: &str, id: &str, at: DateTime<Utc>| {
            json!({
                "type": kind, "object": object, "record_id": id,
                "at": at, "source": "rule", "actor": { "type": "system" },
            })
        };
        let short: String = key.chars().take(12).collect();
        let event_id = format!("{}>{}#{}", self.run.event, self.rule.ir.id, short);
        match (follow, kind) {
            (
                Some(Follow::Created),
                EffectKind::Create { object } | EffectKind::Upsert { object, .. },
            ) => {
                let existing = args.get("id").and_then(Json::as_str).map(str::to_string);
                let id = output
                    .get("id")
                    .and_then(Json::as_str)
                    .map(str::to_string)
                    .or(existing.clone())
                    .unwrap_or_else(|| format!("rec-{short}"));
                let layout = &self.env.layouts.objects[*object as usize];
                let previous = self.env.store.record(&layout.object, &id)?;
                let values = previous
                    .as_ref()
                    .map(|s| s.aligned(layout))
                    .unwrap_or_else(|| layout.empty());
                let mut old = Map::new();
                let mut new = Map::new();
                for (name, v) in fields {
                    if let Some(slot) = layout.slot(name) {
                        let ty = &layout.types[slot as usize];
                        old.insert(name.clone(), to_json(values.get(slot), ty, false));
                        new.insert(name.clone(), to_json(v, ty, false));
                    }
                }
                let created = previous.is_none();
                let mut event = base(
                    Follow::Created.event_type(created),
                    &layout.object,
                    &id,
                    self.now,
                );
                event["id"] = json!(event_id);
                event["record"] = Json::Object(new);
                if !created {
                    event["old"] = Json::Object(old);
                }
                let mut output = if output.is_object() {
                    output
                } else {
                    json!({})
                };
                output["id"] = json!(id);
                Ok((output, Some(event)))
            }
            (Some(follow @ (Follow::Note | Follow::Task | Follow::ListEntry { .. })), _) => {
                // On the record the effect acted on: the run's, or the one it named.
                let Some((object, id)) = &effect.record else {
                    return Ok((output, None));
                };
                let mut event = base(follow.event_type(false), object, id, self.now);
                event["id"] = json!(event_id);
                match (follow, kind) {
                    (Follow::ListEntry { .. }, EffectKind::List { list, .. }) => {
                        event["list"] = json!(list)
                    }
                    (Follow::Note, _) => event["note"] = Json::Object(args.clone()),
                    _ => {
                        let mut task = args.clone();
                        if let Some(tid) = output.get("id") {
                            task.insert("id".into(), tid.clone());
                        }
                        event["task"] = Json::Object(task);
                    }
                }
                Ok((output, Some(event)))
            }
            _ => Ok((output, None)),
        }
    }

    /// Keeps the engine's view of the CRM in step with a created or upserted record,
    /// so later steps of the run (`{{up.name}}`) read what was written. A snapshot
    /// newer than the effect is left alone.
    fn write_back(&mut self, kind: &EffectKind, event: &Json) -> Result<(), StoreError> {
        let (EffectKind::Create { object } | EffectKind::Upsert { object, .. }) = kind else {
            return Ok(());
        };
        let (Some(id), Some(Json::Object(fields))) =
            (event["record_id"].as_str(), event.get("record"))
        else {
            return Ok(());
        };
        let at = event["at"].as_str().and_then(super::value::parse_time);
        let layout = &self.env.layouts.objects[*object as usize];
        let previous = self.env.store.record(&layout.object, id)?;
        if previous
            .as_ref()
            .and_then(|s| s.at)
            .zip(at)
            .is_some_and(|(s, e)| s > e)
        {
            return Ok(());
        }
        let mut values = previous
            .as_ref()
            .map(|s| s.aligned(layout))
            .unwrap_or_else(|| layout.empty());
        for (name, v) in fields {
            if let Some(slot) = layout.slot(name) {
                values.0[slot as usize] =
                    super::value::from_json(v, &layout.types[slot as usize]).unwrap_or(Val::Empty);
            }
        }
        let snapshot = Snapshot {
            at: at.or(Some(self.now)),
            names: layout.names.clone(),
            values,
        };
        let object = layout.object.clone();
        self.env.store.put_record(&object, id, Arc::new(snapshot))
    }

    fn set(
        &mut self,
        op: &Op,
        slot: u16,
        value: Option<&Node>,
        if_empty: bool,
        started: Instant,
    ) -> Result<Flow, StoreError> {
        let action = if value.is_some() { "set" } else { "clear" };
        match self.acted_on(op) {
            Ok(None) => {}
            Ok(Some((object, id))) => {
                let place = Place { object, id, slot };
                return self.set_other(op, place, value, if_empty, started);
            }
            Err(message) => {
                let i = self.log(op, action, StepStatus::Failed, started);
                self.run.steps[i].error = Some(message.clone());
                return Ok(self.failed_step(op, i, message));
            }
        }
        let Some(object) = self.rule.object else {
            self.log(op, action, StepStatus::Unchanged, started);
            return Ok(Flow::Next);
        };
        let layout = &self.env.layouts.objects[object as usize];
        let (name, ty) = (
            layout.names[slot as usize].to_string(),
            layout.types[slot as usize].clone(),
        );
        let current = self
            .record
            .as_ref()
            .map(|r| r.get(slot).clone())
            .unwrap_or(Val::Empty);
        // `if empty` on a value that is there: the new value is never computed, so a
        // `round_robin` keeps its turn for the record that needs it.
        if if_empty && !current.is_empty() {
            let i = self.log(op, action, StepStatus::Unchanged, started);
            self.run.steps[i].input =
                Some(json!({ "attribute": name, "kept": to_json(&current, &ty, false) }));
            return Ok(Flow::Next);
        }
        let new = value.map(|v| self.eval(v)).unwrap_or(Val::Empty);
        if let Some(message) = self.env.refused.take() {
            let i = self.log(op, action, StepStatus::Failed, started);
            self.run.steps[i].error = Some(format!("`{name}`: {message}"));
            return Ok(self.failed_step(op, i, format!("`{name}`: {message}")));
        }
        if current == new {
            let i = self.log(op, action, StepStatus::Unchanged, started);
            self.run.steps[i].input =
                Some(json!({ "attribute": name, "value": to_json(&new, &ty, false) }));
            return Ok(Flow::Next);
        }
        let args = vec![
            Arg {
                name: "object",
                value: ArgValue::Const(json!(layout.object)),
            },
            Arg {
                name: "record",
                value: ArgValue::Const(json!(self.run.record)),
            },
            Arg {
                name: "attribute",
                value: ArgValue::Const(json!(name)),
            },
            Arg {
                name: "value",
                value: ArgValue::Const(to_json(&new, &ty, true)),
            },
        ];
        let flow = self.effect(op, action, &EffectKind::Custom, &args, None, None, started)?;
        let done = self
            .run
            .steps
            .last()
            .is_some_and(|s| matches!(s.status, StepStatus::Done | StepStatus::AlreadyDone));
        if done {
            if !self.writes.iter().any(|(s, _)| *s == slot) {
                self.writes.push((slot, current));
            }
            if let Some(record) = &mut self.record {
                record.0[slot as usize] = new.clone();
                if let Some(id) = self.run.record.clone() {
                    let layout = &self.env.layouts.objects[object as usize];
                    // Only the attribute written: the snapshot may be newer than what
                    // the run saw (a late event, an outbox answer that came late).
                    let stored = self.env.store.record(&layout.object, &id)?;
                    let at = stored.as_ref().and_then(|s| s.at);
                    let mut values = match stored {
                        Some(s) => s.aligned(layout),
                        None => record.clone(),
                    };
                    values.0[slot as usize] = new;
                    let snapshot = Snapshot {
                        at,
                        names: layout.names.clone(),
                        values,
                    };
                    let object_name = layout.object.clone();
                    self.env
                        .store
                        .put_record(&object_name, &id, Arc::new(snapshot))?;
                }
            }
        }
        Ok(flow)
    }

    /// `set`/`clear` of a record the step names (`set company.csm = …`): the value
    /// before is the engine's view of that record; the write goes out like one to
    /// the run's record, and its follow-on update is that record's.
    fn set_other(
        &mut self,
        op: &Op,
        place: Place,
        value: Option<&Node>,
        if_empty: bool,
        started: Instant,
    ) -> Result<Flow, StoreError> {
        let action = if value.is_some() { "set" } else { "clear" };
        let Place { object, id, slot } = place;
        let layout = &self.env.layouts.objects[object as usize];
        let (object_name, name, ty) = (
            layout.object.to_string(),
            layout.names[slot as usize].to_string(),
            layout.types[slot as usize].clone(),
        );
        let current = self
            .env
            .lookup(object, &id)
            .map(|r| r.get(slot).clone())
            .unwrap_or(Val::Empty);
        if let Some(e) = self.env.failed.take() {
            return Err(e);
        }
        let unchanged = |exec: &mut Self, shown: Json| {
            let i = exec.log(op, action, StepStatus::Unchanged, started);
            exec.run.steps[i].input = Some(shown);
            Flow::Next
        };
        if if_empty && !current.is_empty() {
            let kept = to_json(&current, &ty, false);
            let shown =
                json!({ "object": object_name, "record": id, "attribute": name, "kept": kept });
            return Ok(unchanged(self, shown));
        }
        let new = value.map(|v| self.eval(v)).unwrap_or(Val::Empty);
        if let Some(message) = self.env.refused.take() {
            let i = self.log(op, action, StepStatus::Failed, started);
            self.run.steps[i].error = Some(format!("`{name}`: {message}"));
            return Ok(self.failed_step(op, i, format!("`{name}`: {message}")));
        }
        if current == new {
            let value = to_json(&new, &ty, false);
            let shown =
                json!({ "object": object_name, "record": id, "attribute": name, "value": value });
            return Ok(unchanged(self, shown));
        }
        let args = [
            ("object", json!(object_name)),
            ("record", json!(id)),
            ("attribute", json!(name)),
            ("value", to_json(&new, &ty, true)),
        ]
        .map(|(name, value)| Arg {
            name,
            value: ArgValue::Const(value),
        });
        let flow = self.effect(op, action, &EffectKind::Custom, &args, None, None, started)?;
        let done = self
            .run
            .steps
            .last()
            .is_some_and(|s| matches!(s.status, StepStatus::Done | StepStatus::AlreadyDone));
        if !done {
            return Ok(flow);
        }
        // Later steps of the run read what was written.
        for found in self
            .env
            .read
            .iter_mut()
            .filter(|f| f.object == object && f.id == id)
        {
            if let Some(v) = found.values.get_mut(slot as usize) {
                *v = new.clone();
            }
        }
        // The engine's view of the record moves with the write: the snapshot it has,
        // or the record as the host read it with the event. A record known from
        // neither gets none — one holding only the attributes written would make the
        // record's next event look like a change of everything else.
        let unknown = self
            .other_writes
            .iter()
            .any(|w| w.object == object && w.id == id && !w.known);
        let stored = self.env.store.record(&object_name, &id)?;
        let at = stored.as_ref().and_then(|s| s.at);
        let base = match stored {
            Some(s) => Some(s.aligned(layout)),
            // The run's own picture of a record it found unknown is not a read of it.
            None if unknown => None,
            None => self
                .env
                .read
                .iter()
                .find(|f| f.object == object && f.id == id)
                .map(|f| Record(f.values.clone())),
        };
        let known = base.is_some();
        if let Some(mut values) = base {
            values.0[slot as usize] = new.clone();
            let snapshot = Snapshot {
                at,
                names: layout.names.clone(),
                values,
            };
            self.env
                .store
                .put_record(&object_name, &id, Arc::new(snapshot))?;
        } else if !unknown {
            // Later steps still read what was written: the record as far as the run
            // knows it, which is this attribute.
            let mut values = layout.empty();
            values.0[slot as usize] = new.clone();
            self.env.read.push(Found {
                object,
                id: id.clone(),
                values: values.0,
            });
        }
        let step = self.step_id(op);
        match self
            .other_writes
            .iter_mut()
            .find(|w| w.object == object && w.id == id && w.slot == slot)
        {
            Some(w) => w.after = new,
            None => self.other_writes.push(OtherWrite {
                object,
                id,
                slot,
                before: current,
                after: new,
                known,
                step,
            }),
        }
        Ok(flow)
    }

    /// The follow-on update events of the run's writes: one for its own record, one
    /// for each other record a step named, in the order they were first written.
    pub fn update_events(&mut self) -> Vec<Json> {
        let mut events: Vec<Json> = self.update_event().into_iter().collect();
        let mut records: Vec<(u16, String, String)> = Vec::new();
        for w in &self.other_writes {
            if !records
                .iter()
                .any(|(o, id, _)| *o == w.object && *id == w.id)
            {
                records.push((w.object, w.id.clone(), w.step.clone()));
            }
        }
        for (object, id, step) in records {
            let layout = &self.env.layouts.objects[object as usize];
            let mut old = Map::new();
            let mut new = Map::new();
            for w in self
                .other_writes
                .iter()
                .filter(|w| w.object == object && w.id == id)
            {
                let name = layout.names[w.slot as usize].to_string();
                let ty = &layout.types[w.slot as usize];
                old.insert(name.clone(), to_json(&w.before, ty, false));
                new.insert(name, to_json(&w.after, ty, false));
            }
            let mut event = json!({
                "id": format!("{}>{}@{}", self.run.event, self.rule.ir.id, step),
                "type": Follow::Updated.event_type(false), "object": layout.object, "record_id": id,
                "at": self.now, "source": "rule", "actor": { "type": "system" },
                "record": new, "old": old,
            });
            // Of a record the engine has no view of, the event says what changed but
            // is no picture of the record to compare its next event with.
            let unknown = self
                .other_writes
                .iter()
                .any(|w| w.object == object && w.id == id && !w.known);
            if unknown {
                event["partial"] = json!(true);
            }
            events.push(event);
        }
        events
    }

    /// The follow-on update event for the run's own writes, if any.
    fn update_event(&self) -> Option<Json> {
        if self.writes.is_empty() {
            return None;
        }
        let object = self.rule.object?;
        let layout = &self.env.layouts.objects[object as usize];
        let record = self.record.as_ref()?;
        let mut old = Map::new();
        let mut new = Map::new();
        for (slot, before) in &self.writes {
            let name = layout.names[*slot as usize].to_string();
            let ty = &layout.types[*slot as usize];
            old.insert(name.clone(), to_json(before, ty, false));
            new.insert(name, to_json(record.get(*slot), ty, false));
        }
        Some(json!({
            "id": format!("{}>{}", self.run.event, self.rule.ir.id),
            "type": Follow::Updated.event_type(false), "object": layout.object, "record_id": self.run.record,
            "at": self.now, "source": "rule", "actor": { "type": "system" },
            "record": new, "old": old,
        }))
    }
}

/// Records a host returned for a read, `{"records": [{"id": "…", "values": {…}}]}`,
/// each checked against the object's layout as an event's `record` is.
fn host_records(
    answer: &Json,
    layout: &super::record::Layout,
) -> Result<Vec<(String, Record)>, String> {
    let records = answer
        .get("records")
        .and_then(Json::as_array)
        .ok_or("it has no `records` list")?;
    let mut out = Vec::with_capacity(records.len());
    for (n, record) in records.iter().enumerate() {
        let problem = |what: String| format!("records[{n}]: {what}");
        let map = record
            .as_object()
            .ok_or_else(|| problem("expected an object with `id` and `values`".into()))?;
        let id = map
            .get("id")
            .and_then(Json::as_str)
            .filter(|id| !id.is_empty())
            .ok_or_else(|| problem("`id` is missing".into()))?;
        let values = super::event::partial(map, "values", layout)
            .map_err(|e| problem(e.to_string()))?
            .map(|p| p.values)
            .unwrap_or_else(|| layout.empty());
        out.push((id.to_string(), values));
    }
    Ok(out)
}

/// The records a scan's kept output holds.
fn scanned(output: &Json) -> Vec<(String, Record)> {
    let Some(records) = output["records"].as_array() else {
        return Vec::new();
    };
    records
        .iter()
        .filter_map(|r| {
            let id = r["id"].as_str()?.to_string();
            let values = serde_json::from_value::<Vec<Val>>(r["values"].clone()).ok()?;
            Some((id, Record(values)))
        })
        .collect()
}

/// The step at `path` (as a step log names it), in any branch.
pub(super) fn find_op<'o>(ops: &'o [Op], path: &str) -> Option<&'o Op> {
    for op in ops {
        if op.path == path {
            return Some(op);
        }
        let inner: Vec<&Vec<Op>> = match &op.kind {
            OpKind::Branch {
                arms, otherwise, ..
            } => arms
                .iter()
                .map(|(_, body)| body)
                .chain([otherwise])
                .collect(),
            OpKind::ForEach { body, .. } => vec![body],
            _ => Vec::new(),
        };
        for body in inner {
            if let Some(found) = find_op(body, path) {
                return Some(found);
            }
        }
    }
    None
}
