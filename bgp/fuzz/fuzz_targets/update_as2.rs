//! UPDATE body decode from a 2-octet AS speaker (AS_TRANS, AS4_PATH merging), and encoding
//! back for a 2-octet speaker.
#![no_main]

use bgp::packet::{CodecContext, Decode, Encode, Update};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = CodecContext::TWO_OCTET_AS;
    let Ok(update) = Update::decode(data, &ctx) else { return };
    let mut buf = BytesMut::new();
    update.encode(&ctx, &mut buf);
    assert_eq!(buf.len(), update.encoded_len(&ctx));
    // The AS4 merge may legitimately change the path (RFC 6793 §4.2.3); it must not fail.
    let _ = Update::decode(&buf, &ctx);
});
