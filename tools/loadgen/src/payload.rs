//! Pre-generated request bodies: distinct protobuf export requests built once, before the
//! clock starts, so the measured loop only sends bytes.

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use otlp2parquet_proto::pb;
use otlp2parquet_proto::pb::metric::Data;
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
    /// Records (log records, spans or metric data points) the body carries.
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
/// benchmark writing into January 2025 would not look like production. For metrics a record is
/// a data point, and a request carries gauge, sum and histogram metrics only (see
/// [`metrics_request`]).
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
    let generated_points = match signal {
        Signal::Metrics => metrics_generated(batch, services)?,
        Signal::Logs | Signal::Traces => batch,
    };
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
            Signal::Metrics => {
                let mut req = metrics_request(generated_points, services, seed);
                let mut stamps = 0;
                map_metric_times(&mut req, |t| {
                    stamps += usize::from(*t != 0);
                    if fresh {
                        mark(t);
                    } else {
                        shift_time(t, shift);
                    }
                });
                (req.encode_to_vec(), count_points(&req), stamps)
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

/// Applies `f` to every time stamp of a metrics request: each data point's start time and
/// time, and the times of its exemplars.
pub fn map_metric_times(req: &mut pb::ExportMetricsServiceRequest, mut f: impl FnMut(&mut u64)) {
    let metrics = req
        .resource_metrics
        .iter_mut()
        .flat_map(|r| r.scope_metrics.iter_mut())
        .flat_map(|s| s.metrics.iter_mut());
    for metric in metrics {
        match &mut metric.data {
            Some(
                Data::Gauge(pb::Gauge { data_points }) | Data::Sum(pb::Sum { data_points, .. }),
            ) => {
                for p in data_points {
                    f(&mut p.start_time_unix_nano);
                    f(&mut p.time_unix_nano);
                    exemplar_times(&mut p.exemplars, &mut f);
                }
            }
            Some(Data::Histogram(h)) => {
                for p in &mut h.data_points {
                    f(&mut p.start_time_unix_nano);
                    f(&mut p.time_unix_nano);
                    exemplar_times(&mut p.exemplars, &mut f);
                }
            }
            Some(Data::ExponentialHistogram(h)) => {
                for p in &mut h.data_points {
                    f(&mut p.start_time_unix_nano);
                    f(&mut p.time_unix_nano);
                    exemplar_times(&mut p.exemplars, &mut f);
                }
            }
            Some(Data::Summary(sm)) => {
                for p in &mut sm.data_points {
                    f(&mut p.start_time_unix_nano);
                    f(&mut p.time_unix_nano);
                }
            }
            None => {}
        }
    }
}

fn exemplar_times(exemplars: &mut [pb::Exemplar], f: &mut impl FnMut(&mut u64)) {
    for e in exemplars {
        f(&mut e.time_unix_nano);
    }
}

/// The metric kinds the benchmark sends, as the "gauge, sum, histogram mixed": the
/// generator's exponential histograms and summaries are left out.
fn benchmark_kind(data: &Data) -> bool {
    matches!(data, Data::Gauge(_) | Data::Sum(_) | Data::Histogram(_))
}

/// The generator's metrics request of `generated` data points from `services` services (ten
/// points per metric, the kinds in turn) without its exponential histograms and summaries:
/// gauge, sum and histogram metrics only. [`metrics_generated`] tells how many to generate.
pub fn metrics_request(
    generated: usize,
    services: usize,
    seed: u64,
) -> pb::ExportMetricsServiceRequest {
    let mut req = testing::metrics_request(generated, services, seed);
    for resource in &mut req.resource_metrics {
        for scope in &mut resource.scope_metrics {
            scope
                .metrics
                .retain(|m| m.data.as_ref().is_some_and(benchmark_kind));
        }
        resource.scope_metrics.retain(|s| !s.metrics.is_empty());
    }
    req.resource_metrics.retain(|r| !r.scope_metrics.is_empty());
    req
}

/// The fewest data points to ask the generator for so that [`metrics_request`] keeps `points`
/// of them. What is kept depends on the count and the services, not on the seed; it never falls
/// when one more point is generated and grows by one at most, so this smallest count keeps
/// exactly `points`.
fn metrics_generated(points: usize, services: usize) -> std::io::Result<usize> {
    let kept = |generated| count_points(&metrics_request(generated, services, 0));
    let want = points as u64;
    // Three kinds in five are kept, and each service loses at most a partial cycle of
    // fifty points: 0.6 * generated - 30 * services ≥ points here.
    let mut hi = points
        .saturating_mul(2)
        .saturating_add(services.max(1).saturating_mul(50));
    if kept(hi) < want {
        return Err(std::io::Error::other(format!(
            "the metrics generator gives fewer than {points} gauge, sum and histogram points"
        )));
    }
    let mut lo = points;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if kept(mid) >= want {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Ok(hi)
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

/// Data points of a metrics request, every kind.
fn count_points(req: &pb::ExportMetricsServiceRequest) -> u64 {
    req.resource_metrics
        .iter()
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .map(|m| match &m.data {
            Some(Data::Gauge(g)) => g.data_points.len() as u64,
            Some(Data::Sum(s)) => s.data_points.len() as u64,
            Some(Data::Histogram(h)) => h.data_points.len() as u64,
            Some(Data::ExponentialHistogram(h)) => h.data_points.len() as u64,
            Some(Data::Summary(s)) => s.data_points.len() as u64,
            None => 0,
        })
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
        Signal::Metrics => pb::ExportMetricsServiceResponse::decode(body)
            .ok()
            .and_then(|r| r.partial_success)
            .map_or(0, |p| p.rejected_data_points),
    };
    u64::try_from(rejected).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_bodies_get_every_time_rewritten_to_the_last_second() {
        for signal in [Signal::Logs, Signal::Traces, Signal::Metrics] {
            let p = generate(signal, 2, 50, 2, false, true).unwrap();
            assert!(p.items.iter().all(|i| i.records == 50));
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
                Signal::Metrics => {
                    let mut req = pb::ExportMetricsServiceRequest::decode(body.as_ref()).unwrap();
                    assert_eq!(count_points(&req), 50);
                    // Gauges carry no start time: it stays 0, and is not counted.
                    map_metric_times(&mut req, |t| {
                        if *t != 0 {
                            times.push(*t);
                        }
                    });
                    for (start, time) in point_times(&req) {
                        assert!(start <= time, "start {start} after time {time}");
                    }
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

    /// `(start_time_unix_nano, time_unix_nano)` of every data point.
    fn point_times(req: &pb::ExportMetricsServiceRequest) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let metrics = req
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics);
        for m in metrics {
            match m.data.as_ref().unwrap() {
                Data::Gauge(g) => out.extend(
                    g.data_points
                        .iter()
                        .map(|p| (p.start_time_unix_nano, p.time_unix_nano)),
                ),
                Data::Sum(s) => out.extend(
                    s.data_points
                        .iter()
                        .map(|p| (p.start_time_unix_nano, p.time_unix_nano)),
                ),
                Data::Histogram(h) => out.extend(
                    h.data_points
                        .iter()
                        .map(|p| (p.start_time_unix_nano, p.time_unix_nano)),
                ),
                other => panic!("unexpected metric kind {other:?}"),
            }
        }
        out
    }

    #[test]
    fn metric_requests_mix_gauge_sum_and_histogram_and_counts_match() {
        for (batch, services) in [(512, 4), (100, 2), (1, 4), (37, 3), (1000, 1)] {
            for fresh in [false, true] {
                let p = generate(Signal::Metrics, 2, batch, services, false, fresh).unwrap();
                for item in &p.items {
                    assert_eq!(
                        item.records, batch as u64,
                        "{batch} points, {services} services"
                    );
                    let req = pb::ExportMetricsServiceRequest::decode(item.body.as_ref()).unwrap();
                    assert_eq!(count_points(&req), batch as u64);
                    assert_eq!(point_times(&req).len(), batch);
                    if fresh {
                        // Every data point has a time; sums and histograms a start time too.
                        let starts = point_times(&req).iter().filter(|(s, _)| *s != 0).count();
                        assert_eq!(item.times.len(), batch + starts + exemplar_count(&req));
                    }
                }
            }
        }
        // 512 points over 4 services: 128 each, as 5 gauges, 4 sums and 4 histograms.
        let p = generate(Signal::Metrics, 1, 512, 4, false, false).unwrap();
        let req = pb::ExportMetricsServiceRequest::decode(p.items[0].body.as_ref()).unwrap();
        assert_eq!(req.resource_metrics.len(), 4);
        let mut kinds = [0u64; 3];
        for m in req
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics)
            .flat_map(|s| &s.metrics)
        {
            match m.data.as_ref().unwrap() {
                Data::Gauge(g) => kinds[0] += g.data_points.len() as u64,
                Data::Sum(s) => kinds[1] += s.data_points.len() as u64,
                Data::Histogram(h) => kinds[2] += h.data_points.len() as u64,
                other => panic!("unexpected metric kind {other:?}"),
            }
        }
        assert_eq!(kinds, [192, 160, 160]);
        // Replayed times are recent, and start times stay before times.
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        for (start, time) in point_times(&req) {
            assert!(time <= now && now - time <= GENERATOR_SPREAD_NANOS + 60_000_000_000);
            assert!(start <= time);
        }
    }

    fn exemplar_count(req: &pb::ExportMetricsServiceRequest) -> usize {
        let mut copy = req.clone();
        let mut all = 0;
        map_metric_times(&mut copy, |t| all += usize::from(*t != 0));
        all - point_times(req)
            .iter()
            .map(|(s, t)| usize::from(*s != 0) + usize::from(*t != 0))
            .sum::<usize>()
    }

    #[test]
    fn rejections_are_read_from_partial_success() {
        let body = pb::ExportMetricsServiceResponse {
            partial_success: Some(pb::ExportMetricsPartialSuccess {
                rejected_data_points: 7,
                error_message: "too old".to_owned(),
            }),
        }
        .encode_to_vec();
        assert_eq!(rejected_in_response(Signal::Metrics, &body), 7);
        assert_eq!(rejected_in_response(Signal::Metrics, &[]), 0);
        let body = pb::ExportLogsServiceResponse {
            partial_success: Some(pb::ExportLogsPartialSuccess {
                rejected_log_records: 3,
                error_message: String::new(),
            }),
        }
        .encode_to_vec();
        assert_eq!(rejected_in_response(Signal::Logs, &body), 3);
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
