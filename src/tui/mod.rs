//! The dashboard: one async loop that owns the [`Store`] and the [`App`] view state, fed by the
//! terminal's events and the records channel, drawing at a capped frame rate.
//!
//! Input, records and the frame tick meet in one `tokio::select!`; nothing is shared, nothing is
//! locked. Records are drained into the store as they come (cheap, O(1) each) but the screen is only
//! redrawn after something changed, at most once per frame period, so a firehose costs one frame
//! per period; an idle dashboard wakes once per second (for the clocks) and draws one frame.

pub(crate) mod glossary;
pub(crate) mod keymap;
pub(crate) mod llm_view;
pub mod overview;
pub mod overview_table;
pub mod render;
pub(crate) mod text;
pub(crate) mod theme;
pub(crate) mod view;

#[cfg(test)]
mod tests;

use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use crate::capture::control::Control;
use crate::capture::spawn::shutdown;
use crate::record::StreamInfo;
use crate::record::batch::RecordBatch;
use crate::record::time::unix_micros;
use crate::store::Store;

pub use keymap::Action;
pub use theme::{Theme, ThemeError};
pub use view::{App, Effect};

/// What the dashboard needs from the command line.
#[derive(Debug, Clone)]
pub struct DashboardConfig {
    /// The streams, in command-line order (position = index into `controls`).
    pub streams: Vec<StreamInfo>,
    /// Frame rate cap; 30 is a good default.
    pub fps: u32,
    /// Records kept per stream for scrolling back.
    pub history: usize,
    /// Colours.
    pub theme: Theme,
    /// Set for a replay: "now" is data time at the replay's pace, not the wall clock.
    pub replay: Option<crate::replay::ReplayClock>,
    /// The `--match` key, shown with the pairing figures in the comparison strip.
    pub match_key: Option<String>,
    /// `--llm` per stream (streams not listed: `auto`).
    pub llm: Vec<crate::protocol::llm::Mode>,
    /// `--filter`: the dashboard opens with it as its `/` filter.
    pub filter: Option<String>,
    /// The `--record` file being written, shown with its size in the footer.
    pub recording: Option<std::path::PathBuf>,
}

impl DashboardConfig {
    /// Defaults for everything but the streams: 30 fps, 10 000 records, the default theme.
    pub fn new(streams: Vec<StreamInfo>) -> Self {
        DashboardConfig {
            streams,
            fps: 30,
            history: 10_000,
            theme: Theme::default(),
            replay: None,
            match_key: None,
            llm: Vec::new(),
            filter: None,
            recording: None,
        }
    }
}

/// Draws one frame: the overview of all streams, or the panes.
pub fn draw(frame: &mut ratatui::Frame<'_>, store: &Store, app: &App, theme: &Theme, now_us: i64) {
    if app.overview_open {
        overview_table::draw(frame, store, app, theme, now_us);
    } else {
        render::draw(frame, store, app, theme, now_us);
    }
}

/// The `--record` file and its size now, for the footer (read once a second: it grows as records
/// are written).
fn recording_size(path: Option<&std::path::Path>) -> Option<(String, u64)> {
    path.map(|p| {
        let size = std::fs::metadata(p).map_or(0, |m| m.len());
        (p.display().to_string(), size)
    })
}

/// Runs the dashboard until the user quits; then asks every stream to shut down and restores the
/// terminal (also on errors; `ratatui::init` installs a panic hook for panics).
///
/// `controls[i]` must belong to `config.streams[i]`.
pub async fn run(
    config: DashboardConfig,
    records: UnboundedReceiver<RecordBatch>,
    controls: Vec<UnboundedSender<Control>>,
) -> std::io::Result<()> {
    // `try_init` rather than `init`: no terminal (stdout not a TTY) is an error to report, not a
    // panic. Both install the panic hook that restores the terminal.
    let mut terminal = match ratatui::try_init() {
        Ok(t) => t,
        Err(e) => {
            // Setup may have half-succeeded (raw mode on, no alternate screen): undo what it did,
            // and do not leave the connection tasks running for a dashboard that never came up.
            ratatui::restore();
            shutdown(&controls);
            return Err(e);
        }
    };
    // Mouse capture is what makes the wheel scroll the list rather than the terminal's scrollback.
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::EnableMouseCapture);
    let events = crossterm::event::EventStream::new();
    let result = event_loop(&mut terminal, events, config, records, &controls)
        .await
        .map(drop);
    let _ = crossterm::execute!(std::io::stdout(), crossterm::event::DisableMouseCapture);
    ratatui::restore();
    shutdown(&controls);
    result
}

