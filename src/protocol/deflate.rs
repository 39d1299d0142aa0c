//! permessage-deflate (RFC 7692), with no I/O: the negotiation as pure functions over header
//! values, and the per-message inflate and deflate.
//!
//! This module owns:
//! - the `Sec-WebSocket-Extensions` grammar (RFC 6455 section 9.1): [`parse_extensions`];
//! - the client's side of the negotiation: what streamscope offers ([`OFFER`], the offer every
//!   browser sends) and [`accept_response`], which checks the server's answer by the rules of
//!   RFC 6455 section 9.1 and RFC 7692 sections 5 and 7.1 and says which parameters were agreed
//!   ([`DeflateParams`]), or why the connection must fail;
//! - the server's side, for the embedded server: [`answer_offer`];
//! - [`Inflater`]: the payload of a compressed message (RSV1 set on its first frame, frames
//!   assembled by [`super::ws::Decoder`]) inflated with the LZ77 window kept between messages
//!   (context takeover) or reset per message (`server_no_context_takeover`), with an output cap so
//!   a decompression bomb stops at `--max-message`, and a message that ends its DEFLATE stream with
//!   a final block (RFC 7692 section 7.2.3.4) followed by one that still refers to the window;
//! - [`Deflater`]: the sender's side (the embedded server's compressed endpoints).
//!
//! The inflate itself is flate2 with its `zlib-rs` backend (a pure-Rust port of zlib; the default
//! `miniz_oxide` spends most of a small message rebuilding its lookup tables). A 15-bit window
//! inflates any stream compressed with 8 to 15 bits, so the window size agreed only matters to a
//! compressor.

use std::fmt;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::protocol::ws::ProtocolError;
use crate::record::{DataOpcode, Payload};

/// The extension's registered name.
pub const EXTENSION: &str = "permessage-deflate";

/// What streamscope offers by default, byte for byte what Chrome and Firefox send: the extension,
/// and leave to the server the window our (never compressed) messages would use.
pub const OFFER: &str = "permessage-deflate; client_max_window_bits";

/// The four octets a sender removes from the end of each compressed message (the end of an empty
/// stored block from a sync flush) and a receiver appends back (RFC 7692 section 7.2.2).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// The LZ77 window a DEFLATE stream may refer back into.
const WINDOW: usize = 32 * 1024;

/// One extension of a `Sec-WebSocket-Extensions` list: its name and its parameters, in order, with
/// their values (quotes removed) when they have one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The extension token, as sent.
    pub name: String,
    /// `(name, value)` per parameter.
    pub params: Vec<(String, Option<String>)>,
}

/// Parses `Sec-WebSocket-Extensions` values (every header field, in order) into extensions:
/// `extension *( ";" param [ "=" ( token | quoted-string ) ] )`, comma separated.
///
/// Errors name what is malformed: an empty name, a quote that never closes, a value that is not a
/// token.
pub fn parse_extensions<S: AsRef<str>>(values: &[S]) -> Result<Vec<Extension>, String> {
    let mut out = Vec::new();
    for value in values {
        for element in split_outside_quotes(value.as_ref(), ',')? {
            let element = element.trim();
            if element.is_empty() {
                continue; // `#rule` lists allow empty elements
            }
            let mut parts = split_outside_quotes(element, ';')?.into_iter();
            let name = parts.next().unwrap_or_default().trim();
            if !is_token(name) {
                return Err(format!("malformed extension name {name:?}"));
            }
            let mut params = Vec::new();
            for part in parts {
                let (key, value) = match part.split_once('=') {
                    Some((k, v)) => (k.trim(), Some(unquote(v.trim())?)),
                    None => (part.trim(), None),
                };
                if !is_token(key) {
                    return Err(format!("malformed parameter {:?} of {name}", part.trim()));
                }
                params.push((key.to_owned(), value));
            }
            out.push(Extension {
                name: name.to_owned(),
                params,
            });
        }
    }
    Ok(out)
}

fn split_outside_quotes(s: &str, sep: char) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if c == sep && !quoted {
            parts.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    if quoted {
        return Err(format!("unterminated quoted string in {s:?}"));
    }
    parts.push(&s[start..]);
    Ok(parts)
}

fn unquote(v: &str) -> Result<String, String> {
    let inner = match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(inner) => inner.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => v.to_owned(),
    };
    // RFC 6455 section 9.1: a quoted value must still be a token once unquoted.
    if is_token(&inner) {
        Ok(inner)
    } else {
        Err(format!("parameter value {v:?} is not a token"))
    }
}

/// An RFC 7230 token: one or more visible ASCII characters other than separators.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b))
}

