//! A workspace: the rule files checked together, the schema file and `rulec.toml`.
//!
//! This is where the pipeline is assembled (parse every file, build the schema, check,
//! lint, sort), once, for the command line and the language server alike, so both
//! always report the same diagnostics.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use crate::check::{self, Checked, ProgramError, Unit};
use crate::diagnostics::Diagnostic;
use crate::lint::{self, Level, LintConfig};
use crate::source::{SourceFile, Span};
use crate::syntax::{ast, Parsed};

/// The name of the configuration file, looked for upward from the rule files.
pub const CONFIG_FILE: &str = "rulec.toml";

/// Settings from `rulec.toml`.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The directory of `rulec.toml` (paths in it are relative to this).
    pub root: Option<PathBuf>,
    /// The schema file.
    pub schema: Option<PathBuf>,
    /// Lint levels and the `[http] allow` list.
    pub lints: LintConfig,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    schema: Option<toml::Spanned<String>>,
    time_zone: Option<toml::Spanned<String>>,
    #[serde(default)]
    lints: BTreeMap<toml::Spanned<String>, toml::Spanned<String>>,
    http: Option<RawHttp>,
    // The runtime's sections, read by `rulec serve` (`serve::config`).
    #[allow(dead_code)]
    serve: Option<toml::Table>,
    #[allow(dead_code)]
    attio: Option<toml::Table>,
    #[allow(dead_code)]
    slack: Option<toml::Table>,
    #[allow(dead_code)]
    email: Option<toml::Table>,
    #[allow(dead_code)]
    actions: Option<toml::Table>,
    #[allow(dead_code)]
    webhooks: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttp {
    allow: Vec<String>,
}

impl Config {
    /// Finds `rulec.toml` in `start` or a parent directory.
    pub fn find(start: &Path) -> Option<PathBuf> {
        start
            .ancestors()
            .map(|dir| dir.join(CONFIG_FILE))
            .find(|candidate| candidate.is_file())
    }

    /// The `rulec.toml` of the project `paths` (files or directories, relative to
    /// `cwd`) belong to: found upward from each of them, so its `[http] allow` list and
    /// lint levels follow the rules wherever `rulec` is run from. With no paths (standard
    /// input alone) it is looked for from `cwd`. `Err` when the paths belong to
    /// different projects: checked together, one project's policy would apply to the
    /// other's rules.
    pub fn find_for(paths: &[PathBuf], cwd: &Path) -> Result<Option<PathBuf>, String> {
        let mut found: Option<(&Path, Option<PathBuf>)> = None;
        for path in paths {
            let config = Config::find(&project_start(&cwd.join(path)));
            match &found {
                None => found = Some((path, config)),
                Some((first, theirs)) if *theirs != config => {
                    let name = |c: &Option<PathBuf>| {
                        c.as_ref()
                            .map_or("no rulec.toml".to_string(), |c| c.display().to_string())
                    };
                    return Err(format!(
                        "{} and {} belong to different projects ({} and {}); check them separately",
                        first.display(),
                        path.display(),
                        name(theirs),
                        name(&config)
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(match found {
            Some((_, config)) => config,
            None => Config::find(cwd),
        })
    }

    /// Parses a configuration file; problems are diagnostics pointing into it.
    pub fn parse(file: &Arc<SourceFile>, root: &Path) -> (Config, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let raw: RawConfig = match toml::from_str(file.text()) {
            Ok(raw) => raw,
            Err(e) => {
                let span = e
                    .span()
                    .map_or(Span::default(), |r| Span::new(r.start, r.end));
                let message = e.message().trim_end_matches('.').to_string();
                diagnostics.push(
                    Diagnostic::error(file, "invalid-config", message, span)
                        .with_help("keys are `schema`, `time_zone`, `[lints]`, `[http] allow`, and `[serve]`, `[attio]`, `[slack]`, `[email]` for `rulec serve`"),
                );
                return (Config::default(), diagnostics);
            }
        };
        let schema = raw.schema.and_then(|s| {
            let span = Span::new(s.span().start, s.span().end);
            match schema_path(s.get_ref()) {
                Ok(()) => Some(root.join(s.into_inner())),
                Err(why) => {
                    diagnostics.push(
                        Diagnostic::error(file, "invalid-config", why, span).with_help(
                            "name a `.rules` file inside the project, relative to rulec.toml, e.g. `schema = \"schema/workspace.rules\"`",
                        ),
                    );
                    None
                }
            }
        });
        let time_zone = raw.time_zone.and_then(|z| {
            let span = Span::new(z.span().start, z.span().end);
            let name = z.into_inner();
            if name.parse::<chrono_tz::Tz>().is_ok() {
                return Some(name);
            }
            let help = crate::diagnostics::did_you_mean(
                &name,
                chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()),
            )
            .unwrap_or_else(|| {
                "use an IANA time zone name such as `America/New_York` or `Europe/Berlin`".into()
            });
            diagnostics.push(
                Diagnostic::error(
                    file,
                    "invalid-config",
                    format!("unknown time zone `{name}`"),
                    span,
                )
                .with_help(help),
            );
            None
        });
        let mut config = Config {
            root: Some(root.to_path_buf()),
            schema,
            lints: LintConfig {
                http_allow: raw.http.map(|h| h.allow),
                time_zone,
                ..LintConfig::default()
            },
        };
        for (name, level) in raw.lints {
            let name_span = Span::new(name.span().start, name.span().end);
            if lint::lint(name.get_ref()).is_none() {
                diagnostics.push(lint::unknown_lint(file, name.get_ref(), name_span));
                continue;
            }
            match Level::parse(level.get_ref()) {
                Some(l) => {
                    config.lints.levels.insert(name.into_inner(), l);
                }
                None => diagnostics.push(
                    Diagnostic::error(
                        file,
                        "invalid-config",
                        format!("`{}` is not a lint level", level.get_ref()),
                        Span::new(level.span().start, level.span().end),
                    )
                    .with_help("levels are `allow`, `info`, `warning` and `error`"),
                ),
            }
        }
        (config, diagnostics)
    }
}

/// The directory a project is looked for from: a directory itself, a file's
/// directory; resolved, so `..` and links lead where the file is.
fn project_start(path: &Path) -> PathBuf {
    let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    if path.is_dir() {
        return path;
    }
    path.parent().map_or(path.clone(), Path::to_path_buf)
}

/// Why a `schema` path in `rulec.toml` is refused, if it is: it must be a `.rules`
/// file inside the project, so a checked-in config can never make `rulec check` print
/// another file (`/proc/self/environ`, `~/.aws/credentials`) into a CI log.
pub fn schema_path(path: &str) -> Result<(), String> {
    let p = Path::new(path);
    if p.is_absolute() || path.starts_with('~') {
        return Err(format!(
            "`{path}` is not inside the project: the schema path must be relative to rulec.toml"
        ));
    }
    if p.components()
        .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Err(format!("`{path}` reaches above the project (`..`)"));
    }
    if p.extension().is_none_or(|e| e != "rules") {
        return Err(format!("`{path}` is not a `.rules` file"));
    }
    Ok(())
}

/// Reads a file into a unit. Text that is not UTF-8 becomes a diagnostic at the first
/// bad byte instead of a parse of half a file.
pub fn load(path: &Path, display: &str) -> std::io::Result<Unit> {
    let bytes = std::fs::read(path)?;
    Ok(unit_from_bytes(display, bytes))
}

/// A unit from raw bytes (see [`load`]).
pub fn unit_from_bytes(display: &str, bytes: Vec<u8>) -> Unit {
    match String::from_utf8(bytes) {
        Ok(text) => Unit::parse(SourceFile::new(display, text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let file = SourceFile::new(display, text);
            let diagnostic = Diagnostic::error(
                &file,
                "invalid-encoding",
                "this file is not valid UTF-8",
                Span::new(at, at + 1),
            )
            .with_help("save the file as UTF-8");
            Unit {
                file,
                parsed: Parsed {
                    document: ast::Document::default(),
                    diagnostics: vec![diagnostic],
                },
            }
        }
    }
}

/// Every `*.rules` file under the given paths (files are taken as given), sorted so
/// output does not depend on directory order.
pub fn collect(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut out)?;
        } else if path.exists() {
            out.push(path.clone());
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{}: no such file or directory", path.display()),
            ));
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.') || n == "target" || n == "node_modules");
        if hidden {
            continue;
        }
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "rules") {
            out.push(path);
        }
    }
    Ok(())
}

