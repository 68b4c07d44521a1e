"""Writes testdata/equiv/<fixture>.pb: each OTLP/JSON fixture of testdata/otlp/ re-encoded as protobuf by the
official opentelemetry-proto classes, so equivalence tests can check that the same records arrive the same
whichever encoding carried them. Run with the venv's python from the repository root:

    .venv/bin/python testdata/equiv/gen.py
"""
import glob
import os

from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

CLASSES = {"log": logs_service_pb2.ExportLogsServiceRequest, "trace": trace_service_pb2.ExportTraceServiceRequest,
           "metrics": metrics_service_pb2.ExportMetricsServiceRequest}

for path in sorted(glob.glob("testdata/otlp/*.json")):
    name = os.path.basename(path)
    cls = next(c for prefix, c in CLASSES.items() if name.startswith(prefix))
    msg = json_format.Parse(open(path).read(), cls())
    out = os.path.join("testdata/equiv", name[:-len(".json")] + ".pb")
    open(out, "wb").write(msg.SerializeToString())
    print(out)
