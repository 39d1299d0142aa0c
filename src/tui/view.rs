//! View state of the dashboard (what the user is looking at, never what the streams did) and the
//! reaction to each [`Action`].
//!
//! Selections are held as record sequence numbers, not row indices, so they stay on the same record
//! while new records arrive and old ones are evicted. While a pane follows, its window is "the last
//! N matching records"; once paused, it is "N matching records from `top`", which is what keeps the
//! view still while the stream keeps recording.

use crate::ingest::jq::JqFilter;
use std::collections::VecDeque;

use crate::capture::control::Control;
use crate::record::{Kind, Payload, Proto};
use crate::store::{Entry, Store, StreamState};

use super::keymap::{Action, InputMode};
use super::overview::{Overview, OverviewEffect};

/// Per-pane view state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaneView {
    /// When paused: sequence number of the first row shown.
    pub top: u64,
    /// When paused: the selected record; `None` means following the newest record.
    pub selected: Option<u64>,
    /// Records before this sequence number are hidden (`c`).
    pub cleared_before: u64,
    /// Show the raw records of an LLM stream rather than its LLM view (`l`).
    pub raw: bool,
}

impl PaneView {
    /// True while the pane shows the newest records as they arrive.
    pub fn following(&self) -> bool {
        self.selected.is_none()
    }
}

/// What the input line is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Editing the filter (applied as typed).
    Filter,
    /// A message to send on the focused WebSocket pane.
    Send,
}

/// The input line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// What the text is for.
    pub kind: InputKind,
    /// Typed so far.
    pub text: String,
}

/// The record shown in the detail overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detail {
    /// Pane (stream position) of the record.
    pub pane: usize,
    /// Its sequence number.
    pub seq: u64,
    /// Lines scrolled down.
    pub scroll: u16,
}

/// What the run loop must do after an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Shut every stream down and leave.
    Quit,
    /// Send a control to the stream at this position.
    Control(usize, Control),
}

/// The whole view state.
#[derive(Debug, Clone)]
pub struct App {
    /// Focused pane.
    pub focus: usize,
    /// One view per stream.
    pub panes: Vec<PaneView>,
    /// Substring that data or event type must contain, `#ID` for a decoded sub-stream, or a jq
    /// expression (it starts with `.`; see [`App::set_filter`]); empty shows everything.
    pub filter: String,
    /// `filter` compiled, when it is a jq expression.
    jq: Option<JqFilter>,
    /// Detail overlay.
    pub detail: Option<Detail>,
    /// Help overlay.
    pub help: bool,
    /// Lines the help overlay is scrolled down.
    pub help_scroll: u16,
    /// Input line, while editing.
    pub input: Option<Input>,
    /// A one-line message for the footer (feedback on the last action).
    pub status: Option<String>,
    /// Rows the record list shows, set from the layout so paging moves one screen.
    pub page_rows: usize,
    /// The streams the panes show (positions in the store), one or two; `focus` is one of them.
    pub shown: Vec<usize>,
    /// The overview of all streams (`o`), where the dashboard opens with more than two.
    pub overview: Overview,
    /// The overview is on screen rather than the panes.
    pub overview_open: bool,
    /// Which stored records match `filter`, kept up to date by [`App::sync_filter`].
    hits: FilterIndex,
    /// The `--record` file and its size, shown in the footer.
    pub recording: Option<(String, u64)>,
    /// After `r`: the stream asked to reconnect and its first record number since, until its
    /// connection is open again ([`App::sync_status`]).
    reconnect: Option<(usize, u64)>,
}

/// The status line after `r`, until the stream is open again.
const RECONNECTING: &str = "reconnecting";

/// The sequence numbers of the records that match a filter, per stream, so a frame finds the
/// visible matches without walking the whole history: a filter that matches rarely would
/// otherwise scan every stored record on every frame. Built once when the filter changes, then
/// extended with the records that arrived since (and trimmed of the evicted ones).
#[derive(Debug, Clone, Default)]
struct FilterIndex {
    /// The filter the hits are for.
    filter: String,
    streams: Vec<StreamHits>,
}

#[derive(Debug, Clone, Default)]
struct StreamHits {
    /// Records before this sequence number have been looked at.
    scanned_to: u64,
    /// Matching sequence numbers, ascending.
    seqs: VecDeque<u64>,
}

impl App {
    /// View state for `streams` streams, following, the first focused: one or two panes, or the
    /// overview with more than two.
    pub fn new(streams: usize) -> Self {
        App {
            shown: (0..streams.min(2)).collect(),
            overview: Overview::new(streams),
            overview_open: streams > 2,
            focus: 0,
            panes: vec![PaneView::default(); streams],
            filter: String::new(),
            jq: None,
            detail: None,
            help: false,
            help_scroll: 0,
            input: None,
            status: None,
            page_rows: 10,
            hits: FilterIndex::default(),
            reconnect: None,
            recording: None,
        }
    }

