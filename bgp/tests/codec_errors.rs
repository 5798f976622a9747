//! Malformed input: header errors (RFC 4271 §6.1), OPEN and ROUTE-REFRESH errors, and each
//! RFC 7606 action for UPDATE (session reset, treat-as-withdraw, attribute discard), with the
//! field and offset every error names.

mod common;

use bgp::packet::error::{header_subcode, open_subcode, update_subcode};
use bgp::packet::{
    AsPath, CodecContext, Community, DecodeError, ErrorAction, ErrorReason, Message, Notification,
    NotificationCode, Origin, Update, frame_len,
};
use common::{frame, hex, update_body};

const FOUR: CodecContext = CodecContext::FOUR_OCTET_AS;
const TWO: CodecContext = CodecContext::TWO_OCTET_AS;

/// Attributes that make NLRI acceptable: ORIGIN, AS_PATH (65001), NEXT_HOP.
const GOOD: &str = "40 01 01 00  40 02 06 02 01 0000fde9  40 03 04 c6120001";
const NLRI: &str = "18 c63364";

fn reset(code: NotificationCode, subcode: u8, data: &[u8]) -> ErrorAction {
    ErrorAction::SessionReset {
        code,
        subcode,
        data: data.to_vec(),
    }
}

fn decode_update(attributes: &str, nlri: &str, ctx: &CodecContext) -> Result<Update, DecodeError> {
    let bytes = frame(2, &update_body(&[], &hex(attributes), &hex(nlri)));
    match Message::decode(&bytes, ctx)? {
        Message::Update(update) => Ok(update),
        other => panic!("not an UPDATE: {other:?}"),
    }
}

/// The UPDATE decodes (no session reset) and carries exactly one error with this action.
fn single_error(attributes: &str, ctx: &CodecContext) -> (Update, DecodeError) {
    let update = decode_update(attributes, NLRI, ctx).expect("non-fatal error");
    assert_eq!(update.errors.len(), 1, "errors: {:?}", update.errors);
    let error = update.errors[0].clone();
    (update, error)
}

fn assert_treat_as_withdraw(attributes: &str, field: &str) -> DecodeError {
    let (update, error) = single_error(attributes, &FOUR);
    assert_eq!(error.action, ErrorAction::TreatAsWithdraw, "{error}");
    assert_eq!(error.field, field);
    assert!(update.treat_as_withdraw());
    // The prefixes are still known, so the session can withdraw them.
    assert_eq!(update.announced().count(), 1);
    error
}

fn assert_discarded(attributes: &str, ctx: &CodecContext, field: &str) -> Update {
    let (update, error) = single_error(attributes, ctx);
    assert_eq!(error.action, ErrorAction::AttributeDiscard, "{error}");
    assert_eq!(error.field, field);
    assert!(!update.treat_as_withdraw());
    update
}

// ---- header (RFC 4271 §6.1) ----------------------------------------------------------------

#[test]
fn bad_marker_is_connection_not_synchronized() {
    let bytes = hex("ffffffffffffffffffffffffffff00ff 0013 04");
    let error = frame_len(&bytes).unwrap_err();
    assert_eq!(
        error.action,
        reset(
            NotificationCode::MessageHeader,
            header_subcode::CONNECTION_NOT_SYNCHRONIZED,
            &[]
        )
    );
    assert_eq!(error.offset, 0);
}

#[test]
fn bad_lengths_are_bad_message_length_with_the_length_as_data() {
    for (length, kind) in [
        ("0012", "04"),
        ("1001", "02"),
        ("0014", "04"),
        ("001c", "01"),
        ("0016", "02"),
        ("0014", "03"),
    ] {
        let bytes = hex(&format!("ffffffffffffffffffffffffffffffff {length} {kind}"));
        let error = frame_len(&bytes).unwrap_err();
        let data = hex(length);
        assert_eq!(
            error.action,
            reset(
                NotificationCode::MessageHeader,
                header_subcode::BAD_MESSAGE_LENGTH,
                &data
            ),
            "length {length} type {kind}"
        );
        assert_eq!((error.field, error.offset), ("header length", 16));
    }
}

