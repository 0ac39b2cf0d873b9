//! From an event to runs: what changed, which rules fire, the checks before a run
//! (status, duplicate delivery, cascade depth, condition, `limit`), and what a run
//! leaves behind (its record, failure streaks, follow-on events).

use std::collections::VecDeque;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value as Json};

use super::compile::{Compiled, When};
use super::due::{self, Parked};
use super::eval::Scope;
use super::event::{self, Event, EventKind};
use super::exec::{Env, Exec, Flow};
use super::record::{Record, Snapshot};
use super::run::{RunRecord, RunState, RunStatus, Waiting};
use super::store::{Space, StoreError};
use super::trigger;
use super::value::{describe_duration, from_json, to_json, Val};
use super::Engine;
use crate::ir::Status;

/// An event waiting to be processed, with how it came about.
pub(super) struct Pending {
    pub event: Event,
    /// Rule writes that led to it.
    pub depth: u32,
    /// The rules whose writes led to it, in order.
    pub chain: Vec<String>,
    /// Delivered again from a kept effect (see `Exec::replay`): duplicates are quiet.
    pub replayed: bool,
}

/// What an event did to its record, shared by every candidate rule.
#[derive(Default)]
pub(super) struct Facts {
    /// Values after the event (all known attributes).
    pub new: Option<Record>,
    /// Values before.
    pub old: Option<Record>,
    /// Slots whose value differs.
    pub changed: Vec<u16>,
    /// The event is older than the snapshot: it says nothing about the record now.
    pub stale: bool,
    /// What a list-entry event did to its entry.
    pub entry: Option<EntryFacts>,
}

/// What a list-entry event did to its entry's own attributes.
#[derive(Clone, Default)]
pub(super) struct EntryFacts {
    /// The list's index.
    pub list: u16,
    /// Values after (all known attributes).
    pub new: Record,
    /// Values before.
    pub old: Record,
    /// Slots whose value differs.
    pub changed: Vec<u16>,
}

/// Everything a run starts from.
pub(super) struct Start<'a> {
    pub event: Option<&'a Event>,
    pub event_id: String,
    pub record_id: Option<String>,
    pub facts: Facts,
    pub failure: Option<Json>,
    pub depth: u32,
    pub chain: &'a [String],
    pub occurrence: Option<DateTime<Utc>>,
    /// The condition was already applied (schedule filters).
    pub filtered: bool,
    /// The event is a kept effect's follow-on delivered again: a duplicate is
    /// expected and not reported.
    pub replayed: bool,
    /// A schedule's scan run ([`super::Builder::host_reads`]): it asks the host for
    /// the records and starts their runs; no condition, no `limit` of its own.
    pub scan: bool,
}

fn key(parts: &[&str]) -> String {
    parts.join("\u{1f}")
}

/// Where the engine keeps that a record has an entry in a list.
pub(super) fn membership(list: &str, id: &str) -> String {
    key(&["in-list", list, id])
}

/// Writes what a partial event carried over a record's values.
fn overlay(record: &mut Record, partial: Option<&event::Partial>) {
    if let Some(partial) = partial {
        for slot in &partial.present {
            record.0[*slot as usize] = partial.values.get(*slot).clone();
        }
    }
}

