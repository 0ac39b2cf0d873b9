//! The outbox (serve.md §1): with [`super::Builder::outbox`], an effect is not
//! performed inside the engine. The run parks on the effect's key, an entry goes into
//! [`Space::Outbox`] in the same commit as the state that led to it, and the host
//! takes the effect ([`super::Engine::take_effects`]), performs it, and answers with
//! [`super::Engine::complete`], which goes on with the run exactly where the inline
//! handler's answer would have.
//!
//! An entry holds what the run showed (secrets as `***`), never the arguments with
//! secrets resolved: those exist only in the [`Effect`] handed to the host. After a
//! restart the engine derives them again by walking the parked run to its step.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::effect::{ActionKind, Effect, Handlers, Outcome};
use super::run::RunRecord;
use super::store::{Space, Store, StoreError};
use super::{Engine, EngineError, WriteMark};

/// Where an effect in the outbox stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EffectState {
    /// Waiting to be taken by the host.
    Pending,
    /// Taken by the host, not yet answered. Found after a restart, it may or may not
    /// have happened: the host reconciles it, or repeats it under the same key.
    InFlight,
    /// Failed in a way that may pass; taken again at its due time.
    Retrying,
    /// Failed every attempt ([`crate::engine::Builder::park_after`]): a dead letter,
    /// kept with its last error until an operator retries
    /// ([`Engine::retry_parked`]) or drops ([`Engine::drop_parked`]) it. Its run
    /// waits; other runs go on.
    Parked,
}

impl EffectState {
    /// Its stored name (`in_flight`).
    pub fn name(self) -> &'static str {
        match self {
            EffectState::Pending => "pending",
            EffectState::InFlight => "in_flight",
            EffectState::Retrying => "retrying",
            EffectState::Parked => "parked",
        }
    }
}

/// One effect in the outbox, as stored (no secrets).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// The run that waits for it.
    pub run: String,
    /// The rule and its version.
    pub rule: String,
    /// The rule's version.
    pub version: String,
    /// The step's position.
    pub step: String,
    /// `slack`, `http`, `create`, … or a custom action's name.
    pub action: String,
    /// The attempt the host is to make (1 for the first).
    pub attempt: u32,
    /// Where it stands.
    pub state: EffectState,
    /// When a retry is due.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<DateTime<Utc>>,
    /// The arguments as the run record shows them (secrets as `***`).
    pub input: Json,
    /// The last error, with secrets scrubbed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Other runs that reached the same key (a shared `key`) and wait for this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
    /// When it entered the outbox.
    pub queued: DateTime<Utc>,
}

impl OutboxEntry {
    /// The entry under `key`, if any.
    pub(super) fn load(store: &dyn Store, key: &str) -> Result<Option<OutboxEntry>, StoreError> {
        let Some(value) = store.get(Space::Outbox, key)? else {
            return Ok(None);
        };
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| StoreError(format!("damaged outbox entry `{key}`: {e}")))
    }

    /// Writes the entry under `key`.
    pub(super) fn save(&self, store: &mut dyn Store, key: &str) -> Result<(), StoreError> {
        let value = serde_json::to_value(self).map_err(|e| StoreError(e.to_string()))?;
        store.put(Space::Outbox, key, value)
    }
}

impl Engine {
    /// The effects for the host to perform now: those put in the outbox since the
    /// last call, retries that fell due at a tick, and — at the first call of a new
    /// engine — every effect an earlier process left in the outbox, pending or in
    /// flight (look at [`Engine::outbox`] first to tell which were in flight). All
    /// state is committed before they are handed out, and each is marked in flight:
    /// the host performs nothing the store could forget.
    pub fn take_effects(&mut self) -> Result<Vec<Effect>, EngineError> {
        if !self.recovered {
            self.recovered = true;
            self.recover()?;
        }
        let effects = std::mem::take(&mut self.pending);
        for effect in &effects {
            if let (Some(record), Some(ActionKind::Set | ActionKind::Clear)) =
                (&effect.record, effect.kind())
            {
                self.writes.taken(&effect.key, record);
            }
            if let Some(mut entry) = OutboxEntry::load(self.store.as_ref(), &effect.key)? {
                entry.state = EffectState::InFlight;
                entry.save(self.store.as_mut(), &effect.key)?;
            }
        }
        self.flush()?;
        Ok(effects)
    }

    /// Answers an effect the host took: the run that waits for it goes on exactly as
    /// with a handler's answer — a done effect's output is bound and its follow-on
    /// event delivered, a deferral waits for [`Engine::resume`], a retryable error
    /// within the step's `retry` comes back at its backoff time ([`backoff`]), any
    /// other error fails the step. Answering an effect twice, or one that is not in
    /// flight, is [`EngineError::NotPending`] and changes nothing.
    pub fn complete(
        &mut self,
        effect: &str,
        outcome: Outcome,
    ) -> Result<Vec<RunRecord>, EngineError> {
        let entry = OutboxEntry::load(self.store.as_ref(), effect)?
            .filter(|e| e.state != EffectState::Retrying)
            .ok_or_else(|| EngineError::NotPending(effect.to_string()))?;
        let mut out = Vec::new();
        self.resume_with(
            &entry.run,
            None,
            Some((effect.to_string(), outcome)),
            &mut out,
        )?;
        if self.writes.is_unanswered(effect) {
            // Answered, or parked for an operator: either way nothing of it is on
            // its way to the CRM any more. A retry keeps it unanswered.
            let settled = OutboxEntry::load(self.store.as_ref(), effect)?
                .is_none_or(|e| e.state == EffectState::Parked);
            if settled {
                self.writes.settled(effect);
            }
        }
        Ok(out)
    }

