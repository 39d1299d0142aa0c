//! What the HTTP/2 frame scanner saw on one connection, handed to the streams that use it.
//!
//! The `h2` crate does the protocol and shows neither frames nor their sizes, so the connection's
//! [`Tap`](super::tap::Tap) passes every byte it reads and writes to a [`FrameTap`], which scans the
//! frame headers ([`crate::protocol::h2`]) and reports to the connection's [`FrameHub`]: DATA and
//! HEADERS frames are counted per HTTP/2 stream (the `open` record's head size, the DATA frames'
//! overhead), every other frame is sent to the streams it concerns (stream 0: all of them) to
//! become a `frame` record, our PINGs are matched to their ACKs for the round trip, and the
//! peer's SETTINGS and GOAWAY are kept as connection facts.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, watch};

use crate::capture::net::tap::{ReadMark, WireHook};
use crate::protocol::h2::{Frame, FrameScanner, frame_type, setting};
use crate::record::Dir;
use crate::record::time::Stamp;

/// A frame for a stream's records.
#[derive(Debug, Clone)]
pub(crate) struct SeenFrame {
    /// The frame.
    pub frame: Frame,
    /// Received or sent.
    pub dir: Dir,
    /// When: the read that delivered it, or the time it was written (read 0).
    pub mark: ReadMark,
    /// A PING ACK answering our PING: the round trip.
    pub rtt_ms: Option<f64>,
}

/// What the HTTP/2 stream's DATA frames cost, since it was last taken.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DataCount {
    /// DATA frames.
    pub frames: u64,
    /// Their payload, padding included.
    pub bytes: u64,
    /// Padding (pad length byte included).
    pub padding: u64,
}

#[derive(Debug)]
struct Sub {
    h2_stream: u32,
    tx: mpsc::UnboundedSender<SeenFrame>,
}

#[derive(Debug, Default)]
struct Inner {
    subs: Vec<Sub>,
    /// Connection frames seen before any stream subscribed (the opening SETTINGS exchange): the
    /// first subscriber gets them.
    early: Vec<SeenFrame>,
    data: HashMap<u32, DataCount>,
    headers: HashMap<u32, u64>,
    pings: VecDeque<([u8; 8], Stamp)>,
    goaway: Option<Frame>,
}

/// The shared facts of one HTTP/2 connection.
#[derive(Debug)]
pub(crate) struct FrameHub {
    inner: Mutex<Inner>,
    /// The peer's `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441).
    connect_protocol: AtomicBool,
    /// The peer's `SETTINGS_INITIAL_WINDOW_SIZE` (our send window for new streams).
    initial_window: AtomicU32,
    /// The peer's `SETTINGS_MAX_CONCURRENT_STREAMS` (`u32::MAX` until it sets one).
    max_streams: AtomicU32,
    /// Set once the peer's first SETTINGS frame has been read.
    settings: watch::Sender<bool>,
}

impl FrameHub {
    /// A hub for a new connection.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(FrameHub {
            inner: Mutex::new(Inner::default()),
            connect_protocol: AtomicBool::new(false),
            initial_window: AtomicU32::new(65_535),
            max_streams: AtomicU32::new(u32::MAX),
            settings: watch::channel(false).0,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain counters behind: still usable.
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Frames of `h2_stream` and of the connection go to the returned receiver.
    pub(crate) fn subscribe(&self, h2_stream: u32) -> mpsc::UnboundedReceiver<SeenFrame> {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut inner = self.lock();
        for early in inner.early.drain(..) {
            let _ = tx.send(early);
        }
        inner.subs.retain(|s| !s.tx.is_closed());
        inner.subs.push(Sub { h2_stream, tx });
        rx
    }

    /// Streams subscribed and still listening.
    pub(crate) fn users(&self) -> usize {
        self.lock()
            .subs
            .iter()
            .filter(|s| !s.tx.is_closed())
            .count()
    }

    /// The DATA frames of `h2_stream` since the last call.
    pub(crate) fn take_data(&self, h2_stream: u32) -> DataCount {
        self.lock().data.remove(&h2_stream).unwrap_or_default()
    }

