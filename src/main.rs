//! The `streamscope` command: parses the command line, reports usage errors in one line with exit
//! code 2, and hands over to the library.

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _};
use streamscope::app::cli::{Cli, Command};
use streamscope::app::config::Given;

/// mimalloc instead of the system allocator: records are allocated on the connection tasks' thread
/// and freed on the consumer's, the pattern glibc malloc handles worst (arena locks, consolidation).
/// On a 1M-message firehose it cut CPU by about 15% (docs/performance.md). Built without
/// transparent huge pages (`no_thp`), which otherwise doubled peak RSS and spent the gain zeroing
/// 2 MiB pages.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The command line, and which of its options were given (they win over the config file).
fn parse() -> Result<(Cli, Given), clap::Error> {
    let matches = Cli::command().try_get_matches()?;
    let cli = Cli::from_arg_matches(&matches)?;
    let given = match matches.subcommand() {
        Some((_, sub)) => Given::from_matches(sub),
        None => Given::from_matches(&matches),
    };
    Ok((cli, given))
}

fn main() -> ExitCode {
    let (cli, given) = match parse() {
        Ok(parsed) => parsed,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // clap's message spans lines (the error, what it concerns, usage); the first paragraph
            // joined on one line says it all.
            let text = e.to_string();
            let first: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.is_empty())
                .collect();
            let first = first.join(" ");
            let first = first.strip_prefix("error: ").unwrap_or(&first);
            eprintln!("streamscope: {first} (see --help)");
            return ExitCode::from(2);
        }
    };
    // The commands that only print need no runtime.
    match &cli.command {
        Some(Command::Completions(args)) => {
            return print(|out| streamscope::app::shell::completions(args.shell, out));
        }
        Some(Command::Man) => return print(streamscope::app::shell::man_page),
        Some(Command::Config(args)) => {
            return ExitCode::from(streamscope::app::shell::config_command(args));
        }
        _ => {}
    }
    // Headless `--json` runs every connection on one thread: the JSON writer has a thread of its
    // own, so a second runtime worker only added task migrations and wake-ups between cores (the
    // profiles in docs/performance.md). The dashboard, `serve`, `demo` and `monitor` keep two.
    let headless = cli.command.is_none() && cli.output.json;
    let mut builder = if headless {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    };
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("streamscope: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(dispatch(cli, given));
    // Connection tasks that are still closing must not hold the process open.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    ExitCode::from(code)
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn print(write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>) -> ExitCode {
    let mut out = std::io::stdout().lock();
    match write(&mut out) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("streamscope: {e}");
            ExitCode::from(1)
        }
        _ => ExitCode::SUCCESS,
    }
}

async fn dispatch(cli: Cli, given: Given) -> u8 {
    match cli.command {
        Some(Command::Serve(args)) => streamscope::app::serve(&args).await,
        Some(Command::Demo(args)) => streamscope::app::demo(&args).await,
        Some(Command::Replay(args)) => streamscope::app::replay(&args).await,
        Some(Command::Monitor(args)) => streamscope::app::monitor::monitor(&args, &given).await,
        Some(Command::Completions(_) | Command::Man | Command::Config(_)) => 0,
        None => streamscope::app::watch::watch(&cli, &given).await,
    }
}
