//! One session from sources to sinks: the live connections or a replay as the [`Source`], the
//! ingest stage (`--match`, `--record`, `--har`) in between, and the dashboard or JSON lines at
//! the end, with the exit code they lead to.

use std::time::Duration;

use tokio::sync::mpsc::UnboundedReceiver;

use crate::app::cli::OutputArgs;
use crate::app::plan::Plan;
use crate::capture::spawn::{Running, shutdown, spawn_streams};
use crate::ingest::matcher::{KeySpec, Matcher};
use crate::ingest::output::Notes;
use crate::ingest::pipeline::Ingest;
use crate::ingest::recording::{Header, Loaded};
use crate::record::batch::{Backlog, RecordBatch};
use crate::replay::{ReplayClock, Speed};
use crate::tui::{DashboardConfig, Theme};

/// Where a session's records come from.
#[derive(Debug)]
pub(crate) enum Source {
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
            Source::Live(plan) => Header::live(&plan.streams, match_key),
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

    /// Starts producing records; the replay's controls all lead to the one replay task. `json`:
    /// the consumer is the JSON writer (which bounds live streams' queue by bytes by default).
    fn spawn(self, json: bool) -> (Running, UnboundedReceiver<RecordBatch>, Option<ReplayClock>) {
        match self {
            Source::Live(plan) => {
                let backlog = Backlog::for_output(plan.max_queue, json);
                let (running, rx) = spawn_streams(&plan.streams, &backlog, json);
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

/// Any session: opens the sinks (`--record`, `--har`, `--match`), runs the source into the
/// dashboard or JSON lines, and waits for the sinks to be written. Returns the exit code.
pub(crate) async fn session(source: Source, output: &OutputArgs) -> u8 {
    use std::io::IsTerminal;
    let streams = match &source {
        Source::Live(plan) => plan.streams.len(),
        Source::Replay { loaded, .. } => loaded.header.streams.len(),
    };
    let spec = match match_spec(output.match_key.as_deref(), streams)
        .and_then(|spec| check_filter(output.filter.as_deref()).map(|()| spec))
    {
        Ok(spec) => spec,
        Err(e) => {
            eprintln!("streamscope: {e}");
            return 2;
        }
    };
    let json = output.json || !std::io::stdout().is_terminal();
    let header = source.header(spec.as_ref().map(|s| s.as_str().to_owned()));
    let mut ingest = match Ingest::open(
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
    // With JSON output the stage drops what does not pass (the output and --record); the dashboard
    // keeps every record and opens with the expression as its `/` filter.
    if json {
        ingest.filter.clone_from(&output.filter);
    }
    if json && !output.json && !output.quiet {
        eprintln!("streamscope: stdout is not a terminal, writing JSON lines (--json)");
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
    let llm = match &source {
        Source::Live(plan) => plan.streams.iter().map(|s| s.llm).collect(),
        Source::Replay { .. } => Vec::new(),
    };
    let notes = stderr_notes(&source, &header, output);
    let (running, rx, clock) = source.spawn(json);
    let (rx, stage) = crate::ingest::pipeline::spawn(ingest, rx);
    let code = if json {
        run_json_on(running, rx, duration, notes).await as u8
    } else {
        let config = DashboardConfig {
            streams: header.stream_infos(),
            fps: output.fps,
            history: output.history.max(1),
            theme,
            replay: clock,
            match_key: header.match_key.clone(),
            llm,
            filter: output.filter.clone(),
            recording: output.record.clone(),
        };
        dashboard(config, running, rx, duration).await
    };
    // The stage ends when every source has let go of the channel; a connection task that will not
    // end (the dashboard waits 3 s for them) must not keep streamscope from exiting.
    match tokio::time::timeout(
        std::time::Duration::from_secs(5),
        crate::ingest::pipeline::join(stage),
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

/// `--match`: the key to pair records by, which needs two streams; the error is one line.
fn match_spec(key: Option<&str>, streams: usize) -> Result<Option<KeySpec>, String> {
    match key {
        None | Some("none") => Ok(None),
        Some(k) => match KeySpec::parse(k) {
            // With more than two streams it pairs the first two (config pairs, the overview).
            Ok(_) if streams < 2 => Err(format!("--match compares two streams; {streams} given")),
            Ok(spec) => Ok(Some(spec)),
            Err(e) => Err(e),
        },
    }
}

/// `--filter`: an expression that compiles; the error is one line.
fn check_filter(expr: Option<&str>) -> Result<(), String> {
    expr.map_or(Ok(()), |e| crate::ingest::jq::JqFilter::new(e).map(|_| ()))
}

/// What `--json` says on stderr: live streams' failures, reconnects and give-ups, unless `-q` (a
/// replay's errors are the recording's, not news).
fn stderr_notes(source: &Source, header: &Header, output: &OutputArgs) -> Option<Notes> {
    let Source::Live(plan) = source else {
        return None;
    };
    if output.quiet {
        return None;
    }
    let urls: Vec<String> = header
        .stream_infos()
        .into_iter()
        .map(|i| i.display_url)
        .collect();
    // The way out of endless retries is worth saying only where they are endless.
    let hint = plan
        .streams
        .iter()
        .any(|s| s.reconnect && s.max_retries.is_none());
    Some(Notes::new(&urls, hint, Box::new(std::io::stderr())))
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
            shutdown(&controls);
        })
    });
    let result = crate::tui::run(config, rx, controls.clone()).await;
    if let Some(t) = timer {
        t.abort();
    }
    shutdown(&controls);
    // Give the streams a moment to close cleanly (WebSocket closing handshakes, the final `end`
    // records for --record). The exit code is --json's: 1 when a stream failed or gave up before
    // the user quit (shown FAILED on screen), so `streamscope URL && next` behaves the same in
    // both modes; a stream still reconnecting when the user quits was stopped, not failed.
    let failed = matches!(
        tokio::time::timeout(Duration::from_secs(3), done).await,
        Ok(Ok(true) | Err(_))
    );
    match result {
        Ok(()) => u8::from(failed),
        Err(e) => {
            eprintln!("streamscope: terminal error: {e}");
            1
        }
    }
}

/// Writes JSON lines for whatever source feeds `rx` (live streams, a replay) until it ends, Ctrl-C,
/// or `duration`, and `notes` on stderr; returns the exit code.
pub(crate) async fn run_json_on(
    running: Running,
    rx: UnboundedReceiver<RecordBatch>,
    duration: Option<Duration>,
    notes: Option<Notes>,
) -> i32 {
    let Running { mut done, controls } = running;
    let sink = crate::ingest::output::spawn_json_sink_with_notes(rx, std::io::stdout(), notes);
    let deadline = async {
        match duration {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let finished = tokio::select! {
        r = &mut done => Some(r),
        () = deadline => None,
        _ = tokio::signal::ctrl_c() => None,
    };
    let failed = if let Some(r) = finished {
        r.unwrap_or(true)
    } else {
        shutdown(&controls);
        done.await.unwrap_or(true)
    };
    drop(controls);
    let sink_result = tokio::task::spawn_blocking(move || sink.join())
        .await
        .ok()
        .and_then(Result::ok);
    match sink_result {
        Some(Err(e)) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("streamscope: writing output failed: {e}");
            1
        }
        _ => i32::from(failed),
    }
}
