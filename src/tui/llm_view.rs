//! The LLM view of a pane whose stream is an LLM completion, drawn in place of the record list
//! (`l` switches back and forth):
//!
//! ```text
//! │ You asked: "hello there". Streamscope measures what │ openai · gpt-4o-mini        │
//! │ crosses the wire: every chunk of this mock answer   │ ✓ complete · stop           │
//! │ arrives on its own schedule, so the time to first   │ ttft       312 ms           │
//! │ token…                                              │ 2nd token  21.3 ms          │
//! │                                                     │ itl p50    20.0 ms  …       │
//! │                                                     │ gaps, newest last           │
//! │                                                     │ ▁▂▁▁▃▁▁█▁▁▂▁▁▁▁▂▁           │
//! ```
//!
//! The answer is wrapped and shows its newest lines (reasoning dimmed before it, tool calls after
//! it); beside it the completion's figures, live until its `llm_summary` makes them final, and a
//! strip of the inter-token gaps, one cell each, where a stall (a gap over the threshold) is a full
//! block in the gap colour. Also here: the LLM line of the stats block, the comparison strip of two
//! LLM streams, and the list preview of a chunk (its text first). Pure functions of the store and
//! the theme, as the rest of the dashboard.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Row, Table};

use super::text::{cut, fmt_ms};
use super::theme::Theme;
use crate::capture::llm::Completion;
use crate::protocol::llm::{self, Format};
use crate::record::{Kind, LlmSummary, Record};
use crate::store::StreamState;

/// Width of the figures column beside the answer.
const TIMING_WIDTH: u16 = 30;
/// Below this width the figures go under the answer instead of beside it.
const SIDE_BY_SIDE: u16 = 72;
/// Characters of a chunk's raw data kept for its preview.
const RAW_PREVIEW: usize = 512;
/// Heights of the gap strip's cells, lowest first.
const LEVELS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// Draws the LLM view of stream `s` into `rect` (the record list's place).
pub(crate) fn draw(frame: &mut Frame<'_>, rect: Rect, s: &StreamState, theme: &Theme, now_us: i64) {
    let (Some(figures), Some(c)) = (s.llm_figures(now_us), s.llm.current()) else {
        return;
    };
    let streaming = !s.llm.finished() && c.end_us.is_none();
    let stall_us = (figures.stall_threshold_ms * 1000.0) as u64;
    if rect.width >= SIDE_BY_SIDE {
        let [text, gutter, timing] = Layout::horizontal([
            Constraint::Min(0),
            Constraint::Length(1),
            Constraint::Length(TIMING_WIDTH),
        ])
        .areas(rect);
        frame.render_widget(
            Block::default()
                .borders(ratatui::widgets::Borders::LEFT)
                .border_style(theme.border),
            gutter,
        );
        draw_answer(frame, text, c, streaming, theme);
        let mut lines = timing_lines(&figures, streaming, theme);
        let strip_rows = usize::from(timing.height)
            .saturating_sub(lines.len() + 1)
            .max(1);
        lines.truncate(usize::from(timing.height).saturating_sub(strip_rows + 1));
        lines.push(Line::from(Span::styled("gaps, newest last", theme.muted)));
        lines.extend(gap_strip(
            &c.gaps_us,
            stall_us,
            usize::from(timing.width),
            strip_rows,
            theme,
        ));
        frame.render_widget(Paragraph::new(lines), timing);
    } else {
        let [text, figures_rect, strip] = Layout::vertical([
            Constraint::Min(0),
            Constraint::Length(2),
            Constraint::Length(1),
        ])
        .areas(rect);
        draw_answer(frame, text, c, streaming, theme);
        frame.render_widget(
            Paragraph::new(compact_lines(&figures, streaming, theme)),
            figures_rect,
        );
        let cells = usize::from(strip.width);
        frame.render_widget(
            Paragraph::new(gap_strip(&c.gaps_us, stall_us, cells, 1, theme)),
            strip,
        );
    }
}

