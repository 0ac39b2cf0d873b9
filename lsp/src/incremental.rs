//! Re-checking only the rule being edited, when that provably gives the diagnostics a
//! full `rulec check <folder>` would.
//!
//! The starting point (the *anchor*) is the last full analysis of the folder. When the
//! folder's files are the anchor's and only one of them differs, and only inside one
//! rule, every diagnostic that does not depend on other rules is the anchor's (moved by
//! the length of the edit in the edited file); the edited rule is parsed where it
//! stands in the new text (`syntax::parse_item`) and checked on its own against the
//! anchor's schema (`check::check_rule`), which the edit cannot have changed. What
//! depends on several rules — the workspace lints (`rule-cycle`, `duplicate-rule`,
//! `deprecated-status`) and `unused-allow` — is run again by the library's own
//! bookkeeping (`WorkspaceContext::lint`, the edited rule's per-rule lints selected)
//! over every checked rule of the folder, and replaces those diagnostics in every file.
//!
//! Conditions, each checked (otherwise the whole folder is analysed): the folder has
//! the same files, in the same order, and only one changed; the edit stays inside one
//! rule and the rest of that file splits into the same items; the rule's id is
//! unchanged and unique in the folder, and it neither is nor was a `rule … failed`
//! meta-rule; an edit that moves later rules to other lines leaves
//! no cross-rule diagnostic in another file (which may quote their line numbers).
//! Tests compare both paths on random edit sequences.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use rulec::check;
use rulec::diagnostics::Diagnostic;
use rulec::lint::{self, Check, RuleContext, WorkspaceContext};
use rulec::source::{SourceFile, Span};
use rulec::syntax::ast::{self, Item, TriggerClause, TriggerKind};
use rulec::syntax::{self, split};
use rulec::workspace;

use crate::analysis::{FolderAnalysis, Settings};
use crate::folder::{FolderInput, Text};

/// What the fast path needs to know about one item of the anchor.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ItemInfo {
    /// A rule or a syntax error (declarations and tests are never re-checked alone).
    rule_like: bool,
    /// It checked cleanly (is in the checked program).
    compiled: bool,
    /// Whether it counts for rule ids, and the id it declares: `None` for an item that
    /// is not a rule, `Some(None)` for a rule without `rule <id>`.
    id: Option<Option<String>>,
    /// A `rule … failed` meta-rule.
    watches: bool,
}

/// The items of one file of the anchor, as the fast path sees them.
#[derive(Debug)]
struct UnitInfo {
    chunks: Vec<Span>,
    items: Vec<ItemInfo>,
}

/// What every base of one anchor shares.
#[derive(Debug)]
struct AnchorInfo {
    /// How many rules (in every file of the folder) declare each id.
    ids: HashMap<String, usize>,
    /// Each file's items, worked out when the file is first edited.
    units: Vec<OnceLock<UnitInfo>>,
    /// Each file's diagnostics in the anchor, in `rulec check` order.
    diagnostics: Vec<Arc<Vec<Diagnostic>>>,
    /// Every rule's id, by (file, item), worked out when a rule is first re-checked.
    rule_ids: OnceLock<Vec<((usize, usize), String)>>,
}

/// The diagnostics of a folder's texts, and the anchor the next edit starts from.
#[derive(Debug, Clone)]
pub struct Base {
    anchor: Arc<FolderAnalysis>,
    info: Arc<AnchorInfo>,
    /// Each file's diagnostics, in `rulec check` order (shared with the anchor's where
    /// they did not change).
    diagnostics: Vec<Arc<Vec<Diagnostic>>>,
}

fn item_info(item: &Item, compiled: bool) -> ItemInfo {
    let watches = matches!(item, Item::Rule(rule) if matches!(
        &rule.trigger,
        TriggerClause::When(w) if matches!(w.trigger.kind, TriggerKind::RuleFailed { .. })
    ));
    match item {
        Item::Rule(rule) => ItemInfo {
            rule_like: true,
            compiled,
            id: Some(rule.id_header().map(|(id, _)| id.name.clone())),
            watches,
        },
        Item::Error(_) => ItemInfo {
            rule_like: true,
            compiled: false,
            id: None,
            watches,
        },
        _ => ItemInfo {
            rule_like: false,
            compiled,
            id: None,
            watches,
        },
    }
}

/// Codes whose diagnostics depend on several rules.
fn cross_rule(code: &str) -> bool {
    code == "unused-allow"
        || lint::lint(code).is_some_and(|l| matches!(l.check, Check::Workspace(_)))
}

