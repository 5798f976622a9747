//! MRT records from arbitrary bytes, and the BGP messages inside them.
#![no_main]

use bgp::mrt::{MrtReader, MrtRecord};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for record in MrtReader::new(data).take(1000) {
        match record {
            Ok(MrtRecord::Message(message)) => {
                let _ = message.decode();
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
});
