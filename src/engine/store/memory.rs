//! The in-memory store: for tests, `rulec test`, and hosts that keep state elsewhere.

use std::collections::VecDeque;

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
            history: VecDeque::new(),
            history_limit: limit,
        }
    }
}

impl Store for MemoryStore {
    fn record(&self, object: &str, id: &str) -> Result<Option<Arc<Snapshot>>> {
        Ok(self.records.get(object).and_then(|m| m.get(id)).cloned())
    }

    fn put_record(&mut self, object: &str, id: &str, snapshot: Arc<Snapshot>) -> Result<()> {
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
        Ok(self.spaces[space.index()].get(key).cloned())
    }

    fn put(&mut self, space: Space, key: &str, value: Json) -> Result<()> {
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
        self.spaces[space.index()].remove(key);
        Ok(())
    }

    fn scan(&self, space: Space) -> Result<Vec<(String, Json)>> {
        let mut out: Vec<(String, Json)> = self.spaces[space.index()]
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
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
