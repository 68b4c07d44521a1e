"""Requests for the spool tests, and the check of the merged files the Worker wrote from them.

    merged.py generate DIR N START_NS   writes N requests to DIR: NNN-<signal>.pb or .json, built
                                        with the official opentelemetry-proto classes; logs, spans and
                                        every metric type in turn, each for one of three services,
                                        every record with its own time from START_NS on
    merged.py generate-large DIR N START_NS
                                        N log requests of 1 000 records with 1 KiB bodies of random
                                        base64 (barely compressible): files past a multipart part
    merged.py check REQUESTS OUT        OUT holds the objects the Worker wrote (keys as paths). The
                                        reference implementation converts every request; per (table,
                                        service, hour) the rows of our files must equal the union of
                                        its rows, each file in time order; then the files load into
                                        ClickHouse (chdb) and DuckDB with the same values (the
                                        handlers' check_files.py does the engine part)

Prints a summary line; exits non-zero on the first mismatches.
"""
import glob
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "crates", "otlp2parquet-handlers", "tests", "e2e"))
import check_files as cf  # noqa: E402
from check_files import reference  # noqa: E402

SERVICES = ["checkout", "payments", "search"]
METRICS = ["gauge", "sum", "histogram", "exponential_histogram", "summary"]


def kv(key, value):
    from opentelemetry.proto.common.v1 import common_pb2
    return common_pb2.KeyValue(key=key, value=common_pb2.AnyValue(string_value=value))


def resource(service):
    from opentelemetry.proto.resource.v1 import resource_pb2
    return resource_pb2.Resource(attributes=[kv("service.name", service), kv("host.name", "e2e")])


def logs(i, service, t):
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as svc
    from opentelemetry.proto.logs.v1 import logs_pb2
    records = [logs_pb2.LogRecord(time_unix_nano=t + j * 1000, observed_time_unix_nano=t + j * 1000 + 5,
                                  severity_number=9, severity_text="INFO",
                                  body={"string_value": f"request {i} line {j}"},
                                  attributes=[kv("request", str(i)), kv("line", str(j))])
               for j in range(5)]
    return svc.ExportLogsServiceRequest(resource_logs=[logs_pb2.ResourceLogs(
        resource=resource(service), scope_logs=[logs_pb2.ScopeLogs(log_records=records)])])


def traces(i, service, t):
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as svc
    from opentelemetry.proto.trace.v1 import trace_pb2
    spans = [trace_pb2.Span(trace_id=bytes([i % 256, j + 1]) + bytes(14), span_id=bytes([j + 1]) + bytes(7),
                            name=f"op-{j}", kind=2, start_time_unix_nano=t + j * 1000,
                            end_time_unix_nano=t + j * 1000 + 500,
                            attributes=[kv("request", str(i))],
                            status=trace_pb2.Status(code=1))
             for j in range(4)]
    return svc.ExportTraceServiceRequest(resource_spans=[trace_pb2.ResourceSpans(
        resource=resource(service), scope_spans=[trace_pb2.ScopeSpans(spans=spans)])])


