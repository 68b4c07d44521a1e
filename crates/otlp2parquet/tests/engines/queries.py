"""Runs every query of docs/queries.md and checks its answer.

    queries.py DOCS_QUERIES_MD us=DIR_US ns=DIR_NS [trace_id=HEX|auto] [now=ISO8601|auto]

DIR_US and DIR_NS hold the same telemetry written with `parquet.timestamp_unit = "us"` and `"ns"`
(each holds logs/, traces/ and metrics/sum/). Every fenced block tagged ```sql ENGINE QUERY_ID``` is
extracted; `{dir}`, `{trace_id}` and `{now}` are replaced (now: a UTC time such as 2025-10-18T12:00:00Z).
The DuckDB and ClickHouse (chdb) blocks run against both directories, the Spark blocks against the us
directory only (one Spark session; the `spark setup` block runs first). Each answer is compared with
one computed here in plain Python from the same files read with pyarrow:

- errors_by_service: log records with SeverityNumber >= 17 in [now - 24 h, now), counted per ServiceName;
- p99_by_span_name: span count and the exact 0.99 quantile of Duration with linear interpolation
  (R7, numpy's default; DuckDB quantile_cont, ClickHouse quantileExactInclusive, Spark percentile), in ms;
- trace_lookup: exactly the spans and log records of the trace (kind, time, service, span id, text,
  duration), in time order;
- counter_rate: per point of every cumulative (AggregationTemporality = 2) monotonic sum series
  (ServiceName, MetricName, Attributes), after keeping the largest value per series and time:
  (increase, or the value itself after a reset) / seconds since the previous point.

trace_id=auto (the default) picks the trace with the most rows among those with both spans and log
records; now=auto (the default) is one second after the latest log record of severity >= 17 (both
looked up in the us directory). The chosen values are printed.

It fails (exit 1, every mismatch listed) when a block has an unknown engine or query id, when an engine
lacks a query, when a placeholder is left, when a query errors, when an expected answer is empty (the
data or the chosen trace_id/now would not exercise the query; the trace must have spans and logs), or
when an answer differs. Prints "N queries ran, results match" on success. run() does the same for a
caller that wants one Python process and one SparkSession (pass it in).
"""
import datetime
import decimal
import glob
import math
import os
import re
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import common  # beside this script

QUERY_IDS = ["errors_by_service", "p99_by_span_name", "trace_lookup", "counter_rate"]
ENGINES = ["duckdb", "clickhouse", "spark"]
COLUMNS = {
    "errors_by_service": ["ServiceName", "errors"],
    "p99_by_span_name": ["SpanName", "spans", "p99_ms"],
    "trace_lookup": ["Timestamp", "Kind", "ServiceName", "SpanId", "Text", "DurationMs"],
    "counter_rate": ["ServiceName", "MetricName", "Attributes", "TimeUnix", "rate"],
}
ERROR_WINDOW_NS = 24 * 3600 * 10**9
REL = 1e-9

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def usage(msg):
    print(f"queries.py: {msg}\nusage: queries.py DOCS_QUERIES_MD us=DIR_US ns=DIR_NS [trace_id=HEX|auto] [now=ISO8601|auto]",
          file=sys.stderr)
    sys.exit(2)


# ------------------------------------------------------------------------------------------------
# the blocks of the cookbook
# ------------------------------------------------------------------------------------------------
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)


def blocks(md_path):
    """[(engine, query_id, sql, line)] of every ```sql …``` block; an untagged or unknown one is a failure."""
    text = open(md_path, encoding="utf-8").read()
    out = []
    for m in FENCE.finditer(text):
        info = m.group(1).split()
        if not info or info[0] != "sql":
            continue
        line = text.count("\n", 0, m.start()) + 1
        if len(info) != 3:
            fail(f"{md_path}:{line}: sql block tagged {m.group(1)!r}: want ```sql ENGINE QUERY_ID```")
            continue
        _, engine, qid = info
        known = QUERY_IDS + (["setup"] if engine == "spark" else [])
        if engine not in ENGINES:
            fail(f"{md_path}:{line}: unknown engine {engine!r} (known: {', '.join(ENGINES)})")
        elif qid not in known:
            fail(f"{md_path}:{line}: {engine} block {qid!r} has no expected answer here (known: {', '.join(known)})")
        else:
            out.append((engine, qid, m.group(2), line))
    seen = {}
    for engine, qid, _, line in out:
        if (engine, qid) in seen:
            fail(f"{md_path}:{line}: second {engine} {qid} block (first at line {seen[engine, qid]})")
        seen[engine, qid] = line
    for engine in ENGINES:
        for qid in QUERY_IDS + (["setup"] if engine == "spark" else []):
            if (engine, qid) not in seen:
                fail(f"{md_path}: no ```sql {engine} {qid}``` block")
    return out