impl Engine {
    pub(super) fn env(&mut self) -> Env<'_> {
        Env {
            store: self.store.as_mut(),
            layouts: &self.layouts,
            schema: &self.schema,
            secrets: self.secrets.as_ref(),
            refused: None,
            revealed: Vec::new(),
            failed: None,
            pending: &mut self.pending,
            read: Vec::new(),
        }
    }

    /// Handles an event and every event its rules' writes cause, breadth first.
    pub(super) fn process(
        &mut self,
        event: Event,
        out: &mut Vec<RunRecord>,
    ) -> Result<(), StoreError> {
        let mut queue = VecDeque::from([Pending {
            event,
            depth: 0,
            chain: Vec::new(),
            replayed: false,
        }]);
        while let Some(pending) = queue.pop_front() {
            let follow = self.process_one(&pending, out)?;
            queue.extend(follow);
        }
        Ok(())
    }

    fn process_one(
        &mut self,
        pending: &Pending,
        out: &mut Vec<RunRecord>,
    ) -> Result<Vec<Pending>, StoreError> {
        let settled;
        let (event, entry) = match self.observe_entry(&pending.event)? {
            Some((with_entry, entry)) => {
                settled = with_entry;
                (&settled, Some(entry))
            }
            None => (&pending.event, None),
        };
        self.remember_lists(event)?;
        let mut facts = self.observe(event)?;
        facts.entry = entry;
        let candidates = self.index.candidates(
            event.kind,
            event.object,
            event.webhook.as_deref(),
            &facts.changed,
        );
        let rules = self.rules.clone();
        let mut follow = Vec::new();
        for i in candidates {
            let rule = &rules[i];
            if let (Some(window), Some(id)) = (rule.ir.coalesce_seconds, &event.record_id) {
                if matches!(
                    event.kind,
                    EventKind::RecordCreated | EventKind::RecordUpdated
                ) {
                    self.buffer(rule, event, id, &facts, window)?;
                    continue;
                }
            }
            if !self.fires(rule, event, &facts)? {
                continue;
            }
            let start = Start {
                event: Some(event),
                event_id: event.id.to_string(),
                record_id: event.record_id.as_deref().map(str::to_string),
                facts: Facts {
                    new: facts.new.clone(),
                    old: facts.old.clone(),
                    changed: Vec::new(),
                    stale: facts.stale,
                    entry: None,
                },
                failure: None,
                depth: pending.depth,
                chain: &pending.chain,
                occurrence: None,
                filtered: false,
                replayed: pending.replayed,
                scan: false,
            };
            self.start(i, start, out, &mut follow)?;
        }
        Ok(follow)
    }

    /// Works out a list entry's values before and after and keeps its snapshot (as
    /// a record's, under `list:<name>`); the event handed on carries the entry as it
    /// is now, so `entry.stage` reads every attribute, not only those that came.
    fn observe_entry(&mut self, event: &Event) -> Result<Option<(Event, EntryFacts)>, StoreError> {
        let Some(entry) = &event.entry else {
            return Ok(None);
        };
        let layout = &self.layouts.lists[entry.list as usize];
        let previous = match &entry.id {
            Some(id) => self.store.record(&layout.object, id)?,
            None => None,
        };
        let stale = previous
            .as_ref()
            .and_then(|s| s.at)
            .is_some_and(|at| at > event.at);
        let prev = previous.as_ref().map(|s| s.aligned(layout));
        let mut new = prev.clone().unwrap_or_else(|| layout.empty());
        overlay(&mut new, entry.values.as_ref());
        let old = match (&entry.old, prev) {
            (Some(partial), _) => {
                let mut old = new.clone();
                overlay(&mut old, Some(partial));
                old
            }
            _ if event.kind == EventKind::ListEntryCreated => layout.empty(),
            (None, Some(prev)) if !stale => prev,
            _ => new.clone(),
        };
        let changed = match event.kind {
            EventKind::ListEntryCreated | EventKind::ListEntryUpdated => (0..new.0.len() as u16)
                .filter(|s| old.get(*s) != new.get(*s))
                .collect(),
            _ => Vec::new(),
        };
        match (&entry.id, event.kind) {
            (Some(id), EventKind::ListEntryDeleted) => {
                self.store.remove_record(&layout.object, id)?
            }
            (Some(id), _) if !stale => {
                let snapshot = Snapshot {
                    at: Some(event.at),
                    names: layout.names.clone(),
                    values: new.clone(),
                };
                self.store
                    .put_record(&layout.object, id, Arc::new(snapshot))?;
            }
            _ => {}
        }
        let mut values = Map::new();
        if let Some(id) = &entry.id {
            values.insert("id".into(), Json::String(id.to_string()));
        }
        for (slot, value) in new.0.iter().enumerate() {
            if !value.is_empty() {
                let json = to_json(value, &layout.types[slot], true);
                values.insert(layout.names[slot].to_string(), json);
            }
        }
        let mut settled = event.clone();
        settled.set_entry(Json::Object(values));
        let facts = EntryFacts {
            list: entry.list,
            new,
            old,
            changed,
        };
        Ok(Some((settled, facts)))
    }

    /// Keeps which lists a record is in: from its entries' events and from a host's
    /// `lists` (read with the event), for `in list` conditions.
    fn remember_lists(&mut self, event: &Event) -> Result<(), StoreError> {
        let (Some(object), Some(id)) = (event.object, event.record_id.as_deref()) else {
            return Ok(());
        };
        match (event.kind, &event.list) {
            // An entry that changes is there.
            (EventKind::ListEntryCreated | EventKind::ListEntryUpdated, Some(list)) => {
                self.set_member(list, id, true, event.at)?
            }
            (EventKind::ListEntryDeleted, Some(list)) => {
                self.set_member(list, id, false, event.at)?
            }
            _ => {}
        }
        if let Some(lists) = &event.lists {
            let object = self.layouts.objects[object as usize].object.clone();
            self.lists_of(&object, id, lists, event.at)?;
        }
        for (object, id, lists) in &event.related_lists {
            self.lists_of(object, id, lists, event.at)?;
        }
        Ok(())
    }

    /// A record is in `lists` and in no other list of its object.
    fn lists_of(
        &mut self,
        object: &str,
        id: &str,
        lists: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let holding: Vec<String> = self
            .schema
            .lists
            .iter()
            .filter(|l| l.object == object)
            .map(|l| l.name.clone())
            .collect();
        for list in holding {
            let inside = lists.contains(&list);
            self.set_member(&list, id, inside, at)?;
        }
        Ok(())
    }

    /// Records membership as of `at`; what an older event says (a redelivered
    /// addition after the removal) changes nothing.
    fn set_member(
        &mut self,
        list: &str,
        id: &str,
        inside: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = membership(list, id);
        let since = at.timestamp_millis();
        let known = self.store.get(Space::Flags, &key)?;
        if known
            .as_ref()
            .and_then(|k| k.get("since"))
            .and_then(Json::as_i64)
            .is_some_and(|newer| newer > since)
        {
            return Ok(());
        }
        self.store
            .put(Space::Flags, &key, json!({ "in": inside, "since": since }))
    }

    /// Works out the record's values before and after, and keeps the snapshot.
    fn observe(&mut self, event: &Event) -> Result<Facts, StoreError> {
        let (Some(object), Some(id)) = (event.object, event.record_id.as_deref()) else {
            return Ok(Facts::default());
        };
        let layout = &self.layouts.objects[object as usize];
        let previous = self.store.record(&layout.object, id)?;
        let stale = previous
            .as_ref()
            .and_then(|s| s.at)
            .is_some_and(|at| at > event.at);
        let prev = previous.as_ref().map(|s| s.aligned(layout));
        let mut new = prev.clone().unwrap_or_else(|| layout.empty());
        if let Some(partial) = &event.record {
            for slot in &partial.present {
                new.0[*slot as usize] = partial.values.get(*slot).clone();
            }
        }
        let snapshot_differs =
            prev.as_ref() != Some(&new) || previous.as_ref().and_then(|s| s.at) != Some(event.at);
        let old = match (&event.old, prev) {
            (Some(partial), _) => {
                let mut old = new.clone();
                for slot in &partial.present {
                    old.0[*slot as usize] = partial.values.get(*slot).clone();
                }
                old
            }
            // A creation is a change from empty, whatever the engine held before.
            _ if event.kind == EventKind::RecordCreated => layout.empty(),
            // Without `old`, the last snapshot is the before; a late event cannot
            // say what it changed, so it changes nothing.
            (None, Some(prev)) if !stale => prev,
            _ => new.clone(),
        };
        let changed = if matches!(
            event.kind,
            EventKind::RecordCreated | EventKind::RecordUpdated
        ) {
            (0..new.0.len() as u16)
                .filter(|s| old.get(*s) != new.get(*s))
                .collect()
        } else {
            Vec::new()
        };
        match event.kind {
            EventKind::RecordDeleted => self.store.remove_record(&layout.object, id)?,
            _ if stale => {}
            _ if event.partial && previous.is_none() => {}
            EventKind::RecordCreated | EventKind::RecordUpdated | EventKind::RecordMerged
                if snapshot_differs =>
            {
                let snapshot = Snapshot {
                    at: Some(event.at),
                    names: layout.names.clone(),
                    values: new.clone(),
                };
                self.store
                    .put_record(&layout.object, id, Arc::new(snapshot))?;
            }
            EventKind::RecordCreated | EventKind::RecordUpdated | EventKind::RecordMerged => {}
            _ if event.record.is_some() => {
                let snapshot = Snapshot {
                    at: Some(event.at),
                    names: layout.names.clone(),
                    values: new.clone(),
                };
                self.store
                    .put_record(&layout.object, id, Arc::new(snapshot))?;
            }
            _ => {}
        }
        Ok(Facts {
            new: Some(new),
            old: Some(old),
            changed,
            stale,
            entry: None,
        })
    }

    /// Whether a candidate rule's trigger matches the event.
    pub(super) fn fires(
        &mut self,
        rule: &Compiled,
        event: &Event,
        facts: &Facts,
    ) -> Result<bool, StoreError> {
        let records = (facts.old.as_ref(), facts.new.as_ref());
        let changed = |slot: u16| facts.changed.contains(&slot);
        let any = || !facts.changed.is_empty();
        let on_change = trigger::fires_on_change(&rule.trigger, records, changed, any, |filter| {
            let Some(id) = event.record_id.as_deref() else {
                return Ok((false, false));
            };
            let now = self.clock.now();
            let zone = rule.zone;
            let mut env = self.env();
            env.read.clone_from(&event.related);
            let scope = |record| Scope {
                record,
                record_id: event.record_id(),
                old: None,
                event: Some(event),
                failure: None,
                candidate: None,
                bindings: &[],
                now: now.into(),
                zone,
            };
            let inside = filter.holds(&scope(facts.new.as_ref()), &mut env);
            let flag = key(&[&rule.ir.id, id]);
            // Like `changed`: an event that says what the record was decides the
            // edge itself (so late and repeated deliveries agree); otherwise the
            // engine's own memory of whether the record matched does.
            let before = if event.kind == EventKind::RecordCreated {
                false
            } else if event.old.is_some() {
                filter.holds(&scope(facts.old.as_ref()), &mut env)
            } else {
                match env.store.get(Space::Flags, &flag)? {
                    Some(v) => v.as_bool().unwrap_or(false),
                    None => filter.holds(&scope(facts.old.as_ref()), &mut env),
                }
            };
            // A late event (a redelivered `created` after the updates, a replay
            // after a restart) is about the past: the flag stays what the newest
            // event made it, or the next real edge would be missed.
            if before != inside && !facts.stale {
                env.store.put(Space::Flags, &flag, Json::Bool(inside))?;
            }
            Ok((inside, before))
        })?;
        if let Some(answer) = on_change {
            return Ok(answer);
        }
        Ok(match &rule.trigger {
            When::Webhook(_) => true,
            When::Command(name) => event.command.as_deref() == Some(name.as_str()),
            When::List { list, .. } => event.list.as_deref() == Some(list.as_str()),
            When::Entry {
                list,
                slot,
                from,
                to,
            } => match &facts.entry {
                Some(entry) if entry.list == *list => match slot {
                    None => event.kind == EventKind::ListEntryUpdated && !entry.changed.is_empty(),
                    Some(slot) => {
                        entry.changed.contains(slot)
                            && from.accepts(entry.old.get(*slot))
                            && to.accepts(entry.new.get(*slot))
                    }
                },
                _ => false,
            },
            When::Activity(kind) => event.kind == *kind,
            // Record changes are judged above; failures and schedules never come as
            // events.
            _ => false,
        })
    }

    fn record_for(&self, rule: &Compiled, start: &Start, run: String) -> RunRecord {
        RunRecord {
            rule: rule.ir.id.clone(),
            version: rule.ir.version.clone(),
            event: start.event_id.clone(),
            object: rule
                .object
                .map(|o| self.layouts.objects[o as usize].object.clone()),
            record: start.record_id.clone(),
            status: RunStatus::Completed,
            reason: None,
            effects: Vec::new(),
            steps: Vec::new(),
            run,
            at: self.clock.now(),
            depth: start.depth,
        }
    }

    /// Checks and runs one rule for one trigger.
    pub(super) fn start(
        &mut self,
        i: usize,
        start: Start,
        out: &mut Vec<RunRecord>,
        follow: &mut Vec<Pending>,
    ) -> Result<(), StoreError> {
        let rules = self.rules.clone();
        let rule = &rules[i];
        let run_id = format!("{}@{}", rule.ir.id, start.event_id);
        let mut record = self.record_for(rule, &start, run_id.clone());
        let suppressed = |mut record: RunRecord, status: RunStatus, reason: String| {
            record.status = status;
            record.reason = Some(reason);
            record
        };
        if rule.ir.status != Status::Active {
            let status = format!("{:?}", rule.ir.status).to_lowercase();
            let record = suppressed(
                record,
                RunStatus::Suppressed,
                format!("inactive (status {status})"),
            );
            return self.finish(rule, record, start.depth, out, follow);
        }
        if self.paused.contains(&rule.ir.id) {
            let record = suppressed(
                record,
                RunStatus::Suppressed,
                "paused by an operator".into(),
            );
            return self.finish(rule, record, start.depth, out, follow);
        }
        let delivered = key(&[&rule.ir.id, &start.event_id]);
        if self.store.get(Space::Delivered, &delivered)?.is_some() {
            if !start.replayed {
                let record = suppressed(record, RunStatus::Suppressed, "duplicate".into());
                out.push(record);
            }
            return Ok(());
        }
        // The time lets retention forget the marker (see `Engine::prune`).
        let at = self.clock.now().timestamp();
        self.store.put(Space::Delivered, &delivered, json!(at))?;
        let now = self.clock.now();
        if let (Some(condition), false) = (&rule.condition, start.filtered) {
            let scope = Scope {
                record: start.facts.new.as_ref(),
                record_id: start.record_id.as_deref(),
                old: start.facts.old.as_ref(),
                event: start.event,
                failure: start.failure.as_ref(),
                candidate: None,
                bindings: &[],
                now: now.into(),
                zone: rule.zone,
            };
            let mut env = self.env();
            if let Some(event) = start.event {
                env.read.clone_from(&event.related);
            }
            let holds = condition.holds(&scope, &mut env);
            if let Some(e) = env.failed.take() {
                return Err(e);
            }
            if !holds {
                let record = suppressed(record, RunStatus::Skipped, "condition is false".into());
                return self.finish(rule, record, start.depth, out, follow);
            }
        }
        // Only a run that would act counts towards a cascade.
        if start.depth > self.max_depth {
            let mut chain = start.chain.to_vec();
            chain.push(rule.ir.id.clone());
            let reason = format!(
                "cascade stopped: rule writes led to one another more than {} times ({}); the rules in the loop are {}",
                self.max_depth,
                chain.join(" → "),
                loop_of(&chain).join(", ")
            );
            let record = suppressed(record, RunStatus::Failed, reason);
            return self.finish(rule, record, start.depth, out, follow);
        }
        if let (Some(limit), false) = (rule.ir.limit, start.scan) {
            let mut times: Vec<i64> = self
                .store
                .get(Space::Limits, &rule.ir.id)?
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default();
            let t = now.timestamp();
            times.retain(|x| *x > t - limit.window_seconds);
            if times.len() >= limit.count as usize {
                let reason = format!(
                    "rate-limit: {} runs in the last {}",
                    limit.count,
                    describe_duration(limit.window_seconds)
                );
                let record = suppressed(record, RunStatus::Suppressed, reason);
                return self.finish(rule, record, start.depth, out, follow);
            }
            times.push(t);
            self.store.put(Space::Limits, &rule.ir.id, json!(times))?;
        }
        record.at = now;
        let handlers = self.handlers.clone();
        let (outbox, host_reads, park_after) = (self.outbox, self.host_reads, self.park_after);
        let mut exec = Exec::new(self.env(), &handlers, rule, now, start.event, record);
        exec.outbox = outbox;
        exec.host_reads = host_reads;
        exec.park_after = park_after;
        exec.record = start.facts.new;
        exec.old = start.facts.old;
        exec.failure = start.failure;
        exec.chain = start.chain.to_vec();
        exec.occurrence = start.occurrence;
        exec.scan = start.scan;
        let (flow, pc) = exec.walk(&[])?;
        let scanned = std::mem::take(&mut exec.scanned);
        let replacing = exec.replacing;
        let (record, next_due) = conclude(exec, flow, pc, follow)?;
        if let Some(due) = next_due {
            self.note_due(due);
        }
        let mut record = record;
        if replacing && record.status == RunStatus::Waiting {
            self.replace_questions(&mut record, out)?;
        }
        self.finish(rule, record, start.depth, out, follow)?;
        if let Some(occurrence) = start.occurrence.filter(|_| start.scan) {
            self.fan_out(i, occurrence, scanned, out, follow)?;
        }
        Ok(())
    }

    /// `ask … replace`: the rule's other runs about the same record that still wait
    /// for an answer end, skipped, naming the run that replaced them. Their answer,
    /// should one come, finds no run waiting for it.
    /// A question asked for an event older than one already open (a late delivery)
    /// is the one replaced: it ends at once.
    pub(super) fn replace_questions(
        &mut self,
        newer: &mut RunRecord,
        out: &mut Vec<RunRecord>,
    ) -> Result<(), StoreError> {
        let Some(record_id) = newer.record.clone() else {
            return Ok(());
        };
        let asked_at = |state: &RunState| {
            state
                .event
                .as_ref()
                .and_then(|e| e["at"].as_str())
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc))
        };
        let newer_at = match self.store.get(Space::Runs, &newer.run)? {
            Some(value) => serde_json::from_value::<RunState>(value)
                .ok()
                .and_then(|s| asked_at(&s)),
            None => None,
        };
        let mut older = Vec::new();
        for (key, value) in self.store.scan(Space::Runs)? {
            if key == newer.run {
                continue;
            }
            let Ok(state) = serde_json::from_value::<RunState>(value) else {
                continue;
            };
            let same = state.record.rule == newer.rule
                && state.record.record.as_ref() == Some(&record_id)
                && matches!(state.waiting, Waiting::Answer { .. });
            if !same {
                continue;
            }
            if let (Some(open), Some(late)) = (asked_at(&state), newer_at) {
                if open > late {
                    // The open question is about a later state of the record.
                    self.end_waiting(&newer.run)?;
                    newer.status = RunStatus::Skipped;
                    newer.reason = Some(format!(
                        "replaced by a newer question (run {})",
                        state.record.run
                    ));
                    return Ok(());
                }
            }
            older.push((key, state));
        }
        for (key, state) in older {
            self.end_waiting(&key)?;
            let mut record = state.record;
            record.status = RunStatus::Skipped;
            record.reason = Some(format!("replaced by a newer question (run {})", newer.run));
            record.at = self.clock.now();
            self.store.append_run(&record)?;
            out.push(record);
        }
        Ok(())
    }

    /// Forgets a waiting run: its state and its place in the due queue.
    fn end_waiting(&mut self, key: &str) -> Result<(), StoreError> {
        if let Some(value) = self.store.get(Space::Runs, key)? {
            if let Some(due) = serde_json::from_value::<RunState>(value)
                .ok()
                .and_then(|s| s.due())
            {
                due::unpark(self.store.as_mut(), Parked::Run, key, due)?;
            }
        }
        self.store.remove(Space::Runs, key)
    }

    /// Keeps the earliest due time known.
    pub(super) fn note_due(&mut self, due: DateTime<Utc>) {
        if let Some(known) = &mut self.next_due {
            *known = Some(known.map_or(due, |k| k.min(due)));
        }
    }

    /// Stores a run's record, then runs the meta-rules its failure streak starts.
    pub(super) fn finish(
        &mut self,
        rule: &Compiled,
        record: RunRecord,
        depth: u32,
        out: &mut Vec<RunRecord>,
        follow: &mut Vec<Pending>,
    ) -> Result<(), StoreError> {
        self.store.append_run(&record)?;
        if record.status == RunStatus::Waiting {
            self.keep_version(rule)?;
        }
        let streak = match record.status {
            RunStatus::Failed => {
                let n = self
                    .store
                    .get(Space::Streaks, &rule.ir.id)?
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0)
                    + 1;
                self.store.put(Space::Streaks, &rule.ir.id, json!(n))?;
                Some(n)
            }
            RunStatus::Completed => {
                if self.store.get(Space::Streaks, &rule.ir.id)?.is_some() {
                    self.store.remove(Space::Streaks, &rule.ir.id)?;
                }
                None
            }
            _ => None,
        };
        let failure = streak.map(|n| {
            let step = record
                .steps
                .iter()
                .rev()
                .find(|s| s.error.is_some())
                .map(|s| format!("{} (line {})", s.action, s.line))
                .unwrap_or_default();
            json!({ "rule": record.rule, "error": record.reason, "step": step, "count": n })
        });
        let event_id = record.event.clone();
        let chain = vec![rule.ir.id.clone()];
        out.push(record);
        let (Some(failure), Some(n)) = (failure, streak) else {
            return Ok(());
        };
        let watchers: Vec<usize> = self.index.watching(&rule.ir.id).to_vec();
        let rules = self.rules.clone();
        for w in watchers {
            let When::RuleFailed { times, .. } = &rules[w].trigger else {
                continue;
            };
            if n != u64::from(*times) {
                continue;
            }
            let start = Start {
                event: None,
                event_id: format!("{event_id}>failed:{}", rule.ir.id),
                record_id: None,
                facts: Facts::default(),
                failure: Some(failure.clone()),
                depth: depth + 1,
                chain: &chain,
                occurrence: None,
                filtered: false,
                replayed: false,
                scan: false,
            };
            self.start(w, start, out, follow)?;
        }
        Ok(())
    }

    /// Adds an update to a rule's coalesce buffer for the record.
    fn buffer(
        &mut self,
        rule: &Compiled,
        event: &Event,
        id: &str,
        facts: &Facts,
        window: i64,
    ) -> Result<(), StoreError> {
        let buffer_key = key(&[&rule.ir.id, id]);
        let now = self.clock.now();
        let mut entry = match self.store.get(Space::Coalesce, &buffer_key)? {
            Some(entry) => entry,
            None => {
                let object = event.object.unwrap_or(0);
                let layout = &self.layouts.objects[object as usize];
                let mut old = Map::new();
                if let Some(values) = &facts.old {
                    for (slot, name) in layout.names.iter().enumerate() {
                        old.insert(
                            name.to_string(),
                            to_json(values.get(slot as u16), &layout.types[slot], false),
                        );
                    }
                }
                let due = super::value::shift(now, window).unwrap_or(DateTime::<Utc>::MAX_UTC);
                self.note_due(due);
                due::park(self.store.as_mut(), Parked::Window, &buffer_key, due)?;
                json!({ "due": due, "first": event.id.as_ref(), "old": old, "count": 0 })
            }
        };
        entry["last"] = event.raw.json();
        entry["count"] = json!(entry["count"].as_u64().unwrap_or(0) + 1);
        self.store.put(Space::Coalesce, &buffer_key, entry)
    }

    /// Runs a coalesced burst as one event: values before the first, after the last.
    pub(super) fn flush_buffer(
        &mut self,
        buffer_key: &str,
        entry: &Json,
        out: &mut Vec<RunRecord>,
    ) -> Result<(), StoreError> {
        self.store.remove(Space::Coalesce, buffer_key)?;
        if let Some(d) = entry["due"].as_str().and_then(super::value::parse_time) {
            due::unpark(self.store.as_mut(), Parked::Window, buffer_key, d)?;
        }
        let rule_id = buffer_key.split('\u{1f}').next().unwrap_or_default();
        let Some(&i) = self.by_id.get(rule_id) else {
            return Ok(());
        };
        let Ok(last) = event::parse(entry["last"].clone(), &self.schema, &self.layouts) else {
            return Ok(());
        };
        let (Some(object), Some(id)) = (last.object, last.record_id.clone()) else {
            return Ok(());
        };
        let layout = &self.layouts.objects[object as usize];
        let new = match self.store.record(&layout.object, &id)? {
            Some(s) => s.aligned(layout),
            None => layout.empty(),
        };
        let mut old = layout.empty();
        if let Some(Json::Object(values)) = entry.get("old") {
            for (name, v) in values {
                if let Some(slot) = layout.slot(name) {
                    old.0[slot as usize] =
                        from_json(v, &layout.types[slot as usize]).unwrap_or(Val::Empty);
                }
            }
        }
        let changed = (0..new.0.len() as u16)
            .filter(|s| old.get(*s) != new.get(*s))
            .collect();
        let facts = Facts {
            entry: None,
            new: Some(new),
            old: Some(old),
            changed,
            stale: false,
        };
        let rules = self.rules.clone();
        if !self.fires(&rules[i], &last, &facts)? {
            return Ok(());
        }
        let first = entry["first"].as_str().unwrap_or(&last.id).to_string();
        let count = entry["count"].as_u64().unwrap_or(1);
        let mut follow = Vec::new();
        let start = Start {
            event: Some(&last),
            event_id: if count > 1 {
                format!("{first}+{}", count - 1)
            } else {
                first
            },
            record_id: Some(id.to_string()),
            facts,
            failure: None,
            depth: 0,
            chain: &[],
            occurrence: None,
            filtered: false,
            replayed: false,
            scan: false,
        };
        self.start(i, start, out, &mut follow)?;
        self.drain(follow, out)
    }

    /// Processes follow-on events (and theirs).
    pub(super) fn drain(
        &mut self,
        follow: Vec<Pending>,
        out: &mut Vec<RunRecord>,
    ) -> Result<(), StoreError> {
        let mut queue: VecDeque<Pending> = follow.into();
        while let Some(pending) = queue.pop_front() {
            let more = self.process_one(&pending, out)?;
            queue.extend(more);
        }
        Ok(())
    }
}