impl Base {
    /// The base of a full analysis, which becomes the anchor.
    pub fn of(analysis: &Arc<FolderAnalysis>) -> Base {
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
        let units = analysis.analysis.units.len();
        let diagnostics: Vec<Arc<Vec<Diagnostic>>> = (0..units)
            .map(|u| Arc::new(analysis.diagnostics_of(u).cloned().collect()))
            .collect();
        let info = AnchorInfo {
            ids,
            units: (0..units).map(|_| OnceLock::new()).collect(),
            diagnostics: diagnostics.clone(),
            rule_ids: OnceLock::new(),
        };
        Base {
            anchor: analysis.clone(),
            info: Arc::new(info),
            diagnostics,
        }
    }

    /// The last full analysis.
    pub fn anchor(&self) -> &Arc<FolderAnalysis> {
        &self.anchor
    }

    /// The file named `name`.
    pub fn unit_named(&self, name: &str) -> Option<usize> {
        self.anchor.unit_named(name)
    }

    /// The diagnostics of file `unit`, in `rulec check` order.
    pub fn diagnostics(&self, unit: usize) -> Option<&Arc<Vec<Diagnostic>>> {
        self.diagnostics.get(unit)
    }

    /// The diagnostics of the file named `name`, in `rulec check` order.
    pub fn diagnostics_named(&self, name: &str) -> Option<&Arc<Vec<Diagnostic>>> {
        self.diagnostics(self.unit_named(name)?)
    }

    /// Bytes this base holds beyond its anchor: the edited file's text (which its
    /// diagnostics point into) and the diagnostics that differ from the anchor's.
    pub fn retained_bytes(&self) -> usize {
        self.diagnostics
            .iter()
            .zip(&self.info.diagnostics)
            .filter(|(mine, anchor)| !Arc::ptr_eq(mine, anchor))
            .map(|(mine, _)| {
                mine.first().map_or(0, |d| d.file.text().len())
                    + mine.len() * std::mem::size_of::<Diagnostic>()
                    + 1
            })
            .sum()
    }

    /// Every rule's id in the anchor (an edit re-checks a rule only when that keeps them).
    fn rule_ids(&self) -> &[((usize, usize), String)] {
        self.info.rule_ids.get_or_init(|| {
            check::rule_ids(&self.anchor.analysis.units)
                .into_iter()
                .map(|(source, id)| ((source.unit, source.item), id))
                .collect()
        })
    }

    fn unit_info(&self, u: usize) -> Option<&UnitInfo> {
        let unit = self.anchor.analysis.units.get(u)?;
        Some(self.info.units.get(u)?.get_or_init(|| {
            let chunks = split::split(unit.file.text())
                .chunks
                .iter()
                .map(|c| c.span)
                .collect();
            let items = unit
                .parsed
                .document
                .items
                .iter()
                .enumerate()
                .map(|(i, item)| item_info(item, self.anchor.checked_rule(u, i).is_some()))
                .collect();
            UnitInfo { chunks, items }
        }))
    }

    /// The diagnostics of `input`, when it is the anchor's folder with one file changed
    /// inside one rule only and the conditions above hold; `None` when the whole folder
    /// must be analysed.
    pub fn update(&self, input: &FolderInput, settings: &Settings) -> Option<Base> {
        let anchor = &self.anchor;
        if input.schema != anchor.schema || input.sources.len() != anchor.texts.len() {
            return None;
        }
        let mut changed = None;
        for (u, (source, text)) in input.sources.iter().zip(&anchor.texts).enumerate() {
            let unit = anchor.analysis.units.get(u)?;
            if source.name != unit.file.name() || Some(&source.path) != anchor.paths.get(u) {
                return None;
            }
            if source.text != *text {
                if changed.is_some() {
                    return None;
                }
                changed = Some(u);
            }
        }
        let Some(u) = changed else {
            return Some(Base {
                anchor: anchor.clone(),
                info: self.info.clone(),
                diagnostics: self.info.diagnostics.clone(),
            });
        };
        match &input.sources.get(u)?.text {
            Text::Utf8(text) => self.update_unit(u, text, settings),
            Text::Bytes(_) => None,
        }
    }

