//! The on-disk store: one SQLite file (bundled; nothing to install).
//!
//! Writes go into one open transaction until [`Store::commit`], which the engine
//! calls every [`SqliteStore::BATCH`] events and on `flush`: bookkeeping for a stream
//! costs one commit per batch, not one per event. A performed effect cannot wait for
//! the batch, though — a crash would make it happen again — so its key is also
//! appended to a journal beside the database (`<file>-effects`, see `journal.rs`).
//! Opening the store checks the journal against the database and folds a journal
//! left by a crash into it; each commit starts a new one.
//!
//! After a crash, the events since the last commit must be delivered again (a host
//! acknowledges events to its source after `flush`): they re-derive snapshots, flags
//! and waiting runs, and every effect already performed is recognised by its key.
//! WAL mode with `synchronous=NORMAL`: a killed process loses nothing committed or
//! journaled; a power cut may lose the last commits but never corrupts the file.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension};
use serde_json::Value as Json;

use super::journal::{self, Journal};
use super::{Result, Space, Store, StoreError};
use crate::engine::record::Snapshot;
use crate::engine::run::RunRecord;

/// State in a SQLite file.
pub struct SqliteStore {
    conn: Connection,
    /// The file, for error messages (`None` in memory).
    path: Option<PathBuf>,
    in_transaction: bool,
    /// Effects performed since the last commit.
    journal: Option<Journal>,
    /// Indexed attributes per object (see [`Store::index`]).
    indexed: std::collections::HashMap<String, Vec<String>>,
    /// Snapshots read or written lately, by object and id: a stream touches the same
    /// records again and again, and decoding a snapshot costs more than the engine's
    /// whole work on an event. `RefCell` because reads fill it.
    cache: RefCell<Cache>,
}

/// Record snapshots kept in memory; the written ones go to the `records` table at the
/// next commit, in the same transaction as everything else (so durability is the
/// transaction's, as before: nothing uncommitted survives a crash either way).
#[derive(Default)]
struct Cache {
    by_object: HashMap<String, HashMap<String, Cached>>,
    len: usize,
}

struct Cached {
    snapshot: Arc<Snapshot>,
    /// Written since the last commit, not yet in the `records` table.
    dirty: bool,
}

/// Past this many snapshots the cache is written out and emptied.
const CACHE_RECORDS: usize = 100_000;

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