/// The store and the view the loop starts from: the streams with `--match` and `--llm`, the view
/// opened on `--filter`, and a replay said to be one.
fn initial_state(config: &mut DashboardConfig) -> (Store, App) {
    let mut store = Store::new(std::mem::take(&mut config.streams), config.history);
    store.set_match_key(config.match_key.take());
    store.set_llm_modes(&config.llm);
    let mut app = App::new(store.streams().len());
    if let Some(f) = &config.filter {
        app.set_filter(f);
    }
    if let Some(clock) = &config.replay {
        // Say it is not live (the status line is replaced by the next action's message).
        app.status = Some(format!("REPLAY at speed {}", clock.speed));
    }
    (store, app)
}

/// The loop itself, generic over the backend and the event source so tests can drive it with a
/// `TestBackend` and scripted events. Returns the final state for inspection.
async fn event_loop<B, E>(
    terminal: &mut ratatui::Terminal<B>,
    mut events: E,
    mut config: DashboardConfig,
    mut records: UnboundedReceiver<RecordBatch>,
    controls: &[UnboundedSender<Control>],
) -> std::io::Result<(Store, App)>
where
    B: ratatui::backend::Backend,
    B::Error: Send + Sync + 'static,
    E: futures_util::Stream<Item = std::io::Result<crossterm::event::Event>> + Unpin,
{
    let (mut store, mut app) = initial_state(&mut config);
    let replay = config.replay;
    let recording = config.recording;
    let theme = config.theme;
    let period = Duration::from_secs(1) / config.fps.clamp(1, 240);
    // Frames are at least a period apart. Idle, the loop sleeps until the wall clock's next
    // second (when the clocks on screen move) instead of waking at the frame rate for nothing.
    let mut next_frame = tokio::time::Instant::now();
    let mut dirty = true;
    let mut last_second = i64::MIN;
    let mut records_open = true;

    loop {
        let wake = if dirty || replay.is_some() {
            // A replay's clock runs at its own speed: keep the frame rate.
            next_frame
        } else {
            let now_us = unix_micros(std::time::SystemTime::now());
            let to_next_second = 1_000_000 - now_us.rem_euclid(1_000_000);
            next_frame.max(
                tokio::time::Instant::now() + Duration::from_micros(to_next_second.unsigned_abs()),
            )
        };
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {
                next_frame = tokio::time::Instant::now() + period;
                let now_us = match &replay {
                    Some(clock) => clock.now_us(store.latest_ts_us(), !records_open),
                    None => unix_micros(std::time::SystemTime::now()),
                };
                // Clocks ("heartbeat 3 s ago", reconnect countdown) move once a second when idle.
                let second = now_us.div_euclid(1_000_000);
                if dirty || second != last_second {
                    if second != last_second {
                        app.recording = recording_size(recording.as_deref());
                    }
                    app.sync_filter(&store);
                    app.sync_status(&store);
                    if app.overview_open {
                        app.overview.page_rows =
                            overview_table::table_rows(terminal.get_frame().area());
                        app.overview.sync(&store, now_us);
                    }
                    terminal
                        .draw(|f| draw(f, &store, &app, &theme, now_us))
                        .map_err(std::io::Error::other)?;
                    app.page_rows = render::list_rows(
                        terminal.get_frame().area(),
                        app.shown.len(),
                    );
                    dirty = false;
                    last_second = second;
                }
            }
            batch = records.recv(), if records_open => {
                match batch {
                    Some(batch) => {
                        for r in batch {
                            store.apply(r);
                        }
                        // Drain what else is queued now, so a burst costs one wake-up, but for
                        // one frame period at most: a firehose refills the channel as fast as it
                        // is drained, and an unbounded drain would starve drawing and keys. A
                        // disconnect is noticed by the next `recv`.
                        let budget = std::time::Instant::now() + period;
                        while std::time::Instant::now() < budget {
                            let Ok(more) = records.try_recv() else { break };
                            for r in more {
                                store.apply(r);
                            }
                        }
                        dirty = true;
                    }
                    // Every connection task has ended; keep showing what we have.
                    None => records_open = false,
                }
                if !records_open && replay.is_some() {
                    app.status = Some("REPLAY finished".into());
                    dirty = true;
                }
            }
            event = events.next() => {
                let Some(event) = event else { return Ok((store, app)) };
                let event = event?;
                let Some(action) = keymap::map_event(&event, app.input_mode()) else {
                    continue;
                };
                dirty = true;
                match app.handle(&action, &store) {
                    Some(Effect::Quit) => return Ok((store, app)),
                    Some(Effect::Control(pane, control)) => {
                        if let Some(tx) = controls.get(pane)
                            && tx.send(control).is_err()
                        {
                            app.status = Some("that stream has ended".into());
                        }
                    }
                    None => {}
                }
            }
        }
    }
}
