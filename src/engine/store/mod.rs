//! Everything the engine remembers, behind one trait (engine.md, State).
//!
//! Record snapshots are typed (they are read on the hot path); the rest is small
//! JSON values in named spaces, which keeps the trait short enough that a host can
//! implement it over its own database. Two implementations ship: [`MemoryStore`] and
//! [`SqliteStore`] (one file, survives restarts).

mod journal;
mod memory;
mod sqlite;

use std::fmt;
use std::sync::Arc;

use serde_json::Value as Json;

pub use memory::MemoryStore;
pub use sqlite::SqliteStore;

use super::record::Snapshot;
use super::run::RunRecord;
use super::value::Val;

/// The kinds of small state the engine keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Space {
    /// `(rule, event)` pairs already handled: redelivery is suppressed as a duplicate.
    Delivered,
    /// Idempotency keys of effects done, with their outputs.
    Effects,
    /// Per-rule, per-record `matches` flags (is the record inside the filter now).
    Flags,
    /// Per-rule run times inside the `limit` window.
    Limits,
    /// Round-robin cursors per team.
    Cursors,
    /// Runs waiting for time or an answer (`wait`, `ask`, a handler's `defer`).
    Runs,
    /// Coalesce buffers per rule and record.
    Coalesce,
    /// Last schedule occurrence handled, per rule.
    Watermarks,
    /// Consecutive failures per rule (for `rule … failed N times in a row`).
    Streaks,
    /// When waiting runs and coalesce windows fall due, in time order (keys from
    /// `due.rs`): a tick reads only what is due.
    Due,
    /// Effects a host is to perform ([`crate::engine::Builder::outbox`]), by
    /// idempotency key: which run waits for each, its attempt and state.
    Outbox,
    /// Rules as they were when a run of theirs began to wait (`rule@version` → the
    /// rule's IR): a run goes on with the version it started on, whatever the files
    /// say by then.
    Versions,
}

impl Space {
    /// Every space.
    pub const ALL: [Space; 12] = [
        Space::Delivered,
        Space::Effects,
        Space::Flags,
        Space::Limits,
        Space::Cursors,
        Space::Runs,
        Space::Coalesce,
        Space::Watermarks,
        Space::Streaks,
        Space::Due,
        Space::Outbox,
        Space::Versions,
    ];

