//! The `rulec` command line. Exit codes never change meaning: 0 clean, 1 problems
//! found (or files to reformat with `--check`), 2 usage or I/O errors.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

mod run;
#[cfg(feature = "serve")]
mod serve;
mod test;

use crate::diagnostics::{self, Diagnostic, Severity, Summary};
use crate::lint::{self, LINTS};
use crate::source::SourceFile;
use crate::workspace::{self, Config};

/// rulec: check, format and compile CRM automation rules.
#[derive(Parser, Debug)]
#[command(name = "rulec", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: Global,
}

/// Options every command takes.
#[derive(clap::Args, Debug, Clone, Copy)]
struct Global {
    /// Colour in human output (`auto`: when writing to a terminal and `NO_COLOR` is unset).
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    /// Print only problems: no summaries, no progress, no "formatted …" lines.
    #[arg(short, long, global = true)]
    quiet: bool,
}

impl Global {
    /// Whether to colour what goes to stdout (`false`) or stderr (`true`).
    fn color(&self, stderr: bool) -> bool {
        match self.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => {
                let terminal = if stderr {
                    std::io::stderr().is_terminal()
                } else {
                    std::io::stdout().is_terminal()
                };
                terminal && std::env::var_os("NO_COLOR").is_none()
            }
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Parse, type-check and lint rule files.
    Check(CheckArgs),
    /// Rewrite rule files in the canonical layout.
    Fmt(FmtArgs),
    /// Write the checked IR as JSON.
    Compile(CompileArgs),
    /// Every rule that watches, reads or writes an attribute (`deals.stage`), or uses a
    /// list, team, webhook or action (`lists/<name>`, `teams/…`, `webhooks/…`, `actions/…`).
    Refs(RefsArgs),
    /// A picture of the rules: what starts each one, what each writes, loops in red.
    Graph(GraphArgs),
    /// List every lint with its default level.
    Lints,
    /// Replay a JSONL stream of events through the engine with dry-run handlers.
    Run(run::RunArgs),
    /// Run the `test` blocks of rule files.
    Test(test::TestArgs),
    /// Run the rules against a live Attio workspace: webhooks in, effects out.
    #[cfg(feature = "serve")]
    Serve(serve::ServeArgs),
    /// The workspace schema: `rulec schema pull` reads it from Attio.
    #[cfg(feature = "serve")]
    #[command(subcommand)]
    Schema(serve::SchemaCommand),
    /// Explain a lint or a diagnostic code (`unknown-option`, `type-mismatch`, …).
    Explain {
        /// The lint or code, e.g. `unconditioned-trigger` or `unknown-attribute`.
        lint: String,
    },
}

#[derive(clap::Args, Debug)]
struct Inputs {
    /// Files or directories (searched for `*.rules`); defaults to the current directory.
    /// `-` reads one file from standard input.
    paths: Vec<PathBuf>,
    /// A schema file extending the built-in objects (overrides `schema` in rulec.toml).
    #[arg(long)]
    schema: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct CheckArgs {
    #[command(flatten)]
    inputs: Inputs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Treat warnings as errors for the exit code (`--deny warnings`).
    #[arg(long, value_name = "warnings", value_parser = ["warnings"])]
    deny: Option<String>,
    /// Apply the fixes that keep behaviour, then report what is left.
    #[arg(long)]
    fix: bool,
    /// With `--fix`, also apply fixes that change behaviour (e.g. add an import guard).
    #[arg(long, requires = "fix")]
    unsafe_fixes: bool,
}

#[derive(clap::Args, Debug)]
struct FmtArgs {
    /// Files or directories; defaults to the current directory. `-` formats standard
    /// input to standard output.
    paths: Vec<PathBuf>,
    /// Change nothing; exit 1 if any file would be reformatted.
    #[arg(long)]
    check: bool,
}

#[derive(clap::Args, Debug)]
struct CompileArgs {
    #[command(flatten)]
    inputs: Inputs,
    /// Where to write the IR (`-` or absent: standard output).
    #[arg(short, long)]
    output: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct RefsArgs {
    /// What to look for: `deals.stage`, `lists/Key accounts`, `teams/sdr`,
    /// `webhooks/typeform` or `actions/pagerduty`.
    target: String,
    #[command(flatten)]
    inputs: Inputs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = RefsFormat::Human)]
    format: RefsFormat,
}

#[derive(clap::Args, Debug)]
struct GraphArgs {
    #[command(flatten)]
    inputs: Inputs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,
    /// What lays out `--format svg`: the built-in renderer, or Graphviz's `dot` (on
    /// PATH, or named by `RULEC_DOT`), whose layout is tidier on large graphs.
    #[arg(long, value_enum, default_value_t = Renderer::Builtin)]
    renderer: Renderer,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Renderer {
    /// Pure Rust (`layout-rs`): works everywhere, nothing to install.
    Builtin,
    /// Graphviz's `dot -Tsvg`.
    Graphviz,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum GraphFormat {
    /// Graphviz (`dot -Tsvg`).
    Dot,
    /// A Mermaid flowchart, for Markdown.
    Mermaid,
    /// An SVG picture, laid out in pure Rust (no Graphviz needed).
    Svg,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum RefsFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    Human,
    Json,
    Sarif,
    Github,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Color {
    Auto,
    Always,
    Never,
}

/// Runs the command line.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let global = cli.global;
    let result = match cli.command {
        Command::Check(args) => check(args, global),
        Command::Fmt(args) => fmt(args, global),
        Command::Compile(args) => compile(args, global),
        Command::Refs(args) => refs(args, global),
        Command::Graph(args) => graph(args, global),
        Command::Run(args) => run::run(args, global),
        Command::Test(args) => test::test(args, global),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::serve(args, global),
        #[cfg(feature = "serve")]
        Command::Schema(command) => serve::schema(command, global),
        Command::Lints => {
            print!("{}", lint_table());
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { lint } => explain(&lint),
    };
    result.unwrap_or_else(|message| {
        eprintln!("error: {message}");
        ExitCode::from(2)
    })
}

type CliResult = Result<ExitCode, String>;

/// What `check` and `compile` share: load config, schema and files, then analyze.
/// Each file's display name and the path it was read from.
type Sources = Vec<(String, PathBuf)>;

fn analyze(inputs: &Inputs) -> Result<(workspace::Analysis, Vec<Diagnostic>), String> {
    analyze_with_sources(inputs).map(|(analysis, extra, _)| (analysis, extra))
}

fn analyze_with_sources(
    inputs: &Inputs,
) -> Result<(workspace::Analysis, Vec<Diagnostic>, Sources), String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let paths = if inputs.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        inputs.paths.clone()
    };
    let stdin = paths.iter().any(|p| p.as_os_str() == "-");
    let files_on_disk: Vec<PathBuf> = paths.into_iter().filter(|p| p.as_os_str() != "-").collect();
    let mut extra = Vec::new();
    let mut config = Config::default();
    if let Some(path) = Config::find_for(&files_on_disk, &cwd)? {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file = SourceFile::new(display(&cwd, &path), text);
        let root = path.parent().unwrap_or(&cwd).to_path_buf();
        let (parsed, diagnostics) = Config::parse(&file, &root);
        config = parsed;
        extra.extend(diagnostics);
    }
    if let Some(schema) = &inputs.schema {
        if schema.extension().is_none_or(|e| e != "rules") {
            return Err(format!(
                "--schema {}: a schema file is a `.rules` file",
                schema.display()
            ));
        }
    }
    let schema = inputs.schema.clone().or(config.schema.clone());
    let mut files = if files_on_disk.is_empty() && stdin {
        Vec::new()
    } else {
        workspace::collect(&files_on_disk).map_err(|e| e.to_string())?
    };
    let mut units = Vec::new();
    if let Some(schema) = schema {
        if !schema.is_file() {
            return Err(format!("schema file {} not found", schema.display()));
        }
        files.retain(|f| !same_file(f, &schema));
        files.insert(0, schema);
    }
    let mut sources = Vec::with_capacity(files.len());
    for file in files {
        let unit = load(&cwd, &file)?;
        sources.push((unit.file.name().to_string(), file));
        units.push(unit);
    }
    if stdin {
        units.push(workspace::unit_from_bytes(STDIN_NAME, read_stdin()?));
    }
    let analysis = workspace::analyze(units, &config.lints);
    Ok((analysis, extra, sources))
}

/// How standard input is named in diagnostics.
const STDIN_NAME: &str = "<stdin>";

fn read_stdin() -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
        .map_err(|e| format!("standard input: {e}"))?;
    Ok(bytes)
}

fn load(cwd: &Path, path: &Path) -> Result<crate::check::Unit, String> {
    workspace::load(path, &display(cwd, path)).map_err(|e| format!("{}: {e}", path.display()))
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A path as shown to people: relative to the working directory when inside it.
fn display(cwd: &Path, path: &Path) -> String {
    let absolute = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let shown = absolute
        .strip_prefix(cwd)
        .map(Path::to_path_buf)
        .unwrap_or(absolute);
    shown.to_string_lossy().replace('\\', "/")
}

fn check(args: CheckArgs, global: Global) -> CliResult {
    if args.fix {
        if args.inputs.paths.iter().any(|p| p.as_os_str() == "-") {
            return Err("--fix rewrites files; it cannot fix standard input".into());
        }
        let fixed = fix_files(&args.inputs, args.unsafe_fixes)?;
        if !global.quiet {
            eprintln!("fixed {fixed} problem{}", if fixed == 1 { "" } else { "s" });
        }
    }
    let (analysis, mut diagnostics) = analyze(&args.inputs)?;
    diagnostics.extend(analysis.diagnostics);
    let summary = Summary::of(analysis.units.len(), &diagnostics);
    // The process ends right after printing: freeing every tree would only cost time.
    std::mem::forget((analysis.units, analysis.checked));
    let output = match args.format {
        Format::Human => {
            let mut text = diagnostics::render_human(&diagnostics, global.color(false));
            if !global.quiet {
                text.push_str(&summary_line(&summary));
            }
            text
        }
        Format::Json => diagnostics::render_json(&diagnostics, summary) + "\n",
        // Hints are nudges for the editor; CI annotations carry infos and up.
        Format::Sarif => {
            diagnostics::render_sarif(&without_hints(&diagnostics), &|code| {
                lint::lint(code).map(|l| l.summary.to_string())
            }) + "\n"
        }
        Format::Github => diagnostics::render_github(&without_hints(&diagnostics)),
    };
    write_stdout(&output)?;
    let deny_warnings = args.deny.is_some();
    let failed = summary.errors > 0 || (deny_warnings && summary.warnings > 0);
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Applies fixes until none applies (a fix can make room for an overlapping one),
/// at most a few rounds. Returns how many fixes were applied.
fn fix_files(inputs: &Inputs, unsafe_fixes: bool) -> Result<usize, String> {
    let mut total = 0;
    for _ in 0..4 {
        let (analysis, _, sources) = analyze_with_sources(inputs)?;
        let mut by_file: std::collections::BTreeMap<
            &str,
            (&SourceFile, Vec<&crate::diagnostics::Fix>),
        > = Default::default();
        for d in &analysis.diagnostics {
            let Some(fix) = &d.fix else { continue };
            if fix.safety == crate::diagnostics::Safety::ChangesBehaviour && !unsafe_fixes {
                continue;
            }
            by_file
                .entry(d.file.name())
                .or_insert((&d.file, Vec::new()))
                .1
                .push(fix);
        }
        let mut round = 0;
        for (name, (file, fixes)) in by_file {
            let (text, applied) = crate::diagnostics::apply_fixes(file.text(), &fixes);
            // Write to the path the file was read from: display names are for people.
            let Some((_, path)) = sources.iter().find(|(shown, _)| shown == name) else {
                continue;
            };
            if applied > 0 {
                std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
                round += applied;
            }
        }
        total += round;
        if round == 0 {
            break;
        }
    }
    Ok(total)
}

fn without_hints(diagnostics: &[Diagnostic]) -> Vec<Diagnostic> {
    diagnostics
        .iter()
        .filter(|d| d.severity > Severity::Hint)
        .cloned()
        .collect()
}

fn summary_line(summary: &Summary) -> String {
    let mut counts = vec![
        plural(summary.errors, "error"),
        plural(summary.warnings, "warning"),
    ];
    for (n, word) in [(summary.infos, "info"), (summary.hints, "hint")] {
        if n > 0 {
            counts.push(plural(n, word));
        }
    }
    format!(
        "checked {}: {}\n",
        plural(summary.files, "file"),
        counts.join(", ")
    )
}

/// `1 rule`, `2 rules`.
pub(crate) fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The program to run: read from the one `.json` file `rulec compile` wrote, or
/// checked from rule files (see [`checked_analysis`]).
fn checked_program(
    inputs: &Inputs,
    what: &str,
    global: Global,
) -> Result<Result<crate::ir::Program, ExitCode>, String> {
    if let [path] = inputs.paths.as_slice() {
        if path.extension().is_some_and(|e| e == "json") {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            return crate::ir::Program::from_json(&text)
                .map(Ok)
                .map_err(|e| format!("{}: {e}", path.display()));
        }
    }
    let analysis = match checked_analysis(inputs, what, global)? {
        Ok(analysis) => analysis,
        Err(code) => return Ok(Err(code)),
    };
    analysis.program().map(Ok).map_err(|e| e.to_string())
}

/// Analyzes and insists on no errors: rules with errors cannot compile or run.
/// `Err(code)` after printing the errors.
fn checked_analysis(
    inputs: &Inputs,
    what: &str,
    global: Global,
) -> Result<Result<workspace::Analysis, ExitCode>, String> {
    let (analysis, mut diagnostics) = analyze(inputs)?;
    diagnostics.extend(analysis.diagnostics.iter().cloned());
    let errors: Vec<Diagnostic> = diagnostics
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if !errors.is_empty() {
        eprint!("{}", diagnostics::render_human(&errors, global.color(true)));
        eprintln!("error: not {what}: {}", plural(errors.len(), "error"));
        return Ok(Err(ExitCode::from(1)));
    }
    Ok(Ok(analysis))
}

fn compile(args: CompileArgs, global: Global) -> CliResult {
    let analysis = match checked_analysis(&args.inputs, "compiled", global)? {
        Ok(analysis) => analysis,
        Err(code) => return Ok(code),
    };
    let program = analysis.program().map_err(|e| e.to_string())?;
    let json = serde_json::to_string_pretty(&program).map_err(|e| e.to_string())? + "\n";
    match args.output.as_deref() {
        None => write_stdout(&json)?,
        Some(path) if path == Path::new("-") => write_stdout(&json)?,
        Some(path) => {
            std::fs::write(path, json).map_err(|e| format!("{}: {e}", path.display()))?;
            if !global.quiet {
                eprintln!(
                    "compiled {} to {}",
                    plural(program.rules.len(), "rule"),
                    path.display()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `rulec refs`: the uses of an attribute, list, team, webhook or action. Rules with
/// errors are left out (said on standard error); the rest are searched.
fn refs(args: RefsArgs, global: Global) -> CliResult {
    let (analysis, _) = analyze(&args.inputs)?;
    let program = analysis.checked.program_unchecked(&analysis.units);
    let target = match crate::refs::parse_target(&args.target, &program.schema) {
        Ok(target) => target,
        Err(message) => {
            eprintln!("error: {message}");
            return Ok(ExitCode::from(2));
        }
    };
    let errors = analysis.checked.errors;
    if errors > 0 && !global.quiet {
        eprintln!(
            "note: the rules have {}; rules with errors are not searched (`rulec check` shows them)",
            plural(errors, "error")
        );
    }
    let uses = crate::refs::find(&program, &target);
    let text = match args.format {
        RefsFormat::Json => {
            let json = serde_json::json!({ "target": args.target, "uses": uses });
            serde_json::to_string_pretty(&json).map_err(|e| e.to_string())? + "\n"
        }
        RefsFormat::Human => {
            let rules = {
                let mut ids: Vec<&str> = uses.iter().map(|u| u.rule.as_str()).collect();
                ids.dedup();
                ids.len()
            };
            let mut out = format!(
                "{}: {} in {}\n",
                args.target,
                plural(uses.len(), "use"),
                plural(rules, "rule")
            );
            for u in &uses {
                out.push_str(&format!(
                    "  {}:{}:{}  {:<8} {}\n",
                    u.file,
                    u.line,
                    u.column,
                    u.kind.as_str(),
                    u.rule
                ));
            }
            out
        }
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

/// `rulec graph`: the rules as DOT or Mermaid. Rules with errors are left out.
fn graph(args: GraphArgs, global: Global) -> CliResult {
    let (analysis, _) = analyze(&args.inputs)?;
    let errors = analysis.checked.errors;
    if errors > 0 && !global.quiet {
        eprintln!(
            "note: the rules have {}; rules with errors are not drawn (`rulec check` shows them)",
            plural(errors, "error")
        );
    }
    let graph = crate::graph::build(&analysis.checked.program_unchecked(&analysis.units));
    write_stdout(&match args.format {
        GraphFormat::Dot => graph.dot(),
        GraphFormat::Mermaid => graph.mermaid(),
        GraphFormat::Svg if args.renderer == Renderer::Graphviz => graphviz_svg(&graph.dot())?,
        GraphFormat::Svg => svg(&graph.dot())?,
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The DOT text drawn as SVG by `layout-rs`. Its layout code asserts on shapes of
/// graph it does not expect: a panic there is an error of this command, not a crash.
fn svg(dot: &str) -> Result<String, String> {
    use layout::backends::svg::SVGWriter;
    use layout::gv::{DotParser, GraphBuilder};
    let draw = || {
        let graph = DotParser::new(dot).process().ok()?;
        let mut builder = GraphBuilder::new();
        builder.visit_graph(&graph);
        let mut visual = builder.get();
        let mut writer = SVGWriter::new();
        visual.do_it(false, false, false, &mut writer);
        Some(writer.finalize())
    };
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let drawn = std::panic::catch_unwind(draw);
    std::panic::set_hook(hook);
    match drawn {
        Ok(Some(svg)) => Ok(svg),
        _ => Err("the graph could not be laid out as SVG; `rulec graph --format dot | dot -Tsvg` draws it with Graphviz".into()),
    }
}

/// The DOT text drawn as SVG by Graphviz's `dot`.
fn graphviz_svg(dot: &str) -> Result<String, String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let program = std::env::var_os("RULEC_DOT").unwrap_or_else(|| "dot".into());
    let shown = program.to_string_lossy().into_owned();
    let mut child = Command::new(&program)
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "could not run Graphviz (`{shown}`): {e}; install Graphviz (it provides `dot`), or leave out `--renderer graphviz` to draw with the built-in renderer"
            )
        })?;
    // Written from another thread: `dot` may fill its output pipe before it has read
    // all of a large graph.
    let mut stdin = child
        .stdin
        .take()
        .ok_or("Graphviz's input could not be opened")?;
    let input = dot.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .map_err(|e| format!("Graphviz (`{shown}`) failed: {e}"))?;
    let written = writer
        .join()
        .map_err(|_| "writing to Graphviz failed".to_string())?;
    if !output.status.success() {
        let why = String::from_utf8_lossy(&output.stderr);
        return Err(format!(
            "Graphviz (`{shown}`) failed ({}): {}",
            output.status,
            why.trim()
        ));
    }
    written.map_err(|e| format!("writing to Graphviz (`{shown}`) failed: {e}"))?;
    String::from_utf8(output.stdout)
        .map_err(|_| format!("Graphviz (`{shown}`) wrote SVG that is not UTF-8"))
}

fn fmt(args: FmtArgs, global: Global) -> CliResult {
    let cwd = std::env::current_dir().map_err(|e| e.to_string())?;
    if args.paths.iter().any(|p| p.as_os_str() == "-") {
        if args.paths.len() > 1 {
            return Err("`-` formats standard input alone; give no other paths".into());
        }
        return fmt_stdin(args.check);
    }
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths
    };
    let files = workspace::collect(&paths).map_err(|e| e.to_string())?;
    let mut changed = 0;
    let mut unformattable = 0;
    for path in &files {
        let unit = load(&cwd, path)?;
        let formatted = match formatted(&unit) {
            Ok(text) => text,
            Err(text) => {
                unformattable += 1;
                text
            }
        };
        if formatted == unit.file.text() {
            continue;
        }
        changed += 1;
        if args.check {
            println!("would reformat {}", unit.file.name());
        } else {
            std::fs::write(path, formatted).map_err(|e| format!("{}: {e}", path.display()))?;
            if !global.quiet {
                println!("formatted {}", unit.file.name());
            }
        }
    }
    // A file with syntax errors is only partly formatted: `--check` cannot vouch for it.
    if (args.check && changed > 0) || unformattable > 0 {
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The canonical text of a unit; `Err` (with what could be formatted) when items with
/// syntax errors had to be left as written. Says so on stderr.
fn formatted(unit: &crate::check::Unit) -> Result<String, String> {
    let name = unit.file.name();
    if unit
        .parsed
        .diagnostics
        .iter()
        .any(|d| d.code == "invalid-encoding")
    {
        eprintln!("error: {name} is not valid UTF-8; not formatted");
        return Err(unit.file.text().to_string());
    }
    let text = crate::format::format_document(unit.file.text(), &unit.parsed.document);
    if unit.parsed.diagnostics.is_empty() {
        return Ok(text);
    }
    let at = unit.parsed.diagnostics[0].start();
    eprintln!(
        "error: {name}:{}:{}: syntax errors; those items were left as written (`rulec check {name}` shows them)",
        at.line, at.column
    );
    Err(text)
}

fn fmt_stdin(check: bool) -> CliResult {
    let unit = workspace::unit_from_bytes(STDIN_NAME, read_stdin()?);
    let (text, clean) = match formatted(&unit) {
        Ok(text) => (text, true),
        Err(text) => (text, false),
    };
    let changed = text != unit.file.text();
    if check {
        if changed {
            println!("would reformat {STDIN_NAME}");
        }
    } else {
        write_stdout(&text)?;
    }
    Ok(if !clean || (check && changed) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The `rulec lints` table.
pub fn lint_table() -> String {
    let width = LINTS.iter().map(|l| l.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for lint in LINTS {
        out.push_str(&format!(
            "{:width$}  {:7}  {}\n",
            lint.name,
            lint.default.as_str(),
            lint.summary
        ));
    }
    out
}

fn explain(name: &str) -> CliResult {
    use crate::diagnostics::codes;
    if let Some(lint) = lint::lint(name) {
        write_stdout(&format!(
            "{}\nDefault level: {}\n",
            lint.docs.trim_start(),
            lint.default.as_str()
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(code) = codes::code(name) {
        write_stdout(&format!(
            "# {}\n\n{}.\n\n{}",
            code.name, code.summary, code.docs
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let names = LINTS
        .iter()
        .map(|l| l.name)
        .chain(codes::CODES.iter().map(|c| c.name));
    let hint = crate::diagnostics::did_you_mean(name, names).unwrap_or_else(|| {
        "`rulec lints` lists every lint; every code a diagnostic shows can be explained".into()
    });
    Err(format!("there is no lint or code called `{name}`; {hint}"))
}

fn write_stdout(text: &str) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => Ok(()),
        // A closed pipe (`rulec check | head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}
