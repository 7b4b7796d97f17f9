//! `ssot-gardener server`: a Language Server Protocol server over stdio.
//!
//! The graph is built once, from the repository the client opens (the walk uses the fact
//! cache as `check` does), and kept in memory. An open buffer overlays its file
//! ([`Walk::overlay`]): a change re-collects that buffer only, then the graph is resolved
//! and the rules run again, once per burst of changes (the queue is drained first). Every
//! open document gets its findings as diagnostics; a finding's fix is a quick fix (checked
//! as `fix` checks it: a fix that adds a syntax error is not offered), `source.fixAll` runs
//! the fix loop over the document, and hover on an imported name says where it resolves and,
//! for a concept's class, its canonical path.
//!
//! All on one thread: the messages in order, the resolver's own parallelism inside.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types as lsp;
use serde_json::Value;

use crate::concept::{self, ConceptTable};
use crate::config::Settings;
use crate::facts::Span;
use crate::graph::{Graph, Resolution};
use crate::rules::{self, Applicability, Finding, Selection};
use crate::walk::Walk;

/// Runs the server on stdin and stdout until the client says `exit`.
pub fn run(config: Option<PathBuf>, threads: usize) -> Result<(), String> {
    let (connection, io_threads) = Connection::stdio();
    let (id, params) = connection
        .initialize_start()
        .map_err(|error| format!("error: the client did not initialize: {error}"))?;
    let params: lsp::InitializeParams = serde_json::from_value(params)
        .map_err(|error| format!("error: bad initialize parameters: {error}"))?;
    let encoding = Encoding::choose(&params);
    let capabilities = lsp::ServerCapabilities {
        position_encoding: Some(encoding.kind()),
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::INCREMENTAL),
                save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        code_action_provider: Some(lsp::CodeActionProviderCapability::Options(
            lsp::CodeActionOptions {
                code_action_kinds: Some(vec![
                    lsp::CodeActionKind::QUICKFIX,
                    lsp::CodeActionKind::from(FIX_ALL),
                ]),
                ..Default::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        ..Default::default()
    };
    let result = serde_json::json!({
        "capabilities": capabilities,
        "serverInfo": {"name": "ssot-gardener", "version": env!("CARGO_PKG_VERSION")},
    });
    connection
        .initialize_finish(id, result)
        .map_err(|error| format!("error: the client did not initialize: {error}"))?;
    let root = workspace_root(&params);
    let mut server = Server {
        sender: connection.sender.clone(),
        config,
        threads,
        root,
        encoding,
        workspace: None,
        documents: BTreeMap::new(),
        pending: BTreeMap::new(),
        dirty: false,
        published: BTreeMap::new(),
    };
    server.load();
    let served = server.serve(&connection);
    // The writer thread ends when every sender is gone.
    drop(server);
    drop(connection);
    served?;
    io_threads
        .join()
        .map_err(|error| format!("error: the connection failed: {error}"))
}

/// The code action kind of "fix everything in this file".
const FIX_ALL: &str = "source.fixAll.ssot-gardener";

struct Server {
    sender: crossbeam_channel::Sender<Message>,
    config: Option<PathBuf>,
    threads: usize,
    /// The directory the client opened; `None` when it named none (then nothing is checked).
    root: Option<PathBuf>,
    encoding: Encoding,
    /// `None` until the repository is loaded, or when its configuration is broken.
    workspace: Option<Workspace>,
    /// Open documents by URI.
    documents: BTreeMap<String, Document>,
    /// Root-relative paths whose text changed since the graph was built: the buffer's text,
    /// or `None` for "as it is on disk now" (closed, or changed outside the editor).
    pending: BTreeMap<String, Option<String>>,
    /// The graph does not describe `pending` yet.
    dirty: bool,
    /// What each open document was last sent, so an unchanged list is not sent again.
    published: BTreeMap<String, Vec<lsp::Diagnostic>>,
}

struct Document {
    /// Root-relative, `/`-separated; `None` for a file outside the repository.
    path: Option<String>,
    text: String,
    version: i32,
}

struct Workspace {
    settings: Settings,
    selection: Selection,
    /// The root, with every link followed (to match a document's path against).
    canonical_root: PathBuf,
    graph: Graph,
    tables: Vec<ConceptTable>,
    findings: Vec<Finding>,
}

impl Server {
    fn serve(&mut self, connection: &Connection) -> Result<(), String> {
        loop {
            // A burst of changes is applied at once: the graph is refreshed when the queue
            // is empty (or a request needs it), not after every keystroke.
            let message = if self.dirty {
                match connection.receiver.try_recv() {
                    Ok(message) => message,
                    Err(crossbeam_channel::TryRecvError::Empty) => {
                        self.refresh();
                        continue;
                    }
                    Err(crossbeam_channel::TryRecvError::Disconnected) => return Ok(()),
                }
            } else {
                match connection.receiver.recv() {
                    Ok(message) => message,
                    Err(_) => return Ok(()),
                }
            };
            match message {
                Message::Request(request) => {
                    if connection
                        .handle_shutdown(&request)
                        .map_err(|error| format!("error: {error}"))?
                    {
                        return Ok(());
                    }
                    self.request(request);
                }
                Message::Notification(notification) => self.notification(notification),
                Message::Response(_) => {}
            }
        }
    }

    /// Reads the settings and builds the graph from the disk, then applies the open buffers.
    fn load(&mut self) {
        self.workspace = None;
        let Some(root) = self.root.clone() else {
            self.show(
                lsp::MessageType::WARNING,
                "ssot-gardener: no workspace folder is open; nothing is checked",
            );
            return;
        };
        let loaded = crate::cli::load_settings(self.config.as_deref(), &root);
        let (settings, selection) = match loaded {
            Ok(loaded) => loaded,
            Err(message) => {
                self.show(
                    lsp::MessageType::ERROR,
                    &format!("ssot-gardener: {message}"),
                );
                return;
            }
        };
        let (walk, store) = crate::cli::walk_repository(&settings, self.threads, true);
        let graph = crate::cli::resolve_walk(&settings, walk, store);
        let canonical_root =
            std::fs::canonicalize(&settings.root).unwrap_or_else(|_| settings.root.clone());
        self.workspace = Some(Workspace {
            settings,
            selection,
            canonical_root,
            graph,
            tables: Vec::new(),
            findings: Vec::new(),
        });
        // Every open document's path is found again against the new root, and its buffer
        // laid over the file.
        let uris: Vec<String> = self.documents.keys().cloned().collect();
        for uri in uris {
            let path = self.relative(&uri);
            if let Some(document) = self.documents.get_mut(&uri) {
                document.path = path.clone();
                if let Some(path) = path {
                    self.pending.insert(path, Some(document.text.clone()));
                }
            }
        }
        self.dirty = true;
        self.refresh();
    }

    /// Brings the graph up to date with `pending`, runs the rules, and publishes.
    fn refresh(&mut self) {
        self.dirty = false;
        let Some(workspace) = &mut self.workspace else {
            self.pending.clear();
            return;
        };
        let pending = std::mem::take(&mut self.pending);
        if !pending.is_empty() {
            let mut walk: Walk = std::mem::take(&mut workspace.graph).into_walk();
            for (path, text) in pending {
                let text = match text {
                    Some(text) => Some(text.into_bytes()),
                    None => std::fs::read(workspace.settings.root.join(&path)).ok(),
                };
                match text {
                    Some(text) => {
                        walk.overlay(&workspace.settings, &path, text);
                    }
                    None => walk.remove(&path),
                }
            }
            workspace.graph =
                crate::python::resolve::resolve(walk, &workspace.settings.python_roots);
        }
        match concept::build(&workspace.graph, &workspace.settings.concepts) {
            Ok(tables) => workspace.tables = tables,
            Err(errors) => {
                let message = errors
                    .iter()
                    .map(|error| error.message.clone())
                    .collect::<Vec<_>>()
                    .join("; ");
                workspace.tables = Vec::new();
                workspace.findings = Vec::new();
                self.show(
                    lsp::MessageType::ERROR,
                    &format!("ssot-gardener: a canonical path names nothing: {message}"),
                );
                self.publish();
                return;
            }
        }
        let cx = rules::Context {
            graph: &workspace.graph,
            settings: &workspace.settings,
            tables: &workspace.tables,
            unsafe_fixes: false,
        };
        workspace.findings = rules::check(&cx, &workspace.selection);
        self.publish();
    }

    /// Sends each open document its diagnostics, when they changed.
    fn publish(&mut self) {
        let mut sends = Vec::new();
        for (uri, document) in &self.documents {
            let diagnostics = match (&self.workspace, &document.path) {
                (Some(workspace), Some(path)) => workspace
                    .findings
                    .iter()
                    .filter(|finding| &finding.path == path)
                    .map(|finding| diagnostic(finding, &document.text, self.encoding))
                    .collect(),
                _ => Vec::new(),
            };
            if self.published.get(uri) != Some(&diagnostics) {
                sends.push((uri.clone(), document.version, diagnostics));
            }
        }
        for (uri, version, diagnostics) in sends {
            self.published.insert(uri.clone(), diagnostics.clone());
            self.send_diagnostics(&uri, Some(version), diagnostics);
        }
    }

    fn send_diagnostics(&self, uri: &str, version: Option<i32>, diagnostics: Vec<lsp::Diagnostic>) {
        let Ok(uri) = lsp::Uri::from_str(uri) else {
            return;
        };
        let params = lsp::PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        };
        self.notify("textDocument/publishDiagnostics", params);
    }

    fn notification(&mut self, notification: Notification) {
        let params = notification.params;
        match notification.method.as_str() {
            "textDocument/didOpen" => {
                let Ok(params) = serde_json::from_value::<lsp::DidOpenTextDocumentParams>(params)
                else {
                    return;
                };
                let uri = params.text_document.uri.as_str().to_string();
                let path = self.relative(&uri);
                if let Some(path) = &path {
                    self.pending
                        .insert(path.clone(), Some(params.text_document.text.clone()));
                }
                self.documents.insert(
                    uri,
                    Document {
                        path,
                        text: params.text_document.text,
                        version: params.text_document.version,
                    },
                );
                self.dirty = true;
            }
            "textDocument/didChange" => {
                let Ok(params) = serde_json::from_value::<lsp::DidChangeTextDocumentParams>(params)
                else {
                    return;
                };
                let uri = params.text_document.uri.as_str();
                let Some(document) = self.documents.get_mut(uri) else {
                    return;
                };
                for change in params.content_changes {
                    match change.range {
                        None => document.text = change.text,
                        Some(range) => {
                            let start = self.encoding.offset(&document.text, range.start);
                            let end = self.encoding.offset(&document.text, range.end);
                            if start <= end {
                                document.text.replace_range(start..end, &change.text);
                            }
                        }
                    }
                }
                document.version = params.text_document.version;
                if let Some(path) = &document.path {
                    self.pending
                        .insert(path.clone(), Some(document.text.clone()));
                }
                self.dirty = true;
            }
            "textDocument/didClose" => {
                let Ok(params) = serde_json::from_value::<lsp::DidCloseTextDocumentParams>(params)
                else {
                    return;
                };
                let uri = params.text_document.uri.as_str().to_string();
                if let Some(Document {
                    path: Some(path), ..
                }) = self.documents.remove(&uri)
                {
                    self.pending.insert(path, None);
                    self.dirty = true;
                }
                self.published.remove(&uri);
                self.send_diagnostics(&uri, None, Vec::new());
            }
            "workspace/didChangeWatchedFiles" => {
                let Ok(params) = serde_json::from_value::<lsp::DidChangeWatchedFilesParams>(params)
                else {
                    return;
                };
                let config = self
                    .workspace
                    .as_ref()
                    .and_then(|workspace| workspace.settings.config_path.clone());
                for change in params.changes {
                    let uri = change.uri.as_str();
                    let path = uri_path(uri);
                    let is_config = path.as_ref().is_some_and(|path| {
                        config.as_deref() == Some(path.as_path())
                            || path
                                .file_name()
                                .is_some_and(|name| name == "ssot.toml" || name == "pyproject.toml")
                    });
                    if is_config {
                        self.load();
                        return;
                    }
                    let open = self.documents.contains_key(uri);
                    if let (false, Some(relative)) = (open, self.relative(uri)) {
                        self.pending.insert(relative, None);
                        self.dirty = true;
                    }
                }
            }
            _ => {}
        }
    }

    fn request(&mut self, request: Request) {
        if self.dirty {
            self.refresh();
        }
        let id = request.id.clone();
        let result = match request.method.as_str() {
            "textDocument/codeAction" => serde_json::from_value(request.params)
                .map(|params| self.code_actions(&params))
                .map_err(|error| error.to_string()),
            "textDocument/hover" => serde_json::from_value(request.params)
                .map(|params| self.hover(&params))
                .map_err(|error| error.to_string()),
            _ => {
                self.respond(Response::new_err(
                    id,
                    ErrorCode::MethodNotFound as i32,
                    format!("unknown request `{}`", request.method),
                ));
                return;
            }
        };
        self.respond(match result {
            Ok(value) => Response::new_ok(id, value),
            Err(message) => Response::new_err(id, ErrorCode::InvalidParams as i32, message),
        });
    }

    /// The quick fixes of the findings under the range, and "fix all" for the document.
    fn code_actions(&mut self, params: &lsp::CodeActionParams) -> Value {
        let uri = params.text_document.uri.as_str().to_string();
        let wanted = |kind: &str| {
            params.context.only.as_ref().is_none_or(|only| {
                only.iter().any(|want| {
                    kind == want.as_str() || kind.starts_with(&format!("{}.", want.as_str()))
                })
            })
        };
        let (Some(workspace), Some(document)) = (&self.workspace, self.documents.get(&uri)) else {
            return Value::Array(Vec::new());
        };
        let Some(path) = &document.path else {
            return Value::Array(Vec::new());
        };
        let mut actions = Vec::new();
        let start = self.encoding.offset(&document.text, params.range.start);
        let end = self.encoding.offset(&document.text, params.range.end);
        let mut any_fix = false;
        for finding in workspace.findings.iter().filter(|f| &f.path == path) {
            let Some(fix) = &finding.fix else { continue };
            if fix.applicability == Applicability::DisplayOnly || fix.edits.is_empty() {
                continue;
            }
            any_fix |= fix.applicability == Applicability::Safe;
            let (span_start, span_end) = (finding.span.start as usize, finding.span.end as usize);
            let touches = span_start <= end && start <= span_end;
            if !touches || !wanted(lsp::CodeActionKind::QUICKFIX.as_str()) {
                continue;
            }
            // The guard of `fix`: a fix that would add a syntax error is not offered.
            let Some(file) = finding.file else { continue };
            let language = workspace.graph.files[file].language;
            let text = document.text.as_bytes();
            let errors = workspace.graph.files[file].facts.errors.len();
            if crate::fix::apply_checked(language, text, errors, &fix.edits).is_none() {
                continue;
            }
            let edits: Vec<lsp::TextEdit> = fix
                .edits
                .iter()
                .map(|edit| lsp::TextEdit {
                    range: self.encoding.range(&document.text, edit.span),
                    new_text: edit.content.clone(),
                })
                .collect();
            let safe = fix.applicability == Applicability::Safe;
            let what = finding.help.as_deref().unwrap_or(&finding.message);
            let title = if safe {
                format!("{}: {what}", finding.rule.code())
            } else {
                format!("{} (unsafe): {what}", finding.rule.code())
            };
            actions.push(lsp::CodeAction {
                title,
                kind: Some(lsp::CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic(finding, &document.text, self.encoding)]),
                edit: Some(workspace_edit(&uri, edits)),
                is_preferred: Some(safe),
                ..Default::default()
            });
        }
        if any_fix && wanted(FIX_ALL) {
            let path = path.clone();
            if let Some(fixed) = self.fix_all(&path) {
                let document = &self.documents[&uri];
                let whole = lsp::Range {
                    start: lsp::Position::new(0, 0),
                    end: self.encoding.position(&document.text, document.text.len()),
                };
                actions.push(lsp::CodeAction {
                    title: "ssot-gardener: fix all safe fixes in this file".to_string(),
                    kind: Some(lsp::CodeActionKind::from(FIX_ALL)),
                    edit: Some(workspace_edit(
                        &uri,
                        vec![lsp::TextEdit {
                            range: whole,
                            new_text: fixed,
                        }],
                    )),
                    ..Default::default()
                });
            }
        }
        serde_json::to_value(actions).unwrap_or(Value::Null)
    }

    /// The document's text after the fix loop's safe fixes (only this file changed), or `None`
    /// when nothing changes; the graph is given the buffer back afterwards.
    fn fix_all(&mut self, path: &str) -> Option<String> {
        let workspace = self.workspace.as_mut()?;
        let graph = std::mem::take(&mut workspace.graph);
        let outcome = crate::fix::fix(
            graph,
            &workspace.settings,
            &workspace.selection,
            false,
            &|candidate| candidate == path,
        );
        let Ok(outcome) = outcome else {
            // The graph went with the failed loop: built again.
            self.load();
            return None;
        };
        let fixed = outcome
            .graph
            .files
            .binary_search_by(|file| file.path.as_str().cmp(path))
            .ok()
            .filter(|file| outcome.originals.contains_key(file))
            .map(|file| String::from_utf8_lossy(outcome.graph.files[file].text()).into_owned());
        let mut walk = outcome.graph.into_walk();
        let buffer = self
            .documents
            .values()
            .find(|document| document.path.as_deref() == Some(path))
            .map(|document| document.text.clone().into_bytes());
        if let Some(buffer) = buffer {
            walk.overlay(&workspace.settings, path, buffer);
        }
        workspace.graph = crate::python::resolve::resolve(walk, &workspace.settings.python_roots);
        fixed
    }

    /// Where the imported name under the cursor resolves, and the concept it belongs to.
    fn hover(&self, params: &lsp::HoverParams) -> Value {
        let position = &params.text_document_position_params;
        let uri = position.text_document.uri.as_str();
        let (Some(workspace), Some(document)) = (&self.workspace, self.documents.get(uri)) else {
            return Value::Null;
        };
        let Some(path) = &document.path else {
            return Value::Null;
        };
        let graph = &workspace.graph;
        let Ok(file) = graph
            .files
            .binary_search_by(|file| file.path.as_str().cmp(path))
        else {
            return Value::Null;
        };
        let offset = self.encoding.offset(&document.text, position.position) as u32;
        let facts = &graph.files[file].facts;
        let module = &graph.modules[file];
        for (index, import) in facts.imports.iter().enumerate() {
            if !(import.span.start <= offset && offset <= import.span.end) {
                continue;
            }
            for (name_index, name) in import.names.iter().enumerate() {
                if !(name.span.start <= offset && offset <= name.span.end) {
                    continue;
                }
                let resolution = module
                    .resolutions
                    .get(index)
                    .and_then(|r| r.get(name_index));
                let text = describe(workspace, resolution, &name.name);
                let hover = lsp::Hover {
                    contents: lsp::HoverContents::Markup(lsp::MarkupContent {
                        kind: lsp::MarkupKind::Markdown,
                        value: text,
                    }),
                    range: Some(self.encoding.range(&document.text, name.span)),
                };
                return serde_json::to_value(hover).unwrap_or(Value::Null);
            }
        }
        Value::Null
    }

    /// The root-relative path of a document, when it is a file inside the repository.
    fn relative(&self, uri: &str) -> Option<String> {
        let workspace = self.workspace.as_ref()?;
        let path = uri_path(uri)?;
        let inside = path
            .strip_prefix(&workspace.settings.root)
            .ok()
            .map(Path::to_path_buf)
            .or_else(|| {
                // Through links: the file itself may not exist yet (a new buffer).
                let parent = std::fs::canonicalize(path.parent()?).ok()?;
                let full = parent.join(path.file_name()?);
                full.strip_prefix(&workspace.canonical_root)
                    .ok()
                    .map(Path::to_path_buf)
            })?;
        let relative = crate::walk::relative_path(Path::new(""), &inside);
        (!relative.is_empty()).then_some(relative)
    }

    fn show(&self, kind: lsp::MessageType, message: &str) {
        self.notify(
            "window/showMessage",
            lsp::ShowMessageParams {
                typ: kind,
                message: message.to_string(),
            },
        );
    }

    fn notify(&self, method: &str, params: impl serde::Serialize) {
        let _ = self.sender.send(Message::Notification(Notification::new(
            method.to_string(),
            params,
        )));
    }

    fn respond(&self, response: Response) {
        let _ = self.sender.send(Message::Response(response));
    }
}

