//! The wire protocols as pure functions fed bytes: no I/O, no clock, so any split of the same
//! bytes gives the same items, and each is unit-, property- and fuzz-tested on its own.

pub mod h2;
pub mod sse;
pub mod ws;
