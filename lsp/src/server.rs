//! The protocol layer: the only module that knows tower-lsp and tokio.
//!
//! Every request goes through `Backend::answer`, which takes a snapshot (the current
//! analysis, made if needed) and runs a pure handler from one of the feature modules
//! under `catch_unwind`: a bug answers an error and the server keeps serving. Document
//! changes are applied before the first `await`, in the order they arrive.
//! A change re-analyses every folder that reads the file (after a short debounce; a
//! newer change cancels the publication of an older result), and the diagnostics of
//! each of those folders' open documents are published when they or the document's
//! version changed — so a declaration edited in one file updates the others. Full
//! analyses are made one at a time (`Backend::analysing`): a request or a publication
//! that waited for one uses it, and a publication whose change was overtaken by a
//! newer one is dropped before it is made.
//!
//! Adding a feature (e.g. a "run tests" code lens) is one pure function in its own
//! module, one capability in `initialize`, and one three-line handler here.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use crate::analysis::{DocAnalysis, FolderAnalysis};
use crate::document::{FolderKey, Publication, Store};
use crate::incremental::Base;
use crate::position::{Encoding, Lines};

/// How long to wait after a change before analysing (a newer change restarts it).
pub const DEBOUNCE: Duration = Duration::from_millis(50);

/// Server state shared by handlers and background tasks.
#[derive(Debug, Default)]
pub struct State {
    /// Open documents.
    pub store: Store,
}

/// The language server.
#[derive(Debug)]
pub struct Backend {
    client: Client,
    state: Arc<Mutex<State>>,
    shutdown: Arc<AtomicBool>,
    /// Whether the client watches files for the server.
    watch: AtomicBool,
    debounce: Duration,
    /// Held while a folder is analysed whole (taken before `state`, never while holding
    /// it): one full analysis is made at a time, and whoever waited for it uses its
    /// result instead of making another, so memory holds the folder's analysis and at
    /// most one more in the making, however fast edits and requests come.
    analysing: Arc<Mutex<()>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while the lock was held leaves the store usable: edits are applied whole.
    match mutex.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// What to publish for a folder without making anything: nothing when a newer change
/// came, the stored diagnostics when they are of `generation` already (a request's
/// analysis made them); `None` when they must be made.
fn ready(state: &mut State, key: &FolderKey, generation: u64) -> Option<Vec<Publication>> {
    if state.store.generation(key) != Some(generation) {
        return Some(Vec::new());
    }
    if state.store.diagnostics_ready(key, generation) {
        return Some(state.store.publications(key, generation));
    }
    None
}

/// Keeps the diagnostics of `generation` (unless a newer change came) and says what to
/// publish.
fn keep(
    state: &Mutex<State>,
    key: &FolderKey,
    generation: u64,
    base: Arc<Base>,
    analysis: Option<Arc<FolderAnalysis>>,
) -> Vec<Publication> {
    let mut state = lock(state);
    if state
        .store
        .store_diagnostics(key, generation, base, analysis)
    {
        state.store.publications(key, generation)
    } else {
        Vec::new()
    }
}

/// The diagnostics of a folder at `generation`, made and kept, and what to publish. The
/// one-rule path runs at once (it is small); a full analysis waits for the analysis
/// turn, and is not made if a request's analysis made these diagnostics meanwhile or a
/// newer change came.
fn diagnose(
    state: &Mutex<State>,
    analysing: &Mutex<()>,
    key: &FolderKey,
    generation: u64,
) -> Vec<Publication> {
    let job = {
        let mut state = lock(state);
        if let Some(done) = ready(&mut state, key, generation) {
            return done;
        }
        match state.store.job(key) {
            Some(job) => job,
            None => return Vec::new(),
        }
    };
    let input = match job.update() {
        Ok(base) => return keep(state, key, generation, base, None),
        Err(input) => input,
    };
    let _turn = lock(analysing);
    if let Some(done) = ready(&mut lock(state), key, generation) {
        return done;
    }
    let (base, analysis) = job.analyse_whole(input);
    // Its base holds the previous anchor: let it go before the new one is kept.
    drop(job);
    keep(state, key, generation, base, Some(analysis))
}

impl Backend {
    /// A server talking to `client`; `shutdown` is set when `shutdown` is received.
    pub fn new(client: Client, shutdown: Arc<AtomicBool>) -> Backend {
        Backend {
            client,
            state: Arc::new(Mutex::new(State::default())),
            shutdown,
            watch: AtomicBool::new(false),
            debounce: DEBOUNCE,
            analysing: Arc::new(Mutex::new(())),
        }
    }