def fill(sql, dir_, trace_id, now):
    s = sql.replace("{dir}", dir_).replace("{trace_id}", trace_id).replace("{now}", now)
    left = re.findall(r"\{[A-Za-z_]+\}", s)
    if left:
        raise ValueError(f"placeholder(s) {sorted(set(left))} left in the query")
    return s


def statements(sql):
    return [s.strip() for s in re.split(r";[ \t]*$", sql, flags=re.M) if s.strip()]


# ------------------------------------------------------------------------------------------------
# reading the files (the baseline)
# ------------------------------------------------------------------------------------------------
def read(dir_, table, columns):
    files = sorted(glob.glob(os.path.join(dir_, table, "**", "*.parquet"), recursive=True))
    if not files:
        raise FileNotFoundError(f"no Parquet files under {os.path.join(dir_, table)}")
    parts = [pq.ParquetFile(f).read(columns=columns) for f in files]
    return pa.concat_tables([p.replace_schema_metadata(None) for p in parts])


def ns_ints(col):
    """A timestamp column as Python ints of epoch nanoseconds, whatever its unit."""
    unit = col.type.unit
    scale = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}[unit]
    return [None if v is None else v * scale for v in pc.cast(col, pa.int64()).to_pylist()]


def norm_value(v):
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dict):
        return tuple(sorted(v.items()))
    if isinstance(v, list) and all(isinstance(e, tuple) and len(e) == 2 for e in v):
        return tuple(sorted(v))
    if isinstance(v, list) and all(isinstance(e, dict) and set(e) == {"key", "value"} for e in v):
        return tuple(sorted((e["key"], e["value"]) for e in v))
    return v


def rows_of(table):
    """An engine's answer as a list of dicts: times as epoch ns ints, maps as sorted (key, value) tuples."""
    cols = {}
    for name in table.column_names:
        col = table.column(name)
        if pa.types.is_timestamp(col.type):
            cols[name] = ns_ints(col)
        else:
            cols[name] = [norm_value(v) for v in col.to_pylist()]
    return [{n: cols[n][i] for n in table.column_names} for i in range(table.num_rows)]


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-9)


