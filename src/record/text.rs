//! [`Text`]: the immutable UTF-8 text of a record (an SSE event's type, data and id, a comment, a
//! WebSocket text payload), stored in [`bytes::Bytes`] so a clone costs a reference count, not an
//! allocation.
//!
//! The parsers build texts as slices of one arena per read (`bytes::BytesMut`, split off as each
//! event or message completes), so the headless path allocates per read, not per record; the last
//! event id repeated on every event is one `Text` cloned. A slice keeps its whole arena block
//! alive: whoever keeps a record for long (the dashboard's store) keeps a
//! [`detached`](Text::detached) copy instead. Built on actix's `bytestring` (a `str` view of
//! `Bytes`, checked once when built), since `unsafe` is forbidden in this crate.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;

/// Immutable UTF-8 text, cheap to clone; derefs to `str`. See the module docs.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Text(ByteString);

impl Text {
    /// The empty text.
    pub const fn new() -> Text {
        Text(ByteString::new())
    }

    /// A text pointing at static data: no allocation, ever.
    pub const fn from_static(s: &'static str) -> Text {
        Text(ByteString::from_static(s))
    }

    /// The bytes as text, sharing them when they are UTF-8; otherwise a copy with every invalid
    /// sequence replaced by U+FFFD (as [`String::from_utf8_lossy`]).
    pub fn from_utf8_lossy(bytes: Bytes) -> Text {
        match Text::from_utf8(bytes) {
            Ok(t) => t,
            Err((bytes, _)) => Text::from(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }

    /// The bytes as text when they are UTF-8 (shared, not copied); `Err` gives them back.
    pub fn from_utf8(bytes: Bytes) -> Result<Text, (Bytes, std::str::Utf8Error)> {
        // Checked here and again by `ByteString` (which drops the bytes when its check fails):
        // a second handle on them instead would cost two atomic reference-count updates on the
        // block the texts share, which the thread dropping the records also updates (the cache
        // line travels between cores: dearer than checking a short text twice).
        match std::str::from_utf8(&bytes) {
            // Cannot fail: the same bytes were just checked.
            Ok(_) => Ok(ByteString::try_from(bytes).map(Text).unwrap_or_default()),
            Err(e) => Err((bytes, e)),
        }
    }

    /// The longest prefix of `bytes` that is UTF-8, as a text sharing them (all of them unless a
    /// character is invalid or cut at the end). Checked once when they are valid.
    pub fn valid_prefix(bytes: &Bytes) -> Text {
        match ByteString::try_from(bytes.clone()) {
            Ok(s) => Text(s),
            Err(e) => ByteString::try_from(bytes.slice(..e.valid_up_to()))
                .map(Text)
                .unwrap_or_default(),
        }
    }

    /// The part of the text at byte `range`, sharing its bytes; `None` when the range is out of
    /// bounds or does not fall on character boundaries.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Option<Text> {
        let part = self.as_str().get(range)?;
        Some(Text(self.0.slice_ref(part)))
    }

    /// The text as a `str`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The shared bytes behind the text.
    pub fn as_bytes(&self) -> &Bytes {
        self.0.as_bytes()
    }

    /// A copy in its own allocation, for a record kept for long: a text sliced out of a read's
    /// arena would keep the whole arena block alive. The empty text allocates nothing.
    #[must_use]
    pub fn detached(&self) -> Text {
        if self.is_empty() {
            Text::new()
        } else {
            Text::from(self.as_str())
        }
    }
}

impl Deref for Text {
    type Target = str;

    #[inline]
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text {
    fn as_ref(&self) -> &str {
        self
    }
}

impl AsRef<[u8]> for Text {
    fn as_ref(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

impl Borrow<str> for Text {
    fn borrow(&self) -> &str {
        self
    }
}

impl fmt::Debug for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Text {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text(ByteString::from(s))
    }
}

/// A copy of the text (use [`Text::from_static`] for static text that should not be copied).
impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text(ByteString::from(s))
    }
}

impl From<&String> for Text {
    fn from(s: &String) -> Text {
        Text::from(s.as_str())
    }
}

impl From<Cow<'_, str>> for Text {
    fn from(s: Cow<'_, str>) -> Text {
        match s {
            Cow::Borrowed(s) => Text::from(s),
            Cow::Owned(s) => Text::from(s),
        }
    }
}

impl From<Text> for String {
    fn from(t: Text) -> String {
        String::from(t.0)
    }
}

