//! HTTP/1.1 responses as pure functions fed bytes: the response head ([`parse_head`], with
//! `httparse`), how its body is framed ([`framing`], RFC 9112 section 6.3), and the body's
//! framing undone as bytes arrive ([`BodyDecoder`]: until close, `Content-Length`, chunked).
//!
//! The SSE client reads its HTTP/1.1 bodies with these instead of hyper's client, which hands a
//! body over one chunk of the chunked encoding at a time through a channel between its connection
//! task and the reader's: on a server that sends one event per chunk that is a task hop and a
//! wake-up per event. Decoding on the socket's bytes turns each read into the body bytes it holds,
//! whatever the chunk sizes.
//!
//! What it accepts follows hyper (the client it replaces) where the RFC leaves no choice, and the
//! browsers where they are more lenient than hyper: a bare LF ends a chunk-size line, a chunk's
//! data or a trailer line, as in Chromium and Firefox (hyper rejects it). Chunk extensions are
//! skipped; trailers are read and dropped.

use std::fmt;
use std::ops::Range;

/// Largest response head read (interim 1xx heads included): hyper's default read buffer limit.
pub(crate) const MAX_HEAD: usize = 8192 + 4096 * 100;

/// Most header fields in one response head: hyper's default.
pub(crate) const MAX_HEADERS: usize = 100;

/// Longest chunk extension, and longest trailer section, accepted (hyper's limits): neither is
/// kept, so the limit only stops a server that never ends a line.
const MAX_SKIPPED: usize = 16 * 1024;

/// The final response head at the start of `buf`, after any interim 1xx heads (100 Continue,
/// 103 Early Hints), which are skipped: the head and how many bytes it took (the skipped heads
/// included), `Ok(None)` while the head is incomplete. A 101 is a final head.
pub(crate) fn parse_head(buf: &[u8]) -> Result<Option<(usize, http::Response<()>)>, String> {
    let mut start = 0;
    loop {
        let rest = &buf[start..];
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut res = httparse::Response::new(&mut headers);
        let len = match res.parse(rest) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => {
                return Err(format!(
                    "the response head is larger than {} KiB",
                    MAX_HEAD / 1024
                ));
            }
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(format!(
                    "more than {MAX_HEADERS} header fields in the response head"
                ));
            }
            Err(e) => {
                return Err(format!(
                    "invalid response head ({e}): it starts {}",
                    show_start(rest)
                ));
            }
        };
        let code = res.code.unwrap_or_default();
        if (100..200).contains(&code) && code != 101 {
            start += len;
            continue;
        }
        let mut builder =
            http::Response::builder()
                .status(code)
                .version(if res.version == Some(0) {
                    http::Version::HTTP_10
                } else {
                    http::Version::HTTP_11
                });
        for h in res.headers.iter() {
            builder = builder.header(h.name, h.value);
        }
        return builder
            .body(())
            .map(|r| Some((start + len, r)))
            .map_err(|e| format!("invalid response head: {e}"));
    }
}

/// Up to 40 bytes of `bytes`, quoted, for an error message.
fn show_start(bytes: &[u8]) -> String {
    let end = bytes.len().min(40);
    let text = String::from_utf8_lossy(&bytes[..end]);
    if end < bytes.len() {
        format!("{text:?}…")
    } else {
        format!("{text:?}")
    }
}

/// How a response's body is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    /// No body: a HEAD request, 1xx, 204, 304.
    Empty,
    /// `Content-Length`.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// The body ends when the server closes the connection.
    Close,
}

