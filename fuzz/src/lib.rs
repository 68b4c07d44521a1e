//! Helpers shared by the fuzz targets in `fuzz_targets/`: how input bytes pick a signal,
//! decode + convert with the conversion's own invariant, and a tiny executor for the
//! handler's futures.

use std::future::Future;
use std::task::{Context, Poll, Waker};

use otlp2parquet_common::Signal;
use otlp2parquet_proto::{ExportRequest, LogsRequest, MetricsRequest, TracesRequest};
use otlp2parquet_writer::{Partition, WriterError, convert_logs, convert_metrics, convert_traces};

/// 2024-01-15T14:30:00Z: records without a time get it.
pub const RECEIVED_AT_NS: i64 = 1_705_329_000_000_000_000;

/// The signal a selector byte picks.
pub fn signal_of(byte: u8) -> Signal {
    match byte % 3 {
        0 => Signal::Logs,
        1 => Signal::Traces,
        _ => Signal::Metrics,
    }
}

/// How a body is decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// `ExportRequest::decode_protobuf`.
    Protobuf,
    /// `ExportRequest::decode_json`.
    Json,
    /// `ExportRequest::decode_jsonl`.
    JsonLines,
}

/// Decodes `body` as a `signal` request with `decoder` and, when that succeeds, converts it to
/// Arrow. Asserts that a successful conversion holds exactly one row per decoded record.
pub fn decode_and_convert(signal: Signal, decoder: Decoder, body: &[u8]) {
    match signal {
        Signal::Logs => run::<LogsRequest<'_>>(decoder, body, convert_logs),
        Signal::Traces => run::<TracesRequest<'_>>(decoder, body, convert_traces),
        Signal::Metrics => run::<MetricsRequest<'_>>(decoder, body, convert_metrics),
    }
}

fn run<'a, R: ExportRequest<'a>>(
    decoder: Decoder,
    body: &'a [u8],
    convert: fn(&R, i64) -> Result<Vec<Partition>, WriterError>,
) {
    let decoded = match decoder {
        Decoder::Protobuf => R::decode_protobuf(body),
        Decoder::Json => R::decode_json(body),
        Decoder::JsonLines => R::decode_jsonl(body),
    };
    let Ok(request) = decoded else {
        return;
    };
    match convert(&request, RECEIVED_AT_NS) {
        Ok(partitions) => {
            let rows: usize = partitions.iter().map(Partition::num_rows).sum();
            assert_eq!(
                rows,
                request.record_count(),
                "rows converted != records decoded"
            );
            for p in &partitions {
                assert!(p.num_rows() > 0, "empty partition for {:?}", p.table);
            }
        }
        // Values no column can hold (a time past 2262) are the client's fault: a 400.
        Err(WriterError::InvalidRecord(_)) => {}
        Err(e) => panic!("conversion failed on a decoded request: {e}"),
    }
}

/// Runs a future that never waits (the pipeline over `MemoryStorage`) to completion.
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    // The in-memory store never returns Pending; a bounded loop still ends if one ever did
    // yield once, and a real wait fails loudly instead of hanging the fuzzer.
    for _ in 0..1000 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("the future kept waiting: only in-memory work can run here")
}
