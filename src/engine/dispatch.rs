//! Finding the rules an event could start, without looking at the others.
//!
//! Rules are indexed by what they listen to: event kind and object, and for
//! `changed`/`matches` triggers the attribute slots involved. An update touching
//! `stage` looks at the rules on `stage` and nothing else, so the cost of an event
//! grows with the rules that could match it, not with the size of the rule set.

use rustc_hash::FxHashMap as HashMap;

use super::compile::{Compiled, When};
use super::event::EventKind;

/// The trigger index.
#[derive(Debug, Default)]
pub struct Index {
    /// `(kind, object)` → rules, for kinds other than updates.
    by_kind: HashMap<(EventKind, u16), Vec<usize>>,
    /// object → `updated` rules.
    updated: HashMap<u16, Vec<usize>>,
    /// `(object, slot)` → `changed`/`matches` rules reading the slot.
    by_slot: HashMap<(u16, u16), Vec<usize>>,
    /// object → `matches` rules that read no slot directly (evaluated on every change).
    matches_any: HashMap<u16, Vec<usize>>,
    /// webhook → rules.
    webhooks: HashMap<String, Vec<usize>>,
    /// watched rule id → meta-rules.
    failures: HashMap<String, Vec<usize>>,
    /// Scheduled rules.
    pub schedules: Vec<usize>,
}

impl Index {
    /// Indexes every rule.
    pub fn new(rules: &[Compiled]) -> Index {
        let mut index = Index::default();
        for (i, rule) in rules.iter().enumerate() {
            let object = rule.object.unwrap_or(u16::MAX);
            match &rule.trigger {
                When::Created => push(&mut index.by_kind, (EventKind::RecordCreated, object), i),
                When::Deleted => push(&mut index.by_kind, (EventKind::RecordDeleted, object), i),
                When::Merged => push(&mut index.by_kind, (EventKind::RecordMerged, object), i),
                When::Updated => push(&mut index.updated, object, i),
                When::Changed { slot, .. } => push(&mut index.by_slot, (object, *slot), i),
                When::Matches { reads, .. } => {
                    if reads.is_empty() {
                        push(&mut index.matches_any, object, i);
                    }
                    for slot in reads {
                        push(&mut index.by_slot, (object, *slot), i);
                    }
                }
                When::List { added, .. } => {
                    let kind = if *added {
                        EventKind::ListEntryCreated
                    } else {
                        EventKind::ListEntryDeleted
                    };
                    push(&mut index.by_kind, (kind, object), i);
                }
                When::Activity(kind) => push(&mut index.by_kind, (*kind, object), i),
                When::Entry { slot, .. } => {
                    push(&mut index.by_kind, (EventKind::ListEntryUpdated, object), i);
                    // A new entry's values are a change from empty.
                    if slot.is_some() {
                        push(&mut index.by_kind, (EventKind::ListEntryCreated, object), i);
                    }
                }
                When::Webhook(name) => push(&mut index.webhooks, name.clone(), i),
                When::Command(_) => push(&mut index.by_kind, (EventKind::Command, object), i),
                When::RuleFailed { rule, .. } => push(&mut index.failures, rule.clone(), i),
                When::Schedule(_) => index.schedules.push(i),
            }
        }
        index
    }

    /// The rules an event could start, in rule order. `changed` are the slots whose
    /// value differs before and after (record events only).
    pub fn candidates(
        &self,
        kind: EventKind,
        object: Option<u16>,
        webhook: Option<&str>,
        changed: &[u16],
    ) -> Vec<usize> {
        let mut out: Vec<usize> = Vec::new();
        if kind == EventKind::Webhook {
            if let Some(rules) = webhook.and_then(|w| self.webhooks.get(w)) {
                out.extend(rules);
            }
            return out;
        }
        let Some(object) = object else { return out };
        if kind != EventKind::RecordUpdated {
            if let Some(rules) = self.by_kind.get(&(kind, object)) {
                out.extend(rules);
            }
        }
        let record_change = matches!(kind, EventKind::RecordCreated | EventKind::RecordUpdated);
        if record_change && !changed.is_empty() {
            if kind == EventKind::RecordUpdated {
                if let Some(rules) = self.updated.get(&object) {
                    out.extend(rules);
                }
            }
            for slot in changed {
                if let Some(rules) = self.by_slot.get(&(object, *slot)) {
                    out.extend(rules);
                }
            }
            if let Some(rules) = self.matches_any.get(&object) {
                out.extend(rules);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Meta-rules watching a rule's failures.
    pub fn watching(&self, rule: &str) -> &[usize] {
        self.failures.get(rule).map(Vec::as_slice).unwrap_or(&[])
    }
}

fn push<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Vec<usize>>, key: K, rule: usize) {
    map.entry(key).or_default().push(rule);
}