    /// Brings the filter index up to date with the store: rebuilt when the filter changed,
    /// otherwise only the records that arrived since the last call are looked at. The run loop
    /// calls it before each frame; without it, views fall back to scanning (same result).
    pub fn sync_filter(&mut self, store: &Store) {
        let hits = &mut self.hits;
        if self.filter.is_empty() {
            hits.filter.clear();
            hits.streams.clear();
            return;
        }
        if hits.filter != self.filter || hits.streams.len() != store.streams().len() {
            hits.filter.clone_from(&self.filter);
            hits.streams = vec![StreamHits::default(); store.streams().len()];
        }
        for (h, s) in hits.streams.iter_mut().zip(store.streams()) {
            while h.seqs.front().is_some_and(|&seq| seq < s.first_seq()) {
                h.seqs.pop_front();
            }
            let from = s.index_of(h.scanned_to.max(s.first_seq()));
            for e in s.ring().range(from..) {
                if record_matches(&e.rec, &self.filter, self.jq.as_ref()) {
                    h.seqs.push_back(e.seq);
                }
            }
            h.scanned_to = s.next_seq();
        }
    }

    /// Brings the status line up to date with the store: "reconnecting" (after `r`) gives way to
    /// what came of it once the stream opened again or ended. The run loop calls it before each
    /// frame.
    pub fn sync_status(&mut self, store: &Store) {
        let Some((pane, from)) = self.reconnect else {
            return;
        };
        if self.status.as_deref() != Some(RECONNECTING) {
            // Another message replaced it: nothing to update.
            self.reconnect = None;
            return;
        }
        let Some(s) = store.stream(pane) else {
            self.reconnect = None;
            return;
        };
        let since = s.index_of(from.max(s.first_seq()));
        let outcome = s
            .ring()
            .range(since..)
            .filter(|e| e.seq >= from)
            .find_map(|e| match &e.rec.kind {
                Kind::Open { .. } => Some("reconnected: open again".to_owned()),
                Kind::End { reason, .. } => Some(format!("the stream ended: {reason}")),
                _ => None,
            });
        if let Some(text) = outcome {
            self.status = Some(text);
            self.reconnect = None;
        }
    }

    /// The index's hits for stream `pane` when they are current for this filter and store.
    fn current_hits(&self, pane: usize, s: &StreamState) -> Option<&VecDeque<u64>> {
        let h = self.hits.streams.get(pane)?;
        (!self.filter.is_empty() && self.hits.filter == self.filter && h.scanned_to == s.next_seq())
            .then_some(&h.seqs)
    }

    /// Whether pane `pane` shows the LLM view: its stream is an LLM completion and the raw
    /// records were not asked for.
    pub fn llm_view(&self, pane: usize, s: &StreamState) -> bool {
        s.llm.format().is_some() && !self.panes.get(pane).is_some_and(|p| p.raw)
    }

    /// Whether keys go to the input line.
    pub fn input_mode(&self) -> InputMode {
        if self.input.is_some() {
            InputMode::Editing
        } else {
            InputMode::Normal
        }
    }

    /// Whether a record is shown in a pane with the current filter and clear mark.
    pub fn shows(&self, pane: usize, entry: &Entry) -> bool {
        let cleared = self.panes.get(pane).map_or(0, |p| p.cleared_before);
        entry.seq >= cleared && record_matches(&entry.rec, &self.filter, self.jq.as_ref())
    }

