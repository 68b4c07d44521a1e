"""Reads back the Parquet files the pipeline wrote for every fixture and checks them three ways.

    check_files.py OUT_DIR RECEIVED_AT_NS

OUT_DIR holds one directory per fixture (named after the fixture file, e.g. `trace.pb/`), each with the
object keys the pipeline produced. For every fixture:

1. Reference: the fixture is decoded independently (JSON with Python's json module; protobuf with the
   official opentelemetry-proto classes, turned into OTLP/JSON), converted by testdata/reference/reference.py,
   and the result must equal our files exactly: same keys (up to the uuid), same schema, same rows.
2. ClickHouse (chdb): the files load with `INSERT INTO <table> SELECT * FROM file(..., Parquet)` into the
   exporter's tables (both generations of the logs table); row counts and the values of every column read
   back from ClickHouse equal the reference rows (attribute maps, SpanKind, StatusCode, event names,
   bucket counts, quantiles, ...).
3. DuckDB: the same comparison through read_parquet.

Exits non-zero with a description of the first mismatches.
"""
import glob
import json
import math
import os
import re
import sys

import pyarrow as pa
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "testdata", "reference"))
import reference  # noqa: E402

CH_TABLES = {
    "logs": ["otel_logs", "otel_logs_v2"],
    "traces": ["otel_traces"],
    "gauge": ["otel_metrics_gauge"],
    "sum": ["otel_metrics_sum"],
    "histogram": ["otel_metrics_histogram"],
    "exponential_histogram": ["otel_metrics_exponential_histogram"],
    "summary": ["otel_metrics_summary"],
}
KEY_RE = re.compile(
    r"^(logs|traces|metrics/(gauge|sum|histogram|exponential_histogram|summary))/[A-Za-z0-9._-]{1,128}/"
    r"year=\d{4}/month=\d{2}/day=\d{2}/hour=\d{2}/(\d+)-([0-9a-f]{32})\.parquet$")

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def signal_of(name):
    if name.startswith("log"):
        return "logs"
    if name.startswith("trace"):
        return "traces"
    return "metrics"


def fixture_as_json(path, signal):
    """The fixture as one OTLP/JSON request, decoded without any of our code."""
    data = open(path, "rb").read()
    if path.endswith(".json"):
        return data
    if path.endswith(".jsonl"):
        field = {"logs": "resourceLogs", "traces": "resourceSpans", "metrics": "resourceMetrics"}[signal]
        merged = []
        for line in data.split(b"\n"):
            if line.strip():
                merged.extend(json.loads(line).get(field) or [])
        return json.dumps({field: merged}).encode()
    from google.protobuf import json_format
    from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    cls = {"logs": logs_service_pb2.ExportLogsServiceRequest,
           "traces": trace_service_pb2.ExportTraceServiceRequest,
           "metrics": metrics_service_pb2.ExportMetricsServiceRequest}[signal]
    msg = cls()
    msg.ParseFromString(data)
    return json_format.MessageToJson(msg).encode()


def strip_uuid(key):
    return key.rsplit("-", 1)[0]


def norm(v):
    """Comparable form of a value read from pyarrow, ClickHouse or DuckDB."""
    if isinstance(v, float) and math.isnan(v):
        return "NaN"
    if isinstance(v, float) and v.is_integer():
        return int(v)                                      # ClickHouse's JSON prints 12.0 as 12
    if isinstance(v, dict):
        return sorted((k, norm(x)) for k, x in v.items())
    if isinstance(v, list) and v and isinstance(v[0], tuple) and len(v[0]) == 2:
        return sorted((k, norm(x)) for k, x in v)          # a map as pyarrow lists it
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, bool):
        return int(v)
    return v


def timestamp_columns(schema):
    out = {}
    for f in schema:
        t = f.type
        if pa.types.is_timestamp(t):
            out[f.name] = "scalar"
        elif pa.types.is_list(t) and pa.types.is_timestamp(t.value_type):
            out[f.name] = "list"
    return out


