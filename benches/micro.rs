//! Micro benchmarks of the headless hot path, with divan: `cargo bench --bench micro`.
//!
//! Throughput is in input bytes (SSE, WebSocket) or records (JSON, emitter + sink). Inputs are fed
//! in 16 KiB pieces, the size of a socket read on a firehose. See `docs/performance.md`.

use std::hint::black_box;

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use streamscope::capture::emitter::Emitter;
use streamscope::capture::net::tap::ReadMark;
use streamscope::protocol::sse::SseParser;
use streamscope::protocol::ws::{Decoder, encode_frame};
use streamscope::record::json::LineEncoder;
use streamscope::record::time::Stamp;
use streamscope::record::{DataOpcode, Kind, Payload, Proto, Record, Text};

fn main() {
    divan::main();
}

/// Size of one piece fed to a parser (a typical socket read on loopback).
const READ: usize = 16 * 1024;

/// `events` SSE events of `data: ` + `size` bytes, each followed by `comments` comment lines.
fn sse_stream(events: usize, size: usize, comments: usize) -> Vec<u8> {
    let mut s = Vec::new();
    for _ in 0..events {
        for _ in 0..comments {
            s.extend_from_slice(b": heartbeat\n");
        }
        s.extend_from_slice(b"data: ");
        s.extend(std::iter::repeat_n(b'x', size));
        s.extend_from_slice(b"\n\n");
    }
    s
}

fn sse_feed(bencher: Bencher, stream: &[u8]) {
    let mut items = Vec::with_capacity(1024);
    bencher
        .counter(BytesCount::new(stream.len()))
        .bench_local(|| {
            let mut p = SseParser::new();
            let mut n = 0;
            for piece in stream.chunks(READ) {
                p.feed(black_box(piece), &mut items);
                n += items.len();
                items.clear();
            }
            n
        });
}

/// The firehose's shape: 100-byte `data:` events, nothing else.
#[divan::bench]
fn sse_small_events(bencher: Bencher) {
    sse_feed(bencher, &sse_stream(10_000, 100, 0));
}

/// The demo feed's shape: `event`, `id` and a JSON `data` line.
#[divan::bench]
fn sse_tick_events(bencher: Bencher) {
    let mut s = Vec::new();
    for i in 0..10_000 {
        s.extend_from_slice(
            format!(
                "event: tick\nid: {i}\ndata: {{\"seq\":{i},\"symbol\":\"ACME\",\"price\":99.81,\"ts_ms\":1795603464898}}\n\n"
            )
            .as_bytes(),
        );
    }
    sse_feed(bencher, &s);
}

/// 64 KiB events: lines spanning many reads.
#[divan::bench]
fn sse_large_events(bencher: Bencher) {
    sse_feed(bencher, &sse_stream(64, 64 * 1024, 0));
}

/// Ten comment lines per 100-byte event.
#[divan::bench]
fn sse_comment_heavy(bencher: Bencher) {
    sse_feed(bencher, &sse_stream(2_000, 100, 10));
}

/// 100-byte text frames as a server sends them (unmasked), fed and drained.
#[divan::bench]
fn ws_decode_100b_frames(bencher: Bencher) {
    let mut stream = Vec::new();
    for _ in 0..10_000 {
        encode_frame(&mut stream, true, 0, 1, None, &[b'x'; 100]);
    }
    bencher
        .counter(BytesCount::new(stream.len()))
        .bench_local(|| {
            let mut d = Decoder::new(64 * 1024 * 1024);
            let mut n = 0;
            for piece in stream.chunks(READ) {
                let room = d.buffer_mut(READ);
                room[..piece.len()].copy_from_slice(piece);
                d.commit(piece.len());
                while let Some(item) = d.next_item() {
                    black_box(&item);
                    n += 1;
                }
            }
            n
        });
}

