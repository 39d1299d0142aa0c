//! Colours of the dashboard, by semantic role (what a thing *is*: an SSE event, an error, a gap),
//! never by widget, so a theme file stays meaningful when the layout changes.
//!
//! Themes are TOML files (`themes/*.toml`, embedded with `include_str!`), kebab-case keys, one inline
//! table per role: `sse = { fg = "cyan", modifiers = ["bold"] }`. A file only needs the roles it
//! changes: the rest come from [`Theme::default`]. Unknown keys and bad colours are reported with the
//! file, line and column. `NO_COLOR` (set and non-empty) strips every colour and keeps modifiers.

use std::fmt;
use std::path::Path;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

/// The built-in themes, by name, with their TOML source.
pub(crate) const BUILTIN: [(&str, &str); 4] = [
    ("default", include_str!("../../themes/default.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
    ("ansi16", include_str!("../../themes/ansi16.toml")),
];

/// Why a theme could not be loaded.
#[derive(Debug)]
pub enum ThemeError {
    /// Neither a built-in name nor a readable file.
    Io {
        /// What was asked for.
        path: String,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The file is not a valid theme.
    Parse {
        /// Built-in name or file path.
        file: String,
        /// 1-based line of the offending text.
        line: usize,
        /// 1-based column (in characters).
        column: usize,
        /// What is wrong.
        message: String,
    },
}

impl fmt::Display for ThemeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ThemeError::Io { path, source } => write!(
                f,
                "theme {path:?}: not a built-in theme ({}) and not readable: {source}",
                BUILTIN.map(|(n, _)| n).join(", ")
            ),
            ThemeError::Parse {
                file,
                line,
                column,
                message,
            } => write!(f, "{file}:{line}:{column}: {message}"),
        }
    }
}

impl std::error::Error for ThemeError {}

/// A colour written in a theme file: a name (`light-red`), `#rrggbb`, or a 0-255 palette index.
#[derive(Debug, Clone, Copy)]
struct ColorSpec(Color);

impl<'de> Deserialize<'de> for ColorSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<Color>().map(ColorSpec).map_err(|_| {
            serde::de::Error::custom(format!(
                "bad colour {s:?}: use a name like \"light-red\", \"#rrggbb\" or a 0-255 index"
            ))
        })
    }
}

/// Text modifiers a role may add.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum ModSpec {
    Bold,
    Dim,
    Italic,
    Underlined,
    Reversed,
    CrossedOut,
}

impl ModSpec {
    fn modifier(self) -> Modifier {
        match self {
            ModSpec::Bold => Modifier::BOLD,
            ModSpec::Dim => Modifier::DIM,
            ModSpec::Italic => Modifier::ITALIC,
            ModSpec::Underlined => Modifier::UNDERLINED,
            ModSpec::Reversed => Modifier::REVERSED,
            ModSpec::CrossedOut => Modifier::CROSSED_OUT,
        }
    }
}

/// One role as written in a file.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RoleSpec {
    fg: Option<ColorSpec>,
    bg: Option<ColorSpec>,
    #[serde(default)]
    modifiers: Vec<ModSpec>,
}

impl RoleSpec {
    fn style(&self) -> Style {
        let mut style = Style::new();
        if let Some(c) = self.fg {
            style = style.fg(c.0);
        }
        if let Some(c) = self.bg {
            style = style.bg(c.0);
        }
        self.modifiers
            .iter()
            .fold(style, |s, m| s.add_modifier(m.modifier()))
    }
}

