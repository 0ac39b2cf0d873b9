//! The on-disk store: one SQLite file (bundled; nothing to install).
//!
//! Writes go into one open transaction until [`Store::commit`]; the engine commits
//! after each effect and every [`SqliteStore::BATCH`] events, so bookkeeping for a
//! stream of events costs one commit per batch. WAL mode with `synchronous=NORMAL`:
//! a killed process loses nothing that was committed; a power cut may lose the last
//! commits but never corrupts the file.

use std::path::Path;
use std::sync::Arc;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value as Json;

use super::{Result, Space, Store, StoreError};
use crate::engine::record::Snapshot;
use crate::engine::run::RunRecord;

/// State in a SQLite file.
pub struct SqliteStore {
    conn: Connection,
    in_transaction: bool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

fn fail(e: impl std::fmt::Display) -> StoreError {
    StoreError(e.to_string())
}

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS records (
  object TEXT NOT NULL, id TEXT NOT NULL, snapshot TEXT NOT NULL,
  PRIMARY KEY (object, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS state (
  space TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (space, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
";

impl SqliteStore {
    /// Events per commit when no effect forces one sooner.
    pub const BATCH: usize = 2_000;

    /// Opens (or creates) the state file.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let conn = Connection::open(path)
            .map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
        Self::init(conn)
    }

    /// A store in memory, for tests of the SQL itself.
    pub fn in_memory() -> Result<SqliteStore> {
        Self::init(Connection::open_in_memory().map_err(fail)?)
    }

    fn init(conn: Connection) -> Result<SqliteStore> {
        conn.execute_batch(SCHEMA).map_err(|e| {
            StoreError(format!(
                "the state file is not a rulec state database or is damaged: {e}"
            ))
        })?;
        Ok(SqliteStore {
            conn,
            in_transaction: false,
        })
    }

    fn write(&mut self) -> Result<()> {
        if !self.in_transaction {
            self.conn.execute_batch("BEGIN").map_err(fail)?;
            self.in_transaction = true;
        }
        Ok(())
    }
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| StoreError(format!("damaged entry: {e}")))
}

impl Store for SqliteStore {
    fn record(&self, object: &str, id: &str) -> Result<Option<Arc<Snapshot>>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT snapshot FROM records WHERE object = ?1 AND id = ?2")
            .map_err(fail)?;
        let text: Option<String> = stmt
            .query_row(params![object, id], |row| row.get(0))
            .optional()
            .map_err(fail)?;
        text.map(|t| decode::<Snapshot>(&t).map(Arc::new))
            .transpose()
    }

    fn put_record(&mut self, object: &str, id: &str, snapshot: Arc<Snapshot>) -> Result<()> {
        self.write()?;
        let text = serde_json::to_string(snapshot.as_ref()).map_err(fail)?;
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO records (object, id, snapshot) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| s.execute(params![object, id, text]))
            .map_err(fail)?;
        Ok(())
    }

    fn remove_record(&mut self, object: &str, id: &str) -> Result<()> {
        self.write()?;
        self.conn
            .prepare_cached("DELETE FROM records WHERE object = ?1 AND id = ?2")
            .and_then(|mut s| s.execute(params![object, id]))
            .map_err(fail)?;
        Ok(())
    }

    fn records(&self, object: &str) -> Result<Vec<(String, Arc<Snapshot>)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, snapshot FROM records WHERE object = ?1 ORDER BY id")
            .map_err(fail)?;
        let rows = stmt
            .query_map(params![object], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(fail)?;
        let mut out = Vec::new();
        for row in rows {
            let (id, text) = row.map_err(fail)?;
            out.push((id, Arc::new(decode::<Snapshot>(&text)?)));
        }
        Ok(out)
    }

    fn get(&self, space: Space, key: &str) -> Result<Option<Json>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT value FROM state WHERE space = ?1 AND key = ?2")
            .map_err(fail)?;
        let text: Option<String> = stmt
            .query_row(params![space.name(), key], |row| row.get(0))
            .optional()
            .map_err(fail)?;
        text.map(|t| decode(&t)).transpose()
    }

    fn put(&mut self, space: Space, key: &str, value: Json) -> Result<()> {
        self.write()?;
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO state (space, key, value) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![space.name(), key, value.to_string()]))
            .map_err(fail)?;
        Ok(())
    }

    fn remove(&mut self, space: Space, key: &str) -> Result<()> {
        self.write()?;
        self.conn
            .prepare_cached("DELETE FROM state WHERE space = ?1 AND key = ?2")
            .and_then(|mut s| s.execute(params![space.name(), key]))
            .map_err(fail)?;
        Ok(())
    }

    fn scan(&self, space: Space) -> Result<Vec<(String, Json)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, value FROM state WHERE space = ?1 ORDER BY key")
            .map_err(fail)?;
        let rows = stmt
            .query_map(params![space.name()], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
            })
            .map_err(fail)?;
        let mut out = Vec::new();
        for row in rows {
            let (key, text) = row.map_err(fail)?;
            out.push((key, decode(&text)?));
        }
        Ok(out)
    }

    fn append_run(&mut self, run: &RunRecord) -> Result<()> {
        self.write()?;
        let text = serde_json::to_string(run).map_err(fail)?;
        self.conn
            .prepare_cached("INSERT INTO runs (body) VALUES (?1)")
            .and_then(|mut s| s.execute(params![text]))
            .map_err(fail)?;
        Ok(())
    }

    fn history(&self, limit: usize) -> Result<Vec<RunRecord>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT body FROM runs ORDER BY seq DESC LIMIT ?1")
            .map_err(fail)?;
        let rows = stmt
            .query_map(params![limit as i64], |row| row.get::<_, String>(0))
            .map_err(fail)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(decode::<RunRecord>(&row.map_err(fail)?)?);
        }
        out.reverse();
        Ok(out)
    }

    fn commit(&mut self) -> Result<()> {
        if self.in_transaction {
            self.conn.execute_batch("COMMIT").map_err(fail)?;
            self.in_transaction = false;
        }
        Ok(())
    }

    fn batch(&self) -> usize {
        Self::BATCH
    }
}

impl Drop for SqliteStore {
    /// Work in flight when the host drops the store is kept, as if committed.
    fn drop(&mut self) {
        let _ = self.commit();
    }
}
