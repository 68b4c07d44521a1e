"""Shows, with the engines' own counters, that bloom filters on TraceId make a trace lookup read less.

    bloom_lookup.py WITH_DIR WITHOUT_DIR TRACE_ID [--min-rows N] [--min-row-groups N] [--repeat N]

WITH_DIR and WITHOUT_DIR hold traces Parquet files (searched recursively, *.parquet) with the same rows,
written with and without bloom filters on TraceId/SpanId (dictionary encoding off on those columns, so
that only the bloom filter can rule a row group out; rows ordered by time, so TraceId min/max statistics
rule out nothing). Defaults: at least 1 000 000 rows in at least 20 row groups.

For DuckDB and DataFusion, `SELECT * FROM <dir> WHERE TraceId = '<TRACE_ID>'` runs on each directory
(--repeat times, default 3; the counters are those of the last run, the wall time the fastest):

- DuckDB: its profiler (PRAGMA enable_profiling = 'json'): query.total_row_groups_to_scan,
  query.total_row_groups_scanned, query.total_bytes_scanned (compressed size of the column chunks
  scanned: the bytes compared), query.total_rows_scanned and io.total_bytes_read (bytes read from
  storage; reported only, it varies by a few KB between identical runs);
- DataFusion: the metrics of its Parquet scan (the numbers EXPLAIN ANALYZE prints), summed over
  partitions: row_groups_pruned_statistics and row_groups_pruned_bloom_filter (total -> matched),
  bytes_scanned, output_rows. Row groups read = those the bloom filter stage let through.

The footers are surveyed with pyarrow (rows, row groups, TraceId chunks carrying a bloom filter, their
encodings, how many row groups the TraceId min/max could rule out), and DuckDB's parquet_bloom_probe()
counts the row groups whose bloom filter excludes the trace.

Prints one JSON object with every figure. Exits 1 (and lists why on stderr) unless both directories hold
the same number of rows, the WITH files carry a TraceId bloom filter in every row group and the WITHOUT
files in none, and, for both engines, the with-bloom run reads fewer row groups or fewer bytes than the
without-bloom run while both return the same, non-empty rows, those pyarrow finds.
"""
import argparse
import atexit
import glob
import json
import os
import re
import shutil
import sys
import tempfile
import time

import pyarrow.compute as pc
import pyarrow.parquet as pq

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, file=sys.stderr, flush=True)


def scratch_dir(prefix):
    """A temporary directory removed when the script exits."""
    d = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, d, True)
    return d


def files_in(d):
    return sorted(glob.glob(os.path.join(d, "**", "*.parquet"), recursive=True))


def survey(d, trace_id):
    """Footer facts of one directory (pyarrow), plus the rows pyarrow finds for the trace."""
    files = files_in(d)
    out = {"dir": d, "files": len(files), "rows": 0, "row_groups": 0, "trace_id_chunks_with_bloom": 0,
           "trace_id_encodings": set(), "row_groups_trace_id_stats_exclude": 0, "compressed_bytes": 0}
    found = []
    for f in files:
        pf = pq.ParquetFile(f)
        md = pf.metadata
        out["rows"] += md.num_rows
        out["row_groups"] += md.num_row_groups
        names = [md.schema.column(i).path for i in range(md.num_columns)]
        if "TraceId" not in names:
            fail(f"{f}: no TraceId column")
            continue
        ti = names.index("TraceId")
        for g in range(md.num_row_groups):
            rg = md.row_group(g)
            out["compressed_bytes"] += rg.total_compressed_size if hasattr(rg, "total_compressed_size") else \
                sum(rg.column(i).total_compressed_size for i in range(rg.num_columns))
            c = rg.column(ti)
            if c.bloom_filter_offset is not None and (c.bloom_filter_length or 1) > 0:
                out["trace_id_chunks_with_bloom"] += 1
            out["trace_id_encodings"].update(c.encodings)
            st = c.statistics
            if st is not None and st.has_min_max and not (st.min <= trace_id <= st.max):
                out["row_groups_trace_id_stats_exclude"] += 1
        t = pf.read(columns=["TraceId", "SpanId"])
        found += t.filter(pc.equal(t["TraceId"], trace_id))["SpanId"].to_pylist()
    out["trace_id_encodings"] = sorted(out["trace_id_encodings"])
    if any("DICTIONARY" in e for e in out["trace_id_encodings"]):
        out["note"] = "TraceId is dictionary-encoded: readers may skip row groups by the dictionary too"
    return out, sorted(found)


