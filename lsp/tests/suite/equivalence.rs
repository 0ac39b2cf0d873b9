//! The server publishes exactly what `rulec check <folder>` reports for a file: for
//! every example and every diagnostic test file, opened in the server's store, message,
//! code, range and severity equal the library's analysis of the file's whole folder
//! restricted to that file. Open documents replace their files (unsaved text wins), so
//! a declaration edited in one file changes the errors of another.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::{Path, PathBuf};

use rulec::diagnostics::Diagnostic;
use rulec::workspace::{self, analyze_text};
use rulec_lsp::document::Store;
use rulec_lsp::position::Encoding;
use tower_lsp_server::ls_types::{
    DiagnosticSeverity, NumberOrString, Position, Range, TextDocumentContentChangeEvent, Uri,
};

type Row = (String, String, Range, DiagnosticSeverity);

const DIRS: [&str; 3] = ["examples", "tests/data/check", "tests/data/fmt"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

fn files() -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in DIRS {
        for entry in std::fs::read_dir(repo().join(dir)).unwrap() {
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

fn row(d: &Diagnostic) -> Row {
    let (l0, c0) = d.file.utf16_position(d.span.lo());
    let (l1, c1) = d.file.utf16_position(d.span.hi());
    (
        d.message.clone(),
        d.code.to_string(),
        Range::new(Position::new(l0, c0), Position::new(l1, c1)),
        rulec_lsp::diagnostics::severity(d.severity),
    )
}

/// What `rulec check .` run in `folder` reports (no `rulec.toml` governs these
/// folders): every `*.rules` file under it, collected and loaded as the CLI does,
/// named relative to it; the rows of `file`, with the library's own UTF-16 conversion.
fn expected(folder: &Path, file: &Path) -> Vec<Row> {
    let folder = folder.canonicalize().unwrap();
    let name = |p: &Path| {
        let p = p.canonicalize().unwrap();
        p.strip_prefix(&folder)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/")
    };
    let units = workspace::collect(std::slice::from_ref(&folder))
        .unwrap()
        .iter()
        .map(|p| workspace::load(p, &name(p)).unwrap())
        .collect();
    let analysis = workspace::analyze(units, &rulec::lint::LintConfig::default());
    let mine = name(file);
    analysis
        .diagnostics
        .iter()
        .filter(|d| d.file.name() == mine)
        .map(row)
        .collect()
}

/// What the server publishes for `uri` (the debounced publisher's path: incremental
/// when exact, else a full analysis of the folder).
fn published(store: &mut Store, uri: &Uri) -> Vec<Row> {
    let encoding = store.encoding;
    let diagnostics = store.diagnostics(uri).unwrap();
    let doc = store.get(uri).unwrap();
    let lines = doc.lines(encoding);
    rulec_lsp::diagnostics::convert(&diagnostics, &lines, uri)
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

/// What the features see for `uri`: the full analysis.
fn analysed(store: &mut Store, uri: &Uri) -> Vec<Row> {
    let encoding = store.encoding;
    let analysis = store.analysis(uri).unwrap();
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
fn every_example_and_test_file_gets_the_diagnostics_of_rulec_check_on_its_folder() {
    let mut store = Store::new(Encoding::Utf16);
    let mut total = 0;
    for path in files() {
        let text = std::fs::read_to_string(&path).unwrap();
        let uri = Uri::from_file_path(&path).unwrap();
        store.open(uri.clone(), text.clone(), 1);
        let want = expected(path.parent().unwrap(), &path);
        assert_eq!(analysed(&mut store, &uri), want, "{}", path.display());
        assert_eq!(published(&mut store, &uri), want, "{}", path.display());
        total += want.len();
    }
    assert!(total > 50, "only {total} diagnostics compared");
    // One analysis per folder, shared by its documents.
    assert!(store.analyses() <= DIRS.len(), "{}", store.analyses());
}

#[test]
fn an_example_using_another_files_declarations_is_clean_as_in_ci() {
    // The tryout issue: `rulec check examples/` is clean, and so is the editor.
    let path = repo().join("examples/mql-handoff.rules");
    let text = std::fs::read_to_string(&path).unwrap();
    let alone: Vec<_> = analyze_text("mql-handoff.rules", &text)
        .diagnostics
        .into_iter()
        .filter(|d| d.severity == rulec::diagnostics::Severity::Error)
        .collect();
    assert!(!alone.is_empty(), "the file alone should not check");
    let mut store = Store::new(Encoding::Utf16);
    let uri = Uri::from_file_path(&path).unwrap();
    store.open(uri.clone(), text, 1);
    let rows = published(&mut store, &uri);
    assert!(
        rows.iter().all(|r| r.3 != DiagnosticSeverity::ERROR),
        "{rows:?}"
    );
    assert_eq!(rows, expected(&repo().join("examples"), &path));
}

/// A folder of its own under the system's temporary directory.
fn temp_folder(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .canonicalize()
        .unwrap()
        .join(format!("rulec-lsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const DECLARATIONS: &str = "object people {\n  tier: select [gold, silver]\n}\nlist \"VIP\" of people\nwebhook typeform { email: email }\n\nrule tag_vip\n  owner \"a@acme.com\"\n  description \"d\"\n  on people\n  when tier changed to gold\n  do add to list \"VIP\"\n";

const USES: &str = "rule vip_ping\n  owner \"a@acme.com\"\n  description \"d\"\n  on people\n  when created and event.source != import\n  do add to list \"VIP\"\n\nrule tiered\n  owner \"a@acme.com\"\n  description \"d\"\n  on people\n  when tier changed to gold and event.source != import\n  do slack \"#vip\" \"{{name}}\"\n\nrule form\n  owner \"a@acme.com\"\n  description \"d\"\n  when webhook typeform and payload.email is set\n  do slack \"#leads\" \"{{payload.email}}\"\n\nrule watch\n  owner \"a@acme.com\"\n  description \"d\"\n  when rule tag_vip failed do slack \"#ops\"\n";

fn errors(rows: &[Row]) -> Vec<String> {
    rows.iter()
        .filter(|r| r.3 == DiagnosticSeverity::ERROR)
        .map(|r| r.1.clone())
        .collect()
}

#[test]
fn a_declaration_in_another_file_counts_and_unsaved_edits_to_it_win() {
    let dir = temp_folder("two-files");
    let a = dir.join("a.rules");
    let b = dir.join("b.rules");
    std::fs::write(&a, DECLARATIONS).unwrap();
    std::fs::write(&b, USES).unwrap();
    let (uri_a, uri_b) = (
        Uri::from_file_path(&a).unwrap(),
        Uri::from_file_path(&b).unwrap(),
    );
    let mut store = Store::new(Encoding::Utf16);

    // B alone in the editor: the object attribute, the list, the webhook and the rule
    // it watches are declared in A, on disk.
    store.open(uri_b.clone(), USES.to_string(), 1);
    let rows = published(&mut store, &uri_b);
    assert_eq!(errors(&rows), Vec::<String>::new(), "{rows:?}");
    assert_eq!(rows, expected(&dir, &b));

    // A opened and edited, not saved: the declarations are gone, and B shows it.
    let stripped = DECLARATIONS
        .replace("list \"VIP\" of people\n", "")
        .replace("webhook typeform { email: email }\n", "")
        .replace("  tier: select [gold, silver]\n", "  score: number\n");
    let affected = store.open(uri_a.clone(), DECLARATIONS.to_string(), 1);
    assert!(!affected.is_empty());
    let affected = store.change(
        &uri_a,
        2,
        vec![TextDocumentContentChangeEvent {
            range: None,
            range_length: None,
            text: stripped.clone(),
        }],
    );
    // One folder, to analyse again: both documents are published from it.
    assert_eq!(affected.len(), 1, "{affected:?}");
    let rows = published(&mut store, &uri_b);
    let codes = errors(&rows);
    for code in ["unknown-attribute", "unknown-list", "unknown-webhook"] {
        assert!(codes.iter().any(|c| c == code), "{code} in {rows:?}");
    }
    // Exactly what `rulec check` reports once A is saved.
    std::fs::write(&a, &stripped).unwrap();
    assert_eq!(rows, expected(&dir, &b));
    std::fs::write(&a, DECLARATIONS).unwrap();

    // Closing A without saving: the folder reads A from disk again.
    store.close(&uri_a);
    let rows = published(&mut store, &uri_b);
    assert_eq!(errors(&rows), Vec::<String>::new(), "{rows:?}");

    // A file added on disk is part of the folder at the next analysis.
    std::fs::write(
        dir.join("c.rules"),
        "rule tag_vip\n  when people created do stop\n",
    )
    .unwrap();
    store.change(&uri_b, 2, Vec::new());
    let rows = published(&mut store, &uri_b);
    assert_eq!(rows, expected(&dir, &b));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_declaration_edit_publishes_for_every_open_document_of_the_folder() {
    let dir = temp_folder("publish");
    let a = dir.join("a.rules");
    let b = dir.join("b.rules");
    std::fs::write(&a, DECLARATIONS).unwrap();
    std::fs::write(&b, USES).unwrap();
    let (uri_a, uri_b) = (
        Uri::from_file_path(&a).unwrap(),
        Uri::from_file_path(&b).unwrap(),
    );
    let mut store = Store::new(Encoding::Utf16);
    store.open(uri_a.clone(), DECLARATIONS.to_string(), 1);
    let affected = store.open(uri_b.clone(), USES.to_string(), 1);
    let (key, generation) = affected[0].clone();
    let job = store.job(&key).unwrap();
    let (base, analysis) = job.run();
    assert!(store.store_diagnostics(&key, generation, base, analysis));
    let first = store.publications(&key, generation);
    assert_eq!(first.len(), 2, "both documents are published");
    // A rule of A edited: B's diagnostics did not change, so only A is published again.
    let affected = store.change(
        &uri_a,
        2,
        vec![TextDocumentContentChangeEvent {
            range: Some(Range::new(Position::new(7, 16), Position::new(7, 16))),
            range_length: None,
            text: "x".into(),
        }],
    );
    let (key, generation) = affected[0].clone();
    let (base, analysis) = store.job(&key).unwrap().run();
    assert!(store.store_diagnostics(&key, generation, base, analysis));
    let next = store.publications(&key, generation);
    let uris: Vec<&Uri> = next.iter().map(|p| &p.0).collect();
    assert_eq!(uris, vec![&uri_a]);
    // The list's declaration removed in A: B is published again, with the error.
    let list = DECLARATIONS
        .lines()
        .position(|l| l.starts_with("list"))
        .unwrap() as u32;
    let affected = store.change(
        &uri_a,
        3,
        vec![TextDocumentContentChangeEvent {
            range: Some(Range::new(
                Position::new(list, 0),
                Position::new(list + 1, 0),
            )),
            range_length: None,
            text: String::new(),
        }],
    );
    let (key, generation) = affected[0].clone();
    let (base, analysis) = store.job(&key).unwrap().run();
    assert!(store.store_diagnostics(&key, generation, base, analysis));
    let next = store.publications(&key, generation);
    let b_rows = next.iter().find(|p| p.0 == uri_b).unwrap();
    assert!(
        b_rows
            .1
            .iter()
            .any(|d| d.code == Some(NumberOrString::String("unknown-list".into()))),
        "{b_rows:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn go_to_definition_reaches_the_folders_other_files() {
    let dir = temp_folder("definition");
    let a = dir.join("a.rules");
    let b = dir.join("b.rules");
    std::fs::write(&a, DECLARATIONS).unwrap();
    std::fs::write(&b, USES).unwrap();
    let uri_a = Uri::from_file_path(&a).unwrap();
    let uri_b = Uri::from_file_path(&b).unwrap();
    let mut store = Store::new(Encoding::Utf16);
    store.open(uri_b.clone(), USES.to_string(), 1);
    let analysis = store.analysis(&uri_b).unwrap();
    let lines = analysis.lines(Encoding::Utf16);
    let go = |needle: &str, into: usize| {
        let offset = USES.find(needle).unwrap() + into;
        let position = lines.position(offset);
        rulec_lsp::definition::definition(&analysis, &lines, &uri_b, position, Encoding::Utf16)
            .unwrap_or_else(|| panic!("no definition for {needle}"))
    };
    let line_of = |needle: &str| {
        DECLARATIONS[..DECLARATIONS.find(needle).unwrap()]
            .matches('\n')
            .count() as u32
    };
    // `rule tag_vip failed` jumps to `rule tag_vip` in A.
    let target = go("tag_vip failed", 2);
    assert_eq!(target.uri, uri_a);
    assert_eq!(
        target.range.start,
        Position::new(line_of("rule tag_vip"), 5)
    );
    assert_eq!(target.range.end, Position::new(line_of("rule tag_vip"), 12));
    // So do the attribute, the list and the webhook.
    assert_eq!(go("tier changed", 1).uri, uri_a);
    assert_eq!(go("tier changed", 1).range.start.line, line_of("tier:"));
    assert_eq!(go("VIP", 1).range.start.line, line_of("list"));
    assert_eq!(go("typeform", 1).range.start.line, line_of("webhook"));
    assert_eq!(go("typeform", 1).uri, uri_a);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn emoji_before_an_error_never_shifts_it() {
    let text = "when deals created and value > 5 do slack \"#wins\" \"🎉🎉 {{nmae}} 👍\"\n";
    // A folder that does not exist on disk: the document is its only file.
    let uri: Uri = "file:///tmp/rulec-lsp-emoji-absent/emoji.rules"
        .parse()
        .unwrap();
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
    assert_eq!(rows, analysed(&mut store, &uri));
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
