//! Deterministic generators of realistic OTLP export requests, for tests and benchmarks of
//! every crate (feature `testing`).
//!
//! The same `(size, services, seed)` always gives the same request, on every platform: the
//! randomness comes from a small in-crate PRNG rather than a `rand` dependency. Records look
//! like what an instrumented HTTP service sends — a dozen attributes (method, route, status
//! code, user id, a duration as a double, a bool, …), trace and span ids, several services —
//! with time stamps spread over five minutes from [`BASE_TIME_UNIX_NANO`].

use crate::pb::{
    self, AnyValue, InstrumentationScope, KeyValue, Resource, any_value::Value, metric::Data,
};

/// The first time stamp of every generated request: 2025-01-15T10:00:00Z.
pub const BASE_TIME_UNIX_NANO: u64 = 1_736_935_200_000_000_000;

/// Records of one request are spread evenly over this many nanoseconds (five minutes).
const SPREAD_NANOS: u64 = 300_000_000_000;

const METHODS: [&str; 5] = ["GET", "GET", "GET", "POST", "DELETE"];
const ROUTES: [&str; 6] = [
    "/api/users/{id}",
    "/api/orders",
    "/api/orders/{id}",
    "/api/cart",
    "/health",
    "/api/products/{id}/reviews",
];
const STATUS_CODES: [i64; 6] = [200, 200, 200, 201, 404, 500];
const SERVICES: [&str; 6] = [
    "checkout", "frontend", "cart", "payment", "catalog", "shipping",
];
const REGIONS: [&str; 3] = ["eu-west-1", "us-east-1", "ap-south-1"];

/// SplitMix64: tiny, fast, and good enough to make test data look varied (also used by the
/// server's tests for junk bodies).
#[derive(Debug, Clone)]
pub struct Prng(u64);

impl Prng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x5851_f42d_4c95_7f2d)
    }

    /// The next 64 random bits.
    #[allow(
        clippy::should_implement_trait,
        reason = "not an iterator: it never ends"
    )]
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<T: Copy + Default>(&mut self, items: &[T]) -> T {
        let i = self.below(items.len() as u64) as usize;
        items.get(i).copied().unwrap_or_default()
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn trace_id(&mut self) -> Vec<u8> {
        let mut id = Vec::with_capacity(16);
        id.extend_from_slice(&self.next().to_be_bytes());
        id.extend_from_slice(&self.next().to_be_bytes());
        id
    }

    fn span_id(&mut self) -> Vec<u8> {
        self.next().to_be_bytes().to_vec()
    }
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
    }
}

fn s(v: impl Into<String>) -> Value {
    Value::StringValue(v.into())
}

fn resource(service: usize) -> Resource {
    let name = SERVICES
        .get(service % SERVICES.len())
        .copied()
        .unwrap_or("svc");
    let name = if service < SERVICES.len() {
        name.to_owned()
    } else {
        format!("{name}-{service}")
    };
    Resource {
        attributes: vec![
            kv("service.name", s(name)),
            kv("service.version", s(format!("1.{}.0", service % 4))),
            kv("service.namespace", s("shop")),
            kv(
                "host.name",
                s(format!("ip-10-0-{}-{}", service % 8, 17 + service)),
            ),
            kv("deployment.environment", s("production")),
            kv("telemetry.sdk.language", s("rust")),
            kv("telemetry.sdk.version", s("0.29.0")),
        ],
        dropped_attributes_count: 0,
    }
}

fn scope(name: &str) -> InstrumentationScope {
    InstrumentationScope {
        name: name.to_owned(),
        version: "0.29.0".to_owned(),
        attributes: Vec::new(),
        dropped_attributes_count: 0,
    }
}

/// Splits `total` records among `services` groups as evenly as possible (at least one group).
fn shares(total: usize, services: usize) -> impl Iterator<Item = (usize, usize)> {
    let services = services.max(1);
    (0..services).map(move |i| (i, total / services + usize::from(i < total % services)))
}

