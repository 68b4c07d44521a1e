//! The Worker spool's append parser (docs/adr/0012-worker-spool.md): whatever bytes reach a
//! spool object, reading them is an error or a message, never a panic; a message read back
//! encodes to the same bytes, and every part it yields carries its data's checksum.
//!
//! The parts' data is not decoded here: only the Worker's own encoder writes it (behind the
//! checksum), and arrow-ipc's reader trusts a stream's offsets and sizes, which a fuzzer that
//! forges the checksum would only show again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otlp2parquet_cloudflare::spool::{checksum, decode_append};

fuzz_target!(|data: &[u8]| {
    let Ok(message) = decode_append(data) else {
        return;
    };
    assert_eq!(message.encode(), data, "a decoded message re-encodes exactly");
    let crcs = message.parts.iter().map(|p| checksum(p.data));
    let mut at = data.len();
    for (part, crc) in message.parts.iter().zip(crcs).rev() {
        // Each part ends with: crc (4), length (4), data.
        at -= part.data.len();
        let stored = data.get(at - 8..at - 4).expect("the crc precedes the length");
        assert_eq!(stored, crc.to_le_bytes(), "a part's checksum was checked");
        at -= 36;
    }
});
