//! The overview of many streams: one row per stream, sortable, a selection and a mark, and what
//! the keys do there. With more than two streams the dashboard opens on it; `Enter` opens the
//! selected stream in the two-pane view against another.
//!
//! This is view state only, like [`super::view`]: what is drawn is decided by
//! [`super::overview_table`] from the store. The order is computed once per frame
//! ([`Overview::sync`]), so the keys move through the rows the user sees.

use crate::record::kinds::KindTag;
use crate::store::{ConnState, Store, StreamState};

use super::keymap::Action;

/// What the overview is sorted by. The columns of the table, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Command-line (or config) order.
    Index,
    /// Connection state, the worst first.
    State,
    /// Events and messages per second.
    Rate,
    /// Time since the last record.
    Age,
    /// 99th percentile of the gaps.
    GapP99,
    /// Reconnects.
    Reconnects,
    /// Sequence gaps.
    IdGaps,
    /// Lints.
    Lints,
    /// Bytes on the wire.
    Bytes,
}

impl SortKey {
    /// Every key, in column order.
    pub const ALL: [SortKey; 9] = [
        SortKey::Index,
        SortKey::State,
        SortKey::Rate,
        SortKey::Age,
        SortKey::GapP99,
        SortKey::Reconnects,
        SortKey::IdGaps,
        SortKey::Lints,
        SortKey::Bytes,
    ];

    /// The column's heading.
    pub const fn name(self) -> &'static str {
        match self {
            SortKey::Index => "#",
            SortKey::State => "state",
            SortKey::Rate => "rec/s",
            SortKey::Age => "last",
            SortKey::GapP99 => "gap p99",
            SortKey::Reconnects => "reconn",
            SortKey::IdGaps => "id gaps",
            SortKey::Lints => "lints",
            SortKey::Bytes => "wire",
        }
    }

    fn step(self, forward: bool) -> SortKey {
        let n = Self::ALL.len();
        let at = Self::ALL.iter().position(|k| *k == self).unwrap_or(0);
        Self::ALL[if forward { at + 1 } else { at + n - 1 } % n]
    }

    /// A stream's value for this key, larger meaning "look at this first" (so every key but the
    /// index sorts descending by default: the worst stream on top).
    fn value(self, s: &StreamState, now_us: i64) -> f64 {
        let st = &s.stats;
        match self {
            SortKey::Index => -(s.info.index as f64),
            SortKey::State => f64::from(state_rank(&s.state)),
            SortKey::Rate => st.rate_per_sec(now_us),
            SortKey::Age => st.last_ts_us.map_or(f64::INFINITY, |t| (now_us - t) as f64),
            SortKey::GapP99 => st.gap_ms_at(0.99).unwrap_or(-1.0),
            SortKey::Reconnects => st.reconnects as f64,
            SortKey::IdGaps => st.by_kind[KindTag::IdGap as usize] as f64,
            SortKey::Lints => st.by_kind[KindTag::Lint as usize] as f64,
            SortKey::Bytes => st.wire_bytes as f64,
        }
    }
}

/// How bad a state is, for sorting: failed first, open last.
fn state_rank(state: &ConnState) -> u8 {
    match state {
        ConnState::Failed { .. } => 5,
        ConnState::Reconnecting { .. } => 4,
        ConnState::Closed { .. } => 3,
        ConnState::Connecting => 2,
        ConnState::Ended { .. } => 1,
        ConnState::Open { .. } => 0,
    }
}

/// What the loop must do after a key in the overview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverviewEffect {
    /// Open the two panes on these streams (positions), the first one focused.
    Open(usize, usize),
}

/// The overview's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    /// The selected stream (a position in the store, not a row: it stays on its stream as the
    /// rows move).
    pub selected: usize,
    /// The stream marked to compare with (`m`).
    pub marked: Option<usize>,
    /// The first row shown.
    pub top: usize,
    /// Rows the table shows, set from the layout (for paging and scrolling).
    pub page_rows: usize,
    /// The sort column.
    pub sort: SortKey,
    /// Reversed from the column's own order.
    pub reversed: bool,
    /// Stream positions in the order of the rows, as of the last [`Overview::sync`].
    pub order: Vec<usize>,
    /// The stream last compared with, offered again when nothing is marked.
    pub last_other: Option<usize>,
}

impl Overview {
    /// An overview of `streams` streams in their own order, the first selected.
    pub fn new(streams: usize) -> Self {
        Overview {
            selected: 0,
            marked: None,
            top: 0,
            page_rows: 10,
            sort: SortKey::Index,
            reversed: false,
            order: (0..streams).collect(),
            last_other: None,
        }
    }

    /// Sorts the rows by the current key at data time `now_us`, and scrolls just enough to keep
    /// the selected row on screen. Called before each frame.
    pub fn sync(&mut self, store: &Store, now_us: i64) {
        let streams = store.streams();
        let mut keyed: Vec<(f64, usize)> = streams
            .iter()
            .enumerate()
            .map(|(i, s)| (self.sort.value(s, now_us), i))
            .collect();
        // Descending by value; ties (and NaN) in stream order, so the table does not flicker.
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        if self.reversed {
            keyed.reverse();
        }
        self.order = keyed.into_iter().map(|(_, i)| i).collect();
        if self.selected >= streams.len() {
            self.selected = 0;
        }
        self.scroll_to_selected();
    }

    /// The row of the selected stream.
    pub fn selected_row(&self) -> usize {
        self.order
            .iter()
            .position(|&s| s == self.selected)
            .unwrap_or(0)
    }

    fn scroll_to_selected(&mut self) {
        let row = self.selected_row();
        let rows = self.page_rows.max(1);
        if row < self.top {
            self.top = row;
        } else if row >= self.top + rows {
            self.top = row + 1 - rows;
        }
        self.top = self.top.min(self.order.len().saturating_sub(rows));
    }

