"""Exports one span with the Python SDK over OTLP/HTTP and over OTLP/gRPC with TLS, and reports
whether each export succeeded (the mutual TLS test runs it without a client certificate).

    refused.py HTTPS_BASE_URL HTTPS_GRPC_URL

Certificates come from the SDK's own variables (OTEL_EXPORTER_OTLP_CERTIFICATE, and
_CLIENT_CERTIFICATE / _CLIENT_KEY when set). Prints one JSON object:
{"http": "SUCCESS"|"FAILURE", "grpc": ...}. Exits 0 either way.
"""
import json
import sys

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor


class Recording:
    """Passes spans to an exporter and keeps each export's result."""

    def __init__(self, inner):
        self.inner = inner
        self.results = []

    def export(self, spans):
        result = self.inner.export(spans)
        self.results.append(result.name)
        return result

    def shutdown(self):
        self.inner.shutdown()

    def force_flush(self, timeout_millis=30000):
        return True


def export_one(exporter):
    rec = Recording(exporter)
    tp = TracerProvider(resource=Resource.create({"service.name": "tls-refused"}))
    tp.add_span_processor(SimpleSpanProcessor(rec))
    tp.get_tracer("refused").start_span("one").end()
    tp.shutdown()
    return rec.results[0] if rec.results else "NOT_EXPORTED"


def main():
    http_url, grpc_url = sys.argv[1:3]
    out = {
        "http": export_one(HttpSpans(endpoint=http_url + "/v1/traces", timeout=3)),
        "grpc": export_one(GrpcSpans(endpoint=grpc_url, insecure=False, timeout=3)),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