// lsp-types keys the edits by `Uri`, whose parsed form caches lazily: never mutated here.
#[allow(clippy::mutable_key_type)]
fn workspace_edit(uri: &str, edits: Vec<lsp::TextEdit>) -> lsp::WorkspaceEdit {
    let mut changes = std::collections::HashMap::new();
    if let Ok(uri) = lsp::Uri::from_str(uri) {
        changes.insert(uri, edits);
    }
    lsp::WorkspaceEdit {
        changes: Some(changes),
        ..Default::default()
    }
}

/// A finding as a diagnostic of the document whose text is `text`.
fn diagnostic(finding: &Finding, text: &str, encoding: Encoding) -> lsp::Diagnostic {
    let mut message = finding.message.clone();
    if let Some(help) = &finding.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let severity = match finding.rule {
        rules::Rule::SyntaxError | rules::Rule::BrokenImport | rules::Rule::AwaitMismatch => {
            lsp::DiagnosticSeverity::ERROR
        }
        _ => lsp::DiagnosticSeverity::WARNING,
    };
    lsp::Diagnostic {
        range: encoding.range(text, finding.span),
        severity: Some(severity),
        code: Some(lsp::NumberOrString::String(finding.rule.code().to_string())),
        source: Some("ssot-gardener".to_string()),
        message,
        ..Default::default()
    }
}