/// The parameters both sides agreed on (RFC 7692 section 7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DeflateParams {
    /// The server resets its compressor after each message: inflate each one with an empty window.
    pub server_no_context_takeover: bool,
    /// The client resets its compressor after each message.
    pub client_no_context_takeover: bool,
    /// The largest window the server compresses with (8..=15), `None` for 15.
    pub server_max_window_bits: Option<u8>,
    /// The largest window the client may compress with (8..=15), `None` for 15.
    pub client_max_window_bits: Option<u8>,
}

impl fmt::Display for DeflateParams {
    /// The agreed extension as a `Sec-WebSocket-Extensions` value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(EXTENSION)?;
        if self.server_no_context_takeover {
            f.write_str("; server_no_context_takeover")?;
        }
        if self.client_no_context_takeover {
            f.write_str("; client_no_context_takeover")?;
        }
        if let Some(b) = self.server_max_window_bits {
            write!(f, "; server_max_window_bits={b}")?;
        }
        if let Some(b) = self.client_max_window_bits {
            write!(f, "; client_max_window_bits={b}")?;
        }
        Ok(())
    }
}

/// A window size parameter's value: an integer without leading zeros in 8..=15 (RFC 7692 sections
/// 7.1.2.1 and 7.1.2.2).
fn window_bits(name: &str, value: Option<&str>) -> Result<u8, String> {
    let Some(v) = value else {
        return Err(format!(
            "{name} has no value (the answer must give 8 to 15)"
        ));
    };
    match v.parse::<u8>() {
        Ok(bits @ 8..=15) if !v.starts_with('0') && v.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(bits)
        }
        _ => Err(format!("{name}={v} is outside 8..15")),
    }
}

/// Checks the server's `Sec-WebSocket-Extensions` answer (`values`: every field, in order) against
/// what was offered (`offered`: [`OFFER`], or `None` when nothing was), by RFC 6455 section 9.1
/// and RFC 7692 sections 5 and 7.1. `Ok(None)`: no extension in use; `Ok(Some)`: the parameters
/// agreed; `Err`: why the client must fail the connection, naming the header.
pub fn accept_response<S: AsRef<str>>(
    offered: Option<&str>,
    values: &[S],
) -> Result<Option<DeflateParams>, String> {
    let fail = |why: String| {
        let shown: Vec<&str> = values.iter().map(AsRef::as_ref).collect();
        format!(
            "handshake failed: Sec-WebSocket-Extensions: {}: {why}",
            shown.join(", ")
        )
    };
    let extensions = parse_extensions(values).map_err(fail)?;
    let Some(first) = extensions.first() else {
        return Ok(None);
    };
    if offered.is_none() {
        return Err(fail(format!(
            "the server accepted extension {} but none was offered (RFC 6455 section 9.1: the \
             client must fail the connection)",
            first.name
        )));
    }
    if let Some(other) = extensions
        .iter()
        .find(|e| !e.name.eq_ignore_ascii_case(EXTENSION))
    {
        return Err(fail(format!(
            "extension {} was not offered (RFC 6455 section 9.1)",
            other.name
        )));
    }
    if extensions.len() > 1 {
        return Err(fail(format!(
            "{EXTENSION} accepted {} times; one offer allows one (RFC 7692 section 7.1)",
            extensions.len()
        )));
    }
    let client_bits = if offered.is_some_and(|o| o.contains("client_max_window_bits")) {
        ClientBits::Answer
    } else {
        ClientBits::NotOffered
    };
    params_of(first, client_bits).map(Some).map_err(fail)
}

/// Where the parameters read by [`params_of`] come from, for `client_max_window_bits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientBits {
    /// A server's answer to an offer without it: the parameter fails the connection.
    NotOffered,
    /// A server's answer to an offer with it: the parameter needs its value.
    Answer,
    /// A client's offer: without a value it says the client takes any window the server picks.
    Offer,
}

