//! AST + schema to checked IR.
//!
//! Checking never stops at the first problem: every rule is checked, every name
//! resolved, and each problem reported once (an unresolved name has the type
//! `Unknown`, which fits anything, so it causes no follow-on errors). Rules with errors
//! are left out of the IR.
//!
//! Files are checked together: declarations in any file (and the schema file) extend
//! the workspace schema, rule ids must be unique across files, and `rule … failed`
//! triggers may name rules in other files.

mod expr;
mod infer;
mod rule;
pub(crate) mod scope;
mod steps;
pub use steps::RESERVED_ROOTS;
pub mod test_block;

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use crate::diagnostics::{did_you_mean, Diagnostic, Severity};
use crate::ir;
use crate::schema::{Schema, SchemaBuilder};
use crate::source::SourceFile;
use crate::syntax::{ast, Parsed};

/// One parsed file of the workspace.
#[derive(Debug)]
pub struct Unit {
    /// The file.
    pub file: Arc<SourceFile>,
    /// Its parse.
    pub parsed: Parsed,
}

impl Unit {
    /// Parses a file into a unit.
    pub fn parse(file: Arc<SourceFile>) -> Unit {
        let parsed = crate::syntax::parse(&file);
        Unit { file, parsed }
    }
}

/// Where a checked rule came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleSource {
    /// Index of the unit.
    pub unit: usize,
    /// Index of the item in the unit's document.
    pub item: usize,
}

/// The result of checking a workspace.
#[derive(Debug)]
pub struct Checked {
    /// The schema the rules were checked against.
    pub schema: Schema,
    /// Every rule that checked without error, in unit and item order. Their `version`
    /// is empty: checking does not need it, and [`Checked::program`] computes it.
    pub rules: Vec<ir::Rule>,
    /// Where each of `rules` came from (same index).
    pub sources: Vec<RuleSource>,
    /// Syntax and type diagnostics, in unit and position order.
    pub diagnostics: Vec<Diagnostic>,
    /// How many of the diagnostics found while checking are errors (kept when the
    /// diagnostics are moved out, as `workspace::analyze` does).
    pub errors: usize,
    /// The hosts `http` steps may call, from the project's rulec.toml (set by
    /// `workspace::analyze`): compiled into the program, so the engine enforces them.
    pub http_allow: Option<Vec<String>>,
}

impl Checked {
    /// The compiled program, or — when any rule, declaration or test has an error — why
    /// there is none: rules with errors are left out of `rules`, so running what is left
    /// would silently run less than the files say.
    ///
    /// `units` are the files these rules were checked from: each rule's version (which
    /// keys its effects and waiting runs) is computed here, as only a program to run
    /// needs it.
    pub fn program(&self, units: &[Unit]) -> Result<ir::Program, ProgramError> {
        ProgramError::check(self.errors)?;
        Ok(self.program_unchecked(units))
    }

    /// The program of the rules that checked, whatever else has errors (for tools that
    /// show a partial workspace, such as an editor). `units` as for [`Checked::program`].
    pub fn program_unchecked(&self, units: &[Unit]) -> ir::Program {
        let versions = crate::parallel::map(&self.sources, |source| {
            match units
                .get(source.unit)
                .and_then(|u| u.parsed.document.items.get(source.item))
            {
                Some(ast::Item::Rule(rule)) => rule::version_hash(rule),
                _ => String::new(),
            }
        });
        let mut rules = self.rules.clone();
        for (rule, version) in rules.iter_mut().zip(versions) {
            rule.version = version;
        }
        ir::Program {
            format: ir::FORMAT_VERSION,
            schema: self.schema.clone(),
            rules,
            http_allow: self.http_allow.clone(),
        }
    }

    /// True when checking found an error.
    pub fn has_errors(&self) -> bool {
        self.errors > 0
    }
}

/// Why a workspace has no program to run: it has errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramError {
    /// How many errors.
    pub errors: usize,
}

impl ProgramError {
    /// `Err` when there are errors.
    pub fn check(errors: usize) -> Result<(), ProgramError> {
        if errors == 0 {
            Ok(())
        } else {
            Err(ProgramError { errors })
        }
    }
}

