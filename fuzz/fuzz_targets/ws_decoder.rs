//! Fuzzes the WebSocket frame decoder: arbitrary bytes fed whole and in pieces. Checks: no panic;
//! the same items and the same error whatever the split; wire bytes never exceed what was fed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamscope::protocol::ws::{Decoder, WsItem};

fn decode(bytes: &[u8], step: usize, max: usize, rsv1: bool) -> (Vec<WsItem>, Option<String>, u64) {
    let mut d = Decoder::new(max);
    d.set_allow_rsv1(rsv1);
    let mut items = Vec::new();
    let mut error = None;
    for piece in bytes.chunks(step.max(1)) {
        d.feed(piece);
        while let Some(item) = d.next_item() {
            match item {
                Ok(i) => items.push(i),
                Err(e) => error = Some(format!("{} {}", e.close_code, e.message)),
            }
        }
    }
    if error.is_none() {
        error = d.at_eof().map(|e| format!("{} {}", e.close_code, e.message));
    }
    let wire = items.iter().map(WsItem::wire_bytes).sum();
    (items, error, wire)
}

fuzz_target!(|input: &[u8]| {
    let Some((&seed, bytes)) = input.split_first() else {
        return;
    };
    let max = if seed & 0x80 != 0 { 300 } else { 1 << 20 };
    let rsv1 = seed & 0x40 != 0;
    let (a, ea, wa) = decode(bytes, bytes.len(), max, rsv1);
    let (b, eb, wb) = decode(bytes, usize::from(seed % 13) + 1, max, rsv1);
    assert_eq!(a, b);
    assert_eq!(ea, eb);
    assert_eq!(wa, wb);
    assert!(wa <= bytes.len() as u64);
});
