//! Terminal input to [`Action`]s through one table, [`KEY_TABLE`]: `map_key` and `map_mouse` look
//! keys up in it, the `?` overlay draws it and the key table of `docs/keys.md` is generated from it
//! (a test fails when the page and the table differ), so the three cannot disagree. What an action
//! *does* is decided by [`super::view::App`].

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind,
};

/// Lines moved per mouse wheel notch.
const WHEEL_LINES: i64 = 3;

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Leave the dashboard (shuts every stream down).
    Quit,
    /// Focus the next pane.
    FocusNext,
    /// Move the selection by this many rows (negative is up, towards older records).
    Move(i64),
    /// Move by one screen up.
    PageUp,
    /// Move by one screen down.
    PageDown,
    /// Select the oldest record held.
    Top,
    /// Select the newest record and follow.
    Bottom,
    /// Open the detail of the selected record.
    OpenDetail,
    /// Switch a pane between the LLM view (the answer and its timing) and the raw records.
    ToggleLlm,
    /// Close the innermost overlay (detail, help), or cancel input.
    Back,
    /// Switch between following the newest record and paused.
    TogglePause,
    /// Start editing the filter.
    StartFilter,
    /// Hide what is on screen now (view only; the store keeps everything).
    Clear,
    /// Start typing a message to send (WebSocket panes).
    StartSend,
    /// Send a WebSocket ping.
    Ping,
    /// Drop the connection and reconnect now.
    Reconnect,
    /// Show or hide the key help.
    ToggleHelp,
    /// A character typed into the input line.
    InputChar(char),
    /// Delete the character before the cursor.
    InputBackspace,
    /// Accept the input line.
    InputSubmit,
    /// The terminal was resized (redraw).
    Resize,
    /// Show the overview of all streams, or go back to the panes.
    ToggleOverview,
    /// Overview: sort by the next column.
    SortNext,
    /// Overview: sort by the previous column.
    SortPrev,
    /// Overview: reverse the order.
    SortReverse,
    /// Overview: mark (or unmark) the selected stream as the one to compare with.
    Mark,
}

/// Whether keys go to the input line (filter or send) or are commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InputMode {
    /// Keys are commands.
    #[default]
    Normal,
    /// Keys edit the input line.
    Editing,
}

/// A key as the table names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Key {
    /// This key whatever modifiers are held: terminals differ in the Shift, Alt or Ctrl they report
    /// with `G`, `?` or Shift-Tab, and a key that works only without them would seem broken.
    Plain(KeyCode),
    /// This character with Ctrl held. Looked up before [`Key::Plain`], so `Ctrl-C` quits while `c`
    /// clears.
    Ctrl(char),
    /// The mouse wheel turned up.
    WheelUp,
    /// The mouse wheel turned down.
    WheelDown,
}

impl Key {
    /// How the help and `docs/keys.md` write the key.
    pub(crate) fn name(self) -> String {
        match self {
            Key::Plain(code) => match code {
                KeyCode::Char(' ') => "space".into(),
                KeyCode::Char(c) => c.to_string(),
                KeyCode::Up => "↑".into(),
                KeyCode::Down => "↓".into(),
                KeyCode::PageUp => "PgUp".into(),
                KeyCode::PageDown => "PgDn".into(),
                KeyCode::BackTab => "Shift-Tab".into(),
                KeyCode::F(n) => format!("F{n}"),
                other => other.to_string(),
            },
            Key::Ctrl(c) => format!("Ctrl-{}", c.to_ascii_uppercase()),
            // One name for both directions: the help shows "mouse wheel" once.
            Key::WheelUp | Key::WheelDown => "mouse wheel".into(),
        }
    }
}

/// The input modes a chord works in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Commands only ([`InputMode::Normal`]).
    Normal,
    /// The input line only ([`InputMode::Editing`]).
    Editing,
    /// Both.
    Always,
}

impl Scope {
    /// Whether a chord of this scope works in `mode`.
    pub(crate) fn includes(self, mode: InputMode) -> bool {
        match self {
            Scope::Always => true,
            Scope::Normal => mode == InputMode::Normal,
            Scope::Editing => mode == InputMode::Editing,
        }
    }
}

/// A key and the modes it works in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Chord {
    /// The key.
    pub(crate) key: Key,
    /// Where it works.
    pub(crate) scope: Scope,
}

/// The chords that give one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Binding {
    /// What they do.
    pub(crate) action: Action,
    /// The alternatives, in the order the help lists them.
    pub(crate) chords: &'static [Chord],
}