/// The parameters of a `permessage-deflate` offer or accepted answer (RFC 7692 section 7.1:
/// unknown or repeated parameters, bad values, and a `client_max_window_bits` the client did not
/// offer all fail the connection).
fn params_of(ext: &Extension, client_bits: ClientBits) -> Result<DeflateParams, String> {
    let mut p = DeflateParams::default();
    let mut seen: Vec<&str> = Vec::new();
    for (name, value) in &ext.params {
        if seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
            return Err(format!(
                "parameter {name} appears twice (RFC 7692 section 7.1)"
            ));
        }
        seen.push(name);
        let flag = |set: &mut bool| match value {
            None => {
                *set = true;
                Ok(())
            }
            Some(v) => Err(format!("{name}={v}: this parameter takes no value")),
        };
        match name.to_ascii_lowercase().as_str() {
            "server_no_context_takeover" => flag(&mut p.server_no_context_takeover)?,
            "client_no_context_takeover" => flag(&mut p.client_no_context_takeover)?,
            "server_max_window_bits" => {
                p.server_max_window_bits = Some(window_bits(name, value.as_deref())?);
            }
            "client_max_window_bits" => match client_bits {
                ClientBits::NotOffered => {
                    return Err(format!(
                        "parameter {name} was not offered (RFC 7692 section 7.1.2.2)"
                    ));
                }
                ClientBits::Offer if value.is_none() => {}
                ClientBits::Answer | ClientBits::Offer => {
                    p.client_max_window_bits = Some(window_bits(name, value.as_deref())?);
                }
            },
            _ => {
                return Err(format!(
                    "unknown parameter {name} (RFC 7692 section 7.1: the client must fail)"
                ));
            }
        }
    }
    Ok(p)
}

/// Checks a client offer (`--deflate-offer`): one `permessage-deflate` with only the parameters
/// RFC 7692 section 7.1 defines, each once and with a valid value.
pub fn check_offer(offer: &str) -> Result<(), String> {
    let extensions = parse_extensions(&[offer])?;
    let [ext] = extensions.as_slice() else {
        return Err(format!(
            "expected one {EXTENSION} offer, got {}",
            extensions.len()
        ));
    };
    if !ext.name.eq_ignore_ascii_case(EXTENSION) {
        return Err(format!("{} is not {EXTENSION}", ext.name));
    }
    params_of(ext, ClientBits::Offer).map(|_| ())
}

/// The embedded server's side: the first acceptable `permessage-deflate` offer among the client's
/// `Sec-WebSocket-Extensions` values, answered with `wanted` (what the server prefers: no context
/// takeover, a smaller window). `None` when nothing acceptable was offered.
pub fn answer_offer<S: AsRef<str>>(values: &[S], wanted: DeflateParams) -> Option<DeflateParams> {
    let offers = parse_extensions(values).ok()?;
    offers
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case(EXTENSION))
        .find_map(|offer| {
            let mut answer = wanted;
            for (name, value) in &offer.params {
                match name.to_ascii_lowercase().as_str() {
                    "server_no_context_takeover" if value.is_none() => {
                        answer.server_no_context_takeover = true;
                    }
                    "client_no_context_takeover" if value.is_none() => {
                        answer.client_no_context_takeover = true;
                    }
                    "server_max_window_bits" => {
                        let bits = window_bits(name, value.as_deref()).ok()?;
                        let ours = answer.server_max_window_bits.unwrap_or(15);
                        answer.server_max_window_bits = Some(ours.min(bits));
                    }
                    // Our messages to the server are never compressed by this server's clients'
                    // rules; accepting the hint costs nothing.
                    "client_max_window_bits" => {}
                    _ => return None,
                }
            }
            Some(answer)
        })
}

/// Something legal but unusual noticed while inflating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeflateLint {
    /// The message ended its DEFLATE stream with a final block (BFINAL, RFC 7692 section 7.2.3.4);
    /// the next message starts a new stream over the same window.
    FinalBlock,
    /// Bytes followed the final block inside the message; they were ignored.
    TrailingBytes(usize),
}

/// Inflates the messages of one connection.
pub struct Inflater {
    d: Decompress,
    /// Reset the window before each message (`server_no_context_takeover`).
    reset_each: bool,
    /// The last stream ended with a final block: the next message starts a new one.
    ended: bool,
    /// The last [`WINDOW`] bytes inflated, kept under context takeover so a new stream after a
    /// final block can still refer to them.
    history: Vec<u8>,
    lints: Vec<DeflateLint>,
}

