//! One stream's life across its connections: the [`Session`] trait each protocol implements,
//! how an attempt ended ([`Outcome`]), and [`supervise`], which connects, reconnects per policy
//! (backoff, `Retry-After`, `--max-retries`) and emits the final `end` record.

use std::time::Duration;

use crate::capture::config::StreamConfig;
use crate::capture::control::Control;
use crate::capture::emitter::Emitter;
use crate::record::Kind;

/// Sleeps until `deadline`, or forever when there is none (for use in `select!`).
pub(crate) async fn sleep_until_opt(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// How one connection attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    /// The user asked to stop (quit, Ctrl-C, `--duration`).
    Shutdown,
    /// `--count` was reached.
    CountReached,
    /// The server said to stop (SSE 204): never reconnect.
    Stop(String),
    /// The server ended the stream normally; reconnect if the policy says so.
    Closed(String),
    /// The response said it was complete (an LLM end marker): the stream ends, unless the user
    /// asked for `--reconnect` (a repeated request is a repeated completion).
    Complete(String),
    /// The connection failed (an error record was emitted). `retry: false` means retrying cannot
    /// help (wrong Content-Type, HTTP 4xx) and the stream is failed.
    Failed {
        /// Why, for the reconnect or end record.
        reason: String,
        /// Whether a reconnect may succeed.
        retry: bool,
        /// Server-requested delay (`Retry-After`).
        retry_after: Option<Duration>,
    },
    /// The user asked to reconnect now.
    ReconnectNow,
}

/// Why an attempt failed, as the `error` record and the reconnect policy need it: one failure
/// path for both clients.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Failure {
    /// The error message (also the reason of the `reconnect` or `end` record).
    pub(crate) message: String,
    /// The HTTP status that refused the stream.
    pub(crate) status: Option<u16>,
    /// The WebSocket close code that goes with the failure.
    pub(crate) close_code: Option<u16>,
    /// Whether a reconnect may succeed.
    pub(crate) retry: bool,
    /// Server-requested delay (`Retry-After`).
    pub(crate) retry_after: Option<Duration>,
}

impl Failure {
    /// A failure a reconnect may cure (a broken connection, a timeout, a busy server).
    pub(crate) fn retryable(message: impl Into<String>) -> Self {
        Failure {
            message: message.into(),
            status: None,
            close_code: None,
            retry: true,
            retry_after: None,
        }
    }

    /// A failure no reconnect will cure (a refused request, a broken handshake).
    pub(crate) fn fatal(message: impl Into<String>) -> Self {
        Failure {
            retry: false,
            ..Failure::retryable(message)
        }
    }

    /// With the HTTP status that refused the stream.
    pub(crate) fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// With the WebSocket close code that goes with it.
    pub(crate) fn close_code(mut self, code: u16) -> Self {
        self.close_code = Some(code);
        self
    }

    /// Emits the `error` record (sent at once) and ends the attempt.
    pub(crate) fn report(self, em: &mut Emitter) -> Outcome {
        em.error(self.message.clone(), self.status, self.close_code);
        em.flush();
        self.outcome()
    }

    /// Ends the attempt without an `error` record, when what says why is already recorded (the
    /// server's Close frame) or is about to be (the error record before our Close reply).
    pub(crate) fn outcome(self) -> Outcome {
        Outcome::Failed {
            reason: self.message,
            retry: self.retry,
            retry_after: self.retry_after,
        }
    }
}

/// `--idle-timeout` fired: nothing arrived for that long, so the server is gone or stuck; a
/// failed attempt that may be retried.
pub(crate) fn idle_timeout(
    em: &mut Emitter,
    timeout: Option<Duration>,
    close_code: Option<u16>,
) -> Outcome {
    let mut failure = Failure::retryable(format!(
        "idle timeout: nothing received for {}",
        humantime::format_duration(timeout.unwrap_or_default())
    ));
    failure.close_code = close_code;
    failure.report(em)
}

/// Resolves only for the controls that end an attempt before it has opened.
pub(crate) async fn wait_shutdown(ctl: &mut ControlRx) -> Outcome {
    loop {
        match recv_control(ctl).await {
            Control::Shutdown => return Outcome::Shutdown,
            Control::ReconnectNow => return Outcome::ReconnectNow,
            Control::Send(_) | Control::Ping => {}
        }
    }
}

