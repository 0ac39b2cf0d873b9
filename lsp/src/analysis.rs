//! Documents analysed the way `rulec check <folder>` analyses them.
//!
//! The CLI reads `rulec.toml` (lint levels, `[http] allow`, the schema file), puts the
//! schema file first and checks it together with every `*.rules` file, then lints. This
//! module does the same for a folder of open documents ([`crate::folder`] says which
//! files, with open documents' unsaved text replacing their files), going through
//! `rulec::workspace::analyze` like the CLI, so the two cannot disagree. The result, a
//! [`FolderAnalysis`], is shared by the folder's documents; a [`DocAnalysis`] is one
//! document's view of it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rulec::check::Unit;
use rulec::diagnostics::Diagnostic;
use rulec::lint::LintConfig;
use rulec::source::{LineIndex, SourceFile};
use rulec::syntax::ast;
use rulec::workspace::{self, Analysis, Config};

use crate::folder::{self, FolderInput, Text};

/// What `rulec.toml` says for a folder, read when a document is opened or saved.
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
    /// Its text when the settings were read (the folder reads it again each time).
    pub text: String,
}

impl Settings {
    /// Finds and reads `rulec.toml` upward from the document's directory, as the CLI
    /// does from the working directory. No file, no settings; unreadable files are
    /// ignored (the document is still checked against the prelude). When the document
    /// is the schema file itself, there is no separate schema file.
    pub fn discover(document: &Path) -> Settings {
        let Some(dir) = document.parent() else {
            return Settings::default();
        };
        let mut settings = match Config::find(dir) {
            Some(config) => Settings::read(&config),
            None => Settings::default(),
        };
        if settings
            .schema
            .as_ref()
            .is_some_and(|s| same_file(&s.path, document))
        {
            settings.schema = None;
        }
        settings
    }

    /// Reads the `rulec.toml` at `config_path` (an unreadable one gives no settings).
    pub fn read(config_path: &Path) -> Settings {
        let Ok(text) = std::fs::read_to_string(config_path) else {
            return Settings::default();
        };
        let root = config_path
            .parent()
            .map_or_else(|| PathBuf::from("."), folder::canonical);
        let file = SourceFile::new(config_path.to_string_lossy().into_owned(), text);
        let (config, config_diagnostics) = Config::parse(&file, &root);
        let schema = config.schema.as_ref().and_then(|path| {
            let path = folder::canonical(path);
            let text = std::fs::read_to_string(&path).ok()?;
            Some(SchemaFile {
                name: folder::display(&root, &path),
                path,
                text,
            })
        });
        Settings {
            lints: config.lints,
            schema,
            config_diagnostics,
            config_path: Some(config_path.to_path_buf()),
        }
    }

    /// The schema file's path (when it could be read as the settings were).
    pub fn schema_path(&self) -> Option<&Path> {
        self.schema.as_ref().map(|s| s.path.as_path())
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

/// The display name of a document that is not checked with a folder: its file name
/// (what generated rule ids, `wins#1`, are made of).
pub fn display_name(path: Option<&Path>, fallback: &str) -> String {
    path.and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| fallback.to_string())
}

/// The analysis of a folder: every file checked together, as `rulec check <folder>`
/// checks them. Shared (behind an `Arc`) by the folder's open documents.
#[derive(Debug)]
pub struct FolderAnalysis {
    /// The whole analysis (the schema file's unit first when there is one).
    pub analysis: Analysis,
    /// Each unit's file (canonical), when it is one.
    pub paths: Vec<Option<PathBuf>>,
    /// Whether unit 0 is the schema file.
    pub schema: bool,
    /// Each unit's text as read (to tell whether a file changed since).
    pub texts: Vec<Text>,
    /// Each unit's diagnostics: indices into `analysis.diagnostics`.
    by_unit: Vec<Vec<usize>>,
    /// Each unit's line table, made when first asked for.
    indexes: Vec<OnceLock<LineIndex>>,
}

impl FolderAnalysis {
    /// Checks the files of `input` together under `settings`, through
    /// `rulec::workspace::analyze` as the CLI does.
    pub fn new(input: FolderInput, settings: &Settings) -> FolderAnalysis {
        let units: Vec<Unit> = input.sources.iter().map(|s| s.text.unit(&s.name)).collect();
        let paths = input.sources.iter().map(|s| s.path.clone()).collect();
        let texts: Vec<Text> = input.sources.into_iter().map(|s| s.text).collect();
        let analysis = workspace::analyze(units, &settings.lints);
        let unit_of: std::collections::HashMap<*const SourceFile, usize> = analysis
            .units
            .iter()
            .enumerate()
            .map(|(i, u)| (Arc::as_ptr(&u.file), i))
            .collect();
        let mut by_unit = vec![Vec::new(); analysis.units.len()];
        for (i, d) in analysis.diagnostics.iter().enumerate() {
            if let Some(list) = unit_of
                .get(&Arc::as_ptr(&d.file))
                .and_then(|&u| by_unit.get_mut(u))
            {
                list.push(i);
            }
        }
        let indexes = analysis.units.iter().map(|_| OnceLock::new()).collect();
        FolderAnalysis {
            analysis,
            paths,
            schema: input.schema,
            texts,
            by_unit,
            indexes,
        }
    }

