//! The pipeline: body bytes → decoded request → Arrow partitions → Parquet files → stored →
//! OTLP response. Every step is a plain function so that the server's batcher can stop after
//! [`convert`] and the per-request sink ([`crate::StoreEach`]) can run [`store`] end to end.

use otlp2parquet_common::Signal;
use otlp2parquet_common::config::Config;
use otlp2parquet_proto::{ExportRequest, LogsRequest, MetricsRequest, TracesRequest};
use otlp2parquet_writer::{
    ParquetOptions, Partition, Storage, StorageErrorKind, Table, convert_logs, convert_metrics,
    convert_traces, encode_parquet, object_key,
};

use crate::body::{Format, decode_body, detect_format, format_of_content_type};
use crate::{Error, Response};

/// One export request as an adapter received it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// Which signal the path selected.
    pub signal: Signal,
    /// `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// `Content-Encoding` header, if any.
    pub content_encoding: Option<&'a str>,
    /// The body exactly as received.
    pub body: &'a [u8],
    /// When the request arrived, in ns since the epoch (records without a time get it).
    pub received_at_ns: i64,
}

impl Request<'_> {
    /// The format responses to this request use, as far as the headers tell (JSON when they
    /// do not name a supported type, since a human with curl is the likeliest sender).
    pub fn response_format(&self) -> Format {
        match self.content_type.map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => format_of_content_type(t).unwrap_or(Format::Json),
            None => match self.body.first() {
                // An uncompressed body starting with `{` is JSON; anything else protobuf.
                Some(b'{') | None => Format::Json,
                Some(_) => Format::Protobuf,
            },
        }
    }
}

/// A decoded and converted request.
#[derive(Debug)]
pub struct Converted {
    /// The body's format (responses are encoded the same way).
    pub format: Format,
    /// Records in the request: log records, spans or data points.
    pub records: usize,
    /// One Arrow batch per (table, service, hour).
    pub partitions: Vec<Partition>,
}

/// A request that failed before anything was stored, with the format to answer in.
#[derive(Debug)]
pub struct Failure {
    /// Response encoding.
    pub format: Format,
    /// What went wrong.
    pub error: Error,
}

impl Failure {
    /// The error response.
    pub fn response(&self) -> Response {
        Response::error(self.format, &self.error)
    }
}

/// Bounds, decompresses, decodes and converts one request.
pub fn convert(req: &Request<'_>, max_payload_bytes: usize) -> Result<Converted, Failure> {
    let fail = |format: Format| move |error: Error| Failure { format, error };
    let guess = req.response_format();
    let body =
        decode_body(req.content_encoding, req.body, max_payload_bytes).map_err(fail(guess))?;
    let format = detect_format(req.content_type, &body).map_err(fail(guess))?;
    let (records, partitions) = match req.signal {
        Signal::Logs => {
            let r: LogsRequest<'_> = decode(format, &body).map_err(fail(format))?;
            (r.record_count(), convert_logs(&r, req.received_at_ns))
        }
        Signal::Traces => {
            let r: TracesRequest<'_> = decode(format, &body).map_err(fail(format))?;
            (r.record_count(), convert_traces(&r, req.received_at_ns))
        }
        Signal::Metrics => {
            let r: MetricsRequest<'_> = decode(format, &body).map_err(fail(format))?;
            (r.record_count(), convert_metrics(&r, req.received_at_ns))
        }
    };
    let partitions = partitions.map_err(|e| fail(format)(e.into()))?;
    Ok(Converted {
        format,
        records,
        partitions,
    })
}

fn decode<'a, R: ExportRequest<'a>>(format: Format, body: &'a [u8]) -> Result<R, Error> {
    Ok(match format {
        Format::Protobuf => R::decode_protobuf(body)?,
        Format::Json => R::decode_json(body)?,
        Format::JsonLines => R::decode_jsonl(body)?,
    })
}

/// One Parquet file, ready to store.
#[derive(Debug, Clone)]
pub struct OutputFile {
    /// Object key (docs/keys.md).
    pub key: String,
    /// The table it belongs to.
    pub table: Table,
    /// Rows in the file.
    pub rows: usize,
    /// The encoded file.
    pub bytes: Vec<u8>,
}