impl fmt::Debug for Inflater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inflater")
            .field("reset_each", &self.reset_each)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl Inflater {
    /// An inflater for the agreed parameters.
    pub fn new(params: &DeflateParams) -> Self {
        Inflater {
            d: Decompress::new(false),
            reset_each: params.server_no_context_takeover,
            ended: false,
            history: Vec::new(),
            lints: Vec::new(),
        }
    }

    /// Returns and clears what was noticed since the last call.
    pub fn take_lints(&mut self) -> Vec<DeflateLint> {
        std::mem::take(&mut self.lints)
    }

    /// Inflates the assembled payload of one compressed message (`raw`, as received, without the
    /// tail the sender removed) into at most `limit` bytes. Errors: 1009 past the limit (nothing
    /// beyond `limit` plus one step is ever held), 1007 for data that is not DEFLATE.
    pub fn inflate(&mut self, mut raw: Vec<u8>, limit: usize) -> Result<Vec<u8>, ProtocolError> {
        if self.reset_each || self.ended {
            self.d.reset(false);
            if self.ended && !self.reset_each {
                self.prime();
            }
            self.ended = false;
        }
        let own = raw.len();
        raw.extend_from_slice(&TAIL);
        // Text compresses 2-10x (a repetitive feed under context takeover, far more): start at 8x
        // and grow by doubling, never past the limit. The message keeps this buffer, and the
        // records queued for the output hold many of them, so it is not rounded up further.
        let mut out =
            Vec::with_capacity(own.saturating_mul(8).max(64).min(limit.saturating_add(1)));
        let mut pos = 0;
        loop {
            if out.len() == out.capacity() {
                let room = out.len().max(64).min(limit.saturating_add(1) - out.len());
                if room == 0 {
                    return Err(too_big(limit));
                }
                out.reserve_exact(room);
            }
            let (in_before, out_before) = (self.d.total_in(), self.d.total_out());
            let status = self
                .d
                .decompress_vec(&raw[pos..], &mut out, FlushDecompress::Sync)
                .map_err(|e| {
                    ProtocolError::new(
                        1007,
                        format!("compressed message is not valid DEFLATE: {e}"),
                    )
                })?;
            let consumed = (self.d.total_in() - in_before) as usize;
            pos += consumed;
            if out.len() > limit {
                return Err(too_big(limit));
            }
            let produced = self.d.total_out() - out_before;
            if status == Status::StreamEnd {
                self.ended = true;
                self.lints.push(DeflateLint::FinalBlock);
                if pos < own {
                    self.lints.push(DeflateLint::TrailingBytes(own - pos));
                }
                break;
            }
            let room_left = out.len() < out.capacity();
            if room_left && (pos >= raw.len() || (consumed == 0 && produced == 0)) {
                if pos < raw.len() {
                    return Err(ProtocolError::new(
                        1007,
                        "compressed message is not valid DEFLATE: the inflater stopped early",
                    ));
                }
                break;
            }
        }
        if !self.reset_each {
            self.remember(&out);
        }
        Ok(out)
    }

    /// Keeps the last [`WINDOW`] bytes of output (trimmed in batches, so each byte moves at most
    /// once or twice).
    fn remember(&mut self, out: &[u8]) {
        if out.len() >= WINDOW {
            self.history.clear();
            self.history.extend_from_slice(&out[out.len() - WINDOW..]);
            return;
        }
        self.history.extend_from_slice(out);
        if self.history.len() > 2 * WINDOW {
            self.history.drain(..self.history.len() - WINDOW);
        }
    }

    /// Gives a fresh inflater the previous window: the history as one stored (uncompressed)
    /// DEFLATE block, not final, whose output is dropped. The next message then starts at a byte
    /// boundary as a new stream would, and its back references reach the old window.
    fn prime(&mut self) {
        let start = self.history.len().saturating_sub(WINDOW);
        let window = &self.history[start..];
        if window.is_empty() {
            return;
        }
        let len = window.len() as u16; // at most WINDOW, which fits
        let mut block = Vec::with_capacity(window.len() + 5);
        block.push(0x00); // BFINAL 0, BTYPE 00 (stored), padded to the byte
        block.extend_from_slice(&len.to_le_bytes());
        block.extend_from_slice(&(!len).to_le_bytes());
        block.extend_from_slice(window);
        let mut sink = Vec::with_capacity(window.len());
        // A stored block of our own making cannot be corrupt.
        let _ = self
            .d
            .decompress_vec(&block, &mut sink, FlushDecompress::Sync);
    }
}

/// `data` as stored (uncompressed) DEFLATE blocks, which refer to nothing. Not final: followed by
/// the first byte of an empty stored block, which the receiver's appended `00 00 ff ff` completes
/// (RFC 7692 section 7.2.1, what a sync flush leaves once the tail is removed).
fn stored(data: &[u8], final_block: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 65_535 * 5 + 6);
    let mut blocks = data.chunks(usize::from(u16::MAX)).peekable();
    while let Some(block) = blocks.next() {
        let last = blocks.peek().is_none();
        out.push(u8::from(last && final_block));
        let len = block.len() as u16; // chunks of at most u16::MAX
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    if !final_block {
        out.push(0x00);
    }
    out
}

fn too_big(limit: usize) -> ProtocolError {
    ProtocolError::new(
        1009,
        format!(
            "compressed message inflates past the limit of {limit} bytes (--max-message): \
             stopped inflating"
        ),
    )
}

