//! `--decode` end to end against the embedded server's application-protocol endpoints
//! (`/socket.io/`, `/graphql`, `/msgpack`, `/cbor`): what `--json` says each message means, the
//! Engine.IO heartbeat answered, GraphQL sub-streams, binary payloads as JSON, and `--decode raw`;
//! what streamscope sends for a protocol compressed once permessage-deflate is agreed, and
//! WebSocket over HTTP/2 decoded as over HTTP/1.1.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use streamscope::server::{Server, ServerConfig, ServerTls};
use support::{RunOutput, TempDir, embedded_server, run};

const SERVER: ServerConfig = ServerConfig {
    tick: Duration::from_millis(20),
    heartbeat: Duration::from_secs(5),
};

fn decoded_in(out: &RunOutput) -> Vec<&Value> {
    out.kind_dir("message", "in")
        .into_iter()
        .map(|m| &m["decoded"])
        .collect()
}

#[tokio::test]
async fn socket_io_pings_are_answered_and_the_session_outlives_its_timeout() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    // pingInterval 100 ms, pingTimeout 50 ms: an unanswered session ends after 150 ms.
    let url = format!("ws://{a}/socket.io/?EIO=4&transport=websocket&ping_ms=100&timeout_ms=50");
    let out = run(&["--json", "--duration", "800ms", "--send", "40/chat,", &url]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Ended by --duration (`shutdown`), not by the server.
    let end = &out.kind("end")[0];
    assert_eq!(end["reason"], "shutdown", "{end}");
    assert!(
        out.kind("close").iter().all(|c| c["by"] == "client"),
        "{:?}",
        out.kind("close")
    );
    let decoded = decoded_in(&out);
    let pings = decoded.iter().filter(|d| d["type"] == "ping").count();
    let pongs = out
        .kind_dir("message", "out")
        .iter()
        .filter(|m| m["decoded"]["type"] == "pong" && m["data"] == "3")
        .count();
    assert!(
        pings >= 5 && pongs >= pings - 1,
        "{pings} pings, {pongs} pongs"
    );
    let ticks: Vec<_> = decoded.iter().filter(|d| d["event"] == "tick").collect();
    assert!(ticks.len() >= 10, "{}", ticks.len());
    assert!(ticks.iter().all(|t| t["substream"] == "/chat"));
    // Binary events and their attachment.
    let blob = decoded
        .iter()
        .position(|d| d["type"] == "binary_event")
        .expect("a binary event");
    assert_eq!(decoded[blob + 1]["type"], "attachment");
    assert_eq!(decoded[blob + 1]["event"], "blob");

    // Without pongs the server ends the session, and the end says why.
    let out = run(&["--json", "--no-auto-pong", "--duration", "3s", &url]).await;
    let reason = out.kind("end")[0]["reason"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(
        reason.contains("1 Engine.IO ping(s) went unanswered"),
        "{reason}"
    );
    assert!(reason.contains("pingTimeout (50 ms"), "{reason}");
}

#[tokio::test]
async fn graphql_subscriptions_are_sub_streams_and_44xx_codes_are_explained() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let url = format!("ws://{a}/graphql?count=4");
    // connection_ack + 3 x (4 next + complete).
    let out = run(&[
        "--json",
        "--count",
        "16",
        "--send",
        "subscription A { ticks }",
        "--send",
        "subscription B { ticks }",
        "--send",
        "subscription C { ticks }",
        &url,
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let decoded = decoded_in(&out);
    for id in ["1", "2", "3"] {
        let sub: Vec<_> = decoded.iter().filter(|d| d["substream"] == id).collect();
        let kinds: Vec<_> = sub
            .iter()
            .map(|d| d["type"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(
            kinds,
            ["next", "next", "next", "next", "complete"],
            "id {id}"
        );
        let values: Vec<_> = sub[..4]
            .iter()
            .map(|d| d["payload"]["data"]["ticks"].clone())
            .collect();
        assert_eq!(values, [json!(0), json!(1), json!(2), json!(3)]);
    }

    // A subscribe before the ack: the server's 4401, and what it means in GraphQL.
    let out = run(&[
        "--json",
        "--decode",
        "graphql-ws",
        "--subprotocol",
        "graphql-transport-ws",
        "--send",
        r#"{"id":"1","type":"subscribe","payload":{"query":"subscription { ticks }"}}"#,
        &url,
    ])
    .await;
    let reason = out.kind("end")[0]["reason"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(
        reason.contains("4401") && reason.contains("before connection_ack"),
        "{reason}"
    );
}

#[tokio::test]
async fn msgpack_and_cbor_messages_read_as_json_and_raw_decodes_nothing() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    for (path, protocol) in [("msgpack", "msgpack"), ("cbor", "cbor")] {
        let out = run(&["--json", &format!("ws://{a}/{path}?count=3")]).await;
        assert_eq!(out.code, 0, "{}", out.stderr);
        let decoded = decoded_in(&out);
        assert_eq!(decoded.len(), 3);
        for (i, d) in decoded.iter().enumerate() {
            assert_eq!(d["protocol"], protocol);
            assert_eq!(d["value"]["seq"], i, "{d}");
            assert_eq!(d["value"]["symbol"], "ACME");
            assert!(d["value"]["raw"]["$bytes"].is_string(), "{d}");
        }
    }
    let out = run(&[
        "--json",
        "--decode",
        "raw",
        &format!("ws://{a}/cbor?count=2"),
    ])
    .await;
    assert!(
        out.kind("message")
            .iter()
            .all(|m| m.get("decoded").is_none())
    );
    // A forced decoder reads what it is given, and says so when it cannot.
    let out = run(&[
        "--json",
        "--decode",
        "cbor",
        &format!("ws://{a}/msgpack?count=1"),
    ])
    .await;
    let d = &decoded_in(&out)[0];
    assert_eq!(
        (&d["protocol"], &d["type"]),
        (&json!("cbor"), &json!("invalid")),
        "{d}"
    );
}

#[tokio::test]
async fn a_bad_decode_value_is_a_usage_error() {
    let out = support::output(&["--json", "--decode", "soap", "ws://127.0.0.1:9/"]).await;
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown decoder 'soap'"), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn a_jq_filter_keeps_matching_records_in_json_the_recording_and_replay() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let dir = support::TempDir::new("jq-filter");
    let rec = dir.file("ticks.jsonl");
    let rec_arg = rec.to_string_lossy().into_owned();
    let url = format!("ws://{a}/socket.io/?EIO=4&transport=websocket&ping_ms=100&count=6");
    let out = run(&[
        "--json",
        "--filter",
        r#".decoded.event == "tick" and .decoded.args[0].n >= 2"#,
        "--record",
        &rec_arg,
        "--send",
        "40/chat,",
        &url,
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ns: Vec<_> = out
        .records
        .iter()
        .map(|r| r["decoded"]["args"][0]["n"].clone())
        .collect();
    assert_eq!(
        ns,
        [json!(2), json!(3), json!(4), json!(5)],
        "{:?}",
        out.kinds()
    );
    // The recording got the same records (after its header line).
    let text = std::fs::read_to_string(&rec).expect("recording");
    assert_eq!(text.lines().count(), 1 + 4, "{text}");
    // A replay filters too: the data as JSON, as jq's fromjson reads it.
    let replay = run(&[
        "replay",
        "--json",
        "--speed",
        "max",
        "--filter",
        ".data | .[8:] | fromjson | .[1].n == 4",
        &rec_arg,
    ])
    .await;
    assert_eq!(replay.code, 0, "{}", replay.stderr);
    assert_eq!(replay.records.len(), 1, "{:?}", replay.records);
    assert_eq!(replay.records[0]["decoded"]["args"][0]["n"], 4);
    // A bad expression is a usage error, in one line.
    let bad = support::output(&["--json", "--filter", ".a ==", &url]).await;
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.starts_with("streamscope: --filter '.a ==': "),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
}

#[tokio::test]
async fn protocol_answers_and_graphql_sends_are_compressed_once_deflate_is_agreed() {
    let srv = embedded_server(SERVER).await;
    let a = srv.local_addr();
    let sio = format!("ws://{a}/socket.io/?EIO=4&transport=websocket&ping_ms=100&timeout_ms=200");
    let gql = format!("ws://{a}/graphql?count=2");
    for deflate in [true, false] {
        let flag = if deflate { "--quiet" } else { "--no-deflate" };
        let out = run(&[
            "--json",
            flag,
            "--duration",
            "500ms",
            "--send",
            "40/chat,",
            &sio,
        ])
        .await;
        assert_eq!(out.code, 0, "{}", out.stderr);
        let agreed = out.kind("open")[0].get("compression").is_some();
        assert_eq!(agreed, deflate, "{}", out.kind("open")[0]);
        let pongs: Vec<_> = out
            .kind_dir("message", "out")
            .into_iter()
            .filter(|m| m["decoded"]["type"] == "pong" && m["data"] == "3")
            .collect();
        assert!(pongs.len() >= 2, "{} pongs", pongs.len());
        for p in &pongs {
            assert_eq!(p["compressed"], deflate, "{p}");
            assert_eq!(p["compressed_bytes"].is_u64(), deflate, "{p}");
        }
        // connection_ack + 2 next + complete.
        let out = run(&[
            "--json",
            flag,
            "--count",
            "4",
            "--send",
            "subscription { ticks }",
            &gql,
        ])
        .await;
        assert_eq!(out.code, 0, "{}", out.stderr);
        let sent: Vec<_> = out.kind_dir("message", "out");
        let types: Vec<_> = sent
            .iter()
            .map(|m| m["decoded"]["type"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(types, ["connection_init", "subscribe"], "{sent:?}");
        assert!(sent.iter().all(|m| m["compressed"] == deflate), "{sent:?}");
    }
}

#[tokio::test]
async fn websocket_over_http2_is_decoded_and_answered() {
    let dir = TempDir::new("decode-h2");
    let tls = ServerTls::generate().expect("certificate");
    let cert = dir.file("cert.pem");
    std::fs::write(&cert, &tls.cert_pem).expect("write the certificate");
    let any = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let handle = Server::bind(any, SERVER)
        .await
        .expect("bind")
        .with_tls(any, tls)
        .await
        .expect("bind TLS")
        .spawn();
    let addr = handle.tls_addr().expect("TLS listener");
    let cacert = cert.to_str().expect("UTF-8 path");
    let gql = format!("wss://{addr}/graphql?count=3");
    let out = run(&[
        "--json",
        "--http2",
        "--cacert",
        cacert,
        "--count",
        "5",
        "--send",
        "subscription { ticks }",
        &gql,
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let open = out.kind("open")[0];
    assert_eq!(open["http"], "h2", "{open}");
    // The subprotocol offered for the GraphQL document, and chosen, over the extended CONNECT.
    assert_eq!(
        open["headers"]["sec-websocket-protocol"], "graphql-transport-ws",
        "{open}"
    );
    let kinds: Vec<_> = decoded_in(&out)
        .iter()
        .map(|d| format!("{} {}", d["type"].as_str().unwrap_or("?"), d["substream"]))
        .collect();
    assert_eq!(
        kinds,
        [
            "connection_ack null",
            "next \"1\"",
            "next \"1\"",
            "next \"1\"",
            "complete \"1\""
        ]
    );
    // Engine.IO over HTTP/2: pings answered, compressed as agreed.
    let sio =
        format!("wss://{addr}/socket.io/?EIO=4&transport=websocket&ping_ms=100&timeout_ms=200");
    let out = run(&[
        "--json",
        "--http2",
        "--cacert",
        cacert,
        "--duration",
        "500ms",
        "--send",
        "40/chat,",
        &sio,
    ])
    .await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.kind("end")[0]["reason"], "shutdown");
    let pongs: Vec<_> = out
        .kind_dir("message", "out")
        .into_iter()
        .filter(|m| m["decoded"]["type"] == "pong")
        .collect();
    assert!(pongs.len() >= 2, "{} pongs", pongs.len());
    assert!(pongs.iter().all(|p| p["compressed"] == true), "{pongs:?}");
    handle.shutdown().await;
}
