//! Re-checking only the rule being typed, when that provably gives the diagnostics a
//! full `rulec check` would.
//!
//! A rule that does not check (a syntax error, an unknown name, …) contributes nothing
//! to the checked program: no rule id changes, no lint sees it, the schema does not
//! depend on it. So when a keystroke edits only such a rule, and the rule still does
//! not check afterwards (the common case while a rule is being typed), every other
//! diagnostic is the previous one, moved by the length of the edit. Only that rule is
//! analysed again: in a copy of the document where every other rule is blanked out
//! (same length, same lines, so spans need no translation), with every declaration
//! kept, so it sees the same schema.
//!
//! Every condition for that argument is checked, not assumed; if one fails the caller
//! analyses the whole document. Tests compare both paths on random edit sequences.

use std::collections::HashMap;
use std::sync::Arc;

use rulec::diagnostics::Diagnostic;
use rulec::source::{SourceFile, Span};
use rulec::syntax::ast::{Item, TriggerClause, TriggerKind};
use rulec::syntax::split;

use crate::analysis::{DocAnalysis, Settings};

/// What the fast path needs to know about one item of the previous text.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ItemInfo {
    /// A rule or a syntax error (declarations and tests are never re-checked alone).
    rule_like: bool,
    /// It checked cleanly (is in the checked program).
    compiled: bool,
    /// Whether it counts for rule ids, and the id it declares: `None` for an item that
    /// is not a rule, `Some(None)` for a rule without `rule <id>`.
    id: Option<Option<String>>,
}

/// The previous text's items and diagnostics, the starting point of the next edit.
#[derive(Debug, Clone)]
pub struct Base {
    text: String,
    chunks: Vec<Span>,
    items: Vec<ItemInfo>,
    /// How many rules (in every file checked together) declare each id.
    ids: HashMap<String, usize>,
    /// The document's diagnostics, in `rulec check` order.
    pub diagnostics: Vec<Diagnostic>,
}

fn item_info(item: &Item, compiled: bool) -> ItemInfo {
    match item {
        Item::Rule(rule) => ItemInfo {
            rule_like: true,
            compiled,
            id: Some(rule.id_header().map(|(id, _)| id.name.clone())),
        },
        Item::Error(_) => ItemInfo {
            rule_like: true,
            compiled: false,
            id: None,
        },
        _ => ItemInfo {
            rule_like: false,
            compiled,
            id: None,
        },
    }
}

fn watches_rules(item: &Item) -> bool {
    matches!(item, Item::Rule(rule) if matches!(
        &rule.trigger,
        TriggerClause::When(w) if matches!(w.trigger.kind, TriggerKind::RuleFailed { .. })
    ))
}

