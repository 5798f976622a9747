//! Whole-message decode (header included) under both AS contexts; a clean 4-octet UPDATE or
//! any other message must survive encode → decode unchanged.
#![no_main]

use bgp::packet::{CodecContext, Message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = bgp::packet::frame_len(data);
    let _ = Message::decode(data, &CodecContext::TWO_OCTET_AS);
    let ctx = CodecContext::FOUR_OCTET_AS;
    let Ok(message) = Message::decode(data, &ctx) else { return };
    if let Message::Update(update) = &message {
        if !update.errors.is_empty() {
            return;
        }
    }
    let Ok(bytes) = message.to_bytes(&ctx) else { return };
    let again = Message::decode(&bytes, &ctx).expect("re-encoded message decodes");
    assert_eq!(again, message, "round trip");
});