#[test]
fn unknown_type_is_bad_message_type_with_the_type_as_data() {
    let bytes = hex("ffffffffffffffffffffffffffffffff 0013 07");
    let error = frame_len(&bytes).unwrap_err();
    assert_eq!(
        error.action,
        reset(
            NotificationCode::MessageHeader,
            header_subcode::BAD_MESSAGE_TYPE,
            &[7]
        )
    );
    assert_eq!(error.offset, 18);
}

#[test]
fn frame_shorter_than_its_length_field_is_rejected() {
    let bytes = hex("ffffffffffffffffffffffffffffffff 0017 05 0001 00");
    let error = Message::decode(&bytes, &FOUR).unwrap_err();
    assert!(matches!(
        error.action,
        ErrorAction::SessionReset {
            code: NotificationCode::MessageHeader,
            subcode: 2,
            ..
        }
    ));
}

// ---- OPEN and ROUTE-REFRESH ------------------------------------------------------------------

#[test]
fn open_parameters_length_mismatch_is_an_open_error() {
    let bytes = hex("ffffffffffffffffffffffffffffffff 001f 01 04 fde9 005a c0000201 03 02 00");
    let error = Message::decode(&bytes, &FOUR).unwrap_err();
    assert_eq!(
        error.action,
        reset(NotificationCode::OpenMessage, open_subcode::UNSPECIFIC, &[])
    );
    assert_eq!(
        (error.field, error.offset),
        ("OPEN optional parameters length", 28)
    );
}

#[test]
fn open_unknown_optional_parameter_is_unsupported_optional_parameter() {
    let bytes = hex("ffffffffffffffffffffffffffffffff 0021 01 04 fde9 005a c0000201 04 01 02 0000");
    let error = Message::decode(&bytes, &FOUR).unwrap_err();
    assert_eq!(
        error.action,
        reset(
            NotificationCode::OpenMessage,
            open_subcode::UNSUPPORTED_OPTIONAL_PARAMETER,
            &[]
        )
    );
    assert_eq!(error.offset, 29);
    assert_eq!(error.reason, ErrorReason::UnsupportedParameter(1));
}

#[test]
fn open_capability_overrunning_its_parameter_is_an_open_error() {
    let bytes =
        hex("ffffffffffffffffffffffffffffffff 0021 01 04 fde9 005a c0000201 04 02 02 41 04");
    let error = Message::decode(&bytes, &FOUR).unwrap_err();
    assert!(matches!(
        error.action,
        ErrorAction::SessionReset {
            code: NotificationCode::OpenMessage,
            ..
        }
    ));
    assert_eq!(error.field, "capability value");
}

#[test]
fn route_refresh_bad_length_sends_the_whole_message_back() {
    let bytes = hex("ffffffffffffffffffffffffffffffff 0018 05 0001 00 01 ff");
    let error = Message::decode(&bytes, &FOUR).unwrap_err();
    assert_eq!(
        error.action,
        reset(NotificationCode::RouteRefreshMessage, 1, &bytes)
    );
}

#[test]
fn fsm_notification_helpers_match_rfc_codes() {
    let cases = [
        (Notification::bad_peer_as(), 2, 2),
        (Notification::bad_bgp_identifier(), 2, 3),
        (Notification::unacceptable_hold_time(), 2, 6),
        (Notification::unsupported_version(4), 2, 1),
        (Notification::hold_timer_expired(), 4, 0),
        (Notification::fsm_error(1), 5, 1),
        (Notification::cease(4), 6, 4),
    ];
    for (notification, code, subcode) in cases {
        assert_eq!(
            (notification.code.value(), notification.subcode),
            (code, subcode)
        );
    }
    let error = frame_len(&hex("ffffffffffffffffffffffffffffffff 0013 09")).unwrap_err();
    let notification = Notification::from_error(&error).unwrap();
    assert_eq!(
        (
            notification.code,
            notification.subcode,
            notification.data.as_ref()
        ),
        (NotificationCode::MessageHeader, 3, &[9u8][..])
    );
}

// ---- UPDATE: session reset -------------------------------------------------------------------

#[test]
fn withdrawn_length_overrunning_the_message_is_malformed_attribute_list() {
    let bytes = frame(2, &hex("0010 18c63364 0000"));
    let error = Message::decode(&bytes, &FOUR).unwrap_err();
    assert_eq!(
        error.action,
        reset(
            NotificationCode::UpdateMessage,
            update_subcode::MALFORMED_ATTRIBUTE_LIST,
            &[]
        )
    );
    assert_eq!(error.offset, 21);
}

