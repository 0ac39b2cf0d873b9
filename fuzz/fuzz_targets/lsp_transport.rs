#![no_main]
//! Arbitrary bytes through the language server's frame reader
//! (`rulec_lsp::transport::FrameReader::read_frame`, what `rulec-lsp --stdio` reads
//! standard input with). It must end without panicking: every frame consumes input, so
//! there are at most as many frames as bytes before `End`. It passes on only bodies
//! tower-lsp-server can decode, within the size limit, and reads the same frames
//! however the input is cut into reads (a pipe hands over any amount at a time); the
//! first byte chooses the size of the pieces.

use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll};

use libfuzzer_sys::fuzz_target;
use rulec_lsp::transport::{check, Frame, FrameReader, MAX_MESSAGE};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::runtime::Runtime;

/// Input handed over `step` bytes at a time.
struct Pieces<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl AsyncRead for Pieces<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = self.step.min(self.bytes.len()).min(buf.remaining());
        let (head, tail) = self.bytes.split_at(n);
        buf.put_slice(head);
        self.bytes = tail;
        Poll::Ready(Ok(()))
    }
}

fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a tokio runtime")
    })
}

/// Every frame of `input`, which holds `len` bytes.
fn frames(input: impl AsyncRead + Unpin, len: usize) -> Vec<Frame> {
    runtime().block_on(async {
        let mut reader = FrameReader::new(input);
        let mut out = Vec::new();
        loop {
            match reader.read_frame().await {
                Frame::End => return out,
                frame => out.push(frame),
            }
            assert!(
                out.len() <= len,
                "more frames than bytes: the reader made no progress"
            );
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, input)) = data.split_first() else {
        return;
    };
    let whole = frames(input, input.len());
    for frame in &whole {
        if let Frame::Message(body) = frame {
            assert!(body.len() <= MAX_MESSAGE);
            assert!(
                check(body).is_ok(),
                "a message tower-lsp-server cannot decode passed"
            );
        }
    }
    let step = usize::from(first % 16) + 1;
    let cut = frames(Pieces { bytes: input, step }, input.len());
    assert_eq!(
        whole, cut,
        "the frames depend on how the input was cut (step {step})"
    );
});
