//! Owned prost types of the OTLP v1 messages (and `google.rpc.Status`), written by hand.
//!
//! They mirror `opentelemetry/proto/{common,resource,logs,trace,metrics,collector}/v1/*.proto`
//! field for field (same tags, same wire types), so encoding one of them produces exactly the
//! bytes an OpenTelemetry SDK would send. The receive path never uses them to decode — that is
//! [`crate::ExportRequest::decode_protobuf`], which borrows instead of allocating — they exist to
//! encode responses and error bodies, and to build requests in tests and benchmarks.
//!
//! Writing the derives by hand keeps the build free of `protoc` and build scripts. Nested
//! messages, oneofs and enums live in snake_case modules named after their parent message, the
//! layout `prost-build` would generate (`span::Event`, `metric::Data`, `any_value::Value`).

mod collector;
mod common;
mod logs;
mod metrics;
pub mod rpc;
mod trace;

pub use collector::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
pub use common::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, Resource, any_value,
};
pub use logs::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
pub use metrics::{
    AggregationTemporality, Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge,
    Histogram, HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
    Summary, SummaryDataPoint, exemplar, exponential_histogram_data_point, metric,
    number_data_point, summary_data_point,
};
pub use trace::{ResourceSpans, ScopeSpans, Span, Status, span, status};