/// Large text messages that arrive over many reads (the decoder's streaming path, which checks
/// UTF-8 as the bytes arrive): 16 messages of 1 MiB of mixed one- and two-byte characters, each
/// sent as one frame and as 16 fragments of 64 KiB.
#[divan::bench(args = [1, 16])]
fn ws_decode_1mib_text(bencher: Bencher, fragments: usize) {
    let mut text = "streamscope héllo wörld ".repeat(1 << 16);
    let mut end = 1 << 20;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    let text = text.as_bytes();
    let mut stream = Vec::new();
    for _ in 0..16 {
        let pieces: Vec<&[u8]> = text.chunks(text.len() / fragments).collect();
        for (i, piece) in pieces.iter().enumerate() {
            // Text, then continuations.
            let opcode = u8::from(i == 0);
            encode_frame(&mut stream, i + 1 == pieces.len(), 0, opcode, None, piece);
        }
    }
    bencher
        .counter(BytesCount::new(stream.len()))
        .bench_local(|| {
            let mut d = Decoder::new(64 * 1024 * 1024);
            let mut n = 0;
            for piece in stream.chunks(READ) {
                d.feed(piece);
                while let Some(item) = d.next_item() {
                    black_box(&item);
                    n += 1;
                }
            }
            n
        });
}

// Built here for the same reason as in benches/ui.rs: the unit tests' record builders
// (src/testkit.rs) exist only under cfg(test).
fn sse_record() -> Record {
    let mut r = Record::new(
        1_795_603_464_898_574,
        0,
        Proto::Sse,
        Kind::Event {
            event: Text::from_static("message"),
            data: "x".repeat(100).into(),
            id: None,
            retry: None,
        },
    );
    r.dir = Some(streamscope::record::Dir::In);
    r.wire_bytes = Some(108);
    r.payload_bytes = Some(100);
    r.gap_ms = Some(0.0);
    r.read = Some(1234);
    r
}

fn ws_record() -> Record {
    let mut r = Record::new(
        1_795_603_464_898_574,
        1,
        Proto::Ws,
        Kind::Message {
            opcode: DataOpcode::Text,
            data: Payload::Text(
                r#"{"seq":1,"symbol":"ACME","price":99.81,"ts_ms":1795603464898}"#
                    .to_owned()
                    .into(),
            ),
            frames: 1,
            compressed: false,
            decoded: None,
        },
    );
    r.dir = Some(streamscope::record::Dir::In);
    r.wire_bytes = Some(63);
    r.payload_bytes = Some(61);
    r.gap_ms = Some(219.608);
    r.read = Some(2);
    r
}

/// One SSE event record (100 bytes of data) to a JSON line, into a reused buffer.
#[divan::bench(sample_size = 1000)]
fn json_sse_event_record(bencher: Bencher) {
    let r = sse_record();
    let mut buf = Vec::with_capacity(1024);
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        buf.clear();
        black_box(&r).write_json(&mut buf);
        buf.len()
    });
}

/// One SSE event whose data is a market-feed JSON object of 100 bytes (14 quotes to escape, as the
/// neutral server of `benches/neutral.sh` sends) to a JSON line.
#[divan::bench(sample_size = 1000)]
fn json_sse_event_record_quoted(bencher: Bencher) {
    let mut r = sse_record();
    if let Kind::Event { data, .. } = &mut r.kind {
        *data = Text::from(
            r#"{"seq":1,"type":"trade","sym":"BTC-USD","side":"buy","qty":1,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#,
        );
    }
    let mut buf = Vec::with_capacity(1024);
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        buf.clear();
        black_box(&r).write_json(&mut buf);
        buf.len()
    });
}

