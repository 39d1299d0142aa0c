//! What a command-line tool owes its users, through the real binary: named streams from a config
//! file (mixed with URLs, errors with line numbers), `streamscope config`, shell completions that
//! offer the config's names (run in a real bash), the man page and `--version`.

mod support;

use std::process::Stdio;
use std::time::Duration;

use streamscope::server::ServerConfig;
use support::{TempDir, embedded_server, path_str, run};

const BIN: &str = env!("CARGO_BIN_EXE_streamscope");

/// A config home (`XDG_CONFIG_HOME`) with `text` as streamscope's config file.
fn config_home(tag: &str, text: &str) -> TempDir {
    let home = TempDir::new(tag);
    let dir = home.file("streamscope");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("config.toml"), text).expect("write config");
    home
}

fn streamscope(args: &[&str], home: &TempDir) -> std::process::Output {
    std::process::Command::new(BIN)
        .args(args)
        .env("XDG_CONFIG_HOME", home.file(""))
        .env("STREAMSCOPE_TEST_TOKEN", "s3cret")
        .stdin(Stdio::null())
        .output()
        .expect("run streamscope")
}

#[tokio::test]
async fn names_and_urls_mix_on_the_command_line() {
    let server = embedded_server(ServerConfig {
        tick: Duration::from_millis(20),
        heartbeat: Duration::from_secs(15),
    })
    .await;
    let a = server.local_addr();
    let dir = TempDir::new("names-mixed");
    let config = dir.file("streams.toml");
    std::fs::write(
        &config,
        format!(
            "[streams.inspect]\nurl = \"http://{a}/inspect\"\nmethod = \"POST\"\nbody = \"hi\"\n\
             headers = {{ X-Token = \"${{STREAMSCOPE_TEST_TOKEN}}\" }}\nreconnect = false\n\n\
             [streams.ws]\nurl = \"ws://{a}/ws\"\ncount = 3\n"
        ),
    )
    .expect("write");
    let sse = format!("http://{a}/sse?count=2");
    let args = [
        "--json",
        "--no-reconnect",
        "--config",
        path_str(&config),
        "inspect",
        &sse,
        "--stream",
        "ws",
    ];
    let child = support::command(&args)
        .env("STREAMSCOPE_TEST_TOKEN", "s3cret")
        .stdout(Stdio::piped())
        .spawn()
        .expect("run streamscope");
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("every stream ends")
        .expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let records = support::json_lines(&stdout);
    // #0 the named POST (its body and header from the config and the environment, as the server
    // received them), #1 the URL, #2 the --stream name.
    let request = records
        .iter()
        .find(|r| r["stream"] == 0 && r["kind"] == "event")
        .expect("the inspect event");
    let seen: serde_json::Value =
        serde_json::from_str(request["data"].as_str().expect("data")).expect("JSON");
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["body"], "hi");
    assert_eq!(seen["headers"]["x-token"], "s3cret");
    assert_eq!(
        records
            .iter()
            .filter(|r| r["stream"] == 1 && r["kind"] == "event")
            .count(),
        2
    );
    assert_eq!(
        records
            .iter()
            .filter(|r| r["stream"] == 2 && r["kind"] == "message")
            .count(),
        3,
        "count = 3 from the config"
    );
}

#[tokio::test]
async fn a_bad_config_is_one_line_with_its_line_and_exit_2() {
    let dir = TempDir::new("bad-config");
    let config = dir.file("c.toml");
    std::fs::write(
        &config,
        "theme = \"light\"\n\n[streams.x]\nurl = \"http://h/\"\nretries = 3\n",
    )
    .expect("write");
    let out = run(&["--config", path_str(&config), "x"]).await;
    assert_eq!(out.code, 2);
    assert_eq!(
        out.stderr.trim_end(),
        format!(
            "streamscope: {}:5: streams.x.retries: unknown field `retries`, expected one of `url`, \
             `method`, `headers`, `body`, `body-file`, `last-event-id`, `subprotocols`, `send`, \
             `ping-interval`, `max-message`, `auto-pong`, `reconnect`, `max-retries`, \
             `max-backoff`, `max-redirects`, `connect-timeout`, `idle-timeout`, `heartbeat`, \
             `count`, `seq`, `decode`, `match`, `match-with`, `insecure`, `cacert`, `proxy`, `theme`",
            config.display()
        )
    );
    let out = run(&["--json", "nosuchname"]).await;
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .starts_with("streamscope: 'nosuchname' is not a URL"),
        "{}",
        out.stderr
    );
}

