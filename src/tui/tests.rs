//! Whole-screen snapshots of scripted sessions: fixed timestamps, fixed `now`, so every run draws
//! the same characters. Colours are not in text snapshots; the theme tests check cell styles.

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Color;

use super::keymap::Action;
use super::render::{self, draw};
use super::theme::Theme;
use super::view::App;
use crate::record::{Kind, Payload, Proto, Record, Side};
use crate::store::Store;
use crate::testkit::{comment, event, info, message, rec};

/// 2025-11-25T12:00:00Z.
const T0: i64 = 1_764_072_000_000_000;

/// `ms` milliseconds after `T0`, in microseconds.
fn at(ms: i64) -> i64 {
    T0 + ms * 1000
}

fn open(stream: usize, proto: Proto, at_ms: i64) -> Record {
    let open = Kind::open(
        if proto == Proto::Ws { 101 } else { 200 },
        vec![
            ("content-type".into(), "text/event-stream".into()),
            ("cache-control".into(), "no-cache".into()),
        ],
        42.5,
    );
    rec(at(at_ms), open).on(stream).proto(proto)
}

fn sse_event(at_ms: i64, event_type: &str, data: &str, gap_ms: f64) -> Record {
    let len = data.len() as u64;
    event(at(at_ms), data)
        .named(event_type)
        .id(&at_ms.to_string())
        .traffic(len + 16, len, gap_ms)
}

fn ws_msg(stream: usize, at_ms: i64, data: Payload, gap_ms: f64) -> Record {
    let len = data.len() as u64;
    message(at(at_ms), data)
        .on(stream)
        .traffic(len + 2, len, gap_ms)
}

/// An SSE session: open, ticker events every 250 ms, a comment heartbeat, one long gap.
fn sse_session(store: &mut Store) {
    store.apply(open(0, Proto::Sse, 0));
    let mut t = 40;
    for i in 0..24 {
        let gap = if i == 12 { 2600.0 } else { 250.0 };
        t += gap as i64;
        let data = format!(
            "{{\"symbol\":\"ACME\",\"price\":{}.{:02},\"seq\":{i},\"note\":\"a long payload that must be cut to the width of the column\"}}",
            100 + i,
            i * 7 % 100
        );
        store.apply(sse_event(
            t,
            if i % 5 == 4 { "trade" } else { "message" },
            &data,
            gap,
        ));
        if i % 8 == 0 {
            store.apply(comment(at(t + 5), "keep-alive").traffic(13, 0, 5.0));
        }
    }
}

fn ws_session(store: &mut Store, stream: usize) {
    store.apply(open(stream, Proto::Ws, 10));
    let mut t = 10;
    for i in 0..15 {
        t += 400;
        store.apply(ws_msg(
            stream,
            t,
            Payload::Text(format!("{{\"type\":\"tick\",\"n\":{i}}}").into()),
            400.0,
        ));
    }
    let pong = Kind::Pong {
        data: Payload::Binary(vec![1, 2, 3, 4].into()),
        rtt_ms: Some(3.75),
    };
    store.apply(rec(at(t + 20), pong).on(stream).traffic(6, 4, 20.0));
}

fn now() -> i64 {
    T0 + 9_000_000
}

fn screen(store: &Store, app: &App, theme: &Theme, w: u16, h: u16) -> Terminal<TestBackend> {
    let mut term = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    term.draw(|f| draw(f, store, app, theme, now()))
        .expect("draw");
    term
}

/// The characters on a screen, row after row.
fn text_of(term: &Terminal<TestBackend>) -> String {
    term.backend()
        .buffer()
        .content()
        .iter()
        .map(ratatui::buffer::Cell::symbol)
        .collect()
}

fn app_for(store: &Store, w: u16, h: u16) -> App {
    let mut app = App::new(store.streams().len());
    app.page_rows = render::list_rows(
        ratatui::layout::Rect::new(0, 0, w, h),
        store.streams().len(),
    );
    app
}

#[test]
fn single_sse_stream() {
    let mut store = Store::new(
        vec![info(0, Proto::Sse).url("https://example.test/prices")],
        1000,
    );
    sse_session(&mut store);
    let app = app_for(&store, 110, 30);
    insta::assert_snapshot!(screen(&store, &app, &Theme::default(), 110, 30).backend());
}

fn two_stream_store() -> Store {
    let mut store = Store::new(
        vec![
            info(0, Proto::Sse).url("https://example.test/prices"),
            info(1, Proto::Ws).url("wss://example.test/ticks"),
        ],
        1000,
    );
    sse_session(&mut store);
    ws_session(&mut store, 1);
    store
}

#[test]
fn two_streams_side_by_side_with_comparison() {
    let store = two_stream_store();
    let app = app_for(&store, 160, 36);
    insta::assert_snapshot!(screen(&store, &app, &Theme::default(), 160, 36).backend());
}

#[test]
fn narrow_terminal_stacks_panes() {
    let store = two_stream_store();
    let app = app_for(&store, 90, 44);
    insta::assert_snapshot!(screen(&store, &app, &Theme::default(), 90, 44).backend());
}

#[test]
fn detail_of_json_event() {
    let mut store = Store::new(
        vec![info(0, Proto::Sse).url("https://example.test/prices")],
        1000,
    );
    sse_session(&mut store);
    let mut app = app_for(&store, 100, 34);
    app.handle(&Action::OpenDetail, &store);
    insta::assert_snapshot!(screen(&store, &app, &Theme::default(), 100, 34).backend());
}

#[test]
fn detail_of_binary_message_is_hex() {
    let mut store = Store::new(vec![info(0, Proto::Ws).url("wss://example.test/bin")], 100);
    store.apply(open(0, Proto::Ws, 0));
    let bytes: Vec<u8> = (0u8..40)
        .map(|b| b.wrapping_mul(7))
        .chain(*b"hello")
        .collect();
    store.apply(ws_msg(0, 100, Payload::Binary(bytes.into()), 60.0));
    let mut app = app_for(&store, 100, 24);
    app.handle(&Action::OpenDetail, &store);
    insta::assert_snapshot!(screen(&store, &app, &Theme::default(), 100, 24).backend());
}

