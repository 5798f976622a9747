//! UPDATE body decode between 4-octet speakers; a clean UPDATE survives encode → decode.
#![no_main]

use bgp::packet::{CodecContext, Decode, Encode, Update};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = CodecContext::FOUR_OCTET_AS;
    let Ok(update) = Update::decode(data, &ctx) else { return };
    let _ = update.treat_as_withdraw();
    let _ = update.end_of_rib_family();
    let _ = update.attributes.for_readvertisement();
    if !update.errors.is_empty() {
        return;
    }
    let mut buf = BytesMut::new();
    update.encode(&ctx, &mut buf);
    assert_eq!(buf.len(), update.encoded_len(&ctx));
    let again = Update::decode(&buf, &ctx).expect("re-encoded UPDATE decodes");
    assert_eq!(again, update, "round trip");
});
