"""Reads our Parquet directories back with several engines and checks that they all see the same data.

    read_back.py ns=DIR_NS us=DIR_US        (either or both)

DIR_NS was written with `parquet.timestamp_unit = "ns"` (the default), DIR_US with `"us"`. For every one of
the seven tables present (logs, traces, metrics/{gauge,sum,histogram,exponential_histogram,summary}):

- the Parquet schema of every file stores each time column in the directory's unit, UTC-adjusted:
  ns -> TIMESTAMP(NANOS) (logs' TimestampTime: TIMESTAMP(MILLIS)), us -> TIMESTAMP(MICROS) everywhere,
  including the items of Events.Timestamp and Exemplars.TimeUnix;
- the whole table directory is read with pyarrow (the baseline), DuckDB (read_parquet, hive
  partitioning on), chdb (file()), Polars (scan_parquet), DataFusion (register_parquet) and, for us
  only, Spark (recursiveFileLookup). Each engine reports its row count and, for every row, the time
  columns as integer epochs in the file's unit (computed by the engine), ServiceName, the ids, names and
  values of the table (Body and SeverityNumber; SpanName and Duration; MetricName and Value, or Count and
  Sum) and the value of one attribute key (the first key of the first non-empty attribute map pyarrow
  sees; NULL where a row lacks it). Rows are sorted by (time, ids/names, …) and compared row by row;
- DuckDB's hive columns year/month/day/hour equal the UTC hour of each row's time column;
- for ns: Spark refuses the logs table with PARQUET_TYPE_ILLEGAL (why the README says Spark needs us).

Any mismatch exits 1 with a message naming the engine, table, column and row. On success prints one line
per directory, e.g. "us: 7 tables, 1234 rows, equal on pyarrow, duckdb, chdb, polars, datafusion, spark",
then "engines agree". run() does the same for a caller that wants one Python process and one
SparkSession (pass it in).
"""
import decimal
import glob
import json
import math
import os
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import common  # beside this script

TABLES = ["logs", "traces", "metrics/gauge", "metrics/sum", "metrics/histogram",
          "metrics/exponential_histogram", "metrics/summary"]


def spec(table):
    """(time columns in sort order, other compared columns, attribute map column, every time column)."""
    if table == "logs":
        return (["Timestamp", "TimestampTime"], ["TraceId", "SpanId", "ServiceName", "SeverityNumber", "Body"],
                "LogAttributes", ["Timestamp", "TimestampTime"])
    if table == "traces":
        return (["Timestamp"], ["TraceId", "SpanId", "ServiceName", "SpanName", "Duration"], "SpanAttributes",
                ["Timestamp", "Events.Timestamp"])
    kind = table.split("/")[1]
    values = ["Value"] if kind in ("gauge", "sum") else ["Count", "Sum"]
    times = ["StartTimeUnix", "TimeUnix"] + ([] if kind == "summary" else ["Exemplars.TimeUnix"])
    return (["TimeUnix", "StartTimeUnix"], ["ServiceName", "MetricName"] + values, "Attributes", times)


def want_unit(dir_unit, column):
    if dir_unit == "ns":
        return "milliseconds" if column == "TimestampTime" else "nanoseconds"
    return "microseconds"


SHORT = {"nanoseconds": "ns", "microseconds": "us", "milliseconds": "ms"}
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg, flush=True)


def files_of(root, table):
    return sorted(glob.glob(os.path.join(root, table, "**", "*.parquet"), recursive=True))


# ------------------------------------------------------------------------------------------------
# schema
# ------------------------------------------------------------------------------------------------
def check_schema(unit, table, files):
    """Every time column of every file: INT64 TIMESTAMP(unit, isAdjustedToUTC=true); no other timestamp.
    Problems are reported once per (column, what was found), with the number of files and one example."""
    _, _, _, time_cols = spec(table)
    problems = {}

    def problem(what, f):
        n, example = problems.get(what, (0, f))
        problems[what] = (n + 1, example)

    for f in files:
        schema = pq.ParquetFile(f).schema
        found = set()
        for i in range(len(schema)):
            c = schema.column(i)
            lt = c.logical_type
            if lt.type != "TIMESTAMP":
                continue
            owner = next((t for t in time_cols if c.path == t or c.path.startswith(t + ".")), None)
            j = json.loads(lt.to_json())
            got = f"{c.physical_type} TIMESTAMP({j.get('timeUnit')}, isAdjustedToUTC={j.get('isAdjustedToUTC')})"
            if owner is None:
                problem(f"unexpected timestamp column {c.path}: {got}", f)
                continue
            found.add(owner)
            want = f"INT64 TIMESTAMP({want_unit(unit, owner)}, isAdjustedToUTC=True)"
            if got != want:
                problem(f"column {c.path} is {got}, want {want}", f)
        for t in time_cols:
            if t not in found:
                problem(f"no TIMESTAMP column {t}", f)
    for what, (n, example) in sorted(problems.items()):
        fail(f"schema {unit} {table}: {what} — in {n} of {len(files)} files, e.g. {example}")


