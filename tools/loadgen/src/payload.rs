//! Pre-generated request bodies: distinct protobuf export requests built once, before the
//! clock starts, so the measured loop only sends bytes.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use otlp2parquet_proto::pb;
use otlp2parquet_proto::testing::{self, BASE_TIME_UNIX_NANO};
use prost::Message;

use crate::Signal;

/// How far the generators spread the records of one request (five minutes, see
/// `otlp2parquet_proto::testing`); shifted times end at "now" and start this much earlier.
const GENERATOR_SPREAD_NANOS: u64 = 300_000_000_000;

/// One request body, ready to send.
pub struct Payload {
    /// The (possibly gzip-compressed) protobuf body.
    pub body: Bytes,
    /// Records (log records or spans) the body carries.
    pub records: u64,
}

/// The set of bodies the connections cycle through.
pub struct Payloads {
    /// Distinct bodies, at least one.
    pub items: Vec<Payload>,
    /// Whether `body` is gzip-compressed.
    pub gzip: bool,
    /// Size of the encoded protobuf before compression, summed over `items`.
    pub raw_bytes: u64,
}

/// Builds `count` distinct requests of `batch` records from `services` services, with record
/// times moved to the last five minutes: the server partitions files by record hour, and a
/// benchmark writing into January 2025 would not look like production.
pub fn generate(
    signal: Signal,
    count: usize,
    batch: usize,
    services: usize,
    gzip: bool,
) -> std::io::Result<Payloads> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let shift = now.saturating_sub(BASE_TIME_UNIX_NANO + GENERATOR_SPREAD_NANOS);
    let mut items = Vec::with_capacity(count.max(1));
    let mut raw_bytes = 0u64;
    for seed in 0..count.max(1) as u64 {
        let (raw, records) = match signal {
            Signal::Logs => {
                let mut req = testing::logs_request(batch, services, seed);
                shift_logs(&mut req, shift);
                (req.encode_to_vec(), count_logs(&req))
            }
            Signal::Traces => {
                let mut req = testing::traces_request(batch, services, seed);
                shift_traces(&mut req, shift);
                (req.encode_to_vec(), count_spans(&req))
            }
        };
        raw_bytes += raw.len() as u64;
        let body = if gzip { gzip_bytes(&raw)? } else { raw };
        items.push(Payload {
            body: Bytes::from(body),
            records,
        });
    }
    Ok(Payloads {
        items,
        gzip,
        raw_bytes,
    })
}

fn gzip_bytes(raw: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(raw.len() / 4),
        flate2::Compression::fast(),
    );
    enc.write_all(raw)?;
    enc.finish()
}

/// Adds `shift` to every non-zero time stamp of a logs request.
pub fn shift_logs(req: &mut pb::ExportLogsServiceRequest, shift: u64) {
    let records = req
        .resource_logs
        .iter_mut()
        .flat_map(|r| r.scope_logs.iter_mut())
        .flat_map(|s| s.log_records.iter_mut());
    for record in records {
        shift_time(&mut record.time_unix_nano, shift);
        shift_time(&mut record.observed_time_unix_nano, shift);
    }
}

/// Adds `shift` to every non-zero time stamp of a traces request (spans and their events).
pub fn shift_traces(req: &mut pb::ExportTraceServiceRequest, shift: u64) {
    let spans = req
        .resource_spans
        .iter_mut()
        .flat_map(|r| r.scope_spans.iter_mut())
        .flat_map(|s| s.spans.iter_mut());
    for span in spans {
        shift_time(&mut span.start_time_unix_nano, shift);
        shift_time(&mut span.end_time_unix_nano, shift);
        for event in &mut span.events {
            shift_time(&mut event.time_unix_nano, shift);
        }
    }
}

/// Zero means "unset" in OTLP and must stay zero.
fn shift_time(t: &mut u64, shift: u64) {
    if *t != 0 {
        *t = t.saturating_add(shift);
    }
}

fn count_logs(req: &pb::ExportLogsServiceRequest) -> u64 {
    req.resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len() as u64)
        .sum()
}

fn count_spans(req: &pb::ExportTraceServiceRequest) -> u64 {
    req.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len() as u64)
        .sum()
}

/// Records the server reports as rejected in a 200 response's `partial_success` (an
/// undecodable body counts as none rejected).
pub fn rejected_in_response(signal: Signal, body: &[u8]) -> u64 {
    let rejected = match signal {
        Signal::Logs => pb::ExportLogsServiceResponse::decode(body)
            .ok()
            .and_then(|r| r.partial_success)
            .map_or(0, |p| p.rejected_log_records),
        Signal::Traces => pb::ExportTraceServiceResponse::decode(body)
            .ok()
            .and_then(|r| r.partial_success)
            .map_or(0, |p| p.rejected_spans),
    };
    u64::try_from(rejected).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_times_are_recent_and_counts_match() {
        let p = generate(Signal::Logs, 3, 100, 2, false).unwrap();
        assert_eq!(p.items.len(), 3);
        assert!(p.items.iter().all(|i| i.records == 100));
        let req = pb::ExportLogsServiceRequest::decode(p.items[0].body.as_ref()).unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        let t = req.resource_logs[0].scope_logs[0].log_records[0].time_unix_nano;
        assert!(t <= now && now - t <= GENERATOR_SPREAD_NANOS + 60_000_000_000);
    }

    #[test]
    fn zero_times_stay_unset() {
        let mut t = 0;
        shift_time(&mut t, 5);
        assert_eq!(t, 0);
        let mut t = 7;
        shift_time(&mut t, 5);
        assert_eq!(t, 12);
    }
}
