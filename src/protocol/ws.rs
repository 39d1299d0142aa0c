//! RFC 6455 framing for the client side of a WebSocket connection, with no I/O.
//!
//! This module owns:
//! - the receive path: [`Decoder`] takes the bytes a server sent, in chunks of any size, and turns
//!   them into [`WsItem`]s (assembled data messages, pings, pongs, closes), enforcing every framing
//!   rule a client must enforce and mapping each violation to the close code the RFC requires
//!   ([`ProtocolError`]);
//! - frame encoding: [`encode_frame`] for what streamscope sends (masked client frames) and, through
//!   [`encode_frame`] and [`encode_header`], for test servers that need arbitrary or deliberately
//!   malformed frames;
//! - close frames: [`parse_close_payload`], [`encode_close_payload`], [`close_code_meaning`];
//! - lints ([`WsLint`]): input that decodes fine but is odd (a non-minimal length, a frame boundary
//!   inside a UTF-8 sequence), collected by the decoder for [`Decoder::take_lints`].
//!
//! It is pure: no sockets, no clock, no randomness (mask keys are passed in). permessage-deflate
//! is not inflated here: a compressed message is reported with `compressed: true` and its raw bytes.

use std::fmt;

use bytes::Bytes;

use crate::record::text::Arena;
use crate::record::{DataOpcode, Payload, Text};

/// Opcode of a continuation frame.
pub const OP_CONTINUATION: u8 = 0x0;
/// Opcode of the first frame of a text message.
pub const OP_TEXT: u8 = 0x1;
/// Opcode of the first frame of a binary message.
pub const OP_BINARY: u8 = 0x2;
/// Opcode of a close frame.
pub const OP_CLOSE: u8 = 0x8;
/// Opcode of a ping frame.
pub const OP_PING: u8 = 0x9;
/// Opcode of a pong frame.
pub const OP_PONG: u8 = 0xA;

/// The reserved bits of a frame header (`rsv` in [`encode_frame`]) that mark a message
/// compressed under permessage-deflate (RSV1).
pub const RSV1: u8 = 0b100;

/// Largest payload a control frame (close, ping, pong) may carry.
pub const MAX_CONTROL_PAYLOAD: usize = 125;
/// The app's default limit on an assembled message, 64 MiB.
pub const DEFAULT_MAX_MESSAGE: usize = 64 * 1024 * 1024;
/// Largest header a frame can have: 2 + 8 (64-bit length) + 4 (mask key).
pub const MAX_HEADER_LEN: usize = 14;

/// Block size of the arena messages are assembled in: a large socket read's worth.
const ARENA_BLOCK: usize = 64 * 1024;

/// 7-bit length value announcing a 16-bit length.
const LEN_16: u8 = 126;
/// 7-bit length value announcing a 64-bit length.
const LEN_64: u8 = 127;

/// Smallest internal buffer allocated once bytes arrive.
const MIN_BUFFER: usize = 8 * 1024;

/// A decoded frame header.
#[expect(
    clippy::struct_excessive_bools,
    reason = "one field per flag bit of the wire format"
)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// Final fragment of a message.
    pub fin: bool,
    /// RSV1 bit (the "compressed" bit under permessage-deflate).
    pub rsv1: bool,
    /// RSV2 bit.
    pub rsv2: bool,
    /// RSV3 bit.
    pub rsv3: bool,
    /// The 4-bit opcode.
    pub opcode: u8,
    /// The masking key, when the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// Payload length as claimed by the header.
    pub payload_len: u64,
    /// Bytes taken by the header on the wire: 2, 4 or 10, plus 4 with a mask key.
    pub header_len: usize,
}

impl FrameHeader {
    /// True for close, ping, pong and the reserved control opcodes (0x8-0xF).
    pub fn is_control(&self) -> bool {
        self.opcode & 0x8 != 0
    }

    /// Header plus payload bytes.
    pub fn frame_len(&self) -> u64 {
        self.header_len as u64 + self.payload_len
    }
}

/// Parses a frame header from the start of `buf`.
///
/// Returns `Ok(None)` when `buf` does not yet hold the whole header, and an error (close code 1002)
/// for a 64-bit length with its most significant bit set. Nothing else is validated here: opcode,
/// RSV bits and masking are judged by the [`Decoder`], so a test can inspect any header.
/// Non-minimal length encodings are accepted.
pub fn parse_header(buf: &[u8]) -> Result<Option<FrameHeader>, ProtocolError> {
    let [b0, b1, ref rest @ ..] = *buf else {
        return Ok(None);
    };
    let (payload_len, len_bytes) = match b1 & 0x7f {
        LEN_16 => match rest.first_chunk::<2>() {
            Some(b) => (u64::from(u16::from_be_bytes(*b)), 2),
            None => return Ok(None),
        },
        LEN_64 => match rest.first_chunk::<8>() {
            Some(b) => {
                let n = u64::from_be_bytes(*b);
                if n >> 63 != 0 {
                    return Err(ProtocolError::new(
                        1002,
                        "64-bit payload length with the most significant bit set",
                    ));
                }
                (n, 8)
            }
            None => return Ok(None),
        },
        n => (u64::from(n), 0),
    };
    let mask = if b1 & 0x80 == 0 {
        None
    } else {
        match rest.get(len_bytes..).and_then(<[u8]>::first_chunk::<4>) {
            Some(key) => Some(*key),
            None => return Ok(None),
        }
    };
    Ok(Some(FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv1: b0 & 0x40 != 0,
        rsv2: b0 & 0x20 != 0,
        rsv3: b0 & 0x10 != 0,
        opcode: b0 & 0x0f,
        mask,
        payload_len,
        header_len: 2 + len_bytes + if mask.is_some() { 4 } else { 0 },
    }))
}

/// One complete thing received from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsItem {
    /// An assembled data message.
    Message {
        /// Text or binary, from the first frame.
        opcode: DataOpcode,
        /// The payload: [`Payload::Text`] for an uncompressed text message, otherwise
        /// [`Payload::Binary`] (a compressed message keeps its raw, still deflated bytes).
        data: Payload,
        /// Number of frames the message came in.
        frames: u32,
        /// RSV1 was set on the first frame (permessage-deflate).
        compressed: bool,
        /// Header and payload bytes of all the message's frames, as received.
        wire_bytes: u64,
    },
    /// A ping frame.
    Ping {
        /// Its payload (at most 125 bytes).
        data: Vec<u8>,
        /// Header and payload bytes.
        wire_bytes: u64,
    },
    /// A pong frame.
    Pong {
        /// Its payload (at most 125 bytes).
        data: Vec<u8>,
        /// Header and payload bytes.
        wire_bytes: u64,
    },
    /// A close frame.
    Close {
        /// The status code, `None` for an empty close payload.
        code: Option<u16>,
        /// The UTF-8 reason, empty when absent.
        reason: String,
        /// Header and payload bytes.
        wire_bytes: u64,
    },
}

impl WsItem {
    /// Header and payload bytes of all the frames of this item.
    pub fn wire_bytes(&self) -> u64 {
        match self {
            WsItem::Message { wire_bytes, .. }
            | WsItem::Ping { wire_bytes, .. }
            | WsItem::Pong { wire_bytes, .. }
            | WsItem::Close { wire_bytes, .. } => *wire_bytes,
        }
    }
}

/// A violation of RFC 6455 by the peer, with the close code to answer it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    /// What went wrong, for people.
    pub message: String,
    /// The close code the RFC requires (1002, 1007, 1009, or 1006 for a cut connection).
    pub close_code: u16,
}

impl ProtocolError {
    /// An error with the given close code and message.
    pub fn new(close_code: u16, message: impl Into<String>) -> Self {
        ProtocolError {
            message: message.into(),
            close_code,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (close code {}: {})",
            self.message,
            self.close_code,
            close_code_meaning(self.close_code)
        )
    }
}

impl std::error::Error for ProtocolError {}

/// Progress through the payload of the data frame being received.
#[derive(Debug, Clone, Copy)]
struct FrameProgress {
    header_len: usize,
    payload_len: u64,
    remaining: u64,
    fin: bool,
}

/// The payload of a data message being assembled, in the decoder's arena: all of the arena's
/// pending bytes are this message's.
#[derive(Debug)]
enum Body {
    /// A binary message, or a compressed one (its raw deflate bytes).
    Raw,
    /// An uncompressed text message, checked as its bytes arrive so invalid UTF-8 fails the
    /// connection at once (RFC 6455 section 8.1; the Autobahn|Testsuite's 6.4.x cases expect it
    /// before the rest of the message comes), and each byte is checked once.
    Text {
        /// The start of a character cut off by a read or frame boundary (at most 3 bytes), not
        /// yet in the arena.
        pending: Vec<u8>,
    },
}

impl Body {
    fn new(opcode: DataOpcode, compressed: bool) -> Self {
        if opcode == DataOpcode::Text && !compressed {
            Body::Text {
                pending: Vec::new(),
            }
        } else {
            Body::Raw
        }
    }

