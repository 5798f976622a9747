//! Real-data test: every BGP message in several public MRT update dumps decodes with no
//! session-reset error, and decode → encode → decode gives the same message. TABLE_DUMP_V2 RIB
//! snapshots decode with no fatal error. Counts are printed (`--nocapture`).

mod common;

use std::collections::BTreeMap;

use bgp::mrt::{MrtReader, MrtRecord};
use bgp::packet::{Message, Update};

#[derive(Debug, Default)]
struct Counts {
    messages: usize,
    by_type: BTreeMap<&'static str, usize>,
    prefixes: usize,
    session_resets: usize,
    updates_with_errors: usize,
    error_kinds: BTreeMap<String, usize>,
    round_trip_mismatches: usize,
    encode_failures: usize,
    /// Re-encoded bytes equal to the captured ones (attribute order and flags as tern writes).
    byte_identical: usize,
}

fn without_errors(update: &Update) -> Update {
    Update {
        errors: Vec::new(),
        ..update.clone()
    }
}

fn check_updates_file(name: &str) -> Option<Counts> {
    let input = common::open_mrt(name)?;
    let mut counts = Counts::default();
    for record in MrtReader::new(input) {
        let record = record.unwrap_or_else(|error| panic!("{name}: {error}"));
        let MrtRecord::Message(captured) = record else {
            continue;
        };
        counts.messages += 1;
        let ctx = captured.context();
        let message = match captured.decode() {
            Ok(message) => message,
            Err(error) => {
                counts.session_resets += 1;
                eprintln!("{name}: session reset: {error} ({:?})", error.action);
                continue;
            }
        };
        let kind = match &message {
            Message::Open(_) => "open",
            Message::Update(_) => "update",
            Message::Notification(_) => "notification",
            Message::Keepalive => "keepalive",
            Message::RouteRefresh(_) => "route-refresh",
        };
        *counts.by_type.entry(kind).or_default() += 1;
        if let Message::Update(update) = &message {
            counts.prefixes += update.announced().count() + update.withdrawn_prefixes().count();
            if !update.errors.is_empty() {
                counts.updates_with_errors += 1;
                for error in &update.errors {
                    *counts
                        .error_kinds
                        .entry(format!("{}: {}", error.field, error.reason))
                        .or_default() += 1;
                }
                // A damaged UPDATE is not expected to survive a round trip unchanged.
                continue;
            }
        }
        let Ok(bytes) = message.to_bytes(&ctx) else {
            counts.encode_failures += 1;
            continue;
        };
        if bytes.as_ref() == captured.data.as_ref() {
            counts.byte_identical += 1;
        }
        let again = Message::decode(&bytes, &ctx);
        let same = match (&message, &again) {
            (Message::Update(a), Ok(Message::Update(b))) => {
                without_errors(a) == without_errors(b) && b.errors.is_empty()
            }
            (a, Ok(b)) => a == b,
            _ => false,
        };
        if !same {
            counts.round_trip_mismatches += 1;
            if counts.round_trip_mismatches <= 3 {
                eprintln!("{name}: round trip mismatch:\n{message:?}\n{again:?}");
            }
        }
    }
    Some(counts)
}

#[test]
fn real_update_dumps_decode_and_round_trip() {
    let files = [
        "updates.20190101.0000.gz",
        "updates.20161101.0000.bz2",
        "rrc15.updates.20100227.1600.gz",
        "updates.20070211.0141.gz",
        "ris.rrc06.updates.1401488100.gz",
        "routeviews.route-views.jinx.updates.1401493500.bz2",
        "updates.20160811.1600.gz",
        "updates.et-header.2015.gz",
    ];
    let mut checked = 0;
    for name in files {
        let Some(counts) = check_updates_file(name) else {
            eprintln!("{name}: not found, skipped");
            continue;
        };
        checked += 1;
        eprintln!("{name}: {counts:?}");
        assert!(counts.messages > 0, "{name}: no messages");
        assert_eq!(counts.session_resets, 0, "{name}: session resets");
        assert_eq!(
            counts.round_trip_mismatches, 0,
            "{name}: round trip mismatches"
        );
        assert_eq!(counts.encode_failures, 0, "{name}: encode failures");
    }
    assert!(checked > 0, "no MRT sample files found; set TERN_MRT_DIR");
}

#[test]
fn real_rib_snapshots_decode() {
    let files = [
        "rib.20140523.0600_firstMB.bz2",
        "routeviews.route-views.jinx.ribs.1401487200.bz2",
    ];
    for name in files {
        let Some(input) = common::open_mrt(name) else {
            eprintln!("{name}: not found, skipped");
            continue;
        };
        let (mut records, mut routes, mut with_errors, mut tables) = (0, 0, 0, 0);
        let mut truncated = false;
        for record in MrtReader::new(input) {
            match record {
                Ok(MrtRecord::Rib(rib)) => {
                    records += 1;
                    routes += rib.entries.len();
                    with_errors += rib.entries.iter().filter(|e| !e.errors.is_empty()).count();
                }
                Ok(MrtRecord::PeerIndexTable(_)) => tables += 1,
                Ok(_) => {}
                // The "firstMB" sample is cut at 1 MiB of compressed data, so its last record may be
                // incomplete; that must be a clean error.
                Err(bgp::mrt::MrtError::Truncated { .. }) | Err(bgp::mrt::MrtError::Io(_)) => {
                    truncated = true;
                    break;
                }
                Err(error) => panic!("{name}: {error}"),
            }
        }
        eprintln!(
            "{name}: {tables} peer tables, {records} RIB records, {routes} routes, {with_errors} with non-fatal errors, truncated: {truncated}"
        );
    }
}
