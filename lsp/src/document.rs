//! Open documents, the folders they are checked in, and the latest analyses.
//!
//! Edits are applied synchronously, in the order the client sent them, before the
//! server awaits anything. A document is checked with its folder (see
//! [`crate::folder`]): each folder keeps at most one analysis and one diagnostics base,
//! shared by all its documents, so memory does not grow with the number of edits or
//! of documents. Every change bumps the generation of each folder the document is
//! read by; a result made for an older generation is never kept or published.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rulec::diagnostics::Diagnostic;
use rulec::source::LineIndex;
use tower_lsp_server::ls_types::{self as lsp, TextDocumentContentChangeEvent, Uri};

use crate::analysis::{display_name, DocAnalysis, FolderAnalysis, Settings};
use crate::folder::{self, FolderInput, OpenText};
use crate::incremental::Base;
use crate::position::{Encoding, Lines};

/// Which folder a document is checked in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum FolderKey {
    /// The folder at this (canonical) directory.
    Dir(PathBuf),
    /// A document that is not a file, checked alone.
    Lone(Uri),
}

/// Where a document is checked: its folder and how that was found.
#[derive(Debug)]
struct Place {
    key: FolderKey,
    root: Option<PathBuf>,
    shallow: bool,
    /// The `rulec.toml` that chose the folder.
    config: Option<PathBuf>,
    /// The document's file (canonical).
    path: Option<PathBuf>,
}

/// One open document.
#[derive(Debug)]
pub struct Document {
    /// The current text.
    text: String,
    /// Its line table.
    index: LineIndex,
    /// The client's version number.
    pub version: i32,
    /// The display name: the path relative to the folder (the file name for a
    /// document that is not a file).
    pub name: String,
    /// The file (canonical), when the document is one.
    pub path: Option<PathBuf>,
    /// The folder it is checked in.
    pub folder: FolderKey,
    /// What was last published for it: the version and the diagnostics.
    published: Option<(i32, Vec<lsp::Diagnostic>)>,
}

impl Document {
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
    fn apply(
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
    }

    /// Bytes held for this document's text and its last publication.
    pub fn retained_bytes(&self) -> usize {
        self.text.capacity()
            + self.published.as_ref().map_or(0, |(_, d)| {
                d.iter().map(|d| d.message.len() + 64).sum::<usize>()
            })
    }
}

/// A folder with open documents.
#[derive(Debug)]
struct Folder {
    /// Its directory; `None` for a document checked alone.
    root: Option<PathBuf>,
    /// Whether only the files directly in it are read (see [`folder::Located`]).
    shallow: bool,
    /// `rulec.toml`'s settings.
    settings: Arc<Settings>,
    /// Bumped on every change to any file it reads.
    generation: u64,
    /// The latest full analysis and the generation it is of. Kept when the texts
    /// change: completion uses its schema while the new text is being checked.
    analysis: Option<(u64, Arc<FolderAnalysis>)>,
    /// The latest diagnostics and what the next edit starts from, of generation `.0`
    /// (possibly an older one).
    base: Option<(u64, Arc<Base>)>,
}

impl Folder {
    /// Whether it reads the file `path`.
    fn reads(&self, path: &Path) -> bool {
        match &self.root {
            Some(root) => {
                path.starts_with(root) || self.settings.schema_path().is_some_and(|s| s == path)
            }
            None => false,
        }
    }
}

/// A snapshot of a folder to analyse without holding the store.
#[derive(Debug)]
pub struct FolderJob {
    /// The folder.
    pub key: FolderKey,
    /// The generation it is of.
    pub generation: u64,
    root: Option<PathBuf>,
    shallow: bool,
    settings: Arc<Settings>,
    /// Open documents' texts, for the folder's files they replace (and, for a document
    /// checked alone, the document).
    open: Vec<OpenText>,
    /// The lone document's name and text, for a document that is not a file.
    lone: Option<(String, Arc<str>)>,
    /// The previous diagnostics to start from.
    base: Option<Arc<Base>>,
}

impl FolderJob {
    /// The folder's files as they are now: on disk, or open.
    pub fn input(&self) -> FolderInput {
        match (&self.root, &self.lone) {
            (Some(root), _) => {
                let fallback = self.settings.schema.as_ref().map(|s| s.text.as_str());
                let schema = self.settings.schema_path();
                folder::read(root, self.shallow, schema, fallback, &self.open)
            }
            (None, Some((name, text))) => FolderInput::lone(name, text, &self.settings),
            (None, None) => FolderInput::default(),
        }
    }