/// Everything known after checking and linting a workspace.
#[derive(Debug)]
pub struct Analysis {
    /// The files, in the order given.
    pub units: Vec<Unit>,
    /// The checked rules and schema.
    pub checked: Checked,
    /// Syntax, type and lint diagnostics, sorted by file and position.
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    /// The program to run, or [`ProgramError`] when any diagnostic is an error —
    /// a type error, a syntax error, or a lint set to `error` (`rule-cycle`).
    ///
    /// ```
    /// let analysis = rulec::workspace::analyze_text("wins.rules", "when stage changed to Opn do slack \"#wins\"");
    /// assert!(analysis.program().is_err());
    /// ```
    pub fn program(&self) -> Result<crate::ir::Program, ProgramError> {
        let errors = self
            .diagnostics
            .iter()
            .filter(|d| d.severity == crate::diagnostics::Severity::Error)
            .count();
        ProgramError::check(errors)?;
        Ok(self.checked.program_unchecked(&self.units))
    }
}

/// Applies the workspace settings a checked rule carries into the IR (its time zone),
/// as [`analyze`] does for every rule; for a rule checked on its own.
pub fn configure(rule: &mut crate::ir::Rule, config: &LintConfig) {
    rule.zone.clone_from(&config.time_zone);
}

/// Checks and lints `units` together under `config`.
pub fn analyze(units: Vec<Unit>, config: &LintConfig) -> Analysis {
    let mut checked = check::check(&units);
    checked.http_allow = config.http_allow.clone();
    for rule in &mut checked.rules {
        configure(rule, config);
    }
    let mut diagnostics = std::mem::take(&mut checked.diagnostics);
    diagnostics.extend(lint::run(&units, &checked, config));
    check::sort_diagnostics(&units, &mut diagnostics);
    Analysis {
        units,
        checked,
        diagnostics,
    }
}

/// Checks one text against the prelude, as `rulec check` would check a lone file.
pub fn analyze_text(name: &str, text: &str) -> Analysis {
    let unit = Unit::parse(SourceFile::new(name, text));
    analyze(vec![unit], &LintConfig::default())
}
