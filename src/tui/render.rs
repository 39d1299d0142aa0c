//! Drawing: a pure function of the store, the view state, the theme and the data time `now_us`, so
//! the same inputs always give the same screen (that is what the snapshot tests rely on).
//!
//! ```text
//! ┌ #0 SSE https://host/events ─────────── OPEN since 12:00:01 · 200 ┐┌ #1 WS wss://host/ws ─ … ┐
//! │ time          gap      kind       wire   pay  data                ││                         │
//! │ 12:00:01.250  250 ms   event        64    32  {"price":1.5}       ││  (second pane: same)    │
//! │ …                                                                 ││                         │
//! │───────────────────────────────────────────────────────────────────││                         │
//! │ 120 records  2.0 rec/s  payload 3.8 KiB  wire 4.1 KiB  +7.3%      ││                         │
//! │ 60s ▁▂▃▅▇█▅▃▂▁                                                    ││                         │
//! │ gap p50 250 ms  p95 300 ms  p99 1.2 s  max 3.0 s                  ││                         │
//! │ heartbeat 1.0 s ago  reconnects 0  rtt —  handshake 35.0 ms       ││                         │
//! │ timeline 2m ▲──────┄───↻▲────────────────────────────────────     ││                         │
//! └───────────────────────────────────────── FOLLOW ─────────────────┘└─────────────────────────┘
//! ┌ compare ───────────────────────────────────────────────────────────────────────────────────┐
//! │        records  rec/s  payload  overhead  compress  gap p50  gap p99  gap max  rtt  handshk │
//! │ #0 / #1 / Δ rows                                                                           │
//! └────────────────────────────────────────────────────────────────────────────────────────────┘
//!  q quit  Tab pane  ↑↓ move  space pause  Enter detail  / filter  ? help        (status)
//! ```
//!
//! Panes sit side by side from [`SIDE_BY_SIDE_MIN_WIDTH`] columns, stacked below that. The detail
//! and help views are overlays. Only the visible window of records becomes table rows, and every
//! preview is cut to its column before it reaches a widget.

use crate::store::Mark;
use std::borrow::Cow;
use std::fmt::Write as _;

use ratatui::Frame;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Row, Sparkline, Table};

use crate::protocol::ws::close_code_meaning;
use crate::record::kinds::KINDS;
use crate::record::{Dir, Kind, LlmSummary, Payload, Proto, Record};
use crate::store::{ConnState, Entry, Matching, Store, StreamState, StreamStats};

pub use super::text::{cut, fmt_ms};
use super::text::{cut_spans, fit_groups, fit_ranked, fit_url, url_min_width};

use super::glossary::{self, Area};
use super::keymap::{KEY_TABLE, KeyRow};
use super::theme::Theme;
use super::view::{App, InputKind};

/// Narrower terminals stack the panes.
pub const SIDE_BY_SIDE_MIN_WIDTH: u16 = 120;
/// Lines of the stats block under each record list.
const STATS_LINES: u16 = 5;
/// Height of the comparison strip (borders, header, three rows).
const COMPARE_LINES: u16 = 6;
/// The comparison strip is dropped below this terminal height so the lists keep some rows.
const COMPARE_MIN_HEIGHT: u16 = 30;
/// Lines of the detail view beyond which a payload is cut.
const DETAIL_MAX_LINES: usize = 2000;
/// Bytes of a binary payload shown as hex in the detail view.
const HEX_MAX_BYTES: usize = 4096;
/// Characters of one detail line.
const DETAIL_MAX_LINE_CHARS: usize = 1000;

/// Where everything goes on a screen of a given size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenLayout {
    /// One rectangle per pane.
    pub panes: Vec<Rect>,
    /// The comparison strip, with exactly two streams and enough height.
    pub compare: Option<Rect>,
    /// The footer line.
    pub footer: Rect,
}

/// Splits the screen.
pub fn layout(area: Rect, streams: usize) -> ScreenLayout {
    let show_compare = streams == 2 && area.height >= COMPARE_MIN_HEIGHT;
    let [body, compare, footer] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(if show_compare { COMPARE_LINES } else { 0 }),
        Constraint::Length(1),
    ])
    .areas(area);
    let dir = if area.width >= SIDE_BY_SIDE_MIN_WIDTH {
        Direction::Horizontal
    } else {
        Direction::Vertical
    };
    let n = streams.max(1) as u32;
    let panes = Layout::default()
        .direction(dir)
        .constraints((0..n).map(|_| Constraint::Ratio(1, n)))
        .split(body)
        .to_vec();
    ScreenLayout {
        panes,
        compare: show_compare.then_some(compare),
        footer,
    }
}

/// The record list and the stats block inside a pane's border.
fn pane_parts(pane: Rect) -> (Rect, Rect) {
    let inner = Block::default().borders(Borders::ALL).inner(pane);
    let stats_h = if inner.height > STATS_LINES + 3 {
        STATS_LINES + 1
    } else {
        0
    };
    let [list, stats] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(stats_h)]).areas(inner);
    (list, stats)
}

/// Record rows a pane shows on a screen of this size (the table header takes one line).
pub fn list_rows(area: Rect, streams: usize) -> usize {
    layout(area, streams).panes.first().map_or(0, |p| {
        usize::from(pane_parts(*p).0.height.saturating_sub(1))
    })
}

/// Draws one frame.
pub fn draw(frame: &mut Frame<'_>, store: &Store, app: &App, theme: &Theme, now_us: i64) {
    let area = frame.area();
    // The streams on screen: all of them with one or two, the chosen two of more.
    let shown: Vec<(usize, &StreamState)> = app
        .shown
        .iter()
        .filter_map(|&pos| store.stream(pos).map(|s| (pos, s)))
        .collect();
    let lay = layout(area, shown.len());
    for (&(pos, s), rect) in shown.iter().zip(&lay.panes) {
        let pane = Pane {
            index: pos,
            http: http_label(store.streams(), pos),
        };
        draw_pane(frame, *rect, &pane, s, app, theme, now_us);
    }
    if let (Some(rect), [(pa, a), (pb, b)]) = (lay.compare, shown.as_slice()) {
        // `--match` pairs the first two streams; other pairs have no figures here.
        let pairing = store
            .matching
            .as_ref()
            .filter(|_| (*pa, *pb) == (0, 1))
            .map(|m| {
                match_line(
                    m,
                    store.streams(),
                    usize::from(rect.width.saturating_sub(2)),
                )
            });
        if let (Some(fa), Some(fb)) = (a.llm_figures(now_us), b.llm_figures(now_us)) {
            crate::tui::llm_view::draw_compare(frame, rect, [a, b], [&fa, &fb], theme);
        } else {
            let labels = [
                http_label(store.streams(), *pa).unwrap_or_default(),
                http_label(store.streams(), *pb).unwrap_or_default(),
            ];
            draw_compare(frame, rect, [a, b], &labels, theme, now_us, pairing);
        }
    }
    let any_llm = store.streams().iter().any(|s| s.llm.format().is_some());
    draw_footer(frame, lay.footer, app, theme, any_llm);
    if let Some(detail) = app.detail {
        let rect = centered(area, 90, 90);
        frame.render_widget(Clear, rect);
        match store
            .stream(detail.pane)
            .and_then(|s| s.get(detail.seq).map(|e| (s, e)))
        {
            Some((s, e)) => draw_detail(frame, rect, s, e, detail.scroll, theme),
            None => frame.render_widget(
                Paragraph::new("record evicted from history").block(
                    Block::bordered()
                        .title(" detail ")
                        .border_style(theme.accent),
                ),
                rect,
            ),
        }
    }
    if app.help {
        let areas = help_areas(store, app, area, now_us);
        draw_help(frame, area, theme, &areas, app.help_scroll);
    }
}

/// Which pane is drawn, and what its title says about the connection.
struct Pane {
    index: usize,
    /// `h2 · conn #1 shared`, once the stream has opened.
    http: Option<String>,
}

/// The HTTP version and connection of stream `i`'s latest `open`: `http/1.1`, `h2 · conn #1`, and
/// `shared` when another stream of the session is on the same HTTP/2 connection.
pub fn http_label(streams: &[StreamState], i: usize) -> Option<String> {
    let conn = streams.get(i)?.stats.conn.as_ref()?;
    let Some(id) = conn.connection else {
        return Some(conn.http.clone());
    };
    let others = streams.iter().enumerate().any(|(j, s)| {
        j != i
            && s.stats.conn.as_ref().and_then(|c| c.connection) == Some(id)
            && !matches!(s.state, ConnState::Ended { .. } | ConnState::Failed { .. })
    });
    let shared = if others || conn.shared { " shared" } else { "" };
    Some(format!("{} · conn #{id}{shared}", conn.http))
}

