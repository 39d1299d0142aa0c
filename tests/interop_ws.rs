//! streamscope's WebSocket client against WebSocket servers it did not write (see
//! `tests/interop/README.md`): the messages, their order and sizes, and the closing handshake.

mod support;

use support::interop::Peer;
use support::run;

#[tokio::test]
async fn python_websockets_feed_arrives_whole_and_closes_cleanly() {
    let peer = Peer::python("ws_deflate_server.py", &["--count", "20"]).await;
    let url = peer.url("ws", "/feed");
    let out = run(&["--json", &url]).await;
    assert_eq!(out.code, 0, "{}", out.stderr);
    let messages = out.kind("message");
    assert_eq!(messages.len(), 20, "{:?}", out.kinds());
    for (i, m) in messages.iter().enumerate() {
        let data = m["data"].as_str().expect("text message");
        let json: serde_json::Value = serde_json::from_str(data).expect("JSON text");
        assert_eq!(json["seq"], i, "{data}");
        // Every fifth message is the > 1 KiB one.
        let big = i % 5 == 4;
        assert_eq!(json["type"], if big { "big" } else { "tick" }, "{data}");
        assert_eq!(m["payload_bytes"], data.len(), "{m}");
        assert_eq!(m["frames"], 1, "{m}");
    }
    let close = out.kind("close");
    assert!(
        close
            .iter()
            .any(|c| c["dir"] == "in" && c["code"] == 1000 && c["reason"] == "done"),
        "{close:?}"
    );
    peer.stop().await;
}