/// One line of the help: bindings that share a description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyRow {
    /// The bindings. Several bindings on a row are read in parallel: the help puts their first
    /// chords together, then their second ones (`↑ ↓, k j`).
    pub(crate) bindings: &'static [Binding],
    /// The short text of the `?` overlay.
    pub(crate) help: &'static str,
    /// The longer text of `docs/keys.md`.
    pub(crate) doc: &'static str,
}

impl KeyRow {
    /// The keys of the row, one group per alternative: `["↑ ↓", "k j"]`.
    pub(crate) fn key_groups(&self) -> Vec<String> {
        let alternatives = self.bindings.iter().map(|b| b.chords.len()).max();
        (0..alternatives.unwrap_or(0))
            .map(|i| {
                let mut names: Vec<String> = Vec::new();
                for chord in self.bindings.iter().filter_map(|b| b.chords.get(i)) {
                    let name = chord.key.name();
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
                names.join(" ")
            })
            .collect()
    }
}

// Shorthands that keep the table readable.

const fn normal(key: Key) -> Chord {
    Chord {
        key,
        scope: Scope::Normal,
    }
}

const fn editing(key: Key) -> Chord {
    Chord {
        key,
        scope: Scope::Editing,
    }
}

const fn always(key: Key) -> Chord {
    Chord {
        key,
        scope: Scope::Always,
    }
}

const fn ch(c: char) -> Key {
    Key::Plain(KeyCode::Char(c))
}

const fn code(code: KeyCode) -> Key {
    Key::Plain(code)
}

/// Every key of the dashboard, in the order of the help. In an input line, a character that no
/// chord of the input line claims (so any without Ctrl) is typed.
pub(crate) const KEY_TABLE: &[KeyRow] = &[
    KeyRow {
        bindings: &[Binding {
            action: Action::Quit,
            chords: &[normal(ch('q')), always(Key::Ctrl('c'))],
        }],
        help: "quit (closes every stream)",
        doc: "quit: every stream is sent `Shutdown` (WebSocket closing handshake) and the terminal \
              is restored; `Ctrl-C` also quits from an input line",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::FocusNext,
            chords: &[normal(code(KeyCode::Tab)), normal(code(KeyCode::BackTab))],
        }],
        help: "focus the other pane",
        doc: "focus the other pane (with two streams)",
    },
    KeyRow {
        bindings: &[
            Binding {
                action: Action::Move(-1),
                chords: &[normal(code(KeyCode::Up)), normal(ch('k'))],
            },
            Binding {
                action: Action::Move(1),
                chords: &[normal(code(KeyCode::Down)), normal(ch('j'))],
            },
        ],
        help: "move the selection (pauses)",
        doc: "move the selection one record; moving pauses a following pane",
    },
    KeyRow {
        bindings: &[
            Binding {
                action: Action::PageUp,
                chords: &[normal(code(KeyCode::PageUp)), normal(Key::Ctrl('b'))],
            },
            Binding {
                action: Action::PageDown,
                chords: &[normal(code(KeyCode::PageDown)), normal(Key::Ctrl('f'))],
            },
        ],
        help: "move one screen",
        doc: "move one screen",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::Top,
            chords: &[normal(ch('g')), normal(code(KeyCode::Home))],
        }],
        help: "oldest record held",
        doc: "select the oldest record still held in the history",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::Bottom,
            chords: &[normal(ch('G')), normal(code(KeyCode::End))],
        }],
        help: "newest record, follow",
        doc: "select the newest record and follow again",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::TogglePause,
            chords: &[normal(ch(' '))],
        }],
        help: "pause / follow",
        doc: "pause / follow",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::OpenDetail,
            chords: &[normal(code(KeyCode::Enter))],
        }],
        help: "detail of the selected record; overview: open the stream",
        doc: "detail of the selected record (all fields, headers of an `open`, JSON \
              pretty-printed, binary as hex); in the overview, open the selected stream in the \
              two panes, against the marked stream (`m`), else the one compared last, else the \
              next row",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::ToggleLlm,
            chords: &[normal(ch('l'))],
        }],
        help: "LLM view / raw records",
        doc: "on an LLM completion stream: switch the pane between the LLM view (the answer as it \
              grows, time to first token, inter-token latency, tokens/s, a strip of the \
              inter-token gaps with stalls standing out) and its raw records; moving through \
              records also shows them",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::Back,
            chords: &[always(code(KeyCode::Esc))],
        }],
        help: "close detail or help, cancel input, overview",
        doc: "close the detail or help view; in an input line, cancel; in the panes of more \
              than two streams, back to the overview",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::StartFilter,
            chords: &[normal(ch('/'))],
        }],
        help: "filter (substring, #ID sub-stream, .jq expression)",
        doc: "filter: substring of the event type and data (also comment text, error message, \
              close reason, a decoded message's protocol, type and event); applied as you type, \
              `Enter` keeps it, `Esc` removes it. Case-sensitive. `#ID` shows one decoded \
              sub-stream exactly (docs/decoders.md); a text starting with `.` is a jq expression \
              over each record's JSON line (`.decoded.event == \"tick\"`), applied on `Enter`",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::Clear,
            chords: &[normal(ch('c'))],
        }],
        help: "clear the view (records are kept)",
        doc: "clear the focused pane: records received so far are hidden from the view; the \
              store, counters and stats keep them",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::StartSend,
            chords: &[normal(ch('s'))],
        }],
        help: "send a message (WebSocket; 0x… is binary)",
        doc: "send a message on a WebSocket pane: type it, `Enter` sends. Text is sent as a \
              text message; `0x…` (hex digits, spaces allowed) is sent as a binary message",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::Ping,
            chords: &[normal(ch('p'))],
        }],
        help: "send a ping (WebSocket; HTTP/2 PING)",
        doc: "send a WebSocket ping (its pong shows the round trip time); on an SSE stream over \
              HTTP/2, a PING frame on its connection (its ACK shows the round trip time)",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::Reconnect,
            chords: &[normal(ch('r'))],
        }],
        help: "reconnect now",
        doc: "drop the connection and reconnect now",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::ToggleHelp,
            chords: &[normal(ch('?')), normal(code(KeyCode::F(1)))],
        }],
        help: "this help: what each figure means, and the keys",
        doc: "help: what every column and figure of the part of the screen it was pressed in \
              means (record list, stats, comparison strip, LLM view, overview: see Figures \
              below), then every key; `↑ ↓` and `PgUp PgDn` scroll it, any other key closes it",
    },
    // `Always`, as the wheel has always been mapped: in an input line the view ignores it.
    KeyRow {
        bindings: &[
            Binding {
                action: Action::Move(-WHEEL_LINES),
                chords: &[always(Key::WheelUp)],
            },
            Binding {
                action: Action::Move(WHEEL_LINES),
                chords: &[always(Key::WheelDown)],
            },
        ],
        help: "scroll",
        doc: "move three records (scrolls the detail view when it is open)",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::ToggleOverview,
            chords: &[normal(ch('o'))],
        }],
        help: "overview of all streams / the panes",
        doc: "the overview: one row per stream (state, protocol, rate, age of the last record, \
              gap p99, reconnects, sequence gaps, lints, bytes); the dashboard opens on it with \
              more than two streams; `o` again goes back to the panes",
    },
    KeyRow {
        bindings: &[
            Binding {
                action: Action::SortPrev,
                chords: &[normal(ch('<'))],
            },
            Binding {
                action: Action::SortNext,
                chords: &[normal(ch('>'))],
            },
        ],
        help: "overview: sort by another column",
        doc: "overview: sort by the previous / next column; each sorts the worst first (failed \
              before open, slowest, stalest, most reconnects…), the first column in stream order",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::SortReverse,
            chords: &[normal(ch('i'))],
        }],
        help: "overview: reverse the order",
        doc: "overview: reverse the order",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::Mark,
            chords: &[normal(ch('m'))],
        }],
        help: "overview: mark the stream to compare with",
        doc: "overview: mark the selected stream (★) as the one `Enter` compares others with; \
              again to unmark",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::InputSubmit,
            chords: &[editing(code(KeyCode::Enter))],
        }],
        help: "in an input line: accept",
        doc: "in an input line: accept (keep the filter, send the message)",
    },
    KeyRow {
        bindings: &[Binding {
            action: Action::InputBackspace,
            chords: &[editing(code(KeyCode::Backspace))],
        }],
        help: "in an input line: delete",
        doc: "in an input line: delete the last character",
    },
];