/// The Parquet options a configuration asks for.
pub fn parquet_options(config: &Config) -> ParquetOptions {
    ParquetOptions {
        compression: config.parquet.compression,
        row_group_rows: config.parquet.row_group_rows,
        row_group_bytes: config.parquet.row_group_bytes,
        timestamp_unit: config.parquet.timestamp_unit,
        bloom_filters: config.parquet.bloom_filters,
    }
}

/// Encodes each partition as one Parquet file with its object key. `token_seed` is a random
/// value from the adapter (the core reads no clock and no entropy); file `i` gets a key token
/// derived from it.
pub fn encode_files(
    partitions: &[Partition],
    config: &Config,
    token_seed: u128,
) -> Result<Vec<OutputFile>, Error> {
    let opts = parquet_options(config);
    partitions
        .iter()
        .zip(0u64..)
        .map(|(p, i)| {
            let bytes = encode_parquet(p.table, std::slice::from_ref(&p.batch), &opts)?;
            Ok(OutputFile {
                key: object_key(
                    &config.storage.prefix,
                    p.table,
                    &p.service,
                    p.min_time_ns,
                    file_token(token_seed, i),
                ),
                table: p.table,
                rows: p.num_rows(),
                bytes,
            })
        })
        .collect()
}

/// Derives the key token of the `index`-th file of a request from the adapter's seed.
pub fn file_token(seed: u128, index: u64) -> u128 {
    fn mix(mut z: u64) -> u64 {
        // splitmix64 finaliser: distinct inputs give distinct, well-spread outputs.
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    let hi = (seed >> 64) as u64;
    let lo = seed as u64;
    let i = index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (u128::from(mix(hi ^ i)) << 64) | u128::from(mix(lo.wrapping_add(i)))
}

/// The whole per-request path on a request already routed: convert, encode, store every file,
/// then answer. Any storage failure answers 503 + `Retry-After` (the client retries the whole
/// request; files already written may then exist twice — at-least-once). Targets go through
/// [`crate::admit`] and [`crate::StoreEach`]; this is the pipeline alone, for tests and
/// benchmarks.
pub async fn handle<S: Storage>(
    req: &Request<'_>,
    config: &Config,
    token_seed: u128,
    storage: &S,
) -> Response {
    match store(req, config, token_seed, storage).await {
        Ok(stored) => Response::success(req.signal, stored.format, 0, ""),
        Err(f) => f.response(),
    }
}

/// Logs a failed write of a request's data by how it failed: a temporary failure is a warning;
/// a permanent one an error naming what to check, since nothing changes until the deployment is
/// fixed (the client gets a 503 either way: its data is fine).
pub fn log_storage_error(signal: Signal, key: &str, e: &otlp2parquet_writer::StorageError) {
    match e.kind {
        StorageErrorKind::Temporary => {
            tracing::warn!(%signal, %key, error = %e, "storage write failed");
        }
        StorageErrorKind::Permanent => {
            tracing::error!(%signal, %key, error = %e, "storage refused the write: check the storage settings (bucket, credentials, permissions on the prefix, binding)");
        }
    }
}

/// What [`store`] wrote.
#[derive(Debug, Clone, Copy)]
pub struct Stored {
    /// The body's format (the success response is encoded the same way).
    pub format: Format,
    /// Records stored.
    pub records: usize,
}

/// Converts, encodes and stores every file of one request; the caller answers (HTTP or gRPC).
pub async fn store<S: Storage>(
    req: &Request<'_>,
    config: &Config,
    token_seed: u128,
    storage: &S,
) -> Result<Stored, Failure> {
    let converted = convert(req, config.request.max_payload_bytes).inspect_err(|f| {
        tracing::debug!(signal = %req.signal, error = %f.error, "request rejected");
    })?;
    let format = converted.format;
    let files = encode_files(&converted.partitions, config, token_seed).map_err(|error| {
        tracing::error!(signal = %req.signal, %error, "encoding failed");
        Failure { format, error }
    })?;
    for file in files {
        let (key, rows) = (file.key.clone(), file.rows);
        if let Err(e) = storage.put(&file.key, file.bytes).await {
            log_storage_error(req.signal, &key, &e);
            return Err(Failure {
                format,
                error: Error::from(e),
            });
        }
        tracing::debug!(%key, rows, "stored");
    }
    Ok(Stored {
        format,
        records: converted.records,
    })
}
