//! HTTP `Content-Encoding` of an event stream, decoded as it arrives, with no I/O.
//!
//! This module owns which codings streamscope asks for ([`ACCEPT`], sent with `--compressed`),
//! reading a `Content-Encoding` header ([`Coding::from_header`]), and [`ContentDecoder`]: the
//! body's bytes in (as the body's frames bring them, de-chunked), the decoded bytes out, at once.
//! A server that streams events through gzip flushes after each one (a sync flush), so what arrives
//! decodes to whole events without waiting for more.
//!
//! gzip and deflate are flate2's (the pure-Rust backend); br is `brotli-decompressor`, the decoder
//! half of Dropbox's pure-Rust brotli; zstd is the reference C library through the `zstd` crate.

use std::fmt;
use std::io::Write as _;

use flate2::write::{DeflateDecoder, GzDecoder, ZlibDecoder};

/// The `Accept-Encoding` streamscope sends with `--compressed`: every coding it decodes.
pub const ACCEPT: &str = "gzip, deflate, br, zstd";

/// A content coding streamscope decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    /// `gzip` (RFC 1952), also `x-gzip`.
    Gzip,
    /// `deflate`: zlib (RFC 1950) as the RFC says, or raw DEFLATE as some servers send it.
    Deflate,
    /// `br` (RFC 7932).
    Br,
    /// `zstd` (RFC 8878).
    Zstd,
}

impl Coding {
    /// The coding's name as it appears in headers.
    pub const fn as_str(self) -> &'static str {
        match self {
            Coding::Gzip => "gzip",
            Coding::Deflate => "deflate",
            Coding::Br => "br",
            Coding::Zstd => "zstd",
        }
    }

    /// The coding a `Content-Encoding` value names: `Ok(None)` for none or `identity`, an error
    /// naming the header for a coding streamscope cannot decode or for more than one coding.
    pub fn from_header(value: &str) -> Result<Option<Coding>, String> {
        let codings: Vec<&str> = value
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("identity"))
            .collect();
        match codings.as_slice() {
            [] => Ok(None),
            [one] => match one.to_ascii_lowercase().as_str() {
                "gzip" | "x-gzip" => Ok(Some(Coding::Gzip)),
                "deflate" => Ok(Some(Coding::Deflate)),
                "br" => Ok(Some(Coding::Br)),
                "zstd" => Ok(Some(Coding::Zstd)),
                _ => Err(format!(
                    "Content-Encoding: {value}: a coding streamscope cannot decode (it decodes \
                     {ACCEPT})"
                )),
            },
            _ => Err(format!(
                "Content-Encoding: {value}: more than one coding applied; streamscope decodes one"
            )),
        }
    }
}

impl fmt::Display for Coding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

enum Inner {
    Gzip(GzDecoder<Vec<u8>>),
    Zlib(ZlibDecoder<Vec<u8>>),
    Raw(DeflateDecoder<Vec<u8>>),
    Br(Box<brotli_decompressor::DecompressorWriter<Vec<u8>>>),
    Zstd(Box<zstd::stream::write::Decoder<'static, Vec<u8>>>),
    /// A decoder that could not be set up (zstd's context allocation failed): every feed fails.
    Broken(String),
    /// `deflate` before its first two bytes say zlib or raw.
    Undecided(Vec<u8>),
}

/// Decodes one response body as it arrives.
pub struct ContentDecoder {
    coding: Coding,
    inner: Inner,
}

impl fmt::Debug for ContentDecoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContentDecoder")
            .field("coding", &self.coding)
            .finish_non_exhaustive()
    }
}

/// A zlib header: compression method 8 and a check value that makes the pair a multiple of 31.
fn is_zlib_header(b0: u8, b1: u8) -> bool {
    b0 & 0x0f == 8 && (u16::from(b0) << 8 | u16::from(b1)) % 31 == 0
}

impl ContentDecoder {
    /// A decoder for a body encoded with `coding`.
    pub fn new(coding: Coding) -> Self {
        let out = Vec::new;
        let inner = match coding {
            Coding::Gzip => Inner::Gzip(GzDecoder::new(out())),
            Coding::Deflate => Inner::Undecided(Vec::new()),
            Coding::Br => Inner::Br(Box::new(brotli_decompressor::DecompressorWriter::new(
                out(),
                4096,
            ))),
            Coding::Zstd => match zstd::stream::write::Decoder::new(out()) {
                Ok(d) => Inner::Zstd(Box::new(d)),
                Err(e) => Inner::Broken(format!("cannot start a zstd decoder: {e}")),
            },
        };
        ContentDecoder { coding, inner }
    }