/// The `--json` writer's part of the neutral server's event (`id: N` and the 100-byte market-feed
/// data) when the connection thread escaped the data ahead (`EscapedPayloads`): the line head
/// from the encoder's cache, the traffic fields, the event type, the escaped data copied, the id.
#[divan::bench(sample_size = 1000)]
fn json_sse_event_escaped_ahead(bencher: Bencher) {
    let mut r = sse_record();
    if let Kind::Event { data, id, .. } = &mut r.kind {
        *data = Text::from(
            r#"{"seq":1,"type":"trade","sym":"BTC-USD","side":"buy","qty":1,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#,
        );
        *id = Some(Text::from("123456"));
    }
    let records = [r];
    let escaped = streamscope::record::json::EscapedPayloads::of(&records);
    let mut enc = LineEncoder::new();
    let mut buf = Vec::with_capacity(1024);
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        buf.clear();
        enc.write_escaped(black_box(&records[0]), escaped.get(0), &mut buf);
        buf.len()
    });
}

/// One WebSocket message record (JSON text that needs escaping) to a JSON line.
#[divan::bench(sample_size = 1000)]
fn json_ws_message_record(bencher: Bencher) {
    let r = ws_record();
    let mut buf = Vec::with_capacity(1024);
    bencher.counter(ItemsCount::new(1usize)).bench_local(|| {
        buf.clear();
        black_box(&r).write_json(&mut buf);
        buf.len()
    });
}

/// One socket read's worth of SSE event records (160 of 100 bytes, sharing their timestamp) through
/// the `LineEncoder`, as the `--json` sink writes them: the line head once per read (two reads
/// alternate, so it is rebuilt every time), the tail per record.
#[divan::bench(sample_size = 100)]
fn json_line_encoder_read(bencher: Bencher) {
    const PER_READ: usize = 160;
    let read = |ts_us: i64| -> Vec<Record> {
        (0..PER_READ)
            .map(|_| {
                let mut r = sse_record();
                r.ts_us = ts_us;
                r
            })
            .collect()
    };
    let reads = [read(1_795_603_464_898_574), read(1_795_603_464_898_575)];
    let mut enc = LineEncoder::new();
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut which = 0;
    bencher.counter(ItemsCount::new(PER_READ)).bench_local(|| {
        which ^= 1;
        buf.clear();
        for r in black_box(&reads[which]) {
            enc.write(r, &mut buf);
        }
        buf.len()
    });
}

/// The whole path after the parser: `Emitter::rx` for 100,000 event records in batches of 160 (a
/// 16 KiB read of 100-byte events), over the channel, to the JSON sink thread writing to
/// `io::sink()`. Includes building each record's data (one allocation, as the SSE client did before
/// its arena; see `tests/alloc_free.rs` for what the client allocates now).
#[divan::bench(sample_count = 20)]
fn emitter_to_json_sink(bencher: Bencher) {
    const RECORDS: usize = 100_000;
    const PER_READ: usize = 160;
    let data = "x".repeat(100);
    bencher.counter(ItemsCount::new(RECORDS)).bench_local(|| {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let sink = streamscope::ingest::output::spawn_json_sink(rx, std::io::sink());
        let mut em = Emitter::new(0, Proto::Sse, tx, None, None);
        for read in 1..=(RECORDS / PER_READ) as u64 {
            let mark = ReadMark {
                read,
                stamp: Stamp {
                    wall_us: 1_795_603_464_898_574 + read.cast_signed(),
                    mono_ns: read * 1000,
                },
            };
            for _ in 0..PER_READ {
                em.rx(
                    mark,
                    Kind::Event {
                        event: Text::from_static("message"),
                        data: data.clone().into(),
                        id: None,
                        retry: None,
                    },
                    108,
                    100,
                );
            }
            em.flush();
        }
        drop(em);
        sink.join().expect("sink thread").expect("sink writes");
    });
}

