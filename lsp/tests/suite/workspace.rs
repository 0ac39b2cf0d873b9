//! The language server on a real workspace (the examples folder): rename of every
//! declared name across files, and workspace symbols.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use rulec_lsp::analysis::{DocAnalysis, FolderAnalysis, Settings};
use rulec_lsp::folder::{self, Text};
use rulec_lsp::position::Encoding;
use rulec_lsp::resolve::{self, Meaning};
use tower_lsp_server::ls_types::Uri;

#[test]
fn renaming_any_declared_name_of_the_examples_keeps_them_checked_and_tested() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .canonicalize()
        .unwrap();
    let settings = Settings::default();
    let input = folder::read(&root, false, None, None, &[]);
    let folder = Arc::new(FolderAnalysis::new(input.clone(), &settings));
    let declarations = folder.unit_named("workspace.rules").unwrap();
    let doc = DocAnalysis {
        folder: folder.clone(),
        unit: declarations,
    };
    let document = doc.document().unwrap();
    let mut renamed = 0;
    for (index, item) in document.items.iter().enumerate() {
        for name in resolve::item_names(&doc, index, item) {
            let new_name = match &name.meaning {
                _ if !name.declaration => continue,
                Meaning::Attribute { attr, .. } => format!("{attr}_x"),
                Meaning::Option { name, .. } => format!("{name} X"),
                Meaning::List(list) => format!("{list} X"),
                Meaning::Team(team) => format!("{team}_x"),
                _ => continue,
            };
            let lines = doc.lines(Encoding::Utf16);
            let uri = Uri::from_file_path(root.join("workspace.rules")).unwrap();
            let position = lines.position(name.span.lo());
            let edit =
                rulec_lsp::rename::rename(&doc, &lines, &uri, position, &new_name, Encoding::Utf16)
                    .unwrap_or_else(|why| panic!("{:?} refused: {why}", name.meaning))
                    .unwrap();
            // Apply the edits to every file they name.
            let mut texts: HashMap<String, String> = input
                .sources
                .iter()
                .map(|s| (s.name.clone(), s.text.as_str().unwrap().to_string()))
                .collect();
            for (target, edits) in edit.changes.unwrap() {
                let path = target.to_file_path().unwrap();
                let unit = folder.unit_named(
                    &path
                        .strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
                let unit = unit.unwrap_or_else(|| panic!("an edit outside the folder: {path:?}"));
                let other = DocAnalysis {
                    folder: folder.clone(),
                    unit,
                };
                let other_lines = other.lines(Encoding::Utf16);
                let mut spans: Vec<(usize, usize, String)> = edits
                    .into_iter()
                    .map(|e| {
                        let span = other_lines.span(e.range);
                        (span.lo(), span.hi(), e.new_text)
                    })
                    .collect();
                spans.sort_by_key(|s| std::cmp::Reverse(s.0));
                let text = texts.get_mut(&input.sources[unit].name).unwrap();
                for (lo, hi, new) in spans {
                    text.replace_range(lo..hi, &new);
                }
            }
            let units = input
                .sources
                .iter()
                .map(|s| Text::from(texts[&s.name].as_str()).unit(&s.name))
                .collect();
            let analysis = rulec::workspace::analyze(units, &Default::default());
            let errors: Vec<String> = analysis
                .diagnostics
                .iter()
                .filter(|d| d.severity == rulec::diagnostics::Severity::Error)
                .map(|d| format!("{}: {}", d.file.name(), d.message))
                .collect();
            assert!(
                errors.is_empty(),
                "renaming {:?} to {new_name:?} left errors: {errors:#?}",
                name.meaning
            );
            let failed: Vec<String> = rulec::testing::run(&analysis)
                .into_iter()
                .filter_map(|t| t.failure.map(|f| format!("{}: {f}", t.name)))
                .collect();
            assert!(
                failed.is_empty(),
                "renaming {:?} to {new_name:?} failed tests: {failed:#?}",
                name.meaning
            );
            renamed += 1;
        }
    }
    assert!(renamed > 30, "only {renamed} names renamed");
}

#[test]
fn workspace_symbols_find_rules_and_declarations_in_every_file_by_their_letters() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .canonicalize()
        .unwrap();
    let input = folder::read(&root, false, None, None, &[]);
    let folder = Arc::new(FolderAnalysis::new(input, &Settings::default()));
    let found = rulec_lsp::symbols::workspace_symbols(
        std::slice::from_ref(&folder),
        "kickoff",
        Encoding::Utf16,
    );
    let names: Vec<(&str, String)> = found
        .iter()
        .map(|s| {
            let file = match &s.location {
                tower_lsp_server::ls_types::OneOf::Left(l) => l.uri.path().to_string(),
                tower_lsp_server::ls_types::OneOf::Right(w) => w.uri.path().to_string(),
            };
            (s.name.as_str(), file)
        })
        .collect();
    assert!(
        names
            .iter()
            .any(|(n, f)| n.contains("onboarding_kickoff")
                && f.ends_with("customer-onboarding.rules")),
        "{names:?}"
    );
    // Letters in order: `strat` finds the list declared in workspace.rules.
    let found = rulec_lsp::symbols::workspace_symbols(&[folder], "stratacc", Encoding::Utf16);
    assert!(
        found.iter().any(|s| s.name.contains("Strategic accounts")),
        "{:?}",
        found.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
}
