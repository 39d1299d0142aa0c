//! What a command-line tool owes its shell: completion scripts (`streamscope completions SHELL`,
//! made by `clap_complete` from the same clap definition as `--help`), the man page
//! (`streamscope man`, `clap_mangen`), and `--version` with what the build contains.
//!
//! Stream names from the config file are completed too, at completion time: the static scripts
//! get a few lines per shell that ask `streamscope config names`. `clap_complete`'s own dynamic
//! completion would do this for every shell, but it is behind its `unstable-dynamic` feature,
//! whose interface may change in any release; the static scripts are stable, work without the
//! binary's help for everything else, and the names hook is small enough to test here.

use std::io::Write;

use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::app::cli::{Cli, ConfigAction, ConfigCommandArgs};
use crate::app::config::Config;

/// Writes the completion script for `shell`, with the stream-name hook where the shell has one.
pub fn completions(shell: Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "streamscope", &mut script);
    let script = String::from_utf8_lossy(&script);
    let script = match shell {
        Shell::Bash => format!("{script}\n{BASH_NAMES}"),
        Shell::Zsh => zsh_with_names(&script),
        Shell::Fish => format!("{script}\n{FISH_NAMES}"),
        // PowerShell and elvish complete flags and subcommands only.
        _ => script.into_owned(),
    };
    out.write_all(script.as_bytes())
}

/// bash: clap's `_streamscope` first; then, for a word that is not a flag, in the position of a
/// stream (the main command, `monitor`, after `--stream`), the config's names.
const BASH_NAMES: &str = r#"# Stream names from the config file (streamscope config names), at completion time.
_streamscope_with_names() {
    _streamscope "$@"
    local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" sub="${COMP_WORDS[1]}"
    [[ "$cur" == -* ]] && return 0
    case "$sub" in
        serve|demo|replay|completions|man|config|help) [[ "$prev" == "--stream" ]] || return 0 ;;
    esac
    case "$prev" in
        -H|--header|-X|--method|-d|--data|--config|--theme|--record|--har|--metrics|--cacert|--cert|--key|--proxy) return 0 ;;
    esac
    local names
    names="$(streamscope config names 2>/dev/null)"
    [[ -n "$names" ]] && COMPREPLY+=( $(compgen -W "$names" -- "$cur") )
    return 0
}
complete -F _streamscope_with_names -o nosort -o bashdefault -o default streamscope
"#;

/// fish: names wherever a stream can be given.
const FISH_NAMES: &str = r"# Stream names from the config file (streamscope config names), at completion time.
complete -c streamscope -n '__fish_use_subcommand; or __fish_seen_subcommand_from monitor' -f -a '(streamscope config names 2>/dev/null)' -d 'config stream'
complete -c streamscope -l stream -x -a '(streamscope config names 2>/dev/null)'
";

/// zsh: the URL arguments and `--stream` complete names (and URLs) through a function added to
/// clap's script.
fn zsh_with_names(script: &str) -> String {
    const FUNCTION: &str = r#"
# Stream names from the config file (streamscope config names), at completion time.
(( $+functions[_streamscope_targets] )) ||
_streamscope_targets() {
    local -a names
    names=(${(f)"$(streamscope config names 2>/dev/null)"})
    _alternative 'names:stream name:compadd -a names' 'urls:URL:_urls'
}
"#;
    // clap writes the stream arguments as `'::urls -- HELP:_default' \` (the positional ones, `*`
    // when repeated) and `'*--stream=[HELP]:NAME:_default' \`; point them at the names.
    let patched: String = script
        .lines()
        .map(|line| {
            let stream_arg = [
                "'::urls -- ",
                "'*::urls -- ",
                "'::targets -- ",
                "'*::targets -- ",
            ]
            .iter()
            .any(|p| line.starts_with(p))
                || line.starts_with("'*--stream=[");
            if stream_arg && let Some(at) = line.rfind(":_default'") {
                format!(
                    "{}:_streamscope_targets'{}\n",
                    &line[..at],
                    &line[at + ":_default'".len()..]
                )
            } else {
                format!("{line}\n")
            }
        })
        .collect();
    // The function must exist before clap's script calls `compdef` at its end.
    match patched.rfind("\nif [ \"$funcstack[1]\" = \"_streamscope\" ]") {
        Some(i) => format!("{}{FUNCTION}{}", &patched[..i], &patched[i..]),
        None => format!("{FUNCTION}{patched}"),
    }
}

/// `streamscope config path|names|check`. Returns the exit code.
pub fn config_command(args: &ConfigCommandArgs) -> u8 {
    let path = args.file.clone().or_else(crate::app::config::default_path);
    let Some(path) = path else {
        eprintln!("streamscope: no config directory (no home directory?); use --config FILE");
        return 2;
    };
    if let ConfigAction::Path = args.action {
        println!("{}", path.display());
        return 0;
    }
    if args.file.is_none() && !path.is_file() {
        // No file is no names (completion stays quiet), and nothing to be wrong.
        if let ConfigAction::Check = args.action {
            println!("no config file at {}", path.display());
        }
        return 0;
    }
    match Config::load(&path, &crate::app::config::process_env) {
        Ok(config) => {
            match args.action {
                ConfigAction::Names => {
                    for name in config.names() {
                        println!("{name}");
                    }
                }
                _ => println!("ok: {} ({} streams)", path.display(), config.streams.len()),
            }
            0
        }
        Err(e) => {
            eprintln!("streamscope: {e}");
            2
        }
    }
}

/// Writes the man page (roff).
pub fn man_page(out: &mut dyn Write) -> std::io::Result<()> {
    let cmd = Cli::command();
    clap_mangen::Man::new(cmd).render(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(shell: Shell) -> String {
        let mut out = Vec::new();
        completions(shell, &mut out).expect("generate");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn every_shell_gets_a_script_with_the_subcommands() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish, Shell::PowerShell] {
            let s = script(shell);
            for word in ["monitor", "completions", "metrics", "stream", "config"] {
                assert!(s.contains(word), "{shell}: {word} missing");
            }
        }
    }

    #[test]
    fn bash_zsh_and_fish_complete_config_names() {
        let bash = script(Shell::Bash);
        assert!(bash.contains("complete -F _streamscope_with_names"));
        let zsh = script(Shell::Zsh);
        assert!(
            zsh.matches("_streamscope_targets'").count() >= 4,
            "positional and --stream point at the names"
        );
        let defined = zsh
            .find("_streamscope_targets() {")
            .expect("function defined");
        let compdef = zsh.rfind("compdef _streamscope").expect("compdef");
        assert!(defined < compdef);
        assert!(script(Shell::Fish).contains("streamscope config names"));
    }

    #[test]
    fn man_page_names_the_subcommands() {
        let mut out = Vec::new();
        man_page(&mut out).expect("render");
        let page = String::from_utf8(out).expect("utf-8");
        assert!(page.starts_with(".ie") || page.contains(".TH streamscope"));
        assert!(page.contains("monitor"));
    }
}