/// A protocol's connection logic, driven by [`supervise`].
pub(crate) trait Session {
    /// Opens one connection and runs it until it ends.
    fn connect_once(
        &mut self,
        em: &mut Emitter,
        ctl: &mut ControlRx,
    ) -> impl std::future::Future<Output = Outcome> + Send;
    /// True if the last attempt reached `open` (resets the backoff).
    fn take_opened(&mut self) -> bool;
    /// Base reconnect delay (SSE: the `retry:` time).
    fn base_retry(&self) -> Duration;
    /// `Last-Event-ID` the next attempt will send.
    fn last_event_id(&self) -> Option<String>;
    /// The server's `retry:` time in ms, when it sent one (SSE).
    fn retry_ms(&self) -> Option<u64> {
        None
    }
}

/// The control channel of a connection task.
pub(crate) type ControlRx = tokio::sync::mpsc::UnboundedReceiver<Control>;

/// Next control message; pends forever once every sender is gone, so `select!` loops stay quiet.
pub(crate) async fn recv_control(ctl: &mut ControlRx) -> Control {
    match ctl.recv().await {
        Some(c) => c,
        None => std::future::pending().await,
    }
}

/// Runs a stream: connects, reconnects per policy, and emits the final `end` record. Returns true
/// if the stream failed.
pub(crate) async fn supervise<S: Session + Send>(
    mut session: S,
    cfg: &StreamConfig,
    mut em: Emitter,
    mut ctl: ControlRx,
) -> bool {
    use Control;
    let mut attempt: u32 = 0;
    let (reason, failed) = loop {
        let received_before = em.received();
        let outcome = session.connect_once(&mut em, &mut ctl).await;
        em.disconnected();
        // The attempt's LLM completion ends with its connection, whatever ended it.
        em.finish_llm();
        // A connection that opened and delivered something (an event, a comment, a message, a
        // ping) was working: the backoff and `--max-retries` start again. One that opened and
        // ended without a byte of content counts as a failed attempt, so a server that accepts
        // and hangs up at once is backed off and, with --max-retries, given up on.
        if session.take_opened() && em.received() > received_before {
            attempt = 0;
        }
        let (reason, failed, retry_after) = match outcome {
            Outcome::Shutdown => break ("shutdown".to_owned(), false),
            Outcome::CountReached => break ("count reached".to_owned(), false),
            Outcome::Stop(reason) => break (reason, false),
            Outcome::Closed(reason) => {
                if !cfg.reconnect {
                    break (reason, false);
                }
                (reason, false, None)
            }
            Outcome::Complete(reason) => {
                if !cfg.repeat_completed {
                    break (reason, false);
                }
                (reason, false, None)
            }
            Outcome::Failed {
                reason,
                retry,
                retry_after,
            } => {
                if !retry || !cfg.reconnect {
                    break (reason, true);
                }
                (reason, true, retry_after)
            }
            Outcome::ReconnectNow => (
                "reconnect requested".to_owned(),
                false,
                Some(Duration::ZERO),
            ),
        };
        attempt = attempt.saturating_add(1);
        if let Some(max) = cfg.max_retries
            && attempt > max
        {
            // Giving up is a failure even when each attempt ended cleanly: the stream never
            // worked again within the retries allowed (exit code 1).
            let plural = if max == 1 { "retry" } else { "retries" };
            break (format!("{reason}; gave up after {max} {plural}"), true);
        }
        // The `retry:` value is reported only when it was the base of the delay.
        let retry_ms = if retry_after.is_none() {
            session.retry_ms()
        } else {
            None
        };
        let delay = match retry_after {
            Some(d) if d.is_zero() => d,
            Some(d) => {
                crate::capture::backoff::delay(d, attempt, cfg.max_backoff.max(d), rand::random())
            }
            None => crate::capture::backoff::delay(
                session.base_retry(),
                attempt,
                cfg.max_backoff,
                rand::random(),
            ),
        };
        em.note(Kind::Reconnect {
            attempt,
            delay_ms: delay.as_millis() as u64,
            last_event_id: session.last_event_id(),
            reason,
            retry_ms,
        });
        if !em.flush() {
            return failed;
        }
        let sleep = tokio::time::sleep(delay);
        tokio::pin!(sleep);
        let stop = loop {
            tokio::select! {
                () = &mut sleep => break false,
                c = recv_control(&mut ctl) => match c {
                    Control::Shutdown => break true,
                    Control::ReconnectNow => break false,
                    Control::Send(_) | Control::Ping => {}
                },
            }
        };
        if stop {
            break ("shutdown".to_owned(), false);
        }
    };
    em.note(Kind::End { reason, failed });
    em.flush();
    failed
}
