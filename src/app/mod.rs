//! The application: the command line ([`cli`]), the streams it asks for ([`plan`]), one session
//! from sources to sinks ([`session`]), and here the modes behind the subcommands: `serve`, `demo`,
//! `replay`, and the dashboard (or JSON lines) on given URLs.

pub mod cli;
pub mod config;
pub mod monitor;
pub mod plan;
pub(crate) mod session;
pub mod shell;
pub mod watch;

use clap::Parser as _;
use std::net::{Ipv4Addr, SocketAddr};

use crate::app::cli::{DemoArgs, OutputArgs, ReplayArgs, ServeArgs};
use crate::app::plan::Plan;
use crate::app::session::{Source, session};
use crate::replay::Speed;
use crate::server::{Server, ServerConfig, endpoints};

fn server_config(tick: std::time::Duration) -> ServerConfig {
    ServerConfig {
        tick,
        ..ServerConfig::default()
    }
}

/// `streamscope serve`: runs until Ctrl-C. Returns the exit code.
pub async fn serve(args: &ServeArgs) -> u8 {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    if let Some(file) = &args.replay {
        return serve_replay(addr, file, args.speed).await;
    }
    let server = match Server::bind(addr, server_config(args.tick)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("streamscope: cannot listen on {addr}: {e}");
            return 1;
        }
    };
    let server = if args.tls {
        match with_tls(server, args).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("streamscope: {e}");
                return 1;
            }
        }
    } else {
        server
    };
    let local = server.local_addr();
    let handle = server.spawn();
    println!(
        "streamscope server on http://{local}/ (HTTP/1.1, and h2c with prior knowledge; Ctrl-C to stop)"
    );
    if let Some(tls) = handle.tls_addr() {
        println!("  and on https://{tls}/ (HTTP/2 or HTTP/1.1 by ALPN)");
    }
    for (url, what) in endpoints(local) {
        println!("  {url:<48} {what}");
    }
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    0
}

/// The TLS listener of `serve --tls`: the user's certificate, or one generated and written out.
async fn with_tls(server: Server, args: &ServeArgs) -> Result<Server, String> {
    let tls = if let (Some(cert), Some(key)) = (&args.cert, &args.key) {
        crate::server::ServerTls::from_files(cert, key)?
    } else {
        let tls = crate::server::ServerTls::generate()?;
        let path = args.cert_out.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("streamscope-serve-{}.pem", std::process::id()))
        });
        std::fs::write(&path, &tls.cert_pem)
            .map_err(|e| format!("cannot write the certificate to {}: {e}", path.display()))?;
        println!(
            "TLS certificate (for localhost and 127.0.0.1): {} (pass it with --cacert)",
            path.display()
        );
        tls
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.tls_port));
    server
        .with_tls(addr, tls)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))
}

/// `streamscope serve --replay FILE`: the recording's streams as endpoints, until Ctrl-C.
async fn serve_replay(addr: SocketAddr, file: &std::path::Path, speed: Speed) -> u8 {
    let loaded = match crate::replay::load(file) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("streamscope: {e}");
            return 2;
        }
    };
    let server = match crate::server::replay::ReplayServer::bind(addr, &loaded, speed).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("streamscope: cannot listen on {addr}: {e}");
            return 1;
        }
    };
    let local = server.local_addr().unwrap_or(addr);
    println!(
        "streamscope replaying {} on http://{local}/ (Ctrl-C to stop)",
        file.display()
    );
    for (url, what) in server.endpoints() {
        println!("  {url:<32} {what}");
    }
    let task = tokio::spawn(server.run());
    let _ = tokio::signal::ctrl_c().await;
    task.abort();
    0
}

