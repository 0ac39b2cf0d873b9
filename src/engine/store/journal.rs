//! The effect journal beside a SQLite state file (`<file>-effects`).
//!
//! A performed effect cannot wait for the next database commit — a crash would make
//! it happen again — so its key is appended here at once, one `write` per effect.
//! The journal is also the database's witness: its header names how many effects the
//! database had committed when the journal was started, and every line carries its
//! sequence number and a checksum. Opening compares the two, so a journal cut short,
//! emptied, deleted or flipped, and a database that lost commits (a deleted `-wal`
//! file, an old backup), are loud errors instead of effects silently performed again.
//!
//! ```text
//! rulec-effects 1 <committed>
//! <seq>\t<checksum>\t["<key>", <kept entry>]
//! ```

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use super::{Result, StoreError};

const MAGIC: &str = "rulec-effects 1";

/// An open journal, appending.
#[derive(Debug)]
pub(super) struct Journal {
    path: PathBuf,
    file: File,
    /// The sequence number of the last effect written.
    pub seq: u64,
    /// Whether lines were appended since the last reset.
    pub dirty: bool,
}

/// What opening found: effects to fold into the database, and what was wrong when
/// damage was accepted.
pub(super) struct Opened {
    pub journal: Journal,
    pub effects: Vec<(String, Json)>,
    pub warnings: Vec<String>,
}

/// The journal's path for a state file.
pub(super) fn path_for(state: &Path) -> PathBuf {
    let mut path = state.as_os_str().to_owned();
    path.push("-effects");
    PathBuf::from(path)
}

