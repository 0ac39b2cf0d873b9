//! Every output format, from the same [`Diagnostic`] values.

use serde::Serialize;
use serde_json::json;

use super::{Diagnostic, Severity, Summary};

/// Renders diagnostics for people: miette's graphical report with source snippets.
pub fn render_human(diagnostics: &[Diagnostic], color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    // Reports are independent; thousands of them (a large generated file) render on
    // every core.
    let reports = crate::parallel::map(diagnostics, |diagnostic| {
        let mut out = String::new();
        // Writing to a String cannot fail; a failure would only lose this one report.
        let _ = handler.render_report(&mut out, diagnostic);
        out.push('\n');
        out
    });
    reports.concat()
}

/// One diagnostic in `check --format json`.
#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    file: &'a str,
    severity: Severity,
    code: &'a str,
    message: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<JsonFix<'a>>,
}

/// A fix with its edits located like diagnostics (1-based, end exclusive).
#[derive(Serialize)]
struct JsonFix<'a> {
    title: &'a str,
    safety: super::Safety,
    edits: Vec<JsonEdit<'a>>,
}

#[derive(Serialize)]
struct JsonEdit<'a> {
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    replacement: &'a str,
}

/// The document `check --format json` prints.
#[derive(Serialize)]
pub struct JsonReport<'a> {
    diagnostics: Vec<JsonDiagnostic<'a>>,
    summary: Summary,
}

/// Renders the JSON contract of engine.md (one object, 1-based lines and columns).
pub fn render_json(diagnostics: &[Diagnostic], summary: Summary) -> String {
    let report = JsonReport {
        diagnostics: diagnostics
            .iter()
            .map(|d| {
                let (start, end) = (d.start(), d.end());
                JsonDiagnostic {
                    file: d.file.name(),
                    severity: d.severity,
                    code: &d.code,
                    message: &d.message,
                    line: start.line,
                    column: start.column,
                    end_line: end.line,
                    end_column: end.column,
                    help: d.help.as_deref(),
                    fix: d.fix.as_ref().map(|fix| JsonFix {
                        title: &fix.title,
                        safety: fix.safety,
                        edits: fix
                            .edits
                            .iter()
                            .map(|e| {
                                let (start, end) =
                                    (d.file.line_col(e.span.lo()), d.file.line_col(e.span.hi()));
                                JsonEdit {
                                    line: start.line,
                                    column: start.column,
                                    end_line: end.line,
                                    end_column: end.column,
                                    replacement: &e.replacement,
                                }
                            })
                            .collect(),
                    }),
                }
            })
            .collect(),
        summary,
    };
    serde_json::to_string_pretty(&report).unwrap_or_default()
}

/// Renders SARIF 2.1.0 for GitHub code scanning. `describe` gives the one-line
/// description of a code (lint summaries), used for the tool's rule table.
pub fn render_sarif(
    diagnostics: &[Diagnostic],
    describe: &dyn Fn(&str) -> Option<String>,
) -> String {
    let mut codes: Vec<&str> = diagnostics.iter().map(|d| &*d.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let rules: Vec<_> = codes
        .iter()
        .map(|code| {
            let text = describe(code).unwrap_or_else(|| code.replace('-', " "));
            json!({ "id": code, "name": code, "shortDescription": { "text": text } })
        })
        .collect();
    let results: Vec<_> = diagnostics
        .iter()
        .map(|d| {
            let (start, end) = (d.start(), d.end());
            let mut message = d.message.clone();
            if let Some(help) = &d.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            json!({
                "ruleId": d.code,
                "ruleIndex": codes.iter().position(|c| *c == d.code).unwrap_or(0),
                "level": match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                    Severity::Info | Severity::Hint => "note",
                },
                "message": { "text": message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": d.file.name().replace('\\', "/") },
                        "region": {
                            "startLine": start.line,
                            "startColumn": start.column,
                            "endLine": end.line,
                            "endColumn": end.column,
                        }
                    }
                }]
            })
        })
        .collect();
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "rulec",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/rulec/rulec",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&sarif).unwrap_or_default()
}

/// Renders GitHub Actions workflow commands (`::warning file=…::…`), one per line.
pub fn render_github(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let (start, end) = (d.start(), d.end());
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info | Severity::Hint => "notice",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(help);
        }
        out.push_str(&format!(
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            escape_property(d.file.name()),
            start.line,
            start.column,
            end.line,
            end.column,
            escape_property(&format!("rulec({})", d.code)),
            escape_data(&message),
        ));
    }
    out
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
