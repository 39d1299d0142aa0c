//! Fuzzes the SSE parser: arbitrary bytes, fed whole and in pieces chosen by the input itself.
//! Checks: no panic; the same items (content) whatever the split; every byte accounted for.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamscope::protocol::sse::{SseItem, SseParser};

fn content(items: &[SseItem]) -> Vec<(String, String, Option<String>)> {
    items
        .iter()
        .map(|i| match i {
            SseItem::Event { event, data, id, .. } => (event.to_string(), data.clone(), id.clone()),
            SseItem::Comment { text, .. } => (":".to_owned(), text.clone(), None),
        })
        .collect()
}

fuzz_target!(|input: &[u8]| {
    let Some((&seed, bytes)) = input.split_first() else {
        return;
    };
    let mut whole = SseParser::new();
    let mut a = Vec::new();
    whole.feed(bytes, &mut a);
    let rest_a = whole.finish().unwrap_or(0);

    let mut split = SseParser::new();
    let mut b = Vec::new();
    let step = usize::from(seed % 17) + 1;
    for piece in bytes.chunks(step) {
        split.feed(piece, &mut b);
    }
    let rest_b = split.finish().unwrap_or(0);

    assert_eq!(content(&a), content(&b));
    let total_a: u64 = a.iter().map(SseItem::wire_bytes).sum::<u64>() + rest_a;
    let total_b: u64 = b.iter().map(SseItem::wire_bytes).sum::<u64>() + rest_b;
    assert_eq!(total_a, bytes.len() as u64);
    assert_eq!(total_b, bytes.len() as u64);
    assert_eq!(whole.last_event_id(), split.last_event_id());
    assert_eq!(whole.retry_ms(), split.retry_ms());
});