    /// The records a pane shows in `rows` rows, oldest first. Never walks more of the ring than it
    /// must: following scans back from the newest, paused scans forward from `top`.
    pub fn window<'s>(&self, pane: usize, s: &'s StreamState, rows: usize) -> Vec<&'s Entry> {
        let Some(view) = self.panes.get(pane) else {
            return Vec::new();
        };
        if rows == 0 || s.ring().is_empty() {
            return Vec::new();
        }
        if let Some(seqs) = self.current_hits(pane, s) {
            let entry = |seq: &u64| &s.ring()[s.index_of(*seq)];
            let from = if view.following() {
                view.cleared_before
            } else {
                view.top.max(view.cleared_before)
            };
            let first = seqs.partition_point(|&seq| seq < from);
            return if view.following() {
                let start = seqs.len().saturating_sub(rows).max(first);
                seqs.range(start..).map(entry).collect()
            } else {
                seqs.range(first..).take(rows).map(entry).collect()
            };
        }
        if view.following() {
            let mut out: Vec<&Entry> = s
                .ring()
                .iter()
                .rev()
                .filter(|e| self.shows(pane, e))
                .take(rows)
                .collect();
            out.reverse();
            out
        } else {
            let start = s.index_of(view.top);
            s.ring()
                .range(start..)
                .filter(|e| self.shows(pane, e))
                .take(rows)
                .collect()
        }
    }

    /// The selected record of a pane: the chosen one when paused, the newest shown when following.
    pub fn selected_seq(&self, pane: usize, s: &StreamState) -> Option<u64> {
        let view = self.panes.get(pane)?;
        if view.selected.is_some() {
            return view.selected;
        }
        match self.current_hits(pane, s) {
            Some(seqs) => seqs
                .back()
                .copied()
                .filter(|&seq| seq >= view.cleared_before),
            None => s
                .ring()
                .iter()
                .rev()
                .find(|e| self.shows(pane, e))
                .map(|e| e.seq),
        }
    }

    /// Records that arrived after the last row shown (the "new below" counter of a paused pane):
    /// with a filter, only those that match it.
    pub fn below(&self, pane: usize, s: &StreamState, rows: usize) -> u64 {
        let Some(view) = self.panes.get(pane) else {
            return 0;
        };
        let after = match self.window(pane, s, rows).last() {
            Some(e) => e.seq + 1,
            None => view.top.max(view.cleared_before),
        };
        if after >= s.next_seq() {
            return 0;
        }
        if self.filter.is_empty() {
            return s.next_seq() - after;
        }
        if let Some(seqs) = self.current_hits(pane, s) {
            return (seqs.len() - seqs.partition_point(|&seq| seq < after)) as u64;
        }
        let from = s.index_of(after.max(s.first_seq()));
        s.ring()
            .range(from..)
            .filter(|e| e.seq >= after && self.shows(pane, e))
            .count() as u64
    }

    /// Applies an action; returns what the run loop must do, if anything. The innermost thing open
    /// gets it first: the input line, then the detail, then the help (which any key closes).
    pub fn handle(&mut self, action: &Action, store: &Store) -> Option<Effect> {
        self.status = None;
        if self.input.is_some() {
            return self.handle_input(action);
        }
        if self.handle_detail(action) {
            return None;
        }
        if self.help && !matches!(action, Action::Quit | Action::Resize) {
            // Moves scroll the help (it may be taller than the screen); any other key closes it.
            match action {
                Action::Move(n) => {
                    let to = i64::from(self.help_scroll) + n;
                    self.help_scroll = to.clamp(0, i64::from(u16::MAX)) as u16;
                }
                Action::PageDown => self.help_scroll = self.help_scroll.saturating_add(10),
                Action::PageUp => self.help_scroll = self.help_scroll.saturating_sub(10),
                _ => {
                    self.help = false;
                    self.help_scroll = 0;
                }
            }
            return None;
        }
        if self.overview_open {
            return self.handle_overview(action);
        }
        self.handle_command(action, store)
    }

    /// While the detail is open, moves scroll it and `Back` or `Enter` close it; quit, help and
    /// resize go on to the commands, anything else is ignored. Returns whether it took the action.
    fn handle_detail(&mut self, action: &Action) -> bool {
        let Some(detail) = &mut self.detail else {
            return false;
        };
        match action {
            Action::Move(n) => detail.scroll = step_u16(detail.scroll, *n),
            Action::PageUp | Action::PageDown => {
                let n = i64::try_from(self.page_rows).unwrap_or(i64::MAX);
                let n = if *action == Action::PageUp { -n } else { n };
                detail.scroll = step_u16(detail.scroll, n);
            }
            Action::Back | Action::OpenDetail => self.detail = None,
            Action::Quit | Action::ToggleHelp | Action::Resize => return false,
            _ => {}
        }
        true
    }

    /// An action in the overview: quitting, help and going back to the panes are the dashboard's;
    /// the rest is the overview's, and `Enter` opens two streams in the panes.
    fn handle_overview(&mut self, action: &Action) -> Option<Effect> {
        match action {
            Action::Quit => return Some(Effect::Quit),
            Action::ToggleHelp => self.help = true,
            Action::ToggleOverview => self.overview_open = false,
            _ => {
                if let Some(OverviewEffect::Open(a, b)) = self.overview.handle(action) {
                    self.shown = vec![a, b];
                    self.focus = a;
                    self.overview_open = false;
                }
            }
        }
        None
    }

    /// An action on the focused pane, with no overlay or input line in the way.
    fn handle_command(&mut self, action: &Action, store: &Store) -> Option<Effect> {
        let pane = self.focus;
        let stream = store.stream(pane);
        match action {
            Action::Quit => return Some(Effect::Quit),
            Action::FocusNext => {
                // Through the panes on screen.
                let at = self
                    .shown
                    .iter()
                    .position(|&s| s == self.focus)
                    .unwrap_or(0);
                if let Some(&next) = self.shown.get((at + 1) % self.shown.len().max(1)) {
                    self.focus = next;
                }
            }
            Action::ToggleOverview => {
                self.overview.selected = self.focus;
                self.overview_open = true;
            }
            Action::Back if self.panes.len() > 2 => {
                self.overview.selected = self.focus;
                self.overview_open = true;
            }
            Action::Move(_)
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom
            | Action::TogglePause => {
                // Moving through records shows them.
                if let Some(s) = stream
                    && self.llm_view(pane, s)
                    && *action != Action::Bottom
                {
                    self.panes[pane].raw = true;
                }
                self.navigate(action, pane, stream);
            }
            Action::ToggleLlm => match stream {
                Some(s) if s.llm.format().is_some() => {
                    let view = &mut self.panes[pane];
                    view.raw = !view.raw;
                }
                _ => {
                    self.status = Some("no LLM completion recognised on this stream".into());
                }
            },
            Action::OpenDetail => {
                if let Some(s) = stream
                    && let Some(seq) = self.selected_seq(pane, s)
                {
                    self.detail = Some(Detail {
                        pane,
                        seq,
                        scroll: 0,
                    });
                }
            }
            Action::ToggleHelp => self.help = !self.help,
            Action::StartFilter => {
                self.input = Some(Input {
                    kind: InputKind::Filter,
                    text: self.filter.clone(),
                });
            }
            Action::Clear => {
                if let Some(s) = stream {
                    let view = &mut self.panes[pane];
                    view.cleared_before = s.next_seq();
                    view.selected = None;
                }
            }
            Action::StartSend | Action::Ping | Action::Reconnect => {
                return self.stream_command(action, pane, stream);
            }
            Action::Back
            | Action::InputChar(_)
            | Action::InputBackspace
            | Action::InputSubmit
            | Action::Resize
            | Action::SortNext
            | Action::SortPrev
            | Action::SortReverse
            | Action::Mark => {}
        }
        None
    }

    /// Moves through the records of a pane: selection, screens, ends, pause and follow. Given the
    /// other actions, does nothing ([`App::handle_command`] sends it only these).
    fn navigate(&mut self, action: &Action, pane: usize, stream: Option<&StreamState>) {
        match action {
            Action::Move(n) => {
                if let Some(s) = stream {
                    self.move_by(pane, s, *n);
                }
            }
            Action::PageUp | Action::PageDown => {
                if let Some(s) = stream {
                    let n = i64::try_from(self.page_rows.max(1)).unwrap_or(i64::MAX);
                    self.move_by(pane, s, if *action == Action::PageUp { -n } else { n });
                }
            }
            Action::Top => {
                if let Some(s) = stream
                    && let Some(first) = s.ring().iter().find(|e| self.shows(pane, e))
                {
                    let seq = first.seq;
                    self.panes[pane].selected = Some(seq);
                    self.panes[pane].top = seq;
                }
            }
            Action::Bottom => self.panes[pane].selected = None,
            Action::TogglePause => {
                if self.panes[pane].following() {
                    if let Some(s) = stream {
                        self.pause(pane, s);
                    }
                } else {
                    self.panes[pane].selected = None;
                }
            }
            _ => {}
        }
    }

    /// What goes to the connection: sending (WebSocket only), pinging (WebSocket, or an HTTP/2
    /// PING) and reconnecting. Given
    /// the other actions, does nothing ([`App::handle_command`] sends it only these).
    fn stream_command(
        &mut self,
        action: &Action,
        pane: usize,
        stream: Option<&StreamState>,
    ) -> Option<Effect> {
        let is_ws = stream.is_some_and(|s| s.info.proto == Proto::Ws);
        // An SSE stream on HTTP/2 can ping its connection (a PING frame, answered with an ACK).
        let on_h2 = stream
            .and_then(|s| s.stats.conn.as_ref())
            .is_some_and(|c| c.connection.is_some());
        match action {
            Action::StartSend if is_ws => {
                self.input = Some(Input {
                    kind: InputKind::Send,
                    text: String::new(),
                });
            }
            Action::StartSend => self.status = Some("sending is for WebSocket streams".into()),
            Action::Ping if is_ws || on_h2 => {
                self.status = Some(
                    if is_ws {
                        "ping sent"
                    } else {
                        "HTTP/2 PING sent"
                    }
                    .into(),
                );
                return Some(Effect::Control(pane, Control::Ping));
            }
            Action::Ping => {
                self.status = Some("ping is for WebSocket streams and HTTP/2 connections".into());
            }
            Action::Reconnect => {
                self.status = Some(RECONNECTING.into());
                self.reconnect = Some((pane, stream.map_or(0, StreamState::next_seq)));
                return Some(Effect::Control(pane, Control::ReconnectNow));
            }
            _ => {}
        }
        None
    }

    fn handle_input(&mut self, action: &Action) -> Option<Effect> {
        let input = self.input.as_mut()?;
        match action {
            Action::Quit => return Some(Effect::Quit),
            Action::InputChar(c) => input.text.push(*c),
            Action::InputBackspace => {
                input.text.pop();
            }
            Action::Back => {
                if input.kind == InputKind::Filter {
                    self.filter.clear();
                    self.jq = None;
                    self.reset_paused_views();
                }
                self.input = None;
                return None;
            }
            Action::InputSubmit => {
                let input = self.input.take()?;
                return match input.kind {
                    InputKind::Filter => {
                        // A jq expression is applied on Enter only: evaluating it over every
                        // stored record on each keystroke would stall the frame.
                        if is_jq(&input.text) {
                            self.set_filter(&input.text);
                        }
                        None
                    }
                    InputKind::Send => match parse_send(&input.text) {
                        Ok(payload) => {
                            self.status = Some(format!("sent {} bytes", payload.len()));
                            Some(Effect::Control(self.focus, Control::Send(payload)))
                        }
                        Err(e) => {
                            self.status = Some(e);
                            self.input = Some(input);
                            None
                        }
                    },
                };
            }
            _ => return None,
        }
        // Substrings apply as typed; a jq expression waits for Enter.
        if input.kind == InputKind::Filter && !is_jq(&input.text) {
            self.filter.clone_from(&input.text);
            self.jq = None;
            self.reset_paused_views();
        }
        None
    }

    /// Sets the filter: a text starting with `.` is a jq expression over each record's JSON line
    /// (as `--filter` runs it); one that does not compile says why in the footer and is searched
    /// as text instead.
    pub fn set_filter(&mut self, text: &str) {
        text.clone_into(&mut self.filter);
        self.jq = None;
        if is_jq(text) {
            match JqFilter::new(text) {
                Ok(f) => self.jq = Some(f),
                Err(e) => self.status = Some(e.replace("--filter", "jq")),
            }
        }
        self.reset_paused_views();
    }

    /// A new filter changes which records exist in the view; a paused window anchored on a record
    /// that no longer matches would look empty, so paused panes re-anchor on their selection.
    fn reset_paused_views(&mut self) {
        for view in &mut self.panes {
            if let Some(sel) = view.selected {
                view.top = sel;
            }
        }
    }

    fn pause(&mut self, pane: usize, s: &StreamState) {
        let window = self.window(pane, s, self.page_rows.max(1));
        if let (Some(first), Some(last)) = (window.first(), window.last()) {
            let (top, sel) = (first.seq, last.seq);
            let view = &mut self.panes[pane];
            view.top = top;
            view.selected = Some(sel);
        }
    }

    /// Moves the selection `n` shown records (negative: older), pausing a following pane first,
    /// then scrolls just enough to keep the selection on screen.
    fn move_by(&mut self, pane: usize, s: &StreamState, n: i64) {
        if self.panes[pane].following() {
            self.pause(pane, s);
        }
        let Some(sel) = self.panes[pane].selected else {
            return;
        };
        let start = s.index_of(sel);
        let steps = n.unsigned_abs() as usize;
        let ring = s.ring();
        let cleared = self.panes[pane].cleared_before;
        let moved = if let Some(hits) = self.current_hits(pane, s) {
            // The same walk over the filter's hits instead of the whole ring.
            let at = ring.get(start).map_or(sel, |e| e.seq);
            let shown_from = hits.partition_point(|&seq| seq < cleared);
            if n < 0 {
                let before = hits.partition_point(|&seq| seq < at).max(shown_from);
                (before > shown_from).then(|| hits[before - steps.min(before - shown_from)])
            } else {
                let after = hits.partition_point(|&seq| seq <= at).max(shown_from);
                (steps > 0 && after < hits.len()).then(|| hits[(after + steps).min(hits.len()) - 1])
            }
        } else if n < 0 {
            ring.range(..start)
                .rev()
                .filter(|e| self.shows(pane, e))
                .take(steps)
                .last()
                .map(|e| e.seq)
        } else {
            ring.range(start + 1..)
                .filter(|e| self.shows(pane, e))
                .take(steps)
                .last()
                .map(|e| e.seq)
        };
        let new_sel = moved.unwrap_or(sel.max(s.first_seq()));
        let rows = self.page_rows.max(1);
        let view = &mut self.panes[pane];
        view.selected = Some(new_sel);
        if new_sel < view.top || view.top < s.first_seq() {
            view.top = new_sel.min(view.top.max(s.first_seq()));
        }
        // Count shown records from top through the selection; scroll when it falls off the bottom.
        let top_idx = s.index_of(view.top);
        let sel_idx = s.index_of(new_sel);
        let last = ring.get(sel_idx.max(top_idx)).map_or(new_sel, |e| e.seq);
        let first = ring.get(top_idx).map_or(view.top, |e| e.seq).max(cleared);
        let shown_until_sel: Vec<u64> = match self.current_hits(pane, s) {
            Some(hits) => {
                let a = hits.partition_point(|&seq| seq < first);
                let b = hits.partition_point(|&seq| seq <= last);
                hits.range(a..b.max(a)).copied().collect()
            }
            None => ring
                .range(top_idx..=sel_idx.max(top_idx))
                .filter(|e| e.seq >= cleared)
                .filter(|e| record_matches(&e.rec, &self.filter, self.jq.as_ref()))
                .map(|e| e.seq)
                .collect(),
        };
        if shown_until_sel.len() > rows {
            self.panes[pane].top = shown_until_sel[shown_until_sel.len() - rows];
        }
    }
}

