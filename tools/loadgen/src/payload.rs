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
    /// With fresh times: where each time stamp sits in `body` and how far (ns) after the
    /// request's earliest record it falls.
    pub times: Vec<(usize, u64)>,
}

/// Marks a time stamp in a body built for fresh times: the top 16 bits of the fixed64 value.
/// Real time stamps (2^60 ns is year 2006 + 36) never have them, nor does UTF-8 text.
const MARK: u64 = 0xA5A5 << 48;
/// Offsets below this fit under [`MARK`] (and five minutes of spread does easily).
const MARK_SPAN: u64 = 1 << 40;
/// A request's records are squeezed into this window ending at the send time, as an SDK's batch
/// processor exports what was recorded in the last second or so.
pub const FRESH_WINDOW_NANOS: u64 = 1_000_000_000;

/// Rewrites the marked time stamps of `p` so that its records end at `now_ns`.
pub fn freshen(p: &Payload, now_ns: u64) -> Bytes {
    let mut body = p.body.to_vec();
    let start = now_ns.saturating_sub(FRESH_WINDOW_NANOS);
    for &(at, offset) in &p.times {
        if let Some(slot) = body.get_mut(at..at + 8) {
            slot.copy_from_slice(&(start + offset).to_le_bytes());
        }
    }
    Bytes::from(body)
}

/// Replaces every non-zero time `t` with `MARK | (t - BASE) / scale`, the request's own
/// offset squeezed into [`FRESH_WINDOW_NANOS`].
fn mark(t: &mut u64) {
    if *t != 0 {
        let relative = t.saturating_sub(BASE_TIME_UNIX_NANO);
        let squeezed = relative / (GENERATOR_SPREAD_NANOS * 2 / FRESH_WINDOW_NANOS);
        *t = MARK | squeezed.min(MARK_SPAN - 1);
    }
}

/// The positions of the marked time stamps in an encoded body (fixed64 fields: tag byte, then
/// eight little-endian bytes), with their offsets.
fn find_marks(raw: &[u8]) -> Vec<(usize, u64)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i + 8 <= raw.len() {
        let mut word = [0u8; 8];
        if let Some(w) = raw.get(i..i + 8) {
            word.copy_from_slice(w);
        }
        let v = u64::from_le_bytes(word);
        if v & !(MARK_SPAN - 1) == MARK {
            found.push((i, v & (MARK_SPAN - 1)));
            i += 8;
        } else {
            i += 1;
        }
    }
    found
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
    fresh: bool,
) -> std::io::Result<Payloads> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    let shift = now.saturating_sub(BASE_TIME_UNIX_NANO + GENERATOR_SPREAD_NANOS);
    let mut items = Vec::with_capacity(count.max(1));
    let mut raw_bytes = 0u64;
    for seed in 0..count.max(1) as u64 {
        let (raw, records, stamps) = match signal {
            Signal::Logs => {
                let mut req = testing::logs_request(batch, services, seed);
                if fresh {
                    map_log_times(&mut req, mark);
                } else {
                    map_log_times(&mut req, |t| shift_time(t, shift));
                }
                (req.encode_to_vec(), count_logs(&req), log_stamps(&req))
            }
            Signal::Traces => {
                let mut req = testing::traces_request(batch, services, seed);
                if fresh {
                    map_trace_times(&mut req, mark);
                } else {
                    map_trace_times(&mut req, |t| shift_time(t, shift));
                }
                (req.encode_to_vec(), count_spans(&req), trace_stamps(&req))
            }
        };
        let times = if fresh { find_marks(&raw) } else { Vec::new() };
        if fresh && times.len() != stamps {
            return Err(std::io::Error::other(format!(
                "payload {seed}: found {} time stamps to refresh, expected {stamps}",
                times.len()
            )));
        }
        raw_bytes += raw.len() as u64;
        let body = if gzip { gzip_bytes(&raw)? } else { raw };
        items.push(Payload {
            body: Bytes::from(body),
            records,
            times,
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

/// Applies `f` to every time stamp of a logs request.
pub fn map_log_times(req: &mut pb::ExportLogsServiceRequest, mut f: impl FnMut(&mut u64)) {
    let records = req
        .resource_logs
        .iter_mut()
        .flat_map(|r| r.scope_logs.iter_mut())
        .flat_map(|s| s.log_records.iter_mut());
    for record in records {
        f(&mut record.time_unix_nano);
        f(&mut record.observed_time_unix_nano);
    }
}

/// Applies `f` to every time stamp of a traces request (spans and their events).
pub fn map_trace_times(req: &mut pb::ExportTraceServiceRequest, mut f: impl FnMut(&mut u64)) {
    let spans = req
        .resource_spans
        .iter_mut()
        .flat_map(|r| r.scope_spans.iter_mut())
        .flat_map(|s| s.spans.iter_mut());
    for span in spans {
        f(&mut span.start_time_unix_nano);
        f(&mut span.end_time_unix_nano);
        for event in &mut span.events {
            f(&mut event.time_unix_nano);
        }
    }
}

/// Non-zero time stamps of a logs request.
fn log_stamps(req: &pb::ExportLogsServiceRequest) -> usize {
    req.resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .flat_map(|s| &s.log_records)
        .map(|l| usize::from(l.time_unix_nano != 0) + usize::from(l.observed_time_unix_nano != 0))
        .sum()
}

/// Non-zero time stamps of a traces request.
fn trace_stamps(req: &pb::ExportTraceServiceRequest) -> usize {
    req.resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .map(|sp| {
            usize::from(sp.start_time_unix_nano != 0)
                + usize::from(sp.end_time_unix_nano != 0)
                + sp.events.iter().filter(|e| e.time_unix_nano != 0).count()
        })
        .sum()
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
    fn fresh_bodies_get_every_time_rewritten_to_the_last_second() {
        for signal in [Signal::Logs, Signal::Traces] {
            let p = generate(signal, 2, 50, 2, false, true).unwrap();
            let item = &p.items[1];
            assert!(!item.times.is_empty());
            let now = 1_800_000_000_000_000_000;
            let body = freshen(item, now);
            let mut times = Vec::new();
            match signal {
                Signal::Logs => {
                    let mut req = pb::ExportLogsServiceRequest::decode(body.as_ref()).unwrap();
                    map_log_times(&mut req, |t| times.push(*t));
                }
                Signal::Traces => {
                    let mut req = pb::ExportTraceServiceRequest::decode(body.as_ref()).unwrap();
                    map_trace_times(&mut req, |t| times.push(*t));
                }
            }
            assert_eq!(times.len(), item.times.len());
            for t in times {
                assert!(
                    t <= now + FRESH_WINDOW_NANOS && t + FRESH_WINDOW_NANOS >= now,
                    "{t}"
                );
            }
        }
    }

    #[test]
    fn generated_times_are_recent_and_counts_match() {
        let p = generate(Signal::Logs, 3, 100, 2, false, false).unwrap();
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
