"""Checks that the Parquet files the server wrote hold exactly what the SDK senders reported.

    check_sdk.py DATA_DIR REPORT.json [REPORT.json ...]

Each report is the JSON a sender (python/send.py, node/send.mjs) printed: its service name, run id
and the spans, log records and metric points it sent, with attribute values already stringified as
docs/schema.md#value-strings stores them. For every report:

- the keys follow docs/keys.md under traces/<service>/, logs/<service>/, metrics/<kind>/<service>/,
  and the files of a kind the sender did not send are absent;
- each table holds exactly as many rows as were sent, every row belongs to this service and run, and
  every sent record is found by its identity (SpanId, log Body, metric name + attributes) with its
  values: span names, kinds, parent/child links, status, attributes and event names; log severity,
  body, attributes (exactly, apart from those a logging bridge adds under the report's
  `bridge_attribute_prefix`) and trace context; metric values, monotonicity, histogram counts, sums, min/max,
  bounds and bucket counts, exponential histogram counts;
- DuckDB, reading the whole directory with hive partitioning, sees the same row counts per service
  and puts every row in the hour partition of its own timestamp.

No file under DATA_DIR may belong to anything but a report. Prints "sdk files match" on success;
otherwise exits non-zero after listing every mismatch.
"""
import glob
import json
import math
import os
import re
import sys

import duckdb
import pyarrow.parquet as pq

KINDS = ["gauge", "sum", "histogram", "exponential_histogram", "summary"]
KEY_RE = re.compile(
    r"^(logs|traces|metrics/(?:gauge|sum|histogram|exponential_histogram|summary))/([A-Za-z0-9._-]{1,128})/"
    r"year=(\d{4})/month=(\d{2})/day=(\d{2})/hour=(\d{2})/(\d+)-[0-9a-f]{32}\.parquet$")

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def expect(what, got, want):
    if got != want:
        fail(f"{what}: got {got!r}, want {want!r}")


def close(a, b):
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def rows_of(data, table, service):
    files = sorted(glob.glob(os.path.join(data, table, service, "**", "*.parquet"), recursive=True))
    rows = []
    for f in files:
        rows.extend(pq.read_table(f).to_pylist())
    return files, rows


def as_dict(entries):
    return dict(entries)


def common_row_checks(where, row, report):
    expect(f"{where} ServiceName", row["ServiceName"], report["service"])
    resource = as_dict(row["ResourceAttributes"])
    expect(f"{where} ResourceAttributes[test.run_id]", resource.get("test.run_id"), report["run_id"])
    expect(f"{where} ResourceAttributes[service.name]", resource.get("service.name"), report["service"])


def check_traces(data, report):
    svc = report["service"]
    _, rows = rows_of(data, "traces", svc)
    expect(f"{svc}: span rows", len(rows), len(report["spans"]))
    by_id = {r["SpanId"]: r for r in rows}
    expect(f"{svc}: distinct SpanIds", len(by_id), len(rows))
    for want in report["spans"]:
        where = f"{svc}: span {want['name']} ({want['span_id']})"
        row = by_id.get(want["span_id"])
        if row is None:
            fail(f"{where}: missing")
            continue
        common_row_checks(where, row, report)
        expect(f"{where} TraceId", row["TraceId"], want["trace_id"])
        expect(f"{where} SpanName", row["SpanName"], want["name"])
        expect(f"{where} SpanKind", row["SpanKind"], want["kind"])
        expect(f"{where} ParentSpanId", row["ParentSpanId"], want["parent_span_id"])
        if want["parent_span_id"] and want["parent_span_id"] not in by_id:
            fail(f"{where}: parent {want['parent_span_id']} is not a stored span")
        expect(f"{where} StatusCode", row["StatusCode"], want["status_code"])
        expect(f"{where} StatusMessage", row["StatusMessage"], want["status_message"])
        expect(f"{where} SpanAttributes", as_dict(row["SpanAttributes"]), want["attributes"])
        expect(f"{where} Events.Name", row["Events.Name"], want["events"])
        if row["Duration"] <= 0:
            fail(f"{where}: Duration {row['Duration']} not positive")


def check_logs(data, report, span_ids):
    svc = report["service"]
    _, rows = rows_of(data, "logs", svc)
    expect(f"{svc}: log rows", len(rows), len(report["logs"]))
    by_body = {r["Body"]: r for r in rows}
    for want in report["logs"]:
        where = f"{svc}: log {want['body']!r}"
        row = by_body.get(want["body"])
        if row is None:
            fail(f"{where}: missing")
            continue
        common_row_checks(where, row, report)
        expect(f"{where} SeverityText", row["SeverityText"], want["severity_text"])
        expect(f"{where} SeverityNumber", row["SeverityNumber"], want["severity_number"])
        # A logging bridge may add attributes of its own (Python's: code.*), named by the report.
        prefix = report.get("bridge_attribute_prefix")
        attrs = {k: v for k, v in row["LogAttributes"] if not (prefix and k.startswith(prefix))}
        expect(f"{where} LogAttributes", attrs, want["attributes"])
        expect(f"{where} TraceId", row["TraceId"], want["trace_id"])
        expect(f"{where} SpanId", row["SpanId"], want["span_id"])
        if want["span_id"] and want["span_id"] not in span_ids:
            fail(f"{where}: SpanId {want['span_id']} is not a stored span")