fn draw_pane(
    frame: &mut Frame<'_>,
    rect: Rect,
    pane: &Pane,
    s: &StreamState,
    app: &App,
    theme: &Theme,
    now_us: i64,
) {
    let focused = app.focus == pane.index;
    let pane_index = pane.index;
    let (state_text, state_style) = state_line(&s.state, now_us, theme);
    let (title, state_text) = pane_title(
        s,
        pane.http.as_deref(),
        &state_text,
        usize::from(rect.width),
        theme,
    );
    let view = &app.panes.get(pane_index).cloned().unwrap_or_default();
    let (list_rect, stats_rect) = pane_parts(rect);
    let rows = usize::from(list_rect.height.saturating_sub(1));
    let window = app.window(pane_index, s, rows);
    let mut bottom = Vec::new();
    let below = if view.following() {
        0
    } else {
        app.below(pane_index, s, rows)
    };
    if view.following() {
        bottom.push(Span::styled(" FOLLOW ", theme.ok));
    } else {
        bottom.push(Span::styled(" PAUSED ", theme.warn));
        if below > 0 {
            bottom.push(Span::styled(format!("· {below} new below "), theme.warn));
        }
    }
    if !app.filter.is_empty() {
        bottom.push(Span::styled(
            format!("· filter {:?} ", app.filter),
            theme.accent,
        ));
    }
    let block = Block::bordered()
        .border_style(if focused { theme.accent } else { theme.border })
        .title(Line::from(title))
        .title(Line::from(Span::styled(state_text, state_style)).right_aligned())
        .title_bottom(Line::from(bottom).right_aligned());
    frame.render_widget(block, rect);

    let selected = if view.following() {
        window.last().map(|e| e.seq)
    } else {
        view.selected
    };
    if app.llm_view(pane_index, s) {
        crate::tui::llm_view::draw(frame, list_rect, s, theme, now_us);
    } else {
        // The selection is highlighted in the focused pane only.
        let selected = selected.filter(|_| focused);
        draw_list(frame, list_rect, s, &window, selected, below, theme);
    }
    if stats_rect.height > 0 {
        draw_stats(frame, stats_rect, s, theme, now_us);
    }
}

/// A pane's title and its connection state, fitted together into a border `width` columns wide by
/// priority: the stream's number, name and protocol and `INSECURE` always; then the URL (its path
/// kept, the host's middle shortened) and the state's first word; the HTTP version and connection
/// (`h2 #1 shared`, or `h2#1*`); the compression's name; the start of the request (method, model
/// and prompt: two completions side by side differ there); then the URL whole, the state whole,
/// and the request whole, as far as they fit. Returns the title's spans and the state text to draw
/// on the right.
fn pane_title(
    s: &StreamState,
    http: Option<&str>,
    state: &str,
    width: usize,
    theme: &Theme,
) -> (Vec<Span<'static>>, String) {
    let count = |t: &str| t.chars().count();
    // The corners, and a space between the title and the state.
    let room = width.saturating_sub(3);
    let head = format!(" #{} ", s.info.index);
    let proto = s.info.proto.as_str().to_uppercase();
    let insecure = if s.info.insecure { "INSECURE " } else { "" };
    let name = s.info.name.as_ref().map(|n| format!("{n} "));
    let state_full = count(state) + 2;
    let first_word = state.split([' ', ':']).next().unwrap_or(state);
    let state_min = state_full.min(count(first_word) + 3);
    let url_full = count(&s.info.display_url);
    let url_min = url_min_width(&s.info.display_url).min(url_full);
    // The spaces around the URL are counted here.
    let base =
        count(&head) + name.as_deref().map_or(0, count) + count(&proto) + 2 + count(insecure);
    let mut spare = room.saturating_sub(base + url_min + state_min);
    // When even the URL's shortest form does not fit (it is cut from its end then), the short
    // label still goes in while the URL keeps 16 columns.
    let short_room = if base + url_min + state_min > room {
        room.saturating_sub(base + url_min.min(16) + state_min)
    } else {
        spare
    };
    let http = http.and_then(|h| title_http(h, spare, short_room));
    spare = spare.saturating_sub(http.as_deref().map_or(0, count));
    let compression = s.stats.compression.as_ref().map(|c| {
        // The extension or coding without its parameters (the detail of the `open` has them).
        format!("{} ", c.split(';').next().unwrap_or(c).trim())
    });
    let compression = compression.filter(|c| count(c) <= spare);
    spare -= compression.as_deref().map_or(0, count);
    // The request's first 24 columns before the URL and the state grow, at least 12 of them.
    let request_first = s.info.request.as_ref().and_then(|r| {
        let whole = count(r) + 1;
        let w = whole.min(24).min(spare);
        (w >= 12 || w == whole).then_some(w)
    });
    let fixed = base
        + http.as_deref().map_or(0, count)
        + compression.as_deref().map_or(0, count)
        + request_first.unwrap_or(0);
    // The state whole (up to 40 columns: a long error is cut) while the URL can keep its path
    // beside it; the URL whole when there is room for it and the state's first word.
    let state_w = if fixed + url_full + state_full <= room {
        state_full
    } else {
        let target = state_full.min(40).max(state_min);
        let url_w = room
            .saturating_sub(fixed + target)
            .max(url_min)
            .min(url_full);
        room.saturating_sub(fixed + url_w).max(state_min)
    };
    let url = fit_url(&s.info.display_url, room.saturating_sub(fixed + state_w));
    let mut left = room.saturating_sub(fixed + count(&url));
    let state = if state_full <= left {
        format!(" {state} ")
    } else {
        format!(" {} ", cut(state, left.saturating_sub(2)))
    };
    left = left.saturating_sub(count(&state));
    // The request takes what is left too, cut.
    let request = request_first.zip(s.info.request.as_ref()).map(|(w, r)| {
        let w = w + left;
        format!(" {}", cut(r, w - 1))
    });
    let mut title = vec![Span::styled(head, theme.header)];
    if let Some(name) = name {
        title.push(Span::styled(name, theme.accent));
    }
    title.push(Span::styled(proto, proto_style(s.info.proto, theme)));
    for part in [http, request].into_iter().flatten() {
        title.push(Span::styled(part, theme.accent));
    }
    title.push(Span::styled(format!(" {url} "), theme.header));
    if !insecure.is_empty() {
        title.push(Span::styled(insecure, theme.warn));
    }
    if let Some(c) = compression {
        title.push(Span::styled(c, theme.accent));
    }
    (title, state)
}

/// The pane title's HTTP part (` h2 #1 shared`) when it fits in `spare` columns, or its short form
/// (` h2#1*`) when that fits in `short_room`.
fn title_http(label: &str, spare: usize, short_room: usize) -> Option<String> {
    let full = format!(" {}", label.replace(" · conn #", " #"));
    let short = format!(" {}", short_http(label));
    if full.chars().count() <= spare {
        Some(full)
    } else if short.chars().count() <= short_room.max(spare) {
        Some(short)
    } else {
        None
    }
}

const COL_TIME: u16 = 12;
const COL_GAP: u16 = 8;
const COL_KIND: u16 = 9;
const COL_SIZE: u16 = 6;

/// Columns of data the full layout (sizes before the data) must leave; a narrower list shows the
/// data right after the kind and leaves the sizes out (the detail view and the stats have them).
const DATA_MIN: u16 = 24;

/// Which columns a record list of a given width shows: the narrow ones first (time, gap,
/// direction, kind), then the sizes when there is room for them and [`DATA_MIN`] columns of data,
/// then the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ListColumns {
    /// The wire and payload sizes are shown.
    sizes: bool,
}

impl ListColumns {
    fn for_width(width: u16) -> Self {
        // Time, gap, direction and kind with their spaces; the sizes are two columns of six.
        let narrow = COL_TIME + COL_GAP + 1 + COL_KIND + 4;
        let sizes = 2 * (COL_SIZE + 1);
        ListColumns {
            sizes: width >= narrow + sizes + 1 + DATA_MIN,
        }
    }

    /// `narrow` (time, gap, direction, kind), `sizes` (wire, payload) and `data` as this layout
    /// shows them.
    fn order<T>(self, narrow: [T; 4], sizes: [T; 2], data: T) -> Vec<T> {
        let mut out: Vec<T> = narrow.into_iter().collect();
        if self.sizes {
            out.extend(sizes);
        }
        out.push(data);
        out
    }

    /// Columns left for the data, less one so a cut text keeps a space before the border.
    fn data_width(self, width: u16) -> usize {
        let mut fixed = COL_TIME + COL_GAP + 1 + COL_KIND + 4 + 1;
        if self.sizes {
            fixed += 2 * (COL_SIZE + 1);
        }
        usize::from(width.saturating_sub(fixed))
    }
}