    fn select_row(&mut self, row: usize) {
        if let Some(&s) = self.order.get(row.min(self.order.len().saturating_sub(1))) {
            self.selected = s;
            self.scroll_to_selected();
        }
    }

    /// Reacts to a key; returns what the loop must do, if anything.
    pub fn handle(&mut self, action: &Action) -> Option<OverviewEffect> {
        let row = self.selected_row();
        let page = self.page_rows.max(1);
        match action {
            Action::Move(n) => {
                let steps = usize::try_from(n.unsigned_abs()).unwrap_or(usize::MAX);
                let to = if *n < 0 {
                    row.saturating_sub(steps)
                } else {
                    row.saturating_add(steps)
                };
                self.select_row(to);
            }
            Action::PageUp => self.select_row(row.saturating_sub(page)),
            Action::PageDown => self.select_row(row + page),
            Action::Top => self.select_row(0),
            Action::Bottom => self.select_row(usize::MAX),
            Action::SortNext => self.sort = self.sort.step(true),
            Action::SortPrev => self.sort = self.sort.step(false),
            Action::SortReverse => self.reversed = !self.reversed,
            Action::Mark => {
                self.marked = if self.marked == Some(self.selected) {
                    None
                } else {
                    Some(self.selected)
                };
            }
            Action::OpenDetail => {
                let other = self.other_for(self.selected)?;
                self.last_other = Some(other);
                return Some(OverviewEffect::Open(self.selected, other));
            }
            _ => {}
        }
        None
    }

    /// The stream to compare `selected` with: the marked one, else the one compared last time,
    /// else the row below (above, on the last row). `None` with a single stream.
    pub fn other_for(&self, selected: usize) -> Option<usize> {
        let candidates = [self.marked, self.last_other];
        if let Some(o) = candidates.into_iter().flatten().find(|&o| o != selected) {
            return Some(o);
        }
        let row = self.order.iter().position(|&s| s == selected)?;
        self.order
            .get(row + 1)
            .or_else(|| row.checked_sub(1).and_then(|r| self.order.get(r)))
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Kind, Proto};
    use crate::testkit::{event, info, rec};

    /// Three streams: #0 quiet, #1 busy, #2 reconnecting.
    fn store() -> Store {
        let mut store = Store::new(
            vec![info(0, Proto::Sse), info(1, Proto::Sse), info(2, Proto::Ws)],
            100,
        );
        store.apply(event(1_000_000, "a").traffic(10, 1, 1.0));
        for i in 0..10 {
            store.apply(event(1_000_000 + i * 1_000, "b").traffic(100, 1, 1.0).on(1));
        }
        store.apply(
            rec(
                2_000_000,
                Kind::Reconnect {
                    attempt: 1,
                    delay_ms: 1000,
                    last_event_id: None,
                    reason: "x".into(),
                    retry_ms: None,
                },
            )
            .on(2),
        );
        store
    }

    #[test]
    fn sorts_worst_first_and_keeps_the_selection_on_its_stream() {
        let store = store();
        let mut ov = Overview::new(3);
        ov.sync(&store, 3_000_000);
        assert_eq!(ov.order, [0, 1, 2]);
        ov.handle(&Action::Move(1));
        assert_eq!(ov.selected, 1);
        ov.handle(&Action::SortNext); // state
        ov.sync(&store, 3_000_000);
        assert_eq!(ov.order[0], 2, "reconnecting before open");
        ov.handle(&Action::SortNext); // rate
        ov.sync(&store, 3_000_000);
        assert_eq!(ov.order, [1, 0, 2]);
        assert_eq!(ov.selected, 1, "the selection follows its stream");
        assert_eq!(ov.selected_row(), 0);
        ov.handle(&Action::SortReverse);
        ov.sync(&store, 3_000_000);
        assert_eq!(ov.order, [2, 0, 1]);
        ov.handle(&Action::SortPrev);
        ov.handle(&Action::SortPrev);
        ov.handle(&Action::SortPrev);
        assert_eq!(ov.sort, SortKey::Bytes, "wraps around");
    }

    #[test]
    fn enter_opens_against_the_mark_then_the_last_then_the_next_row() {
        let store = store();
        let mut ov = Overview::new(3);
        ov.sync(&store, 3_000_000);
        assert_eq!(
            ov.handle(&Action::OpenDetail),
            Some(OverviewEffect::Open(0, 1))
        );
        ov.handle(&Action::Bottom);
        assert_eq!(
            ov.handle(&Action::OpenDetail),
            Some(OverviewEffect::Open(2, 1))
        );
        ov.handle(&Action::Top);
        ov.handle(&Action::Mark);
        ov.handle(&Action::Move(1));
        assert_eq!(
            ov.handle(&Action::OpenDetail),
            Some(OverviewEffect::Open(1, 0))
        );
        // Unmarking: `m` again on the marked row.
        ov.handle(&Action::Top);
        ov.handle(&Action::Mark);
        assert_eq!(ov.marked, None);
    }

    #[test]
    fn scrolls_to_keep_the_selection_visible() {
        let infos = (0..50).map(|i| info(i, Proto::Sse)).collect();
        let store = Store::new(infos, 10);
        let mut ov = Overview::new(50);
        ov.page_rows = 10;
        ov.sync(&store, 0);
        ov.handle(&Action::PageDown);
        ov.handle(&Action::PageDown);
        assert_eq!((ov.selected, ov.top), (20, 11));
        ov.handle(&Action::Bottom);
        assert_eq!((ov.selected, ov.top), (49, 40));
        ov.handle(&Action::Move(-45));
        assert_eq!((ov.selected, ov.top), (4, 4));
    }
}
