//! Standard input and output, made robust against malformed input.
//!
//! tower-lsp-server stops reading when a message body fails to decode (its framed
//! reader ends the stream after a decoder error), which would end the server on one
//! bad byte. So the server does not read standard input itself: [`serve`] reads the
//! frames, passes on only well-formed JSON-RPC messages, and answers the rest itself
//! (`-32700` parse error, `-32600` invalid request) on the same output, whole frames
//! only, so answers never interleave.
//!
//! A frame whose `Content-Length` lies must not make the server deaf: [`FrameReader`]
//! goes on at the next `Content-Length:` header, wherever it is — inside a body that
//! announced too much (a header line with its newline is never valid JSON, so it ends
//! such a body early), at the end of one that swallowed the start of the next header,
//! or after the trailing garbage of one that announced too little. Memory is bounded:
//! header lines over [`MAX_HEADER_LINE`] and bodies over [`MAX_MESSAGE`] are skipped
//! as they arrive.

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Request, Response};

/// Largest message accepted (a document of this size is not a rule file).
pub const MAX_MESSAGE: usize = 256 << 20;

/// Most answers waiting for the client to read them.
const OUTPUT_FRAMES: usize = 16;

/// What one frame of input is.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// A well-formed message, to pass on.
    Message(Vec<u8>),
    /// A frame to answer with this error response.
    Reject(Value),
    /// The input ended.
    End,
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// Whether a body is a JSON-RPC message tower-lsp-server will decode.
pub fn check(body: &[u8]) -> Result<(), Value> {
    let value: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => return Err(error(Value::Null, -32700, "Parse error")),
    };
    let id = match value.get("id") {
        Some(id @ (Value::Number(_) | Value::String(_))) => id.clone(),
        _ => Value::Null,
    };
    let ok = if value.get("method").is_some() {
        serde_json::from_value::<Request>(value).is_ok()
    } else {
        serde_json::from_value::<Response>(value).is_ok()
    };
    if ok {
        Ok(())
    } else {
        Err(error(id, -32600, "Invalid request"))
    }
}

/// Longest header line read (real ones are under 100 bytes). A longer line is skipped
/// as it arrives, never held, and answered as a broken frame.
pub const MAX_HEADER_LINE: usize = 8 << 10;

/// How much input is asked for at a time.
const CHUNK: usize = 64 << 10;

/// The header every frame has, compared ignoring case: where it appears, a frame starts.
const MARKER: &[u8] = b"content-length:";

/// Most bytes looked at after [`MARKER`] to tell a header line inside a body.
const MAX_VALUE: usize = 32;

/// Reads a client's frames, resynchronising on the next `Content-Length:` header after
/// a broken one, so that no input makes the server deaf. It holds at most one body
/// (up to [`MAX_MESSAGE`]) and a chunk: longer header lines and larger bodies are
/// skipped as they arrive.
#[derive(Debug)]
pub struct FrameReader<R> {
    input: R,
    /// What was read and not consumed yet: `buffer[start..]`.
    buffer: Vec<u8>,
    start: usize,
}

/// One header line, or why there is none.
enum Line {
    Text(Vec<u8>),
    /// Longer than [`MAX_HEADER_LINE`]; skipped.
    TooLong,
    End,
}

/// What a header block said.
enum Headers {
    /// The block ended; its `Content-Length`, when usable.
    Length(Option<usize>),
    /// A line of it was too long.
    TooLong,
    End,
}

/// How a body of the announced length arrived.
enum Body {
    /// All of it is buffered.
    Whole,
    /// A header line starts at this offset inside it: the length was too large.
    Cut(usize),
    /// The input ended first.
    End,
}

/// Whether a header line starts at the beginning of some bytes.
#[derive(PartialEq)]
enum Match {
    Yes,
    No,
    /// The bytes end before it can be told.
    Unknown,
}

/// Where a header line starts in some bytes, else how far none can.
enum Scan {
    Found(usize),
    /// None starts before this offset (a candidate the bytes end inside may start there).
    Clear(usize),
}

/// Where an over-long line's skip stops.
enum Stop {
    /// Its newline.
    Newline(usize),
    /// A `Content-Length:`, which starts the next frame.
    Marker(usize),
    /// Nothing yet; a marker may begin at this offset (else it is the end).
    Partial(usize),
}