def metric_key(name, attributes):
    return (name, tuple(sorted(attributes.items())))


def check_metrics(data, report):
    svc = report["service"]
    for kind in KINDS:
        wants = report["metrics"].get(kind, [])
        files, rows = rows_of(data, os.path.join("metrics", kind), svc)
        if not wants:
            expect(f"{svc}: metrics/{kind} files", files, [])
            continue
        expect(f"{svc}: metrics/{kind} rows", len(rows), len(wants))
        by_key = {metric_key(r["MetricName"], as_dict(r["Attributes"])): r for r in rows}
        for want in wants:
            where = f"{svc}: {kind} {want['name']} {want['attributes']}"
            row = by_key.get(metric_key(want["name"], want["attributes"]))
            if row is None:
                fail(f"{where}: missing")
                continue
            common_row_checks(where, row, report)
            if kind in ("gauge", "sum"):
                if not close(row["Value"], want["value"]):
                    fail(f"{where} Value: got {row['Value']!r}, want {want['value']!r}")
            if kind == "sum":
                expect(f"{where} IsMonotonic", row["IsMonotonic"], want["is_monotonic"])
                expect(f"{where} AggregationTemporality (cumulative)", row["AggregationTemporality"], 2)
            if kind in ("histogram", "exponential_histogram"):
                expect(f"{where} Count", row["Count"], want["count"])
                for col in ("Sum", "Min", "Max"):
                    if not close(row[col], want[col.lower()]):
                        fail(f"{where} {col}: got {row[col]!r}, want {want[col.lower()]!r}")
            if kind == "histogram":
                expect(f"{where} ExplicitBounds", row["ExplicitBounds"], [float(b) for b in want["bounds"]])
                expect(f"{where} BucketCounts", row["BucketCounts"], want["bucket_counts"])
            if kind == "exponential_histogram":
                expect(f"{where} ZeroCount", row["ZeroCount"], want["zero_count"])
                in_buckets = (row["ZeroCount"] + sum(row["PositiveBucketCounts"])
                              + sum(row["NegativeBucketCounts"]))
                expect(f"{where} ZeroCount + bucket counts", in_buckets, want["count"])


def check_keys(data, services):
    for path in sorted(glob.glob(os.path.join(data, "**", "*"), recursive=True)):
        if os.path.isdir(path):
            continue
        rel = os.path.relpath(path, data)
        m = KEY_RE.match(rel)
        if not m:
            fail(f"unexpected file {rel}")
        elif m.group(2) not in services:
            fail(f"file of an unknown service: {rel}")


def check_duckdb(data, reports):
    con = duckdb.connect()
    for table, field in (("traces", "spans"), ("logs", "logs")):
        pattern = os.path.join(data, table, "**", "*.parquet")
        got = dict(con.execute(
            f"SELECT ServiceName, count(*) FROM read_parquet('{pattern}', hive_partitioning=true) "
            "GROUP BY ServiceName").fetchall())
        expect(f"duckdb {table} rows per service", got,
               {r["service"]: len(r[field]) for r in reports})
        # Every row sits in the hour partition of its own timestamp (docs/keys.md#hours).
        misplaced = con.execute(
            f"SELECT count(*) FROM read_parquet('{pattern}', hive_partitioning=true) "
            "WHERE CAST(hour AS INTEGER) <> hour(Timestamp AT TIME ZONE 'UTC') "
            "OR CAST(day AS INTEGER) <> day(Timestamp AT TIME ZONE 'UTC')").fetchone()[0]
        expect(f"duckdb {table} rows outside their hour partition", misplaced, 0)
    pattern = os.path.join(data, "metrics", "sum", "**", "*.parquet")
    got = dict(con.execute(
        f"SELECT ServiceName || '/' || MetricName, sum(Value) FROM read_parquet('{pattern}', "
        "hive_partitioning=true) GROUP BY ALL").fetchall())
    want = {}
    for r in reports:
        for p in r["metrics"].get("sum", []):
            key = f"{r['service']}/{p['name']}"
            want[key] = want.get(key, 0) + p["value"]
    expect("duckdb sum of Value per service and metric", got, {k: float(v) for k, v in want.items()})


def main():
    data = sys.argv[1]
    reports = []
    for path in sys.argv[2:]:
        with open(path) as f:
            reports.append(json.load(f))
    if not reports:
        fail("no reports given")
    for report in reports:
        check_traces(data, report)
        span_ids = {s["span_id"] for s in report["spans"]}
        check_logs(data, report, span_ids)
        check_metrics(data, report)
    check_keys(data, {r["service"] for r in reports})
    check_duckdb(data, reports)
    if failures:
        print(f"{len(failures)} mismatches")
        sys.exit(1)
    print(f"sdk files match: {', '.join(r['service'] for r in reports)}")


if __name__ == "__main__":
    main()
