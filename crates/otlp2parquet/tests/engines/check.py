"""Every engine on both time units, and the query cookbook, in one process with one Spark session.

    check.py DOCS_QUERIES_MD ns=DIR us=DIR [trace_id=HEX|auto] [now=ISO8601|auto]

`read_back.run` reads every table of both directories with pyarrow, DuckDB, chdb, Polars,
DataFusion and (us only) Spark and compares row counts and values; for ns it checks that Spark
refuses the files (the README says Spark needs us). `queries.run` runs every query of the cookbook
on DuckDB and chdb (both units) and Spark (us) against answers computed with pyarrow, for the trace
`trace_id` and the 24 hours before `now` (both chosen from the data when `auto` or left out). Prints
"engines agree" and "N queries ran, results match" when everything holds; exits 1 otherwise.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import queries  # noqa: E402
import read_back  # noqa: E402


def main(argv):
    if len(argv) < 3 or any("=" not in a for a in argv[1:]):
        print(__doc__, file=sys.stderr)
        return 2
    md = argv[0]
    dirs = dict(a.split("=", 1) for a in argv[1:])
    spark = queries.start_spark()
    try:
        summary, read_failures = read_back.run({"ns": dirs["ns"], "us": dirs["us"]}, spark=spark)
        ran, query_failures = queries.run(md, dirs["us"], dirs["ns"], trace_id=dirs.get("trace_id", "auto"),
                                          now=dirs.get("now", "auto"), spark=spark)
    finally:
        spark.stop()
    for line in summary:
        print(line)
    failures = list(read_failures) + list(query_failures)
    for f in failures:
        print(f"FAIL {f}")
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("engines agree")
    print(f"{ran} queries ran, results match")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
