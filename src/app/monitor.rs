//! `streamscope monitor`: streams watched headless until stopped (Ctrl-C, SIGTERM, `--duration`),
//! reconnecting by the same policy as everywhere else, with their figures served to Prometheus
//! (`--metrics ADDR`) and, optionally, JSON lines (`--json`) and a recording (`--record`).
//!
//! The records go the same way as in any session (connection tasks, the ingest stage for
//! `--record` and `--match`) and then through the metrics sink, which passes them on to the JSON
//! lines sink when there is one. The endpoint keeps answering after every stream has ended, so a
//! scraper sees a failed stream as failed rather than as a vanished target.

use std::net::SocketAddr;

use crate::app::cli::MonitorArgs;
use crate::app::config::{Config, Given, process_env, resolve};
use crate::capture::spawn::{Running, shutdown, spawn_streams};
use crate::ingest::matcher::{KeySpec, Matcher};
use crate::ingest::pipeline::Ingest;
use crate::ingest::recording::Header;

/// What the command line and the config came to.
struct Setup {
    plan: crate::app::plan::Plan,
    pairs: Vec<(usize, usize, KeySpec)>,
    session_match: Option<KeySpec>,
    metrics: Option<SocketAddr>,
}

/// `streamscope monitor`. Returns the exit code: 2 for usage errors, 1 when the metrics address
/// cannot be bound or a stream failed, else 0.
pub async fn monitor(args: &MonitorArgs, given: &Given) -> u8 {
    let setup = match setup(args, given) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("streamscope: {e}");
            return 2;
        }
    };
    let listener = match setup.metrics {
        Some(addr) => match tokio::net::TcpListener::bind(addr).await {
            Ok(l) => Some(l),
            Err(e) => {
                eprintln!("streamscope: cannot listen on {addr} for --metrics: {e}");
                return 1;
            }
        },
        None => None,
    };
    let header = Header::live(
        &setup.plan.streams,
        setup.session_match.as_ref().map(|s| s.as_str().to_owned()),
    );
    let ingest = match Ingest::open(
        &header,
        setup.session_match.map(Matcher::new),
        args.record.as_deref(),
        None,
    ) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("streamscope: {e}");
            return 2;
        }
    };
    let infos = setup.plan.stream_infos();
    let (metrics, registry) = crate::ingest::metrics::Metrics::new(&infos, &setup.pairs);
    let server = listener.map(|l| {
        let addr = l
            .local_addr()
            .map_or_else(|_| "?".to_owned(), |a| a.to_string());
        eprintln!(
            "streamscope monitor: {} streams; metrics on http://{addr}/metrics",
            infos.len()
        );
        tokio::spawn(crate::ingest::metrics::http::serve(l, registry))
    });
    // The metrics thread is the consumer here (JSON lines only beside it): bounded by records.
    let backlog = crate::record::batch::Backlog::for_output(setup.plan.max_queue, false);
    let (running, rx) = spawn_streams(&setup.plan.streams, &backlog, false);
    let (rx, stage) = crate::ingest::pipeline::spawn(ingest, rx);
    let (rx, sink) = crate::ingest::metrics::spawn(metrics, rx, args.json);
    let json = rx.map(|rx| crate::ingest::output::spawn_json_sink(rx, std::io::stdout()));
    let failed = run_until_stopped(running, setup.plan.duration).await;
    let mut code = u8::from(failed);
    match tokio::time::timeout(
        std::time::Duration::from_secs(5),
        crate::ingest::pipeline::join(stage),
    )
    .await
    {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            eprintln!("streamscope: {e}");
            code = 1;
        }
        Err(_) => {
            eprintln!("streamscope: a stream did not end in time; the recording may be incomplete");
            code = 1;
        }
    }
    let _ = tokio::task::spawn_blocking(move || {
        let _ = sink.join();
        json.map(std::thread::JoinHandle::join)
    })
    .await;
    if let Some(server) = server {
        server.abort();
    }
    code
}

fn setup(args: &MonitorArgs, given: &Given) -> Result<Setup, String> {
    let config = Config::find(args.config.file.as_deref(), &process_env)?;
    let mut targets = args.config.targets(&args.targets);
    if targets.is_empty()
        && let Some(c) = &config
    {
        targets = c
            .monitor_streams
            .clone()
            .unwrap_or_else(|| c.names().into_iter().map(str::to_owned).collect());
    }
    if targets.is_empty() {
        return Err(
            "monitor: no streams (give URLs or names, or a config file with [streams.NAME] tables)"
                .to_owned(),
        );
    }
    let mut conn = args.conn.clone();
    // A monitor keeps watching: WebSocket streams reconnect too, unless told otherwise.
    if !conn.no_reconnect {
        conn.reconnect = true;
    }
    let resolved = resolve(&targets, &conn, given, config.as_ref())?;
    let metrics = args.metrics.or(config.as_ref().and_then(|c| c.metrics));
    if metrics.is_none() && !args.json && args.record.is_none() {
        return Err(
            "monitor: nothing to report to: give --metrics ADDR (or [monitor] metrics in the config), --json or --record"
                .to_owned(),
        );
    }
    let session_match = args
        .match_key
        .as_deref()
        .filter(|k| *k != "none")
        .map(KeySpec::parse)
        .transpose()?;
    if session_match.is_some() && resolved.plan.streams.len() < 2 {
        return Err("--match pairs the first two streams; one given".to_owned());
    }
    let mut pairs = Vec::new();
    for (a, b, key) in &resolved.pairs {
        pairs.push((*a, *b, KeySpec::parse(key)?));
    }
    if let Some(spec) = &session_match
        && !pairs.iter().any(|(a, b, _)| (*a, *b) == (0, 1))
    {
        pairs.push((0, 1, spec.clone()));
    }
    Ok(Setup {
        plan: resolved.plan,
        pairs,
        session_match,
        metrics,
    })
}

/// Waits for Ctrl-C, SIGTERM or the end of `--duration` (not for the streams: the endpoint stays
/// up after they end), then stops the streams. Returns whether any failed.
async fn run_until_stopped(running: Running, duration: Option<std::time::Duration>) -> bool {
    let Running { mut done, controls } = running;
    let deadline = duration.map(|d| tokio::time::Instant::now() + d);
    let until_deadline = || async move {
        match deadline {
            Some(at) => tokio::time::sleep_until(at).await,
            None => std::future::pending().await,
        }
    };
    let mut finished = None;
    tokio::select! {
        () = until_deadline() => {}
        () = stop_signal() => {}
        r = &mut done => finished = Some(r),
    }
    if finished.is_some() {
        // Every stream has ended on its own; keep serving until told to stop.
        tokio::select! {
            () = until_deadline() => {}
            () = stop_signal() => {}
        }
    }
    shutdown(&controls);
    let result = match finished {
        Some(r) => r,
        None => tokio::time::timeout(std::time::Duration::from_secs(3), done)
            .await
            .unwrap_or(Ok(false)),
    };
    drop(controls);
    result.unwrap_or(true)
}

/// Ctrl-C, or SIGTERM where there is one (a service manager's stop).
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