    /// Wire bytes of the HEADERS (and CONTINUATION) frames received on `h2_stream` so far,
    /// forgotten once taken (the response head is taken once).
    pub(crate) fn take_head_bytes(&self, h2_stream: u32) -> u64 {
        self.lock().headers.remove(&h2_stream).unwrap_or(0)
    }

    /// The GOAWAY the peer sent, if any.
    pub(crate) fn goaway(&self) -> Option<Frame> {
        self.lock().goaway.clone()
    }

    /// The peer allows WebSocket over HTTP/2 (RFC 8441).
    pub(crate) fn connect_protocol(&self) -> bool {
        self.connect_protocol.load(Ordering::Relaxed)
    }

    /// The peer's initial stream window.
    pub(crate) fn initial_window(&self) -> u32 {
        self.initial_window.load(Ordering::Relaxed)
    }

    /// The peer's limit on concurrent streams.
    pub(crate) fn max_streams(&self) -> u32 {
        self.max_streams.load(Ordering::Relaxed)
    }

    /// Waits until the peer's first SETTINGS frame has been read (or the connection is gone).
    pub(crate) async fn settings_seen(&self) {
        let mut rx = self.settings.subscribe();
        let _ = rx.wait_for(|seen| *seen).await;
    }

    fn on_frame(&self, frame: Frame, dir: Dir, mark: ReadMark) {
        let mut inner = self.lock();
        match frame.ty {
            frame_type::DATA if dir == Dir::In => {
                let d = inner.data.entry(frame.stream_id).or_default();
                d.frames += 1;
                d.bytes += u64::from(frame.len);
                d.padding += u64::from(frame.padding);
                return;
            }
            frame_type::HEADERS | frame_type::CONTINUATION if dir == Dir::In => {
                *inner.headers.entry(frame.stream_id).or_default() += frame.wire_bytes();
                return;
            }
            frame_type::DATA | frame_type::HEADERS | frame_type::CONTINUATION => return,
            _ => {}
        }
        let mut rtt_ms = None;
        if let crate::protocol::h2::FrameInfo::Ping(data) = frame.info {
            if dir == Dir::Out && !frame.is_ack() {
                inner.pings.push_back((data, mark.stamp));
                if inner.pings.len() > 16 {
                    inner.pings.pop_front();
                }
            } else if dir == Dir::In
                && frame.is_ack()
                && let Some(i) = inner.pings.iter().position(|(d, _)| *d == data)
            {
                rtt_ms = inner
                    .pings
                    .remove(i)
                    .map(|(_, sent)| mark.stamp.ms_since(sent));
            }
        }
        if dir == Dir::In {
            self.note_peer(&frame, &mut inner);
        }
        let seen = SeenFrame {
            frame,
            dir,
            mark,
            rtt_ms,
        };
        let to_all = seen.frame.stream_id == 0;
        if inner.subs.is_empty() && to_all {
            inner.early.push(seen);
            return;
        }
        for sub in &inner.subs {
            if to_all || sub.h2_stream == seen.frame.stream_id {
                let _ = sub.tx.send(seen.clone());
            }
        }
    }

    /// Keeps what the peer's SETTINGS and GOAWAY say about the connection.
    fn note_peer(&self, frame: &Frame, inner: &mut Inner) {
        match frame.ty {
            frame_type::SETTINGS if !frame.is_ack() => {
                if let Some(v) = frame.setting(setting::ENABLE_CONNECT_PROTOCOL) {
                    self.connect_protocol.store(v == 1, Ordering::Relaxed);
                }
                if let Some(v) = frame.setting(setting::INITIAL_WINDOW_SIZE) {
                    self.initial_window.store(v, Ordering::Relaxed);
                }
                if let Some(v) = frame.setting(setting::MAX_CONCURRENT_STREAMS) {
                    self.max_streams.store(v, Ordering::Relaxed);
                }
                self.settings.send_replace(true);
            }
            frame_type::GOAWAY => inner.goaway = Some(frame.clone()),
            _ => {}
        }
    }

