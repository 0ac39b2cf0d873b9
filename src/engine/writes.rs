//! Writes of the engine's runs (`set`, `clear`) on their way to the CRM, for a host
//! that reads the CRM and hands those reads in as events (`rulec serve`).
//!
//! The engine's snapshot of a record moves with a write's answer (its follow-on
//! event), not when the write is decided or sent. A read of the record taken while
//! one of its writes is on its way — or one taken before a write that was sent and
//! answered by the time the read is handed in — disagrees with the snapshot, and
//! the engine would take its own write (or the write's absence) for someone's
//! change. [`Writes`] lets the host tell such reads apart.

use std::collections::HashMap;

/// A point in the sequence of writes handed out and answered
/// ([`crate::engine::Engine::write_mark`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct WriteMark(u64);

/// The writes taken by the host and not yet answered, and which records saw a
/// write handed out or answered since the last mark.
#[derive(Debug, Default)]
pub(super) struct Writes {
    /// By effect key: the record (object, id).
    unanswered: HashMap<String, (String, String)>,
    /// Moves each time a write is handed out or answered.
    now: u64,
    /// When each record last saw one, for the records that saw one since the last
    /// mark.
    touched: HashMap<(String, String), u64>,
}

impl Writes {
    /// The host took the write `key` to `record`.
    pub(super) fn taken(&mut self, key: &str, record: &(String, String)) {
        self.unanswered.insert(key.to_string(), record.clone());
        self.touch(record.clone());
    }

    /// Whether `key` is a write the host took and has not answered.
    pub(super) fn is_unanswered(&self, key: &str) -> bool {
        self.unanswered.contains_key(key)
    }

    /// The write `key` was answered (or parked): nothing of it is on its way.
    pub(super) fn settled(&mut self, key: &str) {
        if let Some(record) = self.unanswered.remove(key) {
            self.touch(record);
        }
    }

    fn touch(&mut self, record: (String, String)) {
        self.now += 1;
        self.touched.insert(record, self.now);
    }

    /// The records of the unanswered writes.
    pub(super) fn records(&self) -> impl Iterator<Item = &(String, String)> {
        self.unanswered.values()
    }

    /// A mark of now. What was touched before it is forgotten: a mark holds until
    /// the next one is taken.
    pub(super) fn mark(&mut self) -> WriteMark {
        let now = self.now;
        self.touched.retain(|_, at| *at > now);
        WriteMark(now)
    }

    /// Whether `record` has a write unanswered, or saw one handed out or answered
    /// after `mark`.
    pub(super) fn since(&self, record: &(String, String), mark: WriteMark) -> bool {
        self.touched.get(record).is_some_and(|at| *at > mark.0)
            || self.unanswered.values().any(|r| r == record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_written_since_a_mark_until_its_write_is_answered_before_the_next() {
        let mut writes = Writes::default();
        let deal = ("deals".to_string(), "d1".to_string());
        let other = ("deals".to_string(), "d2".to_string());
        let before = writes.mark();
        writes.taken("k1", &deal);
        assert!(writes.since(&deal, before) && !writes.since(&other, before));
        let during = writes.mark();
        assert!(writes.since(&deal, during), "still unanswered");
        writes.settled("k1");
        // Answered after the mark: a read taken at the mark predates the answer.
        assert!(writes.since(&deal, during));
        let after = writes.mark();
        assert!(!writes.since(&deal, after));
        assert_eq!(writes.records().count(), 0);
        writes.settled("k1");
        assert!(
            !writes.since(&deal, after),
            "a second answer changes nothing"
        );
    }
}
