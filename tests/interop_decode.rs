//! `--decode` against application-protocol servers streamscope did not write (see
//! `tests/interop/README.md`): python-socketio (Engine.IO v4 heartbeats answered, events by name,
//! binary attachments, the end of a session whose pings went unanswered) and the reference
//! graphql-transport-ws server (Node `graphql-ws`) with several subscriptions on one socket.

mod support;

use serde_json::Value;
use support::interop::Peer;
use support::{RunOutput, run};

fn decoded<'a>(r: &'a Value, key: &str) -> &'a Value {
    &r["decoded"][key]
}

fn decoded_messages<'a>(out: &'a RunOutput, dir: &str, kind: &str) -> Vec<&'a Value> {
    out.kind_dir("message", dir)
        .into_iter()
        .filter(|m| decoded(m, "type") == kind)
        .collect()
}

fn ts_us(r: &Value) -> i64 {
    let ts = r["ts"].as_str().expect("ts");
    let t = humantime::parse_rfc3339(ts).expect("RFC 3339");
    t.duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_micros() as i64
}

/// pingInterval 1 s, pingTimeout 0.5 s (python-engineio sends whole seconds of pingInterval): a
/// client that does not answer is dropped 1.5 s after connecting. streamscope answers every ping
/// and is still connected twice that long later.
#[tokio::test]
async fn python_socketio_session_outlives_its_ping_timeout_and_events_show_by_name() {
    let peer = Peer::python(
        "socketio_server.py",
        &[
            "--ping-interval",
            "1",
            "--ping-timeout",
            "0.5",
            "--period-ms",
            "100",
        ],
    )
    .await;
    let url = peer.url("ws", "/socket.io/?EIO=4&transport=websocket");
    let out = run(&["--json", "--duration", "3.5s", "--send", "40/feed,", &url]).await;
    peer.stop().await;
    assert_eq!(out.code, 0, "{}", out.stderr);

    let open = decoded_messages(&out, "in", "open");
    assert_eq!(open.len(), 1, "{:?}", out.kinds());
    assert_eq!(decoded(open[0], "protocol"), "socketio");
    assert_eq!(decoded(open[0], "ping_interval_ms"), 1000);
    assert_eq!(decoded(open[0], "ping_timeout_ms"), 500);

    // Every ping answered with a pong, each sent right after its ping; both are heartbeats.
    let pings = decoded_messages(&out, "in", "ping");
    let pongs = decoded_messages(&out, "out", "pong");
    assert!(pings.len() >= 3, "{} pings in 3.5 s", pings.len());
    assert!(
        pongs.len() + 1 >= pings.len(),
        "{} pings, {} pongs",
        pings.len(),
        pongs.len()
    );
    for (ping, pong) in pings.iter().zip(&pongs) {
        assert_eq!(decoded(ping, "heartbeat"), true);
        assert_eq!(pong["data"], "3");
        let lag = ts_us(pong) - ts_us(ping);
        assert!((0..200_000).contains(&lag), "pong {lag} µs after its ping");
    }

    // Still connected well past pingInterval + pingTimeout: no close from the server, no
    // reconnect, and ticks until the end.
    assert!(
        out.kind_dir("close", "in")
            .iter()
            .all(|c| c["by"] == "client"),
        "{:?}",
        out.kind("close")
    );
    assert!(out.kind("reconnect").is_empty());
    let ticks: Vec<_> = out
        .kind_dir("message", "in")
        .into_iter()
        .filter(|m| decoded(m, "event") == "tick")
        .collect();
    assert!(ticks.len() >= 15, "{} ticks", ticks.len());
    let span = ts_us(ticks[ticks.len() - 1]) - ts_us(open[0]);
    assert!(span > 3_000_000, "ticks for {span} µs only");
    for (i, t) in ticks.iter().enumerate() {
        assert_eq!(decoded(t, "type"), "event");
        assert_eq!(decoded(t, "substream"), "/feed");
        assert_eq!(decoded(t, "args")[0]["n"], i, "{t}");
    }
    let welcome = out
        .kind_dir("message", "in")
        .into_iter()
        .find(|m| decoded(m, "event") == "welcome");
    assert!(welcome.is_some(), "{:?}", out.kinds());
    let ask = out
        .kind_dir("message", "in")
        .into_iter()
        .find(|m| decoded(m, "event") == "ask")
        .expect("the server's event with an ack id");
    assert!(decoded(ask, "ack_id").is_u64(), "{ask}");

    // The binary event `blob` and its attachment, the binary frame after it.
    let messages = out.kind_dir("message", "in");
    let blob = messages
        .iter()
        .position(|m| decoded(m, "type") == "binary_event")
        .expect("a binary event");
    assert_eq!(decoded(messages[blob], "event"), "blob");
    assert_eq!(decoded(messages[blob], "attachments"), 1);
    let attachment = messages[blob + 1];
    assert_eq!(attachment["opcode"], "binary");
    assert_eq!(attachment["data_base64"], "AAECAwQFBgc=");
    assert_eq!(decoded(attachment, "type"), "attachment");
    assert_eq!(decoded(attachment, "event"), "blob");
}