    /// The unit named `name` (display names are unique in a folder).
    pub fn unit_named(&self, name: &str) -> Option<usize> {
        self.analysis
            .units
            .iter()
            .position(|u| u.file.name() == name)
    }

    /// The unit whose file is `file`.
    pub fn unit_of(&self, file: &Arc<SourceFile>) -> Option<usize> {
        self.analysis
            .units
            .iter()
            .position(|u| Arc::ptr_eq(&u.file, file))
    }

    /// A unit's file.
    pub fn file(&self, unit: usize) -> Option<&Arc<SourceFile>> {
        self.analysis.units.get(unit).map(|u| &u.file)
    }

    /// A unit's line table.
    pub fn line_index(&self, unit: usize) -> Option<&LineIndex> {
        let text = self.file(unit)?.text();
        Some(self.indexes.get(unit)?.get_or_init(|| LineIndex::new(text)))
    }

    /// A unit's diagnostics, in the order `rulec check` prints them.
    pub fn diagnostics_of(&self, unit: usize) -> impl Iterator<Item = &Diagnostic> + '_ {
        self.by_unit
            .get(unit)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.analysis.diagnostics.get(i))
    }

    /// The checked rule compiled from item `item` of unit `unit`, if it checked.
    pub fn checked_rule(&self, unit: usize, item: usize) -> Option<&rulec::ir::Rule> {
        let checked = &self.analysis.checked;
        checked
            .sources
            .iter()
            .position(|s| s.unit == unit && s.item == item)
            .and_then(|i| checked.rules.get(i))
    }
}

/// A checked document: its folder's analysis and which unit of it is the document.
/// Cheap to make (an `Arc` and an index), so every document of a folder shares one
/// analysis.
#[derive(Debug, Clone)]
pub struct DocAnalysis {
    /// The folder's analysis.
    pub folder: Arc<FolderAnalysis>,
    /// Which unit is the document.
    pub unit: usize,
}

impl DocAnalysis {
    /// Analyses `text` alone as the file `name` under `settings` (after the schema file,
    /// as `rulec check <file>` does): for documents that are not files, and for tests.
    pub fn new(name: &str, text: &str, settings: &Settings) -> DocAnalysis {
        let input = FolderInput::lone(name, text, settings);
        let unit = input.sources.len().saturating_sub(1);
        DocAnalysis {
            folder: Arc::new(FolderAnalysis::new(input, settings)),
            unit,
        }
    }

    /// The document named `name` in a folder's analysis.
    pub fn of(folder: Arc<FolderAnalysis>, name: &str) -> Option<DocAnalysis> {
        let unit = folder.unit_named(name)?;
        Some(DocAnalysis { folder, unit })
    }

    /// The whole analysis (every file of the folder).
    pub fn analysis(&self) -> &Analysis {
        &self.folder.analysis
    }

    /// Position conversions for the document in `encoding`.
    pub fn lines(&self, encoding: crate::position::Encoding) -> crate::position::Lines<'_> {
        static EMPTY: OnceLock<LineIndex> = OnceLock::new();
        let index = self
            .folder
            .line_index(self.unit)
            .unwrap_or_else(|| EMPTY.get_or_init(|| LineIndex::new("")));
        crate::position::Lines::new(self.text(), index, encoding)
    }

    /// The document's file.
    pub fn file(&self) -> Option<&Arc<SourceFile>> {
        self.folder.file(self.unit)
    }

    /// The document's text.
    pub fn text(&self) -> &str {
        self.file().map_or("", |f| f.text())
    }

    /// The document's parse.
    pub fn document(&self) -> Option<&ast::Document> {
        self.analysis()
            .units
            .get(self.unit)
            .map(|u| &u.parsed.document)
    }

    /// True when the document has syntax errors.
    pub fn has_syntax_errors(&self) -> bool {
        self.analysis()
            .units
            .get(self.unit)
            .is_some_and(|u| !u.parsed.diagnostics.is_empty())
    }

    /// The diagnostics in the document (not those in the folder's other files), in the
    /// order `rulec check` prints them.
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> + '_ {
        self.folder.diagnostics_of(self.unit)
    }

    /// The workspace schema.
    pub fn schema(&self) -> &rulec::schema::Schema {
        &self.analysis().checked.schema
    }

    /// True when `file` is the document.
    pub fn is_document(&self, file: &Arc<SourceFile>) -> bool {
        self.file().is_some_and(|f| Arc::ptr_eq(f, file))
    }

    /// The checked rule compiled from item `item` of the document, if it checked.
    pub fn checked_rule(&self, item: usize) -> Option<&rulec::ir::Rule> {
        self.folder.checked_rule(self.unit, item)
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