/// The answer, wrapped, its newest lines: reasoning first (dimmed), tool calls after.
fn draw_answer(frame: &mut Frame<'_>, rect: Rect, c: &Completion, streaming: bool, theme: &Theme) {
    let width = usize::from(rect.width).max(1);
    let height = usize::from(rect.height);
    // Only the end of a long answer can be on screen: wrap no more than a few screens of it.
    let keep = width * height * 4 + 64;
    let mut lines: Vec<Line<'static>> = Vec::new();
    let part = |label: &str, text: &str, style: Style, lines: &mut Vec<Line<'static>>| {
        if text.is_empty() {
            return;
        }
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        let shown = format!("{label}{}", tail(text, keep));
        lines.extend(
            wrap(&shown, width)
                .into_iter()
                .map(|l| Line::from(Span::styled(l, style))),
        );
    };
    part("thinking: ", &c.reasoning, theme.muted, &mut lines);
    part("", &c.text, theme.text, &mut lines);
    part("tool call: ", &c.tool, theme.accent, &mut lines);
    if lines.is_empty() {
        let what = if streaming {
            "waiting for the first token…"
        } else {
            "no output"
        };
        lines.push(Line::from(Span::styled(what, theme.muted)));
    }
    let from = lines.len().saturating_sub(height);
    frame.render_widget(Paragraph::new(lines.split_off(from)), rect);
}

/// The last `max` bytes of `text`, starting on a character.
fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Greedy word wrap to `width` columns (a word longer than a line is split); line breaks kept.
pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let cols = |s: &str| Span::raw(s).width();
    let mut out = Vec::new();
    for para in text.split('\n') {
        let mut line = String::new();
        let mut used = 0;
        for word in para.split_inclusive(' ') {
            let w = cols(word);
            if used + w > width && used > 0 {
                out.push(std::mem::take(&mut line).trim_end().to_owned());
                used = 0;
            }
            if w > width {
                for ch in word.chars() {
                    let cw = cols(ch.encode_utf8(&mut [0; 4]));
                    if used + cw > width {
                        out.push(std::mem::take(&mut line));
                        used = 0;
                    }
                    line.push(ch);
                    used += cw;
                }
            } else {
                line.push_str(word);
                used += w;
            }
        }
        out.push(line.trim_end().to_owned());
    }
    out
}

/// How the completion stands: streaming, complete (with its finish reason) or incomplete.
fn state_span(f: &LlmSummary, streaming: bool, theme: &Theme) -> Span<'static> {
    let finish = f.finish_reason.as_deref().unwrap_or("—");
    if streaming {
        Span::styled("● streaming", theme.accent)
    } else if f.complete {
        Span::styled(format!("✓ complete · {finish}"), theme.ok)
    } else {
        Span::styled(format!("✗ incomplete · {finish}"), theme.warn)
    }
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or("—".to_owned(), fmt_ms)
}

fn per_s(v: Option<f64>) -> String {
    v.map_or("—".to_owned(), |t| format!("{t:.1}"))
}

/// The figures column: one figure a line.
fn timing_lines(f: &LlmSummary, streaming: bool, theme: &Theme) -> Vec<Line<'static>> {
    let row = |name: &str, value: String, style: Style| {
        Line::from(vec![
            Span::styled(format!("{name:<11}"), theme.muted),
            Span::styled(value, style),
        ])
    };
    let head = match &f.model {
        Some(m) => format!("{} · {m}", f.format),
        None => f.format.clone(),
    };
    let mut lines = vec![
        Line::from(Span::styled(
            cut(&head, usize::from(TIMING_WIDTH)),
            theme.header,
        )),
        Line::from(state_span(f, streaming, theme)),
        row("ttft", opt_ms(f.ttft_ms), theme.text),
        row("2nd token", opt_ms(f.ttst_ms), theme.text),
        row("itl p50", opt_ms(f.itl_p50_ms), theme.text),
        row("itl p95", opt_ms(f.itl_p95_ms), theme.text),
        row("itl p99", opt_ms(f.itl_p99_ms), theme.text),
        row("itl max", opt_ms(f.itl_max_ms), theme.text),
        row("tokens/s", per_s(f.tokens_per_s), theme.text),
        row(
            "tokens",
            format!("{} ({})", f.output_tokens, f.tokens_source.as_str()),
            theme.text,
        ),
        row("total", fmt_ms(f.total_ms), theme.text),
        row(
            "stalls",
            format!("{} over {}", f.stalls, fmt_ms(f.stall_threshold_ms)),
            if f.stalls > 0 { theme.gap } else { theme.text },
        ),
    ];
    if f.errors > 0 {
        lines.push(row("errors", f.errors.to_string(), theme.error));
    }
    lines
}

