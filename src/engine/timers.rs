//! Time-driven work: schedules, runs waiting on time or answers, coalesce windows,
//! and runs a crash interrupted.

use chrono::{DateTime, Utc};
use serde_json::{json, Value as Json};

use super::compile::{Compiled, When};
use super::due::{self, Parked};
use super::effect::{Kept, Outcome};
use super::eval::Scope;
use super::event::{self, Event};
use super::exec::{Exec, Flow};
use super::intake::{conclude, Facts, Start};
use super::record::Record;
use super::run::{RunRecord, RunState, RunStatus, StepStatus, Waiting};
use super::schedule;
use super::store::{Space, StoreError};
use super::value::Val;
use super::{Engine, EngineError};
use std::sync::Arc;

impl Engine {
    /// Runs everything due at the clock's now.
    pub(super) fn run_timers(&mut self, out: &mut Vec<RunRecord>) -> Result<(), EngineError> {
        let now = self.clock.now();
        self.run_schedules(now, out)?;
        let due = match self.next_due {
            Some(due) => due,
            None => self.earliest_due()?,
        };
        self.next_due = Some(due);
        if due.is_none_or(|d| d > now) {
            return Ok(());
        }
        let mut windows = Vec::new();
        for entry in due::until(self.store.as_ref(), now)? {
            match entry.what {
                Parked::Run if self.store.get(Space::Runs, &entry.name)?.is_some() => {
                    self.resume_run(&entry.name, None, out)?;
                }
                // Parked, then finished some other way (answered): nothing to do.
                Parked::Run => self.store.remove(Space::Due, &entry.key)?,
                Parked::Window => windows.push(entry),
            }
        }
        for entry in windows {
            match self.store.get(Space::Coalesce, &entry.name)? {
                Some(buffer) => self.flush_buffer(&entry.name, &buffer, out)?,
                None => self.store.remove(Space::Due, &entry.key)?,
            }
        }
        self.next_due = Some(self.earliest_due()?);
        Ok(())
    }

    fn earliest_due(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        if !self.due_indexed {
            self.index_due()?;
            self.due_indexed = true;
        }
        due::earliest(self.store.as_ref())
    }

    /// Indexes waiting runs and coalesce windows a state file holds without their
    /// due times (written before the index existed).
    fn index_due(&mut self) -> Result<(), StoreError> {
        if due::earliest(self.store.as_ref())?.is_some() {
            return Ok(());
        }
        for (key, value) in self.store.scan(Space::Runs)? {
            let state = serde_json::from_value::<RunState>(value)
                .map_err(|e| StoreError(format!("damaged waiting run `{key}`: {e}")))?;
            if let Some(d) = state.due() {
                due::park(self.store.as_mut(), Parked::Run, &key, d)?;
            }
        }
        for (key, entry) in self.store.scan(Space::Coalesce)? {
            if let Some(d) = entry["due"].as_str().and_then(super::value::parse_time) {
                due::park(self.store.as_mut(), Parked::Window, &key, d)?;
            }
        }
        Ok(())
    }

    fn run_schedules(
        &mut self,
        now: DateTime<Utc>,
        out: &mut Vec<RunRecord>,
    ) -> Result<(), StoreError> {
        // Schedules have minute granularity: look once per minute of engine time.
        let minute = now.timestamp().div_euclid(60);
        if self.index.schedules.is_empty() || self.last_schedule_minute == Some(minute) {
            return Ok(());
        }
        self.last_schedule_minute = Some(minute);
        let mut soonest = None;
        let rules = self.rules.clone();
        for &i in &self.index.schedules.clone() {
            let rule = &rules[i];
            let When::Schedule(schedule) = &rule.trigger else {
                continue;
            };
            let mark = self
                .store
                .get(Space::Watermarks, &rule.ir.id)?
                .and_then(|v| v.as_str().and_then(super::value::parse_time));
            let Some(mark) = mark else {
                // The first look only starts the clock: a schedule added today does
                // not fire for every past occurrence.
                self.store.put(Space::Watermarks, &rule.ir.id, json!(now))?;
                soonest = earliest(soonest, schedule::next_after(schedule, now));
                continue;
            };
            let Some(occurrence) = schedule::latest(schedule, mark, now) else {
                soonest = earliest(soonest, schedule::next_after(schedule, mark));
                continue;
            };
            soonest = earliest(soonest, schedule::next_after(schedule, occurrence));
            self.store
                .put(Space::Watermarks, &rule.ir.id, json!(occurrence))?;
            self.fire_schedule(i, occurrence, out)?;
        }
        self.next_schedule = soonest;
        Ok(())
    }

