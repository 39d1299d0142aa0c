//! HAR (HTTP Archive 1.2) in both directions: reading what the developer tools of Chromium and
//! Firefox (and tools built on the DevTools protocol, such as `chrome-har`) save, so a browser
//! capture replays in the dashboard ([`import`]), and writing a session (`--har FILE`) that the
//! developer tools and HAR viewers read back ([`export`]).
//!
//! A HAR says less than a live capture, and says it differently per browser. What each writer puts
//! in each field, and how the importer maps it, is in `docs/recording.md` with the DevTools and
//! Firefox source files it was read from; the fixtures in `tests/data/har/` were saved by real
//! browsers (`tests/browsers/`). Whatever a HAR cannot say is estimated, and the import says so
//! with a lint record ([`fields::LINT_ESTIMATED`], [`fields::LINT_INCOMPLETE`]) rather than
//! guessing silently. [`fields`] holds what both directions share: those lint rules,
//! streamscope's own HAR fields, the units.

mod export;
mod fields;
mod import;

pub(crate) use export::Export;
pub(crate) use import::{import, parse_har};