/// What a SQLite failure means for the person running rulec, naming the file.
fn explain(path: Option<&Path>, e: &rusqlite::Error) -> StoreError {
    let file = path.map_or("the state database".to_string(), |p| {
        format!("the state file {}", p.display())
    });
    let code = match e {
        rusqlite::Error::SqliteFailure(f, _) => Some(f.code),
        _ => None,
    };
    StoreError(match (code, e) {
        (Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase), _)
        | (
            None,
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::Utf8Error(..),
        ) => {
            format!("{file} is damaged ({e}); restore it from a backup, or start a new state file")
        }
        (Some(ErrorCode::ReadOnly), _) => {
            format!("{file} cannot be written: it, or the file system it is on, is read-only")
        }
        (Some(ErrorCode::PermissionDenied), _) => {
            format!("{file} cannot be written: permission denied")
        }
        (Some(ErrorCode::CannotOpen), _) => format!(
            "{file} cannot be opened: does its folder exist, and may rulec write there? ({e})"
        ),
        (Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked), _) => {
            format!("{file} is in use by another process")
        }
        (Some(ErrorCode::DiskFull), _) => format!("{file} cannot grow: the disk is full"),
        (Some(ErrorCode::SystemIoFailure), _) => format!("{file}: input/output error ({e})"),
        _ => format!("{file}: {e}"),
    })
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA wal_autocheckpoint = 16384;
PRAGMA cache_size = -65536;
CREATE TABLE IF NOT EXISTS records (
  object TEXT NOT NULL, id TEXT NOT NULL, snapshot TEXT NOT NULL,
  PRIMARY KEY (object, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
  space TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, at INTEGER,
  PRIMARY KEY (space, key)) WITHOUT ROWID;
-- Retention deletes by time; only entries with a time are in it.
CREATE INDEX IF NOT EXISTS state_by_time ON state (space, at) WHERE at IS NOT NULL;
-- The outbox by state (a host's 'what is in flight?'), without reading the rest.
CREATE INDEX IF NOT EXISTS outbox_by_state ON state (json_extract(value, '$.state'), key)
  WHERE space = 'outbox';
CREATE TABLE IF NOT EXISTS runs (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (at);
CREATE TABLE IF NOT EXISTS record_index (
  object TEXT NOT NULL, attribute TEXT NOT NULL, key TEXT NOT NULL, id TEXT NOT NULL,
  PRIMARY KEY (object, attribute, key, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_index_by_id ON record_index (object, id);
CREATE TABLE IF NOT EXISTS indexed (
  object TEXT NOT NULL, attribute TEXT NOT NULL, PRIMARY KEY (object, attribute)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
";

impl SqliteStore {
    /// Events per commit when no effect forces one sooner.
    pub const BATCH: usize = 20_000;

    /// Opens (or creates) the state file. A journal that does not agree with the
    /// database (cut, emptied, deleted, damaged; a database that lost commits) is an
    /// error naming the files: effects could otherwise be performed again silently.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        Self::open_checked(path, false).map(|(store, _)| store)
    }

    /// Opens the state file even when its journal is damaged or missing, folding in
    /// what can be read. Returns what was wrong: effects recorded only in the lost
    /// part may be performed again.
    pub fn open_accepting_damage(path: &Path) -> Result<(SqliteStore, Vec<String>)> {
        Self::open_checked(path, true)
    }

    fn open_checked(path: &Path, accept_damage: bool) -> Result<(SqliteStore, Vec<String>)> {
        let conn = Connection::open(path).map_err(|e| explain(Some(path), &e))?;
        let tables: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name IN ('state', 'meta')",
                [],
                |row| row.get(0),
            )
            .map_err(|e| explain(Some(path), &e))?;
        if tables == 1 {
            return Err(StoreError(format!(
                "the state file {} was written by an older rulec, whose effect journal \
                 cannot be checked; start a new state file",
                path.display()
            )));
        }
        let mut store = Self::init(conn, Some(path.to_path_buf()))?;
        let committed = (tables > 0).then(|| store.meta("effects")).transpose()?;
        let opened = journal::open(path, committed, accept_damage)?;
        let warnings = opened.warnings;
        for (key, output) in opened.effects {
            store.put(Space::Effects, &key, output)?;
        }
        store.journal = Some(opened.journal);
        store.commit()?;
        Ok((store, warnings))
    }

    fn meta(&self, key: &str) -> Result<u64> {
        let value: Option<i64> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|e| self.fail(e))?;
        Ok(value.unwrap_or(0).max(0) as u64)
    }

    /// A store in memory, for tests of the SQL itself.
    pub fn in_memory() -> Result<SqliteStore> {
        let conn = Connection::open_in_memory().map_err(|e| explain(None, &e))?;
        Self::init(conn, None)
    }

    fn init(conn: Connection, path: Option<PathBuf>) -> Result<SqliteStore> {
        // Every statement the store runs stays prepared (the default keeps 16, fewer
        // than it has, and re-preparing showed in profiles).
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch(SCHEMA)
            .map_err(|e| explain(path.as_deref(), &e))?;
        Ok(SqliteStore {
            conn,
            path,
            in_transaction: false,
            journal: None,
            indexed: Default::default(),
            cache: Default::default(),
        })
    }

    /// The `(key, value)` rows a `state` query selects, decoded.
    fn entries(
        &self,
        stmt: &mut rusqlite::CachedStatement<'_>,
        params: impl rusqlite::Params,
        space: Space,
    ) -> Result<Vec<(String, Json)>> {
        let rows = stmt
            .query_map(params, |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(|e| self.fail(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (key, text) = row.map_err(|e| self.fail(e))?;
            let value = self.decode(&text, &format!("`{key}` in {}", space.name()))?;
            out.push((key, value));
        }
        Ok(out)
    }

    /// The cached snapshot of a record, if it is cached.
    fn cached(&self, object: &str, id: &str) -> Option<Arc<Snapshot>> {
        let cache = self.cache.borrow();
        let hit = cache.by_object.get(object)?.get(id)?;
        Some(hit.snapshot.clone())
    }

    /// Caches a snapshot; `dirty` when it is newer than the `records` table.
    fn keep(&self, object: &str, id: &str, snapshot: Arc<Snapshot>, dirty: bool) -> Result<()> {
        if self.cache.borrow().len >= CACHE_RECORDS {
            self.write_out()?;
            *self.cache.borrow_mut() = Cache::default();
        }
        let mut cache = self.cache.borrow_mut();
        let records = match cache.by_object.get_mut(object) {
            Some(records) => records,
            None => cache.by_object.entry(object.to_string()).or_default(),
        };
        let added = match records.get_mut(id) {
            Some(entry) => {
                entry.snapshot = snapshot;
                entry.dirty |= dirty;
                false
            }
            None => {
                records.insert(id.to_string(), Cached { snapshot, dirty });
                true
            }
        };
        if added {
            cache.len += 1;
        }
        Ok(())
    }

    /// Writes the snapshots written since the last commit into the `records` table
    /// (inside the open transaction).
    fn write_out(&self) -> Result<()> {
        let mut cache = self.cache.borrow_mut();
        for (object, records) in cache.by_object.iter_mut() {
            for (id, entry) in records.iter_mut().filter(|(_, e)| e.dirty) {
                let text = serde_json::to_string(entry.snapshot.as_ref())
                    .map_err(|e| StoreError(e.to_string()))?;
                self.conn
                    .prepare_cached(
                        "INSERT OR REPLACE INTO records (object, id, snapshot) VALUES (?1, ?2, ?3)",
                    )
                    .and_then(|mut s| s.execute(params![object, id, text]))
                    .map_err(|e| self.fail(e))?;
                entry.dirty = false;
            }
        }
        Ok(())
    }

    fn fail(&self, e: rusqlite::Error) -> StoreError {
        explain(self.path.as_deref(), &e)
    }

    fn write(&mut self) -> Result<()> {
        if !self.in_transaction {
            self.conn.execute_batch("BEGIN").map_err(|e| self.fail(e))?;
            self.in_transaction = true;
        }
        Ok(())
    }
}

impl SqliteStore {
    /// Reads a stored entry; one that does not read means the file is damaged.
    fn decode<T: serde::de::DeserializeOwned>(&self, text: &str, what: &str) -> Result<T> {
        serde_json::from_str(text).map_err(|e| {
            let file = self
                .path
                .as_deref()
                .map_or("the state database".to_string(), |p| {
                    format!("the state file {}", p.display())
                });
            StoreError(format!(
                "{file} is damaged ({what} does not read: {e}); restore it from a backup, or \
                 start a new state file"
            ))
        })
    }
}

impl Store for SqliteStore {
    fn record(&self, object: &str, id: &str) -> Result<Option<Arc<Snapshot>>> {
        if let Some(hit) = self.cached(object, id) {
            return Ok(Some(hit));
        }
        let mut stmt = self
            .conn
            .prepare_cached("SELECT snapshot FROM records WHERE object = ?1 AND id = ?2")
            .map_err(|e| self.fail(e))?;
        let text: Option<String> = stmt
            .query_row(params![object, id], |row| row.get(0))
            .optional()
            .map_err(|e| self.fail(e))?;
        let Some(text) = text else {
            return Ok(None);
        };
        let snapshot =
            Arc::new(self.decode::<Snapshot>(&text, &format!("the record {object}/{id}"))?);
        self.keep(object, id, snapshot.clone(), false)?;
        Ok(Some(snapshot))
    }

    fn put_record(&mut self, object: &str, id: &str, snapshot: Arc<Snapshot>) -> Result<()> {
        self.write()?;
        if self.indexed.contains_key(object) {
            let before = self.cached(object, id);
            self.reindex(object, id, &snapshot, before.as_deref())?;
        }
        self.keep(object, id, snapshot, true)
    }

    fn remove_record(&mut self, object: &str, id: &str) -> Result<()> {
        self.write()?;
        if let Some(records) = self.cache.get_mut().by_object.get_mut(object) {
            if records.remove(id).is_some() {
                self.cache.get_mut().len -= 1;
            }
        }
        self.conn
            .prepare_cached("DELETE FROM records WHERE object = ?1 AND id = ?2")
            .and_then(|mut s| s.execute(params![object, id]))
            .map_err(|e| self.fail(e))?;
        if self.indexed.contains_key(object) {
            self.unindex(object, id)?;
        }
        Ok(())
    }

    fn records(&self, object: &str) -> Result<Vec<(String, Arc<Snapshot>)>> {
        self.write_out()?;
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, snapshot FROM records WHERE object = ?1 ORDER BY id")
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![object], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(|e| self.fail(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, text) = row.map_err(|e| self.fail(e))?;
            let what = format!("the record {object}/{id}");
            out.push((id.clone(), Arc::new(self.decode::<Snapshot>(&text, &what)?)));
        }
        Ok(out)
    }

    fn get(&self, space: Space, key: &str) -> Result<Option<Json>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT value FROM state WHERE space = ?1 AND key = ?2")
            .map_err(|e| self.fail(e))?;
        let text: Option<String> = stmt
            .query_row(params![space.name(), key], |row| row.get(0))
            .optional()
            .map_err(|e| self.fail(e))?;
        text.map(|t| self.decode(&t, &format!("`{key}` in {}", space.name())))
            .transpose()
    }

    fn put(&mut self, space: Space, key: &str, value: Json) -> Result<()> {
        self.write()?;
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO state (space, key, value, at) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    space.name(),
                    key,
                    value.to_string(),
                    super::entry_time(&value)
                ])
            })
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    fn remove(&mut self, space: Space, key: &str) -> Result<()> {
        self.write()?;
        self.conn
            .prepare_cached("DELETE FROM state WHERE space = ?1 AND key = ?2")
            .and_then(|mut s| s.execute(params![space.name(), key]))
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    fn scan(&self, space: Space) -> Result<Vec<(String, Json)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, value FROM state WHERE space = ?1 ORDER BY key")
            .map_err(|e| self.fail(e))?;
        self.entries(&mut stmt, params![space.name()], space)
    }

    fn append_run(&mut self, run: &RunRecord) -> Result<()> {
        self.write()?;
        let text = serde_json::to_string(run).map_err(|e| StoreError(e.to_string()))?;
        self.conn
            .prepare_cached("INSERT INTO runs (at, body) VALUES (?1, ?2)")
            .and_then(|mut s| s.execute(params![run.at.timestamp(), text]))
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    fn history(&self, limit: usize) -> Result<Vec<RunRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT body FROM runs ORDER BY seq DESC LIMIT ?1")
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![limit as i64], |row| row.get::<_, String>(0))
            .map_err(|e| self.fail(e))?;
        let mut out = Vec::new();
        for row in rows {
            let text = row.map_err(|e| self.fail(e))?;
            out.push(self.decode::<RunRecord>(&text, "a run record")?);
        }
        out.reverse();
        Ok(out)
    }

    fn commit(&mut self) -> Result<()> {
        if self.in_transaction {
            self.write_out()?;
            if let Some(seq) = self.journal.as_ref().map(|j| j.seq) {
                // The journal's witness: how many effects this commit makes durable.
                self.conn
                    .prepare_cached(
                        "INSERT OR REPLACE INTO meta (key, value) VALUES ('effects', ?1)",
                    )
                    .and_then(|mut s| s.execute(params![seq as i64]))
                    .map_err(|e| self.fail(e))?;
            }
            self.conn
                .execute_batch("COMMIT")
                .map_err(|e| self.fail(e))?;
            self.in_transaction = false;
        }
        if let Some(journal) = self.journal.as_mut().filter(|j| j.dirty) {
            journal.reset()?;
        }
        Ok(())
    }

    fn effect_done(&mut self, key: &str, output: &Json) -> Result<()> {
        self.put(Space::Effects, key, output.clone())?;
        match self.journal.as_mut() {
            Some(journal) => journal.append(key, output),
            None => self.commit(),
        }
    }

    fn batch(&self) -> usize {
        Self::BATCH
    }

    fn index(&mut self, object: &str, attributes: &[&str]) -> Result<()> {
        let attributes: Vec<String> = attributes.iter().map(|a| a.to_string()).collect();
        let mut known: Vec<String> = {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT attribute FROM indexed WHERE object = ?1")
                .map_err(|e| self.fail(e))?;
            let rows = stmt
                .query_map(params![object], |row| row.get::<_, String>(0))
                .map_err(|e| self.fail(e))?;
            rows.collect::<std::result::Result<_, _>>()
                .map_err(|e| self.fail(e))?
        };
        known.sort();
        let mut wanted = attributes.clone();
        wanted.sort();
        if known != wanted {
            // New or changed declarations: index every stored record once.
            self.write()?;
            for sql in [
                "DELETE FROM indexed WHERE object = ?1",
                "DELETE FROM record_index WHERE object = ?1",
            ] {
                self.conn
                    .execute(sql, params![object])
                    .map_err(|e| self.fail(e))?;
            }
            for attribute in &attributes {
                self.conn
                    .execute(
                        "INSERT INTO indexed (object, attribute) VALUES (?1, ?2)",
                        params![object, attribute],
                    )
                    .map_err(|e| self.fail(e))?;
            }
            self.indexed.insert(object.to_string(), attributes);
            for (id, snapshot) in self.records(object)? {
                self.reindex(object, &id, &snapshot, None)?;
            }
            self.commit()?;
        }
        self.indexed.insert(object.to_string(), wanted);
        Ok(())
    }

    fn find(&self, object: &str, attribute: &str, key: &str) -> Result<Vec<String>> {
        if !super::is_indexed(&self.indexed, object, attribute) {
            return Ok(super::find_in(self.records(object)?, attribute, key));
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id FROM record_index WHERE object = ?1 AND attribute = ?2 AND key = ?3",
            )
            .map_err(|e| self.fail(e))?;
        let rows = stmt
            .query_map(params![object, attribute, key], |row| {
                row.get::<_, String>(0)
            })
            .map_err(|e| self.fail(e))?;
        rows.collect::<std::result::Result<_, _>>()
            .map_err(|e| self.fail(e))
    }

    fn scan_until(&self, space: Space, last: &str, limit: usize) -> Result<Vec<(String, Json)>> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT key, value FROM state WHERE space = ?1 AND key <= ?2 ORDER BY key LIMIT ?3",
            )
            .map_err(|e| self.fail(e))?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.entries(&mut stmt, params![space.name(), last, limit], space)
    }

    fn outbox_in(&self, state: &str) -> Result<Vec<(String, Json)>> {
        // `space = 'outbox'` as a literal, so the partial index applies; named, since
        // without statistics the planner would rather walk the whole outbox by key.
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT key, value FROM state INDEXED BY outbox_by_state \
                 WHERE space = 'outbox' AND json_extract(value, '$.state') = ?1 ORDER BY key",
            )
            .map_err(|e| self.fail(e))?;
        self.entries(&mut stmt, params![state], Space::Outbox)
    }

    fn prune(&mut self, space: Space, before: i64) -> Result<usize> {
        self.write()?;
        self.conn
            .prepare_cached("DELETE FROM state WHERE space = ?1 AND at IS NOT NULL AND at < ?2")
            .and_then(|mut s| s.execute(params![space.name(), before]))
            .map_err(|e| self.fail(e))
    }

    fn prune_history(&mut self, before: i64) -> Result<usize> {
        self.write()?;
        self.conn
            .prepare_cached("DELETE FROM runs WHERE at < ?1")
            .and_then(|mut s| s.execute(params![before]))
            .map_err(|e| self.fail(e))
    }
}

