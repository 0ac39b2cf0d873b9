//! The inbox: every webhook event, committed before Attio gets its 200, taken by the
//! worker in arrival order (serve.md §2).
//!
//! A file of its own beside the engine's state: the engine keeps a write transaction
//! open between its commits, and the request path must never wait for it. A delivery's
//! `Idempotency-Key` is kept with it, so a redelivery stores nothing.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value as Json;

/// One event waiting for the worker.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Its place in arrival order.
    pub seq: i64,
    /// The record (or list entry) it is about: `object/record`.
    pub record: String,
    /// Attio's event, with `received_at` added.
    pub event: Json,
}

/// The inbox file.
pub struct Inbox {
    db: Mutex<Connection>,
}

/// An inbox that cannot be read or written.
pub type Result<T> = std::result::Result<T, String>;

fn failed(e: rusqlite::Error) -> String {
    format!("the inbox: {e}")
}

impl Inbox {
    /// Opens (or creates) the inbox at `path`.
    pub fn open(path: &Path) -> Result<Inbox> {
        let db = Connection::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        // WAL with NORMAL: a commit survives the process being killed (what a 200
        // promises Attio); a power cut may lose the last few, which Attio redelivers
        // as it does any delivery that was not answered.
        db.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS deliveries (key TEXT PRIMARY KEY, at INTEGER NOT NULL);
             CREATE TABLE IF NOT EXISTS inbox (
               seq INTEGER PRIMARY KEY AUTOINCREMENT,
               record TEXT NOT NULL,
               event TEXT NOT NULL,
               done INTEGER NOT NULL DEFAULT 0
             );
             CREATE INDEX IF NOT EXISTS inbox_waiting ON inbox (seq) WHERE done = 0;",
        )
        .map_err(failed)?;
        Ok(Inbox { db: Mutex::new(db) })
    }

    fn db(&self) -> Result<std::sync::MutexGuard<'_, Connection>> {
        self.db
            .lock()
            .map_err(|_| "the inbox's lock is poisoned".to_string())
    }

    /// Stores a delivery's events in one transaction; `false` (and nothing stored)
    /// when its idempotency key was delivered before.
    pub fn accept(&self, key: Option<&str>, events: &[(String, Json)], at: i64) -> Result<bool> {
        let mut db = self.db()?;
        let tx = db.transaction().map_err(failed)?;
        if let Some(key) = key {
            let seen: Option<i64> = tx
                .query_row("SELECT at FROM deliveries WHERE key = ?1", [key], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(failed)?;
            if seen.is_some() {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO deliveries (key, at) VALUES (?1, ?2)",
                params![key, at],
            )
            .map_err(failed)?;
        }
        for (record, event) in events {
            tx.execute(
                "INSERT INTO inbox (record, event) VALUES (?1, ?2)",
                params![record, event.to_string()],
            )
            .map_err(failed)?;
        }
        tx.commit().map_err(failed)?;
        Ok(true)
    }

    /// The oldest events not yet handled, at most `limit`, leaving out those of the
    /// records whose ids are in `skip` (held: they cannot be handled now, and must
    /// not fill the batch in place of other records' events).
    pub fn waiting(&self, limit: usize, skip: &HashSet<String>) -> Result<Vec<Entry>> {
        let db = self.db()?;
        let mut sql = String::from("SELECT seq, record, event FROM inbox WHERE done = 0");
        if !skip.is_empty() {
            // The record key is `object/record`.
            sql.push_str(" AND substr(record, instr(record, '/') + 1) NOT IN (");
            sql.push_str(&vec!["?"; skip.len()].join(", "));
            sql.push(')');
        }
        sql.push_str(" ORDER BY seq LIMIT ?");
        let mut query = db.prepare_cached(&sql).map_err(failed)?;
        let params = skip
            .iter()
            .map(|id| rusqlite::types::Value::Text(id.clone()))
            .chain([rusqlite::types::Value::Integer(limit as i64)]);
        let rows = query
            .query_map(rusqlite::params_from_iter(params), |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                ))
            })
            .map_err(failed)?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, record, event) = row.map_err(failed)?;
            let event = serde_json::from_str(&event)
                .map_err(|e| format!("the inbox: damaged event {seq}: {e}"))?;
            out.push(Entry { seq, record, event });
        }
        Ok(out)
    }

    /// Marks events handled.
    pub fn done(&self, seqs: &[i64]) -> Result<()> {
        let mut db = self.db()?;
        let tx = db.transaction().map_err(failed)?;
        for seq in seqs {
            tx.execute("UPDATE inbox SET done = 1 WHERE seq = ?1", [seq])
                .map_err(failed)?;
        }
        tx.commit().map_err(failed)
    }

    /// How many events wait (the inbox lag of `/metrics`).
    pub fn lag(&self) -> Result<i64> {
        self.db()?
            .query_row("SELECT count(*) FROM inbox WHERE done = 0", [], |r| {
                r.get(0)
            })
            .map_err(failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_records_are_left_out_and_their_place_goes_to_others_in_order() {
        let dir = std::env::temp_dir().join(format!("rulec-inbox-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let inbox = Inbox::open(&dir.join("inbox.db")).unwrap();
        let event = |n: u32| serde_json::json!({ "n": n });
        let events = [
            ("o1/busy".to_string(), event(1)),
            ("o1/busy".to_string(), event(2)),
            ("o1/calm".to_string(), event(3)),
            ("task/t1".to_string(), event(4)),
        ];
        assert!(inbox.accept(Some("k1"), &events, 0).unwrap());
        assert!(
            !inbox.accept(Some("k1"), &events, 0).unwrap(),
            "a redelivery"
        );
        let records = |skip: &[&str], limit| -> Vec<String> {
            let skip = skip.iter().map(|s| s.to_string()).collect();
            let waiting = inbox.waiting(limit, &skip).unwrap();
            waiting.into_iter().map(|e| e.record).collect()
        };
        assert_eq!(records(&[], 2), ["o1/busy", "o1/busy"]);
        assert_eq!(records(&["busy"], 2), ["o1/calm", "task/t1"]);
        assert_eq!(records(&["busy", "t1"], 10), ["o1/calm"]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
