//! Lints: the expensive workflow mistakes, caught before they ship.
//!
//! Each lint is one file in this folder holding its code and its documentation (what
//! it does, why it is bad, an example, the fix, when to `allow` it), like a Ruff rule.
//! `rulec lints` and `rulec explain` print that documentation, and a test checks that
//! every "Example" fires and every "Use instead" stays quiet.
//!
//! Lints run on rules that checked cleanly, with both the AST (for spans and fixes)
//! and the IR (for resolved names and types). Levels come from the lint's default,
//! `rulec.toml` and `allow <lint>` rule headers.

mod always_true_condition;
mod bulk_import_unguarded;
pub mod condition_space;
mod deprecated_status;
mod duplicate_key;
mod duplicate_rule;
mod guards;
mod hardcoded_secret;
mod http_host_not_allowed;
mod loop_shared_key;
mod missing_description;
mod missing_owner;
mod non_idempotent_create;
mod null_unsafe_path;
mod overwrite_without_guard;
mod rule_cycle;
mod unbounded_schedule;
mod unconditioned_trigger;
mod unreachable_step;
mod unsatisfiable_condition;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::check::{Checked, Unit};
use crate::diagnostics::{did_you_mean, Diagnostic, Fix, Severity};
use crate::ir;
use crate::schema::Schema;
use crate::source::{SourceFile, Span};
use crate::syntax::ast::{self, HeaderKind};

/// How loudly a lint speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Silenced.
    Allow,
    /// Reported as info.
    Info,
    /// Reported as a warning.
    Warning,
    /// Reported as an error.
    Error,
}

impl Level {
    /// Parses `allow`, `info`, `warning` or `error`.
    pub fn parse(text: &str) -> Option<Level> {
        Some(match text {
            "allow" => Level::Allow,
            "info" => Level::Info,
            "warning" | "warn" => Level::Warning,
            "error" => Level::Error,
            _ => return None,
        })
    }

    /// Its name in configuration and listings.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }

    fn severity(self) -> Option<Severity> {
        match self {
            Level::Allow => None,
            Level::Info => Some(Severity::Info),
            Level::Warning => Some(Severity::Warning),
            Level::Error => Some(Severity::Error),
        }
    }
}

/// What a lint finds: where, what, and how to fix it.
pub struct Finding {
    /// The rule it is about (index into [`WorkspaceContext::rules`]); set by the
    /// framework for per-rule lints. `allow` headers of this rule silence it.
    pub rule: usize,
    /// The offending text, in that rule's file.
    pub span: Span,
    /// One line naming the rule and the fix.
    pub message: String,
    /// More detail on the fix.
    pub help: Option<String>,
    /// Other places in the same file that explain the finding.
    pub related: Vec<(Span, String)>,
    /// A mechanical fix.
    pub fix: Option<Fix>,
    /// Report as a hint whatever the lint's level (e.g. no owner on a one-liner).
    pub hint: bool,
}

impl Finding {
    /// A finding on `span` of the rule being checked.
    pub fn new(span: Span, message: impl Into<String>) -> Finding {
        Finding {
            rule: 0,
            span,
            message: message.into(),
            help: None,
            related: Vec::new(),
            fix: None,
            hint: false,
        }
    }

    /// Adds help text.
    pub fn help(mut self, help: impl Into<String>) -> Finding {
        self.help = Some(help.into());
        self
    }

    /// Adds a fix.
    pub fn fix(mut self, fix: Fix) -> Finding {
        self.fix = Some(fix);
        self
    }

    /// Adds a related place in the same file.
    pub fn related(mut self, span: Span, message: impl Into<String>) -> Finding {
        self.related.push((span, message.into()));
        self
    }

    /// Sets the rule (for workspace lints).
    pub fn on_rule(mut self, rule: usize) -> Finding {
        self.rule = rule;
        self
    }

    /// Reports it as a hint.
    pub fn as_hint(mut self) -> Finding {
        self.hint = true;
        self
    }
}