/// A message with what `--decode` made of it, as the connection task attaches it.
fn decoded_msg(at_ms: i64, data: Payload, d: crate::record::decoded::Decoded) -> Record {
    let mut r = ws_msg(0, at_ms, data, 20.0);
    if let Kind::Message { decoded, .. } = &mut r.kind {
        *decoded = Some(Box::new(d));
    }
    r
}

#[test]
fn detail_of_cbor_message_reads_as_json() {
    let mut store = Store::new(vec![info(0, Proto::Ws).url("wss://example.test/cbor")], 100);
    store.apply(open(0, Proto::Ws, 0));
    // {"seq": 7, "symbol": "ACME", "price": 101.5, "raw": h'00000007'}
    let bytes = vec![
        0xa4, 0x63, b's', b'e', b'q', 0x07, 0x66, b's', b'y', b'm', b'b', b'o', b'l', 0x64, b'A',
        b'C', b'M', b'E', 0x65, b'p', b'r', b'i', b'c', b'e', 0xfb, 0x40, 0x59, 0x60, 0, 0, 0, 0,
        0, 0x63, b'r', b'a', b'w', 0x44, 0, 0, 0, 7,
    ];
    let d = crate::protocol::decode::binary::decode_cbor(&bytes);
    assert_eq!(d.fields["value"]["price"], 101.5);
    store.apply(decoded_msg(100, Payload::Binary(bytes.into()), d));
    let mut app = app_for(&store, 100, 26);
    app.handle(&Action::OpenDetail, &store);
    let shown = screen(&store, &app, &Theme::default(), 100, 26);
    insta::assert_snapshot!(shown.backend());
}