impl SqliteStore {
    fn unindex(&mut self, object: &str, id: &str) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM record_index WHERE object = ?1 AND id = ?2")
            .and_then(|mut s| s.execute(params![object, id]))
            .map_err(|e| self.fail(e))?;
        Ok(())
    }

    /// Brings a record's index entries in line with its snapshot. Most writes do not
    /// touch an indexed attribute: reading the entries is cheaper than rewriting them.
    /// Brings the record's index entries in line with `snapshot`; `before`, the
    /// snapshot it replaces when known, spares the look at the index when the indexed
    /// values did not change (most writes).
    fn reindex(
        &mut self,
        object: &str,
        id: &str,
        snapshot: &Snapshot,
        before: Option<&Snapshot>,
    ) -> Result<()> {
        let Some(attributes) = self.indexed.get(object) else {
            return Ok(());
        };
        let wanted = super::snapshot_keys(attributes, snapshot);
        if before.is_some_and(|b| super::snapshot_keys(attributes, b) == wanted) {
            return Ok(());
        }
        let have: Vec<(String, String)> = {
            let mut stmt = self
                .conn
                .prepare_cached(
                    "SELECT attribute, key FROM record_index WHERE object = ?1 AND id = ?2 \
                     ORDER BY attribute, key",
                )
                .map_err(|e| self.fail(e))?;
            let rows = stmt
                .query_map(params![object, id], |row| Ok((row.get(0)?, row.get(1)?)))
                .map_err(|e| self.fail(e))?;
            rows.collect::<std::result::Result<_, _>>()
                .map_err(|e| self.fail(e))?
        };
        if have == wanted {
            return Ok(());
        }
        self.unindex(object, id)?;
        for (attribute, key) in wanted {
            self.conn
                .prepare_cached(
                    "INSERT OR IGNORE INTO record_index (object, attribute, key, id) \
                     VALUES (?1, ?2, ?3, ?4)",
                )
                .and_then(|mut s| s.execute(params![object, attribute, key, id]))
                .map_err(|e| self.fail(e))?;
        }
        Ok(())
    }
}