impl PartialEq<str> for Text {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Text {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Text {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<Text> for str {
    fn eq(&self, other: &Text) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Text> for &str {
    fn eq(&self, other: &Text) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Text> for String {
    fn eq(&self, other: &Text) -> bool {
        self.as_str() == other.as_str()
    }
}

/// Where a parser puts the text of the records it builds: one block of memory that each text is
/// split off as it completes, so building a record allocates nothing until the block is full
/// (then a new one, or the same one again once every record of it has been dropped). See the
/// module docs.
#[derive(Debug)]
pub(crate) struct Arena {
    buf: BytesMut,
    /// The size of a new block.
    block: usize,
}

impl Arena {
    /// An arena of `block`-byte blocks; allocates nothing until used.
    pub(crate) fn new(block: usize) -> Arena {
        Arena {
            buf: BytesMut::new(),
            block,
        }
    }

    /// Bytes appended and not yet taken.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// True when nothing is pending.
    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The size of the current block.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// Drops what is pending (the block is kept).
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.let_go_of_large_block();
    }

    /// Appends `bytes` to what is pending, in a new block when this one has no room.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        let spare = self.buf.capacity() - self.buf.len();
        if spare < bytes.len() {
            self.new_block(bytes.len());
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Moves what is pending to a new block with room for `more` bytes: a block, or twice what
    /// is pending for a text that outgrows one (so a large message is copied O(1) times per
    /// byte). Always a new allocation of a known size: `BytesMut::reserve` would grow the old
    /// block in place once no text of it is left (doubling it each time), or allocate only what
    /// is asked for.
    fn new_block(&mut self, more: usize) {
        let pending = self.buf.len();
        let size = self.block.max(pending + more).max(2 * pending);
        let mut block = BytesMut::with_capacity(size);
        block.extend_from_slice(&self.buf);
        self.buf = block;
    }

    /// Takes the first `n` pending bytes (all of them when `n` is larger), shared, not copied.
    pub(crate) fn take(&mut self, n: usize) -> Bytes {
        let taken = self.buf.split_to(n.min(self.buf.len())).freeze();
        self.let_go_of_large_block();
        taken
    }

    /// After a text larger than a block (a 40 MiB WebSocket message grows its buffer to 64 MiB),
    /// the rest of that buffer is not kept for the next texts: they would keep all of it alive.
    fn let_go_of_large_block(&mut self) {
        if self.buf.is_empty() && self.buf.capacity() > 2 * self.block {
            self.buf = BytesMut::new();
        }
    }

    /// `bytes` as a text in the arena (invalid UTF-8 replaced, as [`Text::from_utf8_lossy`]).
    /// Whatever was pending is taken with it: call only with nothing pending.
    pub(crate) fn text(&mut self, bytes: &[u8]) -> Text {
        if bytes.is_empty() {
            return Text::new();
        }
        self.push(bytes);
        Text::from_utf8_lossy(self.take(usize::MAX))
    }
}

impl serde::Serialize for Text {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_reads_as_its_str() {
        let t = Text::from("héllo".to_owned());
        assert_eq!(t, "héllo");
        assert_eq!(t.len(), 6);
        assert_eq!(format!("{t} {t:?}"), "héllo \"héllo\"");
        assert_eq!(String::from(t.clone()), "héllo");
        assert_eq!(Text::from_static("message"), Text::from("message"));
        assert_eq!(serde_json::to_string(&t).expect("serializes"), "\"héllo\"");
    }

    #[test]
    fn invalid_utf8_is_replaced_or_refused() {
        let bad = Bytes::from_static(b"a\xffb\xe2\x82");
        assert_eq!(Text::from_utf8_lossy(bad.clone()), "a\u{fffd}b\u{fffd}");
        let (back, e) = Text::from_utf8(bad.clone()).expect_err("not UTF-8");
        assert_eq!((back, e.valid_up_to()), (bad, 1));
        let good = Bytes::from_static("é".as_bytes());
        assert_eq!(Text::from_utf8(good).expect("UTF-8"), "é");
    }

    #[test]
    fn arena_texts_share_one_block_until_it_is_full() {
        let mut arena = Arena::new(64);
        let a = arena.text(b"first");
        let b = arena.text(b"second");
        assert_eq!((a.as_str(), b.as_str()), ("first", "second"));
        // Adjacent in the same block.
        assert_eq!(a.as_bytes().as_ptr_range().end, b.as_bytes().as_ptr());
        assert_eq!(arena.text(b""), "");
        let big = arena.text(&[b'x'; 100]);
        assert_eq!(big.len(), 100);
        assert!(
            !b.as_bytes()
                .as_ptr_range()
                .contains(&big.as_bytes().as_ptr())
        );
        // A text larger than a block does not leave the rest of its buffer to the next ones.
        let mut small = Arena::new(16);
        small.push(&[b'y'; 1000]);
        small.push(&[b'y'; 600]); // grows the buffer by doubling, past what is used
        assert!(small.capacity() > 1600 + 32, "{}", small.capacity());
        assert_eq!(small.take(usize::MAX).len(), 1600);
        assert!(small.capacity() <= 32, "{}", small.capacity());
        // Pending bytes are taken by count; what is left stays pending.
        arena.push(b"data\n");
        assert_eq!(arena.take(4), "data".as_bytes());
        assert_eq!(arena.len(), 1);
        arena.clear();
        assert!(arena.is_empty());
    }

    #[test]
    fn a_detached_copy_does_not_share_the_block() {
        let mut arena = Arena::new(4096);
        let t = arena.text(b"kept for long");
        let d = t.detached();
        assert_eq!(d, t);
        assert_ne!(d.as_bytes().as_ptr(), t.as_bytes().as_ptr());
        assert!(Text::new().detached().is_empty());
    }
}