impl Base {
    /// The base of a full analysis.
    pub fn of(analysis: &DocAnalysis) -> Base {
        let text = analysis.text().to_string();
        let chunks = split::split(&text).chunks.iter().map(|c| c.span).collect();
        let mut ids: HashMap<String, usize> = HashMap::new();
        for unit in &analysis.analysis.units {
            for item in &unit.parsed.document.items {
                if let Item::Rule(rule) = item {
                    if let Some((id, _)) = rule.id_header() {
                        *ids.entry(id.name.clone()).or_default() += 1;
                    }
                }
            }
        }
        let items = analysis
            .document()
            .map(|d| {
                d.items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| item_info(item, analysis.checked_rule(i).is_some()))
                    .collect()
            })
            .unwrap_or_default();
        Base {
            text,
            chunks,
            items,
            ids,
            diagnostics: analysis.diagnostics().cloned().collect(),
        }
    }

    /// The text this base describes.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The base of `text`, when only one not-checking rule changed and still does not
    /// check; `None` when the whole document must be analysed.
    pub fn update(&self, name: &str, text: &str, settings: &Settings) -> Option<Base> {
        if self.items.len() != self.chunks.len() {
            return None;
        }
        let old = self.text.as_bytes();
        let new = text.as_bytes();
        let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
        let max_suffix = old.len().min(new.len()) - prefix;
        let suffix = old
            .iter()
            .rev()
            .zip(new.iter().rev())
            .take(max_suffix)
            .take_while(|(a, b)| a == b)
            .count();
        let edit_end = old.len() - suffix;
        let delta = new.len() as i64 - old.len() as i64;
        // The one item the edit is inside.
        let k = self
            .chunks
            .iter()
            .position(|c| c.lo() <= prefix && edit_end <= c.hi())?;
        let old_k = *self.chunks.get(k)?;
        let info = self.items.get(k)?;
        if !info.rule_like || info.compiled {
            return None;
        }
        if let Some(Some(id)) = &info.id {
            if self.ids.get(id).copied() != Some(1) {
                return None;
            }
        }
        let shift = |s: Span| -> Option<Span> {
            if s.lo() > old_k.hi() {
                let lo = usize::try_from(s.lo() as i64 + delta).ok()?;
                let hi = usize::try_from(s.hi() as i64 + delta).ok()?;
                Some(Span::new(lo, hi))
            } else {
                Some(s)
            }
        };
        // The rest of the document splits as before.
        let chunks: Vec<Span> = split::split(text).chunks.iter().map(|c| c.span).collect();
        if chunks.len() != self.chunks.len() {
            return None;
        }
        let new_k = Span::new(old_k.lo(), usize::try_from(old_k.hi() as i64 + delta).ok()?);
        for (i, (a, b)) in self.chunks.iter().zip(&chunks).enumerate() {
            let want = if i == k { new_k } else { shift(*a)? };
            if want != *b {
                return None;
            }
        }
        // Every other diagnostic stays, moved; none may point into the edited rule.
        let inside = |s: Span| s.hi() >= old_k.lo() && s.lo() <= old_k.hi();
        let mut kept = Vec::with_capacity(self.diagnostics.len());
        for d in &self.diagnostics {
            if d.span.lo() >= old_k.lo() && d.span.lo() <= old_k.hi() {
                continue;
            }
            let touches = inside(d.span)
                || d.related.iter().any(|r| inside(r.span))
                || d.fix.iter().flat_map(|f| &f.edits).any(|e| inside(e.span));
            if touches {
                return None;
            }
            let mut d = d.clone();
            d.span = shift(d.span)?;
            for r in &mut d.related {
                r.span = shift(r.span)?;
            }
            if let Some(fix) = &mut d.fix {
                for e in &mut fix.edits {
                    e.span = shift(e.span)?;
                }
            }
            kept.push(d);
        }
        // The edited rule alone, among the declarations.
        let mut blanked = text.as_bytes().to_vec();
        for (i, (c, item)) in chunks.iter().zip(&self.items).enumerate() {
            if i == k || !item.rule_like {
                continue;
            }
            for b in blanked.get_mut(c.lo()..c.hi())? {
                if *b != b'\n' {
                    *b = b' ';
                }
            }
            // The next item must still end the edited one where it ends.
            if i == k + 1 {
                let start = blanked.get_mut(c.lo()..c.lo() + 8)?;
                start.copy_from_slice(b"test \"_\"");
            }
        }
        let blanked = String::from_utf8(blanked).ok()?;
        let alone = DocAnalysis::new(name, &blanked, settings);
        let document = alone.document()?;
        let (ik, item) = document
            .items
            .iter()
            .enumerate()
            .find(|(_, item)| item.span().lo() == new_k.lo())?;
        let split_k = split::split(&blanked)
            .chunks
            .iter()
            .find(|c| c.span.lo() == new_k.lo())
            .map(|c| c.span)?;
        if split_k != new_k {
            return None;
        }
        let new_info = item_info(item, alone.checked_rule(ik).is_some());
        if !new_info.rule_like || new_info.compiled || new_info.id != info.id {
            return None;
        }
        if watches_rules(item) {
            return None;
        }
        // Every diagnostic points into the new text, as a full analysis's would.
        let file = SourceFile::new(name, text);
        let mut diagnostics = kept;
        diagnostics.extend(
            alone
                .diagnostics()
                .filter(|d| d.span.lo() >= new_k.lo() && d.span.lo() <= new_k.hi())
                .cloned(),
        );
        for d in &mut diagnostics {
            d.file = file.clone();
        }
        diagnostics.sort_by_cached_key(|d| (d.span.start, d.span.end, d.code.clone()));
        let mut items = self.items.clone();
        if let Some(slot) = items.get_mut(k) {
            *slot = new_info;
        }
        Some(Base {
            text: text.to_string(),
            chunks,
            items,
            ids: self.ids.clone(),
            diagnostics,
        })
    }
}

/// The document's diagnostics after an edit: from `base` when only a not-checking rule
/// changed, else from a full analysis (returned too, for the features).
pub fn diagnostics(
    base: Option<&Base>,
    name: &str,
    text: &str,
    settings: &Settings,
) -> (Arc<Base>, Option<Arc<DocAnalysis>>) {
    if let Some(next) = base.and_then(|b| b.update(name, text, settings)) {
        return (Arc::new(next), None);
    }
    let analysis = Arc::new(DocAnalysis::new(name, text, settings));
    (Arc::new(Base::of(&analysis)), Some(analysis))
}