/// The repeating tail of a cascade chain: the rules in the loop.
fn loop_of(chain: &[String]) -> Vec<String> {
    let Some(last) = chain.last() else {
        return Vec::new();
    };
    let start = chain[..chain.len() - 1]
        .iter()
        .rposition(|r| r == last)
        .map(|p| p + 1)
        .unwrap_or(0);
    let mut rules: Vec<String> = chain[start..].to_vec();
    rules.dedup();
    rules
}

/// Turns the end of a walk into the run's record, saving the run if it waits and
/// queueing the events its writes cause. Returns when a waiting run is due.
pub(super) fn conclude(
    exec: Exec,
    flow: Flow,
    pc: Vec<u32>,
    follow: &mut Vec<Pending>,
) -> Result<(RunRecord, Option<DateTime<Utc>>), StoreError> {
    let mut exec = exec;
    let mut due = None;
    let mut parked = None;
    let run_key = exec.run.run.clone();
    match flow {
        Flow::Next | Flow::Stop => exec.run.status = RunStatus::Completed,
        Flow::Skip(reason) => {
            exec.run.status = RunStatus::Skipped;
            exec.run.reason = Some(reason.unwrap_or_else(|| "skipped".into()));
        }
        Flow::Fail(message) => {
            exec.run.status = RunStatus::Failed;
            exec.run.reason = Some(message);
        }
        Flow::Suspend(waiting) => {
            exec.run.status = RunStatus::Waiting;
            exec.run.reason = Some(match &waiting {
                Waiting::Time { until } => format!("waiting until {}", until.to_rfc3339()),
                Waiting::Answer {
                    timeout: Some(t), ..
                } => {
                    format!("waiting for an answer (until {})", t.to_rfc3339())
                }
                Waiting::Effect {
                    due: Some(due),
                    log,
                    ..
                } => format!(
                    "waiting to try `{}` again at {}",
                    exec.run.steps.get(*log).map_or("", |s| s.action.as_str()),
                    due.to_rfc3339()
                ),
                Waiting::Effect { log, .. } => format!(
                    "waiting for `{}` to be performed",
                    exec.run.steps.get(*log).map_or("", |s| s.action.as_str())
                ),
                _ => "waiting for an answer".to_string(),
            });
            let state: RunState = exec.state(pc, waiting);
            due = state.due();
            parked = Some(state);
        }
    }
    // Whatever the run waited for before (it is being resumed) is over.
    if let Some(before) = exec.env.store.get(Space::Runs, &run_key)? {
        if let Some(d) = serde_json::from_value::<RunState>(before)
            .ok()
            .and_then(|s| s.due())
        {
            due::unpark(exec.env.store, Parked::Run, &run_key, d)?;
        }
        if exec.run.status != RunStatus::Waiting {
            exec.env.store.remove(Space::Runs, &run_key)?;
        }
    }
    if let Some(state) = parked {
        let value = serde_json::to_value(&state).map_err(|e| StoreError(e.to_string()))?;
        exec.env.store.put(Space::Runs, &run_key, value)?;
        if let Some(d) = due {
            due::park(exec.env.store, Parked::Run, &run_key, d)?;
        }
    }
    let mut chain = exec.chain.clone();
    chain.push(exec.rule.ir.id.clone());
    let depth = exec.run.depth + 1;
    let mut raw: Vec<(Json, bool)> = std::mem::take(&mut exec.follow);
    raw.extend(exec.update_events().into_iter().map(|e| (e, false)));
    for (json, replayed) in raw {
        match event::parse(json, exec.env.schema, exec.env.layouts) {
            Ok(event) => follow.push(Pending {
                event,
                depth,
                chain: chain.clone(),
                replayed,
            }),
            // A write whose event the engine cannot read back is a bug, never a reason
            // to lose the rules it would trigger in silence.
            Err(e) => {
                exec.run.status = RunStatus::Failed;
                exec.run.reason = Some(format!("its follow-on event was rejected: {e}"));
            }
        }
    }
    Ok((exec.run, due))
}
