//! Re-checking only the rule being edited, when that provably gives the diagnostics a
//! full `rulec check` would.
//!
//! The starting point (the *anchor*) is the last full analysis. When the text differs
//! from the anchor's only inside one rule, every diagnostic that does not depend on
//! other rules is the anchor's, moved by the length of the edit; the edited rule is
//! analysed alone, in a copy of the document where every other rule is blanked out
//! (same length, same lines, so spans need no translation) and every declaration kept,
//! so it sees the same schema. What depends on several rules — the workspace lints
//! (`rule-cycle`, `duplicate-rule`, `deprecated-status`) and `unused-allow` — is run
//! again over every checked rule, the edited one taken from the copy.
//!
//! Conditions, each checked (otherwise the whole document is analysed): the edit stays
//! inside one rule and the rest of the document splits into the same items; the rule's
//! id is unchanged and unique, and it neither is nor was a `rule … failed` meta-rule;
//! a rule without a `rule` header that starts to check keeps its generated id only if
//! it checked before. Tests compare both paths on random edit sequences.

use std::collections::HashMap;
use std::sync::Arc;

use rulec::diagnostics::{Diagnostic, Severity};
use rulec::lint::{self, Check, Level, Lint, LintConfig, RuleContext, WorkspaceContext, LINTS};
use rulec::source::{SourceFile, Span};
use rulec::syntax::ast::{self, HeaderKind, Item, TriggerClause, TriggerKind};
use rulec::syntax::split;

use crate::analysis::{DocAnalysis, Settings};

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

/// The diagnostics of a text, and the anchor the next edit starts from.
#[derive(Debug, Clone)]
pub struct Base {
    anchor: Arc<DocAnalysis>,
    chunks: Vec<Span>,
    items: Vec<ItemInfo>,
    /// How many rules (in every file checked together) declare each id.
    ids: HashMap<String, usize>,
    /// The text the diagnostics are of.
    text: String,
    /// The document's diagnostics, in `rulec check` order.
    pub diagnostics: Vec<Diagnostic>,
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

fn severity(level: Level) -> Option<Severity> {
    match level {
        Level::Allow => None,
        Level::Info => Some(Severity::Info),
        Level::Warning => Some(Severity::Warning),
        Level::Error => Some(Severity::Error),
    }
}

/// The per-rule lints of rule `edited`, the workspace lints and `unused-allow` over
/// `rules`, as `rulec::lint::run` reports them (same levels, `allow`s, hints, order).
fn lint_diagnostics(
    rules: Vec<RuleContext<'_>>,
    edited: Option<usize>,
    schema: &rulec::schema::Schema,
    config: &LintConfig,
) -> Vec<Diagnostic> {
    let ctx = WorkspaceContext {
        rules,
        schema,
        config,
    };
    let mut used: Vec<(usize, &str)> = Vec::new();
    // Allows used by per-rule findings (only rules with `allow` headers can use one).
    for (i, rule) in ctx.rules.iter().enumerate() {
        if rule.ir.allow.is_empty() {
            continue;
        }
        for l in LINTS {
            if let Check::Rule(check) = l.check {
                let mut found = Vec::new();
                check(rule, &mut found);
                if !found.is_empty() && rule.ir.allow.iter().any(|a| a == l.name) {
                    used.push((i, l.name));
                }
            }
        }
    }
    let mut findings: Vec<(&Lint, lint::Finding)> = Vec::new();
    if let Some(rule) = edited.and_then(|i| ctx.rules.get(i).map(|r| (i, r))) {
        for l in LINTS {
            if let Check::Rule(check) = l.check {
                let mut found = Vec::new();
                check(rule.1, &mut found);
                findings.extend(found.into_iter().map(|f| (*l, f.on_rule(rule.0))));
            }
        }
    }
    for l in LINTS {
        if let Check::Workspace(check) = l.check {
            let mut found = Vec::new();
            check(&ctx, &mut found);
            findings.extend(found.into_iter().map(|f| (*l, f)));
        }
    }
    let mut out = Vec::new();
    for (l, finding) in findings {
        let Some(rule) = ctx.rules.get(finding.rule) else {
            continue;
        };
        if rule.ir.allow.iter().any(|a| a == l.name) {
            used.push((finding.rule, l.name));
            continue;
        }
        let Some(severity) = severity(config.level(l)) else {
            continue;
        };
        let severity = if finding.hint {
            Severity::Hint
        } else {
            severity
        };
        let mut d = Diagnostic::new(rule.file, l.name, severity, finding.message, finding.span);
        d.help = finding.help;
        d.fix = finding.fix;
        for (span, message) in finding.related {
            d = d.with_related(span, message);
        }
        out.push(d);
    }
    for (i, rule) in ctx.rules.iter().enumerate() {
        for header in &rule.ast.headers {
            let HeaderKind::Allow { lint: name, .. } = &header.kind else {
                continue;
            };
            let Some(l) = lint::lint(&name.name) else {
                continue;
            };
            if config.level(l) == Level::Allow || used.contains(&(i, l.name)) {
                continue;
            }
            out.push(
                Diagnostic::new(
                    rule.file,
                    "unused-allow",
                    Severity::Warning,
                    format!(
                        "`allow {}` silences nothing in rule `{}`",
                        l.name, rule.ir.id
                    ),
                    header.span,
                )
                .with_help("remove it, so a future problem of this kind is reported"),
            );
        }
    }
    out
}

impl Base {
    /// The base of a full analysis, which becomes the anchor.
    pub fn of(analysis: &Arc<DocAnalysis>) -> Base {
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
            anchor: analysis.clone(),
            chunks,
            items,
            ids,
            text,
            diagnostics: analysis.diagnostics().cloned().collect(),
        }
    }

