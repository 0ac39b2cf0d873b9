//! Pathological input: always an answer, never a panic, a stack overflow or a hang.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use rulec::workspace::{analyze_text, unit_from_bytes};

/// The codes of the errors found (lints may add warnings; robustness is about errors).
fn codes(text: &str) -> Vec<String> {
    analyze_text("p.rules", text)
        .diagnostics
        .iter()
        .filter(|d| d.severity == rulec::diagnostics::Severity::Error)
        .map(|d| d.code.to_string())
        .collect()
}

#[test]
fn twenty_thousand_nested_parentheses() {
    let text = format!(
        "on deals when matches {}value > 1{} do stop\n",
        "(".repeat(20_000),
        ")".repeat(20_000)
    );
    assert_eq!(codes(&text), ["syntax-error"]);
    let text = format!(
        "on deals when created and value > 1 do slack \"#a\" \"{{{{{}x{}}}}}\"",
        "(".repeat(20_000),
        ")".repeat(20_000)
    );
    assert_eq!(codes(&text), ["syntax-error"]);
}

#[test]
fn deeply_nested_blocks() {
    let text = format!(
        "on deals when created and value > 1 do {} stop {}",
        "if value > 1 then ".repeat(20_000),
        "end ".repeat(20_000)
    );
    assert_eq!(codes(&text), ["syntax-error"]);
}

#[test]
fn very_long_operator_chains() {
    let chain = vec!["value > 1"; 200_000].join(" and ");
    let text = format!("on deals when created and {chain} do stop\n");
    assert_eq!(codes(&text), ["syntax-error"]);
    let nots = format!(
        "on deals when created and {}true do stop\n",
        "not ".repeat(100_000)
    );
    assert_eq!(codes(&nots), ["syntax-error"]);
    // A long but reasonable condition is fine.
    let fine = vec!["value > 1"; 300].join(" and ");
    assert!(codes(&format!("on deals when created and {fine} do stop\n")).is_empty());
}

#[test]
fn a_five_megabyte_line() {
    let text = format!(
        "when stage changed to ClosedWon do slack \"#wins\" \"{}\"\n",
        "x".repeat(5 << 20)
    );
    assert!(codes(&text).is_empty());
    let junk = format!("when {}\n", "stage ".repeat(900_000));
    assert_eq!(codes(&junk), ["syntax-error"]);
}

#[test]
fn nul_bytes_and_control_characters() {
    let text = "when stage\0 changed to ClosedWon do slack \"#wins\"\n\u{7}\u{1b}[31m\n";
    assert!(codes(text).iter().all(|c| c == "syntax-error"));
    assert!(!codes(text).is_empty());
}

#[test]
fn invalid_utf8() {
    let unit = unit_from_bytes("bad.rules", b"when created \xc3\x28 do stop".to_vec());
    assert_eq!(unit.parsed.diagnostics[0].code, "invalid-encoding");
    assert_eq!(unit.parsed.diagnostics[0].span.lo(), 13);
}

#[test]
fn unterminated_strings_and_interpolations() {
    for text in [
        "when created do slack \"#wins",
        "when created do slack \"{{name",
        "when created do slack \"{{name}}",
        "when created do slack \"{{\"}}\"",
        "\"",
        "{{",
        "}}}}",
        "when",
        "rule",
        "rule x",
        "on",
        "object deals {",
        "test \"",
    ] {
        let _ = codes(text);
    }
}

#[test]
fn huge_numbers() {
    let text = format!(
        "on deals when created and value > {} do stop retry 99999999999999\n",
        "9".repeat(400)
    );
    assert_eq!(codes(&text), ["syntax-error", "syntax-error"]);
    assert_eq!(
        codes(&format!(
            "on deals when created and value > {} do stop\n",
            "9".repeat(400)
        )),
        ["syntax-error"]
    );
    let fine = format!(
        "on deals when created and value > {} do stop\n",
        "9".repeat(300)
    );
    assert!(codes(&fine).is_empty());
}
