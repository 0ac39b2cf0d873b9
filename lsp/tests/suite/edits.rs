//! Edits applied to the document store: random sequences never panic and leave the
//! diagnostics equal to `analyze_text` on the same text; random edits to any file of a
//! folder leave the incremental path's diagnostics of every file equal to a full
//! analysis of the folder; 10,000 edits do not grow what the store keeps, and a full
//! analysis made for a request leaves the folder holding that one analysis only.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::sync::Arc;

use proptest::prelude::*;
use rulec::workspace::analyze_text;
use rulec_lsp::document::Store;
use rulec_lsp::folder::{FolderInput, Source, Text};
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

fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn uri() -> Uri {
    "file:///tmp/rulec-lsp-prop/edit.rules".parse().unwrap()
}

fn diagnostics(store: &mut Store) -> Vec<(String, String, u32, u32)> {
    let encoding = store.encoding;
    let uri = uri();
    // The publisher's path: incremental when exact, else a full analysis.
    let diagnostics = store.diagnostics(&uri).unwrap();
    let doc = store.get(&uri).unwrap();
    let lines = doc.lines(encoding);
    rulec_lsp::diagnostics::convert(&diagnostics, &lines, &uri)
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
    #![proptest_config(ProptestConfig { cases: cases(24), ..ProptestConfig::default() })]

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

/// A document with rules that check, rules that do not, ids, `allow`s, a meta-rule,
/// duplicates and declarations between rules.
const TYPING: &str = r##"team sdr = ["ana@acme.com"]
list "VIP" of people

rule r1
  owner "a@acme.com"
  description "d"
  on people
  allow missing-description "x"
  when created and event.source != import
  do set owner = round_robin(sdr) if empty

when stage changed from Open to ClosedWon and value > 10000 do slack "#wins" "🎉 {{name}}"
when stage changed from Open to ClosedWon and value > 10000 do slack "#wins" "🎉 {{name}}"
when deals created and valu > 5 do slack "#x"

rule r2
  owner "a@acme.com"
  when rule r1 failed do slack "#ops"

object people { tier: select [gold, silver] }

rule r3
  owner "a@acme.com"
  description "broken"
  when people tier changed to bronze do add to list "VIP"
when deals updated do note "x" "y"
rule r1
  owner "b@acme.com"
  when deals deleted and value > 1 do stop
"##;

fn rows(diagnostics: &[rulec::diagnostics::Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .map(|d| {
            format!(
                "{:?} {} {:?} help {:?} {:?} {:?}",
                d,
                d.span.start,
                d.span.end,
                d.help,
                d.related,
                d.fix.as_ref().map(|f| (
                    &f.title,
                    f.edits
                        .iter()
                        .map(|e| (e.span, &e.replacement))
                        .collect::<Vec<_>>()
                ))
            )
        })
        .collect()
}

/// The folder of one document, `typing.rules`, after the schema file of `settings`.
fn lone(text: &str, settings: &rulec_lsp::analysis::Settings) -> FolderInput {
    FolderInput::lone("typing.rules", text, settings)
}

/// The diagnostics of `typing.rules`.
fn mine(base: &rulec_lsp::incremental::Base) -> &[rulec::diagnostics::Diagnostic] {
    base.diagnostics_named("typing.rules").unwrap()
}

proptest! {
    // `PROPTEST_CASES=5000` searches harder.
    #![proptest_config(ProptestConfig { cases: cases(48), ..ProptestConfig::default() })]

    #[test]
    fn incremental_diagnostics_equal_a_full_check(
        edits in prop::collection::vec((0usize..2000, 0usize..4, 0usize..PIECES.len()), 1..12)
    ) {
        let settings = rulec_lsp::analysis::Settings::default();
        let mut text = TYPING.to_string();
        let full = rulec_lsp::analysis::DocAnalysis::new("typing.rules", &text, &settings);
        let mut base = std::sync::Arc::new(rulec_lsp::incremental::Base::of(&full.folder));
        for (at, width, piece) in edits {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) { at -= 1; }
            let mut end = (at + width).min(text.len());
            while !text.is_char_boundary(end) { end += 1; }
            text.replace_range(at..end, PIECES[piece]);
            let (next, _) = rulec_lsp::incremental::diagnostics(Some(&base), lone(&text, &settings), &settings);
            let want = analyze_text("typing.rules", &text);
            prop_assert_eq!(rows(mine(&next)), rows(&want.diagnostics), "after editing to:\n{}", text);
            base = next;
        }
    }
}

#[test]
fn typing_a_rule_rechecks_only_that_rule_and_stays_exact() {
    let settings = rulec_lsp::analysis::Settings::default();
    let typed =
        "when deals stage changed to ClosedWon and value > 5000 do slack \"#wins\" \"{{name}}\"\n";
    let at = TYPING.find("\nrule r2").unwrap() + 1;
    // Start with the first word of the new rule already there.
    let mut text = format!("{}{}{}", &TYPING[..at], "when d\n", &TYPING[at..]);
    let mut base = std::sync::Arc::new(rulec_lsp::incremental::Base::of(
        &rulec_lsp::analysis::DocAnalysis::new("typing.rules", &text, &settings).folder,
    ));
    let mut fast = 0;
    let mut steps = 0;
    for (i, ch) in typed.char_indices().skip(6) {
        if ch == '\n' {
            break;
        }
        text.insert(at + i, ch);
        let (next, full) =
            rulec_lsp::incremental::diagnostics(Some(&base), lone(&text, &settings), &settings);
        let want = analyze_text("typing.rules", &text);
        assert_eq!(rows(mine(&next)), rows(&want.diagnostics), "{text}");
        fast += usize::from(full.is_none());
        steps += 1;
        base = next;
    }
    // Most keystrokes leave the rule unfinished, so most take the fast path.
    assert!(
        fast * 2 > steps,
        "{fast} of {steps} keystrokes re-checked one rule"
    );
}

/// Retypes the threshold of START's first rule (`value > 1000N`): the rule still
/// checks, so the one-rule path applies.
fn retype_threshold(store: &mut Store, version: i32, digit: &str) {
    let line = START.lines().nth(2).unwrap();
    let at = line.find("10000").unwrap() as u32 + 4;
    let change = TextDocumentContentChangeEvent {
        range: Some(Range::new(Position::new(2, at), Position::new(2, at + 1))),
        range_length: None,
        text: digit.into(),
    };
    store.change(&uri(), version, vec![change]);
}

#[test]
fn a_full_analysis_for_a_request_frees_the_one_the_diagnostics_started_from() {
    let mut store = Store::new(Encoding::Utf16);
    store.open_with(uri(), START.to_string(), 0, Default::default());
    store.diagnostics(&uri()).unwrap();
    let first = Arc::downgrade(&store.latest_analysis(&uri()).unwrap().folder);
    retype_threshold(&mut store, 1, "1");
    store.diagnostics(&uri()).unwrap();
    // The diagnostics came from the one-rule path: the first analysis is still the
    // latest (and the anchor).
    let latest = store.latest_analysis(&uri()).unwrap().folder.clone();
    assert!(Arc::ptr_eq(&latest, &first.upgrade().unwrap()));
    drop(latest);
    // A request needs the whole analysis of the new text.
    drop(store.analysis(&uri()).unwrap());
    assert!(
        first.upgrade().is_none(),
        "the folder still holds its previous analysis beside the new one"
    );
    assert_eq!(store.analyses(), 1);
}

#[test]
fn diagnostics_finished_after_a_request_analysis_do_not_bring_back_the_previous_one() {
    let mut store = Store::new(Encoding::Utf16);
    store.open_with(uri(), START.to_string(), 0, Default::default());
    store.diagnostics(&uri()).unwrap();
    let first = Arc::downgrade(&store.latest_analysis(&uri()).unwrap().folder);
    retype_threshold(&mut store, 1, "1");
    // The publisher takes its job, then a request analyses the same text first.
    let key = store.get(&uri()).unwrap().folder.clone();
    let job = store.job(&key).unwrap();
    drop(store.analysis(&uri()).unwrap());
    let generation = job.generation;
    let (base, full) = job.run();
    assert!(full.is_none(), "the one-rule path was expected");
    drop(job);
    assert!(store.store_diagnostics(&key, generation, base, full));
    assert!(
        first.upgrade().is_none(),
        "the late diagnostics brought back the analysis they started from"
    );
    assert_eq!(store.publications(&key, generation).len(), 1);
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
            let _ = store.analysis(&uri()).unwrap();
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

#[test]
fn editing_a_checked_rule_rechecks_it_alone_and_stays_exact() {
    let settings = rulec_lsp::analysis::Settings::default();
    let mut text = TYPING.to_string();
    let mut base = std::sync::Arc::new(rulec_lsp::incremental::Base::of(
        &rulec_lsp::analysis::DocAnalysis::new("typing.rules", &text, &settings).folder,
    ));
    // Either of two duplicate rules stops and starts being a duplicate (one of them
    // even becomes unsatisfiable); a rule that does not check is edited.
    let second = TYPING.rfind("value > 10000").unwrap() + "value > 10000".len();
    let first = TYPING.find("value > 10000").unwrap() + "value > 10000".len();
    let broken = TYPING.find("broken").unwrap() + 1;
    let edits: Vec<(usize, &str)> = vec![
        (second, "1"),
        (first, " and value < 5"),
        (broken, "x"),
        (second, "2"),
    ];
    let mut fast = 0;
    let mut steps = 0;
    for (at, piece) in edits {
        for undo in [false, true] {
            if undo {
                text.replace_range(at..at + piece.len(), "");
            } else {
                text.insert_str(at, piece);
            }
            let (next, full) =
                rulec_lsp::incremental::diagnostics(Some(&base), lone(&text, &settings), &settings);
            let want = analyze_text("typing.rules", &text);
            assert_eq!(rows(mine(&next)), rows(&want.diagnostics), "{text}");
            fast += usize::from(full.is_none());
            steps += 1;
            base = next;
        }
    }
    assert!(
        fast * 2 > steps,
        "{fast} of {steps} edits re-checked one rule"
    );
}

/// Settings as a `rulec.toml` would give them: levels, and a schema file that holds a
/// declaration and a rule of its own (so workspace lints see rules of two files).
fn configured() -> rulec_lsp::analysis::Settings {
    let mut lints = rulec::lint::LintConfig::default();
    lints
        .levels
        .insert("duplicate-rule".into(), rulec::lint::Level::Error);
    lints
        .levels
        .insert("missing-owner".into(), rulec::lint::Level::Allow);
    rulec_lsp::analysis::Settings {
        lints,
        schema: Some(rulec_lsp::analysis::SchemaFile {
            name: "schema/workspace.rules".into(),
            path: "/nonexistent/schema/workspace.rules".into(),
            text: "list \"Partners\" of companies\n\nwhen stage changed from Open to ClosedWon and value > 10000 do slack \"#wins\" \"🎉 {{name}}\"\n".into(),
        }),
        config_diagnostics: Vec::new(),
        config_path: None,
    }
}

fn expected_with(settings: &rulec_lsp::analysis::Settings, text: &str) -> Vec<String> {
    let schema = settings.schema.as_ref().unwrap();
    let units = vec![
        rulec::check::Unit::parse(rulec::source::SourceFile::new(
            schema.name.clone(),
            schema.text.as_str(),
        )),
        rulec::check::Unit::parse(rulec::source::SourceFile::new("typing.rules", text)),
    ];
    let analysis = rulec::workspace::analyze(units, &settings.lints);
    let doc = analysis.units[1].file.clone();
    let mine: Vec<rulec::diagnostics::Diagnostic> = analysis
        .diagnostics
        .iter()
        .filter(|d| std::sync::Arc::ptr_eq(&d.file, &doc))
        .cloned()
        .collect();
    rows(&mine)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(32), ..ProptestConfig::default() })]

    #[test]
    fn incremental_diagnostics_equal_a_full_check_under_rulec_toml(
        edits in prop::collection::vec((0usize..2000, 0usize..4, 0usize..PIECES.len()), 1..10)
    ) {
        let settings = configured();
        let mut text = TYPING.to_string();
        let full = rulec_lsp::analysis::DocAnalysis::new("typing.rules", &text, &settings);
        prop_assert_eq!(rows(&full.diagnostics().cloned().collect::<Vec<_>>()), expected_with(&settings, &text));
        let mut base = std::sync::Arc::new(rulec_lsp::incremental::Base::of(&full.folder));
        for (at, width, piece) in edits {
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) { at -= 1; }
            let mut end = (at + width).min(text.len());
            while !text.is_char_boundary(end) { end += 1; }
            text.replace_range(at..end, PIECES[piece]);
            let (next, _) = rulec_lsp::incremental::diagnostics(Some(&base), lone(&text, &settings), &settings);
            prop_assert_eq!(rows(mine(&next)), expected_with(&settings, &text), "after editing to:\n{}", text);
            base = next;
        }
    }
}

