//! "Run test" lenses on `test` blocks, and running one when its lens is clicked.
//!
//! The lens carries a command the server itself executes (`workspace/executeCommand`),
//! so every client that shows lenses can run tests without an extension of its own:
//! the test runs through the engine exactly as `rulec test` runs it, and the result
//! comes back as a message.

use rulec::diagnostics::Severity;
use rulec::syntax::ast::Item;
use tower_lsp_server::ls_types::{CodeLens, Command, Range, Uri};

use crate::analysis::DocAnalysis;
use crate::position::Lines;

/// The command a lens runs: arguments are the document's URI and the test's offset.
pub const RUN_TEST: &str = "rulec.runTest";

/// A "Run test" lens on the first line of every `test` block.
pub fn code_lenses(analysis: &DocAnalysis, lines: &Lines<'_>, uri: &Uri) -> Vec<CodeLens> {
    let Some(document) = analysis.document() else {
        return Vec::new();
    };
    document
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Test(test) => Some(test),
            _ => None,
        })
        .map(|test| {
            let at = lines.position(test.span.lo());
            CodeLens {
                range: Range::new(at, at),
                command: Some(Command {
                    title: "▶ Run test".to_string(),
                    command: RUN_TEST.to_string(),
                    arguments: Some(vec![
                        serde_json::json!(uri.as_str()),
                        serde_json::json!(test.span.lo()),
                    ]),
                }),
                data: None,
            }
        })
        .collect()
}

/// Runs the test block at byte `offset`: whether it passed, and what to tell the user.
pub fn run_test(analysis: &DocAnalysis, offset: usize) -> (bool, String) {
    let errors = analysis
        .analysis()
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    if errors > 0 {
        let s = if errors == 1 { "" } else { "s" };
        return (
            false,
            format!("tests run only when the rules check: fix {errors} error{s} first"),
        );
    }
    let Some(file) = analysis.file() else {
        return (false, "no document".to_string());
    };
    match rulec::testing::run_at(analysis.analysis(), file.name(), offset) {
        None => (
            false,
            "there is no test here (the file changed?)".to_string(),
        ),
        Some(result) => match &result.failure {
            None => (true, format!("test \"{}\" passed", result.name)),
            Some(why) => (false, format!("test \"{}\" failed: {why}", result.name)),
        },
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

    use super::*;
    use crate::analysis::Settings;
    use crate::position::Encoding;

    const RULES: &str = "rule wins\n  when stage changed from Open to ClosedWon and value > 10000\n  do slack \"#wins\"\n\ntest \"a big win pings #wins\"\n  given deals { name: \"Acme\", stage: Open, value: 25000 }\n  event stage changed to ClosedWon\n  expect slack \"#wins\"\n\ntest \"a small win stays quiet\"\n  given deals { name: \"Tiny\", stage: Open, value: 5 }\n  event stage changed to ClosedWon\n  expect slack \"#wins\"\n";

    #[test]
    fn every_test_block_gets_a_lens_that_runs_it() {
        let analysis = DocAnalysis::new("wins.rules", RULES, &Settings::default());
        let lines = analysis.lines(Encoding::Utf16);
        let uri: Uri = "file:///tmp/wins.rules".parse().unwrap();
        let lenses = code_lenses(&analysis, &lines, &uri);
        assert_eq!(lenses.len(), 2);
        assert_eq!(lenses[0].range.start.line, 4);
        assert_eq!(lenses[1].range.start.line, 9);
        let offset = |lens: &CodeLens| {
            let args = lens.command.as_ref().unwrap().arguments.as_ref().unwrap();
            assert_eq!(args[0], "file:///tmp/wins.rules");
            args[1].as_u64().unwrap() as usize
        };
        assert_eq!(
            run_test(&analysis, offset(&lenses[0])),
            (true, "test \"a big win pings #wins\" passed".to_string())
        );
        let (passed, message) = run_test(&analysis, offset(&lenses[1]));
        assert!(!passed);
        assert!(
            message
                .starts_with("test \"a small win stays quiet\" failed: line 13: expected `slack`"),
            "{message}"
        );
    }

    #[test]
    fn a_file_with_errors_says_to_fix_them_first() {
        let text = RULES.replace("ClosedWon and", "ClosedWn and");
        let analysis = DocAnalysis::new("wins.rules", &text, &Settings::default());
        let (passed, message) = run_test(&analysis, text.find("test").unwrap());
        assert!(!passed);
        assert_eq!(
            message,
            "tests run only when the rules check: fix 1 error first"
        );
    }
}
