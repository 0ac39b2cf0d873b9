//! The `rulec` binary as users and CI run it: every output format and exit code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rulec(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rulec"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("rulec runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A scratch directory with the given files.
fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rulec-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

const ONE_LINER: &str =
    "when stage changed from Open to ClosedWon and value > 10000 do slack \"#wins\"\n";
const NOISY: &str = "when stage changed do slack \"#sales\"\n";
const BROKEN: &str = "when stage changed to Opn do slack \"#wins\"\n";

#[test]
fn the_one_liner_checks_clean() {
    let dir = project("clean", &[("wins.rules", ONE_LINER)]);
    let out = rulec(&dir, &["check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert!(
        text.ends_with("checked 1 file: 0 errors, 0 warnings, 1 hint\n"),
        "{text}"
    );
    // A header-less rule gets a hint that nobody owns it, and nothing louder.
    assert!(text.contains("missing-owner"), "{text}");
}

#[test]
fn the_examples_check_clean_with_warnings_denied() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = rulec(root, &["check", "examples", "--deny", "warnings"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn warnings_pass_unless_denied() {
    let dir = project("warn", &[("noisy.rules", NOISY)]);
    let out = rulec(&dir, &["check", "noisy.rules"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("unconditioned-trigger"));
    assert!(stdout(&out).contains("noisy.rules:1:6"), "{}", stdout(&out));
    let out = rulec(&dir, &["check", "noisy.rules", "--deny", "warnings"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn errors_exit_1_and_usage_or_io_errors_exit_2() {
    let dir = project("errors", &[("broken.rules", BROKEN)]);
    assert_eq!(
        rulec(&dir, &["check", "broken.rules"]).status.code(),
        Some(1)
    );
    let missing = rulec(&dir, &["check", "nope.rules"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("nope.rules"),
        "{}",
        stderr(&missing)
    );
    assert_eq!(
        rulec(&dir, &["check", "--format", "xml"]).status.code(),
        Some(2)
    );
    assert_eq!(
        rulec(&dir, &["check", "--deny", "everything"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn json_follows_the_documented_contract() {
    let dir = project("json", &[("noisy.rules", NOISY), ("broken.rules", BROKEN)]);
    let out = rulec(&dir, &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["summary"]["files"], 2);
    assert_eq!(json["summary"]["errors"], 1);
    assert_eq!(json["summary"]["warnings"], 1);
    let warning = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "unconditioned-trigger")
        .unwrap();
    assert_eq!(warning["file"], "noisy.rules");
    assert_eq!(warning["severity"], "warning");
    assert_eq!(
        (warning["line"].as_u64(), warning["column"].as_u64()),
        (Some(1), Some(6))
    );
    assert_eq!(
        (warning["end_line"].as_u64(), warning["end_column"].as_u64()),
        (Some(1), Some(19))
    );
    assert!(warning["help"].as_str().unwrap().contains("changed to"));
    let error = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "unknown-option")
        .unwrap();
    assert_eq!(error["help"], "did you mean `Open`?");
}

#[test]
fn columns_count_characters_not_bytes() {
    let rule = "when stage changed to ClosedWon do slack \"#wins\" \"🎉 {{nme}}\"\n";
    let dir = project("unicode", &[("emoji.rules", rule)]);
    let out = rulec(&dir, &["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let d = &json["diagnostics"][0];
    assert_eq!(d["code"], "unknown-attribute");
    let expected = rule[..rule.find("nme").unwrap()].chars().count() as u64 + 1;
    assert_eq!(d["column"].as_u64(), Some(expected));
}

#[test]
fn sarif_is_sarif_2_1_0() {
    let dir = project("sarif", &[("noisy.rules", NOISY), ("broken.rules", BROKEN)]);
    let out = rulec(&dir, &["check", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1));
    let sarif: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "rulec");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().unwrap() >= 1);
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap()));
    }
    let lint = rules
        .iter()
        .find(|r| r["id"] == "unconditioned-trigger")
        .unwrap();
    assert!(lint["shortDescription"]["text"]
        .as_str()
        .unwrap()
        .contains("every"));
}

#[test]
fn github_annotations_are_workflow_commands() {
    let dir = project("github", &[("noisy.rules", NOISY)]);
    let out = rulec(&dir, &["check", "--format", "github"]);
    let text = stdout(&out);
    assert!(
        text.starts_with("::warning file=noisy.rules,line=1,col=6,endLine=1,endColumn=19,title=rulec(unconditioned-trigger)::"),
        "{text}"
    );
    assert_eq!(
        text.lines().count(),
        1,
        "messages are escaped onto one line: {text}"
    );
}

#[test]
fn rulec_toml_is_found_upward_and_sets_schema_and_levels() {
    let dir = project(
        "config",
        &[
            (
                "rulec.toml",
                "schema = \"schema/crm.rules\"\n\n[lints]\nunconditioned-trigger = \"error\"\n",
            ),
            (
                "schema/crm.rules",
                "object deals {\n  priority: select [Low, High]\n}\n",
            ),
            (
                "rules/hot.rules",
                "when priority changed to High and value > 0 do slack \"#hot\"\n",
            ),
            ("rules/noisy.rules", NOISY),
        ],
    );
    let out = rulec(&dir.join("rules"), &["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let loud: Vec<&serde_json::Value> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] != "hint")
        .collect();
    let codes: Vec<&str> = loud.iter().map(|d| d["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["unconditioned-trigger"], "{}", stdout(&out));
    assert_eq!(loud[0]["severity"], "error");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn bad_config_is_reported_with_its_location() {
    let dir = project(
        "badconfig",
        &[
            ("rulec.toml", "[lints]\nunconditioned-triger = \"error\"\n"),
            ("wins.rules", ONE_LINER),
        ],
    );
    let out = rulec(&dir, &["check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("rulec.toml:2:1"), "{text}");
    assert!(
        text.contains("did you mean `unconditioned-trigger`?"),
        "{text}"
    );
}

#[test]
fn fmt_rewrites_and_check_mode_reports() {
    let messy =
        "when stage   changed from Open to ClosedWon  and value>10000 do slack \"#wins\"   # yay\n";
    let dir = project("fmt", &[("messy.rules", messy)]);
    let out = rulec(&dir, &["fmt", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("would reformat messy.rules"));
    assert_eq!(
        std::fs::read_to_string(dir.join("messy.rules")).unwrap(),
        messy,
        "--check changes nothing"
    );
    assert_eq!(rulec(&dir, &["fmt"]).status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(dir.join("messy.rules")).unwrap(),
        "when stage changed from Open to ClosedWon and value > 10000 do slack \"#wins\"  # yay\n"
    );
    assert_eq!(rulec(&dir, &["fmt", "--check"]).status.code(), Some(0));
}

#[test]
fn fmt_keeps_broken_items_as_written() {
    let text = "when stage changed to do slack \"#x\"\nwhen   created and value > 1 do stop\n";
    let dir = project("fmt-broken", &[("b.rules", text)]);
    // A file with syntax errors is only partly formatted: exit 1, with and without
    // `--check`, saying where.
    let out = rulec(&dir, &["fmt", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("b.rules:1:"), "{}", stderr(&out));
    let out = rulec(&dir, &["fmt"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("syntax errors"));
    let after = std::fs::read_to_string(dir.join("b.rules")).unwrap();
    assert_eq!(
        after,
        "when stage changed to do slack \"#x\"\nwhen created and value > 1 do stop\n"
    );
}

#[test]
fn compile_writes_checked_ir() {
    let dir = project(
        "compile",
        &[("wins.rules", ONE_LINER), ("broken.rules", BROKEN)],
    );
    let out = rulec(&dir, &["compile", "wins.rules", "-o", "ir.json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let ir: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("ir.json")).unwrap()).unwrap();
    let rule = &ir["rules"][0];
    assert_eq!(rule["id"], "wins#1");
    assert_eq!(rule["object"], "deals");
    assert_eq!(rule["trigger"]["to"][0]["v"]["name"], "ClosedWon");
    assert_eq!(rule["trigger"]["to"][0]["v"]["index"], 5);
    let value = &rule["condition"]["lhs"]["path"][0];
    assert_eq!(value["name"], "value");
    assert_eq!(
        value["attribute_of"], "deals",
        "the checker's resolution travels in the IR"
    );
    assert_eq!(value["type"]["type"], "currency");
    assert_eq!(rule["version"].as_str().unwrap().len(), 16);
    assert!(ir["schema"]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["name"] == "deals"));

    let out = rulec(&dir, &["compile", "broken.rules", "-o", "bad.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !dir.join("bad.json").exists(),
        "nothing is written when checking fails"
    );
    assert!(stderr(&out).contains("Opn"));
}

#[test]
fn reformatting_keeps_the_version_but_an_edit_changes_it() {
    let dir = project("version", &[("a.rules", ONE_LINER)]);
    let version = |dir: &Path| {
        let out = rulec(dir, &["compile", "a.rules"]);
        let ir: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        ir["rules"][0]["version"].as_str().unwrap().to_string()
    };
    let v1 = version(&dir);
    std::fs::write(dir.join("a.rules"), "# a comment\nwhen stage changed from Open to ClosedWon\n  and value > 10000\ndo\n  slack \"#wins\"\n").unwrap();
    assert_eq!(version(&dir), v1);
    std::fs::write(dir.join("a.rules"), ONE_LINER.replace("10000", "20000")).unwrap();
    assert_ne!(version(&dir), v1);
}

/// A rule's version keys its idempotency keys and the runs waiting in it, so a new
/// rulec must compute the same version for the same rule: otherwise upgrading would
/// start every waiting run over and repeat effects. `tests/data/example-versions.txt`
/// was written by the rulec of 2026-12-04; change it only with a migration.
#[test]
fn rule_versions_stay_the_same_across_releases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = rulec(&root.join("examples"), &["compile", "."]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ir: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let versions: String = ir["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}\n",
                r["id"].as_str().unwrap(),
                r["version"].as_str().unwrap()
            )
        })
        .collect();
    let pinned = std::fs::read_to_string(root.join("tests/data/example-versions.txt")).unwrap();
    assert_eq!(
        versions, pinned,
        "a rule's version changed: if you edited that example rule, update its line; if not, \
         the canonical text changed and every deployed rule would be re-keyed"
    );
}

#[test]
fn lints_and_explain_document_every_lint() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = rulec(root, &["lints"]);
    assert_eq!(out.status.code(), Some(0));
    let line = stdout(&out)
        .lines()
        .find(|l| l.starts_with("unconditioned-trigger "))
        .map(String::from)
        .unwrap_or_default();
    assert!(line.contains(" warning "), "{line}");
    let out = rulec(root, &["explain", "unconditioned-trigger"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for section in [
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
        "## When to allow",
    ] {
        assert!(text.contains(section), "missing {section}");
    }
    let out = rulec(root, &["explain", "unconditioned-triger"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("did you mean `unconditioned-trigger`?"));
}

#[test]
fn invalid_utf8_is_an_error_with_a_location() {
    let dir = project("utf8", &[]);
    std::fs::write(dir.join("bad.rules"), b"when created \xff\xfe do stop\n").unwrap();
    let out = rulec(&dir, &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["diagnostics"][0]["code"], "invalid-encoding");
    assert_eq!(json["diagnostics"][0]["column"], 14);
}

#[test]
fn fix_applies_safe_fixes_and_unsafe_ones_only_when_asked() {
    let rule = "on people when created do slack \"#welcome\"\n";
    let dir = project("fix", &[("a.rules", rule)]);
    let out = rulec(&dir, &["check", "--fix", "a.rules"]);
    assert!(
        stderr(&out).contains("fixed 0 problems"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("a.rules")).unwrap(),
        rule,
        "the import guard changes behaviour"
    );
    let out = rulec(&dir, &["check", "--fix", "--unsafe-fixes", "a.rules"]);
    assert!(stderr(&out).contains("fixed 1 problem"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.join("a.rules")).unwrap(),
        "on people when created and event.source != import do slack \"#welcome\"\n"
    );
    assert!(
        !stdout(&out).contains("unconditioned-trigger"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn fix_writes_to_the_file_it_read() {
    // A name with a backslash is shown with `/`; the fix must still go to this file.
    let rule = "on deals when stage changed to ClosedWon do create deals { name: \"x\" }\n";
    let dir = project(
        "fix-path",
        &[("a\\b.rules", rule), ("a/b.rules", "IMPORTANT\n")],
    );
    let out = rulec(&dir, &["check", "--fix", "a\\b.rules"]);
    assert!(stderr(&out).contains("fixed 1 problem"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(dir.join("a/b.rules")).unwrap(),
        "IMPORTANT\n"
    );
    let fixed = std::fs::read_to_string(dir.join("a\\b.rules")).unwrap();
    assert!(fixed.contains("key event.id"), "{fixed}");
}

#[test]
fn http_allow_list_sees_through_backslashes_and_empty_hosts() {
    let rules = "rule sneaky\n  owner \"a@b.c\"\n  description \"x\"\n  on deals\n  when stage changed to ClosedWon\n  do\n    http POST \"https://evil.com\\\\@api.stripe.com/x\" key event.id\n    http POST \"https:///evil.com/x\" key event.id\n    http POST \"https://api.stripe.com/v1/x\" key event.id\n";
    let dir = project(
        "http-allow",
        &[
            ("rulec.toml", "[http]\nallow = [\"api.stripe.com\"]\n"),
            ("h.rules", rules),
        ],
    );
    let out = rulec(&dir, &["check", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let lines: Vec<u64> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "http-host-not-allowed")
        .map(|d| d["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [7, 8], "{}", stdout(&out));
}

const RELAY_RULES: &str = r##"webhook relay {
  host: text
}

rule forward
  owner "ops@acme.com"
  description "Forwards each relay to the host it names"
  allow http-host-not-allowed "the relay names its target; the engine holds it to the allow-list"
  when webhook relay and payload.host is set
  do http POST "https://{{payload.host}}/in" body { from: "rulec" } key event.id
"##;

const RELAY_EVENTS: &str = r#"{"id":"w1","type":"webhook","name":"relay","at":"2026-03-02T10:00:00Z","payload":{"host":"evil.example.net"}}
{"id":"w2","type":"webhook","name":"relay","at":"2026-03-02T10:01:00Z","payload":{"host":"API.example.com"}}
"#;

#[test]
fn the_http_allow_list_is_enforced_at_run_time_wherever_rulec_runs() {
    let dir = project(
        "http-run",
        &[
            ("proj/rulec.toml", "[http]\nallow = [\"api.example.com\"]\n"),
            ("proj/rules/relay.rules", RELAY_RULES),
            ("elsewhere/events.jsonl", RELAY_EVENTS),
        ],
    );
    // Run from a directory outside the project: its rulec.toml still applies.
    let out = rulec(
        &dir.join("elsewhere"),
        &[
            "run",
            "../proj/rules",
            "--events",
            "events.jsonl",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let runs: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(runs.len(), 2, "{}", stdout(&out));

    // A host from data outside the list: the step fails, saying which host and which
    // list, and nothing is sent.
    let refused = &runs[0];
    assert_eq!(refused["status"], "failed");
    assert_eq!(refused["effects"], serde_json::json!([]));
    assert_eq!(refused["steps"][0]["status"], "failed");
    assert_eq!(
        refused["steps"][0]["error"],
        "`evil.example.net` is not in the `[http] allow` list of rulec.toml (api.example.com); the request was not sent"
    );

    // A host on the list (in any case) is called.
    let allowed = &runs[1];
    assert_eq!(allowed["status"], "completed");
    assert_eq!(allowed["effects"][0]["action"], "http");
    assert_eq!(
        allowed["effects"][0]["args"]["url"],
        "https://API.example.com/in"
    );
    assert!(
        stderr(&out).contains("2 runs (1 completed, 1 failed), 1 effect"),
        "{}",
        stderr(&out)
    );

    // The list is part of the compiled program.
    let compiled = rulec(&dir.join("elsewhere"), &["compile", "../proj/rules"]);
    let program: serde_json::Value = serde_json::from_str(&stdout(&compiled)).unwrap();
    assert_eq!(
        program["http_allow"],
        serde_json::json!(["api.example.com"])
    );
}

#[test]
fn rule_files_of_two_projects_are_not_checked_together() {
    let dir = project(
        "two-projects",
        &[
            ("a/rulec.toml", "[http]\nallow = [\"api.example.com\"]\n"),
            ("a/wins.rules", ONE_LINER),
            ("b/wins.rules", ONE_LINER),
        ],
    );
    let out = rulec(&dir, &["check", "a", "b"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("belong to different projects"),
        "{}",
        stderr(&out)
    );
}

const KILL_RULES: &str = r##"rule onboard
  when stage changed to ClosedWon and value > 0
  do
    slack "#wins" "first {{name}}"
    slack "#wins" "second {{name}}"
    wait 1 day
    slack "#wins" "third {{name}}"
"##;

const KILL_EVENTS: &str = r#"{"id":"e1","type":"record.created","object":"deals","record_id":"d1","at":"2026-03-02T10:00:00Z","record":{"name":"Acme","stage":"ClosedWon","value":5}}
"#;

/// `rulec run` with the failpoint that aborts the process before its (n+1)th effect.
fn run_with_budget(dir: &Path, effects: usize, until: Option<&str>) -> Output {
    let mut args = vec![
        "run", "r.rules", "--events", "e.jsonl", "--state", "state.db",
    ];
    if let Some(t) = until {
        args.extend(["--until", t]);
    }
    Command::new(env!("CARGO_BIN_EXE_rulec"))
        .args(&args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env("RULEC_FAILPOINT_ABORT_AFTER_EFFECTS", effects.to_string())
        .output()
        .expect("rulec runs")
}

#[test]
fn a_run_killed_between_steps_resumes_from_its_state_file_without_repeating_effects() {
    let dir = project("kill", &[("r.rules", KILL_RULES), ("e.jsonl", KILL_EVENTS)]);
    // The process dies after the first Slack message, before the second.
    let killed = run_with_budget(&dir, 1, None);
    assert!(
        !killed.status.success(),
        "the failpoint should have aborted the process"
    );
    assert_eq!(stdout(&killed), "", "nothing was printed before the crash");

    // Started again on the same file, with the same stream (redelivered), and a
    // budget of two effects: a repeat of the first message would abort it.
    let resumed = run_with_budget(&dir, 2, Some("2026-03-04T00:00:00Z"));
    let out = stdout(&resumed);
    assert_eq!(resumed.status.code(), Some(0), "{out}{}", stderr(&resumed));
    assert!(
        out.contains("onboard on deals/d1 (event e1): completed"),
        "{out}"
    );
    assert!(out.contains(r#"text="third Acme""#), "{out}");
    // The crash came before any commit, so the redelivered event runs the rule again:
    // the first message is recognised by its key (journaled when it was sent).
    assert!(
        out.contains(r##"slack            already_done channel="#wins" text="first Acme""##),
        "{out}"
    );

    // And once more: nothing is due, nothing is repeated, no effect at all.
    let again = run_with_budget(&dir, 0, Some("2026-03-10T00:00:00Z"));
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(stderr(&again).contains(", 0 effects"), "{}", stderr(&again));
}

/// What a damaged journal does to the next `rulec run` on the same state.
fn rerun_after(name: &str, damage: impl Fn(&Path)) -> (Output, PathBuf) {
    let dir = project(name, &[("r.rules", KILL_RULES), ("e.jsonl", KILL_EVENTS)]);
    // Killed after the first message: the journal is all that remembers it.
    let killed = run_with_budget(&dir, 1, None);
    assert!(!killed.status.success());
    let journal = dir.join("state.db-effects");
    assert!(std::fs::read_to_string(&journal).unwrap().lines().count() >= 2);
    damage(&dir);
    (run_with_budget(&dir, 2, None), dir)
}

#[test]
fn a_damaged_or_missing_effect_journal_is_a_loud_error_not_a_silent_rerun() {
    let journal = |dir: &Path| dir.join("state.db-effects");
    type Damage = Box<dyn Fn(&Path)>;
    let cases: [(&str, &str, Damage); 4] = [
        (
            "deleted",
            "is missing",
            Box::new(move |d| std::fs::remove_file(journal(d)).unwrap()),
        ),
        (
            "emptied",
            "is empty",
            Box::new(move |d| std::fs::write(journal(d), "").unwrap()),
        ),
        (
            "cut in the middle of a line",
            "is cut short",
            Box::new(move |d| {
                let bytes = std::fs::read(journal(d)).unwrap();
                std::fs::write(journal(d), &bytes[..bytes.len() - 7]).unwrap();
            }),
        ),
        (
            "a flipped byte",
            "is damaged at line 2",
            Box::new(move |d| {
                let mut bytes = std::fs::read(journal(d)).unwrap();
                let at = bytes.len() - 5;
                bytes[at] ^= 0x01;
                std::fs::write(journal(d), bytes).unwrap();
            }),
        ),
    ];
    for (n, (what, says, damage)) in cases.into_iter().enumerate() {
        let (out, _) = rerun_after(&format!("journal-{n}"), damage);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(says), "{what}: {err}");
        assert!(err.contains("state.db-effects"), "{what}: {err}");
        assert!(err.contains("--accept-damaged-state"), "{what}: {err}");
        assert_eq!(stdout(&out), "", "{what}: nothing ran");
    }
}

#[test]
fn accepting_a_damaged_journal_goes_on_with_a_warning() {
    let (refused, dir) = rerun_after("journal-accepted", |d| {
        std::fs::remove_file(d.join("state.db-effects")).unwrap()
    });
    assert_eq!(refused.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_rulec"))
        .args([
            "run", "r.rules", "--events", "e.jsonl", "--state", "state.db",
        ])
        .arg("--accept-damaged-state")
        .current_dir(&dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: state.db: its effect journal"),
        "{}",
        stderr(&out)
    );
    // The first message was recorded only in the journal: it runs again, as warned.
    assert!(
        stdout(&out).contains(r#"text="first Acme""#),
        "{}",
        stdout(&out)
    );
    // From then on the state is whole again.
    let again = run_with_budget(&dir, 0, None);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
}

#[test]
fn a_state_file_that_is_not_a_database_or_cannot_be_written_says_so() {
    let dir = project(
        "not-a-db",
        &[("r.rules", KILL_RULES), ("e.jsonl", KILL_EVENTS)],
    );
    std::fs::write(dir.join("state.db"), "x".repeat(8192)).unwrap();
    let out = run_with_budget(&dir, 5, None);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the state file state.db is damaged"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn rulec_run_prints_json_run_records_and_rejects_bad_lines() {
    let dir = project(
        "run-json",
        &[
            ("wins.rules", ONE_LINER),
            (
                "e.jsonl",
                concat!(
                    r#"{"id":"e1","type":"record.updated","object":"deals","record_id":"d1","at":"2026-03-02T10:00:00Z","record":{"name":"Acme","stage":"ClosedWon","value":25000},"old":{"stage":"Open"}}"#,
                    "\n",
                    r#"{"id":"e2","type":"record.updated","object":"deals","record_id":"d1","at":"2026-03-02T10:00:00Z","record":{"value":"a lot"}}"#,
                    "\n"
                ),
            ),
        ],
    );
    let out = rulec(
        &dir,
        &[
            "run",
            "wins.rules",
            "--events",
            "e.jsonl",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "a rejected event fails the replay"
    );
    let records: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 1);
    let run = &records[0];
    assert_eq!(run["status"], "completed");
    assert_eq!(run["event"], "e1");
    assert_eq!(run["effects"][0]["action"], "slack");
    assert_eq!(run["effects"][0]["args"]["channel"], "#wins");
    assert_eq!(run["steps"][0]["line"], 1);
    assert!(stderr(&out).contains(
        "rejected: line 2: event `e2`: field `record.value`: expected a number, found \"a lot\""
    ));
}

#[test]
fn rulec_run_takes_the_compiled_program_and_refuses_a_damaged_or_foreign_one() {
    let event = r#"{"id":"e1","type":"record.updated","object":"deals","record_id":"d1","at":"2026-03-02T10:00:00Z","record":{"name":"Acme","stage":"ClosedWon","value":25000},"old":{"stage":"Open"}}"#;
    let dir = project("run-ir", &[("wins.rules", ONE_LINER), ("e.jsonl", event)]);
    let compiled = rulec(&dir, &["compile", "wins.rules", "-o", "wins.json"]);
    assert_eq!(compiled.status.code(), Some(0), "{}", stderr(&compiled));
    let from_rules = rulec(
        &dir,
        &[
            "run",
            "wins.rules",
            "--events",
            "e.jsonl",
            "--format",
            "json",
        ],
    );
    let from_ir = rulec(
        &dir,
        &[
            "run",
            "wins.json",
            "--events",
            "e.jsonl",
            "--format",
            "json",
        ],
    );
    assert_eq!(from_ir.status.code(), Some(0), "{}", stderr(&from_ir));
    let effects = |o: &Output| -> Vec<serde_json::Value> {
        stdout(o)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["effects"].clone())
            .collect()
    };
    assert_eq!(effects(&from_ir), effects(&from_rules));
    assert_eq!(effects(&from_ir)[0][0]["action"], "slack");

    let text = std::fs::read_to_string(dir.join("wins.json")).unwrap();
    std::fs::write(dir.join("cut.json"), &text[..text.len() / 2]).unwrap();
    let current = format!("\"format\": {}", rulec::ir::FORMAT_VERSION);
    let older = text.replacen(&current, "\"format\": 1", 1);
    assert_ne!(older, text, "the IR names its format");
    std::fs::write(dir.join("old.json"), older).unwrap();
    for (file, says) in [
        ("cut.json", "cut.json: the file is not whole JSON"),
        (
            "old.json",
            &format!(
                "compiled to IR format 1, and this rulec reads format {}: compile them again",
                rulec::ir::FORMAT_VERSION
            ),
        ),
    ] {
        let out = rulec(&dir, &["run", file, "--events", "e.jsonl"]);
        assert_eq!(out.status.code(), Some(2), "{file}");
        assert!(stderr(&out).contains(says), "{file}: {}", stderr(&out));
    }
}

#[test]
fn rulec_test_reports_like_cargo_test() {
    let passing = r##"rule big_wins
  when stage changed from Open to ClosedWon and value > 10000
  do slack "#wins" "{{name}} won"

test "a big win pings #wins"
  given deals { name: "Acme", stage: Open, value: 25000 }
  event stage changed to ClosedWon
  expect slack "#wins"
  expect no email

test "a small win stays quiet"
  given deals { name: "Tiny", stage: Open, value: 50 }
  event stage changed to ClosedWon
  expect no slack
"##;
    let dir = project("test-pass", &[("wins.rules", passing)]);
    let out = rulec(&dir, &["test"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("test wins.rules:5 \"a big win pings #wins\" ... ok"),
        "{text}"
    );
    assert!(
        text.contains("test result: ok. 2 passed; 0 failed"),
        "{text}"
    );

    let failing = passing.replace("expect no slack", "expect slack \"#losses\"");
    let dir = project("test-fail", &[("wins.rules", &failing)]);
    let out = rulec(&dir, &["test"]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("\"a small win stays quiet\" ... FAILED"),
        "{text}"
    );
    assert!(
        text.contains("test result: FAILED. 1 passed; 1 failed"),
        "{text}"
    );
    assert!(
        text.contains("#losses"),
        "the failure says what was expected: {text}"
    );
}

fn rulec_with_stdin(dir: &Path, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_rulec"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rulec runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn check_and_fmt_read_standard_input() {
    let dir = project("stdin", &[]);
    let out = rulec_with_stdin(&dir, &["check", "-"], &ONE_LINER.replace("Open", "Opn"));
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("<stdin>:1:"), "{}", stdout(&out));

    let messy = "when   stage changed to ClosedWon and value > 1 do slack \"#wins\"\n";
    let out = rulec_with_stdin(&dir, &["fmt", "-"], messy);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        stdout(&out),
        "when stage changed to ClosedWon and value > 1 do slack \"#wins\"\n"
    );
    let out = rulec_with_stdin(&dir, &["fmt", "--check", "-"], messy);
    assert_eq!(out.status.code(), Some(1));
    let out = rulec_with_stdin(&dir, &["fmt", "-"], "when stage chaged to do stop\n");
    assert_eq!(out.status.code(), Some(1), "a file it cannot format");
}

#[test]
fn quiet_and_color_work_on_every_command() {
    let dir = project("quiet", &[("wins.rules", ONE_LINER)]);
    let out = rulec(&dir, &["check", "--quiet"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(!stdout(&out).contains("checked 1 file"), "{}", stdout(&out));
    let out = rulec(&dir, &["--color", "always", "check"]);
    assert!(stdout(&out).contains('\u{1b}'), "colour when asked");
    let out = rulec(&dir, &["check", "--color", "never"]);
    assert!(!stdout(&out).contains('\u{1b}'));
    for args in [
        &["test", "-q"][..],
        &["fmt", "-q"],
        &["compile", "-q", "-o", "ir.json"],
        &["run", "-q", "--events", "none.jsonl"],
    ] {
        std::fs::write(dir.join("none.jsonl"), "").unwrap();
        let out = rulec(&dir, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).is_empty(),
            "{args:?} is quiet: {}",
            stderr(&out)
        );
    }
    let out = rulec(&dir, &["compile", "-o", "ir.json"]);
    assert!(
        stderr(&out).contains("compiled 1 rule to"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn explain_covers_checker_codes_and_suggests_names() {
    let dir = project("explain", &[]);
    let out = rulec(&dir, &["explain", "unknown-option"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("option"), "{}", stdout(&out));
    let out = rulec(&dir, &["explain", "unknown-optin"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `unknown-option`?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_misspelt_name_is_fixed_by_check_fix() {
    let text = "rule wins\n  when stage chaged to ClosedWn and valeu > 1 do slack \"#wins\"\n";
    let dir = project("fix-typos", &[("w.rules", text)]);
    rulec(&dir, &["check", "--fix"]);
    let fixed = std::fs::read_to_string(dir.join("w.rules")).unwrap();
    assert_eq!(
        fixed,
        "rule wins\n  when stage changed to ClosedWon and value > 1 do slack \"#wins\"\n"
    );
}

#[test]
fn a_schema_path_outside_the_project_or_not_rules_is_refused_without_quoting_it() {
    for schema in [
        "/proc/self/environ",
        "../outside.rules",
        "notes.txt",
        "~/.aws/credentials",
    ] {
        let dir = project(
            "schema-path",
            &[
                ("rulec.toml", &format!("schema = \"{schema}\"\n")),
                ("wins.rules", ONE_LINER),
            ],
        );
        let out = Command::new(env!("CARGO_BIN_EXE_rulec"))
            .arg("check")
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .env("RULEC_LEAK_MARKER", "leak-marker-7f3a")
            .output()
            .unwrap();
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(1), "{schema}: {text}");
        assert!(text.contains("invalid-config"), "{schema}: {text}");
        assert!(!text.contains("leak-marker-7f3a"), "{schema}: {text}");
    }
}

#[test]
fn an_event_line_over_one_mebibyte_is_rejected_and_the_stream_goes_on() {
    let big = format!(
        r#"{{"id":"e1","type":"record.updated","object":"deals","record_id":"d1","at":"2026-03-02T10:00:00Z","record":{{"name":"{}","stage":"ClosedWon","value":25000}},"old":{{"stage":"Open"}}}}"#,
        "x".repeat(1 << 20)
    );
    let ok = r#"{"id":"e2","type":"record.updated","object":"deals","record_id":"d2","at":"2026-03-02T10:01:00Z","record":{"name":"Acme","stage":"ClosedWon","value":25000},"old":{"stage":"Open"}}"#;
    let dir = project("big-line", &[("wins.rules", ONE_LINER)]);
    std::fs::write(dir.join("e.jsonl"), format!("{big}\n{ok}\n")).unwrap();
    let out = rulec(&dir, &["run", "wins.rules", "--events", "e.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("rejected: line 1: the line is"),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).contains("event e2"), "{}", stdout(&out));
}

#[test]
fn a_restart_remembers_the_streams_time_so_a_wrong_year_is_refused_first_thing() {
    let first = r#"{"id":"e1","type":"record.created","object":"deals","record_id":"d1","at":"2026-03-02T10:00:00Z","record":{"name":"Acme","stage":"Lead"}}
"#;
    let typo = r#"{"id":"e2","type":"record.updated","object":"deals","record_id":"d1","at":"2999-03-02T10:00:00Z","record":{"stage":"Open"}}
"#;
    let rules = "rule moved\n  when deals stage changed\n  do slack \"#deals\" \"{{stage}}\"\n";
    let dir = project(
        "stream-time",
        &[("r.rules", rules), ("a.jsonl", first), ("b.jsonl", typo)],
    );
    let run = |events: &str, window: &str| {
        Command::new(env!("CARGO_BIN_EXE_rulec"))
            .args(["run", "r.rules", "--state", "s.db", "--events", events])
            .args(["--clock-window", window])
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    assert_eq!(run("a.jsonl", "7").status.code(), Some(0));
    let refused = run("b.jsonl", "7");
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        stderr(&refused).contains("rejected: line 1: event `e2`: field `at`: dated 2999"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(stdout(&refused), "");
    // With the check off, the operator's choice, the event is taken.
    let taken = run("b.jsonl", "0");
    assert_eq!(taken.status.code(), Some(0), "{}", stderr(&taken));
    assert!(stdout(&taken).contains("Open"), "{}", stdout(&taken));
}

/// A CRM-like stream over the examples: records created then edited (stage moves,
/// won deals, lifecycle changes), Typeform submissions (upserts), new hires (asks).
fn crash_stream(total: usize) -> String {
    const STAGES: [&str; 7] = [
        "Lead",
        "Open",
        "Qualified",
        "Proposal",
        "Negotiation",
        "ClosedWon",
        "ClosedLost",
    ];
    const LIFECYCLE: [&str; 5] = ["Subscriber", "Lead", "MQL", "SQL", "Customer"];
    let records = 2_000;
    let start: chrono::DateTime<chrono::Utc> = "2026-03-02T09:00:00Z".parse().unwrap();
    let mut out = String::new();
    for i in 0..total {
        // Ten seconds apart: 200,000 events stay inside the 30 days of retention, so
        // a restart's replay of the whole file is recognised event by event.
        let at = (start + chrono::Duration::seconds(i as i64 * 10)).to_rfc3339();
        let r = i % records;
        let kind = if i < 3 * records {
            "record.created"
        } else {
            "record.updated"
        };
        let line = match (i % 10, i < 3 * records) {
            (7, false) => {
                let n = (i * 31) % 3_000;
                serde_json::json!({"id": format!("e{i}"), "type": "webhook", "name": "typeform",
                    "at": at, "payload": {"email": format!("u{n}@d{}.example.com", n % 700),
                    "name": format!("user {n}"), "company": format!("D{}", n % 700), "message": "hi"}})
            }
            (8, false) => serde_json::json!({"id": format!("e{i}"), "type": "list-entry.created",
                "list": "New hires", "object": "people", "record_id": format!("p{r}"), "at": at,
                "record": {"manager": "dana@acme.com", "start_date": "2026-04-01"}}),
            (k, _) if k % 3 == 0 => serde_json::json!({"id": format!("e{i}"), "type": kind,
                "object": "deals", "record_id": format!("d{r}"), "at": at,
                "record": {"name": format!("Deal {r}"), "stage": STAGES[(i / 3) % 7],
                    "value": (i * 37) % 50_000, "owner": "ana@acme.com"}}),
            (k, _) if k % 3 == 1 => serde_json::json!({"id": format!("e{i}"), "type": kind,
                "object": "people", "record_id": format!("p{r}"), "at": at,
                "record": {"name": format!("Person {r}"), "lifecycle": LIFECYCLE[(i / 3) % 5],
                    "email_addresses": [format!("p{r}@example.com")]}}),
            _ => serde_json::json!({"id": format!("e{i}"), "type": kind, "object": "companies",
                "record_id": format!("c{r}"), "at": at,
                "record": {"name": format!("Company {r}"), "employee_count": i % 5000}}),
        };
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

fn examples_run(dir: &Path, log: &str) -> std::process::Child {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    Command::new(env!("CARGO_BIN_EXE_rulec"))
        .arg("run")
        .arg(&examples)
        .args(["--events", "e.jsonl", "--state", "s.db", "--format", "json"])
        .args(["--until", "2026-04-30T00:00:00Z"])
        .current_dir(dir)
        .env("RULEC_FAILPOINT_EFFECT_LOG", dir.join(log))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// `kill -9` at random moments of a replay with `--state`, restarted each time on
/// the same files with the same stream: against one clean run, no effect is lost and
/// none is performed twice — except the one a kill cut off between the handler's
/// answer and the journal write (at most one per kill, and only the last one the
/// host saw), which an API that takes the idempotency key deduplicates.
/// `RULEC_CRASH_EVENTS` and `RULEC_CRASH_KILLS` make it longer (CI runs a short one).
#[test]
fn kill_9_at_random_points_loses_no_effect_and_repeats_none() {
    let events: usize = std::env::var("RULEC_CRASH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12_000);
    let kills: usize = std::env::var("RULEC_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let stream = crash_stream(events);
    let clean_dir = project("crash-clean", &[("e.jsonl", &stream)]);
    let started = std::time::Instant::now();
    assert!(examples_run(&clean_dir, "effects.log")
        .wait()
        .unwrap()
        .success());
    let full = started.elapsed();
    let clean = std::fs::read_to_string(clean_dir.join("effects.log")).unwrap();
    let mut expected: Vec<&str> = clean.lines().collect();
    expected.sort_unstable();
    assert!(
        expected.windows(2).all(|w| w[0] != w[1]),
        "a clean run repeats itself"
    );
    assert!(
        expected.iter().any(|l| l.starts_with("ask ")),
        "the stream asks"
    );
    assert!(
        expected.iter().any(|l| l.starts_with("upsert ")),
        "the stream upserts"
    );

    let dir = project("crash-killed", &[("e.jsonl", &stream)]);
    let log = dir.join("effects.log");
    let mut seed = u64::from(std::process::id()) ^ started.elapsed().as_nanos() as u64;
    let mut in_flight = Vec::new();
    for _ in 0..kills {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let fraction = (seed >> 33) % 1000;
        let mut child = examples_run(&dir, "effects.log");
        std::thread::sleep(full.mul_f64(fraction as f64 / 1000.0));
        let _ = child.kill();
        let _ = child.wait();
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(last) = text.lines().last() {
            in_flight.push(last.to_string());
        }
    }
    assert!(examples_run(&dir, "effects.log").wait().unwrap().success());
    let union = std::fs::read_to_string(&log).unwrap();
    let mut seen: std::collections::HashMap<&str, usize> = Default::default();
    for line in union.lines() {
        *seen.entry(line).or_default() += 1;
    }
    let lost: Vec<&&str> = expected
        .iter()
        .filter(|l| !seen.contains_key(**l))
        .collect();
    assert!(
        lost.is_empty(),
        "lost {} effects: {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
    let extra: Vec<&&str> = seen
        .keys()
        .filter(|l| expected.binary_search(l).is_err())
        .collect();
    assert!(extra.is_empty(), "effects no clean run performs: {extra:?}");
    for (line, n) in &seen {
        let allowed = 1 + in_flight.iter().filter(|l| l == line).count();
        assert!(
            *n <= allowed,
            "`{line}` performed {n} times (in flight at a kill: {})",
            allowed - 1
        );
    }
}

#[test]
fn retention_sets_how_long_a_delivery_is_remembered() {
    let stream = r#"{"id":"e1","type":"record.created","object":"deals","record_id":"d1","at":"2026-03-02T10:00:00Z","record":{"name":"Acme","stage":"Lead"}}
{"id":"e2","type":"record.created","object":"deals","record_id":"d2","at":"2026-03-07T10:00:00Z","record":{"name":"Globex","stage":"Lead"}}
{"id":"e1","type":"record.created","object":"deals","record_id":"d1","at":"2026-03-02T10:00:00Z","record":{"name":"Acme","stage":"Lead"}}
"#;
    let rules = "rule new_deal\n  when deals created\n  do slack \"#deals\" \"{{name}}\"\n";
    let dir = project("retention", &[("r.rules", rules), ("e.jsonl", stream)]);
    let run = |retention: &str| {
        Command::new(env!("CARGO_BIN_EXE_rulec"))
            .args([
                "run",
                "r.rules",
                "--events",
                "e.jsonl",
                "--retention",
                retention,
            ])
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    // Within 30 days the redelivery is recognised.
    let remembered = run("30");
    assert_eq!(remembered.status.code(), Some(0), "{}", stderr(&remembered));
    assert!(
        stdout(&remembered).contains("suppressed"),
        "{}",
        stdout(&remembered)
    );
    // Five days late with a three-day memory, it cannot be told from a new event.
    let forgotten = run("3");
    assert_eq!(forgotten.status.code(), Some(1));
    assert!(
        stderr(&forgotten).contains("line 3: event `e1`: field `at`")
            && stderr(&forgotten).contains("deliveries are remembered for 3 days"),
        "{}",
        stderr(&forgotten)
    );
    let zero = run("0");
    assert_eq!(zero.status.code(), Some(2), "{}", stderr(&zero));
}

#[test]
fn refs_finds_every_rule_that_watches_reads_or_writes_an_attribute() {
    let rules = "list \"Key accounts\" of companies\n\
                 rule won\n  on deals\n  when stage changed to ClosedWon\n  do slack \"#wins\" \"{{company.name}}\"\n\n\
                 rule own\n  on deals\n  when created and company is set\n  do\n    set company.owner = owner if empty\n    add company to list \"Key accounts\"\n\n\
                 rule renamed\n  on companies\n  when name changed\n  do note \"Renamed\" \"{{name}}\"\n\n\
                 rule key_won\n  on deals\n  when stage changed to ClosedWon and company in list \"Key accounts\"\n  do stop\n";
    let dir = project("refs", &[("a.rules", rules)]);
    let out = rulec(&dir, &["refs", "companies.name"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // Read through a deal's reference, watched by a company rule, read by its step.
    assert!(
        text.starts_with("companies.name: 3 uses in 2 rules\n"),
        "{text}"
    );
    assert!(text.contains("a.rules:5:6  reads    won"), "{text}");
    assert!(text.contains("a.rules:14:1  watches  renamed"), "{text}");
    // A write to another record is found under that record's object.
    let out = rulec(&dir, &["refs", "companies.owner", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let uses = json["uses"].as_array().unwrap();
    assert_eq!(uses.len(), 1, "{json}");
    assert_eq!(uses[0]["rule"], "own");
    assert_eq!(uses[0]["kind"], "writes");
    assert_eq!(uses[0]["line"], 11);
    let out = rulec(&dir, &["refs", "lists/Key accounts"]);
    assert!(stdout(&out).contains("writes   own"), "{}", stdout(&out));
    // `in list` reads the list.
    assert!(
        stdout(&out).contains("reads    key_won"),
        "{}",
        stdout(&out)
    );
    // A name that is not there: what there is instead, exit 2.
    let out = rulec(&dir, &["refs", "companies.nam"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `name`?"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn graph_draws_what_starts_and_what_each_rule_writes_with_loops_in_red() {
    let rules = "object people { score: number, lifecycle: status [Lead, SQL] }\n\
                 rule qualify on people when score changed do set lifecycle = SQL\n\
                 rule rescore on people when lifecycle changed do set score = score + 1\n\
                 rule welcome on people when created do slack \"#hi\"\n";
    let dir = project("graph", &[("a.rules", rules)]);
    let out = rulec(&dir, &["graph"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dot = stdout(&out);
    let id = |label: &str| -> String {
        let line = dot
            .lines()
            .find(|l| l.contains(&format!("label=\"{label}\"")))
            .unwrap_or_else(|| panic!("no node {label} in {dot}"));
        line.trim().split(' ').next().unwrap().to_string()
    };
    let (qualify, rescore, welcome) = (id("qualify"), id("rescore"), id("welcome"));
    let (lifecycle, score, created) = (
        id("people.lifecycle"),
        id("people.score"),
        id("people created"),
    );
    // The loop qualify → lifecycle → rescore → score → qualify is red; welcome is not.
    for (a, b) in [
        (&qualify, &lifecycle),
        (&lifecycle, &rescore),
        (&rescore, &score),
        (&score, &qualify),
    ] {
        assert!(
            dot.contains(&format!("{a} -> {b} [color=red];")),
            "{a} -> {b} in {dot}"
        );
    }
    assert!(dot.contains(&format!("{created} -> {welcome};")), "{dot}");
    let out = rulec(&dir, &["graph", "--format", "mermaid"]);
    let mermaid = stdout(&out);
    assert!(mermaid.starts_with("flowchart LR\n"), "{mermaid}");
    assert!(
        mermaid.contains("linkStyle 0,1,2,3 stroke:red"),
        "{mermaid}"
    );
    // SVG, drawn without Graphviz: every rule and attribute is in the picture, and the
    // loop's arrows are red.
    let out = rulec(&dir, &["graph", "--format", "svg"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let svg = stdout(&out);
    assert!(
        svg.contains("<svg") && svg.trim_end().ends_with("</svg>"),
        "{svg}"
    );
    for label in [
        "qualify",
        "rescore",
        "welcome",
        "people.lifecycle",
        "people created",
    ] {
        assert!(svg.contains(&format!(">{label}<")), "{label} in {svg}");
    }
    assert!(svg.contains("stroke=\"#ff0000ff\""), "{svg}");
}

#[test]
fn graph_svg_can_be_drawn_by_graphviz_and_says_so_when_it_is_missing() {
    let rules = "rule welcome on people when created do slack \"#hi\"\n";
    let dir = project("graph-graphviz", &[("a.rules", rules)]);
    // A stand-in `dot` that checks its argument and answers with the DOT it was given,
    // wrapped in an <svg>: the picture is what Graphviz returns, unchanged.
    let fake = dir.join("fake-dot");
    std::fs::write(
        &fake,
        "#!/bin/sh\n[ \"$1\" = -Tsvg ] || { echo \"bad args: $*\" >&2; exit 2; }\n\
         printf '<svg from-fake-dot>'; cat; printf '</svg>\\n'\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let run = |dot: &Path| {
        Command::new(env!("CARGO_BIN_EXE_rulec"))
            .args(["graph", "--format", "svg", "--renderer", "graphviz"])
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .env("RULEC_DOT", dot)
            .output()
            .expect("rulec runs")
    };
    let out = run(&fake);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let svg = stdout(&out);
    assert!(svg.starts_with("<svg from-fake-dot>digraph"), "{svg}");
    assert!(svg.contains("label=\"welcome\""), "{svg}");
    // No Graphviz: a clear error that says what to do, and no picture.
    let out = run(&dir.join("no-such-dot"));
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(
        err.contains("could not run Graphviz") && err.contains("built-in renderer"),
        "{err}"
    );
}
