//! Fuzzes the permessage-deflate receive path: arbitrary server bytes decoded into frames, the
//! compressed messages inflated with context takeover (or without, by the seed), as the client
//! does. Checks: no panic; the same messages and the same error whatever the split; no message
//! inflates past the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use streamscope::protocol::deflate::{DeflateParams, Inflater, decoded_payload};
use streamscope::protocol::ws::{Decoder, WsItem};
use streamscope::record::Payload;

const LIMIT: usize = 64 * 1024;

fn receive(bytes: &[u8], step: usize, params: &DeflateParams) -> (Vec<Payload>, Option<String>) {
    let mut d = Decoder::new(LIMIT);
    d.set_allow_rsv1(true);
    let mut inflater = Inflater::new(params);
    let mut out = Vec::new();
    for piece in bytes.chunks(step.max(1)) {
        d.feed(piece);
        while let Some(item) = d.next_item() {
            let message = match item {
                Ok(WsItem::Message {
                    opcode,
                    data,
                    compressed: true,
                    ..
                }) => inflater
                    .inflate(data.as_bytes().to_vec(), LIMIT)
                    .and_then(|raw| decoded_payload(opcode, raw)),
                Ok(WsItem::Message { data, .. }) => Ok(data),
                Ok(_) => continue,
                Err(e) => Err(e),
            };
            match message {
                Ok(p) => {
                    assert!(p.len() <= LIMIT);
                    out.push(p);
                }
                Err(e) => return (out, Some(format!("{} {}", e.close_code, e.message))),
            }
        }
    }
    (out, None)
}

fuzz_target!(|input: &[u8]| {
    let Some((&seed, bytes)) = input.split_first() else {
        return;
    };
    let params = DeflateParams {
        server_no_context_takeover: seed & 0x80 != 0,
        ..DeflateParams::default()
    };
    let whole = receive(bytes, bytes.len(), &params);
    let split = receive(bytes, usize::from(seed % 13) + 1, &params);
    assert_eq!(whole, split);
});
