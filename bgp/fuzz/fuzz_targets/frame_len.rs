//! Stream framing: cut a buffer into messages with `frame_len` and decode each.
#![no_main]

use bgp::packet::{CodecContext, Message, frame_len};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok(Some(len)) = frame_len(rest) {
        let Some((frame, tail)) = rest.split_at_checked(len) else { break };
        let _ = Message::decode(frame, &CodecContext::FOUR_OCTET_AS);
        rest = tail;
    }
});
