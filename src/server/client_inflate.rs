//! Reading a client's compressed messages for tungstenite, which supports no extension.
//!
//! Once permessage-deflate is agreed, a client may compress any message it sends (RSV1 on its
//! first frame, RFC 7692 section 6). tungstenite would fail the connection on the reserved bit, so
//! the bytes the client sends pass through [`ClientInflate`] first: control frames and
//! uncompressed messages go through unchanged, and a compressed message is assembled, inflated and
//! handed on as one uncompressed frame (masked with the all-zero key, which leaves the payload as
//! it is: tungstenite requires client frames to be masked). Writes pass straight through.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::protocol::deflate::{DeflateParams, Inflater};
use crate::protocol::ws::{DEFAULT_MAX_MESSAGE, apply_mask, encode_frame, parse_header};

/// What the client sent, with its compressed messages inflated.
pub(super) struct ClientInflate<S> {
    inner: S,
    /// `None` without permessage-deflate: everything passes through.
    inflater: Option<Inflater>,
    /// Bytes read from the client, not yet judged.
    raw: Vec<u8>,
    /// Bytes for tungstenite; `out_pos` of them already handed on.
    out: Vec<u8>,
    out_pos: usize,
    /// A compressed message being assembled: its opcode and unmasked payload so far.
    message: Option<(u8, Vec<u8>)>,
}

impl<S> ClientInflate<S> {
    /// `params`: what was agreed, if anything (the client's side of it: its context takeover).
    pub(super) fn new(inner: S, params: Option<&DeflateParams>) -> Self {
        ClientInflate {
            inner,
            inflater: params.map(|p| {
                Inflater::new(&DeflateParams {
                    server_no_context_takeover: p.client_no_context_takeover,
                    ..*p
                })
            }),
            raw: Vec::new(),
            out: Vec::new(),
            out_pos: 0,
            message: None,
        }
    }

    /// Moves every complete frame of `raw` to `out`, inflating compressed messages.
    fn judge(&mut self) -> io::Result<()> {
        let Some(inflater) = self.inflater.as_mut() else {
            self.out.append(&mut self.raw);
            return Ok(());
        };
        let mut pos = 0;
        loop {
            let rest = &self.raw[pos..];
            let Some(h) = parse_header(rest).map_err(|e| invalid(e.message))? else {
                break;
            };
            let Ok(len) = usize::try_from(h.frame_len()) else {
                return Err(invalid("frame too long".into()));
            };
            if rest.len() < len {
                break;
            }
            let frame = &rest[..len];
            let data = !h.is_control();
            if data && (h.rsv1 || self.message.is_some()) {
                let mut payload = frame[h.header_len..].to_vec();
                if let Some(key) = h.mask {
                    apply_mask(&mut payload, key, 0);
                }
                let (opcode, buf) = self.message.get_or_insert_with(|| (h.opcode, Vec::new()));
                buf.extend_from_slice(&payload);
                if buf.len() > DEFAULT_MAX_MESSAGE {
                    return Err(invalid("compressed message over the size limit".into()));
                }
                if h.fin {
                    let opcode = *opcode;
                    let whole = std::mem::take(buf);
                    self.message = None;
                    let inflated = inflater
                        .inflate(whole, DEFAULT_MAX_MESSAGE)
                        .map_err(|e| invalid(e.message))?;
                    encode_frame(&mut self.out, true, 0, opcode, Some([0; 4]), &inflated);
                }
            } else {
                self.out.extend_from_slice(frame);
            }
            pos += len;
        }
        self.raw.drain(..pos);
        Ok(())
    }
}

fn invalid(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

impl<S: AsyncRead + Unpin> AsyncRead for ClientInflate<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.out_pos < this.out.len() {
                let n = buf.remaining().min(this.out.len() - this.out_pos);
                buf.put_slice(&this.out[this.out_pos..this.out_pos + n]);
                this.out_pos += n;
                if this.out_pos == this.out.len() {
                    this.out.clear();
                    this.out_pos = 0;
                }
                return Poll::Ready(Ok(()));
            }
            let mut chunk = [0u8; 8192];
            let mut read = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Ready(Ok(())) if read.filled().is_empty() => return Poll::Ready(Ok(())),
                Poll::Ready(Ok(())) => {
                    this.raw.extend_from_slice(read.filled());
                    this.judge()?;
                }
                other => return other,
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for ClientInflate<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    use super::*;
    use crate::protocol::deflate::Deflater;
    use crate::protocol::ws::{OP_PING, OP_TEXT, RSV1};

    /// What tungstenite reads when a client sends `wire`, written in pieces of `split` bytes.
    async fn through(wire: Vec<u8>, params: Option<&DeflateParams>, split: usize) -> Vec<u8> {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let mut reader = ClientInflate::new(server, params);
        tokio::spawn(async move {
            for piece in wire.chunks(split) {
                let _ = client.write_all(piece).await;
            }
        });
        let mut got = Vec::new();
        let _ = reader.read_to_end(&mut got).await;
        got
    }

    #[tokio::test]
    async fn compressed_messages_become_plain_frames_and_the_rest_passes() {
        let params = DeflateParams::default();
        let mut d = Deflater::client(&params, false);
        let mut wire = Vec::new();
        let text = b"hello hello hello hello";
        // A compressed message in two frames with a ping between them, then a plain one.
        let c = d.compress(text, false);
        let (a, b) = c.split_at(c.len() / 2);
        encode_frame(&mut wire, false, RSV1, OP_TEXT, Some([1, 2, 3, 4]), a);
        encode_frame(&mut wire, true, 0, OP_PING, Some([5, 6, 7, 8]), b"p");
        encode_frame(&mut wire, true, 0, 0, Some([9, 9, 9, 9]), b);
        encode_frame(&mut wire, true, 0, OP_TEXT, Some([1, 1, 1, 1]), b"plain");
        let c2 = d.compress(text, false);
        encode_frame(&mut wire, true, RSV1, OP_TEXT, Some([7, 7, 7, 7]), &c2);

        let mut want = Vec::new();
        encode_frame(&mut want, true, 0, OP_PING, Some([5, 6, 7, 8]), b"p");
        encode_frame(&mut want, true, 0, OP_TEXT, Some([0; 4]), text);
        encode_frame(&mut want, true, 0, OP_TEXT, Some([1, 1, 1, 1]), b"plain");
        // The second refers back to the first (context takeover).
        encode_frame(&mut want, true, 0, OP_TEXT, Some([0; 4]), text);
        for split in [1, 3, 1000] {
            assert_eq!(through(wire.clone(), Some(&params), split).await, want);
        }
        // Without an agreement nothing is touched.
        assert_eq!(through(wire.clone(), None, 7).await, wire);
    }
}