fn time_of(index: usize, total: usize) -> u64 {
    BASE_TIME_UNIX_NANO + SPREAD_NANOS / (total.max(1) as u64) * index as u64
}

/// The attributes of one HTTP request, twelve of them, as spans and logs carry them.
fn http_attributes(rng: &mut Prng) -> (Vec<KeyValue>, &'static str, &'static str, i64) {
    let method = rng.pick(&METHODS);
    let route = rng.pick(&ROUTES);
    let status = rng.pick(&STATUS_CODES);
    let duration_ms = (rng.unit() * 250.0 * 1000.0).round() / 1000.0;
    let attrs = vec![
        kv("http.request.method", s(method)),
        kv("http.route", s(route)),
        kv("http.response.status_code", Value::IntValue(status)),
        kv(
            "url.path",
            s(route.replace("{id}", &rng.below(100_000).to_string())),
        ),
        kv("url.scheme", s("https")),
        kv("server.address", s("api.shop.example")),
        kv("user.id", s(format!("user-{:06}", rng.below(50_000)))),
        kv("http.server.duration_ms", Value::DoubleValue(duration_ms)),
        kv("cache.hit", Value::BoolValue(rng.chance(30))),
        kv(
            "http.response.body.size",
            Value::IntValue(rng.below(64 * 1024) as i64),
        ),
        kv("cloud.region", s(rng.pick(&REGIONS))),
        kv("thread.id", Value::IntValue(rng.below(64) as i64)),
    ];
    (attrs, method, route, status)
}

/// An `ExportLogsServiceRequest` of `records` log records from `services` services.
pub fn logs_request(records: usize, services: usize, seed: u64) -> pb::ExportLogsServiceRequest {
    let mut rng = Prng::new(seed);
    let mut index = 0;
    let resource_logs = shares(records, services)
        .map(|(service, count)| {
            let log_records = (0..count)
                .map(|_| {
                    let time = time_of(index, records);
                    index += 1;
                    let (attributes, method, route, status) = http_attributes(&mut rng);
                    let (severity, text) = match status {
                        500.. => (pb::SeverityNumber::Error, "ERROR"),
                        400.. => (pb::SeverityNumber::Warn, "WARN"),
                        _ if rng.chance(10) => (pb::SeverityNumber::Debug, "DEBUG"),
                        _ => (pb::SeverityNumber::Info, "INFO"),
                    };
                    let traced = rng.chance(90);
                    pb::LogRecord {
                        time_unix_nano: time,
                        observed_time_unix_nano: time + rng.below(5_000_000),
                        severity_number: severity as i32,
                        severity_text: text.to_owned(),
                        body: Some(AnyValue {
                            value: Some(s(format!(
                                "{method} {route} completed with status {status}"
                            ))),
                        }),
                        attributes,
                        dropped_attributes_count: 0,
                        flags: u32::from(traced),
                        trace_id: if traced { rng.trace_id() } else { Vec::new() },
                        span_id: if traced { rng.span_id() } else { Vec::new() },
                        event_name: String::new(),
                    }
                })
                .collect();
            pb::ResourceLogs {
                resource: Some(resource(service)),
                scope_logs: vec![pb::ScopeLogs {
                    scope: Some(scope("shop.http.server")),
                    log_records,
                    schema_url: String::new(),
                }],
                schema_url: "https://opentelemetry.io/schemas/1.26.0".to_owned(),
            }
        })
        .collect();
    pb::ExportLogsServiceRequest { resource_logs }
}