impl std::fmt::Display for ProgramError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the rules have {} error{}; `rulec check` shows where",
            self.errors,
            if self.errors == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for ProgramError {}

/// Checks parsed files together.
pub fn check(units: &[Unit]) -> Checked {
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for unit in units {
        diagnostics.extend(unit.parsed.diagnostics.iter().cloned());
    }

    let mut builder = SchemaBuilder::new();
    for unit in units {
        builder.declare_objects(&unit.file, &unit.parsed.document);
    }
    for unit in units {
        builder.add_document(&unit.file, &unit.parsed.document);
    }
    let (schema, schema_diagnostics) = builder.finish();
    diagnostics.extend(schema_diagnostics);

    let ids = assign_ids(units, &mut diagnostics);
    let all_ids: Vec<&str> = ids.iter().map(|(_, id, _)| id.as_str()).collect();

    // Rules are checked independently, so large workspaces use every core.
    let results = crate::parallel::map_parts(&ids, |(source, id, unique)| {
        let unit = units.get(source.unit)?;
        let Some(ast::Item::Rule(ast_rule)) = unit.parsed.document.items.get(source.item) else {
            return None;
        };
        let (checked, found) = check_rule(&schema, &unit.file, ast_rule, id, &all_ids);
        Some((checked.filter(|_| *unique), *source, found))
    });
    let mut rules = Vec::with_capacity(ids.len());
    let mut sources = Vec::with_capacity(ids.len());
    for (compiled, source, found) in results.into_iter().flatten().flatten() {
        diagnostics.extend(found);
        if let Some(rule) = compiled {
            rules.push(rule);
            sources.push(source);
        }
    }
    for unit in units {
        for item in &unit.parsed.document.items {
            if let ast::Item::Test(test) = item {
                test_block::check_test(&schema, &unit.file, test, &mut diagnostics);
            }
        }
    }
    for d in &mut diagnostics {
        suggestion_fix(d);
    }
    sort_diagnostics(units, &mut diagnostics);
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    Checked {
        schema,
        rules,
        sources,
        diagnostics,
        errors,
        http_allow: None,
    }
}

/// Checks one rule on its own, as [`check`] checks it among the others: against the
/// workspace's `schema`, under the id `id` it has there (see [`rule_ids`]), with
/// `rule_ids` every id of the workspace (what `rule … failed` may name). Returns the
/// checked rule (when there is no error, with its version) and the rule's diagnostics,
/// with the same spans, messages and fixes as a full check.
///
/// Exposed so an editor can check only the rule being edited; everything the rule
/// depends on besides itself is in `schema` and `rule_ids`.
pub fn check_rule(
    schema: &Schema,
    file: &Arc<SourceFile>,
    rule: &ast::Rule,
    id: &str,
    rule_ids: &[&str],
) -> (Option<ir::Rule>, Vec<Diagnostic>) {
    let context = rule::Context {
        schema,
        file,
        rule_ids,
    };
    let mut found = Vec::new();
    let checked = rule::check_rule(&context, rule, id, &mut found).map(|mut checked| {
        checked.version = rule::version_hash(rule);
        checked
    });
    let failed = found.iter().any(|d| d.severity == Severity::Error);
    for d in &mut found {
        suggestion_fix(d);
    }
    (checked.filter(|_| !failed), found)
}

/// The id of every rule of `units` (those with errors too), in unit and item order:
/// its `rule` header's, else one made from the file's name and the rule's ordinal
/// (`wins#2`). Duplicated ids are listed as often as they appear.
pub fn rule_ids(units: &[Unit]) -> Vec<(RuleSource, String)> {
    assign_ids(units, &mut Vec::new())
        .into_iter()
        .map(|(source, id, _)| (source, id))
        .collect()
}

/// Makes "did you mean `x`?" helps into fixes, as [`check`] does for every diagnostic
/// it reports; for diagnostics made outside it (a syntax error of a reparsed item).
pub fn add_suggestion_fixes(diagnostics: &mut [Diagnostic]) {
    for d in diagnostics {
        suggestion_fix(d);
    }
}