# ------------------------------------------------------------------------------------------------
# values
# ------------------------------------------------------------------------------------------------
def norm(v):
    if isinstance(v, decimal.Decimal):  # Spark reads UInt64 as DECIMAL(20,0)
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, float) and math.isnan(v):
        return "NaN"  # NaN equals NaN here
    return v


def sort_key(row):
    return tuple((2, "") if v is None else (1, "") if v == "NaN" else (0, v) for v in row)


def columns_of(table):
    times, plain, attr, _ = spec(table)
    return times + plain + [f"{attr}[key]"]


def rows_from_arrow(t, n_cols):
    cols = [[norm(v) for v in t.column(i).to_pylist()] for i in range(n_cols)]
    return sorted(zip(*cols), key=sort_key) if cols else []


def first_attr_key(files, attr):
    for f in files:
        col = pq.ParquetFile(f).read(columns=[attr]).column(0)
        for m in col.to_pylist():
            if m:
                return m[0][0]
    return None


def sql_str(s, backslash):
    if backslash:
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return "'" + s.replace("'", "''") + "'"


def units_for(dir_unit, times):
    return {t: SHORT[want_unit(dir_unit, t)] for t in times}


def read_pyarrow(path, files, table, units, key):
    times, plain, attr, _ = spec(table)
    t = pa.concat_tables([pq.ParquetFile(f).read(columns=times + plain + [attr]).replace_schema_metadata(None)
                          for f in files])
    out = []
    for c in times:
        # safe=False: a file in the wrong unit is reported by check_schema; do not stop here
        out.append(pc.cast(pc.cast(t[c], pa.timestamp(units[c], tz="UTC"), safe=False), pa.int64()))
    out += [t[c] for c in plain]
    if key is None:
        out.append(pa.nulls(t.num_rows, pa.string()))
    else:
        out.append(pa.array([dict(m).get(key) for m in t[attr].to_pylist()], pa.string()))
    return t.num_rows, rows_from_arrow(pa.table(out, names=[str(i) for i in range(len(out))]), len(out))


def sql_select(engine, table, units, key):
    """The select list of one engine: epoch ints in each time column's unit, plain columns, attribute."""
    times, plain, attr, _ = spec(table)
    q = (lambda c: f"`{c}`") if engine == "spark" else (lambda c: f'"{c}"')
    epoch = {
        "duckdb": lambda c, u: f"epoch_{u}({q(c)})",
        "chdb": lambda c, u: f"toUnixTimestamp64{dict(ns='Nano', us='Micro', ms='Milli')[u]}({q(c)})",
        "spark": lambda c, u: f"unix_{dict(us='micros', ms='millis')[u]}({q(c)})",
        "datafusion": lambda c, u: "CAST(arrow_cast({}, 'Timestamp({}, Some(\"UTC\"))') AS BIGINT)".format(
            q(c), dict(ns="Nanosecond", us="Microsecond", ms="Millisecond")[u]),
    }[engine]
    cols = [epoch(c, units[c]) for c in times] + [q(c) for c in plain]
    if key is None:
        cols.append({"spark": "CAST(NULL AS STRING)", "chdb": "NULL"}.get(engine, "CAST(NULL AS VARCHAR)"))
    elif engine == "chdb":
        k = sql_str(key, True)
        cols.append(f"if(mapContains({q(attr)}, {k}), {q(attr)}[{k}], NULL)")
    else:
        cols.append(f"{q(attr)}[{sql_str(key, engine == 'spark')}]")
    return ", ".join(cols)


