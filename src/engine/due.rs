//! The due-time index ([`Space::Due`]): waiting runs and coalesce windows by the time
//! they fall due, so a tick reads what is due and the next due time is one lookup,
//! however many runs wait. Keys sort in time order: a fixed-width time, then what
//! is parked under it.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::store::{Space, Store, StoreError};

/// What waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Parked {
    /// A run in [`Space::Runs`].
    Run,
    /// A coalesce window in [`Space::Coalesce`].
    Window,
}

impl Parked {
    fn tag(self) -> char {
        match self {
            Parked::Run => 'r',
            Parked::Window => 'w',
        }
    }
}

/// Seconds are shifted so every time chrono can hold is a positive, 15-digit number.
const SHIFT: i64 = 100_000_000_000_000;

fn stamp(at: DateTime<Utc>) -> String {
    format!(
        "{:015}.{:09}",
        at.timestamp().saturating_add(SHIFT),
        at.timestamp_subsec_nanos()
    )
}

fn key(at: DateTime<Utc>, what: Parked, key: &str) -> String {
    format!("{}\u{1f}{}\u{1f}{key}", stamp(at), what.tag())
}

fn time_of(entry: &str) -> Option<DateTime<Utc>> {
    let (stamp, _) = entry.split_once('\u{1f}')?;
    let (secs, nanos) = stamp.split_once('.')?;
    let secs = secs.parse::<i64>().ok()?.checked_sub(SHIFT)?;
    DateTime::from_timestamp(secs, nanos.parse().ok()?)
}

/// Notes that `what` `name` falls due at `at`.
pub(super) fn park(
    store: &mut dyn Store,
    what: Parked,
    name: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    store.put(Space::Due, &key(at, what, name), Json::Null)
}

/// Forgets that `what` `name` falls due at `at`.
pub(super) fn unpark(
    store: &mut dyn Store,
    what: Parked,
    name: &str,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    store.remove(Space::Due, &key(at, what, name))
}

/// One index entry.
pub(super) struct Entry {
    /// What waits.
    pub what: Parked,
    /// Its key in its space.
    pub name: String,
    /// The entry's own key in [`Space::Due`].
    pub key: String,
}

/// Everything due at or before `now`, soonest first.
pub(super) fn until(store: &dyn Store, now: DateTime<Utc>) -> Result<Vec<Entry>, StoreError> {
    let last = format!("{}\u{1f}\u{10ffff}", stamp(now));
    let mut out = Vec::new();
    for (key, _) in store.scan_until(Space::Due, &last, usize::MAX)? {
        let mut parts = key.splitn(3, '\u{1f}');
        let (_, Some(tag), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let what = if tag == "r" {
            Parked::Run
        } else {
            Parked::Window
        };
        let name = name.to_string();
        out.push(Entry { what, name, key });
    }
    Ok(out)
}

/// When the next thing falls due.
pub(super) fn earliest(store: &dyn Store) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(store
        .scan_until(Space::Due, "\u{10ffff}", 1)?
        .first()
        .and_then(|(entry, _)| time_of(entry)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keys_sort_in_time_order_across_the_whole_range() {
        let times = [
            DateTime::<Utc>::MIN_UTC,
            "1969-12-31T23:59:59.5Z".parse().unwrap(),
            "2026-03-02T10:00:00Z".parse().unwrap(),
            "2026-03-02T10:00:00.000001Z".parse().unwrap(),
            DateTime::<Utc>::MAX_UTC,
        ];
        let keys: Vec<String> = times.iter().map(|t| key(*t, Parked::Run, "x")).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        for (t, k) in times.iter().zip(&keys) {
            assert_eq!(time_of(k), Some(*t));
        }
    }
}