/// How the body of `response` to a `method` request is framed (RFC 9112 section 6.3, as hyper
/// reads it): no body for HEAD, 1xx, 204 and 304; chunked when `Transfer-Encoding` ends in
/// `chunked`, even with a `Content-Length` (which it overrides); until close for another
/// transfer coding; else `Content-Length`, whose values must all be the same number; else until
/// close. `Transfer-Encoding` in an HTTP/1.0 response is an error (the RFC calls its framing
/// faulty).
pub(crate) fn framing(
    method: &http::Method,
    response: &http::Response<()>,
) -> Result<Framing, String> {
    let status = response.status();
    if status.is_informational()
        || status == http::StatusCode::NO_CONTENT
        || status == http::StatusCode::NOT_MODIFIED
        || method == http::Method::HEAD
        || (method == http::Method::CONNECT && status.is_success())
    {
        return Ok(Framing::Empty);
    }
    let headers = response.headers();
    if headers.contains_key(http::header::TRANSFER_ENCODING) {
        if response.version() == http::Version::HTTP_10 {
            return Err(
                "an HTTP/1.0 response with Transfer-Encoding (RFC 9112 6.1: its \
                        framing is faulty)"
                    .to_owned(),
            );
        }
        let last = headers
            .get_all(http::header::TRANSFER_ENCODING)
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim);
        return Ok(match last {
            Some(coding) if coding.eq_ignore_ascii_case("chunked") => Framing::Chunked,
            _ => Framing::Close,
        });
    }
    let mut length: Option<u64> = None;
    for value in headers.get_all(http::header::CONTENT_LENGTH) {
        let text = String::from_utf8_lossy(value.as_bytes());
        for part in text.split(',') {
            let part = part.trim();
            let n = digits(part)
                .ok_or_else(|| format!("invalid Content-Length {:?}", text.as_ref()))?;
            match length {
                Some(m) if m != n => {
                    return Err(format!("conflicting Content-Length values ({m} and {n})"));
                }
                _ => length = Some(n),
            }
        }
    }
    Ok(length.map_or(Framing::Close, Framing::Length))
}

/// A decimal number of ASCII digits only (no sign, no spaces), within 64 bits.
fn digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Why a body's framing broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FramingError(String);

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FramingError {}

/// A chunked-encoding error.
fn chunked(what: impl fmt::Display) -> FramingError {
    FramingError(format!("invalid chunked encoding: {what}"))
}

/// A byte as an error message shows it.
fn show(b: u8) -> String {
    if b.is_ascii_graphic() || b == b' ' {
        format!("{:?}", char::from(b))
    } else {
        format!("byte 0x{b:02x}")
    }
}

/// Where a decoder stands after the bytes it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Progress {
    /// The body goes on: more bytes are needed.
    NeedMore,
    /// The body is complete; bytes after it are not the body's.
    Done,
}

/// What one call of [`BodyDecoder::decode`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decoded {
    /// Input bytes used: all of them unless the body ended within them.
    pub consumed: usize,
    /// Whether the body is complete.
    pub progress: Progress,
}

/// Where a chunked body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading the size's hex digits (`digits` so far).
    Size { size: u64, digits: u32 },
    /// Spaces after the size.
    SizeSpace { size: u64 },
    /// A chunk extension, skipped (`len` bytes so far).
    Extension { size: u64, len: usize },
    /// A CR ended the size line: its LF.
    SizeLf { size: u64 },
    /// The CR (or a bare LF) after a chunk's data.
    DataCr,
    /// The LF after a chunk's data.
    DataLf,
    /// After the last chunk: the start of a trailer line or of the final empty line (`len`
    /// trailer bytes so far).
    TrailerStart { len: usize },
    /// Within a trailer line.
    Trailer { len: usize },
    /// A CR ended a trailer line: its LF.
    TrailerLf { len: usize },
    /// A CR started the final empty line: its LF.
    EndLf,
}

/// The decoder's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Until close: every byte is the body's.
    Close,
    /// `left` of `total` bytes still to come.
    Length { left: u64, total: u64 },
    /// Chunked, in a chunk's data: `left` bytes of it still to come.
    Data { left: u64 },
    /// Chunked, in the framing around the data.
    Chunked(Chunk),
    /// The body is complete.
    Done,
}