    /// Bytes received so far, of which `arena` holds all but a cut-off character.
    fn len(&self, arena: &Arena) -> usize {
        match self {
            Body::Raw => arena.len(),
            Body::Text { pending } => arena.len() + pending.len(),
        }
    }

    /// True when the bytes so far end inside a character.
    fn ends_mid_char(&self) -> bool {
        matches!(self, Body::Text { pending } if !pending.is_empty())
    }

    /// Appends received payload bytes to `arena`; for text, an error (1007) as soon as they
    /// cannot be UTF-8.
    fn push(&mut self, text: &mut Arena, mut bytes: &[u8]) -> Result<(), ProtocolError> {
        let pending = match self {
            Body::Raw => {
                text.push(bytes);
                return Ok(());
            }
            Body::Text { pending } => pending,
        };
        // First complete a character the previous bytes cut off, one byte at a time.
        while !pending.is_empty() {
            let Some((&b, rest)) = bytes.split_first() else {
                return Ok(());
            };
            bytes = rest;
            pending.push(b);
            match std::str::from_utf8(pending) {
                Ok(c) => {
                    text.push(c.as_bytes());
                    pending.clear();
                }
                Err(e) if e.error_len().is_none() => {}
                Err(_) => return Err(invalid_utf8(text.len())),
            }
        }
        let mut seen = 0;
        for chunk in bytes.utf8_chunks() {
            text.push(chunk.valid().as_bytes());
            let bad = chunk.invalid();
            seen += chunk.valid().len() + bad.len();
            if bad.is_empty() {
                continue;
            }
            // Bytes that end the input and begin a character are not an error yet.
            let unfinished = seen == bytes.len()
                && std::str::from_utf8(bad).is_err_and(|e| e.error_len().is_none());
            if !unfinished {
                return Err(invalid_utf8(text.len()));
            }
            pending.extend_from_slice(bad);
        }
        Ok(())
    }
}

/// A data message whose final frame has not arrived yet.
#[derive(Debug)]
struct Partial {
    opcode: DataOpcode,
    data: Body,
    frames: u32,
    compressed: bool,
    wire_bytes: u64,
    /// Set while the payload of one of its frames is still arriving.
    frame: Option<FrameProgress>,
    /// A frame boundary of this message already split a UTF-8 sequence (linted once).
    split_linted: bool,
}

/// Most lints held between calls to [`Decoder::take_lints`]; a stream full of them would otherwise
/// grow the list without bound.
const MAX_PENDING_LINTS: usize = 64;

/// Legal-but-odd things noticed while decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsLint {
    /// A length in a longer form than needed (RFC 6455 5.2: "the minimal number of bytes MUST be
    /// used"); decoded anyway.
    NonMinimalLength {
        /// The payload length.
        payload_len: u64,
        /// The header's size on the wire (mask key excluded).
        length_bytes: usize,
    },
    /// A text message's frame boundary fell inside a UTF-8 sequence. The assembled message is
    /// valid; only the fragmentation is unusual (and breaks naive per-frame decoders).
    Utf8SplitAcrossFrames,
}

/// True when a frame header used a longer length form than its payload needs.
pub fn is_non_minimal(h: &FrameHeader) -> bool {
    let base = h.header_len - if h.mask.is_some() { 4 } else { 0 };
    match base {
        4 => h.payload_len < u64::from(LEN_16),
        10 => u16::try_from(h.payload_len).is_ok(),
        _ => false,
    }
}

/// True when `data` ends inside a UTF-8 sequence: its last lead byte announces more continuation
/// bytes than follow it.
pub fn ends_mid_utf8(data: &[u8]) -> bool {
    // A sequence is at most 4 bytes, so only the last 3 can hold an unfinished lead byte.
    for back in 1..=data.len().min(3) {
        let b = data[data.len() - back];
        if b & 0xC0 == 0x80 {
            continue; // continuation byte: keep looking for its lead
        }
        let need = match b {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return need > back;
    }
    false
}

/// Incremental decoder for the frames a server sends to a client.
///
/// Feed it bytes ([`feed`](Self::feed), or [`buffer_mut`](Self::buffer_mut) then
/// [`commit`](Self::commit) to read straight into its buffer), then drain
/// [`next_item`](Self::next_item) until it returns `None`. Frames are parsed in place from one
/// internal buffer; the payload of a data frame is copied once, into the message it belongs to,
/// as it arrives, so a large message never sits twice in memory. Messages are assembled in an
/// arena (see [`crate::record::Text`]) and handed out as slices of it: a message costs no
/// allocation of its own. Control frames that arrive between
/// the fragments of a message are returned at once.
#[derive(Debug)]
pub struct Decoder {
    /// Received bytes; `buf[pos..end]` is unread, `buf[end..]` is spare room.
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    max_message: usize,
    allow_rsv1: bool,
    failed: bool,
    message: Option<Partial>,
    /// The payload of the message being assembled.
    arena: Arena,
    lints: Vec<WsLint>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MAX_MESSAGE)
    }
}