    /// A mark of where the writes stand now, for [`Engine::written_since`]: take one
    /// before reading records from the CRM. A mark holds until the next is taken.
    pub fn write_mark(&mut self) -> WriteMark {
        self.writes.mark()
    }

    /// Whether a read of the record taken at `mark` may disagree with the engine's
    /// snapshot because of the engine's own writes: one is on its way now (waiting
    /// to be taken, taken, or waiting for a retry), or one was handed out or
    /// answered since the mark. Such a read should be taken again.
    pub fn written_since(&self, object: &str, record: &str, mark: WriteMark) -> bool {
        let key = (object.to_string(), record.to_string());
        self.writes.since(&key, mark)
            || self.pending.iter().any(|e| {
                matches!(e.kind(), Some(ActionKind::Set | ActionKind::Clear))
                    && e.record.as_ref() == Some(&key)
            })
    }

    /// The records (object, id) that writes of this engine's runs (`set`, `clear`)
    /// are on their way to: taken by the host (or waiting to be), and not answered.
    ///
    /// Such a record's values in the CRM may already hold a write whose answer —
    /// and so the follow-on event that moves the engine's snapshot — the engine has
    /// not had. A host that reads the record then and hands it in as an event would
    /// make the engine see its own write as someone's change. A host reading the
    /// CRM (`rulec serve`) holds a record's events until its writes are answered.
    /// Writes parked for an operator are not listed: nothing of them is in flight.
    pub fn writes_unanswered(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .writes
            .records()
            .cloned()
            .chain(
                self.pending
                    .iter()
                    .filter(|e| matches!(e.kind(), Some(ActionKind::Set | ActionKind::Clear)))
                    .filter_map(|e| e.record.clone()),
            )
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Hands a parked effect out again, as a fresh attempt (an operator fixed what
    /// made it fail). Returns the runs' records as they went on.
    pub fn retry_parked(&mut self, effect: &str) -> Result<Vec<RunRecord>, EngineError> {
        let mut entry = self.parked(effect)?;
        entry.attempt += 1;
        entry.state = EffectState::Pending;
        entry.error = None;
        entry.save(self.store.as_mut(), effect)?;
        let mut out = Vec::new();
        self.resume_with(&entry.run, None, None, &mut out)?;
        Ok(out)
    }

    /// Gives up on a parked effect: its step fails with the last error (or goes on,
    /// with `on error continue`), as if the last attempt had been final.
    pub fn drop_parked(&mut self, effect: &str) -> Result<Vec<RunRecord>, EngineError> {
        let entry = self.parked(effect)?;
        let error = entry.error.unwrap_or_default();
        let message = format!(
            "dropped by an operator after {} attempts: {error}",
            entry.attempt
        );
        self.complete(effect, Outcome::fail(message))
    }

    fn parked(&self, effect: &str) -> Result<OutboxEntry, EngineError> {
        OutboxEntry::load(self.store.as_ref(), effect)?
            .filter(|e| e.state == EffectState::Parked)
            .ok_or_else(|| EngineError::NotPending(effect.to_string()))
    }

    /// What is in the outbox, by effect key: effects waiting to be taken, in
    /// flight, or waiting to be retried. An effect whose answer is kept (journaled
    /// before a crash cut off the rest) is not listed: it is done, and its run goes
    /// on at the next [`Engine::take_effects`].
    pub fn outbox(&self) -> Result<Vec<(String, OutboxEntry)>, StoreError> {
        let mut out = Vec::new();
        for (key, entry) in self.entries()? {
            if self.store.get(Space::Effects, &key)?.is_none() {
                out.push((key, entry));
            }
        }
        Ok(out)
    }

    /// The effects in the outbox in one state, by key (answered ones left out, as
    /// in [`Engine::outbox`]): what a host asks after a restart — which effects were
    /// in flight? — and an operator's view of retries. Read from the store's index
    /// where it has one, not from the whole outbox.
    pub fn outbox_in(&self, state: EffectState) -> Result<Vec<(String, OutboxEntry)>, StoreError> {
        let mut out = Vec::new();
        for (key, entry) in decoded(self.store.outbox_in(state.name())?)? {
            if self.store.get(Space::Effects, &key)?.is_none() {
                out.push((key, entry));
            }
        }
        Ok(out)
    }

    /// Every entry in the outbox, answered or not.
    fn entries(&self) -> Result<Vec<(String, OutboxEntry)>, StoreError> {
        decoded(self.store.scan(Space::Outbox)?)
    }

    /// A host's simplest loop, for effects that are quick to perform: takes every
    /// effect, performs it with `handlers`, answers it, until the outbox has nothing
    /// more to give now (retries wait for their time). Returns the runs' records as
    /// they went on.
    pub fn perform_with(&mut self, handlers: &Handlers) -> Result<Vec<RunRecord>, EngineError> {
        let mut out = Vec::new();
        loop {
            let effects = self.take_effects()?;
            if effects.is_empty() {
                return Ok(out);
            }
            for effect in effects {
                let outcome = handlers.call(&effect);
                out.extend(self.complete(&effect.key, outcome)?);
            }
        }
    }

    /// Hands out again what an earlier process left in the outbox: each waiting run
    /// walks to its effect's step, which derives the effect (secrets and all) anew —
    /// or, when the answer was kept before the crash, goes on with it.
    fn recover(&mut self) -> Result<(), EngineError> {
        // A write waiting for its retry time is on its way too: its record is known
        // from its run, before the retry is due and the effect derived again.
        for (key, entry) in decoded(self.store.outbox_in(EffectState::Retrying.name())?)? {
            if !matches!(
                ActionKind::of(&entry.action),
                Some(ActionKind::Set | ActionKind::Clear)
            ) {
                continue;
            }
            // A write to a record the step named says which (`set company.csm`).
            if let (Some(object), Some(record)) = (
                entry.input["object"].as_str(),
                entry.input["record"].as_str(),
            ) {
                self.writes
                    .taken(&key, &(object.to_string(), record.to_string()));
                continue;
            }
            let Some(run) = self.store.get(Space::Runs, &entry.run)? else {
                continue;
            };
            if let Ok(state) = serde_json::from_value::<super::RunState>(run) {
                if let (Some(object), Some(record)) = (state.record.object, state.record.record) {
                    self.writes.taken(&key, &(object, record));
                }
            }
        }
        let mut ignored = Vec::new();
        // Retries wait for their time.
        let mut left = decoded(self.store.outbox_in(EffectState::Pending.name())?)?;
        left.extend(decoded(
            self.store.outbox_in(EffectState::InFlight.name())?,
        )?);
        left.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, entry) in left {
            if self.pending.iter().any(|e| e.key == key) {
                continue;
            }
            if self.store.get(Space::Runs, &entry.run)?.is_some() {
                self.resume_with(&entry.run, None, None, &mut ignored)?;
            } else {
                // Its run is gone (finished or forgotten): nothing waits for it.
                self.store.remove(Space::Outbox, &key)?;
            }
        }
        Ok(())
    }
}

/// Outbox entries read from the store.
fn decoded(
    entries: Vec<(String, serde_json::Value)>,
) -> Result<Vec<(String, OutboxEntry)>, StoreError> {
    entries
        .into_iter()
        .map(|(key, value)| {
            serde_json::from_value(value)
                .map(|entry| (key.clone(), entry))
                .map_err(|e| StoreError(format!("damaged outbox entry `{key}`: {e}")))
        })
        .collect()
}

/// The first retry waits about this long; each further one twice as long.
const FIRST_RETRY_SECONDS: u64 = 10;
/// No retry waits longer than this.
const LONGEST_RETRY_SECONDS: u64 = 3600;

/// How long to wait before attempt `attempt + 1` of the effect `key`: a target's
/// `Retry-After` if it gave one, otherwise exponential backoff (10 s, 20 s, 40 s, …
/// at most an hour) with jitter, so effects that failed together do not all come
/// back together. The jitter is drawn from the key, so the engine stays
/// deterministic: the same failure at the same time gives the same due time.
pub fn backoff(key: &str, attempt: u32, retry_after: Option<u64>) -> u64 {
    if let Some(seconds) = retry_after {
        return seconds;
    }
    let exponential = FIRST_RETRY_SECONDS
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(20))
        .min(LONGEST_RETRY_SECONDS);
    let digest = Sha256::new()
        .chain_update(key.as_bytes())
        .chain_update(attempt.to_le_bytes())
        .finalize();
    let draw = u64::from(u16::from_le_bytes([digest[0], digest[1]]));
    // Between half and all of the exponential delay.
    exponential / 2 + exponential * draw / (2 * u64::from(u16::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_jittered_and_yields_to_retry_after() {
        let waits: Vec<u64> = (1..=12).map(|a| backoff("k", a, None)).collect();
        for (attempt, wait) in (1u32..).zip(&waits) {
            let full = (10u64 << (attempt - 1)).min(3600);
            assert!(
                (full / 2..=full).contains(wait),
                "attempt {attempt}: {wait}"
            );
        }
        assert!(waits[11] <= 3600);
        // Two effects failing together come back at different times.
        let spread: std::collections::BTreeSet<u64> = (0..20)
            .map(|i| backoff(&format!("k{i}"), 5, None))
            .collect();
        assert!(spread.len() > 10, "{spread:?}");
        assert_eq!(backoff("k", 3, Some(120)), 120);
        assert_eq!(backoff("k", u32::MAX, None), backoff("k", u32::MAX, None));
    }
}