/// The bindings of the table that work in `mode`, as (key, action).
fn bindings_in(mode: InputMode) -> impl Iterator<Item = (Key, &'static Action)> {
    KEY_TABLE
        .iter()
        .flat_map(|row| row.bindings)
        .flat_map(move |b| {
            b.chords
                .iter()
                .filter(move |c| c.scope.includes(mode))
                .map(move |c| (c.key, &b.action))
        })
}

/// The action bound to `key` in `mode`.
fn lookup(key: Key, mode: InputMode) -> Option<Action> {
    bindings_in(mode)
        .find(|(k, _)| *k == key)
        .map(|(_, action)| action.clone())
}

/// Maps one terminal event to an action, `None` for events the dashboard ignores.
pub(crate) fn map_event(event: &Event, mode: InputMode) -> Option<Action> {
    match event {
        Event::Key(key) => map_key(*key, mode),
        Event::Mouse(mouse) => map_mouse(*mouse, mode),
        Event::Resize(..) => Some(Action::Resize),
        _ => None,
    }
}

/// Maps a key press: a Ctrl chord first, then the key whatever its modifiers, then (in an input
/// line) the character typed.
pub(crate) fn map_key(key: KeyEvent, mode: InputMode) -> Option<Action> {
    // Windows reports releases too; acting on both would double every key.
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl
        && let KeyCode::Char(c) = key.code
        && let Some(action) = lookup(Key::Ctrl(c), mode)
    {
        return Some(action);
    }
    if let Some(action) = lookup(Key::Plain(key.code), mode) {
        return Some(action);
    }
    match key.code {
        KeyCode::Char(c) if mode == InputMode::Editing && !ctrl => Some(Action::InputChar(c)),
        _ => None,
    }
}