    /// A full analysis of the folder.
    pub fn analyse(&self) -> Arc<FolderAnalysis> {
        Arc::new(FolderAnalysis::new(self.input(), &self.settings))
    }

    /// The folder's diagnostics, re-checking only what the last edit touched when that
    /// is exact (see [`crate::incremental`]), and the full analysis when one was needed.
    pub fn run(&self) -> (Arc<Base>, Option<Arc<FolderAnalysis>>) {
        match self.update() {
            Ok(base) => (base, None),
            Err(input) => {
                let (base, analysis) = self.analyse_whole(input);
                (base, Some(analysis))
            }
        }
    }

    /// The folder's diagnostics by re-checking only what the last edit touched, when
    /// that is exact (see [`crate::incremental`]); else the folder's files, to analyse whole.
    pub fn update(&self) -> Result<Arc<Base>, FolderInput> {
        let input = self.input();
        match self
            .base
            .as_deref()
            .and_then(|base| base.update(&input, &self.settings))
        {
            Some(next) => Ok(Arc::new(next)),
            None => Err(input),
        }
    }

    /// A full analysis of the folder's files `input`, and the diagnostics base it
    /// anchors.
    pub fn analyse_whole(&self, input: FolderInput) -> (Arc<Base>, Arc<FolderAnalysis>) {
        let analysis = Arc::new(FolderAnalysis::new(input, &self.settings));
        (Arc::new(Base::of(&analysis)), analysis)
    }
}

/// What to publish for one document.
pub type Publication = (Uri, Vec<lsp::Diagnostic>, i32);

/// Every open document, by URI, and the folders they are checked in.
#[derive(Debug, Default)]
pub struct Store {
    docs: HashMap<Uri, Document>,
    folders: HashMap<FolderKey, Folder>,
    /// The client's workspace folders (canonical).
    roots: Vec<PathBuf>,
    /// The last generation handed out (generations never repeat, even across folders).
    generations: u64,
    /// The negotiated position encoding.
    pub encoding: Encoding,
    /// Whether the client takes snippets in completions.
    pub snippets: bool,
}

impl Store {
    /// An empty store using `encoding`.
    pub fn new(encoding: Encoding) -> Store {
        Store {
            encoding,
            // Until `initialize` says otherwise.
            snippets: true,
            ..Store::default()
        }
    }

    /// Sets the client's workspace folders (a document without `rulec.toml` above it is
    /// checked with the innermost one containing it). Documents already open keep their
    /// folder until [`Store::reload`].
    pub fn set_roots(&mut self, roots: Vec<PathBuf>) {
        self.roots = roots.iter().map(|r| folder::canonical(r)).collect();
    }

    /// The client's workspace folders.
    pub fn roots(&self) -> &[PathBuf] {
        &self.roots
    }

    /// Opens (or reopens) a document; its folder and `rulec.toml` are found from its
    /// path. Returns the folders to analyse again, with their generations.
    pub fn open(&mut self, uri: Uri, text: String, version: i32) -> Vec<(FolderKey, u64)> {
        let place = self.locate(&uri);
        let settings = place
            .config
            .as_deref()
            .map(Settings::read)
            .unwrap_or_default();
        self.insert(uri, text, version, place, Arc::new(settings))
    }

    /// Opens a document with the given settings, in its own directory's folder (for
    /// tests and benchmarks that must not depend on a `rulec.toml` on disk).
    pub fn open_with(
        &mut self,
        uri: Uri,
        text: String,
        version: i32,
        settings: Arc<Settings>,
    ) -> Vec<(FolderKey, u64)> {
        let path = uri.to_file_path().map(|p| folder::canonical(&p));
        let root = path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        let key = match &root {
            Some(root) => FolderKey::Dir(root.clone()),
            None => FolderKey::Lone(uri.clone()),
        };
        let place = Place {
            key,
            root,
            shallow: false,
            config: None,
            path,
        };
        self.insert(uri, text, version, place, settings)
    }

    /// Where a document is checked.
    fn locate(&self, uri: &Uri) -> Place {
        let Some(path) = uri.to_file_path().map(|p| folder::canonical(&p)) else {
            return Place {
                key: FolderKey::Lone(uri.clone()),
                root: None,
                shallow: false,
                config: None,
                path: None,
            };
        };
        let located = folder::folder_of(&path, &self.roots);
        Place {
            key: FolderKey::Dir(located.root.clone()),
            root: Some(located.root),
            shallow: located.shallow,
            config: located.config,
            path: Some(path),
        }
    }

