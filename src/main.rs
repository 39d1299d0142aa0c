//! The `streamscope` command: parses the command line, reports usage errors in one line with exit
//! code 2, and hands over to the library.

use std::process::ExitCode;

use clap::Parser;
use streamscope::app::cli::{Cli, Command};
use streamscope::app::plan::Plan;

/// mimalloc instead of the system allocator: records are allocated on the connection tasks' thread
/// and freed on the consumer's, the pattern glibc malloc handles worst (arena locks, consolidation).
/// On a 1M-message firehose it cut CPU by about 15% (docs/performance.md). Built without
/// transparent huge pages (`no_thp`), which otherwise doubled peak RSS and spent the gain zeroing
/// 2 MiB pages.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("streamscope: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(dispatch(cli));
    // Connection tasks that are still closing must not hold the process open.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    ExitCode::from(code)
}

fn usage_error(msg: &str) -> u8 {
    eprintln!("streamscope: {msg}");
    2
}

async fn dispatch(cli: Cli) -> u8 {
    match cli.command {
        Some(Command::Serve(args)) => streamscope::app::serve(&args).await,
        Some(Command::Demo(args)) => streamscope::app::demo(&args).await,
        Some(Command::Replay(args)) => streamscope::app::replay(&args).await,
        None => {
            let plan = match Plan::new(&cli.urls, &cli.conn) {
                Ok(p) => p,
                Err(e) => return usage_error(&e),
            };
            streamscope::app::dashboard_or_json(&plan, &cli.output).await
        }
    }
}