/// Markdown for a hover: the resolution, the definition's place, the concept.
fn describe(workspace: &Workspace, resolution: Option<&Resolution>, name: &str) -> String {
    let graph = &workspace.graph;
    let mut lines = Vec::new();
    match resolution {
        Some(Resolution::Resolved { origins }) => {
            for origin in origins {
                let kind = format!("{:?}", origin.kind).to_lowercase();
                let target = match &origin.symbol {
                    Some(symbol) => format!("{}:{symbol}", origin.module),
                    None => origin.module.clone(),
                };
                let mut line = format!("`{name}` resolves to `{target}` ({kind})");
                let module = graph.by_name.get(&origin.module).copied();
                if let (Some(module), Some(symbol)) = (module, &origin.symbol) {
                    let file = &graph.files[graph.modules[module].file];
                    let definition = file.facts.definitions.iter().find(|definition| {
                        definition.parent.is_none() && &definition.name == symbol
                    });
                    if let Some(definition) = definition {
                        let line_number = crate::facts::LineIndex::new(file.text())
                            .line(definition.name_span.start);
                        line.push_str(&format!(", defined at `{}:{line_number}`", file.path));
                    }
                }
                lines.push(line);
                for table in &workspace.tables {
                    if &table.origin == origin {
                        let concept = &workspace.settings.concepts[table.concept];
                        lines.push(format!(
                            "concept `{}`: import it as `{}`",
                            concept.name, concept.canonical
                        ));
                    }
                }
            }
        }
        Some(Resolution::MissingName { module }) => {
            lines.push(format!("`{name}`: `{module}` binds no such name"));
        }
        Some(Resolution::MissingModule { module }) => {
            lines.push(format!("`{name}`: no module `{module}` in the repository"));
        }
        Some(Resolution::External { module }) => {
            lines.push(format!("`{name}`: outside the repository (`{module}`)"));
        }
        Some(Resolution::Dynamic { module }) => {
            lines.push(format!(
                "`{name}`: `{module}` defines `__getattr__`: any name may exist"
            ));
        }
        None => lines.push(format!("`{name}`: not resolved")),
    }
    lines.join("\n\n")
}

