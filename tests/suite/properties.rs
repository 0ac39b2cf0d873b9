//! Invariants, checked on generated and mutated input:
//! - no input panics the parser, checker or linter;
//! - formatting is idempotent;
//! - formatting keeps meaning: the same diagnostics before and after.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use proptest::prelude::*;
use rulec::format::format_document;
use rulec::workspace::{analyze_text, Analysis};

fn examples() -> Vec<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut texts: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "rules"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    texts.sort();
    texts
}

fn signature(analysis: &Analysis) -> Vec<(String, String)> {
    let mut v: Vec<_> = analysis
        .diagnostics
        .iter()
        .map(|d| (d.code.to_string(), d.message.clone()))
        .collect();
    v.sort();
    v
}

/// Formats `text` twice and checks both invariants.
fn assert_format_invariants(text: &str) -> Result<(), TestCaseError> {
    let before = analyze_text("p.rules", text);
    let once = format_document(text, &before.units[0].parsed.document);
    let after = analyze_text("p.rules", &once);
    let twice = format_document(&once, &after.units[0].parsed.document);
    prop_assert_eq!(&twice, &once, "not idempotent for input:\n{}", text);
    prop_assert_eq!(
        signature(&before),
        signature(&after),
        "meaning changed:\n{}\n---\n{}",
        text,
        once
    );
    Ok(())
}

const TOKENS: &[&str] = &[
    "when",
    "every",
    "rule",
    "on",
    "do",
    "and",
    "or",
    "not",
    "if",
    "then",
    "else",
    "end",
    "route",
    "=>",
    "created",
    "updated",
    "changed",
    "from",
    "to",
    "matches",
    "stage",
    "value",
    "owner",
    "name",
    "Open",
    "ClosedWon",
    "deals",
    "people",
    "slack",
    "\"#wins\"",
    "set",
    "=",
    ">",
    "10000",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ".",
    "\"{{",
    "}}\"",
    "#",
    "\n",
    " ",
    "14 days ago",
    "is set",
    "empty",
    "as",
    "create task",
    "key",
    "event.id",
    "object",
    "list",
    "team",
    "webhook",
    "action",
    "test",
    "given",
    "expect",
    "find",
    "where",
    "http POST",
    "\"https://x.io\"",
    "wait",
    "ask",
    "skip",
    "stop",
    "-",
    "*",
    "linked to",
    "company.owner",
    "note on",
    "record",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..60).prop_map(|t| t.join(" "))
}

/// Generated rules that are mostly valid, in varied layouts with comments.
fn rule_text() -> impl Strategy<Value = String> {
    let trigger = prop::sample::select(vec![
        "created",
        "updated",
        "stage changed",
        "stage changed from Open to ClosedWon",
        "stage changed to [ClosedWon, ClosedLost]",
        "value changed from empty",
        "matches stage >= Qualified and value > 5000",
        "note created",
        "deleted",
    ]);
    let condition = prop::collection::vec(
        prop::sample::select(vec![
            "value > 10_000",
            "event.source != import",
            "owner is set",
            "(value > 5 or stage = Open)",
            "not (name contains \"test\")",
            "close_date within next 30 days",
            "last_activity before 14 days ago",
            "old.value < value * 2",
            "stage in [Open, Qualified]",
        ]),
        0..4,
    );
    let steps = prop::collection::vec(
        prop::sample::select(vec![
            "slack \"#wins\" \"{{name}} closed for {{value}}\"",
            "set value = value + 1",
            "set owner = \"ana@acme.com\" if empty",
            "note \"Seen\" \"by {{event.actor}}\"",
            "create task \"Call {{name}}\" for owner due in 2 days key event.id",
            "if value > 100 then slack \"#big\" else stop end",
            "route value > 10 => slack \"#a\" else => skip \"small\" end",
            "wait 1 day",
            "clear close_date",
            "http POST \"https://hooks.example.com/x\" body { id: event.id } key event.id",
            "set company.owner = owner if empty",
            "clear record.close_date",
            "add company to list \"Key accounts\"",
            "remove record from list \"Won\"",
            "note on company \"Won {{name}}\" \"by {{owner}}\"",
            "create task \"Kickoff\" linked to company due in 1 day",
            "find deals where company = record.company as other set other.value = 1",
        ]),
        1..4,
    );
    let header = prop::option::of(prop::sample::select(vec![
        "rule r \"Title\"\n  owner \"revops@acme.com\"\n  on deals\n",
        "on deals # the object\n",
        "rule r2\n  limit 5 per hour\n  allow unconditioned-trigger \"why\"\n  on deals\n",
    ]));
    let sep = prop::sample::select(vec![" ", "\n  ", "   ", " # note\n "]);
    (header, trigger, condition, steps, sep).prop_map(|(header, trigger, condition, steps, sep)| {
        let mut text = header.unwrap_or("on deals ").to_string();
        text.push_str("when ");
        text.push_str(trigger);
        for (i, c) in condition.iter().enumerate() {
            text.push_str(sep);
            text.push_str(if i == 0 {
                if trigger.starts_with("matches") {
                    "where "
                } else {
                    "and "
                }
            } else {
                "and "
            });
            text.push_str(c);
        }
        text.push_str(sep);
        text.push_str("do");
        for s in steps {
            text.push_str(sep);
            text.push_str(s);
        }
        text.push('\n');
        text
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, &'static str),
    Duplicate(usize, usize),
}

fn mutate(text: &str, mutations: &[Mutation]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for m in mutations {
        let len = bytes.len().max(1);
        match *m {
            Mutation::Delete(a, n) => {
                let a = a % len;
                let b = (a + n % 40).min(bytes.len());
                if a < b {
                    bytes.drain(a..b);
                }
            }
            Mutation::Insert(a, token) => {
                let a = (a % len).min(bytes.len());
                bytes.splice(a..a, token.bytes());
            }
            Mutation::Duplicate(a, n) => {
                let a = a % len;
                let b = (a + n % 80).min(bytes.len());
                let copy = bytes.get(a..b).unwrap_or_default().to_vec();
                bytes.splice(b..b, copy);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (any::<usize>(), prop::sample::select(TOKENS)).prop_map(|(a, t)| Mutation::Insert(a, t)),
        (any::<usize>(), any::<usize>()).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = analyze_text("p.rules", &text);
    }

    #[test]
    fn token_soup_never_panics_and_formats_stably(text in token_soup()) {
        assert_format_invariants(&text)?;
    }

    #[test]
    fn mutated_examples_never_panic_and_format_stably(
        which in any::<prop::sample::Index>(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let examples = examples();
        let text = mutate(which.get(examples.as_slice()).as_str(), &mutations);
        assert_format_invariants(&text)?;
    }

    #[test]
    fn generated_rules_format_idempotently_and_keep_meaning(text in rule_text()) {
        assert_format_invariants(&text)?;
    }
}

#[test]
fn every_example_is_already_formatted() {
    for text in examples() {
        let analysis = analyze_text("e.rules", &text);
        assert_eq!(
            format_document(&text, &analysis.units[0].parsed.document),
            text
        );
    }
}
