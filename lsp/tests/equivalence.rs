//! The server publishes exactly what `rulec check <file>` reports: for every example
//! and every diagnostic test file, message, code, range and severity are equal.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::{Path, PathBuf};

use rulec::workspace::analyze_text;
use rulec_lsp::document::Store;
use rulec_lsp::position::Encoding;
use tower_lsp_server::ls_types::{
    DiagnosticSeverity, NumberOrString, Position, Range, TextDocumentContentChangeEvent, Uri,
};

type Row = (String, String, Range, DiagnosticSeverity);

fn files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    for dir in ["examples", "tests/data/check", "tests/data/fmt"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "rules") {
                out.push(path.canonicalize().unwrap());
            }
        }
    }
    out.sort();
    assert!(out.len() > 30, "{} files", out.len());
    out
}

/// What `rulec check <file>` reports (no `rulec.toml` governs these files), with the
/// library's own UTF-16 conversion.
fn expected(path: &Path, text: &str) -> Vec<Row> {
    let name = path.file_name().unwrap().to_str().unwrap();
    let analysis = analyze_text(name, text);
    analysis
        .diagnostics
        .iter()
        .map(|d| {
            let (l0, c0) = d.file.utf16_position(d.span.lo());
            let (l1, c1) = d.file.utf16_position(d.span.hi());
            (
                d.message.clone(),
                d.code.to_string(),
                Range::new(Position::new(l0, c0), Position::new(l1, c1)),
                rulec_lsp::diagnostics::severity(d.severity),
            )
        })
        .collect()
}

fn published(store: &mut Store, uri: &Uri) -> Vec<Row> {
    let encoding = store.encoding;
    let doc = store.get_mut(uri).unwrap();
    let analysis = doc.analysis();
    let lines = analysis.lines(encoding);
    rulec_lsp::diagnostics::document_diagnostics(&analysis, &lines, uri)
        .into_iter()
        .map(|d| {
            let code = match d.code.unwrap() {
                NumberOrString::String(s) => s,
                NumberOrString::Number(n) => n.to_string(),
            };
            (d.message, code, d.range, d.severity.unwrap())
        })
        .collect()
}

#[test]
fn every_example_and_test_file_gets_the_diagnostics_of_rulec_check() {
    let mut store = Store::new(Encoding::Utf16);
    let mut total = 0;
    for path in files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let uri = Uri::from_file_path(&path).unwrap();
        store.open(uri.clone(), text.clone(), 1);
        let got = published(&mut store, &uri);
        let want = expected(&path, &text);
        assert_eq!(got, want, "{}", path.display());
        total += want.len();
    }
    assert!(total > 50, "only {total} diagnostics compared");
}

#[test]
fn emoji_before_an_error_never_shifts_it() {
    let text = "when deals created and value > 5 do slack \"#wins\" \"🎉🎉 {{nmae}} 👍\"\n";
    let uri: Uri = "file:///tmp/emoji.rules".parse().unwrap();
    let at = text.find("nmae").unwrap();
    let before = &text[..at];
    for (encoding, column) in [
        (Encoding::Utf16, before.encode_utf16().count()),
        (Encoding::Utf8, before.len()),
    ] {
        let mut store = Store::new(encoding);
        store.open(uri.clone(), text.to_string(), 1);
        let rows = published(&mut store, &uri);
        let row = rows
            .iter()
            .find(|r| r.1 == "unknown-name" || r.1 == "unknown-attribute")
            .unwrap_or_else(|| panic!("{rows:?}"));
        assert_eq!(row.2.start, Position::new(0, column as u32), "{encoding:?}");
        assert_eq!(
            row.2.end,
            Position::new(0, column as u32 + 4),
            "{encoding:?}"
        );
        // An edit after the emoji, in the client's encoding, lands where it should.
        let fix_start = Position::new(0, column as u32);
        let fix_end = Position::new(0, column as u32 + 4);
        store.change(
            &uri,
            2,
            vec![TextDocumentContentChangeEvent {
                range: Some(Range::new(fix_start, fix_end)),
                range_length: None,
                text: "name".into(),
            }],
        );
        assert_eq!(
            store.get(&uri).unwrap().text(),
            text.replace("nmae", "name")
        );
        assert!(published(&mut store, &uri)
            .iter()
            .all(|r| r.3 != DiagnosticSeverity::ERROR));
    }
}

#[test]
fn rulec_toml_levels_and_schema_are_respected() {
    let dir = std::env::temp_dir().join(format!("rulec-lsp-config-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    std::fs::write(
        dir.join("rulec.toml"),
        "schema = \"schema.rules\"\n[lints]\nunconditioned-trigger = \"error\"\n",
    )
    .unwrap();
    std::fs::write(dir.join("schema.rules"), "list \"VIP\" of people\n").unwrap();
    let path = dir.join("rules/vip.rules");
    let text = "when people updated do add to list \"VIP\"\n";
    std::fs::write(&path, text).unwrap();
    let uri = Uri::from_file_path(&path).unwrap();
    let mut store = Store::new(Encoding::Utf16);
    store.open(uri.clone(), text.to_string(), 1);
    let rows = published(&mut store, &uri);
    // The list comes from the schema file; the lint level from rulec.toml.
    assert!(rows.iter().all(|r| r.1 != "unknown-list"), "{rows:?}");
    let lint = rows
        .iter()
        .find(|r| r.1 == "unconditioned-trigger")
        .unwrap_or_else(|| panic!("{rows:?}"));
    assert_eq!(lint.3, DiagnosticSeverity::ERROR);

    // A mistake in rulec.toml is reported on rulec.toml, as `rulec check` reports it.
    std::fs::write(
        dir.join("rulec.toml"),
        "[lints]\nno-such-lint = \"error\"\n",
    )
    .unwrap();
    let settings = rulec_lsp::analysis::Settings::discover(&path);
    let (config_uri, diagnostics) = settings.config_report(Encoding::Utf16).unwrap();
    assert!(
        config_uri.as_str().ends_with("rulec.toml"),
        "{config_uri:?}"
    );
    let codes: Vec<_> = diagnostics.iter().map(|d| d.code.clone()).collect();
    assert_eq!(
        codes,
        vec![Some(NumberOrString::String("unknown-lint".into()))]
    );
    assert_eq!(diagnostics[0].range.start, Position::new(1, 0));
    let _ = std::fs::remove_dir_all(&dir);
}
