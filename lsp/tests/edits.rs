//! Edits applied to the document store: random sequences never panic and leave the
//! diagnostics equal to `analyze_text` on the same text; 10,000 edits do not grow what
//! the store keeps.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use proptest::prelude::*;
use rulec::workspace::analyze_text;
use rulec_lsp::document::Store;
use rulec_lsp::position::Encoding;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

const START: &str = "team sdr = [\"ana@acme.com\"]\n\nwhen stage changed from Open to ClosedWon and value > 10000 do slack \"#wins\" \"🎉 {{name}}\"\n\nrule r1\n  owner \"a@acme.com\"\n  on people\n  when created and event.source != import\n  do set owner = round_robin(sdr) if empty\n";

const PIECES: &[&str] = &[
    "",
    " ",
    "\n",
    "when ",
    "deals ",
    "created",
    " and ",
    "value > 5",
    " do ",
    "slack \"#x\"",
    "\"",
    "{{",
    "}}",
    "(",
    ")",
    "[",
    "]",
    "é",
    "🎉",
    "#",
    "stage",
    " = ",
    "Open",
    "rule ",
    "owner \"a@b.c\"\n",
    "set owner = round_robin(sdr)",
    "\r\n",
    "\t",
];

fn uri() -> Uri {
    "file:///tmp/rulec-lsp-prop/edit.rules".parse().unwrap()
}

fn diagnostics(store: &mut Store) -> Vec<(String, String, u32, u32)> {
    let encoding = store.encoding;
    let uri = uri();
    let doc = store.get_mut(&uri).unwrap();
    let analysis = doc.analysis();
    let lines = analysis.lines(encoding);
    rulec_lsp::diagnostics::document_diagnostics(&analysis, &lines, &uri)
        .into_iter()
        .map(|d| {
            let span = lines.span(d.range);
            (d.message, format!("{:?}", d.code), span.start, span.end)
        })
        .collect()
}

fn expected(text: &str) -> Vec<(String, String, u32, u32)> {
    analyze_text("edit.rules", text)
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.message.clone(),
                format!(
                    "{:?}",
                    Some(tower_lsp_server::ls_types::NumberOrString::String(
                        d.code.to_string()
                    ))
                ),
                d.span.start,
                d.span.end,
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn random_edits_keep_diagnostics_equal_to_rulec_check(
        edits in prop::collection::vec((0u32..14, 0u32..120, 0u32..6, 0usize..PIECES.len(), any::<bool>()), 1..8)
    ) {
        for encoding in [Encoding::Utf16, Encoding::Utf8] {
            let mut store = Store::new(encoding);
            store.open_with(uri(), START.to_string(), 0, Default::default());
            for (version, (line, character, width, piece, full)) in edits.iter().enumerate() {
                let change = if *full && *piece % 5 == 0 {
                    TextDocumentContentChangeEvent { range: None, range_length: None, text: format!("{START}{}", PIECES[*piece]) }
                } else {
                    let start = Position::new(*line, *character);
                    let end = Position::new(*line, character + width);
                    TextDocumentContentChangeEvent {
                        range: Some(Range::new(start, end)),
                        range_length: None,
                        text: PIECES[*piece].to_string(),
                    }
                };
                store.change(&uri(), version as i32 + 1, vec![change]);
                let text = store.get(&uri()).unwrap().text().to_string();
                prop_assert_eq!(diagnostics(&mut store), expected(&text));
            }
        }
    }
}

#[test]
fn ten_thousand_edits_keep_the_store_flat() {
    let mut store = Store::new(Encoding::Utf16);
    store.open_with(uri(), START.to_string(), 0, Default::default());
    let mut peak_after_warmup = 0;
    for i in 0..10_000u32 {
        // Type a character, then delete it again: the text returns to its length.
        let at = Position::new(2, 40);
        let change = if i % 2 == 0 {
            TextDocumentContentChangeEvent {
                range: Some(Range::new(at, at)),
                range_length: None,
                text: "x".into(),
            }
        } else {
            TextDocumentContentChangeEvent {
                range: Some(Range::new(at, Position::new(2, 41))),
                range_length: None,
                text: String::new(),
            }
        };
        store.change(&uri(), i as i32 + 1, vec![change]);
        if i % 100 == 0 {
            // Analyse now and then, as the debounced publisher would.
            let _ = store.get_mut(&uri()).unwrap().analysis();
        }
        let retained = store.retained_bytes();
        if i == 1_000 {
            peak_after_warmup = retained;
        }
        if i > 1_000 {
            assert!(
                retained <= peak_after_warmup.max(START.len() * 2 + 64),
                "edit {i}: store grew to {retained} bytes"
            );
        }
    }
    assert_eq!(store.get(&uri()).unwrap().text(), START);
}
