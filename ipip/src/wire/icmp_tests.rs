use super::*;
use crate::wire::fixtures::{FRAG_NEEDED_1380, INNER_ECHO};

#[test]
fn test_emit() {
    let repr = FragNeededRepr::about(&INNER_ECHO, 1380).expect("an echo may get an error");
    assert_eq!(repr.buffer_len(), FRAG_NEEDED_1380.len());
    assert_eq!(repr.to_bytes(), FRAG_NEEDED_1380);
}

#[test]
fn test_parse() {
    let repr = FragNeededRepr::parse(&FRAG_NEEDED_1380).expect("valid message");
    assert_eq!(repr.next_hop_mtu, 1380);
    assert_eq!(repr.original, &INNER_ECHO[..]);
}

#[test]
fn parse_rejects_bad_checksum_and_other_types() {
    let mut corrupt = FRAG_NEEDED_1380;
    corrupt[7] ^= 1;
    assert!(matches!(
        FragNeededRepr::parse(&corrupt),
        Err(WireError::BadChecksum { .. })
    ));
    let mut echo_reply = FRAG_NEEDED_1380;
    echo_reply[0] = 0;
    assert!(matches!(
        FragNeededRepr::parse(&echo_reply),
        Err(WireError::UnexpectedIcmp { icmp_type: 0, .. })
    ));
    assert!(matches!(
        FragNeededRepr::parse(&FRAG_NEEDED_1380[..7]),
        Err(WireError::Truncated { .. })
    ));
}

#[test]
fn original_is_cut_to_548_bytes() {
    let mut big = vec![0u8; 1480];
    big[..20].copy_from_slice(&INNER_ECHO[..20]);
    big[2..4].copy_from_slice(&1480u16.to_be_bytes());
    big[20] = 8; // echo request
    let repr = FragNeededRepr::about(&big, 1380).expect("echo may get an error");
    assert_eq!(repr.original.len(), 548);
    assert_eq!(repr.buffer_len(), 556);
}

#[test]
fn no_error_about_errors_fragments_or_multicast_sources() {
    let mut icmp_error = INNER_ECHO;
    icmp_error[20] = 3;
    assert_eq!(FragNeededRepr::about(&icmp_error, 1380), None);
    let mut fragment = INNER_ECHO;
    fragment[7] = 0x10;
    assert_eq!(FragNeededRepr::about(&fragment, 1380), None);
    let mut multicast = INNER_ECHO;
    multicast[12] = 224;
    assert_eq!(FragNeededRepr::about(&multicast, 1380), None);
}