/// A graphql-transport-ws stream with three sub-streams (1 three times, 2 twice, 3 once) and a
/// ping.
fn graphql_store() -> Store {
    let mut store = Store::new(
        vec![info(0, Proto::Ws).url("wss://example.test/graphql")],
        100,
    );
    store.apply(open(0, Proto::Ws, 0));
    let mut legacy = None;
    for (i, id) in ["1", "2", "1", "3", "1", "2"].iter().enumerate() {
        let text = format!(r#"{{"id":"{id}","type":"next","payload":{{"data":{{"ticks":{i}}}}}}}"#);
        let d = crate::protocol::decode::graphql::decode(&text, &mut legacy);
        let at_ms = 100 * (i64::try_from(i).unwrap_or(0) + 1);
        store.apply(decoded_msg(at_ms, Payload::Text(text.into()), d));
    }
    let ping = crate::protocol::decode::graphql::decode(r#"{"type":"ping"}"#, &mut legacy);
    store.apply(decoded_msg(
        900,
        Payload::Text(r#"{"type":"ping"}"#.into()),
        ping,
    ));
    store
}

#[test]
fn graphql_sub_streams_in_the_list_and_the_stats() {
    let store = graphql_store();
    assert_eq!(store.streams()[0].stats.decoded.substream("1"), 3);
    let app = app_for(&store, 120, 20);
    insta::assert_snapshot!(screen(&store, &app, &Theme::default(), 120, 20).backend());
}

#[test]
fn help_explains_the_decoded_figures() {
    // The stats line of a decoded stream has figures of its own; `?` explains each of them.
    let store = graphql_store();
    let mut app = app_for(&store, 160, 80);
    let stats = text_of(&screen(&store, &app, &Theme::default(), 160, 80));
    for shown in ["graphql-transport-ws hb 1", "sub-streams 3", "#1 3"] {
        assert!(stats.contains(shown), "{shown} on the stats line:\n{stats}");
    }
    app.handle(&Action::ToggleHelp, &store);
    let text = text_of(&screen(&store, &app, &Theme::default(), 160, 80));
    for name in ["<protocol> hb", "sub-streams", "per event name"] {
        assert!(text.contains(name), "{name} explained:\n{text}");
    }
}

#[test]
fn paused_with_filter_counts_new_records_below() {
    let mut store = Store::new(
        vec![info(0, Proto::Sse).url("https://example.test/prices")],
        1000,
    );
    sse_session(&mut store);
    let mut app = app_for(&store, 110, 24);
    app.handle(&Action::StartFilter, &store);
    for c in "ACME".chars() {
        app.handle(&Action::InputChar(c), &store);
    }
    app.handle(&Action::InputSubmit, &store);
    app.handle(&Action::Move(-1), &store);
    let selected = app.panes[0].selected;
    for i in 0..6 {
        store.apply(sse_event(
            8000 + i * 100,
            "trade",
            "{\"symbol\":\"ACME\",\"late\":true}",
            100.0,
        ));
    }
    assert_eq!(app.panes[0].selected, selected);
    assert_eq!(app.below(0, &store.streams()[0], app.page_rows), 6);
    insta::assert_snapshot!(screen(&store, &app, &Theme::default(), 110, 24).backend());
}

#[test]
fn reconnecting_state_counts_down() {
    let mut store = Store::new(
        vec![info(0, Proto::Sse).url("https://example.test/prices")],
        100,
    );
    sse_session(&mut store);
    store.apply(rec(
        now() - 500_000,
        Kind::Error {
            message: "connection reset by peer".into(),
            status: None,
            close_code: None,
        },
    ));
    store.apply(rec(
        now() - 500_000,
        Kind::Reconnect {
            attempt: 3,
            delay_ms: 2000,
            last_event_id: Some("6790".into()),
            retry_ms: Some(2000),
            reason: "connection reset".into(),
        },
    ));
    let app = app_for(&store, 110, 24);
    insta::assert_snapshot!(screen(&store, &app, &Theme::default(), 110, 24).backend());
}

#[test]
fn failed_state_shows_reason() {
    let mut store = Store::new(
        vec![info(0, Proto::Ws).url("wss://example.test/ticks")],
        100,
    );
    ws_session(&mut store, 0);
    store.apply(rec(
        T0 + 7_000_000,
        Kind::Close {
            code: Some(1011),
            reason: "backend exploded".into(),
            by: Side::Server,
        },
    ));
    store.apply(
        rec(
            T0 + 7_100_000,
            Kind::Error {
                message: "HTTP 503 Service Unavailable".into(),
                status: Some(503),
                close_code: None,
            },
        )
        .proto(Proto::Ws),
    );
    store.apply(
        rec(
            T0 + 7_100_000,
            Kind::End {
                reason: "failed".into(),
                failed: true,
            },
        )
        .proto(Proto::Ws),
    );
    let app = app_for(&store, 110, 24);
    insta::assert_snapshot!(screen(&store, &app, &Theme::default(), 110, 24).backend());
}

#[test]
fn help_overlay() {
    let store = two_stream_store();
    let mut app = app_for(&store, 130, 36);
    app.handle(&Action::ToggleHelp, &store);
    insta::assert_snapshot!(screen(&store, &app, &Theme::default(), 130, 36).backend());
}

#[test]
fn themes_colour_the_same_cells_differently() {
    let mut store = Store::new(
        vec![info(0, Proto::Sse).url("https://example.test/prices")],
        1000,
    );
    sse_session(&mut store);
    let app = app_for(&store, 110, 30);
    let default = screen(&store, &app, &Theme::default(), 110, 30);
    let ansi = screen(
        &store,
        &app,
        &Theme::load("ansi16").expect("ansi16"),
        110,
        30,
    );
    let light = screen(&store, &app, &Theme::load("light").expect("light"), 110, 30);
    let plain = screen(&store, &app, &Theme::default().without_colors(), 110, 30);
    // Same text whatever the theme.
    assert_eq!(text_of(&default), text_of(&ansi));
    // The "SSE" in the title (x = 5) is sse-coloured.
    let cell = |t: &Terminal<TestBackend>, x: u16, y: u16| t.backend().buffer()[(x, y)].clone();
    assert_eq!(cell(&default, 5, 0).symbol(), "S");
    assert_eq!(cell(&default, 5, 0).fg, Color::Cyan);
    assert_eq!(cell(&ansi, 5, 0).fg, Color::Cyan);
    assert!(matches!(cell(&light, 5, 0).fg, Color::Rgb(..)));
    assert_eq!(cell(&plain, 5, 0).fg, Color::Reset);
    // The selected (newest) row: cyan background by default, reversed in ansi16.
    let last_row = (1..29)
        .rev()
        .find(|y| cell(&default, 1, *y).bg == Color::Cyan)
        .expect("a selected row");
    assert!(
        cell(&ansi, 1, last_row)
            .modifier
            .contains(ratatui::style::Modifier::REVERSED)
    );
    // No cell of the ansi16 screen uses a colour beyond the 16.
    for c in ansi.backend().buffer().content() {
        for col in [c.fg, c.bg] {
            assert!(
                !matches!(col, Color::Rgb(..) | Color::Indexed(_)),
                "{col:?}"
            );
        }
    }
}

#[test]
fn large_history_draws_only_the_window() {
    let mut store = Store::new(
        vec![info(0, Proto::Sse).url("https://example.test/prices")],
        200_000,
    );
    for i in 0..200_000i64 {
        store.apply(sse_event(i, "message", "x", 1.0));
    }
    let app = app_for(&store, 110, 30);
    let start = std::time::Instant::now();
    let _ = screen(&store, &app, &Theme::default(), 110, 30);
    // Generous even for a loaded debug build; drawing the whole history would take far longer.
    assert!(start.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn gaps_above_the_heartbeat_threshold_are_highlighted() {
    let mut store = Store::new(
        vec![info(0, Proto::Sse).url("https://example.test/prices")],
        1000,
    );
    sse_session(&mut store);
    let app = app_for(&store, 110, 30);
    let theme = Theme::default();
    let term = screen(&store, &app, &theme, 110, 30);
    let buf = term.backend().buffer();
    let row_text = |y: u16| (0..110).map(|x| buf[(x, y)].symbol()).collect::<String>();
    let long = (0..30)
        .find(|y| row_text(*y).contains("2.60 s ← event"))
        .expect("row with the long gap");
    let short = (0..30)
        .find(|y| row_text(*y).contains("250 ms ← event"))
        .expect("row with a short gap");
    // The gap column ends at x = 22 ("│" + 12 time + space + 8 gap).
    assert_eq!(buf[(21, long)].fg, theme.gap.fg.unwrap_or_default());
    assert_eq!(buf[(21, short)].fg, theme.muted.fg.unwrap_or_default());
}

#[test]
fn tiny_terminals_do_not_panic() {
    let mut store = two_stream_store();
    store.apply(sse_event(8800, "message", "x", 1.0));
    for (w, h) in [
        (1, 1),
        (2, 3),
        (10, 4),
        (20, 8),
        (40, 12),
        (119, 9),
        (121, 31),
    ] {
        for overlay in 0..3 {
            let mut app = app_for(&store, w, h);
            match overlay {
                1 => app.help = true,
                2 => {
                    app.handle(&Action::OpenDetail, &store);
                }
                _ => {}
            }
            let _ = screen(&store, &app, &Theme::default(), w, h);
        }
    }
}

#[test]
fn detail_of_open_shows_headers() {
    let mut store = Store::new(
        vec![info(0, Proto::Ws).url("wss://example.test/ticks")],
        100,
    );
    ws_session(&mut store, 0);
    let mut app = app_for(&store, 100, 24);
    app.handle(&Action::Top, &store);
    app.handle(&Action::OpenDetail, &store);
    insta::assert_snapshot!(screen(&store, &app, &Theme::default(), 100, 24).backend());
}

#[test]
fn json_detail_keeps_key_order_and_colours_tokens() {
    let theme = Theme::default();
    let text = r#"{"z":1,"a":[true,null,{}],"s":"x\"y","n":-1.5e3,"e":[]}"#;
    let lines = render::json_lines(text, &theme, 100);
    let plain: Vec<String> = lines
        .iter()
        .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
        .collect();
    assert_eq!(
        plain,
        vec![
            "{",
            "  \"z\": 1,",
            "  \"a\": [",
            "    true,",
            "    null,",
            "    {}",
            "  ],",
            "  \"s\": \"x\\\"y\",",
            "  \"n\": -1.5e3,",
            "  \"e\": []",
            "}",
        ]
    );
    let style_of = |needle: &str| {
        lines
            .iter()
            .flat_map(|l| l.spans.iter())
            .find(|s| s.content == needle)
            .map(|s| s.style)
    };
    assert_eq!(style_of("\"z\""), Some(theme.json_key));
    assert_eq!(style_of("\"x\\\"y\""), Some(theme.json_string));
    assert_eq!(style_of("-1.5e3"), Some(theme.json_number));
    assert_eq!(style_of("null"), Some(theme.json_literal));
    assert_eq!(render::json_lines(text, &theme, 3).len(), 3);
}

#[tokio::test(flavor = "current_thread")]
async fn run_loop_drains_records_forwards_controls_and_quits() {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    use tokio::sync::mpsc::unbounded_channel;

    let scripted = two_stream_store();
    let streams: Vec<_> = scripted.streams().iter().map(|s| s.info.clone()).collect();
    let (rec_tx, rec_rx) = unbounded_channel();
    let (ev_tx, ev_rx) = unbounded_channel::<std::io::Result<Event>>();
    let events = Box::pin(futures_util::stream::unfold(ev_rx, |mut rx| async move {
        rx.recv().await.map(|e| (e, rx))
    }));
    let (c0, mut r0) = unbounded_channel();
    let (c1, mut r1) = unbounded_channel();
    let controls = vec![c0, c1];
    // Replay the scripted session through the channel in two batches.
    let mut all: Vec<Record> = Vec::new();
    for s in scripted.streams() {
        all.extend(s.ring().iter().map(|e| e.rec.clone()));
    }
    let half = all.len() / 2;
    let second = all.split_off(half);
    rec_tx.send(all.into()).expect("send");
    rec_tx.send(second.into()).expect("send");

    let mut term = Terminal::new(TestBackend::new(160, 40)).expect("backend");
    let key = |c| Ok(Event::Key(KeyEvent::new(c, KeyModifiers::NONE)));
    let driver = async {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        ev_tx.send(key(KeyCode::Tab)).expect("tab");
        ev_tx.send(key(KeyCode::Char('p'))).expect("p");
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        ev_tx.send(key(KeyCode::Char('q'))).expect("q");
    };
    let config = super::DashboardConfig::new(streams);
    let (result, ()) = tokio::join!(
        super::event_loop(&mut term, events, config, rec_rx, &controls),
        driver
    );
    let (store, app) = result.expect("loop ends cleanly");
    assert_eq!(store.streams()[0].stats.records, 28);
    assert_eq!(store.streams()[1].stats.records, 17);
    assert_eq!(app.focus, 1);
    assert_eq!(
        r1.try_recv().ok(),
        Some(crate::capture::control::Control::Ping)
    );
    assert!(r0.try_recv().is_err());
    let screen = text_of(&term);
    assert!(screen.contains("ping sent"), "footer shows the ping");
    assert!(screen.contains("OPEN since 12:00:00.010 · 101"));
}

#[test]
fn comparison_strip_shows_match_figures() {
    let mut store = two_stream_store();
    store.set_match_key(Some("/seq".into()));
    let records_before = store.streams()[1].stats.records;
    for (i, (first, lead)) in [(Some(0), 1.5), (Some(0), 2.0), (Some(1), 0.5), (None, 0.0)]
        .into_iter()
        .enumerate()
    {
        store.apply(
            rec(
                T0 + 5_000_000 + i64::try_from(i).expect("small"),
                Kind::Match {
                    key: i.to_string(),
                    first,
                    lead_ms: lead,
                },
            )
            .on(1)
            .proto(Proto::Ws),
        );
    }
    // Pairs belong to the strip, not to a stream's list or counters.
    assert_eq!(store.streams()[1].stats.records, records_before);
    let app = app_for(&store, 160, 36);
    let term = screen(&store, &app, &Theme::default(), 160, 36);
    let text = text_of(&term);
    assert!(
        text.contains("match /seq: 4 pairs · first #0 50% #1 25% · lead p50 0.50 ms"),
        "{}",
        term.backend()
    );
    // Without a key the strip is unchanged (the snapshot above stays valid).
    let plain = two_stream_store();
    let term = screen(&plain, &app, &Theme::default(), 160, 36);
    let text = text_of(&term);
    assert!(!text.contains("match"));
}

#[test]
fn timeline_places_connection_events_on_the_session_span() {
    let mut store = Store::new(vec![info(0, Proto::Sse).url("https://example.test/x")], 100);
    store.apply(open(0, Proto::Sse, 0));
    store.apply(rec(
        T0 + 5_000_000,
        Kind::Gap {
            gap_ms: 2000.0,
            threshold_ms: 1500.0,
        },
    ));
    store.apply(rec(
        T0 + 10_000_000,
        Kind::Reconnect {
            attempt: 1,
            delay_ms: 3000,
            last_event_id: None,
            reason: "server closed the stream".into(),
            retry_ms: None,
        },
    ));
    let st = &store.streams()[0].stats;
    let line = render::timeline_line(st, 40, &Theme::default(), T0 + 10_000_000);
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    assert!(text.starts_with("timeline 10.00 s "), "{text}");
    let cells: Vec<char> = text
        .chars()
        .skip("timeline 10.00 s ".chars().count())
        .collect();
    assert_eq!(cells.len(), 40 - "timeline 10.00 s ".chars().count());
    assert_eq!(cells.first(), Some(&'▲'));
    assert_eq!(cells.last(), Some(&'↻'));
    assert_eq!(cells.iter().filter(|&&c| c == '┄').count(), 1);
    assert_eq!(
        cells[cells.len() / 2 - 1..=cells.len() / 2]
            .iter()
            .filter(|&&c| c == '┄')
            .count(),
        1
    );
}

#[tokio::test(flavor = "current_thread")]
async fn keys_are_handled_while_a_firehose_fills_the_channel() {
    use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
    use tokio::sync::mpsc::unbounded_channel;

    let streams = vec![info(0, Proto::Sse).url("http://127.0.0.1/firehose")];
    let (rec_tx, rec_rx) = unbounded_channel();
    let (ev_tx, ev_rx) = unbounded_channel::<std::io::Result<Event>>();
    let events = Box::pin(futures_util::stream::unfold(ev_rx, |mut rx| async move {
        rx.recv().await.map(|e| (e, rx))
    }));
    // A producer on its own thread that never lets the channel run dry until the loop ends.
    // Bounded like a live session, so the test measures starvation, not a growing queue.
    let template = sse_event(0, "message", "x", 0.0);
    let backlog = crate::record::batch::Backlog::new(4096);
    let producer = std::thread::spawn(move || {
        let mut sent = 0u64;
        loop {
            if backlog.is_full() {
                if rec_tx.is_closed() {
                    return sent;
                }
                std::thread::yield_now();
                continue;
            }
            let batch: Vec<Record> = (0..64).map(|_| template.clone()).collect();
            if rec_tx
                .send(crate::record::batch::RecordBatch::counted(batch, &backlog))
                .is_err()
            {
                return sent;
            }
            sent += 64;
        }
    });
    let mut term = Terminal::new(TestBackend::new(120, 30)).expect("backend");
    // Keys come from another thread, as crossterm's reader does: a future joined with the loop
    // would only run when the loop yields.
    let keys = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let q = Event::Key(KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE));
        ev_tx.send(Ok(q)).expect("q");
    });
    let (c0, _r0) = unbounded_channel();
    let controls = vec![c0];
    let config = super::DashboardConfig::new(streams);
    let run = super::event_loop(&mut term, events, config, rec_rx, &controls);
    // A liveness bound, not a speed claim: q is due within a frame or two; 1.5 s is far beyond.
    // (Measured, not a `timeout`: a loop that never yields would never let a timeout fire.)
    let started = std::time::Instant::now();
    let result = run.await;
    let took = started.elapsed();
    keys.join().expect("key thread");
    assert!(
        took < std::time::Duration::from_millis(1500),
        "q must be handled while records keep coming (took {took:?})"
    );
    let (store, _) = result.expect("loop ends cleanly");
    assert!(store.streams()[0].stats.records > 0);
    let sent = producer.join().expect("producer");
    assert!(sent >= store.streams()[0].stats.records);
}

/// An `open` over HTTP/2 on connection `conn`, with TLS facts.
fn h2_open(stream: usize, at_ms: i64, conn: u64) -> Record {
    let facts = crate::record::ConnFacts {
        http: "h2".into(),
        connection: Some(conn),
        shared: false,
        tls: Some(crate::record::TlsFacts {
            version: "TLSv1.3".into(),
            cipher: "TLS13_AES_128_GCM_SHA256".into(),
            alpn: Some("h2".into()),
            cert_subject: "CN=example.test".into(),
            cert_issuer: "CN=Example CA".into(),
            cert_names: "example.test".into(),
            cert_not_after_us: Some(at(86_400_000 * 40)),
            cert_days_left: Some(40),
        }),
    };
    let open = Kind::Open {
        status: 200,
        headers: vec![("content-type".into(), "text/event-stream".into())],
        handshake_ms: 30.0,
        conn: Some(Box::new(facts)),
        compression_offered: None,
        compression: None,
        request: Some(Box::new(crate::record::SentRequest {
            method: "GET".into(),
            headers: vec![
                (":method".into(), "GET".into()),
                (":path".into(), "/a".into()),
                ("authorization".into(), "Bearer ***".into()),
            ],
        })),
    };
    rec(at(at_ms), open).on(stream)
}

#[test]
fn a_shared_http2_connection_is_said_in_the_titles_and_the_strip() {
    let infos = vec![
        info(0, Proto::Sse).url("https://example.test/a"),
        info(1, Proto::Sse).url("https://example.test/b"),
    ];
    let mut store = Store::new(infos.clone(), 100);
    store.apply(h2_open(0, 0, 1));
    store.apply(h2_open(1, 5, 1));
    let app = app_for(&store, 160, 36);
    let text = text_of(&screen(&store, &app, &Theme::default(), 160, 36));
    assert_eq!(
        text.matches("SSE h2 #1 shared https://example.test/")
            .count(),
        2,
        "{text}"
    );
    assert_eq!(text.matches(" h2#1* ").count(), 2, "{text}");
    // One connection each: no `shared`.
    let mut store = Store::new(infos, 100);
    store.apply(h2_open(0, 0, 1));
    store.apply(h2_open(1, 5, 2));
    let text = text_of(&screen(&store, &app, &Theme::default(), 160, 36));
    assert!(text.contains("SSE h2 #1 https://example.test/a"), "{text}");
    assert!(text.contains("SSE h2 #2 https://example.test/b"), "{text}");
    assert!(!text.contains("shared"), "{text}");
    // The detail view of the open shows the TLS facts.
    let mut app = app_for(&store, 160, 36);
    app.handle(&Action::OpenDetail, &store);
    let text = text_of(&screen(&store, &app, &Theme::default(), 160, 36));
    for want in [
        "TLSv1.3 · TLS13_AES_128_GCM_SHA256",
        "CN=Example CA",
        "(40 days left)",
        "sent headers",
        ":path: /a",
        "authorization: Bearer ***",
        "#1",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
}

/// An OpenAI-style completion on stream `stream`: `tokens` words every 40 ms after a 300 ms
/// TTFT, one 1.5 s stall at the seventh, then `[DONE]`; `summary` adds the `llm_summary` the
/// connection task would send (from the same tracker, fed the same records).
fn llm_session(store: &mut Store, stream: usize, tokens: usize, model: &str, summary: bool) {
    use crate::capture::llm::LlmTracker;
    use crate::protocol::llm::Mode;
    let mut tracker = LlmTracker::new(
        Mode::Auto,
        "/v1/chat/completions",
        std::time::Duration::from_millis(1500),
    );
    let mut records = vec![open(stream, Proto::Sse, 0)];
    let words = "Streamscope shows the answer as it grows, with the time to first token and the gaps between tokens beside it, so a stall stands out at once.";
    let mut t = 300;
    for (i, word) in words.split(' ').cycle().take(tokens).enumerate() {
        let word = if i == 0 {
            word.to_owned()
        } else {
            format!(" {word}")
        };
        let data = serde_json::json!({
            "object": "chat.completion.chunk",
            "model": model,
            "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": null}],
        })
        .to_string();
        let len = data.len() as u64;
        records.push(event(at(t), &data).on(stream).traffic(len + 8, len, 40.0));
        t += if i == 6 { 1600 } else { 40 };
    }
    records.push(event(at(t), "[DONE]").on(stream).traffic(14, 6, 40.0));
    for r in &records {
        tracker.observe(r);
    }
    let end = tracker.finish(at(t + 1)).filter(|_| summary);
    for r in records {
        store.apply(r);
    }
    if let Some(s) = end {
        store.apply(rec(at(t + 1), Kind::LlmSummary(Box::new(s))).on(stream));
    }
}

#[test]
fn llm_view_shows_the_answer_beside_its_timing_at_100_columns() {
    let mut store = Store::new(
        vec![info(0, Proto::Sse).url("https://api.example.test/v1/chat/completions")],
        1000,
    );
    llm_session(&mut store, 0, 40, "gpt-4o-mini", true);
    let app = app_for(&store, 100, 30);
    let term = screen(&store, &app, &Theme::default(), 100, 30);
    let text = text_of(&term);
    // The request started 42.5 ms before the open (its handshake): TTFT counts from there.
    assert!(text.contains("ttft       342 ms"), "{}", term.backend());
    assert!(text.contains("✓ complete"), "{}", term.backend());
    insta::assert_snapshot!(term.backend());
}

#[test]
fn llm_raw_records_are_one_key_away_with_the_token_text_first() {
    let mut store = Store::new(
        vec![info(0, Proto::Sse).url("https://api.example.test/v1/chat/completions")],
        1000,
    );
    llm_session(&mut store, 0, 12, "gpt-4o-mini", false);
    let mut app = app_for(&store, 100, 30);
    assert!(app.llm_view(0, &store.streams()[0]));
    app.handle(&Action::ToggleLlm, &store);
    assert!(!app.llm_view(0, &store.streams()[0]));
    let term = screen(&store, &app, &Theme::default(), 100, 30);
    let text = text_of(&term);
    // The token leads the row, well inside 100 columns; the end marker says what it is.
    let row = text
        .split('│')
        .find(|cell| cell.contains("\" shows\""))
        .unwrap_or_else(|| panic!("no row of the second token:\n{}", term.backend()));
    let col = row.find("\" shows\"").map(|i| row[..i].chars().count());
    assert!(col.is_some_and(|c| c < 50), "{row}");
    assert!(text.contains("⏹ end marker"), "{}", term.backend());
    // Streaming: the stats block has the live figures.
    assert!(text.contains("ttft 342 ms"), "{}", term.backend());
    app.handle(&Action::ToggleLlm, &store);
    assert!(app.llm_view(0, &store.streams()[0]));
    // Moving through records shows them.
    app.handle(&Action::Move(-1), &store);
    assert!(!app.llm_view(0, &store.streams()[0]));
}

#[test]
fn two_llm_streams_compare_ttft_itl_and_tokens_per_second() {
    let mut store = Store::new(
        vec![
            info(0, Proto::Sse).url("https://a.example.test/v1/chat/completions"),
            info(1, Proto::Sse).url("https://b.example.test/v1/chat/completions"),
        ],
        1000,
    );
    llm_session(&mut store, 0, 30, "model-a", true);
    llm_session(&mut store, 1, 20, "model-b", true);
    let app = app_for(&store, 160, 40);
    insta::assert_snapshot!(screen(&store, &app, &Theme::default(), 160, 40).backend());
}

#[test]
fn the_dashboard_shows_the_figures_of_the_summary_record() {
    // Live figures and the final record come from the same tracker over the same records: once
    // the summary arrives, what the pane shows is the record, field for field.
    let mut store = Store::new(vec![info(0, Proto::Sse)], 1000);
    llm_session(&mut store, 0, 10, "m", false);
    let live = store.streams()[0].llm_figures(at(60_000)).expect("live");
    llm_session(&mut store, 0, 10, "m", true);
    let s = &store.streams()[0];
    let shown = s.llm_figures(at(60_000)).expect("final");
    assert_eq!(Some(&shown), s.llm_summary.as_ref());
    assert_eq!(
        (live.ttft_ms, live.itl_p50_ms, live.itl_max_ms, live.chunks),
        (
            shown.ttft_ms,
            shown.itl_p50_ms,
            shown.itl_max_ms,
            shown.chunks
        )
    );
    assert_eq!(live.text, shown.text);
}

/// A compressed WebSocket (permessage-deflate) beside a gzipped SSE stream, as `streamscope demo`
/// shows them: the negotiation in each pane's title, the ratio in the stats and the strip.
fn compressed_store() -> Store {
    let mut store = Store::new(
        vec![
            info(0, Proto::Ws).url("ws://127.0.0.1:8080/ws"),
            info(1, Proto::Sse).url("http://127.0.0.1:8080/sse"),
        ],
        1000,
    );
    let open_with = |stream, proto, offered: &str, agreed: &str| {
        let mut r = open(stream, proto, 0);
        if let Kind::Open {
            compression_offered,
            compression,
            ..
        } = &mut r.kind
        {
            *compression_offered = Some(offered.to_owned());
            *compression = Some(agreed.to_owned());
        }
        r
    };
    store.apply(open_with(
        0,
        Proto::Ws,
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_max_window_bits=12",
    ));
    store.apply(open_with(1, Proto::Sse, "gzip, deflate, br, zstd", "gzip"));
    for i in 0..12 {
        let data = format!("{{\"seq\":{i},\"symbol\":\"ACME\",\"price\":100.{i:02}}}");
        let len = data.len() as u64;
        let mut m = ws_msg(0, 100 + i * 250, Payload::Text(data.clone().into()), 250.0);
        m.wire_bytes = Some(14);
        m.compressed_bytes = Some(12);
        store.apply(m);
        let mut e = sse_event(110 + i * 250, "tick", &data, 250.0).on(1);
        e.compressed_bytes = Some(30);
        store.apply(e);
        assert!(len > 12);
    }
    store
}

#[test]
fn compression_in_titles_stats_and_comparison() {
    let store = compressed_store();
    let app = app_for(&store, 180, 36);
    insta::assert_snapshot!(screen(&store, &app, &Theme::default(), 180, 36).backend());
}

#[test]
fn detail_of_open_shows_what_was_offered_and_agreed() {
    let store = compressed_store();
    let mut app = app_for(&store, 100, 30);
    app.handle(&Action::Top, &store);
    app.handle(&Action::OpenDetail, &store);
    let text = text_of(&screen(&store, &app, &Theme::default(), 100, 30));
    assert!(
        text.contains("offered  permessage-deflate; client_max_window_bits"),
        "{text}"
    );
    assert!(
        text.contains("agreed  permessage-deflate; server_max_window_bits=12"),
        "{text}"
    );
}

/// Words the dashboard writes as labels; a word on screen that is a strict prefix of one, at the
/// end of a box's line or before a `…`, is a label cut mid-word.
fn labels() -> Vec<&'static str> {
    let mut out = vec![
        "records",
        "rec/s",
        "payload",
        "wire",
        "overhead",
        "compressed",
        "compression",
        "comment",
        "ping/pong",
        "reconnects",
        "handshake",
        "timeline",
        "match",
        "pairs",
        "first",
        "lead",
        "unpaired",
        "INSECURE",
        "FOLLOW",
        "PAUSED",
        "filter",
        "detail",
        "pause",
        "help",
        "quit",
        "pane",
        "move",
    ];
    out.extend(crate::record::kinds::KINDS.iter().map(|k| k.name));
    out
}