    /// The analysis of a document's current text, if already made.
    fn current(&self, uri: &Uri) -> Option<(Arc<DocAnalysis>, Encoding)> {
        let state = lock(&self.state);
        let analysis = state.store.current_analysis(uri)?;
        Some((analysis, state.store.encoding))
    }

    /// The current analysis of a document (made now if the debounced one is not ready).
    /// Requests are answered in arrival order on the server's task, so no edit is
    /// applied while this waits for its turn: the text is the request's.
    fn snapshot(&self, uri: &Uri) -> Option<(Arc<DocAnalysis>, Encoding)> {
        if let Some(found) = self.current(uri) {
            return Some(found);
        }
        let _turn = lock(&self.analysing);
        // Made by the publisher while this waited.
        if let Some(found) = self.current(uri) {
            return Some(found);
        }
        let (job, name, encoding) = {
            let state = lock(&self.state);
            let name = state.store.get(uri)?.name.clone();
            (state.store.job_for(uri)?, name, state.store.encoding)
        };
        let analysis = job.analyse();
        lock(&self.state)
            .store
            .store_analysis(&job.key, job.generation, analysis.clone());
        Some((Arc::new(DocAnalysis::of(analysis, &name)?), encoding))
    }

    /// Runs a pure handler on a document's analysis; a panic becomes an error response.
    fn answer<T>(
        &self,
        uri: &Uri,
        handler: impl FnOnce(&DocAnalysis, &Lines<'_>, Encoding) -> T,
    ) -> Result<Option<T>> {
        let run = || {
            let (analysis, encoding) = self.snapshot(uri)?;
            let lines = analysis.lines(encoding);
            Some(handler(&analysis, &lines, encoding))
        };
        catch_unwind(AssertUnwindSafe(run)).map_err(|_| handler_panicked())
    }

    /// Runs a pure handler on the current text with the latest analysis, possibly of an
    /// earlier version (made now only if there is none); a panic becomes an error.
    fn answer_latest<T>(
        &self,
        uri: &Uri,
        handler: impl FnOnce(&DocAnalysis, &Lines<'_>) -> T,
    ) -> Result<Option<T>> {
        let run = || {
            let latest = lock(&self.state).store.latest_analysis(uri);
            let analysis = match latest {
                Some(a) => a,
                None => self.snapshot(uri)?.0,
            };
            let state = lock(&self.state);
            let encoding = state.store.encoding;
            let doc = state.store.get(uri)?;
            Some(handler(&analysis, &doc.lines(encoding)))
        };
        catch_unwind(AssertUnwindSafe(run)).map_err(|_| handler_panicked())
    }

    /// Analyses a folder after `delay` and publishes the diagnostics of its open
    /// documents (those that changed), unless a newer change arrived meanwhile.
    fn schedule(&self, key: FolderKey, generation: u64, delay: Duration) {
        let state = self.state.clone();
        let analysing = self.analysing.clone();
        let client = self.client.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if lock(&state).store.generation(&key) != Some(generation) {
                return;
            }
            let made =
                tokio::task::spawn_blocking(move || diagnose(&state, &analysing, &key, generation));
            let publications = match made.await {
                Ok(publications) => publications,
                Err(e) => {
                    client
                        .log_message(
                            MessageType::ERROR,
                            format!("rulec-lsp: analysis failed: {e}"),
                        )
                        .await;
                    return;
                }
            };
            for (uri, diagnostics, version) in publications {
                client
                    .publish_diagnostics(uri, diagnostics, Some(version))
                    .await;
            }
        });
    }