/// `streamscope demo`: the embedded server on a free port, and the dashboard (or `--json`) on its
/// SSE and WebSocket feeds side by side, gzip SSE against permessage-deflate WebSocket.
pub async fn demo(args: &DemoArgs) -> u8 {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let server = match Server::bind(addr, server_config(args.tick)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("streamscope: cannot start the demo server: {e}");
            return 1;
        }
    };
    let local = server.local_addr();
    let handle = server.spawn();
    let (urls, args_used) = if args.llm {
        llm_demo(local)
    } else {
        (
            vec![format!("http://{local}/sse"), format!("ws://{local}/ws")],
            vec![
                "--heartbeat".to_owned(),
                "2s".to_owned(),
                "--ping-interval".to_owned(),
                "1s".to_owned(),
                // Compressed on both sides, as browsers see the two feeds: gzip SSE beside
                // permessage-deflate WebSocket (offered by default).
                "--compressed".to_owned(),
            ],
        )
    };
    // The demo's options go through clap like a user's, so every default is the documented one.
    let argv = ["streamscope", "--connect-timeout", "5s"]
        .into_iter()
        .map(str::to_owned)
        .chain(args_used);
    let conn = match crate::app::cli::Cli::try_parse_from(argv) {
        Ok(cli) => cli.conn,
        Err(e) => {
            eprintln!("streamscope: demo options: {e}");
            return 1;
        }
    };
    let plan = match Plan::new(&urls, &conn) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("streamscope: {e}");
            return 1;
        }
    };
    // Both feeds carry the same seqs, so the demo shows which protocol delivers first.
    let mut output = args.output.clone();
    if !args.llm {
        output.match_key.get_or_insert_with(|| "/seq".to_owned());
    }
    let code = dashboard_or_json(&plan, &output).await;
    handle.shutdown().await;
    code
}

/// The prompt both mock completions of `demo --llm` are sent.
const DEMO_PROMPT: &str = "Why does a token stream need its own inspector?";

/// `demo --llm`: two mock completions of the server at `local`, OpenAI and Anthropic, the same
/// prompt in each one's request body; the second is slower to start, faster after, and one stall
/// shows in the first. Returns the URLs and their options.
fn llm_demo(local: SocketAddr) -> (Vec<String>, Vec<String>) {
    let knobs = "tokens=160&jitter_ms=25";
    let urls = vec![
        format!(
            "http://{local}/llm/openai/v1/chat/completions?{knobs}&ttft_ms=350&delay_ms=45&stall_at=70&stall_ms=1800"
        ),
        format!(
            "http://{local}/llm/anthropic/v1/messages?{knobs}&ttft_ms=900&delay_ms=25&reasoning=12"
        ),
    ];
    let messages = serde_json::json!([{ "role": "user", "content": DEMO_PROMPT }]);
    let openai = serde_json::json!({
        "model": "mock-gpt", "stream": true, "stream_options": {"include_usage": true},
        "messages": messages,
    });
    let anthropic = serde_json::json!({
        "model": "mock-claude", "max_tokens": 1024, "stream": true, "messages": messages,
    });
    let args = [
        "-X",
        "POST",
        "--heartbeat",
        "1s",
        "-d",
        &openai.to_string(),
        "-d",
        &anthropic.to_string(),
    ]
    .map(str::to_owned)
    .to_vec();
    (urls, args)
}

/// `streamscope replay FILE`: exit code 2 when the file cannot be read at all.
pub async fn replay(args: &ReplayArgs) -> u8 {
    let loaded = match crate::replay::load(&args.file) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("streamscope: {e}");
            return 2;
        }
    };
    if loaded.bad_lines > 0 {
        eprintln!(
            "streamscope: {} line(s) or HAR entries of {} could not be read; they are error records in the replay",
            loaded.bad_lines,
            args.file.display()
        );
    }
    // A recording made with --match is matched again by the same key unless told otherwise.
    let mut output = args.output.clone();
    if output.match_key.is_none() {
        output.match_key.clone_from(&loaded.header.match_key);
    }
    session(
        Source::Replay {
            loaded,
            speed: args.speed,
        },
        &output,
    )
    .await
}

/// The dashboard on the plan's streams, or JSON lines when asked or when stdout is not a terminal.
pub async fn dashboard_or_json(plan: &Plan, output: &OutputArgs) -> u8 {
    session(Source::Live(plan.clone()), output).await
}
