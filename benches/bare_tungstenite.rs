//! The library counting client: tokio + tokio-tungstenite, counting WebSocket data messages.
//!
//! `bare_tungstenite ws://127.0.0.1:PORT/PATH` connects, lets tokio-tungstenite do the handshake
//! and frame decoding (assembling fragments, checking UTF-8 of text messages, answering pings), and
//! counts data messages until the server's close frame. It prints `COUNT BYTES` (messages, payload
//! bytes) and exits.
//!
//! With `--echo` it sends every text or binary message back unchanged instead, and reads on until
//! the connection ends (so tokio-tungstenite completes the closing handshake): the same-machine
//! baseline for the Autobahn|Testsuite client cases (`TUNGSTENITE=1 benches/autobahn.sh`).
//!
//! This is what "a bare client" means to most Rust users: the well-kept WebSocket stack with nothing
//! done per message but a counter. `bare_client.rs` is the lower floor (no decoding at all);
//! `benches/e2e.sh` runs both so streamscope's cost per message can be read against each. It is a
//! `[[bench]]` target with `harness = false` so that `cargo test` never builds it; e2e.sh builds it
//! with `cargo bench --no-run`. Loopback only.

use std::process::ExitCode;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; skip flags.
    let Some(url) = std::env::args().skip(1).find(|a| !a.starts_with("--")) else {
        eprintln!("usage: bare_tungstenite ws://127.0.0.1:PORT/PATH");
        return ExitCode::from(2);
    };
    // One thread, like one streamscope connection task; streamscope's own output thread is extra.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bare_tungstenite: runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let echo = std::env::args().any(|a| a == "--echo");
    match rt.block_on(run(&url, echo)) {
        Ok((count, bytes)) => {
            println!("{count} {bytes}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bare_tungstenite: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(url: &str, echo: bool) -> Result<(u64, u64), String> {
    let rest = url.strip_prefix("ws://").ok_or("only ws:// URLs")?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    if host != "127.0.0.1" && host != "localhost" {
        return Err("loopback only (127.0.0.1 or localhost)".into());
    }
    let sock = TcpStream::connect(authority)
        .await
        .map_err(|e| format!("connect {authority}: {e}"))?;
    sock.set_nodelay(true).map_err(|e| e.to_string())?;
    // Messages up to 64 MiB, as streamscope allows by default.
    let config = WebSocketConfig::default().max_message_size(Some(64 << 20));
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, sock, Some(config))
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let (mut count, mut bytes) = (0u64, 0u64);
    while let Some(msg) = ws.next().await {
        let msg = msg.map_err(|e| e.to_string())?;
        match &msg {
            Message::Text(t) => {
                count += 1;
                bytes += t.len() as u64;
            }
            Message::Binary(b) => {
                count += 1;
                bytes += b.len() as u64;
            }
            Message::Close(_) if !echo => break,
            Message::Close(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
        if echo && (msg.is_text() || msg.is_binary()) {
            ws.send(msg).await.map_err(|e| format!("echo: {e}"))?;
        }
    }
    Ok((count, bytes))
}
