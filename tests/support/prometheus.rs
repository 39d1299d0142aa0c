//! A real Prometheus (Debian's `prometheus` package, installed by `.ci/run`) scraping one target:
//! a throw-away config and data directory, port 0 read back from its log, and its HTTP API.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::TempDir;

/// A Prometheus server, killed (and its data removed) when dropped.
pub(crate) struct Prometheus {
    pub(crate) port: u16,
    _child: Child,
    _dir: TempDir,
}

impl Prometheus {
    /// Starts Prometheus scraping `target` (`host:port`, path `/metrics`) every second.
    pub(crate) async fn scraping(target: &str) -> Prometheus {
        let dir = TempDir::new("prometheus");
        let config = dir.file("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: streamscope\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("write prometheus.yml");
        let mut child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.file("data").display()
            ))
            .arg("--web.listen-address=127.0.0.1:0")
            .arg("--storage.tsdb.retention.time=1h")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("run prometheus (Debian package `prometheus`; .ci/run installs it)");
        let stderr = child.stderr.take().expect("piped stderr");
        let mut lines = BufReader::new(stderr).lines();
        // "Listening on" and "Server is ready" come from different goroutines, in either order.
        let (mut port, mut ready) = (None, false);
        let started = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(at) = line.find("msg=\"Listening on\" address=") {
                    port = line[at..]
                        .split_whitespace()
                        .nth(2)
                        .and_then(|a| a.trim_start_matches("address=").rsplit(':').next())
                        .and_then(|p| p.parse::<u16>().ok());
                }
                ready |= line.contains("Server is ready to receive web requests");
                if port.is_some() && ready {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(started, Ok(true), "prometheus did not start");
        // Keep its log flowing, so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Prometheus {
            port: port.expect("port"),
            _child: child,
            _dir: dir,
        }
    }

    /// `GET /api/v1/query?query=Q`: the instant vector's samples as (labels, value).
    pub(crate) async fn query(&self, q: &str) -> Vec<(Value, f64)> {
        let mut path = String::from("/api/v1/query?query=");
        path.extend(url::form_urlencoded::byte_serialize(q.as_bytes()));
        let (status, body) = http_get(self.port, &path).await;
        assert_eq!(status, 200, "{q}: {body}");
        let v: Value = serde_json::from_str(&body).expect("JSON from the query API");
        assert_eq!(v["status"], "success", "{q}: {body}");
        v["data"]["result"]
            .as_array()
            .map(|r| {
                r.iter()
                    .map(|s| {
                        let value = s["value"][1]
                            .as_str()
                            .and_then(|x| x.parse().ok())
                            .unwrap_or(f64::NAN);
                        (s["metric"].clone(), value)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The single value of `q`, once `ok` holds for it (Prometheus' first scrape comes 4 to 6 s
    /// after it starts, even every second); fails the test after `limit`.
    pub(crate) async fn wait_for(&self, q: &str, limit: Duration, ok: impl Fn(f64) -> bool) -> f64 {
        let start = Instant::now();
        loop {
            let got = self.query(q).await;
            if let [(_, v)] = got.as_slice()
                && ok(*v)
            {
                return *v;
            }
            assert!(
                start.elapsed() < limit,
                "{q}: still {got:?} after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}

/// A GET on 127.0.0.1:`port` (HTTP/1.0, so the body ends with the connection): status and body.
pub(crate) async fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut sock = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let req = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: */*\r\n\r\n");
    sock.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), sock.read_to_end(&mut raw))
        .await
        .expect("response in time")
        .expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, body.to_owned())
}
