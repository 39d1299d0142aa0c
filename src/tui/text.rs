//! The dashboard's text helpers, shared by the record list, the stats and the LLM view: durations
//! in a readable unit, and text cut to a width with the cut marked.

use ratatui::text::Span;

/// Milliseconds, in the unit that keeps three significant digits readable.
pub fn fmt_ms(ms: f64) -> String {
    if !ms.is_finite() {
        return "—".into();
    }
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 100.0 {
        format!("{ms:.1} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else if ms < 60_000.0 {
        format!("{:.2} s", ms / 1000.0)
    } else {
        let s = (ms / 1000.0).round() as u64;
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// Cuts to `width` characters, marking the cut with `…`.
pub fn cut(s: &str, width: usize) -> String {
    if width == 0 {
        return String::new();
    }
    let mut chars = s.chars();
    let head: String = chars.by_ref().take(width).collect();
    if chars.next().is_some() {
        let mut head: String = head.chars().take(width - 1).collect();
        head.push('…');
        head
    } else {
        head
    }
}

/// Spans cut to `width` characters in all, the cut marked with `…`.
pub(crate) fn cut_spans(spans: Vec<Span<'static>>, width: usize) -> Vec<Span<'static>> {
    let mut out = Vec::new();
    let mut left = width;
    for span in spans {
        let n = span.content.chars().count();
        if n == 0 {
            continue;
        }
        if n < left || (n == left && left > 0) {
            left -= n;
            out.push(span);
            continue;
        }
        if left > 0 {
            let style = span.style;
            out.push(Span::styled(cut(&span.content, left), style));
        } else if let Some(last) = out.last_mut() {
            // The cut fell just after a span: mark it on that span's last character.
            let style = last.style;
            let text = last.content.to_string();
            let count = text.chars().count();
            *last = Span::styled(cut(&format!("{text}x"), count), style);
        }
        break;
    }
    out
}