/// An `ExportTraceServiceRequest` of `spans` spans from `services` services; some spans carry
/// events (exceptions, retries) and links.
pub fn traces_request(spans: usize, services: usize, seed: u64) -> pb::ExportTraceServiceRequest {
    use pb::{span::SpanKind, status::StatusCode};
    let mut rng = Prng::new(seed);
    let mut index = 0;
    let resource_spans = shares(spans, services)
        .map(|(service, count)| {
            let mut trace_id = rng.trace_id();
            let mut parent = Vec::new();
            let spans = (0..count)
                .map(|i| {
                    let start = time_of(index, spans);
                    index += 1;
                    // A new trace every eight spans; within one, each span is the child of the
                    // one before, as in a call chain.
                    if i % 8 == 0 {
                        trace_id = rng.trace_id();
                        parent = Vec::new();
                    }
                    let span_id = rng.span_id();
                    let (attributes, method, route, status) = http_attributes(&mut rng);
                    let duration = 100_000 + rng.below(250_000_000);
                    let mut events = Vec::new();
                    if status >= 500 {
                        events.push(pb::span::Event {
                            time_unix_nano: start + duration / 2,
                            name: "exception".to_owned(),
                            attributes: vec![
                                kv("exception.type", s("io::Error")),
                                kv("exception.message", s("connection reset by peer")),
                            ],
                            dropped_attributes_count: 0,
                        });
                    }
                    let links = if rng.chance(5) {
                        vec![pb::span::Link {
                            trace_id: rng.trace_id(),
                            span_id: rng.span_id(),
                            trace_state: String::new(),
                            attributes: vec![kv("link.reason", s("batch"))],
                            dropped_attributes_count: 0,
                            flags: 1,
                        }]
                    } else {
                        Vec::new()
                    };
                    pb::Span {
                        trace_id: trace_id.clone(),
                        span_id: span_id.clone(),
                        trace_state: String::new(),
                        parent_span_id: std::mem::replace(&mut parent, span_id),
                        flags: 1,
                        name: format!("{method} {route}"),
                        kind: if i % 8 == 0 {
                            SpanKind::Server
                        } else if rng.chance(50) {
                            SpanKind::Client
                        } else {
                            SpanKind::Internal
                        } as i32,
                        start_time_unix_nano: start,
                        end_time_unix_nano: start + duration,
                        attributes,
                        dropped_attributes_count: 0,
                        events,
                        dropped_events_count: 0,
                        links,
                        dropped_links_count: 0,
                        status: Some(pb::Status {
                            message: if status >= 500 {
                                "upstream failed".to_owned()
                            } else {
                                String::new()
                            },
                            code: if status >= 500 {
                                StatusCode::Error
                            } else {
                                StatusCode::Unset
                            } as i32,
                        }),
                    }
                })
                .collect();
            pb::ResourceSpans {
                resource: Some(resource(service)),
                scope_spans: vec![pb::ScopeSpans {
                    scope: Some(scope("shop.http.server")),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: "https://opentelemetry.io/schemas/1.26.0".to_owned(),
            }
        })
        .collect();
    pb::ExportTraceServiceRequest { resource_spans }
}

/// Data points per generated metric.
const POINTS_PER_METRIC: usize = 10;

/// An `ExportMetricsServiceRequest` of `points` data points from `services` services: metrics
/// of ten points each, cycling through gauge, sum, histogram, exponential histogram and
/// summary.
pub fn metrics_request(
    points: usize,
    services: usize,
    seed: u64,
) -> pb::ExportMetricsServiceRequest {
    let mut rng = Prng::new(seed);
    let mut index = 0;
    let resource_metrics = shares(points, services)
        .map(|(service, count)| {
            let mut metrics = Vec::new();
            let mut left = count;
            while left > 0 {
                let n = left.min(POINTS_PER_METRIC);
                left -= n;
                let kind = metrics.len() % 5;
                let times: Vec<u64> = (0..n)
                    .map(|_| {
                        index += 1;
                        time_of(index - 1, points)
                    })
                    .collect();
                metrics.push(metric(&mut rng, kind, &times));
            }
            pb::ResourceMetrics {
                resource: Some(resource(service)),
                scope_metrics: vec![pb::ScopeMetrics {
                    scope: Some(scope("shop.http.metrics")),
                    metrics,
                    schema_url: String::new(),
                }],
                schema_url: "https://opentelemetry.io/schemas/1.26.0".to_owned(),
            }
        })
        .collect();
    pb::ExportMetricsServiceRequest { resource_metrics }
}

/// Point attributes of a metric: fewer than a span's, as metric cardinality demands.
fn point_attributes(rng: &mut Prng) -> Vec<KeyValue> {
    vec![
        kv("http.request.method", s(rng.pick(&METHODS))),
        kv("http.route", s(rng.pick(&ROUTES))),
        kv(
            "http.response.status_code",
            Value::IntValue(rng.pick(&STATUS_CODES)),
        ),
        kv("cloud.region", s(rng.pick(&REGIONS))),
    ]
}

fn exemplars(rng: &mut Prng, time: u64, value: f64) -> Vec<pb::Exemplar> {
    if !rng.chance(20) {
        return Vec::new();
    }
    vec![pb::Exemplar {
        filtered_attributes: vec![kv("user.id", s(format!("user-{:06}", rng.below(50_000))))],
        time_unix_nano: time,
        span_id: rng.span_id(),
        trace_id: rng.trace_id(),
        value: Some(pb::exemplar::Value::AsDouble(value)),
    }]
}

fn metric(rng: &mut Prng, kind: usize, times: &[u64]) -> pb::Metric {
    let start = BASE_TIME_UNIX_NANO - 60_000_000_000;
    let (name, unit, description, data) = match kind {
        0 => (
            "process.cpu.utilization",
            "1",
            "CPU utilization of the process",
            Data::Gauge(pb::Gauge {
                data_points: times
                    .iter()
                    .map(|&time| pb::NumberDataPoint {
                        attributes: point_attributes(rng),
                        start_time_unix_nano: 0,
                        time_unix_nano: time,
                        exemplars: Vec::new(),
                        flags: 0,
                        value: Some(pb::number_data_point::Value::AsDouble(rng.unit())),
                    })
                    .collect(),
            }),
        ),
        1 => (
            "http.server.request.count",
            "{request}",
            "Requests served",
            Data::Sum(pb::Sum {
                data_points: times
                    .iter()
                    .map(|&time| pb::NumberDataPoint {
                        attributes: point_attributes(rng),
                        start_time_unix_nano: start,
                        time_unix_nano: time,
                        exemplars: exemplars(rng, time, 1.0),
                        flags: 0,
                        value: Some(pb::number_data_point::Value::AsInt(
                            rng.below(1_000_000) as i64
                        )),
                    })
                    .collect(),
                aggregation_temporality: pb::AggregationTemporality::Cumulative as i32,
                is_monotonic: true,
            }),
        ),
        2 => (
            "http.server.request.duration",
            "s",
            "Duration of HTTP server requests",
            Data::Histogram(pb::Histogram {
                data_points: times
                    .iter()
                    .map(|&time| histogram_point(rng, start, time))
                    .collect(),
                aggregation_temporality: pb::AggregationTemporality::Delta as i32,
            }),
        ),
        3 => (
            "db.client.operation.duration",
            "s",
            "Duration of database operations",
            Data::ExponentialHistogram(pb::ExponentialHistogram {
                data_points: times
                    .iter()
                    .map(|&time| exponential_point(rng, start, time))
                    .collect(),
                aggregation_temporality: pb::AggregationTemporality::Delta as i32,
            }),
        ),
        _ => (
            "rpc.server.payload.size",
            "By",
            "Size of request payloads",
            Data::Summary(pb::Summary {
                data_points: times
                    .iter()
                    .map(|&time| {
                        let count = 1 + rng.below(10_000);
                        pb::SummaryDataPoint {
                            attributes: point_attributes(rng),
                            start_time_unix_nano: start,
                            time_unix_nano: time,
                            count,
                            sum: count as f64 * 512.5,
                            quantile_values: [0.0, 0.5, 0.9, 0.99, 1.0]
                                .iter()
                                .map(|&q| pb::summary_data_point::ValueAtQuantile {
                                    quantile: q,
                                    value: 64.0 + q * 4096.0,
                                })
                                .collect(),
                            flags: 0,
                        }
                    })
                    .collect(),
            }),
        ),
    };
    pb::Metric {
        name: name.to_owned(),
        description: description.to_owned(),
        unit: unit.to_owned(),
        metadata: Vec::new(),
        data: Some(data),
    }
}

fn histogram_point(rng: &mut Prng, start: u64, time: u64) -> pb::HistogramDataPoint {
    let explicit_bounds = vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];
    let bucket_counts: Vec<u64> = (0..=explicit_bounds.len())
        .map(|_| rng.below(500))
        .collect();
    let count = bucket_counts.iter().sum();
    let sum = count as f64 * 0.137;
    pb::HistogramDataPoint {
        attributes: point_attributes(rng),
        start_time_unix_nano: start,
        time_unix_nano: time,
        count,
        sum: Some(sum),
        bucket_counts,
        explicit_bounds,
        exemplars: exemplars(rng, time, 0.137),
        flags: 0,
        min: Some(0.001),
        max: if rng.chance(80) { Some(4.2) } else { None },
    }
}

fn exponential_point(rng: &mut Prng, start: u64, time: u64) -> pb::ExponentialHistogramDataPoint {
    let buckets = |rng: &mut Prng, n: u64| pb::exponential_histogram_data_point::Buckets {
        offset: rng.below(20) as i32 - 10,
        bucket_counts: (0..n).map(|_| rng.below(300)).collect(),
    };
    let positive = buckets(rng, 16);
    let negative = buckets(rng, 2);
    let zero_count = rng.below(5);
    let count = zero_count
        + positive.bucket_counts.iter().sum::<u64>()
        + negative.bucket_counts.iter().sum::<u64>();
    pb::ExponentialHistogramDataPoint {
        attributes: point_attributes(rng),
        start_time_unix_nano: start,
        time_unix_nano: time,
        count,
        sum: Some(count as f64 * 0.021),
        scale: 3,
        zero_count,
        positive: Some(positive),
        negative: Some(negative),
        flags: 0,
        exemplars: Vec::new(),
        min: Some(-0.5),
        max: Some(12.0),
        zero_threshold: 1e-9,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn generators_are_deterministic_and_sized() {
        let a = logs_request(101, 3, 7);
        assert_eq!(a, logs_request(101, 3, 7));
        assert_ne!(a, logs_request(101, 3, 8));
        assert_eq!(a.resource_logs.len(), 3);
        let n: usize = a
            .resource_logs
            .iter()
            .map(|r| r.scope_logs[0].log_records.len())
            .sum();
        assert_eq!(n, 101);

        let t = traces_request(50, 4, 1);
        let n: usize = t
            .resource_spans
            .iter()
            .map(|r| r.scope_spans[0].spans.len())
            .sum();
        assert_eq!(n, 50);
        assert_eq!(
            t.resource_spans[0].scope_spans[0].spans[0].trace_id.len(),
            16
        );

        let m = metrics_request(123, 2, 1);
        let mut kinds = std::collections::HashSet::new();
        let mut points = 0;
        for metric in m
            .resource_metrics
            .iter()
            .flat_map(|r| &r.scope_metrics[0].metrics)
        {
            let data = metric.data.as_ref().unwrap();
            points += match data {
                Data::Gauge(g) => g.data_points.len(),
                Data::Sum(s) => s.data_points.len(),
                Data::Histogram(h) => h.data_points.len(),
                Data::ExponentialHistogram(h) => h.data_points.len(),
                Data::Summary(s) => s.data_points.len(),
            };
            kinds.insert(std::mem::discriminant(data));
        }
        assert_eq!(points, 123);
        assert_eq!(kinds.len(), 5);
        assert!(!m.encode_to_vec().is_empty());
    }
}