    fn schedule_all(&self, affected: Vec<(FolderKey, u64)>, delay: Duration) {
        for (key, generation) in affected {
            self.schedule(key, generation, delay);
        }
    }

    /// Publishes the problems of the `rulec.toml` governing `uri` (none clears them).
    fn report_config(&self, uri: &Uri) {
        let report = {
            let state = lock(&self.state);
            let encoding = state.store.encoding;
            state
                .store
                .settings(uri)
                .and_then(|settings| settings.config_report(encoding))
        };
        if let Some((config, diagnostics)) = report {
            let client = self.client.clone();
            tokio::spawn(async move {
                client.publish_diagnostics(config, diagnostics, None).await;
            });
        }
    }

    /// Finds every document's folder and settings again and re-analyses every folder.
    fn reanalyze_all(&self) {
        let (affected, uris) = {
            let mut state = lock(&self.state);
            (state.store.reload(), state.store.uris())
        };
        for uri in &uris {
            self.report_config(uri);
        }
        self.schedule_all(affected, Duration::ZERO);
    }
}

/// The client's workspace folders, as directories.
#[allow(deprecated)] // `root_uri` and `root_path` are what older clients send
fn workspace_roots(params: &InitializeParams) -> Vec<std::path::PathBuf> {
    let mut roots: Vec<std::path::PathBuf> = params
        .workspace_folders
        .iter()
        .flatten()
        .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned()))
        .collect();
    if roots.is_empty() {
        if let Some(root) = params.root_uri.as_ref().and_then(|u| u.to_file_path()) {
            roots.push(root.into_owned());
        } else if let Some(root) = &params.root_path {
            roots.push(root.into());
        }
    }
    roots
}

/// The answer to a request whose handler panicked.
fn handler_panicked() -> Error {
    let mut error = Error::internal_error();
    error.message =
        "rulec-lsp: internal error while answering (a bug); the server is still running".into();
    error
}

