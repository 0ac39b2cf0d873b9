//! The real binary over stdio: initialize, open a file with an error, receive its
//! diagnostics, hover, survive malformed input, then shutdown and exit with status 0;
//! a workspace folder's files checked together, an edit in one republishing another;
//! `--help`, `--version` and unknown arguments; frames whose `Content-Length` lies
//! (too large, too small), a 64 MiB header line and a body over the limit, each
//! answered with an error, held in little memory, and followed by requests that are
//! answered and a clean `shutdown` and `exit`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    /// Messages received while waiting for another one, in order.
    passed: Vec<Value>,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rulec-lsp"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, messages) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        length = n.parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            messages,
            passed: Vec::new(),
        }
    }

    fn raw(&mut self, body: &str) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n{}", body.len(), body).unwrap();
        self.stdin.flush().unwrap();
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    /// The server's peak resident memory so far, in KiB (where the system tells).
    fn peak_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    fn initialize(&mut self) {
        self.request(1, "initialize", json!({"capabilities": {}}));
        self.notify("initialized", json!({}));
    }

    /// A real request after whatever was sent: it must be answered.
    fn answers_a_request(&mut self, id: i64) {
        let symbols = self.request(
            id,
            "textDocument/documentSymbol",
            json!({"textDocument": {"uri": "file:///nowhere/a.rules"}}),
        );
        assert!(symbols.get("result").is_some(), "{symbols}");
    }

    /// The error the server answered a broken frame with.
    fn broken_frame_answer(&mut self, code: i64) {
        let answer = self.wait(|m| m["error"]["code"] == json!(code));
        assert!(answer["id"].is_null(), "{answer}");
    }

    /// `shutdown`, then `exit`: the server ends with status 0.
    fn shut_down(mut self, id: i64) {
        let shutdown = self.request(id, "shutdown", Value::Null);
        assert!(shutdown["result"].is_null(), "{shutdown}");
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "{status}");
                return;
            }
            assert!(Instant::now() < deadline, "the server did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn send(&mut self, message: Value) {
        self.raw(&message.to_string());
    }

    fn request(&mut self, id: i64, method: &str, params: Value) -> Value {
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.wait(|m| m["id"] == json!(id))
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// The first message, received earlier or from now on, that `want` accepts.
    fn wait(&mut self, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.passed.iter().position(&want) {
            return self.passed.remove(i);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let message = self
                .messages
                .recv_timeout(left)
                .expect("no answer from the server");
            if want(&message) {
                return message;
            }
            self.passed.push(message);
        }
    }
}

