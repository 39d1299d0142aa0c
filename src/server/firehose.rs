//! `/firehose/sse` and `/firehose/ws`: `n` events or messages of `size` bytes each, as fast as the
//! client can take them, then the end (SSE: the body ends; WebSocket: close 1000).
//!
//! The bytes are precomputed so the server is never the bottleneck of a throughput measurement:
//! one block of many identical encoded events (at least [`BLOCK_BYTES`]) is built once, and
//! written again and again (cheap `Bytes` clones), followed by a slice of it for the remainder.
//! On WebSocket the frames are encoded here (server frames are unmasked) and written straight to
//! the upgraded socket; tungstenite takes over only for the closing handshake, which starts on a
//! frame boundary, so its view of the stream stays consistent.
//!
//! With permessage-deflate agreed, the messages are JSON objects of `size` bytes (`{"seq":i,
//! "pad":"xx…"}`, `i` counting within a block), compressed with context takeover. They are
//! precomputed too: the block is compressed twice in a row and the second result repeated. Each
//! repetition then starts where the second one did, after the block's own data, so the window its
//! back references reach holds the same bytes every time.

use std::sync::Arc;

use bytes::{BufMut as _, Bytes, BytesMut};
use hyper::Response;
use tokio::io::AsyncWriteExt as _;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::body::{self, Body};
use super::query::{BadQuery, Query};
use super::socket::{self, Socket};
use super::state::State;
use crate::protocol::deflate::Deflater;
use crate::protocol::ws::{OP_TEXT, encode_frame};

/// Lower bound of one precomputed block; big writes keep syscalls and channel hops rare.
const BLOCK_BYTES: usize = 256 * 1024;
/// Largest `size` accepted: one event must fit a block in memory comfortably.
const MAX_SIZE: u64 = 16 * 1024 * 1024;
const DEFAULT_N: u64 = 1000;
const DEFAULT_SIZE: u64 = 100;

/// How many payloads of which size, from `?n=N&size=S`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Plan {
    n: u64,
    size: usize,
}

impl Plan {
    pub(super) fn from_query(query: &Query) -> Result<Self, BadQuery> {
        let n = query.number("n", 0, u64::MAX)?.unwrap_or(DEFAULT_N);
        let size = query.number("size", 0, MAX_SIZE)?.unwrap_or(DEFAULT_SIZE);
        Ok(Self {
            n,
            size: usize::try_from(size).unwrap_or(usize::MAX),
        })
    }

    /// `block` repeated for all `n` units: (full blocks, units in the final partial block).
    fn split(self, units_per_block: usize) -> (u64, usize) {
        let per = units_per_block.max(1) as u64;
        (self.n / per, (self.n % per) as usize)
    }
}

/// The ASCII payload: `x` repeated.
fn payload(size: usize) -> Vec<u8> {
    vec![b'x'; size]
}

/// A block of identical units, and how many units it holds.
fn block(unit: &[u8], n: u64) -> (Bytes, usize) {
    let fit = (BLOCK_BYTES / unit.len().max(1)).max(1);
    // No need for a block bigger than the whole stream.
    let units = fit.min(usize::try_from(n).unwrap_or(usize::MAX)).max(1);
    let mut bytes = BytesMut::with_capacity(unit.len() * units);
    for _ in 0..units {
        bytes.put_slice(unit);
    }
    (bytes.freeze(), units)
}

/// `GET /firehose/sse`.
pub(super) fn sse(query: &Query, state: Arc<State>) -> Response<Body> {
    let plan = match Plan::from_query(query) {
        Ok(plan) => plan,
        Err(bad) => return bad.into_response(),
    };
    let mut event = Vec::with_capacity(plan.size + 8);
    event.extend_from_slice(b"data: ");
    event.extend_from_slice(&payload(plan.size));
    event.extend_from_slice(b"\n\n");
    let (tx, response) = body::event_stream();
    tokio::spawn(async move {
        let _state = state;
        let (block, units) = block(&event, plan.n);
        let (full, rest) = plan.split(units);
        for _ in 0..full {
            if tx.send(block.clone()).await.is_err() {
                return;
            }
        }
        if rest > 0 {
            let _ = tx.send(block.slice(..rest * event.len())).await;
        }
    });
    response
}

/// The encoding of one unmasked, unfragmented server text frame.
fn text_frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 10);
    // FIN set, opcode 1 (text), no RSV bits.
    frame.push(0x81);
    let len = payload.len();
    if len < 126 {
        frame.push(len as u8);
    } else if let Ok(len) = u16::try_from(len) {
        frame.push(126);
        frame.extend_from_slice(&len.to_be_bytes());
    } else {
        frame.push(127);
        frame.extend_from_slice(&(len as u64).to_be_bytes());
    }
    frame.extend_from_slice(payload);
    frame
}

/// A JSON text of `size` bytes (longer when `size` cannot hold the seq): `{"seq":i,"pad":"x…"}`.
fn json_payload(seq: usize, size: usize) -> Vec<u8> {
    let mut text = format!("{{\"seq\":{seq},\"pad\":\"").into_bytes();
    let pad = size.saturating_sub(text.len() + 2);
    text.resize(text.len() + pad, b'x');
    text.extend_from_slice(b"\"}");
    text
}