/// What a lint sees of one rule.
pub struct RuleContext<'a> {
    /// The rule's file. Lints tell files apart by name, not by pointer: an editor may
    /// lint an edited rule in a newer copy of its file than the other rules'.
    pub file: &'a Arc<SourceFile>,
    /// The rule as written.
    pub ast: &'a ast::Rule,
    /// The rule as checked.
    pub ir: &'a ir::Rule,
    /// The workspace schema.
    pub schema: &'a Schema,
    /// Lint settings (`[http] allow`, …).
    pub config: &'a LintConfig,
    /// What several lints work out about the rule, worked out once.
    memo: RuleMemo,
}

/// Verdicts several lints need (`unsatisfiable-condition` and
/// `always-true-condition` decide the same condition).
#[derive(Default)]
struct RuleMemo {
    facts: std::sync::OnceLock<Vec<ir::Expr>>,
    condition: std::sync::OnceLock<Option<condition_space::Verdict>>,
    condition_alone: std::sync::OnceLock<Option<condition_space::Verdict>>,
}

impl<'a> RuleContext<'a> {
    /// What a lint sees of `ir`, written as `ast` in `file`.
    pub fn new(
        file: &'a Arc<SourceFile>,
        ast: &'a ast::Rule,
        ir: &'a ir::Rule,
        schema: &'a Schema,
        config: &'a LintConfig,
    ) -> Self {
        RuleContext {
            file,
            ast,
            ir,
            schema,
            config,
            memo: RuleMemo::default(),
        }
    }

    /// What the trigger guarantees whenever the condition is evaluated
    /// ([`condition_space::trigger_facts`]).
    pub fn trigger_facts(&self) -> &[ir::Expr] {
        self.memo
            .facts
            .get_or_init(|| condition_space::trigger_facts(self.ir, self.schema))
    }

    /// The verdict on the rule's condition given its trigger's facts; `None` without
    /// a condition.
    pub fn condition_verdict(&self) -> Option<condition_space::Verdict> {
        *self.memo.condition.get_or_init(|| {
            let condition = self.ir.condition.as_ref()?;
            Some(condition_space::decide(condition, self.trigger_facts()))
        })
    }

    /// The verdict on the rule's condition alone, without the trigger's facts.
    pub fn condition_verdict_alone(&self) -> Option<condition_space::Verdict> {
        *self.memo.condition_alone.get_or_init(|| {
            let condition = self.ir.condition.as_ref()?;
            if self.trigger_facts().is_empty() {
                return self.condition_verdict();
            }
            Some(condition_space::decide(condition, &[]))
        })
    }
}

/// What a workspace lint sees: every checked rule of every file checked together.
pub struct WorkspaceContext<'a> {
    /// The rules, in file order.
    pub rules: Vec<RuleContext<'a>>,
    /// The workspace schema.
    pub schema: &'a Schema,
    /// Lint settings.
    pub config: &'a LintConfig,
}