fn draw_list(
    frame: &mut Frame<'_>,
    rect: Rect,
    s: &StreamState,
    window: &[&Entry],
    selected: Option<u64>,
    below: u64,
    theme: &Theme,
) {
    let cols = ListColumns::for_width(rect.width);
    let preview_w = cols.data_width(rect.width);
    let threshold = s.info.heartbeat_ms.map(|t| t as f64);
    let llm = s.llm.format();
    let rows = window.iter().map(|e| {
        let r = &e.rec;
        let gap_style = match (r.gap_ms, threshold) {
            (Some(g), Some(t)) if g > t => theme.gap,
            _ => theme.muted,
        };
        let dir = match r.dir {
            Some(Dir::In) => Span::styled("←", theme.muted),
            Some(Dir::Out) => Span::styled("→", theme.out),
            None => Span::raw(" "),
        };
        // On an LLM stream a chunk's text leads its row: it is deep inside the JSON otherwise.
        let data = match llm.and_then(|f| crate::tui::llm_view::preview(f, r, theme)) {
            Some(spans) => Line::from(cut_spans(spans, preview_w)),
            None => Line::from(cut(&preview(r), preview_w)),
        };
        let row = Row::new(
            cols.order(
                [
                    Line::from(Span::styled(clock(r.ts_us), theme.muted)),
                    Line::from(Span::styled(
                        r.gap_ms.map(fmt_ms).unwrap_or_default(),
                        gap_style,
                    ))
                    .right_aligned(),
                    Line::from(dir),
                    Line::from(Span::styled(r.kind.name(), kind_style(r, theme))),
                ],
                [
                    Line::from(r.wire_bytes.map(compact).unwrap_or_default()).right_aligned(),
                    Line::from(r.payload_bytes.map(compact).unwrap_or_default()).right_aligned(),
                ],
                data,
            ),
        );
        if Some(e.seq) == selected {
            row.style(theme.selected)
        } else {
            row
        }
    });
    let header = Row::new(cols.order(
        [
            Line::from("time"),
            Line::from("gap").right_aligned(),
            Line::from(""),
            Line::from("kind"),
        ],
        [
            Line::from("wire").right_aligned(),
            Line::from("pay").right_aligned(),
        ],
        Line::from("data"),
    ))
    .style(theme.muted);
    let widths = cols.order(
        [
            Constraint::Length(COL_TIME),
            Constraint::Length(COL_GAP),
            Constraint::Length(1),
            Constraint::Length(COL_KIND),
        ],
        [Constraint::Length(COL_SIZE), Constraint::Length(COL_SIZE)],
        Constraint::Min(0),
    );
    let table = Table::new(rows, widths).header(header).column_spacing(1);
    frame.render_widget(table, rect);
    if window.is_empty() {
        let msg = if s.stats.records == 0 {
            "waiting for records…".to_owned()
        } else if below > 0 {
            // Paused above records that arrived since: the matches are further down.
            format!("none here; {below} below (G or End: newest)")
        } else {
            "no records match".to_owned()
        };
        let y = rect
            .y
            .saturating_add(1)
            .min(rect.bottom().saturating_sub(1));
        frame.render_widget(
            Paragraph::new(Span::styled(msg, theme.muted)),
            Rect::new(rect.x, y, rect.width, 1),
        );
    }
}

fn draw_stats(frame: &mut Frame<'_>, rect: Rect, s: &StreamState, theme: &Theme, now_us: i64) {
    let st = &s.stats;
    let [sep, l1, l2, l3, l4, l5] = Layout::vertical([Constraint::Length(1); 6]).areas(rect);
    frame.render_widget(
        Paragraph::new(Span::styled(
            "─".repeat(usize::from(sep.width)),
            theme.border,
        )),
        sep,
    );
    let m = |t: &str| Span::styled(t.to_owned(), theme.muted);
    let v = |t: String| Span::styled(t, theme.text);
    let sep = m("  ");
    // By priority: what a line cannot hold is left out whole, never cut mid-word.
    let mut line1 = vec![
        vec![v(st.records.to_string()), m(" records")],
        vec![v(format!("{:.1}", st.rate_per_sec(now_us))), m(" rec/s")],
        vec![m("payload "), v(fmt_bytes(st.payload_bytes))],
        vec![m("wire "), v(fmt_bytes(st.wire_bytes))],
    ];
    if let Some(o) = st.overhead_pct() {
        line1.push(vec![m("overhead "), v(format!("{o:.1}%"))]);
    }
    if let Some(r) = st.compression_ratio() {
        line1.push(vec![
            m("compressed "),
            v(format!("{} ({r:.1}×)", fmt_bytes(st.compressed_bytes))),
        ]);
    }
    // Counts by kind last: on a narrow pane they are the first thing left out.
    for (kind, n) in KINDS.iter().zip(st.by_kind) {
        if n > 0 {
            line1.push(vec![m(&format!("{} ", kind.name)), v(n.to_string())]);
        }
    }
    let line1 = fit_groups(line1, &sep, usize::from(l1.width));
    frame.render_widget(Paragraph::new(Line::from(line1)), l1);

    let label = "60s ";
    frame.render_widget(Paragraph::new(m(label)), l2);
    let spark_rect = Rect {
        x: l2.x + label.len() as u16,
        width: l2.width.saturating_sub(label.len() as u16).min(60),
        ..l2
    };
    let data = st.sparkline(now_us);
    // Right-align the minute so the newest second is always drawn, even on narrow panes.
    let shown = &data[data.len().saturating_sub(usize::from(spark_rect.width))..];
    frame.render_widget(
        Sparkline::default().data(shown).style(theme.sparkline),
        spark_rect,
    );

    // An LLM stream's timing is what matters on it; the gaps of all its records are in the
    // comparison strip and the list.
    let line3 = match s.llm_figures(now_us) {
        Some(f) => crate::tui::llm_view::stats_groups(&f, theme),
        None => gap_groups(st, theme),
    };
    let line3 = fit_groups(line3, &sep, usize::from(l3.width));
    frame.render_widget(Paragraph::new(Line::from(line3)), l3);

    let mut groups = vec![
        keepalive(s, now_us, theme),
        vec![m("reconnects "), v(st.reconnects.to_string())],
        vec![m("rtt "), v(st.last_rtt_ms.map_or("—".to_owned(), fmt_ms))],
        vec![
            m("handshake "),
            v(st.handshake_ms.map_or("—".to_owned(), fmt_ms)),
        ],
    ];
    groups.extend(decoded_groups(st, theme));
    let line4 = fit_groups(groups, &sep, usize::from(l4.width));
    frame.render_widget(Paragraph::new(Line::from(line4)), l4);
    frame.render_widget(
        Paragraph::new(timeline_line(st, l5.width, theme, now_us)),
        l5,
    );
}

/// The decoded protocol (`--decode`) with its heartbeats, then the messages of each sub-stream
/// (or, without sub-streams, of each event name), first seen first: after the connection's
/// figures, so a narrow pane leaves them out first.
fn decoded_groups(st: &StreamStats, theme: &Theme) -> Vec<Vec<Span<'static>>> {
    let d = &st.decoded;
    let Some(protocol) = &d.protocol else {
        return Vec::new();
    };
    let m = |t: String| Span::styled(t, theme.muted);
    let v = |t: String| Span::styled(t, theme.text);
    let mut out = vec![vec![
        m(format!("{protocol} hb ")),
        v(d.heartbeats.to_string()),
    ]];
    let (label, list, prefix) = if d.substreams.is_empty() {
        ("events", &d.events, "")
    } else {
        ("sub-streams", &d.substreams, "#")
    };
    if !list.is_empty() {
        out.push(vec![m(format!("{label} ")), v(list.len().to_string())]);
        for (k, n) in list.iter().take(12) {
            out.push(vec![
                m(format!("{prefix}{} ", cut(k, 16))),
                v(n.to_string()),
            ]);
        }
    }
    out
}

/// The age of the last keepalive (SSE comment, WebSocket ping or pong): how long ago the server
/// last showed it is alive without sending data. Not `--heartbeat`, which flags silences of any
/// kind. It stops counting when the stream has ended.
fn keepalive(s: &StreamState, now_us: i64, theme: &Theme) -> Vec<Span<'static>> {
    let label = if s.info.proto == Proto::Ws {
        "last ping/pong "
    } else {
        "last comment "
    };
    let ended = matches!(s.state, ConnState::Ended { .. } | ConnState::Failed { .. });
    let value = match s.stats.last_keepalive_us {
        None => "none".to_owned(),
        Some(t) if ended => {
            let end = s.stats.last_ts_us.unwrap_or(t);
            format!(
                "{} before the end",
                fmt_ms((end - t).max(0) as f64 / 1000.0)
            )
        }
        Some(t) => format!("{} ago", fmt_ms((now_us - t).max(0) as f64 / 1000.0)),
    };
    vec![
        Span::styled(label, theme.muted),
        Span::styled(value, theme.text),
    ]
}

/// Gap percentiles of every record of the stream.
fn gap_groups(st: &StreamStats, theme: &Theme) -> Vec<Vec<Span<'static>>> {
    let m = |t: &str| Span::styled(t.to_owned(), theme.muted);
    let v = |t: String| Span::styled(t, theme.text);
    let g = |q: f64| st.gap_ms_at(q).map_or("—".to_owned(), fmt_ms);
    vec![
        vec![m("gap p50 "), v(g(0.5))],
        vec![m("p95 "), v(g(0.95))],
        vec![m("p99 "), v(g(0.99))],
        vec![m("max "), v(st.gap_max_ms().map_or("—".to_owned(), fmt_ms))],
    ]
}