/// Compressed frames of the messages `0..units`, and where each frame ends.
fn deflated_block(deflater: &mut Deflater, units: usize, size: usize) -> (Bytes, Vec<usize>) {
    let mut bytes = Vec::new();
    let mut ends = Vec::with_capacity(units);
    for seq in 0..units {
        let compressed = deflater.compress(&json_payload(seq, size), false);
        encode_frame(&mut bytes, true, 0b100, OP_TEXT, None, &compressed);
        ends.push(bytes.len());
    }
    (Bytes::from(bytes), ends)
}

/// The whole compressed stream as pieces to write: the first block, then the repeated one, then
/// the part of it that completes `n`.
fn deflated_stream(plan: &Plan, mut deflater: Deflater) -> Vec<Bytes> {
    let units = (BLOCK_BYTES / plan.size.max(1))
        .max(1)
        .min(usize::try_from(plan.n).unwrap_or(usize::MAX));
    if units == 0 {
        return Vec::new();
    }
    let (first, first_ends) = deflated_block(&mut deflater, units, plan.size);
    let n = usize::try_from(plan.n).unwrap_or(usize::MAX);
    if n <= units {
        return vec![first.slice(..first_ends[n - 1])];
    }
    let (again, ends) = deflated_block(&mut deflater, units, plan.size);
    let (full, rest) = ((n - units) / units, (n - units) % units);
    let mut pieces = Vec::with_capacity(full + 2);
    pieces.push(first);
    pieces.extend(std::iter::repeat_n(again.clone(), full));
    if rest > 0 {
        pieces.push(again.slice(..ends[rest - 1]));
    }
    pieces
}

/// `GET /firehose/ws`, after the upgrade; compressed when permessage-deflate was agreed.
pub(super) async fn ws(mut socket: Socket, plan: &Plan, deflater: Option<Deflater>) {
    if let Some(deflater) = deflater {
        for piece in deflated_stream(plan, deflater) {
            if socket.write_all(&piece).await.is_err() {
                return;
            }
        }
    } else {
        let frame = text_frame(&payload(plan.size));
        let (block, units) = block(&frame, plan.n);
        let (full, rest) = plan.split(units);
        for _ in 0..full {
            if socket.write_all(&block).await.is_err() {
                return;
            }
        }
        if rest > 0
            && socket
                .write_all(&block[..rest * frame.len()])
                .await
                .is_err()
        {
            return;
        }
    }
    if socket.flush().await.is_err() {
        return;
    }
    let ws = WebSocketStream::from_raw_socket(socket, Role::Server, None).await;
    socket::close(ws, CloseCode::Normal, "done").await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_lengths_use_the_three_encodings() {
        assert_eq!(text_frame(b"hi"), vec![0x81, 2, b'h', b'i']);
        let mid = text_frame(&payload(300));
        assert_eq!(&mid[..4], &[0x81, 126, 1, 44]);
        assert_eq!(mid.len(), 4 + 300);
        let big = text_frame(&payload(70_000));
        assert_eq!(&big[..2], &[0x81, 127]);
        assert_eq!(
            u64::from_be_bytes(big[2..10].try_into().expect("8 bytes")),
            70_000
        );
    }

    #[test]
    fn the_deflated_stream_inflates_to_n_json_messages_in_order() {
        use crate::protocol::deflate::{DeflateParams, Inflater};
        use crate::protocol::ws::{Decoder, WsItem};
        let params = DeflateParams::default();
        // 1000-byte messages: 262 per block, so 700 is one block, a repeat and a part of one.
        for n in [0, 1, 5, 262, 700] {
            let plan = Plan { n, size: 1000 };
            let bytes: Vec<u8> = deflated_stream(&plan, Deflater::new(&params)).concat();
            let mut decoder = Decoder::new(1 << 20);
            decoder.set_allow_rsv1(true);
            decoder.feed(&bytes);
            let mut inflater = Inflater::new(&params);
            let mut seen = 0;
            while let Some(item) = decoder.next_item() {
                let Ok(WsItem::Message {
                    data,
                    compressed: true,
                    ..
                }) = item
                else {
                    panic!("n={n}: {item:?}");
                };
                let text = inflater
                    .inflate(data.as_bytes().to_vec(), 1 << 20)
                    .expect("inflates");
                assert_eq!(text, json_payload(seen % 262, 1000), "n={n} message {seen}");
                seen += 1;
            }
            assert_eq!(seen, n as usize);
        }
        assert_eq!(json_payload(7, 30), br#"{"seq":7,"pad":"xxxxxxxxxxxx"}"#);
    }

    #[test]
    fn blocks_cover_exactly_n_units() {
        for (n, size) in [(0, 10), (1, 10), (1000, 100), (5, 1_000_000), (100_000, 1)] {
            let unit = payload(size);
            let (block, units) = block(&unit, n);
            assert_eq!(block.len(), units * size);
            let plan = Plan { n, size };
            let (full, rest) = plan.split(units);
            assert_eq!(full * units as u64 + rest as u64, n, "n={n} size={size}");
        }
    }
}
