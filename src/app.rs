//! The top-level modes behind the subcommands: `serve`, `demo`, and the dashboard on given URLs.

use crate::cli::{DemoArgs, OutputArgs, ServeArgs};
use crate::run::Plan;

/// `streamscope serve`: runs until Ctrl-C.
#[allow(clippy::unused_async)] // until the server lands
pub async fn serve(_args: &ServeArgs) -> u8 {
    eprintln!("streamscope: serve is not built yet");
    1
}

/// `streamscope demo`.
#[allow(clippy::unused_async)] // until the server lands
pub async fn demo(_args: &DemoArgs) -> u8 {
    eprintln!("streamscope: demo is not built yet");
    1
}

/// The dashboard on the plan's streams.
pub async fn dashboard(plan: &Plan, _output: &OutputArgs) -> u8 {
    // Until the dashboard lands, a terminal gets the JSON lines too.
    crate::run::run_json(plan).await as u8
}
