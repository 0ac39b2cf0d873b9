//! Data-driven tests of the pure handlers: each `tests/cases/<feature>-<name>.rules`
//! holds a document with a `$0` cursor marker; the answer is snapshotted beside it in
//! `tests/cases/snapshots/`. Regenerate with `INSTA_UPDATE=always cargo test -p rulec-lsp
//! --test suite features` and review the diff.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rulec_lsp::analysis::{DocAnalysis, Settings};
use rulec_lsp::position::{Encoding, Lines};
use tower_lsp_server::ls_types::{
    CompletionItem, DocumentSymbol, HoverContents, Position, Range, Uri,
};

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cases")
}

fn snapshot(name: &str, contents: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(cases_dir().join("snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name.to_string(), contents));
}

/// The case's text without the marker, and the marker's offset.
fn case(path: &Path) -> (String, usize) {
    let raw = std::fs::read_to_string(path).unwrap();
    let at = raw.find("$0").unwrap_or(0);
    (raw.replacen("$0", "", 1), at)
}

fn cases(prefix: &str) -> Vec<(String, PathBuf)> {
    let mut out: Vec<(String, PathBuf)> = std::fs::read_dir(cases_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "rules"))
        .filter_map(|p| {
            let stem = p.file_stem()?.to_str()?.to_string();
            stem.starts_with(prefix).then_some((stem, p))
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no cases for {prefix}");
    out
}

fn show_range(r: Range) -> String {
    format!(
        "{}:{}-{}:{}",
        r.start.line, r.start.character, r.end.line, r.end.character
    )
}

fn slice(text: &str, lines: &Lines<'_>, r: Range) -> String {
    let span = lines.span(r);
    text.get(span.lo()..span.hi()).unwrap_or("").to_string()
}

fn analyse(text: &str) -> DocAnalysis {
    DocAnalysis::new("case.rules", text, &Settings::default())
}

fn uri() -> Uri {
    "file:///case.rules".parse().unwrap()
}

#[test]
fn hover() {
    for (name, path) in cases("hover-") {
        let (text, at) = case(&path);
        let a = analyse(&text);
        let lines = a.lines(Encoding::Utf16);
        let pos = lines.position(at);
        let out = match rulec_lsp::hover::hover(&a, &lines, pos) {
            None => "no hover".to_string(),
            Some(h) => {
                let HoverContents::Markup(m) = h.contents else {
                    panic!("markup expected")
                };
                let range = h.range.map(|r| format!("`{}`", slice(&text, &lines, r)));
                format!("range: {}\n\n{}", range.unwrap_or_default(), m.value)
            }
        };
        snapshot(&name, &out);
    }
}

fn show_items(items: &[CompletionItem]) -> String {
    let mut out = String::new();
    for item in items.iter().take(60) {
        let _ = writeln!(
            out,
            "{} [{:?}]{}{}",
            item.label,
            item.kind.unwrap(),
            item.detail
                .as_ref()
                .map(|d| format!(" — {d}"))
                .unwrap_or_default(),
            item.insert_text
                .as_ref()
                .map(|t| format!(" => {}", t.replace('\n', "⏎")))
                .unwrap_or_default()
        );
    }
    if items.len() > 60 {
        let _ = writeln!(out, "… {} more", items.len() - 60);
    }
    if items.is_empty() {
        out.push_str("no completions\n");
    }
    out
}

#[test]
fn completion() {
    for (name, path) in cases("completion-") {
        let (text, at) = case(&path);
        let a = analyse(&text);
        let lines = a.lines(Encoding::Utf16);
        let items = rulec_lsp::completion::completion(&a, &lines, lines.position(at));
        snapshot(&name, &show_items(&items));
    }
}

#[test]
fn definition() {
    for (name, path) in cases("definition-") {
        let (text, at) = case(&path);
        let a = analyse(&text);
        let lines = a.lines(Encoding::Utf16);
        let out = match rulec_lsp::definition::definition(
            &a,
            &lines,
            &uri(),
            lines.position(at),
            Encoding::Utf16,
        ) {
            None => "no definition".to_string(),
            Some(loc) => format!(
                "{} `{}`",
                show_range(loc.range),
                slice(&text, &lines, loc.range)
            ),
        };
        snapshot(&name, &out);
    }
}

#[test]
fn references() {
    for (name, path) in cases("references-") {
        let (text, at) = case(&path);
        let a = analyse(&text);
        let lines = a.lines(Encoding::Utf16);
        let found = rulec_lsp::references::references(
            &a,
            &lines,
            &uri(),
            lines.position(at),
            true,
            Encoding::Utf16,
        );
        let out = match found {
            None => "no references".to_string(),
            Some(locations) => locations
                .iter()
                .map(|l| {
                    format!(
                        "{} `{}`",
                        show_range(l.range),
                        slice(&text, &lines, l.range)
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
        };
        snapshot(&name, &out);
    }
}

#[test]
fn highlight() {
    for (name, path) in cases("highlight-") {
        let (text, at) = case(&path);
        let a = analyse(&text);
        let lines = a.lines(Encoding::Utf16);
        let out = match rulec_lsp::references::highlights(&a, &lines, lines.position(at)) {
            None => "nothing to highlight".to_string(),
            Some(found) => found
                .iter()
                .map(|h| {
                    format!(
                        "{} `{}` {:?}",
                        show_range(h.range),
                        slice(&text, &lines, h.range),
                        h.kind
                    )
                })
                .collect::<Vec<_>>()
                .join("\n"),
        };
        snapshot(&name, &out);
    }
}

/// Each case's first line says the new name: `# rename to: the_deal`. The answer is the
/// document with the edits applied, or why the rename is refused.
#[test]
fn rename() {
    for (name, path) in cases("rename-") {
        let (text, at) = case(&path);
        let new_name = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# rename to: "))
            .unwrap()
            .trim()
            .to_string();
        let a = analyse(&text);
        let lines = a.lines(Encoding::Utf16);
        let out = match rulec_lsp::rename::rename(
            &a,
            &lines,
            &uri(),
            lines.position(at),
            &new_name,
            Encoding::Utf16,
        ) {
            Err(message) => format!("refused: {message}"),
            Ok(None) => "nothing to rename".to_string(),
            Ok(Some(edit)) => {
                let mut edits: Vec<(usize, usize, String)> = edit
                    .changes
                    .unwrap()
                    .into_values()
                    .flatten()
                    .map(|e| {
                        let span = lines.span(e.range);
                        (span.lo(), span.hi(), e.new_text)
                    })
                    .collect();
                edits.sort_by_key(|e| std::cmp::Reverse(e.0));
                let mut renamed = text.clone();
                for (lo, hi, new) in edits {
                    renamed.replace_range(lo..hi, &new);
                }
                renamed
            }
        };
        snapshot(&name, &out);
    }
}

fn show_symbols(symbols: &[DocumentSymbol], depth: usize, out: &mut String) {
    for s in symbols {
        let _ = writeln!(
            out,
            "{}{} [{:?}] {} sel {}{}",
            "  ".repeat(depth),
            s.name,
            s.kind,
            show_range(s.range),
            show_range(s.selection_range),
            s.detail
                .as_ref()
                .map(|d| format!(" — {d}"))
                .unwrap_or_default()
        );
        if let Some(children) = &s.children {
            show_symbols(children, depth + 1, out);
        }
    }
}

#[test]
fn outline_folding_tokens_and_formatting() {
    let (text, _) = case(&cases_dir().join("outline.rules"));
    let a = analyse(&text);
    let lines = a.lines(Encoding::Utf16);
    let mut out = String::from("## symbols\n");
    show_symbols(
        &rulec_lsp::symbols::document_symbols(&a, &lines),
        0,
        &mut out,
    );
    out.push_str("\n## folding\n");
    for f in rulec_lsp::folding::folding_ranges(&a, &lines) {
        let _ = writeln!(out, "{}-{} {:?}", f.start_line, f.end_line, f.kind);
    }
    out.push_str("\n## semantic tokens\n");
    let legend = rulec_lsp::semantic_tokens::legend();
    let tokens = rulec_lsp::semantic_tokens::semantic_tokens(&a, &lines);
    let (mut line, mut col) = (0, 0);
    for t in tokens.data {
        if t.delta_line > 0 {
            line += t.delta_line;
            col = t.delta_start;
        } else {
            col += t.delta_start;
        }
        let start = lines.offset(Position::new(line, col));
        let end = lines.offset(Position::new(line, col + t.length));
        let ty = legend.token_types[t.token_type as usize].as_str();
        let decl = if t.token_modifiers_bitset & 1 == 1 {
            " (declaration)"
        } else {
            ""
        };
        let _ = writeln!(out, "{line}:{col} {ty}{decl} `{}`", &text[start..end]);
    }
    out.push_str("\n## formatting\n");
    for edit in rulec_lsp::formatting::format(&a, &lines) {
        let _ = writeln!(out, "{}\n{}", show_range(edit.range), edit.new_text);
    }
    snapshot("outline", &out);
}

#[test]
fn formatting_leaves_a_broken_document_alone() {
    let text = "when deals created and value > do slack \"#x\"\n";
    let a = analyse(text);
    assert!(rulec_lsp::formatting::format(&a, &a.lines(Encoding::Utf16)).is_empty());
}

/// Inlay hints of the whole document, each as `line:col label`.
#[test]
fn inlay() {
    for (name, path) in cases("inlay-") {
        let (text, _) = case(&path);
        let a = analyse(&text);
        let lines = a.lines(Encoding::Utf16);
        let everything = lines.range(rulec::source::Span::new(0, text.len()));
        let hints = rulec_lsp::inlay::inlay_hints(&a, &lines, everything);
        let out = hints
            .iter()
            .map(|h| {
                let label = match &h.label {
                    tower_lsp_server::ls_types::InlayHintLabel::String(s) => s.clone(),
                    other => format!("{other:?}"),
                };
                format!("{}:{} {label:?}", h.position.line, h.position.character)
            })
            .collect::<Vec<_>>()
            .join("\n");
        snapshot(&name, &out);
    }
}

/// Signature help at the cursor: the signature, with the active parameter in `[ ]`.
#[test]
fn signature() {
    for (name, path) in cases("signature-") {
        let (text, at) = case(&path);
        let a = analyse(&text);
        let start = a.item_at(at).map_or(0, |(_, item)| item.span().lo());
        let out = match rulec_lsp::signature::signature_help(a.schema(), &text[start..at]) {
            None => "no signature".to_string(),
            Some(help) => {
                let s = &help.signatures[0];
                let active = help.active_parameter.unwrap_or(0) as usize;
                let mut label = s.label.clone();
                if let Some(tower_lsp_server::ls_types::ParameterLabel::LabelOffsets([lo, hi])) = s
                    .parameters
                    .as_ref()
                    .and_then(|p| p.get(active))
                    .map(|p| p.label.clone())
                {
                    label.insert(hi as usize, ']');
                    label.insert(lo as usize, '[');
                }
                format!("{label}\n{:?}", s.documentation)
            }
        };
        snapshot(&name, &out);
    }
}
