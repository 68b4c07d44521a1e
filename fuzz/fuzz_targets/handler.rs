//! The whole per-request pipeline, bytes to HTTP response, over an in-memory store.
//!
//! Input layout: byte 0 picks the signal (low nibble), the row-group size (bits 4–5) and a
//! failing store (high nibble 0xF); byte 1 the `Content-Type`; byte 2 the `Content-Encoding`
//! and whether the harness compresses the body itself (so the decoders behind gzip, zstd and
//! deflate see valid streams, not only garbage); the rest is the body.
#![no_main]

use std::io::Write as _;

use libfuzzer_sys::fuzz_target;
use otlp2parquet_common::config::Config;
use otlp2parquet_common::platform::Platform;
use otlp2parquet_fuzz::{RECEIVED_AT_NS, block_on, signal_of};
use otlp2parquet_handlers::{Request, Response, store};
use otlp2parquet_writer::{MemoryStorage, StorageErrorKind};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

/// Small enough to keep runs fast, large enough for every fixture.
const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;

const CONTENT_TYPES: [Option<&str>; 10] = [
    None,
    Some("application/x-protobuf"),
    Some("application/protobuf"),
    Some("application/json"),
    Some("application/x-ndjson"),
    Some("application/jsonl"),
    Some("Application/JSON; charset=utf-8"),
    Some(""),
    Some("text/plain"),
    Some("application/x-protobuf, application/json"),
];

/// How the body reaches the pipeline.
#[derive(Clone, Copy)]
enum Body {
    /// As the fuzzer gave it, under this `Content-Encoding`.
    Raw(Option<&'static str>),
    Gzip,
    Zstd,
    Zlib,
}

const ENCODINGS: [Body; 8] = [
    Body::Raw(None),
    Body::Gzip,
    Body::Zstd,
    Body::Zlib,
    Body::Raw(Some("gzip")),
    Body::Raw(Some("zstd")),
    Body::Raw(Some("identity")),
    Body::Raw(Some("br")),
];

const ROW_GROUP_ROWS: [Option<usize>; 4] = [None, None, Some(2), Some(64)];

fn pick<T: Copy, const N: usize>(table: &[T; N], byte: u8) -> T {
    table[usize::from(byte) % N]
}

fn encode(body: &[u8], how: Body) -> (Option<&'static str>, Vec<u8>) {
    match how {
        Body::Raw(encoding) => (encoding, body.to_vec()),
        Body::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(body).unwrap();
            (Some("gzip"), e.finish().unwrap())
        }
        Body::Zlib => {
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(body).unwrap();
            (Some("deflate"), e.finish().unwrap())
        }
        Body::Zstd => (Some("zstd"), zstd::stream::encode_all(body, 1).unwrap()),
    }
}

/// Rows of every stored file, read back through the Arrow reader; checks the keys too.
fn stored_rows(storage: &MemoryStorage) -> usize {
    let mut total = 0;
    for (key, bytes) in storage.objects() {
        assert!(key.ends_with(".parquet"), "stored key {key:?}");
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
            .unwrap_or_else(|e| panic!("{key}: unreadable footer: {e}"));
        let footer_rows = reader.metadata().file_metadata().num_rows();
        let mut rows = 0;
        for batch in reader.build().unwrap() {
            rows += batch
                .unwrap_or_else(|e| panic!("{key}: unreadable rows: {e}"))
                .num_rows();
        }
        assert_eq!(
            i64::try_from(rows).unwrap(),
            footer_rows,
            "{key}: footer row count"
        );
        assert!(rows > 0, "{key}: empty file");
        total += rows;
    }
    total
}

fuzz_target!(|data: &[u8]| {
    let [flags, content_type, encoding, body @ ..] = data else {
        return;
    };
    let signal = signal_of(flags & 0x0f);
    let store_fails = flags >> 4 == 0x0f;
    let content_type = pick(&CONTENT_TYPES, *content_type);
    let (content_encoding, body) = encode(body, pick(&ENCODINGS, *encoding));

    let mut config = Config::defaults(Platform::Server);
    config.request.max_payload_bytes = MAX_PAYLOAD_BYTES;
    if let Some(rows) = pick(&ROW_GROUP_ROWS, flags >> 4) {
        config.parquet.row_group_rows = rows;
    }
    let storage = MemoryStorage::new();
    if store_fails {
        storage.fail_with(Some(StorageErrorKind::Temporary));
    }
    let req = Request {
        signal,
        content_type,
        content_encoding,
        body: &body,
        received_at_ns: RECEIVED_AT_NS,
    };

    match block_on(store(&req, &config, 42, &storage)) {
        Ok(stored) => {
            let resp = Response::success(signal, stored.format, 0, "");
            assert_eq!(resp.status, 200);
            assert!(resp.header("content-type").is_some());
            assert_eq!(
                stored_rows(&storage),
                stored.records,
                "rows stored != records reported"
            );
            if store_fails {
                // A 200 over a failing store means there was nothing to write.
                assert_eq!(stored.records, 0);
            }
            assert!(
                !matches!(
                    content_type,
                    Some("text/plain" | "application/x-protobuf, application/json")
                ),
                "an unsupported Content-Type was accepted"
            );
        }
        Err(failure) => {
            let resp = failure.response();
            let expected: &[u16] = if store_fails {
                &[400, 413, 415, 503]
            } else {
                // 500 is a builder or encoder bug; 503 needs a failing store.
                &[400, 413, 415]
            };
            assert!(
                expected.contains(&resp.status),
                "status {} for {}",
                resp.status,
                failure.error
            );
            assert!(!resp.body.is_empty(), "empty error body");
            assert!(resp.header("content-type").is_some());
            assert_eq!(resp.header("retry-after").is_some(), resp.status == 503);
            if !store_fails {
                assert!(
                    storage.objects().is_empty(),
                    "a rejected request stored files"
                );
            }
        }
    }
});
