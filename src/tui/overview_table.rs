//! Drawing the overview: one row per stream, built only for the rows on screen (a hundred streams
//! cost what the twenty visible ones do, plus the sort), a pure function of the store, the view
//! state and the data time like [`super::render`].
//!
//! ```text
//! ┌ 20 streams · by gap p99, worst first ────────────────────────────────────────────────────────────┐
//! │    #  stream            proto  state             rec/s    last  gap p99  reconn id gaps lints  wire │
//! │ ›  3  prices-eu         sse    OPEN 200           12.0   80 ms   310 ms       0       0     0  1 MiB │
//! │ ★  7  prices-us         ws     RECONNECTING 2 s    0.0    4.1 s       —       3       1     0 12 KiB │
//! └──────────────────────────────────────────────────────────────────────────────────────────────┘
//!  q quit  ↑↓ select  Enter open  <> sort  i reverse  m mark  o panes  ? help
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table};

use crate::record::kinds::KindTag;
use crate::store::{ConnState, Store, StreamState};

use super::overview::{Overview, SortKey};
use super::render::{cut, fmt_bytes, fmt_ms};
use super::theme::Theme;
use super::view::App;

/// Rows of streams the overview shows on a screen of this size (borders, header and footer
/// take four lines).
pub fn table_rows(area: Rect) -> usize {
    usize::from(area.height.saturating_sub(4))
}

/// Draws the overview screen: the table, the footer, the help overlay when open.
pub fn draw(frame: &mut Frame<'_>, store: &Store, app: &App, theme: &Theme, now_us: i64) {
    let [body, footer] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(frame.area());
    draw_table(frame, body, store, &app.overview, theme, now_us);
    super::render::draw_footer(frame, footer, app, theme, false);
    if app.help {
        super::render::draw_help(
            frame,
            frame.area(),
            theme,
            &[super::glossary::Area::Overview],
            app.help_scroll,
        );
    }
}

/// The table of streams in `rect`.
pub fn draw_table(
    frame: &mut Frame<'_>,
    rect: Rect,
    store: &Store,
    ov: &Overview,
    theme: &Theme,
    now_us: i64,
) {
    // Each column sorts the worst first (the first one in stream order); `i` reverses.
    let order = match (ov.sort, ov.reversed) {
        (SortKey::Index, false) => "stream order".to_owned(),
        (SortKey::Index, true) => "stream order, reversed".to_owned(),
        (key, false) => format!("{}, worst first", key.name()),
        (key, true) => format!("{}, reversed", key.name()),
    };
    let title = Line::from(vec![
        Span::styled(format!(" {} streams", store.streams().len()), theme.header),
        Span::styled(format!(" · by {order} "), theme.muted),
    ]);
    let block = Block::bordered().border_style(theme.border).title(title);
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let visible = usize::from(inner.height.saturating_sub(1));
    let name_w = usize::from(inner.width.saturating_sub(FIXED_WIDTH)).max(8);
    let rows = ov
        .order
        .iter()
        .skip(ov.top)
        .take(visible)
        .filter_map(|&pos| store.stream(pos).map(|s| (pos, s)))
        .map(|(pos, s)| {
            let row = stream_row(s, pos, ov, theme, now_us, name_w);
            if pos == ov.selected {
                row.style(theme.selected)
            } else {
                row
            }
        });
    let sorted = |key: SortKey| {
        if key == ov.sort {
            theme.accent
        } else {
            theme.muted
        }
    };
    let head = |text: &str, key: SortKey| Line::from(Span::styled(text.to_owned(), sorted(key)));
    let header = Row::new(vec![
        Line::from(""),
        head("#", SortKey::Index).right_aligned(),
        Line::from(Span::styled("stream", theme.muted)),
        Line::from(Span::styled("proto", theme.muted)),
        head("state", SortKey::State),
        head("rec/s", SortKey::Rate).right_aligned(),
        head("last", SortKey::Age).right_aligned(),
        head("gap p99", SortKey::GapP99).right_aligned(),
        head("reconn", SortKey::Reconnects).right_aligned(),
        head("id gaps", SortKey::IdGaps).right_aligned(),
        head("lints", SortKey::Lints).right_aligned(),
        head("wire", SortKey::Bytes).right_aligned(),
    ]);
    let table = Table::new(rows, widths(name_w))
        .header(header)
        .column_spacing(1);
    frame.render_widget(table, inner);
    if store.streams().len() > visible && visible > 0 {
        let more = format!(
            " rows {}–{} of {} ",
            ov.top + 1,
            (ov.top + visible).min(store.streams().len()),
            store.streams().len()
        );
        let y = rect.bottom().saturating_sub(1);
        let w = more.chars().count() as u16;
        let x = rect.right().saturating_sub(w + 2);
        frame.render_widget(
            Paragraph::new(Span::styled(more, theme.muted)),
            Rect::new(x, y, w.min(rect.width), 1),
        );
    }
}