def r7(sorted_vals, q):
    """Exact quantile with linear interpolation between closest ranks (R7 / numpy 'linear')."""
    h = (len(sorted_vals) - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (h - lo) * (sorted_vals[hi] - sorted_vals[lo])


def expected_answers(dir_, trace_id, now_ns):
    exp = {}
    t = read(dir_, "logs", ["Timestamp", "SeverityNumber", "ServiceName"])
    counts = {}
    for ts, sev, svc in zip(ns_ints(t["Timestamp"]), t["SeverityNumber"].to_pylist(), t["ServiceName"].to_pylist()):
        if sev >= 17 and now_ns - ERROR_WINDOW_NS <= ts < now_ns:
            counts[svc] = counts.get(svc, 0) + 1
    exp["errors_by_service"] = counts

    t = read(dir_, "traces", ["SpanName", "Duration"])
    by_name = {}
    for name, d in zip(t["SpanName"].to_pylist(), t["Duration"].to_pylist()):
        by_name.setdefault(name, []).append(d)
    exp["p99_by_span_name"] = {n: (len(v), r7(sorted(v), 0.99) / 1e6) for n, v in by_name.items()}

    rows = []
    t = read(dir_, "traces", ["Timestamp", "TraceId", "ServiceName", "SpanId", "SpanName", "Duration"])
    t = t.filter(pc.equal(t["TraceId"], trace_id))
    for ts, svc, sid, name, d in zip(ns_ints(t["Timestamp"]), *(t[c].to_pylist() for c in
                                                               ["ServiceName", "SpanId", "SpanName", "Duration"])):
        rows.append({"Timestamp": ts, "Kind": "span", "ServiceName": svc, "SpanId": sid, "Text": name,
                     "DurationMs": d / 1e6})
    t = read(dir_, "logs", ["Timestamp", "TraceId", "ServiceName", "SpanId", "Body"])
    t = t.filter(pc.equal(t["TraceId"], trace_id))
    for ts, svc, sid, body in zip(ns_ints(t["Timestamp"]), *(t[c].to_pylist() for c in ["ServiceName", "SpanId", "Body"])):
        rows.append({"Timestamp": ts, "Kind": "log", "ServiceName": svc, "SpanId": sid, "Text": body, "DurationMs": None})
    exp["trace_lookup"] = rows

    t = read(dir_, os.path.join("metrics", "sum"),
             ["ServiceName", "MetricName", "Attributes", "TimeUnix", "Value", "AggregationTemporality", "IsMonotonic"])
    points = {}
    for svc, metric, attrs, ts, v, temp, mono in zip(
            t["ServiceName"].to_pylist(), t["MetricName"].to_pylist(), t["Attributes"].to_pylist(),
            ns_ints(t["TimeUnix"]), t["Value"].to_pylist(), t["AggregationTemporality"].to_pylist(),
            t["IsMonotonic"].to_pylist()):
        if temp != 2 or not mono:
            continue
        key = (svc, metric, norm_value(attrs), ts)
        points[key] = v if key not in points else max(points[key], v)
    series = {}
    for (svc, metric, attrs, ts), v in points.items():
        series.setdefault((svc, metric, attrs), []).append((ts, v))
    rates = {}
    for (svc, metric, attrs), pts in series.items():
        pts.sort()
        for (t0, v0), (t1, v1) in zip(pts, pts[1:]):
            inc = v1 if v1 - v0 < 0 else v1 - v0
            rates[(svc, metric, attrs, t1)] = inc / ((t1 - t0) / 1e9)
    exp["counter_rate"] = rates
    return exp


# ------------------------------------------------------------------------------------------------
# comparing an answer
# ------------------------------------------------------------------------------------------------
def check(where, qid, table, exp):
    """Compare one engine answer (pyarrow Table) with the expected one; report every difference."""
    names = table.column_names
    if [n.lower() for n in names] != [n.lower() for n in COLUMNS[qid]]:
        fail(f"{where}: columns {names}, want {COLUMNS[qid]}")
        return
    rows = [{COLUMNS[qid][i]: r[n] for i, n in enumerate(names)} for r in rows_of(table)]
    want = exp[qid]
    if not want:
        fail(f"{where}: the expected answer is empty, so this run proves nothing "
             f"(pick data / trace_id / now that the query finds)")
        return
    if qid == "trace_lookup" and {r["Kind"] for r in want} != {"span", "log"}:
        fail(f"{where}: the trace has {sorted({r['Kind'] for r in want})} rows only; pick a trace_id with "
             f"both spans and log records, so that both halves of the UNION ALL are checked")
    if not rows:
        fail(f"{where}: the query returned no rows; expected {len(want)}")
        return
    bad = []
    if qid == "errors_by_service":
        got = {}
        for r in rows:
            if r["ServiceName"] in got:
                bad.append(f"service {r['ServiceName']!r} appears twice")
            got[r["ServiceName"]] = r["errors"]
        for svc in sorted(set(got) | set(want)):
            if got.get(svc) != want.get(svc):
                bad.append(f"ServiceName={svc!r}: errors {got.get(svc)}, want {want.get(svc)}")
        counts = [r["errors"] for r in rows]
        if counts != sorted(counts, reverse=True):
            bad.append(f"not ordered by errors DESC: {counts}")
    elif qid == "p99_by_span_name":
        got = {r["SpanName"]: (r["spans"], r["p99_ms"]) for r in rows}
        if len(got) != len(rows):
            bad.append("a SpanName appears twice")
        for name in sorted(set(got) | set(want)):
            g, w = got.get(name), want.get(name)
            if g is None or w is None:
                bad.append(f"SpanName={name!r}: got {g}, want {w}")
            elif g[0] != w[0] or not close(float(g[1]), w[1]):
                bad.append(f"SpanName={name!r}: (spans, p99_ms) = {g}, want {w} (R7 interpolation)")
        p = [float(r["p99_ms"]) for r in rows]
        if p != sorted(p, reverse=True):
            bad.append(f"not ordered by p99_ms DESC: {p}")
    elif qid == "trace_lookup":
        def key(r):
            return (r["Kind"], r["SpanId"], r["Timestamp"], r["Text"], r["ServiceName"])
        got = sorted(rows, key=key)
        exp_rows = sorted(want, key=key)
        if [key(r) for r in got] != [key(r) for r in exp_rows]:
            gk, wk = {key(r) for r in got}, {key(r) for r in exp_rows}
            bad.append(f"{len(got)} rows, want {len(exp_rows)}; unexpected {sorted(gk - wk)[:5]}, "
                       f"missing {sorted(wk - gk)[:5]}")
        else:
            for g, w in zip(got, exp_rows):
                gd = None if g["DurationMs"] is None else float(g["DurationMs"])
                if not close(gd, w["DurationMs"]):
                    bad.append(f"{w['Kind']} SpanId={w['SpanId']!r}: DurationMs {gd}, want {w['DurationMs']}")
        ts = [r["Timestamp"] for r in rows]
        if ts != sorted(ts):
            bad.append("rows are not in time order")
    elif qid == "counter_rate":
        got = {}
        for r in rows:
            k = (r["ServiceName"], r["MetricName"], r["Attributes"], r["TimeUnix"])
            if k in got:
                bad.append(f"point {k} appears twice")
            got[k] = r["rate"]
        for k in sorted(set(got) | set(want), key=repr):
            g, w = got.get(k), want.get(k)
            if g is None or w is None or not close(float(g), w):
                bad.append(f"series {k[:3]} at {k[3]} ns: rate {g}, want {w}")
    for b in bad[:10]:
        fail(f"{where}: {b}")
    if len(bad) > 10:
        fail(f"{where}: … and {len(bad) - 10} more differences")


# ------------------------------------------------------------------------------------------------
# engines
# ------------------------------------------------------------------------------------------------
def start_spark():
    return common.start_spark("otlp2parquet-queries")


def auto_trace_id(dir_):
    """The trace with the most rows among those that have both spans and log records (ties: smallest id)."""
    spans = read(dir_, "traces", ["TraceId"])["TraceId"].to_pylist()
    logs = read(dir_, "logs", ["TraceId"])["TraceId"].to_pylist()
    both = (set(spans) & set(logs)) - {""}
    if not both:
        return None
    count = {}
    for t in spans + logs:
        if t in both:
            count[t] = count.get(t, 0) + 1
    return min(both, key=lambda t: (-count[t], t))


def auto_now(dir_):
    """One second after the latest log record of severity >= 17, in whole seconds."""
    t = read(dir_, "logs", ["Timestamp", "SeverityNumber"])
    ts = [x for x, s in zip(ns_ints(t["Timestamp"]), t["SeverityNumber"].to_pylist()) if s >= 17]
    if not ts:
        return None
    secs = -(-max(ts) // 10**9) + 1
    return datetime.datetime.fromtimestamp(secs, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_now(now):
    """ISO 8601 UTC time -> epoch ns; ValueError if it is not one."""
    now_dt = datetime.datetime.fromisoformat(now)
    if now_dt.tzinfo is None or now_dt.utcoffset() != datetime.timedelta(0):
        raise ValueError(f"now={now!r}: write a UTC time with a zone, e.g. 2025-10-18T12:00:00Z")
    delta = now_dt - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def run(md, us, ns, trace_id="auto", now="auto", spark=None):
    """Runs and checks every block of `md`; returns (queries run, failures). `spark`: a SparkSession to use
    (and leave running) instead of starting one, for a caller that runs several checks in one process."""
    failures.clear()
    dirs = {"us": os.path.abspath(us), "ns": os.path.abspath(ns)}
    if trace_id == "auto":
        trace_id = auto_trace_id(dirs["us"])
        if trace_id is None:
            fail(f"trace_id=auto: no trace of {dirs['us']} has both spans and log records")
            return 0, list(failures)
        print(f"trace_id=auto: {trace_id}")
    if now == "auto":
        now = auto_now(dirs["us"])
        if now is None:
            fail(f"now=auto: {dirs['us']} holds no log record of severity >= 17")
            return 0, list(failures)
        print(f"now=auto: {now}")
    now_ns = parse_now(now)

    todo = blocks(md)
    expected = {u: expected_answers(d, trace_id, now_ns) for u, d in dirs.items()}
    for u in dirs:
        e = expected[u]
        print(f"{u}: expected errors per service {e['errors_by_service']}, {len(e['p99_by_span_name'])} span names, "
              f"{len(e['trace_lookup'])} rows of trace {trace_id} "
              f"({sum(r['Kind'] == 'span' for r in e['trace_lookup'])} spans), {len(e['counter_rate'])} rates",
              flush=True)

    ran = 0
    runs = []  # (engine, qid, unit, sql, line)
    for engine, qid, sql, line in todo:
        for unit in (["us"] if engine == "spark" else ["us", "ns"]):
            runs.append((engine, qid, unit, sql, line))

    import duckdb
    from chdb import session as chdb_session
    duck = duckdb.connect()
    ch = chdb_session.Session()
    own_spark = False
    for engine, qid, unit, sql, line in sorted(runs, key=lambda r: (r[0], r[1] != "setup")):
        where = f"{engine} {qid} ({unit}, {md}:{line})"
        try:
            q = fill(sql, dirs[unit], trace_id, now)
        except ValueError as e:
            fail(f"{where}: {e}")
            continue
        t0 = time.monotonic()
        try:
            if engine == "duckdb":
                result = duck.sql(q).to_arrow_table()
            elif engine == "clickhouse":
                result = ch.query(q, "ArrowTable")
            else:
                if spark is None:
                    spark, own_spark = start_spark(), True
                if qid == "setup":
                    for stmt in statements(q):
                        spark.sql(stmt).collect()
                    continue
                result = spark.sql(statements(q)[-1]).toArrow()
        except Exception as e:  # the engine's own message is the useful part
            fail(f"{where}: the query failed: {type(e).__name__}: {str(e).splitlines()[0][:500] if str(e) else ''}")
            continue
        ran += 1
        before = len(failures)
        check(where, qid, result, expected[unit])
        status = "ok" if len(failures) == before else "MISMATCH"
        print(f"{where}: {result.num_rows} rows, {time.monotonic() - t0:.2f}s, {status}", flush=True)
    duck.close()
    if own_spark:
        spark.stop()
    want_runs = len(QUERY_IDS) * 2 * 2 + len(QUERY_IDS)
    if ran != want_runs and not failures:
        fail(f"{ran} queries ran, want {want_runs}")
    return ran, list(failures)


def main(argv):
    if not argv or "=" in argv[0]:
        usage("the first argument is the path of docs/queries.md")
    md = argv[0]
    args = {"trace_id": "auto", "now": "auto"}
    for a in argv[1:]:
        k, sep, v = a.partition("=")
        if not sep or k not in ("us", "ns", "trace_id", "now"):
            usage(f"unexpected argument {a!r}")
        args[k] = v
    for k in ("us", "ns"):
        if k not in args:
            usage(f"missing {k}=")
        if not os.path.isdir(args[k]):
            usage(f"{k}={args[k]} is not a directory")
    if args["trace_id"] != "auto" and not re.fullmatch(r"[0-9a-f]{32}", args["trace_id"]):
        usage(f"trace_id={args['trace_id']!r}: want 32 lowercase hex characters (or auto)")
    if args["now"] != "auto":
        try:
            parse_now(args["now"])
        except ValueError as e:
            usage(f"now={args['now']!r}: {e}")
    ran, failed = run(md, args["us"], args["ns"], args["trace_id"], args["now"])
    if failed:
        print(f"{len(failed)} failure(s); {ran} queries ran", file=sys.stderr)
        sys.exit(1)
    print(f"{ran} queries ran, results match")


if __name__ == "__main__":
    main(sys.argv[1:])