#[test]
fn attribute_length_overrunning_the_message_is_malformed_attribute_list() {
    let bytes = frame(2, &hex("0000 0020 40010100"));
    let error = Message::decode(&bytes, &FOUR).unwrap_err();
    assert_eq!(
        error.action,
        reset(
            NotificationCode::UpdateMessage,
            update_subcode::MALFORMED_ATTRIBUTE_LIST,
            &[]
        )
    );
}

#[test]
fn bad_prefix_length_in_nlri_is_invalid_network_field() {
    let error = decode_update(GOOD, "21 c6336400 00", &FOUR).unwrap_err();
    assert_eq!(
        error.action,
        reset(
            NotificationCode::UpdateMessage,
            update_subcode::INVALID_NETWORK_FIELD,
            &[]
        )
    );
    assert_eq!(error.reason, ErrorReason::BadPrefixLength(33));
    // 19 header + 2 + 2 + 20 bytes of attributes.
    assert_eq!((error.field, error.offset), ("UPDATE NLRI", 43));
}

#[test]
fn prefix_running_past_the_field_is_invalid_network_field() {
    let error = decode_update(GOOD, "18 c633", &FOUR).unwrap_err();
    assert!(matches!(
        error.action,
        ErrorAction::SessionReset { subcode: 10, .. }
    ));
    let bytes = frame(2, &hex("0002 19cb 0000"));
    let error = Message::decode(&bytes, &FOUR).unwrap_err();
    assert_eq!(error.field, "UPDATE withdrawn route");
}

#[test]
fn unrecognized_well_known_attribute_resets_with_the_attribute_as_data() {
    let error = decode_update(&format!("{GOOD} 40 63 02 abcd"), NLRI, &FOUR).unwrap_err();
    assert_eq!(
        error.action,
        reset(
            NotificationCode::UpdateMessage,
            update_subcode::UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
            &hex("40 63 02 abcd")
        )
    );
    assert_eq!(error.offset, 19 + 4 + 20 + 1);
}

#[test]
fn repeated_mp_reach_is_malformed_attribute_list() {
    let mp = "80 0e 1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001";
    let error = decode_update(&format!("{mp} {mp} 40 01 01 00 40 02 00"), "", &FOUR).unwrap_err();
    assert_eq!(
        error.action,
        reset(
            NotificationCode::UpdateMessage,
            update_subcode::MALFORMED_ATTRIBUTE_LIST,
            &[]
        )
    );
    assert_eq!(error.reason, ErrorReason::Duplicate);
}

#[test]
fn mp_reach_with_bad_next_hop_length_is_optional_attribute_error() {
    let attribute = "80 0e 0a 0002 01 05 0102030405 00";
    let error = decode_update(&format!("{attribute} 40 01 01 00 40 02 00"), "", &FOUR).unwrap_err();
    assert_eq!(
        error.action,
        reset(
            NotificationCode::UpdateMessage,
            update_subcode::OPTIONAL_ATTRIBUTE_ERROR,
            &hex(attribute)
        )
    );
    assert_eq!(
        (error.field, error.offset),
        ("MP_REACH_NLRI next hop length", 19 + 4 + 3 + 3)
    );
}

#[test]
fn mp_unreach_with_truncated_prefix_resets() {
    let error = decode_update("80 0f 05 0002 01 30 20", "", &FOUR).unwrap_err();
    assert!(matches!(
        error.action,
        ErrorAction::SessionReset { subcode: 9, .. }
    ));
}

// ---- UPDATE: treat-as-withdraw ---------------------------------------------------------------

#[test]
fn malformed_origin_is_treat_as_withdraw() {
    let error = assert_treat_as_withdraw(
        "40 01 01 03  40 02 06 02 01 0000fde9  40 03 04 c6120001",
        "ORIGIN",
    );
    assert_eq!(error.reason, ErrorReason::InvalidValue(3));
    assert_eq!(error.offset, 19 + 4 + 3);
    assert_treat_as_withdraw(
        "40 01 02 0000  40 02 06 02 01 0000fde9  40 03 04 c6120001",
        "ORIGIN",
    );
}