/// Undoes a body's framing as its bytes arrive, in any pieces: each call gives the ranges of its
/// input that are body bytes, in order, and keeps what it needs of an incomplete size line in its
/// state, so the same body split anywhere decodes to the same bytes.
///
/// Bad framing is reported once the body bytes before it are out: the call that reaches it stops
/// there (the bad byte not consumed) and returns what it decoded; every call after it returns the
/// error.
#[derive(Debug, Clone)]
pub(crate) struct BodyDecoder {
    state: State,
    failed: Option<FramingError>,
}

impl BodyDecoder {
    /// A decoder for a body framed as `framing`.
    pub(crate) fn new(framing: Framing) -> Self {
        let state = match framing {
            Framing::Empty | Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length { left: n, total: n },
            Framing::Chunked => State::Chunked(Chunk::Size { size: 0, digits: 0 }),
            Framing::Close => State::Close,
        };
        BodyDecoder {
            state,
            failed: None,
        }
    }

    /// Whether the body is complete.
    pub(crate) fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes `input`, calling `body` with each range of it that is body bytes, in order.
    pub(crate) fn decode(
        &mut self,
        input: &[u8],
        mut body: impl FnMut(Range<usize>),
    ) -> Result<Decoded, FramingError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let mut at = 0;
        while at < input.len() {
            match &mut self.state {
                State::Done => break,
                State::Close => {
                    body(at..input.len());
                    at = input.len();
                }
                State::Length { left, .. } => {
                    let take = usize::try_from(*left)
                        .map_or(input.len() - at, |l| l.min(input.len() - at));
                    body(at..at + take);
                    at += take;
                    *left -= take as u64;
                    if *left == 0 {
                        self.state = State::Done;
                    }
                }
                State::Data { left } => {
                    let take = usize::try_from(*left)
                        .map_or(input.len() - at, |l| l.min(input.len() - at));
                    body(at..at + take);
                    at += take;
                    *left -= take as u64;
                    if *left == 0 {
                        self.state = State::Chunked(Chunk::DataCr);
                    }
                }
                State::Chunked(chunk) => match step(*chunk, input[at]) {
                    Ok(next) => {
                        at += 1;
                        self.state = next;
                    }
                    Err(e) if at == 0 => {
                        self.failed = Some(e.clone());
                        return Err(e);
                    }
                    Err(e) => {
                        self.failed = Some(e);
                        break;
                    }
                },
            }
        }
        let progress = if self.is_done() {
            Progress::Done
        } else {
            Progress::NeedMore
        };
        Ok(Decoded {
            consumed: at,
            progress,
        })
    }

    /// Decodes `input`, appending its body bytes to `out` (the tests' way; the client decodes in
    /// place).
    #[cfg(test)]
    pub(crate) fn decode_into(
        &mut self,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Decoded, FramingError> {
        self.decode(input, |r| out.extend_from_slice(&input[r]))
    }

    /// Decodes `buf` in place: its body bytes are moved to its front (framing only ever takes
    /// bytes out, so they never move right). Returns what was done and how many body bytes the
    /// front now holds.
    pub(crate) fn decode_in_place(
        &mut self,
        buf: &mut [u8],
    ) -> Result<(Decoded, usize), FramingError> {
        let mut ranges: Vec<Range<usize>> = Vec::new();
        let mut contiguous = 0;
        let decoded = self.decode(buf, |r| {
            // Until close and Content-Length give one range at the front: nothing to move.
            if ranges.is_empty() && r.start == contiguous {
                contiguous = r.end;
            } else {
                ranges.push(r);
            }
        })?;
        let mut len = contiguous;
        for r in ranges {
            let n = r.len();
            buf.copy_within(r, len);
            len += n;
        }
        Ok((decoded, len))
    }

    /// The connection ended: `Ok` when that ends the body (until close, or the body already
    /// complete), else why it is cut short.
    pub(crate) fn finish(&self) -> Result<(), FramingError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        match self.state {
            State::Done | State::Close => Ok(()),
            State::Length { left, total } => Err(FramingError(format!(
                "the connection closed after {} of the {total} bytes its Content-Length announced",
                total - left
            ))),
            State::Data { left } => Err(FramingError(format!(
                "the connection closed inside a chunk of the chunked body ({left} bytes of it \
                 missing), before its last chunk"
            ))),
            State::Chunked(
                Chunk::TrailerStart { .. }
                | Chunk::Trailer { .. }
                | Chunk::TrailerLf { .. }
                | Chunk::EndLf,
            ) => Err(FramingError(
                "the connection closed in the chunked body's trailer section, after its last chunk"
                    .to_owned(),
            )),
            State::Chunked(_) => Err(FramingError(
                "the connection closed inside the chunked body, before its last chunk".to_owned(),
            )),
        }
    }
}