/// Fails on a label cut mid-word anywhere on `text` (one screen row per line).
fn assert_no_label_cut(text: &str) {
    let labels = labels();
    for line in text.lines() {
        // The pieces of a row between box-drawing characters: a pane, a title, a border label.
        for piece in line.split(|c: char| ('\u{2500}'..='\u{257f}').contains(&c)) {
            let piece = piece.trim_end();
            let Some(last) = piece.split_whitespace().last() else {
                continue;
            };
            let word = last.trim_end_matches('…');
            let cut = labels
                .iter()
                .any(|l| l.len() > word.len() && word.len() >= 2 && l.starts_with(word));
            assert!(
                !cut || labels.contains(&word),
                "label cut mid-word: {word:?} in {line:?}"
            );
        }
    }
}

/// Two streams with everything the stats and the strip can show: compression, kinds, pairs.
fn busy_two_stream_store() -> Store {
    let mut store = Store::new(
        vec![
            info(0, Proto::Sse).url("https://stream-backend.prod.example.com:8443/sse/ticks?n=1"),
            info(1, Proto::Ws).url("wss://stream-backend.prod.example.com:8443/ws/ticks"),
        ],
        1000,
    );
    store.set_match_key(Some("/seq".into()));
    sse_session(&mut store);
    ws_session(&mut store, 1);
    for (i, (first, lead)) in [(Some(0), 1.5), (Some(0), 2.0), (Some(1), 0.5)]
        .into_iter()
        .enumerate()
    {
        store.apply(
            rec(
                T0 + 5_000_000 + i64::try_from(i).expect("small"),
                Kind::Match {
                    key: i.to_string(),
                    first,
                    lead_ms: lead,
                },
            )
            .on(1)
            .proto(Proto::Ws),
        );
    }
    for (stream, proto) in [(0, Proto::Sse), (1, Proto::Ws)] {
        store.apply(
            rec(
                at(8900),
                Kind::Lint {
                    rule: "buffered-burst".into(),
                    message: "x".into(),
                },
            )
            .on(stream)
            .proto(proto),
        );
    }
    store
}