impl Decoder {
    /// A decoder that refuses (close code 1009) any message larger than `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        Decoder {
            buf: Vec::new(),
            pos: 0,
            end: 0,
            max_message,
            allow_rsv1: false,
            failed: false,
            message: None,
            arena: Arena::new(ARENA_BLOCK),
            lints: Vec::new(),
        }
    }

    /// Returns and clears the lints noticed since the last call (at most 64 are kept).
    pub fn take_lints(&mut self) -> Vec<WsLint> {
        std::mem::take(&mut self.lints)
    }

    fn push_lint(&mut self, lint: WsLint) {
        if self.lints.len() < MAX_PENDING_LINTS {
            self.lints.push(lint);
        }
    }

    /// Declares permessage-deflate negotiated (or not): RSV1 becomes allowed on the first frame of
    /// a data message, and such a message is reported with `compressed: true` and its raw payload
    /// as [`Payload::Binary`].
    pub fn set_allow_rsv1(&mut self, allow: bool) {
        self.allow_rsv1 = allow;
    }

    /// The limit on an assembled message, in bytes.
    pub fn max_message(&self) -> usize {
        self.max_message
    }

    /// True once a protocol error was returned (or [`at_eof`](Self::at_eof) reported one).
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    /// Received bytes not yet consumed by [`next_item`](Self::next_item).
    pub fn buffered(&self) -> usize {
        self.end - self.pos
    }

    /// True while a data message has started but its final frame has not been received.
    pub fn message_in_progress(&self) -> bool {
        self.message.is_some()
    }

    /// Appends received bytes. Ignored once the decoder has failed.
    pub fn feed(&mut self, bytes: &[u8]) {
        if self.failed || bytes.is_empty() {
            return;
        }
        self.reserve(bytes.len());
        self.buf[self.end..self.end + bytes.len()].copy_from_slice(bytes);
        self.end += bytes.len();
    }

    /// Spare room at the end of the internal buffer, at least `min_spare` bytes and never empty,
    /// to read into directly; report how many bytes were written with [`commit`](Self::commit).
    pub fn buffer_mut(&mut self, min_spare: usize) -> &mut [u8] {
        self.reserve(min_spare.max(1));
        &mut self.buf[self.end..]
    }

    /// Marks `n` bytes written into the slice last returned by [`buffer_mut`](Self::buffer_mut)
    /// as received (clamped to that slice's length). Ignored once the decoder has failed.
    pub fn commit(&mut self, n: usize) {
        if self.failed {
            return;
        }
        self.end = (self.end + n).min(self.buf.len());
    }

    /// The next complete item, `None` when more bytes are needed.
    ///
    /// After an `Err` the decoder is failed: it returns `None` forever and ignores new bytes.
    pub fn next_item(&mut self) -> Option<Result<WsItem, ProtocolError>> {
        if self.failed {
            return None;
        }
        match self.step() {
            Ok(item) => item.map(Ok),
            Err(e) => {
                self.fail();
                Some(Err(e))
            }
        }
    }

    /// The connection ended. Call after draining [`next_item`](Self::next_item): returns an error
    /// (close code 1006) when a frame or a fragmented message was cut off, `None` on a clean end
    /// (or when an error was already returned).
    pub fn at_eof(&mut self) -> Option<ProtocolError> {
        if self.failed {
            return None;
        }
        let message = if let Some(msg) = &self.message
            && let Some(f) = &msg.frame
        {
            let total = f.header_len as u64 + f.payload_len;
            format!(
                "connection closed mid-frame: got {} of {total} bytes",
                total - f.remaining
            )
        } else if self.pos < self.end {
            let got = self.end - self.pos;
            match parse_header(&self.buf[self.pos..self.end]) {
                Ok(Some(h)) => format!(
                    "connection closed mid-frame: got {got} of {} bytes",
                    h.frame_len()
                ),
                _ => format!("connection closed mid-frame: got {got} bytes of a frame header"),
            }
        } else if let Some(msg) = &self.message {
            format!(
                "connection closed mid-message: {} frame(s) of a fragmented {} message received, \
                 the final frame never came",
                msg.frames,
                msg.opcode.as_str()
            )
        } else {
            return None;
        };
        self.fail();
        Some(ProtocolError::new(1006, message))
    }

    fn fail(&mut self) {
        self.failed = true;
        self.message = None;
        self.arena = Arena::new(ARENA_BLOCK);
        self.buf = Vec::new();
        self.pos = 0;
        self.end = 0;
    }

    /// Makes room for `need` more bytes after `end`, compacting when the read cursor has passed
    /// half the buffer or when that frees enough room, and growing otherwise.
    fn reserve(&mut self, need: usize) {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        } else if self.pos > 0
            && (self.pos > self.buf.len() / 2 || self.buf.len() - self.end < need)
        {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.buf.len() - self.end < need {
            let new_len = (self.end + need)
                .max(self.buf.len().saturating_mul(2))
                .max(MIN_BUFFER);
            self.buf.resize(new_len, 0);
        }
    }

    fn step(&mut self) -> Result<Option<WsItem>, ProtocolError> {
        loop {
            // Payload of a data frame that is still arriving: move what we have into the message.
            if let Some(msg) = self.message.as_mut()
                && let Some(frame) = msg.frame.as_mut()
            {
                let avail = self.end - self.pos;
                let take = usize::try_from(frame.remaining).map_or(avail, |r| r.min(avail));
                msg.data
                    .push(&mut self.arena, &self.buf[self.pos..self.pos + take])?;
                self.pos += take;
                frame.remaining -= take as u64;
                msg.wire_bytes += take as u64;
                if frame.remaining > 0 {
                    return Ok(None);
                }
                let fin = frame.fin;
                msg.frame = None;
                if fin {
                    return self.finish_message().map(Some);
                }
                if !msg.split_linted && msg.data.ends_mid_char() {
                    msg.split_linted = true;
                    self.push_lint(WsLint::Utf8SplitAcrossFrames);
                }
                continue;
            }

            let Some(h) = parse_header(&self.buf[self.pos..self.end])? else {
                return Ok(None);
            };
            self.check_header(&h)?;
            if is_non_minimal(&h) {
                self.push_lint(WsLint::NonMinimalLength {
                    payload_len: h.payload_len,
                    length_bytes: h.header_len - if h.mask.is_some() { 4 } else { 0 },
                });
            }
            let avail = self.end - self.pos;

            if h.is_control() {
                // At most 14 + 125 bytes: wait for the whole frame.
                let total = h.header_len + h.payload_len as usize;
                if avail < total {
                    return Ok(None);
                }
                let payload = &self.buf[self.pos + h.header_len..self.pos + total];
                let item = control_item(h.opcode, payload, total as u64)?;
                self.pos += total;
                return Ok(Some(item));
            }

            // Data frame; check_header bounded payload_len by max_message, so it fits a usize.
            if h.opcode != OP_CONTINUATION {
                let opcode = if h.opcode == OP_TEXT {
                    DataOpcode::Text
                } else {
                    DataOpcode::Binary
                };
                let total = h.header_len.saturating_add(h.payload_len as usize);
                if h.fin && avail >= total {
                    // Fast path: a whole single-frame message is buffered; copy its payload once.
                    self.arena
                        .push(&self.buf[self.pos + h.header_len..self.pos + total]);
                    let data = self.arena.take(usize::MAX);
                    self.pos += total;
                    return finish(opcode, data, 1, h.rsv1, total as u64).map(Some);
                }
                self.message = Some(Partial {
                    opcode,
                    data: Body::new(opcode, h.rsv1),
                    frames: 0,
                    compressed: h.rsv1,
                    wire_bytes: 0,
                    frame: None,
                    split_linted: false,
                });
            }
            let Some(msg) = self.message.as_mut() else {
                return Err(no_message_error());
            };
            msg.frames = msg.frames.saturating_add(1);
            msg.wire_bytes += h.header_len as u64;
            msg.frame = Some(FrameProgress {
                header_len: h.header_len,
                payload_len: h.payload_len,
                remaining: h.payload_len,
                fin: h.fin,
            });
            self.pos += h.header_len;
        }
    }

    fn finish_message(&mut self) -> Result<WsItem, ProtocolError> {
        let Some(msg) = self.message.take() else {
            return Err(no_message_error());
        };
        if msg.data.ends_mid_char() {
            // The message ended inside a character.
            return Err(invalid_utf8(self.arena.len()));
        }
        // Text was checked as it came; `finish` checks it again, in one go, to make it a `Text`.
        let data = self.arena.take(usize::MAX);
        finish(msg.opcode, data, msg.frames, msg.compressed, msg.wire_bytes)
    }

    /// Every rule that can be judged from a header alone.
    fn check_header(&self, h: &FrameHeader) -> Result<(), ProtocolError> {
        let name = opcode_name(h.opcode);
        if !matches!(
            h.opcode,
            OP_CONTINUATION | OP_TEXT | OP_BINARY | OP_CLOSE | OP_PING | OP_PONG
        ) {
            return Err(ProtocolError::new(
                1002,
                format!("reserved opcode {:#x}", h.opcode),
            ));
        }
        if h.rsv1 {
            if !self.allow_rsv1 {
                return Err(ProtocolError::new(
                    1002,
                    "RSV1 set but no extension was negotiated (compressed frame?)",
                ));
            }
            if h.opcode != OP_TEXT && h.opcode != OP_BINARY {
                return Err(ProtocolError::new(
                    1002,
                    format!(
                        "RSV1 set on a {name} frame (only the first frame of a data message may set it)"
                    ),
                ));
            }
        }
        if h.rsv2 || h.rsv3 {
            let bit = if h.rsv2 { "RSV2" } else { "RSV3" };
            return Err(ProtocolError::new(
                1002,
                format!("{bit} set but no extension was negotiated"),
            ));
        }
        if h.mask.is_some() {
            return Err(ProtocolError::new(
                1002,
                format!("masked {name} frame from the server (servers must not mask)"),
            ));
        }
        if h.is_control() {
            if !h.fin {
                return Err(ProtocolError::new(
                    1002,
                    format!("fragmented {name} frame (control frames must have FIN set)"),
                ));
            }
            if h.payload_len > MAX_CONTROL_PAYLOAD as u64 {
                return Err(ProtocolError::new(
                    1002,
                    format!(
                        "{name} frame with a {}-byte payload (control frames carry at most {MAX_CONTROL_PAYLOAD})",
                        h.payload_len
                    ),
                ));
            }
            return Ok(());
        }
        let have = match (&self.message, h.opcode) {
            (None, OP_CONTINUATION) => return Err(no_message_error()),
            (Some(m), OP_TEXT | OP_BINARY) => {
                return Err(ProtocolError::new(
                    1002,
                    format!(
                        "{name} frame while a fragmented {} message is in progress (expected a continuation)",
                        m.opcode.as_str()
                    ),
                ));
            }
            (Some(m), _) => m.data.len(&self.arena) as u64,
            (None, _) => 0,
        };
        let total = have.saturating_add(h.payload_len);
        if total > self.max_message as u64 {
            let message = if have == 0 {
                format!(
                    "message of {total} bytes exceeds the limit of {} bytes",
                    self.max_message
                )
            } else {
                format!(
                    "fragmented message would grow to {total} bytes, over the limit of {} bytes",
                    self.max_message
                )
            };
            return Err(ProtocolError::new(1009, message));
        }
        Ok(())
    }
}

fn no_message_error() -> ProtocolError {
    ProtocolError::new(1002, "continuation frame with no message in progress")
}

fn opcode_name(opcode: u8) -> &'static str {
    match opcode {
        OP_CONTINUATION => "continuation",
        OP_TEXT => "text",
        OP_BINARY => "binary",
        OP_CLOSE => "close",
        OP_PING => "ping",
        OP_PONG => "pong",
        _ => "reserved",
    }
}

/// The error for a text message that is not UTF-8, the same however the bytes were split.
fn invalid_utf8(offset: usize) -> ProtocolError {
    ProtocolError::new(
        1007,
        format!("text message is not valid UTF-8 (invalid byte at offset {offset})"),
    )
}

/// Builds the item for a complete data message.
fn finish(
    opcode: DataOpcode,
    data: Bytes,
    frames: u32,
    compressed: bool,
    wire_bytes: u64,
) -> Result<WsItem, ProtocolError> {
    let data = match opcode {
        DataOpcode::Text if !compressed => match Text::from_utf8(data) {
            Ok(s) => Payload::Text(s),
            Err((_, e)) => return Err(invalid_utf8(e.valid_up_to())),
        },
        _ => Payload::Binary(data),
    };
    Ok(WsItem::Message {
        opcode,
        data,
        frames,
        compressed,
        wire_bytes,
    })
}

fn control_item(opcode: u8, payload: &[u8], wire_bytes: u64) -> Result<WsItem, ProtocolError> {
    Ok(match opcode {
        OP_PING => WsItem::Ping {
            data: payload.to_vec(),
            wire_bytes,
        },
        OP_PONG => WsItem::Pong {
            data: payload.to_vec(),
            wire_bytes,
        },
        _ => {
            let (code, reason) = parse_close_payload(payload)?;
            WsItem::Close {
                code,
                reason,
                wire_bytes,
            }
        }
    })
}

