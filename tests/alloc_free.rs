//! No allocation per record on the headless path (issue #17): a counting global allocator around
//! the system one (this test binary's own, so no other test is affected) counts what the
//! `--json` path allocates while 10,000 records of each shape go through it, fed in 64 KiB reads:
//! the SSE parser or the WebSocket decoder, [`Emitter::rx`] and its batches (with the `--json`
//! queue bound), the channel to the sink, and the sink's [`LineEncoder`] into a reused buffer;
//! the records are dropped after being encoded, as the sink does.
//!
//! What may allocate is per read (the next batch's vector, the channel's blocks, a new arena
//! block every 64 KiB of text), never per record. One test function runs every shape in turn,
//! so nothing else runs while it counts.

use std::alloc::System;

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
/// Allocations allowed per read: the emitter's next batch, a block of the channel now and then,
/// the arena's next block (two: its buffer and the shared header) when one fills.
const PER_READ: u64 = 6;
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
    enc: LineEncoder,
    out: Vec<u8>,
    records: usize,
    lines: usize,
}

impl Path {
    fn new(proto: Proto) -> Path {
        let (tx, rx) = unbounded_channel();
        let mut em = Emitter::new(0, proto, tx, None, None);
        // The --json sink's queue bound; drained after every read, so it never pauses reading.
        em.set_backlog(Backlog::for_output(None, true));
        Path {
            em,
            rx,
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

    /// The read is over: its batch to the sink, encoded, written (the buffer reused) and dropped.
    fn end_read(&mut self) {
        assert!(self.em.flush(), "the sink's receiver is alive");
        while let Ok(batch) = self.rx.try_recv() {
            for r in &*batch {
                self.enc.write(r, &mut self.out);
                self.lines += 1;
            }
            self.out.clear();
        }
    }
}

/// Feeds `body` to the SSE parser in 64 KiB reads and the records through the path, as the SSE
/// connection task does (`capture::sse`).
fn run_sse(body: &[u8]) -> Path {
    let mut path = Path::new(Proto::Sse);
    let mut parser = SseParser::new();
    let mut items = Vec::with_capacity(1024);
    for (n, piece) in body.chunks(READ).enumerate() {
        let mark = Path::mark(n + 1);
        parser.feed(piece, &mut items);
        for item in items.drain(..) {
            let (kind, wire_bytes, payload) = item.into_record();
            path.em.rx(mark, kind, wire_bytes, payload);
            path.records += 1;
        }
        assert!(parser.take_lints().is_empty());
        path.end_read();
    }
    path
}

/// Feeds `wire` to the WebSocket decoder in 64 KiB reads and the messages through the path, as
/// the WebSocket connection task does (`capture::ws`).
fn run_ws(wire: &[u8]) -> Path {
    let mut path = Path::new(Proto::Ws);
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
    path
}

/// Runs one shape under the counter; returns (allocations, reads, records).
fn count(name: &str, input: &[u8], run: fn(&[u8]) -> Path) -> (u64, usize, usize) {
    let region = Region::new(GLOBAL);
    let path = run(input);
    let stats = region.change();
    let allocations = (stats.allocations + stats.reallocations) as u64;
    let reads = input.len().div_ceil(READ);
    assert_eq!(path.records, path.lines, "{name}: every record was encoded");
    eprintln!(
        "{name}: {} records in {reads} reads: {} allocations + {} reallocations ({:.4} per record)",
        path.records,
        stats.allocations,
        stats.reallocations,
        allocations as f64 / path.records as f64
    );
    drop(path);
    (allocations, reads, RECORDS)
}

/// A shape: its name, its bytes on the wire, how they are read.
type Shape = (&'static str, Vec<u8>, fn(&[u8]) -> Path);

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
        let (allocations, reads, records) = count(name, input, *run);
        let allowed = reads as u64 * PER_READ + SETUP;
        if allocations > allowed {
            over.push(format!(
                "{name}: {allocations} allocations for {records} records in {reads} reads \
                 (allowed {allowed}: {PER_READ} per read + {SETUP})"
            ));
        }
    }
    assert!(
        over.is_empty(),
        "allocations per record:\n{}",
        over.join("\n")
    );
}
