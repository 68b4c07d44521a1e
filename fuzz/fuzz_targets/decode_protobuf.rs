//! Protobuf decoding and conversion: byte 0 picks the signal, the rest is an
//! `Export*ServiceRequest`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otlp2parquet_fuzz::{Decoder, decode_and_convert, signal_of};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else {
        return;
    };
    decode_and_convert(signal_of(selector), Decoder::Protobuf, body);
});