def bloom_probe(d, trace_id):
    import duckdb
    con = duckdb.connect()
    r = con.execute("SELECT count(*), count(*) FILTER (WHERE bloom_filter_excludes) "
                    "FROM parquet_bloom_probe(?, 'TraceId', ?)", [files_in(d), trace_id]).fetchall()[0]
    return {"row_groups": r[0], "bloom_filter_excludes": r[1]}


def rows_key(table, columns):
    """The answer as a sorted list of row tuples over the file's own columns (no partition columns)."""
    t = table.select([c for c in columns if c in table.column_names])
    rows = t.to_pylist()
    return sorted((tuple((k, repr(v)) for k, v in r.items()) for r in rows))


# ------------------------------------------------------------------------------------------------
# DuckDB
# ------------------------------------------------------------------------------------------------
DUCK_FIELDS = [("query", "total_row_groups_to_scan"), ("query", "total_row_groups_scanned"),
               ("query", "total_bytes_scanned"), ("query", "total_rows_scanned"), ("io", "total_bytes_read"),
               ("io", "total_read_operations")]


def run_duckdb(d, trace_id, repeat):
    import duckdb
    sql = f"SELECT * FROM read_parquet('{d}/**/*.parquet') WHERE TraceId = '{trace_id}'"
    prof = os.path.join(scratch_dir("bloom-duckdb-"), "profile.json")
    best, table, profile = None, None, None
    for _ in range(repeat):
        con = duckdb.connect()  # a fresh connection: no metadata cached from the run before
        con.execute("PRAGMA enable_profiling = 'json'")
        con.execute(f"SET profiling_output = '{prof}'")
        t0 = time.perf_counter()
        table = con.sql(sql).to_arrow_table()
        wall = time.perf_counter() - t0
        con.execute("PRAGMA disable_profiling")
        con.close()
        best = wall if best is None else min(best, wall)
        with open(prof) as f:
            profile = json.load(f)
    out = {"wall_s": round(best, 4), "rows_matched": table.num_rows}
    for sec, key in DUCK_FIELDS:
        v = profile.get(sec, {}).get(key)
        if v is None:
            fail(f"duckdb {d}: the profiler reports no {sec}.{key} (DuckDB {duckdb.__version__})")
        out[f"{sec}.{key}"] = v
    out["row_groups_total"] = out["query.total_row_groups_to_scan"]
    out["row_groups_read"] = out["query.total_row_groups_scanned"]
    # total_bytes_scanned (compressed size of the column chunks scanned) is deterministic; io.total_bytes_read
    # varies by a few KB from run to run (prefetching), so it is reported but not compared
    out["bytes_read"] = out["query.total_bytes_scanned"]
    return out, table


# ------------------------------------------------------------------------------------------------
# DataFusion
# ------------------------------------------------------------------------------------------------
PRUNING = re.compile(r"^\s*([\d.]+)\s*([KMBGT]?)\s+total\s+→\s+([\d.]+)\s*([KMBGT]?)\s+matched")
SCALE = {"": 1, "K": 10**3, "M": 10**6, "B": 10**9, "G": 10**9, "T": 10**12}


def parse_pruning(s):
    """DataFusion prints a pruning metric as '20 total → 1 matched' (large counts abbreviated: '1.00 K')."""
    m = PRUNING.match(s)
    if not m:
        return None
    return (round(float(m.group(1)) * SCALE[m.group(2)]), round(float(m.group(3)) * SCALE[m.group(4)]))