/// The decoded payload of an inflated message: text checked as UTF-8 (1007 when it is not).
pub fn decoded_payload(opcode: DataOpcode, data: Vec<u8>) -> Result<Payload, ProtocolError> {
    match opcode {
        DataOpcode::Binary => Ok(Payload::Binary(data.into())),
        DataOpcode::Text => String::from_utf8(data)
            .map(|t| Payload::Text(t.into()))
            .map_err(|e| {
                ProtocolError::new(
                    1007,
                    format!(
                        "inflated text message is not valid UTF-8 (bad byte at offset {} of {})",
                        e.utf8_error().valid_up_to(),
                        e.as_bytes().len()
                    ),
                )
            }),
    }
}

/// Compresses the messages of one connection, the sender's side of RFC 7692 section 7.2.1.
pub struct Deflater {
    c: Compress,
    /// Reset after each message (`server_no_context_takeover` agreed).
    reset_each: bool,
    /// Keep every back reference within this many bytes (a small agreed window with a compressor
    /// that always uses 32 KiB): restart the stream before the data since the last restart would
    /// exceed it.
    window: usize,
    since_reset: usize,
}

impl fmt::Debug for Deflater {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Deflater")
            .field("reset_each", &self.reset_each)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl Deflater {
    /// A compressor honouring the parameters agreed for the server's messages.
    pub fn new(params: &DeflateParams) -> Self {
        Self::with(
            params.server_no_context_takeover,
            params.server_max_window_bits,
        )
    }

    /// A compressor for the client's messages: the parameters agreed for them
    /// (`client_no_context_takeover`, `client_max_window_bits`), and no context takeover also
    /// when the client promised it in its offer (RFC 7692 section 7.1.1.2: the offer's
    /// `client_no_context_takeover` is a hint the client then keeps).
    pub fn client(params: &DeflateParams, offered_no_context_takeover: bool) -> Self {
        Self::with(
            params.client_no_context_takeover || offered_no_context_takeover,
            params.client_max_window_bits,
        )
    }

    fn with(reset_each: bool, window_bits: Option<u8>) -> Self {
        let bits = window_bits.unwrap_or(15);
        // zlib compresses within the agreed window from 9 bits up. It cannot do a 256-byte
        // window for raw deflate (it quietly uses 512), so for 8 bits a full-window compressor
        // is restarted before its matches could reach further, and bigger messages are stored.
        let (c, window) = if bits >= 9 {
            let c = Compress::new_with_window_bits(Compression::fast(), false, bits);
            (c, WINDOW)
        } else {
            (Compress::new(Compression::fast(), false), 1 << bits)
        };
        Deflater {
            c,
            reset_each,
            window,
            since_reset: 0,
        }
    }

    /// The compressed payload of one message: a sync-flushed DEFLATE block with the trailing
    /// `00 00 ff ff` removed. With `final_block`, the message ends its stream with BFINAL
    /// instead (RFC 7692 section 7.2.3.4) and the next message starts a new one.
    pub fn compress(&mut self, data: &[u8], final_block: bool) -> Vec<u8> {
        if self.window < WINDOW && data.len() > self.window {
            // The compressor's own matches could reach past the agreed window: send the message
            // in stored blocks, and restart, since its window no longer matches the receiver's.
            self.c.reset();
            self.since_reset = 0;
            return stored(data, final_block);
        }
        if self.since_reset > 0 && self.since_reset + data.len() > self.window {
            self.c.reset();
            self.since_reset = 0;
        }
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let flush = if final_block {
            FlushCompress::Finish
        } else {
            FlushCompress::Sync
        };
        let mut pos = 0;
        loop {
            if out.len() == out.capacity() {
                out.reserve(out.capacity().max(64));
            }
            let before = self.c.total_in();
            // Compressing into a growing Vec cannot fail with the rust backend.
            let status = self.c.compress_vec(&data[pos..], &mut out, flush);
            pos += (self.c.total_in() - before) as usize;
            let done = match status {
                Ok(Status::Ok | Status::BufError) => {
                    pos >= data.len() && out.len() < out.capacity()
                }
                Ok(Status::StreamEnd) | Err(_) => true,
            };
            if done {
                break;
            }
        }
        if final_block || self.reset_each {
            self.c.reset();
            self.since_reset = 0;
        } else {
            self.since_reset += data.len();
        }
        if !final_block && out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        }
        if out.is_empty() {
            // zlib emits nothing for a flush with no new input (an empty message after a
            // flush): send the empty stored block's first byte, which the tail completes
            // (RFC 7692 section 7.2.3.6), or an empty final block.
            out.extend_from_slice(if final_block { &[0x03, 0x00] } else { &[0x00] });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ws::{Decoder, WsItem};
    use proptest::prelude::*;

    fn agreed(answer: &str) -> Result<Option<DeflateParams>, String> {
        accept_response(Some(OFFER), &[answer])
    }

    /// Decodes server frames and inflates the compressed messages, as the client does.
    fn receive(frames: &[u8], params: DeflateParams, splits: &[usize]) -> Vec<Payload> {
        let mut d = Decoder::default();
        d.set_allow_rsv1(true);
        let mut inflater = Inflater::new(&params);
        let mut out = Vec::new();
        let mut pos = 0;
        let mut cuts: Vec<usize> = splits.iter().map(|s| s % (frames.len() + 1)).collect();
        cuts.sort_unstable();
        cuts.push(frames.len());
        for cut in cuts {
            d.feed(&frames[pos..cut.max(pos)]);
            pos = cut.max(pos);
            while let Some(item) = d.next_item() {
                match item.expect("valid frames") {
                    WsItem::Message {
                        opcode,
                        data,
                        compressed,
                        ..
                    } => {
                        let payload = if compressed {
                            let raw = data.as_bytes().to_vec();
                            let inflated = inflater.inflate(raw, 1 << 20).expect("inflates");
                            decoded_payload(opcode, inflated).expect("UTF-8")
                        } else {
                            data
                        };
                        out.push(payload);
                    }
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
        out
    }

    fn hello() -> Payload {
        Payload::Text("Hello".to_owned().into())
    }

    // RFC 7692 section 7.2.3: the examples, frame bytes as printed there.

    #[test]
    fn rfc7692_7_2_3_1_a_message_compressed_whole_and_fragmented() {
        let p = DeflateParams::default();
        let whole = [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];
        assert_eq!(receive(&whole, p, &[]), [hello()]);
        let fragmented = [
            0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00,
        ];
        assert_eq!(receive(&fragmented, p, &[]), [hello()]);
    }

    #[test]
    fn rfc7692_7_2_3_2_the_second_message_refers_to_the_first() {
        let frames = [
            0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, // "Hello"
            0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00, // "Hello" again, a back reference
        ];
        assert_eq!(
            receive(&frames, DeflateParams::default(), &[]),
            [hello(), hello()]
        );
        // Without context takeover the window is reset, so the reference no longer finds "Hello"
        // (zlib rejects the distance; miniz_oxide would copy whatever its buffer holds).
        let mut d = Inflater::new(&DeflateParams {
            server_no_context_takeover: true,
            ..DeflateParams::default()
        });
        d.inflate(vec![0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00], 100)
            .expect("first");
        let second = d.inflate(vec![0xf2, 0x00, 0x11, 0x00, 0x00], 100);
        assert_ne!(second.as_deref().ok(), Some(&b"Hello"[..]));
    }

    #[test]
    fn rfc7692_7_2_3_3_a_stored_block() {
        let frames = [
            0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
        ];
        assert_eq!(receive(&frames, DeflateParams::default(), &[]), [hello()]);
    }

    #[test]
    fn rfc7692_7_2_3_4_a_final_block_then_a_reference_to_the_old_window() {
        let mut i = Inflater::new(&DeflateParams::default());
        // "Hello" in a block with BFINAL set, then a padding byte.
        let first = i
            .inflate(vec![0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00], 100)
            .expect("inflates");
        assert_eq!(first, b"Hello");
        assert_eq!(
            i.take_lints(),
            [DeflateLint::FinalBlock, DeflateLint::TrailingBytes(1)]
        );
        // A new stream whose back reference reaches "Hello" in the window kept across the end.
        let second = i
            .inflate(vec![0xf2, 0x00, 0x11, 0x00, 0x00], 100)
            .expect("the old window is still there");
        assert_eq!(second, b"Hello");
        assert!(i.take_lints().is_empty());
    }

    #[test]
    fn rfc7692_7_2_3_5_two_deflate_blocks_in_one_message() {
        let frames = [
            0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07,
            0x00,
        ];
        assert_eq!(receive(&frames, DeflateParams::default(), &[]), [hello()]);
    }

    #[test]
    fn negotiation_accepts_what_was_offered() {
        assert_eq!(accept_response::<&str>(Some(OFFER), &[]), Ok(None));
        assert_eq!(accept_response::<&str>(None, &[]), Ok(None));
        assert_eq!(
            agreed("permessage-deflate"),
            Ok(Some(DeflateParams::default()))
        );
        let python =
            agreed("permessage-deflate; server_max_window_bits=12; client_max_window_bits=12")
                .expect("valid")
                .expect("agreed");
        assert_eq!(python.server_max_window_bits, Some(12));
        assert_eq!(python.client_max_window_bits, Some(12));
        assert_eq!(
            python.to_string(),
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"
        );
        let quoted =
            agreed("Permessage-Deflate; server_no_context_takeover; SERVER_MAX_WINDOW_BITS=\"9\"")
                .expect("valid")
                .expect("agreed");
        assert!(quoted.server_no_context_takeover);
        assert_eq!(quoted.server_max_window_bits, Some(9));
        // Split over two fields, one empty element: still one extension.
        assert!(accept_response(Some(OFFER), &[" , permessage-deflate , ", ""]).is_ok());
    }

    #[test]
    fn negotiation_failures_name_the_header_and_the_rule() {
        let cases: [(Option<&str>, &str, &str); 12] = [
            (None, "permessage-deflate", "none was offered"),
            (
                Some(OFFER),
                "x-webkit-deflate-frame",
                "x-webkit-deflate-frame was not offered",
            ),
            (
                Some(OFFER),
                "permessage-deflate, permessage-deflate",
                "accepted 2 times",
            ),
            (
                Some(OFFER),
                "permessage-deflate; server_max_window_bits=7",
                "outside 8..15",
            ),
            (
                Some(OFFER),
                "permessage-deflate; server_max_window_bits=16",
                "outside 8..15",
            ),
            (
                Some(OFFER),
                "permessage-deflate; server_max_window_bits=010",
                "outside 8..15",
            ),
            (
                Some(OFFER),
                "permessage-deflate; server_max_window_bits",
                "has no value",
            ),
            (
                Some(OFFER),
                "permessage-deflate; client_max_window_bits",
                "has no value",
            ),
            (
                Some(OFFER),
                "permessage-deflate; server_no_context_takeover=1",
                "takes no value",
            ),
            (
                Some(OFFER),
                "permessage-deflate; mystery",
                "unknown parameter mystery",
            ),
            (
                Some(OFFER),
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                "appears twice",
            ),
            (
                Some("permessage-deflate"),
                "permessage-deflate; client_max_window_bits=10",
                "client_max_window_bits was not offered",
            ),
        ];
        for (offer, answer, why) in cases {
            let e = accept_response(offer, &[answer]).expect_err(answer);
            assert!(
                e.starts_with("handshake failed: Sec-WebSocket-Extensions: "),
                "{e}"
            );
            assert!(e.contains(answer), "{e}");
            assert!(e.contains(why), "{answer}: {e}");
        }
        let e = accept_response(Some(OFFER), &["permessage-deflate; x=\"open"]).expect_err("quote");
        assert!(e.contains("unterminated"), "{e}");
    }

    #[test]
    fn the_server_answers_the_first_acceptable_offer() {
        let plain = DeflateParams::default();
        assert_eq!(answer_offer(&[OFFER], plain), Some(plain));
        assert_eq!(answer_offer::<&str>(&[], plain), None);
        assert_eq!(answer_offer(&["x-other"], plain), None);
        let small = DeflateParams {
            server_max_window_bits: Some(9),
            ..plain
        };
        let got = answer_offer(&["permessage-deflate; server_max_window_bits=10"], small);
        assert_eq!(got.and_then(|p| p.server_max_window_bits), Some(9));
        let asked = answer_offer(
            &["permessage-deflate; mystery, permessage-deflate; server_no_context_takeover"],
            plain,
        )
        .expect("the second offer");
        assert!(asked.server_no_context_takeover);
    }

    #[test]
    fn a_bomb_stops_at_the_limit() {
        let params = DeflateParams::default();
        let mut d = Deflater::new(&params);
        let bomb = d.compress(&vec![0u8; 4 << 20], false);
        assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
        let e = Inflater::new(&params)
            .inflate(bomb.clone(), 1 << 20)
            .expect_err("over the limit");
        assert_eq!(e.close_code, 1009, "{e}");
        let whole = Inflater::new(&params)
            .inflate(bomb, 4 << 20)
            .expect("exactly at the limit");
        assert_eq!(whole.len(), 4 << 20);
    }

    #[test]
    fn a_message_bigger_than_a_small_window_goes_in_stored_blocks() {
        let params = DeflateParams {
            server_max_window_bits: Some(8),
            ..DeflateParams::default()
        };
        let mut d = Deflater::new(&params);
        let mut i = Inflater::new(&params);
        let big = "abcdefgh".repeat(100);
        for (text, final_block) in [
            ("small", false),
            (big.as_str(), false),
            ("small", false),
            (big.as_str(), true),
            ("after", false),
        ] {
            let c = d.compress(text.as_bytes(), final_block);
            if text.len() > 256 {
                assert!(c.len() > text.len(), "stored, not compressed");
            }
            assert_eq!(i.inflate(c, 1 << 20).expect("inflates"), text.as_bytes());
        }
        // A tiny message limit does not trip the first allocation.
        let mut tiny = Inflater::new(&DeflateParams::default());
        let e = tiny
            .inflate(d.compress(b"0123456789", false), 3)
            .expect_err("over");
        assert_eq!(e.close_code, 1009);
    }

    #[test]
    fn offers_are_checked_as_rfc_7692_defines_them() {
        for ok in [
            OFFER,
            "permessage-deflate",
            "permessage-deflate; client_no_context_takeover; client_max_window_bits",
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=9",
            "Permessage-Deflate; Server_No_Context_Takeover",
        ] {
            assert_eq!(check_offer(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("x-webkit-deflate-frame", "is not permessage-deflate"),
            ("permessage-deflate, permessage-deflate", "expected one"),
            ("permessage-deflate; server_max_window_bits", "has no value"),
            (
                "permessage-deflate; server_max_window_bits=16",
                "outside 8..15",
            ),
            (
                "permessage-deflate; client_max_window_bits=07",
                "outside 8..15",
            ),
            (
                "permessage-deflate; client_no_context_takeover=1",
                "takes no value",
            ),
            (
                "permessage-deflate; mem_level=9",
                "unknown parameter mem_level",
            ),
            (
                "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
                "appears twice",
            ),
        ] {
            let e = check_offer(bad).expect_err(bad);
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn the_client_keeps_its_window_and_its_promise() {
        let agreed = DeflateParams {
            client_max_window_bits: Some(9),
            ..DeflateParams::default()
        };
        // Promised in the offer: every message starts afresh, so the same text costs the same.
        let mut d = Deflater::client(&agreed, true);
        let text = b"the same text, twice over the same connection";
        assert_eq!(d.compress(text, false), d.compress(text, false));
        // Not promised: the second refers back to the first and is smaller.
        let mut d = Deflater::client(&agreed, false);
        let first = d.compress(text, false);
        assert!(d.compress(text, false).len() < first.len());
        // Asked for by the server's answer.
        let nct = DeflateParams {
            client_no_context_takeover: true,
            ..DeflateParams::default()
        };
        let mut d = Deflater::client(&nct, false);
        assert_eq!(d.compress(text, false), d.compress(text, false));
    }

    #[test]
    fn corrupt_data_is_1007() {
        let mut i = Inflater::new(&DeflateParams::default());
        // BTYPE 11 is reserved.
        let e = i.inflate(vec![0xff, 0xff, 0xff], 100).expect_err("corrupt");
        assert_eq!(e.close_code, 1007, "{e}");
        let e = decoded_payload(DataOpcode::Text, vec![0xff]).expect_err("not UTF-8");
        assert_eq!(e.close_code, 1007);
    }

    fn frames_of(messages: &[Vec<u8>], params: DeflateParams, fragment: usize) -> Vec<u8> {
        let mut d = Deflater::new(&params);
        let mut out = Vec::new();
        for (i, m) in messages.iter().enumerate() {
            // Every fourth message ends its stream with a final block; every third goes out
            // uncompressed (RSV1 clear), as Node's ws does below its threshold.
            let compressed = i % 3 != 2;
            let payload = if compressed {
                d.compress(m, i % 4 == 3)
            } else {
                m.clone()
            };
            let pieces: Vec<&[u8]> = if payload.is_empty() {
                vec![&[]]
            } else {
                payload.chunks(fragment.max(1)).collect()
            };
            for (k, piece) in pieces.iter().enumerate() {
                let rsv = if k == 0 && compressed { 0b100 } else { 0 };
                let op = u8::from(k == 0);
                crate::protocol::ws::encode_frame(
                    &mut out,
                    k + 1 == pieces.len(),
                    rsv,
                    op,
                    None,
                    piece,
                );
            }
        }
        out
    }

    proptest! {
        #[test]
        fn any_split_of_the_same_frames_gives_the_same_messages(
            texts in proptest::collection::vec("[a-c ]{0,300}", 1..12),
            fragment in 1usize..40,
            splits in proptest::collection::vec(0usize..100_000, 0..8),
            no_context in any::<bool>(),
            bits in 8u8..=15,
        ) {
            let params = DeflateParams {
                server_no_context_takeover: no_context,
                server_max_window_bits: Some(bits),
                ..DeflateParams::default()
            };
            let messages: Vec<Vec<u8>> = texts.iter().map(|t| t.as_bytes().to_vec()).collect();
            let frames = frames_of(&messages, params, fragment);
            let whole = receive(&frames, params, &[]);
            let split = receive(&frames, params, &splits);
            let expected: Vec<Payload> = texts.into_iter().map(|t| Payload::Text(t.into())).collect();
            prop_assert_eq!(&whole, &expected);
            prop_assert_eq!(split, expected);
        }
    }
}