    /// When [`Engine::tick`] next has work: the earliest waiting run, `ask` timeout,
    /// coalesce window or schedule occurrence. Schedules are known after the first
    /// tick; `None` means nothing is pending.
    pub fn next_due(&mut self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let due = match self.next_due {
            Some(due) => due,
            None => self.earliest_due()?,
        };
        self.next_due = Some(due);
        Ok(earliest(due, self.next_schedule))
    }

    /// Runs schedule rule `i` for one occurrence: once, or once per matching record.
    fn fire_schedule(
        &mut self,
        i: usize,
        occurrence: DateTime<Utc>,
        out: &mut Vec<RunRecord>,
    ) -> Result<(), StoreError> {
        let rules = self.rules.clone();
        let rule = &rules[i];
        let When::Schedule(schedule) = &rule.trigger else {
            return Ok(());
        };
        let stamp = occurrence.to_rfc3339();
        let mut follow = Vec::new();
        match schedule.for_object {
            Some(object) if !(self.host_reads && rule.scan.is_some()) => {
                let layout = &self.layouts.objects[object as usize];
                let records = self
                    .store
                    .records(&layout.object)?
                    .into_iter()
                    .map(|(id, snapshot)| (id, snapshot.aligned(layout)))
                    .collect();
                self.fan_out(i, occurrence, records, out, &mut follow)?;
            }
            // No object, or the host reads the records: one run (its scan, with host
            // reads, whose answer starts the records' runs).
            for_object => {
                let start = Start {
                    event: None,
                    event_id: format!("schedule@{stamp}"),
                    record_id: None,
                    facts: Facts::default(),
                    failure: None,
                    depth: 0,
                    chain: &[],
                    occurrence: Some(occurrence),
                    // A scan's filter is for the records it finds.
                    filtered: for_object.is_some(),
                    replayed: false,
                    scan: for_object.is_some(),
                };
                self.start(i, start, out, &mut follow)?;
            }
        }
        self.drain(follow, out)?;
        Ok(())
    }

    /// Starts a schedule's run on each record that passes its `for … where` filter.
    pub(super) fn fan_out(
        &mut self,
        i: usize,
        occurrence: DateTime<Utc>,
        records: Vec<(String, Record)>,
        out: &mut Vec<RunRecord>,
        follow: &mut Vec<super::intake::Pending>,
    ) -> Result<(), StoreError> {
        let rules = self.rules.clone();
        let rule = &rules[i];
        let stamp = occurrence.to_rfc3339();
        let now = self.clock.now();
        for (id, record) in records {
            if let Some(filter) = &rule.condition {
                let scope = Scope {
                    record: Some(&record),
                    record_id: Some(&id),
                    zone: rule.zone,
                    ..Scope::new(now)
                };
                let mut env = self.env();
                if !filter.holds(&scope, &mut env) {
                    continue;
                }
            }
            let start = Start {
                event: None,
                event_id: format!("schedule@{stamp}/{id}"),
                record_id: Some(id.clone()),
                facts: Facts {
                    entry: None,
                    new: Some(record),
                    old: None,
                    changed: Vec::new(),
                    stale: false,
                },
                failure: None,
                depth: 0,
                chain: &[],
                occurrence: Some(occurrence),
                filtered: true,
                replayed: false,
                scan: false,
            };
            self.start(i, start, out, follow)?;
        }
        Ok(())
    }

    /// Runs a scheduled rule now, as if its occurrence had come: a "run now" button,
    /// and how `rulec test` exercises schedules. Its regular occurrences are not
    /// affected.
    pub fn fire(&mut self, rule: &str) -> Result<Vec<RunRecord>, EngineError> {
        let Some(&i) = self.by_id.get(rule) else {
            return Err(EngineError::UnknownRule(rule.to_string()));
        };
        if !matches!(self.rules[i].trigger, When::Schedule(_)) {
            return Err(EngineError::NotScheduled(rule.to_string()));
        }
        let mut out = Vec::new();
        let now = self.clock.now();
        self.fire_schedule(i, now, &mut out)?;
        Ok(out)
    }

    /// Continues a saved run: with an answer (`resume`), after its time, or after an
    /// `ask` timeout (`answer` is `None`).
    pub(super) fn resume_run(
        &mut self,
        run: &str,
        answer: Option<Result<Json, String>>,
        out: &mut Vec<RunRecord>,
    ) -> Result<(), EngineError> {
        self.resume_with(run, answer, None, out)
    }

