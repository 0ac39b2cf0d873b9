//! Every lint's documentation is a specification: its "Example" must fire the lint and
//! its "Use instead" must not.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use rulec::check::Unit;
use rulec::diagnostics::{Diagnostic, Severity};
use rulec::lint::{doc_examples, LintConfig, LINTS};
use rulec::source::SourceFile;
use rulec::workspace::analyze;

/// Checks an example alone against the prelude; the http allow-list lint documents
/// its examples under `[http] allow = ["api.stripe.com"]`.
fn diagnostics(lint: &str, code: &str) -> Vec<Diagnostic> {
    let mut config = LintConfig::default();
    if lint == "http-host-not-allowed" {
        config.http_allow = Some(vec!["api.stripe.com".to_string()]);
    }
    let unit = Unit::parse(SourceFile::new("example.rules", code));
    analyze(vec![unit], &config).diagnostics
}

#[test]
fn documentation_examples_fire_and_fixes_stay_quiet() {
    for lint in LINTS {
        let (bad, good) = doc_examples(lint.docs);
        assert!(!bad.is_empty(), "`{}` documents no example", lint.name);
        assert!(!good.is_empty(), "`{}` documents no fix", lint.name);
        for code in &bad {
            let found = diagnostics(lint.name, code);
            assert!(
                found.iter().any(|d| d.code == lint.name),
                "`{}` does not fire on its example:\n{code}\n{found:?}",
                lint.name
            );
            // Other lints may speak too, but the example must be valid rulec.
            let errors: Vec<_> = found
                .iter()
                .filter(|d| d.code != lint.name && d.severity == Severity::Error)
                .collect();
            assert!(
                errors.is_empty(),
                "`{}` example has errors: {errors:?}",
                lint.name
            );
        }
        for code in &good {
            let noisy: Vec<_> = diagnostics(lint.name, code)
                .into_iter()
                .filter(|d| d.code == lint.name || d.severity >= Severity::Warning)
                .collect();
            assert!(
                noisy.is_empty(),
                "`{}` fix is not clean: {noisy:?}\n{code}",
                lint.name
            );
        }
    }
}

#[test]
fn documentation_has_every_section() {
    for lint in LINTS {
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## Use instead",
            "## When to allow",
        ] {
            assert!(
                lint.docs.contains(section),
                "`{}` lacks {section}",
                lint.name
            );
        }
        assert!(lint.docs.starts_with(&format!("# {}", lint.name)));
    }
}

/// Every code the golden cases show, and every code rulec's sources give a diagnostic,
/// can be explained: a lint documents itself, the checker's codes are in
/// `diagnostics::codes`.
#[test]
fn every_diagnostic_code_has_an_explanation() {
    let explained = |code: &str| {
        rulec::lint::lint(code).is_some() || rulec::diagnostics::codes::code(code).is_some()
    };
    let mut missing = Vec::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [
        "tests/data/check",
        "src/check",
        "src/syntax",
        "src/schema",
        "src/lint",
    ] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            files.push(entry.unwrap().path());
        }
    }
    files.push(root.join("src/workspace.rs"));
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let codes: Vec<String> = if path.extension().is_some_and(|e| e == "snap") {
            // A snapshot's diagnostics start with their code alone on a line.
            text.lines()
                .filter(|l| {
                    l.contains(char::is_alphabetic)
                        && l.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                })
                .map(str::to_string)
                .collect()
        } else if path.extension().is_some_and(|e| e == "rs") {
            // `Diagnostic::error(file, "code", …)` and friends: the first string argument
            // that looks like a code.
            text.split("error(")
                .skip(1)
                .chain(text.split("Diagnostic::").skip(1))
                .filter_map(|call| call.split('"').nth(1))
                .filter(|s| {
                    !s.is_empty()
                        && s.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                        && s.contains('-')
                })
                .map(str::to_string)
                .collect()
        } else {
            Vec::new()
        };
        for code in codes {
            if !explained(&code) {
                missing.push(format!("{code} ({})", path.display()));
            }
        }
    }
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "codes without an explanation: {missing:?}"
    );
}
