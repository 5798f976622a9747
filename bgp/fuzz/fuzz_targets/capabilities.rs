//! OPEN optional parameters → capabilities.
#![no_main]

use bgp::packet::decode_optional_parameters;
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(capabilities) = decode_optional_parameters(data) else { return };
    let mut buf = BytesMut::new();
    for capability in &capabilities {
        capability.encode(&mut buf);
    }
});