/// The workspace folder the client opened: the first folder, else the root URI or path.
fn workspace_root(params: &lsp::InitializeParams) -> Option<PathBuf> {
    if let Some(folder) = params.workspace_folders.as_ref().and_then(|f| f.first()) {
        return uri_path(folder.uri.as_str());
    }
    #[allow(deprecated)]
    if let Some(uri) = &params.root_uri {
        return uri_path(uri.as_str());
    }
    #[allow(deprecated)]
    params.root_path.as_ref().map(PathBuf::from)
}

/// The local path of a `file:` URI (percent-escapes decoded); `None` for another scheme.
fn uri_path(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    // `file://host/path`: only the local host is a path here.
    let path = if rest.starts_with('/') {
        rest
    } else {
        rest.strip_prefix("localhost")?
    };
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = bytes
                .get(i + 1..i + 3)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStringExt;
        Some(PathBuf::from(std::ffi::OsString::from_vec(out)))
    }
    #[cfg(not(unix))]
    {
        Some(PathBuf::from(String::from_utf8_lossy(&out).into_owned()))
    }
}

/// How positions count columns: UTF-8 bytes when the client can, else UTF-16 code units
/// (the protocol's default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Utf8,
    Utf16,
}

impl Encoding {
    fn choose(params: &lsp::InitializeParams) -> Encoding {
        let offered = params
            .capabilities
            .general
            .as_ref()
            .and_then(|general| general.position_encodings.as_ref());
        match offered {
            Some(kinds) if kinds.contains(&lsp::PositionEncodingKind::UTF8) => Encoding::Utf8,
            _ => Encoding::Utf16,
        }
    }

