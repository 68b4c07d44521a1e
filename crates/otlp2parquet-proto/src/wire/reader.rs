//! The protobuf wire format: tags, varints, fixed-width values and length-delimited slices,
//! read from a borrowed buffer without copying.

use std::borrow::Cow;

use super::error::Error;
use crate::model::{SpanId, TraceId};

/// The largest field number protobuf allows (2^29 - 1).
const MAX_FIELD_NUMBER: u64 = (1 << 29) - 1;

/// One field value as it appears on the wire, before it is given a protobuf type.
#[derive(Debug, Clone, Copy)]
pub(super) enum Value<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2: the payload of a string, bytes, message or packed field.
    Len(&'a [u8]),
    /// Wire type 5.
    Fixed32(u32),
}

impl<'a> Value<'a> {
    fn wire_name(self) -> &'static str {
        match self {
            Value::Varint(_) => "varint",
            Value::Fixed64(_) => "fixed64",
            Value::Len(_) => "length-delimited",
            Value::Fixed32(_) => "fixed32",
        }
    }

    fn wrong_type(self, name: &'static str, expected: &str) -> Error {
        Error::new(format!(
            "wrong wire type: expected {expected}, got {}",
            self.wire_name()
        ))
        .at(name)
    }

    /// A `uint64`/`int64`/`enum`/`bool` field's raw varint.
    #[inline]
    pub(super) fn varint(self, name: &'static str) -> Result<u64, Error> {
        match self {
            Value::Varint(v) => Ok(v),
            other => Err(other.wrong_type(name, "varint")),
        }
    }

    /// A `uint32` field. Protobuf truncates wider varints to 32 bits, and so do we.
    #[inline]
    pub(super) fn uint32(self, name: &'static str) -> Result<u32, Error> {
        self.varint(name).map(|v| v as u32)
    }

    /// An `int32` or enum field (negative values arrive sign-extended to 64 bits).
    #[inline]
    pub(super) fn int32(self, name: &'static str) -> Result<i32, Error> {
        self.varint(name).map(|v| v as i32)
    }

    /// An `int64` field.
    #[inline]
    pub(super) fn int64(self, name: &'static str) -> Result<i64, Error> {
        self.varint(name).map(|v| v as i64)
    }

    /// A `bool` field: any non-zero varint is true.
    #[inline]
    pub(super) fn bool(self, name: &'static str) -> Result<bool, Error> {
        self.varint(name).map(|v| v != 0)
    }

    /// A `sint32` field (zigzag encoded).
    #[inline]
    pub(super) fn sint32(self, name: &'static str) -> Result<i32, Error> {
        self.varint(name).map(|v| zigzag32(v as u32))
    }

    /// A `fixed64` field.
    #[inline]
    pub(super) fn fixed64(self, name: &'static str) -> Result<u64, Error> {
        match self {
            Value::Fixed64(v) => Ok(v),
            other => Err(other.wrong_type(name, "fixed64")),
        }
    }

    /// An `sfixed64` field.
    #[inline]
    pub(super) fn sfixed64(self, name: &'static str) -> Result<i64, Error> {
        self.fixed64(name).map(|v| v as i64)
    }

    /// A `double` field.
    #[inline]
    pub(super) fn double(self, name: &'static str) -> Result<f64, Error> {
        self.fixed64(name).map(f64::from_bits)
    }

    /// A `fixed32` field.
    #[inline]
    pub(super) fn fixed32(self, name: &'static str) -> Result<u32, Error> {
        match self {
            Value::Fixed32(v) => Ok(v),
            other => Err(other.wrong_type(name, "fixed32")),
        }
    }

    /// A `bytes` or embedded message field's payload.
    #[inline]
    pub(super) fn bytes(self, name: &'static str) -> Result<&'a [u8], Error> {
        match self {
            Value::Len(b) => Ok(b),
            other => Err(other.wrong_type(name, "length-delimited")),
        }
    }

    /// A `string` field, borrowed from the buffer; invalid UTF-8 is an error as in proto3.
    #[inline]
    pub(super) fn str(self, name: &'static str) -> Result<Cow<'a, str>, Error> {
        let bytes = self.bytes(name)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(Cow::Borrowed(s)),
            Err(e) => {
                Err(Error::new(format!("invalid UTF-8 at byte {}", e.valid_up_to())).at(name))
            }
        }
    }

    /// A trace id: empty (absent) or exactly 16 bytes.
    #[inline]
    pub(super) fn trace_id(self, name: &'static str) -> Result<TraceId, Error> {
        self.id(name)
    }

    /// A span id: empty (absent) or exactly 8 bytes.
    #[inline]
    pub(super) fn span_id(self, name: &'static str) -> Result<SpanId, Error> {
        self.id(name)
    }

    #[inline]
    fn id<const N: usize>(self, name: &'static str) -> Result<[u8; N], Error> {
        let bytes = self.bytes(name)?;
        if bytes.is_empty() {
            return Ok([0; N]);
        }
        <[u8; N]>::try_from(bytes)
            .map_err(|_| Error::new(format!("expected {N} bytes, got {}", bytes.len())).at(name))
    }

    /// Appends a `repeated fixed64` field's value(s): packed or one element.
    pub(super) fn push_fixed64s(self, out: &mut Vec<u64>, name: &'static str) -> Result<(), Error> {
        match self {
            Value::Fixed64(v) => out.push(v),
            Value::Len(b) => {
                let (words, rest) = b.as_chunks::<8>();
                if !rest.is_empty() {
                    return Err(packed_len_error(b.len(), 8).at(name));
                }
                out.extend(words.iter().map(|w| u64::from_le_bytes(*w)));
            }
            other => return Err(other.wrong_type(name, "fixed64 or packed")),
        }
        Ok(())
    }

    /// Appends a `repeated double` field's value(s): packed or one element.
    pub(super) fn push_doubles(self, out: &mut Vec<f64>, name: &'static str) -> Result<(), Error> {
        match self {
            Value::Fixed64(v) => out.push(f64::from_bits(v)),
            Value::Len(b) => {
                let (words, rest) = b.as_chunks::<8>();
                if !rest.is_empty() {
                    return Err(packed_len_error(b.len(), 8).at(name));
                }
                out.extend(words.iter().map(|w| f64::from_le_bytes(*w)));
            }
            other => return Err(other.wrong_type(name, "fixed64 or packed")),
        }
        Ok(())
    }

    /// Appends a `repeated uint64` field's value(s): packed or one element.
    pub(super) fn push_varints(self, out: &mut Vec<u64>, name: &'static str) -> Result<(), Error> {
        match self {
            Value::Varint(v) => out.push(v),
            Value::Len(mut b) => {
                // Every element takes at least one byte, so this never over-reserves much.
                out.reserve(b.len().min(1024));
                while !b.is_empty() {
                    out.push(read_varint(&mut b).map_err(|e| e.at(name))?);
                }
            }
            other => return Err(other.wrong_type(name, "varint or packed")),
        }
        Ok(())
    }
}