#[test]
fn a_session_over_stdio() {
    let mut c = Client::start();
    let init = c.request(
        1,
        "initialize",
        json!({"capabilities": {"general": {"positionEncodings": ["utf-16"]}}}),
    );
    assert_eq!(init["result"]["capabilities"]["positionEncoding"], "utf-16");
    c.notify("initialized", json!({}));

    let uri = "file:///tmp/rulec-lsp-smoke/wins.rules";
    let text = "when stage changed to Opn and value > 10000 do slack \"#wins\"\n";
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "rulec", "version": 1, "text": text}}),
    );
    let published = c.wait(|m| m["method"] == "textDocument/publishDiagnostics");
    assert_eq!(published["params"]["uri"], uri);
    assert_eq!(published["params"]["version"], 1);
    let diagnostics = published["params"]["diagnostics"].as_array().unwrap();
    let error = diagnostics
        .iter()
        .find(|d| d["code"] == "unknown-option")
        .unwrap_or_else(|| panic!("{diagnostics:?}"));
    assert_eq!(error["range"]["start"], json!({"line": 0, "character": 22}));

    let hover = c.request(
        2,
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 7}}),
    );
    let value = hover["result"]["contents"]["value"].as_str().unwrap();
    assert!(value.contains("deals.stage"), "{value}");

    // Malformed input of several kinds: the server keeps answering.
    c.raw("{this is not json");
    c.raw("[]");
    c.send(json!({"jsonrpc": "2.0", "id": 3, "method": "no/such/method"}));
    let unknown = c.wait(|m| m["id"] == json!(3));
    assert!(unknown["error"].is_object(), "{unknown}");
    let bad = c.request(4, "textDocument/hover", json!({"nonsense": true}));
    assert!(bad["error"].is_object(), "{bad}");
    let unopened = c.request(
        5,
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///nowhere.rules"}, "position": {"line": 99, "character": 99}}),
    );
    assert!(unopened["result"].is_null(), "{unopened}");
    let far = c.request(
        6,
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 4000000000u32, "character": 4000000000u32}}),
    );
    assert!(far.get("result").is_some(), "{far}");

    // An edit fixing the typo publishes the next version without the error.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [
            {"range": {"start": {"line": 0, "character": 22}, "end": {"line": 0, "character": 25}}, "text": "Open"}
        ]}),
    );
    let again =
        c.wait(|m| m["method"] == "textDocument/publishDiagnostics" && m["params"]["version"] == 2);
    let codes: Vec<&Value> = again["params"]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| &d["code"])
        .collect();
    assert!(!codes.contains(&&json!("unknown-option")), "{codes:?}");

    let completion = c.request(
        8,
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 22}}),
    );
    let labels: Vec<&str> = completion["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{completion}"))
        .iter()
        .filter_map(|i| i["label"].as_str())
        .collect();
    assert!(labels.contains(&"ClosedWon"), "{labels:?}");

    // A test block gets a "Run test" lens; running it answers and shows a message.
    let tested = "file:///tmp/rulec-lsp-smoke/tested.rules";
    let text = "when stage changed from Open to ClosedWon and value > 10000 do slack \"#wins\"\n\ntest \"a big win\"\n  given deals { name: \"Acme\", stage: Open, value: 25000 }\n  event stage changed to ClosedWon\n  expect slack \"#wins\"\n";
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": tested, "languageId": "rulec", "version": 1, "text": text}}),
    );
    let lenses = c.request(
        9,
        "textDocument/codeLens",
        json!({"textDocument": {"uri": tested}}),
    );
    let lens = &lenses["result"][0];
    assert_eq!(lens["range"]["start"]["line"], 2, "{lenses}");
    let command = &lens["command"];
    assert_eq!(command["command"], "rulec.runTest");
    let ran = c.request(
        10,
        "workspace/executeCommand",
        json!({"command": command["command"], "arguments": command["arguments"]}),
    );
    assert_eq!(ran["result"]["passed"], true, "{ran}");
    let shown = c.wait(|m| m["method"] == "window/showMessage");
    assert_eq!(shown["params"]["message"], "test \"a big win\" passed");

    let shutdown = c.request(7, "shutdown", Value::Null);
    assert!(shutdown["result"].is_null(), "{shutdown}");
    c.notify("exit", Value::Null);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = c.child.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn help_and_version_answer_and_exit_and_unknown_flags_are_refused() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rulec-lsp"))
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    for flag in ["--help", "-h"] {
        let out = run(&[flag]);
        assert!(out.status.success(), "{flag}: {:?}", out.status);
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Usage: rulec-lsp"), "{text}");
        assert!(text.contains("--version"), "{text}");
    }
    for flag in ["--version", "-V"] {
        let out = run(&[flag]);
        assert!(out.status.success(), "{flag}: {:?}", out.status);
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            format!("rulec-lsp {}\n", env!("CARGO_PKG_VERSION"))
        );
    }
    let out = run(&["--frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("unknown argument `--frobnicate`"), "{err}");
    assert!(err.contains("Usage: rulec-lsp"), "{err}");
}

#[test]
fn a_workspace_folder_is_checked_together_and_edits_republish_other_documents() {
    let root = std::env::temp_dir()
        .canonicalize()
        .unwrap()
        .join(format!("rulec-lsp-stdio-folder-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("declarations")).unwrap();
    std::fs::create_dir_all(root.join("rules")).unwrap();
    let declarations = "list \"VIP\" of people\n";
    let rules = "rule vip\n  owner \"a@acme.com\"\n  description \"d\"\n  on people\n  when created and event.source != import\n  do add to list \"VIP\"\n";
    std::fs::write(root.join("declarations/a.rules"), declarations).unwrap();
    std::fs::write(root.join("rules/b.rules"), rules).unwrap();
    let uri = |p: &str| {
        tower_lsp_server::ls_types::Uri::from_file_path(root.join(p))
            .unwrap()
            .to_string()
    };
    let (a, b) = (uri("declarations/a.rules"), uri("rules/b.rules"));
    let folder = tower_lsp_server::ls_types::Uri::from_file_path(&root)
        .unwrap()
        .to_string();

    let mut c = Client::start();
    c.request(
        1,
        "initialize",
        json!({"capabilities": {}, "workspaceFolders": [{"uri": folder, "name": "w"}]}),
    );
    c.notify("initialized", json!({}));
    let codes = |m: &Value| -> Vec<String> {
        m["params"]["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["code"].as_str().unwrap_or("").to_string())
            .collect()
    };
    // B uses a list declared in another folder of the workspace: no error.
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": b, "languageId": "rulec", "version": 1, "text": rules}}),
    );
    let first = c.wait(|m| {
        m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == json!(b)
    });
    assert!(
        !codes(&first).contains(&"unknown-list".to_string()),
        "{first}"
    );

    // A opened and its declaration deleted (not saved): B is published again, with it.
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": a, "languageId": "rulec", "version": 1, "text": declarations}}),
    );
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": a, "version": 2}, "contentChanges": [{"text": ""}]}),
    );
    let again = c.wait(|m| {
        m["method"] == "textDocument/publishDiagnostics"
            && m["params"]["uri"] == json!(b)
            && m["params"]["diagnostics"]
                .as_array()
                .is_some_and(|d| d.iter().any(|d| d["code"] == "unknown-list"))
    });
    assert_eq!(again["params"]["version"], 1);

    // Go to definition on the list name in B, once A has it back, lands in A.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": a, "version": 3}, "contentChanges": [{"text": declarations}]}),
    );
    let definition = c.request(
        2,
        "textDocument/definition",
        json!({"textDocument": {"uri": b}, "position": {"line": 5, "character": 18}}),
    );
    assert_eq!(definition["result"]["uri"], json!(a), "{definition}");
    assert_eq!(definition["result"]["range"]["start"]["line"], 0);

    c.request(3, "shutdown", Value::Null);
    c.notify("exit", Value::Null);
    let deadline = Instant::now() + Duration::from_secs(10);
    while c.child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::fs::remove_dir_all(&root);
}

