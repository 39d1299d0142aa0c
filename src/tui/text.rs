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

/// Terminal columns a span list takes.
pub(crate) fn spans_width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(Span::width).sum()
}

/// Lays out groups of spans (a label with its figure, a count) by priority: each group, in order,
/// goes on the line whole, after `sep`, if it fits in `width`; a group that does not fit is left
/// out rather than cut mid-word (a later, shorter one may still fit). The first group is always
/// kept, cut if even it is too wide.
pub(crate) fn fit_groups(
    groups: Vec<Vec<Span<'static>>>,
    sep: &Span<'static>,
    width: usize,
) -> Vec<Span<'static>> {
    let mut out: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for group in groups {
        let w = spans_width(&group);
        if w == 0 {
            continue;
        }
        if out.is_empty() {
            used = w.min(width);
            out.extend(cut_spans(group, width));
            continue;
        }
        if used + sep.width() + w <= width {
            used += sep.width() + w;
            out.push(sep.clone());
            out.extend(group);
        }
    }
    out
}

/// [`fit_groups`] with a priority apart from the order on screen: groups are taken by `rank`
/// (lowest first) while they fit, whole, and drawn in their given order.
pub(crate) fn fit_ranked(
    groups: Vec<(u8, Vec<Span<'static>>)>,
    sep: &Span<'static>,
    width: usize,
) -> Vec<Span<'static>> {
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by_key(|&i| groups[i].0);
    let mut keep = vec![false; groups.len()];
    let mut used = 0;
    for i in order {
        let w = spans_width(&groups[i].1);
        let extra = if used == 0 { w } else { w + sep.width() };
        if used + extra <= width {
            used += extra;
            keep[i] = true;
        }
    }
    let kept = groups
        .into_iter()
        .zip(keep)
        .filter_map(|((_, g), k)| k.then_some(g))
        .collect();
    fit_groups(kept, sep, width)
}

/// A URL shortened to `width` columns by priority: the scheme, the port, and the path are kept
/// (the path is what tells two endpoints of one server apart); the middle of the host goes first
/// (`https://stream-…le.com:8443/sse/a`), then the query, and only then the path's start.
pub(crate) fn fit_url(url: &str, width: usize) -> String {
    let count = |s: &str| s.chars().count();
    if count(url) <= width {
        return url.to_owned();
    }
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let scheme = if scheme.is_empty() {
        String::new()
    } else {
        format!("{scheme}://")
    };
    let path_at = rest.find('/').unwrap_or(rest.len());
    let (authority, path_query) = rest.split_at(path_at);
    let (path, query) = match path_query.split_once('?') {
        Some((p, q)) => (p, format!("?{q}")),
        None => (path_query, String::new()),
    };
    // Host and port (a bracketed IPv6 host keeps its brackets whole).
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => authority.split_at(i),
        _ => (authority, ""),
    };
    // The query gives way first (cut, then dropped), then the host's middle.
    let fixed = count(&scheme) + count(port) + count(path);
    let room_query = width.saturating_sub(fixed + count(host));
    let query = if count(&query) <= room_query {
        query
    } else if room_query >= 3 {
        cut(&query, room_query)
    } else {
        String::new()
    };
    let room_host = width.saturating_sub(fixed + count(&query));
    let host = if count(host) <= room_host {
        host.to_owned()
    } else if room_host >= 3 {
        middle_cut(host, room_host)
    } else {
        // Not even the path fits: cut the whole from the end.
        return cut(url, width);
    };
    format!("{scheme}{host}{port}{path}{query}")
}

/// The narrowest [`fit_url`] keeps the URL's path whole in: scheme, port and path, with a few
/// characters of the host.
pub(crate) fn url_min_width(url: &str) -> usize {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let path_at = rest.find('/').unwrap_or(rest.len());
    let (authority, path_query) = rest.split_at(path_at);
    let path = path_query.split('?').next().unwrap_or(path_query);
    let (host, port) = match authority.rfind(':') {
        Some(i) if !authority[i..].contains(']') => authority.split_at(i),
        _ => (authority, ""),
    };
    let scheme_w = if scheme.is_empty() {
        0
    } else {
        scheme.len() + 3
    };
    scheme_w + port.chars().count() + path.chars().count() + host.chars().count().min(7)
}

/// `s` cut to `width` columns by replacing its middle with `…` (the end of a host name, its
/// domain, says as much as its start).
fn middle_cut(s: &str, width: usize) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= width {
        return s.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let keep = width - 1;
    let tail = keep / 2;
    let head = keep - tail;
    let mut out: String = chars[..head].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_scheme_port_and_path_and_lose_the_hosts_middle() {
        let url = "https://stream-backend.prod.example.com:8443/sse/ticks";
        assert_eq!(fit_url(url, 100), url);
        let short = fit_url(url, 40);
        assert_eq!(short.chars().count(), 40, "{short}");
        assert!(short.starts_with("https://stream"), "{short}");
        assert!(short.ends_with(".com:8443/sse/ticks"), "{short}");
        assert!(short.contains('…'), "{short}");
        // The query goes before the host does.
        let q = fit_url("http://127.0.0.1:18777/sse/ba?token=***&n=1000", 30);
        assert!(q.starts_with("http://127.0.0.1:18777/sse/ba"), "{q}");
        assert!(q.chars().count() <= 30, "{q}");
        // Too narrow for the path: cut from the end, still within the width.
        let tiny = fit_url(url, 12);
        assert_eq!(tiny.chars().count(), 12, "{tiny}");
    }

    #[test]
    fn groups_are_left_out_whole_never_cut() {
        let g = |t: &str| vec![Span::raw(t.to_owned())];
        let sep = Span::raw("  ");
        let line = |w| {
            fit_groups(
                vec![g("120 records"), g("overhead 30.8%"), g("open 1")],
                &sep,
                w,
            )
            .iter()
            .map(|s| s.content.to_string())
            .collect::<String>()
        };
        assert_eq!(line(100), "120 records  overhead 30.8%  open 1");
        // No room for "overhead 30.8%": it is left out, the shorter "open 1" still fits.
        assert_eq!(line(25), "120 records  open 1");
        assert_eq!(line(12), "120 records");
        assert_eq!(line(5), "120 …");
    }
}