fn packed_len_error(len: usize, width: usize) -> Error {
    Error::new(format!(
        "packed field of {len} bytes is not a multiple of {width}"
    ))
}

#[inline]
fn zigzag32(v: u32) -> i32 {
    ((v >> 1) as i32) ^ -((v & 1) as i32)
}

/// Reads a base-128 varint, advancing `buf` past it.
#[inline]
pub(super) fn read_varint(buf: &mut &[u8]) -> Result<u64, Error> {
    // One-byte varints (small tags, lengths, enums) are the common case by far.
    if let Some((&b, rest)) = buf.split_first()
        && b < 0x80
    {
        *buf = rest;
        return Ok(u64::from(b));
    }
    read_varint_slow(buf)
}

#[cold]
fn read_varint_slow(buf: &mut &[u8]) -> Result<u64, Error> {
    let mut value = 0u64;
    for (i, &b) in buf.iter().take(10).enumerate() {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            // The tenth byte may only contribute the top bit of a u64.
            if i == 9 && b > 1 {
                return Err(Error::new("varint overflows 64 bits"));
            }
            *buf = buf.get(i + 1..).unwrap_or_default();
            return Ok(value);
        }
    }
    if buf.len() >= 10 {
        Err(Error::new("varint longer than 10 bytes"))
    } else {
        Err(Error::new("truncated varint"))
    }
}

#[inline]
fn read_array<const N: usize>(buf: &mut &[u8], what: &str) -> Result<[u8; N], Error> {
    match buf.split_first_chunk::<N>() {
        Some((bytes, rest)) => {
            *buf = rest;
            Ok(*bytes)
        }
        None => Err(Error::new(format!(
            "truncated {what}: need {N} bytes, {} left",
            buf.len()
        ))),
    }
}