/// The connection timeline: the session from its first record to now across the line, one cell a
/// time slice, showing the most severe event in the slice (▲ open, ┄ gap, ■ close, ↻ reconnect,
/// ✕ error).
pub fn timeline_line(st: &StreamStats, width: u16, theme: &Theme, now_us: i64) -> Line<'static> {
    let Some(start) = st.first_ts_us else {
        return Line::from(Span::styled("timeline —", theme.muted));
    };
    let span_us = (now_us - start).max(1);
    let label = format!("timeline {} ", fmt_ms(span_us as f64 / 1000.0));
    let cells = usize::from(width).saturating_sub(label.chars().count());
    if cells == 0 {
        return Line::from(Span::styled(label, theme.muted));
    }
    let mut slots: Vec<Option<Mark>> = vec![None; cells];
    for &(ts, mark) in &st.timeline {
        let offset = (ts - start).clamp(0, span_us);
        let i = ((offset as f64 / span_us as f64) * (cells - 1) as f64).round() as usize;
        if let Some(slot) = slots.get_mut(i) {
            *slot = Some(slot.map_or(mark, |m| m.max(mark)));
        }
    }
    let mut spans = vec![Span::styled(label, theme.muted)];
    for slot in slots {
        spans.push(match slot {
            None => Span::styled("─", theme.border),
            Some(Mark::Open) => Span::styled("▲", theme.ok),
            Some(Mark::Gap) => Span::styled("┄", theme.gap),
            Some(Mark::Close) => Span::styled("■", theme.warn),
            Some(Mark::Reconnect) => Span::styled("↻", theme.warn),
            Some(Mark::Error) => Span::styled("✕", theme.error),
        });
    }
    Line::from(spans)
}

/// The comparison strip's short form of [`http_label`]: `h2#1` (`h2#1*` when shared), `h1.1`.
fn short_http(label: &str) -> String {
    let mut parts = label.split(" · ");
    let version = match parts.next().unwrap_or("") {
        "http/1.1" => "h1.1",
        other => other,
    };
    match parts.next().and_then(|c| c.strip_prefix("conn #")) {
        Some(conn) => {
            let (id, shared) = conn.split_once(' ').unwrap_or((conn, ""));
            format!("{version}#{id}{}", if shared.is_empty() { "" } else { "*" })
        }
        None => version.to_owned(),
    }
}

/// Figures in the comparison strip.
const COMPARE_COLUMNS: usize = 10;

/// The figures the comparison strip shows, as numbers so the difference can be computed. The
/// compression ratio is decoded / compressed bytes of what arrived compressed.
fn compare_figures(st: &StreamStats, now_us: i64) -> [Option<f64>; COMPARE_COLUMNS] {
    [
        Some(st.records as f64),
        Some(st.rate_per_sec(now_us)),
        Some(st.payload_bytes as f64),
        st.overhead_pct(),
        st.compression_ratio(),
        st.gap_ms_at(0.5),
        st.gap_ms_at(0.99),
        st.gap_max_ms(),
        st.last_rtt_ms,
        st.handshake_ms,
    ]
}

fn fmt_figure(i: usize, v: Option<f64>, signed: bool) -> String {
    let Some(v) = v else {
        return "—".to_owned();
    };
    let sign = if signed && v > 0.0 { "+" } else { "" };
    match i {
        0 => format!("{sign}{v:.0}"),
        1 => format!("{sign}{v:.1}"),
        2 if v < 0.0 => format!("-{}", fmt_bytes(v.abs() as u64)),
        2 => format!("{sign}{}", fmt_bytes(v as u64)),
        3 => format!("{sign}{v:.1}%"),
        4 => format!("{sign}{v:.1}×"),
        _ if v < 0.0 => format!("-{}", fmt_ms(v.abs())),
        _ => format!("{sign}{}", fmt_ms(v)),
    }
}

/// The `--match` figures in one line of at most `width` columns: who delivers first, by how much,
/// and what never paired, by priority (what does not fit is left out whole).
pub fn match_line(m: &Matching, streams: &[StreamState], width: usize) -> String {
    let key = m.key.as_deref().unwrap_or("key");
    let st = &m.stats;
    let [u0, u1] = m.unpaired(streams);
    // (priority, text): the lead's tail percentiles give way before what never paired.
    let groups: Vec<(u8, String)> = if st.pairs == 0 {
        vec![
            (0, format!("match {key}: no pairs yet")),
            (1, format!("unpaired #0 {u0} #1 {u1}")),
        ]
    } else {
        let pct = |s| st.won_pct(s).map_or("—".to_owned(), |p| format!("{p:.0}%"));
        let lead = |q| st.lead_ms_at(q).map_or("—".to_owned(), fmt_ms);
        vec![
            (0, format!("match {key}: {} pairs", st.pairs)),
            (1, format!("first #0 {} #1 {}", pct(0), pct(1))),
            (2, format!("lead p50 {}", lead(0.5))),
            (4, format!("p95 {}", lead(0.95))),
            (5, format!("p99 {}", lead(0.99))),
            (3, format!("unpaired #0 {u0} #1 {u1}")),
        ]
    };
    // Room for a space at each end, on the border.
    let spans = fit_ranked(
        groups
            .into_iter()
            .map(|(rank, g)| (rank, vec![Span::raw(g)]))
            .collect(),
        &Span::raw(" · "),
        width.saturating_sub(2),
    );
    let text: String = spans.iter().map(|s| s.content.as_ref()).collect();
    format!(" {text} ")
}

/// The comparison strip's columns: header, and the order in which they give way when the strip is
/// too narrow for all of them (0 goes last).
const COMPARE_HEADERS: [(&str, u8); COMPARE_COLUMNS] = [
    ("records", 0),
    ("rec/s", 1),
    ("payload", 3),
    ("overhead", 4),
    ("compression", 8),
    ("gap p50", 5),
    ("gap p99", 2),
    ("gap max", 6),
    ("rtt", 9),
    ("handshake", 7),
];

/// Which columns of the strip are shown in `width` columns beside a label column `label` wide, given
/// each one's widest text: by priority, a column with a figure before one with none, each whole or
/// not at all.
fn compare_columns(
    widths: &[usize; COMPARE_COLUMNS],
    empty: &[bool; COMPARE_COLUMNS],
    label: usize,
    width: usize,
) -> Vec<usize> {
    let mut order: Vec<usize> = (0..COMPARE_COLUMNS).collect();
    order.sort_by_key(|&i| (empty[i], COMPARE_HEADERS[i].1));
    let mut used = label;
    let mut shown = Vec::new();
    for i in order {
        if used + 1 + widths[i] <= width {
            used += 1 + widths[i];
            shown.push(i);
        }
    }
    shown.sort_unstable();
    shown
}

fn draw_compare(
    frame: &mut Frame<'_>,
    rect: Rect,
    [a, b]: [&StreamState; 2],
    http: &[String; 2],
    theme: &Theme,
    now_us: i64,
    pairing: Option<String>,
) {
    let fa = compare_figures(&a.stats, now_us);
    let fb = compare_figures(&b.stats, now_us);
    let cells: [[String; COMPARE_COLUMNS]; 3] = [
        std::array::from_fn(|i| fmt_figure(i, fa[i], false)),
        std::array::from_fn(|i| fmt_figure(i, fb[i], false)),
        std::array::from_fn(|i| match (fa[i], fb[i]) {
            (Some(x), Some(y)) => fmt_figure(i, Some(y - x), true),
            _ => "—".to_owned(),
        }),
    ];
    let widths: [usize; COMPARE_COLUMNS] = std::array::from_fn(|i| {
        cells
            .iter()
            .map(|row| columns(&row[i]))
            .chain([columns(COMPARE_HEADERS[i].0)])
            .max()
            .unwrap_or(0)
    });
    let empty: [bool; COMPARE_COLUMNS] =
        std::array::from_fn(|i| fa[i].is_none() && fb[i].is_none());
    // `#0 sse h2#1*`: the stream, its protocol and, once a connection said it, its HTTP version.
    let stream_label = |s: &StreamState, http: &str| {
        format!(
            "#{} {} {}",
            s.info.index,
            s.info.proto.as_str(),
            short_http(http)
        )
        .trim_end()
        .to_owned()
    };
    let labels = [
        (stream_label(a, &http[0]), proto_style(a.info.proto, theme)),
        (stream_label(b, &http[1]), proto_style(b.info.proto, theme)),
        (
            format!("Δ #{}−#{}", b.info.index, a.info.index),
            theme.accent,
        ),
    ];
    // The label column as wide as its widest label, so no label is cut.
    let label_w = labels.iter().map(|(l, _)| columns(l)).max().unwrap_or(0);
    let shown = compare_columns(
        &widths,
        &empty,
        label_w,
        usize::from(rect.width.saturating_sub(2)),
    );
    let rows = labels.into_iter().zip(&cells).map(|((label, style), row)| {
        let mut out = vec![Line::from(Span::styled(label, style))];
        out.extend(
            shown
                .iter()
                .map(|&i| Line::from(row[i].clone()).right_aligned()),
        );
        Row::new(out)
    });
    let mut header = vec![Line::from("")];
    header.extend(
        shown
            .iter()
            .map(|&i| Line::from(COMPARE_HEADERS[i].0).right_aligned()),
    );
    let header = Row::new(header).style(theme.muted);
    let mut constraints = vec![Constraint::Length(label_w as u16)];
    constraints.extend(shown.iter().map(|&i| Constraint::Length(widths[i] as u16)));
    let mut block = Block::bordered()
        .border_style(theme.border)
        .title(Span::styled(" compare ", theme.header));
    if let Some(line) = pairing {
        // On the bottom border, so matching costs no line of the record lists.
        block = block.title_bottom(Span::styled(line, theme.accent));
    }
    frame.render_widget(
        Table::new(rows, constraints)
            .header(header)
            .column_spacing(1)
            .flex(ratatui::layout::Flex::SpaceBetween)
            .block(block),
        rect,
    );
}

