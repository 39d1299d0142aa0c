//! Terminal input to [`Action`]s: a pure table, so keys are documented in one place (`docs/keys.md`)
//! and testable without a terminal. What an action *does* is decided by [`super::app::App`].

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind,
};

/// Lines moved per mouse wheel notch.
pub(crate) const WHEEL_LINES: i64 = 3;

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

/// Maps one terminal event to an action, `None` for events the dashboard ignores.
pub(crate) fn map_event(event: &Event, mode: InputMode) -> Option<Action> {
    match event {
        Event::Key(key) => map_key(*key, mode),
        Event::Mouse(mouse) => map_mouse(*mouse),
        Event::Resize(..) => Some(Action::Resize),
        _ => None,
    }
}

/// Maps a key press.
pub(crate) fn map_key(key: KeyEvent, mode: InputMode) -> Option<Action> {
    // Windows reports releases too; acting on both would double every key.
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Quit);
    }
    if mode == InputMode::Editing {
        return match key.code {
            KeyCode::Char(c) if !ctrl => Some(Action::InputChar(c)),
            KeyCode::Backspace => Some(Action::InputBackspace),
            KeyCode::Enter => Some(Action::InputSubmit),
            KeyCode::Esc => Some(Action::Back),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Tab | KeyCode::BackTab => Action::FocusNext,
        KeyCode::Up | KeyCode::Char('k') => Action::Move(-1),
        KeyCode::Down | KeyCode::Char('j') => Action::Move(1),
        KeyCode::PageUp => Action::PageUp,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::Char('b') if ctrl => Action::PageUp,
        KeyCode::Char('f') if ctrl => Action::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Action::Top,
        KeyCode::End | KeyCode::Char('G') => Action::Bottom,
        KeyCode::Enter => Action::OpenDetail,
        KeyCode::Esc => Action::Back,
        KeyCode::Char(' ') => Action::TogglePause,
        KeyCode::Char('/') => Action::StartFilter,
        KeyCode::Char('c') => Action::Clear,
        KeyCode::Char('s') => Action::StartSend,
        KeyCode::Char('p') => Action::Ping,
        KeyCode::Char('r') => Action::Reconnect,
        KeyCode::Char('?') | KeyCode::F(1) => Action::ToggleHelp,
        _ => return None,
    })
}

/// Maps a mouse event: the wheel scrolls.
pub(crate) fn map_mouse(mouse: MouseEvent) -> Option<Action> {
    match mouse.kind {
        MouseEventKind::ScrollUp => Some(Action::Move(-WHEEL_LINES)),
        MouseEventKind::ScrollDown => Some(Action::Move(WHEEL_LINES)),
        _ => None,
    }
}

/// The key help: (keys, what they do), shown by `?` and in `docs/keys.md`.
pub(crate) const HELP: [(&str, &str); 17] = [
    ("q, Ctrl-C", "quit (closes every stream)"),
    ("Tab", "focus the other pane"),
    ("↑ ↓, k j", "move the selection (pauses)"),
    ("PgUp PgDn", "move one screen"),
    ("g, Home", "oldest record held"),
    ("G, End", "newest record, follow"),
    ("space", "pause / follow"),
    ("Enter", "detail of the selected record"),
    ("Esc", "close detail or help, cancel input"),
    ("/", "filter (substring of data, event type)"),
    ("c", "clear the view (records are kept)"),
    ("s", "send a message (WebSocket; 0x… is binary)"),
    ("p", "send a ping (WebSocket)"),
    ("r", "reconnect now"),
    ("?", "this help"),
    ("mouse wheel", "scroll"),
    ("Enter / Esc", "in an input line: accept / cancel"),
];

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
    fn docs_list_every_key_of_the_help() {
        let doc = include_str!("../../docs/keys.md");
        for (keys, _) in HELP {
            for key in keys.split(", ") {
                let key = key.split(" / ").next().unwrap_or(key);
                assert!(doc.contains(&format!("`{key}")), "docs/keys.md lacks {key}");
            }
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
        assert_eq!(map_mouse(m), Some(Action::Move(-3)));
    }
}
