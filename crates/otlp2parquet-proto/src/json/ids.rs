//! Trace/span ids and `bytesValue`: hex and base64 text to bytes.
//!
//! The base64 rules are the reference's (testdata/reference/reference.py; see
//! docs/protocol.md#content-types): standard and URL-safe alphabets (even mixed),
//! at most two trailing `=` with padding optional, non-zero trailing bits ignored. No base64
//! engine of the `base64` crate accepts exactly that set, and this one decodes straight into the
//! id's fixed array, so ids need no allocation.

/// The value of one base64 digit of either alphabet.
fn digit(c: u8) -> Option<u32> {
    let v = match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b'-' => 62,
        b'/' | b'_' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

/// The base64 digits of `text` without their padding, if `text` is base64 at all.
fn digits(text: &str) -> Option<&[u8]> {
    let bytes = text.as_bytes();
    let body = bytes
        .strip_suffix(b"==")
        .or_else(|| bytes.strip_suffix(b"="))
        .unwrap_or(bytes);
    // A single leftover digit carries fewer than 8 bits: not the encoding of any byte string.
    (body.len() % 4 != 1).then_some(body)
}

/// How many bytes `digits` (unpadded base64) decode to.
fn decoded_len(digits: &[u8]) -> usize {
    digits.len() / 4 * 3 + (digits.len() % 4).saturating_sub(1)
}

/// Decodes unpadded base64 `digits`, handing each byte to `out`; `None` on a non-digit.
fn decode_with(digits: &[u8], mut out: impl FnMut(u8)) -> Option<()> {
    for chunk in digits.chunks(4) {
        let mut acc = 0u32;
        for &c in chunk {
            acc = (acc << 6) | digit(c)?;
        }
        // Left-align the chunk's bits in 24; bits past the last whole byte are dropped.
        acc <<= 6 * (4 - chunk.len());
        let [_, b0, b1, b2] = acc.to_be_bytes();
        for byte in [b0, b1, b2].into_iter().take(chunk.len() - 1) {
            out(byte);
        }
    }
    Some(())
}

/// Decodes a base64 string (`bytesValue`); `None` if it is not base64.
pub(super) fn base64(text: &str) -> Option<Vec<u8>> {
    let digits = digits(text)?;
    let mut out = Vec::with_capacity(decoded_len(digits));
    decode_with(digits, |b| out.push(b))?;
    Some(out)
}

/// Decodes a trace or span id: hex of exactly `2 * N` characters (any case), else base64 of
/// exactly `N` bytes. `None` if it is neither. An empty string is the absent (all-zero) id.
pub(super) fn id<const N: usize>(text: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    if text.is_empty() {
        return Some(out);
    }
    if text.len() == 2 * N && text.bytes().all(|c| c.is_ascii_hexdigit()) {
        for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let hi = hex_value(pair.first().copied()?);
            let lo = hex_value(pair.get(1).copied()?);
            *byte = (hi << 4) | lo;
        }
        return Some(out);
    }
    let digits = digits(text)?;
    if decoded_len(digits) != N {
        return None;
    }
    let mut slots = out.iter_mut();
    decode_with(digits, |b| {
        if let Some(slot) = slots.next() {
            *slot = b;
        }
    })?;
    Some(out)
}

fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_and_base64_spellings_agree() {
        let want = [0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03];
        assert_eq!(id::<8>("5b8efff798038103"), Some(want));
        assert_eq!(id::<8>("5B8EFFF798038103"), Some(want));
        assert_eq!(id::<8>("W47/95gDgQM="), Some(want));
        assert_eq!(id::<8>("W47/95gDgQM"), Some(want));
        assert_eq!(id::<8>("W47_95gDgQM"), Some(want));
    }

    #[test]
    fn rejects_wrong_lengths_and_digits() {
        assert_eq!(id::<8>("zzz"), None);
        assert_eq!(id::<8>("INVALID=="), None);
        assert_eq!(id::<16>("!!!INVALID_BASE64!!!"), None);
        assert_eq!(id::<8>("W47/95gDgQM==="), None);
        assert_eq!(id::<8>("W47/95gDgQMA"), None);
        assert_eq!(base64("A"), None);
        assert_eq!(base64("=A"), None);
    }

    #[test]
    fn base64_ignores_trailing_bits_and_padding() {
        assert_eq!(base64("AB"), Some(vec![0]));
        assert_eq!(base64("AB=="), Some(vec![0]));
        assert_eq!(base64("aGVsbG8"), Some(b"hello".to_vec()));
        assert_eq!(base64(""), Some(vec![]));
    }
}