    fn insert(
        &mut self,
        uri: Uri,
        text: String,
        version: i32,
        place: Place,
        settings: Arc<Settings>,
    ) -> Vec<(FolderKey, u64)> {
        let Place {
            key,
            root,
            shallow,
            path,
            ..
        } = place;
        let mut affected = self.forget(&uri);
        let name = match (&root, &path) {
            (Some(root), Some(path)) => folder::display(root, path),
            _ => display_name(path.as_deref(), "untitled.rules"),
        };
        let doc = Document {
            index: LineIndex::new(&text),
            text,
            version,
            name,
            path: path.clone(),
            folder: key.clone(),
            published: None,
        };
        self.docs.insert(uri, doc);
        // (Re)opening reads `rulec.toml` again: what was computed under the old
        // settings is no starting point.
        let folder = self.folders.entry(key.clone()).or_insert_with(|| Folder {
            root,
            shallow,
            settings: settings.clone(),
            generation: 0,
            analysis: None,
            base: None,
        });
        folder.settings = settings;
        folder.analysis = None;
        folder.base = None;
        // The latest generation of each folder counts.
        for (k, generation) in self.bump(&key, path.as_deref()) {
            affected.retain(|(a, _)| *a != k);
            affected.push((k, generation));
        }
        affected.retain(|(k, _)| self.folders.contains_key(k));
        affected
    }

    /// A new generation for `key` and for every other folder reading `path`.
    fn bump(&mut self, key: &FolderKey, path: Option<&Path>) -> Vec<(FolderKey, u64)> {
        let mut out = Vec::new();
        for (k, folder) in &mut self.folders {
            if k == key || path.is_some_and(|p| folder.reads(p)) {
                self.generations += 1;
                folder.generation = self.generations;
                out.push((k.clone(), folder.generation));
            }
        }
        out
    }

    /// Applies a `didChange`; returns the folders to analyse again (none for an unknown
    /// document).
    pub fn change(
        &mut self,
        uri: &Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) -> Vec<(FolderKey, u64)> {
        let encoding = self.encoding;
        let Some(doc) = self.docs.get_mut(uri) else {
            return Vec::new();
        };
        doc.apply(changes, version, encoding);
        let (key, path) = (doc.folder.clone(), doc.path.clone());
        self.bump(&key, path.as_deref())
    }

    /// Closes a document; returns the folders to analyse again (its file is read from
    /// disk again). A folder without open documents is dropped.
    pub fn close(&mut self, uri: &Uri) -> Vec<(FolderKey, u64)> {
        let mut affected = self.forget(uri);
        affected.retain(|(k, _)| self.folders.contains_key(k));
        affected
    }

    /// Removes a document, dropping its folder when it was the last one.
    fn forget(&mut self, uri: &Uri) -> Vec<(FolderKey, u64)> {
        let Some(doc) = self.docs.remove(uri) else {
            return Vec::new();
        };
        if !self.docs.values().any(|d| d.folder == doc.folder) {
            self.folders.remove(&doc.folder);
        }
        self.bump(&doc.folder, doc.path.as_deref())
    }

    /// Finds every document's folder and `rulec.toml` again (after a save: `rulec.toml`
    /// or the schema file may have changed, or the workspace folders did). Returns
    /// every folder, to analyse again.
    pub fn reload(&mut self) -> Vec<(FolderKey, u64)> {
        let uris: Vec<Uri> = self
            .docs
            .iter()
            .filter(|(_, d)| d.path.is_some())
            .map(|(u, _)| u.clone())
            .collect();
        let mut folders: HashMap<FolderKey, Folder> = HashMap::new();
        for uri in uris {
            let place = self.locate(&uri);
            if let Some(doc) = self.docs.get_mut(&uri) {
                if let (Some(root), Some(path)) = (&place.root, &doc.path) {
                    doc.name = folder::display(root, path);
                }
                doc.folder = place.key.clone();
            }
            // `rulec.toml` is read once per folder.
            folders.entry(place.key).or_insert_with(|| Folder {
                root: place.root,
                shallow: place.shallow,
                settings: Arc::new(
                    place
                        .config
                        .as_deref()
                        .map(Settings::read)
                        .unwrap_or_default(),
                ),
                generation: 0,
                analysis: None,
                base: None,
            });
        }
        // Documents checked alone keep their settings.
        for (key, folder) in self.folders.drain() {
            if matches!(key, FolderKey::Lone(_)) {
                folders.insert(key, folder);
            }
        }
        self.folders = folders;
        let mut out = Vec::new();
        for (key, folder) in &mut self.folders {
            folder.base = None;
            folder.analysis = None;
            self.generations += 1;
            folder.generation = self.generations;
            out.push((key.clone(), folder.generation));
        }
        out
    }