pub(crate) fn draw_footer(
    frame: &mut Frame<'_>,
    rect: Rect,
    app: &App,
    theme: &Theme,
    any_llm: bool,
) {
    let line = if let Some(input) = &app.input {
        let prompt = match input.kind {
            InputKind::Filter => "filter /",
            InputKind::Send => "send ›",
        };
        let mut spans = vec![
            Span::styled(format!(" {prompt} "), theme.accent),
            Span::styled(input.text.clone(), theme.text),
            Span::styled("█", theme.accent),
            Span::styled("  Enter accept · Esc cancel", theme.muted),
        ];
        if let Some(status) = &app.status {
            spans.push(Span::styled(format!("  {status}"), theme.error));
        }
        Line::from(spans)
    } else {
        let mut spans = Vec::new();
        let llm = any_llm.then_some(("l", "llm/raw"));
        let keys: Vec<(&str, &str)> = if app.overview_open {
            vec![
                ("q", "quit"),
                ("↑↓", "select"),
                ("Enter", "open"),
                ("<>", "sort"),
                ("i", "reverse"),
                ("m", "mark"),
                ("o", "panes"),
                ("?", "help"),
            ]
        } else {
            [
                ("q", "quit"),
                ("Tab", "pane"),
                ("↑↓", "move"),
                ("space", "pause"),
                ("Enter", "detail"),
            ]
            .into_iter()
            .chain(llm)
            .chain([("/", "filter"), ("?", "help")])
            .collect()
        };
        // The recording and the status first; the keys take the room left, each whole or not
        // at all (`?` lists them all).
        let mut right = Vec::new();
        if let Some((file, size)) = &app.recording {
            right.push(Span::styled(" │ ● rec ", theme.error));
            right.push(Span::styled(
                format!("{file} {}", fmt_bytes(*size)),
                theme.text,
            ));
        }
        if let Some(status) = &app.status {
            right.push(Span::styled(format!(" │ {status}"), theme.text));
        }
        let groups = keys
            .into_iter()
            .map(|(key, what)| {
                vec![
                    Span::styled(format!(" {key}"), theme.accent),
                    Span::styled(format!(" {what} "), theme.muted),
                ]
            })
            .collect();
        let room = usize::from(rect.width).saturating_sub(super::text::spans_width(&right));
        spans.extend(fit_groups(groups, &Span::raw(""), room));
        spans.extend(right);
        Line::from(spans)
    };
    frame.render_widget(Paragraph::new(line), rect);
}

/// Width of the keys column of the `?` overlay: most rows' keys fit on one line; a row whose keys
/// are longer puts each further alternative on a line of its own, rather than widening the column
/// for every row.
const HELP_KEYS_WIDTH: usize = 14;

/// The keys of a row of the key table in lines of at most `width` columns, alternatives kept whole.
fn help_key_lines(groups: Vec<String>, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for group in groups {
        match lines.last_mut() {
            Some(line) if columns(line) + 2 + columns(&group) <= width => {
                line.push_str(", ");
                line.push_str(&group);
            }
            _ => lines.push(group),
        }
    }
    lines
}

/// Terminal columns `s` takes.
fn columns(s: &str) -> usize {
    Span::raw(s).width()
}

/// The parts of the screen `?` explains: the focused pane's list (or LLM view) and stats, and the
/// comparison strip under two streams; the overview's columns when it is open.
pub(crate) fn help_areas(store: &Store, app: &App, area: Rect, now_us: i64) -> Vec<Area> {
    if app.overview_open {
        return vec![Area::Overview];
    }
    let focused = store.stream(app.focus);
    let llm = focused.is_some_and(|s| app.llm_view(app.focus, s));
    let mut areas = if llm {
        vec![Area::Llm, Area::Stats]
    } else {
        vec![Area::List, Area::Stats]
    };
    let shown: Vec<&StreamState> = app.shown.iter().filter_map(|&p| store.stream(p)).collect();
    if layout(area, shown.len()).compare.is_some()
        && let [a, b] = shown.as_slice()
    {
        areas.push(
            if a.llm_figures(now_us).is_some() && b.llm_figures(now_us).is_some() {
                Area::LlmCompare
            } else {
                Area::Compare
            },
        );
    }
    areas
}

/// The `?` overlay: what every column and figure of `areas` means (from
/// [`super::glossary::FIGURES`]), then every key (from [`KEY_TABLE`]), in a centred box that
/// scrolls (`scroll` lines down) when the screen is too small for it.
pub(crate) fn draw_help(
    frame: &mut Frame<'_>,
    area: Rect,
    theme: &Theme,
    areas: &[Area],
    scroll: u16,
) {
    let lines = help_lines(
        areas,
        usize::from(area.width.saturating_sub(2)).min(110),
        theme,
    );
    let width = lines
        .iter()
        .map(Line::width)
        .max()
        .unwrap_or(0)
        .saturating_add(2)
        .min(usize::from(area.width)) as u16;
    let height = (lines.len() + 2).min(usize::from(area.height)) as u16;
    let rect = Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    );
    let more = lines.len() + 2 > usize::from(height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).scroll((scroll, 0)).block(
            Block::bordered()
                .border_style(theme.accent)
                .title(Span::styled(" what you see, and the keys ", theme.header))
                .title_bottom(
                    Line::from(Span::styled(
                        if more {
                            " ↑↓ PgUp PgDn scroll · any other key closes "
                        } else {
                            " any key closes "
                        },
                        theme.muted,
                    ))
                    .right_aligned(),
                ),
        ),
        rect,
    );
}

/// The overlay's lines in at most `width` columns: a section per area, then the keys.
fn help_lines(areas: &[Area], width: usize, theme: &Theme) -> Vec<Line<'static>> {
    let widest_group = KEY_TABLE
        .iter()
        .flat_map(KeyRow::key_groups)
        .map(|g| columns(&g))
        .max()
        .unwrap_or(0);
    let name_w = HELP_KEYS_WIDTH.max(widest_group);
    let text_w = width.saturating_sub(name_w + 1).max(20);
    let mut out = Vec::new();
    let entry = |out: &mut Vec<Line<'static>>, names: Vec<String>, text: &str| {
        let wrapped = crate::tui::llm_view::wrap(text, text_w);
        for i in 0..names.len().max(wrapped.len()) {
            let name = names.get(i).cloned().unwrap_or_default();
            let pad = name_w.saturating_sub(columns(&name));
            out.push(Line::from(vec![
                Span::styled(format!("{name}{} ", " ".repeat(pad)), theme.accent),
                Span::styled(wrapped.get(i).cloned().unwrap_or_default(), theme.text),
            ]));
        }
    };
    for &a in areas {
        out.push(Line::from(Span::styled(a.title().to_owned(), theme.header)));
        for f in glossary::of(a) {
            let names = crate::tui::llm_view::wrap(f.name, name_w);
            entry(&mut out, names, f.help);
        }
        out.push(Line::from(""));
    }
    out.push(Line::from(Span::styled("keys", theme.header)));
    for row in KEY_TABLE {
        entry(&mut out, help_key_lines(row.key_groups(), name_w), row.help);
    }
    out
}

fn draw_detail(
    frame: &mut Frame<'_>,
    rect: Rect,
    s: &StreamState,
    e: &Entry,
    scroll: u16,
    theme: &Theme,
) {
    let lines = detail_lines(s, &e.rec, theme);
    let title = Line::from(vec![
        Span::styled(
            format!(" record {} · #{} ", e.seq, s.info.index),
            theme.header,
        ),
        Span::styled(e.rec.kind.name(), kind_style(&e.rec, theme)),
        Span::raw(" "),
    ]);
    frame.render_widget(
        Paragraph::new(lines).scroll((scroll, 0)).block(
            Block::bordered()
                .border_style(theme.accent)
                .title(title)
                .title_bottom(
                    Line::from(Span::styled(" ↑↓ scroll · Esc back ", theme.muted)).right_aligned(),
                ),
        ),
        rect,
    );
}

/// Every field of a record, one per line, with the payload pretty-printed.
pub fn detail_lines(s: &StreamState, r: &Record, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = DetailLines {
        out: Vec::new(),
        theme,
    };
    lines.record_fields(s, r);
    lines.kind_fields(s, r);
    if let Some(d) = r.kind.decoded() {
        lines.decoded(s, d);
    }
    if let Some(data) = payload_of(&r.kind) {
        payload_lines(&mut lines.out, &data, theme);
    }
    let mut out = lines.out;
    out.truncate(DETAIL_MAX_LINES);
    out
}