/// What following LLM completions costs on the hot path: `Emitter::rx` for 100,000 OpenAI chat
/// completion chunks (as the embedded server's `/llm/openai/` mock sends them, about 170 bytes of
/// data each) in batches of 160, to the JSON sink, with `--llm=off` (`false`) and with the
/// tracker reading every chunk (`true`): the ratio of the two is the LLM accounting's share.
#[divan::bench(sample_count = 20, args = [false, true])]
fn emitter_llm_chunks(bencher: Bencher, llm: bool) {
    use streamscope::capture::llm::{DEFAULT_STALL, LlmTracker};
    use streamscope::protocol::llm::Mode;
    const RECORDS: usize = 100_000;
    const PER_READ: usize = 160;
    let chunks: Vec<String> = ["The", " sky", " is", " blue", " today", "."]
        .iter()
        .map(|t| {
            format!(
                r#"{{"choices":[{{"delta":{{"content":"{t}"}},"finish_reason":null,"index":0}}],"created":1796000000,"id":"chatcmpl-mock","model":"mock-gpt","object":"chat.completion.chunk"}}"#
            )
        })
        .collect();
    let mode = if llm { Mode::Auto } else { Mode::Off };
    bencher.counter(ItemsCount::new(RECORDS)).bench_local(|| {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let sink = streamscope::ingest::output::spawn_json_sink(rx, std::io::sink());
        let mut em = Emitter::new(0, Proto::Sse, tx, None, None);
        em.set_llm(LlmTracker::new(mode, "/v1/chat/completions", DEFAULT_STALL));
        let open = Kind::open(
            200,
            vec![("content-type".into(), "text/event-stream".into())],
            1.0,
        );
        let stamp = |read: u64| Stamp {
            wall_us: 1_795_603_464_898_574 + read.cast_signed() * 50,
            mono_ns: read * 50_000,
        };
        em.open(
            ReadMark {
                read: 0,
                stamp: stamp(0),
            },
            open,
            120,
        );
        let mut i = 0;
        for read in 1..=(RECORDS / PER_READ) as u64 {
            let mark = ReadMark {
                read,
                stamp: stamp(read),
            };
            for _ in 0..PER_READ {
                let data = chunks[i % chunks.len()].clone();
                i += 1;
                let n = data.len() as u64;
                em.rx(
                    mark,
                    Kind::Event {
                        event: Text::from_static("message"),
                        data: data.into(),
                        id: None,
                        retry: None,
                    },
                    n + 8,
                    n,
                );
            }
            em.flush();
        }
        em.finish_llm();
        em.flush();
        drop(em);
        sink.join().expect("sink thread").expect("sink writes");
    });
}

/// The tracker alone: `LlmTracker::observe` on 10,000 OpenAI chunk records (read as JSON, text
/// appended, gaps kept), the work `--llm` adds per chunk.
#[divan::bench(sample_size = 10)]
fn llm_tracker_openai_chunks(bencher: Bencher) {
    use streamscope::capture::llm::{DEFAULT_STALL, LlmTracker};
    use streamscope::protocol::llm::Mode;
    const RECORDS: usize = 10_000;
    let records: Vec<Record> = (0..RECORDS)
        .map(|i| {
            let data = format!(
                r#"{{"choices":[{{"delta":{{"content":" w{i}"}},"finish_reason":null,"index":0}}],"created":1796000000,"id":"chatcmpl-mock","model":"mock-gpt","object":"chat.completion.chunk"}}"#
            );
            Record::new(
                1_795_603_464_898_574 + i64::try_from(i).unwrap_or(0) * 20_000,
                0,
                Proto::Sse,
                Kind::Event {
                    event: Text::from_static("message"),
                    data: data.into(),
                    id: None,
                    retry: None,
                },
            )
        })
        .collect();
    bencher.counter(ItemsCount::new(RECORDS)).bench_local(|| {
        let mut t = LlmTracker::new(Mode::Auto, "/v1/chat/completions", DEFAULT_STALL);
        for r in black_box(&records) {
            black_box(t.observe(r));
        }
        t.finish(1_795_603_464_898_574 + 300_000_000)
            .map(|s| s.chunks)
    });
}
