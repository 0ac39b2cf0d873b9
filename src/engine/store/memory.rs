//! The in-memory store: for tests, `rulec test`, and hosts that keep state elsewhere.

use std::collections::{BTreeMap, VecDeque};

// Keys are ids the engine made or the CRM sent, not attacker-chosen at scale; the
// faster hash shows in end-to-end throughput.
use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use serde_json::Value as Json;

use super::{Result, Space, Store};
use crate::engine::record::Snapshot;
use crate::engine::run::RunRecord;

/// State in memory; the run history keeps the most recent runs only.
#[derive(Debug)]
pub struct MemoryStore {
    records: HashMap<String, HashMap<String, Arc<Snapshot>>>,
    spaces: Vec<HashMap<String, Json>>,
    /// [`Space::Due`], which is read in key (time) order.
    due: BTreeMap<String, Json>,
    /// Indexed attributes per object, and `object␟attribute␟key` → record ids.
    indexed: HashMap<String, Vec<String>>,
    lookup: HashMap<String, Vec<String>>,
    history: VecDeque<RunRecord>,
    history_limit: usize,
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

impl MemoryStore {
    /// An empty store keeping the last 10,000 runs.
    pub fn new() -> MemoryStore {
        MemoryStore::with_history(10_000)
    }

    /// An empty store keeping the last `limit` runs.
    pub fn with_history(limit: usize) -> MemoryStore {
        MemoryStore {
            records: HashMap::default(),
            spaces: Space::ALL.iter().map(|_| HashMap::default()).collect(),
            due: BTreeMap::new(),
            indexed: HashMap::default(),
            lookup: HashMap::default(),
            history: VecDeque::new(),
            history_limit: limit,
        }
    }
}

impl MemoryStore {
    fn lookup_key(object: &str, attribute: &str, key: &str) -> String {
        format!("{object}\u{1f}{attribute}\u{1f}{key}")
    }

    /// Adds (`add`) or removes a record's entries in the lookup index.
    fn reindex(&mut self, object: &str, id: &str, keys: &[(String, String)], add: bool) {
        for (attribute, key) in keys {
            let entry = Self::lookup_key(object, attribute, key);
            if add {
                let ids = self.lookup.entry(entry).or_default();
                if !ids.iter().any(|i| i == id) {
                    ids.push(id.to_string());
                }
            } else if let Some(ids) = self.lookup.get_mut(&entry) {
                ids.retain(|i| i != id);
                if ids.is_empty() {
                    self.lookup.remove(&entry);
                }
            }
        }
    }
}

impl Store for MemoryStore {
    fn record(&self, object: &str, id: &str) -> Result<Option<Arc<Snapshot>>> {
        Ok(self.records.get(object).and_then(|m| m.get(id)).cloned())
    }

    fn put_record(&mut self, object: &str, id: &str, snapshot: Arc<Snapshot>) -> Result<()> {
        if let Some(attributes) = self.indexed.get(object) {
            let wanted = super::snapshot_keys(attributes, &snapshot);
            let had = self
                .record(object, id)?
                .map(|old| super::snapshot_keys(attributes, &old))
                .unwrap_or_default();
            // Most writes leave the indexed values as they were.
            if had != wanted {
                self.reindex(object, id, &had, false);
                self.reindex(object, id, &wanted, true);
            }
        }
        let records = match self.records.get_mut(object) {
            Some(records) => records,
            None => self.records.entry(object.to_string()).or_default(),
        };
        match records.get_mut(id) {
            Some(slot) => *slot = snapshot,
            None => {
                records.insert(id.to_string(), snapshot);
            }
        }
        Ok(())
    }

    fn remove_record(&mut self, object: &str, id: &str) -> Result<()> {
        if let (Some(old), Some(attributes)) = (self.record(object, id)?, self.indexed.get(object))
        {
            let had = super::snapshot_keys(attributes, &old);
            self.reindex(object, id, &had, false);
        }
        if let Some(records) = self.records.get_mut(object) {
            records.remove(id);
        }
        Ok(())
    }