/// Widths of the columns other than the stream's name: marker, #, proto, state, rec/s, last,
/// gap p99, reconn, id gaps, lints, wire.
const WIDTHS: [u16; 11] = [1, 3, 5, 18, 7, 7, 8, 6, 7, 5, 9];
/// What the fixed columns and the spaces between the twelve columns take.
const FIXED_WIDTH: u16 = 1 + 3 + 5 + 18 + 7 + 7 + 8 + 6 + 7 + 5 + 9 + 11;

fn widths(name_w: usize) -> Vec<Constraint> {
    let [
        mark,
        index,
        proto,
        state,
        rate,
        last,
        gap,
        reconn,
        idgaps,
        lints,
        wire,
    ] = WIDTHS;
    [mark, index]
        .into_iter()
        .map(Constraint::Length)
        .chain([Constraint::Length(name_w as u16)])
        .chain([proto, state, rate, last, gap, reconn, idgaps, lints, wire].map(Constraint::Length))
        .collect()
}

fn stream_row(
    s: &StreamState,
    pos: usize,
    ov: &Overview,
    theme: &Theme,
    now_us: i64,
    name_w: usize,
) -> Row<'static> {
    let st = &s.stats;
    let marker = if ov.marked == Some(pos) {
        Span::styled("★", theme.accent)
    } else if pos == ov.selected {
        Span::styled("›", theme.accent)
    } else {
        Span::raw(" ")
    };
    let name = s.info.name.as_deref().unwrap_or(&s.info.display_url);
    let (state, state_style) = short_state(&s.state, now_us, theme);
    let count = |n: u64, warn: Style| {
        let style = if n > 0 { warn } else { theme.muted };
        Line::from(Span::styled(n.to_string(), style)).right_aligned()
    };
    let last = st.last_ts_us.map_or("—".to_owned(), |t| {
        fmt_ms((now_us - t).max(0) as f64 / 1000.0)
    });
    let gap = st.gap_ms_at(0.99).map_or("—".to_owned(), fmt_ms);
    let gap_style = match (st.gap_ms_at(0.99), s.info.heartbeat_ms) {
        (Some(g), Some(t)) if g > t as f64 => theme.gap,
        _ => theme.text,
    };
    Row::new(vec![
        Line::from(marker),
        Line::from(Span::styled(s.info.index.to_string(), theme.muted)).right_aligned(),
        Line::from(cut(name, name_w)),
        Line::from(Span::styled(
            s.info.proto.as_str(),
            super::render::proto_style(s.info.proto, theme),
        )),
        Line::from(Span::styled(cut(&state, 18), state_style)),
        Line::from(format!("{:.1}", st.rate_per_sec(now_us))).right_aligned(),
        Line::from(last).right_aligned(),
        Line::from(Span::styled(gap, gap_style)).right_aligned(),
        count(st.reconnects, theme.warn),
        count(st.by_kind[KindTag::IdGap as usize], theme.error),
        count(st.by_kind[KindTag::Lint as usize], theme.warn),
        Line::from(fmt_bytes(st.wire_bytes)).right_aligned(),
    ])
}

/// The state in a few words for a table cell.
fn short_state(state: &ConnState, now_us: i64, theme: &Theme) -> (String, Style) {
    match state {
        ConnState::Connecting => ("CONNECTING".into(), theme.warn),
        ConnState::Open { status, .. } => (format!("OPEN {status}"), theme.ok),
        ConnState::Reconnecting { at_us, .. } => {
            let wait = if *at_us > now_us {
                fmt_ms((*at_us - now_us) as f64 / 1000.0)
            } else {
                "now".into()
            };
            (format!("RECONNECT {wait}"), theme.warn)
        }
        ConnState::Closed { code, .. } => (
            format!("CLOSED {}", code.map_or("—".into(), |c| c.to_string())),
            if matches!(code, Some(1000 | 1001) | None) {
                theme.warn
            } else {
                theme.error
            },
        ),
        ConnState::Failed { .. } => ("FAILED".into(), theme.error),
        ConnState::Ended { .. } => ("ENDED".into(), theme.muted),
    }
}

#[cfg(test)]
mod tests {
    use ratatui::Terminal;
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::record::{Kind, Proto, Side};
    use crate::testkit::{event, info, rec, text};
    use crate::tui::keymap::Action;

    /// 2025-11-25T12:00:00Z.
    const T0: i64 = 1_764_072_000_000_000;

