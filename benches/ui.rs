//! Dashboard benchmarks: one frame's render time with 1 000 and 1 000 000 records stored (it
//! must not grow with history: only the visible rows are built), the overview's frame with 2, 20
//! and 100 streams (rows are built only for the screen; the sort looks at every stream), and store
//! ingest (records/s).
//!
//! `cargo bench --bench ui`. Compare the two `render_frame` rows as a ratio, measured in the same
//! run; absolute times on a shared machine are noise.

use divan::Bencher;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use streamscope::record::StreamInfo;
use streamscope::record::{DataOpcode, Dir, Kind, Payload, Proto, Record};
use streamscope::store::Store;
use streamscope::tui::{App, Theme, overview_table, render};

fn main() {
    divan::main();
}

const T0: i64 = 1_764_072_000_000_000;

// The records and streams are built here, not taken from a kit: the unit tests' builders
// (src/testkit.rs) exist only under cfg(test), and tests/support runs processes and servers.

fn info(index: usize, proto: Proto) -> StreamInfo {
    StreamInfo {
        index,
        name: None,
        proto,
        display_url: format!("http://127.0.0.1:8080/{index}"),
        heartbeat_ms: Some(2000),
        insecure: false,
        request: None,
    }
}

fn record(i: usize, stream: usize) -> Record {
    let data =
        format!("{{\"seq\":{i},\"symbol\":\"ACME\",\"price\":101.37,\"ts_ms\":1795603348740}}");
    let kind = if stream == 0 {
        Kind::Event {
            event: "tick".into(),
            data: data.into(),
            id: Some(i.to_string().into()),
            retry: None,
        }
    } else {
        Kind::Message {
            opcode: DataOpcode::Text,
            data: Payload::Text(data.into()),
            frames: 1,
            compressed: false,
            decoded: None,
        }
    };
    let mut r = Record::new(
        T0 + i64::try_from(i).unwrap_or(0) * 250,
        stream,
        if stream == 0 { Proto::Sse } else { Proto::Ws },
        kind,
    );
    r.dir = Some(Dir::In);
    r.wire_bytes = Some(90);
    r.payload_bytes = Some(62);
    r.gap_ms = Some(0.25);
    r.read = Some(i as u64);
    r
}

fn filled(n: usize) -> Store {
    let mut store = Store::new(vec![info(0, Proto::Sse), info(1, Proto::Ws)], n);
    for i in 0..n {
        store.apply(record(i, 0));
        store.apply(record(i, 1));
    }
    store
}

#[divan::bench(args = [1_000, 1_000_000], sample_count = 30)]
fn render_frame(bencher: Bencher, stored: usize) {
    let store = filled(stored);
    let mut app = App::new(2);
    app.page_rows = render::list_rows(ratatui::layout::Rect::new(0, 0, 200, 50), 2);
    let theme = Theme::default();
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
    let now = T0 + i64::try_from(stored).unwrap_or(0) * 250 + 1_000;
    bencher.bench_local(|| {
        terminal
            .draw(|f| render::draw(f, &store, &app, &theme, now))
            .expect("draw");
    });
}

/// The same frame with a filter that matches one record in 10,000 (`"seq":N0000,`; none of the
/// first 1,000): the view must find the visible matches without walking the whole history every
/// frame, which a rare filter would otherwise make it do.
#[divan::bench(args = [1_000, 1_000_000], sample_count = 30)]
fn render_frame_filtered(bencher: Bencher, stored: usize) {
    let store = filled(stored);
    let mut app = App::new(2);
    app.page_rows = render::list_rows(ratatui::layout::Rect::new(0, 0, 200, 50), 2);
    "0000,".clone_into(&mut app.filter);
    app.sync_filter(&store);
    let theme = Theme::default();
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
    let now = T0 + i64::try_from(stored).unwrap_or(0) * 250 + 1_000;
    bencher.bench_local(|| {
        app.sync_filter(&store);
        terminal
            .draw(|f| render::draw(f, &store, &app, &theme, now))
            .expect("draw");
    });
}

/// `streams` streams of 1 000 records each, alternating SSE and WebSocket.
fn many(streams: usize) -> Store {
    let infos = (0..streams)
        .map(|i| info(i, if i % 2 == 0 { Proto::Sse } else { Proto::Ws }))
        .collect();
    let mut store = Store::new(infos, 1_000);
    for i in 0..1_000 {
        for s in 0..streams {
            let mut r = record(i, s % 2);
            r.stream = s;
            // Different gaps per stream, so the sort has work to do.
            r.gap_ms = Some(0.25 + (s * 7 % 13) as f64);
            store.apply(r);
        }
    }
    store
}

/// One overview frame, its per-frame sort included, sorted by gap p99 (the key that asks every
/// stream's histogram for a percentile). Compare the rows as ratios to `streams = 2`.
#[divan::bench(args = [2, 20, 100], sample_count = 30)]
fn render_overview(bencher: Bencher, streams: usize) {
    let store = many(streams);
    let mut app = App::new(streams);
    app.overview_open = true;
    let area = ratatui::layout::Rect::new(0, 0, 200, 50);
    app.overview.page_rows = overview_table::table_rows(area);
    for _ in 0..4 {
        app.handle(&streamscope::tui::Action::SortNext, &store);
    }
    let theme = Theme::default();
    let mut terminal = Terminal::new(TestBackend::new(200, 50)).expect("test backend");
    let now = T0 + 1_000 * 250 + 1_000;
    bencher.bench_local(|| {
        app.overview.sync(&store, now);
        terminal
            .draw(|f| streamscope::tui::draw(f, &store, &app, &theme, now))
            .expect("draw");
    });
}

#[divan::bench(sample_count = 20)]
fn store_apply_100k(bencher: Bencher) {
    let records: Vec<Record> = (0..100_000).map(|i| record(i, i % 2)).collect();
    bencher
        .counter(divan::counter::ItemsCount::new(records.len()))
        .with_inputs(|| {
            (
                Store::new(vec![info(0, Proto::Sse), info(1, Proto::Ws)], 10_000),
                records.clone(),
            )
        })
        .bench_local_values(|(mut store, records)| {
            for r in records {
                store.apply(r);
            }
            store
        });
}
