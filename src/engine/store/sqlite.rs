//! The on-disk store: one SQLite file (bundled; nothing to install).
//!
//! Writes go into one open transaction until [`Store::commit`], which the engine
//! calls every [`SqliteStore::BATCH`] events and on `flush`: bookkeeping for a stream
//! costs one commit per batch, not one per event. A performed effect cannot wait for
//! the batch, though — a crash would make it happen again — so its key is also
//! appended to a journal beside the database (`<file>-effects`, one `write` per
//! effect, no `fsync`): what the process wrote survives the process. Opening the
//! store folds a journal left by a crash into the database; each commit empties it.
//!
//! After a crash, the events since the last commit must be delivered again (a host
//! acknowledges events to its source after `flush`): they re-derive snapshots, flags
//! and waiting runs, and every effect already performed is recognised by its key.
//! WAL mode with `synchronous=NORMAL`: a killed process loses nothing committed or
//! journaled; a power cut may lose the last commits but never corrupts the file.

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
    /// Effects performed since the last commit, one `key<TAB>output` line each.
    journal: Option<Journal>,
}

#[derive(Debug)]
struct Journal {
    file: std::fs::File,
    dirty: bool,
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
PRAGMA wal_autocheckpoint = 16384;
PRAGMA cache_size = -65536;
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
    pub const BATCH: usize = 20_000;

    /// Opens (or creates) the state file.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        let conn = Connection::open(path)
            .map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
        let mut store = Self::init(conn)?;
        let mut journal_path = path.as_os_str().to_owned();
        journal_path.push("-effects");
        let journal_path = std::path::PathBuf::from(journal_path);
        store.recover_journal(&journal_path)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&journal_path)
            .map_err(|e| StoreError(format!("cannot open {}: {e}", journal_path.display())))?;
        store.journal = Some(Journal { file, dirty: true });
        store.commit()?;
        Ok(store)
    }

    /// Folds the effects a crashed process journaled into the database.
    fn recover_journal(&mut self, path: &Path) -> Result<()> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError(format!("cannot read {}: {e}", path.display()))),
        };
        for line in text.lines() {
            // A line cut short by the crash names no complete effect: skip it.
            let Some((key, output)) = line.split_once('\t') else {
                continue;
            };
            if let Ok(output) = serde_json::from_str::<Json>(output) {
                self.put(Space::Effects, key, output)?;
            }
        }
        Ok(())
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
            journal: None,
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
        if let Some(journal) = self.journal.as_mut().filter(|j| j.dirty) {
            journal.file.set_len(0).map_err(fail)?;
            journal.dirty = false;
        }
        Ok(())
    }

    fn effect_done(&mut self, key: &str, output: &Json) -> Result<()> {
        self.put(Space::Effects, key, output.clone())?;
        match self.journal.as_mut() {
            Some(journal) => {
                use std::io::Write;
                // One write, so a crash leaves whole lines (or a cut last line).
                let line = format!("{key}\t{output}\n");
                journal.file.write_all(line.as_bytes()).map_err(fail)?;
                journal.dirty = true;
                Ok(())
            }
            None => self.commit(),
        }
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