#[test]
fn nothing_is_cut_mid_word_at_100_120_and_160_columns() {
    let store = busy_two_stream_store();
    for (w, h) in [(100, 60), (120, 40), (160, 40)] {
        let app = app_for(&store, w, h);
        let term = screen(&store, &app, &Theme::default(), w, h);
        let rows: Vec<String> = term
            .backend()
            .buffer()
            .content()
            .chunks(usize::from(w))
            .map(|row| row.iter().map(ratatui::buffer::Cell::symbol).collect())
            .collect();
        let text = rows.join("\n");
        assert_no_label_cut(&text);
        // The pane titles keep the URL's port and path.
        assert!(text.contains(":8443/sse/ticks"), "{text}");
        assert!(text.contains(":8443/ws/ticks"), "{text}");
        assert!(
            text.contains("unpaired"),
            "the match line keeps its last figure:\n{text}"
        );
        insta::assert_snapshot!(format!("no_word_cut_{w}_columns"), term.backend());
    }
}

/// Every part of a pane title at once: a name, an LLM request, `--insecure`, a shared HTTP/2
/// connection, compression, a URL with a long path.
#[test]
fn a_full_title_keeps_every_part_by_priority_with_no_word_cut() {
    let mut infos = vec![
        info(0, Proto::Sse).url("https://api.example.com/v1/chat/completions"),
        info(1, Proto::Sse).url("https://api.example.com/v1/chat/completions"),
    ];
    for i in &mut infos {
        i.name = Some(format!("gpt{}", i.index));
        i.insecure = true;
        i.request = Some("POST gpt-4o \"hello there, how are you\"".into());
    }
    let mut store = Store::new(infos, 100);
    for stream in [0, 1] {
        let mut open = h2_open(stream, i64::try_from(stream).expect("small"), 1);
        if let Kind::Open { compression, .. } = &mut open.kind {
            *compression = Some("gzip".into());
        }
        store.apply(open);
    }
    for (w, h) in [(100, 40), (120, 40), (160, 40), (320, 40)] {
        let app = app_for(&store, w, h);
        let term = screen(&store, &app, &Theme::default(), w, h);
        let text = text_of(&term);
        assert_no_label_cut(&text);
        let title = text.lines().next().unwrap_or_default();
        // Stacked panes at 100 columns, side by side (60, 80 and 160 wide) above.
        let pane = if w == 100 { 100 } else { w / 2 };
        let mut want = vec!["#0 gpt0 SSE h2", "INSECURE", "OPEN"];
        if pane >= 80 {
            want.extend(["/v1/chat/completions", "gzip"]);
        }
        if pane >= 100 {
            want.extend(["h2 #1 shared", "POST gpt-4o"]);
        }
        if w == 320 {
            want.extend(["https://api.example.com/v1/chat/completions", "you\" https"]);
        }
        for want in want {
            assert!(title.contains(want), "{w} columns: {want}: {title}");
        }
        // The strip's labels, whole.
        assert_eq!(text.matches("#0 sse h2#1*").count(), 1, "{text}");
        assert_eq!(text.matches("#1 sse h2#1*").count(), 1, "{text}");
        if w <= 160 {
            insta::assert_snapshot!(format!("full_title_{w}_columns"), term.backend());
        }
    }
}

