//! The default mode: streams given by URL or by config name, mixed, in the dashboard (an overview
//! first when there are more than two) or as JSON lines.

use crate::app::cli::Cli;
use crate::app::config::{Config, Given, Resolved, process_env, resolve};

/// `streamscope URL|NAME ...`: reads the config file (`--config`, or the default one when it
/// exists), resolves the streams and runs the session. Returns the exit code.
pub async fn watch(cli: &Cli, given: &Given) -> u8 {
    let config = match Config::find(cli.config.file.as_deref(), &process_env) {
        Ok(c) => c,
        Err(e) => return usage_error(&e),
    };
    let targets = cli.config.targets(&cli.urls);
    let resolved = match resolve(&targets, &cli.conn, given, config.as_ref()) {
        Ok(r) => r,
        Err(e) => return usage_error(&e),
    };
    let output = output_with_config(&cli.output, &resolved, config.as_ref(), given);
    crate::app::dashboard_or_json(&resolved.plan, &output).await
}

/// The output options with what the config adds: its theme unless `--theme` was given, and the
/// pairing of the first two streams unless `--match` was.
pub(crate) fn output_with_config(
    output: &crate::app::cli::OutputArgs,
    resolved: &Resolved,
    config: Option<&Config>,
    given: &Given,
) -> crate::app::cli::OutputArgs {
    let mut output = output.clone();
    if !given.has("theme")
        && let Some(theme) = &resolved.theme
    {
        output.theme = theme_path(theme, config);
    }
    if output.match_key.is_none()
        && let Some((_, _, key)) = resolved.pairs.iter().find(|(a, b, _)| (*a, *b) == (0, 1))
    {
        output.match_key = Some(key.clone());
    }
    output
}

/// A theme file named in the config is relative to the config file; a built-in name stays.
fn theme_path(theme: &str, config: Option<&Config>) -> String {
    let path = std::path::Path::new(theme);
    match config.and_then(|c| c.path.parent()) {
        Some(dir)
            if path.is_relative()
                && path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("toml")) =>
        {
            dir.join(path).display().to_string()
        }
        _ => theme.to_owned(),
    }
}

fn usage_error(msg: &str) -> u8 {
    eprintln!("streamscope: {msg}");
    2
}
