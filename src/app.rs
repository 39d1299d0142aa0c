//! The top-level modes behind the subcommands: `serve`, `demo`, `replay`, and the dashboard (or
//! JSON lines) on given URLs, with the ingest stage (`--match`, `--record`, `--har`) in between.

use clap::Parser as _;
use std::net::{Ipv4Addr, SocketAddr};

use tokio::sync::mpsc::UnboundedReceiver;

use crate::cli::{DemoArgs, OutputArgs, ReplayArgs, ServeArgs};
use crate::control::RecordBatch;
use crate::matcher::{KeySpec, Matcher};
use crate::pipeline::Ingest;
use crate::recording::{Header, Loaded};
use crate::replay::{ReplayClock, Speed};
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

/// `streamscope serve --replay FILE`: the recording's streams as endpoints, until Ctrl-C.
async fn serve_replay(addr: SocketAddr, file: &std::path::Path, speed: Speed) -> u8 {
    let loaded = match crate::replay::load(file) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("streamscope: {e}");
            return 2;
        }
    };
    let server = match crate::replay_server::ReplayServer::bind(addr, &loaded, speed).await {
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
    // The demo's options go through clap like a user's, so every default is the documented one.
    let conn = match crate::cli::Cli::try_parse_from([
        "streamscope",
        "--heartbeat",
        "2s",
        "--ping-interval",
        "1s",
        "--connect-timeout",
        "5s",
    ]) {
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
    output.match_key.get_or_insert_with(|| "/seq".to_owned());
    let code = dashboard_or_json(&plan, &output).await;
    handle.shutdown().await;
    code
}

/// Where a session's records come from.
#[derive(Debug)]
pub enum Source {
    /// Live connections.
    Live(Plan),
    /// A recording, `--json` capture or HAR file, replayed.
    Replay {
        /// The file's contents.
        loaded: Loaded,
        /// `--speed`.
        speed: Speed,
    },
}

impl Source {
    fn header(&self, match_key: Option<String>) -> Header {
        match self {
            Source::Live(plan) => Header::live(plan, match_key),
            Source::Replay { loaded, .. } => {
                let mut h = loaded.header.clone();
                h.match_key = match_key;
                h
            }
        }
    }

    fn duration(&self) -> Option<std::time::Duration> {
        match self {
            Source::Live(plan) => plan.duration,
            Source::Replay { .. } => None,
        }
    }

    /// Starts producing records; the replay's controls all lead to the one replay task.
    fn spawn(self) -> (Running, UnboundedReceiver<RecordBatch>, Option<ReplayClock>) {
        match self {
            Source::Live(plan) => {
                let (running, rx) = crate::run::spawn_streams(&plan);
                (running, rx, None)
            }
            Source::Replay { loaded, speed } => {
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
                let (ctl_tx, ctl_rx) = tokio::sync::mpsc::unbounded_channel();
                let clock = ReplayClock {
                    start: std::time::Instant::now(),
                    origin_us: loaded.records.first().map_or(0, |r| r.ts_us),
                    speed,
                };
                let controls = vec![ctl_tx; loaded.header.streams.len()];
                let done = crate::replay::spawn(loaded.records, speed, tx, ctl_rx);
                (Running { done, controls }, rx, Some(clock))
            }
        }
    }
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
            "streamscope: {} line(s) of {} could not be read; they are error records in the replay",
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

/// Any session: opens the sinks (`--record`, `--har`, `--match`), runs the source into the
/// dashboard or JSON lines, and waits for the sinks to be written. Returns the exit code.
pub async fn session(source: Source, output: &OutputArgs) -> u8 {
    use std::io::IsTerminal;
    let streams = match &source {
        Source::Live(plan) => plan.streams.len(),
        Source::Replay { loaded, .. } => loaded.header.streams.len(),
    };
    let spec = match output.match_key.as_deref() {
        None | Some("none") => None,
        Some(k) => match KeySpec::parse(k) {
            Ok(_) if streams != 2 => {
                eprintln!("streamscope: --match compares two streams; {streams} given");
                return 2;
            }
            Ok(spec) => Some(spec),
            Err(e) => {
                eprintln!("streamscope: {e}");
                return 2;
            }
        },
    };
    let header = source.header(spec.as_ref().map(|s| s.as_str().to_owned()));
    let ingest = match Ingest::open(
        &header,
        spec.map(Matcher::new),
        output.record.as_deref(),
        output.har.as_deref(),
    ) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("streamscope: {e}");
            return 2;
        }
    };
    let json = output.json || !std::io::stdout().is_terminal();
    if json && !output.json {
        eprintln!("streamscope: stdout is not a terminal, writing JSON lines (--json)");
    }
    if !json && streams > 2 {
        eprintln!("streamscope: the dashboard shows one or two streams; use --json for more");
        return 2;
    }
    let theme = if json {
        Theme::default()
    } else {
        match Theme::resolve(Some(&output.theme)) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("streamscope: {}", e.to_string().replace('\n', " "));
                return 2;
            }
        }
    };
    let duration = source.duration();
    let (running, rx, clock) = source.spawn();
    let (rx, stage) = crate::pipeline::spawn(ingest, rx);
    let code = if json {
        crate::run::run_json_on(running, rx, duration).await as u8
    } else {
        let config = DashboardConfig {
            streams: header.stream_infos(),
            fps: output.fps,
            history: output.history.max(1),
            theme,
            replay: clock,
            match_key: header.match_key.clone(),
        };
        dashboard(config, running, rx, duration).await
    };
    // The stage ends when every source has let go of the channel; a connection task that will not
    // end (the dashboard waits 3 s for them) must not keep streamscope from exiting.
    match tokio::time::timeout(
        std::time::Duration::from_secs(5),
        crate::pipeline::join(stage),
    )
    .await
    {
        Ok(Ok(())) => code,
        Ok(Err(e)) => {
            eprintln!("streamscope: {e}");
            1
        }
        Err(_) => {
            if output.record.is_some() || output.har.is_some() {
                eprintln!(
                    "streamscope: a stream did not end in time; the recording or HAR may be incomplete"
                );
                return 1;
            }
            code
        }
    }
}

/// The dashboard on running streams. Returns the exit code.
async fn dashboard(
    config: DashboardConfig,
    running: Running,
    rx: UnboundedReceiver<RecordBatch>,
    duration: Option<std::time::Duration>,
) -> u8 {
    let Running { done, controls } = running;
    // --duration ends the streams; the dashboard stays until the user quits.
    let timer = duration.map(|d| {
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