/// The detail view's lines as they are built: one field (a name and a value) per line.
struct DetailLines<'t> {
    out: Vec<Line<'static>>,
    theme: &'t Theme,
}

impl DetailLines<'_> {
    fn field(&mut self, name: &str, value: &str) {
        self.out.push(Line::from(vec![
            Span::styled(format!("{name:>14}  "), self.theme.muted),
            Span::styled(cut(value, DETAIL_MAX_LINE_CHARS), self.theme.text),
        ]));
    }

    /// What every record can carry: time, stream, direction, sizes, gap and read count.
    fn record_fields(&mut self, s: &StreamState, r: &Record) {
        let mut ts = Vec::new();
        crate::record::time::write_rfc3339_micros(&mut ts, r.ts_us);
        self.field("time", &String::from_utf8_lossy(&ts));
        self.field(
            "stream",
            &format!("#{} {} {}", r.stream, r.proto.as_str(), s.info.display_url),
        );
        if let Some(d) = r.dir {
            self.field("dir", d.as_str());
        }
        if let Some(n) = r.wire_bytes {
            self.field("wire bytes", &n.to_string());
        }
        if let Some(n) = r.payload_bytes {
            self.field("payload bytes", &n.to_string());
        }
        if let Some(n) = r.compressed_bytes {
            self.field("compressed", &n.to_string());
        }
        if let Some(g) = r.gap_ms {
            self.field("gap", &fmt_ms(g));
        }
        if let Some(n) = r.read {
            self.field("read", &n.to_string());
        }
    }

    /// What the message's application protocol says (`--decode`): the sub-stream with its count
    /// so far, then the whole object.
    fn decoded(&mut self, s: &StreamState, d: &crate::record::decoded::Decoded) {
        if let Some(sub) = &d.substream {
            let n = s.stats.decoded.substream(sub);
            self.field("substream", &format!("{sub} ({n} messages on it so far)"));
        }
        self.out
            .push(Line::from(Span::styled("       decoded", self.theme.muted)));
        // The written order (typed keys first), which a serde_json map would sort away.
        let mut json = Vec::new();
        d.write_json(&mut json);
        let text = String::from_utf8_lossy(&json);
        self.out
            .extend(json_lines(&text, self.theme, DETAIL_MAX_LINES));
    }

    /// The fields of the record's kind (its payload comes after them).
    fn kind_fields(&mut self, s: &StreamState, r: &Record) {
        match &r.kind {
            Kind::Open { .. } => {
                // In full here (secrets masked): the pane title shortens it.
                self.field("url", &s.info.display_url);
                self.open_fields(&r.kind);
            }
            Kind::Frame(f) => self.frame_fields(f),
            Kind::Event {
                event, id, retry, ..
            } => {
                self.field("event", event);
                self.field("id", id.as_deref().unwrap_or("—"));
                if let Some(r) = retry {
                    self.field("retry", &format!("{r} ms"));
                }
            }
            Kind::Comment { .. } | Kind::Ping { .. } => {}
            Kind::Message {
                opcode,
                frames,
                compressed,
                ..
            } => {
                self.field("opcode", opcode.as_str());
                self.field("frames", &frames.to_string());
                self.field("compressed", &compressed.to_string());
            }
            Kind::Pong { rtt_ms, .. } => {
                if let Some(rtt) = rtt_ms {
                    self.field("rtt", &fmt_ms(*rtt));
                }
            }
            Kind::Close { code, reason, by } => {
                self.field("code", &code.map_or("none".into(), close_code));
                self.field("reason", reason);
                self.field("by", by.as_str());
            }
            Kind::Reconnect {
                attempt,
                delay_ms,
                last_event_id,
                reason,
                retry_ms,
            } => {
                self.field("attempt", &attempt.to_string());
                self.field("delay", &fmt_ms(*delay_ms as f64));
                if let Some(r) = retry_ms {
                    self.field("retry honoured", &fmt_ms(*r as f64));
                }
                self.field("last event id", last_event_id.as_deref().unwrap_or("—"));
                self.field("reason", reason);
            }
            Kind::Gap {
                gap_ms,
                threshold_ms,
            } => {
                self.field("silent for", &fmt_ms(*gap_ms));
                self.field("threshold", &fmt_ms(*threshold_ms));
            }
            Kind::Error {
                message,
                status,
                close_code: code,
            } => {
                self.field("message", message);
                if let Some(s) = status {
                    self.field("status", &s.to_string());
                }
                if let Some(c) = code {
                    self.field("close code", &close_code(*c));
                }
            }
            Kind::End { reason, failed } => {
                self.field("reason", reason);
                self.field("failed", &failed.to_string());
            }
            Kind::IdGap {
                expected,
                got,
                missing,
                repeated,
                count,
            } => {
                self.field("expected", &expected.to_string());
                self.field("got", &got.to_string());
                self.field("missing", &missing.to_string());
                self.field("repeated", &repeated.to_string());
                self.field("breaks so far", &count.to_string());
            }
            Kind::Lint { rule, message } => {
                self.field("rule", rule);
                self.field("message", message);
            }
            Kind::Match { .. } | Kind::MatchSummary(_) => self.field("pairing", &preview(r)),
            Kind::LlmSummary(s) => self.llm_fields(s),
        }
    }

    /// An `llm_summary`'s figures (its answer text comes after them, as the payload).
    fn llm_fields(&mut self, s: &LlmSummary) {
        let ms = |v: Option<f64>| v.map_or("—".to_owned(), fmt_ms);
        self.field("format", &s.format);
        self.field("model", s.model.as_deref().unwrap_or("—"));
        self.field(
            "complete",
            if s.complete {
                "yes"
            } else {
                "no: ended before its end marker"
            },
        );
        self.field("finish reason", s.finish_reason.as_deref().unwrap_or("—"));
        self.field("ttft", &ms(s.ttft_ms));
        self.field("2nd token", &ms(s.ttst_ms));
        self.field(
            "itl",
            &format!(
                "p50 {} · p95 {} · p99 {} · max {}",
                ms(s.itl_p50_ms),
                ms(s.itl_p95_ms),
                ms(s.itl_p99_ms),
                ms(s.itl_max_ms)
            ),
        );
        self.field("tpot", &ms(s.tpot_ms));
        self.field(
            "tokens/s",
            &s.tokens_per_s.map_or("—".to_owned(), |t| format!("{t:.1}")),
        );
        if let Some(t) = s.server_tokens_per_s {
            self.field("server tok/s", &format!("{t:.1}"));
        }
        self.field(
            "output tokens",
            &format!("{} ({})", s.output_tokens, s.tokens_source.as_str()),
        );
        self.field(
            "input tokens",
            &s.input_tokens.map_or("—".to_owned(), |n| n.to_string()),
        );
        self.field(
            "chunks",
            &format!(
                "{} with output · {} reasoning · {} tool call",
                s.chunks, s.reasoning_chunks, s.tool_chunks
            ),
        );
        self.field("total", &fmt_ms(s.total_ms));
        self.field(
            "stalls",
            &format!("{} over {}", s.stalls, fmt_ms(s.stall_threshold_ms)),
        );
        self.field("errors", &s.errors.to_string());
        if let Some(e) = &s.error {
            self.field("first error", e);
        }
    }

    /// An HTTP/2 frame's header and what its payload says.
    fn frame_fields(&mut self, f: &crate::record::H2Frame) {
        self.field("frame", &f.frame);
        self.field("h2 stream", &f.h2_stream.to_string());
        self.field("flags", &format!("0x{:02x}", f.flags));
        self.field("connection", &format!("#{}", f.connection));
        self.field("detail", &f.detail);
        if let Some(rtt) = f.rtt_ms {
            self.field("rtt", &fmt_ms(rtt));
        }
    }

    /// HTTP version, connection and TLS facts of an `open` record.
    fn conn_fields(&mut self, c: &crate::record::ConnFacts) {
        self.field("http", &c.http);
        if let Some(id) = c.connection {
            let shared = if c.shared { " (shared)" } else { "" };
            self.field("connection", &format!("#{id}{shared}"));
        }
        let Some(t) = &c.tls else { return };
        self.field("tls", &format!("{} · {}", t.version, t.cipher));
        self.field("alpn", t.alpn.as_deref().unwrap_or("none"));
        self.field("cert subject", &t.cert_subject);
        self.field("cert issuer", &t.cert_issuer);
        self.field("cert names", &t.cert_names);
        if let Some(days) = t.cert_days_left {
            let until = t.cert_not_after_us.map(clock_date).unwrap_or_default();
            self.field("cert expires", &format!("{until} ({days} days left)"));
        }
    }

    /// An `open`: how the connection was made (HTTP version, TLS), status, handshake, what was
    /// offered to compress and agreed, the response's headers, then the request as sent.
    fn open_fields(&mut self, kind: &Kind) {
        let Kind::Open {
            status,
            headers,
            handshake_ms,
            conn,
            compression_offered,
            compression,
            request,
        } = kind
        else {
            return;
        };
        if let Some(c) = conn {
            self.conn_fields(c);
        }
        self.field("status", &status.to_string());
        self.field("handshake", &fmt_ms(*handshake_ms));
        if let Some(offered) = compression_offered {
            self.field("offered", offered);
            self.field("agreed", compression.as_deref().unwrap_or("none"));
        } else if let Some(agreed) = compression {
            self.field("agreed", agreed);
        }
        self.open_headers("headers", headers);
        if let Some(r) = request {
            self.field("request", &r.method);
            self.open_headers("sent headers", &r.headers);
        }
    }

    fn open_headers(&mut self, title: &str, headers: &[(String, String)]) {
        self.out.push(Line::from(Span::styled(
            format!("{title:>14}"),
            self.theme.muted,
        )));
        for (k, v) in headers {
            self.out.push(Line::from(vec![
                Span::raw("    "),
                Span::styled(format!("{k}: "), self.theme.json_key),
                Span::styled(cut(v, DETAIL_MAX_LINE_CHARS), self.theme.text),
            ]));
        }
    }
}