/// One byte of chunk framing (never of a chunk's data).
fn step(chunk: Chunk, b: u8) -> Result<State, FramingError> {
    let next = match chunk {
        Chunk::Size { size, digits } => match (hex(b), b) {
            (Some(d), _) => Chunk::Size {
                size: size
                    .checked_mul(16)
                    .and_then(|s| s.checked_add(u64::from(d)))
                    .ok_or_else(|| chunked("a chunk size larger than 64 bits"))?,
                digits: digits + 1,
            },
            (None, _) if digits == 0 => {
                return Err(chunked(format!(
                    "{} where a chunk size (hex digits) was expected",
                    show(b)
                )));
            }
            (None, b' ' | b'\t') => Chunk::SizeSpace { size },
            (None, b';') => Chunk::Extension { size, len: 0 },
            (None, b'\r') => Chunk::SizeLf { size },
            (None, b'\n') => return Ok(after_size(size)),
            (None, _) => {
                return Err(chunked(format!("{} in a chunk size line", show(b))));
            }
        },
        Chunk::SizeSpace { size } => match b {
            b' ' | b'\t' => Chunk::SizeSpace { size },
            b';' => Chunk::Extension { size, len: 0 },
            b'\r' => Chunk::SizeLf { size },
            b'\n' => return Ok(after_size(size)),
            _ => return Err(chunked(format!("{} after a chunk size", show(b)))),
        },
        Chunk::Extension { size, len } => match b {
            b'\r' => Chunk::SizeLf { size },
            b'\n' => return Ok(after_size(size)),
            _ if len >= MAX_SKIPPED => {
                return Err(chunked(format!(
                    "a chunk extension longer than {} KiB",
                    MAX_SKIPPED / 1024
                )));
            }
            _ => Chunk::Extension { size, len: len + 1 },
        },
        Chunk::SizeLf { size } => match b {
            b'\n' => return Ok(after_size(size)),
            _ => {
                return Err(chunked(format!(
                    "{} after the CR of a chunk size line",
                    show(b)
                )));
            }
        },
        Chunk::DataCr => match b {
            b'\r' => Chunk::DataLf,
            b'\n' => Chunk::Size { size: 0, digits: 0 },
            _ => {
                return Err(chunked(format!(
                    "{} after a chunk's data, where CRLF was expected (the chunk is longer \
                     than its size)",
                    show(b)
                )));
            }
        },
        Chunk::DataLf => match b {
            b'\n' => Chunk::Size { size: 0, digits: 0 },
            _ => return Err(chunked(format!("{} after the CR ending a chunk", show(b)))),
        },
        Chunk::TrailerStart { len } => match b {
            b'\r' => Chunk::EndLf,
            b'\n' => return Ok(State::Done),
            _ => trailer_byte(len)?,
        },
        Chunk::Trailer { len } => match b {
            b'\r' => Chunk::TrailerLf { len: len + 1 },
            b'\n' => Chunk::TrailerStart { len: len + 1 },
            _ => trailer_byte(len)?,
        },
        Chunk::TrailerLf { len } => match b {
            b'\n' => Chunk::TrailerStart { len: len + 1 },
            _ => {
                return Err(chunked(format!(
                    "{} after the CR of a trailer line",
                    show(b)
                )));
            }
        },
        Chunk::EndLf => match b {
            b'\n' => return Ok(State::Done),
            _ => return Err(chunked(format!("{} after the CR ending the body", show(b)))),
        },
    };
    Ok(State::Chunked(next))
}

