//! The engine: runs checked rules on CRM events (engine.md, Events to State).
//!
//! A host builds an [`Engine`] from a compiled [`Program`], the
//! [`Handlers`] that perform effects, a [`Store`] and a [`Clock`]; feeds it events
//! with [`Engine::handle`]; moves time on with [`Engine::tick`] (schedules, `wait`,
//! `coalesce`, `ask` timeouts); and answers deferred steps with [`Engine::resume`].
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use rulec::engine::{ActionKind, Engine, Handlers, ManualClock, MemoryStore, Outcome, RunStatus};
//! use rulec::workspace::analyze_text;
//!
//! let rules = r##"
//! rule big_wins
//!   when stage changed from Open to ClosedWon and value > 10000
//!   do slack "#wins" "{{name}} closed for {{value}}"
//! "##;
//! // A workspace with errors has no program: `program()` is a `Result`.
//! let program = analyze_text("wins.rules", rules).program().unwrap();
//!
//! let sent = Arc::new(Mutex::new(Vec::new()));
//! let log = sent.clone();
//! let handlers = Handlers::new().on(ActionKind::Slack, move |effect| {
//!     log.lock().unwrap().push(effect.text("text").unwrap_or("").to_string());
//!     Outcome::done()
//! });
//! let clock = ManualClock::new("2026-11-02T10:00:00Z".parse().unwrap());
//! let mut engine = Engine::builder(program)
//!     .handlers(handlers)
//!     .store(MemoryStore::new())
//!     .clock(clock)
//!     .build()
//!     .unwrap();
//!
//! let event = r#"{"id":"evt-1","type":"record.updated","object":"deals","record_id":"d1",
//!   "at":"2026-11-02T10:00:00Z","record":{"name":"Acme","stage":"ClosedWon","value":25000},
//!   "old":{"stage":"Open"}}"#;
//! let runs = engine.handle_json(event).unwrap();
//! assert_eq!(runs[0].status, RunStatus::Completed);
//! assert_eq!(sent.lock().unwrap().as_slice(), ["Acme closed for 25000"]);
//!
//! // Redelivery is recognised: no second message.
//! let again = engine.handle_json(event).unwrap();
//! assert_eq!(again[0].status, RunStatus::Suppressed);
//! assert_eq!(sent.lock().unwrap().len(), 1);
//! ```

mod clock;
mod compile;
mod condition;
mod decode;
mod dispatch;
mod due;
mod effect;
mod eval;
mod event;
mod exec;
#[cfg(feature = "tokio")]
mod host;
mod intake;
mod outbox;
mod probe;
mod record;
mod request;
mod run;
mod schedule;
mod store;
mod timers;
mod trigger;
mod value;
mod writes;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use clock::{Clock, ManualClock, SystemClock};
pub use effect::{
    dry_run_answer, idempotency_key, slack_escape, url_escape, ActionKind, Effect, EffectRecord,
    HandlerFn, Handlers, Outcome,
};
pub use event::{Event, EventError, EventKind};
pub use exec::SecretFn;
#[cfg(feature = "tokio")]
pub use host::{AsyncHost, Background};
pub use outbox::{backoff, EffectState, OutboxEntry};
pub use record::{Record, Snapshot};
pub use request::{Recipients, Request};
pub use run::{RunRecord, RunState, RunStatus, StepLog, StepStatus, Waiting};
pub use store::{index_keys, MemoryStore, Space, SqliteStore, Store, StoreError};
pub use value::{Secret, Val};
pub use writes::WriteMark;

use crate::ir::Program;
use crate::schema::Schema;
use record::Layouts;

/// Cascades of rule writes stop at this depth unless configured otherwise.
pub const DEFAULT_MAX_DEPTH: u32 = 8;