/// True for a close code that may appear in a close frame: 1000-1003, 1007-1014, 3000-4999.
pub fn is_valid_close_code(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// Splits a received close payload into its code and reason.
///
/// Empty → `(None, "")`; one byte → 1002; a code not allowed on the wire → 1002; a reason that is
/// not UTF-8 → 1007.
pub fn parse_close_payload(payload: &[u8]) -> Result<(Option<u16>, String), ProtocolError> {
    match payload {
        [] => Ok((None, String::new())),
        [_] => Err(ProtocolError::new(
            1002,
            "close frame with a 1-byte payload (a close code takes 2 bytes)",
        )),
        [hi, lo, reason @ ..] => {
            let code = u16::from_be_bytes([*hi, *lo]);
            if !is_valid_close_code(code) {
                return Err(ProtocolError::new(
                    1002,
                    format!(
                        "close code {code} ({}) is not allowed on the wire",
                        close_code_meaning(code)
                    ),
                ));
            }
            match std::str::from_utf8(reason) {
                Ok(r) => Ok((Some(code), r.to_owned())),
                Err(_) => Err(ProtocolError::new(
                    1007,
                    format!("close reason (code {code}) is not valid UTF-8"),
                )),
            }
        }
    }
}

/// Appends one frame with a minimal length encoding.
///
/// `rsv` holds the three RSV bits (`0b100` = RSV1); `opcode` is taken modulo 16. With a mask key the
/// MASK bit is set and the payload is masked (client frames must be). Nothing is validated, so a
/// test server can emit reserved opcodes, oversized or fragmented control frames, and so on.
pub fn encode_frame(
    out: &mut Vec<u8>,
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) {
    out.reserve(MAX_HEADER_LEN + payload.len());
    push_header(
        out,
        fin,
        rsv,
        opcode,
        mask,
        payload.len() as u64,
        LenForm::Minimal,
    );
    let start = out.len();
    out.extend_from_slice(payload);
    if let Some(key) = mask {
        apply_mask(&mut out[start..], key, 0);
    }
}

/// Appends exactly the header `h` describes, for test servers that need malformed frames.
///
/// The length form follows `h.header_len` (minus 4 with a mask): 2 → 7-bit, 4 → 16-bit, 10 →
/// 64-bit, which allows non-minimal encodings and, in the 64-bit form, any `u64` (MSB included);
/// any other `header_len`, or a length that does not fit the form, gets the minimal encoding.
/// The payload is not written.
pub fn encode_header(out: &mut Vec<u8>, h: &FrameHeader) {
    let rsv = (u8::from(h.rsv1) << 2) | (u8::from(h.rsv2) << 1) | u8::from(h.rsv3);
    let form = match h
        .header_len
        .saturating_sub(if h.mask.is_some() { 4 } else { 0 })
    {
        4 if u16::try_from(h.payload_len).is_ok() => LenForm::Bits16,
        10 => LenForm::Bits64,
        _ => LenForm::Minimal,
    };
    push_header(out, h.fin, rsv, h.opcode, h.mask, h.payload_len, form);
}

#[derive(Clone, Copy)]
enum LenForm {
    Minimal,
    Bits16,
    Bits64,
}

fn push_header(
    out: &mut Vec<u8>,
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    len: u64,
    form: LenForm,
) {
    out.push((u8::from(fin) << 7) | ((rsv & 0b111) << 4) | (opcode & 0x0f));
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    let form = match form {
        LenForm::Minimal if len < 126 => None,
        LenForm::Minimal | LenForm::Bits16 if u16::try_from(len).is_ok() => Some(LenForm::Bits16),
        _ => Some(LenForm::Bits64),
    };
    match form {
        None => out.push(mask_bit | len as u8),
        Some(LenForm::Bits16) => {
            out.push(mask_bit | LEN_16);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        Some(_) => {
            out.push(mask_bit | LEN_64);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
    if let Some(key) = mask {
        out.extend_from_slice(&key);
    }
}

/// XORs `buf` with the mask `key` (RFC 6455 section 5.3), in place; applying it twice restores the
/// data. `offset` is the position of `buf[0]` within the frame payload, so a payload can be
/// (un)masked in pieces.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let mut k = key;
    k.rotate_left(offset % 4);
    let word = u64::from_ne_bytes([k[0], k[1], k[2], k[3], k[0], k[1], k[2], k[3]]);
    let (words, tail) = buf.as_chunks_mut::<8>();
    for w in words {
        *w = (u64::from_ne_bytes(*w) ^ word).to_ne_bytes();
    }
    for (b, m) in tail.iter_mut().zip(k.iter().cycle()) {
        *b ^= m;
    }
}

/// A close payload: the code in network order, then the reason cut to 123 bytes (at a character
/// boundary) so the frame stays within the 125-byte control limit.
pub fn encode_close_payload(code: u16, reason: &str) -> Vec<u8> {
    let mut n = reason.len().min(MAX_CONTROL_PAYLOAD - 2);
    while !reason.is_char_boundary(n) {
        n -= 1;
    }
    let mut out = Vec::with_capacity(2 + n);
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(&reason.as_bytes()[..n]);
    out
}

/// A short name for a close code, for display.
pub fn close_code_meaning(code: u16) -> &'static str {
    match code {
        1000 => "normal",
        1001 => "going away",
        1002 => "protocol error",
        1003 => "unsupported data",
        1005 => "no status",
        1006 => "abnormal",
        1007 => "invalid payload",
        1008 => "policy violation",
        1009 => "message too big",
        1010 => "mandatory extension",
        1011 => "internal error",
        1012 => "service restart",
        1013 => "try again later",
        1014 => "bad gateway",
        1015 => "TLS handshake",
        1004 | 1016..=2999 => "reserved",
        3000..=3999 => "application",
        4000..=4999 => "private",
        _ => "invalid",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An unmasked (server) frame.
    fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        encode_frame(&mut out, fin, rsv, opcode, None, payload);
        out
    }

    fn drain(d: &mut Decoder) -> Vec<Result<WsItem, ProtocolError>> {
        std::iter::from_fn(|| d.next_item()).collect()
    }

    fn decode_all(bytes: &[u8]) -> Vec<Result<WsItem, ProtocolError>> {
        let mut d = Decoder::default();
        d.feed(bytes);
        drain(&mut d)
    }

    /// The single error a stream decodes to, after any good items.
    fn error_of(bytes: &[u8]) -> ProtocolError {
        let items = decode_all(bytes);
        match items.last() {
            Some(Err(e)) => e.clone(),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    fn message(opcode: DataOpcode, data: Payload, frames: u32, wire_bytes: u64) -> WsItem {
        WsItem::Message {
            opcode,
            data,
            frames,
            compressed: false,
            wire_bytes,
        }
    }

    #[test]
    fn length_7_16_64_bit() {
        for (len, header_len) in [
            (0usize, 2usize),
            (125, 2),
            (126, 4),
            (65535, 4),
            (65536, 10),
        ] {
            let bytes = frame(true, 0, OP_BINARY, &vec![7; len]);
            let h = parse_header(&bytes).expect("valid").expect("complete");
            assert_eq!(h.payload_len, len as u64);
            assert_eq!(h.header_len, header_len);
            assert_eq!(bytes.len(), header_len + len);
            // Every strict prefix of the header is "need more bytes".
            for cut in 0..header_len {
                assert_eq!(parse_header(&bytes[..cut]), Ok(None), "len {len} cut {cut}");
            }
        }
        let mut masked = Vec::new();
        encode_frame(&mut masked, true, 0, OP_TEXT, Some([1, 2, 3, 4]), &[0; 300]);
        let h = parse_header(&masked).expect("valid").expect("complete");
        assert_eq!((h.header_len, h.mask), (8, Some([1, 2, 3, 4])));
        assert_eq!(parse_header(&masked[..7]), Ok(None));
    }

    #[test]
    fn round_trip_length_boundaries() {
        for len in [0usize, 1, 125, 126, 127, 65535, 65536, 70000] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let text: String = (0..len)
                .map(|i| char::from(b'a' + (i % 26) as u8))
                .collect();
            let mut stream = frame(true, 0, OP_BINARY, &payload);
            let bin_len = stream.len() as u64;
            stream.extend(frame(true, 0, OP_TEXT, text.as_bytes()));
            let text_len = stream.len() as u64 - bin_len;
            let expected = vec![
                Ok(message(
                    DataOpcode::Binary,
                    Payload::Binary(payload.clone().into()),
                    1,
                    bin_len,
                )),
                Ok(message(
                    DataOpcode::Text,
                    Payload::Text(text.clone().into()),
                    1,
                    text_len,
                )),
            ];
            assert_eq!(decode_all(&stream), expected, "len {len}");
            // Also in small chunks (the streaming path).
            let mut d = Decoder::default();
            let mut got = Vec::new();
            for chunk in stream.chunks(1000) {
                d.feed(chunk);
                got.extend(drain(&mut d));
            }
            assert_eq!(got, expected, "len {len} chunked");
            assert_eq!(d.at_eof(), None);
        }
    }

    #[test]
    fn masked_client_frame_round_trips() {
        let key = [0xde, 0xad, 0xbe, 0xef];
        for len in [0usize, 3, 8, 13, 126, 1000] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let mut out = Vec::new();
            encode_frame(&mut out, true, 0, OP_BINARY, Some(key), &payload);
            let h = parse_header(&out).expect("valid").expect("complete");
            let mut body = out[h.header_len..].to_vec();
            for (i, b) in body.iter().enumerate() {
                assert_eq!(*b, payload[i] ^ key[i % 4]);
            }
            // Unmask in uneven pieces using the offset.
            let mut at = 0usize;
            for piece in [5usize, 1, 11, usize::MAX] {
                let end = at.saturating_add(piece).min(body.len());
                apply_mask(&mut body[at..end], key, at);
                at = end;
            }
            assert_eq!(body, payload);
        }
    }

    #[test]
    fn text_and_binary_payload_kinds() {
        let mut stream = frame(true, 0, OP_TEXT, "héllo".as_bytes());
        stream.extend(frame(true, 0, OP_BINARY, b"hello"));
        let items = decode_all(&stream);
        assert!(
            matches!(&items[0], Ok(WsItem::Message { data: Payload::Text(s), .. }) if s == "héllo")
        );
        assert!(
            matches!(&items[1], Ok(WsItem::Message { data: Payload::Binary(b), .. }) if b.as_ref() == b"hello")
        );
    }

    #[test]
    fn rsv1_without_extension_is_1002() {
        let e = error_of(&frame(true, 0b100, OP_TEXT, b"x"));
        assert_eq!(e.close_code, 1002);
        assert!(
            e.message
                .contains("RSV1 set but no extension was negotiated")
        );
        assert!(e.message.contains("compressed frame?"));
    }

    #[test]
    fn rsv2_and_rsv3_are_1002() {
        for (rsv, bit) in [(0b010, "RSV2"), (0b001, "RSV3")] {
            let mut d = Decoder::default();
            d.set_allow_rsv1(true);
            d.feed(&frame(true, rsv, OP_BINARY, b"x"));
            let e = d.next_item().expect("item").expect_err("error");
            assert_eq!(e.close_code, 1002);
            assert!(e.message.contains(bit), "{e}");
        }
    }

    #[test]
    fn rsv1_with_deflate_reports_compressed_raw_bytes() {
        let mut d = Decoder::default();
        d.set_allow_rsv1(true);
        let raw = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        let mut stream = frame(false, 0b100, OP_TEXT, &raw[..3]);
        stream.extend(frame(true, 0, OP_CONTINUATION, &raw[3..]));
        d.feed(&stream);
        assert_eq!(
            drain(&mut d),
            vec![Ok(WsItem::Message {
                opcode: DataOpcode::Text,
                data: Payload::Binary(raw.to_vec().into()),
                frames: 2,
                compressed: true,
                wire_bytes: stream.len() as u64,
            })]
        );
    }

    #[test]
    fn rsv1_on_continuation_is_1002_even_with_deflate() {
        let mut d = Decoder::default();
        d.set_allow_rsv1(true);
        d.feed(&frame(false, 0b100, OP_BINARY, b"a"));
        d.feed(&frame(true, 0b100, OP_CONTINUATION, b"b"));
        let e = d.next_item().expect("item").expect_err("error");
        assert_eq!(e.close_code, 1002);
        assert!(e.message.contains("continuation"), "{e}");
    }

    #[test]
    fn rsv1_on_control_frame_is_1002_even_with_deflate() {
        let mut d = Decoder::default();
        d.set_allow_rsv1(true);
        d.feed(&frame(true, 0b100, OP_PING, b"a"));
        let e = d.next_item().expect("item").expect_err("error");
        assert_eq!(e.close_code, 1002);
        assert!(e.message.contains("ping"), "{e}");
    }

    #[test]
    fn reserved_opcode_is_1002() {
        for op in (3..=7).chain(0xB..=0xF) {
            let e = error_of(&frame(true, 0, op, b""));
            assert_eq!(e.close_code, 1002, "opcode {op}");
            assert!(e.message.contains("reserved opcode"), "{e}");
        }
    }

    #[test]
    fn control_frame_over_125_is_1002() {
        for op in [OP_CLOSE, OP_PING, OP_PONG] {
            assert_eq!(
                decode_all(&frame(true, 0, op, &[b'a'; 125])).len(),
                1,
                "125 is fine"
            );
            let e = error_of(&frame(true, 0, op, &[b'a'; 126]));
            assert_eq!(e.close_code, 1002);
            assert!(e.message.contains("126-byte"), "{e}");
        }
        // Judged on the header, before the payload arrives.
        let mut d = Decoder::default();
        d.feed(&frame(true, 0, OP_PING, &[0; 200])[..4]);
        assert_eq!(
            d.next_item().expect("item").map_err(|e| e.close_code),
            Err(1002)
        );
    }

    #[test]
    fn fragmented_control_frame_is_1002() {
        for op in [OP_CLOSE, OP_PING, OP_PONG] {
            let e = error_of(&frame(false, 0, op, b""));
            assert_eq!(e.close_code, 1002);
            assert!(e.message.contains("fragmented"), "{e}");
        }
    }

    #[test]
    fn masked_server_frame_is_1002() {
        let mut bytes = Vec::new();
        encode_frame(&mut bytes, true, 0, OP_TEXT, Some([1, 2, 3, 4]), b"hi");
        let e = error_of(&bytes);
        assert_eq!(e.close_code, 1002);
        assert!(e.message.contains("masked"), "{e}");
    }

    #[test]
    fn continuation_without_message_is_1002() {
        let e = error_of(&frame(true, 0, OP_CONTINUATION, b"x"));
        assert_eq!(e.close_code, 1002);
        assert!(e.message.contains("no message in progress"), "{e}");
        // Also after a message completed.
        let mut stream = frame(true, 0, OP_TEXT, b"done");
        stream.extend(frame(false, 0, OP_CONTINUATION, b"x"));
        let items = decode_all(&stream);
        assert!(items[0].is_ok());
        assert_eq!(
            items[1].as_ref().map_err(|e| e.close_code).err(),
            Some(1002)
        );
    }

    #[test]
    fn new_data_frame_during_fragmented_message_is_1002() {
        for op in [OP_TEXT, OP_BINARY] {
            let mut stream = frame(false, 0, OP_TEXT, b"part");
            stream.extend(frame(true, 0, op, b"new"));
            let e = error_of(&stream);
            assert_eq!(e.close_code, 1002);
            assert!(e.message.contains("expected a continuation"), "{e}");
        }
    }

    #[test]
    fn length_64_bit_msb_is_1002() {
        let mut bytes = vec![0x82, 127];
        bytes.extend_from_slice(&(1u64 << 63).to_be_bytes());
        let e = parse_header(&bytes).expect_err("msb");
        assert_eq!(e.close_code, 1002);
        let e = error_of(&bytes);
        assert_eq!(e.close_code, 1002);
        assert!(e.message.contains("most significant bit"), "{e}");
        // encode_header can produce it for test servers.
        let mut out = Vec::new();
        encode_header(
            &mut out,
            &FrameHeader {
                fin: true,
                rsv1: false,
                rsv2: false,
                rsv3: false,
                opcode: OP_BINARY,
                mask: None,
                payload_len: u64::MAX,
                header_len: 10,
            },
        );
        assert_eq!(out[..2], [0x82, 127]);
        assert!(parse_header(&out).is_err());
    }

    #[test]
    fn utf8_tail_detection() {
        assert!(!ends_mid_utf8(b""));
        assert!(!ends_mid_utf8(b"abc"));
        assert!(!ends_mid_utf8("é".as_bytes()));
        assert!(ends_mid_utf8(&"é".as_bytes()[..1]));
        assert!(ends_mid_utf8(&"€".as_bytes()[..2]));
        assert!(ends_mid_utf8(&"a😀".as_bytes()[..4]));
        assert!(!ends_mid_utf8("a😀".as_bytes()));
    }

    #[test]
    fn utf8_split_across_frames_is_linted_once_per_message() {
        let text = "héé".as_bytes();
        let mut bytes = frame(false, 0, OP_TEXT, &text[..2]);
        bytes.extend_from_slice(&frame(false, 0, OP_CONTINUATION, &text[2..4]));
        bytes.extend_from_slice(&frame(true, 0, OP_CONTINUATION, &text[4..]));
        let mut d = Decoder::default();
        d.feed(&bytes);
        let items = drain(&mut d);
        assert_eq!(
            items,
            vec![Ok(message(
                DataOpcode::Text,
                Payload::Text("héé".into()),
                3,
                11
            ))]
        );
        assert_eq!(d.take_lints(), vec![WsLint::Utf8SplitAcrossFrames]);
        // Boundaries between characters are not linted.
        let mut d = Decoder::default();
        let mut bytes = frame(false, 0, OP_TEXT, &text[..1]);
        bytes.extend_from_slice(&frame(true, 0, OP_CONTINUATION, &text[1..]));
        d.feed(&bytes);
        assert_eq!(drain(&mut d).len(), 1);
        assert!(d.take_lints().is_empty());
    }

    #[test]
    fn non_minimal_lengths_are_linted() {
        for (payload_len, header_len, odd) in [
            (2, 4, true),
            (125, 4, true),
            (126, 4, false),
            (2, 10, true),
            (65_535, 10, true),
            (65_536, 10, false),
            (2, 2, false),
        ] {
            let h = FrameHeader {
                fin: true,
                rsv1: false,
                rsv2: false,
                rsv3: false,
                opcode: OP_BINARY,
                mask: None,
                payload_len,
                header_len,
            };
            assert_eq!(is_non_minimal(&h), odd, "{payload_len} in {header_len}");
            let masked = FrameHeader {
                mask: Some([1, 2, 3, 4]),
                header_len: header_len + 4,
                ..h
            };
            assert_eq!(is_non_minimal(&masked), odd, "masked {payload_len}");
        }
    }

    #[test]
    fn non_minimal_length_is_accepted() {
        let mut out = Vec::new();
        let h = FrameHeader {
            fin: true,
            rsv1: false,
            rsv2: false,
            rsv3: false,
            opcode: OP_TEXT,
            mask: None,
            payload_len: 2,
            header_len: 10,
        };
        encode_header(&mut out, &h);
        assert_eq!(out.len(), 10);
        assert_eq!(parse_header(&out), Ok(Some(h)));
        out.extend_from_slice(b"ok");
        let mut d = Decoder::default();
        d.feed(&out);
        assert_eq!(
            drain(&mut d),
            vec![Ok(message(
                DataOpcode::Text,
                Payload::Text("ok".into()),
                1,
                12
            ))]
        );
        assert_eq!(
            d.take_lints(),
            vec![WsLint::NonMinimalLength {
                payload_len: 2,
                length_bytes: 10
            }]
        );
    }

    #[test]
    fn invalid_utf8_text_is_1007() {
        let e = error_of(&frame(true, 0, OP_TEXT, b"ok\xff"));
        assert_eq!(e.close_code, 1007);
        assert!(e.message.contains("invalid byte at offset 2"), "{e}");
        // A truncated code point at the end of a fragmented message.
        let mut stream = frame(false, 0, OP_TEXT, b"a");
        stream.extend(frame(true, 0, OP_CONTINUATION, &"é".as_bytes()[..1]));
        assert_eq!(error_of(&stream).close_code, 1007);
        // Binary is never validated.
        assert!(decode_all(&frame(true, 0, OP_BINARY, b"\xff"))[0].is_ok());
    }

    /// Autobahn 6.4.1 and 6.4.3's message: PART2 (0xF4 0x90 0x80 0x80 would be U+110000, past
    /// the last code point) makes it invalid whatever PART3 holds.
    const PART1: &[u8] = "κόσμε".as_bytes();
    const PART2: &[u8] = b"\xf4\x90\x80\x80";
    const PART3: &[u8] = b"edited";

    #[test]
    fn invalid_utf8_fails_before_the_message_ends() {
        // Fragments (6.4.1): the second one is rejected at once, the final frame never needed.
        let mut d = Decoder::default();
        d.feed(&frame(false, 0, OP_TEXT, PART1));
        assert_eq!(drain(&mut d), vec![]);
        d.feed(&frame(false, 0, OP_CONTINUATION, PART2));
        let items = drain(&mut d);
        assert_eq!(items, vec![Err(invalid_utf8(PART1.len()))]);
        assert_eq!(items[0].as_ref().map_err(|e| e.close_code), Err(1007));
        assert!(d.is_failed());
    }

    #[test]
    fn invalid_utf8_fails_mid_frame() {
        // One frame in three reads (6.4.3): the read that brings PART2 fails it, and already its
        // second byte does (0xF4 may only be followed by 0x80..=0x8F).
        let payload = [PART1, PART2, PART3].concat();
        let bytes = frame(true, 0, OP_TEXT, &payload);
        let header = bytes.len() - payload.len();
        let mut d = Decoder::default();
        d.feed(&bytes[..header + PART1.len()]);
        assert_eq!(drain(&mut d), vec![]);
        d.feed(&bytes[header + PART1.len()..header + PART1.len() + 2]);
        assert_eq!(drain(&mut d), vec![Err(invalid_utf8(PART1.len()))]);
        // The same error as when the whole frame arrives in one read.
        assert_eq!(error_of(&bytes), invalid_utf8(PART1.len()));
    }

    #[test]
    fn utf8_sequence_cut_by_a_read_waits_for_the_rest() {
        // Every read boundary inside "é€𝄞" leaves an unfinished sequence that must not fail.
        let text = "hé€𝄞!";
        let bytes = frame(true, 0, OP_TEXT, text.as_bytes());
        let mut d = Decoder::default();
        let mut items = Vec::new();
        for b in &bytes {
            d.feed(std::slice::from_ref(b));
            items.extend(drain(&mut d));
        }
        assert_eq!(
            items,
            vec![Ok(message(
                DataOpcode::Text,
                Payload::Text(text.into()),
                1,
                bytes.len() as u64
            ))]
        );
        // Cut once anywhere (an unfinished sequence of one to three bytes at a read's end).
        for cut in 0..=bytes.len() {
            let mut d = Decoder::default();
            d.feed(&bytes[..cut]);
            let mut got = drain(&mut d);
            d.feed(&bytes[cut..]);
            got.extend(drain(&mut d));
            assert_eq!(got, items, "cut at {cut}");
        }
        // A message that ends inside a sequence is still refused, at its end.
        let mut stream = frame(false, 0, OP_TEXT, b"a\xe2");
        stream.extend(frame(true, 0, OP_CONTINUATION, b"\x82"));
        let mut d = Decoder::default();
        let (last, head) = stream.split_last().expect("bytes");
        for b in head {
            d.feed(std::slice::from_ref(b));
            assert_eq!(drain(&mut d), vec![]);
        }
        d.feed(&[*last]);
        assert_eq!(drain(&mut d), vec![Err(invalid_utf8(1))]);
        assert_eq!(error_of(&stream), invalid_utf8(1));
    }

    #[test]
    fn utf8_split_across_fragments_is_valid() {
        let text = "añb€c";
        let bytes = text.as_bytes();
        let mut stream = frame(false, 0, OP_TEXT, &bytes[..2]);
        stream.extend(frame(false, 0, OP_CONTINUATION, &bytes[2..5]));
        stream.extend(frame(true, 0, OP_CONTINUATION, &bytes[5..]));
        assert_eq!(
            decode_all(&stream),
            vec![Ok(message(
                DataOpcode::Text,
                Payload::Text(text.into()),
                3,
                stream.len() as u64
            ))]
        );
    }

    #[test]
    fn close_payload_of_one_byte_is_1002() {
        let e = error_of(&frame(true, 0, OP_CLOSE, &[0x03]));
        assert_eq!(e.close_code, 1002);
        assert!(e.message.contains("1-byte"), "{e}");
    }

    #[test]
    fn close_code_1005_on_wire_is_1002() {
        let e = error_of(&frame(true, 0, OP_CLOSE, &encode_close_payload(1005, "")));
        assert_eq!(e.close_code, 1002);
        assert!(e.message.contains("1005"), "{e}");
    }

    #[test]
    fn invalid_close_codes_on_wire_are_1002() {
        for code in [
            0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535,
        ] {
            let e = error_of(&frame(true, 0, OP_CLOSE, &encode_close_payload(code, "x")));
            assert_eq!(e.close_code, 1002, "code {code}");
        }
    }

    #[test]
    fn valid_close_codes_are_accepted() {
        for code in [
            1000, 1001, 1002, 1003, 1007, 1011, 1014, 3000, 3999, 4000, 4999,
        ] {
            let bytes = frame(true, 0, OP_CLOSE, &encode_close_payload(code, "bye"));
            assert_eq!(
                decode_all(&bytes),
                vec![Ok(WsItem::Close {
                    code: Some(code),
                    reason: "bye".into(),
                    wire_bytes: 7
                })],
                "code {code}"
            );
        }
        assert_eq!(
            decode_all(&frame(true, 0, OP_CLOSE, b"")),
            vec![Ok(WsItem::Close {
                code: None,
                reason: String::new(),
                wire_bytes: 2
            })]
        );
    }

    #[test]
    fn close_reason_not_utf8_is_1007() {
        let mut payload = encode_close_payload(1000, "");
        payload.extend_from_slice(b"\xc3\x28");
        let e = error_of(&frame(true, 0, OP_CLOSE, &payload));
        assert_eq!(e.close_code, 1007);
    }

    #[test]
    fn oversized_message_is_1009() {
        let mut d = Decoder::new(100);
        let bytes = frame(true, 0, OP_BINARY, &[0; 101]);
        // Only the header: refused before any payload is buffered.
        d.feed(&bytes[..2]);
        let e = d.next_item().expect("item").expect_err("too big");
        assert_eq!(e.close_code, 1009);
        assert!(e.message.contains("101"), "{e}");
        // Exactly at the limit is fine.
        let mut d = Decoder::new(100);
        d.feed(&frame(true, 0, OP_BINARY, &[0; 100]));
        assert!(matches!(d.next_item(), Some(Ok(_))));
        // A claimed 2^62-byte frame is refused too.
        let mut d = Decoder::default();
        let mut huge = vec![0x82, 127];
        huge.extend_from_slice(&(1u64 << 62).to_be_bytes());
        d.feed(&huge);
        assert_eq!(
            d.next_item().expect("item").map_err(|e| e.close_code),
            Err(1009)
        );
    }

    #[test]
    fn oversized_fragmented_message_is_1009() {
        let mut d = Decoder::new(100);
        d.feed(&frame(false, 0, OP_TEXT, &[b'a'; 60]));
        d.feed(&frame(false, 0, OP_CONTINUATION, &[b'a'; 40]));
        d.feed(&frame(true, 0, OP_CONTINUATION, &[b'a'; 1]));
        let e = d.next_item().expect("item").expect_err("too big");
        assert_eq!(e.close_code, 1009);
        assert!(e.message.contains("101"), "{e}");
    }

    #[test]
    fn large_claim_does_not_preallocate() {
        let mut d = Decoder::default();
        let mut bytes = vec![0x82, 127];
        bytes.extend_from_slice(&(60u64 << 20).to_be_bytes());
        bytes.extend_from_slice(&[1; 10]);
        d.feed(&bytes);
        assert!(d.next_item().is_none());
        let msg = d.message.as_ref().expect("in progress");
        assert!(
            matches!(msg.data, Body::Raw),
            "a binary message's body is raw bytes"
        );
        assert_eq!(d.arena.len(), 10);
        assert!(d.arena.capacity() < 1 << 20, "{}", d.arena.capacity());
        assert!(d.buf.len() < 1 << 20);
    }

    #[test]
    fn fragments_with_ping_between() {
        let f1 = frame(false, 0, OP_TEXT, b"Hel");
        let ping = frame(true, 0, OP_PING, b"p1");
        let f2 = frame(false, 0, OP_CONTINUATION, b"lo, ");
        let pong_frame = frame(true, 0, OP_PONG, b"");
        let close_between = frame(true, 0, OP_CLOSE, &encode_close_payload(1001, "bye"));
        let f3 = frame(true, 0, OP_CONTINUATION, b"world");
        let stream = [
            f1.clone(),
            ping.clone(),
            f2.clone(),
            pong_frame.clone(),
            close_between.clone(),
            f3.clone(),
        ]
        .concat();
        let mut d = Decoder::default();
        d.feed(&stream);
        assert_eq!(
            drain(&mut d),
            vec![
                Ok(WsItem::Ping {
                    data: b"p1".to_vec(),
                    wire_bytes: ping.len() as u64
                }),
                Ok(WsItem::Pong {
                    data: Vec::new(),
                    wire_bytes: pong_frame.len() as u64
                }),
                Ok(WsItem::Close {
                    code: Some(1001),
                    reason: "bye".into(),
                    wire_bytes: close_between.len() as u64
                }),
                Ok(message(
                    DataOpcode::Text,
                    Payload::Text("Hello, world".into()),
                    3,
                    (f1.len() + f2.len() + f3.len()) as u64
                )),
            ]
        );
        assert!(!d.message_in_progress());
        assert_eq!(d.at_eof(), None);
    }

    #[test]
    fn ping_returned_before_message_completes() {
        let mut d = Decoder::default();
        d.feed(&frame(false, 0, OP_BINARY, b"a"));
        d.feed(&frame(true, 0, OP_PING, b"now"));
        assert!(matches!(d.next_item(), Some(Ok(WsItem::Ping { .. }))));
        assert!(d.next_item().is_none());
        assert!(d.message_in_progress());
        d.feed(&frame(true, 0, OP_CONTINUATION, b"b"));
        assert!(matches!(
            d.next_item(),
            Some(Ok(WsItem::Message { frames: 2, .. }))
        ));
    }

    #[test]
    fn truncated_frame_at_eof() {
        let bytes = frame(true, 0, OP_BINARY, &[0; 126]);
        assert_eq!(bytes.len(), 130);
        let mut d = Decoder::default();
        d.feed(&bytes[..10]);
        assert!(d.next_item().is_none());
        let e = d.at_eof().expect("cut off");
        assert_eq!(e.close_code, 1006);
        assert_eq!(
            e.message,
            "connection closed mid-frame: got 10 of 130 bytes"
        );
        assert!(d.next_item().is_none());
        assert_eq!(d.at_eof(), None);
        // A control frame cut in its payload.
        let mut d = Decoder::default();
        d.feed(&frame(true, 0, OP_PING, b"abcdef")[..5]);
        assert!(d.next_item().is_none());
        assert_eq!(
            d.at_eof().map(|e| e.message),
            Some("connection closed mid-frame: got 5 of 8 bytes".into())
        );
    }

    #[test]
    fn truncated_header_at_eof() {
        let mut d = Decoder::default();
        d.feed(&[0x82, 126, 0x01]);
        assert!(d.next_item().is_none());
        let e = d.at_eof().expect("cut off");
        assert_eq!(e.close_code, 1006);
        assert!(e.message.contains("got 3 bytes of a frame header"), "{e}");
    }

    #[test]
    fn eof_mid_fragmented_message() {
        let mut d = Decoder::default();
        d.feed(&frame(false, 0, OP_TEXT, b"a"));
        d.feed(&frame(false, 0, OP_CONTINUATION, b"b"));
        assert!(d.next_item().is_none());
        let e = d.at_eof().expect("cut off");
        assert_eq!(e.close_code, 1006);
        assert!(e.message.contains("mid-message: 2 frame(s)"), "{e}");
    }

    #[test]
    fn clean_eof_is_none() {
        let mut d = Decoder::default();
        assert_eq!(d.at_eof(), None);
        d.feed(&frame(true, 0, OP_TEXT, b"x"));
        assert!(d.next_item().is_some());
        assert_eq!(d.at_eof(), None);
    }

    #[test]
    fn failed_decoder_stays_failed() {
        let mut d = Decoder::default();
        d.feed(&frame(true, 0, 3, b""));
        assert!(matches!(d.next_item(), Some(Err(_))));
        assert!(d.is_failed());
        d.feed(&frame(true, 0, OP_TEXT, b"x"));
        assert!(d.next_item().is_none());
        let spare = d.buffer_mut(16);
        assert!(spare.len() >= 16);
        d.commit(16);
        assert!(d.next_item().is_none());
        assert_eq!(d.at_eof(), None);
    }

    #[test]
    fn zero_copy_buffer_mut_commit() {
        let stream: Vec<u8> = (0..50)
            .flat_map(|i| frame(true, 0, OP_TEXT, format!("message {i}").as_bytes()))
            .collect();
        let mut d = Decoder::default();
        let mut got = Vec::new();
        for chunk in stream.chunks(7) {
            let spare = d.buffer_mut(chunk.len());
            assert!(spare.len() >= chunk.len());
            spare[..chunk.len()].copy_from_slice(chunk);
            d.commit(chunk.len());
            got.extend(drain(&mut d));
        }
        assert_eq!(got.len(), 50);
        assert_eq!(
            got[49],
            Ok(message(
                DataOpcode::Text,
                Payload::Text("message 49".into()),
                1,
                12
            ))
        );
        assert!(!d.buffer_mut(0).is_empty());
        assert!(d.buf.len() <= MIN_BUFFER, "buffer stayed small");
    }

    #[test]
    fn buffer_compacts_instead_of_growing() {
        let one = frame(true, 0, OP_BINARY, &[9; 100]);
        let mut d = Decoder::default();
        // Always leave half a frame unread so the cursor never simply resets.
        d.feed(&one[..50]);
        for _ in 0..10_000 {
            d.feed(&one[50..]);
            d.feed(&one[..50]);
            assert!(matches!(d.next_item(), Some(Ok(_))));
            assert!(d.next_item().is_none());
        }
        assert!(d.buf.len() <= MIN_BUFFER, "{}", d.buf.len());
    }

    #[test]
    fn encode_close_payload_truncates_reason() {
        assert_eq!(
            encode_close_payload(1000, "ok"),
            vec![0x03, 0xe8, b'o', b'k']
        );
        let long = "é".repeat(100);
        let p = encode_close_payload(4000, &long);
        assert_eq!(p.len(), 2 + 122);
        assert_eq!(parse_close_payload(&p), Ok((Some(4000), "é".repeat(61))));
        assert_eq!(parse_close_payload(&[]), Ok((None, String::new())));
    }

    #[test]
    fn close_code_meanings() {
        let cases = [
            (1000, "normal"),
            (1001, "going away"),
            (1002, "protocol error"),
            (1003, "unsupported data"),
            (1004, "reserved"),
            (1005, "no status"),
            (1006, "abnormal"),
            (1007, "invalid payload"),
            (1008, "policy violation"),
            (1009, "message too big"),
            (1010, "mandatory extension"),
            (1011, "internal error"),
            (1012, "service restart"),
            (1013, "try again later"),
            (1014, "bad gateway"),
            (1015, "TLS handshake"),
            (1016, "reserved"),
            (2999, "reserved"),
            (3000, "application"),
            (3999, "application"),
            (4000, "private"),
            (4999, "private"),
            (5000, "invalid"),
            (999, "invalid"),
            (0, "invalid"),
        ];
        for (code, meaning) in cases {
            assert_eq!(close_code_meaning(code), meaning, "{code}");
        }
    }

    #[test]
    fn error_display_names_the_code() {
        let e = ProtocolError::new(1009, "too big");
        assert_eq!(e.to_string(), "too big (close code 1009: message too big)");
        let _: &dyn std::error::Error = &e;
    }

    /// A frame of a generated stream.
    #[derive(Debug, Clone)]
    enum Gen {
        Message { text: bool, pieces: Vec<Vec<u8>> },
        Ping(Vec<u8>),
        Pong(Vec<u8>),
        Close(u16, String),
    }

    fn gen_strategy() -> impl Strategy<Value = Gen> {
        let piece = proptest::collection::vec(any::<u8>(), 0..300);
        prop_oneof![
            4 => (any::<bool>(), proptest::collection::vec(piece, 1..4))
                .prop_map(|(text, pieces)| Gen::Message { text, pieces }),
            1 => proptest::collection::vec(any::<u8>(), 0..=125).prop_map(Gen::Ping),
            1 => proptest::collection::vec(any::<u8>(), 0..=125).prop_map(Gen::Pong),
            1 => (1000u16..1004, "[a-z]{0,20}").prop_map(|(c, r)| Gen::Close(c, r)),
        ]
    }

    /// A text message's fragments: valid UTF-8 of one- to four-byte characters (one per
    /// generated byte), cut at the generated fragment sizes, so cuts fall inside characters too.
    fn text_fragments(pieces: &[Vec<u8>]) -> Vec<Vec<u8>> {
        let text: String = pieces
            .iter()
            .flatten()
            .map(|b| match b % 4 {
                0 => char::from(b'a' + b % 26),
                1 => 'é',
                2 => '€',
                _ => '𝄞',
            })
            .collect();
        let mut rest = text.as_bytes();
        let mut out = Vec::new();
        for (i, p) in pieces.iter().enumerate() {
            let take = if i + 1 == pieces.len() {
                rest.len()
            } else {
                p.len().min(rest.len())
            };
            out.push(rest[..take].to_vec());
            rest = &rest[take..];
        }
        out
    }

    /// Encodes a stream; text messages are valid UTF-8 (see [`text_fragments`]), and a ping is
    /// slipped between the fragments of multi-frame messages.
    fn encode_stream(gens: &[Gen], big_len: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for g in gens {
            match g {
                Gen::Message { text, pieces } => {
                    let pieces = if *text {
                        text_fragments(pieces)
                    } else {
                        pieces.clone()
                    };
                    let n = pieces.len();
                    for (i, p) in pieces.iter().enumerate() {
                        let mut p = p.clone();
                        if big_len && i == 0 {
                            // In front: the fragment may end inside a character.
                            p.splice(0..0, std::iter::repeat_n(b'z', 70_000));
                        }
                        let op = match (i, *text) {
                            (0, true) => OP_TEXT,
                            (0, false) => OP_BINARY,
                            _ => OP_CONTINUATION,
                        };
                        encode_frame(&mut out, i + 1 == n, 0, op, None, &p);
                        if i + 1 < n {
                            encode_frame(&mut out, true, 0, OP_PING, None, b"mid");
                        }
                    }
                }
                Gen::Ping(p) => encode_frame(&mut out, true, 0, OP_PING, None, p),
                Gen::Pong(p) => encode_frame(&mut out, true, 0, OP_PONG, None, p),
                Gen::Close(c, r) => {
                    encode_frame(
                        &mut out,
                        true,
                        0,
                        OP_CLOSE,
                        None,
                        &encode_close_payload(*c, r),
                    );
                }
            }
        }
        out
    }

    /// Feeds `bytes` cut at `cuts` (alternating `feed` and `buffer_mut`/`commit`) and drains after each.
    fn decode_with_cuts(
        bytes: &[u8],
        cuts: &[usize],
        max: usize,
    ) -> (Vec<Result<WsItem, ProtocolError>>, Option<ProtocolError>) {
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
        points.push(0);
        points.push(bytes.len());
        points.sort_unstable();
        let mut d = Decoder::new(max);
        let mut items = Vec::new();
        for (i, w) in points.windows(2).enumerate() {
            let chunk = &bytes[w[0]..w[1]];
            if i % 2 == 0 {
                d.feed(chunk);
            } else {
                let spare = d.buffer_mut(chunk.len());
                spare[..chunk.len()].copy_from_slice(chunk);
                d.commit(chunk.len());
            }
            items.extend(drain(&mut d));
        }
        let eof = d.at_eof();
        (items, eof)
    }

    proptest! {
        #[test]
        fn any_split_yields_same_items(
            gens in proptest::collection::vec(gen_strategy(), 0..12),
            cuts in proptest::collection::vec(any::<usize>(), 0..20),
            big_len in proptest::bool::weighted(0.1),
            truncate in any::<usize>(),
        ) {
            let mut bytes = encode_stream(&gens, big_len);
            // Sometimes cut the stream short (or corrupt a byte) to compare error paths too.
            if truncate % 4 == 0 && !bytes.is_empty() {
                bytes.truncate(truncate % bytes.len());
            } else if truncate % 4 == 1 && !bytes.is_empty() {
                let at = truncate % bytes.len();
                bytes[at] ^= 0x5a;
            }
            let whole = decode_with_cuts(&bytes, &[], 1 << 20);
            let split = decode_with_cuts(&bytes, &cuts, 1 << 20);
            prop_assert_eq!(whole, split);
        }

        #[test]
        fn wire_bytes_sum_to_bytes_fed(
            gens in proptest::collection::vec(gen_strategy(), 0..12),
            cuts in proptest::collection::vec(any::<usize>(), 0..20),
            big_len in proptest::bool::weighted(0.1),
        ) {
            let bytes = encode_stream(&gens, big_len);
            let (items, eof) = decode_with_cuts(&bytes, &cuts, 1 << 20);
            prop_assert_eq!(eof, None);
            let mut sum = 0u64;
            for item in &items {
                match item {
                    Ok(item) => sum += item.wire_bytes(),
                    Err(e) => prop_assert!(false, "unexpected error {}", e),
                }
            }
            prop_assert_eq!(sum, bytes.len() as u64);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            bytes in proptest::collection::vec(any::<u8>(), 0..2000),
            cuts in proptest::collection::vec(any::<usize>(), 0..10),
            allow_rsv1 in any::<bool>(),
            max in 0usize..4096,
        ) {
            let mut d = Decoder::new(max);
            d.set_allow_rsv1(allow_rsv1);
            let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
            points.push(0);
            points.push(bytes.len());
            points.sort_unstable();
            let mut errors = 0;
            for w in points.windows(2) {
                d.feed(&bytes[w[0]..w[1]]);
                while let Some(item) = d.next_item() {
                    if item.is_err() {
                        errors += 1;
                    }
                }
            }
            if d.at_eof().is_some() {
                errors += 1;
            }
            prop_assert!(errors <= 1);
            let _ = parse_header(&bytes);
        }
    }

    /// `cargo test --release -- --ignored --nocapture throughput`
    #[test]
    #[ignore = "throughput measurement, run in release mode"]
    fn throughput() {
        let mut one = Vec::new();
        encode_frame(&mut one, true, 0, OP_TEXT, None, &[b'x'; 100]);
        let count = 5_000_000usize;
        let stream = one.repeat(10_000);
        let mut d = Decoder::default();
        let start = std::time::Instant::now();
        let mut n = 0usize;
        let mut bytes = 0u64;
        while n < count {
            for chunk in stream.chunks(64 * 1024) {
                let spare = d.buffer_mut(chunk.len());
                spare[..chunk.len()].copy_from_slice(chunk);
                d.commit(chunk.len());
                while let Some(item) = d.next_item() {
                    bytes += item.expect("valid").wire_bytes();
                    n += 1;
                }
            }
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{n} messages of 100 bytes in {secs:.3} s: {:.2} M msg/s, {:.0} MB/s",
            n as f64 / secs / 1e6,
            bytes as f64 / secs / 1e6
        );
    }
}