class Engines:
    def __init__(self, spark=None):
        import duckdb
        from chdb import session as chdb_session
        self.duck = duckdb.connect()
        self.duck.execute("SET TimeZone = 'UTC'")
        self.ch = chdb_session.Session()
        self.spark = spark
        self.own_spark = False
        self.df_ctx = None

    def datafusion(self):
        if self.df_ctx is None:
            from datafusion import SessionConfig, SessionContext
            # without it DataFusion lists only the files directly in the directory ("No files found")
            self.df_ctx = SessionContext(SessionConfig().set(
                "datafusion.execution.listing_table_ignore_subdirectory", "false"))
        return self.df_ctx

    def start_spark(self):
        if self.spark is None:
            self.spark = common.start_spark("otlp2parquet-read-back")
            self.own_spark = True
        return self.spark

    def read(self, engine, path, table, units, key, n_cols):
        """(row count, sorted rows) as the engine sees the table directory `path`."""
        if engine == "duckdb":
            src = f"read_parquet('{path}/**/*.parquet', hive_partitioning = true)"
            n = self.duck.sql(f"SELECT count(*) FROM {src}").fetchall()[0][0]
            t = self.duck.sql(f"SELECT {sql_select('duckdb', table, units, key)} FROM {src}").to_arrow_table()
        elif engine == "chdb":
            src = f"file('{path}/**/*.parquet', Parquet)"
            n = int(self.ch.query(f"SELECT count() FROM {src}", "CSV").data().strip())
            t = self.ch.query(f"SELECT {sql_select('chdb', table, units, key)} FROM {src}", "ArrowTable")
        elif engine == "polars":
            import polars as pl
            times, plain, attr, _ = spec(table)
            lf = pl.scan_parquet(path + "/", hive_partitioning=True)
            n = lf.select(pl.len()).collect().item()
            exprs = [pl.col(c).dt.epoch(units[c]).alias(c) for c in times] + [pl.col(c) for c in plain]
            exprs.append(pl.lit(None, pl.String).alias("attr") if key is None
                         else pl.col(attr).map.get(key).alias("attr"))
            t = lf.select(exprs).collect().to_arrow()
        elif engine == "datafusion":
            ctx = self.datafusion()
            name = "t_" + "".join(ch if ch.isalnum() else "_" for ch in path)
            ctx.register_parquet(name, path + "/")
            n = ctx.sql(f"SELECT count(*) AS n FROM {name}").to_pylist()[0]["n"]
            t = ctx.sql(f"SELECT {sql_select('datafusion', table, units, key)} FROM {name}").to_arrow_table()
            ctx.deregister_table(name)
        elif engine == "spark":
            df = self.start_spark().read.option("recursiveFileLookup", "true") \
                .option("pathGlobFilter", "*.parquet").parquet(path)
            n = df.count()
            t = df.selectExpr(*split_select(sql_select("spark", table, units, key))).toArrow()
        else:
            raise ValueError(engine)
        return n, rows_from_arrow(t, n_cols)


def split_select(s):
    """Split a select list at top-level commas (Spark's selectExpr wants one expression per argument)."""
    out, depth, cur, quote = [], 0, "", None
    for ch in s:
        if quote:
            cur += ch
            if ch == quote:
                quote = None
            continue
        if ch in "'`\"":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        cur += ch
    out.append(cur.strip())
    return out


def compare(unit, table, engine, base, got, names):
    n0, rows0 = base
    n, rows = got
    if n != n0:
        fail(f"{engine} {unit} {table}: count(*) = {n}, pyarrow reads {n0} rows")
    if len(rows) != len(rows0):
        fail(f"{engine} {unit} {table}: returned {len(rows)} rows, pyarrow {len(rows0)}")
        return
    diffs = 0
    for i, (a, b) in enumerate(zip(rows0, rows)):
        if a != b:
            diffs += 1
            if diffs <= 3:
                cols = [f"{names[j]}: {b[j]!r}, pyarrow {a[j]!r}" for j in range(len(names)) if a[j] != b[j]]
                fail(f"{engine} {unit} {table}: sorted row {i} (of {len(rows0)}) differs: " + "; ".join(cols))
    if diffs > 3:
        fail(f"{engine} {unit} {table}: {diffs} rows differ in all")


def check_partitions(eng, unit, table, path):
    """DuckDB's hive columns hold the UTC hour of each row's own time (logs/traces: Timestamp, metrics: TimeUnix)."""
    tcol = "TimeUnix" if table.startswith("metrics/") else "Timestamp"
    src = (f"read_parquet('{path}/**/*.parquet', hive_partitioning = true, "
           "hive_types = {'year': INT, 'month': INT, 'day': INT, 'hour': INT})")
    cols = [r[0] for r in eng.duck.sql(f"DESCRIBE SELECT * FROM {src}").fetchall()]
    for c in ("year", "month", "day", "hour"):
        if c not in cols:
            fail(f"duckdb {unit} {table}: no hive partition column {c} (columns {cols})")
            return
    bad = eng.duck.sql(
        f"SELECT count(*), any_value(\"{tcol}\"), any_value(year), any_value(month), any_value(day), any_value(hour) "
        f"FROM {src} WHERE year <> year(\"{tcol}\") OR month <> month(\"{tcol}\") OR day <> day(\"{tcol}\") "
        f"OR hour <> hour(\"{tcol}\")").fetchall()[0]
    if bad[0]:
        fail(f"duckdb {unit} {table}: {bad[0]} rows lie outside the hour partition of their {tcol}, "
             f"e.g. {tcol}={bad[1]} in year={bad[2]}/month={bad[3]}/day={bad[4]}/hour={bad[5]}")