/// How a lint looks at rules.
pub enum Check {
    /// One rule at a time.
    Rule(fn(&RuleContext<'_>, &mut Vec<Finding>)),
    /// All rules together (cycles, duplicates, references between rules).
    Workspace(fn(&WorkspaceContext<'_>, &mut Vec<Finding>)),
}

/// A lint: its documentation and its check.
pub struct Lint {
    /// Stable kebab-case name.
    pub name: &'static str,
    /// Level when not configured.
    pub default: Level,
    /// One line for `rulec lints`.
    pub summary: &'static str,
    /// Markdown documentation for `rulec explain`.
    pub docs: &'static str,
    /// Finds problems.
    pub check: Check,
}

/// Every lint, in catalog order.
pub const LINTS: &[&Lint] = &[
    &unconditioned_trigger::LINT,
    &unsatisfiable_condition::LINT,
    &always_true_condition::LINT,
    &rule_cycle::LINT,
    &missing_owner::LINT,
    &missing_description::LINT,
    &hardcoded_secret::LINT,
    &http_host_not_allowed::LINT,
    &unbounded_schedule::LINT,
    &deprecated_status::LINT,
    &bulk_import_unguarded::LINT,
    &non_idempotent_create::LINT,
    &duplicate_key::LINT,
    &loop_shared_key::LINT,
    &overwrite_without_guard::LINT,
    &null_unsafe_path::LINT,
    &unreachable_step::LINT,
    &duplicate_rule::LINT,
];

/// A lint by name.
pub fn lint(name: &str) -> Option<&'static Lint> {
    LINTS.iter().copied().find(|l| l.name == name)
}

/// Lint settings from `rulec.toml`.
#[derive(Clone, Debug, Default)]
pub struct LintConfig {
    /// Lint name → level.
    pub levels: BTreeMap<String, Level>,
    /// Hosts `http` steps may call; `None` when no allow-list is set.
    pub http_allow: Option<Vec<String>>,
    /// The workspace's time zone (`time_zone`), when set.
    pub time_zone: Option<String>,
}

impl LintConfig {
    /// The level in force for a lint.
    pub fn level(&self, lint: &Lint) -> Level {
        self.levels.get(lint.name).copied().unwrap_or(lint.default)
    }
}

/// Runs every lint over the checked rules, then reports `allow` headers that name no
/// lint or silence nothing.
pub fn run(units: &[Unit], checked: &Checked, config: &LintConfig) -> Vec<Diagnostic> {
    let workspace = WorkspaceContext::new(units, checked, config);
    let mut out = workspace.lint(|_| true);
    for unit in units {
        for item in &unit.parsed.document.items {
            if let ast::Item::Rule(rule) = item {
                unknown_allows(&unit.file, rule, &mut out);
            }
        }
    }
    out
}

impl<'a> WorkspaceContext<'a> {
    /// The checked rules of `units`, for linting.
    pub fn new(units: &'a [Unit], checked: &'a Checked, config: &'a LintConfig) -> Self {
        let rules = checked
            .rules
            .iter()
            .zip(&checked.sources)
            .filter_map(|(rule, source)| {
                let unit = units.get(source.unit)?;
                let Some(ast::Item::Rule(ast_rule)) = unit.parsed.document.items.get(source.item)
                else {
                    return None;
                };
                Some(RuleContext::new(
                    &unit.file,
                    ast_rule,
                    rule,
                    &checked.schema,
                    config,
                ))
            })
            .collect();
        WorkspaceContext {
            rules,
            schema: &checked.schema,
            config,
        }
    }

    /// The lint diagnostics: the per-rule lints of the rules `selected` picks (by index
    /// into [`WorkspaceContext::rules`]), every workspace lint, and `unused-allow` for
    /// every rule, at the configured levels, with `allow` headers applied — what
    /// [`run`] reports when every rule is selected. An editor that re-checked one rule
    /// selects only that one: the other rules' per-rule findings have not changed.
    pub fn lint(&self, selected: impl Fn(usize) -> bool + Sync) -> Vec<Diagnostic> {
        let indices: Vec<usize> = (0..self.rules.len()).collect();
        let workspace_findings = |ctx: &Self| {
            let mut findings: Vec<(&'static Lint, Finding)> = Vec::new();
            for lint in LINTS {
                if let Check::Workspace(check) = lint.check {
                    let mut found = Vec::new();
                    check(ctx, &mut found);
                    findings.extend(found.into_iter().map(|f| (*lint, f)));
                }
            }
            findings
        };
        // A rule that is not selected is linted only to learn which of its `allow`s
        // are used; its findings are not reported.
        let per_rule_findings = || -> Vec<(bool, Vec<(&'static Lint, Finding)>)> {
            crate::parallel::map(&indices, |&i| {
                let Some(rule) = self.rules.get(i) else {
                    return (false, Vec::new());
                };
                let report = selected(i);
                let mut out = Vec::new();
                if report || !rule.ir.allow.is_empty() {
                    for lint in LINTS {
                        if let Check::Rule(check) = lint.check {
                            let mut found = Vec::new();
                            check(rule, &mut found);
                            out.extend(found.into_iter().map(|f| (*lint, f.on_rule(i))));
                        }
                    }
                }
                (report, out)
            })
        };
        // The workspace lints (one pass over every rule each, `rule-cycle` the longest)
        // run on a thread of their own while the per-rule lints fill the cores.
        let (per_rule, workspace) = if self.rules.len() < crate::parallel::MIN_PARALLEL {
            (per_rule_findings(), workspace_findings(self))
        } else {
            std::thread::scope(|scope| {
                let workspace = scope.spawn(|| workspace_findings(self));
                let per_rule = per_rule_findings();
                match workspace.join() {
                    Ok(workspace) => (per_rule, workspace),
                    // A panic in a lint is a bug; surface it on the calling thread.
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            })
        };
        let mut used_allows: Vec<(usize, &str)> = Vec::new();
        // A large workspace has tens of thousands of findings: size the lists once.
        let total = per_rule.iter().map(|(_, f)| f.len()).sum::<usize>() + workspace.len();
        let mut findings: Vec<(&Lint, Finding)> = Vec::with_capacity(total);
        for (report, found) in per_rule {
            if report {
                findings.extend(found);
            } else {
                for (lint, finding) in found {
                    let allowed = self
                        .rules
                        .get(finding.rule)
                        .is_some_and(|r| r.ir.allow.iter().any(|a| a == lint.name));
                    if allowed {
                        used_allows.push((finding.rule, lint.name));
                    }
                }
            }
        }
        findings.extend(workspace);

        let mut out = Vec::with_capacity(findings.len());
        for (lint, finding) in findings {
            let Some(rule) = self.rules.get(finding.rule) else {
                continue;
            };
            if rule.ir.allow.iter().any(|a| a == lint.name) {
                used_allows.push((finding.rule, lint.name));
                continue;
            }
            let Some(severity) = self.config.level(lint).severity() else {
                continue;
            };
            let severity = if finding.hint {
                Severity::Hint
            } else {
                severity
            };
            let mut d = Diagnostic::new(
                rule.file,
                lint.name,
                severity,
                finding.message,
                finding.span,
            );
            d.help = finding.help;
            d.fix = finding.fix;
            for (span, message) in finding.related {
                d = d.with_related(span, message);
            }
            out.push(d);
        }
        for (i, rule) in self.rules.iter().enumerate() {
            unused_allows(rule, i, &used_allows, self.config, &mut out);
        }
        out
    }
}

fn unused_allows(
    rule: &RuleContext<'_>,
    index: usize,
    used: &[(usize, &str)],
    config: &LintConfig,
    out: &mut Vec<Diagnostic>,
) {
    for header in &rule.ast.headers {
        let HeaderKind::Allow { lint: name, .. } = &header.kind else {
            continue;
        };
        let Some(lint) = lint(&name.name) else {
            continue;
        };
        if config.level(lint) == Level::Allow || used.contains(&(index, lint.name)) {
            continue;
        }
        out.push(
            Diagnostic::new(
                rule.file,
                "unused-allow",
                Severity::Warning,
                format!(
                    "`allow {}` silences nothing in rule `{}`",
                    lint.name, rule.ir.id
                ),
                header.span,
            )
            .with_help("remove it, so a future problem of this kind is reported"),
        );
    }
}

/// Reports the `allow` headers of `rule` that name no lint (`unknown-lint`), as [`run`]
/// does for every rule, checked or not.
pub fn unknown_allows(file: &Arc<SourceFile>, rule: &ast::Rule, out: &mut Vec<Diagnostic>) {
    for header in &rule.headers {
        if let HeaderKind::Allow { lint: name, .. } = &header.kind {
            if lint(&name.name).is_none() {
                out.push(unknown_lint(file, &name.name, name.span));
            }
        }
    }
}

/// The diagnostic for a lint name that does not exist.
pub fn unknown_lint(file: &Arc<SourceFile>, name: &str, span: Span) -> Diagnostic {
    let help = did_you_mean(name, LINTS.iter().map(|l| l.name))
        .unwrap_or_else(|| "`rulec lints` lists every lint".to_string());
    Diagnostic::error(
        file,
        "unknown-lint",
        format!("there is no lint called `{name}`"),
        span,
    )
    .with_help(help)
}

/// The `## Example` and `## Use instead` code blocks of a lint's documentation.
pub fn doc_examples(docs: &str) -> (Vec<String>, Vec<String>) {
    let mut bad = Vec::new();
    let mut good = Vec::new();
    let mut section = "";
    let mut block: Option<String> = None;
    for line in docs.lines() {
        if let Some(title) = line.strip_prefix("## ") {
            section = title.trim();
            continue;
        }
        if line.trim_start().starts_with("```") {
            match block.take() {
                Some(code) => match section {
                    "Example" => bad.push(code),
                    "Use instead" => good.push(code),
                    _ => {}
                },
                None => block = Some(String::new()),
            }
            continue;
        }
        if let Some(code) = block.as_mut() {
            code.push_str(line);
            code.push('\n');
        }
    }
    (bad, good)
}