    /// `n` streams, every fifth a WebSocket, named like a sharded feed, in a spread of states:
    /// open and busy, reconnecting, closed, failed, with gaps, sequence gaps and lints.
    fn store(n: usize) -> Store {
        let infos = (0..n)
            .map(|i| {
                let proto = if i % 5 == 4 { Proto::Ws } else { Proto::Sse };
                let mut s = info(i, proto);
                s.name = (i % 7 != 6).then(|| format!("shard-{i:03}"));
                s.heartbeat_ms = Some(1000);
                s
            })
            .collect();
        let mut store = Store::new(infos, 100);
        for i in 0..n {
            let proto = store.streams()[i].info.proto;
            let j = i64::try_from(i).expect("small");
            let ms = |t: i64| T0 + t * 1000;
            store.apply(
                rec(
                    ms(0),
                    Kind::open(if proto == Proto::Ws { 101 } else { 200 }, vec![], 20.0),
                )
                .on(i)
                .proto(proto),
            );
            let every = 50 + (j % 9) * 40;
            for k in 1..=(20 + j % 13) {
                let gap = if k == 7 && i % 3 == 0 {
                    1_500.0
                } else {
                    every as f64
                };
                let r = if proto == Proto::Ws {
                    text(ms(k * every), "{\"seq\":1}")
                } else {
                    event(ms(k * every), "{\"seq\":1}")
                };
                store.apply(r.on(i).proto(proto).traffic(40 + i as u64, 10, gap));
            }
            let end = ms(2_000);
            let tail = match i % 6 {
                1 => Some(Kind::Reconnect {
                    attempt: 2,
                    delay_ms: 3_000,
                    last_event_id: None,
                    reason: "server closed the stream".into(),
                    retry_ms: None,
                }),
                3 => Some(Kind::IdGap {
                    expected: 5,
                    got: 9,
                    missing: 4,
                    repeated: 0,
                    count: 1,
                }),
                4 => Some(Kind::Close {
                    code: Some(1011),
                    reason: "boom".into(),
                    by: Side::Server,
                }),
                5 => Some(Kind::Lint {
                    rule: "buffered-burst".into(),
                    message: "x".into(),
                }),
                _ => None,
            };
            if let Some(kind) = tail {
                store.apply(rec(end, kind).on(i).proto(proto));
            }
            if i % 10 == 8 {
                store.apply(
                    rec(
                        end,
                        Kind::End {
                            reason: "failed".into(),
                            failed: true,
                        },
                    )
                    .on(i)
                    .proto(proto),
                );
            }
        }
        store
    }

    fn screen(store: &Store, app: &mut App, w: u16, h: u16) -> String {
        let now = T0 + 15_000_000;
        app.overview.page_rows = table_rows(Rect::new(0, 0, w, h));
        app.overview.sync(store, now);
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("backend");
        terminal
            .draw(|f| crate::tui::draw(f, store, app, &Theme::default(), now))
            .expect("draw");
        terminal.backend().to_string()
    }

    #[test]
    fn three_streams() {
        let store = store(3);
        let mut app = App::new(3);
        assert!(
            app.overview_open,
            "more than two streams open on the overview"
        );
        insta::assert_snapshot!(screen(&store, &mut app, 140, 12));
    }

    #[test]
    fn twenty_streams_sorted_by_gap_p99() {
        let store = store(20);
        let mut app = App::new(20);
        for _ in 0..4 {
            app.handle(&Action::SortNext, &store);
        }
        app.handle(&Action::Move(3), &store);
        insta::assert_snapshot!(screen(&store, &mut app, 140, 28));
    }

    #[test]
    fn hundred_streams_scrolled_with_a_mark() {
        let store = store(100);
        let mut app = App::new(100);
        screen(&store, &mut app, 140, 30);
        app.handle(&Action::Move(2), &store);
        app.handle(&Action::Mark, &store);
        app.handle(&Action::PageDown, &store);
        app.handle(&Action::PageDown, &store);
        app.handle(&Action::PageDown, &store);
        let s = screen(&store, &mut app, 140, 30);
        assert!(s.contains("rows 56–81 of 100"), "{s}");
        insta::assert_snapshot!(s);
    }

    #[test]
    fn enter_drills_down_and_escape_comes_back() {
        let store = store(5);
        let mut app = App::new(5);
        screen(&store, &mut app, 140, 40);
        app.handle(&Action::Move(2), &store);
        app.handle(&Action::OpenDetail, &store);
        assert!(!app.overview_open);
        assert_eq!(app.shown, [2, 3]);
        assert_eq!(app.focus, 2);
        let panes = screen(&store, &mut app, 140, 40);
        assert!(
            panes.contains("#2 shard-002") && panes.contains("#3 shard-003"),
            "{panes}"
        );
        assert!(panes.contains("Δ #3−#2"), "{panes}");
        app.handle(&Action::FocusNext, &store);
        assert_eq!(app.focus, 3);
        app.handle(&Action::Back, &store);
        assert!(app.overview_open);
        assert_eq!(
            app.overview.selected, 3,
            "back on the stream that had the focus"
        );
        // The one compared last is offered again.
        app.handle(&Action::Move(-3), &store);
        app.handle(&Action::OpenDetail, &store);
        assert_eq!(app.shown, [0, 3]);
    }
}