/// A request whose `Content-Length` is off by `by` bytes, followed at once by a real
/// request (so the broken frame's read runs into it).
fn lying_length_then_a_real_request(by: i64) {
    let mut c = Client::start();
    c.initialize();
    let body = json!({"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover",
        "params": {"textDocument": {"uri": "file:///nowhere/a.rules"}, "position": {"line": 0, "character": 7}}})
    .to_string();
    let announced = (body.len() as i64 + by) as usize;
    c.bytes(format!("Content-Length: {announced}\r\n\r\n{body}").as_bytes());
    c.answers_a_request(3);
    c.broken_frame_answer(-32700);
    // And the server stays in step.
    c.answers_a_request(4);
    c.shut_down(5);
}

#[test]
fn a_content_length_10_bytes_too_large_is_answered_and_the_server_reads_on() {
    lying_length_then_a_real_request(10);
}

#[test]
fn a_content_length_40_bytes_too_small_is_answered_and_the_server_reads_on() {
    lying_length_then_a_real_request(-40);
}

/// Sends `bytes` in pieces of a mebibyte (from one buffer, not all at once).
fn stream(c: &mut Client, byte: u8, total: usize) {
    let piece = vec![byte; 1 << 20];
    let mut left = total;
    while left > 0 {
        let n = left.min(piece.len());
        c.bytes(&piece[..n]);
        left -= n;
    }
}

/// The server held at most a few MiB more than before.
fn held_little_more(before: Option<u64>, after: Option<u64>) {
    if let (Some(before), Some(after)) = (before, after) {
        assert!(
            after < before + 24 * 1024,
            "peak memory grew from {before} KiB to {after} KiB"
        );
    }
}

#[test]
fn a_64_mib_header_line_is_skipped_without_being_held_and_the_server_reads_on() {
    let mut c = Client::start();
    c.initialize();
    let before = c.peak_kib();
    // No newline: the next frame's header follows the garbage directly.
    stream(&mut c, b'x', 64 << 20);
    c.answers_a_request(3);
    c.broken_frame_answer(-32700);
    held_little_more(before, c.peak_kib());
    c.answers_a_request(4);
    c.shut_down(5);
}

#[test]
fn a_body_over_the_limit_is_skipped_without_being_held_and_the_server_reads_on() {
    let mut c = Client::start();
    c.initialize();
    let before = c.peak_kib();
    let length = rulec_lsp::transport::MAX_MESSAGE + 1;
    c.bytes(format!("Content-Length: {length}\r\n\r\n").as_bytes());
    stream(&mut c, b'x', length);
    c.answers_a_request(3);
    c.broken_frame_answer(-32600);
    held_little_more(before, c.peak_kib());
    c.answers_a_request(4);
    c.shut_down(5);
}
