//! The one diagnostic type.
//!
//! Parser, checker and lints all produce [`Diagnostic`]; the terminal, JSON, SARIF,
//! GitHub annotations and the language server all render that same value, so they
//! cannot disagree. Messages follow one style: lowercase, no final period, user input
//! in backticks, the fix in `help`.

pub mod codes;
mod render;
mod suggest;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

pub use render::{render_github, render_human, render_json, render_sarif, JsonReport};
pub use suggest::{closest, did_you_mean};

use crate::source::{LineCol, SourceFile, Span};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A nudge (e.g. a header-less rule has no owner).
    Hint,
    /// Worth knowing; never fails CI.
    Info,
    /// Fails CI only with `--deny warnings`.
    Warning,
    /// The file cannot be compiled.
    Error,
}

impl Severity {
    /// The lowercase name used in every output format.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Hint => "hint",
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Whether applying a fix can change what a rule does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Safety {
    /// Keeps behaviour; applied by `rulec check --fix`.
    Safe,
    /// Changes behaviour (usually on purpose); applied only with `--unsafe-fixes`.
    ChangesBehaviour,
}

/// A text replacement.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Edit {
    /// The bytes replaced.
    #[serde(skip)]
    pub span: Span,
    /// The new text.
    pub replacement: String,
}

/// A mechanical fix for a diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Fix {
    /// What the fix does, as a code-action title ("add an import guard").
    pub title: String,
    /// How safe it is.
    pub safety: Safety,
    /// The edits, non-overlapping.
    pub edits: Vec<Edit>,
}

/// Applies fixes to a text. A fix whose edits overlap an earlier fix's is skipped
/// (the next `--fix` run picks it up). Returns the new text and the fixes applied.
pub fn apply_fixes(text: &str, fixes: &[&Fix]) -> (String, usize) {
    let mut taken: Vec<Span> = Vec::new();
    let mut edits: Vec<&Edit> = Vec::new();
    let mut applied = 0;
    for fix in fixes {
        let overlaps = fix.edits.iter().any(|e| {
            taken
                .iter()
                .any(|t| e.span.start < t.end && t.start < e.span.end || e.span == *t)
        });
        let in_bounds = fix.edits.iter().all(|e| {
            text.is_char_boundary(e.span.lo())
                && text.is_char_boundary(e.span.hi())
                && e.span.hi() <= text.len()
        });
        if overlaps || !in_bounds {
            continue;
        }
        taken.extend(fix.edits.iter().map(|e| e.span));
        edits.extend(fix.edits.iter());
        applied += 1;
    }
    edits.sort_by_key(|e| std::cmp::Reverse((e.span.start, e.span.end)));
    let mut out = text.to_string();
    for edit in edits {
        out.replace_range(edit.span.lo()..edit.span.hi(), &edit.replacement);
    }
    (out, applied)
}

/// A secondary location.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    /// Where.
    pub span: Span,
    /// What is there.
    pub message: String,
}

/// A problem found in a source file.
#[derive(Clone)]
pub struct Diagnostic {
    /// The file the spans point into.
    pub file: Arc<SourceFile>,
    /// A stable kebab-case code: `syntax-error`, `unknown-attribute`, or a lint name.
    pub code: Cow<'static, str>,
    /// How serious.
    pub severity: Severity,
    /// One line, lowercase, no final period.
    pub message: String,
    /// The offending text.
    pub span: Span,
    /// A short label under the offending text.
    pub label: Option<String>,
    /// Other places that explain the problem.
    pub related: Vec<Related>,
    /// How to fix it.
    pub help: Option<String>,
    /// A mechanical fix.
    pub fix: Option<Fix>,
}

impl Diagnostic {
    /// A diagnostic with a code, severity, message and span.
    pub fn new(
        file: &Arc<SourceFile>,
        code: impl Into<Cow<'static, str>>,
        severity: Severity,
        message: impl Into<String>,
        span: Span,
    ) -> Diagnostic {
        Diagnostic {
            file: file.clone(),
            code: code.into(),
            severity,
            message: message.into(),
            span,
            label: None,
            related: Vec::new(),
            help: None,
            fix: None,
        }
    }

    /// An error.
    pub fn error(
        file: &Arc<SourceFile>,
        code: impl Into<Cow<'static, str>>,
        message: impl Into<String>,
        span: Span,
    ) -> Diagnostic {
        Diagnostic::new(file, code, Severity::Error, message, span)
    }

    /// Adds help text.
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Adds a label under the primary span.
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Adds a related location.
    pub fn with_related(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.related.push(Related {
            span,
            message: message.into(),
        });
        self
    }

    /// Attaches a fix.
    pub fn with_fix(mut self, fix: Fix) -> Diagnostic {
        self.fix = Some(fix);
        self
    }

    /// 1-based start position.
    pub fn start(&self) -> LineCol {
        self.file.line_col(self.span.lo())
    }

    /// 1-based end position.
    pub fn end(&self) -> LineCol {
        self.file.line_col(self.span.hi())
    }

    /// Sort key: file, position, then code, so every output lists diagnostics in the
    /// same order.
    pub fn sort_key(&self) -> (&str, u32, u32, &str) {
        (self.file.name(), self.span.start, self.span.end, &self.code)
    }
}

impl fmt::Debug for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.start();
        write!(
            f,
            "{}:{}:{}: {} [{}] {}",
            self.file.name(),
            at.line,
            at.column,
            self.severity.as_str(),
            self.code,
            self.message
        )
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info | Severity::Hint => miette::Severity::Advice,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&*self.file)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let primary = miette::LabeledSpan::new_primary_with_span(
            self.label.clone(),
            (self.span.lo(), self.span.len()),
        );
        let related = self.related.iter().map(|r| {
            miette::LabeledSpan::new_with_span(Some(r.message.clone()), (r.span.lo(), r.span.len()))
        });
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}

impl miette::SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        // miette's own `str` implementation scans from the start of the text for every
        // snippet, which makes a report of many diagnostics quadratic in the file size.
        // Hand it only the lines around the span (one more on each side, so it still
        // sees where they end) and move its answer back into file coordinates.
        let (first, start, end) = self.window(
            span.offset(),
            span.offset() + span.len(),
            context_lines_before + 1,
            context_lines_after + 1,
        );
        let window = self.text().get(start..end).unwrap_or("");
        let local = miette::SourceSpan::new(span.offset().saturating_sub(start).into(), span.len());
        let inner = window.read_span(&local, context_lines_before, context_lines_after)?;
        let contents = miette::MietteSpanContents::new_named(
            self.name().to_string(),
            inner.data(),
            miette::SourceSpan::new((inner.span().offset() + start).into(), inner.span().len()),
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
        );
        Ok(Box::new(contents))
    }
}

/// Counts by severity, for summaries and exit codes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Files checked.
    pub files: usize,
    /// Errors.
    pub errors: usize,
    /// Warnings.
    pub warnings: usize,
    /// Infos.
    pub infos: usize,
    /// Hints.
    pub hints: usize,
}

impl Summary {
    /// Counts `diagnostics` over `files` files.
    pub fn of(files: usize, diagnostics: &[Diagnostic]) -> Summary {
        let mut summary = Summary {
            files,
            ..Summary::default()
        };
        for d in diagnostics {
            match d.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Info => summary.infos += 1,
                Severity::Hint => summary.hints += 1,
            }
        }
        summary
    }
}