#[test]
fn malformed_as_path_is_treat_as_withdraw() {
    let tail = "40 01 01 00  40 03 04 c6120001";
    // Unknown segment type, zero segment length, overrun, a single leftover octet.
    for path in [
        "40 02 06 05 01 0000fde9",
        "40 02 02 02 00",
        "40 02 06 02 02 0000fde9",
        "40 02 07 02 01 0000fde9 02",
    ] {
        assert_treat_as_withdraw(&format!("{path} {tail}"), "AS_PATH");
    }
    // 2-octet ASNs read as 4-octet do not fit.
    let (_, error) = single_error(&format!("40 02 04 02 01 fde9 {tail}"), &FOUR);
    assert_eq!(error.action, ErrorAction::TreatAsWithdraw);
}

#[test]
fn wrong_length_fixed_size_attributes_are_treat_as_withdraw() {
    let cases = [
        ("40 03 05 c612000101", "NEXT_HOP"),
        ("80 04 03 000064", "MULTI_EXIT_DISC"),
        ("40 05 02 00c8", "LOCAL_PREF"),
        ("80 09 03 c61200", "ORIGINATOR_ID"),
    ];
    for (attribute, field) in cases {
        let base = if field == "NEXT_HOP" {
            "40 01 01 00  40 02 06 02 01 0000fde9"
        } else {
            GOOD
        };
        assert_treat_as_withdraw(&format!("{base} {attribute}"), field);
    }
}

#[test]
fn list_attributes_of_bad_length_are_treat_as_withdraw() {
    let cases = [
        ("c0 08 05 fde9006400", "COMMUNITIES"),
        ("c0 08 00", "COMMUNITIES"),
        ("80 0a 00", "CLUSTER_LIST"),
        ("80 0a 06 c6120003 0000", "CLUSTER_LIST"),
        ("c0 10 07 0002fde9000000", "EXTENDED COMMUNITIES"),
        ("c0 20 0b 0000fde9 00000001 000000", "LARGE_COMMUNITY"),
    ];
    for (attribute, field) in cases {
        assert_treat_as_withdraw(&format!("{GOOD} {attribute}"), field);
    }
}

#[test]
fn conflicting_flags_are_treat_as_withdraw() {
    // ORIGIN marked optional; MED marked transitive.
    assert_treat_as_withdraw(
        "c0 01 01 00  40 02 06 02 01 0000fde9  40 03 04 c6120001",
        "ORIGIN",
    );
    let error = assert_treat_as_withdraw(&format!("{GOOD} c0 04 04 00000064"), "MULTI_EXIT_DISC");
    assert_eq!(error.reason, ErrorReason::BadFlags(0xc0));
}

#[test]
fn mp_reach_with_conflicting_flags_is_still_parsed_for_withdrawal() {
    let attributes = "c0 0e 1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001 40 01 01 00 40 02 00";
    let update = decode_update(attributes, "", &FOUR).unwrap();
    assert!(update.treat_as_withdraw());
    assert_eq!(update.announced().count(), 1);
}

#[test]
fn missing_mandatory_attributes_with_nlri_are_treat_as_withdraw() {
    let update = decode_update("40 03 04 c6120001", NLRI, &FOUR).unwrap();
    let fields: Vec<_> = update
        .errors
        .iter()
        .map(|e| (e.field, e.reason.clone()))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("ORIGIN", ErrorReason::Missing(1)),
            ("AS_PATH", ErrorReason::Missing(2))
        ]
    );
    assert!(update.treat_as_withdraw());

    let (_, error) = single_error("40 01 01 00  40 02 06 02 01 0000fde9", &FOUR);
    assert_eq!(
        (error.field, error.reason),
        ("NEXT_HOP", ErrorReason::Missing(3))
    );

    // MP_REACH without body NLRI needs no NEXT_HOP; without ORIGIN it is treat-as-withdraw.
    let mp = "80 0e 1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001";
    let update = decode_update(&format!("{mp} 40 01 01 00 40 02 00"), "", &FOUR).unwrap();
    assert!(update.errors.is_empty());
    let update = decode_update(&format!("{mp} 40 02 00"), "", &FOUR).unwrap();
    assert!(update.treat_as_withdraw());
}

#[test]
fn withdraw_only_update_needs_no_attributes() {
    let bytes = frame(2, &update_body(&hex(NLRI), &[], &[]));
    let Message::Update(update) = Message::decode(&bytes, &FOUR).unwrap() else {
        panic!()
    };
    assert!(update.errors.is_empty());
}