    /// The text the diagnostics are of.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The diagnostics of `text`, when it differs from the anchor's inside one rule
    /// only and the conditions above hold; `None` when the whole document must be
    /// analysed.
    pub fn update(&self, name: &str, text: &str, settings: &Settings) -> Option<Base> {
        if self.items.len() != self.chunks.len() {
            return None;
        }
        let anchor_text = self.anchor.text();
        if anchor_text == text {
            return Some(Base {
                text: text.to_string(),
                diagnostics: self.anchor.diagnostics().cloned().collect(),
                ..self.clone()
            });
        }
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
        // The one item the edit is inside.
        let k = self
            .chunks
            .iter()
            .position(|c| c.lo() <= prefix && edit_end <= c.hi())?;
        let old_k = *self.chunks.get(k)?;
        let info = self.items.get(k)?;
        if !info.rule_like || info.watches {
            return None;
        }
        if let Some(Some(id)) = &info.id {
            if self.ids.get(id).copied() != Some(1) {
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
        // The rest of the document splits as before.
        let chunks: Vec<Span> = split::split(text).chunks.iter().map(|c| c.span).collect();
        if chunks.len() != self.chunks.len() {
            return None;
        }
        let new_k = Span::new(old_k.lo(), usize::try_from(old_k.hi() as i64 + delta).ok()?);
        for (i, (a, b)) in self.chunks.iter().zip(&chunks).enumerate() {
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
        let new_ir = alone.checked_rule(ik);
        let new_info = item_info(item, new_ir.is_some());
        if !new_info.rule_like || new_info.watches || new_info.id != info.id {
            return None;
        }
        let involved = info.compiled || new_info.compiled;

        // Everything that does not depend on other rules: the anchor's, moved, outside
        // the rule; the copy's inside it.
        let mut diagnostics = Vec::with_capacity(self.anchor.analysis.diagnostics.len());
        for d in self.anchor.diagnostics() {
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
        diagnostics.extend(
            alone
                .diagnostics()
                .filter(|d| d.span.lo() >= new_k.lo() && d.span.lo() <= new_k.hi())
                .filter(|d| !(involved && cross_rule(&d.code)))
                .filter(|d| !(new_info.compiled && lint::lint(&d.code).is_some()))
                .cloned(),
        );

        if involved {
            // The edited rule's id: its `rule` header, else the one it had.
            let mut ir = new_ir.cloned();
            if let Some(ir) = &mut ir {
                ir.id = match &new_info.id {
                    Some(Some(id)) => id.clone(),
                    _ => self.anchor.checked_rule(k)?.id.clone(),
                };
            }
            let Item::Rule(new_ast) = item else {
                return None;
            };
            let analysis = &self.anchor.analysis;
            let doc_file = self.anchor.file()?;
            let schema = &analysis.checked.schema;
            let mut rules: Vec<RuleContext<'_>> =
                Vec::with_capacity(analysis.checked.rules.len() + 1);
            let mut placed = false;
            let mut edited_index = None;
            let config = &settings.lints;
            let edited_ir = ir.as_ref();
            for (rule, source) in analysis.checked.rules.iter().zip(&analysis.checked.sources) {
                let doc = source.unit == self.anchor.unit;
                if doc && !placed && source.item >= k {
                    if let Some(ir) = edited_ir {
                        edited_index = Some(rules.len());
                        rules.push(RuleContext {
                            file: doc_file,
                            ast: new_ast,
                            ir,
                            schema,
                            config,
                        });
                    }
                    placed = true;
                }
                if doc && source.item == k {
                    continue;
                }
                let unit = analysis.units.get(source.unit)?;
                let Some(ast::Item::Rule(rule_ast)) = unit.parsed.document.items.get(source.item)
                else {
                    return None;
                };
                rules.push(RuleContext {
                    file: &unit.file,
                    ast: rule_ast,
                    ir: rule,
                    schema,
                    config: &settings.lints,
                });
            }
            if !placed {
                if let Some(ir) = edited_ir {
                    edited_index = Some(rules.len());
                    rules.push(RuleContext {
                        file: doc_file,
                        ast: new_ast,
                        ir,
                        schema,
                        config,
                    });
                }
            }
            for mut d in lint_diagnostics(rules, edited_index, schema, &settings.lints) {
                if !Arc::ptr_eq(&d.file, doc_file) {
                    continue;
                }
                // Spans here come from the anchor's rules and the edited one.
                move_all(&mut d, &to_new)?;
                diagnostics.push(d);
            }
        }

        // Every diagnostic points into the new text, in `rulec check` order.
        let file = SourceFile::new(name, text);
        for d in &mut diagnostics {
            d.file = file.clone();
        }
        diagnostics.sort_by_cached_key(|d| (d.span.start, d.span.end, d.code.clone()));
        Some(Base {
            anchor: self.anchor.clone(),
            chunks: self.chunks.clone(),
            items: self.items.clone(),
            ids: self.ids.clone(),
            text: text.to_string(),
            diagnostics,
        })
    }
}

/// The document's diagnostics after an edit: from `base` when only one rule changed
/// and the result is provably a full check's, else from a full analysis (returned too,
/// for the features; it becomes the next anchor).
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
