//! HTTP/2 frames (RFC 9113 section 4) as a passive scanner fed the bytes of one direction of a
//! connection: it reports every frame's 9-byte header and decodes the payload of the frames an
//! inspector must show (SETTINGS, PING, GOAWAY, `RST_STREAM`, `WINDOW_UPDATE`), while the HTTP/2
//! implementation (the `h2` crate) does the protocol on the same bytes. Pure: no I/O, no clock, so
//! any split of the same bytes gives the same frames.

use std::fmt::Write as _;

/// The client connection preface that precedes the client's first frame (RFC 9113 3.4).
pub const CLIENT_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Frame types (RFC 9113 section 6).
pub mod frame_type {
    /// DATA.
    pub const DATA: u8 = 0x0;
    /// HEADERS.
    pub const HEADERS: u8 = 0x1;
    /// PRIORITY.
    pub const PRIORITY: u8 = 0x2;
    /// `RST_STREAM`.
    pub const RST_STREAM: u8 = 0x3;
    /// SETTINGS.
    pub const SETTINGS: u8 = 0x4;
    /// `PUSH_PROMISE`.
    pub const PUSH_PROMISE: u8 = 0x5;
    /// PING.
    pub const PING: u8 = 0x6;
    /// GOAWAY.
    pub const GOAWAY: u8 = 0x7;
    /// `WINDOW_UPDATE`.
    pub const WINDOW_UPDATE: u8 = 0x8;
    /// CONTINUATION.
    pub const CONTINUATION: u8 = 0x9;
}

/// ACK flag of SETTINGS and PING.
pub const FLAG_ACK: u8 = 0x1;
/// `END_STREAM` flag of DATA and HEADERS.
pub const FLAG_END_STREAM: u8 = 0x1;
/// PADDED flag of DATA and HEADERS.
pub const FLAG_PADDED: u8 = 0x8;

/// Payload bytes kept of a GOAWAY's debug data (the rest is counted, not kept).
const MAX_DEBUG: usize = 256;

/// One frame as it crossed the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Frame type (see [`frame_type`]).
    pub ty: u8,
    /// Flags byte.
    pub flags: u8,
    /// Stream identifier (0: the connection).
    pub stream_id: u32,
    /// Payload length (the 9-byte header not included).
    pub len: u32,
    /// Padding bytes of a PADDED DATA or HEADERS frame (pad length byte included).
    pub padding: u32,
    /// What the payload says, for the frames that carry connection facts.
    pub info: FrameInfo,
}

/// The decoded payload of the frames an inspector shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameInfo {
    /// Nothing decoded (DATA, HEADERS, CONTINUATION, PRIORITY, unknown types).
    None,
    /// SETTINGS: (identifier, value) pairs in order.
    Settings(Vec<(u16, u32)>),
    /// PING: the 8 opaque bytes.
    Ping([u8; 8]),
    /// GOAWAY: last stream id, error code, debug data (cut at 256 bytes).
    GoAway {
        /// Highest stream id the sender may have processed.
        last_stream_id: u32,
        /// Error code.
        code: u32,
        /// Additional debug data, lossy UTF-8.
        debug: String,
    },
    /// `RST_STREAM`: error code.
    RstStream(u32),
    /// `WINDOW_UPDATE`: window size increment.
    WindowUpdate(u32),
    /// The payload was not the size its type requires (a protocol error the peer will see too).
    Malformed,
}

impl Frame {
    /// Header plus payload: the frame's size on the wire.
    pub fn wire_bytes(&self) -> u64 {
        9 + u64::from(self.len)
    }

    /// The frame type's name (`SETTINGS`), or `UNKNOWN(0xNN)`.
    pub fn type_name(&self) -> String {
        type_name(self.ty)
    }

    /// True for SETTINGS or PING with ACK set.
    pub fn is_ack(&self) -> bool {
        matches!(self.ty, frame_type::SETTINGS | frame_type::PING) && self.flags & FLAG_ACK != 0
    }