/// Declares the roles once: the [`Theme`] struct, the file struct and the layering between them.
macro_rules! roles {
    ($($(#[doc = $doc:literal])* $name:ident = $key:literal),* $(,)?) => {
        /// Styles by semantic role.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct Theme {
            $($(#[doc = $doc])* pub $name: Style,)*
        }

        #[derive(Debug, Deserialize)]
        #[serde(rename_all = "kebab-case", deny_unknown_fields)]
        struct ThemeFile {
            /// Informational; the name a theme is loaded by is its file name.
            #[expect(dead_code, reason = "accepted so theme files can name themselves; never read")]
            name: Option<String>,
            $(#[serde(rename = $key)] $name: Option<RoleSpec>,)*
        }

        impl ThemeFile {
            fn over(self, mut base: Theme) -> Theme {
                $(if let Some(spec) = self.$name { base.$name = spec.style(); })*
                base
            }
        }

        impl Theme {
            fn map_styles(&self, f: impl Fn(Style) -> Style) -> Theme {
                Theme { $($name: f(self.$name),)* }
            }

            /// Every role with its kebab-case name, for docs and tests.
            pub fn roles(&self) -> Vec<(&'static str, Style)> {
                vec![$(($key, self.$name),)*]
            }
        }
    };
}

roles! {
    /// Ordinary text.
    text = "text",
    /// Secondary text: column headers, units, unimportant figures.
    muted = "muted",
    /// Pane titles and the header line.
    header = "header",
    /// Key names in the footer, the focused pane's border.
    accent = "accent",
    /// Unfocused borders.
    border = "border",
    /// The selected row.
    selected = "selected",
    /// SSE events.
    sse = "sse",
    /// WebSocket messages.
    ws = "ws",
    /// Heartbeats: SSE comments, WebSocket ping and pong.
    ping = "ping",
    /// Records streamscope sent.
    out = "out",
    /// Errors, failures, abnormal closes.
    error = "error",
    /// Reconnects and other warnings.
    warn = "warn",
    /// Open connections.
    ok = "ok",
    /// Gaps above the heartbeat threshold.
    gap = "gap",
    /// JSON object keys in the detail view.
    json_key = "json-key",
    /// JSON strings.
    json_string = "json-string",
    /// JSON numbers.
    json_number = "json-number",
    /// JSON `true`, `false`, `null`.
    json_literal = "json-literal",
    /// The rate sparkline.
    sparkline = "sparkline",
}

impl Default for Theme {
    /// The dark default; `themes/default.toml` must say the same (a test checks it).
    fn default() -> Self {
        let fg = |c| Style::new().fg(c);
        Theme {
            text: Style::new(),
            muted: fg(Color::DarkGray),
            header: fg(Color::White).add_modifier(Modifier::BOLD),
            accent: fg(Color::Yellow),
            border: fg(Color::DarkGray),
            selected: Style::new().fg(Color::Black).bg(Color::Cyan),
            sse: fg(Color::Cyan),
            ws: fg(Color::Magenta),
            ping: fg(Color::Blue),
            out: fg(Color::Green),
            error: fg(Color::LightRed).add_modifier(Modifier::BOLD),
            warn: fg(Color::Yellow),
            ok: fg(Color::Green),
            gap: fg(Color::LightYellow).add_modifier(Modifier::BOLD),
            json_key: fg(Color::LightBlue),
            json_string: fg(Color::Green),
            json_number: fg(Color::LightMagenta),
            json_literal: fg(Color::Yellow),
            sparkline: fg(Color::Cyan),
        }
    }
}

impl Theme {
    /// A built-in theme by name, or a TOML file by path, layered over [`Theme::default`].
    pub fn load(name_or_path: &str) -> Result<Theme, ThemeError> {
        if let Some((name, src)) = BUILTIN.iter().find(|(n, _)| *n == name_or_path) {
            return Theme::parse(src, &format!("themes/{name}.toml"));
        }
        let src =
            std::fs::read_to_string(Path::new(name_or_path)).map_err(|source| ThemeError::Io {
                path: name_or_path.to_owned(),
                source,
            })?;
        Theme::parse(&src, name_or_path)
    }

    /// What `--theme` resolves to: the named theme (default when `None`), without colours when
    /// `NO_COLOR` is set to a non-empty value.
    pub fn resolve(name_or_path: Option<&str>) -> Result<Theme, ThemeError> {
        let theme = Theme::load(name_or_path.unwrap_or("default"))?;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Ok(if no_color {
            theme.without_colors()
        } else {
            theme
        })
    }

    /// Parses theme TOML; `file` names the source in errors.
    pub fn parse(src: &str, file: &str) -> Result<Theme, ThemeError> {
        let parsed: ThemeFile = toml::from_str(src).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            let (line, column) = line_col(src, offset);
            ThemeError::Parse {
                file: file.to_owned(),
                line,
                column,
                message: e.message().to_owned(),
            }
        })?;
        Ok(parsed.over(Theme::default()))
    }

    /// The same theme with every colour removed; the selection becomes reversed video so it is
    /// still visible.
    #[must_use]
    pub fn without_colors(&self) -> Theme {
        let mut t = self.map_styles(|s| {
            let mut s = s;
            s.fg = None;
            s.bg = None;
            s
        });
        t.selected = t.selected.add_modifier(Modifier::REVERSED);
        t
    }
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_theme_parses() {
        for (name, _) in BUILTIN {
            Theme::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn default_file_equals_default_theme() {
        assert_eq!(Theme::load("default").ok(), Some(Theme::default()));
    }

    #[test]
    fn builtin_files_name_every_role() {
        // A shipped theme should be complete, so users copying it see every role.
        for (name, src) in BUILTIN {
            for (role, _) in Theme::default().roles() {
                assert!(
                    src.lines().any(|l| l.starts_with(&format!("{role} "))),
                    "{name} lacks {role}"
                );
            }
        }
    }

    #[test]
    fn ansi16_uses_only_the_sixteen_colours() {
        let t = Theme::load("ansi16").expect("ansi16");
        for (role, style) in t.roles() {
            for c in [style.fg, style.bg].into_iter().flatten() {
                assert!(
                    !matches!(c, Color::Rgb(..) | Color::Indexed(_)),
                    "{role} uses {c:?}"
                );
            }
        }
    }

    #[test]
    fn unknown_role_is_reported_with_line() {
        let err = Theme::parse(
            "sse = { fg = \"cyan\" }\nfancy = { fg = \"red\" }\n",
            "t.toml",
        )
        .expect_err("unknown key");
        let msg = err.to_string();
        assert!(msg.starts_with("t.toml:2:1: "), "{msg}");
        assert!(msg.contains("fancy"), "{msg}");
    }

    #[test]
    fn bad_colour_is_reported_with_line() {
        let err =
            Theme::parse("\n\nerror = { fg = \"reddish\" }\n", "t.toml").expect_err("bad colour");
        let msg = err.to_string();
        assert_eq!(
            msg,
            "t.toml:3:16: bad colour \"reddish\": use a name like \"light-red\", \"#rrggbb\" or a 0-255 index"
        );
    }

    #[test]
    fn unknown_field_in_role_is_reported() {
        let err = Theme::parse("ok = { colour = \"red\" }\n", "t.toml").expect_err("field");
        assert!(err.to_string().contains("colour"), "{err}");
    }

    #[test]
    fn no_color_keeps_modifiers_only() {
        let t = Theme::default().without_colors();
        for (role, style) in t.roles() {
            assert_eq!((style.fg, style.bg), (None, None), "{role}");
        }
        assert!(t.error.add_modifier.contains(Modifier::BOLD));
        assert!(t.selected.add_modifier.contains(Modifier::REVERSED));
    }

    #[test]
    fn missing_file_is_an_io_error() {
        assert!(matches!(
            Theme::load("/nonexistent/theme.toml"),
            Err(ThemeError::Io { .. })
        ));
    }
}
