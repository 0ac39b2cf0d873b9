//! Code actions: every lint diagnostic of every example and test file can be silenced
//! with the `allow` action (the edited file then has no syntax error and one fewer
//! finding of that lint), and fixes offered are the library's.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::Path;

use rulec_lsp::analysis::{DocAnalysis, Settings};
use rulec_lsp::code_actions::{allow_edit, code_actions};
use rulec_lsp::position::Encoding;
use tower_lsp_server::ls_types::{CodeActionOrCommand, Uri};

fn count(a: &DocAnalysis, code: &str) -> usize {
    a.diagnostics().filter(|d| d.code == code).count()
}

#[test]
fn allow_silences_every_lint_finding_it_is_offered_for() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut tried = 0;
    for dir in ["examples", "tests/data/check"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "rules") {
                continue;
            }
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let a = DocAnalysis::new(&name, &text, &Settings::default());
            for d in a.diagnostics() {
                let Some((span, insert)) = allow_edit(&a, d) else {
                    assert!(
                        rulec::lint::lint(&d.code).is_none(),
                        "{name}: no allow for {d:?}"
                    );
                    continue;
                };
                let mut edited = text.clone();
                edited.replace_range(span.lo()..span.hi(), &insert);
                let after = DocAnalysis::new(&name, &edited, &Settings::default());
                assert!(
                    !after.has_syntax_errors(),
                    "{name}: allow for {d:?} broke the file:\n{edited}"
                );
                assert!(
                    count(&after, &d.code) < count(&a, &d.code),
                    "{name}: allow for {d:?} did not silence it:\n{edited}"
                );
                assert_eq!(count(&after, "unused-allow"), count(&a, "unused-allow"));
                tried += 1;
            }
        }
    }
    assert!(tried > 20, "only {tried} allow actions tried");
}

#[test]
fn a_misspelt_option_gets_the_library_fix_and_an_allow_for_lints() {
    let text = "when stage changed to ClosedWn and value > 10000 do slack \"#wins\"\nwhen deals updated do slack \"#all\"\n";
    let a = DocAnalysis::new("wins.rules", text, &Settings::default());
    let lines = a.lines(Encoding::Utf16);
    let uri: Uri = "file:///wins.rules".parse().unwrap();
    let titles: Vec<String> = code_actions(&a, &lines, &uri, lines.whole())
        .into_iter()
        .map(|c| match c {
            CodeActionOrCommand::CodeAction(a) => a.title,
            CodeActionOrCommand::Command(c) => c.title,
        })
        .collect();
    let library: Vec<String> = a
        .diagnostics()
        .filter_map(|d| d.fix.as_ref().map(|f| f.title.clone()))
        .collect();
    for title in &library {
        assert!(titles.contains(title), "{titles:?} lacks {title}");
    }
    assert!(
        titles
            .iter()
            .any(|t| t.contains("allow `unconditioned-trigger`")),
        "{titles:?}"
    );
}