    /// A short description: `ACK`, `MAX_CONCURRENT_STREAMS=100 INITIAL_WINDOW_SIZE=65535`,
    /// `increment 32768`, `NO_ERROR, last stream 3`.
    pub fn detail(&self) -> String {
        let mut s = String::new();
        if self.is_ack() {
            s.push_str("ACK");
        }
        match &self.info {
            FrameInfo::None => {
                if self.flags & FLAG_END_STREAM != 0
                    && matches!(self.ty, frame_type::DATA | frame_type::HEADERS)
                {
                    s.push_str("END_STREAM");
                }
            }
            FrameInfo::Settings(pairs) => {
                for (id, value) in pairs {
                    if !s.is_empty() {
                        s.push(' ');
                    }
                    let _ = write!(s, "{}={value}", setting_name(*id));
                }
            }
            FrameInfo::Ping(data) => {
                if !s.is_empty() {
                    s.push(' ');
                }
                for b in data {
                    let _ = write!(s, "{b:02x}");
                }
            }
            FrameInfo::GoAway {
                last_stream_id,
                code,
                debug,
            } => {
                let _ = write!(s, "{}, last stream {last_stream_id}", error_name(*code));
                if !debug.is_empty() {
                    let _ = write!(s, ": {debug}");
                }
            }
            FrameInfo::RstStream(code) => s.push_str(&error_name(*code)),
            FrameInfo::WindowUpdate(n) => {
                let _ = write!(s, "increment {n}");
            }
            FrameInfo::Malformed => s.push_str("malformed payload"),
        }
        s
    }

    /// The error code of a GOAWAY or `RST_STREAM`.
    pub fn error_code(&self) -> Option<u32> {
        match self.info {
            FrameInfo::GoAway { code, .. } | FrameInfo::RstStream(code) => Some(code),
            _ => None,
        }
    }

    /// The value of SETTINGS parameter `id`, when this frame sets it.
    pub fn setting(&self, id: u16) -> Option<u32> {
        match &self.info {
            FrameInfo::Settings(pairs) => pairs.iter().rev().find(|(i, _)| *i == id).map(|p| p.1),
            _ => None,
        }
    }
}

/// The name of frame type `ty`.
pub fn type_name(ty: u8) -> String {
    let name = match ty {
        frame_type::DATA => "DATA",
        frame_type::HEADERS => "HEADERS",
        frame_type::PRIORITY => "PRIORITY",
        frame_type::RST_STREAM => "RST_STREAM",
        frame_type::SETTINGS => "SETTINGS",
        frame_type::PUSH_PROMISE => "PUSH_PROMISE",
        frame_type::PING => "PING",
        frame_type::GOAWAY => "GOAWAY",
        frame_type::WINDOW_UPDATE => "WINDOW_UPDATE",
        frame_type::CONTINUATION => "CONTINUATION",
        other => return format!("UNKNOWN(0x{other:02x})"),
    };
    name.to_owned()
}