    /// The coding being decoded.
    pub fn coding(&self) -> Coding {
        self.coding
    }

    /// Decodes `input` (the next bytes of the body) and appends what it decodes to (`out`). An
    /// error says the body is not valid in its coding.
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        if let Inner::Undecided(head) = &mut self.inner {
            head.extend_from_slice(input);
            let [b0, b1, ..] = head[..] else {
                return Ok(());
            };
            let head = std::mem::take(head);
            self.inner = if is_zlib_header(b0, b1) {
                Inner::Zlib(ZlibDecoder::new(Vec::new()))
            } else {
                Inner::Raw(DeflateDecoder::new(Vec::new()))
            };
            return self.feed(&head, out);
        }
        let coding = self.coding;
        let bad = |e: std::io::Error| format!("the {coding} body cannot be decoded: {e}");
        // `flush` hands over everything decodable so far, so an event is never held back.
        let sink = match &mut self.inner {
            Inner::Gzip(d) => {
                d.write_all(input).and_then(|()| d.flush()).map_err(bad)?;
                d.get_mut()
            }
            Inner::Zlib(d) => {
                d.write_all(input).and_then(|()| d.flush()).map_err(bad)?;
                d.get_mut()
            }
            Inner::Raw(d) => {
                d.write_all(input).and_then(|()| d.flush()).map_err(bad)?;
                d.get_mut()
            }
            Inner::Br(d) => {
                d.write_all(input).and_then(|()| d.flush()).map_err(bad)?;
                d.get_mut()
            }
            Inner::Zstd(d) => {
                d.write_all(input).and_then(|()| d.flush()).map_err(bad)?;
                d.get_mut()
            }
            Inner::Broken(why) => return Err(why.clone()),
            Inner::Undecided(_) => return Ok(()),
        };
        out.append(sink);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use proptest::prelude::*;

    const EVENTS: &str = ": hello\n\nid: 1\nevent: tick\ndata: {\"seq\":1}\n\nid: 2\nevent: tick\ndata: {\"seq\":2}\n\n";

