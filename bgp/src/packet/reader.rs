//! A bounds-checked reader over message bytes that knows its offset in the message.
//!
//! Every read goes through nom's `complete` parsers, so a short buffer is an error, never a
//! panic. A failed read becomes a [`DecodeError`] carrying the field name, the absolute offset
//! and the [`ErrorAction`] the reader was created with.

use std::net::{Ipv4Addr, Ipv6Addr};

use nom::bytes::complete::take;
use nom::number::complete::{be_u8, be_u16, be_u32};

use super::error::{DecodeError, ErrorAction, ErrorReason};

type NomResult<'a, T> = nom::IResult<&'a [u8], T, nom::error::Error<&'a [u8]>>;

/// A cursor over `data`, whose first byte sits at `offset` in the message.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    offset: usize,
    action: ErrorAction,
}

impl<'a> Reader<'a> {
    /// A reader whose short reads fail with `action`.
    pub(crate) fn new(data: &'a [u8], offset: usize, action: ErrorAction) -> Self {
        Self {
            rest: data,
            offset,
            action,
        }
    }

    /// Absolute offset of the next unread byte.
    pub(crate) fn offset(&self) -> usize {
        self.offset
    }

    /// Bytes not yet read.
    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The unread bytes, without consuming them.
    pub(crate) fn peek_rest(&self) -> &'a [u8] {
        self.rest
    }

    /// An error at the current offset with this reader's action.
    pub(crate) fn error(&self, field: &'static str, reason: ErrorReason) -> DecodeError {
        DecodeError::new(field, self.offset, reason, self.action.clone())
    }

    fn run<T>(
        &mut self,
        field: &'static str,
        needed: usize,
        parser: impl FnOnce(&'a [u8]) -> NomResult<'a, T>,
    ) -> Result<T, DecodeError> {
        match parser(self.rest) {
            Ok((rest, value)) => {
                self.offset += self.rest.len() - rest.len();
                self.rest = rest;
                Ok(value)
            }
            Err(_) => Err(self.error(
                field,
                ErrorReason::Truncated {
                    needed,
                    available: self.rest.len(),
                },
            )),
        }
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, DecodeError> {
        self.run(field, 1, be_u8)
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, DecodeError> {
        self.run(field, 2, be_u16)
    }

    pub(crate) fn u32(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        self.run(field, 4, be_u32)
    }

    /// The next `len` bytes.
    pub(crate) fn bytes(
        &mut self,
        len: usize,
        field: &'static str,
    ) -> Result<&'a [u8], DecodeError> {
        self.run(field, len, |input| take(len)(input))
    }

    /// A reader over the next `len` bytes, with the same action; this reader skips them.
    pub(crate) fn sub(
        &mut self,
        len: usize,
        field: &'static str,
    ) -> Result<Reader<'a>, DecodeError> {
        let offset = self.offset;
        let data = self.bytes(len, field)?;
        Ok(Reader {
            rest: data,
            offset,
            action: self.action.clone(),
        })
    }

    /// All remaining bytes.
    pub(crate) fn take_rest(&mut self) -> &'a [u8] {
        let rest = self.rest;
        self.offset += rest.len();
        self.rest = &[];
        rest
    }

    pub(crate) fn ipv4(&mut self, field: &'static str) -> Result<Ipv4Addr, DecodeError> {
        self.u32(field).map(Ipv4Addr::from)
    }

    pub(crate) fn ipv6(&mut self, field: &'static str) -> Result<Ipv6Addr, DecodeError> {
        let bytes = self.bytes(16, field)?;
        let mut octets = [0u8; 16];
        octets.copy_from_slice(bytes);
        Ok(Ipv6Addr::from(octets))
    }

    /// Fail with [`ErrorReason::TrailingBytes`] unless everything was read.
    pub(crate) fn expect_end(&self, field: &'static str) -> Result<(), DecodeError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.error(field, ErrorReason::TrailingBytes(self.rest.len())))
        }
    }
}