/// The payload shown under a record's fields, for the kinds that carry one.
fn payload_of(kind: &Kind) -> Option<Cow<'_, Payload>> {
    match kind {
        Kind::Event { data: text, .. } | Kind::Comment { text } => {
            Some(Cow::Owned(Payload::Text(text.clone())))
        }
        Kind::Message { data, .. } => Some(Cow::Borrowed(data)),
        Kind::Ping { data } | Kind::Pong { data, .. } => Some(control_payload(data)),
        Kind::LlmSummary(s) => Some(Cow::Owned(Payload::Text(s.text.as_str().into()))),
        Kind::Open { .. }
        | Kind::Frame(_)
        | Kind::Close { .. }
        | Kind::Reconnect { .. }
        | Kind::Gap { .. }
        | Kind::Error { .. }
        | Kind::End { .. }
        | Kind::IdGap { .. }
        | Kind::Lint { .. }
        | Kind::Match { .. }
        | Kind::MatchSummary(_) => None,
    }
}

/// A ping's or pong's payload as it is best read: as hex when it is not printable text (a counter
/// or a timestamp in binary is valid UTF-8 made of control characters, which would read `····`).
fn control_payload(data: &Payload) -> Cow<'_, Payload> {
    match data {
        Payload::Text(t) if t.chars().any(char::is_control) => {
            Cow::Owned(Payload::Binary(bytes::Bytes::copy_from_slice(t.as_bytes())))
        }
        _ => Cow::Borrowed(data),
    }
}

/// A WebSocket close code with what it means: `1001 (going away)`.
fn close_code(code: u16) -> String {
    format!("{code} ({})", close_code_meaning(code))
}

fn payload_lines(out: &mut Vec<Line<'static>>, data: &Payload, theme: &Theme) {
    out.push(Line::from(Span::styled("          data", theme.muted)));
    match data {
        Payload::Text(t) if is_json_container(t) => {
            out.extend(json_lines(t, theme, DETAIL_MAX_LINES));
        }
        Payload::Text(t) => out.extend(
            t.lines()
                .take(DETAIL_MAX_LINES)
                .map(|l| Line::from(Span::styled(cut(l, DETAIL_MAX_LINE_CHARS), theme.text))),
        ),
        Payload::Binary(b) => out.extend(hex_lines(b, theme)),
    }
}

/// Valid JSON whose top level is an object or array (worth pretty-printing).
fn is_json_container(t: &str) -> bool {
    matches!(t.trim_start().as_bytes().first(), Some(b'{' | b'['))
        && serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok()
}

/// Pretty-prints valid JSON text (two-space indent) as coloured lines, at most `max` of them.
///
/// It walks the text rather than a parsed `serde_json::Value` so object keys keep the order the
/// server sent them in (a `Value` map is sorted) and numbers keep their exact spelling. The caller
/// has checked validity with `serde_json`, so the walk can be simple.
pub fn json_lines(text: &str, theme: &Theme, max: usize) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut cur: Vec<Span<'static>> = Vec::new();
    let mut depth = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0;
    let next_non_ws = |from: usize| {
        bytes[from.min(bytes.len())..]
            .iter()
            .copied()
            .find(|b| !b.is_ascii_whitespace())
    };
    let newline = |lines: &mut Vec<Line<'static>>, cur: &mut Vec<Span<'static>>, depth: usize| {
        lines.push(Line::from(std::mem::take(cur)));
        if depth > 0 {
            cur.push(Span::raw("  ".repeat(depth)));
        }
    };
    while i < bytes.len() && lines.len() < max {
        let b = bytes[i];
        match b {
            b'{' | b'[' => {
                let close = if b == b'{' { b'}' } else { b']' };
                if next_non_ws(i + 1) == Some(close) {
                    cur.push(Span::styled(
                        if b == b'{' { "{}" } else { "[]" },
                        theme.text,
                    ));
                    // Skip to the matching close.
                    i += 1;
                    while i < bytes.len() && bytes[i] != close {
                        i += 1;
                    }
                } else {
                    cur.push(Span::styled((b as char).to_string(), theme.text));
                    depth += 1;
                    newline(&mut lines, &mut cur, depth);
                }
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                newline(&mut lines, &mut cur, depth);
                cur.push(Span::styled((b as char).to_string(), theme.text));
                i += 1;
            }
            b',' => {
                cur.push(Span::styled(",", theme.text));
                newline(&mut lines, &mut cur, depth);
                i += 1;
            }
            b':' => {
                cur.push(Span::styled(": ", theme.text));
                i += 1;
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                let s = text.get(start..i).unwrap_or_default();
                let style = if next_non_ws(i) == Some(b':') {
                    theme.json_key
                } else {
                    theme.json_string
                };
                cur.push(Span::styled(cut(s, DETAIL_MAX_LINE_CHARS), style));
            }
            b if b.is_ascii_whitespace() => i += 1,
            _ => {
                // A number or a literal: everything up to the next delimiter.
                let start = i;
                while i < bytes.len() && !b",]} \t\r\n".contains(&bytes[i]) {
                    i += 1;
                }
                let token = text.get(start..i).unwrap_or_default();
                let style = if matches!(token, "true" | "false" | "null") {
                    theme.json_literal
                } else {
                    theme.json_number
                };
                cur.push(Span::styled(token.to_owned(), style));
            }
        }
    }
    if !cur.is_empty() && lines.len() < max {
        lines.push(Line::from(cur));
    }
    lines
}

/// Classic hex dump: offset, 16 bytes in hex, the same bytes as ASCII (`.` for the rest).
pub fn hex_lines(bytes: &[u8], theme: &Theme) -> Vec<Line<'static>> {
    let shown = &bytes[..bytes.len().min(HEX_MAX_BYTES)];
    let mut out: Vec<Line<'static>> = shown
        .chunks(16)
        .enumerate()
        .map(|(i, chunk)| {
            let mut hex = String::with_capacity(50);
            for (j, b) in chunk.iter().enumerate() {
                if j == 8 {
                    hex.push(' ');
                }
                let _ = write!(hex, "{b:02x} ");
            }
            let ascii: String = chunk
                .iter()
                .map(|&b| {
                    if b.is_ascii_graphic() || b == b' ' {
                        b as char
                    } else {
                        '.'
                    }
                })
                .collect();
            Line::from(vec![
                Span::styled(format!("{:08x}  ", i * 16), theme.muted),
                Span::styled(format!("{hex:<49}"), theme.text),
                Span::styled(format!(" |{ascii}|"), theme.json_string),
            ])
        })
        .collect();
    if bytes.len() > shown.len() {
        out.push(Line::from(Span::styled(
            format!("… {} more bytes", bytes.len() - shown.len()),
            theme.muted,
        )));
    }
    out
}