/// A folder of three files: a schema file with a declaration and a rule, `typing.rules`
/// and `other.rules`, whose rules duplicate, watch and write what `typing.rules`' rules
/// do (so workspace lints cross files) and use its declarations.
const OTHER: &str = r##"rule o1
  owner "a@acme.com"
  description "watches r1 in typing.rules"
  when rule r1 failed do slack "#ops"

when stage changed from Open to ClosedWon and value > 10000 do slack "#wins" "🎉 {{name}}"

rule o2
  owner "a@acme.com"
  description "uses typing.rules' declarations"
  on people
  when tier changed to gold and event.source != import
  do add to list "VIP"

rule o3
  owner "a@acme.com"
  description "writes what r1 reads"
  on people
  when owner changed
  do set tier = silver
when people tier changed to silver do set owner = round_robin(sdr)
"##;

const FOLDER_NAMES: [&str; 3] = ["schema/workspace.rules", "typing.rules", "other.rules"];

fn folder_input(texts: &[String; 3]) -> FolderInput {
    FolderInput {
        sources: FOLDER_NAMES
            .iter()
            .zip(texts)
            .map(|(name, text)| Source {
                name: name.to_string(),
                path: None,
                text: Text::from(text.as_str()),
            })
            .collect(),
        schema: true,
    }
}