    /// Files changed on disk: every folder reading one of them is analysed again (its
    /// diagnostics base stays a valid starting point: the folder is read anew each time).
    pub fn touched(&mut self, paths: &[PathBuf]) -> Vec<(FolderKey, u64)> {
        let paths: Vec<PathBuf> = paths.iter().map(|p| folder::canonical(p)).collect();
        let mut out = Vec::new();
        for (key, folder) in &mut self.folders {
            if paths.iter().any(|p| folder.reads(p)) {
                self.generations += 1;
                folder.generation = self.generations;
                out.push((key.clone(), folder.generation));
            }
        }
        out
    }

    /// A document.
    pub fn get(&self, uri: &Uri) -> Option<&Document> {
        self.docs.get(uri)
    }

    /// Every open document's URI.
    pub fn uris(&self) -> Vec<Uri> {
        self.docs.keys().cloned().collect()
    }

    /// The current generation of a folder.
    pub fn generation(&self, key: &FolderKey) -> Option<u64> {
        self.folders.get(key).map(|f| f.generation)
    }

    /// The `rulec.toml` settings a document is checked under.
    pub fn settings(&self, uri: &Uri) -> Option<Arc<Settings>> {
        let doc = self.docs.get(uri)?;
        Some(self.folders.get(&doc.folder)?.settings.clone())
    }

    /// What is needed to analyse a folder off the lock.
    pub fn job(&self, key: &FolderKey) -> Option<FolderJob> {
        let folder = self.folders.get(key)?;
        let mut open = Vec::new();
        let mut lone = None;
        for doc in self.docs.values() {
            let member = doc.folder == *key;
            match &doc.path {
                // The folder's own documents, and any other open file it reads.
                Some(path) if member || folder.reads(path) => open.push(OpenText {
                    path: path.clone(),
                    text: doc.text.as_str().into(),
                    member,
                }),
                None if member => lone = Some((doc.name.clone(), doc.text.as_str().into())),
                _ => {}
            }
        }
        Some(FolderJob {
            key: key.clone(),
            generation: folder.generation,
            root: folder.root.clone(),
            shallow: folder.shallow,
            settings: folder.settings.clone(),
            open,
            lone,
            base: folder.base.as_ref().map(|(_, b)| b.clone()),
        })
    }

    /// What is needed to analyse a document's folder off the lock.
    pub fn job_for(&self, uri: &Uri) -> Option<FolderJob> {
        self.job(&self.docs.get(uri)?.folder)
    }

    /// Keeps a full analysis if it is of the folder's current texts; returns whether it
    /// was kept.
    pub fn store_analysis(
        &mut self,
        key: &FolderKey,
        generation: u64,
        analysis: Arc<FolderAnalysis>,
    ) -> bool {
        let Some(folder) = self.folders.get_mut(key) else {
            return false;
        };
        if folder.generation != generation {
            return false;
        }
        // The base starts from this analysis even when one of the same texts exists (it
        // gives the same diagnostics: the incremental path is exact), so that the
        // previous anchor is freed and the folder holds one analysis, not two.
        let anchored_here = folder
            .base
            .as_ref()
            .is_some_and(|(g, b)| *g == generation && Arc::ptr_eq(b.anchor(), &analysis));
        if !anchored_here {
            folder.base = Some((generation, Arc::new(Base::of(&analysis))));
        }
        folder.analysis = Some((generation, analysis));
        true
    }

    /// Keeps diagnostics (and the full analysis, when one was made) if they are of the
    /// folder's current texts; returns whether they were kept.
    pub fn store_diagnostics(
        &mut self,
        key: &FolderKey,
        generation: u64,
        base: Arc<Base>,
        analysis: Option<Arc<FolderAnalysis>>,
    ) -> bool {
        let Some(folder) = self.folders.get_mut(key) else {
            return false;
        };
        if folder.generation != generation {
            return false;
        }
        // Diagnostics of these texts are already there (a request's full analysis came
        // first): they are the same, and keeping them keeps the base anchored on the
        // folder's one analysis instead of bringing back an older one.
        if folder.base.as_ref().is_some_and(|(g, _)| *g == generation) {
            return true;
        }
        folder.base = Some((generation, base));
        if let Some(analysis) = analysis {
            folder.analysis = Some((generation, analysis));
        }
        true
    }