#[test]
fn the_label_check_catches_a_cut() {
    let result =
        std::panic::catch_unwind(|| assert_no_label_cut("│ 3 records  overhead 30.8%  op│"));
    assert!(result.is_err(), "`op` is `open` cut");
    let result = std::panic::catch_unwind(|| assert_no_label_cut("┌ gap max  rtt  handsh… ┐"));
    assert!(result.is_err(), "`handsh…` is `handshake` cut");
    assert_no_label_cut("│ 3 records  overhead 30.8%  open 1│");
}

#[test]
fn help_explains_the_figures_of_the_focused_pane() {
    let store = busy_two_stream_store();
    // Tall enough for the figures of the list, stats (with --decode's) and compare strip, then keys.
    let mut app = app_for(&store, 160, 64);
    app.handle(&Action::ToggleHelp, &store);
    let text = text_of(&screen(&store, &app, &Theme::default(), 160, 64));
    for name in [
        "pay",
        "overhead",
        "handshake",
        "last comment",
        "columns",
        "match",
    ] {
        assert!(text.contains(name), "{name} explained:\n{text}");
    }
    assert!(text.contains("payload bytes: the decoded data"), "{text}");
    // The keys follow the figures.
    assert!(text.contains("reconnect now"), "{text}");
    // A move scrolls the help rather than closing it; another key closes it.
    app.handle(&Action::Move(3), &store);
    assert!(app.help);
    assert_eq!(app.help_scroll, 3);
    app.handle(&Action::TogglePause, &store);
    assert!(!app.help);
}

