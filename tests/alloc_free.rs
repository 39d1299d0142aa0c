//! No allocation per record on the headless path (issue #17): a counting global allocator around
//! the system one (this test binary's own, so no other test is affected) counts what the
//! `--json` path allocates while 10,000 records of each shape go through it, fed in 64 KiB reads:
//! the SSE parser (fed each read as shared bytes, as the client does) or the WebSocket decoder,
//! [`Emitter::rx`] and its batches (with the `--json` queue bound), the channel to the sink, and
//! the sink's [`LineEncoder`] into a reused buffer; the records are dropped after being encoded,
//! as the sink does. Each shape runs twice: with the sink keeping up (it escapes the payloads)
//! and with the sink one batch behind, so the emitter escapes them ahead
//! ([`RecordBatch::escape_payloads`]).
//!
//! What may allocate is per read (the read's buffer, the next batch's vector, the escaped
//! payloads, the channel's blocks, a new arena block every 64 KiB of copied text), never per
//! record. One test function runs every shape in turn, so nothing else runs while it counts.

use std::alloc::System;

use bytes::Bytes;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use streamscope::capture::emitter::Emitter;
use streamscope::capture::net::tap::ReadMark;
use streamscope::protocol::sse::SseParser;
use streamscope::protocol::ws::{Decoder, WsItem, encode_frame};
use streamscope::record::batch::{Backlog, RecordBatch};
use streamscope::record::json::LineEncoder;
use streamscope::record::time::Stamp;
use streamscope::record::{Kind, Proto};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Records of each shape.
const RECORDS: usize = 10_000;
/// The size of one socket read.
const READ: usize = 64 * 1024;
/// Allocations allowed per read: the read's buffer, the emitter's next batch, the escaped
/// payloads (their bytes and their ends), a block of the channel now and then, the arena's next
/// block (two: its buffer and the shared header) when one fills.
const PER_READ: u64 = 8;
/// Allocations allowed once per shape: first buffers, first arena block, the lines' buffer.
const SETUP: u64 = 64;