/// Why an engine could not be built or an operation failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum EngineError {
    /// The program does not fit this engine (a hand-edited or foreign IR file).
    Program(String),
    /// The store failed.
    Store(StoreError),
    /// An event was rejected (the stream can go on).
    Event(EventError),
    /// `resume` named no waiting run.
    NotWaiting(String),
    /// `fire` named no rule.
    UnknownRule(String),
    /// `fire` named a rule that is not scheduled.
    NotScheduled(String),
    /// `complete` named no effect in the outbox (answered already, or never there).
    NotPending(String),
    /// An async host's engine thread has stopped (drained, or it panicked).
    Stopped,
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::Program(e) => write!(f, "the compiled rules cannot run: {e}"),
            EngineError::Store(e) => e.fmt(f),
            EngineError::Event(e) => e.fmt(f),
            EngineError::NotWaiting(run) => write!(f, "no run `{run}` is waiting for an answer"),
            EngineError::UnknownRule(rule) => write!(f, "no rule `{rule}` is loaded"),
            EngineError::NotPending(effect) => {
                write!(f, "no effect `{effect}` is waiting in the outbox")
            }
            EngineError::NotScheduled(rule) => {
                write!(f, "rule `{rule}` runs on events, not on a schedule")
            }
            EngineError::Stopped => {
                write!(f, "the engine has stopped: it was drained, or it failed")
            }
        }
    }
}

