//! Runs the dashboard on generated records (one SSE and one WebSocket stream, no network), for
//! trying keys and themes by hand: `cargo run --example dashboard_demo [THEME]`.

use std::time::{Duration, SystemTime};

use streamscope::record::time::unix_micros;
use streamscope::record::{DataOpcode, Dir, Kind, Payload, Proto, Record};
use streamscope::tui::{DashboardConfig, Theme, run};
use streamscope::{capture::control::Control, record::StreamInfo};

// By hand, as a user of the library would: the unit tests' builders (src/testkit.rs) are not
// part of its API.
fn stream(index: usize, proto: Proto, url: &str) -> StreamInfo {
    StreamInfo {
        index,
        name: None,
        proto,
        display_url: url.into(),
        heartbeat_ms: Some(1000),
        insecure: false,
        request: None,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let theme_name = std::env::args().nth(1);
    let theme = Theme::resolve(theme_name.as_deref()).map_err(std::io::Error::other)?;
    let streams = vec![
        stream(0, Proto::Sse, "https://demo.invalid/events"),
        stream(1, Proto::Ws, "wss://demo.invalid/socket"),
    ];
    let (rec_tx, rec_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut controls = Vec::new();
    for _ in &streams {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Control>();
        controls.push(tx);
        // The demo has no connection; controls are accepted and dropped.
        tokio::spawn(async move { while rx.recv().await.is_some() {} });
    }
    tokio::spawn(async move {
        let now = || unix_micros(SystemTime::now());
        for (i, proto) in [Proto::Sse, Proto::Ws].into_iter().enumerate() {
            let open = Kind::open(
                if proto == Proto::Ws { 101 } else { 200 },
                vec![("server".into(), "demo".into())],
                12.0 + i as f64,
            );
            let _ = rec_tx.send(vec![Record::new(now(), i, proto, open)].into());
        }
        let mut n = 0u64;
        loop {
            tokio::time::sleep(Duration::from_millis(if n % 40 == 39 { 1700 } else { 120 })).await;
            n += 1;
            let data = format!(
                "{{\"n\":{n},\"price\":{}.5,\"tags\":[\"a\",\"b\"],\"ok\":true}}",
                100 + n % 17
            );
            let kind = if n.is_multiple_of(2) {
                Kind::Event {
                    event: "tick".into(),
                    data: data.clone().into(),
                    id: Some(n.to_string().into()),
                    retry: None,
                }
            } else {
                Kind::Message {
                    opcode: if n.is_multiple_of(7) {
                        DataOpcode::Binary
                    } else {
                        DataOpcode::Text
                    },
                    data: if n.is_multiple_of(7) {
                        Payload::Binary(data.clone().into_bytes().into())
                    } else {
                        Payload::Text(data.clone().into())
                    },
                    frames: 1,
                    compressed: false,
                    decoded: None,
                }
            };
            let (stream, proto) = if n.is_multiple_of(2) {
                (0, Proto::Sse)
            } else {
                (1, Proto::Ws)
            };
            let mut r = Record::new(now(), stream, proto, kind);
            r.dir = Some(Dir::In);
            r.payload_bytes = Some(data.len() as u64);
            r.wire_bytes = Some(data.len() as u64 + 12);
            r.gap_ms = Some(240.0);
            if rec_tx.send(vec![r].into()).is_err() {
                break;
            }
        }
    });
    let mut config = DashboardConfig::new(streams);
    config.theme = theme;
    run(config, rec_rx, controls).await
}
