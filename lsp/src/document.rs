//! Open documents: their text, version, settings and the latest analysis.
//!
//! Edits are applied synchronously, in the order the client sent them, before the
//! server awaits anything. Each document keeps exactly one text and at most one
//! analysis, so memory does not grow with the number of edits.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use rulec::source::LineIndex;
use tower_lsp_server::ls_types::{TextDocumentContentChangeEvent, Uri};

use crate::analysis::{display_name, DocAnalysis, Settings};
use crate::incremental::{self, Base};
use crate::position::{Encoding, Lines};

/// One open document.
#[derive(Debug)]
pub struct Document {
    /// The current text.
    text: String,
    /// Its line table.
    index: LineIndex,
    /// The client's version number.
    pub version: i32,
    /// Bumped on every change; an analysis is current when it was made for this.
    pub generation: u64,
    /// The display name (the file name).
    pub name: String,
    /// The file, when the document is one.
    pub path: Option<PathBuf>,
    /// `rulec.toml` settings for it.
    pub settings: Arc<Settings>,
    /// The analysis of generation `.0`.
    analysis: Option<(u64, Arc<DocAnalysis>)>,
    /// The latest diagnostics and what the next edit starts from, of generation `.0`
    /// (possibly an older one).
    base: Option<(u64, Arc<Base>)>,
}

impl Document {
    /// A document as opened.
    pub fn new(uri: &Uri, text: String, version: i32, settings: Arc<Settings>) -> Document {
        let path = uri.to_file_path().map(|p| p.into_owned());
        let name = display_name(path.as_deref(), "untitled.rules");
        Document {
            index: LineIndex::new(&text),
            text,
            version,
            generation: 0,
            name,
            path,
            settings,
            analysis: None,
            base: None,
        }
    }

    /// The current text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Position conversions for the current text.
    pub fn lines(&self, encoding: Encoding) -> Lines<'_> {
        Lines::new(&self.text, &self.index, encoding)
    }

    /// Applies the changes of one `didChange`, in order: a change without a range
    /// replaces the text, one with a range replaces that range of the text left by the
    /// previous change.
    pub fn apply(
        &mut self,
        changes: Vec<TextDocumentContentChangeEvent>,
        version: i32,
        encoding: Encoding,
    ) {
        for change in changes {
            match change.range {
                None => self.text = change.text,
                Some(range) => {
                    let span = self.lines(encoding).span(range);
                    self.text.replace_range(span.lo()..span.hi(), &change.text);
                }
            }
            self.index = LineIndex::new(&self.text);
        }
        self.version = version;
        self.generation += 1;
        // The analysis of an earlier text is kept (one, replaced, never accumulated):
        // completion uses its schema while the new text is being checked.
    }

    /// The analysis of the current text, if already made.
    pub fn current_analysis(&self) -> Option<Arc<DocAnalysis>> {
        self.analysis
            .as_ref()
            .filter(|(g, _)| *g == self.generation)
            .map(|(_, a)| a.clone())
    }

    /// The latest analysis, possibly of an earlier text.
    pub fn latest_analysis(&self) -> Option<Arc<DocAnalysis>> {
        self.analysis.as_ref().map(|(_, a)| a.clone())
    }

    /// What is needed to analyse the current text off the lock.
    pub fn job(&self) -> AnalysisJob {
        AnalysisJob {
            name: self.name.clone(),
            text: self.text.clone(),
            settings: self.settings.clone(),
            generation: self.generation,
            version: self.version,
        }
    }

    /// Keeps an analysis if it is of the current text; returns whether it was kept.
    pub fn store(&mut self, generation: u64, analysis: Arc<DocAnalysis>) -> bool {
        if generation != self.generation {
            return false;
        }
        if self.base.as_ref().is_none_or(|(g, _)| *g != generation) {
            self.base = Some((generation, Arc::new(Base::of(&analysis))));
        }
        self.analysis = Some((generation, analysis));
        true
    }

    /// The analysis of the current text, made now if needed.
    pub fn analysis(&mut self) -> Arc<DocAnalysis> {
        if let Some(a) = self.current_analysis() {
            return a;
        }
        let job = self.job();
        let analysis = Arc::new(job.run());
        self.store(job.generation, analysis.clone());
        analysis
    }

    /// What is needed to produce the diagnostics of the current text off the lock.
    pub fn diagnostics_job(&self) -> DiagnosticsJob {
        DiagnosticsJob {
            job: self.job(),
            base: self.base.as_ref().map(|(_, b)| b.clone()),
        }
    }

    /// Keeps diagnostics (and the full analysis, when one was made) if they are of the
    /// current text; returns whether they were kept.
    pub fn store_diagnostics(
        &mut self,
        generation: u64,
        base: Arc<Base>,
        analysis: Option<Arc<DocAnalysis>>,
    ) -> bool {
        if generation != self.generation {
            return false;
        }
        self.base = Some((generation, base));
        if let Some(analysis) = analysis {
            self.analysis = Some((generation, analysis));
        }
        true
    }

    /// The diagnostics of the current text (in `rulec check` order), re-checking only
    /// what the last edit touched when that is exact (see [`incremental`]).
    pub fn diagnostics(&mut self) -> Arc<Base> {
        if let Some((g, base)) = &self.base {
            if *g == self.generation {
                return base.clone();
            }
        }
        let job = self.diagnostics_job();
        let (base, analysis) = job.run();
        self.store_diagnostics(job.job.generation, base.clone(), analysis);
        base
    }

    /// Bytes held for this document's text and line table (the analysis is replaced,
    /// never accumulated).
    pub fn retained_bytes(&self) -> usize {
        self.text.capacity()
    }
}