impl std::error::Error for EngineError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            EngineError::Store(e) => Some(e),
            EngineError::Event(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for EngineError {
    fn from(e: StoreError) -> Self {
        EngineError::Store(e)
    }
}

impl From<EventError> for EngineError {
    fn from(e: EventError) -> Self {
        EngineError::Event(e)
    }
}

/// Builds an [`Engine`].
pub struct Builder {
    program: Program,
    handlers: Handlers,
    store: Option<Box<dyn Store>>,
    clock: Option<Arc<dyn Clock>>,
    secrets: Arc<SecretFn>,
    max_depth: u32,
    retention: i64,
    clock_window: i64,
    outbox: bool,
    host_reads: bool,
    park_after: Option<u32>,
}

/// How long delivered-event markers, done effect keys and run history are kept
/// (engine.md, Retention): 30 days.
pub const DEFAULT_RETENTION_SECONDS: i64 = 30 * 24 * 3600;

/// How far from the engine's clock an event may be dated (see [`Engine::admit`]):
/// 7 days either way.
pub const DEFAULT_CLOCK_WINDOW_SECONDS: i64 = 7 * 24 * 3600;

/// The key under which the engine remembers the latest time it admitted an event.
const STREAM_TIME: &str = "\u{1f}stream time";
/// Where the paused rules are kept (beside schedule watermarks; no rule id has a
/// control character).
const PAUSED: &str = "\u{1f}paused";

/// Events handled between two sweeps of state older than the retention window.
const PRUNE_EVERY: usize = 10_000;

impl Builder {
    /// The handlers effects go to (default: none, so every effect fails).
    pub fn handlers(mut self, handlers: Handlers) -> Builder {
        self.handlers = handlers;
        self
    }

    /// Where state lives (default: a [`MemoryStore`]).
    pub fn store(mut self, store: impl Store + 'static) -> Builder {
        self.store = Some(Box::new(store));
        self
    }

    /// Where time comes from (default: the [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock + 'static) -> Builder {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Resolves `secret("NAME")` (default: nothing is resolved, and steps that need a
    /// secret fail saying which).
    pub fn secrets(
        mut self,
        f: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
    ) -> Builder {
        self.secrets = Arc::new(f);
        self
    }

    /// How many rule writes may lead to one another before the cascade is stopped.
    pub fn max_depth(mut self, depth: u32) -> Builder {
        self.max_depth = depth;
        self
    }

    /// How long, in seconds of engine time, an event's delivery and the effects it
    /// caused are remembered (default [`DEFAULT_RETENTION_SECONDS`]): an event
    /// delivered again after that runs again. Effects with an explicit `key` are
    /// remembered for good. Run history older than this is dropped too.
    pub fn retention(mut self, seconds: i64) -> Builder {
        self.retention = seconds.max(0);
        self
    }

    /// How far ahead, in seconds, of the engine's time an event may be dated before
    /// [`Engine::admit`] refuses it (default [`DEFAULT_CLOCK_WINDOW_SECONDS`]; 0: no
    /// limit).
    pub fn clock_window(mut self, seconds: i64) -> Builder {
        self.clock_window = seconds.max(0);
        self
    }

    /// Puts effects in the outbox instead of calling the handlers (serve.md §1): a
    /// run parks on each effect until the host, having taken it with
    /// [`Engine::take_effects`] and performed it, answers with [`Engine::complete`].
    /// The engine then does no I/O of its own: a host can perform effects
    /// concurrently, retry with backoff, and outlive a crash between commit and
    /// effect.
    pub fn outbox(mut self) -> Builder {
        self.outbox = true;
        self
    }

    /// Asks the host for what the engine reads from the CRM instead of answering it
    /// from the records its events brought: each `find` step is an effect
    /// ([`Request::Find`], [`ActionKind::Find`]) answered with the records the host
    /// read, which the engine filters with the whole `where` and the run reads from
    /// then on. For a host in front of a live CRM (`rulec serve`), whose store has
    /// seen only the records of its events.
    pub fn host_reads(mut self) -> Builder {
        self.host_reads = true;
        self
    }

    /// With [`Builder::outbox`]: a failure that may pass (`Outcome::retry`, a 429, a
    /// 5xx) is tried again at its backoff time whatever the step's `retry`, and after
    /// `attempts` attempts (or the step's `retry` + 1, if more) the effect is
    /// **parked** ([`EffectState::Parked`]) instead of failing its step: its run
    /// waits until an operator retries or drops it. For a host whose targets fail
    /// for reasons that pass (`rulec serve`); without it, `retry n` alone decides.
    pub fn park_after(mut self, attempts: u32) -> Builder {
        self.park_after = Some(attempts.max(1));
        self
    }

    /// The engine.
    pub fn build(self) -> Result<Engine, EngineError> {
        let layouts = Layouts::new(&self.program.schema);
        let rules = compile::compile(&self.program, &layouts).map_err(EngineError::Program)?;
        let index = dispatch::Index::new(&rules);
        let mut store = self.store.unwrap_or_else(|| Box::new(MemoryStore::new()));
        // Unique attributes (upserts match on them) and those a `find` looks up.
        let found = compile::find_lookups(&rules);
        for (o, object) in self.program.schema.objects.iter().enumerate() {
            let indexed: Vec<&str> = object
                .attributes
                .iter()
                .enumerate()
                .filter(|(slot, a)| a.unique || found.contains(&(o as u16, *slot as u16)))
                .map(|(_, a)| a.name.as_str())
                .collect();
            if !indexed.is_empty() {
                store.index(&object.name, &indexed)?;
            }
        }
        let by_id = rules
            .iter()
            .enumerate()
            .map(|(i, r)| (r.ir.id.clone(), i))
            .collect();
        let paused = match store.get(Space::Watermarks, PAUSED)? {
            Some(list) => serde_json::from_value(list)
                .map_err(|e| StoreError(format!("damaged list of paused rules: {e}")))?,
            None => BTreeSet::new(),
        };
        let http_allow = self.program.http_allow.as_deref().map(Arc::from);
        Ok(Engine {
            paused,
            http_allow,
            kept_versions: std::collections::HashSet::new(),
            old_rules: HashMap::new(),
            schema: self.program.schema,
            layouts,
            rules: Arc::new(rules),
            index,
            by_id,
            handlers: self.handlers,
            store,
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            secrets: self.secrets,
            max_depth: self.max_depth,
            since_commit: 0,
            retention: self.retention,
            clock_window: self.clock_window,
            stream_time: None,
            since_prune: 0,
            pruned_at: None,
            due_indexed: false,
            next_due: None,
            last_schedule_minute: None,
            next_schedule: None,
            outbox: self.outbox,
            host_reads: self.host_reads,
            park_after: self.park_after,
            pending: Vec::new(),
            writes: writes::Writes::default(),
            recovered: false,
        })
    }
}

/// Runs checked rules on events. See the [module docs](self) for an example.
pub struct Engine {
    schema: Schema,
    layouts: Layouts,
    rules: Arc<Vec<compile::Compiled>>,
    index: dispatch::Index,
    by_id: HashMap<String, usize>,
    handlers: Handlers,
    store: Box<dyn Store>,
    clock: Arc<dyn Clock>,
    secrets: Arc<SecretFn>,
    max_depth: u32,
    since_commit: usize,
    /// Seconds of engine time state is remembered (see [`Builder::retention`]).
    retention: i64,
    clock_window: i64,
    /// The latest event time admitted, as last saved (see [`Engine::admit`]).
    stream_time: Option<DateTime<Utc>>,
    since_prune: usize,
    /// The engine time of the last sweep.
    pruned_at: Option<i64>,
    /// Whether waiting runs written before the due-time index have been indexed.
    due_indexed: bool,
    /// The earliest time a waiting run or coalesce buffer is due; `None` until known.
    next_due: Option<Option<DateTime<Utc>>>,
    last_schedule_minute: Option<i64>,
    /// The next schedule occurrence, as of the last look at the schedules.
    next_schedule: Option<DateTime<Utc>>,
    /// Effects go to the outbox (see [`Builder::outbox`]).
    outbox: bool,
    /// `find` asks the host (see [`Builder::host_reads`]).
    host_reads: bool,
    /// Retry and park (see [`Builder::park_after`]).
    park_after: Option<u32>,
    /// Effects put in the outbox and not yet taken by the host.
    pending: Vec<Effect>,
    /// Writes to records (`set`, `clear`) on their way to the CRM: see
    /// [`Engine::writes_unanswered`].
    writes: writes::Writes,
    /// Whether the outbox left by an earlier process has been handed out again.
    recovered: bool,
    /// Rules an operator paused (see [`Engine::pause`]).
    paused: BTreeSet<String>,
    /// The program's `[http] allow` list, for rule versions compiled later.
    http_allow: Option<Arc<[String]>>,
    /// `rule@version` keys known to be in [`Space::Versions`].
    kept_versions: std::collections::HashSet<String>,
    /// Earlier versions of rules, compiled for the runs that wait on them.
    old_rules: HashMap<String, Arc<compile::Compiled>>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("rules", &self.rules.len())
            .field("handlers", &self.handlers)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Starts building an engine for a compiled program.
    pub fn builder(program: Program) -> Builder {
        Builder {
            program,
            handlers: Handlers::new(),
            store: None,
            clock: None,
            secrets: Arc::new(|_| None),
            max_depth: DEFAULT_MAX_DEPTH,
            retention: DEFAULT_RETENTION_SECONDS,
            clock_window: DEFAULT_CLOCK_WINDOW_SECONDS,
            outbox: false,
            host_reads: false,
            park_after: None,
        }
    }

    /// The rules loaded, in program order.
    pub fn rules(&self) -> impl Iterator<Item = &crate::ir::Rule> {
        self.rules.iter().map(|r| &r.ir)
    }

    /// The schema events are checked against.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Validates one event (JSON) against the schema.
    pub fn parse_event(&self, json: &str) -> Result<Event, EventError> {
        event::parse_text(json, &self.schema, &self.layouts)
    }

    /// Validates line `line` of a JSONL stream.
    pub fn parse_line(&self, text: &str, line: usize) -> Result<Event, EventError> {
        event::parse_line(text, line, &self.schema, &self.layouts)
    }

    /// Parses and handles one event given as JSON.
    pub fn handle_json(&mut self, json: &str) -> Result<Vec<RunRecord>, EngineError> {
        let event = self.parse_event(json)?;
        Ok(self.handle(event)?)
    }

    /// Handles one event and the events its rules' writes cause; returns a record
    /// for every rule whose trigger matched.
    pub fn handle(&mut self, event: Event) -> Result<Vec<RunRecord>, StoreError> {
        let mut out = Vec::new();
        self.process(event, &mut out)?;
        self.since_commit += 1;
        self.since_prune += 1;
        if self.since_prune >= PRUNE_EVERY {
            self.since_prune = 0;
            // A sweep reads the whole of what is kept: once a 24th of the window
            // (at most hourly) keeps what is kept within 5% of the window, and the
            // sweeps' cost small even for a replay of weeks of events.
            let now = self.clock.now().timestamp();
            let every = (self.retention / 24).max(3600);
            if self
                .pruned_at
                .is_none_or(|at| now < at || now - at >= every)
            {
                self.pruned_at = Some(now);
                self.prune()?;
            }
        }
        if self.since_commit >= self.store.batch() {
            self.flush()?;
        }
        Ok(out)
    }

    /// Refuses an event dated further ahead of the engine's time than the clock
    /// window (a year typed wrong, a clock gone astray): admitted, it would move
    /// schedule watermarks and record snapshots past every real event to come. Also
    /// refuses one older than the retention window, which could no longer be
    /// recognised as already handled. The engine's
    /// time is its clock, or — for a clock that has not started, as in a replay — the
    /// latest event time it admitted before, kept in the store. A host calls this
    /// before moving a replay clock to the event and handling it.
    pub fn admit(&mut self, event: &Event) -> Result<(), EngineError> {
        let now = self.clock.now();
        if self.stream_time.is_none() {
            self.stream_time = self
                .store
                .get(Space::Watermarks, STREAM_TIME)?
                .and_then(|v| v.as_str().and_then(value::parse_time));
        }
        let started = now > DateTime::<Utc>::MIN_UTC;
        let reference = match (started, self.stream_time) {
            (true, Some(seen)) => Some(now.max(seen)),
            (true, None) => Some(now),
            (false, seen) => seen,
        };
        if let Some(reference) = reference {
            let ahead = (event.at - reference).num_seconds();
            let refuse = |message: String| {
                Err(EngineError::Event(EventError {
                    line: None,
                    id: Some(event.id.to_string()),
                    field: "at".into(),
                    message,
                }))
            };
            if self.clock_window > 0 && ahead > self.clock_window {
                return refuse(format!(
                    "dated {}, {} after the engine's time ({}); events more than {} ahead \
                     of it are refused, because a wrong year would move every schedule \
                     and record snapshot past it",
                    event.at.to_rfc3339(),
                    value::describe_duration(ahead),
                    reference.to_rfc3339(),
                    value::describe_duration(self.clock_window)
                ));
            }
            // Late events are normal (redelivery, a restart's replay): the snapshot
            // and the flags ignore them. Past the retention window, though, the
            // marker that would recognise one as handled is gone.
            if self.retention > 0 && -ahead > self.retention {
                return refuse(format!(
                    "dated {}, {} before the engine's time ({}): deliveries are remembered \
                     for {}, so an event this old cannot be told apart from one already \
                     handled",
                    event.at.to_rfc3339(),
                    value::describe_duration(-ahead),
                    reference.to_rfc3339(),
                    value::describe_duration(self.retention)
                ));
            }
        }
        // Saved when it moves on by a minute or more: one write per minute of stream.
        if self
            .stream_time
            .is_none_or(|seen| (event.at - seen).num_seconds() >= 60)
        {
            self.stream_time = Some(event.at);
            self.store
                .put(Space::Watermarks, STREAM_TIME, serde_json::json!(event.at))?;
        }
        Ok(())
    }

    /// Moves time to the clock's now: due schedules, waits, `ask` timeouts and
    /// coalesce windows run.
    pub fn tick(&mut self) -> Result<Vec<RunRecord>, EngineError> {
        let mut out = Vec::new();
        self.run_timers(&mut out)?;
        Ok(out)
    }

    /// Answers a deferred step (a handler's `defer`, or `ask`) of a waiting run; the
    /// answer is the step's output (`{"approved": true, "answer": "…"}` for `ask`).
    pub fn resume(
        &mut self,
        run: &str,
        answer: serde_json::Value,
    ) -> Result<Vec<RunRecord>, EngineError> {
        let mut out = Vec::new();
        self.resume_run(run, Some(Ok(answer)), &mut out)?;
        Ok(out)
    }

    /// Pauses a rule: until [`Engine::unpause`], its triggers start no runs (each is
    /// recorded as suppressed, "paused by an operator") and its schedules do not
    /// fire. Runs it already started go on. Kept in the store, across restarts.
    pub fn pause(&mut self, rule: &str) -> Result<(), EngineError> {
        self.set_paused(rule, true)
    }

    /// Lets a paused rule run again, from the next event on: what arrived while it
    /// was paused is not run afterwards.
    pub fn unpause(&mut self, rule: &str) -> Result<(), EngineError> {
        self.set_paused(rule, false)
    }

    /// The rules an operator paused.
    pub fn paused(&self) -> &BTreeSet<String> {
        &self.paused
    }

    fn set_paused(&mut self, rule: &str, paused: bool) -> Result<(), EngineError> {
        if !self.by_id.contains_key(rule) {
            return Err(EngineError::UnknownRule(rule.to_string()));
        }
        let changed = if paused {
            self.paused.insert(rule.to_string())
        } else {
            self.paused.remove(rule)
        };
        if changed {
            let list = serde_json::json!(self.paused);
            self.store.put(Space::Watermarks, PAUSED, list)?;
            self.flush()?;
        }
        Ok(())
    }

    /// Answers a deferred effect by its idempotency key, for the run that waits on it:
    /// what a host does when work it deferred (a custom action's job) is over —
    /// `Ok(output)` binds the output as [`Engine::resume`] does, `Err(message)` fails
    /// the step as a handler's error would (`on error continue` included).
    /// [`EngineError::NotPending`] when no run waits on that key (never deferred, or
    /// already answered).
    pub fn settle(
        &mut self,
        effect: &str,
        result: Result<serde_json::Value, String>,
    ) -> Result<Vec<RunRecord>, EngineError> {
        let run = self
            .waiting()?
            .into_iter()
            .find(|s| matches!(&s.waiting, Waiting::Answer { key, .. } if key == effect))
            .map(|s| s.record.run)
            .ok_or_else(|| EngineError::NotPending(effect.to_string()))?;
        let mut out = Vec::new();
        self.resume_run(&run, Some(result), &mut out)?;
        Ok(out)
    }

    /// Forgets what is older than the retention window: delivered-event markers,
    /// effect keys the engine made itself, run history. [`Engine::handle`] does this
    /// once a 24th of the window (at least an hour) of engine time has passed;
    /// a host may call it on a timer.
    pub fn prune(&mut self) -> Result<(), StoreError> {
        self.since_prune = 0;
        let before = self.clock.now().timestamp().saturating_sub(self.retention);
        self.store.prune(Space::Delivered, before)?;
        self.store.prune(Space::Effects, before)?;
        self.store.prune_history(before)?;
        Ok(())
    }

    /// Makes everything so far durable.
    pub fn flush(&mut self) -> Result<(), StoreError> {
        self.since_commit = 0;
        self.store.commit()
    }

    /// The most recent run records, oldest first.
    pub fn history(&self, limit: usize) -> Result<Vec<RunRecord>, StoreError> {
        self.store.history(limit)
    }

    /// Runs that are waiting, with what they wait for.
    pub fn waiting(&self) -> Result<Vec<RunState>, StoreError> {
        let mut out = Vec::new();
        for (key, value) in self.store.scan(Space::Runs)? {
            let state = serde_json::from_value::<RunState>(value)
                .map_err(|e| StoreError(format!("damaged waiting run `{key}`: {e}")))?;
            out.push(state);
        }
        Ok(out)
    }

    /// Tells the engine a record's current values (for `find`, schedules and
    /// reference paths), without running any rule.
    pub fn load_record(
        &mut self,
        object: &str,
        id: &str,
        values: &serde_json::Value,
    ) -> Result<(), EngineError> {
        let json = serde_json::json!({
            "id": "load", "type": "record.updated", "object": object, "record_id": id,
            "at": self.clock.now(), "record": values,
        });
        let event = event::parse(json, &self.schema, &self.layouts)?;
        let layout = &self.layouts.objects[event.object.unwrap_or(0) as usize];
        let mut values = match self.store.record(object, id)? {
            Some(s) => s.aligned(layout),
            None => layout.empty(),
        };
        if let Some(partial) = &event.record {
            for slot in &partial.present {
                values.0[*slot as usize] = partial.values.get(*slot).clone();
            }
        }
        let snapshot = Snapshot {
            at: None,
            names: layout.names.clone(),
            values,
        };
        self.store.put_record(object, id, Arc::new(snapshot))?;
        Ok(())
    }
}