/// The same server with `--no-auto-pong`: the server ends the session after pingInterval +
/// pingTimeout, and streamscope says why.
#[tokio::test]
async fn python_socketio_session_without_pongs_ends_and_says_why() {
    let peer = Peer::python(
        "socketio_server.py",
        &["--ping-interval", "1", "--ping-timeout", "0.3"],
    )
    .await;
    let url = peer.url("ws", "/socket.io/?EIO=4&transport=websocket");
    let out = run(&["--json", "--no-auto-pong", "--duration", "8s", &url]).await;
    peer.stop().await;
    assert!(decoded_messages(&out, "out", "pong").is_empty());
    assert!(!decoded_messages(&out, "in", "ping").is_empty());
    let end = out.kind("end");
    let end = end.last().expect("an end record");
    let reason = end["reason"].as_str().expect("reason");
    assert!(
        reason.contains("Engine.IO ping") && reason.contains("pingTimeout (300 ms"),
        "{reason}"
    );
    // Well before --duration: the server dropped it.
    let opened = ts_us(out.kind("open")[0]);
    assert!(ts_us(end) - opened < 5_000_000, "{end}");
    let lint = out.kind("lint");
    assert!(
        lint.iter().any(|l| l["rule"] == "engineio-ping-unanswered"),
        "{lint:?}"
    );
}

/// Three subscriptions on one graphql-transport-ws socket, started by `--send` documents: each
/// operation id is its own sub-stream, with its values in order and its own `complete`.
#[tokio::test]
async fn graphql_ws_reference_server_subscriptions_are_sub_streams() {
    let peer = Peer::node("graphql_ws_server.js", &[]).await;
    let url = peer.url("ws", "/graphql");
    // connection_ack + (5 + 3 + 4) next + 3 complete.
    let out = run(&[
        "--json",
        "--count",
        "16",
        "--send",
        "subscription A { counter(to: 5, intervalMs: 40) }",
        "--send",
        "subscription B { counter(to: 3, intervalMs: 70) }",
        "--send",
        "subscription C { counter(to: 4, intervalMs: 30) }",
        &url,
    ])
    .await;
    peer.stop().await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let open = out.kind("open");
    assert_eq!(
        open[0]["headers"]["sec-websocket-protocol"], "graphql-transport-ws",
        "the helper offers the subprotocol"
    );
    let sent: Vec<_> = out
        .kind_dir("message", "out")
        .iter()
        .map(|m| {
            (
                decoded(m, "type").as_str().unwrap_or("?").to_owned(),
                decoded(m, "substream").as_str().map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            ("connection_init".into(), None),
            ("subscribe".into(), Some("1".into())),
            ("subscribe".into(), Some("2".into())),
            ("subscribe".into(), Some("3".into())),
        ]
    );
    assert_eq!(decoded_messages(&out, "in", "connection_ack").len(), 1);
    for (id, n) in [("1", 5), ("2", 3), ("3", 4)] {
        let sub: Vec<_> = out
            .kind_dir("message", "in")
            .into_iter()
            .filter(|m| decoded(m, "substream") == id)
            .collect();
        let values: Vec<_> = sub
            .iter()
            .filter(|m| decoded(m, "type") == "next")
            .map(|m| decoded(m, "payload")["data"]["counter"].clone())
            .collect();
        assert_eq!(
            values,
            (0..n).map(Value::from).collect::<Vec<_>>(),
            "id {id}"
        );
        assert_eq!(decoded(sub[sub.len() - 1], "type"), "complete", "id {id}");
        assert!(
            sub.iter()
                .all(|m| decoded(m, "protocol") == "graphql-transport-ws")
        );
    }
    // The subscriptions interleave on the socket.
    let order: Vec<_> = decoded_messages(&out, "in", "next")
        .iter()
        .map(|m| decoded(m, "substream").as_str().unwrap_or("?").to_owned())
        .collect();
    assert!(
        order.windows(2).any(|w| w[0] != w[1]) && order[..4].iter().any(|s| s != "1"),
        "{order:?}"
    );
}

/// The legacy `graphql-ws` subprotocol (subscriptions-transport-ws) against strawberry-graphql:
/// `start`/`data`/`complete` per operation id, and its keep-alive `ka`, which is a heartbeat that
/// `--count` does not count.
#[tokio::test]
async fn strawberry_legacy_graphql_ws_with_keep_alives() {
    let peer = Peer::python(
        "graphql_ws_server.py",
        &["--keep-alive", "0.1", "--only", "graphql-ws"],
    )
    .await;
    let url = peer.url("ws", "/graphql");
    // connection_ack + 3 + 2 data + 2 complete; the `ka`s come on top, uncounted.
    let out = run(&[
        "--json",
        "--count",
        "8",
        "--subprotocol",
        "graphql-ws",
        "--send",
        "subscription A { counter(to: 3, intervalMs: 150) }",
        "--send",
        "subscription B { counter(to: 2, intervalMs: 200) }",
        &url,
    ])
    .await;
    peer.stop().await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let sent: Vec<_> = out
        .kind_dir("message", "out")
        .iter()
        .map(|m| decoded(m, "type").as_str().unwrap_or("?").to_owned())
        .collect();
    assert_eq!(sent, ["connection_init", "start", "start"]);
    let ka = decoded_messages(&out, "in", "ka");
    assert!(!ka.is_empty(), "{:?}", out.kinds());
    assert!(ka.iter().all(|k| decoded(k, "heartbeat") == true));
    for (id, n) in [("1", 3), ("2", 2)] {
        let values: Vec<_> = out
            .kind_dir("message", "in")
            .into_iter()
            .filter(|m| decoded(m, "substream") == id && decoded(m, "type") == "data")
            .map(|m| decoded(m, "payload")["data"]["counter"].clone())
            .collect();
        assert_eq!(
            values,
            (0..n).map(Value::from).collect::<Vec<_>>(),
            "id {id}"
        );
    }
    assert!(
        out.kind_dir("message", "in")
            .iter()
            .all(|m| decoded(m, "protocol") == "graphql-ws"),
        "{:?}",
        out.kind_dir("message", "in")
    );
    assert_eq!(decoded_messages(&out, "in", "complete").len(), 2);
}