/// Every file's diagnostics from a full `rulec::workspace` analysis of the folder.
fn folder_expected(
    texts: &[String; 3],
    settings: &rulec_lsp::analysis::Settings,
) -> Vec<Vec<String>> {
    let units: Vec<rulec::check::Unit> = FOLDER_NAMES
        .iter()
        .zip(texts)
        .map(|(name, text)| {
            rulec::check::Unit::parse(rulec::source::SourceFile::new(*name, text.as_str()))
        })
        .collect();
    let analysis = rulec::workspace::analyze(units, &settings.lints);
    FOLDER_NAMES
        .iter()
        .map(|name| {
            let mine: Vec<rulec::diagnostics::Diagnostic> = analysis
                .diagnostics
                .iter()
                .filter(|d| d.file.name() == *name)
                .cloned()
                .collect();
            rows(&mine)
        })
        .collect()
}

fn folder_got(base: &rulec_lsp::incremental::Base) -> Vec<Vec<String>> {
    FOLDER_NAMES
        .iter()
        .map(|name| rows(base.diagnostics_named(name).unwrap()))
        .collect()
}

/// Closes a loop with `o3` of `other.rules` (a `rule-cycle` across files, whose help
/// quotes the other file's line numbers).
const LOOP: &str = "\nwhen people tier changed to silver do set owner = round_robin(sdr)\n";

