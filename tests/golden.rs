//! Data-driven tests: each case is a file beside its expected output.
//!
//! - `tests/data/check/*.rules`: the diagnostics `rulec check` prints for the file
//!   (checked alone against the prelude), in `*.snap` beside it.
//! - `tests/data/fmt/*.rules`: the formatted file, in `*.snap` beside it; formatting
//!   must also be idempotent and keep the file's diagnostics.
//! - `tests/data/run/*.rules` with the event stream `*.jsonl` beside it: what
//!   `rulec run` prints (the run history, then the summary and any rejected events).
//!   A line `# until: <time>` in the rules file moves time on after the stream.
//! - `tests/data/test/*.rules`: what `rulec test` prints for the file's test blocks.
//! - `tests/data/workspace/<folder>/rulec.toml`: a multi-file workspace; what
//!   `rulec check` and `rulec test` print in that folder, in `<folder>.snap`.
//!
//! Regenerate every expectation with `INSTA_UPDATE=always cargo test --test golden`.
//!
//! Cases about one lint are named `lint-<name>.rules` and see every lint at its default
//! level; other cases are about the language, and run with the ownership lints
//! (`missing-owner`, `missing-description`) allowed so they stay on their subject.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use datatest_stable::Utf8Path;
use rulec::check::Unit;
use rulec::lint::{Level, LintConfig};
use rulec::source::SourceFile;
use rulec::workspace::{analyze, analyze_text};

fn snapshot(path: &Utf8Path, contents: &str) {
    let dir = path.parent().map(Utf8Path::to_path_buf).unwrap_or_default();
    let name = path.file_stem().unwrap_or("case").to_string();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir.as_std_path()),
    );
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_input_file(path.as_std_path());
    settings.bind(|| insta::assert_snapshot!(name, contents));
}

fn check_case(path: &Utf8Path, text: String) -> datatest_stable::Result<()> {
    let name = path.file_name().unwrap_or("case.rules");
    let mut config = LintConfig::default();
    if !name.starts_with("lint-") {
        for lint in ["missing-owner", "missing-description"] {
            config.levels.insert(lint.to_string(), Level::Allow);
        }
    }
    let unit = Unit::parse(SourceFile::new(name, text.as_str()));
    let analysis = analyze(vec![unit], &config);
    let rendered = rulec::diagnostics::render_human(&analysis.diagnostics, false);
    let output = if rendered.is_empty() {
        "no diagnostics\n".to_string()
    } else {
        rendered
    };
    snapshot(path, &output);
    Ok(())
}

fn fmt_case(path: &Utf8Path, text: String) -> datatest_stable::Result<()> {
    let name = path.file_name().unwrap_or("case.rules");
    let before = analyze_text(name, &text);
    let formatted = rulec::format::format_document(&text, &before.units[0].parsed.document);
    let after = analyze_text(name, &formatted);
    let again = rulec::format::format_document(&formatted, &after.units[0].parsed.document);
    if again != formatted {
        return Err(format!(
            "formatting is not idempotent:\n--- once\n{formatted}\n--- twice\n{again}"
        )
        .into());
    }
    let codes = |a: &rulec::workspace::Analysis| -> Vec<(String, String)> {
        let mut v: Vec<_> = a
            .diagnostics
            .iter()
            .map(|d| (d.code.to_string(), d.message.clone()))
            .collect();
        v.sort();
        v
    };
    if codes(&before) != codes(&after) {
        return Err(format!(
            "formatting changed the diagnostics: {:?} vs {:?}",
            codes(&before),
            codes(&after)
        )
        .into());
    }
    snapshot(path, &formatted);
    Ok(())
}

/// The secrets run cases see, and what of them must never be printed: any casing of
/// either (`upper`, `capitalize` …), and the domain of the second.
const SECRETS: [(&str, &str); 2] = [
    ("RULEC_TEST_SECRET", "s3cr3t-value"),
    (
        "RULEC_TEST_EMAIL_SECRET",
        " Agent.Smith@S3cr3t-Host.Example ",
    ),
];
const SECRET_TRACES: [&str; 3] = ["s3cr3t-value", "agent.smith", "s3cr3t-host"];

/// `rulec run` on a case, in `format`; stdout, stderr and the exit code.
fn replay(path: &Utf8Path, text: &str, format: &str) -> datatest_stable::Result<[String; 3]> {
    let events = path.with_extension("jsonl");
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rulec"));
    command
        .current_dir(
            path.parent()
                .map(Utf8Path::as_std_path)
                .unwrap_or(".".as_ref()),
        )
        .arg("run")
        .arg(path.file_name().unwrap_or_default())
        .arg("--events")
        .arg(events.file_name().unwrap_or_default())
        .args(["--format", format])
        .envs(SECRETS)
        .env("RULEC_SHORT_SECRET", "t");
    if let Some(until) = text.lines().find_map(|l| l.strip_prefix("# until: ")) {
        command.arg("--until").arg(until.trim());
    }
    let output = command.output()?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let printed = format!("{stdout}{stderr}").to_lowercase();
    if let Some(trace) = SECRET_TRACES.iter().find(|t| printed.contains(*t)) {
        return Err(format!("a secret reached the {format} output (`{trace}`)").into());
    }
    let code = output.status.code().unwrap_or(-1);
    Ok([stdout, stderr, code.to_string()])
}

fn run_case(path: &Utf8Path, text: String) -> datatest_stable::Result<()> {
    // JSON carries what human output leaves out (step outputs): it must be clean too.
    replay(path, &text, "json")?;
    let [stdout, stderr, code] = replay(path, &text, "human")?;
    snapshot(path, &format!("{stdout}---\n{stderr}exit {code}\n"));
    Ok(())
}

fn test_case(path: &Utf8Path, _text: String) -> datatest_stable::Result<()> {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_rulec"))
        .current_dir(
            path.parent()
                .map(Utf8Path::as_std_path)
                .unwrap_or(".".as_ref()),
        )
        .arg("test")
        .arg(path.file_name().unwrap_or_default())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code().unwrap_or(-1);
    snapshot(path, &format!("{stdout}---\n{stderr}exit {code}\n"));
    Ok(())
}

/// A workspace folder, checked and tested as `rulec check` and `rulec test` run in it:
/// every file together, `rulec.toml` and its schema file honoured.
fn workspace_case(path: &Utf8Path, _text: String) -> datatest_stable::Result<()> {
    let dir = path.parent().unwrap_or(path);
    let run = |args: &[&str]| -> std::io::Result<String> {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_rulec"))
            .current_dir(dir.as_std_path())
            .args(args)
            .env("NO_COLOR", "1")
            .output()?;
        Ok(format!(
            "$ rulec {}\n{}{}exit {}\n",
            args.join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            output.status.code().unwrap_or(-1)
        ))
    };
    let mut contents = run(&["check"])?;
    contents.push_str(&run(&["test"])?);
    snapshot(dir, &contents);
    Ok(())
}

datatest_stable::harness! {
    { test = check_case, root = "tests/data/check", pattern = r"\.rules$" },
    { test = fmt_case, root = "tests/data/fmt", pattern = r"\.rules$" },
    { test = run_case, root = "tests/data/run", pattern = r"\.rules$" },
    { test = test_case, root = "tests/data/test", pattern = r"\.rules$" },
    { test = workspace_case, root = "tests/data/workspace", pattern = r"rulec\.toml$" },
}