def spark_refuses_ns(eng, root):
    path = os.path.join(root, "logs")
    if not files_of(root, "logs"):
        fail(f"ns: no logs table under {root}: cannot show that Spark refuses ns files")
        return
    try:
        df = eng.start_spark().read.option("recursiveFileLookup", "true").option("pathGlobFilter", "*.parquet") \
            .parquet(path)
        n = df.count()
    except Exception as e:
        if "PARQUET_TYPE_ILLEGAL" in str(e):
            return
        fail(f"spark ns logs: failed, but not with PARQUET_TYPE_ILLEGAL: {type(e).__name__}: {str(e).splitlines()[0]}")
        return
    fail(f"spark ns logs: Spark read {n} rows of nanosecond files; expected it to refuse them with "
         f"PARQUET_TYPE_ILLEGAL (the README says Spark needs us)")


def run(dirs, spark=None):
    """Checks the directories {"ns": path, "us": path} (either or both); returns (summary lines, failures).
    `spark`: a SparkSession to use (and leave running) instead of starting one, for a caller that runs
    several checks in one process."""
    failures.clear()
    dirs = {k: os.path.abspath(v) for k, v in dirs.items()}
    eng = Engines(spark)
    summary = []
    for unit in ("ns", "us"):
        if unit not in dirs:
            continue
        root = dirs[unit]
        engines = ["duckdb", "chdb", "polars", "datafusion"] + (["spark"] if unit == "us" else [])
        n_tables, n_rows, before = 0, 0, len(failures)
        for table in TABLES:
            files = files_of(root, table)
            if not files:
                continue
            n_tables += 1
            path = os.path.join(root, table)
            check_schema(unit, table, files)
            times, plain, attr, _ = spec(table)
            units = units_for(unit, times)
            key = first_attr_key(files, attr)
            names = [f"{c} (epoch {units[c]})" for c in times] + plain + [f"{attr}[{key!r}]"]
            t0 = time.monotonic()
            try:
                base = read_pyarrow(path, files, table, units, key)
            except Exception as e:
                fail(f"pyarrow {unit} {table}: could not read {path}: {type(e).__name__}: {e}")
                continue
            n_rows += base[0]
            if base[0] == 0:
                fail(f"pyarrow {unit} {table}: the files hold no rows")
            for engine in engines:
                try:
                    got = eng.read(engine, path, table, units, key, len(names))
                except Exception as e:
                    fail(f"{engine} {unit} {table}: could not read {path}: {type(e).__name__}: "
                         f"{str(e).splitlines()[0][:400] if str(e) else ''}")
                    continue
                compare(unit, table, engine, base, got, names)
            check_partitions(eng, unit, table, path)
            print(f"{unit} {table}: {base[0]} rows, {len(files)} files, attribute key {key!r}, "
                  f"{time.monotonic() - t0:.1f}s", flush=True)
        if n_tables == 0:
            fail(f"{unit}: no table directory with Parquet files under {root}")
        if unit == "ns":
            spark_refuses_ns(eng, root)
        if len(failures) == before:
            extra = "; spark refuses it (PARQUET_TYPE_ILLEGAL)" if unit == "ns" else ""
            summary.append(f"{unit}: {n_tables} tables, {n_rows} rows, equal on pyarrow, {', '.join(engines)}{extra}")
    if eng.spark is not None and eng.own_spark:
        eng.spark.stop()
    return summary, list(failures)


def main(argv):
    dirs = {}
    for a in argv:
        k, sep, v = a.partition("=")
        if not sep or k not in ("ns", "us") or k in dirs:
            print(f"read_back.py: unexpected argument {a!r}\nusage: read_back.py ns=DIR_NS us=DIR_US (either or both)",
                  file=sys.stderr)
            sys.exit(2)
        if not os.path.isdir(v):
            print(f"read_back.py: {k}={v} is not a directory", file=sys.stderr)
            sys.exit(2)
        dirs[k] = os.path.abspath(v)
    if not dirs:
        print("usage: read_back.py ns=DIR_NS us=DIR_US (either or both)", file=sys.stderr)
        sys.exit(2)
    summary, failed = run(dirs)
    if failed:
        print(f"{len(failed)} failure(s)", file=sys.stderr)
        sys.exit(1)
    for line in summary:
        print(line)
    print("engines agree")


if __name__ == "__main__":
    main(sys.argv[1:])