    /// [`Engine::resume_run`], or — for a run parked on an outbox effect — going on
    /// with the host's `completion` of it (`None`: hand the effect out again).
    pub(super) fn resume_with(
        &mut self,
        run: &str,
        answer: Option<Result<Json, String>>,
        completion: Option<(String, Outcome)>,
        out: &mut Vec<RunRecord>,
    ) -> Result<(), EngineError> {
        let Some(value) = self.store.get(Space::Runs, run)? else {
            return Err(EngineError::NotWaiting(run.to_string()));
        };
        let state: RunState = serde_json::from_value(value)
            .map_err(|e| StoreError(format!("damaged waiting run `{run}`: {e}")))?;
        if answer.is_some() && !matches!(state.waiting, Waiting::Answer { .. }) {
            return Err(EngineError::NotWaiting(run.to_string()));
        }
        if let Some((id, _)) = &completion {
            if !matches!(&state.waiting, Waiting::Effect { key, .. } if key == id) {
                return Err(EngineError::NotPending(id.clone()));
            }
        }
        let rules = self.rules.clone();
        let kept: Arc<Compiled>;
        let current = match self.by_id.get(&state.record.rule) {
            Some(&i) if rules[i].ir.version == state.record.version => Some(i),
            _ => None,
        };
        let rule: &Compiled = match current {
            Some(i) => &rules[i],
            // The rule changed while the run waited: it goes on with the version it
            // started on, as kept when it began to wait.
            None => match self.old_version(&state.record.rule, &state.record.version)? {
                Ok(old) => {
                    kept = old;
                    &kept
                }
                Err(why) => {
                    self.forget_run(run, &state)?;
                    let mut record = state.record;
                    record.status = RunStatus::Failed;
                    record.reason = Some(format!(
                        "the rule changed while this run was waiting, and {why}; it was not resumed"
                    ));
                    self.store.append_run(&record)?;
                    out.push(record);
                    return Ok(());
                }
            },
        };
        let event: Option<Event> = match &state.event {
            Some(raw) => match event::parse(raw.clone(), &self.schema, &self.layouts) {
                Ok(event) => Some(event),
                // The saved event no longer reads (a changed schema): the run ends
                // here, visibly, rather than going on without it.
                Err(e) => {
                    self.forget_run(run, &state)?;
                    let mut record = state.record;
                    record.status = RunStatus::Failed;
                    record.reason = Some(format!(
                        "the event this run waited with no longer reads ({e}); it was not resumed"
                    ));
                    self.store.append_run(&record)?;
                    out.push(record);
                    return Ok(());
                }
            },
            None => None,
        };
        let now = self.clock.now();
        // After a wait the record is read afresh: the run acts on the CRM as it is now.
        let record_values = match (&state.record.object, &state.record.record, rule.object) {
            (Some(object), Some(id), Some(o)) => self
                .store
                .record(object, id)?
                .map(|s| s.aligned(&self.layouts.objects[o as usize])),
            _ => None,
        };
        // Waiting for an effect, it goes on with the record it had.
        let record_values = match &state.seen {
            Some((values, _)) => Some(Record(values.clone())),
            None => record_values,
        };
        let old_values = state
            .seen
            .as_ref()
            .and_then(|(_, old)| old.clone())
            .map(Record);
        let mut record = state.record.clone();
        record.status = RunStatus::Completed;
        record.reason = None;
        record.at = now;
        let handlers = self.handlers.clone();
        let depth = record.depth;
        let (outbox, host_reads, park_after) = (self.outbox, self.host_reads, self.park_after);
        let mut exec = Exec::new(self.env(), &handlers, rule, now, event.as_ref(), record);
        exec.outbox = outbox;
        exec.host_reads = host_reads;
        exec.park_after = park_after;
        exec.env.read = state.read.clone();
        exec.completion = completion;
        exec.record = record_values;
        exec.old = old_values;
        exec.failure = state.failure.clone();
        exec.bindings = state.bindings.clone();
        exec.bindings.resize(rule.bindings.len(), Val::Empty);
        exec.chain = state.chain.clone();
        exec.occurrence = state.occurrence;
        exec.scan = state.scan;
        if let Waiting::Time { .. } = &state.waiting {
            // The wait is over: its log line says so.
            if let Some(step) = exec
                .run
                .steps
                .iter_mut()
                .rev()
                .find(|s| s.status == StepStatus::Waiting)
            {
                step.status = StepStatus::Done;
            }
        }
        let mut failed: Option<Flow> = None;
        if let Waiting::Answer {
            key, binding, log, ..
        } = &state.waiting
        {
            match answer {
                // The deferred work failed: the step fails as if its handler had said
                // so, `on error continue` included.
                Some(Err(message)) => {
                    if let Some(step) = exec.run.steps.get_mut(*log) {
                        step.status = StepStatus::Failed;
                        step.error = Some(message.clone());
                    }
                    let path = exec.run.steps.get(*log).map(|s| s.path.clone());
                    match path.and_then(|p| super::exec::find_op(&rule.steps, &p)) {
                        Some(op) => match exec.failed_step(op, *log, message) {
                            Flow::Next => {}
                            flow => failed = Some(flow),
                        },
                        None => failed = Some(Flow::Fail(message)),
                    }
                }
                answer => {
                    let output = match answer {
                        Some(Ok(a)) => a,
                        _ => {
                            json!({ "approved": false, "answer": null, "answered_by": null, "timed_out": true })
                        }
                    };
                    let kept = Kept::Done {
                        output: output.clone(),
                        follow: None,
                        at: Some(now.timestamp()),
                    };
                    exec.env.store.effect_done(key, &kept.to_json())?;
                    if let Some(b) = binding {
                        exec.bindings[*b as usize] = Val::Json(std::sync::Arc::new(output.clone()));
                    }
                    if let Some(step) = exec.run.steps.get_mut(*log) {
                        step.status = StepStatus::Done;
                        step.output = Some(output);
                    }
                }
            }
        }
        if let Waiting::Effect { log, .. } = &state.waiting {
            // The effect's step runs again, and logs itself again.
            exec.run.steps.truncate(*log);
        }
        let (flow, pc) = match failed {
            Some(flow) => (flow, state.pc.clone()),
            None => exec.walk(&state.pc)?,
        };
        let waiters = std::mem::take(&mut exec.waiters);
        let scanned = std::mem::take(&mut exec.scanned);
        let replacing = exec.replacing;
        let mut follow = Vec::new();
        let (record, due) = conclude(exec, flow, pc, &mut follow)?;
        if let Some(due) = due {
            self.note_due(due);
        }
        let mut record = record;
        if replacing && record.status == super::run::RunStatus::Waiting {
            self.replace_questions(&mut record, out)?;
        }
        self.finish(rule, record, depth, out, &mut follow)?;
        if let (Some(occurrence), true, Some(i)) = (state.occurrence, state.scan, current) {
            self.fan_out(i, occurrence, scanned, out, &mut follow)?;
        }
        self.drain(follow, out)?;
        // Runs that shared the effect's key go on with what it left (its kept output).
        for waiter in waiters {
            if self.store.get(Space::Runs, &waiter)?.is_some() {
                self.resume_with(&waiter, None, None, out)?;
            }
        }
        Ok(())
    }
}