/// The figures in two lines, for a narrow pane.
fn compact_lines(f: &LlmSummary, streaming: bool, theme: &Theme) -> Vec<Line<'static>> {
    let m = |t: &str| Span::styled(t.to_owned(), theme.muted);
    let v = |t: String| Span::styled(t, theme.text);
    vec![
        Line::from(stats_line(f, theme)),
        Line::from(vec![
            v(f.output_tokens.to_string()),
            m(&format!(" tokens ({}) · total ", f.tokens_source.as_str())),
            v(fmt_ms(f.total_ms)),
            m(" · stalls "),
            Span::styled(
                f.stalls.to_string(),
                if f.stalls > 0 { theme.gap } else { theme.text },
            ),
            m(" · "),
            state_span(f, streaming, theme),
        ]),
    ]
}

/// The stats block's LLM line: time to first token, the ITL percentiles, tokens/s, tokens.
pub(crate) fn stats_line(f: &LlmSummary, theme: &Theme) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    for (i, group) in stats_groups(f, theme).into_iter().enumerate() {
        if i > 0 {
            out.push(Span::styled("  ", theme.muted));
        }
        out.extend(group);
    }
    out
}

/// [`stats_line`] in groups, by priority, for a line that leaves out what it cannot hold.
pub(crate) fn stats_groups(f: &LlmSummary, theme: &Theme) -> Vec<Vec<Span<'static>>> {
    let m = |t: &str| Span::styled(t.to_owned(), theme.muted);
    let v = |t: String| Span::styled(t, theme.text);
    vec![
        vec![m("ttft "), v(opt_ms(f.ttft_ms))],
        vec![
            m("itl p50 "),
            v(opt_ms(f.itl_p50_ms)),
            m(" p95 "),
            v(opt_ms(f.itl_p95_ms)),
            m(" p99 "),
            v(opt_ms(f.itl_p99_ms)),
        ],
        vec![v(per_s(f.tokens_per_s)), m(" tok/s")],
        vec![
            v(f.output_tokens.to_string()),
            m(&format!(" tokens ({})", f.tokens_source.as_str())),
        ],
    ]
}

/// The inter-token gaps, one cell each, newest last, filling `rows` rows of `width` cells. A
/// median gap is half height, twice the median or more nearly full; a stall is a full block in the
/// gap colour.
fn gap_strip(
    gaps_us: &[u64],
    stall_us: u64,
    width: usize,
    rows: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let cells = width * rows;
    if cells == 0 {
        return Vec::new();
    }
    let shown = &gaps_us[gaps_us.len().saturating_sub(cells)..];
    let mut sorted = shown.to_vec();
    sorted.sort_unstable();
    let scale = (sorted.get(sorted.len() / 2).copied().unwrap_or(1) * 2).max(1);
    let mut lines = Vec::new();
    for row in shown.chunks(width) {
        let spans: Vec<Span<'static>> = row
            .iter()
            .map(|&g| {
                if g > stall_us {
                    Span::styled(LEVELS[7].to_string(), theme.gap)
                } else {
                    let level = (g * 6).div_ceil(scale).min(6) as usize;
                    Span::styled(LEVELS[level].to_string(), theme.sparkline)
                }
            })
            .collect();
        lines.push(Line::from(spans));
    }
    lines
}

/// A chunk's row in the record list: what it carries (answer text quoted, reasoning, tool call,
/// end marker, error) before its raw data. `None` for records that are no chunk, or carry nothing
/// to show first (the list shows them as usual).
pub(crate) fn preview(format: Format, r: &Record, theme: &Theme) -> Option<Vec<Span<'static>>> {
    let Kind::Event { event, data, .. } = &r.kind else {
        return None;
    };
    let c = llm::parse(format, event, data).ok()?;
    let lead = if let Some(e) = &c.error {
        Span::styled(format!("✗ {e}"), theme.error)
    } else if c.end {
        Span::styled("⏹ end marker", theme.accent)
    } else if !c.text.is_empty() {
        Span::styled(format!("{:?}", c.text.as_ref()), theme.json_string)
    } else if !c.reasoning.is_empty() {
        Span::styled(format!("thinking {:?}", c.reasoning.as_ref()), theme.muted)
    } else if !c.tool.is_empty() {
        Span::styled(format!("tool {:?}", c.tool.as_ref()), theme.accent)
    } else {
        return None;
    };
    let raw: String = if event == "message" {
        data.chars().take(RAW_PREVIEW).collect()
    } else {
        format!(
            "{event}: {}",
            data.chars().take(RAW_PREVIEW).collect::<String>()
        )
    };
    let raw = raw.replace('\n', "⏎");
    Some(vec![lead, Span::raw("  "), Span::styled(raw, theme.muted)])
}

