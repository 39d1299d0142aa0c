//! A transparent wrapper around a connection's byte stream that counts and stamps every read.
//!
//! The HTTP layer (hyper) reads the socket on its own schedule, so the SSE client cannot see reads
//! directly. The tap records, for every `poll_read` that returns bytes, the read's number and time
//! in atomics the connection task can look at when hyper hands it a body frame. It also finds the
//! end of the HTTP response head in the raw bytes, which hyper does not report, so the `open`
//! record's `wire_bytes` is the exact size of the head as it crossed the wire.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::record::time::Stamp;

/// Counters shared between a [`Tap`] and the connection task. One per stream: the read counter
/// keeps counting across reconnects, so `read` numbers are unique on a stream.
#[derive(Debug, Default)]
pub struct TapState {
    reads: Arc<AtomicU64>,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    last_wall_us: AtomicI64,
    last_mono_ns: AtomicU64,
    head_done: AtomicBool,
    head_bytes: AtomicU64,
    // The last two bytes of the head seen so far, to find "\n\r\n" or "\n\n" across reads.
    head_tail: AtomicU64,
}

/// What the last read was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadMark {
    /// Number of the read on this stream, from 1.
    pub read: u64,
    /// When it returned.
    pub stamp: Stamp,
}

impl TapState {
    /// A new shared state.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// The state of an HTTP/2 connection: no HTTP/1.1 head to look for, and read numbers taken
    /// from `reads`, which every HTTP/2 connection of the session shares, so that a stream's read
    /// numbers keep growing when it moves to another connection or shares one.
    pub(crate) fn binary(reads: Arc<AtomicU64>) -> Arc<Self> {
        let state = TapState {
            reads,
            ..TapState::default()
        };
        state.head_done.store(true, Ordering::Relaxed);
        Arc::new(state)
    }

    /// Starts a new connection: the next bytes read begin an HTTP response head.
    pub fn begin_connection(&self) {
        self.head_done.store(false, Ordering::Relaxed);
        self.head_bytes.store(0, Ordering::Relaxed);
        self.head_tail.store(0, Ordering::Relaxed);
    }

    /// The latest read.
    pub fn last_read(&self) -> ReadMark {
        ReadMark {
            read: self.reads.load(Ordering::Acquire),
            stamp: Stamp {
                wall_us: self.last_wall_us.load(Ordering::Relaxed),
                mono_ns: self.last_mono_ns.load(Ordering::Relaxed),
            },
        }
    }

    /// Size of the response head of the current connection, once it has been read in full.
    pub fn head_bytes(&self) -> Option<u64> {
        self.head_done
            .load(Ordering::Acquire)
            .then(|| self.head_bytes.load(Ordering::Relaxed))
    }

    /// Bytes read from the socket on this stream so far.
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in.load(Ordering::Relaxed)
    }

    /// Bytes written to the socket on this stream so far.
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out.load(Ordering::Relaxed)
    }

    /// Records a read of `bytes` (called by the tap, and by tests).
    pub fn note_read(&self, bytes: &[u8]) -> ReadMark {
        let stamp = Stamp::now();
        self.last_wall_us.store(stamp.wall_us, Ordering::Relaxed);
        self.last_mono_ns.store(stamp.mono_ns, Ordering::Relaxed);
        self.bytes_in
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        if !self.head_done.load(Ordering::Relaxed) {
            self.scan_head(bytes);
        }
        let read = self.reads.fetch_add(1, Ordering::AcqRel) + 1;
        ReadMark { read, stamp }
    }

    fn scan_head(&self, bytes: &[u8]) {
        let packed = self.head_tail.load(Ordering::Relaxed);
        let (mut prev2, mut prev1) = ((packed >> 8) as u8, packed as u8);
        let mut n = self.head_bytes.load(Ordering::Relaxed);
        for &b in bytes {
            n += 1;
            if b == b'\n' && (prev1 == b'\n' || (prev1 == b'\r' && prev2 == b'\n')) {
                self.head_bytes.store(n, Ordering::Relaxed);
                self.head_done.store(true, Ordering::Release);
                return;
            }
            prev2 = prev1;
            prev1 = b;
        }
        self.head_bytes.store(n, Ordering::Relaxed);
        self.head_tail.store(
            (u64::from(prev2) << 8) | u64::from(prev1),
            Ordering::Relaxed,
        );
    }
}

/// Sees every byte a [`Tap`] reads and writes, in order (the HTTP/2 frame scanner).
pub(crate) trait WireHook: Send + Sync + std::fmt::Debug {
    /// Bytes read, delivered by read `mark`.
    fn read(&mut self, bytes: &[u8], mark: ReadMark);
    /// Bytes written.
    fn wrote(&mut self, bytes: &[u8]);
}

/// An `AsyncRead + AsyncWrite` that reports to a [`TapState`].
#[derive(Debug)]
pub struct Tap<S> {
    inner: S,
    state: Arc<TapState>,
    hook: Option<Box<dyn WireHook>>,
}

impl<S> Tap<S> {
    /// Wraps `inner`, reporting to `state`.
    pub fn new(inner: S, state: Arc<TapState>) -> Self {
        Tap {
            inner,
            state,
            hook: None,
        }
    }

    /// Wraps `inner`, reporting to `state` and showing every byte to `hook`.
    pub(crate) fn with_hook(inner: S, state: Arc<TapState>, hook: Box<dyn WireHook>) -> Self {
        Tap {
            inner,
            state,
            hook: Some(hook),
        }
    }

    /// The shared counters.
    pub fn state(&self) -> &Arc<TapState> {
        &self.state
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tap<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let res = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            let new = &buf.filled()[before..];
            if !new.is_empty() {
                let mark = self.state.note_read(new);
                if let Some(hook) = self.hook.as_mut() {
                    hook.read(new, mark);
                }
            }
        }
        res
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tap<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let res = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = res {
            self.state.bytes_out.fetch_add(n as u64, Ordering::Relaxed);
            if let Some(hook) = self.hook.as_mut() {
                hook.wrote(&buf[..n]);
            }
        }
        res
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn head_end_found_across_reads() {
        let st = TapState::new();
        st.begin_connection();
        st.note_read(b"HTTP/1.1 200 OK\r\nA: b\r");
        assert_eq!(st.head_bytes(), None);
        st.note_read(b"\n\r");
        assert_eq!(st.head_bytes(), None);
        st.note_read(b"\ndata: x\n\n");
        assert_eq!(st.head_bytes(), Some(25));
        assert_eq!(st.last_read().read, 3);
    }

    #[test]
    fn bare_lf_head_end() {
        let st = TapState::new();
        st.begin_connection();
        st.note_read(b"HTTP/1.1 200 OK\nA: b\n\nbody");
        assert_eq!(st.head_bytes(), Some(22));
    }

    #[test]
    fn reads_keep_counting_across_connections() {
        let st = TapState::new();
        st.begin_connection();
        st.note_read(b"HTTP/1.1 200 OK\r\n\r\n");
        st.begin_connection();
        assert_eq!(st.head_bytes(), None);
        let mark = st.note_read(b"HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(mark.read, 2);
        assert_eq!(st.head_bytes(), Some(19));
    }
}