/// Calls `f` with every field of the message encoded in `buf`, in wire order.
///
/// Unknown fields reach `f` like known ones and are ignored there. Group wire types (3, 4),
/// deprecated since proto2 and never used by OTLP, are rejected rather than skipped: nothing
/// legitimate sends them, and refusing keeps the reader free of a second recursion.
#[inline]
pub(super) fn for_each_field<'a>(
    mut buf: &'a [u8],
    mut f: impl FnMut(u32, Value<'a>) -> Result<(), Error>,
) -> Result<(), Error> {
    while !buf.is_empty() {
        let key = read_varint(&mut buf)?;
        let field = key >> 3;
        if field == 0 || field > MAX_FIELD_NUMBER {
            return Err(Error::new(format!("invalid field number {field}")));
        }
        let value = match key & 7 {
            0 => Value::Varint(read_varint(&mut buf)?),
            1 => Value::Fixed64(u64::from_le_bytes(read_array::<8>(&mut buf, "fixed64")?)),
            2 => {
                let len = read_varint(&mut buf)?;
                let split = usize::try_from(len)
                    .ok()
                    .and_then(|len| buf.split_at_checked(len));
                let Some((payload, rest)) = split else {
                    return Err(Error::new(format!(
                        "truncated field {field}: length {len}, {} bytes left",
                        buf.len()
                    )));
                };
                buf = rest;
                Value::Len(payload)
            }
            5 => Value::Fixed32(u32::from_le_bytes(read_array::<4>(&mut buf, "fixed32")?)),
            3 | 4 => {
                return Err(Error::new(format!(
                    "field {field}: group wire types are not supported"
                )));
            }
            other => {
                return Err(Error::new(format!(
                    "field {field}: invalid wire type {other}"
                )));
            }
        };
        // The field number fits: it was checked against MAX_FIELD_NUMBER above.
        f(field as u32, value)?;
    }
    Ok(())
}

/// How many times the length-delimited `field` occurs in the message `buf`, to size a `Vec`
/// before decoding into it: one header-only pass is cheaper than the reallocations and copies
/// of growing the `Vec` element by element. A malformed message counts what precedes the
/// damage; the decoding pass reports the error.
pub(super) fn count_len_field(mut buf: &[u8], field: u32) -> usize {
    let wanted = (u64::from(field) << 3) | 2;
    let mut count = 0;
    while !buf.is_empty() {
        let Ok(key) = read_varint(&mut buf) else {
            break;
        };
        let skip = match key & 7 {
            0 => match read_varint(&mut buf) {
                Ok(_) => 0,
                Err(_) => break,
            },
            1 => 8,
            2 => {
                let Ok(len) = read_varint(&mut buf) else {
                    break;
                };
                count += usize::from(key == wanted);
                usize::try_from(len).unwrap_or(usize::MAX)
            }
            5 => 4,
            _ => break,
        };
        match buf.get(skip..) {
            Some(rest) => buf = rest,
            None => break,
        }
    }
    count
}

/// Appends a default `T` to `out` and lets `fill` decode into it in place, which saves moving
/// large records through a `Result`. On error the half-filled element stays behind, which does
/// not matter: the whole request is rejected.
#[inline]
pub(super) fn push_with<T: Default>(
    out: &mut Vec<T>,
    fill: impl FnOnce(&mut T) -> Result<(), Error>,
) -> Result<(), Error> {
    out.push(T::default());
    match out.last_mut() {
        Some(last) => fill(last),
        None => Ok(()),
    }
}

/// Moves the elements of `scratch` into a new `Vec` of exactly their number, leaving `scratch`
/// empty but with its capacity: decoding repeated fields into a reused scratch `Vec` and then
/// moving them out costs one exact allocation, where pushing into a fresh `Vec` reallocates as
/// it grows and counting the fields first costs a second pass over the message.
#[allow(
    clippy::drain_collect,
    reason = "`mem::take` would hand the scratch buffer away, so the next use grows from nothing"
)]
#[inline]
pub(super) fn take_exact<T>(scratch: &mut Vec<T>) -> Vec<T> {
    scratch.drain(..).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_decode_and_reject_overlong() {
        let mut b: &[u8] = &[0xac, 0x02, 0x07];
        assert_eq!(read_varint(&mut b).unwrap(), 300);
        assert_eq!(b, &[0x07]);
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(read_varint(&mut &max[..]).unwrap(), u64::MAX);
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert!(read_varint(&mut &over[..]).is_err());
        assert!(read_varint(&mut &[0x80, 0x80][..]).is_err());
        assert!(read_varint(&mut &[0xff; 11][..]).is_err());
    }

    #[test]
    fn take_exact_moves_everything_and_keeps_the_scratch() {
        let mut scratch = Vec::with_capacity(16);
        scratch.extend([1, 2, 3]);
        let taken = take_exact(&mut scratch);
        assert_eq!(taken, [1, 2, 3]);
        assert_eq!(taken.capacity(), 3);
        assert!(scratch.is_empty());
        assert!(scratch.capacity() >= 16);
    }

    #[test]
    fn zigzag_round_trips() {
        assert_eq!(zigzag32(0), 0);
        assert_eq!(zigzag32(1), -1);
        assert_eq!(zigzag32(2), 1);
        assert_eq!(zigzag32(u32::MAX), i32::MIN);
    }

    #[test]
    fn groups_and_bad_wire_types_are_rejected() {
        assert!(for_each_field(&[0x0b], |_, _| Ok(())).is_err()); // field 1, start group
        assert!(for_each_field(&[0x0e], |_, _| Ok(())).is_err()); // wire type 6
        assert!(for_each_field(&[0x00, 0x00], |_, _| Ok(())).is_err()); // field 0
    }
}