    /// [`Base::update`] when file `u` is the one that changed, to `text`.
    fn update_unit(&self, u: usize, text: &Arc<str>, settings: &Settings) -> Option<Base> {
        let unit_info = self.unit_info(u)?;
        if unit_info.items.len() != unit_info.chunks.len() {
            return None;
        }
        let analysis = &self.anchor.analysis;
        let doc_unit = analysis.units.get(u)?;
        let doc_file = &doc_unit.file;
        let name = doc_file.name();
        let anchor_text = doc_file.text();
        let old = anchor_text.as_bytes();
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
        // Whether the rules after the edit moved to other lines: the checked rules keep
        // the anchor's line numbers, which messages about other files' rules quote
        // (`rule-cycle`'s "also in the loop: `id` (file:line)").
        let newlines = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count();
        let lines_moved =
            newlines(old.get(prefix..edit_end)?) != newlines(new.get(prefix..new.len() - suffix)?);
        // The one item the edit is inside.
        let k = unit_info
            .chunks
            .iter()
            .position(|c| c.lo() <= prefix && edit_end <= c.hi())?;
        let old_k = *unit_info.chunks.get(k)?;
        let info = unit_info.items.get(k)?;
        if !info.rule_like || info.watches {
            return None;
        }
        if let Some(Some(id)) = &info.id {
            if self.info.ids.get(id).copied() != Some(1) {
                return None;
            }
        }
        // A span of the anchor (or of the edited rule, in new positions) in the new
        // text; `None` where the two cannot be told apart.
        let grow = delta.max(0) as usize;
        let to_new = |s: Span| -> Option<Span> {
            if s.lo() <= old_k.hi() {
                Some(s)
            } else if s.lo() <= old_k.hi() + grow {
                None
            } else {
                let lo = usize::try_from(s.lo() as i64 + delta).ok()?;
                let hi = usize::try_from(s.hi() as i64 + delta).ok()?;
                Some(Span::new(lo, hi))
            }
        };
        // A span of the anchor outside the edited rule, in the new text.
        let moved = |s: Span| -> Option<Span> {
            if s.lo() > old_k.hi() {
                let lo = usize::try_from(s.lo() as i64 + delta).ok()?;
                let hi = usize::try_from(s.hi() as i64 + delta).ok()?;
                Some(Span::new(lo, hi))
            } else {
                Some(s)
            }
        };
        let move_all = |d: &mut Diagnostic, to_new: &dyn Fn(Span) -> Option<Span>| -> Option<()> {
            d.span = to_new(d.span)?;
            for r in &mut d.related {
                r.span = to_new(r.span)?;
            }
            if let Some(fix) = &mut d.fix {
                for e in &mut fix.edits {
                    e.span = to_new(e.span)?;
                }
            }
            Some(())
        };
        // The rest of the file splits as before.
        let split = split::split(text);
        let chunks: Vec<Span> = split.chunks.iter().map(|c| c.span).collect();
        if chunks.len() != unit_info.chunks.len() {
            return None;
        }
        let new_k = Span::new(old_k.lo(), usize::try_from(old_k.hi() as i64 + delta).ok()?);
        for (i, (a, b)) in unit_info.chunks.iter().zip(&chunks).enumerate() {
            let want = if i == k {
                new_k
            } else if a.lo() > old_k.hi() {
                Span::new(
                    usize::try_from(a.lo() as i64 + delta).ok()?,
                    usize::try_from(a.hi() as i64 + delta).ok()?,
                )
            } else {
                *a
            };
            if want != *b {
                return None;
            }
        }
        // The edited rule, parsed where it stands in the new text and checked on its own
        // against the folder's schema: the edit is inside a rule, so every declaration,
        // and with them the schema, is the anchor's.
        let file = SourceFile::new(name, text.clone());
        let (item, mut found) = syntax::parse_item(&file, &split.comments, split.chunks.get(k)?);
        check::add_suggestion_fixes(&mut found);
        let schema = &analysis.checked.schema;
        let mut new_ir = None;
        if let Item::Rule(rule) = &item {
            let ids = self.rule_ids();
            let id = match rule.id_header() {
                Some((id, _)) => id.name.as_str(),
                None => ids
                    .iter()
                    .find(|(s, _)| *s == (u, k))
                    .map(|(_, id)| id.as_str())?,
            };
            let names: Vec<&str> = ids.iter().map(|(_, id)| id.as_str()).collect();
            let (ir, diagnostics) = check::check_rule(schema, &file, rule, id, &names);
            found.extend(diagnostics);
            lint::unknown_allows(&file, rule, &mut found);
            // Under its id in the folder (its `rule` header's, else the one generated
            // for its place, which the edit did not change), with the folder's settings.
            new_ir = ir.map(|mut ir| {
                workspace::configure(&mut ir, &settings.lints);
                ir
            });
        }
        let new_info = item_info(&item, new_ir.is_some());
        if !new_info.rule_like || new_info.watches || new_info.id != info.id {
            return None;
        }
        let involved = info.compiled || new_info.compiled;

        // Everything that does not depend on other rules: the anchor's, moved, outside
        // the rule; the copy's inside it.
        let anchor_diagnostics = self.info.diagnostics.get(u)?;
        let mut diagnostics = Vec::with_capacity(anchor_diagnostics.len());
        for d in anchor_diagnostics.iter() {
            if d.span.lo() >= old_k.lo() && d.span.lo() <= old_k.hi() {
                continue;
            }
            if involved && cross_rule(&d.code) {
                continue;
            }
            let inside = |s: Span| s.hi() >= old_k.lo() && s.lo() <= old_k.hi();
            let touches = inside(d.span)
                || d.related.iter().any(|r| inside(r.span))
                || d.fix.iter().flat_map(|f| &f.edits).any(|e| inside(e.span));
            if touches {
                return None;
            }
            let mut d = d.clone();
            move_all(&mut d, &moved)?;
            diagnostics.push(d);
        }
        diagnostics.extend(found);

        // The cross-rule diagnostics of the folder's other files, when they may change.
        let mut others: Vec<Vec<Diagnostic>> = Vec::new();
        if involved {
            others = vec![Vec::new(); analysis.units.len()];
            let Item::Rule(new_ast) = &item else {
                return None;
            };
            let config = &settings.lints;
            let mut rules: Vec<RuleContext<'_>> =
                Vec::with_capacity(analysis.checked.rules.len() + 1);
            let mut placed = false;
            let mut edited_index = None;
            let edited = new_ir
                .as_ref()
                .map(|ir| RuleContext::new(&file, new_ast, ir, schema, config));
            let mut edited = edited.into_iter();
            for (rule, source) in analysis.checked.rules.iter().zip(&analysis.checked.sources) {
                // The edited rule goes where it stands among the folder's rules.
                if !placed && (source.unit > u || (source.unit == u && source.item >= k)) {
                    if let Some(rule) = edited.next() {
                        edited_index = Some(rules.len());
                        rules.push(rule);
                    }
                    placed = true;
                }
                if source.unit == u && source.item == k {
                    continue;
                }
                let unit = analysis.units.get(source.unit)?;
                let Some(ast::Item::Rule(rule_ast)) = unit.parsed.document.items.get(source.item)
                else {
                    return None;
                };
                rules.push(RuleContext::new(&unit.file, rule_ast, rule, schema, config));
            }
            if let Some(rule) = edited.next() {
                edited_index = Some(rules.len());
                rules.push(rule);
            }
            let workspace = WorkspaceContext {
                rules,
                schema,
                config,
            };
            for mut d in workspace.lint(|i| Some(i) == edited_index) {
                let j = if Arc::ptr_eq(&d.file, &file) {
                    u
                } else {
                    self.anchor.unit_of(&d.file)?
                };
                if j == u {
                    // Spans here come from the anchor's rules and the edited one.
                    move_all(&mut d, &to_new)?;
                    diagnostics.push(d);
                } else {
                    others.get_mut(j)?.push(d);
                }
            }
        }

        // Another file's diagnostics quoting this file's line numbers may be stale.
        if lines_moved {
            let quoted = self
                .info
                .diagnostics
                .iter()
                .enumerate()
                .any(|(j, list)| j != u && list.iter().any(|d| cross_rule(&d.code)));
            if quoted
                || others
                    .iter()
                    .enumerate()
                    .any(|(j, l)| j != u && !l.is_empty())
            {
                return None;
            }
        }

        // Every diagnostic points into the new text, in `rulec check` order.
        for d in &mut diagnostics {
            d.file = file.clone();
        }
        sort(&mut diagnostics);
        let mut all = self.info.diagnostics.clone();
        if let Some(mine) = all.get_mut(u) {
            *mine = Arc::new(diagnostics);
        }
        for (j, recomputed) in others.into_iter().enumerate() {
            let Some(list) = all.get_mut(j) else {
                continue;
            };
            if j == u || (recomputed.is_empty() && !list.iter().any(|d| cross_rule(&d.code))) {
                continue;
            }
            let mut next: Vec<Diagnostic> = list
                .iter()
                .filter(|d| !cross_rule(&d.code))
                .cloned()
                .collect();
            next.extend(recomputed);
            sort(&mut next);
            *list = Arc::new(next);
        }
        Some(Base {
            anchor: self.anchor.clone(),
            info: self.info.clone(),
            diagnostics: all,
        })
    }
}

/// The order `rulec check` prints one file's diagnostics in.
fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_cached_key(|d| (d.span.start, d.span.end, d.code.clone()));
}

/// The folder's diagnostics after an edit: from `base` when only one rule of one file
/// changed and the result is provably a full check's, else from a full analysis of
/// `input` (returned too, for the features; it becomes the next anchor).
pub fn diagnostics(
    base: Option<&Base>,
    input: FolderInput,
    settings: &Settings,
) -> (Arc<Base>, Option<Arc<FolderAnalysis>>) {
    if let Some(next) = base.and_then(|b| b.update(&input, settings)) {
        return (Arc::new(next), None);
    }
    let analysis = Arc::new(FolderAnalysis::new(input, settings));
    (Arc::new(Base::of(&analysis)), Some(analysis))
}
