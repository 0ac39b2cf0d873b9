//! A keystroke in a generated 5,000-rule document: apply one edit and produce the
//! diagnostics the server would publish. Target: under 30 ms. Also a keystroke in a
//! file of `examples/`, checked with its folder.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a benchmark may fail loudly

// The same allocator as the `rulec-lsp` binary, so the numbers are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

fn stages(text: &str) {
    use rulec::check::Unit;
    use rulec::source::SourceFile;
    use std::time::Instant;
    for _ in 0..3 {
        let t0 = Instant::now();
        let unit = Unit::parse(SourceFile::new("big.rules", text));
        let t1 = Instant::now();
        let units = vec![unit];
        let checked = rulec::check::check(&units);
        let t2 = Instant::now();
        let lints = rulec::lint::run(&units, &checked, &Default::default());
        let t3 = Instant::now();
        eprintln!(
            "stages: parse {:?}, check {:?}, lint {:?} ({} diagnostics, {} bytes)",
            t1 - t0,
            t2 - t1,
            t3 - t2,
            checked.diagnostics.len() + lints.len(),
            text.len()
        );
    }
}

/// Times keystrokes after `needle` halfway down a document of `rules` rules:
/// `typed` is inserted, then deleted again, alternately, with the diagnostics the
/// server would publish produced after each (through the same path: incremental when
/// exact, else a full analysis).
fn keystroke_bench(c: &mut Criterion, name: &str, text: &str, needle: &str, typed: &str) {
    // A folder that does not exist on disk: the document is its only file.
    let uri: Uri = "file:///tmp/rulec-lsp-bench/big.rules".parse().unwrap();
    let mut store = Store::new(Encoding::Utf16);
    store.open_with(uri.clone(), text.to_string(), 0, Default::default());
    keystrokes(c, name, store, uri, text, needle, typed);
}

/// Times keystrokes in the open document `uri` of `store` (see [`keystroke_bench`]).
fn keystrokes(
    c: &mut Criterion,
    name: &str,
    mut store: Store,
    uri: Uri,
    text: &str,
    needle: &str,
    typed: &str,
) {
    // Halfway down, or the first occurrence when there is none after.
    let half = text.len() / 2;
    let at = text[half..]
        .find(needle)
        .map(|i| half + i)
        .or_else(|| text.find(needle))
        .unwrap()
        + needle.len();
    let line = text[..at].matches('\n').count() as u32;
    let column = (at - text[..at].rfind('\n').map_or(0, |n| n + 1)) as u32;
    let width = typed.encode_utf16().count() as u32;
    let mut version = 0;
    let mut insert = true;
    let publish = |store: &mut Store| {
        let diagnostics = store.diagnostics(&uri).unwrap();
        let doc = store.get(&uri).unwrap();
        let lines = doc.lines(Encoding::Utf16);
        rulec_lsp::diagnostics::convert(&diagnostics, &lines, &uri).len()
    };
    publish(&mut store);
    c.bench_function(name, |b| {
        b.iter(|| {
            version += 1;
            let start = Position::new(line, column);
            let change = TextDocumentContentChangeEvent {
                range: Some(if insert {
                    Range::new(start, start)
                } else {
                    Range::new(start, Position::new(line, column + width))
                }),
                range_length: None,
                text: if insert { typed.into() } else { String::new() },
            };
            insert = !insert;
            store.change(&uri, version, vec![change]);
            publish(&mut store)
        })
    });
}

fn bench(c: &mut Criterion) {
    let big = generate(5_000);
    stages(&big);
    // A rule being typed (it does not check yet): only that rule is re-checked.
    let half = big.len() / 2;
    let cut = half + big[half..].find("\nwhen ").unwrap() + 1;
    let typing = format!(
        "{}when deals created and value > 10 and stge = Open do slack \"#x\"\n{}",
        &big[..cut],
        &big[cut..]
    );
    keystroke_bench(
        c,
        "keystroke in a rule being typed, 5,000-rule document",
        &typing,
        "and stge",
        "x",
    );
    // A digit in a rule that checks before and after: the whole document is re-checked.
    keystroke_bench(
        c,
        "keystroke in a checked rule, 5,000-rule document",
        &big,
        "value > ",
        "9",
    );
    keystroke_bench(
        c,
        "keystroke in a checked rule, 100-rule document",
        &generate(100),
        "value > ",
        "9",
    );
    // A file of the examples folder, checked with the folder's other files (read from
    // disk on every keystroke, as `rulec check examples/` would read them).
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/celebration.rules")
        .canonicalize()
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = Uri::from_file_path(&path).unwrap();
    let mut store = Store::new(Encoding::Utf16);
    store.open(uri.clone(), text.clone(), 0);
    keystrokes(
        c,
        "keystroke in a checked rule, a file of the examples folder",
        store,
        uri,
        &text,
        "value > ",
        "9",
    );
    // Issue 14's workspace: 5,000 rules over 50 files on disk (a `rulec.toml` makes
    // the directory their folder), the keystroke in one of them.
    let dir = std::env::temp_dir().join(format!("rulec-lsp-bench-50-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("rulec.toml"), "").unwrap();
    std::fs::write(dir.join("workspace.rules"), DECLARATIONS).unwrap();
    for file in 0..50 {
        let mut text = String::new();
        for i in file * 100..(file + 1) * 100 {
            text.push('\n');
            text.push_str(&TEMPLATES[i % TEMPLATES.len()].replace("{i}", &i.to_string()));
        }
        std::fs::write(dir.join(format!("rules{file:02}.rules")), text).unwrap();
    }
    let path = dir.join("rules25.rules").canonicalize().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let uri = Uri::from_file_path(&path).unwrap();
    let mut store = Store::new(Encoding::Utf16);
    store.open(uri.clone(), text.clone(), 0);
    keystrokes(
        c,
        "keystroke in a checked rule, 5,000 rules in 50 files",
        store,
        uri,
        &text,
        "value > ",
        "9",
    );
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