    fn gzip(parts: &[&str]) -> Vec<Vec<u8>> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
        let mut chunks = Vec::new();
        for p in parts {
            e.write_all(p.as_bytes()).expect("write");
            e.flush().expect("sync flush");
            chunks.push(std::mem::take(e.get_mut()));
        }
        chunks.push(e.finish().expect("trailer"));
        chunks
    }

    fn decode(coding: Coding, chunks: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, String> {
        let mut d = ContentDecoder::new(coding);
        chunks
            .iter()
            .map(|c| {
                let mut out = Vec::new();
                d.feed(c, &mut out).map(|()| out)
            })
            .collect()
    }

    #[test]
    fn each_flushed_gzip_chunk_decodes_to_its_events_at_once() {
        let parts = [
            ": hello\n\n",
            "id: 1\ndata: one\n\n",
            "id: 2\ndata: two\n\n",
        ];
        let decoded = decode(Coding::Gzip, &gzip(&parts)).expect("valid gzip");
        assert_eq!(decoded.len(), 4);
        for (got, want) in decoded.iter().zip(parts) {
            assert_eq!(got, want.as_bytes());
        }
        assert!(decoded[3].is_empty(), "the trailer decodes to nothing");
    }

    #[test]
    fn deflate_is_zlib_or_raw() {
        for zlib in [true, false] {
            let body = if zlib {
                let mut e = flate2::write::ZlibEncoder::new(Vec::new(), Compression::fast());
                e.write_all(EVENTS.as_bytes()).expect("write");
                e.finish().expect("finish")
            } else {
                let mut e = flate2::write::DeflateEncoder::new(Vec::new(), Compression::fast());
                e.write_all(EVENTS.as_bytes()).expect("write");
                e.finish().expect("finish")
            };
            // One byte at a time: the first call cannot yet tell zlib from raw.
            let chunks: Vec<Vec<u8>> = body.iter().map(|b| vec![*b]).collect();
            let decoded = decode(Coding::Deflate, &chunks).expect("valid").concat();
            assert_eq!(decoded, EVENTS.as_bytes(), "zlib {zlib}");
        }
    }

    /// `EVENTS` compressed by Node 20's `zlib.brotliCompressSync`, an independent encoder.
    const EVENTS_BR: [u8; 62] = [
        0x1b, 0x4e, 0x00, 0xa0, 0x9c, 0x05, 0x76, 0x33, 0x75, 0x81, 0x6b, 0x37, 0xae, 0xc6, 0xc1,
        0x5f, 0x09, 0xa1, 0x56, 0xd0, 0x11, 0x89, 0x9b, 0x20, 0x69, 0x73, 0x19, 0x23, 0xb3, 0x97,
        0x7d, 0x65, 0x64, 0xb0, 0x01, 0x07, 0x20, 0x31, 0xbd, 0x0d, 0xb8, 0xe8, 0xae, 0xf7, 0x86,
        0x23, 0x52, 0x71, 0x3f, 0x6b, 0xa8, 0x60, 0x25, 0xb5, 0x04, 0x78, 0x79, 0xff, 0x05, 0x01,
        0x6b, 0x00,
    ];

    #[test]
    fn brotli_decodes_in_any_pieces() {
        for step in [1, 7, EVENTS_BR.len()] {
            let chunks: Vec<Vec<u8>> = EVENTS_BR.chunks(step).map(<[u8]>::to_vec).collect();
            let decoded = decode(Coding::Br, &chunks).expect("valid br").concat();
            assert_eq!(decoded, EVENTS.as_bytes(), "step {step}");
        }
        let e = decode(Coding::Br, &[vec![0xff; 8]]).expect_err("not brotli");
        assert!(e.contains("br body cannot be decoded"), "{e}");
    }

    #[test]
    fn zstd_decodes_each_flushed_frame_part_at_once() {
        let mut e = zstd::stream::write::Encoder::new(Vec::new(), 3).expect("encoder");
        let mut chunks = Vec::new();
        for part in [EVENTS, EVENTS] {
            e.write_all(part.as_bytes()).expect("write");
            e.flush().expect("flush");
            chunks.push(std::mem::take(e.get_mut()));
        }
        chunks.push(e.finish().expect("end"));
        let decoded = decode(Coding::Zstd, &chunks).expect("valid zstd");
        assert_eq!(
            decoded[0],
            EVENTS.as_bytes(),
            "the first part, before the frame ends"
        );
        assert_eq!(decoded.concat(), [EVENTS, EVENTS].concat().into_bytes());
        let e = decode(Coding::Zstd, &[b"not zstd at all".to_vec()]).expect_err("bad magic");
        assert!(e.contains("zstd body cannot be decoded"), "{e}");
    }

    #[test]
    fn headers_name_one_coding() {
        assert_eq!(Coding::from_header(""), Ok(None));
        assert_eq!(Coding::from_header("identity"), Ok(None));
        assert_eq!(Coding::from_header("GZIP"), Ok(Some(Coding::Gzip)));
        assert_eq!(Coding::from_header("x-gzip"), Ok(Some(Coding::Gzip)));
        assert_eq!(Coding::from_header(" br "), Ok(Some(Coding::Br)));
        let e = Coding::from_header("compress").expect_err("unsupported");
        assert!(e.starts_with("Content-Encoding: compress"), "{e}");
        assert!(Coding::from_header("gzip, br").is_err());
    }

    #[test]
    fn corrupt_gzip_is_an_error() {
        let e = decode(Coding::Gzip, &[b"not gzip at all".to_vec()]).expect_err("corrupt");
        assert!(e.contains("gzip body cannot be decoded"), "{e}");
    }

    proptest! {
        #[test]
        fn any_split_of_a_gzip_body_decodes_to_the_same_bytes(
            cuts in proptest::collection::vec(0usize..400, 0..10),
        ) {
            let body = gzip(&[EVENTS, EVENTS]).concat();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (body.len() + 1)).collect();
            cuts.sort_unstable();
            cuts.push(body.len());
            let mut chunks = Vec::new();
            let mut at = 0;
            for c in cuts {
                chunks.push(body[at..c.max(at)].to_vec());
                at = c.max(at);
            }
            let decoded = decode(Coding::Gzip, &chunks).expect("valid").concat();
            prop_assert_eq!(decoded, [EVENTS, EVENTS].concat().into_bytes());
        }
    }
}