/// Orders diagnostics by unit, then position, so every output format lists them alike.
pub fn sort_diagnostics(units: &[Unit], diagnostics: &mut [Diagnostic]) {
    let order: HashMap<&str, usize> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.file.name(), i))
        .collect();
    diagnostics.sort_by_cached_key(|d| {
        let unit = order.get(d.file.name()).copied().unwrap_or(usize::MAX);
        (unit, d.span.start, d.span.end, d.code.clone())
    });
}

/// Gives every rule its id: the `rule` header, or `<stem>#<n>` counting header-less
/// rules in the file (so adding a named rule does not renumber the others).
/// Each entry: where the rule is, its id, and whether the id is its own (not a duplicate).
fn assign_ids(
    units: &[Unit],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(RuleSource, String, bool)> {
    let mut out = Vec::new();
    let mut seen: HashMap<String, (usize, crate::source::Span)> = HashMap::default();
    // Two files with one stem (`a/wins.rules`, `b/wins.rules`) use their paths instead.
    let mut stems: HashMap<&str, usize> = HashMap::default();
    for unit in units {
        *stems.entry(unit.file.stem()).or_default() += 1;
    }
    for (u, unit) in units.iter().enumerate() {
        let mut ordinal = 0;
        let prefix = match stems.get(unit.file.stem()) {
            Some(1) => unit.file.stem(),
            _ => unit
                .file
                .name()
                .strip_suffix(".rules")
                .unwrap_or(unit.file.name()),
        };
        for (i, item) in unit.parsed.document.items.iter().enumerate() {
            let ast::Item::Rule(rule) = item else {
                continue;
            };
            let id = match rule.id_header() {
                Some((id, _)) => {
                    if let Some((first_unit, first_span)) = seen.get(&id.name) {
                        let mut d = Diagnostic::error(
                            &unit.file,
                            "duplicate-rule-id",
                            format!("rule id `{}` is used twice", id.name),
                            id.span,
                        )
                        .with_help(
                            "rule ids key run history and idempotency; give this rule its own id",
                        );
                        if *first_unit == u {
                            d = d.with_related(*first_span, "first used here");
                        }
                        diagnostics.push(d);
                        // Still checked, so its other problems are reported too.
                        out.push((RuleSource { unit: u, item: i }, id.name.clone(), false));
                        continue;
                    }
                    seen.insert(id.name.clone(), (u, id.span));
                    id.name.clone()
                }
                None => {
                    ordinal += 1;
                    format!("{prefix}#{ordinal}")
                }
            };
            out.push((RuleSource { unit: u, item: i }, id, true));
        }
    }
    out
}

/// Makes a "did you mean `x`?" with one candidate a fix: the misspelt name (a bare
/// name or a quoted string) is replaced by the candidate, in the same form.
fn suggestion_fix(d: &mut Diagnostic) {
    if d.fix.is_some() {
        return;
    }
    let Some(candidate) = d
        .help
        .as_deref()
        .and_then(|h| h.strip_prefix("did you mean `"))
        .and_then(|h| h.strip_suffix("`?"))
    else {
        return;
    };
    let written = d.file.slice(d.span);
    let is_name = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
            && !t.starts_with(|c: char| c.is_ascii_digit())
    };
    let replacement = if is_name(written) && is_name(candidate) {
        candidate.to_string()
    } else if written.len() >= 2
        && written.starts_with('"')
        && written.ends_with('"')
        && !candidate.contains(['"', '\\', '{'])
    {
        format!("\"{candidate}\"")
    } else {
        return;
    };
    d.fix = Some(crate::diagnostics::Fix {
        title: format!("replace `{written}` with `{replacement}`"),
        safety: crate::diagnostics::Safety::Safe,
        edits: vec![crate::diagnostics::Edit {
            span: d.span,
            replacement,
        }],
    });
}

/// A "did you mean" help, or a list of what exists.
pub(crate) fn suggest_or_list<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str> + Clone,
    what: &str,
) -> String {
    did_you_mean(name, candidates.clone()).unwrap_or_else(|| {
        let all: Vec<&str> = candidates.into_iter().collect();
        if all.is_empty() {
            format!("no {what} is declared")
        } else if all.len() > 12 {
            format!(
                "{what} include {} …",
                crate::schema::quoted_list(&all[..12])
            )
        } else {
            format!("{what} are {}", crate::schema::quoted_list(&all))
        }
    })
}