/// A snapshot to analyse without holding the store.
#[derive(Debug)]
pub struct AnalysisJob {
    /// Display name.
    pub name: String,
    /// The text.
    pub text: String,
    /// Its settings.
    pub settings: Arc<Settings>,
    /// The generation it is of.
    pub generation: u64,
    /// The client's version.
    pub version: i32,
}

impl AnalysisJob {
    /// Runs the analysis.
    pub fn run(&self) -> DocAnalysis {
        DocAnalysis::new(&self.name, &self.text, &self.settings)
    }
}

/// A snapshot to produce diagnostics from, off the lock.
#[derive(Debug)]
pub struct DiagnosticsJob {
    /// The text and settings.
    pub job: AnalysisJob,
    /// The previous diagnostics to start from.
    pub base: Option<Arc<Base>>,
}

impl DiagnosticsJob {
    /// The diagnostics, and the full analysis when one was needed.
    pub fn run(&self) -> (Arc<Base>, Option<Arc<DocAnalysis>>) {
        incremental::diagnostics(
            self.base.as_deref(),
            &self.job.name,
            &self.job.text,
            &self.job.settings,
        )
    }
}

/// Every open document, by URI.
#[derive(Debug, Default)]
pub struct Store {
    docs: HashMap<Uri, Document>,
    /// The negotiated position encoding.
    pub encoding: Encoding,
    /// Whether the client takes snippets in completions.
    pub snippets: bool,
}

impl Store {
    /// An empty store using `encoding`.
    pub fn new(encoding: Encoding) -> Store {
        Store {
            docs: HashMap::new(),
            encoding,
            // Until `initialize` says otherwise.
            snippets: true,
        }
    }

    /// Opens (or reopens) a document, reading its `rulec.toml`.
    pub fn open(&mut self, uri: Uri, text: String, version: i32) {
        let settings = uri
            .to_file_path()
            .map(|p| Settings::discover(&p))
            .unwrap_or_default();
        self.open_with(uri, text, version, Arc::new(settings));
    }

    /// Opens a document with the given settings.
    pub fn open_with(&mut self, uri: Uri, text: String, version: i32, settings: Arc<Settings>) {
        let generation = self.docs.get(&uri).map_or(0, |d| d.generation + 1);
        let mut doc = Document::new(&uri, text, version, settings);
        doc.generation = generation;
        self.docs.insert(uri, doc);
    }

    /// Applies a `didChange`; returns the new generation (none for an unknown document).
    pub fn change(
        &mut self,
        uri: &Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) -> Option<u64> {
        let encoding = self.encoding;
        let doc = self.docs.get_mut(uri)?;
        doc.apply(changes, version, encoding);
        Some(doc.generation)
    }

    /// Re-reads the settings of a document (after a save: `rulec.toml` or the schema
    /// file may have changed).
    pub fn reload_settings(&mut self, uri: &Uri) -> Option<u64> {
        let doc = self.docs.get_mut(uri)?;
        if let Some(path) = &doc.path {
            doc.settings = Arc::new(Settings::discover(path));
        }
        // Diagnostics computed under the old settings are no starting point.
        doc.base = None;
        doc.generation += 1;
        Some(doc.generation)
    }

    /// Closes a document.
    pub fn close(&mut self, uri: &Uri) {
        self.docs.remove(uri);
    }

    /// A document.
    pub fn get(&self, uri: &Uri) -> Option<&Document> {
        self.docs.get(uri)
    }

    /// A document, mutably.
    pub fn get_mut(&mut self, uri: &Uri) -> Option<&mut Document> {
        self.docs.get_mut(uri)
    }

    /// Every open document's URI.
    pub fn uris(&self) -> Vec<Uri> {
        self.docs.keys().cloned().collect()
    }

    /// Bytes retained by all documents, plus one per cached analysis.
    pub fn retained_bytes(&self) -> usize {
        self.docs
            .values()
            .map(|d| {
                d.retained_bytes()
                    + usize::from(d.analysis.is_some())
                    + d.base.as_ref().map_or(0, |(_, b)| b.text().len() + 1)
            })
            .sum()
    }
}