#[test]
fn attribute_overrunning_the_attribute_list_is_treat_as_withdraw() {
    // The last attribute claims 9 bytes but 4 remain; the NLRI after the list is still found.
    let update = decode_update(&format!("{GOOD} c0 08 09 fde90064"), NLRI, &FOUR).unwrap();
    assert_eq!(update.errors.len(), 1);
    assert_eq!(update.errors[0].field, "path attribute length");
    assert!(update.treat_as_withdraw());
    assert_eq!(update.nlri.len(), 1);
    // Fewer than 3 bytes left for an attribute header.
    let update = decode_update(&format!("{GOOD} c0 08"), NLRI, &FOUR).unwrap();
    assert!(update.treat_as_withdraw());
}

// ---- UPDATE: attribute discard ---------------------------------------------------------------

#[test]
fn atomic_aggregate_with_a_value_is_discarded() {
    let update = assert_discarded(&format!("{GOOD} 40 06 01 00"), &FOUR, "ATOMIC_AGGREGATE");
    assert!(!update.attributes.atomic_aggregate);
}

#[test]
fn aggregator_of_wrong_length_is_discarded() {
    let update = assert_discarded(
        &format!("{GOOD} c0 07 06 fde9 c6120001"),
        &FOUR,
        "AGGREGATOR",
    );
    assert_eq!(update.attributes.aggregator, None);
    let two = "40 01 01 00  40 02 04 02 01 fde9  40 03 04 c6120001";
    assert_discarded(
        &format!("{two} c0 07 08 0000fde9 c6120001"),
        &TWO,
        "AGGREGATOR",
    );
}

#[test]
fn repeated_attribute_keeps_the_first() {
    let update = assert_discarded(
        &format!("{GOOD} c0 08 04 fde90064 c0 08 04 fde900c8"),
        &FOUR,
        "COMMUNITIES",
    );
    assert_eq!(update.errors[0].reason, ErrorReason::Duplicate);
    assert_eq!(
        update.attributes.communities,
        vec![Community::new(65001, 100)]
    );
}

#[test]
fn as4_attributes_between_four_octet_speakers_are_discarded() {
    let update = assert_discarded(
        &format!("{GOOD} c0 11 06 02 01 fa56ea00"),
        &FOUR,
        "AS4_PATH",
    );
    assert_eq!(
        update.attributes.as_path,
        Some(AsPath::from_sequence(vec![65001]))
    );
}

#[test]
fn malformed_as4_attributes_from_two_octet_peers_are_discarded() {
    let two = "40 01 01 00  40 02 04 02 01 5ba0  40 03 04 c6120001";
    let update = assert_discarded(&format!("{two} c0 11 03 02 01 fa"), &TWO, "AS4_PATH");
    assert_eq!(
        update.attributes.as_path,
        Some(AsPath::from_sequence(vec![23456]))
    );
    assert_discarded(
        &format!("{two} c0 12 06 fa56ea00 c612"),
        &TWO,
        "AS4_AGGREGATOR",
    );
}

#[test]
fn strongest_action_wins() {
    // A discard (ATOMIC_AGGREGATE) and a treat-as-withdraw (ORIGIN) together.
    let update = decode_update(
        "40 01 01 07  40 02 06 02 01 0000fde9  40 03 04 c6120001 40 06 01 00",
        NLRI,
        &FOUR,
    )
    .unwrap();
    assert_eq!(update.errors.len(), 2);
    assert!(update.treat_as_withdraw());
    let strongest = update.errors.iter().map(|e| e.action.severity()).max();
    assert_eq!(strongest, Some(ErrorAction::TreatAsWithdraw.severity()));
    // The good attributes are still there.
    assert_eq!(update.attributes.origin, None::<Origin>);
    assert!(update.attributes.as_path.is_some());
}

#[test]
fn as_zero_in_as_path_is_treat_as_withdraw() {
    let error = assert_treat_as_withdraw(
        "40 01 01 00  40 02 0a 02 02 0000fde9 00000000  40 03 04 c6120001",
        "AS_PATH",
    );
    assert_eq!(error.reason, ErrorReason::InvalidValue(0));
    assert_eq!(error.offset, 19 + 4 + 4 + 3 + 2 + 4);
}