    /// A stable name, for on-disk tables.
    pub fn name(self) -> &'static str {
        match self {
            Space::Delivered => "delivered",
            Space::Effects => "effects",
            Space::Flags => "flags",
            Space::Limits => "limits",
            Space::Cursors => "cursors",
            Space::Runs => "runs",
            Space::Coalesce => "coalesce",
            Space::Watermarks => "watermarks",
            Space::Streaks => "streaks",
            Space::Due => "due",
            Space::Outbox => "outbox",
            Space::Versions => "versions",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A store failure (I/O, corruption).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreError(pub String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "state store: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

/// Store results.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Where the engine keeps its state.
///
/// Writes may be buffered until [`Store::commit`]; the engine commits after every
/// effect (so a crash never forgets one that happened) and at least every
/// [`Store::batch`] events.
pub trait Store: Send {
    /// The snapshot of a record.
    fn record(&self, object: &str, id: &str) -> Result<Option<Arc<Snapshot>>>;
    /// Replaces a record's snapshot.
    fn put_record(&mut self, object: &str, id: &str, snapshot: Arc<Snapshot>) -> Result<()>;
    /// Forgets a record.
    fn remove_record(&mut self, object: &str, id: &str) -> Result<()>;
    /// Every record of an object, ordered by id (schedules `for <object>`, `find`).
    fn records(&self, object: &str) -> Result<Vec<(String, Arc<Snapshot>)>>;
    /// A value in a space.
    fn get(&self, space: Space, key: &str) -> Result<Option<Json>>;
    /// Sets a value.
    fn put(&mut self, space: Space, key: &str, value: Json) -> Result<()>;
    /// Removes a value.
    fn remove(&mut self, space: Space, key: &str) -> Result<()>;
    /// Every value of a space, ordered by key.
    fn scan(&self, space: Space) -> Result<Vec<(String, Json)>>;
    /// Appends a run to the history.
    fn append_run(&mut self, run: &RunRecord) -> Result<()>;
    /// The most recent runs, oldest first.
    fn history(&self, limit: usize) -> Result<Vec<RunRecord>>;
    /// Makes every write so far durable.
    fn commit(&mut self) -> Result<()>;
    /// Records that the effect `key` was performed, with its output. From the moment
    /// this returns the fact must survive a crash of the process — the effect must
    /// never be performed again — even if other writes since the last commit are lost
    /// (their events are delivered again and re-derive them).
    fn effect_done(&mut self, key: &str, output: &Json) -> Result<()> {
        self.put(Space::Effects, key, output.clone())?;
        self.commit()
    }
    /// How many events may share one commit.
    fn batch(&self) -> usize {
        1
    }
    /// Declares the attributes of `object` that [`Store::find`] looks records up by
    /// (the schema's `unique` attributes); records stored earlier are indexed now.
    fn index(&mut self, _object: &str, _attributes: &[&str]) -> Result<()> {
        Ok(())
    }
    /// Ids of the records of `object` whose `attribute` has [`index_keys`] `key`:
    /// candidates, which the caller checks against the record. The default reads
    /// every record; the shipped stores answer from their index.
    fn find(&self, object: &str, attribute: &str, key: &str) -> Result<Vec<String>> {
        Ok(find_in(self.records(object)?, attribute, key))
    }
    /// The values of a space whose keys sort at most `last`, in key order, at most
    /// `limit` of them (the due-time index is read this way).
    fn scan_until(&self, space: Space, last: &str, limit: usize) -> Result<Vec<(String, Json)>> {
        let mut out = self.scan(space)?;
        out.retain(|(k, _)| k.as_str() <= last);
        out.truncate(limit);
        Ok(out)
    }
    /// The outbox entries in `state` (`pending`, `in_flight`, `retrying`: the
    /// entry's `state` field), in key order. The default scans the outbox; SQLite
    /// answers from an index on the state.
    fn outbox_in(&self, state: &str) -> Result<Vec<(String, Json)>> {
        let mut out = self.scan(Space::Outbox)?;
        out.retain(|(_, entry)| entry.get("state").and_then(Json::as_str) == Some(state));
        Ok(out)
    }
    /// Forgets the entries of `space` whose time (a number, or an `at` field) is before
    /// `before`; entries without one are kept. Returns how many went.
    fn prune(&mut self, space: Space, before: i64) -> Result<usize> {
        let mut n = 0;
        for (key, value) in self.scan(space)? {
            if entry_time(&value).is_some_and(|at| at < before) {
                self.remove(space, &key)?;
                n += 1;
            }
        }
        Ok(n)
    }
    /// Forgets run history older than `before` (seconds since the epoch).
    fn prune_history(&mut self, _before: i64) -> Result<usize> {
        Ok(0)
    }
}

/// When an entry was written, for retention: the entry itself when it is a number
/// (delivered-event markers), or its `at` field (kept effects, as a map or in their
/// text form); seconds.
pub fn entry_time(value: &Json) -> Option<i64> {
    value
        .as_i64()
        .or_else(|| value.get("at").and_then(Json::as_i64))
        .or_else(|| {
            // A kept effect in its text form, `{"at":…,"done":…}`.
            let rest = value.as_str()?.strip_prefix("{\"at\":")?;
            rest.split([',', '}']).next()?.parse().ok()
        })
}

/// Whether `attribute` of `object` is among the indexed ones a store keeps.
fn is_indexed<S: std::hash::BuildHasher>(
    indexed: &std::collections::HashMap<String, Vec<String>, S>,
    object: &str,
    attribute: &str,
) -> bool {
    indexed
        .get(object)
        .is_some_and(|a| a.iter().any(|x| x == attribute))
}

/// The records of `records` whose `attribute` has index key `key`: a lookup without
/// an index.
fn find_in(records: Vec<(String, Arc<Snapshot>)>, attribute: &str, key: &str) -> Vec<String> {
    records
        .into_iter()
        .filter(|(_, snapshot)| {
            snapshot
                .names
                .iter()
                .position(|n| &**n == attribute)
                .is_some_and(|slot| {
                    index_keys(snapshot.values.get(slot as u16))
                        .iter()
                        .any(|k| k == key)
                })
        })
        .map(|(id, _)| id)
        .collect()
}

/// The lookup-index entries of a snapshot, `(attribute, key)`, sorted: one per
/// [`index_keys`] of each of `attributes` it has.
pub(super) fn snapshot_keys(attributes: &[String], snapshot: &Snapshot) -> Vec<(String, String)> {
    let mut keys = Vec::new();
    for attribute in attributes {
        if let Some(slot) = snapshot.names.iter().position(|n| **n == **attribute) {
            for key in index_keys(snapshot.values.get(slot as u16)) {
                keys.push((attribute.clone(), key));
            }
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The keys under which an indexed attribute finds its record: the lowercased text
/// of the value, one per element of a list (`domains`, `email_addresses`).
pub fn index_keys(value: &Val) -> Vec<String> {
    match value {
        Val::List(items) => items
            .iter()
            .filter_map(|v| v.as_text().map(str::to_lowercase))
            .collect(),
        Val::Empty => Vec::new(),
        v => v.as_text().map(str::to_lowercase).into_iter().collect(),
    }
}