fn step_u16(v: u16, n: i64) -> u16 {
    (i64::from(v) + n).clamp(0, i64::from(u16::MAX)) as u16
}

/// A dashboard filter that is a jq expression rather than text to search for.
fn is_jq(text: &str) -> bool {
    text.trim_start().starts_with('.')
}

/// Whether `rec` passes the filter: the jq expression when there is one, else the text search.
fn record_matches(rec: &crate::record::Record, filter: &str, jq: Option<&JqFilter>) -> bool {
    match jq {
        Some(jq) => jq.matches(rec),
        None => matches_filter(&rec.kind, filter),
    }
}

/// The text a filter searches: the event type and the data (or comment, message, reason). On a
/// decoded message (`--decode`) also its protocol, type and event name; and `#ID` selects the
/// messages of one sub-stream exactly (a GraphQL operation id, a subscription id, a topic).
pub(crate) fn matches_filter(kind: &Kind, filter: &str) -> bool {
    if filter.is_empty() {
        return true;
    }
    if let Some(d) = kind.decoded() {
        if let Some(sub) = filter.strip_prefix('#') {
            return d.substream.as_deref() == Some(sub);
        }
        if d.kind.contains(filter)
            || d.protocol.contains(filter)
            || d.event.as_deref().is_some_and(|e| e.contains(filter))
        {
            return true;
        }
    }
    match kind {
        Kind::Event { event, data, .. } => event.contains(filter) || data.contains(filter),
        Kind::Comment { text } => text.contains(filter),
        Kind::Message { data, .. } | Kind::Ping { data } | Kind::Pong { data, .. } => match data {
            Payload::Text(t) => t.contains(filter),
            Payload::Binary(_) => false,
        },
        Kind::Close { reason, .. } | Kind::End { reason, .. } | Kind::Reconnect { reason, .. } => {
            reason.contains(filter)
        }
        Kind::Error { message, .. } => message.contains(filter),
        Kind::Lint { rule, message } => rule.contains(filter) || message.contains(filter),
        Kind::Match { key, .. } => key.contains(filter),
        Kind::Frame(f) => f.frame.contains(filter) || f.detail.contains(filter),
        Kind::LlmSummary(s) => {
            s.text.contains(filter)
                || s.model.as_deref().is_some_and(|m| m.contains(filter))
                || s.error.as_deref().is_some_and(|e| e.contains(filter))
        }
        Kind::Open { .. } | Kind::Gap { .. } | Kind::IdGap { .. } | Kind::MatchSummary(_) => false,
    }
}