impl Engine {
    /// Removes a waiting run and its place in the due-time index.
    fn forget_run(&mut self, run: &str, state: &RunState) -> Result<(), StoreError> {
        self.store.remove(Space::Runs, run)?;
        if let Waiting::Effect { key, .. } = &state.waiting {
            self.store.remove(Space::Outbox, key)?;
        }
        if let Some(d) = state.due() {
            due::unpark(self.store.as_mut(), Parked::Run, run, d)?;
        }
        Ok(())
    }
}

fn earliest(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Engine {
    /// Keeps the rule's version for the runs that wait on it (once per version).
    pub(super) fn keep_version(&mut self, rule: &Compiled) -> Result<(), StoreError> {
        let key = format!("{}@{}", rule.ir.id, rule.ir.version);
        if self.kept_versions.contains(&key) {
            return Ok(());
        }
        if self.store.get(Space::Versions, &key)?.is_none() {
            let ir = serde_json::to_value(&rule.ir)
                .map_err(|e| StoreError(format!("cannot keep rule `{key}`: {e}")))?;
            self.store.put(Space::Versions, &key, ir)?;
        }
        self.kept_versions.insert(key);
        Ok(())
    }

    /// An earlier version of a rule, compiled against today's schema; or why it
    /// cannot run.
    fn old_version(
        &mut self,
        id: &str,
        version: &str,
    ) -> Result<Result<Arc<Compiled>, String>, StoreError> {
        let key = format!("{id}@{version}");
        if let Some(rule) = self.old_rules.get(&key) {
            return Ok(Ok(rule.clone()));
        }
        let Some(value) = self.store.get(Space::Versions, &key)? else {
            return Ok(Err(format!(
                "the version it started on ({version}) was not kept"
            )));
        };
        let ir: crate::ir::Rule = match serde_json::from_value(value) {
            Ok(ir) => ir,
            Err(e) => return Ok(Err(format!("the version it started on is damaged ({e})"))),
        };
        let compiled =
            super::compile::compile_rule(&ir, &self.schema, &self.layouts, self.http_allow.clone());
        Ok(match compiled {
            Ok(rule) => {
                let rule = Arc::new(rule);
                self.old_rules.insert(key, rule.clone());
                Ok(rule)
            }
            Err(e) => Err(format!(
                "the version it started on no longer fits the schema ({e})"
            )),
        })
    }
}