#[test]
fn keepalive_age_is_named_and_stops_at_the_end() {
    let mut store = Store::new(
        vec![info(0, Proto::Sse).url("https://example.test/prices")],
        1000,
    );
    sse_session(&mut store);
    let app = app_for(&store, 110, 30);
    let live = text_of(&screen(&store, &app, &Theme::default(), 110, 30));
    assert!(live.contains("last comment 2.35 s ago"), "{live}");
    assert!(!live.contains("heartbeat"), "{live}");
    store.apply(rec(
        at(8645),
        Kind::End {
            reason: "server closed".into(),
            failed: false,
        },
    ));
    let ended = text_of(&screen(&store, &app, &Theme::default(), 110, 30));
    assert!(
        ended.contains("last comment 2.00 s before the end"),
        "{ended}"
    );
    // A WebSocket stream with no ping or pong says so.
    let mut ws = Store::new(vec![info(0, Proto::Ws).url("wss://example.test/ws")], 100);
    ws.apply(open(0, Proto::Ws, 0));
    let text = text_of(&screen(
        &ws,
        &app_for(&ws, 110, 30),
        &Theme::default(),
        110,
        30,
    ));
    assert!(text.contains("last ping/pong none"), "{text}");
}

#[test]
fn a_failed_streams_header_says_the_error_once_and_keeps_the_port() {
    let mut store = Store::new(vec![info(0, Proto::Ws).url("ws://127.0.0.1:41234/ws")], 100);
    let msg = "connect failed: 127.0.0.1:41234: Connection refused (os error 111)";
    store.apply(
        rec(
            at(10),
            Kind::Error {
                message: msg.into(),
                status: None,
                close_code: None,
            },
        )
        .proto(Proto::Ws),
    );
    store.apply(
        rec(
            at(11),
            Kind::End {
                reason: format!("{msg}; gave up after 2 retries"),
                failed: true,
            },
        )
        .proto(Proto::Ws),
    );
    for w in [100, 160] {
        let text = text_of(&screen(
            &store,
            &app_for(&store, w, 24),
            &Theme::default(),
            w,
            24,
        ));
        let title: String = text.chars().take(usize::from(w)).collect();
        assert!(title.contains("ws://127.0.0.1:41234/ws"), "{title}");
        assert!(title.contains("FAILED"), "{title}");
        assert_eq!(
            title.matches("connect failed").count(),
            1,
            "said once: {title}"
        );
    }
}

