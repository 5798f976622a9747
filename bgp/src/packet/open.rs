//! OPEN codec. RFC 4271 §4.2, capabilities in optional parameter 2 (RFC 5492 §4), extended
//! optional parameters length (RFC 9072) accepted on decode and used on encode when needed.
//!
//! ```text
//! +---------+-----------+-----------+----------------+-------------+------------------+
//! | version | my AS (2) | hold (2)  | identifier (4) | opt len (1) | opt params …     |
//! +---------+-----------+-----------+----------------+-------------+------------------+
//! opt param: type (1) | length (1) | value — type 2 holds one or more capabilities
//! ```
//!
//! The codec checks only the syntax (lengths, parameter framing). Version, AS, hold time and
//! identifier are the FSM's checks; [`crate::packet::Notification`] has constructors for the
//! OPEN error NOTIFICATIONs it sends (RFC 4271 §6.2).

use bytes::{BufMut, BytesMut};

use super::capability::Capability;
use super::error::{DecodeError, ErrorAction, ErrorReason, NotificationCode, open_subcode};
use super::message::Open;
use super::reader::Reader;
use super::{CodecContext, Decode, Encode, HEADER_LEN};

/// Optional parameter type of the Capabilities parameter. RFC 5492 §4.
pub const PARAMETER_CAPABILITIES: u8 = 2;
/// Marker type for the extended optional parameters length. RFC 9072 §2.
const PARAMETER_EXTENDED_LENGTH: u8 = 255;
/// Fixed part of the OPEN body.
pub const OPEN_FIXED_LEN: usize = 10;

fn open_error(subcode: u8, data: Vec<u8>) -> ErrorAction {
    ErrorAction::reset(NotificationCode::OpenMessage, subcode, data)
}

impl Decode for Open {
    fn decode(body: &[u8], _ctx: &CodecContext) -> Result<Self, DecodeError> {
        let message_len = (body.len() + HEADER_LEN).min(usize::from(u16::MAX)) as u16;
        let mut r = Reader::new(
            body,
            HEADER_LEN,
            ErrorAction::reset(
                NotificationCode::MessageHeader,
                super::error::header_subcode::BAD_MESSAGE_LENGTH,
                message_len.to_be_bytes().to_vec(),
            ),
        );
        let version = r.u8("OPEN version")?;
        let my_as = r.u16("OPEN my AS")?;
        let hold_time = r.u16("OPEN hold time")?;
        let bgp_identifier = r.ipv4("OPEN BGP identifier")?;
        let length_reader = r.clone();
        let params_len = r.u8("OPEN optional parameters length")?;
        let capabilities = if params_len == PARAMETER_EXTENDED_LENGTH
            && r.peek_rest().first() == Some(&PARAMETER_EXTENDED_LENGTH)
        {
            let _marker = r.u8("OPEN extended parameters marker")?;
            let len = r.u16("OPEN extended optional parameters length")?;
            check_params_len(&length_reader, usize::from(len) + 3, r.remaining() + 3)?;
            decode_parameters(r, true)?
        } else {
            check_params_len(&length_reader, usize::from(params_len), r.remaining())?;
            decode_parameters(r, false)?
        };
        Ok(Open {
            version,
            my_as,
            hold_time,
            bgp_identifier,
            capabilities,
        })
    }
}

fn check_params_len(at: &Reader<'_>, declared: usize, actual: usize) -> Result<(), DecodeError> {
    if declared == actual {
        return Ok(());
    }
    Err(DecodeError::new(
        "OPEN optional parameters length",
        at.offset(),
        ErrorReason::BadLength(declared),
        open_error(open_subcode::UNSPECIFIC, Vec::new()),
    ))
}

