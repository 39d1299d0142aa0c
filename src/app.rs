//! The top-level modes behind the subcommands: `serve`, `demo`, and the dashboard on given URLs.

use std::net::{Ipv4Addr, SocketAddr};

use crate::cli::{ConnArgs, DemoArgs, OutputArgs, ServeArgs};
use crate::run::{Plan, Running};
use crate::server::{Server, ServerConfig, endpoints};
use crate::tui::{DashboardConfig, Theme};

fn server_config(tick: std::time::Duration) -> ServerConfig {
    ServerConfig {
        tick,
        ..ServerConfig::default()
    }
}

/// `streamscope serve`: runs until Ctrl-C. Returns the exit code.
pub async fn serve(args: &ServeArgs) -> u8 {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let server = match Server::bind(addr, server_config(args.tick)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("streamscope: cannot listen on {addr}: {e}");
            return 1;
        }
    };
    let local = server.local_addr();
    let handle = server.spawn();
    println!("streamscope server on http://{local}/ (Ctrl-C to stop)");
    for (url, what) in endpoints(local) {
        println!("  {url:<48} {what}");
    }
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    0
}

/// `streamscope demo`: the embedded server on a free port, and the dashboard (or `--json`) on its
/// SSE and WebSocket feeds side by side.
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
    let urls = vec![format!("http://{local}/sse"), format!("ws://{local}/ws")];
    let conn = ConnArgs {
        heartbeat: Some(std::time::Duration::from_secs(2)),
        ping_interval: Some(std::time::Duration::from_secs(1)),
        connect_timeout: std::time::Duration::from_secs(5),
        max_backoff: std::time::Duration::from_secs(30),
        method: "GET".to_owned(),
        max_message: 64 << 20,
        ..ConnArgs::default()
    };
    let plan = match Plan::new(&urls, &conn) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("streamscope: {e}");
            return 1;
        }
    };
    let code = dashboard_or_json(&plan, &args.output).await;
    handle.shutdown().await;
    code
}

/// The dashboard on the plan's streams, or JSON lines when asked or when stdout is not a terminal.
pub async fn dashboard_or_json(plan: &Plan, output: &OutputArgs) -> u8 {
    use std::io::IsTerminal;
    if output.json || !std::io::stdout().is_terminal() {
        if !output.json {
            eprintln!("streamscope: stdout is not a terminal, writing JSON lines (--json)");
        }
        return crate::run::run_json(plan).await as u8;
    }
    dashboard(plan, output).await
}

/// The dashboard on the plan's streams. Returns the exit code.
pub async fn dashboard(plan: &Plan, output: &OutputArgs) -> u8 {
    if plan.streams.len() > 2 {
        eprintln!("streamscope: the dashboard shows one or two streams; use --json for more");
        return 2;
    }
    let theme = match Theme::resolve(Some(&output.theme)) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("streamscope: {}", e.to_string().replace('\n', " "));
            return 2;
        }
    };
    let (running, rx) = crate::run::spawn_streams(plan);
    let Running { done, controls } = running;
    let config = DashboardConfig {
        streams: plan.stream_infos(),
        fps: output.fps,
        history: output.history.max(1),
        theme,
    };
    // --duration ends the streams; the dashboard stays until the user quits.
    let timer = plan.duration.map(|d| {
        let controls = controls.clone();
        tokio::spawn(async move {
            tokio::time::sleep(d).await;
            crate::run::shutdown(&controls);
        })
    });
    let result = crate::tui::run(config, rx, controls.clone()).await;
    if let Some(t) = timer {
        t.abort();
    }
    crate::run::shutdown(&controls);
    let failed = tokio::time::timeout(std::time::Duration::from_secs(3), done)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(false);
    match result {
        Ok(()) => {
            let _ = failed;
            0
        }
        Err(e) => {
            eprintln!("streamscope: terminal error: {e}");
            1
        }
    }
}