/// A 100-byte JSON payload like the neutral server's (quotes to escape), numbered `seq`.
fn payload(seq: usize) -> String {
    let head =
        format!(r#"{{"seq":{seq},"type":"trade","sym":"BTC-USD","side":"buy","qty":1,"pad":""#);
    let pad = 100 - head.len() - 2;
    format!("{head}{}\"}}", "x".repeat(pad))
}

/// What goes through the path: the reads, and where the records come out.
struct Path {
    em: Emitter,
    rx: UnboundedReceiver<RecordBatch>,
    /// The sink is one batch behind: it holds the last batch until the next read's.
    behind: bool,
    held: Option<RecordBatch>,
    /// Records whose payload the emitter escaped ahead.
    escaped: usize,
    enc: LineEncoder,
    out: Vec<u8>,
    records: usize,
    lines: usize,
}

impl Path {
    fn new(proto: Proto, behind: bool) -> Path {
        let (tx, rx) = unbounded_channel();
        let mut em = Emitter::new(0, proto, tx, None, None);
        // The --json sink's queue bound; drained after every read, so it never pauses reading
        // (one batch behind, the queue is half full, so the emitter escapes the payloads).
        let backlog = if behind {
            Backlog::bounded(usize::MAX, 2 * READ)
        } else {
            Backlog::for_output(None, true)
        };
        em.set_backlog(backlog);
        em.escape_payloads_for_json();
        Path {
            em,
            rx,
            behind,
            held: None,
            escaped: 0,
            enc: LineEncoder::new(),
            out: Vec::with_capacity(4 * READ),
            records: 0,
            lines: 0,
        }
    }

    fn mark(read: usize) -> ReadMark {
        ReadMark {
            read: read as u64,
            stamp: Stamp {
                wall_us: 1_795_603_464_898_574 + i64::try_from(read).expect("few reads") * 1000,
                mono_ns: read as u64 * 1_000_000,
            },
        }
    }

    /// The read is over: its batch to the sink, encoded, written (the buffer reused) and dropped
    /// (one batch later when the sink is behind).
    fn end_read(&mut self) {
        assert!(self.em.flush(), "the sink's receiver is alive");
        while let Ok(batch) = self.rx.try_recv() {
            if self.behind {
                if let Some(old) = self.held.replace(batch) {
                    self.write(&old);
                }
            } else {
                self.write(&batch);
            }
        }
    }

    fn write(&mut self, batch: &RecordBatch) {
        for (i, r) in batch.iter().enumerate() {
            let escaped = batch.escaped_payload(i);
            self.escaped += usize::from(escaped.is_some());
            self.enc.write_escaped(r, escaped, &mut self.out);
            self.lines += 1;
        }
        self.out.clear();
    }

    /// The stream is over: what the sink still holds is written.
    fn finish(mut self) -> Path {
        if let Some(old) = self.held.take() {
            self.write(&old);
        }
        self
    }
}

/// Feeds `body` to the SSE parser in 64 KiB reads and the records through the path, as the SSE
/// connection task does (`capture::sse`).
fn run_sse(body: &[u8], behind: bool) -> Path {
    let mut path = Path::new(Proto::Sse, behind);
    let mut parser = SseParser::new();
    let mut items = Vec::with_capacity(1024);
    for (n, piece) in body.chunks(READ).enumerate() {
        let mark = Path::mark(n + 1);
        // The read's buffer, as the client reads it (the texts of its whole lines are slices).
        parser.feed_shared(&Bytes::copy_from_slice(piece), &mut items);
        for item in items.drain(..) {
            let (kind, wire_bytes, payload) = item.into_record();
            path.em.rx(mark, kind, wire_bytes, payload);
            path.records += 1;
        }
        assert!(parser.take_lints().is_empty());
        path.end_read();
    }
    path.finish()
}

/// Feeds `wire` to the WebSocket decoder in 64 KiB reads and the messages through the path, as
/// the WebSocket connection task does (`capture::ws`).
fn run_ws(wire: &[u8], behind: bool) -> Path {
    let mut path = Path::new(Proto::Ws, behind);
    let mut decoder = Decoder::new(64 * 1024 * 1024);
    for (n, piece) in wire.chunks(READ).enumerate() {
        let mark = Path::mark(n + 1);
        decoder.feed(piece);
        while let Some(item) = decoder.next_item() {
            let Ok(WsItem::Message {
                opcode,
                data,
                frames,
                compressed,
                wire_bytes,
            }) = item
            else {
                panic!("only data messages were sent, got {item:?}");
            };
            let payload = data.len() as u64;
            let kind = Kind::Message {
                opcode,
                data,
                frames,
                compressed,
                decoded: None,
            };
            path.em.rx(mark, kind, wire_bytes, payload);
            path.records += 1;
        }
        assert!(decoder.take_lints().is_empty());
        path.end_read();
    }
    path.finish()
}

/// Runs one shape under the counter; returns (allocations, reads, records).
fn count(name: &str, input: &[u8], run: Run, behind: bool) -> (u64, usize, usize) {
    let region = Region::new(GLOBAL);
    let path = run(input, behind);
    let stats = region.change();
    let allocations = (stats.allocations + stats.reallocations) as u64;
    let reads = input.len().div_ceil(READ);
    assert_eq!(path.records, path.lines, "{name}: every record was encoded");
    if behind {
        // Only the first batch went before the sink fell behind.
        let texts = if name.contains("binary") {
            0
        } else {
            path.records / 2
        };
        assert!(
            path.escaped >= texts,
            "{name}: {} escaped ahead",
            path.escaped
        );
    } else {
        assert_eq!(path.escaped, 0, "{name}: the sink kept up, so it escaped");
    }
    eprintln!(
        "{name}, sink {}: {} records in {reads} reads: {} allocations + {} reallocations ({:.4} per record)",
        if behind { "behind" } else { "keeping up" },
        path.records,
        stats.allocations,
        stats.reallocations,
        allocations as f64 / path.records as f64
    );
    drop(path);
    (allocations, reads, RECORDS)
}

/// How a shape is read: its bytes, and whether the sink is behind.
type Run = fn(&[u8], bool) -> Path;

/// A shape: its name, its bytes on the wire, how they are read.
type Shape = (&'static str, Vec<u8>, Run);

fn sse_body(event: impl Fn(usize) -> String) -> Vec<u8> {
    (1..=RECORDS).flat_map(|i| event(i).into_bytes()).collect()
}

fn ws_wire(frames_of: impl Fn(usize) -> Vec<(bool, u8, Vec<u8>)>) -> Vec<u8> {
    let mut wire = Vec::new();
    for i in 1..=RECORDS {
        for (fin, opcode, payload) in frames_of(i) {
            encode_frame(&mut wire, fin, 0, opcode, None, &payload);
        }
    }
    wire
}

/// A message in three frames (first, continuation, final continuation).
fn fragmented(opcode: u8, payload: &[u8]) -> Vec<(bool, u8, Vec<u8>)> {
    let (a, rest) = payload.split_at(30);
    let (b, c) = rest.split_at(40);
    vec![
        (false, opcode, a.to_vec()),
        (false, 0, b.to_vec()),
        (true, 0, c.to_vec()),
    ]
}

#[test]
fn the_headless_path_allocates_per_read_not_per_record() {
    let shapes: Vec<Shape> = vec![
        (
            "sse data",
            sse_body(|i| format!("data: {}\n\n", payload(i))),
            run_sse,
        ),
        (
            "sse id + data",
            sse_body(|i| format!("id: {i}\ndata: {}\n\n", payload(i))),
            run_sse,
        ),
        (
            "sse named event + id",
            sse_body(|i| format!("event: trade\nid: {i}\ndata: {}\n\n", payload(i))),
            run_sse,
        ),
        (
            "sse multi-line data",
            sse_body(|i| {
                let p = payload(i);
                format!(
                    "data: {}\ndata: {}\ndata: {}\n\n",
                    &p[..30],
                    &p[30..70],
                    &p[70..]
                )
            }),
            run_sse,
        ),
        (
            "sse comments",
            sse_body(|i| {
                if i % 2 == 0 {
                    ": keep-alive\n".to_owned()
                } else {
                    format!("data: {}\n\n", payload(i))
                }
            }),
            run_sse,
        ),
        (
            "ws text",
            ws_wire(|i| vec![(true, 1, payload(i).into_bytes())]),
            run_ws,
        ),
        (
            "ws binary",
            ws_wire(|i| vec![(true, 2, payload(i).into_bytes())]),
            run_ws,
        ),
        (
            "ws fragmented text",
            ws_wire(|i| fragmented(1, payload(i).as_bytes())),
            run_ws,
        ),
        (
            "ws fragmented binary",
            ws_wire(|i| fragmented(2, payload(i).as_bytes())),
            run_ws,
        ),
    ];
    let mut over = Vec::new();
    for (name, input, run) in &shapes {
        for behind in [false, true] {
            let (allocations, reads, records) = count(name, input, *run, behind);
            let allowed = reads as u64 * PER_READ + SETUP;
            if allocations > allowed {
                over.push(format!(
                    "{name} (sink behind: {behind}): {allocations} allocations for {records} \
                     records in {reads} reads (allowed {allowed}: {PER_READ} per read + {SETUP})"
                ));
            }
        }
    }
    assert!(
        over.is_empty(),
        "allocations per record:\n{}",
        over.join("\n")
    );
}