fn folder_texts() -> [String; 3] {
    [
        configured().schema.unwrap().text,
        format!("{TYPING}{LOOP}"),
        OTHER.replace(
            "when people tier changed to silver do set owner = round_robin(sdr)\n",
            "",
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(32), ..ProptestConfig::default() })]

    #[test]
    fn incremental_diagnostics_of_every_file_equal_a_full_check_of_the_folder(
        edits in prop::collection::vec((1usize..3, 0usize..2000, 0usize..4, 0usize..PIECES.len()), 1..10)
    ) {
        let settings = configured();
        let mut texts = folder_texts();
        let full = std::sync::Arc::new(rulec_lsp::analysis::FolderAnalysis::new(folder_input(&texts), &settings));
        prop_assert_eq!(folder_got(&rulec_lsp::incremental::Base::of(&full)), folder_expected(&texts, &settings));
        let mut base = std::sync::Arc::new(rulec_lsp::incremental::Base::of(&full));
        for (file, at, width, piece) in edits {
            let text = &mut texts[file];
            let mut at = at % (text.len() + 1);
            while !text.is_char_boundary(at) { at -= 1; }
            let mut end = (at + width).min(text.len());
            while !text.is_char_boundary(end) { end += 1; }
            text.replace_range(at..end, PIECES[piece]);
            let (next, _) = rulec_lsp::incremental::diagnostics(Some(&base), folder_input(&texts), &settings);
            prop_assert_eq!(folder_got(&next), folder_expected(&texts, &settings), "after editing {} to:\n{}", FOLDER_NAMES[file], texts[file]);
            base = next;
        }
    }
}