/// SETTINGS parameters (RFC 9113 6.5.2, RFC 8441).
pub mod setting {
    /// `SETTINGS_HEADER_TABLE_SIZE`.
    pub const HEADER_TABLE_SIZE: u16 = 0x1;
    /// `SETTINGS_ENABLE_PUSH`.
    pub const ENABLE_PUSH: u16 = 0x2;
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`.
    pub const MAX_CONCURRENT_STREAMS: u16 = 0x3;
    /// `SETTINGS_INITIAL_WINDOW_SIZE`.
    pub const INITIAL_WINDOW_SIZE: u16 = 0x4;
    /// `SETTINGS_MAX_FRAME_SIZE`.
    pub const MAX_FRAME_SIZE: u16 = 0x5;
    /// `SETTINGS_MAX_HEADER_LIST_SIZE`.
    pub const MAX_HEADER_LIST_SIZE: u16 = 0x6;
    /// `SETTINGS_ENABLE_CONNECT_PROTOCOL` (RFC 8441).
    pub const ENABLE_CONNECT_PROTOCOL: u16 = 0x8;
}

/// The name of SETTINGS parameter `id`, without the `SETTINGS_` prefix.
pub fn setting_name(id: u16) -> String {
    let name = match id {
        setting::HEADER_TABLE_SIZE => "HEADER_TABLE_SIZE",
        setting::ENABLE_PUSH => "ENABLE_PUSH",
        setting::MAX_CONCURRENT_STREAMS => "MAX_CONCURRENT_STREAMS",
        setting::INITIAL_WINDOW_SIZE => "INITIAL_WINDOW_SIZE",
        setting::MAX_FRAME_SIZE => "MAX_FRAME_SIZE",
        setting::MAX_HEADER_LIST_SIZE => "MAX_HEADER_LIST_SIZE",
        setting::ENABLE_CONNECT_PROTOCOL => "ENABLE_CONNECT_PROTOCOL",
        0x9 => "NO_RFC7540_PRIORITIES",
        other => return format!("0x{other:x}"),
    };
    name.to_owned()
}

/// The name of an HTTP/2 error code (RFC 9113 section 7).
pub fn error_name(code: u32) -> String {
    let name = match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        other => return format!("error 0x{other:x}"),
    };
    name.to_owned()
}

/// Where the scanner is within the byte stream.
#[derive(Debug, Clone)]
enum State {
    /// Skipping the client preface (the client's own outgoing bytes).
    Preface(usize),
    /// Collecting a 9-byte header.
    Header,
    /// Inside a payload: bytes left, and whether they are kept for decoding.
    Payload { left: u32 },
}

/// Scans one direction of an HTTP/2 connection. Feed it every byte, in order; it yields each
/// frame once its header and the payload bytes it decodes have arrived.
#[derive(Debug, Clone)]
pub struct FrameScanner {
    state: State,
    head: [u8; 9],
    head_len: usize,
    /// The frame being read (header parsed).
    current: Option<Frame>,
    /// Payload bytes kept for decoding.
    keep: Vec<u8>,
    /// How many payload bytes to keep.
    keep_limit: usize,
    /// Total bytes seen.
    bytes: u64,
}

impl FrameScanner {
    /// A scanner for what a server sends (frames from the first byte).
    pub fn new() -> Self {
        FrameScanner {
            state: State::Header,
            head: [0; 9],
            head_len: 0,
            current: None,
            keep: Vec::new(),
            keep_limit: 0,
            bytes: 0,
        }
    }

    /// A scanner for what a client sends: the 24-byte preface first, then frames.
    pub fn client() -> Self {
        FrameScanner {
            state: State::Preface(CLIENT_PREFACE.len()),
            ..FrameScanner::new()
        }
    }

    /// Bytes fed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Feeds the next bytes; complete frames are appended to `out`.
    pub fn feed(&mut self, mut bytes: &[u8], out: &mut Vec<Frame>) {
        self.bytes += bytes.len() as u64;
        while !bytes.is_empty() {
            match self.state {
                State::Preface(left) => {
                    let n = left.min(bytes.len());
                    bytes = &bytes[n..];
                    self.state = if left == n {
                        State::Header
                    } else {
                        State::Preface(left - n)
                    };
                }
                State::Header => {
                    let n = (9 - self.head_len).min(bytes.len());
                    self.head[self.head_len..self.head_len + n].copy_from_slice(&bytes[..n]);
                    self.head_len += n;
                    bytes = &bytes[n..];
                    if self.head_len == 9 {
                        self.head_len = 0;
                        self.start_frame(out);
                    }
                }
                State::Payload { left } => {
                    let n = (left as usize).min(bytes.len());
                    let want = self.keep_limit.saturating_sub(self.keep.len()).min(n);
                    self.keep.extend_from_slice(&bytes[..want]);
                    bytes = &bytes[n..];
                    let left = left - n as u32;
                    if left == 0 {
                        self.finish_frame(out);
                    } else {
                        self.state = State::Payload { left };
                    }
                }
            }
        }
    }

    fn start_frame(&mut self, out: &mut Vec<Frame>) {
        let h = self.head;
        let len = u32::from_be_bytes([0, h[0], h[1], h[2]]);
        let ty = h[3];
        let flags = h[4];
        let stream_id = u32::from_be_bytes([h[5], h[6], h[7], h[8]]) & 0x7fff_ffff;
        self.keep_limit = match ty {
            frame_type::SETTINGS => len as usize,
            frame_type::PING => 8,
            frame_type::GOAWAY => 8 + MAX_DEBUG,
            frame_type::RST_STREAM | frame_type::WINDOW_UPDATE => 4,
            frame_type::DATA | frame_type::HEADERS if flags & FLAG_PADDED != 0 => 1,
            _ => 0,
        }
        .min(len as usize);
        self.keep.clear();
        self.current = Some(Frame {
            ty,
            flags,
            stream_id,
            len,
            padding: 0,
            info: FrameInfo::None,
        });
        if len == 0 {
            self.finish_frame(out);
        } else {
            self.state = State::Payload { left: len };
        }
    }

    fn finish_frame(&mut self, out: &mut Vec<Frame>) {
        self.state = State::Header;
        let Some(mut frame) = self.current.take() else {
            return;
        };
        let p = &self.keep;
        frame.info = match frame.ty {
            frame_type::SETTINGS if frame.len % 6 != 0 => FrameInfo::Malformed,
            frame_type::SETTINGS if frame.flags & FLAG_ACK != 0 => FrameInfo::None,
            frame_type::SETTINGS => FrameInfo::Settings(
                p.chunks_exact(6)
                    .map(|c| {
                        (
                            u16::from_be_bytes([c[0], c[1]]),
                            u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
                        )
                    })
                    .collect(),
            ),
            frame_type::PING => match <[u8; 8]>::try_from(p.as_slice()) {
                Ok(data) if frame.len == 8 => FrameInfo::Ping(data),
                _ => FrameInfo::Malformed,
            },
            frame_type::GOAWAY if p.len() >= 8 => FrameInfo::GoAway {
                last_stream_id: u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & 0x7fff_ffff,
                code: u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
                debug: String::from_utf8_lossy(&p[8..]).into_owned(),
            },
            frame_type::RST_STREAM if frame.len == 4 && p.len() == 4 => {
                FrameInfo::RstStream(u32::from_be_bytes([p[0], p[1], p[2], p[3]]))
            }
            frame_type::WINDOW_UPDATE if frame.len == 4 && p.len() == 4 => {
                FrameInfo::WindowUpdate(u32::from_be_bytes([p[0], p[1], p[2], p[3]]) & 0x7fff_ffff)
            }
            frame_type::GOAWAY | frame_type::RST_STREAM | frame_type::WINDOW_UPDATE => {
                FrameInfo::Malformed
            }
            _ => FrameInfo::None,
        };
        if matches!(frame.ty, frame_type::DATA | frame_type::HEADERS)
            && frame.flags & FLAG_PADDED != 0
        {
            // The pad length byte plus the padding it announces; never more than the frame.
            frame.padding = (1 + p.first().copied().map_or(0, u32::from)).min(frame.len);
        }
        out.push(frame);
    }
}

impl Default for FrameScanner {
    fn default() -> Self {
        FrameScanner::new()
    }
}

/// Encodes a frame header (for tests and the embedded server's scripted frames).
pub fn encode_header(out: &mut Vec<u8>, len: u32, ty: u8, flags: u8, stream_id: u32) {
    out.extend_from_slice(&len.to_be_bytes()[1..]);
    out.push(ty);
    out.push(flags);
    out.extend_from_slice(&(stream_id & 0x7fff_ffff).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames() -> Vec<u8> {
        let mut b = Vec::new();
        // SETTINGS: MAX_CONCURRENT_STREAMS=1, ENABLE_CONNECT_PROTOCOL=1.
        encode_header(&mut b, 12, frame_type::SETTINGS, 0, 0);
        b.extend_from_slice(&[0, 3, 0, 0, 0, 1, 0, 8, 0, 0, 0, 1]);
        // A padded DATA frame on stream 1: pad length 3, "hi", 3 bytes of padding.
        encode_header(&mut b, 6, frame_type::DATA, FLAG_PADDED, 1);
        b.extend_from_slice(&[3, b'h', b'i', 0, 0, 0]);
        encode_header(&mut b, 8, frame_type::PING, FLAG_ACK, 0);
        b.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        encode_header(&mut b, 4, frame_type::RST_STREAM, 0, 1);
        b.extend_from_slice(&11u32.to_be_bytes());
        encode_header(&mut b, 10, frame_type::GOAWAY, 0, 0);
        b.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, b'o', b'k']);
        encode_header(&mut b, 4, frame_type::WINDOW_UPDATE, 0, 0);
        b.extend_from_slice(&65_535u32.to_be_bytes());
        encode_header(&mut b, 0, frame_type::SETTINGS, FLAG_ACK, 0);
        b
    }

    #[test]
    fn frames_are_decoded_with_their_facts() {
        let mut s = FrameScanner::new();
        let mut out = Vec::new();
        s.feed(&frames(), &mut out);
        let details: Vec<(String, String)> =
            out.iter().map(|f| (f.type_name(), f.detail())).collect();
        assert_eq!(
            details,
            [
                (
                    "SETTINGS".into(),
                    "MAX_CONCURRENT_STREAMS=1 ENABLE_CONNECT_PROTOCOL=1".into()
                ),
                ("DATA".into(), String::new()),
                ("PING".into(), "ACK 0102030405060708".into()),
                ("RST_STREAM".into(), "ENHANCE_YOUR_CALM".into()),
                ("GOAWAY".into(), "NO_ERROR, last stream 1: ok".into()),
                ("WINDOW_UPDATE".into(), "increment 65535".into()),
                ("SETTINGS".into(), "ACK".into()),
            ]
        );
        assert_eq!(out[1].padding, 4);
        assert_eq!(out[1].wire_bytes(), 15);
        assert_eq!(out[0].setting(setting::ENABLE_CONNECT_PROTOCOL), Some(1));
        assert_eq!(out[3].error_code(), Some(11));
        assert_eq!(s.bytes(), frames().len() as u64);
    }

    #[test]
    fn any_split_gives_the_same_frames() {
        let bytes = frames();
        let mut whole = Vec::new();
        FrameScanner::new().feed(&bytes, &mut whole);
        for step in 1..bytes.len() {
            let mut s = FrameScanner::new();
            let mut out = Vec::new();
            for chunk in bytes.chunks(step) {
                s.feed(chunk, &mut out);
            }
            assert_eq!(out, whole, "chunks of {step}");
        }
    }

    #[test]
    fn the_client_preface_is_skipped() {
        let mut b = CLIENT_PREFACE.to_vec();
        encode_header(&mut b, 0, frame_type::SETTINGS, 0, 0);
        let mut out = Vec::new();
        let mut s = FrameScanner::client();
        for chunk in b.chunks(5) {
            s.feed(chunk, &mut out);
        }
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].ty, frame_type::SETTINGS);
    }

    proptest::proptest! {
        /// Any bytes, in any split: no panic, and the frames found never add up to more bytes
        /// than were fed.
        #[test]
        fn any_bytes_any_split(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            step in 1usize..64,
        ) {
            let mut s = FrameScanner::new();
            let mut out = Vec::new();
            for chunk in bytes.chunks(step) {
                s.feed(chunk, &mut out);
            }
            let total: u64 = out.iter().map(Frame::wire_bytes).sum();
            proptest::prop_assert!(total <= bytes.len() as u64);
            let mut whole = Vec::new();
            FrameScanner::new().feed(&bytes, &mut whole);
            proptest::prop_assert_eq!(out, whole);
        }
    }

    #[test]
    fn wrong_sizes_are_malformed_not_misread() {
        let mut b = Vec::new();
        encode_header(&mut b, 3, frame_type::PING, 0, 0);
        b.extend_from_slice(&[1, 2, 3]);
        encode_header(&mut b, 5, frame_type::SETTINGS, 0, 0);
        b.extend_from_slice(&[0; 5]);
        let mut out = Vec::new();
        FrameScanner::new().feed(&b, &mut out);
        assert!(out.iter().all(|f| f.info == FrameInfo::Malformed));
        assert_eq!(error_name(0x42), "error 0x42");
        assert_eq!(type_name(0x20), "UNKNOWN(0x20)");
    }
}