def datafusion_ctx():
    from datafusion import SessionConfig, SessionContext
    # without ignore_subdirectory = false, DataFusion lists only the files directly in the directory
    return SessionContext(SessionConfig().set("datafusion.execution.listing_table_ignore_subdirectory", "false")
                          .set("datafusion.execution.parquet.bloom_filter_on_read", "true"))


def run_datafusion(d, trace_id, repeat):
    sql = f"SELECT * FROM t WHERE \"TraceId\" = '{trace_id}'"
    best, table, scan = None, None, None
    for _ in range(repeat):
        ctx = datafusion_ctx()
        ctx.register_parquet("t", d + "/")
        df = ctx.sql(sql)
        t0 = time.perf_counter()
        table = df.to_arrow_table()
        wall = time.perf_counter() - t0
        best = wall if best is None else min(best, wall)
        scan = {"bytes_scanned": 0, "output_rows": 0, "row_groups_pruned_statistics": [0, 0],
                "row_groups_pruned_bloom_filter": [0, 0], "files_ranges_pruned_statistics": [0, 0]}
        nodes = 0
        for desc, ms in df.execution_plan().collect_metrics():
            if not desc.startswith("DataSourceExec"):
                continue
            nodes += 1
            for m in ms.metrics():
                if m.name in ("bytes_scanned", "output_rows"):
                    scan[m.name] += m.value or 0
                elif m.name in ("row_groups_pruned_statistics", "row_groups_pruned_bloom_filter",
                                "files_ranges_pruned_statistics"):
                    p = parse_pruning(repr(m))
                    if p is None:
                        fail(f"datafusion {d}: cannot read metric {m.name} = {repr(m)!r}")
                        continue
                    scan[m.name][0] += p[0]
                    scan[m.name][1] += p[1]
        if nodes == 0:
            fail(f"datafusion {d}: the executed plan has no DataSourceExec with metrics")
    # the same figures as EXPLAIN ANALYZE prints them, as a cross-check of the summing above
    ctx = datafusion_ctx()
    ctx.register_parquet("t", d + "/")
    text = "\n".join(r["plan"] for r in ctx.sql("EXPLAIN ANALYZE " + sql).to_pylist())
    explain = {k: v for k, v in re.findall(
        r"\b(row_groups_pruned_statistics|row_groups_pruned_bloom_filter|bytes_scanned)=([^,\]]+)", text)}
    for k in ("row_groups_pruned_statistics", "row_groups_pruned_bloom_filter"):
        p = parse_pruning(explain.get(k, ""))
        if p is None:
            fail(f"datafusion {d}: EXPLAIN ANALYZE shows no {k}")
        elif list(p) != scan[k]:
            fail(f"datafusion {d}: {k} summed from the plan metrics is {scan[k]}, EXPLAIN ANALYZE says {explain[k]!r}")
    bloom, stats = scan["row_groups_pruned_bloom_filter"], scan["row_groups_pruned_statistics"]
    out = {
        "wall_s": round(best, 4),
        "rows_matched": table.num_rows,
        "row_groups_total": stats[0],
        "row_groups_after_statistics": stats[1],
        "row_groups_after_bloom_filter": bloom[1] if bloom[0] else stats[1],
        "row_groups_read": bloom[1] if bloom[0] else stats[1],
        "bytes_read": scan["bytes_scanned"],
        "scan_output_rows": scan["output_rows"],
        "explain_analyze": explain,
    }
    return out, table


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("with_dir")
    ap.add_argument("without_dir")
    ap.add_argument("trace_id")
    ap.add_argument("--min-rows", type=int, default=1_000_000)
    ap.add_argument("--min-row-groups", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    if not re.fullmatch(r"[0-9a-f]{32}", a.trace_id):
        ap.error(f"TRACE_ID {a.trace_id!r}: want 32 lowercase hex characters")
    dirs = {"with": os.path.abspath(a.with_dir), "without": os.path.abspath(a.without_dir)}
    for k, d in dirs.items():
        if not files_in(d):
            ap.error(f"{k.upper()}_DIR {d}: no *.parquet files below it")

    report = {"trace_id": a.trace_id, "files": {}, "duckdb": {}, "datafusion": {}}
    expected = {}
    for k, d in dirs.items():
        report["files"][k], expected[k] = survey(d, a.trace_id)
        report["files"][k]["duckdb_parquet_bloom_probe"] = bloom_probe(d, a.trace_id)
    fw, fo = report["files"]["with"], report["files"]["without"]
    if fw["rows"] != fo["rows"]:
        fail(f"WITH_DIR holds {fw['rows']} rows, WITHOUT_DIR {fo['rows']}: not the same data")
    for k, f in report["files"].items():
        if f["rows"] < a.min_rows or f["row_groups"] < a.min_row_groups:
            fail(f"{k.upper()}_DIR: {f['rows']} rows in {f['row_groups']} row groups; want at least "
                 f"{a.min_rows} rows in {a.min_row_groups} row groups (--min-rows/--min-row-groups)")
    if fw["trace_id_chunks_with_bloom"] != fw["row_groups"]:
        fail(f"WITH_DIR: only {fw['trace_id_chunks_with_bloom']} of {fw['row_groups']} TraceId column chunks "
             f"carry a bloom filter")
    if fo["trace_id_chunks_with_bloom"]:
        fail(f"WITHOUT_DIR: {fo['trace_id_chunks_with_bloom']} TraceId column chunks carry a bloom filter")
    if not expected["with"]:
        fail(f"trace {a.trace_id} is not in WITH_DIR (pyarrow finds no span): pick a trace id that exists")
    if expected["with"] != expected["without"]:
        fail(f"pyarrow finds {len(expected['with'])} spans of the trace in WITH_DIR, "
             f"{len(expected['without'])} in WITHOUT_DIR")
    report["expected_rows"] = len(expected["with"])

    for engine, run in (("duckdb", run_duckdb), ("datafusion", run_datafusion)):
        answers = {}
        for k, d in dirs.items():
            try:
                report[engine][k], answers[k] = run(d, a.trace_id, max(1, a.repeat))
            except Exception as e:
                fail(f"{engine} {k}: the lookup failed: {type(e).__name__}: {str(e).splitlines()[0][:400]}")
        if len(answers) != 2:
            continue
        if engine == "duckdb":
            report[engine]["source"] = "DuckDB profiler (PRAGMA enable_profiling='json'): row groups = " \
                                       "query.total_row_groups_scanned of query.total_row_groups_to_scan, " \
                                       "bytes = query.total_bytes_scanned"
        else:
            report[engine]["source"] = "DataFusion DataSourceExec metrics (as EXPLAIN ANALYZE): " \
                                       "row_groups_pruned_bloom_filter, bytes_scanned"
        cols = pq.ParquetFile(files_in(dirs["with"])[0]).schema_arrow.names
        w, o = report[engine]["with"], report[engine]["without"]
        spans = {k: sorted(answers[k]["SpanId"].to_pylist()) for k in answers}
        if not spans["with"]:
            fail(f"{engine}: the with-bloom lookup returned no rows (pyarrow finds {len(expected['with'])})")
        if spans["with"] != expected["with"]:
            fail(f"{engine}: with-bloom lookup returned SpanIds {spans['with'][:5]}… ({len(spans['with'])}), "
                 f"pyarrow finds {len(expected['with'])}")
        if rows_key(answers["with"], cols) != rows_key(answers["without"], cols):
            fail(f"{engine}: the with-bloom and without-bloom lookups return different rows "
                 f"({len(spans['with'])} vs {len(spans['without'])})")
        fewer_rg = w["row_groups_read"] < o["row_groups_read"]
        fewer_bytes = w["bytes_read"] < o["bytes_read"]
        report[engine]["with_reads_less"] = {"row_groups": fewer_rg, "bytes": fewer_bytes}
        if not (fewer_rg or fewer_bytes):
            fail(f"{engine}: with bloom filters the lookup read {w['row_groups_read']} row groups / "
                 f"{w['bytes_read']} bytes, without {o['row_groups_read']} / {o['bytes_read']}: not less")
    report["failures"] = failures
    report["ok"] = not failures
    print(json.dumps(report, indent=2, default=str, ensure_ascii=False))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