    fn kind(self) -> lsp::PositionEncodingKind {
        match self {
            Encoding::Utf8 => lsp::PositionEncodingKind::UTF8,
            Encoding::Utf16 => lsp::PositionEncodingKind::UTF16,
        }
    }

    fn range(self, text: &str, span: Span) -> lsp::Range {
        lsp::Range {
            start: self.position(text, span.start as usize),
            end: self.position(text, span.end as usize),
        }
    }

    /// The position of byte `offset` (clamped to the text, and back to a character boundary).
    fn position(self, text: &str, offset: usize) -> lsp::Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        // The `\n` of a `\r\n` is still the end of its line.
        if offset > 0
            && text.as_bytes()[offset - 1] == b'\r'
            && text.as_bytes().get(offset) == Some(&b'\n')
        {
            offset -= 1;
        }
        let before = &text[..offset];
        let (line, start) = line_of(before);
        let prefix = &before[start..];
        let character = match self {
            Encoding::Utf8 => prefix.len(),
            Encoding::Utf16 => prefix.encode_utf16().count(),
        };
        lsp::Position::new(line, character as u32)
    }

    /// The byte offset of a position; a line past the end is the end, a column past the line
    /// is the line's end.
    fn offset(self, text: &str, position: lsp::Position) -> usize {
        let bytes = text.as_bytes();
        let mut start = 0;
        for _ in 0..position.line {
            match memchr::memchr2(b'\n', b'\r', &bytes[start..]) {
                Some(at) => {
                    let at = start + at;
                    start = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
                        at + 2
                    } else {
                        at + 1
                    };
                }
                None => return text.len(),
            }
        }
        let end =
            memchr::memchr2(b'\n', b'\r', &bytes[start..]).map_or(text.len(), |at| start + at);
        let line = &text[start..end];
        let wanted = position.character as usize;
        match self {
            Encoding::Utf8 => {
                let mut at = wanted.min(line.len());
                while !line.is_char_boundary(at) {
                    at -= 1;
                }
                start + at
            }
            Encoding::Utf16 => {
                let mut units = 0;
                for (at, character) in line.char_indices() {
                    if units >= wanted {
                        return start + at;
                    }
                    units += character.len_utf16();
                }
                end
            }
        }
    }
}