/// The input line of `s` as a payload: `0x…` is hex (spaces allowed) for a binary message.
pub(crate) fn parse_send(text: &str) -> Result<Payload, String> {
    let Some(hex) = text.strip_prefix("0x") else {
        return Ok(Payload::Text(text.into()));
    };
    let digits: Vec<u8> = hex.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err("hex needs an even number of digits".into());
    }
    digits
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).map_err(|_| "not hex".to_owned())?;
            u8::from_str_radix(s, 16).map_err(|_| format!("not hex: {s:?}"))
        })
        .collect::<Result<Vec<u8>, String>>()
        .map(|b| Payload::Binary(b.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Dir;
    use crate::testkit::{event, info};

    #[test]
    fn a_filter_selects_a_decoded_sub_stream_exactly() {
        use crate::record::decoded::Decoded;
        let msg = |sub: &str, data: &str| {
            let mut k = crate::testkit::text(0, data).kind;
            if let Kind::Message { decoded, .. } = &mut k {
                *decoded = Some(Box::new(Decoded {
                    substream: Some(sub.into()),
                    event: Some("Ticks".into()),
                    ..Decoded::new("graphql-transport-ws", "next")
                }));
            }
            k
        };
        let (one, twelve) = (msg("1", "{\"id\":\"1\"}"), msg("12", "{\"id\":\"12\"}"));
        assert!(matches_filter(&one, "#1"));
        assert!(!matches_filter(&twelve, "#1"));
        assert!(matches_filter(&twelve, "#12"));
        assert!(matches_filter(&one, "Ticks") && matches_filter(&one, "next"));
        assert!(!matches_filter(&one, "Quotes"));
        // An undecoded message is searched as text, `#` included.
        assert!(matches_filter(
            &crate::testkit::text(0, "a #1 b").kind,
            "#1"
        ));
    }

    fn store_with(n: i64, history: usize) -> Store {
        let mut store = Store::new(vec![info(0, Proto::Sse)], history);
        for i in 0..n {
            store.apply(event(i * 1000, &format!("n{i}")).dir(Dir::In));
        }
        store
    }

    fn seqs(app: &App, store: &Store) -> Vec<u64> {
        app.window(0, &store.streams()[0], app.page_rows)
            .iter()
            .map(|e| e.seq)
            .collect()
    }

    /// A view that keeps its filter index current (`sync_filter`) and one that never builds it
    /// (so it scans), given the same actions, end up with the same top and selection and show
    /// the same rows, through arrivals, evictions, pauses, moves, pages, clears and filter edits.
    #[test]
    fn filter_index_gives_the_same_view_as_scanning() {
        enum Step {
            Filter(&'static str),
            Arrive(i64),
            Key(Action),
        }
        let steps = [
            Step::Filter("hit"),
            Step::Arrive(30),
            Step::Key(Action::TogglePause),
            Step::Arrive(40), // evicts: history is 50
            Step::Key(Action::Move(-3)),
            Step::Key(Action::Move(2)),
            Step::Key(Action::PageUp),
            Step::Key(Action::Move(-100)),
            Step::Key(Action::PageDown),
            Step::Key(Action::Move(7)),
            Step::Key(Action::Top),
            Step::Key(Action::TogglePause),
            Step::Key(Action::Clear),
            Step::Arrive(15),
            Step::Filter(" 1"), // edits the filter: "hit 1…" only
            Step::Arrive(200),
        ];
        let mut store = store_with(0, 50);
        // Two views given the same actions: one keeps its index current, one never builds it.
        let mut indexed = App::new(1);
        indexed.page_rows = 4;
        let mut scanning = indexed.clone();
        let mut i = 0;
        let mut checked_hits = 0;
        for (n, step) in steps.iter().enumerate() {
            let mut actions = Vec::new();
            match step {
                Step::Filter(text) => {
                    actions.push(Action::StartFilter);
                    actions.extend(text.chars().map(Action::InputChar));
                    actions.push(Action::InputSubmit);
                }
                Step::Arrive(n) => {
                    for _ in 0..*n {
                        // One record in seven mentions "hit".
                        let data = if i % 7 == 0 {
                            format!("hit {i}")
                        } else {
                            format!("n{i}")
                        };
                        store.apply(event(i * 1000, &data).dir(Dir::In));
                        i += 1;
                    }
                }
                Step::Key(action) => actions.push(action.clone()),
            }
            for action in &actions {
                indexed.sync_filter(&store);
                indexed.handle(action, &store);
                scanning.handle(action, &store);
            }
            indexed.sync_filter(&store);
            let s = &store.streams()[0];
            assert!(
                indexed.current_hits(0, s).is_some() || indexed.filter.is_empty(),
                "step {n}"
            );
            assert!(scanning.current_hits(0, s).is_none());
            assert_eq!(indexed.panes, scanning.panes, "step {n}: top and selection");
            assert_eq!(seqs(&indexed, &store), seqs(&scanning, &store), "step {n}");
            assert_eq!(
                indexed.selected_seq(0, s),
                scanning.selected_seq(0, s),
                "step {n}"
            );
            checked_hits += seqs(&indexed, &store).len();
        }
        assert!(checked_hits > 10, "the filter matched something to compare");
    }

    #[test]
    fn following_stays_on_newest() {
        let mut store = store_with(20, 100);
        let mut app = App::new(1);
        app.page_rows = 5;
        assert_eq!(seqs(&app, &store), vec![15, 16, 17, 18, 19]);
        store.apply(event(20_000, "new").dir(Dir::In));
        assert_eq!(seqs(&app, &store), vec![16, 17, 18, 19, 20]);
        assert_eq!(app.selected_seq(0, &store.streams()[0]), Some(20));
        assert_eq!(app.below(0, &store.streams()[0], 5), 0);
    }

    #[test]
    fn paused_keeps_selection_and_view_while_records_arrive() {
        let mut store = store_with(20, 100);
        let mut app = App::new(1);
        app.page_rows = 5;
        app.handle(&Action::Move(-2), &store);
        assert_eq!(app.panes[0].selected, Some(17));
        let before = seqs(&app, &store);
        for i in 20..30 {
            store.apply(event(i * 1000, "more").dir(Dir::In));
        }
        assert_eq!(seqs(&app, &store), before);
        assert_eq!(app.panes[0].selected, Some(17));
        assert_eq!(app.below(0, &store.streams()[0], 5), 10);
    }

    #[test]
    fn a_jq_filter_applies_on_enter_and_a_bad_one_falls_back_to_text() {
        // n0..n19, of which the JSON data of every fifth names ACME.
        let mut store = Store::new(vec![info(0, Proto::Sse)], 100);
        for i in 0..20 {
            let symbol = if i % 5 == 0 { "ACME" } else { "ZZZ" };
            let data = format!(r#"{{"n":{i},"symbol":"{symbol}"}}"#);
            store.apply(event(i * 1000, &data).dir(Dir::In));
        }
        let mut app = App::new(1);
        app.page_rows = 10;
        app.handle(&Action::StartFilter, &store);
        for c in r#".data | fromjson | .symbol == "ACME""#.chars() {
            app.handle(&Action::InputChar(c), &store);
        }
        assert_eq!(app.filter, "", "not applied while typed");
        app.handle(&Action::InputSubmit, &store);
        app.sync_filter(&store);
        assert_eq!(seqs(&app, &store), vec![0, 5, 10, 15]);
        // The same view without the index (scanning).
        let mut scanning = app.clone();
        scanning.hits = FilterIndex::default();
        assert_eq!(seqs(&scanning, &store), vec![0, 5, 10, 15]);
        // Records that arrive later are filtered too.
        store.apply(event(30_000, r#"{"n":30,"symbol":"ACME"}"#).dir(Dir::In));
        app.sync_filter(&store);
        assert_eq!(seqs(&app, &store), vec![0, 5, 10, 15, 20]);
        // Not jq after all: the footer says why, and the text is searched for.
        app.set_filter(".n\":1");
        assert!(
            app.status.as_deref().is_some_and(|s| s.starts_with("jq '")),
            "{:?}",
            app.status
        );
        app.sync_filter(&store);
        assert_eq!(seqs(&app, &store), Vec::<u64>::new());
        app.set_filter("\"n\":1,");
        app.sync_filter(&store);
        assert_eq!(seqs(&app, &store), vec![1]);
    }

    #[test]
    fn moving_past_the_window_scrolls_it() {
        let store = store_with(20, 100);
        let mut app = App::new(1);
        app.page_rows = 5;
        app.handle(&Action::Move(-7), &store);
        assert_eq!(app.panes[0].selected, Some(12));
        assert_eq!(seqs(&app, &store), vec![12, 13, 14, 15, 16]);
        app.handle(&Action::Move(6), &store);
        assert_eq!(app.panes[0].selected, Some(18));
        assert_eq!(seqs(&app, &store), vec![14, 15, 16, 17, 18]);
        app.handle(&Action::Bottom, &store);
        assert!(app.panes[0].following());
    }

    #[test]
    fn space_toggles_pause_and_g_goes_to_oldest_held() {
        let store = store_with(30, 10);
        let mut app = App::new(1);
        app.page_rows = 4;
        app.handle(&Action::TogglePause, &store);
        assert_eq!(app.panes[0].selected, Some(29));
        app.handle(&Action::Top, &store);
        assert_eq!(app.panes[0].selected, Some(20));
        assert_eq!(seqs(&app, &store), vec![20, 21, 22, 23]);
        app.handle(&Action::TogglePause, &store);
        assert!(app.panes[0].following());
    }

    #[test]
    fn filter_is_typed_live_and_escape_clears_it() {
        let store = store_with(20, 100);
        let mut app = App::new(1);
        app.handle(&Action::StartFilter, &store);
        assert_eq!(app.input_mode(), InputMode::Editing);
        for c in "n1".chars() {
            app.handle(&Action::InputChar(c), &store);
        }
        assert_eq!(app.filter, "n1");
        assert_eq!(seqs(&app, &store).len(), 10); // n1, n10..n19 minus the window cap
        app.handle(&Action::InputSubmit, &store);
        assert_eq!(app.input, None);
        assert_eq!(app.filter, "n1");
        app.handle(&Action::StartFilter, &store);
        app.handle(&Action::Back, &store);
        assert_eq!(app.filter, "");
    }

    #[test]
    fn clear_hides_what_was_there() {
        let mut store = store_with(5, 100);
        let mut app = App::new(1);
        app.handle(&Action::Clear, &store);
        assert!(seqs(&app, &store).is_empty());
        store.apply(event(6_000, "after").dir(Dir::In));
        assert_eq!(seqs(&app, &store), vec![5]);
    }

    #[test]
    fn send_on_ws_pane_parses_hex() {
        let store = Store::new(vec![info(0, Proto::Ws)], 10);
        let mut app = App::new(1);
        app.handle(&Action::StartSend, &store);
        for c in "0x00 ff".chars() {
            app.handle(&Action::InputChar(c), &store);
        }
        assert_eq!(
            app.handle(&Action::InputSubmit, &store),
            Some(Effect::Control(
                0,
                Control::Send(Payload::Binary(vec![0, 255].into()))
            ))
        );
    }

    #[test]
    fn send_and_ping_refused_on_sse_pane() {
        let store = store_with(1, 10);
        let mut app = App::new(1);
        assert_eq!(app.handle(&Action::StartSend, &store), None);
        assert_eq!(app.input, None);
        assert_eq!(app.handle(&Action::Ping, &store), None);
        assert_eq!(
            app.handle(&Action::Reconnect, &store),
            Some(Effect::Control(0, Control::ReconnectNow))
        );
    }

    #[test]
    fn bad_hex_keeps_the_input_open() {
        assert!(parse_send("0xabc").is_err());
        assert!(parse_send("0xzz").is_err());
        assert_eq!(parse_send("hi"), Ok(Payload::Text("hi".into())));
    }

    #[test]
    fn enter_opens_detail_of_newest_and_esc_closes() {
        let store = store_with(3, 10);
        let mut app = App::new(1);
        app.handle(&Action::OpenDetail, &store);
        assert_eq!(app.detail.map(|d| d.seq), Some(2));
        app.handle(&Action::Move(3), &store);
        assert_eq!(app.detail.map(|d| d.scroll), Some(3));
        app.handle(&Action::Back, &store);
        assert_eq!(app.detail, None);
        assert!(app.panes[0].following());
    }
}