fn centered(area: Rect, pct_w: u16, pct_h: u16) -> Rect {
    let w = area.width * pct_w / 100;
    let h = area.height * pct_h / 100;
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

pub(crate) fn proto_style(proto: Proto, theme: &Theme) -> Style {
    match proto {
        Proto::Sse | Proto::Jsonl => theme.sse,
        Proto::Ws => theme.ws,
    }
}

fn kind_style(r: &Record, theme: &Theme) -> Style {
    if r.dir == Some(Dir::Out) {
        return theme.out;
    }
    match &r.kind {
        Kind::Event { .. } => theme.sse,
        Kind::Message { .. } => theme.ws,
        Kind::Comment { .. } | Kind::Ping { .. } | Kind::Pong { .. } | Kind::Frame(_) => theme.ping,
        Kind::Open { .. } => theme.ok,
        Kind::Gap { .. } => theme.gap,
        // A normal close, a lint: worth noticing, not alarming.
        Kind::Lint { .. }
        | Kind::Reconnect { .. }
        | Kind::Close {
            code: Some(1000 | 1001) | None,
            ..
        } => theme.warn,
        Kind::Close { .. }
        | Kind::Error { .. }
        | Kind::IdGap { .. }
        | Kind::End { failed: true, .. } => theme.error,
        Kind::End { .. } | Kind::Match { .. } | Kind::MatchSummary(_) => theme.muted,
        Kind::LlmSummary(s) if s.complete => theme.ok,
        Kind::LlmSummary(_) => theme.warn,
    }
}

/// The header's connection state.
fn state_line(state: &ConnState, now_us: i64, theme: &Theme) -> (String, Style) {
    match state {
        ConnState::Connecting => ("CONNECTING…".into(), theme.warn),
        ConnState::Open { since_us, status } => (
            format!("OPEN since {} · {status}", clock(*since_us)),
            theme.ok,
        ),
        ConnState::Reconnecting {
            at_us,
            attempt,
            reason,
        } => {
            let wait = if *at_us > now_us {
                format!("in {}", fmt_ms((*at_us - now_us) as f64 / 1000.0))
            } else {
                "now".into()
            };
            (
                format!("RECONNECTING {wait} · attempt {attempt} · {reason}"),
                theme.warn,
            )
        }
        ConnState::Closed { code, by, reason } => {
            let code_txt = code.map_or("no code".into(), |c| {
                format!("{c} {}", close_code_meaning(c))
            });
            let style = if matches!(code, Some(1000 | 1001) | None) {
                theme.warn
            } else {
                theme.error
            };
            let reason = if reason.is_empty() {
                String::new()
            } else {
                format!(" · {reason}")
            };
            (
                format!("CLOSED {code_txt} by {}{reason}", by.as_str()),
                style,
            )
        }
        ConnState::Failed { reason } => (format!("FAILED: {reason}"), theme.error),
        ConnState::Ended { reason } => (format!("ENDED: {reason}"), theme.muted),
    }
}

/// A message's line in the list: its frame count when it took several, what `--decode` made of
/// it, and its payload.
fn message_preview(
    data: &Payload,
    frames: u32,
    decoded: Option<&crate::record::decoded::Decoded>,
) -> String {
    let frames = if frames > 1 {
        format!("[{frames} frames] ")
    } else {
        String::new()
    };
    match decoded {
        // A binary format reads better as its JSON than as hex.
        Some(d) if d.fields.contains_key("value") => {
            let value = serde_json::to_string(&d.fields["value"]).unwrap_or_default();
            format!("{frames}[{} {}] {}", d.protocol, d.kind, one_line(&value))
        }
        Some(d) => format!("{frames}[{}] {}", d.summary(), payload_preview(data)),
        None => format!("{frames}{}", payload_preview(data)),
    }
}

/// A `frame` record in the list: `PING #1/0 ACK 3b7c… rtt 0.91 ms`.
fn frame_line(f: &crate::record::H2Frame) -> String {
    let mut s = format!("{} #{}/{}", f.frame, f.connection, f.h2_stream);
    if !f.detail.is_empty() {
        let _ = write!(s, " {}", one_line(&f.detail));
    }
    if let Some(rtt) = f.rtt_ms {
        let _ = write!(s, " rtt {}", fmt_ms(rtt));
    }
    s
}

/// A one-line summary of a record for the list.
pub fn preview(r: &Record) -> String {
    match &r.kind {
        Kind::Open {
            status,
            handshake_ms,
            ..
        } => format!("{status} in {}", fmt_ms(*handshake_ms)),
        Kind::Event {
            event, data, id, ..
        } => event_preview(event, data, id.as_deref()),
        Kind::Comment { text } => format!(": {}", one_line(text)),
        Kind::Message {
            data,
            frames,
            decoded,
            ..
        } => message_preview(data, *frames, decoded.as_deref()),
        Kind::Ping { data } => payload_preview(&control_payload(data)),
        Kind::Pong { data, rtt_ms } => match rtt_ms {
            Some(rtt) => format!(
                "rtt {} {}",
                fmt_ms(*rtt),
                payload_preview(&control_payload(data))
            ),
            None => payload_preview(&control_payload(data)),
        },
        Kind::Close { code, reason, by } => format!(
            "{} by {}{}",
            code.map_or("no code".into(), |c| format!(
                "{c} {}",
                close_code_meaning(c)
            )),
            by.as_str(),
            if reason.is_empty() {
                String::new()
            } else {
                format!(": {}", one_line(reason))
            }
        ),
        Kind::Reconnect {
            attempt,
            delay_ms,
            reason,
            ..
        } => format!(
            "attempt {attempt} in {}: {}",
            fmt_ms(*delay_ms as f64),
            one_line(reason)
        ),
        Kind::Gap {
            gap_ms,
            threshold_ms,
        } => format!(
            "silent {} (threshold {})",
            fmt_ms(*gap_ms),
            fmt_ms(*threshold_ms)
        ),
        Kind::Error {
            message, status, ..
        } => match status {
            Some(s) if !message.contains(&s.to_string()) => {
                format!("HTTP {s}: {}", one_line(message))
            }
            _ => one_line(message),
        },
        Kind::End { reason, failed } if *failed && reason != "failed" => {
            format!("failed: {reason}")
        }
        Kind::End { reason, .. } => reason.clone(),
        Kind::IdGap {
            expected,
            got,
            missing,
            repeated,
            ..
        } => {
            if *missing > 0 {
                format!("{missing} missing: expected {expected}, got {got}")
            } else {
                format!("{repeated} repeated: expected {expected}, got {got}")
            }
        }
        Kind::Lint { rule, message } => format!("⚠ {rule}: {}", one_line(message)),
        Kind::Match {
            key,
            first: Some(f),
            lead_ms,
        } => format!("{} · #{f} first by {}", one_line(key), fmt_ms(*lead_ms)),
        Kind::Match { key, .. } => format!("{} · tie", one_line(key)),
        Kind::MatchSummary(m) => format!(
            "{} pairs · won {}/{} · unmatched {}/{}",
            m.pairs, m.won[0], m.won[1], m.unmatched[0], m.unmatched[1]
        ),
        Kind::Frame(f) => frame_line(f),
        Kind::LlmSummary(s) => llm_summary_line(s),
    }
}

/// An event's row: its id first (what a reconnect resumes from), its type unless `message`.
fn event_preview(event: &str, data: &str, id: Option<&str>) -> String {
    let id = id.map_or(String::new(), |id| format!("[{}] ", one_line(id)));
    if event == "message" {
        format!("{id}{}", one_line(data))
    } else {
        format!("{id}{event}: {}", one_line(data))
    }
}

/// An `llm_summary` in one line: format and model, how it ended, the timings, the tokens.
pub fn llm_summary_line(s: &LlmSummary) -> String {
    let ms = |v: Option<f64>| v.map_or("—".to_owned(), fmt_ms);
    let mut line = s.format.clone();
    if let Some(m) = &s.model {
        line.push(' ');
        line.push_str(m);
    }
    let state = if s.complete { "complete" } else { "incomplete" };
    let _ = write!(
        line,
        " · {state} {} · ttft {} · itl p50 {} p99 {} · {} tok/s · {} tokens ({})",
        s.finish_reason.as_deref().unwrap_or("—"),
        ms(s.ttft_ms),
        ms(s.itl_p50_ms),
        ms(s.itl_p99_ms),
        s.tokens_per_s.map_or("—".to_owned(), |t| format!("{t:.1}")),
        s.output_tokens,
        s.tokens_source.as_str(),
    );
    if s.stalls > 0 {
        let _ = write!(line, " · {} stalls", s.stalls);
    }
    if s.errors > 0 {
        let _ = write!(line, " · {} errors", s.errors);
    }
    line
}

/// Previews only look at the start of a payload: no more is ever visible in one row.
const PREVIEW_SCAN: usize = 512;

fn payload_preview(p: &Payload) -> String {
    match p {
        Payload::Text(t) => one_line(t),
        Payload::Binary(b) => {
            let mut s = format!("<{} bytes> ", b.len());
            for byte in b.iter().take(PREVIEW_SCAN / 3) {
                let _ = write!(s, "{byte:02x} ");
            }
            s
        }
    }
}

/// The start of a text with line breaks and control characters made visible on one line.
fn one_line(s: &str) -> String {
    s.chars()
        .take(PREVIEW_SCAN)
        .map(|c| match c {
            '\n' => '⏎',
            c if c.is_control() => '·',
            c => c,
        })
        .collect()
}

/// The UTC date (`2026-12-01`) of a timestamp.
fn clock_date(ts_us: i64) -> String {
    let mut b = Vec::with_capacity(32);
    crate::record::time::write_rfc3339_micros(&mut b, ts_us);
    String::from_utf8_lossy(b.get(..10).unwrap_or(&b)).into_owned()
}

/// `HH:MM:SS.mmm` in UTC (no time zone database; the detail view shows the full RFC 3339 time).
pub fn clock(ts_us: i64) -> String {
    let ms_of_day = ts_us.div_euclid(1000).rem_euclid(86_400_000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms_of_day / 3_600_000,
        ms_of_day / 60_000 % 60,
        ms_of_day / 1000 % 60,
        ms_of_day % 1000
    )
}

/// Bytes with binary units.
pub fn fmt_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// Sizes for a six-column cell.
fn compact(n: u64) -> String {
    match n {
        0..=99_999 => n.to_string(),
        100_000..=9_999_999 => format!("{}K", n / 1000),
        _ => format!("{}M", n / 1_000_000),
    }
}
