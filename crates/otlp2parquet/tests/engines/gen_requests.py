"""Deterministic OTLP/JSON requests for the query cookbook's test (docs/queries.md): errors of
three services over two days, traces whose spans and logs share ids, several span names, and
cumulative monotonic sums with a counter reset and a point sent twice (plus a delta sum and a
non-monotonic one that the rate query must skip).

    gen_requests.py OUT_DIR      # writes OUT_DIR/{logs,traces,metrics}.json

The fixtures and the SDK's signals alone have no counter series with two points, so without
these requests the rate query would have nothing to check."""
import json, random, sys

random.seed(7)
out = sys.argv[1]
T0 = 1760700000 * 10**9  # 2025-10-17T11:20:00Z
SERVICES = ["cart", "checkout", "frontend"]


def kv(k, v):
    if isinstance(v, bool):
        return {"key": k, "value": {"boolValue": v}}
    if isinstance(v, int):
        return {"key": k, "value": {"intValue": str(v)}}
    if isinstance(v, float):
        return {"key": k, "value": {"doubleValue": v}}
    return {"key": k, "value": {"stringValue": v}}


def res(svc):
    return {"attributes": [kv("service.name", svc), kv("host.name", "h-" + svc)]}


spans = {s: [] for s in SERVICES}
logs = {s: [] for s in SERVICES}
trace_ids = []
for i in range(60):
    tid = "%032x" % random.getrandbits(128)
    trace_ids.append(tid)
    t = T0 + i * 3000 * 10**9 + random.randrange(10**9)  # every 50 min -> ~2 days
    svc = random.choice(SERVICES)
    root = "%016x" % random.getrandbits(64)
    for j in range(random.randint(1, 4)):
        sid = root if j == 0 else "%016x" % random.getrandbits(64)
        name = random.choice(["GET /cart", "POST /checkout", "db.query", "render"])
        start = t + j * 1000
        dur = random.randint(1, 500) * 10**6 + random.randint(0, 999)
        s = {"traceId": tid, "spanId": sid, "name": name, "kind": random.randint(1, 5),
             "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + dur),
             "attributes": [kv("http.route", "/r%d" % random.randint(0, 3)), kv("retry", j)],
             "status": {"code": 2 if random.random() < 0.2 else 1},
             "events": [{"timeUnixNano": str(start + 5), "name": "ev", "attributes": [kv("n", j)]}] if j % 2 else []}
        if j:
            s["parentSpanId"] = root
        spans[svc].append(s)
        for k in range(random.randint(0, 2)):
            sev = random.choice([9, 13, 17, 17, 21])
            logs[svc].append({"timeUnixNano": str(start + 10 + k), "severityNumber": sev,
                              "severityText": {9: "INFO", 13: "WARN", 17: "ERROR", 21: "FATAL"}[sev],
                              "body": {"stringValue": "msg %d/%d of %s" % (j, k, tid[:6])},
                              "traceId": tid, "spanId": sid,
                              "attributes": [kv("code.line", random.randint(1, 99)), kv("thread", "t%d" % k)]})
    # plus logs without a trace
    logs[svc].append({"timeUnixNano": str(t + 7), "severityNumber": random.choice([5, 17, 18]),
                      "body": {"stringValue": "untraced %d" % i}})

json.dump({"resourceSpans": [{"resource": res(s), "scopeSpans": [{"scope": {"name": "gen"}, "spans": spans[s]}]}
                             for s in SERVICES]}, open(out + "/traces.json", "w"))
json.dump({"resourceLogs": [{"resource": res(s), "scopeLogs": [{"scope": {"name": "gen"}, "logRecords": logs[s]}]}
                            for s in SERVICES]}, open(out + "/logs.json", "w"))

metrics = {s: [] for s in SERVICES}
for svc in SERVICES:
    for name in ["http.requests", "bytes.sent"]:
        pts = []
        for route in ["/a", "/b"]:
            v = 0
            start = T0
            for n in range(12):
                t = T0 + n * 60 * 10**9 + (n % 3) * 10**8
                if n == 7 and route == "/b":
                    v = 0; start = t - 10**9  # counter reset
                v += random.randint(0, 500)
                p = {"timeUnixNano": str(t), "startTimeUnixNano": str(start), "asInt": str(v),
                     "attributes": [kv("route", route), kv("svc.kind", "web")]}
                pts.append(p)
                if n == 4:
                    pts.append(dict(p))  # the same point sent twice
        metrics[svc].append({"name": name, "unit": "1",
                             "sum": {"aggregationTemporality": 2, "isMonotonic": True, "dataPoints": pts}})
    # a delta sum and a non-monotonic cumulative sum that the rate query must skip
    metrics[svc].append({"name": "delta.count", "sum": {"aggregationTemporality": 1, "isMonotonic": True,
                         "dataPoints": [{"timeUnixNano": str(T0 + n * 10**9), "asInt": "5"} for n in range(3)]}})
    metrics[svc].append({"name": "queue.depth", "sum": {"aggregationTemporality": 2, "isMonotonic": False,
                         "dataPoints": [{"timeUnixNano": str(T0 + n * 10**9), "asDouble": 3.5 - n} for n in range(3)]}})
    metrics[svc].append({"name": "temp", "gauge": {"dataPoints": [
        {"timeUnixNano": str(T0 + n * 10**9), "asDouble": 20.5 + n, "attributes": [kv("room", "r%d" % (n % 2))]}
        for n in range(5)]}})
json.dump({"resourceMetrics": [{"resource": res(s), "scopeMetrics": [{"scope": {"name": "gen"}, "metrics": metrics[s]}]}
                               for s in SERVICES]}, open(out + "/metrics.json", "w"))
# a trace id that has both spans and logs
print(next(l["traceId"] for s in SERVICES for l in logs[s] if "traceId" in l))