#[test]
fn typing_in_either_file_of_a_folder_rechecks_one_rule_and_stays_exact() {
    let settings = configured();
    let mut texts = folder_texts();
    let mut base = std::sync::Arc::new(rulec_lsp::incremental::Base::of(&std::sync::Arc::new(
        rulec_lsp::analysis::FolderAnalysis::new(folder_input(&texts), &settings),
    )));
    // Digits typed into a checked rule of each file, one after another: the duplicate
    // in `other.rules` of a rule in the schema file stops and starts being one.
    let mut fast = 0;
    let mut steps = 0;
    for file in [2usize, 1, 2] {
        let at = texts[file].find("value > 10000").unwrap() + "value > 10000".len();
        for (i, piece) in ["1", "2", ""].iter().enumerate() {
            if piece.is_empty() {
                texts[file].replace_range(at..at + i, "");
            } else {
                texts[file].insert_str(at + i, piece);
            }
            let (next, full) =
                rulec_lsp::incremental::diagnostics(Some(&base), folder_input(&texts), &settings);
            assert_eq!(
                folder_got(&next),
                folder_expected(&texts, &settings),
                "{}",
                texts[file]
            );
            fast += usize::from(full.is_none());
            steps += 1;
            base = next;
        }
    }
    assert!(
        fast * 2 > steps,
        "{fast} of {steps} edits re-checked one rule"
    );
}

#[test]
fn a_line_added_in_one_file_keeps_other_files_line_numbers_exact() {
    let settings = configured();
    let mut texts = folder_texts();
    let full = std::sync::Arc::new(rulec_lsp::analysis::FolderAnalysis::new(
        folder_input(&texts),
        &settings,
    ));
    let start = folder_expected(&texts, &settings);
    assert!(
        start.iter().flatten().any(|r| r.contains("rule-cycle")),
        "the folder should have a loop across files: {start:#?}"
    );
    let mut base = std::sync::Arc::new(rulec_lsp::incremental::Base::of(&full));
    // A condition broken over two lines in rules before the loop's rules: in
    // typing.rules (a rule that checks, one that does not), then in other.rules (whose
    // `o3` the loop's finding in typing.rules quotes with its line).
    let edits: [(usize, &str); 3] = [
        (1, " and event.source != import\n  do set owner"),
        (1, " and valu > 5"),
        (2, " and event.source != import\n  do add"),
    ];
    let mut fast = 0;
    for (file, needle) in edits {
        let at = texts[file].find(needle).unwrap();
        for undo in [false, true] {
            if undo {
                texts[file].replace_range(at..at + 3, "");
            } else {
                texts[file].insert_str(at, "\n  ");
            }
            let (next, full) =
                rulec_lsp::incremental::diagnostics(Some(&base), folder_input(&texts), &settings);
            assert_eq!(
                folder_got(&next),
                folder_expected(&texts, &settings),
                "{}",
                texts[file]
            );
            fast += usize::from(full.is_none());
            base = next;
        }
    }
    // Lines moved next to cross-file findings: each edit re-checked the folder.
    assert_eq!(fast, 0);
}