def ref_rows(table):
    """Reference rows with timestamps as integers (ns; TimestampTime in seconds)."""
    ts = timestamp_columns(table.schema)
    cols = {}
    for f in table.schema:
        col = table.column(f.name)
        if ts.get(f.name) == "scalar":
            unit = f.type.unit
            vals = col.cast(pa.int64()).to_pylist()
            cols[f.name] = [v // 1000 for v in vals] if unit == "ms" else vals
        elif ts.get(f.name) == "list":
            cols[f.name] = [list(v or []) for v in col.cast(pa.list_(pa.int64())).to_pylist()]
        else:
            cols[f.name] = col.to_pylist()
    n = table.num_rows
    return [{k: norm(v[i]) for k, v in cols.items()} for i in range(n)]


def select_list(schema, engine, ch_table=None):
    ts = timestamp_columns(schema)
    parts = []
    for f in schema:
        q = f'"{f.name}"' if engine == "duckdb" else f"`{f.name}`"
        if engine == "ch" and ch_table == "otel_logs" and f.name == "EventName":
            continue
        if engine == "ch" and ch_table == "otel_logs_v2" and f.name == "TimestampTime":
            continue
        if f.name == "TimestampTime":
            expr = f"toUnixTimestamp({q})" if engine == "ch" else f"epoch({q})::BIGINT"
        elif ts.get(f.name) == "scalar":
            expr = f"toUnixTimestamp64Nano({q})" if engine == "ch" else f"epoch_ns({q})"
        elif ts.get(f.name) == "list":
            expr = (f"arrayMap(x -> toUnixTimestamp64Nano(x), {q})" if engine == "ch"
                    else f"list_transform({q}, lambda x: epoch_ns(x))")
        else:
            expr = q
        parts.append((f.name, f"{expr} AS {q}"))
    return parts


def canon(rows, names):
    return sorted(json.dumps([r[n] for n in names], sort_keys=True, default=str) for r in rows)


def compare_rows(where, expected, got, names):
    e, g = canon(expected, names), canon(got, names)
    if len(e) != len(g):
        fail(f"{where}: {len(g)} rows, expected {len(e)}")
        return
    for a, b in zip(e, g):
        if a != b:
            fail(f"{where}: row differs\n  expected {a[:600]}\n  got      {b[:600]}")
            return


def check_reference(fixture_dir, name, signal, received_at):
    ours = {}
    for path in glob.glob(os.path.join(fixture_dir, "**", "*.parquet"), recursive=True):
        key = os.path.relpath(path, fixture_dir)
        m = KEY_RE.match(key)
        if not m:
            fail(f"{name}: key {key!r} does not follow docs/keys.md#layout")
            continue
        meta = pq.read_metadata(path).metadata or {}
        table = meta.get(b"otlp2parquet.schema", b"").decode()
        if not table.endswith("/v1") or b"otlp2parquet.version" not in meta:
            fail(f"{name}: {key}: footer metadata missing ({meta.keys()})")
        ours[strip_uuid(key)] = (path, table.split("/")[0])
    expected = reference.convert(signal, fixture_as_json(os.path.join(ROOT, "testdata", "otlp", name), signal),
                                 received_at)
    if sorted(ours) != sorted(expected):
        fail(f"{name}: keys differ\n  expected {sorted(expected)}\n  got      {sorted(ours)}")
        return {}
    by_table = {}
    for key, ref in expected.items():
        path, table_name = ours[key]
        got = pq.read_table(path)
        if got.schema.remove_metadata() != ref.schema.remove_metadata():
            fail(f"{name}: {key}: schema differs\n{got.schema}\nvs reference\n{ref.schema}")
            continue
        if not got.replace_schema_metadata(None).equals(ref.replace_schema_metadata(None)):
            compare_rows(f"{name}: {key} (pyarrow)", ref_rows(ref), ref_rows(got), ref.schema.names)
            if not failures:
                fail(f"{name}: {key}: tables differ in row order")
        by_table.setdefault(table_name, []).append((path, ref))
    return by_table


def check_engines(name, by_table, session):
    import duckdb
    for table_name, items in by_table.items():
        schema = items[0][1].schema
        expected = [r for _, ref in items for r in ref_rows(ref)]
        files = [p for p, _ in items]
        # ClickHouse: load into the exporter's tables, then read every column back.
        for ch_table in CH_TABLES[table_name]:
            session.query(f"TRUNCATE TABLE {ch_table}")
            for p in files:
                session.query(f"INSERT INTO {ch_table} SELECT * FROM file('{p}', Parquet)")
            cols = select_list(schema, "ch", ch_table)
            out = session.query(
                f"SELECT {', '.join(e for _, e in cols)} FROM {ch_table} "
                "SETTINGS output_format_json_quote_64bit_integers = 0", "JSONEachRow")
            got = [json.loads(line) for line in out.bytes().decode().splitlines() if line.strip()]
            got = [{k: norm(v) for k, v in r.items()} for r in got]
            compare_rows(f"{name}: ClickHouse {ch_table}", expected, got, [n for n, _ in cols])
            check_queries(name, table_name, ch_table, expected, session)
        # DuckDB: read the files directly.
        cols = select_list(schema, "duckdb")
        file_list = ", ".join(f"'{p}'" for p in files)
        res = duckdb.sql(f"SELECT {', '.join(e for _, e in cols)} FROM read_parquet([{file_list}])")
        got = [{n: norm(v) for n, v in zip(res.columns, row)} for row in res.fetchall()]
        compare_rows(f"{name}: DuckDB", expected, got, [n for n, _ in cols])


def check_queries(name, table_name, ch_table, expected, session):
    """Queries written for the exporter's tables, run unchanged on the loaded rows: map lookups and the
    enum-name columns, with expected counts computed from the reference rows."""
    def count(sql):
        return int(session.query(sql, "CSV").bytes().decode().strip())
    checks = []
    map_col = {"logs": "LogAttributes", "traces": "SpanAttributes"}.get(table_name, "Attributes")
    for row in expected:
        for k, v in row[map_col][:2]:
            want = sum(1 for r in expected if [k, v] in [list(e) for e in r[map_col]])
            ek, ev = k.replace("'", "\\'"), v.replace("'", "\\'")
            checks.append((f"{map_col}['{ek}'] = '{ev}'", want))
        break
    if table_name == "traces":
        for col in ("SpanKind", "StatusCode"):
            for value in sorted({r[col] for r in expected}):
                checks.append((f"{col} = '{value}'", sum(1 for r in expected if r[col] == value)))
        names = sorted({n for r in expected for n in r["Events.Name"]})
        for n in names[:3]:
            checks.append((f"has(`Events.Name`, '{n}')", sum(1 for r in expected if n in r["Events.Name"])))
    for where, want in checks:
        got = count(f"SELECT count() FROM {ch_table} WHERE {where}")
        if got != want:
            fail(f"{name}: ClickHouse {ch_table} WHERE {where}: {got} rows, expected {want}")


def create_tables(session):
    """The ClickHouse exporter's tables (testdata/clickhouse/otel_tables.sql) in database otel."""
    session.query("CREATE DATABASE IF NOT EXISTS otel")
    session.query("USE otel")
    ddl = open(os.path.join(ROOT, "testdata", "clickhouse", "otel_tables.sql")).read()
    for stmt in re.sub(r"--[^\n]*", "", ddl).split(";"):
        if stmt.strip():
            session.query(stmt)


def main():
    out_dir, received_at = sys.argv[1], int(sys.argv[2])
    from chdb import session as chs
    session = chs.Session()
    create_tables(session)
    fixtures = sorted(os.listdir(out_dir))
    if not fixtures:
        fail("no fixture output found")
    for name in fixtures:
        signal = signal_of(name)
        before = len(failures)
        by_table = check_reference(os.path.join(out_dir, name), name, signal, received_at)
        check_engines(name, by_table, session)
        rows = sum(r.num_rows for items in by_table.values() for _, r in items)
        status = "ok" if len(failures) == before else "FAILED"
        print(f"{name}: {rows} rows in {sum(len(v) for v in by_table.values())} files: "
              f"reference, ClickHouse, DuckDB {status}")
    if failures:
        print(f"{len(failures)} failure(s)")
        sys.exit(1)
    print("all fixtures match the reference in pyarrow, ClickHouse and DuckDB")


if __name__ == "__main__":
    main()