def metrics(i, service, t):
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as svc
    from opentelemetry.proto.metrics.v1 import metrics_pb2 as m
    kind = METRICS[(i // 3) % len(METRICS)]
    attrs = [kv("request", str(i))]
    if kind == "gauge":
        metric = m.Metric(name="queue.depth", gauge=m.Gauge(data_points=[
            m.NumberDataPoint(time_unix_nano=t + j, as_int=i * 10 + j, attributes=attrs) for j in range(3)]))
    elif kind == "sum":
        metric = m.Metric(name="requests", sum=m.Sum(aggregation_temporality=2, is_monotonic=True, data_points=[
            m.NumberDataPoint(time_unix_nano=t + j, start_time_unix_nano=t - 10**9, as_double=i + j / 4,
                              attributes=attrs) for j in range(3)]))
    elif kind == "histogram":
        metric = m.Metric(name="latency", histogram=m.Histogram(aggregation_temporality=2, data_points=[
            m.HistogramDataPoint(time_unix_nano=t + j, count=3, sum=6.5, bucket_counts=[1, 2, 0],
                                 explicit_bounds=[1.0, 5.0], attributes=attrs) for j in range(2)]))
    elif kind == "exponential_histogram":
        metric = m.Metric(name="size", exponential_histogram=m.ExponentialHistogram(
            aggregation_temporality=2, data_points=[
                m.ExponentialHistogramDataPoint(
                    time_unix_nano=t + j, count=4, sum=10.0, scale=1, zero_count=1,
                    positive=m.ExponentialHistogramDataPoint.Buckets(offset=0, bucket_counts=[1, 2]),
                    attributes=attrs) for j in range(2)]))
    else:
        metric = m.Metric(name="rtt", summary=m.Summary(data_points=[
            m.SummaryDataPoint(time_unix_nano=t + j, count=2, sum=3.0, attributes=attrs,
                               quantile_values=[m.SummaryDataPoint.ValueAtQuantile(quantile=0.5, value=1.5)])
            for j in range(2)]))
    return svc.ExportMetricsServiceRequest(resource_metrics=[m.ResourceMetrics(
        resource=resource(service), scope_metrics=[m.ScopeMetrics(metrics=[metric])])])


def generate(out, n, start_ns):
    from google.protobuf import json_format
    os.makedirs(out, exist_ok=True)
    builders = [("logs", logs), ("traces", traces), ("metrics", metrics)]
    for i in range(n):
        signal, build = builders[i % 3]
        msg = build(i, SERVICES[(i // 3) % 3], start_ns + i * 1_000_000)
        # Protobuf and JSON alternate in pairs, so that each signal gets both.
        if (i // 3) % 2 == 0:
            data, ext = msg.SerializeToString(), "pb"
        else:
            data, ext = json_format.MessageToJson(msg).encode(), "json"
        with open(os.path.join(out, f"{i:03d}-{signal}.{ext}"), "wb") as f:
            f.write(data)
    print(f"generated {n} requests")


def table_of(group):
    """The table name of a partition path: logs, traces or the metric type."""
    parts = group.split("/")
    return parts[1] if parts[0] == "metrics" else parts[0]


def time_column(table_name):
    return "TimeUnix" if table_name in METRICS else "Timestamp"


def generate_large(out, n, start_ns):
    import base64
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as svc
    from opentelemetry.proto.logs.v1 import logs_pb2
    os.makedirs(out, exist_ok=True)
    for i in range(n):
        t = start_ns + i * 1_000_000_000
        records = [logs_pb2.LogRecord(time_unix_nano=t + j * 1000, severity_number=9,
                                      body={"string_value": base64.b64encode(os.urandom(768)).decode()})
                   for j in range(1000)]
        msg = svc.ExportLogsServiceRequest(resource_logs=[logs_pb2.ResourceLogs(
            resource=resource("bulk"), scope_logs=[logs_pb2.ScopeLogs(log_records=records)])])
        with open(os.path.join(out, f"{i:03d}-logs.pb"), "wb") as f:
            f.write(msg.SerializeToString())
    print(f"generated {n} large requests")


def group_of(key):
    """(table, service, hour directory) of an object key or a reference key."""
    return key.rsplit("/", 1)[0]


def check(requests, out):
    expected = {}
    for path in sorted(glob.glob(os.path.join(requests, "*"))):
        name = os.path.basename(path)
        signal = name.split("-", 1)[1].split(".")[0]
        for key, table in reference.convert(signal, cf.fixture_as_json(path, signal), 0).items():
            expected.setdefault(group_of(key), []).append(table)
    ours = {}
    for path in glob.glob(os.path.join(out, "**", "*.parquet"), recursive=True):
        key = os.path.relpath(path, out)
        if not cf.KEY_RE.match(key):
            cf.fail(f"key {key!r} does not follow docs/keys.md#layout")
        ours.setdefault(group_of(key), []).append(path)
    if sorted(ours) != sorted(expected):
        cf.fail(f"partitions differ\n  expected {sorted(expected)}\n  got      {sorted(ours)}")
    by_table = {}
    rows = 0
    for group, refs in expected.items():
        ref = pa.concat_tables(refs)
        paths = sorted(ours.get(group, []))
        got = [pq.read_table(p) for p in paths]
        for p, t in zip(paths, got):
            times = t.column(time_column(table_of(group))).cast(pa.int64()).to_pylist()
            if times != sorted(times):
                cf.fail(f"{p}: rows not in time order")
        if not got:
            continue
        if got[0].schema.remove_metadata() != ref.schema.remove_metadata():
            cf.fail(f"{group}: schema differs\n{got[0].schema}\nvs reference\n{ref.schema}")
            continue
        merged = pa.concat_tables([t.replace_schema_metadata(None) for t in got])
        cf.compare_rows(f"{group} (pyarrow)", cf.ref_rows(ref), cf.ref_rows(merged), ref.schema.names)
        rows += merged.num_rows
        table_name = table_of(group)
        items = by_table.setdefault(table_name, [])
        items.append((paths[0], ref))
        items.extend((p, ref.slice(0, 0)) for p in paths[1:])
    from chdb import session as chs
    session = chs.Session()
    cf.create_tables(session)
    cf.check_engines("merged", by_table, session)
    files = sum(len(v) for v in ours.values())
    if cf.failures:
        print(f"{len(cf.failures)} failure(s)")
        sys.exit(1)
    print(f"{rows} rows in {files} files over {len(ours)} partitions match the reference "
          f"in pyarrow, ClickHouse and DuckDB")


if __name__ == "__main__":
    if sys.argv[1] == "generate":
        generate(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "generate-large":
        generate_large(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        check(sys.argv[2], sys.argv[3])