    /// The connection is gone: nobody waits for SETTINGS any more.
    pub(crate) fn closed(&self) {
        self.settings.send_replace(true);
    }
}

/// The [`WireHook`] of an HTTP/2 connection's tap: scans both directions into the hub.
#[derive(Debug)]
pub(crate) struct FrameTap {
    rx: FrameScanner,
    tx: FrameScanner,
    hub: Arc<FrameHub>,
    frames: Vec<Frame>,
}

impl FrameTap {
    /// A hook for a client connection reporting to `hub`.
    pub(crate) fn new(hub: Arc<FrameHub>) -> Self {
        FrameTap {
            rx: FrameScanner::new(),
            tx: FrameScanner::client(),
            hub,
            frames: Vec::new(),
        }
    }
}

impl WireHook for FrameTap {
    fn read(&mut self, bytes: &[u8], mark: ReadMark) {
        self.rx.feed(bytes, &mut self.frames);
        for f in self.frames.drain(..) {
            self.hub.on_frame(f, Dir::In, mark);
        }
    }

    fn wrote(&mut self, bytes: &[u8]) {
        self.tx.feed(bytes, &mut self.frames);
        if self.frames.is_empty() {
            return;
        }
        let mark = ReadMark {
            read: 0,
            stamp: Stamp::now(),
        };
        for f in self.frames.drain(..) {
            self.hub.on_frame(f, Dir::Out, mark);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::h2::{FLAG_ACK, encode_header};

    fn mark(read: u64, mono_ns: u64) -> ReadMark {
        ReadMark {
            read,
            stamp: Stamp {
                wall_us: 0,
                mono_ns,
            },
        }
    }

    #[test]
    fn frames_go_to_their_streams_and_pings_get_a_round_trip() {
        let hub = FrameHub::new();
        let mut tap = FrameTap::new(hub.clone());
        let mut server = Vec::new();
        encode_header(&mut server, 6, frame_type::SETTINGS, 0, 0);
        server.extend_from_slice(&[0, 8, 0, 0, 0, 1]);
        tap.read(&server, mark(1, 0));
        assert!(hub.connect_protocol());
        // The opening SETTINGS waits for the first subscriber.
        let mut one = hub.subscribe(1);
        let mut three = hub.subscribe(3);
        assert_eq!(
            one.try_recv().map(|f| f.frame.ty).ok(),
            Some(frame_type::SETTINGS)
        );
        assert!(three.try_recv().is_err());
        let mut client = crate::protocol::h2::CLIENT_PREFACE.to_vec();
        encode_header(&mut client, 8, frame_type::PING, 0, 0);
        client.extend_from_slice(&[7; 8]);
        tap.wrote(&client);
        let mut reply = Vec::new();
        encode_header(&mut reply, 8, frame_type::PING, FLAG_ACK, 0);
        reply.extend_from_slice(&[7; 8]);
        encode_header(&mut reply, 4, frame_type::RST_STREAM, 0, 3);
        reply.extend_from_slice(&8u32.to_be_bytes());
        encode_header(&mut reply, 2, frame_type::DATA, 0, 1);
        reply.extend_from_slice(b"hi");
        tap.read(&reply, mark(2, u64::MAX / 2));
        // Both see the connection's PING (out) and its ACK (in); only stream 3 its RST_STREAM.
        let one_frames: Vec<_> = std::iter::from_fn(|| one.try_recv().ok()).collect();
        let three_frames: Vec<_> = std::iter::from_fn(|| three.try_recv().ok()).collect();
        assert_eq!(one_frames.len(), 2);
        assert_eq!(three_frames.len(), 3);
        assert!(one_frames[1].rtt_ms.is_some());
        assert_eq!(three_frames[2].frame.error_code(), Some(8));
        assert_eq!(
            hub.take_data(1),
            DataCount {
                frames: 1,
                bytes: 2,
                padding: 0
            }
        );
        assert_eq!(hub.take_data(1), DataCount::default());
    }
}