/// The comparison strip of two LLM streams: TTFT, the ITL percentiles, tokens/s, tokens, total.
pub(crate) fn draw_compare(
    frame: &mut Frame<'_>,
    rect: Rect,
    streams: [&StreamState; 2],
    figures: [&LlmSummary; 2],
    theme: &Theme,
) {
    let nums = |f: &LlmSummary| -> [Option<f64>; 9] {
        [
            f.ttft_ms,
            f.ttst_ms,
            f.itl_p50_ms,
            f.itl_p95_ms,
            f.itl_p99_ms,
            f.itl_max_ms,
            f.tokens_per_s,
            Some(f.output_tokens as f64),
            Some(f.total_ms),
        ]
    };
    let show = |i: usize, v: Option<f64>, signed: bool| -> String {
        let Some(v) = v else {
            return "—".to_owned();
        };
        let sign = if signed && v > 0.0 { "+" } else { "" };
        match i {
            6 => format!("{sign}{v:.1}"),
            7 => format!("{sign}{v:.0}"),
            _ if v < 0.0 => format!("-{}", fmt_ms(-v)),
            _ => format!("{sign}{}", fmt_ms(v)),
        }
    };
    let [a, b] = [nums(figures[0]), nums(figures[1])];
    let label = |s: &StreamState, f: &LlmSummary| {
        let model = f.model.as_deref().unwrap_or(&f.format);
        format!("#{} {}", s.info.index, cut(model, 12))
    };
    let row = |name: String, style: Style, cell: &dyn Fn(usize) -> String| {
        let mut cells = vec![Line::from(Span::styled(name, style))];
        cells.extend((0..9).map(|i| Line::from(cell(i)).right_aligned()));
        Row::new(cells)
    };
    let rows = vec![
        row(label(streams[0], figures[0]), theme.sse, &|i| {
            show(i, a[i], false)
        }),
        row(label(streams[1], figures[1]), theme.sse, &|i| {
            show(i, b[i], false)
        }),
        row(
            "Δ #1−#0".to_owned(),
            theme.accent,
            &|i| match (a[i], b[i]) {
                (Some(x), Some(y)) => show(i, Some(y - x), true),
                _ => "—".to_owned(),
            },
        ),
    ];
    let header = Row::new(
        [
            "", "ttft", "2nd tok", "itl p50", "itl p95", "itl p99", "itl max", "tok/s", "tokens",
            "total",
        ]
        .map(|h| Line::from(h).right_aligned()),
    )
    .style(theme.muted);
    let mut widths = vec![Constraint::Length(16)];
    widths.extend([Constraint::Fill(1); 9]);
    let block = Block::bordered()
        .border_style(theme.border)
        .title(Span::styled(" compare LLM completions ", theme.header));
    frame.render_widget(
        Table::new(rows, widths)
            .header(header)
            .column_spacing(1)
            .block(block),
        rect,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_on_words_and_splits_long_ones() {
        assert_eq!(wrap("the quick brown fox", 10), ["the quick", "brown fox"]);
        assert_eq!(wrap("abcdefghijkl mn", 5), ["abcde", "fghij", "kl mn"]);
        assert_eq!(wrap("a\n\nb", 5), ["a", "", "b"]);
        assert_eq!(wrap("", 5), [""]);
    }

    #[test]
    fn tail_starts_on_a_character() {
        assert_eq!(tail("héllo", 4), "llo");
        assert_eq!(tail("abc", 10), "abc");
    }

    #[test]
    fn stalls_are_full_blocks_and_the_rest_scale_to_the_median() {
        let theme = Theme::default();
        // Median 20: 10 is a quarter of twice the median, 20 half, 40 and up the top but one.
        let lines = gap_strip(&[10, 20, 5000, 40, 20], 1000, 3, 2, &theme);
        let text: Vec<String> = lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        assert_eq!(text, ["▃▄█", "▇▄"]);
        assert_eq!(lines[0].spans[2].style, theme.gap);
        assert_eq!(lines[0].spans[0].style, theme.sparkline);
        // Only the newest gaps that fit.
        let one = gap_strip(&[10, 20, 5000, 40, 20], 1000, 2, 1, &theme);
        assert_eq!(one[0].spans.len(), 2);
    }
}
