//! Content-Type negotiation and bounded decompression (docs/protocol.md#content-types,
//! docs/protocol.md#content-encodings, docs/protocol.md#limits).

use std::io::Write;

use otlp2parquet_handlers::ErrorKind;
use otlp2parquet_handlers::body::{Format, decode_body, detect_format};

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn content_types_follow_spec() {
    let cases = [
        (Some("application/x-protobuf"), Format::Protobuf),
        (Some("application/protobuf"), Format::Protobuf),
        (
            Some("Application/X-Protobuf; charset=utf-8"),
            Format::Protobuf,
        ),
        (Some("application/json"), Format::Json),
        (Some("application/json; charset=UTF-8"), Format::Json),
        (Some("application/x-ndjson"), Format::JsonLines),
        (Some("application/jsonl"), Format::JsonLines),
    ];
    for (ct, want) in cases {
        assert_eq!(detect_format(ct, b"\x0a\x00").unwrap(), want, "{ct:?}");
    }
    assert_eq!(
        detect_format(None, b"  {\"resourceLogs\":[]}").unwrap(),
        Format::Json
    );
    assert_eq!(detect_format(Some(""), b"{}").unwrap(), Format::Json);
    assert_eq!(
        detect_format(None, b"\x0a\x02\x0a\x00").unwrap(),
        Format::Protobuf
    );
    for bad in [
        "text/plain",
        "application/xml",
        "multipart/form-data",
        "json",
    ] {
        let e = detect_format(Some(bad), b"{}").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsupportedMediaType, "{bad}");
        assert!(e.message().contains(bad), "{}", e.message());
    }
}

#[test]
fn every_encoding_gives_the_same_bytes() {
    let data: Vec<u8> = (0..50_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    let limit = 1 << 20;
    let zlib = {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&data).unwrap();
        e.finish().unwrap()
    };
    let raw_deflate = {
        let mut e = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(&data).unwrap();
        e.finish().unwrap()
    };
    let zst = zstd::stream::encode_all(data.as_slice(), 3).unwrap();
    let cases: [(Option<&str>, Vec<u8>); 7] = [
        (None, data.clone()),
        (Some("identity"), data.clone()),
        (Some("gzip"), gzip(&data)),
        (Some("GZIP"), gzip(&data)),
        (Some("zstd"), zst),
        (Some("deflate"), zlib),
        (Some("deflate"), raw_deflate),
    ];
    for (enc, body) in cases {
        let out = decode_body(enc, &body, limit).unwrap_or_else(|e| panic!("{enc:?}: {e}"));
        assert_eq!(out.as_ref(), data.as_slice(), "{enc:?}");
    }
}

#[test]
fn unknown_encoding_is_415() {
    for enc in ["br", "compress", "gzip, br", "snappy"] {
        let e = decode_body(Some(enc), b"x", 100).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::UnsupportedMediaType, "{enc}");
    }
}

#[test]
fn limits_apply_before_and_after_decompression() {
    // Exactly at the limit passes; one byte over fails.
    assert!(decode_body(None, &[1u8; 100], 100).is_ok());
    let e = decode_body(None, &[1u8; 101], 100).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::PayloadTooLarge);
    let packed = gzip(&[7u8; 100]);
    assert_eq!(decode_body(Some("gzip"), &packed, 100).unwrap().len(), 100);
    let packed = gzip(&[7u8; 101]);
    assert_eq!(
        decode_body(Some("gzip"), &packed, 100).unwrap_err().kind(),
        ErrorKind::PayloadTooLarge
    );
}

#[test]
fn compression_bombs_stop_at_the_limit() {
    // 64 MiB of zeros compresses to ~64 KiB; with a 1 MiB limit only ~1 MiB is ever inflated.
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..64 {
        e.write_all(&chunk).unwrap();
    }
    let bomb = e.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    let err = decode_body(Some("gzip"), &bomb, 1 << 20).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
    assert!(err.message().contains("decompressed"), "{}", err.message());

    let zbomb = zstd::stream::encode_all(vec![0u8; 64 << 20].as_slice(), 1).unwrap();
    let err = decode_body(Some("zstd"), &zbomb, 1 << 20).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PayloadTooLarge);
}

#[test]
fn corrupt_compressed_bodies_are_400() {
    let mut packed = gzip(b"hello world, hello world");
    let n = packed.len();
    packed[n / 2] ^= 0xff;
    packed.truncate(n - 3);
    for (enc, body) in [
        ("gzip", packed),
        ("gzip", b"not gzip at all".to_vec()),
        ("zstd", b"not zstd".to_vec()),
        ("deflate", vec![0xff; 16]),
    ] {
        let e = decode_body(Some(enc), &body, 1 << 20).unwrap_err();
        assert_eq!(
            e.kind(),
            ErrorKind::InvalidRequest,
            "{enc}: {}",
            e.message()
        );
        assert!(e.message().contains(enc), "{}", e.message());
    }
}
