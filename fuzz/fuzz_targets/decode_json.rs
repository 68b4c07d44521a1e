//! OTLP/JSON and JSON Lines decoding and conversion: byte 0 picks the signal, byte 1 JSON
//! (even) or JSON Lines (odd), the rest is the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otlp2parquet_fuzz::{Decoder, decode_and_convert, signal_of};

fuzz_target!(|data: &[u8]| {
    let [signal, format, body @ ..] = data else {
        return;
    };
    let decoder = if format % 2 == 0 {
        Decoder::Json
    } else {
        Decoder::JsonLines
    };
    decode_and_convert(signal_of(*signal), decoder, body);
});
