"""Sends traces, logs and metrics with the real OpenTelemetry Python SDK (OTLP/HTTP protobuf or
OTLP/gRPC).

    send.py ENDPOINT SERVICE none|gzip RUN_ID [http|grpc]

ENDPOINT is the server's base URL (http://127.0.0.1:PORT; for grpc, its gRPC port; https:// for
TLS, with the SDK's OTEL_EXPORTER_OTLP_CERTIFICATE / _CLIENT_CERTIFICATE / _CLIENT_KEY variables). Every provider is shut down before
exiting, which flushes what it buffered. Prints one JSON document on stdout: what was sent, as the
rows the server must store (attribute values already stringified the way
docs/schema.md#value-strings stores them).
Exits non-zero when an export was not acknowledged with success.
"""
import json
import logging
import sys

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.metrics import Observation
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExportResult
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricExportResult, PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import (
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
    View,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

N_STEPS = 6
BOUNDS = [1.0, 10.0, 100.0]
LATENCIES = [0.5, 3.0, 7.0, 12.0, 40.0, 250.0, 99.0]
EXP_VALUES = [0.25, 1.5, 3.0, 1000.0, 0.0]

failures = []


def recording(base, ok):
    """An exporter class that remembers every export that did not succeed."""

    class Recording(base):
        def export(self, *args, **kwargs):
            result = super().export(*args, **kwargs)
            if result != ok:
                failures.append(f"{base.__name__}: {result}")
            return result

    return Recording


def hex_id(value, width):
    return format(value, f"0{width}x")


def main():
    endpoint, service, compression, run_id = sys.argv[1:5]
    transport = sys.argv[5] if len(sys.argv) > 5 else "http"
    resource = Resource.create({"service.name": service, "test.run_id": run_id, "test.sdk": "python"})

    if transport == "grpc":
        import grpc
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogs
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetrics
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
        comp = {"none": grpc.Compression.NoCompression, "gzip": grpc.Compression.Gzip}[compression]
        # https:// is TLS, trusting OTEL_EXPORTER_OTLP_CERTIFICATE (and presenting
        # OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE / _CLIENT_KEY when set)
        insecure = not endpoint.startswith("https://")
        span_exporter = recording(GrpcSpans, SpanExportResult.SUCCESS)(
            endpoint=endpoint, insecure=insecure, compression=comp)
        log_exporter = recording(GrpcLogs, LogRecordExportResult.SUCCESS)(
            endpoint=endpoint, insecure=insecure, compression=comp)
        metric_exporter = recording(GrpcMetrics, MetricExportResult.SUCCESS)(
            endpoint=endpoint, insecure=insecure, compression=comp)
    else:
        comp = {"none": Compression.NoCompression, "gzip": Compression.Gzip}[compression]
        span_exporter = recording(OTLPSpanExporter, SpanExportResult.SUCCESS)(
            endpoint=endpoint + "/v1/traces", compression=comp)
        log_exporter = recording(OTLPLogExporter, LogRecordExportResult.SUCCESS)(
            endpoint=endpoint + "/v1/logs", compression=comp)
        metric_exporter = recording(OTLPMetricExporter, MetricExportResult.SUCCESS)(
            endpoint=endpoint + "/v1/metrics", compression=comp)

    tp = TracerProvider(resource=resource)
    tp.add_span_processor(BatchSpanProcessor(span_exporter))
    lp = LoggerProvider(resource=resource)
    lp.add_log_record_processor(BatchLogRecordProcessor(log_exporter))
    # One collection, at shutdown: the interval is far longer than the run.
    reader = PeriodicExportingMetricReader(metric_exporter, export_interval_millis=3_600_000)
    mp = MeterProvider(resource=resource, metric_readers=[reader], views=[
        View(instrument_name="sdk.latency", aggregation=ExplicitBucketHistogramAggregation(BOUNDS)),
        View(instrument_name="sdk.latency.exp", aggregation=ExponentialBucketHistogramAggregation()),
    ])

    app_log = logging.getLogger(f"sdk-test.{service}")
    app_log.setLevel(logging.DEBUG)
    app_log.propagate = False
    app_log.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=lp))

    spans, logs = [], []
    tracer = tp.get_tracer("sdk-test.tracer", "1.2.3")
    with tracer.start_as_current_span("GET /checkout", kind=SpanKind.SERVER) as root:
        root.set_attribute("http.request.method", "GET")
        root.set_attribute("http.response.status_code", 500)
        root.set_attribute("test.run_id", run_id)
        root.add_event("request.received", {"bytes": 128})
        root_ctx = root.get_span_context()
        children = []
        for i in range(N_STEPS):
            with tracer.start_as_current_span(f"step-{i}", kind=SpanKind.INTERNAL) as child:
                child.set_attribute("step.index", i)
                child.set_attribute("step.ratio", 0.25)
                child.set_attribute("step.cached", i % 2 == 0)
                child.set_attribute("step.tags", ["a", "b"])
                events = []
                if i == N_STEPS - 1:
                    child.add_event("retry", {"attempt": 2})
                    child.set_status(Status(StatusCode.ERROR, "step failed"))
                    events.append("retry")
                ctx = child.get_span_context()
                children.append({
                    "name": f"step-{i}", "kind": "SPAN_KIND_INTERNAL",
                    "trace_id": hex_id(ctx.trace_id, 32), "span_id": hex_id(ctx.span_id, 16),
                    "parent_span_id": hex_id(root_ctx.span_id, 16),
                    "status_code": "STATUS_CODE_ERROR" if events else "STATUS_CODE_UNSET",
                    "status_message": "step failed" if events else "",
                    "attributes": {"step.index": str(i), "step.ratio": "0.25",
                                   "step.cached": "true" if i % 2 == 0 else "false",
                                   "step.tags": '["a","b"]'},
                    "events": events,
                })
                # Logs inside a span carry its trace and span ids.
                body = f"step {i} done"
                level = [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR][i % 4]
                app_log.log(level, body, extra={"step.index": i, "run.id": run_id})
                logs.append({"body": body,
                             "severity_text": {10: "DEBUG", 20: "INFO", 30: "WARN", 40: "ERROR"}[level],
                             "severity_number": {10: 5, 20: 9, 30: 13, 40: 17}[level],
                             "attributes": {"step.index": str(i), "run.id": run_id},
                             "trace_id": hex_id(ctx.trace_id, 32), "span_id": hex_id(ctx.span_id, 16)})
        root.set_status(Status(StatusCode.ERROR, "checkout failed"))
    spans.append({
        "name": "GET /checkout", "kind": "SPAN_KIND_SERVER",
        "trace_id": hex_id(root_ctx.trace_id, 32), "span_id": hex_id(root_ctx.span_id, 16),
        "parent_span_id": "", "status_code": "STATUS_CODE_ERROR", "status_message": "checkout failed",
        "attributes": {"http.request.method": "GET", "http.response.status_code": "500",
                       "test.run_id": run_id},
        "events": ["request.received"],
    })
    spans.extend(children)

    # Outside any span: no trace context; a critical line and a structured (map) body.
    app_log.critical("payment backend down", extra={"backend": "pay-1", "retryable": True})
    logs.append({"body": "payment backend down", "severity_text": "FATAL", "severity_number": 21,
                 "attributes": {"backend": "pay-1", "retryable": "true"}, "trace_id": "", "span_id": ""})
    app_log.info({"user": "alice", "n": 3})
    logs.append({"body": '{"n":3,"user":"alice"}', "severity_text": "INFO", "severity_number": 9,
                 "attributes": {}, "trace_id": "", "span_id": ""})

    meter = mp.get_meter("sdk-test.meter", "0.1.0")
    requests = meter.create_counter("sdk.requests", unit="1", description="requests served")
    requests.add(3, {"route": "/a"})
    requests.add(4, {"route": "/a"})
    requests.add(5, {"route": "/b"})
    inflight = meter.create_up_down_counter("sdk.inflight")
    inflight.add(5)
    inflight.add(-2)
    latency = meter.create_histogram("sdk.latency", unit="ms")
    for v in LATENCIES:
        latency.record(v, {"route": "/a"})
    latency_exp = meter.create_histogram("sdk.latency.exp", unit="ms")
    for v in EXP_VALUES:
        latency_exp.record(v)
    meter.create_observable_gauge(
        "sdk.temperature", callbacks=[lambda _opts: [Observation(21.5, {"room": "lab"})]])
    meter.create_observable_counter(
        "sdk.cpu.time", callbacks=[lambda _opts: [Observation(1234, {"cpu": "0"})]])
    meter.create_observable_up_down_counter(
        "sdk.queue.depth", callbacks=[lambda _opts: [Observation(-7)]])

    buckets = [0] * (len(BOUNDS) + 1)
    for v in LATENCIES:
        buckets[next((i for i, b in enumerate(BOUNDS) if v <= b), len(BOUNDS))] += 1
    metrics = {
        "sum": [
            {"name": "sdk.requests", "attributes": {"route": "/a"}, "value": 7, "is_monotonic": True},
            {"name": "sdk.requests", "attributes": {"route": "/b"}, "value": 5, "is_monotonic": True},
            {"name": "sdk.inflight", "attributes": {}, "value": 3, "is_monotonic": False},
            {"name": "sdk.cpu.time", "attributes": {"cpu": "0"}, "value": 1234, "is_monotonic": True},
            {"name": "sdk.queue.depth", "attributes": {}, "value": -7, "is_monotonic": False},
        ],
        "gauge": [{"name": "sdk.temperature", "attributes": {"room": "lab"}, "value": 21.5}],
        "histogram": [{"name": "sdk.latency", "attributes": {"route": "/a"}, "count": len(LATENCIES),
                       "sum": sum(LATENCIES), "min": min(LATENCIES), "max": max(LATENCIES),
                       "bounds": BOUNDS, "bucket_counts": buckets}],
        "exponential_histogram": [{"name": "sdk.latency.exp", "attributes": {},
                                   "count": len(EXP_VALUES), "sum": sum(EXP_VALUES),
                                   "min": min(EXP_VALUES), "max": max(EXP_VALUES),
                                   "zero_count": EXP_VALUES.count(0.0)}],
    }

    tp.shutdown()
    lp.shutdown()
    mp.shutdown()
    if failures:
        print("exports failed: " + "; ".join(failures), file=sys.stderr)
        sys.exit(1)
    json.dump({"sdk": "python", "service": service, "run_id": run_id, "spans": spans, "logs": logs,
               "metrics": metrics, "bridge_attribute_prefix": "code."}, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
