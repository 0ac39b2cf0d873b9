//! A keystroke in a generated 5,000-rule document: apply one edit and produce the
//! diagnostics the server would publish. Target: under 30 ms.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark may fail loudly

use criterion::{criterion_group, criterion_main, Criterion};
use rulec_lsp::document::Store;
use rulec_lsp::position::Encoding;
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

const DECLARATIONS: &str = "object people {\n  lifecycle: status [Lead, MQL, SQL, Customer]\n  score: number\n}\nlist \"Sales SDR\" of people\nteam sdr = [\"ana@acme.com\", \"bo@acme.com\"]\nwebhook typeform { email: email, name: text }\n";

const TEMPLATES: &[&str] = &[
    "rule r{i}\n  owner \"revops@acme.com\"\n  description \"Generated rule {i}\"\n  on people\n  when created and event.source != import and score > {i}\n  do set owner = round_robin(sdr) if empty\n",
    "when deals stage changed from [Open, Qualified] to [ClosedWon, ClosedLost] and value > {i} do slack \"#wins\" \"{{name}} 🎉\"\n",
    "when matches stage >= Proposal and value > {i} and close_date within next 30 days do slack dm owner \"Close {{name}} soon\"\n",
    "rule r{i}\n  owner \"revops@acme.com\"\n  description \"Generated rule {i}\"\n  every weekday at 09:00 in \"America/New_York\"\n  for deals where stage = Open and last_activity before {i} days ago\n  do slack dm owner \"{{name}} is quiet\"\n",
    "rule r{i}\n  owner \"revops@acme.com\"\n  description \"Generated rule {i}\"\n  on deals\n  when stage changed to ClosedWon and value > {i}\n  do\n    find companies where name = \"x{i}\" as account\n    if account is set then\n      note \"Won\" \"{{account.name}}\"\n    end\n",
];

/// A document of `rules` rules.
pub fn generate(rules: usize) -> String {
    let mut text = String::from(DECLARATIONS);
    for i in 0..rules {
        text.push('\n');
        text.push_str(&TEMPLATES[i % TEMPLATES.len()].replace("{i}", &i.to_string()));
    }
    text
}

fn bench(c: &mut Criterion) {
    let text = generate(5_000);
    let lines = text.lines().count() as u32;
    let uri: Uri = "file:///tmp/rulec-lsp-bench/big.rules".parse().unwrap();
    let mut store = Store::new(Encoding::Utf16);
    store.open_with(uri.clone(), text.clone(), 0, Default::default());
    // Typing in the middle of the document: a digit in a `value > N` or `score > N`.
    let line = (0..lines)
        .rev()
        .find(|l| {
            text.lines()
                .nth(*l as usize)
                .is_some_and(|t| t.contains("value > ") && *l < lines / 2 + 20)
        })
        .unwrap();
    let column = text
        .lines()
        .nth(line as usize)
        .unwrap()
        .find("value > ")
        .unwrap() as u32
        + 8;
    let mut version = 0;
    let mut keystroke = |store: &mut Store, insert: bool| {
        version += 1;
        let at = Position::new(line, column);
        let change = TextDocumentContentChangeEvent {
            range: Some(if insert {
                Range::new(at, at)
            } else {
                Range::new(at, Position::new(line, column + 1))
            }),
            range_length: None,
            text: if insert { "9".into() } else { String::new() },
        };
        store.change(&uri, version, vec![change]);
        let doc = store.get_mut(&uri).unwrap();
        let analysis = doc.analysis();
        let lines = analysis.lines(Encoding::Utf16);
        rulec_lsp::diagnostics::document_diagnostics(&analysis, &lines, &uri).len()
    };
    let mut insert = true;
    c.bench_function(
        "keystroke in a 5,000-rule document (edit + diagnostics)",
        |b| {
            b.iter(|| {
                let n = keystroke(&mut store, insert);
                insert = !insert;
                n
            })
        },
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