#[test]
fn sse_ids_lead_their_rows_and_binary_pings_are_hex() {
    let r = sse_event(10, "message", "{\"a\":1}", 1.0);
    assert_eq!(render::preview(&r), "[10] {\"a\":1}");
    let ping = rec(
        at(1),
        Kind::Ping {
            data: Payload::Text("\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}\u{0}]".into()),
        },
    );
    assert_eq!(
        render::preview(&ping).trim_end(),
        "<8 bytes> 00 00 00 00 00 00 00 5d"
    );
}

#[test]
fn after_r_the_status_says_what_came_of_it() {
    let mut store = Store::new(
        vec![info(0, Proto::Sse).url("https://example.test/sse")],
        100,
    );
    sse_session(&mut store);
    let mut app = app_for(&store, 110, 30);
    app.handle(&Action::Reconnect, &store);
    assert_eq!(app.status.as_deref(), Some("reconnecting"));
    app.sync_status(&store);
    assert_eq!(
        app.status.as_deref(),
        Some("reconnecting"),
        "nothing new yet"
    );
    store.apply(open(0, Proto::Sse, 9000));
    app.sync_status(&store);
    assert_eq!(app.status.as_deref(), Some("reconnected: open again"));
}

#[test]
fn a_paused_filter_counts_only_the_matches_below() {
    let mut store = Store::new(
        vec![info(0, Proto::Sse).url("https://example.test/sse")],
        1000,
    );
    sse_session(&mut store);
    let mut app = app_for(&store, 110, 24);
    app.handle(&Action::TogglePause, &store);
    // 30 matches, each after a record that does not match.
    for i in 0..30 {
        store.apply(sse_event(9000 + 2 * i, "message", "{\"other\":1}", 1.0));
        store.apply(sse_event(
            9001 + 2 * i,
            "message",
            "{\"late\":\"needle\"}",
            1.0,
        ));
    }
    app.handle(&Action::StartFilter, &store);
    for c in "needle".chars() {
        app.handle(&Action::InputChar(c), &store);
    }
    app.handle(&Action::InputSubmit, &store);
    let s = &store.streams()[0];
    let shown = app.window(0, s, app.page_rows).len() as u64;
    assert!(shown > 0 && shown < 30, "{shown}");
    assert_eq!(
        app.below(0, s, app.page_rows),
        30 - shown,
        "the matches below, not every record"
    );
    let text = text_of(&screen(&store, &app, &Theme::default(), 110, 24));
    assert!(
        text.contains(&format!("{} new below", 30 - shown)),
        "{text}"
    );
}
