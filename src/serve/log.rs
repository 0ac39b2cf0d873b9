//! Structured logs: one JSON object per line on standard error — one per run, one per
//! effect, one per problem. Nothing logged holds a secret: run records show `***`, and
//! API errors never quote a header.

use serde_json::{json, Value as Json};

use crate::engine::RunRecord;

fn line(value: Json) {
    eprintln!("{value}");
}

/// A run that ended or parked.
pub fn run(record: &RunRecord) {
    line(json!({
        "at": chrono::Utc::now(), "level": "info", "msg": "run",
        "rule": record.rule, "run": record.run, "status": record.status,
        "reason": record.reason, "record": record.record, "effects": record.effects.len(),
    }));
}

/// An effect performed, with how it went.
pub fn effect(action: &str, key: &str, attempt: u32, outcome: &str) {
    line(json!({
        "at": chrono::Utc::now(), "level": "info", "msg": "effect",
        "action": action, "key": key, "attempt": attempt, "outcome": outcome,
    }));
}

/// Something that went wrong outside a run.
pub fn error(what: &str, message: &str) {
    line(json!({ "at": chrono::Utc::now(), "level": "error", "msg": what, "error": message }));
}

/// Something an operator should act on, though nothing failed yet.
pub fn warn(what: &str, detail: Json) {
    line(json!({ "at": chrono::Utc::now(), "level": "warn", "msg": what, "detail": detail }));
}

/// Something worth knowing.
pub fn info(what: &str, detail: Json) {
    line(json!({ "at": chrono::Utc::now(), "level": "info", "msg": what, "detail": detail }));
}
