//! One document analysed the way `rulec check <file>` analyses it.
//!
//! The CLI reads `rulec.toml` (lint levels, `[http] allow`, the schema file), puts the
//! schema file first and checks it together with the file, then lints. This module does
//! the same for an open document, going through `rulec::workspace::analyze` like the
//! CLI, so the two cannot disagree.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rulec::check::Unit;
use rulec::diagnostics::Diagnostic;
use rulec::lint::LintConfig;
use rulec::source::{LineIndex, SourceFile};
use rulec::syntax::ast;
use rulec::workspace::{self, Analysis, Config};

/// What `rulec.toml` says for a document, read when it is opened or saved.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    /// Lint levels and the `[http] allow` list.
    pub lints: LintConfig,
    /// The schema file: its display name, path and text.
    pub schema: Option<SchemaFile>,
    /// Problems in `rulec.toml` itself.
    pub config_diagnostics: Vec<Diagnostic>,
    /// Where `rulec.toml` is, when there is one.
    pub config_path: Option<PathBuf>,
}

/// The schema file named in `rulec.toml`.
#[derive(Clone, Debug)]
pub struct SchemaFile {
    /// Display name.
    pub name: String,
    /// Where it is.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

impl Settings {
    /// Finds and reads `rulec.toml` upward from the document's directory, as the CLI
    /// does from the working directory. No file, no settings; unreadable files are
    /// ignored (the document is still checked against the prelude).
    pub fn discover(document: &Path) -> Settings {
        let Some(dir) = document.parent() else {
            return Settings::default();
        };
        let Some(config_path) = Config::find(dir) else {
            return Settings::default();
        };
        let Ok(text) = std::fs::read_to_string(&config_path) else {
            return Settings::default();
        };
        let root = config_path.parent().unwrap_or(dir).to_path_buf();
        let file = SourceFile::new(config_path.to_string_lossy().into_owned(), text);
        let (config, config_diagnostics) = Config::parse(&file, &root);
        let schema = config.schema.as_ref().and_then(|path| {
            if same_file(path, document) {
                return None;
            }
            let text = std::fs::read_to_string(path).ok()?;
            let name = path
                .strip_prefix(&root)
                .unwrap_or(path)
                .to_string_lossy()
                .replace('\\', "/");
            Some(SchemaFile {
                name,
                path: path.clone(),
                text,
            })
        });
        Settings {
            lints: config.lints,
            schema,
            config_diagnostics,
            config_path: Some(config_path),
        }
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

impl Settings {
    /// The problems in `rulec.toml`, for the protocol (`rulec check` prints them too).
    pub fn config_report(
        &self,
        encoding: crate::position::Encoding,
    ) -> Option<(
        tower_lsp_server::ls_types::Uri,
        Vec<tower_lsp_server::ls_types::Diagnostic>,
    )> {
        let path = self.config_path.as_ref()?;
        let uri = tower_lsp_server::ls_types::Uri::from_file_path(path)?;
        let diagnostics = match self.config_diagnostics.first() {
            Some(first) => {
                let text = first.file.text();
                let index = LineIndex::new(text);
                let lines = crate::position::Lines::new(text, &index, encoding);
                crate::diagnostics::convert(&self.config_diagnostics, &lines, &uri)
            }
            None => Vec::new(),
        };
        Some((uri, diagnostics))
    }
}

/// The display name of a document: its file name, which is what rule ids
/// (`wins#1`) are made from.
pub fn display_name(path: Option<&Path>, fallback: &str) -> String {
    path.and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| fallback.to_string())
}

/// A checked document.
#[derive(Debug)]
pub struct DocAnalysis {
    /// The whole analysis (the schema file's unit first when there is one).
    pub analysis: Analysis,
    /// Which unit is the document.
    pub unit: usize,
    /// The schema file's path, when it was checked too.
    pub schema_path: Option<PathBuf>,
    /// The document's line table.
    pub index: LineIndex,
}

impl DocAnalysis {
    /// Analyses `text` as the file `name` under `settings`.
    pub fn new(name: &str, text: &str, settings: &Settings) -> DocAnalysis {
        let mut units = Vec::new();
        let mut schema_path = None;
        if let Some(schema) = &settings.schema {
            units.push(Unit::parse(SourceFile::new(
                schema.name.clone(),
                schema.text.as_str(),
            )));
            schema_path = Some(schema.path.clone());
        }
        let unit = units.len();
        units.push(Unit::parse(SourceFile::new(name, text)));
        let analysis = workspace::analyze(units, &settings.lints);
        DocAnalysis {
            analysis,
            unit,
            schema_path,
            index: LineIndex::new(text),
        }
    }

    /// Position conversions for the document in `encoding`.
    pub fn lines(&self, encoding: crate::position::Encoding) -> crate::position::Lines<'_> {
        crate::position::Lines::new(self.text(), &self.index, encoding)
    }

    /// The document's file.
    pub fn file(&self) -> Option<&Arc<SourceFile>> {
        self.analysis.units.get(self.unit).map(|u| &u.file)
    }

    /// The document's text.
    pub fn text(&self) -> &str {
        self.file().map_or("", |f| f.text())
    }

    /// The document's parse.
    pub fn document(&self) -> Option<&ast::Document> {
        self.analysis
            .units
            .get(self.unit)
            .map(|u| &u.parsed.document)
    }

    /// True when the document has syntax errors.
    pub fn has_syntax_errors(&self) -> bool {
        self.analysis
            .units
            .get(self.unit)
            .is_some_and(|u| !u.parsed.diagnostics.is_empty())
    }

    /// The diagnostics in the document (not those in the schema file), in the order
    /// `rulec check` prints them.
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> + '_ {
        let file = self.file();
        self.analysis
            .diagnostics
            .iter()
            .filter(move |d| file.is_some_and(|f| Arc::ptr_eq(&d.file, f)))
    }

    /// The workspace schema.
    pub fn schema(&self) -> &rulec::schema::Schema {
        &self.analysis.checked.schema
    }

    /// True when `file` is the document.
    pub fn is_document(&self, file: &Arc<SourceFile>) -> bool {
        self.file().is_some_and(|f| Arc::ptr_eq(f, file))
    }

    /// The checked rule compiled from item `item` of the document, if it checked.
    pub fn checked_rule(&self, item: usize) -> Option<&rulec::ir::Rule> {
        let checked = &self.analysis.checked;
        checked
            .sources
            .iter()
            .position(|s| s.unit == self.unit && s.item == item)
            .and_then(|i| checked.rules.get(i))
    }

    /// The item containing `offset` (the end of an item counts as inside it).
    pub fn item_at(&self, offset: usize) -> Option<(usize, &ast::Item)> {
        let document = self.document()?;
        let i = document
            .items
            .partition_point(|item| item.span().hi() < offset);
        let item = document.items.get(i)?;
        (item.span().lo() <= offset).then_some((i, item))
    }
}
