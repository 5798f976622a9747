//! RouteRefresh body decode (the bytes after the header); a decoded value re-encodes and decodes equal.
#![no_main]

use bgp::packet::{CodecContext, Decode, Encode, RouteRefresh};
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let ctx = CodecContext::FOUR_OCTET_AS;
    let Ok(value) = RouteRefresh::decode(data, &ctx) else { return };
    let mut buf = BytesMut::new();
    value.encode(&ctx, &mut buf);
    assert_eq!(buf.len(), value.encoded_len(&ctx));
    let again = RouteRefresh::decode(&buf, &ctx).expect("re-encoded body decodes");
    assert_eq!(again, value, "round trip");
});
