//! Every lint's documentation is a specification: its "Example" must fire the lint and
//! its "Use instead" must not.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use rulec::diagnostics::Severity;
use rulec::lint::{doc_examples, LINTS};
use rulec::workspace::analyze_text;

#[test]
fn documentation_examples_fire_and_fixes_stay_quiet() {
    for lint in LINTS {
        let (bad, good) = doc_examples(lint.docs);
        assert!(!bad.is_empty(), "`{}` documents no example", lint.name);
        assert!(!good.is_empty(), "`{}` documents no fix", lint.name);
        for code in &bad {
            let analysis = analyze_text("example.rules", code);
            let fired = analysis
                .diagnostics
                .iter()
                .filter(|d| d.code == lint.name)
                .count();
            assert!(
                fired > 0,
                "`{}` does not fire on its example:\n{code}",
                lint.name
            );
            let errors: Vec<_> = analysis
                .diagnostics
                .iter()
                .filter(|d| d.code != lint.name)
                .collect();
            assert!(
                errors.is_empty(),
                "`{}` example has other problems: {errors:?}",
                lint.name
            );
        }
        for code in &good {
            let analysis = analyze_text("example.rules", code);
            assert!(
                analysis.diagnostics.is_empty(),
                "`{}` fix is not clean: {:?}\n{code}",
                lint.name,
                analysis.diagnostics
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