/// Maps a mouse event: the wheel scrolls.
pub(crate) fn map_mouse(mouse: MouseEvent, mode: InputMode) -> Option<Action> {
    let key = match mouse.kind {
        MouseEventKind::ScrollUp => Key::WheelUp,
        MouseEventKind::ScrollDown => Key::WheelDown,
        _ => return None,
    };
    lookup(key, mode)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn q_quits_in_normal_mode_but_types_in_editing() {
        assert_eq!(
            map_key(key(KeyCode::Char('q')), InputMode::Normal),
            Some(Action::Quit)
        );
        assert_eq!(
            map_key(key(KeyCode::Char('q')), InputMode::Editing),
            Some(Action::InputChar('q'))
        );
    }

    #[test]
    fn ctrl_c_quits_in_every_mode() {
        let k = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(map_key(k, InputMode::Normal), Some(Action::Quit));
        assert_eq!(map_key(k, InputMode::Editing), Some(Action::Quit));
    }

    #[test]
    fn vi_keys_and_arrows_move() {
        for (code, n) in [
            (KeyCode::Char('j'), 1),
            (KeyCode::Down, 1),
            (KeyCode::Char('k'), -1),
            (KeyCode::Up, -1),
        ] {
            assert_eq!(map_key(key(code), InputMode::Normal), Some(Action::Move(n)));
        }
    }

    #[test]
    fn key_release_is_ignored() {
        let mut k = key(KeyCode::Char('j'));
        k.kind = KeyEventKind::Release;
        assert_eq!(map_key(k, InputMode::Normal), None);
    }

    #[test]
    fn plain_keys_ignore_modifiers_and_ctrl_chords_need_ctrl() {
        let with = |c: char, m: KeyModifiers| KeyEvent::new(KeyCode::Char(c), m);
        // Terminals report `G` and `?` with or without Shift.
        assert_eq!(
            map_key(with('G', KeyModifiers::SHIFT), InputMode::Normal),
            Some(Action::Bottom)
        );
        assert_eq!(
            map_key(with('j', KeyModifiers::CONTROL), InputMode::Normal),
            Some(Action::Move(1))
        );
        assert_eq!(
            map_key(with('c', KeyModifiers::ALT), InputMode::Normal),
            Some(Action::Clear)
        );
        assert_eq!(
            map_key(with('b', KeyModifiers::CONTROL), InputMode::Normal),
            Some(Action::PageUp)
        );
        assert_eq!(map_key(key(KeyCode::Char('b')), InputMode::Normal), None);
        // In an input line Ctrl chords other than Ctrl-C do nothing, and Ctrl-B is not typed.
        assert_eq!(
            map_key(with('b', KeyModifiers::CONTROL), InputMode::Editing),
            None
        );
        assert_eq!(
            map_key(with('é', KeyModifiers::ALT), InputMode::Editing),
            Some(Action::InputChar('é'))
        );
    }

    fn event_of(chord_key: Key) -> Event {
        let mouse = |kind| MouseEvent {
            kind,
            column: 0,
            row: 0,
            modifiers: KeyModifiers::NONE,
        };
        match chord_key {
            Key::Plain(code) => Event::Key(key(code)),
            Key::Ctrl(c) => Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
            Key::WheelUp => Event::Mouse(mouse(MouseEventKind::ScrollUp)),
            Key::WheelDown => Event::Mouse(mouse(MouseEventKind::ScrollDown)),
        }
    }

    const MODES: [InputMode; 2] = [InputMode::Normal, InputMode::Editing];

    #[test]
    fn every_chord_of_the_table_maps_to_its_action() {
        for row in KEY_TABLE {
            for b in row.bindings {
                for chord in b.chords {
                    for mode in MODES {
                        let got = map_event(&event_of(chord.key), mode);
                        if chord.scope.includes(mode) {
                            assert_eq!(got, Some(b.action.clone()), "{chord:?} in {mode:?}");
                        } else {
                            assert_ne!(got, Some(b.action.clone()), "{chord:?} in {mode:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn no_chord_is_bound_twice_in_one_mode() {
        for mode in MODES {
            let keys: Vec<Key> = bindings_in(mode).map(|(k, _)| k).collect();
            for (i, k) in keys.iter().enumerate() {
                assert!(!keys[..i].contains(k), "{k:?} bound twice in {mode:?}");
            }
        }
        // A character bound in an input line could no longer be typed there.
        assert!(
            !bindings_in(InputMode::Editing)
                .any(|(k, _)| matches!(k, Key::Plain(KeyCode::Char(_)))),
            "a character key is bound in the input line"
        );
    }

    #[test]
    fn rows_are_well_formed() {
        for row in KEY_TABLE {
            let n = row.bindings[0].chords.len();
            assert!(
                row.bindings.iter().all(|b| b.chords.len() == n),
                "{}: bindings of a row give the same number of alternatives",
                row.help
            );
            assert!(!row.help.is_empty() && !row.doc.is_empty());
        }
        assert_eq!(KEY_TABLE[2].key_groups(), ["↑ ↓", "k j"]);
        assert_eq!(KEY_TABLE[16].key_groups(), ["mouse wheel"]);
    }

    const DOC_BEGIN: &str = "<!-- keys:begin";
    const DOC_END: &str = "<!-- keys:end -->";

    /// The table of `docs/keys.md`, made from [`KEY_TABLE`].
    fn doc_table() -> String {
        use std::fmt::Write as _;
        let mut out = String::from("| keys | what it does |\n|---|---|\n");
        for row in KEY_TABLE {
            let keys: Vec<String> = row.key_groups().iter().map(|g| format!("`{g}`")).collect();
            let _ = writeln!(out, "| {} | {} |", keys.join(", "), row.doc);
        }
        out
    }

    /// `doc` with the lines between the markers replaced by `table`.
    fn with_table(doc: &str, table: &str) -> String {
        let begin = doc
            .find(DOC_BEGIN)
            .expect("docs/keys.md has the begin marker");
        let begin = begin + doc[begin..].find('\n').expect("a line after the marker") + 1;
        let end = doc.find(DOC_END).expect("docs/keys.md has the end marker");
        format!("{}{table}{}", &doc[..begin], &doc[end..])
    }

    /// `STREAMSCOPE_UPDATE_DOCS=1 cargo test --lib keymap` rewrites the table of the page.
    #[test]
    fn docs_keys_md_shows_the_key_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/keys.md");
        let doc = std::fs::read_to_string(path).expect("read docs/keys.md");
        let want = with_table(&doc, &doc_table());
        if std::env::var_os("STREAMSCOPE_UPDATE_DOCS").is_some() {
            std::fs::write(path, &want).expect("write docs/keys.md");
        } else {
            assert_eq!(
                doc, want,
                "docs/keys.md differs from KEY_TABLE; STREAMSCOPE_UPDATE_DOCS=1 cargo test --lib \
                 keymap rewrites it"
            );
        }
    }

    #[test]
    fn wheel_scrolls_three_lines() {
        let m = MouseEvent {
            kind: MouseEventKind::ScrollUp,
            column: 0,
            row: 0,
            modifiers: KeyModifiers::NONE,
        };
        assert_eq!(map_mouse(m, InputMode::Normal), Some(Action::Move(-3)));
        assert_eq!(map_mouse(m, InputMode::Editing), Some(Action::Move(-3)));
    }
}