/// Whether `bytes` begin with [`MARKER`]: `Some(true)`; `Some(false)` when they end
/// inside it; `None` when they do not.
fn marker_at(bytes: &[u8]) -> Option<bool> {
    let n = bytes.len().min(MARKER.len());
    let (head, want) = (bytes.get(..n)?, MARKER.get(..n)?);
    head.eq_ignore_ascii_case(want).then_some(n == MARKER.len())
}

/// Whether a complete header line (`Content-Length:`, digits, end of line) starts
/// here. Valid JSON never holds one: outside a string the name is not JSON, and inside
/// one a raw newline is not allowed, and no quote can end the string in between.
fn header_line_at(bytes: &[u8]) -> Match {
    match marker_at(bytes) {
        None => return Match::No,
        Some(false) => return Match::Unknown,
        Some(true) => {}
    }
    let rest = bytes.get(MARKER.len()..).unwrap_or_default();
    let rest = rest
        .get(..rest.len().min(MAX_VALUE + 1))
        .unwrap_or_default();
    let at = |k: usize| rest.get(k).copied();
    let blanks = |mut k: usize| {
        while matches!(at(k), Some(b' ' | b'\t')) {
            k += 1;
        }
        k
    };
    let mut k = blanks(0);
    let digits = k;
    while matches!(at(k), Some(b'0'..=b'9')) {
        k += 1;
    }
    let has_digits = k > digits;
    k = blanks(k);
    if at(k) == Some(b'\r') {
        k += 1;
    }
    match at(k) {
        Some(b'\n') if has_digits => Match::Yes,
        None if k <= MAX_VALUE => Match::Unknown,
        _ => Match::No,
    }
}

/// Whether a byte can start [`MARKER`] (a quick test before the whole comparison).
fn may_start_marker(b: u8) -> bool {
    b | 0x20 == b'c'
}

/// The first complete header line in `bytes`.
fn next_header(bytes: &[u8]) -> Scan {
    for (i, &b) in bytes.iter().enumerate() {
        if !may_start_marker(b) {
            continue;
        }
        match header_line_at(bytes.get(i..).unwrap_or_default()) {
            Match::Yes => return Scan::Found(i),
            Match::Unknown => return Scan::Clear(i),
            Match::No => {}
        }
    }
    Scan::Clear(bytes.len())
}

/// Where the skip of an over-long line stops in `bytes`.
fn line_stop(bytes: &[u8]) -> Stop {
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'\n' {
            return Stop::Newline(i);
        }
        if !may_start_marker(b) {
            continue;
        }
        match marker_at(bytes.get(i..).unwrap_or_default()) {
            Some(true) => return Stop::Marker(i),
            Some(false) => return Stop::Partial(i),
            None => {}
        }
    }
    Stop::Partial(bytes.len())
}

/// Where the next frame may start in a body that is not JSON: the first
/// `Content-Length:`, or the start of one the body ends inside (the length was too
/// large by a few bytes and swallowed the start of the next header).
fn resume_point(body: &[u8]) -> Option<usize> {
    (0..body.len()).find(|&i| {
        body.get(i).is_some_and(|&b| may_start_marker(b))
            && marker_at(body.get(i..).unwrap_or_default()).is_some()
    })
}

/// The value of the last `Content-Length:` in a header line (what precedes it is the
/// tail of a broken frame): `Some(None)` when it is not a number, `None` when the line
/// has none.
fn content_length(line: &[u8]) -> Option<Option<usize>> {
    let at = (0..line.len())
        .rev()
        .find(|&i| marker_at(line.get(i..).unwrap_or_default()) == Some(true))?;
    let value = line
        .get(at + MARKER.len()..)
        .unwrap_or_default()
        .trim_ascii();
    Some(std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()))
}

fn reject(code: i64, message: &str) -> Frame {
    Frame::Reject(error(Value::Null, code, message))
}