#[test]
fn config_subcommand_reads_the_default_file() {
    let home = config_home(
        "config-cmd",
        "[streams.b]\nurl = \"ws://h/\"\n\n[streams.a]\nurl = \"http://h/\"\n",
    );
    let out = streamscope(&["config", "names"], &home);
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "b\na\n", "file order");
    let out = streamscope(&["config", "path"], &home);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        home.file("streamscope/config.toml").display().to_string()
    );
    let out = streamscope(&["config", "check"], &home);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: "));
    let broken = config_home("config-broken", "[streams.a]\nurl = 5\n");
    let out = streamscope(&["config", "check"], &broken);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("config.toml:2: streams.a.url:"));
    // No file: no names, and nothing wrong.
    let none = TempDir::new("config-none");
    let out = streamscope(&["config", "names"], &none);
    assert!(out.status.success() && out.stdout.is_empty());
}

/// Completes `line` (the cursor at its end) with the script `streamscope completions bash` prints,
/// in a real bash, and returns the candidates.
fn bash_complete(home: &TempDir, line: &str) -> Vec<String> {
    let script = streamscope(&["completions", "bash"], home);
    assert!(script.status.success());
    let script_file = home.file("streamscope.bash");
    std::fs::write(&script_file, &script.stdout).expect("write the script");
    let bin_dir = std::path::Path::new(BIN).parent().expect("bin dir");
    let driver = format!(
        "source {script}\n\
         COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}\n\
         read -ra COMP_WORDS <<< \"$COMP_LINE\"\n\
         [[ \"$COMP_LINE\" == *' ' ]] && COMP_WORDS+=('')\n\
         COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))\n\
         _streamscope_with_names streamscope \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         printf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script = script_file.display()
    );
    let out = std::process::Command::new("bash")
        .args(["--norc", "-c", &driver])
        .env("PATH", format!("{}:/usr/bin:/bin", bin_dir.display()))
        .env("XDG_CONFIG_HOME", home.file(""))
        .output()
        .expect("run bash");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_config_names_subcommands_and_flags() {
    let home = config_home(
        "complete",
        "[streams.prices-sse]\nurl = \"http://h/\"\n\n[streams.prices-ws]\nurl = \"ws://h/\"\n\n[streams.orders]\nurl = \"ws://h/\"\n",
    );
    let got = bash_complete(&home, "streamscope pri");
    assert_eq!(got, ["prices-sse", "prices-ws"]);
    let got = bash_complete(&home, "streamscope monitor or");
    assert_eq!(got, ["orders"]);
    let got = bash_complete(&home, "streamscope --stream ");
    assert!(got.contains(&"orders".to_owned()), "{got:?}");
    let got = bash_complete(&home, "streamscope mon");
    assert!(got.contains(&"monitor".to_owned()), "{got:?}");
    let got = bash_complete(&home, "streamscope monitor --met");
    assert!(got.contains(&"--metrics".to_owned()), "{got:?}");
    // Where a stream is not expected, no names.
    let got = bash_complete(&home, "streamscope serve --port ");
    assert!(!got.contains(&"orders".to_owned()), "{got:?}");
}

#[test]
fn completions_for_every_shell_man_page_and_version() {
    let home = TempDir::new("conventions");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = streamscope(&["completions", shell], &home);
        assert!(out.status.success(), "{shell}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("monitor"),
            "{shell}"
        );
    }
    let bash = streamscope(&["completions", "bash"], &home);
    let check = std::process::Command::new("bash")
        .args(["-n", "-c", &String::from_utf8_lossy(&bash.stdout)])
        .status()
        .expect("bash -n");
    assert!(check.success(), "the bash script parses");
    let out = streamscope(&["completions", "tcsh"], &home);
    assert_eq!(out.status.code(), Some(2));
    let man = streamscope(&["man"], &home);
    let page = String::from_utf8_lossy(&man.stdout);
    assert!(page.contains(".TH streamscope 1"), "{page}");
    for word in ["monitor", "completions", "\\-\\-config", "\\-\\-stream"] {
        assert!(page.contains(word), "man page lacks {word}");
    }
    let version = streamscope(&["--version"], &home);
    let text = String::from_utf8_lossy(&version.stdout);
    assert!(
        text.starts_with(&format!("streamscope {}", env!("CARGO_PKG_VERSION"))),
        "{text}"
    );
    assert!(
        text.contains("tls: rustls") && text.contains("monitor"),
        "{text}"
    );
}