/// Decode the optional parameters (after the length field) into capabilities.
fn decode_parameters(r: Reader<'_>, extended: bool) -> Result<Vec<Capability>, DecodeError> {
    let mut r = Reader::new(
        r.peek_rest(),
        r.offset(),
        open_error(open_subcode::UNSPECIFIC, Vec::new()),
    );
    let mut capabilities = Vec::new();
    while !r.is_empty() {
        let param_at = r.clone();
        let kind = r.u8("OPEN optional parameter type")?;
        let len = if extended {
            usize::from(r.u16("OPEN optional parameter length")?)
        } else {
            usize::from(r.u8("OPEN optional parameter length")?)
        };
        let value = r.sub(len, "OPEN optional parameter value")?;
        if kind != PARAMETER_CAPABILITIES {
            return Err(DecodeError::new(
                "OPEN optional parameter type",
                param_at.offset(),
                ErrorReason::UnsupportedParameter(kind),
                open_error(open_subcode::UNSUPPORTED_OPTIONAL_PARAMETER, Vec::new()),
            ));
        }
        capabilities.extend(decode_capabilities_in(value)?);
    }
    Ok(capabilities)
}

/// Decode a run of capabilities (the value of one Capabilities optional parameter).
/// RFC 5492 §4: one parameter may hold several capabilities.
fn decode_capabilities_in(mut r: Reader<'_>) -> Result<Vec<Capability>, DecodeError> {
    let mut capabilities = Vec::new();
    while !r.is_empty() {
        let code = r.u8("capability code")?;
        let len = r.u8("capability length")?;
        let value = r.bytes(usize::from(len), "capability value")?;
        capabilities.push(Capability::from_value(code, value));
    }
    Ok(capabilities)
}

/// Decode the optional parameters field of an OPEN (without its length byte) into
/// capabilities; errors are OPEN Message Errors with offsets counted from the field start.
pub fn decode_optional_parameters(params: &[u8]) -> Result<Vec<Capability>, DecodeError> {
    decode_parameters(Reader::new(params, 0, ErrorAction::AttributeDiscard), false)
}

/// Capabilities in one optional parameter each would need more than 255 bytes per parameter
/// only with huge unknown values; tern packs all capabilities into parameters of at most 255
/// bytes.
fn parameter_chunks(capabilities: &[Capability]) -> Vec<&[Capability]> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut size = 0;
    for (index, capability) in capabilities.iter().enumerate() {
        let len = capability.encoded_len();
        if size + len > 255 && index > start {
            chunks.push(capabilities.get(start..index).unwrap_or_default());
            start = index;
            size = 0;
        }
        size += len;
    }
    if start < capabilities.len() {
        chunks.push(capabilities.get(start..).unwrap_or_default());
    }
    chunks
}

fn parameters_len(capabilities: &[Capability]) -> usize {
    parameter_chunks(capabilities)
        .iter()
        .map(|chunk| 2 + chunk.iter().map(Capability::encoded_len).sum::<usize>())
        .sum()
}

impl Encode for Open {
    fn encoded_len(&self, _ctx: &CodecContext) -> usize {
        let params = parameters_len(&self.capabilities);
        if params > 255 {
            OPEN_FIXED_LEN + 3 + params + parameter_chunks(&self.capabilities).len()
        } else {
            OPEN_FIXED_LEN + params
        }
    }

    fn encode(&self, _ctx: &CodecContext, buf: &mut BytesMut) {
        buf.put_u8(self.version);
        buf.put_u16(self.my_as);
        buf.put_u16(self.hold_time);
        buf.put_slice(&self.bgp_identifier.octets());
        let chunks = parameter_chunks(&self.capabilities);
        let params = parameters_len(&self.capabilities);
        let extended = params > 255;
        if extended {
            // RFC 9072 §2: 255, 255, then a 2-octet length; parameter lengths become 2 octets.
            buf.put_u8(PARAMETER_EXTENDED_LENGTH);
            buf.put_u8(PARAMETER_EXTENDED_LENGTH);
            buf.put_u16((params + chunks.len()) as u16);
        } else {
            buf.put_u8(params as u8);
        }
        for chunk in chunks {
            let len: usize = chunk.iter().map(Capability::encoded_len).sum();
            buf.put_u8(PARAMETER_CAPABILITIES);
            if extended {
                buf.put_u16(len as u16);
            } else {
                buf.put_u8(len as u8);
            }
            for capability in chunk {
                capability.encode(buf);
            }
        }
    }
}
