//! Standard input and output, made robust against malformed input.
//!
//! tower-lsp-server stops reading when a message body fails to decode (its framed
//! reader ends the stream after a decoder error), which would end the server on one
//! bad byte. So the server does not read standard input itself: [`serve`] reads the
//! frames, passes on only well-formed JSON-RPC messages, and answers the rest itself
//! (`-32700` parse error, `-32600` invalid request) on the same output, whole frames
//! only, so answers never interleave.

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tower_lsp_server::jsonrpc::{Request, Response};

/// Largest message accepted (a document of this size is not a rule file).
pub const MAX_MESSAGE: usize = 256 << 20;

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

/// Reads the next frame: headers up to an empty line, then `Content-Length` bytes.
/// Garbage before a header is skipped; a frame without a usable length is rejected.
pub async fn read_frame<R: AsyncRead + Unpin>(input: &mut BufReader<R>) -> Frame {
    let mut length: Option<usize> = None;
    let mut saw_header = false;
    loop {
        let mut line = Vec::new();
        match input.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return Frame::End,
            Ok(_) => {}
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            if saw_header {
                break;
            }
            continue;
        }
        saw_header = true;
        if let Some((name, value)) = text.split_once(':') {
            if name.trim().eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok();
            }
        }
    }
    let Some(length) = length.filter(|n| *n <= MAX_MESSAGE) else {
        return Frame::Reject(error(
            Value::Null,
            -32700,
            "Parse error: no usable Content-Length",
        ));
    };
    let mut body = vec![0; length];
    if input.read_exact(&mut body).await.is_err() {
        return Frame::End;
    }
    match check(&body) {
        Ok(()) => Frame::Message(body),
        Err(response) => Frame::Reject(response),
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
    // `None` stops the writer once everything before it is written.
    let (frames, mut pending) = mpsc::unbounded_channel::<Option<Vec<u8>>>();
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
            if server_frames.send(Some(frame(&body))).is_err() {
                break;
            }
        }
    });

    // The client's input, filtered.
    tokio::spawn(async move {
        let mut input = BufReader::new(input);
        loop {
            match read_frame(&mut input).await {
                Frame::Message(body) => {
                    if to_server.write_all(&frame(&body)).await.is_err() {
                        break;
                    }
                }
                Frame::Reject(response) => {
                    if frames
                        .send(Some(frame(response.to_string().as_bytes())))
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
    let _ = stop.send(None);
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

    #[tokio::test]
    async fn frames_survive_garbage() {
        let input: &[u8] = b"garbage\r\n\r\nContent-Length: 2\r\n\r\n[]Content-Length: x\r\n\r\nContent-Length: 33\r\n\r\n{\"jsonrpc\":\"2.0\",\"method\":\"exit\"}";
        let mut reader = BufReader::new(input);
        let mut kinds = Vec::new();
        loop {
            match read_frame(&mut reader).await {
                Frame::End => break,
                Frame::Message(_) => kinds.push("message"),
                Frame::Reject(_) => kinds.push("reject"),
            }
        }
        assert_eq!(kinds, ["reject", "reject", "reject", "message"]);
    }
}