/// The 0-based line of the end of `before`, and the byte where that line starts (`\n`, `\r\n`
/// and a lone `\r` end a line).
fn line_of(before: &str) -> (u32, usize) {
    let bytes = before.as_bytes();
    let (mut line, mut start, mut i) = (0u32, 0, 0);
    while let Some(at) = memchr::memchr2(b'\n', b'\r', &bytes[i..]) {
        let at = i + at;
        let next = if bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n') {
            at + 2
        } else {
            at + 1
        };
        line += 1;
        start = next;
        i = next;
        if i >= bytes.len() {
            break;
        }
    }
    // A `\r` that ends `before` may be the first half of `\r\n`: still one break.
    (line, start.min(bytes.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip_in_both_encodings() {
        let text = "a = 1\r\nbé = \"😀x\"\rz\n";
        for encoding in [Encoding::Utf8, Encoding::Utf16] {
            for (offset, _) in text
                .char_indices()
                .filter(|&(at, c)| c != '\n' || !text[..at].ends_with('\r'))
            {
                let position = encoding.position(text, offset);
                assert_eq!(
                    encoding.offset(text, position),
                    offset,
                    "{encoding:?} {offset}"
                );
            }
        }
        let x = text.find('x').expect("x");
        assert_eq!(Encoding::Utf16.position(text, x), lsp::Position::new(1, 8));
        assert_eq!(Encoding::Utf8.position(text, x), lsp::Position::new(1, 11));
        let z = text.find('z').expect("z");
        assert_eq!(Encoding::Utf16.position(text, z), lsp::Position::new(2, 0));
        // Past the end of a line or of the text.
        assert_eq!(Encoding::Utf16.offset(text, lsp::Position::new(0, 99)), 5);
        assert_eq!(
            Encoding::Utf16.offset(text, lsp::Position::new(9, 0)),
            text.len()
        );
    }

    #[test]
    fn file_uris_decode_to_paths() {
        assert_eq!(
            uri_path("file:///tmp/a%20b/c.py"),
            Some(PathBuf::from("/tmp/a b/c.py"))
        );
        assert_eq!(
            uri_path("file://localhost/x.py"),
            Some(PathBuf::from("/x.py"))
        );
        assert_eq!(uri_path("untitled:Untitled-1"), None);
        assert_eq!(uri_path("file:///bad%zz"), Some(PathBuf::from("/bad%zz")));
    }
}
