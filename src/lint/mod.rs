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

mod unconditioned_trigger;

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

/// What a lint finds in one rule: where, what, and how to fix it.
pub struct Finding {
    /// The offending text.
    pub span: Span,
    /// One line naming the rule and the fix.
    pub message: String,
    /// More detail on the fix.
    pub help: Option<String>,
    /// A mechanical fix.
    pub fix: Option<Fix>,
}

/// What a lint sees of one rule.
pub struct RuleContext<'a> {
    /// The rule's file.
    pub file: &'a Arc<SourceFile>,
    /// The rule as written.
    pub ast: &'a ast::Rule,
    /// The rule as checked.
    pub ir: &'a ir::Rule,
    /// The workspace schema.
    pub schema: &'a Schema,
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
    /// Finds problems in one rule.
    pub check: fn(&RuleContext<'_>, &mut Vec<Finding>),
}

/// Every lint, in catalog order.
pub const LINTS: &[&Lint] = &[&unconditioned_trigger::LINT];

/// A lint by name.
pub fn lint(name: &str) -> Option<&'static Lint> {
    LINTS.iter().copied().find(|l| l.name == name)
}

/// Lint levels set in `rulec.toml`, with where each was written.
#[derive(Clone, Debug, Default)]
pub struct LintConfig {
    /// Lint name → level.
    pub levels: BTreeMap<String, Level>,
}

/// Runs every lint over the checked rules and reports bad `allow` headers.
pub fn run(units: &[Unit], checked: &Checked, config: &LintConfig) -> Vec<Diagnostic> {
    let pairs: Vec<(&ir::Rule, &crate::check::RuleSource)> =
        checked.rules.iter().zip(&checked.sources).collect();
    let per_rule = crate::parallel::map(&pairs, |(rule, source)| {
        lint_rule(units, checked, config, rule, source)
    });
    let mut out: Vec<Diagnostic> = per_rule.into_iter().flatten().collect();
    for unit in units {
        for item in &unit.parsed.document.items {
            if let ast::Item::Rule(rule) = item {
                unknown_allows(&unit.file, rule, &mut out);
            }
        }
    }
    out
}

fn lint_rule(
    units: &[Unit],
    checked: &Checked,
    config: &LintConfig,
    rule: &ir::Rule,
    source: &crate::check::RuleSource,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(unit) = units.get(source.unit) else {
        return out;
    };
    let Some(ast::Item::Rule(ast_rule)) = unit.parsed.document.items.get(source.item) else {
        return out;
    };
    let context = RuleContext {
        file: &unit.file,
        ast: ast_rule,
        ir: rule,
        schema: &checked.schema,
    };
    for lint in LINTS {
        let level = config
            .levels
            .get(lint.name)
            .copied()
            .unwrap_or(lint.default);
        let Some(severity) = level.severity() else {
            continue;
        };
        if rule.allow.iter().any(|a| a == lint.name) {
            continue;
        }
        let mut findings = Vec::new();
        (lint.check)(&context, &mut findings);
        for finding in findings {
            let mut d = Diagnostic::new(
                &unit.file,
                lint.name,
                severity,
                finding.message,
                finding.span,
            );
            d.help = finding.help;
            d.fix = finding.fix;
            out.push(d);
        }
    }
    out
}

fn unknown_allows(file: &Arc<SourceFile>, rule: &ast::Rule, out: &mut Vec<Diagnostic>) {
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