fn checksum(seq: u64, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(seq.to_le_bytes());
    h.update(body.as_bytes());
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Why a journal cannot be trusted, as one sentence about the file.
fn damaged(state: &Path, journal: &Path, what: &str) -> StoreError {
    StoreError(format!(
        "the state file {} cannot be trusted: {what}, so effects already performed could \
         be performed again. Restore {} and {} from a backup together, or open the state \
         accepting the damage (`rulec run --accept-damaged-state`), knowing that effects \
         recorded only there may run again",
        state.display(),
        state.display(),
        journal.display()
    ))
}

/// Opens the journal of the state file `state`, whose database says `committed`
/// effects were committed (`None`: the database is new).
pub(super) fn open(state: &Path, committed: Option<u64>, accept_damage: bool) -> Result<Opened> {
    let path = path_for(state);
    let mut warnings = Vec::new();
    let mut problem = |what: String| -> Result<()> {
        if accept_damage {
            warnings.push(what);
            Ok(())
        } else {
            Err(damaged(state, &path, &what))
        }
    };
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(StoreError(format!("cannot read {}: {e}", path.display()))),
    };
    let mut effects = Vec::new();
    let mut last = committed.unwrap_or(0);
    match (&bytes, committed) {
        (None, None) => {}
        (None, Some(_)) => problem(format!("its effect journal {} is missing", path.display()))?,
        (Some(bytes), committed) => {
            let read = read(bytes);
            if let Some(what) = read.damage {
                problem(format!("its effect journal {} {what}", path.display()))?;
            }
            match (read.base, committed) {
                (Some(base), None) if base > 0 || !read.lines.is_empty() => problem(format!(
                    "the database is empty but its effect journal {} records effects: the \
                     database was replaced or lost its commits (was its `-wal` file deleted?)",
                    path.display()
                ))?,
                (Some(base), Some(committed)) if committed < base => problem(format!(
                    "the database has {committed} effects committed, its journal starts after \
                     {base}: the database lost commits (was its `-wal` file deleted, or an \
                     older copy restored?)"
                ))?,
                (Some(base), Some(committed)) if committed > base + read.lines.len() as u64 => {
                    problem(format!(
                        "the database has {committed} effects committed, but its effect journal \
                         {} ends at {}: the journal lost lines",
                        path.display(),
                        base + read.lines.len() as u64
                    ))?
                }
                _ => {}
            }
            last = last.max(read.base.unwrap_or(0) + read.lines.len() as u64);
            effects = read.lines;
        }
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
    Ok(Opened {
        journal: Journal {
            path,
            file,
            seq: last,
            dirty: true,
        },
        effects,
        warnings,
    })
}

struct Read {
    base: Option<u64>,
    lines: Vec<(String, Json)>,
    damage: Option<String>,
}

/// Reads what can be trusted: the lines up to the first damaged one.
fn read(bytes: &[u8]) -> Read {
    let mut out = Read {
        base: None,
        lines: Vec::new(),
        damage: None,
    };
    let mut rest = bytes;
    let mut number = 0usize;
    while !rest.is_empty() {
        number += 1;
        let (line, next, whole) = match rest.iter().position(|b| *b == b'\n') {
            Some(end) => (&rest[..end], &rest[end + 1..], true),
            None => (rest, &rest[rest.len()..], false),
        };
        rest = next;
        if !whole {
            // `write` of one line at a time means a killed process leaves whole lines;
            // a cut line is a power cut or a copy cut short.
            out.damage = Some(format!("is cut short at line {number}"));
            return out;
        }
        let Ok(text) = std::str::from_utf8(line) else {
            out.damage = Some(format!("is damaged at line {number} (not text)"));
            return out;
        };
        if number == 1 {
            match text
                .strip_prefix(MAGIC)
                .and_then(|n| n.trim().parse::<u64>().ok())
            {
                Some(base) => out.base = Some(base),
                None => {
                    out.damage = Some("does not start with its header".into());
                    return out;
                }
            }
            continue;
        }
        let expected = out.base.unwrap_or(0) + out.lines.len() as u64 + 1;
        match parse_line(text, expected) {
            Some(entry) => out.lines.push(entry),
            None => {
                out.damage = Some(format!("is damaged at line {number}"));
                return out;
            }
        }
    }
    if out.base.is_none() {
        out.damage = Some("is empty (its header is missing)".into());
    }
    out
}

fn parse_line(text: &str, expected: u64) -> Option<(String, Json)> {
    let mut parts = text.splitn(3, '\t');
    let seq: u64 = parts.next()?.parse().ok()?;
    let sum = parts.next()?;
    let body = parts.next()?;
    if seq != expected || checksum(seq, body) != sum {
        return None;
    }
    match serde_json::from_str::<Json>(body).ok()? {
        Json::Array(mut pair) if pair.len() == 2 => {
            let output = pair.pop()?;
            let key = pair.pop()?.as_str()?.to_string();
            Some((key, output))
        }
        _ => None,
    }
}

impl Journal {
    /// Appends one performed effect; one `write`, so a killed process leaves whole
    /// lines.
    pub fn append(&mut self, key: &str, output: &Json) -> Result<()> {
        let seq = self.seq + 1;
        let body = Json::Array(vec![Json::String(key.to_string()), output.clone()]).to_string();
        let line = format!("{seq}\t{}\t{body}\n", checksum(seq, &body));
        self.file
            .write_all(line.as_bytes())
            .map_err(|e| StoreError(format!("cannot write {}: {e}", self.path.display())))?;
        self.seq = seq;
        self.dirty = true;
        Ok(())
    }

    /// Starts a fresh journal after the database committed every effect so far. The
    /// new file replaces the old one by rename, so a crash leaves one or the other.
    pub fn reset(&mut self) -> Result<()> {
        let fail =
            |e: std::io::Error| StoreError(format!("cannot write {}: {e}", self.path.display()));
        let mut fresh = self.path.as_os_str().to_owned();
        fresh.push(".new");
        let fresh = PathBuf::from(fresh);
        std::fs::write(&fresh, format!("{MAGIC} {}\n", self.seq)).map_err(fail)?;
        std::fs::rename(&fresh, &self.path).map_err(fail)?;
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(fail)?;
        self.dirty = false;
        Ok(())
    }
}