    fn records(&self, object: &str) -> Result<Vec<(String, Arc<Snapshot>)>> {
        let mut out: Vec<(String, Arc<Snapshot>)> = self
            .records
            .get(object)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        // Schedules visit records in a stable order, whatever the hash map's.
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn get(&self, space: Space, key: &str) -> Result<Option<Json>> {
        if space == Space::Due {
            return Ok(self.due.get(key).cloned());
        }
        Ok(self.spaces[space.index()].get(key).cloned())
    }

    fn put(&mut self, space: Space, key: &str, value: Json) -> Result<()> {
        if space == Space::Due {
            self.due.insert(key.to_string(), value);
            return Ok(());
        }
        let map = &mut self.spaces[space.index()];
        match map.get_mut(key) {
            Some(slot) => *slot = value,
            None => {
                map.insert(key.to_string(), value);
            }
        }
        Ok(())
    }

    fn remove(&mut self, space: Space, key: &str) -> Result<()> {
        if space == Space::Due {
            self.due.remove(key);
            return Ok(());
        }
        self.spaces[space.index()].remove(key);
        Ok(())
    }

    fn scan(&self, space: Space) -> Result<Vec<(String, Json)>> {
        if space == Space::Due {
            return Ok(self
                .due
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect());
        }
        let mut out: Vec<(String, Json)> = self.spaces[space.index()]
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn scan_until(&self, space: Space, last: &str, limit: usize) -> Result<Vec<(String, Json)>> {
        if space != Space::Due {
            let mut out = self.scan(space)?;
            out.retain(|(k, _)| k.as_str() <= last);
            out.truncate(limit);
            return Ok(out);
        }
        Ok(self
            .due
            .range::<str, _>((std::ops::Bound::Unbounded, std::ops::Bound::Included(last)))
            .take(limit)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn index(&mut self, object: &str, attributes: &[&str]) -> Result<()> {
        let attributes: Vec<String> = attributes.iter().map(|a| a.to_string()).collect();
        if self.indexed.get(object) == Some(&attributes) {
            return Ok(());
        }
        self.lookup
            .retain(|k, _| !k.starts_with(&format!("{object}\u{1f}")));
        for (id, snapshot) in self.records(object)? {
            let keys = super::snapshot_keys(&attributes, &snapshot);
            self.reindex(object, &id, &keys, true);
        }
        self.indexed.insert(object.to_string(), attributes);
        Ok(())
    }

    fn find(&self, object: &str, attribute: &str, key: &str) -> Result<Vec<String>> {
        if !super::is_indexed(&self.indexed, object, attribute) {
            return Ok(super::find_in(self.records(object)?, attribute, key));
        }
        Ok(self
            .lookup
            .get(&Self::lookup_key(object, attribute, key))
            .cloned()
            .unwrap_or_default())
    }

    fn prune(&mut self, space: Space, before: i64) -> Result<usize> {
        let old = |v: &Json| super::entry_time(v).is_some_and(|at| at < before);
        if space == Space::Due {
            let n = self.due.len();
            self.due.retain(|_, v| !old(v));
            return Ok(n - self.due.len());
        }
        let map = &mut self.spaces[space.index()];
        let n = map.len();
        map.retain(|_, v| !old(v));
        Ok(n - map.len())
    }

    fn prune_history(&mut self, before: i64) -> Result<usize> {
        let n = self.history.len();
        self.history.retain(|r| r.at.timestamp() >= before);
        Ok(n - self.history.len())
    }

    fn append_run(&mut self, run: &RunRecord) -> Result<()> {
        if self.history_limit == 0 {
            return Ok(());
        }
        if self.history.len() == self.history_limit {
            self.history.pop_front();
        }
        self.history.push_back(run.clone());
        Ok(())
    }

    fn history(&self, limit: usize) -> Result<Vec<RunRecord>> {
        let skip = self.history.len().saturating_sub(limit);
        Ok(self.history.iter().skip(skip).cloned().collect())
    }

    fn commit(&mut self) -> Result<()> {
        Ok(())
    }

    fn batch(&self) -> usize {
        usize::MAX
    }
}
