//! Trace and span ids as lowercase hex (`TraceId`, `SpanId`, `ParentSpanId`;
//! docs/schema.md#conventions).

/// Hex digit pairs for every byte value, so each byte costs one lookup.
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an out-of-bounds index fails the build, never a request"
)]
const PAIRS: [[u8; 2]; 256] = {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = [DIGITS[i >> 4], DIGITS[i & 0xf]];
        i += 1;
    }
    table
};

/// Lowercase hex of `id` written into `buf`; `""` when the id is empty or all zeros (an absent
/// id, docs/schema.md#conventions).
///
/// Ids are 16 (trace) or 8 (span) bytes; anything past 16 bytes is ignored rather than
/// rejected, since no model type can hold more.
pub fn hex_id<'b>(id: &[u8], buf: &'b mut [u8; 32]) -> &'b str {
    let id = id.get(..16).unwrap_or(id);
    if id.iter().all(|&b| b == 0) {
        return "";
    }
    for (pair, &byte) in buf.chunks_exact_mut(2).zip(id) {
        if let Some(hex) = PAIRS.get(usize::from(byte)) {
            pair.copy_from_slice(hex);
        }
    }
    buf.get(..id.len() * 2)
        .and_then(|hex| std::str::from_utf8(hex).ok())
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_of_ids() {
        let mut buf = [0u8; 32];
        let trace = [
            0x5b, 0x8e, 0xff, 0xf7, 0x98, 0x03, 0x81, 0x03, 0xd2, 0x69, 0xb6, 0x33, 0x81, 0x3f,
            0xc6, 0x0c,
        ];
        assert_eq!(hex_id(&trace, &mut buf), "5b8efff798038103d269b633813fc60c");
        assert_eq!(
            hex_id(&[0, 0, 0, 0, 0, 0, 0, 1], &mut buf),
            "0000000000000001"
        );
        assert_eq!(hex_id(&[0xab], &mut buf), "ab");
    }

    #[test]
    fn absent_ids_are_empty() {
        let mut buf = [0u8; 32];
        assert_eq!(hex_id(&[], &mut buf), "");
        assert_eq!(hex_id(&[0; 16], &mut buf), "");
        assert_eq!(hex_id(&[0; 8], &mut buf), "");
    }

    #[test]
    fn long_ids_are_truncated_not_a_panic() {
        let mut buf = [0u8; 32];
        let long = [0xffu8; 40];
        assert_eq!(hex_id(&long, &mut buf), "f".repeat(32));
        let mut tail_only = [0u8; 20];
        tail_only[19] = 1;
        assert_eq!(hex_id(&tail_only, &mut buf), "");
    }

    #[test]
    fn every_byte_value() {
        let mut buf = [0u8; 32];
        for b in 1..=255u8 {
            assert_eq!(hex_id(&[b], &mut buf), format!("{b:02x}"));
        }
    }
}