fn is_parse_error(response: &Value) -> bool {
    response["error"]["code"] == -32700
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader of `input`.
    pub fn new(input: R) -> FrameReader<R> {
        FrameReader {
            input,
            buffer: Vec::new(),
            start: 0,
        }
    }

    /// Reads the next frame: headers up to an empty line, then `Content-Length` bytes.
    /// Empty lines before a header are skipped; a frame without a usable length, with a
    /// header line over [`MAX_HEADER_LINE`], a body over [`MAX_MESSAGE`], a body cut
    /// short by the next header, or a body that is not JSON-RPC is rejected, and
    /// reading goes on at the next `Content-Length:` header.
    pub async fn read_frame(&mut self) -> Frame {
        let length = match self.headers().await {
            Headers::End => return Frame::End,
            Headers::TooLong => {
                return reject(-32700, "Parse error: a header line longer than 8 KiB")
            }
            Headers::Length(None) => {
                return reject(-32700, "Parse error: no usable Content-Length")
            }
            Headers::Length(Some(length)) => length,
        };
        if length > MAX_MESSAGE {
            return match self.skip_body(length).await {
                true => reject(-32600, "Invalid request: a message larger than 256 MiB"),
                false => Frame::End,
            };
        }
        match self.body(length).await {
            Body::End => Frame::End,
            Body::Cut(at) => {
                self.consume(at);
                self.release();
                reject(
                    -32700,
                    "Parse error: the next header began inside the body (Content-Length too large)",
                )
            }
            Body::Whole => self.decode(length),
        }
    }

    fn unread(&self) -> &[u8] {
        self.buffer.get(self.start..).unwrap_or_default()
    }

    fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.buffer.len());
    }

    /// Moves what is unread to the front.
    fn compact(&mut self) {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
    }

    /// Gives back the room a large body took.
    fn release(&mut self) {
        if self.buffer.capacity() > 4 * CHUNK {
            self.compact();
            self.buffer.shrink_to(CHUNK);
        }
    }

    /// The first `n` unread bytes: copied when small (what follows them stays where it
    /// is), else taken out with the buffer, so a large body is never copied.
    fn take(&mut self, n: usize) -> Vec<u8> {
        if n <= CHUNK {
            let body = self.unread().get(..n).unwrap_or_default().to_vec();
            self.consume(n);
            return body;
        }
        self.compact();
        let rest = self.buffer.split_off(n.min(self.buffer.len()));
        std::mem::replace(&mut self.buffer, rest)
    }

    /// Reads more input, with room for at least `room` more bytes; false when the input
    /// ended (or failed).
    async fn fill(&mut self, room: usize) -> bool {
        self.compact();
        self.buffer.reserve_exact(room.max(1));
        matches!(self.input.read_buf(&mut self.buffer).await, Ok(n) if n > 0)
    }

    /// The next line, up to its newline, at most [`MAX_HEADER_LINE`] long.
    async fn line(&mut self) -> Line {
        let mut scanned = 0;
        loop {
            let unread = self.unread();
            let window = unread
                .get(scanned..unread.len().min(MAX_HEADER_LINE))
                .unwrap_or_default();
            if let Some(i) = window.iter().position(|&b| b == b'\n') {
                let end = scanned + i + 1;
                let line = unread.get(..end).unwrap_or_default().to_vec();
                self.consume(end);
                return Line::Text(line);
            }
            if unread.len() >= MAX_HEADER_LINE {
                self.skip_line().await;
                return Line::TooLong;
            }
            scanned = unread.len();
            if !self.fill(CHUNK).await {
                return Line::End;
            }
        }
    }

    /// Skips an over-long line up to its newline, or up to the next `Content-Length:`
    /// (past the one it may start with), holding at most a chunk of it.
    async fn skip_line(&mut self) {
        self.consume(1);
        loop {
            match line_stop(self.unread()) {
                Stop::Newline(i) => return self.consume(i + 1),
                Stop::Marker(i) => return self.consume(i),
                Stop::Partial(i) => self.consume(i),
            }
            if !self.fill(CHUNK).await {
                let all = self.unread().len();
                return self.consume(all);
            }
        }
    }

    /// Reads a header block.
    async fn headers(&mut self) -> Headers {
        let mut length = None;
        let mut saw_header = false;
        loop {
            let line = match self.line().await {
                Line::Text(line) => line,
                Line::TooLong => return Headers::TooLong,
                Line::End => return Headers::End,
            };
            let line = line.trim_ascii();
            if line.is_empty() {
                if saw_header {
                    return Headers::Length(length);
                }
                continue;
            }
            saw_header = true;
            if let Some(value) = content_length(line) {
                length = value;
            }
        }
    }

    /// Buffers a body of `length` bytes, stopping early at a header line inside it (so
    /// a client that announced too much and waits for its answer gets it).
    async fn body(&mut self, length: usize) -> Body {
        let mut scanned = 0;
        loop {
            let have = self.unread().len().min(length);
            match next_header(self.unread().get(scanned..have).unwrap_or_default()) {
                Scan::Found(i) => return Body::Cut(scanned + i),
                Scan::Clear(i) => scanned += i,
            }
            if have == length {
                return Body::Whole;
            }
            // Room for exactly the rest: a large body is one allocation, never copied.
            let rest = length - self.unread().len();
            if !self.fill(rest).await {
                return Body::End;
            }
        }
    }

    /// Skips a body too large to hold, up to its end or a header line inside it;
    /// false when the input ended first.
    async fn skip_body(&mut self, mut length: usize) -> bool {
        loop {
            let have = self.unread().len().min(length);
            match next_header(self.unread().get(..have).unwrap_or_default()) {
                Scan::Found(i) => {
                    self.consume(i);
                    return true;
                }
                Scan::Clear(_) if have == length => {
                    self.consume(have);
                    return true;
                }
                Scan::Clear(i) => {
                    self.consume(i);
                    length -= i;
                }
            }
            if !self.fill(CHUNK).await {
                return false;
            }
        }
    }

    /// The frame of a whole body of `length` bytes.
    fn decode(&mut self, length: usize) -> Frame {
        let body = self.unread().get(..length).unwrap_or_default();
        match check(body) {
            Ok(()) => Frame::Message(self.take(length)),
            Err(response) => {
                // Valid JSON had the right length; anything else may hold the next header.
                let resume = if is_parse_error(&response) {
                    resume_point(body).unwrap_or(length)
                } else {
                    length
                };
                self.consume(resume);
                self.release();
                Frame::Reject(response)
            }
        }
    }
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Runs `serve` (tower-lsp-server's loop) between `input` and `output`, filtering the
/// input. Returns what `serve` returns once it ends and its output is written.
pub async fn serve<R, W, F, T>(input: R, mut output: W, serve: F) -> T
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
    F: FnOnce(
        tokio::io::DuplexStream,
        tokio::io::DuplexStream,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>,
{
    let (server_in, mut to_server) = tokio::io::duplex(1 << 16);
    let (server_out, from_server) = tokio::io::duplex(1 << 16);
    // `None` stops the writer once everything before it is written. Bounded: a client
    // that reads slowly holds the server back (tower-lsp-server's own output waits
    // for room) instead of making it queue answers of megabytes without end.
    let (frames, mut pending) = mpsc::channel::<Option<Vec<u8>>>(OUTPUT_FRAMES);
    let stop = frames.clone();

    // The one writer: whole frames, in order.
    let writer = tokio::spawn(async move {
        while let Some(Some(bytes)) = pending.recv().await {
            if output.write_all(&bytes).await.is_err() || output.flush().await.is_err() {
                break;
            }
        }
    });

    // The server's output, re-cut into frames.
    let server_frames = frames.clone();
    let relay = tokio::spawn(async move {
        let mut from_server = BufReader::new(from_server);
        while let Frame::Message(body) = read_server_frame(&mut from_server).await {
            if server_frames.send(Some(frame(&body))).await.is_err() {
                break;
            }
        }
    });

    // The client's input, filtered.
    tokio::spawn(async move {
        let mut input = FrameReader::new(input);
        loop {
            match input.read_frame().await {
                Frame::Message(body) => {
                    // Header and body apart: a large body is not copied once more.
                    let header = format!("Content-Length: {}\r\n\r\n", body.len());
                    if to_server.write_all(header.as_bytes()).await.is_err()
                        || to_server.write_all(&body).await.is_err()
                    {
                        break;
                    }
                }
                Frame::Reject(response) => {
                    if frames
                        .send(Some(frame(response.to_string().as_bytes())))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                Frame::End => break,
            }
        }
        // Dropping `to_server` ends the server's input.
    });

    let result = serve(server_in, server_out).await;
    // The server has ended and dropped its output: relay what is left, then stop.
    let _ = relay.await;
    let _ = stop.send(None).await;
    let _ = writer.await;
    result
}

/// A frame of the server's own (well-formed) output.
async fn read_server_frame<R: AsyncRead + Unpin>(input: &mut BufReader<R>) -> Frame {
    let mut length = None;
    loop {
        let mut line = Vec::new();
        match input.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return Frame::End,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            if length.is_some() {
                break;
            }
            continue;
        }
        if let Some(n) = text.strip_prefix("Content-Length:") {
            length = n.trim().parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length.unwrap_or(0)];
    if input.read_exact(&mut body).await.is_err() {
        return Frame::End;
    }
    Frame::Message(body)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

    use super::*;

    #[test]
    fn only_messages_tower_lsp_can_decode_pass() {
        assert!(check(br#"{"jsonrpc":"2.0","id":1,"method":"shutdown"}"#).is_ok());
        assert!(check(br#"{"jsonrpc":"2.0","method":"exit"}"#).is_ok());
        assert!(check(br#"{"jsonrpc":"2.0","id":1,"result":null}"#).is_ok());
        for bad in [
            &b"{not json"[..],
            b"[]",
            b"42",
            b"{}",
            br#"{"jsonrpc":"2.0","id":[1],"method":"x"}"#,
            br#"{"jsonrpc":"2.0","method":7}"#,
            b"\xff\xfe",
        ] {
            assert!(check(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        let Err(e) = check(br#"{"jsonrpc":"2.0","id":9,"method":7}"#) else {
            unreachable!()
        };
        assert_eq!(e["id"], 9);
        assert_eq!(e["error"]["code"], -32600);
    }

    /// A frame of `body`, announcing `length` bytes.
    fn framed(body: &str, length: usize) -> Vec<u8> {
        let mut out = format!("Content-Length: {length}\r\n\r\n").into_bytes();
        out.extend_from_slice(body.as_bytes());
        out
    }

    fn exact(body: &str) -> Vec<u8> {
        framed(body, body.len())
    }

    const HOVER: &str = r#"{"jsonrpc":"2.0","id":2,"method":"textDocument/hover","params":{"textDocument":{"uri":"file:///a.rules"},"position":{"line":0,"character":7}}}"#;
    const SHUTDOWN: &str = r#"{"jsonrpc":"2.0","id":3,"method":"shutdown"}"#;

    async fn frames<R: AsyncRead + Unpin>(input: R) -> Vec<Frame> {
        let mut reader = FrameReader::new(input);
        let mut out = Vec::new();
        loop {
            match reader.read_frame().await {
                Frame::End => return out,
                frame => out.push(frame),
            }
        }
    }

    /// What each frame is: the message's text, or the error code of the answer.
    fn summary(frames: &[Frame]) -> Vec<String> {
        frames
            .iter()
            .map(|f| match f {
                Frame::Message(body) => String::from_utf8_lossy(body).into_owned(),
                Frame::Reject(answer) => format!("error {}", answer["error"]["code"]),
                Frame::End => "end".into(),
            })
            .collect()
    }

    /// Input handed over `step` bytes at a time, as a pipe may.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl AsyncRead for Trickle<'_> {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            let n = self.step.min(self.bytes.len()).min(buf.remaining());
            let (head, tail) = self.bytes.split_at(n);
            buf.put_slice(head);
            self.bytes = tail;
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn frames_survive_garbage() {
        let input: &[u8] = b"garbage\r\n\r\nContent-Length: 2\r\n\r\n[]Content-Length: x\r\n\r\nContent-Length: 33\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}";
        let kinds: Vec<&str> = frames(input)
            .await
            .iter()
            .map(|f| match f {
                Frame::Message(_) => "message",
                _ => "reject",
            })
            .collect();
        assert_eq!(kinds, ["reject", "reject", "reject", "message"]);
    }

    #[tokio::test]
    async fn a_length_that_lies_either_way_is_answered_and_the_next_frame_is_read() {
        // 10 bytes too many swallow the start of the next header; 40 too few leave the
        // end of the body before it.
        let mut input = framed(HOVER, HOVER.len() + 10);
        input.extend(exact(SHUTDOWN));
        input.extend(framed(HOVER, HOVER.len() - 40));
        input.extend(exact(SHUTDOWN));
        assert_eq!(
            summary(&frames(input.as_slice()).await),
            ["error -32700", SHUTDOWN, "error -32700", SHUTDOWN]
        );
    }

    #[tokio::test]
    async fn a_body_announcing_too_much_ends_at_the_next_header_without_waiting_for_more() {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let mut input = framed(HOVER, HOVER.len() + 1000);
        input.extend(exact(SHUTDOWN));
        client.write_all(&input).await.unwrap();
        // The client waits for its answers: the input stays open.
        let mut reader = FrameReader::new(server);
        let timeout = std::time::Duration::from_secs(5);
        let first = tokio::time::timeout(timeout, reader.read_frame()).await;
        let second = tokio::time::timeout(timeout, reader.read_frame()).await;
        let (Ok(first), Ok(second)) = (first, second) else {
            panic!("the reader waited for bytes that were never coming")
        };
        assert_eq!(summary(&[first, second]), ["error -32700", SHUTDOWN]);
        drop(client);
    }

    #[tokio::test]
    async fn an_over_long_header_line_is_skipped_without_being_held() {
        for end in ["", "\r\n"] {
            let mut input = vec![b'x'; 1 << 20];
            input.extend(end.as_bytes());
            input.extend(exact(SHUTDOWN));
            let mut reader = FrameReader::new(input.as_slice());
            let first = reader.read_frame().await;
            assert!(
                reader.buffer.capacity() <= 2 * CHUNK,
                "{}",
                reader.buffer.capacity()
            );
            let second = reader.read_frame().await;
            assert_eq!(
                summary(&[first, second]),
                ["error -32700", SHUTDOWN],
                "{end:?}"
            );
        }
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_skipped_without_being_held() {
        let header = format!("Content-Length: {}\r\n\r\n", MAX_MESSAGE + 1);
        let input = header
            .as_bytes()
            .chain(tokio::io::repeat(b'x').take(MAX_MESSAGE as u64 + 1))
            .chain(std::io::Cursor::new(exact(SHUTDOWN)));
        let mut reader = FrameReader::new(input);
        let first = reader.read_frame().await;
        assert!(
            reader.buffer.capacity() <= 2 * CHUNK,
            "{}",
            reader.buffer.capacity()
        );
        let second = reader.read_frame().await;
        assert_eq!(summary(&[first, second]), ["error -32600", SHUTDOWN]);
    }

    #[tokio::test]
    async fn an_oversize_length_that_lies_resumes_at_the_next_header() {
        let mut input = framed(HOVER, 1 << 40);
        input.extend(exact(SHUTDOWN));
        assert_eq!(
            summary(&frames(input.as_slice()).await),
            ["error -32600", SHUTDOWN]
        );
    }

    #[tokio::test]
    async fn a_header_inside_a_valid_string_is_not_a_header() {
        // Escaped newlines only: this is one message, whatever its text says.
        let body = r#"{"jsonrpc":"2.0","method":"x","params":"Content-Length: 12\r\n\r\n{}"}"#;
        let input = exact(body);
        assert_eq!(summary(&frames(input.as_slice()).await), [body]);
    }

    #[tokio::test]
    async fn frames_do_not_depend_on_how_the_input_is_cut() {
        let mut long_line = vec![b'y'; MAX_HEADER_LINE + 100];
        long_line.extend(exact(SHUTDOWN));
        let mut lies = framed(HOVER, HOVER.len() + 17);
        lies.extend(exact(SHUTDOWN));
        lies.extend(framed(HOVER, 3));
        lies.extend(b"Content-Type: x\r\nContent-Length: 5\r\n\r\n{}");
        lies.extend(framed(SHUTDOWN, 1 << 30));
        lies.extend(exact(HOVER));
        for input in [long_line, lies] {
            let whole = summary(&frames(input.as_slice()).await);
            for step in [1, 2, 7, 100] {
                let cut = Trickle {
                    bytes: &input,
                    step,
                };
                assert_eq!(summary(&frames(cut).await), whole, "step {step}");
            }
        }
    }
}