/// What the server announces.
pub fn capabilities(encoding: Encoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(encoding.kind()),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                will_save: None,
                will_save_wait_until: None,
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(
                [".", "\"", "{", "(", "="]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            ..CompletionOptions::default()
        }),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        document_highlight_provider: Some(OneOf::Left(true)),
        rename_provider: Some(OneOf::Right(RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: WorkDoneProgressOptions::default(),
        })),
        document_symbol_provider: Some(OneOf::Left(true)),
        workspace_symbol_provider: Some(OneOf::Left(true)),
        inlay_hint_provider: Some(OneOf::Left(true)),
        signature_help_provider: Some(SignatureHelpOptions {
            trigger_characters: Some(vec!["(".into(), ",".into()]),
            retrigger_characters: None,
            work_done_progress_options: WorkDoneProgressOptions::default(),
        }),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
            SemanticTokensOptions {
                work_done_progress_options: WorkDoneProgressOptions::default(),
                legend: crate::semantic_tokens::legend(),
                range: None,
                full: Some(SemanticTokensFullOptions::Bool(true)),
            },
        )),
        document_formatting_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            work_done_progress_options: WorkDoneProgressOptions::default(),
            resolve_provider: None,
        })),
        code_lens_provider: Some(CodeLensOptions {
            resolve_provider: Some(false),
        }),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: vec![crate::code_lens::RUN_TEST.to_string()],
            work_done_progress_options: WorkDoneProgressOptions::default(),
        }),
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..ServerCapabilities::default()
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let offered = params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_deref());
        let encoding = Encoding::negotiate(offered);
        let snippets = params
            .capabilities
            .text_document
            .as_ref()
            .and_then(|t| t.completion.as_ref())
            .and_then(|c| c.completion_item.as_ref())
            .and_then(|i| i.snippet_support)
            .unwrap_or(false);
        let watch = params
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files.as_ref())
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        {
            let mut state = lock(&self.state);
            state.store.encoding = encoding;
            state.store.snippets = snippets;
            state.store.set_roots(workspace_roots(&params));
        }
        self.watch.store(watch, Ordering::SeqCst);
        Ok(InitializeResult {
            capabilities: capabilities(encoding),
            server_info: Some(ServerInfo {
                name: "rulec-lsp".into(),
                version: Some(env!("CARGO_PKG_VERSION").into()),
            }),
            offset_encoding: None,
        })
    }

    async fn initialized(&self, _: InitializedParams) {
        if !self.watch.load(Ordering::SeqCst) {
            return;
        }
        // Files that are not open (another file of a folder, `rulec.toml`) change too.
        let watchers: Vec<FileSystemWatcher> = ["**/*.rules", "**/rulec.toml"]
            .iter()
            .map(|glob| FileSystemWatcher {
                glob_pattern: GlobPattern::String(glob.to_string()),
                kind: None,
            })
            .collect();
        let options = DidChangeWatchedFilesRegistrationOptions { watchers };
        let registration = Registration {
            id: "rulec-watched-files".into(),
            method: "workspace/didChangeWatchedFiles".into(),
            register_options: serde_json::to_value(options).ok(),
        };
        let client = self.client.clone();
        tokio::spawn(async move {
            let _ = client.register_capability(vec![registration]).await;
        });
    }

    async fn shutdown(&self) -> Result<()> {
        self.shutdown.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        let doc = params.text_document;
        let affected = lock(&self.state)
            .store
            .open(doc.uri.clone(), doc.text, doc.version);
        self.report_config(&doc.uri);
        self.schedule_all(affected, Duration::ZERO);
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        let uri = params.text_document.uri;
        // Applied here, before any await, so changes keep their order.
        let affected = lock(&self.state).store.change(
            &uri,
            params.text_document.version,
            params.content_changes,
        );
        self.schedule_all(affected, self.debounce);
    }

    async fn did_save(&self, _: DidSaveTextDocumentParams) {
        // `rulec.toml` or the schema file may have changed.
        self.reanalyze_all();
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        let uri = params.text_document.uri;
        // The folder reads the file from disk again.
        let affected = lock(&self.state).store.close(&uri);
        self.client.publish_diagnostics(uri, Vec::new(), None).await;
        self.schedule_all(affected, Duration::ZERO);
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        {
            let mut state = lock(&self.state);
            let removed: Vec<std::path::PathBuf> = params
                .event
                .removed
                .iter()
                .filter_map(|f| f.uri.to_file_path())
                .map(|p| crate::folder::canonical(&p))
                .collect();
            let mut roots: Vec<std::path::PathBuf> = state
                .store
                .roots()
                .iter()
                .filter(|r| !removed.contains(r))
                .cloned()
                .collect();
            roots.extend(
                params
                    .event
                    .added
                    .iter()
                    .filter_map(|f| f.uri.to_file_path().map(|p| p.into_owned())),
            );
            state.store.set_roots(roots);
        }
        self.reanalyze_all();
    }

    async fn did_change_watched_files(&self, params: DidChangeWatchedFilesParams) {
        let paths: Vec<std::path::PathBuf> = params
            .changes
            .iter()
            .filter_map(|c| c.uri.to_file_path().map(|p| p.into_owned()))
            .collect();
        let config = paths.iter().any(|p| {
            p.file_name()
                .is_some_and(|n| n == rulec::workspace::CONFIG_FILE)
        });
        if config {
            // Folders and settings may have changed.
            self.reanalyze_all();
        } else {
            let affected = lock(&self.state).store.touched(&paths);
            self.schedule_all(affected, self.debounce);
        }
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        let p = params.text_document_position_params;
        Ok(self
            .answer(&p.text_document.uri, |a, lines, _| {
                crate::hover::hover(a, lines, p.position)
            })?
            .flatten())
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        let p = params.text_document_position;
        let snippets = lock(&self.state).store.snippets;
        self.answer_latest(&p.text_document.uri, |a, lines| {
            let items = crate::completion::completion(a, lines, p.position);
            CompletionResponse::Array(if snippets {
                items
            } else {
                crate::completion::without_snippets(items)
            })
        })
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        let p = params.text_document_position_params;
        let uri = p.text_document.uri.clone();
        Ok(self
            .answer(&p.text_document.uri, |a, lines, encoding| {
                crate::definition::definition(a, lines, &uri, p.position, encoding)
                    .map(GotoDefinitionResponse::Scalar)
            })?
            .flatten())
    }

    async fn references(&self, params: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let p = params.text_document_position;
        let uri = p.text_document.uri.clone();
        let include = params.context.include_declaration;
        Ok(self
            .answer(&p.text_document.uri, |a, lines, encoding| {
                crate::references::references(a, lines, &uri, p.position, include, encoding)
            })?
            .flatten())
    }

    async fn document_highlight(
        &self,
        params: DocumentHighlightParams,
    ) -> Result<Option<Vec<DocumentHighlight>>> {
        let p = params.text_document_position_params;
        Ok(self
            .answer(&p.text_document.uri, |a, lines, _| {
                crate::references::highlights(a, lines, p.position)
            })?
            .flatten())
    }

    async fn prepare_rename(
        &self,
        params: TextDocumentPositionParams,
    ) -> Result<Option<PrepareRenameResponse>> {
        Ok(self
            .answer(&params.text_document.uri, |a, lines, _| {
                crate::rename::prepare(a, lines, params.position)
            })?
            .flatten()
            .map(PrepareRenameResponse::Range))
    }

    async fn rename(&self, params: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let p = params.text_document_position;
        let uri = p.text_document.uri.clone();
        let answer = self.answer(&p.text_document.uri, |a, lines, encoding| {
            crate::rename::rename(a, lines, &uri, p.position, &params.new_name, encoding)
        })?;
        match answer {
            None => Ok(None),
            Some(Ok(edit)) => Ok(edit),
            Some(Err(message)) => Err(tower_lsp_server::jsonrpc::Error::invalid_params(message)),
        }
    }

    async fn symbol(
        &self,
        params: WorkspaceSymbolParams,
    ) -> Result<Option<WorkspaceSymbolResponse>> {
        let (uris, encoding) = {
            let state = lock(&self.state);
            (state.store.uris(), state.store.encoding)
        };
        let mut folders: Vec<Arc<FolderAnalysis>> = Vec::new();
        for uri in uris {
            let analysis = lock(&self.state).store.latest_analysis(&uri);
            let Some(analysis) = analysis.or_else(|| self.snapshot(&uri).map(|s| s.0)) else {
                continue;
            };
            if !folders.iter().any(|f| Arc::ptr_eq(f, &analysis.folder)) {
                folders.push(analysis.folder.clone());
            }
        }
        let run = || crate::symbols::workspace_symbols(&folders, &params.query, encoding);
        let found = catch_unwind(AssertUnwindSafe(run)).map_err(|_| handler_panicked())?;
        Ok(Some(WorkspaceSymbolResponse::Nested(found)))
    }

    async fn signature_help(&self, params: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        let p = params.text_document_position_params;
        Ok(self
            .answer(&p.text_document.uri, |a, lines, _| {
                let offset = lines.offset(p.position);
                let start = a.item_at(offset).map_or(0, |(_, item)| item.span().lo());
                let before = a.text().get(start..offset)?;
                crate::signature::signature_help(a.schema(), before)
            })?
            .flatten())
    }

    async fn inlay_hint(&self, params: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        self.answer(&params.text_document.uri, |a, lines, _| {
            crate::inlay::inlay_hints(a, lines, params.range)
        })
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        self.answer(&params.text_document.uri, |a, lines, _| {
            DocumentSymbolResponse::Nested(crate::symbols::document_symbols(a, lines))
        })
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.answer(&params.text_document.uri, |a, lines, _| {
            crate::folding::folding_ranges(a, lines)
        })
    }

    async fn semantic_tokens_full(
        &self,
        params: SemanticTokensParams,
    ) -> Result<Option<SemanticTokensResult>> {
        self.answer(&params.text_document.uri, |a, lines, _| {
            SemanticTokensResult::Tokens(crate::semantic_tokens::semantic_tokens(a, lines))
        })
    }

    async fn formatting(&self, params: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.answer(&params.text_document.uri, |a, lines, _| {
            crate::formatting::format(a, lines)
        })
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        let uri = params.text_document.uri.clone();
        self.answer(&params.text_document.uri, |a, lines, _| {
            crate::code_actions::code_actions(a, lines, &uri, params.range)
        })
    }

    async fn code_lens(&self, params: CodeLensParams) -> Result<Option<Vec<CodeLens>>> {
        let uri = params.text_document.uri.clone();
        self.answer(&params.text_document.uri, |a, lines, _| {
            crate::code_lens::code_lenses(a, lines, &uri)
        })
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        if params.command != crate::code_lens::RUN_TEST {
            return Err(Error::invalid_params(format!(
                "unknown command `{}`; this server runs `{}`",
                params.command,
                crate::code_lens::RUN_TEST
            )));
        }
        let uri = params
            .arguments
            .first()
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<Uri>().ok());
        let offset = params.arguments.get(1).and_then(|v| v.as_u64());
        let (Some(uri), Some(offset)) = (uri, offset) else {
            return Err(Error::invalid_params(
                "expected the arguments [document URI, test offset]",
            ));
        };
        let outcome = self.answer(&uri, |a, _, _| {
            crate::code_lens::run_test(a, offset as usize)
        })?;
        let Some((passed, message)) = outcome else {
            return Err(Error::invalid_params("the document is not open"));
        };
        let kind = if passed {
            MessageType::INFO
        } else {
            MessageType::ERROR
        };
        self.client.show_message(kind, &message).await;
        Ok(Some(
            serde_json::json!({ "passed": passed, "message": message }),
        ))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

    use super::*;
    use tower_lsp_server::LspService;

    #[tokio::test]
    async fn a_panicking_handler_answers_an_error_and_the_server_goes_on() {
        let (service, _socket) =
            LspService::new(|client| Backend::new(client, Arc::new(AtomicBool::new(false))));
        let backend = service.inner();
        let uri: Uri = "file:///tmp/rulec-lsp-panic/a.rules".parse().unwrap();
        backend
            .did_open(DidOpenTextDocumentParams {
                text_document: TextDocumentItem::new(
                    uri.clone(),
                    "rulec".into(),
                    1,
                    "when deals created and value > 5 do slack \"#x\"\n".into(),
                ),
            })
            .await;
        let failed = backend.answer(&uri, |_, _, _| -> u32 { panic!("a bug") });
        assert!(failed.is_err());
        // The store survived: the next request is answered normally.
        let symbols = backend.answer(&uri, |a, lines, _| {
            crate::symbols::document_symbols(a, lines).len()
        });
        assert_eq!(symbols.unwrap(), Some(1));
    }

    #[tokio::test]
    async fn requests_arriving_together_share_one_analysis() {
        let (service, _socket) =
            LspService::new(|client| Backend::new(client, Arc::new(AtomicBool::new(false))));
        let backend = service.inner();
        let uri: Uri = "file:///tmp/rulec-lsp-together/a.rules".parse().unwrap();
        let text: String = (0..300)
            .map(|i| format!("when deals created and value > {i} do slack \"#x\"\n"))
            .collect();
        backend
            .did_open(DidOpenTextDocumentParams {
                text_document: TextDocumentItem::new(uri.clone(), "rulec".into(), 1, text),
            })
            .await;
        // The publisher's task has not run (this thread never yields): four requests
        // find no analysis and ask for one at the same moment.
        let start = std::sync::Barrier::new(4);
        let analyses: Vec<Arc<DocAnalysis>> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        backend.snapshot(&uri).unwrap().0
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        for a in &analyses[1..] {
            assert!(
                Arc::ptr_eq(&a.folder, &analyses[0].folder),
                "requests made an analysis each"
            );
        }
    }
}