    /// Whether the diagnostics of generation `generation` of a folder are stored.
    pub fn diagnostics_ready(&self, key: &FolderKey, generation: u64) -> bool {
        self.folders
            .get(key)
            .and_then(|f| f.base.as_ref())
            .is_some_and(|(g, _)| *g == generation)
    }

    /// The analysis of a document's current text (and its folder's), if already made.
    pub fn current_analysis(&self, uri: &Uri) -> Option<Arc<DocAnalysis>> {
        let doc = self.docs.get(uri)?;
        let folder = self.folders.get(&doc.folder)?;
        let (g, analysis) = folder.analysis.as_ref()?;
        if *g != folder.generation {
            return None;
        }
        DocAnalysis::of(analysis.clone(), &doc.name).map(Arc::new)
    }

    /// The latest analysis holding the document, possibly of an earlier text.
    pub fn latest_analysis(&self, uri: &Uri) -> Option<Arc<DocAnalysis>> {
        let doc = self.docs.get(uri)?;
        let (_, analysis) = self.folders.get(&doc.folder)?.analysis.as_ref()?;
        DocAnalysis::of(analysis.clone(), &doc.name).map(Arc::new)
    }

    /// The analysis of a document's current text, made now if needed.
    pub fn analysis(&mut self, uri: &Uri) -> Option<Arc<DocAnalysis>> {
        if let Some(a) = self.current_analysis(uri) {
            return Some(a);
        }
        let job = self.job_for(uri)?;
        let analysis = job.analyse();
        self.store_analysis(&job.key, job.generation, analysis.clone());
        let name = &self.docs.get(uri)?.name;
        DocAnalysis::of(analysis, name).map(Arc::new)
    }

    /// The diagnostics of a document's current text (in `rulec check` order), re-checking
    /// only what the last edit touched when that is exact (see [`crate::incremental`]): what
    /// the publisher publishes.
    pub fn diagnostics(&mut self, uri: &Uri) -> Option<Arc<Vec<Diagnostic>>> {
        let key = self.docs.get(uri)?.folder.clone();
        let folder = self.folders.get(&key)?;
        let base = match &folder.base {
            Some((g, base)) if *g == folder.generation => base.clone(),
            _ => {
                let job = self.job(&key)?;
                let (base, analysis) = job.run();
                self.store_diagnostics(&key, job.generation, base.clone(), analysis);
                base
            }
        };
        base.diagnostics_named(&self.docs.get(uri)?.name).cloned()
    }

    /// The diagnostics to publish for the documents of a folder whose diagnostics of
    /// generation `generation` are stored: for every document whose version or
    /// diagnostics differ from what was last published for it.
    pub fn publications(&mut self, key: &FolderKey, generation: u64) -> Vec<Publication> {
        let Some(folder) = self.folders.get(key) else {
            return Vec::new();
        };
        let Some((g, base)) = &folder.base else {
            return Vec::new();
        };
        if *g != generation || folder.generation != generation {
            return Vec::new();
        }
        let base = base.clone();
        let encoding = self.encoding;
        let mut out = Vec::new();
        for (uri, doc) in &mut self.docs {
            if doc.folder != *key {
                continue;
            }
            let Some(diagnostics) = base.diagnostics_named(&doc.name) else {
                continue;
            };
            let converted = {
                let lines = doc.lines(encoding);
                let run = std::panic::AssertUnwindSafe(|| {
                    crate::diagnostics::convert(diagnostics, &lines, uri)
                });
                match std::panic::catch_unwind(run) {
                    Ok(converted) => converted,
                    Err(_) => continue,
                }
            };
            let same = doc
                .published
                .as_ref()
                .is_some_and(|(v, d)| *v == doc.version && *d == converted);
            if same {
                continue;
            }
            doc.published = Some((doc.version, converted.clone()));
            out.push((uri.clone(), converted, doc.version));
        }
        out
    }

    /// Bytes retained by all documents, plus, per folder, one per cached analysis and
    /// what its diagnostics base holds beyond its anchor.
    pub fn retained_bytes(&self) -> usize {
        let docs: usize = self.docs.values().map(Document::retained_bytes).sum();
        let folders: usize = self
            .folders
            .values()
            .map(|f| {
                usize::from(f.analysis.is_some())
                    + f.base.as_ref().map_or(0, |(_, b)| b.retained_bytes() + 1)
            })
            .sum();
        docs + folders
    }

    /// How many full analyses the store holds (at most one per folder).
    pub fn analyses(&self) -> usize {
        self.folders
            .values()
            .filter(|f| f.analysis.is_some())
            .count()
    }
}