/// The state after a chunk size line: the chunk's data, or the trailer section after the last.
fn after_size(size: u64) -> State {
    if size == 0 {
        State::Chunked(Chunk::TrailerStart { len: 0 })
    } else {
        State::Data { left: size }
    }
}

/// One more byte of a trailer line.
fn trailer_byte(len: usize) -> Result<Chunk, FramingError> {
    if len >= MAX_SKIPPED {
        return Err(chunked(format!(
            "a trailer section longer than {} KiB",
            MAX_SKIPPED / 1024
        )));
    }
    Ok(Chunk::Trailer { len: len + 1 })
}

/// The value of a hex digit.
fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Decodes `parts` one after another: the body, and the progress after the last part.
    fn decode_parts(framing: Framing, parts: &[&[u8]]) -> Result<(Vec<u8>, Progress), String> {
        let mut d = BodyDecoder::new(framing);
        let mut out = Vec::new();
        let mut progress = if d.is_done() {
            Progress::Done
        } else {
            Progress::NeedMore
        };
        for part in parts {
            let r = d.decode_into(part, &mut out).map_err(|e| e.to_string())?;
            progress = r.progress;
        }
        // An error stops the call that reaches it and is returned by the next.
        d.decode_into(&[], &mut out).map_err(|e| e.to_string())?;
        Ok((out, progress))
    }

    fn chunked_body(body: &[u8]) -> Result<(Vec<u8>, Progress), String> {
        decode_parts(Framing::Chunked, &[body])
    }

    #[test]
    fn chunked_with_extensions_trailers_and_bare_lf() {
        let wire = b"5;name=value\r\nhello\r\n6 \t; x\r\n world\r\n0\r\nX-Sum: 1\r\nY: 2\r\n\r\n";
        assert_eq!(
            chunked_body(wire),
            Ok((b"hello world".to_vec(), Progress::Done))
        );
        // Bare LF line ends, as browsers read them.
        let lf = b"5\nhello\n0\nTrailer: x\n\n";
        assert_eq!(chunked_body(lf), Ok((b"hello".to_vec(), Progress::Done)));
        // Upper-case hex and leading zeros.
        assert_eq!(
            chunked_body(b"000A\r\n0123456789\r\n0\r\n\r\n"),
            Ok((b"0123456789".to_vec(), Progress::Done))
        );
    }

    #[test]
    fn what_follows_the_last_chunk_is_not_consumed() {
        let mut d = BodyDecoder::new(Framing::Chunked);
        let mut out = Vec::new();
        let wire = b"1\r\na\r\n0\r\n\r\nHTTP/1.1 200 OK";
        let r = d.decode_into(wire, &mut out).expect("decodes");
        assert_eq!(r.consumed, wire.len() - "HTTP/1.1 200 OK".len());
        assert_eq!(r.progress, Progress::Done);
        assert_eq!(out, b"a");
        let again = d.decode_into(b"more", &mut out).expect("done");
        assert_eq!((again.consumed, again.progress), (0, Progress::Done));
    }

    #[test]
    fn chunked_errors_say_what_was_wrong() {
        for (wire, want) in [
            (
                &b"\r\n"[..],
                "byte 0x0d where a chunk size (hex digits) was expected",
            ),
            (
                b"zz\r\n",
                "'z' where a chunk size (hex digits) was expected",
            ),
            (b"5x\r\n", "'x' in a chunk size line"),
            (b"5 5\r\n", "'5' after a chunk size"),
            (b"5\rX", "'X' after the CR of a chunk size line"),
            (b"2\r\nabc\r\n", "'c' after a chunk's data"),
            (b"2\r\nab\rX", "'X' after the CR ending a chunk"),
            (b"0\r\nA: b\rX", "'X' after the CR of a trailer line"),
            (b"0\r\n\rX", "'X' after the CR ending the body"),
            (b"1\r\n\x00\r\n\x01", "byte 0x01 where a chunk size"),
            (b"10000000000000000\r\n", "a chunk size larger than 64 bits"),
        ] {
            let err = chunked_body(wire).expect_err("an error");
            assert!(err.starts_with("invalid chunked encoding: "), "{err}");
            assert!(err.contains(want), "{err} / {want}");
        }
        assert_eq!(
            chunked_body(b"ffffffffffffffff\r\nab"),
            Ok((b"ab".to_vec(), Progress::NeedMore))
        );
        let xs = vec![b'x'; MAX_SKIPPED + 1];
        let long_ext = [b"1;".as_slice(), &xs].concat();
        assert!(chunked_body(&long_ext).is_err());
        let long_trailer = [b"0\r\nX: ".as_slice(), &xs].concat();
        assert!(chunked_body(&long_trailer).is_err());
    }

    #[test]
    fn the_body_before_bad_framing_comes_out_first() {
        let mut d = BodyDecoder::new(Framing::Chunked);
        let mut out = Vec::new();
        let wire = b"3\r\nabc\r\nzz";
        let r = d.decode_into(wire, &mut out).expect("the body first");
        assert_eq!((r.consumed, out.as_slice()), (wire.len() - 2, &b"abc"[..]));
        let err = d
            .decode_into(&wire[r.consumed..], &mut out)
            .expect_err("then the error");
        assert!(err.to_string().contains("'z'"), "{err}");
        assert_eq!(d.finish(), Err(err.clone()));
        assert_eq!(d.decode_into(b"1\r\nx", &mut out), Err(err));
    }

    #[test]
    fn an_early_end_is_an_error_that_says_where() {
        let at_eof = |framing, wire: &[u8]| {
            let mut d = BodyDecoder::new(framing);
            d.decode_into(wire, &mut Vec::new()).expect("decodes");
            d.finish().map_err(|e| e.to_string())
        };
        assert_eq!(
            at_eof(Framing::Length(10), b"abc"),
            Err(
                "the connection closed after 3 of the 10 bytes its Content-Length announced"
                    .to_owned()
            )
        );
        assert_eq!(at_eof(Framing::Length(3), b"abc"), Ok(()));
        assert_eq!(at_eof(Framing::Close, b"abc"), Ok(()));
        assert_eq!(at_eof(Framing::Empty, b""), Ok(()));
        let cut = at_eof(Framing::Chunked, b"5\r\nab").expect_err("cut");
        assert!(
            cut.contains("inside a chunk") && cut.contains("3 bytes"),
            "{cut}"
        );
        for wire in [&b""[..], b"5", b"5\r\nabcde", b"5\r\nabcde\r\n", b"5;x"] {
            let cut = at_eof(Framing::Chunked, wire).expect_err("cut");
            assert!(cut.contains("before its last chunk"), "{cut}");
        }
        let cut = at_eof(Framing::Chunked, b"0\r\nX: 1\r\n").expect_err("cut");
        assert!(cut.contains("trailer"), "{cut}");
    }

    #[test]
    fn length_stops_at_its_end() {
        let mut d = BodyDecoder::new(Framing::Length(4));
        let mut out = Vec::new();
        let r = d.decode_into(b"abcdef", &mut out).expect("decodes");
        assert_eq!((r.consumed, r.progress), (4, Progress::Done));
        assert_eq!(out, b"abcd");
        assert!(BodyDecoder::new(Framing::Length(0)).is_done());
        assert!(BodyDecoder::new(Framing::Empty).is_done());
    }

    #[test]
    fn in_place_moves_body_bytes_to_the_front() {
        let mut d = BodyDecoder::new(Framing::Chunked);
        let mut buf = b"3\r\nabc\r\n2\r\nde\r\n1".to_vec();
        let (r, len) = d.decode_in_place(&mut buf).expect("decodes");
        assert_eq!(r.consumed, buf.len());
        assert_eq!(&buf[..len], b"abcde");
        let mut d = BodyDecoder::new(Framing::Close);
        let mut buf = b"as is".to_vec();
        let (_, len) = d.decode_in_place(&mut buf).expect("decodes");
        assert_eq!(&buf[..len], b"as is");
    }

    fn response(head: &str) -> http::Response<()> {
        match parse_head(head.as_bytes()) {
            Ok(Some((_, r))) => r,
            other => panic!("{head:?}: {other:?}"),
        }
    }

    fn framing_of(method: &http::Method, head: &str) -> Result<Framing, String> {
        framing(method, &response(head))
    }

    #[test]
    fn framing_follows_rfc_9112() {
        let get = http::Method::GET;
        let ok = |h: &str| format!("HTTP/1.1 200 OK\r\n{h}\r\n");
        assert_eq!(framing_of(&get, &ok("")), Ok(Framing::Close));
        assert_eq!(
            framing_of(&get, &ok("Content-Length: 12\r\n")),
            Ok(Framing::Length(12))
        );
        assert_eq!(
            framing_of(
                &get,
                &ok("Content-Length: 12\r\nContent-Length: 12, 12\r\n")
            ),
            Ok(Framing::Length(12))
        );
        assert_eq!(
            framing_of(
                &get,
                &ok("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")
            ),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framing_of(&get, &ok("Transfer-Encoding: gzip, Chunked\r\n")),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            framing_of(&get, &ok("Transfer-Encoding: chunked, gzip\r\n")),
            Ok(Framing::Close)
        );
        for bad in ["abc", "-1", "+5", " ", "1 2", "99999999999999999999"] {
            let err = framing_of(&get, &ok(&format!("Content-Length: {bad}\r\n")));
            assert!(
                err.as_ref()
                    .is_err_and(|e| e.contains("invalid Content-Length")),
                "{bad}: {err:?}"
            );
        }
        let err = framing_of(&get, &ok("Content-Length: 1\r\nContent-Length: 2\r\n"));
        assert_eq!(
            err,
            Err("conflicting Content-Length values (1 and 2)".to_owned())
        );
        let old = "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
        assert!(framing_of(&get, old).is_err());
        for status in ["204 No Content", "304 Not Modified"] {
            let head = format!("HTTP/1.1 {status}\r\nContent-Length: 5\r\n\r\n");
            assert_eq!(framing_of(&get, &head), Ok(Framing::Empty));
        }
        assert_eq!(
            framing_of(&http::Method::HEAD, &ok("Content-Length: 5\r\n")),
            Ok(Framing::Empty)
        );
    }

    #[test]
    fn interim_heads_are_skipped_and_partial_heads_wait() {
        let wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n\
                     HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-A: 1\r\nx-a: 2\r\n\r\ndata";
        let (len, r) = parse_head(wire).expect("valid").expect("complete");
        assert_eq!(&wire[len..], b"data");
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        let xa: Vec<_> = r.headers().get_all("x-a").iter().collect();
        assert_eq!(xa, ["1", "2"]);
        assert_eq!(r.version(), http::Version::HTTP_11);
        for cut in 0..len {
            assert!(matches!(parse_head(&wire[..cut]), Ok(None)), "{cut}");
        }
        let (_, r) = parse_head(b"HTTP/1.0 200 OK\nA: b\n\n")
            .expect("ok")
            .expect("head");
        assert_eq!(r.version(), http::Version::HTTP_10);
        let (_, r) = parse_head(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
            .expect("ok")
            .expect("head");
        assert_eq!(r.status(), 101);
    }

    #[test]
    fn bad_heads_are_errors_that_show_the_start() {
        let err = parse_head(b"HELLO WORLD\r\n\r\n").expect_err("invalid");
        assert!(
            err.contains("invalid response head") && err.contains("HELLO"),
            "{err}"
        );
        let many = "H: v\r\n".repeat(MAX_HEADERS + 1);
        let err =
            parse_head(format!("HTTP/1.1 200 OK\r\n{many}\r\n").as_bytes()).expect_err("too many");
        assert!(err.contains("more than 100 header fields"), "{err}");
        let huge = format!("HTTP/1.1 200 OK\r\nX: {}", "y".repeat(MAX_HEAD));
        let err = parse_head(huge.as_bytes()).expect_err("too large");
        assert!(err.contains("larger than"), "{err}");
    }

    /// `body` framed as `framing` would send it, chunked in chunks of `sizes` (cycled), with an
    /// extension on odd chunks and a trailer.
    fn encode(framing: Framing, body: &[u8], sizes: &[usize], lf_only: bool) -> Vec<u8> {
        if framing != Framing::Chunked {
            return body.to_vec();
        }
        let eol: &[u8] = if lf_only { b"\n" } else { b"\r\n" };
        let mut wire = Vec::new();
        let mut rest = body;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].clamp(1, rest.len());
            wire.extend_from_slice(format!("{n:x}").as_bytes());
            if i % 2 == 1 {
                wire.extend_from_slice(b" ;ext=\"v\"");
            }
            wire.extend_from_slice(eol);
            wire.extend_from_slice(&rest[..n]);
            wire.extend_from_slice(eol);
            rest = &rest[n..];
            i += 1;
        }
        wire.extend_from_slice(b"0");
        wire.extend_from_slice(eol);
        wire.extend_from_slice(b"Trailer-A: x");
        wire.extend_from_slice(eol);
        wire.extend_from_slice(eol);
        wire
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any body, in any chunk sizes, split at any points, decodes to the same bytes and
        /// ends exactly at its end (in place, too).
        #[test]
        fn any_split_decodes_to_the_same_body(
            body in proptest::collection::vec(any::<u8>(), 0..400),
            sizes in proptest::collection::vec(1usize..70, 1..6),
            kind in 0u8..3,
            lf_only in any::<bool>(),
            cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..10),
        ) {
            let framing = match kind {
                0 => Framing::Chunked,
                1 => Framing::Length(body.len() as u64),
                _ => Framing::Close,
            };
            let mut wire = encode(framing, &body, &sizes, lf_only);
            let framed_len = wire.len();
            wire.extend_from_slice(b"after");
            let mut points: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
            points.push(0);
            points.push(wire.len());
            points.sort_unstable();
            points.dedup();
            let mut d = BodyDecoder::new(framing);
            let mut inplace = BodyDecoder::new(framing);
            let mut out = Vec::new();
            let mut out_in_place = Vec::new();
            let mut used = 0;
            for w in points.windows(2) {
                let piece = &wire[w[0]..w[1]];
                let r = d.decode_into(piece, &mut out).expect("valid framing");
                used += r.consumed;
                let mut copy = piece.to_vec();
                let (_, len) = inplace.decode_in_place(&mut copy).expect("valid framing");
                out_in_place.extend_from_slice(&copy[..len]);
            }
            if framing == Framing::Close {
                prop_assert_eq!(&out[..body.len()], &body[..]);
                prop_assert!(d.finish().is_ok());
            } else {
                prop_assert_eq!(&out, &body);
                prop_assert_eq!(used, framed_len);
                prop_assert!(d.is_done());
            }
            prop_assert_eq!(out_in_place, out);
        }
    }
}
